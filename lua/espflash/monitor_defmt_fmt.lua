--- defmt format strings (`"x = {=u8:#x}, y = {}"`): parsing them, reading
--- their arguments from a frame (defmt wire format 4: fixed-width
--- little-endian integers, u16 string indices, u32 lengths) and showing the
--- message the way defmt-decoder does.
local num = require("espflash.monitor_defmt_num")

local M = {}

local WIDTH = { u8 = 1, u16 = 2, u24 = 3, u32 = 4, u64 = 8, u128 = 16, usize = 4,
                i8 = 1, i16 = 2, i32 = 4, i64 = 8, i128 = 16, isize = 4 }

local function parse_type(t)
  if t == "" or t == "?" then return { kind = "format" } end
  if WIDTH[t] then return { kind = "int", width = WIDTH[t], signed = t:sub(1, 1) == "i" } end
  if t == "f32" or t == "f64" or t == "bool" or t == "char" or t == "str" or t == "istr" then
    return { kind = t }
  end
  if t == "[u8]" then return { kind = "bytes" } end
  if t == "[?]" then return { kind = "format_slice" } end
  if t == "__internal_Debug" or t == "__internal_Display" then return { kind = "preformatted" } end
  if t == "__internal_FormatSequence" then return { kind = "format_sequence" } end
  local n = t:match("^%[u8;%s*(%d+)%]$")
  if n then return { kind = "byte_array", len = tonumber(n) } end
  n = t:match("^%[%?;%s*(%d+)%]$")
  if n then return { kind = "format_array", len = tonumber(n) } end
  local lo, incl, hi = t:match("^(%d+)%.%.(=?)(%d+)$")
  if lo then
    return { kind = "bitfield", lo = tonumber(lo), hi = tonumber(hi) + (incl == "=" and 1 or 0) }
  end
  return nil
end

local TIME = { us = "us", ms = "ms" }

local function parse_hint(h)
  if h == "" then return nil end
  if h == "a" then return { kind = "ascii" } end
  if h == "?" then return { kind = "debug" } end
  if TIME[h] then return { kind = "seconds", unit = h } end
  local t = h:match("^t(%a*)$")
  if t == "s" or t == "ms" or t == "us" then return { kind = "time", unit = t } end
  t = h:match("^iso8601(%a+)$")
  if t == "ms" or t == "s" then return { kind = "iso8601", unit = t } end
  if h:match("^__internal_bitflags_") then return { kind = "bitflags" } end
  local alt, pad, radix = h:match("^(#?)(%d*)([xXbo]?)$")
  if not alt then return { kind = "unknown" } end
  return { kind = radix == "" and "plain" or "radix", radix = radix, alternate = alt == "#",
           pad = tonumber(pad) or 0 }
end

local cache = {}

