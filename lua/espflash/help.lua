--- Help text in clap's layout (what espflash prints), made from the same
--- normalized option entries that build the parser; handed to lua-argparse
--- as each parser's help so `-h`, `--help` and `help CMD` all print it.
local args = require("espflash.args")

local M = {}

M.WIDTH = 100

local function wrap(text, indent, first_width, width)
  local lines, line = {}, ""
  local limit = first_width
  for word in text:gmatch("%S+") do
    if line ~= "" and #line + 1 + #word > limit then
      lines[#lines + 1] = line
      line, limit = word, width - indent
    else
      line = line == "" and word or line .. " " .. word
    end
  end
  lines[#lines + 1] = line
  return table.concat(lines, "\n" .. (" "):rep(indent))
end

--- The label of an entry: `-a, --after <AFTER>`, `    --no-stub`, `<ADDRESS>`.
function M.label(e)
  if e.kind == "positional" then
    if e.rest or e.many then return ("[%s]..."):format(e.argname) end
    if e.optional then return ("[%s]"):format(e.argname) end
    return e.display
  end
  local head = e.short and (e.short .. ", ") or "    "
  local label = head .. e.long
  if e.kind == "option" then label = label .. (" <%s>"):format(e.argname) end
  return label
end

local function section(out, title, rows, col)
  if #rows == 0 then return end
  out[#out + 1] = title .. ":"
  for _, r in ipairs(rows) do
    local pad = col - #r[1] - 2
    if pad < 2 then
      out[#out + 1] = "  " .. r[1]
      out[#out + 1] = (" "):rep(col) .. wrap(r[2], col, M.WIDTH - col, M.WIDTH)
    else
      out[#out + 1] = "  " .. r[1] .. (" "):rep(pad) .. wrap(r[2], col, M.WIDTH - col, M.WIDTH)
    end
  end
  out[#out + 1] = ""
end

local function paragraphs(text)
  local out = {}
  for para in (text .. "\n\n"):gmatch("(.-)\n\n") do
    if para:find("\n  ", 1, true) or para:match("^  ") then
      out[#out + 1] = para  -- indented examples keep their layout
    else
      out[#out + 1] = wrap(para:gsub("\n", " "), 0, M.WIDTH, M.WIDTH)
    end
  end
  return table.concat(out, "\n\n")
end

--- Renders help: `node = {about, usage, entries, extra_options = {{label, help}}, commands = {{name, summary}}}`.
function M.render(node)
  local arg_rows, opt_rows, cmd_rows = {}, {}, {}
  for _, e in ipairs(node.entries or {}) do
    if not e.hidden then
      local row = { M.label(e), args.describe(e) }
      if e.kind == "positional" then arg_rows[#arg_rows + 1] = row else opt_rows[#opt_rows + 1] = row end
    end
  end
  for _, r in ipairs(node.extra_options or {}) do opt_rows[#opt_rows + 1] = r end
  for _, c in ipairs(node.commands or {}) do cmd_rows[#cmd_rows + 1] = { c.name, c.summary } end
  local col = 0
  for _, rows in ipairs({ arg_rows, opt_rows, cmd_rows }) do
    for _, r in ipairs(rows) do col = math.max(col, #r[1]) end
  end
  col = math.min(col + 4, 34)
  local out = { paragraphs(node.about), "", node.usage, "" }
  section(out, "Commands", cmd_rows, col)
  section(out, "Arguments", arg_rows, col)
  section(out, "Options", opt_rows, col)
  while out[#out] == "" do out[#out] = nil end
  return table.concat(out, "\n")
end

return M
