-- `espflash sim` end to end: the built binary serves a virtual chip on TCP or
-- a pseudo-terminal and our own flasher (espflash.connect) talks to it
-- through socket:// and the pty path; usage errors exit 2 naming the problem.
local connect = require("espflash.connect")

local BIN = os.getenv("ESPFLASH_BIN")

-- Serving tests upload the flasher stub: they need scripts/setup-stubs.sh's files.
local function have_stubs()
  local dir = os.getenv("ESPFLASH_STUBS")
  local f = dir and io.open(dir .. "/esp32c6.json")
  if f then f:close() end
  if not f then pending("no flasher stubs in $ESPFLASH_STUBS (run scripts/setup-stubs.sh)") end
  return f ~= nil
end

local function sh_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- Runs the binary to completion; returns exit code and combined output.
local function run(args)
  local p = assert(io.popen(sh_quote(BIN) .. " " .. args .. " 2>&1; echo \"rc=$?\""))
  local out = p:read("a")
  p:close()
  local rc = tonumber(out:match("rc=(%d+)\n$"))
  return rc, out:gsub("rc=%d+\n$", "")
end

-- Starts `[env ...] BIN sim ARGS` in the background; returns pid, first stdout
-- line, and a stop() that sends SIGINT and returns the exit code and the rest
-- of the output (stderr included).
local function serve(args, env)
  local cmd = string.format("sh -c %s", sh_quote(string.format("echo $$; exec %s %s %s 2>&1",
    env or "", sh_quote(BIN), "sim " .. args)))
  local p = assert(io.popen(cmd))
  local pid = assert(p:read("l"))
  local line = p:read("l")
  local function stop()
    os.execute("kill -INT " .. pid)
    local rest = p:read("a")
    local _, _, code = p:close()
    return code, rest
  end
  return pid, line, stop
end

local function tmpdir()
  local d = os.tmpname()
  os.remove(d)
  assert(os.execute("mkdir -p " .. sh_quote(d)))
  return d
end

