-- flash.write_segment and flash.write_app against the virtual device (an
-- in-process sim behind a real Port). The port is wrapped to count the
-- FLASH_(DEFL_)BEGIN commands and the bytes they announce, so the skip is
-- checked by what actually went over the link; the flash contents are read
-- back through the Sim directly.
local core = require("espflash.core")
local errors = require("espflash.errors")
local espsim = require("espflash.sim")
local connect = require("espflash.connect")
local flash = require("espflash.flash")
local loader = require("espflash.loader")
local plan_mod = require("espflash.image_plan")

local files = require("helpers.files")

local STUBS, no_stubs = files.env_dir("ESPFLASH_STUBS", "esp32c3.json", "run scripts/setup-stubs.sh")
if not STUBS then
  describe("flashing the virtual device", function() pending(no_stubs .. ": skipping") end)
  return
end

local OP = loader.OP

-- A Port proxy counting the writes the loader starts.
local function counting(port)
  local stats = { begins = 0, bytes = 0, md5 = 0 }
  local proxy = setmetatable({}, { __index = function(_, k)
    local v = port[k]
    if type(v) ~= "function" then return v end
    return function(_, ...) return v(port, ...) end
  end })
  function proxy.command(_, op, data, ...)
    if op == OP.FLASH_DEFL_BEGIN or op == OP.FLASH_BEGIN then
      local size = string.unpack("<I4", data)
      if size > 0 then stats.begins, stats.bytes = stats.begins + 1, stats.bytes + size end
    elseif op == OP.SPI_FLASH_MD5 then
      stats.md5 = stats.md5 + 1
    end
    return port:command(op, data, ...)
  end
  return proxy, stats
end

local function open(chip)
  local sim = espsim.new(chip, {})
  local port = assert(core.open("sim://" .. chip, { sim = sim }))
  local proxy, stats = counting(port)
  local dev = connect.connect({ port = proxy, after = "no-reset-no-stub" })
  return dev, sim, stats, port
end

-- The device each test gets (before_each(setup), after_each(teardown)).
local dev, sim, stats, port
local function setup() dev, sim, stats, port = open("esp32c3") end
local function teardown()
  dev:close({ after = false })
  port:close()
  sim:close()
end

local function reset(stats) stats.begins, stats.bytes, stats.md5 = 0, 0, 0 end

local function blob(n, seed)
  local t, x = {}, seed or 1
  for i = 1, n do
    x = (x * 1103515245 + 12345) % 0x80000000
    t[i] = string.char((x >> 16) & 0xFF)
  end
  return table.concat(t)
end

local function change(s, at)
  return s:sub(1, at - 1) .. string.char((s:byte(at) + 1) % 256) .. s:sub(at + 1)
end

