--- The monitor's text path: incoming bytes become display text as they come
--- (partial lines too), with line endings normalised to CRLF and UTF-8
--- sequences merged across reads (invalid bytes become U+FFFD), and every
--- completed line handed to a callback (address decoding) whose text is
--- shown right after the line. Mirrors espflash's ResolvingPrinter.
---
---     local p = text.printer(function(line) return nil end)
---     local shown = p:feed("Hello\nwor")   --> "Hello\r\nwor"
local M = {}

M.REPLACEMENT = "\u{FFFD}"

--- A CRLF normaliser: a "\n" not preceded by "\r" becomes "\r\n". Keeps the
--- "previous byte was \r" state across calls (espflash restarts it per read).
function M.crlf()
  local prev_cr = false
  return function(s)
    if s == "" then return s end
    local out = s:gsub("()\n", function(pos)
      if pos == 1 and prev_cr then return "\n" end
      if pos > 1 and s:byte(pos - 1) == 13 then return "\n" end
      return "\r\n"
    end)
    prev_cr = s:byte(-1) == 13
    return out
  end
end

-- Length of the UTF-8 sequence starting with lead byte b and the range the
-- second byte must be in; nil for a byte that cannot start one.
local function lead(b)
  if b < 0x80 then return 1 end
  if b >= 0xC2 and b <= 0xDF then return 2, 0x80, 0xBF end
  if b == 0xE0 then return 3, 0xA0, 0xBF end
  if b == 0xED then return 3, 0x80, 0x9F end
  if b >= 0xE1 and b <= 0xEF then return 3, 0x80, 0xBF end
  if b == 0xF0 then return 4, 0x90, 0xBF end
  if b >= 0xF1 and b <= 0xF3 then return 4, 0x80, 0xBF end
  if b == 0xF4 then return 4, 0x80, 0x8F end
  return nil
end

--- Decodes `s` as UTF-8 the way Rust's from_utf8_lossy does (each maximal
--- invalid subpart becomes one U+FFFD). Returns the text and the trailing
--- bytes of an unfinished sequence (to be completed by the next read).
function M.lossy(s)
  if not s:find("[\128-\255]") then return s, "" end
  local out, n, i, start = {}, #s, 1, 1
  while i <= n do
    local b = s:byte(i)
    if b < 0x80 then
      i = i + 1
    else
      local len, lo, hi = lead(b)
      local ok_len = 0  -- bytes of a valid prefix
      if len then
        ok_len = 1
        for k = 1, len - 1 do
          local c = s:byte(i + k)
          if c == nil then
            out[#out + 1] = s:sub(start, i - 1)
            return table.concat(out), s:sub(i)
          end
          local min, max = 0x80, 0xBF
          if k == 1 then min, max = lo, hi end
          if c < min or c > max then break end
          ok_len = ok_len + 1
        end
      end
      if len and ok_len == len then
        i = i + len
      else
        out[#out + 1] = s:sub(start, i - 1)
        out[#out + 1] = M.REPLACEMENT
        i = i + math.max(ok_len, 1)
        start = i
      end
    end
  end
  out[#out + 1] = s:sub(start)
  return table.concat(out), ""
end

--- A UTF-8 merger: `merge(bytes)` returns the text decodable so far,
--- keeping an unfinished sequence for the next call.
function M.utf8_merger()
  local carry = ""
  return function(s)
    local text
    text, carry = M.lossy(carry .. s)
    return text
  end
end

local Printer = {}
Printer.__index = Printer

--- A printer. `on_line(line)` gets each completed line (without its line
--- ending, joined across reads) and returns the text to show after it, or
--- nil. `feed` returns a list of `{text, kind}` pieces: kind "device" for
--- what the device sent, "note" for on_line's text.
function M.printer(on_line)
  return setmetatable({ crlf = M.crlf(), merge = M.utf8_merger(), fragment = {},
    on_line = on_line }, Printer)
end

--- Feeds bytes; returns the pieces to show (see `printer`).
function Printer:feed(bytes)
  local text = self.merge(self.crlf(bytes))
  local pieces = {}
  local pos = 1
  while true do
    local nl = text:find("\n", pos, true)
    if not nl then break end
    local chunk = text:sub(pos, nl)
    pieces[#pieces + 1] = { chunk, "device" }
    local frag = self.fragment
    frag[#frag + 1] = chunk
    local line = table.concat(frag):gsub("\r?\n$", "")
    self.fragment = {}
    local note = self.on_line and self.on_line(line)
    if note and note ~= "" then pieces[#pieces + 1] = { note, "note" } end
    pos = nl + 1
  end
  if pos <= #text then
    local rest = text:sub(pos)
    pieces[#pieces + 1] = { rest, "device" }
    self.fragment[#self.fragment + 1] = rest
  end
  return pieces
end

return M
