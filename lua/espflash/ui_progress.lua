--- Progress displays for espflash.ui: a bar per job on a terminal (bytes,
--- rate, time left), a line at every quarter otherwise, nothing with
--- --quiet; and the per-segment bars of a flash write. `ui:progress`,
--- `ui:progress_callback` and `ui:segments` are the way in; the displays
--- write to the ui's stderr and share its current line (`ui.open_bar`,
--- `ui:end_line`).
local M = {}

--- "1.5 MiB", "20.3 KiB", "12 B".
function M.human_bytes(n)
  if n >= 1024 * 1024 then return ("%.1f MiB"):format(n / (1024 * 1024)) end
  if n >= 1024 then return ("%.1f KiB"):format(n / 1024) end
  return ("%d B"):format(n)
end
local human_bytes = M.human_bytes

local function clock_text(s)
  s = math.floor(s + 0.5)
  return ("%02d:%02d"):format(s // 60, s % 60)
end

local Progress = {}
Progress.__index = Progress

--- The display `ui:progress(label, total)` returns (see espflash.ui).
function M.new(ui, label, total)
  return setmetatable({
    ui = ui, label = label, total = math.max(total or 0, 0), done = 0,
    started = ui.clock(), drawn_at = nil, quarter = 0, finished = false,
  }, Progress)
end

function Progress:bar(frac, tail)
  local width = math.max(self.ui.width - #self.label - #tail - 5, 10)
  local fill = math.floor(frac * width)
  return ("%s [%s%s] %s"):format(self.label, ("="):rep(fill), (" "):rep(width - fill), tail)
end

--- The bar line for `done` of `total` after `elapsed` seconds (no colour codes).
function Progress:line(done, elapsed)
  local total = self.total
  local frac = total > 0 and math.min(done / total, 1) or 1
  local rate = elapsed > 0 and done / elapsed or 0
  local left = (rate > 0 and done < total) and clock_text((total - done) / rate) or "--:--"
  local tail = ("%3d%% %s/%s %s/s ETA %s"):format(math.floor(frac * 100),
    human_bytes(done), human_bytes(total), human_bytes(math.floor(rate)), left)
  if self.verifying and done >= total then tail = "Verifying..." end
  return self:bar(frac, tail)
end

--- Reports that `done` bytes (of `total`, when it changes) are complete.
function Progress:update(done, total)
  local ui = self.ui
  self.done, self.total = done, total and math.max(total, 0) or self.total
  self.updated = true
  if ui.quiet or self.finished then return end
  local now = ui.clock()
  if ui.tty then
    if self.drawn_at and now - self.drawn_at < 0.1 and done < self.total then return end
    if ui.open_bar and ui.open_bar ~= self then ui:end_line() end
    self.drawn_at = now
    ui.open_bar = self
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
  if ui.open_bar == self then ui:end_line() end
  if text then ui:info(text) end
end

--- Ends the display with `message` ("Verifying... OK!"): on a terminal the
--- bar stays, full, with the size, time and message; otherwise an info line.
function Progress:conclude(message, painted)
  local ui = self.ui
  if self.finished or ui.quiet then self.finished = true return end
  self.finished = true
  if not ui.tty then return ui:info(self.label .. " " .. message) end
  if ui.open_bar and ui.open_bar ~= self then ui:end_line() end
  local secs = ui.clock() - self.started
  local tail = ("%s in %.1f s  "):format(human_bytes(self.total), secs)
  local line = self:bar(1, tail .. message)
  line = line:sub(1, #line - #message) .. (painted or message)
  ui.err:write("\r", line, "\27[K\n")
  ui.err:flush()
  ui.open_bar = nil
end

--- The callback `ui:progress_callback(label)` returns (see espflash.ui).
function M.callback(ui, label)
  local p
  return function(done, total)
    if not p then p = ui:progress(label, total) end
    p:update(done, total)
    if done >= total then p:finish() end
  end
end

local Segments = {}
Segments.__index = Segments

--- The per-segment progress `ui:segments(opts)` returns (see espflash.ui).
function M.segments(ui, opts)
  local s = setmetatable({ ui = ui, verify = not (opts and opts.verify == false) }, Segments)
  s.progress = function(label) return s:start(label) end
  return s
end

function Segments:done_current()
  local p = self.current
  self.current = nil
  if not p or not p.updated then return end
  if self.verify then
    p:conclude("Verifying... OK!", self.ui:paint("32", "Verifying... OK!"))
  else
    p:conclude("Done!", self.ui:paint("32", "Done!"))
  end
end

--- Starts segment `label`; returns its `function(done, total)`.
function Segments:start(label)
  self:done_current()
  local p = self.ui:progress(label, 0)
  p.verifying = self.verify
  self.current = p
  return function(done, total) p:update(done, total) end
end

--- Ends segment `label` as skipped: its bar on a terminal, else the info
--- line "<label> Skipped! (checksum matches)".
function Segments:skipped(label)
  local p, ui = self.current, self.ui
  if not (ui.tty and p and p.label == label) then return ui:info(label .. " Skipped! (checksum matches)") end
  self.current = nil
  p.total = math.max(p.total, 1)
  p:conclude("Skipped! (checksum matches)", ui:paint("33", "Skipped!") .. " " .. ui:paint("2", "(checksum matches)"))
end

--- Wraps `log(level, msg)`: "<label> Skipped! (checksum matches)" goes to
--- `skipped(label)`, everything else to `log`.
function Segments:logger(log)
  return function(level, msg)
    local label = tostring(msg):match("^(%S+) Skipped! %(checksum matches%)$")
    if label then return self:skipped(label) end
    log(level, msg)
  end
end

--- Ends the last segment (call when the write has returned).
function Segments:close()
  self:done_current()
end

return M
