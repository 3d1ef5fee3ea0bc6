--- Subcommand scripts: where they are found, and their contract.
--
-- A script returns `{ summary = "...", options = {...}, run = function(args, ctx) end }`
-- (plus optional `description` and `uses`); see docs/scripting.md. User
-- directories (ESPFLASH_SCRIPTS, then $XDG_CONFIG_HOME/espflash/scripts or
-- ~/.config/espflash/scripts) are searched before the built-in scripts, and the
-- first file of a name wins, so a user script can replace a built-in one.
local errors = require("espflash.errors")
local args = require("espflash.args")

local M = {}

local HINT = "a subcommand script returns { summary = \"...\", options = { ... }, "
  .. "run = function(args, ctx) ... end }; see docs/scripting.md"

--- Names no script may take: `help` is the CLI's own command.
M.RESERVED = { help = true }

--- The user script directories, in search order.
-- @param getenv optional replacement for os.getenv
function M.user_dirs(getenv)
  getenv = getenv or os.getenv
  local dirs = {}
  for dir in (getenv("ESPFLASH_SCRIPTS") or ""):gmatch("[^:]+") do dirs[#dirs + 1] = dir end
  local config = getenv("XDG_CONFIG_HOME")
  if not config or config:sub(1, 1) ~= "/" then  -- the XDG spec ignores relative values
    local home = getenv("HOME")
    config = home and home ~= "" and home .. "/.config" or nil
  end
  if config then dirs[#dirs + 1] = config .. "/espflash/scripts" end
  return dirs
end

local function refuse(origin, fmt, ...)
  error(errors.new("espflash::script_contract", ("script %s: " .. fmt):format(origin, ...), HINT), 0)
end

--- Checks a script's table against the contract and returns the command:
-- `{summary, description, entries (normalized options, groups first), run, origin}`.
-- Raises an error object naming `origin` and the problem otherwise.
-- @param reserved optional set of option names the CLI keeps for itself
function M.validate(def, origin, groups, reserved)
  groups = groups or require("espflash.cli_groups")
  if type(def) ~= "table" then
    refuse(origin, "must return a table with summary, options and run (it returned %s)", type(def))
  end
  for _, field in ipairs({ "summary", "options", "run" }) do
    if def[field] == nil then refuse(origin, "missing required field '%s'", field) end
  end
  if type(def.summary) ~= "string" or def.summary == "" then refuse(origin, "'summary' must be a non-empty string") end
  if type(def.options) ~= "table" then refuse(origin, "'options' must be a table (a list of option entries)") end
  if type(def.run) ~= "function" then refuse(origin, "'run' must be a function (args, ctx)") end
  if def.description ~= nil and type(def.description) ~= "string" then refuse(origin, "'description' must be a string") end
  local list = {}
  if def.uses ~= nil then
    if type(def.uses) ~= "table" then refuse(origin, "'uses' must be a list of option group names") end
    for _, g in ipairs(def.uses) do
      if type(groups[g]) ~= "table" then refuse(origin, "unknown option group '%s' in 'uses'", tostring(g)) end
      for _, entry in ipairs(groups[g]) do list[#list + 1] = entry end
    end
  end
  local n = #def.options
  for k in pairs(def.options) do
    if math.type(k) ~= "integer" or k < 1 or k > n then
      refuse(origin, "'options' must be a list; it has the key '%s'", tostring(k))
    end
  end
  for i = 1, n do list[#list + 1] = def.options[i] end

  local entries, keys, names = {}, {}, {}
  local optional_seen, rest_seen = false, false
  for i, entry in ipairs(list) do
    local ok, e = pcall(args.normalize, entry, i)
    if not ok then refuse(origin, "%s", e) end
    if keys[e.key] then refuse(origin, "%s: the key '%s' is used twice", e.display, e.key) end
    keys[e.key] = true
    for _, name in ipairs(e.kind == "positional" and {} or e.names) do
      if names[name] or (reserved and reserved[name]) then refuse(origin, "option name '%s' is already taken", name) end
      names[name] = true
    end
    if e.kind == "positional" then
      if rest_seen then refuse(origin, "%s: nothing may follow a 'rest' positional", e.display) end
      if optional_seen and not (e.optional or e.rest) then
        refuse(origin, "%s: a required positional cannot follow an optional one", e.display)
      end
      optional_seen = optional_seen or e.optional or e.many
      rest_seen = e.rest
    end
    entries[#entries + 1] = e
  end
  return { summary = def.summary, description = def.description, entries = entries,
           run = def.run, origin = origin }
end

--- True when `name` can be a subcommand name.
function M.valid_name(name)
  return name:match("^%a[%w_%-]*$") ~= nil and not M.RESERVED[name]
end

local function load_user(path, env)
  local chunk, err = loadfile(path, "t", env)
  if not chunk then return nil, err end
  return chunk
end

--- Finds and loads every subcommand script.
-- @param opts table: `dirs` (user directories, default M.user_dirs()),
--   `listdir(path) -> names | nil`, `builtins = {names = fn() -> names, load = fn(name, env) -> chunk, origin}`
--   (default: espflash.host), `groups`, `reserved` (option names the CLI keeps),
--   `only` (a command name: when a script of that name exists, load just that
--   one — what running a command needs; the others are only listed)
-- @return `{commands = {sorted list}, by_name = {}, broken = {name -> error object},
--   partial = true when `only` limited the loading}`;
--   each command has `name`, `origin` and the fields of M.validate.
function M.discover(opts)
  opts = opts or {}
  local host
  if not (opts.listdir and opts.builtins) then host = require("espflash.host") end
  local listdir = opts.listdir or host.listdir
  local builtins = opts.builtins or { names = host.builtin_scripts, load = host.load_builtin }
  local found, order = {}, {}
  for _, dir in ipairs(opts.dirs or M.user_dirs()) do
    for _, file in ipairs(listdir(dir) or {}) do
      local name = file:match("^(.+)%.lua$")
      if name and not found[name] then
        found[name] = { name = name, path = dir .. "/" .. file }
        order[#order + 1] = name
      end
    end
  end
  for _, name in ipairs(builtins.names()) do
    if not found[name] then
      found[name] = { name = name, builtin = true }
      order[#order + 1] = name
    end
  end
  table.sort(order)

  local result = { commands = {}, by_name = {}, broken = {} }
  if opts.only and found[opts.only] then
    order, result.partial = { opts.only }, true
  end
  for _, name in ipairs(order) do
    local f = found[name]
    local origin = f.path or ("built-in " .. name)
    local ok, cmd = pcall(function()
      if not M.valid_name(name) then
        refuse(origin, "'%s' cannot be a command name (letters, digits, - and _; not 'help')", name)
      end
      local env = setmetatable({}, { __index = _G })
      local chunk, where_or_err
      if f.builtin then
        chunk, where_or_err = builtins.load(name, env)
      else
        chunk, where_or_err = load_user(f.path, env)
      end
      if not chunk then refuse(origin, "cannot be loaded: %s", tostring(where_or_err)) end
      if f.builtin then origin = where_or_err end
      local ok_run, def = pcall(chunk)
      if not ok_run then refuse(origin, "failed while loading: %s", tostring(def)) end
      return M.validate(def, origin, opts.groups, opts.reserved)
    end)
    if ok then
      cmd.name = name
      result.commands[#result.commands + 1] = cmd
      result.by_name[name] = cmd
    else
      if not errors.is(cmd) then cmd = errors.new("espflash::script_contract", tostring(cmd), HINT) end
      result.broken[name] = cmd
    end
  end
  return result
end

return M
