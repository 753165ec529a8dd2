-- 03_manual_connection.lua: connecting and disconnecting by hand, with options, the Lua twin of "Manual Connection
-- Management" in the Python SDK's ClaudeSDKClient guide.
--
-- Options are a plain table with the Python SDK's field names (an unknown key is an InvalidOptionError). Lua has
-- no try/finally: run the work under pcall, disconnect whatever happened, then re-raise the error if there was one.
-- print(message) shows each message through its __tostring, e.g. AssistantMessage(model="...", content={...}).
--
-- Run it (the CLI reaches the model through ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL in the environment; see
-- examples/README.md for the offline model server):
--   eval "$(make -s env)"; lua5.4 examples/03_manual_connection.lua
--   eval "$(make -s env LUA=luajit)"; luajit examples/03_manual_connection.lua

local claude = require("claude_agent_sdk")

-- Create client with options
local options = {
  system_prompt = "You are a helpful coding assistant.",
  model = "claude-sonnet-4-5",
}

local client = claude.ClaudeSDKClient.new(options)

local ok, err = pcall(function()
  -- Connect explicitly
  client:connect()

  -- Send queries
  client:query("Help me write a Python function")

  -- Receive messages
  for message in client:receive_response() do
    print(message)
  end
end)

-- Always disconnect (the "finally"): it is idempotent and never leaves the CLI process behind.
client:disconnect()
if not ok then
  error(err, 0)
end
