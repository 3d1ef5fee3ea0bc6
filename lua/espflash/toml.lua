--- A small, strict TOML reader and writer for espflash's configuration files.
---
--- Reads what espflash.toml and espflash_ports.toml use: `[table]` and
--- `[[array-of-tables]]` headers, `key = value` lines with bare or quoted
--- keys, basic ("...") and literal ('...') strings, integers (decimal, 0x
--- hex, 0o octal, 0b binary, `_` between digits), booleans and comments.
--- Everything else — floats, dates, arrays, inline tables, multi-line
--- strings, dotted keys — is refused with its line and column, as is every
--- syntax error, duplicate key or redefined table.
---
---     local doc, meta = toml.parse(text, "espflash.toml")
---     -- doc = {baudrate = 460800, flash = {size = "8MB"}}
---     -- meta.pos["flash.size"] = {line = 3, col = 1}
---     -- on error: nil, "espflash.toml:3:8: message", {line=, col=, message=}
local M = {}

local Parser = {}
Parser.__index = Parser

-- Raises a parse error at byte offset `at` of the current line.
function Parser:fail(at, fmt, ...)
  local prefix = self.line_text:sub(1, at - 1)
  local col = (utf8.len(prefix) or #prefix) + 1
  -- control characters from the file are shown escaped: the message is one line
  local message = fmt:format(...):gsub("[%z\1-\31\127]", function(c) return ("\\x%02X"):format(c:byte()) end)
  error({ toml = true, line = self.lnum, col = col, message = message }, 0)
end

local function is_ws(c) return c == " " or c == "\t" end

function Parser:skip_ws(i)
  local s = self.line_text
  while is_ws(s:sub(i, i)) do i = i + 1 end
  return i
end

-- After a value or header: only blanks and a comment may follow.
function Parser:expect_end(i)
  i = self:skip_ws(i)
  local c = self.line_text:match(utf8.charpattern, i) or ""
  if c ~= "" and c ~= "#" then
    self:fail(i, "expected the end of the line, found '%s'", c)
  end
  self:check_comment(i)
end

function Parser:check_comment(i)
  local s = self.line_text
  if s:sub(i, i) ~= "#" then return end
  local bad = s:find("[%z\1-\8\10-\31\127]", i)
  if bad then self:fail(bad, "control character 0x%02X in a comment", s:byte(bad)) end
end

local ESCAPES = { b = "\b", t = "\t", n = "\n", f = "\f", r = "\r", ['"'] = '"', ["\\"] = "\\" }

-- A basic string starting at the quote at `i`; returns value, next index.
function Parser:basic_string(i)
  local s = self.line_text
  if s:sub(i, i + 2) == '"""' then self:fail(i, "multi-line strings are not supported here") end
  local out, j = {}, i + 1
  while true do
    local c = s:sub(j, j)
    if c == "" then self:fail(i, "unterminated string (a string ends on its line with \")") end
    if c == '"' then return table.concat(out), j + 1 end
    if c == "\\" then
      local e = s:sub(j + 1, j + 1)
      if ESCAPES[e] then
        out[#out + 1] = ESCAPES[e]
        j = j + 2
      elseif e == "u" or e == "U" then
        local n = e == "u" and 4 or 8
        local hex = s:sub(j + 2, j + 1 + n)
        if #hex ~= n or not hex:match("^%x+$") then
          self:fail(j, "\\%s needs %d hex digits", e, n)
        end
        local cp = tonumber(hex, 16)
        if cp > 0x10FFFF or (cp >= 0xD800 and cp <= 0xDFFF) then
          self:fail(j, "\\%s%s is not a Unicode scalar value", e, hex)
        end
        out[#out + 1] = utf8.char(cp)
        j = j + 2 + n
      else
        self:fail(j, "unknown escape '\\%s' (use \\\\ for a backslash, or a 'literal string')", e)
      end
    elseif c:match("[%z\1-\8\10-\31\127]") then
      self:fail(j, "control character 0x%02X in a string", c:byte())
    else
      out[#out + 1] = c
      j = j + 1
    end
  end
end

function Parser:literal_string(i)
  local s = self.line_text
  if s:sub(i, i + 2) == "'''" then self:fail(i, "multi-line strings are not supported here") end
  local close = s:find("'", i + 1, true)
  if not close then self:fail(i, "unterminated string (a literal string ends on its line with ')") end
  local body = s:sub(i + 1, close - 1)
  local bad = body:find("[%z\1-\8\10-\31\127]")
  if bad then self:fail(i + bad, "control character 0x%02X in a string", body:byte(bad)) end
  return body, close + 1
end

-- A key (bare or quoted) at `i`; returns key, next index.
function Parser:key(i)
  local s = self.line_text
  local c = s:sub(i, i)
  local k, j
  if c == '"' then
    k, j = self:basic_string(i)
  elseif c == "'" then
    k, j = self:literal_string(i)
  else
    local bare = s:match("^[%w_%-]+", i)
    if not bare then
      if c == "" or c == "=" then self:fail(i, "expected a key") end
      c = s:match(utf8.charpattern, i)
      self:fail(i, "'%s' cannot start a key (bare keys are letters, digits, _ and -)", c)
    end
    k, j = bare, i + #bare
  end
  local after = self:skip_ws(j)
  if s:sub(after, after) == "." then
    self:fail(after, "dotted keys are not supported here: write a [table] header instead")
  end
  return k, j
end

local function digits_ok(d, class)
  -- digits of `class` with single underscores between them
  return d:match("^" .. class .. "+$") ~= nil or
    (d:match("^" .. class) and d:match(class .. "$") and not d:find("__", 1, true)
      and d:gsub("_", ""):match("^" .. class .. "+$") ~= nil)
end

local BASES = { x = { 16, "%x" }, o = { 8, "[0-7]" }, b = { 2, "[01]" } }

-- An integer, or a refusal naming what the token is.
function Parser:number(i, token)
  local prefix, rest = token:match("^0([xob])(.*)$")
  if prefix then
    local base, class = BASES[prefix][1], BASES[prefix][2]
    if rest == "" or not digits_ok(rest, class) then
      self:fail(i, "invalid %s integer '%s'", ({ x = "hexadecimal", o = "octal", b = "binary" })[prefix], token)
    end
    local d = rest:gsub("_", ""):gsub("^0+", "")
    if d == "" then return 0 end
    local lead = tonumber(d:sub(1, 1), base)
    local bits = (#d - 1) * ({ [16] = 4, [8] = 3, [2] = 1 })[base] + math.floor(math.log(lead, 2)) + 1
    if bits > 63 then self:fail(i, "integer '%s' does not fit in 64 bits", token) end
    return tonumber(d, base)
  end
  local sign, body = token:match("^([+-]?)(.*)$")
  if body:match("^%d[%d_]*$") then
    if not digits_ok(body, "%d") then self:fail(i, "misplaced '_' in integer '%s'", token) end
    local d = body:gsub("_", "")
    if #d > 1 and d:sub(1, 1) == "0" then
      self:fail(i, "leading zeros are not allowed in '%s' (write 0x… for hex)", token)
    end
    local v = math.tointeger(tonumber(sign .. d))
    if not v then self:fail(i, "integer '%s' does not fit in 64 bits", token) end
    return v
  end
  if token:match("^%d%d%d%d%-%d%d%-%d%d") or token:match("^%d%d:%d%d") then
    self:fail(i, "dates and times are not supported here")
  end
  local floaty = body:match("^[%d_]*%.?[%d_]*[eE]?[+-]?[%d_]*$") and body:find("[%.eE]") and body:find("%d")
  if floaty or body == "inf" or body == "nan" then
    self:fail(i, "floating-point numbers are not supported here")
  end
  return nil
end

-- A value at `i`; returns value, next index.
function Parser:value(i)
  local s = self.line_text
  local c = s:sub(i, i)
  if c == '"' then return self:basic_string(i) end
  if c == "'" then return self:literal_string(i) end
  if c == "[" then self:fail(i, "arrays are not supported here (only [[tables]])") end
  if c == "{" then self:fail(i, "inline tables are not supported here: write a [table] header") end
  if c == "" or c == "#" then self:fail(i, "expected a value after '='") end
  local token = s:match("^[^%s#,%]}]+", i)
  if not token then self:fail(i, "'%s' cannot start a value", c) end
  if token == "true" then return true, i + 4 end
  if token == "false" then return false, i + 5 end
  local n = self:number(i, token)
  if n ~= nil then return n, i + #token end
  if token:match("^[%a_]") then
    self:fail(i, "'%s' is not a value: strings need quotes (\"%s\")", token, token)
  end
  self:fail(i, "'%s' is not a valid value", token)
end

function Parser:define(tbl, path, key, col)
  local full = path == "" and key or path .. "." .. key
  local first = self.meta.pos[full]
  if tbl[key] ~= nil and first then
    self:fail(col, "duplicate key '%s' (first defined on line %d)", key, first.line)
  end
  self.meta.pos[full] = { line = self.lnum, col = (utf8.len(self.line_text:sub(1, col - 1)) or col - 1) + 1 }
  return full
end

function Parser:header(i)
  local s = self.line_text
  local array = s:sub(i, i + 1) == "[["
  local j = self:skip_ws(i + (array and 2 or 1))
  local name, k = self:key(j)
  k = self:skip_ws(k)
  local close = array and "]]" or "]"
  if s:sub(k, k + #close - 1) ~= close then
    self:fail(k, "expected '%s' to close the table header", close)
  end
  self:expect_end(k + #close)
  local root, kinds = self.doc, self.kinds
  local prior = self.meta.pos[name]
  if array then
    if root[name] == nil then
      root[name], kinds[name] = {}, "array"
      self:define(root, "", name, j)
    elseif kinds[name] ~= "array" then
      self:fail(j, "'%s' is already defined on line %d as a %s", name, prior.line,
        kinds[name] == "table" and "table" or "value")
    end
    local t = {}
    local list = root[name]
    list[#list + 1] = t
    self.current, self.path = t, ("%s[%d]"):format(name, #list)
    self.meta.pos[self.path] = { line = self.lnum, col = 1 }
  else
    if root[name] ~= nil then
      self:fail(j, "'%s' is already defined on line %d", name, prior.line)
    end
    root[name], kinds[name] = {}, "table"
    self:define(root, "", name, j)
    self.current, self.path = root[name], name
  end
  local headers = self.meta.headers
  headers[#headers + 1] = { name = name, line = self.lnum, array = array }
end

function Parser:keyvalue(i)
  local key, j = self:key(i)
  j = self:skip_ws(j)
  if self.line_text:sub(j, j) ~= "=" then
    self:fail(j, "expected '=' after the key '%s'", key)
  end
  local full = self:define(self.current, self.path, key, i)
  local v, k = self:value(self:skip_ws(j + 1))
  self:expect_end(k)
  self.current[key] = v
  if self.current == self.doc then self.kinds[key] = "value" end
  return full
end

--- Parses `text`; `name` (a file name) prefixes error messages.
--- Returns `doc, meta` — `meta.pos[path] = {line, col}` for every key
--- ("flash.size", "usb_device[2].vid", "idf") and `meta.headers`, the
--- table headers in order as `{name, line, array}` — or `nil, message, info`
--- with message "name:line:col: what" and info `{line, col, message}`.
function M.parse(text, name)
  name = name or "<string>"
  local p = setmetatable({ doc = {}, kinds = {}, path = "", lnum = 0, line_text = "",
                           meta = { pos = {}, headers = {} } }, Parser)
  p.current = p.doc
  local ok, err = pcall(function()
    if text:sub(1, 3) == "\239\187\191" then text = text:sub(4) end  -- UTF-8 byte order mark
    local valid, bad = utf8.len(text)
    if not valid then
      local before = text:sub(1, bad - 1)
      local _, lines = before:gsub("\n", "")
      p.lnum = lines + 1
      p.line_text = before:match("[^\n]*$")
      p:fail(#p.line_text + 1, "invalid UTF-8")
    end
    for line in (text .. "\n"):gmatch("([^\n]*)\n") do
      p.lnum = p.lnum + 1
      if line:sub(-1) == "\r" then line = line:sub(1, -2) end
      p.line_text = line
      local i = p:skip_ws(1)
      local c = line:sub(i, i)
      if c == "[" then
        p:header(i)
      elseif c == "#" then
        p:check_comment(i)
      elseif c ~= "" then
        p:keyvalue(i)
      end
    end
  end)
  if ok then return p.doc, p.meta end
  if type(err) ~= "table" or not err.toml then error(err, 0) end
  return nil, ("%s:%d:%d: %s"):format(name, err.line, err.col, err.message), err
end

-- Writing ------------------------------------------------------------------

local function encode_key(k)
  if k:match("^[%w_%-]+$") then return k end
  return M.encode_string(k)
end

--- A TOML basic string for `s` (quotes and escapes included).
function M.encode_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    for letter, ch in pairs(ESCAPES) do
      if ch == c and letter ~= "\\" and letter ~= '"' then return "\\" .. letter end
    end
    if c == '"' or c == "\\" then return "\\" .. c end
    return ("\\u%04X"):format(c:byte())
  end) .. '"'
end

local function encode_value(v, where)
  local t = math.type(v) or type(v)
  if t == "string" then return M.encode_string(v) end
  if t == "integer" then return tostring(v) end
  if t == "boolean" then return tostring(v) end
  error(("toml.encode: %s is a %s, which cannot be written"):format(where, t), 0)
end

local function is_array_of_tables(v)
  return type(v) == "table" and #v > 0 and type(v[1]) == "table"
end

local function sorted_keys(t, order)
  local rank = {}
  for i, k in ipairs(order or {}) do rank[k] = i end
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    local ra, rb = rank[a] or math.huge, rank[b] or math.huge
    if ra ~= rb then return ra < rb end
    return a < b
  end)
  return keys
end

local function encode_pairs(out, t, where, order)
  for _, k in ipairs(sorted_keys(t, order)) do
    if type(t[k]) ~= "table" then
      out[#out + 1] = ("%s = %s"):format(encode_key(k), encode_value(t[k], where .. k))
    end
  end
end

--- Writes `doc` as TOML: top-level values first, then `[tables]`, then
--- `[[arrays of tables]]`; keys in `order` (a list) first, the rest sorted.
--- Tables may hold only strings, integers and booleans.
function M.encode(doc, order)
  local out = {}
  encode_pairs(out, doc, "", order)
  for _, k in ipairs(sorted_keys(doc, order)) do
    local v = doc[k]
    if type(v) == "table" and not is_array_of_tables(v) then  -- an empty [table] too
      if #out > 0 then out[#out + 1] = "" end
      out[#out + 1] = ("[%s]"):format(encode_key(k))
      encode_pairs(out, v, k .. ".", order)
    end
  end
  for _, k in ipairs(sorted_keys(doc, order)) do
    local v = doc[k]
    if is_array_of_tables(v) then
      for i, t in ipairs(v) do
        if #out > 0 then out[#out + 1] = "" end
        out[#out + 1] = ("[[%s]]"):format(encode_key(k))
        encode_pairs(out, t, ("%s[%d]."):format(k, i), order)
      end
    end
  end
  return table.concat(out, "\n") .. "\n"
end

return M
