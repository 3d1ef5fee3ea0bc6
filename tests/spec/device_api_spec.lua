-- The device object against the virtual device (sim://esp32c3), with the
-- flasher stub and with the ROM only: info, registers, MD5, write (padding,
-- skip, verify, compression), read (stub streaming and ROM chunks), erase,
-- reset modes, baud change and close semantics.
local core = require("espflash.core")
local connect = require("espflash.connect")
local simlib = require("espflash.sim")

local stubs_dir = os.getenv("ESPFLASH_STUBS")
local have_stubs = stubs_dir and io.open(stubs_dir .. "/esp32c3.json", "rb")
if have_stubs then have_stubs:close() end

-- A Sim and a Port on it that the test keeps (devices then leave it open).
local function open_sim(url)
  local sim = simlib.open(url)
  return sim, core.open(url, { sim = sim })
end

-- The sim's state once a reset has settled (reads drive the model's clock).
local function settled(sim, port)
  for _ = 1, 50 do
    if sim:state() ~= "booting" then break end
    port:read(4096, 10)
  end
  return sim:state()
end

local random_bytes = require("helpers.data").bytes

local function code_of(f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  assert.is_table(err, tostring(err))
  return err.code, err
end

for _, mode in ipairs({ "stub", "rom" }) do
  local use_stub = mode == "stub"
  describe("device (" .. mode .. ")", function()
    local sim, port, dev
    before_each(function()
      if use_stub and not have_stubs then
        pending("flasher stubs not installed in $ESPFLASH_STUBS (run scripts/setup-stubs.sh)")
        return
      end
      sim, port = open_sim("sim://esp32c3")
      dev = connect.connect{ port = port, stub = use_stub, after = "no-reset-no-stub" }
    end)
    after_each(function()
      if dev then dev:close() end
      if port then port:close() end
      if sim then sim:close() end
      dev, port, sim = nil, nil, nil
    end)

    it("reports the chip's facts", function()
      local info = dev:info()
      assert.are.equal("esp32c3", info.chip)
      assert.are.same({ 0, 4, major = 0, minor = 4 }, info.revision)
      assert.are.equal("60:55:f9:7e:7b:c0", info.mac)
      assert.are.equal(40, info.crystal_mhz)
      assert.are.equal(4 * 1024 * 1024, info.flash_size)
      assert.are.equal("4MB", info.flash_size_name)
      assert.are.same({ "WiFi", "BLE" }, info.features)
      assert.are.equal(5, info.security.chip_id)
      assert.are.equal(0, info.security.flags)
      assert.are.equal(use_stub, info.stub)
      assert.is_false(info.secure_download)
    end)

    it("reads and writes registers", function()
      assert.are.equal(0x1B31506F, dev:read_reg(0x40001000))
      local w0 = 0x60002000 + 0x58
      dev:write_reg(w0, 0xA5A5F00F)
      assert.are.equal(0xA5A5F00F, dev:read_reg(w0))
      dev:write_reg(w0, 0x00000FF0, 0x0000FFFF)
      assert.are.equal(0xA5A50FF0, dev:read_reg(w0))
      assert.are.equal("espflash::invalid_argument", (code_of(dev.read_reg, dev, -1)))
    end)

    it("computes the MD5 of a region as lowercase hex", function()
      sim:flash_write(0x1000, string.rep("\xFF", 0x100))
      assert.are.equal("827f263ef9fb63d05499d14fcef32f60", dev:md5(0x1000, 0x100))
      local data = random_bytes(3000, 7)
      sim:flash_write(0x5000, data)
      assert.are.equal(core.md5_hex(data), dev:md5(0x5000, 3000))
    end)

    it("writes data padded to 4 bytes with 0xFF and verifies it", function()
      local data = random_bytes(10001, 1)
      local seen = {}
      local r = dev:write(0x10000, data, { progress = function(d, t) seen[#seen + 1] = { d, t } end })
      assert.are.equal("written", r)
      assert.are.equal(data .. "\xFF\xFF\xFF", sim:flash_read(0x10000, 10004))
      assert.are.same({ 10004, 10004 }, seen[#seen])
      for i = 2, #seen do assert.is_true(seen[i][1] >= seen[i - 1][1]) end
    end)

    it("skips an unchanged region when asked", function()
      local data = random_bytes(4096, 2)
      assert.are.equal("written", dev:write(0x20000, data, { skip = true }))
      assert.are.equal("skipped", dev:write(0x20000, data, { skip = true }))
      assert.are.equal("written", dev:write(0x20000, data))
      assert.are.equal(data, sim:flash_read(0x20000, 4096))
    end)

    it("writes uncompressed when asked", function()
      local data = random_bytes(0x4800, 3)
      dev:write(0x30000, data, { compress = false })
      assert.are.equal(data, sim:flash_read(0x30000, #data))
    end)

    it("writes at an address that is not sector-aligned", function()
      sim:flash_write(0x40000, random_bytes(0x2000, 4))
      local data = random_bytes(100, 5)
      dev:write(0x40010, data)
      assert.are.equal(data, sim:flash_read(0x40010, 100))
      assert.are.equal(data, dev:read(0x40010, 100))
    end)

    it("reads back any length at any offset", function()
      local data = random_bytes(0x3000, 6)
      sim:flash_write(0x50000, data)
      for _, case in ipairs({ { 0, 2 }, { 0, 5 }, { 0, 10 }, { 0, 26 }, { 3, 129 }, { 0, 200 },
                              { 100, 0x1000 }, { 0x7FF, 0x2001 } }) do
        local off, n = case[1], case[2]
        assert.are.equal(data:sub(off + 1, off + n), dev:read(0x50000 + off, n),
          string.format("read of %d bytes at +0x%x", n, off))
      end
      assert.are.equal("", dev:read(0x50000, 0))
    end)

    it("reads with small stream packets and reports progress", function()
      local data = random_bytes(5000, 8)
      sim:flash_write(0x60000, data)
      local last
      local got = dev:read(0x60000, 5000, { block_size = 0x100, max_in_flight = 4,
        progress = function(d, t) last = { d, t } end })
      assert.are.equal(data, got)
      assert.are.same({ 5000, 5000 }, last)
    end)

    if use_stub then
      it("erases a region and the whole flash", function()
        sim:flash_write(0x1000, string.rep("\0", 0x3000))
        dev:erase_region(0x2000, 0x1000)
        assert.are.equal(string.rep("\0", 0x1000), sim:flash_read(0x1000, 0x1000))
        assert.are.equal(string.rep("\xFF", 0x1000), sim:flash_read(0x2000, 0x1000))
        assert.are.equal(string.rep("\0", 0x1000), sim:flash_read(0x3000, 0x1000))
        dev:erase_flash()
        assert.are.equal(string.rep("\xFF", 0x3000), sim:flash_read(0x1000, 0x3000))
      end)

      it("refuses misaligned erase regions", function()
        assert.are.equal("espflash::erase_region::invalid_argument", (code_of(dev.erase_region, dev, 0x1001, 0x1000)))
        assert.are.equal("espflash::erase_region::invalid_argument", (code_of(dev.erase_region, dev, 0x1000, 0x1001)))
      end)
    else
      it("refuses the stub-only erase commands", function()
        assert.are.equal("espflash::stub_required", (code_of(dev.erase_flash, dev)))
        assert.are.equal("espflash::stub_required", (code_of(dev.erase_region, dev, 0, 0x1000)))
      end)
    end

    it("refuses stream packets the stub cannot send", function()
      assert.are.equal("espflash::invalid_argument", (code_of(dev.read, dev, 0, 16, { block_size = 0x2000 })))
      assert.are.equal("espflash::invalid_argument", (code_of(dev.read, dev, 0, 16, { block_size = 0 })))
      assert.are.equal("espflash::invalid_argument", (code_of(dev.read, dev, 0, 16, { max_in_flight = 0 })))
    end)

    it("changes the baud rate and keeps talking", function()
      dev:set_baud(921600)
      assert.are.equal(921600, port:baud())
      local data = random_bytes(2048, 9)
      dev:write(0x70000, data)
      assert.are.equal(data, dev:read(0x70000, 2048))
    end)

    it("refuses writes past the end of the flash", function()
      assert.are.equal("espflash::invalid_argument", (code_of(dev.write, dev, 0x3FFFF0, string.rep("x", 32))))
    end)

    it("raises espflash::closed after close", function()
      dev:close()
      assert.are.equal("espflash::closed", (code_of(dev.info, dev)))
      dev:close() -- idempotent
    end)
  end)
end

describe("device after-actions", function()
  if not have_stubs then
    it("needs the flasher stubs", function() pending("flasher stubs not installed in $ESPFLASH_STUBS") end)
    return
  end
  local sim, port
  before_each(function() sim, port = open_sim("sim://esp32c3") end)
  after_each(function() port:close(); sim:close() end)

  it("hard-reset boots the application once, on close", function()
    local dev = connect.connect{ port = port }
    assert.are.equal("stub", sim:state())
    dev:close()
    assert.are.equal("running", settled(sim, port))
    dev:close()
    assert.are.equal("running", settled(sim, port))
  end)

  it("no-reset-no-stub leaves the stub running for the next connection", function()
    local dev = connect.connect{ port = port, after = "no-reset-no-stub" }
    dev:close()
    assert.are.equal("stub", sim:state())
    local logs = {}
    local again = connect.connect{ port = port, before = "no-reset", after = "no-reset-no-stub",
      log = function(_, msg) logs[#logs + 1] = msg end }
    assert.is_true(again:info().stub)
    assert.are.same({ "Flasher stub already running" }, logs)
    again:close()
  end)

  it("resets through the lines when a <close> scope ends with an error", function()
    local ok = pcall(function()
      local dev <close> = connect.connect{ port = port }
      error("boom")
    end)
    assert.is_false(ok)
    assert.are.equal("booting", sim:state())
  end)

  it("resets after an error even with the Ctrl-C flag set, and keeps the flag", function()
    local ok = pcall(function()
      local dev <close> = connect.connect{ port = port }
      core.interrupt()
      error("interrupted")
    end)
    local still = core.interrupted()
    core.clear_interrupt()
    assert.is_false(ok)
    assert.is_true(still, "the Ctrl-C flag is set again after the cleanup")
    assert.are.equal("booting", sim:state())
  end)

  it("leaves the chip in the stub after an error when the after-action is no-reset", function()
    for _, after in ipairs({ "no-reset", "no-reset-no-stub" }) do
      local ok = pcall(function()
        local dev <close> = connect.connect{ port = port, after = after }
        error("boom")
      end)
      assert.is_false(ok)
      assert.are.equal("stub", sim:state(), after)
    end
  end)

  it("performs reset(mode) itself and then not again on close", function()
    local dev = connect.connect{ port = port, stub = false, after = "hard-reset" }
    dev:reset("no-reset")
    assert.are.equal("rom", sim:state())
    dev:close()
    assert.are.equal("rom", sim:state())
    assert.are.equal("espflash::invalid_argument", (code_of(dev.reset, dev, "bogus")))
  end)

  it("arms the RTC watchdog on an ESP32-C3 over USB-Serial-JTAG only", function()
    local config1 = 0x60008094
    local dev = connect.connect{ port = port, stub = false }
    dev:reset("watchdog-reset")
    assert.are.equal(0, dev:read_reg(config1))
    dev:close()
    dev = connect.connect{ port = port, stub = false, usb_pid = 0x1001 }
    dev:reset("watchdog-reset")
    assert.are.equal(2000, dev:read_reg(config1))
    assert.are.equal(0x50000000 | 0x80000102, dev:read_reg(0x60008090))
    dev:close()
  end)

  it("loads a program into RAM and starts it", function()
    local dev = connect.connect{ port = port, stub = false }
    dev:load_ram({ { addr = 0x3FCA0000, data = "abcdefgh" } }, 0x40380400)
    assert.are.equal("running", settled(sim, port))
    dev:close{ after = false }
  end)

  it("refuses a watchdog reset on chips without one", function()
    local s32 = simlib.open("sim://esp32")
    local p32 = core.open("sim://esp32", { sim = s32 })
    local dev = connect.connect{ port = p32, stub = false }
    assert.are.equal("espflash::unsupported_feature", (code_of(dev.reset, dev, "watchdog-reset")))
    dev:close{ after = false }
    p32:close(); s32:close()
  end)
end)
