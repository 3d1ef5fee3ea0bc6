--- NVS CSV files, as ESP-IDF's nvs_partition_gen reads them: a header row
--- naming the columns key,type,encoding,value, then one row per namespace
--- or entry; lines starting with `#` are comments; fields may be quoted
--- ("a,b", "say ""hi"""), even across lines. Also writes such CSV back.
local value = require("espflash.nvs_value")

local M = {}

--- Splits CSV `text` into records `{fields = {...}, line = N}` (N is the
--- line the record starts on). Comment lines (first character `#`) and
--- empty lines are skipped. Raises a plain string on an unclosed quote.
function M.records(text)
  local out, line, pos, n = {}, 1, 1, #text
  while pos <= n do
    local c = text:sub(pos, pos)
    if c == "#" or c == "\n" or (c == "\r" and text:sub(pos + 1, pos + 1) == "\n") then
      local nl = text:find("\n", pos, true) or n
      pos, line = nl + 1, line + 1
    else
      local rec, start = {}, line
      while true do
        local parts = {}
        if text:sub(pos, pos) == '"' then
          -- quoted: up to the closing quote, "" standing for one quote
          local qline = line
          pos = pos + 1
          while true do
            local q = text:find('"', pos, true)
            if not q then error(("line %d: a quoted field is never closed"):format(qline), 0) end
            parts[#parts + 1] = text:sub(pos, q - 1)
            line = line + select(2, text:sub(pos, q - 1):gsub("\n", ""))
            pos = q + 1
            if text:sub(pos, pos) ~= '"' then break end
            parts[#parts + 1] = '"'
            pos = pos + 1
          end
        end
        -- unquoted text (or what follows a closing quote), quotes kept as they are
        local stop = text:find("[,\r\n]", pos) or n + 1
        parts[#parts + 1] = text:sub(pos, stop - 1)
        rec[#rec + 1] = table.concat(parts)
        pos = stop
        if text:sub(pos, pos) ~= "," then
          if text:sub(pos, pos) == "\r" then pos = pos + 1 end
          if text:sub(pos, pos) == "\n" then pos = pos + 1 end
          line = line + 1
          break
        end
        pos = pos + 1
      end
      out[#out + 1] = { fields = rec, line = start }
    end
  end
  return out
end

local COLUMNS = { "key", "type", "encoding", "value" }

local function trim(s) return (s or ""):match("^%s*(.-)%s*$") end

local function list(set)
  local t = {}
  for k in pairs(set) do t[#t + 1] = k end
  table.sort(t)
  return table.concat(t, ", ")
end

--- Turns CSV `text` into the item list espflash.nvs builds from:
--- `{kind = "namespace", name, where}` and `{kind = "entry", key, type,
--- value, where}`. `opts.name` prefixes messages (the file name),
--- `opts.read_file(path)` returns the bytes of a `file` row's value.
--- Raises a plain string naming the CSV line and the problem.
function M.items(text, opts)
  opts = opts or {}
  local prefix = opts.name and (opts.name .. ": ") or ""
  local ok, recs = pcall(M.records, text)
  if not ok then error(prefix .. recs, 0) end
  local items, col = {}, nil
  for _, r in ipairs(recs) do
    local where = ("%sline %d"):format(prefix, r.line)
    local blank = true
    for _, f in ipairs(r.fields) do if trim(f) ~= "" then blank = false end end
    if blank then
      -- nothing on this row
    elseif not col then
      col = {}
      for i, f in ipairs(r.fields) do col[trim(f):lower()] = i end
      for _, name in ipairs(COLUMNS) do
        if not col[name] then
          error(("%s: the header row must name the columns key,type,encoding,value (got '%s')")
            :format(where, table.concat(r.fields, ",")), 0)
        end
      end
    else
      local function get(name) return r.fields[col[name]] end
      local key, kind, enc = get("key") or "", trim(get("type")):lower(), trim(get("encoding")):lower()
      local v = get("value")
      if kind == "namespace" then
        items[#items + 1] = { kind = "namespace", name = key, where = where }
      elseif kind == "data" or kind == "file" then
        if enc == "" then error(("%s: key '%s' has no encoding"):format(where, key), 0) end
        if not value.known(enc) or enc == "blob" then
          error(("%s: unknown encoding '%s' for key '%s' (use %s)")
            :format(where, enc, key, table.concat(value.ENCODINGS, ", ")), 0)
        end
        if kind == "file" then
          if not value.FILE_ENCODINGS[enc] then
            error(("%s: a file entry's encoding must be one of %s, not '%s'")
              :format(where, list(value.FILE_ENCODINGS), enc), 0)
          end
          if trim(v) == "" then error(("%s: key '%s' names no file"):format(where, key), 0) end
          local data, msg = opts.read_file(trim(v))
          if not data then error(("%s: cannot read file for key '%s': %s"):format(where, key, msg), 0) end
          v = data
        elseif v == nil then
          error(("%s: key '%s' has no value"):format(where, key), 0)
        end
        local okc, t, val = pcall(value.convert, enc, v)
        if not okc then error(("%s: key '%s': %s"):format(where, key, t), 0) end
        items[#items + 1] = { kind = "entry", key = key, type = t, value = val, where = where }
      else
        error(("%s: unknown type '%s' for key '%s' (use namespace, data or file)")
          :format(where, trim(get("type")), key), 0)
      end
    end
  end
  if not col then error(prefix .. "the CSV is empty; it needs the header row key,type,encoding,value", 0) end
  return items
end

local function field(s)
  if s:find('[,"\r\n]') or s:match("^%s") or s:match("%s$") or s:sub(1, 1) == "#" then
    return '"' .. s:gsub('"', '""') .. '"'
  end
  return s
end

--- CSV text nvs_partition_gen (and `espflash nvs-gen`) reads back into the
--- same entries: parsed entries `{namespace, key, type, value}` in order,
--- blobs as base64.
function M.format(entries)
  local core = require("espflash.core")
  local lines, ns = { "key,type,encoding,value" }, nil
  for _, e in ipairs(entries) do
    if e.namespace ~= ns then
      ns = e.namespace
      lines[#lines + 1] = field(ns) .. ",namespace,,"
    end
    local enc, v = e.type, nil
    if e.type == "u64" then
      v = value.unsigned(e.value)
    elseif value.INTEGER[e.type] then
      v = string.format("%d", e.value)
    elseif e.type == "string" then
      v = e.value
    else
      enc, v = "base64", core.base64_encode(e.value)
    end
    lines[#lines + 1] = ("%s,data,%s,%s"):format(field(e.key), enc, field(v))
  end
  return table.concat(lines, "\n") .. "\n"
end

return M
