---@meta espflash.flash
-- `espflash.flash`: writing an application, or one segment, to a device.

---@class espflash.WriteAppResult
---@field plan table bootloader, table, image, app_partition, segments ({addr, data, name})
---@field info espflash.ChipInfo
---@field written integer bytes actually written
---@field total integer bytes of all segments
---@field segments {addr: integer, name: string, size: integer, written: integer}[]
---@field ram boolean? loaded to RAM (opts.ram)

---@class espflash.flash
---@field COARSE integer block size of the first skip comparison (0x10000)
---@field FINE integer block size of the second (0x1000)
local flash = {}

---Flashes an ELF: checks chip and revision, plans bootloader, partition
---table and app (espflash.image_plan), writes each segment with the
---block-level skip and verifies it.
---@param dev espflash.Device
---@param elf string|espflash.Elf
---@param opts? {info?: espflash.ChipInfo, log?: fun(level: string, msg: string), on_plan?: fun(plan: table), progress?: fun(step: string): espflash.Progress, no_skip?: boolean, no_verify?: boolean, ram?: boolean, force?: boolean, erase_parts?: string[], erase_data_parts?: string[], bootloader?: string, partition_table?: string, flash_size?: string, flash_mode?: string, flash_freq?: string}
---@return espflash.WriteAppResult
function flash.write_app(dev, elf, opts) end

---Writes `data` at `addr`, rewriting only the 4 KiB blocks whose MD5
---differs; returns the bytes written.
---@param dev espflash.Device
---@param addr integer
---@param data string
---@param opts? {skip?: boolean, verify?: boolean, compress?: boolean, progress?: espflash.Progress, on_skip?: fun(), secure_download?: boolean}
---@return integer
function flash.write_segment(dev, addr, data, opts) end

---Loads a RAM-only ELF into RAM and starts it.
---@param dev espflash.Device
---@param elf espflash.Elf
---@param chip espflash.Chip
function flash.load_ram(dev, elf, chip) end

return flash
