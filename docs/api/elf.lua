---@meta espflash.elf
-- `espflash.elf`: ELF files on top of `core.elf_read`.

---@class espflash.Elf
---@field path string
---@field class integer 32 or 64
---@field machine integer
---@field entry integer
---@field sections table[]
---@field symbols table[]
local Elf = {}

---The first section called `name`, or nil.
---@param name string
---@return table?
function Elf:section(name) end

---The first symbol called `name`, or nil.
---@param name string
---@return table?
function Elf:symbol(name) end

---"RISC-V", "Xtensa" or "machine N".
---@return string
function Elf:arch() end

---The sections with loadable bytes: `{addr, data, name}`.
---@return {addr: integer, data: string, name: string}[]
function Elf:loadable_sections() end

---The `.espressif.metadata` values: `{chip_name, log_format, min_chip_revision, values}`.
---@return table
function Elf:metadata() end

---The parsed app descriptor, or nil.
---@return table?
function Elf:app_descriptor() end

---@class espflash.elf
---@field MACHINES table<integer, string>
local elf = {}

---Reads and parses an ELF file; raises `espflash::invalid_elf` or `espflash::file_open`.
---@param path string
---@param opts? {symbols?: boolean}
---@return espflash.Elf
function elf.load(path, opts) end

return elf
