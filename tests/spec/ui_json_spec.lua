-- --json: the encoder, and every command's document (run through the built
-- binary against the virtual device) checked against the JSON Schema that
-- docs/json.md holds, after decoding with lua-cjson.
local json = require("espflash.json")
local cjson = require("cjson")

local SRC = os.getenv("ESPFLASH_SOURCE_DIR") or "."
local BIN = os.getenv("ESPFLASH_BIN")
local STUBS = os.getenv("ESPFLASH_STUBS")
local TESTDATA = os.getenv("ESPFLASH_TESTDATA")

local files = require("helpers.files")
local read = files.read_file

-- The schema: the first ```json block after "## Schema" in docs/json.md.
local function schema()
  local doc = assert(read(SRC .. "/docs/json.md"), "docs/json.md is missing")
  local block = doc:match("\n## Schema\n.-\n```json\n(.-)\n```")
  assert(block, "docs/json.md has no ```json block under ## Schema")
  return cjson.decode(block)
end

-- A JSON Schema validator for the keywords the schema uses; returns nil or
-- "path: why".
local function validate(root, s, v, path)
  local function fail(fmt, ...) return path .. ": " .. fmt:format(...) end
  if s["$ref"] then
    local target = root
    for part in s["$ref"]:gsub("^#/", ""):gmatch("[^/]+") do target = target[part] end
    local err = validate(root, assert(target, s["$ref"]), v, path)
    if err then return err end
  end
  if s.oneOf then
    local matched, errs = 0, {}
    for i, sub in ipairs(s.oneOf) do
      local err = validate(root, sub, v, path)
      if err then errs[#errs + 1] = ("[%d] %s"):format(i, err) else matched = matched + 1 end
    end
    if matched ~= 1 then return fail("matches %d of oneOf (%s)", matched, table.concat(errs, "; ")) end
  end
  local kind = type(v)
  if v == cjson.null then
    kind = "null"
  elseif kind == "table" then
    kind = (#v > 0 or (next(v) == nil and s.type == "array")) and "array" or "object"
  elseif kind == "number" then
    kind = v == math.floor(v) and "integer" or "number"
  end
  if s.type then
    local types = type(s.type) == "table" and s.type or { s.type }
    local ok = false
    for _, t in ipairs(types) do ok = ok or t == kind or (t == "number" and kind == "integer") end
    if not ok then return fail("is %s, not %s", kind, table.concat(types, "|")) end
  end
  if s.const ~= nil and v ~= s.const then return fail("is %s, not %s", tostring(v), tostring(s.const)) end
  if s.enum then
    local ok = false
    for _, e in ipairs(s.enum) do ok = ok or e == v end
    if not ok then return fail("'%s' is not one of the enum", tostring(v)) end
  end
  if kind == "string" then
    if s.minLength and #v < s.minLength then return fail("'%s' is shorter than %d", v, s.minLength) end
    if s.maxLength and #v > s.maxLength then return fail("'%s' is longer than %d", v, s.maxLength) end
  end
  if kind == "integer" or kind == "number" then
    if s.minimum and v < s.minimum then return fail("%s < %s", v, s.minimum) end
    if s.maximum and v > s.maximum then return fail("%s > %s", v, s.maximum) end
  end
  if kind == "object" then
    for _, k in ipairs(s.required or {}) do
      if v[k] == nil then return fail("lacks '%s'", k) end
    end
    for k, val in pairs(v) do
      local sub = s.properties and s.properties[k]
      if sub then
        local err = validate(root, sub, val, path .. "." .. k)
        if err then return err end
      elseif s.additionalProperties == false then
        return fail("has the unexpected key '%s'", k)
      end
    end
  end
  if kind == "array" and s.items then
    for i, item in ipairs(v) do
      local err = validate(root, s.items, item, ("%s[%d]"):format(path, i))
      if err then return err end
    end
  end
  return nil
end

local SCHEMA = schema()
local function check(doc) return validate(SCHEMA, SCHEMA, doc, "$") end

describe("json.encode", function()
  it("writes sorted objects, arrays, null and escaped strings", function()
    assert.are.equal('{"a":[1,true,null],"b":{},"c":[],"d":"q\\"\\\\/\\n\\u0001é","e":-2}',
      json.encode({ e = -2, d = "q\"\\/\n\1é", c = json.array(), b = {}, a = { 1, true, json.null } }))
    assert.are.equal('"\239\191\189x\239\191\189"', json.encode("\255x\192"))
    assert.are.equal("0.5", json.encode(0.5))
    assert.has_error(function() json.encode({ [1] = 1, [3] = 3 }) end, "json: object keys must be strings, not number")
    assert.has_error(function() json.encode(0 / 0) end)
    assert.has_error(function() json.encode(print) end, "json: cannot encode a function")
  end)

  it("round-trips through lua-cjson", function()
    local v = { name = "/dev/serial/by-id/usb-Espressif_USB_JTAG", list = { "x", "y" }, n = 4294967295 }
    assert.are.same(v, cjson.decode(json.encode(v)))
  end)
end)

describe("the documented schema", function()
  it("accepts documents of its shape and refuses others", function()
    assert.is_nil(check(cjson.decode(json.encode(json.success("checksum-md5",
      { address = 4096, size = 256, md5 = ("0"):rep(32) })))))
    assert.is_nil(check(cjson.decode(json.encode(json.failure("flash", { code = "espflash::x", message = "m" })))))
    assert.matches("lacks 'md5'", check(cjson.decode('{"schema":1,"command":"checksum-md5","ok":true,'
      .. '"result":{"address":1,"size":2}}')))
    assert.matches("unexpected key 'extra'", check(cjson.decode('{"schema":1,"command":"checksum-md5","ok":true,'
      .. '"result":{"address":1,"size":2,"md5":"' .. ("0"):rep(32) .. '","extra":1}}')))
    assert.matches("is string, not integer", check(cjson.decode('{"schema":1,"command":"read-flash","ok":true,'
      .. '"result":{"address":"1","size":2,"file":"f","md5":"' .. ("0"):rep(32) .. '"}}')))
    assert.matches("matches 0 of oneOf", check(cjson.decode('{"schema":2,"command":"flash","ok":false,'
      .. '"error":{"code":null,"message":"m","hint":null}}')))
  end)
end)

-- Runs the binary; returns the decoded document, the raw stdout and the exit status.
local WORK
local function espflash(args, env)
  local cmd = ("cd '%s' && HOME='%s/home' XDG_CONFIG_HOME= ESPFLASH_PORT= ESPFLASH_BAUD= %s '%s' %s 2>'%s/err'")
    :format(WORK, WORK, env or "", BIN, args, WORK)
  local p = io.popen(cmd)
  local out = p:read("a")
  local _, _, status = p:close()
  local lines = select(2, out:gsub("\n", ""))
  assert.are.equal(1, lines, "stdout must be one line: " .. out .. "\nstderr: " .. tostring(read(WORK .. "/err")))
  local ok, doc = pcall(cjson.decode, out)
  assert(ok, "not JSON: " .. out)
  local err = check(doc)
  assert(err == nil, tostring(err) .. "\n" .. out)
  return doc, out, status
end

describe("--json documents", function()
  local have_stubs = STUBS and read(STUBS .. "/esp32c3.json")
  before_each(function() WORK = files.tmpdir() end)
  after_each(function() os.execute(("rm -rf '%s'"):format(WORK)) end)

  it("board-info", function()
    if not (BIN and have_stubs) then pending("needs $ESPFLASH_BIN and the flasher stubs") return end
    local doc, _, status = espflash("board-info --json -p sim://esp32c3")
    assert.are.equal(0, status)
    assert.are.same({ "board-info", true, "sim://esp32c3", "esp32c3", "0.4", "60:55:f9:7e:7b:c0", 5 },
      { doc.command, doc.ok, doc.result.port, doc.result.chip, doc.result.revision, doc.result.mac,
        doc.result.security.chip_id })
    assert.matches("Chip type:         esp32c3", read(WORK .. "/err"))
    doc = espflash("board-info --json -p sim://esp32 --no-stub")
    assert.are.equal(cjson.null, doc.result.security)
  end)

  it("checksum-md5 and read-flash", function()
    if not (BIN and have_stubs) then pending("needs $ESPFLASH_BIN and the flasher stubs") return end
    local ff = ("\255"):rep(256)
    local doc = espflash("checksum-md5 --json -p sim://esp32c3 0x1000 0x100")
    assert.are.same({ address = 4096, size = 256, md5 = require("espflash.core").md5_hex(ff) }, doc.result)
    doc = espflash(("read-flash --json -p sim://esp32c3 0x1000 256 '%s/out.bin'"):format(WORK))
    assert.are.same({ address = 4096, size = 256, file = WORK .. "/out.bin",
                      md5 = "827f263ef9fb63d05499d14fcef32f60" }, doc.result)
    assert.are.equal(ff, read(WORK .. "/out.bin"))
  end)

  it("list-ports", function()
    if not BIN then pending("needs $ESPFLASH_BIN") return end
    files.write(WORK .. "/ports.json", '[{"name":"/dev/ttyUSB0","type":"usb","vid":"10c4","pid":"ea60",'
      .. '"serial":"0001","usb_path":"1-2","usb_interface":"1.0","product":"CP2102"},{"name":"/dev/ttyS0","type":"pci"}]')
    local env = ("ESPFLASH_TEST_PORTS='%s/ports.json'"):format(WORK)
    local doc = espflash("list-ports --json", env)
    assert.are.equal(1, #doc.result.ports)
    assert.are.same({ "/dev/ttyUSB0", "10c4", "ea60", "0001", "1-2:1.0", true }, { doc.result.ports[1].name,
      doc.result.ports[1].vid, doc.result.ports[1].pid, doc.result.ports[1].serial, doc.result.ports[1].location,
      doc.result.ports[1].known })
    doc = espflash("list-ports --json -a -n", env)
    assert.are.same({ "/dev/ttyS0", "pci", false, "/dev/ttyUSB0" }, { doc.result.ports[1].name,
      doc.result.ports[1].type, doc.result.ports[1].known, doc.result.ports[2].name })
    doc = espflash("list-ports --json", ("ESPFLASH_TEST_PORTS='%s/none.json'"):format(WORK))
    assert.is_false(doc.ok)
  end)

  it("flash, then flash again with every segment skipped", function()
    local elf = TESTDATA and TESTDATA .. "/elf/esp32c3.elf"
    if not (BIN and have_stubs and elf and read(elf)) then pending("needs $ESPFLASH_TESTDATA and the stubs") return end
    local port = ("sim://esp32c3?flash=%s/flash.bin"):format(WORK)
    local env = ("ESPFLASH_RESOURCES='%s'"):format(TESTDATA)
    local doc = espflash(("flash --json -p '%s' '%s'"):format(port, elf), env)
    local r = doc.result
    assert.are.same({ "esp32c3", false, 3 }, { r.chip, r.ram, #r.segments })
    assert.are.same({ 0, "bootloader", false }, { r.segments[1].address, r.segments[1].name, r.segments[1].skipped })
    assert.are.same({ 0x8000, 0x10000 }, { r.segments[2].address, r.segments[3].address })
    assert.are.equal(r.total, r.segments[1].size + r.segments[2].size + r.segments[3].size)
    doc = espflash(("flash --json -p '%s' '%s'"):format(port, elf), env)
    assert.are.equal(0, doc.result.written)
    for _, s in ipairs(doc.result.segments) do assert.is_true(s.skipped) end
  end)

  it("a failure: ok false with the error's code, message and hint, and exit status 1", function()
    if not BIN then pending("needs $ESPFLASH_BIN") return end
    local doc, _, status = espflash("board-info --json -p /dev/nonexistent-port")
    assert.are.equal(1, status)
    assert.is_false(doc.ok)
    assert.are.equal("espflash::serial_not_found", doc.error.code)
    assert.matches("/dev/nonexistent%-port", doc.error.message)
    assert.matches("%[espflash::serial_not_found%]", read(WORK .. "/err"))
  end)
end)
