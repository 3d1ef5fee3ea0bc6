--- NVS partition images: ESP-IDF's non-volatile storage format (version 2,
--- multi-page blobs; version 1 on request), built byte for byte as
--- ESP-IDF's nvs_partition_gen builds them, from a Lua table or a CSV, and
--- read back. See docs/nvs.md.
---
---     local nvs = require("espflash.nvs")
---     local image = nvs.build{ size = 0x6000,
---       { namespace = "cfg", entries = {
---         { key = "serial", type = "string", value = "SN1" },
---         { key = "id", type = "u32", value = 42 } } } }
---     for _, e in ipairs(nvs.parse(image)) do print(e.namespace, e.key, e.type, e.value) end
local errors = require("espflash.errors")
local page = require("espflash.nvs_page")
local value = require("espflash.nvs_value")
local csv = require("espflash.nvs_csv")
local reader = require("espflash.nvs_read")

local M = {}

M.PAGE_SIZE = page.PAGE_SIZE
M.MIN_SIZE = 3 * page.PAGE_SIZE
M.DEFAULT_SIZE = 0x6000
--- The value types an entry may name: the stored types and the CSV encodings.
M.TYPES = { "u8", "i8", "u16", "i16", "u32", "i32", "u64", "i64", "string", "blob",
            "binary", "hex2bin", "base64" }

local function invalid(msg)
  errors.raise("espflash::nvs::invalid_input", msg)
end

local function too_small(msg)
  errors.raise("espflash::nvs::too_small", msg, "Give a bigger partition size (--size, or `size` in nvs.build)")
end

local function check_size(size)
  if math.type(size) ~= "integer" or size % page.PAGE_SIZE ~= 0 or size < M.MIN_SIZE then
    errors.raise("espflash::nvs::invalid_size",
      ("The NVS partition size must be a multiple of 0x1000 and at least 0x3000, got %s")
        :format(math.type(size) == "integer" and ("0x%X"):format(size) or tostring(size)),
      "NVS keeps one page free; the smallest partition ESP-IDF mounts read-write is 0x3000 bytes")
  end
end

local function check_version(v)
  if v ~= 1 and v ~= 2 then
    errors.raise("espflash::nvs::invalid_version", ("The NVS format version must be 1 or 2, got %s"):format(tostring(v)),
      "Version 2 (the default) stores blobs across pages; version 1 is for ESP-IDF before v4.0")
  end
end

local function read_file(base_dir)
  return function(path)
    if base_dir and not path:match("^/") then path = base_dir .. "/" .. path end
    local f, msg = io.open(path, "rb")
    if not f then return nil, msg end
    local data = f:read("a")
    f:close()
    return data
  end
end

-- Builds the image from items (see espflash.nvs_csv.items).
local function build_items(items, size, version)
  check_size(size)
  check_version(version)
  local w = page.new(size, version, invalid, too_small)
  local seen, current = {}, nil
  for _, it in ipairs(items) do
    if it.kind == "namespace" then
      w:namespace(it.name, it.where)
      current = it.name
      seen[current] = seen[current] or {}
    else
      -- a key written twice makes an image whose reader keeps one of them
      -- (and, for blobs, a broken index): refuse it
      if current and seen[current][it.key] then
        invalid(("%s: key '%s' is given twice in namespace '%s'"):format(it.where, it.key, current))
      end
      if current then seen[current][it.key] = true end
      w:add(it.key, it.type, it.value, it.where)
    end
  end
  return w:finish()
end

