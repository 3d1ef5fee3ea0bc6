--- The 24-byte image header (`esp_image_header_t`: common + extended part),
--- the flash mode/size/frequency codes it carries, and patching a
--- bootloader's header with the chosen flash parameters.
local core = require("espflash.core")
local errors = require("espflash.errors")

local M = {}

M.MAGIC = 0xE9
M.SIZE = 24
M.WP_PIN_DISABLED = 0xEE

local FMT = "<BBBBI4BBBBI2BI2I2c4B"

--- Flash mode names and their header byte.
M.MODES = { qio = 0, qout = 1, dio = 2, dout = 3 }
M.MODE_NAMES = { [0] = "QIO", "QOUT", "DIO", "DOUT" }

--- Flash sizes espflash knows, in bytes.
M.SIZES = {
  ["256kb"] = 256 * 1024, ["512kb"] = 512 * 1024, ["1mb"] = 1 << 20, ["2mb"] = 2 << 20,
  ["4mb"] = 4 << 20, ["8mb"] = 8 << 20, ["16mb"] = 16 << 20, ["32mb"] = 32 << 20,
  ["64mb"] = 64 << 20, ["128mb"] = 128 << 20, ["256mb"] = 256 << 20,
}
--- Header size nibble for each size an image can declare (ESP32 and later).
M.SIZE_CODES = { ["1mb"] = 0, ["2mb"] = 1, ["4mb"] = 2, ["8mb"] = 3, ["16mb"] = 4,
                 ["32mb"] = 5, ["64mb"] = 6, ["128mb"] = 7, ["256mb"] = 8 }
M.SIZE_CODE_NAMES = { [0] = "1MB", "2MB", "4MB", "8MB", "16MB", "32MB", "64MB", "128MB", "256MB" }

--- The canonical lower-case name of a flash size given as "4mb", "4MB" or a
--- byte count; nil when unknown.
function M.size_name(size)
  if type(size) == "number" then
    for name, bytes in pairs(M.SIZES) do
      if bytes == size then return name end
    end
    return nil
  end
  local s = tostring(size):lower()
  return M.SIZES[s] and s or nil
end

--- Bytes of a flash size name ("4mb") or a byte count; raises
--- `espflash::invalid_flash_size` for an unknown one.
function M.size_bytes(size)
  local name = M.size_name(size)
  if not name then
    errors.raise("espflash::invalid_flash_size", ("The flash size '%s' is invalid"):format(tostring(size)),
      "The accepted values are: 256KB, 512KB, 1MB, 2MB, 4MB, 8MB, 16MB, 32MB, 64MB, 128MB, 256MB")
  end
  return M.SIZES[name]
end

--- The header size nibble for a flash size; raises for sizes images cannot
--- declare (256KB, 512KB).
function M.size_code(size)
  local name = M.size_name(size)
  local code = name and M.SIZE_CODES[name]
  if not code then
    errors.raise("espflash::invalid_flash_size",
      ("The flash size '%s' cannot be written into an image header"):format(tostring(size)),
      "Images support flash sizes from 1MB to 256MB")
  end
  return code
end

