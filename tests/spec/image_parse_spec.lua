-- image.parse on images packed here by hand (protocol.md §7.1): fields,
-- checksum and digest validity, damaged and cut-short images, and the
-- memory map behind the region names.
local core = require("espflash.core")
local errors = require("espflash.errors")
local chips = require("espflash.chips")
local image = require("espflash.image")
local memory = require("espflash.image_memory")

-- header, segments {addr, data}, zero padding to 15 mod 16, checksum, SHA-256
local function pack_image(segments, opts)
  opts = opts or {}
  local parts = { string.pack("<BBBBI4BBBBI2BI2I2c4B", 0xE9, #segments, 2, 0x2F, 0x42000020,
    0xEE, 0, 0, 0, opts.chip_id or 5, 1, 101, 199, "\0\0\0\0", opts.digest == false and 0 or 1) }
  local len, ck = 24, 0xEF
  for _, s in ipairs(segments) do
    parts[#parts + 1] = string.pack("<I4I4", s[1], #s[2]) .. s[2]
    len = len + 8 + #s[2]
    for i = 1, #s[2] do ck = ck ~ s[2]:byte(i) end
  end
  parts[#parts + 1] = ("\0"):rep(15 - len % 16) .. string.char(ck)
  local data = table.concat(parts)
  if opts.digest ~= false then data = data .. core.sha256(data) end
  return data
end

local SEGS = {
  { 0x3C000020, ("\x32\x54\xCD\xAB") .. ("d"):rep(252) },
  { 0x3FC80000, ("r"):rep(0x40) },
  { 0x42010020, ("t"):rep(0x100) },
}

describe("image.parse", function()
  it("reads the header, the extended header and the segments", function()
    local info = image.parse(pack_image(SEGS))
    local h = info.header
    assert.are.same({ 0xE9, 3, 2, 2, 0xF, 0x42000020 },
      { h.magic, h.segment_count, h.flash_mode, h.size_code, h.freq_code, h.entry })
    assert.are.same({ 0xEE, 5, 1, 101, 199, 1 },
      { h.wp_pin, h.chip_id, h.min_rev, h.min_chip_rev_full, h.max_chip_rev_full, h.append_digest })
    assert.are.equal("esp32c3", info.chip.name)
    assert.are.equal(3, #info.segments)
    assert.are.same({ 0x3C000020, 256, 0x20, "DROM", true },
      { info.segments[1].addr, info.segments[1].length, info.segments[1].offset,
        info.segments[1].region, info.segments[1].flash })
    assert.are.equal("DRAM", info.segments[2].region)
    assert.are.equal("IROM", info.segments[3].region)
    assert.is_true(info.checksum.valid)
    assert.is_true(info.digest.valid)
    assert.are.equal(0, info.extra)
    assert.is_truthy(info.app_desc)
  end)

  it("reports a damaged segment as a wrong checksum and a wrong digest", function()
    local data = pack_image(SEGS)
    local at = 0x20 + 300
    local bad = data:sub(1, at) .. "X" .. data:sub(at + 2)
    local info = image.parse(bad)
    assert.is_false(info.checksum.valid)
    assert.is_false(info.digest.valid)
    assert.are_not.equal(info.checksum.stored, info.checksum.computed)
  end)

  it("reports a wrong checksum byte with a correct digest", function()
    local data = pack_image(SEGS)
    local body = data:sub(1, -33)
    body = body:sub(1, -2) .. string.char(body:byte(-1) ~ 0x55)
    local info = image.parse(body .. core.sha256(body))
    assert.is_false(info.checksum.valid)
    assert.is_true(info.digest.valid)
  end)

  it("handles images without a digest and counts trailing bytes", function()
    local info = image.parse(pack_image(SEGS, { digest = false }) .. ("\xFF"):rep(100))
    assert.is_nil(info.digest)
    assert.are.equal(100, info.extra)
    assert.is_true(info.checksum.valid)
  end)

  it("refuses data that is not an image, or is cut short, with a clear error", function()
    local data = pack_image(SEGS)
    for _, n in ipairs({ 0, 1, 23, 24, 31, 40, 300, #data - 33, #data - 1 }) do
      local ok, err = pcall(image.parse, data:sub(1, n))
      assert.is_false(ok, "cut at " .. n)
      assert.are.equal("espflash::invalid_image", err.code)
    end
    local ok, err = pcall(image.parse, "\x7FELF" .. data:sub(5))
    assert.is_false(ok)
    assert.matches("0x7f, an image starts with 0xE9", err.message)
  end)

  it("never raises a Lua error on 400 mutated images", function()
    math.randomseed(7)
    local data = pack_image(SEGS)
    for i = 1, 400 do
      local d = data
      for _ = 1, math.random(1, 6) do
        local at = math.random(1, math.min(#d, 48))
        d = d:sub(1, at - 1) .. string.char(math.random(0, 255)) .. d:sub(at + 1)
      end
      if math.random() < 0.3 then d = d:sub(1, math.random(0, #d)) end
      local ok, err = pcall(image.parse, d)
      assert(ok or errors.is(err), ("mutation %d: %s"):format(i, tostring(err)))
    end
  end)
end)

describe("image memory map", function()
  it("agrees with each chip table's flash ranges", function()
    for _, chip in ipairs(chips.all()) do
      local mine = memory.chips[chip.name]
      assert.is_truthy(mine, "no memory map for " .. chip.name)
      for _, r in ipairs(chip.flash_ranges or {}) do
        assert.is_true(memory.is_flash(chip, r[1]) and memory.is_flash(chip, r[2] - 1), chip.name)
        local named = memory.region_name(chip, r[1])
        assert.is_truthy(named:match("ROM") or named == "FLASH", chip.name .. " " .. named)
      end
      for _, reg in ipairs(mine.ram) do
        assert.is_false(memory.is_flash(chip, reg[1]), chip.name .. " " .. reg[3])
        assert.are.equal(reg[3], memory.region_name(chip, reg[1]))
      end
    end
  end)
end)
