--- Connecting to a chip: open the port, reset into download mode and sync,
--- detect Secure Download Mode and the chip, upload the flasher stub, attach
--- the SPI flash and detect its size, change the baud rate
--- (espflash-reference.md §2.3-§2.4, protocol.md §3-§6).
---
---     local dev <close> = require("espflash.connect").connect{ port = "sim://esp32c3" }
---
--- The module table is also callable: `require("espflash.connect"){...}`.
local core = require("espflash.core")
local errors = require("espflash.errors")
local loader = require("espflash.loader")
local reset = require("espflash.reset")

local OP, words = loader.OP, loader.words

local M = {}

M.MAX_CONNECT_ATTEMPTS = 7
M.MAX_SYNC_ATTEMPTS = 5
M.MAGIC_REG = 0x40001000
M.MEM_BLOCK = 0x1800
M.DEFAULT_BAUD = 115200

local function log(opts, level, msg)
  if opts.log then opts.log(level, msg) end
end

-- Raises for failures no retry can fix (Ctrl-C, a port that went away);
-- timeouts and garbage fall through to the caller's retry loop.
local function check_fatal(code, msg)
  if code == "INTERRUPTED" then loader.raise_interrupted(msg) end
  if code == "PORT_GONE" or code == "PORT_IO" then
    errors.raise("espflash::serial_error", "IO error while using serial port: "
      .. tostring(msg):gsub("^[%u_]+: ", ""))
  end
end

--- Opens a port by URL: `sim://CHIP[?…]` (the in-process virtual device),
--- `socket://HOST:PORT` or a device path. Raises on failure.
function M.open(url, opts)
  opts = opts or {}
  local copts = { baud = opts.baud or M.DEFAULT_BAUD }
  if url:match("^sim://") then
    copts.sim = require("espflash.sim").open(url)
  end
  local port, msg, code = core.open(url, copts)
  if not port then
    msg = tostring(msg):gsub("^[%u_]+: ", "")
    if code == "PORT_NOT_FOUND" then
      errors.raise("espflash::serial_not_found",
        string.format("The serial port '%s' could not be found: %s", url, msg),
        "Make sure the correct device is connected to the host system")
    end
    errors.raise("espflash::serial_error", string.format("Failed to open serial port %s: %s", url, msg))
  end
  return port
end

