--- ESP32-C2 (ESP8684): the chip's constants, the single source for the
--- flasher and the virtual device. See docs/design.md ("Chip tables").
local field = require("espflash.chips.field")
local common = require("espflash.chips.common")

local EFUSE = 0x60008800
local B2 = EFUSE + 0x40           -- BLOCK2 on the C2: MAC and versions
local UART0_CLKDIV = 0x60000014
local ROM, DATE = "esp8684-api2-20220127", "Jan 27 2022"

local M = {
  name = "esp32c2",
  chip_id = 12,
  magic = { 0x6F51306F, 0x7C41A06F },         -- ECO0, ECO1
  bootloader_offset = 0x0,
  default_flash_freq = "30mhz",
  flash_freq_codes = { ["15mhz"] = 0x2, ["20mhz"] = 0x1, ["30mhz"] = 0x0, ["60mhz"] = 0xF },
  mmu_page_sizes = { 0x4000, 0x8000, 0x10000 },
  default_xtal_mhz = 40,
  default_factory_size = 0x1F0000,
  stub = "esp32c2",
  targets = { "riscv32imc-esp-espidf", "riscv32imc-unknown-none-elf" },
  flash_ranges = { { 0x42000000, 0x42400000 }, { 0x3C000000, 0x3C400000 } },
  features = { "WiFi", "BLE" },

  rom = {
    flash_begin_len = 20,
    max_opcode = 0x14,
    secinfo_len = 20,
    banner_download = common.banner(ROM, DATE, 0x8, "DOWNLOAD(UART0)", true),
    banner_boot = common.banner(ROM, DATE, 0xC, "SPI_FAST_FLASH_BOOT", false),
  },

  spi = { base = 0x60002000, usr = 0x18, usr1 = 0x1C, usr2 = 0x20,
          mosi_dlen = 0x24, miso_dlen = 0x28, w0 = 0x58 },
  uart_clkdiv = UART0_CLKDIV,

  efuse_base = EFUSE,
  efuse = {
    mac0 = field(B2 + 0x00, 0, 32),
    mac1 = field(B2 + 0x04, 0, 16),
    minor = field(B2 + 0x04, 16, 4),
    major = field(B2 + 0x04, 20, 2),
    package = field(B2 + 0x04, 22, 3),
  },

  -- v1.2 (ECO1; esptool refuses the stub on v0.0), 40 MHz crystal.
  sim = {
    magic = 0x7C41A06F,           -- ECO1, the ROM the banner names
    jedec = 0x001640C8,           -- GigaDevice, 4 MB
    regs = {
      [B2 + 0x00] = 0x8D001122,
      [B2 + 0x04] = 0x0012083A,
      [UART0_CLKDIV] = common.uart_clkdiv(40, 115200),
    },
  },
}

--- Chip revision as major, minor.
function M.revision(read)
  return M.efuse.major:get(read), M.efuse.minor:get(read)
end

--- MAC address as six bytes.
function M.mac(read)
  return common.mac(M, read)
end

--- Crystal frequency in MHz (26 or 40), estimated from the UART0 divider at `baud`.
function M.xtal(read, baud)
  return common.xtal_from_clkdiv(read, UART0_CLKDIV, baud, { { 33, 40 } }, 26)
end

return M
