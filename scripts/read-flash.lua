-- read-flash: read a flash region into a file. The stub streams it
-- (READ_FLASH, checked against the stub's MD5); --no-stub reads 64 bytes a
-- command through the ROM (READ_FLASH_SLOW), each at its correct offset.
local errors = require("espflash.errors")
local session = require("espflash.session")

return {
  summary = "Read SPI flash content",
  uses = { "connect", "json" },
  options = {
    { "address", help = "Address to start reading from", convert = "u32" },
    { "size", help = "Size of the region to read", convert = "u32" },
    { "file", help = "File name to save the read data to" },
    { "--block-size", help = "Size of each individual packet of data", arg = "SIZE",
      convert = "u32", default = "0x1000" },
    { "--max-in-flight", help = "Maximum number of un-acked packets", arg = "N",
      convert = "u32", default = "64" },
  },
  run = function(args, ctx)
    if args.block_size < 1 or args.block_size > 0x1000 then
      errors.usage("--block-size must be between 1 and 0x1000 (the flasher stub's packet limit)")
    end
    if args.max_in_flight < 1 then errors.usage("--max-in-flight must be at least 1") end
    local dev <close> = ctx:connect(args)
    session.print_board_info(ctx, dev:info())
    local data = dev:read(args.address, args.size, {
      block_size = args.block_size, max_in_flight = args.max_in_flight,
      progress = ctx.ui:progress_callback(string.format("0x%X", args.address)),
    })
    local f, msg = io.open(args.file, "wb")
    if not f then errors.raise("espflash::io", "Failed to write the flash content: " .. msg) end
    f:write(data)
    f:close()
    ctx.ui:info(string.format("Flash content successfully read and written to '%s'!", args.file))
    ctx.ui:json_result({ address = args.address, size = #data, file = args.file,
                         md5 = require("espflash.core").md5_hex(data) })
    dev:close()
  end,
}
