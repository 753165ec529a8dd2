-- The C decoder builds assistant, user and stream_event messages straight
-- from the line (core.message_shapes, lua_cas.c); the plain path decodes the
-- frame and gives it to messages.parse().  Both must give the same message,
-- metatables included, for every frame: well-formed, odd (nulls, repeated
-- keys, escaped keys, content of every kind) and malformed (no "message",
-- a "message" that is not an object), where both raise the same error.
local core = require("claude_agent_sdk.core")
local messages = require("claude_agent_sdk.messages")
local json = require("claude_agent_sdk.json")

local null = json.null
local SHAPES = core.message_shapes(messages.shapes, messages.block_classes, messages.ContentBlock)

-- Every line of `lines` through a client on `cat`: the typed results (or
-- errors) of next_message(SHAPES), and of next_message() + messages.parse().
local function both_ways(lines)
  local file = os.tmpname()
  local f = assert(io.open(file, "wb"))
  f:write(table.concat(lines, "\n"), "\n")
  f:close()
  local function run(shapes)
    local c = assert(core.spawn({ argv = { "/bin/cat", file } }))
    local out, typed_count = {}, 0
    while true do
      local kind, v, typed = c:next_message(shapes)
      if kind == "message" then
        if typed == true then
          typed_count = typed_count + 1
          out[#out + 1] = { ok = true, msg = v }
        else
          local ok, m = pcall(messages.parse, v)
          out[#out + 1] = { ok = ok, msg = ok and m or tostring(m) }
        end
      elseif kind then
        out[#out + 1] = { ok = false, msg = kind .. ": " .. tostring(v) }
      elseif c:finished() then
        break
      else
        c:pump(100)
      end
    end
    c:close()
    return out, typed_count
  end
  local a, typed = run(SHAPES)
  local b, plain = run(nil)
  os.remove(file)
  assert.are.equal(0, plain)
  return a, b, typed
end

local function same(a, b, path)
  if type(a) == "table" and type(b) == "table" then
    if getmetatable(a) ~= getmetatable(b) then error("metatables differ at " .. path) end
    for k, v in pairs(a) do same(v, b[k], path .. "." .. tostring(k)) end
    for k in pairs(b) do
      if a[k] == nil then error("extra key " .. path .. "." .. tostring(k)) end
    end
  elseif a ~= b or (math.type and math.type(a) ~= math.type(b)) then
    error(("differs at %s: %s vs %s"):format(path, tostring(a), tostring(b)))
  end
end

local function check(lines)
  local a, b, typed = both_ways(lines)
  assert.are.equal(#lines, #a)
  assert.are.equal(#lines, #b)
  for i = 1, #lines do
    local ok, err = pcall(same, a[i], b[i], "$")
    if not ok then error(("line %d %s: %s"):format(i, lines[i], err)) end
  end
  return a, typed
end

describe("typed decoding in C", function()
  it("builds the hot frames typed, as messages.parse() does", function()
    local lines = {
      '{"type":"assistant","message":{"id":"msg_1","type":"message","role":"assistant","model":"m",'
        .. '"content":[{"type":"text","text":"hi"},{"type":"tool_use","id":"t1","name":"Bash",'
        .. '"input":{"command":"ls","x":null}},{"type":"thinking","thinking":"hm","signature":"s"},'
        .. '{"type":"server_tool_use","id":"s1"}],"stop_reason":null,"stop_sequence":null,'
        .. '"usage":{"input_tokens":3,"output_tokens":4,"cache":{"a":[1,2.5]}}},'
        .. '"parent_tool_use_id":null,"session_id":"s","uuid":"u"}',
      '{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1",'
        .. '"content":"out","is_error":null}]},"parent_tool_use_id":"p","session_id":"s","uuid":"u2",'
        .. '"tool_use_result":{"stdout":"out","stderr":null}}',
      '{"type":"user","message":{"role":"user","content":"plain text"},"session_id":"s"}',
      '{"type":"stream_event","event":{"type":"content_block_delta","index":0,'
        .. '"delta":{"type":"text_delta","text":"a\\nb\\u00e9\\ud83d\\ude00"}},"session_id":"s",'
        .. '"parent_tool_use_id":null,"uuid":"u3"}',
    }
    local out, typed = check(lines)
    assert.are.equal(4, typed)
    local a = out[1].msg
    assert.are.equal(messages.AssistantMessage, getmetatable(a))
    assert.are.equal("msg_1", a.message_id)
    assert.are.equal(messages.ToolUseBlock, getmetatable(a.content[2]))
    assert.are.equal(null, a.content[2].input.x) -- raw data keeps null
    assert.are.equal(messages.ContentBlock, getmetatable(a.content[4]))
    assert.is_nil(a.stop_reason)
    assert.is_nil(a.parent_tool_use_id)
    assert.is_nil(out[2].msg.content[1].is_error)
    assert.are.equal("plain text", out[3].msg.content)
    assert.are.equal("a\nbé😀", out[4].msg.event.delta.text)
  end)

  it("falls back to the plain path, with its errors, when the shape does not fit", function()
    local lines = {
      '{"type":"assistant","session_id":"s"}', -- no message
      '{"type":"assistant","message":"text"}', -- not an object
      '{"type":"assistant","message":[1,2]}', -- an array: a table to Lua
      '{"type":"assistant","message":{"model":"a","content":[{"type":"text","text":"x"}]},"message":{"id":"i"}}', -- repeated lift
      '{"type":"assistant","message":{"model":"a","model":"b"}}', -- repeated field
      '{"type":"assistant","message":{"model":"a","model":null}}',
      '{"type":"assistant","message":{"model":null,"model":"b"}}',
      '{"type":"assistant","message":{"\\u006dodel":"esc"}}', -- escaped key
      '{"type":"stream_event","event":{"a":1},"type":"other"}', -- a second type
      '{"type":"user","message":{"content":null}}',
      '{"type":"assistant","message":{"content":null}}', -- content defaults to []
      '{"type":"assistant","message":{"content":{"type":"text"}}}', -- content an object
      '{"type":"assistant","message":{"content":[[1],"s",null,{"type":null},{"is_error":true,"is_error":null}]}}',
      '{"type":"stream_event","event":null,"uuid":null}',
    }
    local out = check(lines)
    assert.is_false(out[1].ok)
    assert.matches("MessageParseError", out[1].msg)
    assert.is_false(out[2].ok)
    assert.are.equal("b", out[5].msg.model)
    assert.is_nil(out[6].msg.model)
    assert.are.equal("esc", out[8].msg.model)
    assert.are.equal(0, #out[11].msg.content)
    assert.are.equal(core.array_mt, getmetatable(out[11].msg.content))
  end)

  it("refuses a malformed shape table with a message that names the shape", function()
    local cls = messages.AssistantMessage
    local function bad(shapes, pattern)
      local ok, err = pcall(core.message_shapes, shapes, {}, {})
      assert.is_false(ok)
      assert.matches(pattern, tostring(err))
    end
    bad({ assistant = { fields = {} } }, "assistant: class must be a table")
    bad({ assistant = { class = cls } }, "assistant: fields must be a table")
    bad({ assistant = { class = cls, fields = { a = 1 } } }, "fields map strings to strings")
    bad({ assistant = { class = cls, fields = {}, lift = "message" } }, "lifted must be a table")
    bad({ assistant = { class = cls, fields = {}, blocks = 3 } }, "blocks must be a string")
    bad({ [1] = {} }, "map frame types to tables")
    assert.has_error(function() core.message_shapes(nil, {}, {}) end)
  end)

  -- Over 256 KiB a line is handed over from the framer's buffer (no copy), and
  -- its escaped strings decode into a scratch buffer of the line's size.
  it("builds long lines with escapes the same way (3 MB, handed over, not copied)", function()
    local chunk = ("line with \\\"quotes\\\", a tab\\t and \\u00e9\\n"):rep(70000)
    local lines = {
      '{"type":"assistant","message":{"model":"m","content":[{"type":"text","text":"' .. chunk .. '"}]},"uuid":"u"}',
      '{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t","content":"' .. chunk
        .. '","is_error":null}]}}',
      '{"type":"stream_event","event":{"delta":{"text":"short"}}}',
    }
    local out, typed = check(lines)
    assert.are.equal(3, typed)
    local text = out[1].msg.content[1].text
    assert.are.equal(70000 * 34, #text)
    assert.are.equal('line with "quotes", a tab\t and é\n', text:sub(1, 34))
    assert.are.equal(text, out[2].msg.content[1].content)
  end)

  -- Random frames of the three shapes: fields present, absent, null or of
  -- another kind, in any order, with escapes and whitespace anywhere.
  it("agrees with the plain path on 2000 random frames", function()
    local seed = 11212026
    local function rnd(n) seed = (seed * 1103515245 + 12345) % 2147483648 return seed % n end
    local ws = { "", "", "", " ", "\t", "\r " }
    local function w() return ws[rnd(#ws) + 1] end
    local strs = { '"x"', '""', '"a\\"b"', '"\\u00e9\\n"', '"🎉"', '"msg_01"', '"\\ud800"', '"text"' }
    local scalars = { "null", "true", "false", "0", "-1.5", "12345678901234567890", "1e2" }
    local function scalar() return rnd(2) == 0 and strs[rnd(#strs) + 1] or scalars[rnd(#scalars) + 1] end
    local value
    local function obj(keys, depth)
      local t = {}
      for _ = 1, rnd(5) do
        local k = keys[rnd(#keys) + 1]
        t[#t + 1] = w() .. '"' .. k .. '"' .. w() .. ":" .. w() .. value(depth + 1)
      end
      return "{" .. table.concat(t, ",") .. w() .. "}"
    end
    value = function(depth)
      local k = rnd(depth > 3 and 2 or 4)
      if k <= 1 then return scalar() end
      if k == 2 then
        local t = {}
        for i = 1, rnd(4) do t[i] = value(depth + 1) end
        return "[" .. w() .. table.concat(t, w() .. "," .. w()) .. "]"
      end
      return obj({ "type", "text", "is_error", "id", "a" }, depth)
    end
    local block_types = { '"text"', '"tool_use"', '"tool_result"', '"thinking"', '"image"', "null", "3" }
    local function block()
      if rnd(6) == 0 then return value(2) end
      local t = { '"type":' .. block_types[rnd(#block_types) + 1] }
      if rnd(2) == 0 then t[#t + 1] = '"text":' .. scalar() end
      if rnd(3) == 0 then t[#t + 1] = '"is_error":' .. ({ "null", "true", "false" })[rnd(3) + 1] end
      if rnd(3) == 0 then t[#t + 1] = '"input":' .. value(2) end
      return "{" .. table.concat(t, "," .. w()) .. "}"
    end
    local function content()
      local k = rnd(6)
      if k == 0 then return scalar() end
      if k == 1 then return value(1) end
      local t = {}
      for i = 1, rnd(4) do t[i] = block() end
      return "[" .. table.concat(t, "," .. w()) .. "]"
    end
    local function member(name, v) return '"' .. name .. '":' .. w() .. v end
    -- Some of the names, in any order; now and then one of them twice.
    local function pick(names)
      local out = {}
      for _, n in ipairs(names) do
        if rnd(2) == 0 then table.insert(out, rnd(#out + 1) + 1, n) end
      end
      if #out > 0 and rnd(10) == 0 then out[#out + 1] = out[rnd(#out) + 1] end
      return out
    end
    local function frame()
      local kind = ({ "assistant", "user", "stream_event" })[rnd(3) + 1]
      local t = { member("type", '"' .. kind .. '"') }
      for _, name in ipairs(pick({ "session_id", "uuid", "parent_tool_use_id", "error", "tool_use_result",
        "event", "extra" })) do
        t[#t + 1] = member(name, rnd(3) == 0 and value(1) or scalar())
      end
      if kind ~= "stream_event" and rnd(12) ~= 0 then
        local inner = {}
        for _, name in ipairs(pick({ "id", "model", "content", "usage", "stop_reason", "role", "type",
          "stop_sequence" })) do
          inner[#inner + 1] = member(name, name == "content" and content() or (rnd(3) == 0 and value(1) or scalar()))
        end
        t[#t + 1] = member("message", rnd(15) == 0 and scalar() or "{" .. table.concat(inner, ",") .. "}")
      end
      -- shuffle the members (the type need not come first)
      for i = #t, 2, -1 do
        local j = rnd(i) + 1
        t[i], t[j] = t[j], t[i]
      end
      return "{" .. w() .. table.concat(t, "," .. w()) .. w() .. "}"
    end
    local lines = {}
    for i = 1, 2000 do lines[i] = frame() end
    local _, typed = check(lines)
    -- most frames fit their shape; the rest went the plain way and agreed too
    assert.is_true(typed > 1000, "typed: " .. typed)
    assert.is_true(typed < 2000, "typed: " .. typed)
  end)
end)
