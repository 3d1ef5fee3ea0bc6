-- The REPL's value printer and its lua.c-style chunk reader.
local repl = require("espflash.repl")
local errors = require("espflash.errors")

describe("repl.format", function()
  it("quotes strings and escapes control bytes", function()
    assert.are.equal('"abc"', repl.format("abc"))
    assert.are.equal('"a\\nb\\t\\"q\\"\\\\"', repl.format('a\nb\t"q"\\'))
    assert.are.equal('"\\000\\027"', repl.format("\0\27"))
    assert.are.equal('"h\195\169"', repl.format("h\195\169"))
  end)

  it("prints scalars as Lua does", function()
    assert.are.equal("42", repl.format(42))
    assert.are.equal("1.5", repl.format(1.5))
    assert.are.equal("1.0", repl.format(1.0))
    assert.are.equal("true", repl.format(true))
    assert.are.equal("nil", repl.format(nil))
  end)

  it("prints tables: array part, then sorted keys", function()
    assert.are.equal("{}", repl.format({}))
    assert.are.equal('{ 1, 2, "x" }', repl.format({ 1, 2, "x" }))
    assert.are.equal('{ 10, [5] = true, a = 1, b = { c = "d" } }',
      repl.format({ 10, b = { c = "d" }, a = 1, [5] = true }))
    assert.are.equal('{ ["and"] = 1, ["two words"] = 2 }', repl.format({ ["two words"] = 2, ["and"] = 1 }))
  end)

  it("breaks wide tables over indented lines", function()
    local t = { long = ("x"):rep(50), other = ("y"):rep(40) }
    assert.are.equal('{\n  long = "' .. ("x"):rep(50) .. '",\n  other = "' .. ("y"):rep(40) .. '"\n}', repl.format(t))
  end)

  it("marks cycles but prints shared tables in full", function()
    local t = { name = "loop" }
    t.self = t
    assert.are.equal('{ name = "loop", self = <cycle> }', repl.format(t))
    local shared = { 1 }
    assert.are.equal("{ a = { 1 }, b = { 1 } }", repl.format({ a = shared, b = shared }))
  end)

  it("stops at the depth and item limits", function()
    assert.are.equal("{ { {...} } }", repl.format({ { { 1 } } }, { depth = 2 }))
    assert.are.equal("{ 1, 2, ... (3 more) }", repl.format({ 1, 2, 3, 4, 5 }, { items = 2 }))
  end)

  it("uses __tostring when a table has one", function()
    assert.are.equal("no port", repl.format(errors.new("espflash::x", "no port")))
  end)

  it("joins several results with tabs", function()
    assert.are.equal('1\t"a"\tnil', repl.format_results({ n = 3, 1, "a", nil }, 1, 3))
  end)
end)

describe("repl.read_chunk", function()
  local function reader(lines)
    local prompts, i = {}, 0
    return function(prompt)
      prompts[#prompts + 1] = prompt
      i = i + 1
      return lines[i]
    end, prompts
  end

  it("tries `return <line>` first", function()
    local read, prompts = reader({ "1 + 2" })
    local chunk, src = repl.read_chunk(read, _G)
    assert.are.equal(3, chunk())
    assert.are.equal("1 + 2", src)
    assert.are.same({ "> " }, prompts)
  end)

  it("continues while the statement is incomplete", function()
    local read, prompts = reader({ "local function f(x)", "return x * 2", "end return f(21)" })
    local chunk, src = repl.read_chunk(read, _G)
    assert.are.equal(42, chunk())
    assert.are.equal("local function f(x)\nreturn x * 2\nend return f(21)", src)
    assert.are.same({ "> ", ">> ", ">> " }, prompts)
  end)

  it("reports a syntax error that is not about the end of input", function()
    local chunk, src, msg = repl.read_chunk(reader({ "x = = 1" }), _G)
    assert.is_nil(chunk)
    assert.are.equal("x = = 1", src)
    assert.truthy(msg:find("stdin:1:", 1, true), msg)
  end)

  it("passes end of input and cancellation through", function()
    assert.is_nil((repl.read_chunk(reader({}), _G)))
    assert.is_false(repl.read_chunk(reader({ "if true then", false }), _G))
  end)
end)

describe("repl.run without a terminal", function()
  local function sink()
    local buf = {}
    return { write = function(self, ...) for _, s in ipairs({ ... }) do buf[#buf + 1] = s end return self end,
             flush = function() end, text = function() return table.concat(buf) end }
  end
  local function input(text)
    local f = assert(io.tmpfile())
    f:write(text)
    f:seek("set")
    return f
  end

  it("prints values, reports errors and keeps going", function()
    local out, err = sink(), sink()
    local core = { clear_interrupt = function() end }
    local host = { isatty = function() return false end }
    local code = repl.run({ host = host, core = core, stdin = input("x = 20\nx + 1\nerror('boom')\nfor i = 1, 2 do\nx = x + i\nend\nx\n"),
                            stdout = out, stderr = err, interactive = false, env = setmetatable({}, { __index = _G }) })
    assert.are.equal(0, code)
    assert.are.equal("21\n23\n", out.text())
    assert.are.equal("stdin:1: boom\n", err.text())
  end)
end)

describe("repl.history_path", function()
  it("follows XDG_STATE_HOME, else ~/.local/state", function()
    local env = { HOME = "/home/u" }
    local get = function(k) return env[k] end
    assert.are.equal("/home/u/.local/state/espflash/history", repl.history_path(get))
    env.XDG_STATE_HOME = "/state"
    assert.are.equal("/state/espflash/history", repl.history_path(get))
  end)
end)
