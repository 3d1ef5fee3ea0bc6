-- Connecting: the boot-log diagnostics (wrong boot mode, TX path down, no
-- download mode), --chip checks, Secure Download Mode, a stub left running,
-- ports without modem lines and Ctrl-C. Broken boards are modelled by
-- wiring faults between the host and the virtual device: an IO0 line that is
-- not connected, a TX line that is down, a transport without modem lines.
local core = require("espflash.core")
local connect = require("espflash.connect")
local simlib = require("espflash.sim")

local stubs_dir = os.getenv("ESPFLASH_STUBS")
local have_stubs = stubs_dir and io.open(stubs_dir .. "/esp32c3.json", "rb")
if have_stubs then have_stubs:close() end

-- `port` seen through a board with a wiring fault.
local function wired(port, fault)
  local w = setmetatable({}, { __index = function(_, k)
    local f = port[k]
    if type(f) == "function" then return function(_, ...) return f(port, ...) end end
    return f
  end })
  if fault == "no_io0" then
    w.set_lines = function(_, _, rts) return port:set_lines(nil, rts) end
  elseif fault == "tx_down" then
    w.command = function(_, _, _, _, timeout)
      core.sleep(timeout)
      return nil, "TIMEOUT: no response", "TIMEOUT"
    end
  elseif fault == "no_lines" then
    w.has_lines = function() return false end
    w.set_lines = function() return false end
  end
  return w
end

local function with_sim(url, f)
  local sim = simlib.open(url)
  local port = core.open(url, { sim = sim })
  local ok, err = pcall(f, sim, port)
  port:close()
  sim:close()
  if not ok then error(err, 0) end
end

local function connect_error(opts)
  local ok, err = pcall(connect.connect, opts)
  assert.is_false(ok, "connect should fail")
  assert.is_table(err, tostring(err))
  return err
end

describe("boot log parsing", function()
  it("finds the boot mode and whether download mode was entered", function()
    local mode, dl = connect.parse_boot_log("ESP-ROM:esp32c3-api1-20210207\r\nrst:0x1 (POWERON),"
      .. "boot:0x8 (DOWNLOAD(USB/UART0/1))\r\nwaiting for download\r\n")
    assert.are.same({ "0x8", true }, { mode, dl })
    mode, dl = connect.parse_boot_log("rst:0x1 (POWERON),boot:0xc (SPI_FAST_FLASH_BOOT)\r\n")
    assert.are.same({ "0xc", false }, { mode, dl })
    assert.is_nil(connect.parse_boot_log("random noise"))
  end)
end)

describe("connect diagnostics", function()
  it("reports a wrong boot mode when IO0 does not follow DTR", function()
    with_sim("sim://esp32c3?download=0", function(_, port)
      local err = connect_error{ port = wired(port, "no_io0"), stub = false }
      assert.are.equal("espflash::wrong_boot_mode", err.code)
      assert.are.equal("Wrong boot mode detected (0xc)! The chip needs to be in download mode.", err.message)
    end)
  end)

  it("reports no sync reply when download mode is entered but the TX path is down", function()
    with_sim("sim://esp32c3", function(_, port)
      local err = connect_error{ port = wired(port, "tx_down"), stub = false }
      assert.are.equal("espflash::no_sync_reply", err.code)
      assert.are.equal("The serial TX path seems to be down", err.hint)
    end)
  end)

  it("reports a failed connection when nothing answers and no boot log was seen", function()
    with_sim("sim://esp32c3?download=0", function(_, port)
      local err = connect_error{ port = port, before = "no-reset", stub = false }
      assert.are.equal("espflash::connection_failed", err.code)
      assert.are.equal("Failed to connect to the device", err.message)
    end)
  end)

  it("connects without modem lines when the chip waits in download mode", function()
    with_sim("sim://esp32c3", function(_, port)
      local dev = connect.connect{ port = wired(port, "no_lines"), stub = false }
      assert.are.equal("esp32c3", dev:info().chip)
      dev:close()
    end)
  end)
end)

