-- erase-parts: erase partitions, named by label, of the partition table
-- given with --partition-table (or espflash.toml's [idf] partition_table).
-- Needs the flasher stub (ERASE_REGION).
local errors = require("espflash.errors")
local session = require("espflash.session")
local partitions = require("espflash.partitions")
local types = require("espflash.partitions_types")
local opts = require("espflash.image_options")

return {
  summary = "Erase specified partitions",
  uses = { "connect" },
  options = {
    { "erase_parts", arg = "LABELS", help = "Labels of partitions to erase (comma-separated)" },
    { "--partition-table", arg = "FILE", help = "Input partition table" },
  },
  run = function(args, ctx)
    session.require_stub(args)
    local path = args.partition_table or opts.config(ctx, "idf", "partition_table")
    if not path then
      errors.raise("espflash::partition_table::missing_partition_table", "No partition table could be found",
        "Try providing a CSV or binary partition table with the `--partition-table` argument.")
    end
    local tbl = partitions.load(path)
    local chosen, seen = {}, {}
    for label in args.erase_parts:gmatch("[^,]+") do
      label = label:match("^%s*(.-)%s*$")
      local p = tbl:find(label)
      if not p then
        errors.raise("espflash::partition_table::missing_partition", ("Missing partition '%s'"):format(label),
          ("Partition table must contain the partition of type `%s` to be erased"):format(label))
      end
      if not seen[p.offset] then seen[p.offset] = true; chosen[#chosen + 1] = p end
    end
    local dev <close> = ctx:connect(args)
    session.print_board_info(ctx, dev:info())
    for _, p in ipairs(chosen) do
      ctx.ui:info(("Erasing %s (%s)..."):format(p.name, types.subtype_name(p.type, p.subtype)))
      dev:erase_region(p.offset, p.size)
    end
    dev:close()
    ctx.ui:info("Specified partitions successfully erased!")
  end,
}
