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
--- identical boards apart.
local core = require("espflash.core")
local errors = require("espflash.errors")
local config = require("espflash.config")

local M = {}

--- Known development-board USB bridges (VID:PID): CP210x, CH340, Espressif USB-Serial-JTAG.
M.KNOWN_USB = { [0x10C4EA60] = true, [0x1A867523] = true, [0x303A1001] = true }

--- True when `p` (an entry of core.list_ports()) is a known dev-board port:
--- one of M.KNOWN_USB or of `usb_devices` (`{{vid =, pid =}}`, espflash_ports.toml).
function M.is_known(p, usb_devices)
  if p.type ~= "usb" or p.vid == nil or p.pid == nil then return false end
  if M.KNOWN_USB[(p.vid << 16) | p.pid] then return true end
  for _, d in ipairs(usb_devices or {}) do
    if d.vid == p.vid and d.pid == p.pid then return true end
  end
  return false
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

--- The physical USB location of tty `name` from sysfs: the port path
--- ("1-2.3": bus 1, hub port 2, its port 3) and the interface ("1.0"), or nil.
function M.usb_location(name, sysfs)
  local base = name:match("([^/]+)$")
  local real = core.realpath((sysfs or "/sys") .. "/class/tty/" .. base .. "/device")
  if not real then return nil end
  local path, iface
  for part in real:gmatch("[^/]+") do
    local p, i = part:match("^(%d+%-[%d%.]+):(%d+%.%d+)$")
    if p then path, iface = p, i end
  end
  return path, iface
end

--- Adds `usb_path` and `usb_interface` (see usb_location) to the USB ports of
--- `ports` that lack them; returns `ports`.
function M.locate(ports, sysfs)
  for _, p in ipairs(ports) do
    if p.type == "usb" and p.usb_path == nil then p.usb_path, p.usb_interface = M.usb_location(p.name, sysfs) end
  end
  return ports
end

