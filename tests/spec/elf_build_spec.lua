-- ELF reading, metadata, app descriptors and image building on small ELFs
-- written by tests/fixtures/firmware.lua, so this runs without ../shared/testdata.
local core = require("espflash.core")
local elfmod = require("espflash.elf")
local image = require("espflash.image")
local header = require("espflash.image_header")
local appdesc = require("espflash.image_appdesc")

local fw = require("fixtures.firmware")
local build_elf, write_tmp, desc_bytes = fw.build_elf, fw.write_tmp, fw.desc_bytes
local fake_bootloader, c3_elf = fw.fake_bootloader, fw.c3_elf

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
