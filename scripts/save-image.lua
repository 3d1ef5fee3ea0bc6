-- save-image: turn an ELF into the ESP-IDF application image flash would
-- write, or with --merge into one file holding the bootloader, the partition
-- table and the app at their flash offsets (0xFF between, and up to the
-- flash size unless --skip-padding). Offline: no device is involved.
local errors = require("espflash.errors")
local chips = require("espflash.chips")
local opts = require("espflash.image_options")
local plan_mod = require("espflash.image_plan")

local XTAL = { ["26mhz"] = 26, ["32mhz"] = 32, ["40mhz"] = 40, ["48mhz"] = 48 }

return {
  summary = "Generate a binary application image and save it to a local disk",
  description = "Generate a binary application image and save it to a local disk.\n\n"
    .. "Without --merge the file holds the application image only (what flash writes "
    .. "to the app partition); with --merge it is a whole flash image.",
  uses = { "flash_config" },
  options = opts.concat({
    { "--chip", arg = "CHIP", help = "Chip to create an image for", choices = chips.names() },
    { "image", help = "ELF image to convert" },
    { "file", help = "File name to save the generated image to" },
    { "--merge", flag = true, help = "Boolean flag to merge binaries into single binary" },
    { "-P --skip-padding", flag = true, help = "Don't pad the image to the flash size" },
    { "-x --xtal-freq", arg = "XTAL_FREQ", help = "Crystal frequency of the target",
      choices = { "26mhz", "32mhz", "40mhz", "48mhz" } },
  }, opts.image, opts.idf),
  run = function(args, ctx)
    if not args.chip then
      errors.usage("the following required arguments were not provided: --chip <CHIP>")
    end
    if args.skip_padding and not args.merge then
      errors.usage("the argument '--skip-padding' requires '--merge'")
    end
    local chip = chips.get(args.chip)
    local o = opts.from_args(args, ctx)
    o.chip, o.elf = chip, require("espflash.elf").load(args.image)
    if not o.ignore_app_descriptor then o.elf:require_app_descriptor() end
    o.flash_size = o.flash_size or "4mb"
    o.xtal_mhz = args.xtal_freq and XTAL[args.xtal_freq] or chip.default_xtal_mhz

    ctx.ui:print("Chip type:         " .. chip.name)
    ctx.ui:print("Merge:             " .. tostring(args.merge))
    ctx.ui:print("Skip padding:      " .. tostring(args.skip_padding))
    local plan = plan_mod.build(o)
    ctx.ui:print(plan_mod.size_line(plan.app_size, plan.part_size))
    ctx.ui:debug("Bootloader: " .. plan.bootloader.source .. " (" .. plan.bootloader.path .. ")")

    local data = args.merge and plan_mod.merged(plan, args.skip_padding) or plan.image.data
    local f, msg = io.open(args.file, "wb")
    if not f then errors.raise("espflash::file_open", "Failed to write the image: " .. tostring(msg)) end
    local ok, werr = f:write(data)
    f:close()
    if not ok then errors.raise("espflash::io", "Failed to write the image: " .. tostring(werr)) end
    ctx.ui:info("Image successfully saved!")
  end,
}
