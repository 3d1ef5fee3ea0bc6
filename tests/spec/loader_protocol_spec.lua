-- The pure parts of the loader protocol: payloads, checksums, timeouts and
-- status bytes, plus Loader:try's reply handling against a scripted port
-- (end-to-end behaviour is tested against the virtual device in device_*).
local core = require("espflash.core")
local loader = require("espflash.loader")

local OP = loader.OP

local function hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

-- A port that answers each command with the next scripted reply.
local function scripted(replies)
  local port = { sent = {}, flushed = 0, reads = 0 }
  function port:command(op, data, checksum, timeout)
    self.sent[#self.sent + 1] = { op = op, data = data, checksum = checksum, timeout = timeout }
    local r = table.remove(replies, 1)
    return table.unpack(r, 1, 3)
  end
  function port:read(_, timeout)
    self.reads = self.reads + 1
    core.sleep(timeout)
    return ""
  end
  function port:flush_input() self.flushed = self.flushed + 1; return true end
  -- further frames (`port.frames`), then timeouts
  function port:read_frame(timeout)
    self.frame_reads = (self.frame_reads or 0) + 1
    local f = table.remove(self.frames or {}, 1)
    if f then return f end
    core.sleep(timeout)
    return nil, "TIMEOUT: no SLIP frame", "TIMEOUT"
  end
  return port
end

describe("loader payloads", function()
  it("computes the 0xEF-seeded XOR checksum", function()
    assert.are.equal(0xF7, loader.checksum("\xC0\xDB\x01\x02"))
    assert.are.equal(0xEF, loader.checksum(""))
  end)

  it("builds begin payloads of 16 bytes, or 20 with the encrypted word", function()
    local p16 = loader.begin_payload(0x2000, 8, 0x400, 0x10000)
    local p20 = loader.begin_payload(0x2000, 8, 0x400, 0x10000, true)
    assert.are.equal("00200000080000000004000000000100", hex(p16))
    assert.are.equal(hex(p16) .. "00000000", hex(p20))
  end)

  it("pads data blocks and counts the padding in size and checksum", function()
    local payload, ck = loader.data_payload("\x01\x02", 3, 8, 0xFF)
    assert.are.equal("08000000" .. "03000000" .. "0000000000000000" .. "0102ffffffffffff", hex(payload))
    assert.are.equal(loader.checksum("\x01\x02" .. string.rep("\xFF", 6)), ck)
    local unpadded = loader.data_payload("\x01\x02\x03", 0)
    assert.are.equal(16 + 3, #unpadded)
  end)

  it("packs SPI_ATTACH pins for the ROM (8 bytes) and the stub (4 bytes)", function()
    local pins = { clk = 6, q = 17, d = 8, hd = 11, cs = 16 }
    local packed = (11 << 24) | (16 << 18) | (8 << 12) | (17 << 6) | 6
    assert.are.equal(string.pack("<I4I4", packed, 0), loader.spi_attach_payload(pins, false))
    assert.are.equal(string.pack("<I4", packed), loader.spi_attach_payload(pins, true))
    assert.are.equal(string.rep("\0", 8), loader.spi_attach_payload(nil, false))
  end)

  it("builds WRITE_REG and SPI_SET_PARAMS payloads", function()
    assert.are.equal(string.pack("<I4I4I4I4", 0x60000014, 5, 0xFFFFFFFF, 0), loader.write_reg_payload(0x60000014, 5))
    assert.are.equal(string.pack("<I4I4I4I4I4I4", 0, 0x400000, 0x10000, 0x1000, 0x100, 0xFFFF),
      loader.spi_params_payload(0x400000))
  end)
end)

describe("loader timeouts", function()
  it("uses espflash's fixed timeouts", function()
    assert.are.equal(100, loader.timeout(OP.SYNC))
    assert.are.equal(50, loader.timeout(OP.MEM_END))
    assert.are.equal(120000, loader.timeout(OP.ERASE_FLASH))
    assert.are.equal(10000, loader.timeout(OP.FLASH_DEFL_END))
    assert.are.equal(3000, loader.timeout(OP.READ_REG))
  end)

  it("scales erase, write and MD5 timeouts per MB with a 10 s minimum", function()
    assert.are.equal(10000, loader.timeout(OP.FLASH_BEGIN, 0x1000))
    assert.are.equal(120000, loader.timeout(OP.ERASE_REGION, 4000000))
    assert.are.equal(160000, loader.timeout(OP.FLASH_DEFL_DATA, 4000000))
    assert.are.equal(32000, loader.timeout(OP.SPI_FLASH_MD5, 4000000))
    assert.are.equal(10000, loader.timeout(OP.SPI_FLASH_MD5, 0x100))
  end)
end)

describe("status bytes", function()
  it("splits ROM replies: 4 status bytes, code in the second", function()
    local data, ok, code = loader.parse_status("abcd\0\0\0\0", false)
    assert.are.same({ "abcd", true, 0 }, { data, ok, code })
    data, ok, code = loader.parse_status("\x01\x06\0\0", false)
    assert.are.same({ "", false, 6 }, { data, ok, code })
  end)

  it("splits stub replies: 2 status bytes, code in the first", function()
    local data, ok, code = loader.parse_status(string.rep("x", 16) .. "\0\0", true)
    assert.are.same({ string.rep("x", 16), true, 0 }, { data, ok, code })
    data, ok, code = loader.parse_status("\xC1\0", true)
    assert.are.same({ "", false, 0xC1 }, { data, ok, code })
  end)

  it("refuses bodies shorter than the status", function()
    assert.is_nil(loader.parse_status("\0", true))
    assert.is_nil(loader.parse_status("\0\0", false))
  end)
end)

describe("Loader:try", function()
  it("returns value and data on success and sends espflash's timeout", function()
    local port = scripted({ { OP.READ_REG, 0x1B31506F, "\0\0\0\0" } })
    local ld = loader.new(port)
    local v, d = ld:try(OP.READ_REG, loader.words(0x40001000))
    assert.are.equal(0x1B31506F, v)
    assert.are.equal("", d)
    assert.are.equal(3000, port.sent[1].timeout)
    assert.are.equal(string.pack("<I4", 0x40001000), port.sent[1].data)
  end)

  it("maps ROM error codes to espflash's codes and messages", function()
    local ld = loader.new(scripted({ { OP.FLASH_BEGIN, 0, "\x01\x06\0\0" } }))
    local v, err = ld:try(OP.FLASH_BEGIN, loader.begin_payload(0, 0, 0x400, 0x1001, true))
    assert.is_nil(v)
    assert.are.equal("espflash::rom::failed", err.code)
    assert.are.equal("Error while running FlashBegin command: Bootloader failed to execute command", err.message)
  end)

  it("maps stub error codes from the first status byte", function()
    local ld = loader.new(scripted({ { OP.FLASH_DATA, 0, "\xC1\0" } }), { stub = true })
    local _, err = ld:try(OP.FLASH_DATA, "")
    assert.are.equal("espflash::rom::data_crc", err.code)
    ld = loader.new(scripted({ { OP.FLASH_DATA, 0, "\x42\0" } }), { stub = true })
    _, err = ld:try(OP.FLASH_DATA, "")
    assert.are.equal("espflash::rom::other", err.code)
    assert.matches("Other%(0x42%)", err.message)
  end)

  it("reports a stale-opcode 01 05 reply as unsupported and reads the ROM's repeats", function()
    -- after SYNC the ROM sends its stale reply eight times: the seven others
    -- are read (not waited for with a fixed sleep)
    local stale = string.pack("<BBI2I4", 1, OP.SYNC, 4, 0x20120707) .. "\x01\x05\0\0"
    local port = scripted({ { OP.SYNC, 0x20120707, "\x01\x05\0\0" } })
    port.frames = {}
    for i = 1, 7 do port.frames[i] = stale end
    local ld = loader.new(port)
    local t0 = core.now()
    local v, err = ld:try(OP.GET_SECURITY_INFO, "")
    local took = core.now() - t0
    assert.is_nil(v)
    assert.are.equal(loader.UNSUPPORTED, err.code)
    assert.are.equal(7, port.frame_reads)
    assert.are.equal(0, #port.frames)
    assert.is_true(took < 0.05, "took " .. took .. " s")
    -- any other stale opcode comes once: nothing more is read
    port = scripted({ { OP.READ_REG, 0, "\x01\x05\0\0" } })
    _, err = loader.new(port):try(OP.GET_SECURITY_INFO, "")
    assert.are.equal(loader.UNSUPPORTED, err.code)
    assert.is_nil(port.frame_reads)
    -- fewer repeats than expected: the wait for the missing ones is bounded
    port = scripted({ { OP.SYNC, 0x20120707, "\x01\x05\0\0" } })
    port.frames = { stale, stale }
    _, err = loader.new(port):try(OP.GET_SECURITY_INFO, "")
    assert.are.equal(loader.UNSUPPORTED, err.code)
    assert.are.equal(3, port.frame_reads)
  end)

  it("treats the stub's 0xC3 and 0xFF replies as unsupported", function()
    for _, code in ipairs({ 0xC3, 0xFF }) do
      local ld = loader.new(scripted({ { OP.GET_SECURITY_INFO, 0, string.char(code, 0) } }), { stub = true })
      local _, err = ld:try(OP.GET_SECURITY_INFO, "")
      assert.are.equal(loader.UNSUPPORTED, err.code)
    end
  end)

  it("turns port timeouts into espflash::timeout naming the command", function()
    local ld = loader.new(scripted({ { nil, "TIMEOUT: no response", "TIMEOUT" } }))
    local _, err = ld:try(OP.SPI_FLASH_MD5, "")
    assert.are.equal("espflash::timeout", err.code)
    assert.are.equal("Timeout while running FlashMd5 command", err.message)
  end)

  it("raises through Loader:command, with exit 130 for Ctrl-C", function()
    local ld = loader.new(scripted({ { nil, "INTERRUPTED: interrupted by Ctrl-C", "INTERRUPTED" } }))
    local ok, err = pcall(ld.command, ld, OP.READ_REG, loader.words(0))
    assert.is_false(ok)
    assert.are.equal("espflash::interrupted", err.code)
    assert.are.equal(130, err.exit)
  end)
end)
