-- The Lua ports of the Python SDK's examples (examples/python/*.lua), each run as a child process the way a user
-- runs it: the interpreter named by $SPEC_LUA (default: the one running busted), LUA_PATH/LUA_CPATH for the built
-- tree, the real claude CLI found through $CLAUDE_CLI_PATH, and the model reached through ANTHROPIC_BASE_URL: the
-- offline model server with examples/scripts/python_examples.lua. Each run gets a fresh HOME and a fresh working
-- directory (under build/, not under /tmp: tool_permission_callback treats /tmp/ paths apart).
--
-- The runs take from 2 to about 35 s each (async_iterable_prompt waits out its 30 s timeout, as the Python original
-- does; concurrent_responses sleeps 11 s), so they all start in setup, a few at a time, longest first, and each
-- test then checks one run's exit status and output: text only a working example prints.
local h = require("support.helpers")
local testing = require("claude_agent_sdk.testing")
local core = require("claude_agent_sdk.core")

local ROOT = h.ROOT
local CLI, why = h.cli_path()
local SPEC_LUA = os.getenv("SPEC_LUA")
if SPEC_LUA == nil or SPEC_LUA == "" then
  SPEC_LUA = rawget(_G, "jit") and "luajit" or ("lua" .. _VERSION:match("%d+%.%d+"))
end
-- The build directory of that interpreter, as the Makefile names it (build/lua5.4, build/luajit).
local TAG = SPEC_LUA:match("([^/]+)$")
local PARALLEL = tonumber(os.getenv("PY_EXAMPLES_JOBS") or "") or 4

local q = h.sh_quote

local function has(out, text)
  assert(out:find(text, 1, true), ("expected %q in the output:\n%s"):format(text, out))
end

local function matches(out, pattern)
  assert(out:find(pattern), ("expected a match for %q in the output:\n%s"):format(pattern, out))
end

local function lacks(out, text)
  assert(not out:find(text, 1, true), ("did not expect %q in the output:\n%s"):format(text, out))
end

