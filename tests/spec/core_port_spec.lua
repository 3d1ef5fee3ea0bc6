-- espflash.Port over real pseudo-terminals: socat links two ptys, and the
-- spec opens both ends with core.open, so each side is our termios transport.
local core = require("espflash.core")

local files = require("helpers.files")
local ports = require("helpers.ports")
local read_n = ports.read_n

-- Starts `socat pty pty`; returns the two link paths and a stop function.
local function pty_pair()
  local dir, stop = ports.socat("pty", function(d)
    return ("pty,raw,echo=0,link=%s/a pty,raw,echo=0,link=%s/b"):format(d, d)
  end)
  local a, b = dir .. "/a", dir .. "/b"
  assert(ports.poll(3000, function() return files.exists(a) and files.exists(b) end),
    "socat did not create the ptys")
  return a, b, stop
end

local function response(op, value, body)
  return string.pack("<BBI2I4", 1, op, #body, value) .. body
end

describe("core.open on ptys", function()
  local pa, pb, stop, a, b

  before_each(function()
    pa, pb, stop = pty_pair()
    a = assert(core.open(pa, { baud = 115200 }))
    b = assert(core.open(pb))
  end)

  after_each(function()
    if a then a:close() end
    if b then b:close() end
    stop()
    core.clear_interrupt()
  end)

  it("describes itself", function()
    assert.are.same({ kind = "serial", name = pa, baud = 115200 }, a:info())
    assert.matches("espflash.Port %(.*/a%)", tostring(a))
  end)

  it("moves all 256 byte values both ways", function()
    local t = {}
    for i = 0, 255 do t[#t + 1] = string.char(i) end
    local s = table.concat(t):rep(16)
    assert.is_true(a:write(s))
    assert.are.equal(s, read_n(b, #s, 3000))
    assert.is_true(b:write(s:reverse()))
    assert.are.equal(s:reverse(), read_n(a, #s, 3000))
  end)

  it("respects max and keeps the rest buffered", function()
    a:write("0123456789")
    assert.are.equal("0123", read_n(b, 4, 1000))
    assert.are.equal("456789", read_n(b, 6, 1000))
  end)

  it("returns an empty string after the timeout", function()
    local t0 = core.now()
    assert.are.equal("", b:read(10, 150))
    local dt = core.now() - t0
    assert.is_true(dt >= 0.14 and dt < 1.0, "waited " .. dt)
    t0 = core.now()
    assert.are.equal("", b:read(10)) -- timeout 0: just a check
    assert.is_true(core.now() - t0 < 0.05)
  end)

  it("wakes as soon as bytes arrive", function()
    os.execute(string.format("(sleep 0.2; printf wake > %s) &", pa))
    local t0 = core.now()
    local s = b:read(100, 5000)
    local dt = core.now() - t0
    assert.are.equal("wake", s .. read_n(b, 4 - #s, 500))
    assert.is_true(dt > 0.1 and dt < 2, "woke after " .. dt)
  end)

  it("reads frames and keeps the text between them as noise", function()
    a:write("rst:0x1 (POWERON)\r\n" .. core.slip_encode("\xc0frame\xdb") .. "boot:0x3\r\n\xc0\xc0")
    assert.is_true(a:write_frame("second"))
    assert.are.equal("\xc0frame\xdb", assert(b:read_frame(1000)))
    assert.are.equal("second", assert(b:read_frame(1000)))
    assert.are.equal("rst:0x1 (POWERON)\r\nboot:0x3\r\n", b:take_noise())
    assert.are.equal("", b:take_noise())
  end)

  it("assembles a frame that arrives in pieces", function()
    local wire = core.slip_encode(string.rep("\xc0\xdbx", 100))
    a:write(wire:sub(1, 150))
    local ok, err, code = b:read_frame(100)
    assert.is_nil(ok)
    assert.are.equal("TIMEOUT", code)
    assert.matches("^TIMEOUT: ", err)
    a:write(wire:sub(151))
    assert.are.equal(string.rep("\xc0\xdbx", 100), assert(b:read_frame(1000)))
  end)

  it("times out read_frame on silence", function()
    local t0 = core.now()
    local ok, _, code = b:read_frame(120)
    assert.is_nil(ok)
    assert.are.equal("TIMEOUT", code)
    assert.is_true(core.now() - t0 >= 0.11)
  end)

  it("sends a command packet and returns the matching response", function()
    -- the reply is queued first; command() writes, then finds it among others
    b:write("garbage" .. core.slip_encode("short") ..
      core.slip_encode(response(0x08, 0x20120707, "\0\0\0\0")) ..
      core.slip_encode(string.pack("<BBI2I4", 0, 0x0a, 0, 0)) .. -- direction 0: skipped
      core.slip_encode(response(0x0a, 0xdeadbeef, "\0\0\0\0")))
    local op, value, body = a:command(0x0a, string.pack("<I4", 0x40001000), 0, 1000)
    assert.are.equal(0x0a, op)
    assert.are.equal(0xdeadbeef, value)
    assert.are.equal("\0\0\0\0", body)
    local req = assert(b:read_frame(1000))
    assert.are.equal("\x00\x0a\x04\x00\x00\x00\x00\x00\x00\x10\x00\x40", req)
  end)

  it("puts size and checksum in the header and escapes the data", function()
    local data = string.pack("<I4I4I4I4", 4, 0, 0, 0) .. "\xc0\xdb\x01\x02"
    b:write(core.slip_encode(response(0x03, 0, "\0\0\0\0")))
    assert.are.equal(0x03, (a:command(0x03, data, 0xf7, 1000)))
    local wire = read_n(b, 1 + 8 + #data + 2 + 1, 1000)
    assert.are.equal(core.slip_encode(string.pack("<BBI2I4", 0, 3, #data, 0xf7) .. data), wire)
  end)

  it("accepts the ROM's stale-opcode unsupported reply", function()
    b:write(core.slip_encode(response(0x08, 0x20120707, "\x01\x05\x00\x00")))
    local op, value, body = a:command(0x14, "", 0, 1000)
    assert.are.equal(0x08, op)
    assert.are.equal(0x20120707, value)
    assert.are.equal("\x01\x05\x00\x00", body)
  end)

  it("gives up after 100 unrelated frames", function()
    local other = core.slip_encode(response(0x09, 0, "\0\0\0\0"))
    b:write(other:rep(101))
    local ok, err, code = a:command(0x0a, "", 0, 3000)
    assert.is_nil(ok)
    assert.are.equal("PROTOCOL", code)
    assert.matches("0x0a", err)
    b:write(other:rep(100) .. core.slip_encode(response(0x0a, 7, "\0\0\0\0")))
    assert.are.equal(7, select(2, a:command(0x0a, "", 0, 3000)))
  end)

  it("times out a command with no answer", function()
    local t0 = core.now()
    local ok, err, code = a:command(0x0a, "", 0, 200)
    assert.is_nil(ok)
    assert.are.equal("TIMEOUT", code)
    assert.matches("command 0x0a", err)
    local dt = core.now() - t0
    assert.is_true(dt >= 0.19 and dt < 1.5, "took " .. dt)
  end)

  it("flush_input drops pending bytes and a partial frame", function()
    b:write("stale bytes\xc0partial")
    core.sleep(100)
    assert.is_true(a:flush_input())
    b:write("rest\xc0" .. core.slip_encode("fresh"))
    assert.are.equal("fresh", assert(a:read_frame(1000)))
    assert.are.equal("rest", a:take_noise())
  end)

  it("has no modem lines on a pty", function()
    assert.is_false(a:has_lines())
    assert.is_false(a:set_lines(true, false))
    assert.is_false(a:set_lines(false, nil))
  end)

  it("sets standard and odd baud rates", function()
    for _, baud in ipairs({ 74880, 921600, 115200, 2000000 }) do
      assert.is_true(a:set_baud(baud))
      assert.are.equal(baud, a:baud())
    end
    assert.has_error(function() a:set_baud(0) end)
  end)

  it("fails blocking reads with INTERRUPTED when interrupted", function()
    a:write("pending" .. core.slip_encode("frame"))
    core.sleep(50)
    core.interrupt()
    local t0 = core.now()
    local ok, err, code = b:read(10, 5000)
    assert.is_nil(ok)
    assert.are.equal("INTERRUPTED", code)
    assert.matches("^INTERRUPTED: ", err)
    ok, _, code = b:read_frame(5000)
    assert.are.equal("INTERRUPTED", code)
    ok, _, code = b:command(0x08, "", 0, 5000)
    assert.are.equal("INTERRUPTED", code)
    assert.is_true(core.now() - t0 < 0.5)
    core.clear_interrupt()
    -- bytes that were there all along are still there
    assert.are.equal("pending", read_n(b, 7, 1000))
    assert.are.equal("frame", assert(b:read_frame(1000)))
    a:write("after")
    assert.are.equal("after", read_n(b, 5, 1000))
  end)

  it("reports a vanished device as PORT_GONE", function()
    stop()
    local ok, _, code = ports.read_until_error(b)
    assert.is_nil(ok)
    assert.are.equal("PORT_GONE", code)
  end)

  it("closes idempotently and raises on use after close", function()
    assert.is_true(a:close())
    assert.is_true(a:close())
    assert.matches("closed", tostring(a))
    assert.has_error(function() a:read(1, 0) end, "attempt to use a closed port")
    assert.has_error(function() a:write("x") end)
    do
      local c <close> = assert(core.open(pa))
      assert.are.equal("serial", c:info().kind)
    end
    a = nil
  end)
end)

describe("core.open failures", function()
  it("names a missing device", function()
    local ok, err, code = core.open("/dev/does-not-exist-espflash")
    assert.is_nil(ok)
    assert.are.equal("PORT_NOT_FOUND", code)
    assert.matches("/dev/does%-not%-exist%-espflash", err)
  end)

  it("refuses a file that is not a tty", function()
    local ok, err, code = core.open("/etc/hostname")
    assert.is_nil(ok)
    assert.are.equal("PORT_NOT_FOUND", code)
    assert.matches("not a serial port", err)
  end)

  it("refuses unknown URL schemes and bad socket URLs", function()
    local _, err, code = core.open("rfc9999://x")
    assert.are.equal("PORT_NOT_FOUND", code)
    assert.matches("unknown port URL", err)
    _, err = core.open("socket://nohostport")
    assert.matches("HOST:PORT", err)
  end)

  it("raises on misuse", function()
    assert.has_error(function() core.open() end)
    assert.has_error(function() core.open("/dev/null", { baud = -1 }) end)
    assert.has_error(function() core.open("/dev/null", 5) end)
  end)

  it("lists ports without opening them", function()
    local ports = assert(core.list_ports())
    for _, p in ipairs(ports) do
      assert.is_string(p.name)
      assert.is_truthy(({ usb = 1, pci = 1, bluetooth = 1, unknown = 1 })[p.type])
      if p.type == "usb" then assert.is_number(p.vid) end
    end
  end)
end)
