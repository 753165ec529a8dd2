-- examples/python/streaming_mode.lua: the Lua port of the Python SDK's examples/streaming_mode.py: the patterns of
-- ClaudeSDKClient's streaming interface (multi-turn, concurrent send and receive, interrupt, manual handling,
-- options, a message stream as the prompt, tool use, server info, timeouts).
--
-- Python's asyncio becomes the SDK's task runtime: claude.run(main) runs main as a task on luv's event loop;
-- claude.spawn starts a concurrent task (Python's asyncio.create_task), claude.sleep(ms) is asyncio.sleep, and
-- asyncio.timeout(s) around a receive loop is receive_response({ timeout = s }), which raises a TimeoutError.
-- A Lua generator (coroutine.wrap) stands for Python's async generator of messages.
--
-- Needs luv (Debian: lua-luv). Run it (the CLI reaches the model through ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL in
-- the environment; see examples/README.md, and examples/scripts/python_examples.lua for the offline model server's
-- answers):
--   eval "$(make -s env)"; lua5.4 examples/python/streaming_mode.lua all
--   eval "$(make -s env LUA=luajit)"; luajit examples/python/streaming_mode.lua basic_streaming
-- With no argument it lists the examples.

local claude = require("claude_agent_sdk")

-- Python's type(msg).__name__: the class name the message's metatable carries.
local function type_name(msg)
  local mt = getmetatable(msg)
  return mt and mt.__name or msg.type
end

-- Standardized message display function.
--
-- - UserMessage: "User: <content>"
-- - AssistantMessage: "Claude: <content>"
-- - SystemMessage: ignored
-- - ResultMessage: "Result ended" + cost if available
local function display_message(msg)
  if claude.isinstance(msg, claude.UserMessage) then
    for _, block in ipairs(type(msg.content) == "table" and msg.content or {}) do
      if claude.isinstance(block, claude.TextBlock) then
        print("User: " .. block.text)
      end
    end
  elseif claude.isinstance(msg, claude.AssistantMessage) then
    for _, block in ipairs(msg.content) do
      if claude.isinstance(block, claude.TextBlock) then
        print("Claude: " .. block.text)
      end
    end
  elseif claude.isinstance(msg, claude.SystemMessage) then
    -- Ignore system messages
  elseif claude.isinstance(msg, claude.ResultMessage) then
    print("Result ended")
  end
end

-- Basic streaming with context manager.
local function example_basic_streaming()
  print("=== Basic Streaming Example ===")

  claude.with_client(nil, function(client)
    print("User: What is 2+2?")
    client:query("What is 2+2?")

    -- Receive complete response using the helper method
    for msg in client:receive_response() do
      display_message(msg)
    end
  end)

  print("\n")
end

-- Multi-turn conversation using receive_response helper.
local function example_multi_turn_conversation()
  print("=== Multi-Turn Conversation Example ===")

  claude.with_client(nil, function(client)
    -- First turn
    print("User: What's the capital of France?")
    client:query("What's the capital of France?")

    -- Extract and print response
    for msg in client:receive_response() do
      display_message(msg)
    end

    -- Second turn - follow-up
    print("\nUser: What's the population of that city?")
    client:query("What's the population of that city?")

    for msg in client:receive_response() do
      display_message(msg)
    end
  end)

  print("\n")
end

-- Handle responses while sending new messages.
local function example_concurrent_responses()
  print("=== Concurrent Send/Receive Example ===")

  claude.with_client(nil, function(client)
    -- Background task to continuously receive messages
    local function receive_messages()
      for message in client:receive_messages() do
        display_message(message)
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
      print("\nUser: " .. question)
      client:query(question)
      claude.sleep(3000) -- Wait between messages
    end

    -- Give time for final responses
    claude.sleep(2000)

    -- Clean up
    receive_task:cancel()
    local ok, err = pcall(receive_task.wait, receive_task)
    if not ok and not claude.isinstance(err, claude.CancelledError) then
      error(err, 0)
    end
  end)

  print("\n")
end

-- Demonstrate interrupt capability.
local function example_with_interrupt()
  print("=== Interrupt Example ===")
  print("IMPORTANT: Interrupts require active message consumption.")

  claude.with_client(nil, function(client)
    -- Start a long-running task
    print("\nUser: Count from 1 to 100 slowly")
    client:query("Count from 1 to 100 slowly, with a brief pause between each number")

    -- Create a background task to consume messages
    local messages_received = {}

    -- Consume messages in the background to enable interrupt processing.
    local function consume_messages()
      for message in client:receive_response() do
        messages_received[#messages_received + 1] = message
        display_message(message)
      end
    end

    -- Start consuming messages in the background
    local consume_task = claude.spawn(consume_messages)

    -- Wait 2 seconds then send interrupt
    claude.sleep(2000)
    print("\n[After 2 seconds, sending interrupt...]")
    client:interrupt()

    -- Wait for the consume task to finish processing the interrupt
    consume_task:wait()

    -- Send new instruction after interrupt
    print("\nUser: Never mind, just tell me a quick joke")
    client:query("Never mind, just tell me a quick joke")

    -- Get the joke
    for msg in client:receive_response() do
      display_message(msg)
    end
  end)

  print("\n")
end

-- Manually handle message stream for custom logic.
local function example_manual_message_handling()
  print("=== Manual Message Handling Example ===")

  claude.with_client(nil, function(client)
    client:query("List 5 programming languages and their main use cases")

    -- Manually process messages with custom logic
    local languages_found = {}

    for message in client:receive_messages() do
      if claude.isinstance(message, claude.AssistantMessage) then
        for _, block in ipairs(message.content) do
          if claude.isinstance(block, claude.TextBlock) then
            local text = block.text
            print("Claude: " .. text)
            -- Custom logic: extract language names
            for _, lang in ipairs({ "Python", "JavaScript", "Java", "C++", "Go", "Rust", "Ruby" }) do
              local seen = false
              for _, l in ipairs(languages_found) do
                seen = seen or l == lang
              end
              if text:find(lang, 1, true) and not seen then
                languages_found[#languages_found + 1] = lang
                print("Found language: " .. lang)
              end
            end
          end
        end
      elseif claude.isinstance(message, claude.ResultMessage) then
        display_message(message)
        print("Total languages mentioned: " .. #languages_found)
        break
      end
    end
  end)

  print("\n")
end

-- Use options to configure the client.
local function example_with_options()
  print("=== Custom Options Example ===")

  -- Configure options
  local options = {
    allowed_tools = { "Read", "Write" }, -- Allow file operations
    system_prompt = "You are a helpful coding assistant.",
    env = {
      ANTHROPIC_MODEL = "claude-sonnet-4-5",
    },
  }

  claude.with_client(options, function(client)
    print("User: Create a simple hello.txt file with a greeting message")
    client:query("Create a simple hello.txt file with a greeting message")

    local tool_uses = {}
    for msg in client:receive_response() do
      if claude.isinstance(msg, claude.AssistantMessage) then
        display_message(msg)
        for _, block in ipairs(msg.content) do
          if block.name ~= nil and not claude.isinstance(block, claude.TextBlock) then -- ToolUseBlock
            tool_uses[#tool_uses + 1] = block.name or ""
          end
        end
      else
        display_message(msg)
      end
    end

    if #tool_uses > 0 then
      print("Tools used: " .. table.concat(tool_uses, ", "))
    end
  end)

  print("\n")
end

-- Demonstrate sending a message stream as the prompt.
local function example_async_iterable_prompt()
  print("=== Async Iterable Prompt Example ===")

  -- Generate a stream of messages.
  local function create_message_stream()
    return coroutine.wrap(function()
      print("User: Hello! I have multiple questions.")
      coroutine.yield({
        type = "user",
        message = { role = "user", content = "Hello! I have multiple questions." },
        parent_tool_use_id = claude.null,
        session_id = "qa-session",
      })

      print("User: First, what's the capital of Japan?")
      coroutine.yield({
        type = "user",
        message = {
          role = "user",
          content = "First, what's the capital of Japan?",
        },
        parent_tool_use_id = claude.null,
        session_id = "qa-session",
      })

      print("User: Second, what's 15% of 200?")
      coroutine.yield({
        type = "user",
        message = { role = "user", content = "Second, what's 15% of 200?" },
        parent_tool_use_id = claude.null,
        session_id = "qa-session",
      })
    end)
  end

  claude.with_client(nil, function(client)
    -- Send the message stream
    client:query(create_message_stream())

    -- Collect responses — the CLI may group multiple user messages into
    -- fewer ResultMessages, so we cannot assume a 1:1 mapping.  We call
    -- receive_response() in a loop with a short timeout so we drain all
    -- available results without hanging if fewer results arrive than
    -- messages were sent.
    while true do
      local ok, err = pcall(function()
        for msg in client:receive_response({ timeout = 30.0 }) do
          display_message(msg)
        end
      end)
      if not ok then
        if claude.isinstance(err, claude.TimeoutError) then
          break
        end
        error(err, 0)
      end
    end
  end)

  print("\n")
end

-- Example showing tool use blocks when running bash commands.
local function example_bash_command()
  print("=== Bash Command Example ===")

  claude.with_client(nil, function(client)
    print("User: Run a bash echo command")
    client:query("Run a bash echo command that says 'Hello from bash!'")

    -- Track all message types received
    local message_types = {}

    for msg in client:receive_messages() do
      message_types[#message_types + 1] = type_name(msg)

      if claude.isinstance(msg, claude.UserMessage) then
        -- User messages can contain tool results
        for _, block in ipairs(type(msg.content) == "table" and msg.content or {}) do
          if claude.isinstance(block, claude.TextBlock) then
            print("User: " .. block.text)
          elseif claude.isinstance(block, claude.ToolResultBlock) then
            local content = block.content
            if type(content) == "string" then
              content = content:sub(1, 100)
            elseif content ~= nil then
              content = claude.json.encode(content)
            end
            print(("Tool Result (id: %s): %s..."):format(block.tool_use_id, content or "None"))
          end
        end
      elseif claude.isinstance(msg, claude.AssistantMessage) then
        -- Assistant messages can contain tool use blocks
        for _, block in ipairs(msg.content) do
          if claude.isinstance(block, claude.TextBlock) then
            print("Claude: " .. block.text)
          elseif claude.isinstance(block, claude.ToolUseBlock) then
            print(("Tool Use: %s (id: %s)"):format(block.name, block.id))
            if block.name == "Bash" then
              local command = block.input.command or ""
              print("  Command: " .. command)
            end
          end
        end
      elseif claude.isinstance(msg, claude.ResultMessage) then
        print("Result ended")
        if msg.total_cost_usd and msg.total_cost_usd ~= 0 then
          print(("Cost: $%.4f"):format(msg.total_cost_usd))
        end
        break
      end
    end

    -- Python's set(): each name once (sorted here; a Python set has no order either)
    local seen, names = {}, {}
    for _, name in ipairs(message_types) do
      if not seen[name] then
        seen[name] = true
        names[#names + 1] = name
      end
    end
    table.sort(names)
    print("\nMessage types received: " .. table.concat(names, ", "))
  end)

  print("\n")
end

-- Demonstrate server info and interrupt capabilities.
local function example_control_protocol()
  print("=== Control Protocol Example ===")
  print("Shows server info retrieval and interrupt capability\n")

  claude.with_client(nil, function(client)
    -- 1. Get server initialization info
    print("1. Getting server info...")
    local server_info = client:get_server_info()

    if server_info then
      print("✓ Server info retrieved successfully!")
      print("  - Available commands: " .. #(server_info.commands or {}))
      print("  - Output style: " .. tostring(server_info.output_style or "unknown"))

      -- Show available output styles if present
      local styles = server_info.available_output_styles or {}
      if #styles > 0 then
        print("  - Available output styles: " .. table.concat(styles, ", "))
      end

      -- Show a few example commands
      local commands = {}
      for i = 1, math.min(5, #(server_info.commands or {})) do
        commands[i] = server_info.commands[i]
      end
      if #commands > 0 then
        print("  - Example commands:")
        for _, cmd in ipairs(commands) do
          if type(cmd) == "table" then
            print("    • " .. tostring(cmd.name or "unknown"))
          end
        end
      end
    else
      print("✗ No server info available (may not be in streaming mode)")
    end

    print("\n2. Testing interrupt capability...")

    -- Start a long-running task
    print("User: Count from 1 to 20 slowly")
    client:query("Count from 1 to 20 slowly, pausing between each number")

    -- Start consuming messages in background to enable interrupt
    local messages = {}

    local function consume()
      for msg in client:receive_response() do
        messages[#messages + 1] = msg
        if claude.isinstance(msg, claude.AssistantMessage) then
          for _, block in ipairs(msg.content) do
            if claude.isinstance(block, claude.TextBlock) then
              -- Print first 50 chars to show progress
              print(("Claude: %s..."):format(block.text:sub(1, 50)))
              break
            end
          end
        end
        if claude.isinstance(msg, claude.ResultMessage) then
          break
        end
      end
    end

    local consume_task = claude.spawn(consume)

    -- Wait a moment then interrupt
    claude.sleep(2000)
    print("\n[Sending interrupt after 2 seconds...]")

    local ok, e = pcall(client.interrupt, client)
    if ok then
      print("✓ Interrupt sent successfully")
    else
      print("✗ Interrupt failed: " .. tostring(e))
    end

    -- Wait for task to complete
    local done, err = pcall(consume_task.wait, consume_task)
    if not done and not claude.isinstance(err, claude.CancelledError) then
      error(err, 0)
    end

    -- Send new query after interrupt
    print("\nUser: Just say 'Hello!'")
    client:query("Just say 'Hello!'")

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

  print("\n")
end

-- Demonstrate proper error handling.
local function example_error_handling()
  print("=== Error Handling Example ===")

  local client = claude.ClaudeSDKClient.new()

  local ok, e = pcall(function()
    client:connect()

    -- Send a message that will take time to process
    print("User: Run a bash sleep command for 5 seconds not in the background")
    client:query("Run a bash sleep command for 5 seconds not in the background")

    -- Try to receive response with a short timeout
    local messages = {}
    local done, err = pcall(function()
      for msg in client:receive_response({ timeout = 3.0 }) do
        messages[#messages + 1] = msg
        if claude.isinstance(msg, claude.AssistantMessage) then
          for _, block in ipairs(msg.content) do
            if claude.isinstance(block, claude.TextBlock) then
              print(("Claude: %s..."):format(block.text:sub(1, 50)))
            end
          end
        elseif claude.isinstance(msg, claude.ResultMessage) then
          display_message(msg)
          break
        end
      end
    end)
    if not done then
      if not claude.isinstance(err, claude.TimeoutError) then
        error(err, 0)
      end
      print("\nResponse timeout after 3 seconds - demonstrating graceful handling")
      print(("Received %d messages before timeout"):format(#messages))
    end
  end)
  if not ok then
    if claude.isinstance(e, claude.CLIConnectionError) then
      print("Connection error: " .. tostring(e))
    else
      print("Unexpected error: " .. tostring(e))
    end
  end
  -- Always disconnect
  client:disconnect()

  print("\n")
end

-- Run all examples or a specific example based on command line argument.
local function main()
  local names = {
    "basic_streaming",
    "multi_turn_conversation",
    "concurrent_responses",
    "with_interrupt",
    "manual_message_handling",
    "with_options",
    "async_iterable_prompt",
    "bash_command",
    "control_protocol",
    "error_handling",
  }
  local examples = {
    basic_streaming = example_basic_streaming,
    multi_turn_conversation = example_multi_turn_conversation,
    concurrent_responses = example_concurrent_responses,
    with_interrupt = example_with_interrupt,
    manual_message_handling = example_manual_message_handling,
    with_options = example_with_options,
    async_iterable_prompt = example_async_iterable_prompt,
    bash_command = example_bash_command,
    control_protocol = example_control_protocol,
    error_handling = example_error_handling,
  }

  if #arg < 1 then
    -- List available examples
    print("Usage: lua streaming_mode.lua <example_name>")
    print("\nAvailable examples:")
    print("  all - Run all examples")
    for _, name in ipairs(names) do
      print("  " .. name)
    end
    os.exit(0)
  end

  local example_name = arg[1]

  if example_name == "all" then
    -- Run all examples
    for _, name in ipairs(names) do
      examples[name]()
      print(("-"):rep(50) .. "\n")
    end
  elseif examples[example_name] then
    -- Run specific example
    examples[example_name]()
  else
    print(("Error: Unknown example '%s'"):format(example_name))
    print("\nAvailable examples:")
    print("  all - Run all examples")
    for _, name in ipairs(names) do
      print("  " .. name)
    end
    os.exit(1)
  end
end

claude.run(main)
