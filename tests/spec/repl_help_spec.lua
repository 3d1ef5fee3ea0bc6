-- help() in `espflash repl` (espflash.repl_help): a function's text is the
-- comment above its definition in the library's source (checked against
-- the file read here), a module lists its functions with their first
-- sentences, an object its methods, C functions of the core come from the
-- API stubs, names may be given as strings, and embedded sources are found
-- through espflash.host.
local help = require("espflash.repl_help")
local espflash = require("espflash")

local ROOT = os.getenv("ESPFLASH_SOURCE_DIR") or "."

local read = require("helpers.files").read

-- The `---` lines right above the line `def` in `path`, without the dashes.
local function comment_in(path, def)
  local lines, found = {}, nil
  for line in (read(path) .. "\n"):gmatch("([^\n]*)\n") do
    if line == def then found = #lines + 1; break end
    lines[#lines + 1] = line
  end
  assert(found, def .. " not in " .. path)
  local out = {}
  for i = #lines, 1, -1 do
    local text = lines[i]:match("^%-%-%-%s?(.*)$")
    if not text then break end
    table.insert(out, 1, text)
  end
  return out
end

local function indented(lines)
  local out = {}
  for i, l in ipairs(lines) do out[i] = l == "" and "" or "  " .. l end
  return table.concat(out, "\n")
end

describe("repl_help.text", function()
  it("shows a function's signature and the comment above its definition", function()
    local want = comment_in(ROOT .. "/lua/espflash/nvs.lua", "function M.build(spec)")
    assert.are.equal("espflash.nvs.build(spec)\n" .. indented(want), help.text(espflash.nvs.build))
    want = comment_in(ROOT .. "/lua/espflash/portspec.lua", "function M.expand(spec, opts)")
    assert.are.equal("espflash.portspec.expand(spec, opts)\n" .. indented(want), help.text(espflash.portspec.expand))
  end)

  it("finds a name given as a string, with or without `espflash.`", function()
    local env = { espflash = espflash }
    assert.are.equal(help.text(espflash.nvs.parse), help.text("nvs.parse", env))
    assert.are.equal(help.text(espflash.nvs.parse), help.text("espflash.nvs.parse", env))
    assert.are.equal("help: no such name 'nvs.nothing'", help.text("nvs.nothing", env))
  end)

  it("lists a module's functions with the first sentence of each", function()
    local text = help.text(espflash.nvs)
    assert.are.equal("espflash.nvs\n  NVS partition images:", text:sub(1, 36))
    local path = ROOT .. "/lua/espflash/nvs.lua"
    local src = read(path)
    local count = 0
    for name, fn in pairs(espflash.nvs) do
      if type(fn) == "function" then
        count = count + 1
        local def = assert(src:match("\n(function M%." .. name .. "%b())\n"), name)
        local want = ("\n  %s%s  %s\n"):format(name, def:match("%b()$"), help.summary(comment_in(path, def)))
        assert.truthy((text .. "\n"):find(want, 1, true), want)
      end
    end
    assert.truthy(count >= 5)
  end)

  it("lists an object's methods, from its metatable", function()
    local dev <close> = espflash.connect{ port = "sim://esp32c3", stub = false }
    local text = help.text(dev)
    assert.truthy(text:find("^An object of espflash.device:\n  A connected chip"))
    local want = help.summary(comment_in(ROOT .. "/lua/espflash/device.lua", "function Device:write(addr, data, opts)"))
    assert.truthy(text:find("\n  write(addr, data, opts)  " .. want .. "\n", 1, true))
    assert.is_nil(text:find("_live", 1, true))
    assert.are.equal(help.text(dev.write), help.text("dev:write", { dev = dev }))
    assert.truthy(help.text(dev.write):find("^Device:write%(addr, data, opts%)\n  Writes `data`"))
  end)

  it("takes the core's C functions from the API stubs", function()
    local stub = comment_in(ROOT .. "/docs/api/core.lua", "function core.md5(s) end")
    assert.are.equal("espflash.core.md5(s)\n  " .. stub[1]:gsub("^%s+", ""), help.text(espflash.core.md5):match("^[^\n]*\n[^\n]*"))
    assert.truthy(help.text(espflash.core):find("\n  sha256(s)  ", 1, true))
    local sim = espflash.sim.new("esp32c3", {})
    local method = comment_in(ROOT .. "/docs/api/core.lua", "function Sim:flash_read(addr, size) end")
    assert.are.equal("Sim:flash_read(addr, size)\n  " .. method[1], help.text(sim.flash_read):match("^[^\n]*\n[^\n]*"))
    sim:close()
    assert.truthy(help.text(print):find("^print: a function of Lua itself"))
    assert.truthy(help.text(string.rep):find("^string.rep: a function of Lua itself"))
  end)

  it("gives an overview without an argument", function()
    local text = help.text(nil, { espflash = espflash }, true)
    assert.truthy(text:find("^help%(x%) shows the documentation"))
    for _, m in ipairs(espflash.API.modules) do
      assert.truthy(text:find("\n  espflash." .. m .. "  ", 1, true), m)
    end
  end)

  it("reads embedded sources through espflash.host, and says when there is no comment", function()
    local source = "local M = {}\n\n--- Doubles `x`.\n--- Really.\nfunction M.double(x) return 2 * x end\n"
      .. "function M.bare(a, b) end\nreturn M\n"
    local saved = package.loaded["espflash.host"]
    package.loaded["espflash.host"] = { embedded_source = function(name)
      if name == "@lua/espflash/fake_mod.lua" then return source end
    end }
    local ok, err = pcall(function()
      local mod = load(source, "@lua/espflash/fake_mod.lua")()
      assert.are.equal("espflash.fake_mod.double(x)\n  Doubles `x`.\n  Really.", help.text(mod.double))
      assert.are.equal("espflash.fake_mod.bare(a, b)\n  (no documentation)", help.text(mod.bare))
    end)
    package.loaded["espflash.host"] = saved
    assert(ok, err)
  end)

  it("says what other values are", function()
    assert.are.equal("42: a number; help(x) documents functions, modules and objects", help.text(42))
    assert.are.equal("a table with 2 named fields: a, b", help.text({ a = 1, b = 2, 3 }))
  end)
end)

describe("repl_help.summary", function()
  it("takes the first sentence, at most SUMMARY_WIDTH characters", function()
    assert.are.equal("Reads a file.", help.summary({ "Reads a file. Then", "more." }))
    assert.are.equal("Two lines end here.", help.summary({ "Two lines", "end here.", "", "Another paragraph." }))
    local long = help.summary({ ("word "):rep(40) .. "." })
    assert.truthy(#long <= help.SUMMARY_WIDTH)
    assert.truthy(long:find(" %.%.%.$"))
  end)
end)
