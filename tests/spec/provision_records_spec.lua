-- espflash provision's bookkeeping: the records CSV, the counter, the log
-- of earlier runs, which device gets which record; and the NVS template
-- (placeholders, quoting, line numbers in errors, the up-front check).
local records = require("espflash.provision_records")
local template = require("espflash.provision_nvs")
local nvs = require("espflash.nvs")

local function code_of(fn, ...)
  local ok, err = pcall(fn, ...)
  assert(not ok, "expected an error")
  return err.code, err.message
end

describe("provision_records.from_csv", function()
  it("reads the header, the rows and an optional mac column", function()
    local src = records.from_csv('serial,batch,mac\nSN-1,B1,\n"SN-2","B,2",AA-00-00-00-00-02\n\n# a comment\nSN-3,B3\n',
      "r.csv")
    assert.are.same({ "serial", "batch", "mac" }, src.columns)
    assert.are.equal(3, #src.rows)
    assert.are.equal("B,2", src.rows[2].fields.batch)
    assert.are.equal("aa:00:00:00:00:02", src.rows[2].mac)
    assert.is_nil(src.rows[1].mac)
    assert.are.equal("", src.rows[3].fields.mac)
    assert.are.equal(6, src.rows[3].line)
  end)

  it("refuses duplicate or empty ids and an empty file, naming the line", function()
    local code, msg = code_of(records.from_csv, "id,x\nA,1\nB,2\nA,3\n", "r.csv")
    assert.are.equal("espflash::provision::records", code)
    assert.are.equal("r.csv: line 4: id 'A' is also on line 2", msg)
    _, msg = code_of(records.from_csv, "id,x\n,1\n", "r.csv")
    assert.are.equal("r.csv: line 2: the record has no id (the first column)", msg)
    _, msg = code_of(records.from_csv, "", "r.csv")
    assert.are.equal("r.csv: the file is empty", msg)
    _, msg = code_of(records.from_csv, 'id\n"open\n', "r.csv")
    assert.matches("r.csv: line 2: a quoted field is never closed", msg, 1, true)
  end)
end)

describe("provision_records.counter", function()
  it("parses START and START:FORMAT", function()
    local c = records.counter("1000")
    assert.are.equal(1000, c.start)
    assert.are.equal("%d", c.format)
    c = records.counter("7:SN-%05d/100%%")
    assert.are.equal("SN-00007/100%", c.format:format(c.start))
  end)

  it("refuses a FORMAT without exactly one %d, and a bad START", function()
    for _, spec in ipairs({ "x", "-1", "1:SN", "1:%d-%d", "1:%s", "1:50%-%d", "" }) do
      local ok, err = pcall(records.counter, spec)
      assert.is_false(ok, spec)
      assert.are.equal("usage", err.code)
    end
  end)
end)

describe("provision_records.read_log", function()
  it("binds the MACs of the devices provisioned, not of the failed ones", function()
    local index = records.read_log(table.concat({
      '{"mac":"AA:00:00:00:00:01","serial":"SN-1","result":"ok"}',
      '',
      '{"mac":"aa:00:00:00:00:02","serial":"SN-2","result":"failed","error_code":"espflash::timeout"}',
      '{"port":"/dev/ttyUSB0","result":"failed"}',
    }, "\n") .. "\n", "log.jsonl")
    assert.are.same({ ["aa:00:00:00:00:01"] = "SN-1" }, index.bound)
    assert.are.same({ ["SN-1"] = "aa:00:00:00:00:01" }, index.owner)
    assert.are.equal(3, index.lines)
  end)

  it("refuses a damaged line, naming it", function()
    local code, msg = code_of(records.read_log, '{"mac":"a","serial":"b","result":"ok"}\n{"mac":\n', "log.jsonl")
    assert.are.equal("espflash::provision::log", code)
    assert.are.equal("log.jsonl: line 2 is not a JSON object", msg)
  end)
end)

describe("provision_records: taking records", function()
  local CSV = "serial,mac,batch\nSN-1,,A\nSN-2,aa:00:00:00:00:09,B\nSN-3,,C\nSN-4,,D\n"

  it("gives the next free row, and a device the same row again", function()
    local r = records.new(records.from_csv(CSV, "r.csv"))
    local a = r:take("aa:00:00:00:00:01")
    assert.are.same({ serial = "SN-1", fields = { serial = "SN-1", mac = "", batch = "A" }, reused = false }, a)
    assert.are.equal("SN-3", r:take("AA:00:00:00:00:02").serial)       -- SN-2 is reserved
    assert.are.equal(1, r:free())
    local again = r:take("aa:00:00:00:00:01")
    assert.are.equal("SN-1", again.serial)
    assert.is_true(again.reused)
    assert.are.equal("SN-2", r:take("aa:00:00:00:00:09").serial)       -- its reserved row
    assert.are.equal("SN-4", r:take("aa:00:00:00:00:03").serial)
    local code, msg = code_of(r.take, r, "aa:00:00:00:00:04")
    assert.are.equal("espflash::provision::no_records", code)
    assert.are.equal("no unused record left in r.csv for the device aa:00:00:00:00:04", msg)
  end)

  it("keeps the records the log gives and skips them for new devices", function()
    local log = '{"mac":"aa:00:00:00:00:05","serial":"SN-3","result":"ok"}\n'
    local r = records.new(records.from_csv(CSV, "r.csv"), records.read_log(log))
    assert.are.equal("SN-1", r:take("aa:00:00:00:00:01").serial)
    assert.are.equal("SN-4", r:take("aa:00:00:00:00:02").serial)
    local kept = r:take("aa:00:00:00:00:05")
    assert.are.equal("SN-3", kept.serial)
    assert.are.equal("C", kept.fields.batch)
    assert.is_true(kept.reused)
  end)

  it("says so when a logged record is no longer in the CSV", function()
    local log = '{"mac":"aa:00:00:00:00:05","serial":"SN-9","result":"ok"}\n'
    local r = records.new(records.from_csv(CSV, "r.csv"), records.read_log(log))
    local code, msg = code_of(r.take, r, "aa:00:00:00:00:05")
    assert.are.equal("espflash::provision::records", code)
    assert.are.equal("the device aa:00:00:00:00:05 was given serial 'SN-9' (see the log), which r.csv no longer has", msg)
  end)

  it("counts on after the highest number the log holds in the same format", function()
    local log = table.concat({
      '{"mac":"aa:00:00:00:00:01","serial":"SN-0012","result":"ok"}',
      '{"mac":"aa:00:00:00:00:02","serial":"SN-0010","result":"ok"}',
      '{"mac":"aa:00:00:00:00:03","serial":"X-0099","result":"ok"}',
      '{"mac":"aa:00:00:00:00:04","serial":"SN-12","result":"ok"}',
    }, "\n")
    local r = records.new(records.counter("10:SN-%04d"), records.read_log(log))
    assert.are.equal("SN-0013", r:take("aa:00:00:00:00:09").serial)
    assert.are.equal("SN-0014", r:take("aa:00:00:00:00:08").serial)
    assert.are.same({ serial = "SN-0010", fields = {}, reused = true }, r:take("aa:00:00:00:00:02"))
    assert.is_nil(r:free())
    local fresh = records.new(records.counter("7"))
    assert.are.equal("7", fresh:take("aa:00:00:00:00:01").serial)
    assert.are.equal("8", fresh:take("aa:00:00:00:00:02").serial)
  end)
end)

describe("provision_nvs templates", function()
  local DEVICE = { mac = "aa:00:00:00:00:01", chip = "esp32c3" }
  local function rec(serial, fields) return { serial = serial, fields = fields or {} } end

  it("fills placeholders with the record, serial, mac and chip, quoting as CSV needs", function()
    local tpl = template.parse(table.concat({
      "key,type,encoding,value", "# comment", "", "factory,namespace,,",
      "serial,data,string,${serial}", "note,data,string,\"${note} on ${chip}\"",
      "mac,data,string,${mac}", "rev,data,u8,${rev}", "price,data,string,$5",
    }, "\n"), "t.csv")
    local vars = template.vars(rec("SN-1", { note = 'say "hi", twice', rev = "3" }), DEVICE)
    local entries = nvs.parse(tpl:build(vars, 0x3000))
    local got = {}
    for _, e in ipairs(entries) do got[e.key] = e.value end
    assert.are.same({ serial = "SN-1", note = 'say "hi", twice on esp32c3', mac = "aa:00:00:00:00:01",
                      rev = 3, price = "$5" }, got)
  end)

  it("names the template's own line in errors", function()
    local tpl = template.parse("key,type,encoding,value\n\n# c\nns,namespace,,\nv,data,u8,${v}\nw,data,string,${nope}\n",
      "t.csv")
    local code, msg = code_of(tpl.fill, tpl, { v = "1" })
    assert.are.equal("espflash::provision::template", code)
    assert.are.equal("t.csv: line 6: unknown placeholder ${nope}", msg)
    local ok, err = pcall(tpl.build, tpl, { v = "300", nope = "x" }, 0x3000)
    assert.is_false(ok)
    assert.matches("t.csv: line 5: key 'v'", err.message, 1, true)
  end)

  it("has a default: namespace factory with serial, mac and the other columns", function()
    local tpl = template.default({ "serial", "batch", "mac", "hw rev" })
    local vars = template.vars(rec("SN-7", { serial = "SN-7", batch = "B,1", mac = "", ["hw rev"] = "2" }), DEVICE)
    local got = {}
    for _, e in ipairs(nvs.parse(tpl:build(vars, 0x3000))) do got[e.namespace .. "." .. e.key] = e.value end
    assert.are.same({ ["factory.serial"] = "SN-7", ["factory.mac"] = "aa:00:00:00:00:01",
                      ["factory.batch"] = "B,1", ["factory.hw rev"] = "2" }, got)
  end)

  it("checks every record before any device is touched", function()
    local tpl = template.parse("key,type,encoding,value\nf,namespace,,\nrev,data,u8,${rev}\n", "t.csv")
    tpl:check(records.from_csv("serial,rev\nA,1\nB,2\n", "r.csv"))
    local ok, err = pcall(tpl.check, tpl, records.from_csv("serial,rev\nA,1\nB,300\n", "r.csv"))
    assert.is_false(ok)
    assert.are.equal("espflash::provision::template", err.code)
    assert.matches("t.csv: line 3: key 'rev'.*%(record B%)$", err.message)
    ok, err = pcall(tpl.check, tpl, records.counter("1"))
    assert.is_false(ok)
    assert.are.equal("t.csv: line 3: unknown placeholder ${rev}", err.message)
  end)
end)
