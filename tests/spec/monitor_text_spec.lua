-- The monitor's text path: CRLF normalisation, UTF-8 merging across reads
-- (espflash's own cases, issue #457 included), partial lines shown at once,
-- completed lines (joined across reads) handed to the line callback, and the
-- keyboard mapping of the interactive monitor.
local text = require("espflash.monitor_text")
local keys = require("espflash.monitor_keys")

local function shown(pieces)
  local out = {}
  for _, p in ipairs(pieces) do out[#out + 1] = p[1] end
  return table.concat(out)
end

describe("CRLF normalisation", function()
  it("turns lone LF into CRLF and leaves CRLF alone", function()
    local n = text.crlf()
    assert.are.equal("This is a string \r\n with \r\n some \r\n\r\n random newlines\r\n\r\n",
      n("This is a string \n with \n some \n\r\n random newlines\r\n\n"))
  end)

  it("remembers a CR at the end of the previous read", function()
    local n = text.crlf()
    assert.are.equal("abc\r", n("abc\r"))
    assert.are.equal("\ndef\r\n", n("\ndef\n"))
    assert.are.equal("\r\n", n("\n"))
  end)
end)

describe("UTF-8 merging", function()
  it("returns valid text immediately and does not repeat it", function()
    local m = text.utf8_merger()
    assert.are.equal("Hello, world!", m("Hello, world!"))
    assert.are.equal("Something else", m("Something else"))
  end)

  it("replaces an invalid byte with U+FFFD", function()
    assert.are.equal("Hello, \u{FFFD} world!", text.utf8_merger()("Hello, \xFF world!"))
  end)

  it("merges a sequence split across reads", function()
    local m = text.utf8_merger()
    local monkey = "\u{1F648}"
    assert.are.equal("Hello, ", m("Hello, " .. monkey:sub(1, 3)))
    assert.are.equal(monkey, m(monkey:sub(4)))
  end)

  it("replaces an unfinished sequence that the next read does not complete", function()
    local m = text.utf8_merger()
    local monkey = "\u{1F648}"
    assert.are.equal("Hello, ", m("Hello, " .. monkey:sub(1, 3)))
    assert.are.equal("\u{FFFD} world!", m(" world!"))
  end)

  it("reassembles issue #457 byte by byte", function()
    local m = text.utf8_merger()
    local chunks = { "\x48", "\x65\x6C\x6C", "\x6F\x20\x77\x6F\x72\x6C\x64\x21\x20\x77\x69\x74",
      "\x68\x20\x55\x54\x46\x3A\x20\x77\x79\x73\x79", "\xC5\x82\x61\x6D\x0A" }
    local out = {}
    for _, c in ipairs(chunks) do out[#out + 1] = m(c) end
    assert.are.equal("Hello world! with UTF: wysyłam\n", table.concat(out))
  end)

  it("uses one U+FFFD per maximal invalid subpart, like Rust", function()
    assert.are.equal("a\u{FFFD}b", (text.lossy("a\xE2\x82b")))
    assert.are.equal("\u{FFFD}\u{FFFD}", (text.lossy("\xC0\x80")))
    assert.are.equal("\u{FFFD}\u{FFFD}", (text.lossy("\xED\xA0")))
    local t, carry = text.lossy("ok\xF0\x9F")
    assert.are.equal("ok", t)
    assert.are.equal("\xF0\x9F", carry)
  end)
end)

describe("the printer", function()
  it("shows partial lines at once and completed lines with CRLF", function()
    local lines = {}
    local p = text.printer(function(l) lines[#lines + 1] = l end)
    assert.are.equal("Hel", shown(p:feed("Hel")))
    assert.are.equal("lo\r\nwor", shown(p:feed("lo\nwor")))
    assert.are.equal("ld\r\n", shown(p:feed("ld\r\n")))
    assert.are.same({ "Hello", "world" }, lines)
  end)

  it("puts the line callback's text right after the line", function()
    local p = text.printer(function(l) if l:find("0x") then return "note for " .. l .. "\r\n" end end)
    local pieces = p:feed("a 0x1\nb\n")
    assert.are.same({ { "a 0x1\r\n", "device" }, { "note for a 0x1\r\n", "note" }, { "b\r\n", "device" } },
      pieces)
  end)
end)

describe("keys", function()
  local now = 0
  local function decoder() now = 0; return keys.new(function() return now end) end

  it("maps terminal bytes as espflash does", function()
    local k = decoder()
    assert.are.equal("abc\r\n", k:feed("abc\r\n"))
    assert.are.equal("\8\t\1\0\28\31", k:feed("\127\t\1\0\28\31"))
    assert.are.equal("\27[A\27[B\27[C\27[D", k:feed("\27[A\27[B\27OC\27OD"))
    assert.are.equal("\27[H\27[H\27[H\27[F\27[F", k:feed("\27[H\27OH\27[1~\27[F\27[4~"))
    assert.are.equal("\27[3~\27[2~", k:feed("\27[3~\27[2~"))
    assert.are.equal("\27[A", k:feed("\27[1;5A"))
    assert.are.equal("", k:feed("\27OP\27[15~\27[5~\27[Z"))
    assert.are.equal("x", k:feed("\27x"))
    assert.are.equal("é", k:feed("é"))
  end)

  it("keeps an escape sequence split across reads", function()
    local k = decoder()
    assert.are.equal("a", k:feed("a\27["))
    assert.is_true(k:waiting())
    assert.are.equal("\27[D", k:feed("D"))
  end)

  it("sends a lone ESC once no more input follows", function()
    local k = decoder()
    assert.are.equal("", k:feed("\27"))
    now = 0.01
    assert.are.equal("", k:feed(""))
    now = 1
    assert.are.equal("\27", k:feed(""))
  end)

  it("reports Ctrl+C and Ctrl+R and keeps what follows", function()
    local k = decoder()
    local send, cmd = k:feed("ab\18cd")
    assert.are.equal("ab", send)
    assert.are.equal("reset", cmd)
    send, cmd = k:feed("\3")
    assert.are.equal("cd", send)
    assert.are.equal("exit", cmd)
  end)
end)
