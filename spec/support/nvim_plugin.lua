-- Run inside headless Neovim by spec/nvim_plugin_spec.lua, from the project root:
--   nvim --headless -u NONE -i NONE --cmd "set rtp^=examples/nvim,." -c "luafile spec/support/nvim_plugin.lua"
-- with LUA_CPATH for the LuaJIT build, CLAUDE_CLI_PATH (the real CLI), the variables that point the CLI at the
-- offline model server (testing.cli_env: ANTHROPIC_BASE_URL, HOME, ...; the server runs as a child of the spec with
-- spec/support/scripts/nvim_plugin.lua) and NVIM_SPEC_RESULT (a file). The SDK and the plugin load from
-- 'runtimepath', as with a plugin manager; LUA_PATH is left at its default.
--
-- Uses the example plugin examples/nvim the way a person would, through its commands:
--   story      :ClaudeAsk; every change of the chat buffer is recorded (nvim_buf_attach), then the statusline
--   permission :ClaudeAsk that makes Claude run `touch notes.txt`; vim.ui.select is stubbed: it records the prompt
--              and picks "Allow" a moment later, as a person would
--   interrupt  :ClaudeAsk for a slow count, :ClaudeInterrupt after a few numbers; then one more question
--   quit       :qa! -- the plugin's VimLeavePre autocommand disconnects; one defined after it records whether the
--              CLI is still there, and writes everything to NVIM_SPEC_RESULT as JSON.
-- With NVIM_PLUGIN_SCENARIO=quit_mid_answer it only starts the slow count and quits while it streams.
-- The script only records what it observes; the spec makes the assertions. A watchdog quits (status 1) after
-- WATCHDOG_MS, writing what it has.
local uv = vim.loop
local result_path = assert(os.getenv("NVIM_SPEC_RESULT"), "NVIM_SPEC_RESULT is not set")
local WATCHDOG_MS = 45000

local R = { errors = {}, select_calls = {} }
local function now()
  return uv.hrtime() / 1e6
end

local written = false
local function write_result()
  if written then
    return
  end
  written = true
  local f = assert(io.open(result_path, "w"))
  f:write(vim.fn.json_encode(R))
  f:close()
end

