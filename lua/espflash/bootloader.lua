--- Finding the second-stage bootloader (and a build's partition table).
---
--- The project ships no Espressif binaries. In order, a bootloader comes from
--- `--bootloader FILE`, espflash.toml `[idf] bootloader`, an ESP-IDF build
--- directory (the ELF's own directory or ./build: flasher_args.json or
--- bootloader/bootloader.bin), esp-idf-sys build output next to a cargo
--- target (target/<triple>/<profile>/build/esp-idf-sys-*/out/build/), or a
--- resource directory: $ESPFLASH_RESOURCES, then /usr/local/share/espflash
--- and /usr/share/espflash, holding bootloaders/<chip>-bootloader.bin (and
--- roms/ for the monitor).
local errors = require("espflash.errors")

local M = {}

--- Installed resource directories searched after $ESPFLASH_RESOURCES: the
--- binary's own data directory (`espflash.host`'s `datadir`, set at build
--- time), then the usual prefixes.
M.DATA_DIRS = { "/usr/local/share/espflash", "/usr/share/espflash" }
do
  local ok, host = pcall(require, "espflash.host")
  local datadir = ok and type(host) == "table" and host.datadir
  if datadir and datadir ~= M.DATA_DIRS[1] and datadir ~= M.DATA_DIRS[2] then table.insert(M.DATA_DIRS, 1, datadir) end
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

local function read(path)
  local f, err = io.open(path, "rb")
  if not f then errors.raise("espflash::file_open", "Failed to open bootloader " .. tostring(err)) end
  local d = f:read("a")
  f:close()
  return d
end

local function dirname(path)
  return path:match("^(.*)/[^/]*$") or "."
end

local function join(a, b)
  if b:sub(1, 1) == "/" then return b end
  return (a:gsub("/+$", "")) .. "/" .. b
end

