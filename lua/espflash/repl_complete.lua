--- Tab completion for `espflash repl`: the names that can follow what is
--- typed before the cursor. A bare name completes from the keywords and the
--- prompt's variables; `a.b.` from the fields of the value `a.b` (for the
--- `espflash` table also its modules not loaded yet); `dev:` from the
--- methods of the value, found through its metatable's `__index`.
---
---     complete.candidates("espflash.nvs.b", _G)   --> { "build" }
---     complete.candidates("dev:wr", env)           --> { "write", "write_reg" }
local M = {}

M.KEYWORDS = {}
for w in ([[and break do else elseif end false for function goto if in local nil
  not or repeat return then true until while]]):gmatch("%a+") do M.KEYWORDS[#M.KEYWORDS + 1] = w end

local NAME = "^[%a_][%w_]*$"
local MAX_DEPTH = 8

-- True when `line` ends inside a string literal or a comment ("-- ...").
local function in_string_or_comment(line)
  local i, quote = 1, nil
  while i <= #line do
    local c = line:sub(i, i)
    if quote then
      if c == "\\" then i = i + 1 elseif c == quote then quote = nil end
    elseif c == '"' or c == "'" then
      quote = c
    elseif c == "[" and line:match("^%[=*%[", i) then
      local eq = line:match("^%[(=*)%[", i)
      local close = line:find("]" .. eq .. "]", i, true)
      if not close then return true end
      i = close + #eq + 1
    elseif c == "-" and line:sub(i + 1, i + 1) == "-" then
      return true
    end
    i = i + 1
  end
  return quote ~= nil
end

-- Indexes `v` with `k` the way the program would (so lazily loaded fields
-- appear), or nil when that raises.
local function index(v, k)
  local ok, r = pcall(function() return v[k] end)
  if ok then return r end
  return nil
end

-- Adds the names of `v`'s fields to `out` (name -> value or true): its own
-- keys (pairs, honouring __pairs), then those of its metatable's __index
-- tables, then, for a table listing its API (`API.functions`,
-- `API.modules`, as the espflash table does), those names.
local function add_fields(v, out, depth)
  if depth > MAX_DEPTH then return end
  if type(v) == "table" then
    pcall(function()
      for k, val in pairs(v) do
        if type(k) == "string" and out[k] == nil then out[k] = val end
      end
    end)
    local api = rawget(v, "API")
    if type(api) == "table" then
      for _, list in ipairs({ api.functions or {}, api.modules or {} }) do
        for _, k in ipairs(list) do if type(k) == "string" and out[k] == nil then out[k] = true end end
      end
    end
  end
  local mt = getmetatable(v)
  if type(mt) == "table" then
    local idx = rawget(mt, "__index")
    if type(idx) == "table" and idx ~= v then add_fields(idx, out, depth + 1) end
  end
end

--- The names of the fields `v` has (as `add_fields` finds them), sorted;
--- with `methods`, only those holding functions (or callable tables).
function M.fields(v, methods)
  local found, names = {}, {}
  add_fields(v, found, 0)
  for k, val in pairs(found) do
    if k:match(NAME) then
      if not methods then
        names[#names + 1] = k
      else
        if val == true then val = index(v, k) end
        if type(val) == "function" or (type(val) == "table" and type((getmetatable(val) or {}).__call) == "function") then
          names[#names + 1] = k
        end
      end
    end
  end
  table.sort(names)
  return names
end

--- The names that complete the Lua name being typed at the end of `line`
--- (the text before the cursor), sorted; `env` is where the prompt's
--- variables are looked up (a table; its `pairs` lists them). Names
--- starting with `_` are offered only when the typed part starts with one.
function M.candidates(line, env)
  if in_string_or_comment(line) then return {} end
  local chain = line:match("[%w_%.:]*$")
  -- a name after a number, or a chain after `]`/`)`, cannot be resolved
  local before = line:sub(1, #line - #chain)
  if chain:match("^%d") or (chain:find("[.:]") and before:match("[%]%)\"']%s*$")) then return {} end
  local parts, seps = {}, {}
  for sep, name in ("." .. chain):gmatch("([.:])([%w_]*)") do
    seps[#seps + 1], parts[#parts + 1] = sep, name
  end
  local word = parts[#parts]
  local method = seps[#seps] == ":"
  for i = 2, #seps - 1 do if seps[i] == ":" then return {} end end
  local names
  if #parts == 1 then
    names = M.fields(env, false)
    for _, k in ipairs(M.KEYWORDS) do names[#names + 1] = k end
  else
    local v = index(env, parts[1])
    for i = 2, #parts - 1 do
      if v == nil then return {} end
      v = index(v, parts[i])
    end
    if v == nil then return {} end
    names = M.fields(v, method)
  end
  local out, seen = {}, {}
  for _, k in ipairs(names) do
    if not seen[k] and k:sub(1, #word) == word and (word:sub(1, 1) == "_" or k:sub(1, 1) ~= "_") then
      seen[k] = true
      out[#out + 1] = k
    end
  end
  table.sort(out)
  return out
end

return M
