-- Writes the seed corpus of every fuzz target (tests/fuzz/corpus/<target>/):
--
--     espflash run tests/fuzz/seeds.lua tests/fuzz/corpus
--
-- Seeds are valid inputs, so the fuzzers start from the deep paths: SLIP
-- streams, device byte streams recorded from the virtual device while the
-- device library runs each scenario of port_scenarios.lua, host command
-- streams for the device model, small firmware-shaped ELFs (bad.elfgen), the
-- images built from them, partition tables, NVS images and CSVs. Needs the
-- flasher stubs ($ESPFLASH_STUBS) for the stub scenarios. Crash reproducers
-- that become regression inputs are added by hand next to these.
local tests = arg and arg[0] and arg[0]:match("^(.*)/fuzz/[^/]*$") or "tests"
package.path = tests .. "/?.lua;" .. package.path

local core = require("espflash.core")
local sim = require("espflash.sim")
local elfgen = require("bad.elfgen")
local image = require("espflash.image")
local elf = require("espflash.elf")
local partitions = require("espflash.partitions")
local nvs = require("espflash.nvs")
local espflash_connect = require("espflash.connect")

local out = assert(..., "usage: espflash run tests/fuzz/seeds.lua OUTDIR")

local function write(target, name, data)
  os.execute("mkdir -p '" .. out .. "/" .. target .. "'")
  local f = assert(io.open(out .. "/" .. target .. "/" .. name, "wb"))
  f:write(data)
  f:close()
end

local function frame(s) return core.slip_encode(s) end

-- fuzz_slip: byte 0 picks the slicing, then a stream --------------------------
local sync_reply = "\1\8\4\0\7\7\18\32\0\0\0\0"
write("fuzz_slip", "sync-replies", "\7" .. frame(sync_reply):rep(8))
write("fuzz_slip", "escapes", "\33" .. frame("\192\219\192\219" .. ("\0"):rep(20)) .. "boot log\r\n" .. frame("OHAI"))
write("fuzz_slip", "bad-escape", "\1" .. "\192ab\219\1cd\192" .. frame("after"))
write("fuzz_slip", "empty-frames", "\2" .. "\192\192\192\192" .. frame("x") .. "\192\219")

-- fuzz_port_response: scenario, slicing seed, parameter, then the device's bytes
local scenarios = dofile(tests .. "/fuzz/port_scenarios.lua")

