-- espflash.portspec: --port values naming several ports. Lists, URLs passed
-- through, globs against a real directory (and /dev), `all` from a port
-- list, natural order, duplicates dropped, clear errors.
local portspec = require("espflash.portspec")

local function usage_error(f)
  local ok, err = pcall(f)
  assert.is_false(ok)
  assert.are.equal("usage", err.code)
  return err
end

describe("portspec.expand", function()
  local dir
  before_each(function()
    dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. dir))
    for _, name in ipairs({ "ttyUSB10", "ttyUSB2", "ttyUSB0", "ttyACM0", ".ttyUSB9", "other" }) do
      assert(io.open(dir .. "/" .. name, "w")):close()
    end
  end)
  after_each(function() os.execute("rm -rf " .. dir) end)

  it("splits lists, trims, keeps URLs whole and drops repeats", function()
    assert.are.same({ "/dev/ttyUSB0", "sim://esp32c3?mac=aa:bb:cc:dd:ee:ff&link=1", "socket://127.0.0.1:4000" },
      portspec.expand(" /dev/ttyUSB0 ,sim://esp32c3?mac=aa:bb:cc:dd:ee:ff&link=1,, socket://127.0.0.1:4000,/dev/ttyUSB0"))
    assert.are.same({ "/dev/ttyUSB3" }, portspec.expand("/dev/ttyUSB3"))
    assert.are.same({ "a", "b" }, portspec.expand({ "a", "b" }))
  end)

  it("expands a glob in the last component, in natural order, without hidden files", function()
    assert.are.same({ dir .. "/ttyUSB0", dir .. "/ttyUSB2", dir .. "/ttyUSB10" },
      portspec.expand(dir .. "/ttyUSB*"))
    assert.are.same({ dir .. "/ttyACM0", dir .. "/ttyUSB0" }, portspec.expand(dir .. "/tty[AU]??0"))
    assert.are.same({ dir .. "/ttyUSB2" }, portspec.expand(dir .. "/ttyUSB[!01]"))
    assert.are.same({ dir .. "/ttyUSB0", dir .. "/ttyUSB2", dir .. "/ttyUSB10", "sim://esp32c3" },
      portspec.expand(dir .. "/ttyUSB*,sim://esp32c3," .. dir .. "/ttyUSB2"))
  end)

  it("expands a glob under /dev", function()
    local ptmx = portspec.expand("/dev/ptm?")
    assert.are.same({ "/dev/ptmx" }, ptmx)
  end)

  it("refuses a glob that matches nothing, or one before the last '/'", function()
    local err = usage_error(function() portspec.expand(dir .. "/ttyXYZ*") end)
    assert.matches("no port matches '.*/ttyXYZ%*'", err.message)
    err = usage_error(function() portspec.expand("/dev/*/ttyUSB0") end)
    assert.matches("glob characters before its last '/'", err.message)
    usage_error(function() portspec.expand("  ") end)
    usage_error(function() portspec.expand(",,") end)
  end)

  it("expands all to the known boards of the port list", function()
    local ports = {
      { name = "/dev/ttyUSB10", type = "usb", vid = 0x10C4, pid = 0xEA60 },
      { name = "/dev/ttyUSB2", type = "usb", vid = 0x1A86, pid = 0x7523 },
      { name = "/dev/ttyACM0", type = "usb", vid = 0x303A, pid = 0x1001 },
      { name = "/dev/ttyUSB3", type = "usb", vid = 0x0403, pid = 0x6001 },   -- FTDI: not a known board
      { name = "/dev/ttyS0", type = "pci" },
    }
    assert.are.same({ "/dev/ttyACM0", "/dev/ttyUSB2", "/dev/ttyUSB10", "sim://esp32c3" },
      portspec.expand("all,sim://esp32c3", { list_ports = function() return ports end }))
    local ok, err = pcall(portspec.expand, "ALL", { list_ports = function() return { ports[4] } end })
    assert.is_false(ok)
    assert.are.equal("espflash::no_serial", err.code)
    assert.matches("no known development board", err.message)
  end)

  it("expands all from the system's ports", function()
    local core = require("espflash.core")
    local known = portspec.known_boards(assert(core.list_ports()))
    if #known == 0 then
      local ok, err = pcall(portspec.expand, "all")
      assert.is_false(ok)
      assert.are.equal("espflash::no_serial", err.code)
    else
      assert.are.same(known, portspec.expand("all"))
    end
  end)
end)

describe("portspec helpers", function()
  it("tell single ports from multi-port values", function()
    assert.is_false(portspec.is_multi("/dev/ttyUSB0"))
    assert.is_false(portspec.is_multi("sim://esp32c3?a=1"))
    assert.is_true(portspec.is_multi("/dev/ttyUSB*"))
    assert.is_true(portspec.is_multi("all"))
    assert.is_true(portspec.is_multi("/dev/ttyUSB0,/dev/ttyUSB1"))
    assert.is_false(portspec.is_multi(nil))
  end)

  it("turn globs into patterns", function()
    local p = portspec.glob_pattern("usb-Silicon_Labs*.if00-port?")
    assert.is_truthy(("usb-Silicon_Labs_CP2102_0001.if00-port0"):match(p))
    assert.is_falsy(("usb-Silicon_Labs_CP2102_0001.if00-port10"):match(p))
    assert.is_falsy(("usb-SiliconXLabs.if00-port0"):match(p))
    assert.is_truthy(("a%b"):match(portspec.glob_pattern("a%b")))
    assert.is_truthy(("ttyUSB3"):match(portspec.glob_pattern("ttyUSB[0-4]")))
    assert.is_falsy(("ttyUSB5"):match(portspec.glob_pattern("ttyUSB[0-4]")))
  end)

  it("sort numbers by value", function()
    local names = { "ttyUSB10", "ttyUSB9", "ttyACM1", "ttyUSB1" }
    table.sort(names, portspec.natural_less)
    assert.are.same({ "ttyACM1", "ttyUSB1", "ttyUSB9", "ttyUSB10" }, names)
  end)

  it("list a directory", function()
    local names = assert(portspec.listdir("/dev"))
    local has = {}
    for _, n in ipairs(names) do has[n] = true end
    assert.is_true(has.null and has.ptmx)
    assert.is_nil(portspec.listdir("/nonexistent-dir-for-espflash"))
  end)
end)
