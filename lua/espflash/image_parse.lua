--- Reading an ESP image back: the header, the extended header, the segments,
--- whether the checksum and the appended SHA-256 are right, and the app
--- descriptor when the first segment starts with one (what esptool's
--- image_info reports).
local core = require("espflash.core")
local errors = require("espflash.errors")
local chips = require("espflash.chips")
local header = require("espflash.image_header")
local memory = require("espflash.image_memory")
local appdesc = require("espflash.image_appdesc")

local M = {}

local CHECKSUM_SEED = 0xEF

local function invalid(fmt, ...)
  errors.raise("espflash::invalid_image", "Not a valid ESP image: " .. fmt:format(...),
    "Give an application or bootloader image (.bin) as written by save-image or ESP-IDF")
end

--- Parses `bytes`. `opts.chip` (name or table) names the memory regions;
--- without it the chip is looked up by the header's chip id. Raises
--- `espflash::invalid_image` for data that is not an image or is cut short;
--- a wrong checksum or digest is reported, not raised. Returns
--- `{size, header, chip, segments = {{addr, length, offset, region, flash,
--- aligned}}, checksum = {stored, computed, valid}, digest = {stored,
--- computed, valid} | nil, app_desc | nil, image_end, extra}`.
function M.parse(bytes, opts)
  opts = opts or {}
  if #bytes < header.SIZE then invalid("%d bytes, shorter than the 24-byte header", #bytes) end
  if bytes:byte(1) ~= header.MAGIC then
    invalid("the first byte is 0x%02x, an image starts with 0xE9", bytes:byte(1))
  end
  local h = header.unpack(bytes)
  local chip = opts.chip
  if type(chip) == "string" then chip = chips.get(chip) end
  chip = chip or chips.by_chip_id(h.chip_id)

  local segments, data_parts = {}, {}
  local pos = header.SIZE
  for i = 1, h.segment_count do
    if pos + 8 > #bytes then invalid("segment %d header at 0x%x lies past the end (%d bytes)", i, pos, #bytes) end
    local addr, len = string.unpack("<I4I4", bytes, pos + 1)
    if pos + 8 + len > #bytes then
      invalid("segment %d (0x%x bytes at 0x%x) runs past the end (%d bytes)", i, len, pos + 8, #bytes)
    end
    local seg = { addr = addr, length = len, offset = pos + 8 }
    if chip then
      seg.region = memory.region_name(chip, addr)
      seg.flash = addr ~= 0 and memory.is_flash(chip, addr)
    end
    segments[i] = seg
    data_parts[i] = bytes:sub(pos + 9, pos + 8 + len)
    pos = pos + 8 + len
  end

  local cs_at = pos + (15 - pos % 16)          -- 0-based offset of the checksum byte
  if cs_at >= #bytes then invalid("the checksum byte at 0x%x lies past the end (%d bytes)", cs_at, #bytes) end
  local computed = CHECKSUM_SEED
  for _, d in ipairs(data_parts) do computed = header.xor(d, computed) end
  local stored = bytes:byte(cs_at + 1)
  local info = {
    size = #bytes, header = h, chip = chip, segments = segments,
    checksum = { stored = stored, computed = computed, valid = stored == computed },
    image_end = cs_at + 1,
  }
  if h.append_digest == 1 then
    if cs_at + 33 > #bytes then invalid("the SHA-256 digest after 0x%x is cut short", cs_at + 1) end
    local want = bytes:sub(cs_at + 2, cs_at + 33)
    local got = core.sha256(bytes:sub(1, cs_at + 1))
    info.digest = { stored = want, computed = got, valid = want == got }
    info.image_end = cs_at + 33
  end
  info.extra = #bytes - info.image_end

  local first = data_parts[1]
  if first and #first >= appdesc.SIZE and string.unpack("<I4", first) == appdesc.MAGIC then
    info.app_desc = appdesc.parse(first)
  end
  -- The page size: the descriptor's, else the largest valid one that every
  -- flash segment is aligned to.
  local valid = chip and chip.mmu_page_sizes or { 0x10000 }
  local page = info.app_desc and info.app_desc.mmu_page_size
  if not page then
    for i = #valid, 1, -1 do
      local ok = true
      for _, seg in ipairs(segments) do
        if seg.flash and seg.offset % valid[i] ~= seg.addr % valid[i] then ok = false end
      end
      if ok then page = valid[i]; break end
    end
  end
  info.mmu_page_size = page or valid[#valid]
  for _, seg in ipairs(segments) do
    if seg.flash then seg.aligned = seg.offset % info.mmu_page_size == seg.addr % info.mmu_page_size end
  end
  return info
end

return M
