--- Option entries shared by `flash` and `save-image` (espflash's ImageArgs
--- and IdfFormatArgs), and turning their values into image options.
local errors = require("espflash.errors")
local args_mod = require("espflash.args")

local M = {}

--- Parses "MAJOR.MINOR" into major*100+minor (espflash's parse_chip_rev).
function M.parse_chip_rev(s)
  local major, minor = tostring(s):match("^(%d+)%.(%d+)$")
  local v = major and tonumber(major) * 100 + tonumber(minor)
  if not v or tonumber(major) > 655 or tonumber(minor) > 65535 or v > 0xFFFF then
    return nil, ("Failed to parse chip revision: %s. Chip revision must be in the format `major.minor`"):format(s)
  end
  return v
end

--- ImageArgs.
M.image = {
  { "--min-chip-rev", arg = "MIN_REV", default = "0.0", convert = M.parse_chip_rev,
    help = "Minimum chip revision supported by image, in format: major.minor" },
  { "--mmu-page-size", arg = "MMU_PAGE_SIZE", convert = "u32",
    help = "MMU page size" },
  { "--ignore-app-descriptor", flag = true, aliases = { "--ignore_app_descriptor" },
    help = "Don't check if the ELF contains an ESP-IDF app descriptor" },
}

--- IdfFormatArgs.
M.idf = {
  { "--bootloader", arg = "FILE", help = "Path to a binary ESP-IDF bootloader file" },
  { "--partition-table", arg = "FILE", help = "Path to a CSV file containing partition table" },
  { "--partition-table-offset", arg = "OFFSET", convert = "u32", help = "Partition table offset" },
  { "--target-app-partition", arg = "LABEL", help = "Label of target app partition" },
  { "--format", arg = "FORMAT", choices = { "esp-idf" }, default = "esp-idf",
    help = "Binary image format" },
}

--- `lists...` concatenated into one option list.
function M.concat(...)
  local out = {}
  for _, list in ipairs({ ... }) do
    for _, e in ipairs(list) do out[#out + 1] = e end
  end
  return out
end

-- A value from the config file: ctx.config[section][key], or nil.
local function config(ctx, section, key)
  local c = ctx and ctx.config
  local s = type(c) == "table" and c[section]
  return type(s) == "table" and s[key] or nil
end
M.config = config

--- Image options from parsed `args` and the config file (`ctx.config`):
--- `{flash_mode, flash_size, flash_freq, min_chip_rev, mmu_page_size,
--- bootloader, config_bootloader, partition_table, partition_table_offset,
--- target_app_partition, ignore_app_descriptor}`. The flash size is left
--- nil when neither gives one.
function M.from_args(args, ctx)
  if args.format and args.format ~= "esp-idf" then
    errors.usage(("Unsupported image format '%s'"):format(args.format))
  end
  local cfg_table = config(ctx, "idf", "partition_table")
  if cfg_table and not (cfg_table:match("%.bin$") or cfg_table:match("%.csv$")) then
    errors.raise("espflash::invalid_partition_table_path",
      "Specified partition table path is not a .bin or .csv file")
  end
  local cfg_boot = config(ctx, "idf", "bootloader")
  if cfg_boot and not cfg_boot:match("%.bin$") then
    errors.raise("espflash::invalid_bootloader_path", "Specified bootloader path is not a .bin file")
  end
  return {
    flash_mode = args.flash_mode or config(ctx, "flash", "mode"),
    flash_size = args.flash_size or config(ctx, "flash", "size"),
    flash_freq = args.flash_freq or config(ctx, "flash", "frequency"),
    min_chip_rev = args.min_chip_rev or 0,
    mmu_page_size = args.mmu_page_size,
    bootloader = args.bootloader,
    config_bootloader = cfg_boot,
    partition_table = args.partition_table or cfg_table,
    partition_table_offset = args.partition_table_offset,
    target_app_partition = args.target_app_partition,
    ignore_app_descriptor = args.ignore_app_descriptor,
  }
end

M.parse_u32 = args_mod.parse_u32

return M
