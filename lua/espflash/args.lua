--- Option tables: checking them, turning them into lua-argparse elements, and
--- finishing a parse (environment variables, defaults, conversions).
--
-- An option entry (see docs/scripting.md) is one of
--   { "address", help = "...", convert = "u32" }                  positional
--   { "-o --output", help = "...", arg = "FILE" }                  option with a value
--   { "--no-verify", help = "...", flag = true }                   flag
-- with optional `choices`, `default`, `env`, `convert` ("u32" or a function
-- returning value | nil, reason), `optional`/`many`/`rest` (positionals),
-- `hidden` and `aliases` (other long names of an option or flag, such as
-- espflash 4.1's "--ignore_app_descriptor"; shown in help like clap's).
local M = {}

local KNOWN_KEYS = {
  [1] = true, help = true, arg = true, flag = true, choices = true, default = true,
  env = true, convert = true, optional = true, many = true, rest = true, hidden = true,
  aliases = true,
}

--- espflash's parse_u32: decimal or 0x/0X hex, underscores removed, no suffix.
-- Like Rust's u32 parser a single leading "+" is accepted and "-" is not.
-- Returns the integer, or nil and the reason in Rust's words.
function M.parse_u32(s)
  s = tostring(s):gsub("_", "")
  local digits, base = s, 10
  if #s > 2 and (s:sub(1, 2) == "0x" or s:sub(1, 2) == "0X") then
    digits, base = s:sub(3), 16
  end
  if digits == "" then return nil, "cannot parse integer from empty string" end
  if digits:sub(1, 1) == "+" then digits = digits:sub(2) end
  if not digits:match(base == 16 and "^%x+$" or "^%d+$") then
    return nil, "invalid digit found in string"
  end
  digits = digits:gsub("^0+", "")
  if digits == "" then return 0 end
  if #digits > (base == 16 and 8 or 10) then return nil, "number too large to fit in target type" end
  local v = math.tointeger(tonumber(digits, base))
  if v > 0xFFFFFFFF then return nil, "number too large to fit in target type" end
  return v
end

--- Named converters usable as `convert = "<name>"`.
M.converters = { u32 = M.parse_u32 }

local function fail(where, fmt, ...)
  error(where .. ": " .. fmt:format(...), 0)
end

local function check_string_list(where, field, list)
  if type(list) ~= "table" or #list == 0 then
    fail(where, "'%s' must be a non-empty list of strings", field)
  end
  for _, v in ipairs(list) do
    if type(v) ~= "string" or v == "" or v:find("[%s'\"]") then
      fail(where, "'%s' holds %q, which is not a plain word", field, tostring(v))
    end
  end
end

