-- board-info: connect, print the chip's facts and its security information,
-- then perform the --after action.
local session = require("espflash.session")

return {
  summary = "Print information about a connected target device",
  description = "Connects to the chip (through the flasher stub unless --no-stub) and prints its "
    .. "type and revision, crystal frequency, flash size, features and MAC address, then its "
    .. "security information (\"Security features: None\" on the ESP32).",
  uses = { "connect", "json" },
  options = {},
  run = function(args, ctx)
    local dev <close> = ctx:connect(args)
    local info = dev:info()
    session.print_board_info(ctx, info)
    if info.chip ~= "esp32" and info.security then
      ctx.ui:print(session.security_text(info.security))
    else
      ctx.ui:print("Security features: None")
    end
    ctx.ui:json_result(require("espflash.json").board_info(info, dev.port:info().name))
    dev:close()
  end,
}
