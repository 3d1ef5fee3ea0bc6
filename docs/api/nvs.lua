---@meta espflash.nvs
-- `espflash.nvs`: NVS partition images as ESP-IDF's nvs_partition_gen writes them (docs/nvs.md).

---@alias espflash.NvsType "u8"|"i8"|"u16"|"i16"|"u32"|"i32"|"u64"|"i64"|"string"|"blob"|"binary"|"hex2bin"|"base64"

---@class espflash.NvsEntrySpec
---@field key string 1-15 bytes
---@field type espflash.NvsType
---@field value? integer|string
---@field file? string a path whose bytes are the value

---@class espflash.NvsSpec
---@field size? integer partition size (default 0x6000)
---@field version? integer 1 or 2 (default 2)
---@field base_dir? string where `file` paths start
---@field [integer] {namespace: string, entries: espflash.NvsEntrySpec[]}

---@class espflash.NvsEntry
---@field namespace string
---@field key string
---@field type "u8"|"i8"|"u16"|"i16"|"u32"|"i32"|"u64"|"i64"|"string"|"blob"
---@field value integer|string
---@field ns integer
---@field page integer
---@field entry integer

---@class espflash.NvsStats
---@field pages_used integer
---@field pages integer
---@field entries integer
---@field namespaces integer

---@class espflash.nvs
---@field DEFAULT_SIZE integer 0x6000
---@field MIN_SIZE integer 0x3000
---@field PAGE_SIZE integer 4096
---@field TYPES table
local nvs = {}

---Builds an image from a Lua table.
---@param spec espflash.NvsSpec
---@return string image
---@return espflash.NvsStats stats
function nvs.build(spec) end

---Builds an image from CSV text (key,type,encoding,value).
---@param text string
---@param opts? {size?: integer, version?: integer, base_dir?: string, name?: string}
---@return string image
---@return espflash.NvsStats stats
function nvs.from_csv(text, opts) end

---Parses an image: the entries, the problems found, and page counts.
---@param data string
---@return espflash.NvsEntry[] entries
---@return {page: integer, entry: integer?, message: string}[] problems
---@return {pages: integer, used: integer} stats
function nvs.parse(data) end

---The entries as an aligned table (what `espflash nvs-dump` prints).
---@param entries espflash.NvsEntry[]
---@param problems? table[]
---@return string
function nvs.format(entries, problems) end

---The entries as CSV that `nvs.from_csv` turns back into them.
---@param entries espflash.NvsEntry[]
---@return string
function nvs.to_csv(entries) end

---A problem record as text: "page 2 entry 5: …".
---@param p {page: integer, entry: integer?, message: string}
---@return string
function nvs.problem_text(p) end

return nvs
