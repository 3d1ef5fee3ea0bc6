--- Partition tables: CSV and binary both ways, the rules esp-idf-part checks
--- (and a few it misses), lookups, the default table, and the checks that a
--- table fits the flash next to the bootloader. A table is `{partitions =
--- {{name, type, subtype, offset, size, flags}...}, format = "csv"|"binary"}`
--- with methods `find`, `to_csv`, `to_binary`.
local errors = require("espflash.errors")
local types = require("espflash.partitions_types")
local csv = require("espflash.partitions_csv")
local bin = require("espflash.partitions_bin")

local M = {}

M.TABLE_SIZE = 0x1000              -- flash space reserved for the table
M.MAX_APP_SIZE = 16 * 1024 * 1024
M.DEFAULT_FACTORY_CAP = 16 * 1000 * 1024   -- espflash's cap (not 16 MiB)
M.types = types

local Table = {}
Table.__index = Table

local function invalid(msg, hint)
  errors.raise("espflash::partition_table::invalid", "Failed to parse partition table: " .. msg,
    hint or "Fix the partition table; see `espflash partition-table FILE`")
end

local APP, DATA = types.TYPES.app, types.TYPES.data

--- Checks the table rules; raises `espflash::partition_table::invalid` with
--- esp-idf-part's message for the first one broken.
function M.validate(parts)
  local factory, otadata, has_app = 0, 0, false
  for _, p in ipairs(parts) do
    if p.type == APP then has_app = true end
    if p.type == APP and p.subtype == 0x00 then factory = factory + 1 end
    if p.type == DATA and p.subtype == 0x00 then otadata = otadata + 1 end
  end
  if not has_app then invalid("No partition of type 'app' was found in the partition table") end
  if factory > 1 then invalid("Multiple partitions with type 'app' and subtype 'factory' were found") end
  if otadata > 1 then invalid("Multiple partitions with type 'data' and subtype 'ota' were found") end
  for _, p in ipairs(parts) do
    local align = p.type == APP and 0x10000 or (p.type <= 0x03 and 0x1000 or nil)
    if align and p.offset % align ~= 0 then
      invalid(("The partition is not correctly aligned: '%s' at 0x%x must be aligned to 0x%x")
        :format(p.name, p.offset, align))
    end
    if p.type == APP and p.size > M.MAX_APP_SIZE then
      invalid(("Partition larger than maximum supported size of 16MB: '%s'"):format(p.name))
    end
    if p.type == DATA and p.subtype == 0x00 and p.size ~= 0x2000 then
      invalid("Partition with type 'data' and subtype 'ota' must have size of 0x2000 (8k) bytes")
    end
    if p.size == 0 then invalid(("Partition '%s' has size 0"):format(p.name)) end
    if p.offset + p.size > 0x100000000 then
      invalid(("Partition '%s' ends past 4 GiB (0x%x + 0x%x)"):format(p.name, p.offset, p.size))
    end
  end
  for i, a in ipairs(parts) do
    for j = i + 1, #parts do
      local b = parts[j]
      if a.name == b.name then
        invalid(("Two or more partitions with the same name ('%s') were found"):format(a.name))
      end
      if math.max(a.offset, b.offset) < math.min(a.offset + a.size, b.offset + b.size) then
        invalid(("Two partitions are overlapping each other: '%s' and '%s'"):format(a.name, b.name))
      end
    end
  end
end

local function new(parts, format)
  return setmetatable({ partitions = parts, format = format }, Table)
end

--- Parses a table from CSV text or binary bytes (binary when it starts with
--- `AA 50` or the MD5 entry) and validates it. `opts.first_offset` is where
--- CSV auto offsets start (default 0x9000); `opts.validate = false` skips
--- the rules (for showing a broken table).
function M.parse(data, opts)
  opts = opts or {}
  local parts, format
  if bin.detect(data) then
    parts, format = bin.parse(data), "binary"
  else
    if not utf8.len(data) then invalid("the file is neither a binary table nor UTF-8 CSV text") end
    parts, format = csv.parse(data, opts.first_offset), "csv"
  end
  if opts.validate ~= false then M.validate(parts) end
  return new(parts, format)
end

--- Reads and parses the table file at `path`; errors name the file.
function M.load(path, opts)
  local data = errors.read_file(path, "partition table", "Check the path given to --partition-table")
  local ok, res = pcall(M.parse, data, opts)
  if ok then return res end
  if errors.is(res) then
    res.message = res.message:gsub("^Failed to parse partition table", "%0 " .. path, 1)
  end
  error(res, 0)
end

--- A table from a list of partitions (validated).
function M.new(parts)
  M.validate(parts)
  return new(parts, "lua")
end

--- CSV text of a table (module function and method).
function M.to_csv(t) return csv.format(t.partitions) end
--- The 0xC00-byte binary of a table (module function and method).
function M.to_binary(t) return bin.format(t.partitions) end
Table.to_csv, Table.to_binary = M.to_csv, M.to_binary

--- The partition called `name`, or nil.
function Table:find(name)
  for _, p in ipairs(self.partitions) do
    if p.name == name then return p end
  end
  return nil
end

