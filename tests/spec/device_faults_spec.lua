-- Fault injection (the virtual device drops a byte, flips a bit, stalls,
-- resets to the ROM or refuses a command at reply/command N): every write and
-- read either succeeds with the right bytes or fails with an error object.
-- Never a reported success with wrong flash contents.
local core = require("espflash.core")
local connect = require("espflash.connect")
local errors = require("espflash.errors")
local simlib = require("espflash.sim")

local have_stubs = require("helpers.files").env_dir("ESPFLASH_STUBS", "esp32c3.json") ~= nil

local random_bytes = require("helpers.data").bytes

local DATA = random_bytes(40000, 99)
local ADDR = 0x10000

-- Runs a write then a read under one fault; returns "ok" or the error code.
local function run(fault, at, use_stub)
  local url = string.format("sim://esp32c3?fault=%s&fault_at=%d", fault, at)
  local sim = simlib.open(url)
  local port = core.open(url, { sim = sim })
  local ok, err = pcall(function()
    local dev = connect.connect{ port = port, stub = use_stub, after = "no-reset-no-stub" }
    local result = dev:write(ADDR, DATA)
    assert.are.equal("written", result)
    assert.are.equal(DATA, sim:flash_read(ADDR, #DATA), "write reported success with wrong flash contents")
    local back = dev:read(ADDR, 5000)
    assert.are.equal(DATA:sub(1, 5000), back, "read reported success with wrong bytes")
    dev:close()
  end)
  port:close()
  sim:close()
  if ok then return "ok" end
  assert.is_true(errors.is(err), "not an error object: " .. tostring(err))
  assert.is_string(err.code)
  assert.is_truthy(err.message:match("%S"))
  return err.code
end

for _, use_stub in ipairs({ true, false }) do
  describe("faults (" .. (use_stub and "stub" or "rom") .. ")", function()
    -- reply/command indices spread over connect, stub upload, write and read
    local late = use_stub and 33 or 80
    local cases = {
      { "drop", { 8, 16, 24, 32, 40, 48, late } },
      { "flip", { 8, 16, 24, 32, 40, 48, late, late + 10 } },
      { "refuse", { 8, 16, 24, 32, 40, late } },
      { "reset", { 10, 20 } },
      { "stall", { 30, late } },
    }
    for _, case in ipairs(cases) do
      local fault, ats = case[1], case[2]
      it(fault .. " never yields a false success", function()
        if use_stub and not have_stubs then pending("flasher stubs not installed in $ESPFLASH_STUBS"); return end
        local outcomes, failed = {}, 0
        for _, at in ipairs(ats) do
          local outcome = run(fault, at, use_stub)
          if outcome ~= "ok" then failed = failed + 1 end
          outcomes[#outcomes + 1] = at .. "=" .. outcome
        end
        -- the sweep must actually have hit the exchange somewhere
        assert.is_true(failed > 0, "no injected fault took effect: " .. table.concat(outcomes, " "))
      end)
    end
  end)
end
