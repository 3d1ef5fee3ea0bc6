--- Error objects: `{code, message, hint}` with `__tostring`.
--
-- Library code raises these; the CLI prints `espflash: error: <message>` and
-- the hint, and exits with `err.exit` (1, or 2 for usage errors). Codes follow
-- espflash (`espflash::connection_failed`, ...).
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

--- One error as the CLI shows it: the message and, when there is one, the hint.
function M.format(e)
  if M.is(e) then
    if e.hint then return e.message .. "\n  hint: " .. e.hint end
    return e.message
  end
  return tostring(e)
end

return M
