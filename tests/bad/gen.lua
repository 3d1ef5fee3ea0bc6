-- Generates the malformed input files of the bad-input corpus (tests/bad/
-- cases.txt names them and the exact error each must produce).
--
--     espflash run tests/bad/gen.lua OUTDIR
--
-- Every file starts from a valid one made here (a firmware-shaped ELF from
-- bad.elfgen, an image built from it, a partition table, an NVS CSV) and is
-- broken in one place, so each case tests one check. Also writes valid
-- bootloaders (boot-<chip>.bin) and valid files the cases combine with bad
-- options.
local here = arg and arg[0] and arg[0]:match("^(.*)/bad/[^/]*$") or "tests"
package.path = here .. "/?.lua;" .. package.path

local elfgen = require("bad.elfgen")
local image = require("espflash.image")
local elf = require("espflash.elf")
local partitions = require("espflash.partitions")
local core = require("espflash.core")

local out = assert(..., "usage: espflash run tests/bad/gen.lua OUTDIR")
local patch = elfgen.patch

local function write(rel, data)
  local path = out .. "/" .. rel
  local dir = path:match("^(.*)/[^/]*$")
  os.execute("mkdir -p '" .. dir .. "'")
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
  return path
end

-- Valid bootloaders: an image of a small ELF built on a bare header.
local BARE = "\xE9\x00\x02\x20" .. ("\0"):rep(20)
local function build_image(spec, chip)
  local path = write("tmp/" .. chip .. ".elf", (elfgen.build(spec)))
  return image.from_elf(elf.load(path), { chip = chip, bootloader = BARE }).data
end
local boots = {}
for _, chip in ipairs({ "esp32c3", "esp32c6", "esp32" }) do
  boots[chip] = build_image(elfgen.firmware(chip), chip)
  write("boot-" .. chip .. ".bin", boots[chip])
end

-- ELF files ------------------------------------------------------------------
local good, lay = elfgen.build(elfgen.firmware("esp32c3"))
write("elf/good.elf", good)
local shdr = function(name) return lay.sections[name].header end
local SH_OFFSET, SH_SIZE, SH_ADDR, SH_LINK = 16, 20, 12, 24

