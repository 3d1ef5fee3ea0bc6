--- The configuration files: espflash.toml (the project's settings) and
--- espflash_ports.toml (the user's ports), as espflash 4 reads them
--- (espflash-reference.md §7), plus what espflash leaves out.
---
--- Each file is looked for on its own in ./, ../ and the user configuration
--- directory ($XDG_CONFIG_HOME/espflash or ~/.config/espflash); the first
--- found is used, whole. Unlike espflash, a syntax error is reported with
--- file, line and column, `partition_table_offset` and
--- `target_app_partition` are applied, and paths are relative to the file
--- that names them. An espflash 3 espflash.toml holding `[connection]` or
--- `[[usb_device]]` is split into both files, as espflash does. Finding,
--- reading and writing the files is espflash.config_files' part.
---
--- `load()` returns
---     { baudrate, format,
---       flash = {mode = "qio", size = "8mb", frequency = "80mhz"},   -- CLI spellings
---       idf = {bootloader, partition_table (absolute paths), partition_table_offset, target_app_partition},
---       ports = {serial, usb_devices = {{vid =, pid =}, ...}},
---       files = {project = path|nil, ports = path|nil}, ports_save_path,
---       where = {["flash.size"] = "/p/espflash.toml:7", ...} }
local toml = require("espflash.toml")
local errors = require("espflash.errors")
local files = require("espflash.config_files")

local M = {}

M.PROJECT_FILE = files.PROJECT_FILE
M.PORTS_FILE = files.PORTS_FILE

local FLASH_MODES = { "qio", "qout", "dio", "dout" }
local FLASH_SIZES = { "256KB", "512KB", "1MB", "2MB", "4MB", "8MB", "16MB", "32MB", "64MB", "128MB", "256MB" }
local FLASH_FREQS = { "12MHz", "15MHz", "16MHz", "20MHz", "24MHz", "26MHz", "30MHz", "40MHz", "48MHz", "60MHz", "80MHz" }

-- Key kinds: "u32", "string", "path:<ext>,<ext>", or a list of choices.
local PROJECT = {
  top = { baudrate = "u32", format = "format" },
  idf = { bootloader = "path:bin", partition_table = "path:bin,csv", partition_table_offset = "u32",
          target_app_partition = "string" },
  flash = { mode = FLASH_MODES, size = FLASH_SIZES, frequency = FLASH_FREQS },
}
local PORTS = {
  top = {},
  connection = { serial = "string" },
  usb_device = { vid = "hex16", pid = "hex16" },
}
-- The section a key belongs in, for the misplaced-key error.
local HOME = {
  [M.PROJECT_FILE] = { bootloader = "idf", partition_table = "idf", partition_table_offset = "idf",
    target_app_partition = "idf", mode = "flash", size = "flash", frequency = "flash", baudrate = "",
    format = "", serial = "connection", vid = "usb_device", pid = "usb_device" },
  [M.PORTS_FILE] = { serial = "connection", vid = "usb_device", pid = "usb_device" },
}

local dirname, join = files.dirname, files.join

-- Finding the files (espflash.config_files) ------------------------------------

--- The user configuration directory: $XDG_CONFIG_HOME/espflash, else
--- ~/.config/espflash; nil when neither variable helps.
M.user_dir = files.user_dir
--- The current directory, absolute and without symbolic links.
M.cwd = files.cwd
--- Where `name` is looked for, in order: ./, ../, the user directory.
M.search_paths = files.search_paths
--- The first existing file of `search_paths(name, opts)`, or nil.
M.locate = files.locate

--- A configuration with nothing set (the shape `load` returns).
function M.empty()
  return { flash = {}, idf = {}, ports = { usb_devices = {} }, files = {}, where = {} }
end

local function parse(path)
  local text = files.read(path)
  local doc, meta, info = toml.parse(text, path)
  if not doc then
    errors.raise("espflash::config::syntax", meta,
      ("%s must be valid TOML (see docs/config.md): fix line %d or move the file away"):format(
        path:match("[^/]+$"), info.line))
  end
  return doc, meta, text
end

local function at(path, meta, key)
  local p = meta.pos[key]
  return p and ("%s:%d:%d"):format(path, p.line, p.col) or path
end

local function malformed(where, what)
  errors.raise("espflash::config::invalid_value", ("%s: %s"):format(where, what))
end

local function invalid(where, key, value, why)
  errors.raise("espflash::config::invalid_value",
    ("%s: invalid value %s for '%s': %s"):format(where, type(value) == "string" and ("'" .. value .. "'")
      or tostring(value), key, why))
end

-- Checks and converts one value; returns the value as the CLI spells it.
local function convert(kind, value, where, key, base_dir)
  if type(kind) == "table" then
    if type(value) == "string" then
      for _, c in ipairs(kind) do
        if c:lower() == value:lower() then return c:lower() end
      end
    end
    invalid(where, key, value, "possible values are " .. table.concat(kind, ", "))
  elseif kind == "u32" then
    if type(value) == "string" then
      local v = require("espflash.args").parse_u32(value)
      if v then return v end
    elseif math.type(value) == "integer" and value >= 0 and value <= 0xFFFFFFFF then
      return value
    end
    invalid(where, key, value, "expected an integer from 0 to 0xFFFFFFFF")
  elseif kind == "hex16" then
    local digits = type(value) == "string" and value:lower():gsub("^0x", "")
    if digits and digits:match("^%x%x?%x?%x?$") then return tonumber(digits, 16) end
    if math.type(value) == "integer" and value >= 0 and value <= 0xFFFF then return value end
    invalid(where, key, value, "expected a hexadecimal USB id such as \"303a\"")
  elseif kind == "format" then
    if value == "EspIdf" or value == "esp-idf" then return "esp-idf" end
    invalid(where, key, value, "the only image format is \"EspIdf\"")
  elseif kind == "string" then
    if type(value) == "string" and value ~= "" then return value end
    invalid(where, key, value, "expected a non-empty string")
  else  -- "path:<ext>[,<ext>]"
    if type(value) ~= "string" or value == "" then invalid(where, key, value, "expected a file name") end
    local ext = value:match("%.(%w+)$")
    if not (ext and kind:find("[:,]" .. ext:lower() .. "%f[,%z]")) then
      if key == "bootloader" then
        errors.raise("espflash::invalid_bootloader_path", "Specified bootloader path is not a .bin file",
          where .. ": name a .bin file")
      end
      errors.raise("espflash::invalid_partition_table_path",
        "Specified partition table path is not a .bin or .csv file", where .. ": name a .csv or .bin file")
    end
    return join(base_dir, value)
  end
end

local function misplaced(file, path, meta, key, section, home)
  local should = home == "" and "at the top of the file, before any [section]" or
    ("under " .. (home == "usb_device" and "[[usb_device]]" or "[" .. home .. "]"))
  local name = file:match("[^/]+$")
  if (home == "connection" or home == "usb_device") and name == M.PROJECT_FILE then
    should = should .. " in " .. M.PORTS_FILE
  end
  errors.raise("espflash::config::misplaced_key",
    ("Misplaced key, check your configuration file. Key: '%s' should be %s!"):format(key, should),
    ("%s: '%s' is %s; move it there"):format(at(file, meta, section == "" and key or section .. "." .. key),
      key, section == "" and "at the top level" or "under [" .. section .. "]"))
end

-- Walks one section's keys: values go to `into`, wrong ones raise, unknown ones warn.
local function take(ctx, section, keys, tbl, into, prefix)
  local file, meta = ctx.path, ctx.meta
  for key, value in pairs(tbl) do
    local path = prefix == "" and key or prefix .. "." .. key
    local kind = keys[key]
    if kind and type(value) ~= "table" then
      into[key] = convert(kind, value, at(file, meta, path), key, dirname(file))
      ctx.cfg.where[(section == "" and "" or section .. ".") .. key] = at(file, meta, path)
    elseif type(value) ~= "table" then
      local home = HOME[file:match("[^/]+$")][key]
      if home and home ~= section then misplaced(file, path, meta, key, section, home) end
      ctx.warn(("%s: unknown key '%s'%s (ignored)"):format(at(file, meta, path), key,
        section == "" and "" or " in [" .. section .. "]"))
    end
  end
end

local function load_project(cfg, path, warn)
  local doc, meta = parse(path)
  local ctx = { cfg = cfg, path = path, meta = meta, warn = warn }
  if doc.idf and doc.idf_format_args then
    errors.raise("espflash::config::invalid_value", ("%s: both [idf] and [idf_format_args] are present"):format(path),
      "[idf_format_args] is another name for [idf]: keep one of them")
  end
  local top = {}
  take(ctx, "", PROJECT.top, doc, top, "")
  cfg.baudrate, cfg.format = top.baudrate, top.format
  for name, value in pairs(doc) do
    local section = name == "idf_format_args" and "idf" or name
    if section == "idf" or section == "flash" then
      if type(value) ~= "table" or value[1] then malformed(at(path, meta, name), ("[%s] must be one table"):format(name)) end
      take(ctx, section, PROJECT[section], value, cfg[section], name)
    elseif type(value) == "table" and name ~= "connection" and name ~= "usb_device" then
      warn(("%s: unknown section [%s] (ignored)"):format(at(path, meta, name), name))
    end
  end
  return doc, meta
end

local function load_ports(cfg, doc, meta, path, warn)
  local ctx = { cfg = cfg, path = path, meta = meta, warn = warn }
  take(ctx, "", PORTS.top, doc, {}, "")
  if doc.connection ~= nil then
    if type(doc.connection) ~= "table" or doc.connection[1] then
      malformed(at(path, meta, "connection"), "[connection] must be one table")
    end
    take(ctx, "connection", PORTS.connection, doc.connection, cfg.ports, "connection")
  end
  if doc.usb_device ~= nil then
    if type(doc.usb_device) ~= "table" or (next(doc.usb_device) and not doc.usb_device[1]) then
      malformed(at(path, meta, "usb_device"), "write each device as [[usb_device]]")
    end
    for i, dev in ipairs(doc.usb_device) do
      local d, prefix = {}, ("usb_device[%d]"):format(i)
      take(ctx, "usb_device", PORTS.usb_device, dev, d, prefix)
      if not (d.vid and d.pid) then
        malformed(at(path, meta, prefix), "each [[usb_device]] needs vid and pid")
      end
      cfg.ports.usb_devices[#cfg.ports.usb_devices + 1] = d
    end
  end
  for name, value in pairs(doc) do
    if type(value) == "table" and name ~= "connection" and name ~= "usb_device" then
      warn(("%s: unknown section [%s] (ignored)"):format(at(path, meta, name), name))
    end
  end
end

--- Loads both files. `opts`: `cwd`, `getenv`, `warn(msg)` for unknown keys
--- and the migration note. Raises `espflash::config::*` errors for syntax
--- errors, misplaced keys and bad values.
function M.load(opts)
  opts = opts or {}
  local warn = opts.warn or function() end
  local cfg = M.empty()
  local project = M.locate(M.PROJECT_FILE, opts)
  local ports = M.locate(M.PORTS_FILE, opts)
  local pdoc, pmeta
  if project then
    cfg.files.project = project
    pdoc, pmeta = load_project(cfg, project, warn)
  end
  local legacy = pdoc and (pdoc.connection ~= nil or pdoc.usb_device ~= nil)
  if legacy and not ports then
    ports = files.migrate(project, pdoc, pmeta, warn)
    if not ports then load_ports(cfg, pdoc, pmeta, project, warn) end
  elseif legacy then
    warn(("%s: [connection] and [[usb_device]] belong in %s, which is read instead (ignored)")
      :format(project, ports))
  end
  if ports then
    cfg.files.ports = ports
    local doc, meta = parse(ports)
    load_ports(cfg, doc, meta, ports, warn)
  end
  local user = M.user_dir(opts.getenv)
  cfg.ports_save_path = ports or (user and join(user, M.PORTS_FILE)) or join(opts.cwd or M.cwd(), M.PORTS_FILE)
  return cfg
end

--- Adds a `[[usb_device]]` entry to the ports file (the one read, else the
--- one in the user directory), keeping the file's text; nothing when the
--- device is already listed. Returns the path, or nil and a message.
function M.remember_usb_device(cfg, vid, pid, opts)
  opts = opts or {}
  for _, d in ipairs(cfg.ports.usb_devices) do
    if d.vid == vid and d.pid == pid then return cfg.ports_save_path end
  end
  local path = cfg.ports_save_path
  local f = io.open(path, "rb")
  local text = f and f:read("a") or ""
  if f then f:close() end
  if text ~= "" and text:sub(-1) ~= "\n" then text = text .. "\n" end
  if text ~= "" then text = text .. "\n" end
  text = text .. ("[[usb_device]]\nvid = \"%04x\"\npid = \"%04x\"\n"):format(vid, pid)
  local ok, msg = files.write(path, text, opts.mkdirs or files.host_mkdirs())
  if not ok then return nil, msg end
  cfg.ports.usb_devices[#cfg.ports.usb_devices + 1] = { vid = vid, pid = pid }
  return path
end

--- Settings the CLI takes from espflash.toml when the command line has
--- none: option key -> {section, key}.
M.DEFAULTS = {
  partition_table_offset = { "idf", "partition_table_offset" },
  target_app_partition = { "idf", "target_app_partition" },
}

--- Fills `args` (a parsed command line) from `cfg` for the M.DEFAULTS keys
--- the command has (`entries`: its normalized option entries) and left unset.
--- Returns the list of keys it filled.
function M.apply(args, entries, cfg)
  local filled = {}
  for _, e in ipairs(entries) do
    local d = M.DEFAULTS[e.key]
    if d and args[e.key] == nil and cfg[d[1]][d[2]] ~= nil then
      args[e.key] = cfg[d[1]][d[2]]
      filled[#filled + 1] = e.key
    end
  end
  return filled
end

return M
