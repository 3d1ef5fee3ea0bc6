--- The monitor's command-line options: espflash's MonitorConfigArgs plus this
--- tool's additions (--timestamps, --log-file, --timeout, --reconnect,
--- --no-reconnect), the options table `monitor.run` takes, and espflash's
--- sanity warnings about them. `--non-interactive` belongs to ConnectArgs.
local M = {}

local function seconds(s)
  local v = tonumber(s)
  if not v or v ~= v or v < 0 or v == math.huge then return nil, "expected a number of seconds" end
  return v
end

--- Option entries (espflash.args format) for `uses`/`options` lists.
M.entries = {
  { "-r --monitor-baud", arg = "MONITOR_BAUD", convert = "u32", env = "MONITOR_BAUD", default = "115200",
    help = "Baud rate at which to read console output" },
  { "--elf", arg = "ELF", help = "Optional file name of the ELF image to load the symbols from" },
  { "--rom-elf", arg = "ROM_ELF",
    help = "ROM ELF for symbols of ROM addresses (default: roms/<chip>_rev<N>_rom.elf in the resource directory)" },
  { "--no-reset", flag = true,
    help = "Avoids restarting the device before monitoring (only with --non-interactive)" },
  { "-L --log-format", arg = "LOG_FORMAT", choices = { "defmt", "serial" },
    help = "Logging format (default: from the ELF's metadata, else serial)" },
  { "-F --output-format", arg = "OUTPUT_FORMAT",
    help = "Logging output format (defmt only): oneline, full, or a custom defmt log format" },
  { "--processors", arg = "PROCESSORS", help = "External log processors to use (comma separated executables)" },
  { "--no-addresses", flag = true, help = "Disable address resolution for a smaller log output" },
  { "--all-addresses", flag = true,
    help = "Also resolve addresses on `Saved PC:`, `load:0x` and `entry 0x` lines" },
  { "--timestamps", flag = true, help = "Prefix every line with the local time [HH:MM:SS.mmm]" },
  { "--log-file", arg = "FILE", help = "Append what is shown to FILE, without colour codes" },
  { "--timeout", arg = "SECONDS", convert = seconds,
    help = "Stop monitoring after SECONDS (exit status 0)" },
  { "--reconnect", flag = true,
    help = "Wait for a port that disappears to come back (default when interactive)" },
  { "--no-reconnect", flag = true, help = "Stop when the port closes (default with --non-interactive)" },
}

--- The keys of `entries` as they appear in parsed args.
M.KEYS = { "monitor_baud", "elf", "rom_elf", "no_reset", "log_format", "output_format", "processors",
  "no_addresses", "all_addresses", "timestamps", "log_file", "timeout", "reconnect", "no_reconnect" }

--- The options table for `monitor.run` from parsed args. `elf` overrides
--- args.elf (flash passes the image it flashed).
function M.from_args(args, elf)
  local reconnect
  if args.reconnect then reconnect = true elseif args.no_reconnect then reconnect = false end
  return {
    monitor_baud = args.monitor_baud or 115200, elf = elf or args.elf, rom_elf = args.rom_elf,
    no_reset = args.no_reset, non_interactive = args.non_interactive,
    log_format = args.log_format, output_format = args.output_format,
    processors = args.processors, no_addresses = args.no_addresses,
    all_addresses = args.all_addresses, timestamps = args.timestamps, log_file = args.log_file,
    timeout = args.timeout, reconnect = reconnect,
  }
end

--- espflash's warnings about contradictory monitor options (never fatal),
--- plus the usage error for --reconnect with --no-reconnect. `monitoring`
--- false means flash/write-bin without -M: monitor options are then ignored.
--- Returns the list of warning lines.
function M.check(args, monitoring)
  local w = {}
  if args.reconnect and args.no_reconnect then
    require("espflash.errors").usage("--reconnect and --no-reconnect cannot be used together")
  end
  if monitoring == false then
    local given = args.elf or args.rom_elf or args.no_reset or args.log_format or args.output_format
      or args.processors or args.no_addresses or args.all_addresses or args.timestamps
      or args.log_file or args.timeout or args.reconnect or args.no_reconnect
    if given then
      w[#w + 1] = "Monitor options were provided, but `--monitor/-M` flag isn't set. These options will be ignored."
    end
    return w
  end
  if args.no_reset and not args.non_interactive then
    w[#w + 1] = "The `--no-reset` flag only applies when using the `--non-interactive` flag. Ignoring it."
  end
  if args.no_addresses and args.all_addresses then
    w[#w + 1] = "Both `--no-addresses` and `--all-addresses` were given: addresses will not be resolved."
  end
  if args.output_format and args.log_format == "serial" then
    w[#w + 1] = "Output format specified but log format is serial. Ignoring output format."
  end
  return w
end

return M
