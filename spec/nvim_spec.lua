-- The SDK inside Neovim (DESIGN.md §1 and §6, tier 4): Debian's headless `nvim` (LuaJIT, vim.loop) runs
-- spec/support/nvim_conversation.lua with the LuaJIT build of the module, the real claude CLI, and the offline
-- model server in-process on Neovim's own loop. That script records what it observes as JSON; the checks are
-- here. Neovim runs under `timeout`, so a blocked editor fails this spec instead of hanging the suite.
local h = require("support.helpers")
local json = require("claude_agent_sdk.json")
local core = require("claude_agent_sdk.core")

local ROOT = h.ROOT
local LIMIT_S = 60

local q = h.sh_quote

-- Why this spec cannot run here, or nil.
local function missing()
  local why = h.nvim_missing()
  if why then
    return why
  end
  local _, no_cli = h.cli_path()
  return no_cli
end

-- The processes, zombies aside, whose pid or process group is pid, as "pid state command". (A zombie has exited;
-- an orphan stays one until PID 1 reaps it, and `kill -0` still finds it.)
local function running(pid)
  local out = {}
  local p = assert(io.popen("ls /proc"))
  for name in p:lines() do
    if name:match("^%d+$") then
      local f = io.open("/proc/" .. name .. "/stat")
      local stat = f and f:read("*a") or ""
      if f then
        f:close()
      end
      local id, comm, state, pgrp = stat:match("^(%d+) %((.*)%) (%S) %d+ (%d+)")
      if id and state ~= "Z" and (tonumber(id) == pid or tonumber(pgrp) == pid) then
        out[#out + 1] = ("%s %s %s"):format(id, state, comm)
      end
    end
  end
  p:close()
  return out
end

-- Run spec/support/<script> in headless Neovim; returns the exit status, the output, the decoded result (or nil)
-- and the seconds it took.
local function run_nvim(script)
  local result = os.tmpname()
  local env = {
    LUA_PATH = ROOT .. "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua;;",
    LUA_CPATH = ROOT .. "/build/luajit/?.so;;",
    CLAUDE_CLI_PATH = assert(h.cli_path()),
    NVIM_SPEC_RESULT = result,
  }
  local vars = {}
  for k, v in pairs(env) do
    vars[#vars + 1] = k .. "=" .. q(v)
  end
  table.sort(vars)
  local cmd = (
    "cd %s && env %s timeout -k 5 %d nvim --headless -u NONE -i NONE -c %s </dev/null 2>&1; " .. 'echo "[exit $?]"'
  ):format(q(ROOT), table.concat(vars, " "), LIMIT_S, q("luafile spec/support/" .. script))
  local t0 = core.now()
  local p = assert(io.popen(cmd, "r"))
  local out = p:read("*a")
  p:close()
  local elapsed = (core.now() - t0) / 1000
  local status = tonumber(out:match("%[exit (%d+)%]%s*$"))
  out = out:gsub("%[exit %d+%]%s*$", "")
  local f = io.open(result)
  local text = f and f:read("*a")
  if f then
    f:close()
  end
  os.remove(result)
  local decoded = text and text ~= "" and json.decode(text) or nil
  return status, out, decoded, elapsed
end

describe("Neovim (headless, vim.loop)", function()
  local why = missing()
  if why then
    pending("skipped: " .. why)
    return
  end

  local status, out, R, elapsed
  setup(function()
    status, out, R, elapsed = run_nvim("nvim_conversation.lua")
  end)

  -- Everything Neovim printed and recorded, for the failure message of a check.
  local function report()
    return ("nvim exit status %s after %.1f s; output:\n%s\nresult: %s"):format(
      tostring(status),
      elapsed or -1,
      out,
      R and json.encode(R) or "(none written)"
    )
  end

  local function check(cond, what)
    assert(cond, what .. "\n" .. report())
  end

  it("quits by itself in bounded time, with every task finished and no error", function()
    check(status ~= 124 and status ~= 137, ("Neovim did not quit within %d s: something blocked it"):format(LIMIT_S))
    check(R ~= nil, "the Neovim script wrote no result")
    check(not R.watchdog, "the script's watchdog fired: a task never finished")
    check(status == 0, "Neovim exited with status " .. tostring(status))
    check(#R.errors == 0, "errors inside Neovim: " .. table.concat(R.errors, "; "))
    check(R.backend == "nvim", "the SDK chose the loop backend " .. tostring(R.backend) .. ", not nvim")
    check(R.conv.ok and R.intr.ok, "a task failed")
  end)

  it("holds a conversation with the real CLI from a claude.run task, writing the answer to a buffer", function()
    check(R and R.conv, "no conversation recorded")
    local conv = R.conv
    check(conv.answer == "2 + 2 = 4.", "the answer did not arrive")
    check(conv.result == "success", "the turn did not end with a success result")
    -- The task runs from vim.schedule, never in a fast libuv callback, so vim.api works there.
    check(conv.in_fast_event == false, "the task ran in a fast event")
    local found = false
    for _, line in ipairs(conv.buffer or {}) do
      if line == "2 + 2 = 4." then
        found = true
      end
    end
    check(found, "the answer is not in the buffer written from the task")
  end)

  it("claude.run returns at once, before the answer, and the editor's timer keeps ticking", function()
    local conv = R and R.conv
    check(conv, "no conversation recorded")
    check(
      conv.status_when_run_returned == "running" and conv.answered_when_run_returned == false,
      "claude.run did not return before the conversation ended"
    )
    check(conv.run_returned_ms < 200, ("claude.run took %.0f ms to return"):format(conv.run_returned_ms or -1))
    -- A 10 ms vim.loop timer: at least half the ticks its interval allows, during the conversation and overall.
    local want = 0.5 * conv.disconnected_ms / R.tick_ms
    check(
      conv.ticks >= want,
      ("the timer ticked %d times in the %.0f ms of the conversation (want >= %.0f)"):format(
        conv.ticks,
        conv.disconnected_ms,
        want
      )
    )
    want = 0.5 * R.elapsed_ms / R.tick_ms
    check(R.ticks >= want, ("the timer ticked %d times in %.0f ms (want >= %.0f)"):format(R.ticks, R.elapsed_ms, want))
  end)

  it("interrupts a slow stream from a second task; the session takes a new query afterwards", function()
    local intr = R and R.intr
    check(intr, "no interrupt scenario recorded")
    check(intr.result == "error_during_execution", "the interrupted turn did not end with its error result")
    check(
      intr.interrupt_to_end_ms < 5000,
      ("the turn ended %.0f ms after the interrupt"):format(intr.interrupt_to_end_ms or -1)
    )
    local text = table.concat(intr.texts or {})
    -- The stream counts to 100 for about 30 s; after 1.5 s it is early in the count.
    check(not text:find("100", 1, true), "the count was not cut short: " .. text)
    check((intr.joke or ""):find("dark mode", 1, true), "no answer to the query after the interrupt")
    check(intr.joke_result == "success", "the query after the interrupt did not succeed")
  end)

  it("leaves no claude process behind after disconnect", function()
    check(R and R.conv and R.intr, "nothing recorded")
    for _, name in ipairs({ "conv", "intr" }) do
      local s = R[name]
      check(type(s.pid) == "number", name .. ": no CLI pid recorded")
      check(
        s.alive_after == false and s.group_alive_after == false,
        name .. ": the CLI (or its process group) is still there after disconnect"
      )
    end
    check(#R.children == 0, "child processes of Neovim left at the end: " .. table.concat(R.children, ", "))
  end)

  it("client:connect() outside a task raises a clear error at once instead of freezing the editor", function()
    local o = R and R.outside
    check(o, "not recorded")
    check(o.raised, "connect() outside a task did not raise")
    check(
      o.err:find("would block the editor", 1, true) and o.err:find("claude.run", 1, true),
      "not the expected error: " .. o.err
    )
    check(o.ms < 2000, ("it took %.0f ms to raise"):format(o.ms))
    check(o.pid_after == nil and #o.children == 0, "the CLI it started is still there")
  end)

  it("no CLI survives :qa! in the middle of a stream", function()
    local st, output, Q = run_nvim("nvim_quit.lua")
    if Q and Q.home then
      os.execute("rm -rf " .. q(Q.home))
    end
    local function say(what)
      return ("%s\nnvim exit status %s; output:\n%s\nresult: %s"):format(
        what,
        tostring(st),
        output,
        Q and json.encode(Q) or "(none written)"
      )
    end
    assert(st == 0 and Q and #Q.errors == 0 and not Q.watchdog, say("the Neovim script failed"))
    assert(Q.streaming and Q.alive_before_quit and type(Q.pid) == "number", say("the CLI was not streaming"))
    -- Give the kernel a moment to deliver the parent-death signal and the CLI to go.
    local deadline = core.now() + 5000
    while #running(Q.pid) > 0 and core.now() < deadline do
      core.sleep(20)
    end
    local left = running(Q.pid)
    assert(
      #left == 0,
      say("the CLI (pid and process group " .. Q.pid .. ") survived Neovim: " .. table.concat(left, ", "))
    )
  end)
end)
