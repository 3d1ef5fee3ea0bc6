--- A small ELF writer for test inputs: builds 32- or 64-bit little-endian
--- ELF files from a table of sections and symbols, so the bad-input corpus
--- (tests/bad/gen.lua) and the fuzz seeds (tests/fuzz/seeds.lua) can make
--- valid firmware-shaped ELFs and then break them in one precise place.
---
---     local elfgen = require("bad.elfgen")
---     local bytes, layout = elfgen.build(elfgen.firmware("esp32c3"))
---
--- `layout` gives the file offsets of the parts (`shoff`, `sections[name] =
--- {header = offset of its section header, offset = offset of its data}`,
--- `symtab`, `strtab`) so a caller can patch exactly one field.
local M = {}

M.PROGBITS, M.SYMTAB, M.STRTAB, M.NOBITS, M.INIT_ARRAY = 1, 2, 3, 8, 14
M.SHF_WRITE, M.SHF_ALLOC, M.SHF_EXECINSTR = 1, 2, 4
M.EM_XTENSA, M.EM_RISCV = 94, 243

local function align(n, a) return (n + a - 1) // a * a end

-- A string table: returns the bytes and a function giving a name's offset.
local function strtab(names)
  local parts, offs, len = { "\0" }, { [""] = 0 }, 1
  for _, n in ipairs(names) do
    if not offs[n] then
      offs[n] = len
      parts[#parts + 1] = n .. "\0"
      len = len + #n + 1
    end
  end
  return table.concat(parts), function(n) return offs[n] end
end

--- Builds the ELF for `spec`: `{class = 32|64, machine, entry, sections =
--- {{name, type, flags, addr, data | size (NOBITS), align}}, symbols =
--- {{name, value, size, section = name | index, type = "FUNC"|"OBJECT"|...,
--- bind = "GLOBAL"|"LOCAL"}}}`. Returns the bytes and the layout.
function M.build(spec)
  local is64 = spec.class == 64
  local ehsize, shentsize, symentsize = is64 and 64 or 52, is64 and 64 or 40, is64 and 24 or 16
  local secs = {}
  for _, s in ipairs(spec.sections or {}) do secs[#secs + 1] = s end
  -- .symtab, .strtab and .shstrtab follow the caller's sections
  local symnames = {}
  for _, sym in ipairs(spec.symbols or {}) do symnames[#symnames + 1] = sym.name end
  local symstr, symoff = strtab(symnames)
  local n_user = #secs
  local symtab_idx, strtab_idx, shstr_idx = n_user + 1, n_user + 2, n_user + 3
  local shnames = {}
  for _, s in ipairs(secs) do shnames[#shnames + 1] = s.name end
  for _, n in ipairs({ ".symtab", ".strtab", ".shstrtab" }) do shnames[#shnames + 1] = n end
  local shstr, shoff_of = strtab(shnames)

  local index = {}
  for i, s in ipairs(secs) do index[s.name] = i end
  local TYPES = { NOTYPE = 0, OBJECT = 1, FUNC = 2, SECTION = 3, FILE = 4 }
  local BINDS = { LOCAL = 0, GLOBAL = 1, WEAK = 2 }
  local syms = { ("\0"):rep(symentsize) }
  for _, sym in ipairs(spec.symbols or {}) do
    local shndx = type(sym.section) == "number" and sym.section or index[sym.section] or 0
    local info = (BINDS[sym.bind or "GLOBAL"] << 4) | TYPES[sym.type or "OBJECT"]
    if is64 then
      syms[#syms + 1] = string.pack("<I4BBI2I8I8", symoff(sym.name), info, 0, shndx, sym.value, sym.size or 0)
    else
      syms[#syms + 1] = string.pack("<I4I4I4BBI2", symoff(sym.name), sym.value, sym.size or 0, info, 0, shndx)
    end
  end
  local symdata = table.concat(syms)

  local layout = { sections = {} }
  local body, pos = {}, ehsize
  local function place(data, a)
    local at = align(pos, a or 4)
    if at > pos then body[#body + 1] = ("\0"):rep(at - pos) end
    body[#body + 1] = data
    pos = at + #data
    return at
  end
  local headers = {}
  for i, s in ipairs(secs) do
    local off, size = 0, s.size or (s.data and #s.data) or 0
    if s.type ~= M.NOBITS and s.data then off = place(s.data, s.align) end
    if s.offset then off = s.offset end
    headers[i] = { name = shoff_of(s.name), type = s.type or M.PROGBITS, flags = s.flags or M.SHF_ALLOC,
      addr = s.addr or 0, offset = off, size = size, link = s.link or 0, info = s.info or 0,
      align = s.align or 4, entsize = s.entsize or 0 }
    layout.sections[s.name] = { offset = off, index = i }
  end
  layout.symtab = place(symdata, 4)
  headers[symtab_idx] = { name = shoff_of(".symtab"), type = M.SYMTAB, flags = 0, addr = 0,
    offset = layout.symtab, size = #symdata, link = strtab_idx, info = 1, align = 4, entsize = symentsize }
  layout.strtab = place(symstr, 1)
  headers[strtab_idx] = { name = shoff_of(".strtab"), type = M.STRTAB, flags = 0, addr = 0,
    offset = layout.strtab, size = #symstr, link = 0, info = 0, align = 1, entsize = 0 }
  layout.shstrtab = place(shstr, 1)
  headers[shstr_idx] = { name = shoff_of(".shstrtab"), type = M.STRTAB, flags = 0, addr = 0,
    offset = layout.shstrtab, size = #shstr, link = 0, info = 0, align = 1, entsize = 0 }
  layout.shoff = align(pos, 4)
  if layout.shoff > pos then body[#body + 1] = ("\0"):rep(layout.shoff - pos) end
  local sh = { ("\0"):rep(shentsize) }
  for i, h in ipairs(headers) do
    if is64 then
      sh[#sh + 1] = string.pack("<I4I4I8I8I8I8I4I4I8I8", h.name, h.type, h.flags, h.addr, h.offset,
        h.size, h.link, h.info, h.align, h.entsize)
    else
      sh[#sh + 1] = string.pack("<I4I4I4I4I4I4I4I4I4I4", h.name, h.type, h.flags, h.addr, h.offset,
        h.size, h.link, h.info, h.align, h.entsize)
    end
    local name = secs[i] and secs[i].name
    if name then layout.sections[name].header = layout.shoff + i * shentsize end
  end
  layout.shnum = #headers + 1
  layout.shentsize = shentsize
  local ident = "\127ELF" .. string.char(is64 and 2 or 1, 1, 1, 0) .. ("\0"):rep(8)
  local head
  if is64 then
    head = ident .. string.pack("<I2I2I4I8I8I8I4I2I2I2I2I2I2", 2, spec.machine or M.EM_RISCV, 1,
      spec.entry or 0, 0, layout.shoff, 0, ehsize, 56, 0, shentsize, layout.shnum, shstr_idx)
  else
    head = ident .. string.pack("<I2I2I4I4I4I4I4I2I2I2I2I2I2", 2, spec.machine or M.EM_RISCV, 1,
      spec.entry or 0, 0, layout.shoff, 0, ehsize, 32, 0, shentsize, layout.shnum, shstr_idx)
  end
  return head .. table.concat(body) .. table.concat(sh), layout
end

--- The 256-byte ESP-IDF app descriptor (esp_app_desc_t) with magic `magic`.
function M.app_desc(opts)
  opts = opts or {}
  local function fixed(s, n) return (s .. ("\0"):rep(n)):sub(1, n) end
  return string.pack("<I4I4", opts.magic or 0xABCD5432, 0) .. ("\0"):rep(8)
    .. fixed(opts.version or "1.0", 32) .. fixed(opts.project or "bad-input", 32)
    .. fixed("12:00:00", 16) .. fixed("Jan  1 2025", 16) .. fixed("v5.1", 32)
    .. ("\0"):rep(32) .. string.pack("<I2I2B", 0, 0, opts.mmu_log2 or 16) .. ("\0"):rep(75)
end

-- Where firmware lives, per architecture (a RISC-V chip like the ESP32-C3,
-- and the Xtensa ESP32).
local PLACES = {
  esp32c3 = { machine = M.EM_RISCV, iram = 0x40380000, drom = 0x3C000000, dram = 0x3FC80000 },
  esp32c6 = { machine = M.EM_RISCV, iram = 0x40800000, drom = 0x42000000, dram = 0x40810000 },
  esp32 = { machine = M.EM_XTENSA, iram = 0x40080000, drom = 0x3F400000, dram = 0x3FFB0000 },
}

--- A small firmware-shaped ELF spec for `chip` (esp32c3, esp32c6, esp32):
--- an app descriptor at the start of the flash data, code in IRAM, data in
--- DRAM, a few symbols. Callers may change it before `build`.
function M.firmware(chip, opts)
  opts = opts or {}
  local p = assert(PLACES[chip], "no layout for " .. tostring(chip))
  local text = ("\x13\x00\x00\x00"):rep(16)
  local rodata = ("read-only data\0"):rep(8)
  return {
    class = 32, machine = p.machine, entry = p.iram,
    sections = {
      { name = ".flash.appdesc", flags = M.SHF_ALLOC, addr = p.drom + 0x20, data = M.app_desc(opts.desc), align = 16 },
      { name = ".flash.rodata", flags = M.SHF_ALLOC, addr = p.drom + 0x120, data = rodata, align = 16 },
      { name = ".iram0.text", flags = M.SHF_ALLOC | M.SHF_EXECINSTR, addr = p.iram, data = text, align = 4 },
      { name = ".dram0.data", flags = M.SHF_ALLOC | M.SHF_WRITE, addr = p.dram, data = ("\1\2\3\4"):rep(8), align = 4 },
      { name = ".dram0.bss", type = M.NOBITS, flags = M.SHF_ALLOC | M.SHF_WRITE, addr = p.dram + 0x100, size = 0x200 },
    },
    symbols = {
      { name = "esp_app_desc", value = p.drom + 0x20, size = 256, section = ".flash.appdesc" },
      { name = "main", value = p.iram, size = #text, section = ".iram0.text", type = "FUNC" },
    },
  }
end

--- `s` with the bytes at 0-based `offset` replaced by string.pack(fmt, ...).
function M.patch(s, offset, fmt, ...)
  local b = string.pack(fmt, ...)
  return s:sub(1, offset) .. b .. s:sub(offset + #b + 1)
end

return M
