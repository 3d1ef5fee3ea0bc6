-- espflash.session port selection with synthetic port lists: known boards
-- (built-in and [[usb_device]]), serial:/usb: selectors for identical
-- boards, the configured port, the picker and its questions driven through
-- a scripted keyboard, and USB locations read from a sysfs tree.
local session = require("espflash.session")
local config = require("espflash.config")
local ui_mod = require("espflash.ui")
local core = require("espflash.core")

local function board(name, serial, path, iface, vid, pid)
  return { name = name, type = "usb", vid = vid or 0x10C4, pid = pid or 0xEA60, manufacturer = "Silicon Labs",
           product = "CP2102 USB to UART Bridge Controller", serial = serial, usb_path = path, usb_interface = iface }
end

local TWINS = {
  board("/dev/ttyUSB1", "A1B2", "1-2.2", "1.0"),
  board("/dev/ttyUSB0", "0001", "1-2.1", "1.0"),
  { name = "/dev/ttyUSB2", type = "usb", vid = 0x0403, pid = 0x6001, product = "FT232R", serial = "FT01", usb_path = "3-1" },
  { name = "/dev/ttyS0", type = "pci" },
}

local sink = require("helpers.files").sink

-- A keyboard that yields `chunks` one read at a time, then end of input;
-- `strict` makes any read an error (for paths that must never ask).
local function keyboard(chunks, strict)
  local k = { reads = 0, raw_calls = 0, restored = 0 }
  function k:raw() self.raw_calls = self.raw_calls + 1 return true end
  function k:restore() self.restored = self.restored + 1 end
  function k:read()
    assert(not strict, "the keyboard was read")
    self.reads = self.reads + 1
    local c = table.remove(chunks, 1)
    if c == nil then return nil, "EOF: the input has ended", "EOF" end
    return c
  end
  return k
end

local function context(term, cfg)
  local err = sink()
  local ui = ui_mod.new({ stdout = sink(), stderr = err, tty = true, color = false, term = term, clock = function() return 0 end })
  return { ui = ui, config = cfg }, err
end

local function raises(code, fn, ...)
  local ok, e = pcall(fn, ...)
  assert.is_false(ok, "expected " .. code)
  assert.are.equal(code, e.code, tostring(e.message))
  return e
end

describe("known boards", function()
  it("are the built-in bridges plus the [[usb_device]] entries", function()
    local ftdi = TWINS[3]
    assert.is_true(session.is_known(TWINS[1]))
    assert.is_false(session.is_known(ftdi))
    assert.is_true(session.is_known(ftdi, { { vid = 0x0403, pid = 0x6001 } }))
    assert.is_false(session.is_known(TWINS[4], { { vid = 0, pid = 0 } }))
  end)

  it("are picked without asking when there is exactly one", function()
    local ctx = context(keyboard({}, true))
    local name, pid = session.select_port(ctx, {}, { TWINS[2], TWINS[3], TWINS[4] })
    assert.are.same({ "/dev/ttyUSB0", 0xEA60 }, { name, pid })
    -- an [[usb_device]] entry makes the FTDI board known: now there are two, and --non-interactive refuses
    local cfg = config.empty()
    cfg.ports.usb_devices = { { vid = 0x0403, pid = 0x6001 } }
    ctx = context(keyboard({}, true), cfg)
    raises("espflash::serial_not_selected", session.select_port, ctx, { non_interactive = true },
      { TWINS[2], TWINS[3] })
    assert.are.same({ "/dev/ttyUSB2" }, { (session.select_port(ctx, {}, { TWINS[3], TWINS[4] })) })
  end)
end)

describe("selectors for identical boards", function()
  it("choose by USB serial number, in any case", function()
    local ctx = context(keyboard({}, true))
    local name, pid = session.select_port(ctx, { port = "serial:A1B2" }, TWINS)
    assert.are.same({ "/dev/ttyUSB1", 0xEA60 }, { name, pid })
    assert.are.equal("/dev/ttyUSB1", (session.select_port(ctx, { port = "serial:a1b2" }, TWINS)))
    assert.are.equal("/dev/ttyUSB0", (session.select_port(ctx, { port = "serial:0001" }, TWINS)))
  end)

  it("choose by physical USB location, with the interface when a device has several", function()
    local ctx = context(keyboard({}, true))
    assert.are.equal("/dev/ttyUSB0", (session.select_port(ctx, { port = "usb:1-2.1" }, TWINS)))
    local dual = { board("/dev/ttyUSB4", "D", "2-1", "1.0"), board("/dev/ttyUSB5", "D", "2-1", "1.1") }
    local e = raises("espflash::serial_ambiguous", session.select_port, ctx, { port = "usb:2-1" }, dual)
    assert.are.equal("2 serial ports match 'usb:2-1'", e.message)
    assert.are.equal("Name one of them: /dev/ttyUSB4 (serial D, usb 2-1:1.0); /dev/ttyUSB5 (serial D, usb "
      .. "2-1:1.1); add the interface (usb:PATH:1.0)", e.hint)
    assert.are.equal("/dev/ttyUSB5", (session.select_port(ctx, { port = "usb:2-1:1.1" }, dual)))
    raises("espflash::serial_ambiguous", session.select_port, ctx, { port = "serial:D" }, dual)
  end)

  it("say what there is when nothing matches", function()
    local e = raises("espflash::serial_not_found", session.select_port, context(), { port = "serial:nope" }, TWINS)
    assert.are.equal("No serial port matches 'serial:nope'", e.message)
    assert.are.equal("USB serial ports found: /dev/ttyUSB1 (serial A1B2, usb 1-2.2:1.0); /dev/ttyUSB0 (serial "
      .. "0001, usb 1-2.1:1.0); /dev/ttyUSB2 (serial FT01, usb 3-1)", e.hint)
  end)
end)

