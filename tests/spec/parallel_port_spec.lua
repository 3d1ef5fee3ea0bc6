-- espflash.parallel_port: inside a scheduler task, ports opened with
-- core.open come wrapped, and their waiting methods (read, read_frame,
-- command) give the same answers as the C Port while letting other tasks
-- run; outside a task nothing changes. Also over a real tty (a pty served
-- by `espflash sim --pty`), where writes go out in pieces.
local core = require("espflash.core")
local loader = require("espflash.loader")
local parallel = require("espflash.parallel")
local pp = require("espflash.parallel_port")
local simmod = require("espflash.sim")

local files = require("helpers.files")

local function have_stubs() return files.env_dir("ESPFLASH_STUBS", "esp32c3.json") ~= nil end

local function sim_port(url)
  local sim = simmod.open(url)
  return core.open(url, { sim = sim }), sim
end

describe("cooperative ports", function()
  it("are what core.open gives inside a task, and only there", function()
    local outside = sim_port("sim://esp32c3")
    assert.are.equal("userdata", type(outside))
    local inside
    parallel.map({ 1 }, function()
      inside = sim_port("sim://esp32c3")
      inside:close()
    end)
    assert.are.equal("table", type(inside))
    assert.are.equal("espflash.parallel.Port", getmetatable(inside).__name)
    assert.are.equal("userdata", type(pp.unwrap(inside)))
    assert.matches("espflash.Port", tostring(inside))
    outside:close()
  end)

  it("answer a command exactly as the C port does", function()
    local c_port = sim_port("sim://esp32c3")
    local want = table.pack(c_port:command(loader.OP.SYNC, loader.SYNC_DATA, 0, 100))
    local want_reg = table.pack(c_port:command(loader.OP.READ_REG, loader.words(0x40001000), 0, 3000))
    c_port:close()
    local got, got_reg
    parallel.map({ 1 }, function()
      local p = sim_port("sim://esp32c3")
      got = table.pack(p:command(loader.OP.SYNC, loader.SYNC_DATA, 0, 100))
      got_reg = table.pack(p:command(loader.OP.READ_REG, loader.words(0x40001000), 0, 3000))
      p:close()
    end)
    assert.are.same(want, got)
    assert.are.same(want_reg, got_reg)
    assert.are.equal(loader.OP.READ_REG, got_reg[1])
    assert.are.equal(0x1B31506F, got_reg[2])
  end)

  it("time out like the C port, while the other tasks run", function()
    local c_port = sim_port("sim://esp32c3?fault=stall&fault_at=0")
    local want = table.pack(c_port:command(loader.OP.SYNC, loader.SYNC_DATA, 0, 100))
    local want_frame = table.pack(c_port:read_frame(30))
    c_port:close()
    assert.is_nil(want[1])
    local got, got_frame, got_read, ticks
    local results = parallel.map({ "waiter", "ticker" }, function(role)
      if role == "ticker" then
        ticks = 0
        for _ = 1, 10 do core.sleep(10); ticks = ticks + 1 end
        return
      end
      local p = sim_port("sim://esp32c3?fault=stall&fault_at=0")
      local t0 = core.now()
      got = table.pack(p:command(loader.OP.SYNC, loader.SYNC_DATA, 0, 100))
      got_frame = table.pack(p:read_frame(30))
      got_read = table.pack(p:read(100, 30))
      p:close()
      return core.now() - t0
    end)
    assert.are.same(want, got)
    assert.are.same(want_frame, got_frame)
    assert.are.same({ "", n = 1 }, got_read)
    assert.are.equal(10, ticks, "the ticker ran while the waiter waited")
    assert.is_true(results[1].value >= 0.15)
  end)

  it("report Ctrl-C as INTERRUPTED", function()
    local got
    parallel.map({ 1 }, function()
      local p = sim_port("sim://esp32c3?fault=stall&fault_at=0")
      core.interrupt()
      got = table.pack(p:read_frame(1000))
      p:close()
    end)
    core.clear_interrupt()
    assert.is_nil(got[1])
    assert.are.equal("INTERRUPTED", got[3])
  end)
end)

-- `espflash sim --pty` servers: real ttys for the serial path
local function pty_server(chip)
  local bin = os.getenv("ESPFLASH_BIN")
  if not bin then return nil end
  local proc = assert(core.spawn({ bin, "sim", "--chip", chip, "--pty" }))
  local text, deadline = "", core.now() + 10
  while core.now() < deadline do
    text = text .. (proc:read(4096) or "")
    local path = text:match("Pseudo%-terminal: (%S+)")
    if path then return proc, path end
    core.sleep(20)
  end
  proc:kill()
  error("espflash sim --pty did not start: " .. text)
end

describe("each_device over ptys", function()
  it("writes and reads back through two tty ports at once", function()
    if not have_stubs() or not os.getenv("ESPFLASH_BIN") then
      pending("needs ESPFLASH_BIN and the flasher stubs")
      return
    end
    local s1, p1 = pty_server("esp32c3")
    local s2, p2 = pty_server("esp32s3")
    local data = {}
    for i = 1, 2 do
      local t = {}
      for j = 1, 20000 do t[j] = string.pack("<I4", (j * 2654435761 + i) & 0xFFFFFFFF) end
      data[i] = table.concat(t)   -- 80000 bytes that do not compress
    end
    local serial = {}
    local results = parallel.each_device({ p1, p2 }, function(dev, i)
      serial[i] = rawget(dev.port, "_serial")
      dev:write(0x40000, data[i], { compress = false })
      return dev:read(0x40000, #data[i]) == data[i], dev:info().chip
    end, { connect = { before = "no-reset" } })
    s1:kill()
    s2:kill()
    for i = 1, 2 do
      assert(results[i].ok, results[i].err and results[i].err.message)
      assert.is_true(results[i].value, "read back equals written on " .. i)
      assert.is_true(serial[i], "the port is a tty")
    end
  end)
end)
