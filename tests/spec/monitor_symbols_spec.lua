-- Address decoding against real ELFs (espflash's test firmware and ROM
-- ELFs from $ESPFLASH_TESTDATA): DWARF names and locations, inlined
-- functions, the symbol-table fallback, ROM addresses, the lines espflash
-- leaves alone, espflash's output layout, STACKDUMP unwinding; and Rust
-- symbol demangling.
local core = require("espflash.core")
local demangle = require("espflash.monitor_demangle")
local symbols = require("espflash.monitor_symbols")

local TESTDATA = os.getenv("ESPFLASH_TESTDATA")
local function data(rel)
  if not TESTDATA then return nil end
  local p = TESTDATA .. "/" .. rel
  local f = io.open(p, "rb")
  if not f then return nil end
  f:close()
  return p
end

local BACKTRACE = data("elf/esp32c6_backtrace.elf")
local ROM = data("roms/esp32c6_rev0_rom.elf")

describe("demangling", function()
  it("reads legacy Rust symbols without the hash", function()
    assert.are.equal("core::panicking::panic_fmt",
      demangle.demangle("_ZN4core9panicking9panic_fmt17h4bb8c910ba59e8a9E"))
    assert.are.equal("<&T as core::fmt::Display>::fmt",
      demangle.demangle("_ZN44_$LT$$RF$T$u20$as$u20$core..fmt..Display$GT$3fmt17h8a59c236e2252d78E"))
  end)

  it("reads v0 paths and leaves other names alone", function()
    assert.are.equal("__rustc::rust_begin_unwind",
      demangle.demangle("_RNvCscSpY9Juk0HT_7___rustc17rust_begin_unwind"))
    assert.are.equal("app::main::{closure#0}", demangle.demangle("_RNCNvCs1234_3app4main0B3_"))
    assert.are.equal("main", demangle.demangle("main"))
    assert.are.equal("_ZN3foo", demangle.demangle("_ZN3foo"))
  end)
end)

describe("ROM ELF selection", function()
  it("picks the file for the chip and revision", function()
    assert.are.equal("esp32c3_rev101_rom.elf", symbols.rom_elf_name("esp32c3", 104))
    assert.are.equal("esp32c3_rev0_rom.elf", symbols.rom_elf_name("esp32c3", 4))
    assert.are.equal("esp32c3_rev300_rom.elf", symbols.rom_elf_name("esp32c3", 300))
    assert.are.equal("esp32_rev300_rom.elf", symbols.rom_elf_name("esp32", 301))
    assert.are.equal("esp32c6_rev0_rom.elf", symbols.rom_elf_name("esp32c6", nil))
    assert.is_nil(symbols.rom_elf_name("esp32c3", nil))
    assert.is_nil(symbols.rom_elf_name("esp8266", 0))
  end)

  it("finds it in a resource directory", function()
    local seen
    local path = symbols.find_rom_elf("esp32s3", 2, function(rel) seen = rel; return "/x/" .. rel end)
    assert.are.equal("roms/esp32s3_rev0_rom.elf", seen)
    assert.are.equal("/x/roms/esp32s3_rev0_rom.elf", path)
  end)
end)

local function decoding(name, fn)
  if BACKTRACE and ROM then
    describe(name, fn)
  else
    pending(name .. " (SKIP: $ESPFLASH_TESTDATA with elf/ and roms/ is not available)")
  end
end

decoding("decoding with esp32c6_backtrace.elf", function()
  local r
  setup(function() r = assert(symbols.new({ BACKTRACE, ROM })) end)
  teardown(function() r:close() end)

  it("names main and its source line", function()
    local x = r:lookup(0x420012c8)
    assert.are.equal("main", x.name)
    assert.truthy(x.file:find("esp32c6_backtrace/src/bin/main.rs$"))
    assert.are.equal(25, x.line)
  end)

  it("names the inlined function hal_main", function()
    local x = r:lookup(0x42001280)
    assert.are.equal("hal_main", x.name)
    assert.truthy(x.file:find("esp%-hal%-[%d.]+[^/]*/src/lib.rs$"))
  end)

  it("names ROM functions from the ROM ELF (symbol table only)", function()
    local x = r:lookup(0x400017f0)
    assert.are.equal("lldesc_build_chain", x.name)
    assert.is_nil(x.line)
  end)

  it("ignores addresses outside the loadable segments", function()
    assert.is_nil(r:lookup(0x12345678))
    assert.is_nil(r:lookup(0x00000010))
  end)

  it("formats annotations like espflash", function()
    local note = r:annotate("Backtrace: 0x420012c8 0x42001280 0x12345678")
    local lines = {}
    for l in note:gmatch("(.-)\r\n") do lines[#lines + 1] = l end
    assert.are.equal("0x420012c8 - main", lines[1])
    assert.truthy(lines[2]:match("^    at .*esp32c6_backtrace/src/bin/main.rs:25$"))
    assert.are.equal("0x42001280 - hal_main", lines[3])
    assert.truthy(lines[4]:match("^    at .*/src/lib.rs:%d+$"))
    assert.are.equal(4, #lines)
    assert.are.equal("lldesc_build_chain\r\n    at ??:??\r\n", r:annotate("  0x400017f0 "))
    assert.are.equal("0X400017F0 - lldesc_build_chain\r\n    at ??:??\r\n", r:annotate("pc 0X400017F0"))
  end)

  it("leaves Saved PC, load and entry lines alone unless asked", function()
    for _, l in ipairs({ "Saved PC:0x420012c8", "load:0x42001280,len:0x5324", "entry 0x42001280" }) do
      assert.is_nil(r:annotate(l))
      assert.truthy(r:annotate(l, true))
    end
  end)

  it("unwinds a STACKDUMP line with the call frame information", function()
    -- main's frame is 32 bytes; its last word returns into hal_main (inlined in _start_rust)
    local stack = string.rep("\0", 28) .. string.pack("<I4", 0x42001280) .. string.rep("\0", 16)
    local hex = stack:gsub(".", function(c) return string.format("%02x", c:byte()) end)
    local note = r:annotate("STACKDUMP: 420012c8 " .. hex)
    assert.truthy(note:find("Backtrace (decoded from the stack dump):\r\n", 1, true))
    assert.truthy(note:find("0x420012c8 %- main\r\n    at [^\r]*main%.rs:25\r\n"))
    assert.truthy(note:find("0x42001280 - hal_main\r\n", 1, true))
    assert.are.equal("Unable to decode stack-dump. Double check `-Cforce-unwind-tables` is used.\r\n",
      r:annotate("STACKDUMP: 12345678 00000000"))
  end)

  it("reads frame sizes from .eh_frame", function()
    local dw = assert(core.dwarf_open(BACKTRACE))
    assert.are.equal(32, dw:frame_size(0x420012c8))
    assert.is_nil(dw:frame_size(0x12345678))
    assert.are.equal(0x4086e610, dw:symbol_address("_stack_start"))
    dw:close()
  end)
end)

describe("core.dwarf_open", function()
  it("fails cleanly on missing and non-ELF files", function()
    local ok, msg, code = core.dwarf_open("/nonexistent.elf")
    assert.is_nil(ok)
    assert.are.equal("FILE", code)
    assert.truthy(msg:find("/nonexistent.elf", 1, true))
    local name = os.tmpname()
    local f = assert(io.open(name, "wb"))
    f:write("not an elf")
    f:close()
    ok, msg, code = core.dwarf_open(name)
    os.remove(name)
    assert.is_nil(ok)
    assert.are.equal("ELF", code)
  end)
end)
