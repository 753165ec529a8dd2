-- examples/python/quick_start.lua: the Lua port of the Python SDK's examples/quick_start.py (the quick start:
-- claude.query() with no options, with a system prompt and max_turns, and with tools).
--
-- Run it (the CLI reaches the model through ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL in the environment; see
-- examples/README.md, and examples/scripts/python_examples.lua for the offline model server's answers):
--   eval "$(make -s env)"; lua5.4 examples/python/quick_start.lua
--   eval "$(make -s env LUA=luajit)"; luajit examples/python/quick_start.lua

local claude = require("claude_agent_sdk")

-- Basic example - simple question.
local function basic_example()
  print("=== Basic Example ===")

  for message in claude.query({ prompt = "What is 2 + 2?" }) do
    if claude.isinstance(message, claude.AssistantMessage) then
      for _, block in ipairs(message.content) do
        if claude.isinstance(block, claude.TextBlock) then
          print("Claude: " .. block.text)
        end
      end
    end
  end
  print()
end

-- Example with custom options.
local function with_options_example()
  print("=== With Options Example ===")

  local options = {
    system_prompt = "You are a helpful assistant that explains things simply.",
    max_turns = 1,
  }

  for message in claude.query({ prompt = "Explain what Python is in one sentence.", options = options }) do
    if claude.isinstance(message, claude.AssistantMessage) then
      for _, block in ipairs(message.content) do
        if claude.isinstance(block, claude.TextBlock) then
          print("Claude: " .. block.text)
        end
      end
    end
  end
  print()
end

-- Example using tools.
local function with_tools_example()
  print("=== With Tools Example ===")

  local options = {
    allowed_tools = { "Read", "Write" },
    system_prompt = "You are a helpful file assistant.",
  }

  for message in
    claude.query({
      prompt = "Create a file called hello.txt with 'Hello, World!' in it",
      options = options,
    })
  do
    if claude.isinstance(message, claude.AssistantMessage) then
      for _, block in ipairs(message.content) do
        if claude.isinstance(block, claude.TextBlock) then
          print("Claude: " .. block.text)
        end
      end
    elseif claude.isinstance(message, claude.ResultMessage) and message.total_cost_usd > 0 then
      print(("\nCost: $%.4f"):format(message.total_cost_usd))
    end
  end
  print()
end

-- Run all examples.
local function main()
  basic_example()
  with_options_example()
  with_tools_example()
end

main()
