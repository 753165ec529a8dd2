-- examples/python/include_partial_messages.lua: the Lua port of the Python SDK's
-- examples/include_partial_messages.py: with include_partial_messages = true the CLI also sends StreamEvent
-- messages, the raw API stream events (message_start, content_block_delta, ...), between the whole messages.
--
-- print(message) shows each message through its tostring, the Lua counterpart of the Python dataclasses' repr.
--
-- Run it (the CLI reaches the model through ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL in the environment; see
-- examples/README.md, and examples/scripts/python_examples.lua for the offline model server's answers):
--   eval "$(make -s env)"; lua5.4 examples/python/include_partial_messages.lua
--   eval "$(make -s env LUA=luajit)"; luajit examples/python/include_partial_messages.lua

local claude = require("claude_agent_sdk")

local function main()
  -- Enable partial message streaming
  local options = {
    include_partial_messages = true,
    model = "claude-sonnet-4-5",
    max_turns = 2,
    env = {
      MAX_THINKING_TOKENS = "8000",
    },
  }

  local client = claude.ClaudeSDKClient.new(options)

  local ok, err = pcall(function()
    client:connect()

    -- Send a prompt that will generate a streaming response
    -- local prompt = "Run a bash command to sleep for 5 seconds"
    local prompt = "Think of three jokes, then tell one"
    print(("Prompt: %s\n"):format(prompt))
    print(("="):rep(50))

    client:query(prompt)

    for message in client:receive_response() do
      print(message)
    end
  end)
  -- finally
  client:disconnect()
  if not ok then
    error(err, 0)
  end
end

print("Partial Message Streaming Example")
print(("="):rep(50))
main()
