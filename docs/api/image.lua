---@meta espflash.image
-- `espflash.image`: ESP-IDF application images (docs/images.md).

---@class espflash.Image
---@field data string the image bytes
---@field segments {addr: integer, length: integer, offset: integer, kind: string}[]
---@field entry integer
---@field mmu_page_size integer
---@field app_desc table? the app descriptor
---@field min_chip_rev integer major*100+minor
---@field chip espflash.Chip
---@field elf espflash.Elf

---@class espflash.image
local image = {}

---Builds the application image of an ELF, byte for byte as espflash does.
---@param elf string|espflash.Elf a path or a loaded ELF
---@param opts {chip: string|espflash.Chip, bootloader: string, flash_mode?: string, flash_size?: string, flash_freq?: string, min_chip_rev?: integer, mmu_page_size?: integer}
---@return espflash.Image
function image.from_elf(elf, opts) end

---Parses an image's bytes: header, segments, checksum and digest validity,
---app descriptor. Raises `espflash::invalid_image` for data that is not one.
---@param bytes string
---@param opts? {chip?: string|espflash.Chip}
---@return table info {size, header, chip, segments, checksum, digest, app_desc, image_end, extra}
function image.parse(bytes, opts) end

---The chip table for a name or a table (usage error for an unknown name).
---@param chip string|espflash.Chip
---@return espflash.Chip
function image.chip(chip) end

return image
