--- Flashing an application to a connected device: the checks espflash makes
--- (chip/ELF match, minimum revision), the plan (bootloader, partition
--- table, app image), erasing partitions, loading to RAM, and writing with a
--- block-level skip: only the blocks whose MD5 differs on the device are
--- rewritten, then each segment is verified with one MD5.
local core = require("espflash.core")
local errors = require("espflash.errors")
local chips = require("espflash.chips")
local elfmod = require("espflash.elf")
local memory = require("espflash.image_memory")
local plan_mod = require("espflash.image_plan")
local types = require("espflash.partitions_types")

local M = {}

--- Block sizes of the skip: segments are compared in COARSE blocks, and
--- the coarse blocks that differ in FINE blocks (see docs/images.md for the
--- measurement behind them). A fine block is one flash sector.
M.COARSE = 0x10000
M.FINE = 0x1000

local function md5_hex(s) return core.md5_hex(s) end

-- Offsets of the `size`-byte blocks of data[lo, hi) whose device MD5 differs.
local function changed_blocks(dev, addr, data, lo, hi, size)
  local out = {}
  for off = lo, hi - 1, size do
    local len = math.min(size, hi - off)
    if dev:md5(addr + off, len) ~= md5_hex(data:sub(off + 1, off + len)) then
      out[#out + 1] = off
    end
  end
  return out
end

--- Writes `data` at `addr` and returns the bytes actually written. Options:
--- `skip` (default true: compare MD5s and rewrite only changed FINE blocks),
--- `verify` (default true: one MD5 of the whole segment afterwards),
--- `compress`, `progress(done, total)`, `on_skip()` when nothing differed,
--- `secure_download` (no MD5 in Secure Download Mode: write everything).
function M.write_segment(dev, addr, data, opts)
  opts = opts or {}
  data = data .. ("\xFF"):rep((4 - #data % 4) % 4)
  local verify = opts.verify ~= false
  if opts.skip == false or addr % M.FINE ~= 0 or opts.secure_download then
    dev:write(addr, data, { skip = false, verify = verify, compress = opts.compress,
                            progress = opts.progress })
    return #data
  end
  local digest = md5_hex(data)
  if dev:md5(addr, #data) == digest then
    if opts.on_skip then opts.on_skip() end
    return 0
  end
  local fine = {}
  local coarse = #data > M.COARSE and changed_blocks(dev, addr, data, 0, #data, M.COARSE) or { 0 }
  for _, c in ipairs(coarse) do
    local hi = math.min(c + M.COARSE, #data)
    local list = hi - c > M.FINE and changed_blocks(dev, addr, data, c, hi, M.FINE) or { c }
    for _, f in ipairs(list) do fine[#fine + 1] = f end
  end
  -- consecutive changed blocks become one write
  local runs = {}
  for _, off in ipairs(fine) do
    local last = runs[#runs]
    if last and last.hi == off then
      last.hi = math.min(off + M.FINE, #data)
    else
      runs[#runs + 1] = { lo = off, hi = math.min(off + M.FINE, #data) }
    end
  end
  local total, done = 0, 0
  for _, r in ipairs(runs) do total = total + r.hi - r.lo end
  for _, r in ipairs(runs) do
    local progress = opts.progress and function(d) opts.progress(done + d, total) end
    dev:write(addr + r.lo, data:sub(r.lo + 1, r.hi),
      { skip = false, verify = false, compress = opts.compress, progress = progress })
    done = done + r.hi - r.lo
  end
  if verify then
    local got = dev:md5(addr, #data)
    if got ~= digest then
      errors.raise("espflash::verify_failed", "Verification of flash content failed",
        ("MD5 of the %d bytes at 0x%x is %s on the device, %s expected"):format(#data, addr, got, digest))
    end
  end
  return total
end

--- Loads the RAM segments of an ELF into the device's RAM and starts it
--- (MEM_BEGIN/MEM_DATA per segment, MEM_END with the entry point). Raises
--- `espflash::not_ram_loadable` for ELFs with flash-mapped sections.
function M.load_ram(dev, elf, chip)
  local segs = {}
  for _, s in ipairs(elf:loadable_sections()) do
    if memory.is_flash(chip, s.addr) then
      errors.raise("espflash::not_ram_loadable",
        "Supplied ELF image can not be run from RAM, as it includes segments mapped to ROM addresses",
        "Either build the binary to be all in RAM, or remove the `--ram` option to load the image to flash")
    end
    segs[#segs + 1] = s
  end
  table.sort(segs, function(a, b) return a.addr < b.addr end)
  if dev.load_ram then return dev:load_ram(segs, elf.entry) end
  local connect, loader = require("espflash.connect"), require("espflash.loader")
  local ld = dev.loader
  for _, s in ipairs(segs) do
    connect.mem_load(ld, s.addr, s.data .. ("\0"):rep((4 - #s.data % 4) % 4))
  end
  ld:command(loader.OP.MEM_END, loader.words(elf.entry == 0 and 1 or 0, elf.entry))
end

local function check_chip(elf, info)
  local want = elf:metadata().chip_name
  if want and want ~= info.chip then
    errors.raise("espflash::chip_mismatch",
      ("The firmware was built for %s, but the detected chip is %s"):format(want, info.chip),
      "Ensure that the device is connected and your host recognizes the serial adapter")
  end
end

local function check_revision(info, min_rev)
  local r = info.revision
  if not r or min_rev == 0 then return end
  if r.major * 100 + r.minor < min_rev then
    errors.raise("espflash::unsupported_chip_revision",
      ("Minimum supported revision is %d.%d, connected device's revision is %d.%d")
        :format(min_rev // 100, min_rev % 100, r.major, r.minor),
      "Use --force to flash anyway, or build the firmware for this revision")
  end
end

-- The partitions --erase-parts (labels) and --erase-data-parts (data
-- subtype names) select, one per offset, in table order.
local function parts_to_erase(tbl, labels, data_types)
  local chosen, seen = {}, {}
  local function add(p)
    if not seen[p.offset] then seen[p.offset] = true; chosen[#chosen + 1] = p end
  end
  for _, label in ipairs(labels or {}) do
    local p = tbl:find(label)
    if not p then
      errors.raise("espflash::partition_table::missing_partition", ("Missing partition '%s'"):format(label),
        ("Partition table must contain the partition of type `%s` to be erased"):format(label))
    end
    add(p)
  end
  for _, name in ipairs(data_types or {}) do
    local sub = types.SUBTYPES[types.TYPES.data][name]
    for _, p in ipairs(tbl:find_all("data", sub)) do add(p) end
  end
  return chosen
end

--- Flashes the ELF at `elf_path`: `opts` holds the image options
--- (espflash.image_options.from_args) plus `no_skip`, `no_verify`, `ram`,
--- `force`, `erase_parts` and `erase_data_parts` (lists), `info` (from
--- dev:info(), fetched when absent), and callbacks
--- `log(level, msg)`, `on_plan(plan)` (before anything is written) and
--- `progress(label)` returning a `function(done, total)`. Returns
--- `{plan, info, written, total, segments = {{addr, name, size, written}}}`
--- (`{ram = true, info}` for --ram).
function M.write_app(dev, elf_path, opts)
  opts = opts or {}
  local log = opts.log or function() end
  local info = opts.info or dev:info()
  local chip = assert(chips.get(info.chip))
  local elf = type(elf_path) == "table" and elf_path or elfmod.load(elf_path)
  check_chip(elf, info)
  if opts.ram then
    M.load_ram(dev, elf, chip)
    return { ram = true, info = info }
  end
  local min_rev = math.max(opts.min_chip_rev or 0, elf:metadata().min_chip_revision or 0)
  if not opts.force and not info.secure_download then check_revision(info, min_rev) end

  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  o.chip, o.elf, o.xtal_mhz = chip, elf, info.crystal_mhz
  o.flash_size = opts.flash_size or info.flash_size_name:lower()
  o.revision = info.revision and info.revision.major * 100 + info.revision.minor or nil
  local plan = plan_mod.build(o)
  if opts.on_plan then opts.on_plan(plan) end

  for _, p in ipairs(parts_to_erase(plan.table, opts.erase_parts, opts.erase_data_parts)) do
    log("info", ("Erasing %s (%s)..."):format(p.name, types.subtype_name(p.type, p.subtype)))
    dev:erase_region(p.offset, p.size)
  end

  local result = { plan = plan, info = info, written = 0, total = 0, segments = {} }
  for _, s in ipairs(plan.segments) do
    local label = ("0x%X"):format(s.addr)
    local n = M.write_segment(dev, s.addr, s.data, {
      skip = not opts.no_skip, verify = not opts.no_verify, secure_download = info.secure_download,
      progress = opts.progress and opts.progress(label),
      on_skip = function() log("info", label .. " Skipped! (checksum matches)") end,
    })
    result.segments[#result.segments + 1] = { addr = s.addr, name = s.name, size = #s.data, written = n }
    result.written, result.total = result.written + n, result.total + #s.data
  end
  return result
end

return M
