--- The ESP-IDF application descriptor (`esp_app_desc_t`, 256 bytes): parsing
--- and the one field espflash writes (`app_elf_sha256`).
local M = {}

--- The descriptor's magic word.
M.MAGIC = 0xABCD5432
--- Size of the descriptor in bytes.
M.SIZE = 256
--- Offset of `app_elf_sha256` inside the descriptor.
M.SHA256_OFFSET = 144
--- Offset of `mmu_page_size` (log2) inside the descriptor.
M.MMU_PAGE_OFFSET = 180

local function cstring(s)
  local z = s:find("\0", 1, true)
  if z then s = s:sub(1, z - 1) end
  return s
end

--- Parses the 256 descriptor bytes at byte `pos` (1-based, default 1) of `s`.
--- Returns a table, or nil and a message when the bytes are too short or the
--- magic word is wrong.
function M.parse(s, pos)
  pos = pos or 1
  if #s - pos + 1 < M.SIZE then
    return nil, ("the app descriptor needs %d bytes, only %d are there"):format(M.SIZE, #s - pos + 1)
  end
  local magic, secure_version = string.unpack("<I4I4", s, pos)
  if magic ~= M.MAGIC then
    return nil, ("Invalid app descriptor magic word: 0x%08x (expected 0x%08x)"):format(magic, M.MAGIC)
  end
  local min_efuse, max_efuse, mmu = string.unpack("<I2I2B", s, pos + 176)
  return {
    magic = magic,
    secure_version = secure_version,
    version = cstring(s:sub(pos + 16, pos + 47)),
    project_name = cstring(s:sub(pos + 48, pos + 79)),
    time = cstring(s:sub(pos + 80, pos + 95)),
    date = cstring(s:sub(pos + 96, pos + 111)),
    idf_ver = cstring(s:sub(pos + 112, pos + 143)),
    app_elf_sha256 = s:sub(pos + M.SHA256_OFFSET, pos + M.SHA256_OFFSET + 31),
    min_efuse_blk_rev_full = min_efuse,
    max_efuse_blk_rev_full = max_efuse,
    mmu_page_size_log2 = mmu,
    -- log2 of the page size; 0 (unset) and absurd values give nil
    mmu_page_size = (mmu >= 10 and mmu <= 24) and (1 << mmu) or nil,
  }
end

--- Returns `s` with the 32 bytes of `app_elf_sha256` of the descriptor at
--- byte `pos` (1-based) replaced by `digest`.
function M.with_sha256(s, pos, digest)
  assert(#digest == 32, "digest must be 32 bytes")
  local at = pos + M.SHA256_OFFSET
  return s:sub(1, at - 1) .. digest .. s:sub(at + 32)
end

return M
