--- Shared option groups, as espflash's flattened clap structs.
-- A script lists the groups it takes in `uses = { "connect", ... }`; their
-- entries come before the script's own options, in this order.
local M = {}

--- ConnectArgs: how to reach the target device.
M.connect = {
  { "-a --after", arg = "AFTER", help = "Reset operation to perform after connecting to the target",
    choices = { "hard-reset", "no-reset", "no-reset-no-stub", "watchdog-reset" }, default = "hard-reset" },
  { "-B --baud", arg = "BAUD", help = "Baud rate at which to communicate with target device",
    convert = "u32", env = "ESPFLASH_BAUD" },
  { "-b --before", arg = "BEFORE", help = "Reset operation to perform before connecting to the target",
    choices = { "default-reset", "no-reset", "no-reset-no-sync", "usb-reset" }, default = "default-reset" },
  { "-c --chip", arg = "CHIP", help = "Target device",
    choices = { "esp32", "esp32c2", "esp32c3", "esp32c5", "esp32c6", "esp32h2", "esp32p4", "esp32s2", "esp32s3" } },
  { "--confirm-port", flag = true, help = "Require confirmation before auto-connecting to a recognized device" },
  { "--list-all-ports", flag = true, help = "List all available ports" },
  { "--no-stub", flag = true, help = "Do not use the RAM stub for loading" },
  { "-p --port", arg = "PORT", env = "ESPFLASH_PORT",
    help = "Serial port connected to target device: a path or URL; serial:SERIAL or usb:LOCATION picks a "
      .. "board by its USB serial number or physical port (see list-ports); several (a,b, a glob, or all) "
      .. "run the command on each" },
  { "--non-interactive", flag = true, help = "Avoids asking the user for interactions like resetting the device" },
}

--- FlashConfigArgs: flash parameters; all optional (config file, then detection, decide).
M.flash_config = {
  { "-f --flash-freq", arg = "FREQ", help = "Flash frequency",
    choices = { "12mhz", "15mhz", "16mhz", "20mhz", "24mhz", "26mhz", "30mhz", "40mhz", "48mhz", "60mhz", "80mhz" } },
  { "-m --flash-mode", arg = "MODE", help = "Flash mode to use",
    choices = { "qio", "qout", "dio", "dout" } },
  { "-s --flash-size", arg = "SIZE", help = "Flash size of the target",
    choices = { "256kb", "512kb", "1mb", "2mb", "4mb", "8mb", "16mb", "32mb", "64mb", "128mb", "256mb" } },
}

--- MonitorConfigArgs: how the serial monitor runs (monitor; flash and
--- write-bin with -M). The entries are espflash.monitor_options' — espflash's
--- -r/--monitor-baud (env MONITOR_BAUD), --elf, --rom-elf, --no-reset,
--- -L/--log-format, -F/--output-format, --processors, --no-addresses,
--- --all-addresses, plus this tool's monitor additions — so a script using
--- the group and the monitor read the same keys. `--non-interactive` is
--- ConnectArgs' (espflash shares it between the two).
M.monitor_config = require("espflash.monitor_options").entries

--- `--json`: print the command's result as one JSON document (docs/json.md).
M.json = {
  { "--json", flag = true, help = "Print the result as one JSON document on stdout (see docs/json.md)" },
}

return M
