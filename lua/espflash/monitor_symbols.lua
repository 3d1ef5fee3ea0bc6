--- Address decoding for the monitor: every `0x` + 8 hex digits on a completed
--- line is looked up in the firmware ELF, then the chip's ROM ELF, and shown
--- as espflash does:
---
---     0x42001280 - hal_main
---         at /path/esp-hal/src/lib.rs:544
---
--- (just `name` / `at file:line` for a line that is only the address).
--- Lines starting `Saved PC:`, `load:0x` or `entry 0x` are left alone unless
--- `all_addresses`. esp-backtrace's RISC-V `STACKDUMP: <pc> <stack hex>`
--- lines are unwound with the ELF's call frame information.
local core = require("espflash.core")
local demangle = require("espflash.monitor_demangle")

local M = {}

M.SKIP_PREFIXES = { "Saved PC:", "load:0x", "entry 0x" }
M.STACKDUMP = "STACKDUMP: "
M.MAX_FRAMES = 100
M.RISCV = 243

-- ROM ELF revisions shipped per chip (espflash-reference.md §3.6), highest
-- first; chips marked `exact` need the chip's revision to pick one.
M.ROM_REVISIONS = {
  esp32 = { 300, 0, exact = true }, esp32c2 = { 100 }, esp32c3 = { 300, 101, 0, exact = true },
  esp32c5 = { 100 }, esp32c61 = { 100 }, esp32c6 = { 0 }, esp32h2 = { 0 },
  esp32p4 = { 300, 0, exact = true }, esp32s2 = { 0 }, esp32s3 = { 0 }, esp32s31 = { 0 },
}

--- The ROM ELF file name for `chip` at `revision` (major * 100 + minor, or
--- nil when unknown), e.g. "esp32c3_rev101_rom.elf"; nil when there is none.
function M.rom_elf_name(chip, revision)
  local revs = M.ROM_REVISIONS[chip]
  if not revs then return nil end
  if revision == nil then
    if revs.exact then return nil end
    return string.format("%s_rev%d_rom.elf", chip, revs[1])
  end
  for _, r in ipairs(revs) do
    if revision >= r then return string.format("%s_rev%d_rom.elf", chip, r) end
  end
  return nil
end

--- The ROM ELF path from the resource directories (roms/<name>), or nil.
function M.find_rom_elf(chip, revision, find_resource)
  local name = M.rom_elf_name(chip, revision)
  if not name then return nil end
  find_resource = find_resource or require("espflash.bootloader").find_resource
  return find_resource("roms/" .. name)
end

local Resolver = {}
Resolver.__index = Resolver

--- A resolver over ELF files, in lookup order. Returns it and a list of
--- warnings for files that could not be read.
function M.new(paths)
  local self = setmetatable({ elfs = {} }, Resolver)
  local warnings = {}
  for _, path in ipairs(paths) do
    local dw, msg = core.dwarf_open(path)
    if dw then
      self.elfs[#self.elfs + 1] = dw
    else
      warnings[#warnings + 1] = string.format("Cannot read symbols from %s: %s", path,
        tostring(msg):gsub("^%u+: ", ""))
    end
  end
  return self, warnings
end

local function frame_name(frame, lang)
  local raw = frame.linkage or frame.name
  if not raw then return nil end
  if lang == "rust" or lang == nil or raw:match("^_?_[ZR]") then return demangle.demangle(raw) end
  return raw
end

--- Looks `addr` up: `{name=, file=, line=}` from the first ELF whose loadable
--- segments contain it and that names it (DWARF, else its symbol table), or nil.
function Resolver:lookup(addr)
  for _, dw in ipairs(self.elfs) do
    if dw:in_segment(addr) then
      local frames = dw:frames(addr)
      local name = frames[1] and frame_name(frames[1], frames.lang)
      if not name then
        local sym = dw:symbol(addr)
        name = sym and demangle.demangle(sym)
      end
      if name then
        local loc = dw:location(addr)
        return { name = name, file = loc and loc.file, line = loc and loc.line, elf = dw }
      end
    end
  end
  return nil
end

local function at(r)
  if r.file and r.line then return string.format("    at %s:%d\r\n", r.file, r.line) end
  return "    at ??:??\r\n"
end

--- The text shown after a completed line: one entry per resolvable address
--- (or the decoded stack dump); nil when there is nothing to add.
function Resolver:annotate(line, all_addresses)
  if #self.elfs == 0 then return nil end
  if line:sub(1, #M.STACKDUMP) == M.STACKDUMP then return self:stack_dump(line) end
  if not all_addresses then
    local trimmed = line:match("^%s*(.-)$")
    for _, p in ipairs(M.SKIP_PREFIXES) do
      if trimmed:sub(1, #p) == p then return nil end
    end
  end
  local out = {}
  local trimmed = line:match("^%s*(.-)%s*$")
  for text in line:gmatch("0[xX]%x%x%x%x%x%x%x%x") do
    local addr = tonumber(text:sub(3), 16)
    local r = self:lookup(addr)
    if r then
      if trimmed == string.format("0x%x", addr) then
        out[#out + 1] = r.name .. "\r\n" .. at(r)
      else
        out[#out + 1] = text .. " - " .. r.name .. "\r\n" .. at(r)
      end
    end
  end
  if #out == 0 then return nil end
  return table.concat(out)
end

--- Parses "STACKDUMP: <pc hex> <stack bytes hex>"; returns pc and the bytes.
function M.parse_stack_dump(line)
  local pc, hex = line:match("^STACKDUMP: (%x+) (%x*)%s*$")
  if not pc or #hex % 2 ~= 0 then return nil end
  local bytes = hex:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end)
  return tonumber(pc, 16), bytes
end

--- Unwinds a stack dump (espflash 4.2's algorithm): the function holding
--- pc has a frame of N bytes (its largest CFA offset); the caller's return
--- address is the frame's last word; repeat on the rest of the stack.
--- Returns the list of `{pc, name, file, line}` frames.
function Resolver:unwind(pc, stack)
  local frames, index = {}, 0
  while #frames < M.MAX_FRAMES do
    local size
    for _, dw in ipairs(self.elfs) do
      if dw:machine() == M.RISCV then size = dw:frame_size(pc) end
      if size then break end
    end
    if not size or size == 0 then break end
    local r = self:lookup(pc - 4) or {}
    frames[#frames + 1] = { pc = pc, name = r.name, file = r.file, line = r.line }
    if index + size > #stack or size < 4 then break end
    pc = string.unpack("<I4", stack, index + size - 3)
    index = index + size
  end
  return frames
end

--- The text shown after a `STACKDUMP:` line.
function Resolver:stack_dump(line)
  local pc, stack = M.parse_stack_dump(line)
  local frames = pc and self:unwind(pc, stack) or {}
  if #frames == 0 then
    return "Unable to decode stack-dump. Double check `-Cforce-unwind-tables` is used.\r\n"
  end
  local out = { "\r\nBacktrace (decoded from the stack dump):\r\n" }
  for _, f in ipairs(frames) do
    out[#out + 1] = string.format("0x%08x - %s\r\n", f.pc, f.name or "??") .. at(f)
  end
  out[#out + 1] = "\r\n"
  return table.concat(out)
end

--- Closes the ELF files.
function Resolver:close()
  for _, dw in ipairs(self.elfs) do dw:close() end
  self.elfs = {}
end

return M
