--- Helpers shared by the chip tables: MAC decoding and encoding through a
--- chip's eFuse field records, the UART-divider crystal estimate, the UART
--- divider register value, the ROM boot banners and the frequency tables.
local field = require("espflash.chips.field")

local M = {}

--- Flash-frequency header nibbles of most chips (espflash's generic table).
M.GENERIC_FREQ_CODES = { ["20mhz"] = 0x2, ["26mhz"] = 0x1, ["40mhz"] = 0x0, ["80mhz"] = 0xF }

--- Six MAC bytes read through `chip.efuse.mac0` / `mac1`.
function M.mac(chip, read)
  return field.mac_bytes(chip.efuse.mac0:get(read), chip.efuse.mac1:get(read))
end

--- Stores six MAC bytes into the register table `regs` through the chip's
--- MAC fields (other bits of those words, e.g. MAC_EXT or versions, are kept).
function M.set_mac(chip, regs, bytes)
  local mac0, mac1 = field.mac_words(bytes)
  chip.efuse.mac0:set(regs, mac0)
  chip.efuse.mac1:set(regs, mac1)
end

--- Crystal estimate from the UART0 divider as espflash/esptool compute it:
--- `(CLKDIV & 0xFFFFF) * baud / 1e6` (integer), compared against `limits`, a
--- list of `{above, mhz}` tried in order; `fallback` when none matches.
function M.xtal_from_clkdiv(read, addr, baud, limits, fallback)
  local est = (read(addr) & 0xFFFFF) * baud // 1000000
  for _, l in ipairs(limits) do
    if est > l[1] then return l[2] end
  end
  return fallback
end

--- The UART CLKDIV register value (integer divider in bits 0..19, fraction
--- in 1/16 units in bits 20..23) for a crystal of `mhz` at `baud`.
function M.uart_clkdiv(mhz, baud)
  local div16 = mhz * 1000000 * 16 // baud
  return (div16 >> 4) | (div16 & 0xF) << 20
end

--- ROM banner after a reset: `"ESP-ROM:<rom>\r\nBuild:<date>\r\nrst:0x1 (POWERON),boot:<strap> (<mode>)\r\n"`
--- plus "waiting for download" in download mode.
function M.banner(rom, date, strap, mode, download)
  local s = "ESP-ROM:" .. rom .. "\r\nBuild:" .. date .. "\r\n"
    .. string.format("rst:0x1 (POWERON),boot:0x%x (%s)\r\n", strap, mode)
  if download then s = s .. "waiting for download\r\n" end
  return s
end

return M
