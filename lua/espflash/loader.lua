--- The serial loader protocol, spoken to the ROM and to the flasher stub:
--- opcodes, request payloads, per-command timeouts, status bytes and error
--- codes (protocol.md §1-§2, espflash-reference.md §2.2, §2.7).
---
--- A Loader wraps a Port (`espflash.core`) and knows which personality is
--- answering: the ROM (4 status bytes, `01 code 00 00` on failure) or the
--- stub (2 status bytes, `code 00`). `Loader:command` raises an error object
--- from `espflash.errors`; `Loader:try` returns `nil, err` instead.
local core = require("espflash.core")
local errors = require("espflash.errors")

local M = {}

--- Opcodes (protocol.md §2.1).
M.OP = {
  FLASH_BEGIN = 0x02, FLASH_DATA = 0x03, FLASH_END = 0x04,
  MEM_BEGIN = 0x05, MEM_END = 0x06, MEM_DATA = 0x07,
  SYNC = 0x08, WRITE_REG = 0x09, READ_REG = 0x0A,
  SPI_SET_PARAMS = 0x0B, SPI_ATTACH = 0x0D, READ_FLASH_SLOW = 0x0E,
  CHANGE_BAUDRATE = 0x0F, FLASH_DEFL_BEGIN = 0x10, FLASH_DEFL_DATA = 0x11,
  FLASH_DEFL_END = 0x12, SPI_FLASH_MD5 = 0x13, GET_SECURITY_INFO = 0x14,
  ERASE_FLASH = 0xD0, ERASE_REGION = 0xD1, READ_FLASH = 0xD2, RUN_USER_CODE = 0xD3,
}
local OP = M.OP

--- espflash's names for the commands (its `CommandType`), used in messages.
M.NAMES = {
  [0x02] = "FlashBegin", [0x03] = "FlashData", [0x04] = "FlashEnd",
  [0x05] = "MemBegin", [0x06] = "MemEnd", [0x07] = "MemData",
  [0x08] = "Sync", [0x09] = "WriteReg", [0x0A] = "ReadReg",
  [0x0B] = "SpiSetParams", [0x0D] = "SpiAttach", [0x0E] = "ReadFlashSlow",
  [0x0F] = "ChangeBaudrate", [0x10] = "FlashDeflBegin", [0x11] = "FlashDeflData",
  [0x12] = "FlashDeflEnd", [0x13] = "FlashMd5", [0x14] = "GetSecurityInfo",
  [0xD0] = "EraseFlash", [0xD1] = "EraseRegion", [0xD2] = "ReadFlash",
  [0xD3] = "RunUserCode",
}

--- Error codes carried in the status bytes (protocol.md §1.6), with
--- espflash's diagnostic code and message for each.
M.ERRORS = {
  [0x05] = { "espflash::rom::invalid_message", "Invalid message received" },
  [0x06] = { "espflash::rom::failed", "Bootloader failed to execute command" },
  [0x07] = { "espflash::rom::crc", "Received message has invalid CRC" },
  [0x08] = { "espflash::rom::flash_write", "Bootloader failed to write to flash" },
  [0x09] = { "espflash::rom::flash_read", "Bootloader failed to read from flash" },
  [0x0A] = { "espflash::rom::flash_read_length", "Invalid length for flash read" },
  [0x0B] = { "espflash::rom::deflate", "Malformed compressed data received" },
  [0x0C] = { "espflash::rom::deflate", "Compressed data failed its Adler-32 check" },
  [0x0D] = { "espflash::rom::deflate", "Compressed data parameter error" },
  [0xC0] = { "espflash::rom::data_len", "Bad data length" },
  [0xC1] = { "espflash::rom::data_crc", "Bad data checksum" },
  [0xC2] = { "espflash::rom::block_size", "Bad block size" },
  [0xC3] = { "espflash::rom::cmd", "Invalid command" },
  [0xC4] = { "espflash::rom::spi", "SPI operation failed" },
  [0xC5] = { "espflash::rom::spi_unlock", "SPI unlock failed" },
  [0xC6] = { "espflash::rom::flash_mode", "Not in flash mode" },
  [0xC7] = { "espflash::rom::inflate", "Error when uncompressing the data" },
  [0xC8] = { "espflash::rom::not_enough", "Didn't receive enough data" },
  [0xC9] = { "espflash::rom::too_much_data", "Received too much data" },
}