describe("flash.write_segment", function()
  before_each(setup)
  after_each(teardown)

  it("writes everything the first time and nothing the second", function()
    local data = blob(0x5123, 3)
    assert.are.equal(0x5124, flash.write_segment(dev, 0x20000, data))   -- padded to 4 bytes
    assert.are.equal(data, sim:flash_read(0x20000, #data))
    assert.are.equal(0x5124, stats.bytes)
    reset(stats)
    local skipped = false
    assert.are.equal(0, flash.write_segment(dev, 0x20000, data, { on_skip = function() skipped = true end }))
    assert.is_true(skipped)
    assert.are.same({ 0, 0, 1 }, { stats.begins, stats.bytes, stats.md5 })
  end)

  it("rewrites only the 4 KiB blocks that changed", function()
    local data = blob(0x23456, 5)                       -- 3 coarse blocks, 36 fine ones
    flash.write_segment(dev, 0x40000, data)
    local new = change(change(change(data, 0x100), 0x15000), 0x23450)
    reset(stats)
    local n = flash.write_segment(dev, 0x40000, new)
    assert.are.equal(0x1000 + 0x1000 + 0x456 + 2, n)   -- first, a middle one and the short last block
    assert.are.equal(n, stats.bytes)
    assert.are.equal(3, stats.begins)
    assert.are.equal(new, sim:flash_read(0x40000, #new))
  end)

  it("joins neighbouring changed blocks into one write", function()
    local data = blob(0x8000, 9)
    flash.write_segment(dev, 0x0, data)
    reset(stats)
    local new = change(change(data, 0x1FFF), 0x2001)
    assert.are.equal(0x2000, flash.write_segment(dev, 0x0, new))
    assert.are.equal(1, stats.begins)
    assert.are.equal(new, sim:flash_read(0, #new))
  end)

  it("writes everything with skip = false", function()
    local data = blob(0x3000, 11)
    flash.write_segment(dev, 0x10000, data)
    reset(stats)
    assert.are.equal(0x3000, flash.write_segment(dev, 0x10000, data, { skip = false }))
    assert.are.equal(0x3000, stats.bytes)
  end)

  it("notices when the device does not hold what was written", function()
    local data = blob(0x2000, 13)
    flash.write_segment(dev, 0x30000, data)
    -- a block the device claims to have, but the final MD5 will disagree:
    -- change the flash behind the device's back between the checks
    local orig_md5 = dev.md5
    local calls = 0
    dev.md5 = function(self, addr, size)
      calls = calls + 1
      if calls == 4 then sim:flash_write(0x30000 + 0x1000, "garbage!") end
      return orig_md5(self, addr, size)
    end
    local new = change(data, 1)
    local ok, err = pcall(flash.write_segment, dev, 0x30000, new)
    dev.md5 = nil
    assert.is_false(ok)
    assert.are.equal("espflash::verify_failed", err.code)
  end)
end)

local TD, no_testdata = files.env_dir("ESPFLASH_TESTDATA", "elf/esp32c3.elf")
if not TD then
  describe("flash.write_app", function() pending(no_testdata .. ": skipping the write_app specs") end)
  return
end

local function resources(name)
  if name == "ESPFLASH_RESOURCES" then return TD end
  return os.getenv(name)
end

-- A copy of the ELF with 4 bytes of its first large function changed.
local function modified_elf(path)
  local e = assert(core.elf_read(path))
  local text
  for _, s in ipairs(e.sections) do if s.name == ".text" then text = s end end
  local target
  for _, s in ipairs(e.symbols) do
    if s.type == "FUNC" and s.size >= 32 and s.value > text.addr + 0x100 and s.value < text.addr + text.size then
      target = s
      break
    end
  end
  local d = files.read(path)
  local off = text.offset + (target.value - text.addr) + 8
  d = d:sub(1, off) .. "\x01\x00\x01\x00" .. d:sub(off + 5)
  local out = os.tmpname()
  files.write(out, d)
  return out
end

describe("flash.write_app", function()
  before_each(setup)
  after_each(teardown)

  local elf = TD .. "/elf/esp32c3.elf"

  it("writes bootloader, table and app, then nothing, then only changed blocks", function()
    local r = flash.write_app(dev, elf, { getenv = resources, search_builds = false })
    for _, s in ipairs(r.plan.segments) do
      assert.are.equal(s.data, sim:flash_read(s.addr, #s.data), s.name)
    end
    assert.are.equal(r.total, r.written)
    reset(stats)
    local again = flash.write_app(dev, elf, { getenv = resources, search_builds = false })
    assert.are.equal(0, again.written)
    assert.are.equal(0, stats.bytes)
    reset(stats)
    local mod = modified_elf(elf)
    local third = flash.write_app(dev, mod, { getenv = resources, search_builds = false })
    os.remove(mod)
    assert.is_true(third.written > 0)
    assert.is_true(third.written <= 3 * 0x1000, "wrote " .. third.written)
    assert.are.equal(third.written, stats.bytes)
    local merged = plan_mod.merged(third.plan, true)
    assert.are.equal(merged, sim:flash_read(0, #merged))
  end)

  it("refuses a table that does not fit the flash size", function()
    local ok, err = pcall(flash.write_app, dev, elf, { getenv = resources, search_builds = false,
      flash_size = "2mb", partition_table = TD .. "/partitions/partitions.csv" })
    assert.is_false(ok)
    assert.are.equal("espflash::partition_table::does_not_fit", err.code)
    assert.are.equal("The partition table does not fit into the flash (2MB)", err.message)
    assert.are.equal(0, stats.bytes)
  end)

  it("refuses firmware built for another chip", function()
    local ok, err = pcall(flash.write_app, dev, TD .. "/elf/esp32c6.elf", { getenv = resources })
    assert.is_false(ok)
    assert.are.equal("espflash::chip_mismatch", err.code)
    assert.are.equal("The firmware was built for esp32c6, but the detected chip is esp32c3", err.message)
  end)

  it("checks the minimum revision unless forced", function()
    local info = dev:info()
    local rev = info.revision.major * 100 + info.revision.minor
    local ok, err = pcall(flash.write_app, dev, elf, { getenv = resources, search_builds = false,
      min_chip_rev = rev + 1 })
    assert.is_false(ok)
    assert.are.equal("espflash::unsupported_chip_revision", err.code)
    local r = flash.write_app(dev, elf, { getenv = resources, search_builds = false,
      min_chip_rev = rev + 1, force = true })
    assert.are.equal(rev + 1, r.plan.image.min_chip_rev)
  end)

  it("erases the partitions asked for", function()
    sim:flash_write(0x9000, ("N"):rep(0x6000))
    sim:flash_write(0xF000, ("P"):rep(0x1000))
    flash.write_app(dev, elf, { getenv = resources, search_builds = false, erase_parts = { "phy_init" } })
    assert.are.equal(("\xFF"):rep(0x1000), sim:flash_read(0xF000, 0x1000))
    assert.are.equal(("N"):rep(0x6000), sim:flash_read(0x9000, 0x6000))
    flash.write_app(dev, elf, { getenv = resources, search_builds = false, erase_data_parts = { "nvs" } })
    assert.are.equal(("\xFF"):rep(0x6000), sim:flash_read(0x9000, 0x6000))
    local ok, err = pcall(flash.write_app, dev, elf, { getenv = resources, search_builds = false,
      erase_parts = { "nope" } })
    assert.is_false(ok)
    assert.are.equal("espflash::partition_table::missing_partition", err.code)
  end)

  it("loads a RAM-only ELF with --ram and starts it", function()
    -- ELF32 RISC-V: one PROGBITS section in the ESP32-C3's SRAM, then .shstrtab
    local code = ("\x01\x00"):rep(0x900)
    local shstr = "\0.iram.text\0.shstrtab\0"
    local ehdr_len, code_off = 52, 52
    local shstr_off = code_off + #code
    local shoff = shstr_off + #shstr
    local d = "\127ELF\1\1\1" .. ("\0"):rep(9) .. string.pack("<I2I2I4I4I4I4I4I2I2I2I2I2I2",
      2, 243, 1, 0x40390000, 0, shoff, 0, ehdr_len, 32, 0, 40, 3, 2)
      .. code .. shstr .. ("\0"):rep(40)
      .. string.pack("<I4I4I4I4I4I4I4I4I4I4", 1, 1, 6, 0x40390000, code_off, #code, 0, 0, 4, 0)
      .. string.pack("<I4I4I4I4I4I4I4I4I4I4", 12, 3, 0, 0, shstr_off, #shstr, 0, 0, 1, 0)
    local path = os.tmpname()
    files.write(path, d)
    local r = flash.write_app(dev, path, { ram = true })
    os.remove(path)
    assert.is_true(r.ram)
    assert.are.equal("running", sim:state())
  end)

  it("refuses --ram for an ELF with flash sections", function()
    local ok, err = pcall(flash.write_app, dev, elf, { ram = true })
    assert.is_false(ok)
    assert.are.equal("espflash::not_ram_loadable", err.code)
    assert.is_true(errors.is(err))
  end)
end)
