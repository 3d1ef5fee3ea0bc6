--- The SPI flash part of connecting (protocol.md §6): SPI_ATTACH, the JEDEC
--- id through the SPI1 user-command registers, SPI_SET_PARAMS. Reached
--- through `espflash.connect` (attach_flash, spi_command, flash_size_from_id).
---
--- Requests go two at a time (Loader:pipeline) and register writes as
--- multi-record WRITE_REGs, which ROM and stubs process in order: attach,
--- id and parameters take 4 round trips where one command at a time needs 9.
local core = require("espflash.core")
local errors = require("espflash.errors")
local loader = require("espflash.loader")

local OP, words = loader.OP, loader.words

local M = {}

M.DEFAULT_FLASH_SIZE = 4 * 1024 * 1024
M.PICO_D4_PINS = { clk = 6, q = 17, d = 8, hd = 11, cs = 16 }

local SIZE_IDS = {
  [0x12] = 18, [0x32] = 18, [0x13] = 19, [0x33] = 19, [0x14] = 20, [0x34] = 20,
  [0x15] = 21, [0x35] = 21, [0x16] = 22, [0x36] = 22, [0x17] = 23, [0x37] = 23,
  [0x18] = 24, [0x38] = 24, [0x19] = 25, [0x39] = 25, [0x20] = 26, [0x1A] = 26,
  [0x3A] = 26, [0x21] = 27, [0x1B] = 27, [0x22] = 28, [0x1C] = 28,
}

--- Flash size in bytes for a JEDEC capacity byte, or nil (reference §2.4).
function M.flash_size_from_id(size_id)
  local log2 = SIZE_IDS[size_id]
  return log2 and 1 << log2
end

-- Runs an SPI user command (`command`, `read_bits` of answer) after the
-- commands `before`, pipelined with them: save USR/USR2, set up and start the
-- command in one WRITE_REG, poll and read W0, restore USR/USR2 together with
-- the commands `after(w0)` returns. Returns W0.
local function run(ld, chip, command, read_bits, before, after)
  local spi = chip.spi
  local base = spi.base
  local rec = loader.write_reg_payload
  local cmds = {}
  for _, c in ipairs(before) do cmds[#cmds + 1] = c end
  local n = #cmds
  cmds[n + 1] = { OP.READ_REG, words(base + spi.usr) }
  cmds[n + 2] = { OP.READ_REG, words(base + spi.usr2) }
  cmds[n + 3] = { OP.WRITE_REG, rec(base + spi.usr, (1 << 31) | (read_bits > 0 and 1 << 28 or 0))
    .. rec(base + spi.usr2, (7 << 28) | command)
    .. (read_bits > 0 and rec(base + spi.miso_dlen, read_bits - 1) or "")
    .. rec(base + spi.w0, 0) .. rec(base, 1 << 18) }
  local r = ld:pipeline(cmds)
  local old_usr, old_usr2 = r[n + 1][1], r[n + 2][1]
  -- the command register is read before W0: W0 counts once the command is done
  local polled = ld:pipeline({ { OP.READ_REG, words(base) }, { OP.READ_REG, words(base + spi.w0) } })
  local busy, result = polled[1][1] & (1 << 18) ~= 0, polled[2][1]
  for _ = 1, 10 do
    if not busy then break end
    core.sleep(1)
    busy = ld:read_reg(base) & (1 << 18) ~= 0
    if not busy then result = ld:read_reg(base + spi.w0) end
  end
  if busy then
    errors.raise(loader.TIMEOUT, "Timeout while running FlashDetect command")
  end
  local tail = { { OP.WRITE_REG, rec(base + spi.usr, old_usr) .. rec(base + spi.usr2, old_usr2) } }
  for _, c in ipairs(after and after(result) or {}) do tail[#tail + 1] = c end
  ld:pipeline(tail)
  return result
end

--- Runs one SPI flash command through the chip's SPI1 user-command registers
--- (protocol.md §6.1) and returns the W0 word with `read_bits` of answer.
function M.spi_command(ld, chip, command, read_bits)
  return run(ld, chip, command, read_bits, {})
end

--- SPI_ATTACH (default pins, then the ESP32-PICO-D4 set while the capacity
--- byte reads 0xFF), JEDEC id detection and SPI_SET_PARAMS. Returns the
--- flash size in bytes and the JEDEC id; `warn(msg)` gets the unknown-size warning.
function M.attach_flash(ld, chip, warn)
  for _, pins in ipairs({ {}, M.PICO_D4_PINS }) do
    local size, id
    local attach = { OP.SPI_ATTACH, loader.spi_attach_payload(pins, ld.stub), { try = true } }
    run(ld, chip, 0x9F, 24, { attach }, function(w0)
      id = w0 & 0xFFFFFF
      local size_id = id >> 16
      if size_id == 0xFF then return {} end
      size = M.flash_size_from_id(size_id)
      if not size then
        warn(string.format("Could not detect flash size (FlashID=0x%02X, SizeID=0x%02X), defaulting to 4MB",
          id, size_id))
        size = M.DEFAULT_FLASH_SIZE
      end
      return { { OP.SPI_SET_PARAMS, loader.spi_params_payload(size) } }
    end)
    if size then return size, id end
  end
  errors.raise("espflash::flash_connect", "Failed to connect to on-device flash",
    "Check the flash chip's wiring and power")
end

return M
