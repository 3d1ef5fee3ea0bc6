--- Partition tables in the binary form the bootloader reads: 32-byte entries
--- `AA 50 | type | subtype | offset u32 | size u32 | name[16] | flags u32`,
--- an MD5 entry (`EB EB`, 14 x FF, MD5 of the entries before it), then 0xFF.
local core = require("espflash.core")
local errors = require("espflash.errors")

local M = {}

M.MAGIC = "\xAA\x50"
M.MD5_MAGIC = "\xEB\xEB" .. ("\xFF"):rep(14)
M.ENTRY = 32
--- Length of a generated table (what flash writes at the table offset).
M.TABLE_LEN = 0xC00
--- Entries a generated table can hold with its MD5 entry and end marker.
M.MAX_ENTRIES = M.TABLE_LEN // M.ENTRY - 2

local END_MARKER = ("\xFF"):rep(M.ENTRY)
local FMT = "<c2BBI4I4c16I4"

local function fail(fmt, ...)
  errors.raise("espflash::partition_table::invalid", "Failed to parse partition table: " .. fmt:format(...),
    "Give a binary table as ESP-IDF writes it (partition-table.bin) or a CSV file")
end

local function hex(s)
  return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end))
end

--- True when `data` looks like a binary table (starts with an entry or the
--- MD5 entry).
function M.detect(data)
  return data:sub(1, 2) == M.MAGIC or data:sub(1, 16) == M.MD5_MAGIC
end

--- Parses binary table bytes into a list of partitions `{name, type,
--- subtype, offset, size, flags, index}`. Any type, subtype and flag value
--- is kept as a number. Raises on a bad length, a bad entry, a wrong MD5 or
--- a missing end marker; `opts.allow_no_end` accepts a table that fills the
--- data without an end marker.
function M.parse(data, opts)
  opts = opts or {}
  if #data % M.ENTRY ~= 0 then
    fail("The length of the binary data is not a multiple of 32 (%d bytes)", #data)
  end
  local parts, rows = {}, {}
  for pos = 1, #data, M.ENTRY do
    local row = data:sub(pos, pos + M.ENTRY - 1)
    if row == END_MARKER then return parts end
    if row:sub(1, 16) == M.MD5_MAGIC then
      local want = row:sub(17)
      local got = core.md5(table.concat(rows))
      if want ~= got then
        fail("The binary's checksum is invalid (expected %s, computed %s)", hex(want), hex(got))
      end
    elseif row:sub(1, 2) == M.MAGIC then
      local _, ty, sub, offset, size, name, flags = string.unpack(FMT, row)
      rows[#rows + 1] = row
      name = name:match("^([^%z]*)")
      parts[#parts + 1] = { name = name, type = ty, subtype = sub, offset = offset, size = size,
                            flags = flags, index = #parts + 1 }
    else
      fail("entry %d at offset 0x%x starts with %02x %02x, not the entry magic AA 50",
        (pos - 1) // M.ENTRY + 1, pos - 1, row:byte(1), row:byte(2))
    end
  end
  if opts.allow_no_end then return parts end
  fail("No end marker was found in the binary data")
end

--- The 0xC00-byte binary table for a list of partitions.
function M.format(parts)
  if #parts > M.MAX_ENTRIES then
    errors.raise("espflash::partition_table::invalid",
      ("The partition table has %d entries; a table holds at most %d"):format(#parts, M.MAX_ENTRIES))
  end
  local rows = {}
  for i, p in ipairs(parts) do
    local name = p.name:sub(1, 16)
    rows[i] = string.pack(FMT, M.MAGIC, p.type, p.subtype, p.offset, p.size,
      name .. ("\0"):rep(16 - #name), p.flags)
  end
  local body = table.concat(rows)
  body = body .. M.MD5_MAGIC .. core.md5(body)
  return body .. ("\xFF"):rep(M.TABLE_LEN - #body)
end

return M
