-- rfc2217://HOST:PORT against Debian's ser2net: the spec starts a virtual
-- ESP32-C3 on a pseudo-terminal (`espflash sim --pty`) and ser2net serving
-- that pty twice, as RFC 2217 (telnet(rfc2217)) and as raw TCP, on free
-- ports, and stops both at the end. The Port API is used directly, as the
-- library does: Telnet negotiation, ser2net's replies (it answers
-- SET-BAUDRATE and PURGE-DATA but, on a pty, never SET-CONTROL), 0xFF in
-- SLIP frames both ways, and the raw port through socket://.
-- The scripted-server cases (split Telnet commands, refusals, Ctrl-C) are in
-- tests/c/test_port_rfc2217.c; the reset sequences on the wire in
-- tests/c/test_port_rfc2217_reset.c.
local core = require("espflash.core")

local SER2NET = "/usr/sbin/ser2net"
local SYNC = "\7\7\18\32" .. string.rep("\85", 32)
local SPI_W0 = 0x60002058 -- esp32c3 SPI1 W0: a plain read/write register

local files = require("helpers.files")
local shell, read_file = files.shell, files.read_file

local ports = require("helpers.ports")

-- Waits for `fn` (see helpers.ports.poll), checking every 10 ms.
local function poll(ms, fn) return ports.poll(ms, fn, 10) end

-- Runs `cmd` in the background under a shell that is our direct child and
-- that kills and reaps it when stop() closes the pipe it reads. LD_PRELOAD
-- (the sanitizer runtime under -DESPFLASH_SANITIZE=ON) is not passed on.
local function spawn(cmd, dir, name)
  local pidfile, log = dir .. "/" .. name .. ".pid", dir .. "/" .. name .. ".log"
  local f = assert(io.popen(string.format(
    "env -u LD_PRELOAD %s >%s 2>&1 & pid=$!; echo $pid >%s; read _; kill $pid 2>/dev/null; "
      .. "(sleep 3; kill -9 $pid 2>/dev/null) & w=$!; wait $pid; kill $w 2>/dev/null",
    cmd, log, pidfile), "w"))
  local pid = poll(3000, function()
    local s = read_file(pidfile)
    return s and s:match("%d+")
  end)
  return {
    pid = pid,
    log = function() return read_file(log) or "" end,
    stop = function() f:close() end,
  }
end

-- Local TCP ports in use (any state), from /proc/net/tcp{,6}.
local function used_ports()
  local used = {}
  for _, file in ipairs({ "/proc/net/tcp", "/proc/net/tcp6" }) do
    for port in (read_file(file) or ""):gmatch("\n%s*%d+: %x+:(%x+)") do
      used[tonumber(port, 16)] = true
    end
  end
  return used
end

-- Two free ports, away from Debian's default ser2net ports.
local function free_ports()
  local used, got = used_ports(), {}
  while #got < 2 do
    local p = math.random(20000, 44999)
    if not used[p] then
      used[p] = true
      got[#got + 1] = p
    end
  end
  return got[1], got[2]
end

-- True when process `pid` listens on 127.0.0.1:port.
local function listens(pid, port)
  local hex = string.format(":%04X", port)
  for line in (read_file("/proc/net/tcp") or ""):gmatch("[^\n]+") do
    local laddr, st, inode = line:match("^%s*%d+: (%x+:%x+)%s+%x+:%x+%s+(%x%x)%s+%S+%s+%S+%s+%S+%s+%S+%s+%S+%s+(%d+)")
    if laddr == "0100007F" .. hex and st == "0A" then
      return shell(string.format("ls -l /proc/%s/fd 2>/dev/null | grep -c 'socket:\\[%s\\]'",
        pid, inode)):match("^%s*[1-9]") ~= nil
    end
  end
  return false
end

local function ser2net_config(pty, rfc_port, raw_port)
  return table.concat({
    "%YAML 1.1", "---",
    "connection: &rfc2217",
    "    accepter: telnet(rfc2217),tcp,127.0.0.1," .. rfc_port,
    "    enable: on",
    "    options:",
    "      kickolduser: true",
    "    connector: serialdev," .. pty .. ",115200n81,local",
    "",
    "connection: &raw",
    "    accepter: tcp,127.0.0.1," .. raw_port,
    "    enable: on",
    "    options:",
    "      kickolduser: true",
    "    connector: serialdev," .. pty .. ",115200n81,local",
    "" }, "\n")
end

-- True for ser2net's answer while it still releases the pty after the
-- previous client of its other port: for ~10 ms it says "Port's device
-- already in use" and hangs up, which reads as PORT_GONE (on a raw port
-- only at the first read).
local function busy(code, msg)
  if code ~= "PORT_GONE" then return false end
  assert.matches("already in use", msg, 1, true) -- rfc2217: the text is in the message
  core.sleep(5)
  return true
end

-- core.open, again while ser2net is busy (see above).
local function open(url, opts)
  local deadline, port, msg, code = core.now() + 2
  repeat
    port, msg, code = core.open(url, opts)
  until not (busy(code, msg) and core.now() < deadline)
  return port, msg, code
end

-- Opens url and checks the ROM's (or stub's) answer to SYNC.
local function sync(url)
  local deadline = core.now() + 2
  while true do
    local port = assert(open(url))
    local ok, msg, code = port:flush_input()
    local op
    if ok then op, msg, code = port:command(0x08, SYNC, 0, 1000) end
    if op then
      assert.are.equal(0x08, op)
      return port
    end
    port:close()
    if not (url:match("^socket:") and code == "PORT_GONE" and core.now() < deadline) then
      error(msg)
    end
    core.sleep(5)
  end
end

