-- provision.lua: factory provisioning of many boards at once.
--
--   espflash run provision.lua --app APP.elf --records serials.csv --log provision.jsonl PORT...
--   lua5.4 provision.lua ...            (with the library installed: cmake --install)
--
-- For every device, concurrently: connect, read the MAC, take the device's
-- record (the one the log already gives its MAC, else the next unused row of
-- the CSV, or the next number of --counter FORMAT), flash the app (unchanged
-- blocks are skipped), build its NVS partition (namespace "factory": serial,
-- mac and the CSV's other columns as strings), write and verify it, read it
-- back, reset. Each device appends one JSON line to the log (time, port, mac,
-- chip, revision, serial, image hashes, result and the error's code).
-- Re-running on a provisioned board is safe: its MAC is in the log, so it
-- gets the same record again and nothing new is consumed.
--
-- PORT is anything --port takes: a path, sim://…, socket://…, a list a,b,c,
-- a glob (/dev/ttyUSB*) or all. Exit status: 0 all provisioned, 1 otherwise.
local espflash = require "espflash"
local errors, nvs = espflash.errors, espflash.nvs

local USAGE = "usage: provision.lua --app APP.elf (--records FILE.csv | --counter FORMAT) "
  .. "--log FILE.jsonl [--jobs N] [--baud BAUD] PORT..."

local function parse_args(argv)
  local o, ports = { jobs = nil }, {}
  local i = 1
  while i <= #argv do
    local a = argv[i]
    local key = a:match("^%-%-(%w+)$")
    if key then
      o[key], i = argv[i + 1], i + 2
    else
      for _, p in ipairs(espflash.ports(a)) do ports[#ports + 1] = p end
      i = i + 1
    end
  end
  if not o.app or not (o.records or o.counter) or not o.log or #ports == 0 then errors.usage(USAGE) end
  o.jobs, o.baud = tonumber(o.jobs), tonumber(o.baud)
  return o, ports
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- The CSV's rows as tables keyed by its header's column names (plain
-- comma-separated fields); the first column must be "serial".
local function read_records(path)
  local text = read_file(path) or errors.raise("provision::records", "cannot read " .. path)
  local header, rows = nil, {}
  for line in text:gmatch("[^\r\n]+") do
    local fields = {}
    for f in (line .. ","):gmatch("([^,]*),") do fields[#fields + 1] = f end
    if not header then
      header = fields
      if header[1] ~= "serial" then errors.raise("provision::records", path .. ": the first column must be 'serial'") end
    else
      local row = {}
      for c, name in ipairs(header) do row[name] = fields[c] or "" end
      rows[#rows + 1] = row
    end
  end
  return rows
end

local function json_string(s)
  return '"' .. tostring(s):gsub('[%c"\\]', function(c)
    return ({ ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n" })[c] or ("\\u%04x"):format(c:byte())
  end) .. '"'
end

local FIELDS = { "time", "port", "mac", "chip", "revision", "serial", "app_sha256", "nvs_sha256",
                 "result", "error_code", "error" }

local function json_line(rec)
  local parts = {}
  for _, k in ipairs(FIELDS) do
    if rec[k] ~= nil then parts[#parts + 1] = json_string(k) .. ":" .. json_string(rec[k]) end
  end
  return "{" .. table.concat(parts, ",") .. "}\n"
end

-- The value of string field `key` in one of our JSON lines, or nil.
local function json_field(line, key)
  local start = line:find(json_string(key) .. ':"', 1, true)
  if not start then return nil end
  local i, out = start + #key + 4, {}
  while i <= #line do
    local c = line:sub(i, i)
    if c == '"' then return table.concat(out) end
    if c == "\\" then
      local n = line:sub(i + 1, i + 1)
      if n == "u" then c, i = utf8.char(tonumber(line:sub(i + 2, i + 5), 16)), i + 4
      else c = ({ n = "\n" })[n] or n end
      i = i + 1
    end
    out[#out + 1] = c
    i = i + 1
  end
end

local function sha256_hex(s)
  return (espflash.core.sha256(s):gsub(".", function(c) return ("%02x"):format(c:byte()) end))
end

local o, ports = parse_args(arg or { ... })
local records = o.records and read_records(o.records)
local by_mac, used, highest = {}, {}, 0     -- from earlier runs
for line in (read_file(o.log) or ""):gmatch("[^\n]+") do
  local mac, serial = json_field(line, "mac"), json_field(line, "serial")
  if mac and serial then by_mac[mac], used[serial] = serial, true end
  local n = serial and o.counter and tonumber(serial:match("(%d+)%D*$"))
  if n and n > highest then highest = n end
end

-- The record of a device: the one its MAC had, else the next free one. No
-- yield happens in here, so two devices never get the same record.
local function take_record(mac)
  local serial = by_mac[mac]
  if o.counter and not serial then
    repeat highest = highest + 1; serial = o.counter:format(highest) until not used[serial]
  end
  for _, r in ipairs(records or {}) do
    if (serial and r.serial == serial) or (not serial and not used[r.serial]) then
      serial = r.serial
      by_mac[mac], used[serial] = serial, true
      return r
    end
  end
  if serial then by_mac[mac], used[serial] = serial, true; return { serial = serial } end
  errors.raise("provision::no_records", "no unused record left in " .. o.records,
    "Add rows to the CSV; devices already in the log keep theirs")
end

local elf = espflash.elf.load(o.app)
local state = {}                            -- what each device got, for its log line
local log = assert(io.open(o.log, "a"))
local lines = espflash.parallel.progress_lines(io.stderr)

local results = espflash.each_device(ports, function(dev, i, job)
  local s = state[i]
  local info = dev:info()
  s.mac, s.chip = info.mac, info.chip
  s.revision = info.revision and ("%d.%d"):format(info.revision.major, info.revision.minor)
  local record = take_record(info.mac)
  s.serial = record.serial
  job:info(("%s %s gets %s"):format(info.chip, info.mac, record.serial))

  local flashed = espflash.flash.write_app(dev, elf, { info = info,
    progress = function(label) return job:progress(label) end,
    log = function(level, msg) job:log(level, msg) end })
  s.app_sha256 = sha256_hex(flashed.plan.image.data)

  local part = flashed.plan.table:find("nvs")
    or errors.raise("provision::no_nvs", "the partition table has no partition named 'nvs'")
  local entries = { { key = "serial", type = "string", value = record.serial },
                    { key = "mac", type = "string", value = info.mac } }
  for k, v in pairs(record) do
    if k ~= "serial" and k ~= "mac" then entries[#entries + 1] = { key = k, type = "string", value = v } end
  end
  table.sort(entries, function(a, b) return a.key < b.key end)
  local image = nvs.build{ size = part.size, { namespace = "factory", entries = entries } }
  s.nvs_sha256 = sha256_hex(image)
  dev:write(part.offset, image, { skip = true, progress = job:progress("nvs") })   -- verified by MD5

  local back = nvs.parse(dev:read(part.offset, part.size))
  for _, e in ipairs(back) do
    if e.namespace == "factory" and e.key == "serial" and e.value == record.serial then return record.serial end
  end
  errors.raise("provision::verify", "the serial read back from the NVS partition is not " .. record.serial)
end, {
  jobs = o.jobs,
  connect = { baud = o.baud },
  progress = function(ev)
    if ev.kind == "start" then state[ev.index] = { port = ev.port } end
    lines(ev)
    if ev.kind == "done" then
      local s, r = state[ev.index], ev.result
      s.time = os.date("!%Y-%m-%dT%H:%M:%SZ")
      s.result = r.ok and "ok" or "failed"
      if not r.ok then s.error_code, s.error = r.err.code, r.err.message end
      log:write(json_line(s))
      log:flush()
    end
  end,
})
log:close()

print(("provisioned %d of %d devices"):format(#results - #results.failed, #results))
for _, r in ipairs(results.failed) do
  print(("  %s failed: %s [%s]"):format(r.label, r.err.message, r.err.code))
end
return results.all_ok and 0 or 1
