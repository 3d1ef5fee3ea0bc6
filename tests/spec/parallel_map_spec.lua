-- espflash.parallel.map: the scheduler. Tasks run concurrently when they
-- wait (core.sleep, port reads), results come back in item order, failures
-- are error objects with codes and stop nobody else, `jobs` bounds the
-- concurrency, `timeout` abandons a task, events arrive per task, Ctrl-C
-- ends everything, and core.open/core.sleep are restored afterwards.
local core = require("espflash.core")
local errors = require("espflash.errors")
local parallel = require("espflash.parallel")

local function elapsed(f)
  local t0 = core.now()
  local r = f()
  return core.now() - t0, r
end

describe("parallel.map", function()
  local original_open, original_sleep = core.open, core.sleep

  after_each(function()
    core.clear_interrupt()
    assert.are.equal(original_open, core.open, "core.open restored")
    assert.are.equal(original_sleep, core.sleep, "core.sleep restored")
  end)

  it("overlaps the tasks' waits", function()
    local t, results = elapsed(function()
      return parallel.map({ 1, 2, 3, 4 }, function(item)
        core.sleep(300)
        return item * 10
      end)
    end)
    assert.is_true(t < 0.6, ("4 x 300 ms took %.2f s"):format(t))
    assert.is_true(t >= 0.29)
    for i, r in ipairs(results) do
      assert.is_true(r.ok)
      assert.are.equal(i * 10, r.value)
      assert.are.equal(i, r.index)
      assert.is_true(r.seconds >= 0.29)
    end
    assert.is_true(results.all_ok)
    assert.are.same({}, results.failed)
  end)

  it("runs at most `jobs` at once, and all of them", function()
    local running, peak, seen = 0, 0, {}
    local results = parallel.map({ "a", "b", "c", "d", "e" }, function(item)
      running = running + 1
      peak = math.max(peak, running)
      core.sleep(50)
      seen[#seen + 1] = item
      running = running - 1
      return item
    end, { jobs = 2 })
    assert.are.equal(2, peak)
    assert.are.equal(5, #seen)
    assert.are.same({ "a", "b", "c", "d", "e" }, { results[1].value, results[2].value, results[3].value,
      results[4].value, results[5].value })
  end)

  it("gives each failure an error object with a code, and the others finish", function()
    local results = parallel.map({ 1, 2, 3 }, function(i)
      core.sleep(20 * i)
      if i == 1 then errors.raise("demo::broken", "device one broke", "fix it") end
      if i == 2 then local x = nil; return x.field end
      return "fine"
    end)
    assert.is_false(results.all_ok)
    assert.are.equal(2, #results.failed)
    local e1, e2 = results[1].err, results[2].err
    assert.are.equal("demo::broken", e1.code)
    assert.are.equal("device one broke", e1.message)
    assert.are.equal("fix it", e1.hint)
    assert.are.equal("espflash::script_error", e2.code)
    assert.matches("attempt to index a nil value", e2.message)
    assert.matches("parallel_map_spec.lua:%d+", e2.traceback)
    assert.is_true(errors.is(e2))
    assert.is_true(results[3].ok)
    assert.are.equal("fine", results[3].value)
  end)

  it("reports start, log, progress and done events per task", function()
    local events = {}
    parallel.map({ "x", "y" }, function(item, i, job)
      job:info("hello " .. item)
      local p = job:progress("step")
      p(50, 100)
      core.sleep(10)
      p(100, 100)
      job:warn("careful")
      if i == 2 then error("boom") end
      return item
    end, { progress = function(ev) events[#events + 1] = ev end,
           label = function(item) return "dev-" .. item end })
    local by = { {}, {} }
    for _, ev in ipairs(events) do
      local list = by[ev.index]
      list[#list + 1] = ev.kind .. (ev.level and (":" .. ev.level) or "") .. (ev.done and (":" .. ev.done) or "")
      assert.are.equal(ev.index == 1 and "x" or "y", ev.port)
      assert.are.equal("dev-" .. ev.port, ev.label)
    end
    local want = { "start", "log:info", "progress:50", "progress:100", "log:warn", "done" }
    assert.are.same(want, by[1])
    assert.are.same(want, by[2])
    local last = events[#events]
    assert.are.equal("done", last.kind)
    assert.is_false(last.result.ok)
    assert.are.equal("espflash::script_error", last.result.err.code)
  end)

  it("abandons a task after `timeout` seconds with espflash::timeout", function()
    local closed = false
    local t, results = elapsed(function()
      return parallel.map({ 1, 2 }, function(i)
        local guard <close> = setmetatable({}, { __close = function() closed = true end })
        if i == 1 then while true do core.sleep(10) end end
        return "quick"
      end, { timeout = 0.3 })
    end)
    assert.is_true(t < 1.5, ("took %.2f s"):format(t))
    assert.are.equal("espflash::timeout", results[1].err.code)
    assert.is_true(closed, "the abandoned task's <close> variables ran")
    assert.is_true(results[2].ok)
  end)

  it("ends every task with espflash::interrupted on Ctrl-C", function()
    local results = parallel.map({ 1, 2, 3, 4 }, function(i)
      if i == 1 then core.sleep(50); core.interrupt(); return "raised it" end
      local ok, msg = core.sleep(5000)
      if not ok then errors.raise("espflash::interrupted", msg) end
      return "slept"
    end, { jobs = 3 })
    assert.are.equal("raised it", results[1].value)
    for i = 2, 4 do
      assert.is_false(results[i].ok)
      assert.are.equal("espflash::interrupted", results[i].err.code)
    end
    assert.are.equal(4, #results)
  end)

  it("nests: an inner map inside a task lets the outer tasks run", function()
    local t, results = elapsed(function()
      return parallel.map({ "outer1", "outer2" }, function(item)
        if item == "outer1" then
          local inner = parallel.map({ 1, 2, 3 }, function(j) core.sleep(200); return j end)
          return #inner
        end
        core.sleep(200)
        return item
      end)
    end)
    assert.is_true(t < 0.38, ("took %.2f s"):format(t))
    assert.are.equal(3, results[1].value)
    assert.are.equal("outer2", results[2].value)
  end)

  it("restores core.open and core.sleep when a progress callback raises", function()
    assert.has_error(function()
      parallel.map({ 1 }, function() return 1 end, { progress = function(ev)
        if ev.kind == "done" then error("callback failed") end
      end })
    end, "callback failed")
  end)

  it("refuses bad arguments with espflash::invalid_argument", function()
    for _, bad in ipairs({ { jobs = 0 }, { jobs = 1.5 }, { timeout = -1 } }) do
      local ok, err = pcall(parallel.map, { 1 }, function() end, bad)
      assert.is_false(ok)
      assert.are.equal("espflash::invalid_argument", err.code)
    end
    local ok, err = pcall(parallel.map, "ports", function() end)
    assert.is_false(ok)
    assert.are.equal("espflash::invalid_argument", err.code)
  end)

  it("returns an empty result list for no items", function()
    local results = parallel.map({}, function() error("never") end)
    assert.are.equal(0, #results)
    assert.is_true(results.all_ok)
  end)
end)

describe("parallel.progress_lines", function()
  it("prints log lines, quarters of progress and results with the label", function()
    local lines = {}
    local show = parallel.progress_lines(function(l) lines[#lines + 1] = l end)
    parallel.map({ "p" }, function(_, _, job)
      job:info("Connecting...")
      job:log("debug", "hidden")
      local p = job:progress("0x10000")
      for done = 0, 1000, 100 do p(done, 1000) end
      errors.raise("espflash::timeout", "Timeout while running FlashDeflData command")
    end, { progress = show, label = function() return "/dev/ttyUSB7" end })
    assert.are.equal("[/dev/ttyUSB7] [INFO ] Connecting...", lines[1])
    assert.are.equal("[/dev/ttyUSB7] 0x10000: 25% (300/1000 bytes)", lines[2])
    assert.are.equal("[/dev/ttyUSB7] 0x10000: 50% (500/1000 bytes)", lines[3])
    assert.are.equal("[/dev/ttyUSB7] 0x10000: 75% (800/1000 bytes)", lines[4])
    assert.are.equal("[/dev/ttyUSB7] 0x10000: 100% (1000/1000 bytes)", lines[5])
    assert.matches("^%[/dev/ttyUSB7%] failed after %d+%.%d s: Timeout while running FlashDeflData command "
      .. "%[espflash::timeout%]$", lines[6])
    assert.are.equal(6, #lines)
  end)
end)

describe("parallel.default_label", function()
  it("is the port, with sim URLs shortened and numbered", function()
    assert.are.equal("/dev/ttyUSB0", parallel.default_label("/dev/ttyUSB0", 1))
    assert.are.equal("socket://127.0.0.1:4000", parallel.default_label("socket://127.0.0.1:4000", 2))
    assert.are.equal("sim://esp32c3#3", parallel.default_label("sim://esp32c3?flash=/tmp/x&mac=aa:bb:cc:dd:ee:ff", 3))
    assert.are.equal("sim://esp32s3#4", parallel.default_label("sim://esp32s3", 4))
  end)
end)
