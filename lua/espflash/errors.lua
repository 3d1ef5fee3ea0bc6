--- Error objects: `{code, message, hint}` with `__tostring`.
--
-- Library code raises these; the CLI prints
--     espflash: error: <message> [<code>]
--       hint: <what to do>
-- and exits with `err.exit` (1, or 2 for usage errors). Codes follow
-- espflash (`espflash::connection_failed`, ...); docs/errors.md lists them.
-- `explain(e)` turns the serial-port failures users meet most (permission
-- denied, port busy, device gone) into errors of their own with the fix.
local M = {}

local Error = {}
Error.__index = Error
Error.__name = "espflash.error"
Error.__tostring = function(e) return e.message end

--- Exit code of an interrupted run (128 + SIGINT).
M.EXIT_INTERRUPTED = 130
--- Exit code of a usage error.
M.EXIT_USAGE = 2

--- Creates an error object without raising it.
-- @param code string, e.g. "espflash::connection_failed"
-- @param message one line saying what went wrong
-- @param hint optional line saying what to do about it
function M.new(code, message, hint)
  return setmetatable({ code = code, message = tostring(message), hint = hint, exit = 1 }, Error)
end

--- Raises an error object.
function M.raise(code, message, hint)
  error(M.new(code, message, hint), 0)
end

--- Raises a usage error (exit 2): bad arguments on the command line.
function M.usage(message, hint)
  local e = M.new("usage", message, hint)
  e.exit = M.EXIT_USAGE
  error(e, 0)
end

--- True when `e` is an error object made by this module.
function M.is(e)
  return getmetatable(e) == Error
end

--- Turns a core fail triple into a raised error, or passes the values through.
-- `local port = errors.check(core.open(url))`: on `nil, "CODE: message", "CODE"`
-- raises an error with code `espflash::<code in lower case>`.
function M.check(value, ...)
  if value ~= nil then return value, ... end
  local message, code = ...
  code = code or "ERROR"
  message = tostring(message or code):gsub("^" .. code .. ": ", "")
  M.raise("espflash::" .. code:lower(), message)
end

--- Reads the whole file at `path`, or raises `espflash::file_open` with
--- "Failed to open <what> <path>: <reason>" (also for a directory or a read
--- error, which io.open alone does not catch) and `hint`.
function M.read_file(path, what, hint)
  local f, msg = io.open(path, "rb")
  local data
  if f then
    data, msg = f:read("a")
    f:close()
    if data then return data end
    msg = path .. ": " .. tostring(msg)
  end
  M.raise("espflash::file_open", ("Failed to open %s %s"):format(what, tostring(msg)), hint)
end

--- The code as the CLI shows it (`espflash::…`), or nil for usage errors,
--- plain Lua errors and codes outside espflash's namespace.
function M.shown_code(e)
  if M.is(e) and type(e.code) == "string" and e.code:match("^espflash::") then return e.code end
  return nil
end

--- One error as the CLI shows it: the message with its code and, when
--- there is one, the hint on a second line.
function M.format(e)
  if M.is(e) then
    local code = M.shown_code(e)
    local line = code and ("%s [%s]"):format(e.message, code) or e.message
    if e.hint then return line .. "\n  hint: " .. e.hint end
    return line
  end
  return tostring(e)
end

-- Serial-port diagnosis -------------------------------------------------------

