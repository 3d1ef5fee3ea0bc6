---@meta espflash.device
-- The device `espflash.connect` returns. Every method raises an error object
-- (`espflash.Error`) on failure. docs/device-api.md has the details.

---@class espflash.ChipInfo
---@field chip string "esp32c3"
---@field revision {[1]: integer, [2]: integer, major: integer, minor: integer}? nil in Secure Download Mode
---@field features string[] {"WiFi", "BLE"}
---@field crystal_mhz integer
---@field mac string? "60:55:f9:7e:7b:c0"; nil in Secure Download Mode
---@field flash_size integer bytes
---@field flash_size_name string "4MB"
---@field jedec_id integer?
---@field security table? GET_SECURITY_INFO: {flags, flash_crypt_cnt, key_purposes, chip_id, api_version}
---@field secure_download boolean
---@field stub boolean the flasher stub answers

---@alias espflash.Progress fun(done: integer, total: integer)

---@class espflash.Device
---@field chip table the chip table (lua/espflash/chips/<chip>.lua)
---@field loader table the espflash.loader Loader (command, try, read_reg, write_reg)
---@field port espflash.Port the port
---@field sdm boolean Secure Download Mode
---@field flash_size integer bytes
local Device = {}

---Chip facts: chip, revision, features, crystal, MAC, flash size, security.
---@return espflash.ChipInfo
function Device:info() end

---READ_REG: the 32-bit word at `addr`.
---@param addr integer
---@return integer
function Device:read_reg(addr) end

---WRITE_REG: stores `(old & ~mask) | (value & mask)`.
---@param addr integer
---@param value integer
---@param mask? integer default 0xFFFFFFFF
function Device:write_reg(addr, value, mask) end

---Writes `data` at `addr` (padded with 0xFF to 4 bytes).
---@param addr integer
---@param data string
---@param opts? {compress?: boolean, skip?: boolean, verify?: boolean, progress?: espflash.Progress}
---@return "written"|"skipped"
function Device:write(addr, data, opts) end

---Reads `size` bytes at `addr`, checked against the device's MD5.
---@param addr integer
---@param size integer
---@param opts? {block_size?: integer, max_in_flight?: integer, progress?: espflash.Progress}
---@return string
function Device:read(addr, size, opts) end

---The device's MD5 of `size` bytes at `addr`, as 32 lowercase hex digits.
---`opts.confirm` (default false): ask twice and return only a digest two
---answers agree on (up to 5 answers, else `espflash::md5_unstable`), for a
---digest you report: the replies carry no checksum.
---@param addr integer
---@param size integer
---@param opts? {confirm?: boolean}
---@return string
function Device:md5(addr, size, opts) end

---Erases `size` bytes at `addr`, both multiples of 0x1000 (needs the stub).
---@param addr integer
---@param size integer
function Device:erase_region(addr, size) end

---Erases the whole flash (needs the stub).
function Device:erase_flash() end

---Changes the link's baud rate (CHANGE_BAUDRATE, then the host side).
---@param baud integer
function Device:set_baud(baud) end

---Loads segments into RAM and starts `entry` (espflash's `--ram`).
---@param segments {addr: integer, data: string}[]
---@param entry integer
function Device:load_ram(segments, entry) end

---Performs an after-action now; `close` then skips it.
---@param mode? "hard-reset"|"no-reset"|"no-reset-no-stub"|"watchdog-reset" default "hard-reset"
function Device:reset(mode) end

---Runs the after-action once (unless `opts.after == false`) and closes the port.
---@param opts? {after?: boolean}
function Device:close(opts) end

return Device
