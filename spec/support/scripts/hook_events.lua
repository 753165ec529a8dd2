-- Script of the offline model server for spec/hook_events_spec.lua.
--
--   "What is 2+2?"           "2 + 2 = 4."
--   "... use the skill <n>"  a tool_use of the Skill tool running the skill <n> (the model invokes it)
--
-- Everything else, including the request that returns the Skill tool's result,
-- gets the server's built-in echo ("You said: <prompt>", "Tool result: <text>"),
-- so the final answer shows what the model was told.
return {
  { match = "What is 2+2?", reply = "2 + 2 = 4." },
  {
    match = { pattern = "use the skill %S+" },
    reply = function(req)
      return { tool_use = { name = "Skill", input = { skill = req.last_user_text:match("use the skill (%S+)") } } }
    end,
  },
}
