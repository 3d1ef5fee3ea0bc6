-- Reset sequences: the DTR/RTS steps and delays espflash uses, recorded on a
-- port that logs its line changes (the lines' effect on a chip is tested
-- against the virtual device in device_connect_spec).
local core = require("espflash.core")
local reset = require("espflash.reset")

-- Records (dtr, rts) after every set_lines, with the time since creation.
local function recorder(lines)
  local port = { steps = {}, dtr = false, rts = false, t0 = core.now() }
  function port:has_lines() return lines ~= false end
  function port:set_lines(dtr, rts)
    if lines == false then return false end
    if dtr ~= nil then self.dtr = dtr end
    if rts ~= nil then self.rts = rts end
    self.steps[#self.steps + 1] = { self.dtr and 1 or 0, self.rts and 1 or 0, t = core.now() - self.t0 }
    return true
  end
  return port
end

local function states(port)
  local out = {}
  for i, s in ipairs(port.steps) do out[i] = s[1] .. s[2] end
  return table.concat(out, " ")
end

describe("reset sequences", function()
  it("classic: EN low, 100 ms, IO0 low with EN released, delay, IO0 released", function()
    local p = recorder()
    assert.is_true(reset.classic(p, 50))
    -- (DTR,RTS): DTR=0, RTS=1, DTR=0, then DTR=1 (through 11), RTS=0, DTR=1, then DTR=0
    assert.are.equal("00 01 01 11 10 10 00", states(p))
    local gap = p.steps[4].t - p.steps[3].t
    assert.is_true(gap >= 0.099 and gap < 0.5, "EN held low " .. gap .. " s")
    local hold = p.steps[7].t - p.steps[6].t
    assert.is_true(hold >= 0.049 and hold < 0.45, "IO0 held low " .. hold .. " s after EN rose")
  end)

  it("unix-tight: both lines at once, ending with DTR=0 again", function()
    local p = recorder()
    assert.is_true(reset.unix_tight(p, 500))
    assert.are.equal("00 11 01 10 00 00", states(p))
    local hold = p.steps[5].t - p.steps[4].t
    assert.is_true(hold >= 0.499 and hold < 1.0, "IO0 held low " .. hold .. " s")
  end)

  it("usb-jtag: through (1,1) with three 100 ms pauses", function()
    local p = recorder()
    local t0 = core.now()
    assert.is_true(reset.usb_jtag(p))
    assert.are.equal("00 00 10 10 11 01 01 01 00", states(p))
    assert.is_true(core.now() - t0 >= 0.299)
  end)

  it("hard reset: 100 ms, RTS pulse of 100 ms", function()
    local p = recorder()
    assert.is_true(reset.hard(p, false))
    assert.are.equal("01 00", states(p))
    assert.is_true(p.steps[1].t >= 0.099)
    assert.is_true(p.steps[2].t - p.steps[1].t >= 0.099)
    local j = recorder()
    assert.is_true(reset.hard(j, true))
    assert.are.equal("00 01 01 01 00", states(j))
  end)

  it("skips silently, without waiting, on a port without modem lines", function()
    for _, run in ipairs({ reset.classic, reset.unix_tight, reset.usb_jtag, reset.hard }) do
      local p = recorder(false)
      local t0 = core.now()
      assert.is_false(run(p, 500))
      assert.are.equal(0, #p.steps)
      assert.is_true(core.now() - t0 < 0.09)
    end
  end)

  it("cycles unix-tight and classic, or only usb-jtag for PID 0x1001 and usb-reset", function()
    local names = {}
    for i, s in ipairs(reset.strategies("default-reset", 0xEA60)) do names[i] = s.name end
    assert.are.same({ "unix-tight 50 ms", "unix-tight 500 ms", "classic 50 ms", "classic 500 ms" }, names)
    assert.are.equal(1, #reset.strategies("default-reset", 0x1001))
    assert.are.equal("usb-jtag", reset.strategies("usb-reset", nil)[1].name)
  end)
end)
