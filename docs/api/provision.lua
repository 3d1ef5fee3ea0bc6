---@meta espflash.provision
-- `espflash.provision`: factory provisioning of many devices at once
-- (`espflash provision`, docs/provision.md).

---@class espflash.provision.Options
---@field ports string|string[] a `--port` value or a list of ports
---@field app string|table the application ELF (a path or an espflash.elf object)
---@field records? string CSV of per-device records (serial and columns), keyed by MAC once used
---@field counter? string "START[:FORMAT]": serials from a counter instead of records
---@field nvs_template? string NVS CSV template; default: namespace `factory` with serial, mac and the records' columns
---@field log? string JSON-lines log, appended to (default provision.jsonl)
---@field image? table flash.write_app's image options (bootloader, partition_table, flash_mode, …)
---@field connect? table espflash.connect options for every device
---@field jobs? integer devices at once
---@field timeout? number seconds per device
---@field label? fun(port: string, i: integer): string
---@field progress? fun(event: table) the events of parallel.each_device

---@class espflash.provision
---@field LOG_FIELDS string[] the fields of a log line, in the order they are written
local provision = {}

---Provisions every device of `opts.ports` concurrently: connect, read the
---MAC, take its record, build its NVS partition, flash the app and the NVS
---partition (unchanged blocks skipped, each verified by MD5), append one JSON
---line to the log, reset. A device already in the log gets its record again,
---so re-running is safe. Returns each_device's results; a result's `value`
---is `{serial, mac, chip, reused, nvs_offset}`.
---@param opts espflash.provision.Options
---@return table results
function provision.run(opts) end

---The summary of `results` as lines: "provisioned N of M devices", then one
---line per device.
---@param results table
---@return string[]
function provision.summary(results) end

---One log record (a table with LOG_FIELDS keys) as a JSON line.
---@param rec table
---@return string
function provision.log_line(rec) end

---The NVS partition of a partition table: the one labelled `nvs`, else the
---first `data, nvs` partition. Raises `espflash::provision::no_nvs`.
---@param tbl table a partition table (espflash.partitions)
---@return table partition
function provision.nvs_partition(tbl) end

return provision
