-- socket://HOST:PORT: socat listens on a free port and bridges it to a pty,
-- which the spec opens as the "device" end with core.open too.
local core = require("espflash.core")

local files = require("helpers.files")
local ports = require("helpers.ports")
local poll, read_n = ports.poll, ports.read_n

-- Starts socat listening on 127.0.0.1:0; returns the port number, the pty
-- link it will create on connection, and a stop function.
local function bridge()
  local dir, stop = ports.socat("TCP", function(d)
    return ("-d -d TCP-LISTEN:0,bind=127.0.0.1 pty,raw,echo=0,link=%s/dev"):format(d)
  end)
  local log = dir .. "/log"
  local port = poll(3000, function()
    local s = files.read_file(log)
    return s and s:match("listening on [^\n]-:(%d+)")
  end)
  assert(port, "socat did not report its port: " .. tostring(files.read_file(log)))
  return tonumber(port), dir .. "/dev", stop
end

describe("core.open socket://", function()
  local tcp_port, dev_path, stop, host, dev

  before_each(function()
    tcp_port, dev_path, stop = bridge()
    host = assert(core.open("socket://127.0.0.1:" .. tcp_port, { baud = 460800 }))
    assert(poll(3000, function() return files.exists(dev_path) end), "no pty from socat")
    dev = assert(core.open(dev_path))
  end)

  after_each(function()
    if host then host:close() end
    if dev then dev:close() end
    stop()
    core.clear_interrupt()
  end)

  it("describes itself and has no modem lines", function()
    assert.are.same({ kind = "socket", name = "socket://127.0.0.1:" .. tcp_port, baud = 460800 },
      host:info())
    assert.is_false(host:has_lines())
    assert.is_false(host:set_lines(true, true))
    assert.is_true(host:set_baud(921600))
    assert.are.equal(921600, host:baud())
  end)

  it("moves every byte value both ways", function()
    local t = {}
    for i = 0, 255 do t[#t + 1] = string.char(i) end
    local s = table.concat(t):rep(64)
    assert.is_true(host:write(s))
    assert.are.equal(s, read_n(dev, #s, 5000))
    assert.is_true(dev:write(s))
    assert.are.equal(s, read_n(host, #s, 5000))
  end)

  it("runs a command exchange", function()
    dev:write("boot text" .. core.slip_encode(string.pack("<BBI2I4", 1, 0x0a, 4, 0x00f01d83) ..
      "\0\0\0\0"))
    local op, value, body = host:command(0x0a, string.pack("<I4", 0x40001000), 0, 2000)
    assert.are.equal(0x0a, op)
    assert.are.equal(0x00f01d83, value)
    assert.are.equal("\0\0\0\0", body)
    assert.are.equal("boot text", host:take_noise())
    assert.are.equal("\x00\x0a\x04\x00\x00\x00\x00\x00\x00\x10\x00\x40",
      assert(dev:read_frame(2000)))
  end)

  it("times out and can be interrupted", function()
    local t0 = core.now()
    assert.are.equal("", host:read(1, 100))
    assert.is_true(core.now() - t0 >= 0.09)
    core.interrupt()
    t0 = core.now()
    local ok, _, code = host:read_frame(5000)
    assert.is_nil(ok)
    assert.are.equal("INTERRUPTED", code)
    assert.is_true(core.now() - t0 < 0.2)
  end)

  it("flush_input discards what the peer sent", function()
    dev:write("old stuff")
    core.sleep(100)
    assert.is_true(host:flush_input())
    dev:write("new")
    assert.are.equal("new", read_n(host, 3, 1000))
  end)

  it("reports a closed peer as PORT_GONE", function()
    stop()
    local ok, _, code = ports.read_until_error(host)
    assert.is_nil(ok)
    assert.are.equal("PORT_GONE", code)
  end)
end)

describe("core.open socket:// failures", function()
  it("reports a refused connection", function()
    local tcp_port, _, stop = bridge()
    stop() -- the port is free again: nobody listens
    local ok, err, code = core.open("socket://127.0.0.1:" .. tcp_port)
    assert.is_nil(ok)
    assert.are.equal("PORT_NOT_FOUND", code)
    assert.matches("refused", err)
  end)

  it("reports an unknown host", function()
    local ok, _, code = core.open("socket://no-such-host.invalid:1234")
    assert.is_nil(ok)
    assert.are.equal("PORT_NOT_FOUND", code)
  end)
end)
