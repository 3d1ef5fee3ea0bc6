--- The NVS reader: walks the pages of a partition image as ESP-IDF's
--- nvs_flash loads them (pages in sequence-number order, entries by their
--- state bitmap), checks every CRC and reassembles strings and blobs,
--- multi-page ones from their BLOB_DATA chunks and BLOB_IDX entry.
local page = require("espflash.nvs_page")

local M = {}

local PAGE, ENTRY, COUNT = page.PAGE_SIZE, page.ENTRY_SIZE, page.ENTRY_COUNT
local S, T = page.STATE, page.TYPE
local INT_FMT = {
  [T.u8] = { "u8", "<I1" }, [T.i8] = { "i8", "<i1" }, [T.u16] = { "u16", "<I2" }, [T.i16] = { "i16", "<i2" },
  [T.u32] = { "u32", "<I4" }, [T.i32] = { "i32", "<i4" }, [T.u64] = { "u64", "<i8" }, [T.i64] = { "i64", "<i8" },
}
local STATE_NAME = { [S.active] = "active", [S.full] = "full", [S.freeing] = "freeing" }

-- The state (2 bits) of entry `i` in a page's bitmap.
local function entry_state(bitmap, i)
  return (bitmap:byte(i // 4 + 1) >> (2 * (i % 4))) & 3
end

-- Header checks; returns a page record or nil and a problem text.
local function read_header(p, index)
  local state, seq, version = string.unpack("<I4I4B", p)
  local crc = string.unpack("<I4", p, 29)
  if state == S.empty then
    if p == ("\xFF"):rep(PAGE) then return nil end
    return nil, "state is uninitialised (0xFFFFFFFF) but the page holds data; skipped"
  end
  if not STATE_NAME[state] then
    return nil, state == S.corrupt and "marked corrupt; skipped"
      or ("unknown page state 0x%08X; skipped"):format(state)
  end
  local want = page.crc(p:sub(5, 28))
  if crc ~= want then
    return nil, ("header CRC mismatch (stored 0x%08X, computed 0x%08X); skipped"):format(crc, want)
  end
  if version ~= page.VERSION[1] and version ~= page.VERSION[2] then
    return nil, ("unsupported format version 0x%02X; skipped"):format(version)
  end
  return { index = index, seq = seq, state = STATE_NAME[state], version = version == 0xFE and 2 or 1,
    data = p }
end

-- Items of one page: {ns, type, span, chunk, key, data8, payload, entry}.
local function read_items(pg, problem)
  local items, bitmap, i = {}, pg.data:sub(33, 64), 0
  while i < COUNT do
    local st = entry_state(bitmap, i)
    if st ~= 2 then
      if st == 1 then problem(pg.index, i, "entry state bits are 01 (illegal); skipped") end
      i = i + 1
    else
      local off = 64 + i * ENTRY
      local e = pg.data:sub(off + 1, off + ENTRY)
      local ns, code, span, chunk, crc = string.unpack("<BBBBI4", e)
      local key = e:sub(9, 24):match("^[^%z]*")
      local it = { ns = ns, code = code, span = span, chunk = chunk, key = key, data8 = e:sub(25, 32),
        page = pg.index, entry = i }
      if crc ~= page.entry_crc(e) then
        problem(pg.index, i, ("entry CRC mismatch (key '%s'); skipped"):format(key))
        i = i + 1
      elseif span == 0 or span > COUNT - i then
        problem(pg.index, i, ("entry '%s' has a bad span %d; skipped"):format(key, span))
        i = i + 1
      else
        if code == T.string or code == T.blob or code == T.blob_data then
          local size, dcrc = string.unpack("<I2", e, 25), string.unpack("<I4", e, 29)
          local ok = span == (size + 31) // 32 + 1
          for k = i + 1, i + span - 1 do
            if entry_state(bitmap, k) ~= 2 then ok = false end
          end
          local payload = pg.data:sub(off + ENTRY + 1, off + ENTRY + size)
          if not ok then
            problem(pg.index, i, ("entry '%s': its %d data bytes do not match span %d; skipped")
              :format(key, size, span))
          elseif page.crc(payload) ~= dcrc then
            problem(pg.index, i, ("data CRC mismatch for key '%s'; skipped"):format(key))
          else
            it.payload = payload
            items[#items + 1] = it
          end
        else
          items[#items + 1] = it
        end
        i = i + span
      end
    end
  end
  return items
end

--- Parses an NVS partition image. Returns the entries `{namespace, key,
--- type, value, page, entry}` in flash order (type "u8" … "i64" with an
--- integer value, "string" without its NUL, "blob" as bytes) and the
--- problems found `{page, entry, message}` (page and entry 0-based; entry
--- nil for the page itself). Empty and erased entries are skipped; so are
--- items failing a CRC check, each reported.
function M.parse(data)
  local problems = {}
  local function problem(pg, entry, msg)
    problems[#problems + 1] = { page = pg, entry = entry, message = msg }
  end
  local pages = {}
  for index = 0, #data // PAGE - 1 do
    local pg, msg = read_header(data:sub(index * PAGE + 1, (index + 1) * PAGE), index)
    if pg then pages[#pages + 1] = pg elseif msg then problem(index, nil, msg) end
  end
  if #data % PAGE ~= 0 then
    problem(#data // PAGE, nil, ("%d bytes past the last whole page; ignored"):format(#data % PAGE))
  end
  table.sort(pages, function(a, b)
    if a.seq ~= b.seq then return a.seq < b.seq end
    return a.index < b.index
  end)
  local names, order, chunks, used = {}, {}, {}, {}
  for _, pg in ipairs(pages) do
    for _, it in ipairs(read_items(pg, problem)) do
      if it.ns == 0 then
        if it.code == T.u8 then names[it.data8:byte(1)] = it.key
        else problem(it.page, it.entry, ("entry '%s' in namespace 0 is not a namespace; skipped"):format(it.key)) end
      elseif it.code == T.blob_data then
        chunks[it.ns .. "\0" .. it.key .. "\0" .. it.chunk] = it
      elseif INT_FMT[it.code] or it.code == T.string or it.code == T.blob or it.code == T.blob_index then
        order[#order + 1] = it
      else
        problem(it.page, it.entry, ("entry '%s' has unknown type 0x%02X; skipped"):format(it.key, it.code))
      end
    end
  end
  local entries = {}
  for _, it in ipairs(order) do
    local e = { key = it.key, page = it.page, entry = it.entry, ns = it.ns }
    local fmt = INT_FMT[it.code]
    if fmt then
      e.type, e.value = fmt[1], string.unpack(fmt[2], it.data8)
    elseif it.code == T.string then
      e.type, e.value = "string", (it.payload:gsub("%z$", ""))
    elseif it.code == T.blob then
      e.type, e.value = "blob", it.payload
    else
      local size, count, start = string.unpack("<I4BB", it.data8)
      local parts, missing = {}, nil
      for c = start, start + count - 1 do
        local id = it.ns .. "\0" .. it.key .. "\0" .. (c & 0xFF)
        local ch = chunks[id]
        if ch then
          used[id] = true
          parts[#parts + 1] = ch.payload
        elseif not missing then
          missing = c - start + 1
        end
      end
      if missing then
        problem(it.page, it.entry, ("blob '%s': chunk %d of %d is missing"):format(it.key, missing, count))
        parts = nil
      end
      if parts then
        local blob = table.concat(parts)
        if #blob ~= size then
          problem(it.page, it.entry, ("blob '%s': its chunks hold %d bytes, the index says %d")
            :format(it.key, #blob, size))
        else
          e.type, e.value = "blob", blob
        end
      end
    end
    if e.type then entries[#entries + 1] = e end
  end
  for id, ch in pairs(chunks) do
    if not used[id] then
      problem(ch.page, ch.entry, ("blob chunk %d of '%s' belongs to no blob index; skipped")
        :format(ch.chunk, ch.key))
    end
  end
  for _, e in ipairs(entries) do
    e.namespace = names[e.ns]
    if not e.namespace then
      e.namespace = ("#%d"):format(e.ns)
      problem(e.page, e.entry, ("entry '%s' uses namespace index %d, which no namespace entry defines")
        :format(e.key, e.ns))
    end
  end
  table.sort(problems, function(a, b)
    if a.page ~= b.page then return a.page < b.page end
    return (a.entry or -1) < (b.entry or -1)
  end)
  return entries, problems, { pages = #data // PAGE, used = #pages }
end

return M
