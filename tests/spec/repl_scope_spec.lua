-- The REPL's variables (espflash.repl.scope): a top-level `local` of one
-- input stays visible to the inputs after it, assignments to it stay
-- local, globals still land in the globals table, and `help` is there
-- without being a global.
local repl = require("espflash.repl")

-- Runs `lines` through the REPL without a terminal, its output in temporary
-- files: returns stdout, stderr and the globals table.
local function session(lines, globals)
  globals = globals or setmetatable({}, { __index = _G })
  local files = { io.tmpfile(), io.tmpfile(), io.tmpfile() }
  files[1]:write(table.concat(lines, "\n"), "\n")
  files[1]:seek("set")
  repl.run({ host = { isatty = function() return false end }, core = { clear_interrupt = function() end },
             stdin = files[1], stdout = files[2], stderr = files[3], interactive = false, env = globals })
  local text = {}
  for i = 2, 3 do
    files[i]:seek("set")
    text[i - 1] = files[i]:read("a")
    files[i]:close()
  end
  return text[1], text[2], globals
end

describe("repl.scope", function()
  it("keeps top-level locals for the lines that follow", function()
    local out, err, globals = session({
      "local x = 20", "x + 1",
      "local a, b = 1, 2", "a + b + x",
      "x = 5", "x", "rawget(_ENV, 'x') == nil and globals_x == nil",
      "do local inner = 3 end", "inner",
      "local function twice(n) return 2 * n end", "twice(x)",
      "g = 7",
      "local x = x + 100", "x",
    })
    assert.are.equal("", err)
    assert.are.equal("21\n23\n5\ntrue\nnil\n10\n105\n", out)
    assert.are.equal(7, rawget(globals, "g"))
    assert.is_nil(rawget(globals, "x"))
  end)

  it("lets functions defined at the prompt see and change a kept local", function()
    local out = session({ "local count = 0", "function bump() count = count + 1 end", "bump() bump()", "count" })
    assert.are.equal("2\n", out)
  end)

  it("offers help without making it a global", function()
    local out, err, globals = session({ "help(espflash.nvs.build)", "help == nil" },
      setmetatable({ espflash = require("espflash") }, { __index = _G }))
    assert.are.equal("", err)
    assert.truthy(out:find("^espflash%.nvs%.build%(spec%)\n  Builds an NVS partition image"))
    assert.truthy(out:find("\nfalse\n$"))
    assert.is_nil(rawget(globals, "help"))
  end)

  it("lists globals, kept locals and builtins with pairs", function()
    local env, keep = repl.scope({ g = 1 }, { help = print })
    local chunk = repl.read_chunk(function() return "local l = 2" end, env)
    chunk(keep)
    local seen = {}
    for k, v in pairs(env) do seen[k] = v end
    assert.are.same({ g = 1, l = 2, help = print }, seen)
  end)
end)
