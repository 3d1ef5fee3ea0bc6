-- The command line's user-facing parts: option aliases (espflash 4.1's
-- underscore spellings) in parsing and help, the --json and monitor_config
-- groups, and the error report (message with code, hint, serial-port
-- explanations).
local args = require("espflash.args")
local cli = require("espflash.cli")
local errors = require("espflash.errors")
local groups = require("espflash.cli_groups")

local sink = require("helpers.files").sink

-- An app with one built-in command `save` whose options are `options`.
local function app(options)
  local src = { save = function()
    return { summary = "Save", options = options, run = function() end }
  end }
  return cli.load_app({ dirs = {}, listdir = function() return {} end, builtins = {
    names = function() return { "save" } end,
    load = function(name) return src[name], "scripts/" .. name .. ".lua" end,
  } })
end

local ALIASED = { { "--ignore-app-descriptor", flag = true, help = "Don't check the app descriptor",
                    aliases = { "--ignore_app_descriptor" } },
                  { "--partition-table-offset", arg = "OFFSET", help = "Offset", convert = "u32",
                    aliases = { "--partition_table_offset", "--pt-offset" } } }

describe("option aliases", function()
  it("are more long names of the same option", function()
    local e = args.normalize(ALIASED[1], 1)
    assert.are.same({ "--ignore-app-descriptor", "--ignore_app_descriptor" }, e.names)
    assert.are.same({ "--ignore_app_descriptor" }, e.aliases)
    assert.are.equal("ignore_app_descriptor", e.key)
    assert.are.equal("Don't check the app descriptor [aliases: --ignore_app_descriptor]", args.describe(e))
  end)

  it("parse like the option's own name", function()
    local a = app(ALIASED)
    for _, argv in ipairs({ { "save", "--ignore_app_descriptor", "--partition_table_offset", "0x9000" },
                            { "save", "--ignore-app-descriptor", "--pt-offset", "0x9000" } }) do
      local r = cli.parse(a, argv)
      assert.are.same({ true, 0x9000 }, { r.args.ignore_app_descriptor, r.args.partition_table_offset })
    end
    local r = cli.parse(a, { "save" })
    assert.are.same({ false }, { r.args.ignore_app_descriptor, r.args.partition_table_offset })
  end)

  it("are shown in help", function()
    local r = cli.parse(app(ALIASED), { "save", "--help" })
    assert.truthy(r.text:find("[aliases: --ignore_app_descriptor]", 1, true), r.text)
    assert.truthy(r.text:find("[aliases: --partition_table_offset, --pt-offset]", 1, true), r.text)
  end)

  it("are checked", function()
    local function refused(entry)
      local ok, msg = pcall(args.normalize, entry, 1)
      assert.is_false(ok)
      return msg
    end
    assert.are.equal("option 1 (--x): alias '-y' is not a long option name (--name)",
      refused({ "--x", flag = true, help = "h", aliases = { "-y" } }))
    assert.are.equal("option 1 (--x): alias '--x' repeats a name",
      refused({ "--x", flag = true, help = "h", aliases = { "--x" } }))
    assert.are.equal("option 1 (pos): a positional argument cannot have 'aliases'",
      refused({ "pos", help = "h", aliases = { "--p" } }))
    assert.are.equal("option 1 (--x): 'aliases' must be a non-empty list of strings",
      refused({ "--x", flag = true, help = "h", aliases = "--y" }))
    -- an alias taking another option's name is refused like any repeated name
    local ok, e = pcall(app, { { "--a", flag = true, help = "h" }, { "--b", flag = true, help = "h", aliases = { "--a" } } })
    assert.is_true(ok)
    assert.truthy(e.broken.save and e.broken.save.message:find("option name '--a' is already taken", 1, true))
  end)
end)

describe("option groups", function()
  it("--json is one flag", function()
    local e = args.normalize(groups.json[1], 1)
    assert.are.same({ "flag", "json" }, { e.kind, e.key })
  end)

  it("monitor_config holds espflash's MonitorConfigArgs with the monitor's keys", function()
    local keys = {}
    for i, entry in ipairs(groups.monitor_config) do
      local e = args.normalize(entry, i)
      keys[e.key] = e
    end
    for _, k in ipairs({ "monitor_baud", "elf", "rom_elf", "no_reset", "log_format", "output_format", "processors",
                         "no_addresses", "all_addresses" }) do
      assert.is_table(keys[k], k)
    end
    assert.are.same({ "-r", "MONITOR_BAUD" }, { keys.monitor_baud.short, keys.monitor_baud.env })
    assert.are.same({ "-L", "-F" }, { keys.log_format.short, keys.output_format.short })
    for _, k in ipairs(require("espflash.monitor_options").KEYS) do assert.is_table(keys[k], k) end
    -- usable next to ConnectArgs (which has --non-interactive) without a clash
    local ok, e = pcall(require("espflash.commands").validate,
      { summary = "s", uses = { "connect", "monitor_config", "json" }, options = {}, run = function() end }, "x")
    assert.is_true(ok, tostring(e))
  end)
end)

describe("cli.report", function()
  it("prints the message with its code, then the hint", function()
    local err = sink()
    local code = cli.report(errors.new("espflash::partition_table::does_not_fit",
      "The partition table does not fit into the flash (2MB)",
      "Make sure you set the correct flash size with the `--flash-size` option"), nil, false, err)
    assert.are.equal(1, code)
    assert.are.equal("espflash: error: The partition table does not fit into the flash (2MB) "
      .. "[espflash::partition_table::does_not_fit]\n"
      .. "  hint: Make sure you set the correct flash size with the `--flash-size` option\n", err.text())
  end)

  it("leaves the code out of usage errors and Lua errors", function()
    local err = sink()
    local e = errors.new("usage", "unknown option '--frob'")
    e.exit, e.usage = 2, "Usage: espflash save [OPTIONS]"
    assert.are.equal(2, cli.report(e, nil, false, err))
    assert.are.equal("espflash: error: unknown option '--frob'\n\nUsage: espflash save [OPTIONS]\n\n"
      .. "For more information, try '--help'.\n", err.text())
    err = sink()
    cli.report("x.lua:3: boom", nil, false, err)
    assert.matches("^espflash: error: x%.lua:3: boom\n  hint: ", err.text())
  end)

  it("explains serial-port failures", function()
    local err = sink()
    cli.report(errors.new("espflash::serial_error",
      "IO error while using serial port: /dev/ttyACM0: the device hung up"), nil, false, err)
    assert.matches("^espflash: error: The device went away during the operation %(/dev/ttyACM0: the device hung up%) "
      .. "%[espflash::serial_disconnected%]\n  hint: Check the USB cable", err.text())
  end)
end)
