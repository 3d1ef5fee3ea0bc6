--- defmt for the monitor (`-L defmt`): the table of format strings from the
--- ELF's `.defmt` section, esp-println's framing (`FF 00` <rzcobs frame>
--- `00`, bytes outside frames are plain text), rzCOBS, and decoding a frame
--- into the text `-F/--output-format` asks for.
---
---     local d = defmt.new("app.elf", { output_format = "oneline" })
---     for _, piece in ipairs(d:feed(bytes)) do ... end   -- text to show
local core = require("espflash.core")
local errors = require("espflash.errors")
local fmt = require("espflash.monitor_defmt_fmt")
local logfmt = require("espflash.monitor_defmt_log")

local M = {}

M.FRAME_START, M.FRAME_END = "\255\0", "\0"
M.VERSIONS = { ["3"] = true, ["4"] = true }
M.LEVELS = { defmt_trace = "TRACE", defmt_debug = "DEBUG", defmt_info = "INFO",
             defmt_warn = "WARN", defmt_error = "ERROR" }

-- rzCOBS ------------------------------------------------------------------

--- Decodes one rzCOBS frame (without the 00 separator); nil when malformed.
--- The result may carry trailing zero bytes (the encoding pads to 7).
function M.rzcobs_decode(s)
  local out, i = {}, #s
  local function take()
    if i < 1 then return nil end
    local c = s:sub(i, i)
    i = i - 1
    return c
  end
  while i >= 1 do
    local x = s:byte(i)
    i = i - 1
    if x == 0 then return nil end
    if x < 0x80 then
      for k = 0, 6 do
        if x & (1 << (6 - k)) == 0 then
          local c = take()
          if not c then return nil end
          out[#out + 1] = c
        else
          out[#out + 1] = "\0"
        end
      end
    else
      local n = x == 0xFF and 134 or (x & 0x7F) + 7
      if x ~= 0xFF then out[#out + 1] = "\0" end
      for _ = 1, n do
        local c = take()
        if not c then return nil end
        out[#out + 1] = c
      end
    end
  end
  return string.reverse(table.concat(out))
end

--- Encodes `s` as one rzCOBS frame (without the 00 separator).
function M.rzcobs_encode(s)
  local out, run, zeros = {}, 0, 0
  for i = 1, #s do
    local b = s:byte(i)
    if run < 7 then
      if b == 0 then zeros = zeros | (1 << run) else out[#out + 1] = string.char(b) end
      run = run + 1
      if run == 7 and zeros ~= 0 then
        out[#out + 1] = string.char(zeros)
        run, zeros = 0, 0
      end
    elseif b == 0 then
      out[#out + 1] = string.char((run - 7) | 0x80)
      run, zeros = 0, 0
    else
      out[#out + 1] = string.char(b)
      run = run + 1
      if run == 134 then
        out[#out + 1] = "\255"
        run, zeros = 0, 0
      end
    end
  end
  if run > 0 and run < 7 then
    out[#out + 1] = string.char((zeros | (0xFF << run)) & 0x7F)
  elseif run >= 7 then
    out[#out + 1] = string.char((run - 7) | 0x80)
  end
  return table.concat(out)
end

-- Framing ----------------------------------------------------------------

local Delimiter = {}
Delimiter.__index = Delimiter

--- esp-println's framing: `feed(bytes)` returns `{kind = "frame"|"raw", data}`
--- pieces; a trailing FF is held back (it may start a frame).
function M.delimiter()
  return setmetatable({ buf = "", in_frame = false }, Delimiter)
end

function Delimiter:feed(bytes)
  local buf, out = self.buf .. bytes, {}
  while true do
    if self.in_frame then
      local start = buf:find("[^\0]")
      if not start then break end
      local e = buf:find("\0", start, true)
      if not e then break end
      out[#out + 1] = { kind = "frame", data = buf:sub(start, e - 1) }
      buf = buf:sub(e + 1)
      self.in_frame = false
    else
      local s = buf:find(M.FRAME_START, 1, true)
      if not s then break end
      if s > 1 then out[#out + 1] = { kind = "raw", data = buf:sub(1, s - 1) } end
      buf = buf:sub(s + 2)
      self.in_frame = true
    end
  end
  if not self.in_frame then
    local keep = buf:sub(-1) == "\255" and 1 or 0
    if #buf > keep then
      out[#out + 1] = { kind = "raw", data = buf:sub(1, #buf - keep) }
      buf = buf:sub(#buf - keep + 1)
    end
  end
  self.buf = buf
  return out
end

-- The table --------------------------------------------------------------

local function fail(code, message, hint)
  errors.raise("espflash::monitor::defmt::" .. code, message, hint)
end

--- Reads the defmt table of the ELF at `path`: `{entries = {[index] =
--- {tag, format, level, symbol}}, timestamp = format|nil, locations =
--- {[index] = {file, line, module}}|nil, warnings = {...}}`. Raises
--- espflash::monitor::defmt::* errors as espflash does.
function M.load_table(path)
  if not path then
    fail("no_elf", "No elf data available", "Please provide an ELF file with the `--elf` argument")
  end
  local elf = require("espflash.elf").load(path)
  local sec = elf:section(".defmt")
  local version, encoding
  for _, sym in ipairs(elf.symbols) do
    version = version or sym.name:match('^"?_defmt_version_ = ([^"]+)"?$')
    encoding = encoding or sym.name:match('^"?_defmt_encoding_ = ([^"]+)"?$')
  end
  if not sec and not version then fail("no_defmt", "No defmt data was found in the elf file") end
  if not sec or not version then
    fail("table_parse_failed", "Failed to parse defmt data",
      "The ELF has a .defmt section or a defmt version symbol, but not both")
  end
  if not M.VERSIONS[version] then
    fail("table_parse_failed", "Failed to parse defmt data",
      string.format("defmt wire format version %s is not supported (supported: 3, 4)", version))
  end
  if (encoding or "rzcobs") ~= "rzcobs" then
    fail("unsupported_encoding", string.format("Unsupported defmt encoding: %s. Only rzcobs is supported.",
      encoding))
  end
  local decode = require("cjson").decode
  local t = { entries = {}, warnings = {} }
  for _, sym in ipairs(elf.symbols) do
    if sym.section == sec.index and sym.name:sub(1, 1) == "{" then
      local ok, j = pcall(decode, sym.name)
      if not ok or type(j) ~= "table" or type(j.tag) ~= "string" then
        fail("table_parse_failed", "Failed to parse defmt data", "Malformed defmt symbol " .. sym.name)
      end
      if j.tag == "defmt_timestamp" then
        t.timestamp = j.data
      else
        t.entries[sym.value] = { tag = j.tag, format = j.data, level = M.LEVELS[j.tag],
                                 log = M.LEVELS[j.tag] ~= nil or j.tag == "defmt_println",
                                 symbol = sym.name }
      end
    end
  end
  t.locations = M.locations(path, t)
  return t
end

--- Locations of the table's log statements from the DWARF, or nil (with a
--- warning added to `t.warnings`) when they are missing or incomplete.
function M.locations(path, t)
  local dw = core.dwarf_open(path)
  local by_symbol = {}
  for _, loc in ipairs(dw and dw:defmt_locations() or {}) do by_symbol[loc.linkage] = loc end
  if dw then dw:close() end
  local locs, any, complete = {}, false, true
  for index, e in pairs(t.entries) do
    local loc = by_symbol[e.symbol]
    if loc and loc.addr == index then
      locs[index] = { file = loc.file, line = loc.line, module = loc.module }
      any = true
    elseif e.log then
      complete = false
    end
  end
  if next(t.entries) and not any then
    t.warnings[#t.warnings + 1] = "Insufficient DWARF info; compile your program with `debug = 2` "
      .. "to enable location info."
    return nil
  end
  if not complete then
    t.warnings[#t.warnings + 1] = "Location info is incomplete; it will be omitted from the output."
    return nil
  end
  return locs
end

--- Decodes one frame's bytes (after rzCOBS) into a record for the log
--- format: `{level, message, timestamp, file, line, module}`; nil and an
--- error message when the frame does not match the table.
function M.decode(t, bytes)
  local ok, rec = pcall(function()
    local r = fmt.reader(bytes)
    local index = r:u(2)
    local lookup = function(i)
      local e = t.entries[i]
      return e and not e.log and e.format or nil
    end
    local ts
    if t.timestamp then ts = fmt.show(t.timestamp, fmt.read_args(r, t.timestamp, lookup)) end
    local e = t.entries[index]
    if not e or not e.log then error(string.format("unknown log index %d", index), 0) end
    local message = fmt.show(e.format, fmt.read_args(r, e.format, lookup))
    local loc = t.locations and t.locations[index] or {}
    return { level = e.level, message = message, timestamp = ts, file = loc.file,
             line = loc.line, module = loc.module, index = index }
  end)
  if not ok then return nil, rec end
  return rec
end

local Parser = {}
Parser.__index = Parser

--- A defmt parser for the ELF at `path`. Options: `output_format`
--- ("oneline", "full" or a custom format), `color`. Raises on a missing
--- table or a bad format; `parser.warnings` lists what espflash warns about.
function M.new(path, opts)
  opts = opts or {}
  local t = M.load_table(path)
  local name = opts.output_format
  local text = logfmt.format_for(name, t.locations ~= nil, t.timestamp ~= nil)
  local ok, items = pcall(logfmt.parse, text)
  if not ok then errors.usage(items, "See the defmt book's \"Custom log output\" for the syntax") end
  local warnings = t.warnings
  if name and name ~= "oneline" and name ~= "full" then
    local shows = logfmt.has_timestamp(items)
    if shows and not t.timestamp then
      warnings[#warnings + 1] = "logger format contains timestamp but no timestamp implementation "
        .. "was provided; consider removing the timestamp (`{t}`) from the logger format or "
        .. "provide a `defmt::timestamp!` implementation"
    elseif not shows and t.timestamp then
      warnings[#warnings + 1] = "`defmt::timestamp!` implementation was found, but timestamp is "
        .. "not part of the log format; consider adding the timestamp (`{t}`) argument to the log format"
    end
  end
  return setmetatable({ table = t, items = items, color = opts.color, delimiter = M.delimiter(),
                        warnings = warnings }, Parser)
end

--- Feeds device bytes; returns `text, problems`: the text to show (raw bytes
--- as they are, each frame as one line ending in CRLF) and a list of
--- messages for frames that failed to decode.
function Parser:feed(bytes)
  local out, problems = {}, {}
  for _, piece in ipairs(self.delimiter:feed(bytes)) do
    if piece.kind == "raw" then
      out[#out + 1] = piece.data
    else
      local data = M.rzcobs_decode(piece.data)
      local rec, err
      if data then rec, err = M.decode(self.table, data) else err = "malformed rzCOBS data" end
      if rec then
        out[#out + 1] = logfmt.render(self.items, rec, self.color) .. "\r\n"
      else
        problems[#problems + 1] = "Failed to decode defmt frame: " .. tostring(err)
      end
    end
  end
  return table.concat(out), problems
end

return M
