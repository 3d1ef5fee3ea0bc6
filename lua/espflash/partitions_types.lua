--- Partition types, subtypes and flags: their names in ESP-IDF CSV files and
--- their numbers in the binary table (ESP-IDF 5.5's gen_esp32part.py).
local M = {}

--- Type numbers by name. `bootloader` and `partition_table` are ESP-IDF
--- 5.3+ names that esp-idf-part (espflash) does not know.
M.TYPES = { app = 0x00, data = 0x01, bootloader = 0x02, partition_table = 0x03 }

local function ota_names()
  local t = { factory = 0x00, test = 0x20, tee_0 = 0x30, tee_1 = 0x31 }
  for i = 0, 15 do t["ota_" .. i] = 0x10 + i end
  return t
end

--- Subtype numbers by name, per type number.
M.SUBTYPES = {
  [0x00] = ota_names(),
  [0x01] = { ota = 0x00, phy = 0x01, nvs = 0x02, coredump = 0x03, nvs_keys = 0x04,
             efuse = 0x05, undefined = 0x06, esphttpd = 0x80, fat = 0x81, spiffs = 0x82,
             littlefs = 0x83, tee_ota = 0x90, tee_sec_stg = 0x91 },
  [0x02] = { primary = 0x00, ota = 0x01, recovery = 0x02 },
  [0x03] = { primary = 0x00, ota = 0x01 },
}

--- The data subtypes `flash --erase-data-parts` accepts (espflash's list).
M.ERASE_DATA_TYPES = { "ota", "phy", "nvs", "coredump", "nvs_keys", "efuse", "undefined",
                       "esphttpd", "fat", "spiffs", "littlefs" }

--- Flag bits by name.
M.FLAGS = { encrypted = 0x1, readonly = 0x2 }
local FLAG_ORDER = { "encrypted", "readonly" }

local function invert(t)
  local r = {}
  for k, v in pairs(t) do r[v] = k end
  return r
end

local TYPE_NAMES = invert(M.TYPES)
local SUBTYPE_NAMES = {}
for ty, list in pairs(M.SUBTYPES) do SUBTYPE_NAMES[ty] = invert(list) end

--- The name of a type number ("app"), or "0x40" for custom types.
function M.type_name(ty)
  return TYPE_NAMES[ty] or ("0x%02x"):format(ty)
end

--- The name of a subtype number for a type ("factory"), or "0x84".
function M.subtype_name(ty, sub)
  local names = SUBTYPE_NAMES[ty]
  return names and names[sub] or ("0x%02x"):format(sub)
end

--- The allowed subtype names of a type as one phrase, for error messages.
function M.subtype_hint(ty)
  if ty == 0x00 then return "'factory', 'ota_0' through 'ota_15', 'test', 'tee_0', 'tee_1' or a number" end
  local names = {}
  for name in pairs(M.SUBTYPES[ty] or {}) do names[#names + 1] = "'" .. name .. "'" end
  table.sort(names)
  names[#names + 1] = "a number"
  return table.concat(names, ", ")
end

--- Flag names for a flags word, in a fixed order, plus "0x…" for unknown
--- bits. Returns the list and the unknown bits.
function M.flag_names(flags)
  local out, known = {}, 0
  for _, name in ipairs(FLAG_ORDER) do
    if flags & M.FLAGS[name] ~= 0 then out[#out + 1] = name end
    known = known | M.FLAGS[name]
  end
  local unknown = flags & ~known
  if unknown ~= 0 then out[#out + 1] = ("0x%x"):format(unknown) end
  return out, unknown
end

return M
