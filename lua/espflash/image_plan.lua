--- What `flash` writes and `save-image --merge` saves, decided offline:
--- the bootloader (found, patched), the partition table (given, from a
--- build, or the default) and its offset, the app image and its partition,
--- with every fit check (reference §4.5-4.7).
local errors = require("espflash.errors")
local elfmod = require("espflash.elf")
local image = require("espflash.image")
local header = require("espflash.image_header")
local partitions = require("espflash.partitions")
local bootloader = require("espflash.bootloader")
local chips = require("espflash.chips")

local M = {}

--- Thousands separators, as espflash's HumanCount: 1234567 -> "1,234,567".
function M.human_count(n)
  local s = tostring(math.tointeger(n) or n)
  local out = s:reverse():gsub("(%d%d%d)", "%1,"):reverse()
  return (out:gsub("^,", ""))
end

--- espflash's "App/part. size:" line.
function M.size_line(app_size, part_size)
  return ("App/part. size:    %s/%s bytes, %.2f%%"):format(M.human_count(app_size),
    M.human_count(part_size), app_size / part_size * 100)
end

-- A bootloader must be an image for this chip (espflash only checks the magic).
local function check_bootloader(boot, chip)
  local hint = "Give an ESP-IDF second-stage bootloader (.bin) built for the " .. chip.name
  if #boot.data < header.SIZE or boot.data:byte(1) ~= header.MAGIC then
    errors.raise("espflash::invalid_bootloader",
      ("The provided bootloader binary is invalid: %s does not start with 0xE9"):format(boot.path), hint)
  end
  local id = header.unpack(boot.data).chip_id
  if id ~= chip.chip_id then
    local other = chips.by_chip_id(id)
    errors.raise("espflash::invalid_bootloader",
      ("The provided bootloader binary is for %s (chip id %d), not the %s"):format(
        other and other.name or "another chip", id, chip.name), hint)
  end
end

--- Builds the plan. Options (see espflash.image_options.from_args for most):
--- `chip` (table), `elf` (path or espflash.elf object), `flash_mode`,
--- `flash_size` (name; default "4mb"), `flash_freq`, `min_chip_rev`,
--- `mmu_page_size`, `bootloader`, `config_bootloader`, `partition_table`,
--- `partition_table_offset`, `target_app_partition`, `ignore_app_descriptor`,
--- `xtal_mhz`, `revision` (the connected chip's, major*100+minor),
--- `search_builds`, `getenv`. Returns `{chip, elf, image, bootloader =
--- {data, source, path}, table, table_source, table_offset, app_partition,
--- app_size, part_size, flash_size, flash_size_name, segments =
--- {{addr, data, name}...}}`.
function M.build(o)
  local chip = image.chip(o.chip)
  local elf = type(o.elf) == "string" and elfmod.load(o.elf) or o.elf
  if not o.ignore_app_descriptor then elf:require_app_descriptor() end
  local size_name = header.size_name(o.flash_size or "4mb")
  local flash_size = header.size_bytes(o.flash_size or "4mb")
  local freq = o.flash_freq or chip.default_flash_freq
  local min_rev = math.max(o.min_chip_rev or 0, elf:metadata().min_chip_revision or 0)

  -- A given table is checked against the flash before anything else, as
  -- espflash does (its does_not_fit comes before any bootloader lookup).
  local tbl, source
  if o.partition_table then
    tbl, source = partitions.load(o.partition_table), o.partition_table
    tbl:check_layout({ flash_size = flash_size, flash_size_name = size_name:upper() })
  end
  local boot = bootloader.find({
    chip = chip, path = o.bootloader, config_path = o.config_bootloader, elf_path = elf.path,
    xtal_mhz = o.xtal_mhz, revision = o.revision or min_rev, search_builds = o.search_builds,
    getenv = o.getenv,
  })
  check_bootloader(boot, chip)
  if not tbl and boot.partition_table then
    tbl, source = partitions.load(boot.partition_table), boot.partition_table
  elseif not tbl then
    tbl, source = partitions.default(chip, flash_size), "default"
  end
  local table_offset = tbl:offset(o.partition_table_offset
    or (source == boot.partition_table and boot.partition_table_offset) or nil)
  tbl:check_layout({
    flash_size = flash_size, flash_size_name = size_name:upper(), table_offset = table_offset,
    bootloader_offset = chip.bootloader_offset, bootloader_size = #boot.data,
  })

  local boot_bin = header.patch_bootloader(boot.data, chip,
    { mode = o.flash_mode, size = size_name, freq = freq })
  local img = image.from_elf(elf, {
    chip = chip, bootloader = boot.data, flash_mode = o.flash_mode, flash_size = size_name,
    flash_freq = freq, min_chip_rev = min_rev, mmu_page_size = o.mmu_page_size,
  })
  local part = tbl:app_partition(o.target_app_partition)
  if #img.data > part.size then
    errors.raise("espflash::image_too_big",
      ("Supplied ELF image of %dB is too big, and doesn't fit configured app partition of %dB")
        :format(#img.data, part.size),
      "Reduce the size of the binary or increase the size of the app partition.")
  end
  return {
    chip = chip, elf = elf, image = img, bootloader = boot, table = tbl, table_source = source,
    table_offset = table_offset, app_partition = part, app_size = #img.data, part_size = part.size,
    flash_size = flash_size, flash_size_name = size_name,
    segments = {
      { addr = chip.bootloader_offset, data = boot_bin, name = "bootloader" },
      { addr = table_offset, data = tbl:to_binary(), name = "partition table" },
      { addr = part.offset, data = img.data, name = "app" },
    },
  }
end

--- The merged flash image of a plan: segments at their offsets, 0xFF
--- between them and, unless `skip_padding`, up to the flash size.
function M.merged(plan, skip_padding)
  local segs = {}
  for i, s in ipairs(plan.segments) do segs[i] = s end
  table.sort(segs, function(a, b) return a.addr < b.addr end)
  local parts, pos = {}, 0
  for _, s in ipairs(segs) do
    if s.addr < pos then
      errors.raise("espflash::partition_table::overlaps_bootloader",
        ("The %s at 0x%x overlaps the data before it (up to 0x%x)"):format(s.name, s.addr, pos))
    end
    parts[#parts + 1] = ("\xFF"):rep(s.addr - pos)
    parts[#parts + 1] = s.data
    pos = s.addr + #s.data
  end
  if not skip_padding and pos < plan.flash_size then
    parts[#parts + 1] = ("\xFF"):rep(plan.flash_size - pos)
  end
  return table.concat(parts)
end

return M
