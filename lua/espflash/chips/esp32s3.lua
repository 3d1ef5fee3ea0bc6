--- ESP32-S3: the chip's constants, the single source for the flasher and the
--- virtual device. See docs/design.md ("Chip tables").
local field = require("espflash.chips.field")
local common = require("espflash.chips.common")

local EFUSE = 0x60007000
local B1 = EFUSE + 0x44           -- BLOCK1: MAC and system data
local B2 = EFUSE + 0x5C           -- BLOCK2: system data part 1
local ROM, DATE = "esp32s3-20210327", "Mar 27 2021"

local M = {
  name = "esp32s3",
  chip_id = 9,
  magic = { 0x00000009 },
  bootloader_offset = 0x0,
  default_flash_freq = "40mhz",
  flash_freq_codes = common.GENERIC_FREQ_CODES,
  mmu_page_sizes = { 0x10000 },
  default_xtal_mhz = 40,
  default_factory_size = 0x100000,
  stub = "esp32s3",
  targets = { "xtensa-esp32s3-espidf", "xtensa-esp32s3-none-elf" },
  flash_ranges = { { 0x42000000, 0x44000000 }, { 0x3C000000, 0x3E000000 } },

  rom = {
    flash_begin_len = 20,
    max_opcode = 0x14,
    secinfo_len = 20,
    banner_download = common.banner(ROM, DATE, 0x0, "DOWNLOAD(USB/UART0)", true),
    banner_boot = common.banner(ROM, DATE, 0x8, "SPI_FAST_FLASH_BOOT", false),
  },

  spi = { base = 0x60002000, usr = 0x18, usr1 = 0x1C, usr2 = 0x20,
          mosi_dlen = 0x24, miso_dlen = 0x28, w0 = 0x58 },
  uart_clkdiv = 0x60000014,
  wdt = { wprotect = 0x600080B0, config0 = 0x60008098, config1 = 0x6000809C },
  uartdev_buf_no = { addr = 0x3FCEF14C, usb_otg = 3 },

  efuse_base = EFUSE,
  efuse = {
    mac0 = field(B1 + 0x00, 0, 32),
    mac1 = field(B1 + 0x04, 0, 16),
    minor_lo = field(B1 + 0x0C, 18, 3),
    package = field(B1 + 0x0C, 21, 3),
    blk_version_minor = field(B1 + 0x0C, 24, 3),
    minor_hi = field(B1 + 0x14, 23, 1),
    major = field(B1 + 0x14, 24, 2),
    blk_version_major = field(B2 + 0x10, 0, 2),
  },

  -- v0.2, 40 MHz crystal.
  sim = {
    jedec = 0x001640C8,           -- GigaDevice, 4 MB
    regs = {
      [B1 + 0x00] = 0xE6524AB0,
      [B1 + 0x04] = 0x000084FC,
      [B1 + 0x0C] = 0x00080000,
      [B1 + 0x14] = 0x00000000,
      [B2 + 0x10] = 0x00000001,
      [0x60000014] = common.uart_clkdiv(40, 115200),
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

--- MAC address as six bytes.
function M.mac(read)
  return common.mac(M, read)
end

--- Crystal frequency in MHz (fixed).
function M.xtal(_read, _baud)
  return 40
end

--- board-info's "Features:" list, as espflash derives it.
function M.features(read)
  return { "WiFi", "BLE", blk_v1_1(read) and "Embedded PSRAM" or "Embedded Flash" }
end

return M
