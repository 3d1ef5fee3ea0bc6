--- JSON output for `--json` (the schema is in docs/json.md).
---
--- Encoding is done here, so that objects come out with sorted keys, paths
--- keep their slashes and any byte string becomes valid UTF-8; decoding is
--- lua-cjson's. A command's result is wrapped in one envelope:
---
---     {"schema":1,"command":"board-info","ok":true,"result":{...}}
---     {"schema":1,"command":"flash","ok":false,"error":{"code":…,"message":…,"hint":…}}
local M = {}

--- The envelope's schema version (docs/json.md).
M.SCHEMA = 1

local ARRAY = { __name = "espflash.json.array" }

--- The JSON null.
M.null = setmetatable({}, { __name = "espflash.json.null", __tostring = function() return "null" end })

--- Marks `t` (default: a new table) as an array, so that an empty one is
--- written as [] rather than {}.
function M.array(t)
  return setmetatable(t or {}, ARRAY)
end

local ESC = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f", ["\n"] = "\\n",
              ["\r"] = "\\r", ["\t"] = "\\t" }

-- Valid UTF-8 of `s`: each byte that does not start a well-formed sequence becomes U+FFFD.
local function utf8_clean(s)
  if utf8.len(s) then return s end
  local out, i = {}, 1
  while i <= #s do
    local seq = s:match("^[\0-\127]", i) or s:match("^[\194-\223][\128-\191]", i)
      or s:match("^[\224-\239][\128-\191][\128-\191]", i) or s:match("^[\240-\244][\128-\191][\128-\191][\128-\191]", i)
    if seq and utf8.len(seq) then
      out[#out + 1] = seq
      i = i + #seq
    else
      out[#out + 1] = "\239\191\189"
      i = i + 1
    end
  end
  return table.concat(out)
end

--- A JSON string literal for `s`.
function M.string(s)
  s = utf8_clean(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return ESC[c] or ("\\u%04x"):format(c:byte())
  end) .. '"'
end

local function is_array(t)
  if getmetatable(t) == ARRAY then return true end
  local n = #t
  if n == 0 then return false end
  local count = 0
  for _ in pairs(t) do count = count + 1 end
  return count == n
end

local function encode(v, out, depth)
  if depth > 64 then error("json: nesting too deep", 0) end
  local t = type(v)
  if v == nil or v == M.null then
    out[#out + 1] = "null"
  elseif t == "boolean" then
    out[#out + 1] = tostring(v)
  elseif t == "number" then
    if math.type(v) == "integer" then
      out[#out + 1] = tostring(v)
    elseif v ~= v or v == math.huge or v == -math.huge then
      error("json: cannot encode " .. tostring(v), 0)
    else
      out[#out + 1] = ("%.14g"):format(v)
    end
  elseif t == "string" then
    out[#out + 1] = M.string(v)
  elseif t == "table" then
    if is_array(v) then
      out[#out + 1] = "["
      for i = 1, #v do
        if i > 1 then out[#out + 1] = "," end
        encode(v[i], out, depth + 1)
      end
      out[#out + 1] = "]"
    else
      local keys = {}
      for k in pairs(v) do
        if type(k) ~= "string" then error("json: object keys must be strings, not " .. type(k), 0) end
        keys[#keys + 1] = k
      end
      table.sort(keys)
      out[#out + 1] = "{"
      for i, k in ipairs(keys) do
        if i > 1 then out[#out + 1] = "," end
        out[#out + 1] = M.string(k)
        out[#out + 1] = ":"
        encode(v[k], out, depth + 1)
      end
      out[#out + 1] = "}"
    end
  else
    error("json: cannot encode a " .. t, 0)
  end
end

--- `v` as compact JSON (objects with sorted keys).
function M.encode(v)
  local out = {}
  encode(v, out, 0)
  return table.concat(out)
end

--- Parses JSON text (lua-cjson); JSON null becomes `M.null`'s cjson counterpart.
function M.decode(text)
  return require("cjson").decode(text)
end

--- The envelope of a successful `command`.
function M.success(command, result)
  return { schema = M.SCHEMA, command = command, ok = true, result = result }
end

--- The envelope of a failed `command` for error object (or message) `e`.
function M.failure(command, e)
  local err = { message = tostring(type(e) == "table" and e.message or e) }
  if type(e) == "table" then
    err.code = type(e.code) == "string" and e.code or nil
    err.hint = e.hint
  end
  if err.code == nil then err.code = M.null end
  if err.hint == nil then err.hint = M.null end
  return { schema = M.SCHEMA, command = command, ok = false, error = err }
end

--- USB ids as the ports file writes them: 4 lower-case hex digits, or null.
function M.hex16(n)
  if n == nil then return M.null end
  return ("%04x"):format(n)
end

-- The documented results (docs/json.md) -------------------------------------

--- board-info's result for `info` (from device:info()) on `port`.
function M.board_info(info, port)
  local sec, null = info.security, M.null
  local out = {
    port = port or null, chip = info.chip, crystal_mhz = info.crystal_mhz,
    flash_size = info.flash_size_name, features = M.array(info.features or {}),
    mac = info.mac or null, secure_download = info.secure_download and true or false,
    revision = info.revision and ("%d.%d"):format(info.revision.major, info.revision.minor) or null,
    security = null,
  }
  if sec then
    local bits, n = 0, sec.flash_crypt_cnt
    while n > 0 do bits, n = bits + (n & 1), n >> 1 end
    out.security = {
      flags = sec.flags, flash_crypt_cnt = sec.flash_crypt_cnt, key_purposes = M.array(sec.key_purposes or {}),
      chip_id = sec.chip_id or null, api_version = sec.api_version or null,
      secure_boot = sec.flags & 1 ~= 0, flash_encryption = bits % 2 == 1,
    }
  end
  return out
end

--- One list-ports entry for port `p` (core.list_ports() fields plus
--- `usb_path`/`usb_interface`); `known` says whether it is a known board.
function M.port(p, known)
  local null = M.null
  return { name = p.name, type = p.type or "unknown", vid = M.hex16(p.vid), pid = M.hex16(p.pid),
    manufacturer = p.manufacturer or null, product = p.product or null, serial = p.serial or null,
    location = p.usb_path and (p.usb_path .. (p.usb_interface and ":" .. p.usb_interface or "")) or null,
    known = known and true or false }
end

--- flash's result: `info` from device:info(), `result` from espflash.flash.write_app.
function M.flash(info, result)
  if result.ram then return { chip = info.chip, ram = true } end
  local segs = M.array()
  for i, s in ipairs(result.segments) do
    segs[i] = { address = s.addr, name = s.name, size = s.size, written = s.written, skipped = s.written == 0 }
  end
  return { chip = info.chip, ram = false, app_size = result.plan.app_size, part_size = result.plan.part_size,
           written = result.written, total = result.total, segments = segs }
end

return M
