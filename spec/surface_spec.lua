-- The whole client surface on the real CLI against the offline model server:
-- sessions (resume, fork, continue), max_turns, structured output, every flag
-- the library emits accepted by the CLI and received as built, file
-- checkpoints with rewind_files, MCP status of an in-process server, and the
-- other control requests.
local claude = require("claude_agent_sdk")
local h = require("support.helpers")
local json = require("claude_agent_sdk.json")

local errors = claude.errors
local CLI, why = h.cli_path()

local collect = h.collect

local tmpdir = h.tmpdir

local read_file = h.read_file

-- One turn in a fresh client; returns the messages.
local function turn(opts, prompt)
  local c = claude.ClaudeSDKClient.new(opts)
  c:connect()
  c:query(prompt)
  local msgs = collect(c:receive_response())
  c:disconnect()
  return msgs
end

describe("the whole surface on the real CLI", function()
  if not CLI then
    pending("skipped: " .. why)
    return
  end

  local srv, home, cwd
  setup(function()
    srv = h.start_server(h.ROOT .. "/spec/support/scripts/surface.lua")
    cwd = tmpdir()
  end)
  teardown(function()
    h.stop_server(srv)
    os.execute("rm -rf '" .. cwd .. "'")
  end)

  -- Resuming needs the same HOME and cwd: one HOME for the session tests.
  local function session_opts(extra)
    local o = h.options(srv, { cwd = cwd })
    if home then
      o.env.HOME = home
    else
      home = o.env.HOME
    end
    for k, v in pairs(extra or {}) do
      o[k] = v
    end
    return o
  end

  it("session_id fixes the id; resume keeps the history and the id; fork makes a new id with the history", function()
    local sid = "5e5510a1-7c3b-4d2e-9f00-0123456789ab"
    local first = turn(session_opts({ session_id = sid }), "My favourite colour is teal.")
    assert.are.equal(sid, first[#first].session_id)

    local resumed = turn(session_opts({ resume = sid }), "What is my favourite colour?")
    assert.are.equal("Your favourite colour is teal.", h.texts(resumed))
    assert.are.equal(sid, resumed[#resumed].session_id)

    local forked = turn(session_opts({ resume = sid, fork_session = true }), "What is my favourite colour?")
    assert.are.equal("Your favourite colour is teal.", h.texts(forked))
    assert.are_not.equal(sid, forked[#forked].session_id)
    assert.is_string(forked[#forked].session_id)
  end)

  it("continue_conversation picks the latest session in the cwd", function()
    local first = turn(session_opts(), "My favourite colour is mauve.")
    local cont = turn(session_opts({ continue_conversation = true }), "What is my favourite colour?")
    assert.are.equal("Your favourite colour is mauve.", h.texts(cont))
    assert.are.equal(first[#first].session_id, cont[#cont].session_id)
  end)

  it("a bad resume id fails connect with the CLI's own error, at once", function()
    local c = claude.ClaudeSDKClient.new(session_opts({ resume = "not-a-session" }))
    local ok, err = pcall(c.connect, c)
    c:disconnect()
    assert.is_false(ok)
    assert.is_true(errors.is(err, "ProcessError"), tostring(err))
    assert.truthy(tostring(err):find("resume", 1, true) or tostring(err):find("session", 1, true))
  end)

  it("max_turns ends in an error_max_turns result", function()
    local msgs = turn(h.options(srv, { max_turns = 1 }), "Please run two commands.")
    local r = msgs[#msgs]
    assert.are.equal("result", r.type)
    assert.are.equal("error_max_turns", r.subtype)
    assert.is_true(r.is_error)
    assert.are.equal("max_turns", r.terminal_reason)
    assert.truthy(table.concat(r.errors, " "):find("maximum number of turns", 1, true))
  end)

  it("structured output arrives in result.structured_output", function()
    local schema = {
      type = "object",
      properties = { answer = { type = "number" }, unit = { type = "string" } },
      required = { "answer" },
    }
    local msgs = turn(h.options(srv, { output_format = { type = "json_schema", schema = schema } }), "How many?")
    local r = msgs[#msgs]
    assert.are.equal("success", r.subtype)
    assert.is_table(r.structured_output)
    assert.are.equal(4, r.structured_output.answer)
    assert.are.equal("apples", r.structured_output.unit)
  end)

  it("every flag the library emits is accepted by the CLI and received exactly as built", function()
    local dir = tmpdir()
    local plugin = tmpdir()
    local o = h.options(srv, {
      system_prompt = { type = "preset", preset = "claude_code", append = "Be brief." },
      tools = { "Bash", "Read" },
      allowed_tools = { "Read" },
      disallowed_tools = { "WebFetch" },
      max_turns = 3,
      max_budget_usd = 5,
      model = "claude-offline-main",
      fallback_model = "claude-offline-fallback",
      betas = { "offline-beta-2025" },
      permission_mode = "acceptEdits",
      settings = { cleanupPeriodDays = 30 },
      sandbox = { enabled = false },
      setting_sources = {},
      add_dirs = { dir },
      include_partial_messages = true,
      include_hook_events = true,
      strict_mcp_config = true,
      plugins = { { type = "local", path = plugin } },
      thinking = { type = "enabled", budget_tokens = 2048, display = "summarized" },
      effort = "low",
      extra_args = { ["replay-user-messages"] = true },
      enable_file_checkpointing = true,
      mcp_servers = { calc = claude.create_sdk_mcp_server({ name = "calc", tools = {} }) },
      task_budget = { total = 50000 },
      skills = { "verify" },
      forward_subagent_text = true,
    })
    local c = claude.ClaudeSDKClient.new(o)
    c:connect()
    -- what the CLI process was really started with
    local f = assert(io.open("/proc/" .. c:pid() .. "/cmdline", "rb"))
    local raw = f:read("*a")
    f:close()
    local got = {}
    for arg in raw:gmatch("([^%z]*)%z") do
      got[#got + 1] = arg
    end
    assert.are.same(c:argv(), got)
    for _, flag in ipairs({
      "--append-system-prompt",
      "--tools",
      "--allowedTools",
      "--disallowedTools",
      "--max-turns",
      "--max-budget-usd",
      "--model",
      "--fallback-model",
      "--betas",
      "--permission-mode",
      "--settings",
      "--setting-sources=",
      "--add-dir",
      "--include-partial-messages",
      "--include-hook-events",
      "--strict-mcp-config",
      "--plugin-dir",
      "--max-thinking-tokens",
      "--effort",
      "--replay-user-messages",
      "--mcp-config",
      "--task-budget",
      "--thinking-display",
    }) do
      local found = false
      for _, a in ipairs(got) do
        if a == flag then
          found = true
        end
      end
      assert.is_true(found, flag .. " missing from the argv")
    end
    c:query("Hello there")
    local msgs = collect(c:receive_response())
    c:disconnect()
    os.execute("rm -rf '" .. dir .. "' '" .. plugin .. "'")
    local r = msgs[#msgs]
    assert.are.equal("result", r.type)
    assert.are.equal("You said: Hello there", r.result)
    local init = msgs[1]
    assert.are.equal("acceptEdits", init.data.permissionMode)
    -- the model and the budget reached the API request
    local reqs = h.requests(srv)
    local last = reqs[#reqs].body
    assert.are.equal("claude-offline-main", last.model)
  end)

  it("rewind_files with checkpointing undoes a file the model wrote", function()
    -- Write refuses to overwrite a file the model has not read, so the model
    -- creates a new file, and the rewind must remove it again.
    local dir = tmpdir()
    local path = dir .. "/notes.txt"
    local c = claude.ClaudeSDKClient.new(h.options(srv, {
      cwd = dir,
      enable_file_checkpointing = true,
      permission_mode = "acceptEdits",
      extra_args = { ["replay-user-messages"] = true },
    }))
    c:connect()
    c:query("Please write the file " .. path)
    local msgs = collect(c:receive_response())
    assert.are.equal("new content\n", read_file(path))
    local uuid
    for _, m in ipairs(msgs) do
      if m.type == "user" and type(m.content) == "string" and m.uuid then
        uuid = m.uuid
      end
    end
    assert.is_string(uuid)
    local dry = c:rewind_files(uuid, { dry_run = true })
    assert.is_true(dry.canRewind)
    assert.are.equal("new content\n", read_file(path))
    c:rewind_files(uuid)
    assert.is_nil(read_file(path))
    local ok, err = pcall(c.rewind_files, c, "00000000-0000-4000-8000-000000000000")
    assert.is_false(ok)
    assert.is_true(errors.is(err, "ControlError"), tostring(err))
    c:disconnect()
    os.execute("rm -rf '" .. dir .. "'")
  end)

  it("get_mcp_status lists an in-process server; the other control requests answer", function()
    local add = claude.tool("add", "Add two numbers", { a = "number", b = "number" }, function(a)
      return tostring(a.a + a.b)
    end)
    local c = claude.ClaudeSDKClient.new(h.options(srv, {
      mcp_servers = { calc = claude.create_sdk_mcp_server({ name = "calc", tools = { add } }) },
    }))
    c:connect()
    c:query("Hello")
    collect(c:receive_response())
    local status = c:get_mcp_status()
    local calc
    for _, s in ipairs(status.mcpServers) do
      if s.name == "calc" then
        calc = s
      end
    end
    assert.is_table(calc, json.encode(status))
    assert.are.equal("connected", calc.status)
    assert.are.equal("add", calc.tools[1].name)

    local usage = c:get_context_usage()
    assert.is_number(usage.totalTokens)
    assert.is_number(usage.maxTokens)
    c:set_max_thinking_tokens(1024)
    c:set_max_thinking_tokens(nil)
    c:stop_task("no-such-task") -- the CLI answers {} for an unknown task
    local ok, err = pcall(c.reconnect_mcp_server, c, "nope")
    assert.is_false(ok)
    assert.truthy(tostring(err):find("Server not found", 1, true))
    ok, err = pcall(c.toggle_mcp_server, c, "nope", false)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("Server not found", 1, true))
    local settings = c:control("get_settings")
    assert.is_table(settings.applied)
    ok, err = pcall(c.control, c, "no_such_subtype")
    assert.is_false(ok)
    assert.is_true(errors.is(err, "ControlError"))
    assert.truthy(tostring(err):find("Unsupported control request subtype", 1, true))
    c:disconnect()
  end)
end)
