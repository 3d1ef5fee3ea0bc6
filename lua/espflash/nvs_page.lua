--- The NVS page writer: lays out namespaces and entries in 4096-byte pages
--- exactly as ESP-IDF's nvs_partition_gen (esp-idf-nvs-partition-gen) does,
--- so the same input gives the same bytes. Used by espflash.nvs.
---
--- Page: 32-byte header (state, seq, version, 19 x 0xFF, CRC32 of bytes
--- 4..27), 32-byte entry state bitmap (2 bits an entry: 11 empty, 10
--- written, 00 erased), 126 entries of 32 bytes. Entry: ns, type, span,
--- chunk index, CRC32 (of bytes 0..3 and 8..31), key[16], data[8].
local core = require("espflash.core")

local M = {}

M.PAGE_SIZE, M.ENTRY_SIZE, M.ENTRY_COUNT = 4096, 32, 126
M.STATE = { empty = 0xFFFFFFFF, active = 0xFFFFFFFE, full = 0xFFFFFFFC, freeing = 0xFFFFFFF8,
            corrupt = 0xFFFFFFF0, invalid = 0 }
M.VERSION = { [1] = 0xFF, [2] = 0xFE }
M.TYPE = { u8 = 0x01, i8 = 0x11, u16 = 0x02, i16 = 0x12, u32 = 0x04, i32 = 0x14, u64 = 0x08, i64 = 0x18,
           string = 0x21, blob = 0x41, blob_data = 0x42, blob_index = 0x48 }
M.CHUNK_ANY = 0xFF
M.MAX_KEY = 15
M.MAX_NAMESPACES = 254
-- Longest string (with its NUL) or version-1 blob.
M.MAX_VARLEN = { [1] = 1984, [2] = 4000 }

local CRC_INIT = 0xFFFFFFFF
local FF = "\xFF"

--- CRC32 as ESP-IDF computes it: esp_rom_crc32_le(0xFFFFFFFF, …).
function M.crc(s) return core.crc32(s, CRC_INIT) end

--- The 32-byte page header for `state`, sequence number `seq`, format `version` (1 or 2).
function M.header(state, seq, version)
  local body = string.pack("<I4B", seq, M.VERSION[version]) .. FF:rep(19)
  return string.pack("<I4", state) .. body .. string.pack("<I4", M.crc(body))
end

