--- Numbers as defmt sends them: integers of 8 to 128 bits kept as their
--- little-endian bytes (Lua integers stop at 64 bits), shown in any base, and
--- floats shown the way Rust's ryu crate does (shortest round-trip digits).
local M = {}

-- Four 32-bit limbs, least significant first.
local function limbs(raw)
  raw = raw .. string.rep("\0", 16 - #raw)
  return { string.unpack("<I4I4I4I4", raw) }
end

local function is_zero(l)
  return l[1] == 0 and l[2] == 0 and l[3] == 0 and l[4] == 0
end

local function divmod(l, d)
  local q, r = {}, 0
  for i = 4, 1, -1 do
    local cur = (r << 32) | l[i]
    q[i] = cur // d
    r = cur % d
  end
  return q, r
end

local DIGITS = "0123456789abcdef"

--- The unsigned value of little-endian bytes `raw` in `base` (2, 8, 10, 16).
function M.digits(raw, base)
  local l = limbs(raw)
  if is_zero(l) then return "0" end
  local out = {}
  while not is_zero(l) do
    local r
    l, r = divmod(l, base)
    out[#out + 1] = DIGITS:sub(r + 1, r + 1)
  end
  return string.reverse(table.concat(out))
end

--- True when the top bit of `raw` is set.
function M.negative(raw)
  return #raw > 0 and raw:byte(#raw) >= 0x80
end

--- Two's complement negation of `raw` (same width).
function M.negate(raw)
  local out, carry = {}, 1
  for i = 1, #raw do
    local v = (~raw:byte(i) & 0xFF) + carry
    out[i] = string.char(v & 0xFF)
    carry = v >> 8
  end
  return table.concat(out)
end

--- Decimal text of `raw`, signed or not.
function M.decimal(raw, signed)
  if signed and M.negative(raw) then return "-" .. M.digits(M.negate(raw), 10) end
  return M.digits(raw, 10)
end

--- Bits [lo, hi) of the little-endian value `raw`, as 16 little-endian bytes.
function M.bits(raw, lo, hi)
  local l = limbs(raw)
  local v = {}
  for i = 0, 127 do
    local bit = (l[i // 32 + 1] >> (i % 32)) & 1
    v[i] = bit
  end
  local out = { 0, 0, 0, 0 }
  for i = lo, hi - 1 do
    local k = i - lo
    out[k // 32 + 1] = out[k // 32 + 1] | (v[i] << (k % 32))
  end
  return string.pack("<I4I4I4I4", out[1], out[2], out[3], out[4])
end

local function ryu_layout(digits, k, threshold)
  local len = #digits
  local kk = len + k
  if k >= 0 and kk <= threshold then
    return digits .. string.rep("0", k) .. ".0"
  elseif kk > 0 and kk <= threshold then
    return digits:sub(1, kk) .. "." .. digits:sub(kk + 1)
  elseif kk > -5 and kk <= 0 then
    return "0." .. string.rep("0", -kk) .. digits
  elseif len == 1 then
    return digits .. "e" .. (kk - 1)
  end
  return digits:sub(1, 1) .. "." .. digits:sub(2) .. "e" .. (kk - 1)
end

--- Rust `ryu` text of a float (f32 when `single`): "1.0", "0.1", "1e30", "NaN", "-inf".
function M.float(x, single)
  if x ~= x then return "NaN" end
  if x == math.huge then return "inf" end
  if x == -math.huge then return "-inf" end
  local sign = (x < 0 or 1 / x < 0) and "-" or ""
  x = math.abs(x)
  if x == 0 then return sign .. "0.0" end
  local text
  for p = 0, 17 do
    text = string.format("%." .. p .. "e", x)
    local back = tonumber(text)
    if single then back = string.unpack("<f", string.pack("<f", back)) end
    if back == x then break end
  end
  local int, frac, exp = text:match("^(%d)%.?(%d*)e([-+]%d+)$")
  local digits = (int .. frac):gsub("0+$", "")
  if digits == "" then digits = "0" end
  local k = tonumber(exp) - (#digits - 1)
  return sign .. ryu_layout(digits, k, single and 13 or 16)
end

return M
