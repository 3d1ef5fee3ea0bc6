--- ESP32-C5: the chip's constants, the single source for the flasher and the
--- virtual device. See docs/design.md ("Chip tables") and docs/chips.md;
--- what is not here is common.chip's default.
local field = require("espflash.chips.field")
local common = require("espflash.chips.common")

local EFUSE = 0x600B4800
local B1 = EFUSE + 0x44           -- BLOCK1: MAC and system data
local PCR_SYSCLK_CONF = 0x60096110
local UART0_CLKDIV = 0x60000014

local M = common.chip {
  name = "esp32c5",
  chip_id = 23,
  magic = { 0x1101406F, 0x63E1406F, 0x5FD1406F },
  bootloader_offset = 0x2000,
  default_xtal_mhz = 48,
  targets = { "riscv32imac-esp-espidf", "riscv32imac-unknown-none-elf" },
  flash_ranges = { { 0x42000000, 0x42800000 }, { 0x3C000000, 0x3C800000 } },
  features = { "WiFi", "BLE", "IEEE802.15.4", "240MHz" },

  rom = common.rom { build = "esp32c5-eco2-20250121", date = "Jan 21 2025",
                     download = { 0x8, "DOWNLOAD(UART0/USB)" } },
  spi = common.spi(0x60003000),
  uart_clkdiv = UART0_CLKDIV,
  pcr_sysclk_conf = PCR_SYSCLK_CONF,

  efuse_base = EFUSE,
  efuse = common.efuse(B1, common.EFUSE_C5, {
    xtal_mhz = field(PCR_SYSCLK_CONF, 24, 7),  -- not an eFuse: PCR_SYSCLK_CONF bits 24..30
  }),

  -- v1.0 (ECO2 ROM), 40 MHz crystal (not the 48 MHz default).
  sim = {
    magic = 0x5FD1406F,           -- ECO2, the ROM the banner names
    regs = {
      [B1 + 0x00] = 0x75001122,
      [B1 + 0x04] = 0xFFFE3CDC,   -- MAC_EXT 0xFFFE, MAC bytes 0..1
      [B1 + 0x08] = 0x00000010,
      [UART0_CLKDIV] = common.uart_clkdiv(40, 115200),
      [PCR_SYSCLK_CONF] = 40 << 24,
    },
  },
}

--- Crystal frequency in MHz: PCR_SYSCLK_CONF bits 24..30 above 45 → 48, else 40.
function M.xtal(read, _baud)
  return M.efuse.xtal_mhz:get(read) > 45 and 48 or 40
end

return M
