-- End to end: the public API driving the REAL claude CLI, which talks to the
-- project's offline model server (spec/support/scripts/e2e.lua) instead of
-- the Anthropic API.
local claude = require("claude_agent_sdk")
local h = require("support.helpers")

local errors = claude.errors
local CLI, why = h.cli_path()

local collect = h.collect

local function of_type(msgs, t)
  local out = {}
  for _, m in ipairs(msgs) do
    if m.type == t then
      out[#out + 1] = m
    end
  end
  return out
end

describe("without a CLI process", function()
  it("a missing CLI is a CLINotFoundError that says how to install it", function()
    local c = claude.ClaudeSDKClient.new({ cli_path = "/nonexistent/bin/claude" })
    local ok, err = pcall(c.connect, c)
    assert.is_false(ok)
    assert.is_true(errors.is(err, "CLINotFoundError"), tostring(err))
    assert.is_true(errors.is(err, "CLIConnectionError"))
    assert.truthy(tostring(err):find("npm install -g @anthropic-ai/claude-code", 1, true))
    assert.are.equal("/nonexistent/bin/claude", err.cli_path)
  end)

  it("a bad option key is an error naming the key, before anything is spawned", function()
    local ok, err = pcall(claude.ClaudeSDKClient.new, { sytem_prompt = "hi" })
    assert.is_false(ok)
    assert.is_true(errors.is(err, "InvalidOptionError"))
    assert.truthy(tostring(err):find("sytem_prompt", 1, true))
    ok, err = pcall(claude.query, { prompt = "x", options = { permission_mode = "yolo" } })
    assert.is_false(ok)
    assert.truthy(tostring(err):find("yolo", 1, true))
  end)

  it("query() and receive_response() before connect() raise CLIConnectionError", function()
    local c = claude.ClaudeSDKClient.new()
    for _, call in ipairs({
      function()
        c:query("hi")
      end,
      function()
        c:receive_response()
      end,
      function()
        c:interrupt()
      end,
    }) do
      local ok, err = pcall(call)
      assert.is_false(ok)
      assert.is_true(errors.is(err, "CLIConnectionError"), tostring(err))
      assert.truthy(tostring(err):find("connect", 1, true))
    end
    c:disconnect() -- harmless when never connected
  end)

  it("a missing working directory is a CLIConnectionError naming it", function()
    local c = claude.ClaudeSDKClient.new({ cli_path = "/bin/cat", cwd = "/nonexistent/dir" })
    local ok, err = pcall(c.connect, c)
    assert.is_false(ok)
    assert.is_true(errors.is(err, "CLIConnectionError"))
    assert.truthy(tostring(err):find("/nonexistent/dir", 1, true))
  end)
end)

describe("the real CLI against the offline model server", function()
  if not CLI then
    pending("skipped: " .. why)
    return
  end

  local srv
  setup(function()
    srv = h.start_server(h.ROOT .. "/spec/support/scripts/e2e.lua")
  end)
  teardown(function()
    h.stop_server(srv)
  end)

  it("holds a two-turn conversation where the second turn sees the first", function()
    local c = claude.ClaudeSDKClient.new(h.options(srv))
    c:connect()
    c:query("My favourite colour is teal.")
    local first = collect(c:receive_response())
    assert.are.equal("result", first[#first].type)
    assert.truthy(h.texts(first):find("Noted", 1, true))
    c:query("What is my favourite colour?")
    local second = collect(c:receive_response())
    assert.are.equal("Your favourite colour is teal.", h.texts(second))
    assert.are.equal(first[#first].session_id, second[#second].session_id)
    c:disconnect()
  end)

  it(
    "delivers every message type with its fields: system, assistant (thinking, tool_use, text), "
      .. "user (tool_result), result",
    function()
      local c = claude.ClaudeSDKClient.new(h.options(srv, { extra_args = { ["replay-user-messages"] = true } }))
      c:connect()
      c:query("Please think, then run echo for me.")
      local msgs = collect(c:receive_response())
      c:disconnect()

      local init = msgs[1]
      assert.is_true(claude.isinstance(init, claude.SystemMessage))
      assert.are.equal("init", init.subtype)
      assert.is_string(init.data.session_id)
      assert.is_table(init.data.tools)

      local replay = of_type(msgs, "user")[1]
      assert.is_true(claude.isinstance(replay, claude.UserMessage))
      assert.are.equal("Please think, then run echo for me.", replay.content)
      assert.is_string(replay.uuid)

      local thinking, tool_use, text
      for _, m in ipairs(of_type(msgs, "assistant")) do
        assert.is_true(claude.isinstance(m, claude.AssistantMessage))
        assert.is_string(m.model)
        assert.is_string(m.message_id)
        assert.are.equal(init.data.session_id, m.session_id)
        assert.is_nil(m.parent_tool_use_id)
        for _, b in ipairs(m.content) do
          if b.type == "thinking" then
            thinking = b
          elseif b.type == "tool_use" then
            tool_use = b
          elseif b.type == "text" then
            text = b
          end
        end
      end
      assert.is_true(claude.isinstance(thinking, claude.ThinkingBlock))
      assert.are.equal("The user wants a greeting printed.", thinking.thinking)
      assert.are.equal("offline-signature", thinking.signature)
      assert.is_true(claude.isinstance(tool_use, claude.ToolUseBlock))
      assert.are.equal("Bash", tool_use.name)
      assert.are.equal("echo hello-from-bash", tool_use.input.command)
      assert.is_string(tool_use.id)

      local tool_result_msg
      for _, m in ipairs(of_type(msgs, "user")) do
        if type(m.content) == "table" and m.content[1] and m.content[1].type == "tool_result" then
          tool_result_msg = m
        end
      end
      assert.is_not_nil(tool_result_msg)
      local tr = tool_result_msg.content[1]
      assert.is_true(claude.isinstance(tr, claude.ToolResultBlock))
      assert.are.equal(tool_use.id, tr.tool_use_id)
      assert.truthy(
        tostring(tr.content):find("hello-from-bash", 1, true)
          or (type(tr.content) == "table" and tr.content[1].text:find("hello-from-bash", 1, true))
      )
      assert.is_not_true(tr.is_error)
      assert.truthy(tool_result_msg.tool_use_result.stdout:find("hello-from-bash", 1, true))

      assert.is_true(claude.isinstance(text, claude.TextBlock))
      assert.truthy(text.text:find("Bash said: hello-from-bash", 1, true))

      local r = msgs[#msgs]
      assert.is_true(claude.isinstance(r, claude.ResultMessage))
      assert.are.equal("success", r.subtype)
      assert.is_false(r.is_error)
      assert.are.equal(2, r.num_turns)
      assert.is_number(r.duration_ms)
      assert.is_number(r.duration_api_ms)
      assert.is_number(r.total_cost_usd)
      assert.is_table(r.usage)
      assert.are.equal("end_turn", r.stop_reason)
      assert.are.equal(init.data.session_id, r.session_id)
      assert.truthy(r.result:find("Bash said", 1, true))
      assert.truthy(tostring(r):find("ResultMessage(", 1, true))
    end
  )

  it("include_partial_messages gives stream_events whose text deltas add up to the reply", function()
    local c = claude.ClaudeSDKClient.new(h.options(srv, { include_partial_messages = true }))
    c:connect()
    c:query("Please stream this.")
    local msgs = collect(c:receive_response())
    c:disconnect()
    local events, deltas = of_type(msgs, "stream_event"), {}
    assert.is_true(#events >= 5)
    local kinds = {}
    for _, e in ipairs(events) do
      assert.is_true(claude.isinstance(e, claude.StreamEvent))
      assert.is_string(e.uuid)
      assert.is_string(e.session_id)
      kinds[e.event.type] = true
      if e.event.type == "content_block_delta" and e.event.delta.type == "text_delta" then
        deltas[#deltas + 1] = e.event.delta.text
      end
    end
    assert.is_true(kinds.message_start and kinds.content_block_delta and kinds.message_stop)
    assert.is_true(#deltas >= 3)
    assert.are.equal("Streaming works in small pieces.", table.concat(deltas))
    assert.are.equal("Streaming works in small pieces.", h.texts(msgs))
  end)

  it("get_server_info() returns the initialize answer", function()
    local c = claude.ClaudeSDKClient.new(h.options(srv))
    assert.is_nil(c:get_server_info())
    c:connect()
    local info = c:get_server_info()
    assert.is_table(info)
    assert.is_true(#info.commands > 0)
    assert.is_string(info.commands[1].name)
    assert.are.equal("default", info.output_style)
    assert.is_table(info.available_output_styles)
    c:disconnect()
  end)

  it("one-shot query() yields the conversation and leaves no process", function()
    local msgs = collect(claude.query({ prompt = "What is 2+2?", options = h.options(srv) }))
    assert.are.equal("system", msgs[1].type)
    assert.are.equal("result", msgs[#msgs].type)
    assert.are.equal("2 + 2 = 4.", msgs[#msgs].result)
    assert.are.equal("2 + 2 = 4.", h.texts(msgs))
  end)

  it("disconnect() leaves no process behind, not even in the CLI's process group", function()
    local c = claude.ClaudeSDKClient.new(h.options(srv))
    c:connect()
    c:query("What is 2+2?")
    collect(c:receive_response())
    local pid = c:pid()
    assert.is_true(h.alive(pid))
    c:disconnect()
    assert.is_false(h.alive(pid))
    assert.is_false(h.alive(pid, true))
    c:disconnect() -- idempotent
    local ok, err = pcall(c.query, c, "again")
    assert.is_false(ok)
    assert.is_true(errors.is(err, "CLIConnectionError"))
  end)

  it("with_client disconnects even when the function raises", function()
    local pid
    local ok, err = pcall(claude.with_client, h.options(srv), function(c)
      pid = c:pid()
      error("boom from user code")
    end)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("boom from user code", 1, true))
    assert.is_false(h.alive(pid))
  end)

  it("a <close> variable disconnects at the end of its scope (Lua 5.4)", function()
    if _VERSION ~= "Lua 5.4" then
      pending("to-be-closed variables need Lua 5.4; " .. _VERSION .. " uses with_client")
      return
    end
    local chunk = assert(load([[
      local claude, opts = ...
      local pid
      do
        local c <close> = claude.ClaudeSDKClient.new(opts)
        c:connect()
        pid = c:pid()
      end
      return pid
    ]]))
    local pid = chunk(claude, h.options(srv))
    assert.is_false(h.alive(pid))
  end)

  it("interrupt() works when idle, and set_permission_mode/set_model are accepted and checked", function()
    local c = claude.ClaudeSDKClient.new(h.options(srv))
    c:connect()
    c:interrupt()
    c:set_permission_mode("acceptEdits")
    local ok, err = pcall(c.set_permission_mode, c, "bogusmode")
    assert.is_false(ok)
    assert.is_true(errors.is(err, "InvalidOptionError"))
    c:set_model("claude-offline-switched")
    local before = #h.requests(srv)
    c:query("What is 2+2?")
    local msgs = collect(c:receive_response())
    assert.are.equal("2 + 2 = 4.", h.texts(msgs))
    local reqs = h.requests(srv)
    local saw = false
    for i = before + 1, #reqs do
      if reqs[i].body and reqs[i].body.model == "claude-offline-switched" then
        saw = true
      end
    end
    assert.is_true(saw, "the next API request should use the model set with set_model")
    c:disconnect()
  end)

  it("an API error ends the turn with an error result, and a one-shot query raises ResultError after it", function()
    local msgs = {}
    local ok, err = pcall(function()
      for m in claude.query({ prompt = "Please fail with 400.", options = h.options(srv) }) do
        msgs[#msgs + 1] = m
      end
    end)
    local r = msgs[#msgs]
    assert.are.equal("result", r.type)
    assert.is_true(r.is_error)
    assert.is_false(ok)
    assert.is_true(errors.is(err, "ResultError"), tostring(err))
    assert.are.equal(1, err.exit_code)
    assert.truthy(err.message:find("400", 1, true))
    -- the Python SDK's fields: the result text, the HTTP status, the session
    assert.truthy(err.result:find("API Error: 400", 1, true), err.result)
    assert.are.equal(400, err.api_error_status)
    assert.are.equal(r.session_id, err.session_id)
    assert.are.equal(r.session_id, err.data.session_id)
    assert.truthy(err.message:find("%(exit code: 1%)$"), err.message)
    local synthetic = of_type(msgs, "assistant")[1]
    assert.is_string(synthetic.error)
  end)

  it("the CLI's complaint about an unknown flag reaches the stderr callback and the connect error", function()
    local lines = {}
    local c = claude.ClaudeSDKClient.new(h.options(srv, {
      extra_args = { ["no-such-flag"] = true },
      stderr = function(line)
        lines[#lines + 1] = line
      end,
    }))
    local ok, err = pcall(c.connect, c)
    assert.is_false(ok)
    assert.is_true(errors.is(err, "ProcessError"), tostring(err))
    assert.are.equal(1, err.exit_code)
    assert.truthy(err.stderr:find("no-such-flag", 1, true))
    assert.truthy(table.concat(lines, "\n"):find("unknown option", 1, true))
  end)

  it("runs the CLI in the given cwd", function()
    local dir = os.tmpname()
    os.remove(dir)
    os.execute("mkdir -p '" .. dir .. "'")
    local c = claude.ClaudeSDKClient.new(h.options(srv, { cwd = dir }))
    c:connect()
    c:query("What is 2+2?")
    local msgs = collect(c:receive_response())
    c:disconnect()
    os.execute("rm -rf '" .. dir .. "'")
    assert.are.equal(dir, msgs[1].data.cwd)
  end)
end)
