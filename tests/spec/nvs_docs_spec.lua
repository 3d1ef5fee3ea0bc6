-- docs/nvs.md: every ```lua example runs as written, and the CSV example
-- builds (its file row served from a stand-in certificate). Also core.crc32
-- against the CRC-32 check value and zlib's chaining.
local core = require("espflash.core")
local nvs = require("espflash.nvs")

local function doc()
  local f = assert(io.open("docs/nvs.md", "rb"))
  local text = f:read("a")
  f:close()
  return text
end

describe("docs/nvs.md", function()
  it("has Lua examples that run", function()
    local n = 0
    for code in doc():gmatch("```lua\n(.-)```") do
      n = n + 1
      local env = setmetatable({ print = function() end }, { __index = _G })
      local chunk = assert(load(code, "docs/nvs.md example " .. n, "t", env))
      chunk()
    end
    assert.is_true(n >= 2)
  end)

  it("has a CSV example that builds and lists the entries it shows", function()
    local csv = doc():match("```\n(key,type,encoding,value\n# one device.-)```")
    assert.is_string(csv)
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. dir .. "/certs"))
    local f = assert(io.open(dir .. "/certs/device.der", "wb"))
    f:write(("\48"):rep(5000))
    f:close()
    local image, stats = nvs.from_csv(csv, { base_dir = dir })
    os.execute("rm -rf " .. dir)
    assert.are.same({ 8, 2, 2 }, { stats.entries, stats.namespaces, stats.pages_used })
    local listing = nvs.format((nvs.parse(image)))
    assert.matches('factory    serial  string  "SN-0042"', listing, 1, true)
    assert.matches("factory    uid     u64     18446744073709551615", listing, 1, true)
  end)
end)

describe("core.crc32", function()
  it("is zlib's CRC-32", function()
    assert.are.equal(0xCBF43926, core.crc32("123456789"))
    assert.are.equal(0, core.crc32(""))
    assert.are.equal(0xFFFFFFFF, core.crc32("", 0xFFFFFFFF))
    assert.are.equal(core.crc32("123456789"), core.crc32("6789", core.crc32("12345")))
    -- Python: zlib.crc32(b"123456789", 0xFFFFFFFF), as nvs_partition_gen calls it
    assert.are.equal(0xD202D277, core.crc32("123456789", 0xFFFFFFFF))
  end)

  it("rejects an initial value outside 32 bits", function()
    assert.has_error(function() core.crc32("x", -1) end)
    assert.has_error(function() core.crc32("x", 0x100000000) end)
  end)
end)
