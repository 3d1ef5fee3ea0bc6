---@meta espflash.partitions
-- `espflash.partitions`: partition tables, CSV and binary (docs/images.md).

---@class espflash.Partition
---@field name string
---@field type integer 0 app, 1 data, …
---@field subtype integer
---@field offset integer
---@field size integer
---@field flags integer

---@class espflash.PartitionTable
---@field partitions espflash.Partition[]
---@field format "csv"|"binary"|"lua"|"default"
local Table = {}

---The partition called `name`, or nil.
---@param name string
---@return espflash.Partition?
function Table:find(name) end

---The partitions of a type (number or "app"/"data") and optional subtype.
---@param ty integer|string
---@param subtype? integer
---@return espflash.Partition[]
function Table:find_all(ty, subtype) end

---The app partition to flash: `label`, else "factory", else the first app.
---@param label? string
---@return espflash.Partition
function Table:app_partition(label) end

---Where the table goes: `given`, else the lowest partition offset - 0x1000.
---@param given? integer
---@return integer
function Table:offset(given) end

---Checks that the table fits the flash and leaves the bootloader alone.
---@param opts {flash_size?: integer, flash_size_name?: string, table_offset?: integer, bootloader_offset?: integer, bootloader_size?: integer}
function Table:check_layout(opts) end

---The table as CSV text.
---@return string
function Table:to_csv() end

---The table as the 0xC00-byte binary.
---@return string
function Table:to_binary() end

---@class espflash.partitions
---@field TABLE_SIZE integer 0x1000
---@field MAX_APP_SIZE integer
---@field DEFAULT_FACTORY_CAP integer
---@field types table type and subtype names
local partitions = {}

---Parses CSV text or binary bytes and validates the table.
---@param data string
---@param opts? {first_offset?: integer, validate?: boolean}
---@return espflash.PartitionTable
function partitions.parse(data, opts) end

---Reads and parses a table file.
---@param path string
---@param opts? {first_offset?: integer, validate?: boolean}
---@return espflash.PartitionTable
function partitions.load(path, opts) end

---A table from a list of partitions (validated).
---@param parts espflash.Partition[]
---@return espflash.PartitionTable
function partitions.new(parts) end

---espflash's default table: nvs, phy_init and a factory app filling the flash.
---@param chip espflash.Chip
---@param flash_size? integer bytes
---@return espflash.PartitionTable
function partitions.default(chip, flash_size) end

---Checks the table rules; raises `espflash::partition_table::invalid`.
---@param parts espflash.Partition[]
function partitions.validate(parts) end

---CSV text of a table.
---@param t espflash.PartitionTable
---@return string
function partitions.to_csv(t) end

---The binary of a table.
---@param t espflash.PartitionTable
---@return string
function partitions.to_binary(t) end

return partitions