describe("the configured port", function()
  it("is used when --port and ESPFLASH_PORT are not, and may be a selector", function()
    local cfg = config.empty()
    cfg.ports.serial = "serial:A1B2"
    local ctx = context(keyboard({}, true), cfg)
    assert.are.equal("/dev/ttyUSB1", (session.select_port(ctx, {}, TWINS)))
    assert.are.equal("/dev/ttyUSB2", (session.select_port(ctx, { port = "/dev/ttyUSB2" }, TWINS)))
    cfg.ports.serial = "socket://127.0.0.1:5555"
    assert.are.same({ "socket://127.0.0.1:5555" }, { session.select_port(ctx, {}, TWINS) })
  end)

  it("finds the PID of a port named through a symbolic link", function()
    local dir = io.popen("mktemp -d"):read("l")
    os.execute(("touch '%s/ttyREAL' && mkdir '%s/by-id' && ln -s ../ttyREAL '%s/by-id/usb-board'"):format(dir, dir, dir))
    local real = core.realpath(dir .. "/ttyREAL")
    local name, pid = session.select_port(context(), { port = dir .. "/by-id/usb-board" },
      { { name = real, type = "usb", vid = 0x303A, pid = 0x1001 } })
    os.execute(("rm -rf '%s'"):format(dir))
    assert.are.same({ dir .. "/by-id/usb-board", 0x1001 }, { name, pid })
  end)
end)

describe("the picker", function()
  it("lists known boards first, highlighted, with serial and location, and returns the choice", function()
    local ctx, err = context(keyboard({ "2", "\r" }))
    local name = session.select_port(ctx, {}, TWINS)
    assert.are.equal("/dev/ttyUSB1", name)
    assert.are.equal(table.concat({
      "Detected 3 serial ports",
      "Ports which match a known common dev board are highlighted",
      "Please select a port",
      "* 1) /dev/ttyUSB0 - CP2102 USB to UART Bridge Controller  (serial 0001, usb 1-2.1:1.0)",
      "* 2) /dev/ttyUSB1 - CP2102 USB to UART Bridge Controller  (serial A1B2, usb 1-2.2:1.0)",
      "  3) /dev/ttyUSB2 - FT232R  (serial FT01, usb 3-1)",
      "Select 1-3 and press Enter (Esc cancels): 2",
      "[INFO ] Next time, --port serial:A1B2 picks this board without asking", "" }, "\n"), err.text())
  end)

  it("takes corrections and retries a number that is not listed", function()
    local ctx, err = context(keyboard({ "9", "\r", "1", "4", "\127", "\127", "3\r", "n" }))
    assert.are.equal("/dev/ttyUSB2", (session.select_port(ctx, {}, TWINS)))
    assert.truthy(err.text():find("No entry 9. Select 1-3", 1, true))
    assert.truthy(err.text():find("14\b \b\b \b3\n", 1, true))
  end)

  for _, case in ipairs({ { "Esc", { "\27" } }, { "q", { "q" } }, { "Enter on nothing", { "\r" } },
                          { "Ctrl-D", { "\4" } }, { "the end of input", {} } }) do
    it("is cancelled by " .. case[1], function()
      local term = keyboard(case[2])
      local e = raises("espflash::cancelled", session.select_port, context(term), {}, TWINS)
      assert.are.equal("Operation was cancelled by the user", e.message)
      assert.are.same({ 1, 1 }, { term.raw_calls, term.restored })
    end)
  end

  it("ignores arrow keys and stops on Ctrl-C with the interrupt error", function()
    local term = keyboard({ "\27[A", "\3" })
    local e = raises("espflash::interrupted", session.select_port, context(term), {}, TWINS)
    assert.are.equal(130, e.exit)
    assert.is_true(core.interrupted())
    core.clear_interrupt()
    assert.are.equal(1, term.restored)
  end)

  it("is never shown with --non-interactive or without a terminal", function()
    local e = raises("espflash::serial_not_selected", session.select_port, context(keyboard({}, true)),
      { non_interactive = true }, TWINS)
    assert.are.equal("No serial port was provided (--non-interactive does not ask)", e.message)
    assert.matches("found: /dev/ttyUSB0, /dev/ttyUSB1, /dev/ttyUSB2%)$", e.hint)
    local ctx = context()
    ctx.ui.can_ask = function() return false end
    e = raises("espflash::serial_not_selected", session.select_port, ctx, {}, TWINS)
    assert.are.equal("No serial port was provided and there is no terminal to ask on", e.message)
  end)
end)

