-- 09_chat_app.lua: a small interactive chat on the terminal, the Lua twin of "Complete Chat Application Example"
-- in the Python SDK's ClaudeSDKClient guide.
--
-- Reads one line at a time from stdin, sends it, prints the answer and what the turn cost. "quit" ends the chat;
-- so does the end of input (Ctrl-D, or the end of a pipe), where Python's input() would raise EOFError. Empty
-- lines are skipped rather than sent. io.read() blocks the whole program, which is fine here: the client only
-- does work while we wait for a response.
--
-- Run it (the CLI reaches the model through ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL in the environment; see
-- examples/README.md for the offline model server):
--   eval "$(make -s env)"; lua5.4 examples/09_chat_app.lua
--   eval "$(make -s env)"; printf 'What is 2+2?\nquit\n' | lua5.4 examples/09_chat_app.lua
--   eval "$(make -s env LUA=luajit)"; luajit examples/09_chat_app.lua

local claude = require("claude_agent_sdk")

-- Simple interactive chat application.
local function chat_app()
  local options = {
    system_prompt = "You are a helpful and friendly assistant.",
    model = "claude-sonnet-4-5",
  }

  claude.with_client(options, function(client)
    print("Chat started! Type 'quit' to exit.\n")

    while true do
      -- Get user input
      io.write("You: ")
      io.flush()
      local user_input = io.read()

      if user_input == nil then -- end of input
        print()
        print("Goodbye!")
        break
      end

      if user_input:lower() == "quit" then
        print("Goodbye!")
        break
      end

      if user_input:match("%S") then
        -- Send to Claude
        client:query(user_input)

        -- Receive and display response
        for msg in client:receive_response() do
          if claude.isinstance(msg, claude.AssistantMessage) then
            for _, block in ipairs(msg.content) do
              if claude.isinstance(block, claude.TextBlock) then
                print("Claude: " .. block.text)
              end
            end
          elseif claude.isinstance(msg, claude.ResultMessage) then
            -- Show cost for transparency
            if msg.total_cost_usd and msg.total_cost_usd > 0 then
              print(string.format("[Cost: $%.6f]", msg.total_cost_usd))
            end
          end
        end

        print() -- Blank line between exchanges
      end
    end
  end)
end

chat_app()
