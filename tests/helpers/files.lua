--- Small helpers the specs share: run a shell command, read a file.
local M = {}

--- The standard output of `cmd`, run by the shell.
function M.shell(cmd)
  local f = assert(io.popen(cmd))
  local out = f:read("a")
  f:close()
  return out
end

--- The contents of `path`, or nil when it cannot be opened.
function M.read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

return M