local function read_all(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function default_listdir(dir)
  local ok, host = pcall(require, "espflash.host")
  if ok and type(host) == "table" and host.listdir then return host.listdir(dir) end
  local p = io.popen("ls -1A '" .. dir:gsub("'", "'\\''") .. "' 2>/dev/null")
  if not p then return nil end
  local names = {}
  for line in p:lines() do names[#names + 1] = line end
  p:close()
  return names
end

--- The processes that have `path` open, as `{{pid =, name =}, ...}`, found
--- by reading /proc/*/fd (Linux; processes of other users are only seen by
--- root). Leaves out this process. `opts`: `listdir(dir)`, `proc` (the
--- /proc directory), `realpath` (default core.realpath), `self_pid`.
function M.port_holders(path, opts)
  opts = opts or {}
  local proc = opts.proc or "/proc"
  local realpath = opts.realpath
  if not realpath then
    local ok, core = pcall(require, "espflash.core")
    realpath = ok and core.realpath or nil
  end
  if not realpath then return {} end
  local target = realpath(path) or path
  local self_pid = opts.self_pid
  if not self_pid then
    local me = realpath(proc .. "/self")
    self_pid = me and tonumber(me:match("(%d+)$"))
  end
  local listdir = opts.listdir or default_listdir
  local found = {}
  for _, name in ipairs(listdir(proc) or {}) do
    local pid = tonumber(name:match("^%d+$"))
    if pid and pid ~= self_pid then
      for _, fd in ipairs(listdir(("%s/%d/fd"):format(proc, pid)) or {}) do
        if realpath(("%s/%d/fd/%s"):format(proc, pid, fd)) == target then
          local comm = read_all(("%s/%d/comm"):format(proc, pid))
          found[#found + 1] = { pid = pid, name = comm and comm:gsub("%s+$", "") or "?" }
          break
        end
      end
    end
  end
  table.sort(found, function(a, b) return a.pid < b.pid end)
  return found
end

--- "minicom (pid 812), screen (pid 901)" for port_holders' list.
function M.describe_holders(list)
  local parts = {}
  for i, h in ipairs(list) do parts[i] = ("%s (pid %d)"):format(h.name, h.pid) end
  return table.concat(parts, ", ")
end

-- Group facts for the permission hint: the port's group, whether this user
-- is listed in it in /etc/group, and whether this process already has it.
local function group_facts(path, opts)
  local gid, mode = opts.port_gid, opts.port_mode
  if gid == nil then
    local p = io.popen("stat -L -c '%g %a' -- '" .. path:gsub("'", "'\\''") .. "' 2>/dev/null")
    local line = p and p:read("l") or ""
    if p then p:close() end
    gid, mode = tonumber(line:match("^(%d+)")), tonumber(line:match(" (%d+)$") or "", 8)
  end
  if not gid then return nil end
  local facts = { gid = gid, name = tostring(gid), group_rw = mode == nil or mode & 0x30 == 0x30 }
  local user = opts.user or os.getenv("USER") or os.getenv("LOGNAME")
  for line in (read_all(opts.group_file or "/etc/group") or ""):gmatch("[^\n]+") do
    local name, g, members = line:match("^([^:]*):[^:]*:(%d+):(.*)$")
    if name and tonumber(g) == gid then
      facts.name = name
      for m in members:gmatch("[^,%s]+") do facts.listed = facts.listed or m == user end
    end
  end
  local status = opts.status or read_all("/proc/self/status") or ""
  for g in (("\n" .. status):match("\nGroups:([^\n]*)") or ""):gmatch("%d+") do
    facts.active = facts.active or tonumber(g) == gid
  end
  return facts
end

-- Where the udev rules file is: the installed documentation, else the
-- source tree the binary runs from, else its place in the sources.
local function rules_file()
  local ok, host = pcall(require, "espflash.host")
  host = ok and type(host) == "table" and host or {}
  local candidates = {}
  if host.datadir then candidates[1] = host.datadir:gsub("/espflash$", "/doc/espflash") .. "/70-espflash.rules" end
  if host.lua_dir then candidates[#candidates + 1] = host.lua_dir .. "/docs/70-espflash.rules" end
  for _, path in ipairs(candidates) do
    if read_all(path) then return path end
  end
  return "docs/70-espflash.rules"  -- its place in the espflash sources
end

--- The hint for a port this user may not open (Linux).
function M.permission_hint(path, opts)
  opts = opts or {}
  local rules = opts.rules or rules_file()
  local udev = ("or install the udev rule: sudo cp %s /etc/udev/rules.d/ && sudo udevadm control "
    .. "--reload-rules && sudo udevadm trigger, then replug the board"):format(rules)
  local g = group_facts(path, opts)
  if g and g.listed and not g.active then
    return ("You are in the '%s' group that owns %s, but this login session started before you were "
      .. "added: log out and back in (or run `newgrp %s`)"):format(g.name, path, g.name)
  end
  if g and not g.group_rw then
    return ("Only the owner of %s may open it (its group has no access): %s"):format(path, udev:gsub("^or ", ""))
  end
  local group = g and g.name or "dialout"
  return ("%s belongs to the group '%s': add yourself with `sudo usermod -aG %s $USER`, then log out "
    .. "and back in; %s"):format(path, group, group, udev)
end

-- The port named in a core message ("... opening /dev/ttyUSB0: ...").
local function port_in(msg, pattern)
  return msg:match(pattern)
end

--- Recognises the serial-port failures users meet most in an error object
--- (from espflash.connect or the loader) and returns a clearer one with the
--- fix: `espflash::serial_permission_denied` (the group and the udev rule),
--- `espflash::serial_port_busy` (which process holds the port),
--- `espflash::serial_disconnected` (the device went away). Other errors are
--- returned unchanged, except that `e.port` held by other processes adds
--- their names to the hint. `opts` go to port_holders and permission_hint.
function M.explain(e, opts)
  if not M.is(e) then return e end
  if e.explained then return e.explained end
  e.explained = e
  opts = opts or {}
  local msg = e.message
  local kind = e.port_code
  local path = port_in(msg, "permission denied opening (.-): ")
  if kind == "PORT_PERMISSION" or path then
    path = path or e.port or "the serial port"
    local out = M.new("espflash::serial_permission_denied",
      ("Permission denied opening the serial port %s"):format(path), M.permission_hint(path, opts))
    out.cause, out.explained, e.explained = e, out, out
    return out
  end
  path = port_in(msg, ".*serial port (.-) is busy")
  if kind == "PORT_BUSY" or path then
    path = path or e.port or "the serial port"
    local holders = M.port_holders(path, opts)
    local out = M.new("espflash::serial_port_busy", ("The serial port %s is busy"):format(path),
      #holders > 0 and ("It is open in %s: close %s (a serial monitor?) and try again")
        :format(M.describe_holders(holders), #holders > 1 and "them" or "it")
        or "Another program has it open (a serial monitor?): close it and try again")
    out.cause, out.explained, e.explained = e, out, out
    return out
  end
  if kind == "PORT_GONE" or msg:find("device disconnected?", 1, true) or msg:find("the device hung up", 1, true)
      or msg:find("closed the connection", 1, true) then
    local out = M.new("espflash::serial_disconnected",
      ("The device went away during the operation (%s)"):format(msg:gsub("^IO error while using serial port: ", "")),
      "Check the USB cable and the board's power, then run the command again; a board that resets into "
        .. "another USB mode needs --before/--after settings that keep it in the loader")
    out.cause, out.explained, e.explained = e, out, out
    return out
  end
  if e.port and (e.code == "espflash::connection_failed" or e.code == "espflash::timeout"
      or e.code == "espflash::no_sync_reply") and not e.port:find("://", 1, true) then
    local holders = M.port_holders(e.port, opts)
    if #holders > 0 then
      e.hint = (e.hint and e.hint .. ". " or "") .. ("%s is also open in %s: close %s and try again")
        :format(e.port, M.describe_holders(holders), #holders > 1 and "them" or "it")
    end
  end
  return e
end

return M
