-- The C decoder builds assistant, user and stream_event messages straight
-- from the line (core.message_shapes, csrc/lua_cas_typed.c); the plain path
-- decodes the frame and gives it to messages.parse().  Both must give the same
-- message, metatables included, for every frame: well-formed, odd (nulls,
-- repeated keys, escaped keys, content of every kind) and malformed (no
-- "message", a "message" that is not an object), where both raise the same
-- error.  There is one decoder, a walk that checks the line as it builds
-- (csrc/lua_cas_json.c); the reference for what it accepts is the core's scan,
-- which a client spawned with defer_check = false runs on every line first.
local core = require("claude_agent_sdk.core")
local messages = require("claude_agent_sdk.messages")
local json = require("claude_agent_sdk.json")

local null = json.null
local SHAPES = core.message_shapes(messages.shapes, messages.block_classes, messages.ContentBlock)

-- Every line of `lines` through a client on `cat`, four ways: batched as the
-- client takes them (next_messages, then a plain next_message() for what it
-- leaves), one at a time typed (next_message(SHAPES)), plain (next_message()
-- + messages.parse()), and plain again with every line scanned by the core
-- before it is queued (defer_check = false).  Each gives the messages (or
-- errors) and how many were typed.  The core queues these frames unchecked,
-- so the first three walks check them as they go; the fourth way's scan is
-- the reference for what is valid.
local function both_ways(lines, opts)
  local file = os.tmpname()
  local f = assert(io.open(file, "wb"))
  f:write(table.concat(lines, "\n"), "\n")
  f:close()
  local function run(shapes, batched, scan_first)
    local spec = { argv = { "/bin/cat", file }, defer_check = not scan_first }
    for k, v in pairs(opts or {}) do
      spec[k] = v
    end
    local c = assert(core.spawn(spec))
    local out, typed_count, buf = {}, 0, {}
    while true do
      local n = batched and c:next_messages(shapes, buf) or 0
      for i = 1, n do
        typed_count = typed_count + 1
        out[#out + 1] = { ok = true, msg = buf[i] }
        buf[i] = nil
      end
      local kind, v, typed
      if n == 0 then
        kind, v, typed = c:next_message(not batched and shapes or nil)
      end
      if n > 0 then -- luacheck: ignore 542
      elseif kind == "message" then
        if typed == true then
          typed_count = typed_count + 1
          out[#out + 1] = { ok = true, msg = v }
        else
          local ok, m = pcall(messages.parse, v)
          out[#out + 1] = { ok = ok, msg = ok and m or tostring(m) }
        end
      elseif kind then
        out[#out + 1] = { ok = false, msg = kind .. ": " .. tostring(v) .. " " .. tostring(typed) }
      elseif c:finished() then
        break
      else
        c:pump(100)
      end
    end
    c:close()
    return out, typed_count
  end
  local a, typed = run(SHAPES, true)
  local one, typed_one = run(SHAPES, false)
  local b, plain = run(nil)
  local scanned, plain_scanned = run(nil, false, true)
  os.remove(file)
  assert.are.equal(0, plain)
  assert.are.equal(0, plain_scanned)
  assert.are.equal(typed, typed_one)
  return a, b, typed, one, scanned
end

local function same(a, b, path)
  if type(a) == "table" and type(b) == "table" then
    if getmetatable(a) ~= getmetatable(b) then
      error("metatables differ at " .. path)
    end
    for k, v in pairs(a) do
      same(v, b[k], path .. "." .. tostring(k))
    end
    for k in pairs(b) do
      if a[k] == nil then
        error("extra key " .. path .. "." .. tostring(k))
      end
    end
  elseif a ~= b or (math.type and math.type(a) ~= math.type(b)) then
    error(("differs at %s: %s vs %s"):format(path, tostring(a), tostring(b)))
  end
end

local function check(lines, opts)
  local a, b, typed, one, scanned = both_ways(lines, opts)
  assert.are.equal(#lines, #a)
  assert.are.equal(#lines, #b)
  assert.are.equal(#lines, #one)
  assert.are.equal(#lines, #scanned)
  for i = 1, #lines do
    local ok, err = pcall(same, a[i], b[i], "$")
    if ok then
      ok, err = pcall(same, one[i], b[i], "$")
    end
    if ok then
      ok, err = pcall(same, scanned[i], b[i], "$")
    end
    if not ok then
      error(("line %d %s: %s"):format(i, lines[i], err))
    end
  end
  return a, typed
end

describe("typed decoding in C", function()
  it("builds the hot frames typed, as messages.parse() does", function()
    local lines = {
      '{"type":"assistant","message":{"id":"msg_1","type":"message","role":"assistant","model":"m",'
        .. '"content":[{"type":"text","text":"hi"},{"type":"tool_use","id":"t1","name":"Bash",'
        .. '"input":{"command":"ls","x":null}},{"type":"thinking","thinking":"hm","signature":"s"},'
        .. '{"type":"web_search_tool_result","id":"s1"}],"stop_reason":null,"stop_sequence":null,'
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
    -- keys are matched by their bytes, so they must be plain JSON names
    bad({ assistant = { class = cls, fields = { ['a"b'] = "x" } } }, 'wire key a"b is not a plain JSON name')
    bad({ assistant = { class = cls, fields = { ["a\\b"] = "x" } } }, "is not a plain JSON name")
    bad({ assistant = { class = cls, fields = { ["a\255"] = "x" } } }, "is not a plain JSON name")
    bad({ assistant = { class = cls, fields = {}, lift = "message" } }, "lifted must be a table")
    bad({ assistant = { class = cls, fields = {}, blocks = 3 } }, "blocks must be a string")
    bad({ assistant = { class = cls, fields = {}, block_nulls = "is_error" } }, "block_nulls must be a table")
    bad({ assistant = { class = cls, fields = {}, block_nulls = { 1 } } }, "block_nulls must list strings")
    bad(
      { assistant = { class = cls, fields = {}, block_nulls = { "a", "b", "c", "d", "e" } } },
      "more than 4 block_nulls"
    )
    bad({ [1] = {} }, "map frame types to tables")
    assert.has_error(function()
      core.message_shapes(nil, {}, {})
    end)
  end)

  -- Which block members lose their null is messages.shapes data (block_nulls), not C: with another list
  -- the walk drops those instead.
  it("drops the block members messages.shapes lists when null, and keeps the others' null", function()
    local a = messages.shapes.assistant
    local custom = core.message_shapes({
      assistant = {
        class = a.class,
        fields = a.fields,
        lift = a.lift,
        lifted = a.lifted,
        blocks = a.blocks,
        array = a.array,
        block_nulls = { "x", "y" },
      },
    }, messages.block_classes, messages.ContentBlock)
    local file = os.tmpname()
    local f = assert(io.open(file, "wb"))
    f:write(
      '{"type":"assistant","message":{"content":[{"type":"tool_result","x":null,"y":null,"is_error":null,'
        .. '"z":null}]}}\n'
    )
    f:close()
    local c = assert(core.spawn({ argv = { "/bin/cat", file } }))
    local kind, msg, typed
    while true do
      kind, msg, typed = c:next_message(custom)
      if kind or c:finished() then
        break
      end
      c:pump(100)
    end
    c:close()
    os.remove(file)
    assert.are.equal("message", kind)
    assert.is_true(typed)
    local b = msg.content[1]
    assert.are.equal(messages.ToolResultBlock, getmetatable(b))
    assert.is_nil(rawget(b, "x"))
    assert.is_nil(rawget(b, "y"))
    assert.are.equal(null, b.is_error) -- not listed here: kept as null
    assert.are.equal(null, b.z)
    -- the shapes messages.lua ships list is_error, for C and for messages.parse alike
    assert.are.same({ "is_error" }, messages.shapes.assistant.block_nulls)
    assert.are.equal(messages.shapes.assistant.block_nulls, messages.shapes.user.block_nulls)
  end)

  -- Over 256 KiB a line is handed over from the framer's buffer (no copy), and
  -- its escaped strings decode into a scratch buffer of the line's size.
  it("builds long lines with escapes the same way (3 MB, handed over, not copied)", function()
    local chunk = ('line with \\"quotes\\", a tab\\t and \\u00e9\\n'):rep(70000)
    local lines = {
      '{"type":"assistant","message":{"model":"m","content":[{"type":"text","text":"' .. chunk .. '"}]},"uuid":"u"}',
      '{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t","content":"'
        .. chunk
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
    local function rnd(n)
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % n
    end
    local ws = { "", "", "", " ", "\t", "\r " }
    local function w()
      return ws[rnd(#ws) + 1]
    end
    local strs = { '"x"', '""', '"a\\"b"', '"\\u00e9\\n"', '"🎉"', '"msg_01"', '"\\ud800"', '"text"' }
    local scalars = { "null", "true", "false", "0", "-1.5", "12345678901234567890", "1e2" }
    local function scalar()
      return rnd(2) == 0 and strs[rnd(#strs) + 1] or scalars[rnd(#scalars) + 1]
    end
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
      if k <= 1 then
        return scalar()
      end
      if k == 2 then
        local t = {}
        for i = 1, rnd(4) do
          t[i] = value(depth + 1)
        end
        return "[" .. w() .. table.concat(t, w() .. "," .. w()) .. "]"
      end
      return obj({ "type", "text", "is_error", "id", "a" }, depth)
    end
    local block_types = { '"text"', '"tool_use"', '"tool_result"', '"thinking"', '"image"', "null", "3" }
    local function block()
      if rnd(6) == 0 then
        return value(2)
      end
      local t = { '"type":' .. block_types[rnd(#block_types) + 1] }
      if rnd(2) == 0 then
        t[#t + 1] = '"text":' .. scalar()
      end
      if rnd(3) == 0 then
        t[#t + 1] = '"is_error":' .. ({ "null", "true", "false" })[rnd(3) + 1]
      end
      if rnd(3) == 0 then
        t[#t + 1] = '"input":' .. value(2)
      end
      return "{" .. table.concat(t, "," .. w()) .. "}"
    end
    local function content()
      local k = rnd(6)
      if k == 0 then
        return scalar()
      end
      if k == 1 then
        return value(1)
      end
      local t = {}
      for i = 1, rnd(4) do
        t[i] = block()
      end
      return "[" .. table.concat(t, "," .. w()) .. "]"
    end
    local function member(name, v)
      return '"' .. name .. '":' .. w() .. v
    end
    -- Some of the names, in any order; now and then one of them twice.
    local function pick(names)
      local out = {}
      for _, n in ipairs(names) do
        if rnd(2) == 0 then
          table.insert(out, rnd(#out + 1) + 1, n)
        end
      end
      if #out > 0 and rnd(10) == 0 then
        out[#out + 1] = out[rnd(#out) + 1]
      end
      return out
    end
    local function frame()
      local kind = ({ "assistant", "user", "stream_event" })[rnd(3) + 1]
      local t = { member("type", '"' .. kind .. '"') }
      for _, name in
        ipairs(pick({ "session_id", "uuid", "parent_tool_use_id", "error", "tool_use_result", "event", "extra" }))
      do
        t[#t + 1] = member(name, rnd(3) == 0 and value(1) or scalar())
      end
      if kind ~= "stream_event" and rnd(12) ~= 0 then
        local inner = {}
        for _, name in
          ipairs(pick({ "id", "model", "content", "usage", "stop_reason", "role", "type", "stop_sequence" }))
        do
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
    for i = 1, 2000 do
      lines[i] = frame()
    end
    local _, typed = check(lines)
    -- most frames fit their shape; the rest went the plain way and agreed too
    assert.is_true(typed > 1000, "typed: " .. typed)
    assert.is_true(typed < 2000, "typed: " .. typed)
  end)

  -- The walk checks what it builds: each of these is refused by the core's
  -- scan, and must come out as the same decode error (code, head) typed or
  -- not, never as a message.
  it("reports a malformed hot frame exactly as the scan does", function()
    local A = '{"type":"assistant","message":{"model":"m","content":[{"type":"text","text":"x"}]}'
    local lines = {
      A .. ',"uuid":"\255"}', -- invalid UTF-8 in a string
      A .. ',"uuid":"\192\175"}', -- overlong
      A .. ',"uuid":"\237\160\128"}', -- a surrogate in UTF-8
      A .. ',"uuid":"ok","stop":01,"x":"\255"}', -- invalid UTF-8 wins over an earlier syntax error
      A .. ',"uuid":"a\tb"}', -- a raw control character
      A .. ',"uuid":"a\\xb"}', -- a bad escape
      A .. ',"uuid":"\\u12G4"}',
      A .. ',"n":01}',
      A .. ',"n":1.}',
      A .. ',"n":-}',
      A .. ',"n":1e}',
      A .. ',"n":.5}',
      A .. ',"n":+1}',
      A .. ',"n":' .. ("9"):rep(70) .. "}", -- longer than any number cJSON reads
      A .. ',"uuid":tru}',
      A .. ',"uuid":nul}',
      A .. ',"parent_tool_use_id":nulll}',
      A .. ' "uuid":"u"}', -- no comma
      A .. ',"uuid":"u",}', -- a trailing comma
      A .. ',"uuid" "u"}', -- no colon
      A .. ',"uuid":"u"', -- not closed
      A .. ',"uuid":"u"}}', -- closed twice
      A .. ',"uuid":"u"} x', -- something after the frame
      A .. ',"uuid":"u"}{}',
      A .. ',"uuid":"a\0b"}', -- a NUL inside a string
      A .. ',"uuid":"u"}\0', -- and after the frame
      A .. ',"stop_sequence":[1,}', -- inside a member the walk skips
      A .. ',"type":"x"}', -- a second type, and the line is fine: typed or not, the same
      '{"type":"assistant","message":{"model":"m","content":[{"type":"text","text":"x",}]}}',
      '{"type":"assistant","message":{"model":"m","content":[{"type":"text","is_error":nul}]}}',
      '{"type":"assistant","message":{"model":"m","usage":{"a":[1 2]}}}',
      '{"type":"stream_event","event":{"delta":{"text":"\255"}}}',
      '{"type":"user","message":{"content":[{"type":"tool_result","content":"a","is_error":nulll}]}}',
      '{"type":"rate_limit_event","x":}', -- a type with no shape: scanned as before
      '{"type":"assistant"', -- cut short (with its newline: a decode error, not a truncation)
    }
    local out = check(lines)
    for i = 1, #lines do
      if i ~= 28 then
        assert.is_false(out[i].ok, "line " .. i)
        assert.matches("^decode_error: ", out[i].msg)
      end
    end
    assert.matches(" EUTF8$", out[1].msg)
    assert.matches(" EUTF8$", out[4].msg)
    assert.matches(" EJSON$", out[5].msg)
  end)

  it("checks the nesting limit the client was given", function()
    local function nested(d)
      return ("["):rep(d) .. ("]"):rep(d)
    end
    -- the frame, message, content and block objects are 4 levels; input adds the rest
    local function frame(d)
      return '{"type":"assistant","message":{"content":[{"type":"tool_use","input":' .. nested(d) .. "}]}}"
    end
    local out = check({ frame(4), frame(5), frame(1) }, { max_depth = 8 })
    assert.is_true(out[1].ok)
    assert.matches("^decode_error: .* EDEPTH$", out[2].msg)
    assert.is_true(out[3].ok)
    out = check({ frame(600) })
    assert.matches("^decode_error: .* EDEPTH$", out[1].msg)
  end)

  it("builds containers bigger than a stack chunk, in order, last repeated key winning", function()
    local keys, elems = {}, {}
    for i = 1, 300 do
      keys[i] = ('"k%d":%d'):format(i % 150, i)
      elems[i] = tostring(i)
    end
    local line = '{"type":"assistant","message":{"content":[{"type":"tool_use","input":{'
      .. table.concat(keys, ",")
      .. '},"list":['
      .. table.concat(elems, ",")
      .. "]}]}}"
    local out, typed = check({ line })
    assert.are.equal(1, typed)
    local block = out[1].msg.content[1]
    assert.are.equal(300, #block.list)
    assert.are.equal(300, block.input.k0)
    assert.are.equal(299, block.input.k149)
  end)

  -- Valid frames with a few bytes changed: whatever the change does, the
  -- typed walks and the scan must agree, message for message, error for error.
  it("agrees with the scan on 3000 damaged frames", function()
    local seed = 20261121
    local function rnd(n)
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % n
    end
    local base = {
      '{"type":"assistant","message":{"id":"msg_1","type":"message","role":"assistant","model":"m",'
        .. '"content":[{"type":"text","text":"hi \\"there\\""},{"type":"tool_use","id":"t","name":"B",'
        .. '"input":{"a":[1,2.5,-3e2,true,false,null],"b":{}}}],"stop_reason":null,"stop_sequence":null,'
        .. '"usage":{"input_tokens":3,"output_tokens":4}},"parent_tool_use_id":null,"session_id":"s","uuid":"u"}',
      '{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t",'
        .. '"content":"out\\u00e9","is_error":null}]},"session_id":"s","uuid":"u2","tool_use_result":{"x":[]}}',
      '{"type":"stream_event","event":{"type":"content_block_delta","index":0,"delta":{"type":"text_delta",'
        .. '"text":"a\\nb é"}},"session_id":"s","parent_tool_use_id":null,"uuid":"u3"}',
    }
    local bytes = {
      '"',
      "\\",
      "{",
      "}",
      "[",
      "]",
      ",",
      ":",
      " ",
      "0",
      "1",
      "-",
      ".",
      "e",
      "n",
      "t",
      "u",
      "\255",
      "\1",
      "\0",
      "\195",
      "x",
    }
    local lines = {}
    for i = 1, 3000 do
      local l = base[rnd(#base) + 1]
      for _ = 1, rnd(3) + 1 do
        local at = rnd(#l - 1) + 2 -- the first '{' stays: a line without it is not JSON to the framer
        local b = bytes[rnd(#bytes) + 1]
        local op = rnd(3)
        if op == 0 then
          l = l:sub(1, at - 1) .. b .. l:sub(at + 1)
        elseif op == 1 then
          l = l:sub(1, at - 1) .. l:sub(at + 1)
        else
          l = l:sub(1, at - 1) .. b .. l:sub(at)
        end
      end
      lines[i] = l:gsub("\n", " ")
    end
    local out, typed = check(lines)
    local bad = 0
    for i = 1, #out do
      if not out[i].ok then
        bad = bad + 1
      end
    end
    -- most changes break the line; some leave it valid (typed or not)
    assert.is_true(bad > 1500, "malformed: " .. bad)
    assert.is_true(typed > 100, "typed: " .. typed)
  end)
end)
