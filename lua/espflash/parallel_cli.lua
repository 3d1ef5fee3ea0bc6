--- The command line's multi-port `--port`: a subcommand run once per port,
--- concurrently (espflash.parallel), each run with its own `args.port` and a
--- `ctx` whose output lines carry the device's prefix (`[/dev/ttyUSB0] `).
---
---     -- in the CLI, when espflash.portspec expands --port to several ports:
---     return require("espflash.parallel").run_command(ctx, args, cmd.run)
local errors = require("espflash.errors")
local parallel = require("espflash.parallel")

local M = {}

local Prefixed = {}
Prefixed.__index = Prefixed

--- A file-like writer that puts `prefix` before every line it passes on to
--- `out` (anything with `write`): whole lines only, so concurrent devices
--- never mix within a line. `:close()` passes on an unfinished last line.
function M.prefixed(out, prefix)
  return setmetatable({ out = out, prefix = prefix, partial = "" }, Prefixed)
end

function Prefixed:write(...)
  local text = self.partial .. table.concat({ ... })
  local lines = {}
  local last = 1
  for line, stop in text:gmatch("([^\n]*)\n()") do
    lines[#lines + 1] = self.prefix .. line:gsub("\r", "") .. "\n"
    last = stop
  end
  self.partial = text:sub(last)
  if #lines > 0 then self.out:write(table.concat(lines)) end
  return self
end

function Prefixed:flush()
  if self.out.flush then self.out:flush() end
  return self
end

function Prefixed:close()
  if self.partial ~= "" then
    self.out:write(self.prefix .. self.partial .. "\n")
    self.partial = ""
  end
  return self:flush()
end

--- A ui (espflash.ui) like `ui` whose output goes through prefixed writers;
--- progress is shown as lines (no bars: they would overwrite each other).
--- With `--json` stdout stays unprefixed: it carries only JSON lines.
function M.prefixed_ui(ui, prefix)
  local out = M.prefixed(ui.out or io.stdout, ui.json_command and "" or prefix)
  local err = M.prefixed(ui.err or io.stderr, prefix)
  return setmetatable({ out = out, err = err, tty = false }, { __index = ui }), out, err
end

local function shallow(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return setmetatable(c, getmetatable(t))
end

--- A script's `run` result as an exit status (as the CLI reads it).
function M.exit_code(value)
  if value == nil or value == true then return 0 end
  if value == false then return 1 end
  if math.type(value) == "integer" then return value end
  return 0
end

local function report(err, debug, stderr)
  local ok, cli = pcall(require, "espflash.cli")
  if ok and cli.report then return cli.report(err, err.traceback, debug, stderr) end
  stderr:write("espflash: error: ", errors.format(err), "\n")
  return err.exit or 1
end

--- Runs `run_fn(args_i, ctx_i)` once per port of `args.port` (a `--port`
--- value, expanded by espflash.portspec, or a list), concurrently (at most
--- `opts.jobs` at a time), each with a copy of `args` whose `port` is that
--- port and a copy of `ctx` whose `ui` prefixes every line with `[PORT] `.
--- A failing run prints its error with its prefix; the others go on. Ends
--- with a summary line and returns the exit status: 0 when every run
--- succeeded, else the failed runs' common status, or 1 when they differ.
--- Returns the per-device results (see espflash.parallel.map) second.
function M.run_command(ctx, args, run_fn, opts)
  opts = opts or {}
  local ports = args.port
  if type(ports) ~= "table" then ports = require("espflash.portspec").expand(ports) end
  local ui = ctx.ui
  local stderr = ui.err or io.stderr
  local codes, failed = {}, {}
  -- a failure is reported as soon as its device is done
  local function on_done(r)
    if r.ok then return end
    local e = r.err
    if e.reported then
      codes[#codes + 1] = e.exit or 1
    else
      local w = M.prefixed(stderr, "[" .. r.label .. "] ")
      codes[#codes + 1] = report(e, ctx.debug, w)
      w:close()
    end
    failed[#failed + 1] = ("%s (%s)"):format(r.label, tostring(e.code))
  end
  local results = parallel.map(ports, function(port, i, job)
    local a = shallow(args)
    a.port = port
    local c = shallow(ctx)
    local u, out, err = M.prefixed_ui(ui, "[" .. job.label .. "] ")
    c.ui, c.args, c.port, c.port_index = u, a, port, i
    local ok, value = pcall(run_fn, a, c)
    out:close()
    err:close()
    if not ok then error(value, 0) end
    local code = M.exit_code(value)
    if code ~= 0 then
      local e = errors.new("espflash::exit_status", ("the command exited with status %d"):format(code))
      e.exit, e.reported = code, true
      error(e, 0)
    end
    return code
  end, { jobs = opts.jobs, label = opts.label, timeout = opts.timeout,
         progress = function(ev) if ev.kind == "done" then on_done(ev.result) end end })

  if #failed == 0 then
    ui:info(("All %d devices succeeded"):format(#results))
    return 0, results
  end
  stderr:write(("espflash: error: %d of %d devices failed: %s\n"):format(#failed, #results,
    table.concat(failed, ", ")))
  local code = codes[1]
  for _, c in ipairs(codes) do
    if c ~= code then code = 1 end
  end
  return code, results
end

return M