M.UNSUPPORTED = "espflash::unsupported_command"
M.TIMEOUT = "espflash::timeout"

local SEC = 1000
local MB = 1000000 -- espflash's "MB" in timeout formulas
M.DEFAULT_TIMEOUT = 3 * SEC

local FIXED_TIMEOUTS = {
  [OP.SYNC] = 100, [OP.MEM_END] = 50, [OP.ERASE_FLASH] = 120 * SEC,
  [OP.FLASH_DEFL_END] = 10 * SEC,
}
local PER_MB = {
  [OP.FLASH_BEGIN] = 30 * SEC, [OP.FLASH_DEFL_BEGIN] = 30 * SEC, [OP.ERASE_REGION] = 30 * SEC,
  [OP.FLASH_DATA] = 40 * SEC, [OP.FLASH_DEFL_DATA] = 40 * SEC, [OP.SPI_FLASH_MD5] = 8 * SEC,
}

--- espflash's timeout in milliseconds for `op`; size-scaled commands take the
--- byte count they act on (minimum 10 s).
function M.timeout(op, size)
  local per_mb = PER_MB[op]
  if per_mb then
    return math.max(10 * SEC, math.floor(per_mb * (size or 0) / MB))
  end
  return FIXED_TIMEOUTS[op] or M.DEFAULT_TIMEOUT
end

--- The data checksum: 0xEF XORed with every byte. XORs 64 bytes per
--- string.unpack and folds the 8-byte lanes at the end (some 30× faster
--- than byte by byte on a 16 KiB block).
function M.checksum(data)
  local n, acc, i = #data, 0, 1
  local unpack = string.unpack
  while i + 63 <= n do
    local a, b, c, d, e, f, g, h = unpack("<i8i8i8i8i8i8i8i8", data, i)
    acc = acc ~ a ~ b ~ c ~ d ~ e ~ f ~ g ~ h
    i = i + 64
  end
  while i + 7 <= n do
    acc = acc ~ unpack("<i8", data, i)
    i = i + 8
  end
  acc = acc ~ (acc >> 32)
  acc = acc ~ (acc >> 16)
  acc = (acc ~ (acc >> 8)) & 0xFF
  local c = 0xEF ~ acc
  for j = i, n do c = c ~ data:byte(j) end
  return c
end

--- Little-endian u32 words packed into a string.
function M.words(...)
  local n = select("#", ...)
  return string.pack("<" .. string.rep("I4", n), ...)
end
local words = M.words

M.SYNC_DATA = "\x07\x07\x12\x20" .. string.rep("\x55", 32)

-- Request payloads ----------------------------------------------------------

--- FLASH_BEGIN / FLASH_DEFL_BEGIN / MEM_BEGIN payload; with `encrypted` the
--- fifth word (0) is appended, which every ROM from the ESP32-S2 on requires.
function M.begin_payload(size, blocks, block_size, offset, encrypted)
  if encrypted then return words(size, blocks, block_size, offset, 0) end
  return words(size, blocks, block_size, offset)
end

