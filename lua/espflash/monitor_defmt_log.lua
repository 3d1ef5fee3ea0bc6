--- How a decoded defmt frame is laid out (`-F/--output-format`): `oneline`
--- (default), `full`, or a custom defmt-decoder log format such as
--- `"{t} [{L}] {s} @ {f}:{l}"`.
---
--- Specifiers: {s} message, {L} level (padded to 5), {t} timestamp, {F} file
--- path, {f} file name ({ff}, {fff}: more path components), {l} line, {m}
--- module path, {c} crate name. Each takes `:`-separated formats: a width
--- with alignment (`<8`, `>8`, `^8`), a colour (red, ..., `severity`,
--- `werror`) or a style (bold, italic, underline, strike, dimmed). A group
--- `{[{L}]%bold}` formats its contents as one.
local M = {}

M.ONELINE = "{[{L}]%bold} {s}"
M.ONELINE_LOCATION = " {({c:bold} {fff}:{l})%dimmed}"
M.FULL = "{L} {s}"
M.FULL_LOCATION = "\n└─ {m} @ {F}:{l}"

local COLORS = { black = 30, red = 31, green = 32, yellow = 33, blue = 34, magenta = 35,
  purple = 35, cyan = 36, white = 37, bright_black = 90, bright_red = 91, bright_green = 92,
  bright_yellow = 93, bright_blue = 94, bright_magenta = 95, bright_cyan = 96, bright_white = 97 }
local STYLES = { bold = 1, dimmed = 2, italic = 3, underline = 4, strike = 9 }
local LEVEL_COLORS = { TRACE = 90, DEBUG = 37, INFO = 32, WARN = 33, ERROR = 31 }
local METADATA = { s = true, t = true, L = true, F = true, l = true, m = true, c = true }

local function bad(fmt, why)
  error(string.format("invalid defmt output format '%s': %s", fmt, why), 0)
end

-- The index just past the '}' matching the '{' at i.
local function matching(s, i)
  local depth = 0
  for j = i, #s do
    local c = s:sub(j, j)
    if c == "{" then depth = depth + 1 elseif c == "}" then depth = depth - 1 end
    if depth == 0 then return j + 1 end
  end
  return nil
end

local function add_format(fmt, seg, token)
  local align, width = token:match("^([<^>]?)(%d+)$")
  if width then
    seg.width, seg.align = tonumber(width), align ~= "" and align or nil
  elseif COLORS[token] or token == "severity" or token == "werror" then
    seg.color = token
  elseif STYLES[token] then
    seg.styles = seg.styles or {}
    seg.styles[#seg.styles + 1] = token
  else
    bad(fmt, "unknown format '" .. token .. "'")
  end
end

local parse_items

-- The segment for the text between a '{' and its '}'.
local function parse_argument(fmt, inner)
  if inner:find("{", 1, true) then
    local body, formats = inner:match("^(.-)%%([^{}]*)$")
    if not body then body, formats = inner, "" end
    local seg = { group = parse_items(fmt, body) }
    for token in formats:gmatch("[^%%]+") do add_format(fmt, seg, token) end
    return seg
  end
  local parts = {}
  for p in (inner .. ":"):gmatch("(.-):") do parts[#parts + 1] = p end
  local spec = parts[1]
  local seg
  if spec:match("^f+$") then
    seg = { meta = "f", depth = #spec }
  elseif METADATA[spec] then
    seg = { meta = spec }
  else
    bad(fmt, "unknown specifier '{" .. inner .. "}'")
  end
  for i = 2, #parts do add_format(fmt, seg, parts[i]) end
  return seg
end

function parse_items(fmt, s)
  local items, i = {}, 1
  while i <= #s do
    if s:sub(i, i) == "{" then
      local j = matching(s, i)
      if not j then bad(fmt, "unbalanced '{'") end
      items[#items + 1] = parse_argument(fmt, s:sub(i + 1, j - 2))
      i = j
    else
      local j = s:find("{", i, true) or #s + 1
      items[#items + 1] = { text = s:sub(i, j - 1) }
      i = j
    end
  end
  return items
end

--- Parses a log format; raises "invalid defmt output format ..." errors.
function M.parse(fmt)
  return parse_items(fmt, fmt)
end

--- True when the parsed format shows the timestamp.
function M.has_timestamp(items)
  for _, it in ipairs(items) do
    if it.meta == "t" or (it.group and M.has_timestamp(it.group)) then return true end
  end
  return false
end

--- The format text for a name: "oneline", "full" or a custom format.
function M.format_for(name, with_location, with_timestamp)
  local f
  if name == nil or name == "oneline" then
    f = M.ONELINE .. (with_location and M.ONELINE_LOCATION or "")
  elseif name == "full" then
    f = M.FULL .. (with_location and M.FULL_LOCATION or "")
  else
    return name
  end
  return (with_timestamp and "{t} " or "") .. f
end

local function tail_path(path, depth)
  local parts = {}
  for p in path:gmatch("[^/]+") do parts[#parts + 1] = p end
  local from = math.max(1, #parts - depth + 1)
  return table.concat(parts, "/", from)
end

local function value(seg, rec)
  local m = seg.meta
  if m == "s" then return rec.message end
  if m == "t" then return rec.timestamp or "<time>" end
  if m == "L" then return rec.level or "<lvl>" end
  if m == "F" then return rec.file or "<file>" end
  if m == "f" then return rec.file and tail_path(rec.file, seg.depth) or "<file>" end
  if m == "l" then return rec.line and tostring(rec.line) or "<line>" end
  if m == "m" then return rec.module or "<mod path>" end
  if m == "c" then return rec.module and rec.module:match("^[^:]+") or "<crate>" end
  return ""
end

local function shape(s, seg, rec, colored, default_width, default_color)
  local width = seg.width or default_width
  local len = utf8.len(s) or #s
  if width and len < width then
    local gap = width - len
    local align = seg.align or "<"
    if align == ">" then s = string.rep(" ", gap) .. s
    elseif align == "^" then s = string.rep(" ", gap // 2) .. s .. string.rep(" ", gap - gap // 2)
    else s = s .. string.rep(" ", gap) end
  end
  if not colored then return s end
  local codes = {}
  local color = seg.color or default_color
  if color == "severity" or (color == "werror" and (rec.level == "WARN" or rec.level == "ERROR")) then
    codes[#codes + 1] = LEVEL_COLORS[rec.level]
  elseif COLORS[color] then
    codes[#codes + 1] = COLORS[color]
  end
  for _, st in ipairs(seg.styles or {}) do codes[#codes + 1] = STYLES[st] end
  if #codes == 0 then return s end
  return "\27[" .. table.concat(codes, ";") .. "m" .. s .. "\27[0m"
end

local function render(items, rec, colored)
  local out = {}
  for _, it in ipairs(items) do
    if it.text then
      out[#out + 1] = it.text
    elseif it.group then
      out[#out + 1] = shape(render(it.group, rec, colored), it, rec, colored)
    elseif it.meta == "L" then
      out[#out + 1] = shape(value(it, rec), it, rec, colored, 5, "severity")
    else
      out[#out + 1] = shape(value(it, rec), it, rec, colored)
    end
  end
  return table.concat(out)
end

--- The text for a record `{level=, message=, timestamp=, file=, line=,
--- module=}`; a record without a level (defmt::println!) is its message.
function M.render(items, rec, colored)
  if not rec.level then return rec.message end
  return render(items, rec, colored)
end

return M
