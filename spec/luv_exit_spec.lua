-- A clean process exit after the luv loop was used (issue 14, item 1).
--
-- libuv finishes closing a handle only when its loop runs again; at lua_close
-- luv frees a handle that is still closing before its own loop finalizer runs
-- the loop, which then reads freed memory: the host died with SIGSEGV (rc 139)
-- at exit, and LuaJIT lost what the script had printed (stdout never flushed).
-- Each case here is a small script run as its own process, the way a user runs
-- one, on Lua 5.4 and on LuaJIT (and the Lua 5.4 cases again under valgrind):
-- it must exit 0, with every line it printed, and leave no CLI behind.  The
-- host's own luv handles are never closed by the library.
local h = require("support.helpers")
local core = require("claude_agent_sdk.core")

local ROOT = h.ROOT
local q = h.sh_quote
local FAKE = ROOT .. "/spec/support/fake_cli"
local LUA_PATH = os.getenv("LUA_PATH") or (ROOT .. "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua;;")

local function exists(path)
  local f = io.open(path, "r")
  if f then
    f:close()
  end
  return f ~= nil
end

local function on_path(cmd)
  return os.execute("command -v " .. cmd .. " >/dev/null 2>&1") == true
    or os.execute("command -v " .. cmd .. " >/dev/null 2>&1") == 0
end

