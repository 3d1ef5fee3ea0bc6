--- The serial monitor (espflash-reference.md §6): shows what the device
--- prints as it comes, decodes addresses and defmt frames, forwards keys.
---
---     require("espflash.monitor").run(ctx, dev_or_port, opts)
---
--- `dev_or_port`: a connected device (espflash.connect / ctx:connect), an
--- open Port, or a port URL. `opts` (see espflash.monitor_options.from_args):
--- `monitor_baud`, `elf`, `rom_elf`, `no_reset`, `non_interactive`,
--- `log_format` ("serial"|"defmt"), `output_format`, `processors` ("a,b"),
--- `no_addresses`, `all_addresses`, `timestamps`, `log_file`, `timeout`
--- (seconds), `reconnect` (default: interactive only), `running` (the
--- application already runs, e.g. after flash --ram: no reset at the start).
---
--- Interactive: banner, raw terminal, then a hard reset starts the
--- application (espflash waits for Ctrl+R instead); Ctrl+R resets, Ctrl+C
--- exits. Non-interactive: no terminal needed; a reset first unless
--- `no_reset`; ends when the port closes or the timeout passes. Returns 0.
local core = require("espflash.core")
local errors = require("espflash.errors")
local keys_mod = require("espflash.monitor_keys")
local link_mod = require("espflash.monitor_link")
local output = require("espflash.monitor_output")
local symbols = require("espflash.monitor_symbols")
local text = require("espflash.monitor_text")

local M = {}

M.READ_SLICE_MS = 10
M.WRITE_BACKOFF = 1
M.KEYS_MAX = 4096
M.WRITE_PIECE = 256
M.BANNER = "Commands:\n    CTRL+R    Reset chip\n    CTRL+C    Exit\n"

--- The log format an ELF asks for through `.espressif.metadata`
--- (`espflash.LOG_FORMAT`): "defmt", "serial", and a warning for others.
function M.deduce_log_format(elf)
  local md = elf and elf:metadata() or {}
  local f = md.log_format
  if f == nil or f == "serial" then return "serial" end
  if f == "defmt-espflash" then return "defmt" end
  return "serial", string.format("Unknown log format symbol: %s. Defaulting to serial.", f)
end

local function load_elf(path)
  if not path then return nil end
  return require("espflash.elf").load(path)
end

local function check_chip(elf, chip)
  local want = elf and elf:metadata().chip_name
  if want and chip and want ~= chip then
    errors.raise("espflash::chip_mismatch",
      string.format("The firmware was built for %s, but the detected chip is %s", want, chip),
      "Pass the ELF built for the connected chip with --elf")
  end
end

