-- 11_message_snippets.lua: the short examples of the Python SDK's message types reference, one small function
-- each: UserMessage, AssistantMessage, the task SystemMessages, ResultMessage, TextBlock, ThinkingBlock,
-- ToolUseBlock and ToolResultBlock. Each opens its own session with claude.with_client.
--
-- Several of the reference's loops run over receive_messages() and never break. In an interactive client that
-- would wait forever once the turn is over: receive_messages() only ends when the CLI exits, and the CLI stays
-- up until we disconnect. So every loop here ends at the ResultMessage (receive_response() does that by itself).
--
-- Run it (the CLI reaches the model through ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL in the environment; see
-- examples/README.md for the offline model server):
--   eval "$(make -s env)"; lua5.4 examples/11_message_snippets.lua
--   eval "$(make -s env LUA=luajit)"; luajit examples/11_message_snippets.lua

local claude = require("claude_agent_sdk")

-- A value for printing: strings as they are, tables as JSON.
local function show(v)
  if type(v) == "table" then
    return claude.json.encode(v)
  end
  return tostring(v)
end

-- TextBlock: print the text of an assistant message.
local function print_text_blocks(assistant_message)
  for _, block in ipairs(assistant_message.content) do
    if claude.isinstance(block, claude.TextBlock) then
      print(block.text)
    end
  end
end

-- UserMessage. The CLI echoes our own prompt back as a UserMessage, with its uuid, only when it runs with
-- --replay-user-messages (extra_args); without it, a plain question brings no UserMessage at all.
local function user_message_example()
  claude.with_client({ extra_args = { ["replay-user-messages"] = true } }, function(client)
    client:query("What is the capital of France?")

    for msg in client:receive_messages() do
      if claude.isinstance(msg, claude.UserMessage) then
        print("User said: " .. show(msg.content))
        if msg.uuid then
          print("Message ID: " .. msg.uuid)
        end
      elseif claude.isinstance(msg, claude.ResultMessage) then
        break
      end
    end
  end)
end

-- AssistantMessage: the model that answered, and the blocks of the answer.
local function assistant_message_example()
  claude.with_client({}, function(client)
    client:query("Explain async/await")

    for msg in client:receive_response() do
      if claude.isinstance(msg, claude.AssistantMessage) then
        print("Model: " .. tostring(msg.model))
        for _, block in ipairs(msg.content) do
          if claude.isinstance(block, claude.TextBlock) then
            print("Text: " .. block.text)
          elseif claude.isinstance(block, claude.ToolUseBlock) then
            print("Using tool: " .. block.name)
          end
        end
      end
    end
  end)
end

-- SystemMessage: the typed task messages of a subagent. This prints them if any arrive (whether a task is started
-- is up to the model). Newer CLIs (2.1.300 on) run the subagent in the background: its report comes in a turn of
-- its own, which may start before or after the first turn's result. So this reads on past a result while a task
-- it saw start is still running, or has reported and the main agent has not yet answered that report.
local function system_message_example()
  claude.with_client({}, function(client)
    client:query("Start a long-running task")

    local running, unanswered = 0, false
    for msg in client:receive_messages() do
      if claude.isinstance(msg, claude.TaskStartedMessage) then
        running = running + 1
        print("Task started: " .. tostring(msg.description))
      elseif claude.isinstance(msg, claude.TaskProgressMessage) then
        local tokens = type(msg.usage) == "table" and msg.usage.total_tokens or "?"
        print("Progress: " .. tostring(tokens) .. " tokens used")
      elseif claude.isinstance(msg, claude.TaskNotificationMessage) then
        running, unanswered = running - 1, true
        print("Task " .. tostring(msg.status) .. ": " .. tostring(msg.summary))
      elseif claude.isinstance(msg, claude.AssistantMessage) and msg.parent_tool_use_id == nil then
        -- the main agent's own words (a subagent's messages carry parent_tool_use_id)
        for _, block in ipairs(msg.content) do
          if claude.isinstance(block, claude.TextBlock) then
            unanswered = false
          end
        end
        print_text_blocks(msg)
      elseif claude.isinstance(msg, claude.ResultMessage) and running <= 0 and not unanswered then
        break
      end
    end
  end)
end

-- ResultMessage: what the turn cost and how long it took.
local function result_message_example()
  claude.with_client({}, function(client)
    client:query("What is 2+2?")

    for msg in client:receive_response() do
      if claude.isinstance(msg, claude.ResultMessage) then
        print(string.format("Cost: $%.4f", msg.total_cost_usd or 0))
        print("Duration: " .. tostring(msg.duration_ms) .. "ms")
        print("Turns: " .. tostring(msg.num_turns))
        print("Tokens: " .. show(msg.usage))
      end
    end
  end)
end

-- ThinkingBlock: Claude's reasoning, when thinking is enabled.
local function thinking_block_example()
  local options = {
    thinking = { type = "adaptive" },
  }

  claude.with_client(options, function(client)
    client:query("Solve this complex problem")

    for msg in client:receive_response() do
      if claude.isinstance(msg, claude.AssistantMessage) then
        for _, block in ipairs(msg.content) do
          if claude.isinstance(block, claude.ThinkingBlock) then
            print("Claude's thinking: " .. block.thinking)
          end
        end
      end
    end
  end)
end

-- ToolUseBlock: Claude asks for a tool to be run.
local function tool_use_block_example()
  claude.with_client({}, function(client)
    client:query("List the files in this directory")

    for msg in client:receive_messages() do
      if claude.isinstance(msg, claude.AssistantMessage) then
        for _, block in ipairs(msg.content) do
          if claude.isinstance(block, claude.ToolUseBlock) then
            print("Using tool: " .. block.name)
            print("Tool ID: " .. block.id)
            print("Input: " .. show(block.input))
          end
        end
      elseif claude.isinstance(msg, claude.ResultMessage) then
        break
      end
    end
  end)
end

-- ToolResultBlock: what the tool returned. The reference looks for it in AssistantMessage, but tool results go
-- back to the model as a user turn: they arrive in a UserMessage whose content is a list of blocks.
local function tool_result_block_example()
  claude.with_client({}, function(client)
    client:query("List the files in this directory")

    for msg in client:receive_messages() do
      if claude.isinstance(msg, claude.UserMessage) and type(msg.content) == "table" then
        for _, block in ipairs(msg.content) do
          if claude.isinstance(block, claude.ToolResultBlock) then
            print("Tool result for " .. block.tool_use_id)
            if block.is_error then
              print("Error: " .. show(block.content))
            else
              print("Success: " .. show(block.content))
            end
          end
        end
      elseif claude.isinstance(msg, claude.AssistantMessage) then
        print_text_blocks(msg)
      elseif claude.isinstance(msg, claude.ResultMessage) then
        break
      end
    end
  end)
end

local examples = {
  { "UserMessage", user_message_example },
  { "AssistantMessage", assistant_message_example },
  { "SystemMessage (tasks)", system_message_example },
  { "ResultMessage", result_message_example },
  { "ThinkingBlock", thinking_block_example },
  { "ToolUseBlock", tool_use_block_example },
  { "ToolResultBlock", tool_result_block_example },
}

for i, example in ipairs(examples) do
  if i > 1 then
    print()
  end
  print("== " .. example[1] .. " ==")
  example[2]()
end
