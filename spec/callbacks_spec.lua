-- Callbacks over the control protocol, end to end (PROTOCOL.md §4.10, §4.11,
-- §5.3, §5.4; DESIGN.md §3): the REAL claude CLI asks this process whether a
-- tool may run (can_use_tool), runs its hooks, and calls its in-process MCP
-- tools, while the offline model server (spec/support/scripts/callbacks.lua,
-- out of process so that blocking-mode tests work too) scripts the tool_use
-- blocks and logs every request, so each test can check what the model was
-- told afterwards.
--
-- Some tests run in luv mode (inside claude.run, where each callback runs in
-- its own task and may yield), the others in blocking mode (callbacks run from
-- the pump).  Bash `touch` asks for permission (read-only commands such as
-- `echo` are allowed without asking), so the tests touch files in a fresh
-- directory, which is also the CLI's cwd, and check whether they exist.
local claude = require("claude_agent_sdk")
local async = require("claude_agent_sdk.async")
local core = require("claude_agent_sdk.core")
local loop = require("claude_agent_sdk.loop")
local script = require("claude_agent_sdk.testing.script")
local h = require("support.helpers")

local errors = claude.errors
local CLI, why = h.cli_path()

local collect = h.collect

local exists = h.exists

local sh_quote = h.sh_quote

local dirs = {}

