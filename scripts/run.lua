-- espflash run FILE.lua [ARGS...]: run a Lua workflow with the espflash library.
--
-- Like `lua FILE.lua ARGS...`: the script gets `arg` (arg[0] = FILE, arg[1..] =
-- ARGS, the words before FILE at negative indices) and the arguments as `...`.
-- `require "espflash"` gives the library. The script's exit status is the
-- process's: `os.exit(n)`, or `return n` from the main chunk (nil means 0).
local errors = require("espflash.errors")

return {
  summary = "Run a Lua script with the espflash library loaded",
  description = "Run a Lua script with the espflash library loaded.\n\n"
    .. "Everything after FILE is passed to the script verbatim, as `arg` and `...`. "
    .. "The script's `return n` or `os.exit(n)` becomes the exit status.",
  options = {
    { "file", arg = "FILE", help = "The Lua script to run" },
    { "args", arg = "ARGS", help = "Arguments passed to the script", rest = true },
  },
  run = function(args, ctx)
    local chunk, err = loadfile(args.file, "t")
    if not chunk then
      local missing = err:match("^cannot open ")
      errors.raise("espflash::script_load", err,
        missing and "check the path of the script" or "fix the syntax error at the line shown")
    end
    -- the `arg` table as lua.c builds it: the script at 0, its arguments after
    local script_at = (ctx.rest_index or (#ctx.argv + 1)) - 1
    local t = {}
    for i = 0, #ctx.argv do t[i - script_at] = ctx.argv[i] end
    _G.arg = t
    local result = chunk(table.unpack(args.args, 1, #args.args))
    if result == nil or result == true then return 0 end
    if result == false then return 1 end
    if math.type(result) == "integer" then return result end
    return 0
  end,
}
