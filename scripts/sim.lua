-- sim: serve a virtual chip (ROM download mode, then the flasher stub) on a
-- TCP port or a pseudo-terminal until Ctrl-C, for espflash, esptool and esptool-js.
local core = require("espflash.core")
local chips = require("espflash.chips")
local errors = require("espflash.errors")
local sim = require("espflash.sim")

local SIZES = { "256kb", "512kb", "1mb", "2mb", "4mb", "8mb", "16mb", "32mb", "64mb", "128mb", "256mb" }

return {
  summary = "Serve a virtual ESP chip on a TCP port or a pseudo-terminal",
  description = "Simulates CHIP in ROM download mode (and, once uploaded, the flasher stub) with "
    .. "its flash in memory or in FILE. Prints one line saying where it listens "
    .. "(\"Listening on HOST:PORT\" or \"Pseudo-terminal: PATH\") and serves until Ctrl-C; "
    .. "every new TCP client finds the chip reset into download mode. Connect with "
    .. "--port socket://HOST:PORT or --port PATH and --before no-reset.",
  options = {
    { "-c --chip", arg = "CHIP", help = "Chip to simulate", choices = chips.names() },
    { "--listen", arg = "HOST:PORT", help = "Listen for TCP clients on HOST:PORT (port 0 picks a free one) "
      .. "[default: 127.0.0.1:0]" },
    { "--pty", flag = true, help = "Serve on a new pseudo-terminal instead of TCP" },
    { "--flash", arg = "FILE", help = "Keep the flash contents in FILE (created, filled with 0xFF, if missing)" },
    { "--flash-size", arg = "SIZE", help = "Flash size (also the JEDEC id the chip reports)",
      choices = SIZES },
    { "--mac", arg = "MAC", help = "MAC address stored in the chip's eFuses (aa:bb:cc:dd:ee:ff)" },
    { "--link-emulation", flag = true, help = "Pace bytes at the baud rate, like a real UART" },
    { "--latency-us", arg = "N", help = "Turnaround latency with --link-emulation, in microseconds",
      convert = "u32" },
    { "--secure-download", flag = true, help = "Start in Secure Download Mode (ROM restrictions, no stub)" },
    { "--app-output", arg = "TEXT", help = "What the application prints after a normal boot" },
    { "--fault", arg = "KIND", help = "Inject one fault (docs/virtual-device.md): drop or flip a byte of a "
      .. "reply, stall the replies, reset on a command, refuse a command",
      choices = { "drop", "flip", "stall", "reset", "refuse" } },
    { "--fault-at", arg = "N", help = "The reply (drop, flip, stall) or command (reset, refuse) the "
      .. "fault hits, counted from 0 since the server started [default: 0]", convert = "u32" },
  },
  run = function(args, ctx)
    if not args.chip then
      errors.usage("the --chip option is required", "Pick one of: " .. table.concat(chips.names(), ", "))
    end
    if args.fault_at and not args.fault then
      errors.usage("--fault-at needs --fault", "Name the fault to inject with --fault KIND")
    end
    if args.pty and args.listen then
      errors.usage("--listen and --pty cannot be used together", "Serve either on TCP or on a pseudo-terminal")
    end
    local device, profile = sim.new(args.chip, {
      flash = args.flash, size = args.flash_size, mac = args.mac,
      link_emulation = args.link_emulation, latency_us = args.latency_us,
      secure_download = args.secure_download, app_output = args.app_output,
      fault = args.fault, fault_at = args.fault_at,
    })
    if #profile.stub_entries == 0 then
      ctx.ui:warn("No flasher stub found for " .. profile.name .. ": clients that upload one will get no "
        .. "answer. Run scripts/setup-stubs.sh or set ESPFLASH_STUBS")
    end
    local where = args.pty and { pty = true } or { listen = args.listen or "127.0.0.1:0" }
    local ok, msg, code = core.sim_serve(device, where, function(address)
      ctx.ui:print((args.pty and "Pseudo-terminal: " or "Listening on ") .. address)
    end)
    device:close()
    errors.check(ok, msg, code)
    return errors.EXIT_INTERRUPTED -- serving ends only with Ctrl-C
  end,
}
