-- Neovim packaging (DESIGN.md §1, §6 tier 4): `:checkhealth claude_agent_sdk` (lua/claude_agent_sdk/health.lua) and
-- the example plugin examples/nvim, both in Debian's headless `nvim` (LuaJIT) with the LuaJIT build of the module.
-- The SDK and the plugin load from 'runtimepath', as with a plugin manager. The plugin runs the real claude CLI
-- against the offline model server (a child of this process, spec/support/scripts/nvim_plugin.lua), driven by
-- spec/support/nvim_plugin.lua, which records what it observes as JSON; the checks are here. Neovim runs under
-- `timeout`, so a blocked editor fails this spec instead of hanging the suite.
local h = require("support.helpers")
local json = require("claude_agent_sdk.json")
local core = require("claude_agent_sdk.core")
local testing = require("claude_agent_sdk.testing")

local ROOT = h.ROOT
local LIMIT_S = 60
local LUAJIT_SO = ROOT .. "/build/luajit/claude_agent_sdk/core.so"
local LUA54_SO = ROOT .. "/build/lua5.4/claude_agent_sdk/core.so"

local q = h.sh_quote

local exists = h.exists

-- What `make test` provides and these checks need, or nil. (Missing, they fail: only a missing nvim skips.)
local function unprepared()
  if not exists(LUAJIT_SO) then
    return "the LuaJIT build of the module is missing: run `make module LUA=luajit`"
  end
  local _, why = h.cli_path()
  return why
end

