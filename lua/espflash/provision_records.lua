--- Which provisioning record each device gets (`espflash provision`): the
--- records come from a CSV (the first column is the record's id, logged as
--- `serial`) or from a counter; the JSON-lines log of earlier runs binds
--- the MAC of each device provisioned to its record, so such a device gets
--- its record again and no record goes to two provisioned devices.
---
---     local recs = records.new(records.from_csv(text, "serials.csv"), records.read_log(log_text))
---     local r = recs:take("aa:bb:cc:dd:ee:ff")   --> {serial = "SN-0001", fields = {...}, reused = false}
---
--- `take` never waits for a port, so among the devices of one
--- `each_device` it is atomic: no two devices can take the same record.
local errors = require("espflash.errors")
local nvs_csv = require("espflash.nvs_csv")

local M = {}

local function fail(code, message, hint)
  errors.raise("espflash::provision::" .. code, message, hint)
end

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

--- A MAC address in the form dev:info() gives it: lower case, colons.
function M.normalize_mac(mac)
  return (trim(mac):lower():gsub("-", ":"))
end

--- Records from CSV text: a header row naming the columns, then one row per
--- record. The first column is the record's id (unique, not empty). An
--- optional `mac` column reserves a row for the device with that MAC.
--- `name` (the file's name) starts error messages. Returns a source
--- `{kind = "csv", name, columns, rows = {{serial, fields, mac, line}}}`.
function M.from_csv(text, name)
  local ok, recs = pcall(nvs_csv.records, text:gsub("^\239\187\191", ""))
  if not ok then fail("records", ("%s: %s"):format(name, recs)) end
  local src = { kind = "csv", name = name, columns = {}, rows = {}, by_serial = {} }
  for _, r in ipairs(recs) do
    local fields = {}
    for i, f in ipairs(r.fields) do fields[i] = trim(f) end
    if #src.columns == 0 then
      for i, f in ipairs(fields) do
        if f == "" then fail("records", ("%s: line %d: column %d of the header has no name"):format(name, r.line, i)) end
        src.columns[i] = f
      end
    elseif table.concat(fields) ~= "" then
      local row = { serial = fields[1], fields = {}, line = r.line }
      for i, col in ipairs(src.columns) do row.fields[col] = fields[i] or "" end
      if row.serial == "" then
        fail("records", ("%s: line %d: the record has no %s (the first column)"):format(name, r.line, src.columns[1]))
      end
      if src.by_serial[row.serial] then
        fail("records", ("%s: line %d: %s '%s' is also on line %d"):format(name, r.line, src.columns[1],
          row.serial, src.by_serial[row.serial].line), "Every record needs an id of its own")
      end
      local mac = row.fields.mac
      row.mac = mac and mac ~= "" and M.normalize_mac(mac) or nil
      src.rows[#src.rows + 1], src.by_serial[row.serial] = row, row
    end
  end
  if #src.columns == 0 then
    fail("records", name .. ": the file is empty", "Its first row names the columns, e.g. serial,batch")
  end
  return src
end

-- The counter's FORMAT split around its one integer conversion.
local function parse_format(fmt, spec)
  local pre, conv, post = fmt:match("^(.-)(%%[-0]?%d*d)(.*)$")
  local bad = not conv
  for _, part in ipairs({ pre or "", post or "" }) do
    if part:gsub("%%%%", ""):find("%", 1, true) then bad = true end
  end
  if bad then
    errors.usage(("invalid counter '%s': FORMAT needs exactly one %%d (write %%%% for a %%)"):format(spec),
      "Write START[:FORMAT], e.g. 1000 or 1:SN-%05d")
  end
  local function lit(s) return (s:gsub("%%%%", "%%"):gsub("%W", "%%%0")) end
  return "^" .. lit(pre) .. "(%d+)" .. lit(post) .. "$"
end

--- A counter source from `START[:FORMAT]`: serials FORMAT:format(n) for n =
--- START, START+1, … (FORMAT has one `%d`, default "%d"), skipping the ones
--- the log already holds.
function M.counter(spec)
  local start, fmt = tostring(spec):match("^(%d+):(.*)$")
  if not start then start, fmt = tostring(spec):match("^(%d+)$"), "%d" end
  if not start or #start > 15 then
    errors.usage(("invalid counter '%s'"):format(tostring(spec)), "Write START[:FORMAT], e.g. 1000 or 1:SN-%05d")
  end
  return { kind = "counter", name = "the counter", columns = {}, start = tonumber(start), format = fmt,
           pattern = parse_format(fmt, spec) }
end

--- Reads the JSON-lines log of earlier runs (text; nil or "" for none):
--- every line with `"result":"ok"`, a `mac` and a `serial` binds that MAC
--- to that record (a failed device's record is free again). Returns
--- `{bound = {[mac] = serial}, owner = {[serial] = mac}, lines = n}`.
--- A line that is not a JSON object raises `espflash::provision::log`.
function M.read_log(text, name)
  local cjson = require("cjson")
  local index, n = { bound = {}, owner = {}, lines = 0 }, 0
  for line in (text or ""):gmatch("[^\n]*") do
    n = n + 1
    if line:find("%S") then
      local ok, rec = pcall(cjson.decode, line)
      if not ok or type(rec) ~= "table" then
        fail("log", ("%s: line %d is not a JSON object"):format(name or "the log", n),
          "Each line of the log is one device's record; remove or repair the damaged line")
      end
      index.lines = index.lines + 1
      if rec.result == "ok" and type(rec.mac) == "string" and type(rec.serial) == "string" then
        local mac = M.normalize_mac(rec.mac)
        index.bound[mac] = rec.serial
        index.owner[rec.serial] = index.owner[rec.serial] or mac
      end
    end
  end
  return index
end

local Records = {}
Records.__index = Records

--- The assigner over `source` (from_csv or counter) and `index` (read_log).
function M.new(source, index)
  index = index or { bound = {}, owner = {} }
  local self = setmetatable({ source = source, bound = index.bound, owner = index.owner,
                              next_n = source.start }, Records)
  if source.kind == "counter" then
    for serial in pairs(self.owner) do
      local n = tonumber(serial:match(source.pattern) or "")
      if n and source.format:format(n) == serial and n >= self.next_n then self.next_n = n + 1 end
    end
  end
  return self
end

local function give(self, mac, serial, fields, reused)
  self.bound[mac], self.owner[serial] = serial, self.owner[serial] or mac
  return { serial = serial, fields = fields, reused = reused }
end

--- The record of the device with MAC `mac`: the one the log (or this run)
--- gave it, else its reserved CSV row, else the next unused row or number.
--- Returns `{serial, fields = {column = value}, reused}`.
function Records:take(mac)
  mac = M.normalize_mac(mac)
  local src, serial = self.source, self.bound[mac]
  if serial then
    if src.kind == "counter" then return give(self, mac, serial, {}, true) end
    local row = src.by_serial[serial]
    if not row then
      fail("records", ("the device %s was given %s '%s' (see the log), which %s no longer has")
        :format(mac, src.columns[1], serial, src.name), "Put the row back, or remove the device's lines from the log")
    end
    return give(self, mac, serial, row.fields, true)
  end
  if src.kind == "counter" then
    local n = self.next_n
    while self.owner[src.format:format(n)] do n = n + 1 end
    self.next_n = n + 1
    return give(self, mac, src.format:format(n), {}, false)
  end
  local free
  for _, row in ipairs(src.rows) do
    if not self.owner[row.serial] then
      if row.mac == mac then return give(self, mac, row.serial, row.fields, false) end
      free = free or (not row.mac and row)
    end
  end
  if not free then
    fail("no_records", ("no unused record left in %s for the device %s"):format(src.name, mac),
      "Add rows to the CSV; devices already in the log keep theirs")
  end
  return give(self, mac, free.serial, free.fields, false)
end

--- How many records are still free (CSV rows not given out nor reserved
--- for another MAC; nil for a counter).
function Records:free()
  if self.source.kind == "counter" then return nil end
  local n = 0
  for _, row in ipairs(self.source.rows) do
    if not self.owner[row.serial] and not row.mac then n = n + 1 end
  end
  return n
end

return M