-- Reads whatever the device has already sent (the boot log after a reset).
local function pending_text(port)
  local parts = { port:take_noise() or "" }
  repeat
    local s, msg, code = port:read(4096, 0)
    check_fatal(code, msg)
    parts[#parts + 1] = s or ""
  until s == nil or s == ""
  return table.concat(parts)
end

--- Looks for the ROM boot log in `text`: returns the boot mode ("0x…") and
--- whether "waiting for download" follows it, or nil.
function M.parse_boot_log(text)
  local s, e, mode = text:find("boot:(0x%x+)")
  if not s then return nil end
  return mode, text:find("waiting for download", e + 1, true) ~= nil
end

local function parse_frame(frame)
  if #frame < 8 then return nil end
  local dir, op, _, value = string.unpack("<BBI2I4", frame)
  return dir, op, value, frame:sub(9)
end

--- One SYNC exchange: the first reply through `port:command`, then the seven
--- further replies the loader sends. Returns true and whether the stub
--- answered (value 0, 2 status bytes), or nil.
function M.sync(port)
  port:flush_input()
  local op, value, body = port:command(OP.SYNC, loader.SYNC_DATA, 0, loader.timeout(OP.SYNC))
  if not op then check_fatal(body, value); return nil end
  local stub = #body == 2
  local _, ok = loader.parse_status(body, stub)
  if op ~= OP.SYNC or not ok then return nil end
  local all_zero = value == 0
  -- the other seven replies are read as they come (espflash sleeps 10 ms
  -- first, which only delays them)
  for _ = 1, 7 do
    local frame, msg, code = port:read_frame(loader.timeout(OP.SYNC))
    if not frame then check_fatal(code, msg); return nil end
    local dir, rop, v, b = parse_frame(frame)
    if dir ~= 1 or rop ~= OP.SYNC then return nil end
    local _, fine = loader.parse_status(b, #b == 2)
    if not fine then return nil end
    all_zero = all_zero and v == 0
  end
  return true, stub and all_zero
end

--- Resets into download mode and syncs: up to 7 attempts cycling the reset
--- strategies, up to 5 SYNCs each. Returns whether the stub already runs.
--- Raises espflash::no_sync_reply, ::wrong_boot_mode or ::connection_failed.
function M.begin(port, opts)
  local before = opts.before or "default-reset"
  local strategies = reset.strategies(before, opts.usb_pid)
  local diagnosis
  for attempt = 1, M.MAX_CONNECT_ATTEMPTS do
    local boot_mode, download
    if before ~= "no-reset" then
      strategies[(attempt - 1) % #strategies + 1].run(port)
      boot_mode, download = M.parse_boot_log(pending_text(port))
    end
    for _ = 1, M.MAX_SYNC_ATTEMPTS do
      local ok, stub = M.sync(port)
      if ok then return stub end
    end
    diagnosis = boot_mode and { boot_mode, download } or diagnosis
  end
  if diagnosis and diagnosis[2] then
    errors.raise("espflash::no_sync_reply",
      "Download mode successfully detected, but getting no sync reply",
      "The serial TX path seems to be down")
  elseif diagnosis then
    errors.raise("espflash::wrong_boot_mode",
      string.format("Wrong boot mode detected (%s)! The chip needs to be in download mode.", diagnosis[1]),
      "Reset the chip with its boot strap (GPIO0/GPIO9) held low, or check the DTR/RTS wiring")
  end
  errors.raise("espflash::connection_failed", "Failed to connect to the device",
    "Ensure that the device is connected and the reset and boot pins are not being held down")
end

--- Parses a GET_SECURITY_INFO reply (protocol.md §4.2).
function M.parse_security_info(data)
  if #data < 12 then return nil end
  local info = { flags = string.unpack("<I4", data), flash_crypt_cnt = data:byte(5),
                 key_purposes = { data:byte(6, 12) } }
  if #data >= 20 then
    info.chip_id, info.api_version = string.unpack("<I4I4", data, 13)
  end
  return info
end

--- GET_SECURITY_INFO through `ld`; nil and an error record when it fails.
function M.security_info(ld)
  local value, data = ld:try(OP.GET_SECURITY_INFO, "")
  if value == nil then return nil, data end
  return M.parse_security_info(data)
end

--- Detects Secure Download Mode and the chip. Returns chip table, sdm flag,
--- security info (nil on ESP32). GET_SECURITY_INFO and the magic register
--- read go out together (Loader:pipeline); either may be refused (no
--- security info on the ESP32, no register reads in Secure Download Mode).
function M.detect(ld, chips)
  local r = ld:pipeline({ { OP.GET_SECURITY_INFO, "", { try = true } },
                          { OP.READ_REG, words(M.MAGIC_REG), { try = true } } })
  local sec = r[1][1] ~= nil and M.parse_security_info(r[1][2]) or nil
  local sdm, magic = false, r[2][1]
  if sec then
    sdm = sec.flags & 4 ~= 0
  else
    sdm = magic == nil
  end
  local chip = sec and sec.chip_id and chips.by_chip_id(sec.chip_id)
  if not chip and sdm and sec then
    chip = chips.get("esp32s2") -- the only chip whose security info has no id
  end
  if not chip then
    magic = magic or ld:read_reg(M.MAGIC_REG)
    chip = chips.by_magic(magic)
    if not chip then
      errors.raise("espflash::chip_detect_error",
        string.format("Unrecognized magic value: 0x%x", magic),
        "Supported chips are: " .. table.concat(chips.names(), ", ")
          .. ". If your chip is supported, try hard-resetting the device and try again")
    end
  end
  return chip, sdm, sec
end

-- MEM_BEGIN / MEM_DATA commands loading `bin` to RAM at `addr` (0x1800
-- blocks), appended to `cmds`.
local function mem_commands(addr, bin, cmds)
  bin = bin .. string.rep("\0", (4 - #bin % 4) % 4)
  local blocks = (#bin + M.MEM_BLOCK - 1) // M.MEM_BLOCK
  cmds[#cmds + 1] = { OP.MEM_BEGIN, loader.begin_payload(#bin, blocks, M.MEM_BLOCK, addr) }
  for seq = 0, blocks - 1 do
    local payload, ck = loader.data_payload(bin:sub(seq * M.MEM_BLOCK + 1, (seq + 1) * M.MEM_BLOCK), seq)
    cmds[#cmds + 1] = { OP.MEM_DATA, payload, { checksum = ck } }
  end
  return cmds
end

--- Uploads `bin` to RAM at `addr` with MEM_BEGIN / MEM_DATA (0x1800 blocks),
--- two requests in flight (Loader:pipeline).
function M.mem_load(ld, addr, bin)
  ld:pipeline(mem_commands(addr, bin, {}))
end

--- Uploads and starts the flasher stub (pipelined: 3 round trips for the
--- usual text, data and MEM_END, not 5-6), then waits for its "OHAI".
function M.load_stub(ld, stub)
  local cmds = mem_commands(stub.text_start, stub.text, {})
  if stub.data and #stub.data > 0 then mem_commands(stub.data_start, stub.data, cmds) end
  cmds[#cmds + 1] = { OP.MEM_END, words(stub.entry == 0 and 1 or 0, stub.entry) }
  ld:pipeline(cmds)
  local frame, msg, code = ld.port:read_frame(3000)
  check_fatal(code, msg)
  if frame ~= "OHAI" then
    errors.raise("espflash::invalid_stub_handshake", "Invalid stub handshake response received",
      "Try hard-resetting the device and connecting again")
  end
  ld.stub = true
end

--- A `read(addr)` for the chip tables' decoders that reads each register
--- once. With `probe`, a function of such a `read`, the registers the probe
--- touches (found by running it on zeros) are fetched first, two requests in
--- flight (Loader:read_regs); one it did not foresee is read when asked for.
function M.register_reader(ld, probe)
  local cache = {}
  if probe then
    local want, seen = {}, {}
    pcall(probe, function(addr)
      if not seen[addr] then seen[addr], want[#want + 1] = true, addr end
      return 0
    end)
    for i, v in ipairs(ld:read_regs(want)) do cache[want[i]] = v end
  end
  return function(addr)
    local v = cache[addr]
    if v == nil then
      v = ld:read_reg(addr)
      cache[addr] = v
    end
    return v
  end
end

-- SPI flash (espflash.connect_spi) ---------------------------------------------

local spi = require("espflash.connect_spi")
M.DEFAULT_FLASH_SIZE = spi.DEFAULT_FLASH_SIZE
M.PICO_D4_PINS = spi.PICO_D4_PINS
M.flash_size_from_id = spi.flash_size_from_id
M.spi_command = spi.spi_command
M.attach_flash = spi.attach_flash

--- The first word of the ROM's CHANGE_BAUDRATE for `baud`, corrected for
--- the clock the ROM assumes (protocol.md §5.6): the ESP32 ROM divides its
--- RTC-calibrated estimate of the crystal, the ESP32-C2 ROM assumes 40 MHz
--- on a 26 MHz crystal. Nil when the rate the link ends up at cannot be
--- predicted well enough to upload the stub at it: the ESP32-C5 and ESP32-H2
--- (crystal not 40 MHz, ROM expectation not modelled here), and an ESP32
--- whose calibration is more than 0.5 % off (stub 2 may re-derive the rate
--- from the ROM's figure). `read(addr)` reads a register.
function M.rom_baud_word(chip, baud, read)
  if chip.name == "esp32" then
    local cali = (read(chip.rtc_cali) >> 7) & 0x1FFFFFF
    local rom_hz = cali * 15625 * chip.efuse.ck8m:get(read) / 40
    local real_hz = rom_hz > 33e6 and 40e6 or 26e6
    if math.abs(rom_hz - real_hz) > real_hz * 0.005 then return nil end
    return math.floor(baud * rom_hz / real_hz)
  elseif chip.name == "esp32c2" then
    return chip.xtal(read, 115200) == 26 and baud * 40 // 26 or baud
  end
  return chip.default_xtal_mhz == 40 and baud or nil
end

--- Changes the baud rate: CHANGE_BAUDRATE(new, prior) — prior is the current
--- baud with the stub, 0 with the ROM; the ESP32-C2 ROM with a 26 MHz crystal
--- gets new × 40 / 26 (or `word`, from rom_baud_word, is sent as is). Then
--- the host switches, waits 50 ms (the device's own switch) and flushes.
function M.change_baud(ld, chip, baud, xtal_mhz, word)
  local port = ld.port
  local sent = word or baud
  if not word and not ld.stub and chip.name == "esp32c2" and xtal_mhz == 26 then sent = baud * 40 // 26 end
  ld:command(OP.CHANGE_BAUDRATE, words(sent, ld.stub and port:baud() or 0))
  local set, msg, code = port:set_baud(baud)
  if not set then
    check_fatal(code, msg)
    errors.raise("espflash::serial_error", string.format("Cannot set the host port to %d baud: %s", baud,
      tostring(msg):gsub("^[%u_]+: ", "")))
  end
  local slept, smsg = core.sleep(50)
  if not slept then loader.raise_interrupted(smsg) end
  port:flush_input()
end

--- Connects and returns a device object (`espflash.device`). Options:
--- `port` (URL or an open Port), `baud`, `chip`, `before`, `after`,
--- `stub` (default true), `usb_pid`, `log = function(level, msg)`.
function M.connect(opts)
  opts = opts or {}
  local chips = require("espflash.chips")
  local device = require("espflash.device")
  local before = opts.before or "default-reset"
  if type(opts.port) ~= "string" and type(opts.port) ~= "userdata" and type(opts.port) ~= "table" then
    errors.raise("espflash::invalid_argument", "connect needs a port: a URL (sim://CHIP, socket://HOST:PORT, "
      .. "a device path) or an open Port")
  end
  local want, why
  if opts.chip then
    want, why = chips.get(opts.chip)
    if not want then errors.usage(why) end
  end
  if before == "no-reset-no-sync" and not want then
    errors.raise("espflash::chip_not_provided",
      "Chip not argument provided, this is required when using the `--before no-reset-no-sync` option",
      "Ensure that you provide the `-c/--chip` option with the proper chip")
  end
  local owns = type(opts.port) == "string"
  local port = owns and M.open(opts.port) or opts.port
  local ok, dev = pcall(function()
    local use_stub = opts.stub ~= false
    local ld = loader.new(port)
    local state = { chip = want, sdm = false, flash_size = M.DEFAULT_FLASH_SIZE }
    if before == "no-reset-no-sync" then
      ld.stub = use_stub -- assume a stub left running by `--after no-reset-no-stub`
    else
      ld.stub = M.begin(port, opts) or false
      if ld.stub then
        log(opts, use_stub and "info" or "warn", use_stub and "Flasher stub already running"
          or "The flasher stub is already running: --no-stub needs a reset of the chip to take effect")
      end
      local chip, sdm, sec = M.detect(ld, chips)
      if want and want.name ~= chip.name then
        errors.raise("espflash::chip_mismatch",
          string.format("Chip provided with `-c/--chip` (%s) does not match the detected chip (%s)",
            want.name, chip.name),
          "Ensure that the correct chip is selected, or remove the `-c/--chip` option to autodetect the chip")
      end
      state.chip, state.sdm, state.security = chip, sdm, sec
      local read
      local faster = opts.baud and opts.baud > M.DEFAULT_BAUD and not sdm
      local function warn_baud() log(opts, "warn", "Setting baud rate higher than 115,200 can cause issues") end
      if sdm then
        if use_stub then log(opts, "warn", "Stub is not supported in Secure Download Mode, setting --no-stub") end
      else
        if use_stub and not ld.stub then log(opts, "info", "Using flash stub") end
        -- The ROM changes the baud rate itself, so the revision reads, the
        -- stub upload and everything after run at the new rate (the stub
        -- keeps it): the stub upload alone takes 0.5-0.6 s at 115200.
        local word
        if faster and not ld.stub then
          word = M.rom_baud_word(chip, opts.baud,
            M.register_reader(ld, function(r) return M.rom_baud_word(chip, opts.baud, r) end))
        end
        if word then
          warn_baud()
          M.change_baud(ld, chip, opts.baud, nil, word)
          faster = false
        end
        read = M.register_reader(ld, chip.revision)
        local major, minor = chip.revision(read)
        state.revision = { major = major, minor = minor }
        if use_stub and not ld.stub then
          M.load_stub(ld, require("espflash.stubs").load(chip, state.revision))
        end
        state.flash_size, state.jedec = M.attach_flash(ld, chip, function(msg) log(opts, "warn", msg) end)
      end
      if faster then
        warn_baud()
        -- only the ESP32-C2 ROM needs the crystal (its 26 MHz correction)
        local xtal = chip.name == "esp32c2" and not ld.stub and chip.xtal(read, port:baud()) or nil
        M.change_baud(ld, chip, opts.baud, xtal)
      end
    end
    return device.new{
      port = port, loader = ld, chip = state.chip, revision = state.revision,
      sdm = state.sdm, security = state.security, flash_size = state.flash_size, jedec = state.jedec,
      after = opts.after or "hard-reset", usb_pid = opts.usb_pid, owns_port = owns, log = opts.log,
    }
  end)
  if not ok then
    if owns then port:close() end
    error(dev, 0)
  end
  return dev
end

return setmetatable(M, { __call = function(_, opts) return M.connect(opts) end })
