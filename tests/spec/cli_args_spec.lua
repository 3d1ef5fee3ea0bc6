-- Option tables -> argparse: parse_u32, entry checking, the parser mapping,
-- environment/default precedence and the `rest` split.
local args = require("espflash.args")
local argparse = require("argparse")

describe("args.parse_u32", function()
  local ok_cases = {
    { "0", 0 }, { "4096", 4096 }, { "0x1000", 0x1000 }, { "0X1000", 0x1000 },
    { "0xabcDEF", 0xABCDEF }, { "1_000_000", 1000000 }, { "0x_10_00", 0x1000 },
    { "4294967295", 0xFFFFFFFF }, { "0xFFFFFFFF", 0xFFFFFFFF }, { "007", 7 },
    { "0x00000000010", 0x10 }, { "+5", 5 }, { "115_200", 115200 },
  }
  for _, c in ipairs(ok_cases) do
    it("parses " .. c[1], function()
      local v = args.parse_u32(c[1])
      assert.are.equal(c[2], v)
      assert.are.equal("integer", math.type(v))
    end)
  end

  local bad_cases = {
    { "", "cannot parse integer from empty string" },
    { "___", "cannot parse integer from empty string" },
    { "-1", "invalid digit found in string" },
    { "0x", "invalid digit found in string" },
    { "12k", "invalid digit found in string" },
    { "0x1g", "invalid digit found in string" },
    { "1.5", "invalid digit found in string" },
    { " 1", "invalid digit found in string" },
    { "+", "invalid digit found in string" },
    { "0b101", "invalid digit found in string" },
    { "4294967296", "number too large to fit in target type" },
    { "0x100000000", "number too large to fit in target type" },
    { "99999999999999999999", "number too large to fit in target type" },
  }
  for _, c in ipairs(bad_cases) do
    it("refuses '" .. c[1] .. "'", function()
      local v, why = args.parse_u32(c[1])
      assert.is_nil(v)
      assert.are.equal(c[2], why)
    end)
  end
end)

describe("args.normalize", function()
  it("derives key, kind and display", function()
    local e = args.normalize({ "-B --baud", arg = "BAUD", help = "Baud", convert = "u32", env = "X_BAUD" }, 1)
    assert.are.equal("option", e.kind)
    assert.are.equal("baud", e.key)
    assert.are.equal("-B", e.short)
    assert.are.equal("--baud <BAUD>", e.display)
    assert.are.equal(args.parse_u32, e.convert)
    local f = args.normalize({ "--no-verify", flag = true, help = "x" }, 2)
    assert.are.equal("flag", f.kind)
    assert.are.equal("no_verify", f.key)
    local p = args.normalize({ "partition-table", help = "x" }, 3)
    assert.are.equal("positional", p.kind)
    assert.are.equal("partition_table", p.key)
    assert.are.equal("<PARTITION_TABLE>", p.display)
  end)

  local bad = {
    { "not a table", "option 1: must be a table" },
    { { help = "x" }, "first element must be the name" },
    { { "--x", arg = "X" }, "option 1 (--x): missing field 'help'" },
    { { "--x", help = "h" }, "needs either flag = true or arg = \"NAME\"" },
    { { "--x", help = "h", flag = true, arg = "X" }, "has both 'flag' and 'arg'" },
    { { "-x", help = "h", flag = true }, "needs a long name" },
    { { "--x", help = "h", arg = "X", defualt = 1 }, "unknown field 'defualt'" },
    { { "--x", help = "h", arg = "X", convert = "hex" }, "unknown converter 'hex'" },
    { { "--x", help = "h", arg = "X", choices = {} }, "'choices' must be a non-empty list" },
    { { "--x", help = "h", arg = "X", choices = { "a b" } }, "not a plain word" },
    { { "--x", help = "h", arg = "X", choices = { "a" }, default = "b" }, "default 'b' is not one of its choices" },
    { { "--x", help = "h", arg = "X", env = "A-B" }, "'env' must be an environment variable name" },
    { { "--x", help = "h", flag = true, choices = { "a" } }, "a flag cannot have 'choices'" },
    { { "--x", help = "h", arg = "X", rest = true }, "'rest' is only for positional arguments" },
    { { "pos", help = "h", flag = true }, "a positional argument cannot be a flag" },
    { { "pos", help = "h", env = "X" }, "a positional argument cannot take 'env'" },
    { { "--bad_name!", help = "h", flag = true }, "is not an option name" },
  }
  for i, c in ipairs(bad) do
    it("refuses malformed entry " .. i, function()
      local ok, err = pcall(args.normalize, c[1], 1)
      assert.is_false(ok)
      assert.truthy(err:find(c[2], 1, true), err)
    end)
  end
end)

