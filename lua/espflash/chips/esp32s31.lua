--- ESP32-S31: the chip's constants, the single source for the flasher and the
--- virtual device. See docs/design.md ("Chip tables") and docs/chips.md;
--- what is not here is common.chip's default. Detected by chip id only: its
--- magic word (0) is also the ESP32-P4's.
local field = require("espflash.chips.field")
local common = require("espflash.chips.common")

local EFUSE = 0x20715000
local B1 = EFUSE + 0x50           -- BLOCK1: MAC and system data

return common.chip {
  name = "esp32s31",
  chip_id = 32,
  magic = { 0x00000000 },
  bootloader_offset = 0x2000,
  targets = { "riscv32imafc-esp-espidf", "riscv32imafc-unknown-none-elf" },
  flash_ranges = { { 0x40000000, 0x54000000 }, { 0x40000000, 0x54000000 } }, -- IROM, DROM (esptool-js)
  features = { "WiFi 6", "BT 5.4", "IEEE802.15.4", "Dual Core", "320MHz" },

  rom = common.rom { build = "esp32s31-20251218", date = "Dec 18 2025",
                     download = { 0x4, "DOWNLOAD(USB/UART0/SPI)" } },
  spi = common.spi(0x20501000),
  uart_clkdiv = 0x2038A014,                  -- esptool-js 0.7.0: UART0 base + 0x14
  wdt = { wprotect = 0x20801018, config0 = 0x20801000, config1 = 0x20801004 },

  efuse_base = EFUSE,
  efuse = common.efuse(B1, common.EFUSE_C6, {  -- checked against espflash's target/efuse/esp32s31.rs
    package = field(B1 + 0x10, 6, 2),
  }),

  -- v0.1, 40 MHz crystal.
  sim = {
    regs = {
      [B1 + 0x00] = 0xFA001122,
      [B1 + 0x04] = 0xFFFEF412,   -- MAC_EXT 0xFFFE, MAC bytes 0..1
      [B1 + 0x0C] = 0x00040000,
    },
  },
}
