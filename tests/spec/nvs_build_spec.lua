-- nvs.build / nvs.parse: round trips for every type, page filling, multi-page
-- blobs, many namespaces, and the errors of the Lua table form. Layout
-- checks read the bytes directly (entry i of page p is at p*4096 + 64 + 32*i).
local nvs = require("espflash.nvs")
local core = require("espflash.core")

local function entry_at(image, pg, i)
  local off = pg * 4096 + 64 + 32 * i
  return image:sub(off + 1, off + 32)
end
local function key_of(e) return e:sub(9, 24):match("^[^%z]*") end
local function written(image, pg)
  local bitmap, n = image:sub(pg * 4096 + 33, pg * 4096 + 64), 0
  for i = 0, 125 do
    if (bitmap:byte(i // 4 + 1) >> (2 * (i % 4))) & 3 == 2 then n = n + 1 end
  end
  return n
end
local function idx_fields(e)        -- BLOB_IDX data: size, chunk count, chunk start
  local size, count, start = string.unpack("<I4BB", e, 25)
  return size, count, start
end
local function state(image, pg) return (string.unpack("<I4", image, pg * 4096 + 1)) end

local function roundtrip(spec)
  local image = nvs.build(spec)
  local entries, problems = nvs.parse(image)
  assert.are.same({}, problems)
  return entries, image
end

local function raises(code, pattern, f)
  local ok, err = pcall(f)
  assert.is_false(ok)
  assert.are.equal(code, err.code, tostring(err))
  assert.matches(pattern, err.message)
end

describe("nvs round trip", function()
  it("gives back every integer type at its limits", function()
    local cases = {
      { "u8", 0 }, { "u8", 255 }, { "i8", -128 }, { "i8", 127 },
      { "u16", 65535 }, { "i16", -32768 }, { "i16", 32767 },
      { "u32", 0xFFFFFFFF }, { "i32", -2147483648 }, { "i32", 2147483647 },
      { "u64", 0 }, { "u64", math.maxinteger }, { "u64", -1 },     -- -1: all 64 bits set
      { "i64", math.mininteger }, { "i64", math.maxinteger }, { "i64", -1 },
    }
    local list = {}
    for i, c in ipairs(cases) do list[i] = { key = ("k%d"):format(i), type = c[1], value = c[2] } end
    local entries = roundtrip{ { namespace = "ints", entries = list } }
    assert.are.equal(#cases, #entries)
    for i, c in ipairs(cases) do
      assert.are.same({ "ints", ("k%d"):format(i), c[1], c[2] },
        { entries[i].namespace, entries[i].key, entries[i].type, entries[i].value })
      assert.are.equal("integer", math.type(entries[i].value))
    end
  end)

  it("accepts integer text, u64 up to 2^64 - 1", function()
    local entries = roundtrip{ { namespace = "n", entries = {
      { key = "a", type = "u64", value = "18446744073709551615" },
      { key = "b", type = "i16", value = "-0x10" },
      { key = "c", type = "u32", value = " 4_000_000_000 " },
    } } }
    assert.are.same({ -1, -16, 4000000000 }, { entries[1].value, entries[2].value, entries[3].value })
  end)

  it("gives back strings and blobs byte for byte", function()
    local bin = {}
    for i = 0, 255 do bin[#bin + 1] = string.char(i) end
    bin = table.concat(bin)
    local entries = roundtrip{ { namespace = "var", entries = {
      { key = "empty", type = "string", value = "" },
      { key = "utf8", type = "string", value = "grüße, \"quoted\"\nline" },
      { key = "s31", type = "string", value = ("x"):rep(31) },      -- exactly one data entry with NUL
      { key = "s4k", type = "string", value = ("y"):rep(3967) },    -- longest that leaves a page entry free
      { key = "bin", type = "blob", value = bin },
      { key = "hex", type = "hex2bin", value = "00ff10" },
      { key = "b64", type = "base64", value = "aGVsbG8=" },
      { key = "raw", type = "binary", value = "a\0b" },
      { key = "none", type = "blob", value = "" },
    } } }
    local got = {}
    for _, e in ipairs(entries) do got[e.key] = { e.type, e.value } end
    assert.are.same({ "string", "" }, got.empty)
    assert.are.same({ "string", "grüße, \"quoted\"\nline" }, got.utf8)
    assert.are.same({ "string", ("x"):rep(31) }, got.s31)
    assert.are.same({ "string", ("y"):rep(3967) }, got.s4k)
    assert.are.same({ "blob", bin }, got.bin)
    assert.are.same({ "blob", "\0\255\16" }, got.hex)
    assert.are.same({ "blob", "hello" }, got.b64)
    assert.are.same({ "blob", "a\0b" }, got.raw)
    assert.are.same({ "blob", "" }, got.none)
  end)

  it("stores a 4000-byte string (the ESP-IDF maximum) alone on a fresh page", function()
    local entries, image = roundtrip{ size = 0x4000, { namespace = "n", entries = {
      { key = "long", type = "string", value = ("z"):rep(3999) } } } }
    assert.are.equal(("z"):rep(3999), entries[1].value)
    assert.are.equal(126, written(image, 1))
    assert.are.equal(126, entry_at(image, 1, 0):byte(3))      -- span
  end)

  it("splits a blob over pages as BLOB_DATA chunks and a BLOB_IDX", function()
    local blob = {}
    for i = 1, 5000 do blob[i] = string.char((i * 7) % 256) end
    blob = table.concat(blob)
    local entries, image = roundtrip{ { namespace = "n", entries = { { key = "big", type = "blob", value = blob } } } }
    assert.are.equal(blob, entries[1].value)
    -- page 0: namespace, then chunk 0 with the 124 entries left after its header (3968 bytes)
    local c0 = entry_at(image, 0, 1)
    assert.are.same({ 0x42, 125, 0 }, { c0:byte(2), c0:byte(3), c0:byte(4) })
    assert.are.equal(3968, string.unpack("<I2", c0, 25))
    assert.are.equal(core.crc32(blob:sub(1, 3968), 0xFFFFFFFF), string.unpack("<I4", c0, 29))
    assert.are.equal(0xFFFFFFFC, state(image, 0))             -- FULL
    -- page 1: chunk 1 with the other 1032 bytes (33 entries), then the index
    local c1 = entry_at(image, 1, 0)
    assert.are.same({ 0x42, 34, 1 }, { c1:byte(2), c1:byte(3), c1:byte(4) })
    assert.are.equal(1032, string.unpack("<I2", c1, 25))
    local idx = entry_at(image, 1, 34)
    assert.are.same({ 0x48, 1, 0xFF }, { idx:byte(2), idx:byte(3), idx:byte(4) })
    assert.are.same({ 5000, 2, 0 }, { idx_fields(idx) })
    assert.are.equal(0xFFFFFFFE, state(image, 1))             -- the last used page stays ACTIVE
    assert.are.equal(("\xFF"):rep(4096), image:sub(2 * 4096 + 1, 3 * 4096))
  end)

  it("carries a blob over three pages and starts the next entry after its index", function()
    local blob = ("ab"):rep(5000)
    local entries, image = roundtrip{ size = 0x5000, { namespace = "n", entries = {
      { key = "b", type = "blob", value = blob }, { key = "after", type = "u8", value = 7 } } } }
    assert.are.equal(blob, entries[1].value)
    assert.are.same({ "after", 7 }, { entries[2].key, entries[2].value })
    -- 3968 + 4000 + 2032 bytes
    assert.are.equal(2032, string.unpack("<I2", entry_at(image, 2, 0), 25))
    assert.are.same({ 10000, 3, 0 }, { idx_fields(entry_at(image, 2, 65)) })
    assert.are.equal("after", key_of(entry_at(image, 2, 66)))
  end)

  it("moves a string that would take a page's last entry to the next page", function()
    local list = {}
    for i = 1, 63 do list[i] = { key = ("s%d"):format(i), type = "string", value = ("x"):rep(31) } end
    local entries, image = roundtrip{ { namespace = "n", entries = list } }
    assert.are.equal(63, #entries)
    assert.are.equal(125, written(image, 0))                 -- namespace + 62 strings of 2 entries
    assert.are.equal("s63", key_of(entry_at(image, 1, 0)))
    assert.are.equal(1, entries[63].page)
  end)

  it("never lets a string end on a page's last entry (nvs_partition_gen's >= check)", function()
    local list = {}
    for i = 1, 61 do list[i] = { key = ("s%d"):format(i), type = "string", value = ("x"):rep(31) } end
    list[62] = { key = "u", type = "u8", value = 1 }          -- entries 0..123 used
    list[63] = { key = "last", type = "string", value = "y" } -- 2 entries would end at entry 125
    local entries, image = roundtrip{ { namespace = "n", entries = list } }
    assert.are.equal(124, written(image, 0))
    assert.are.equal("last", key_of(entry_at(image, 1, 0)))
    assert.are.equal("y", entries[63].value)
  end)

  it("puts a blob's index on the next page when its data fills the page", function()
    for _, size in ipairs({ 3968, 3950 }) do                  -- 124 data entries: none left after them
      local entries, image = roundtrip{ { namespace = "n", entries = {
        { key = "b", type = "blob", value = ("d"):rep(size) }, { key = "u", type = "u8", value = 9 } } } }
      assert.are.equal(size, #entries[1].value)
      assert.are.equal(126, written(image, 0))
      assert.are.equal(0xFFFFFFFC, state(image, 0))
      assert.are.same({ size, 1, 0 }, { idx_fields(entry_at(image, 1, 0)) })
      assert.are.equal("u", key_of(entry_at(image, 1, 1)))
    end
    -- one byte less than a page's room leaves an entry free: the index stays
    local _, image = roundtrip{ { namespace = "n", entries = { { key = "b", type = "blob", value = ("d"):rep(3936) } } } }
    assert.are.equal(0x48, entry_at(image, 0, 125):byte(2))
  end)

  it("starts a blob on a page's last entry with an empty first chunk", function()
    local list = {}
    for i = 1, 124 do list[i] = { key = ("k%d"):format(i), type = "u8", value = 1 } end
    list[125] = { key = "b", type = "blob", value = "tail" }    -- entries 0..124 used
    local entries, image = roundtrip{ { namespace = "n", entries = list } }
    assert.are.equal("tail", entries[125].value)
    local c0, c1 = entry_at(image, 0, 125), entry_at(image, 1, 0)
    assert.are.same({ 0x42, 1, 0, 0 }, { c0:byte(2), c0:byte(3), c0:byte(4), (string.unpack("<I2", c0, 25)) })
    assert.are.same({ 0x42, 2, 1, 4 }, { c1:byte(2), c1:byte(3), c1:byte(4), (string.unpack("<I2", c1, 25)) })
    assert.are.same({ 4, 2, 0 }, { idx_fields(entry_at(image, 1, 2)) })
  end)

  it("fills all 126 entries with one-entry items", function()
    local list = {}
    for i = 1, 130 do list[i] = { key = ("k%d"):format(i), type = "u16", value = i } end
    local entries, image = roundtrip{ { namespace = "n", entries = list } }
    assert.are.equal(130, #entries)
    assert.are.equal(126, written(image, 0))
    assert.are.equal("k126", key_of(entry_at(image, 1, 0)))
    for i, e in ipairs(entries) do assert.are.equal(i, e.value) end
  end)

  it("keeps many namespaces apart, up to the 254 NVS allows", function()
    local spec = { size = 0x8000 }
    for n = 1, 254 do
      spec[n] = { namespace = ("ns%d"):format(n), entries = { { key = "v", type = "u32", value = n * 1000 } } }
    end
    local entries = roundtrip(spec)
    assert.are.equal(254, #entries)
    for n, e in ipairs(entries) do
      assert.are.same({ ("ns%d"):format(n), "v", n * 1000, n }, { e.namespace, e.key, e.value, e.ns })
    end
    spec[255] = { namespace = "one_more", entries = {} }
    raises("espflash::nvs::invalid_input", "too many namespaces", function() nvs.build(spec) end)
  end)

  it("gives back strings and single-page blobs in format version 1", function()
    local entries, image = roundtrip{ version = 1, { namespace = "old", entries = {
      { key = "s", type = "string", value = "v1 text" },
      { key = "b", type = "blob", value = ("\7"):rep(1984) },
      { key = "n", type = "i32", value = -7 },
    } } }
    assert.are.same({ "v1 text", ("\7"):rep(1984), -7 }, { entries[1].value, entries[2].value, entries[3].value })
    assert.are.equal(0xFF, image:byte(9))                     -- header version byte
    assert.are.equal(0x41, entry_at(image, 0, 3):byte(2))     -- one BLOB item, no chunks
    raises("espflash::nvs::invalid_input", "the blob for key 'b' is 1985 bytes; at most 1984", function()
      nvs.build{ version = 1, { namespace = "o", entries = { { key = "b", type = "blob", value = ("x"):rep(1985) } } } }
    end)
  end)

  it("reuses a namespace's index when it is named again", function()
    local entries, image = roundtrip{
      { namespace = "a", entries = { { key = "x", type = "u8", value = 1 } } },
      { namespace = "b", entries = { { key = "x", type = "u8", value = 2 } } },
      { namespace = "a", entries = { { key = "y", type = "u8", value = 3 } } },
    }
    assert.are.same({ "a", "b", "a" }, { entries[1].namespace, entries[2].namespace, entries[3].namespace })
    assert.are.equal(5, written(image, 0))                   -- two namespace entries, three values
  end)

  it("reads a blob from a file relative to base_dir", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. dir))
    local f = assert(io.open(dir .. "/cert.der", "wb"))
    f:write("\48\130\1\2certificate")
    f:close()
    local entries = roundtrip{ base_dir = dir,
      { namespace = "tls", entries = { { key = "cert", type = "binary", file = "cert.der" } } } }
    os.execute("rm -rf " .. dir)
    assert.are.equal("\48\130\1\2certificate", entries[1].value)
  end)
end)

describe("nvs.build errors", function()
  local function one(e) return { size = 0x3000, { namespace = "n", entries = { e } } } end

  it("rejects bad sizes and versions", function()
    raises("espflash::nvs::invalid_size", "at least 0x3000", function() nvs.build{ size = 0x2000 } end)
    raises("espflash::nvs::invalid_size", "multiple of 0x1000", function() nvs.build{ size = 0x3100 } end)
    raises("espflash::nvs::invalid_version", "1 or 2", function() nvs.build{ version = 3 } end)
  end)

  it("names the entry and the problem", function()
    raises("espflash::nvs::invalid_input", "entry 1 %(key 'k'%): 256 is out of range for u8 %(0..255%)",
      function() nvs.build(one{ key = "k", type = "u8", value = 256 }) end)
    raises("espflash::nvs::invalid_input", "out of range for i8", function()
      nvs.build(one{ key = "k", type = "i8", value = "-129" }) end)
    raises("espflash::nvs::invalid_input", "'1.5' is not an integer", function()
      nvs.build(one{ key = "k", type = "u32", value = "1.5" }) end)
    raises("espflash::nvs::invalid_input", "unknown type 'float'", function()
      nvs.build(one{ key = "k", type = "float", value = 1 }) end)
    raises("espflash::nvs::invalid_input", "key 'a_key_too_long_x' is 16 bytes long", function()
      nvs.build(one{ key = "a_key_too_long_x", type = "u8", value = 1 }) end)
    raises("espflash::nvs::invalid_input", "has no value", function()
      nvs.build(one{ key = "k", type = "string" }) end)
    raises("espflash::nvs::invalid_input", "4001 bytes with its NUL; at most 4000", function()
      nvs.build(one{ key = "k", type = "string", value = ("x"):rep(4000) }) end)
    raises("espflash::nvs::invalid_input", "cannot read file", function()
      nvs.build(one{ key = "k", type = "blob", file = "/nonexistent/x.bin" }) end)
  end)

  it("says when the data does not fit", function()
    raises("espflash::nvs::too_small", "does not fit in a 0x3000%-byte NVS partition", function()
      nvs.build(one{ key = "k", type = "blob", value = ("x"):rep(8000) }) end)
    assert.is_string(nvs.build(one{ key = "k", type = "blob", value = ("x"):rep(7000) }))
  end)
end)
