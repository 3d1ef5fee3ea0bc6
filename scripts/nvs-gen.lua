-- nvs-gen: build an NVS partition image from a CSV file, byte for byte as
-- ESP-IDF's `nvs_partition_gen.py generate INPUT OUTPUT SIZE` does.
local errors = require("espflash.errors")
local nvs = require("espflash.nvs")

local function dir_of(path)
  return path:match("^(.*)/[^/]*$") or "."
end

return {
  summary = "Generate an NVS partition image from a CSV file",
  description = "The CSV is ESP-IDF's nvs_partition_gen format: a header row key,type,encoding,value, "
    .. "then namespace rows (name,namespace,,) and entries (key,data,ENCODING,VALUE or "
    .. "key,file,ENCODING,PATH) with encodings u8 i8 u16 i16 u32 i32 u64 i64 string hex2bin "
    .. "base64 binary. File paths are relative to the CSV. See docs/nvs.md.",
  options = {
    { "input", help = "CSV file describing the namespaces and entries" },
    { "output", help = "File to write the partition image to" },
    { "--size", arg = "SIZE", convert = "u32", default = "0x6000",
      help = "Partition size in bytes: a multiple of 0x1000, at least 0x3000" },
    { "--nvs-version", arg = "VERSION", choices = { "1", "2" }, default = "2",
      help = "NVS format: 2 stores blobs across pages, 1 is for ESP-IDF before v4.0" },
  },
  run = function(args, ctx)
    local f, msg = io.open(args.input, "rb")
    if not f then
      errors.raise("espflash::file_open", "Failed to open the CSV file: " .. tostring(msg),
        "Check the INPUT path")
    end
    local text = f:read("a")
    f:close()
    local image, stats = nvs.from_csv(text, {
      name = args.input, base_dir = dir_of(args.input),
      size = args.size, version = tonumber(args.nvs_version),
    })
    local out, omsg = io.open(args.output, "wb")
    if not out then errors.raise("espflash::io", "Failed to write the NVS image: " .. tostring(omsg)) end
    out:write(image)
    out:close()
    ctx.ui:info(("Created NVS image '%s': %d entr%s in %d namespace%s, %d of %d pages used (0x%X bytes)")
      :format(args.output, stats.entries, stats.entries == 1 and "y" or "ies", stats.namespaces,
        stats.namespaces == 1 and "" or "s", stats.pages_used, stats.pages, #image))
  end,
}
