-- 16_mcp_tools.lua: two Lua functions exposed to Claude as tools, through an in-process MCP server.
--
-- claude.tool(name, description, schema, handler) describes a tool; the schema may be the shorthand
-- `{ a = "number", b = "number" }` (every argument required) or a full JSON Schema table. The handler gets the
-- arguments as a Lua table and returns MCP content (`{ content = { { type = "text", text = ... } } }`) or just a
-- string; an error it raises is shown to the model as a failed tool call, and the session goes on.
-- claude.create_sdk_mcp_server bundles tools into a server that lives in this process: no subprocess, no port.
-- Put it in options.mcp_servers under a name and the model sees its tools as mcp__<name>__<tool>. List them in
-- allowed_tools so that the CLI runs them without asking for permission (or answer with options.can_use_tool).
--
-- This is a plain script in blocking mode: the CLI's calls into the tools are answered from inside
-- receive_response(), while it waits for the next message.
--
-- Run it (the CLI reaches the model through ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL in the environment; see
-- examples/README.md for the offline model server, which scripts the two tool calls):
--   eval "$(make -s env)"; lua5.4 examples/16_mcp_tools.lua
--   eval "$(make -s env LUA=luajit)"; luajit examples/16_mcp_tools.lua

local claude = require("claude_agent_sdk")

-- The first tool: schema shorthand, MCP content as the result.
local add = claude.tool("add", "Add two numbers", { a = "number", b = "number" }, function(args)
  local sum = args.a + args.b
  print(("  [Lua] add(%s, %s) -> %s"):format(args.a, args.b, sum))
  return { content = { { type = "text", text = tostring(sum) } } }
end, { annotations = { readOnlyHint = true } })

-- The second tool: a full JSON Schema, a plain string as the result.
local word_count = claude.tool("word_count", "Count the words in a text", {
  type = "object",
  properties = { text = { type = "string", description = "the text to count the words of" } },
  required = { "text" },
}, function(args)
  local n = 0
  for _ in args.text:gmatch("%S+") do
    n = n + 1
  end
  print(("  [Lua] word_count(%q) -> %d"):format(args.text, n))
  return tostring(n)
end)

local utils = claude.create_sdk_mcp_server({ name = "utils", version = "1.0.0", tools = { add, word_count } })

local options = {
  mcp_servers = { utils = utils },
  allowed_tools = { "mcp__utils__add", "mcp__utils__word_count" },
}

claude.with_client(options, function(client)
  local prompt = 'Add 17 and 25, and count the words in "the quick brown fox jumps over the lazy dog".'
  print("User: " .. prompt)
  client:query(prompt)
  for msg in client:receive_response() do
    if claude.isinstance(msg, claude.AssistantMessage) then
      for _, block in ipairs(msg.content) do
        if claude.isinstance(block, claude.ToolUseBlock) then
          print(("Tool call: %s %s"):format(block.name, claude.json.encode(block.input)))
        elseif claude.isinstance(block, claude.TextBlock) then
          print("Claude: " .. block.text)
        end
      end
    elseif claude.isinstance(msg, claude.UserMessage) and type(msg.content) == "table" then
      for _, block in ipairs(msg.content) do
        if claude.isinstance(block, claude.ToolResultBlock) then
          local text = block.content
          if type(text) == "table" then
            local parts = {}
            for _, b in ipairs(text) do
              parts[#parts + 1] = b.text
            end
            text = table.concat(parts)
          end
          print(("Tool result%s: %s"):format(block.is_error and " (error)" or "", tostring(text)))
        end
      end
    elseif claude.isinstance(msg, claude.ResultMessage) then
      print(("(turn ended: %s)"):format(msg.subtype))
    end
  end
end)
