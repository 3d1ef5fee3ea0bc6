-- The chip index (espflash.chips) and the constants of every chip table,
-- checked against espflash-reference.md §3.2 and protocol.md §4.1 / §6.1.
local chips = require("espflash.chips")
local field = require("espflash.chips.field")
local common = require("espflash.chips.common")

-- name -> chip id, magic list, bootloader offset, default flash freq, SPI base
local TABLE = {
  esp32 = { 0, { 0x00F01D83 }, 0x1000, "40mhz", 0x3FF42000 },
  esp32c2 = { 12, { 0x6F51306F, 0x7C41A06F }, 0x0, "30mhz", 0x60002000 },
  esp32c3 = { 5, { 0x6921506F, 0x1B31506F, 0x4881606F, 0x4361606F }, 0x0, "40mhz", 0x60002000 },
  esp32c5 = { 23, { 0x1101406F, 0x63E1406F, 0x5FD1406F }, 0x2000, "40mhz", 0x60003000 },
  esp32c6 = { 13, { 0x2CE0806F }, 0x0, "40mhz", 0x60003000 },
  esp32c61 = { 20, { 0x7211606F }, 0x0, "40mhz", 0x60003000 },
  esp32h2 = { 16, { 0xD7B73E80 }, 0x0, "24mhz", 0x60003000 },
  esp32p4 = { 18, { 0x0, 0x0ADDBAD0 }, 0x2000, "40mhz", 0x5008D000 },
  esp32s2 = { 2, { 0x000007C6 }, 0x1000, "40mhz", 0x3F402000 },
  esp32s3 = { 9, { 0x9 }, 0x0, "40mhz", 0x60002000 },
  esp32s31 = { 32, { 0x0 }, 0x2000, "40mhz", 0x20501000 },
}

describe("chips index", function()
  it("lists the chips in espflash's order", function()
    assert.are.same({ "esp32", "esp32c2", "esp32c3", "esp32c5", "esp32c6", "esp32c61",
                      "esp32h2", "esp32p4", "esp32s2", "esp32s3", "esp32s31" }, chips.names())
  end)

  it("returns a fresh list from names()", function()
    local a = chips.names()
    a[1] = "changed"
    assert.are.equal("esp32", chips.names()[1])
  end)

  it("gets chips by name, accepting espressif spellings", function()
    assert.are.equal("esp32c3", chips.get("esp32c3").name)
    assert.are.equal("esp32c3", chips.get("ESP32-C3").name)
    assert.are.equal("esp32s31", chips.get("esp32s31").name)
  end)

  it("rejects an unknown chip with a message listing the valid ones", function()
    local chip, err = chips.get("esp8266")
    assert.is_nil(chip)
    assert.matches("unknown chip 'esp8266'", err, 1, true)
    for _, n in ipairs(chips.names()) do assert.matches(n, err, 1, true) end
    assert.is_nil((chips.get(nil)))
  end)

  it("finds every chip by its chip id, and nothing for unknown ids", function()
    for name, t in pairs(TABLE) do
      assert.are.equal(name, chips.by_chip_id(t[1]).name)
    end
    assert.is_nil(chips.by_chip_id(99))
  end)

  it("has no duplicate chip ids or names", function()
    local ids, names = {}, {}
    for _, chip in ipairs(chips.all()) do
      assert.is_nil(ids[chip.chip_id], "chip id " .. chip.chip_id)
      assert.is_nil(names[chip.name], chip.name)
      ids[chip.chip_id], names[chip.name] = true, true
    end
  end)

  it("finds chips by magic; the only shared magic (0) means the ESP32-P4", function()
    local seen = {}
    for _, chip in ipairs(chips.all()) do
      for _, m in ipairs(chip.magic) do
        if seen[m] then
          assert.are.same({ 0, "esp32p4", "esp32s31" }, { m, seen[m], chip.name })
        else
          seen[m] = chip.name
        end
        assert.are.equal(seen[m], chips.by_magic(m).name)
      end
    end
    assert.is_nil(chips.by_magic(0xFFF0C101)) -- ESP8266: unsupported
  end)
end)

