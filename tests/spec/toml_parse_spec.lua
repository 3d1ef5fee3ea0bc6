-- espflash.toml: the strict TOML subset of the configuration files — what
-- it reads, every refusal with its line and column, and writing.
local toml = require("espflash.toml")

-- The error of parsing `text` as "f.toml": "f.toml:L:C: message".
local function err(text)
  local doc, msg, info = toml.parse(text, "f.toml")
  assert.is_nil(doc, "expected a refusal of: " .. text)
  assert.are.equal(("f.toml:%d:%d: %s"):format(info.line, info.col, info.message), msg)
  return msg
end

describe("toml.parse", function()
  it("reads both espflash files", function()
    local doc, meta = toml.parse(table.concat({
      "# espflash.toml",
      "baudrate = 460_800   # faster",
      "format = \"EspIdf\"",
      "",
      "[idf]",
      "bootloader = 'build\\bootloader.bin'",
      "partition_table_offset = 0x8000",
      "\"quoted key\" = \"tab\\there \\u00e9\\U0001F600\"",
      "  [flash]  # indented header",
      "size = \"8MB\"",
      "enabled = true",
      "off = false",
      "[[usb_device]]",
      "vid = \"303a\"",
      "[[usb_device]]",
      "vid = \"10c4\"",
    }, "\r\n"), "x.toml")
    assert.are.same({
      baudrate = 460800, format = "EspIdf",
      idf = { bootloader = "build\\bootloader.bin", partition_table_offset = 0x8000,
              ["quoted key"] = "tab\there \u{e9}\u{1F600}" },
      flash = { size = "8MB", enabled = true, off = false },
      usb_device = { { vid = "303a" }, { vid = "10c4" } },
    }, doc)
    assert.are.same({ line = 2, col = 1 }, meta.pos.baudrate)
    assert.are.same({ line = 7, col = 1 }, meta.pos["idf.partition_table_offset"])
    assert.are.same({ line = 16, col = 1 }, meta.pos["usb_device[2].vid"])
    assert.are.same({ { name = "idf", line = 5, array = false }, { name = "flash", line = 9, array = false },
      { name = "usb_device", line = 13, array = true }, { name = "usb_device", line = 15, array = true } },
      meta.headers)
  end)

  it("reads integers in every base, with separators, up to 64 bits", function()
    local doc = assert(toml.parse("a = 0xDEAD_beef\nb = 0o755\nc = 0b1010\nd = -17\ne = +1_000\nf = 0\n"
      .. "g = 9223372036854775807\nh = -9223372036854775808\ni = 0x7fffffffffffffff\nj = 0x0000_0001"))
    assert.are.same({ a = 0xDEADBEEF, b = 493, c = 10, d = -17, e = 1000, f = 0, g = math.maxinteger,
      h = math.mininteger, i = math.maxinteger, j = 1 }, doc)
    assert.are.equal("integer", math.type(doc.a))
  end)

  it("skips a byte order mark, blank lines and comments", function()
    assert.are.same({ a = "#not a comment" }, (toml.parse("\239\187\191\n  # c\n\t\na = \"#not a comment\" # c")))
  end)

  it("refuses what espflash's files never need, saying what it is", function()
    assert.are.equal("f.toml:1:5: floating-point numbers are not supported here", err("a = 1.5"))
    assert.are.equal("f.toml:1:5: floating-point numbers are not supported here", err("a = 1e6"))
    assert.are.equal("f.toml:1:5: floating-point numbers are not supported here", err("a = inf"))
    assert.are.equal("f.toml:1:5: dates and times are not supported here", err("a = 1979-05-27"))
    assert.are.equal("f.toml:1:5: dates and times are not supported here", err("a = 07:32:00"))
    assert.are.equal("f.toml:2:8: arrays are not supported here (only [[tables]])", err("[x]\nlist = [1, 2]"))
    assert.are.equal("f.toml:1:5: inline tables are not supported here: write a [table] header", err("a = { b = 1 }"))
    assert.are.equal("f.toml:1:5: multi-line strings are not supported here", err('a = """x"""'))
    assert.are.equal("f.toml:1:5: multi-line strings are not supported here", err("a = '''x'''"))
    assert.are.equal("f.toml:1:6: dotted keys are not supported here: write a [table] header instead",
      err("flash.size = \"4MB\""))
    assert.are.equal("f.toml:1:5: dotted keys are not supported here: write a [table] header instead",
      err("[idf.x]"))
  end)

  it("reports syntax errors at their line and column", function()
    assert.are.equal("f.toml:3:8: unterminated string (a string ends on its line with \")",
      err("a = 1\n\nport = \"/dev/ttyUSB0"))
    assert.are.equal("f.toml:1:12: unterminated string (a literal string ends on its line with ')",
      err("bootloader='x.bin"))
    assert.are.equal("f.toml:1:7: expected the end of the line, found 'b'", err("a = 1 b"))
    assert.are.equal("f.toml:1:9: expected the end of the line, found 'é'", err("a = \"é\" é"))
    assert.are.equal("f.toml:1:3: expected '=' after the key 'a'", err("a : 1"))
    assert.are.equal("f.toml:1:7: expected a value after '='", err("a =   # nothing"))
    assert.are.equal("f.toml:1:1: expected a key", err("= 1"))
    assert.are.equal("f.toml:1:1: 'é' cannot start a key (bare keys are letters, digits, _ and -)", err("é = 1"))
    assert.are.equal("f.toml:2:7: expected ']' to close the table header", err("\n[flash"))
    assert.are.equal("f.toml:1:9: expected ']]' to close the table header", err("[[device]"))
    assert.are.equal("f.toml:1:9: expected the end of the line, found 'x'", err("[flash] x"))
    assert.are.equal("f.toml:1:5: 'qio' is not a value: strings need quotes (\"qio\")", err("m = qio"))
    assert.are.equal("f.toml:1:5: 'tru' is not a value: strings need quotes (\"tru\")", err("a = tru"))
    assert.are.equal("f.toml:1:5: '-' is not a valid value", err("a = -"))
    -- found by tests/fuzz/fuzz_toml.c: a value starting with , ] or } raised a raw Lua error
    assert.are.equal("f.toml:2:8: ',' cannot start a value", err("[flash]\nmode = ,dio"))
    assert.are.equal("f.toml:1:5: ']' cannot start a value", err("a = ]"))
    -- control characters from the file are escaped in the one-line message
    assert.are.equal("f.toml:1:5: '4\\x0060800' is not a valid value", err("a = 4\0" .. "60800"))
  end)

  it("refuses bad integers", function()
    assert.are.equal("f.toml:1:5: leading zeros are not allowed in '0755' (write 0x… for hex)", err("a = 0755"))
    assert.are.equal("f.toml:1:5: misplaced '_' in integer '1__000'", err("a = 1__000"))
    assert.are.equal("f.toml:1:5: misplaced '_' in integer '1000_'", err("a = 1000_"))
    assert.are.equal("f.toml:1:5: invalid hexadecimal integer '0x_8000'", err("a = 0x_8000"))
    assert.are.equal("f.toml:1:5: invalid hexadecimal integer '0xG'", err("a = 0xG"))
    assert.are.equal("f.toml:1:5: invalid octal integer '0o8'", err("a = 0o8"))
    assert.are.equal("f.toml:1:5: invalid binary integer '0b12'", err("a = 0b12"))
    assert.are.equal("f.toml:1:5: integer '9223372036854775808' does not fit in 64 bits", err("a = 9223372036854775808"))
    assert.are.equal("f.toml:1:5: integer '0x8000000000000000' does not fit in 64 bits", err("a = 0x8000000000000000"))
  end)

  it("refuses bad strings", function()
    assert.are.equal("f.toml:1:6: unknown escape '\\q' (use \\\\ for a backslash, or a 'literal string')",
      err('a = "\\q"'))
    assert.are.equal("f.toml:1:6: \\u needs 4 hex digits", err('a = "\\u12"'))
    assert.are.equal("f.toml:1:6: \\uD800 is not a Unicode scalar value", err('a = "\\uD800"'))
    assert.are.equal("f.toml:1:7: control character 0x01 in a string", err('a = "x\1"'))
    assert.are.equal("f.toml:1:7: control character 0x07 in a string", err("a = 'x\7'"))
    assert.are.equal("f.toml:1:9: control character 0x00 in a comment", err("a = 1 # \0"))
    assert.are.equal("f.toml:2:5: invalid UTF-8", err("a = 1\nb = \255"))
  end)

  it("refuses duplicate keys and tables", function()
    assert.are.equal("f.toml:3:1: duplicate key 'a' (first defined on line 1)", err("a = 1\nb = 2\na = 3"))
    assert.are.equal("f.toml:4:1: duplicate key 'size' (first defined on line 2)",
      err("[flash]\nsize = \"4MB\"\nmode = \"qio\"\nsize = \"8MB\""))
    assert.are.equal("f.toml:3:2: 'idf' is already defined on line 1", err("[idf]\n[flash]\n[idf]"))
    assert.are.equal("f.toml:2:2: 'idf' is already defined on line 1", err("idf = 1\n[idf]"))
    assert.are.equal("f.toml:2:3: 'idf' is already defined on line 1 as a table", err("[idf]\n[[idf]]"))
    assert.are.equal("f.toml:2:2: 'dev' is already defined on line 1", err("[[dev]]\n[dev]"))
    assert.are.equal("f.toml:3:1: duplicate key 'vid' (first defined on line 2)", err("[[dev]]\nvid = 1\nvid = 2"))
    -- the same key in two array entries is fine
    assert.are.same({ dev = { { vid = 1 }, { vid = 2 } } }, (toml.parse("[[dev]]\nvid = 1\n[[dev]]\nvid = 2")))
  end)
