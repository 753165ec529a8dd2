-- 12_interrupt.lua: stopping Claude mid-answer and changing direction, the Lua twin of "Interrupting Execution" in
-- the Python SDK's ClaudeSDKClient guide.
--
-- Python's asyncio becomes the SDK's task runtime: claude.run(fn) runs fn as a task on luv's event loop and returns
-- when it ends; claude.spawn(fn) starts a second task and returns a handle to :wait() on. Inside a task every call
-- that waits (connect, the receive iterators, interrupt, claude.sleep) lets the other tasks run instead of blocking
-- the program. Here one task consumes the long answer while the main task sleeps 2 s, then interrupts it: the turn
-- ends at once with an "error_during_execution" ResultMessage (which ends receive_response()), and the same session
-- takes the next query. (Unlike the Python note, the Lua client also handles an interrupt with nobody consuming
-- messages: control answers are read whether or not messages are.)
--
-- Needs luv (Debian: lua-luv). Takes about 3 seconds. Run it (the CLI reaches the model through ANTHROPIC_API_KEY /
-- ANTHROPIC_BASE_URL in the environment; see examples/README.md for the offline model server, whose demo answer to
-- this prompt counts slowly, one number every 300 ms):
--   eval "$(make -s env)"; lua5.4 examples/12_interrupt.lua
--   eval "$(make -s env LUA=luajit)"; luajit examples/12_interrupt.lua

local claude = require("claude_agent_sdk")

local function interrupt_example()
  claude.with_client(nil, function(client)
    -- Start a long-running task
    print("User: Count from 1 to 100 slowly")
    client:query("Count from 1 to 100 slowly, with a brief pause between each number")

    -- Create background task to consume messages
    local messages_received = {}

    local function consume_messages()
      for message in client:receive_response() do
        messages_received[#messages_received + 1] = message
        -- Display progress
        if claude.isinstance(message, claude.AssistantMessage) then
          for _, block in ipairs(message.content) do
            if claude.isinstance(block, claude.TextBlock) then
              print(("Claude: %s..."):format(block.text:sub(1, 30)))
            end
          end
        elseif claude.isinstance(message, claude.ResultMessage) then
          -- Not in the Python original: show how the interrupted turn ended.
          print(("[Turn ended: %s]"):format(message.subtype))
        end
      end
    end

    -- Start consuming in background
    local consume_task = claude.spawn(consume_messages)

    -- Wait 2 seconds then interrupt
    claude.sleep(2000)
    print("\n[Sending interrupt...]")
    client:interrupt()

    -- Wait for interrupt to process (re-raises the consumer's error, if it had one)
    consume_task:wait()

    -- Send new instruction
    print("\nUser: Never mind, just tell me a joke")
    client:query("Never mind, just tell me a quick joke")

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
end

claude.run(interrupt_example)
