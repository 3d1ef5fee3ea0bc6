-- monitor: open the serial monitor on a connected target device. Connects as
-- every command does (reset into the loader, sync, stub), then resets the
-- chip into its application and shows what it prints, decoding addresses
-- (firmware and ROM ELF) and defmt frames. Ctrl+R resets, Ctrl+C exits.
local options = require("espflash.monitor_options")

local entries = {}
for _, e in ipairs(options.entries) do entries[#entries + 1] = e end

return {
  summary = "Open the serial monitor without flashing the connected target device",
  description = "Shows what the device prints, as it comes. Addresses (0x + 8 hex digits) are "
    .. "decoded with --elf and the chip's ROM ELF; defmt frames with the ELF's table (-L defmt, or "
    .. "automatically from its metadata). Interactive: CTRL+R resets the chip, CTRL+C exits; the "
    .. "application is started right away. With --non-interactive no terminal is needed, the chip "
    .. "is reset first unless --no-reset, and monitoring ends when the port closes or after "
    .. "--timeout SECONDS.",
  uses = { "connect" },
  options = entries,
  run = function(args, ctx)
    for _, w in ipairs(options.check(args)) do ctx.ui:warn(w) end
    local dev = ctx:connect(args)
    return require("espflash.monitor").run(ctx, dev, options.from_args(args))
  end,
}
