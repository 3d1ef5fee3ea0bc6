-- The serial-port failures users meet most, as espflash.errors.explain
-- turns them into errors with the fix: permission denied (the group, a
-- session older than the group membership, the udev rule), a busy port
-- (which process holds it, found in /proc), a device gone mid-operation;
-- and how the CLI prints an error with its code.
local errors = require("espflash.errors")
local files = require("helpers.files")

local tmpdir, write = files.tmpdir, files.write

describe("errors.format", function()
  it("prints the message with its code, then the hint", function()
    assert.are.equal("The partition table does not fit [espflash::partition_table::does_not_fit]\n"
      .. "  hint: Make sure you set the correct flash size",
      errors.format(errors.new("espflash::partition_table::does_not_fit", "The partition table does not fit",
        "Make sure you set the correct flash size")))
    assert.are.equal("bad value", errors.format(errors.new("usage", "bad value")))
    assert.are.equal("plain", errors.format("plain"))
  end)
end)

describe("permission denied", function()
  local dir
  before_each(function()
    dir = tmpdir()
    write(dir .. "/group", "root:x:0:\ndialout:x:20:alice,bob\nuucp:x:14:\n")
  end)
  after_each(function() os.execute(("rm -rf '%s'"):format(dir)) end)

  local function denied(opts)
    local e = errors.new("espflash::serial_error", "Failed to open serial port /dev/ttyUSB0: permission denied "
      .. "opening /dev/ttyUSB0: add your user to the dialout group (sudo usermod -aG dialout $USER), then log in again")
    opts.group_file, opts.rules = dir .. "/group", "/usr/share/doc/espflash/70-espflash.rules"
    return errors.explain(e, opts)
  end

  it("names the port's group and the udev rule", function()
    local e = denied({ port_gid = 20, user = "carol", status = "Name:\tx\nGroups:\t100 27\n" })
    assert.are.equal("espflash::serial_permission_denied", e.code)
    assert.are.equal("Permission denied opening the serial port /dev/ttyUSB0", e.message)
    assert.are.equal("/dev/ttyUSB0 belongs to the group 'dialout': add yourself with `sudo usermod -aG dialout "
      .. "$USER`, then log out and back in; or install the udev rule: sudo cp "
      .. "/usr/share/doc/espflash/70-espflash.rules /etc/udev/rules.d/ && sudo udevadm control --reload-rules && "
      .. "sudo udevadm trigger, then replug the board", e.hint)
    assert.are.equal("espflash::serial_error", e.cause.code)
    e = denied({ port_gid = 14, user = "carol", status = "Groups:\t100\n" })
    assert.matches("^/dev/ttyUSB0 belongs to the group 'uucp': add yourself with `sudo usermod %-aG uucp", e.hint)
  end)

  it("knows when no group membership helps", function()
    local e = denied({ port_gid = 20, port_mode = tonumber("600", 8), user = "carol", status = "Groups:\t100\n" })
    assert.are.equal("Only the owner of /dev/ttyUSB0 may open it (its group has no access): install the udev rule: "
      .. "sudo cp /usr/share/doc/espflash/70-espflash.rules /etc/udev/rules.d/ && sudo udevadm control "
      .. "--reload-rules && sudo udevadm trigger, then replug the board", e.hint)
  end)

  it("sees a login session older than the group membership", function()
    local e = denied({ port_gid = 20, user = "bob", status = "Name:\tx\nGroups:\t100 27\n" })
    assert.are.equal("You are in the 'dialout' group that owns /dev/ttyUSB0, but this login session started "
      .. "before you were added: log out and back in (or run `newgrp dialout`)", e.hint)
    -- already active in this process: then the group is not the problem, so the general advice stays
    e = denied({ port_gid = 20, user = "bob", status = "Groups:\t20 100\n" })
    assert.matches("^/dev/ttyUSB0 belongs to the group 'dialout'", e.hint)
  end)

  it("finds the group of a real file", function()
    local facts_path = dir .. "/port"
    write(facts_path, "")
    os.execute(("chmod 660 '%s'"):format(facts_path))
    local e = errors.explain(errors.new("espflash::serial_error", "Failed to open serial port " .. facts_path
      .. ": permission denied opening " .. facts_path .. ": ..."), { group_file = dir .. "/group", rules = "R" })
    local p = io.popen(("stat -c %%g '%s'"):format(facts_path))
    local gid = tonumber(p:read("l"))
    p:close()
    local group = ({ [0] = "root", [20] = "dialout", [14] = "uucp" })[gid] or tostring(gid)
    assert.truthy(e.hint:find(("%s belongs to the group '%s'"):format(facts_path, group), 1, true), e.hint)
  end)
end)

