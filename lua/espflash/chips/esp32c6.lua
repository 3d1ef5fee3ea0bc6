--- ESP32-C6: the chip's constants, the single source for the flasher and the
--- virtual device. See docs/design.md ("Chip tables") and docs/chips.md;
--- what is not here is common.chip's default.
local field = require("espflash.chips.field")
local common = require("espflash.chips.common")

local EFUSE = 0x600B0800
local B1 = EFUSE + 0x44           -- BLOCK1: MAC and system data

return common.chip {
  name = "esp32c6",
  chip_id = 13,
  magic = { 0x2CE0806F },
  bootloader_offset = 0x0,
  mmu_page_sizes = { 0x2000, 0x4000, 0x8000, 0x10000 },
  targets = { "riscv32imac-esp-espidf", "riscv32imac-unknown-none-elf" },
  flash_ranges = { { 0x42000000, 0x42800000 }, { 0x3C000000, 0x3C800000 } },
  features = { "WiFi 6", "BT 5" },

  rom = common.rom { build = "esp32c6-20220919", date = "Sep 19 2022",
                     download = { 0x8, "DOWNLOAD(USB/UART0/SDIO_REI_REO)" } },
  spi = common.spi(0x60003000),
  uart_clkdiv = 0x60000014,

  efuse_base = EFUSE,
  efuse = common.efuse(B1, common.EFUSE_C6, {
    package = field(B1 + 0x0C, 24, 3),
  }),

  -- v0.1, 40 MHz crystal.
  sim = {
    regs = {
      [B1 + 0x00] = 0xCA001122,
      [B1 + 0x04] = 0xFFFE404C,   -- MAC_EXT 0xFFFE, MAC bytes 0..1
      [B1 + 0x0C] = 0x00040000,
    },
  },
}
