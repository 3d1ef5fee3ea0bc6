--- ESP32-P4: the chip's constants, the single source for the flasher and the
--- virtual device. See docs/design.md ("Chip tables").
local field = require("espflash.chips.field")
local common = require("espflash.chips.common")

local EFUSE = 0x5012D000
local B1 = EFUSE + 0x44           -- BLOCK1: MAC and system data
local UART0_CLKDIV = 0x500CA014
local ROM, DATE = "esp32p4-eco5-20250430", "Apr 30 2025"

local M = {
  name = "esp32p4",
  chip_id = 18,
  magic = { 0x00000000, 0x0ADDBAD0 },
  bootloader_offset = 0x2000,
  default_flash_freq = "40mhz",
  flash_freq_codes = common.GENERIC_FREQ_CODES,
  mmu_page_sizes = { 0x10000 },
  default_xtal_mhz = 40,
  default_factory_size = 0x3F0000,
  stub = "esp32p4",
  stub_variants = { "esp32p4-rev1" },        -- every stub JSON this chip may run
  targets = { "riscv32imafc-esp-espidf", "riscv32imafc-unknown-none-elf" },
  flash_ranges = { { 0x48000000, 0x4C000000 }, { 0x40000000, 0x44000000 } },
  features = { "High-Performance MCU" },

  rom = {
    flash_begin_len = 20,
    max_opcode = 0x14,
    secinfo_len = 20,
    banner_download = common.banner(ROM, DATE, 0x4, "DOWNLOAD(USB/UART0/SPI)", true),
    banner_boot = common.banner(ROM, DATE, 0xC, "SPI_FAST_FLASH_BOOT", false),
  },

  spi = { base = 0x5008D000, usr = 0x18, usr1 = 0x1C, usr2 = 0x20,
          mosi_dlen = 0x24, miso_dlen = 0x28, w0 = 0x58 },
  uart_clkdiv = UART0_CLKDIV,
  wdt = { wprotect = 0x50116018, config0 = 0x50116000, config1 = 0x50116004 },
  uartdev_buf_no = { addr = 0x4FF3FEC8, usb_otg = 5 },

  efuse_base = EFUSE,
  efuse = {
    mac0 = field(B1 + 0x00, 0, 32),
    mac1 = field(B1 + 0x04, 0, 16),
    minor = field(B1 + 0x08, 0, 4),
    major_lo = field(B1 + 0x08, 4, 2),
    package = field(B1 + 0x08, 20, 3),
    major_hi = field(B1 + 0x08, 23, 1),
  },

  -- v3.0 (ECO5 ROM, the esp32p4 stub), 40 MHz crystal.
  sim = {
    jedec = 0x001640C8,           -- GigaDevice, 4 MB
    regs = {
      [B1 + 0x00] = 0xA0ECF101,
      [B1 + 0x04] = 0x000030ED,
      [B1 + 0x08] = 0x00000030,
      [UART0_CLKDIV] = common.uart_clkdiv(40, 115200),
    },
  },
}

--- Chip revision as major, minor: major = MAJOR_HI << 2 | MAJOR_LO.
function M.revision(read)
  local e = M.efuse
  return e.major_hi:get(read) << 2 | e.major_lo:get(read), e.minor:get(read)
end

--- MAC address as six bytes.
function M.mac(read)
  return common.mac(M, read)
end

--- Crystal frequency in MHz (fixed).
function M.xtal(_read, _baud)
  return 40
end

--- The stub JSON for a chip of revision `major`: revisions before v3.0 run the rc1 stub.
function M.stub_for(major)
  if major < 3 then return "esp32p4-rev1" end
  return "esp32p4"
end

return M
