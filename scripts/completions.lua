-- espflash completions SHELL: print a completion script for a shell.
--
-- The script is generated from the same option tables as the parser (see
-- espflash.completion), so every subcommand that is found, user scripts
-- included, is completed with its options and their values. bash, zsh and
-- fish output comes from lua-argparse; PowerShell and Elvish output is written
-- in the shape clap_complete (what espflash uses) gives.
local completion = require("espflash.completion")

local HOW_TO_LOAD = {
  "bash:       espflash completions bash > ~/.local/share/bash-completion/completions/espflash",
  "zsh:        espflash completions zsh > ~/.zfunc/_espflash   (with ~/.zfunc in $fpath before compinit)",
  "fish:       espflash completions fish > ~/.config/fish/completions/espflash.fish",
  "PowerShell: espflash completions powershell | Out-String | Invoke-Expression   (e.g. in $PROFILE)",
  "Elvish:     espflash completions elvish > ~/.config/elvish/lib/espflash.elv   (then `use espflash`)",
}

local function describe()
  local lines = { "Generate completions for the given shell.", "",
                  "The output is a script for the shell to load, e.g." }
  for _, line in ipairs(HOW_TO_LOAD) do lines[#lines + 1] = "  " .. line end
  return table.concat(lines, "\n")
end

return {
  summary = "Generate completions for the given shell",
  description = describe(),
  options = {
    { "shell", arg = "SHELL", help = "Shell to generate completions for", choices = completion.SHELLS },
  },
  run = function(args, ctx)
    local text = completion.generate(args.shell, ctx.app)
    ctx.ui:write(text:sub(-1) == "\n" and text or text .. "\n")
    return 0
  end,
}
