--- The Messages API's answer shapes, without I/O: a finished message becomes either the list of server-sent
--- events a streaming request gets, or the JSON body a non-streaming request gets.
---
--- Contract: `sse.events(msg)` returns `{ { event = name, data = table }, ... }` in the API's order:
--- `message_start`, `ping`, then per content block `content_block_start`, its deltas (`text_delta`,
--- `thinking_delta` + one `signature_delta`, `input_json_delta` for `tool_use`; none for other block types),
--- `content_block_stop`; then `message_delta` (stop_reason, usage) and `message_stop`. Texts are cut into deltas of
--- at most `msg.chunk_size` characters, always on UTF-8 character boundaries (no limit: one delta per block),
--- unless the block lists its own pieces in `_pieces` (one delta each; fields starting with "_" are never sent).
--- `sse.format(event)` gives the wire text, `event: NAME\ndata: JSON\n\n`, as the API writes it.
--- `sse.message_body(msg)` is the non-streaming JSON object. `msg` is a normalized reply from script.lua:
--- `{ id, model, content = blocks, stop_reason, usage, chunk_size }`.
---
--- Example: `for _, ev in ipairs(sse.events(msg)) do sock:write(sse.format(ev)) end`

local json = require("claude_agent_sdk.json")

local M = {}

---@param s string UTF-8 text (invalid bytes count as one character each)
---@param n integer|nil characters per piece; nil or < 1 gives the whole text as one piece
---@return string[] pieces non-empty pieces whose concatenation is `s` (none for "")
--- Example: `sse.split_utf8("héllo", 2)  --> { "hé", "ll", "o" }`
function M.split_utf8(s, n)
  if s == "" then
    return {}
  end
  if not n or n < 1 then
    return { s }
  end
  local pieces, len = {}, #s
  local start, i, count = 1, 1, 0
  while i <= len do
    local b = s:byte(i)
    local width = b < 0xC0 and 1 or b < 0xE0 and 2 or b < 0xF0 and 3 or 4
    local j = i + 1
    -- Step over at most width-1 continuation bytes, so broken UTF-8 cannot swallow what follows.
    while j < i + width and j <= len do
      local c = s:byte(j)
      if c < 0x80 or c > 0xBF then
        break
      end
      j = j + 1
    end
    i = j
    count = count + 1
    if count == n then
      pieces[#pieces + 1] = s:sub(start, i - 1)
      start, count = i, 0
    end
  end
  if start <= len then
    pieces[#pieces + 1] = s:sub(start)
  end
  return pieces
end

local function usage_of(msg, output_tokens)
  local u = msg.usage or {}
  return {
    input_tokens = u.input_tokens or 0,
    cache_creation_input_tokens = u.cache_creation_input_tokens or 0,
    cache_read_input_tokens = u.cache_read_input_tokens or 0,
    output_tokens = output_tokens or u.output_tokens or 0,
    service_tier = "standard",
  }
end

-- A copy of a block without our private "_" fields.
local function public_fields(block)
  local out = {}
  for k, v in pairs(block) do
    if type(k) ~= "string" or k:sub(1, 1) ~= "_" then
      out[k] = v
    end
  end
  return out
end

-- The empty shape of a block for content_block_start, and its deltas.
local function block_events(index, block, chunk_size, out)
  local kind = block.type
  local function delta(d)
    out[#out + 1] = { event = "content_block_delta", data = { type = "content_block_delta", index = index, delta = d } }
  end
  if kind == "text" then
    out[#out + 1] = {
      event = "content_block_start",
      data = { type = "content_block_start", index = index, content_block = { type = "text", text = "" } },
    }
    for _, piece in ipairs(block._pieces or M.split_utf8(block.text or "", chunk_size)) do
      delta({ type = "text_delta", text = piece })
    end
  elseif kind == "thinking" then
    out[#out + 1] = {
      event = "content_block_start",
      data = {
        type = "content_block_start",
        index = index,
        content_block = { type = "thinking", thinking = "", signature = "" },
      },
    }
    for _, piece in ipairs(block._pieces or M.split_utf8(block.thinking or "", chunk_size)) do
      delta({ type = "thinking_delta", thinking = piece })
    end
    delta({ type = "signature_delta", signature = block.signature or "" })
  elseif kind == "tool_use" or kind == "server_tool_use" then
    out[#out + 1] = {
      event = "content_block_start",
      data = {
        type = "content_block_start",
        index = index,
        content_block = { type = kind, id = block.id, name = block.name, input = {} },
      },
    }
    for _, piece in ipairs(M.split_utf8(json.encode(block.input or {}), chunk_size)) do
      delta({ type = "input_json_delta", partial_json = piece })
    end
  else
    -- Other block types (redacted_thinking, web_search_tool_result, ...) arrive whole in their start event.
    out[#out + 1] = {
      event = "content_block_start",
      data = { type = "content_block_start", index = index, content_block = public_fields(block) },
    }
  end
  out[#out + 1] = { event = "content_block_stop", data = { type = "content_block_stop", index = index } }
end

---@param msg table a normalized reply: { id, model, content, stop_reason, usage, chunk_size }
---@return table[] events `{ event = name, data = table }` in wire order
--- Example: `local evs = sse.events({ id = "msg_1", model = "m", content = { { type = "text", text = "hi" } } })`
function M.events(msg)
  local out = {
    {
      event = "message_start",
      data = {
        type = "message_start",
        message = {
          id = msg.id,
          type = "message",
          role = "assistant",
          model = msg.model,
          content = json.array(),
          stop_reason = json.null,
          stop_sequence = json.null,
          usage = usage_of(msg, 1),
        },
      },
    },
    { event = "ping", data = { type = "ping" } },
  }
  for i, block in ipairs(msg.content) do
    block_events(i - 1, block, msg.chunk_size, out)
  end
  out[#out + 1] = {
    event = "message_delta",
    data = {
      type = "message_delta",
      delta = { stop_reason = msg.stop_reason or "end_turn", stop_sequence = msg.stop_sequence or json.null },
      usage = usage_of(msg),
    },
  }
  out[#out + 1] = { event = "message_stop", data = { type = "message_stop" } }
  return out
end

---@param ev table `{ event = name, data = table }`
---@return string text `event: NAME\ndata: JSON\n\n`
--- Example: `sse.format({ event = "ping", data = { type = "ping" } })`
function M.format(ev)
  return "event: " .. ev.event .. "\ndata: " .. json.encode(ev.data) .. "\n\n"
end

---@param msg table a normalized reply (see sse.events)
---@return table body the non-streaming Messages API response object
--- Example: `local body = json.encode(sse.message_body(msg))`
function M.message_body(msg)
  local content = json.array()
  for i, block in ipairs(msg.content) do
    content[i] = public_fields(block)
  end
  return {
    id = msg.id,
    type = "message",
    role = "assistant",
    model = msg.model,
    content = content,
    stop_reason = msg.stop_reason or "end_turn",
    stop_sequence = msg.stop_sequence or json.null,
    usage = usage_of(msg),
  }
end

return M
