---@meta espflash.parallel
-- `espflash.parallel`: many devices at once, as coroutines with cooperative
-- port I/O in one process (docs/design.md, "Many devices at once").

---@class espflash.Job
---@field index integer the item's position in the list
---@field port any the item (the port, for each_device)
---@field label string the name in events and progress lines
---@field device espflash.Device? the connected device (each_device)
local Job = {}

---A progress callback for step `step` (e.g. "0x10000"): emits "progress" events.
---@param step string
---@return espflash.Progress
function Job:progress(step) end

---Emits a "log" event for this device.
---@param level "info"|"warn"|"debug"
---@param message string
function Job:log(level, message) end

---`job:log("info", message)`.
---@param message string
function Job:info(message) end

---`job:log("warn", message)`.
---@param message string
function Job:warn(message) end

---@class espflash.Result
---@field index integer
---@field port any
---@field label string
---@field ok boolean
---@field value any what the workflow returned (ok)
---@field err espflash.Error? why it failed (not ok): code, message, hint
---@field seconds number how long the device took

---@class espflash.Results: espflash.Result[]
---@field all_ok boolean every device succeeded
---@field failed espflash.Result[] the failed results

---@class espflash.Event
---@field kind "start"|"log"|"progress"|"done"
---@field index integer
---@field port any
---@field label string
---@field level? "info"|"warn"|"debug" (log)
---@field message? string (log)
---@field step? string (progress)
---@field done? integer (progress)
---@field total? integer (progress)
---@field result? espflash.Result (done)

---@class espflash.MapOptions
---@field jobs? integer how many at once (default: all)
---@field timeout? number seconds per item; then it is abandoned with espflash::timeout
---@field label? fun(item: any, i: integer): string
---@field progress? fun(event: espflash.Event)

---@class espflash.EachDeviceOptions: espflash.MapOptions
---@field connect? espflash.ConnectOptions|fun(port: string, i: integer): table options for espflash.connect (port is set)

---@class espflash.parallel
---@field INTERRUPT_GRACE number seconds tasks may run on after Ctrl-C
---@field MAX_IDLE_MS integer the scheduler's longest idle wait
local parallel = {}

---Connects every port concurrently, runs `fn(dev, i, job)` on it and closes
---it (after-action only when `fn` returned). One device's failure does not
---stop the others. Returns the results in port order.
---@param ports string|string[] a list, or a `--port` value
---@param fn fun(dev: espflash.Device, i: integer, job: espflash.Job): any
---@param opts? espflash.EachDeviceOptions
---@return espflash.Results
function parallel.each_device(ports, fn, opts) end

---Runs `fn(item, i, job)` for every item concurrently (the scheduler without
---connecting); port waits and `core.sleep` inside yield to the others.
---@param items any[]
---@param fn fun(item: any, i: integer, job: espflash.Job): any
---@param opts? espflash.MapOptions
---@return espflash.Results
function parallel.map(items, fn, opts) end

---A `progress(event)` function writing one `[LABEL] …` line per event.
---@param out file*|fun(line: string)
---@param opts? {debug?: boolean} debug: also the "debug" log lines
---@return fun(event: espflash.Event)
function parallel.progress_lines(out, opts) end

---Runs a subcommand script's `run(args, ctx)` once per port of `args.port`
---concurrently, each with its own `args.port` and a `ctx` whose output is
---prefixed `[PORT] `; prints each failure and a summary. Returns the exit
---status and the results. (The CLI's multi-port `--port`.)
---@param ctx table the command context
---@param args table the parsed arguments; `args.port` a `--port` value or a list
---@param run_fn fun(args: table, ctx: table): any
---@param opts? {jobs?: integer, timeout?: number, label?: fun(port: string, i: integer): string}
---@return integer status
---@return espflash.Results results
function parallel.run_command(ctx, args, run_fn, opts) end

---Anything raised in a task as an error object with a code
---(`espflash::script_error` for a Lua error, `espflash::interrupted` after Ctrl-C).
---@param e any
---@param traceback? string
---@return espflash.Error
function parallel.as_error(e, traceback) end

---The default label of an item: the port; `sim://CHIP#i` for a sim URL.
---@param item any
---@param i integer
---@return string
function parallel.default_label(item, i) end

return parallel