--- The port's identity for people: "serial ABC123, usb 1-2.3", or nil.
function M.identity(p)
  local parts = {}
  if p.serial then parts[#parts + 1] = "serial " .. p.serial end
  if p.usb_path then parts[#parts + 1] = "usb " .. p.usb_path .. (p.usb_interface and ":" .. p.usb_interface or "") end
  return #parts > 0 and table.concat(parts, ", ") or nil
end

local PORT_KIND = { pci = "PCI serial port", unknown = "Unknown type of port",
                    bluetooth = "Bluetooth serial port" }

--- list-ports' rows for `ports` (core.list_ports() entries): known dev
--- boards only (`opts.usb_devices` adds to the built-in list), or every
--- USB/PCI/unknown port with `opts.all`; just the names with
--- `opts.name_only`. Rows read `NAME  VVVV:PPPP  MANUFACTURER  PRODUCT`
--- (espflash prints PID:VID there by mistake), then the USB serial number
--- and location when known (`serial:ABC123  usb:1-2.3`, what --port takes).
function M.port_rows(ports, opts)
  opts = opts or {}
  local shown = M.shown_ports(ports, opts)
  if #shown == 0 then
    if opts.name_only then return {} end
    return { string.format("No %sserial ports found.", opts.all and "" or "known ") }
  end
  local name_w, manu_w, prod_w, extra = 0, nil, 0, false
  for _, p in ipairs(shown) do
    name_w = math.max(name_w, #p.name)
    if p.type == "usb" and p.manufacturer then manu_w = math.max(manu_w or 0, #p.manufacturer) end
    prod_w = math.max(prod_w, #(p.product or ""))
    extra = extra or p.serial ~= nil or p.usb_path ~= nil
  end
  name_w, manu_w = name_w + 2, (manu_w or 15) + 2
  local rows = {}
  for _, p in ipairs(shown) do
    if opts.name_only then
      rows[#rows + 1] = p.name
    elseif p.type == "usb" then
      local row = string.format("%-" .. name_w .. "s%04X:%04X  %-" .. manu_w .. "s%s", p.name,
        p.vid or 0, p.pid or 0, p.manufacturer or "", p.product or "")
      if extra then
        local ids = {}
        if p.serial then ids[#ids + 1] = "serial:" .. p.serial end
        if p.usb_path then ids[#ids + 1] = "usb:" .. p.usb_path end
        row = (row .. (" "):rep(prod_w - #(p.product or "") + 2) .. table.concat(ids, "  ")):gsub("%s+$", "")
      end
      rows[#rows + 1] = row
    else
      rows[#rows + 1] = string.format("%-" .. (name_w + 11) .. "s%s", p.name, PORT_KIND[p.type] or PORT_KIND.unknown)
    end
  end
  return rows
end

--- The ports list-ports shows (see port_rows), in its order.
function M.shown_ports(ports, opts)
  opts = opts or {}
  local shown = {}
  for _, p in ipairs(M.candidates(ports, opts.all)) do
    if opts.all or M.is_known(p, opts.usb_devices) then shown[#shown + 1] = p end
  end
  return shown
end

--- Raises espflash::stub_required when `--no-stub` was given.
function M.require_stub(args)
  if args.no_stub then
    errors.raise("espflash::stub_required", "This command requires using the RAM stub",
      "Don't use the `--no-stub` option with the command")
  end
end

--- core.list_ports() with USB locations, or the list in the JSON file named by
--- $ESPFLASH_TEST_PORTS (tests: the ports of virtual devices, which the
--- operating system does not enumerate). Raises on failure.
function M.list_ports()
  local fake = os.getenv("ESPFLASH_TEST_PORTS")
  if fake and fake ~= "" then
    local f, msg = io.open(fake, "rb")
    if not f then errors.raise("espflash::serial_error", "ESPFLASH_TEST_PORTS: " .. tostring(msg)) end
    local list = require("espflash.json").decode(f:read("a"))
    f:close()
    for _, p in ipairs(list) do
      p.vid = type(p.vid) == "string" and tonumber(p.vid, 16) or p.vid
      p.pid = type(p.pid) == "string" and tonumber(p.pid, 16) or p.pid
    end
    return list
  end
  local ports, msg = core.list_ports()
  if not ports then
    errors.raise("espflash::serial_error", "Could not list serial ports: " .. tostring(msg))
  end
  return M.locate(ports)
end

--- The port a `serial:SERIAL` or `usb:PATH[:INTERFACE]` selector names among
--- `ports`; raises espflash::serial_not_found (none) or
--- espflash::serial_ambiguous (several), listing what there is.
function M.match_selector(spec, ports)
  local kind, want = spec:match("^(%a+):(.+)$")
  local found = {}
  for _, p in ipairs(ports) do
    local hit
    if kind == "serial" then
      hit = p.serial ~= nil and p.serial:lower() == want:lower()
    else
      local full = p.usb_path and p.usb_interface and p.usb_path .. ":" .. p.usb_interface
      hit = p.usb_path ~= nil and (p.usb_path == want or full == want)
    end
    if hit then found[#found + 1] = p end
  end
  local function listing(list)
    local t = {}
    for _, p in ipairs(list) do t[#t + 1] = p.name .. (M.identity(p) and " (" .. M.identity(p) .. ")" or "") end
    return #t > 0 and table.concat(t, "; ") or "none"
  end
  if #found == 1 then return found[1] end
  if #found == 0 then
    local usb = {}
    for _, p in ipairs(ports) do if p.type == "usb" then usb[#usb + 1] = p end end
    errors.raise("espflash::serial_not_found", ("No serial port matches '%s'"):format(spec),
      "USB serial ports found: " .. listing(usb))
  end
  errors.raise("espflash::serial_ambiguous", ("%d serial ports match '%s'"):format(#found, spec),
    "Name one of them: " .. listing(found) .. (kind == "usb" and "; add the interface (usb:PATH:1.0)" or ""))
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
