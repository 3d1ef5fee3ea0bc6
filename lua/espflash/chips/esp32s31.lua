--- ESP32-S31: the chip's constants, the single source for the flasher and the
--- virtual device. See docs/design.md ("Chip tables"). Detected by chip id
--- only: its magic word (0) is also the ESP32-P4's.
local field = require("espflash.chips.field")
local common = require("espflash.chips.common")

local EFUSE = 0x20715000
local B1 = EFUSE + 0x50           -- BLOCK1: MAC and system data
local UART0_CLKDIV = 0x2038A014
local ROM, DATE = "esp32s31-20251218", "Dec 18 2025"

local M = {
  name = "esp32s31",
  chip_id = 32,
  magic = { 0x00000000 },
  bootloader_offset = 0x2000,
  default_flash_freq = "40mhz",
  flash_freq_codes = common.GENERIC_FREQ_CODES,
  mmu_page_sizes = { 0x10000 },
  default_xtal_mhz = 40,
  default_factory_size = 0x3F0000,
  stub = "esp32s31",
  targets = { "riscv32imafc-esp-espidf", "riscv32imafc-unknown-none-elf" },
  flash_ranges = { { 0x40000000, 0x54000000 }, { 0x40000000, 0x54000000 } }, -- IROM, DROM
  features = { "WiFi 6", "BT 5.4", "IEEE802.15.4", "Dual Core", "320MHz" },

  rom = {
    flash_begin_len = 20,
    max_opcode = 0x14,
    secinfo_len = 20,
    banner_download = common.banner(ROM, DATE, 0x4, "DOWNLOAD(USB/UART0/SPI)", true),
    banner_boot = common.banner(ROM, DATE, 0xC, "SPI_FAST_FLASH_BOOT", false),
  },

  spi = { base = 0x20501000, usr = 0x18, usr1 = 0x1C, usr2 = 0x20,
          mosi_dlen = 0x24, miso_dlen = 0x28, w0 = 0x58 },
  uart_clkdiv = UART0_CLKDIV,
  wdt = { wprotect = 0x20801018, config0 = 0x20801000, config1 = 0x20801004 },

  efuse_base = EFUSE,
  efuse = {
    mac0 = field(B1 + 0x00, 0, 32),
    mac1 = field(B1 + 0x04, 0, 16),
    mac_ext = field(B1 + 0x04, 16, 16),
    minor = field(B1 + 0x0C, 18, 4),
    major = field(B1 + 0x0C, 22, 2),
    package = field(B1 + 0x10, 6, 2),
  },

  -- v0.1, 40 MHz crystal.
  sim = {
    jedec = 0x001640C8,           -- GigaDevice, 4 MB
    regs = {
      [B1 + 0x00] = 0xFA001122,
      [B1 + 0x04] = 0xFFFEF412,   -- MAC_EXT 0xFFFE, MAC bytes 0..1
      [B1 + 0x0C] = 0x00040000,
      [UART0_CLKDIV] = common.uart_clkdiv(40, 115200),
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

--- Crystal frequency in MHz (fixed).
function M.xtal(_read, _baud)
  return 40
end

return M
