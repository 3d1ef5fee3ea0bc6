-- The fault matrix: every fault of the virtual device (a dropped byte, a
-- flipped bit, a stall, an unexpected reset, a refused command, Secure
-- Download Mode) against every flash operation of the device API (connect,
-- write, read, erase, md5), for the flasher stub and the ROM loader.
--
-- Each cell must end in a success that is true — checked against the
-- simulated flash (sim:flash_read), never the device's word for it — or in
-- a clear error object (espflash.errors, a code, a one-line message), and
-- never later than the longest timeout the loader documents for the
-- commands involved (loader.timeout), plus slack.
--
-- Where faults land: a calibration run without faults counts, through a
-- forwarding Port wrapper, the commands the host sends and the SLIP frames
-- the device answers with (protocol.md: 8 per SYNC, OHAI after the stub
-- starts, READ_FLASH's data and digest frames); the cells then put the fault
-- on the first, a middle and the last command or reply of the operation.
-- The op cells connect with before = "no-reset" so no reset shifts the
-- counts; the connect cells use the default reset, as the CLI does.
local core = require("espflash.core")
local connect = require("espflash.connect")
local errors = require("espflash.errors")
local loader = require("espflash.loader")
local simlib = require("espflash.sim")

local OP = loader.OP

local have_stubs = require("helpers.files").env_dir("ESPFLASH_STUBS", "esp32c3.json") ~= nil

local bytes = require("helpers.data").bytes

local ADDR = 0x20000
local OLD = bytes(0x3000, 7)      -- what the region holds before each cell
local NEW = bytes(20000, 11)      -- what write puts there
local READ_LEN, MD5_LEN, ERASE_LEN = 0x2800, 0x2000, 0x2000
local SLACK = 2.5                 -- seconds allowed past the documented timeout

local function hex(s)
  return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end))
end

