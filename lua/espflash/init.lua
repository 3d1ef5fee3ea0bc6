--- The espflash library: `local espflash = require "espflash"`.
---
--- Works the same inside the espflash binary (`espflash run`, the REPL,
--- subcommand scripts) and in any Lua 5.4 program once the library is
--- installed (`cmake --install`). The stable API is documented in
--- docs/scripting.md and, for editors, in docs/api/*.lua:
---
--- * `espflash.connect{port = …}` → a device (espflash.connect, docs/device-api.md)
--- * `espflash.list_ports()`, `espflash.ports(spec)`: serial ports, `--port` values
--- * `espflash.each_device(ports, fn, opts)`: a workflow on many devices at once
--- * `espflash.image`, `.partitions`, `.flash`, `.nvs`, `.sim`, `.chips`,
---   `.errors`, `.elf`, `.core`, `.parallel`, `.portspec`, `.provision`: the modules
--- * `espflash.version`
---
--- Any other `espflash.<name>` is the module `espflash.<name>`, loaded on
--- first use (nil when there is no such module).
local M = {}

--- The library's version (the espflash binary's, when running inside it).
M.VERSION = "0.1.0"

--- The names of the stable API: functions of this table and modules.
M.API = {
  functions = { "list_ports", "ports", "each_device" },
  modules = { "connect", "core", "errors", "chips", "image", "partitions", "flash", "nvs",
              "sim", "elf", "parallel", "portspec", "provision" },
}

--- Every serial port the system has, sorted by name: core.list_ports()
--- entries `{name, type, vid, pid, manufacturer, product, serial}` plus
--- `known` (a known development-board USB bridge). `opts.known = true`
--- keeps only those. Raises `espflash::serial_error` when listing fails.
function M.list_ports(opts)
  opts = opts or {}
  local core, errors = require("espflash.core"), require("espflash.errors")
  local ports, msg = core.list_ports()
  if not ports then errors.raise("espflash::serial_error", "Could not list serial ports: " .. tostring(msg)) end
  local session = require("espflash.session")
  local portspec = require("espflash.portspec")
  local out = {}
  for _, p in ipairs(ports) do
    p.known = session.is_known(p)
    if p.known or not opts.known then out[#out + 1] = p end
  end
  table.sort(out, function(a, b) return portspec.natural_less(a.name, b.name) end)
  return out
end

--- The ports a `--port` value names: `"a,b"`, a glob (`"/dev/ttyUSB*"`),
--- `"all"` (known boards); URLs pass through. See espflash.portspec.
function M.ports(spec, opts)
  return require("espflash.portspec").expand(spec, opts)
end

--- Runs `fn(dev, i, job)` on every port at once; returns the per-device
--- results. See espflash.parallel.each_device and docs/scripting.md.
function M.each_device(ports, fn, opts)
  return require("espflash.parallel").each_device(ports, fn, opts)
end

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
      local v = ok and type(host) == "table" and host.version or M.VERSION
      rawset(t, key, v)
      return v
    end
    local mod = load(key)
    if mod ~= nil then rawset(t, key, mod) end
    return mod
  end,
})

return M
