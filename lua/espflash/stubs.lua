--- The flasher stubs: esptool-js's `stub_flasher/<name>.json` files (installed
--- by scripts/setup-stubs.sh), found on a search path and decoded into
--- `{name, path, entry, text, text_start, data, data_start, bss_start}` with
--- `text` and `data` as binary strings.
local core = require("espflash.core")
local errors = require("espflash.errors")

local M = {}

--- Where stubs are looked for, in order: $ESPFLASH_STUBS; the build tree's
--- stubs/ when running from a source tree ($ESPFLASH_LUA_DIR/build/stubs);
--- inside the espflash binary, stubs/ next to it and ../share/espflash/stubs
--- (a build tree, or an install under another prefix), then its data
--- directory (`espflash.host`'s `datadir`); the installed share directories.
function M.search_dirs()
  local dirs = {}
  local env = os.getenv("ESPFLASH_STUBS")
  if env and env ~= "" then dirs[#dirs + 1] = env end
  local tree = os.getenv("ESPFLASH_LUA_DIR")
  if tree and tree ~= "" then dirs[#dirs + 1] = tree .. "/build/stubs" end
  local exe = package.preload["espflash.host"] and type(arg) == "table" and arg[0]
  local bindir = type(exe) == "string" and exe:match("^(.*)/[^/]*$")
  if bindir then
    if bindir == "" then bindir = "/" end
    dirs[#dirs + 1] = bindir .. "/stubs"
    dirs[#dirs + 1] = bindir .. "/../share/espflash/stubs"
  end
  local ok, host = pcall(require, "espflash.host")
  local own = ok and type(host) == "table" and host.datadir and host.datadir .. "/stubs"
  if own and own ~= "/usr/local/share/espflash/stubs" and own ~= "/usr/share/espflash/stubs" then
    dirs[#dirs + 1] = own
  end
  dirs[#dirs + 1] = "/usr/local/share/espflash/stubs"
  dirs[#dirs + 1] = "/usr/share/espflash/stubs"
  return dirs
end

--- The stub JSON name for a chip: the chip's `stub`, or `stub_for(major)`
--- when the chip picks its stub by revision (`revision = {major=, minor=}`).
function M.name_for(chip, revision)
  if chip.stub_for and revision and revision.major then
    return chip.stub_for(revision.major)
  end
  return chip.stub or chip.name
end

--- Every stub name a chip may run (its default stub and its variants).
function M.names_for(chip)
  local names = { chip.stub or chip.name }
  for _, v in ipairs(chip.stub_variants or {}) do names[#names + 1] = v end
  return names
end

--- Path of `<name>.json` on the search path, or nil and the directories searched.
function M.find(name)
  local dirs = M.search_dirs()
  for _, d in ipairs(dirs) do
    local path = d .. "/" .. name .. ".json"
    local f = io.open(path, "rb")
    if f then
      f:close()
      return path
    end
  end
  return nil, dirs
end

local function int_field(obj, key, path, optional)
  local v = obj[key]
  if v == nil and optional then return nil end
  local i = type(v) == "number" and math.tointeger(v)
  if not i then
    errors.raise("espflash::invalid_stub", string.format("%s: field '%s' is missing or not an integer", path, key),
      "Run scripts/setup-stubs.sh to fetch the flasher stubs again")
  end
  return i
end

local function b64_field(obj, key, path)
  local v = obj[key]
  if v == nil then return "" end
  local bin, err = type(v) == "string" and core.base64_decode(v)
  if not bin then
    errors.raise("espflash::invalid_stub", string.format("%s: field '%s': %s", path, key, err or "not a string"),
      "Run scripts/setup-stubs.sh to fetch the flasher stubs again")
  end
  return bin
end

--- Decodes the stub JSON at `path` (raises `espflash::invalid_stub` on bad content).
function M.decode_file(path, name)
  local f, err = io.open(path, "rb")
  if not f then errors.raise("espflash::invalid_stub", err) end
  local text = f:read("a")
  f:close()
  local ok, obj = pcall(require("cjson").decode, text)
  if not ok or type(obj) ~= "table" then
    errors.raise("espflash::invalid_stub", string.format("%s is not valid JSON", path),
      "Run scripts/setup-stubs.sh to fetch the flasher stubs again")
  end
  return {
    name = name, path = path,
    entry = int_field(obj, "entry", path),
    text_start = int_field(obj, "text_start", path),
    data_start = int_field(obj, "data_start", path, true),
    bss_start = int_field(obj, "bss_start", path, true),
    text = b64_field(obj, "text", path),
    data = b64_field(obj, "data", path),
  }
end

--- Loads the stub for `chip` (a chip table or chip name) at `revision`
--- (`{major=, minor=}`, optional; the ESP32-P4 before v3.0 takes its rc1 stub).
--- Raises `espflash::stub_not_found` when the file is not on the search path.
function M.load(chip, revision)
  if type(chip) == "string" then
    chip = require("espflash.chips").get(chip) or { name = chip, stub = chip }
  end
  local name = M.name_for(chip, revision)
  local path, dirs = M.find(name)
  if not path then
    errors.raise("espflash::stub_not_found",
      string.format("Flasher stub '%s.json' not found (searched %s)", name, table.concat(dirs, ", ")),
      "Run scripts/setup-stubs.sh to install the flasher stubs, or set ESPFLASH_STUBS to their directory")
  end
  return M.decode_file(path, name)
end

--- Entry addresses of every stub `chip` may run, for the virtual device to
--- recognise a stub upload; stubs that are not installed are left out.
function M.entries(chip)
  local list = {}
  for _, name in ipairs(M.names_for(chip)) do
    local path = M.find(name)
    if path then
      local ok, stub = pcall(M.decode_file, path, name)
      if ok then list[#list + 1] = stub.entry end
    end
  end
  return list
end

return M
