--- Rust symbol demangling for the monitor's address decoding, in the
--- alternate form addr2line prints (no hash): legacy `_ZN...E` symbols and
--- the path subset of v0 `_R...` symbols (crate roots, nested paths,
--- closures and shims). Anything else is returned unchanged.
---
---     demangle("_ZN4core9panicking9panic_fmt17h4bb8c910ba59e8a9E") --> "core::panicking::panic_fmt"
local M = {}

local ESCAPES = { SP = "@", BP = "*", RF = "&", LT = "<", GT = ">", LP = "(", RP = ")", C = "," }

local function unescape(ident)
  if ident:sub(1, 2) == "_$" then ident = ident:sub(2) end
  ident = ident:gsub("%$([%w]+)%$", function(code)
    if ESCAPES[code] then return ESCAPES[code] end
    local hex = code:match("^u(%x+)$")
    if hex then return utf8.char(tonumber(hex, 16)) end
    return nil
  end)
  return (ident:gsub("%.%.", "::"))
end

--- Demangles a legacy Rust symbol; nil when `s` is not one.
function M.legacy(s)
  local body = s:match("^_?_ZN(.*)E") or s:match("^ZN(.*)E")
  if not body then return nil end
  local parts, pos = {}, 1
  while pos <= #body do
    local len = body:match("^%d+", pos)
    if not len then return nil end
    pos = pos + #len
    local ident = body:sub(pos, pos + tonumber(len) - 1)
    if #ident ~= tonumber(len) then return nil end
    pos = pos + #ident
    parts[#parts + 1] = ident
  end
  if #parts == 0 then return nil end
  if #parts > 1 and parts[#parts]:match("^h%x+$") and #parts[#parts] == 17 then
    parts[#parts] = nil
  end
  for i, p in ipairs(parts) do parts[i] = unescape(p) end
  return table.concat(parts, "::")
end

-- v0 ----------------------------------------------------------------------

local B62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

local function base62(s, pos)  -- "_" is 0, "<digits>_" is value + 1
  if s:sub(pos, pos) == "_" then return 0, pos + 1 end
  local n = 0
  while true do
    local c = s:sub(pos, pos)
    if c == "" then return nil end
    if c == "_" then return n + 1, pos + 1 end
    local d = B62:find(c, 1, true)
    if not d then return nil end
    n = n * 62 + d - 1
    pos = pos + 1
  end
end

local function disambiguator(s, pos)
  if s:sub(pos, pos) ~= "s" then return 0, pos end
  local n, p = base62(s, pos + 1)
  if not n then return nil end
  return n + 1, p
end

local function identifier(s, pos)
  local dis, p = disambiguator(s, pos)
  if not dis then return nil end
  if s:sub(p, p) == "u" then return nil end  -- punycode: not supported
  local len = s:match("^%d+", p)
  if not len then return nil end
  p = p + #len
  if s:sub(p, p) == "_" then p = p + 1 end
  local ident = s:sub(p, p + tonumber(len) - 1)
  if #ident ~= tonumber(len) then return nil end
  return ident, p + #ident, dis
end

local function path(s, pos, depth)
  if depth > 32 then return nil end
  local tag = s:sub(pos, pos)
  if tag == "C" then
    local ident, p = identifier(s, pos + 1)
    return ident, p
  elseif tag == "N" then
    local ns = s:sub(pos + 1, pos + 1)
    local parent, p = path(s, pos + 2, depth + 1)
    if not parent then return nil end
    local ident, q, dis = identifier(s, p)
    if not ident then return nil end
    if ns == "C" then return parent .. "::{closure#" .. dis .. "}", q end
    if ns == "S" then return parent .. "::{shim:" .. ident .. "#" .. dis .. "}", q end
    if ns:match("%u") then return parent .. "::{" .. ns .. ":" .. ident .. "#" .. dis .. "}", q end
    return parent .. "::" .. ident, q
  end
  return nil
end

--- Demangles the path subset of a v0 Rust symbol; nil otherwise.
function M.v0(s)
  local rest = s:match("^_?_R(.*)$")
  if not rest then return nil end
  local pos = 1
  local ver = rest:match("^%d+")
  if ver then pos = pos + #ver end
  local name = path(rest, pos, 0)
  return name
end

--- The demangled name of `s`, or `s` itself.
function M.demangle(s)
  if type(s) ~= "string" then return s end
  return M.legacy(s) or M.v0(s) or s
end

return M