--- The resource directories in search order (`getenv` defaults to os.getenv).
function M.resource_dirs(getenv)
  local dirs = {}
  local env = (getenv or os.getenv)("ESPFLASH_RESOURCES")
  if env and env ~= "" then dirs[1] = env end
  for _, d in ipairs(M.DATA_DIRS) do dirs[#dirs + 1] = d end
  return dirs
end

--- The first existing `<dir>/<rel>` over the resource directories, or nil.
function M.find_resource(rel, getenv)
  for _, d in ipairs(M.resource_dirs(getenv)) do
    local p = join(d, rel)
    if exists(p) then return p end
  end
  return nil
end

-- Crystal variants: file suffix by crystal MHz (espflash's default_bootloader).
local XTAL = {
  esp32 = { [40] = "", [26] = "_26" }, esp32c2 = { [40] = "", [26] = "_26" },
  esp32c5 = { [40] = "", [48] = "" },
}

--- Bootloader file names for a chip under `bootloaders/`, best first.
--- `xtal_mhz` picks the 26 MHz builds; `revision` (major*100+minor) picks
--- the ESP32-P4 v3 build for rev >= 3.0. Raises `espflash::unsupported_feature`
--- for a crystal the chip's bootloaders do not support.
function M.file_names(chip, xtal_mhz, revision)
  local xtal = xtal_mhz or chip.default_xtal_mhz
  local variants = XTAL[chip.name] or { [chip.default_xtal_mhz] = "" }
  local suffix = variants[xtal]
  if not suffix then
    errors.raise("espflash::unsupported_feature",
      ("The %s does not support the selected crystal frequency (%d MHz)"):format(chip.name, xtal),
      "Give a bootloader built for this crystal with --bootloader")
  end
  if chip.name == "esp32p4" then
    local v = (revision or 0) >= 300 and "v3" or "v0"
    return { "esp32p4-" .. v .. "-bootloader.bin", "esp32p4-bootloader.bin" }
  end
  return { chip.name .. suffix .. "-bootloader.bin" }
end

local function chip_id_of(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local head = f:read(24)
  f:close()
  if not head or #head < 24 or head:byte(1) ~= 0xE9 then return nil end
  return (string.unpack("<I2", head, 13))
end

local function json_object(text, key)
  return text:match('"' .. key:gsub("%-", "%%-") .. '"%s*:%s*(%b{})')
end

local function json_string(text, key)
  return text and text:match('"' .. key .. '"%s*:%s*"([^"]*)"')
end

-- An ESP-IDF build directory: flasher_args.json, else the usual files.
local function idf_build(dir, chip, notes)
  local args_path = join(dir, "flasher_args.json")
  local boot, table_path, table_offset
  if exists(args_path) then
    local text = read(args_path)
    local target = json_string(json_object(text, "extra_esptool_args"), "chip")
    if target and target ~= chip.name then
      notes[#notes + 1] = ("%s is a build for %s"):format(dir, target)
      return nil
    end
    local b, t = json_object(text, "bootloader"), json_object(text, "partition-table")
    boot = json_string(b, "file") and join(dir, json_string(b, "file"))
    table_path = json_string(t, "file") and join(dir, json_string(t, "file"))
    table_offset = json_string(t, "offset")
  else
    boot = join(dir, "bootloader/bootloader.bin")
    table_path = join(dir, "partition_table/partition-table.bin")
  end
  if not boot or not exists(boot) then return nil end
  local id = chip_id_of(boot)
  if id ~= chip.chip_id then
    notes[#notes + 1] = ("%s is not a bootloader for the %s (chip id %s)"):format(boot, chip.name, tostring(id))
    return nil
  end
  return {
    path = boot, source = "ESP-IDF build directory " .. dir,
    partition_table = table_path and exists(table_path) and table_path or nil,
    partition_table_offset = table_offset and tonumber((table_offset:gsub("^0[xX]", "")), 16) or nil,
  }
end

local function shell_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

-- esp-idf-sys output of a cargo build: the ELF sits in target/<triple>/<profile>
-- (or its examples/); the newest esp-idf-sys-* build directory wins.
local function idf_sys_build(elf_path, chip, notes)
  local dir = dirname(elf_path)
  for _, profile in ipairs({ dir, dirname(dir) }) do
    local build = join(profile, "build")
    local p = io.popen("ls -1t -- " .. shell_quote(build) .. " 2>/dev/null")
    local names = p and p:read("a") or ""
    if p then p:close() end
    for name in names:gmatch("[^\n]+") do
      if name:match("^esp%-idf%-sys%-") then
        local found = idf_build(join(build, name .. "/out/build"), chip, notes)
        if found then
          found.source = "esp-idf-sys build output " .. join(build, name)
          return found
        end
      end
    end
  end
  return nil
end

--- Finds the bootloader for `opts.chip` (a chip table). Options: `path`
--- (--bootloader), `config_path` (espflash.toml), `elf_path`, `xtal_mhz`,
--- `revision`, `search_builds` (default true), `getenv`. Returns `{path,
--- data, source, partition_table, partition_table_offset}`; raises
--- `espflash::bootloader_not_found` naming the chip and every way to give one.
function M.find(opts)
  local chip = opts.chip
  local function done(found)
    found.data = read(found.path)
    return found
  end
  if opts.path then return done({ path = opts.path, source = "--bootloader" }) end
  if opts.config_path then return done({ path = opts.config_path, source = "espflash.toml" }) end
  local notes = {}
  if opts.search_builds ~= false then
    local dirs = { "build" }
    if opts.elf_path then table.insert(dirs, 1, dirname(opts.elf_path)) end
    for _, d in ipairs(dirs) do
      local found = idf_build(d, chip, notes)
      if found then return done(found) end
    end
    if opts.elf_path then
      local found = idf_sys_build(opts.elf_path, chip, notes)
      if found then return done(found) end
    end
  end
  local names = M.file_names(chip, opts.xtal_mhz, opts.revision)
  local dirs = M.resource_dirs(opts.getenv)
  for _, d in ipairs(dirs) do
    for _, n in ipairs(names) do
      local p = join(d, "bootloaders/" .. n)
      if exists(p) then return done({ path = p, source = "resource directory " .. d }) end
    end
  end
  local places = {}
  for _, d in ipairs(dirs) do places[#places + 1] = join(d, "bootloaders/" .. names[1]) end
  local hint = "Give one with --bootloader FILE; or set `bootloader = \"FILE\"` under [idf] in espflash.toml; "
    .. "or flash from an ESP-IDF project (build/bootloader/bootloader.bin, build/flasher_args.json) "
    .. "or a cargo project built with esp-idf-sys; or install " .. names[1] .. " as "
    .. table.concat(places, " or ")
    .. " (set ESPFLASH_RESOURCES=DIR to use DIR/bootloaders/)"
  if #notes > 0 then hint = hint .. ". Skipped: " .. table.concat(notes, "; ") end
  errors.raise("espflash::bootloader_not_found",
    ("No second-stage bootloader found for the %s (%d MHz crystal): espflash ships no Espressif binaries")
      :format(chip.name, opts.xtal_mhz or chip.default_xtal_mhz), hint)
end

--- The ROM ELF for a chip and revision (major*100+minor) from the resource
--- directories (`roms/<chip>_rev<N>_rom.elf`, the highest N <= revision),
--- or nil.
function M.rom_elf(chip_name, revision, getenv)
  for _, n in ipairs({ 300, 101, 100, 0 }) do
    if n <= (revision or 0) then
      local p = M.find_resource(("roms/%s_rev%d_rom.elf"):format(chip_name, n), getenv)
      if p then return p end
    end
  end
  return nil
end

return M