--- Parses a format string into fragments: strings (literal text) and
--- `{index=, type=, hint=}` parameters. Raises "malformed format" errors.
function M.parse(fmt)
  if cache[fmt] then return cache[fmt] end
  local frags, lit, i, implicit = {}, {}, 1, 0
  local function flush()
    if #lit > 0 then frags[#frags + 1] = table.concat(lit); lit = {} end
  end
  while i <= #fmt do
    local c = fmt:sub(i, i)
    if c == "{" and fmt:sub(i + 1, i + 1) == "{" then
      lit[#lit + 1] = "{"; i = i + 2
    elseif c == "}" and fmt:sub(i + 1, i + 1) == "}" then
      lit[#lit + 1] = "}"; i = i + 2
    elseif c == "{" then
      local j = fmt:find("}", i + 1, true)
      if not j then error("malformed format: unclosed '{' in " .. fmt, 0) end
      local idx, rest = fmt:sub(i + 1, j - 1):match("^(%d*)(.*)$")
      local ty, hint = "", ""
      if rest:sub(1, 1) == "=" then
        ty, hint = rest:sub(2):match("^([^:]*):?(.*)$")
      elseif rest:sub(1, 1) == ":" then
        hint = rest:sub(2)
      elseif rest ~= "" then
        error("malformed format: bad parameter {" .. fmt:sub(i + 1, j - 1) .. "}", 0)
      end
      local t = parse_type(ty)
      if not t then error("malformed format: unknown type '" .. ty .. "'", 0) end
      local index = tonumber(idx)
      if not index then index = implicit; implicit = implicit + 1 end
      flush()
      frags[#frags + 1] = { index = index, type = t, hint = parse_hint(hint) }
      i = j + 1
    else
      local j = fmt:find("[{}]", i + 1) or #fmt + 1
      if c == "}" then j = i + 1 end
      lit[#lit + 1] = fmt:sub(i, j - 1)
      i = j
    end
  end
  flush()
  cache[fmt] = frags
  return frags
end

-- Reading ------------------------------------------------------------------

local Reader = {}
Reader.__index = Reader

--- A cursor over a decoded frame's bytes.
function M.reader(bytes)
  return setmetatable({ s = bytes, pos = 1 }, Reader)
end

function Reader:take(n)
  if self.pos + n - 1 > #self.s then error("unexpected end of frame", 0) end
  local v = self.s:sub(self.pos, self.pos + n - 1)
  self.pos = self.pos + n
  return v
end

function Reader:u(n)
  return (string.unpack("<I" .. n, self:take(n)))
end

-- The parameters to read for `fmt`: bitfields of one index merged, sorted
-- by index, one per index.
local function params(fmt)
  local by_index = {}
  for _, f in ipairs(M.parse(fmt)) do
    if type(f) == "table" then
      local cur = by_index[f.index]
      if f.type.kind == "bitfield" and cur and cur.type.kind == "bitfield" then
        cur.type = { kind = "bitfield", lo = math.min(cur.type.lo, f.type.lo),
                     hi = math.max(cur.type.hi, f.type.hi) }
      elseif not cur then
        by_index[f.index] = { index = f.index, type = f.type }
      end
    end
  end
  local list = {}
  for _, p in pairs(by_index) do list[#list + 1] = p end
  table.sort(list, function(a, b) return a.index < b.index end)
  return list
end

--- Reads the arguments of `fmt` from reader `r`; `lookup(index)` returns the
--- format string of a table entry without a level. Returns args by index+1.
function M.read_args(r, fmt, lookup)
  local args = {}
  local function nested(format)
    if format:find("|", 1, true) then
      local variants = {}
      for v in (format .. "|"):gmatch("(.-)|") do variants[#variants + 1] = v end
      local n = #variants - 1
      local d = n < 256 and r:u(1) or n < 65536 and r:u(2) or r:u(4)
      format = variants[d + 1]
      if not format then error("malformed frame: enum discriminant out of range", 0) end
    end
    return { kind = "format", format = format, args = M.read_args(r, format, lookup) }
  end
  local function format_at()
    local f = lookup(r:u(2))
    if not f then error("malformed frame: unknown format index", 0) end
    return f
  end
  for _, p in ipairs(params(fmt)) do
    local t, v = p.type, nil
    local k = t.kind
    if k == "int" then
      v = { kind = "int", raw = r:take(t.width), signed = t.signed }
    elseif k == "f32" then
      v = { kind = "float", value = string.unpack("<f", r:take(4)), single = true }
    elseif k == "f64" then
      v = { kind = "float", value = string.unpack("<d", r:take(8)) }
    elseif k == "bool" then
      local b = r:u(1)
      if b > 1 then error("malformed frame: bool value " .. b, 0) end
      v = { kind = "bool", value = b == 1 }
    elseif k == "char" then
      v = { kind = "str", value = utf8.char(r:u(4)) }
    elseif k == "str" then
      v = { kind = "str", value = r:take(r:u(4)) }
    elseif k == "istr" then
      v = { kind = "str", value = format_at() }
    elseif k == "bytes" then
      v = { kind = "bytes", value = r:take(r:u(4)) }
    elseif k == "byte_array" then
      v = { kind = "bytes", value = r:take(t.len) }
    elseif k == "preformatted" then
      local e = r.s:find("\255", r.pos, true)
      if not e then error("unexpected end of frame", 0) end
      v = { kind = "str", value = r:take(e - r.pos) }
      r:take(1)
    elseif k == "format" then
      v = nested(format_at())
    elseif k == "format_slice" or k == "format_array" then
      local count = k == "format_slice" and r:u(4) or t.len
      local elements = {}
      if count > 0 then
        local f = format_at()
        for i = 1, count do elements[i] = nested(f) end
      end
      v = { kind = "slice", elements = elements }
    elseif k == "format_sequence" then
      local elements = {}
      while true do
        local idx = r:u(2)
        if idx == 0 then break end
        local f = lookup(idx)
        if not f then error("malformed frame: unknown format index", 0) end
        elements[#elements + 1] = nested(f)
      end
      v = { kind = "sequence", elements = elements }
    elseif k == "bitfield" then
      local low, high = t.lo // 8, (t.hi - 1) // 8
      local size = high - low + 1
      size = size == 3 and 4 or size > 4 and size <= 8 and 8 or size > 8 and 16 or size
      v = { kind = "int", raw = string.rep("\0", low) .. r:take(size), signed = false }
    end
    args[p.index + 1] = v
  end
  return args
end

-- Showing -------------------------------------------------------------------

local function pad_left(s, width, ch)
  if #s >= width then return s end
  return string.rep(ch, width - #s) .. s
end

local RADIX = { x = 16, X = 16, b = 2, o = 8 }
local PREFIX = { x = "0x", X = "0x", b = "0b", o = "0o" }

local function show_int(raw, signed, hint)
  if hint and hint.kind == "radix" then
    local d = num.digits(raw, RADIX[hint.radix])
    if hint.radix == "X" then d = d:upper() end
    local prefix = hint.alternate and PREFIX[hint.radix] or ""
    return prefix .. pad_left(d, hint.pad - #prefix, "0")
  end
  if hint and (hint.kind == "seconds" or hint.kind == "time" or hint.kind == "iso8601") then
    local v = tonumber(num.digits(raw, 10))
    local scale = hint.unit == "us" and 1000000 or hint.unit == "ms" and 1000 or 1
    local secs, frac = v // scale, v % scale
    local fw = hint.unit == "us" and 6 or 3
    if hint.kind == "seconds" then return string.format("%d.%0" .. fw .. "d", secs, frac) end
    if hint.kind == "iso8601" then
      local f = scale > 1 and string.format(".%0" .. fw .. "d", frac) or ""
      return os.date("!%Y-%m-%dT%H:%M:%S", secs) .. f .. "Z"
    end
    local days = secs // 86400
    local t = string.format("%02d:%02d:%02d", secs // 3600 % 24, secs // 60 % 60, secs % 60)
    if scale > 1 then t = t .. string.format(".%0" .. fw .. "d", frac) end
    if days > 0 then t = days .. ":" .. t end
    return t
  end
  local s = num.decimal(raw, signed)
  if hint and hint.kind == "plain" and hint.pad > 0 then
    local neg = s:sub(1, 1) == "-"
    if neg then return "-" .. pad_left(s:sub(2), hint.pad - 1, "0") end
    return pad_left(s, hint.pad, "0")
  end
  return s
end

local function debug_str(s)
  local esc = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
                ["\0"] = "\\0" }
  return '"' .. s:gsub('[%c"\\]', function(c)
    return esc[c] or string.format("\\u{%x}", c:byte())
  end) .. '"'
end

local function ascii_bytes(s)
  local esc = { [9] = "\\t", [10] = "\\n", [13] = "\\r", [34] = '\\"', [92] = "\\\\" }
  return 'b"' .. s:gsub(".", function(c)
    local b = c:byte()
    if esc[b] then return esc[b] end
    if b >= 0x20 and b < 0x7F then return c end
    return string.format("\\x%02x", b)
  end) .. '"'
end

local show_args

local function show_arg(arg, hint, parent)
  local k = arg.kind
  if k == "int" then
    if hint and hint.kind == "debug" then hint = parent end
    return show_int(arg.raw, arg.signed, hint)
  elseif k == "float" then
    return num.float(arg.value, arg.single)
  elseif k == "bool" then
    return tostring(arg.value)
  elseif k == "str" then
    if hint and hint.kind == "debug" then return debug_str(arg.value) end
    return arg.value
  elseif k == "bytes" then
    if hint and hint.kind == "ascii" then return ascii_bytes(arg.value) end
    local parts = {}
    for i = 1, #arg.value do parts[i] = show_int(arg.value:sub(i, i), false, hint) end
    return "[" .. table.concat(parts, ", ") .. "]"
  elseif k == "format" then
    return show_args(arg.format, arg.args, hint)
  elseif k == "slice" then
    if hint and hint.kind == "ascii" and #arg.elements > 0 and arg.elements[1].format == "{=u8}" then
      local bytes = {}
      for i, e in ipairs(arg.elements) do bytes[i] = e.args[1].raw end
      return ascii_bytes(table.concat(bytes))
    end
    local parts = {}
    for i, e in ipairs(arg.elements) do parts[i] = show_args(e.format, e.args, hint) end
    return "[" .. table.concat(parts, ", ") .. "]"
  elseif k == "sequence" then
    local parts = {}
    for i, e in ipairs(arg.elements) do parts[i] = show_args(e.format, e.args, hint) end
    return table.concat(parts)
  end
  return "?"
end

--- The text of `fmt` with its arguments (`parent` hint from an enclosing {:x}).
function show_args(fmt, args, parent)
  local out = {}
  for _, f in ipairs(M.parse(fmt)) do
    if type(f) == "string" then
      out[#out + 1] = f
    else
      local arg = args[f.index + 1]
      local hint = f.hint or parent
      if arg and f.type.kind == "bitfield" and arg.kind == "int" then
        arg = { kind = "int", raw = num.bits(arg.raw, f.type.lo, f.type.hi), signed = false }
      end
      out[#out + 1] = arg and show_arg(arg, hint, parent) or "?"
    end
  end
  return table.concat(out)
end
M.show = show_args

return M
