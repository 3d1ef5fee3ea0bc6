-- espflash.sim: sim:// URL parsing, and the profile/options tables it builds
-- for core.sim_new from the chip tables.
local sim = require("espflash.sim")
local chips = require("espflash.chips")
local errors = require("espflash.errors")

local function reader(regs)
  return function(addr) return regs[addr] or 0 end
end

-- Runs f, expects it to raise an espflash usage error; returns the error.
local function usage_error(f)
  local ok, e = pcall(f)
  assert.is_false(ok, "expected an error")
  assert.is_true(errors.is(e), "an espflash error object: " .. tostring(e))
  assert.are.equal(errors.EXIT_USAGE, e.exit)
  return e
end

local function random_mac()
  local b = {}
  for i = 1, 6 do b[i] = math.random(0, 255) end
  b[1] = b[1] & 0xFE -- unicast
  return b
end

describe("sim.parse_url", function()
  it("takes the chip and every option", function()
    local chip, o = sim.parse_url("sim://esp32s3?flash=/tmp/a%20b.bin&size=8MB&mac=02:00:00:aa:bb:cc"
      .. "&download=0&secure=1&link=1&latency=250&app=Hello%21&fault=stall&fault_at=7")
    assert.are.equal("esp32s3", chip.name)
    assert.are.same({ flash = "/tmp/a b.bin", size = "8MB", mac = "02:00:00:aa:bb:cc", download = false,
                      secure_download = true, link_emulation = true, latency_us = 250,
                      app_output = "Hello!", fault = "stall", fault_at = 7 }, o)
  end)

  it("accepts a bare chip, a trailing slash and Espressif spellings", function()
    assert.are.equal("esp32", sim.parse_url("sim://esp32").name)
    assert.are.equal("esp32c6", sim.parse_url("sim://esp32c6/").name)
    assert.are.equal("esp32h2", sim.parse_url("sim://ESP32-H2").name)
    local _, o = sim.parse_url("sim://esp32c2?")
    assert.are.same({}, o)
  end)

  it("names an unknown chip and lists the valid ones", function()
    local e = usage_error(function() sim.parse_url("sim://esp8266") end)
    assert.matches("unknown chip 'esp8266'", e.message, 1, true)
    for _, n in ipairs(chips.names()) do assert.matches(n, e.message, 1, true) end
  end)

  it("rejects bad options with the option named", function()
    local e = usage_error(function() sim.parse_url("sim://esp32c3?baud=9600") end)
    assert.matches("unknown sim option 'baud'", e.message, 1, true)
    assert.matches("flash, size, mac", e.hint, 1, true)
    e = usage_error(function() sim.parse_url("sim://esp32c3?size=3MB") end)
    assert.matches("invalid flash size '3MB'", e.message, 1, true)
    e = usage_error(function() sim.parse_url("sim://esp32c3?mac=01:02:03") end)
    assert.matches("invalid MAC address '01:02:03'", e.message, 1, true)
    e = usage_error(function() sim.parse_url("sim://esp32c3?latency=-3") end)
    assert.matches("latency", e.message, 1, true)
    e = usage_error(function() sim.parse_url("sim://esp32c3?link=maybe") end)
    assert.matches("'maybe' for sim option 'link'", e.message, 1, true)
    e = usage_error(function() sim.parse_url("sim://esp32c3?fault=explode") end)
    assert.matches("invalid fault 'explode'", e.message, 1, true)
    usage_error(function() sim.parse_url("sim://") end)
    usage_error(function() sim.parse_url("socket://localhost:1") end)
  end)
end)

