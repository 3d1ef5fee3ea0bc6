-- Golden NVS bytes, written by hand from ESP-IDF's layout (nvs_flash's
-- page and item structs, and nvs_partition_gen's generate) — not from our
-- own output. The CRC constants were computed with zlib.crc32(data,
-- 0xFFFFFFFF) over the byte ranges ESP-IDF checks: header bytes 4..27,
-- entry bytes 0..3 + 8..31, and the data of strings and blob chunks.
local nvs = require("espflash.nvs")

local function H(s)
  return (s:gsub("%s+", ""):gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end))
end
local FF = function(n) return ("\xFF"):rep(n) end

local function key(k) return k .. ("\0"):rep(16 - #k) end

describe("nvs golden image", function()
  -- key,type,encoding,value
  -- storage,namespace,,
  -- int32,data,i32,-2
  -- str,data,string,hi
  -- blob,data,hex2bin,0102
  local csv = "key,type,encoding,value\nstorage,namespace,,\nint32,data,i32,-2\n"
    .. "str,data,string,hi\nblob,data,hex2bin,0102\n"

  local header = H"FEFFFFFF 00000000 FE" .. FF(19) .. H"842DBAB9"   -- ACTIVE, seq 0, v2, crc 0xB9BA2D84
  local bitmap = H"AA EA" .. FF(30)                                  -- entries 0..6 written (10)
  local entries = table.concat({
    -- namespace "storage" -> index 1: ns 0, U8, span 1, chunk 0xFF, crc 0x0750A909
    H"00 01 01 FF 09A95007" .. key("storage") .. H"01" .. FF(7),
    -- int32 = -2: ns 1, I32 (0x14), crc 0xF3F4E1FB, value FE FF FF FF then 0xFF padding
    H"01 14 01 FF FBE1F4F3" .. key("int32") .. H"FEFFFFFF FFFFFFFF",
    -- str = "hi": SZ (0x21), span 2, size 3 (with NUL), reserved FFFF, data crc 0x0D04B589; crc 0xF03E6DB9
    H"01 21 02 FF B96D3EF0" .. key("str") .. H"0300 FFFF 89B5040D",
    "hi\0" .. FF(29),
    -- blob 01 02 (version 2): BLOB_DATA (0x42), span 2, chunk 0, size 2, data crc 0x08EAAF92; crc 0x8844E0CC
    H"01 42 02 00 CCE04488" .. key("blob") .. H"0200 FFFF 92AFEA08",
    H"0102" .. FF(30),
    -- BLOB_IDX (0x48): size 2, chunk count 1, chunk start 0; crc 0x3EF1F827
    H"01 48 01 FF 27F8F13E" .. key("blob") .. H"02000000 01 00 FFFF",
  })

  it("matches nvs_partition_gen's bytes for a 0x3000 partition", function()
    local image = nvs.from_csv(csv, { size = 0x3000 })
    assert.are.equal(0x3000, #image)
    local page0 = header .. bitmap .. entries
    page0 = page0 .. FF(4096 - #page0)
    -- the used page, then an empty page and the reserved page, all erased (no header)
    local want = page0 .. FF(4096) .. FF(4096)
    for off = 1, #want, 32 do
      if image:sub(off, off + 31) ~= want:sub(off, off + 31) then
        assert.are.equal(want:sub(off, off + 31), image:sub(off, off + 31), ("bytes at 0x%X"):format(off - 1))
      end
    end
    assert.are.equal(want, image)
  end)

  it("builds the same bytes from the Lua table", function()
    local image = nvs.build{ size = 0x3000,
      { namespace = "storage", entries = {
        { key = "int32", type = "i32", value = -2 },
        { key = "str", type = "string", value = "hi" },
        { key = "blob", type = "blob", value = "\1\2" },
      } } }
    assert.are.equal(nvs.from_csv(csv, { size = 0x3000 }), image)
  end)

  it("writes the version-1 header and a single BLOB (0x41) item", function()
    local image = nvs.from_csv("key,type,encoding,value\nstorage,namespace,,\nblob,data,hex2bin,0102\n",
      { size = 0x3000, version = 1 })
    -- version byte 0xFF; header crc 0xDCDD16C2
    assert.are.equal(H"FEFFFFFF 00000000 FF" .. FF(19) .. H"C216DDDC", image:sub(1, 32))
    local e = image:sub(64 + 32 + 1, 64 + 64)
    assert.are.equal(0x41, e:byte(2))        -- BLOB
    assert.are.equal(2, e:byte(3))           -- span: header + one data entry
    assert.are.equal(0xFF, e:byte(4))        -- chunk index unused
    assert.are.equal(H"0200 FFFF 92AFEA08", e:sub(25, 32))
  end)

  it("marks a page FULL when the next one starts; the header CRC covers the sequence number", function()
    -- 1 namespace + 125 u8 entries fill page 0 (126 entries); the next u8 opens page 1
    local lines = { "key,type,encoding,value", "ns,namespace,," }
    for i = 1, 126 do lines[#lines + 1] = ("k%d,data,u8,%d"):format(i, i % 256) end
    local image = nvs.from_csv(table.concat(lines, "\n"), { size = 0x3000 })
    assert.are.equal(H"FCFFFFFF 00000000 FE", image:sub(1, 9))      -- FULL
    assert.are.equal(H"842DBAB9", image:sub(29, 32))                -- state is outside the CRC
    assert.are.equal(H"FEFFFFFF 01000000 FE" .. FF(19) .. H"A3489F38", image:sub(4097, 4128))
    assert.are.equal(("\xAA"):rep(31) .. "\xFA", image:sub(33, 64))  -- 126 written; bits of "entries" 126, 127 stay 11
    assert.are.equal(H"FE" .. FF(31), image:sub(4096 + 33, 4096 + 64))
  end)
end)
