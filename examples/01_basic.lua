-- 01_basic.lua: the simplest interactive session, the Lua twin of "Basic Usage with Context Manager" in the
-- Python SDK's ClaudeSDKClient guide.
--
-- claude.with_client connects, runs the function with the connected client and always disconnects, even when the
-- function raises (Python's `async with ClaudeSDKClient() as client:`). On Lua 5.4 you may instead write
-- `local client <close> = claude.ClaudeSDKClient.new()` and call client:connect() yourself.
--
-- Run it (the CLI reaches the model through ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL in the environment; see
-- examples/README.md for the offline model server):
--   eval "$(make -s env)"; lua5.4 examples/01_basic.lua
--   eval "$(make -s env LUA=luajit)"; luajit examples/01_basic.lua

local claude = require("claude_agent_sdk")

claude.with_client({}, function(client)
  -- Send a query
  client:query("What is 2+2?")

  -- Receive the response: receive_response() stops after the ResultMessage that ends the turn.
  for msg in client:receive_response() do
    if claude.isinstance(msg, claude.AssistantMessage) then
      for _, block in ipairs(msg.content) do
        if claude.isinstance(block, claude.TextBlock) then
          print("Claude: " .. block.text)
        end
      end
    end
  end
end)
