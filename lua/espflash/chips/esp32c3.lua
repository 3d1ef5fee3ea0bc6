--- ESP32-C3: the chip's constants, the single source for the flasher and the
--- virtual device. See docs/design.md ("Chip tables") for the schema.
local field = require("espflash.chips.field")

local EFUSE = 0x60008800
local B1 = EFUSE + 0x44           -- BLOCK1: MAC and system data

local M = {
  name = "esp32c3",
  chip_id = 5,
  magic = { 0x6921506F, 0x1B31506F, 0x4881606F, 0x4361606F },
  bootloader_offset = 0x0,
  default_flash_freq = "40mhz",
  flash_freq_codes = { ["20mhz"] = 0x2, ["26mhz"] = 0x1, ["40mhz"] = 0x0, ["80mhz"] = 0xF },
  mmu_page_sizes = { 0x10000 },
  default_xtal_mhz = 40,
  stub = "esp32c3",
  targets = { "riscv32imc-unknown-none-elf", "riscv32imc-esp-espidf" },
  features = { "WiFi", "BLE" },

  rom = {
    flash_begin_len = 20,
    max_opcode = 0x14,
    secinfo_len = 20,
    banner_download = "ESP-ROM:esp32c3-api1-20210207\r\nBuild:Feb  7 2021\r\n"
      .. "rst:0x1 (POWERON),boot:0x8 (DOWNLOAD(USB/UART0/1))\r\nwaiting for download\r\n",
    banner_boot = "ESP-ROM:esp32c3-api1-20210207\r\nBuild:Feb  7 2021\r\n"
      .. "rst:0x1 (POWERON),boot:0xc (SPI_FAST_FLASH_BOOT)\r\n",
  },

  spi = { base = 0x60002000, usr = 0x18, usr1 = 0x1C, usr2 = 0x20,
          mosi_dlen = 0x24, miso_dlen = 0x28, w0 = 0x58 },
  uart_clkdiv = 0x60000014,
  wdt = { wprotect = 0x600080A8, config0 = 0x60008090, config1 = 0x60008094 },

  efuse = {
    mac0 = field(B1 + 0x00, 0, 32),
    mac1 = field(B1 + 0x04, 0, 16),
    major = field(B1 + 0x14, 24, 2),
    minor_hi = field(B1 + 0x14, 23, 1),
    minor_lo = field(B1 + 0x0C, 18, 3),
    package = field(B1 + 0x0C, 21, 3),
  },

  -- A plausible chip (MAC from a real trace): decodes to 60:55:f9:7e:7b:c0, v0.4.
  sim = {
    jedec = 0x001640C8,           -- GigaDevice, 4 MB
    regs = {
      [B1 + 0x00] = 0xF97E7BC0,
      [B1 + 0x04] = 0x00006055,
      [B1 + 0x0C] = 0x00100000,
      [B1 + 0x14] = 0x00000000,
      [0x60000014] = 0x0030015B,  -- UART0 CLKDIV at 115200 from 40 MHz
    },
  },
}

--- Chip revision as major, minor.
function M.revision(read)
  local e = M.efuse
  return e.major:get(read), e.minor_hi:get(read) * 8 + e.minor_lo:get(read)
end

--- MAC address as six bytes.
function M.mac(read)
  return field.mac_bytes(M.efuse.mac0:get(read), M.efuse.mac1:get(read))
end

--- Crystal frequency in MHz.
function M.xtal(_read, _baud)
  return 40
end

return M