end)

describe("toml.encode", function()
  it("writes values, tables and arrays of tables that read back the same", function()
    local doc = {
      baudrate = 460800, name = "a \"quoted\"\tpath\\x\n", on = true,
      connection = { serial = "/dev/ttyUSB0" },
      usb_device = { { vid = "303a", pid = "1001" }, { vid = "10c4", pid = "ea60" } },
      ["odd key"] = { ["x y"] = 1 },
    }
    local text = toml.encode(doc, { "connection", "usb_device" })
    assert.are.same(doc, (toml.parse(text)))
    assert.are.equal(table.concat({
      'baudrate = 460800', 'name = "a \\"quoted\\"\\tpath\\\\x\\n"', 'on = true', '',
      '[connection]', 'serial = "/dev/ttyUSB0"', '', '["odd key"]', '"x y" = 1', '',
      '[[usb_device]]', 'pid = "1001"', 'vid = "303a"', '', '[[usb_device]]', 'pid = "ea60"', 'vid = "10c4"', '',
    }, "\n"), text)
  end)

  it("keeps an empty [table] (found by tests/fuzz/fuzz_toml.c: it was dropped)", function()
    local doc = assert(toml.parse("[connection]\nserial = \"/dev/ttyUSB0\"\n\n[idf]\n"))
    assert.are.same({}, doc.idf)
    assert.are.same(doc, (toml.parse(toml.encode(doc))))
  end)

  it("refuses values it cannot write", function()
    assert.has_error(function() toml.encode({ x = 1.5 }) end, "toml.encode: x is a float, which cannot be written")
  end)
end)
