--- Small helpers the specs share: run a shell command, read and write
--- files, make temporary directories, find the test resources the
--- environment names.
local errors = require("espflash.errors")

local M = {}

--- The standard output of `cmd`, run by the shell.
function M.shell(cmd)
  local f = assert(io.popen(cmd))
  local out = f:read("a")
  f:close()
  return out
end

--- The contents of `path`, or nil when it cannot be read.
function M.read_file(path)
  local ok, s = pcall(errors.read_file, path, "file")
  return ok and s or nil
end

--- The contents of `path`; raises when it cannot be read.
function M.read(path)
  local s = M.read_file(path)
  if s == nil then error("cannot read " .. path, 2) end
  return s
end

--- Writes `data` to `path`, replacing what was there; raises on failure.
function M.write(path, data)
  local f = assert(io.open(path, "wb"))
  assert(f:write(data))
  f:close()
end

--- True when `path` can be opened for reading.
function M.exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

--- A new empty directory from `mktemp -d [template]`.
function M.tmpdir(template)
  return (M.shell("mktemp -d " .. (template or "")):gsub("%s+$", ""))
end

--- A file-like sink: `write(...)` keeps what it is given (as strings),
--- `flush()` does nothing, `text()` returns everything written.
function M.sink()
  local buf = {}
  return { write = function(self, ...) for _, s in ipairs({ ... }) do buf[#buf + 1] = tostring(s) end return self end,
           flush = function() end, text = function() return table.concat(buf) end }
end

--- The directory environment variable `var` names when it holds `file`;
--- else nil and a line saying so (for `pending`), `hint` in brackets.
function M.env_dir(var, file, hint)
  local dir = os.getenv(var)
  if dir and dir ~= "" and M.exists(dir .. "/" .. file) then return dir end
  return nil, ("%s is not set or has no %s%s"):format(var, file, hint and " (" .. hint .. ")" or "")
end

return M
