-- Images of the real test ELFs (../shared/testdata) with each chip's real
-- bootloader: validity, segment mapping (reference §4), MMU alignment,
-- merged layout (§4.10), bootloader patching.
local core = require("espflash.core")
local chips = require("espflash.chips")
local elfmod = require("espflash.elf")
local image = require("espflash.image")
local header = require("espflash.image_header")
local memory = require("espflash.image_memory")
local appdesc = require("espflash.image_appdesc")
local plan_mod = require("espflash.image_plan")
local partitions = require("espflash.partitions")

local files = require("helpers.files")

local TD, no_testdata = files.env_dir("ESPFLASH_TESTDATA", "elf/esp32c3.elf")
if not TD then
  describe("images of the test ELFs", function() pending(no_testdata .. ": skipping the testdata image specs") end)
  return
end

local read = files.read

local ELFS = { "esp32", "esp32c2", "esp32c3", "esp32c6", "esp32c6_backtrace", "esp32c6_defmt",
               "esp32h2", "esp32s2", "esp32s3" }

local function chip_of(name) return chips.get(name:match("^(esp32%w*)")) end
local function bootloader_of(chip) return read(TD .. "/bootloaders/" .. chip.name .. "-bootloader.bin") end

describe("image.from_elf with the test ELFs", function()
  for _, name in ipairs(ELFS) do
    it(name .. ".elf gives a valid image mapping every loadable section", function()
      local chip = chip_of(name)
      local elf = elfmod.load(TD .. "/elf/" .. name .. ".elf")
      local img = image.from_elf(elf, { chip = chip, bootloader = bootloader_of(chip) })
      local info = image.parse(img.data, { chip = chip })
      assert.is_true(info.checksum.valid, "checksum")
      assert.is_true(info.digest.valid, "digest")
      assert.are.equal(chip.chip_id, info.header.chip_id)
      assert.are.equal(elf.entry, info.header.entry)
      assert.are.equal(0, info.extra)
      -- every section's bytes at its address; flash ones page-congruent
      for _, sec in ipairs(elf:loadable_sections()) do
        local hits = 0
        for _, seg in ipairs(info.segments) do
          if seg.addr ~= 0 and sec.addr >= seg.addr and sec.addr + #sec.data <= seg.addr + seg.length then
            local at = seg.offset + sec.addr - seg.addr
            local want = sec.data
            local loc = elf:app_descriptor_location()
            if loc and loc.addr >= sec.addr and loc.addr < sec.addr + #sec.data then
              want = appdesc.with_sha256(want, loc.addr - sec.addr + 1, elf:sha256())
            end
            assert.are.equal(want, img.data:sub(at + 1, at + #sec.data), sec.name)
            hits = hits + 1
          end
        end
        if memory.is_flash(chip, sec.addr) then
          assert.are.equal(1, hits, sec.name .. " must lie in one flash segment")
        else
          -- a RAM section may be split into filler chunks; its bytes must all be there
          local covered = 0
          for _, seg in ipairs(info.segments) do
            local lo = math.max(seg.addr, sec.addr)
            local hi = math.min(seg.addr + seg.length, sec.addr + #sec.data)
            if seg.addr ~= 0 and hi > lo then
              covered = covered + hi - lo
              local want = sec.data:sub(lo - sec.addr + 1, hi - sec.addr)
              local at = seg.offset + lo - seg.addr
              assert.are.equal(want, img.data:sub(at + 1, at + #want), sec.name)
            end
          end
          assert.are.equal(#sec.data, covered, sec.name .. " bytes in RAM segments")
        end
      end
      for i, seg in ipairs(info.segments) do
        if seg.flash then
          assert.are.equal(seg.addr % img.mmu_page_size, seg.offset % img.mmu_page_size, "segment " .. i)
        end
        if seg.addr == 0 then
          assert.are.equal(("\0"):rep(seg.length), img.data:sub(seg.offset + 1, seg.offset + seg.length))
        end
      end
      -- the descriptor leads and holds the ELF's SHA-256
      assert.is_truthy(info.app_desc, "app descriptor first")
      assert.are.equal(core.sha256(read(TD .. "/elf/" .. name .. ".elf")), info.app_desc.app_elf_sha256)
    end)
  end

  it("builds the largest test ELF's image quickly", function()
    local chip = chips.get("esp32c6")
    local boot = bootloader_of(chip)
    image.from_elf(TD .. "/elf/esp32c6_defmt.elf", { chip = chip, bootloader = boot })
    local best = math.huge
    for _ = 1, 5 do
      local t = core.now()
      image.from_elf(TD .. "/elf/esp32c6_defmt.elf", { chip = chip, bootloader = boot })
      best = math.min(best, core.now() - t)
    end
    print(("\n  esp32c6_defmt.elf image in %.1f ms"):format(best * 1000))
    assert.is_true(best < 0.1, ("took %.1f ms"):format(best * 1000))
  end)
end)

describe("the test bootloaders", function()
  for _, chip in ipairs(chips.all()) do
    local names = chip.name == "esp32p4" and { "esp32p4-v0", "esp32p4-v3" } or { chip.name }
    for _, n in ipairs(names) do
      it(n .. " patches to a valid image with the chosen flash parameters", function()
        local boot = read(TD .. "/bootloaders/" .. n .. "-bootloader.bin")
        assert.is_true(image.parse(boot).digest.valid, "shipped digest")
        local freq = chip.default_flash_freq
        local patched = header.patch_bootloader(boot, chip, { mode = "dio", size = "16mb", freq = freq })
        local info = image.parse(patched)
        assert.is_true(info.digest.valid)
        assert.are.equal(chip.chip_id, info.header.chip_id)
        assert.are.equal(4, info.header.size_code)
        assert.are.equal(chip.flash_freq_codes[freq], info.header.freq_code)
        assert.are.equal(#boot, #patched)
      end)
    end
  end
end)

describe("the merged flash image", function()
  for _, name in ipairs({ "esp32", "esp32c3", "esp32c6", "esp32s2" }) do
    it("of " .. name .. " has bootloader, table and app at their offsets", function()
      local chip = chip_of(name)
      local plan = plan_mod.build({ chip = chip, elf = TD .. "/elf/" .. name .. ".elf",
        bootloader = TD .. "/bootloaders/" .. chip.name .. "-bootloader.bin", search_builds = false })
      local full = plan_mod.merged(plan, false)
      assert.are.equal(4 * 1024 * 1024, #full)
      local boot = plan.segments[1].data
      assert.are.equal(boot, full:sub(chip.bootloader_offset + 1, chip.bootloader_offset + #boot))
      assert.are.equal(("\xFF"):rep(chip.bootloader_offset), full:sub(1, chip.bootloader_offset))
      local tbl = partitions.default(chip, 4 * 1024 * 1024):to_binary()
      assert.are.equal(tbl, full:sub(0x8001, 0x8000 + #tbl))
      assert.are.equal(("\xFF"):rep(0x8000 - chip.bootloader_offset - #boot),
        full:sub(chip.bootloader_offset + #boot + 1, 0x8000))
      assert.are.equal(plan.image.data, full:sub(0x10001, 0x10000 + #plan.image.data))
      assert.are.equal("\x32\x54\xCD\xAB", full:sub(0x10021, 0x10024))
      local tail = full:sub(0x10000 + #plan.image.data + 1)
      assert.are.equal(("\xFF"):rep(#tail), tail)
      local short = plan_mod.merged(plan, true)
      assert.are.equal(0x10000 + #plan.image.data, #short)
      assert.are.equal(full:sub(1, #short), short)
    end)
  end
end)
