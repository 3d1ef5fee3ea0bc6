--- Output: the only writer of the command line tool.
--
-- Log lines go to stderr in espflash's env_logger shape without the timestamp
-- (`[INFO ] message`, `[WARN ] message`); results go to stdout. Colour is used
-- only when the stream is a terminal and NO_COLOR is unset or empty.
-- `--quiet` hides info lines and progress; warnings and errors stay. With
-- `--json` stdout carries one JSON document (`ui:json_result`) and the
-- human-readable results go to stderr instead. Also here: progress bars
-- (one per flash segment, drawn by espflash.ui_progress) and the port
-- picker's questions.
local progress = require("espflash.ui_progress")

local M = {}
M.__index = M

local LEVELS = {
  error = { label = "ERROR", color = "31" },
  warn = { label = "WARN ", color = "33" },
  info = { label = "INFO ", color = "32" },
  debug = { label = "DEBUG", color = "34" },
}

--- Creates a ui.
-- @param opts table: `quiet`, `debug` (show debug lines), `stdout`, `stderr`
--   (file handles, default io.stdout/io.stderr), `tty` (stderr is a terminal),
--   `color` (default: `tty` and NO_COLOR unset), `width` (terminal columns,
--   default 80), `clock` (seconds, default core.now), `term` (the keyboard for
--   questions: an object with `raw`, `read(max, timeout_ms)` and `restore`;
--   default core.term_open(0) when standard input is a terminal)
function M.new(opts)
  opts = opts or {}
  local no_color = os.getenv("NO_COLOR")
  local self = setmetatable({
    quiet = opts.quiet or false,
    debug_enabled = opts.debug or false,
    out = opts.stdout or io.stdout,
    err = opts.stderr or io.stderr,
    tty = opts.tty or false,
    width = opts.width or 80,
    clock = opts.clock,
    term = opts.term,
  }, M)
  if opts.color ~= nil then
    self.color = opts.color
  else
    self.color = self.tty and (no_color == nil or no_color == "")
  end
  if not self.clock then
    local ok, core = pcall(require, "espflash.core")
    self.clock = ok and core.now or os.time
  end
  return self
end

--- `text` in SGR colour `code` ("1" bold, "2" dim, "32" green, ...) when
--- colour is on, else unchanged.
function M:paint(code, text)
  if self.color and self.tty then return "\27[" .. code .. "m" .. text .. "\27[0m" end
  return text
end

--- Ends a progress bar drawn on the current line, so other output starts on
--- a line of its own; the bar is redrawn on its next update.
function M:end_line()
  local bar = self.open_bar
  if bar then
    self.err:write("\r\27[K")
    self.err:flush()
    bar.drawn_at = nil
    self.open_bar = nil
  end
end

function M:log(level, msg)
  local l = LEVELS[level]
  self:end_line()
  self.err:write("[", self:paint(l.color, l.label), "] ", tostring(msg), "\n")
  self.err:flush()
end