describe("chip tables", function()
  for name, t in pairs(TABLE) do
    it(name .. " has the reference constants", function()
      local chip = chips.get(name)
      assert.are.equal(name, chip.name)
      assert.are.equal(t[1], chip.chip_id)
      assert.are.same(t[2], chip.magic)
      assert.are.equal(t[3], chip.bootloader_offset)
      assert.are.equal(t[4], chip.default_flash_freq)
      assert.are.equal(0, chip.flash_freq_codes[chip.default_flash_freq])
      assert.are.equal(t[5], chip.spi.base)
      assert.is_string(chip.stub)
      assert.is_table(chip.targets)
      assert.is_true(#chip.mmu_page_sizes >= 1)
      for _, size in ipairs(chip.mmu_page_sizes) do
        assert.are.equal(0, size & (size - 1), "power of two")
      end
    end)

    it(name .. " has ROM personality constants", function()
      local chip = chips.get(name)
      local esp32 = name == "esp32"
      assert.are.equal(esp32 and 16 or 20, chip.rom.flash_begin_len)
      assert.are.equal(esp32 and 0x13 or 0x14, chip.rom.max_opcode)
      assert.are.equal(esp32 and 0 or name == "esp32s2" and 12 or 20, chip.rom.secinfo_len)
      local dl, boot = chip.rom.banner_download, chip.rom.banner_boot
      assert.is_true(#dl < 256 and #boot < 256, "banners fit the profile")
      assert.matches("boot:0x%x+ %(DOWNLOAD.*%)\r\nwaiting for download\r\n$", dl)
      assert.matches("boot:0x%x+ %(SPI_FAST_FLASH_BOOT%)\r\n$", boot)
      assert.is_nil(boot:find("waiting for download", 1, true))
    end)

    it(name .. " has SPI offsets, eFuse fields and a plausible simulated chip", function()
      local chip = chips.get(name)
      local spi = chip.spi
      local offs = name == "esp32" and { 0x1C, 0x20, 0x24, 0x28, 0x2C, 0x80 }
        or { 0x18, 0x1C, 0x20, 0x24, 0x28, 0x58 }
      assert.are.same(offs, { spi.usr, spi.usr1, spi.usr2, spi.mosi_dlen, spi.miso_dlen, spi.w0 })
      for fname, f in pairs(chip.efuse) do
        assert.are.equal(getmetatable(field(0, 0, 1)), getmetatable(f), fname)
      end
      assert.are.equal("integer", math.type(chip.efuse_base))
      assert.are.equal(32, chip.efuse.mac0.width)
      assert.are.equal(16, chip.efuse.mac1.width)
      assert.are.equal("integer", math.type(chip.uart_clkdiv))
      assert.are.equal(0x00, chip.sim.jedec >> 24)
      assert.is_true(chip.sim.jedec & 0xFF ~= 0 and chip.sim.jedec & 0xFF ~= 0xFF)
      if chip.sim.magic then
        assert.is_true(chips.by_magic(chip.sim.magic) == chip, "sim magic is one of the chip's")
      end
      for addr, v in pairs(chip.sim.regs) do
        assert.is_true(math.type(addr) == "integer" and addr & 3 == 0, "aligned register address")
        assert.is_true(v >= 0 and v <= 0xFFFFFFFF, "32-bit register value")
      end
    end)
  end

  it("uses the documented frequency codes", function()
    assert.are.same(common.GENERIC_FREQ_CODES, chips.get("esp32").flash_freq_codes)
    assert.are.same({ ["15mhz"] = 2, ["20mhz"] = 1, ["30mhz"] = 0, ["60mhz"] = 0xF },
      chips.get("esp32c2").flash_freq_codes)
    assert.are.same({ ["12mhz"] = 2, ["16mhz"] = 1, ["24mhz"] = 0, ["48mhz"] = 0xF },
      chips.get("esp32h2").flash_freq_codes)
  end)

  it("lists the MMU page sizes of §3.2", function()
    assert.are.same({ 0x4000, 0x8000, 0x10000 }, chips.get("esp32c2").mmu_page_sizes)
    assert.are.same({ 0x2000, 0x4000, 0x8000, 0x10000 }, chips.get("esp32c6").mmu_page_sizes)
    assert.are.same({ 0x2000, 0x4000, 0x8000, 0x10000 }, chips.get("esp32h2").mmu_page_sizes)
    assert.are.same({ 0x10000 }, chips.get("esp32s3").mmu_page_sizes)
  end)

  it("has RTC watchdog registers exactly on C3, P4, S2, S3 and S31", function()
    local with = {}
    for _, chip in ipairs(chips.all()) do
      if chip.wdt then with[#with + 1] = chip.name end
    end
    assert.are.same({ "esp32c3", "esp32p4", "esp32s2", "esp32s3", "esp32s31" }, with)
    assert.are.same({ wprotect = 0x600080B0, config0 = 0x60008098, config1 = 0x6000809C },
      chips.get("esp32s3").wdt)
  end)
end)

describe("fields", function()
  it("get and set round-trip without touching other bits", function()
    local f = field(0x100, 4, 3)
    local regs = { [0x100] = 0xFFFFFFFF }
    f:set(regs, 2)
    assert.are.equal(0xFFFFFFAF, regs[0x100])
    assert.are.equal(2, f:get(function(a) return regs[a] end))
    f:set(regs, 0xFF) -- masked to the width
    assert.are.equal(0xFFFFFFFF, regs[0x100])
  end)

  it("refuses a field that does not fit in a word", function()
    assert.has_error(function() field(0, 30, 4) end)
  end)

  it("mac_words is the inverse of mac_bytes", function()
    local bytes = { 0x24, 0x6F, 0x28, 0x7A, 0xD8, 0x84 }
    local mac0, mac1 = field.mac_words(bytes)
    assert.are.equal(0x287AD884, mac0)
    assert.are.equal(0x246F, mac1)
    assert.are.same(bytes, field.mac_bytes(mac0, mac1))
  end)
end)
