-- require "espflash": the stable names resolve (functions and modules), the
-- version matches the binary's, list_ports and ports work, modules load on
-- first use, and a name that is no module is nil.
local espflash = require("espflash")

describe("the espflash facade", function()
  it("has every name of its stable API", function()
    for _, f in ipairs(espflash.API.functions) do
      assert.are.equal("function", type(espflash[f]), f)
    end
    for _, m in ipairs(espflash.API.modules) do
      assert.are.equal(require("espflash." .. m), espflash[m], m)
    end
    assert.is_nil(espflash.no_such_module)
    assert.is_nil(espflash["not a name"])
  end)

  it("makes connect callable", function()
    local stubs = os.getenv("ESPFLASH_STUBS")
    local f = stubs and io.open(stubs .. "/esp32c3.json", "rb")
    if not f then pending("flasher stubs not installed in $ESPFLASH_STUBS"); return end
    f:close()
    local dev <close> = espflash.connect{ port = "sim://esp32c6" }
    assert.are.equal("esp32c6", dev:info().chip)
  end)

  it("has the binary's version", function()
    assert.matches("^%d+%.%d+%.%d+", espflash.version)
    local bin = os.getenv("ESPFLASH_BIN")
    if not bin then pending("ESPFLASH_BIN not set"); return end
    local p = assert(io.popen(bin .. " --version"))
    local out = p:read("a")
    p:close()
    assert.are.equal("espflash " .. espflash.VERSION .. "\n", out)
    assert.are.equal(espflash.VERSION, espflash.version)
  end)

  it("lists the system's ports, sorted, with known flags", function()
    local all = espflash.list_ports()
    local raw = assert(espflash.core.list_ports())
    assert.are.equal(#raw, #all)
    for i, p in ipairs(all) do
      assert.is_string(p.name)
      assert.is_boolean(p.known)
      if i > 1 then assert.is_true(espflash.portspec.natural_less(all[i - 1].name, p.name)) end
    end
    for _, p in ipairs(espflash.list_ports{ known = true }) do assert.is_true(p.known) end
  end)

  it("expands port values", function()
    assert.are.same({ "sim://esp32c3", "/dev/ttyUSB0" }, espflash.ports("sim://esp32c3, /dev/ttyUSB0"))
    local ok, err = pcall(espflash.ports, "")
    assert.is_false(ok)
    assert.are.equal("usage", err.code)
  end)

  it("each_device is parallel.each_device", function()
    local ok, err = pcall(espflash.each_device, {}, nil)
    assert.is_false(ok)
    assert.are.equal("espflash::invalid_argument", err.code)
    local results = espflash.each_device({}, function() end)
    assert.are.equal(0, #results)
    assert.is_true(results.all_ok)
  end)
end)
