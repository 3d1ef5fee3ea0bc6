--- The NVS partition `espflash provision` writes to each device: a CSV in
--- nvs_partition_gen's format (docs/nvs.md) whose fields may hold `${name}`
--- placeholders, filled in per device with its record's columns, `serial`
--- (the record's id), `mac` and `chip`.
---
---     local tpl = provision_nvs.parse("key,type,encoding,value\nfactory,namespace,,\n"
---       .. "serial,data,string,${serial}\n", "nvs.csv")
---     local image = tpl:build({ serial = "SN-1", mac = "aa:00:00:00:00:01", chip = "esp32c3" }, 0x6000)
local errors = require("espflash.errors")
local nvs = require("espflash.nvs")
local nvs_csv = require("espflash.nvs_csv")

local M = {}

--- The partition size templates are checked with (any real one is smaller).
M.CHECK_SIZE = 0x100000

--- The names every template may use besides the records' columns.
M.DEVICE_NAMES = { "serial", "mac", "chip" }

local PLACEHOLDER = "%${([^}]*)}"

local function fail(message, hint)
  errors.raise("espflash::provision::template", message, hint)
end

local Template = {}
Template.__index = Template

--- A template from CSV text. `name` is its file name in messages,
--- `base_dir` where the paths of `file` rows start.
function M.parse(text, name, base_dir)
  local ok, recs = pcall(nvs_csv.records, text:gsub("^\239\187\191", ""))
  if not ok then fail(("%s: %s"):format(name, recs)) end
  return setmetatable({ records = recs, name = name, base_dir = base_dir }, Template)
end

--- The template used without --nvs-template: namespace `factory` with the
--- strings `serial`, `mac` and every other column of the records.
function M.default(columns)
  local lines = { "key,type,encoding,value", "factory,namespace,,", "serial,data,string,${serial}",
                  "mac,data,string,${mac}" }
  for i, col in ipairs(columns or {}) do
    if i > 1 and col ~= "serial" and col ~= "mac" then
      lines[#lines + 1] = ('"%s",data,string,"${%s}"'):format(col:gsub('"', '""'), col:gsub('"', '""'))
    end
  end
  return M.parse(table.concat(lines, "\n") .. "\n", "the default NVS template")
end

--- The placeholder values of a device: its record's columns, `serial`,
--- `mac` and `chip` (`record` from provision_records' take, `info` from
--- dev:info()).
function M.vars(record, info)
  local v = {}
  for k, val in pairs(record.fields or {}) do v[k] = val end
  v.serial, v.mac, v.chip = record.serial, info.mac, info.chip
  return v
end

local function quote(s) return '"' .. s:gsub('"', '""') .. '"' end

--- The CSV text with the placeholders replaced by `vars`, each record on
--- its own line number as in the template (so errors name its lines).
function Template:fill(vars)
  local out, line = {}, 1
  for _, r in ipairs(self.records) do
    while line < r.line do out[#out + 1] = "\n"; line = line + 1 end
    local fields = {}
    for i, f in ipairs(r.fields) do
      fields[i] = quote(f:gsub(PLACEHOLDER, function(name)
        local v = vars[name]
        if v == nil then
          fail(("%s: line %d: unknown placeholder ${%s}"):format(self.name, r.line, name),
            "Use a column of the records or serial, mac, chip")
        end
        return tostring(v)
      end))
      line = line + select(2, f:gsub("\n", ""))
    end
    out[#out + 1] = table.concat(fields, ",")
  end
  return table.concat(out) .. "\n"
end

--- Checks the template against every record `source` can give (the rows
--- of a CSV; for a counter, its first serial): unknown placeholders, CSV
--- mistakes and values that do not fit their types fail here, before any
--- device is touched, naming the record.
function Template:check(source)
  local samples = {}
  if source.kind == "csv" then
    for _, row in ipairs(source.rows) do samples[#samples + 1] = { serial = row.serial, fields = row.fields } end
  else
    samples[1] = { serial = source.format:format(source.start), fields = {} }
  end
  local device = { mac = "00:00:00:00:00:00", chip = "esp32" }
  for _, rec in ipairs(samples) do
    local ok, e = pcall(self.build, self, M.vars(rec, device), M.CHECK_SIZE)
    if not ok then
      if type(e) == "table" and tostring(e.code):match("^espflash::provision::") then error(e, 0) end
      fail(("%s (record %s)"):format(tostring(type(e) == "table" and e.message or e), rec.serial),
        "Fix the template or the record")
    end
  end
end

--- The NVS image (`size` bytes) for the placeholder values `vars`.
function Template:build(vars, size)
  return nvs.from_csv(self:fill(vars), { size = size, name = self.name, base_dir = self.base_dir })
end

return M
