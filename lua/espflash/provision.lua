--- Factory provisioning of many devices at once (`espflash provision`,
--- docs/provision.md): for every device, concurrently — connect, read the
--- MAC, take the device's record (espflash.provision_records), build its
--- NVS partition from the template (espflash.provision_nvs), flash the app
--- and the NVS partition (unchanged blocks skipped, each verified by MD5),
--- append one JSON line to the log, reset. A device already in the log
--- gets its record again, so re-running is safe.
---
---     local results = require("espflash.provision").run{
---       ports = "/dev/ttyUSB*", app = "app.elf", records = "serials.csv", log = "provision.jsonl",
---       progress = espflash.parallel.progress_lines(io.stderr) }
local core = require("espflash.core")
local errors = require("espflash.errors")
local flash = require("espflash.flash")
local json = require("espflash.json")
local parallel = require("espflash.parallel")
local records_mod = require("espflash.provision_records")
local template_mod = require("espflash.provision_nvs")
local types = require("espflash.partitions_types")

local M = {}

--- The fields of a log line, in the order they are written.
M.LOG_FIELDS = { "time", "port", "mac", "chip", "revision", "serial", "app_sha256", "nvs_sha256",
                 "result", "error_code", "error", "seconds" }

local function read_text(path, what)
  local f, msg = io.open(path, "rb")
  if not f then
    errors.raise("espflash::provision::" .. what, ("cannot read the %s file: %s"):format(what, msg))
  end
  local s = f:read("a")
  f:close()
  return s
end

local function sha256_hex(s)
  return (core.sha256(s):gsub(".", function(c) return ("%02x"):format(c:byte()) end))
end

