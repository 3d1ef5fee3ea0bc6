-- image-info: what an ESP image file holds (esptool's image_info, which
-- espflash lacks): header, extended header, segments with their memory
-- region, checksum and SHA-256 validity, and the app descriptor. Exits 1
-- when the checksum or the digest is wrong.
local errors = require("espflash.errors")
local image = require("espflash.image")
local header = require("espflash.image_header")
local plan = require("espflash.image_plan")

local function pretty_chip(name)
  return (name:upper():gsub("^ESP32(%w)", "ESP32-%1"))
end

local function hex(s)
  return (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end))
end

local function rev(v)
  return ("v%d.%d"):format(v // 100, v % 100)
end

local function section(ui, title)
  ui:print("")
  ui:print(title)
  ui:print(("="):rep(#title))
end

return {
  summary = "Show the header, segments, checksum, digest and app descriptor of an image file",
  options = {
    { "file", help = "Image file (an application or bootloader .bin, or a merged flash image)" },
    { "--offset", arg = "OFFSET", convert = "u32", default = "0",
      help = "Where the image starts in the file (e.g. 0x10000 in a merged image)" },
  },
  run = function(args, ctx)
    local ui = ctx.ui
    local bytes = errors.read_file(args.file, "image")
    if args.offset > 0 then bytes = bytes:sub(args.offset + 1) end
    local info = image.parse(bytes)
    local h, chip = info.header, info.chip
    local cname = chip and pretty_chip(chip.name) or "Unknown chip"
    ui:print(("File size: %s (bytes)"):format(plan.human_count(info.size)))
    ui:print("Detected image type: " .. cname)

    section(ui, cname .. " image header")
    ui:print("Image version: 1")
    ui:print(("Entry point: 0x%08x"):format(h.entry))
    ui:print("Segments: " .. h.segment_count)
    ui:print("Flash size: " .. (header.SIZE_CODE_NAMES[h.size_code] or ("unknown (0x%x)"):format(h.size_code)))
    local freq = chip and header.freq_name(chip, h.freq_code)
    ui:print("Flash freq: " .. (freq and freq:upper():gsub("MHZ", "MHz") or ("unknown (0x%x)"):format(h.freq_code)))
    ui:print("Flash mode: " .. (header.MODE_NAMES[h.flash_mode] or ("unknown (%d)"):format(h.flash_mode)))

    section(ui, cname .. " extended image header")
    ui:print(("WP pin: 0x%02x%s"):format(h.wp_pin, h.wp_pin == header.WP_PIN_DISABLED and " (disabled)" or ""))
    ui:print(("Flash pins drive settings: clk_drv: 0x%x, q_drv: 0x%x, d_drv: 0x%x, cs0_drv: 0x%x, "
      .. "hd_drv: 0x%x, wp_drv: 0x%x"):format(h.clk_q_drv & 0xF, h.clk_q_drv >> 4, h.d_cs_drv & 0xF,
      h.d_cs_drv >> 4, h.gd_wp_drv & 0xF, h.gd_wp_drv >> 4))
    ui:print(("Chip ID: %d (%s)"):format(h.chip_id, cname))
    ui:print(("Minimal chip revision: %s, (legacy min_rev = %d)"):format(rev(h.min_chip_rev_full), h.min_rev))
    ui:print("Maximal chip revision: " .. rev(h.max_chip_rev_full))
    ui:print("Hash appended: " .. (h.append_digest == 1 and "yes" or "no"))

    section(ui, "Segments information")
    ui:print("Segment   Length   Load addr   File offs  Memory types")
    ui:print("-------  -------  ----------  ----------  ------------")
    local misaligned = 0
    for i, s in ipairs(info.segments) do
      local note = ""
      if s.aligned == false then note, misaligned = "  (NOT aligned to the MMU page)", misaligned + 1 end
      ui:print(("%7d  0x%05x  0x%08x  0x%08x  %s%s"):format(i - 1, s.length, s.addr, s.offset,
        s.region or "?", note))
    end
    ui:print(("MMU page size: %d KB; flash-mapped segments %s"):format(info.mmu_page_size // 1024,
      misaligned == 0 and "aligned" or "NOT aligned"))

    section(ui, cname .. " image footer")
    local c = info.checksum
    ui:print(("Checksum: 0x%02x (%s)"):format(c.stored, c.valid and "valid"
      or ("invalid - calculated 0x%02x"):format(c.computed)))
    local d = info.digest
    if d then
      ui:print(("Validation hash: %s (%s)"):format(hex(d.stored), d.valid and "valid"
        or ("invalid - calculated %s"):format(hex(d.computed))))
    end
    if info.extra > 0 then ui:print(("Bytes after the image: %s"):format(plan.human_count(info.extra))) end

    local a = info.app_desc
    if a then
      section(ui, "Application information")
      ui:print("Project name: " .. a.project_name)
      ui:print("App version: " .. a.version)
      ui:print("Compile time: " .. a.date .. " " .. a.time)
      ui:print("ELF file SHA256: " .. hex(a.app_elf_sha256))
      ui:print("ESP-IDF: " .. a.idf_ver)
      ui:print(("Minimal eFuse block revision: %d.%d"):format(a.min_efuse_blk_rev_full // 100,
        a.min_efuse_blk_rev_full % 100))
      ui:print(("Maximal eFuse block revision: %d.%d"):format(a.max_efuse_blk_rev_full // 100,
        a.max_efuse_blk_rev_full % 100))
      if a.mmu_page_size then ui:print(("MMU page size: %d KB"):format(a.mmu_page_size // 1024)) end
      ui:print("Secure version: " .. a.secure_version)
    end
    if not c.valid or (d and not d.valid) or misaligned > 0 then
      ui:warn("The image is damaged: see the invalid fields above")
      return 1
    end
  end,
}
