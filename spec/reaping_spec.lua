-- Reaping (issue 14, item 2): nothing a tool started outlives the session,
-- however the session ends.  The REAL claude CLI runs a Bash tool_use
-- (scripted by the offline model server) whose command leaves two sleeps
-- behind: one in the tool shell's session (the CLI 2.1.197 runs each Bash
-- command in a session of its own: pgid = sid = the shell's pid, out of reach
-- of a signal to the CLI's process group), one in a session of its own
-- (setsid).  The CLI itself leaves both when it ends (2.1.197 does); the
-- core's supervisor (csrc/cas_process.c) must sweep them.  Each case waits
-- until both sleeps run, ends the session, and requires both gone within 2 s:
--   (a) disconnect() while the tool runs (luv mode; can_use_tool allows it);
--   (b) the host, a separate Lua process, is killed with SIGKILL;
--   (c) the host calls os.exit(0) (no lua_close: only the core's atexit hook).
-- The sleeps are found by their argv: `sleep <secs>` with secs unique to this
-- run and case.  Item 4 (SIGCHLD ignored by the host) is tested in C
-- (spec/c/test_process.c, test_sigchld_ignored): Lua cannot ignore a signal.
local claude = require("claude_agent_sdk")
local core = require("claude_agent_sdk.core")
local loop = require("claude_agent_sdk.loop")
local h = require("support.helpers")

local CLI, why = h.cli_path()
local LUA = h.lua_interpreter()
local sh_quote = h.sh_quote

local function note(fmt, ...)
  io.stdout:write("# reaping (", rawget(_G, "jit") and "luajit" or _VERSION, "): ", fmt:format(...), "\n")
  io.stdout:flush()
end

local function write_file(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

-- The model asks for a Bash tool_use running whatever follows "run bash: ".
local MODEL_SCRIPT = [[
return {
  {
    match = { pattern = "run bash: " },
    reply = function(req)
      local command = req.last_user_text:match("run bash: ([^\n]+)")
      return { tool_use = { name = "Bash", input = { command = command, description = "Start two sleeps" } } }
    end,
  },
}
]]

-- A sleep in the tool shell's session and one in a session of its own; the
-- shell waits for both, so the tool runs until the session ends.
local function command(secs)
  return ("setsid sleep %d & sleep %d & echo started; wait"):format(secs, secs)
end

-- A number of seconds no other sleep on this machine uses: this process's
-- pid and the case.
local function unique_secs(case)
  return 1000000 + h.self_pid() * 10 + case
end

-- argv of a process, or nil.
local function argv_of(pid)
  local s = h.read_file("/proc/" .. pid .. "/cmdline")
  if not s or s == "" then
    return nil
  end
  local args, i = {}, 1
  while i <= #s do
    local j = s:find("\0", i, true) or (#s + 1)
    args[#args + 1] = s:sub(i, j - 1)
    i = j + 1
  end
  return args
end

-- The live (not zombie) processes running `sleep <secs>`.
local function sleeps(secs)
  local list = {}
  for _, name in ipairs(core.listdir("/proc") or {}) do
    local pid = tonumber(name)
    if pid then
      local a = argv_of(pid)
      if a and #a == 2 and a[1]:match("sleep$") and a[2] == tostring(secs) and not h.gone(pid) then
        list[#list + 1] = pid
      end
    end
  end
  return list
end

-- Session id and process group of a process, or nil.
local function sid_pgrp(pid)
  local s = h.read_file("/proc/" .. pid .. "/stat")
  if not s then
    return nil
  end
  local pgrp, sid = s:match("^%d+ %(.*%) %S %-?%d+ (%-?%d+) (%-?%d+)")
  return tonumber(sid), tonumber(pgrp)
end

-- Poll (plain sleeps, no loop needed) until pred() holds or ms pass.
local function poll_until(pred, ms)
  local deadline = core.now() + ms
  while not pred() and core.now() < deadline do
    core.sleep(20)
  end
  return pred() and true or false
end

-- Kill whatever a failed case left, so that it cannot linger for days.
local function kill_left(secs)
  for _, pid in ipairs(sleeps(secs)) do
    os.execute("kill -KILL " .. pid .. " 2>/dev/null")
  end
end

-- Where the sleeps run, for the notes: in the CLI's group or not, own session or not.
local function describe_sleeps(list, cli)
  local out = {}
  for _, pid in ipairs(list) do
    local sid, pgrp = sid_pgrp(pid)
    out[#out + 1] = ("%d (sid %s, pgid %s%s)"):format(
      pid,
      tostring(sid),
      tostring(pgrp),
      pgrp == cli and ", the CLI's group" or ""
    )
  end
  return table.concat(out, ", ")
end

describe("no tool process outlives the session (real CLI)", function()
  if not CLI then
    pending("skipped: " .. why)
    return
  end

  local srv, dir
  setup(function()
    dir = h.tmpdir()
    write_file(dir .. "/model_script.lua", MODEL_SCRIPT)
    srv = h.start_server(dir .. "/model_script.lua")
  end)
  teardown(function()
    h.stop_server(srv)
    if dir then
      os.execute("rm -rf " .. sh_quote(dir))
    end
  end)

  it("(a) disconnect() while the Bash tool runs: both sleeps are gone within 2 s", function()
    local secs = unique_secs(1)
    local asked, found, where, cli, t_disc, gone_ms, at_return = 0, nil, nil, nil, nil, nil, nil
    loop.use("luv")
    local ok, err = pcall(claude.run, function()
      local c = claude.ClaudeSDKClient.new(h.options(srv, {
        cwd = dir,
        can_use_tool = function(tool_name)
          asked = asked + 1
          if tool_name ~= "Bash" then
            return claude.PermissionResultDeny({ message = "only Bash" })
          end
          return claude.PermissionResultAllow({})
        end,
      }))
      c:connect()
      cli = c:pid()
      c:query("run bash: " .. command(secs))
      -- nobody consumes the messages: the core answers can_use_tool anyway
      h.wait_for(function()
        return #sleeps(secs) == 2
      end, 60000)
      found = sleeps(secs)
      where = describe_sleeps(found, cli)
      local t0 = core.now()
      c:disconnect()
      t_disc = core.now() - t0
      at_return = #sleeps(secs)
      h.wait_for(function()
        return #sleeps(secs) == 0
      end, 2000)
      gone_ms = core.now() - t0
    end)
    local left = sleeps(secs)
    kill_left(secs)
    assert(ok, tostring(err))
    assert.are.equal(2, #found, "both sleeps ran while the tool did (found " .. #found .. ")")
    assert.is_true(asked >= 1, "can_use_tool was asked")
    note(
      "(a) sleeps %s; disconnect() took %d ms; %d left when it returned; all gone after %d ms",
      where,
      t_disc,
      at_return,
      gone_ms
    )
    assert.are.same({}, left)
    -- disconnect() returns once the CLI's exit is known, which the supervisor
    -- reports only after its sweep
    assert.are.equal(0, at_return)
    assert.is_true(gone_ms <= 2000, gone_ms .. " ms")
    assert.is_true(h.gone(cli), "the CLI is gone")
  end)

  -- A separate Lua host: connects with allowed_tools = { "Bash" } (no
  -- callback to answer, so it can simply sleep), asks for the tool, prints
  -- its pid and the CLI's, then waits.  Told to go (a file appears), it calls
  -- os.exit(0); otherwise it waits to be killed.
  local HOST_SCRIPT = [[
local optsfile, gofile, how = ...
local claude = require("claude_agent_sdk")
local core = require("claude_agent_sdk.core")
local o = dofile(optsfile)
local c = claude.ClaudeSDKClient.new(o.options)
c:connect()
c:query(o.prompt)
local f = io.open("/proc/self/stat")
local me = f:read("*l"):match("^(%d+)")
f:close()
io.stdout:write("pids ", me, " ", c:pid(), "\n")
io.stdout:flush()
while true do
  core.sleep(20)
  local g = io.open(gofile)
  if g then
    g:close()
    if how == "exit" then os.exit(0) end
  end
end
]]

  -- Lua source for a table of strings (and lists of strings), for the host.
  local function lua_literal(v)
    if type(v) == "table" then
      local parts = {}
      for k, x in pairs(v) do
        local key = type(k) == "number" and "" or ("[" .. ("%q"):format(k) .. "] = ")
        parts[#parts + 1] = key .. lua_literal(x)
      end
      return "{ " .. table.concat(parts, ", ") .. " }"
    end
    return ("%q"):format(v)
  end

  local function run_host(how, case)
    local secs = unique_secs(case)
    local opts = h.options(srv, { cwd = dir, allowed_tools = { "Bash" } })
    local optsfile, gofile, script = dir .. "/host_opts_" .. how .. ".lua", dir .. "/go_" .. how, dir .. "/host.lua"
    write_file(script, HOST_SCRIPT)
    write_file(optsfile, "return " .. lua_literal({
      options = { cli_path = opts.cli_path, cwd = opts.cwd, env = opts.env, allowed_tools = opts.allowed_tools },
      prompt = "run bash: " .. command(secs),
    }) .. "\n")
    os.remove(gofile)
    local p = assert(
      io.popen(("exec %s %s %s %s %s"):format(LUA, sh_quote(script), sh_quote(optsfile), sh_quote(gofile), how), "r")
    )
    local line = p:read("*l") or ""
    local host, cli = line:match("^pids (%d+) (%d+)")
    if not host then
      p:close()
      error("the host printed: " .. line)
    end
    host, cli = tonumber(host), tonumber(cli)
    poll_until(function()
      return #sleeps(secs) == 2
    end, 60000)
    local found = sleeps(secs)
    local where = describe_sleeps(found, cli)
    local t0 = core.now()
    if how == "kill" then
      os.execute("kill -KILL " .. host)
    else
      write_file(gofile, "go\n")
    end
    p:read("*a")
    p:close()
    poll_until(function()
      return #sleeps(secs) == 0
    end, 2000 - (core.now() - t0))
    local gone_ms = core.now() - t0
    local left = sleeps(secs)
    local cli_gone = h.wait_gone(cli, 2000)
    kill_left(secs)
    if not cli_gone then
      os.execute("kill -KILL " .. cli .. " 2>/dev/null")
    end
    note(
      "(%s) sleeps %s; gone %d ms after the host %s",
      how == "kill" and "b" or "c",
      where,
      gone_ms,
      how == "kill" and "was killed" or "called os.exit(0)"
    )
    return found, left, gone_ms, cli_gone
  end

  it("(b) the host is killed with SIGKILL while the Bash tool runs: both sleeps are gone within 2 s", function()
    local found, left, gone_ms, cli_gone = run_host("kill", 2)
    assert.are.equal(2, #found, "both sleeps ran while the tool did (found " .. #found .. ")")
    assert.are.same({}, left)
    assert.is_true(gone_ms <= 2000, gone_ms .. " ms")
    assert.is_true(cli_gone, "the CLI is gone")
  end)

  it("(c) the host calls os.exit(0) while the Bash tool runs: both sleeps are gone within 2 s", function()
    local found, left, gone_ms, cli_gone = run_host("exit", 3)
    assert.are.equal(2, #found, "both sleeps ran while the tool did (found " .. #found .. ")")
    assert.are.same({}, left)
    assert.is_true(gone_ms <= 2000, gone_ms .. " ms")
    assert.is_true(cli_gone, "the CLI is gone")
  end)
end)