describe("rfc2217:// through ser2net to the virtual device", function()
  local dir, sim, s2n, rfc_url, raw_url

  lazy_setup(function()
    local bin = os.getenv("ESPFLASH_BIN")
    assert(bin, "ESPFLASH_BIN must name the built espflash (ctest sets it)")
    assert(io.open(SER2NET), SER2NET .. " is missing: apt-get install ser2net")
    dir = files.tmpdir("/tmp/espflash-rfc2217.XXXXXX")
    sim = spawn(string.format("%s sim --chip esp32c3 --pty --flash %s/flash.bin", bin, dir), dir, "sim")
    local pty = poll(5000, function() return sim.log():match("Pseudo%-terminal: (%S+)") end)
    assert(pty, "espflash sim --pty did not start: " .. sim.log())
    for _ = 1, 3 do -- a port taken between choosing and binding: choose again
      local rfc_port, raw_port = free_ports()
      local conf = io.open(dir .. "/ser2net.yaml", "w")
      conf:write(ser2net_config(pty, rfc_port, raw_port))
      conf:close()
      s2n = spawn(string.format("%s -n -u -c %s/ser2net.yaml -P %s/ser2net.pid", SER2NET, dir, dir),
        dir, "ser2net")
      if poll(3000, function() return listens(s2n.pid, rfc_port) and listens(s2n.pid, raw_port) end) then
        rfc_url = "rfc2217://127.0.0.1:" .. rfc_port
        raw_url = "socket://127.0.0.1:" .. raw_port
        break
      end
      s2n.stop()
      s2n = nil
    end
    assert(rfc_url, "ser2net did not listen on its ports")
  end)

  lazy_teardown(function()
    if s2n then s2n.stop() end
    if sim then sim.stop() end
    if dir then os.execute("rm -rf " .. dir) end
  end)

  it("negotiates and carries the ROM protocol", function()
    local port <close> = sync(rfc_url)
    assert.are.same({ kind = "rfc2217", name = rfc_url, baud = 115200 }, port:info())
    assert.is_true(port:has_lines())
    local _, magic = assert(port:command(0x0a, string.pack("<I4", 0x40001000), 0, 1000))
    assert.are.equal(0x1B31506F, magic)
  end)

  it("carries 0xFF (IAC) inside SLIP frames both ways", function()
    local port <close> = sync(rfc_url)
    for _, v in ipairs({ 0xFFFFFFFF, 0x00FF00FF, 0xFF000000, 0x12345678 }) do
      assert(port:command(0x09, string.pack("<I4I4I4I4", SPI_W0, v, 0xFFFFFFFF, 0), 0, 1000))
      local _, got = assert(port:command(0x0a, string.pack("<I4", SPI_W0), 0, 1000))
      assert.are.equal(v, got)
    end
  end)

  it("gets ser2net's reply to SET-BAUDRATE and PURGE-DATA at once", function()
    local port <close> = sync(rfc_url)
    local t0 = core.now()
    assert.is_true(port:set_baud(230400))
    assert.are.equal(230400, port:baud())
    assert.is_true(port:set_baud(115200))
    assert.is_true(port:flush_input())
    assert.is_true(core.now() - t0 < 0.12, "two baud changes and a purge took " .. (core.now() - t0))
  end)

  it("does not hang on SET-CONTROL, which ser2net never answers on a pty", function()
    local port <close> = sync(rfc_url)
    local t0 = core.now()
    assert.is_true(port:set_lines(false, true))
    local first = core.now() - t0
    t0 = core.now()
    for _ = 1, 5 do assert.is_true(port:set_lines(true, false)) end
    local rest = core.now() - t0
    assert.is_true(first >= 0.12 and first < 0.5, "first SET-CONTROL waited " .. first)
    assert.is_true(rest < 0.05, "five more took " .. rest)
    -- the device still answers afterwards
    assert(port:flush_input())
    assert.are.equal(0x08, (port:command(0x08, SYNC, 0, 1000)))
  end)

  it("with ?ign_set_control does not wait even once", function()
    local port <close> = sync(rfc_url .. "?ign_set_control")
    local t0 = core.now()
    assert.is_true(port:set_lines(true, true))
    assert.is_true(core.now() - t0 < 0.05)
  end)

  it("discards what the device already sent on flush_input", function()
    local port <close> = sync(rfc_url)
    core.sleep(50)
    assert(port:flush_input())
    assert(port:write_frame(string.pack("<BBI2I4", 0, 0x08, #SYNC, 0) .. SYNC))
    core.sleep(100) -- eight SYNC replies are back by now
    assert(port:flush_input())
    assert.are.equal("", port:read(4096, 100))
  end)

  it("reaches the raw port with socket://, the same device and flash", function()
    do
      local port <close> = sync(rfc_url)
      assert(port:command(0x09, string.pack("<I4I4I4I4", SPI_W0, 0xA5FF5AFF, 0xFFFFFFFF, 0), 0, 1000))
    end
    local port <close> = sync(raw_url)
    assert.are.equal("socket", port:info().kind)
    assert.is_false(port:has_lines())
    local _, got = assert(port:command(0x0a, string.pack("<I4", SPI_W0), 0, 1000))
    assert.are.equal(0xA5FF5AFF, got)
  end)

  it("refuses a raw port given as rfc2217://, naming socket://", function()
    local url = raw_url:gsub("^socket", "rfc2217")
    local port, msg, code = open(url, { timeout = 400 })
    assert.is_nil(port)
    assert.are.equal("TIMEOUT", code)
    assert.matches("no RFC 2217 negotiation", msg, 1, true)
    assert.matches("socket://HOST:PORT", msg, 1, true)
  end)
end)
