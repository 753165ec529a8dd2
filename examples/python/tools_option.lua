-- examples/python/tools_option.lua: the Lua port of the Python SDK's examples/tools_option.py: the tools option
-- (a list of tool names, an empty list, or the claude_code preset), checked against the tools the init message
-- lists.
--
-- Run it (the CLI reaches the model through ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL in the environment; see
-- examples/README.md, and examples/scripts/python_examples.lua for the offline model server's answers):
--   eval "$(make -s env)"; lua5.4 examples/python/tools_option.lua
--   eval "$(make -s env LUA=luajit)"; luajit examples/python/tools_option.lua

local claude = require("claude_agent_sdk")

-- Python's repr() of a list of strings: ['a', 'b'].
local function list_repr(list)
  local parts = {}
  for i, s in ipairs(list) do
    parts[i] = "'" .. s .. "'"
  end
  return "[" .. table.concat(parts, ", ") .. "]"
end

-- Example with tools as array of specific tool names.
local function tools_array_example()
  print("=== Tools Array Example ===")
  print("Setting tools=['Read', 'Glob', 'Grep']")
  print()

  local options = {
    tools = { "Read", "Glob", "Grep" },
    max_turns = 1,
  }

  for message in
    claude.query({
      prompt = "What tools do you have available? Just list them briefly.",
      options = options,
    })
  do
    if claude.isinstance(message, claude.SystemMessage) and message.subtype == "init" then
      local tools = message.data.tools or {}
      print("Tools from system message: " .. list_repr(tools))
      print()
    elseif claude.isinstance(message, claude.AssistantMessage) then
      for _, block in ipairs(message.content) do
        if claude.isinstance(block, claude.TextBlock) then
          print("Claude: " .. block.text)
        end
      end
    elseif claude.isinstance(message, claude.ResultMessage) then
      if message.total_cost_usd and message.total_cost_usd ~= 0 then
        print(("\nCost: $%.4f"):format(message.total_cost_usd))
      end
    end
  end
  print()
end

-- Example with tools as empty array (disables all built-in tools).
local function tools_empty_array_example()
  print("=== Tools Empty Array Example ===")
  print("Setting tools=[] (disables all built-in tools)")
  print()

  local options = {
    tools = {},
    max_turns = 1,
  }

  for message in
    claude.query({
      prompt = "What tools do you have available? Just list them briefly.",
      options = options,
    })
  do
    if claude.isinstance(message, claude.SystemMessage) and message.subtype == "init" then
      local tools = message.data.tools or {}
      print("Tools from system message: " .. list_repr(tools))
      print()
    elseif claude.isinstance(message, claude.AssistantMessage) then
      for _, block in ipairs(message.content) do
        if claude.isinstance(block, claude.TextBlock) then
          print("Claude: " .. block.text)
        end
      end
    elseif claude.isinstance(message, claude.ResultMessage) then
      if message.total_cost_usd and message.total_cost_usd ~= 0 then
        print(("\nCost: $%.4f"):format(message.total_cost_usd))
      end
    end
  end
  print()
end

-- Example with tools preset (all default Claude Code tools).
local function tools_preset_example()
  print("=== Tools Preset Example ===")
  print("Setting tools={'type': 'preset', 'preset': 'claude_code'}")
  print()

  local options = {
    tools = { type = "preset", preset = "claude_code" },
    max_turns = 1,
  }

  for message in
    claude.query({
      prompt = "What tools do you have available? Just list them briefly.",
      options = options,
    })
  do
    if claude.isinstance(message, claude.SystemMessage) and message.subtype == "init" then
      local tools = message.data.tools or {}
      local first = {}
      for i = 1, math.min(5, #tools) do
        first[i] = tools[i]
      end
      print(("Tools from system message (%d tools): %s..."):format(#tools, list_repr(first)))
      print()
    elseif claude.isinstance(message, claude.AssistantMessage) then
      for _, block in ipairs(message.content) do
        if claude.isinstance(block, claude.TextBlock) then
          print("Claude: " .. block.text)
        end
      end
    elseif claude.isinstance(message, claude.ResultMessage) then
      if message.total_cost_usd and message.total_cost_usd ~= 0 then
        print(("\nCost: $%.4f"):format(message.total_cost_usd))
      end
    end
  end
  print()
end

-- Run all examples.
local function main()
  tools_array_example()
  tools_empty_array_example()
  tools_preset_example()
end

main()