--- The entry state bitmap of a page whose first `n` entries are written.
function M.bitmap(n)
  local bytes = {}
  for i = 0, 31 do
    local b = 0xFF
    for e = i * 4, i * 4 + 3 do
      if e < n then b = b & ~(1 << (2 * (e % 4))) end
    end
    bytes[#bytes + 1] = string.char(b)
  end
  return table.concat(bytes)
end

--- The CRC an entry carries: over bytes 0..3 and 8..31 of the 32-byte `e`.
function M.entry_crc(e) return M.crc(e:sub(1, 4) .. e:sub(9, 32)) end

--- A 32-byte entry with its CRC: namespace index, type code, span, chunk
--- index, key (at most 15 bytes, NUL padded) and the 8 data bytes.
function M.entry(ns, code, span, chunk, key, data8)
  local e = string.pack("<BBBB", ns, code, span, chunk) .. "\0\0\0\0" .. key .. ("\0"):rep(16 - #key) .. data8
  return e:sub(1, 4) .. string.pack("<I4", M.entry_crc(e)) .. e:sub(9)
end

local Writer = {}
Writer.__index = Writer

--- A writer for a partition of `size` bytes (a multiple of 4096, at least
--- 0x3000; the last page stays free as ESP-IDF needs) in format `version`.
--- `fail(msg)` raises input errors, `full(msg)` the error for data that
--- does not fit.
function M.new(size, version, fail, full)
  local w = setmetatable({ version = version, pages = {}, left = size - M.PAGE_SIZE,
    size = size, fail = fail, full = full, ns_count = 0, ns_by_name = {}, ns = nil,
    entries = 0 }, Writer)
  w:new_page()
  return w
end

-- nvs_partition_gen's create_new_page: the current page becomes FULL.
function Writer:new_page()
  local cur = self.pages[#self.pages]
  if cur and cur.state == M.STATE.active then cur.state = M.STATE.full end
  if self.left == 0 then
    self.full(("%s does not fit in a 0x%X-byte NVS partition (%d pages, the last kept free)")
      :format(self.at or "the data", self.size, self.size // M.PAGE_SIZE))
  end
  self.left = self.left - M.PAGE_SIZE
  self.cur = { seq = #self.pages, state = M.STATE.active, count = 0, parts = {} }
  self.pages[#self.pages + 1] = self.cur
end

-- Appends `s`, padded with 0xFF to `n` entries, to the current page.
function Writer:put(s, n)
  local p = self.cur
  p.parts[#p.parts + 1] = s .. FF:rep(n * M.ENTRY_SIZE - #s)
  p.count = p.count + n
end

local function check_key(self, key, where)
  if type(key) ~= "string" or key == "" then self.fail(where .. ": the key is empty") end
  if #key > M.MAX_KEY then
    self.fail(("%s: key '%s' is %d bytes long; NVS keys have at most %d"):format(where, key, #key, M.MAX_KEY))
  end
  if key:find("\0", 1, true) then self.fail(where .. ": the key contains a NUL byte") end
end

-- One-entry item (a number, or a namespace's index in namespace 0).
function Writer:primitive(ns, t, key, value)
  if self.cur.count >= M.ENTRY_COUNT then self:new_page() end
  local info = M.TYPE[t]
  local n = ({ u8 = 1, i8 = 1, u16 = 2, i16 = 2, u32 = 4, i32 = 4, u64 = 8, i64 = 8 })[t]
  local fmt = (t:sub(1, 1) == "i" and "<i" or "<I") .. n
  local data = string.pack(fmt, value) .. FF:rep(8 - n)
  self:put(M.entry(ns, info, 1, M.CHUNK_ANY, key, data), 1)
end

--- Starts (or, for a name seen before, returns to) namespace `name`.
function Writer:namespace(name, where)
  check_key(self, name, where)
  self.at = ("%s: namespace '%s'"):format(where, name)
  local idx = self.ns_by_name[name]
  if not idx then
    if self.ns_count >= M.MAX_NAMESPACES then
      self.fail(("%s: too many namespaces (NVS holds at most %d)"):format(where, M.MAX_NAMESPACES))
    end
    self.ns_count = self.ns_count + 1
    idx = self.ns_count
    self.ns_by_name[name] = idx
    self:primitive(0, "u8", name, idx)
  end
  self.ns = idx
end

-- A string, or a version-1 blob: one item whose data follows in the same page.
function Writer:single(code, key, data)
  local n = (#data + 31) // 32
  local head = string.pack("<I2", #data) .. "\xFF\xFF" .. string.pack("<I4", M.crc(data))
  self:put(M.entry(self.ns, code, n + 1, M.CHUNK_ANY, key, head), 1)
  self:put(data, n)
end

-- A version-2 blob: BLOB_DATA chunks filling pages, then a BLOB_IDX entry.
function Writer:multi(key, data)
  local chunks, offset, remaining = 0, 0, #data
  while true do
    local tailroom = (M.ENTRY_COUNT - self.cur.count - 1) * M.ENTRY_SIZE
    local size = math.min(tailroom, remaining)
    remaining = remaining - size
    local chunk = data:sub(offset + 1, offset + size)
    local n = (size + 31) // 32
    local head = string.pack("<I2", size) .. "\xFF\xFF" .. string.pack("<I4", M.crc(chunk))
    self:put(M.entry(self.ns, M.TYPE.blob_data, n + 1, chunks, key, head), 1)
    self:put(chunk, n)
    chunks = chunks + 1
    if remaining > 0 or tailroom - size < M.ENTRY_SIZE then self:new_page() end
    offset = offset + size
    if remaining == 0 then break end
  end
  local idx = string.pack("<I4BB", #data, chunks, 0) .. "\xFF\xFF"
  self:put(M.entry(self.ns, M.TYPE.blob_index, 1, M.CHUNK_ANY, key, idx), 1)
end

-- A string (type "string", `data` without its NUL) or blob.
function Writer:varlen(t, key, data, where)
  if t == "string" then data = data .. "\0" end
  local is_blob = t == "blob"
  local max = M.MAX_VARLEN[self.version]
  if (self.version == 1 or not is_blob) and #data > max then
    self.fail(("%s: the %s for key '%s' is %d bytes%s; at most %d fit in one page")
      :format(where, t, key, #data, is_blob and "" or " with its NUL", max))
  end
  local total = (#data + 31) // 32 + 1
  local multi = self.version == 2 and is_blob
  local count = self.cur.count
  if count >= M.ENTRY_COUNT or (count + total >= M.ENTRY_COUNT and not multi) then
    -- nvs_partition_gen leaves a page's last entry unused here; only an
    -- item filling a whole fresh page (which ESP-IDF accepts) goes past that
    if count > 0 then self:new_page() end
  end
  if multi then return self:multi(key, data) end
  self:single(is_blob and M.TYPE.blob or M.TYPE.string, key, data)
end

--- Adds entry `key` of type `t` ("u8" … "i64", "string", "blob") with
--- `value` to the current namespace; `where` names it in errors.
function Writer:add(key, t, value, where)
  if not self.ns then
    self.fail(("%s: entry '%s' comes before any namespace; start with a namespace row")
      :format(where, tostring(key)))
  end
  check_key(self, key, where)
  self.at = ("%s: key '%s'"):format(where, key)
  self.entries = self.entries + 1
  if t == "string" or t == "blob" then return self:varlen(t, key, value, where) end
  self:primitive(self.ns, t, key, value)
end

--- The image: used pages, then blank (all 0xFF) pages up to the size, the
--- last one the reserved page. Also returns `{pages_used, pages, entries, namespaces}`.
function Writer:finish()
  local out = {}
  for _, p in ipairs(self.pages) do
    out[#out + 1] = M.header(p.state, p.seq, self.version) .. M.bitmap(p.count)
      .. table.concat(p.parts) .. FF:rep((M.ENTRY_COUNT - p.count) * M.ENTRY_SIZE)
  end
  local used = #out
  local blank = FF:rep(M.PAGE_SIZE)
  for _ = 1, self.size // M.PAGE_SIZE - used do out[#out + 1] = blank end
  return table.concat(out), { pages_used = used, pages = self.size // M.PAGE_SIZE,
    entries = self.entries, namespaces = self.ns_count }
end

return M
