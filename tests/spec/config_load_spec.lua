-- espflash.config: finding espflash.toml and espflash_ports.toml, their keys,
-- the misplaced-key and syntax errors, paths relative to the file, the
-- espflash 3 migration and remembering a USB device.
local config = require("espflash.config")

local ROOT

local files = require("helpers.files")
local read = files.read_file

-- Writes `path`, making its directory first.
local function write(path, text)
  os.execute(("mkdir -p '%s'"):format(path:match("^(.*)/")))
  files.write(path, text)
end

-- A layout: ROOT/ws (workspace), ROOT/ws/app (the current directory), ROOT/home.
local function env(extra)
  local vars = { HOME = ROOT .. "/home" }
  for k, v in pairs(extra or {}) do vars[k] = v end
  return function(name) return vars[name] end
end

local function load(opts)
  opts = opts or {}
  local warnings = {}
  local cfg = config.load({ cwd = opts.cwd or ROOT .. "/ws/app", getenv = opts.getenv or env(),
                            warn = function(m) warnings[#warnings + 1] = m end })
  return cfg, warnings
end

local function failure(fn)
  local ok, e = pcall(fn)
  assert.is_false(ok, "expected an error")
  assert.is_table(e, tostring(e))
  return e
end

local GLOBAL

before_each(function()
  ROOT = files.tmpdir()
  os.execute(("mkdir -p '%s/ws/app' '%s/home'"):format(ROOT, ROOT))
  GLOBAL = ROOT .. "/home/.config/espflash"
end)

after_each(function()
  os.execute(("rm -rf '%s'"):format(ROOT))
end)

describe("config search", function()
  it("looks in ./, ../ and the user directory, each file on its own", function()
    assert.are.same({ ROOT .. "/ws/app/espflash.toml", ROOT .. "/ws/espflash.toml", GLOBAL .. "/espflash.toml" },
      config.search_paths("espflash.toml", { cwd = ROOT .. "/ws/app", getenv = env() }))
    local none = function() return nil end
    assert.are.same({ "/espflash.toml" }, config.search_paths("espflash.toml", { cwd = "/", getenv = none }))
    assert.are.same({ "/x/espflash.toml", "/espflash.toml" }, config.search_paths("espflash.toml", { cwd = "/x", getenv = none }))
    write(GLOBAL .. "/espflash.toml", "baudrate = 1\n")
    write(GLOBAL .. "/espflash_ports.toml", "[connection]\nserial = \"global\"\n")
    local cfg = load()
    assert.are.same({ 1, "global" }, { cfg.baudrate, cfg.ports.serial })
    write(ROOT .. "/ws/espflash.toml", "baudrate = 2\n")
    cfg = load()
    assert.are.same({ 2, "global", ROOT .. "/ws/espflash.toml", GLOBAL .. "/espflash_ports.toml" },
      { cfg.baudrate, cfg.ports.serial, cfg.files.project, cfg.files.ports })
    write(ROOT .. "/ws/app/espflash.toml", "[flash]\nmode = \"dio\"\n")
    write(ROOT .. "/ws/espflash_ports.toml", "[connection]\nserial = \"parent\"\n")
    cfg = load()
    -- the first file found is used whole: no baudrate from ../ or the user directory
    assert.are.same({ nil, "dio", "parent" }, { cfg.baudrate, cfg.flash.mode, cfg.ports.serial })
  end)

  it("takes $XDG_CONFIG_HOME when it is absolute, else ~/.config", function()
    assert.are.equal("/x/espflash", config.user_dir(env({ XDG_CONFIG_HOME = "/x" })))
    assert.are.equal(ROOT .. "/home/.config/espflash", config.user_dir(env({ XDG_CONFIG_HOME = "rel" })))
    assert.is_nil(config.user_dir(function() return nil end))
    write(ROOT .. "/xdg/espflash/espflash.toml", "baudrate = 3\n")
    assert.are.equal(3, load({ getenv = env({ XDG_CONFIG_HOME = ROOT .. "/xdg" }) }).baudrate)
  end)

  it("gives the empty configuration when there are no files", function()
    local cfg, warnings = load()
    assert.are.same({ flash = {}, idf = {}, ports = { usb_devices = {} }, files = {}, where = {},
      ports_save_path = GLOBAL .. "/espflash_ports.toml" }, cfg)
    assert.are.same({}, warnings)
  end)
end)

describe("config keys", function()
  it("reads every key of espflash 4, in the CLI's spellings", function()
    write(ROOT .. "/ws/app/espflash.toml", table.concat({
      "baudrate = 460800", 'format = "EspIdf"',
      "[idf]", 'bootloader = "boot/bootloader.bin"', 'partition_table = "/abs/partitions.csv"',
      "partition_table_offset = 0x9000", 'target_app_partition = "ota_0"',
      "[flash]", 'mode = "QIO"', 'size = "8MB"', 'frequency = "80MHz"', "" }, "\n"))
    write(ROOT .. "/ws/app/espflash_ports.toml", table.concat({
      "[connection]", 'serial = "/dev/ttyUSB0"',
      "[[usb_device]]", 'vid = "303A"', 'pid = "0x1001"',
      "[[usb_device]]", 'vid = "a"', 'pid = "ea60"', "" }, "\n"))
    local cfg = load()
    assert.are.same({
      baudrate = 460800, format = "esp-idf",
      idf = { bootloader = ROOT .. "/ws/app/boot/bootloader.bin", partition_table = "/abs/partitions.csv",
              partition_table_offset = 0x9000, target_app_partition = "ota_0" },
      flash = { mode = "qio", size = "8mb", frequency = "80mhz" },
      ports = { serial = "/dev/ttyUSB0", usb_devices = { { vid = 0x303A, pid = 0x1001 }, { vid = 0xA, pid = 0xEA60 } } },
    }, { baudrate = cfg.baudrate, format = cfg.format, idf = cfg.idf, flash = cfg.flash, ports = cfg.ports })
    assert.are.equal(ROOT .. "/ws/app/espflash.toml:7:1", cfg.where["idf.target_app_partition"])
  end)

  it("resolves paths relative to the file that names them", function()
    write(ROOT .. "/ws/espflash.toml", "[idf_format_args]\nbootloader = \"../b/boot.bin\"\npartition_table = 'p.csv'\n")
    local cfg = load()
    assert.are.equal(ROOT .. "/ws/../b/boot.bin", cfg.idf.bootloader)
    assert.are.equal(ROOT .. "/ws/p.csv", cfg.idf.partition_table)
  end)

  it("warns about unknown keys and sections, with their place", function()
    write(ROOT .. "/ws/app/espflash.toml", "baudrat = 1\n[flash]\nspeed = 2\n[monitor]\nbaud = 3\n")
    local _, warnings = load()
    table.sort(warnings)
    local f = ROOT .. "/ws/app/espflash.toml"
    assert.are.same({ f .. ":1:1: unknown key 'baudrat' (ignored)",
      f .. ":3:1: unknown key 'speed' in [flash] (ignored)",
      f .. ":4:2: unknown section [monitor] (ignored)" }, warnings)
  end)

  it("refuses bad values, naming file, line and column", function()
    local f = ROOT .. "/ws/app/espflash.toml"
    local cases = {
      { "[flash]\nsize = \"9MB\"", "espflash::config::invalid_value",
        f .. ":2:1: invalid value '9MB' for 'size': possible values are 256KB, 512KB, 1MB, 2MB, 4MB, 8MB, "
          .. "16MB, 32MB, 64MB, 128MB, 256MB" },
      { "baudrate = \"fast\"", "espflash::config::invalid_value",
        f .. ":1:1: invalid value 'fast' for 'baudrate': expected an integer from 0 to 0xFFFFFFFF" },
      { "baudrate = -1", "espflash::config::invalid_value",
        f .. ":1:1: invalid value -1 for 'baudrate': expected an integer from 0 to 0xFFFFFFFF" },
      { "format = \"DirectBoot\"", "espflash::config::invalid_value",
        f .. ":1:1: invalid value 'DirectBoot' for 'format': the only image format is \"EspIdf\"" },
      { "[idf]\nbootloader = \"boot.elf\"", "espflash::invalid_bootloader_path",
        "Specified bootloader path is not a .bin file" },
      { "[idf]\npartition_table = \"p.txt\"", "espflash::invalid_partition_table_path",
        "Specified partition table path is not a .bin or .csv file" },
      { "[[flash]]\nsize = \"4MB\"", "espflash::config::invalid_value",
        f .. ":1:3: [flash] must be one table" },
      { "[idf]\n[idf_format_args]", "espflash::config::invalid_value",
        f .. ": both [idf] and [idf_format_args] are present" },
    }
    for _, c in ipairs(cases) do
      write(f, c[1])
      local e = failure(load)
      assert.are.same({ c[2], c[3] }, { e.code, e.message }, c[1])
    end
    write(ROOT .. "/ws/app/espflash_ports.toml", "[[usb_device]]\nvid = \"xyz\"\npid = \"1\"")
    os.remove(f)
    local e = failure(load)
    assert.are.equal(ROOT .. "/ws/app/espflash_ports.toml:2:1: invalid value 'xyz' for 'vid': expected a "
      .. "hexadecimal USB id such as \"303a\"", e.message)
    write(ROOT .. "/ws/app/espflash_ports.toml", "[[usb_device]]\nvid = \"303a\"")
    assert.matches("each %[%[usb_device%]%] needs vid and pid", failure(load).message)
  end)

  it("reports a TOML syntax error with file, line and column instead of ignoring the file", function()
    write(ROOT .. "/ws/espflash.toml", "[flash]\nsize = \"4MB\nmode = \"dio\"\n")
    local e = failure(load)
    assert.are.equal("espflash::config::syntax", e.code)
    assert.are.equal(ROOT .. "/ws/espflash.toml:2:8: unterminated string (a string ends on its line with \")",
      e.message)
    assert.matches("fix line 2", e.hint)
  end)
end)

describe("misplaced keys", function()
  local function misplaced(file, text)
    write(ROOT .. "/ws/app/" .. file, text)
    local e = failure(load)
    assert.are.equal("espflash::config::misplaced_key", e.code)
    return e
  end

  it("gives espflash's message and says where the key is", function()
    local e = misplaced("espflash.toml", "baudrate = 1\npartition_table = \"p.csv\"\n[flash]\n")
    assert.are.equal("Misplaced key, check your configuration file. Key: 'partition_table' should be under [idf]!",
      e.message)
    assert.are.equal(ROOT .. "/ws/app/espflash.toml:2:1: 'partition_table' is at the top level; move it there", e.hint)
    e = misplaced("espflash.toml", "[idf]\n  size = \"4MB\"\n")
    assert.are.equal("Misplaced key, check your configuration file. Key: 'size' should be under [flash]!", e.message)
    assert.are.equal(ROOT .. "/ws/app/espflash.toml:2:3: 'size' is under [idf]; move it there", e.hint)
    e = misplaced("espflash.toml", "[flash]\nbaudrate = 921600\n")
    assert.are.equal("Misplaced key, check your configuration file. Key: 'baudrate' should be at the top of the "
      .. "file, before any [section]!", e.message)
    e = misplaced("espflash.toml", "serial = \"/dev/ttyUSB0\"\n")
    assert.are.equal("Misplaced key, check your configuration file. Key: 'serial' should be under [connection] in "
      .. "espflash_ports.toml!", e.message)
  end)

  it("checks espflash_ports.toml the same way", function()
    os.remove(ROOT .. "/ws/app/espflash.toml")
    local e = misplaced("espflash_ports.toml", "serial = \"/dev/ttyUSB0\"\n")
    assert.are.equal("Misplaced key, check your configuration file. Key: 'serial' should be under [connection]!",
      e.message)
    e = misplaced("espflash_ports.toml", "[connection]\nvid = \"303a\"\n")
    assert.are.equal("Misplaced key, check your configuration file. Key: 'vid' should be under [[usb_device]]!",
      e.message)
  end)
end)

describe("espflash 3 migration", function()
  local OLD = table.concat({
    "# project settings", "baudrate = 921600", "", "[connection]", "serial = \"/dev/ttyACM0\"", "",
    "[[usb_device]]", "vid = \"303a\"", "pid = \"1001\"", "", "# flash settings", "[flash]", "size = \"16MB\"", "",
  }, "\n")

  it("moves [connection] and [[usb_device]] to espflash_ports.toml, keeping the other lines", function()
    local project = ROOT .. "/ws/espflash.toml"
    write(project, OLD)
    local cfg, warnings = load()
    assert.are.same({ 921600, "16mb", "/dev/ttyACM0", { { vid = 0x303A, pid = 0x1001 } } },
      { cfg.baudrate, cfg.flash.size, cfg.ports.serial, cfg.ports.usb_devices })
    assert.are.equal(ROOT .. "/ws/espflash_ports.toml", cfg.files.ports)
    assert.are.same({ ("Moved [connection] and [[usb_device]] from %s to %s (the espflash 4 layout)")
      :format(project, ROOT .. "/ws/espflash_ports.toml") }, warnings)
    assert.are.equal("# project settings\nbaudrate = 921600\n\n# flash settings\n[flash]\nsize = \"16MB\"\n",
      read(project))
    assert.are.equal("[connection]\nserial = \"/dev/ttyACM0\"\n\n[[usb_device]]\npid = \"1001\"\nvid = \"303a\"\n",
      read(ROOT .. "/ws/espflash_ports.toml"))
    -- the next run reads the two files as they are now, with the same result
    local again, w2 = load()
    assert.are.same({ cfg.baudrate, cfg.flash, cfg.ports }, { again.baudrate, again.flash, again.ports })
    assert.are.same({}, w2)
  end)

  it("leaves the files alone when espflash_ports.toml exists, and says the old keys are ignored", function()
    write(ROOT .. "/ws/app/espflash.toml", OLD)
    write(GLOBAL .. "/espflash_ports.toml", "[connection]\nserial = \"/dev/ttyUSB9\"\n")
    local cfg, warnings = load()
    assert.are.equal("/dev/ttyUSB9", cfg.ports.serial)
    assert.are.same({}, cfg.ports.usb_devices)
    assert.are.equal(1, #warnings)
    assert.matches("belong in .*espflash_ports.toml, which is read instead", warnings[1])
    assert.are.equal(OLD, read(ROOT .. "/ws/app/espflash.toml"))
  end)
end)

describe("remembering a USB device", function()
  it("appends [[usb_device]] to the ports file read, keeping its text", function()
    local path = ROOT .. "/ws/espflash_ports.toml"
    write(path, "# my boards\n[connection]\nserial = \"/dev/ttyUSB0\"")
    local cfg = load()
    assert.are.equal(path, config.remember_usb_device(cfg, 0x0403, 0x6001))
    assert.are.equal("# my boards\n[connection]\nserial = \"/dev/ttyUSB0\"\n\n[[usb_device]]\nvid = \"0403\"\n"
      .. "pid = \"6001\"\n", read(path))
    assert.are.same({ { vid = 0x0403, pid = 0x6001 } }, load().ports.usb_devices)
    -- already there: nothing changes
    local before = read(path)
    config.remember_usb_device(load(), 0x0403, 0x6001)
    assert.are.equal(before, read(path))
  end)

  it("creates the file in the user directory when there is none", function()
    local cfg = load()
    local made = {}
    local path = config.remember_usb_device(cfg, 0x1A86, 0x55D4, { mkdirs = function(d)
      made[#made + 1] = d
      os.execute(("mkdir -p '%s'"):format(d))
    end })
    assert.are.equal(GLOBAL .. "/espflash_ports.toml", path)
    assert.are.same({ GLOBAL }, made)
    assert.are.same({ { vid = 0x1A86, pid = 0x55D4 } }, load().ports.usb_devices)
  end)

  it("says why when the file cannot be written", function()
    local cfg = load()
    cfg.ports_save_path = ROOT .. "/missing/dir/espflash_ports.toml"
    local path, msg = config.remember_usb_device(cfg, 1, 2, { mkdirs = function() end })
    assert.is_nil(path)
    assert.matches("No such file or directory", msg)
  end)
end)

describe("config.apply", function()
  local entries = { { key = "partition_table_offset" }, { key = "target_app_partition" }, { key = "port" } }

  it("fills partition_table_offset and target_app_partition the command line left out", function()
    local cfg = config.empty()
    cfg.idf.partition_table_offset, cfg.idf.target_app_partition = 0x9000, "ota_1"
    local args = { target_app_partition = "ota_0" }
    assert.are.same({ "partition_table_offset" }, config.apply(args, entries, cfg))
    assert.are.same({ partition_table_offset = 0x9000, target_app_partition = "ota_0" }, args)
    -- a command without the options gets nothing
    local other = {}
    assert.are.same({}, config.apply(other, { { key = "port" } }, cfg))
    assert.are.same({}, other)
  end)
end)
