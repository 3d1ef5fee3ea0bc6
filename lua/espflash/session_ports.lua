--- The serial ports espflash knows about (for espflash.session and
--- list-ports): the known development-board USB bridges, which ports are
--- offered, their physical USB locations and identities, list-ports' rows,
--- the enumeration (or the test list in $ESPFLASH_TEST_PORTS), and the
--- `serial:SERIAL` / `usb:PATH` selectors that tell identical boards apart.
local core = require("espflash.core")
local errors = require("espflash.errors")

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

return M
