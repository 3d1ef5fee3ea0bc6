-- Partition names through CSV. ESP-IDF's gen_esp32part.py splits a CSV line
-- on commas and strips every field (quotes are taken literally); espflash
-- (esp-idf-part, the `csv` crate with Trim::All) honours quotes but trims
-- inside them too. So a name with leading or trailing whitespace — which a
-- binary table can hold, e.g. a 16-byte cut — cannot reach either through
-- CSV: to_csv refuses it with a clear error instead of writing a CSV that
-- comes back as another name. The fuzz_partitions corpus is replayed here
-- through the fuzz target's own property (tests/fuzz/partitions_check.lua),
-- so its regression inputs run without a libFuzzer build.
local core = require("espflash.core")
local errors = require("espflash.errors")
local partitions = require("espflash.partitions")
local check = require("fuzz.partitions_check")

local root = os.getenv("ESPFLASH_SOURCE_DIR") or "."
local CORPUS = root .. "/tests/fuzz/corpus/fuzz_partitions"

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

-- A binary table as ESP-IDF lays it out: factory app plus one data
-- partition called `name` (raw bytes, up to 16).
local function binary_with(name)
  local function row(n, ty, sub, off, size)
    return "\xAA\x50" .. string.char(ty, sub) .. string.pack("<I4I4", off, size)
      .. n .. ("\0"):rep(16 - #n) .. string.pack("<I4", 0)
  end
  local b = row("factory", 0, 0, 0x10000, 0x100000) .. row(name, 1, 2, 0x9000, 0x6000)
  b = b .. "\xEB\xEB" .. ("\xFF"):rep(14) .. core.md5(b)
  return b .. ("\xFF"):rep(0xC00 - #b)
end

local function refusal(fn)
  local ok, err = pcall(fn)
  assert.is_false(ok, "expected a refusal")
  assert.is_true(errors.is(err), tostring(err))
  assert.are.equal("espflash::partition_table::invalid", err.code)
  assert.is_falsy(err.message:find("\n"), "one line: " .. err.message)
  return err
end

describe("partition names through CSV", function()
  it("replays the fuzz_partitions corpus through the fuzz property", function()
    local n = 0
    for name in io.popen('ls "' .. CORPUS .. '"'):lines() do
      local ok, err = pcall(check, read(CORPUS .. "/" .. name))
      assert.is_true(ok or errors.is(err), name .. ": " .. tostring(err))
      n = n + 1
    end
    assert.is_true(n >= 6, "the corpus is there (" .. n .. " files in " .. CORPUS .. ")")
  end)

  it("refuses the regression input's name (trailing spaces) in to_csv, and keeps it in binary", function()
    local bytes = read(CORPUS .. "/regress-name-trailing-spaces")
    local t = partitions.parse(bytes)
    local spaced
    for _, p in ipairs(t.partitions) do
      if p.name:match("%s$") then spaced = p.name end
    end
    assert.is_truthy(spaced, "the input has a name ending in spaces")
    local err = refusal(function() return t:to_csv() end)
    assert.is_truthy(err.message:find("'" .. spaced .. "' cannot be written as CSV", 1, true), err.message)
    assert.is_truthy(err.message:find("starts or ends with whitespace", 1, true), err.message)
    assert.is_truthy(err.hint:find("binary form", 1, true), err.hint)
    -- binary → table → binary keeps the name, spaces and all
    assert.are.equal(spaced, partitions.parse(t:to_binary()):find(spaced).name)
  end)

  for _, c in ipairs({
    { "trailing spaces", "storage   ", "starts or ends with whitespace", "'storage   '" },
    { "a leading space", " storage", "starts or ends with whitespace", "' storage'" },
    { "a trailing tab", "storage\t", "starts or ends with whitespace", "'storage\\x09'" },
    { "a line break", "sto\nrage", "contains a line break", "'sto\\x0arage'" },
    { "a carriage return", "sto\rrage", "contains a line break", "'sto\\x0drage'" },
    { "bytes that are not UTF-8", "sto\xff\xferage", "is not UTF-8 text", "'sto\\xff\\xferage'" },
  }) do
    it("refuses a name with " .. c[1] .. " in to_csv, naming it", function()
      local t = partitions.parse(binary_with(c[2]))
      assert.are.equal(c[2], t.partitions[2].name)
      local err = refusal(function() return t:to_csv() end)
      assert.is_truthy(err.message:find(c[3], 1, true), err.message)
      assert.is_truthy(err.message:find(c[4], 1, true), err.message)
    end)
  end

  for _, name in ipairs({ "mid dle", "a,b", 'q"x', "#hash", "ü-data", "sixteen_chars_ok" }) do
    it(("writes %q so that CSV reads it back unchanged"):format(name), function()
      local t = partitions.parse(binary_with(name))
      local csv = t:to_csv()
      local back = partitions.parse(csv)
      assert.are.equal(name, back.partitions[2].name)
      assert.are.equal(t:to_binary(), back:to_binary())
    end)
  end

  it("trims spaces inside quotes when reading CSV, as espflash does", function()
    local t = partitions.parse('"  nvs  ", data, nvs, 0x9000, 0x6000\nfactory, app, factory, 0x10000, 1M\n')
    assert.are.equal("nvs", t.partitions[1].name)
    -- quotes still group a comma
    t = partitions.parse('"a, b", data, nvs, 0x9000, 0x6000\nfactory, app, factory, 0x10000, 1M\n')
    assert.are.equal("a, b", t.partitions[1].name)
  end)
end)
