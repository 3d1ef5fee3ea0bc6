-- dev:md5's `confirm` against the virtual device, for the flasher stub and
-- the ROM loader: SPI_FLASH_MD5 replies carry no checksum, so a confirmed
-- digest is one two answers agree on. The replies are corrupted on their way
-- to the loader by a Port wrapper (the link's fault model: it changes the
-- answer's digest, never the device), so each case chooses which answers
-- arrive damaged; the device and its flash are the real virtual device.
local core = require("espflash.core")
local connect = require("espflash.connect")
local errors = require("espflash.errors")
local loader = require("espflash.loader")
local simlib = require("espflash.sim")
local md5mod = require("espflash.device_md5")

local OP = loader.OP

local have_stubs = require("helpers.files").env_dir("ESPFLASH_STUBS", "esp32c3.json") ~= nil

local ADDR, LEN = 0x20000, 0x2000

local bytes = require("helpers.data").bytes

-- Changes digest byte `k` (1-based) of an MD5 reply body: the stub's raw byte
-- gets a bit flipped, the ROM's hex digit becomes another hex digit (a
-- well-formed but wrong digest). `how` = "truncate" cuts the body short.
local function damage(body, stub, k, how)
  local n = stub and 16 or 32
  if how == "truncate" then return body:sub(1, n - 1) .. body:sub(n + 1) end
  local c = body:sub(k, k)
  local d = stub and string.char(c:byte() ~ 0x01) or (c == "0" and "1" or "0")
  return body:sub(1, k - 1) .. d .. body:sub(k + 1)
end

-- A Port on the sim whose MD5 answers number i (1-based, counted from
-- `arm()`) are damaged when plan(i) returns a byte index (or "truncate").
local function link(port, stub, counts)
  local armed, plan = false, nil
  local w = setmetatable({}, { __index = function(_, k)
    local v = port[k]
    if type(v) ~= "function" then return v end
    return function(_, ...) return v(port, ...) end
  end })
  function w.command(_, op, ...)
    local rop, value, body = port:command(op, ...)
    if armed and op == OP.SPI_FLASH_MD5 and rop == op then
      counts.md5 = counts.md5 + 1
      local k = plan and plan(counts.md5)
      if k then body = damage(body, stub, k == "truncate" and 1 or k, k) end
    end
    return rop, value, body
  end
  return w, function(p) armed, plan, counts.md5 = true, p, 0 end
end

