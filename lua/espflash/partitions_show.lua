--- A partition table as the box-drawn table `espflash partition-table`
--- prints (comfy-table's UTF8_FULL preset with round corners).
local types = require("espflash.partitions_types")

local M = {}

local HEADERS = { "Name", "Type", "SubType", "Offset", "Size", "Encrypted" }

-- Display width of a UTF-8 string (one column per code point; invalid
-- UTF-8 counts bytes).
local function width(s)
  return utf8.len(s) or #s
end

-- Control bytes and invalid UTF-8 in names (from binary tables) shown escaped.
local function printable(s)
  if not utf8.len(s) then
    s = s:gsub("[\128-\255]", function(c) return ("\\x%02x"):format(c:byte()) end)
  end
  return (s:gsub("%c", function(c) return ("\\x%02x"):format(c:byte()) end))
end

--- The rows of a table as strings: `{name, type, subtype, offset, size, flags}`.
function M.rows(t)
  local rows = {}
  for i, p in ipairs(t.partitions) do
    rows[i] = {
      printable(p.name), types.type_name(p.type), types.subtype_name(p.type, p.subtype),
      ("0x%x"):format(p.offset), ("0x%x (%dKiB)"):format(p.size, p.size // 1024),
      table.concat((types.flag_names(p.flags)), ":"),
    }
  end
  return rows
end

--- The table as text (no trailing newline).
function M.render(t)
  local rows = M.rows(t)
  local w = {}
  for c, h in ipairs(HEADERS) do
    w[c] = width(h)
    for _, r in ipairs(rows) do w[c] = math.max(w[c], width(r[c])) end
  end
  local function rule(l, fill, mid, r)
    local parts = {}
    for c = 1, #HEADERS do parts[c] = fill:rep(w[c] + 2) end
    return l .. table.concat(parts, mid) .. r
  end
  local function line(cells)
    local parts = {}
    for c = 1, #HEADERS do parts[c] = " " .. cells[c] .. (" "):rep(w[c] - width(cells[c]) + 1) end
    return "│" .. table.concat(parts, "┆") .. "│"
  end
  local out = { rule("╭", "─", "┬", "╮"), line(HEADERS), rule("╞", "═", "╪", "╡") }
  for i, r in ipairs(rows) do
    if i > 1 then out[#out + 1] = rule("├", "╌", "┼", "┤") end
    out[#out + 1] = line(r)
  end
  out[#out + 1] = rule("╰", "─", "┴", "╯")
  return table.concat(out, "\n")
end

return M
