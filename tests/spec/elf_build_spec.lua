-- ELF reading, metadata, app descriptors and image building on small ELFs
-- written by the spec itself, so this runs without ../shared/testdata.
local core = require("espflash.core")
local elfmod = require("espflash.elf")
local image = require("espflash.image")
local header = require("espflash.image_header")
local appdesc = require("espflash.image_appdesc")

-- A minimal ELF32 little-endian writer: sections (PROGBITS/NOBITS with
-- bytes), a symbol table and the section name table.
local function build_elf(t)
  local shstr, strtab = { "\0" }, { "\0" }
  local shstr_len, strtab_len = 1, 1
  local function add(list, name, len)
    list[#list + 1] = name .. "\0"
    return len, len + #name + 1
  end
  local secs = {}
  for i, s in ipairs(t.sections) do
    local off
    off, shstr_len = add(shstr, s.name, shstr_len)
    secs[i] = { name_off = off, s = s }
  end
  local symtab_name, strtab_name, shstrtab_name
  symtab_name, shstr_len = add(shstr, ".symtab", shstr_len)
  strtab_name, shstr_len = add(shstr, ".strtab", shstr_len)
  shstrtab_name, shstr_len = add(shstr, ".shstrtab", shstr_len)
  local index = {}
  for i, s in ipairs(t.sections) do index[s.name] = i end
  local syms = { ("\0"):rep(16) }
  for _, sym in ipairs(t.symbols or {}) do
    local off
    off, strtab_len = add(strtab, sym.name, strtab_len)
    local kind = ({ NOTYPE = 0, OBJECT = 1, FUNC = 2 })[sym.type or "OBJECT"]
    syms[#syms + 1] = string.pack("<I4I4I4BBI2", off, sym.value, sym.size, (1 << 4) | kind, 0,
      sym.section and index[sym.section] or 0xFFF1)
  end
  local body, pos = {}, 52
  local function place(data)
    local at = pos
    body[#body + 1] = data
    pos = pos + #data
    return at
  end
  local headers = { ("\0"):rep(40) }
  for _, e in ipairs(secs) do
    local s = e.s
    local data = s.data or ""
    local off = (s.type == "NOBITS") and pos or place(data)
    local typ = ({ PROGBITS = 1, NOBITS = 8, INIT_ARRAY = 14 })[s.type or "PROGBITS"]
    headers[#headers + 1] = string.pack("<I4I4I4I4I4I4I4I4I4I4", e.name_off, typ, s.flags or 0,
      s.addr or 0, off, s.size or #data, 0, 0, 4, 0)
  end
  local nsec = #t.sections
  local symtab_off = place(table.concat(syms))
  local strtab_off = place(table.concat(strtab))
  local shstr_off = place(table.concat(shstr))
  headers[#headers + 1] = string.pack("<I4I4I4I4I4I4I4I4I4I4", symtab_name, 2, 0, 0, symtab_off,
    #syms * 16, nsec + 2, 1, 4, 16)
  headers[#headers + 1] = string.pack("<I4I4I4I4I4I4I4I4I4I4", strtab_name, 3, 0, 0, strtab_off,
    strtab_len, 0, 0, 1, 0)
  headers[#headers + 1] = string.pack("<I4I4I4I4I4I4I4I4I4I4", shstrtab_name, 3, 0, 0, shstr_off,
    shstr_len, 0, 0, 1, 0)
  local shoff = pos
  local ehdr = "\127ELF\1\1\1" .. ("\0"):rep(9) .. string.pack("<I2I2I4I4I4I4I4I2I2I2I2I2I2",
    2, t.machine or 243, 1, t.entry or 0, 0, shoff, 0, 52, 32, 0, 40, #headers, #headers - 1)
  return ehdr .. table.concat(body) .. table.concat(headers)
end

local function write_tmp(data)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
  return path
end

-- An app descriptor with the given project name and mmu page (log2).
local function desc_bytes(name, mmu_log2)
  local d = string.pack("<I4I4I4I4", appdesc.MAGIC, 7, 0, 0) .. ("1.2.3"):rep(1) .. ("\0"):rep(27)
    .. name .. ("\0"):rep(32 - #name) .. ("12:00:00\0"):rep(1) .. ("\0"):rep(7)
    .. "Jan  1 2025" .. ("\0"):rep(5) .. "v5.5" .. ("\0"):rep(28) .. ("\0"):rep(32)
    .. string.pack("<I2I2B", 0, 99, mmu_log2 or 0) .. ("\0"):rep(3 + 72)
  assert(#d == 256)
  return d
end

-- A bootloader-like image: header, one RAM segment, checksum, SHA-256.
local function fake_bootloader(chip_id)
  local seg = ("\x13\x00\x00\x00"):rep(8)
  local h = header.pack({ magic = 0xE9, segment_count = 1, flash_mode = 2, size_code = 2, freq_code = 0,
    entry = 0x403C0000, wp_pin = 0xEE, clk_q_drv = 0, d_cs_drv = 0, gd_wp_drv = 0, chip_id = chip_id,
    min_rev = 3, min_chip_rev_full = 3, max_chip_rev_full = 199, reserved = "\0\0\0\0", append_digest = 1 })
  local body = h .. string.pack("<I4I4", 0x403C0000, #seg) .. seg
  body = body .. ("\0"):rep(15 - #body % 16)
  body = body .. string.char(header.xor(seg, 0xEF))
  return body .. core.sha256(body)
end

local function c3_elf(opts)
  opts = opts or {}
  local text = ("\x01\x02\x03\x04"):rep(opts.text_words or 100)
  local rodata = ("R"):rep(opts.rodata_len or 0x40)
  local sections = {
    { name = ".flash.appdesc", flags = 2, addr = 0x3C000020, data = desc_bytes("demo", opts.mmu_log2) },
    { name = ".flash.rodata", flags = 2, addr = 0x3C000120, data = rodata },
    { name = ".iram0.text", flags = 6, addr = 0x40380000, data = ("I"):rep(opts.iram_len or 0x200) },
    { name = ".dram0.data", flags = 3, addr = 0x3FC80000, data = ("D"):rep(0x30) },
    { name = ".dram0.bss", type = "NOBITS", flags = 3, addr = 0x3FC80030, size = 0x100 },
    { name = ".flash.text", flags = 6, addr = opts.text_addr or 0x42010020, data = text },
    { name = ".espressif.metadata", flags = 0, addr = 0, data = "esp32c3serial300" .. "\x2c\x01" },
  }
  for _, s in ipairs(opts.extra or {}) do sections[#sections + 1] = s end
  return build_elf({
    entry = 0x42010020,
    sections = sections,
    symbols = {
      { name = "build_info.CHIP_NAME", value = 0, size = 7, section = ".espressif.metadata" },
      { name = "espflash.LOG_FORMAT", value = 7, size = 6, section = ".espressif.metadata" },
      { name = "build_info.MIN_CHIP_REVISION", value = opts.rev_binary and 16 or 13,
        size = opts.rev_binary and 2 or 3, section = ".espressif.metadata" },
      { name = "main", value = 0x42010020, size = 16, section = ".flash.text", type = "FUNC" },
    },
  })
end

describe("core.elf_read on a written ELF", function()
  it("returns the sections, their bytes and the symbols that were written", function()
    local path = write_tmp(c3_elf())
    local e = assert(core.elf_read(path))
    os.remove(path)
    assert.are.equal(32, e.class)
    assert.are.equal(243, e.machine)
    assert.are.equal(0x42010020, e.entry)
    local by = {}
    for _, s in ipairs(e.sections) do by[s.name] = s end
    assert.are.equal("PROGBITS", by[".flash.text"].type)
    assert.are.equal(("\x01\x02\x03\x04"):rep(100), by[".flash.text"].data)
    assert.are.equal("NOBITS", by[".dram0.bss"].type)
    assert.is_nil(by[".dram0.bss"].data)
    assert.are.equal(0x100, by[".dram0.bss"].size)
    local names = {}
    for _, s in ipairs(e.symbols) do names[s.name] = s end
    assert.are.equal("FUNC", names.main.type)
    assert.are.equal(by[".flash.text"].index, names.main.section)
  end)

  it("fails without crashing on every truncation of the file", function()
    local data = c3_elf()
    for n = 0, #data - 1, 7 do
      local path = write_tmp(data:sub(1, n))
      local t, msg, code = core.elf_read(path)
      os.remove(path)
      assert.is_nil(t, "cut at " .. n)
      assert.is_string(msg)
      assert.is_truthy(code == "ELF" or code == "FILE")
    end
  end)
end)

describe("espflash.elf", function()
  it("reads chip name, log format and the minimum revision from the metadata", function()
    for _, binary in ipairs({ false, true }) do
      local path = write_tmp(c3_elf({ rev_binary = binary }))
      local e = elfmod.load(path)
      os.remove(path)
      local md = e:metadata()
      assert.are.equal("esp32c3", md.chip_name)
      assert.are.equal("serial", md.log_format)
      assert.are.equal(300, md.min_chip_revision)
    end
  end)

  it("finds and parses the app descriptor", function()
    local path = write_tmp(c3_elf())
    local e = elfmod.load(path)
    os.remove(path)
    assert.are.equal(".flash.appdesc", e:app_descriptor_location().source)
    local d = assert(e:app_descriptor())
    assert.are.equal("demo", d.project_name)
    assert.are.equal(7, d.secure_version)
  end)

  it("raises espflash::invalid_elf for a file that is not an ELF", function()
    local path = write_tmp("hello")
    local ok, err = pcall(elfmod.load, path)
    os.remove(path)
    assert.is_false(ok)
    assert.are.equal("espflash::invalid_elf", err.code)
  end)
end)

describe("image.from_elf on a written ELF", function()
  local function build(opts, image_opts)
    local path = write_tmp(c3_elf(opts))
    local e = elfmod.load(path)
    local o = { chip = "esp32c3", bootloader = fake_bootloader(5) }
    for k, v in pairs(image_opts or {}) do o[k] = v end
    local img = image.from_elf(e, o)
    os.remove(path)
    return img, e
  end

  it("produces an image whose checksum, digest and header check out", function()
    local img, e = build()
    local info = image.parse(img.data)
    assert.is_true(info.checksum.valid)
    assert.is_true(info.digest.valid)
    assert.are.equal(5, info.header.chip_id)
    assert.are.equal(0x42010020, info.header.entry)
    assert.are.equal(300, info.header.min_chip_rev_full)   -- from the metadata
    assert.are.equal(3, info.header.min_rev)               -- inherited from the bootloader
    assert.are.equal(199, info.header.max_chip_rev_full)
    assert.are.equal(#info.segments, info.header.segment_count)
    assert.are.equal(e:sha256(), info.app_desc.app_elf_sha256)
  end)

  it("puts the descriptor first and flash data at offsets congruent to their addresses", function()
    local img = build()
    local info = image.parse(img.data)
    assert.are.equal(0x3C000020, info.segments[1].addr)
    assert.are.equal(0x20, info.segments[1].offset)
    for _, s in ipairs(info.segments) do
      if s.flash then assert.are.equal(s.addr % 0x10000, s.offset % 0x10000) end
    end
  end)

  it("fills the alignment gap with RAM data first and pads only the rest", function()
    local img = build()
    local kinds = {}
    for _, s in ipairs(img.segments) do kinds[#kinds + 1] = s.kind end
    -- desc+rodata, RAM filler (IRAM then DRAM), a padding segment, then .text
    assert.are.same({ "flash", "ram", "ram", "padding", "flash" }, kinds)
  end)

  it("carries every loadable section's bytes at its address", function()
    local img, e = build()
    local info = image.parse(img.data)
    for _, sec in ipairs(e:loadable_sections()) do
      local found = false
      for _, seg in ipairs(info.segments) do
        if sec.addr >= seg.addr and sec.addr + #sec.data <= seg.addr + seg.length then
          local at = seg.offset + (sec.addr - seg.addr)
          local want = sec.data
          if sec.name == ".flash.appdesc" then want = appdesc.with_sha256(want, 1, e:sha256()) end
          assert.are.equal(want, img.data:sub(at + 1, at + #sec.data), sec.name)
          found = true
        end
      end
      assert.is_true(found, sec.name .. " missing")
    end
  end)

  it("extends a flash segment ending just past a page boundary to 0x24 bytes past it", function()
    -- .flash.text of 0x10000 - 0x20 + 4 bytes ends 4 bytes past the page boundary
    local img = build({ text_words = (0x10000 - 0x20 + 4) // 4 })
    local last
    for _, s in ipairs(img.segments) do if s.kind == "flash" then last = s end end
    assert.are.equal(0x24, (last.offset + last.length) % 0x10000)
  end)

  it("takes the MMU page size from the descriptor, then from --mmu-page-size", function()
    assert.are.equal(0x10000, build().mmu_page_size)
    local ok, err = pcall(build, { mmu_log2 = 13 })    -- 8 KiB: not an ESP32-C3 page size
    assert.is_false(ok)
    assert.are.equal("espflash::invalid_app_descriptor_alignment", err.code)
    ok, err = pcall(build, nil, { mmu_page_size = 0x4000 })
    assert.is_false(ok)
    assert.are.equal("espflash::invalid_app_descriptor_alignment", err.code)
  end)

  it("patches flash mode, size and frequency into the header", function()
    local img = build(nil, { flash_mode = "qio", flash_size = "16mb", flash_freq = "80mhz" })
    local h = image.parse(img.data).header
    assert.are.equal(0, h.flash_mode)
    assert.are.equal(4, h.size_code)
    assert.are.equal(0xF, h.freq_code)
  end)

  it("refuses overlapping sections with a clear error", function()
    local ok, err = pcall(build, { extra = {
      { name = ".clash", flags = 2, addr = 0x3C000100, data = ("X"):rep(0x40) } } })
    assert.is_false(ok)
    assert.are.equal("espflash::invalid_elf", err.code)
    assert.matches("overlaps", err.message)
  end)

  it("refuses an ELF for another architecture", function()
    local path = write_tmp(build_elf({ machine = 62, entry = 0x1000,
      sections = { { name = ".text", flags = 6, addr = 0x1000, data = "\xC3\0\0\0" } } }))
    local ok, err = pcall(image.from_elf, path, { chip = "esp32c3", bootloader = fake_bootloader(5) })
    os.remove(path)
    assert.is_false(ok)
    assert.are.equal("espflash::invalid_elf", err.code)
    assert.matches("machine 62", err.message)
  end)

  it("refuses a bootloader that is not an image", function()
    local path = write_tmp(c3_elf())
    local ok, err = pcall(image.from_elf, path, { chip = "esp32c3", bootloader = "\0\0\0" })
    os.remove(path)
    assert.is_false(ok)
    assert.are.equal("espflash::invalid_bootloader", err.code)
  end)
end)

describe("image_header.patch_bootloader", function()
  it("rewrites mode, size and frequency and keeps the digest valid", function()
    local chip = require("espflash.chips").get("esp32c3")
    local boot = fake_bootloader(5)
    local patched = header.patch_bootloader(boot, chip, { mode = "dout", size = "8mb", freq = "20mhz" })
    assert.are.equal(#boot, #patched)
    local info = image.parse(patched)
    assert.is_true(info.digest.valid)
    assert.are.equal(3, info.header.flash_mode)
    assert.are.equal(3, info.header.size_code)
    assert.are.equal(2, info.header.freq_code)
    -- without a mode the bootloader's own stays
    local kept = image.parse(header.patch_bootloader(boot, chip, { size = "4mb", freq = "40mhz" }))
    assert.are.equal(2, kept.header.flash_mode)
  end)
end)
