-- sim://: the Port over the in-process virtual device (src/sim/), made from
-- the esp32c3 chip table by espflash.sim.
local core = require("espflash.core")

local SYNC = "\x07\x07\x12\x20" .. string.rep("\x55", 32)

local function new_sim(opts)
  return require("espflash.sim").new("esp32c3", opts or {})
end

describe("core.open sim://", function()
  local sim, port

  before_each(function()
    if not core.sim_new then pending("core.sim_new is not built yet") return end
    sim = new_sim()
    port = assert(core.open("sim://esp32c3", { sim = sim }))
  end)

  after_each(function()
    if port then port:close() end
    if sim then sim:close() end
    port, sim = nil, nil
    core.clear_interrupt()
  end)

  it("describes itself and has modem lines", function()
    assert.are.same({ kind = "sim", name = "sim://esp32c3", baud = 115200 }, port:info())
    assert.is_true(port:has_lines())
    assert.is_true(port:set_lines(false, false))
  end)

  it("syncs with the ROM: one reply from command, seven more frames", function()
    local op, value, body = port:command(0x08, SYNC, 0, 1000)
    assert.are.equal(0x08, op)
    assert.are.equal(0x20120707, value)
    assert.are.equal("\0\0\0\0", body)
    for _ = 1, 7 do
      assert.are.equal(string.pack("<BBI2I4", 1, 8, 4, 0x20120707) .. "\0\0\0\0",
        assert(port:read_frame(500)))
    end
    local ok, _, code = port:read_frame(50)
    assert.is_nil(ok)
    assert.are.equal("TIMEOUT", code)
  end)

  it("reads the chip magic register", function()
    local chip = require("espflash.chips.esp32c3")
    assert(port:command(0x08, SYNC, 0, 1000))
    local op, value = port:command(0x0a, string.pack("<I4", 0x40001000), 0, 1000)
    assert.are.equal(0x0a, op, value)
    local known = false
    for _, m in ipairs(chip.magic) do known = known or m == value end
    assert.is_true(known, string.format("magic 0x%08x", value))
  end)

  it("returns the ROM's stale-opcode reply to an unassigned command", function()
    port:command(0x08, SYNC, 0, 1000)
    port:flush_input()
    local op, _, body = port:command(0x0c, "", 0, 1000)
    assert.are.equal(0x08, op)
    assert.are.equal("\x01\x05\x00\x00", body:sub(-4))
  end)

  it("resets into download mode through DTR/RTS and shows the banner as noise", function()
    assert.is_true(port:set_lines(false, true)) -- EN low
    core.sleep(100)
    assert.is_true(port:set_lines(true, false)) -- EN high, IO0 low
    core.sleep(50)
    assert.is_true(port:set_lines(false, nil)) -- IO0 released, RTS kept
    local text = ""
    local deadline = core.now() + 2
    while not text:find("waiting for download", 1, true) and core.now() < deadline do
      text = text .. port:read(4096, 50)
    end
    assert.matches("boot:0x8 %(DOWNLOAD", text)
    assert.matches("waiting for download", text)
    assert.are.equal(0x08, (port:command(0x08, SYNC, 0, 1000)))
  end)

  it("garbles the exchange when the host baud rate does not match the device", function()
    local read_reg = string.pack("<I4", 0x40001000)
    assert(port:command(0x08, SYNC, 0, 1000))
    core.sleep(20)
    port:flush_input()
    assert.is_true(port:set_baud(921600))
    assert.are.equal(921600, port:baud())
    local ok, _, code = port:command(0x0a, read_reg, 0, 300)
    assert.is_nil(ok)
    assert.are.equal("TIMEOUT", code)
    assert.is_true(port:set_baud(115200))
    assert.are.equal(0x0a, (port:command(0x0a, read_reg, 0, 1000)))
  end)

  it("is interruptible while waiting for the device", function()
    core.interrupt()
    local t0 = core.now()
    local ok, _, code = port:read(10, 5000)
    assert.is_nil(ok)
    assert.are.equal("INTERRUPTED", code)
    ok, _, code = port:command(0x08, SYNC, 0, 5000)
    assert.are.equal("INTERRUPTED", code)
    assert.is_true(core.now() - t0 < 0.2)
  end)

  it("waits the full timeout when the device stays silent", function()
    local t0 = core.now()
    assert.are.equal("", port:read(10, 120))
    local dt = core.now() - t0
    assert.is_true(dt >= 0.11 and dt < 0.6, "waited " .. dt)
  end)

  it("keeps the Sim alive while the Port holds it and refuses a closed one", function()
    local s2 = new_sim()
    local p2 = assert(core.open("sim://esp32c3", { sim = s2 }))
    s2 = nil -- luacheck: ignore
    collectgarbage()
    collectgarbage()
    assert.are.equal(0x08, (p2:command(0x08, SYNC, 0, 1000)))
    local s3 = new_sim()
    local p3 = assert(core.open("sim://esp32c3", { sim = s3 }))
    s3:close()
    assert.has_error(function() p3:read(1, 0) end)
    p2:close()
    p3:close()
  end)
end)

describe("core.open sim:// with link emulation", function()
  it("paces bytes at the baud rate and wakes when they are due", function()
    if not core.sim_new then pending("core.sim_new is not built yet") return end
    local sim = new_sim({ link_emulation = true })
    local port <close> = assert(core.open("sim://esp32c3", { sim = sim }))
    local t0 = core.now()
    assert.are.equal(0x08, (port:command(0x08, SYNC, 0, 3000)))
    for _ = 1, 7 do assert(port:read_frame(3000)) end
    local dt = core.now() - t0
    -- 46 bytes out, 8 replies of 14 bytes back, 10 bits a byte at 115200 baud:
    -- at least 13.7 ms on the wire; reads wake when bytes are due, not at timeouts
    assert.is_true(dt >= 0.0137, "sync took " .. dt)
    assert.is_true(dt < 1.0, "sync took " .. dt)
    sim:close()
  end)

  it("needs opts.sim", function()
    local ok, err, code = core.open("sim://esp32c3")
    assert.is_nil(ok)
    assert.are.equal("PORT_NOT_FOUND", code)
    assert.matches("sim_new", err)
    assert.has_error(function() core.open("sim://esp32c3", { sim = {} }) end)
  end)
end)