-- Items from the Lua table form.
local function table_items(spec)
  local items, files = {}, read_file(spec.base_dir)
  for n, ns in ipairs(spec) do
    local where = ("namespace %d"):format(n)
    if type(ns) ~= "table" or type(ns.namespace) ~= "string" then
      invalid(where .. ": give it as { namespace = \"name\", entries = { ... } }")
    end
    items[#items + 1] = { kind = "namespace", name = ns.namespace, where = ("namespace '%s'"):format(ns.namespace) }
    if type(ns.entries or {}) ~= "table" then invalid(where .. ": entries must be a list of entries") end
    for i, e in ipairs(ns.entries or {}) do
      local at = ("namespace '%s' entry %d"):format(ns.namespace, i)
      if type(e) ~= "table" then invalid(at .. ": give it as { key = ..., type = ..., value = ... }") end
      local enc = e.type
      if type(enc) ~= "string" or not value.known(enc) then
        invalid(("%s (key '%s'): unknown type '%s' (use %s)"):format(at, tostring(e.key), tostring(enc),
          table.concat(M.TYPES, ", ")))
      end
      local v = e.value
      if e.file ~= nil then
        local data, msg = files(tostring(e.file))
        if not data then invalid(("%s (key '%s'): cannot read file: %s"):format(at, tostring(e.key), msg)) end
        v = data
      elseif v == nil then
        invalid(("%s (key '%s'): it has no value"):format(at, tostring(e.key)))
      end
      local ok, t, val = pcall(value.convert, enc, v)
      if not ok then invalid(("%s (key '%s'): %s"):format(at, tostring(e.key), t)) end
      items[#items + 1] = { kind = "entry", key = e.key, type = t, value = val, where = at }
    end
  end
  return items
end

--- Builds an NVS partition image from a table: `{ size = 0x6000, version
--- = 2, base_dir = ".", { namespace = "cfg", entries = { {key, type,
--- value} or {key, type, file}, ... } }, ... }`. Types: u8 i8 u16 i16 u32 i32
--- u64 i64 (integers, or their decimal/0x text), string, blob (bytes), and
--- the CSV encodings hex2bin, base64, binary. A namespace named again
--- reuses its index. Returns the image bytes and `{pages_used, pages,
--- entries, namespaces}`. Raises `espflash::nvs::invalid_input`,
--- `::invalid_size` or `::too_small`.
function M.build(spec)
  if type(spec) ~= "table" then invalid("nvs.build takes a table: { size = ..., { namespace = ..., entries = {...} } }") end
  local items = table_items(spec)
  return build_items(items, spec.size or M.DEFAULT_SIZE, spec.version or 2)
end

--- Builds an NVS image from CSV text in nvs_partition_gen's format
--- (key,type,encoding,value). `opts`: `size` (default 0x6000), `version`
--- (default 2), `base_dir` (where `file` rows' paths start), `name` (the
--- CSV's name in error messages). Returns the image and its stats.
function M.from_csv(text, opts)
  opts = opts or {}
  if type(text) ~= "string" then invalid("nvs.from_csv takes the CSV text as a string") end
  local ok, items = pcall(csv.items, text:gsub("^\239\187\191", ""), { name = opts.name,
    read_file = read_file(opts.base_dir) })
  if not ok then
    if errors.is(items) then error(items, 0) end
    invalid(tostring(items))
  end
  return build_items(items, opts.size or M.DEFAULT_SIZE, opts.version or 2)
end

--- Parses an NVS partition image: returns the entries `{namespace, key,
--- type, value, ns, page, entry}` (type "u8" … "i64" with an integer value —
--- u64 above 2^63 - 1 as the negative integer with the same bits —,
--- "string", or "blob"), the problems found `{page, entry, message}`
--- (corrupt pages and entries, CRC mismatches, broken blobs; each item
--- concerned is skipped) and `{pages, used}`. Erased entries are skipped.
function M.parse(data)
  if type(data) ~= "string" then invalid("nvs.parse takes the image bytes as a string") end
  if #data < page.PAGE_SIZE then
    errors.raise("espflash::nvs::invalid_image",
      ("An NVS partition is at least one 4096-byte page; got %d bytes"):format(#data))
  end
  return reader.parse(data)
end

--- A problem record as text: "page 2 entry 5: …".
function M.problem_text(p)
  if p.entry then return ("page %d entry %d: %s"):format(p.page, p.entry, p.message) end
  return ("page %d: %s"):format(p.page, p.message)
end

--- The entries (as `parse` returns them) as an aligned table with a header
--- row, for `espflash nvs-dump`; then, when given, the problems.
function M.format(entries, problems)
  local rows = { { "Namespace", "Key", "Type", "Value" } }
  for _, e in ipairs(entries) do
    rows[#rows + 1] = { e.namespace, e.key, e.type, value.text(e) }
  end
  local width = { 0, 0, 0 }
  for _, r in ipairs(rows) do
    for c = 1, 3 do width[c] = math.max(width[c], utf8.len(r[c]) or #r[c]) end
  end
  local lines = {}
  for _, r in ipairs(rows) do
    local cells = {}
    for c = 1, 3 do cells[c] = r[c] .. (" "):rep(width[c] - (utf8.len(r[c]) or #r[c])) end
    lines[#lines + 1] = table.concat(cells, "  ") .. "  " .. r[4]
  end
  for _, p in ipairs(problems or {}) do lines[#lines + 1] = "problem: " .. M.problem_text(p) end
  return table.concat(lines, "\n") .. "\n"
end

--- The entries as CSV that `nvs.from_csv` / `espflash nvs-gen` (and
--- nvs_partition_gen) turn back into the same entries; blobs in base64.
function M.to_csv(entries)
  return csv.format(entries)
end

return M
