-- Every chip's simulated registers decode, through the chip's own decoders,
-- to the values documented in /work/shared/docs/protocol.md §4.3 ("Worked
-- example values") and docs/chips.md; the decoders follow espflash's rules
-- for the other field combinations too.
local chips = require("espflash.chips")
local common = require("espflash.chips.common")

local function reader(regs)
  return function(addr) return regs[addr] or 0 end
end

local function mac_string(bytes)
  local t = {}
  for i, b in ipairs(bytes) do t[i] = string.format("%02x", b) end
  return table.concat(t, ":")
end

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

local function features(chip, read)
  local f = chip.features
  if type(f) == "function" then f = f(read) end
  return table.concat(f, ", ")
end

-- chip -> MAC, major, minor, crystal at 115200, "Features:" line (espflash §3.5)
local EXPECTED = {
  esp32 = { "24:6f:28:7a:d8:84", 3, 1, 40,
            "WiFi, BT, Dual Core, 240MHz, VRef calibration in efuse, Coding Scheme None" },
  esp32c2 = { "08:3a:8d:00:11:22", 1, 2, 40, "WiFi, BLE" },
  esp32c3 = { "60:55:f9:7e:7b:c0", 0, 4, 40, "WiFi, BLE" },
  esp32c5 = { "3c:dc:75:00:11:22", 1, 0, 40, "WiFi, BLE, IEEE802.15.4, 240MHz" },
  esp32c6 = { "40:4c:ca:00:11:22", 0, 1, 40, "WiFi 6, BT 5" },
  esp32c61 = { "d8:3b:da:00:11:22", 1, 0, 40, "WiFi 6, BT 5" },
  esp32h2 = { "74:4d:bd:00:11:22", 0, 1, 32, "BLE" },
  esp32p4 = { "30:ed:a0:ec:f1:01", 3, 0, 40, "High-Performance MCU" },
  esp32s2 = { "7c:df:a1:00:11:22", 1, 0, 40,
              "WiFi, No Embedded Flash, No Embedded PSRAM, No calibration in BLK2 of efuse" },
  esp32s3 = { "84:fc:e6:52:4a:b0", 0, 2, 40, "WiFi, BLE, Embedded Flash" },
  esp32s31 = { "f4:12:fa:00:11:22", 0, 1, 40, "WiFi 6, BT 5.4, IEEE802.15.4, Dual Core, 320MHz" },
}

describe("chip decoders on the simulated registers", function()
  it("cover every chip", function()
    local n = 0
    for _, name in ipairs(chips.names()) do
      assert.is_table(EXPECTED[name], name)
      n = n + 1
    end
    assert.are.equal(11, n)
  end)

  for name, want in pairs(EXPECTED) do
    it(name .. " decodes to " .. want[1] .. " v" .. want[2] .. "." .. want[3], function()
      local chip = assert(chips.get(name))
      local read = reader(chip.sim.regs)
      assert.are.equal(want[1], mac_string(chip.mac(read)))
      local major, minor = chip.revision(read)
      assert.are.same({ want[2], want[3] }, { major, minor })
      assert.are.equal(want[4], chip.xtal(read, 115200))
      assert.are.equal(want[5], features(chip, read))
    end)
  end
end)

describe("worked-example register words (protocol.md §4.3)", function()
  local DOC = {
    esp32 = { [0x3FF5A004] = 0x287AD884, [0x3FF5A008] = 0x003E246F, [0x3FF5A00C] = 0x0000A200,
              [0x3FF5A010] = 0x00000332, [0x3FF5A014] = 0x01100000, [0x3FF6607C] = 0x80000000,
              [0x3FF5F06C] = 0x00040000, [0x3FF40014] = 0x0030015B },
    esp32c3 = { [0x60008844] = 0xF97E7BC0, [0x60008848] = 0x00006055, [0x60008850] = 0x00100000 },
    esp32s3 = { [0x60007044] = 0xE6524AB0, [0x60007048] = 0x000084FC, [0x60007050] = 0x00080000,
                [0x6000706C] = 1 },
    esp32s2 = { [0x3F41A044] = 0xA1001122, [0x3F41A048] = 0x00007CDF, [0x3F41A050] = 0x00040000 },
    esp32c2 = { [0x60008840] = 0x8D001122, [0x60008844] = 0x0012083A },
    esp32c6 = { [0x600B0850] = 0x00040000 },
    esp32h2 = { [0x600B0850] = 0x00040000 },
    esp32c5 = { [0x600B484C] = 0x00000010, [0x60000014] = 0x0030015B, [0x60096110] = 40 << 24 },
    esp32p4 = { [0x5012D044] = 0xA0ECF101, [0x5012D048] = 0x000030ED, [0x5012D04C] = 0x00000030 },
  }
  for name, words in pairs(DOC) do
    it(name .. " answers the documented READ_REG values", function()
      local regs = assert(chips.get(name)).sim.regs
      for addr, v in pairs(words) do
        assert.are.equal(string.format("0x%08X", v), string.format("0x%08X", regs[addr] or 0),
          string.format("%s register 0x%08X", name, addr))
      end
    end)
  end

  it("C6 and H2 carry MAC_EXT 0xFFFE above the MAC bytes", function()
    for _, name in ipairs({ "esp32c6", "esp32h2" }) do
      local chip = chips.get(name)
      assert.are.equal(0xFFFE, chip.efuse.mac_ext:get(reader(chip.sim.regs)))
    end
  end)
end)

describe("crystal detection", function()
  it("UART divider values match the documented registers", function()
    assert.are.equal(0x0030015B, common.uart_clkdiv(40, 115200))
    assert.are.equal(0x00B000E1, common.uart_clkdiv(26, 115200))
  end)

  for _, name in ipairs({ "esp32", "esp32c2" }) do
    it(name .. " estimates 26 or 40 MHz from CLKDIV at the current baud", function()
      local chip = chips.get(name)
      for _, baud in ipairs({ 115200, 460800, 921600 }) do
        for _, mhz in ipairs({ 26, 40 }) do
          local regs = copy(chip.sim.regs)
          regs[chip.uart_clkdiv] = common.uart_clkdiv(mhz, baud)
          assert.are.equal(mhz, chip.xtal(reader(regs), baud), name .. " " .. mhz .. " MHz at " .. baud)
        end
      end
    end)
  end

  it("esp32c5 reads PCR_SYSCLK_CONF bits 24..30 (above 45: 48 MHz, else 40)", function()
    local chip = chips.get("esp32c5")
    local regs = copy(chip.sim.regs)
    regs[0x60096110] = 48 << 24 | 0x1F
    assert.are.equal(48, chip.xtal(reader(regs), 115200))
    regs[0x60096110] = 45 << 24
    assert.are.equal(40, chip.xtal(reader(regs), 115200))
  end)
end)

describe("revision rules", function()
  it("esp32 major: bits (APB_CTL_DATE, W5 bit 20, W3 bit 15) 1 → 1, 3 → 2, 7 → 3, others 0", function()
    local chip = chips.get("esp32")
    local cases = { [0] = 0, 1, 0, 2, 0, 0, 0, 3 }
    for bits = 0, 7 do
      local regs = {}
      if bits & 1 ~= 0 then regs[0x3FF5A00C] = 1 << 15 end
      if bits & 2 ~= 0 then regs[0x3FF5A014] = 1 << 20 end
      if bits & 4 ~= 0 then regs[0x3FF6607C] = 1 << 31 end
      assert.are.equal(cases[bits], (chip.revision(reader(regs))), "bits " .. bits)
    end
  end)

  it("esp32p4 major = MAJOR_HI << 2 | MAJOR_LO and picks the rc1 stub below v3.0", function()
    local chip = chips.get("esp32p4")
    local major, minor = chip.revision(reader({ [0x5012D04C] = 1 << 23 | 1 << 4 | 7 }))
    assert.are.same({ 5, 7 }, { major, minor })
    assert.are.equal("esp32p4-rev1", chip.stub_for(1))
    assert.are.equal("esp32p4-rev1", chip.stub_for(2))
    assert.are.equal("esp32p4", chip.stub_for(3))
  end)

  it("esp32s3 with BLOCK version 1.1 is v0.x with embedded PSRAM", function()
    local chip = chips.get("esp32s3")
    local regs = copy(chip.sim.regs)
    regs[0x60007058] = 1 << 24 | 1 << 23            -- major 1, minor_hi 1
    assert.are.same({ 1, 10 }, { chip.revision(reader(regs)) })
    regs[0x60007050] = regs[0x60007050] | 1 << 24   -- BLK_VERSION_MINOR 1 (major is 1)
    assert.are.same({ 0, 10 }, { chip.revision(reader(regs)) })
    assert.are.equal("WiFi, BLE, Embedded PSRAM", features(chip, reader(regs)))
  end)

  it("C3, S2 and S3 combine minor = MINOR_HI * 8 + MINOR_LO", function()
    local c3 = chips.get("esp32c3")
    assert.are.same({ 1, 11 }, { c3.revision(reader({ [0x60008858] = 1 << 24 | 1 << 23,
                                                     [0x60008850] = 3 << 18 })) })
    local s2 = chips.get("esp32s2")
    assert.are.same({ 2, 13 }, { s2.revision(reader({ [0x3F41A050] = 2 << 18 | 1 << 20,
                                                     [0x3F41A054] = 5 << 4 })) })
  end)
end)

describe("feature lists", function()
  it("esp32 reports single core, 160 MHz, embedded flash and PSRAM, coding scheme", function()
    local chip = chips.get("esp32")
    -- W3: single core, BT disabled, rated + low freq, package 6 (bits 9..11 = 6)
    local regs = { [0x3FF5A00C] = 1 | 2 | 1 << 13 | 1 << 12 | 6 << 9 | 1 << 14, [0x3FF5A018] = 1 }
    assert.are.equal("WiFi, Single Core, 160MHz, Embedded Flash, Embedded PSRAM, "
      .. "BLK3 partially reserved, Coding Scheme 3/4", features(chip, reader(regs)))
    assert.are.equal(6, chip.package(reader(regs)))
  end)

  it("esp32s2 reports embedded flash, PSRAM and calibration versions", function()
    local chip = chips.get("esp32s2")
    local regs = { [0x3F41A050] = 2 << 21 | 1 << 28, [0x3F41A06C] = 2 << 4 }
    assert.are.equal("WiFi, Embedded Flash 4MB, Embedded PSRAM 2MB, "
      .. "ADC and temperature sensor calibration in BLK2 of efuse V2", features(chip, reader(regs)))
  end)
end)