--- Checks one option entry and returns its normalized form, or raises a
-- string naming the problem ("option 3 (--baud): ...").
-- Normalized: {kind = "positional"|"option"|"flag", key, names, long, short,
-- help, argname, display, choices, default, env, convert, convert_name, optional, many, rest, hidden}
function M.normalize(entry, index)
  local where = ("option %d"):format(index)
  if type(entry) ~= "table" then fail(where, "must be a table, not a %s", type(entry)) end
  local spec = entry[1]
  if type(spec) ~= "string" or spec == "" then
    fail(where, "the first element must be the name, like \"--output\" or \"address\"")
  end
  where = ("option %d (%s)"):format(index, spec)
  for k in pairs(entry) do
    if not KNOWN_KEYS[k] then fail(where, "unknown field '%s'", tostring(k)) end
  end
  if type(entry.help) ~= "string" or entry.help == "" then fail(where, "missing field 'help'") end
  local e = { help = entry.help, hidden = entry.hidden and true or false, env = entry.env,
              default = entry.default, names = {} }
  if spec:sub(1, 1) == "-" then
    for name in spec:gmatch("%S+") do
      if name:match("^%-%a$") then
        if e.short then fail(where, "two short names") end
        e.short = name
      elseif name:match("^%-%-%a[%w%-]*$") then
        if e.long then fail(where, "two long names") end
        e.long = name
      else
        fail(where, "'%s' is not an option name (use -x and/or --long-name)", name)
      end
      e.names[#e.names + 1] = name
    end
    if not e.long then fail(where, "needs a long name (--name): it becomes the args key") end
    e.key = e.long:sub(3):gsub("%-", "_")
    if entry.flag and entry.arg then fail(where, "has both 'flag' and 'arg'") end
    if entry.flag then
      if entry.flag ~= true then fail(where, "'flag' must be true") end
      e.kind = "flag"
      for _, k in ipairs({ "choices", "convert", "optional", "many", "rest" }) do
        if entry[k] ~= nil then fail(where, "a flag cannot have '%s'", k) end
      end
      if e.default ~= nil and type(e.default) ~= "boolean" then fail(where, "a flag's default must be a boolean") end
    elseif type(entry.arg) == "string" and entry.arg:match("^[^%s'\"<>]+$") then
      e.kind = "option"
      e.argname = entry.arg
      for _, k in ipairs({ "optional", "many", "rest" }) do
        if entry[k] ~= nil then fail(where, "'%s' is only for positional arguments", k) end
      end
    else
      fail(where, "needs either flag = true or arg = \"NAME\" (the value's name in help)")
    end
    e.display = e.kind == "flag" and e.long or ("%s <%s>"):format(e.long, e.argname)
    if entry.aliases ~= nil then
      check_string_list(where, "aliases", entry.aliases)
      e.aliases = {}
      for _, alias in ipairs(entry.aliases) do
        if not alias:match("^%-%-%a[%w%-_]*$") then
          fail(where, "alias '%s' is not a long option name (--name)", alias)
        end
        for _, n in ipairs(e.names) do
          if n == alias then fail(where, "alias '%s' repeats a name", alias) end
        end
        e.aliases[#e.aliases + 1] = alias
        e.names[#e.names + 1] = alias
      end
    end
  else
    if entry.aliases then fail(where, "a positional argument cannot have 'aliases'") end
    if not spec:match("^%a[%w_%-]*$") then
      fail(where, "'%s' is not a positional name (letters, digits, - and _)", spec)
    end
    if entry.flag then fail(where, "a positional argument cannot be a flag") end
    if entry.env then fail(where, "a positional argument cannot take 'env'") end
    e.kind = "positional"
    e.key = spec:gsub("%-", "_")
    e.names[1] = spec
    if entry.arg ~= nil and (type(entry.arg) ~= "string" or not entry.arg:match("^[^%s'\"<>]+$")) then
      fail(where, "'arg' must be one word (no spaces, quotes or <>)")
    end
    e.argname = entry.arg or spec:upper():gsub("%-", "_")
    e.optional, e.many, e.rest = entry.optional and true, entry.many and true, entry.rest and true
    if e.rest and (entry.convert or entry.choices) then fail(where, "'rest' takes arguments verbatim") end
    e.display = ("<%s>"):format(e.argname)
  end
  if entry.env ~= nil and (type(entry.env) ~= "string" or not entry.env:match("^[%a_][%w_]*$")) then
    fail(where, "'env' must be an environment variable name")
  end
  if entry.choices ~= nil then
    check_string_list(where, "choices", entry.choices)
    e.choices = entry.choices
  end
  if entry.convert ~= nil then
    if type(entry.convert) == "string" then
      e.convert = M.converters[entry.convert]
      if not e.convert then fail(where, "unknown converter '%s' (known: u32)", entry.convert) end
      e.convert_name = entry.convert
    elseif type(entry.convert) == "function" then
      e.convert = entry.convert
    else
      fail(where, "'convert' must be \"u32\" or a function")
    end
  end
  if e.default ~= nil and e.kind ~= "flag" then
    local t = type(e.default)
    if t ~= "string" and t ~= "number" then fail(where, "'default' must be a string or a number") end
    if e.choices then
      local found = false
      for _, c in ipairs(e.choices) do found = found or c == e.default end
      if not found then fail(where, "default '%s' is not one of its choices", tostring(e.default)) end
    end
  end
  return e
end

--- The help text with espflash's (clap's) suffixes for env, default and choices.
function M.describe(e)
  local parts = { e.help }
  if e.env then parts[#parts + 1] = ("[env: %s=]"):format(e.env) end
  if e.default ~= nil and e.kind ~= "flag" then parts[#parts + 1] = ("[default: %s]"):format(e.default) end
  if e.choices then parts[#parts + 1] = ("[possible values: %s]"):format(table.concat(e.choices, ", ")) end
  if e.aliases then parts[#parts + 1] = ("[aliases: %s]"):format(table.concat(e.aliases, ", ")) end
  return table.concat(parts, " ")
end

local function converter_for(e)
  if not e.convert then return nil end
  return function(s)
    local v, why = e.convert(s)
    if v == nil then
      return nil, ("invalid value '%s' for '%s': %s"):format(s, e.display, why or "malformed value")
    end
    return v
  end
end

--- Adds one normalized entry to an argparse parser or command.
function M.add_to_parser(p, e)
  local el
  if e.kind == "positional" then
    el = p:argument(e.names[1], M.describe(e)):argname(e.display)
    if e.rest then
      el:args("*")
    elseif e.many then
      el:args(e.optional and "*" or "+")
    elseif e.optional then
      el:args("?")
    end
  elseif e.kind == "flag" then
    el = p:flag(table.concat(e.names, " "), M.describe(e))
  else
    el = p:option(table.concat(e.names, " "), M.describe(e)):argname(("<%s>"):format(e.argname))
  end
  el:target(e.key):show_default(false)
  if e.choices then el:choices(e.choices) end
  local conv = converter_for(e)
  if conv then el:convert(conv) end
  if e.hidden then el:hidden(true) end
  return el
end

local function from_env(e, raw)
  if e.kind == "flag" then  -- as clap's FalseyValueParser: only these mean false
    local v = raw:lower()
    return not (v == "0" or v == "false" or v == "no" or v == "off" or v == "n" or v == "f")
  end
  if e.choices then
    local ok = false
    for _, c in ipairs(e.choices) do ok = ok or c == raw end
    if not ok then
      return nil, ("invalid value '%s' for '%s' (from %s): possible values are %s")
        :format(raw, e.display, e.env, table.concat(e.choices, ", "))
    end
  end
  if e.convert then
    local v, why = e.convert(raw)
    if v == nil then
      return nil, ("invalid value '%s' for '%s' (from %s): %s"):format(raw, e.display, e.env, why or "malformed value")
    end
    return v
  end
  return raw
end

--- Completes a parse result in place: values absent on the command line come
-- from the entry's environment variable (when set and not empty), then from its
-- default (converted like a command-line value); absent flags become false.
-- Returns the result, or nil and a usage message.
function M.finish(entries, result, getenv)
  getenv = getenv or os.getenv
  for _, e in ipairs(entries) do
    local v = result[e.key]
    if (v == nil or (e.kind == "flag" and not v)) and e.env then
      local raw = getenv(e.env)
      if raw and raw ~= "" then
        local conv, err = from_env(e, raw)
        if conv == nil then return nil, err end
        v = conv
      end
    end
    if v == nil and e.default ~= nil then
      v = e.default
      if e.convert and type(v) == "string" then v = assert(e.convert(v)) end
    end
    if v == nil and e.kind == "flag" then v = false end
    if v == nil and e.rest then v = {} end
    result[e.key] = v
  end
  return result
end

--- Index in `tokens` (the words after the command name) where the `rest`
-- positional begins, or nil: once the regular positionals are given, every
-- later word, options included, is passed on verbatim (as lua.c does for a
-- script's arguments). The CLI inserts "--" there.
function M.rest_start(tokens, entries)
  local before, takes_value, has_rest = 0, {}, false
  for _, e in ipairs(entries) do
    if e.kind == "positional" then
      if e.rest then has_rest = true; break end
      before = before + 1
    elseif e.kind == "option" then
      for _, n in ipairs(e.names) do takes_value[n] = true end
    end
  end
  if not has_rest then return nil end
  local seen, i = 0, 1
  while i <= #tokens do
    if seen == before then return i end
    local t = tokens[i]
    if t == "--" then return nil end
    if t:sub(1, 1) == "-" and #t > 1 then
      if takes_value[t] then i = i + 1 end
    else
      seen = seen + 1
    end
    i = i + 1
  end
  if seen == before then return #tokens + 1 end
  return nil
end

return M
