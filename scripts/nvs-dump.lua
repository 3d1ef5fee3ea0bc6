-- nvs-dump: list the namespaces and entries of an NVS partition, read from
-- an image file or from a device's flash. The partition is found by
-- --offset/--size, or by label (default: the first data/nvs partition) in
-- the partition table given with --partition-table, or else in the table
-- read from the device (at --partition-table-offset).
local errors = require("espflash.errors")
local nvs = require("espflash.nvs")
local partitions = require("espflash.partitions")
local session = require("espflash.session")
local opts = require("espflash.image_options")

local TABLE_READ = 0xC00

local function pick(tbl, label)
  local p = label and tbl:find(label) or (not label and tbl:find_all("data", 0x02)[1])
  if not p then
    errors.raise("espflash::partition_table::missing_partition",
      label and ("Missing partition '%s'"):format(label) or "The partition table has no NVS (data, nvs) partition",
      "Name the NVS partition with --label, or give --offset and --size")
  end
  return p.offset, p.size
end

local function read_file(path)
  return errors.read_file(path, "the NVS image")
end

-- The partition table from the device's flash.
local function device_table(dev, offset)
  local raw = dev:read(offset, TABLE_READ)
  if raw:sub(1, 2) ~= "\xAA\x50" and raw:sub(1, 2) ~= "\xEB\xEB" then
    errors.raise("espflash::nvs::no_partition_table",
      ("No partition table found at 0x%X on the device"):format(offset),
      "Give --partition-table FILE, --partition-table-offset, or --offset and --size")
  end
  return partitions.parse(raw, { validate = false })
end

return {
  summary = "List the entries of an NVS partition, from a file or a device",
  description = "Reads the NVS partition from FILE, or else from the device's flash. CRCs are checked; "
    .. "corrupt pages and entries are reported as warnings and skipped. --csv prints CSV that "
    .. "`espflash nvs-gen` turns back into the same entries. See docs/nvs.md.",
  uses = { "connect" },
  options = {
    { "file", optional = true, help = "NVS image (or whole flash dump with --offset or --partition-table)" },
    { "--partition-table", arg = "FILE", help = "Partition table (CSV or binary) to find the NVS partition in" },
    { "--partition-table-offset", arg = "OFFSET", convert = "u32", default = "0x8000",
      help = "Where to read the partition table from the device when no --partition-table is given" },
    { "--label", arg = "LABEL", help = "Name of the NVS partition (default: the first data/nvs partition)" },
    { "--offset", arg = "OFFSET", convert = "u32", help = "Start of the NVS partition (with --size)" },
    { "--size", arg = "SIZE", convert = "u32", help = "Size of the NVS partition (with --offset)" },
    { "--csv", flag = true, help = "Print the entries as CSV for nvs-gen instead of a table" },
  },
  run = function(args, ctx)
    if (args.offset == nil) ~= (args.size == nil) then
      errors.usage("--offset and --size go together")
    end
    if args.offset and (args.label or args.partition_table) then
      errors.usage("give either --offset and --size, or --label/--partition-table")
    end
    local data
    if args.file then
      data = read_file(args.file)
      local off, size = args.offset, args.size
      if not off and (args.partition_table or args.label) then
        if not args.partition_table then errors.usage("--label needs --partition-table when reading a file") end
        off, size = pick(partitions.load(args.partition_table), args.label)
      end
      if off then
        if off + size > #data then
          errors.raise("espflash::nvs::out_of_range",
            ("0x%X..0x%X lies past the end of '%s' (0x%X bytes)"):format(off, off + size, args.file, #data))
        end
        data = data:sub(off + 1, off + size)
      end
    else
      local dev <close> = ctx:connect(args)
      session.print_board_info(ctx, dev:info())
      local off, size = args.offset, args.size
      if not off then
        local table_path = args.partition_table or opts.config(ctx, "idf", "partition_table")
        local tbl = table_path and partitions.load(table_path) or device_table(dev, args.partition_table_offset)
        off, size = pick(tbl, args.label)
      end
      ctx.ui:info(("Reading the NVS partition at 0x%X (0x%X bytes)"):format(off, size))
      data = dev:read(off, size, { progress = ctx.ui:progress_callback(("0x%X"):format(off)) })
      dev:close()
    end
    local entries, problems, info = nvs.parse(data)
    for _, p in ipairs(problems) do ctx.ui:warn(nvs.problem_text(p)) end
    local spaces = {}
    for _, e in ipairs(entries) do spaces[e.namespace] = true end
    local nspaces = 0
    for _ in pairs(spaces) do nspaces = nspaces + 1 end
    ctx.ui:info(("%d entr%s in %d namespace%s; %d of %d pages in use"):format(#entries,
      #entries == 1 and "y" or "ies", nspaces, nspaces == 1 and "" or "s", info.used, info.pages))
    ctx.ui:print(args.csv and nvs.to_csv(entries):gsub("\n$", "") or nvs.format(entries):gsub("\n$", ""))
  end,
}
