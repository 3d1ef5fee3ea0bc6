--- Writing flash for `espflash.device` (Device:write): the compression level,
--- the block-level skip and the FLASH(_DEFL)_BEGIN/DATA/END exchanges. The
--- choices here were measured with bench/ (see bench/results.md).
---
--- Data blocks go strictly one at a time: the next block is sent when the
--- previous one is acknowledged. The stub acknowledges a block on receipt
--- and programs it while the next one arrives (protocol.md §5.3), but it
--- has only two receive buffers, so a third frame sent before that answer
--- could land while both are busy and be lost.
local core = require("espflash.core")
local loader = require("espflash.loader")

local OP, words = loader.OP, loader.words

local M = {}

M.SECTOR = 0x1000
M.STUB_BLOCK = 0x4000
M.ROM_BLOCK = 0x400
--- Fan-out of the block-level skip: a changed region is checked in this
--- many parts, down to single sectors.
M.FANOUT = 4

local function blocks_of(len, size)
  return (len + size - 1) // size
end

local md5_hex = core.md5_hex

--- The zlib level for `data`: 0 (stored) when four 16 KiB samples do not
--- shrink by 3 % — random or already compressed data, where every level
--- sends the same bytes and levels 1-9 cost some 25 ms a MiB — else 6:
--- level 9 saves under 0.5 % on firmware at several times the CPU time,
--- which costs more than it saves above 115200 baud.
function M.level(data)
  local n = #data
  local sample = 0x4000
  for i = 0, 3 do
    local at = (n - sample) * i // 3
    if at < 0 then at = 0 end
    local s = data:sub(at + 1, at + sample)
    if #s > 0 and #core.deflate(s, 1) < #s * 0.97 then return 6 end
  end
  return 0
end

-- Sends `begin`, the data commands `block(seq)` for seq = 0 .. n-1 and then
-- `finish` (if any). With the stub the first block goes out right behind
-- the BEGIN (both fit its two buffers; it only starts an erase), saving a
-- turnaround; the ROM erases the whole region before answering a BEGIN, so
-- there the block waits for that answer. `progress(seq)` after each block.
local function stream(ld, begin, n, block, finish, progress)
  if ld.stub and n > 0 then
    ld:pipeline({ begin, block(0) })
    if progress then progress(0) end
  else
    ld:command(begin[1], begin[2], begin[3])
  end
  for seq = (ld.stub and n > 0) and 1 or 0, n - 1 do
    local c = block(seq)
    ld:command(c[1], c[2], c[3])
    if progress then progress(seq) end
  end
  if finish then ld:command(finish[1], finish[2]) end
end

