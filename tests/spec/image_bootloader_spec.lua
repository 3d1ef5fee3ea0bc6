-- Finding bootloaders: --bootloader, espflash.toml, ESP-IDF build
-- directories, esp-idf-sys output, resource directories, and the error that
-- lists every way to give one. Uses files made in a temporary directory.
local chips = require("espflash.chips")
local bootloader = require("espflash.bootloader")
local files = require("helpers.files")

local function sh(cmd) assert(os.execute(cmd), cmd) end

local function write(path, data)
  sh("mkdir -p '" .. path:match("^(.*)/") .. "'")
  files.write(path, data)
end

-- 24 header bytes of an image for `chip_id`, plus a marker to tell files apart.
local function boot_bytes(chip_id, marker)
  return string.char(0xE9, 0, 2, 0x20) .. ("\0"):rep(8) .. string.pack("<I2", chip_id)
    .. ("\0"):rep(10) .. marker
end

local c3 = chips.get("esp32c3")
local root, saved_dirs

local function env(vars)
  return function(name) return vars[name] end
end

before_each(function()
  root = os.tmpname()
  os.remove(root)
  sh("mkdir -p '" .. root .. "'")
  saved_dirs = bootloader.DATA_DIRS
  bootloader.DATA_DIRS = { root .. "/share/espflash" }
end)

after_each(function()
  bootloader.DATA_DIRS = saved_dirs
  sh("rm -rf '" .. root .. "'")
end)

