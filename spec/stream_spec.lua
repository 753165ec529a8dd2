-- The streaming helper (stream.lua) over hand-made messages: text, thinking
-- and tool-input deltas, block starts and stops, pass-through of complete
-- messages and other stream events, subagent separation, and stream.text.
local stream = require("claude_agent_sdk.stream")
local messages = require("claude_agent_sdk.messages")
local json = require("claude_agent_sdk.json")

local function se(event, parent)
  return { type = "stream_event", uuid = "u", session_id = "s", parent_tool_use_id = parent, event = event }
end
local function start(index, block)
  return se({ type = "content_block_start", index = index, content_block = block })
end
local function delta(index, d)
  return se({ type = "content_block_delta", index = index, delta = d })
end
local function stop(index)
  return se({ type = "content_block_stop", index = index })
end
local function text(index, t)
  return delta(index, { type = "text_delta", text = t })
end

local function collect(iter)
  local out = {}
  for ev in iter do
    out[#out + 1] = ev
  end
  return out
end

local function of_type(events, t)
  local out = {}
  for _, ev in ipairs(events) do
    if ev.type == t then
      out[#out + 1] = ev
    end
  end
  return out
end

describe("stream.deltas", function()
  it("turns text deltas into text events and passes complete messages through", function()
    local assistant = { type = "assistant", content = { { type = "text", text = "Hello world" } } }
    local result = { type = "result", subtype = "success", result = "Hello world" }
    local events = collect(stream.deltas({
      se({ type = "message_start", message = { id = "msg_1" } }),
      start(0, { type = "text", text = "" }),
      text(0, "Hel"),
      text(0, "lo "),
      text(0, "world"),
      assistant,
      stop(0),
      se({ type = "message_delta", delta = { stop_reason = "end_turn" } }),
      se({ type = "message_stop" }),
      result,
    }))
    local buf = {}
    for _, ev in ipairs(of_type(events, "text")) do
      assert.are.equal(0, ev.index)
      buf[#buf + 1] = ev.text
    end
    assert.are.equal("Hello world", table.concat(buf))
    assert.are.same(
      { "event", "block_start", "text", "text", "text", "message", "block_stop", "event", "event", "message" },
      (function()
        local t = {}
        for i, ev in ipairs(events) do
          t[i] = ev.type
        end
        return t
      end)()
    )
    assert.are.equal(assistant, events[6].message)
    assert.are.equal(result, events[10].message)
    assert.are.equal("text", events[2].block.type)
    assert.are.equal("end_turn", events[8].event.delta.stop_reason)
    assert.are.equal("message_stop", events[9].event.type)
    assert.is_nil(events[3].parent_tool_use_id)
  end)

  it("reassembles a tool_use block's input from its input_json_delta pieces, with id and name", function()
    local events = collect(stream.deltas({
      se({ type = "message_start", message = {} }),
      start(0, { type = "text", text = "" }),
      text(0, "Let me check."),
      stop(0),
      start(1, { type = "tool_use", id = "toolu_1", name = "Bash", input = {} }),
      delta(1, { type = "input_json_delta", partial_json = "" }),
      delta(1, { type = "input_json_delta", partial_json = '{"comm' }),
      delta(1, { type = "input_json_delta", partial_json = 'and": "ls -' }),
      delta(1, { type = "input_json_delta", partial_json = 'la", "timeout": 5}' }),
      stop(1),
    }))
    local parts = {}
    for _, ev in ipairs(of_type(events, "tool_input")) do
      assert.are.equal(1, ev.index)
      assert.are.equal("toolu_1", ev.id)
      assert.are.equal("Bash", ev.name)
      parts[#parts + 1] = ev.partial_json
    end
    assert.are.equal(4, #parts)
    local input = json.decode(table.concat(parts))
    assert.are.equal("ls -la", input.command)
    assert.are.equal(5, input.timeout)
    local stops = of_type(events, "block_stop")
    assert.are.equal(2, #stops)
    assert.are.equal(1, stops[2].index)
    assert.are.equal("toolu_1", stops[2].block.id) -- the block it started with
  end)

  it("keeps interleaved thinking and text apart by type and index", function()
    local events = collect(stream.deltas({
      se({ type = "message_start", message = {} }),
      start(0, { type = "thinking", thinking = "", signature = "" }),
      delta(0, { type = "thinking_delta", thinking = "Let me " }),
      delta(0, { type = "thinking_delta", thinking = "think." }),
      delta(0, { type = "signature_delta", signature = "sig" }),
      stop(0),
      start(1, { type = "text", text = "" }),
      text(1, "The answer "),
      text(1, "is 4."),
      stop(1),
    }))
    local thinking, answer = {}, {}
    for _, ev in ipairs(events) do
      if ev.type == "thinking" then
        assert.are.equal(0, ev.index)
        thinking[#thinking + 1] = ev.thinking
      elseif ev.type == "text" then
        assert.are.equal(1, ev.index)
        answer[#answer + 1] = ev.text
      end
    end
    assert.are.equal("Let me think.", table.concat(thinking))
    assert.are.equal("The answer is 4.", table.concat(answer))
    -- the signature delta is not lost: it comes through as a raw event
    local raw = of_type(events, "event")
    assert.are.equal("signature_delta", raw[2].event.delta.type)
  end)

  it("keeps a subagent's blocks apart from the main agent's and marks its events", function()
    local events = collect(stream.deltas({
      se({ type = "message_start", message = {} }),
      start(0, { type = "tool_use", id = "main_tool", name = "Task", input = {} }),
      se({ type = "message_start", message = {} }, "main_tool"),
      se({
        type = "content_block_start",
        index = 0,
        content_block = { type = "tool_use", id = "sub_tool", name = "Read" },
      }, "main_tool"),
      se(
        { type = "content_block_delta", index = 0, delta = { type = "input_json_delta", partial_json = "{}" } },
        "main_tool"
      ),
      delta(0, { type = "input_json_delta", partial_json = '{"prompt":"x"}' }),
    }))
    local inputs = of_type(events, "tool_input")
    assert.are.equal("sub_tool", inputs[1].id)
    assert.are.equal("Read", inputs[1].name)
    assert.are.equal("main_tool", inputs[1].parent_tool_use_id)
    assert.are.equal("main_tool", inputs[2].id)
    assert.are.equal("Task", inputs[2].name)
    assert.is_nil(inputs[2].parent_tool_use_id)
  end)

  it("wraps iterator functions, such as a client's receive_response, and typed messages", function()
    local frames = {
      [[{"type":"stream_event","uuid":"u","session_id":"s","parent_tool_use_id":null,
         "event":{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}}]],
      [[{"type":"assistant","message":{"model":"m","content":[{"type":"text","text":"Hi"}]},
         "parent_tool_use_id":null,"session_id":"s","uuid":"u2"}]],
      [[{"type":"result","subtype":"success","is_error":false,"result":"Hi","session_id":"s"}]],
    }
    local i = 0
    local function iter()
      i = i + 1
      return frames[i] and messages.parse(json.decode(frames[i]))
    end
    local events = collect(stream.deltas(iter))
    assert.are.equal(3, #events)
    assert.are.equal("Hi", events[1].text)
    assert.is_nil(events[1].parent_tool_use_id) -- JSON null is no parent
    assert.are.equal("assistant", events[2].message.type)
    assert.are.equal("result", events[3].message.type)
    assert.is_nil(stream.deltas({})())
  end)

  it("rejects a source that is not an iterator or an array", function()
    assert.has_error(function()
      stream.deltas("nope")
    end)
  end)
end)

describe("stream.text", function()
  it("yields only the main agent's text deltas", function()
    local chunks = collect(stream.text({
      se({ type = "message_start", message = {} }),
      start(0, { type = "thinking", thinking = "" }),
      delta(0, { type = "thinking_delta", thinking = "hmm" }),
      stop(0),
      start(1, { type = "text", text = "" }),
      text(1, "Two "),
      text(1, "plus two"),
      se({ type = "content_block_delta", index = 0, delta = { type = "text_delta", text = "SUBAGENT" } }, "task_1"),
      text(1, " is four."),
      { type = "assistant", content = { { type = "text", text = "Two plus two is four." } } },
      stop(1),
      { type = "result", subtype = "success" },
    }))
    assert.are.same({ "Two ", "plus two", " is four." }, chunks)
  end)

  it("falls back to the assistant messages' text blocks without partial messages", function()
    local chunks = collect(stream.text({
      { type = "system", subtype = "init" },
      { type = "assistant", content = { { type = "thinking", thinking = "x" }, { type = "text", text = "First." } } },
      { type = "assistant", content = { { type = "tool_use", id = "t", name = "Bash", input = {} } } },
      { type = "user", content = { { type = "tool_result", tool_use_id = "t", content = "ok" } } },
      { type = "assistant", content = { { type = "text", text = "Second" }, { type = "text", text = " part." } } },
      { type = "assistant", parent_tool_use_id = "t", content = { { type = "text", text = "subagent" } } },
      { type = "result", subtype = "success" },
    }))
    assert.are.same({ "First.", "Second", " part." }, chunks)
  end)
end)
