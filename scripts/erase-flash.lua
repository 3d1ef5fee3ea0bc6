-- erase-flash: erase the whole flash through the stub (ERASE_FLASH).
local session = require("espflash.session")

return {
  summary = "Erase Flash entirely",
  description = "Needs the flasher stub: refused with --no-stub.",
  uses = { "connect" },
  options = {},
  run = function(args, ctx)
    session.require_stub(args)
    local dev <close> = ctx:connect(args)
    ctx.ui:info("Erasing Flash...")
    dev:erase_flash()
    dev:close()
    ctx.ui:info("Flash has been erased!")
  end,
}
