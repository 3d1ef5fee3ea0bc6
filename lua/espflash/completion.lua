--- Shell completions for bash, elvish, fish, powershell and zsh, all made from
--- the same application model (espflash.cli.load_app), so they never drift
--- from the option tables: bash, zsh and fish by lua-argparse from the parser
--- built out of that model, PowerShell and Elvish here in clap_complete's shape.
local errors = require("espflash.errors")

local M = {}

--- The shells `espflash completions` knows, as clap_complete lists them.
M.SHELLS = { "bash", "elvish", "fish", "powershell", "zsh" }

local function short(text)
  return text:match("^(.-)%.%s") or text:match("^(.-)%.?$")
end

local function option_rows(entries)
  local rows = {}
  for _, e in ipairs(entries) do
    if e.kind ~= "positional" and not e.hidden then
      for _, name in ipairs(e.names) do rows[#rows + 1] = { text = name, help = short(e.help), option = true } end
    end
  end
  return rows
end

local function value_rows(entries)
  local rows = {}
  for _, e in ipairs(entries) do
    if e.kind == "positional" and e.choices then
      for _, c in ipairs(e.choices) do rows[#rows + 1] = { text = c, help = short(e.help) } end
      break
    end
  end
  return rows
end

local HELP_ROWS = { { text = "-h", help = "Print help", option = true },
                    { text = "--help", help = "Print help", option = true } }

--- The completion model: a list of `{path = "espflash;cmd", rows = {{text, help, option}}}`.
function M.model(app)
  local root = option_rows(app.globals)
  for _, r in ipairs(HELP_ROWS) do root[#root + 1] = r end
  root[#root + 1] = { text = "-V", help = "Print version", option = true }
  root[#root + 1] = { text = "--version", help = "Print version", option = true }
  local contexts = { { path = "espflash", rows = root } }
  local cmds = {}
  for _, c in ipairs(app.commands) do cmds[#cmds + 1] = c end
  cmds[#cmds + 1] = app.help
  for _, c in ipairs(cmds) do
    root[#root + 1] = { text = c.name, help = short(c.summary) }
    local rows = option_rows(c.entries)
    for _, r in ipairs(HELP_ROWS) do rows[#rows + 1] = r end
    for _, r in ipairs(value_rows(c.entries)) do rows[#rows + 1] = r end
    if c == app.help then
      for _, other in ipairs(cmds) do rows[#rows + 1] = { text = other.name, help = short(other.summary) } end
    end
    contexts[#contexts + 1] = { path = "espflash;" .. c.name, rows = rows }
  end
  return contexts
end

local function ps_quote(s) return "'" .. s:gsub("'", "''") .. "'" end

--- PowerShell: a Register-ArgumentCompleter script block.
function M.powershell(contexts)
  local out = { [[
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'espflash' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'espflash'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
            }
            $element.Value
        }) -join ';'

    $completions = @(switch ($command) {]] }
  for _, ctx in ipairs(contexts) do
    out[#out + 1] = ("        %s {"):format(ps_quote(ctx.path))
    for _, r in ipairs(ctx.rows) do
      out[#out + 1] = ("            [CompletionResult]::new(%s, %s, [CompletionResultType]::%s, %s)")
        :format(ps_quote(r.text), ps_quote(r.text), r.option and "ParameterName" or "ParameterValue", ps_quote(r.help))
    end
    out[#out + 1] = "            break"
    out[#out + 1] = "        }"
  end
  out[#out + 1] = [[
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
]]
  return table.concat(out, "\n")
end

local function elv_quote(s) return "'" .. s:gsub("'", "''") .. "'" end

--- Elvish: an arg-completer for `espflash`.
function M.elvish(contexts)
  local out = { [[
use builtin;
use str;

set edit:completion:arg-completer[espflash] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 24 (wcswidth $text)))$desc
    }
    var command = 'espflash'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = []] }
  for _, ctx in ipairs(contexts) do
    out[#out + 1] = ("        &%s= {"):format(elv_quote(ctx.path))
    for _, r in ipairs(ctx.rows) do
      out[#out + 1] = ("            cand %s %s"):format(elv_quote(r.text), elv_quote(r.help))
    end
    out[#out + 1] = "        }"
  end
  out[#out + 1] = [[
    ]
    if (has-key $completions $command) {
        $completions[$command]
    }
}
]]
  return table.concat(out, "\n")
end

--- The completion script for `shell` ("bash", "elvish", "fish", "powershell", "zsh").
function M.generate(shell, app)
  if shell == "bash" or shell == "zsh" or shell == "fish" then
    local parser = require("espflash.cli").build_parser(app)
    local text = parser["get_" .. shell .. "_complete"](parser)
    if shell == "zsh" then
      -- argparse ends with a bare `_espflash` call, right for an autoloaded
      -- file in $fpath but an error when the file is sourced; do what clap does
      text = text:gsub("\n_espflash\n$", [[

if [ "$funcstack[1]" = "_espflash" ]; then
  _espflash "$@"
else
  compdef _espflash espflash
fi
]])
    end
    return text
  elseif shell == "powershell" then
    return M.powershell(M.model(app))
  elseif shell == "elvish" then
    return M.elvish(M.model(app))
  end
  errors.usage(("unknown shell '%s'"):format(tostring(shell)),
    "possible values: " .. table.concat(M.SHELLS, ", "))
end

return M
