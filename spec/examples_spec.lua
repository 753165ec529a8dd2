-- The runnable examples (examples/NN_*.lua and examples/run_demo.sh), each run as a child process, the way a
-- user runs them: the interpreter named by $SPEC_LUA (default: the one running busted), LUA_PATH/LUA_CPATH for
-- the built tree, the real claude CLI found through $CLAUDE_CLI_PATH, and the model reached through
-- ANTHROPIC_BASE_URL: the offline model server with examples/scripts/examples.lua. Each run gets a fresh HOME.
-- Every check looks at the exit status and at output that only a working example prints.
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

local q = h.sh_quote

local function has(out, text)
  assert(out:find(text, 1, true), ("expected %q in the output:\n%s"):format(text, out))
end

local function matches(out, pattern)
  assert(out:find(pattern), ("expected a match for %q in the output:\n%s"):format(pattern, out))
end

local function before(out, a, b)
  local i, j = out:find(a, 1, true), out:find(b, 1, true)
  assert(i and j and i < j, ("expected %q before %q in the output:\n%s"):format(a, b, out))
end

-- Run `cmd` (a shell command) with `env` added, stdin from `input` (or /dev/null), stdout and stderr together.
-- Runs in `cwd` (default: the project root). Returns the exit status, the output and the seconds it took.
local function sh(cmd, env, input, limit_s, cwd)
  local vars = {}
  for k, v in pairs(env) do
    vars[#vars + 1] = k .. "=" .. q(v)
  end
  table.sort(vars)
  local feed = input and ("printf '%s' " .. q(input) .. " | ") or ""
  local full = ('cd %s && %senv %s timeout -k 5 %d %s %s; echo "[exit $?]"'):format(
    q(cwd or ROOT),
    feed,
    table.concat(vars, " "),
    limit_s or 60,
    cmd,
    input and "2>&1" or "</dev/null 2>&1"
  )
  local t0 = core.now()
  local p = assert(io.popen(full, "r"))
  local out = p:read("*a")
  p:close()
  local elapsed = (core.now() - t0) / 1000
  local status = tonumber(out:match("%[exit (%d+)%]%s*$"))
  out = out:gsub("%[exit %d+%]%s*$", "")
  return status, out, elapsed
end

describe("examples/", function()
  if not CLI then
    pending("skipped: " .. why)
    return
  end

  local srv
  setup(function()
    srv = h.start_server(ROOT .. "/examples/scripts/examples.lua")
  end)
  teardown(function()
    h.stop_server(srv)
  end)

  -- Run examples/<name> with SPEC_LUA; the environment a user would set, and a throwaway HOME.
  local function run(name, input, limit_s)
    local env, home = testing.cli_env({ url = srv.url })
    env.LUA_PATH = ROOT .. "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua;;"
    env.LUA_CPATH = ROOT .. "/build/" .. TAG .. "/?.so;;"
    env.CLAUDE_CLI_PATH = CLI
    local status, out, elapsed = sh(q(SPEC_LUA) .. " examples/" .. name, env, input, limit_s)
    os.execute("rm -rf " .. q(home))
    assert(status == 0, ("examples/%s exited with status %s; output:\n%s"):format(name, tostring(status), out))
    return out, elapsed
  end

  -- Run examples/<name> in headless Neovim, whose own LuaJIT loads the module whatever SPEC_LUA is; its output.
  -- Nil, with the test marked pending, where Neovim cannot run the SDK here.
  local function run_in_nvim(name, limit_s)
    local why = h.nvim_missing()
    if why then
      pending("skipped: " .. why)
      return nil
    end
    local env, home = testing.cli_env({ url = srv.url })
    env.LUA_PATH = ROOT .. "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua;;"
    env.LUA_CPATH = ROOT .. "/build/luajit/?.so;;"
    env.CLAUDE_CLI_PATH = CLI
    env.CLAUDE_EXAMPLE_HEADLESS = "1"
    local status, out = sh("nvim --headless -u NONE -i NONE -c " .. q("luafile examples/" .. name), env, nil, limit_s)
    os.execute("rm -rf " .. q(home))
    assert(status == 0, ("examples/%s exited with status %s; output:\n%s"):format(name, tostring(status), out))
    return out
  end

  it("every example says what it shows and how to run it, under both interpreters", function()
    local p = assert(io.popen("ls " .. q(ROOT .. "/examples")))
    local names = {}
    for f in p:lines() do
      if f:match("^%d%d_[%w_]+%.lua$") then
        names[#names + 1] = f
      end
    end
    p:close()
    assert.is_true(#names >= 11, "expected the 11 examples, found " .. #names)
    for _, f in ipairs(names) do
      local text = assert(io.open(ROOT .. "/examples/" .. f)):read("*a")
      assert(text:sub(1, #f + 4) == "-- " .. f .. ":", f .. ": the header must start with `-- " .. f .. ":`")
      has(text, "lua5.4 examples/" .. f)
      has(text, "luajit examples/" .. f)
    end
  end)

  it("01_basic prints Claude's answer", function()
    local out = run("01_basic.lua")
    has(out, "Claude: 2 + 2 = 4.")
  end)

  it("02_multi_turn answers the second question from the first one's context", function()
    local out = run("02_multi_turn.lua")
    has(out, "User: What's the capital of France?")
    has(out, "Claude: The capital of France is Paris.")
    has(out, "User: What's the population of that city?")
    -- The model server answers this only when Paris is in the history the CLI sent with the second question.
    has(out, "Claude: Paris has about 2.1 million inhabitants")
    assert.is_nil(out:find("Which city do you mean?", 1, true))
  end)

  it("03_manual_connection passes its options to the CLI and prints every message", function()
    local out = run("03_manual_connection.lua")
    has(out, 'SystemMessage(subtype="init"')
    has(out, 'AssistantMessage(model="claude-sonnet-4-5"')
    has(out, "Here is a small Python function")
    has(out, 'ResultMessage(subtype="success"')
    -- The model request carried the system prompt and the model the example asked for.
    local seen = false
    for line in assert(io.open(srv.log)):lines() do
      if line:find("Help me write a Python function", 1, true) then
        seen = true
        has(line, "You are a helpful coding assistant.")
        has(line, '"model":"claude-sonnet-4-5"')
      end
    end
    assert.is_true(seen, "the model server never saw the prompt")
  end)

  it("04_receive_with_cost prints the answer and the cost", function()
    local out = run("04_receive_with_cost.lua")
    has(out, "Python is a high-level, general-purpose programming language")
    matches(out, "\nCost: %$%d+%.%d%d%d%d\n")
  end)

  it("05_dynamic_config switches the permission mode between two turns", function()
    local out = run("05_dynamic_config.lua")
    has(out, "Here is my analysis")
    has(out, "I have implemented the fixes")
    before(out, "(permission mode: default)", "(permission mode: acceptEdits)")
    before(out, "Here is my analysis", "(permission mode: acceptEdits)")
  end)

  it("06_streaming_prompts answers all three streamed messages and ends, however the CLI groups them", function()
    local out = run("06_streaming_prompts.lua", nil, 45)
    has(out, "Claude: Hello! Happy to help.")
    has(out, "The capital of Japan is Tokyo.")
    has(out, "15% of 200 is 30.")
    matches(out, "%(3 messages answered in %d turns?%)")
  end)

  it("07_server_info prints what the CLI reported at initialize", function()
    local out = run("07_server_info.lua")
    matches(out, "Available commands: [1-9]%d*\n")
    has(out, "Output style: default")
    matches(out, "Available output styles: default[^\n]*\n")
  end)

  it("08_error_handling gives up on a slow answer after 10 s, interrupts it and disconnects", function()
    local out, elapsed = run("08_error_handling.lua")
    has(out, 'SystemMessage(subtype="init"')
    has(out, "Response timeout - handling gracefully")
    assert.is_nil(out:find("Unexpected error", 1, true))
    assert.is_nil(out:find("Connection error", 1, true))
    assert(elapsed >= 9.5 and elapsed < 20, ("took %.1f s; the timeout is 10 s"):format(elapsed))
  end)

  it("09_chat_app chats until 'quit', with the cost of each answer", function()
    local out = run("09_chat_app.lua", "What is 2+2?\nquit\n")
    has(out, "Chat started! Type 'quit' to exit.")
    has(out, "Claude: 2 + 2 = 4.")
    matches(out, "%[Cost: %$%d+%.%d%d%d%d%d%d%]")
    matches(out, "You: Goodbye!\n$")
  end)

  it("09_chat_app keeps the conversation across lines and ends cleanly at the end of input", function()
    local out = run("09_chat_app.lua", "What's the capital of France?\n\nWhat's the population of that city?\n")
    has(out, "Claude: The capital of France is Paris.")
    has(out, "Claude: Paris has about 2.1 million inhabitants")
    matches(out, "\nGoodbye!\n$")
  end)

  it("10_message_types shows every kind of message and block of one conversation", function()
    local out = run("10_message_types.lua")
    has(out, "System [init]: ")
    matches(out, "User %[%x+%-[%x%-]+%]: Help me analyze this codebase\n")
    has(out, "Assistant (model: ")
    has(out, "  Thinking: To analyze the codebase")
    has(out, "  Text: Let me start by listing the files")
    has(out, "  Using tool: Bash")
    has(out, '"command":"ls"')
    has(out, "  Tool result (success): ")
    has(out, "  Text: The top level holds ")
    has(out, "Conversation complete!")
    has(out, "  Turns: 2")
    matches(out, "  Cost: %$%d+%.%d%d%d%d\n")
    has(out, "  Stop reason: end_turn")
  end)

  it("11_message_snippets runs each small example of the message types reference to its result", function()
    local out = run("11_message_snippets.lua")
    has(out, "User said: What is the capital of France?")
    matches(out, "Message ID: %x+%-[%x%-]+\n")
    has(out, "Model: ")
    has(out, "Text: async/await lets you write asynchronous code")
    has(out, "Task started: Long-running task")
    has(out, "Task completed: ")
    has(out, "The long-running task has finished")
    matches(out, "Cost: %$%d+%.%d%d%d%d\n")
    matches(out, "Duration: %d+ms\n")
    has(out, "Turns: 1")
    has(out, "Tokens: {")
    has(out, "Claude's thinking: Break the problem into parts")
    has(out, "Using tool: Bash")
    has(out, "Tool ID: toolu_")
    has(out, "Tool result for toolu_")
    has(out, "Success: ")
    has(out, "This directory contains ")
  end)

  it("run_demo.sh holds the multi-turn conversation offline from any directory and stops its server", function()
    local status, out = sh(
      "env -u ANTHROPIC_API_KEY sh " .. q(ROOT .. "/examples/run_demo.sh"),
      { CLAUDE_CLI_PATH = CLI, DEMO_LUA = TAG },
      nil,
      60,
      "/"
    )
    assert(status == 0, ("run_demo.sh exited with status %s; output:\n%s"):format(tostring(status), out))
    has(out, "using the offline model server")
    has(out, "Claude: Paris has about 2.1 million inhabitants")
    -- The server is gone: its port no longer accepts connections.
    local port = tonumber(out:match("http://127%.0%.0%.1:(%d+)"))
    assert.is_number(port)
    local uv = require("luv")
    local tcp, refused = uv.new_tcp(), nil
    tcp:connect("127.0.0.1", port, function(err)
      refused = err ~= nil
      tcp:close()
    end)
    while refused == nil do
      uv.run("once")
    end
    uv.run("nowait")
    assert.is_true(refused, "the model server still listens on port " .. port)
  end)

  it("12_interrupt stops the slow count after 2 s, and the same session then tells a joke", function()
    local out, elapsed = run("12_interrupt.lua")
    has(out, "User: Count from 1 to 100 slowly")
    before(out, "User: Count from 1 to 100 slowly", "[Sending interrupt...]")
    -- The count streams one number every 300 ms: what arrived before the interrupt is printed, cut at 30 chars.
    matches(out, "\nClaude: 1[%d, ]*%.%.%.\n")
    before(out, "[Sending interrupt...]", "[Turn ended: error_during_execution]")
    assert.is_nil(out:find(", 100", 1, true), "the count ran to its end:\n" .. out)
    before(out, "[Turn ended: error_during_execution]", "User: Never mind, just tell me a joke")
    has(out, "Claude: Why do programmers prefer dark mode? Because light attracts bugs.")
    -- The whole count would take 30 s.
    assert(elapsed < 15, ("took %.1f s"):format(elapsed))
  end)

  it("13_concurrent receives in the background while it sends three questions, then cancels the receiver", function()
    local out, elapsed = run("13_concurrent.lua")
    before(out, "Sending: What is 2 + 2?", "Sending: What is the square root of 144?")
    before(out, "Sending: What is the square root of 144?", "Sending: What is 10% of 80?")
    has(out, "Received: SystemMessage")
    has(out, "Received: AssistantMessage")
    has(out, "Received: ResultMessage")
    -- However the CLI groups the questions into turns, every one is answered before the receiver is cancelled.
    for _, answer in ipairs({ "2 + 2 = 4.", "The square root of 144 is 12.", "10% of 80 is 8." }) do
      before(out, answer, "Receiver cancelled: ClaudeTask(cancelled)")
    end
    matches(out, "Receiver cancelled: ClaudeTask%(cancelled%)\n$")
    assert(elapsed >= 4, ("took %.1f s; it sleeps 4 s"):format(elapsed))
  end)

  it("14_game_loop holds a conversation from a 60 Hz frame loop and reports its longest stall", function()
    local out = run("14_game_loop.lua")
    matches(out, "%[frame %d+%] Claude: 2 %+ 2 = 4%.\n")
    matches(out, "%[frame %d+%] Turn done: success\n")
    matches(out, "\n%d+ frames in %d+%.%d s\n")
    -- A measurement, printed, not asserted.
    matches(
      out,
      "Longest frame stall: pump%(0%) took %d+%.%d%d ms at most; the longest frame took %d+%.%d%d ms "
        .. "%(budget 16%.7 ms%)\n$"
    )
  end)

  it("15_nvim_chat streams the answer into a Neovim buffer and quits when run headless", function()
    local out = run_in_nvim("15_nvim_chat.lua")
    if not out then
      return
    end
    has(out, "You: What is Python?")
    has(out, "Claude: Python is a high-level, general-purpose programming language")
    matches(out, "%[success, %$%d+%.%d%d%d%d%]")
  end)

  it("16_mcp_tools lets the model call two Lua functions as MCP tools and prints the calls and the answer", function()
    local out = run("16_mcp_tools.lua")
    has(out, "Tool call: mcp__utils__add ")
    has(out, "Tool call: mcp__utils__word_count ")
    has(out, "  [Lua] add(17, 25) -> 42")
    has(out, '  [Lua] word_count("the quick brown fox jumps over the lazy dog") -> 9')
    has(out, "Tool result: 42")
    has(out, "Tool result: 9")
    has(out, "Claude: 17 + 25 = 42, and the text has 9 words.")
    has(out, "(turn ended: success)")
    before(out, "  [Lua] add(17, 25) -> 42", "Claude: 17 + 25 = 42")
    assert.is_nil(out:find("Tool result (error)", 1, true))
    -- The model was offered both tools under their MCP names.
    local offered = false
    for line in assert(io.open(srv.log)):lines() do
      if line:find('"name":"mcp__utils__add"', 1, true) and line:find('"name":"mcp__utils__word_count"', 1, true) then
        offered = true
      end
    end
    assert.is_true(offered, "the model server never saw the two tools offered")
  end)

  it("17_nvim_permissions answers the permission prompt through vim.ui.select in headless Neovim", function()
    local out = run_in_nvim("17_nvim_permissions.lua", 60)
    if not out then
      return
    end
    has(out, "User: Create an empty file named notes.txt")
    has(out, "Claude wants to use Bash: touch notes.txt")
    has(out, "(headless: choosing Allow)")
    has(out, "You chose: Allow")
    has(out, "Claude: Done: I created notes.txt.")
    has(out, "notes.txt exists: yes")
    before(out, "You chose: Allow", "Claude: Done: I created notes.txt.")
    assert.is_nil(out:find("Error: ", 1, true))
  end)
end)
