---@meta espflash.sim
-- `espflash.sim`: the virtual device (docs/virtual-device.md). A port URL
-- `sim://CHIP[?flash=FILE&size=4MB&mac=…&link=1&latency=US&secure=1&fault=KIND&fault_at=N]`
-- creates one in-process; `espflash sim --listen` serves one over TCP.

---@class espflash.SimOptions
---@field flash? string backing file
---@field size? string "4MB"
---@field mac? string|integer[]
---@field download? boolean start in download mode (default true)
---@field secure_download? boolean
---@field link_emulation? boolean pace bytes at the baud rate
---@field latency_us? integer
---@field app_output? string what the application prints after a normal boot
---@field fault? "none"|"drop"|"flip"|"stall"|"reset"|"refuse"
---@field fault_at? integer reply or command index the fault hits

---@class espflash.sim
local sim = {}

---Creates the virtual device for a chip; returns the Sim and its profile.
---@param chip string|espflash.Chip
---@param opts? espflash.SimOptions
---@return espflash.Sim sim
---@return table profile
function sim.new(chip, opts) end

---Creates the virtual device a `sim://` URL describes; returns it and the chip table.
---@param url string
---@return espflash.Sim sim
---@return espflash.Chip chip
function sim.open(url) end

---Parses a `sim://` URL into the chip table and options; usage error when malformed.
---@param url string
---@return espflash.Chip chip
---@return espflash.SimOptions opts
function sim.parse_url(url) end

---The profile table `core.sim_new` takes, for a chip.
---@param chip string|espflash.Chip
---@param opts? espflash.SimOptions
---@return table
function sim.profile(chip, opts) end

---The options table `core.sim_new` takes.
---@param opts? espflash.SimOptions
---@return table
function sim.options(opts) end

---Six bytes from "aa:bb:cc:dd:ee:ff".
---@param s string
---@return integer[]
function sim.parse_mac(s) end

---"aa:bb:cc:dd:ee:ff" from six bytes.
---@param bytes integer[]
---@return string
function sim.format_mac(bytes) end

---The JEDEC capacity byte and the size in bytes of "4MB", "512KB", ….
---@param s string
---@return integer id
---@return integer bytes
function sim.parse_size(s) end

return sim
