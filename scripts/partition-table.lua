-- partition-table: show a partition table (CSV or binary) as a table, or
-- convert it: --to-binary (from CSV or binary) or --to-csv (from binary),
-- to a file with -o or to stdout.
local errors = require("espflash.errors")
local partitions = require("espflash.partitions")
local show = require("espflash.partitions_show")

return {
  summary = "Convert partition tables between CSV and binary format",
  description = "Convert partition tables between CSV and binary format.\n\n"
    .. "Without --to-binary or --to-csv the table is printed. The input may be CSV "
    .. "or binary (recognised by its AA 50 entry magic).",
  options = {
    { "partition_table", help = "Input partition table" },
    { "-o --output", arg = "FILE", help = "Optional output file name, if unset will output to stdout" },
    { "--to-binary", flag = true, help = "Convert CSV partition table to binary representation" },
    { "--to-csv", flag = true, help = "Convert binary partition table to CSV representation" },
  },
  run = function(args, ctx)
    if args.to_binary and args.to_csv then
      errors.usage("the argument '--to-binary' cannot be used with '--to-csv'")
    end
    local path = args.partition_table
    local tbl = partitions.load(path)
    if args.to_csv and tbl.format ~= "binary" then
      errors.raise("espflash::partition_table::invalid",
        ("%s is not a binary partition table (--to-csv needs one)"):format(path),
        "A binary table starts with the entry magic AA 50")
    end
    local out
    if args.to_binary then
      out = tbl:to_binary()
    elseif args.to_csv then
      out = tbl:to_csv()
    else
      ctx.ui:print(show.render(tbl))
      return
    end
    if args.output then
      local f, msg = io.open(args.output, "wb")
      if not f then errors.raise("espflash::file_open", "Failed to open output file " .. tostring(msg)) end
      f:write(out)
      f:close()
    else
      io.stdout:write(out)
      io.stdout:flush()
    end
  end,
}
