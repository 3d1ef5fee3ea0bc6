-- espflash.stubs: the search path, JSON decoding, revision-dependent choice
-- and the clear error when a stub is missing. Search-path cases run in a
-- child lua5.4 so that ESPFLASH_STUBS / ESPFLASH_LUA_DIR can differ.
local stubs = require("espflash.stubs")
local chips = require("espflash.chips")
local errors = require("espflash.errors")
local core = require("espflash.core")

local files = require("helpers.files")
local tmpdir, write = files.tmpdir, files.write

-- Runs `code` in a child lua5.4 with the given environment; returns its stdout.
local function child(env, code)
  local vars = {}
  for k, v in pairs(env) do vars[#vars + 1] = string.format("%s='%s'", k, v) end
  local cmd = string.format("env %s lua5.4 -e '%s' 2>&1", table.concat(vars, " "), code)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  p:close()
  return out
end

local FAKE = '{"entry": 1077415578, "text": "%s", "text_start": 1077411840, '
  .. '"data": "%s", "data_start": 1070165352, "bss_start": 1070151680}'

describe("stubs", function()
  local dir

  setup(function()
    dir = tmpdir()
    write(dir .. "/esp32c3.json", FAKE:format(core.base64_encode("TEXT\0\1\2"), core.base64_encode("DATA")))
    write(dir .. "/esp32p4-rev1.json", FAKE:format(core.base64_encode("rev1"), ""))
    write(dir .. "/esp32p4.json", FAKE:format(core.base64_encode("rev3"), ""))
    write(dir .. "/broken.json", '{"entry": "x"}')
  end)

  teardown(function()
    os.execute("rm -rf '" .. dir .. "'")
  end)

  it("searches ESPFLASH_STUBS, then the source tree's build/stubs, then the share directories", function()
    local out = child({ ESPFLASH_STUBS = "/a", ESPFLASH_LUA_DIR = "/src" },
      'print(table.concat(require("espflash.stubs").search_dirs(), "|"))')
    assert.are.equal("/a|/src/build/stubs|/usr/local/share/espflash/stubs|/usr/share/espflash/stubs\n", out)
    out = child({ ESPFLASH_STUBS = "", ESPFLASH_LUA_DIR = "" },
      'print(table.concat(require("espflash.stubs").search_dirs(), "|"))')
    assert.are.equal("/usr/local/share/espflash/stubs|/usr/share/espflash/stubs\n", out)
  end)

  it("decodes a stub JSON into integers and binary strings", function()
    local s = stubs.decode_file(dir .. "/esp32c3.json", "esp32c3")
    assert.are.same({ name = "esp32c3", path = dir .. "/esp32c3.json", entry = 0x40380E9A,
                      text_start = 0x40380000, data_start = 0x3FC96D68, bss_start = 0x3FC93800,
                      text = "TEXT\0\1\2", data = "DATA" }, s)
    assert.are.equal("integer", math.type(s.entry))
  end)

  it("refuses a malformed stub file", function()
    local ok, e = pcall(stubs.decode_file, dir .. "/broken.json", "broken")
    assert.is_false(ok)
    assert.are.equal("espflash::invalid_stub", e.code)
    assert.matches("'entry'", e.message, 1, true)
  end)

  it("loads through ESPFLASH_STUBS and picks the rc1 stub for ESP32-P4 before v3.0", function()
    local code = 'local s = require("espflash.stubs") '
      .. 'print(s.load("esp32c3").entry, s.load("esp32p4", {major=1, minor=0}).text, '
      .. 's.load("esp32p4", {major=3, minor=0}).text, s.load("esp32p4").text, '
      .. 'table.concat(s.entries(require("espflash.chips").get("esp32p4")), ","))'
    local out = child({ ESPFLASH_STUBS = dir }, code)
    assert.are.equal(string.format("%d\trev1\trev3\trev3\t%d,%d\n", 0x40380E9A, 0x40380E9A, 0x40380E9A), out)
  end)

  it("names the stub, the places searched and the setup script when a stub is missing", function()
    local ok, e = pcall(stubs.load, { name = "esp32x", stub = "no-such-stub" })
    assert.is_false(ok)
    assert.is_true(errors.is(e))
    assert.are.equal("espflash::stub_not_found", e.code)
    assert.matches("'no-such-stub.json' not found", e.message, 1, true)
    assert.matches("/usr/share/espflash/stubs", e.message, 1, true)
    assert.matches("scripts/setup-stubs.sh", e.hint, 1, true)
    assert.are.same({}, stubs.entries({ name = "esp32x", stub = "no-such-stub" }))
  end)

  it("lists every stub a chip may run", function()
    assert.are.same({ "esp32p4", "esp32p4-rev1" }, stubs.names_for(chips.get("esp32p4")))
    assert.are.same({ "esp32c3" }, stubs.names_for(chips.get("esp32c3")))
    assert.are.equal("esp32s3", stubs.name_for(chips.get("esp32s3"), { major = 0, minor = 2 }))
  end)

  describe("installed esptool-js stubs", function()
    local have = os.getenv("ESPFLASH_STUBS") and io.open(os.getenv("ESPFLASH_STUBS") .. "/esp32c3.json")
    if have then have:close() end

    it("are found for every chip, with entries inside their text or data", function()
      if not have then
        pending("no stubs in $ESPFLASH_STUBS (run scripts/setup-stubs.sh)")
        return
      end
      for _, chip in ipairs(chips.all()) do
        for _, name in ipairs(stubs.names_for(chip)) do
          local s = stubs.decode_file(assert(stubs.find(name)), name)
          assert.is_true(#s.text > 1000, name .. " text")
          assert.is_true(s.entry >= s.text_start and s.entry < s.text_start + #s.text, name .. " entry")
        end
      end
      -- the ESP32-C3 stub 2 entry quoted in protocol.md §5.1
      assert.are.same({ 0x40380E9A }, stubs.entries(chips.get("esp32c3")))
      assert.are.equal(2, #stubs.entries(chips.get("esp32p4")))
    end)
  end)
end)
