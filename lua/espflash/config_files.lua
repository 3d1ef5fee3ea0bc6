--- Where espflash's configuration files are and how they are read and
--- written, for espflash.config: the search in ./, ../ and the user
--- configuration directory, reading with a clear error, writing (making the
--- directory when asked), and moving espflash 3's serial port settings out
--- of espflash.toml.
local toml = require("espflash.toml")
local errors = require("espflash.errors")

local M = {}

M.PROJECT_FILE = "espflash.toml"
M.PORTS_FILE = "espflash_ports.toml"

--- The directory part of `path`: "." when it has none, "/" for the root.
function M.dirname(path)
  local dir = path:match("^(.*)/[^/]*$")
  if dir == "" then return "/" end
  return dir or "."
end

--- `rel` taken relative to directory `dir` (an absolute `rel` unchanged).
function M.join(dir, rel)
  if rel:sub(1, 1) == "/" then return rel end
  if dir == "/" then return "/" .. rel end
  return dir .. "/" .. rel
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

--- The user configuration directory: $XDG_CONFIG_HOME/espflash (absolute
--- values only, as the XDG spec says), else ~/.config/espflash; nil when
--- neither variable helps.
function M.user_dir(getenv)
  getenv = getenv or os.getenv
  local xdg = getenv("XDG_CONFIG_HOME")
  if xdg and xdg:sub(1, 1) == "/" then return M.join(xdg, "espflash") end
  local home = getenv("HOME")
  if home and home ~= "" then return M.join(home, ".config/espflash") end
  return nil
end

--- The current directory, absolute and without symbolic links.
function M.cwd()
  local ok, core = pcall(require, "espflash.core")
  local dir = ok and core.realpath and core.realpath(".")
  return dir or os.getenv("PWD") or "."
end

--- Where `name` is looked for, in order: ./, ../, the user directory.
-- @param opts `cwd`, `getenv`
function M.search_paths(name, opts)
  opts = opts or {}
  local cwd = opts.cwd or M.cwd()
  local list, seen = {}, {}
  local function add(dir)
    if dir and not seen[dir] then
      seen[dir] = true
      list[#list + 1] = M.join(dir, name)
    end
  end
  add(cwd)
  add(M.dirname(cwd))
  add(M.user_dir(opts.getenv))
  return list
end

--- The first existing file of `search_paths(name, opts)`, or nil.
function M.locate(name, opts)
  for _, path in ipairs(M.search_paths(name, opts)) do
    if exists(path) then return path end
  end
  return nil
end

--- The text of `path`; raises espflash::config::read when it cannot be read.
function M.read(path)
  local f, msg = io.open(path, "rb")
  if not f then errors.raise("espflash::config::read", "Cannot read " .. tostring(msg)) end
  local text, rerr = f:read("a")
  f:close()
  if not text then errors.raise("espflash::config::read", ("Cannot read %s: %s"):format(path, tostring(rerr))) end
  return text
end

--- Writes `text` to `path`; when that fails and `mkdirs(dir)` is given, makes
--- the directory and tries again. Returns true, or nil and a message.
function M.write(path, text, mkdirs)
  local f = io.open(path, "wb")
  if not f and mkdirs then
    mkdirs(M.dirname(path))
    f = io.open(path, "wb")
  end
  if not f then
    local _, msg = io.open(path, "wb")
    return nil, msg
  end
  local ok, msg = f:write(text)
  f:close()
  if not ok then return nil, msg end
  return true
end

--- espflash.host's `mkdirs` (in the binary), or nil.
function M.host_mkdirs()
  local ok, host = pcall(require, "espflash.host")
  return ok and host.mkdirs or nil
end

--- espflash 3 kept [connection] and [[usb_device]] in espflash.toml: moves
--- them (from `doc`, parsed with toml's `meta`) to espflash_ports.toml next
--- to it, removing their lines (comments elsewhere in the file stay), and
--- says so through `warn`. Returns the ports file written, or nil.
function M.migrate(project_path, doc, meta, warn)
  local ports = { connection = doc.connection, usb_device = doc.usb_device }
  local target = M.join(M.dirname(project_path), M.PORTS_FILE)
  local drop, headers = {}, meta.headers
  local lines = {}
  for line in (M.read(project_path) .. "\n"):gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
  for i, h in ipairs(headers) do
    if h.name == "connection" or h.name == "usb_device" then
      local last = headers[i + 1] and headers[i + 1].line - 1 or #lines
      -- comments just above the next header belong to it
      while headers[i + 1] and last > h.line and lines[last]:match("^%s*#") do last = last - 1 end
      drop[#drop + 1] = { h.line, last }
    end
  end
  local kept = {}
  for n, line in ipairs(lines) do
    local dropped = false
    for _, r in ipairs(drop) do dropped = dropped or (n >= r[1] and n <= r[2]) end
    if not dropped then kept[#kept + 1] = line end
  end
  while kept[#kept] == "" do kept[#kept] = nil end
  local ok, msg = M.write(target, toml.encode(ports, { "connection", "usb_device" }))
  if ok then ok, msg = M.write(project_path, #kept > 0 and table.concat(kept, "\n") .. "\n" or "") end
  if not ok then
    warn(("Could not move the serial port settings out of %s: %s"):format(project_path, tostring(msg)))
    return nil
  end
  warn(("Moved [connection] and [[usb_device]] from %s to %s (the espflash 4 layout)"):format(project_path, target))
  return target
end

return M