-- The interpreters to run the cases with: the one named by SPEC_LUA (with the
-- module it was given in LUA_CPATH, e.g. the ASan host and its build), and the
-- other flavour (Lua 5.4 or LuaJIT) from its build directory.
local interpreters = {}
do
  local spec = h.lua_interpreter()
  local is_jit = rawget(_G, "jit") ~= nil
  interpreters[#interpreters + 1] = { name = spec, cmd = spec, cpath = os.getenv("LUA_CPATH") or "" }
  local other = is_jit and "lua5.4" or "luajit"
  local so = ROOT .. "/build/" .. other .. "/claude_agent_sdk/core.so"
  if on_path(other) and exists(so) then
    interpreters[#interpreters + 1] = { name = other, cmd = other, cpath = ROOT .. "/build/" .. other .. "/?.so;;" }
  end
end

-- valgrind over the Lua 5.4 build, when both are there.
local VALGRIND
if on_path("valgrind") and on_path("lua5.4") and exists(ROOT .. "/build/lua5.4/claude_agent_sdk/core.so") then
  VALGRIND = {
    name = "valgrind lua5.4",
    cmd = "valgrind -q --error-exitcode=99 --child-silent-after-fork=yes --leak-check=full "
      .. "--errors-for-leak-kinds=definite lua5.4",
    cpath = ROOT .. "/build/lua5.4/?.so;;",
    valgrind = true,
  }
end

local dir

setup(function()
  dir = h.tmpdir()
end)
teardown(function()
  if dir then
    os.execute("rm -rf " .. q(dir))
  end
end)

-- Run the script `body` (a case's source) with interpreter `interp`: returns the
-- exit status, stdout and stderr.
local function run(interp, name, body)
  local script = dir .. "/" .. name .. ".lua"
  local f = assert(io.open(script, "w"))
  f:write(body)
  f:close()
  local out, err, rcf = script .. ".out", script .. ".err", script .. ".rc"
  local template =
    "cd %s && LUA_PATH=%s LUA_CPATH=%s FAKE_CLI=%s timeout -k 5 %d %s %s </dev/null >%s 2>%s; echo $? >%s"
  local cmd = template:format(
    q(dir),
    q(LUA_PATH),
    q(interp.cpath),
    q(FAKE),
    interp.valgrind and 120 or 30,
    interp.cmd,
    q(script),
    q(out),
    q(err),
    q(rcf)
  )
  os.execute(cmd)
  local rc = tonumber((h.read_file(rcf) or ""):match("%d+"))
  return rc, h.read_file(out) or "", h.read_file(err) or ""
end

-- The cases: a script, the stdout it must print, and what else to check.
-- Every script ends without os.exit(), so the interpreter closes the Lua
-- state (lua_close) and the finalizers run.
local PRELUDE = [[
local claude = require("claude_agent_sdk")
local uv = require("luv")
io.stdout:setvbuf("full") -- as when piped: a crash at exit would lose it all
local FAKE = os.getenv("FAKE_CLI")
-- one turn of client c, printing the result's subtype
local function one_turn(c)
  c:query("hi")
  for m in c:receive_response({ timeout = 10 }) do
    if m.type == "result" then print("result", m.subtype) end
  end
end
-- how many luv handles are left
local function print_handles()
  local n = 0
  uv.walk(function() n = n + 1 end)
  print("handles", n)
end
]]

local cases = {
  {
    name = "sleep_plain",
    what = "claude.sleep(10) in a plain script",
    src = [[
print("before")
claude.sleep(10)
print("after sleep")
]],
    out = "before\nafter sleep\n",
  },
  {
    name = "run_sleep",
    what = "claude.run(function() claude.sleep(10) end)",
    src = [[
print(claude.run(function() claude.sleep(10); return "ran" end))
]],
    out = "ran\n",
  },
  {
    name = "cancel_sleeping",
    what = "cancelling a task while it sleeps, from the script and from another task",
    src = [[
local t = claude.spawn(function() claude.sleep(10000) end)
print("cancelled", t:cancel(), t.status)
claude.run(function()
  local u = claude.spawn(function() claude.sleep(10000) end)
  claude.sleep(5)
  print("cancelled in a task", u:cancel(), u.status)
end)
print("end")
]],
    out = "cancelled\ttrue\tcancelled\ncancelled in a task\ttrue\tcancelled\nend\n",
  },
  {
    name = "unobserved_failure",
    what = "tasks that fail while nobody waits (reported on stderr)",
    src = [[
claude.spawn(function() claude.sleep(1); error("late boom", 0) end)
claude.sleep(20)
claude.run(function() claude.spawn(function() error("early boom", 0) end) end)
print("end")
]],
    out = "end\n",
    err = { "task ClaudeTask%(failed%) failed: late boom", "task ClaudeTask%(failed%) failed: early boom" },
  },
  {
    name = "host_timers",
    what = "a host's own uv timers (one running but unreferenced, one never started) are left alone",
    src = [[
local ticks = 0
local mine = uv.new_timer()
mine:start(2, 2, function() ticks = ticks + 1 end)
mine:unref()
local idle = uv.new_timer()
claude.sleep(30)
claude.run(function() claude.sleep(10) end)
local t = claude.spawn(function() claude.sleep(10000) end)
t:cancel()
local n = 0
uv.walk(function() n = n + 1 end)
print("ticked", ticks > 0)
print("running", mine:is_active(), mine:is_closing(), idle:is_closing())
print("handles", n)
]],
    out = "ticked\ttrue\nrunning\ttrue\tfalse\tfalse\nhandles\t2\n",
  },
  {
    name = "client_disconnected",
    what = "a client (fake CLI) used in a task and disconnected",
    src = [[
claude.run(function()
  local c = claude.ClaudeSDKClient.new({ cli_path = FAKE })
  c:connect()
  print("pid=" .. c:pid())
  one_turn(c)
  c:disconnect()
end)
print_handles()
]],
    out = "pid=%d+\nresult\tsuccess\nhandles\t0\n",
    pattern = true,
    pid = true,
  },
  {
    name = "client_disconnected_plain",
    what = "a client (fake CLI) used in a task, then disconnected from the script",
    src = [[
local c = claude.ClaudeSDKClient.new({ cli_path = FAKE })
claude.run(function()
  c:connect()
  print("pid=" .. c:pid())
  one_turn(c)
end)
c:disconnect()
print_handles()
]],
    out = "pid=%d+\nresult\tsuccess\nhandles\t0\n",
    pattern = true,
    pid = true,
  },
  {
    name = "host_runs_loop",
    what = "an async program that drives the loop itself with uv.run()",
    src = [[
claude.spawn(function()
  local c = claude.ClaudeSDKClient.new({ cli_path = FAKE })
  c:connect()
  print("pid=" .. c:pid())
  one_turn(c)
  claude.sleep(5)
  c:disconnect()
end)
claude.spawn(function() claude.sleep(1); error("unobserved", 0) end)
uv.run()
print_handles()
]],
    out = "pid=%d+\nresult\tsuccess\nhandles\t0\n",
    pattern = true,
    pid = true,
    err = { "task ClaudeTask%(failed%) failed: unobserved" },
  },
  {
    name = "client_kept",
    what = "a client not disconnected at exit, after waiting in a task",
    src = [[
KEPT = claude.ClaudeSDKClient.new({ cli_path = FAKE })
claude.run(function()
  KEPT:connect()
  print("pid=" .. KEPT:pid())
  one_turn(KEPT)
end)
print("end")
]],
    out = "pid=%d+\nresult\tsuccess\nend\n",
    pattern = true,
    pid = true,
  },
  {
    name = "client_waited_on",
    what = "a client not disconnected at exit while a task still waits on it",
    src = [[
local c = claude.ClaudeSDKClient.new({ cli_path = FAKE, env = { FAKE_MODE = "silent" } })
claude.run(function()
  c:connect()
  print("pid=" .. c:pid())
  c:query("hello?") -- never answered
end)
local receiver = claude.spawn(function()
  for _ in c:receive_response() do end
end)
claude.sleep(20)
print("waiting", receiver.status)
]],
    out = "pid=%d+\nwaiting\trunning\n",
    pattern = true,
    pid = true,
  },
  {
    name = "client_dropped",
    what = "a client dropped without disconnect() and not yet collected at exit",
    src = [[
local pid
claude.run(function()
  local c = claude.ClaudeSDKClient.new({ cli_path = FAKE })
  c:connect()
  pid = c:pid()
  c:query("hi")
  for _ in c:receive_response({ timeout = 10 }) do end
end)
print("pid=" .. pid)
]],
    out = "pid=%d+\n",
    pattern = true,
    pid = true,
  },
}

-- Check one run of a case.
local function verify(case, interp, rc, out, err)
  local where = ("%s, %s:\nstdout: %s\nstderr: %s"):format(case.name, interp.name, out, err)
  assert.are.equal(0, rc, "exit status " .. tostring(rc) .. " (" .. where .. ")")
  if case.pattern then
    assert.truthy(out:match("^" .. case.out .. "$"), "stdout (" .. where .. ")")
  else
    assert.are.equal(case.out, out, "stdout (" .. where .. ")")
  end
  local rest = err
  for _, pat in ipairs(case.err or {}) do
    assert.truthy(rest:find(pat), ("stderr lacks %q (%s)"):format(pat, where))
    rest = rest:gsub("[^\n]*" .. pat .. "[^\n]*\n?", "")
  end
  assert.are.equal("", rest, "unexpected stderr (" .. where .. ")")
  if case.pid then
    local pid = tonumber(out:match("pid=(%d+)"))
    assert.truthy(pid, where)
    assert.is_true(h.wait_gone(pid, 3000), "the CLI " .. pid .. " outlived the script (" .. where .. ")")
    assert.are.same({}, h.group_alive(pid), "its process group outlived the script (" .. where .. ")")
  end
end

for _, interp in ipairs(interpreters) do
  describe("exit after luv use, " .. interp.name .. ":", function()
    for _, case in ipairs(cases) do
      it(case.what .. ": exit 0, all output, nothing left behind", function()
        local rc, out, err = run(interp, case.name .. "_" .. interp.name:gsub("%W", "_"), PRELUDE .. case.src)
        verify(case, interp, rc, out, err)
      end)
    end
  end)
end

describe("exit after luv use, under valgrind (lua5.4):", function()
  if not VALGRIND then
    pending("skipped: valgrind, lua5.4 or build/lua5.4 missing")
    return
  end
  for _, case in ipairs(cases) do
    it(case.what .. ": valgrind exit 0, no invalid access", function()
      local t0 = core.now()
      local rc, out, err = run(VALGRIND, case.name .. "_vg", PRELUDE .. case.src)
      verify(case, VALGRIND, rc, out, err)
      assert.is_true(core.now() - t0 < 60000)
    end)
  end
end)