--- One log record (a table with M.LOG_FIELDS keys) as a JSON line.
function M.log_line(rec)
  local parts = {}
  for _, k in ipairs(M.LOG_FIELDS) do
    if rec[k] ~= nil then parts[#parts + 1] = json.string(k) .. ":" .. json.encode(rec[k]) end
  end
  return "{" .. table.concat(parts, ",") .. "}\n"
end

--- The NVS partition of a partition table: the one labelled `nvs`, else
--- the first `data, nvs` partition. Raises `espflash::provision::no_nvs`.
function M.nvs_partition(tbl)
  local p = tbl:find("nvs") or tbl:find_all("data", types.SUBTYPES[types.TYPES.data].nvs)[1]
  if p then return p end
  errors.raise("espflash::provision::no_nvs", "the partition table has no NVS partition",
    "Give a partition table (--partition-table) with a `data, nvs` partition")
end

-- Everything that can be checked before a device is touched.
local function prepare(opts)
  if not opts.app then errors.usage("provisioning needs the app to flash (--app APP.elf)") end
  if not opts.log then errors.usage("provisioning needs a log file (--log FILE.jsonl)") end
  if (opts.records == nil) == (opts.counter == nil) then
    errors.usage("give either --records FILE.csv or --counter START[:FORMAT]")
  end
  local source = opts.records and records_mod.from_csv(read_text(opts.records, "records"), opts.records)
    or records_mod.counter(opts.counter)
  local tpl
  if opts.nvs_template then
    tpl = template_mod.parse(read_text(opts.nvs_template, "template"), opts.nvs_template,
      opts.nvs_template:match("^(.*)/[^/]*$") or ".")
  else
    tpl = template_mod.default(source.columns)
  end
  tpl:check(source)
  local f = io.open(opts.log, "rb")
  local index = records_mod.read_log(f and f:read("a") or "", opts.log)
  if f then f:close() end
  local elf = type(opts.app) == "table" and opts.app or require("espflash.elf").load(opts.app)
  local log, msg = io.open(opts.log, "a")
  if not log then errors.raise("espflash::provision::log", "cannot open the log for appending: " .. msg) end
  return records_mod.new(source, index), tpl, elf, log
end

-- The workflow of one device; `st` collects what goes into its log line.
local function provision_device(dev, job, st, ctx)
  local info = dev:info()
  if not info.mac then
    errors.raise("espflash::provision::no_mac", "the device is in Secure Download Mode: its MAC cannot be read",
      "Provisioning keys each device by its MAC")
  end
  st.mac, st.chip = info.mac, info.chip
  st.revision = info.revision and ("%d.%d"):format(info.revision.major, info.revision.minor)
  local rec = ctx.records:take(info.mac)
  st.serial = rec.serial
  job:info(("%s %s %s %s"):format(info.chip, info.mac, rec.reused and "keeps" or "gets",
    rec.reused and rec.serial .. " (provisioned before)" or rec.serial))

  local o, part, image = {}, nil, nil
  for k, v in pairs(ctx.image or {}) do o[k] = v end
  o.info = info
  o.log = function(level, msg) job:log(level, msg) end
  o.progress = function(label) return job:progress(label) end
  o.on_plan = function(plan) -- before anything is written: a bad record fails here
    part = M.nvs_partition(plan.table)
    image = ctx.template:build(template_mod.vars(rec, info), part.size)
    st.nvs_sha256 = sha256_hex(image)
  end
  local flashed = flash.write_app(dev, ctx.elf, o)
  st.app_sha256 = sha256_hex(flashed.plan.image.data)
  local label = ("0x%X"):format(part.offset)
  flash.write_segment(dev, part.offset, image, { progress = job:progress(label),
    on_skip = function() job:info(label .. " Skipped! (checksum matches)") end })
  return { serial = rec.serial, mac = info.mac, chip = info.chip, reused = rec.reused, nvs_offset = part.offset }
end

--- Provisions every device of `opts.ports` (a list or a `--port` value).
--- Options: `app` (ELF path or espflash.elf object), `records` (CSV path)
--- or `counter` ("START[:FORMAT]"), `nvs_template` (CSV path; default:
--- namespace `factory` with serial, mac and the records' columns),
--- `log` (JSON-lines path, appended to), `image` (flash.write_app's image
--- options: bootloader, partition_table, flash_mode, …), `connect`
--- (espflash.connect options), `jobs`, `timeout`, `progress(event)` (the
--- events of parallel.each_device). Returns each_device's results; a
--- result's `value` is `{serial, mac, chip, reused, nvs_offset}`.
function M.run(opts)
  local records, tpl, elf, log = prepare(opts)
  local ctx = { records = records, template = tpl, elf = elf, image = opts.image }
  local state = {}
  local ok, results = pcall(parallel.each_device, opts.ports, function(dev, i, job)
    return provision_device(dev, job, state[i], ctx)
  end, {
    jobs = opts.jobs, timeout = opts.timeout, connect = opts.connect, label = opts.label,
    progress = function(ev)
      if ev.kind == "start" then state[ev.index] = { port = ev.port } end
      if ev.kind == "done" then
        local st, r = state[ev.index] or { port = ev.port }, ev.result
        st.time = os.date("!%Y-%m-%dT%H:%M:%SZ")
        st.result = r.ok and "ok" or "failed"
        st.seconds = math.floor(r.seconds * 10 + 0.5) / 10
        if not r.ok then st.error_code, st.error = tostring(r.err.code), tostring(r.err.message or r.err) end
        log:write(M.log_line(st))
        log:flush()
      end
      if opts.progress then opts.progress(ev) end
    end,
  })
  log:close()
  if not ok then error(results, 0) end
  return results
end

--- The summary of `results` as lines: "provisioned N of M devices", then
--- one line per device (`LABEL MAC SERIAL`, or `LABEL failed: MESSAGE [CODE]`).
function M.summary(results)
  local lines = { ("provisioned %d of %d devices"):format(#results - #results.failed, #results) }
  for _, r in ipairs(results) do
    if r.ok then
      local v = r.value
      lines[#lines + 1] = ("  %s %s %s%s"):format(r.label, v.mac, v.serial, v.reused and " (again)" or "")
    else
      lines[#lines + 1] = ("  %s failed: %s [%s]"):format(r.label, tostring(r.err.message or r.err),
        tostring(r.err.code))
    end
  end
  return lines
end

return M
