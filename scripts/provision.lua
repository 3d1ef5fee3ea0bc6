-- provision: factory provisioning of many devices at once. For every port,
-- concurrently: connect, read the MAC, take the device's record (CSV row or
-- counter; the one the log already gives its MAC, else the next free one),
-- build its NVS partition from the template, flash the app and the NVS
-- partition, verify, log one JSON line, reset. The work is
-- espflash.provision; docs/provision.md is the guide.
local cli_groups = require("espflash.cli_groups")
local errors = require("espflash.errors")
local image_options = require("espflash.image_options")
local parallel = require("espflash.parallel")
local portspec = require("espflash.portspec")
local provision = require("espflash.provision")
local provision_view = require("espflash.provision_view")

-- --port is expanded when it is parsed (a list, so the CLI does not run the
-- command once per port: provisioning shares one set of records).
local function expand_ports(spec)
  local ok, ports = pcall(portspec.expand, spec)
  if not ok then return nil, tostring(type(ports) == "table" and ports.message or ports) end
  if #ports == 0 then return nil, "it names no port" end
  return ports
end

-- ConnectArgs without the single-port ones (the picker, its confirmation).
local connect = {}
for _, e in ipairs(cli_groups.connect) do
  local long = e[1]:match("%-%-([%w-]+)")
  if long == "after" or long == "baud" or long == "before" or long == "chip" or long == "no-stub" then
    connect[#connect + 1] = e
  end
end

local function positive(text)
  local n = tonumber(text)
  if not n or n <= 0 then return nil, "a positive number of seconds" end
  return n
end

return {
  summary = "Provision many devices at once: app, per-device NVS data, a JSON-lines log",
  description = "Provision many devices at once.\n\n"
    .. "For every port, concurrently: connect, read the MAC, take the device's record, build its "
    .. "NVS partition from the template, flash the app and the NVS partition, verify, append one "
    .. "JSON line to the log and reset. A device whose MAC is in the log gets its record again, "
    .. "so re-running is safe. In the template, ${COLUMN}, ${serial}, ${mac} and ${chip} are "
    .. "replaced by the device's values. See docs/provision.md.",
  uses = { "flash_config" },
  options = image_options.concat({
    { "-p --port", arg = "PORTS", env = "ESPFLASH_PORT", convert = expand_ports,
      help = "Serial ports: several (a,b), a glob (/dev/ttyUSB*) or all" },
    { "--app", arg = "APP.elf", help = "The application to flash (ELF)" },
    { "--records", arg = "FILE.csv", help = "Records, one per device; the first column is the serial" },
    { "--counter", arg = "START[:FORMAT]", help = "Number the devices instead, e.g. 1000 or 1:SN-%05d" },
    { "--nvs-template", arg = "FILE.csv",
      help = "NVS CSV (nvs_partition_gen's format) with ${name} placeholders [default: serial, mac "
        .. "and the records' columns as strings in namespace factory]" },
    { "--log", arg = "FILE.jsonl", help = "Append one JSON line per device here; read to recognise devices" },
    { "-j --jobs", arg = "N", convert = "u32", help = "Devices worked on at once [default: all]" },
    { "--timeout", arg = "SECONDS", convert = positive, help = "Give up on a device after this long" },
  }, connect, image_options.image, image_options.idf),
  run = function(args, ctx)
    local ui = ctx.ui
    if not args.port then errors.usage("provision needs --port PORTS", "e.g. --port '/dev/ttyUSB*' or --port all") end
    if not args.app then errors.usage("provision needs --app APP.elf") end
    if not args.log then errors.usage("provision needs --log FILE.jsonl") end
    if args.records and args.counter then errors.usage("--records and --counter cannot be used together") end
    if not args.records and not args.counter then
      errors.usage("provision needs --records FILE.csv or --counter START[:FORMAT]")
    end
    if args.jobs == 0 then errors.usage("--jobs must be at least 1") end
    -- on a terminal one line per device, redrawn in place; else a line per event
    local view = ui.tty and not ui.quiet and provision_view.new(ui.err, args.port, { width = ui.width })
    local lines = parallel.progress_lines(function(line) ui.err:write(line, "\n"); ui.err:flush() end,
      { debug = ctx.debug })
    local results = provision.run({
      ports = args.port, app = args.app, records = args.records, counter = args.counter,
      nvs_template = args.nvs_template, log = args.log, jobs = args.jobs, timeout = args.timeout,
      image = image_options.from_args(args, ctx),
      connect = { baud = args.baud, chip = args.chip, before = args.before, after = args.after,
                  stub = not args.no_stub },
      progress = view and view.progress or function(ev)
        if not ui.quiet or ev.kind == "done" then lines(ev) end
      end,
    })
    if view then view.finish() end
    for _, line in ipairs(provision.summary(results)) do ui:print(line) end
    return results.all_ok and 0 or 1
  end,
}
