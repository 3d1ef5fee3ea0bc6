--- Flash MD5s for `espflash.device` (Device:md5, Device:_md5_many):
--- SPI_FLASH_MD5 requests two in flight (Loader:pipeline) and, on request,
--- confirmed digests.
---
--- SPI_FLASH_MD5 replies carry no checksum, so a bit flipped on the line
--- comes back as a wrong digest. Where the digest is compared with an
--- expected one that fails safe (write's skip rewrites, its verify fails, a
--- ROM read fails its check); where it is reported (checksum-md5) it would
--- be a false success. `confirm` asks twice and accepts a digest only when
--- two answers agree.
local errors = require("espflash.errors")
local loader = require("espflash.loader")

local OP, words = loader.OP, loader.words

local M = {}

--- Answers asked for at most per region when confirming: two at once, then
--- one more at a time while no two agree.
M.MAX_ANSWERS = 5

local function hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

--- The digest in a reply body as 32 lowercase hex digits (the ROM answers in
--- ASCII hex, the stub with 16 raw bytes), or nil when malformed.
function M.parse(body, stub)
  if stub and #body == 16 then return hex(body) end
  if not stub and #body == 32 and body:match("^%x+$") then return body:lower() end
end

local function invalid(body)
  errors.raise("espflash::invalid_response",
    string.format("Invalid response: FlashMd5 returned %d bytes", #body))
end

-- The raw answers for the regions listed (by index), in order.
local function ask(ld, regions, list)
  local cmds = {}
  for k, i in ipairs(list) do
    local r = regions[i]
    cmds[k] = { OP.SPI_FLASH_MD5, words(r[1], r[2], 0, 0), { size = r[2] } }
  end
  local bodies = {}
  for k, res in ipairs(ld:pipeline(cmds)) do bodies[k] = res[2] end
  return bodies
end

--- The MD5s of `regions` (`{{addr, size}, ...}`, already checked) through
--- loader `ld`. With `confirm`, each region is asked twice and a digest is
--- accepted once a second answer says the same; after MAX_ANSWERS answers
--- without two alike, `espflash::md5_unstable` (`espflash::invalid_response`
--- when none was even well-formed).
function M.many(ld, regions, confirm)
  local out, list = {}, {}
  if not confirm then
    for i = 1, #regions do list[i] = i end
    for i, d in ipairs(ask(ld, regions, list)) do out[i] = M.parse(d, ld.stub) or invalid(d) end
    return out
  end
  local seen, last = {}, {}
  for i = 1, #regions do
    seen[i] = {}
    list[#list + 1], list[#list + 2] = i, i
  end
  local asked = 2
  while true do
    for k, d in ipairs(ask(ld, regions, list)) do
      local i, h = list[k], M.parse(d, ld.stub)
      last[i] = d
      if h and not out[i] then
        if seen[i][h] then out[i] = h else seen[i][h] = true end
      end
    end
    list = {}
    for i = 1, #regions do
      if not out[i] then list[#list + 1] = i end
    end
    if #list == 0 then return out end
    if asked >= M.MAX_ANSWERS then
      local i = list[1]
      if not next(seen[i]) then invalid(last[i]) end
      errors.raise("espflash::md5_unstable",
        string.format("The MD5 of 0x%x bytes at 0x%x came back different in each of %d answers: "
          .. "the serial link corrupts replies", regions[i][2], regions[i][1], asked),
        "Lower the baud rate (-B/--baud), or check the cable, its connectors and the USB adapter")
    end
    asked = asked + 1
  end
end

return M
