--- ESP32-C61: the chip's constants, the single source for the flasher and the
--- virtual device. See docs/design.md ("Chip tables") and docs/chips.md;
--- what is not here is common.chip's default. Shares the C5's eFuse
--- controller and layout.
local common = require("espflash.chips.common")

local EFUSE = 0x600B4800
local B1 = EFUSE + 0x44           -- BLOCK1: MAC and system data

return common.chip {
  name = "esp32c61",
  chip_id = 20,
  magic = { 0x7211606F },
  bootloader_offset = 0x0,
  targets = { "riscv32imac-esp-espidf", "riscv32imac-unknown-none-elf" },
  flash_ranges = { { 0x42000000, 0x42800000 }, { 0x3C000000, 0x3C800000 } },  -- as the C6
  features = { "WiFi 6", "BT 5" },

  rom = common.rom { build = "esp32c61-eco3-20250228", date = "Feb 28 2025",
                     download = { 0x8, "DOWNLOAD(USB/UART0/SDIO_REI_REO)" } },
  spi = common.spi(0x60003000),
  uart_clkdiv = 0x60000014,

  efuse_base = EFUSE,
  efuse = common.efuse(B1, common.EFUSE_C5),

  -- v1.0 (ECO3 ROM), 40 MHz crystal.
  sim = {
    regs = {
      [B1 + 0x00] = 0xDA001122,
      [B1 + 0x04] = 0xFFFED83B,   -- MAC_EXT 0xFFFE, MAC bytes 0..1
      [B1 + 0x08] = 0x00000010,
    },
  },
}
