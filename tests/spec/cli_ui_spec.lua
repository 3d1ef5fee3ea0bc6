-- espflash.ui: log line shape, quiet mode, colour rules, progress output.
local ui_mod = require("espflash.ui")

local sink = require("helpers.files").sink

local function make(opts)
  opts = opts or {}
  local out, err = sink(), sink()
  opts.stdout, opts.stderr = out, err
  local now = 0
  opts.clock = function() return now end
  local ui = ui_mod.new(opts)
  return ui, out, err, function(t) now = t end
end

describe("ui", function()
  it("logs in env_logger's shape on stderr, results on stdout", function()
    local ui, out, err = make()
    ui:info("Serial port: '/dev/ttyUSB0'")
    ui:warn("Setting baud rate higher than 115,200 can cause issues")
    ui:debug("hidden")
    ui:print("0x8b4f6d5e")
    assert.are.equal("[INFO ] Serial port: '/dev/ttyUSB0'\n"
      .. "[WARN ] Setting baud rate higher than 115,200 can cause issues\n", err.text())
    assert.are.equal("0x8b4f6d5e\n", out.text())
  end)

  it("shows debug lines only when asked", function()
    local ui, _, err = make({ debug = true })
    ui:debug("SYNC")
    assert.are.equal("[DEBUG] SYNC\n", err.text())
  end)

  it("--quiet hides info and progress but keeps warnings and results", function()
    local ui, out, err = make({ quiet = true, tty = true })
    ui:info("hidden")
    local p = ui:progress("Writing", 100)
    p:update(50)
    p:finish("done")
    ui:warn("kept")
    ui:print("result")
    assert.are.equal("[WARN ] kept\n", err.text())
    assert.are.equal("result\n", out.text())
  end)

  it("colours levels only on a terminal without NO_COLOR", function()
    local ui, _, err = make({ tty = true, color = true })
    ui:warn("w")
    assert.are.equal("[\27[33mWARN \27[0m] w\n", err.text())
    local plain, _, perr = make({ tty = false })
    plain:warn("w")
    assert.are.equal("[WARN ] w\n", perr.text())
    assert.is_false(plain.color)
    if os.getenv("NO_COLOR") and os.getenv("NO_COLOR") ~= "" then
      assert.is_false(make({ tty = true }).color)   -- ctest sets NO_COLOR=1
    end
  end)

  it("prints sparse progress lines when not on a terminal", function()
    local ui, _, err = make()
    local p = ui:progress("Writing 0x10000", 1000)
    for done = 0, 1000, 100 do p:update(done) end
    p:finish("Flashing has completed!")
    assert.are.equal("[INFO ] Writing 0x10000: 25% (300/1000 bytes)\n"
      .. "[INFO ] Writing 0x10000: 50% (500/1000 bytes)\n"
      .. "[INFO ] Writing 0x10000: 75% (800/1000 bytes)\n"
      .. "[INFO ] Writing 0x10000: 100% (1000/1000 bytes)\n"
      .. "[INFO ] Flashing has completed!\n", err.text())
  end)

  it("draws a bar with bytes, rate and time left on a terminal", function()
    local ui, _, err, set_time = make({ tty = true, color = false, width = 100 })
    local p = ui:progress("Writing", 4096)
    set_time(1)
    p:update(1024)
    local text = err.text()
    assert.truthy(text:find("^\rWriting %[=+ +%]  25%% 1%.0 KiB/4%.0 KiB 1%.0 KiB/s ETA 00:03\27%[K$"), text)
    set_time(1.05)
    p:update(2048)   -- throttled: not redrawn within 0.1 s
    assert.are.equal(text, err.text())
    p:finish()
    assert.truthy(err.text():sub(-4) == "\r\27[K", err.text())
  end)

  it("drives a progress display from a library callback", function()
    local ui, _, err = make()
    local cb = ui:progress_callback("Reading")
    cb(0, 4)
    cb(4, 4)
    assert.are.equal("[INFO ] Reading: 100% (4/4 bytes)\n", err.text())
  end)
end)
