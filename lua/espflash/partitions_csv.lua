--- Partition tables in ESP-IDF's CSV form: `Name, Type, SubType, Offset,
--- Size, Flags`, `#` comment lines, fields trimmed (also inside double
--- quotes, as espflash does), offsets optional.
local errors = require("espflash.errors")
local types = require("espflash.partitions_types")

local M = {}

M.MAX_NAME = 16
local APP_ALIGN, DATA_ALIGN = 0x10000, 0x1000

local function fail(line, fmt, ...)
  errors.raise("espflash::partition_table::invalid",
    ("Failed to parse partition table: line %d: %s"):format(line, fmt:format(...)),
    "See https://docs.espressif.com/projects/esp-idf/en/latest/esp32/api-guides/partition-tables.html")
end

-- Splits one CSV line into trimmed fields; double quotes group and "" escapes.
local function fields(line, n)
  local out, cur, i, quoted = {}, {}, 1, false
  while i <= #line do
    local c = line:sub(i, i)
    if quoted then
      if c == '"' and line:sub(i + 1, i + 1) == '"' then
        cur[#cur + 1] = '"'; i = i + 1
      elseif c == '"' then
        quoted = false
      else
        cur[#cur + 1] = c
      end
    elseif c == '"' then
      quoted = true
    elseif c == "," then
      out[#out + 1] = table.concat(cur):match("^%s*(.-)%s*$"); cur = {}
    else
      cur[#cur + 1] = c
    end
    i = i + 1
  end
  if quoted then fail(n, "unterminated quoted field") end
  out[#out + 1] = table.concat(cur):match("^%s*(.-)%s*$")
  return out
end

local TOO_BIG = 1 << 40
local FORMS = { { "^0[xX](%x+)$", 16, 8 }, { "^0[oO]([0-7]+)$", 8, 11 },
                { "^0[bB]([01]+)$", 2, 32 }, { "^(%d+)$", 10, 10 } }

--- Parses an integer as esp-idf-part does: decimal, 0x/0o/0b with optional
--- underscores, or digits with a K or M suffix. Nil when malformed.
function M.parse_int(s)
  if s:match("^_") or s:match("_$") then return nil end
  local digits, unit = s:match("^(%d+)([kKmM])$")
  if digits then
    digits = digits:gsub("^0+(%d)", "%1")
    if #digits > 10 then return TOO_BIG end
    return tonumber(digits) * ((unit == "k" or unit == "K") and 1024 or 1024 * 1024)
  end
  local body = s:gsub("_", "")
  for _, form in ipairs(FORMS) do
    local d = body:match(form[1])
    if d then
      d = d:gsub("^0+(.)", "%1")
      if #d > form[3] then return TOO_BIG end
      return tonumber(d, form[2])
    end
  end
  return nil
end

local function parse_type(n, s)
  local ty = types.TYPES[s]
  if ty then return ty end
  local v = M.parse_int(s)
  if not v or v > 0xFE or s:match("[kKmM]$") then
    fail(n, "invalid partition type '%s' (expected app, data, bootloader, partition_table or 0x00-0xFE)", s)
  end
  return v
end

local function parse_subtype(n, ty, s)
  local names = types.SUBTYPES[ty]
  if names and names[s] then return names[s] end
  local v = M.parse_int(s)
  if not v or v > 0xFE or s:match("[kKmM]$") then
    fail(n, "invalid partition subtype '%s' for type '%s' (expected %s)", s, types.type_name(ty),
      types.subtype_hint(ty))
  end
  return v
end

local function parse_u32(n, what, s)
  local v = M.parse_int(s)
  if not v then fail(n, "invalid partition %s '%s' (invalid partition size/offset format)", what, s) end
  if v > 0xFFFFFFFF then fail(n, "partition %s '%s' does not fit in 32 bits", what, s) end
  return v
end

local function parse_flags(n, s)
  local flags = 0
  if s == "" then return 0 end
  for word in (s .. ":"):gmatch("(.-):") do
    word = word:match("^%s*(.-)%s*$")
    local bit = types.FLAGS[word]
    if not bit then fail(n, "invalid partition flag '%s' (expected encrypted or readonly)", word) end
    flags = flags | bit
  end
  return flags
end

--- Parses CSV text into a list of partitions `{name, type, subtype, offset,
--- size, flags, line}`. Offsets left empty follow the previous partition
--- (the first at `first_offset`, default 0x9000), aligned to 64 KiB for app
--- partitions and 4 KiB for the others. Raises on malformed lines; the
--- table rules are checked by `espflash.partitions`.
function M.parse(text, first_offset)
  local parts = {}
  local next_offset = first_offset or 0x9000
  local n = 0
  for line in (text .. "\n"):gmatch("(.-)\r?\n") do
    n = n + 1
    local trimmed = line:match("^%s*(.-)%s*$")
    if trimmed ~= "" and trimmed:sub(1, 1) ~= "#" then
      local f = fields(trimmed, n)
      if #f < 5 then
        fail(n, "expected at least 5 fields (Name, Type, SubType, Offset, Size), found %d", #f)
      end
      local p = { line = n }
      if f[1] == "" then fail(n, "the partition name is empty") end
      if f[1]:find("\0", 1, true) then fail(n, "the partition name contains a NUL byte") end
      p.name = f[1]:sub(1, M.MAX_NAME)
      p.type = parse_type(n, f[2])
      p.subtype = parse_subtype(n, p.type, f[3])
      if f[5] == "" then fail(n, "the partition size is missing") end
      p.size = parse_u32(n, "size", f[5])
      if f[4] == "" then
        local align = p.type == types.TYPES.app and APP_ALIGN or DATA_ALIGN
        p.offset = next_offset + (align - next_offset % align) % align
      else
        p.offset = parse_u32(n, "offset", f[4])
      end
      p.flags = parse_flags(n, f[6] or "")
      next_offset = p.offset + p.size
      parts[#parts + 1] = p
    end
  end
  return parts
end

local function csv_field(s)
  if s:find('[,"#]') then
    return '"' .. s:gsub('"', '""') .. '"'
  end
  return s
end

-- Why no CSV can carry `name` (a binary table's, up to 16 bytes) to
-- ESP-IDF's gen_esp32part.py and espflash alike, or nil. Both strip the
-- whitespace around every field (espflash's `csv` reader even inside
-- quotes; ESP-IDF takes quotes literally), a line break ends a row, and
-- CSV is UTF-8 text.
local function unwritable(name)
  if not utf8.len(name) then return "is not UTF-8 text" end
  if name:find("[\r\n]") then return "contains a line break, which ends a CSV row" end
  if name:match("^%s") or name:match("%s$") then
    return "starts or ends with whitespace, which ESP-IDF and espflash strip from CSV fields"
  end
end

--- True when `name` can be written to CSV and read back unchanged.
function M.name_writable(name)
  return unwritable(name) == nil
end

--- CSV text for a list of partitions, with ESP-IDF's two header lines.
--- Raises when a name cannot survive CSV (leading or trailing whitespace,
--- a line break, bytes that are not UTF-8: only a binary table holds those) or a flags word has
--- bits CSV cannot name. Names with `,`, `"` or `#` are quoted.
function M.format(parts)
  local out = { "# ESP-IDF Partition Table\n# Name,Type,SubType,Offset,Size,Flags\n" }
  for _, p in ipairs(parts) do
    local why = unwritable(p.name)
    if why then
      local shown = p.name:gsub(utf8.len(p.name) and "%c" or "[%c\128-\255]",
        function(c) return ("\\x%02x"):format(c:byte()) end)
      errors.raise("espflash::partition_table::invalid",
        ("Partition name '%s' cannot be written as CSV: it %s"):format(shown, why),
        "Rename the partition, or keep this table in binary form (`espflash partition-table FILE` shows it)")
    end
    local names, unknown = types.flag_names(p.flags)
    if unknown ~= 0 then
      errors.raise("espflash::partition_table::invalid",
        ("Partition '%s' has flag bits 0x%x that the CSV format cannot express"):format(p.name, unknown),
        "Only the encrypted (0x1) and readonly (0x2) flags have CSV names")
    end
    out[#out + 1] = ("%s,%s,%s,0x%x,0x%x,%s\n"):format(csv_field(p.name), types.type_name(p.type),
      types.subtype_name(p.type, p.subtype), p.offset, p.size, table.concat(names, ":"))
  end
  return table.concat(out)
end

return M
