-- The terminal view of `espflash provision` (espflash.provision_view): its
-- output is played on a small terminal model (carriage return, cursor up,
-- erase line, erase below, newline) and the screen is checked: one line
-- per device showing its latest state, warnings above the lines, redraws
-- limited in rate but results shown at once.
local view_mod = require("espflash.provision_view")

-- A terminal that understands what the view writes.
local function terminal()
  local t = { lines = { "" }, row = 1, writes = 0 }
  function t:write(...)
    self.writes = self.writes + 1
    local s = table.concat({ ... })
    local i = 1
    while i <= #s do
      local n, cmd = s:match("^\27%[(%d*)([AKJ])", i)
      if cmd then
        if cmd == "A" then self.row = math.max(1, self.row - tonumber(n))
        elseif cmd == "K" then self.lines[self.row] = ""
        else for r = self.row, #self.lines do self.lines[r] = "" end end
        i = i + 2 + #n + 1
      else
        local c = s:sub(i, i)
        if c == "\n" then
          self.row = self.row + 1
          self.lines[self.row] = self.lines[self.row] or ""
        elseif c ~= "\r" then
          self.lines[self.row] = self.lines[self.row] .. c
        end
        i = i + 1
      end
    end
    return self
  end
  function t:flush() end
  function t:screen()
    local out = {}
    for r = 1, #self.lines do if self.lines[r] ~= "" then out[#out + 1] = self.lines[r] end end
    return out
  end
  return t
end

describe("provision_view", function()
  local ports = { "/dev/ttyUSB0", "sim://esp32c3?mac=aa:00:00:00:00:02" }
  local function ev(kind, index, fields)
    fields.kind, fields.index = kind, index
    return fields
  end

  it("keeps one line per device, each showing its latest state", function()
    local term, now = terminal(), 0
    local v = view_mod.new(term, ports, { width = 140, clock = function() return now end })
    v.progress(ev("start", 1, {}))
    assert.are.same({ "[/dev/ttyUSB0]     connecting", "[sim://esp32c3#2]  waiting" }, term:screen())
    now = 1
    v.progress(ev("log", 1, { level = "info", message = "esp32c3 aa:00:00:00:00:01 gets SN-7" }))
    v.progress(ev("start", 2, {}))   -- within INTERVAL: not drawn yet
    assert.are.same({ "[/dev/ttyUSB0]     aa:00:00:00:00:01 SN-7  esp32c3", "[sim://esp32c3#2]  waiting" }, term:screen())
    now = 2
    v.progress(ev("log", 2, { level = "info", message = "esp32c3 aa:00:00:00:00:02 keeps SN-3 (provisioned before)" }))
    now = 3
    v.progress(ev("progress", 1, { step = "0x10000", done = 36200, total = 72400 }))
    assert.are.same({ "[/dev/ttyUSB0]     aa:00:00:00:00:01 SN-7  writing 0x10000: 50%",
                      "[sim://esp32c3#2]  aa:00:00:00:00:02 SN-3  esp32c3, provisioned before" }, term:screen())
    v.progress(ev("done", 2, { result = { ok = false, seconds = 3.14,
      err = { code = "espflash::timeout", message = "Timeout while running FlashMd5 command" } } }))
    assert.are.equal("[sim://esp32c3#2]  aa:00:00:00:00:02 SN-3  FAILED after 3.1 s: Timeout while running FlashMd5 "
      .. "command [espflash::timeout]", term:screen()[2])
    v.progress(ev("done", 1, { result = { ok = true, seconds = 5.04 } }))
    v.finish()
    assert.are.equal("[/dev/ttyUSB0]     aa:00:00:00:00:01 SN-7  done in 5.0 s", term:screen()[1])
    assert.are.equal(2, #term:screen())
  end)

  it("prints warnings above the device lines and cuts lines to the width", function()
    local term = terminal()
    local v = view_mod.new(term, ports, { width = 40, clock = function() return 0 end })
    v.progress(ev("start", 1, {}))
    v.progress(ev("log", 2, { level = "warn", message = "Setting baud rate higher than 115,200 can cause issues" }))
    local screen = term:screen()
    assert.are.same({ "[sim://esp32c3#2] [WARN ] Setting baud ", "[/dev/ttyUSB0]     connecting",
                      "[sim://esp32c3#2]  waiting" }, screen)
    for _, line in ipairs(screen) do assert.truthy(#line <= 39) end
  end)

  it("limits redraws to one per INTERVAL", function()
    local term, now = terminal(), 0
    local v = view_mod.new(term, ports, { clock = function() return now end })
    v.progress(ev("start", 1, {}))
    local writes = term.writes
    for done = 1, 100 do v.progress(ev("progress", 1, { step = "0x0", done = done, total = 100 })) end
    assert.are.equal(writes, term.writes)
    now = view_mod.INTERVAL
    v.progress(ev("progress", 1, { step = "0x0", done = 100, total = 100 }))
    assert.are.equal(writes + 1, term.writes)
  end)
end)
