--- The `claude-offline-model` command: argument parsing, the port announcement, and the life of the process.
---
--- Contract: `cli.main(argv)` parses `argv` (a list of strings), starts a model server on its own luv loop, writes
--- exactly one line `ANTHROPIC_BASE_URL=http://HOST:PORT` to stdout and flushes it, then serves until SIGINT or
--- SIGTERM, or until stdin reaches end of file when `--exit-on-stdin-eof` is given (so a child started by a test
--- dies with the test). Nothing else is ever written to stdout; script errors go to stderr. It returns the
--- process exit status: 0 after a clean stop, 2 on a usage error, 1 when the server cannot start.
--- Without `--script` it serves the demo script `claude_agent_sdk.testing.scripts.default`.
---
--- Example: `os.exit(require("claude_agent_sdk.testing.cli").main(arg))`

local M = {}

M.usage = [[
Usage: claude-offline-model [--port N] [--host 127.0.0.1] [--script FILE.lua] [--log FILE] [--exit-on-stdin-eof]

An offline stand-in for the Anthropic Messages API, for running the Claude Code CLI (and agents built on the
Claude Agent SDK for Lua) without a network or an API key. It prints one line,
    ANTHROPIC_BASE_URL=http://127.0.0.1:PORT
then serves POST /v1/messages (streaming and not), POST /v1/messages/count_tokens, and GET/HEAD /.
Point the CLI at it with that variable, ANTHROPIC_API_KEY=sk-offline-test and
CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 (claude_agent_sdk.testing.cli_env builds the whole set).

Options:
  --port N              port to listen on (default 0: any free port)
  --host ADDR           address to bind (default 127.0.0.1)
  --script FILE.lua     a Lua file returning the rules table (default: the built-in demo script)
  --log FILE            append every request as one JSON line to FILE (API keys redacted)
  --exit-on-stdin-eof   stop when stdin reaches end of file (for use as a child process)
  --help                this text

Script format: the file returns a table of rules, tried in order; the first that matches answers.
  return {
    { match = "2+2", reply = "2 + 2 = 4." },                 -- case-insensitive substring of the prompt
    { match = { pattern = "^[Hh]i%f[%W]" }, reply = "Hello!" },  -- Lua pattern on the prompt
    { match = "weather", reply = { tool_use = { name = "Bash", input = { command = "echo sunny" } } } },
    { match = { tool_result = "sunny" }, reply = "It is sunny." },   -- a tool result coming back
    { match = { text = "deploy", system = "reviewer" }, reply = "LGTM" },  -- every key given must hold
    { match = "think", reply = { thinking = "Let me see...", text = "Done." } },
    { match = "slow", reply = { text = "one two three", chunk_size = 4, delay_ms = 200 } },
    { match = "fail", reply = { status = 400, error = { type = "invalid_request_error", message = "no" } } },
    { match = function(req) return req.index == 0 end, times = 1,
      reply = function(req) return { text = "first request: " .. req.last_user_text } end },
    default = function(req) return "You said: " .. req.last_user_text end,
  }
A match string is a case-insensitive substring; a match table may hold pattern (a Lua pattern), text,
tool_result and system (substrings of the prompt, of a returned tool result, of the system prompt).
String, text and pattern matches look only at requests carrying a new prompt, not at those returning tool
results, so a rule that calls a tool is not asked again by the tool's own result.
"times = N" retires a rule after N answers. Without a default, the server echoes the prompt (or the tool
results), so a conversation always finishes.

A reply is: a string (one text block); { text = }; { thinking = , text = }; { tool_use = { name = , input = ,
id = } } or a list of them (stop_reason "tool_use", ids "toolu_offline_N" when not given); { content = { blocks },
stop_reason = , usage = , model = }; or { status = 400|429|500|529, error = { type = , message = } }. Knobs on any
reply: delay_ms (pause before each streamed delta), chunk_size (characters per delta, cut on UTF-8 boundaries),
first_byte_delay_ms (pause before the response starts), headers (extra response headers). A text or thinking
given as a list of strings streams one delta per string: { text = { "1", ", 2", ", 3" }, delay_ms = 300 }.
A function reply or match gets `req`: body, messages, system, model, tools (names), max_tokens, stream,
last_user_text, history_text (all prompts and answers so far), tool_results ({ tool_use_id, text, is_error }),
is_tool_result, index (how many /v1/messages requests came before), path, headers, side. A reply function
that returns nil passes the request on to the next rule.
The CLI retries 429 and 5xx answers (10 times, with backoff) unless CLAUDE_CODE_MAX_RETRIES says otherwise;
cli_env sets it to 0.
The CLI's own side requests (e.g. max_tokens = 1 quota probes, title generation) are answered by the
script's `side` entry when present, else built in; they never consume the rules.
]]

