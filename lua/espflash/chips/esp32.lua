--- ESP32: the chip's constants, the single source for the flasher and the
--- virtual device. See docs/design.md ("Chip tables") and docs/chips.md.
--- The oldest ROM: its own banner, payload lengths, SPI offsets and eFuse map.
local field = require("espflash.chips.field")
local common = require("espflash.chips.common")

local B0 = 0x3FF5A000             -- eFuse BLOCK0 read words (W0..W6)
local APB_CTL_DATE = 0x3FF6607C
local UART0_CLKDIV = 0x3FF40014
local RTCCALICFG1 = 0x3FF5F06C

-- protocol.md §3.2: the ROM predates the "ESP-ROM:" banner.
local ROM_HEAD = "ets Jul 29 2019 12:21:46\r\n\r\n"

local M = common.chip {
  name = "esp32",
  chip_id = 0,                    -- image chip id; the ROM has no GET_SECURITY_INFO
  magic = { 0x00F01D83 },
  bootloader_offset = 0x1000,
  targets = { "xtensa-esp32-espidf", "xtensa-esp32-none-elf" },
  flash_ranges = { { 0x400D0000, 0x40400000 }, { 0x3F400000, 0x3F800000 } },

  rom = {                         -- 16-byte FLASH_BEGIN, no GET_SECURITY_INFO (0x14)
    flash_begin_len = 16,
    max_opcode = 0x13,
    secinfo_len = 0,
    banner_download = ROM_HEAD .. "rst:0x1 (POWERON_RESET),boot:0x3 "
      .. "(DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\nwaiting for download\r\n",
    banner_boot = ROM_HEAD .. "rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n",
  },

  -- SPI1 with the ESP32's own register offsets (protocol.md §6.1).
  spi = { base = 0x3FF42000, usr = 0x1C, usr1 = 0x20, usr2 = 0x24,
          mosi_dlen = 0x28, miso_dlen = 0x2C, w0 = 0x80 },
  uart_clkdiv = UART0_CLKDIV,
  rtc_cali = RTCCALICFG1,         -- ROM baud-change calibration (bits 7..31)

  efuse_base = B0,
  efuse = {                       -- protocol.md §4.3
    mac0 = field(B0 + 0x04, 0, 32),
    mac1 = field(B0 + 0x08, 0, 16),
    mac_crc = field(B0 + 0x08, 16, 8),
    single_core = field(B0 + 0x0C, 0, 1),      -- DISABLE_APP_CPU
    disable_bt = field(B0 + 0x0C, 1, 1),
    package_hi = field(B0 + 0x0C, 2, 1),
    package = field(B0 + 0x0C, 9, 3),
    cpu_freq_low = field(B0 + 0x0C, 12, 1),
    cpu_freq_rated = field(B0 + 0x0C, 13, 1),
    blk3_part_reserve = field(B0 + 0x0C, 14, 1),
    rev_bit0 = field(B0 + 0x0C, 15, 1),
    ck8m = field(B0 + 0x10, 0, 8),
    adc_vref = field(B0 + 0x10, 8, 5),
    rev_bit1 = field(B0 + 0x14, 20, 1),
    minor = field(B0 + 0x14, 24, 2),
    coding_scheme = field(B0 + 0x18, 0, 2),
    rev_bit2 = field(APB_CTL_DATE, 31, 1),     -- not an eFuse: APB_CTL_DATE bit 31
  },

  -- ESP32-D0WD-V3 v3.1, dual core 240 MHz, 40 MHz crystal (MAC from a real trace).
  sim = {
    regs = {
      [B0 + 0x04] = 0x287AD884,
      [B0 + 0x08] = 0x003E246F,   -- MAC bytes 0..1 and CRC8 0x3E
      [B0 + 0x0C] = 0x0000A200,   -- rev bit0, rated CPU freq, package 1 (D0WD)
      [B0 + 0x10] = 0x00000332,   -- ADC VRef 3, CK8M 0x32
      [B0 + 0x14] = 0x01100000,   -- rev bit1, minor 1
      [APB_CTL_DATE] = 0x80000000,
      [RTCCALICFG1] = 0x00040000, -- calibration: exactly 40 MHz with CK8M 0x32
    },
  },

  xtal = common.xtal_26_or_40(UART0_CLKDIV),
}

local function crc8(bytes)
  local crc = 0
  for _, b in ipairs(bytes) do
    for _ = 1, 8 do
      local mix = (crc ~ b) & 1
      crc = crc >> 1
      if mix ~= 0 then crc = crc ~ 0x8C end
      b = b >> 1
    end
  end
  return crc
end

--- Chip revision as major, minor: major from three bits (eFuse W3 bit 15,
--- W5 bit 20, APB_CTL_DATE bit 31): 1 → 1, 3 → 2, 7 → 3, else 0.
function M.revision(read)
  local e = M.efuse
  local bits = e.rev_bit2:get(read) << 2 | e.rev_bit1:get(read) << 1 | e.rev_bit0:get(read)
  local major = ({ [1] = 1, [3] = 2, [7] = 3 })[bits] or 0
  return major, e.minor:get(read)
end

--- Stores a MAC (six bytes) into a register table, with its CRC8.
function M.set_mac(regs, bytes)
  common.set_mac(M, regs, bytes)
  M.efuse.mac_crc:set(regs, crc8(bytes))
end

--- Package version (W3 bits 9..11 plus bit 2 as bit 3).
function M.package(read)
  return M.efuse.package:get(read) + (M.efuse.package_hi:get(read) << 3)
end

--- board-info's "Features:" list, read from eFuse like espflash.
function M.features(read)
  local e = M.efuse
  local f = { "WiFi" }
  if e.disable_bt:get(read) == 0 then f[#f + 1] = "BT" end
  f[#f + 1] = e.single_core:get(read) == 0 and "Dual Core" or "Single Core"
  if e.cpu_freq_rated:get(read) ~= 0 then
    f[#f + 1] = e.cpu_freq_low:get(read) ~= 0 and "160MHz" or "240MHz"
  end
  local pkg = M.package(read)
  if pkg == 2 or pkg == 4 or pkg == 5 or pkg == 6 then f[#f + 1] = "Embedded Flash" end
  if pkg == 6 then f[#f + 1] = "Embedded PSRAM" end
  if e.adc_vref:get(read) ~= 0 then f[#f + 1] = "VRef calibration in efuse" end
  if e.blk3_part_reserve:get(read) ~= 0 then f[#f + 1] = "BLK3 partially reserved" end
  local schemes = { [0] = "None", "3/4", "Repeat (UNSUPPORTED)", "Invalid" }
  f[#f + 1] = "Coding Scheme " .. schemes[e.coding_scheme:get(read)]
  return f
end

return M
