-- monitor.run end to end through the in-process virtual device (sim://):
-- the reset starts the application (boot log, then its output), --no-reset,
-- the timeout, --timestamps, --log-file, external processors, address
-- decoding of what the application prints, the ELF/chip check and the
-- ESP32-C2 26 MHz monitor baud rate; plus the output helpers.
local monitor = require("espflash.monitor")
local output = require("espflash.monitor_output")
local link = require("espflash.monitor_link")
local ui_mod = require("espflash.ui")

local TESTDATA = os.getenv("ESPFLASH_TESTDATA")
local BACKTRACE = TESTDATA and TESTDATA .. "/elf/esp32c6_backtrace.elf"
local f = BACKTRACE and io.open(BACKTRACE, "rb")
if f then f:close() else BACKTRACE = nil end

local function slurp(path)
  local h = assert(io.open(path, "rb"))
  local s = h:read("a")
  h:close()
  return s
end

-- Runs the monitor on `target`; returns stdout, stderr and the result.
local function run(target, opts)
  local out_name, err_name = os.tmpname(), os.tmpname()
  local out, err = assert(io.open(out_name, "wb")), assert(io.open(err_name, "wb"))
  local ctx = { ui = ui_mod.new({ stdout = out, stderr = err }) }
  opts.non_interactive = true
  opts.timeout = opts.timeout or 0.5
  local ok, result = pcall(monitor.run, ctx, target, opts)
  out:close()
  err:close()
  local o, e = slurp(out_name), slurp(err_name)
  os.remove(out_name)
  os.remove(err_name)
  if not ok then error(result, 0) end
  return o, e, result
end

local function app(chip, text)
  return "sim://" .. chip .. "?app=" .. text:gsub("[^%w]", function(c) return string.format("%%%02X", c:byte()) end)
end

describe("monitor.run on the virtual device", function()
  it("resets the chip and shows the boot log and the application output", function()
    local t0 = require("espflash.core").now()
    local out, _, rc = run(app("esp32c3", "Hello world!\r\nno newline"), {})
    assert.are.equal(0, rc)
    assert.truthy(out:find("ESP-ROM:esp32c3", 1, true))
    assert.truthy(out:find("rst:0x1 %(POWERON%),boot:0xc %(SPI_FAST_FLASH_BOOT%)\r\nHello world!\r\nno newline$"), out)
    assert.is_true(require("espflash.core").now() - t0 >= 0.5)
  end)

  it("shows nothing with --no-reset (the chip stays in the loader)", function()
    local out = run(app("esp32c3", "Hello"), { no_reset = true, timeout = 0.3 })
    assert.are.equal("", out)
  end)

  it("stamps every line with --timestamps and logs to a file without colour", function()
    local log = os.tmpname()
    local out = run(app("esp32c3", "one\ntwo\r\n\27[0;32mI (1) green\27[0m\n"), { timestamps = true, log_file = log })
    for line in out:gmatch("[^\n]+") do
      assert.truthy(line:match("^%[%d%d:%d%d:%d%d%.%d%d%d%] "), line)
    end
    local logged = slurp(log)
    os.remove(log)
    assert.truthy(logged:match("%] one\n%[[%d:.]+%] two\n%[[%d:.]+%] I %(1%) green\n$"), logged)
    assert.is_nil(logged:find("\r", 1, true))
    assert.is_nil(logged:find("\27", 1, true))
  end)

  it("pipes the raw bytes through external processors in order", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. dir))
    local p1, p2 = dir .. "/upper", dir .. "/mark"
    local h = assert(io.open(p1, "w"))
    h:write('#!/bin/sh\necho "$1" > "$(dirname "$0")/arg"\nexec sed -u "s/hello/HELLO/"\n')
    h:close()
    h = assert(io.open(p2, "w"))
    h:write('#!/bin/sh\nexec sed -u "s/HELLO/[HELLO]/"\n')
    h:close()
    assert(os.execute("chmod +x " .. p1 .. " " .. p2))
    local out = run(app("esp32c3", "hello\n"), { processors = p1 .. "," .. p2, elf = nil, timeout = 1 })
    assert.truthy(out:find("[HELLO]", 1, true), out)
    assert.are.equal("\n", slurp(dir .. "/arg"))
    local ok, e = pcall(run, app("esp32c3", "x"), { processors = dir .. "/missing" })
    assert.is_false(ok)
    assert.are.equal("Failed to launch '" .. dir .. "/missing'", e.message)
    os.execute("rm -rf " .. dir)
  end)

  if BACKTRACE then
    it("decodes the addresses the application prints", function()
      local out = run(app("esp32c6", "panic at 0x420012c8\n0x42001280\nSaved PC:0x420012c8\n"),
        { elf = BACKTRACE })
      assert.truthy(out:find("panic at 0x420012c8\r\n0x420012c8 %- main\r\n    at [^\r]*src/bin/main%.rs:25\r\n"), out)
      assert.truthy(out:find("\r\n0x42001280\r\nhal_main\r\n    at [^\r]*/src/lib%.rs:%d+\r\n"), out)
      assert.truthy(out:find("Saved PC:0x420012c8\r\n$"), out)
      local plain = run(app("esp32c6", "panic at 0x420012c8\n"), { elf = BACKTRACE, no_addresses = true })
      assert.is_nil(plain:find("main", 1, true))
    end)

    it("refuses an ELF built for another chip", function()
      local dev = require("espflash.connect").connect({ port = app("esp32c3", "x"), stub = false })
      local ok, e = pcall(run, dev, { elf = BACKTRACE })
      assert.is_false(ok)
      assert.are.equal("espflash::chip_mismatch", e.code)
      assert.are.equal("The firmware was built for esp32c6, but the detected chip is esp32c3", e.message)
    end)
  else
    pending("address decoding (SKIP: $ESPFLASH_TESTDATA/elf/esp32c6_backtrace.elf is not available)")
  end