describe("espflash sim", function()
  if not BIN then
    it("needs ESPFLASH_BIN", function() pending("ESPFLASH_BIN is not set (ctest sets it)") end)
    return
  end

  it("refuses bad arguments with exit code 2 and the problem named", function()
    local rc, out = run("sim --listen 127.0.0.1:0")
    assert.are.equal(2, rc)
    assert.matches("the --chip option is required", out, 1, true)
    assert.matches("esp32s31", out, 1, true)
    rc, out = run("sim --chip esp32 --pty --listen 127.0.0.1:0")
    assert.are.equal(2, rc)
    assert.matches("--listen and --pty cannot be used together", out, 1, true)
    rc, out = run("sim --chip esp32c3 --mac 01:02")
    assert.are.equal(2, rc)
    assert.matches("invalid MAC address '01:02'", out, 1, true)
    rc = run("sim --chip esp8266")
    assert.are.equal(2, rc)
    rc = run("sim --chip esp32c3 --flash-size 3mb")
    assert.are.equal(2, rc)
  end)

  it("injects the fault --fault names: a stall from the first reply leaves no way to connect", function()
    local rc, out = run("sim --chip esp32c3 --fault-at 3")
    assert.are.equal(2, rc)
    assert.matches("--fault-at needs --fault", out, 1, true)
    rc = run("sim --chip esp32c3 --fault melt")
    assert.are.equal(2, rc)
    local _, line, stop = serve("--chip esp32c3 --listen 127.0.0.1:0 --fault stall --fault-at 0")
    local ok, err = pcall(function()
      local port = assert(assert(line):match("^Listening on 127%.0%.0%.1:(%d+)$"))
      local fine, e = pcall(connect.connect, { port = "socket://127.0.0.1:" .. port, before = "no-reset" })
      assert.is_false(fine)
      assert.are.equal("espflash::connection_failed", e.code)
    end)
    local code, rest = stop()
    assert(ok, err)
    assert.are.equal(130, code, rest)
  end)

  it("fails with a clear message when it cannot listen", function()
    local rc, out = run("sim --chip esp32c3 --listen nowhere")
    assert.are.equal(1, rc)
    assert.matches("'nowhere' is not HOST:PORT", out, 1, true)
  end)

  it("serves on TCP: our flasher connects through socket:// and sees the options", function()
    if not have_stubs() then return end
    local dir = tmpdir()
    local flash = dir .. "/flash.bin"
    local _, line, stop = serve("--chip esp32c6 --listen 127.0.0.1:0 --flash-size 2mb --mac 02:ab:cd:00:00:01 "
      .. "--flash " .. sh_quote(flash))
    local ok, err = pcall(function()
      local host, port = assert(line):match("^Listening on (127%.0%.0%.1):(%d+)$")
      assert.is_truthy(port, "address line: " .. tostring(line))
      for round = 1, 2 do -- every new client finds the chip in download mode
        local dev <close> = connect.connect{ port = "socket://" .. host .. ":" .. port, before = "no-reset" }
        local info = dev:info()
        assert.are.equal("esp32c6", info.chip, "round " .. round)
        assert.are.equal("02:ab:cd:00:00:01", info.mac)
        assert.are.equal(2 * 1024 * 1024, info.flash_size)
        assert.is_true(info.stub)
        dev:close()
      end
      local f = assert(io.open(flash, "rb"))
      local data = f:read("a")
      f:close()
      assert.are.equal(2 * 1024 * 1024, #data)
      assert.are.equal(string.rep("\xff", 4096), data:sub(1, 4096))
    end)
    local code, rest = stop()
    os.execute("rm -rf " .. sh_quote(dir))
    assert(ok, err)
    assert.are.equal(130, code, rest)
  end)

  it("serves on a pseudo-terminal, finding the stubs next to the binary", function()
    if not have_stubs() then return end
    local _, line, stop = serve("--chip esp32s3 --pty --mac 02:00:00:00:00:07", "env -u ESPFLASH_STUBS")
    local ok, err = pcall(function()
      local path = assert(line):match("^Pseudo%-terminal: (/dev/.+)$")
      assert.is_truthy(path, "pty line: " .. tostring(line))
      local dev <close> = connect.connect{ port = path, before = "no-reset" }
      local info = dev:info()
      assert.are.same({ "esp32s3", "02:00:00:00:00:07", true }, { info.chip, info.mac, info.stub })
      dev:close()
    end)
    local code, rest = stop()
    assert(ok, err)
    assert.are.equal(130, code, rest)
    assert.is_nil(rest:find("No flasher stub found", 1, true))
  end)

  it("warns when no flasher stub can be found", function()
    for _, d in ipairs({ "/usr/local/share/espflash/stubs", "/usr/share/espflash/stubs" }) do
      local f = io.open(d .. "/esp32c3.json")
      if f then
        f:close()
        pending("stubs are installed in " .. d)
        return
      end
    end
    local dir = tmpdir()
    assert(os.execute(string.format("cp %s %s/espflash", sh_quote(BIN), sh_quote(dir))))
    local p = assert(io.popen(string.format(
      "sh -c %s", sh_quote(string.format("echo $$; exec env -u ESPFLASH_STUBS -u ESPFLASH_LUA_DIR "
        .. "%s/espflash sim --chip esp32c3 --listen 127.0.0.1:0 2>&1", sh_quote(dir))))))
    local pid = p:read("l")
    local warn = p:read("l")
    local listening = p:read("l")
    os.execute("kill -INT " .. pid)
    p:read("a")
    p:close()
    os.execute("rm -rf " .. sh_quote(dir))
    assert.matches("No flasher stub found for esp32c3", warn, 1, true)
    assert.matches("scripts/setup-stubs.sh", warn, 1, true)
    assert.matches("^Listening on ", listening)
  end)
end)
