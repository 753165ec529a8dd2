-- 10_message_types.lua: every kind of message and content block of one conversation, the Lua twin of the
-- "Complete Example" in the Python SDK's message types reference.
--
-- Messages and blocks are Lua tables whose metatable is their class, so claude.isinstance(msg,
-- claude.AssistantMessage) works like Python's isinstance (msg.type == "assistant" is the everyday shortcut).
-- Options as in the reference: adaptive thinking, and the CLI's --replay-user-messages flag (a bare flag is
-- `true` in extra_args), which echoes our own prompt back as a UserMessage carrying its uuid.
--
-- One difference from the reference: it looks for ToolResultBlock inside AssistantMessage, but the CLI sends tool
-- results to the model as a user turn, so they arrive in a UserMessage whose content is a list of blocks. This
-- example prints the blocks of both kinds of message with the same function.
--
-- The loop reads receive_messages() and breaks at the ResultMessage, as the reference does: receive_messages()
-- itself only ends when the CLI exits, which an open interactive session does not do.
--
-- Run it (the CLI reaches the model through ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL in the environment; see
-- examples/README.md for the offline model server):
--   eval "$(make -s env)"; lua5.4 examples/10_message_types.lua
--   eval "$(make -s env LUA=luajit)"; luajit examples/10_message_types.lua

local claude = require("claude_agent_sdk")

-- A value for printing: strings as they are, tables as JSON, cut to a readable length.
local function show(v, limit)
  local s = type(v) == "table" and claude.json.encode(v) or tostring(v)
  limit = limit or 300
  if #s > limit then
    s = s:sub(1, limit) .. "..."
  end
  return s
end

local function print_blocks(content)
  for _, block in ipairs(content) do
    if claude.isinstance(block, claude.TextBlock) then
      print("  Text: " .. block.text)
    elseif claude.isinstance(block, claude.ThinkingBlock) then
      print("  Thinking: " .. block.thinking:sub(1, 100) .. "...")
    elseif claude.isinstance(block, claude.ToolUseBlock) then
      print("  Using tool: " .. block.name)
      print("    Input: " .. show(block.input))
    elseif claude.isinstance(block, claude.ToolResultBlock) then
      local status = block.is_error and "error" or "success"
      print("  Tool result (" .. status .. "): " .. show(block.content))
    end
  end
end

local function process_conversation()
  local options = {
    thinking = { type = "adaptive" },
    extra_args = { ["replay-user-messages"] = true },
  }

  claude.with_client(options, function(client)
    client:query("Help me analyze this codebase")

    for msg in client:receive_messages() do
      -- Handle user messages
      if claude.isinstance(msg, claude.UserMessage) then
        if type(msg.content) == "string" then
          print("User [" .. tostring(msg.uuid) .. "]: " .. msg.content)
        else
          print("User [" .. tostring(msg.uuid) .. "]:")
          print_blocks(msg.content)
        end

      -- Handle assistant messages
      elseif claude.isinstance(msg, claude.AssistantMessage) then
        print("Assistant (model: " .. tostring(msg.model) .. "):")
        print_blocks(msg.content)

      -- Handle system messages
      elseif claude.isinstance(msg, claude.SystemMessage) then
        print("System [" .. tostring(msg.subtype) .. "]: " .. show(msg.data, 120))

      -- Handle result
      elseif claude.isinstance(msg, claude.ResultMessage) then
        print("\nConversation complete!")
        print("  Duration: " .. tostring(msg.duration_ms) .. "ms")
        print("  Turns: " .. tostring(msg.num_turns))
        print(string.format("  Cost: $%.4f", msg.total_cost_usd or 0))
        print("  Stop reason: " .. tostring(msg.stop_reason))
        break
      end
    end
  end)
end

process_conversation()
