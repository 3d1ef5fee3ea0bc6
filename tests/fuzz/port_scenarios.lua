-- What fuzz_port_response.c does with a device's bytes: one scenario per
-- host-side operation of the device library, each run on a Port whose input
-- is the fuzz data. tests/fuzz/seeds.lua runs the same scenarios against the
-- virtual device to record realistic seed streams. `mode` says what state
-- the device must be in for the scenario to make sense: "fresh" (no sync
-- yet), "rom" (synced ROM loader), "stub" (flasher stub running), "sdm"
-- (Secure Download Mode ROM). `p` is a parameter byte (0-255).
local loader = require("espflash.loader")
local connect = require("espflash.connect")
local device = require("espflash.device")
local chips = require("espflash.chips")

local c3 = chips.get("esp32c3")
local OPS = {}
for _, op in pairs(loader.OP) do OPS[#OPS + 1] = op end
table.sort(OPS)

local function dev(port, stub, sdm)
  local ld = loader.new(port, { stub = stub })
  return device.new{ port = port, loader = ld, chip = c3, sdm = sdm or false,
    flash_size = 0x400000, after = "no-reset-no-stub", owns_port = false,
    revision = { major = 0, minor = 4 } }
end

-- A stand-in stub image: uploading it exercises MEM_BEGIN/MEM_DATA/MEM_END
-- and the OHAI wait (the virtual device only starts its stub at a real entry).
local FAKE_STUB = { text_start = 0x40380000, text = ("\0"):rep(0x2000), entry = 0x40380004,
  data_start = 0x3FC80000, data = ("\1"):rep(100) }

return {
  { name = "rom command", mode = "rom",
    run = function(port, p) loader.new(port):try(OPS[p % #OPS + 1], ("\0"):rep(p)) end },
  { name = "stub command", mode = "stub",
    run = function(port, p)
      loader.new(port, { stub = true }):try(OPS[p % #OPS + 1], ("\0"):rep(p))
    end },
  { name = "sync", mode = "fresh", run = function(port) connect.sync(port) end },
  { name = "detect", mode = "rom", run = function(port) connect.detect(loader.new(port), chips) end },
  { name = "attach flash", mode = "rom",
    run = function(port, p)
      connect.attach_flash(loader.new(port, { stub = p % 2 == 1 }), c3, function() end)
    end },
  { name = "load stub", mode = "rom", run = function(port) connect.load_stub(loader.new(port), FAKE_STUB) end },
  { name = "stub read", mode = "stub",
    run = function(port, p)
      dev(port, true):read(0x1000, p * 97 + 1, { block_size = 1 + p * 16 % 0x1000 })
    end },
  { name = "rom read", mode = "rom", run = function(port, p) dev(port, false):read(0x1000, p + 1) end },
  { name = "md5", mode = "stub", run = function(port, p) dev(port, p % 2 == 1):md5(0, p * 4096) end },
  { name = "stub write", mode = "stub",
    run = function(port, p) dev(port, true):write(0x10000, ("x"):rep(p * 300 + 1)) end },
  { name = "rom write", mode = "rom",
    run = function(port, p)
      dev(port, false):write(0x10001, ("y"):rep(p * 20 + 1), { skip = p % 2 == 1 })
    end },
  { name = "info", mode = "stub", run = function(port, p) dev(port, p % 2 == 1):info() end },
  { name = "erase region", mode = "stub",
    run = function(port, p) dev(port, true):erase_region(0, (p + 1) * 0x1000) end },
  { name = "reset no-reset", mode = "stub",
    run = function(port, p) dev(port, p % 2 == 1):reset("no-reset") end },
  { name = "begin", mode = "fresh", run = function(port) connect.begin(port, { before = "no-reset" }) end },
  { name = "change baud", mode = "stub",
    run = function(port, p) connect.change_baud(loader.new(port, { stub = p % 2 == 1 }), c3, 460800) end },
  { name = "sdm write", mode = "sdm",
    run = function(port, p) dev(port, false, true):write(0x2000, ("z"):rep(p + 1)) end },
  { name = "load ram", mode = "stub",
    run = function(port, p)
      dev(port, true):load_ram({ { addr = 0x40380000, data = ("\0"):rep(p * 64) } }, 0x40380000)
    end },
}
