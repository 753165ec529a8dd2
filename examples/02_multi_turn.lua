-- 02_multi_turn.lua: a conversation of two turns where the second depends on the first, the Lua twin of
-- "Multi-Turn Conversations" in the Python SDK's ClaudeSDKClient guide.
--
-- One client is one Claude Code session: every query() adds to the same conversation, so "that city" in the
-- second question refers to the answer of the first.
--
-- Run it (the CLI reaches the model through ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL in the environment; see
-- examples/README.md for the offline model server; `make demo` runs this example):
--   eval "$(make -s env)"; lua5.4 examples/02_multi_turn.lua
--   eval "$(make -s env LUA=luajit)"; luajit examples/02_multi_turn.lua

local claude = require("claude_agent_sdk")

-- Print the text of every assistant message of one turn.
local function print_response(client)
  for msg in client:receive_response() do
    if claude.isinstance(msg, claude.AssistantMessage) then
      for _, block in ipairs(msg.content) do
        if claude.isinstance(block, claude.TextBlock) then
          print("Claude: " .. block.text)
        end
      end
    end
  end
end

claude.with_client({}, function(client)
  -- First turn
  print("User: What's the capital of France?")
  client:query("What's the capital of France?")
  print_response(client)

  -- Second turn - Claude remembers the context
  print("\nUser: What's the population of that city?")
  client:query("What's the population of that city?")
  print_response(client)
end)
