-- The default table, the table offset, the app partition choice, and the
-- layout checks flash and save-image make (reference §4.6, stricter than
-- espflash: end addresses against the flash size, bootloader/table overlap).
local chips = require("espflash.chips")
local partitions = require("espflash.partitions")

local MB = 1024 * 1024

local function raises(code, fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "expected " .. code)
  assert.are.equal(code, err.code, tostring(err.message))
  return err
end

describe("the default partition table", function()
  it("fills the flash with the factory app, capped at 16,384,000 bytes", function()
    local c3 = chips.get("esp32c3")
    local t = partitions.default(c3, 4 * MB)
    assert.are.same({ "nvs", "phy_init", "factory" },
      { t.partitions[1].name, t.partitions[2].name, t.partitions[3].name })
    assert.are.equal(4 * MB - 0x10000, t:find("factory").size)
    assert.are.equal(16384000, partitions.default(c3, 32 * MB):find("factory").size)
    assert.are.equal(0x8000, t:offset())
  end)

  it("uses the chip's fallback size when the flash size is unknown", function()
    assert.are.equal(0x100000, partitions.default((chips.get("esp32s3"))):find("factory").size)
    assert.are.equal(0x1F0000, partitions.default((chips.get("esp32c2"))):find("factory").size)
  end)
end)

describe("table offset and app partition", function()
  local t = partitions.parse("nvs,data,nvs,0x9000,0x4000\notadata,data,ota,0xd000,0x2000\n"
    .. "ota_0,app,ota_0,0x10000,1M\nota_1,app,ota_1,0x110000,1M\n")

  it("puts the table 4 KiB below the first partition unless given", function()
    assert.are.equal(0x8000, t:offset())
    assert.are.equal(0x6000, t:offset(0x6000))
    raises("espflash::partition_table::invalid_offset", t.offset, t, 0x6100)
  end)

  it("picks --target-app-partition, else factory, else the first app", function()
    assert.are.equal("ota_0", t:app_partition().name)
    assert.are.equal("ota_1", t:app_partition("ota_1").name)
    local err = raises("espflash::app_partition_not_found", t.app_partition, t, "nope")
    assert.matches("'nope'", err.message)
    raises("espflash::app_partition_not_found", t.app_partition, t, "nvs")
    local f = partitions.parse("a,app,ota_0,0x10000,1M\nfactory,app,factory,0x110000,1M\n")
    assert.are.equal("factory", f:app_partition().name)
  end)
end)

describe("check_layout", function()
  it("refuses a partition ending past the flash, with espflash's message", function()
    local t = partitions.parse("nvs,data,nvs,0x9000,0x6000\nphy_init,data,phy,0xf000,0x1000\n"
      .. "factory,app,factory,0x10000,4M\n")
    local err = raises("espflash::partition_table::does_not_fit", t.check_layout, t,
      { flash_size = 2 * MB, flash_size_name = "2MB" })
    assert.are.equal("The partition table does not fit into the flash (2MB)", err.message)
    assert.matches("'factory' ends at 0x410000", err.hint)
  end)

  it("checks end addresses where espflash sums sizes", function()
    -- sizes sum to 2 MB, well under 4 MB, but the app ends at 5 MB
    local t = partitions.parse("factory,app,factory,0x300000,2M\n")
    local sum = 0
    for _, p in ipairs(t.partitions) do sum = sum + p.size end
    assert.is_true(sum <= 4 * MB)
    raises("espflash::partition_table::does_not_fit", t.check_layout, t, { flash_size = 4 * MB })
    t:check_layout({ flash_size = 8 * MB })
  end)

  it("refuses partitions over the table or the bootloader", function()
    local t = partitions.parse("nvs,data,nvs,0x7000,0x2000\nfactory,app,factory,0x10000,1M\n")
    raises("espflash::partition_table::overlaps_table", t.check_layout, t, { table_offset = 0x8000 })
    raises("espflash::partition_table::overlaps_bootloader", t.check_layout, t,
      { table_offset = 0xF000, bootloader_offset = 0x1000, bootloader_size = 0x6100 })
    t:check_layout({ table_offset = 0xF000, bootloader_offset = 0x1000, bootloader_size = 0x6000 })
  end)

  it("refuses a table placed over the bootloader", function()
    local t = partitions.default(chips.get("esp32"), 4 * MB)
    raises("espflash::partition_table::overlaps_bootloader", t.check_layout, t,
      { table_offset = 0x7000, bootloader_offset = 0x1000, bootloader_size = 0x6800 })
    t:check_layout({ table_offset = 0x8000, bootloader_offset = 0x1000, bootloader_size = 0x6800,
                     flash_size = 4 * MB })
  end)
end)
