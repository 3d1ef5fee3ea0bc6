# The interactive monitor in a real terminal (tmux): the banner, keys reach
# the device as espflash sends them (a pseudo-terminal pair whose far end
# records what arrives), the application starts without Ctrl+R, Ctrl+R resets
# the virtual device (its boot log appears again), Ctrl+C exits with status
# 0, and the terminal settings are the same afterwards (`stty -a`), also
# when the monitor is killed with SIGTERM or SIGHUP.
. "$(dirname "$0")/monitor_helpers.bash"

if ! command -v tmux >/dev/null || ! command -v socat >/dev/null; then
  skip "tmux and socat are needed (apt-get install tmux socat)"
  finish
  exit
fi
export TMUX_TMPDIR=$WORK  # a private tmux server, removed with $WORK
unset TMUX
T() { tmux -f /dev/null "$@"; }
cleanup_tmux() { T kill-server 2>/dev/null; cleanup_monitor; }
trap cleanup_tmux EXIT

# session NAME COMMAND...: runs COMMAND in a fresh 120x40 terminal, recording
# `stty -a` before and after it, its pid and exit status.
session() {
  local name=$1
  shift
  local w="$WORK/$name" cmd
  cmd=$(printf '%q ' "$@")
  cat >"$w.sh" <<EOF
stty -a >"$w.before"
sh -c 'echo \$\$ >"\$0"; shift; exec "\$@"' "$w.pid" x $cmd 2>"$w.err"
echo \$? >"$w.rc"
stty -a >"$w.after"
sleep 60
EOF
  T new-session -d -s "$name" -x 120 -y 40 "bash $w.sh"
}
screen() { T capture-pane -p -t "$1"; }
wait_screen() {
  local i
  for i in $(seq $((${3:-10} * 10))); do
    screen "$1" | grep -qF -- "$2" && return 0
    sleep 0.1
  done
  return 1
}
count_screen() { screen "$1" | grep -cF -- "$2"; }
wait_ended() {
  local i
  for i in $(seq $((${2:-10} * 10))); do
    [ -s "$WORK/$1.after" ] && return 0
    sleep 0.1
  done
  return 1
}

# --- keys -------------------------------------------------------------------
pty_pair keys
cat "$WORK/keys.peer" >"$WORK/keys.received" &
PIDS+=($!)
session keys "$E" monitor -p "$WORK/keys.dev" --before no-reset-no-sync -c esp32c3
if wait_screen keys "CTRL+C    Exit" 10; then ok "the banner"; else not_ok "the banner" "$(screen keys)"; fi
printf 'device says hi\r\n' >"$WORK/keys.peer"
wait_screen keys "device says hi" 5 && ok "device output on the terminal" || not_ok "device output on the terminal" "$(screen keys)"
T send-keys -t keys 'ab' Enter Up Down Right Left Home End DC IC BSpace Tab C-a C-e C-Space
sleep 0.3
T send-keys -t keys Escape
sleep 0.3
T send-keys -t keys -l 'é'
sleep 0.5
WANT=$(printf 'ab\r\033[A\033[B\033[C\033[D\033[H\033[F\033[3~\033[2~\010\011\001\005\000\033\303\251' | od -An -c)
GOT=$(od -An -c <"$WORK/keys.received")
expect_eq "keys reach the device as espflash sends them" "$WANT" "$GOT"
T send-keys -t keys C-c
wait_ended keys 5 && ok "Ctrl+C exits" || not_ok "Ctrl+C exits" "$(screen keys)"
expect_eq "exit status 0" "0" "$(cat "$WORK/keys.rc" 2>/dev/null)"
expect_eq "the terminal settings are restored" "$(cat "$WORK/keys.before")" "$(cat "$WORK/keys.after" 2>/dev/null)"
T kill-session -t keys

# --- a device that does not read --------------------------------------------------
# Nobody reads the far end: once the ptys' buffers are full (about 32 KiB),
# key writes time out; the monitor must stay responsive to Ctrl+C.
pty_pair deaf
session deaf "$E" monitor -p "$WORK/deaf.dev" --before no-reset-no-sync -c esp32c3
wait_screen deaf "CTRL+C    Exit" 10
head -c 100000 /dev/zero | tr '\0' x >"$WORK/deaf.keys"
T load-buffer "$WORK/deaf.keys"
T paste-buffer -t deaf
sleep 2
START=$(date +%s)
T send-keys -t deaf C-c
if wait_ended deaf 6; then ok "Ctrl+C works while the device does not read ($(($(date +%s) - START)) s)"
else not_ok "Ctrl+C works while the device does not read" "$(screen deaf)"; fi
expect_has "the dropped keys are reported" "The device is not reading its input" "$(cat "$WORK/deaf.err")"
expect_eq "the terminal settings are restored (deaf device)" "$(cat "$WORK/deaf.before")" \
  "$(cat "$WORK/deaf.after" 2>/dev/null)"
T kill-session -t deaf

# --- the virtual device: start, Ctrl+R ------------------------------------------
APP='sim://esp32c3?app=Hello%20world!%0D%0A'
session sim "$E" monitor -p "$APP"
if wait_screen sim "Hello world!" 20; then ok "the application starts without Ctrl+R"
else not_ok "the application starts without Ctrl+R" "$(screen sim)" "$(cat "$WORK/sim.err")"; fi
expect_eq "one boot log so far" "1" "$(count_screen sim 'rst:0x1 (POWERON)')"
T send-keys -t sim C-r
sleep 1.5
expect_eq "Ctrl+R resets: the boot log appears again" "2" "$(count_screen sim 'rst:0x1 (POWERON)')"
expect_eq "and the application output" "2" "$(count_screen sim 'Hello world!')"
T send-keys -t sim C-c
wait_ended sim 5 && ok "Ctrl+C exits the sim monitor" || not_ok "Ctrl+C exits the sim monitor"
expect_eq "the terminal settings are restored (sim)" "$(cat "$WORK/sim.before")" "$(cat "$WORK/sim.after" 2>/dev/null)"
T kill-session -t sim

# --- killed by a signal ------------------------------------------------------------
for sig in TERM HUP; do
  session "sig$sig" "$E" monitor -p sim://esp32c3
  wait_screen "sig$sig" "CTRL+C    Exit" 20
  sleep 0.5
  RAW=$(stty -a -F "$(T display -p -t "sig$sig" '#{pane_tty}')")
  expect_has "SIG$sig: the terminal is raw while monitoring" "-icanon" "$RAW"
  kill -"$sig" "$(cat "$WORK/sig$sig.pid")"
  wait_ended "sig$sig" 5
  expect_eq "SIG$sig: the terminal settings are restored" "$(cat "$WORK/sig$sig.before")" \
    "$(cat "$WORK/sig$sig.after" 2>/dev/null)"
  T kill-session -t "sig$sig"
done

finish
