--- ESP32-C3: the chip's constants, the single source for the flasher and the
--- virtual device. See docs/design.md ("Chip tables") and docs/chips.md;
--- what is not here is common.chip's default.
local field = require("espflash.chips.field")
local common = require("espflash.chips.common")

local EFUSE = 0x60008800
local B1 = EFUSE + 0x44           -- BLOCK1: MAC and system data

return common.chip {
  name = "esp32c3",
  chip_id = 5,
  magic = { 0x6921506F, 0x1B31506F, 0x4881606F, 0x4361606F },
  bootloader_offset = 0x0,
  targets = { "riscv32imc-unknown-none-elf", "riscv32imc-esp-espidf" },
  flash_ranges = { { 0x42000000, 0x42800000 }, { 0x3C000000, 0x3C800000 } },
  features = { "WiFi", "BLE" },

  rom = common.rom { build = "esp32c3-api1-20210207", date = "Feb  7 2021",
                     download = { 0x8, "DOWNLOAD(USB/UART0/1)" } },
  spi = common.spi(0x60002000),
  uart_clkdiv = 0x60000014,
  wdt = { wprotect = 0x600080A8, config0 = 0x60008090, config1 = 0x60008094 },

  efuse_base = EFUSE,
  efuse = common.efuse(B1, common.EFUSE_C3, {
    flash_cap = field(B1 + 0x0C, 27, 3),
  }),

  -- A plausible chip (MAC from a real trace): decodes to 60:55:f9:7e:7b:c0,
  -- ESP32-C3 (QFN32) v0.4 (ECO3 ROM).
  sim = {
    magic = 0x1B31506F,           -- ECO3, the ROM the banner names
    regs = {
      [B1 + 0x00] = 0xF97E7BC0,
      [B1 + 0x04] = 0x00006055,
      [B1 + 0x0C] = 0x00100000,
      [B1 + 0x14] = 0x00000000,
    },
  },
}
