-- The Lua API against a scripted fake CLI (spec/support/fake_cli): failures
-- the real CLI cannot be made to produce on demand.
local claude = require("claude_agent_sdk")
local errors = claude.errors

local FAKE = (os.getenv("PWD") or ".") .. "/spec/support/fake_cli"

local function client(mode, extra)
  local o = { cli_path = FAKE, env = { FAKE_MODE = mode } }
  for k, v in pairs(extra or {}) do
    o[k] = v
  end
  return claude.ClaudeSDKClient.new(o)
end

local function alive(pid)
  return os.execute("kill -0 " .. pid .. " 2>/dev/null") == true or os.execute("kill -0 " .. pid .. " 2>/dev/null") == 0
end

describe("against the fake CLI", function()
  it("a CLI that exits before initialize fails connect at once with exit code and stderr", function()
    local c = client("exit_before_init")
    local t0 = os.time()
    local ok, err = pcall(c.connect, c)
    assert.is_false(ok)
    assert.is_true(errors.is(err, "ProcessError"), tostring(err))
    assert.are.equal(2, err.exit_code)
    assert.truthy(err.stderr:find("refuses to start", 1, true))
    assert.truthy(tostring(err):find("refuses to start", 1, true))
    assert.is_true(os.time() - t0 <= 2)
    c:disconnect()
  end)

  it("a crash mid-line delivers every complete message, then a ProcessError", function()
    local c = client("crash_mid_turn")
    c:connect()
    c:query("hi")
    local got = {}
    local ok, err = pcall(function()
      for msg in c:receive_messages() do
        got[#got + 1] = msg
      end
    end)
    assert.is_false(ok)
    assert.is_true(errors.is(err, "ProcessError"), tostring(err))
    assert.are.equal(9, err.exit_code)
    assert.are.equal("system", got[1].type)
    assert.are.equal("assistant", got[2].type)
    assert.are.equal("partial answer", got[2].content[1].text)
    assert.are.equal(2, #got)
    assert.are.equal(1, c._core:stats().truncated_lines)
    -- a later control request fails at once, not after a timeout
    local ok2, err2 = pcall(c.interrupt, c)
    assert.is_false(ok2)
    assert.is_true(errors.is(err2, "ClaudeSDKError"))
    c:disconnect()
  end)

  it("garbage, blank lines, CRLF and unknown types/subtypes/blocks do not break the stream", function()
    local c = client("garbage")
    c:connect()
    c:query("hello")
    local types = {}
    local last
    for msg in c:receive_response() do
      types[#types + 1] = msg.type .. (msg.subtype and ("/" .. msg.subtype) or "")
      last = msg
    end
    assert.are.same(
      { "brand_new_type", "system/brand_new_subtype", "system/init", "assistant", "assistant", "result/success" },
      types
    )
    assert.are.equal("result", last.type)
    c:disconnect()
  end)

  it("a control request that is never answered times out with ControlTimeoutError", function()
    local c = client("silent", { control_timeout = 0.3 })
    c:connect()
    local ok, err = pcall(c.interrupt, c)
    assert.is_false(ok)
    assert.is_true(errors.is(err, "ControlTimeoutError"), tostring(err))
    c:disconnect()
  end)

  it("receive_response{timeout=} raises TimeoutError and loses nothing", function()
    local c = client("silent")
    c:connect()
    c:query("anyone there?")
    local ok, err = pcall(function()
      for _ in c:receive_response({ timeout = 0.2 }) do
      end
    end)
    assert.is_false(ok)
    assert.is_true(errors.is(err, "TimeoutError"), tostring(err))
    c:disconnect()
    -- a stream with messages queued: the timeout only counts while waiting
    c = client("normal")
    c:connect()
    c:query("hi")
    local got = {}
    for m in c:receive_response({ timeout = 5 }) do
      got[#got + 1] = m.type
    end
    assert.are.same({ "system", "assistant", "result" }, got)
    c:disconnect()
  end)

  it("an error result followed by a non-zero exit raises ResultError with the payload", function()
    local got = {}
    local ok, err = pcall(function()
      for msg in claude.query({ prompt = "x", options = { cli_path = FAKE, env = { FAKE_MODE = "error_result" } } }) do
        got[#got + 1] = msg
      end
    end)
    assert.is_false(ok)
    assert.is_true(errors.is(err, "ResultError"), tostring(err))
    assert.is_true(errors.is(err, "ProcessError"))
    assert.are.equal(1, err.exit_code)
    assert.truthy(err.message:find("the fake CLI failed on purpose", 1, true))
    assert.are.equal("error_during_execution", err.subtype)
    assert.are.equal("result", got[#got].type) -- the result itself was delivered first
    -- the Python SDK's fields: the raw frame, the errors, no result text and no stderr here
    assert.are.equal("result", err.data.type)
    assert.are.same({ "the fake CLI failed on purpose" }, err.errors)
    assert.is_nil(err.result)
    assert.is_nil(err.stderr)
    assert.are.equal("fake-session", err.session_id)
    assert.is_true(claude.isinstance(err.result_message, claude.ResultMessage))
    assert.truthy(err.message:find("%(exit code: 1%)$"), err.message)
  end)

  it("answers a control request the SDK has no handler for with an error, and goes on", function()
    local c = client("ask")
    c:connect()
    c:query("go")
    local text
    for msg in c:receive_response() do
      if msg.type == "assistant" then
        text = msg.content[1].text
      end
    end
    assert.truthy(text:find('"subtype":"error"', 1, true))
    assert.truthy(text:find("canUseTool callback is not provided", 1, true))
    c:disconnect()
  end)

  it("stderr lines reach the stderr callback, and a throwing callback does not stop the session", function()
    local lines = {}
    local c = client("exit_before_init", {
      stderr = function(l)
        lines[#lines + 1] = l
        error("callback bug")
      end,
    })
    assert.is_false(pcall(c.connect, c))
    assert.are.same({ "fatal: the fake CLI refuses to start" }, lines)
  end)

  it("frames multi-byte UTF-8 written one byte at a time, with CRLF line ends", function()
    local c = client("bytes")
    c:connect()
    c:query("x")
    local text
    for m in c:receive_response() do
      if m.type == "assistant" then
        text = m.content[1].text
      end
    end
    assert.are.equal("h\195\169llo \226\156\147 \240\159\142\137 done", text)
    c:disconnect()
  end)

  it("delivers a line up to max_buffer_size and kills the session past it", function()
    local c = client("huge", { env = { FAKE_MODE = "huge", FAKE_SIZE = "3000000" } })
    c:connect()
    c:query("x")
    local len
    for m in c:receive_response() do
      if m.type == "assistant" then
        len = #m.content[1].text
      end
    end
    assert.are.equal(3000000, len)
    c:disconnect()

    c = client("huge", { env = { FAKE_MODE = "huge", FAKE_SIZE = "5000" }, max_buffer_size = 4096 })
    c:connect()
    c:query("x")
    local ok, err = pcall(function()
      for _ in c:receive_response() do
      end
    end)
    assert.is_false(ok)
    assert.is_true(errors.is(err, "CLIJSONDecodeError"), tostring(err))
    assert.truthy(tostring(err):find("maximum buffer size of 4096", 1, true))
    -- the session is dead, not hung: the next call fails at once
    local ok2, err2 = pcall(c.interrupt, c)
    assert.is_false(ok2)
    assert.is_true(errors.is(err2, "ClaudeSDKError"), tostring(err2))
    c:disconnect()
  end)

  it("parses a final line without a newline at EOF", function()
    local got = {}
    for m in claude.query({ prompt = "x", options = { cli_path = FAKE, env = { FAKE_MODE = "no_newline" } } }) do
      got[#got + 1] = m
    end
    assert.are.equal("result", got[#got].type)
    assert.are.equal("no newline", got[#got].result)
  end)

  it("runs the CLI as another user with the user option, and names a missing user", function()
    local h = io.popen("id -u")
    local me = h:read("*l")
    h:close()
    if me ~= "0" then
      pending("switching users needs root; running as uid " .. tostring(me))
      return
    end
    -- The checkout may sit in a directory "nobody" cannot enter (a 0700
    -- temp dir): give it a copy in a world-readable one.
    local dir = os.tmpname()
    os.remove(dir)
    assert(
      os.execute(
        "mkdir -m 755 '"
          .. dir
          .. "' && cp '"
          .. FAKE
          .. "' '"
          .. dir
          .. "/fake_cli' && chmod 755 '"
          .. dir
          .. "/fake_cli'"
      )
    )
    local c = claude.ClaudeSDKClient.new({
      cli_path = dir .. "/fake_cli",
      cwd = "/",
      user = "nobody",
      env = { FAKE_MODE = "whoami" },
    })
    c:connect()
    c:query("who am i")
    local text
    for m in c:receive_response() do
      if m.type == "assistant" then
        text = m.content[1].text
      end
    end
    c:disconnect()
    os.execute("rm -rf '" .. dir .. "'")
    local p = io.popen("id -u nobody")
    local nobody = p:read("*l")
    p:close()
    assert.are.equal("uid=" .. nobody, text)
    local c2 = client("whoami", { user = "no_such_user_here" })
    local ok, err = pcall(c2.connect, c2)
    assert.is_false(ok)
    assert.is_true(errors.is(err, "CLIConnectionError"))
    assert.truthy(tostring(err):find("no_such_user_here", 1, true))
  end)

  it("disconnect is idempotent and leaves no process", function()
    local c = client("normal")
    c:connect()
    local pid = c:pid()
    assert.is_true(alive(pid))
    c:disconnect()
    c:disconnect()
    assert.is_false(alive(pid))
    local ok, err = pcall(c.query, c, "x")
    assert.is_false(ok)
    assert.is_true(errors.is(err, "CLIConnectionError"))
  end)
end)
