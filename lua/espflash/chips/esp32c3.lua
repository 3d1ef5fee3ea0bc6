--- ESP32-C3: the chip's constants, the single source for the flasher and the
--- virtual device. See docs/design.md ("Chip tables") for the schema.
local field = require("espflash.chips.field")
local common = require("espflash.chips.common")

local EFUSE = 0x60008800
local B1 = EFUSE + 0x44           -- BLOCK1: MAC and system data
local ROM, DATE = "esp32c3-api1-20210207", "Feb  7 2021"

local M = {
  name = "esp32c3",
  chip_id = 5,
  magic = { 0x6921506F, 0x1B31506F, 0x4881606F, 0x4361606F },
  bootloader_offset = 0x0,
  default_flash_freq = "40mhz",
  flash_freq_codes = common.GENERIC_FREQ_CODES,
  mmu_page_sizes = { 0x10000 },
  default_xtal_mhz = 40,
  default_factory_size = 0x3F0000,
  stub = "esp32c3",
  targets = { "riscv32imc-unknown-none-elf", "riscv32imc-esp-espidf" },
  flash_ranges = { { 0x42000000, 0x42800000 }, { 0x3C000000, 0x3C800000 } },
  features = { "WiFi", "BLE" },

  rom = {
    flash_begin_len = 20,
    max_opcode = 0x14,
    secinfo_len = 20,
    banner_download = common.banner(ROM, DATE, 0x8, "DOWNLOAD(USB/UART0/1)", true),
    banner_boot = common.banner(ROM, DATE, 0xC, "SPI_FAST_FLASH_BOOT", false),
  },

  spi = { base = 0x60002000, usr = 0x18, usr1 = 0x1C, usr2 = 0x20,
          mosi_dlen = 0x24, miso_dlen = 0x28, w0 = 0x58 },
  uart_clkdiv = 0x60000014,
  wdt = { wprotect = 0x600080A8, config0 = 0x60008090, config1 = 0x60008094 },

  efuse_base = EFUSE,
  efuse = {
    mac0 = field(B1 + 0x00, 0, 32),
    mac1 = field(B1 + 0x04, 0, 16),
    major = field(B1 + 0x14, 24, 2),
    minor_hi = field(B1 + 0x14, 23, 1),
    minor_lo = field(B1 + 0x0C, 18, 3),
    package = field(B1 + 0x0C, 21, 3),
    flash_cap = field(B1 + 0x0C, 27, 3),
  },

  -- A plausible chip (MAC from a real trace): decodes to 60:55:f9:7e:7b:c0,
  -- ESP32-C3 (QFN32) v0.4 (ECO3 ROM).
  sim = {
    magic = 0x1B31506F,           -- ECO3, the ROM the banner names
    jedec = 0x001640C8,           -- GigaDevice, 4 MB
    regs = {
      [B1 + 0x00] = 0xF97E7BC0,
      [B1 + 0x04] = 0x00006055,
      [B1 + 0x0C] = 0x00100000,
      [B1 + 0x14] = 0x00000000,
      [0x60000014] = common.uart_clkdiv(40, 115200),
    },
  },
}

--- Chip revision as major, minor.
function M.revision(read)
  local e = M.efuse
  return e.major:get(read), e.minor_hi:get(read) * 8 + e.minor_lo:get(read)
end

--- MAC address as six bytes.
function M.mac(read)
  return common.mac(M, read)
end

--- Crystal frequency in MHz (fixed).
function M.xtal(_read, _baud)
  return 40
end

return M
