--- The demo script of the offline model server: canned answers for the prompts of the SDK's documentation
--- examples, so every example runs offline with the real CLI and prints something sensible.
---
--- Contract: returns a rules table (see `claude-offline-model --help`). Highlights: "What's the population of
--- that city?" answers about Paris only when Paris appears earlier in the conversation the CLI sent (proof that the
--- CLI passed the history on), and "Which city do you mean?" otherwise; "Count from 1 to 100 slowly" streams for
--- about 30 s (100 deltas, 300 ms apart) so an interrupt can land mid-stream; "Run a bash sleep command for 60
--- seconds" streams for about 20 s so a 10 s timeout fires; "Start a long-running task" starts a subagent (the Agent
--- tool), which shows task_started / task_notification messages. Anything else gets a friendly echo.
---
--- Example: `ModelServer.new({ script = require("claude_agent_sdk.testing.scripts.default") })`

local function format_number(n)
  if n == math.floor(n) and math.abs(n) < 1e15 then
    return string.format("%d", n)
  end
  return (string.format("%.6f", n):gsub("0+$", ""):gsub("%.$", ""))
end

-- "1", ", 2", ..., ", 100": one streamed delta per number.
local function counting(to)
  local pieces = {}
  for i = 1, to do
    pieces[i] = (i == 1 and "" or ", ") .. i
  end
  pieces[#pieces + 1] = "."
  return pieces
end

local function pieces_of(words)
  local out = {}
  for w in words:gmatch("%S+%s*") do
    out[#out + 1] = w
  end
  return out
end

return {
  { match = { pattern = "2%s*%+%s*2" }, reply = "2 + 2 = 4." },
  { match = "capital of France", reply = "The capital of France is Paris." },
  { match = "capital of Japan", reply = "The capital of Japan is Tokyo." },
  {
    match = "population of that city",
    reply = function(req)
      if req.history_text:find("Paris", 1, true) then
        return "Paris has about 2.1 million inhabitants in the city proper, and over 12 million in its "
          .. "metropolitan area."
      end
      return "Which city do you mean?"
    end,
  },
  {
    match = { pattern = "(%d+%.?%d*)%%%s+of%s+(%d+%.?%d*)" },
    reply = function(req)
      local pct, base = req.last_user_text:match("(%d+%.?%d*)%%%s+of%s+(%d+%.?%d*)")
      local value = tonumber(pct) * tonumber(base) / 100
      return pct .. "% of " .. base .. " is " .. format_number(value) .. "."
    end,
  },
  {
    match = { pattern = "square root of%s+%d+" },
    reply = function(req)
      local n = req.last_user_text:match("square root of%s+(%d+)")
      return "The square root of " .. n .. " is " .. format_number(math.sqrt(tonumber(n))) .. "."
    end,
  },
  {
    match = "What is Python",
    reply = "Python is a high-level, general-purpose programming language known for its "
      .. "readable syntax, its large standard library and a huge ecosystem of packages.",
  },
  {
    match = "Python function",
    reply = "Here is a small Python function to start from:\n\n```python\n"
      .. 'def greet(name: str) -> str:\n    """Return a friendly greeting."""\n    return f"Hello, {name}!"\n'
      .. "```\n\nTell me what it should do and I will adapt it.",
  },
  { match = "I have questions", reply = "Hello! Happy to help. What would you like to know?" },
  {
    match = "async/await",
    reply = "async/await lets you write asynchronous code that reads like sequential code: "
      .. "an `async` function returns a coroutine, and `await` pauses it until the awaited result is ready.",
  },
  { match = "joke", reply = "Why do programmers prefer dark mode? Because light attracts bugs." },
  {
    match = "Count from 1 to 100",
    reply = { text = counting(100), delay_ms = 300 },
  },
  {
    match = "sleep command",
    reply = {
      text = pieces_of(
        "Running the sleep command now. This will take a while, so I will keep you posted "
          .. "while it runs. Still waiting... nearly there. Done."
      ),
      delay_ms = 1000,
    },
  },
  {
    match = "analyze this codebase",
    reply = {
      thinking = "The user wants an overview of the codebase. I should look at its structure, the main modules "
        .. "and the tests, then point out what could be improved.",
      text = "Here is my analysis: the code is split into small modules with clear jobs, and the tests cover the "
        .. "main paths. I would add error handling around I/O and a few tests for edge cases.",
    },
  },
  {
    match = "complex problem",
    reply = {
      thinking = "Break the problem into parts, solve each part, then check the whole answer.",
      text = "I broke the problem into smaller parts, solved each one and checked the combined result.",
    },
  },
  {
    match = "implement the fixes",
    reply = "I have implemented the fixes: error handling around I/O and tests for "
      .. "the edge cases (this is the offline model, so no files were changed).",
  },
  -- CLIs from about 2.1.300 on run the subagent in the background and bring
  -- its report back as a task notification in a turn of its own (older ones
  -- return it as the tool's result, below).  The notification is a system
  -- reminder, which is not prompt text (the last prompt, "Start a
  -- long-running task", would start the task again): read the raw message.
  {
    match = function(req)
      local last = req.messages[#req.messages]
      local content = type(last) == "table" and last.role == "user" and last.content
      if type(content) == "string" then
        content = { { text = content } }
      end
      for _, b in ipairs(type(content) == "table" and content or {}) do
        if type(b) == "table" and type(b.text) == "string" and b.text:find("All three steps are complete", 1, true) then
          return true
        end
      end
      return false
    end,
    reply = "The long-running task has finished: all three steps are complete.",
  },
  {
    match = "long-running task",
    reply = {
      text = "Starting the task in a background agent.",
      tool_use = {
        name = "Agent",
        input = {
          description = "Long-running task",
          subagent_type = "general-purpose",
          prompt = "Work through the three steps of the job, one at a time, and report back.",
        },
      },
    },
  },
  -- The subagent's own request (its prompt above): stream for a few seconds, then report.
  {
    match = "three steps of the job",
    reply = {
      text = pieces_of("Step 1 done. Step 2 done. Step 3 done. All three steps are complete."),
      delay_ms = 250,
    },
  },
  {
    match = { tool_result = "All three steps are complete" },
    reply = "The long-running task has finished: all " .. "three steps are complete.",
  },
  default = function(req)
    if req.is_tool_result then
      local r = req.tool_results[1]
      return "The tool returned: " .. (r and r.text or "")
    end
    if req.last_user_text == "" then
      return "Hello from the offline model! Ask me anything."
    end
    return "(offline model) You said: " .. req.last_user_text
  end,
}