--- An informational log line (hidden with --quiet).
function M:info(msg) if not self.quiet then self:log("info", msg) end end
--- A warning log line.
function M:warn(msg) self:log("warn", msg) end
--- An error log line (the CLI's final error uses its own format).
function M:error(msg) self:log("error", msg) end
--- A debug log line, shown only with --debug.
function M:debug(msg) if self.debug_enabled then self:log("debug", msg) end end

--- A result line on stdout (shown even with --quiet). In JSON mode it goes
--- to stderr (hidden with --quiet), keeping stdout for the document.
function M:print(s)
  if self.json_command then
    if self.quiet then return end
    self:end_line()
    self.err:write(tostring(s), "\n")
    self.err:flush()
    return
  end
  self.out:write(tostring(s), "\n")
  self.out:flush()
end

--- Raw output on stdout, written as given (shown even with --quiet).
function M:write(s)
  self.out:write(s)
  self.out:flush()
end

--- Switches to JSON mode for `command` (see docs/json.md).
function M:set_json(command)
  self.json_command = command
end

--- Writes `result` as the JSON document of the command (JSON mode only;
--- returns false otherwise, so a script can print its human form instead).
function M:json_result(result)
  if not self.json_command then return false end
  local json = require("espflash.json")
  self.out:write(json.encode(json.success(self.json_command, result)), "\n")
  self.out:flush()
  self.json_done = true
  return true
end

--- Writes the JSON document of a failure (JSON mode, when no result was written).
function M:json_failure(e)
  if not self.json_command or self.json_done then return false end
  local json = require("espflash.json")
  self.out:write(json.encode(json.failure(self.json_command, e)), "\n")
  self.out:flush()
  self.json_done = true
  return true
end

-- Progress (espflash.ui_progress) -------------------------------------------

--- "1.5 MiB", "20.3 KiB", "12 B".
M.human_bytes = progress.human_bytes

--- Starts a progress display for `total` bytes labelled `label`.
-- Returns an object with `:update(done)` and `:finish(text)`: a bar with
-- bytes, rate and time left on a terminal; a line at every quarter otherwise;
-- nothing with --quiet (the finish text is then an info line, also hidden).
function M:progress(label, total) return progress.new(self, label, total) end

--- A callback `function(done, total)` for library functions, driving a progress display.
function M:progress_callback(label) return progress.callback(self, label) end

--- Progress for the segments of a flash write (`espflash.flash.write_app`'s
--- `progress(label)` and `log`): a bar per segment that stays on the
--- terminal and ends in "Verifying... OK!" (or "Done!" with `opts.verify =
--- false`) or "Skipped! (checksum matches)"; plain lines otherwise. Use
--- `s.progress` as the progress option, `s:logger(log)` around the log
--- function, and `s:close()` when the write returns.
function M:segments(opts) return progress.segments(self, opts) end

-- Questions ------------------------------------------------------------------

--- True when questions can be asked: standard input is a terminal (or a
--- `term` was given to M.new).
function M:can_ask()
  if self.term then return true end
  local ok, core = pcall(require, "espflash.core")
  return ok and core.isatty ~= nil and core.isatty(0) or false
end

local function interrupted()
  local ok, core = pcall(require, "espflash.core")
  if ok then core.interrupt() end
  local e = require("espflash.errors").new("espflash::interrupted", "Interrupted by Ctrl-C")
  e.exit = 130
  error(e, 0)
end

-- Runs `fn(next_key)` with the keyboard in raw mode; next_key() returns one
-- key: a character, "esc", "seq" (an escape sequence such as an arrow) or "eof".
function M:with_keys(fn)
  local term, owned = self.term, false
  if not term then
    term, owned = require("espflash.core").term_open(0), true
  end
  local buf = ""
  local function next_key()
    while buf == "" do
      local s, _, code = term:read(64, 100)
      if s == nil then
        if code == "INTERRUPTED" then interrupted() end
        return "eof"
      end
      buf = s
    end
    if buf:sub(1, 1) == "\27" then
      if #buf == 1 then buf = buf .. (term:read(64, 30) or "") end
      local seq = buf:match("^\27[%[O][%d;]*.")
      buf = buf:sub(seq and #seq + 1 or 2)
      return seq and "seq" or "esc"
    end
    local c = buf:sub(1, 1)
    buf = buf:sub(2)
    if c == "\3" then interrupted() end
    return c
  end
  self:end_line()
  local ok, err = term:raw()
  if not ok then
    if owned then term:close() end
    require("espflash.errors").raise("espflash::no_terminal", "Cannot ask on this terminal: " .. tostring(err))
  end
  local done, result = pcall(fn, next_key)
  term:restore()
  if owned then term:close() end
  if not done then
    self.err:write("\n")
    error(result, 0)
  end
  return result
end

local CANCEL = { esc = true, eof = true, q = true, Q = true, ["\4"] = true }

--- Asks to pick one of `items` (strings, or `{label =, highlight = true}`
--- for the entries to stand out), listed under `title` (lines separated by
--- "\n") and numbered from 1: the user types a number and Enter. Returns
--- the index, or nil when the user cancels (Esc, q, Ctrl-D, or Enter with
--- nothing typed). Ctrl-C raises the interrupt error (exit 130).
function M:select(title, items)
  return self:with_keys(function(next_key)
    local err = self.err
    err:write(title, "\n")
    for i, it in ipairs(items) do
      local label, hl = type(it) == "table" and it.label or tostring(it), type(it) == "table" and it.highlight
      local line = ("%s%2d) %s"):format(hl and "*" or " ", i, label)
      err:write(hl and self:paint("1", line) or line, "\n")
    end
    local prompt = ("Select 1-%d and press Enter (Esc cancels): "):format(#items)
    err:write(prompt)
    err:flush()
    local typed = ""
    while true do
      local k = next_key()
      if CANCEL[k] then
        err:write("\n")
        return nil
      elseif k:match("^%d$") and #typed < 4 then
        typed = typed .. k
        err:write(k)
      elseif (k == "\127" or k == "\8") and typed ~= "" then
        typed = typed:sub(1, -2)
        err:write("\b \b")
      elseif k == "\r" or k == "\n" then
        local n = tonumber(typed)
        if typed == "" then
          err:write("\n")
          return nil
        elseif items[n] then
          err:write("\n")
          return n
        end
        err:write(("\r\27[KNo entry %s. %s"):format(typed, prompt))
        typed = ""
      end
      err:flush()
    end
  end)
end

--- Asks a yes/no `question`; returns true or false, or nil when cancelled
--- (Esc, q, Ctrl-D). Enter takes `default` when one is given.
function M:confirm(question, default)
  return self:with_keys(function(next_key)
    local err = self.err
    local choices = default == true and "[Y/n]" or default == false and "[y/N]" or "[y/n]"
    err:write(question, " ", choices, " ")
    err:flush()
    while true do
      local k = next_key()
      local answer
      if k == "y" or k == "Y" then answer = true
      elseif k == "n" or k == "N" then answer = false
      elseif (k == "\r" or k == "\n") and default ~= nil then answer = default
      elseif CANCEL[k] then
        err:write("\n")
        return nil
      end
      if answer ~= nil then
        err:write(answer and "yes" or "no", "\n")
        return answer
      end
    end
  end)
end

return M