-- A Port stand-in that forwards to the real one and records what the host
-- received, re-framed as the device sent it.
local function recorder(port)
  local rec = {}
  return setmetatable({}, { __index = function(_, k)
    local v = port[k]
    if type(v) ~= "function" then return v end
    return function(_, ...)
      local r = table.pack(v(port, ...))
      if k == "command" and r[1] then
        rec[#rec + 1] = frame(string.pack("<BBI2I4", 1, r[1], #r[3], r[2]) .. r[3])
      elseif k == "read_frame" and r[1] then
        rec[#rec + 1] = frame(r[1])
      elseif k == "read" and r[1] then
        rec[#rec + 1] = r[1]
      end
      return table.unpack(r, 1, r.n)
    end
  end }), rec
end

local function prepared(mode)
  local dev = sim.new("esp32c3", { download = true, secure_download = mode == "sdm" })
  local port = assert(core.open("sim://esp32c3", { sim = dev }))
  if mode == "rom" or mode == "sdm" then
    assert(espflash_connect.sync(port), "sync")
  elseif mode == "stub" then
    espflash_connect.connect{ port = port, after = "no-reset-no-stub" }:close()
  end
  return dev, port
end

for i, sc in ipairs(scenarios) do
  for _, p in ipairs({ 0, 1, 3, 40 }) do
    local dev, port = prepared(sc.mode)
    local proxy, rec = recorder(port)
    local ok, err = pcall(sc.run, proxy, p)
    local name = ("%02d-%s-p%d%s"):format(i, sc.name:gsub(" ", "-"), p, ok and "" or "-err")
    if not ok then io.stderr:write(name, ": ", tostring(err), "\n") end
    write("fuzz_port_response", name, string.char(i - 1, 7, p) .. table.concat(rec))
    port:close()
    dev:close()
  end
end

-- fuzz_sim_host: mode byte, fault index, then structured records ----------------
local function rec_frame(payload)
  -- tag 0 (or 0x80 for the long form) len payload
  if #payload <= 255 then return string.char(0, #payload) .. payload end
  local units = (#payload - 16 + 63) // 64
  return string.char(0x80, units) .. payload .. ("\0"):rep(units * 64 + 16 - #payload)
end
local function cmd(op, data, chk)
  return rec_frame(string.pack("<BBI2I4", 0, op, #data, chk or 0) .. data)
end
local loader = require("espflash.loader")
local SYNC = cmd(8, loader.SYNC_DATA)
local function w(...) return string.pack("<" .. ("I4"):rep(select("#", ...)), ...) end
local rom_session = SYNC .. cmd(0x0A, w(0x40001000)) .. cmd(0x14, "") .. cmd(0x0D, w(0, 0))
  .. cmd(0x0B, loader.spi_params_payload(0x40000)) .. cmd(0x02, w(0x1000, 1, 0x400, 0x1000, 0))
  .. cmd(0x03, w(0x400, 0, 0, 0) .. ("\xAB"):rep(0x400), loader.checksum(("\xAB"):rep(0x400)))
  .. cmd(0x13, w(0x1000, 0x400, 0, 0)) .. cmd(0x0E, w(0x1000, 64, 0, 0))
local stub_session = cmd(0x0A, w(0x40001000)) .. cmd(0xD1, w(0x2000, 0x1000))
  .. cmd(0x10, w(0x1000, 1, 0x4000, 0x3000)) .. cmd(0xD2, w(0x1000, 0x100, 0x80, 2))
  .. string.char(0, 4) .. w(0x80) .. cmd(0x13, w(0, 0x1000, 0, 0)) .. cmd(0xD0, "")
write("fuzz_sim_host", "rom-session", string.char(0x40, 255) .. rom_session)
write("fuzz_sim_host", "esp32-rom-session", string.char(0x44, 255) .. rom_session)
write("fuzz_sim_host", "stub-session", string.char(0x41, 255) .. stub_session)
write("fuzz_sim_host", "sdm-session", string.char(0x42, 255) .. rom_session)
write("fuzz_sim_host", "lines-and-baud", string.char(0x43, 255) .. string.char(5, 3, 5, 0, 5, 2, 6, 4, 7, 1) .. rom_session)
write("fuzz_sim_host", "refuse-fault", string.char(0x40 | (5 << 3), 3) .. rom_session)
write("fuzz_sim_host", "raw-sync", string.char(0, 255) .. frame(string.pack("<BBI2I4", 0, 8, 36, 0) .. loader.SYNC_DATA))

-- ELFs and images -------------------------------------------------------------------
local BARE = "\xE9\x00\x02\x20" .. ("\0"):rep(20)
local tmp = os.tmpname()
for _, chip in ipairs({ "esp32c3", "esp32c6", "esp32" }) do
  local bytes = elfgen.build(elfgen.firmware(chip))
  write("fuzz_elf_image", chip .. ".elf", bytes)
  local f = assert(io.open(tmp, "wb"))
  f:write(bytes)
  f:close()
  local img = image.from_elf(elf.load(tmp), { chip = chip, bootloader = BARE }).data
  write("fuzz_image_parse", chip .. ".bin", "\0" .. img)
end
os.remove(tmp)
write("fuzz_elf_image", "elf64.elf", (elfgen.build((function()
  local s = elfgen.firmware("esp32c3"); s.class = 64; return s end)())))

-- partition tables --------------------------------------------------------------------
local csv = "# Name, Type, SubType, Offset, Size, Flags\n"
  .. "nvs, data, nvs, 0x9000, 0x6000,\notadata, data, ota, , 0x2000,\nphy_init, data, phy, , 0x1000,\n"
  .. "ota_0, app, ota_0, 0x20000, 1M,\nota_1, app, ota_1, , 1M, encrypted\nstorage, data, spiffs, , 64K, readonly\n"
write("fuzz_partitions", "ota.csv", csv)
write("fuzz_partitions", "ota.bin", partitions.parse(csv):to_binary())
local default = partitions.default(require("espflash.chips").get("esp32c3"), 4 * 1024 * 1024)
write("fuzz_partitions", "default.csv", default:to_csv())
write("fuzz_partitions", "default.bin", default:to_binary())

-- NVS ------------------------------------------------------------------------------------
local nvs_csv = table.concat({
  "key,type,encoding,value",
  "cfg,namespace,,",
  "u8v,data,u8,255", "i8v,data,i8,-128", "u16v,data,u16,65535", "i16v,data,i16,-32768",
  "u32v,data,u32,0xFFFFFFFF", "i32v,data,i32,-5", "u64v,data,u64,18446744073709551615", "i64v,data,i64,-9",
  "s,data,string,\"hello, \"\"world\"\"\"", "h,data,hex2bin,00ff10", "b,data,base64,aGVsbG8=",
  "# a comment", "other,namespace,,", "big,data,string," .. ("x"):rep(3000),
  "blob,data,hex2bin," .. ("ab"):rep(5000), "" }, "\n")
write("fuzz_nvs_csv", "all-types.csv", nvs_csv)
write("fuzz_nvs_csv", "minimal.csv", "key,type,encoding,value\nns,namespace,,\nk,data,u8,1\n")
local img = nvs.from_csv(nvs_csv, { size = 0x6000 })
write("fuzz_nvs_parse", "all-types.bin", img)
local v1 = "key,type,encoding,value\nold,namespace,,\na,data,u32,7\ns,data,string,short\nb,data,hex2bin,0011\n"
write("fuzz_nvs_parse", "v1.bin", (nvs.from_csv(v1, { size = 0x3000, version = 1 })))

-- defmt: byte 0 picks the output format, then esp-println's stream: text and
-- FF 00 <rzCOBS frame> 00 (the u16 table index, then the arguments)
local defmt = require("espflash.monitor_defmt")
local function dframe(payload) return "\xFF\0" .. defmt.rzcobs_encode(payload) .. "\0" end
write("fuzz_defmt", "hello", "\0boot text\r\n" .. dframe(string.pack("<I2", 1)) .. "more text")
write("fuzz_defmt", "frames", "\1" .. dframe(string.pack("<I2", 6) .. ("\0"):rep(12))
  .. dframe(string.pack("<I2", 4)) .. dframe(string.pack("<I2", 40) .. "\1\2\3\4\5\6\7\8"))
write("fuzz_defmt", "custom", "\2" .. dframe(string.pack("<I2I4", 2, 0xDEADBEEF)) .. "\xFF")