-- A fresh empty directory, removed after the test.
local function tmpdir()
  local d = h.tmpdir()
  dirs[#dirs + 1] = d
  return d
end

-- The pids of the processes whose working directory is dir (the CLI and anything it started there).
local function procs_in(dir)
  local p = assert(
    io.popen(
      'for p in /proc/[0-9]*; do [ "$(readlink $p/cwd 2>/dev/null)" = '
        .. sh_quote(dir)
        .. " ] && echo ${p#/proc/}; done"
    )
  )
  local pids = {}
  for line in p:lines() do
    pids[#pids + 1] = tonumber(line)
  end
  p:close()
  return pids
end

-- The tool_result blocks of the user messages in msgs.
local function tool_results(msgs)
  local out = {}
  for _, m in ipairs(msgs) do
    if m.type == "user" and type(m.content) == "table" then
      for _, b in ipairs(m.content) do
        if b.type == "tool_result" then
          out[#out + 1] = b
        end
      end
    end
  end
  return out
end

-- The tool_use blocks of the assistant messages in msgs.
local function tool_uses(msgs)
  local out = {}
  for _, m in ipairs(msgs) do
    if m.type == "assistant" then
      for _, b in ipairs(m.content) do
        if b.type == "tool_use" then
          out[#out + 1] = b
        end
      end
    end
  end
  return out
end

-- The content of a tool_result as text.
local function content_text(c)
  if type(c) == "string" then
    return c
  end
  local out = {}
  for _, b in ipairs(type(c) == "table" and c or {}) do
    if b.type == "text" then
      out[#out + 1] = b.text
    end
  end
  return table.concat(out, "\n")
end

describe("callbacks with the real CLI", function()
  if not CLI then
    pending("skipped: " .. why)
    return
  end

  local srv
  setup(function()
    srv = h.start_server(h.ROOT .. "/spec/support/scripts/callbacks.lua")
  end)
  teardown(function()
    h.stop_server(srv)
  end)
  after_each(function()
    for _, d in ipairs(dirs) do
      os.execute("rm -rf " .. sh_quote(d))
    end
    dirs = {}
  end)

  -- The model requests (conversation turns) the server got after the first `from` log lines, as the script's
  -- rules see them (req.tool_results[i].text / .is_error, req.last_user_text, req.history_text).
  local function model_requests(from)
    local out = {}
    local all = h.requests(srv)
    for i = (from or 0) + 1, #all do
      local r = all[i]
      if r.method == "POST" and r.path == "/v1/messages" and type(r.body) == "table" and not r.side then
        out[#out + 1] = script.request(r.body)
      end
    end
    return out
  end

  local function log_size()
    return #h.requests(srv)
  end

  -- The request that returned the result of tool use `id` to the model.
  local function follow_up(from, id)
    for _, req in ipairs(model_requests(from)) do
      for _, r in ipairs(req.tool_results) do
        if r.tool_use_id == id then
          return r, req
        end
      end
    end
    error("no model request returned the result of tool use " .. tostring(id))
  end

  -- Blocking mode: connect, fn(client), always disconnect.
  local function blocking(opts, fn)
    local c = claude.ClaudeSDKClient.new(h.options(srv, opts))
    c:connect()
    local ok, err = pcall(fn, c)
    c:disconnect()
    if not ok then
      error(err, 0)
    end
  end

  -- luv mode: the same, inside claude.run (callbacks run in their own tasks).
  local function in_loop(opts, fn)
    loop.use("luv")
    claude.run(function()
      blocking(opts, fn)
    end)
  end

  it("a Bash command denied by can_use_tool does not run, and the model gets the message (luv mode)", function()
    local dir = tmpdir()
    local target = dir .. "/denied"
    local calls = {}
    local from = log_size()
    local msgs
    in_loop({
      cwd = dir,
      can_use_tool = function(tool_name, input, context)
        calls[#calls + 1] = { tool_name = tool_name, input = input, context = context, task = claude.current_task() }
        return claude.PermissionResultDeny({ message = "touching files is not allowed here" })
      end,
    }, function(c)
      c:query("Please run bash: touch " .. target)
      msgs = collect(c:receive_response())
    end)

    assert.is_false(exists(target), "the denied command ran")
    assert.are.equal(1, #calls)
    local call = calls[1]
    assert.are.equal("Bash", call.tool_name)
    assert.are.equal("touch " .. target, call.input.command)
    assert.are.equal("Run a test command", call.input.description)
    assert.is_table(call.context.suggestions)
    assert.is_true(#call.context.suggestions > 0)
    assert.is_string(call.context.suggestions[1].type)
    assert.is_string(call.context.tool_use_id)
    assert.is_false(call.context.cancelled)
    assert.is_not_nil(call.task, "in luv mode the callback runs in a task of its own")

    local use = tool_uses(msgs)[1]
    assert.are.equal(use.id, call.context.tool_use_id)
    local tr = follow_up(from, use.id)
    assert.are.equal("touching files is not allowed here", tr.text)
    assert.is_true(tr.is_error)
    local r = msgs[#msgs]
    assert.are.equal("result", r.type)
    assert.are.equal("Tool error: touching files is not allowed here", r.result)
  end)

  it("PermissionResultAllow{} lets the command run (the answer carried updatedInput, or the CLI refuses it)", function()
    local dir = tmpdir()
    local target = dir .. "/allowed"
    local asked = 0
    local from = log_size()
    local msgs
    in_loop({
      cwd = dir,
      can_use_tool = function()
        asked = asked + 1
        return claude.PermissionResultAllow({})
      end,
    }, function(c)
      c:query("Please run bash: touch " .. target)
      msgs = collect(c:receive_response())
    end)
    assert.are.equal(1, asked)
    assert.is_true(exists(target), "the allowed command did not run")
    local tr = follow_up(from, tool_uses(msgs)[1].id)
    assert.is_false(tr.is_error)
    assert.is_nil(tr.text:find("failed", 1, true), tr.text)
    assert.are.equal("success", msgs[#msgs].subtype)
  end)

  it("an allow with updated_permissions adds a session rule: the same command is not asked about again", function()
    local dir = tmpdir()
    local target = dir .. "/ruled"
    local asked, rules = 0, nil
    blocking({
      cwd = dir,
      can_use_tool = function(_, _, context)
        asked = asked + 1
        rules = {}
        for _, sugg in ipairs(context.suggestions) do
          if sugg.type == "addRules" then
            local rule = {}
            for k, v in pairs(sugg) do
              rule[k] = v
            end
            rule.destination = "session" -- the suggestion says localSettings: keep the rule in this session only
            rules[#rules + 1] = rule
          end
        end
        return claude.PermissionResultAllow({ updated_permissions = rules })
      end,
    }, function(c)
      c:query("Please run bash: touch " .. target)
      collect(c:receive_response())
      assert.is_true(exists(target))
      os.remove(target)
      c:query("Again, please run bash: touch " .. target)
      local msgs = collect(c:receive_response())
      assert.is_not_true(tool_results(msgs)[1].is_error)
    end)
    assert.are.equal(1, #rules)
    assert.are.equal(1, asked)
    assert.is_true(exists(target), "the command allowed by the session rule did not run")
  end)

  it("an allow with updated_input runs the changed command instead of the original (blocking mode)", function()
    local dir = tmpdir()
    local original, other = dir .. "/original", dir .. "/changed"
    local seen
    blocking({
      cwd = dir,
      can_use_tool = function(_, input)
        seen = input.command
        return claude.PermissionResultAllow({
          updated_input = { command = "touch " .. other, description = "Touch the other file" },
        })
      end,
    }, function(c)
      c:query("Please run bash: touch " .. original)
      local msgs = collect(c:receive_response())
      assert.are.equal("success", msgs[#msgs].subtype)
      assert.is_not_true(tool_results(msgs)[1].is_error)
    end)
    assert.are.equal("touch " .. original, seen)
    assert.is_true(exists(other), "the changed command did not run")
    assert.is_false(exists(original), "the original command ran")
  end)

  it("a PreToolUse hook that denies stops the tool, and the model gets its reason", function()
    local dir = tmpdir()
    local target = dir .. "/hooked"
    local inputs, ids = {}, {}
    local from = log_size()
    local msgs
    blocking({
      cwd = dir,
      hooks = {
        PreToolUse = {
          claude.HookMatcher({
            matcher = "Bash",
            hooks = {
              function(input, id)
                inputs[#inputs + 1] = input
                ids[#ids + 1] = id
                return {
                  hookSpecificOutput = {
                    hookEventName = "PreToolUse",
                    permissionDecision = "deny",
                    permissionDecisionReason = "the hook forbids touching files",
                  },
                }
              end,
            },
          }),
        },
      },
    }, function(c)
      c:query("Please run bash: touch " .. target)
      msgs = collect(c:receive_response())
    end)
    assert.is_false(exists(target), "the tool ran although the hook denied it")
    assert.are.equal(1, #inputs)
    assert.are.equal("PreToolUse", inputs[1].hook_event_name)
    assert.are.equal("Bash", inputs[1].tool_name)
    assert.are.equal("touch " .. target, inputs[1].tool_input.command)
    local use = tool_uses(msgs)[1]
    assert.are.equal(use.id, ids[1])
    local tr = follow_up(from, use.id)
    -- 2.1.197 hands the model the reason as it is; 2.1.332 prefixes it
    if h.cli_at_least("2.1.300") then
      assert.are.equal("PreToolUse:Bash hook error: the hook forbids touching files", tr.text)
    else
      assert.are.equal("the hook forbids touching files", tr.text)
    end
    assert.is_true(tr.is_error)
  end)

  it("a PostToolUse hook sees the tool's output (luv mode)", function()
    local dir = tmpdir()
    local marker = "post-hook-marker-" .. os.time()
    local seen = {}
    local msgs
    in_loop({
      cwd = dir,
      hooks = {
        PostToolUse = {
          claude.HookMatcher({
            matcher = "Bash",
            hooks = {
              function(input, id)
                claude.sleep(50) -- a hook may yield in luv mode
                seen[#seen + 1] = { input = input, id = id }
                return {}
              end,
            },
          }),
        },
      },
    }, function(c)
      c:query("Please run bash: echo " .. marker)
      msgs = collect(c:receive_response())
    end)
    assert.are.equal(1, #seen)
    local input = seen[1].input
    assert.are.equal("PostToolUse", input.hook_event_name)
    assert.are.equal("Bash", input.tool_name)
    assert.are.equal("echo " .. marker, input.tool_input.command)
    assert.is_table(input.tool_response)
    assert.truthy(input.tool_response.stdout:find(marker, 1, true), input.tool_response.stdout)
    assert.are.equal(tool_uses(msgs)[1].id, seen[1].id)
    assert.are.equal("Tool result: " .. marker, msgs[#msgs].result)
  end)

  it(
    "a UserPromptSubmit hook that blocks a prompt keeps it from the model; the turn still ends with a result",
    function()
      local prompts = {}
      local from = log_size()
      blocking({
        hooks = {
          UserPromptSubmit = {
            claude.HookMatcher({
              hooks = {
                function(input)
                  prompts[#prompts + 1] = input.prompt
                  if input.prompt:find("TOP-SECRET", 1, true) then
                    return { decision = "block", reason = "secrets stay here" }
                  end
                  return {}
                end,
              },
            }),
          },
        },
      }, function(c)
        c:query("The TOP-SECRET launch code is 1234")
        local msgs = collect(c:receive_response())
        local r = msgs[#msgs]
        assert.are.equal("result", r.type)
        assert.truthy(tostring(r.result):find("secrets stay here", 1, true), tostring(r.result))
        c:query("Is the session still there?")
        msgs = collect(c:receive_response())
        assert.are.equal("You said: Is the session still there?", msgs[#msgs].result)
      end)
      assert.are.same({ "The TOP-SECRET launch code is 1234", "Is the session still there?" }, prompts)
      local reqs = model_requests(from)
      assert.is_true(#reqs >= 1)
      for _, req in ipairs(reqs) do
        assert.is_nil(req.history_text:find("TOP-SECRET", 1, true), "the blocked prompt reached the model")
      end
    end
  )

  it(
    "in-process MCP tools: a result reaches the model, and a tool that raises is an error result (luv mode)",
    function()
      local calls = {}
      local add = claude.tool("add", "Add two numbers", { a = "number", b = "number" }, function(args, ctx)
        claude.sleep(50) -- a tool handler may yield in luv mode
        calls[#calls + 1] = { args = args, ctx = ctx }
        return { content = { { type = "text", text = tostring(args.a + args.b) } } }
      end)
      local fail = claude.tool("fail", "Always fails", { why = "string" }, function(args)
        error("the fail tool broke: " .. args.why, 0)
      end)
      local from = log_size()
      local first, second, third
      in_loop({
        mcp_servers = {
          calc = claude.create_sdk_mcp_server({ name = "calc", version = "2.0.0", tools = { add, fail } }),
        },
        allowed_tools = { "mcp__calc__add", "mcp__calc__fail" },
      }, function(c)
        c:query("Please mcp add 19 23")
        first = collect(c:receive_response())
        c:query("Please mcp fail")
        second = collect(c:receive_response())
        c:query("Are you still there?")
        third = collect(c:receive_response())
      end)

      assert.are.equal(1, #calls)
      assert.are.equal(19, calls[1].args.a)
      assert.are.equal(23, calls[1].args.b)
      local use = tool_uses(first)[1]
      assert.are.equal("mcp__calc__add", use.name)
      assert.are.equal(use.id, calls[1].ctx.tool_use_id)
      local tr = follow_up(from, use.id)
      assert.are.equal("42", tr.text)
      assert.is_false(tr.is_error)
      assert.are.equal("Tool result: 42", first[#first].result)

      use = tool_uses(second)[1]
      assert.are.equal("mcp__calc__fail", use.name)
      tr = follow_up(from, use.id)
      assert.is_true(tr.is_error)
      assert.truthy(tr.text:find("the fail tool broke: testing", 1, true), tr.text)
      assert.are.equal("success", second[#second].subtype)
      assert.are.equal("You said: Are you still there?", third[#third].result)
    end
  )

  it("a permission callback may yield for a second in luv mode while another task keeps running", function()
    local dir = tmpdir()
    local target = dir .. "/slow"
    local ticks, during, waited, task = 0, nil, nil, nil
    in_loop({
      cwd = dir,
      can_use_tool = function()
        task = claude.current_task()
        local t0, n0 = core.now(), ticks
        claude.sleep(1000)
        waited = core.now() - t0
        during = ticks - n0
        return claude.PermissionResultAllow({})
      end,
    }, function(c)
      local counter = claude.spawn(function()
        while true do
          claude.sleep(50)
          ticks = ticks + 1
        end
      end)
      local ok, err = pcall(function()
        c:query("Please run bash: touch " .. target)
        collect(c:receive_response())
      end)
      counter:cancel()
      if not ok then
        error(err, 0)
      end
    end)
    assert.is_not_nil(task, "the callback did not run in a task of its own")
    assert.is_true(waited >= 990, "the callback slept " .. tostring(waited) .. " ms")
    assert.is_true(during >= 10, "the counter task advanced only " .. tostring(during) .. " times")
    assert.is_true(exists(target), "the command allowed after the wait did not run")
  end)

  it("an interrupt while a permission prompt is pending cancels the callback; the session goes on", function()
    local dir = tmpdir()
    local target = dir .. "/interrupted"
    local asked, outcome, flag_at_error, flag_after = false, nil, nil, nil
    local reported = {}
    local saved_on_error = async.on_error
    async.on_error = function(task, err)
      reported[#reported + 1] = tostring(err)
    end
    local first, second
    local ok, err = pcall(in_loop, {
      cwd = dir,
      can_use_tool = function(_, _, context)
        asked = true
        local ok_, e = pcall(function()
          for _ = 1, 200 do -- up to 10 s
            claude.sleep(50)
            if context.is_cancelled() then
              return
            end
          end
        end)
        flag_after = context.cancelled
        if ok_ then
          outcome = context.cancelled and "cancelled flag" or "timed out"
          return claude.PermissionResultDeny({ message = "too late" })
        end
        outcome = errors.is(e, "CancelledError") and "CancelledError" or ("error: " .. tostring(e))
        flag_at_error = context.cancelled
        error(e, 0)
      end,
    }, function(c)
      c:query("Please run bash: touch " .. target)
      local interrupter = claude.spawn(function()
        while not asked do
          claude.sleep(20)
        end
        claude.sleep(100)
        c:interrupt()
      end)
      first = collect(c:receive_response())
      interrupter:wait()
      c:query("Anything after the interrupt?")
      second = collect(c:receive_response())
    end)
    async.on_error = saved_on_error
    if not ok then
      error(err, 0)
    end

    assert.is_true(asked)
    -- control.lua marks the context cancelled and then cancels the callback's task: the CancelledError reaches
    -- the callback where it sleeps, with context.cancelled already true.
    assert.are.equal("CancelledError", outcome)
    assert.is_true(flag_at_error)
    assert.is_true(flag_after)
    assert.are.same({}, reported, "the cancelled callback task was reported as a failure")
    assert.is_false(exists(target))
    local r = first[#first]
    assert.are.equal("result", r.type)
    assert.are.equal("error_during_execution", r.subtype)
    assert.truthy(tostring(r.terminal_reason):match("^aborted"), tostring(r.terminal_reason))
    local tr = tool_results(first)[1]
    assert.is_true(tr.is_error)
    assert.are.equal("success", second[#second].subtype)
    assert.are.equal("After the interrupt you said: Anything after the interrupt?", second[#second].result)
  end)

  it(
    "a callback that throws becomes an error answer: the model is told the request failed, the session goes on",
    function()
      local dir = tmpdir()
      local target = dir .. "/boom"
      local from = log_size()
      blocking({
        cwd = dir,
        can_use_tool = function()
          error("boom")
        end,
      }, function(c)
        c:query("Please run bash: touch " .. target)
        local msgs = collect(c:receive_response())
        local tr = follow_up(from, tool_uses(msgs)[1].id)
        assert.is_true(tr.is_error)
        assert.truthy(tr.text:find("Tool permission request failed", 1, true), tr.text)
        assert.truthy(tr.text:find("boom", 1, true), tr.text)
        assert.are.equal("success", msgs[#msgs].subtype)
        c:query("Still answering?")
        msgs = collect(c:receive_response())
        assert.are.equal("You said: Still answering?", msgs[#msgs].result)
      end)
      assert.is_false(exists(target))
    end
  )

  it("a deny with interrupt = true ends the turn (aborted_tools); the session takes the next query", function()
    local dir = tmpdir()
    local target = dir .. "/stopped"
    blocking({
      cwd = dir,
      can_use_tool = function()
        return claude.PermissionResultDeny({ message = "stop everything", interrupt = true })
      end,
    }, function(c)
      c:query("Please run bash: touch " .. target)
      local msgs = collect(c:receive_response())
      local r = msgs[#msgs]
      assert.are.equal("error_during_execution", r.subtype)
      assert.are.equal("aborted_tools", r.terminal_reason)
      assert.is_true(tool_results(msgs)[1].is_error)
      c:query("Is anything after the interrupt answered?")
      msgs = collect(c:receive_response())
      assert.are.equal("After the interrupt you said: Is anything after the interrupt answered?", msgs[#msgs].result)
    end)
    assert.is_false(exists(target))
  end)

  it("a hook that throws does not stop the turn: the tool runs and its result reaches the model (luv mode)", function()
    local marker = "after-a-broken-hook"
    local ran = 0
    local msgs
    in_loop({
      hooks = {
        PostToolUse = {
          claude.HookMatcher({
            hooks = {
              function()
                ran = ran + 1
                error("this hook is broken")
              end,
            },
          }),
        },
      },
    }, function(c)
      c:query("Please run bash: echo " .. marker)
      msgs = collect(c:receive_response())
    end)
    assert.are.equal(1, ran)
    assert.are.equal("success", msgs[#msgs].subtype)
    assert.are.equal("Tool result: " .. marker, msgs[#msgs].result)
  end)

  it(
    "an answer that cannot be sent as JSON becomes an error answer too: the CLI is not left waiting (luv mode)",
    function()
      local dir = tmpdir()
      local target = dir .. "/unencodable"
      local reported = {}
      local saved_on_error = async.on_error
      async.on_error = function(_, err)
        reported[#reported + 1] = tostring(err)
      end
      local first, second
      local ok, err = pcall(in_loop, {
        cwd = dir,
        can_use_tool = function(_, input)
          -- NaN has no JSON form
          return claude.PermissionResultAllow({ updated_input = { command = input.command, weight = 0 / 0 } })
        end,
      }, function(c)
        c:query("Please run bash: touch " .. target)
        first = collect(c:receive_response({ timeout = 10 }))
        c:query("Still answering after a bad answer?")
        second = collect(c:receive_response({ timeout = 10 }))
      end)
      async.on_error = saved_on_error
      assert.is_true(ok, tostring(err))
      assert.are.same({}, reported, "a callback's task failed unobserved")
      local tr = tool_results(first)[1]
      assert.is_true(tr.is_error)
      assert.truthy(content_text(tr.content):find("failed", 1, true), content_text(tr.content))
      assert.is_false(exists(target))
      assert.are.equal("You said: Still answering after a bad answer?", second[#second].result)
    end
  )

  it("one-shot query() keeps stdin open while can_use_tool may be asked, then ends with the process gone", function()
    local dir = tmpdir()
    local target = dir .. "/oneshot"
    local asked, procs_during = 0, nil
    local msgs = {}
    for m in
      claude.query({
        prompt = "Please run bash: touch " .. target,
        options = h.options(srv, {
          cwd = dir,
          can_use_tool = function(tool_name)
            asked = asked + 1
            procs_during = #procs_in(dir)
            assert.are.equal("Bash", tool_name)
            return claude.PermissionResultAllow({})
          end,
        }),
      })
    do
      msgs[#msgs + 1] = m
    end
    assert.are.equal(1, asked)
    assert.is_true(exists(target), "the allowed command did not run")
    local tr = tool_results(msgs)[1]
    assert.is_not_true(tr.is_error, content_text(tr.content))
    assert.is_nil(content_text(tr.content):find("stream closed", 1, true))
    local r = msgs[#msgs]
    assert.are.equal("result", r.type)
    assert.are.equal("success", r.subtype)
    assert.is_true(procs_during >= 1, "the CLI was not found by its cwd while the callback ran")
    assert.are.same({}, procs_in(dir), "a process is still running in the session's cwd")
  end)

  it("in blocking mode can_use_tool is asked and answered from the pump", function()
    local dir = tmpdir()
    local denied, allowed = dir .. "/blocked-deny", dir .. "/blocked-allow"
    local asked = {}
    blocking({
      cwd = dir,
      can_use_tool = function(_, input)
        asked[#asked + 1] = { command = input.command, task = claude.current_task() }
        if input.command:find("deny", 1, true) then
          return { behavior = "deny", message = "plain-table deny" }
        end
        return { behavior = "allow" }
      end,
    }, function(c)
      c:query("Please run bash: touch " .. denied)
      local msgs = collect(c:receive_response())
      assert.are.equal("plain-table deny", content_text(tool_results(msgs)[1].content))
      c:query("Please run bash: touch " .. allowed)
      msgs = collect(c:receive_response())
      assert.is_not_true(tool_results(msgs)[1].is_error)
    end)
    assert.are.equal(2, #asked)
    assert.is_nil(asked[1].task, "in blocking mode the callback runs from the pump, not in a task")
    assert.is_false(exists(denied))
    assert.is_true(exists(allowed))
  end)
end)
