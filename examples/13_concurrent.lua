-- 13_concurrent.lua: receiving in the background while sending new messages, the Lua twin of "Concurrent Send and
-- Receive" in the Python SDK's ClaudeSDKClient guide.
--
-- claude.run(fn) runs fn as a task on luv's event loop (Python's asyncio.run); claude.spawn(fn) is
-- asyncio.create_task and returns a handle; claude.sleep(ms) is asyncio.sleep. While the main task sends and
-- sleeps, the background task iterates receive_messages(), which yields whenever no message is there yet.
-- receive_messages() only ends when the CLI's output ends, so the receiver is cancelled: :cancel() raises a
-- CancelledError inside it where it waits, and :wait() raises that error again in the main task, which catches it
-- with pcall as the Python code catches asyncio.CancelledError. The pauses are 1 s instead of the original 3 s
-- (and the final one 1 s instead of 2 s) to keep the example quick. The CLI may answer questions that arrive
-- while it is busy together in one turn: count results, not questions.
--
-- Needs luv (Debian: lua-luv). Takes about 4 seconds. Run it (the CLI reaches the model through ANTHROPIC_API_KEY
-- / ANTHROPIC_BASE_URL in the environment; see examples/README.md for the offline model server):
--   eval "$(make -s env)"; lua5.4 examples/13_concurrent.lua
--   eval "$(make -s env LUA=luajit)"; luajit examples/13_concurrent.lua

local claude = require("claude_agent_sdk")

-- Python's type(message).__name__: the class name the message's metatable carries.
local function type_name(message)
  local mt = getmetatable(message)
  return mt and mt.__name or message.type
end

local function concurrent_example()
  claude.with_client(nil, function(client)
    -- Background task to receive all messages
    local function receive_messages()
      for message in client:receive_messages() do
        print("Received: " .. type_name(message))
        -- Not in the Python original: show the answers too.
        if claude.isinstance(message, claude.AssistantMessage) then
          for _, block in ipairs(message.content) do
            if claude.isinstance(block, claude.TextBlock) then
              print("  Claude: " .. block.text)
            end
          end
        end
      end
    end

    -- Start receiving in background
    local receive_task = claude.spawn(receive_messages)

    -- Send multiple messages with delays
    local questions = {
      "What is 2 + 2?",
      "What is the square root of 144?",
      "What is 10% of 80?",
    }

    for _, question in ipairs(questions) do
      print("Sending: " .. question)
      client:query(question)
      claude.sleep(1000) -- Wait between messages
    end

    -- Wait for responses
    claude.sleep(1000)

    -- Clean up
    receive_task:cancel()
    local ok, err = pcall(receive_task.wait, receive_task)
    if not ok and not claude.isinstance(err, claude.CancelledError) then
      error(err, 0) -- anything but the cancellation is a real failure
    end
    print("Receiver cancelled: " .. tostring(receive_task))
  end)
end

claude.run(concurrent_example)