describe("bootloader.find", function()
  it("takes --bootloader first, then the config file", function()
    write(root .. "/a.bin", boot_bytes(5, "cli"))
    write(root .. "/b.bin", boot_bytes(5, "cfg"))
    local found = bootloader.find({ chip = c3, path = root .. "/a.bin", config_path = root .. "/b.bin" })
    assert.are.equal("--bootloader", found.source)
    assert.matches("cli$", found.data)
    found = bootloader.find({ chip = c3, config_path = root .. "/b.bin" })
    assert.are.equal("espflash.toml", found.source)
  end)

  it("uses an ESP-IDF build directory's flasher_args.json next to the ELF", function()
    local build = root .. "/proj/build"
    write(build .. "/app.elf", "")
    write(build .. "/bl/boot.bin", boot_bytes(5, "idf"))
    write(build .. "/pt/table.bin", "\xAA\x50")
    write(build .. "/flasher_args.json", [[{
      "flash_files": { "0x0": "bl/boot.bin", "0x9000": "pt/table.bin", "0x10000": "app.bin" },
      "bootloader": { "offset": "0x0", "file": "bl/boot.bin", "encrypted": "false" },
      "partition-table": { "offset": "0x9000", "file": "pt/table.bin", "encrypted": "false" },
      "extra_esptool_args": { "after": "hard_reset", "before": "default_reset", "chip": "esp32c3" }
    }]])
    local found = bootloader.find({ chip = c3, elf_path = build .. "/app.elf", getenv = env({}) })
    assert.matches("^ESP%-IDF build directory", found.source)
    assert.matches("idf$", found.data)
    assert.are.equal(build .. "/pt/table.bin", found.partition_table)
    assert.are.equal(0x9000, found.partition_table_offset)
  end)

  it("uses bootloader/bootloader.bin of a build directory without flasher_args.json", function()
    local build = root .. "/b2"
    write(build .. "/app.elf", "")
    write(build .. "/bootloader/bootloader.bin", boot_bytes(5, "plain"))
    write(build .. "/partition_table/partition-table.bin", "\xAA\x50")
    local found = bootloader.find({ chip = c3, elf_path = build .. "/app.elf", getenv = env({}) })
    assert.matches("plain$", found.data)
    assert.are.equal(build .. "/partition_table/partition-table.bin", found.partition_table)
  end)

  it("skips builds for another chip and says so", function()
    local build = root .. "/other"
    write(build .. "/app.elf", "")
    write(build .. "/bootloader/bootloader.bin", boot_bytes(9, "s3"))
    local ok, err = pcall(bootloader.find, { chip = c3, elf_path = build .. "/app.elf", getenv = env({}) })
    assert.is_false(ok)
    assert.are.equal("espflash::bootloader_not_found", err.code)
    assert.matches("not a bootloader for the esp32c3", err.hint)
    write(build .. "/flasher_args.json", '{"extra_esptool_args": {"chip": "esp32s3"}}')
    ok, err = pcall(bootloader.find, { chip = c3, elf_path = build .. "/app.elf", getenv = env({}) })
    assert.is_false(ok)
    assert.matches("is a build for esp32s3", err.hint)
  end)

  it("finds esp-idf-sys output next to a cargo target's ELF", function()
    local profile = root .. "/target/riscv32imc-esp-espidf/release"
    write(profile .. "/app", "")
    write(profile .. "/build/esp-idf-sys-0123abcd/out/build/bootloader/bootloader.bin", boot_bytes(5, "sys"))
    local found = bootloader.find({ chip = c3, elf_path = profile .. "/app", getenv = env({}) })
    assert.matches("^esp%-idf%-sys build output", found.source)
    assert.matches("sys$", found.data)
  end)

  it("searches $ESPFLASH_RESOURCES, then the installed directory", function()
    write(root .. "/res/bootloaders/esp32c3-bootloader.bin", boot_bytes(5, "res"))
    write(root .. "/share/espflash/bootloaders/esp32c3-bootloader.bin", boot_bytes(5, "share"))
    local found = bootloader.find({ chip = c3, getenv = env({ ESPFLASH_RESOURCES = root .. "/res" }),
                                    search_builds = false })
    assert.matches("res$", found.data)
    found = bootloader.find({ chip = c3, getenv = env({}), search_builds = false })
    assert.matches("share$", found.data)
    assert.are.equal("resource directory " .. root .. "/share/espflash", found.source)
  end)

  it("picks the crystal and revision variants", function()
    assert.are.same({ "esp32_26-bootloader.bin" }, bootloader.file_names(chips.get("esp32"), 26))
    assert.are.same({ "esp32c2-bootloader.bin" }, bootloader.file_names(chips.get("esp32c2"), 40))
    assert.are.equal("esp32p4-v3-bootloader.bin", bootloader.file_names(chips.get("esp32p4"), 40, 300)[1])
    assert.are.equal("esp32p4-v0-bootloader.bin", bootloader.file_names(chips.get("esp32p4"), 40, 100)[1])
    assert.are.same({ "esp32h2-bootloader.bin" }, bootloader.file_names((chips.get("esp32h2"))))
    local ok, err = pcall(bootloader.file_names, c3, 26)
    assert.is_false(ok)
    assert.are.equal("espflash::unsupported_feature", err.code)
    assert.are.equal("The esp32c3 does not support the selected crystal frequency (26 MHz)", err.message)
  end)

  it("names the chip and every way to give a bootloader when there is none", function()
    local ok, err = pcall(bootloader.find, { chip = c3, getenv = env({}), search_builds = false })
    assert.is_false(ok)
    assert.are.equal("espflash::bootloader_not_found", err.code)
    assert.matches("esp32c3", err.message)
    for _, way in ipairs({ "--bootloader FILE", "[idf] in espflash.toml", "build/bootloader/bootloader.bin",
                           "esp-idf-sys", "ESPFLASH_RESOURCES",
                           root .. "/share/espflash/bootloaders/esp32c3-bootloader.bin" }) do
      assert.is_truthy(err.hint:find(way, 1, true), "hint lacks " .. way)
    end
  end)
end)

describe("bootloader.rom_elf", function()
  it("picks the highest ROM revision not above the chip's", function()
    write(root .. "/res/roms/esp32c3_rev0_rom.elf", "")
    write(root .. "/res/roms/esp32c3_rev101_rom.elf", "")
    local getenv = env({ ESPFLASH_RESOURCES = root .. "/res" })
    assert.matches("rev101", bootloader.rom_elf("esp32c3", 104, getenv))
    assert.matches("rev0_", bootloader.rom_elf("esp32c3", 100, getenv))
    assert.is_nil(bootloader.rom_elf("esp32s3", 0, getenv))
  end)
end)
