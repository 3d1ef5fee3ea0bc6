--- Many devices at once: one coroutine per device in this process, with
--- cooperative port I/O (espflash.parallel_port), so a workflow runs on
--- every port concurrently; per-device progress events, a result per
--- device, and no device's failure stopping the others. docs/scripting.md
--- ("Many devices at once") is the user's guide, docs/design.md argues
--- the design.
---
---     local results = espflash.each_device({ "sim://esp32c3", "/dev/ttyUSB0" },
---       function(dev, i, job) return dev:info().mac end, { jobs = 4 })
local core = require("espflash.core")
local errors = require("espflash.errors")
local pp = require("espflash.parallel_port")

local M = {}

--- How long tasks may keep running after Ctrl-C before they are abandoned (s).
M.INTERRUPT_GRACE = 2
--- The longest idle wait of the scheduler, in ms (Ctrl-C stays responsive).
M.MAX_IDLE_MS = 20

--- The line prefix of item `item` (number `i`) when `opts.label` gives none:
--- the port, without a sim:// URL's options (then `#i` tells sims apart).
function M.default_label(item, i)
  if type(item) ~= "string" then return "#" .. i end
  local base = item:match("^(sim://[^?]*)%?") or (item:match("^sim://") and item)
  if base then return base .. "#" .. i end
  return item
end

local function check_opts(items, opts)
  if type(items) ~= "table" then
    errors.raise("espflash::invalid_argument", "expected a list of ports (or items), got " .. type(items))
  end
  local jobs = opts.jobs
  if jobs ~= nil and (math.type(jobs) ~= "integer" or jobs < 1) then
    errors.raise("espflash::invalid_argument", ("jobs must be a positive integer, got %s"):format(tostring(jobs)))
  end
  local timeout = opts.timeout
  if timeout ~= nil and (type(timeout) ~= "number" or timeout <= 0) then
    errors.raise("espflash::invalid_argument", ("timeout must be a positive number of seconds, got %s")
      :format(tostring(timeout)))
  end
end

--- Turns anything raised in a task into an error object with a code.
function M.as_error(e, traceback)
  if errors.is(e) then return e end
  if type(e) == "table" and type(e.code) == "string" then return e end
  local err
  if core.interrupted() then
    err = errors.new("espflash::interrupted", "Interrupted by Ctrl-C")
    err.exit = errors.EXIT_INTERRUPTED
  else
    err = errors.new("espflash::script_error", tostring(e),
      "a Lua error in the workflow; err.traceback says where")
  end
  err.traceback = traceback
  return err
end

-- The per-device handle passed to workflows ------------------------------

local Job = {}
Job.__index = Job

local function emit(job, ev)
  if not job._progress then return end
  ev.index, ev.port, ev.label = job.index, job.port, job.label
  job._progress(ev)
end

--- A `function(done, total)` progress callback for step `step` (e.g. "0x10000").
function Job:progress(step)
  return function(done, total)
    emit(self, { kind = "progress", step = step, done = done, total = total })
  end
end

--- Reports a log line for this device: `job:log(level, message)`,
--- level "info", "warn" or "debug".
function Job:log(level, message)
  emit(self, { kind = "log", level = level, message = tostring(message) })
end
function Job:info(message) self:log("info", message) end
function Job:warn(message) self:log("warn", message) end

-- The scheduler ---------------------------------------------------------

local function finish(results, t, ok, value, now)
  local r = { index = t.index, port = t.job.port, label = t.job.label, ok = ok,
              seconds = now - t.started }
  if ok then r.value = value else r.err = value end
  results[t.index] = r
  emit(t.job, { kind = "done", result = r })
  return r
end

local function resume(t, now)
  local res = table.pack(coroutine.resume(t.co))
  if coroutine.status(t.co) == "dead" then
    if not res[1] then return true, false, M.as_error(res[2]) end
    return true, res[2], res[3]
  end
  t.wake = res[2] == pp.TOKEN and res[3] or now + pp.POLL_INTERVAL
  return false
end

-- Abandons a task (timeout, Ctrl-C): closes its pending <close> variables.
local function abandon(t, err)
  coroutine.close(t.co)
  return err
end

