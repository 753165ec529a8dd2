-- examples/python/agents.lua: the Lua port of the Python SDK's examples/agents.py: custom agents, defined in the
-- options with their own description, prompt, tools and model, which Claude calls through the Agent tool.
--
-- Python's AgentDefinition(...) is a plain table here: { description =, prompt =, tools =, model = }.
--
-- Run it (the CLI reaches the model through ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL in the environment; see
-- examples/README.md, and examples/scripts/python_examples.lua for the offline model server's answers):
--   eval "$(make -s env)"; lua5.4 examples/python/agents.lua
--   eval "$(make -s env LUA=luajit)"; luajit examples/python/agents.lua

local claude = require("claude_agent_sdk")

-- Example using a custom code reviewer agent.
local function code_reviewer_example()
  print("=== Code Reviewer Agent Example ===")

  local options = {
    agents = {
      ["code-reviewer"] = {
        description = "Reviews code for best practices and potential issues",
        prompt = "You are a code reviewer. Analyze code for bugs, performance issues, "
          .. "security vulnerabilities, and adherence to best practices. "
          .. "Provide constructive feedback.",
        tools = { "Read", "Grep" },
        model = "sonnet",
      },
    },
  }

  for message in
    claude.query({
      prompt = "Use the code-reviewer agent to review the code in src/claude_agent_sdk/types.py",
      options = options,
    })
  do
    if claude.isinstance(message, claude.AssistantMessage) then
      for _, block in ipairs(message.content) do
        if claude.isinstance(block, claude.TextBlock) then
          print("Claude: " .. block.text)
        end
      end
    elseif
      claude.isinstance(message, claude.ResultMessage)
      and message.total_cost_usd
      and message.total_cost_usd > 0
    then
      print(("\nCost: $%.4f"):format(message.total_cost_usd))
    end
  end
  print()
end

-- Example using a documentation writer agent.
local function documentation_writer_example()
  print("=== Documentation Writer Agent Example ===")

  local options = {
    agents = {
      ["doc-writer"] = {
        description = "Writes comprehensive documentation",
        prompt = "You are a technical documentation expert. Write clear, comprehensive "
          .. "documentation with examples. Focus on clarity and completeness.",
        tools = { "Read", "Write", "Edit" },
        model = "sonnet",
      },
    },
  }

  for message in
    claude.query({
      prompt = "Use the doc-writer agent to explain what AgentDefinition is used for",
      options = options,
    })
  do
    if claude.isinstance(message, claude.AssistantMessage) then
      for _, block in ipairs(message.content) do
        if claude.isinstance(block, claude.TextBlock) then
          print("Claude: " .. block.text)
        end
      end
    elseif
      claude.isinstance(message, claude.ResultMessage)
      and message.total_cost_usd
      and message.total_cost_usd > 0
    then
      print(("\nCost: $%.4f"):format(message.total_cost_usd))
    end
  end
  print()
end

-- Example with multiple custom agents.
local function multiple_agents_example()
  print("=== Multiple Agents Example ===")

  local options = {
    agents = {
      analyzer = {
        description = "Analyzes code structure and patterns",
        prompt = "You are a code analyzer. Examine code structure, patterns, and architecture.",
        tools = { "Read", "Grep", "Glob" },
      },
      tester = {
        description = "Creates and runs tests",
        prompt = "You are a testing expert. Write comprehensive tests and ensure code quality.",
        tools = { "Read", "Write", "Bash" },
        model = "sonnet",
      },
    },
    setting_sources = { "user", "project" },
  }

  for message in
    claude.query({
      prompt = "Use the analyzer agent to find all Python files in the examples/ directory",
      options = options,
    })
  do
    if claude.isinstance(message, claude.AssistantMessage) then
      for _, block in ipairs(message.content) do
        if claude.isinstance(block, claude.TextBlock) then
          print("Claude: " .. block.text)
        end
      end
    elseif
      claude.isinstance(message, claude.ResultMessage)
      and message.total_cost_usd
      and message.total_cost_usd > 0
    then
      print(("\nCost: $%.4f"):format(message.total_cost_usd))
    end
  end
  print()
end

-- Run all agent examples.
local function main()
  code_reviewer_example()
  documentation_writer_example()
  multiple_agents_example()
end

main()
