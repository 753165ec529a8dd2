-- Script of the offline model server for spec/callbacks_spec.lua: prompts that
-- make the model call a tool, so that the CLI asks the SDK's callbacks
-- (can_use_tool, hooks, in-process MCP tools) about it.
--
--   "... run bash: <command>"   a Bash tool_use running <command> (the rest of the line)
--   "... mcp add <a> <b>"       a tool_use of mcp__calc__add with { a = <a>, b = <b> }
--   "... mcp fail"              a tool_use of mcp__calc__fail, whose handler raises
--   "... after the interrupt ..."  answered even when it comes with tool results: after an interrupt the CLI
--                               sends the next prompt in one user message with the rejected tool's result
--
-- Everything else, including every request that returns tool results, gets the
-- server's built-in echo: "You said: <prompt>", or one line per tool result,
-- "Tool result: <text>" or "Tool error: <text>", so the follow-up request and
-- the final answer both show what the model was told.
return {
  {
    match = { pattern = "run bash: " },
    reply = function(req)
      local command = req.last_user_text:match("run bash: ([^\n]+)")
      return { tool_use = { name = "Bash", input = { command = command, description = "Run a test command" } } }
    end,
  },
  {
    match = { pattern = "mcp add %-?%d+ %-?%d+" },
    reply = function(req)
      local a, b = req.last_user_text:match("mcp add (%-?%d+) (%-?%d+)")
      return { tool_use = { name = "mcp__calc__add", input = { a = tonumber(a), b = tonumber(b) } } }
    end,
  },
  {
    match = function(req)
      return req.is_tool_result and req.last_user_text:find("after the interrupt", 1, true) ~= nil
    end,
    reply = function(req)
      return "After the interrupt you said: " .. req.last_user_text:match("[^\n]*after the interrupt[^\n]*")
    end,
  },
  { match = "mcp fail", reply = { tool_use = { name = "mcp__calc__fail", input = { why = "testing" } } } },
}
