---@meta espflash.errors
-- `espflash.errors`: the error objects every library function raises.

---@class espflash.Error
---@field code string "espflash::connection_failed", "espflash::timeout", "espflash::rom::flash_write", …
---@field message string one line saying what went wrong (also `tostring(err)`)
---@field hint string? one line saying what to do about it
---@field exit integer the CLI's exit status for it (1; 2 for usage errors; 130 for Ctrl-C)
---@field traceback string? where a Lua error in a workflow happened (espflash.parallel)

---@class espflash.errors
---@field EXIT_INTERRUPTED integer 130
---@field EXIT_USAGE integer 2
local errors = {}

---Creates an error object without raising it.
---@param code string
---@param message string
---@param hint? string
---@return espflash.Error
function errors.new(code, message, hint) end

---Raises an error object.
---@param code string
---@param message string
---@param hint? string
function errors.raise(code, message, hint) end

---Raises a usage error (code "usage", exit status 2).
---@param message string
---@param hint? string
function errors.usage(message, hint) end

---True for an error object made by this module.
---@param e any
---@return boolean
function errors.is(e) end

---Passes values through, or turns a core fail triple (`nil, "CODE: msg",
---"CODE"`) into a raised `espflash::code` error.
---@generic T
---@param value T
---@return T
function errors.check(value, ...) end

---The message and, when there is one, "\n  hint: …".
---@param e any
---@return string
function errors.format(e) end

return errors
