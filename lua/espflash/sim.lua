--- Virtual-device profiles: turns a chip table (lua/espflash/chips/) and
--- options into the profile and options `core.sim_new` takes (the fields of
--- `sim_profile_t` / `sim_options_t` in src/sim/sim.h), and parses
--- `sim://CHIP[?flash=FILE&size=4MB&mac=aa:bb:cc:dd:ee:ff&...]` URLs.
local chips = require("espflash.chips")
local common = require("espflash.chips.common")
local errors = require("espflash.errors")

local M = {}

-- JEDEC capacity bytes by flash size (hosts read size = 1 << id for 0x12..0x1C).
local SIZE_IDS = {
  ["256KB"] = 0x12, ["512KB"] = 0x13, ["1MB"] = 0x14, ["2MB"] = 0x15, ["4MB"] = 0x16,
  ["8MB"] = 0x17, ["16MB"] = 0x18, ["32MB"] = 0x19, ["64MB"] = 0x1A, ["128MB"] = 0x1B,
  ["256MB"] = 0x1C,
}
local SIZE_LIST = "256KB, 512KB, 1MB, 2MB, 4MB, 8MB, 16MB, 32MB, 64MB, 128MB, 256MB"

local FAULTS = { none = true, drop = true, flip = true, stall = true, reset = true, refuse = true }

local function bad(msg, hint)
  errors.usage(msg, hint)
end

--- The chip table for `name`; a usage error listing the valid chips otherwise.
function M.chip(name)
  local chip, err = chips.get(name)
  if not chip then bad(err, "Pick one of the chips listed") end
  return chip
end

--- Parses a flash size ("4MB", "512kb") into the JEDEC capacity byte and bytes.
function M.parse_size(s)
  local key = type(s) == "string" and s:upper() or ""
  local id = SIZE_IDS[key]
  if not id then
    bad(string.format("invalid flash size '%s'", tostring(s)), "Use one of " .. SIZE_LIST)
  end
  return id, 1 << id
end

