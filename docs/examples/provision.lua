-- provision.lua: factory provisioning from your own Lua program.
--
--   espflash run provision.lua --app APP.elf --records serials.csv --log provision.jsonl PORT...
--   lua5.4 provision.lua ...            (with the library installed: cmake --install)
--
-- The same workflow as `espflash provision` (docs/provision.md), called as
-- a library function, so a program of your own can wrap it: here with a
-- plain argument parser and, after the run, a line per device for a label
-- printer (--labels FILE: "SERIAL MAC" for each device provisioned).
--
-- For every device, concurrently: connect, read the MAC, take the device's
-- record (the one the log already gives its MAC, else the next unused row
-- of the CSV, or the next number of --counter START[:FORMAT]), build its NVS
-- partition (--template FILE.csv, or namespace "factory" with serial, mac
-- and the CSV's other columns), flash the app and the NVS partition, verify,
-- append a JSON line to the log, reset. Re-running on a provisioned board
-- is safe: it gets the same record again.
--
-- PORT is anything --port takes: a path, sim://…, socket://…, a list a,b,c,
-- a glob (/dev/ttyUSB*) or all. Exit status: 0 all provisioned, 1 otherwise.
local espflash = require "espflash"

local USAGE = "usage: provision.lua --app APP.elf (--records FILE.csv | --counter START[:FORMAT]) "
  .. "--log FILE.jsonl [--template FILE.csv] [--labels FILE] [--jobs N] [--baud BAUD] PORT..."

local o, ports = {}, {}
local argv, i = arg or { ... }, 1
while i <= #argv do
  local key = argv[i]:match("^%-%-(%w+)$")
  if key then
    o[key], i = argv[i + 1], i + 2
  else
    for _, p in ipairs(espflash.ports(argv[i])) do ports[#ports + 1] = p end
    i = i + 1
  end
end
if not o.app or not o.log or #ports == 0 then espflash.errors.usage(USAGE) end

local results = espflash.provision.run{
  ports = ports, app = o.app, records = o.records, counter = o.counter, nvs_template = o.template,
  log = o.log, jobs = tonumber(o.jobs), connect = { baud = tonumber(o.baud) },
  progress = espflash.parallel.progress_lines(io.stderr),
}

for _, line in ipairs(espflash.provision.summary(results)) do print(line) end
if o.labels then
  local labels = assert(io.open(o.labels, "a"))
  for _, r in ipairs(results) do
    if r.ok then labels:write(r.value.serial, " ", r.value.mac, "\n") end
  end
  labels:close()
end
return results.all_ok and 0 or 1
