#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine for espflash: Debian packages, the build
# (build/), and the flasher stubs (build/stubs). Safe to run again.
#   scripts/setup.sh [BUILD_DIR] [extra cmake args...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
shift || true

packages=(build-essential cmake ninja-build pkg-config
  lua5.4 liblua5.4-dev libserialport-dev libelf-dev zlib1g-dev libedit-dev libmd-dev nettle-dev libdw-dev
  lua-busted lua-argparse lua-cjson
  nodejs npm ser2net socat expect tmux valgrind zsh fish elvish bash-completion)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node and npm may come from elsewhere than Debian (the CI image has its own)
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
read -r -a missing <<<"${missing[*]}"
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
[ -f "$build/CMakeCache.txt" ] && gen=()
cmake -S "$root" -B "$build" "${gen[@]}" "$@" >/dev/null
cmake --build "$build" -j "$(nproc)"
"$root/scripts/setup-stubs.sh" "$build"