describe("chip selection", function()
  it("refuses a --chip that does not match the detected chip", function()
    with_sim("sim://esp32c3", function(_, port)
      local err = connect_error{ port = port, chip = "esp32s3", stub = false }
      assert.are.equal("espflash::chip_mismatch", err.code)
      assert.are.equal("Chip provided with `-c/--chip` (esp32s3) does not match the detected chip (esp32c3)",
        err.message)
    end)
  end)

  it("accepts a matching --chip in any spelling", function()
    with_sim("sim://esp32c3", function(_, port)
      local dev = connect.connect{ port = port, chip = "ESP32-C3", stub = false }
      assert.are.equal("esp32c3", dev:info().chip)
      dev:close()
    end)
  end)

  it("needs --chip with --before no-reset-no-sync", function()
    local err = connect_error{ port = "sim://esp32c3", before = "no-reset-no-sync" }
    assert.are.equal("espflash::chip_not_provided", err.code)
  end)

  it("talks without reset and sync with --before no-reset-no-sync", function()
    with_sim("sim://esp32c3", function(sim, port)
      connect.connect{ port = port, stub = false, after = "no-reset-no-stub" }:close()
      local dev = connect.connect{ port = port, chip = "esp32c3", before = "no-reset-no-sync", stub = false }
      sim:flash_write(0x1000, "abcd")
      assert.are.equal(core.md5_hex("abcd"), dev:md5(0x1000, 4))
      dev:close{ after = false }
    end)
  end)
end)

describe("baud rate change", function()
  it("corrects the ESP32-C2 ROM's 40 MHz assumption on a 26 MHz crystal", function()
    local chip = require("espflash.chips").get("esp32c2")
    local common = require("espflash.chips.common")
    local profile = simlib.profile(chip)
    profile.regs[chip.uart_clkdiv] = common.uart_clkdiv(26, 115200)
    profile.xtal_mhz = 26
    -- with link emulation a wrong divider on the chip garbles every byte
    local sim = assert(core.sim_new(profile, simlib.options{ link_emulation = true }))
    local port = core.open("sim://esp32c2", { sim = sim })
    local dev = connect.connect{ port = port, stub = false, baud = 460800 }
    assert.are.equal(460800, port:baud())
    assert.are.equal(26, dev:info().crystal_mhz)
    assert.are.equal(string.rep("\xFF", 64), dev:read(0, 64))
    dev:close()
    port:close()
    sim:close()
  end)
end)

describe("secure download mode", function()
  it("is detected; the stub, revision and MAC are left out", function()
    with_sim("sim://esp32c3?secure=1", function(_, port)
      local logs = {}
      local dev = connect.connect{ port = port, log = function(level, msg) logs[#logs + 1] = level .. ": " .. msg end }
      local info = dev:info()
      assert.is_true(info.secure_download)
      assert.is_false(info.stub)
      assert.is_nil(info.revision)
      assert.is_nil(info.mac)
      assert.are.equal(4, info.security.flags & 4)
      assert.are.same({ "warn: Stub is not supported in Secure Download Mode, setting --no-stub" }, logs)
      dev:close{ after = false }
    end)
  end)

  it("writes flash without the MD5 checks and refuses to read it", function()
    with_sim("sim://esp32c3?secure=1", function(sim, port)
      local logs = {}
      local dev = connect.connect{ port = port, stub = false, log = function(_, msg) logs[#logs + 1] = msg end }
      assert.are.equal("written", dev:write(0x1000, "secret data!", { skip = true }))
      assert.are.equal("secret data!", sim:flash_read(0x1000, 12))
      assert.are.equal("Secure Download Mode: skipping the MD5 checks (not available)", logs[1])
      for _, f in ipairs({ function() return dev:read(0x1000, 12) end, function() return dev:md5(0x1000, 12) end }) do
        local ok, err = pcall(f)
        assert.is_false(ok)
        assert.are.equal("espflash::secure_download", err.code)
      end
      dev:close{ after = false }
    end)
  end)
end)

describe("a stub left running", function()
  it("is reused, and --no-stub is reported as not taking effect", function()
    if not have_stubs then pending("flasher stubs not installed in $ESPFLASH_STUBS"); return end
    with_sim("sim://esp32c3", function(sim, port)
      connect.connect{ port = port, after = "no-reset-no-stub" }:close()
      assert.are.equal("stub", sim:state())
      local logs = {}
      local dev = connect.connect{ port = port, before = "no-reset", stub = false,
        log = function(level, msg) logs[#logs + 1] = level .. ": " .. msg end }
      assert.is_true(dev:info().stub)
      assert.matches("^warn: The flasher stub is already running", logs[1])
      dev:close{ after = false }
    end)
  end)
end)

describe("Ctrl-C", function()
  it("aborts the connection with exit status 130", function()
    with_sim("sim://esp32c3", function(_, port)
      core.interrupt()
      local ok, err = pcall(connect.connect, { port = port })
      core.clear_interrupt()
      assert.is_false(ok)
      assert.are.equal("espflash::interrupted", err.code)
      assert.are.equal(130, err.exit)
    end)
  end)
end)
