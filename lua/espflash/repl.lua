--- The interactive prompt behind `espflash repl`, and its value printer.
--
-- The read-eval-print loop follows lua.c: a line is first tried as
-- `return <line>`, then as a statement; while the error ends in `<eof>` more
-- lines are read (">>" prompt). Ctrl-C cancels the running statement or the
-- line being typed; Ctrl-D (end of input) leaves.
local errors = require("espflash.errors")

local M = {}

local KEYWORDS = {}
for w in ([[and break do else elseif end false for function goto if in local nil
  not or repeat return then true until while]]):gmatch("%a+") do KEYWORDS[w] = true end

local ESCAPES = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }

--- A string as a double-quoted Lua literal (control bytes as \ddd).
function M.quote(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return ESCAPES[c] or ("\\%03d"):format(c:byte())
  end) .. '"'
end

local TYPE_ORDER = { number = 1, string = 2, boolean = 3 }

local function key_less(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then return (TYPE_ORDER[ta] or 9) < (TYPE_ORDER[tb] or 9) or
    ((TYPE_ORDER[ta] or 9) == (TYPE_ORDER[tb] or 9) and ta < tb) end
  if ta == "number" or ta == "string" then return a < b end
  return tostring(a) < tostring(b)
end

local format

local function format_key(k, opts, depth, path)
  if type(k) == "string" and k:match("^[%a_][%w_]*$") and not KEYWORDS[k] then return k end
  return "[" .. format(k, opts, depth, path) .. "]"
end

function format(v, opts, depth, path)
  local t = type(v)
  if t == "string" then return M.quote(v) end
  if t ~= "table" then return tostring(v) end
  local mt = getmetatable(v)
  if type(mt) == "table" and mt.__tostring then return tostring(v) end
  if path[v] then return "<cycle>" end
  if depth >= opts.depth then return "{...}" end
  path[v] = true
  local items, n = {}, 0
  local len = #v
  for i = 1, len do
    n = n + 1
    if n > opts.items then break end
    items[n] = format(rawget(v, i), opts, depth + 1, path)
  end
  local keys = {}
  for k in next, v do
    if not (math.type(k) == "integer" and k >= 1 and k <= len) then keys[#keys + 1] = k end
  end
  table.sort(keys, key_less)
  for _, k in ipairs(keys) do
    n = n + 1
    if n > opts.items then break end
    items[n] = format_key(k, opts, depth + 1, path) .. " = " .. format(rawget(v, k), opts, depth + 1, path)
  end
  path[v] = nil
  local total = len + #keys
  if total > opts.items then items[opts.items + 1] = ("... (%d more)"):format(total - opts.items) end
  if #items == 0 then return "{}" end
  local flat = "{ " .. table.concat(items, ", ") .. " }"
  if #flat + depth * 2 <= opts.width and not flat:find("\n", 1, true) then return flat end
  local pad = ("  "):rep(depth + 1)
  return "{\n" .. pad .. table.concat(items, ",\n" .. pad) .. "\n" .. ("  "):rep(depth) .. "}"
end

--- A readable rendering of any value: strings quoted, tables with their
-- contents (nested, sorted keys, `<cycle>` for a table inside itself, `{...}`
-- past `depth`), other values by tostring.
-- @param opts optional `{depth = 8, items = 200, width = 80}`
function M.format(v, opts)
  opts = opts or {}
  return format(v, { depth = opts.depth or 8, items = opts.items or 200, width = opts.width or 80 }, 0, {})
end

--- Formats several values (a statement's results) separated by tabs, as lua.c prints them.
function M.format_results(t, first, last)
  local parts = {}
  for i = first, last do parts[#parts + 1] = M.format(t[i]) end
  return table.concat(parts, "\t")
end

local function incomplete(msg)
  return type(msg) == "string" and msg:sub(-5) == "<eof>"
end

--- The history file: $XDG_STATE_HOME/espflash/history, else ~/.local/state/espflash/history.
function M.history_path(getenv)
  getenv = getenv or os.getenv
  local state = getenv("XDG_STATE_HOME")
  if not state or state:sub(1, 1) ~= "/" then
    local home = getenv("HOME")
    if not home or home == "" then return nil end
    state = home .. "/.local/state"
  end
  return state .. "/espflash/history"
end

local function plain_reader(input)
  return function()
    local line, err = input:read("L")
    if line == nil and err then return false end  -- EINTR: Ctrl-C
    if line then line = line:gsub("\r?\n$", "") end
    return line
  end
end

--- Reads one chunk: a line tried as `return <line>`, else as many lines as
-- make a complete statement. Returns chunk, source | nil (end) | false (cancelled)
-- | nil, source, syntax error. A statement chunk calls its first argument,
-- when given one, after its last statement (see `M.scope`).
function M.read_chunk(read, env)
  local line = read("> ")
  if not line then return line end
  local chunk = load("return " .. line, "=stdin", "t", env)
  if chunk then return chunk, line end
  local buffer = line
  while true do
    local fn, msg = load(buffer, "=stdin", "t", env)
    -- ";(...)()" is a call statement, not a tail call: the chunk is still
    -- running, its top-level locals in scope, when the argument is called
    if fn then return load(buffer .. "\n;(...)()", "=stdin", "t", env) or fn, buffer end
    if not incomplete(msg) then return nil, buffer, msg end
    local more = read(">> ")
    if more == false then return false end
    if more == nil then return nil, buffer, msg end
    buffer = buffer .. "\n" .. more
  end
end

--- The prompt's variables: a table for the chunks' `_ENV` in which a
-- top-level `local` of one input stays visible to the inputs after it (as
-- if the session were one chunk), globals are `globals`' and `builtins`
-- (`help`) come last. Returns the table and `keep`, the function a chunk is
-- given to call at its end (it records the chunk's locals).
function M.scope(globals, builtins)
  local locals, declared = {}, {}
  local env = setmetatable({}, {
    __index = function(_, k)
      if declared[k] then return locals[k] end
      local v = globals[k]
      if v == nil then v = builtins[k] end
      return v
    end,
    __newindex = function(_, k, v)
      if declared[k] then locals[k] = v else globals[k] = v end
    end,
    __pairs = function()
      local all = {}
      for _, t in ipairs({ builtins, globals }) do for k, v in pairs(t) do all[k] = v end end
      for k in pairs(declared) do all[k] = locals[k] end
      return next, all, nil
    end,
  })
  local function keep()
    local i = 1
    while true do
      local name, value = debug.getlocal(2, i)
      if not name then break end
      if name:sub(1, 1) ~= "(" then declared[name], locals[name] = true, value end
      i = i + 1
    end
  end
  return env, keep
end

--- Runs the prompt until end of input. Returns 0.
-- @param opts `{debug, host (espflash.host), core (espflash.core), stdin, stdout,
--   stderr, env (default _G), interactive (default: stdin is a terminal)}`
function M.run(opts)
  opts = opts or {}
  local host = opts.host or require("espflash.host")
  local core = opts.core or require("espflash.core")
  local out, err = opts.stdout or io.stdout, opts.stderr or io.stderr
  local help = require("espflash.repl_help")
  local env, keep
  env, keep = M.scope(opts.env or _G, {
    help = function(...)
      out:write(help.text((...), env, select("#", ...) == 0), "\n")
    end,
  })
  local interactive = opts.interactive
  if interactive == nil then interactive = host.isatty(0) and host.isatty(1) end
  local read, history
  if interactive then
    read = host.readline
    history = M.history_path()
    if history then
      local dir = history:match("^(.*)/[^/]*$")
      if host.mkdirs(dir) then host.history_load(history) else history = nil end
    end
    if host.set_completer then
      local complete = require("espflash.repl_complete")
      host.set_completer(function(line) return complete.candidates(line, env) end)
    end
    out:write(("espflash %s, %s. help() for help, Tab completes, Ctrl-D exits, Ctrl-C cancels.\n")
      :format(host.version or "?", _VERSION))
  else
    read = plain_reader(opts.stdin or io.stdin)
  end
  local function report(e, tb)
    if type(e) == "string" or errors.is(e) then
      err:write(errors.format(e), "\n")
    else
      err:write("error object: ", M.format(e), "\n")
    end
    if opts.debug and tb then err:write(tb, "\n") end
  end
  local function step()
    local chunk, src, syntax = M.read_chunk(read, env)
    if chunk == false then return "cancel" end
    if src and interactive then
      host.add_history(src)
      if history then host.history_save(history) end
    end
    if chunk == nil and not src then return "eof" end
    if chunk == nil then report(syntax); return "error" end
    local tb
    local r = table.pack(xpcall(chunk, function(e)
      tb = debug.traceback(nil, 2)
      return e
    end, keep))
    core.clear_interrupt()
    if not r[1] then
      report(r[2], tb)
    elseif r.n > 1 then
      out:write(M.format_results(r, 2, r.n), "\n")
    end
    out:flush()
    return "ok"
  end
  while true do
    local ok, status = pcall(step)
    if not ok then  -- Ctrl-C landed between statements
      core.clear_interrupt()
      err:write(errors.format(status), "\n")
    elseif status == "eof" then
      break
    end
  end
  if interactive then out:write("\n") end
  return 0
end

return M
