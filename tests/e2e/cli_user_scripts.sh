# User subcommands: ESPFLASH_SCRIPTS and ~/.config/espflash/scripts are
# searched before the built-ins; a user script can replace a built-in; a
# script that breaks the contract is refused with the file and field named.
. "$(dirname "$0")/cli_helpers.bash"
E=$ESPFLASH_BIN

mkdir -p "$WORK/a" "$WORK/b" "$HOME/.config/espflash/scripts" "$WORK/xdg/espflash/scripts"
cat >"$WORK/a/provision.lua" <<'LUA'
return {
  summary = "Provision a board from dir a",
  uses = { "connect" },
  options = {
    { "serial", help = "Serial number", convert = "u32" },
    { "--profile", arg = "NAME", help = "Profile", choices = { "lab", "field" }, default = "lab" },
    { "--dry-run", flag = true, help = "Only print" },
  },
  run = function(args, ctx)
    ctx.ui:print(("provision serial=%d profile=%s dry=%s after=%s"):format(
      args.serial, args.profile, tostring(args.dry_run), args.after))
    return args.dry_run and 0 or 4
  end,
}
LUA
cat >"$WORK/b/provision.lua" <<'LUA'
return { summary = "Shadowed by dir a", options = {}, run = function(_, ctx) ctx.ui:print("from b") end }
LUA
# overrides the built-in `completions`
cat >"$WORK/b/completions.lua" <<'LUA'
return {
  summary = "User completions",
  options = { { "shell", help = "Any shell" } },
  run = function(args, ctx) ctx.ui:print("user completions for " .. args.shell) end,
}
LUA
cat >"$HOME/.config/espflash/scripts/homecmd.lua" <<'LUA'
return { summary = "From the home config dir", options = {}, run = function(_, ctx) ctx.ui:print("home") end }
LUA
cat >"$WORK/xdg/espflash/scripts/xdgcmd.lua" <<'LUA'
return { summary = "From XDG_CONFIG_HOME", options = {}, run = function(_, ctx) ctx.ui:print("xdg") end }
LUA
export ESPFLASH_SCRIPTS="$WORK/a:$WORK/b"

run "$E" provision 0x10 --profile field --dry-run
expect_rc "a user command runs" 0
expect_eq "a user command gets its options" "provision serial=16 profile=field dry=true after=hard-reset" "$OUT"
run "$E" provision 7
expect_rc "a user command's return value is the exit status" 4
run "$E" --help
expect_has "--help lists the user command" "Provision a board from dir a" "$OUT"
expect_lacks "the shadowed script is not listed" "Shadowed by dir a" "$OUT"
expect_has "--help lists the user's completions" "User completions" "$OUT"
expect_lacks "the built-in completions is replaced" "Generate completions for the given shell" "$OUT"
run "$E" provision --help
expect_has "a user command has generated help" "Usage: espflash provision [OPTIONS] <SERIAL>" "$OUT"
expect_has "a user command's help shows the connect group" "-p, --port <PORT>" "$OUT"
run "$E" completions tcsh
expect_eq "a user script overrides a built-in" "user completions for tcsh" "$OUT"
run "$E" homecmd
expect_eq "~/.config/espflash/scripts is searched" "home" "$OUT"
XDG_CONFIG_HOME="$WORK/xdg" run "$E" xdgcmd
expect_eq "XDG_CONFIG_HOME is honoured" "xdg" "$OUT"
XDG_CONFIG_HOME="$WORK/xdg" run "$E" homecmd
expect_rc "with XDG_CONFIG_HOME set, ~/.config is not searched" 2
run "$E" provision 12k
expect_rc "a user command's bad value is a usage error" 2
expect_has "the bad value is named" "invalid value '12k' for '<SERIAL>': invalid digit found in string" "$ERR"

# malformed scripts are refused, naming the file and the problem
mkdir -p "$WORK/bad"
cat >"$WORK/bad/norun.lua" <<'LUA'
return { summary = "No run", options = {} }
LUA
cat >"$WORK/bad/badopt.lua" <<'LUA'
return { summary = "Bad option", options = { { "--port", help = "Port" } }, run = function() end }
LUA
cat >"$WORK/bad/syntax.lua" <<'LUA'
return { summary = "Syntax" options = {} }
LUA
cat >"$WORK/bad/notable.lua" <<'LUA'
return "hello"
LUA
export ESPFLASH_SCRIPTS="$WORK/bad"
run "$E" norun
expect_rc "a script without run is refused (exit 1)" 1
expect_has "the refusal names file and field" "espflash: error: script $WORK/bad/norun.lua: missing required field 'run'" "$ERR"
expect_has "the refusal has a hint" "hint: a subcommand script returns" "$ERR"
run "$E" badopt
expect_rc "a malformed option is refused" 1
expect_has "the malformed option is named" "script $WORK/bad/badopt.lua: option 1 (--port): needs either flag = true or arg" "$ERR"
run "$E" syntax
expect_rc "a script with a syntax error is refused" 1
expect_has "the syntax error names file and line" "script $WORK/bad/syntax.lua: cannot be loaded: $WORK/bad/syntax.lua:1:" "$ERR"
run "$E" notable
expect_has "a script returning a non-table is refused" "script $WORK/bad/notable.lua: must return a table" "$ERR"
run "$E" --help
expect_rc "--help still works beside broken scripts" 0
expect_has "--help warns about a broken script" "[WARN ] command 'norun' skipped: script $WORK/bad/norun.lua: missing required field 'run'" "$ERR"
expect_lacks "a broken script is not listed" "No run" "$OUT"
run "$E" completions bash
expect_rc "other commands still run beside broken scripts" 0

finish
