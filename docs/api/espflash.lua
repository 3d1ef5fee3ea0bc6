---@meta espflash
-- The espflash library: `local espflash = require "espflash"`.
-- docs/scripting.md describes the API; docs/device-api.md the device.

---@class espflash
---@field version string The library's version ("0.1.0"; the binary's inside espflash).
---@field VERSION string The library's own version string.
---@field API {functions: string[], modules: string[]} The names of the stable API.
---@field connect espflash.connect Connects to a chip: `espflash.connect{port = "/dev/ttyUSB0"}` (callable module).
---@field core espflash.core The C core.
---@field errors espflash.errors Error objects with codes.
---@field chips espflash.chips The chip tables.
---@field image espflash.image Application images.
---@field partitions espflash.partitions Partition tables.
---@field flash espflash.flash Writing applications and segments.
---@field nvs espflash.nvs NVS partition images.
---@field sim espflash.sim The virtual device.
---@field elf espflash.elf ELF files.
---@field parallel espflash.parallel Many devices at once.
---@field portspec espflash.portspec `--port` values.
local espflash = {}

---@class espflash.PortInfo
---@field name string "/dev/ttyUSB0"
---@field type "usb"|"pci"|"bluetooth"|"unknown"
---@field vid integer? USB vendor id
---@field pid integer? USB product id
---@field manufacturer string?
---@field product string?
---@field serial string?
---@field location string?
---@field known boolean A known development-board USB bridge (CP210x, CH340, USB-Serial-JTAG).

---Every serial port the system has, sorted by name (numbers in order).
---`opts.known = true` keeps only the known development boards.
---Raises `espflash::serial_error` when the ports cannot be listed.
---@param opts? {known?: boolean}
---@return espflash.PortInfo[]
function espflash.list_ports(opts) end

---The ports a `--port` value names: `"a,b"`, a glob in the last path
---component (`"/dev/ttyUSB*"`), `"all"` (every known board); `sim://…` and
---`socket://…` pass through. Each port once, in the order given.
---@param spec string|string[]
---@param opts? espflash.portspec.Options
---@return string[]
function espflash.ports(spec, opts) end

---Runs `fn(dev, i, job)` on every port concurrently and returns a result per
---device, in port order. See `espflash.parallel.each_device`.
---@param ports string|string[] a list of ports or a `--port` value
---@param fn fun(dev: espflash.Device, i: integer, job: espflash.Job): any
---@param opts? espflash.EachDeviceOptions
---@return espflash.Results
function espflash.each_device(ports, fn, opts) end

return espflash