for _, personality in ipairs({ "stub", "rom" }) do
  local stub = personality == "stub"
  describe("dev:md5 confirm (" .. personality .. ")", function()
    local sim, port, dev, arm, counts, want
    before_each(function()
      if stub and not have_stubs then return end
      sim = simlib.open("sim://esp32c3")
      sim:flash_write(ADDR, bytes(LEN, 5))
      port = assert(core.open("sim://esp32c3", { sim = sim }))
      counts = { md5 = 0 }
      local w
      w, arm = link(port, stub, counts)
      dev = connect.connect{ port = w, before = "no-reset", after = "no-reset-no-stub", stub = stub }
      want = core.md5_hex(sim:flash_read(ADDR, LEN))
    end)
    after_each(function()
      if not dev then return end
      dev:close()
      port:close()
      sim:close()
      dev = nil
    end)
    local function need()
      if stub and not have_stubs then pending("flasher stubs not installed in $ESPFLASH_STUBS"); return false end
      return true
    end

    it("asks once without confirm and twice with it on a clean link", function()
      if not need() then return end
      arm()
      assert.are.equal(want, dev:md5(ADDR, LEN))
      assert.are.equal(1, counts.md5)
      arm()
      assert.are.equal(want, dev:md5(ADDR, LEN, { confirm = true }))
      assert.are.equal(2, counts.md5)
    end)

    it("without confirm returns a damaged answer as it came (the protocol limit)", function()
      if not need() then return end
      arm(function(i) return i == 1 and 3 or nil end)
      local got = dev:md5(ADDR, LEN)
      assert.are_not.equal(want, got)
      assert.are.equal(32, #got)
    end)

    it("with confirm returns the true digest when either of the first two answers is damaged", function()
      if not need() then return end
      for bad = 1, 2 do
        arm(function(i) return i == bad and 5 or nil end)
        assert.are.equal(want, dev:md5(ADDR, LEN, { confirm = true }))
        assert.are.equal(3, counts.md5, "one more answer settles it")
      end
    end)

    it("keeps asking while no two answers agree, up to MAX_ANSWERS", function()
      if not need() then return end
      -- answers 1..MAX-2 each damaged differently: the last two agree
      local last_bad = md5mod.MAX_ANSWERS - 2
      arm(function(i) return i <= last_bad and i or nil end)
      assert.are.equal(want, dev:md5(ADDR, LEN, { confirm = true }))
      assert.are.equal(md5mod.MAX_ANSWERS, counts.md5)
      -- a malformed answer is no vote either
      arm(function(i) return i == 1 and "truncate" or nil end)
      assert.are.equal(want, dev:md5(ADDR, LEN, { confirm = true }))
      assert.are.equal(3, counts.md5)
    end)

    it("raises md5_unstable, naming the region, when no two answers agree", function()
      if not need() then return end
      arm(function(i) return i end)   -- every answer damaged, each differently
      local ok, err = pcall(dev.md5, dev, ADDR, LEN, { confirm = true })
      assert.is_false(ok)
      assert.is_true(errors.is(err), tostring(err))
      assert.are.equal("espflash::md5_unstable", err.code)
      assert.is_truthy(err.message:find("0x2000 bytes at 0x20000", 1, true), err.message)
      assert.is_truthy(err.message:find("corrupts replies", 1, true), err.message)
      assert.is_falsy(err.message:find("\n"))
      assert.is_truthy(err.hint:find("baud", 1, true), err.hint)
      assert.are.equal(md5mod.MAX_ANSWERS, counts.md5)
      -- one good answer among damaged ones is not enough either
      arm(function(i) return i ~= 3 and i or nil end)
      ok, err = pcall(dev.md5, dev, ADDR, LEN, { confirm = true })
      assert.is_false(ok)
      assert.are.equal("espflash::md5_unstable", err.code)
      -- the device is still usable afterwards: no answer was left unread
      arm()
      assert.are.equal(want, dev:md5(ADDR, LEN, { confirm = true }))
    end)

    it("raises invalid_response when no answer is even well-formed", function()
      if not need() then return end
      arm(function() return "truncate" end)
      local ok, err = pcall(dev.md5, dev, ADDR, LEN, { confirm = true })
      assert.is_false(ok)
      assert.are.equal("espflash::invalid_response", err.code)
      assert.are.equal(md5mod.MAX_ANSWERS, counts.md5)
      arm(function() return "truncate" end)
      ok, err = pcall(dev.md5, dev, ADDR, LEN)
      assert.are.equal("espflash::invalid_response", err.code)
      assert.are.equal(1, counts.md5)
    end)

    it("confirms each of several regions on its own", function()
      if not need() then return end
      local regions = { { ADDR, 0x1000 }, { ADDR + 0x1000, 0x1000 }, { 0x0, 0x100 } }
      -- damage the first answer of the second region (the 3rd answer sent)
      arm(function(i) return i == 3 and 7 or nil end)
      local got = dev:_md5_many(regions, { confirm = true })
      for i, r in ipairs(regions) do
        assert.are.equal(core.md5_hex(sim:flash_read(r[1], r[2])), got[i])
      end
      assert.are.equal(7, counts.md5, "two answers each, one more for the damaged one")
    end)

    it("refuses options that are not a table", function()
      if not need() then return end
      local ok, err = pcall(dev.md5, dev, ADDR, LEN, true)
      assert.is_false(ok)
      assert.are.equal("espflash::invalid_argument", err.code)
    end)
  end)
end
