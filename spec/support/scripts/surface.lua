-- Script of the offline model server for spec/surface_spec.lua.
local function has_tool(req, name)
  for _, t in ipairs(req.tools) do
    if t == name then
      return true
    end
  end
  return false
end

return {
  -- --json-schema gives the model a StructuredOutput tool: call it
  {
    match = function(req)
      return has_tool(req, "StructuredOutput") and not req.is_tool_result
    end,
    reply = { tool_use = { name = "StructuredOutput", input = { answer = 4, unit = "apples" } } },
  },
  {
    match = { tool_result = "" },
    reply = function(req)
      return "Tool said: " .. tostring(req.tool_results[1] and req.tool_results[1].text)
    end,
  },
  { match = "My favourite colour is", reply = "Noted." },
  {
    match = "What is my favourite colour?",
    reply = function(req)
      local colour = req.history_text:match("My favourite colour is (%a+)")
      return colour and ("Your favourite colour is " .. colour .. ".") or "You never told me."
    end,
  },
  {
    match = "run two commands",
    reply = { tool_use = { name = "Bash", input = { command = "echo first", description = "first" } } },
  },
  {
    match = "write the file",
    reply = function(req)
      local path = req.last_user_text:match("write the file (%S+)")
      return { tool_use = { name = "Write", input = { file_path = path, content = "new content\n" } } }
    end,
  },
  default = function(req)
    return "You said: " .. req.last_user_text
  end,
}