-- The operations: `run(dev)` returns what the check needs; `check(sim,
-- result)` asserts the success is real; `commands` lists the opcodes whose
-- documented timeouts bound the operation (with the byte count they act on).
local OPS = {
  write = {
    run = function(dev) return dev:write(ADDR, NEW) end,
    check = function(sim, res)
      assert.are.equal("written", res)
      assert.is_true(sim:flash_read(ADDR, #NEW) == NEW, "write reported success, the flash holds other bytes")
    end,
    timeouts = { { OP.FLASH_DEFL_DATA, #NEW }, { OP.FLASH_DATA, 0x400 }, { OP.SPI_FLASH_MD5, #NEW },
                 { OP.FLASH_DEFL_BEGIN, #NEW }, { OP.FLASH_BEGIN, #NEW }, { OP.FLASH_DEFL_END } },
  },
  read = {
    run = function(dev) return dev:read(ADDR, READ_LEN) end,
    check = function(sim, res)
      assert.is_true(res == sim:flash_read(ADDR, READ_LEN) and res == OLD:sub(1, READ_LEN),
        "read reported success with bytes the flash does not hold")
    end,
    timeouts = { { OP.READ_FLASH }, { OP.READ_FLASH_SLOW }, { OP.SPI_FLASH_MD5, READ_LEN } },
  },
  erase = {
    run = function(dev) dev:erase_region(ADDR, ERASE_LEN); return true end,
    check = function(sim)
      assert.is_true(sim:flash_read(ADDR, ERASE_LEN) == ("\xFF"):rep(ERASE_LEN),
        "erase reported success, the region is not erased")
    end,
    timeouts = { { OP.ERASE_REGION, ERASE_LEN } },
  },
  -- confirmed, as checksum-md5 asks: the replies carry no checksum, so an
  -- unconfirmed digest under a flipped bit would be wrong (see below)
  md5 = {
    run = function(dev) return dev:md5(ADDR, MD5_LEN, { confirm = true }) end,
    check = function(sim, res)
      assert.are.equal(hex(core.md5(sim:flash_read(ADDR, MD5_LEN))), res, "md5 reported a wrong digest")
    end,
    timeouts = { { OP.SPI_FLASH_MD5, MD5_LEN } },
  },
}

local function bound(op)
  local worst = 0
  for _, t in ipairs(OPS[op].timeouts) do worst = math.max(worst, loader.timeout(t[1], t[2])) end
  return worst / 1000 + SLACK
end

-- connect: up to 7 attempts (a reset, the boot log, up to 5 SYNCs of 100 ms
-- each), then detection, the stub upload and flash attach, any one of which
-- may wait out one command timeout.
local CONNECT_BOUND = connect.MAX_CONNECT_ATTEMPTS * (0.25 + connect.MAX_SYNC_ATTEMPTS * loader.timeout(OP.SYNC) / 1000)
  + loader.DEFAULT_TIMEOUT / 1000 + SLACK

local function url_for(fault, at, secure)
  if secure then return "sim://esp32c3?secure=1" end
  if not fault then return "sim://esp32c3" end
  return ("sim://esp32c3?fault=%s&fault_at=%d"):format(fault, at)
end

local function new_sim(url)
  local sim = simlib.open(url)
  sim:flash_write(ADDR, OLD)
  return sim, assert(core.open(url, { sim = sim }))
end

-- A Port stand-in for the calibration run: forwards every call and counts
-- the commands sent and the frames the device sends back for them.
local function counting(port, counts)
  return setmetatable({}, { __index = function(_, k)
    local v = port[k]
    if type(v) ~= "function" then return v end
    return function(_, ...)
      if k == "command" then
        local op, data = ...
        counts.commands = counts.commands + 1
        if op == OP.SYNC then
          counts.replies = counts.replies + 8
        elseif op == OP.MEM_END and counts.stub_entry and string.unpack("<I4", data, 5) == counts.stub_entry then
          counts.replies = counts.replies + 2 -- the reply, then OHAI
        elseif op == OP.READ_FLASH then
          local _, size, bs = string.unpack("<I4I4I4", data)
          counts.replies = counts.replies + 2 + (size + bs - 1) // bs -- reply, data frames, digest
        else
          counts.replies = counts.replies + 1
        end
      end
      return v(port, ...)
    end
  end })
end

-- Commands and replies before and after `op` in a fault-free run.
local function calibrate(op, stub)
  local sim, port = new_sim(url_for())
  local counts = { commands = 0, replies = 0 }
  if stub then counts.stub_entry = require("espflash.stubs").load(require("espflash.chips").get("esp32c3")).entry end
  local dev = connect.connect{ port = counting(port, counts), before = "no-reset", after = "no-reset-no-stub", stub = stub }
  local at = { c0 = counts.commands, r0 = counts.replies }
  if op ~= "connect" then
    local ok, res = pcall(OPS[op].run, dev)
    if ok then
      OPS[op].check(sim, res)
    else
      -- only erase through the ROM may refuse, before sending anything
      assert.is_true(op == "erase" and not stub and errors.is(res) and res.code == "espflash::stub_required",
        "the fault-free calibration run failed: " .. tostring(res))
    end
  end
  at.c1, at.r1 = counts.commands, counts.replies
  dev:close()
  port:close()
  sim:close()
  if op == "connect" then at.c0, at.r0 = 0, 0 end
  return at
end

local function spread(lo, hi)
  if hi <= lo then return { lo } end
  local mid = (lo + hi - 1) // 2
  local list, seen = {}, {}
  for _, v in ipairs({ lo, mid, hi - 1 }) do
    if not seen[v] then seen[v] = true; list[#list + 1] = v end
  end
  return list
end

-- Runs one cell; returns "ok" or the error code, and the elapsed seconds of
-- the part under test. Raises (fails the test) on a false success, an error
-- that is not an error object, or a fault that fired outside the operation.
local function cell(op, fault, at, stub, secure)
  local url = url_for(fault, at, secure)
  local sim, port = new_sim(url)
  local phase, t0 = "connect", core.now()
  local ok, err = pcall(function()
    if op == "connect" then
      local dev = connect.connect{ port = port, after = "no-reset-no-stub", stub = stub }
      local info = dev:info()
      assert.are.equal("esp32c3", info.chip)
      assert.are.equal(secure and true or false, info.secure_download)
      if not secure then
        assert.are.equal(0x1B31506F, dev:read_reg(0x40001000), "connected, but READ_REG gives a wrong magic")
      end
      dev:close()
      return
    end
    local dev = connect.connect{ port = port, before = "no-reset", after = "no-reset-no-stub", stub = stub }
    phase, t0 = op, core.now()
    local res = OPS[op].run(dev)
    OPS[op].check(sim, res)
    dev:close()
  end)
  local elapsed = core.now() - t0
  port:close()
  sim:close()
  if ok then return "ok", elapsed end
  if phase == "connect" and op ~= "connect" then
    error(("%s %s@%d: the fault fired while connecting, not in the operation: %s")
      :format(op, tostring(fault), at or -1, tostring(err)), 0)
  end
  if not errors.is(err) then error(err, 0) end -- a failed assertion or a raw Lua error
  assert.is_truthy(tostring(err.code):match("^espflash::"), "error without an espflash code: " .. tostring(err.code))
  assert.is_truthy(err.message:match("%S"), "error with an empty message")
  assert.is_falsy(err.message:find("\n"), "error message of several lines: " .. err.message)
  assert.is_falsy(err.message:find("%.lua:%d+:"), "a raw Lua error inside an error object: " .. err.message)
  return err.code, elapsed
end

local function check_time(op, label, elapsed)
  local limit = op == "connect" and CONNECT_BOUND or bound(op)
  assert.is_true(elapsed <= limit, ("%s took %.1f s, over the documented bound of %.1f s"):format(label, elapsed, limit))
end

local FAULTS = {
  { "drop", "replies" }, { "flip", "replies" }, { "stall", "replies" },
  { "reset", "commands" }, { "refuse", "commands" },
}

for _, personality in ipairs({ "stub", "rom" }) do
  local stub = personality == "stub"
  describe("fault matrix (" .. personality .. ")", function()
    for _, op in ipairs({ "connect", "write", "read", "erase", "md5" }) do
      for _, f in ipairs(FAULTS) do
        local fault, counted = f[1], f[2]
        it(("%s under %s"):format(op, fault), function()
          if stub and not have_stubs then pending("flasher stubs not installed in $ESPFLASH_STUBS"); return end
          local at = calibrate(op, stub)
          local lo, hi = counted == "commands" and at.c0 or at.r0, counted == "commands" and at.c1 or at.r1
          local positions = spread(lo, hi)
          -- a stall or a reset costs a full command timeout (10 s for a write):
          -- one position, except for read (3 s)
          if (fault == "stall" or fault == "reset") and op ~= "connect" and op ~= "read" then positions = { lo } end
          if fault == "stall" and op == "read" then positions = { lo } end
          local outcomes = {}
          for _, pos in ipairs(positions) do
            local cell_ok, outcome, elapsed = pcall(cell, op, fault, pos, stub)
            if not cell_ok then error(outcome, 0) end
            local label = ("%s %s@%d (%s %d..%d)"):format(op, fault, pos, counted, lo, hi - 1)
            check_time(op, label, elapsed)
            outcomes[#outcomes + 1] = ("%d=%s %.1fs"):format(pos, outcome, elapsed)
            if op == "erase" and not stub then
              assert.are.equal("espflash::stub_required", outcome)
            end
          end
          -- a stall from the first reply on cannot end in success: it proves
          -- the counting put the fault inside the operation
          if fault == "stall" and op ~= "connect" then
            assert.are_not.equal("ok", outcomes[1]:match("=(%S+)"), "a stall at the operation's first reply went unnoticed")
          end
          print(("  %s %s: %s"):format(personality, f[1] .. " " .. op, table.concat(outcomes, ", ")))
        end)
      end
      it(op .. " in Secure Download Mode", function()
        local outcome, elapsed = cell(op, nil, nil, stub, true)
        check_time(op, op .. " in Secure Download Mode", elapsed)
        local want = ({ connect = "ok", write = "ok", read = "espflash::secure_download",
          md5 = "espflash::secure_download", erase = "espflash::stub_required" })[op]
        assert.are.equal(want, outcome)
      end)
    end
  end)
end
