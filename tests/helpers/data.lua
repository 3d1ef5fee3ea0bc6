--- Test data the specs generate.
local M = {}

--- `n` pseudo-random bytes from a linear congruential generator seeded with
--- `seed` (default 12345): the same bytes on every run, incompressible enough
--- for write and MD5 tests.
function M.bytes(n, seed)
  local t, x = {}, seed or 12345
  for i = 1, n do
    x = (x * 1103515245 + 12345) & 0x7FFFFFFF
    t[i] = string.char((x >> 16) & 0xFF)
  end
  return table.concat(t)
end

return M
