--- What the chip tables share: the `chip{...}` constructor that fills the
--- defaults most chips have, the shared register and eFuse shapes, MAC
--- decoding and encoding through a chip's eFuse field records, the
--- UART-divider crystal estimate and register value, the ROM boot banners
--- and the frequency tables. Each chip file states only its own facts.
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

--- An `xtal(read, baud)` for chips with a 26 or 40 MHz crystal (ESP32, C2):
--- 40 when the UART0 divider at `clkdiv_addr` estimates above 33 MHz, else 26.
function M.xtal_26_or_40(clkdiv_addr)
  return function(read, baud)
    return M.xtal_from_clkdiv(read, clkdiv_addr, baud, { { 33, 40 } }, 26)
  end
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

-- ROM personality of every chip after the ESP32 (protocol.md §1.6, §4.2, §8):
-- 20-byte FLASH_BEGIN payload, opcodes up to GET_SECURITY_INFO (0x14), 20-byte
-- security info.
local ROM_DEFAULTS = { flash_begin_len = 20, max_opcode = 0x14, secinfo_len = 20 }

--- The `rom` table of a chip whose ROM prints an "ESP-ROM:" banner.
--- `o.build` and `o.date`: the ROM's version string and build date;
--- `o.download = {strap, mode}`: the boot line in download mode; `o.boot`:
--- the strap in SPI boot (default 0xC). `flash_begin_len`, `max_opcode` and
--- `secinfo_len` are copied when given (`chip{}` fills the defaults).
function M.rom(o)
  return {
    flash_begin_len = o.flash_begin_len,
    max_opcode = o.max_opcode,
    secinfo_len = o.secinfo_len,
    banner_download = M.banner(o.build, o.date, o.download[1], o.download[2], true),
    banner_boot = M.banner(o.build, o.date, o.boot or 0xC, "SPI_FAST_FLASH_BOOT", false),
  }
end

--- The `spi` table of the SPI1 (flash) controller at `base` with the register
--- offsets every chip after the ESP32 shares (protocol.md §6.1).
function M.spi(base)
  return { base = base, usr = 0x18, usr1 = 0x1C, usr2 = 0x20,
           mosi_dlen = 0x24, miso_dlen = 0x28, w0 = 0x58 }
end

--- eFuse layouts several chips share, as `{offset from the MAC0 word, shift, width}`.
--- `MAC_EXT`: the upper half of the MAC1 word (C5, C6, C61, H2, S31).
M.MAC_EXT = { mac_ext = { 0x04, 16, 16 } }
--- ESP32-C3 and ESP32-S3: WAFER_VERSION_MINOR split over BLOCK1 words 3 and 5.
M.EFUSE_C3 = {
  minor_lo = { 0x0C, 18, 3 }, package = { 0x0C, 21, 3 },
  minor_hi = { 0x14, 23, 1 }, major = { 0x14, 24, 2 },
}
--- ESP32-C5 and ESP32-C61 (one eFuse controller): versions and package in word 2.
M.EFUSE_C5 = {
  mac_ext = M.MAC_EXT.mac_ext,
  minor = { 0x08, 0, 4 }, major = { 0x08, 4, 2 }, package = { 0x08, 26, 3 },
}
--- ESP32-C6 and ESP32-S31: versions in word 3 (the package lies elsewhere on each).
M.EFUSE_C6 = {
  mac_ext = M.MAC_EXT.mac_ext,
  minor = { 0x0C, 18, 4 }, major = { 0x0C, 22, 2 },
}

--- The `efuse` field table of a chip whose MAC lies in two consecutive words
--- at `mac_addr` (BLOCK1, BLOCK2 on the C2): `mac0` (MAC bytes 2..5) and
--- `mac1` (bytes 0..1, bits 0..15 of the next word), the fields of `layout`
--- (one of the shared layouts above, or nil) placed from `mac_addr`, and
--- `fields` (the chip's own `field(...)` records).
function M.efuse(mac_addr, layout, fields)
  local e = { mac0 = field(mac_addr, 0, 32), mac1 = field(mac_addr + 0x04, 0, 16) }
  for name, f in pairs(layout or {}) do e[name] = field(mac_addr + f[1], f[2], f[3]) end
  for name, f in pairs(fields or {}) do e[name] = f end
  return e
end

-- The default revision decoder where the eFuse has `major` and either `minor`
-- or `minor_hi`/`minor_lo` (minor = MINOR_HI * 8 + MINOR_LO); nil otherwise.
local function default_revision(chip)
  local e = chip.efuse
  if not e.major then return nil end
  if e.minor then
    return function(read)
      local f = chip.efuse
      return f.major:get(read), f.minor:get(read)
    end
  end
  if e.minor_hi and e.minor_lo then
    return function(read)
      local f = chip.efuse
      return f.major:get(read), f.minor_hi:get(read) * 8 + f.minor_lo:get(read)
    end
  end
  return nil
end

--- Builds a chip table from `spec` (the chip's own constants; see
--- docs/design.md "Chip tables" for the fields), filling what it leaves out:
--- `stub` = `name`; `default_flash_freq` = "40mhz" with `flash_freq_codes` =
--- GENERIC_FREQ_CODES; `mmu_page_sizes` = {64K}; `default_xtal_mhz` = 40;
--- `default_factory_size` = 0x3F0000; the `rom` lengths (20, 0x14, 20);
--- `sim.jedec` = a GigaDevice 4 MB flash; `sim.regs[uart_clkdiv]` = the
--- divider of the default crystal at 115200; and the decoders `mac(read)`
--- (through `efuse.mac0`/`mac1`), `revision(read)` (from `efuse.major` and
--- `minor` or `minor_hi`/`minor_lo`) and `xtal(read, baud)` (the fixed
--- `default_xtal_mhz`). What the spec gives wins; a chip file may also
--- replace a decoder after the call.
function M.chip(spec)
  local c = spec
  c.stub = c.stub or c.name
  c.default_flash_freq = c.default_flash_freq or "40mhz"
  c.flash_freq_codes = c.flash_freq_codes or M.GENERIC_FREQ_CODES
  c.mmu_page_sizes = c.mmu_page_sizes or { 0x10000 }
  c.default_xtal_mhz = c.default_xtal_mhz or 40
  c.default_factory_size = c.default_factory_size or 0x3F0000
  for k, v in pairs(ROM_DEFAULTS) do
    if c.rom[k] == nil then c.rom[k] = v end
  end
  c.sim.jedec = c.sim.jedec or 0x001640C8          -- GigaDevice, 4 MB
  if c.sim.regs[c.uart_clkdiv] == nil then
    c.sim.regs[c.uart_clkdiv] = M.uart_clkdiv(c.default_xtal_mhz, 115200)
  end
  c.mac = c.mac or function(read) return M.mac(c, read) end
  c.revision = c.revision or default_revision(c)
  c.xtal = c.xtal or function(_read, _baud) return c.default_xtal_mhz end
  return c
end

return M
