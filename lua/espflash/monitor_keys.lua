--- Keyboard input of the interactive monitor: the bytes a terminal in raw
--- mode sends become the bytes espflash forwards to the device (its
--- crossterm key mapping), or the monitor's own commands:
---
---     Ctrl+C -> exit, Ctrl+R -> reset; Enter -> CR, Backspace -> 08, Tab -> 09,
---     Esc -> 1B, arrows -> ESC [A..D, Home -> ESC [H, End -> ESC [F,
---     Delete -> ESC [3~, Insert -> ESC [2~, Ctrl+letter/space/4..7 -> 00..1F,
---     other characters as UTF-8; other keys (F1.., PgUp, ...) are dropped.
---
--- Escape sequences split across reads are kept until complete; a lone ESC
--- counts as the Esc key once `ESC_WAIT` seconds pass without more input.
local M = {}

M.CTRL_C, M.CTRL_R = "\3", "\18"
M.ESC_WAIT = 0.05

-- Final bytes of CSI (ESC [ ...) and SS3 (ESC O x) sequences espflash forwards.
local CSI_FINAL = { A = "\27[A", B = "\27[B", C = "\27[C", D = "\27[D", H = "\27[H", F = "\27[F" }
local CSI_TILDE = { ["1"] = "\27[H", ["7"] = "\27[H", ["4"] = "\27[F", ["8"] = "\27[F",
                    ["3"] = "\27[3~", ["2"] = "\27[2~" }

local Keys = {}
Keys.__index = Keys

--- A decoder. `clock` (seconds) defaults to os.clock-free core.now.
function M.new(clock)
  if not clock then clock = require("espflash.core").now end
  return setmetatable({ pending = "", since = 0, clock = clock }, Keys)
end

-- Decodes one escape sequence at the start of s (s:byte(1) == 27). Returns
-- the bytes to send (or "" to drop it) and the length consumed, or nil when
-- s may be the start of a longer sequence.
local function escape(s)
  local second = s:sub(2, 2)
  if second == "" then return nil end
  if second == "[" then
    local params, final = s:match("^\27%[([%d;]*)([\64-\126])")
    if not final then
      if s:match("^\27%[[%d;]*$") then return nil end
      return "", 2  -- malformed: drop ESC [
    end
    local len = 2 + #params + 1
    if final == "~" then
      return CSI_TILDE[params:match("^(%d+)")] or "", len
    end
    return CSI_FINAL[final] or "", len
  end
  if second == "O" then
    local final = s:sub(3, 3)
    if final == "" then return nil end
    return CSI_FINAL[final] or "", 3
  end
  if second == "\27" then return "\27", 1 end
  -- Alt+key: espflash sends the key without the modifier
  local b = second:byte()
  if b >= 0x20 and b ~= 0x7F then
    local len = b >= 0xF0 and 4 or b >= 0xE0 and 3 or b >= 0xC0 and 2 or 1
    return s:sub(2, 1 + len), 1 + len
  end
  return "\27", 1
end

--- Decodes `bytes` (may be ""). Returns the bytes to send to the device and
--- the command seen, "exit" or "reset" (input after a command is kept for the
--- next call).
function Keys:feed(bytes)
  local s = self.pending .. bytes
  if bytes ~= "" then self.since = self.clock() end
  self.pending = ""
  local out, i = {}, 1
  while i <= #s do
    local b = s:byte(i)
    if b == 3 or b == 18 then
      self.pending = s:sub(i + 1)
      return table.concat(out), b == 3 and "exit" or "reset"
    elseif b == 27 then
      local send, len = escape(s:sub(i))
      if not send then
        if self.clock() - self.since < M.ESC_WAIT then
          self.pending = s:sub(i)
          return table.concat(out)
        end
        send, len = "\27", 1
      end
      out[#out + 1] = send
      i = i + len
    elseif b == 0x7F then
      out[#out + 1] = "\8"
      i = i + 1
    else
      local j = s:find("[\3\18\27\127]", i) or #s + 1
      out[#out + 1] = s:sub(i, j - 1)
      i = j
    end
  end
  return table.concat(out)
end

--- True while an incomplete escape sequence waits for more input.
function Keys:waiting()
  return self.pending ~= ""
end

return M
