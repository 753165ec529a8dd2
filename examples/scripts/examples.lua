--- The offline model server's script for examples/: the built-in demo script, plus the few answers the examples
--- need that it does not give.
---
--- Contract: returns a rules table (format: `claude-offline-model --help`). Its own rules come first, then every
--- demo rule in order, then the demo's default, so a prompt answered here behaves exactly as with the demo script.
--- Added:
---   * several questions in one prompt, one per line: the CLI merges user messages queued together into one turn,
---     joining their texts with newlines (06_streaming_prompts.lua shows it). Each line that a demo rule answers
---     gets that answer, so the merged turn answers every question in it.
---   * "Help me analyze this codebase" (10_message_types.lua): thinking, text and a Bash `ls` tool use, then a
---     summary of the listing, so one turn shows every kind of content block.
---   * "List the files in this directory" (11_message_snippets.lua): a Bash `ls` tool use, then a summary.
---   * the subagent of "Start a long-running task" reports at once instead of streaming for about 4 s.
---   * 'Add A and B, and count the words in "TEXT"' (16_mcp_tools.lua): one turn calling both in-process MCP tools
---     (mcp__utils__add, mcp__utils__word_count), then an answer built from their results.
---   * "Create an empty file named NAME" (17_nvim_permissions.lua): a Bash `touch NAME` tool use, which needs
---     permission, then an answer saying whether the file was created.
--- `ls` is a read-only command, which the CLI runs without asking for permission in the default mode.
---
--- Run it: `bin/claude-offline-model --script examples/scripts/examples.lua`

local demo = require("claude_agent_sdk.testing.scripts.default")

-- The answer a demo rule with a string or pattern match gives to one line of text, or nil.
local function demo_answer(line, req)
  -- A view of the request as if this line were the whole prompt.
  local sub = setmetatable({ last_user_text = line, is_tool_result = false }, { __index = req })
  for _, rule in ipairs(demo) do
    local m = rule.match
    local hit = (type(m) == "string" and line:lower():find(m:lower(), 1, true))
      or (type(m) == "table" and type(m.pattern) == "string" and line:find(m.pattern))
    if hit then
      local reply = rule.reply
      if type(reply) == "function" then
        reply = reply(sub)
      end
      if type(reply) == "table" and type(reply.text) == "string" then
        reply = reply.text
      end
      if type(reply) == "string" then
        return reply
      end
    end
  end
  return nil
end

-- The answers to each line of a multi-line prompt, or nil unless at least two lines got one.
local function per_line_answers(req)
  if req.is_tool_result or not req.last_user_text:find("\n", 1, true) then
    return nil
  end
  local answers = {}
  for line in req.last_user_text:gmatch("[^\n]+") do
    answers[#answers + 1] = demo_answer(line, req)
  end
  if #answers < 2 then
    return nil
  end
  return table.concat(answers, "\n")
end

-- The entries of an `ls` listing, as "a, b and c (N entries)".
local function listing(text)
  local names = {}
  for name in text:gmatch("[^\n]+") do
    names[#names + 1] = name
  end
  if #names == 0 then
    return "nothing (the directory is empty)"
  end
  local shown = {}
  for i = 1, math.min(#names, 8) do
    shown[i] = names[i]
  end
  local more = #names > 8 and (" and " .. (#names - 8) .. " more") or ""
  return table.concat(shown, ", ") .. more .. " (" .. #names .. " entries)"
end

local function tool_result_for(prompt)
  return function(req)
    return req.is_tool_result and req.last_user_text:lower():find(prompt, 1, true) ~= nil
  end
end

local rules = {
  { match = per_line_answers, reply = per_line_answers },
  {
    match = "help me analyze this codebase",
    reply = {
      thinking = "To analyze the codebase I should first see what is at its top level, then look at the main "
        .. "modules and the tests.",
      text = "Let me start by listing the files at the top level.",
      tool_use = { name = "Bash", input = { command = "ls", description = "List the top-level files" } },
    },
  },
  {
    match = tool_result_for("help me analyze this codebase"),
    reply = function(req)
      local r = req.tool_results[1]
      if r.is_error then
        return "I could not list the files: " .. r.text
      end
      return "The top level holds " .. listing(r.text) .. ". Tell me which part to look at in detail."
    end,
  },
  -- The demo's subagent streams its report slowly (about 4 s) to look busy; the examples need no wait.
  {
    match = "three steps of the job",
    reply = "Step 1 done. Step 2 done. Step 3 done. All three steps are complete.",
  },
  {
    match = "list the files in this directory",
    reply = { tool_use = { name = "Bash", input = { command = "ls", description = "List the files" } } },
  },
  {
    match = tool_result_for("list the files in this directory"),
    reply = function(req)
      local r = req.tool_results[1]
      if r.is_error then
        return "I could not list the files: " .. r.text
      end
      return "This directory contains " .. listing(r.text) .. "."
    end,
  },
  -- 16_mcp_tools.lua: both tools in one turn, then the answer from their results.
  {
    match = { pattern = 'dd %-?%d+ and %-?%d+, and count the words in "[^"]*"' },
    reply = function(req)
      local a, b, text = req.last_user_text:match('dd (%-?%d+) and (%-?%d+), and count the words in "([^"]*)"')
      return {
        text = "I will use your two tools.",
        tool_use = {
          { name = "mcp__utils__add", input = { a = tonumber(a), b = tonumber(b) } },
          { name = "mcp__utils__word_count", input = { text = text } },
        },
      }
    end,
  },
  {
    match = tool_result_for("and count the words in"),
    reply = function(req)
      -- Which tool each result belongs to: the tool_use blocks of the last assistant message.
      local names = {}
      for _, m in ipairs(req.messages) do
        if m.role == "assistant" and type(m.content) == "table" then
          for _, b in ipairs(m.content) do
            if b.type == "tool_use" then
              names[b.id] = b.name
            end
          end
        end
      end
      local got = {}
      for _, r in ipairs(req.tool_results) do
        local name = (names[r.tool_use_id] or "?"):gsub("^mcp__utils__", "")
        if r.is_error then
          return "The " .. name .. " tool failed: " .. r.text
        end
        got[name] = r.text
      end
      local a, b = req.last_user_text:match("dd (%-?%d+) and (%-?%d+)")
      return ("%s + %s = %s, and the text has %s words."):format(a, b, tostring(got.add), tostring(got.word_count))
    end,
  },
  -- 17_nvim_permissions.lua: a command that needs permission, then whether it ran.
  {
    match = { pattern = "reate an empty file named %S+" },
    reply = function(req)
      local name = req.last_user_text:match("reate an empty file named ([^%s%.]+%.?%w*)")
      return {
        tool_use = { name = "Bash", input = { command = "touch " .. name, description = "Create an empty file" } },
      }
    end,
  },
  {
    match = tool_result_for("create an empty file named"),
    reply = function(req)
      local r = req.tool_results[1]
      local name = req.last_user_text:match("reate an empty file named ([^%s%.]+%.?%w*)")
      if r.is_error then
        return "I could not create " .. name .. ": " .. r.text
      end
      return "Done: I created " .. name .. "."
    end,
  },
}

for _, rule in ipairs(demo) do
  rules[#rules + 1] = rule
end
rules.default = demo.default
rules.side = demo.side

return rules
