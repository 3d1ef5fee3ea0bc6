-- core.slip_encode / core.slip_decode: framing, escapes, noise, bad frames.
local core = require("espflash.core")

describe("core.slip_encode", function()
  it("delimits and escapes C0 and DB", function()
    assert.are.equal("\xc0\xdb\xdc\xdb\xdd\x01\x02\xc0", core.slip_encode("\xc0\xdb\x01\x02"))
    assert.are.equal("\xc0\xc0", core.slip_encode(""))
    assert.are.equal("\xc0abc\xc0", core.slip_encode("abc"))
  end)

  it("encodes the READ_REG example from the protocol notes", function()
    local pkt = "\x00\x0a\x04\x00\x00\x00\x00\x00\x00\x10\x00\x40"
    assert.are.equal("\xc0" .. pkt .. "\xc0", core.slip_encode(pkt))
  end)
end)

describe("core.slip_decode", function()
  it("round-trips every byte value", function()
    local t = {}
    for i = 0, 255 do t[#t + 1] = string.char(i) end
    local s = table.concat(t)
    local frames, noise, dropped = core.slip_decode(core.slip_encode(s))
    assert.are.same({ s }, frames)
    assert.are.equal("", noise)
    assert.are.equal(0, dropped)
  end)

  it("splits back-to-back frames and skips empty ones", function()
    local wire = core.slip_encode("one") .. core.slip_encode("two") .. "\xc0\xc0\xc0" ..
      core.slip_encode("three")
    assert.are.same({ "one", "two", "three" }, (core.slip_decode(wire)))
  end)

  it("keeps bytes outside frames as noise", function()
    local wire = "ets Jun  8 2016\r\n" .. core.slip_encode("a") .. "waiting for download\r\n" ..
      core.slip_encode("b") .. "tail"
    local frames, noise = core.slip_decode(wire)
    assert.are.same({ "a", "b" }, frames)
    assert.are.equal("ets Jun  8 2016\r\nwaiting for download\r\ntail", noise)
  end)

  it("keeps only the last 4 KiB of noise", function()
    local text = {}
    for i = 1, 1000 do text[#text + 1] = string.format("%05d\n", i) end
    text = table.concat(text)
    local _, noise = core.slip_decode(text)
    assert.are.equal(4096, #noise)
    assert.are.equal(text:sub(-4096), noise)
  end)

  it("drops and counts frames with invalid escapes, then resynchronises", function()
    local wire = "\xc0ab\xdb\x01cd\xc0" .. core.slip_encode("ok") .. "\xc0x\xdb\xc0" ..
      core.slip_encode("fine")
    local frames, _, dropped = core.slip_decode(wire)
    assert.are.same({ "ok", "fine" }, frames)
    assert.are.equal(2, dropped)
  end)

  it("loses at most one frame to a stray C0 in boot text", function()
    local wire = "boot \xc0 garbage" .. core.slip_encode("lost") .. core.slip_encode("a") ..
      core.slip_encode("b")
    local frames, noise = core.slip_decode(wire)
    assert.are.same({ " garbage", "a", "b" }, frames)
    assert.are.equal("boot lost", noise)
  end)

  it("returns no frame for an unterminated one", function()
    local frames, noise = core.slip_decode("\xc0partial")
    assert.are.same({}, frames)
    assert.are.equal("", noise)
  end)
end)
