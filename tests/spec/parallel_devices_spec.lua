-- espflash.each_device against virtual devices: devices run concurrently
-- (link emulation paces bytes as a UART would), each writes its own data,
-- one failing device (a fault injected through the sim URL, a port that does
-- not exist, a chip mismatch) fails alone with its cause, devices are closed
-- after the workflow, and per-device connect options apply.
local core = require("espflash.core")
local espflash = require("espflash")

local function have_stubs()
  local dir = os.getenv("ESPFLASH_STUBS")
  local f = dir and io.open(dir .. "/esp32c3.json", "rb")
  if f then f:close() end
  return f ~= nil
end

-- n bytes that zlib cannot shrink
local function noise(n, seed)
  local t, x = {}, seed
  for i = 1, n // 4 do
    x = (x * 1103515245 + 12345) & 0xFFFFFFFF
    t[i] = string.pack("<I4", x)
  end
  return table.concat(t)
end

local function read_file(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

describe("each_device", function()
  local dir
  before_each(function()
    dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. dir))
  end)
  after_each(function() os.execute("rm -rf " .. dir) end)

  it("works on several devices at once and each gets its own data", function()
    if not have_stubs() then pending("flasher stubs not installed in $ESPFLASH_STUBS"); return end
    local size = 24 * 1024
    local one_url = ("sim://esp32c3?link=1&flash=%s/one.bin"):format(dir)
    local t0 = core.now()
    local single = espflash.each_device({ one_url }, function(dev)
      dev:write(0x10000, noise(size, 99))
    end)
    local t_one = core.now() - t0
    assert(single[1].ok, single[1].err)

    local ports = {}
    for i = 1, 4 do ports[i] = ("sim://esp32c3?link=1&flash=%s/dev%d.bin&mac=aa:00:00:00:00:%02x"):format(dir, i, i) end
    t0 = core.now()
    local results = espflash.each_device(ports, function(dev, i)
      dev:write(0x10000, noise(size, i))
      return dev:info().mac
    end)
    local t_four = core.now() - t0
    assert.is_true(results.all_ok)
    for i = 1, 4 do
      assert.are.equal(("aa:00:00:00:00:%02x"):format(i), results[i].value)
      local flash = read_file(("%s/dev%d.bin"):format(dir, i))
      assert.are.equal(noise(size, i), flash:sub(0x10001, 0x10000 + size), "device " .. i .. "'s flash")
    end
    assert.is_true(t_four < 2 * t_one, ("one device %.2f s, four %.2f s"):format(t_one, t_four))
  end)

  it("lets the others finish when one device fails, and reports its cause", function()
    if not have_stubs() then pending("flasher stubs not installed in $ESPFLASH_STUBS"); return end
    local ports = { "sim://esp32c3", "sim://esp32c3?fault=stall&fault_at=15", dir .. "/no-such-tty",
                    "sim://esp32s3", "sim://esp32h2" }
    local done_at = {}
    local results = espflash.each_device(ports, function(dev, i)
      dev:write(0x20000, noise(8192, i))
      return dev:info().chip
    end, {
      connect = function(port, i) return { chip = i == 4 and "esp32c6" or nil } end,
      progress = function(ev) if ev.kind == "done" then done_at[ev.index] = core.now() end end,
    })
    assert.is_false(results.all_ok)
    assert.are.equal("esp32c3", results[1].value)
    assert.are.equal("esp32h2", results[5].value)
    assert.are.equal("espflash::timeout", results[2].err.code)
    assert.matches("^Timeout while running %w+ command$", results[2].err.message)
    assert.are.equal("espflash::serial_not_found", results[3].err.code)
    assert.matches("no%-such%-tty", results[3].err.message)
    assert.are.equal("espflash::chip_mismatch", results[4].err.code)
    assert.are.equal(3, #results.failed)
    assert.are.same({ 2, 3, 4 }, { results.failed[1].index, results.failed[2].index, results.failed[3].index })
    -- the stalled device did not hold the others back
    assert.is_true(done_at[1] < done_at[2] and done_at[5] < done_at[2])
    assert.is_true(results[5].seconds < 2, ("the last healthy device took %.2f s"):format(results[5].seconds))
  end)

  it("closes every device: with its after-action when the workflow returned", function()
    if not have_stubs() then pending("flasher stubs not installed in $ESPFLASH_STUBS"); return end
    local devs = {}
    local results = espflash.each_device("sim://esp32c3, sim://esp32c6", function(dev, i, job)
      devs[i] = job.device
      assert.are.equal(dev, job.device)
      if i == 2 then error("workflow bug") end
    end)
    assert.is_true(results[1].ok)
    assert.are.equal("espflash::script_error", results[2].err.code)
    assert.is_true(devs[1].closed and devs[2].closed)
    assert.is_true(devs[1].after_done, "hard reset after success")
    assert.is_true(devs[2].after_done, "a reset through the lines after an error")
  end)

  it("passes connect options and logs the connection per device", function()
    if not have_stubs() then pending("flasher stubs not installed in $ESPFLASH_STUBS"); return end
    local logs, user_logs = {}, 0
    local results = espflash.each_device({ "sim://esp32c3", "sim://esp32c2" }, function(dev)
      return { stub = dev:info().stub, baud = dev.port:baud() }
    end, {
      connect = { stub = false, baud = 460800, log = function() user_logs = user_logs + 1 end },
      progress = function(ev) if ev.kind == "log" then logs[#logs + 1] = ev.index .. ":" .. ev.message end end,
    })
    for i = 1, 2 do
      assert(results[i].ok, results[i].err)
      assert.is_false(results[i].value.stub)
      assert.are.equal(460800, results[i].value.baud)
    end
    local text = table.concat(logs, "\n")
    assert.matches("1:Connecting...", text, 1, true)
    assert.matches("2:Connected to esp32c2", text, 1, true)
    assert.matches("2:Setting baud rate higher than 115,200 can cause issues", text, 1, true)
    assert.is_true(user_logs >= 2, "the caller's own log function is still called")
  end)

  it("refuses a missing workflow function", function()
    local ok, err = pcall(espflash.each_device, { "sim://esp32c3" })
    assert.is_false(ok)
    assert.are.equal("espflash::invalid_argument", err.code)
  end)
end)
