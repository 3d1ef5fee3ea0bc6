--- ELF files: what `core.elf_read` returns, plus the lookups the image
--- builder and the flasher need (sections and symbols by name, the
--- `.espressif.metadata` values, the app descriptor, the file's SHA-256).
local core = require("espflash.core")
local errors = require("espflash.errors")
local appdesc = require("espflash.image_appdesc")

local M = {}

--- ELF machine numbers of the two architectures Espressif chips use.
M.MACHINES = { [94] = "Xtensa", [243] = "RISC-V" }

--- Section flag bits (SHF_*).
M.SHF_WRITE, M.SHF_ALLOC, M.SHF_EXECINSTR = 0x1, 0x2, 0x4

local METADATA = ".espressif.metadata"

local Elf = {}
Elf.__index = Elf

--- Reads and parses the ELF file at `path`. Raises `espflash::invalid_elf`
--- for a file that is not a valid ELF and `espflash::file_open` when it
--- cannot be read. `opts.symbols = false` skips the symbol table.
function M.load(path, opts)
  local t, msg, code = core.elf_read(path, opts)
  if not t then
    msg = tostring(msg):gsub("^%u+: ", "")
    if code == "FILE" then
      errors.raise("espflash::file_open", ("Failed to open image %s"):format(msg),
        "Check the path of the ELF file")
    end
    errors.raise("espflash::invalid_elf", "Supplied ELF image is not valid: " .. msg,
      "Try rebuilding the image (e.g. `cargo clean` and build again)")
  end
  t.path = path
  return setmetatable(t, Elf)
end

--- The first section called `name`, or nil.
function Elf:section(name)
  for _, s in ipairs(self.sections) do
    if s.name == name then return s end
  end
  return nil
end

--- The section with ELF index `index`, or nil.
function Elf:section_by_index(index)
  for _, s in ipairs(self.sections) do
    if s.index == index then return s end
  end
  return nil
end

--- The first symbol called `name`, or nil.
function Elf:symbol(name)
  for _, s in ipairs(self.symbols) do
    if s.name == name then return s end
  end
  return nil
end

--- The architecture name ("RISC-V", "Xtensa") or "machine N".
function Elf:arch()
  return M.MACHINES[self.machine] or ("machine " .. tostring(self.machine))
end

--- Sections that carry loadable bytes as espflash takes them (reference
--- §4.1): PROGBITS or INIT_ARRAY, non-empty, file offset > 0, address > 0
--- and non-zero flags. Returns a list of `{addr, data, name}`.
function Elf:loadable_sections()
  local out = {}
  for _, s in ipairs(self.sections) do
    if (s.type == "PROGBITS" or s.type == "INIT_ARRAY") and s.size > 0 and s.offset > 0
        and s.addr > 0 and s.flags ~= 0 and s.data then
      out[#out + 1] = { addr = s.addr, data = s.data, name = s.name }
    end
  end
  return out
end

local function decode_number(data)
  if data:match("^%s*%d+%s*$") then return tonumber(data) end
  if #data == 1 or #data == 2 or #data == 4 or #data == 8 then
    return (string.unpack("<I" .. #data, data))
  end
  return nil
end

--- The `.espressif.metadata` values: `{chip_name, log_format,
--- min_chip_revision, values = {symbol name = raw bytes}}`; an empty table
--- (values = {}) when the section is absent. Each value is a symbol placed in
--- the metadata section (e.g. `build_info.CHIP_NAME`).
function Elf:metadata()
  if self._metadata then return self._metadata end
  local md = { values = {} }
  local sec = self:section(METADATA)
  if sec and sec.data then
    for _, sym in ipairs(self.symbols) do
      if sym.section == sec.index and sym.name ~= "" and sym.type ~= "SECTION" then
        local off = sym.value - sec.addr
        if off >= 0 and sym.size >= 0 and off + sym.size <= #sec.data then
          md.values[sym.name] = sec.data:sub(off + 1, off + sym.size)
        end
      end
    end
    md.chip_name = md.values["build_info.CHIP_NAME"]
    md.log_format = md.values["espflash.LOG_FORMAT"]
    local rev = md.values["build_info.MIN_CHIP_REVISION"]
    md.min_chip_revision = rev and decode_number(rev) or nil
  end
  self._metadata = md
  return md
end

--- Where the app descriptor is: `{addr, source}` from the section
--- `.flash.appdesc` (newer esp-hal), `.rodata_desc` (older esp-hal, ESP-IDF)
--- or the symbol `esp_app_desc`; nil when the ELF has none.
function Elf:app_descriptor_location()
  for _, name in ipairs({ ".flash.appdesc", ".rodata_desc" }) do
    local s = self:section(name)
    if s and s.size >= appdesc.SIZE then return { addr = s.addr, source = name } end
  end
  local sym = self:symbol("esp_app_desc")
  if sym and sym.value ~= 0 then return { addr = sym.value, source = "esp_app_desc" } end
  return nil
end

--- The parsed app descriptor read from the ELF's sections, or nil (and a
--- message when one was found but is malformed).
function Elf:app_descriptor()
  local loc = self:app_descriptor_location()
  if not loc then return nil end
  for _, s in ipairs(self.sections) do
    if s.data and s.addr > 0 and loc.addr >= s.addr and loc.addr < s.addr + #s.data then
      return appdesc.parse(s.data, loc.addr - s.addr + 1)
    end
  end
  return nil, "the app descriptor's bytes are not in any section"
end

--- Raises `espflash::app_descriptor_not_present` when the ELF has no app
--- descriptor (what espflash requires unless --ignore-app-descriptor).
function Elf:require_app_descriptor()
  if self:app_descriptor_location() then return end
  local hint
  if self:section(METADATA) then
    hint = "You may need to add the `esp_bootloader_esp_idf::esp_app_desc!()` macro to your "
      .. "esp-hal application, or pass --ignore-app-descriptor"
  else
    hint = "Build the application with ESP-IDF's app descriptor, or pass --ignore-app-descriptor"
  end
  errors.raise("espflash::app_descriptor_not_present",
    ("ESP-IDF App Descriptor missing in %s"):format(self.path), hint)
end

--- The whole ELF file's bytes (read once).
function Elf:bytes()
  if not self._bytes then
    local f, err = io.open(self.path, "rb")
    if not f then errors.raise("espflash::file_open", "Failed to open image " .. tostring(err)) end
    self._bytes = f:read("a")
    f:close()
  end
  return self._bytes
end

--- SHA-256 of the whole ELF file (32 raw bytes): core.elf_read computes it
--- from the bytes it parsed, so the file is not read again.
function Elf:sha256()
  if not self.file_sha256 then self.file_sha256 = core.sha256(self:bytes()) end
  return self.file_sha256
end

return M
