--- External processors (`--processors a,b`): each is spawned once with the
--- ELF path (when there is one) as its argument, stdin and stdout piped,
--- stderr inherited. The raw device bytes go through them in order before
--- any decoding; their output is collected without waiting. They are killed
--- when the monitor ends.
local core = require("espflash.core")
local errors = require("espflash.errors")

local M = {}

M.READ_MAX = 4096

--- Splits "a,b" into a list of commands (empty entries dropped).
function M.split(list)
  local out = {}
  for item in (list or ""):gmatch("[^,]+") do
    item = item:match("^%s*(.-)%s*$")
    if item ~= "" then out[#out + 1] = item end
  end
  return out
end

local Chain = {}
Chain.__index = Chain

--- Spawns the processors. Raises espflash::monitor::processor
--- ("Failed to launch '<exe>'") when one cannot be started.
function M.start(commands, elf_path)
  local self = setmetatable({ procs = {}, names = {}, notes = {} }, Chain)
  for _, cmd in ipairs(commands) do
    local argv = { cmd }
    if elf_path then argv[2] = elf_path end
    local p, msg = core.spawn(argv)
    if not p then
      self:close()
      errors.raise("espflash::monitor::processor", string.format("Failed to launch '%s'", cmd),
        tostring(msg):gsub("^%u+: ", ""))
    end
    self.procs[#self.procs + 1] = p
    self.names[#self.names + 1] = cmd
  end
  return self
end

--- Pushes `bytes` through the chain; returns what the last processor has
--- produced so far. A processor that exits is dropped from the chain (its
--- input then passes through), with a note in `take_notes()`.
function Chain:process(bytes)
  local data = bytes
  local i = 1
  while i <= #self.procs do
    local p = self.procs[i]
    local ok, msg = true, nil
    if data ~= "" then ok, msg = p:write(data) else p:flush() end
    local out, parts = nil, {}
    repeat
      out, msg = p:read(M.READ_MAX)
      if out and out ~= "" then parts[#parts + 1] = out end
    until not out or out == ""
    if not ok or out == nil then
      self.notes[#self.notes + 1] = string.format("Processor '%s' exited; its input now passes through",
        self.names[i])
      p:kill()
      table.remove(self.procs, i)
      table.remove(self.names, i)
      data = data .. table.concat(parts)
    else
      data = table.concat(parts)
      i = i + 1
    end
  end
  return data
end

--- True when there are processors.
function Chain:active()
  return #self.procs > 0
end

--- Messages about processors that went away since the last call.
function Chain:take_notes()
  local n = self.notes
  self.notes = {}
  return n
end

--- Kills every processor.
function Chain:close()
  for _, p in ipairs(self.procs) do p:kill() end
  self.procs = {}
end

return M
