-- espflash.provision.run against virtual devices (sim:// URLs whose flash
-- is kept in files): each device gets its record in its NVS partition and
-- a log line, a re-run consumes nothing new, a counter numbers devices, a
-- failing device fails alone, and mistakes stop the run before a device is
-- written.
local cjson = require("cjson")
local espflash = require("espflash")
local provision = require("espflash.provision")
local files = require("helpers.files")

local TD = os.getenv("ESPFLASH_TESTDATA")
local APP = TD and TD .. "/elf/esp32c3.elf"
local BOOT = TD and TD .. "/bootloaders/esp32c3-bootloader.bin"

-- True when the stubs and the test ELF are there; else marks the test pending.
local function ready()
  local ok, why = files.env_dir("ESPFLASH_STUBS", "esp32c3.json", "run scripts/setup-stubs.sh")
  if ok then ok, why = files.env_dir("ESPFLASH_TESTDATA", "elf/esp32c3.elf") end
  if not ok then pending(why) end
  return ok ~= nil
end

local read, write = files.read, files.write

local function log_lines(path)
  local out = {}
  for line in io.lines(path) do out[#out + 1] = cjson.decode(line) end
  return out
end

-- The NVS entries in a device's flash file, as { ["ns.key"] = value }.
local function nvs_of(flash_path, offset)
  local data = read(flash_path)
  local got = {}
  for _, e in ipairs(espflash.nvs.parse(data:sub(offset + 1, offset + 0x6000))) do
    got[e.namespace .. "." .. e.key] = e.value
  end
  return got
end

local function sha256_hex(s)
  return (espflash.core.sha256(s):gsub(".", function(c) return ("%02x"):format(c:byte()) end))
end

describe("provision.run", function()
  local dir, log, recs, tpl
  local function port(n, extra)
    return ("sim://esp32c3?mac=aa:00:00:00:00:%02x&flash=%s/flash%d.bin%s"):format(n, dir, n, extra or "")
  end
  local function run(opts)
    opts.app, opts.log = opts.app or APP, opts.log or log
    opts.image = opts.image or { bootloader = BOOT }
    return provision.run(opts)
  end

  before_each(function()
    dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. dir))
    log, recs, tpl = dir .. "/log.jsonl", dir .. "/records.csv", dir .. "/nvs.csv"
    write(recs, "serial,hw_rev,owner\nSN-1,1,\"Ada, L.\"\nSN-2,2,Bob\nSN-3,3,Cy\nSN-4,4,Di\n")
    write(tpl, "key,type,encoding,value\nfactory,namespace,,\nserial,data,string,${serial}\n"
      .. "hw_rev,data,u8,${hw_rev}\nowner,data,string,${owner}\nmac,data,string,${mac}\n")
  end)
  after_each(function() os.execute("rm -rf " .. dir) end)

  it("gives every device its record, in its NVS partition and in the log", function()
    if not ready() then return end
    local events = {}
    local results = run{ ports = { port(1), port(2), port(3) }, records = recs, nvs_template = tpl,
      progress = function(ev) events[#events + 1] = ev end }
    assert.is_true(results.all_ok)
    local given = {}
    for i, r in ipairs(results) do
      assert.are.equal(("aa:00:00:00:00:%02x"):format(i), r.value.mac)
      assert.is_false(r.value.reused)
      assert.are.equal(0x9000, r.value.nvs_offset)
      given[r.value.serial] = i
    end
    assert.are.same({ 1, 2, 3 }, { given["SN-1"] and 1, given["SN-2"] and 2, given["SN-3"] and 3 })

    local lines = log_lines(log)
    assert.are.equal(3, #lines)
    for _, l in ipairs(lines) do
      local i = given[l.serial]
      assert.are.equal("ok", l.result)
      assert.are.equal(("aa:00:00:00:00:%02x"):format(i), l.mac)
      assert.are.equal("esp32c3", l.chip)
      assert.are.equal("0.4", l.revision)
      assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$", l.time)
      local flash = read(("%s/flash%d.bin"):format(dir, i))
      assert.are.equal(sha256_hex(flash:sub(0x9001, 0xF000)), l.nvs_sha256)
      assert.are.equal(64, #l.app_sha256)
      local nvs = nvs_of(("%s/flash%d.bin"):format(dir, i), 0x9000)
      local row = ({ ["SN-1"] = { 1, "Ada, L." }, ["SN-2"] = { 2, "Bob" }, ["SN-3"] = { 3, "Cy" } })[l.serial]
      assert.are.same({ ["factory.serial"] = l.serial, ["factory.hw_rev"] = row[1], ["factory.owner"] = row[2],
                        ["factory.mac"] = l.mac }, nvs)
    end
    local assigned = 0
    for _, ev in ipairs(events) do
      if ev.kind == "log" and ev.message:match("^esp32c3 aa:00:00:00:00:0%d gets SN%-%d$") then
        assigned = assigned + 1
      end
    end
    assert.are.equal(3, assigned)

    -- again: the same records, nothing new consumed, the NVS partition unchanged
    local before = read(dir .. "/flash2.bin")
    local again = run{ ports = { port(3), port(2), port(1), port(4) }, records = recs, nvs_template = tpl }
    assert.is_true(again.all_ok)
    for k = 1, 3 do
      assert.is_true(again[k].value.reused)
      assert.are.equal(given[again[k].value.serial], 4 - k)
    end
    assert.are.same({ serial = "SN-4", reused = false }, { serial = again[4].value.serial, reused = again[4].value.reused })
    assert.are.equal(before, read(dir .. "/flash2.bin"))
    assert.are.equal(7, #log_lines(log))
    assert.are.same({ "provisioned 4 of 4 devices", "  sim://esp32c3#1 aa:00:00:00:00:03 SN-3 (again)" },
      { provision.summary(again)[1], provision.summary(again)[2] })
  end)

  it("numbers devices with a counter, one at a time with jobs = 1", function()
    if not ready() then return end
    local results = run{ ports = { port(1), port(2) }, counter = "41:DEV-%03d", jobs = 1 }
    assert.are.same({ "DEV-041", "DEV-042" }, { results[1].value.serial, results[2].value.serial })
    assert.are.same({ ["factory.serial"] = "DEV-041", ["factory.mac"] = "aa:00:00:00:00:01" },
      nvs_of(dir .. "/flash1.bin", 0x9000))
    results = run{ ports = { port(3), port(2) }, counter = "41:DEV-%03d" }
    assert.are.same({ "DEV-043", "DEV-042" }, { results[1].value.serial, results[2].value.serial })
  end)

  it("lets a failing device fail alone, logged with its cause; its record is free again", function()
    if not ready() then return end
    local results = run{ ports = { port(1), port(2, "&fault=stall&fault_at=65"), port(3) }, records = recs,
      nvs_template = tpl, timeout = 2 }
    assert.is_true(results[1].ok and results[3].ok)
    assert.are.equal("espflash::timeout", results[2].err.code)
    local summary = provision.summary(results)
    assert.are.equal("provisioned 2 of 3 devices", summary[1])
    assert.matches("^  sim://esp32c3#2 failed: sim://esp32c3#2 did not finish within 2 s %[espflash::timeout%]$", summary[3])
    local failed
    for _, l in ipairs(log_lines(log)) do if l.result ~= "ok" then failed = l end end
    assert.are.same({ "failed", "espflash::timeout", "aa:00:00:00:00:02" }, { failed.result, failed.error_code, failed.mac })
    assert.matches("^SN%-[123]$", failed.serial)
    assert.matches("did not finish within 2 s", failed.error)
    local next_one = run{ ports = { port(4) }, records = recs, nvs_template = tpl }
    assert.are.equal(failed.serial, next_one[1].value.serial)
  end)

  it("fails a device before writing anything when the table has no NVS partition", function()
    if not ready() then return end
    write(dir .. "/parts.csv", "# Name, Type, SubType, Offset, Size\nfactory, app, factory, 0x10000, 1M\n")
    local results = run{ ports = { port(1) }, records = recs,
      image = { bootloader = BOOT, partition_table = dir .. "/parts.csv" } }
    assert.are.equal("espflash::provision::no_nvs", results[1].err.code)
    assert.is_nil(read(dir .. "/flash1.bin"):find("[^\255]"))
    assert.are.equal("espflash::provision::no_nvs", log_lines(log)[1].error_code)
  end)

  it("refuses bad options before connecting to any device", function()
    local function err_of(opts)
      opts.ports = { "sim://esp32c3?fault=refuse" }
      local ok, e = pcall(provision.run, opts)
      assert.is_false(ok)
      return e
    end
    assert.are.equal("usage", err_of{ records = recs, log = log }.code)
    assert.are.equal("usage", err_of{ app = "x.elf", log = log, records = recs, counter = "1" }.code)
    assert.are.equal("usage", err_of{ app = "x.elf", records = recs }.code)
    local e = err_of{ app = "x.elf", log = log, records = dir .. "/none.csv" }
    assert.are.equal("espflash::provision::records", e.code)
    assert.matches("cannot read the records file: .*none.csv", e.message)
    write(tpl, "key,type,encoding,value\nf,namespace,,\nv,data,u8,${hw_rev}00\n")
    e = err_of{ app = "x.elf", log = log, records = recs, nvs_template = tpl }
    assert.are.equal("espflash::provision::template", e.code)
    assert.matches("line 3: key 'v'.*%(record SN%-3%)$", e.message)
    assert.is_nil(io.open(log, "rb"))
  end)
end)
