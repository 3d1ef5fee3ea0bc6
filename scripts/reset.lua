-- reset: connect through the ROM (never the stub), then pulse reset so the
-- chip boots its application.
return {
  summary = "Reset the target device",
  description = "Connects without the flasher stub, then hard-resets the chip into its application.",
  uses = { "connect" },
  options = {},
  run = function(args, ctx)
    args.no_stub = true
    local dev <close> = ctx:connect(args)
    ctx.ui:info("Resetting target device")
    dev:reset("hard-reset")
    dev:close()
  end,
}
