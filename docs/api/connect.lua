---@meta espflash.connect
-- `espflash.connect`: reaching a chip. The module is callable:
-- `espflash.connect{...}` is `espflash.connect.connect{...}`.

---@class espflash.ConnectOptions
---@field port string|espflash.Port `sim://CHIP[?…]`, `socket://HOST:PORT`, a device path, or an open Port
---@field baud? integer above 115200: CHANGE_BAUDRATE after connecting
---@field chip? string must match the detected chip
---@field before? "default-reset"|"no-reset"|"no-reset-no-sync"|"usb-reset"
---@field after? "hard-reset"|"no-reset"|"no-reset-no-stub"|"watchdog-reset" what `close` does
---@field stub? boolean default true; false talks to the ROM loader only
---@field usb_pid? integer the port's USB product id (0x1001: USB-Serial-JTAG reset)
---@field log? fun(level: "info"|"warn"|"debug", message: string)

---@class espflash.connect
---@overload fun(opts: espflash.ConnectOptions): espflash.Device
local connect = {}

---Opens the port, resets the chip into download mode, syncs, detects it,
---uploads the flasher stub and attaches the flash. Raises
---`espflash::connection_failed`, `::chip_mismatch`, `::serial_not_found`, ….
---@param opts espflash.ConnectOptions
---@return espflash.Device
function connect.connect(opts) end

---Opens a port by URL without talking to the chip; raises on failure.
---@param url string
---@param opts? {baud?: integer}
---@return espflash.Port
function connect.open(url, opts) end

return connect
