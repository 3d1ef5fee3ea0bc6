-- docs/device-api.md: every ```lua block runs, in order, each in a fresh
-- environment, against the virtual device; a block fails the test when it
-- raises (the examples assert what they show).
local root = os.getenv("ESPFLASH_SOURCE_DIR") or "."
local DOC = root .. "/docs/device-api.md"

local function blocks()
  local f = assert(io.open(DOC, "rb"))
  local text = f:read("a")
  f:close()
  local list = {}
  for code in text:gmatch("```lua\n(.-)```") do list[#list + 1] = code end
  return list
end

describe("docs/device-api.md", function()
  local list = blocks()

  it("has examples", function()
    assert.is_true(#list >= 6, "found " .. #list .. " lua blocks")
  end)

  for i, code in ipairs(list) do
    it("example " .. i .. " runs", function()
      local stubs = os.getenv("ESPFLASH_STUBS")
      local probe = stubs and io.open(stubs .. "/esp32c3.json", "rb")
      if not probe then pending("flasher stubs not installed in $ESPFLASH_STUBS"); return end
      probe:close()
      local printed = {}
      local env = setmetatable({ print = function(...)
        local t = table.pack(...)
        for j = 1, t.n do t[j] = tostring(t[j]) end
        printed[#printed + 1] = table.concat(t, "\t")
      end }, { __index = _G })
      local chunk = assert(load(code, "=device-api.md example " .. i, "t", env))
      local ok, err = pcall(chunk)
      assert(ok, "example " .. i .. " failed: " .. tostring(err) .. "\n" .. code)
    end)
  end
end)
