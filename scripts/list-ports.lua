-- list-ports: the serial ports libserialport enumerates. By default only
-- known development-board USB bridges (CP210x 10C4:EA60, CH340 1A86:7523,
-- Espressif USB-Serial-JTAG 303A:1001); -a adds every USB, PCI and unknown
-- port. Unlike espflash (which prints PID:VID), rows show VID:PID.
local core = require("espflash.core")
local errors = require("espflash.errors")
local session = require("espflash.session")

return {
  summary = "List available serial ports",
  description = "Rows show the port name, VID:PID, manufacturer and product; ports that are not "
    .. "USB say so. Any port can still be used with --port, listed or not.",
  options = {
    { "-a --list-all-ports", help = "List all available serial ports, instead of just those likely "
      .. "to be development boards. Includes non-usb ports such as PCI devices.", flag = true },
    { "-n --name-only", help = "Only print the name of the ports and nothing else. Useful for "
      .. "scripting.", flag = true },
  },
  run = function(args, ctx)
    local ports = errors.check(core.list_ports())
    for _, row in ipairs(session.port_rows(ports, { all = args.list_all_ports, name_only = args.name_only })) do
      ctx.ui:print(row)
    end
  end,
}
