-- Typed messages from raw frames (DESIGN.md §4): fields, null handling,
-- metatables, tostring, isinstance, and pass-through of unknown shapes.
local claude = require("claude_agent_sdk")
local messages = require("claude_agent_sdk.messages")
local json = require("claude_agent_sdk.json")

local function parse(text)
  return messages.parse(json.decode(text))
end

describe("messages", function()
  it("types an assistant frame and its blocks", function()
    local m = parse([[{"type":"assistant","message":{"id":"msg_1","model":"claude-x","role":"assistant",
      "content":[{"type":"text","text":"hi"},{"type":"thinking","thinking":"hmm","signature":"sig"},
      {"type":"tool_use","id":"t1","name":"Bash","input":{"command":"ls","opts":[]}},
      {"type":"server_tool_use","id":"s1","name":"web_search","input":{}}],
      "stop_reason":null,"usage":{"input_tokens":3}},
      "parent_tool_use_id":null,"session_id":"s","uuid":"u","error":"rate_limit"}]])
    assert.are.equal("assistant", m.type)
    assert.is_true(claude.isinstance(m, claude.AssistantMessage))
    assert.are.equal("claude-x", m.model)
    assert.are.equal("msg_1", m.message_id)
    assert.is_nil(m.parent_tool_use_id)
    assert.is_nil(m.stop_reason)
    assert.are.equal("rate_limit", m.error)
    assert.are.equal(3, m.usage.input_tokens)
    assert.is_true(claude.isinstance(m.content[1], claude.TextBlock))
    assert.are.equal("hi", m.content[1].text)
    assert.is_true(claude.isinstance(m.content[2], claude.ThinkingBlock))
    assert.are.equal("sig", m.content[2].signature)
    assert.is_true(claude.isinstance(m.content[3], claude.ToolUseBlock))
    assert.are.equal("[]", json.encode(m.content[3].input.opts)) -- tool input round-trips
    assert.are.equal("server_tool_use", m.content[4].type) -- unknown block kept raw
    assert.is_false(claude.isinstance(m.content[4], claude.TextBlock))
    assert.truthy(tostring(m):find("^AssistantMessage%("))
    assert.truthy(tostring(m.content[1]):find('TextBlock(text="hi")', 1, true))
  end)

  it("types user frames with string or tool_result content", function()
    local m = parse([[{"type":"user","message":{"role":"user","content":[{"type":"tool_result",
      "tool_use_id":"t1","content":"out","is_error":null}]},"parent_tool_use_id":null,
      "tool_use_result":{"stdout":"out"},"uuid":"u1","session_id":"s"}]])
    assert.is_true(claude.isinstance(m, claude.UserMessage))
    assert.is_true(claude.isinstance(m.content[1], claude.ToolResultBlock))
    assert.is_nil(m.content[1].is_error)
    assert.are.equal("out", m.tool_use_result.stdout)
    assert.are.equal("u1", m.uuid)
    m = parse([[{"type":"user","message":{"role":"user","content":"hello"}}]])
    assert.are.equal("hello", m.content)
  end)

  it("types results, with the optional fields when present", function()
    local m = parse([[{"type":"result","subtype":"error_max_turns","is_error":true,"duration_ms":5,
      "duration_api_ms":2,"num_turns":1,"session_id":"s","total_cost_usd":0.25,"usage":{},
      "errors":["Reached maximum number of turns (1)"],"terminal_reason":"max_turns","stop_reason":null,
      "modelUsage":{"m":{"costUSD":0.25}},"permission_denials":[]}]])
    assert.is_true(claude.isinstance(m, claude.ResultMessage))
    assert.is_true(m.is_error)
    assert.are.equal(0.25, m.total_cost_usd)
    assert.are.equal("max_turns", m.terminal_reason)
    assert.are.equal(0.25, m.model_usage.m.costUSD)
    assert.is_nil(m.stop_reason)
    assert.is_nil(m.result)
  end)

  it("types system frames, task subtypes with their fields", function()
    local m = parse([[{"type":"system","subtype":"init","cwd":"/x","tools":[]}]])
    assert.is_true(claude.isinstance(m, claude.SystemMessage))
    assert.are.equal("init", m.subtype)
    assert.are.equal("/x", m.data.cwd)
    m = parse([[{"type":"system","subtype":"task_started","task_id":"t","description":"d","uuid":"u",
      "session_id":"s","task_type":"local_agent"}]])
    assert.is_true(claude.isinstance(m, claude.TaskStartedMessage))
    assert.is_true(claude.isinstance(m, claude.SystemMessage))
    assert.are.equal("t", m.task_id)
    assert.are.equal("local_agent", m.task_type)
    m = parse([[{"type":"system","subtype":"brand_new","x":1}]])
    assert.are.equal(1, m.data.x)
  end)

  it("types stream events and passes unknown frame types through", function()
    local m = parse([[{"type":"stream_event","uuid":"u","session_id":"s","parent_tool_use_id":null,
      "event":{"type":"content_block_delta","delta":{"type":"text_delta","text":"Hel"}}}]])
    assert.is_true(claude.isinstance(m, claude.StreamEvent))
    assert.are.equal("Hel", m.event.delta.text)
    m = parse([[{"type":"rate_limit_event","rate_limit_info":{"status":"allowed"},"uuid":"u"}]])
    assert.are.equal("rate_limit_event", m.type)
    assert.are.equal("allowed", m.rate_limit_info.status)
  end)

  it("raises MessageParseError for a known type missing its body", function()
    local ok, err = pcall(parse, '{"type":"assistant"}')
    assert.is_false(ok)
    assert.is_true(claude.errors.is(err, "MessageParseError"))
  end)
end)

