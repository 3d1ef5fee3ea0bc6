--- ESP32-H2: the chip's constants, the single source for the flasher and the
--- virtual device. See docs/design.md ("Chip tables") and docs/chips.md;
--- what is not here is common.chip's default.
local field = require("espflash.chips.field")
local common = require("espflash.chips.common")

local EFUSE = 0x600B0800
local B1 = EFUSE + 0x44           -- BLOCK1: MAC and system data

return common.chip {
  name = "esp32h2",
  chip_id = 16,
  magic = { 0xD7B73E80 },
  bootloader_offset = 0x0,
  default_flash_freq = "24mhz",
  flash_freq_codes = { ["12mhz"] = 0x2, ["16mhz"] = 0x1, ["24mhz"] = 0x0, ["48mhz"] = 0xF },
  mmu_page_sizes = { 0x2000, 0x4000, 0x8000, 0x10000 },
  default_xtal_mhz = 32,                      -- fixed 32 MHz crystal
  targets = { "riscv32imac-esp-espidf", "riscv32imac-unknown-none-elf" },
  flash_ranges = { { 0x42000000, 0x42800000 }, { 0x3C000000, 0x3C800000 } },
  features = { "BLE" },

  rom = common.rom { build = "esp32h2-20221101", date = "Nov  1 2022",
                     download = { 0x8, "DOWNLOAD(USB/UART0)" } },
  spi = common.spi(0x60003000),
  uart_clkdiv = 0x60000014,

  efuse_base = EFUSE,
  efuse = common.efuse(B1, common.MAC_EXT, {
    minor = field(B1 + 0x0C, 18, 3),
    major = field(B1 + 0x0C, 21, 2),
    package = field(B1 + 0x10, 0, 3),
  }),

  -- v0.1, 32 MHz crystal.
  sim = {
    regs = {
      [B1 + 0x00] = 0xBD001122,
      [B1 + 0x04] = 0xFFFE744D,   -- MAC_EXT 0xFFFE, MAC bytes 0..1
      [B1 + 0x0C] = 0x00040000,
    },
  },
}