-- Stub: zlib in 0x4000 blocks, FLASH_DEFL_END(stay) as a barrier.
local function write_deflate(dev, addr, data, progress, level)
  local comp = core.deflate(data, level)
  local n = blocks_of(#comp, M.STUB_BLOCK)
  stream(dev.loader,
    { OP.FLASH_DEFL_BEGIN, loader.begin_payload(#data, n, M.STUB_BLOCK, addr),
      { size = blocks_of(#data, M.SECTOR) * M.SECTOR } },
    n, function(seq)
      local blk = comp:sub(seq * M.STUB_BLOCK + 1, (seq + 1) * M.STUB_BLOCK)
      local payload, ck = loader.data_payload(blk, seq)
      -- the block's share of the uncompressed data sets the timeout
      return { OP.FLASH_DEFL_DATA, payload, { checksum = ck, size = #data * #blk // #comp } }
    end,
    { OP.FLASH_DEFL_END, words(1) },
    progress and function(seq) progress(math.min(#data, #data * (seq + 1) * M.STUB_BLOCK // #comp)) end)
end

-- Uncompressed: FLASH_BEGIN/DATA. The ROM erases whole sectors in
-- FLASH_BEGIN, so the write starts at the sector boundary (the bytes before
-- `addr` are erased either way), the last block is padded with 0xFF and the
-- erase size is blocks × block size; no FLASH_END goes to the ROM (it would
-- leave the loader). The stub takes the exact size, so its last block is
-- sent as it is (padding it to 16 KiB would send up to 16 KiB of 0xFF).
local function write_plain(dev, addr, data, progress)
  local ld = dev.loader
  local bs, head = M.STUB_BLOCK, 0
  if not ld.stub then
    bs, head = M.ROM_BLOCK, addr % M.SECTOR
    data = string.rep("\xFF", head) .. data
  end
  local n = blocks_of(#data, bs)
  local size = ld.stub and #data or n * bs
  local encrypted = not ld.stub and dev.chip.rom.flash_begin_len == 20
  stream(ld, { OP.FLASH_BEGIN, loader.begin_payload(size, n, bs, addr - head, encrypted), { size = size } },
    n, function(seq)
      local payload, ck = loader.data_payload(data:sub(seq * bs + 1, (seq + 1) * bs), seq,
        not ld.stub and bs or nil, 0xFF)
      return { OP.FLASH_DATA, payload, { checksum = ck, size = bs } }
    end,
    ld.stub and { OP.FLASH_END, words(1) } or nil,
    progress and function(seq) progress(math.max(0, math.min(#data, (seq + 1) * bs) - head)) end)
end

--- The parts of `data` (to be written at sector-aligned `addr`) that differ
--- on the device, as `{lo, hi}` byte ranges (0-based, hi exclusive) in
--- order, found by comparing MD5s: the whole region is known to differ; it
--- is checked in FANOUT parts, and each differing part again, down to single
--- sectors — unless every part of a region differs, which means the change
--- is everywhere (a new image) and the whole region is written.
function M.changed_ranges(dev, addr, data)
  local out = {}
  local function add(lo, hi)
    local last = out[#out]
    if last and last[2] == lo then last[2] = hi else out[#out + 1] = { lo, hi } end
  end
  local function descend(lo, hi)
    if hi - lo <= M.SECTOR then return add(lo, hi) end
    local step = blocks_of(blocks_of(hi - lo, M.FANOUT), M.SECTOR) * M.SECTOR
    local parts, regions, changed = {}, {}, 0
    for at = lo, hi - 1, step do
      local e = math.min(at + step, hi)
      parts[#parts + 1] = { at, e }
      regions[#regions + 1] = { addr + at, e - at }
    end
    for i, got in ipairs(dev:_md5_many(regions)) do
      local p = parts[i]
      p[3] = got ~= md5_hex(data:sub(p[1] + 1, p[2]))
      if p[3] then changed = changed + 1 end
    end
    if changed == #parts then return add(lo, hi) end
    for _, p in ipairs(parts) do
      if p[3] then descend(p[1], p[2]) end
    end
  end
  descend(0, #data)
  return out
end

--- Writes `data` (already padded to 4 bytes, within the flash) at `addr`:
--- see Device:write for the options. Returns "written" or "skipped".
function M.write(dev, addr, data, opts)
  local ld = dev.loader
  local skip, verify = opts.skip, opts.verify ~= false
  if dev.sdm and (skip or verify) then
    if dev.log then dev.log("warn", "Secure Download Mode: skipping the MD5 checks (not available)") end
    skip, verify = false, false
  end
  local digest = md5_hex(data)
  local ranges = { { 0, #data } }
  if skip then
    local now = dev:md5(addr, #data)
    if now == digest then
      if opts.progress then opts.progress(#data, #data) end
      return "skipped"
    end
    -- an erased region (a first write) needs no closer look
    if addr % M.SECTOR == 0 and now ~= md5_hex(string.rep("\xFF", #data)) then
      ranges = M.changed_ranges(dev, addr, data)
    end
  end
  local total, done = 0, 0
  for _, r in ipairs(ranges) do total = total + r[2] - r[1] end
  for _, r in ipairs(ranges) do
    local progress = opts.progress and function(d) opts.progress(done + d, total) end
    local part = data:sub(r[1] + 1, r[2])
    -- data that does not compress goes uncompressed: the same bytes on the
    -- wire without the deflate framing (which can cost a block's round trip)
    local level = (ld.stub and opts.compress ~= false) and M.level(part) or 0
    if level > 0 then
      write_deflate(dev, addr + r[1], part, progress, level)
    else
      write_plain(dev, addr + r[1], part, progress)
    end
    done = done + r[2] - r[1]
  end
  if verify then
    local got = dev:md5(addr, #data)
    if got ~= digest then
      local errors = require("espflash.errors")
      errors.raise("espflash::verify_failed", "Verification of flash content failed",
        string.format("MD5 of the %d bytes at 0x%x is %s on the device, %s expected", #data, addr, got, digest))
    end
  end
  return "written"
end

return M
