-- Hundreds of malformed partition tables, CSV and binary: each must give a
-- table or an espflash::partition_table::* error object, never a Lua
-- runtime error. Valid results must also survive conversion and display.
local core = require("espflash.core")
local errors = require("espflash.errors")
local partitions = require("espflash.partitions")
local show = require("espflash.partitions_show")

local seed = tonumber(os.getenv("FUZZ_SEED") or "") or 20240601
math.randomseed(seed)

local function pick(list) return list[math.random(#list)] end

local NAMES = { "nvs", "phy_init", "factory", "ota_0", "x", "", "a,b", '"q"', ("n"):rep(40), "\0z", "ü" }
local TYPES = { "app", "data", "bootloader", "partition_table", "0x40", "0xfe", "0xff", "255", "-1", "", "APP", "0x", "1e3" }
local SUBS = { "factory", "ota_0", "ota_15", "ota_16", "test", "nvs", "phy", "ota", "spiffs", "fat", "littlefs",
               "0x84", "0", "0x100", "", "primary", "recovery", "tee_0", "nope" }
local NUMS = { "", "0", "0x9000", "0x10000", "0x10001", "4K", "1M", "16M", "17M", "0xFFFFFFFF", "0x100000000",
               "99999999999999999999", "-4K", "1k", "0x_1", "1_", "0b101", "0o777", "12a", " 0x20000 ", "4096" }
local FLAGS = { "", "encrypted", "readonly", "encrypted:readonly", "secret", ":", "encrypted:", "ENCRYPTED" }

local VALID = {
  { "nvs", "data", "nvs", "0x9000", "0x4000", "" }, { "otadata", "data", "ota", "0xd000", "0x2000", "" },
  { "factory", "app", "factory", "0x10000", "1M", "" }, { "ota_0", "app", "ota_0", "", "1M", "" },
  { "storage", "data", "spiffs", "", "64K", "encrypted" },
}

-- A valid table with a few fields replaced by random tokens, sometimes with
-- extra lines of comments, garbage or wrong separators.
local function random_csv()
  local lines = {}
  for _, row in ipairs(VALID) do
    if math.random() < 0.85 then
      local f = { table.unpack(row) }
      for _ = 1, math.random() < 0.3 and math.random(1, 2) or 0 do
        local i = math.random(1, 6)
        f[i] = pick(({ NAMES, TYPES, SUBS, NUMS, NUMS, FLAGS })[i])
      end
      local n = math.random() < 0.1 and math.random(1, 7) or 6
      local out = {}
      for i = 1, math.min(n, 6) do out[i] = f[i] end
      if n == 7 then out[7] = "extra" end
      lines[#lines + 1] = table.concat(out, math.random() < 0.95 and "," or ";")
    end
  end
  local r = math.random()
  if r < 0.1 then
    table.insert(lines, math.random(1, #lines + 1), "# comment " .. math.random(1000))
  elseif r < 0.15 then
    local bytes = {}
    for i = 1, math.random(1, 40) do bytes[i] = string.char(math.random(0, 255)) end
    table.insert(lines, math.random(1, #lines + 1), table.concat(bytes))
  end
  return table.concat(lines, math.random() < 0.8 and "\n" or "\r\n")
end

local function valid_binary()
  return partitions.parse("nvs,data,nvs,0x9000,0x6000\nphy_init,data,phy,0xf000,0x1000\n"
    .. "factory,app,factory,0x10000,1M\nstorage,data,spiffs,0x110000,0x10000,encrypted\n"):to_binary()
end

local function random_binary(base)
  local b = base
  local r = math.random()
  if r < 0.15 then
    return b:sub(1, math.random(0, #b))                    -- truncated
  end
  local n = math.random(1, 6)
  for _ = 1, n do
    local at = math.random(1, 32 * 5)                       -- entries and the MD5 entry
    b = b:sub(1, at - 1) .. string.char(math.random(0, 255)) .. b:sub(at + 1)
  end
  if math.random() < 0.6 then                               -- fix the MD5 to reach the rules
    local rows = 4
    b = b:sub(1, rows * 32) .. "\xEB\xEB" .. ("\xFF"):rep(14) .. core.md5(b:sub(1, rows * 32)) .. b:sub(rows * 32 + 33)
  end
  if math.random() < 0.1 then b = b .. ("\xAA"):rep(math.random(1, 64)) end
  return b
end

local function check(data, what)
  local ok, res = pcall(partitions.parse, data)
  if ok then
    local ok2, err = pcall(function()
      show.render(res)
      partitions.parse(res:to_binary())
      local ok3, e3 = pcall(res.to_csv, res)
      if not ok3 then assert(errors.is(e3), tostring(e3)) end
    end)
    assert(ok2 or errors.is(err), what .. ": conversion raised a Lua error: " .. tostring(err))
    return "ok"
  end
  assert(errors.is(res), what .. ": raised a Lua error instead of an error object: " .. tostring(res))
  assert(res.code:match("^espflash::partition_table::"), what .. ": unexpected code " .. tostring(res.code))
  assert(type(res.message) == "string" and #res.message > 0)
  return "error"
end

describe("malformed partition tables (seed " .. seed .. ")", function()
  it("CSV: 600 random tables give a table or an error object", function()
    local count = { ok = 0, error = 0 }
    for i = 1, 600 do
      local r = check(random_csv(), "csv #" .. i)
      count[r] = count[r] + 1
    end
    print(("\n  CSV: %d accepted, %d rejected"):format(count.ok, count.error))
    assert.is_true(count.error > 300, "most random tables should be rejected")
    assert.is_true(count.ok > 0, "some random tables should be accepted")
  end)

  it("binary: 600 mutated tables give a table or an error object", function()
    local base = valid_binary()
    local count = { ok = 0, error = 0 }
    for i = 1, 600 do
      local r = check(random_binary(base), "binary #" .. i)
      count[r] = count[r] + 1
    end
    print(("\n  binary: %d accepted, %d rejected"):format(count.ok, count.error))
    assert.is_true(count.error > 100)
    assert.is_true(count.ok > 50)
  end)

  it("fit checks on accepted tables never raise Lua errors", function()
    local base = valid_binary()
    for i = 1, 300 do
      local ok, t = pcall(partitions.parse, random_binary(base))
      if ok then
        local size = 1 << math.random(18, 28)
        local ok2, err = pcall(t.check_layout, t, { flash_size = size, flash_size_name = tostring(size),
          table_offset = math.random(0, 16) * 0x1000, bootloader_offset = 0, bootloader_size = math.random(0, 0x9000) })
        assert(ok2 or errors.is(err), "layout #" .. i .. ": " .. tostring(err))
        local ok3, err3 = pcall(t.offset, t)
        assert(ok3 or errors.is(err3), "offset #" .. i .. ": " .. tostring(err3))
      end
    end
  end)
end)