describe("args.add_to_parser", function()
  local entries
  local function parser()
    local p = argparse("t"):add_help(false)
    entries = {}
    for i, raw in ipairs({
      { "address", help = "Address", convert = "u32" },
      { "file", help = "File", optional = true },
      { "-B --baud", arg = "BAUD", help = "Baud", convert = "u32", env = "T_BAUD" },
      { "-b --before", arg = "MODE", help = "Before", choices = { "default-reset", "no-reset" }, default = "default-reset" },
      { "--no-stub", flag = true, help = "No stub" },
    }) do
      entries[i] = args.normalize(raw, i)
      args.add_to_parser(p, entries[i])
    end
    return p
  end

  it("maps positionals, options, flags, choices and converters", function()
    local ok, r = parser():pparse({ "0x2000", "out.bin", "-B", "921_600", "--before", "no-reset", "--no-stub" })
    assert.is_true(ok, r)
    assert.are.equal(0x2000, r.address)
    assert.are.equal("out.bin", r.file)
    assert.are.equal(921600, r.baud)
    assert.are.equal("no-reset", r.before)
    assert.is_true(r.no_stub)
  end)

  it("reports a bad u32 the way espflash does", function()
    local ok, msg = parser():pparse({ "0xZZ" })
    assert.is_false(ok)
    assert.are.equal("invalid value '0xZZ' for '<ADDRESS>': invalid digit found in string", msg)
    ok, msg = parser():pparse({ "1", "--baud", "fast" })
    assert.is_false(ok)
    assert.are.equal("invalid value 'fast' for '--baud <BAUD>': invalid digit found in string", msg)
  end)

  it("refuses a value outside the choices", function()
    local ok, msg = parser():pparse({ "1", "--before", "sometimes" })
    assert.is_false(ok)
    assert.truthy(msg:find("must be one of 'default-reset', 'no-reset'", 1, true), msg)
  end)

  it("applies CLI > env > default, and false for absent flags", function()
    local function run(argv, env)
      local ok, r = parser():pparse(argv)
      assert.is_true(ok, r)
      return args.finish(entries, r, function(name) return env[name] end)
    end
    local r = run({ "1" }, {})
    assert.is_nil(r.baud)
    assert.are.equal("default-reset", r.before)
    assert.is_false(r.no_stub)
    r = run({ "1" }, { T_BAUD = "0x1C200" })
    assert.are.equal(115200, r.baud)
    r = run({ "1", "-B", "9600" }, { T_BAUD = "115200" })
    assert.are.equal(9600, r.baud)
    r = run({ "1" }, { T_BAUD = "" })
    assert.is_nil(r.baud)
    local ok, res = parser():pparse({ "1" })
    assert.is_true(ok)
    local done, err = args.finish(entries, res, function() return "12k" end)
    assert.is_nil(done)
    assert.are.equal("invalid value '12k' for '--baud <BAUD>' (from T_BAUD): invalid digit found in string", err)
  end)

  it("describes entries with clap's suffixes", function()
    parser()
    assert.are.equal("Baud [env: T_BAUD=]", args.describe(entries[3]))
    assert.are.equal("Before [default: default-reset] [possible values: default-reset, no-reset]",
      args.describe(entries[4]))
  end)
end)

describe("args.rest_start", function()
  local entries = {
    args.normalize({ "-o --opt", arg = "X", help = "h" }, 1),
    args.normalize({ "--flag", flag = true, help = "h" }, 2),
    args.normalize({ "file", help = "h" }, 3),
    args.normalize({ "rest", help = "h", rest = true }, 4),
  }
  it("starts right after the regular positionals", function()
    assert.are.equal(2, args.rest_start({ "x.lua", "-o", "--flag" }, entries))
    assert.are.equal(4, args.rest_start({ "-o", "v", "x.lua", "a" }, entries))
    assert.are.equal(3, args.rest_start({ "--flag", "x.lua" }, entries))
    assert.is_nil(args.rest_start({ "-o", "v" }, entries))
    assert.is_nil(args.rest_start({ "--", "x.lua" }, entries))
  end)
  it("is nil for commands without a rest positional", function()
    assert.is_nil(args.rest_start({ "a", "b" }, { entries[1], entries[3] }))
  end)
end)
