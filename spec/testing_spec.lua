-- Tests of claude_agent_sdk.testing, the offline model server: its pieces without I/O (HTTP parsing, SSE events,
-- rules, JSON), the server over a raw luv TCP client, the standalone command and spawn_server, and finally the
-- real Claude Code CLI talking to it (skipped, loudly, when the CLI is not installed).
--
-- Run from the repository root:
--   LUA_PATH="$PWD/lua/?.lua;$PWD/lua/?/init.lua;;" lua5.4 /usr/bin/busted spec/testing_spec.lua
--   LUA_PATH="$PWD/lua/?.lua;$PWD/lua/?/init.lua;;" luajit /usr/bin/busted spec/testing_spec.lua
-- Every test leaves no luv handle open and no child process behind (checked after each test).

local uv = require("luv")
local cjson = require("cjson")
local testing = require("claude_agent_sdk.testing")
local http = require("claude_agent_sdk.testing.http")
local sse = require("claude_agent_sdk.testing.sse")
local script = require("claude_agent_sdk.testing.script")
local json = require("claude_agent_sdk.json")

local ROOT = assert(
  package.searchpath("claude_agent_sdk.testing", package.path):match("^(.*)/lua/claude_agent_sdk/testing%.lua$"),
  "cannot find the repository root"
)
local BIN = ROOT .. "/bin/claude-offline-model"

local function find_cli()
  local candidates = {
    os.getenv("CLAUDE_CLI_PATH") or "",
    ROOT .. "/.deps/node_modules/.bin/claude",
    "/tmp/clitest/node_modules/.bin/claude",
  }
  for _, path in ipairs(candidates) do
    if path ~= "" and uv.fs_access(path, "X") then
      return path
    end
  end
  return nil
end

---------------------------------------------------------------------------------------------------------------
-- Helpers

-- Run the loop until cond() is true or timeout_ms passes; returns cond().
local function wait_until(cond, timeout_ms)
  local deadline = uv.hrtime() + (timeout_ms or 10000) * 1e6
  local tick = uv.new_timer()
  tick:start(20, 20, function() end)
  while not cond() and uv.hrtime() < deadline do
    uv.run("once")
  end
  tick:close()
  uv.run("nowait")
  return cond()
end

local function close_all(...)
  for _, h in ipairs({ ... }) do
    if h and not h:is_closing() then
      h:close()
    end
  end
end

