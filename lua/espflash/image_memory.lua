--- Address ranges of each chip's memory, as far as images care: which
--- addresses are flash-mapped (IROM/DROM; the bootloader maps them from
--- flash, everything else is loaded into RAM) and what to call a segment's
--- region in `image-info`.
---
--- The flash/RAM split uses the chip table's `flash_ranges` when it has one
--- and the `irom`/`drom` pairs below otherwise; the two are kept equal by
--- tests/spec/image_memory_spec.lua. Ranges are half-open `{lo, hi}`.
local M = {}

local function r(lo, hi, name) return { lo, hi, name } end

--- Per chip: `irom`, `drom` (espflash 4.1.0's ranges) and `ram`, a list of
--- named RAM regions (ESP-IDF's soc.h) for display.
M.chips = {
  esp32 = {
    irom = { 0x400D0000, 0x40400000 }, drom = { 0x3F400000, 0x3F800000 },
    ram = { r(0x40080000, 0x400A0000, "IRAM"), r(0x3FFAE000, 0x40000000, "DRAM"),
            r(0x400C0000, 0x400C2000, "RTC_IRAM"), r(0x3FF80000, 0x3FF82000, "RTC_DRAM"),
            r(0x50000000, 0x50002000, "RTC_DATA") },
  },
  esp32c2 = {
    irom = { 0x42000000, 0x42400000 }, drom = { 0x3C000000, 0x3C400000 },
    ram = { r(0x4037C000, 0x403C0000, "IRAM"), r(0x3FCA0000, 0x3FCE0000, "DRAM") },
  },
  esp32c3 = {
    irom = { 0x42000000, 0x42800000 }, drom = { 0x3C000000, 0x3C800000 },
    ram = { r(0x4037C000, 0x403E0000, "IRAM"), r(0x3FC80000, 0x3FCE0000, "DRAM"),
            r(0x50000000, 0x50002000, "RTC_RAM") },
  },
  esp32c5 = {
    irom = { 0x42000000, 0x42800000 }, drom = { 0x3C000000, 0x3C800000 },
    ram = { r(0x40800000, 0x40860000, "SRAM"), r(0x50000000, 0x50004000, "LP_RAM") },
  },
  esp32c6 = {
    irom = { 0x42000000, 0x42800000 }, drom = { 0x3C000000, 0x3C800000 },
    ram = { r(0x40800000, 0x40880000, "SRAM"), r(0x50000000, 0x50004000, "LP_RAM") },
  },
  esp32c61 = {
    irom = { 0x42000000, 0x42800000 }, drom = { 0x3C000000, 0x3C800000 },
    ram = { r(0x40800000, 0x40850000, "SRAM") },
  },
  esp32h2 = {
    irom = { 0x42000000, 0x42800000 }, drom = { 0x3C000000, 0x3C800000 },
    ram = { r(0x40800000, 0x40850000, "SRAM"), r(0x50000000, 0x50001000, "LP_RAM") },
  },
  esp32p4 = {
    irom = { 0x48000000, 0x4C000000 }, drom = { 0x40000000, 0x44000000 },
    ram = { r(0x4FF00000, 0x4FFC0000, "L2MEM"), r(0x30100000, 0x30102000, "TCM"),
            r(0x50108000, 0x50110000, "LP_RAM") },
  },
  esp32s2 = {
    irom = { 0x40080000, 0x41800000 }, drom = { 0x3F000000, 0x3F3F0000 },
    ram = { r(0x40020000, 0x40070000, "IRAM"), r(0x3FFB0000, 0x40000000, "DRAM"),
            r(0x40070000, 0x40072000, "RTC_IRAM"), r(0x50000000, 0x50002000, "RTC_DATA") },
  },
  esp32s3 = {
    irom = { 0x42000000, 0x44000000 }, drom = { 0x3C000000, 0x3E000000 },
    ram = { r(0x40370000, 0x403E0000, "IRAM"), r(0x3FC88000, 0x3FD00000, "DRAM"),
            r(0x600FE000, 0x60100000, "RTC_IRAM"), r(0x50000000, 0x50002000, "RTC_DATA") },
  },
  esp32s31 = {
    irom = { 0x40000000, 0x54000000 }, drom = { 0x40000000, 0x54000000 },
    ram = {},
  },
}

local function inside(range, addr) return addr >= range[1] and addr < range[2] end

--- The flash-mapped ranges of `chip` (a chip table) as a list of `{lo, hi}`.
function M.flash_ranges(chip)
  if chip.flash_ranges then return chip.flash_ranges end
  local m = M.chips[chip.name]
  if not m then error("no memory map for chip " .. tostring(chip.name), 2) end
  return { m.irom, m.drom }
end

--- True when `addr` is flash-mapped (IROM or DROM) on `chip`.
function M.is_flash(chip, addr)
  for _, range in ipairs(M.flash_ranges(chip)) do
    if inside(range, addr) then return true end
  end
  return false
end

--- A display name for the region holding `addr`: "IROM", "DROM", a RAM
--- region name, "PADDING" for address 0, or "RAM" when unknown.
function M.region_name(chip, addr)
  if addr == 0 then return "PADDING" end
  local m = M.chips[chip.name]
  if m then
    local irom, drom = inside(m.irom, addr), inside(m.drom, addr)
    if irom and drom then return "IROM/DROM" end
    if irom then return "IROM" end
    if drom then return "DROM" end
    for _, reg in ipairs(m.ram) do
      if inside(reg, addr) then return reg[3] end
    end
  end
  if M.is_flash(chip, addr) then return "FLASH" end
  return "RAM"
end

return M
