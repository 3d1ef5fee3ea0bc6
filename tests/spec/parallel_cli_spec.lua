-- espflash.parallel.run_command: a subcommand script (the real board-info
-- and write-bin scripts) run once per port of a multi-port --port value,
-- concurrently, with every output line prefixed by its device, failures
-- reported under their prefix with the CLI's error format, a summary line,
-- and one exit status. Also the line-prefixing writer itself.
local parallel = require("espflash.parallel")
local pcli = require("espflash.parallel_cli")
local session = require("espflash.session")
local ui_mod = require("espflash.ui")

local root = os.getenv("ESPFLASH_SOURCE_DIR") or "."

local files = require("helpers.files")

local function have_stubs() return files.env_dir("ESPFLASH_STUBS", "esp32c3.json") ~= nil end

-- A file-like sink collecting what is written.
local function sink()
  local s = { parts = {} }
  function s:write(...) for _, v in ipairs({ ... }) do self.parts[#self.parts + 1] = v end return self end
  function s:flush() return self end
  function s:text() return table.concat(self.parts) end
  function s:lines()
    local out = {}
    for l in self:text():gmatch("([^\n]*)\n") do out[#out + 1] = l end
    return out
  end
  return s
end

local function context()
  local out, err = sink(), sink()
  local ctx = {
    ui = ui_mod.new({ stdout = out, stderr = err, tty = false }),
    debug = false, command = "board-info",
    connect = function(self, a) return session.connect(self, a) end,
  }
  return ctx, out, err
end

local function script(name)
  return assert(dofile(root .. "/scripts/" .. name .. ".lua"))
end

describe("prefixed writer", function()
  it("prefixes whole lines only, and passes on the last partial line on close", function()
    local out = sink()
    local w = pcli.prefixed(out, "[p] ")
    w:write("one", "\ntw")
    assert.are.equal("[p] one\n", out:text())
    w:write("o\r\nthree\n\n")
    assert.are.equal("[p] one\n[p] two\n[p] three\n[p] \n", out:text())
    w:write("tail")
    w:close()
    assert.are.equal("[p] one\n[p] two\n[p] three\n[p] \n[p] tail\n", out:text())
  end)
end)

describe("run_command", function()
  it("runs board-info on every port with prefixed output, one failing", function()
    if not have_stubs() then pending("flasher stubs not installed in $ESPFLASH_STUBS"); return end
    local ctx, out, err = context()
    local args = { port = "sim://esp32c3,sim://esp32s3?fault=stall&fault_at=15,sim://esp32h2",
                   before = "default-reset", after = "hard-reset" }
    local code, results = parallel.run_command(ctx, args, script("board-info").run)
    assert.are.equal(1, code)
    assert.is_true(results[1].ok and results[3].ok)
    assert.are.equal("espflash::timeout", results[2].err.code)
    assert.are.equal("sim://esp32c3,sim://esp32s3?fault=stall&fault_at=15,sim://esp32h2", args.port,
      "the caller's args are left alone")
    local stdout = out:text()
    assert.matches("[sim://esp32c3#1] Chip type:         esp32c3 (revision v0.4)\n", stdout, 1, true)
    assert.matches("[sim://esp32h2#3] Chip type:         esp32h2", stdout, 1, true)
    assert.matches("[sim://esp32h2#3] MAC address:       74:4d:bd:00:11:22\n", stdout, 1, true)
    assert.is_nil(stdout:find("esp32s3#2] Chip type", 1, true))
    for _, l in ipairs(out:lines()) do assert.matches("^%[sim://esp32%w+#%d%] ", l) end
    local stderr = err:text()
    assert.matches("[sim://esp32c3#1] [INFO ] Serial port: 'sim://esp32c3'\n", stderr, 1, true)
    assert.matches("%[sim://esp32s3#2%] espflash: error: Timeout while running %w+ command", stderr)
    assert.matches("[sim://esp32s3#2]   hint: Ensure the device is connected and still in download mode\n",
      stderr, 1, true)
    assert.matches("espflash: error: 1 of 3 devices failed: sim://esp32s3#2 (espflash::timeout)\n", stderr, 1, true)
    for _, l in ipairs(err:lines()) do
      assert.is_true(l:match("^%[sim://esp32%w+#%d%] ") ~= nil or l:match("^espflash: error: 1 of 3") ~= nil, l)
    end
  end)

  it("returns 0 when every run succeeded, and writes each device's file", function()
    if not have_stubs() then pending("flasher stubs not installed in $ESPFLASH_STUBS"); return end
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. dir))
    local f = assert(io.open(dir .. "/data.bin", "wb"))
    f:write(("write-bin test "):rep(100))
    f:close()
    local ctx, _, err = context()
    local ports = { ("sim://esp32c3?flash=%s/a.bin"):format(dir), ("sim://esp32c6?flash=%s/b.bin"):format(dir) }
    local args = { port = ports, address = 0x3000, file = dir .. "/data.bin", monitor = false }
    local code = parallel.run_command(ctx, args, script("write-bin").run, { jobs = 1 })
    local flashed = {}
    for i, name in ipairs({ "a", "b" }) do
      local g = assert(io.open(("%s/%s.bin"):format(dir, name), "rb"))
      flashed[i] = g:read("a"):sub(0x3001, 0x3000 + 1500)
      g:close()
    end
    os.execute("rm -rf " .. dir)
    assert.are.equal(0, code, err:text())
    assert.are.equal(("write-bin test "):rep(100), flashed[1])
    assert.are.equal(("write-bin test "):rep(100), flashed[2])
    assert.matches("[sim://esp32c6#2] [INFO ] Binary successfully written to flash!\n", err:text(), 1, true)
    assert.matches("[INFO ] All 2 devices succeeded\n", err:text(), 1, true)
  end)

  it("exits with the runs' own status when they all agree, else 1", function()
    local ctx, _, err = context()
    local code = parallel.run_command(ctx, { port = { "p1", "p2" } }, function(a)
      return a.port == "p1" and 3 or 0
    end)
    assert.are.equal(3, code)
    assert.matches("espflash: error: 1 of 2 devices failed: p1 (espflash::exit_status)", err:text(), 1, true)
    code = parallel.run_command(ctx, { port = { "p1", "p2" } }, function(a)
      if a.port == "p1" then return 3 end
      error("a bug in the script")
    end)
    assert.are.equal(1, code)
    assert.matches("[p2] espflash: error: ", err:text(), 1, true)
    assert.matches("a bug in the script", err:text(), 1, true)
  end)

  it("reports a failure as soon as its device is done", function()
    local ctx, _, err = context()
    parallel.run_command(ctx, { port = { "fast", "slow" } }, function(a, c)
      if a.port == "fast" then require("espflash.errors").raise("demo::failed", "fast one failed") end
      require("espflash.core").sleep(200)
      c.ui:info("slow one finished")
    end)
    local text = err:text()
    local failure = assert(text:find("[fast] espflash: error: fast one failed", 1, true))
    local slow = assert(text:find("[slow] [INFO ] slow one finished", 1, true))
    assert.is_true(failure < slow)
  end)
end)