local function before(out, a, b)
  local i = out:find(a, 1, true)
  local j = i and out:find(b, i + #a, true)
  assert(i and j, ("expected %q before %q in the output:\n%s"):format(a, b, out))
end

local function count(out, text)
  local n, i = 0, 1
  while true do
    local j = out:find(text, i, true)
    if not j then
      return n
    end
    n, i = n + 1, j + #text
  end
end

local function read(path)
  local f = io.open(path, "r")
  if not f then
    return nil
  end
  local s = f:read("*a")
  f:close()
  return s
end

-- Every run: an id, the example file, its arguments, its time limit (s: generous, for a CI machine running several
-- suites side by side). The longest come first.
local RUNS = {
  { "mcp_calculator", "mcp_calculator.lua", "", 300 },
  { "streaming_mode async_iterable_prompt", "streaming_mode.lua", "async_iterable_prompt", 300 },
  { "hooks PreToolUse", "hooks.lua", "PreToolUse", 300 },
  { "hooks DecisionFields", "hooks.lua", "DecisionFields", 300 },
  { "streaming_mode concurrent_responses", "streaming_mode.lua", "concurrent_responses", 300 },
  { "setting_sources all", "setting_sources.lua", "all", 300 },
  { "agents", "agents.lua", "", 300 },
  { "quick_start", "quick_start.lua", "", 300 },
  { "max_budget_usd", "max_budget_usd.lua", "", 300 },
  { "system_prompt", "system_prompt.lua", "", 300 },
  { "tools_option", "tools_option.lua", "", 300 },
  { "streaming_mode with_interrupt", "streaming_mode.lua", "with_interrupt", 300 },
  { "streaming_mode control_protocol", "streaming_mode.lua", "control_protocol", 300 },
  { "streaming_mode error_handling", "streaming_mode.lua", "error_handling", 300 },
  { "streaming_mode multi_turn_conversation", "streaming_mode.lua", "multi_turn_conversation", 300 },
  { "tool_permission_callback", "tool_permission_callback.lua", "", 300 },
  { "streaming_mode bash_command", "streaming_mode.lua", "bash_command", 300 },
  { "streaming_mode with_options", "streaming_mode.lua", "with_options", 300 },
  { "streaming_mode manual_message_handling", "streaming_mode.lua", "manual_message_handling", 300 },
  { "streaming_mode basic_streaming", "streaming_mode.lua", "basic_streaming", 300 },
  { "include_partial_messages", "include_partial_messages.lua", "", 300 },
  { "filesystem_agents", "filesystem_agents.lua", "", 300 },
  { "plugin_example", "plugin_example.lua", "", 300 },
  { "stderr_callback_example", "stderr_callback_example.lua", "", 300 },
  { "hooks UserPromptSubmit", "hooks.lua", "UserPromptSubmit", 300 },
  { "hooks PostToolUse", "hooks.lua", "PostToolUse", 300 },
  { "hooks ContinueControl", "hooks.lua", "ContinueControl", 300 },
  { "hooks (no argument)", "hooks.lua", "", 60 },
  { "streaming_mode (unknown example)", "streaming_mode.lua", "nonesuch", 60 },
}

describe("examples/python/", function()
  if not CLI then
    pending("skipped: " .. why)
    return
  end

  local srv, work
  local results = {} -- id -> { status, out, cwd }

  -- Start every run, PARALLEL at a time, and wait for all of them.
  setup(function()
    srv = h.start_server(ROOT .. "/examples/scripts/python_examples.lua")
    -- (not under /tmp/: tool_permission_callback, like its Python original, lets writes under /tmp/ through
    -- and redirects the rest, so a checkout in /tmp would change what it does)
    local base = ROOT:find("^/tmp/") and "/var/tmp" or (ROOT .. "/build")
    local p = assert(io.popen("mktemp -d " .. q(base .. "/python-examples.XXXXXX")))
    work = p:read("*l")
    p:close()
    local uv = require("luv")
    local pending_runs, running = {}, {}
    for i, r in ipairs(RUNS) do
      pending_runs[i] = r
    end
    local function start(i, r)
      local dir = work .. "/" .. i
      local env, home = testing.cli_env({ url = srv.url, home = dir .. "/home" })
      env.LUA_PATH = ROOT .. "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua;;"
      env.LUA_CPATH = ROOT .. "/build/" .. TAG .. "/?.so;;"
      env.CLAUDE_CLI_PATH = CLI
      local vars = {}
      for k, v in pairs(env) do
        vars[#vars + 1] = k .. "=" .. q(v)
      end
      table.sort(vars)
      local cmd = (
        "mkdir -p %s %s/cwd && cd %s/cwd && env %s timeout -k 5 %d %s %s %s </dev/null >%s/out 2>&1; "
        .. "echo $? >%s/rc.tmp && mv %s/rc.tmp %s/rc"
      ):format(
        q(home),
        q(dir),
        q(dir),
        table.concat(vars, " "),
        r[4],
        q(SPEC_LUA),
        q(ROOT .. "/examples/python/" .. r[2]),
        r[3],
        q(dir),
        q(dir),
        q(dir),
        q(dir),
        q(dir)
      )
      os.execute("(" .. cmd .. ") >/dev/null 2>&1 &")
      running[#running + 1] = { id = r[1], dir = dir, t0 = core.now() }
    end
    local n = 0
    while #pending_runs > 0 or #running > 0 do
      while #running < PARALLEL and #pending_runs > 0 do
        n = n + 1
        start(n, table.remove(pending_runs, 1))
      end
      uv.sleep(100)
      for i = #running, 1, -1 do
        local run = running[i]
        local rc = read(run.dir .. "/rc")
        if rc then
          results[run.id] = {
            status = tonumber(rc),
            out = read(run.dir .. "/out") or "",
            cwd = run.dir .. "/cwd",
            seconds = (core.now() - run.t0) / 1000,
          }
          table.remove(running, i)
        end
      end
    end
  end)

  teardown(function()
    if os.getenv("PY_EXAMPLES_TIMES") then
      for id, r in pairs(results) do
        io.stderr:write(("%6.1f s  %s\n"):format(r.seconds, id))
      end
    end
    h.stop_server(srv)
    if work then
      os.execute("rm -rf " .. q(work))
    end
  end)

  -- The output of a run that exited with `status` (default 0).
  local function run(id, status)
    local r = assert(results[id], "no run " .. id)
    assert(
      r.status == (status or 0),
      ("%s exited with status %s after %.1f s; output:\n%s"):format(id, tostring(r.status), r.seconds, r.out)
    )
    return r.out, r.cwd
  end

  it("every port names its Python original and says how to run it, under both interpreters", function()
    local p = assert(io.popen("ls " .. q(ROOT .. "/examples/python")))
    local names = {}
    for f in p:lines() do
      if f:match("%.lua$") then
        names[#names + 1] = f
      end
    end
    p:close()
    assert.are.equal(14, #names, table.concat(names, " "))
    for _, f in ipairs(names) do
      local text = assert(read(ROOT .. "/examples/python/" .. f))
      local head = ("-- examples/python/%s: the Lua port of the Python SDK's"):format(f)
      assert(text:sub(1, #head) == head, f .. ": the header must start with `" .. head .. "`")
      matches(text, "examples/" .. f:gsub("%.lua$", "%%.py"):gsub("%-", "%%-"))
      has(text, "lua5.4 examples/python/" .. f)
      has(text, "luajit examples/python/" .. f)
    end
  end)

  it("quick_start answers with no options, with a system prompt, and writes hello.txt with the Write tool", function()
    local out, cwd = run("quick_start")
    before(out, "=== Basic Example ===", "Claude: 2 + 2 = 4.")
    before(out, "=== With Options Example ===", "Claude: Python is a high-level, general-purpose programming")
    before(out, "=== With Tools Example ===", "Claude: I created hello.txt containing 'Hello, World!'.")
    matches(out, "\nCost: %$%d+%.%d%d%d%d\n")
    assert.are.equal("Hello, World!", read(cwd .. "/hello.txt"))
  end)

  it("agents: each custom agent is called through the Agent tool and its report comes back", function()
    local out = run("agents")
    for _, agent in ipairs({ "code-reviewer", "doc-writer", "analyzer" }) do
      before(
        out,
        "Claude: I'll ask the " .. agent .. " agent to do this.",
        "Claude: The " .. agent .. " agent reports: "
      )
    end
    has(out, "reports: Code review done: the dataclasses are well typed")
    has(out, "reports: AgentDefinition describes a custom subagent")
    assert.are.equal(3, select(2, out:gsub("\nCost: %$%d+%.%d%d%d%d\n", "")))
    -- The subagents got the agents' own prompts as their system prompts.
    local seen = {}
    for _, req in ipairs(h.requests(srv)) do
      local body = req.body and require("claude_agent_sdk.json").encode(req.body.system or "") or ""
      for _, s in ipairs({ "You are a code reviewer", "technical documentation expert", "You are a code analyzer" }) do
        if body:find(s, 1, true) then
          seen[s] = true
        end
      end
    end
    assert.is_true(
      seen["You are a code reviewer"] and seen["technical documentation expert"] and seen["You are a code analyzer"]
        or false,
      "a subagent never ran with its agent's prompt"
    )
  end)

  it("filesystem_agents loads test-agent from examples/.claude/agents and gets the whole response", function()
    local out = run("filesystem_agents")
    matches(out, "Init message received%. Agents loaded: %[[^\n]*'test%-agent'[^\n]*%]\n")
    has(out, "Assistant: Hello there, friend!")
    matches(out, "Result: subtype=success, cost=%$%d+%.%d%d%d%d\n")
    has(out, "Message types received: ['SystemMessage', 'AssistantMessage', 'ResultMessage']")
    has(out, "SUCCESS: Received full response (init, assistant, result)")
    has(out, "SUCCESS: test-agent was loaded from filesystem")
  end)

  it("hooks with no argument lists the examples and starts no session", function()
    local out = run("hooks (no argument)")
    has(out, "Usage: lua hooks.lua <example_name>")
    has(out, "  ContinueControl  - Control execution with continue_ and stopReason")
  end)

  it("hooks PreToolUse blocks the command with foo.sh and lets the echo run", function()
    local out = run("hooks PreToolUse")
    -- the hook's deny reason reaches the model as the tool's error
    before(out, "User: Run the bash command: ./foo.sh --help", "Claude: The command did not succeed: ")
    has(out, "Command contains invalid pattern: foo.sh")
    has(out, "Blocked command: ./foo.sh --help")
    before(
      out,
      "User: Run the bash command: echo 'Hello from hooks example!'",
      "Claude: The command printed: Hello from hooks example!"
    )
    assert.are.equal(2, count(out, "Result ended"))
  end)

  it("hooks UserPromptSubmit: the CLI refuses the example's hook output, as it does the Python original's", function()
    -- The Python example's hook answers with hookEventName "SessionStart", which the CLI rejects: the turn ends with
    -- an error result before the model is asked (both SDKs alike).
    local out = run("hooks UserPromptSubmit")
    before(out, "User: What's my favorite color?", "Result ended")
  end)

  it("hooks PostToolUse reviews the failing ls", function()
    local out = run("hooks PostToolUse")
    before(
      out,
      "User: Run a command that will produce an error: ls /nonexistent_directory",
      "ls: cannot access '/nonexistent_directory'"
    )
    has(out, "Result ended")
  end)

  it("hooks DecisionFields denies the write to important_config.txt and allows regular_file.txt", function()
    local out, cwd = run("hooks DecisionFields")
    has(out, "Claude: I could not write important_config.txt: Security policy blocks writes to important files")
    has(out, "Blocked Write to: ")
    has(out, "Claude: I wrote the text to regular_file.txt.")
    assert.are.equal("test data", read(cwd .. "/regular_file.txt"))
    assert.is_nil(read(cwd .. "/important_config.txt"))
  end)

  it("hooks ContinueControl stops the session after the CRITICAL output", function()
    local out = run("hooks ContinueControl")
    has(out, "Critical error detected - stopping execution")
    has(out, "Result ended")
    -- the model is not asked again after the tool ran
    lacks(out, "The command printed: CRITICAL ERROR")
  end)

  it("include_partial_messages prints the stream events between the whole messages", function()
    local out = run("include_partial_messages")
    has(out, "Prompt: Think of three jokes, then tell one")
    has(out, 'type="content_block_start"')
    has(out, 'thinking="Three "')
    has(out, 'type="text_delta"')
    has(out, 'type="message_stop"')
    before(out, "StreamEvent(", 'AssistantMessage(model="claude-sonnet-4-5"')
    has(out, "Why do programmers prefer dark mode? Because light attracts bugs.")
    has(out, 'ResultMessage(subtype="success"')
  end)

  it(
    "max_budget_usd: two answers within budget, then the budget error (raised after its result, as in Python)",
    function()
      local out = run("max_budget_usd", 1)
      assert.are.equal(2, count(out, "Claude: 2 + 2 = 4.\nTotal cost: $"))
      assert.are.equal(2, count(out, "Status: success"))
      has(out, "Status: error_max_budget_usd")
      has(out, "⚠️  Budget limit exceeded!")
      -- (the error is on stderr and the rest on a buffered stdout: their order in one file says nothing)
      has(out, "ResultError")
      has(out, "Reached maximum budget ($0.0001)")
      lacks(out, "Note: Budget checking happens after each API call completes")
    end
  )

  it("mcp_calculator: the model calls each calculator tool and gets Python's texts back", function()
    local out = run("mcp_calculator")
    has(out, "Claude: My calculator tools are: add, subtract, multiply, divide, sqrt, power.")
    for _, tool in ipairs({ "add", "divide", "sqrt", "power", "multiply", "subtract" }) do
      has(out, "Using tool: mcp__calc__" .. tool)
    end
    has(out, '  Input: {"')
    has(out, "Claude: The result: 15 + 27 = 42")
    has(out, "Claude: The result: 100 ÷ 7 = 14.285714285714286")
    has(out, "Claude: The result: √144 = 12.0")
    has(out, "Claude: The result: 2^8 = 256")
    has(out, '"text":"12 + 8 = 20"')
    has(out, '"text":"20 × 3 = 60"')
    has(out, "Claude: (12 + 8) * 3 - 10 = 50.")
    assert.are.equal(6, count(out, "Result ended\nCost: $"))
  end)

  it("plugin_example loads the demo plugin and finds it in the init message", function()
    local out = run("plugin_example")
    local path = ROOT .. "/examples/python/plugins/demo-plugin"
    has(out, "Loading plugin from: " .. path .. "\n")
    has(out, "System initialized!")
    matches(out, "System message data keys: %[[^\n]*'plugins'[^\n]*%]\n")
    has(out, "  - demo-plugin (path: " .. path .. ")")
    has(out, "Plugin successfully configured!")
  end)

  it("setting_sources all: /commit comes from examples/.claude/commands only with the project source", function()
    local out = run("setting_sources all")
    has(out, "✓ /commit is available (expected: CLI defaults loaded)")
    has(out, "✓ /commit is NOT available (expected: sources disabled)")
    has(out, "✓ /commit is NOT available (expected)")
    has(out, "✓ /commit is available (expected)")
    lacks(out, "❌")
    assert.are.equal(4, count(out, "Available slash commands: ["))
  end)

  it("stderr_callback_example runs its query and counts the CLI's stderr lines", function()
    local out = run("stderr_callback_example")
    has(out, "Running query with stderr capture...")
    matches(out, "\nCaptured %d+ stderr lines\n")
  end)

  it("streaming_mode with an unknown example name says so and exits 1", function()
    local out = run("streaming_mode (unknown example)", 1)
    has(out, "Error: Unknown example 'nonesuch'")
    has(out, "  error_handling")
  end)

  it("streaming_mode basic_streaming", function()
    local out = run("streaming_mode basic_streaming")
    before(out, "User: What is 2+2?", "Claude: 2 + 2 = 4.\nResult ended\n")
  end)

  it("streaming_mode multi_turn_conversation answers the follow-up from the first turn's context", function()
    local out = run("streaming_mode multi_turn_conversation")
    before(out, "Claude: The capital of France is Paris.", "User: What's the population of that city?")
    has(out, "Claude: Paris has about 2.1 million inhabitants")
    assert.are.equal(2, count(out, "Result ended"))
  end)

  it("streaming_mode concurrent_responses receives in a background task while it sends", function()
    local out = run("streaming_mode concurrent_responses")
    before(out, "User: What is 2 + 2?", "Claude: 2 + 2 = 4.")
    before(out, "User: What is the square root of 144?", "Claude: The square root of 144 is 12.")
    before(out, "User: What is 10% of 80?", "Claude: 10% of 80 is 8.")
  end)

  it("streaming_mode with_interrupt interrupts the count, then the session takes the next query", function()
    local out = run("streaming_mode with_interrupt")
    before(out, "User: Count from 1 to 100 slowly", "[After 2 seconds, sending interrupt...]")
    before(out, "[After 2 seconds, sending interrupt...]", "Result ended")
    lacks(out, ", 100.")
    before(out, "User: Never mind, just tell me a quick joke", "Result ended")
  end)

  it("streaming_mode manual_message_handling finds the five languages", function()
    local out = run("streaming_mode manual_message_handling")
    for _, lang in ipairs({ "Python", "JavaScript", "Java", "C++", "Go" }) do
      has(out, "Found language: " .. lang .. "\n")
    end
    has(out, "Total languages mentioned: 5")
  end)

  it("streaming_mode with_options writes hello.txt with the Write tool", function()
    local out, cwd = run("streaming_mode with_options")
    has(out, "Claude: I created hello.txt with a friendly greeting.")
    has(out, "Tools used: Write")
    assert.are.equal("Hello! Have a wonderful day.\n", read(cwd .. "/hello.txt"))
  end)

  it("streaming_mode async_iterable_prompt answers the streamed messages, then times out after 30 s", function()
    local out = run("streaming_mode async_iterable_prompt")
    before(out, "User: Hello! I have multiple questions.", "User: Second, what's 15% of 200?")
    has(out, "The capital of Japan is Tokyo.")
    has(out, "15% of 200 is 30.")
    assert(results["streaming_mode async_iterable_prompt"].seconds >= 30, "it did not wait out its 30 s timeout")
  end)

  it("streaming_mode bash_command shows the tool use, its result and the message types", function()
    local out = run("streaming_mode bash_command")
    matches(out, "Tool Use: Bash %(id: toolu_[%w_]+%)\n  Command: echo 'Hello from bash!'\n")
    matches(out, "Tool Result %(id: toolu_[%w_]+%): Hello from bash!%.%.%.\n")
    has(out, "Claude: The command printed: Hello from bash!")
    has(out, "Message types received: AssistantMessage, ResultMessage, SystemMessage, UserMessage")
  end)

  it("streaming_mode control_protocol prints the server info and interrupts", function()
    local out = run("streaming_mode control_protocol")
    has(out, "✓ Server info retrieved successfully!")
    matches(out, "  %- Available commands: [1-9]%d*\n")
    has(out, "  - Output style: default")
    has(out, "  - Example commands:\n    • ")
    has(out, "✓ Interrupt sent successfully")
    has(out, "User: Just say 'Hello!'")
  end)

  it("streaming_mode error_handling gives up after 3 s and disconnects", function()
    local out = run("streaming_mode error_handling")
    has(out, "Response timeout after 3 seconds - demonstrating graceful handling")
    matches(out, "Received %d+ messages before timeout")
    lacks(out, "Unexpected error")
    lacks(out, "Connection error")
  end)

  it("system_prompt: the model sees no prompt, the pirate prompt, the preset and the appended fun fact", function()
    local out = run("system_prompt")
    before(out, "=== No System Prompt (Vanilla Claude) ===", "Claude: 2 + 2 = 4.")
    before(out, "=== String System Prompt ===", "Claude: Arr, matey! 2 + 2 be 4")
    before(out, "=== Preset System Prompt (Default) ===", "Claude: 2 + 2 = 4.")
    before(out, "=== Preset System Prompt with Append ===", "Fun fact: the plus sign")
  end)

  it("tool_permission_callback redirects the write, allows the script's run and logs both", function()
    local out, cwd = run("tool_permission_callback")
    has(out, "🔧 Tool Permission Request: Write")
    matches(out, "⚠️  Redirecting write from [^\n]*/hello%.py to %./safe_output/hello%.py\n")
    has(out, "✅ Allowing bash command: python3 ./safe_output/hello.py")
    has(out, "💬 Claude: Done: the script printed Hello, World!")
    matches(out, "   Duration: %d+ms\n")
    has(out, "1. Tool: Write")
    has(out, "2. Tool: Bash")
    has(out, "   Suggestions: [PermissionUpdate(type=")
    assert.are.equal('print("Hello, World!")\n', read(cwd .. "/safe_output/hello.py"))
  end)

  it("tools_option: the init message lists the tools asked for, none, or the preset's", function()
    local out = run("tools_option")
    has(out, "Tools from system message: ['Glob', 'Grep', 'Read']")
    has(out, "Tools from system message: []\n\nClaude: I have no tools available.")
    matches(out, "Tools from system message %(%d+ tools%): %[[^\n]*%]%.%.%.\n")
  end)
end)
