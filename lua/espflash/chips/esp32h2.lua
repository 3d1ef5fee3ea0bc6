--- ESP32-H2: the chip's constants, the single source for the flasher and the
--- virtual device. See docs/design.md ("Chip tables").
local field = require("espflash.chips.field")
local common = require("espflash.chips.common")

local EFUSE = 0x600B0800
local B1 = EFUSE + 0x44           -- BLOCK1: MAC and system data
local ROM, DATE = "esp32h2-20221101", "Nov  1 2022"

local M = {
  name = "esp32h2",
  chip_id = 16,
  magic = { 0xD7B73E80 },
  bootloader_offset = 0x0,
  default_flash_freq = "24mhz",
  flash_freq_codes = { ["12mhz"] = 0x2, ["16mhz"] = 0x1, ["24mhz"] = 0x0, ["48mhz"] = 0xF },
  mmu_page_sizes = { 0x2000, 0x4000, 0x8000, 0x10000 },
  default_xtal_mhz = 32,
  default_factory_size = 0x3F0000,
  stub = "esp32h2",
  targets = { "riscv32imac-esp-espidf", "riscv32imac-unknown-none-elf" },
  flash_ranges = { { 0x42000000, 0x42800000 }, { 0x3C000000, 0x3C800000 } },
  features = { "BLE" },

  rom = {
    flash_begin_len = 20,
    max_opcode = 0x14,
    secinfo_len = 20,
    banner_download = common.banner(ROM, DATE, 0x8, "DOWNLOAD(USB/UART0)", true),
    banner_boot = common.banner(ROM, DATE, 0xC, "SPI_FAST_FLASH_BOOT", false),
  },

  spi = { base = 0x60003000, usr = 0x18, usr1 = 0x1C, usr2 = 0x20,
          mosi_dlen = 0x24, miso_dlen = 0x28, w0 = 0x58 },
  uart_clkdiv = 0x60000014,

  efuse_base = EFUSE,
  efuse = {
    mac0 = field(B1 + 0x00, 0, 32),
    mac1 = field(B1 + 0x04, 0, 16),
    mac_ext = field(B1 + 0x04, 16, 16),
    minor = field(B1 + 0x0C, 18, 3),
    major = field(B1 + 0x0C, 21, 2),
    package = field(B1 + 0x10, 0, 3),
  },

  -- v0.1, 32 MHz crystal.
  sim = {
    jedec = 0x001640C8,           -- GigaDevice, 4 MB
    regs = {
      [B1 + 0x00] = 0xBD001122,
      [B1 + 0x04] = 0xFFFE744D,   -- MAC_EXT 0xFFFE, MAC bytes 0..1
      [B1 + 0x0C] = 0x00040000,
      [0x60000014] = common.uart_clkdiv(32, 115200),
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
  return 32
end

return M
