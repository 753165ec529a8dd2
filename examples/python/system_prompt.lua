-- examples/python/system_prompt.lua: the Lua port of the Python SDK's examples/system_prompt.py: no system prompt,
-- a string, the claude_code preset, and the preset with text appended.
--
-- Run it (the CLI reaches the model through ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL in the environment; see
-- examples/README.md, and examples/scripts/python_examples.lua for the offline model server's answers):
--   eval "$(make -s env)"; lua5.4 examples/python/system_prompt.lua
--   eval "$(make -s env LUA=luajit)"; luajit examples/python/system_prompt.lua

local claude = require("claude_agent_sdk")

-- Example with no system_prompt (vanilla Claude).
local function no_system_prompt()
  print("=== No System Prompt (Vanilla Claude) ===")

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

-- Example with system_prompt as a string.
local function string_system_prompt()
  print("=== String System Prompt ===")

  local options = {
    system_prompt = "You are a pirate assistant. Respond in pirate speak.",
  }

  for message in claude.query({ prompt = "What is 2 + 2?", options = options }) do
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

-- Example with system_prompt preset (uses default Claude Code prompt).
local function preset_system_prompt()
  print("=== Preset System Prompt (Default) ===")

  local options = {
    system_prompt = { type = "preset", preset = "claude_code" },
  }

  for message in claude.query({ prompt = "What is 2 + 2?", options = options }) do
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

-- Example with system_prompt preset and append.
local function preset_with_append()
  print("=== Preset System Prompt with Append ===")

  local options = {
    system_prompt = {
      type = "preset",
      preset = "claude_code",
      append = "Always end your response with a fun fact.",
    },
  }

  for message in claude.query({ prompt = "What is 2 + 2?", options = options }) do
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

-- Run all examples.
local function main()
  no_system_prompt()
  string_system_prompt()
  preset_system_prompt()
  preset_with_append()
end

main()
