--- The chip index: every supported chip's table (lua/espflash/chips/<name>.lua)
--- by name, by GET_SECURITY_INFO chip id and by the magic word at 0x40001000.
local M = {}

-- espflash's order (its `Chip` enum, alphabetical); the magic lookup takes the
-- first match in this order, so 0x00000000 means the ESP32-P4, not the S31.
local NAMES = {
  "esp32", "esp32c2", "esp32c3", "esp32c5", "esp32c6", "esp32c61",
  "esp32h2", "esp32p4", "esp32s2", "esp32s3", "esp32s31",
}

local KNOWN = {}
for _, n in ipairs(NAMES) do KNOWN[n] = true end

--- The chip names, in espflash's order (a fresh list).
function M.names()
  return table.move(NAMES, 1, #NAMES, 1, {})
end

--- The canonical name for `name` ("ESP32-C3" and "esp32c3" both give "esp32c3"), or nil.
function M.canonical(name)
  if type(name) ~= "string" then return nil end
  local n = name:lower():gsub("[-_]", "")
  if KNOWN[n] then return n end
  return nil
end

--- The chip table for `name`, or nil and a message listing the valid names.
function M.get(name)
  local n = M.canonical(name)
  if not n then
    return nil, string.format("unknown chip '%s' (valid chips: %s)",
      tostring(name), table.concat(NAMES, ", "))
  end
  return require("espflash.chips." .. n)
end

--- Every chip table, in espflash's order.
function M.all()
  local list = {}
  for i, n in ipairs(NAMES) do list[i] = require("espflash.chips." .. n) end
  return list
end

--- The chip whose GET_SECURITY_INFO / image chip id is `id`, or nil.
function M.by_chip_id(id)
  for _, chip in ipairs(M.all()) do
    if chip.chip_id == id then return chip end
  end
  return nil
end

--- The first chip (in espflash's order) whose magic list holds `word`, or nil.
function M.by_magic(word)
  for _, chip in ipairs(M.all()) do
    for _, m in ipairs(chip.magic) do
      if m == word then return chip end
    end
  end
  return nil
end

return M
