-- Run inside headless Neovim by spec/session_store_e2e_spec.lua: a RedisSessionStore on Neovim's own loop
-- (vim.uv / vim.loop). From a claude.run task: the conformance contracts, then a conversation with the real CLI
-- mirrored into Redis, while a 10 ms editor timer keeps counting ticks (a store that blocked the loop would stop
-- it). Outside any task, one store call (it waits with vim.wait). Writes what it saw as JSON to
-- NVIM_SPEC_RESULT and quits.
local uv = vim.uv or vim.loop
local result_path = assert(os.getenv("NVIM_SPEC_RESULT"), "NVIM_SPEC_RESULT is not set")
local port = assert(tonumber(os.getenv("REDIS_PORT")), "REDIS_PORT is not set")
local R = { errors = {} }

local quitting = false
local function quit(status)
  if quitting then
    return
  end
  quitting = true
  local f = assert(io.open(result_path, "w"))
  f:write(vim.fn.json_encode(R))
  f:close()
  vim.cmd(status == 0 and "qa!" or "cquit!")
end

vim.defer_fn(function()
  R.watchdog = true
  quit(1)
end, 50000)

local ticks = 0
local timer = uv.new_timer()
timer:start(10, 10, function()
  ticks = ticks + 1
end)

local ok, err = pcall(function()
  local claude = require("claude_agent_sdk")
  local testing = require("claude_agent_sdk.testing")
  local store = claude.RedisSessionStore({ port = port, prefix = "nvim" })
  -- outside a task: waits with vim.wait, the editor's loop running
  R.outside = store:command({ "PING" })
  local server = testing.ModelServer.new({ script = testing.demo_script() })
  server:start()
  local env, home = testing.cli_env({ url = server.url })
  R.home = home -- the spec removes it
  local cwd = vim.fn.tempname()
  vim.fn.mkdir(cwd, "p")
  R.cwd = cwd
  claude.run(function()
    local task_ok, task_err = pcall(function()
      local t0 = ticks
      R.conformance = testing.session_store_conformance(function()
        store:command({ "FLUSHDB" })
        return store
      end)
      R.ticks_during_conformance = ticks - t0
      local client = claude.ClaudeSDKClient.new({
        cli_path = os.getenv("CLAUDE_CLI_PATH"),
        env = env,
        cwd = cwd,
        session_store = store,
      })
      client:connect()
      client:query("What is 2+2?")
      for msg in client:receive_response() do
        R.session_id = msg.session_id or R.session_id
        if msg.type == "transcript_mirror" then
          R.leaked_frame = true
        end
      end
      client:disconnect()
      local entries = store:load({ project_key = claude.project_key_for_directory(cwd), session_id = R.session_id })
      R.mirrored = entries and #entries or 0
      for _, e in ipairs(entries or {}) do
        if e.type == "assistant" then
          R.assistant_mirrored = true
        end
      end
      store:close()
    end)
    if not task_ok then
      R.errors[#R.errors + 1] = tostring(task_err)
    end
    timer:stop()
    timer:close()
    server:stop()
    quit(task_ok and 0 or 1)
  end)
end)
if not ok then
  R.errors[#R.errors + 1] = tostring(err)
  quit(1)
end
