--- ESP32-C2 (ESP8684): the chip's constants, the single source for the
--- flasher and the virtual device. See docs/design.md ("Chip tables") and
--- docs/chips.md; what is not here is common.chip's default.
local field = require("espflash.chips.field")
local common = require("espflash.chips.common")

local EFUSE = 0x60008800
local B2 = EFUSE + 0x40           -- BLOCK2 on the C2: MAC and versions
local UART0_CLKDIV = 0x60000014

return common.chip {
  name = "esp32c2",
  chip_id = 12,
  magic = { 0x6F51306F, 0x7C41A06F },         -- ECO0, ECO1
  bootloader_offset = 0x0,
  default_flash_freq = "30mhz",
  flash_freq_codes = { ["15mhz"] = 0x2, ["20mhz"] = 0x1, ["30mhz"] = 0x0, ["60mhz"] = 0xF },
  mmu_page_sizes = { 0x4000, 0x8000, 0x10000 },
  default_factory_size = 0x1F0000,
  targets = { "riscv32imc-esp-espidf", "riscv32imc-unknown-none-elf" },
  flash_ranges = { { 0x42000000, 0x42400000 }, { 0x3C000000, 0x3C400000 } },
  features = { "WiFi", "BLE" },

  rom = common.rom { build = "esp8684-api2-20220127", date = "Jan 27 2022",
                     download = { 0x8, "DOWNLOAD(UART0)" } },
  spi = common.spi(0x60002000),
  uart_clkdiv = UART0_CLKDIV,

  efuse_base = EFUSE,
  efuse = common.efuse(B2, nil, {
    minor = field(B2 + 0x04, 16, 4),
    major = field(B2 + 0x04, 20, 2),
    package = field(B2 + 0x04, 22, 3),
  }),
  xtal = common.xtal_26_or_40(UART0_CLKDIV),  -- 26 or 40 MHz crystal

  -- v1.2 (ECO1; esptool refuses the stub on v0.0), 40 MHz crystal.
  sim = {
    magic = 0x7C41A06F,           -- ECO1, the ROM the banner names
    regs = {
      [B2 + 0x00] = 0x8D001122,
      [B2 + 0x04] = 0x0012083A,
    },
  },
}
