--- `--port` values naming several ports: `a,b,c` (comma-separated), a glob
--- in the last path component (`/dev/ttyUSB*`, `/dev/serial/by-id/usb-*`),
--- and `all` (every known development board that core.list_ports() finds).
--- `sim://…`, `socket://…` and other URLs pass through unchanged.
---
---     portspec.expand("/dev/ttyUSB*,sim://esp32c3")
---       --> { "/dev/ttyUSB0", "/dev/ttyUSB1", "sim://esp32c3" }
local errors = require("espflash.errors")

local M = {}

local GLOB_CHARS = "[%*%?%[]"

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

--- The entries of a `--port` value, trimmed, empty ones dropped.
function M.split(spec)
  local out = {}
  for item in (spec .. ","):gmatch("([^,]*),") do
    item = trim(item)
    if item ~= "" then out[#out + 1] = item end
  end
  return out
end

--- True when `entry` is a URL (`scheme://…`): passed through as it is.
function M.is_url(entry)
  return entry:match("^%a[%w+.-]*://") ~= nil
end

--- True when `entry` (not a URL) has glob characters (`*`, `?`, `[`).
function M.is_glob(entry)
  return not M.is_url(entry) and entry:find(GLOB_CHARS) ~= nil
end

--- True when `spec` may name more than one port (a list, a glob or `all`).
function M.is_multi(spec)
  if type(spec) ~= "string" then return false end
  local entries = M.split(spec)
  if #entries ~= 1 then return #entries > 1 end
  return entries[1]:lower() == "all" or M.is_glob(entries[1])
end

--- The Lua pattern matching the same names as the shell glob `glob`
--- (`*`, `?`, `[abc]`, `[a-z]`, `[!x]`; no `/`).
function M.glob_pattern(glob)
  local out, i = { "^" }, 1
  while i <= #glob do
    local c = glob:sub(i, i)
    if c == "*" then
      out[#out + 1] = "[^/]*"
    elseif c == "?" then
      out[#out + 1] = "[^/]"
    elseif c == "[" then
      local close = glob:find("]", i + 2, true)
      if not close then
        errors.usage(("unclosed '[' in the port pattern '%s'"):format(glob), "Write a class as [0-9]")
      end
      local body = glob:sub(i + 1, close - 1)
      local negate = body:match("^[!^]") ~= nil
      if negate then body = body:sub(2) end
      body = body:gsub("[%%%]%^]", "%%%0")
      out[#out + 1] = "[" .. (negate and "^" or "") .. body .. "]"
      i = close
    else
      out[#out + 1] = c:gsub("%W", "%%%0")
    end
    i = i + 1
  end
  out[#out + 1] = "$"
  return table.concat(out)
end

--- Compares names so that numbered ports sort by number: ttyUSB2 < ttyUSB10.
function M.natural_less(a, b)
  local function key(s)
    return (s:gsub("%d+", function(d) return ("%012d"):format(tonumber(d)) end))
  end
  local ka, kb = key(a), key(b)
  if ka ~= kb then return ka < kb end
  return a < b
end

local function shell_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

--- The names in directory `dir` (sorted), or nil and a message. Uses the
--- espflash binary's host.listdir when there is one, else `ls`.
function M.listdir(dir)
  local ok, host = pcall(require, "espflash.host")
  if ok and type(host) == "table" and host.listdir then return host.listdir(dir) end
  local p = io.popen("ls -1A -- " .. shell_quote(dir) .. " 2>/dev/null")
  if not p then return nil, dir .. ": cannot list" end
  local names = {}
  for line in p:lines() do names[#names + 1] = line end
  local fine = p:close()
  if not fine and #names == 0 then return nil, dir .. ": cannot list" end
  table.sort(names)
  return names
end

--- The paths matching `glob` (a path whose last component has glob
--- characters), in natural order. `listdir(dir)` defaults to M.listdir.
function M.glob(glob, listdir)
  local dir, base = glob:match("^(.*)/([^/]*)$")
  if not dir then dir, base = ".", glob end
  if dir:find(GLOB_CHARS) then
    errors.usage(("the port pattern '%s' has glob characters before its last '/'"):format(glob),
      "Only the last path component may be a pattern, e.g. /dev/ttyUSB*")
  end
  local pattern = M.glob_pattern(base)
  local names = (listdir or M.listdir)(dir == "" and "/" or dir) or {}
  local out = {}
  for _, name in ipairs(names) do
    if name:match(pattern) and not (name:sub(1, 1) == "." and base:sub(1, 1) ~= ".") then
      out[#out + 1] = (glob:match("^.*/") or "") .. name
    end
  end
  table.sort(out, M.natural_less)
  return out
end

--- The known development boards (espflash.session's list of USB bridges)
--- among `ports` (core.list_ports() entries), in natural order of name.
function M.known_boards(ports)
  local session = require("espflash.session")
  local out = {}
  for _, p in ipairs(ports) do
    if session.is_known(p) then out[#out + 1] = p.name end
  end
  table.sort(out, M.natural_less)
  return out
end

--- Expands a `--port` value into the list of ports it names, in the order
--- given, each once. Options (for tests and embedding): `list_ports()`
--- (default core.list_ports) and `listdir(dir)` (default M.listdir).
--- Raises a usage error for an empty value or a glob matching nothing, and
--- `espflash::no_serial` when `all` finds no known board.
function M.expand(spec, opts)
  opts = opts or {}
  if type(spec) == "table" then return spec end
  if type(spec) ~= "string" or trim(spec) == "" then
    errors.usage("no port given", "Name a port (--port /dev/ttyUSB0), several (a,b), a glob (/dev/ttyUSB*) or all")
  end
  local out, seen = {}, {}
  local function add(p)
    if not seen[p] then seen[p] = true; out[#out + 1] = p end
  end
  local entries = M.split(spec)
  if #entries == 0 then
    errors.usage(("no port in '%s'"):format(spec), "Separate ports with commas: /dev/ttyUSB0,/dev/ttyUSB1")
  end
  for _, e in ipairs(entries) do
    if M.is_url(e) then
      add(e)
    elseif e:lower() == "all" then
      local list_ports = opts.list_ports or function()
        local core = require("espflash.core")
        return core.list_ports()
      end
      local ports, msg = list_ports()
      if not ports then
        errors.raise("espflash::serial_error", "Could not list serial ports: " .. tostring(msg))
      end
      local boards = M.known_boards(ports)
      if #boards == 0 then
        errors.raise("espflash::no_serial", "--port all found no known development board",
          "Connect a board, or name the ports: --port /dev/ttyUSB0,/dev/ttyUSB1 or --port '/dev/ttyUSB*'")
      end
      for _, p in ipairs(boards) do add(p) end
    elseif M.is_glob(e) then
      local matches = M.glob(e, opts.listdir)
      if #matches == 0 then
        errors.usage(("no port matches '%s'"):format(e),
          "Check that the boards are connected (espflash list-ports --list-all-ports shows what is there)")
      end
      for _, p in ipairs(matches) do add(p) end
    else
      add(e)
    end
  end
  return out
end

return M
