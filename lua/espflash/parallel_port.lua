--- Cooperative I/O for `espflash.parallel`: while a scheduler runs, a wait
--- inside one of its tasks (a port read, a command's reply, a sleep) yields
--- to the scheduler instead of blocking the process, so the other devices
--- keep going. See docs/design.md, "Many devices at once".
---
--- `install()` swaps `core.open` and `core.sleep` for versions that act
--- cooperatively inside a task and exactly as before outside one; every
--- port opened inside a task is wrapped by `wrap(port)`, a table that
--- forwards to the Port and reimplements its waiting methods (`read`,
--- `read_frame`, `command`) as non-blocking polls. `uninstall()` restores
--- the originals once the last scheduler is done.
local core = require("espflash.core")

local M = {}

--- Longest write, in bytes, handed to a serial port at once: a full tty
--- buffer blocks the writer until this much drained, so other devices wait
--- at most that long (22 ms at 115200 baud).
M.SERIAL_CHUNK = 256
--- How long a task that found nothing to read waits before polling again (s).
M.POLL_INTERVAL = 0.001

local TOKEN = setmetatable({}, { __name = "espflash.parallel.wait" })
M.TOKEN = TOKEN

local tasks = setmetatable({}, { __mode = "k" })
local original = {}
local installs = 0

--- Marks coroutine `co` as a scheduler task (its waits yield).
function M.adopt(co) tasks[co] = true end

--- True when running inside a scheduler task.
function M.in_task()
  local co = coroutine.running()
  return co ~= nil and tasks[co] == true
end

-- Yields to the scheduler until `wake` (core.now() seconds; nil = poll soon).
local function pause(wake)
  coroutine.yield(TOKEN, wake or core.now() + M.POLL_INTERVAL)
end
M.pause = pause

local function interrupted()
  return nil, "INTERRUPTED: interrupted by Ctrl-C", "INTERRUPTED"
end

--- `core.sleep` inside tasks: yields until `ms` passed. Outside a task, the original.
function M.sleep(ms)
  if not M.in_task() then return (original.sleep or core.sleep)(ms) end
  local wake = core.now() + math.max(ms, 0) / 1000
  repeat
    if core.interrupted() then return interrupted() end
    pause(wake)
  until core.now() >= wake
  if core.interrupted() then return interrupted() end
  return true
end

local Coop = {}

--- Wraps a Port: waiting methods poll and yield; the rest forward.
function M.wrap(port)
  if getmetatable(port) == Coop then return port end
  local info = port:info()
  return setmetatable({ _port = port, _serial = info.kind == "serial" }, Coop)
end

--- The Port under a wrapper (or the argument itself).
function M.unwrap(port)
  if getmetatable(port) == Coop then return rawget(port, "_port") end
  return port
end

--- `core.open` inside tasks: the port comes wrapped.
function M.open(url, opts)
  local port, msg, code = (original.open or core.open)(url, opts)
  if port and M.in_task() then return M.wrap(port) end
  return port, msg, code
end

local methods = {}

Coop.__index = function(self, key)
  local m = methods[key]
  if m then return m end
  local port = rawget(self, "_port")
  local v = port[key]
  if type(v) ~= "function" then return v end
  local f = function(s, ...)
    if s == self then return v(port, ...) end
    return v(s, ...)
  end
  rawset(self, key, f)
  return f
end
Coop.__name = "espflash.parallel.Port"
Coop.__tostring = function(self) return tostring(rawget(self, "_port")) end
Coop.__close = function(self) rawget(self, "_port"):close() end

local function deadline_of(timeout_ms)
  return core.now() + math.max(timeout_ms or 0, 0) / 1000
end

--- port:read(max, timeout_ms): as the Port's, polling.
function methods:read(max, timeout_ms)
  local port = self._port
  if not M.in_task() then return port:read(max, timeout_ms) end
  local deadline = deadline_of(timeout_ms)
  while true do
    local s, msg, code = port:read(max, 0)
    if s ~= "" then return s, msg, code end
    if core.now() >= deadline then return "" end
    pause()
  end
end

--- port:read_frame(timeout_ms): as the Port's, polling.
function methods:read_frame(timeout_ms)
  local port = self._port
  if not M.in_task() then return port:read_frame(timeout_ms) end
  timeout_ms = timeout_ms or 0
  local deadline = deadline_of(timeout_ms)
  while true do
    local frame, msg, code = port:read_frame(0)
    if frame or code ~= "TIMEOUT" then return frame, msg, code end
    if core.now() >= deadline then
      return nil, ("TIMEOUT: no SLIP frame within %d ms"):format(timeout_ms), "TIMEOUT"
    end
    pause()
  end
end

-- Writes raw bytes; on a serial port in pieces, letting the others run between.
local function write_raw(self, bytes)
  local port = self._port
  if not self._serial or #bytes <= M.SERIAL_CHUNK then return port:write(bytes) end
  for i = 1, #bytes, M.SERIAL_CHUNK do
    local ok, msg, code = port:write(bytes:sub(i, i + M.SERIAL_CHUNK - 1))
    if not ok then return ok, msg, code end
    if i + M.SERIAL_CHUNK <= #bytes then pause(core.now()) end
  end
  return true
end

--- port:write(s): as the Port's (serial ports: in pieces).
function methods:write(s)
  if not M.in_task() then return self._port:write(s) end
  return write_raw(self, s)
end

--- port:write_frame(s): as the Port's (serial ports: in pieces).
function methods:write_frame(s)
  if not M.in_task() or not self._serial then return self._port:write_frame(s) end
  return write_raw(self, core.slip_encode(s))
end

-- A reply to `op`: direction 1 and the same opcode, or the ROM's
-- unsupported-command reply (status 01 05 00 00) with a stale opcode.
local function is_response(f, op)
  if #f < 8 or f:byte(1) ~= 1 then return false end
  if f:byte(2) == op then return true end
  return #f >= 12 and f:sub(-4) == "\1\5\0\0"
end

local MAX_SKIPPED = 100

--- port:command(op, data, checksum, timeout_ms): as the Port's, polling for the reply.
function methods:command(op, data, checksum, timeout_ms)
  local port = self._port
  if not M.in_task() then return port:command(op, data, checksum, timeout_ms) end
  data, checksum, timeout_ms = data or "", checksum or 0, timeout_ms or 3000
  if math.type(op) ~= "integer" or op < 0 or op > 255 then error("bad argument #1 to 'command' (opcode must be 0..255)", 2) end
  if #data > 0xFFFF then error("bad argument #2 to 'command' (command data longer than 65535 bytes)", 2) end
  if core.interrupted() then return interrupted() end
  local ok, msg, code = methods.write_frame(self,
    string.pack("<BBI2I4", 0, op, #data, checksum & 0xFFFFFFFF) .. data)
  if not ok then return nil, msg, code end
  local deadline = deadline_of(timeout_ms)
  for _ = 0, MAX_SKIPPED do
    local frame, fmsg, fcode
    while true do
      frame, fmsg, fcode = port:read_frame(0)
      if frame or fcode ~= "TIMEOUT" then break end
      if core.now() >= deadline then
        return nil, ("TIMEOUT: no response to command 0x%02x within %d ms"):format(op, timeout_ms), "TIMEOUT"
      end
      pause()
    end
    if not frame then return nil, fmsg, fcode end
    if is_response(frame, op) then
      return frame:byte(2), (string.unpack("<I4", frame, 5)), frame:sub(9)
    end
  end
  return nil, ("PROTOCOL: no response to command 0x%02x among %d frames"):format(op, MAX_SKIPPED + 1), "PROTOCOL"
end

--- Installs the cooperative `core.open` / `core.sleep` (nestable).
function M.install()
  if installs == 0 then
    original.open, original.sleep = core.open, core.sleep
    core.open, core.sleep = M.open, M.sleep
  end
  installs = installs + 1
end

--- Undoes one `install()`; the last restores the originals.
function M.uninstall()
  if installs == 0 then return end
  installs = installs - 1
  if installs == 0 then
    core.open, core.sleep = original.open, original.sleep
    original.open, original.sleep = nil, nil
  end
end

--- The original `core.sleep` (blocking), also while installed.
function M.block_sleep(ms)
  return (original.sleep or core.sleep)(ms)
end

return M