--- Runs `fn(item, i, job)` for every item of the list `items` concurrently,
--- at most `opts.jobs` at a time (default: all), each in a coroutine whose
--- port waits yield to the others. Options: `jobs`, `timeout` (seconds per
--- item; a task still running then is abandoned with `espflash::timeout`),
--- `label(item, i)` (the name in events), `progress(event)` (see
--- docs/scripting.md). Returns the results in item order:
--- `{index, port, label, ok, value | err, seconds}`; the list also has
--- `all_ok` and `failed` (the failed results).
function M.map(items, fn, opts)
  opts = opts or {}
  check_opts(items, opts)
  local n = #items
  local jobs = math.min(opts.jobs or n, math.max(n, 1))
  local results, active, next_i = {}, {}, 1
  local interrupted_at

  local function start(i, now)
    local item = items[i]
    local job = setmetatable({ index = i, port = item,
      label = (opts.label or M.default_label)(item, i), _progress = opts.progress }, Job)
    local t = { index = i, job = job, started = now, wake = now }
    t.co = coroutine.create(function()
      emit(job, { kind = "start" })
      return xpcall(fn, function(e)
        return M.as_error(e, debug.traceback(tostring(e), 2))
      end, item, i, job)
    end)
    pp.adopt(t.co)
    active[#active + 1] = t
  end

  local function loop()
    while true do
      local now = core.now()
      if core.interrupted() then interrupted_at = interrupted_at or now end
      while #active < jobs and next_i <= n and not interrupted_at do
        start(next_i, now)
        next_i = next_i + 1
      end
      if #active == 0 then break end
      local still, wake = {}, math.huge
      for _, t in ipairs(active) do
        local done, ok, value
        now = core.now()
        if opts.timeout and now - t.started > opts.timeout then
          done, ok, value = true, false, abandon(t, errors.new("espflash::timeout",
            ("%s did not finish within %g s"):format(t.job.label, opts.timeout),
            "The device stopped answering, or raise the timeout option"))
        elseif interrupted_at and now - interrupted_at > M.INTERRUPT_GRACE then
          done, ok, value = true, false, abandon(t, M.as_error("interrupted"))
        elseif t.wake <= now then
          done, ok, value = resume(t, now)
        end
        if done then
          finish(results, t, ok, value, core.now())
          wake = 0
        else
          still[#still + 1] = t
          wake = math.min(wake, t.wake)
        end
      end
      active = still
      local idle = wake - core.now()
      if idle > 0 and #active > 0 then
        pp.sleep(math.min(M.MAX_IDLE_MS, math.max(1, math.ceil(idle * 1000))))
      end
    end
  end

  pp.install()
  local ok, err = pcall(loop)
  for _, t in ipairs(active) do coroutine.close(t.co) end
  pp.uninstall()
  if not ok then error(err, 0) end
  for i = 1, n do
    if not results[i] then -- never started: Ctrl-C came first
      local t = { index = i, started = core.now(), job = setmetatable({ index = i, port = items[i],
        label = (opts.label or M.default_label)(items[i], i), _progress = opts.progress }, Job) }
      finish(results, t, false, M.as_error("interrupted"), t.started)
    end
  end
  results.failed, results.all_ok = {}, true
  for _, r in ipairs(results) do
    if not r.ok then results.failed[#results.failed + 1] = r; results.all_ok = false end
  end
  return results
end

-- Devices ---------------------------------------------------------------

local function connect_options(c, port, i)
  if type(c) == "function" then c = c(port, i) end
  local o = {}
  for k, v in pairs(c or {}) do o[k] = v end
  o.port = port
  return o
end

--- Runs `fn(dev, i, job)` on every port concurrently: each device is
--- connected with `opts.connect` (a table of `espflash.connect` options, or
--- `function(port, i)` returning one), handed to `fn`, then closed (its
--- after-action runs when `fn` returned, not when it raised). `ports` is a
--- list or a `--port` value (`espflash.ports`). Options and results as
--- `map`; a result's `value` is what `fn` returned.
function M.each_device(ports, fn, opts)
  opts = opts or {}
  if type(ports) == "string" then ports = require("espflash.portspec").expand(ports) end
  if type(fn) ~= "function" then
    errors.raise("espflash::invalid_argument", "each_device needs a function(dev, i, job) to run on each device")
  end
  local connect = require("espflash.connect")
  return M.map(ports, function(port, i, job)
    local copts = connect_options(opts.connect, port, i)
    local user_log = copts.log
    copts.log = function(level, msg)
      job:log(level, msg)
      if user_log then user_log(level, msg) end
    end
    job:info("Connecting...")
    local dev <close> = connect.connect(copts)
    job.device = dev
    job:info("Connected to " .. dev.chip.name)
    return fn(dev, i, job)
  end, opts)
end

--- A `progress(event)` function printing one line per event through
--- `out` (a file handle or a `function(line)`): `[LABEL] ...` — log
--- lines, progress at every quarter, the result.
function M.progress_lines(out, opts)
  opts = opts or {}
  local write = type(out) == "function" and out or function(line)
    out:write(line, "\n")
    if out.flush then out:flush() end
  end
  local LEVELS = { info = "INFO ", warn = "WARN ", debug = "DEBUG", error = "ERROR" }
  local quarters = {}
  return function(ev)
    local p = "[" .. tostring(ev.label) .. "] "
    if ev.kind == "log" then
      if ev.level ~= "debug" or opts.debug then
        write(p .. "[" .. (LEVELS[ev.level] or ev.level) .. "] " .. ev.message)
      end
    elseif ev.kind == "progress" and ev.total and ev.total > 0 then
      local key = ev.index .. "\0" .. tostring(ev.step)
      local q = math.min(ev.done * 4 // ev.total, 4)
      if q > (quarters[key] or 0) then
        quarters[key] = q
        write(p .. ("%s: %d%% (%d/%d bytes)"):format(tostring(ev.step), q * 25, ev.done, ev.total))
      end
    elseif ev.kind == "done" then
      local r = ev.result
      if r.ok then
        write(p .. ("done in %.1f s"):format(r.seconds))
      else
        write(p .. ("failed after %.1f s: %s [%s]"):format(r.seconds, tostring(r.err.message or r.err),
          tostring(r.err.code)))
      end
    end
  end
end

--- Runs a subcommand once per port, concurrently, with per-device output
--- prefixes: the CLI's multi-port `--port`. See espflash.parallel_cli.
function M.run_command(ctx, args, run_fn, opts)
  return require("espflash.parallel_cli").run_command(ctx, args, run_fn, opts)
end

return M
