-- 04_receive_with_cost.lua: reading one turn up to its ResultMessage and printing what it cost, the Lua twin of
-- "Receiving Messages" in the Python SDK's ClaudeSDKClient guide.
--
-- receive_response() yields every message of the turn and stops after the ResultMessage; receive_messages()
-- would go on until the CLI's output ends (see 10_message_types.lua).
--
-- Run it (the CLI reaches the model through ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL in the environment; see
-- examples/README.md for the offline model server):
--   eval "$(make -s env)"; lua5.4 examples/04_receive_with_cost.lua
--   eval "$(make -s env LUA=luajit)"; luajit examples/04_receive_with_cost.lua

local claude = require("claude_agent_sdk")

claude.with_client({}, function(client)
  client:query("What is Python?")

  -- Receives until ResultMessage, then stops
  for msg in client:receive_response() do
    if claude.isinstance(msg, claude.AssistantMessage) then
      -- msg.content is a list of blocks: print the text of a TextBlock in full, any other block as it shows
      -- itself (tostring gives e.g. ThinkingBlock(thinking="...", signature="...")).
      for _, block in ipairs(msg.content) do
        if claude.isinstance(block, claude.TextBlock) then
          print(block.text)
        else
          print(block)
        end
      end
    elseif claude.isinstance(msg, claude.ResultMessage) then
      -- total_cost_usd is absent (nil) when the CLI did not report a cost.
      print(string.format("Cost: $%.4f", msg.total_cost_usd or 0))
      -- Automatically stops here
    end
  end
end)
