-- espflash.session: port selection from an enumeration, list-ports rows,
-- the board-info and security layouts, and session.connect's logging
-- against the virtual device.
local session = require("espflash.session")

local PORTS = {
  { name = "/dev/ttyUSB1", type = "usb", vid = 0x1A86, pid = 0x7523, manufacturer = "QinHeng", product = "CH340" },
  { name = "/dev/ttyACM0", type = "usb", vid = 0x303A, pid = 0x1001, manufacturer = "Espressif",
    product = "USB JTAG/serial debug unit" },
  { name = "/dev/ttyUSB0", type = "usb", vid = 0x0403, pid = 0x6001, manufacturer = "FTDI", product = "FT232R" },
  { name = "/dev/ttyS0", type = "pci" },
  { name = "/dev/ttyS4", type = "unknown" },
  { name = "/dev/rfcomm0", type = "bluetooth" },
}

local function ui()
  local u = { lines = {} }
  function u:info(m) self.lines[#self.lines + 1] = "INFO " .. m end
  function u:warn(m) self.lines[#self.lines + 1] = "WARN " .. m end
  function u:debug() end
  function u:print(m) self.lines[#self.lines + 1] = m end
  return u
end

local function err_code(f, ...)
  local ok, e = pcall(f, ...)
  assert.is_false(ok)
  return e.code
end

describe("port selection", function()
  it("knows the dev-board bridges", function()
    assert.is_true(session.is_known(PORTS[1]))
    assert.is_true(session.is_known(PORTS[2]))
    assert.is_false(session.is_known(PORTS[3]))
    assert.is_false(session.is_known(PORTS[4]))
  end)

  it("offers USB ports, plus PCI and unknown ones with --list-all-ports, sorted", function()
    local names = {}
    for i, p in ipairs(session.candidates(PORTS, false)) do names[i] = p.name end
    assert.are.same({ "/dev/ttyACM0", "/dev/ttyUSB0", "/dev/ttyUSB1" }, names)
    names = {}
    for i, p in ipairs(session.candidates(PORTS, true)) do names[i] = p.name end
    assert.are.same({ "/dev/ttyACM0", "/dev/ttyS0", "/dev/ttyS4", "/dev/ttyUSB0", "/dev/ttyUSB1" }, names)
  end)

  it("takes --port as given and finds its PID", function()
    local name, pid = session.select_port({ ui = ui() }, { port = "/dev/ttyACM0" }, PORTS)
    assert.are.same({ "/dev/ttyACM0", 0x1001 }, { name, pid })
    name, pid = session.select_port({ ui = ui() }, { port = "sim://esp32c3" }, PORTS)
    assert.are.same({ "sim://esp32c3" }, { name, pid })
  end)

  it("uses the only known dev board without asking", function()
    local only = { PORTS[1], PORTS[3], PORTS[4] }
    local name, pid = session.select_port({ ui = ui() }, { non_interactive = true }, only)
    assert.are.same({ "/dev/ttyUSB1", 0x7523 }, { name, pid })
  end)

  it("refuses to guess with --non-interactive", function()
    assert.are.equal("espflash::serial_not_selected",
      err_code(session.select_port, { ui = ui() }, { non_interactive = true }, PORTS))
    assert.are.equal("espflash::serial_not_selected",
      err_code(session.select_port, { ui = ui() }, { non_interactive = true, confirm_port = true }, { PORTS[1] }))
  end)

  it("reports no ports, with the --list-all-ports hint", function()
    local ok, e = pcall(session.select_port, { ui = ui() }, {}, { PORTS[4], PORTS[6] })
    assert.is_false(ok)
    assert.are.equal("espflash::no_serial", e.code)
    assert.matches("%-%-list%-all%-ports", e.hint)
  end)

  it("refuses --no-stub for stub-only commands", function()
    assert.are.equal("espflash::stub_required", err_code(session.require_stub, { no_stub = true }))
    session.require_stub({ no_stub = false })
  end)
end)

describe("list-ports rows", function()
  it("prints VID:PID (not espflash's PID:VID), manufacturer and product", function()
    assert.are.same({
      "/dev/ttyACM0  303A:1001  Espressif  USB JTAG/serial debug unit",
      "/dev/ttyUSB1  1A86:7523  QinHeng    CH340",
    }, session.port_rows(PORTS))
  end)

  it("lists every USB, PCI and unknown port with -a, and names only with -n", function()
    local rows = session.port_rows(PORTS, { all = true })
    assert.are.equal(5, #rows)
    assert.are.equal("/dev/ttyS0" .. string.rep(" ", 15) .. "PCI serial port", rows[2])
    assert.are.equal("/dev/ttyS4" .. string.rep(" ", 15) .. "Unknown type of port", rows[3])
    assert.are.equal("/dev/ttyUSB0  0403:6001  FTDI       FT232R", rows[4])
    assert.are.same({ "/dev/ttyACM0", "/dev/ttyUSB1" }, session.port_rows(PORTS, { name_only = true }))
  end)

  it("says when nothing matches", function()
    assert.are.same({ "No known serial ports found." }, session.port_rows({ PORTS[3] }))
    assert.are.same({ "No serial ports found." }, session.port_rows({}, { all = true }))
    assert.are.same({}, session.port_rows({}, { name_only = true }))
  end)
end)

describe("board-info layout", function()
  it("matches espflash's lines", function()
    assert.are.same({
      "Chip type:         esp32c3 (revision v0.4)",
      "Crystal frequency: 40 MHz",
      "Flash size:        4MB",
      "Features:          WiFi, BLE",
      "MAC address:       60:55:f9:7e:7b:c0",
    }, session.board_info_lines({ chip = "esp32c3", revision = { major = 0, minor = 4 }, crystal_mhz = 40,
      flash_size_name = "4MB", features = { "WiFi", "BLE" }, mac = "60:55:f9:7e:7b:c0" }))
  end)

  it("leaves out revision and MAC when unknown (Secure Download Mode)", function()
    local lines = session.board_info_lines({ chip = "esp32c6", crystal_mhz = 40, flash_size_name = "4MB",
      features = { "WiFi 6", "BT 5" } })
    assert.are.equal("Chip type:         esp32c6", lines[1])
    assert.are.equal(4, #lines)
  end)

  it("prints the security block as espflash's SecurityInfo", function()
    local plain = session.security_text({ flags = 0, flash_crypt_cnt = 0, key_purposes = { 0, 0, 0, 0, 0, 0, 12 },
      chip_id = 5, api_version = 0 })
    assert.are.equal(table.concat({ "", "Security Information:", "=====================",
      "Flags: 0x00000000 (0)", "Key Purposes: [0, 0, 0, 0, 0, 0, 12]", "Chip ID: 5", "API Version: 0",
      "Secure Boot: Disabled", "Flash Encryption: Disabled",
      "SPI Boot Crypt Count (SPI_BOOT_CRYPT_CNT): 0x0", "" }, "\n"), plain)
    local locked = session.security_text({ flags = 0x7FF, flash_crypt_cnt = 7, key_purposes = { 1, 2, 3, 4, 5, 6, 7 } })
    for _, line in ipairs({ "Flags: 0x000007ff (11111111111)", "Secure Boot: Enabled",
        "Secure Boot Aggressive key revocation: Enabled",
        "Secure Boot Key Revocation Status:\n  Secure Boot Key0 is Revoked\n  Secure Boot Key1 is Revoked\n"
          .. "  Secure Boot Key2 is Revoked",
        "Flash Encryption: Enabled", "SPI Boot Crypt Count (SPI_BOOT_CRYPT_CNT): 0x7",
        "Dcache in UART download mode: Disabled", "Icache in UART download mode: Disabled",
        "JTAG: Permanently Disabled", "USB Access: Disabled" }) do
      assert.is_truthy(locked:find(line, 1, true), "missing: " .. line)
    end
    assert.is_nil(locked:find("Chip ID", 1, true))
  end)
end)

describe("session.connect", function()
  it("logs the port and connection, warns about --before and the baud rate", function()
    local stubs = os.getenv("ESPFLASH_STUBS")
    local probe = stubs and io.open(stubs .. "/esp32c3.json", "rb")
    if not probe then pending("flasher stubs not installed in $ESPFLASH_STUBS"); return end
    probe:close()
    local u = ui()
    local dev = session.connect({ ui = u }, { port = "sim://esp32c3", before = "no-reset", baud = 460800,
      after = "hard-reset" })
    assert.are.equal("esp32c3", dev:info().chip)
    dev:close()
    assert.are.same({
      "WARN Pre-connection option 'NoReset' was selected. Connection may fail if the chip is not in "
        .. "bootloader or flasher stub mode.",
      "INFO Serial port: 'sim://esp32c3'",
      "INFO Connecting...",
      "INFO Using flash stub",
      "WARN Setting baud rate higher than 115,200 can cause issues",
    }, u.lines)
  end)
end)
