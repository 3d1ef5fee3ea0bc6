--- Output: the only writer of the command line tool.
--
-- Log lines go to stderr in espflash's env_logger shape without the timestamp
-- (`[INFO ] message`, `[WARN ] message`); results go to stdout. Colour is used
-- only when the stream is a terminal and NO_COLOR is unset or empty.
-- `--quiet` hides info lines and progress; warnings and errors stay.
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
--   default 80), `clock` (seconds, default core.now)
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

function M:log(level, msg)
  local l = LEVELS[level]
  local label = l.label
  if self.color then label = "\27[" .. l.color .. "m" .. label .. "\27[0m" end
  self.err:write("[", label, "] ", tostring(msg), "\n")
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

--- A result line on stdout (shown even with --quiet).
function M:print(s)
  self.out:write(tostring(s), "\n")
  self.out:flush()
end

--- Raw output on stdout, written as given (shown even with --quiet).
function M:write(s)
  self.out:write(s)
  self.out:flush()
end

local function human_bytes(n)
  if n >= 1024 * 1024 then return ("%.1f MiB"):format(n / (1024 * 1024)) end
  if n >= 1024 then return ("%.1f KiB"):format(n / 1024) end
  return ("%d B"):format(n)
end
M.human_bytes = human_bytes

local function clock_text(s)
  s = math.floor(s + 0.5)
  return ("%02d:%02d"):format(s // 60, s % 60)
end

local Progress = {}
Progress.__index = Progress

--- Starts a progress display for `total` bytes labelled `label`.
-- Returns an object with `:update(done)` and `:finish(text)`: a bar with
-- bytes, rate and time left on a terminal; a line at every quarter otherwise;
-- nothing with --quiet (the finish text is then an info line, also hidden).
function M:progress(label, total)
  return setmetatable({
    ui = self, label = label, total = math.max(total or 0, 0), done = 0,
    started = self.clock(), drawn_at = nil, quarter = 0, finished = false,
  }, Progress)
end

--- The bar line for `done` of `total` after `elapsed` seconds (no colour codes).
function Progress:line(done, elapsed)
  local total = self.total
  local frac = total > 0 and math.min(done / total, 1) or 1
  local rate = elapsed > 0 and done / elapsed or 0
  local left = (rate > 0 and done < total) and clock_text((total - done) / rate) or "--:--"
  local tail = ("%3d%% %s/%s %s/s ETA %s"):format(math.floor(frac * 100),
    human_bytes(done), human_bytes(total), human_bytes(math.floor(rate)), left)
  local width = math.max(self.ui.width - #self.label - #tail - 5, 10)
  local fill = math.floor(frac * width)
  return ("%s [%s%s] %s"):format(self.label, ("="):rep(fill), (" "):rep(width - fill), tail)
end

--- Reports that `done` bytes are complete.
function Progress:update(done)
  local ui = self.ui
  self.done = done
  if ui.quiet or self.finished then return end
  local now = ui.clock()
  if ui.tty then
    if self.drawn_at and now - self.drawn_at < 0.1 and done < self.total then return end
    self.drawn_at = now
    ui.err:write("\r", self:line(done, now - self.started), "\27[K")
    ui.err:flush()
  elseif self.total > 0 then
    local quarter = math.min(done * 4 // self.total, 4)
    if quarter > self.quarter then
      self.quarter = quarter
      ui:info(("%s: %d%% (%d/%d bytes)"):format(self.label, quarter * 25, done, self.total))
    end
  end
end

--- Ends the display; `text`, when given, is logged as an info line.
function Progress:finish(text)
  local ui = self.ui
  if self.finished then return end
  self.finished = true
  if ui.tty and not ui.quiet and self.drawn_at then
    ui.err:write("\r\27[K")
    ui.err:flush()
  end
  if text then ui:info(text) end
end

--- A callback `function(done, total)` for library functions, driving a progress display.
function M:progress_callback(label)
  local p
  return function(done, total)
    if not p then p = self:progress(label, total) end
    p:update(done)
    if done >= total then p:finish() end
  end
end

return M
