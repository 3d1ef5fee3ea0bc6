---@meta espflash.chips
-- `espflash.chips`: the chip tables (lua/espflash/chips/<chip>.lua, docs/chips.md).

---@class espflash.Chip
---@field name string "esp32c3"
---@field chip_id integer image and security-info chip id
---@field magic integer[] words at 0x40001000
---@field bootloader_offset integer
---@field default_flash_freq string
---@field default_xtal_mhz integer
---@field revision fun(read: fun(addr: integer): integer): integer, integer major, minor from the eFuses
---@field mac fun(read: fun(addr: integer): integer): integer[] six bytes from the eFuses

---@class espflash.chips
local chips = {}

---The chip names in espflash's order (a fresh list).
---@return string[]
function chips.names() end

---The canonical name ("ESP32-C3" → "esp32c3"), or nil.
---@param name string
---@return string?
function chips.canonical(name) end

---The chip table, or nil and a message listing the valid names.
---@param name string
---@return espflash.Chip|nil chip
---@return string? message
function chips.get(name) end

---Every chip table, in espflash's order.
---@return espflash.Chip[]
function chips.all() end

---The chip with this GET_SECURITY_INFO / image chip id, or nil.
---@param id integer
---@return espflash.Chip?
function chips.by_chip_id(id) end

---The first chip whose magic list holds `word`, or nil.
---@param word integer
---@return espflash.Chip?
function chips.by_magic(word) end

return chips