write("elf/empty.elf", "")
write("elf/text.elf", "this is not an ELF file\n")
write("elf/short-header.elf", good:sub(1, 20))
write("elf/bad-magic.elf", patch(good, 0, "c4", "\127ELG"))
write("elf/class-none.elf", patch(good, 4, "B", 0))
write("elf/big-endian-flag.elf", patch(good, 5, "B", 2))
write("elf/x86-machine.elf", patch(good, 18, "<I2", 62))
write("elf/shoff-past-end.elf", patch(good, 32, "<I4", #good + 0x1000))
write("elf/shnum-huge.elf", patch(good, 48, "<I2", 0xFFFF))
write("elf/shstrndx-bad.elf", patch(good, 50, "<I2", 0x7FFF))
write("elf/shentsize-bad.elf", patch(good, 46, "<I2", 20))
write("elf/section-offset-past-end.elf", patch(good, shdr(".iram0.text") + SH_OFFSET, "<I4", 0x7FFFFFF0))
write("elf/section-size-past-end.elf", patch(good, shdr(".iram0.text") + SH_SIZE, "<I4", 0x7FFFFFF0))
write("elf/cut-in-section-headers.elf", good:sub(1, lay.shoff + 60))
write("elf/cut-in-data.elf", good:sub(1, 300))
write("elf/symtab-bad-link.elf", patch(good, lay.shoff + (lay.shnum - 3) * lay.shentsize + SH_LINK, "<I4", 99))

local function variant(chip, change)
  local spec = elfgen.firmware(chip)
  change(spec)
  return (elfgen.build(spec))
end
local function section(spec, name)
  for i, s in ipairs(spec.sections) do if s.name == name then return s, i end end
end

write("elf/elf64.elf", variant("esp32c3", function(s) s.class = 64 end))
write("elf/overlapping-sections.elf", variant("esp32c3", function(s)
  section(s, ".dram0.data").addr = section(s, ".iram0.text").addr + 8
  section(s, ".dram0.data").data = ("\1"):rep(64)
  section(s, ".dram0.data").addr = 0x40380010
end))
write("elf/desc-bad-magic.elf", variant("esp32c3", function(s)
  section(s, ".flash.appdesc").data = elfgen.app_desc({ magic = 0x12345678 })
end))
write("elf/no-app-desc.elf", variant("esp32c3", function(s)
  local _, i = section(s, ".flash.appdesc")
  table.remove(s.sections, i)
  table.remove(s.symbols, 1)
end))
write("elf/desc-symbol-outside.elf", variant("esp32c3", function(s)
  local _, i = section(s, ".flash.appdesc")
  table.remove(s.sections, i)
  s.symbols[1].value, s.symbols[1].section = 0x3C700000, 0
end))
write("elf/desc-mmu-unsupported.elf", variant("esp32c3", function(s)
  section(s, ".flash.appdesc").data = elfgen.app_desc({ mmu_log2 = 12 })
end))
write("elf/desc-overlaps-rodata.elf", variant("esp32c3", function(s)
  local d = section(s, ".flash.appdesc")
  d.addr = d.addr + 2
  s.symbols[1].value = d.addr
end))
write("elf/flash-unaligned.elf", variant("esp32c3", function(s)
  section(s, ".flash.rodata").addr = section(s, ".flash.rodata").addr + 0x1002
end))
write("elf/too-many-segments.elf", variant("esp32c3", function(s)
  for i = 1, 300 do
    s.sections[#s.sections + 1] = { name = ".ram" .. i, flags = elfgen.SHF_ALLOC | elfgen.SHF_WRITE,
      addr = 0x3FC90000 + i * 0x100, data = "\7\7\7\7" }
  end
end))
write("elf/xtensa-for-c3.elf", (elfgen.build(elfgen.firmware("esp32"))))
write("elf/riscv-for-esp32.elf", good)

-- Application images ----------------------------------------------------------
local img = build_image(elfgen.firmware("esp32c3"), "esp32c3")
write("img/good.bin", img)
write("img/empty.bin", "")
write("img/short-header.bin", img:sub(1, 10))
write("img/bad-magic.bin", patch(img, 0, "B", 0xE8))
write("img/elf-as-image.bin", good)
write("img/segment-past-end.bin", patch(img, 24 + 4, "<I4", 0x100000))
write("img/segment-len-huge.bin", patch(img, 24 + 4, "<I4", 0xFFFFFFFF))
write("img/segment-count-high.bin", patch(img, 1, "B", 200))
write("img/cut-before-checksum.bin", img:sub(1, #img - 40))
write("img/cut-in-digest.bin", img:sub(1, #img - 10))
write("img/only-header.bin", img:sub(1, 24))
write("img/zero-segments-no-checksum.bin", patch(img:sub(1, 24), 1, "B", 0))

-- Partition tables --------------------------------------------------------------
local HEAD = "# Name,   Type, SubType, Offset,  Size, Flags\n"
local function csv(rows) return HEAD .. table.concat(rows, "\n") .. "\n" end
local NVS = "nvs,      data, nvs,     0x9000,  0x6000,"
local PHY = "phy_init, data, phy,     0xf000,  0x1000,"
local FACTORY = "factory,  app,  factory, 0x10000, 1M,"
write("part/good.csv", csv({ NVS, PHY, FACTORY }))
local P = {
  ["unknown-type"] = { NVS, "weird,    blob, nvs,     0xf000,  0x1000," , FACTORY },
  ["unknown-subtype"] = { NVS, "phy_init, data, nope,    0xf000,  0x1000,", FACTORY },
  ["bad-offset"] = { NVS, "phy_init, data, phy,     0xZZ00,  0x1000,", FACTORY },
  ["bad-size"] = { NVS, PHY, "factory,  app,  factory, 0x10000, 1Q," },
  ["duplicate-name"] = { NVS, "nvs,      data, phy,     0xf000,  0x1000,", FACTORY },
  ["overlap"] = { NVS, "phy_init, data, phy,     0xe000,  0x1000,", FACTORY },
  ["app-unaligned"] = { NVS, PHY, "factory,  app,  factory, 0x11000, 1M," },
  ["zero-size"] = { NVS, "phy_init, data, phy,     0xf000,  0,", FACTORY },
  ["name-too-long"] = { NVS, PHY, "a_name_longer_than_16,  app,  factory, 0x10000, 1M," },
  ["too-few-columns"] = { NVS, "phy_init, data, phy", FACTORY },
  ["unknown-flag"] = { NVS, PHY, "factory,  app,  factory, 0x10000, 1M, sparkly" },
  ["size-overflow"] = { NVS, PHY, "factory,  app,  factory, 0x10000, 0x100000000," },
  ["offset-overflow"] = { NVS, PHY, "factory,  app,  factory, 0xFFFF0000, 0x20000," },
  ["two-otadata"] = { NVS, "otadata,  data, ota,     0xd000,  0x2000,", "otadata2, data, ota,     0xf000,  0x1000,", FACTORY },
  ["subtype-number-too-big"] = { NVS, "phy_init, data, 0x100,   0xf000,  0x1000,", FACTORY },
  ["type-number-too-big"] = { NVS, "custom,   0x100, 0x1,   0xf000,  0x1000,", FACTORY },
  ["negative-size"] = { NVS, "phy_init, data, phy,     0xf000,  -0x1000,", FACTORY },
  ["data-unaligned"] = { NVS, "phy_init, data, phy,     0xf001,  0x1000,", FACTORY },
  ["app-subtype-on-data"] = { NVS, "phy_init, data, ota_0,   0xf000,  0x1000,", FACTORY },
  ["no-app"] = { NVS, PHY },
  ["too-many-columns"] = { NVS, "phy_init, data, phy,     0xf000,  0x1000, , extra", FACTORY },
}
for name, rows in pairs(P) do write("part/" .. name .. ".csv", csv(rows)) end
write("part/empty.csv", "")
write("part/only-comments.csv", "# nothing here\n# at all\n")
write("part/not-utf8.csv", HEAD .. "nvs\xff\xfe, data, nvs, 0x9000, 0x6000,\n")
write("part/directory.csv/.keep", "")
write("part/name-with-nul.csv", csv({ NVS, PHY, "fac\0tory,  app,  factory, 0x10000, 1M," }))

local tbl = partitions.parse(csv({ NVS, PHY, FACTORY }))
local bin = tbl:to_binary()
write("part/good.bin", bin)
local ENTRY = 32
write("part/bin-bad-md5.bin", patch(bin, 3 * ENTRY + 20, "B", bin:byte(3 * ENTRY + 21) ~ 0xFF))
write("part/bin-truncated-entry.bin", bin:sub(1, 2 * ENTRY + 10))
write("part/bin-no-end-marker.bin", bin:sub(1, 4 * ENTRY))
write("part/bin-bad-row.bin", patch(bin, ENTRY, "c2", "\xAB\xCD"))
local function rebuild(parts)
  local rows = {}
  for _, p in ipairs(parts) do
    rows[#rows + 1] = string.pack("<c2BBI4I4c16I4", "\xAA\x50", p[1], p[2], p[3], p[4],
      (p[5] .. ("\0"):rep(16)):sub(1, 16), p[6] or 0)
  end
  local body = table.concat(rows)
  return body .. "\xEB\xEB" .. ("\xFF"):rep(14) .. core.md5(body) .. ("\xFF"):rep(0xC00 - #body - 32)
end
write("part/bin-overlap.bin", rebuild({ { 1, 2, 0x9000, 0x6000, "nvs" }, { 1, 1, 0xA000, 0x1000, "phy" },
  { 0, 0, 0x10000, 0x100000, "factory" } }))
write("part/bin-duplicate-name.bin", rebuild({ { 1, 2, 0x9000, 0x6000, "nvs" }, { 1, 1, 0xF000, 0x1000, "nvs" },
  { 0, 0, 0x10000, 0x100000, "factory" } }))
write("part/bin-app-unaligned.bin", rebuild({ { 1, 2, 0x9000, 0x6000, "nvs" },
  { 0, 0, 0x11000, 0x100000, "factory" } }))
write("part/bin-zero-size.bin", rebuild({ { 1, 2, 0x9000, 0, "nvs" }, { 0, 0, 0x10000, 0x100000, "factory" } }))
write("part/bin-size-wraps.bin", rebuild({ { 1, 2, 0x9000, 0x6000, "nvs" },
  { 0, 0, 0xFFFF0000, 0x20000, "factory" } }))
write("part/bin-odd-length.bin", bin:sub(1, 100))
write("part/bin-md5-first.bin", "\xEB\xEB" .. ("\xFF"):rep(14) .. ("\0"):rep(16) .. ("\xFF"):rep(0xC00 - 32))

-- NVS CSVs --------------------------------------------------------------------
local NH = "key,type,encoding,value\n"
local N = {
  ["empty"] = "",
  ["no-header"] = "storage,namespace,,\nanswer,data,u8,42\n",
  ["wrong-header"] = "name,kind,enc,val\nstorage,namespace,,\n",
  ["entry-before-namespace"] = NH .. "answer,data,u8,42\n",
  ["unknown-type"] = NH .. "storage,namespace,,\nanswer,value,u8,42\n",
  ["unknown-encoding"] = NH .. "storage,namespace,,\nanswer,data,u12,42\n",
  ["no-encoding"] = NH .. "storage,namespace,,\nanswer,data,,42\n",
  ["u8-too-big"] = NH .. "storage,namespace,,\nanswer,data,u8,300\n",
  ["i8-too-small"] = NH .. "storage,namespace,,\nanswer,data,i8,-200\n",
  ["u32-not-number"] = NH .. "storage,namespace,,\nanswer,data,u32,forty-two\n",
  ["u64-overflow"] = NH .. "storage,namespace,,\nanswer,data,u64,18446744073709551616\n",
  ["key-too-long"] = NH .. "storage,namespace,,\nthis_key_is_too_long,data,u8,1\n",
  ["namespace-too-long"] = NH .. "this_namespace_is_long,namespace,,\n",
  ["empty-key"] = NH .. "storage,namespace,,\n,data,u8,1\n",
  ["string-too-long"] = NH .. "storage,namespace,,\nbig,data,string," .. ("x"):rep(4001) .. "\n",
  ["hex-odd"] = NH .. "storage,namespace,,\nblob,data,hex2bin,abc\n",
  ["hex-not-hex"] = NH .. "storage,namespace,,\nblob,data,hex2bin,zz\n",
  ["base64-bad"] = NH .. "storage,namespace,,\nblob,data,base64,@@@@\n",
  ["file-missing"] = NH .. "storage,namespace,,\nblob,file,binary,does-not-exist.bin\n",
  ["file-bad-encoding"] = NH .. "storage,namespace,,\nblob,file,u8,x.bin\n",
  ["unclosed-quote"] = NH .. "storage,namespace,,\nmsg,data,string,\"never closed\n",
  ["no-value"] = NH .. "storage,namespace,,\nanswer,data,u8\n",
  ["blob-encoding"] = NH .. "storage,namespace,,\nanswer,data,blob,00\n",
}
local many = { NH }
for i = 1, 300 do many[#many + 1] = ("ns%d,namespace,,\nk,data,u8,1\n"):format(i) end
N["too-many-namespaces"] = table.concat(many)
local full = { NH, "storage,namespace,,\n" }
for i = 1, 800 do full[#full + 1] = ("key%d,data,u32,%d\n"):format(i, i) end
N["too-big-for-size"] = table.concat(full)
N["duplicate-key"] = NH .. "cfg,namespace,,\nb,data,base64,aGVsbG8=\nb,data,hex2bin," .. ("ab"):rep(510) .. "\n"
for name, text in pairs(N) do write("nvs/" .. name .. ".csv", text) end
write("nvs/good.csv", NH .. "storage,namespace,,\nanswer,data,u8,42\n")
write("nvs/short.bin", ("\xFF"):rep(100))

os.remove(out .. "/tmp/esp32c3.elf")
os.remove(out .. "/tmp/esp32c6.elf")
os.remove(out .. "/tmp/esp32.elf")
os.remove(out .. "/tmp")

-- An ELF for the other architecture: good.elf is RISC-V; Xtensa's machine is 94.
write("elf/xtensa-for-riscv.elf", patch(good, 18, "<I2", 94))

-- Configuration files: each case runs in cfg/<name>/ (tests/e2e/bad_inputs.sh
-- runs a case in $OUTDIR/<name> when that directory exists), so the
-- espflash.toml or espflash_ports.toml there is the one found.
local CFG = {
  ["syntax-no-value"] = { "espflash.toml", "baudrate =\n" },
  ["value-starts-with-comma"] = { "espflash.toml", "[flash]\nmode = ,dio\n" },  -- found by fuzz_toml
  ["unterminated-string"] = { "espflash.toml", "[flash]\nsize = \"4MB\n" },
  ["bad-escape"] = { "espflash.toml", "[idf]\nbootloader = \"C:\\quirks\\boot.bin\"\n" },
  ["duplicate-key"] = { "espflash.toml", "baudrate = 460800\nbaudrate = 921600\n" },
  ["table-twice"] = { "espflash.toml", "[flash]\nmode = \"dio\"\n[flash]\nsize = \"4MB\"\n" },
  ["float"] = { "espflash.toml", "baudrate = 460800.5\n" },
  ["array"] = { "espflash.toml", "[flash]\nsize = [\"4MB\"]\n" },
  ["dotted-key"] = { "espflash.toml", "flash.mode = \"dio\"\n" },
  ["header-unclosed"] = { "espflash.toml", "[flash\nmode = \"dio\"\n" },
  ["integer-overflow"] = { "espflash.toml", "baudrate = 0xFFFFFFFFFFFFFFFFFF\n" },
  ["nul-byte"] = { "espflash.toml", "baudrate = 4\0" .. "60800\n" },
  ["invalid-utf8"] = { "espflash.toml", "[flash]\nmode = \"d\xFFio\"\n" },
  ["bad-flash-mode"] = { "espflash.toml", "[flash]\nmode = \"xio\"\n" },
  ["bad-flash-size"] = { "espflash.toml", "[flash]\nsize = \"3MB\"\n" },
  ["offset-not-number"] = { "espflash.toml", "[idf]\npartition_table_offset = \"nine\"\n" },
  ["baudrate-string"] = { "espflash.toml", "baudrate = \"fast\"\n" },
  ["ports-syntax"] = { "espflash_ports.toml", "[connection\nserial = \"/dev/ttyUSB0\"\n" },
  ["ports-bad-vid"] = { "espflash_ports.toml", "[[usb_device]]\nvid = \"xyz\"\npid = \"1001\"\n" },
  ["misplaced-key"] = { "espflash.toml", "[flash]\nbaudrate = 460800\n" },
  ["ports-misplaced-key"] = { "espflash_ports.toml", "[[usb_device]]\nserial = \"/dev/ttyUSB0\"\n" },
}
for name, f in pairs(CFG) do write("cfg/" .. name .. "/" .. f[1], f[2]) end
