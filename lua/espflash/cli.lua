--- The command line: `espflash [OPTIONS] <COMMAND>`.
--
-- Builds a lua-argparse parser from the discovered subcommand scripts (their
-- option tables, see espflash.args), parses argv, and runs the chosen script's
-- `run(args, ctx)` with errors reported as `espflash: error: <message>` plus a
-- hint. Exit codes: 0 ok, 1 error, 2 usage, 130 interrupted.
local argparse = require("argparse")
local errors = require("espflash.errors")
local args_mod = require("espflash.args")
local commands = require("espflash.commands")
local ui_mod = require("espflash.ui")
local help = require("espflash.help")

local M = {}

M.DESCRIPTION = "A command-line tool for interacting with Espressif devices"

--- The global options (besides -h/--help and -V/--version), as option entries.
M.GLOBAL_OPTIONS = {
  { "-S --skip-update-check", flag = true, env = "ESPFLASH_SKIP_UPDATE_CHECK",
    help = "Do not check for updates (accepted for compatibility: this tool never checks)" },
  { "--debug", flag = true, help = "Show debug log lines and Lua tracebacks (also ESPFLASH_DEBUG=1)" },
  { "-q --quiet", flag = true, help = "Only print results, warnings and errors; no progress" },
}

--- Option names no script may use.
M.RESERVED_NAMES = { ["-h"] = true, ["--help"] = true, ["-V"] = true, ["--version"] = true }
for _, e in ipairs(M.GLOBAL_OPTIONS) do
  for name in e[1]:gmatch("%S+") do M.RESERVED_NAMES[name] = true end
end

local HELP_SUMMARY = "Print this message or the help of the given subcommand(s)"

local function global_entries()
  local list = {}
  for i, e in ipairs(M.GLOBAL_OPTIONS) do list[i] = args_mod.normalize(e, i) end
  return list
end

