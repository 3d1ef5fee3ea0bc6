--- ESP32-P4: the chip's constants, the single source for the flasher and the
--- virtual device. See docs/design.md ("Chip tables") and docs/chips.md;
--- what is not here is common.chip's default.
local field = require("espflash.chips.field")
local common = require("espflash.chips.common")

local EFUSE = 0x5012D000
local B1 = EFUSE + 0x44           -- BLOCK1: MAC and system data

local M = common.chip {
  name = "esp32p4",
  chip_id = 18,
  magic = { 0x00000000, 0x0ADDBAD0 },
  bootloader_offset = 0x2000,
  stub_variants = { "esp32p4-rev1" },        -- every stub JSON this chip may run
  targets = { "riscv32imafc-esp-espidf", "riscv32imafc-unknown-none-elf" },
  flash_ranges = { { 0x48000000, 0x4C000000 }, { 0x40000000, 0x44000000 } },
  features = { "High-Performance MCU" },

  rom = common.rom { build = "esp32p4-eco5-20250430", date = "Apr 30 2025",
                     download = { 0x4, "DOWNLOAD(USB/UART0/SPI)" } },
  spi = common.spi(0x5008D000),
  uart_clkdiv = 0x500CA014,                  -- esptool-js 0.7.0: UART0 base + 0x14
  wdt = { wprotect = 0x50116018, config0 = 0x50116000, config1 = 0x50116004 },
  uartdev_buf_no = { addr = 0x4FF3FEC8, usb_otg = 5 },

  efuse_base = EFUSE,
  efuse = common.efuse(B1, nil, {
    minor = field(B1 + 0x08, 0, 4),
    major_lo = field(B1 + 0x08, 4, 2),
    package = field(B1 + 0x08, 20, 3),
    major_hi = field(B1 + 0x08, 23, 1),
  }),

  -- v3.0 (ECO5 ROM, the esp32p4 stub), 40 MHz crystal.
  sim = {
    regs = {
      [B1 + 0x00] = 0xA0ECF101,
      [B1 + 0x04] = 0x000030ED,
      [B1 + 0x08] = 0x00000030,
    },
  },
}

--- Chip revision as major, minor: major = MAJOR_HI << 2 | MAJOR_LO.
function M.revision(read)
  local e = M.efuse
  return e.major_hi:get(read) << 2 | e.major_lo:get(read), e.minor:get(read)
end

--- The stub JSON for a chip of revision `major`: revisions before v3.0 run the rc1 stub.
function M.stub_for(major)
  if major < 3 then return "esp32p4-rev1" end
  return "esp32p4"
end

return M
