-- 06_streaming_prompts.lua: sending a stream of user messages generated on the fly, the Lua twin of "Async
-- Iterable Prompts" in the Python SDK's ClaudeSDKClient guide.
--
-- query() accepts a string, a list of user-message tables, or an iterator function that returns one table per
-- call and nil at the end. A generator written with coroutine.wrap is the closest thing to Python's async
-- generator: each coroutine.yield hands query() one message.
--
-- How many answers come back? The Python guide reads "three responses" (three receive_response() loops), but the
-- CLI does not promise one turn per message: messages that are queued together may be merged into one turn
-- (Claude Code 2.1.197 answers these three in two turns, the last two questions joined by a newline), and a
-- third receive_response() would then wait forever. So this example asks the CLI to report its state
-- (CLAUDE_CODE_EMIT_SESSION_STATE_EVENTS=1 makes it send system "session_state_changed" messages) and reads
-- receive_messages() until the session is "idle" after a result: then every queued message has been answered,
-- however the CLI grouped them into turns.
--
-- Run it (the CLI reaches the model through ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL in the environment; see
-- examples/README.md for the offline model server):
--   eval "$(make -s env)"; lua5.4 examples/06_streaming_prompts.lua
--   eval "$(make -s env LUA=luajit)"; luajit examples/06_streaming_prompts.lua

local claude = require("claude_agent_sdk")

-- Generate a stream of messages.
local function create_message_stream()
  return coroutine.wrap(function()
    coroutine.yield({
      type = "user",
      message = { role = "user", content = "Hello! I have questions." },
      parent_tool_use_id = claude.null,
      session_id = "qa-session",
    })

    coroutine.yield({
      type = "user",
      message = { role = "user", content = "What's the capital of Japan?" },
      parent_tool_use_id = claude.null,
      session_id = "qa-session",
    })

    coroutine.yield({
      type = "user",
      message = { role = "user", content = "What's 15% of 200?" },
      parent_tool_use_id = claude.null,
      session_id = "qa-session",
    })
  end)
end

local options = { env = { CLAUDE_CODE_EMIT_SESSION_STATE_EVENTS = "1" } }

claude.with_client(options, function(client)
  -- Send the message stream
  client:query(create_message_stream())

  -- Receive until the CLI is idle again, after at least one result.
  local results = 0
  for msg in client:receive_messages() do
    if claude.isinstance(msg, claude.AssistantMessage) then
      for _, block in ipairs(msg.content) do
        if claude.isinstance(block, claude.TextBlock) then
          print("Claude: " .. block.text)
        end
      end
    elseif claude.isinstance(msg, claude.ResultMessage) then
      results = results + 1
    elseif
      claude.isinstance(msg, claude.SystemMessage)
      and msg.subtype == "session_state_changed"
      and msg.data.state == "idle"
      and results > 0
    then
      break
    end
  end
  print(string.format("(%d messages answered in %d turn%s)", 3, results, results == 1 and "" or "s"))
end)
