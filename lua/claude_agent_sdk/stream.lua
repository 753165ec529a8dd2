--- Streaming text as it arrives: the `stream_event` messages of
--- `include_partial_messages = true` as a small stream of simple events.
--
-- `deltas(source)` wraps a message iterator (client:receive_response(),
-- client:receive_messages(), claude.query(...), or an array of messages) and
-- returns an iterator of events:
--
--   { type = "text",        index = i, text = "..." }          a text delta
--   { type = "thinking",    index = i, thinking = "..." }      a thinking delta
--   { type = "tool_input",  index = i, partial_json = "...", id = tool_use_id, name = tool_name }
--                                                              a piece of a tool call's input JSON
--   { type = "block_start", index = i, block = content_block } a content block begins (raw block)
--   { type = "block_stop",  index = i, block = content_block } it ends (the block it started with)
--   { type = "event",       event = raw }                      any other stream event (message_start,
--                                                              message_delta with stop_reason, message_stop,
--                                                              signature or unknown deltas), untouched
--   { type = "message",     message = msg }                    every complete message (assistant, user,
--                                                              system, result, ...), so nothing is lost
--
-- `index` is the content block's index in the API message; the `id` and
-- `name` of a tool_input come from its block_start.  Events of a subagent
-- also carry `parent_tool_use_id` (its Task tool call), and block state is
-- kept per subagent, so interleaved streams do not mix.  Concatenating the
-- `partial_json` pieces of one index gives the tool input's JSON text.
-- Note the CLI sends a block's complete `assistant` message before the
-- block's content_block_stop (PROTOCOL.md §4.6).
--
-- `text(source)` yields only the text (strings); without partial messages
-- it falls back to the text blocks of the assistant messages, so it works
-- either way.
--
--   local stream = require("claude_agent_sdk.stream")
--   client:query("Tell me a story")
--   for ev in stream.deltas(client:receive_response()) do
--     if ev.type == "text" then io.write(ev.text) io.flush()
--     elseif ev.type == "message" and ev.message.type == "result" then print() end
--   end
--   for chunk in stream.text(client:receive_response()) do buffer[#buffer + 1] = chunk end

local check = require("claude_agent_sdk.check")

local M = {}

-- An iterator function over a message iterator or an array of messages.
local function source_of(fn, src)
  if type(src) == "function" then
    return src
  end
  if type(src) == "table" then
    check.list(fn, "source", src, "a message iterator or an array of messages", false, function(f, arg, m)
      check.type(f, arg, m, "table")
    end)
    local i = 0
    return function()
      i = i + 1
      return src[i]
    end
  end
  check.fail(fn, "source", "a message iterator or an array of messages", src)
end

local MAIN = {} -- the block-state key of the main agent (no parent_tool_use_id)

---@class StreamDelta
---@field type "text"|"thinking"|"tool_input"|"block_start"|"block_stop"|"event"|"message"
---@field index integer|nil          the content block's index
---@field text string|nil
---@field thinking string|nil
---@field partial_json string|nil
---@field id string|nil              tool_input: the tool_use id
---@field name string|nil            tool_input: the tool's name
---@field block table|nil            block_start / block_stop: the raw content block
---@field event table|nil            event: the raw stream event
---@field message AnyMessage|nil     message: the complete message
---@field parent_tool_use_id string|nil  set inside a subagent

--- Simple events from a message iterator (see the module header).
---   for ev in stream.deltas(client:receive_response()) do ... end
---@param source function|table  a message iterator, or an array of messages
---@return fun(): StreamDelta|nil
function M.deltas(source)
  local next_message = source_of("claude.stream.deltas", source)
  local blocks = {} -- [agent key][index] = the content block from its start
  local done = false

  local function translate(msg)
    local ev = msg.event
    if type(ev) ~= "table" then
      return { type = "event", event = ev }
    end
    local parent = msg.parent_tool_use_id
    if parent == nil or type(parent) ~= "string" then
      parent = nil
    end
    local key = parent or MAIN
    local et = ev.type
    local out
    if et == "message_start" then
      blocks[key] = {} -- indices start again with each API message
      out = { type = "event", event = ev }
    elseif et == "content_block_start" then
      local state = blocks[key]
      if not state then
        state = {}
        blocks[key] = state
      end
      local block = ev.content_block
      if ev.index ~= nil then
        state[ev.index] = block
      end
      out = { type = "block_start", index = ev.index, block = block }
    elseif et == "content_block_delta" then
      local d = ev.delta
      local dt = type(d) == "table" and d.type or nil
      if dt == "text_delta" then
        out = { type = "text", index = ev.index, text = d.text }
      elseif dt == "thinking_delta" then
        out = { type = "thinking", index = ev.index, thinking = d.thinking }
      elseif dt == "input_json_delta" then
        local state = blocks[key]
        local block = state and state[ev.index]
        local id, name
        if type(block) == "table" then
          id, name = block.id, block.name
        end
        out = { type = "tool_input", index = ev.index, partial_json = d.partial_json, id = id, name = name }
      else
        out = { type = "event", event = ev }
      end
    elseif et == "content_block_stop" then
      local state = blocks[key]
      out = { type = "block_stop", index = ev.index, block = state and state[ev.index] }
    else
      out = { type = "event", event = ev }
    end
    out.parent_tool_use_id = parent
    return out
  end

  return function()
    if done then
      return nil
    end
    local msg = next_message()
    if msg == nil then
      done = true
      return nil
    end
    if type(msg) == "table" and msg.type == "stream_event" then
      return translate(msg)
    end
    return { type = "message", message = msg }
  end
end

--- Only the text, as it arrives (strings).  With partial messages: the text
--- deltas of the main agent; without (no stream_event seen yet): the text
--- blocks of each assistant message.
---   local buf = {}
---   for chunk in stream.text(client:receive_response()) do buf[#buf + 1] = chunk end
---@param source function|table  a message iterator, or an array of messages
---@return fun(): string|nil
function M.text(source)
  local next_message = source_of("claude.stream.text", source)
  local streaming = false
  local pending, pi = nil, 0 -- text blocks of a complete message still to yield
  return function()
    while true do
      if pending then
        pi = pi + 1
        local t = pending[pi]
        if t then
          return t
        end
        pending = nil
      end
      local msg = next_message()
      if msg == nil then
        return nil
      end
      if type(msg) == "table" then
        if msg.type == "stream_event" then
          streaming = true
          local ev = msg.event
          if
            type(ev) == "table"
            and ev.type == "content_block_delta"
            and type(msg.parent_tool_use_id) ~= "string"
            and type(ev.delta) == "table"
            and ev.delta.type == "text_delta"
            and type(ev.delta.text) == "string"
          then
            return ev.delta.text
          end
        elseif msg.type == "assistant" and not streaming and type(msg.parent_tool_use_id) ~= "string" then
          local content = msg.content
          if content == nil and type(msg.message) == "table" then
            content = msg.message.content
          end
          if type(content) == "table" then
            pending, pi = {}, 0
            for _, b in ipairs(content) do
              if type(b) == "table" and b.type == "text" and type(b.text) == "string" then
                pending[#pending + 1] = b.text
              end
            end
          end
        end
      end
    end
  end
end

return M
