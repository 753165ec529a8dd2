-- Typed messages from raw frames (DESIGN.md §4): fields, null handling,
-- metatables, tostring, isinstance, and pass-through of unknown shapes.
local claude = require("claude_agent_sdk")
local messages = require("claude_agent_sdk.messages")
local json = require("claude_agent_sdk.json")

local function parse(text) return messages.parse(json.decode(text)) end

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
    assert.truthy(tostring(m):find('^AssistantMessage%('))
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
