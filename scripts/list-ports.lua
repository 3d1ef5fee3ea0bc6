-- list-ports: the serial ports libserialport enumerates. By default only
-- known development-board USB bridges (CP210x 10C4:EA60, CH340 1A86:7523,
-- Espressif USB-Serial-JTAG 303A:1001); -a adds every USB, PCI and unknown
-- port. Unlike espflash (which prints PID:VID), rows show VID:PID.
local json = require("espflash.json")
local session = require("espflash.session")

return {
  summary = "List available serial ports",
  description = "Rows show the port name, VID:PID, manufacturer and product, then the USB serial "
    .. "number and location (serial:… and usb:…, which --port also takes, to tell identical boards "
    .. "apart); ports that are not USB say so. Known boards include the [[usb_device]] entries of "
    .. "espflash_ports.toml. Any port can still be used with --port, listed or not.",
  uses = { "json" },
  options = {
    { "-a --list-all-ports", help = "List all available serial ports, instead of just those likely "
      .. "to be development boards. Includes non-usb ports such as PCI devices.", flag = true },
    { "-n --name-only", help = "Only print the name of the ports and nothing else. Useful for "
      .. "scripting.", flag = true },
  },
  run = function(args, ctx)
    local ports = session.list_ports()
    local opts = { all = args.list_all_ports, name_only = args.name_only,
                   usb_devices = ctx.config.ports.usb_devices }
    local list = json.array()
    for i, p in ipairs(session.shown_ports(ports, opts)) do list[i] = json.port(p, session.is_known(p, opts.usb_devices)) end
    if ctx.ui:json_result({ ports = list }) then return end
    for _, row in ipairs(session.port_rows(ports, opts)) do
      ctx.ui:print(row)
    end
  end,
}
