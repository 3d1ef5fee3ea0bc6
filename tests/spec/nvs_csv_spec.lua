-- nvs.from_csv: nvs_partition_gen's CSV format (every type and encoding,
-- quoting, comments, file rows), its errors (one line naming the CSV line),
-- and nvs.to_csv giving back CSV that builds the same entries.
local nvs = require("espflash.nvs")
local csv = require("espflash.nvs_csv")

local HEAD = "key,type,encoding,value\n"

local function parse_csv(text, opts)
  local entries, problems = nvs.parse(nvs.from_csv(text, opts))
  assert.are.same({}, problems)
  return entries
end

local function fails(text, pattern, opts)
  local ok, err = pcall(nvs.from_csv, text, opts)
  assert.is_false(ok, "expected an error matching " .. pattern)
  assert.are.equal("espflash::nvs::invalid_input", err.code, tostring(err))
  assert.matches(pattern, err.message)
  assert.is_nil(err.message:find("\n"), "one line")
end

describe("nvs CSV", function()
  it("builds an image with every encoding and parses back the same values", function()
    local text = HEAD .. table.concat({
      "# provisioning data",
      "factory,namespace,,",
      "u8,data,u8,255", "i8,data,i8,-128", "u16,data,u16,65535", "i16,data,i16,-32768",
      "u32,data,u32,4294967295", "i32,data,i32,-2147483648",
      "u64,data,u64,18446744073709551615", "i64,data,i64,-9223372036854775808",
      "str,data,string,hello world",
      "hex,data,hex2bin,DEADbeef",
      "b64,data,base64,aGVsbG8gd29ybGQ=",
      "bin,data,binary,raw text",
      "wifi,namespace,,",
      [["quoted",data,string,"a, ""b"" and
a new line"]],
      "spaces,data,string, keeps spaces ",
    }, "\n") .. "\n"
    local got = {}
    for _, e in ipairs(parse_csv(text)) do got[#got + 1] = { e.namespace, e.key, e.type, e.value } end
    assert.are.same({
      { "factory", "u8", "u8", 255 }, { "factory", "i8", "i8", -128 },
      { "factory", "u16", "u16", 65535 }, { "factory", "i16", "i16", -32768 },
      { "factory", "u32", "u32", 4294967295 }, { "factory", "i32", "i32", -2147483648 },
      { "factory", "u64", "u64", -1 }, { "factory", "i64", "i64", math.mininteger },
      { "factory", "str", "string", "hello world" },
      { "factory", "hex", "blob", "\xDE\xAD\xBE\xEF" },
      { "factory", "b64", "blob", "hello world" },
      { "factory", "bin", "blob", "raw text" },
      { "wifi", "quoted", "string", 'a, "b" and\na new line' },
      { "wifi", "spaces", "string", " keeps spaces " },
    }, got)
  end)

  it("takes the columns in the order the header names them, CRLF lines and a BOM", function()
    local entries = parse_csv("\239\187\191value,key,encoding,type\r\n,ns,,namespace\r\n7,n,u8,data\r\n")
    assert.are.same({ "ns", "n", 7 }, { entries[1].namespace, entries[1].key, entries[1].value })
  end)

  it("reads file rows relative to the CSV's directory", function()
    local dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -p " .. dir .. "/data"))
    local function put(name, s)
      local f = assert(io.open(dir .. "/" .. name, "wb"))
      f:write(s)
      f:close()
    end
    put("data/blob.bin", "\0\1\2\255")
    put("data/hex.txt", "  0a0b0c\n")
    put("data/b64.txt", "aGk=\n")
    put("data/name.txt", "device-7")
    local entries = parse_csv(HEAD .. "f,namespace,,\nblob,file,binary,data/blob.bin\n"
      .. "hex,file,hex2bin,data/hex.txt\nb64,file,base64,data/b64.txt\nname,file,string,data/name.txt\n",
      { base_dir = dir })
    fails(HEAD .. "f,namespace,,\nx,file,binary,data/missing.bin\n", "line 3: cannot read file for key 'x'",
      { base_dir = dir })
    os.execute("rm -rf " .. dir)
    assert.are.same({ "\0\1\2\255", "\n\v\f", "hi", "device-7" },
      { entries[1].value, entries[2].value, entries[3].value, entries[4].value })
    assert.are.equal("string", entries[4].type)
  end)

  it("gives one clear line naming the CSV line for each mistake", function()
    local ns = HEAD .. "ns,namespace,,\n"
    fails(ns .. "k,data,u9,1\n", "^nvs.csv: line 3: unknown encoding 'u9' for key 'k' %(use u8, i8,", { name = "nvs.csv" })
    fails(ns .. "k,data,u8,256\n", "line 3: key 'k': 256 is out of range for u8 %(0..255%)")
    fails(ns .. "k,data,i32,twelve\n", "line 3: key 'k': 'twelve' is not an integer")
    fails(ns .. "k,data,u64,18446744073709551616\n", "line 3: key 'k': 18446744073709551616 is out of range for u64")
    fails(ns .. "k,data,hex2bin,abc\n", "line 3: key 'k': hex data has an odd number of digits")
    fails(ns .. "k,data,hex2bin,zz\n", "line 3: key 'k': 'z' at position 1 is not a hex digit")
    fails(ns .. "k,data,base64,@@@\n", "line 3: key 'k': invalid base64")
    fails(ns .. "k,blob,u8,1\n", "line 3: unknown type 'blob' for key 'k' %(use namespace, data or file%)")
    fails(ns .. "k,file,u8,x.bin\n", "line 3: a file entry's encoding must be one of")
    fails(ns .. "k,data,,1\n", "line 3: key 'k' has no encoding")
    fails(ns .. "k,data,u8\n", "line 3: key 'k' has no value")
    fails(ns .. "sixteen_chars_xx,data,u8,1\n", "line 3: key 'sixteen_chars_xx' is 16 bytes long; NVS keys have at most 15")
    fails(ns .. ",data,u8,1\n", "line 3: the key is empty")
    fails(HEAD .. "# comment\nk,data,u8,1\n", "line 3: entry 'k' comes before any namespace")
    fails(HEAD .. "namespace_too_long,namespace,,\n", "line 2: key 'namespace_too_long' is 18 bytes long")
    fails("name,kind\nns,namespace\n", "line 1: the header row must name the columns key,type,encoding,value")
    fails("# nothing\n", "the CSV is empty")
    fails(ns .. 'k,data,string,"never closed\n', "line 3: a quoted field is never closed")
    fails(ns .. "k,data,string," .. ("x"):rep(4000) .. "\n", "line 3: the string for key 'k' is 4001 bytes")
  end)

  it("says which size is too small", function()
    local ok, err = pcall(nvs.from_csv, HEAD .. "ns,namespace,,\nb,data,binary," .. ("x"):rep(9000) .. "\n",
      { size = 0x3000 })
    assert.is_false(ok)
    assert.are.equal("espflash::nvs::too_small", err.code)
    assert.matches("0x3000%-byte", err.message)
    assert.is_table(nvs.parse((nvs.from_csv(HEAD .. "ns,namespace,,\nb,data,binary," .. ("x"):rep(9000) .. "\n",
      { size = 0x5000 }))))
  end)

  it("splits records like Python's csv module", function()
    local recs = csv.records('a,"b,c",d\n"x""y",z"q,\n\n#c\n"multi\nline",2\n')
    assert.are.same({ "a", "b,c", "d" }, recs[1].fields)
    assert.are.same({ 'x"y', 'z"q', "" }, recs[2].fields)
    assert.are.same({ "multi\nline", "2" }, recs[3].fields)
    assert.are.same({ 1, 2, 5 }, { recs[1].line, recs[2].line, recs[3].line })
  end)

  it("writes CSV that builds the same image", function()
    local text = HEAD .. "a,namespace,,\nn,data,u64,18446744073709551615\ns,data,string,\"x,y\"\"z\"\n"
      .. "b,data,hex2bin,00ff\nc,namespace,,\nm,data,i8,-1\nt,data,string, lead\n"
    local image = nvs.from_csv(text)
    local back = nvs.to_csv((nvs.parse(image)))
    assert.are.equal(image, nvs.from_csv(back))
    assert.matches("b,data,base64,AP8=", back, 1, true)
  end)
end)
