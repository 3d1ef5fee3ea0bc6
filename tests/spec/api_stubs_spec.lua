-- docs/api/*.lua, the editor stubs, against the library: every declared
-- function exists with the declared parameters (Lua functions: the same
-- count, `...` alike), every `---@param` names a parameter of the function
-- below it, and for the modules whose surface is complete every public
-- function of the real module is declared.
local root = os.getenv("ESPFLASH_SOURCE_DIR") or "."
local DIR = root .. "/docs/api"

local read = require("helpers.files").read

-- { [table name] = { [function name] = {params = {...}, method = bool, line = n} } }
local function declarations(text, file)
  local decls, pending = {}, {}
  local n = 0
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    n = n + 1
    local p = line:match("^%-%-%-@param%s+([%w_%.]+)")
    if p then pending[#pending + 1] = (p:gsub("%?$", "")) end
    local tname, sep, fname, params = line:match("^function%s+([%w_]+)([%.:])([%w_]+)%((.-)%)")
    if tname then
      local list = {}
      for name in params:gmatch("[^,%s]+") do list[#list + 1] = name end
      decls[tname] = decls[tname] or {}
      assert(not decls[tname][fname], file .. ":" .. n .. ": " .. tname .. sep .. fname .. " declared twice")
      decls[tname][fname] = { params = list, method = sep == ":", line = n, doc_params = pending }
      pending = {}
    elseif not line:match("^%-%-%-") then
      pending = {}
    end
  end
  return decls
end

local all = {}
local files = {}
for _, name in ipairs({ "espflash", "device", "connect", "parallel", "portspec", "errors", "chips", "image",
                        "partitions", "flash", "elf", "nvs", "sim", "core", "provision" }) do
  local path = DIR .. "/" .. name .. ".lua"
  local text = read(path)
  files[name] = text
  for t, fns in pairs(declarations(text, path)) do
    assert(not all[t], "table " .. t .. " declared in two files")
    all[t] = { fns = fns, file = path }
  end
end

local function public_functions(t)
  local out = {}
  for k, v in pairs(t) do
    if type(k) == "string" and type(v) == "function" and not k:match("^_") then out[#out + 1] = k end
  end
  table.sort(out)
  return out
end

-- the real objects: module tables and the metatables of their objects
local function real_objects()
  local espflash = require("espflash")
  local chips = require("espflash.chips")
  local objects = {
    espflash = { t = espflash, complete = true, only = { list_ports = true, ports = true, each_device = true } },
    connect = { t = require("espflash.connect") },
    parallel = { t = require("espflash.parallel"), complete = true },
    portspec = { t = require("espflash.portspec"), complete = true },
    errors = { t = require("espflash.errors") },
    chips = { t = chips, complete = true },
    image = { t = require("espflash.image"), complete = true },
    partitions = { t = require("espflash.partitions"), complete = true },
    flash = { t = require("espflash.flash"), complete = true },
    elf = { t = require("espflash.elf") },
    nvs = { t = require("espflash.nvs"), complete = true },
    sim = { t = require("espflash.sim") },
    core = { t = require("espflash.core") },
    provision = { t = require("espflash.provision"), complete = true },
  }
  local tbl = require("espflash.partitions").default(chips.get("esp32c3"), 4 * 1024 * 1024)
  objects.Table = { t = getmetatable(tbl), complete = true }
  local job_mt
  require("espflash.parallel").map({ 1 }, function(_, _, job) job_mt = getmetatable(job) end)
  objects.Job = { t = job_mt, complete = true }
  local sim = require("espflash.sim").open("sim://esp32c3")
  objects.Sim = { t = getmetatable(sim).__index }
  local port = require("espflash.core").open("sim://esp32c3", { sim = sim })
  objects.Port = { t = getmetatable(port).__index }
  objects.Device = { t = getmetatable(require("espflash.device").new({})), complete = true }
  local tdata = os.getenv("ESPFLASH_TESTDATA")
  local ok, e = pcall(require("espflash.elf").load, (tdata or "") .. "/elf/esp32c3.elf")
  if ok then objects.Elf = { t = getmetatable(e) } end
  return objects, function() port:close(); sim:close() end
end

describe("docs/api stubs", function()
  it("are valid Lua", function()
    for name, text in pairs(files) do
      assert(load(text, "=docs/api/" .. name .. ".lua", "t"))
    end
  end)

  it("document every parameter they declare, and nothing else", function()
    for t, d in pairs(all) do
      for f, decl in pairs(d.fns) do
        local want = {}
        for _, p in ipairs(decl.params) do if p ~= "..." then want[#want + 1] = p end end
        local where = ("%s:%d %s.%s"):format(d.file, decl.line, t, f)
        assert.are.same(want, decl.doc_params, where .. ": ---@param lines differ from the parameters")
      end
    end
  end)

  local objects, cleanup = real_objects()
  teardown(cleanup)

  it("cover every table with a real counterpart", function()
    for t in pairs(all) do
      if t ~= "Elf" or objects.Elf then
        assert(objects[t], "docs/api declares functions on '" .. t .. "', which the spec does not know")
      end
    end
  end)

  for t, obj in pairs(objects) do
    it("declare only real functions of " .. t .. ", with their parameters", function()
      local d = assert(all[t], "docs/api declares nothing for " .. t)
      for f, decl in pairs(d.fns) do
        local real = obj.t[f]
        local where = ("%s:%d %s%s%s"):format(d.file, decl.line, t, decl.method and ":" or ".", f)
        assert(type(real) == "function", where .. ": no such function in the library")
        local info = debug.getinfo(real, "u")
        if info.what ~= "C" and debug.getinfo(real, "S").what ~= "C" then
          local n = #decl.params
          local vararg = decl.params[n] == "..."
          if vararg then n = n - 1 end
          if decl.method then n = n + 1 end
          assert.are.equal(n, info.nparams, where .. ": parameter count differs from the library's")
          assert.are.equal(vararg, info.isvararg, where .. ": '...' differs from the library's")
        end
      end
    end)
    if obj.complete then
      it("declare every public function of " .. t, function()
        local d = all[t] or { fns = {} }
        for _, f in ipairs(public_functions(obj.t)) do
          if not obj.only or obj.only[f] then
            assert(d.fns[f], ("%s.%s is public but not declared in docs/api"):format(t, f))
          end
        end
      end)
    end
  end
end)
