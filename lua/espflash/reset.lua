--- DTR/RTS reset sequences with espflash's timings (espflash-reference.md
--- §2.3, §2.5). DTR drives IO0 (boot strap) and RTS drives EN when asserted.
---
--- Each sequence takes a Port. A transport without modem lines (TCP, pty)
--- answers `set_lines` with false; the sequences then skip all toggling and
--- sleeping silently and return false. They return true when the lines moved.
local core = require("espflash.core")
local errors = require("espflash.errors")
local loader = require("espflash.loader")

local M = {}

M.USB_JTAG_PID = 0x1001

local function sleep(ms)
  local ok, msg = core.sleep(ms)
  if not ok then loader.raise_interrupted(msg) end
end

-- Sets the lines (nil leaves a line as it is); false when the port has no
-- modem lines.
local function set(port, dtr, rts)
  local ok, msg, code = port:set_lines(dtr, rts)
  if ok == nil then
    if code == "INTERRUPTED" then loader.raise_interrupted(msg) end
    errors.raise("espflash::serial_error", "IO error while using serial port: " .. tostring(msg))
  end
  return ok
end

local function set_dtr(port, v) return set(port, v, nil) end
local function set_rts(port, v) return set(port, nil, v) end

local function has_lines(port)
  if port.has_lines then return port:has_lines() end
  return true
end

--- Classic: DTR=0, RTS=1, DTR=0; 100 ms; DTR=1, RTS=0, DTR=1; `delay`; DTR=0.
function M.classic(port, delay)
  if not has_lines(port) then return false end
  set_dtr(port, false); set_rts(port, true); set_dtr(port, false)
  sleep(100)
  set_dtr(port, true); set_rts(port, false); set_dtr(port, true)
  sleep(delay or 50)
  set_dtr(port, false)
  return true
end

--- UnixTight (both lines at once): (0,0), (1,1), (0,1); 100 ms; (1,0);
--- `delay`; (0,0); then DTR=0 again.
function M.unix_tight(port, delay)
  if not has_lines(port) then return false end
  set(port, false, false); set(port, true, true); set(port, false, true)
  sleep(100)
  set(port, true, false)
  sleep(delay or 50)
  set(port, false, false)
  set_dtr(port, false)
  return true
end

--- USB-Serial-JTAG: RTS=0, DTR=0; 100 ms; DTR=1, RTS=0; 100 ms; RTS=1,
--- DTR=0, RTS=1 (through (1,1)); 100 ms; DTR=0, RTS=0.
function M.usb_jtag(port)
  if not has_lines(port) then return false end
  set_rts(port, false); set_dtr(port, false)
  sleep(100)
  set_dtr(port, true); set_rts(port, false)
  sleep(100)
  set_rts(port, true); set_dtr(port, false); set_rts(port, true)
  sleep(100)
  set_dtr(port, false); set_rts(port, false)
  return true
end

--- Hard reset into the application: 100 ms; RTS=1; 100 ms; RTS=0 (UART
--- bridge), or DTR=0; 100 ms; RTS=1, DTR=0, RTS=1; 100 ms; RTS=0 (USB-JTAG).
function M.hard(port, usb_jtag)
  if not has_lines(port) then return false end
  sleep(100)
  if usb_jtag then
    set_dtr(port, false)
    sleep(100)
    set_rts(port, true); set_dtr(port, false); set_rts(port, true)
    sleep(100)
    set_rts(port, false)
  else
    set_rts(port, true)
    sleep(100)
    set_rts(port, false)
  end
  return true
end

--- The reset strategies to cycle through for `before`, as a list of
--- `{name=, run=function(port)}`: USB-JTAG when the port's PID is 0x1001 or
--- `before` is "usb-reset", else UnixTight 50/500 ms and Classic 50/500 ms.
function M.strategies(before, usb_pid)
  if before == "usb-reset" or usb_pid == M.USB_JTAG_PID then
    return { { name = "usb-jtag", run = function(p) return M.usb_jtag(p) end } }
  end
  return {
    { name = "unix-tight 50 ms", run = function(p) return M.unix_tight(p, 50) end },
    { name = "unix-tight 500 ms", run = function(p) return M.unix_tight(p, 500) end },
    { name = "classic 50 ms", run = function(p) return M.classic(p, 50) end },
    { name = "classic 500 ms", run = function(p) return M.classic(p, 500) end },
  }
end

--- RTC watchdog chip reset through the loader `ld` (espflash-reference.md
--- §2.5): ESP32-C3 over USB-Serial-JTAG, ESP32-S3 over USB-Serial-JTAG or
--- USB-OTG, ESP32-S2/P4 over USB-OTG; silently nothing over a UART bridge;
--- espflash::unsupported_feature on chips without the watchdog.
function M.watchdog(ld, chip, usb_pid)
  local usb_jtag = usb_pid == M.USB_JTAG_PID
  local supported = { esp32c3 = usb_jtag, esp32p4 = false, esp32s2 = false, esp32s3 = usb_jtag }
  if supported[chip.name] == nil or not chip.wdt then
    errors.raise("espflash::unsupported_feature",
      string.format("The %s does not support watchdog reset", chip.name))
  end
  local otg = chip.uartdev_buf_no
  if otg and chip.name ~= "esp32c3" and ld:read_reg(otg.addr) == otg.usb_otg then
    supported[chip.name] = true
  end
  if not supported[chip.name] then return false end
  local wdt = chip.wdt
  ld:write_reg(wdt.wprotect, 0x50D83AA1)
  ld:write_reg(wdt.config1, 2000)
  ld:write_reg(wdt.config0, (1 << 31) | (5 << 28) | (1 << 8) | 2)
  ld:write_reg(wdt.wprotect, 0)
  sleep(50)
  return true
end

return M
