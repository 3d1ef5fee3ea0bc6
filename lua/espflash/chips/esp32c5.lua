--- ESP32-C5: the chip's constants, the single source for the flasher and the
--- virtual device. See docs/design.md ("Chip tables").
local field = require("espflash.chips.field")
local common = require("espflash.chips.common")

local EFUSE = 0x600B4800
local B1 = EFUSE + 0x44           -- BLOCK1: MAC and system data
local PCR_SYSCLK_CONF = 0x60096110
local UART0_CLKDIV = 0x60000014
local ROM, DATE = "esp32c5-eco2-20250121", "Jan 21 2025"

local M = {
  name = "esp32c5",
  chip_id = 23,
  magic = { 0x1101406F, 0x63E1406F, 0x5FD1406F },
  bootloader_offset = 0x2000,
  default_flash_freq = "40mhz",
  flash_freq_codes = common.GENERIC_FREQ_CODES,
  mmu_page_sizes = { 0x10000 },
  default_xtal_mhz = 48,
  default_factory_size = 0x3F0000,
  stub = "esp32c5",
  targets = { "riscv32imac-esp-espidf", "riscv32imac-unknown-none-elf" },
  flash_ranges = { { 0x42000000, 0x42800000 }, { 0x3C000000, 0x3C800000 } },
  features = { "WiFi", "BLE", "IEEE802.15.4", "240MHz" },

  rom = {
    flash_begin_len = 20,
    max_opcode = 0x14,
    secinfo_len = 20,
    banner_download = common.banner(ROM, DATE, 0x8, "DOWNLOAD(UART0/USB)", true),
    banner_boot = common.banner(ROM, DATE, 0xC, "SPI_FAST_FLASH_BOOT", false),
  },

  spi = { base = 0x60003000, usr = 0x18, usr1 = 0x1C, usr2 = 0x20,
          mosi_dlen = 0x24, miso_dlen = 0x28, w0 = 0x58 },
  uart_clkdiv = UART0_CLKDIV,
  pcr_sysclk_conf = PCR_SYSCLK_CONF,

  efuse_base = EFUSE,
  efuse = {
    mac0 = field(B1 + 0x00, 0, 32),
    mac1 = field(B1 + 0x04, 0, 16),
    mac_ext = field(B1 + 0x04, 16, 16),
    minor = field(B1 + 0x08, 0, 4),
    major = field(B1 + 0x08, 4, 2),
    package = field(B1 + 0x08, 26, 3),
    xtal_mhz = field(PCR_SYSCLK_CONF, 24, 7),  -- not an eFuse: PCR_SYSCLK_CONF bits 24..30
  },

  -- v1.0 (ECO2 ROM), 40 MHz crystal.
  sim = {
    magic = 0x5FD1406F,           -- ECO2, the ROM the banner names
    jedec = 0x001640C8,           -- GigaDevice, 4 MB
    regs = {
      [B1 + 0x00] = 0x75001122,
      [B1 + 0x04] = 0xFFFE3CDC,   -- MAC_EXT 0xFFFE, MAC bytes 0..1
      [B1 + 0x08] = 0x00000010,
      [UART0_CLKDIV] = common.uart_clkdiv(40, 115200),
      [PCR_SYSCLK_CONF] = 40 << 24,
    },
  },
}

--- Chip revision as major, minor.
function M.revision(read)
  return M.efuse.major:get(read), M.efuse.minor:get(read)
end

--- MAC address as six bytes.
function M.mac(read)
  return common.mac(M, read)
end

--- Crystal frequency in MHz: PCR_SYSCLK_CONF bits 24..30 above 45 → 48, else 40.
function M.xtal(read, _baud)
  return M.efuse.xtal_mhz:get(read) > 45 and 48 or 40
end

return M
