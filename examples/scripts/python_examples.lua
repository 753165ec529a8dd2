--- The offline model server's script for examples/python/: answers to the prompts of the Python SDK's examples
--- (the Lua ports in examples/python/ and the Python originals alike), on top of examples/scripts/examples.lua.
---
--- Contract: returns a rules table (format: `claude-offline-model --help`). Its own rules come first, then every rule
--- of examples/scripts/examples.lua (which ends with the built-in demo script and its default). Every answer is a
--- function of the request alone (no clock, no randomness, no state but the server's own id counters), so the
--- Python original and the Lua port, each run against a fresh server, get the same answers: the comparison harness
--- (spec/support/py_compare/) depends on it.
---
--- What the examples expect, and what they get:
---   * tools where the example expects tools: Write (quick_start, streaming_mode with_options, hooks
---     DecisionFields), Bash (hooks, streaming_mode bash_command), Read (max_budget_usd), the Agent tool with the
---     custom agents (agents), the calculator's MCP tools (mcp_calculator: one per prompt, three in a row for
---     "(12 + 8) * 3 - 10"), and Bash / Write / Bash for the three steps of tool_permission_callback. File paths
---     are relative (the CLI resolves them against its working directory), so nothing is written outside it.
---   * answers that show an option reached the model: the pirate system prompt, the appended "fun fact", the
---     UserPromptSubmit hook's "hot pink" context, the tools offered (tools_option, "List your tools").
---   * "Count from 1 to 20 slowly" streams for about 6 s (an interrupt lands after 2 s); "Think of three jokes"
---     streams thinking and text in several deltas (include_partial_messages).
---
--- Run it: `bin/claude-offline-model --script examples/scripts/python_examples.lua`

local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local base = dofile(here .. "/examples.lua")