describe("a busy port", function()
  local dir, pid
  before_each(function()
    dir = tmpdir()
    write(dir .. "/ttyFAKE", "")
    -- a process that keeps the "port" open on fd 3
    local p = io.popen(("sh -c 'exec sleep 30 3<\"%s/ttyFAKE\" & echo $!'"):format(dir))
    pid = tonumber(p:read("l"))
    p:close()
  end)
  after_each(function()
    os.execute("kill " .. pid .. " 2>/dev/null")
    os.execute(("rm -rf '%s'"):format(dir))
  end)

  local function wait_holder(path)
    for _ = 1, 50 do
      local list = errors.port_holders(path)
      if #list > 0 then return list end
      os.execute("sleep 0.05")
    end
    return {}
  end

  it("names the process that has it open", function()
    local list = wait_holder(dir .. "/ttyFAKE")
    assert.are.same({ { pid = pid, name = "sleep" } }, list)
    assert.are.equal(("sleep (pid %d)"):format(pid), errors.describe_holders(list))
    local e = errors.explain(errors.new("espflash::serial_error", ("Failed to open serial port %s/ttyFAKE: serial "
      .. "port %s/ttyFAKE is busy: close the program using it (a serial monitor?) and try again"):format(dir, dir)))
    assert.are.equal("espflash::serial_port_busy", e.code)
    assert.are.equal(("The serial port %s/ttyFAKE is busy"):format(dir), e.message)
    assert.are.equal(("It is open in sleep (pid %d): close it (a serial monitor?) and try again"):format(pid), e.hint)
  end)

  it("adds the holders to a failed connection's hint", function()
    wait_holder(dir .. "/ttyFAKE")
    local e = errors.new("espflash::connection_failed", "Failed to connect to the device", "Ensure that the device is connected")
    e.port = dir .. "/ttyFAKE"
    e = errors.explain(e)
    assert.are.equal("espflash::connection_failed", e.code)
    assert.are.equal(("Ensure that the device is connected. %s/ttyFAKE is also open in sleep (pid %d): close it "
      .. "and try again"):format(dir, pid), e.hint)
    -- explained once: a second pass changes nothing
    assert.are.equal(e.hint, errors.explain(e).hint)
  end)

  it("reads /proc through the listing it is given, leaving out this process", function()
    local seen = {}
    local list = errors.port_holders(dir .. "/ttyFAKE", { listdir = function(d)
      seen[#seen + 1] = d
      if d == "/proc" then return { "self", "1x", tostring(pid) } end
      local p = io.popen(("ls -1 '%s' 2>/dev/null"):format(d))
      local out = {}
      for l in p:lines() do out[#out + 1] = l end
      p:close()
      return out
    end, self_pid = pid })
    assert.are.same({}, list)
    assert.are.same({ "/proc" }, seen)
  end)
end)

describe("a device that went away", function()
  it("is told apart from other serial errors", function()
    for _, msg in ipairs({ "IO error while using serial port: /dev/ttyACM0: read failed: Input/output error (device disconnected?)",
                           "IO error while using serial port: /dev/ttyACM0: the device hung up" }) do
      local e = errors.explain(errors.new("espflash::serial_error", msg))
      assert.are.equal("espflash::serial_disconnected", e.code)
      assert.matches("^The device went away during the operation %(/dev/ttyACM0: ", e.message)
      assert.matches("Check the USB cable", e.hint)
    end
    local other = errors.new("espflash::serial_error", "IO error while using serial port: something else")
    assert.are.equal(other, errors.explain(other))
    assert.are.equal("just text", errors.explain("just text"))
  end)
end)

describe("docs/errors.md", function()
  it("lists every error code the library and the scripts raise", function()
    local src = os.getenv("ESPFLASH_SOURCE_DIR") or "."
    local doc = files.read(src .. "/docs/errors.md")
    -- rows such as "`espflash::rom::*`: `cmd`, `crc`, ..." document a family
    local families = {}
    for prefix, rest in doc:gmatch("`(espflash::[%w_:]-)::%*`([^\n]*)") do families[prefix] = rest end
    local codes, missing = {}, {}
    local p = io.popen(("grep -rhoE '\"espflash::[a-z_:0-9]+\"' '%s/lua' '%s/scripts'"):format(src, src))
    for line in p:lines() do codes[line:sub(2, -2)] = true end
    p:close()
    assert.is_true(next(codes) ~= nil, "no codes found in the sources")
    for code in pairs(codes) do
      local documented = doc:find("`" .. code .. "`", 1, true) ~= nil
      local prefix, leaf = code:match("^(.*)::([%w_]*)$")
      local family = families[prefix]
      if not documented and family then documented = leaf == "" or family:find("`" .. leaf .. "`", 1, true) ~= nil end
      if not documented then missing[#missing + 1] = code end
    end
    table.sort(missing)
    assert.are.same({}, missing)
  end)
end)

describe("docs/70-espflash.rules", function()
  it("gives access to every known board, in well-formed udev rules", function()
    local src = os.getenv("ESPFLASH_SOURCE_DIR") or "."
    local covered = {}
    for line in io.lines(src .. "/docs/70-espflash.rules") do
      if line ~= "" and not line:match("^#") then
        local vid, pid = line:match('^SUBSYSTEM=="tty", ATTRS{idVendor}=="(%x%x%x%x)", ATTRS{idProduct}=="(%x%x%x%x)", '
          .. 'MODE="0660", GROUP="plugdev", TAG%+="uaccess"$')
        assert(vid, "malformed rule: " .. line)
        covered[(tonumber(vid, 16) << 16) | tonumber(pid, 16)] = true
      end
    end
    for id in pairs(require("espflash.session").KNOWN_USB) do
      assert.is_true(covered[id] == true, ("no rule for %04x:%04x"):format(id >> 16, id & 0xFFFF))
    end
  end)
end)
