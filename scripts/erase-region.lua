-- erase-region: erase a sector-aligned region through the stub (ERASE_REGION).
local errors = require("espflash.errors")
local session = require("espflash.session")

return {
  summary = "Erase specified region of flash",
  description = "ADDRESS and SIZE must be multiples of 0x1000 (4096); they are checked before "
    .. "connecting. Needs the flasher stub: refused with --no-stub.",
  uses = { "connect" },
  options = {
    { "address", help = "Start address (multiple of 0x1000)", convert = "u32" },
    { "size", help = "Size of the region to erase (multiple of 0x1000)", convert = "u32" },
  },
  run = function(args, ctx)
    session.require_stub(args)
    if args.address % 0x1000 ~= 0 or args.size % 0x1000 ~= 0 then
      errors.raise("espflash::erase_region::invalid_argument",
        string.format("Invalid `address`(%d)  and/or `size`(%d) argument(s)", args.address, args.size),
        "`address` and `size` must be multiples of 0x1000 (4096)")
    end
    local dev <close> = ctx:connect(args)
    ctx.ui:info(string.format("Erasing region at 0x%08x (%d bytes)", args.address, args.size))
    dev:erase_region(args.address, args.size)
    dev:close()
  end,
}
