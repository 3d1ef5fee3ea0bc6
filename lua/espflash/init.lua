--- The espflash library, for `espflash run` workflows and the REPL.
--
-- `local espflash = require "espflash"`; then `espflash.<name>` is the module
-- `espflash.<name>` (loaded on first use), e.g. `espflash.core`,
-- `espflash.errors`, `espflash.ui`. `espflash.version` is the tool's version.
local M = {}

local function load(name)
  local modname = "espflash." .. name
  local ok, mod = pcall(require, modname)
  if ok then return mod end
  -- only "this module does not exist" means nil; other failures propagate
  if type(mod) == "string" and mod:find("module '" .. modname .. "' not found", 1, true) then
    return nil
  end
  error(mod, 2)
end

setmetatable(M, {
  __index = function(t, key)
    if type(key) ~= "string" or not key:match("^[%a_][%w_]*$") then return nil end
    if key == "version" then
      local ok, host = pcall(require, "espflash.host")
      local v = ok and host.version or nil
      rawset(t, key, v)
      return v
    end
    local mod = load(key)
    if mod ~= nil then rawset(t, key, mod) end
    return mod
  end,
})

return M
