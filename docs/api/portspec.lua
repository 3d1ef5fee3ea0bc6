---@meta espflash.portspec
-- `espflash.portspec`: what a `--port` value names.

---@class espflash.portspec.Options
---@field list_ports? fun(): espflash.PortInfo[] default core.list_ports
---@field listdir? fun(dir: string): string[]? default portspec.listdir

---@class espflash.portspec
local portspec = {}

---Expands a `--port` value: comma-separated entries; each a URL (passed
---through), `all` (known boards), a glob (matching paths, natural order) or
---a path. Each port once. Raises a usage error for an empty value or a glob
---matching nothing, `espflash::no_serial` when `all` finds no board.
---@param spec string|string[]
---@param opts? espflash.portspec.Options
---@return string[]
function portspec.expand(spec, opts) end

---The entries of a `--port` value, trimmed, empty ones dropped.
---@param spec string
---@return string[]
function portspec.split(spec) end

---True for `scheme://…`.
---@param entry string
---@return boolean
function portspec.is_url(entry) end

---True for a path with `*`, `?` or `[`.
---@param entry string
---@return boolean
function portspec.is_glob(entry) end

---True when the value may name several ports (a list, a glob, `all`).
---@param spec string
---@return boolean
function portspec.is_multi(spec) end

---The Lua pattern for a shell glob (`*`, `?`, `[a-z]`, `[!x]`).
---@param glob string
---@return string
function portspec.glob_pattern(glob) end

---The paths matching a glob in its last component, in natural order.
---@param glob string
---@param listdir? fun(dir: string): string[]?
---@return string[]
function portspec.glob(glob, listdir) end

---The names in a directory, sorted; nil and a message when it cannot be read.
---@param dir string
---@return string[]|nil names
---@return string? message
function portspec.listdir(dir) end

---The known development boards among `ports`, by name in natural order.
---@param ports espflash.PortInfo[]
---@return string[]
function portspec.known_boards(ports) end

---Natural order: "ttyUSB2" before "ttyUSB10".
---@param a string
---@param b string
---@return boolean
function portspec.natural_less(a, b) end

return portspec
