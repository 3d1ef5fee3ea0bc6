-- espflash.ui: per-segment progress bars on a terminal and plain lines
-- otherwise, colour rules (terminal only, never with NO_COLOR), --quiet,
-- JSON mode, and output that interrupts a bar.
local ui_mod = require("espflash.ui")

local sink = require("helpers.files").sink

local function make(opts)
  local out, err = sink(), sink()
  opts.stdout, opts.stderr = out, err
  local now = 0
  opts.clock = function() return now end
  opts.width = opts.width or 60
  return ui_mod.new(opts), out, err, function(t) now = t end
end

-- Drives a three-segment flash the way espflash.flash.write_app does:
-- bootloader written, table skipped, app written in four steps.
local function flash(ui, set_time, verify)
  local s = ui:segments({ verify = verify })
  local log = s:logger(function(_, m) ui:info(m) end)
  local p = s.progress("0x0")
  set_time(0.5)
  p(16384, 16384)
  s.progress("0x8000")
  log("info", "0x8000 Skipped! (checksum matches)")
  p = s.progress("0x10000")
  for i = 1, 4 do
    set_time(1 + i)
    p(i * 65536, 262144)
  end
  s:close()
end

describe("segment progress", function()
  it("leaves one finished bar per segment on a terminal", function()
    local ui, _, err, set_time = make({ tty = true, color = false })
    flash(ui, set_time, true)
    local lines = {}
    for line in err.text():gmatch("[^\n]+") do lines[#lines + 1] = line end
    assert.are.equal(3, #lines, err.text())
    -- the last state of each line (after the final carriage return)
    local final = {}
    for i, l in ipairs(lines) do final[i] = (l:match("([^\r]*)$"):gsub("\27%[K$", "")) end
    assert.matches("^0x0 %[=+%] 16%.0 KiB in 0%.5 s  Verifying%.%.%. OK!$", final[1])
    assert.matches("^0x8000 %[=+%] 1 B in 0%.0 s  Skipped! %(checksum matches%)$", final[2])
    assert.matches("^0x10000 %[=+%] 256%.0 KiB in 4%.5 s  Verifying%.%.%. OK!$", final[3])
    assert.are.equal(59, #final[1])  -- the terminal width less one column, so it never wraps
    -- while the app was written, its bar showed rate and time left, then "Verifying..."
    assert.truthy(lines[3]:find("0x10000 [", 1, true))
    assert.truthy(lines[3]:find(" 25% 64.0 KiB/256.0 KiB 42.7 KiB/s ETA 00:05", 1, true), lines[3])
    assert.truthy(lines[3]:find("] Verifying...\27[K", 1, true), lines[3])
  end)

  it("says Done! instead when nothing is verified", function()
    local ui, _, err, set_time = make({ tty = true, color = false })
    flash(ui, set_time, false)
    assert.truthy(err.text():find("in 0.5 s  Done!\27[K\n", 1, true), err.text())
    assert.falsy(err.text():find("Verifying", 1, true))
  end)

  it("prints sparse plain lines when standard error is not a terminal", function()
    local ui, out, err, set_time = make({ tty = false })
    flash(ui, set_time, true)
    assert.are.equal(table.concat({
      "[INFO ] 0x0: 100% (16384/16384 bytes)",
      "[INFO ] 0x0 Verifying... OK!",
      "[INFO ] 0x8000 Skipped! (checksum matches)",
      "[INFO ] 0x10000: 25% (65536/262144 bytes)",
      "[INFO ] 0x10000: 50% (131072/262144 bytes)",
      "[INFO ] 0x10000: 75% (196608/262144 bytes)",
      "[INFO ] 0x10000: 100% (262144/262144 bytes)",
      "[INFO ] 0x10000 Verifying... OK!", "" }, "\n"), err.text())
    assert.falsy(err.text():find("\r", 1, true))
    assert.are.equal("", out.text())
  end)

  it("prints nothing with --quiet, on a terminal or not", function()
    for _, tty in ipairs({ true, false }) do
      local ui, out, err, set_time = make({ tty = tty, quiet = true })
      flash(ui, set_time, true)
      assert.are.same({ "", "" }, { out.text(), err.text() })
    end
  end)

  it("colours the outcome only when colour is on", function()
    local ui, _, err, set_time = make({ tty = true, color = true })
    flash(ui, set_time, true)
    assert.truthy(err.text():find("\27[32mVerifying... OK!\27[0m", 1, true))
    assert.truthy(err.text():find("\27[33mSkipped!\27[0m \27[2m(checksum matches)\27[0m", 1, true))
    ui, _, err, set_time = make({ tty = true, color = false })
    flash(ui, set_time, true)
    assert.falsy(err.text():find("\27[3", 1, true))
  end)

  it("write-bin's single segment skipped without a bar", function()
    local ui, _, err = make({ tty = true, color = false })
    local s = ui:segments()
    s:start("0x1000")
    s:skipped("0x1000")
    s:close()
    assert.matches("^\r0x1000 %[=+%] 1 B in 0%.0 s  Skipped! %(checksum matches%)\27%[K\n$", err.text())
  end)
end)

describe("other output while a bar is drawn", function()
  it("clears the bar first, and the bar comes back on its next update", function()
    local ui, _, err, set_time = make({ tty = true, color = false })
    local p = ui:progress("Reading", 1000)
    set_time(1)
    p:update(100)
    ui:warn("slow link")
    set_time(1.01)
    p:update(200)
    local text = err.text()
    assert.truthy(text:find("\27[K\r\27[K[WARN ] slow link\n\rReading [", 1, true), text)
    ui:end_line()
    assert.are.equal("\r\27[K", err.text():sub(-4))
  end)
end)

describe("colour", function()
  -- runs ui.new in a fresh lua5.4 with NO_COLOR=`value`; returns its colour decision on a terminal
  local function decided(value)
    local cmd = ("NO_COLOR=%s lua5.4 -e 'io.write(tostring(require(\"espflash.ui\").new({tty = true}).color))'")
      :format(value == nil and "" or value)
    if value == nil then cmd = "env -u NO_COLOR " .. cmd:gsub("^NO_COLOR= ", "") end
    local p = io.popen(cmd)
    local r = p:read("a")
    p:close()
    return r
  end

  it("is on for a terminal unless NO_COLOR is set and not empty", function()
    assert.are.equal("true", decided(nil))
    assert.are.equal("true", decided(""))
    assert.are.equal("false", decided("1"))
    assert.are.equal("false", decided("0"))
    assert.is_false(ui_mod.new({ tty = false }).color)
  end)

  it("never reaches a stream that is not a terminal, even when asked for", function()
    local ui, _, err = make({ tty = false, color = true })
    ui:warn("w")
    assert.are.equal("[WARN ] w\n", err.text())
  end)
end)

describe("JSON mode", function()
  it("keeps stdout for the one document and moves results to stderr", function()
    local ui, out, err = make({ tty = false })
    ui:set_json("checksum-md5")
    ui:print("0x827f263ef9fb63d05499d14fcef32f60")
    assert.is_true(ui:json_result({ md5 = "x" }))
    assert.is_false(ui:json_failure({ code = "espflash::late", message = "after the result" }))
    assert.are.equal('{"command":"checksum-md5","ok":true,"result":{"md5":"x"},"schema":1}\n', out.text())
    assert.are.equal("0x827f263ef9fb63d05499d14fcef32f60\n", err.text())
  end)

  it("writes the failure document when no result was written", function()
    local ui, out = make({ tty = false, quiet = true })
    ui:set_json("flash")
    ui:print("hidden with --quiet")
    assert.is_true(ui:json_failure(require("espflash.errors").new("espflash::verify_failed", "Verification failed")))
    assert.are.equal('{"command":"flash","error":{"code":"espflash::verify_failed","hint":null,'
      .. '"message":"Verification failed"},"ok":false,"schema":1}\n', out.text())
  end)

  it("is off unless asked for", function()
    local ui, out = make({ tty = false })
    assert.is_false(ui:json_result({}))
    ui:print("result")
    assert.are.equal("result\n", out.text())
  end)
end)
