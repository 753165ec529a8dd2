-- The callbacks' Lua side without a CLI: the JSON-RPC answers of an in-process
-- MCP server (mcp.lua, PROTOCOL.md §4.10.3), hook registration (hooks.lua,
-- §3.3/§4.10.2), permission answers (permissions.lua, §4.10.1), the control
-- dispatcher against a stand-in core (control.lua, §4.10/§4.11), and the argv
-- and initialize fields the options give for them (options.lua, §1.4, §6.5).
local claude = require("claude_agent_sdk")
local mcp = require("claude_agent_sdk.mcp")
local hooks = require("claude_agent_sdk.hooks")
local permissions = require("claude_agent_sdk.permissions")
local control = require("claude_agent_sdk.control")
local options = require("claude_agent_sdk.options")
local json = require("claude_agent_sdk.json")

local errors = claude.errors

local function argv(o)
  return options.argv(options.validate(o), "/bin/claude")
end

local function index_of(list, v)
  for i, x in ipairs(list) do
    if x == v then
      return i
    end
  end
end

-- The value after flag in an argv (or the part after "flag=").
local function flag_value(a, flag)
  for i, x in ipairs(a) do
    if x == flag then
      return a[i + 1]
    end
    if x:sub(1, #flag + 1) == flag .. "=" then
      return x:sub(#flag + 2)
    end
  end
end

-- Through JSON text and back, the way the answer reaches the CLI.
local function wire(v)
  return json.decode(json.encode(v))
end

-- The context the last tools/call of "add" got (a context holds functions:
-- it cannot travel in the result itself).
local seen_ctx

local function calc_server()
  local add = claude.tool("add", "Add two numbers", { b = "number", a = "number" }, function(args, ctx)
    seen_ctx = ctx
    return { content = { { type = "text", text = tostring(args.a + args.b) } } }
  end, { annotations = { readOnlyHint = true, title = "Adder" }, max_result_size_chars = 5000 })
  local shout = claude.tool("shout", "Upper-case a text", { text = "string" }, function(args)
    return args.text:upper() .. "!"
  end)
  local broken = claude.tool("broken", "Always raises", {}, function()
    error("the broken tool broke", 0)
  end)
  return claude.create_sdk_mcp_server({ name = "calc", version = "2.1.0", tools = { add, shout, broken } })
end

-- One mcp_message for server `name` carrying msg; returns the JSON-RPC response (after a JSON round trip).
local function rpc(servers, name, msg, ctx)
  local payload = mcp.handle_request(servers, { subtype = "mcp_message", server_name = name, message = msg }, ctx)
  return wire(payload).mcp_response, payload
end

describe("an in-process MCP server answering JSON-RPC", function()
  local servers
  before_each(function()
    servers = { calc = calc_server() }
  end)

  it(
    "initialize echoes the protocol version and names the server; a repeated initialize is answered the same",
    function()
      for _, version in ipairs({ "2025-11-25", "2025-11-25", "2024-11-05" }) do
        local r = rpc(servers, "calc", {
          jsonrpc = "2.0",
          id = 0,
          method = "initialize",
          params = { protocolVersion = version, capabilities = {}, clientInfo = { name = "claude-code" } },
        })
        assert.are.equal("2.0", r.jsonrpc)
        assert.are.equal(0, r.id)
        assert.are.equal(version, r.result.protocolVersion)
        assert.are.same({ name = "calc", version = "2.1.0" }, r.result.serverInfo)
        assert.is_table(r.result.capabilities.tools)
        assert.is_nil(r.error)
      end
    end
  )

  it('a notification still gets an answer: {jsonrpc = "2.0", result = {}}', function()
    for _, method in ipairs({ "notifications/initialized", "notifications/cancelled" }) do
      local r, raw = rpc(servers, "calc", { jsonrpc = "2.0", method = method, params = { requestId = 3 } })
      assert.are.same({ jsonrpc = "2.0", result = {} }, r)
      assert.truthy(json.encode(raw):find('"result":{}', 1, true))
    end
  end)

  it("tools/list gives name, description, inputSchema (shorthand expanded), annotations and _meta", function()
    local r, raw = rpc(servers, "calc", { jsonrpc = "2.0", id = 1, method = "tools/list" })
    assert.are.equal(1, r.id)
    local tools = r.result.tools
    assert.are.equal(3, #tools)
    local add = tools[1]
    assert.are.equal("add", add.name)
    assert.are.equal("Add two numbers", add.description)
    assert.are.same({
      type = "object",
      properties = { a = { type = "number" }, b = { type = "number" } },
      required = { "a", "b" }, -- sorted, whatever order the table gave
    }, add.inputSchema)
    assert.are.same({ readOnlyHint = true, title = "Adder" }, add.annotations)
    assert.are.equal(5000, add._meta["anthropic/maxResultSizeChars"])
    local shout = tools[2]
    assert.are.equal("shout", shout.name)
    assert.is_nil(shout.annotations)
    assert.is_nil(shout._meta)
    -- A tool without arguments: properties is an object and required an array, also as JSON text.
    assert.are.equal("broken", tools[3].name)
    local text = json.encode(raw)
    assert.truthy(text:find('"tools":[', 1, true))
    assert.truthy(text:find('"required":["a","b"]', 1, true), text)
    assert.truthy(text:find('"required":[]', 1, true), text)
    assert.truthy(text:find('"properties":{}', 1, true), text)
  end)

  it("a full JSON Schema is passed through unchanged", function()
    local schema = {
      type = "object",
      properties = { city = { type = "string", description = "where" }, days = { type = "integer", minimum = 1 } },
      required = json.array({ "city" }),
      additionalProperties = false,
    }
    local t = claude.tool("weather", "Forecast", schema, function()
      return "sunny"
    end)
    assert.are.equal(schema, t.input_schema)
    local s = claude.create_sdk_mcp_server({ name = "w", tools = { t } })
    local r = rpc({ w = s }, "w", { jsonrpc = "2.0", id = 7, method = "tools/list" })
    assert.are.same(wire(schema), r.result.tools[1].inputSchema)
    assert.are.same({ "city" }, r.result.tools[1].inputSchema.required)
    assert.is_false(r.result.tools[1].inputSchema.additionalProperties)
  end)

  it("a shorthand may name an argument `type`: only an object schema is taken as a full JSON Schema", function()
    -- A search tool with arguments `type` and `query`; as a JSON Schema of the input this table makes no sense
    -- (a tool's input is an object), so it can only be the shorthand. The Python SDK takes a dict as a full schema
    -- only when it has both "type" and "properties".
    local t = claude.tool("search", "Search", { type = "string", query = "string" }, function()
      return ""
    end)
    assert.are.same({
      type = "object",
      properties = { query = { type = "string" }, type = { type = "string" } },
      required = { "query", "type" },
    }, wire(t.input_schema))
  end)

  it("tools/call runs the handler with the arguments and the tool_use id; a table result is used as given", function()
    local r = rpc(servers, "calc", {
      jsonrpc = "2.0",
      id = 2,
      method = "tools/call",
      params = {
        name = "add",
        arguments = { a = 2, b = 40 },
        _meta = { ["claudecode/toolUseId"] = "toolu_1", progressToken = 2 },
      },
    }, { cancelled = false })
    assert.are.equal(2, r.id)
    assert.are.same({ { type = "text", text = "42" } }, r.result.content)
    assert.is_not_true(r.result.isError)
    local ctx = seen_ctx
    assert.are.equal("toolu_1", ctx.tool_use_id)
    assert.are.equal("calc", ctx.server)
    assert.are.equal("add", ctx.tool)
    assert.is_false(ctx.cancelled) -- the dispatcher's context is passed on
  end)

  it("tools/call with a string result gives one text block", function()
    local r = rpc(
      servers,
      "calc",
      { jsonrpc = "2.0", id = 3, method = "tools/call", params = { name = "shout", arguments = { text = "hi" } } }
    )
    assert.are.same({ { type = "text", text = "HI!" } }, r.result.content)
    assert.is_not_true(r.result.isError)
  end)

  it("a handler that raises gives an isError result with its message, not a JSON-RPC error", function()
    local r = rpc(
      servers,
      "calc",
      { jsonrpc = "2.0", id = 4, method = "tools/call", params = { name = "broken", arguments = {} } }
    )
    assert.are.equal(4, r.id)
    assert.is_nil(r.error)
    assert.is_true(r.result.isError)
    assert.are.same({ { type = "text", text = "the broken tool broke" } }, r.result.content)
    -- an error object's message, not its table address
    local typed = claude.tool("typed", "d", {}, function()
      errors.raise("ClaudeSDKError", "typed failure")
    end)
    local s = claude.create_sdk_mcp_server({ name = "t", tools = { typed } })
    r = rpc({ t = s }, "t", { jsonrpc = "2.0", id = 5, method = "tools/call", params = { name = "typed" } })
    assert.is_true(r.result.isError)
    assert.are.equal("typed failure", r.result.content[1].text)
  end)

  it("a cancelled handler is not turned into a result: the CancelledError goes on to the dispatcher", function()
    local slow = claude.tool("slow", "d", {}, function()
      errors.raise("CancelledError", "the task was cancelled")
    end)
    local s = claude.create_sdk_mcp_server({ name = "s", tools = { slow } })
    local ok, err = pcall(
      mcp.handle_request,
      { s = s },
      { server_name = "s", message = { jsonrpc = "2.0", id = 1, method = "tools/call", params = { name = "slow" } } },
      {}
    )
    assert.is_false(ok)
    assert.is_true(errors.is(err, "CancelledError"))
  end)

  it("tools/call of an unknown tool is an error naming it", function()
    local r = rpc(servers, "calc", { jsonrpc = "2.0", id = 6, method = "tools/call", params = { name = "nope" } })
    assert.truthy(r.error or (r.result and r.result.isError))
    assert.truthy(json.encode(r):find("nope", 1, true))
  end)

  it("ping is answered with an empty result", function()
    local r, raw = rpc(servers, "calc", { jsonrpc = "2.0", id = 9, method = "ping" })
    assert.are.same({ jsonrpc = "2.0", id = 9, result = {} }, r)
    assert.truthy(json.encode(raw):find('"result":{}', 1, true))
  end)

  it("an unknown method is -32601", function()
    local r = rpc(servers, "calc", { jsonrpc = "2.0", id = 10, method = "resources/list" })
    assert.are.equal(10, r.id)
    assert.are.equal(-32601, r.error.code)
    assert.truthy(r.error.message:find("resources/list", 1, true))
    assert.is_nil(r.result)
  end)

  it("an unknown server is -32601 \"Server 'x' not found\"", function()
    local r = rpc(servers, "x", { jsonrpc = "2.0", id = 11, method = "tools/list" })
    assert.are.same({ jsonrpc = "2.0", id = 11, error = { code = -32601, message = "Server 'x' not found" } }, r)
    r = rpc(nil, "x", { jsonrpc = "2.0", id = 12, method = "initialize" })
    assert.are.equal(-32601, r.error.code)
  end)

  it("content stays a JSON array through encode, even empty; a plain is_error becomes isError", function()
    local empty = claude.tool("empty", "d", {}, function()
      return { content = {} }
    end)
    local flagged = claude.tool("flagged", "d", {}, function()
      return { content = { { type = "text", text = "bad input" } }, is_error = true }
    end)
    local s = claude.create_sdk_mcp_server({ name = "e", tools = { empty, flagged } })
    local _, raw = rpc({ e = s }, "e", { jsonrpc = "2.0", id = 1, method = "tools/call", params = { name = "empty" } })
    assert.truthy(json.encode(raw):find('"content":[]', 1, true), json.encode(raw))
    local r = rpc({ e = s }, "e", { jsonrpc = "2.0", id = 2, method = "tools/call", params = { name = "flagged" } })
    assert.is_true(r.result.isError)
    assert.is_nil(r.result.is_error)
  end)

  it("claude.tool and create_sdk_mcp_server reject what cannot work", function()
    for _, bad in ipairs({
      function()
        claude.tool("bad name", "d", {}, function() end)
      end,
      function()
        claude.tool("t", 5, {}, function() end)
      end,
      function()
        claude.tool("t", "d", {}, "not a function")
      end,
      function()
        claude.tool("t", "d", { a = "float" }, function() end)
      end,
      function()
        claude.create_sdk_mcp_server({ tools = {} })
      end,
      function()
        claude.create_sdk_mcp_server({ name = "s", tools = { { name = "x" } } })
      end,
    }) do
      local ok, err = pcall(bad)
      assert.is_false(ok)
      assert.is_true(errors.is(err, "ClaudeSDKError"), tostring(err))
    end
  end)
end)

describe("hooks.register and hooks.validate", function()
  local function f1() end
  local function f2() end
  local function f3() end
  local function f4() end

  it("numbers callbacks hook_0, hook_1, ... across events in a stable (sorted) order", function()
    for _ = 1, 3 do -- the same ids whatever order pairs() gives
      local wire_hooks, callbacks = hooks.register({
        UserPromptSubmit = { claude.HookMatcher({ hooks = { f4 } }) },
        PreToolUse = {
          claude.HookMatcher({ matcher = "Bash", hooks = { f1, f2 }, timeout = 30 }),
          claude.HookMatcher({ matcher = "Write|Edit", hooks = { f3 } }),
        },
      })
      assert.are.same({ hook_0 = f1, hook_1 = f2, hook_2 = f3, hook_3 = f4 }, callbacks)
      local w = wire(wire_hooks)
      assert.are.same({
        PreToolUse = {
          { matcher = "Bash", hookCallbackIds = { "hook_0", "hook_1" }, timeout = 30 },
          { matcher = "Write|Edit", hookCallbackIds = { "hook_2" } },
        },
        UserPromptSubmit = { { matcher = json.null, hookCallbackIds = { "hook_3" } } },
      }, w)
      assert.is_nil(w.PreToolUse[2].timeout)
      assert.truthy(json.encode(wire_hooks):find('"matcher":null', 1, true))
    end
  end)

  it("no hooks: null on the wire and no callbacks", function()
    for _, v in ipairs({ {}, false }) do
      local w, callbacks = hooks.register(v or nil)
      assert.are.equal(json.null, w)
      assert.are.same({}, callbacks)
    end
  end)

  it("the initialize fields carry the registered hooks", function()
    local f, callbacks = options.initialize_fields(options.validate({
      hooks = { Stop = { claude.HookMatcher({ hooks = { f1 } }) } },
    }))
    assert.are.same({ Stop = { { matcher = json.null, hookCallbackIds = { "hook_0" } } } }, wire(f.hooks))
    assert.are.equal(f1, callbacks.hook_0)
  end)

  it("accepts every event of PROTOCOL.md §6.1", function()
    local all = {}
    for e in
      ([[PreToolUse PostToolUse PostToolUseFailure PostToolBatch Notification UserPromptSubmit
      UserPromptExpansion SessionStart SessionEnd Stop StopFailure SubagentStart SubagentStop PreCompact PostCompact
      PermissionRequest PermissionDenied Setup TeammateIdle TaskCreated TaskCompleted Elicitation ElicitationResult
      ConfigChange WorktreeCreate WorktreeRemove InstructionsLoaded CwdChanged FileChanged MessageDisplay]]):gmatch(
        "%S+"
      )
    do
      all[e] = { claude.HookMatcher({ hooks = { f1 } }) }
    end
    hooks.validate(all)
    local w = hooks.register(all)
    local n = 0
    for _ in pairs(w) do
      n = n + 1
    end
    assert.are.equal(30, n)
  end)

  it("rejects an unknown event, naming it, and malformed matchers", function()
    local ok, err = pcall(hooks.validate, { PreToolUs = { claude.HookMatcher({ hooks = { f1 } }) } })
    assert.is_false(ok)
    assert.is_true(errors.is(err, "InvalidOptionError"))
    assert.truthy(tostring(err):find("PreToolUs", 1, true))
    ok, err = pcall(claude.ClaudeSDKClient.new, { hooks = { OnFire = { claude.HookMatcher({ hooks = { f1 } }) } } })
    assert.is_false(ok)
    assert.truthy(tostring(err):find("OnFire", 1, true))
    -- HookMatcher refuses a hook that is not a function itself; a plain
    -- table with one must still fail validation
    ok, err = pcall(claude.HookMatcher, { hooks = { "not a function" } })
    assert.is_false(ok)
    assert.is_true(errors.is(err, "InvalidOptionError"), tostring(err))
    for _, bad in ipairs({
      { Stop = { { hooks = { "not a function" } } } },
      { Stop = { claude.HookMatcher({ hooks = { f1 }, timeout = 0 }) } },
      { Stop = { { matcher = 5, hooks = { f1 } } } },
      { Stop = "nope" },
    }) do
      ok, err = pcall(hooks.validate, bad)
      assert.is_false(ok)
      assert.is_true(errors.is(err, "InvalidOptionError"), tostring(err))
    end
  end)
end)

describe("permissions", function()
  local input = { command = "touch x", description = "make x" }

  it("an allow without updated_input echoes the original input (the CLI rejects an allow without it)", function()
    local w = permissions.to_wire(claude.PermissionResultAllow(), input)
    assert.are.same({ behavior = "allow", updatedInput = input }, w)
    assert.are.same({ behavior = "allow", updatedInput = input }, permissions.to_wire({ behavior = "allow" }, input))
    local text = json.encode(permissions.to_wire(claude.PermissionResultAllow({}), input))
    assert.truthy(text:find('"updatedInput":{', 1, true))
    -- an empty input stays an object on the wire
    text = json.encode(permissions.to_wire(claude.PermissionResultAllow({}), {}))
    assert.truthy(text:find('"updatedInput":{}', 1, true), text)
  end)

  it("an allow carries a changed input and permission updates", function()
    local rules = {
      {
        type = "addRules",
        rules = { { toolName = "Bash", ruleContent = "touch x" } },
        behavior = "allow",
        destination = "session",
      },
    }
    local w = permissions.to_wire(
      claude.PermissionResultAllow({ updated_input = { command = "echo safe" }, updated_permissions = rules }),
      input
    )
    assert.are.same({ behavior = "allow", updatedInput = { command = "echo safe" }, updatedPermissions = rules }, w)
  end)

  it("a deny carries message and interrupt", function()
    assert.are.same(
      { behavior = "deny", message = "no", interrupt = false },
      permissions.to_wire(claude.PermissionResultDeny({ message = "no" }), input)
    )
    assert.are.same(
      { behavior = "deny", message = "stop now", interrupt = true },
      permissions.to_wire(claude.PermissionResultDeny({ message = "stop now", interrupt = true }), input)
    )
    assert.are.same(
      { behavior = "deny", message = "plain", interrupt = false },
      permissions.to_wire({ behavior = "deny", message = "plain" }, input)
    )
  end)

  it("a bad return value raises", function()
    local bad = { n = 5, nil, true, "allow", {}, { behavior = "maybe" } }
    for i = 1, bad.n do
      local ok, err = pcall(permissions.to_wire, bad[i], input)
      assert.is_false(ok)
      assert.is_true(errors.is(err, "ClaudeSDKError"), tostring(err))
    end
  end)

  it("suggestions become PermissionUpdates with Python's field names, and go back to the wire's", function()
    local wire = {
      {
        type = "addRules",
        rules = { { toolName = "Bash", ruleContent = "ls:*" } },
        behavior = "allow",
        destination = "localSettings",
      },
    }
    local ctx = permissions.context({ permission_suggestions = wire })
    local u = ctx.suggestions[1]
    assert.is_true(claude.isinstance(u, permissions.Update))
    assert.are.same({ { tool_name = "Bash", rule_content = "ls:*" } }, u.rules)
    assert.are.equal("allow", u.behavior)
    -- returned (changed) in updated_permissions: the wire's form again
    u.destination = "session"
    local w = permissions.to_wire(claude.PermissionResultAllow({ updated_permissions = { u } }), {})
    assert.are.same({
      {
        type = "addRules",
        rules = { { toolName = "Bash", ruleContent = "ls:*" } },
        behavior = "allow",
        destination = "session",
      },
    }, w.updatedPermissions)
    -- built by hand, as in Python
    local made = claude.PermissionUpdate({ type = "setMode", mode = "acceptEdits", destination = "session" })
    assert.are.same(
      { { type = "setMode", mode = "acceptEdits", destination = "session" } },
      permissions.to_wire(claude.PermissionResultAllow({ updated_permissions = { made } }), {}).updatedPermissions
    )
    local ok, err = pcall(claude.PermissionUpdate, { type = "addRule" })
    assert.is_false(ok)
    assert.is_true(errors.is(err, "InvalidOptionError"), tostring(err))
  end)

  it("a PermissionUpdate prints its fields in the Python dataclass's order, the same every run", function()
    local u = permissions.context({
      permission_suggestions = {
        {
          type = "addRules",
          rules = { { toolName = "Bash", ruleContent = "ls:*" } },
          behavior = "allow",
          destination = "session",
        },
      },
    }).suggestions[1]
    assert.are.equal(
      'PermissionUpdate(type="addRules", rules={{rule_content="ls:*", tool_name="Bash"}}, '
        .. 'behavior="allow", destination="session")',
      tostring(u)
    )
    assert.are.equal(
      'PermissionUpdate(type="setMode", mode="acceptEdits")',
      tostring(claude.PermissionUpdate({ type = "setMode", mode = "acceptEdits" }))
    )
  end)

  it("the context carries the request's fields and starts uncancelled", function()
    local sugg = { { type = "setMode", mode = "acceptEdits", destination = "session" } }
    local ctx = permissions.context({
      tool_name = "Bash",
      permission_suggestions = sugg,
      tool_use_id = "toolu_9",
      blocked_path = "/x",
      decision_reason = "hook asked",
      title = "T",
      display_name = "Bash",
      description = "d",
    })
    assert.are.same(sugg, ctx.suggestions) -- as PermissionUpdates (no rules here to rename)
    assert.are.equal(permissions.Update, getmetatable(ctx.suggestions[1]))
    assert.are.equal("toolu_9", ctx.tool_use_id)
    assert.are.equal("/x", ctx.blocked_path)
    assert.are.equal("hook asked", ctx.decision_reason)
    assert.are.equal("T", ctx.title)
    assert.are.equal("Bash", ctx.display_name)
    assert.are.equal("d", ctx.description)
    assert.is_false(ctx.cancelled)
    assert.is_false(ctx.is_cancelled())
    ctx.cancelled = true
    assert.is_true(ctx.is_cancelled())
    assert.are.same({}, permissions.context({}).suggestions)
  end)
end)

describe("control.dispatch with a stand-in core (blocking mode: handlers run at once)", function()
  -- The client fields control.lua uses, and a core that records respond() calls.
  local function fake_client(opts)
    local answers = {}
    local fake_core = {
      respond = function(_, id, payload, err)
        answers[#answers + 1] = { id = id, payload = payload, err = err }
      end,
    }
    local o = options.validate(opts)
    local _, callbacks = options.initialize_fields(o)
    local client = {
      options = o,
      _core = fake_core,
      _inflight = {},
      _hook_callbacks = callbacks,
      _sdk_servers = options.sdk_servers(o),
      _kick = function() end,
    }
    return client, answers
  end

  local function request(id, body)
    return { type = "control_request", request_id = id, request = body }
  end

  it("can_use_tool: the callback's answer is the payload", function()
    local got
    local client, answers = fake_client({
      can_use_tool = function(name, inp, ctx)
        got = { name, inp, ctx.tool_use_id }
        return claude.PermissionResultAllow()
      end,
    })
    control.dispatch(
      client,
      "request",
      request("r1", {
        subtype = "can_use_tool",
        tool_name = "Bash",
        input = { command = "ls" },
        tool_use_id = "toolu_1",
        permission_suggestions = {},
      })
    )
    assert.are.same({ "Bash", { command = "ls" }, "toolu_1" }, got)
    assert.are.same({ { id = "r1", payload = { behavior = "allow", updatedInput = { command = "ls" } } } }, answers)
    assert.are.same({}, client._inflight)
  end)

  it("a callback that throws gives an error response with its message", function()
    local client, answers = fake_client({
      can_use_tool = function()
        error("boom", 0)
      end,
    })
    control.dispatch(client, "request", request("r2", { subtype = "can_use_tool", tool_name = "Bash", input = {} }))
    assert.are.same({ { id = "r2", err = "boom" } }, answers)
  end)

  it("without can_use_tool, or for an unknown subtype, the CLI still gets an error answer", function()
    local client, answers = fake_client({})
    control.dispatch(client, "request", request("r3", { subtype = "can_use_tool", tool_name = "Bash", input = {} }))
    control.dispatch(client, "request", request("r4", { subtype = "elicitation" }))
    assert.are.equal(2, #answers)
    assert.are.equal("r3", answers[1].id)
    assert.is_string(answers[1].err)
    assert.are.same({ id = "r4", err = "Unsupported control request subtype: elicitation" }, answers[2])
  end)

  it("hook_callback: the hook gets input, tool_use_id and a context; continue_/async_ are renamed", function()
    local got
    local client, answers = fake_client({
      hooks = {
        PreToolUse = {
          claude.HookMatcher({
            hooks = {
              function(inp, id, ctx)
                got = { inp.tool_name, id, ctx.cancelled }
                return { continue_ = false, async_ = true, stopReason = "enough" }
              end,
            },
          }),
        },
      },
    })
    control.dispatch(
      client,
      "request",
      request("r5", {
        subtype = "hook_callback",
        callback_id = "hook_0",
        input = { hook_event_name = "PreToolUse", tool_name = "Bash" },
        tool_use_id = "toolu_2",
      })
    )
    assert.are.same({ "Bash", "toolu_2", false }, got)
    assert.are.same({ { id = "r5", payload = { ["continue"] = false, async = true, stopReason = "enough" } } }, answers)
    -- nil means "no opinion": {}
    client._hook_callbacks.hook_0 = function() end
    control.dispatch(
      client,
      "request",
      request("r6", { subtype = "hook_callback", callback_id = "hook_0", input = {}, tool_use_id = json.null })
    )
    assert.are.same({}, answers[2].payload)
    control.dispatch(client, "request", request("r7", { subtype = "hook_callback", callback_id = "hook_99" }))
    assert.truthy(answers[3].err:find("hook_99", 1, true))
  end)

  it("mcp_message: routed to the named in-process server", function()
    local client, answers = fake_client({ mcp_servers = { calc = calc_server() } })
    control.dispatch(
      client,
      "request",
      request("r8", {
        subtype = "mcp_message",
        server_name = "calc",
        message = {
          jsonrpc = "2.0",
          id = 4,
          method = "tools/call",
          params = { name = "add", arguments = { a = 1, b = 2 } },
        },
      })
    )
    assert.are.same({ { type = "text", text = "3" } }, answers[1].payload.mcp_response.result.content)
  end)

  it("a cancel for an unknown request is ignored", function()
    local client, answers = fake_client({})
    control.dispatch(client, "cancel", "nobody")
    assert.are.same({}, answers)
  end)
end)

describe("options for callbacks", function()
  it("can_use_tool adds --permission-prompt-tool stdio", function()
    local a = argv({ can_use_tool = function() end })
    local i = index_of(a, "--permission-prompt-tool")
    assert.is_number(i)
    assert.are.equal("stdio", a[i + 1])
    assert.is_nil(index_of(argv({}), "--permission-prompt-tool"))
  end)

  it("can_use_tool with permission_prompt_tool_name is an error", function()
    local ok, err =
      pcall(options.validate, { can_use_tool = function() end, permission_prompt_tool_name = "mcp__x__y" })
    assert.is_false(ok)
    assert.is_true(errors.is(err, "InvalidOptionError"))
    assert.truthy(tostring(err):find("permission_prompt_tool_name", 1, true))
    ok = pcall(options.validate, { can_use_tool = "yes" })
    assert.is_false(ok)
  end)

  it("an sdk server goes to --mcp-config by name only: no handlers leak", function()
    local s = calc_server()
    local text = flag_value(argv({ mcp_servers = { calc = s } }), "--mcp-config")
    assert.are.same({ mcpServers = { calc = { type = "sdk", name = "calc" } } }, json.decode(text))
    assert.is_nil(text:find("add", 1, true))
    assert.is_nil(text:find("tools", 1, true))
  end)

  it("an sdk server mixed with an external stdio server: the external config is passed unchanged", function()
    local ext = { type = "stdio", command = "node", args = { "server.js", "--port=1" }, env = { TOKEN = "abc" } }
    local text = flag_value(argv({ mcp_servers = { calc = calc_server(), files = ext } }), "--mcp-config")
    assert.are.same({ mcpServers = { calc = { type = "sdk", name = "calc" }, files = ext } }, json.decode(text))
    local ok, err = pcall(options.validate, { mcp_servers = { fake = { type = "sdk", name = "fake" } } })
    assert.is_false(ok)
    assert.truthy(tostring(err):find("create_sdk_mcp_server", 1, true))
  end)

  it("has_callbacks: true with can_use_tool, hooks or an sdk server; false otherwise", function()
    local v = options.validate
    assert.is_true(options.has_callbacks(v({ can_use_tool = function() end })))
    assert.is_true(options.has_callbacks(v({ hooks = { Stop = { claude.HookMatcher({ hooks = { print } }) } } })))
    assert.is_true(options.has_callbacks(v({ mcp_servers = { calc = calc_server() } })))
    assert.is_false(options.has_callbacks(v({})))
    assert.is_false(options.has_callbacks(v({ hooks = {} })))
    assert.is_false(options.has_callbacks(v({ mcp_servers = { files = { command = "node" } } })))
    assert.are.same(
      { calc = "sdk" },
      (function()
        local out = {}
        local servers = { calc = calc_server(), f = { command = "x" } }
        for name, s in pairs(options.sdk_servers(v({ mcp_servers = servers }))) do
          out[name] = s.type
        end
        return out
      end)()
    )
  end)
end)

describe("CanUseToolShadowedWarning (the Python SDK's)", function()
  local warnings = require("claude_agent_sdk.warnings")

  it("names what auto-approves a tool before can_use_tool is asked, as the Python SDK words it", function()
    assert.truthy(warnings.can_use_tool_shadowed("bypassPermissions", {}):find("'bypassPermissions'", 1, true))
    assert.is_nil(warnings.can_use_tool_shadowed("default", {}))
    assert.is_nil(warnings.can_use_tool_shadowed(nil, { "Bash(ls:*)", "Read(/x)", "" }))
    local msg = warnings.can_use_tool_shadowed(nil, { "Read", "Read()", "Bash(*)", "Bash(git:*)", "(x)" })
    assert.truthy(msg:find("can_use_tool will not be invoked for: Read, Bash%."), msg)
  end)

  it("is reported once when a client with a shadowed callback connects, and can be ignored", function()
    local got = {}
    local saved = warnings.handler
    warnings.handler = function(kind, message)
      got[#got + 1] = { kind, message }
    end
    local FAKE = (os.getenv("PWD") or ".") .. "/spec/support/fake_cli"
    local function connect(opts)
      local c = claude.ClaudeSDKClient.new(opts)
      c:connect()
      c:disconnect()
    end
    local ok, err = pcall(function()
      connect({ cli_path = FAKE, can_use_tool = function() end, allowed_tools = { "Read" } })
      connect({ cli_path = FAKE, can_use_tool = function() end, allowed_tools = { "Read(/tmp/*)" } })
      connect({ cli_path = FAKE, allowed_tools = { "Read" } }) -- no callback: nothing to shadow
      claude.warnings.ignore.CanUseToolShadowedWarning = true
      connect({ cli_path = FAKE, can_use_tool = function() end, skills = "all" })
    end)
    warnings.handler = saved
    claude.warnings.ignore.CanUseToolShadowedWarning = nil
    assert(ok, tostring(err))
    assert.are.equal(1, #got)
    assert.are.equal(claude.CanUseToolShadowedWarning, got[1][1])
    assert.truthy(got[1][2]:find("for: Read.", 1, true), got[1][2])
  end)
end)
