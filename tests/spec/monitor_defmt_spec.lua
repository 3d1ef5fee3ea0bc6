-- defmt in the monitor: rzCOBS (the rzcobs crate's vectors), esp-println's
-- framing (espflash's delimiter cases), the wire format and format strings
-- (integers of every width, hints, floats, strings, slices, nested formats,
-- enums, bitfields), the log formats, and frames built from the `.defmt`
-- table of espflash's esp32c6_defmt.elf decoded in each output format.
local defmt = require("espflash.monitor_defmt")
local fmt = require("espflash.monitor_defmt_fmt")
local logfmt = require("espflash.monitor_defmt_log")
local num = require("espflash.monitor_defmt_num")

local function unhex(h)
  return (h:gsub("%s", ""):gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end))
end

describe("rzCOBS", function()
  local vectors = {
    { "", "" }, { "00", "7f" }, { "0000", "7f" }, { "00000000000000", "7f" },
    { "0000000000000000", "7f7f" }, { "01", "017e" }, { "0100", "017e" }, { "0001", "017d" },
    { "0102", "01027c" }, { "11223344556600", "11223344556640" },
    { "11223344556677", "1122334455667780" }, { "1122334455667700", "1122334455667780" },
    { "1122334455667788", "112233445566778881" },
    { "00000000000000 000000000000ff", "7f ff3f" }, { "00000000004400 000000000000ff", "445f ff3f" },
  }
  it("encodes and decodes the crate's vectors", function()
    for _, v in ipairs(vectors) do
      local dec, enc = unhex(v[1]), unhex(v[2])
      assert.are.equal(enc, defmt.rzcobs_encode(dec))
      local got = defmt.rzcobs_decode(enc)
      assert.are.equal(dec, got:sub(1, #dec))
      assert.is_nil(got:sub(#dec + 1):find("[^\0]"))
    end
  end)

  it("handles runs longer than 134 bytes and rejects zeros", function()
    local long = {}
    for i = 1, 300 do long[i] = string.char(i % 255 + 1) end
    long = table.concat(long)
    assert.are.equal(long, defmt.rzcobs_decode(defmt.rzcobs_encode(long)):sub(1, 300))
    assert.is_nil(defmt.rzcobs_decode("\1\0\2"))
  end)
end)

describe("esp-println framing", function()
  local function feed_all(d, s)
    local out = {}
    for _, p in ipairs(d:feed(s)) do out[#out + 1] = p.kind .. ":" .. p.data end
    return out
  end

  it("passes raw data through and holds back a trailing FF or FF 00", function()
    assert.are.same({ "raw:hello" }, feed_all(defmt.delimiter(), "hello"))
    assert.are.same({ "raw:hello" }, feed_all(defmt.delimiter(), "hello\xFF"))
    assert.are.same({ "raw:hello" }, feed_all(defmt.delimiter(), "hello\xFF\0"))
  end)

  it("splits frames from text, across reads and back to back", function()
    assert.are.same({ "frame:frame data", "raw:hello" },
      feed_all(defmt.delimiter(), "\xFF\0frame data\0hello"))
    local d = defmt.delimiter()
    assert.are.same({}, feed_all(d, "\xFF\0frame"))
    assert.are.same({ "frame:frame data" }, feed_all(d, " data\0\xFF"))
    assert.are.same({}, feed_all(d, "\0second frame"))
    assert.are.same({ "frame:second frame", "raw:last part" }, feed_all(d, "\0last part"))
    assert.are.same({ "frame:frame data1", "frame:frame data2" },
      feed_all(defmt.delimiter(), "\xFF\0frame data1\0\xFF\0frame data2\0"))
  end)

  it("keeps FF and 00 bytes that do not form a frame start", function()
    local s = "some message\xFF with parts of\0 a defmt \0\xFF frame delimiter"
    assert.are.same({ "raw:" .. s }, feed_all(defmt.delimiter(), s))
  end)
end)

-- A table with the given {index = {tag, format}} entries.
local function table_of(entries, timestamp)
  local t = { entries = {}, timestamp = timestamp }
  for i, e in pairs(entries) do
    t.entries[i] = { tag = e[1], format = e[2], level = defmt.LEVELS[e[1]],
                     log = defmt.LEVELS[e[1]] ~= nil or e[1] == "defmt_println" }
  end
  return t
end

local function message(t, bytes)
  local rec, err = defmt.decode(t, bytes)
  assert(rec, err)
  return rec.message, rec
end

describe("the wire format", function()
  local u16 = function(v) return string.pack("<I2", v) end

  it("reads integers of every width", function()
    local t = table_of({ [1] = { "defmt_info",
      "{=u8} {=u16} {=u24} {=u32} {=u64} {=u128} {=i8} {=i16} {=i32} {=i64} {=i128} {=usize} {=isize}" } })
    local bytes = u16(1) .. "\42" .. "\255\255" .. "\0\0\1" .. "\255\255\255\255" .. ("\255"):rep(8)
      .. ("\255"):rep(16) .. "\255" .. "\255\255" .. ("\255"):rep(4) .. ("\255"):rep(8) .. ("\255"):rep(16)
      .. string.pack("<I4", 7) .. string.pack("<i4", -7)
    assert.are.equal("42 65535 65536 4294967295 18446744073709551615 "
      .. "340282366920938463463374607431768211455 -1 -1 -1 -1 -1 7 -7", message(t, bytes))
  end)

  it("applies display hints", function()
    local t = table_of({ [1] = { "defmt_info",
      "{=u8:x} {=u8:#x} {=u16:#06X} {=u8:b} {=u8:#010b} {=u8:o} {=i8:x} {=u32:03} {=u64:us} {=u32:ms}" } })
    local bytes = u16(1) .. "\255\10" .. u16(0xab) .. "\5\5\8\255" .. string.pack("<I4", 7)
      .. string.pack("<I8", 1500000) .. string.pack("<I4", 2500)
    assert.are.equal("ff 0xa 0x00AB 101 0b00000101 10 ff 007 1.500000 2.500", message(t, bytes))
  end)

  it("shows floats, bools, chars and strings like Rust", function()
    local t = table_of({ [1] = { "defmt_warn", "{=f32} {=f64} {=f64} {=f64} {=bool} {=char} {=str} {=str:?} {=istr}" },
                         [2] = { "defmt_str", "interned" } })
    local bytes = u16(1) .. string.pack("<f", 0.1) .. string.pack("<d", 1.0) .. string.pack("<d", 1e30)
      .. string.pack("<d", -2.5e-7) .. "\1" .. string.pack("<I4", 0x263A) .. string.pack("<I4", 2) .. "hi"
      .. string.pack("<I4", 3) .. 'a"b' .. u16(2)
    local msg, rec = message(t, bytes)
    assert.are.equal('0.1 1.0 1e30 -2.5e-7 true ☺ hi "a\\"b" interned', msg)
    assert.are.equal("WARN", rec.level)
  end)

  it("reads byte slices, nested formats, enums, format slices and bitfields", function()
    local t = table_of({
      [1] = { "defmt_info", "{1=[u8]} {2=[u8; 2]:x} {3=[u8]:a} {4=?} {5} {6=[?]} {0=0..4} {0=4..8}" },
      [2] = { "defmt_derived", "Foo {{ x: {=u8} }}" },
      [3] = { "defmt_derived", "A|B({=u16})|C" },
    })
    local bytes = u16(1) .. "\200" .. string.pack("<I4", 2) .. "\1\2" .. "\171\205"
      .. string.pack("<I4", 3) .. "a\nb" .. u16(2) .. "\42" .. u16(3) .. "\1" .. u16(500)
      .. string.pack("<I4", 2) .. u16(3) .. "\0" .. "\2"
    assert.are.equal('[1, 2] [ab, cd] b"a\\nb" Foo { x: 42 } B(500) [A, C] 8 12', message(t, bytes))
  end)

  it("reads the timestamp first and rejects frames that do not fit", function()
    local t = table_of({ [5] = { "defmt_error", "boom {=u8}" } }, "{=u32:us}")
    local _, rec = message(t, u16(5) .. string.pack("<I4", 1234567) .. "\9")
    assert.are.equal("1.234567", rec.timestamp)
    assert.are.equal("boom 9", rec.message)
    assert.is_nil(defmt.decode(t, u16(5)))
    assert.is_nil(defmt.decode(t, u16(6) .. "\0\0\0\0\0"))
  end)

  it("parses format strings with explicit indices and escapes", function()
    local frags = fmt.parse("a {{b}} {1=u8} {0=str:?} {}")
    assert.are.equal("a {b} ", frags[1])
    assert.are.equal(1, frags[2].index)
    assert.are.equal(0, frags[4].index)
    assert.are.equal("debug", frags[4].hint.kind)
    assert.are.equal(0, frags[6].index)
    assert.has_error(function() fmt.parse("{=nope}") end)
  end)

  it("shows floats with the shortest digits", function()
    assert.are.equal("3.4028235e38", num.float(string.unpack("<f", "\255\255\127\127"), true))
    assert.are.equal("100000000000000.0", num.float(1e14))
    assert.are.equal("0.0001", num.float(1e-4))
    assert.are.equal("NaN", num.float(0 / 0))
  end)
end)

describe("log formats", function()
  local rec = { level = "WARN", message = "hi", file = "/a/b/src/main.rs", line = 7,
                module = "app::net", timestamp = "1.000000" }

  it("lays out oneline, full and custom formats", function()
    local function render(name, loc, ts) return logfmt.render(logfmt.parse(logfmt.format_for(name, loc, ts)), rec) end
    assert.are.equal("[WARN ] hi", render("oneline", false, false))
    assert.are.equal("1.000000 [WARN ] hi (app b/src/main.rs:7)", render("oneline", true, true))
    assert.are.equal("WARN  hi\n└─ app::net @ /a/b/src/main.rs:7", render("full", true, false))
    assert.are.equal("main.rs|b/src/main.rs|  WARN|hi  ", render("{f}|{fff}|{L:>6}|{s:<4}", false, false))
  end)

  it("colours by severity only when asked", function()
    local items = logfmt.parse("{L} {s:werror} {f:red:bold}")
    assert.are.equal("\27[33mWARN \27[0m \27[33mhi\27[0m \27[31;1mmain.rs\27[0m", logfmt.render(items, rec, true))
    assert.are.equal("WARN  hi main.rs", logfmt.render(items, rec, false))
  end)

  it("prints println frames as their message and rejects bad formats", function()
    assert.are.equal("just text", logfmt.render(logfmt.parse("[{L}] {s}"), { message = "just text" }))
    assert.has_error(function() logfmt.parse("{x}") end)
    assert.has_error(function() logfmt.parse("{s:nocolor}") end)
  end)
end)

local ELF = os.getenv("ESPFLASH_TESTDATA") and os.getenv("ESPFLASH_TESTDATA") .. "/elf/esp32c6_defmt.elf"
local have_elf = ELF and io.open(ELF, "rb")
if have_elf then have_elf:close() end

-- The index of the table entry whose format is `text`, read from the ELF's symbols.
local function index_of(text, prefix)
  local elf = require("espflash.elf").load(ELF)
  local sec = elf:section(".defmt")
  for _, s in ipairs(elf.symbols) do
    local want = '"data":"' .. text .. (prefix and "" or '"')
    if s.section == sec.index and s.name:find(want, 1, true) then return s.value end
  end
  error("no defmt entry " .. text)
end

local function framed(bytes) return "\xFF\0" .. defmt.rzcobs_encode(bytes) .. "\0" end

if have_elf then
  describe("frames from esp32c6_defmt.elf", function()
    local hello, unhandled, interrupts
    setup(function()
      hello = index_of("Hello world!")
      unhandled = index_of("panicked at 'Unhandled interrupt: {:?}'")
      interrupts = index_of("WIFI_MAC|WIFI_MAC_NMI|WIFI_PWR|", true)  -- prefix of the enum's variants
    end)

    it("decodes in the default oneline format, with text around frames kept", function()
      local p = defmt.new(ELF, {})
      assert.are.same({}, p.warnings)
      local out = p:feed("ESP-ROM:esp32c6\r\n" .. framed(string.pack("<I2", hello)) .. "after")
      assert.are.equal("ESP-ROM:esp32c6\r\n[INFO ] Hello world! (esp32c6_defmt src/bin/main.rs:31)\r\nafter", out)
    end)

    it("decodes in the full format", function()
      local p = defmt.new(ELF, { output_format = "full" })
      local out = p:feed(framed(string.pack("<I2", hello)))
      assert.truthy(out:match("^INFO  Hello world!\n└─ esp32c6_defmt::__risc_v_rt__main @ /.*/esp32c6_defmt/src/bin/main%.rs:31\r\n$"),
        out)
    end)

    it("decodes in a custom format, nested enum arguments included", function()
      local p = defmt.new(ELF, { output_format = "{L}|{s}|{m}|{f}:{l}" })
      local out = p:feed(framed(string.pack("<I2I2B", unhandled, interrupts, 2)))
      assert.truthy(out:match("^ERROR|panicked at 'Unhandled interrupt: WIFI_PWR'|esp_hal::[%w_:{}#]+|[%w_]+%.rs:%d+\r\n$"), out)
    end)

    it("reports frames that do not decode and keeps going", function()
      local p = defmt.new(ELF, {})
      local out, problems = p:feed(framed("\255\255") .. framed(string.pack("<I2", hello)))
      assert.are.equal(1, #problems)
      assert.truthy(problems[1]:find("Failed to decode defmt frame", 1, true))
      assert.truthy(out:find("Hello world!", 1, true))
    end)
  end)
else
  pending("frames from esp32c6_defmt.elf (SKIP: $ESPFLASH_TESTDATA/elf/esp32c6_defmt.elf is not available)")
end

describe("defmt tables", function()
  it("needs an ELF with a .defmt section", function()
    local ok, e = pcall(defmt.load_table, nil)
    assert.is_false(ok)
    assert.are.equal("espflash::monitor::defmt::no_elf", e.code)
    local elf = os.getenv("ESPFLASH_TESTDATA") and os.getenv("ESPFLASH_TESTDATA") .. "/elf/esp32c6.elf"
    local f = elf and io.open(elf, "rb")
    if f then
      f:close()
      ok, e = pcall(defmt.load_table, elf)
      assert.is_false(ok)
      assert.are.equal("No defmt data was found in the elf file", e.message)
    end
  end)
end)
