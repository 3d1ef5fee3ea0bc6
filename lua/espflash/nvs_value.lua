--- NVS values: the integer types and their ranges, the CSV encodings
--- (u8 … i64, string, hex2bin, base64, binary) turned into what an entry
--- stores, and values shown as text. Used by espflash.nvs; raises plain
--- strings (the caller adds where the value came from).
local core = require("espflash.core")

local M = {}

--- Integer types: item type code, byte count, signedness.
M.INTEGER = {
  u8 = { code = 0x01, bytes = 1 }, i8 = { code = 0x11, bytes = 1, signed = true },
  u16 = { code = 0x02, bytes = 2 }, i16 = { code = 0x12, bytes = 2, signed = true },
  u32 = { code = 0x04, bytes = 4 }, i32 = { code = 0x14, bytes = 4, signed = true },
  u64 = { code = 0x08, bytes = 8 }, i64 = { code = 0x18, bytes = 8, signed = true },
}
--- The encodings a CSV row (or a Lua entry) may name, in nvs_partition_gen's order.
M.ENCODINGS = { "u8", "i8", "u16", "i16", "u32", "i32", "u64", "i64", "string", "hex2bin", "base64", "binary" }
--- The encodings a `file` row may use.
M.FILE_ENCODINGS = { string = true, hex2bin = true, base64 = true, binary = true }

local KNOWN = {}
for _, e in ipairs(M.ENCODINGS) do KNOWN[e] = true end
KNOWN.blob = true

--- True when `enc` is an encoding `M.convert` accepts ("blob" is raw bytes).
function M.known(enc) return KNOWN[enc] == true end

--- The unsigned decimal text of a 64-bit pattern (a Lua integer).
function M.unsigned(v)
  if v >= 0 then return string.format("%d", v) end
  local q = (v >> 1) // 5
  return string.format("%d%d", q, v - q * 10)
end

-- Magnitude of unsigned decimal or 0x-hex digits as a 64-bit pattern, or nil
-- when it exceeds 2^64 - 1.
local MAX_DIV10 = 1844674407370955161      -- (2^64 - 1) // 10
local function magnitude(digits, hex)
  local v = 0
  if hex then
    if #digits:gsub("^0+", "") > 16 then return nil end
    for c in digits:gmatch(".") do v = (v << 4) | tonumber(c, 16) end
    return v
  end
  for c in digits:gmatch(".") do
    local d = c:byte() - 48
    if math.ult(MAX_DIV10, v) or (v == MAX_DIV10 and d > 5) then return nil end
    v = v * 10 + d
  end
  return v
end

local function range_text(info)
  if info.signed then
    local half = 1 << (info.bytes * 8 - 1)
    return ("%d..%d"):format(-half, half - 1)
  end
  return "0.." .. (info.bytes == 8 and "18446744073709551615" or ("%d"):format((1 << (info.bytes * 8)) - 1))
end

--- Parses `text` (decimal, optional sign and `_` between digits as Python's
--- int() allows, or 0x hex) as integer type `t`; returns the value (u64
--- above 2^63 - 1 as the negative integer with the same bits).
function M.parse_integer(t, text)
  local info = M.INTEGER[t]
  local s = tostring(text):match("^%s*(.-)%s*$")
  local sign, body = s:match("^([+-]?)(.*)$")
  local hex = body:match("^0[xX](%x[%x_]*)$")
  local digits = hex or body:match("^%d[%d_]*$")
  if not digits or digits:find("__", 1, true) or digits:sub(-1) == "_" then
    error(("'%s' is not an integer"):format(tostring(text)), 0)
  end
  local mag = magnitude(digits:gsub("_", ""), hex ~= nil)
  if not mag then error(("%s is out of range for %s (%s)"):format(s, t, range_text(info)), 0) end
  local neg = sign == "-" and mag ~= 0
  local bits = info.bytes * 8
  if not info.signed then
    if neg or (bits < 64 and math.ult((1 << bits) - 1, mag)) then
      error(("%s is out of range for %s (%s)"):format(s, t, range_text(info)), 0)
    end
    return mag
  end
  local limit = neg and (1 << (bits - 1)) or ((1 << (bits - 1)) - 1)
  if math.ult(limit, mag) then
    error(("%s is out of range for %s (%s)"):format(s, t, range_text(info)), 0)
  end
  return neg and -mag or mag
end

--- Checks a Lua number (or numeric text) for integer type `t`; returns the integer.
function M.check_integer(t, v)
  if type(v) == "string" then return M.parse_integer(t, v) end
  local i = math.tointeger(v)
  if not i then error(("%s is not an integer"):format(tostring(v)), 0) end
  local info = M.INTEGER[t]
  if info.bytes == 8 then return i end       -- any 64-bit pattern
  local bits = info.bytes * 8
  local lo, hi = 0, (1 << bits) - 1
  if info.signed then lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1 end
  if i < lo or i > hi then
    error(("%d is out of range for %s (%s)"):format(i, t, range_text(info)), 0)
  end
  return i
end

--- Decodes hex digits (whitespace around them ignored) into bytes.
function M.hex2bin(text)
  local s = text:match("^%s*(.-)%s*$")
  if #s % 2 ~= 0 then error(("hex data has an odd number of digits (%d)"):format(#s), 0) end
  local bad = s:find("%X")
  if bad then error(("'%s' at position %d is not a hex digit"):format(s:sub(bad, bad), bad), 0) end
  return (s:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end))
end

--- Decodes base64 text (whitespace and line breaks ignored) into bytes.
function M.base64(text)
  local s = text:gsub("%s", "")
  local out, msg = core.base64_decode(s)
  if not out then error("invalid base64: " .. tostring(msg):gsub("^[%u_]+: ", ""), 0) end
  return out
end

--- Turns a value given with an encoding into an entry: returns the stored
--- type ("u8" … "i64", "string" or "blob") and its value (an integer, the
--- string's bytes without the NUL, or the blob's bytes).
function M.convert(enc, value)
  if M.INTEGER[enc] then return enc, M.check_integer(enc, value) end
  if type(value) ~= "string" then
    error(("a %s value must be a string, got %s"):format(enc, type(value)), 0)
  end
  if enc == "string" then return "string", value end
  if enc == "hex2bin" then return "blob", M.hex2bin(value) end
  if enc == "base64" then return "blob", M.base64(value) end
  if enc == "binary" or enc == "blob" then return "blob", value end
  error(("unknown encoding '%s' (use %s)"):format(enc, table.concat(M.ENCODINGS, ", ")), 0)
end

local ESCAPES = { ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t", ["\\"] = "\\\\", ['"'] = '\\"' }

--- A string value as a quoted line: escapes for quotes, backslashes and control bytes.
function M.quote(s)
  local class = utf8.len(s) and '[%c\\"]' or '[%c\\"\128-\255]'   -- keep valid UTF-8
  return '"' .. s:gsub(class, function(c)
    return ESCAPES[c] or ("\\x%02x"):format(c:byte())
  end) .. '"'
end

--- A blob as text: its size and hex bytes (the first `max` bytes, default 32).
function M.blob_text(b, max)
  max = max or 32
  local hex = b:sub(1, max):gsub(".", function(c) return ("%02x"):format(c:byte()) end)
  if #b > max then hex = hex .. "…" end
  return ("(%d bytes) %s"):format(#b, hex)
end

--- The value of a parsed entry as one line of text.
function M.text(e)
  if e.type == "u64" then return M.unsigned(e.value) end
  if M.INTEGER[e.type] then return string.format("%d", e.value) end
  if e.type == "string" then return M.quote(e.value) end
  return M.blob_text(e.value)
end

return M