local function fail(why)
  R.errors[#R.errors + 1] = why
  write_result()
  vim.cmd("cquit!")
end

vim.defer_fn(function()
  R.watchdog = true
  fail("watchdog: the scenario did not finish in " .. WATCHDOG_MS .. " ms")
end, WATCHDOG_MS)

-- The processes whose parent is this Neovim (the CLI: the model server runs in-process), as pids.
local function children()
  local me, out = vim.fn.getpid(), {}
  for _, dir in ipairs(vim.fn.glob("/proc/[0-9]*", false, true)) do
    local f = io.open(dir .. "/stat")
    local stat = f and f:read("*a")
    if f then
      f:close()
    end
    local pid, state, ppid = (stat or ""):match("^(%d+) %(.*%) (%S) (%d+)")
    if pid and state ~= "Z" and tonumber(ppid) == me then
      out[#out + 1] = tonumber(pid)
    end
  end
  return out
end

local ok, err = pcall(function()
  vim.cmd("runtime! plugin/claude_chat.lua") -- what Neovim does at startup without -u NONE
  local claude = require("claude_agent_sdk")
  local chat = require("claude_chat")
  -- The CLI (CLAUDE_CLI_PATH) and the model server (ANTHROPIC_BASE_URL, HOME, ...) come from the environment, as
  -- for a user; only the working directory is set, so the file the tool creates lands in a scratch directory.
  local dir = vim.fn.tempname()
  vim.fn.mkdir(dir, "p")
  chat.setup({ options = { cwd = dir } })

  vim.o.statusline = "%{v:lua.require'claude_chat'.statusline()}"
  local function statusline()
    -- fillchar: Neovim 0.7 shows the spaces of a %{} item as "^" when StatusLine and StatusLineNC look alike
    return vim.api.nvim_eval_statusline(vim.o.statusline, { fillchar = " " }).str
  end
  R.statusline_before = statusline()

  -- A person at the picker: sees the prompt, answers a moment later.
  vim.ui.select = function(items, opts, on_choice)
    R.select_calls[#R.select_calls + 1] = { prompt = opts.prompt, items = items }
    vim.defer_fn(function()
      on_choice("Allow", 1)
    end, 100)
  end

  local buf
  local function text()
    return table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n")
  end
  local function count(s, plain)
    local n, i = 0, 1
    while true do
      local j = s:find(plain, i, true)
      if not j then
        return n
      end
      n, i = n + 1, j + 1
    end
  end
  -- Yield the task until cond() holds; a timeout is recorded as an error.
  local function wait_for(what, cond, ms)
    local t0 = now()
    while not cond() do
      if now() - t0 > ms then
        error("timed out waiting for " .. what .. "; the buffer:\n" .. text(), 0)
      end
      claude.sleep(20)
    end
  end

  -- The whole scenario, quitting when idle.
  local function full()
    -- story: the reply arrives delta by delta; snapshots of the answer line as it grows
    local story = { snapshots = {} }
    R.story = story
    local t0 = now()
    vim.cmd("ClaudeAsk Tell me a story")
    R.ask_returned_ms = now() - t0
    buf = vim.fn.bufnr("claude://chat")
    R.buffer_shown = #vim.fn.win_findbuf(buf) > 0
    R.statusline_during = statusline()
    vim.api.nvim_buf_attach(buf, false, {
      on_lines = function(_, b)
        local last = vim.api.nvim_buf_line_count(b)
        story.snapshots[#story.snapshots + 1] = vim.api.nvim_buf_get_lines(b, last - 1, last, false)[1]
      end,
    })
    wait_for("the story's result", function()
      return count(text(), "[success") >= 1
    end, 20000)
    R.pids = children()
    story.buffer = text()
    -- The statusline is updated after the result (cost at once, the context size after one more request).
    wait_for("the statusline", function()
      return statusline():find("tokens", 1, true) ~= nil
    end, 5000)
    story.statusline = statusline()

    -- permission: the tool call goes through vim.ui.select
    vim.cmd("ClaudeAsk Create an empty file named notes.txt")
    wait_for("the permission turn's result", function()
      return count(text(), "[success") >= 2
    end, 20000)
    R.permission = { file_created = uv.fs_stat(dir .. "/notes.txt") ~= nil, buffer = text() }

    -- interrupt: a count of 300 ms per number, stopped after a few
    vim.cmd("ClaudeAsk Count from 1 to 100 slowly")
    wait_for("the count to start", function()
      return text():find("1, 2, 3", 1, true) ~= nil
    end, 20000)
    local t1 = now()
    vim.cmd("ClaudeInterrupt")
    wait_for("the interrupted turn's result", function()
      return text():find("[error_during_execution", 1, true) ~= nil
    end, 10000)
    R.interrupt = { to_end_ms = now() - t1, buffer = text() }
    vim.cmd("ClaudeAsk What is 2 + 2?")
    wait_for("the answer after the interrupt", function()
      return count(text(), "[success") >= 3
    end, 20000)
    R.after_interrupt = text()
    R.statusline_end = statusline()
  end

  -- Only a slow answer, quitting in the middle of it.
  local function quit_mid_answer()
    vim.cmd("ClaudeAsk Count from 1 to 100 slowly")
    buf = vim.fn.bufnr("claude://chat")
    wait_for("the count to start", function()
      return text():find("1, 2", 1, true) ~= nil
    end, 20000)
    R.pids = children()
    R.buffer_at_quit = text()
  end

  claude.run(function()
    local scenario = os.getenv("NVIM_PLUGIN_SCENARIO") == "quit_mid_answer" and quit_mid_answer or full
    local step_ok, step_err = pcall(scenario)
    if not step_ok then
      R.errors[#R.errors + 1] = tostring(step_err)
    end

    -- quit: the plugin's VimLeavePre runs first (defined first), then this one looks.
    vim.api.nvim_create_autocmd("VimLeavePre", {
      callback = function()
        R.leave_ms = now() - R.quit_at
        local alive = {}
        for _, pid in ipairs(R.pids or {}) do
          if uv.kill(pid, 0) == 0 then
            alive[#alive + 1] = pid
          end
          if uv.kill(-pid, 0) == 0 then
            alive[#alive + 1] = -pid
          end -- its process group
        end
        R.alive_after_leave = alive
        R.children_after_leave = children()
        vim.fn.delete(dir, "rf")
        write_result()
      end,
    })
    R.quit_at = now()
    vim.cmd("qa!")
  end)
end)
if not ok then
  fail("main chunk: " .. tostring(err))
end
