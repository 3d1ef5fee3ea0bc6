--- ESP-IDF application images: building one from an ELF (reference §4.1-4.4,
--- byte for byte what espflash writes) and reading one back (`image.parse`).
local core = require("espflash.core")
local errors = require("espflash.errors")
local chips = require("espflash.chips")
local elfmod = require("espflash.elf")
local header = require("espflash.image_header")
local memory = require("espflash.image_memory")
local appdesc = require("espflash.image_appdesc")

local M = {}

local SEG_HEADER_LEN = 8
local DEFAULT_PAGE = 0x10000
local CHECKSUM_SEED = 0xEF

--- The chip table for a name or a table; raises a usage error for unknown names.
function M.chip(chip)
  if type(chip) == "table" then return chip end
  local t, msg = chips.get(chip)
  if not t then errors.usage(msg) end
  return t
end

-- A segment is {addr, parts = {strings}, size}: appending never copies.
local function segment(addr, data)
  return { addr = addr, parts = { data }, size = #data }
end

local function append(seg, data)
  seg.parts[#seg.parts + 1] = data
  seg.size = seg.size + #data
end

local function bytes_of(seg)
  if #seg.parts > 1 then seg.parts = { table.concat(seg.parts) } end
  return seg.parts[1] or ""
end

-- Sorts by address, merges contiguous sections (and those separated only by
-- the previous one's 4-byte alignment gap), then pads each to 4 bytes.
local function merge(sections)
  table.sort(sections, function(a, b) return a.addr < b.addr end)
  local out = {}
  for _, s in ipairs(sections) do
    local last = out[#out]
    local last_end = last and last.addr + last.size
    if last and s.addr < last_end then
      errors.raise("espflash::invalid_elf",
        ("Supplied ELF image is not valid: section %s at 0x%08x overlaps the bytes before it (up to 0x%08x)")
          :format(s.name, s.addr, last_end), "Check the linker script")
    elseif last and s.addr <= last_end + (4 - last_end % 4) % 4 then
      append(last, ("\0"):rep(s.addr - last_end))
      append(last, s.data)
    else
      out[#out + 1] = segment(s.addr, s.data)
    end
  end
  for _, seg in ipairs(out) do
    if seg.size % 4 ~= 0 then append(seg, ("\0"):rep(4 - seg.size % 4)) end
  end
  return out
end

-- Bytes of padding (data length of a padding segment) needed before `seg`
-- so that its data lands at a file offset congruent to its address.
local function segment_padding(offset, seg, page)
  local align_past = (seg.addr - SEG_HEADER_LEN) % page
  local pad = ((page - offset % page) + align_past) % page
  if pad == 0 then return 0 end
  if pad > SEG_HEADER_LEN then return pad - SEG_HEADER_LEN end
  return pad + page - SEG_HEADER_LEN
end

-- The MMU page size: --mmu-page-size, else the descriptor's value, else
-- inferred from the descriptor's address, else 64 KiB; must be valid.
local function mmu_page_size(chip, opts, desc, desc_addr)
  local valid = chip.mmu_page_sizes or { DEFAULT_PAGE }
  local list = {}
  for i, v in ipairs(valid) do list[i] = ("0x%x"):format(v) end
  local page = opts.mmu_page_size
  if not page and desc then
    if desc.mmu_page_size then
      page = desc.mmu_page_size
    else
      for i = #valid, 1, -1 do
        if (desc_addr - 32) % valid[i] == 0 then page = valid[i]; break end
      end
      if not page then
        errors.raise("espflash::invalid_app_descriptor_alignment",
          ("The app description segment is not aligned to any valid MMU page size (it is at 0x%08x; %s supports %s)")
            :format(desc_addr, chip.name, table.concat(list, ", ")),
          "Try specifying the MMU page size manually.")
      end
    end
  end
  page = page or DEFAULT_PAGE
  for _, v in ipairs(valid) do
    if v == page then return page end
  end
  errors.raise("espflash::invalid_app_descriptor_alignment",
    ("MMU page size 0x%x is not supported by the %s (supported: %s)"):format(page, chip.name,
      table.concat(list, ", ")), opts.mmu_page_size and "Give one of the supported sizes to --mmu-page-size"
      or "Try specifying the MMU page size manually.")
end

-- Rotates the flash segment holding the descriptor to the front, reads the
-- descriptor and writes the ELF's SHA-256 into it. Returns desc, addr.
local function place_descriptor(elf, flash)
  local loc = elf:app_descriptor_location()
  if not loc then return nil end
  for i, seg in ipairs(flash) do
    if loc.addr >= seg.addr and loc.addr + appdesc.SIZE <= seg.addr + seg.size then
      table.remove(flash, i)
      table.insert(flash, 1, seg)
      local data, pos = bytes_of(seg), loc.addr - seg.addr + 1
      local desc, msg = appdesc.parse(data, pos)
      if not desc then
        errors.raise("espflash::invalid_app_descriptor", msg,
          "The ELF's " .. loc.source .. " does not hold an esp_app_desc_t")
      end
      seg.parts = { appdesc.with_sha256(data, pos, elf:sha256()) }
      desc.app_elf_sha256 = elf:sha256()
      return desc, loc.addr
    end
  end
  return nil
end

-- The image writer: header bytes, then segments; tracks checksum and layout.
local function writer(first)
  local w = { parts = { first }, len = #first, checksum = CHECKSUM_SEED, segments = {} }
  function w.put(addr, data, kind)
    local pad = (4 - #data % 4) % 4
    w.parts[#w.parts + 1] = string.pack("<I4I4", addr, #data + pad)
    w.parts[#w.parts + 1] = data
    if pad > 0 then w.parts[#w.parts + 1] = ("\0"):rep(pad) end
    w.segments[#w.segments + 1] = { addr = addr, length = #data + pad, offset = w.len + 8, kind = kind }
    w.len = w.len + 8 + #data + pad
    w.checksum = header.xor(data, w.checksum)
  end
  return w
end

--- Builds the application image of an ELF (a path or an `espflash.elf`
--- object). Options: `chip` (name or table, required), `bootloader` (the
--- bootloader's bytes: the header is copied from it, required), `flash_mode`,
--- `flash_size` (default "4mb"), `flash_freq` (default the chip's),
--- `min_chip_rev` (major*100+minor, default 0; raised to the ELF metadata's),
--- `mmu_page_size`. Returns `{data, segments = {{addr, length, offset, kind}},
--- entry, mmu_page_size, app_desc, min_chip_rev, chip}`.
function M.from_elf(elf, opts)
  local chip = M.chip(opts.chip)
  if type(elf) == "string" then elf = elfmod.load(elf) end
  if elf.class ~= 32 or not elfmod.MACHINES[elf.machine] then
    errors.raise("espflash::invalid_elf",
      ("Supplied ELF image is not valid: %s is a %d-bit ELF for %s, not an Xtensa or RISC-V firmware")
        :format(elf.path, elf.class, elf:arch()), "Give the ELF file your firmware build produced")
  end
  local want = chip.targets and chip.targets[1] and (chip.targets[1]:match("^xtensa") and "Xtensa" or "RISC-V")
  if want and elf:arch() ~= want then
    errors.raise("espflash::invalid_elf",
      ("Supplied ELF image is not valid: %s is built for %s, but the %s is %s chip")
        :format(elf.path, elf:arch(), chip.name, want == "Xtensa" and "an Xtensa" or "a RISC-V"),
      ("Give --chip for the chip the firmware was built for, or build it for the %s (target %s)")
        :format(chip.name, chip.targets[1]))
  end
  local boot = opts.bootloader
  if type(boot) ~= "string" or #boot < header.SIZE or boot:byte(1) ~= header.MAGIC then
    errors.raise("espflash::invalid_bootloader", "The provided bootloader binary is invalid",
      "Give an ESP-IDF second-stage bootloader (.bin) built for the " .. chip.name)
  end
  local md = elf:metadata()
  local min_rev = math.max(opts.min_chip_rev or 0, md.min_chip_revision or 0)

  local h = header.unpack(boot)
  if opts.flash_mode then h.flash_mode = header.mode_code(opts.flash_mode) end
  h.size_code = header.size_code(opts.flash_size or "4mb")
  h.freq_code = header.freq_code(chip, opts.flash_freq or chip.default_flash_freq)
  h.entry = elf.entry
  h.wp_pin = header.WP_PIN_DISABLED
  h.chip_id = chip.chip_id
  h.min_chip_rev_full = min_rev
  h.append_digest = 1

  local flash_secs, ram_secs = {}, {}
  for _, s in ipairs(elf:loadable_sections()) do
    local list = memory.is_flash(chip, s.addr) and flash_secs or ram_secs
    list[#list + 1] = s
  end
  local flash, ram = merge(flash_secs), merge(ram_secs)
  local desc, desc_addr = place_descriptor(elf, flash)
  local page = mmu_page_size(chip, opts, desc, desc_addr)

  local w = writer(header.pack(h))
  for _, seg in ipairs(flash) do
    for _ = 1, 64 do
      local pad = segment_padding(w.len, seg, page)
      if pad == 0 then break end
      if pad > SEG_HEADER_LEN and ram[1] then
        local r = ram[1]
        local data = bytes_of(r)
        w.put(r.addr, data:sub(1, pad), "ram")
        if pad >= #data then
          table.remove(ram, 1)
        else
          r.parts, r.addr, r.size = { data:sub(pad + 1) }, r.addr + pad, #data - pad
        end
      else
        w.put(0, ("\0"):rep(pad), "padding")
      end
    end
    local data = bytes_of(seg)
    local rem = (w.len + #data + SEG_HEADER_LEN) % page
    if rem < 0x24 then data = data .. ("\0"):rep(0x24 - rem) end
    if (w.len + SEG_HEADER_LEN) % page ~= seg.addr % page then
      errors.raise("espflash::invalid_elf",
        ("Cannot place the flash segment at 0x%08x on an MMU page boundary"):format(seg.addr),
        "Flash-mapped sections must start at 4-byte aligned addresses")
    end
    w.put(seg.addr, data, "flash")
  end
  for _, r in ipairs(ram) do w.put(r.addr, bytes_of(r), "ram") end

  if #w.segments > 255 then
    errors.raise("espflash::invalid_elf", ("The image would have %d segments (at most 255)"):format(#w.segments))
  end
  w.parts[#w.parts + 1] = ("\0"):rep(15 - w.len % 16)
  w.parts[#w.parts + 1] = string.char(w.checksum)
  local head = w.parts[1]
  w.parts[1] = head:sub(1, 1) .. string.char(#w.segments) .. head:sub(3)
  local data = table.concat(w.parts)
  data = data .. core.sha256(data)

  return {
    data = data, segments = w.segments, entry = elf.entry, mmu_page_size = page,
    app_desc = desc, min_chip_rev = min_rev, chip = chip, elf = elf,
  }
end

--- Parses an image file's bytes: header, extended header, segments,
--- checksum and digest validity, app descriptor. See espflash.image_parse.
function M.parse(bytes, opts)
  return require("espflash.image_parse").parse(bytes, opts)
end

return M
