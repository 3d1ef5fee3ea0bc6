-- write-bin: write a binary file to flash at an address, padded to 4 bytes
-- with 0xFF, skipped when the device's MD5 already matches, verified by MD5;
-- then the --after action, or with -M the serial monitor (which starts the
-- application itself).
local errors = require("espflash.errors")
local session = require("espflash.session")
local monitor_options = require("espflash.monitor_options")

local options = {
  { "address", help = "Address at which to write the binary file", convert = "u32" },
  { "file", help = "File containing the binary data to write" },
  { "-M --monitor", flag = true, help = "Open a serial monitor after writing" },
}
for _, e in ipairs(monitor_options.entries) do options[#options + 1] = e end

return {
  summary = "Write a binary file to a specific address in a target device's flash",
  description = "The data is padded with 0xFF to a multiple of 4 bytes. A region whose MD5 on the "
    .. "device already matches is skipped; a written region is verified by MD5.",
  uses = { "connect" },
  options = options,
  run = function(args, ctx)
    for _, w in ipairs(monitor_options.check(args, args.monitor)) do ctx.ui:warn(w) end
    local f, msg = io.open(args.file, "rb")
    if not f then errors.raise("espflash::io", "Failed to open file: " .. msg) end
    local data = f:read("a")
    f:close()
    local dev <close> = ctx:connect(args)
    session.print_board_info(ctx, dev:info())
    local label = string.format("0x%X", args.address)
    local segments = ctx.ui:segments()
    local result = dev:write(args.address, data, { skip = true, verify = true, progress = segments:start(label) })
    if result == "skipped" then segments:skipped(label) end
    segments:close()
    if args.monitor then
      ctx.ui:info("Binary successfully written to flash!")
      return require("espflash.monitor").run(ctx, dev, monitor_options.from_args(args))
    end
    dev:close()
    ctx.ui:info("Binary successfully written to flash!")
  end,
}
