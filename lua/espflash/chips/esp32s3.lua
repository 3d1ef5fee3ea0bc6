--- ESP32-S3: the chip's constants, the single source for the flasher and the
--- virtual device. See docs/design.md ("Chip tables") and docs/chips.md;
--- what is not here is common.chip's default.
local field = require("espflash.chips.field")
local common = require("espflash.chips.common")

local EFUSE = 0x60007000
local B1 = EFUSE + 0x44           -- BLOCK1: MAC and system data
local B2 = EFUSE + 0x5C           -- BLOCK2: system data part 1

local M = common.chip {
  name = "esp32s3",
  chip_id = 9,
  magic = { 0x00000009 },
  bootloader_offset = 0x0,
  default_factory_size = 0x100000,
  targets = { "xtensa-esp32s3-espidf", "xtensa-esp32s3-none-elf" },
  flash_ranges = { { 0x42000000, 0x44000000 }, { 0x3C000000, 0x3E000000 } },

  rom = common.rom { build = "esp32s3-20210327", date = "Mar 27 2021",
                     download = { 0x0, "DOWNLOAD(USB/UART0)" }, boot = 0x8 },
  spi = common.spi(0x60002000),
  uart_clkdiv = 0x60000014,
  wdt = { wprotect = 0x600080B0, config0 = 0x60008098, config1 = 0x6000809C },
  uartdev_buf_no = { addr = 0x3FCEF14C, usb_otg = 3 },

  efuse_base = EFUSE,
  efuse = common.efuse(B1, common.EFUSE_C3, {
    blk_version_minor = field(B1 + 0x0C, 24, 3),
    blk_version_major = field(B2 + 0x10, 0, 2),
  }),

  -- v0.2, 40 MHz crystal.
  sim = {
    regs = {
      [B1 + 0x00] = 0xE6524AB0,
      [B1 + 0x04] = 0x000084FC,
      [B1 + 0x0C] = 0x00080000,
      [B1 + 0x14] = 0x00000000,
      [B2 + 0x10] = 0x00000001,
    },
  },
}

-- BLOCK version 1.1 marks the first silicon (v0.0), whose version fields were reused.
local function blk_v1_1(read)
  local e = M.efuse
  return e.blk_version_major:get(read) == 1 and e.blk_version_minor:get(read) == 1
end

--- Chip revision as major, minor (espflash: major 0 when the BLOCK version is 1.1).
function M.revision(read)
  local e = M.efuse
  local major = blk_v1_1(read) and 0 or e.major:get(read)
  return major, e.minor_hi:get(read) * 8 + e.minor_lo:get(read)
end

--- board-info's "Features:" list, as espflash derives it.
function M.features(read)
  return { "WiFi", "BLE", blk_v1_1(read) and "Embedded PSRAM" or "Embedded Flash" }
end

return M
