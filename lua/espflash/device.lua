--- A connected chip: what `espflash.connect` returns. See docs/device-api.md.
---
--- Methods raise error objects from `espflash.errors`; long operations report
--- through `progress = function(done, total)` callbacks. `close()` (also
--- `<close>` and the garbage collector) runs the `--after` action once.
local core = require("espflash.core")
local errors = require("espflash.errors")
local loader = require("espflash.loader")
local reset = require("espflash.reset")

local OP, words = loader.OP, loader.words

local M = {}

M.SECTOR = 0x1000
M.STUB_BLOCK = 0x4000
M.ROM_BLOCK = 0x400
M.ROM_READ_CHUNK = 64
M.AFTER_MODES = { ["hard-reset"] = true, ["no-reset"] = true, ["no-reset-no-stub"] = true,
                  ["watchdog-reset"] = true }

local Device = {}
Device.__index = Device

--- Wraps the state `espflash.connect` built (port, loader, chip, ...).
function M.new(t)
  t.after_done, t.closed = false, false
  return setmetatable(t, Device)
end

--- "4MB", "256KB": espflash's flash size names.
function M.size_name(bytes)
  if bytes >= 1024 * 1024 then return string.format("%dMB", bytes // (1024 * 1024)) end
  return string.format("%dKB", bytes // 1024)
end

--- Lowercase hex of a binary string.
function M.hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

local function log(self, level, msg)
  if self.log then self.log(level, msg) end
end

local function check_u32(name, v)
  if math.type(v) ~= "integer" or v < 0 or v > 0xFFFFFFFF then
    errors.raise("espflash::invalid_argument",
      string.format("%s must be an integer between 0 and 0xFFFFFFFF, got %s", name, tostring(v)))
  end
end

function Device:_live()
  if self.closed then errors.raise("espflash::closed", "The device has been closed",
    "Connect again to talk to the chip") end
  return self.loader
end

-- The ROM refuses flash reads and MD5 in Secure Download Mode.
function Device:_readable(what)
  if self.sdm then
    errors.raise("espflash::secure_download",
      string.format("%s is not possible in Secure Download Mode", what),
      "The ROM loader refuses flash reads and checksums while Secure Download Mode is enabled")
  end
end

function Device:_need_stub()
  if not self:_live().stub then
    errors.raise("espflash::stub_required", "This command requires using the RAM stub",
      "Don't use the `--no-stub` option with the command")
  end
  return self.loader
end

local function reader(self)
  return function(addr) return self.loader:read_reg(addr) end
end

--- Chip facts: `{chip, revision = {major, minor}, features, crystal_mhz,
--- mac, flash_size, flash_size_name, jedec_id, secure_download, security}`.
--- `security` is nil for the ESP32 (no GET_SECURITY_INFO); in Secure
--- Download Mode revision and MAC are nil.
function Device:info()
  self:_live()
  local chip = self.chip
  local features = chip.features or {}
  local info = {
    chip = chip.name, flash_size = self.flash_size, flash_size_name = M.size_name(self.flash_size),
    jedec_id = self.jedec, secure_download = self.sdm, security = self.security,
    stub = self.loader.stub,
  }
  if self.revision then
    local r = self.revision
    info.revision = { r.major, r.minor, major = r.major, minor = r.minor }
  end
  if self.sdm then
    info.features = type(features) == "table" and features or {}
    info.crystal_mhz = chip.default_xtal_mhz
    return info
  end
  local baud = self.port:baud()
  local function decode(read)
    local f = type(features) == "function" and features(read) or features
    local ok, xtal = pcall(chip.xtal, read, baud)
    return f, ok and xtal or chip.default_xtal_mhz, chip.mac(read)
  end
  -- each register once, the ones the decoders read fetched two at a time
  local read = require("espflash.connect").register_reader(self.loader, decode)
  local mac
  info.features, info.crystal_mhz, mac = decode(read)
  info.mac = string.format("%02x:%02x:%02x:%02x:%02x:%02x", table.unpack(mac))
  return info
end

--- READ_REG: the 32-bit word at `addr`.
function Device:read_reg(addr)
  check_u32("address", addr)
  return self:_live():read_reg(addr)
end

--- WRITE_REG: `(old & ~mask) | (value & mask)`, mask defaults to all bits.
function Device:write_reg(addr, value, mask)
  check_u32("address", addr)
  check_u32("value", value)
  self:_live():write_reg(addr, value, mask)
end

--- Erases the whole flash (stub only).
function Device:erase_flash()
  self:_need_stub():command(OP.ERASE_FLASH, "")
end

--- Erases `size` bytes at `addr`; both must be multiples of 0x1000 (stub only).
function Device:erase_region(addr, size)
  check_u32("address", addr)
  check_u32("size", size)
  if addr % M.SECTOR ~= 0 or size % M.SECTOR ~= 0 then
    errors.raise("espflash::erase_region::invalid_argument",
      string.format("Invalid `address`(%d)  and/or `size`(%d) argument(s)", addr, size),
      "`address` and `size` must be multiples of 0x1000 (4096)")
  end
  self:_need_stub():command(OP.ERASE_REGION, words(addr, size), { size = size })
end

--- MD5 of `size` bytes of flash at `addr`, as 32 lowercase hex digits.
--- `opts.confirm` (default false): ask twice (pipelined) and accept only a
--- digest two answers agree on, else `espflash::md5_unstable` — for a
--- digest that is reported rather than compared (see espflash.device_md5).
function Device:md5(addr, size, opts)
  if opts ~= nil and type(opts) ~= "table" then
    errors.raise("espflash::invalid_argument", "md5 options must be a table, e.g. { confirm = true }")
  end
  return self:_md5_many({ { addr, size } }, opts)[1]
end

--- MD5s of several regions (`{{addr, size}, ...}`), as Device:md5 gives
--- them (`opts.confirm` as there), two requests in flight (Loader:pipeline).
function Device:_md5_many(regions, opts)
  local ld = self:_live()
  for _, r in ipairs(regions) do
    check_u32("address", r[1])
    check_u32("size", r[2])
  end
  self:_readable("Computing a flash MD5")
  return require("espflash.device_md5").many(ld, regions, opts and opts.confirm)
end

--- Writes `data` at `addr`, padded to 4 bytes with 0xFF. Options: `compress`
--- (default true; needs the stub), `skip` (default false: compare MD5s first
--- and rewrite only what changed — nothing for an unchanged region, else the
--- differing parts down to single sectors when `addr` is sector-aligned),
--- `verify` (default true: MD5 after writing, espflash::verify_failed on
--- mismatch), `progress(done, total)`. Returns "written" or "skipped".
function Device:write(addr, data, opts)
  opts = opts or {}
  check_u32("address", addr)
  if type(data) ~= "string" then
    errors.raise("espflash::invalid_argument", "data must be a string of bytes")
  end
  self:_live()
  data = data .. string.rep("\xFF", (4 - #data % 4) % 4)
  if #data == 0 then return "skipped" end
  if addr + #data > self.flash_size then
    errors.raise("espflash::invalid_argument",
      string.format("Writing %d bytes at 0x%x would pass the end of the %s flash", #data, addr,
        M.size_name(self.flash_size)))
  end
  return require("espflash.device_write").write(self, addr, data, opts)
end

-- Stub: READ_FLASH streaming. The stub sends the next packet once the
-- previous one is acknowledged, so acknowledging each packet only after it
-- arrived leaves the line idle for a turnaround per packet (2 ms of every
-- 46 at 921600 baud behind a USB adapter). Each acknowledgement goes out one
-- packet early instead: packet k+1's when packet k has arrived, while the
-- stub is still sending k+1, so it finds the acknowledgement as soon as it
-- is done and packets follow back to back. Never more than one
-- acknowledgement waits at the stub (it has two receive buffers); the data
-- is still checked packet by packet and by the stub's MD5 at the end.
local function read_stub(self, addr, size, opts)
  local ld, port = self.loader, self.port
  local bs = opts.block_size or M.SECTOR
  ld:command(OP.READ_FLASH, words(addr, size, bs, opts.max_in_flight or 64))
  local count = (size + bs - 1) // bs
  local function ack(k)   -- acknowledges packets 0..k (0-based)
    local sent, wmsg, wcode = port:write_frame(words(math.min((k + 1) * bs, size)))
    if not sent then error(loader.port_failure(OP.READ_FLASH, wmsg, wcode), 0) end
  end
  local parts, got = {}, 0
  for k = 0, count - 1 do
    local frame, msg, code = port:read_frame(loader.DEFAULT_TIMEOUT)
    if not frame then
      error(loader.port_failure(OP.READ_FLASH, msg, code), 0)
    end
    if k == 0 then ack(0) end
    if k + 1 < count then ack(k + 1) end
    if got + #frame > size then
      errors.raise("espflash::read_flash::read_more_than_expected", "Read more bytes than expected")
    end
    if #frame ~= bs and got + #frame < size then
      errors.raise("espflash::read_flash::corrupt_data",
        string.format("Corrupt data, expected 0x%x bytes but received 0x%x bytes", bs, #frame))
    end
    parts[#parts + 1] = frame
    got = got + #frame
    if opts.progress then opts.progress(got, size) end
  end
  local data = table.concat(parts)
  local digest, msg, code = port:read_frame(loader.DEFAULT_TIMEOUT)
  if not digest then
    error(loader.port_failure(OP.READ_FLASH, msg, code), 0)
  end
  if #digest ~= 16 then
    errors.raise("espflash::read_flash::incorrect_digest_length",
      string.format("Expected MD5 digest (16 bytes), received: 0x%x bytes", #digest))
  end
  local want = core.md5(data)
  if digest ~= want then
    errors.raise("espflash::read_flash::digest_mismatch",
      string.format("MD5 digest mismatch: expected %s, received: %s", M.hex(want), M.hex(digest)))
  end
  return data
end

-- ROM: READ_FLASH_SLOW, 64 bytes a command, each at its own offset (espflash
-- advances by the running total and reads the wrong bytes past 128); the
-- result is checked against the ROM's MD5 of the region.
local function read_rom(self, addr, size, opts)
  local ld, parts, got = self.loader, {}, 0
  while got < size do
    local n = math.min(M.ROM_READ_CHUNK, size - got)
    local _, d = ld:command(OP.READ_FLASH_SLOW, words(addr + got, n, 0, 0))
    if #d < n then
      errors.raise("espflash::read_flash::incorrect_response", "Incorrect response from the stub/ROM loader")
    end
    parts[#parts + 1] = d:sub(1, n)
    got = got + n
    if opts.progress then opts.progress(got, size) end
  end
  -- READ_FLASH_SLOW data carries no checksum: check the whole read by MD5
  local data = table.concat(parts)
  local want = self:md5(addr, size)
  if M.hex(core.md5(data)) ~= want then
    errors.raise("espflash::read_flash::digest_mismatch",
      string.format("MD5 digest mismatch: expected %s, received: %s", want, M.hex(core.md5(data))))
  end
  return data
end

--- Reads `size` bytes at `addr`. With the stub: READ_FLASH streaming
--- (`block_size` default 0x1000, `max_in_flight` default 64) checked against
--- the stub's MD5; with the ROM: READ_FLASH_SLOW in 64-byte chunks, checked
--- against SPI_FLASH_MD5 (espflash::read_flash::digest_mismatch).
--- `opts.progress(done, total)`. Returns the bytes.
function Device:read(addr, size, opts)
  opts = opts or {}
  check_u32("address", addr)
  check_u32("size", size)
  local bs, mif = opts.block_size or M.SECTOR, opts.max_in_flight or 64
  if math.type(bs) ~= "integer" or bs < 1 or bs > M.SECTOR then
    errors.raise("espflash::invalid_argument",
      string.format("block_size must be between 1 and 0x1000 (the stub's packet limit), got %s", tostring(bs)))
  end
  if math.type(mif) ~= "integer" or mif < 1 then
    errors.raise("espflash::invalid_argument",
      string.format("max_in_flight must be at least 1, got %s", tostring(mif)))
  end
  local ld = self:_live()
  self:_readable("Reading flash")
  if size == 0 then return "" end
  if ld.stub then return read_stub(self, addr, size, opts) end
  return read_rom(self, addr, size, opts)
end

--- Changes the baud rate of the link (CHANGE_BAUDRATE, then the host side).
function Device:set_baud(baud)
  check_u32("baud", baud)
  local ld = self:_live()
  local connect = require("espflash.connect")
  local word
  if not ld.stub then word = connect.rom_baud_word(self.chip, baud, reader(self)) end
  connect.change_baud(ld, self.chip, baud, nil, word)
end

--- Loads `segments` (a list of `{addr=, data=}`) into RAM with MEM_BEGIN /
--- MEM_DATA and starts `entry` with MEM_END (espflash's `--ram`). The chip
--- then runs that program: close with `{after = false}` to leave it running.
function Device:load_ram(segments, entry)
  check_u32("entry", entry)
  local ld = self:_live()
  local connect = require("espflash.connect")
  for _, seg in ipairs(segments) do
    check_u32("segment address", seg.addr)
    connect.mem_load(ld, seg.addr, seg.data)
  end
  ld:command(OP.MEM_END, words(entry == 0 and 1 or 0, entry))
end

--- Performs an `--after` action: "hard-reset" (RTS pulse), "no-reset" (stay
--- in the ROM loader; leaves the stub through FLASH_BEGIN(0) + FLASH_END),
--- "no-reset-no-stub" (nothing), "watchdog-reset" (RTC watchdog, C3 over
--- USB-JTAG, S2/S3/P4 over USB-OTG). Counts as the after-action for `close`.
function Device:reset(mode)
  mode = mode or "hard-reset"
  if not M.AFTER_MODES[mode] then
    errors.raise("espflash::invalid_argument", string.format(
      "unknown reset mode '%s' (use hard-reset, no-reset, no-reset-no-stub or watchdog-reset)", tostring(mode)))
  end
  local ld = self:_live()
  self.after_done = true
  if mode == "hard-reset" then
    reset.hard(self.port, self.usb_pid == reset.USB_JTAG_PID)
  elseif mode == "no-reset" then
    log(self, "info", "Staying in bootloader")
    if ld.stub then
      ld:command(OP.FLASH_BEGIN, loader.begin_payload(0, 0, M.ROM_BLOCK, 0))
      ld:command(OP.FLASH_END, words(0))
    end
  elseif mode == "no-reset-no-stub" then
    log(self, "info", "Staying in flasher stub")
  else
    log(self, "info", "Resetting device with watchdog")
    reset.watchdog(ld, self.chip, self.usb_pid)
  end
end

-- Runs fn(...) with the Ctrl-C flag cleared, then sets it again if it was set:
-- the cleanup after an interrupt must still reach the port. A Ctrl-C during
-- fn abandons fn (its waits fail at once); the next one kills the process.
local function interrupt_masked(fn, ...)
  local was = core.interrupted()
  core.clear_interrupt()
  local res = table.pack(pcall(fn, ...))
  if was then core.interrupt() end
  return table.unpack(res, 1, res.n)
end

-- The after-action when leaving on an error or Ctrl-C: the link may be
-- broken, so no command is sent; a "hard-reset" or "watchdog-reset" becomes a
-- reset through the modem lines (as hard-reset does it, USB-JTAG aware), so
-- the chip runs its firmware instead of waiting in the stub. "no-reset" and
-- "no-reset-no-stub" leave it where it is, as asked.
local function reset_after_error(self)
  self.after_done = true
  if self.after == "no-reset" or self.after == "no-reset-no-stub" then return end
  interrupt_masked(reset.hard, self.port, self.usb_pid == reset.USB_JTAG_PID)
end

--- Runs the after-action (once) and closes the port. `opts.after = false`
--- closes without it. `opts.error` (what `<close>` passes when leaving with
--- an error or Ctrl-C) resets the chip through the modem lines instead,
--- unless the after-action is no-reset or no-reset-no-stub.
function Device:close(opts)
  if self.closed then return end
  local ok, err = true, nil
  if not self.after_done and not (opts and opts.after == false) then
    if opts and opts.error then
      reset_after_error(self)
    else
      ok, err = pcall(self.reset, self, self.after)
    end
  end
  self.closed = true
  if self.owns_port then interrupt_masked(self.port.close, self.port) end
  if not ok then error(err, 0) end
end

Device.__close = function(self, err) self:close{ error = err ~= nil } end
Device.__gc = function(self) pcall(self.close, self) end

return M
