# Shared helpers for the tests/e2e/cli_*.sh scripts (sourced, not a test itself):
# the checks of check_helpers.bash, with espflash in development mode.
. "$(dirname "${BASH_SOURCE[0]}")/check_helpers.bash"
: "${ESPFLASH_SOURCE_DIR:?set ESPFLASH_SOURCE_DIR to the source tree (ctest does)}"
# development mode by default: sources from the tree
export ESPFLASH_LUA_DIR="$ESPFLASH_SOURCE_DIR"
