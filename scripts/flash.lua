-- flash: build the ESP-IDF image of an ELF and write the bootloader, the
-- partition table and the app to a connected device. Unchanged blocks are
-- skipped (MD5 per block on the device), then each segment is verified.
-- --ram loads a RAM-only ELF and runs it instead.
local errors = require("espflash.errors")
local session = require("espflash.session")
local opts = require("espflash.image_options")
local flash = require("espflash.flash")
local plan_mod = require("espflash.image_plan")
local types = require("espflash.partitions_types")
local monitor_options = require("espflash.monitor_options")

local function split(s)
  local out = {}
  for item in (s or ""):gmatch("[^,]+") do
    item = item:match("^%s*(.-)%s*$")
    if item ~= "" then out[#out + 1] = item end
  end
  return out
end

local function data_types(s)
  local valid = {}
  for _, n in ipairs(types.ERASE_DATA_TYPES) do valid[n] = true end
  local list = split(s)
  for _, n in ipairs(list) do
    if not valid[n] then
      errors.usage(("invalid value '%s' for '--erase-data-parts <PARTS>'"):format(n),
        "possible values: " .. table.concat(types.ERASE_DATA_TYPES, ", "))
    end
  end
  return list
end

return {
  summary = "Flash an application in ELF format to a connected target device",
  description = "Flash an application in ELF format to a connected target device.\n\n"
    .. "Writes the bootloader, the partition table and the app image. Blocks whose "
    .. "content already matches are not rewritten; --no-skip writes everything.",
  uses = { "connect", "flash_config", "json" },
  options = opts.concat({
    { "image", help = "ELF image to flash" },
    { "--erase-parts", arg = "LABELS", help = "Labels of partitions to erase (comma-separated)" },
    { "--erase-data-parts", arg = "PARTS",
      help = "Erase specified data partitions (comma-separated: " .. table.concat(types.ERASE_DATA_TYPES, ", ") .. ")" },
    { "--ram", flag = true, help = "Load the application to RAM instead of Flash" },
    { "--no-verify", flag = true, help = "Don't verify the flash contents after flashing" },
    { "--no-skip", flag = true, help = "Don't skip flashing of parts with matching checksum" },
    { "--force", flag = true, help = "Flash even when the chip revision is below the image's minimum" },
    { "-M --monitor", flag = true, help = "Open a serial monitor after flashing" },
  }, opts.image, opts.idf, monitor_options.entries),
  run = function(args, ctx)
    local ui = ctx.ui
    for _, w in ipairs(monitor_options.check(args, args.monitor)) do ui:warn(w) end
    local o = opts.from_args(args, ctx)
    o.erase_parts, o.erase_data_parts = split(args.erase_parts), data_types(args.erase_data_parts)
    o.ram, o.force, o.no_verify, o.no_skip = args.ram, args.force, args.no_verify, args.no_skip
    local elf = require("espflash.elf").load(args.image)
    if not o.ignore_app_descriptor and not o.ram then elf:require_app_descriptor() end

    local dev <close> = ctx:connect(args)
    o.info = dev:info()
    session.print_board_info(ctx, o.info)
    local segments = ui:segments({ verify = not args.no_verify })
    o.log = segments:logger(function(level, msg) if level == "warn" then ui:warn(msg) else ui:info(msg) end end)
    o.on_plan = function(plan) ui:print(plan_mod.size_line(plan.app_size, plan.part_size)) end
    o.progress = segments.progress
    local result = flash.write_app(dev, elf, o)
    segments:close()
    ui:json_result(require("espflash.json").flash(o.info, result))
    if result.ram then
      ui:info("Application loaded to RAM and started")
      if args.monitor then
        local mo = monitor_options.from_args(args, args.image)
        mo.running = true
        return require("espflash.monitor").run(ctx, dev, mo)
      end
      dev:close({ after = false })
      return
    end
    ui:info(("Wrote %s of %s bytes (%s unchanged)"):format(plan_mod.human_count(result.written),
      plan_mod.human_count(result.total), plan_mod.human_count(result.total - result.written)))
    ui:info("Flashing has completed!")
    if args.monitor then
      return require("espflash.monitor").run(ctx, dev, monitor_options.from_args(args, args.image))
    end
    dev:close()
  end,
}
