-- nvs.parse on damaged and device-like images: CRC failures of headers,
-- entries and data, erased entries, page states, broken blobs, sequence
-- order; and nvs.format's listing.
local nvs = require("espflash.nvs")
local page = require("espflash.nvs_page")

local function image()
  return nvs.build{ size = 0x4000,
    { namespace = "cfg", entries = {
      { key = "a", type = "u8", value = 1 },
      { key = "s", type = "string", value = "text" },
      { key = "b", type = "u32", value = 3 },
      { key = "blob", type = "blob", value = ("q"):rep(5000) },
    } } }
end

-- Replaces byte(s) at 0-based offset `off`.
local function poke(s, off, bytes) return s:sub(1, off) .. bytes .. s:sub(off + #bytes + 1) end
local function entry_off(pg, i) return pg * 4096 + 64 + 32 * i end
-- Sets the 2 state bits of entry `i` on page `pg`.
local function set_state(s, pg, i, bits)
  local off = pg * 4096 + 32 + i // 4
  local b = s:byte(off + 1) & ~(3 << (2 * (i % 4))) | (bits << (2 * (i % 4)))
  return poke(s, off, string.char(b))
end

local function keys(entries)
  local t = {}
  for _, e in ipairs(entries) do t[#t + 1] = e.key end
  return table.concat(t, ",")
end

describe("nvs.parse", function()
  it("lists an intact image with no problems", function()
    local entries, problems, info = nvs.parse(image())
    assert.are.equal("a,s,b,blob", keys(entries))
    assert.are.same({}, problems)
    assert.are.same({ pages = 4, used = 2 }, info)
  end)

  it("skips and reports an entry whose CRC fails", function()
    local bad = poke(image(), entry_off(0, 1) + 24, "\2")     -- value of 'a' changed, CRC not
    local entries, problems = nvs.parse(bad)
    assert.are.equal("s,b,blob", keys(entries))
    assert.are.equal(1, #problems)
    assert.are.same({ 0, 1 }, { problems[1].page, problems[1].entry })
    assert.matches("entry CRC mismatch %(key 'a'%)", problems[1].message)
    assert.are.equal("page 0 entry 1: entry CRC mismatch (key 'a'); skipped", nvs.problem_text(problems[1]))
  end)

  it("skips a string whose data CRC fails", function()
    local bad = poke(image(), entry_off(0, 3), "T")           -- first data byte of 's'
    local entries, problems = nvs.parse(bad)
    assert.are.equal("a,b,blob", keys(entries))
    assert.matches("data CRC mismatch for key 's'", problems[1].message)
  end)

  it("skips erased entries silently, as ESP-IDF does after an update", function()
    local img = set_state(image(), 0, 4, 0)                   -- 'b' erased (00)
    local entries, problems = nvs.parse(img)
    assert.are.equal("a,s,blob", keys(entries))
    assert.are.same({}, problems)
  end)

  it("skips a page whose header CRC fails, and the blob losing a chunk says so", function()
    local bad = poke(image(), 4096 + 4, "\9")                 -- page 1's sequence number
    local entries, problems = nvs.parse(bad)
    assert.are.equal("a,s,b", keys(entries))
    assert.are.equal(2, #problems)
    assert.matches("blob chunk 0 of 'blob' belongs to no blob index", problems[1].message)
    assert.are.same({ 1 }, { problems[2].page, problems[2].entry })
    assert.matches("^header CRC mismatch %(stored 0x%x+, computed 0x%x+%); skipped$", problems[2].message)
  end)

  it("reports a blob whose index names a chunk that is not there", function()
    local img = image()
    for i = 5, 125 do img = set_state(img, 0, i, 0) end      -- chunk 0 (header and data) erased
    local entries, problems = nvs.parse(img)
    assert.are.equal("a,s,b", keys(entries))
    assert.matches("blob 'blob': chunk 1 of 2 is missing", problems[1].message)
  end)

  it("reports pages marked corrupt, unknown states and data on uninitialised pages", function()
    local img = image()
    img = poke(img, 4096, string.pack("<I4", page.STATE.corrupt))
    img = poke(img, 2 * 4096 + 100, "\0")
    local _, problems = nvs.parse(img)
    local text = {}
    for _, p in ipairs(problems) do text[#text + 1] = nvs.problem_text(p) end
    assert.are.same({
      "page 0 entry 5: blob chunk 0 of 'blob' belongs to no blob index; skipped",
      "page 1: marked corrupt; skipped",
      "page 2: state is uninitialised (0xFFFFFFFF) but the page holds data; skipped",
    }, text)
    local _, p2 = nvs.parse(poke(image(), 0, "\1\2\3\4"))
    assert.matches("unknown page state 0x04030201", p2[1].message)
  end)

  it("reads pages in sequence-number order, not flash order", function()
    local a = nvs.build{ size = 0x3000, { namespace = "x", entries = { { key = "first", type = "u8", value = 1 } } } }
    -- a second page with seq 5 holding one entry of namespace 1, placed before page 0
    local e = page.entry(1, page.TYPE.u8, 1, 0xFF, "second", "\2" .. ("\xFF"):rep(7))
    local p = page.header(page.STATE.active, 5, 2) .. page.bitmap(1) .. e
    p = p .. ("\xFF"):rep(4096 - #p)
    local img = p .. a:sub(1, 4096) .. ("\xFF"):rep(4096)
    local entries, problems = nvs.parse(img)
    assert.are.same({}, problems)
    assert.are.equal("first,second", keys(entries))
    assert.are.same({ "x", 0 }, { entries[2].namespace, entries[2].page })
  end)

  it("names an entry whose namespace is missing by its index", function()
    local img = set_state(image(), 0, 0, 0)                   -- the namespace entry erased
    local entries, problems = nvs.parse(img)
    assert.are.equal("#1", entries[1].namespace)
    assert.matches("namespace index 1, which no namespace entry defines", problems[1].message)
  end)

  it("refuses data shorter than a page and notes a partial last page", function()
    local ok, err = pcall(nvs.parse, ("\xFF"):rep(100))
    assert.is_false(ok)
    assert.are.equal("espflash::nvs::invalid_image", err.code)
    local _, problems = nvs.parse(image() .. "\xFF\xFF")
    assert.matches("2 bytes past the last whole page", problems[1].message)
  end)

  it("formats entries as an aligned table", function()
    local entries = nvs.parse(nvs.build{
      { namespace = "cfg", entries = {
        { key = "serial", type = "string", value = "SN\t1" },
        { key = "n", type = "u64", value = -1 },
        { key = "cert", type = "blob", value = ("\1"):rep(40) },
      } } })
    local text = nvs.format(entries, { { page = 3, message = "oops" } })
    assert.are.equal(table.concat({
      "Namespace  Key     Type    Value",
      'cfg        serial  string  "SN\\t1"',
      "cfg        n       u64     18446744073709551615",
      "cfg        cert    blob    (40 bytes) " .. ("01"):rep(32) .. "…",
      "problem: page 3: oops",
    }, "\n") .. "\n", text)
  end)
end)