describe("questions about a single port", function()
  local function tmp_cfg()
    local dir = io.popen("mktemp -d"):read("l")
    local cfg = config.empty()
    cfg.ports_save_path = dir .. "/espflash_ports.toml"
    return cfg, dir
  end

  it("ask before using an unknown port, then offer to remember it", function()
    local cfg, dir = tmp_cfg()
    local ctx, err = context(keyboard({ "y", "y" }), cfg)
    assert.are.equal("/dev/ttyUSB2", (session.select_port(ctx, {}, { TWINS[3] })))
    local f = assert(io.open(cfg.ports_save_path, "rb"))
    assert.are.equal("[[usb_device]]\nvid = \"0403\"\npid = \"6001\"\n", f:read("a"))
    f:close()
    assert.are.equal("Use serial port '/dev/ttyUSB2' - FT232R? [Y/n] yes\nRemember this serial port for future "
      .. "use? [y/N] yes\n[INFO ] USB device 0403:6001 added to " .. cfg.ports_save_path .. "\n", err.text())
    -- remembered: the board is now known and picked without a question
    assert.are.equal("/dev/ttyUSB2", (session.select_port(context(keyboard({}, true), cfg), {}, { TWINS[3] })))
    os.execute(("rm -rf '%s'"):format(dir))
  end)

  it("Enter takes the default answers; no is no", function()
    local cfg, dir = tmp_cfg()
    assert.are.equal("/dev/ttyUSB2", (session.select_port(context(keyboard({ "\r", "\r" }), cfg), {}, { TWINS[3] })))
    assert.is_nil(io.open(cfg.ports_save_path, "rb"))
    raises("espflash::cancelled", session.select_port, context(keyboard({ "n" }), cfg), {}, { TWINS[3] })
    os.execute(("rm -rf '%s'"):format(dir))
  end)

  it("--confirm-port asks even for the only known board, and never offers to remember it", function()
    local ctx, err = context(keyboard({ "y" }))
    assert.are.equal("/dev/ttyUSB0", (session.select_port(ctx, { confirm_port = true }, { TWINS[2] })))
    assert.are.equal("Use serial port '/dev/ttyUSB0' - CP2102 USB to UART Bridge Controller? [Y/n] yes\n", err.text())
  end)
end)

describe("USB locations", function()
  it("come from the tty's device in sysfs", function()
    local dir = io.popen("mktemp -d"):read("l")
    local dev = dir .. "/devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2.3/1-2.3:1.0"
    os.execute(("mkdir -p '%s/ttyUSB0' '%s/class/tty/ttyUSB0' '%s/class/tty/ttyACM0'"):format(dev, dir, dir))
    os.execute(("ln -s '%s/ttyUSB0' '%s/class/tty/ttyUSB0/device'"):format(dev, dir))
    os.execute(("ln -s '%s' '%s/class/tty/ttyACM0/device'"):format(dev, dir))
    assert.are.same({ "1-2.3", "1.0" }, { session.usb_location("/dev/ttyUSB0", dir) })
    assert.are.same({ "1-2.3", "1.0" }, { session.usb_location("/dev/ttyACM0", dir) })
    assert.is_nil(session.usb_location("/dev/ttyS0", dir))
    local ports = session.locate({ { name = "/dev/ttyUSB0", type = "usb" }, { name = "/dev/ttyS0", type = "pci" } }, dir)
    assert.are.same({ "1-2.3", "1.0" }, { ports[1].usb_path, ports[1].usb_interface })
    assert.is_nil(ports[2].usb_path)
    os.execute(("rm -rf '%s'"):format(dir))
  end)
end)

describe("list-ports", function()
  it("shows serial numbers and locations, which --port takes", function()
    assert.are.same({
      "/dev/ttyUSB0  10C4:EA60  Silicon Labs  CP2102 USB to UART Bridge Controller  serial:0001  usb:1-2.1",
      "/dev/ttyUSB1  10C4:EA60  Silicon Labs  CP2102 USB to UART Bridge Controller  serial:A1B2  usb:1-2.2",
    }, session.port_rows(TWINS))
    local rows = session.port_rows(TWINS, { usb_devices = { { vid = 0x0403, pid = 0x6001 } } })
    assert.are.equal("/dev/ttyUSB2  0403:6001                FT232R                                serial:FT01  usb:3-1",
      rows[3])
  end)

  it("describes a port for --json", function()
    local json = require("espflash.json")
    assert.are.equal('{"known":true,"location":"1-2.2:1.0","manufacturer":"Silicon Labs","name":"/dev/ttyUSB1",'
      .. '"pid":"ea60","product":"CP2102 USB to UART Bridge Controller","serial":"A1B2","type":"usb","vid":"10c4"}',
      json.encode(json.port(TWINS[1], session.is_known(TWINS[1]))))
    assert.are.equal('{"known":false,"location":null,"manufacturer":null,"name":"/dev/ttyS0","pid":null,'
      .. '"product":null,"serial":null,"type":"pci","vid":null}', json.encode(json.port(TWINS[4], session.is_known(TWINS[4]))))
  end)
end)