--- The partitions of type `ty` (number or name) and, when given, `subtype`.
function Table:find_all(ty, subtype)
  if type(ty) == "string" then ty = types.TYPES[ty] end
  local out = {}
  for _, p in ipairs(self.partitions) do
    if p.type == ty and (subtype == nil or p.subtype == subtype) then out[#out + 1] = p end
  end
  return out
end

--- The app partition to flash: `label` when given, else `factory`, else the
--- first app partition. Raises `espflash::app_partition_not_found`.
function Table:app_partition(label)
  local p
  if label then
    p = self:find(label)
  else
    p = self:find("factory") or self:find_all(APP)[1]
  end
  if not p or (label and p.type ~= APP) then
    errors.raise("espflash::app_partition_not_found",
      label and ("App partition not found: no app partition called '%s'"):format(label)
        or "App partition not found",
      "Check --target-app-partition and the partition table")
  end
  return p
end

--- Where the table goes: `given`, else the lowest partition offset - 0x1000.
function Table:offset(given)
  if given then
    if given % 0x1000 ~= 0 then
      errors.raise("espflash::partition_table::invalid_offset",
        ("The partition table offset 0x%x is not a multiple of 0x1000"):format(given))
    end
    return given
  end
  local low
  for _, p in ipairs(self.partitions) do
    if not low or p.offset < low then low = p.offset end
  end
  if not low or low < M.TABLE_SIZE then
    errors.raise("espflash::partition_table::invalid_offset",
      "No room for the partition table below the first partition",
      "Give the table's place with --partition-table-offset")
  end
  return low - M.TABLE_SIZE
end

local function overlap(a_lo, a_len, b_lo, b_len)
  return math.max(a_lo, b_lo) < math.min(a_lo + a_len, b_lo + b_len)
end

--- Checks that the table fits the flash and leaves the bootloader and itself
--- alone. `opts`: `flash_size` (bytes) and `flash_size_name` ("4MB"): every
--- partition must END inside the flash (espflash compares the SUM of the
--- sizes instead) — `espflash::partition_table::does_not_fit` with
--- espflash's message; `table_offset`: no partition may overlap the table's
--- 4 KiB; `bootloader_offset` and `bootloader_size`: neither the table nor a
--- partition may overlap the bootloader.
function Table:check_layout(opts)
  local size = opts.flash_size
  for _, p in ipairs(self.partitions) do
    if size and p.offset + p.size > size then
      errors.raise("espflash::partition_table::does_not_fit",
        ("The partition table does not fit into the flash (%s)"):format(opts.flash_size_name or size),
        ("Partition '%s' ends at 0x%x, past the end of the flash (0x%x). Make sure you set the "
          .. "correct flash size with the `--flash-size` option"):format(p.name, p.offset + p.size, size))
    end
  end
  local t_off, b_off, b_len = opts.table_offset, opts.bootloader_offset, opts.bootloader_size
  for _, p in ipairs(self.partitions) do
    if t_off and overlap(p.offset, p.size, t_off, M.TABLE_SIZE) then
      errors.raise("espflash::partition_table::overlaps_table",
        ("Partition '%s' (0x%x..0x%x) overlaps the partition table at 0x%x..0x%x")
          :format(p.name, p.offset, p.offset + p.size, t_off, t_off + M.TABLE_SIZE),
        "Move the partition or the table (--partition-table-offset)")
    end
    if b_off and b_len and overlap(p.offset, p.size, b_off, b_len) then
      errors.raise("espflash::partition_table::overlaps_bootloader",
        ("Partition '%s' (0x%x..0x%x) overlaps the bootloader at 0x%x..0x%x")
          :format(p.name, p.offset, p.offset + p.size, b_off, b_off + b_len),
        "Partitions must start after the bootloader and the partition table")
    end
  end
  if t_off and b_off and b_len and overlap(t_off, M.TABLE_SIZE, b_off, b_len) then
    errors.raise("espflash::partition_table::overlaps_bootloader",
      ("The partition table at 0x%x overlaps the bootloader at 0x%x..0x%x"):format(t_off, b_off, b_off + b_len),
      "Place the table after the bootloader with --partition-table-offset")
  end
  if size and t_off and t_off + M.TABLE_SIZE > size then
    errors.raise("espflash::partition_table::does_not_fit",
      ("The partition table does not fit into the flash (%s)"):format(opts.flash_size_name or size),
      ("The table at 0x%x lies past the end of the flash"):format(t_off))
  end
end

--- espflash's default table: nvs, phy_init and a factory app filling the
--- flash (capped at 16,384,000 bytes; `chip.default_factory_size` when the
--- flash size is unknown).
function M.default(chip, flash_size)
  local factory = flash_size and (flash_size - 0x10000) or chip.default_factory_size or 0x3F0000
  return new({
    { name = "nvs", type = DATA, subtype = 0x02, offset = 0x9000, size = 0x6000, flags = 0 },
    { name = "phy_init", type = DATA, subtype = 0x01, offset = 0xF000, size = 0x1000, flags = 0 },
    { name = "factory", type = APP, subtype = 0x00, offset = 0x10000,
      size = math.min(factory, M.DEFAULT_FACTORY_CAP), flags = 0 },
  }, "default")
end

return M
