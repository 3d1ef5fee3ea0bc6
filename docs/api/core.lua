---@meta espflash.core
-- `espflash.core`: the C core (docs/design.md, "The core API"). Failures of
-- the environment return the fail triple `nil, "CODE: message", "CODE"`;
-- misuse raises.

---@class espflash.Port
local Port = {}

---Writes bytes.
---@param s string
---@return boolean|nil ok
---@return string? message
---@return string? code
function Port:write(s) end

---Reads up to `max` bytes, returning as soon as some are there; "" on timeout.
---@param max integer
---@param timeout_ms? integer default 0
---@return string|nil data
---@return string? message
---@return string? code
function Port:read(max, timeout_ms) end

---SLIP-encodes and writes one frame.
---@param s string
---@return boolean|nil ok
---@return string? message
---@return string? code
function Port:write_frame(s) end

---The next decoded SLIP frame; `nil, "TIMEOUT: …", "TIMEOUT"` when none came in time.
---@param timeout_ms? integer default 0
---@return string|nil frame
---@return string? message
---@return string? code
function Port:read_frame(timeout_ms) end

---Bytes seen outside SLIP frames since the last call (boot log text).
---@return string
function Port:take_noise() end

---Sends a loader command and returns the first response: opcode, value, body.
---@param op integer
---@param data? string
---@param checksum? integer
---@param timeout_ms? integer default 3000
---@return integer|nil op
---@return integer|string value the value, or the message on failure
---@return string body data and status bytes, or the code on failure
function Port:command(op, data, checksum, timeout_ms) end

---Discards pending input and decoder state.
function Port:flush_input() end

---Changes the host side's baud rate.
---@param baud integer
function Port:set_baud(baud) end

---The host side's baud rate.
---@return integer
function Port:baud() end

---Drives DTR and RTS (nil leaves a line); false when the transport has no modem lines.
---@param dtr boolean?
---@param rts boolean?
---@return boolean|nil
function Port:set_lines(dtr, rts) end

---Whether the transport has modem lines.
---@return boolean
function Port:has_lines() end

---`{kind = "serial"|"socket"|"sim", name = …, baud = …}`.
---@return table
function Port:info() end

---Closes the port (idempotent; also `<close>` and the garbage collector).
function Port:close() end

---@class espflash.Sim
local Sim = {}

---Reads the virtual flash directly.
---@param addr integer
---@param size integer
---@return string
function Sim:flash_read(addr, size) end

---Writes the virtual flash directly (no erase needed); returns the bytes written.
---@param addr integer
---@param data string
---@return integer
function Sim:flash_write(addr, data) end

---The flash size in bytes.
---@return integer
function Sim:flash_size() end

---Power-cycles into download mode (true) or a normal boot.
---@param download? boolean
function Sim:reset(download) end

---"off", "booting", "rom", "stub" or "running".
---@return string
function Sim:state() end

---Frees the virtual device (ports on it stop working).
function Sim:close() end

---@class espflash.core
local core = {}

---Opens a port: a device path, `socket://HOST:PORT`, or `sim://…` with `opts.sim`.
---@param url string
---@param opts? {baud?: integer, sim?: espflash.Sim, timeout?: integer}
---@return espflash.Port|nil port
---@return string? message
---@return string? code
function core.open(url, opts) end

---The system's serial ports.
---@return table[]|nil ports
---@return string? message
function core.list_ports() end

---Sleeps (in slices that notice Ctrl-C); nil, "INTERRUPTED: …" when interrupted.
---@param ms integer
---@return boolean|nil
function core.sleep(ms) end

---Monotonic seconds.
---@return number
function core.now() end

---Whether Ctrl-C was pressed (or core.interrupt called).
---@return boolean
function core.interrupted() end

---Sets the interrupt flag: every wait fails with INTERRUPTED.
function core.interrupt() end

---Clears the interrupt flag.
function core.clear_interrupt() end

---The raw MD5 digest (16 bytes).
---@param s string
---@return string
function core.md5(s) end

---The MD5 as 32 lowercase hex digits.
---@param s string
---@return string
function core.md5_hex(s) end

---The raw SHA-256 digest (32 bytes).
---@param s string
---@return string
function core.sha256(s) end

---zlib-format compression.
---@param s string
---@param level? integer
---@return string
function core.deflate(s, level) end

---zlib-format decompression.
---@param s string
---@return string|nil
function core.inflate(s) end

---zlib's CRC-32, optionally continuing from `init`.
---@param s string
---@param init? integer
---@return integer
function core.crc32(s, init) end

---@param s string
---@return string
function core.base64_encode(s) end

---@param s string
---@return string|nil
function core.base64_decode(s) end

---C0, the escaped bytes, C0.
---@param s string
---@return string
function core.slip_encode(s) end

---The complete frames in a byte string, the noise outside them, the bytes dropped.
---@param s string
---@return string[] frames
---@return string noise
---@return integer dropped
function core.slip_decode(s) end

---Reads an ELF file: `{class, machine, entry, sections, segments, symbols, file_sha256}`
---or the fail triple. Sections carry `data` for PROGBITS and INIT_ARRAY, except
---`.debug*` (libdw reads those); `file_sha256` is the whole file's digest.
---@param path string
---@param opts? {symbols?: boolean}
---@return table|nil
function core.elf_read(path, opts) end

---Creates a virtual device from a profile (espflash.sim builds it).
---@param profile table
---@param opts? table
---@return espflash.Sim|nil
function core.sim_new(profile, opts) end

---Serves a virtual device on TCP or a pty until Ctrl-C.
---@param sim espflash.Sim
---@param where {listen?: string, pty?: boolean}
---@param on_ready fun(address: string)
---@return boolean|nil
function core.sim_serve(sim, where, on_ready) end

return core
