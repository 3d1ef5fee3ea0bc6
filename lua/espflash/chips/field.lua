--- eFuse and register bit fields: `{addr, shift, width}` records that decode
--- from a `read(addr)` function and encode into a register table (for the
--- virtual device), so one description serves both directions.
local M = {}
M.__index = M

--- A field of `width` bits at bit `shift` of the word at `addr`.
local function new(addr, shift, width)
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

return setmetatable({ mac_bytes = M.mac_bytes }, { __call = function(_, ...) return new(...) end })