-- Run headless Neovim from the project root with env added (LUA_PATH reset to the default, HOME a throwaway
-- directory unless env has one); returns the exit status, stdout and stderr together, and the seconds it took.
local function nvim(env, args)
  local home
  if not env.HOME then
    home = os.tmpname()
    os.remove(home)
    assert(os.execute("mkdir -p " .. q(home)))
  end
  local vars = { "LUA_PATH=';;'", home and ("HOME=" .. q(home)) or nil }
  for k, v in pairs(env) do
    vars[#vars + 1] = k .. "=" .. q(v)
  end
  table.sort(vars)
  local template =
    'cd %s && env %s timeout -k 5 %d nvim --headless -u NONE -i NONE %s </dev/null 2>&1; echo "[exit $?]"'
  local cmd = template:format(q(ROOT), table.concat(vars, " "), LIMIT_S, args)
  local t0 = core.now()
  local p = assert(io.popen(cmd, "r"))
  local out = p:read("*a")
  p:close()
  if home then
    os.execute("rm -rf " .. q(home))
  end
  local status = tonumber(out:match("%[exit (%d+)%]%s*$"))
  return status, out:gsub("%[exit %d+%]%s*$", ""), (core.now() - t0) / 1000
end

-- The report of `:checkhealth claude_agent_sdk` with the given LUA_CPATH and CLAUDE_CLI_PATH: the checkhealth
-- buffer's lines, printed to stdout.
local function checkhealth(cpath, cli)
  local print_buffer = [[lua io.stdout:write(table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n"), "\n")]]
  local status, out = nvim(
    { LUA_CPATH = cpath, CLAUDE_CLI_PATH = cli },
    ("--cmd %s -c %s -c %s -c %s"):format(
      q("set rtp^=" .. ROOT),
      q("checkhealth claude_agent_sdk"),
      q(print_buffer),
      q("qa!")
    )
  )
  assert(status == 0, ("nvim exited with status %s:\n%s"):format(tostring(status), out))
  return out
end

local function has(out, text)
  assert(out:find(text, 1, true), ("expected %q in:\n%s"):format(text, out))
end

local function lacks(out, text)
  assert(not out:find(text, 1, true), ("did not expect %q in:\n%s"):format(text, out))
end

-- The processes, zombies aside, whose pid or process group is pid, as "pid state command".
local function running(pid)
  local out = {}
  for _, name in ipairs(core.listdir("/proc") or {}) do
    local stat = name:match("^%d+$") and h.read_file("/proc/" .. name .. "/stat") or ""
    local id, comm, state, pgrp = stat:match("^(%d+) %((.*)%) (%S) %d+ (%d+)")
    if id and state ~= "Z" and (tonumber(id) == pid or tonumber(pgrp) == pid) then
      out[#out + 1] = ("%s %s %s"):format(id, state, comm)
    end
  end
  return out
end

describe("Neovim packaging (headless nvim, LuaJIT)", function()
  if not h.nvim_path() then
    pending("skipped: nvim is not installed (Debian: apt-get install neovim)")
    return
  end
  local why = unprepared()
  local CLI = h.cli_path()
  local CPATH = ROOT .. "/build/luajit/?.so"

  describe(":checkhealth claude_agent_sdk", function()
    it("reports OK for the C module, the Lua API, Neovim's loop and the CLI with its version, and no ERROR", function()
      assert(not why, why)
      local out = checkhealth(CPATH .. ";;", CLI)
      has(out, 'require("claude_agent_sdk.health").check()')
      has(out, "OK: claude_agent_sdk.core loads from " .. LUAJIT_SO)
      has(out, "OK: claude_agent_sdk ")
      has(out, "loads from " .. ROOT .. "/lua/claude_agent_sdk/init.lua")
      assert(
        out:find("OK: vim.loop (libuv ", 1, true) or out:find("OK: vim.uv (libuv ", 1, true),
        "no OK line for the loop:\n" .. out
      )
      assert(out:find("OK: found " .. CLI:gsub("%p", "%%%0") .. " %(%d+%.%d+%.%d+"), "no OK line for the CLI:\n" .. out)
      lacks(out, "ERROR")
      lacks(out, "WARNING")
    end)

    it("says when the CLI is not where CLAUDE_CLI_PATH points, and how to install it", function()
      assert(not why, why)
      local out = checkhealth(CPATH .. ";;", "/nonexistent/bin/claude")
      has(out, "OK: claude_agent_sdk.core loads")
      has(out, "ERROR: CLAUDE_CLI_PATH points to /nonexistent/bin/claude, which is not an executable file")
      has(out, "npm install -g @anthropic-ai/claude-code")
    end)

    it("turns a C module built for Lua 5.4 (undefined symbol at require time) into an ERROR with the fix", function()
      assert(exists(LUA54_SO), "the Lua 5.4 build of the module is missing: run `make module`")
      -- Only that build on package.cpath: no installed copy elsewhere may stand in for it.
      local out = checkhealth(ROOT .. "/build/lua5.4/?.so", CLI)
      -- On package.cpath, it comes first (lua/claude_agent_sdk/install.lua), so the LuaJIT build beside it does not
      -- stand in either: the user's explicit choice fails loudly.
      has(out, "ERROR: claude_agent_sdk.core at " .. LUA54_SO .. " was built for another Lua than this LuaJIT")
      has(out, "undefined symbol: lua_")
      has(out, "`make module LUA=luajit` in " .. ROOT)
      has(out, "ERROR: claude_agent_sdk needs claude_agent_sdk.core")
      lacks(out, "Failed to run healthcheck")
    end)

    it("reports through vim.health.start/ok/error where they exist (Neovim 0.9+)", function()
      assert(not why, why)
      -- Neovim 0.7 has only the report_* functions: stand in for the newer API and record what check() calls.
      local fake = [[lua local calls = {}
        local function rec(kind) return function(msg) calls[#calls + 1] = kind .. ": " .. msg end end
        vim.health = { start = rec("start"), ok = rec("ok"), warn = rec("warn"), error = rec("error"),
          info = rec("info"), report_start = rec("old"), report_ok = rec("old"), report_error = rec("old") }
        require("claude_agent_sdk.health").check()
        io.stdout:write(table.concat(calls, "\n"), "\n")]]
      local status, out = nvim(
        { LUA_CPATH = CPATH .. ";;", CLAUDE_CLI_PATH = CLI },
        ("--cmd %s -c %s -c %s"):format(q("set rtp^=" .. ROOT), q(fake:gsub("\n%s*", " ")), q("qa!"))
      )
      assert(status == 0, out)
      has(out, "start: claude_agent_sdk.core (the C module)\nok: claude_agent_sdk.core loads from ")
      has(out, "start: the claude CLI\nok: found " .. CLI)
      lacks(out, "old: ")
      lacks(out, "error: ")
    end)

    -- (A copy with no module built at all, or only the Lua 5.4 one: spec/nvim_install_spec.lua.)
    it("finds the checkout's own LuaJIT build when package.cpath has no module: no package.cpath to set", function()
      assert(not why, why)
      local out = checkhealth(ROOT .. "/nonexistent/?.so", CLI)
      has(out, "OK: claude_agent_sdk.core loads from " .. LUAJIT_SO)
      lacks(out, "ERROR")
    end)
  end)

  describe("the example plugin examples/nvim", function()
    local srv, homes = nil, {}
    -- Run spec/support/nvim_plugin.lua (scenario: "full" or "quit_mid_answer") with the plugin and the SDK on
    -- 'runtimepath'; returns a check(cond, what) that reports everything Neovim printed and recorded, and the record.
    local function run_plugin(scenario)
      local env, home = testing.cli_env({ url = srv.url })
      homes[#homes + 1] = home
      env.LUA_CPATH = CPATH .. ";;"
      env.CLAUDE_CLI_PATH = CLI
      env.NVIM_SPEC_RESULT = os.tmpname()
      env.NVIM_PLUGIN_SCENARIO = scenario
      local status, out, elapsed = nvim(
        env,
        ("--cmd %s -c %s"):format(
          q("set rtp^=" .. ROOT .. "/examples/nvim," .. ROOT),
          q("luafile spec/support/nvim_plugin.lua")
        )
      )
      local text = h.read_file(env.NVIM_SPEC_RESULT)
      os.remove(env.NVIM_SPEC_RESULT)
      local R = text and text ~= "" and json.decode(text) or nil
      local function check(cond, what)
        assert(
          cond,
          ("%s\nnvim exit status %s after %.1f s; output:\n%s\nresult: %s"):format(
            what,
            tostring(status),
            elapsed,
            out,
            R and json.encode(R) or "(none written)"
          )
        )
      end
      check(status ~= 124 and status ~= 137, ("Neovim did not quit within %d s"):format(LIMIT_S))
      check(R ~= nil, "the Neovim script wrote no result")
      check(not R.watchdog, "the script's watchdog fired")
      check(#R.errors == 0, "errors inside Neovim: " .. table.concat(R.errors, "; "))
      check(status == 0, "Neovim exited with status " .. tostring(status))
      return check, R
    end

    -- The CLI of a run was stopped by the plugin's VimLeavePre, within ms, and nothing of it outlived Neovim.
    local function check_stopped(check, R, ms)
      check(type(R.pids) == "table" and #R.pids >= 1, "no CLI process recorded")
      check(
        #R.alive_after_leave == 0,
        "still there after the plugin's VimLeavePre: " .. table.concat(R.alive_after_leave, ", ")
      )
      check(
        #R.children_after_leave == 0,
        "children of Neovim left at VimLeavePre: " .. table.concat(R.children_after_leave, ", ")
      )
      check(R.leave_ms < ms, ("disconnecting at VimLeavePre took %.0f ms"):format(R.leave_ms))
      for _, pid in ipairs(R.pids) do
        local left = running(pid)
        check(#left == 0, "survived Neovim: " .. table.concat(left, ", "))
      end
    end

    local check, R = function(cond, what)
      assert(cond, what)
    end, nil
    setup(function()
      if why then
        check = function()
          error(why, 0)
        end
        return
      end
      srv = h.start_server(ROOT .. "/spec/support/scripts/nvim_plugin.lua")
      -- One run for the scenario; its checks are the tests below. (An error here shows in the first test.)
      local ok, c, r = pcall(run_plugin, "full")
      if ok then
        check, R = c, r
      else
        check = function()
          error(c, 0)
        end
      end
    end)
    teardown(function()
      h.stop_server(srv)
      for _, home in ipairs(homes) do
        os.execute("rm -rf " .. q(home))
      end
    end)

    it("runs the whole scenario and quits by itself, with no error", function()
      assert(not why, why)
      check(R ~= nil, "nothing recorded")
    end)

    it(":ClaudeAsk returns at once and streams the reply into the claude://chat buffer, delta by delta", function()
      check(R and R.story and R.story.buffer, "no story recorded")
      check(R.ask_returned_ms < 200, ("ClaudeAsk took %.0f ms to return"):format(R.ask_returned_ms or -1))
      check(R.buffer_shown, "the chat buffer is not in a window")
      has(R.story.buffer, "You: Tell me a story\n\nClaude: Once upon a time there was a Lua plugin.\n[success, $")
      -- The answer line as it grew: more than one partial state before the whole reply.
      local partial = {}
      for _, line in ipairs(R.story.snapshots) do
        if line:find("^Claude: Once") and not line:find("plugin.", 1, true) then
          partial[line] = true
        end
      end
      local n = 0
      for _ in pairs(partial) do
        n = n + 1
      end
      check(n >= 2, ("the buffer showed %d partial states of the answer, want more than one"):format(n))
    end)

    it("shows the session's cost and context size in the statusline, once results arrive", function()
      check(R and R.story, "no story recorded")
      check(R.statusline_before == "", "the statusline before any question: " .. tostring(R.statusline_before))
      check(R.statusline_during == "Claude (answering)", "while answering: " .. tostring(R.statusline_during))
      check(
        R.story.statusline:find("^Claude %$%d+%.%d%d%d%d [%d.]+k?/[%d.]+[kM]? tokens$"),
        "after the turn: " .. tostring(R.story.statusline)
      )
      -- The CLI's total_cost_usd covers the session: it grows with each turn.
      local first = tonumber(R.story.statusline:match("%$([%d.]+)"))
      local last = tonumber((R.statusline_end or ""):match("%$([%d.]+)"))
      check(first and first > 0 and last and last > first, "the cost did not grow: " .. tostring(R.statusline_end))
    end)

    it("asks for tool permission through vim.ui.select; Allow lets the tool run", function()
      check(R and R.permission, "no permission turn recorded")
      check(#R.select_calls == 1, ("vim.ui.select was called %d times, want once"):format(#R.select_calls))
      check(
        R.select_calls[1].prompt == "Claude wants to use Bash: touch notes.txt",
        "the prompt: " .. tostring(R.select_calls[1].prompt)
      )
      check(R.select_calls[1].items[1] == "Allow", "the choices: " .. json.encode(R.select_calls[1].items))
      check(R.permission.file_created, "notes.txt was not created")
      has(R.permission.buffer, "[Bash: touch notes.txt]\nDone: I created notes.txt.\n[success")
    end)

    it(":ClaudeInterrupt ends the turn early, and the next question is answered", function()
      check(R and R.interrupt, "no interrupt recorded")
      check(R.interrupt.to_end_ms < 5000, ("the turn ended %.0f ms after the interrupt"):format(R.interrupt.to_end_ms))
      local count =
        R.interrupt.buffer:match("You: Count from 1 to 100 slowly\n\nClaude: ([^\n]*)\n%[error_during_execution")
      check(count, "the count did not end with an error_during_execution result")
      check(not count:find("100", 1, true), "the count was not cut short: " .. count)
      has(R.after_interrupt, "You: What is 2 + 2?\n\nClaude: 2 + 2 = 4.\n[success")
    end)

    it("stops the CLI on VimLeavePre: it is gone before Neovim exits, and after", function()
      check(R, "nothing recorded")
      check_stopped(check, R, 2000)
    end)

    it(
      "quitting in the middle of an answer stops the CLI at once too (no 5 s grace for an answer nobody reads)",
      function()
        assert(not why, why)
        local check2, R2 = run_plugin("quit_mid_answer")
        check2(R2.buffer_at_quit:find("Claude: 1, 2", 1, true), "the count was not streaming")
        check_stopped(check2, R2, 2000)
      end
    )
  end)
end)