--- Parses "aa:bb:cc:dd:ee:ff" (or with '-') into six bytes.
function M.parse_mac(s)
  local bytes = {}
  if type(s) == "string" then
    for hex in s:gmatch("[^:%-]+") do
      bytes[#bytes + 1] = hex:match("^%x%x$") and tonumber(hex, 16) or -1
    end
  end
  if #bytes ~= 6 then bytes[1] = -1 end
  for _, b in ipairs(bytes) do
    if b < 0 then
      bad(string.format("invalid MAC address '%s'", tostring(s)), "Write it as six hex bytes, e.g. 24:6f:28:00:11:22")
    end
  end
  return bytes
end

--- "aa:bb:cc:dd:ee:ff" for six bytes.
function M.format_mac(bytes)
  local parts = {}
  for i, b in ipairs(bytes) do parts[i] = string.format("%02x", b) end
  return table.concat(parts, ":")
end

--- The register words of the simulated chip: its table's `sim.regs`, with
--- `mac` (six bytes) re-encoded through the chip's eFuse MAC fields.
function M.regs(chip, mac)
  local regs = {}
  for addr, v in pairs(chip.sim.regs) do regs[addr] = v end
  if mac then
    if chip.set_mac then chip.set_mac(regs, mac) else common.set_mac(chip, regs, mac) end
  end
  return regs
end

--- The profile table for `core.sim_new` (the fields of `sim_profile_t`).
--- `opts`: `mac` (string or six bytes), `size` (e.g. "4MB"), `stub_entries`
--- (list; default: the entries of the chip's installed stubs).
function M.profile(chip, opts)
  opts = opts or {}
  if type(chip) == "string" then chip = M.chip(chip) end
  local mac = opts.mac
  if type(mac) == "string" then mac = M.parse_mac(mac) end
  local regs = M.regs(chip, mac)
  local jedec = chip.sim.jedec
  if opts.size then
    jedec = (jedec & 0xFFFF) | M.parse_size(opts.size) << 16
  end
  local read = function(addr) return regs[addr] or 0 end
  local entries = opts.stub_entries or require("espflash.stubs").entries(chip)
  local spi = chip.spi
  return {
    name = chip.name,
    magic = chip.sim.magic or chip.magic[1],
    chip_id = chip.chip_id,
    secinfo_len = chip.rom.secinfo_len,
    flash_begin_len = chip.rom.flash_begin_len,
    max_rom_opcode = chip.rom.max_opcode,
    regs = regs,
    spi_base = spi.base, spi_usr = spi.usr, spi_usr1 = spi.usr1, spi_usr2 = spi.usr2,
    spi_mosi_dlen = spi.mosi_dlen, spi_miso_dlen = spi.miso_dlen, spi_w0 = spi.w0,
    jedec_id = jedec,
    uart_clkdiv_addr = chip.uart_clkdiv,
    xtal_mhz = chip.xtal(read, 115200),
    stub_entries = entries,
    banner_download = chip.rom.banner_download,
    banner_boot = chip.rom.banner_boot,
  }
end

--- The options table for `core.sim_new` (the fields of `sim_options_t`):
--- `flash` (backing file), `size` (e.g. "4MB"), `download` (start in ROM
--- download mode, default true), `secure_download`, `link_emulation`,
--- `latency_us`, `app_output`, `fault` (drop|flip|stall|reset|refuse), `fault_at`.
function M.options(opts)
  opts = opts or {}
  if opts.fault ~= nil and not FAULTS[opts.fault] then
    bad(string.format("invalid fault '%s'", tostring(opts.fault)),
      "Use one of none, drop, flip, stall, reset, refuse")
  end
  return {
    flash = opts.flash,
    flash_size = opts.size and select(2, M.parse_size(opts.size)) or 0,
    start_in_download = opts.download ~= false,
    secure_download = opts.secure_download and true or false,
    link_emulation = opts.link_emulation and true or false,
    latency_us = opts.latency_us or 0,
    app_output = opts.app_output,
    fault = opts.fault ~= "none" and opts.fault or nil,
    fault_at = opts.fault_at or 0,
  }
end

local function flag(key, v)
  if v == "" or v == "1" or v == "true" or v == "yes" then return true end
  if v == "0" or v == "false" or v == "no" then return false end
  bad(string.format("invalid value '%s' for sim option '%s'", v, key), "Use 1 or 0")
end

local function count(key, v)
  local n = math.tointeger(tonumber(v))
  if not n or n < 0 then
    bad(string.format("invalid value '%s' for sim option '%s'", v, key), "Use a non-negative integer")
  end
  return n
end

local function unescape(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- URL query keys -> option setters.
local KEYS = {
  flash = function(o, v) o.flash = v end,
  size = function(o, v) M.parse_size(v); o.size = v end,
  mac = function(o, v) M.parse_mac(v); o.mac = v end,
  download = function(o, v, k) o.download = flag(k, v) end,
  secure = function(o, v, k) o.secure_download = flag(k, v) end,
  link = function(o, v, k) o.link_emulation = flag(k, v) end,
  latency = function(o, v, k) o.latency_us = count(k, v) end,
  app = function(o, v) o.app_output = v end,
  fault = function(o, v) o.fault = v end,
  fault_at = function(o, v, k) o.fault_at = count(k, v) end,
}
local KEY_LIST = "flash, size, mac, download, secure, link, latency, app, fault, fault_at"

--- Parses `sim://CHIP[?key=value&...]` into the chip table and an options
--- table for `profile`/`options`. Raises a usage error naming the problem.
function M.parse_url(url)
  local rest = type(url) == "string" and url:match("^sim://(.*)$")
  if not rest then
    bad(string.format("'%s' is not a sim:// URL", tostring(url)), "Write it as sim://CHIP, e.g. sim://esp32c3")
  end
  local name, query = rest:match("^([^?]*)%??(.*)$")
  name = name:gsub("/$", "")
  if name == "" then
    bad("sim:// URL names no chip", "Write it as sim://CHIP; chips: " .. table.concat(chips.names(), ", "))
  end
  local chip = M.chip(name)
  local opts = {}
  for item in query:gmatch("[^&]+") do
    local k, v = item:match("^([^=]*)=?(.*)$")
    k, v = unescape(k), unescape(v)
    local set = KEYS[k]
    if not set then
      bad(string.format("unknown sim option '%s' in %s", k, url), "Valid options: " .. KEY_LIST)
    end
    set(opts, v, k)
  end
  if opts.fault then M.options({ fault = opts.fault }) end
  return chip, opts
end

--- Creates the virtual device for `chip` (table or name) with `opts` (see
--- `profile` and `options`): returns a Sim from `core.sim_new` and the profile
--- it was made from; raises on failure.
function M.new(chip, opts)
  local core = require("espflash.core")
  if type(chip) == "string" then chip = M.chip(chip) end
  local profile = M.profile(chip, opts)
  return errors.check(core.sim_new(profile, M.options(opts))), profile
end

--- Creates the virtual device a `sim://` URL describes; returns the Sim and the chip table.
function M.open(url)
  local chip, opts = M.parse_url(url)
  return (M.new(chip, opts)), chip
end

return M
