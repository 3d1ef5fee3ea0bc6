--- The monitor's connection to the device: the port behind a connected
--- device, an open Port or a URL; the monitor baud rate; resets; writes that
--- never hang; and reopening a port that disappeared (a USB device that
--- re-enumerates) once it comes back.
local core = require("espflash.core")
local errors = require("espflash.errors")
local loader = require("espflash.loader")
local reset = require("espflash.reset")

local M = {}

M.KEY_WRITE_TIMEOUT_MS = 100
M.REOPEN_INTERVAL_MS = 200

local Link = {}
Link.__index = Link

local function is_port(v)
  local mt = type(v) == "userdata" and getmetatable(v)
  return type(mt) == "table" and mt.__name == "espflash.Port"
end

--- Wraps `target`: a device from espflash.connect (its port, chip and
--- revision are used; it is closed without its --after action when the link
--- closes), a Port (left open), or a URL string (opened here and closed).
function M.new(target)
  local self = setmetatable({}, Link)
  if type(target) == "table" and target.port then
    self.dev, self.port = target, target.port
    self.chip = target.chip and target.chip.name
    local r = target.revision
    self.revision = r and (r.major * 100 + r.minor) or nil
    self.usb_jtag = target.usb_pid == reset.USB_JTAG_PID
  elseif is_port(target) then
    self.port = target
  elseif type(target) == "string" then
    self.port = require("espflash.connect").open(target)
    self.owns = true
  else
    errors.raise("espflash::invalid_argument", "monitor: expected a device, a port or a port URL")
  end
  self.url = self.port:info().name
  return self
end

--- The crystal frequency of a connected device in MHz, or nil.
function Link:crystal_mhz()
  if not self.dev then return nil end
  local ok, info = pcall(self.dev.info, self.dev)
  return ok and info.crystal_mhz or nil
end

--- The baud rate to monitor at: `baud`, except 74880 for an ESP32-C2 with a
--- 26 MHz crystal when left at 115200 (its ROM then prints at 74880).
function Link:monitor_baud(baud)
  if baud == 115200 and self.chip == "esp32c2" and self:crystal_mhz() == 26 then return 74880 end
  return baud
end

local function check(ok, msg, code)
  if ok == nil then
    if code == "INTERRUPTED" then loader.raise_interrupted(msg) end
    errors.raise("espflash::serial_error", "IO error while using serial port: "
      .. tostring(msg):gsub("^[%u_]+: ", ""))
  end
  return ok
end

--- Sets the port's baud rate.
function Link:set_baud(baud)
  self.baud = baud
  check(self.port:set_baud(baud))
end

--- Hard-resets the chip into its application (RTS pulse; the USB-Serial-JTAG
--- sequence for Espressif's USB port). False when the port has no modem lines.
function Link:reset()
  return reset.hard(self.port, self.usb_jtag)
end

--- Reads what the device sent within `timeout_ms`: bytes, "" when nothing
--- came, or nil and the failure code ("PORT_GONE", "PORT_IO", ...).
function Link:read(timeout_ms)
  local data, msg, code = self.port:read(4096, timeout_ms)
  if data then return data end
  if code == "INTERRUPTED" then loader.raise_interrupted(msg) end
  return nil, code, msg
end

--- Writes key bytes, giving up after a short time when the device does not
--- read them. Returns true, or false and the failure code.
function Link:write(bytes)
  local ok, msg, code = self.port:write(bytes, M.KEY_WRITE_TIMEOUT_MS)
  if ok then return true end
  if code == "INTERRUPTED" then loader.raise_interrupted(msg) end
  return false, code, msg
end

--- True when the port can be reopened by its name after it went away.
function Link:can_reopen()
  return not self.url:match("^sim://")
end

--- Waits for the port to come back and reopens it. `poll(ms)` is called
--- between attempts (it returns true to stop waiting: the user pressed
--- Ctrl+C, or the timeout passed). Returns true when reopened.
function Link:reopen(poll)
  pcall(self.port.close, self.port)
  while true do
    local port = core.open(self.url, { baud = self.baud or 115200 })
    if port then
      self.port = port
      if self.dev then self.dev.port = port end
      self.owns = true
      return true
    end
    if poll(M.REOPEN_INTERVAL_MS) then return false end
  end
end

--- Closes what the link owns: a device is closed without its --after action.
function Link:close()
  if self.dev then
    pcall(self.dev.close, self.dev, { after = false })
  end
  if self.owns then pcall(self.port.close, self.port) end
end

return M