describe("errors", function()
  it("nest kinds and print their message", function()
    local e = claude.errors.new("CLINotFoundError", "not here", { cli_path = "/x" })
    assert.is_true(claude.errors.is(e, "CLINotFoundError"))
    assert.is_true(claude.errors.is(e, "CLIConnectionError"))
    assert.is_true(claude.errors.is(e, "ClaudeSDKError"))
    assert.is_false(claude.errors.is(e, "ProcessError"))
    assert.is_true(claude.isinstance(e, claude.CLIConnectionError))
    assert.are.equal("CLINotFoundError: not here", tostring(e))
    local r = claude.errors.new("ResultError", "x")
    assert.is_true(claude.errors.is(r, "ProcessError"))
    assert.is_false(claude.errors.is("a string", "ClaudeSDKError"))
  end)

  it("word a result error like the Python SDK", function()
    local t = claude.errors.result_text
    assert.are.equal("a; b", t({ errors = { "a", " ", "b" }, result = "r" }))
    assert.are.equal("r", t({ result = "r", subtype = "success" }))
    assert.are.equal("error_max_turns", t({ subtype = "error_max_turns" }))
    assert.are.equal("API error (HTTP 400)", t({ subtype = "success", api_error_status = 400 }))
    assert.are.equal("unknown error", t({ subtype = "success" }))
  end)
end)

