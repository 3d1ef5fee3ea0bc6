--- ESP32-S2: the chip's constants, the single source for the flasher and the
--- virtual device. See docs/design.md ("Chip tables") and docs/chips.md;
--- what is not here is common.chip's default.
local field = require("espflash.chips.field")
local common = require("espflash.chips.common")

local EFUSE = 0x3F41A000
local B1 = EFUSE + 0x44           -- BLOCK1: MAC and system data
local B2 = EFUSE + 0x5C           -- BLOCK2: calibration data

local M = common.chip {
  name = "esp32s2",
  chip_id = 2,                    -- image chip id; GET_SECURITY_INFO has no chip id (12 bytes)
  magic = { 0x000007C6 },
  bootloader_offset = 0x1000,
  default_factory_size = 0x100000,
  targets = { "xtensa-esp32s2-espidf", "xtensa-esp32s2-none-elf" },
  flash_ranges = { { 0x40080000, 0x41800000 }, { 0x3F000000, 0x3F3F0000 } },

  rom = common.rom { build = "esp32s2-rc4-20191025", date = "Oct 25 2019", secinfo_len = 12,
                     download = { 0x0, "DOWNLOAD(USB/UART0/1/SPI)" }, boot = 0x8 },
  spi = common.spi(0x3F402000),
  uart_clkdiv = 0x3F400014,
  wdt = { wprotect = 0x3F4080AC, config0 = 0x3F408094, config1 = 0x3F408098 },
  uartdev_buf_no = { addr = 0x3FFFFD14, usb_otg = 2 },

  efuse_base = EFUSE,
  efuse = common.efuse(B1, nil, {  -- checked against espflash's target/efuse/esp32s2.rs
    major = field(B1 + 0x0C, 18, 2),
    minor_hi = field(B1 + 0x0C, 20, 1),
    flash_version = field(B1 + 0x0C, 21, 4),
    blk_version_major = field(B1 + 0x0C, 25, 2),
    psram_version = field(B1 + 0x0C, 28, 4),
    package = field(B1 + 0x10, 0, 4),
    minor_lo = field(B1 + 0x10, 4, 3),
    blk_version_minor = field(B2 + 0x10, 4, 3),
  }),

  -- v1.0, no embedded flash or PSRAM, 40 MHz crystal.
  sim = {
    regs = {
      [B1 + 0x00] = 0xA1001122,
      [B1 + 0x04] = 0x00007CDF,
      [B1 + 0x0C] = 0x00040000,
      [B1 + 0x10] = 0x00000000,
    },
  },
}

--- board-info's "Features:" list, read from eFuse like espflash.
function M.features(read)
  local e = M.efuse
  local flash = { [0] = "No Embedded Flash", "Embedded Flash 2MB", "Embedded Flash 4MB" }
  local psram = { [0] = "No Embedded PSRAM", "Embedded PSRAM 2MB", "Embedded PSRAM 4MB" }
  local cal = { [0] = "No calibration in BLK2 of efuse",
                "ADC and temperature sensor calibration in BLK2 of efuse V1",
                "ADC and temperature sensor calibration in BLK2 of efuse V2" }
  return { "WiFi",
           flash[e.flash_version:get(read)] or "Unknown Embedded Flash",
           psram[e.psram_version:get(read)] or "Unknown Embedded PSRAM",
           cal[e.blk_version_minor:get(read)] or "Unknown Calibration in BLK2" }
end

return M
