--- What the subcommands call to reach a chip: port selection (espflash-
--- reference.md §2.1), the ConnectArgs (`--before`, `--after`, `--no-stub`,
--- `--chip`, `--baud`), connection logging, and the board-info layout.
---
---     local dev <close> = ctx:connect(args)   -- calls session.connect(ctx, args)
local core = require("espflash.core")
local errors = require("espflash.errors")

local M = {}

--- Known development-board USB bridges (VID:PID): CP210x, CH340, Espressif USB-Serial-JTAG.
M.KNOWN_USB = { [0x10C4EA60] = true, [0x1A867523] = true, [0x303A1001] = true }

--- True when `p` (an entry of core.list_ports()) is a known dev-board port.
function M.is_known(p)
  return p.type == "usb" and p.vid ~= nil and p.pid ~= nil and M.KNOWN_USB[(p.vid << 16) | p.pid] == true
end

--- The ports espflash offers: USB ports, plus PCI and unknown ones with
--- `list_all`; sorted by name, case-insensitively.
function M.candidates(ports, list_all)
  local out = {}
  for _, p in ipairs(ports) do
    if p.type == "usb" or (list_all and (p.type == "pci" or p.type == "unknown")) then
      out[#out + 1] = p
    end
  end
  table.sort(out, function(a, b) return a.name:lower() < b.name:lower() end)
  return out
end

local PORT_KIND = { pci = "PCI serial port", unknown = "Unknown type of port",
                    bluetooth = "Bluetooth serial port" }

--- list-ports' rows for `ports` (core.list_ports() entries): known dev
--- boards only, or every USB/PCI/unknown port with `opts.all`; just the names
--- with `opts.name_only`. Rows read `NAME  VVVV:PPPP  MANUFACTURER PRODUCT`
--- (espflash prints PID:VID there by mistake).
function M.port_rows(ports, opts)
  opts = opts or {}
  local shown = {}
  for _, p in ipairs(M.candidates(ports, opts.all)) do
    if opts.all or M.is_known(p) then shown[#shown + 1] = p end
  end
  if #shown == 0 then
    if opts.name_only then return {} end
    return { string.format("No %sserial ports found.", opts.all and "" or "known ") }
  end
  local name_w, manu_w = 0, nil
  for _, p in ipairs(shown) do
    name_w = math.max(name_w, #p.name)
    if p.type == "usb" and p.manufacturer then manu_w = math.max(manu_w or 0, #p.manufacturer) end
  end
  name_w, manu_w = name_w + 2, (manu_w or 15) + 2
  local rows = {}
  for _, p in ipairs(shown) do
    if opts.name_only then
      rows[#rows + 1] = p.name
    elseif p.type == "usb" then
      rows[#rows + 1] = string.format("%-" .. name_w .. "s%04X:%04X  %-" .. manu_w .. "s%s", p.name,
        p.vid or 0, p.pid or 0, p.manufacturer or "", p.product or "")
    else
      rows[#rows + 1] = string.format("%-" .. (name_w + 11) .. "s%s", p.name, PORT_KIND[p.type] or PORT_KIND.unknown)
    end
  end
  return rows
end

--- Raises espflash::stub_required when `--no-stub` was given.
function M.require_stub(args)
  if args.no_stub then
    errors.raise("espflash::stub_required", "This command requires using the RAM stub",
      "Don't use the `--no-stub` option with the command")
  end
end

local function list_ports()
  local ports, msg = core.list_ports()
  if not ports then
    errors.raise("espflash::serial_error", "Could not list serial ports: " .. tostring(msg))
  end
  return ports
end

-- A numbered list on the terminal; returns the chosen port.
local function prompt(ctx, cands)
  local ui = ctx.ui
  local err = ui.err or io.stderr
  table.sort(cands, function(a, b)
    local ka, kb = M.is_known(a), M.is_known(b)
    if ka ~= kb then return ka end
    return a.name:lower() < b.name:lower()
  end)
  err:write(string.format("Detected %d serial ports\n", #cands))
  err:write("Ports which match a known common dev board are marked with *\n")
  for i, p in ipairs(cands) do
    err:write(string.format("%s%2d) %s%s\n", M.is_known(p) and "*" or " ", i, p.name,
      p.product and (" - " .. p.product) or ""))
  end
  while true do
    err:write(string.format("Please select a port [1-%d, Enter for 1]: ", #cands))
    err:flush()
    local line = io.stdin:read("l")
    if line == nil then
      errors.raise("espflash::cancelled", "Operation was cancelled by the user")
    end
    line = line:match("^%s*(.-)%s*$")
    local n = line == "" and 1 or tonumber(line)
    if n and cands[n] then return cands[n] end
    err:write("Not a port number: " .. line .. "\n")
  end
end

--- The port to use and its USB PID (nil when unknown): `args.port` (also from
--- ESPFLASH_PORT), else the single known dev board, else a prompt (refused
--- with `--non-interactive`). `ports` defaults to core.list_ports().
function M.select_port(ctx, args, ports)
  if args.port then
    local pid
    if not args.port:find("://", 1, true) then
      local ok, listed = true, ports
      if not listed then ok, listed = pcall(list_ports) end
      for _, p in ipairs(ok and listed or {}) do
        if p.name == args.port then pid = p.pid end
      end
    end
    return args.port, pid
  end
  local cands = M.candidates(ports or list_ports(), args.list_all_ports)
  local known = {}
  for _, p in ipairs(cands) do
    if M.is_known(p) then known[#known + 1] = p end
  end
  if #known == 1 and not args.confirm_port then return known[1].name, known[1].pid end
  if #cands == 0 then
    errors.raise("espflash::no_serial", "No serial ports could be detected",
      "Make sure you have connected a device to the host system. If the device is connected but not "
      .. "listed, try using the `--list-all-ports` flag.")
  end
  if args.non_interactive then
    errors.raise("espflash::serial_not_selected", "No serial port was provided",
      "Make sure to provide a serial port via argument, environment variable or configuration file "
      .. "when using the `--non-interactive` flag")
  end
  local p = prompt(ctx, cands)
  return p.name, p.pid
end

local BEFORE_NAMES = { ["no-reset"] = "NoReset", ["no-reset-no-sync"] = "NoResetNoSync" }

--- Connects as the ConnectArgs say and returns the device (`espflash.device`).
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
  local baud = args.baud
  if baud == nil and ctx.config then baud = ctx.config.baudrate end
  return require("espflash.connect").connect{
    port = port, baud = baud, chip = args.chip, before = before,
    after = args.after or "hard-reset", stub = not args.no_stub, usb_pid = pid,
    log = function(level, msg)
      if level == "warn" then ui:warn(msg) elseif level == "info" then ui:info(msg)
      elseif ui.debug then ui:debug(msg) end
    end,
  }
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