--- The usage line of a command (clap style).
function M.usage(cmd)
  if not cmd then return "Usage: espflash [OPTIONS] <COMMAND>" end
  local parts = { "Usage: espflash", cmd.name, "[OPTIONS]" }
  for _, e in ipairs(cmd.entries) do
    if e.kind == "positional" then
      if e.rest or (e.many and e.optional) then
        parts[#parts + 1] = ("[%s]..."):format(e.argname)
      elseif e.many then
        parts[#parts + 1] = e.display .. "..."
      elseif e.optional then
        parts[#parts + 1] = ("[%s]"):format(e.argname)
      else
        parts[#parts + 1] = e.display
      end
    end
  end
  return table.concat(parts, " ")
end

--- The application model: discovered commands plus the global options.
-- Both the argparse parser and the PowerShell/Elvish completions are made from it.
-- With `discover_opts.only` (a command name) only that script is loaded when it
-- exists (`app.partial`); see espflash.commands.discover.
function M.load_app(discover_opts)
  discover_opts = discover_opts or {}
  discover_opts.reserved = discover_opts.reserved or M.RESERVED_NAMES
  local found = commands.discover(discover_opts)
  found.globals = global_entries()
  found.help = { name = "help", summary = HELP_SUMMARY, entries = {
    args_mod.normalize({ "topic", arg = "COMMAND", help = "The subcommand whose help to print",
      optional = true }, 1) } }
  return found
end

--- Builds the argparse parser for `app`. `on_early(kind, parser)` is called for
-- -h/--help ("help") and -V/--version ("version") before it raises to stop parsing.
-- With `only` (a command of `app`), only that subcommand is added: the command
-- line names it, and building every subcommand's parser and help would cost
-- most of a short command's start-up time.
function M.build_parser(app, on_early, only)
  on_early = on_early or function() end
  local function help_flag(p)
    p:flag("-h --help", "Print help"):action(function()
      on_early("help", p)
      error("espflash: help requested", 0)
    end)
  end
  local help_row = { "-h, --help", "Print help" }
  local all = {}
  for _, cmd in ipairs(app.commands) do all[#all + 1] = cmd end
  all[#all + 1] = app.help
  local parser = argparse("espflash", M.DESCRIPTION):add_help(false)
    :usage(M.usage()):command_target("command")
    :help(help.render({ about = M.DESCRIPTION, usage = M.usage(), entries = app.globals,
      extra_options = { help_row, { "-V, --version", "Print version" } }, commands = all }))
  for _, e in ipairs(app.globals) do args_mod.add_to_parser(parser, e) end
  help_flag(parser)
  parser:flag("-V --version", "Print version"):action(function()
    on_early("version", parser)
    error("espflash: version requested", 0)
  end)
  local function add_command(cmd)
    local c = parser:command(cmd.name):summary(cmd.summary)
      :description(cmd.description or cmd.summary):add_help(false):usage(M.usage(cmd))
      :help(help.render({ about = cmd.description or cmd.summary, usage = M.usage(cmd),
        entries = cmd.entries, extra_options = { help_row } }))
    for _, e in ipairs(cmd.entries) do args_mod.add_to_parser(c, e) end
    help_flag(c)
    return c
  end
  if only then
    add_command(only)
    return parser
  end
  for _, cmd in ipairs(app.commands) do add_command(cmd) end
  add_command(app.help)
  return parser
end

-- Index of the command word in argv (global options are all flags), or nil.
local function command_index(argv)
  for i = 1, #argv do
    local t = argv[i]
    if t == "--" then return nil end
    if t:sub(1, 1) ~= "-" or t == "-" then return i end
  end
  return nil
end

-- The global flags (not -h/--help: it answers before a later --version).
local GLOBAL_FLAGS = {}
for _, e in ipairs(M.GLOBAL_OPTIONS) do
  for name in e[1]:gmatch("%S+") do GLOBAL_FLAGS[name] = true end
end

-- True when argv asks for the version before anything but global flags (what
-- argparse would answer too, without loading a single script).
local function wants_version(argv)
  for i = 1, #argv do
    local t = argv[i]
    if t == "-V" or t == "--version" then return true end
    if not GLOBAL_FLAGS[t] then return false end
  end
  return false
end

local function copy(t)
  local c = {}
  for i = 1, #t do c[i] = t[i] end
  return c
end

local function usage_error(message, cmd)
  local e = errors.new("usage", message)
  e.exit = errors.EXIT_USAGE
  e.usage = M.usage(cmd)
  error(e, 0)
end

--- Parses argv (without argv[0]) against `app`.
-- Returns one of `{kind = "help", text}`, `{kind = "version"}` or
-- `{kind = "run", command, args, rest_index}`; raises usage errors (exit 2)
-- and the load error of a refused script (exit 1).
function M.parse(app, argv)
  local tokens = copy(argv)
  local ci = command_index(tokens)
  local cmd = ci and app.by_name[tokens[ci]]
  if ci and app.broken[tokens[ci]] then error(app.broken[tokens[ci]], 0) end
  local rest_index
  if cmd then
    local after = {}
    for i = ci + 1, #tokens do after[#after + 1] = tokens[i] end
    local start = args_mod.rest_start(after, cmd.entries)
    if start then
      rest_index = ci + start
      table.insert(tokens, rest_index, "--")
    end
  end
  local early, early_parser
  local parser = M.build_parser(app, function(kind, p) early, early_parser = kind, p end, cmd)
  local ok, parsed_ok, result = pcall(parser.pparse, parser, tokens)
  if early == "version" then return { kind = "version" } end
  if early == "help" then return { kind = "help", text = early_parser:get_help() } end
  if not ok then error(parsed_ok, 0) end
  if not parsed_ok then usage_error(result, cmd) end
  local name = result.command
  if name == "help" then
    local topic = result.topic
    if not topic then return { kind = "help", text = parser:get_help() } end
    if app.by_name[topic] or topic == "help" then return M.parse(app, { topic, "--help" }) end
    usage_error(("unknown command '%s'"):format(topic), app.help)
  end
  cmd = app.by_name[name]
  local entries = {}
  for _, e in ipairs(app.globals) do entries[#entries + 1] = e end
  for _, e in ipairs(cmd.entries) do entries[#entries + 1] = e end
  local done, err = args_mod.finish(entries, result)
  if not done then usage_error(err, cmd) end
  return { kind = "run", command = cmd, args = result, rest_index = rest_index }
end

local function env_debug()
  local v = os.getenv("ESPFLASH_DEBUG")
  return v ~= nil and v ~= "" and v ~= "0"
end

local function interrupted()
  local ok, core = pcall(require, "espflash.core")
  return ok and core.interrupted()
end

--- Prints an error the way the CLI reports failures and returns the exit
--- code: `espflash: error: <message> [<code>]` and `  hint: <what to do>`
--- (serial-port failures first go through espflash.errors.explain).
function M.report(err, traceback, debug, stderr)
  stderr = stderr or io.stderr
  if interrupted() then
    stderr:write("espflash: error: interrupted (Ctrl-C)\n")
    return errors.EXIT_INTERRUPTED
  end
  local code = 1
  err = errors.explain(err)
  if errors.is(err) then
    stderr:write("espflash: error: ", errors.format(err), "\n")
    if err.usage then stderr:write("\n", err.usage, "\n\nFor more information, try '--help'.\n") end
    code = err.exit or 1
  else
    stderr:write("espflash: error: ", tostring(err), "\n")
    if not debug then
      stderr:write("  hint: a Lua error in the script named above; run with --debug for the traceback\n")
    end
  end
  if debug and traceback and not (errors.is(err) and err.exit == errors.EXIT_USAGE) then
    stderr:write(traceback, "\n")
  end
  return code
end

local function exit_code(value)
  if value == nil or value == true then return 0 end
  if value == false then return 1 end
  if math.type(value) == "integer" then return value end
  return 0
end

--- The configuration files (espflash.config), loaded when first needed:
--- `ctx.config` reads them on first access, so a command that never looks
--- (completions, partition-table, ...) is not stopped by a broken file.
--- `ctx.app` (every command, for completions) is likewise loaded on first use.
local function lazy_config(ctx)
  return setmetatable(ctx, { __index = function(t, k)
    if k == "app" then
      rawset(t, "app", M.load_app())
      return rawget(t, "app")
    end
    if k ~= "config" then return nil end
    local cfg = require("espflash.config").load({ warn = function(msg) t.ui:warn(msg) end })
    for _, what in ipairs({ "project", "ports" }) do
      if cfg.files[what] then t.ui:debug(("Configuration: %s"):format(cfg.files[what])) end
    end
    rawset(t, "config", cfg)
    return cfg
  end })
end

-- True when the command takes option `key`.
local function takes(cmd, key)
  for _, e in ipairs(cmd.entries) do
    if e.key == key then return true end
  end
  return false
end

--- Runs the command line; returns the process exit code.
-- @param argv the global `arg` table (argv[0] is the program)
function M.main(argv)
  local debugging = env_debug()
  for i = 1, #argv do debugging = debugging or argv[i] == "--debug" end
  local traceback, ui
  local function handler(e)
    traceback = debug.traceback(nil, 2)
    return e
  end
  local function run()
    local host = require("espflash.host")
    if wants_version(argv) then
      io.stdout:write("espflash ", host.version, "\n")
      return 0
    end
    -- a command line that names a command loads that script alone: compiling
    -- every script would be most of a short command's start-up time
    local ci = command_index(argv)
    local word = ci and argv[ci]
    local app = M.load_app({ only = word ~= "help" and word or nil })
    local parsed = M.parse(app, argv)
    if parsed.kind == "version" then
      io.stdout:write("espflash ", host.version, "\n")
      return 0
    end
    local a = parsed.args or {}
    ui = ui_mod.new({ quiet = a.quiet, debug = debugging, tty = host.isatty(2),
                      width = host.columns(2) })
    if parsed.kind == "help" then
      for name, e in pairs(app.broken) do ui:warn(("command '%s' skipped: %s"):format(name, e.message)) end
      io.stdout:write(parsed.text, "\n")
      return 0
    end
    local cmd = parsed.command
    if a.json then ui:set_json(cmd.name) end
    local ctx = lazy_config({
      ui = ui, args = a, debug = debugging, app = not app.partial and app or nil, argv = argv,
      command = cmd.name, rest_index = parsed.rest_index,
      connect = function(self, connect_args)
        return require("espflash.session").connect(self, connect_args)
      end,
    })
    if takes(cmd, "partition_table_offset") then  -- flash, save-image: espflash.toml's [idf] settings
      for _, key in ipairs(require("espflash.config").apply(a, cmd.entries, ctx.config)) do
        ui:debug(("--%s from %s"):format(key:gsub("_", "-"), ctx.config.where["idf." .. key] or "espflash.toml"))
      end
    end
    if type(a.port) == "string" and takes(cmd, "port") then
      local has, portspec = pcall(require, "espflash.portspec")
      if has and portspec.is_multi(a.port) then
        local _ = ctx.config  -- read once, before the runs copy ctx
        return exit_code(require("espflash.parallel").run_command(ctx, a, cmd.run))
      end
    end
    return exit_code(cmd.run(a, ctx))
  end
  local ok, result = xpcall(run, handler)
  io.stdout:flush()
  if ok then
    if interrupted() then return errors.EXIT_INTERRUPTED end
    return result
  end
  result = errors.explain(result)
  if ui then
    ui:end_line()
    ui:json_failure(result)
  end
  return M.report(result, traceback, debugging)
end

return M
