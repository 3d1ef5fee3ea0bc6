--- Helpers for the specs that drive real ports (ptys and TCP through socat,
--- ser2net): waiting for a condition, reading a number of bytes, reading
--- until the port fails, and socat running in the background.
local core = require("espflash.core")
local files = require("helpers.files")

local M = {}

--- Calls `fn` every `step_ms` (default 5) until it returns a true value,
--- for about `ms` milliseconds; returns that value, or nil.
function M.poll(ms, fn, step_ms)
  local deadline = core.now() + ms / 1000
  repeat
    local v = fn()
    if v then return v end
    core.sleep(step_ms or 5)
  until core.now() > deadline
end

--- Reads from `port` until `n` bytes arrived or `timeout_ms` passed.
function M.read_n(port, n, timeout_ms)
  local got, len, deadline = {}, 0, core.now() + timeout_ms / 1000
  while len < n and core.now() < deadline do
    local s = assert(port:read(n - len, 50))
    got[#got + 1] = s
    len = len + #s
  end
  return table.concat(got)
end

--- Reads from `port` in 50 ms slices, at most 50 times, until a read
--- fails; returns the last read's results (`nil, message, code` on failure).
function M.read_until_error(port)
  local ok, msg, code
  for _ = 1, 50 do
    ok, msg, code = port:read(10, 50)
    if ok == nil then break end
  end
  return ok, msg, code
end

--- Starts socat in the background in a new temporary directory `dir`:
--- `args(dir)` returns its arguments; its diagnostics go to dir/log.
--- Returns `dir` and a stop function that kills socat and removes `dir`
--- (calling it again does no harm). `what` names the tests in the error
--- raised when socat is not installed.
function M.socat(what, args)
  if files.shell("command -v socat") == "" then
    error(("socat is required for the %s tests (apt-get install socat)"):format(what))
  end
  local dir = files.tmpdir(("/tmp/espflash-%s.XXXXXX"):format(what:lower()))
  local pid = files.shell(("socat %s >/dev/null 2>%s/log & echo $!"):format(args(dir), dir)):gsub("%s+$", "")
  return dir, function()
    -- socat is not this shell's child: `wait` cannot wait for it, so poll
    -- until it has exited (gone, or a zombie nobody reaps: its sockets are
    -- closed either way), for at most 2 s. Shell builtins and /proc only: under
    -- the sanitizer build's LD_PRELOAD, ps(1) hangs.
    os.execute(("kill %s 2>/dev/null; for _ in $(seq 200); do st=; [ -r /proc/%s/stat ] && "
      .. "read -r st </proc/%s/stat; case \"$st\" in ''|*') Z '*) break ;; esac; sleep 0.01; done")
      :format(pid, pid, pid))
    os.execute("rm -rf " .. dir)
  end
end

return M
