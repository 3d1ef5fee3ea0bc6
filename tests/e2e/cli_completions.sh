# `espflash completions SHELL` for all five shells; the bash, zsh, fish and
# elvish output is loaded into the real shell and asked for completions.
. "$(dirname "$0")/cli_helpers.bash"
E=$ESPFLASH_BIN

# a user command must show up in completions too (they come from the same tables)
mkdir -p "$WORK/s"
cat >"$WORK/s/device-label.lua" <<'LUA'
return {
  summary = "Label a board",
  options = { { "--profile", arg = "NAME", help = "Profile", choices = { "lab", "field" } } },
  run = function() end,
}
LUA
export ESPFLASH_SCRIPTS="$WORK/s"

for sh in bash zsh fish powershell elvish; do
  run "$E" completions "$sh"
  expect_rc "completions $sh exits 0" 0
  printf '%s\n' "$OUT" >"$WORK/espflash.$sh"
  expect_has "completions $sh names the completions command" "completions" "$OUT"
  expect_has "completions $sh names the user command" "device-label" "$OUT"
done

# bash: source it and call the completion function the way readline does
bash_complete() {
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _espflash; printf "%s\n" "${COMPREPLY[@]}"' \
    _ "$WORK/espflash.bash" "$@"
}
R=$(bash_complete espflash comp)
expect_eq "bash completes a command name" "completions" "$R"
R=$(bash_complete espflash dev)
expect_eq "bash completes a user command" "device-label" "$R"
R=$(bash_complete espflash device-label --profile "")
expect_eq "bash completes option choices" "lab field" "$(echo $R)"
R=$(bash_complete espflash --sk)
expect_eq "bash completes a global option" "--skip-update-check" "$R"
R=$(bash_complete espflash device-label --pro)
expect_eq "bash completes a command option" "--profile" "$R"

# zsh: source it after compinit; the file registers itself with compdef
if command -v zsh >/dev/null; then
  R=$(zsh -fc 'autoload -U compinit; compinit -u -d "$2/zcompdump"; source "$1" && print -r -- "$_comps[espflash]"' \
    _ "$WORK/espflash.zsh" "$WORK" 2>&1)
  expect_eq "zsh loads the completion and binds _espflash" "_espflash" "$R"
  R=$(zsh -fc 'autoload -U compinit; compinit -u -d "$2/zcompdump"; source "$1"; _espflash_cmds() { :; }; functions _espflash_cmds >/dev/null && whence -w _espflash' \
    _ "$WORK/espflash.zsh" "$WORK" 2>&1)
  expect_eq "zsh defines the completion function" "_espflash: function" "$R"
  # drive real completion: an interactive zsh on zsh's own pseudo-terminal module
  R=$(timeout 20 zsh -f 2>&1 <<ZSH
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z 'PS1="%% "; autoload -U compinit; compinit -u -d $WORK/zcompdump2; source $WORK/espflash.zsh'
zpty -w z 'echo READY'
zpty -r -m z out '*READY*'
zpty -n -w z \$'espflash comp\t'
zpty -r -m z out '*espflash completions*' && print COMPLETED-COMMAND
zpty -n -w z \$'\C-u'
zpty -n -w z \$'espflash completions \t'
zpty -r -m z out '*powershell*' && print COMPLETED-SHELLS
zpty -d z
ZSH
)
  expect_has "zsh completes a command name (zpty)" "COMPLETED-COMMAND" "$R"
  expect_has "zsh completes positional choices (zpty)" "COMPLETED-SHELLS" "$R"
else
  not_ok "zsh is not installed (apt-get install zsh)"
fi

# fish: source it and ask for completions
if command -v fish >/dev/null; then
  R=$(fish -c "source $WORK/espflash.fish; complete -C 'espflash comp'" 2>&1)
  expect_has "fish completes a command name" "completions	Generate completions for the given shell" "$R"
  R=$(fish -c "source $WORK/espflash.fish; complete -C 'espflash device-label --profile '" 2>&1)
  expect_has "fish completes option choices" "field" "$R"
else
  not_ok "fish is not installed (apt-get install fish)"
fi

# elvish: the arg-completer needs the interactive editor, so run its body with
# the editor's two names stood in for by a variable and a printer
if command -v elvish >/dev/null; then
  sed -e 's/^set edit:completion:arg-completer\[espflash\] = /var completer = /' \
      -e 's/edit:complex-candidate \$text &display=.*$/echo $text/' "$WORK/espflash.elvish" >"$WORK/t.elv"
  { cat "$WORK/t.elv"; echo '$completer espflash comp'; } >"$WORK/t1.elv"
  R=$(elvish -norc "$WORK/t1.elv" 2>&1)
  expect_has "elvish lists commands at the top level" "completions" "$R"
  expect_has "elvish lists global options" "--skip-update-check" "$R"
  { cat "$WORK/t.elv"; echo '$completer espflash completions ""'; } >"$WORK/t2.elv"
  R=$(elvish -norc "$WORK/t2.elv" 2>&1)
  expect_eq "elvish completes the shells after completions" "-h --help bash elvish fish powershell zsh" "$(echo $R)"
else
  not_ok "elvish is not installed (apt-get install elvish)"
fi

# powershell is not packaged for Debian: check the structure clap_complete uses
P=$(cat "$WORK/espflash.powershell")
expect_has "powershell registers a native completer" "Register-ArgumentCompleter -Native -CommandName 'espflash'" "$P"
expect_has "powershell completes commands at the top level" \
  "[CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Generate completions for the given shell')" "$P"
expect_has "powershell has a block per command" "'espflash;device-label' {" "$P"
expect_has "powershell completes a command's options" \
  "[CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName" "$P"
OPEN=$(grep -o '{' "$WORK/espflash.powershell" | wc -l); CLOSE=$(grep -o '}' "$WORK/espflash.powershell" | wc -l)
expect_eq "powershell braces balance" "$OPEN" "$CLOSE"

finish
