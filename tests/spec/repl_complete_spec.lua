-- Tab completion in `espflash repl` (espflash.repl_complete): names of the
-- prompt's variables and keywords, fields of modules (with the espflash
-- table's modules not loaded yet), methods of objects through their
-- metatables (a connected virtual device, userdata, strings), nothing
-- inside strings and comments or after what cannot be resolved.
local complete = require("espflash.repl_complete")
local espflash = require("espflash")
local repl = require("espflash.repl")

local c = complete.candidates

describe("repl_complete.candidates", function()
  it("completes the prompt's variables and the keywords", function()
    local env = { alpha = 1, alps = 2, beta = 3, _hidden = 4, [1] = "x", ["not a name"] = 5 }
    assert.are.same({ "alpha", "alps" }, c("x = al", env))
    assert.are.same({ "while" }, c("wh", env))
    assert.are.same({ "_hidden" }, c("_h", env))
    local all = " " .. table.concat(c("", env), " ") .. " "
    assert.is_nil(all:find("_hidden", 1, true))
    for _, k in ipairs({ "alpha", "alps", "beta", "end", "function", "local" }) do
      assert.truthy(all:find(" " .. k .. " ", 1, true), k)
    end
  end)

  it("completes a module's fields, and espflash's modules before they are loaded", function()
    local env = { espflash = espflash }
    assert.are.same({ "build" }, c("espflash.nvs.b", env))
    assert.are.same({ "format", "from_csv" }, c("print(espflash.nvs.f", env))
    local names = {}
    for _, k in ipairs(c("espflash.", env)) do names[k] = true end
    for _, list in ipairs({ espflash.API.functions, espflash.API.modules }) do
      for _, k in ipairs(list) do assert.is_true(names[k], k) end
    end
  end)

  it("completes methods through the metatable's __index, inherited ones too", function()
    local Base = { hello = function() end, _private = function() end }
    Base.__index = Base
    local Derived = setmetatable({ bye = function() end, NAME = "d" }, Base)
    Derived.__index = Derived
    local env = { obj = setmetatable({ field = 1, fn = function() end }, Derived) }
    assert.are.same({ "bye", "fn", "hello" }, c("obj:", env))
    assert.are.same({ "NAME", "bye", "field", "fn", "hello" }, c("obj.", env))
    assert.are.same({ "_private" }, c("obj:_p", env))
  end)

  it("completes a string's methods and a userdata's", function()
    assert.are.same({ "upper" }, c("s:up", { s = "text" }))
    local sim = espflash.sim.new("esp32c3", {})
    local names = c("s:", { s = sim })
    sim:close()
    assert.truthy(#names > 0)
    for _, k in ipairs(names) do assert.are.equal("function", type(sim[k]), k) end
    assert.truthy(table.concat(names, " "):find("flash_read", 1, true))
  end)

  it("completes a connected virtual device's methods, not its private ones", function()
    local dev <close> = espflash.connect{ port = "sim://esp32c3", stub = false }
    local env = { dev = dev }
    local methods = c("dev:", env)
    for _, k in ipairs({ "close", "erase_region", "info", "md5", "read", "read_reg", "reset", "write" }) do
      assert.truthy(table.concat(methods, " "):find("%f[%w_]" .. k .. "%f[^%w_]"), k)
    end
    for _, k in ipairs(methods) do
      assert.are.equal("function", type(dev[k]), k)
      assert.are_not.equal("_", k:sub(1, 1))
    end
    assert.are.same({ "write", "write_reg" }, c("dev:wr", env))
    assert.truthy(table.concat(c("dev.", env), " "):find("%f[%w]port%f[^%w_]"))
  end)

  it("offers nothing inside strings and comments, or for what it cannot resolve", function()
    local env = { espflash = espflash, t = { x = { y = 1 } } }
    assert.are.same({}, c('print("espflash.', env))
    assert.are.same({}, c("s = [[espflash.", env))
    assert.are.same({}, c("x = 1 -- espflash.", env))
    assert.are.same({ "nvs" }, c('print("a", espflash.nv', env))
    assert.are.same({}, c("nothing.x", env))
    assert.are.same({}, c("t.x.y.", env))
    assert.are.same({}, c("t:x.y", env))
    assert.are.same({}, c("x = 3.1", env))
    assert.are.same({}, c("f().x", env))
    assert.are.same({ "y" }, c("t.x.", env))
  end)

  it("does not call __index functions to list fields, and survives ones that raise", function()
    local calls = 0
    local obj = setmetatable({ a = 1 }, { __index = function() calls = calls + 1; error("no") end })
    assert.are.same({ "a" }, c("o.", { o = obj }))
    assert.are.same({}, c("o.b.", { o = obj }))
    local broken = setmetatable({}, { __pairs = function() error("no pairs") end })
    assert.are.same({}, c("b.", { b = broken }))
  end)

  it("sees the REPL's kept locals and builtins", function()
    local globals = { gvar = 1 }
    local env, keep = repl.scope(globals, { help = function() end })
    local chunk = repl.read_chunk(function() return "local lvar = 2" end, env)
    chunk(keep)
    assert.are.same({ "gvar" }, c("gv", env))
    assert.are.same({ "lvar" }, c("lv", env))
    assert.are.same({ "help" }, c("hel", env))
  end)
end)
