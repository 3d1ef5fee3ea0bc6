-- Every partition table rule of reference §5.3 with its message, for CSV
-- and for binary input, plus the stricter checks this implementation adds.
local partitions = require("espflash.partitions")
local bin = require("espflash.partitions_bin")

local function entry(t)
  return { name = t[1], type = t[2], subtype = t[3], offset = t[4], size = t[5], flags = t[6] or 0 }
end

-- Binary bytes for a list of rows, skipping validation on the way.
local function binary(rows)
  local parts = {}
  for i, r in ipairs(rows) do parts[i] = entry(r) end
  return bin.format(parts)
end

-- The fields both forms carry (CSV adds `line`, binary `index`).
local function fields(t)
  local out = {}
  for i, p in ipairs(t.partitions) do
    out[i] = { p.name, p.type, p.subtype, p.offset, p.size, p.flags }
  end
  return out
end

local function fails(data, message)
  local ok, err = pcall(partitions.parse, data)
  assert.is_false(ok, "expected an error: " .. message)
  assert.are.equal("espflash::partition_table::invalid", err.code)
  assert.is_truthy(err.message:find(message, 1, true), ("%q does not contain %q"):format(err.message, message))
  return err
end

local RULES = {
  {
    "No partition of type 'app' was found in the partition table",
    "nvs, data, nvs, 0x9000, 0x6000\n",
    { { "nvs", 1, 2, 0x9000, 0x6000 } },
  },
  {
    "Multiple partitions with type 'app' and subtype 'factory' were found",
    "a, app, factory, 0x10000, 1M\nb, app, factory, 0x110000, 1M\n",
    { { "a", 0, 0, 0x10000, 0x100000 }, { "b", 0, 0, 0x110000, 0x100000 } },
  },
  {
    "Multiple partitions with type 'data' and subtype 'ota' were found",
    "o1, data, ota, 0x9000, 0x2000\no2, data, ota, 0xb000, 0x2000\nf, app, factory, 0x10000, 1M\n",
    { { "o1", 1, 0, 0x9000, 0x2000 }, { "o2", 1, 0, 0xb000, 0x2000 }, { "f", 0, 0, 0x10000, 0x100000 } },
  },
  {
    "The partition is not correctly aligned",
    "f, app, factory, 0x11000, 1M\n",
    { { "f", 0, 0, 0x11000, 0x100000 } },
  },
  {
    "The partition is not correctly aligned",
    "n, data, nvs, 0x9100, 0x1000\nf, app, factory, 0x10000, 1M\n",
    { { "n", 1, 2, 0x9100, 0x1000 }, { "f", 0, 0, 0x10000, 0x100000 } },
  },
  {
    "Partition larger than maximum supported size of 16MB: 'big'",
    "big, app, factory, 0x10000, 17M\n",
    { { "big", 0, 0, 0x10000, 17 * 1024 * 1024 } },
  },
  {
    "Partition with type 'data' and subtype 'ota' must have size of 0x2000 (8k) bytes",
    "otadata, data, ota, 0xd000, 0x3000\nf, app, factory, 0x10000, 1M\n",
    { { "otadata", 1, 0, 0xd000, 0x3000 }, { "f", 0, 0, 0x10000, 0x100000 } },
  },
  {
    "Two or more partitions with the same name ('x') were found",
    "x, data, nvs, 0x9000, 0x1000\nx, app, factory, 0x10000, 1M\n",
    { { "x", 1, 2, 0x9000, 0x1000 }, { "x", 0, 0, 0x10000, 0x100000 } },
  },
  {
    "Two partitions are overlapping each other: 'a' and 'b'",
    "a, app, factory, 0x10000, 1M\nb, data, spiffs, 0x100000, 1M\n",
    { { "a", 0, 0, 0x10000, 0x100000 }, { "b", 1, 0x82, 0x100000, 0x100000 } },
  },
  -- stricter than esp-idf-part
  {
    "Partition 'z' has size 0",
    "z, data, nvs, 0x9000, 0\nf, app, factory, 0x10000, 1M\n",
    { { "z", 1, 2, 0x9000, 0 }, { "f", 0, 0, 0x10000, 0x100000 } },
  },
  {
    "Partition 'end' ends past 4 GiB",
    "f, app, factory, 0x10000, 1M\nend, data, spiffs, 0xFFFFF000, 0x2000\n",
    { { "f", 0, 0, 0x10000, 0x100000 }, { "end", 1, 0x82, 0xFFFFF000, 0x2000 } },
  },
}

describe("partition table rules", function()
  for _, r in ipairs(RULES) do
    it("CSV: " .. r[1], function() fails(r[2], r[1]) end)
    it("binary: " .. r[1], function() fails(binary(r[3]), r[1]) end)
  end

  it("accepts a table that breaks no rule, in both forms", function()
    local csv = "nvs, data, nvs, 0x9000, 0x4000\notadata, data, ota, 0xd000, 0x2000\n"
      .. "phy_init, data, phy, 0xf000, 0x1000\nota_0, app, ota_0, 0x10000, 1M\nota_1, app, ota_1, , 1M\n"
    local t = partitions.parse(csv)
    assert.are.equal(5, #t.partitions)
    assert.are.equal(0x110000, t:find("ota_1").offset)
    assert.are.same(fields(t), fields(partitions.parse(t:to_binary())))
  end)

  it("leaves custom partition types' alignment alone", function()
    local t = partitions.parse("f, app, factory, 0x10000, 1M\ncustom, 0x40, 0x01, 0x110004, 0x100\n")
    assert.are.equal(0x40, t:find("custom").type)
  end)

  it("skips the rules when asked, to show a broken table", function()
    local t = partitions.parse("nvs, data, nvs, 0x9000, 0x6000\n", { validate = false })
    assert.are.equal(1, #t.partitions)
  end)
end)

describe("binary table checks", function()
  it("rejects a length that is not a multiple of 32", function()
    fails(binary({ { "f", 0, 0, 0x10000, 0x100000 } }) .. "x", "The length of the binary data is not a multiple of 32")
  end)

  it("rejects a wrong MD5", function()
    local b = binary({ { "f", 0, 0, 0x10000, 0x100000 } })
    local bad = b:sub(1, 49) .. string.char((b:byte(50) + 1) % 256) .. b:sub(51)
    fails(bad, "The binary's checksum is invalid (expected ")
  end)

  it("rejects a table without an end marker", function()
    local b = binary({ { "f", 0, 0, 0x10000, 0x100000 } })
    fails(b:sub(1, 64), "No end marker was found in the binary data")
  end)

  it("rejects an entry without the entry magic", function()
    local b = binary({ { "f", 0, 0, 0x10000, 0x100000 }, { "n", 1, 2, 0x9000, 0x1000 } })
    fails(b:sub(1, 32) .. "\x12\x34" .. b:sub(35), "not the entry magic AA 50")
  end)
end)
