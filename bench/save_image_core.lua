-- `espflash run bench/save_image_core.lua ELF CHIP [BOOTLOADER]`: times what
-- save-image does once the CLI has parsed its arguments (load the ELF, build
-- the app image), in-process, and prints the best and median of 15 runs in
-- ms as "best median". The bench puts this beside the whole-process time.
local core = require("espflash.core")
local chips = require("espflash.chips")
local plan_mod = require("espflash.image_plan")
local elfmod = require("espflash.elf")

local path, chip_name, bootloader = ...
local chip = assert(chips.get(chip_name), "unknown chip")
local times = {}
for i = 1, 15 do
  local t0 = core.now()
  local elf = elfmod.load(path)
  elf:require_app_descriptor()
  local plan = plan_mod.build({ chip = chip, elf = elf, flash_size = "4mb", min_chip_rev = 0,
                                xtal_mhz = chip.default_xtal_mhz, bootloader = bootloader })
  assert(#plan.image.data > 0)
  times[i] = (core.now() - t0) * 1000
end
table.sort(times)
print(string.format("%.2f %.2f", times[1], times[8]))
