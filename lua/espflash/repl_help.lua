--- `help(x)` in `espflash repl`: the documentation of a function, a module
--- or an object, taken from the `---` comments above the definitions in the
--- library's own sources (the files, or the copies embedded in the binary),
--- so the code stays the one source of truth. Functions written in C (the
--- core's) have their comments in docs/api/core.lua, read from the docs
--- when they are installed or in the source tree.
---
---     print(help.text(espflash.nvs.build))   -- "espflash.nvs.build(spec)" and its comment
local M = {}

--- The longest one-line summary in listings.
M.SUMMARY_WIDTH = 100

local function host()
  local ok, h = pcall(require, "espflash.host")
  return ok and type(h) == "table" and h or nil
end

-- The file's contents, or nil when it cannot be read.
local function read_file(path)
  local ok, text = pcall(require("espflash.errors").read_file, path, "file")
  return ok and text or nil
end

local function lines_of(text)
  local out = {}
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do out[#out + 1] = line end
  return out
end

--- The text of a Lua chunk from its name (`debug.getinfo(f).source`,
--- "@path"): the embedded copy for a relative path, else the file.
function M.source_text(source)
  if type(source) ~= "string" or source:sub(1, 1) ~= "@" then return nil end
  local h = host()
  if h and h.embedded_source and source:sub(2, 2) ~= "/" then
    local text = h.embedded_source(source)
    if text then return text end
  end
  return read_file(source:sub(2))
end

--- The module a source path holds: ".../lua/espflash/nvs.lua" -> "espflash.nvs".
function M.module_of(path)
  local rel = ("/" .. path):match("/lua/(espflash/.-)%.lua$") or ("/" .. path):match("/(espflash/.-)%.lua$")
  if not rel then return nil end
  return (rel:gsub("/init$", ""):gsub("/", "."))
end

--- The comment lines right above line `n`, without their dashes.
function M.comment_above(lines, n)
  local out, i = {}, n - 1
  while i >= 1 and lines[i]:match("^%s*%-%-") and not lines[i]:match("^%s*%-%-%-?%-%-%-") do
    table.insert(out, 1, (lines[i]:gsub("^%s*%-%-%-?%s?", "")))
    i = i - 1
  end
  return out
end

--- The comment lines a source starts with (its module documentation).
function M.header(lines)
  local out = {}
  for _, line in ipairs(lines) do
    if not line:match("^%-%-") then break end
    out[#out + 1] = (line:gsub("^%-%-%-?%s?", ""))
  end
  return out
end

--- The first sentence of comment lines (for one-line summaries).
function M.summary(doc)
  local text = {}
  for _, line in ipairs(doc) do
    if line:match("^%s*$") or line:match("^@") then break end
    text[#text + 1] = line:match("^%s*(.-)%s*$")
  end
  local s = table.concat(text, " ")
  s = s:match("^(.-%.)%s") or s:match("^(.-%.)$") or s
  if #s > M.SUMMARY_WIDTH then s = s:sub(1, M.SUMMARY_WIDTH - 3):gsub("[\128-\191]*$", ""):gsub("%s*%S*$", "") .. " ..." end
  return s
end

-- The name and parameter list on a definition line.
local function signature(line)
  local name, params = line:match("function%s+([%w_.:]+)%s*(%b())")
  if not name then name, params = line:match("([%w_.:]+)%s*=%s*function%s*(%b())") end
  return name, params or line:match("function%s*(%b())")
end

-- The stub files under docs/api, where the docs are installed or in the tree.
local function stub_text(file)
  local h = host() or {}
  local dirs = { os.getenv("ESPFLASH_SOURCE_DIR"), h.lua_dir,
                 h.datadir and h.datadir:gsub("/espflash$", "/doc/espflash") }
  for _, d in pairs(dirs) do
    local text = read_file(d .. "/docs/api/" .. file) or read_file(d .. "/api/" .. file)
    if text then return text end
  end
  return nil
end

--- The documentation of a function `fn`: `{name, doc = {lines}, module}`.
--- For a C function `qualified` ("core.md5", "Port:read") names it in the
--- stubs; without a comment `doc` is empty.
function M.function_doc(fn, qualified)
  local info = debug.getinfo(fn, "S")
  if info.what ~= "Lua" then
    local doc, params = {}, "(...)"
    local text = qualified and stub_text("core.lua")
    if text then
      local lines = lines_of(text)
      for n, line in ipairs(lines) do
        local name, p = signature(line)
        if name == qualified then
          params, doc = p, {}
          for _, l in ipairs(M.comment_above(lines, n)) do  -- prose, @param and @return lines
            if not l:match("^@") or l:match("^@param") or l:match("^@return") then doc[#doc + 1] = l end
          end
          break
        end
      end
    end
    if #doc == 0 then doc = { "A function of the C core: see docs/design.md (\"The core API\") and docs/api/core.lua." } end
    local shown = qualified and qualified:match("^core%.") and "espflash." .. qualified or qualified or "?"
    return { name = shown .. params, doc = doc, module = "espflash.core" }
  end
  local text = M.source_text(info.source)
  local lines = text and lines_of(text) or {}
  local name, params = signature(lines[info.linedefined] or "")
  local mod = M.module_of(info.source:sub(2))
  if name and mod then name = name:gsub("^M([.:])", mod .. "%1") end
  return { name = (name or "function") .. (params or "(...)"), doc = M.comment_above(lines, info.linedefined),
           module = mod, where = info.short_src .. ":" .. info.linedefined }
end

-- The module name of a table in package.loaded, or nil.
local function loaded_name(t)
  for name, mod in pairs(package.loaded) do
    if mod == t and type(name) == "string" then return name end
  end
  return nil
end

-- The source text of module `name` (embedded, else found on package.path).
local function module_text(name)
  if name == "espflash.core" then  -- C: its comments are in the stub
    return ((stub_text("core.lua") or ""):gsub("^%-%-%-@[^\n]*\n", ""))
  end
  local h = host()
  local text = h and h.embedded_source and h.embedded_source(name)
  if text then return text end
  local path = package.searchpath(name, package.path)
  return path and read_file(path)
end

-- The first sentence of a module's documentation.
local function module_summary(name)
  local text = name and module_text(name)
  return text and M.summary(M.header(lines_of(text))) or ""
end

-- Summary lines "  name(params)  first sentence" for the functions (and
-- callable modules) in `names`.
local function listing(v, names, qualify)
  local out = {}
  for _, k in ipairs(names) do
    local f = v[k]
    if type(f) == "function" then
      local d = M.function_doc(f, qualify and qualify(k))
      local params = d.name:match("%b()$") or ""
      out[#out + 1] = ("  %s%s  %s"):format(k, params, M.summary(d.doc))
    elseif type(f) == "table" then
      out[#out + 1] = ("  %s{...}  %s"):format(k, module_summary(loaded_name(f)))
    end
  end
  return out
end

local function indent(line) return line == "" and "" or "  " .. line end

local function sorted_keys(t, pred)
  local keys = {}
  for k, v in pairs(t) do
    if type(k) == "string" and k:sub(1, 1) ~= "_" and pred(v) then keys[#keys + 1] = k end
  end
  table.sort(keys)
  return keys
end

local function is_callable(v)
  return type(v) == "function" or (type(v) == "table" and type((getmetatable(v) or {}).__call) == "function")
end

-- Help for a module table named `name`.
local function module_help(t, name)
  local lines = { name }
  local text = module_text(name)
  for _, l in ipairs(text and M.header(lines_of(text)) or {}) do lines[#lines + 1] = indent(l) end
  local fns = sorted_keys(t, is_callable)
  if #fns > 0 then
    lines[#lines + 1] = ""
    lines[#lines + 1] = "Functions (help(" .. name .. ".NAME) for more):"
    local qualify = name == "espflash.core" and function(k) return "core." .. k end or nil
    for _, l in ipairs(listing(t, fns, qualify)) do lines[#lines + 1] = l end
  end
  local api = rawget(t, "API")
  if type(api) == "table" and api.modules then
    lines[#lines + 1] = ""
    lines[#lines + 1] = "Modules:"
    for _, m in ipairs(api.modules) do
      lines[#lines + 1] = ("  %s.%s  %s"):format(name, m, module_summary(name .. "." .. m))
    end
  end
  return table.concat(lines, "\n")
end

-- Help for an object whose metatable's __index holds its methods.
local function object_help(v, methods)
  local mt = getmetatable(v)
  local class = type(mt) == "table" and rawget(mt, "__name")
  local names = sorted_keys(methods, is_callable)
  local first = names[1] and methods[names[1]]
  local head
  if first and debug.getinfo(first, "S").what == "Lua" then
    local info = debug.getinfo(first, "S")
    local text = M.source_text(info.source)
    head = text and M.header(lines_of(text))
  end
  local cls = class and tostring(class):match("([%w_]+)$")
  local lines = { ("%s object; methods (help(obj.NAME) for more):"):format(class or "an") }
  if head then
    lines[1] = "An object of " .. (M.module_of(debug.getinfo(first, "S").source:sub(2)) or "?") .. ":"
    for _, l in ipairs(head) do lines[#lines + 1] = indent(l) end
    lines[#lines + 1] = ""
    lines[#lines + 1] = "Methods (help(obj.NAME) for more):"
  end
  for _, l in ipairs(listing(methods, names, cls and function(k) return cls .. ":" .. k end)) do
    lines[#lines + 1] = l
  end
  return table.concat(lines, "\n")
end

-- The name of a C function of espflash in the stubs: "core.md5" for the
-- core's, "Port:read" for a method of a class (a registry metatable).
local function c_name(fn)
  for k, f in pairs(require("espflash.core")) do
    if f == fn then return "core." .. k end
  end
  for name, mt in pairs(debug.getregistry()) do
    if type(name) == "string" and name:match("^espflash%.") and type(mt) == "table" then
      for k, f in pairs(mt) do
        if f == fn then return name:match("([%w_]+)$") .. ":" .. k end
      end
    end
  end
  return nil
end

-- A C function outside espflash: Lua's own.
local function lua_builtin(fn)
  local name
  for _, lib in ipairs({ "_G", "string", "table", "math", "io", "os", "coroutine", "utf8", "debug", "package" }) do
    for k, f in pairs(lib == "_G" and _G or _G[lib] or {}) do
      if f == fn and not name then name = lib == "_G" and k or lib .. "." .. k end
    end
  end
  return ("%s: a function of Lua itself; see the Lua 5.4 reference manual (https://www.lua.org/manual/5.4/)")
    :format(name or tostring(fn))
end

--- The help text for `x`: a function, a module, an object with methods,
--- or a name ("espflash.nvs.build", "nvs.build", "dev:write") looked up in
--- `env`. `none` (true when help() was called without an argument) gives
--- the overview.
function M.text(x, env, none)
  env = env or _G
  if none then
    return table.concat({
      "help(x) shows the documentation of a function, module or object:",
      "  help(espflash.connect)   help(espflash.nvs)   help(espflash.nvs.build)   help(dev)",
      "A name works too: help(\"nvs.build\"), help(\"dev:write\"). Tab completes names and methods.",
      "", module_help(require("espflash"), "espflash") }, "\n")
  end
  if type(x) == "string" and x:match("^[%a_][%w_.:]*$") then
    local function find(path)
      local v = env
      for sep, name in ("." .. path):gmatch("([.:])([%w_]+)") do
        local ok, r = pcall(function() return v[name] end)
        if not ok or r == nil then return nil end
        v = r
      end
      return v
    end
    local v = find(x) or find("espflash." .. x)
    if v == nil then return ("help: no such name '%s'"):format(x) end
    x = v
  end
  if type(x) == "function" then
    local qualified
    if debug.getinfo(x, "S").what ~= "Lua" then
      qualified = c_name(x)
      if not qualified then return lua_builtin(x) end
    end
    local d = M.function_doc(x, qualified)
    local lines = { d.name }
    for _, l in ipairs(#d.doc > 0 and d.doc or { "(no documentation)" }) do lines[#lines + 1] = indent(l) end
    return table.concat(lines, "\n")
  end
  local mt = getmetatable(x)
  local name = type(x) == "table" and loaded_name(x)
  if name and name:match("^espflash") then return module_help(x, name) end
  if type(mt) == "table" and type(rawget(mt, "__index")) == "table" and type(x) ~= "string" then
    return object_help(x, rawget(mt, "__index"))
  end
  if type(x) == "table" then
    local keys = sorted_keys(x, function() return true end)
    return ("a table with %d named fields: %s"):format(#keys, table.concat(keys, ", "))
  end
  return ("%s: a %s; help(x) documents functions, modules and objects"):format(tostring(x), type(x))
end

return M