local function write_file(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

local function read_file(path)
  local f = io.open(path, "r")
  if not f then
    return nil
  end
  local text = f:read("*a")
  f:close()
  return text
end

local function temp_dir()
  return (assert(uv.fs_mkdtemp((os.getenv("TMPDIR") or "/tmp") .. "/offline-model-spec-XXXXXX")))
end

local function remove_tree(path)
  assert(path:match("^/tmp/") or path:match("^" .. (os.getenv("TMPDIR") or "/tmp")), "refusing to remove " .. path)
  os.execute("rm -rf '" .. path .. "'")
end

local function process_alive(pid)
  return uv.kill(pid, 0) == 0
end

-- A raw TCP client: connect, write bytes, collect every read with its arrival time.
local function connect(port)
  local c = { sock = uv.new_tcp(), data = "", reads = {} }
  c.sock:connect("127.0.0.1", port, function(err)
    c.connect_err = err
    c.connected = not err
    if err then
      return
    end
    c.sock:read_start(function(rerr, chunk)
      if rerr or not chunk then
        c.eof = true
        return
      end
      c.data = c.data .. chunk
      c.reads[#c.reads + 1] = { t = uv.hrtime(), data = chunk }
    end)
  end)
  assert(
    wait_until(function()
      return c.connected or c.connect_err
    end, 5000),
    "connect timed out"
  )
  assert(c.connected, c.connect_err)
  function c.send(bytes)
    c.sent_at = uv.hrtime()
    c.sock:write(bytes)
  end
  function c.close()
    close_all(c.sock)
  end
  return c
end

-- Parse complete HTTP responses out of `buf`. `head_only[i]` marks the i-th response as answering HEAD.
local function parse_responses(buf, head_only)
  local out, pos = {}, 1
  while true do
    local hs, he = buf:find("\r\n\r\n", pos, true)
    if not hs then
      break
    end
    local head = buf:sub(pos, hs - 1)
    local status = tonumber(head:match("^HTTP/1%.1 (%d%d%d)"))
    local headers = {}
    for name, value in head:gmatch("\r\n([^:\r\n]+):%s*([^\r\n]*)") do
      headers[name:lower()] = value
    end
    local r = { status = status, headers = headers, chunks = {} }
    local p = he + 1
    if head_only and head_only[#out + 1] then
      r.body = ""
    elseif (headers["transfer-encoding"] or ""):find("chunked") then
      local parts = {}
      while true do
        local ls, le, hex = buf:find("^(%x+)\r\n", p)
        if not ls then
          return out
        end
        local n = tonumber(hex, 16)
        if #buf < le + n + 2 then
          return out
        end
        if n == 0 then
          p = le + 3
          break
        end
        local piece = buf:sub(le + 1, le + n)
        parts[#parts + 1] = piece
        r.chunks[#r.chunks + 1] = piece
        p = le + n + 3
      end
      r.body = table.concat(parts)
    else
      local n = tonumber(headers["content-length"] or "0")
      if #buf < he + n then
        return out
      end
      r.body = buf:sub(he + 1, he + n)
      p = he + n + 1
    end
    out[#out + 1] = r
    pos = p
  end
  return out
end

-- The SSE events of a response body: { { event = name, data = decoded table, raw = "event: ...\n\n" }, ... }.
local function parse_sse(body)
  local events = {}
  for raw in body:gmatch("(event: [^\n]*\ndata: [^\n]*\n\n)") do
    local name, data = raw:match("^event: ([^\n]*)\ndata: ([^\n]*)\n\n$")
    events[#events + 1] = { event = name, data = cjson.decode(data), raw = raw }
  end
  return events
end

local function post(path, body, extra_headers)
  local text = type(body) == "string" and body or json.encode(body)
  local head = "POST "
    .. path
    .. " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    .. (extra_headers or "")
    .. "Content-Length: "
    .. #text
    .. "\r\n\r\n"
  return head .. text
end

local function messages_body(prompt, stream)
  return {
    model = "claude-test",
    max_tokens = 1024,
    stream = stream,
    messages = { { role = "user", content = prompt } },
  }
end

-- One request on a fresh connection to a started server; returns the parsed response and the client.
local function exchange(server, request, timeout_ms, head_only)
  local c = connect(server.port)
  c.send(request)
  local responses
  wait_until(function()
    responses = parse_responses(c.data, head_only and { true } or nil)
    return #responses >= 1
  end, timeout_ms or 5000)
  c.close()
  return responses[1], c
end

local function valid_utf8(s)
  local i, n = 1, #s
  while i <= n do
    local b = s:byte(i)
    local width = b < 0x80 and 1
      or (b >= 0xC2 and b < 0xE0) and 2
      or (b >= 0xE0 and b < 0xF0) and 3
      or (b >= 0xF0 and b < 0xF5) and 4
      or nil
    if not width or i + width - 1 > n then
      return false
    end
    for j = i + 1, i + width - 1 do
      local c = s:byte(j)
      if c < 0x80 or c > 0xBF then
        return false
      end
    end
    i = i + width
  end
  return true
end

local function utf8_chars(s)
  local _, count = s:gsub("[^\128-\191]", "")
  return count
end

-- Every test must leave the loop empty: no handle still open (a server, a timer, a pipe, a child's handle).
local function assert_no_open_handles()
  uv.run("nowait")
  local open = {}
  uv.walk(function(h)
    if not h:is_closing() then
      open[#open + 1] = tostring(h)
      h:close()
    end
  end)
  uv.run("nowait")
  assert.are.same({}, open)
end

---------------------------------------------------------------------------------------------------------------
describe("the server's JSON (claude_agent_sdk.json)", function()
  it("writes what the Messages API's answers need: [] and {} kept apart, null, escapes, integers", function()
    local text = json.encode({
      content = json.array(),
      input = {},
      n = 3,
      half = 0.5,
      s = 'a"b\n\1é',
      list = { 1, 2, { ok = true } },
      null = json.null,
    })
    local back = cjson.decode(text)
    assert.are.same({
      n = 3,
      half = 0.5,
      s = 'a"b\n\1é',
      list = { 1, 2, { ok = true } },
      null = cjson.null,
      content = back.content,
      input = back.input,
    }, back)
    assert.truthy(text:find('"content":[]', 1, true))
    assert.truthy(text:find('"input":{}', 1, true))
    assert.truthy(text:find('"n":3', 1, true))
    assert.truthy(text:find('"s":"a\\"b\\n\\u0001é"', 1, true))
    -- an integral float stays a float on Lua 5.4 ("3.0": JSON.parse reads it as 3 all the same); LuaJIT has
    -- only doubles, and writes an integral one within 2^53 as an integer
    assert.are.equal(math.type and '{"n":3.0}' or '{"n":3}', json.encode({ n = 3.0 }))
    assert.are.equal('{"n":3}', json.encode({ n = 3 }))
  end)

  it("gives message_start an empty content array and null stop fields", function()
    local events = sse.events({ id = "msg_1", model = "m", content = { { type = "text", text = "hi" } } })
    local raw = sse.format(events[1])
    assert.truthy(raw:find('"content":[]', 1, true))
    assert.are.equal(cjson.null, cjson.decode(raw:match("data: ([^\n]*)")).message.stop_reason)
  end)

  it("a reply JSON cannot carry is a script error (a 500 naming the bad value), not a crash", function()
    local server = testing.ModelServer.new({
      script = { default = { tool_use = { name = "Bash", input = { command = function() end } } } },
    })
    local steps = server:respond({
      method = "POST",
      path = "/v1/messages",
      target = "/v1/messages",
      headers = {},
      keep_alive = true,
      body = json.encode(messages_body("hi", true)),
    })
    assert.are.equal(1, #steps)
    assert.truthy(steps[1].data:find("^HTTP/1.1 500"))
    assert.truthy(steps[1].data:find("command is a function", 1, true))
    assert.are.equal(1, #server.errors)
  end)
end)

---------------------------------------------------------------------------------------------------------------
describe("testing.http parser", function()
  it("parses a request fed one byte at a time", function()
    local p = http.parser()
    local raw = post("/v1/messages?beta=true", '{"a":1}')
    local got = {}
    for i = 1, #raw do
      local reqs = assert(p:feed(raw:sub(i, i)))
      for _, r in ipairs(reqs) do
        got[#got + 1] = r
      end
    end
    assert.are.equal(1, #got)
    assert.are.equal("POST", got[1].method)
    assert.are.equal("/v1/messages", got[1].path)
    assert.are.equal("beta=true", got[1].query)
    assert.are.equal('{"a":1}', got[1].body)
    assert.are.equal("application/json", got[1].headers["content-type"])
    assert.is_true(got[1].keep_alive)
  end)

  it("splits pipelined requests and reads chunked bodies with extensions and trailers", function()
    local p = http.parser()
    local chunked = "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
      .. '4;ext=1\r\n{"a"\r\n3\r\n:12\r\n1\r\n}\r\n0\r\nX-Trailer: t\r\n\r\n'
    local reqs = assert(p:feed("GET / HTTP/1.1\r\nConnection: close\r\n\r\n" .. chunked))
    assert.are.equal(2, #reqs)
    assert.are.equal("GET", reqs[1].method)
    assert.is_false(reqs[1].keep_alive)
    assert.are.equal('{"a":12}', reqs[2].body)
  end)

  it("follows HTTP/1.0 keep-alive rules", function()
    local reqs = assert(http.parser():feed("GET / HTTP/1.0\r\n\r\nGET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"))
    assert.is_false(reqs[1].keep_alive)
    assert.is_true(reqs[2].keep_alive)
  end)

  it("rejects garbage and bad chunk sizes with a status", function()
    local reqs, err, status = http.parser():feed("hello there\r\n\r\n")
    assert.is_nil(reqs)
    assert.is_string(err)
    assert.are.equal(400, status)
    reqs, err, status = http.parser():feed("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
    assert.is_nil(reqs)
    assert.are.equal(400, status)
  end)
end)

---------------------------------------------------------------------------------------------------------------
describe("testing.sse", function()
  it("splits text on UTF-8 character boundaries", function()
    local text = "héllo wörld ✓ 😀 naïve ñ"
    for n = 1, 6 do
      local pieces = sse.split_utf8(text, n)
      assert.are.equal(text, table.concat(pieces))
      for _, piece in ipairs(pieces) do
        assert.is_true(valid_utf8(piece), "broken UTF-8 piece " .. piece)
        assert.is_true(utf8_chars(piece) <= n)
      end
    end
    assert.are.same({}, sse.split_utf8("", 3))
    assert.are.same({ text }, sse.split_utf8(text, nil))
  end)

  it("emits the API's event order for thinking, text and tool_use blocks", function()
    local events = sse.events({
      id = "msg_1",
      model = "m",
      stop_reason = "tool_use",
      chunk_size = 3,
      content = {
        { type = "thinking", thinking = "hmm", signature = "sig" },
        { type = "text", text = "abcdef" },
        { type = "tool_use", id = "toolu_1", name = "Bash", input = { command = "ls" } },
      },
    })
    local names = {}
    for _, ev in ipairs(events) do
      names[#names + 1] = ev.event .. (ev.data.delta and (":" .. (ev.data.delta.type or "")) or "")
    end
    assert.are.same({
      "message_start",
      "ping",
      "content_block_start",
      "content_block_delta:thinking_delta",
      "content_block_delta:signature_delta",
      "content_block_stop",
      "content_block_start",
      "content_block_delta:text_delta",
      "content_block_delta:text_delta",
      "content_block_stop",
      "content_block_start",
      "content_block_delta:input_json_delta",
      "content_block_delta:input_json_delta",
      "content_block_delta:input_json_delta",
      "content_block_delta:input_json_delta",
      "content_block_delta:input_json_delta",
      "content_block_delta:input_json_delta",
      "content_block_stop",
      "message_delta:",
      "message_stop",
    }, names)
    local json_text = ""
    for _, ev in ipairs(events) do
      if ev.data.delta and ev.data.delta.partial_json then
        json_text = json_text .. ev.data.delta.partial_json
      end
    end
    assert.are.same({ command = "ls" }, cjson.decode(json_text))
    assert.are.equal('event: message_stop\ndata: {"type":"message_stop"}\n\n', sse.format(events[#events]))
    assert.are.equal("tool_use", events[#events - 1].data.delta.stop_reason)
  end)
end)

---------------------------------------------------------------------------------------------------------------
describe("testing.script", function()
  local reminder = { type = "text", text = "<system-reminder>\nToday is a day.\n</system-reminder>\n\n" }

  it("finds the last user text, skipping reminders and the CLI's system-role messages", function()
    local req = script.request({
      model = "m",
      messages = {
        { role = "user", content = "first question" },
        { role = "assistant", content = { { type = "text", text = "first answer" } } },
        { role = "user", content = { reminder, { type = "text", text = "second question" } } },
        { role = "system", content = "Available agent types: ..." },
      },
      tools = { { name = "Bash" }, { name = "Read" } },
      system = { { type = "text", text = "sys" } },
    })
    assert.are.equal("second question", req.last_user_text)
    assert.is_false(req.is_tool_result)
    assert.are.same({ "Bash", "Read" }, req.tools)
    assert.are.equal("sys", req.system)
    assert.are.equal("first question\nfirst answer\nsecond question", req.history_text)
    assert.is_nil(req.side)
  end)

  it("exposes tool results and keeps string rules off tool-result turns", function()
    local req = script.request({
      messages = {
        { role = "user", content = "what is the weather" },
        { role = "assistant", content = { { type = "tool_use", id = "t1", name = "Bash", input = {} } } },
        {
          role = "user",
          content = {
            { type = "tool_result", tool_use_id = "t1", content = { { type = "text", text = "sunny" } } },
          },
        },
      },
    })
    assert.is_true(req.is_tool_result)
    assert.are.equal("what is the weather", req.last_user_text)
    assert.are.same({ { tool_use_id = "t1", text = "sunny", is_error = false } }, req.tool_results)
    local s = script.new({
      { match = "weather", reply = { tool_use = { name = "Bash", input = { command = "echo sunny" } } } },
      { match = { tool_result = "SUNNY" }, reply = "It is sunny." },
    })
    local r = s:answer(req)
    assert.are.equal("It is sunny.", r.message.content[1].text)
    assert.are.equal("end_turn", r.message.stop_reason)
  end)

  it("normalizes replies: tool ids, stop reasons, thinking signatures, errors", function()
    local s = script.new({
      { match = "tools", reply = { text = "two tools", tool_use = { { name = "A" }, { name = "B", id = "mine" } } } },
      { match = "think", reply = { thinking = "hmm", text = "done" } },
      { match = "limit", reply = { status = 429 } },
      {
        match = "full",
        reply = {
          content = { { type = "text", text = "x" } },
          stop_reason = "max_tokens",
          usage = { input_tokens = 7, output_tokens = 9 },
          model = "other",
        },
      },
    })
    local function ask(text)
      return s:answer(script.request({ model = "m", messages = { { role = "user", content = text } } }))
    end
    local r = ask("use tools")
    assert.are.equal("tool_use", r.message.stop_reason)
    assert.are.equal("toolu_offline_1", r.message.content[2].id)
    assert.are.equal("mine", r.message.content[3].id)
    assert.are.same({}, r.message.content[2].input)
    assert.are.equal("toolu_offline_2", ask("tools again").message.content[2].id)
    r = ask("think hard")
    assert.are.equal("thinking", r.message.content[1].type)
    assert.is_string(r.message.content[1].signature)
    r = ask("rate limit")
    assert.are.equal(429, r.status)
    assert.are.equal("rate_limit_error", r.error.type)
    r = ask("full control")
    assert.are.equal("max_tokens", r.message.stop_reason)
    assert.are.equal("other", r.message.model)
    assert.are.equal(9, r.message.usage.output_tokens)
  end)

  it("tries rules in order, retires rules after `times`, then uses the default, then the echo", function()
    local s = script.new({
      {
        match = "hello",
        reply = function()
          return nil
        end,
      }, -- passes every request on
      { match = "hello", reply = "first", times = 1 },
      {
        match = function(req)
          return req.index == 5
        end,
        reply = "fifth",
      },
      {
        match = "hello",
        reply = function(req)
          return { text = "again: " .. req.last_user_text }
        end,
      },
    })
    local function ask(text, index)
      local req = script.request({ messages = { { role = "user", content = text } } }, { index = index })
      return s:answer(req).message.content[1].text
    end
    assert.are.equal("first", ask("hello", 0))
    assert.are.equal("again: hello", ask("hello", 1))
    assert.are.equal("fifth", ask("anything", 5))
    assert.are.equal("You said: other", ask("other", 2))
    local both = script.new({ { match = { text = "DEPLOY", system = "reviewer" }, reply = "reviewed" } })
    local function ask_both(system)
      local req = script.request({ system = system, messages = { { role = "user", content = "deploy it" } } })
      return both:answer(req).message.content[1].text
    end
    assert.are.equal("reviewed", ask_both("You are a Reviewer."))
    assert.are.equal("You said: deploy it", ask_both("You are a writer."))
    local with_default = script.new({
      default = function(req)
        return "D:" .. req.last_user_text
      end,
    })
    assert.are.equal(
      "D:x",
      with_default:answer(script.request({ messages = { { role = "user", content = "x" } } })).message.content[1].text
    )
  end)

  it("answers the CLI's title request apart from the rules, as the JSON its schema asks for", function()
    local s = script.new({ { match = "Fix", reply = "rule", times = 1 } })
    local req = script.request({
      messages = {
        {
          role = "user",
          content = {
            { type = "text", text = "<session>\nFix the login button please\n</session>\n\nWrite the title." },
          },
        },
      },
      system = { { type = "text", text = "Generate a concise, sentence-case title (3-7 words)" } },
      output_config = { format = { type = "json_schema", schema = { properties = { title = { type = "string" } } } } },
      tools = {},
    })
    assert.are.equal("title", req.side)
    local r = s:answer(req)
    assert.are.same({ title = "Fix the login button please" }, cjson.decode(r.message.content[1].text))
    assert.are.equal(
      "rule",
      s:answer(script.request({ messages = { { role = "user", content = "Fix it" } } })).message.content[1].text
    )
    assert.are.equal("quota", script.request({ max_tokens = 1, messages = {} }).side)
  end)

  it("rejects malformed scripts and replies", function()
    assert.has_error(function()
      script.new({ { match = "x" } })
    end)
    assert.has_error(function()
      script.new({ { match = { patern = "x" }, reply = "y" } })
    end, 'rule 1: unknown match key "patern" (use pattern, text, tool_result or system)')
    local s = script.new({ { match = "x", reply = 42 } })
    assert.has_error(function()
      s:answer(script.request({ messages = { { role = "user", content = "x" } } }))
    end)
  end)

  it("the demo script answers the documentation's prompts", function()
    local s = script.new(testing.demo_script())
    local function ask(messages)
      local r = s:answer(script.request({ model = "m", messages = messages }))
      local texts = {}
      for _, b in ipairs(r.message.content) do
        texts[#texts + 1] = b.text or b.thinking or b.name
      end
      return table.concat(texts, " | "), r
    end
    local function user(text)
      return { { role = "user", content = text } }
    end
    assert.are.equal("2 + 2 = 4.", ask(user("What is 2+2?")))
    assert.are.equal("2 + 2 = 4.", ask(user("What is 2 + 2?")))
    assert.matches("Paris", ask(user("What's the capital of France?")))
    assert.matches("Tokyo", ask(user("What's the capital of Japan?")))
    assert.matches("is 30%.", ask(user("What's 15% of 200?")))
    assert.matches("is 8%.", ask(user("What is 10% of 80?")))
    assert.matches("is 12%.", ask(user("What is the square root of 144?")))
    assert.are.equal("Which city do you mean?", ask(user("What's the population of that city?")))
    assert.matches(
      "million",
      ask({
        { role = "user", content = "What's the capital of France?" },
        { role = "assistant", content = { { type = "text", text = "The capital of France is Paris." } } },
        { role = "user", content = "What's the population of that city?" },
      })
    )
    assert.matches("bugs", ask(user("Never mind, just tell me a quick joke")))
    local _, text, r
    text, r = ask(user("Count from 1 to 100 slowly, with a brief pause between each number"))
    assert.matches("^1, 2, 3", text)
    assert.matches("100%.$", text)
    assert.are.equal(101, #r.message.content[1]._pieces)
    assert.is_true(r.delay_ms * #r.message.content[1]._pieces >= 25000)
    _, r = ask(user("Run a bash sleep command for 60 seconds"))
    assert.is_true(r.delay_ms * #r.message.content[1]._pieces >= 15000)
    _, r = ask(user("Analyze this codebase"))
    assert.are.same({ "thinking", "text" }, { r.message.content[1].type, r.message.content[2].type })
    _, r = ask(user("Start a long-running task"))
    assert.are.equal("Agent", r.message.content[2].name)
    assert.matches("offline model", ask(user("Something else entirely")))
  end)
end)

---------------------------------------------------------------------------------------------------------------
describe("ModelServer over raw TCP", function()
  local server

  before_each(function()
    server = testing.ModelServer.new({
      uv = uv,
      script = {
        { match = "hello", reply = "Hello there!" },
        { match = "utf8", reply = { text = "héllo wörld ✓ 😀 ünïcödé", chunk_size = 3 } },
        { match = "thinking", reply = { thinking = "deep thought", text = "42", signature = "sig-1" } },
        { match = "tool", reply = { tool_use = { name = "Bash", input = { command = "echo hi" } } } },
        { match = "limit", reply = { status = 429, error = { message = "slow down" } } },
        { match = "slow", reply = { text = "abcd", chunk_size = 1, delay_ms = 60 } },
        { match = "late", reply = { text = "late", first_byte_delay_ms = 150 } },
        {
          match = "broken",
          reply = function()
            error("script exploded")
          end,
        },
      },
    })
    server:start()
  end)

  after_each(function()
    server:stop()
    assert_no_open_handles()
  end)

  it("binds a free port and reports its url", function()
    assert.is_true(server.port > 0)
    assert.are.equal("http://127.0.0.1:" .. server.port, server.url)
    assert.are.equal(server.port, server:start())
  end)

  it("streams SSE events in the API's order, with the API's line format", function()
    local r = exchange(server, post("/v1/messages?beta=true", messages_body("hello", true)))
    assert.are.equal(200, r.status)
    assert.matches("^text/event%-stream", r.headers["content-type"])
    assert.are.equal("chunked", r.headers["transfer-encoding"])
    local events = parse_sse(r.body)
    local names, raws = {}, {}
    for i, ev in ipairs(events) do
      names[i], raws[i] = ev.event, ev.raw
      assert.are.equal(ev.event, ev.data.type)
    end
    assert.are.same({
      "message_start",
      "ping",
      "content_block_start",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    }, names)
    -- Nothing but whole events in the body, one per chunk.
    assert.are.equal(r.body, table.concat(raws))
    assert.are.same(raws, r.chunks)
    local start = events[1].data.message
    assert.are.equal("assistant", start.role)
    assert.are.equal("claude-test", start.model)
    assert.matches("^msg_offline_%d+$", start.id)
    assert.are.same({}, start.content)
    assert.matches('"content":%[%]', events[1].raw)
    assert.are.same({ type = "text", text = "" }, events[3].data.content_block)
    assert.are.same({ type = "text_delta", text = "Hello there!" }, events[4].data.delta)
    assert.are.equal("end_turn", events[6].data.delta.stop_reason)
    assert.is_true(events[6].data.usage.output_tokens >= 1)
  end)

  it("cuts text deltas at chunk_size characters on UTF-8 boundaries", function()
    local r = exchange(server, post("/v1/messages", messages_body("utf8 please", true)))
    local pieces = {}
    for _, ev in ipairs(parse_sse(r.body)) do
      if ev.event == "content_block_delta" then
        pieces[#pieces + 1] = ev.data.delta.text
      end
    end
    assert.are.equal("héllo wörld ✓ 😀 ünïcödé", table.concat(pieces))
    assert.is_true(#pieces >= 8)
    for _, piece in ipairs(pieces) do
      assert.is_true(valid_utf8(piece))
      assert.is_true(utf8_chars(piece) <= 3)
    end
  end)

  it("streams thinking with its signature, and tool_use with input_json_delta", function()
    local r = exchange(server, post("/v1/messages", messages_body("thinking", true)))
    local deltas = {}
    for _, ev in ipairs(parse_sse(r.body)) do
      if ev.event == "content_block_delta" then
        deltas[#deltas + 1] = ev.data.delta
      end
    end
    assert.are.same({
      { type = "thinking_delta", thinking = "deep thought" },
      { type = "signature_delta", signature = "sig-1" },
      { type = "text_delta", text = "42" },
    }, deltas)
    r = exchange(server, post("/v1/messages", messages_body("tool", true)))
    local events = parse_sse(r.body)
    assert.are.same(
      { type = "tool_use", id = "toolu_offline_1", name = "Bash", input = {} },
      events[3].data.content_block
    )
    assert.are.same({ command = "echo hi" }, cjson.decode(events[4].data.delta.partial_json))
    assert.are.equal("tool_use", events[#events - 1].data.delta.stop_reason)
  end)

  it("answers a non-streaming request with one JSON message", function()
    local r = exchange(server, post("/v1/messages", messages_body("thinking", false)))
    assert.are.equal(200, r.status)
    assert.are.equal("application/json", r.headers["content-type"])
    local msg = cjson.decode(r.body)
    assert.are.equal("message", msg.type)
    assert.are.equal("end_turn", msg.stop_reason)
    assert.are.same(
      { { type = "thinking", thinking = "deep thought", signature = "sig-1" }, { type = "text", text = "42" } },
      msg.content
    )
  end)

  it("answers scripted HTTP errors with the API's error body", function()
    local r = exchange(server, post("/v1/messages", messages_body("limit", true)))
    assert.are.equal(429, r.status)
    local body = cjson.decode(r.body)
    assert.are.equal("error", body.type)
    assert.are.same({ type = "rate_limit_error", message = "slow down" }, body.error)
  end)

  it("turns a script that raises into a 500 naming the error", function()
    local r = exchange(server, post("/v1/messages", messages_body("broken", true)))
    assert.are.equal(500, r.status)
    assert.matches("script exploded", cjson.decode(r.body).error.message)
    assert.are.equal(1, #server.errors)
  end)

  it("answers count_tokens, HEAD /, unknown paths and bad JSON", function()
    local r = exchange(server, post("/v1/messages/count_tokens", messages_body(string.rep("x", 400))))
    assert.are.equal(200, r.status)
    assert.is_true(cjson.decode(r.body).input_tokens > 100)
    r = exchange(server, "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", nil, true)
    assert.are.equal(200, r.status)
    r = exchange(server, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert.are.same({ ok = true }, cjson.decode(r.body))
    -- HEAD answers carry no body, so a second request on the connection is read correctly.
    local c = connect(server.port)
    c.send("HEAD /elsewhere HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
    local both
    wait_until(function()
      both = parse_responses(c.data, { true })
      return #both == 2
    end, 5000)
    c.close()
    assert.are.equal(404, both[1].status)
    assert.are.equal('{"ok":true}', both[2].body)
    r = exchange(server, "GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n")
    assert.are.equal(404, r.status)
    assert.are.equal("not_found_error", cjson.decode(r.body).error.type)
    r = exchange(server, post("/v1/messages", "{not json"))
    assert.are.equal(400, r.status)
  end)

  it("keeps the connection alive for a second request, answered in order", function()
    local c = connect(server.port)
    c.send(post("/v1/messages", messages_body("hello", true)) .. post("/v1/messages", messages_body("tool", false)))
    local responses
    wait_until(function()
      responses = parse_responses(c.data)
      return #responses >= 2
    end, 5000)
    assert.are.equal(2, #responses)
    assert.matches("Hello there!", responses[1].body)
    assert.are.equal("tool_use", cjson.decode(responses[2].body).stop_reason)
    -- And a third one later, on the same socket.
    c.send(post("/v1/messages", messages_body("hello", false)))
    wait_until(function()
      responses = parse_responses(c.data)
      return #responses >= 3
    end, 5000)
    assert.are.equal(3, #responses)
    assert.is_nil(c.eof)
    c.close()
  end)

  it("reads a chunked request body", function()
    local text = json.encode(messages_body("hello", false))
    local half = math.floor(#text / 2)
    local r = exchange(
      server,
      "POST /v1/messages HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        .. string.format("%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n", half, text:sub(1, half), #text - half, text:sub(half + 1))
    )
    assert.are.equal(200, r.status)
    assert.are.equal("Hello there!", cjson.decode(r.body).content[1].text)
  end)

  it("waits at least delay_ms between deltas, without blocking other connections", function()
    local c = connect(server.port)
    c.send(post("/v1/messages", messages_body("slow", true)))
    -- Meanwhile another connection is answered at once.
    local quick = exchange(server, post("/v1/messages", messages_body("hello", false)))
    assert.are.equal(200, quick.status)
    assert.is_true(wait_until(function()
      return #parse_responses(c.data) == 1
    end, 5000))
    c.close()
    local delta_times = {}
    for _, read in ipairs(c.reads) do
      for _ in read.data:gmatch("text_delta") do
        delta_times[#delta_times + 1] = read.t
      end
    end
    assert.are.equal(4, #delta_times)
    -- Each delta waits 60 ms after the one before it, so the i-th cannot arrive before i * 60 ms. Measured from the
    -- request rather than between reads: a busy machine can delay one read and not the next, which shrinks a gap
    -- between reads below what the server waited, but nothing can make a delta arrive before its time.
    for i = 1, 4 do
      local after_ms = (delta_times[i] - c.sent_at) / 1e6
      assert.is_true(after_ms >= i * 60 - 10, ("delta %d came %.1f ms after the request"):format(i, after_ms))
    end
  end)

  it("waits at least first_byte_delay_ms before the response starts", function()
    local r, c = exchange(server, post("/v1/messages", messages_body("late", true)))
    assert.are.equal(200, r.status)
    assert.is_true((c.reads[1].t - c.sent_at) / 1e6 >= 140)
  end)

  it("survives a client that hangs up mid-stream, even with a reset", function()
    local c = connect(server.port)
    c.send(post("/v1/messages", messages_body("slow", true)))
    assert.is_true(wait_until(function()
      return c.data:find("content_block_start", 1, true) ~= nil
    end, 5000))
    -- Closing with unread data makes the kernel answer with a reset, so the server's next writes fail with EPIPE.
    c.sock:read_stop()
    wait_until(function()
      return false
    end, 100)
    c.close()
    wait_until(function()
      return false
    end, 200)
    local r = exchange(server, post("/v1/messages", messages_body("hello", false)))
    assert.are.equal(200, r.status)
    assert.are.equal(0, #server.errors)
  end)

  it("keeps SIGPIPE from killing the process while it runs (a write to a vanished client is EPIPE)", function()
    -- Without the server's handler the default action would end this very test run.
    assert.are.equal(0, uv.kill(uv.os_getpid(), "sigpipe"))
    wait_until(function()
      return false
    end, 50)
    local r = exchange(server, post("/v1/messages", messages_body("hello", false)))
    assert.are.equal(200, r.status)
  end)

  it("records every request, and logs each as one JSON line with the key redacted", function()
    server:stop()
    uv.run("nowait")
    local dir = temp_dir()
    finally(function()
      remove_tree(dir)
    end)
    local log = dir .. "/requests.jsonl"
    server = testing.ModelServer.new({ script = { { match = "hello", reply = "hi" } }, log = log })
    server:start()
    exchange(server, post("/v1/messages?beta=true", messages_body("hello", true), "x-api-key: sk-secret\r\n"))
    exchange(server, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
    assert.are.equal(2, #server.requests)
    local first = server.requests[1]
    assert.are.equal("/v1/messages", first.path)
    assert.are.equal("/v1/messages?beta=true", first.target)
    assert.are.equal("hello", first.body.messages[1].content)
    assert.are.equal("sk-secret", first.headers["x-api-key"])
    assert.are.equal("/nope", server.requests[2].path)
    local lines = {}
    for line in read_file(log):gmatch("[^\n]+") do
      lines[#lines + 1] = cjson.decode(line)
    end
    assert.are.equal(2, #lines)
    assert.are.equal("<redacted>", lines[1].headers["x-api-key"])
    assert.are.equal("claude-test", lines[1].body.model)
    assert.is_nil(read_file(log):find("sk-secret", 1, true))
  end)
end)

---------------------------------------------------------------------------------------------------------------
describe("claude-offline-model and spawn_server", function()
  after_each(assert_no_open_handles)

  -- Run a command to its end; returns exit code, stdout, stderr.
  local function run(cmd, args)
    local stdout, stderr = uv.new_pipe(false), uv.new_pipe(false)
    local st = { out = "", err = "" }
    local proc = assert(uv.spawn(cmd, { args = args, stdio = { nil, stdout, stderr } }, function(code)
      st.code = code
    end))
    stdout:read_start(function(_, d)
      if d then
        st.out = st.out .. d
      end
    end)
    stderr:read_start(function(_, d)
      if d then
        st.err = st.err .. d
      end
    end)
    if not wait_until(function()
      return st.code ~= nil
    end, 10000) then
      proc:kill("sigkill")
      wait_until(function()
        return st.code ~= nil
      end, 5000)
    end
    close_all(stdout, stderr, proc)
    return st.code, st.out, st.err
  end

  it("explains the script format with --help and rejects unknown arguments", function()
    local code, out = run("lua5.4", { BIN, "--help" })
    assert.are.equal(0, code)
    assert.matches("Script format", out)
    assert.matches("tool_result", out)
    local err, _
    code, _, err = run("lua5.4", { BIN, "--bogus" })
    assert.are.equal(2, code)
    assert.matches("unknown argument", err)
  end)

  for _, interpreter in ipairs({ "lua5.4", "luajit" }) do
    it("announces its url first and exits at stdin EOF, under " .. interpreter, function()
      local stdin, stdout = uv.new_pipe(false), uv.new_pipe(false)
      local st = { out = "" }
      local proc, pid = uv.spawn(
        interpreter,
        { args = { BIN, "--port", "0", "--exit-on-stdin-eof" }, stdio = { stdin, stdout, 2 } },
        function(code)
          st.code = code
        end
      )
      assert.is_truthy(proc, pid)
      finally(function()
        if st.code == nil then
          proc:kill("sigkill")
          wait_until(function()
            return st.code ~= nil
          end, 5000)
        end
        close_all(stdin, stdout, proc)
      end)
      stdout:read_start(function(_, d)
        if d then
          st.out = st.out .. d
        end
      end)
      assert.is_true(wait_until(function()
        return st.out:find("\n") ~= nil
      end, 10000))
      local port = tonumber(st.out:match("^ANTHROPIC_BASE_URL=http://127%.0%.0%.1:(%d+)\n$"))
      assert.is_number(port)
      local fake = { port = port }
      local r = exchange(fake, post("/v1/messages", messages_body("What is 2+2?", false)))
      assert.are.equal("2 + 2 = 4.", cjson.decode(r.body).content[1].text)
      stdin:close()
      assert.is_true(
        wait_until(function()
          return st.code ~= nil
        end, 5000),
        "did not exit at stdin EOF"
      )
      assert.are.equal(0, st.code)
      assert.are.equal("", st.out:gsub("^[^\n]*\n", ""))
    end)
  end

  it("spawn_server serves a script file out of process, and stop() reaps the child", function()
    local dir = temp_dir()
    finally(function()
      remove_tree(dir)
    end)
    write_file(dir .. "/rules.lua", 'return { { match = "ping", reply = "pong" } }')
    local h = testing.spawn_server({ script = dir .. "/rules.lua", log = dir .. "/log.jsonl" })
    -- busted keeps one finally per test: this one replaces the one above and does both jobs.
    finally(function()
      h.stop()
      remove_tree(dir)
    end)
    assert.matches("^http://127%.0%.0%.1:%d+$", h.url)
    assert.is_true(process_alive(h.pid))
    local r = exchange(h, post("/v1/messages", messages_body("ping", false)))
    assert.are.equal("pong", cjson.decode(r.body).content[1].text)
    assert.are.equal(0, h.stop())
    assert.are.equal(0, h.stop())
    assert.is_false(process_alive(h.pid))
    assert.matches('"path":"/v1/messages"', read_file(dir .. "/log.jsonl"))
  end)

  -- stop() closes the child's stdin and sends SIGTERM: the child must survive
  -- the signal wherever it is, just after announcing its URL (its handlers
  -- were once installed after that) or already shutting down after the EOF.
  it("spawn_server's stop() gets exit status 0 even right after the start, 20 times out of 20", function()
    local statuses = {}
    for i = 1, 20 do
      statuses[i] = testing.spawn_server({}).stop()
    end
    assert.are.same({ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, statuses)
  end)

  it("spawn_server fails clearly when the script does not load", function()
    local dir = temp_dir()
    finally(function()
      remove_tree(dir)
    end)
    write_file(dir .. "/bad.lua", "return 42")
    local ok, err = pcall(testing.spawn_server, { script = dir .. "/bad.lua", stderr = false })
    assert.is_false(ok)
    assert.matches("did not start", tostring(err))
    assert.matches("must return a table of rules", tostring(err))
  end)

  it("spawn_server's stop() runs no loop: it may be called inside a luv callback", function()
    local h = testing.spawn_server({})
    local status, got
    local t = uv.new_timer()
    t:start(0, 0, function()
      status = h.stop(function(s)
        got = s
      end)
    end)
    assert.is_true(wait_until(function()
      return status ~= nil
    end, 10000))
    t:close()
    uv.run("nowait")
    assert.are.equal(0, status)
    assert.are.equal(0, got)
  end)

  it("spawn_server reports an interpreter that cannot start", function()
    local ok, err = pcall(testing.spawn_server, { lua = "/nonexistent/lua" })
    assert.is_false(ok)
    assert.matches("cannot start the interpreter", tostring(err))
  end)

  it("cli_env points the CLI at the server from a fresh HOME", function()
    local env, home = testing.cli_env({ url = "http://127.0.0.1:9" })
    finally(function()
      remove_tree(home)
    end)
    assert.are.equal("http://127.0.0.1:9", env.ANTHROPIC_BASE_URL)
    assert.are.equal("sk-offline-test", env.ANTHROPIC_API_KEY)
    assert.are.equal("1", env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC)
    assert.are.equal("0", env.CLAUDE_CODE_MAX_RETRIES)
    assert.are.equal(home, env.HOME)
    assert.are.equal("directory", uv.fs_stat(home).type)
    assert.is_nil(uv.fs_scandir_next(uv.fs_scandir(home)))
    assert.are.equal("/given", testing.cli_env({ server = { url = "u" }, home = "/given" }).HOME)
    assert.has_error(function()
      testing.cli_env({})
    end)
  end)
end)

---------------------------------------------------------------------------------------------------------------
local CLI = find_cli()

if not CLI then
  io.stderr:write(
    "\n*** SKIPPED: real-CLI tests of the offline model server: no claude CLI found "
      .. "(set CLAUDE_CLI_PATH, or install it into .deps/ with `make setup`)\n"
  )
  describe("the real claude CLI against the offline model server", function()
    it("needs the CLI", function()
      pending(
        "SKIPPED: no claude CLI at $CLAUDE_CLI_PATH, .deps/node_modules/.bin/claude or "
          .. "/tmp/clitest/node_modules/.bin/claude"
      )
    end)
  end)
  return
end

describe("the real claude CLI against the offline model server", function()
  -- Drive one CLI session: initialize, then each prompt after the previous turn's result; close stdin after
  -- the last result. Returns { frames, stderr, code }.
  local function run_cli(url, prompts, timeout_ms)
    local env, home = testing.cli_env({ url = url })
    local envlist = { "PATH=" .. (os.getenv("PATH") or "/usr/bin:/bin") }
    for k, v in pairs(env) do
      envlist[#envlist + 1] = k .. "=" .. v
    end
    local stdin, stdout, stderr = uv.new_pipe(false), uv.new_pipe(false), uv.new_pipe(false)
    local st = { frames = {}, stderr = "" }
    local proc, pid = uv.spawn(CLI, {
      args = {
        "--output-format",
        "stream-json",
        "--verbose",
        "--input-format",
        "stream-json",
        "--system-prompt",
        "",
        "--permission-mode",
        "default",
      },
      env = envlist,
      cwd = home,
      stdio = { stdin, stdout, stderr },
    }, function(code, signal)
      st.code, st.signal = code, signal
    end)
    assert(proc, pid)
    local next_prompt = 1
    local function send_next()
      local prompt = prompts[next_prompt]
      next_prompt = next_prompt + 1
      if prompt then
        stdin:write(cjson.encode({
          type = "user",
          session_id = "",
          parent_tool_use_id = cjson.null,
          message = { role = "user", content = prompt },
        }) .. "\n")
      elseif not stdin:is_closing() then
        stdin:close()
      end
    end
    local buf = ""
    stdout:read_start(function(_, data)
      if not data then
        return
      end
      buf = buf .. data
      while true do
        local nl = buf:find("\n", 1, true)
        if not nl then
          break
        end
        local line = buf:sub(1, nl - 1)
        buf = buf:sub(nl + 1)
        local ok, frame = pcall(cjson.decode, line)
        if ok and type(frame) == "table" then
          st.frames[#st.frames + 1] = frame
          if frame.type == "result" then
            send_next()
          end
        end
      end
    end)
    stderr:read_start(function(_, data)
      if data then
        st.stderr = st.stderr .. data
      end
    end)
    stdin:write(
      '{"type":"control_request","request_id":"req_1_abcd","request":{"subtype":"initialize",' .. '"hooks":null}}\n'
    )
    send_next()
    local exited = wait_until(function()
      return st.code ~= nil
    end, timeout_ms or 60000)
    if not exited then
      proc:kill("sigkill")
      wait_until(function()
        return st.code ~= nil
      end, 5000)
    end
    close_all(stdin, stdout, stderr, proc)
    uv.run("nowait")
    remove_tree(home)
    assert(exited, "the CLI did not finish in time; stderr: " .. st.stderr)
    return st
  end

  local function frames_of(st, kind)
    local out = {}
    for _, f in ipairs(st.frames) do
      if f.type == kind then
        out[#out + 1] = f
      end
    end
    return out
  end

  local function blocks_of(st, block_type)
    local out = {}
    for _, f in ipairs(frames_of(st, "assistant")) do
      for _, b in ipairs(f.message.content) do
        if b.type == block_type then
          out[#out + 1] = b
        end
      end
    end
    return out
  end

  local server
  before_each(function()
    server = testing.ModelServer.new({
      script = {
        { match = "2+2", reply = "2 + 2 = 4." },
        { match = "run echo", reply = { tool_use = { name = "Bash", input = { command = "echo hi" } } } },
        { match = { tool_result = "hi" }, reply = "The command printed hi." },
        { match = "think", reply = { thinking = "Let me think about it.", text = "Thought it through." } },
        {
          match = "fail",
          reply = { status = 400, error = { type = "invalid_request_error", message = "scripted 400" } },
        },
      },
    })
    server:start()
  end)
  after_each(function()
    server:stop()
    assert_no_open_handles()
  end)

  it("gets a scripted text answer and a success result", function()
    local st = run_cli(server.url, { "What is 2+2?" })
    local texts = blocks_of(st, "text")
    assert.are.equal(1, #texts, st.stderr)
    assert.are.equal("2 + 2 = 4.", texts[1].text)
    local results = frames_of(st, "result")
    assert.are.equal(1, #results)
    assert.are.equal("success", results[1].subtype)
    assert.is_false(results[1].is_error)
    assert.are.equal("2 + 2 = 4.", results[1].result)
    assert.are.equal(0, st.code)
    local posts = 0
    for _, r in ipairs(server.requests) do
      if r.path == "/v1/messages" then
        posts = posts + 1
        assert.is_true(r.body.stream)
      end
    end
    assert.are.equal(1, posts)
  end)

  it("runs a scripted Bash tool_use and sends the result back to the model", function()
    local st = run_cli(server.url, { "please run echo" })
    local tool_uses = blocks_of(st, "tool_use")
    assert.are.equal(1, #tool_uses)
    assert.are.equal("Bash", tool_uses[1].name)
    local result_block
    for _, f in ipairs(frames_of(st, "user")) do
      for _, b in ipairs(type(f.message.content) == "table" and f.message.content or {}) do
        if b.type == "tool_result" and b.tool_use_id == tool_uses[1].id then
          result_block = b
        end
      end
    end
    assert.is_table(result_block)
    assert.is_false(result_block.is_error)
    assert.matches(
      "hi",
      type(result_block.content) == "string" and result_block.content or cjson.encode(result_block.content)
    )
    assert.are.equal("The command printed hi.", frames_of(st, "result")[1].result)
  end)

  it("passes a thinking block through as a thinking content block", function()
    local st = run_cli(server.url, { "think first" })
    local thinking = blocks_of(st, "thinking")
    assert.are.equal(1, #thinking)
    assert.are.equal("Let me think about it.", thinking[1].thinking)
    assert.are.equal("Thought it through.", blocks_of(st, "text")[1].text)
  end)

  it("turns an HTTP 400 into an error result", function()
    local st = run_cli(server.url, { "please fail" })
    local result = frames_of(st, "result")[1]
    assert.is_table(result)
    assert.is_true(result.is_error)
    assert.are.equal(400, result.api_error_status)
    assert.matches("scripted 400", result.result)
    assert.are.equal(1, st.code)
  end)

  it("sends the conversation history: the demo script's follow-up question, via spawn_server", function()
    local h = testing.spawn_server({})
    finally(function()
      h.stop()
    end)
    local st = run_cli(h.url, { "What's the capital of France?", "What's the population of that city?" })
    local texts = blocks_of(st, "text")
    assert.are.equal(2, #texts, st.stderr)
    assert.matches("Paris", texts[1].text)
    assert.matches("million", texts[2].text)
    assert.are.equal(2, #frames_of(st, "result"))
    assert.are.equal(0, h.stop())
  end)
end)
