-- Subcommand scripts: the contract check, discovery order (user directories
-- before built-ins, first wins) and how the CLI parses against them.
local commands = require("espflash.commands")
local cli = require("espflash.cli")
local errors = require("espflash.errors")
local lfs = require("lfs")

local function ok_def(extra)
  local def = { summary = "Do it", options = {}, run = function() end }
  for k, v in pairs(extra or {}) do def[k] = v end
  return def
end

local function refusal(def, groups)
  local ok, err = pcall(commands.validate, def, "/x/provision.lua", groups, cli.RESERVED_NAMES)
  assert.is_false(ok)
  assert.is_true(errors.is(err), tostring(err))
  return err.message
end

describe("commands.validate", function()
  for _, field in ipairs({ "summary", "options", "run" }) do
    it("refuses a script without '" .. field .. "', naming file and field", function()
      local def = ok_def()
      def[field] = nil
      assert.are.equal(("script /x/provision.lua: missing required field '%s'"):format(field), refusal(def))
    end)
  end

  it("refuses wrong types and non-tables", function()
    assert.truthy(refusal(42):find("must return a table", 1, true))
    assert.truthy(refusal(ok_def({ run = "go" })):find("'run' must be a function", 1, true))
    assert.truthy(refusal(ok_def({ summary = "" })):find("'summary' must be a non-empty string", 1, true))
    assert.truthy(refusal(ok_def({ options = { x = 1 } })):find("'options' must be a list", 1, true))
  end)

  it("names the malformed option entry", function()
    local msg = refusal(ok_def({ options = { { "--ok", flag = true, help = "h" }, { "--port", help = "p" } } }))
    assert.are.equal("script /x/provision.lua: option 2 (--port): needs either flag = true or arg = \"NAME\""
      .. " (the value's name in help)", msg)
  end)

  it("refuses duplicates, reserved names and bad positional order", function()
    assert.truthy(refusal(ok_def({ options = { { "--a", flag = true, help = "h" }, { "--a", flag = true, help = "h" } } }))
      :find("the key 'a' is used twice", 1, true))
    assert.truthy(refusal(ok_def({ options = { { "-h --hello", flag = true, help = "h" } } }))
      :find("option name '-h' is already taken", 1, true))
    assert.truthy(refusal(ok_def({ options = { { "a", help = "h", optional = true }, { "b", help = "h" } } }))
      :find("a required positional cannot follow an optional one", 1, true))
    assert.truthy(refusal(ok_def({ options = { { "a", help = "h", rest = true }, { "b", help = "h", optional = true } } }))
      :find("nothing may follow a 'rest' positional", 1, true))
  end)

  it("puts group entries first and refuses unknown groups", function()
    local groups = { g = { { "--grouped", flag = true, help = "h" } } }
    local cmd = commands.validate(ok_def({ uses = { "g" }, options = { { "pos", help = "h" } } }), "f", groups)
    assert.are.equal("grouped", cmd.entries[1].key)
    assert.are.equal("pos", cmd.entries[2].key)
    assert.truthy(refusal(ok_def({ uses = { "nope" } }), groups):find("unknown option group 'nope'", 1, true))
  end)

  it("accepts the connect group exactly as espflash names it", function()
    local cmd = commands.validate(ok_def({ uses = { "connect" } }), "f")
    local names = {}
    for _, e in ipairs(cmd.entries) do names[#names + 1] = table.concat(e.names, " ") end
    assert.are.same({ "-a --after", "-B --baud", "-b --before", "-c --chip", "--confirm-port",
      "--list-all-ports", "--no-stub", "-p --port", "--non-interactive" }, names)
  end)
end)

describe("commands.user_dirs", function()
  it("lists ESPFLASH_SCRIPTS, then the XDG config dir", function()
    local env = { ESPFLASH_SCRIPTS = "/a:/b", HOME = "/home/u" }
    assert.are.same({ "/a", "/b", "/home/u/.config/espflash/scripts" },
      commands.user_dirs(function(k) return env[k] end))
    env.XDG_CONFIG_HOME = "/cfg"
    assert.are.same({ "/a", "/b", "/cfg/espflash/scripts" }, commands.user_dirs(function(k) return env[k] end))
    env.XDG_CONFIG_HOME = "relative"
    assert.are.same({ "/a", "/b", "/home/u/.config/espflash/scripts" },
      commands.user_dirs(function(k) return env[k] end))
  end)
end)

local function listdir(path)
  if not lfs.attributes(path) then return nil end
  local names = {}
  for n in lfs.dir(path) do if n ~= "." and n ~= ".." then names[#names + 1] = n end end
  table.sort(names)
  return names
end

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

describe("commands.discover and cli.parse", function()
  local dir1, dir2
  local builtin_src = {
    greet = 'return { summary = "Built-in greet", options = {}, run = function() return 0 end }',
    flashy = 'return { summary = "Flash things", uses = { "connect" }, options = {'
      .. ' { "address", help = "Address", convert = "u32" } }, run = function() end }',
  }
  local builtins = {
    names = function() return { "flashy", "greet" } end,
    load = function(name, env) return load(builtin_src[name], "=" .. name, "t", env), "scripts/" .. name .. ".lua" end,
  }

  setup(function()
    local base = os.tmpname()
    os.remove(base)
    dir1, dir2 = base .. "-one", base .. "-two"
    assert(lfs.mkdir(dir1))
    assert(lfs.mkdir(dir2))
    write(dir1 .. "/greet.lua", 'return { summary = "User greet", options = {}, run = function() return 3 end }')
    write(dir2 .. "/greet.lua", 'return { summary = "Shadowed greet", options = {}, run = function() end }')
    write(dir2 .. "/provision.lua", 'return { summary = "Provision", options = {'
      .. ' { "-n --name", arg = "NAME", help = "Name", default = "dev" } }, run = function() end }')
    write(dir2 .. "/broken.lua", 'return { summary = "Broken", options = {} }')
    write(dir2 .. "/notes.txt", "not a script")
  end)

  teardown(function()
    for _, d in ipairs({ dir1, dir2 }) do
      for _, n in ipairs(listdir(d) or {}) do os.remove(d .. "/" .. n) end
      lfs.rmdir(d)
    end
  end)

  local function app()
    return cli.load_app({ dirs = { dir1, dir2, "/nonexistent/dir" }, listdir = listdir, builtins = builtins })
  end

  it("searches user directories first; the first file of a name wins", function()
    local a = app()
    assert.are.equal("User greet", a.by_name.greet.summary)
    assert.are.equal(dir1 .. "/greet.lua", a.by_name.greet.origin)
    assert.are.equal("Provision", a.by_name.provision.summary)
    assert.are.equal("scripts/flashy.lua", a.by_name.flashy.origin)
    local names = {}
    for _, c in ipairs(a.commands) do names[#names + 1] = c.name end
    assert.are.same({ "flashy", "greet", "provision" }, names)
  end)

  it("keeps a broken script out, with its error for when it is invoked", function()
    local a = app()
    assert.is_nil(a.by_name.broken)
    assert.are.equal(("script %s/broken.lua: missing required field 'run'"):format(dir2), a.broken.broken.message)
    local ok, err = pcall(cli.parse, a, { "broken" })
    assert.is_false(ok)
    assert.are.equal(a.broken.broken, err)
  end)

  it("parses a command with groups, defaults and conversions", function()
    local r = cli.parse(app(), { "-q", "flashy", "0x1000", "--before", "no-reset" })
    assert.are.equal("run", r.kind)
    assert.are.equal("flashy", r.command.name)
    assert.are.equal(0x1000, r.args.address)
    assert.are.equal("no-reset", r.args.before)
    assert.are.equal("hard-reset", r.args.after)
    assert.is_true(r.args.quiet)
    assert.is_false(r.args.no_stub)
    assert.are.equal("dev", cli.parse(app(), { "provision" }).args.name)
  end)

  it("turns usage mistakes into exit-2 errors with the command's usage", function()
    for _, argv in ipairs({ {}, { "nope" }, { "flashy" }, { "flashy", "12k" }, { "flashy", "1", "--bogus" },
                            { "help", "nope" } }) do
      local ok, err = pcall(cli.parse, app(), argv)
      assert.is_false(ok)
      assert.is_true(errors.is(err), tostring(err))
      assert.are.equal(2, err.exit)
      assert.truthy(err.usage:find("^Usage: espflash"), err.usage)
    end
    local _, err = pcall(cli.parse, app(), { "flashy", "12k" })
    assert.are.equal("invalid value '12k' for '<ADDRESS>': invalid digit found in string", err.message)
    assert.are.equal("Usage: espflash flashy [OPTIONS] <ADDRESS>", err.usage)
  end)

  it("answers --help, help CMD and --version before requiring anything", function()
    local h = cli.parse(app(), { "flashy", "--help" })
    assert.are.equal("help", h.kind)
    assert.truthy(h.text:find("Usage: espflash flashy [OPTIONS] <ADDRESS>", 1, true))
    assert.truthy(h.text:find("-p, --port <PORT>", 1, true))
    assert.are.equal(h.text, cli.parse(app(), { "help", "flashy" }).text)
    local root = cli.parse(app(), { "-h" }).text
    assert.truthy(root:find("\n  provision +Provision\n"), root)
    assert.is_nil(root:find("broken", 1, true))
    assert.are.equal("version", cli.parse(app(), { "-V" }).kind)
  end)
end)