-- The decoding stages: processors, the defmt parser, the printer.
local function pipeline(ui, link, opts, elf, color)
  local p = {}
  local format = opts.log_format
  if not format then
    local warning
    format, warning = M.deduce_log_format(elf)
    if warning then ui:warn(warning) end
  end
  if format == "defmt" then
    p.defmt = require("espflash.monitor_defmt").new(opts.elf, { output_format = opts.output_format,
      color = color })
    for _, w in ipairs(p.defmt.warnings) do ui:warn(w) end
  end
  if not opts.no_addresses then
    local paths = { opts.elf }
    local rom = opts.rom_elf or (link.chip and symbols.find_rom_elf(link.chip, link.revision))
    if rom then paths[#paths + 1] = rom end
    if #paths > 0 then
      local warnings
      p.resolver, warnings = symbols.new(paths)
      for _, w in ipairs(warnings) do ui:warn(w) end
    end
  end
  local procs = require("espflash.monitor_proc")
  local commands = procs.split(opts.processors)
  if #commands > 0 then p.procs = procs.start(commands, opts.elf) end
  local resolver, all = p.resolver, opts.all_addresses
  p.printer = text.printer(resolver and function(line) return resolver:annotate(line, all) end)
  return p
end

local function open_terminal()
  local term = core.term_open(0)
  if not term:isatty() then
    term:close()
    errors.raise("espflash::monitor::no_terminal",
      "The interactive monitor needs a terminal on standard input",
      "Run it in a terminal, or pass --non-interactive")
  end
  return term
end

-- The monitoring loop; returns when it is time to stop.
local function loop(ui, link, p, out, term, opts)
  local deadline = opts.timeout and core.now() + opts.timeout
  local keys = term and keys_mod.new()
  local reconnect = opts.reconnect
  if reconnect == nil then reconnect = not opts.non_interactive end
  local warned_write, warned_reset, write_again = false, false, 0
  local function timed_out() return deadline and core.now() >= deadline end

  local function show(bytes)
    if p.procs then
      bytes = p.procs:process(bytes)
      for _, n in ipairs(p.procs:take_notes()) do ui:warn(n) end
    end
    if bytes == "" then return end
    if p.defmt then
      local problems
      bytes, problems = p.defmt:feed(bytes)
      for _, msg in ipairs(problems) do ui:warn(msg) end
    end
    out:pieces(p.printer:feed(bytes))
  end

  -- Reads and handles keys; returns "exit" when the user asked to quit.
  local function handle_keys(wait_ms)
    if not term then
      local ok, msg = core.sleep(wait_ms)
      if not ok then require("espflash.loader").raise_interrupted(msg) end
      return nil
    end
    local input, _, code = term:read(M.KEYS_MAX, wait_ms)
    if not input then
      if code == "INTERRUPTED" then require("espflash.loader").raise_interrupted() end
      term, input = nil, ""
    end
    for _ = 1, 16 do  -- take what is already there (a paste) in one go
      local more = input ~= "" and term and term:read(M.KEYS_MAX, 0)
      if not more or more == "" then break end
      input = input .. more
    end
    repeat
      local send, cmd = keys:feed(input)
      input = ""
      -- after a write timed out, keys are dropped for a while, so a
      -- device that does not read never slows the monitor down
      local pos = 1
      while pos <= #send and core.now() >= write_again do
        local ok, wcode = link:write(send:sub(pos, pos + M.WRITE_PIECE - 1))
        pos = pos + M.WRITE_PIECE
        if not ok and wcode ~= "PORT_GONE" then
          write_again = core.now() + M.WRITE_BACKOFF
          if not warned_write then
            warned_write = true
            ui:warn("The device is not reading its input: keys are dropped")
          end
        end
      end
      if cmd == "exit" then return "exit" end
      if cmd == "reset" and not link:reset() and not warned_reset then
        warned_reset = true
        ui:warn("This port has no DTR/RTS lines: the chip cannot be reset from here")
      end
    until not cmd
    return nil
  end

  while not timed_out() do
    local data, code = link:read(M.READ_SLICE_MS)
    if data then
      show(data)
    elseif not reconnect or not link:can_reopen() then
      ui:info(code == "PORT_GONE" and "The serial port closed" or "The serial port failed: " .. tostring(code))
      return
    else
      ui:warn(string.format("Serial port '%s' disappeared; waiting for it to come back (Ctrl+C to exit)",
        link.url))
      local ok = link:reopen(function(ms) return handle_keys(ms) == "exit" or timed_out() end)
      if not ok then return end
      ui:info(string.format("Reconnected to '%s'", link.url))
      link:set_baud(link.baud)
    end
    if handle_keys(0) == "exit" then return end
  end
end

--- Runs the monitor until Ctrl+C, the port closing (non-interactive) or the
--- timeout. See the module comment for `target` and `opts`.
function M.run(ctx, target, opts)
  opts = opts or {}
  local ui = ctx.ui
  local link = link_mod.new(target)
  local term, p, out
  local guard <close> = setmetatable({}, { __close = function()
    if term then term:close() end
    if p and p.procs then p.procs:close() end
    if p and p.resolver then p.resolver:close() end
    if out then out:close() end
    link:close()
  end })
  local elf = load_elf(opts.elf)
  check_chip(elf, link.chip)
  local no_color = os.getenv("NO_COLOR")
  local color = core.isatty(1) and (no_color == nil or no_color == "")
  p = pipeline(ui, link, opts, elf, color)
  out = output.new({ write = function(s) ui:write(s) end, color = color,
                     timestamps = opts.timestamps, log_file = opts.log_file })
  link:set_baud(link:monitor_baud(opts.monitor_baud or 115200))
  if not opts.non_interactive then
    term = open_terminal()
    ui:print(M.BANNER)
  end
  if not opts.running and (term or not opts.no_reset) then link:reset() end
  if term then errors.check(term:raw()) end
  loop(ui, link, p, out, term, opts)
  return 0
end

return M
