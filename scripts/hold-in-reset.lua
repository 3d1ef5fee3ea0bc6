-- hold-in-reset: connect (reset into download mode, sync, stub) and leave the
-- chip in the loader; no --after action (espflash behaves the same way).
return {
  summary = "Hold the target device in reset",
  description = "Performs the normal connection (reset into download mode, sync, flasher stub) "
    .. "and exits, leaving the chip in its loader.",
  uses = { "connect" },
  options = {},
  run = function(args, ctx)
    local dev <close> = ctx:connect(args)
    ctx.ui:info("Holding target device in reset")
    dev:close{ after = false }
  end,
}
