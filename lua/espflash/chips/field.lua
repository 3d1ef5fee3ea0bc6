--- eFuse and register bit fields: `{addr, shift, width}` records that decode
--- from a `read(addr)` function and encode into a register table (for the
--- virtual device), so one description serves both directions.
local M = {}
M.__index = M

--- A field of `width` bits at bit `shift` of the word at `addr`.
local function new(addr, shift, width)
  assert(shift >= 0 and width >= 1 and shift + width <= 32, "field does not fit in a 32-bit word")
  return setmetatable({ addr = addr, shift = shift, width = width }, M)
end

--- The field's value, given `read(addr) -> u32`.
function M:get(read)
  local mask = (1 << self.width) - 1
  return (read(self.addr) >> self.shift) & mask
end

--- Stores `value` into the register table `regs` (addr -> u32).
function M:set(regs, value)
  local mask = ((1 << self.width) - 1) << self.shift
  local old = regs[self.addr] or 0
  regs[self.addr] = (old & ~mask | (value << self.shift) & mask) & 0xFFFFFFFF
end

--- Six MAC bytes from the MAC0 (bytes 2..5, big-endian) and MAC1 (bytes 0..1) words.
function M.mac_bytes(mac0, mac1)
  return { (mac1 >> 8) & 0xFF, mac1 & 0xFF, (mac0 >> 24) & 0xFF,
           (mac0 >> 16) & 0xFF, (mac0 >> 8) & 0xFF, mac0 & 0xFF }
end

--- The MAC0 and MAC1 values for six MAC bytes (the inverse of `mac_bytes`).
function M.mac_words(b)
  local mac0 = b[3] << 24 | b[4] << 16 | b[5] << 8 | b[6]
  local mac1 = b[1] << 8 | b[2]
  return mac0, mac1
end

local export = { mac_bytes = M.mac_bytes, mac_words = M.mac_words }
return setmetatable(export, { __call = function(_, ...) return new(...) end })
