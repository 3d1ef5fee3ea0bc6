-- checksum-md5: the device's MD5 of a flash region (SPI_FLASH_MD5; ROM or stub).
-- The digest is asked for twice and printed only when both answers agree
-- (dev:md5's `confirm`): the replies carry no checksum, and a bit flipped on
-- the line would otherwise be printed as the region's digest.
return {
  summary = "Calculate the MD5 checksum of the given region",
  uses = { "connect", "json" },
  options = {
    { "address", help = "Start address", convert = "u32" },
    { "size", help = "Size of the region to check", convert = "u32" },
  },
  run = function(args, ctx)
    local dev <close> = ctx:connect(args)
    local md5 = dev:md5(args.address, args.size, { confirm = true })
    -- espflash prints the digest as a 128-bit number: `0x{:x}`, no leading zeros
    ctx.ui:print("0x" .. (md5:gsub("^0+(%x)", "%1")))
    ctx.ui:json_result({ address = args.address, size = args.size, md5 = md5 })
    dev:close()
  end,
}