--- *_DATA payload: the 16-byte header then the block, padded to `pad_to`
--- with `pad_byte`; returns payload, checksum (over the padded block).
function M.data_payload(block, seq, pad_to, pad_byte)
  if pad_to and #block < pad_to then
    block = block .. string.rep(string.char(pad_byte or 0xFF), pad_to - #block)
  end
  return words(#block, seq, 0, 0) .. block, M.checksum(block)
end

--- WRITE_REG payload: one record (address, value, mask, delay).
function M.write_reg_payload(addr, value, mask, delay_us)
  return words(addr, value & 0xFFFFFFFF, mask or 0xFFFFFFFF, delay_us or 0)
end

--- SPI_ATTACH payload: pins packed as HD<<24|CS<<18|D<<12|Q<<6|CLK; the ROM
--- takes a second (zero) word, the stub exactly four bytes.
function M.spi_attach_payload(pins, stub)
  pins = pins or {}
  local packed = ((pins.hd or 0) << 24) | ((pins.cs or 0) << 18) | ((pins.d or 0) << 12)
    | ((pins.q or 0) << 6) | (pins.clk or 0)
  if stub then return words(packed) end
  return words(packed, 0)
end

--- SPI_SET_PARAMS payload for a flash of `total_size` bytes.
function M.spi_params_payload(total_size)
  return words(0, total_size, 0x10000, 0x1000, 0x100, 0xFFFF)
end

-- Status bytes --------------------------------------------------------------

--- Splits a response body (data + status bytes) for the ROM (4 status bytes,
--- `01 code` on failure) or the stub (2, `code 00`). Returns data, ok, code;
--- nil when the body is too short to hold the status.
function M.parse_status(body, stub)
  local n = stub and 2 or 4
  if #body < n then return nil end
  local s1, s2 = body:byte(#body - n + 1, #body - n + 2)
  local data = body:sub(1, #body - n)
  if s1 == 0 then return data, true, 0 end
  if stub then return data, false, s1 end
  return data, false, s2
end

-- The Loader ----------------------------------------------------------------

local Loader = {}
Loader.__index = Loader
M.Loader = Loader

--- A loader on `port`; `opts.stub` says the stub is answering.
function M.new(port, opts)
  opts = opts or {}
  return setmetatable({ port = port, stub = opts.stub or false }, Loader)
end

local function failure(code, message, hint)
  return errors.new(code, message, hint)
end

--- The error for Ctrl-C (exit status 130).
function M.interrupted_error(msg)
  local e = errors.new("espflash::interrupted", msg or "Interrupted by Ctrl-C")
  e.exit = errors.EXIT_INTERRUPTED
  return e
end

--- Raises the Ctrl-C error.
function M.raise_interrupted(msg)
  error(M.interrupted_error(msg), 0)
end

--- Turns a core fail triple into an error record for command `op`.
function M.port_failure(op, msg, code)
  local name = M.NAMES[op] or string.format("0x%02X", op)
  if code == "TIMEOUT" then
    return failure(M.TIMEOUT, string.format("Timeout while running %s command", name),
      "Ensure the device is connected and still in download mode")
  elseif code == "INTERRUPTED" then
    return M.interrupted_error()
  end
  return failure("espflash::serial_error",
    "IO error while using serial port: " .. tostring(msg or code):gsub("^[%u_]+: ", ""))
end

--- Reads and discards input for `ms` milliseconds (after an unsupported
--- command the ROM may repeat its error reply up to eight times).
function Loader:drain(ms)
  local deadline = core.now() + ms / 1000
  while core.now() < deadline do
    local _, err, code = self.port:read(4096, 20)
    if code == "INTERRUPTED" then return nil, err, code end
  end
  self.port:flush_input()
  return true
end

--- Sends command `op` with payload `data` and returns value, data (the
--- response data without status bytes), or nil and an error object
--- (`espflash.errors`: `{code, message, hint}`). `opts.timeout` (ms)
--- defaults to espflash's timeout for the command (`opts.size`: the byte
--- count size-scaled timeouts use), `opts.checksum` to 0.
function Loader:try(op, data, opts)
  opts = opts or {}
  data = data or ""
  local timeout = opts.timeout or M.timeout(op, opts.size)
  return self:_answer(op, self.port:command(op, data, opts.checksum or 0, timeout))
end

-- Turns port:command's (or read_response's) results for `op` into value,
-- data or nil, error.
function Loader:_answer(op, rop, value, body)
  if not rop then return nil, M.port_failure(op, value, body) end
  local name = M.NAMES[op] or string.format("0x%02X", op)
  if rop ~= op then
    -- ROM "stale opcode" reply: the command is not supported (or not allowed).
    -- The ROM repeats a reply whose opcode is SYNC eight times: read the
    -- other seven rather than waiting a fixed time for them.
    if rop == OP.SYNC then
      for _ = 1, 7 do
        local frame, f_err, f_code = self.port:read_frame(M.timeout(OP.SYNC))
        if not frame then
          if f_code ~= "TIMEOUT" then return nil, M.port_failure(op, f_err, f_code) end
          break
        end
      end
    end
    return nil, failure(M.UNSUPPORTED, string.format("The loader does not support the %s command", name))
  end
  local rdata, ok, code = M.parse_status(body, self.stub)
  if not rdata then
    return nil, failure("espflash::invalid_response",
      string.format("Invalid response: %s reply of %d bytes has no status", name, #body))
  end
  if ok then return value, rdata end
  if self.stub and (code == 0xC3 or code == 0xFF) then
    return nil, failure(M.UNSUPPORTED, string.format("The flasher stub does not support the %s command", name))
  end
  local e = M.ERRORS[code]
  local detail = e and e[2] or string.format("Other(0x%02x)", code)
  return nil, failure(e and e[1] or "espflash::rom::other",
    string.format("Error while running %s command: %s", name, detail))
end

--- Like `try` but raises the error.
function Loader:command(op, data, opts)
  local value, rdata = self:try(op, data, opts)
  if value == nil then error(rdata, 0) end
  return value, rdata
end

--- Runs `cmds` (a list of `{op, data, opts}`, opts as for `try`) two at a
--- time: the second request is sent before the first answer has arrived,
--- saving a turnaround per pair. Two is what every loader takes safely: the
--- stub has two receive buffers; the ROM reads its UART between commands,
--- so with the ROM the first of a pair must be short (≤ 1 KiB, handled at
--- once) — the second may be long. The device handles them in order, so a
--- pair may depend on its first half (a read after a write sees the write).
--- Returns a list of `{value, data}`; raises the first error (after
--- collecting the other answer), except for commands whose opts say
--- `try = true`: their entry is `{nil, err}`.
function Loader:pipeline(cmds)
  local port, out, i = self.port, {}, 1
  -- only a Port itself: a wrapper that intercepts `command` (a test proxy,
  -- a fault model) must see every command, so it gets them one at a time
  local two = type(port) == "userdata"
  while i <= #cmds do
    local a = cmds[i]
    local b = two and (self.stub or #(a[2] or "") <= 1024) and cmds[i + 1]
    if not b then
      local o = a[3] or {}
      out[i] = { (o.try and self.try or self.command)(self, a[1], a[2], o) }
      i = i + 1
    else
      for _, c in ipairs({ a, b }) do
        local sent, msg, code = port:send_command(c[1], c[2] or "", (c[3] or {}).checksum or 0)
        if not sent then error(M.port_failure(c[1], msg, code), 0) end
      end
      local first_err
      for k, c in ipairs({ a, b }) do
        local o = c[3] or {}
        local rop, value, body = port:read_response(c[1], o.timeout or M.timeout(c[1], o.size))
        local v, data = self:_answer(c[1], rop, value, body)
        out[i + k - 1] = { v, data }
        if v == nil and not o.try then
          -- no answer at all (timeout, port gone): stop here, as one command
          -- at a time would; an error answer still lets the other one be read
          if not rop then error(data, 0) end
          first_err = first_err or data
        end
      end
      if first_err then error(first_err, 0) end
      i = i + 2
    end
  end
  return out
end

--- READ_REG of each address in `addrs`, two requests in flight (see
--- `pipeline`); returns the values in order.
function Loader:read_regs(addrs)
  local cmds = {}
  for i, a in ipairs(addrs) do cmds[i] = { OP.READ_REG, words(a) } end
  local values = {}
  for i, r in ipairs(self:pipeline(cmds)) do values[i] = r[1] end
  return values
end

--- READ_REG: the 32-bit word at `addr`.
function Loader:read_reg(addr)
  return (self:command(OP.READ_REG, words(addr)))
end

--- WRITE_REG of one word (masked; optional delay before the write).
function Loader:write_reg(addr, value, mask, delay_us)
  self:command(OP.WRITE_REG, M.write_reg_payload(addr, value, mask, delay_us))
end

return M
