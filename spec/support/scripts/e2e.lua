-- Script of the offline model server for spec/e2e_spec.lua.
return {
  { match = "What is 2+2?", reply = "2 + 2 = 4." },
  { match = "My favourite colour is", reply = "Noted, I will remember that." },
  {
    match = "What is my favourite colour?",
    reply = function(req)
      -- the CLI must have sent the first turn along with the second
      local colour = req.history_text:match("My favourite colour is (%a+)")
      return colour and ("Your favourite colour is " .. colour .. ".") or "You never told me."
    end,
  },
  {
    match = "think, then run echo",
    reply = {
      content = {
        { type = "thinking", thinking = "The user wants a greeting printed.", signature = "offline-signature" },
        {
          type = "tool_use",
          name = "Bash",
          input = { command = "echo hello-from-bash", description = "Print a greeting" },
        },
      },
    },
  },
  {
    match = { tool_result = "hello-from-bash" },
    reply = function(req)
      return "Bash said: " .. req.tool_results[1].text
    end,
  },
  { match = "stream this", reply = { text = "Streaming works in small pieces.", chunk_size = 5 } },
  {
    match = "fail with 400",
    reply = { status = 400, error = { type = "invalid_request_error", message = "scripted failure" } },
  },
  default = function(req)
    return "You said: " .. req.last_user_text
  end,
}
