--- Where the monitor's text goes: standard output (through `ctx.ui`), with
--- decoded addresses in yellow when colour is on, an optional `[HH:MM:SS.mmm]`
--- timestamp at the start of every line (`--timestamps`), and an optional log
--- file (`--log-file`) that gets the same text without colour codes and with
--- plain LF line endings.
local core = require("espflash.core")
local errors = require("espflash.errors")

local M = {}

M.YELLOW, M.RESET = "\27[33m", "\27[0m"

--- Removes ANSI escape sequences (CSI ... final byte, OSC ... BEL/ST).
function M.strip_ansi(s)
  s = s:gsub("\27%[[\48-\63]*[\32-\47]*[\64-\126]", "")
  s = s:gsub("\27%][^\7\27]*\7", ""):gsub("\27%][^\7\27]*\27\\", "")
  return s
end

--- "[HH:MM:SS.mmm] " for `t` seconds since the epoch (local time).
function M.stamp(t)
  local ms = math.floor((t % 1) * 1000)
  return string.format("[%s.%03d] ", os.date("%H:%M:%S", math.floor(t)), ms)
end

local Output = {}
Output.__index = Output

--- Creates an output. `opts`: `write(s)` (required: the terminal writer),
--- `color`, `timestamps`, `log_file` (path, appended to), `clock` (epoch
--- seconds, default core.wallclock). Raises espflash::io when the log file
--- cannot be opened.
function M.new(opts)
  local self = setmetatable({ write_out = opts.write, color = opts.color,
    timestamps = opts.timestamps, clock = opts.clock or core.wallclock, at_start = true }, Output)
  if opts.log_file then
    local f, err = io.open(opts.log_file, "ab")
    if not f then
      errors.raise("espflash::io", "Failed to open the log file: " .. tostring(err),
        "Check that the directory exists and is writable")
    end
    self.log = f
  end
  return self
end

-- Inserts the timestamp at every line start in s.
function Output:stamped(s)
  if not self.timestamps or s == "" then return s end
  local out, pos = {}, 1
  while pos <= #s do
    local nl = s:find("\n", pos, true)
    local piece = s:sub(pos, nl or #s)
    if self.at_start and piece ~= "\r\n" and piece ~= "\n" then out[#out + 1] = M.stamp(self.clock()) end
    out[#out + 1] = piece
    self.at_start = nl ~= nil
    pos = (nl or #s) + 1
  end
  return table.concat(out)
end

--- Shows `s`; `kind` "note" marks decoded addresses (yellow).
function Output:write(s, kind)
  if s == "" then return end
  s = self:stamped(s)
  local shown = s
  if kind == "note" and self.color then shown = M.YELLOW .. s .. M.RESET end
  self.write_out(shown)
  if self.log then
    self.log:write((M.strip_ansi(s):gsub("\r\n", "\n")))
    self.log:flush()
  end
end

--- Shows the pieces a text printer returned (`{text, kind}` lists).
function Output:pieces(list)
  for _, p in ipairs(list) do self:write(p[1], p[2]) end
end

--- Closes the log file.
function Output:close()
  if self.log then
    self.log:close()
    self.log = nil
  end
end

return M