--- The header frequency nibble for `freq` ("40mhz") on `chip`; raises
--- `espflash::unsupported_flash_frequency` when the chip lacks it.
function M.freq_code(chip, freq)
  local f = tostring(freq):lower()
  local code = chip.flash_freq_codes[f]
  if not code then
    local valid = {}
    for k in pairs(chip.flash_freq_codes) do valid[#valid + 1] = k end
    table.sort(valid, function(a, b) return tonumber(a:match("%d+")) < tonumber(b:match("%d+")) end)
    errors.raise("espflash::unsupported_flash_frequency",
      ("The specified flash frequency '%s' is not supported by the %s"):format(freq, chip.name),
      "Supported frequencies: " .. table.concat(valid, ", "))
  end
  return code
end

--- The frequency name for a header nibble on `chip` ("40mhz"), or nil.
function M.freq_name(chip, code)
  for name, c in pairs(chip.flash_freq_codes) do
    if c == code then return name end
  end
  return nil
end

--- The header byte for a flash mode name; raises for unknown modes.
function M.mode_code(mode)
  local code = M.MODES[tostring(mode):lower()]
  if not code then
    errors.raise("espflash::invalid_flash_mode", ("The flash mode '%s' is invalid"):format(tostring(mode)),
      "The accepted values are: qio, qout, dio, dout")
  end
  return code
end

local XOR_WORDS = 256
local XOR_FMT = "<" .. ("j"):rep(XOR_WORDS)

--- XOR of every byte of `s`, folded into `seed` (the image checksum starts
--- at 0xEF). Works eight bytes at a time.
function M.xor(s, seed)
  local acc, n, pos = 0, #s, 1
  local whole = n - n % (8 * XOR_WORDS)
  while pos <= whole do
    local t = { string.unpack(XOR_FMT, s, pos) }
    for i = 1, XOR_WORDS do acc = acc ~ t[i] end
    pos = pos + 8 * XOR_WORDS
  end
  local x = seed or 0
  for i = 0, 7 do x = x ~ ((acc >> (8 * i)) & 0xFF) end
  for i = pos, n do x = x ~ s:byte(i) end
  return x
end

--- Decodes the header at the start of `s` (at least 24 bytes).
function M.unpack(s)
  local h = {}
  h.magic, h.segment_count, h.flash_mode, h.flash_config, h.entry,
  h.wp_pin, h.clk_q_drv, h.d_cs_drv, h.gd_wp_drv, h.chip_id, h.min_rev,
  h.min_chip_rev_full, h.max_chip_rev_full, h.reserved, h.append_digest = string.unpack(FMT, s)
  h.size_code = h.flash_config >> 4
  h.freq_code = h.flash_config & 0xF
  return h
end

--- Encodes a header table (as `unpack` returns) into 24 bytes.
function M.pack(h)
  return string.pack(FMT, h.magic, h.segment_count, h.flash_mode,
    (h.size_code << 4) | h.freq_code, h.entry, h.wp_pin, h.clk_q_drv, h.d_cs_drv,
    h.gd_wp_drv, h.chip_id, h.min_rev, h.min_chip_rev_full, h.max_chip_rev_full,
    h.reserved, h.append_digest)
end

--- Offset just past the last segment of the image in `s`, or nil and a
--- message when a segment header runs past the end.
function M.segments_end(s)
  local h = M.unpack(s)
  local pos = M.SIZE
  for i = 1, h.segment_count do
    if pos + 8 > #s then return nil, ("segment %d header lies past the end (%d bytes)"):format(i, #s) end
    local _, len = string.unpack("<I4I4", s, pos + 1)
    pos = pos + 8 + len
    if pos > #s then return nil, ("segment %d runs past the end (%d bytes)"):format(i, #s) end
  end
  return pos
end

--- Patches a bootloader image with the flash parameters: `opts.mode` (only
--- when given), `opts.size` and `opts.freq` (both required), then rewrites
--- its SHA-256 (espflash does this whatever the append_digest flag says).
--- Raises `espflash::invalid_bootloader` when `bin` is not an image.
function M.patch_bootloader(bin, chip, opts)
  local function invalid(why)
    errors.raise("espflash::invalid_bootloader", "The provided bootloader binary is invalid: " .. why,
      "Give an ESP-IDF second-stage bootloader (.bin) built for the " .. chip.name)
  end
  if #bin < M.SIZE or bin:byte(1) ~= M.MAGIC then invalid("it does not start with 0xE9") end
  local h = M.unpack(bin)
  if opts.mode then h.flash_mode = M.mode_code(opts.mode) end
  h.size_code = M.size_code(opts.size)
  h.freq_code = M.freq_code(chip, opts.freq)
  local stop, why = M.segments_end(bin)
  if not stop then invalid(why) end
  local sha_at = stop + 1
  sha_at = sha_at + (16 - sha_at % 16) % 16
  if sha_at + 32 > #bin then invalid("it is too short for its SHA-256 digest") end
  local body = M.pack(h) .. bin:sub(M.SIZE + 1, sha_at)
  return body .. core.sha256(body) .. bin:sub(sha_at + 33)
end

return M