local function parse(argv)
  local opts = { port = 0, host = "127.0.0.1" }
  local i = 1
  local function value(name)
    i = i + 1
    local v = argv[i]
    if v == nil then
      error("missing value for " .. name, 0)
    end
    return v
  end
  while argv[i] ~= nil do
    local a = argv[i]
    local name, inline = a:match("^(%-%-[%w-]+)=(.*)$")
    name = name or a
    local function get()
      if inline then
        return inline
      end
      return value(name)
    end
    if name == "--help" or name == "-h" then
      opts.help = true
    elseif name == "--port" then
      opts.port = tonumber(get())
      if not opts.port or opts.port < 0 or opts.port > 65535 or opts.port % 1 ~= 0 then
        error("--port needs a number from 0 to 65535", 0)
      end
    elseif name == "--host" then
      opts.host = get()
    elseif name == "--script" then
      opts.script = get()
    elseif name == "--log" then
      opts.log = get()
    elseif name == "--exit-on-stdin-eof" then
      opts.exit_on_eof = true
    else
      error("unknown argument: " .. a, 0)
    end
    i = i + 1
  end
  return opts
end

---@class ClaudeTestingCliHow
---@field announce "json"|nil announce as `{"type":"offline_model_server","url":...,"port":N}` instead (spawn_server
---   reads stdout through the SDK's core, which takes JSON lines only)
---@field quiet boolean|nil write no script errors to stderr

---@param argv string[] the command's arguments
---@param how ClaudeTestingCliHow|nil how a parent process wants it (not command-line flags: spawn_server's)
---@return integer status the exit status
--- Example: `os.exit(cli.main({ "--port", "0", "--exit-on-stdin-eof" }))`
function M.main(argv, how)
  how = how or {}
  local ok, opts = pcall(parse, argv or {})
  if not ok then
    io.stderr:write("claude-offline-model: ", tostring(opts), "\n", "Try --help.\n")
    return 2
  end
  if opts.help then
    io.stdout:write(M.usage)
    return 0
  end
  local uv = require("luv")
  local server_mod = require("claude_agent_sdk.testing.server")
  local server
  ok, server = pcall(function()
    local rules = opts.script and server_mod.load_script(opts.script)
      or require("claude_agent_sdk.testing.scripts.default")
    local s = server_mod.ModelServer.new({
      script = rules,
      port = opts.port,
      host = opts.host,
      log = opts.log,
      uv = uv,
      on_error = not how.quiet and function(message)
        io.stderr:write("claude-offline-model: ", message, "\n")
      end or nil,
    })
    s:start()
    return s
  end)
  if not ok then
    io.stderr:write("claude-offline-model: ", tostring(server), "\n")
    return 1
  end
  local handles, signals = {}, {}
  local function shutdown()
    server:stop()
    for _, h in ipairs(handles) do
      if not h:is_closing() then
        h:close()
      end
    end
    -- The signal handlers stay installed (unref'd, so the loop can end): a
    -- SIGTERM that follows a stdin EOF (a parent's stop() sends both) must
    -- not kill the process on its way out and turn exit 0 into 143.
    for _, sig in ipairs(signals) do
      sig:unref()
    end
  end
  for _, signame in ipairs({ "sigint", "sigterm" }) do
    local sig = uv.new_signal()
    sig:start(signame, shutdown)
    signals[#signals + 1] = sig
  end
  -- Announced only now: a parent may stop us as soon as it reads the URL.
  if how.announce == "json" then
    io.stdout:write('{"type":"offline_model_server","url":"', server.url, '","port":', server.port, "}\n")
  else
    io.stdout:write("ANTHROPIC_BASE_URL=", server.url, "\n")
  end
  io.stdout:flush()
  if opts.exit_on_eof then
    local kind = uv.guess_handle(0)
    local input
    if kind == "pipe" then
      input = uv.new_pipe(false)
      input:open(0)
    elseif kind == "tty" then
      input = uv.new_tty(0, true)
    end
    if input then
      handles[#handles + 1] = input
      input:read_start(function(err, data)
        if err or not data then
          shutdown()
        end
      end)
    else
      -- A file or /dev/null as stdin: it is already at its end as far as a parent is concerned.
      shutdown()
    end
  end
  uv.run("default")
  return 0
end

return M
