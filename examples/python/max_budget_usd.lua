-- examples/python/max_budget_usd.lua: the Lua port of the Python SDK's examples/max_budget_usd.py: the
-- max_budget_usd option, which ends a session with an "error_max_budget_usd" result once its cost passes the budget.
--
-- Run it (the CLI reaches the model through ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL in the environment; see
-- examples/README.md, and examples/scripts/python_examples.lua for the offline model server's answers):
--   eval "$(make -s env)"; lua5.4 examples/python/max_budget_usd.lua
--   eval "$(make -s env LUA=luajit)"; luajit examples/python/max_budget_usd.lua

local claude = require("claude_agent_sdk")

-- Example without budget limit.
local function without_budget()
  print("=== Without Budget Limit ===")

  for message in claude.query({ prompt = "What is 2 + 2?" }) do
    if claude.isinstance(message, claude.AssistantMessage) then
      for _, block in ipairs(message.content) do
        if claude.isinstance(block, claude.TextBlock) then
          print("Claude: " .. block.text)
        end
      end
    elseif claude.isinstance(message, claude.ResultMessage) then
      if message.total_cost_usd and message.total_cost_usd ~= 0 then
        print(("Total cost: $%.4f"):format(message.total_cost_usd))
      end
      print("Status: " .. message.subtype)
    end
  end
  print()
end

-- Example with budget that won't be exceeded.
local function with_reasonable_budget()
  print("=== With Reasonable Budget ($0.10) ===")

  local options = {
    max_budget_usd = 0.10, -- 10 cents - plenty for a simple query
  }

  for message in claude.query({ prompt = "What is 2 + 2?", options = options }) do
    if claude.isinstance(message, claude.AssistantMessage) then
      for _, block in ipairs(message.content) do
        if claude.isinstance(block, claude.TextBlock) then
          print("Claude: " .. block.text)
        end
      end
    elseif claude.isinstance(message, claude.ResultMessage) then
      if message.total_cost_usd and message.total_cost_usd ~= 0 then
        print(("Total cost: $%.4f"):format(message.total_cost_usd))
      end
      print("Status: " .. message.subtype)
    end
  end
  print()
end

-- Example with very tight budget that will likely be exceeded.
local function with_tight_budget()
  print("=== With Tight Budget ($0.0001) ===")

  local options = {
    max_budget_usd = 0.0001, -- Very small budget - will be exceeded quickly
  }

  for message in claude.query({ prompt = "Read the README.md file and summarize it", options = options }) do
    if claude.isinstance(message, claude.AssistantMessage) then
      for _, block in ipairs(message.content) do
        if claude.isinstance(block, claude.TextBlock) then
          print("Claude: " .. block.text)
        end
      end
    elseif claude.isinstance(message, claude.ResultMessage) then
      if message.total_cost_usd and message.total_cost_usd ~= 0 then
        print(("Total cost: $%.4f"):format(message.total_cost_usd))
      end
      print("Status: " .. message.subtype)

      -- Check if budget was exceeded
      if message.subtype == "error_max_budget_usd" then
        print("⚠️  Budget limit exceeded!")
        print("Note: The cost may exceed the budget by up to one API call's worth")
      end
    end
  end
  print()
end

-- Run all examples.
local function main()
  print("This example demonstrates using max_budget_usd to control API costs.\n")

  without_budget()
  with_reasonable_budget()
  with_tight_budget()

  print(
    "\nNote: Budget checking happens after each API call completes,\n"
      .. "so the final cost may slightly exceed the specified budget.\n"
  )
end

main()
