--- What the subcommands call to reach a chip: port selection (espflash-
--- reference.md §2.1), the ConnectArgs (`--before`, `--after`, `--no-stub`,
--- `--chip`, `--baud`), connection logging, and the board-info layout.
---
---     local dev <close> = ctx:connect(args)   -- calls session.connect(ctx, args)
---
--- A port is chosen as: `--port`/ESPFLASH_PORT, else `[connection] serial`
--- in espflash_ports.toml, else the only known development board, else a
--- question on the terminal (never with --non-interactive). Besides a path
--- or URL, `--port` takes `serial:SERIAL` (the USB serial number) or
--- `usb:PATH` (the physical USB port, as list-ports shows it) to tell
--- identical boards apart. The enumeration, list-ports' rows and those
--- selectors are in espflash.session_ports; their functions are here too.
local core = require("espflash.core")
local errors = require("espflash.errors")
local config = require("espflash.config")
local ports_mod = require("espflash.session_ports")

local M = {}

-- The ports (espflash.session_ports) ----------------------------------------

--- Known development-board USB bridges (VID:PID): CP210x, CH340, Espressif USB-Serial-JTAG.
M.KNOWN_USB = ports_mod.KNOWN_USB
--- True when `p` (an entry of core.list_ports()) is a known dev-board port.
M.is_known = ports_mod.is_known
--- The ports espflash offers, sorted by name.
M.candidates = ports_mod.candidates
--- The physical USB location of tty `name` from sysfs.
M.usb_location = ports_mod.usb_location
--- Adds `usb_path` and `usb_interface` to the USB ports of `ports`.
M.locate = ports_mod.locate
--- The port's identity for people: "serial ABC123, usb 1-2.3", or nil.
M.identity = ports_mod.identity
--- list-ports' rows for `ports`.
M.port_rows = ports_mod.port_rows
--- The ports list-ports shows, in its order.
M.shown_ports = ports_mod.shown_ports
--- core.list_ports() with USB locations (or $ESPFLASH_TEST_PORTS's list).
M.list_ports = ports_mod.list_ports
--- The port a `serial:SERIAL` or `usb:PATH[:INTERFACE]` selector names.
M.match_selector = ports_mod.match_selector

--- Raises espflash::stub_required when `--no-stub` was given.
function M.require_stub(args)
  if args.no_stub then
    errors.raise("espflash::stub_required", "This command requires using the RAM stub",
      "Don't use the `--no-stub` option with the command")
  end
end

local function cancelled()
  errors.raise("espflash::cancelled", "Operation was cancelled by the user")
end

local function not_selected(why, cands)
  local names = {}
  for i, p in ipairs(cands) do names[i] = p.name end
  errors.raise("espflash::serial_not_selected", "No serial port was provided" .. why,
    "Make sure to provide a serial port via argument, environment variable or configuration file"
      .. (#names > 0 and " (found: " .. table.concat(names, ", ") .. ")" or ""))
end

local function label(p)
  local id = M.identity(p)
  return p.name .. (p.product and " - " .. p.product or "") .. (id and "  (" .. id .. ")" or "")
end

-- Asks which of `cands` to use (a yes/no question for a single one), then
-- offers to remember an unrecognised USB bridge. Returns the port.
local function ask(ctx, cands, cfg)
  local ui = ctx.ui
  local known = function(p) return M.is_known(p, cfg.ports.usb_devices) end
  local chosen
  if #cands == 1 then
    local p = cands[1]
    local yes = ui:confirm(("Use serial port '%s'%s?"):format(p.name, p.product and " - " .. p.product or ""), true)
    if not yes then cancelled() end
    chosen = p
  else
    table.sort(cands, function(a, b)
      local ka, kb = known(a), known(b)
      if ka ~= kb then return ka end
      return a.name:lower() < b.name:lower()
    end)
    local items = {}
    for i, p in ipairs(cands) do items[i] = { label = label(p), highlight = known(p) } end
    local n = ui:select(("Detected %d serial ports\nPorts which match a known common dev board are "
      .. "highlighted\nPlease select a port"):format(#cands), items)
    if not n then cancelled() end
    chosen = cands[n]
  end
  if chosen.type == "usb" and chosen.vid and chosen.pid and not known(chosen) then
    if ui:confirm("Remember this serial port for future use?", false) then
      local path, msg = config.remember_usb_device(cfg, chosen.vid, chosen.pid)
      if path then
        ui:info(("USB device %04x:%04x added to %s"):format(chosen.vid, chosen.pid, path))
      else
        ui:warn("Could not remember the serial port: " .. tostring(msg))
      end
    end
  end
  local twins = 0
  for _, p in ipairs(cands) do
    if p.vid == chosen.vid and p.pid == chosen.pid and p.serial ~= chosen.serial then twins = twins + 1 end
  end
  if twins > 0 and chosen.serial then
    ui:info(("Next time, --port serial:%s picks this board without asking"):format(chosen.serial))
  end
  return chosen
end

-- The enumerated port that is `path` (by name or after resolving links).
local function find_listed(path, listed)
  local real = core.realpath(path)
  for _, p in ipairs(listed) do
    if p.name == path or (real and (p.name == real or core.realpath(p.name) == real)) then return p end
  end
  return nil
end

--- The port to use and its USB PID (nil when unknown), plus its
--- enumeration entry when there is one; see the module comment for the
--- order. `ports` defaults to M.list_ports().
function M.select_port(ctx, args, ports)
  local cfg = ctx.config or config.empty()
  local spec = args.port or cfg.ports.serial
  if spec then
    if spec:find("://", 1, true) then return spec, nil end
    if spec:match("^serial:.") or spec:match("^usb:.") then
      local p = M.match_selector(spec, ports or M.list_ports())
      return p.name, p.pid, p
    end
    local ok, listed = true, ports
    if not listed then ok, listed = pcall(M.list_ports) end
    local p = find_listed(spec, ok and listed or {})
    return spec, p and p.pid, p
  end
  local cands = M.candidates(ports or M.list_ports(), args.list_all_ports)
  local known = {}
  for _, p in ipairs(cands) do
    if M.is_known(p, cfg.ports.usb_devices) then known[#known + 1] = p end
  end
  if #known == 1 and not args.confirm_port then return known[1].name, known[1].pid, known[1] end
  if #cands == 0 then
    errors.raise("espflash::no_serial", "No serial ports could be detected",
      "Make sure you have connected a device to the host system. If the device is connected but not "
      .. "listed, try using the `--list-all-ports` flag.")
  end
  if args.non_interactive then not_selected(" (--non-interactive does not ask)", cands) end
  if not ctx.ui:can_ask() then not_selected(" and there is no terminal to ask on", cands) end
  local p = ask(ctx, cands, cfg)
  return p.name, p.pid, p
end

local BEFORE_NAMES = { ["no-reset"] = "NoReset", ["no-reset-no-sync"] = "NoResetNoSync" }

--- Connects as the ConnectArgs say and returns the device (`espflash.device`).
--- The baud rate is `--baud`/ESPFLASH_BAUD, else espflash.toml's `baudrate`.
--- A failure carries `port` (the port used) for espflash.errors.explain.
function M.connect(ctx, args)
  local ui = ctx.ui
  local before = args.before or "default-reset"
  if BEFORE_NAMES[before] then
    ui:warn(string.format("Pre-connection option '%s' was selected. Connection may fail if the chip "
      .. "is not in bootloader or flasher stub mode.", BEFORE_NAMES[before]))
  end
  local port, pid = M.select_port(ctx, args)
  ui:info(string.format("Serial port: '%s'", port))
  ui:info("Connecting...")
  local cfg = ctx.config or config.empty()
  local baud = args.baud
  if baud == nil and cfg.baudrate then
    baud = cfg.baudrate
    ui:debug(("Baud rate %d from %s"):format(baud, cfg.where.baudrate or "espflash.toml"))
  elseif baud then
    ui:debug(("Baud rate %d from --baud/ESPFLASH_BAUD"):format(baud))
  end
  local ok, dev = pcall(require("espflash.connect").connect, {
    port = port, baud = baud, chip = args.chip, before = before,
    after = args.after or "hard-reset", stub = not args.no_stub, usb_pid = pid,
    log = function(level, msg)
      if level == "warn" then ui:warn(msg) elseif level == "info" then ui:info(msg)
      else ui:debug(msg) end
    end,
  })
  if not ok then
    if errors.is(dev) and dev.port == nil then dev.port = port end
    error(dev, 0)
  end
  return dev
end

--- board-info's lines for `info` (from device:info()).
function M.board_info_lines(info)
  local chip = "Chip type:         " .. info.chip
  if info.revision then
    chip = chip .. string.format(" (revision v%d.%d)", info.revision.major, info.revision.minor)
  end
  local lines = {
    chip,
    string.format("Crystal frequency: %d MHz", info.crystal_mhz),
    "Flash size:        " .. info.flash_size_name,
    "Features:          " .. table.concat(info.features or {}, ", "),
  }
  if info.mac then lines[#lines + 1] = "MAC address:       " .. info.mac end
  return lines
end

--- Prints the board-info lines.
function M.print_board_info(ctx, info)
  for _, l in ipairs(M.board_info_lines(info)) do ctx.ui:print(l) end
end

local function popcount(n)
  local c = 0
  while n > 0 do c, n = c + (n & 1), n >> 1 end
  return c
end

local function binary(n)
  if n == 0 then return "0" end
  local t = {}
  while n > 0 do table.insert(t, 1, tostring(n & 1)); n = n >> 1 end
  return table.concat(t)
end

--- espflash's "Security Information" block (its SecurityInfo Display) for a
--- parsed GET_SECURITY_INFO reply; starts with an empty line.
function M.security_text(sec)
  local f = sec.flags
  local function flag(bit) return f & (1 << bit) ~= 0 end
  local purposes = {}
  for i, p in ipairs(sec.key_purposes) do purposes[i] = tostring(p) end
  local l = { "", "Security Information:", "=====================",
    string.format("Flags: 0x%08x (%s)", f, binary(f)),
    "Key Purposes: [" .. table.concat(purposes, ", ") .. "]" }
  if sec.chip_id then l[#l + 1] = "Chip ID: " .. sec.chip_id end
  if sec.api_version then l[#l + 1] = "API Version: " .. sec.api_version end
  if flag(0) then
    l[#l + 1] = "Secure Boot: Enabled"
    if flag(1) then l[#l + 1] = "Secure Boot Aggressive key revocation: Enabled" end
    local revoked = {}
    for i = 0, 2 do
      if flag(3 + i) then revoked[#revoked + 1] = string.format("Secure Boot Key%d is Revoked", i) end
    end
    if #revoked > 0 then
      l[#l + 1] = "Secure Boot Key Revocation Status:\n  " .. table.concat(revoked, "\n  ")
    end
  else
    l[#l + 1] = "Secure Boot: Disabled"
  end
  l[#l + 1] = popcount(sec.flash_crypt_cnt) % 2 == 1 and "Flash Encryption: Enabled"
    or "Flash Encryption: Disabled"
  l[#l + 1] = string.format("SPI Boot Crypt Count (SPI_BOOT_CRYPT_CNT): 0x%x", sec.flash_crypt_cnt)
  if flag(9) then l[#l + 1] = "Dcache in UART download mode: Disabled" end
  if flag(10) then l[#l + 1] = "Icache in UART download mode: Disabled" end
  if flag(7) then l[#l + 1] = "JTAG: Permanently Disabled"
  elseif flag(6) then l[#l + 1] = "JTAG: Software Access Disabled" end
  if flag(8) then l[#l + 1] = "USB Access: Disabled" end
  return table.concat(l, "\n") .. "\n"
end

return M
