--- The terminal view of `espflash provision`: one line per device, redrawn
--- in place as the devices progress (port, MAC, record, what it is doing,
--- then its result); warnings scroll above the lines. Without a terminal
--- the command prints espflash.parallel.progress_lines instead.
---
---     local view = provision_view.new(io.stderr, ports, { width = 100 })
---     provision.run{ ..., progress = view.progress }
---     view.finish()
local parallel = require("espflash.parallel")

local M = {}

--- Redraws happen at most this often (seconds), results at once.
M.INTERVAL = 0.1

local function fit(s, width)
  if utf8.len(s) and utf8.len(s) > width then
    return s:sub(1, utf8.offset(s, width + 1) - 1)
  end
  return s
end

--- A view of the devices `ports` (a list) written to `out` (a file).
--- `opts`: `width` (terminal columns, default 80), `clock()` (seconds),
--- `label(port, i)` (default: parallel.default_label). Returns
--- `{progress = function(event), finish = function()}`.
function M.new(out, ports, opts)
  opts = opts or {}
  local width = math.max(20, (opts.width or 80) - 1)
  local clock = opts.clock or require("espflash.core").now
  local rows, label_w = {}, 0
  for i, p in ipairs(ports) do
    rows[i] = { label = "[" .. (opts.label or parallel.default_label)(p, i) .. "]", status = "waiting" }
    label_w = math.max(label_w, #rows[i].label)
  end
  local drawn, last = false, -math.huge

  local function text(r)
    local who = table.concat({ r.mac or "", r.serial or "" }, " "):gsub("^ +", "")
    return fit(("%-" .. label_w .. "s  %s%s"):format(r.label, who ~= "" and who .. "  " or "", r.status), width)
  end
  local function draw(force)
    local now = clock()
    if not force and drawn and now - last < M.INTERVAL then return end
    last = now
    local parts = { drawn and ("\r\27[%dA"):format(#rows) or "" }
    for _, r in ipairs(rows) do parts[#parts + 1] = "\27[2K" .. text(r) .. "\n" end
    out:write(table.concat(parts))
    out:flush()
    drawn = true
  end
  local function above(line)
    if drawn then out:write(("\r\27[%dA\27[J"):format(#rows)) end
    out:write(fit(line, width), "\n")
    drawn = false
    draw(true)
  end

  local function progress(ev)
    local r = rows[ev.index]
    if not r then return end
    if ev.kind == "start" then
      r.status = "connecting"
    elseif ev.kind == "log" then
      local chip, mac, verb, serial = ev.message:match("^(%S+) (%x%x:%S+) (%a+) (%S+)")
      if verb == "gets" or verb == "keeps" then
        r.mac, r.serial, r.status = mac, serial, chip .. (verb == "keeps" and ", provisioned before" or "")
      elseif ev.message:match("^Connected to ") then
        r.status = "connected to " .. ev.message:sub(14)
      elseif ev.level == "warn" then
        above(r.label .. " [WARN ] " .. ev.message)
        return
      end
    elseif ev.kind == "progress" and ev.total and ev.total > 0 then
      r.status = ("writing %s: %d%%"):format(tostring(ev.step), ev.done * 100 // ev.total)
    elseif ev.kind == "done" then
      local res = ev.result
      r.status = res.ok and ("done in %.1f s"):format(res.seconds)
        or ("FAILED after %.1f s: %s [%s]"):format(res.seconds, tostring(res.err.message or res.err), tostring(res.err.code))
      draw(true)
      return
    end
    draw(false)
  end

  return { progress = progress, finish = function() draw(true) end }
end

return M