describe("typed system subtypes", function()
  local function sys(subtype, fields)
    return parse(
      '{"type":"system","subtype":"'
        .. subtype
        .. '","uuid":"u","session_id":"s"'
        .. (fields ~= "" and ("," .. fields) or "")
        .. "}"
    )
  end
  local function check(m, cls, subtype)
    assert.is_true(claude.isinstance(m, cls), tostring(m))
    assert.is_true(claude.isinstance(m, claude.SystemMessage))
    assert.are.equal("system", m.type)
    assert.are.equal(subtype, m.subtype)
    assert.are.equal(subtype, m.data.subtype) -- the raw frame stays in data
    assert.are.equal("u", m.uuid)
    assert.are.equal("s", m.session_id)
    assert.truthy(tostring(m):find(getmetatable(m).__class_name .. "(", 1, true))
  end

  it("task_updated, with the patch's status and nulls absent", function()
    local m = sys("task_updated", '"task_id":"t1","patch":{"status":"killed","end_time":5,"error":null}')
    check(m, claude.TaskUpdatedMessage, "task_updated")
    assert.are.equal("t1", m.task_id)
    assert.are.equal("killed", m.status)
    assert.are.equal(5, m.patch.end_time)
    assert.are.equal(claude.null, m.patch.error) -- raw data keeps null
    m = sys("task_updated", '"task_id":"t2","patch":null')
    assert.is_nil(m.status)
    assert.are.same({}, m.patch)
    assert.are.equal(claude.null, m.data.patch)
  end)

  it("hook_started, hook_response and hook_progress as HookEventMessages", function()
    local m = sys("hook_started", '"hook_id":"h1","hook_name":"PreToolUse:Bash","hook_event":"PreToolUse"')
    check(m, claude.HookStartedMessage, "hook_started")
    assert.is_true(claude.isinstance(m, claude.HookEventMessage))
    assert.are.equal("PreToolUse", m.hook_event_name)
    assert.are.equal("h1", m.hook_id)
    assert.are.equal("PreToolUse:Bash", m.hook_name)
    m = sys(
      "hook_response",
      '"hook_id":"h1","hook_name":"PreToolUse:Bash","hook_event":"PreToolUse",'
        .. '"output":"out","stdout":"out","stderr":"","exit_code":0,"outcome":"success"'
    )
    check(m, claude.HookResponseMessage, "hook_response")
    assert.is_true(claude.isinstance(m, claude.HookEventMessage))
    assert.are.equal(0, m.exit_code)
    assert.are.equal("success", m.outcome)
    assert.are.equal("out", m.stdout)
    m = sys(
      "hook_progress",
      '"hook_id":"h2","hook_name":"Stop","hook_event":"Stop","stdout":"50%","stderr":"","output":""'
    )
    check(m, claude.HookProgressMessage, "hook_progress")
    assert.are.equal("Stop", m.hook_event_name)
    assert.are.equal("50%", m.stdout)
    m = sys("hook_started", '"hook_id":"h3","hook_name":"OnlyName","hook_event":null')
    assert.are.equal("OnlyName", m.hook_event_name)
  end)

  it("status, with a null status absent and permission_mode", function()
    local m = sys("status", '"status":null,"permissionMode":"plan"')
    check(m, claude.StatusMessage, "status")
    assert.is_nil(m.status)
    assert.are.equal("plan", m.permission_mode)
    assert.are.equal("plan", m.permissionMode)
    m = sys("status", '"status":"requesting"')
    assert.are.equal("requesting", m.status)
  end)

  it("informational, thinking_tokens, commands_changed, session_state_changed", function()
    local m = sys(
      "informational",
      '"content":"Blocked by hook","level":"warning","prevent_continuation":true,' .. '"tool_use_id":null'
    )
    check(m, claude.InformationalMessage, "informational")
    assert.are.equal("Blocked by hook", m.content)
    assert.are.equal("warning", m.level)
    assert.is_true(m.prevent_continuation)
    assert.is_nil(m.tool_use_id)
    m = sys("thinking_tokens", '"estimated_tokens":120,"estimated_tokens_delta":20')
    check(m, claude.ThinkingTokensMessage, "thinking_tokens")
    assert.are.equal(120, m.estimated_tokens)
    assert.are.equal(20, m.estimated_tokens_delta)
    m = sys("commands_changed", '"commands":[{"name":"compact","description":"d","argumentHint":""}]')
    check(m, claude.CommandsChangedMessage, "commands_changed")
    assert.are.equal("compact", m.commands[1].name)
    m = sys("session_state_changed", '"state":"idle"')
    check(m, claude.SessionStateChangedMessage, "session_state_changed")
    assert.are.equal("idle", m.state)
  end)

  it("compact_boundary, api_retry, local_command_output", function()
    local m = sys("compact_boundary", '"compact_metadata":{"trigger":"auto","pre_tokens":9000,"post_tokens":null}')
    check(m, claude.CompactBoundaryMessage, "compact_boundary")
    assert.are.equal("auto", m.compact_metadata.trigger)
    assert.are.equal(9000, m.compact_metadata.pre_tokens)
    m = sys("api_retry", '"attempt":2,"max_retries":10,"retry_delay_ms":1500,"error_status":null,"error":"overloaded"')
    check(m, claude.APIRetryMessage, "api_retry")
    assert.are.equal(2, m.attempt)
    assert.are.equal(10, m.max_retries)
    assert.are.equal(1500, m.retry_delay_ms)
    assert.is_nil(m.error_status)
    assert.are.equal("overloaded", m.error)
    m = sys("local_command_output", '"content":"Total cost: $0.00"')
    check(m, claude.LocalCommandOutputMessage, "local_command_output")
    assert.are.equal("Total cost: $0.00", m.content)
  end)

  it("permission_denied and background_tasks_changed", function()
    local m = sys(
      "permission_denied",
      '"tool_name":"Bash","tool_use_id":"toolu_1","message":"no",' .. '"decision_reason_type":"rule","agent_id":null'
    )
    check(m, claude.PermissionDeniedMessage, "permission_denied")
    assert.are.equal("Bash", m.tool_name)
    assert.are.equal("toolu_1", m.tool_use_id)
    assert.are.equal("no", m.message)
    assert.are.equal("rule", m.decision_reason_type)
    assert.is_nil(m.agent_id)
    m = sys("background_tasks_changed", '"tasks":[{"id":"b1","status":"running"}]')
    check(m, claude.BackgroundTasksChangedMessage, "background_tasks_changed")
    assert.are.equal("b1", m.tasks[1].id)
  end)

  it("keeps task_progress and task_notification typed, and other subtypes plain", function()
    local m = sys(
      "task_progress",
      '"task_id":"t","description":"d","usage":{"total_tokens":5,"tool_uses":1,'
        .. '"duration_ms":9},"last_tool_name":"Read"'
    )
    check(m, claude.TaskProgressMessage, "task_progress")
    assert.are.equal(5, m.usage.total_tokens)
    m = sys("task_notification", '"task_id":"t","status":"completed","output_file":"/o","summary":"done"')
    check(m, claude.TaskNotificationMessage, "task_notification")
    assert.are.equal("done", m.summary)
    m = sys("files_persisted", '"files":[]')
    assert.are.equal(claude.SystemMessage, getmetatable(m))
    assert.is_nil(m.files) -- untyped subtypes keep their fields in data only
    assert.are.equal(0, #m.data.files)
  end)
end)

describe("typed top-level messages", function()
  it("rate_limit_event with a typed RateLimitInfo", function()
    local m = parse([[{"type":"rate_limit_event","rate_limit_info":{"status":"allowed_warning","resetsAt":1700000000,
      "rateLimitType":"five_hour","utilization":0.9,"overageStatus":null,"isUsingOverage":false},
      "uuid":"u","session_id":"s"}]])
    assert.is_true(claude.isinstance(m, claude.RateLimitEvent))
    assert.is_true(claude.isinstance(m, claude.Message))
    assert.are.equal("rate_limit_event", m.type)
    local info = m.rate_limit_info
    assert.is_true(claude.isinstance(info, claude.RateLimitInfo))
    assert.are.equal("allowed_warning", info.status)
    assert.are.equal(1700000000, info.resets_at)
    assert.are.equal("five_hour", info.rate_limit_type)
    assert.are.equal(0.9, info.utilization)
    assert.is_nil(info.overage_status)
    assert.is_false(info.is_using_overage)
    assert.are.equal(1700000000, info.resetsAt) -- the wire's names stay
    assert.are.equal(claude.null, info.raw.overageStatus)
    assert.are.equal("u", m.uuid)
    assert.are.equal("s", m.session_id)
    assert.truthy(tostring(m):find("RateLimitEvent(", 1, true))
  end)

  it("conversation_reset", function()
    local m = parse('{"type":"conversation_reset","new_conversation_id":"c2","uuid":"u","session_id":"s"}')
    assert.is_true(claude.isinstance(m, claude.ConversationResetMessage))
    assert.are.equal("conversation_reset", m.type)
    assert.are.equal("c2", m.new_conversation_id)
    assert.are.equal("s", m.session_id)
  end)

  it("tool_progress, with null parent_tool_use_id absent", function()
    local m = parse([[{"type":"tool_progress","tool_use_id":"toolu_1","tool_name":"Bash","parent_tool_use_id":null,
      "elapsed_time_seconds":3,"task_id":"b1","uuid":"u","session_id":"s"}]])
    assert.is_true(claude.isinstance(m, claude.ToolProgressMessage))
    assert.are.equal("toolu_1", m.tool_use_id)
    assert.are.equal("Bash", m.tool_name)
    assert.is_nil(m.parent_tool_use_id)
    assert.are.equal(3, m.elapsed_time_seconds)
    assert.are.equal("b1", m.task_id)
  end)

  it("tool_use_summary, auth_status and prompt_suggestion", function()
    local m = parse([[{"type":"tool_use_summary","summary":"Read 2 files","preceding_tool_use_ids":["a","b"],
      "uuid":"u","session_id":"s"}]])
    assert.is_true(claude.isinstance(m, claude.ToolUseSummaryMessage))
    assert.are.equal("Read 2 files", m.summary)
    assert.are.equal("b", m.preceding_tool_use_ids[2])
    m = parse('{"type":"auth_status","isAuthenticating":true,"output":["Opening browser"],"error":null,"uuid":"u"}')
    assert.is_true(claude.isinstance(m, claude.AuthStatusMessage))
    assert.is_true(m.is_authenticating)
    assert.are.equal("Opening browser", m.output[1])
    assert.is_nil(m.error)
    m = parse('{"type":"prompt_suggestion","suggestion":"Run the tests","uuid":"u","session_id":"s"}')
    assert.is_true(claude.isinstance(m, claude.PromptSuggestionMessage))
    assert.are.equal("Run the tests", m.suggestion)
  end)

  it("still passes unknown top-level types through raw", function()
    local m = parse('{"type":"brand_new_thing","x":null,"y":[1]}')
    assert.are.equal("brand_new_thing", m.type)
    assert.are.equal(claude.null, m.x)
    assert.is_true(claude.isinstance(m, claude.Message))
    assert.are.equal(claude.Message, getmetatable(m))
  end)
end)
