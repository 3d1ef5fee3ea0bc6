-- Every supported chip through the virtual device, with the stub and with
-- the ROM: detection, the facts board-info prints (checked against the chip
-- table's own decoders applied to the simulated registers), and a small
-- write / read / MD5 round trip.
local core = require("espflash.core")
local chips = require("espflash.chips")
local connect = require("espflash.connect")
local simlib = require("espflash.sim")
local stubs = require("espflash.stubs")

local function expected(chip)
  local regs = simlib.regs(chip)
  local read = function(addr) return regs[addr] or 0 end
  local major, minor = chip.revision(read)
  local mac = string.format("%02x:%02x:%02x:%02x:%02x:%02x", table.unpack(chip.mac(read)))
  local features = chip.features
  if type(features) == "function" then features = features(read) end
  return { major = major, minor = minor, mac = mac, features = features, xtal = chip.xtal(read, 115200) }
end

for _, name in ipairs(chips.names()) do
  local chip = chips.get(name)
  for _, use_stub in ipairs({ true, false }) do
    describe(name .. (use_stub and " with the stub" or " with the ROM"), function()
      it("connects, reports its facts and round-trips data", function()
        if use_stub and not stubs.find(stubs.name_for(chip, nil)) then
          pending("flasher stub for " .. name .. " not installed in $ESPFLASH_STUBS")
          return
        end
        local url = "sim://" .. name
        local sim = simlib.open(url)
        local port = core.open(url, { sim = sim })
        local dev = connect.connect{ port = port, stub = use_stub }
        local info = dev:info()
        local want = expected(chip)
        assert.are.equal(name, info.chip)
        assert.are.equal(want.major, info.revision.major)
        assert.are.equal(want.minor, info.revision.minor)
        assert.are.equal(want.mac, info.mac)
        assert.are.same(want.features, info.features)
        assert.are.equal(want.xtal, info.crystal_mhz)
        assert.are.equal(sim:flash_size(), info.flash_size)
        if name == "esp32" then
          assert.is_nil(info.security)
        elseif name == "esp32s2" then
          assert.is_nil(info.security.chip_id)
        else
          assert.are.equal(chip.chip_id, info.security.chip_id)
        end
        assert.are.equal(use_stub, info.stub)

        local data = string.rep("\x5A\xA5\x0F", 700) -- 2100 bytes: padded to 2100
        dev:write(0x8000, data)
        assert.are.equal(data, sim:flash_read(0x8000, #data))
        assert.are.equal(data:sub(1, 300), dev:read(0x8000, 300))
        assert.are.equal(core.md5_hex(data), dev:md5(0x8000, #data))
        dev:close()
        port:close()
        sim:close()
      end)
    end)
  end
end