describe("sim.profile", function()
  for _, name in ipairs(chips.names()) do
    it(name .. " maps the chip table onto sim_profile_t", function()
      local chip = chips.get(name)
      local p = sim.profile(chip, { stub_entries = { 0x40380E9A } })
      assert.are.equal(name, p.name)
      assert.are.equal(chip.sim.magic or chip.magic[1], p.magic)
      assert.are.equal(chip.chip_id, p.chip_id)
      assert.are.equal(chip.rom.secinfo_len, p.secinfo_len)
      assert.are.equal(chip.rom.flash_begin_len, p.flash_begin_len)
      assert.are.equal(chip.rom.max_opcode, p.max_rom_opcode)
      assert.are.same(chip.sim.regs, p.regs)
      assert.is_false(rawequal(chip.sim.regs, p.regs), "a copy: the chip table is never changed")
      assert.are.same({ chip.spi.base, chip.spi.usr, chip.spi.usr1, chip.spi.usr2,
                        chip.spi.mosi_dlen, chip.spi.miso_dlen, chip.spi.w0 },
        { p.spi_base, p.spi_usr, p.spi_usr1, p.spi_usr2, p.spi_mosi_dlen, p.spi_miso_dlen, p.spi_w0 })
      assert.are.equal(chip.sim.jedec, p.jedec_id)
      assert.are.equal(chip.uart_clkdiv, p.uart_clkdiv_addr)
      assert.are.equal(chip.xtal(reader(chip.sim.regs), 115200), p.xtal_mhz)
      assert.are.same({ 0x40380E9A }, p.stub_entries)
      assert.are.equal(chip.rom.banner_download, p.banner_download)
      assert.are.equal(chip.rom.banner_boot, p.banner_boot)
    end)

    it(name .. " re-encodes a MAC through its eFuse fields", function()
      local chip = chips.get(name)
      for _ = 1, 5 do
        local mac = random_mac()
        local p = sim.profile(name, { mac = sim.format_mac(mac), stub_entries = {} })
        assert.are.same(mac, chip.mac(reader(p.regs)))
        -- everything else decodes as before
        assert.are.same({ chip.revision(reader(chip.sim.regs)) }, { chip.revision(reader(p.regs)) })
        assert.are.equal(chip.xtal(reader(chip.sim.regs), 115200), chip.xtal(reader(p.regs), 115200))
      end
      assert.are.same(chip.mac(reader(chip.sim.regs)),
        chip.mac(reader(sim.profile(chip, { stub_entries = {} }).regs)))
    end)
  end

  it("keeps MAC_EXT and version bits that share a word with the MAC", function()
    local p = sim.profile("esp32c6", { mac = "02:11:22:33:44:55", stub_entries = {} })
    assert.are.equal(0xFFFE0211, p.regs[0x600B0848])
    p = sim.profile("esp32c2", { mac = "02:11:22:33:44:55", stub_entries = {} })
    assert.are.equal(0x00120211, p.regs[0x60008844])
  end)

  it("stores the ESP32 MAC with its CRC8, as a real chip does", function()
    local p = sim.profile("esp32", { mac = "24:6f:28:7a:d8:84", stub_entries = {} })
    assert.are.equal(0x003E246F, p.regs[0x3FF5A008])
  end)

  it("picks the JEDEC capacity byte from size=", function()
    local sizes = { ["256KB"] = 0x12, ["1mb"] = 0x14, ["2MB"] = 0x15, ["4MB"] = 0x16, ["16MB"] = 0x18,
                    ["256MB"] = 0x1C }
    for size, id in pairs(sizes) do
      local p = sim.profile("esp32c3", { size = size, stub_entries = {} })
      assert.are.equal(0x40C8 | id << 16, p.jedec_id, size)
      local _, bytes = sim.parse_size(size)
      assert.are.equal(1 << id, bytes)
    end
  end)
end)

describe("sim.options", function()
  it("maps friendly names onto sim_options_t with defaults", function()
    assert.are.same({ flash_size = 0, start_in_download = true, secure_download = false,
                      link_emulation = false, latency_us = 0, fault_at = 0 },
      sim.options({}))
    local o = sim.options({ flash = "/tmp/f.bin", size = "2MB", download = false, secure_download = true,
                            link_emulation = true, latency_us = 100, app_output = "hi",
                            fault = "refuse", fault_at = 3 })
    assert.are.same({ flash = "/tmp/f.bin", flash_size = 2 * 1024 * 1024, start_in_download = false,
                      secure_download = true, link_emulation = true, latency_us = 100,
                      app_output = "hi", fault = "refuse", fault_at = 3 }, o)
    assert.is_nil(sim.options({ fault = "none" }).fault)
  end)
end)