-- Every string inside a value (a message's content, a tool result's blocks), joined by newlines.
local function strings_of(v, out)
  out = out or {}
  if type(v) == "string" then
    out[#out + 1] = v
  elseif type(v) == "table" then
    for _, x in ipairs(v) do
      strings_of(x, out)
    end
    for k, x in pairs(v) do
      if type(k) == "string" then
        strings_of(x, out)
      end
    end
  end
  return out
end

-- All the text of the request's messages, injected context included.
local function all_text(req)
  return table.concat(strings_of(req.messages), "\n")
end

-- The text of the last message (tool results, system reminders and task notifications included).
local function last_text(req)
  local last = req.messages[#req.messages]
  return table.concat(strings_of(type(last) == "table" and last.content or nil), "\n")
end

-- The tool_use blocks the assistant sent so far, oldest first.
local function tool_uses(req)
  local list = {}
  for _, m in ipairs(req.messages) do
    if m.role == "assistant" and type(m.content) == "table" then
      for _, b in ipairs(m.content) do
        if type(b) == "table" and b.type == "tool_use" then
          list[#list + 1] = b
        end
      end
    end
  end
  return list
end

-- The first prompt of the conversation (the CLI's own texts, like ToolSearch's "Tool loaded.", come later).
local function first_prompt(req)
  for _, m in ipairs(req.messages) do
    if m.role == "user" then
      local content = type(m.content) == "string" and { { type = "text", text = m.content } } or m.content
      for _, b in ipairs(type(content) == "table" and content or {}) do
        if
          type(b) == "table"
          and b.type == "text"
          and type(b.text) == "string"
          and not b.text:match("^%s*<system%-reminder>")
        then
          return b.text
        end
      end
    end
  end
  return ""
end

local function offers(req, tool)
  for _, name in ipairs(req.tools) do
    if name == tool then
      return true
    end
  end
  return false
end

-- A request returning tool results in a conversation whose prompt contains `text` (case-insensitive).
local function tool_result_for(text)
  text = text:lower()
  return function(req)
    return req.is_tool_result and req.last_user_text:lower():find(text, 1, true) ~= nil
  end
end

-- The first tool result's text, or a note that there was none.
local function result_text(req)
  local r = req.tool_results[1]
  if not r then
    return "(no result)", false
  end
  -- (newer CLIs append system reminders to a tool's result)
  local text = r.text:gsub("%s*<system%-reminder>.-</system%-reminder>%s*", "")
  return text, r.is_error
end

local function pieces_of(text)
  local out = {}
  for w in text:gmatch("%S+%s*") do
    out[#out + 1] = w
  end
  return out
end

local function counting(to)
  local pieces = {}
  for i = 1, to do
    pieces[i] = (i == 1 and "" or ", ") .. i
  end
  pieces[#pieces + 1] = "."
  return pieces
end

-- The custom agents of agents.py: the main turn calls the Agent tool, the subagent (its own request, with the
-- agent's prompt as system prompt) writes a report, and the main turn passes it on. CLIs from about 2.1.300 on
-- may bring the report back as a task notification instead of the tool's result: both are read raw.
local function agent_rules(rules, a)
  -- (first: a task notification repeats no prompt text, so the trigger would match it too)
  rules[#rules + 1] = {
    match = function(req)
      return req.last_user_text:find(a.trigger) ~= nil and last_text(req):find(a.report, 1, true) ~= nil
    end,
    reply = "The " .. a.agent .. " agent reports: " .. a.report,
  }
  rules[#rules + 1] = {
    match = { pattern = a.trigger },
    reply = {
      text = "I'll ask the " .. a.agent .. " agent to do this.",
      tool_use = {
        name = "Agent",
        input = {
          description = a.description,
          subagent_type = a.agent,
          prompt = a.prompt,
          run_in_background = false,
        },
      },
    },
  }
  rules[#rules + 1] = { match = { text = a.prompt, system = a.system }, reply = a.report }
end

-- A Bash command run on request, then what it printed (or why it did not run).
local function bash_reply(command)
  return { tool_use = { name = "Bash", input = { command = command, description = "Run the requested command" } } }
end
local function bash_outcome(req)
  local text, is_error = result_text(req)
  if is_error then
    return "The command did not succeed: " .. text
  end
  return "The command printed: " .. text
end

local rules = {}

-- quick_start.py
rules[#rules + 1] = {
  match = "Explain what Python is in one sentence",
  reply = "Python is a high-level, general-purpose programming language known for its readable syntax.",
}
rules[#rules + 1] = {
  match = { pattern = "^Create a file called hello%.txt with 'Hello, World!' in it" },
  reply = { tool_use = { name = "Write", input = { file_path = "hello.txt", content = "Hello, World!" } } },
}
rules[#rules + 1] = {
  match = tool_result_for("Create a file called hello.txt"),
  reply = function(req)
    local text, is_error = result_text(req)
    if is_error then
      return "I could not create hello.txt: " .. text
    end
    return "I created hello.txt containing 'Hello, World!'."
  end,
}

-- system_prompt.py: the answer shows which system prompt the model was given.
rules[#rules + 1] = {
  match = { pattern = "2%s*%+%s*2", system = "pirate assistant" },
  reply = "Arr, matey! 2 + 2 be 4, as sure as the tide!",
}
rules[#rules + 1] = {
  match = { pattern = "2%s*%+%s*2", system = "end your response with a fun fact" },
  reply = "2 + 2 = 4.\n\nFun fact: the plus sign was first printed in 1489, in a German arithmetic book.",
}

-- agents.py
agent_rules(rules, {
  trigger = "^Use the code%-reviewer agent",
  agent = "code-reviewer",
  description = "Review types.py",
  prompt = "Review the code in src/claude_agent_sdk/types.py for bugs, performance, security and best practices.",
  system = "You are a code reviewer",
  report = "Code review done: the dataclasses are well typed; consider documenting the optional fields.",
})
agent_rules(rules, {
  trigger = "^Use the doc%-writer agent",
  agent = "doc-writer",
  description = "Explain AgentDefinition",
  prompt = "Write a short explanation of what AgentDefinition is used for, with an example.",
  system = "technical documentation expert",
  report = "AgentDefinition describes a custom subagent: its description, its prompt, its tools and its model.",
})
agent_rules(rules, {
  trigger = "^Use the analyzer agent",
  agent = "analyzer",
  description = "Find Python files",
  prompt = "Find all Python files in the examples/ directory and list them.",
  system = "You are a code analyzer",
  report = "Python files in examples/: each example is one file, named after what it shows.",
})

-- filesystem_agents.py
rules[#rules + 1] = { match = "Say hello in exactly 3 words", reply = "Hello there, friend!" }

-- hooks.py and streaming_mode.py: Bash commands asked for by name.
rules[#rules + 1] = {
  match = { pattern = "^Run th%a+ [%a ]-command: .+" },
  reply = function(req)
    return bash_reply(req.last_user_text:match("^Run th%a+ [%a ]-command: (.-)%s*$"))
  end,
}
rules[#rules + 1] = { match = tool_result_for("command: "), reply = bash_outcome }
rules[#rules + 1] = {
  match = { pattern = "^Run a bash echo command that says '[^']*'" },
  reply = function(req)
    return bash_reply("echo '" .. req.last_user_text:match("^Run a bash echo command that says '([^']*)'") .. "'")
  end,
}
rules[#rules + 1] = { match = tool_result_for("Run a bash echo command"), reply = bash_outcome }
-- hooks.py UserPromptSubmit: the hook's additionalContext reaches the model with the prompt.
rules[#rules + 1] = {
  match = "What's my favorite color?",
  reply = function(req)
    if all_text(req):find("hot pink", 1, true) then
      return "Your favorite color is hot pink!"
    end
    return "I don't know your favorite color yet."
  end,
}
-- hooks.py DecisionFields
rules[#rules + 1] = {
  match = { pattern = "^Write the text '[^']*' to a file called %S+" },
  reply = function(req)
    local text, file = req.last_user_text:match("^Write the text '([^']*)' to a file called (%S+)")
    return { tool_use = { name = "Write", input = { file_path = file, content = text } } }
  end,
}
rules[#rules + 1] = {
  match = tool_result_for("to a file called"),
  reply = function(req)
    local file = req.last_user_text:match("to a file called (%S+)")
    local text, is_error = result_text(req)
    if is_error then
      return "I could not write " .. file .. ": " .. text
    end
    return "I wrote the text to " .. file .. "."
  end,
}

-- include_partial_messages.py: thinking, then text, each in several deltas.
rules[#rules + 1] = {
  match = "Think of three jokes, then tell one",
  reply = {
    thinking = pieces_of(
      "Three jokes: one about dark mode, one about recursion, one about off-by-one errors. "
        .. "The dark mode one is the shortest."
    ),
    text = pieces_of("Why do programmers prefer dark mode? Because light attracts bugs."),
  },
}

-- max_budget_usd.py
rules[#rules + 1] = {
  match = "Read the README.md file and summarize it",
  reply = { tool_use = { name = "Read", input = { file_path = "README.md" } } },
}
rules[#rules + 1] = {
  match = tool_result_for("Read the README.md file"),
  reply = function(req)
    local text, is_error = result_text(req)
    if is_error then
      return "I could not read README.md: " .. text
    end
    return "README.md starts with: " .. (text:match("[^\n]+") or "")
  end,
}

-- mcp_calculator.py: only when the calculator's tools are offered. Newer CLIs (2.1.3xx) offer MCP tools deferred:
-- named in a system reminder, loaded with the ToolSearch tool ("select:<names>") before they can be called.
local CALC = { "add", "subtract", "multiply", "divide", "sqrt", "power" }
local function calc_names(req)
  local names, text = {}, nil
  for _, t in ipairs(CALC) do
    local name = "mcp__calc__" .. t
    if offers(req, name) then
      names[#names + 1] = t
    else
      text = text or all_text(req)
      if text:find(name, 1, true) then
        names[#names + 1] = t
      end
    end
  end
  return names
end
local function calc(req)
  return #calc_names(req) > 0
end
local function n(x)
  return tonumber(x)
end
-- Each prompt's tool calls, in order; a step gets the number the previous result ended with.
local PLANS = {
  {
    "^Calculate (%d+) %+ (%d+)$",
    function(a, b)
      return { {
        "add",
        function()
          return { a = n(a), b = n(b) }
        end,
      } }
    end,
  },
  {
    "^What is (%d+) divided by (%d+)%?$",
    function(a, b)
      return { {
        "divide",
        function()
          return { a = n(a), b = n(b) }
        end,
      } }
    end,
  },
  {
    "^Calculate the square root of (%d+)$",
    function(x)
      return { {
        "sqrt",
        function()
          return { n = n(x) }
        end,
      } }
    end,
  },
  {
    "^What is (%d+) raised to the power of (%d+)%?$",
    function(a, b)
      return {
        {
          "power",
          function()
            return { base = n(a), exponent = n(b) }
          end,
        },
      }
    end,
  },
  -- "(12 + 8) * 3 - 10": add, multiply, subtract, one tool use per turn, each from the previous result.
  {
    "^Calculate %((%d+) %+ (%d+)%) %* (%d+) %- (%d+)$",
    function(a, b, c, d)
      return {
        {
          "add",
          function()
            return { a = n(a), b = n(b) }
          end,
        },
        {
          "multiply",
          function(last)
            return { a = last, b = n(c) }
          end,
        },
        {
          "subtract",
          function(last)
            return { a = last, b = n(d) }
          end,
        },
      }
    end,
  },
}
local function plan_for(text)
  for _, p in ipairs(PLANS) do
    if text:find(p[1]) then
      return p[2](text:match(p[1]))
    end
  end
  return nil
end
rules[#rules + 1] = {
  match = function(req)
    return calc(req) and not req.is_tool_result and req.last_user_text == "List your tools"
  end,
  reply = function(req)
    return "My calculator tools are: " .. table.concat(calc_names(req), ", ") .. "."
  end,
}
rules[#rules + 1] = {
  match = function(req)
    return calc(req) and plan_for(first_prompt(req)) ~= nil
  end,
  reply = function(req)
    local prompt = first_prompt(req)
    local steps = plan_for(prompt)
    local calls, searched = 0, false
    for _, u in ipairs(tool_uses(req)) do
      if u.name == "ToolSearch" then
        searched = true
      else
        calls = calls + 1
      end
    end
    local text, is_error = result_text(req)
    if is_error then
      return "The calculator said: " .. text
    end
    local last = text:match("= (%-?[%d%.]+)%s*$")
    if calls < #steps then
      local step = steps[calls + 1]
      local tool = "mcp__calc__" .. step[1]
      if not offers(req, tool) then
        if searched then
          return "The calculator tool " .. step[1] .. " could not be loaded."
        end
        local all = {}
        for i, t in ipairs(calc_names(req)) do
          all[i] = "mcp__calc__" .. t
        end
        return { tool_use = { name = "ToolSearch", input = { query = "select:" .. table.concat(all, ",") } } }
      end
      return { tool_use = { name = tool, input = step[2](n(last)) } }
    end
    if #steps == 1 then
      return "The result: " .. text
    end
    return prompt:gsub("^Calculate ", "") .. " = " .. (last or text) .. "."
  end,
}

-- plugin_example.py
rules[#rules + 1] = { match = { pattern = "^Hello!$" }, reply = "Hello! How can I help you today?" }

-- streaming_mode.py
rules[#rules + 1] = {
  match = "List 5 programming languages and their main use cases",
  reply = "1. Python - data science, scripting and web back ends\n2. JavaScript - web front ends and Node.js "
    .. "servers\n3. Java - enterprise applications and Android\n4. C++ - games, browsers and systems software\n"
    .. "5. Go - cloud services and command-line tools",
}
rules[#rules + 1] = {
  match = "Create a simple hello.txt file with a greeting message",
  reply = {
    tool_use = { name = "Write", input = { file_path = "hello.txt", content = "Hello! Have a wonderful day.\n" } },
  },
}
rules[#rules + 1] = {
  match = tool_result_for("Create a simple hello.txt file"),
  reply = function(req)
    local text, is_error = result_text(req)
    if is_error then
      return "I could not create hello.txt: " .. text
    end
    return "I created hello.txt with a friendly greeting."
  end,
}
rules[#rules + 1] = {
  match = { pattern = "^Hello! I have multiple questions%.$" },
  reply = "Hello! Happy to help. What would you like to know?",
}
rules[#rules + 1] = { match = "Count from 1 to 20 slowly", reply = { text = counting(20), delay_ms = 300 } }
rules[#rules + 1] = { match = "Just say 'Hello!'", reply = "Hello!" }

-- tools_option.py: the tools the CLI offered.
rules[#rules + 1] = {
  match = "What tools do you have available?",
  reply = function(req)
    if #req.tools == 0 then
      return "I have no tools available."
    end
    return "I have " .. #req.tools .. " tools: " .. table.concat(req.tools, ", ") .. "."
  end,
}

-- tool_permission_callback.py: list the files (Bash), write hello.py (Write), run it (Bash), then sum up.
local STEPS = "1. List the files in the current directory"
rules[#rules + 1] = {
  match = function(req)
    return req.last_user_text:find(STEPS, 1, true) ~= nil
  end,
  reply = function(req)
    local done = #tool_uses(req)
    if done == 0 then
      return {
        text = "First, the files here.",
        tool_use = {
          name = "Bash",
          input = { command = "ls", description = "List the files in the current directory" },
        },
      }
    elseif done == 1 then
      return {
        text = "Now the script.",
        tool_use = {
          name = "Write",
          input = { file_path = "hello.py", content = 'print("Hello, World!")\n' },
        },
      }
    elseif done == 2 then
      local text, is_error = result_text(req)
      local path = not is_error and text:match("^File created successfully at: (%S+)")
      if not path then
        return "I could not write the script: " .. text
      end
      return {
        text = "Let me run it.",
        tool_use = {
          name = "Bash",
          input = { command = "python3 " .. path, description = "Run the hello world script" },
        },
      }
    end
    local text, is_error = result_text(req)
    if is_error then
      return "The script did not run: " .. text
    end
    return "Done: the script printed " .. text
  end,
}

for _, rule in ipairs(base) do
  rules[#rules + 1] = rule
end
rules.default = base.default
rules.side = base.side

return rules
