-- Known-answer tests for the digests, zlib and base64 in espflash.core.
local core = require("espflash.core")

local function hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

local function unhex(h)
  return (h:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end))
end

describe("core digests", function()
  it("md5 matches known answers", function()
    assert.are.equal("827f263ef9fb63d05499d14fcef32f60", hex(core.md5(string.rep("\xff", 256))))
    assert.are.equal("d41d8cd98f00b204e9800998ecf8427e", hex(core.md5("")))
    assert.are.equal("9e107d9d372bb6826bd81d3542a419d6",
      hex(core.md5("The quick brown fox jumps over the lazy dog")))
    assert.are.equal(16, #core.md5("x"))
  end)

  it("md5_hex is the lowercase hex of md5", function()
    assert.are.equal("827f263ef9fb63d05499d14fcef32f60", core.md5_hex(string.rep("\xff", 256)))
    local blob = string.rep("\0\1\2\3\xc0\xdb", 5000)
    assert.are.equal(hex(core.md5(blob)), core.md5_hex(blob))
  end)

  it("sha256 matches known answers", function()
    assert.are.equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
      hex(core.sha256("abc")))
    assert.are.equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      hex(core.sha256("")))
    assert.are.equal("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
      hex(core.sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")))
  end)

  it("raises on a non-string argument", function()
    assert.has_error(function() core.md5({}) end)
    assert.has_error(function() core.sha256() end)
  end)
end)

describe("core zlib", function()
  it("inflates a stream made by another zlib user", function()
    -- python3 -c 'import zlib; print(zlib.compress(b"hello").hex())'
    assert.are.equal("hello", core.inflate(unhex("789ccb48cdc9c90700062c0215")))
  end)

  it("round-trips data of many shapes and levels", function()
    local parts = {}
    for i = 0, 40000 do parts[#parts + 1] = string.char((i * 7919) % 251) end
    local noisy = table.concat(parts)
    for _, s in ipairs({ "", "a", string.rep("\xff", 1 << 20), noisy }) do
      for _, level in ipairs({ 0, 1, 6, 9 }) do
        local z = core.deflate(s, level)
        assert.are.equal(0x78, z:byte(1))
        assert.are.equal(s, core.inflate(z))
      end
    end
  end)

  it("compresses repetitive data and defaults to level 9", function()
    local s = string.rep("\xff", 65536)
    local z = core.deflate(s)
    assert.is_true(#z < 200)
    assert.are.equal(0xda, z:byte(2)) -- FLEVEL 3 in the zlib header
    assert.are.equal(z, core.deflate(s, 9))
  end)

  it("fails clearly on corrupt, truncated or padded input", function()
    local z = core.deflate(string.rep("espflash ", 1000))
    local ok, err, code = core.inflate("not zlib at all")
    assert.is_nil(ok)
    assert.are.equal("INVALID_DATA", code)
    assert.matches("^INVALID_DATA: corrupt zlib data", err)
    ok, err, code = core.inflate(z:sub(1, #z - 10))
    assert.is_nil(ok)
    assert.are.equal("INVALID_DATA", code)
    assert.matches("truncated", err)
    ok, err, code = core.inflate(z .. "junk")
    assert.is_nil(ok)
    assert.matches("4 bytes of trailing data", err)
    local bad = z:sub(1, 20) .. string.char(z:byte(21) ~ 0x55) .. z:sub(22)
    assert.is_nil((core.inflate(bad)))
  end)

  it("rejects a bad level", function()
    assert.has_error(function() core.deflate("x", 10) end)
  end)
end)

describe("core base64", function()
  local vectors = {
    { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
    { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
    { "\0\xff\xfe\xc0", "AP/+wA==" },
  }

  it("encodes and decodes the RFC 4648 vectors", function()
    for _, v in ipairs(vectors) do
      assert.are.equal(v[2], core.base64_encode(v[1]))
      assert.are.equal(v[1], core.base64_decode(v[2]))
    end
  end)

  it("accepts unpadded input and line breaks", function()
    assert.are.equal("foob", core.base64_decode("Zm9vYg"))
    assert.are.equal("foobar", core.base64_decode("Zm9v\nYmFy\r\n"))
  end)

  it("round-trips all byte values", function()
    local t = {}
    for i = 0, 255 do t[#t + 1] = string.char(i) end
    local s = table.concat(t):rep(3)
    assert.are.equal(s, core.base64_decode(core.base64_encode(s)))
  end)

  it("fails on invalid input", function()
    for _, bad in ipairs({ "Zm9v!", "Z", "Zm9vY", "Zg=", "Zg===", "Zg==Zg==", "Zm-v" }) do
      local ok, err, code = core.base64_decode(bad)
      assert.is_nil(ok, bad)
      assert.are.equal("INVALID_DATA", code)
      assert.matches("^INVALID_DATA: ", err)
    end
  end)
end)
