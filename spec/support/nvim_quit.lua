-- Run inside headless Neovim by spec/nvim_spec.lua (same environment as nvim_conversation.lua):
-- a claude.run task starts a slow stream (the count to 100, ~30 s), and as soon as the first text delta arrives
-- it writes the CLI's pid to NVIM_SPEC_RESULT and quits Neovim with `:qa!`, without disconnecting. The spec then
-- checks that the CLI did not survive the editor (DESIGN.md §1: no CLI survives :qa).
local uv = vim.loop
local result_path = assert(os.getenv("NVIM_SPEC_RESULT"), "NVIM_SPEC_RESULT is not set")
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
end, 30000)

local ok, err = pcall(function()
  local claude = require("claude_agent_sdk")
  local testing = require("claude_agent_sdk.testing")
  local server = testing.ModelServer.new({ script = testing.demo_script() })
  server:start()
  local env, home = testing.cli_env({ url = server.url })
  R.home = home -- the spec removes it
  -- Quits Neovim mid-stream, still connected; returns only if that never happened.
  local function converse()
    local client = claude.ClaudeSDKClient.new({
      cli_path = os.getenv("CLAUDE_CLI_PATH"),
      env = env,
      include_partial_messages = true,
    })
    client:connect()
    R.pid = client:pid()
    client:query("Count from 1 to 100 slowly, with a brief pause between each number")
    for msg in client:receive_messages() do
      if msg.type == "stream_event" and msg.event.type == "content_block_delta" then
        R.streaming = true
        R.alive_before_quit = uv.kill(R.pid, 0) == 0
        quit(0)
      end
    end
  end
  claude.run(function()
    local task_ok, task_err = pcall(converse)
    R.errors[#R.errors + 1] = task_ok and "the stream ended before any text delta" or tostring(task_err)
    quit(1)
  end)
end)
if not ok then
  R.errors[#R.errors + 1] = tostring(err)
  quit(1)
end