end)

describe("the monitor baud rate", function()
  it("is 74880 for an ESP32-C2 with a 26 MHz crystal left at 115200", function()
    local sim = require("espflash.sim").open("sim://esp32c2")
    local port = require("espflash.core").open("sim://esp32c2", { sim = sim })
    local function dev(mhz)
      return { port = port, chip = { name = "esp32c2" }, info = function() return { crystal_mhz = mhz } end,
               close = function() end }
    end
    assert.are.equal(74880, link.new(dev(26)):monitor_baud(115200))
    assert.are.equal(115200, link.new(dev(40)):monitor_baud(115200))
    assert.are.equal(230400, link.new(dev(26)):monitor_baud(230400))
    port:close()
    sim:close()
  end)
end)

describe("monitor output", function()
  it("strips colour codes and stamps line starts only", function()
    assert.are.equal("I (1) ok", output.strip_ansi("\27[0;32mI (1) ok\27[0m"))
    local shown = {}
    local o = output.new({ write = function(s) shown[#shown + 1] = s end, timestamps = true,
                           clock = function() return 0.25 end })
    o:write("par")
    o:write("tial\r\nnext\r\n")
    local stamp = output.stamp(0.25)
    assert.are.equal(stamp .. "partial\r\n" .. stamp .. "next\r\n", table.concat(shown))
    assert.truthy(stamp:match("^%[%d%d:%d%d:%d%d%.250%] $"))
  end)

  it("shows decoded addresses in yellow when colour is on", function()
    local shown = {}
    local o = output.new({ write = function(s) shown[#shown + 1] = s end, color = true })
    o:pieces({ { "0x1\r\n", "device" }, { "main\r\n", "note" } })
    assert.are.equal("0x1\r\n\27[33mmain\r\n\27[0m", table.concat(shown))
  end)
end)
