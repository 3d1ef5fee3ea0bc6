-- espflash repl: an interactive Lua prompt with the espflash library loaded.
--
-- Expressions are printed with a readable value printer; incomplete input
-- continues on a ">>" prompt; Ctrl-C cancels the running statement (or the
-- line being typed), Ctrl-D exits. The loop itself is espflash.repl; this
-- script sets up what the prompt can see:
--   espflash   require("espflash"): the library, modules loaded on first use
--   ctx        the command context: ctx.ui for output, ctx:connect(args) for a device
-- Line editing and history come from libedit when standard input is a
-- terminal; otherwise lines are read plainly, without prompts, so
-- `espflash repl < session.lua` runs a file statement by statement and
-- prints each expression's value.

local DESCRIPTION = table.concat({
  "Start an interactive Lua prompt with the espflash library loaded.",
  "",
  "The global `espflash` is require(\"espflash\") and `ctx` the command context. "
    .. "A line is tried as an expression first and its values are printed; "
    .. "incomplete statements continue on a \">>\" prompt. Ctrl-C cancels the "
    .. "running statement or the line being typed; Ctrl-D exits.",
  "",
  "Line editing and history (in $XDG_STATE_HOME/espflash/history, default "
    .. "~/.local/state/espflash/history) come from libedit when standard input is a terminal.",
}, "\n")

return {
  summary = "Start an interactive Lua prompt with the espflash library loaded",
  description = DESCRIPTION,
  options = {},
  run = function(_, ctx)
    _G.espflash = require("espflash")
    _G.ctx = ctx
    return require("espflash.repl").run({ debug = ctx.debug })
  end,
}
