-- The property fuzz_partitions checks for each input, shared with the
-- corpus replay in tests/spec/partitions_roundtrip_spec.lua (so the
-- regression inputs run in every test run, not only in a libFuzzer build).
--
-- Any bytes give a table or an espflash error object. A table that parses
-- and validates survives binary → table unchanged, and CSV → table
-- unchanged, unless a name cannot survive CSV (leading or trailing
-- whitespace, a line break, bytes that are not UTF-8 — a 16-byte cut of a
-- binary name can leave any of them): then to_csv refuses with an error
-- object, and refuses nothing else (but flag bits CSV cannot name). The
-- checks the flasher runs give a result or an error object.
local partitions = require("espflash.partitions")
local pcsv = require("espflash.partitions_csv")
local errors = require("espflash.errors")

local function same(a, b)
  if #a.partitions ~= #b.partitions then return false, "count" end
  for i, p in ipairs(a.partitions) do
    local q = b.partitions[i]
    for _, k in ipairs({ "name", "type", "subtype", "offset", "size" }) do
      if p[k] ~= q[k] then return false, k end
    end
  end
  return true
end

return function(bytes)
  pcall(function() partitions.parse(bytes, { validate = false }):to_csv() end)
  local ok, t = pcall(partitions.parse, bytes, { validate = false })
  if not ok then error(t, 0) end
  pcall(t.to_csv, t)
  t:to_binary()
  t = partitions.parse(bytes)
  local same_bin, k2 = same(t, partitions.parse(t:to_binary()))
  if not same_bin then error("a valid table changes its " .. tostring(k2) .. " through binary") end
  local writable = true
  for _, p in ipairs(t.partitions) do writable = writable and pcsv.name_writable(p.name) end
  local okc, csv = pcall(t.to_csv, t)
  if not okc then
    if not errors.is(csv) then error(csv, 0) end
    if writable and not csv.message:find("flag bits", 1, true) then
      error("to_csv refused a table whose names CSV can carry: " .. csv.message)
    end
  else
    if not writable then error("to_csv wrote a name CSV cannot carry:\n" .. csv) end
    local same_csv, k1 = same(t, partitions.parse(csv))
    if not same_csv then error("a valid table changes its " .. tostring(k1) .. " through CSV:\n" .. csv) end
  end
  t:check_layout({ flash_size = 16 * 1024 * 1024, flash_size_name = "16MB",
    table_offset = t:offset(), bootloader_offset = 0, bootloader_size = 0x8000 })
  t:app_partition()
end
