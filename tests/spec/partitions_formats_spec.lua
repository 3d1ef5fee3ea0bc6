-- Partition tables in CSV and binary: parsing details, the binary layout
-- (checked against bytes packed here by hand), round trips, and values
-- esp-idf-part cannot handle (unknown subtypes and flags, ESP-IDF 5.3 types).
local core = require("espflash.core")
local partitions = require("espflash.partitions")
local show = require("espflash.partitions_show")

local function fields(t)
  local out = {}
  for i, p in ipairs(t.partitions) do out[i] = { p.name, p.type, p.subtype, p.offset, p.size, p.flags } end
  return out
end

-- ESP-IDF's binary layout, written out independently of partitions_bin.
local function idf_binary(rows)
  local body = {}
  for i, r in ipairs(rows) do
    body[i] = "\xAA\x50" .. string.char(r[2], r[3]) .. string.pack("<I4I4", r[4], r[5])
      .. r[1] .. ("\0"):rep(16 - #r[1]) .. string.pack("<I4", r[6] or 0)
  end
  local b = table.concat(body)
  b = b .. "\xEB\xEB" .. ("\xFF"):rep(14) .. core.md5(b)
  return b .. ("\xFF"):rep(0xC00 - #b)
end

describe("CSV partition tables", function()
  it("reads sizes and offsets in decimal, hex, K and M, and skips comments", function()
    local t = partitions.parse(table.concat({
      "# Name,   Type, SubType, Offset,  Size, Flags",
      "",
      "nvs,      data, nvs,     36864,   24K",
      "  phy_init , data , phy , 0xf000 , 0x1000 ,  ",
      "factory,  app,  factory, 0x10000, 2M",
      "storage,  data, spiffs,  0x210000, 0x1_0000",
    }, "\r\n"))
    assert.are.same({
      { "nvs", 1, 2, 0x9000, 24 * 1024, 0 }, { "phy_init", 1, 1, 0xF000, 0x1000, 0 },
      { "factory", 0, 0, 0x10000, 0x200000, 0 }, { "storage", 1, 0x82, 0x210000, 0x10000, 0 },
    }, fields(t))
  end)

  it("places partitions without an offset after the previous one (apps on 64 KiB)", function()
    local t = partitions.parse("nvs, data, nvs, , 0x5000\nphy, data, phy, , 0x1000\nf, app, factory, , 1M\n"
      .. "fs, data, fat, , 0x1800\nlast, data, 0x99, , 0x1000\n")
    assert.are.same({ 0x9000, 0xE000, 0x10000, 0x110000, 0x112000 },
      { t.partitions[1].offset, t.partitions[2].offset, t.partitions[3].offset,
        t.partitions[4].offset, t.partitions[5].offset })
  end)

  it("reads flags, quoted names, numeric types and long names", function()
    local t = partitions.parse('"my,app", app, ota_3, 0x10000, 1M, encrypted\n'
      .. "keys, data, nvs_keys, 0x9000, 0x1000, encrypted:readonly\n"
      .. "custom, 0x40, 0x07, 0x200000, 0x1000, readonly\n"
      .. "averyveryverylongpartitionname, data, littlefs, 0x300000, 0x10000\n")
    assert.are.same({ "my,app", 0, 0x13, 0x10000, 0x100000, 1 }, fields(t)[1])
    assert.are.equal(3, t:find("keys").flags)
    assert.are.equal(0x40, t:find("custom").type)
    assert.are.equal(7, t:find("custom").subtype)
    assert.is_truthy(t:find("averyveryverylon"))
    assert.are.equal(0x83, t:find("averyveryverylon").subtype)
  end)

  it("understands ESP-IDF 5.3+ types", function()
    local t = partitions.parse("bootloader, bootloader, primary, 0x0, 0x8000\n"
      .. "pt, partition_table, primary, 0x8000, 0x1000\nf, app, factory, 0x10000, 1M\n"
      .. "recovery, bootloader, recovery, 0x110000, 0x8000\n")
    assert.are.same({ 2, 0 }, { t:find("bootloader").type, t:find("bootloader").subtype })
    assert.are.same({ 3, 0 }, { t:find("pt").type, t:find("pt").subtype })
    assert.are.equal(2, t:find("recovery").subtype)
    local csv = t:to_csv()
    assert.matches("bootloader,bootloader,primary,0x0,0x8000,", csv, 1, true)
    assert.matches("pt,partition_table,primary,0x8000,0x1000,", csv, 1, true)
  end)

  local BAD = {
    { "f, app, factory, 0x10000, 1M, secret\n", "line 1: invalid partition flag 'secret'" },
    { "f, apps, factory, 0x10000, 1M\n", "line 1: invalid partition type 'apps'" },
    { "f, 0x1FF, factory, 0x10000, 1M\n", "line 1: invalid partition type '0x1FF'" },
    { "# c\nf, app, ota_16, 0x10000, 1M\n", "line 2: invalid partition subtype 'ota_16' for type 'app'" },
    { "f, data, nope, 0x10000, 1M\n", "invalid partition subtype 'nope' for type 'data'" },
    { "f, app, factory, 0x10000, 1G\n", "line 1: invalid partition size '1G'" },
    { "f, app, factory, 1x0, 1M\n", "line 1: invalid partition offset '1x0'" },
    { "f, app, factory, 0x10000, 0x100000000\n", "partition size '0x100000000' does not fit in 32 bits" },
    { "f, app, factory, 0x10000\n", "line 1: expected at least 5 fields" },
    { "f, app, factory, 0x10000,\n", "line 1: the partition size is missing" },
    { ", app, factory, 0x10000, 1M\n", "line 1: the partition name is empty" },
    { '"f, app, factory, 0x10000, 1M\n', "line 1: unterminated quoted field" },
    { "f, app, factory, 0x10000, 1M\xff\xfe\n", "neither a binary table nor UTF-8 CSV text" },
  }
  for _, b in ipairs(BAD) do
    it("rejects " .. b[2], function()
      local ok, err = pcall(partitions.parse, b[1])
      assert.is_false(ok)
      assert.are.equal("espflash::partition_table::invalid", err.code)
      assert.is_truthy(err.message:find(b[2], 1, true), err.message)
    end)
  end
end)

describe("binary partition tables", function()
  local ROWS = { { "nvs", 1, 2, 0x9000, 0x6000 }, { "phy_init", 1, 1, 0xF000, 0x1000 },
                 { "factory", 0, 0, 0x10000, 0x100000, 1 } }

  it("are written exactly as ESP-IDF lays them out", function()
    local csv = "nvs,data,nvs,0x9000,0x6000\nphy_init,data,phy,0xf000,0x1000\nfactory,app,factory,0x10000,1M,encrypted\n"
    assert.are.equal(idf_binary(ROWS), partitions.parse(csv):to_binary())
  end)

  it("round-trip through CSV byte for byte", function()
    local b = idf_binary(ROWS)
    local csv = partitions.parse(b):to_csv()
    assert.matches("^# ESP%-IDF Partition Table\n# Name,Type,SubType,Offset,Size,Flags\n", csv)
    assert.matches("factory,app,factory,0x10000,0x100000,encrypted\n", csv, 1, true)
    assert.are.equal(b, partitions.parse(csv):to_binary())
    assert.are.equal(csv, partitions.parse(partitions.parse(csv):to_binary()):to_csv())
  end)

  it("keep subtypes esp-idf-part does not know, and round-trip them", function()
    local b = idf_binary({ { "f", 0, 0x40, 0x10000, 0x100000 }, { "d", 1, 0x84, 0x9000, 0x1000 },
                           { "c", 0x55, 0xFE, 0x200000, 0x1000 } })
    local t = partitions.parse(b)
    assert.are.same({ 0x40, 0x84, 0xFE }, { t.partitions[1].subtype, t.partitions[2].subtype, t.partitions[3].subtype })
    local csv = t:to_csv()
    assert.matches("f,app,0x40,0x10000,0x100000,", csv, 1, true)
    assert.matches("c,0x55,0xfe,0x200000,0x1000,", csv, 1, true)
    assert.are.equal(b, partitions.parse(csv):to_binary())
  end)

  it("keep unknown flag bits, show them, and refuse to write them as CSV", function()
    local b = idf_binary({ { "f", 0, 0, 0x10000, 0x100000, 0x5 } })
    local t = partitions.parse(b)
    assert.are.equal(5, t.partitions[1].flags)
    assert.matches("encrypted:0x4", show.render(t), 1, true)
    assert.are.equal(b, t:to_binary())
    local ok, err = pcall(t.to_csv, t)
    assert.is_false(ok)
    assert.matches("flag bits 0x4", err.message)
  end)

  it("refuse more entries than a table holds", function()
    local parts = {}
    for i = 1, 95 do
      parts[i] = { name = "p" .. i, type = 1, subtype = 0x81, offset = 0x100000 + i * 0x1000, size = 0x1000, flags = 0 }
    end
    parts[1] = { name = "f", type = 0, subtype = 0, offset = 0x10000, size = 0x10000, flags = 0 }
    local ok, err = pcall(partitions.new, parts)
    assert.is_true(ok, tostring(err))
    ok, err = pcall(partitions.to_binary, err)
    assert.is_false(ok)
    assert.matches("at most 94", err.message)
    table.remove(parts)
    assert.are.equal(0xC00, #partitions.to_binary(partitions.new(parts)))
  end)
end)

describe("the partition-table display", function()
  it("shows one row per partition with sizes in KiB and flags", function()
    local t = partitions.parse("nvs,data,nvs,0x9000,0x6000\nfactory,app,factory,0x10000,1M,encrypted:readonly\n")
    local text = show.render(t)
    local lines = {}
    for l in text:gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.are.equal(7, #lines)
    assert.matches("│ Name +┆ Type ┆ SubType ┆ Offset +┆ Size +┆ Encrypted +│", lines[2])
    assert.matches("│ factory ┆ app +┆ factory ┆ 0x10000 ┆ 0x100000 %(1024KiB%) ┆ encrypted:readonly │", lines[6])
    for _, l in ipairs(lines) do assert.are.equal(utf8.len(lines[1]), utf8.len(l)) end
  end)
end)

local TD = os.getenv("ESPFLASH_TESTDATA")
local csv_file = TD and io.open(TD .. "/partitions/partitions.csv", "rb")
describe("the test partitions.csv", function()
  if not csv_file then
    pending("ESPFLASH_TESTDATA is not set: skipping the partitions.csv round trip")
    return
  end
  local text = csv_file:read("a")
  csv_file:close()
  it("round-trips CSV -> binary -> CSV -> binary", function()
    local t = partitions.parse(text)
    assert.are.same({ { "nvs", 1, 2, 0x9000, 0x6000, 0 }, { "phy_init", 1, 1, 0xF000, 0x1000, 0 },
                      { "factory", 0, 0, 0x10000, 0x400000, 0 } }, fields(t))
    local b = t:to_binary()
    assert.are.equal(b, partitions.parse(partitions.parse(b):to_csv()):to_binary())
  end)
end)
