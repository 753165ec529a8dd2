--- ClaudeSDKClient: an interactive session with the Claude Code CLI.
--
-- Mirrors the Python SDK's ClaudeSDKClient (DESIGN.md §3).  The C core owns
-- the process and the protocol state; this file turns its results into typed
-- messages and typed errors, and decides how to wait.  All waiting goes
-- through `_wait`: inside a task (claude.run / claude.spawn) it yields the
-- task and the loop driver (driver.lua) wakes it; in a plain script it blocks
-- on the core's poll.  Inside Neovim nothing may block the editor, so a wait
-- outside a task is an error there.
--
--   local client = claude.ClaudeSDKClient.new({ model = "claude-sonnet-4-5" })
--   client:connect()
--   client:query("What is 2+2?")
--   for msg in client:receive_response() do print(msg) end
--   client:disconnect()

local core = require("claude_agent_sdk.core")
local errors = require("claude_agent_sdk.errors")
local json = require("claude_agent_sdk.json")
local options_mod = require("claude_agent_sdk.options")
local cli = require("claude_agent_sdk.cli")
local messages = require("claude_agent_sdk.messages")
local control = require("claude_agent_sdk.control")
local async = require("claude_agent_sdk.async")
local loop = require("claude_agent_sdk.loop")
local driver = require("claude_agent_sdk.driver")
local check = require("claude_agent_sdk.check")
local requests = require("claude_agent_sdk.requests")
local warnings = require("claude_agent_sdk.warnings")

local null = json.null
-- The hot frames arrive as typed messages built in C (messages.shapes).
local SHAPES = core.message_shapes(messages.shapes, messages.block_classes, messages.ContentBlock)

---@class ClaudeSDKClient
---@field options table  the validated options
---@field stderr_callback_error any  the last error the options.stderr callback raised (the session goes on)
---@field mirror_errors table[]|nil  MirrorErrorMessages of the last mirror flush at disconnect (no stream left for them)
local Client = {}
Client.__index = Client
Client.__name = "ClaudeSDKClient"

local GRACE_MS, TERM_MS = 5000, 5000
local ABANDON_TERM_MS = 2000

-- The batch of a client without a core: always empty, never written.
local NO_BATCH = setmetatable({}, {
  __newindex = function()
    error("no batch without a core")
  end,
})

--- Create a client; nothing is spawned until connect().
---   local client = ClaudeSDKClient.new({ system_prompt = "Be brief." })
---@param options table|nil  see DESIGN.md §3.1; unknown keys raise InvalidOptionError
---@return ClaudeSDKClient
function Client.new(options)
  if options == Client then
    check.fail("ClaudeSDKClient.new", "options", "an options table (call it as ClaudeSDKClient.new(options))", options)
  end
  local opts = options_mod.validate(options)
  return setmetatable({
    options = opts,
    _core = nil,
    _server_info = nil,
    _closed = false,
    _inflight = {},
    _user_sent = 0,
    _sdk_servers = options_mod.sdk_servers(opts),
    _batch = NO_BATCH,
    _batch_i = 1,
    _batch_n = 0,
  }, Client)
end

-- Every method checks its self first: `client.query("hi")` (a dot for a
-- colon) is a clear InvalidOptionError, not "attempt to index a string".
local function check_self(self, method)
  if getmetatable(self) ~= Client then
    check.fail(
      "ClaudeSDKClient:" .. method,
      "self",
      "a ClaudeSDKClient (call it as client:" .. method .. "(...))",
      self
    )
  end
end

--- Check a prompt before anything is spawned or sent: a string of text, or
--- a list of user-message tables (each checked with check_message).  An
--- iterator's messages are checked one by one as they are taken.
function Client._check_prompt(fn, prompt)
  if type(prompt) == "string" then
    check.string(fn, "prompt", prompt, { text = true })
  elseif type(prompt) == "table" then
    check.list(fn, "prompt", prompt, "a list of user messages", false, Client._check_message)
  elseif type(prompt) ~= "function" then
    check.fail(fn, "prompt", "a string, a list of user messages or an iterator function", prompt)
  end
end

--- A streamed user message: the CLI silently ignores a frame whose type it
--- does not know (and waits for a user message that never comes), and exits
--- on a user frame without message.content; both are refused here instead.
---@param fn string
---@param arg string
---@param m any
function Client._check_message(fn, arg, m)
  if type(m) ~= "table" then
    check.fail(fn, arg, "a user message table", m)
  end
  if m.type ~= "user" then
    check.fail(fn, arg .. ".type", '"user" (the CLI ignores any other message type)', m.type)
  end
  local body = m.message
  if type(body) ~= "table" then
    check.fail(fn, arg .. ".message", 'a table { role = "user", content = ... }', body)
  end
  if body.role ~= nil and body.role ~= "user" then
    check.fail(fn, arg .. ".message.role", '"user"', body.role)
  end
  local content = body.content
  if type(content) ~= "string" and type(content) ~= "table" then
    check.fail(fn, arg .. ".message.content", "a string or a list of content blocks", content)
  end
  check.jsonable(fn, arg, m)
end

function Client:__tostring()
  local state = self._core and (self._core:alive() and "connected" or "exited") or "not connected"
  return ("ClaudeSDKClient(%s)"):format(state)
end

--- Lua 5.4: `local client <close> = ClaudeSDKClient.new(...)` disconnects on scope exit.
function Client:__close()
  self:disconnect()
end

-- A waiting request ended in failure: raise the matching typed error.
function Client:_raise_failure(what, msg, code)
  if code == "ETIMEOUT" then
    errors.raise("ControlTimeoutError", ("%s: control request timed out"):format(what), { request = what })
  elseif code == "ELINE" then
    errors.raise("CLIJSONDecodeError", tostring(msg), { code = code, request = what })
  elseif code == "EEXIT" then
    self:_raise_exit_error(what)
  elseif code == "EREMOTE" then
    errors.raise("ControlError", ("%s failed: %s"):format(what, msg), { request = what, error = msg })
  end
  errors.raise("CLIConnectionError", ("%s failed: %s"):format(what, tostring(msg)), { code = code })
end

-- The process is gone (or the stream is dead): ResultError if the last message
-- was an error result, else ProcessError with the exit code and stderr tail.
function Client:_exit_error(context)
  if self._fatal then
    return self._fatal
  end
  local c = self._core
  local code, signo = c:exit_code()
  local tail = c:stderr_tail()
  local last = c:last_error_result()
  if last then
    -- The Python SDK's ResultError, field for field: `result` is the result
    -- text, `data` the raw frame, `errors` its non-blank strings; no stderr
    -- (the result says why); the message ends with the exit code.
    local function str(v)
      return type(v) == "string" and v or nil
    end
    local errs = {}
    local raw_errors = type(last.errors) == "string" and { last.errors } or last.errors
    for _, e in ipairs(type(raw_errors) == "table" and raw_errors or {}) do
      if type(e) == "string" and e:match("%S") then
        errs[#errs + 1] = e:match("^%s*(.-)%s*$")
      end
    end
    local msg = ("Claude Code returned an error result: %s (exit code: %d)"):format(errors.result_text(last), code)
    return errors.new("ResultError", msg, {
      exit_code = code,
      signal = signo ~= 0 and signo or nil,
      data = last,
      result_message = messages.parse(last),
      result = str(last.result),
      subtype = str(last.subtype),
      errors = errs,
      api_error_status = math.type and math.type(last.api_error_status) == "integer" and last.api_error_status
        or (type(last.api_error_status) == "number" and last.api_error_status or nil),
      terminal_reason = str(last.terminal_reason),
      session_id = str(last.session_id),
      context = context,
      startup_failure_reason = str(last.startup_failure_reason),
    })
  end
  local msg
  if signo ~= 0 then
    msg = ("Claude Code process was killed by signal %d"):format(signo)
  elseif code == 0 and context == "initialize" then
    -- exit 0 before the handshake: the CLI did something else than a
    -- session (a flag that prints and exits)
    msg = "Claude Code exited with code 0 without answering (did it start a session? check extra_args)"
  elseif code == 0 and context then
    msg = "Claude Code exited with code 0 before answering"
  else
    msg = ("Command failed with exit code %d"):format(code)
  end
  if context then
    msg = context .. ": " .. msg
  end
  if tail ~= "" then
    msg = msg .. "\nError output: " .. tail:gsub("%s+$", "")
  end
  return errors.new(
    "ProcessError",
    msg,
    { exit_code = code, signal = signo ~= 0 and signo or nil, stderr = tail ~= "" and tail or nil }
  )
end

function Client:_raise_exit_error(context)
  error(self:_exit_error(context), 0)
end

function Client:_require_core(what)
  if not self._core then
    errors.raise("CLIConnectionError", ("Not connected. Call connect() before %s()."):format(what))
  end
  return self._core
end

--- One round of I/O: pump the core, then answer what the CLI asked and hand
--- stderr lines to the callback.  Runs callbacks; never raises for them.
function Client:_pump(timeout_ms, in_loop)
  local c = self._core
  local ok, msg, code = c:pump(timeout_ms)
  if not ok then
    errors.raise("ClaudeSDKError", "I/O failure: " .. tostring(msg), { code = code })
  end
  self:_dispatch(in_loop)
end

function Client:_dispatch(in_loop)
  local c = self._core
  while self._core == c do
    local kind, v = c:next_request()
    if not kind then
      break
    end
    control.dispatch(self, kind, v, in_loop)
  end
  local cb = self.options.stderr
  local debug_file = self.options.debug_stderr
  while self._core == c do -- a callback may have disconnected
    local line = c:next_stderr()
    if not line then
      break
    end
    if debug_file then
      pcall(debug_file.write, debug_file, line, "\n")
    end
    if cb then
      local ok, err = pcall(cb, line)
      if not ok then
        -- One bad line must not stop the session; keep the error to inspect.
        self.stderr_callback_error = err
      end
    end
  end
end

--- Wait until cond() holds (true) or deadline_ms (core.now() time) passes
--- (false).  Yields inside a task; blocks on the core's poll otherwise.  A
--- client that gets disconnected meanwhile ends the wait (true): callers
--- re-check self._core.
function Client:_wait(cond, deadline)
  if not self._core or cond() then
    return true
  end
  if async.current() then
    local ok = driver.attach(self):wait(cond, deadline)
    local err = self._io_error
    if err then
      self._io_error = nil
      error(err, 0)
    end
    return ok ~= false
  end
  if loop.current().name == "nvim" then
    errors.raise(
      "ClaudeSDKError",
      "inside Neovim this call would block the editor: " .. "call it from a task, e.g. claude.run(function() ... end)"
    )
  end
  while true do
    local ms = -1
    if deadline then
      ms = deadline - core.now()
      if ms <= 0 then
        return false
      end
      ms = math.ceil(ms)
    end
    self:_pump(ms)
    if not self._core or cond() then
      return true
    end
  end
end

-- Writes were queued: let the loop watch stdin until they are out.
function Client:_kick()
  if self._driver then
    self._driver:sync()
  end
end

-- Send a control request and wait for its answer.
function Client:_control(subtype, fields, timeout_s)
  return self:_control_wait(self:_control_send(subtype, fields, timeout_s), subtype)
end

-- Write a control request without waiting; its id for _control_wait.
function Client:_control_send(subtype, fields, timeout_s)
  local c = self:_require_core(subtype)
  if fields ~= nil then
    check.jsonable("client:" .. subtype, "fields", fields)
  end
  local timeout = timeout_s or self.options.control_timeout or 60
  local id, msg, code = c:request(subtype, fields, math.floor(timeout * 1000))
  if not id then
    self:_raise_failure(subtype, msg, code)
  end
  self:_kick()
  return id
end

-- Wait for the answer to request id; its response, or a typed error.
function Client:_control_wait(id, subtype)
  local c = self:_require_core(subtype)
  local state, v, ecode
  self:_wait(function()
    if self._core ~= c then
      return true
    end
    state, v, ecode = c:response(id)
    return state ~= "pending"
  end)
  if self._core ~= c then
    errors.raise("CLIConnectionError", ("%s: the client was disconnected"):format(subtype))
  end
  c:forget(id)
  if state == "done" then
    return v
  end
  self:_raise_failure(subtype, v, ecode)
end

--- Start the CLI and complete the initialize handshake; with a prompt, send it.
---   client:connect()              -- interactive: send queries later
---   client:connect("Hello")       -- or start with a prompt
---@param prompt string|table|function|nil
function Client:connect(prompt)
  check_self(self, "connect")
  if prompt ~= nil then
    Client._check_prompt("client:connect", prompt)
  end
  self:_start()
  self:_finish_start()
  if prompt ~= nil then
    self:query(prompt)
  end
end

-- The first half of connect, which never waits: start the CLI and write the
-- initialize request.  The CLI starts up on its own meanwhile; a spare pool
-- (warm.lua) starts spares this way in every mode, even with no loop
-- running.  `features` may demand what the CLI must be able to do (e.g.
-- await_claim): a CLI known to lack it is refused before it is started.
function Client:_start(need)
  if self._core then
    errors.raise("CLIConnectionError", "already connected")
  end
  if self._closed then
    errors.raise("CLIConnectionError", "this client was disconnected; create a new one")
  end
  local o = self.options
  if o.can_use_tool then
    local msg = warnings.can_use_tool_shadowed(o.permission_mode, options_mod.effective_allowed_tools(o))
    if msg then
      warnings.warn("CanUseToolShadowedWarning", msg)
    end
  end
  local path = cli.find(o.cli_path)
  -- An npm install says its version in its package.json: a CLI too old is
  -- refused before it is started.  Others say it in the initialize answer.
  self._cli_version = cli.installed_version(path)
  cli.check_version(self._cli_version, path)
  local features = cli.features(self._cli_version)
  if need then
    cli.check_feature(need, self._cli_version, path)
  end
  self._need = need
  -- With a session store: a resumed session is first written from the store
  -- into a temporary config directory the CLI starts in (session_resume.lua),
  -- and the CLI's transcript_mirror frames go to the store (mirror.lua).
  local spawn_o = o
  if o.session_store then
    -- (loaded here: sessions.lua is a large module most clients never need)
    local session_resume = require("claude_agent_sdk.session_resume")
    local m = session_resume.materialize(o)
    if m then
      self._materialized = m
      spawn_o = session_resume.apply(o, m)
    end
    self._mirror = require("claude_agent_sdk.mirror").new(
      o.session_store,
      session_resume.projects_dir(spawn_o),
      o.session_store_flush
    )
  end
  local argv = options_mod.argv(spawn_o, path, features)
  local c, msg, code, errno = core.spawn({
    argv = argv,
    env = options_mod.env(spawn_o),
    cwd = o.cwd,
    user = o.user,
    max_buffer_size = o.max_buffer_size,
    stderr_lines = o.stderr ~= nil or o.debug_stderr ~= nil,
    mirror_frames = self._mirror ~= nil,
  })
  if not c then
    self:_remove_materialized()
    if code == "ENOTFOUND" then
      errors.raise(
        "CLINotFoundError",
        "Claude Code not found at " .. path .. "\n" .. cli.INSTALL_HINT,
        { cli_path = path }
      )
    elseif code == "ENOCWD" then
      errors.raise("CLIConnectionError", "Working directory does not exist: " .. tostring(o.cwd), { cwd = o.cwd })
    elseif code == "ENOUSER" then
      errors.raise(
        "CLIConnectionError",
        "Cannot run Claude Code as user " .. tostring(o.user) .. ": no such user, or no permission to switch to it",
        { user = o.user }
      )
    elseif code == "ENOEXEC" then
      errors.raise("CLIConnectionError", "Claude Code at " .. path .. " is not executable", { cli_path = path })
    end
    errors.raise(
      "CLIConnectionError",
      ("Failed to start Claude Code: %s (errno %s)"):format(msg, tostring(errno)),
      { code = code, errno = errno }
    )
  end
  self._core = c
  -- Typed messages taken from the core a batch at a time (next_messages),
  -- handed out from _batch[_batch_i] on; they belong to this core.
  self._batch, self._batch_i, self._batch_n = {}, 1, 0
  self._argv = argv
  local ok, err = pcall(function()
    local timeout = o.initialize_timeout
      or math.max(60, (tonumber(os.getenv("CLAUDE_CODE_STREAM_CLOSE_TIMEOUT") or "") or 0) / 1000)
    local fields, callbacks = options_mod.initialize_fields(o, features)
    self._hook_callbacks = callbacks
    self._initializing = {
      id = self:_control_send("initialize", fields, timeout),
      mcp = fields.mcpServers ~= nil,
      path = path,
    }
  end)
  if not ok then
    self:_teardown()
    error(err, 0)
  end
end

-- The second half of connect: wait for the initialize answer and check it.
-- The CLI may ask for MCP messages before it answers; _wait dispatches those
-- while it waits.  A client whose start failed is torn down.
function Client:_finish_start()
  local init = self._initializing
  if not init then
    return
  end
  local ok, err = pcall(function()
    self._server_info = self:_control_wait(init.id, "initialize")
    self._initializing = nil
    if init.mcp and not (type(self._server_info) == "table" and self._server_info.mcp_servers_applied) then
      errors.raise(
        "CLIConnectionError",
        "Claude Code did not apply the MCP servers sent with initialize " .. "(mcp_servers_applied is not true)"
      )
    end
    local v = type(self._server_info) == "table" and self._server_info.claude_code_version
    if cli.parse_version(v) then
      self._cli_version = v
    end
    cli.check_version(self._cli_version, init.path)
    if self._need then
      cli.check_feature(self._need, self._cli_version, init.path, true)
    end
  end)
  if not ok then
    self._initializing = nil
    self:_teardown()
    error(err, 0)
  end
end

-- Send one user frame (a table); raise CLIConnectionError if the CLI is gone.
function Client:_send(frame)
  local c = self._core
  local ok, msg, code = c:send(frame)
  if not ok then
    if code == "ECLOSED" or code == "EPIPE" then
      local exit_code = c:finished() and (c:exit_code()) or nil
      errors.raise(
        "CLIConnectionError",
        exit_code and ("Cannot write to terminated process (exit code: %d)"):format(exit_code)
          or ("Cannot write to the CLI: %s"):format(msg),
        { code = code, exit_code = exit_code }
      )
    end
    errors.raise("CLIConnectionError", "Cannot write to the CLI: " .. tostring(msg), { code = code })
  end
  if frame.type == "user" then
    self._user_sent = self._user_sent + 1
  end
  self:_kick()
end

--- Send a prompt: a string, an array of user-message tables, or an iterator
--- function returning such tables (nil ends it).
---   client:query("What is 2+2?")
---   client:query({ { type = "user", message = { role = "user", content = "Hi" } } })
---@param prompt string|table|function
---@param session_id string|nil  default "default"
function Client:query(prompt, session_id)
  check_self(self, "query")
  Client._check_prompt("client:query", prompt)
  check.string("client:query", "session_id", session_id, { optional = true, text = true })
  self:_require_core("query")
  session_id = session_id or "default"
  local streamed = 0
  local function send_table(m, checked)
    streamed = streamed + 1
    if not checked then
      Client._check_message("client:query", ("prompt message %d"):format(streamed), m)
    end
    if m.session_id == nil then
      m.session_id = session_id
    end
    self:_send(m)
  end
  if type(prompt) == "string" then
    self:_send({
      type = "user",
      message = { role = "user", content = prompt },
      parent_tool_use_id = null,
      session_id = session_id,
    })
  elseif type(prompt) == "table" then
    for _, m in ipairs(prompt) do
      send_table(m, true)
    end
  else
    for m in prompt do
      send_table(m)
    end
  end
end

-- A result was handed to one receiver: the turn is over for every receiver
-- of this client.  Others waiting in receive_response (another task) wake
-- and end their iteration too, instead of waiting for a result that went
-- to someone else.
function Client:_turn_ended()
  self._results_out = (self._results_out or 0) + 1
  if self._driver then
    self._driver:check()
  end
end

-- The stream ended: the error it ended with, if any.  A last line cut short
-- (the CLI exited in the middle of writing it) is a lost message: say so,
-- whatever the exit code.
function Client:_end_of_stream_error(c)
  local code_, signo = c:exit_code()
  if code_ ~= 0 or signo ~= 0 or self._fatal then
    return self:_exit_error()
  end
  local cut = c:stats().truncated_lines
  if cut > 0 then
    return errors.new(
      "CLIJSONDecodeError",
      (
        "Claude Code's output ended in the middle of a message (%d line(s) "
        .. "cut short at exit): what it was writing was lost"
      ):format(cut),
      { code = "ETRUNCATED", truncated_lines = cut }
    )
  end
  return nil
end

-- The next typed message, nil at the end of the stream.  With a deadline
-- (core.now() milliseconds) a TimeoutError is raised when it passes; what
-- arrives later stays queued for the next call.  With `turn` (the count of
-- results handed out when a receive_response began), false is returned once
-- another receiver took that turn's result.
function Client:_next_message(deadline, turn)
  while true do
    local c = self._core
    if not c then
      return nil
    end
    if turn and (self._results_out or 0) > turn then
      return false
    end
    -- typed messages come a batch at a time; one is refilled only when it is
    -- used up (another task may have taken one while this one waited)
    local batch, i = self._batch, self._batch_i
    local m = batch[i]
    if m ~= nil then
      batch[i] = nil
      self._batch_i = i + 1
      return m
    end
    local kind, v, code
    if self._mirror then
      -- Mirrored: new messages pass through the mirror first (transcript
      -- frames are taken out; a flush may yield) and join the batch.
      local got = {}
      local n = c:next_messages(SHAPES, got)
      if n == 0 then
        kind, v, code = c:next_message()
        if kind == "message" then
          got[1], n = messages.parse(v), 1
        end
      end
      if n > 0 then
        self:_mirror_take(c, got, n)
        kind = "taken"
      end
    else
      local n = c:next_messages(SHAPES, batch)
      if n > 0 then
        m = batch[1]
        batch[1] = nil
        self._batch_i, self._batch_n = 2, n
        return m
      end
      -- Not typed in the batch (a tree, an error, or a line the typed walk gave
      -- up on): taken plainly, without walking that line a second time.
      kind, v, code = c:next_message()
    end
    if kind == "taken" then -- luacheck: ignore 542 (the loop takes them from the batch)
    elseif kind == "message" then
      return messages.parse(v)
    elseif kind == "decode_error" then
      errors.raise("CLIJSONDecodeError", "Failed to decode JSON from the CLI: " .. v, { line = v, code = code })
    elseif kind == "fatal" then
      self._fatal = errors.new("CLIJSONDecodeError", v, { code = code })
      error(self._fatal, 0)
    elseif self._fatal then
      -- the stream is dead (a line over the limit): say so again at once
      error(self._fatal, 0)
    elseif c:finished() and self:_mirror_end(c) then -- luacheck: ignore 542
      -- the stream ended: the last mirror flush put its errors in the batch
    elseif c:finished() then
      if self._exit_reported or self._closing then
        return nil
      end
      self._exit_reported = true
      local err = self:_end_of_stream_error(c)
      if err then
        error(err, 0)
      end
      return nil
    elseif
      not self:_wait(function()
        -- (another task receiving from this client may have taken a batch,
        -- or the turn's result)
        return self._core ~= c
          or c:queued() > 0
          or self:_batched() > 0
          or c:finished()
          or (turn ~= nil and (self._results_out or 0) > turn)
      end, deadline)
    then
      errors.raise("TimeoutError", "no message from Claude Code within the timeout")
    end
  end
end

-- Mirrored messages (n of them in got, from core c): transcript_mirror
-- frames go to the mirror, the others join the batch; a result (or, in eager
-- mode, each frame) flushes the mirror first, and the errors of a flush
-- (MirrorErrorMessage) come just before the message that caused it.
function Client:_mirror_take(c, got, n)
  local mir, out = self._mirror, {}
  local function flush()
    for _, e in ipairs(mir:flush()) do
      out[#out + 1] = e
    end
  end
  for j = 1, n do
    local m = got[j]
    if m.type == "transcript_mirror" then
      if mir:enqueue(m) then
        flush()
      end
    else
      if m.type == "result" then
        flush()
      end
      out[#out + 1] = m
    end
  end
  if self._core ~= c then
    return -- disconnected while the store was busy: the batch went with it
  end
  if self._batch_i > self._batch_n then
    self._batch_i, self._batch_n = 1, 0
  end
  local b, k = self._batch, self._batch_n
  for _, m in ipairs(out) do
    k = k + 1
    b[k] = m
  end
  self._batch_n = k
end

-- The stream ended (the CLI exited): flush what the mirror still holds, once.
-- True when that put MirrorErrorMessages in the batch to hand out.
function Client:_mirror_end(c)
  local mir = self._mirror
  if not mir or self._mirror_ended or self._closing then
    return false
  end
  self._mirror_ended = true
  local errs = mir:flush()
  if #errs == 0 or self._core ~= c then
    return false
  end
  self:_mirror_take(c, errs, #errs)
  return true
end

-- At disconnect, after the CLI exited: the transcript frames still queued in
-- the core go to the mirror (the other messages were not read and are
-- dropped with the session), then the last flush.  Its errors are kept in
-- client.mirror_errors: there is no stream left to put them in.
function Client:_mirror_close(c)
  local mir = self._mirror
  if not mir then
    return
  end
  for _ = 1, 1000000 do
    local got = {}
    local n = c:next_messages(SHAPES, got)
    if n == 0 then
      local kind, v = c:next_message()
      if kind == nil then
        break
      elseif kind == "message" then
        got[1], n = v, 1
      end
    end
    for j = 1, n do
      if type(got[j]) == "table" and got[j].type == "transcript_mirror" then
        mir:enqueue(got[j])
      end
    end
  end
  local errs = mir:flush()
  if #errs > 0 then
    self.mirror_errors = errs
  end
end

-- Remove the temporary config directory of a resume from a store.
function Client:_remove_materialized()
  local m = self._materialized
  if m then
    self._materialized = nil
    require("claude_agent_sdk.sessions").remove_tree(m.config_dir)
  end
end

local TIMEOUT_OPTS = { timeout = true }

local function deadline_of(fn, opts)
  check.opts(fn, "opts", opts, TIMEOUT_OPTS)
  if opts == nil or opts.timeout == nil then
    return nil
  end
  check.number(fn, "opts.timeout", opts.timeout, { min = 0 })
  return core.now() + opts.timeout * 1000
end

--- Every message until the CLI's stdout ends.  With `{ timeout = s }` the
--- whole iteration may take at most s seconds, then TimeoutError is raised
--- (nothing is lost: later messages wait for the next receive).
---   for msg in client:receive_messages() do ... end
---@param opts {timeout: number}|nil
---@return fun(): table|nil
function Client:receive_messages(opts)
  check_self(self, "receive_messages")
  local deadline = deadline_of("client:receive_messages", opts)
  self:_require_core("receive_messages")
  return function()
    -- the common case inline: the next message of the batch in hand
    local batch, i = self._batch, self._batch_i
    local m = batch[i]
    if m == nil then
      m = self:_next_message(deadline)
    else
      batch[i] = nil
      self._batch_i = i + 1
    end
    if m ~= nil and m.type == "result" then
      self:_turn_ended()
    end
    return m
  end
end

--- Messages up to and including the next ResultMessage; `{ timeout = s }` as
--- for receive_messages.
---   for msg in client:receive_response() do ... end
---   for msg in client:receive_response({ timeout = 10 }) do ... end
---@param opts {timeout: number}|nil
---@return fun(): table|nil
function Client:receive_response(opts)
  check_self(self, "receive_response")
  local deadline = deadline_of("client:receive_response", opts)
  self:_require_core("receive_response")
  local done = false
  local turn = self._results_out or 0
  return function()
    if done then
      return nil
    end
    local batch, i = self._batch, self._batch_i
    local m = batch[i]
    if m ~= nil then -- the common case inline, as in receive_messages
      batch[i] = nil
      self._batch_i = i + 1
    else
      m = self:_next_message(deadline, turn)
      if m == false then -- another receiver took this turn's result
        done = true
        return nil
      end
    end
    if m == nil then
      done = true
    elseif m.type == "result" then
      done = true
      self:_turn_ended()
    end
    return m
  end
end

--- Stop the current turn; it ends with an error_during_execution result.
--- Returns the CLI's answer: {} on 2.1.197, { still_queued = { uuid... } }
--- (user messages still waiting for a turn) on newer CLIs.
---@return table
function Client:interrupt()
  check_self(self, "interrupt")
  return self:_control("interrupt")
end

--- Change the permission mode for the following tool uses; returns the mode
--- in effect (the CLI's answer).
---@param mode string  "default" | "acceptEdits" | "plan" | "bypassPermissions" | "dontAsk" | "auto"
---@return string
function Client:set_permission_mode(mode)
  check_self(self, "set_permission_mode")
  if type(mode) ~= "string" or not options_mod.PERMISSION_MODES[mode] then
    check.fail(
      "client:set_permission_mode",
      "mode",
      "a permission mode (default, acceptEdits, plan, bypassPermissions, dontAsk, auto)",
      mode
    )
  end
  local r = self:_control("set_permission_mode", { mode = mode })
  return type(r) == "table" and type(r.mode) == "string" and r.mode or mode
end

--- Change the model for the next requests (nil: the default model).
---@param model string|nil
function Client:set_model(model)
  check_self(self, "set_model")
  check.string("client:set_model", "model", model, { optional = true, nonempty = true, text = true })
  self:_control("set_model", { model = model == nil and null or model })
end

--- Restore the files changed since the user message with this uuid (needs
--- enable_file_checkpointing and the message's uuid, e.g. from a replayed
--- user message with extra_args = { ["replay-user-messages"] = true }).
---@param user_message_id string
---@param opts {dry_run: boolean|nil}|nil
---@return table  e.g. { canRewind = true, filesChanged = {...} }
function Client:rewind_files(user_message_id, opts)
  check_self(self, "rewind_files")
  check.string("client:rewind_files", "user_message_id", user_message_id, { nonempty = true, text = true })
  check.opts("client:rewind_files", "opts", opts, { dry_run = true })
  if opts then
    check.type("client:rewind_files", "opts.dry_run", opts.dry_run, "boolean", true)
  end
  local fields = { user_message_id = user_message_id }
  if opts and opts.dry_run ~= nil then
    fields.dry_run = opts.dry_run and true or false
  end
  return self:_control("rewind_files", fields)
end

--- The MCP servers and their status: { mcpServers = { {name, status, tools, ...} } }.
---@return table
function Client:get_mcp_status()
  check_self(self, "get_mcp_status")
  return self:_control("mcp_status")
end

--- Reconnect an MCP server by name.
---@param name string
function Client:reconnect_mcp_server(name)
  check_self(self, "reconnect_mcp_server")
  check.string("client:reconnect_mcp_server", "name", name, { nonempty = true, text = true })
  self:_control("mcp_reconnect", { serverName = name })
end

--- Enable or disable an MCP server by name.
---@param name string
---@param enabled boolean
function Client:toggle_mcp_server(name, enabled)
  check_self(self, "toggle_mcp_server")
  check.string("client:toggle_mcp_server", "name", name, { nonempty = true, text = true })
  check.type("client:toggle_mcp_server", "enabled", enabled, "boolean")
  self:_control("mcp_toggle", { serverName = name, enabled = enabled })
end

--- Stop a running background task (task_started's task_id).
---@param task_id string
function Client:stop_task(task_id)
  check_self(self, "stop_task")
  check.string("client:stop_task", "task_id", task_id, { nonempty = true, text = true })
  self:_control("stop_task", { task_id = task_id })
end

--- How the context window is used: categories, totalTokens, maxTokens, percentage, ...
---@return table
function Client:get_context_usage()
  check_self(self, "get_context_usage")
  return self:_control("get_context_usage")
end

--- Set the thinking budget for the next turns (nil: the default).
---@param n integer|nil
function Client:set_max_thinking_tokens(n)
  check_self(self, "set_max_thinking_tokens")
  check.number("client:set_max_thinking_tokens", "n", n, { optional = true, integer = true, min = 0 })
  self:_control("set_max_thinking_tokens", { max_thinking_tokens = n == nil and null or n })
end

--- Any control request the CLI supports, by subtype (PROTOCOL.md §3.3):
--- returns its answer, raises ControlError with the CLI's message, or
--- ControlTimeoutError after `timeout` seconds (default options.control_timeout or 60).
---   local settings = client:control("get_settings")
---@param subtype string
---@param fields table|nil
---@param opts {timeout: number|nil}|nil
---@return table
function Client:control(subtype, fields, opts)
  check_self(self, "control")
  check.string("client:control", "subtype", subtype, { nonempty = true, text = true })
  check.type("client:control", "fields", fields, "table", true)
  if fields ~= nil then
    check.jsonable("client:control", "fields", fields)
    if fields.subtype ~= nil then
      check.fail("client:control", "fields.subtype", "nothing (give the subtype as the first argument)", fields.subtype)
    end
  end
  check.opts("client:control", "opts", opts, TIMEOUT_OPTS)
  if opts then
    check.number("client:control", "opts.timeout", opts.timeout, { optional = true, min = 0 })
  end
  return self:_control(subtype, fields, opts and opts.timeout)
end

-- The typed methods of the newer control requests (requests.lua): each
-- checks its arguments, refuses a CLI known to be too old, sends, and
-- returns the answer.
local ARG_CHECKS = {
  name = function(fn, arg, v)
    check.string(fn, arg, v, { nonempty = true, text = true })
  end,
  ["name?"] = function(fn, arg, v)
    check.string(fn, arg, v, { optional = true, nonempty = true, text = true })
  end,
  text = function(fn, arg, v)
    check.string(fn, arg, v, { text = true })
  end,
  bool = function(fn, arg, v)
    check.type(fn, arg, v, "boolean")
  end,
  table = function(fn, arg, v)
    check.type(fn, arg, v, "table")
    check.jsonable(fn, arg, v)
  end,
  ["fields?"] = function(fn, arg, v)
    check.type(fn, arg, v, "table", true)
    if v ~= nil then
      check.jsonable(fn, arg, v)
    end
  end,
}

for _, spec in ipairs(requests.list) do
  local fname = "client:" .. spec.method
  --- One typed control request of requests.lua: checks its arguments,
  --- refuses a CLI known to be too old (ControlError, unsent), sends it and
  --- returns the CLI's answer.
  ---   local models = client:list_models().models
  ---@param ... any  the request's arguments, in the order requests.lua gives
  ---@return table
  Client[spec.method] = function(self, ...)
    check_self(self, spec.method)
    local fields = {}
    for i, a in ipairs(spec.args) do
      local v = select(i, ...)
      ARG_CHECKS[a[2]](fname, a[1], v)
      if a[2] == "fields?" then
        for k, x in pairs(v or {}) do
          fields[k] = x
        end
      elseif v ~= nil then
        fields[a[3]] = v
      end
    end
    self:_require_core(spec.method)
    local version = self._cli_version
    if spec.since and version and cli.older(version, spec.since) then
      errors.raise(
        "ControlError",
        ("%s is not answered by Claude Code %s (it is from %s on)"):format(spec.subtype, version, spec.since),
        { request = spec.subtype, unsupported = true }
      )
    end
    return self:_control(spec.subtype, fields)
  end
end

--- The CLI's answer to initialize (commands, output styles, models, ...), or nil.
---@return table|nil
function Client:get_server_info()
  check_self(self, "get_server_info")
  return self._server_info
end

--- The capabilities this SDK knows by name (newer CLIs list theirs in the
--- initialize answer).  supports() refuses a name that is neither here nor in
--- the CLI's own list: a typo is an error, not a silent false.
Client.KNOWN_CAPABILITIES = {
  ui_surface_v1 = true,
  mcp_call_result_not_for_model_v1 = true,
  mcp_call_soft_error_result_v1 = true,
  mcp_call_check_permissions_v1 = true,
  voice_call_talk_line_v1 = true,
  ui_pane_widget_v1 = true,
  reload_plugins_refuse_if_busy_v1 = true,
  get_usage_detached_v1 = true,
}

--- True when the CLI's initialize answer lists the capability.  A CLI that
--- lists none (older than about 2.1.300) supports none of them.
---   if client:supports("get_usage_detached_v1") then ... end
---@param name string
---@return boolean
function Client:supports(name)
  check_self(self, "supports")
  check.string("client:supports", "name", name, { nonempty = true, text = true })
  self:_require_core("supports")
  local caps = type(self._server_info) == "table" and self._server_info.capabilities
  if type(caps) == "table" then
    for _, c in ipairs(caps) do
      if c == name then
        return true
      end
    end
  end
  if not Client.KNOWN_CAPABILITIES[name] then
    local names = {}
    for k in pairs(Client.KNOWN_CAPABILITIES) do
      names[#names + 1] = k
    end
    table.sort(names)
    check.fail("client:supports", "name", "a capability name (known: " .. table.concat(names, ", ") .. ")", name)
  end
  return false
end

--- The CLI's version ("2.1.332"): from the initialize answer, or from an npm
--- install's package.json; nil when neither says.
---@return string|nil
function Client:cli_version()
  check_self(self, "cli_version")
  return self._cli_version
end

-- Release the core (the process must be finished or is killed by free).
-- The driver stops watching the fds before the core closes them, and wakes
-- its waiters, who find the client gone.
function Client:_teardown()
  local c = self._core
  self._core = nil
  self:_drop_batch()
  self._closed = true
  if self._driver then
    self._driver:close()
  end
  if c then
    c:free()
  end
  self:_remove_materialized()
  self:_run_after_close()
end

-- What must go when the CLI has gone (a spare's parking folder: warm.lua).
function Client:_run_after_close()
  local f = self._after_close
  if f then
    self._after_close = nil
    pcall(f)
  end
end

--- End the session: close stdin, give the CLI 5 s to exit, then SIGTERM, then
--- SIGKILL.  Idempotent; never leaves a process behind.  Inside a task it
--- yields while the CLI exits; other tasks waiting on the client wake up and
--- find it closed (their iterators end).
function Client:disconnect()
  check_self(self, "disconnect")
  local c = self._core
  if not c then
    self._closed = true
    return
  end
  if self._closing then
    -- another task is already disconnecting: wait for it to finish
    if async.current() then
      self:_wait(function()
        return self._core ~= c
      end)
    end
    return
  end
  self._closing = true
  -- Say goodbye first, as the official SDKs do (both CLIs of the matrix
  -- answer it and end the session cleanly); nobody waits for the answer: the
  -- ladder below bounds the exit either way.
  if c:alive() then
    pcall(c.request, c, "end_session", { reason = "host_closing" }, TERM_MS)
  end
  -- An idle CLI gets GRACE_MS after stdin closes to finish its session
  -- files.  One still answering would use all of it (it finishes the turn
  -- first), so it gets SIGTERM at once, which it handles by saving and
  -- exiting: a disconnect mid-answer (an editor quitting) is prompt.
  local grace = self._user_sent > c:stats().results and 0 or GRACE_MS
  local term = TERM_MS
  if self._abandon then
    -- a spare that was refused or discarded has no session to save
    grace, term = 0, ABANDON_TERM_MS
  end
  if async.current() then
    c:shutdown(grace, term)
    self:_kick()
    self:_wait(function()
      return self._core ~= c or c:finished()
    end)
    if self._core == c then
      self:_mirror_close(c)
      self:_teardown()
    end
  else
    -- Detach first: tasks woken by closing the driver must find the client
    -- gone, not wait again on a driver that will never wake them.
    self._core = nil
    self:_drop_batch()
    self._closed = true
    if self._driver then
      self._driver:close()
    end
    c:close(grace, term)
    self:_mirror_close(c)
    c:free()
    self:_remove_materialized()
    self:_run_after_close()
  end
end

--- Host-loop mode: do the I/O that is ready, waiting at most timeout_ms (0:
--- never block), answer the CLI's requests, wake tasks waiting on this client
--- and run due timers; then hand queued messages to options.on_message if set.
--- Returns how many messages are queued for receive_*/receive_nowait.
---   -- each frame of a game:
---   client:pump(0)
---@param timeout_ms number|nil  default 0
---@return integer
function Client:pump(timeout_ms)
  check_self(self, "pump")
  check.number("client:pump", "timeout_ms", timeout_ms, { optional = true, min = 0 })
  -- Before connect (or after disconnect) there is no I/O, but the frame loop
  -- still drives timers and tasks (e.g. the task that is connecting).
  -- With the host loop, callbacks start as tasks from here: one that waits
  -- (a prompt for the player) is resumed by later frames instead of
  -- stalling this one.
  local backend = loop.current()
  if self._core then
    self:_pump(timeout_ms or 0, backend.name == "host")
  end
  local d = self._driver
  if d then
    d:sync()
    d:check()
  end
  if backend.step then
    backend.step()
  end
  local on_message = self.options.on_message
  if on_message then
    while self._core do
      local m = self:receive_nowait()
      if m == nil then
        break
      end
      on_message(m)
    end
  end
  return self._core and self._core:queued() + self:_batched() or 0
end

-- Messages taken from the core in a batch and not handed out yet.
function Client:_batched()
  return self._batch_n - self._batch_i + 1
end

-- They go with their core.
function Client:_drop_batch()
  self._batch, self._batch_i, self._batch_n = NO_BATCH, 1, 0
end

--- The next message if one has arrived, else nil; never waits.  At the end of
--- the stream it raises what receive_messages would (ProcessError, ...).
---@return table|nil
function Client:receive_nowait()
  check_self(self, "receive_nowait")
  local c = self._core
  if not c then
    return nil
  end
  if c:queued() == 0 and self:_batched() == 0 and not c:finished() then
    return nil
  end
  local m = self:_next_message()
  if m ~= nil and m.type == "result" then
    self:_turn_ended()
  end
  return m
end

--- The fds a host's own poller should watch (read: "r", write: "w") and the
--- milliseconds until pump must run anyway (-1: no deadline).
---   local fds, timeout = client:fds()
---@return table[] fds
---@return integer timeout_ms
function Client:fds()
  check_self(self, "fds")
  local c = self:_require_core("fds")
  local t = c:timeout()
  local function earlier(x)
    if x and x >= 0 and (t < 0 or x < t) then
      t = x
    end
  end
  -- tasks sleeping or waiting with a timeout need a pump too
  local backend = loop.current()
  if backend.next_due then
    earlier(backend.next_due())
  end
  if self._driver then
    earlier(self._driver:next_deadline())
  end
  return c:pollfds(), math.ceil(t)
end

--- The argv the CLI was started with (for diagnostics and tests).
---@return string[]|nil
function Client:argv()
  check_self(self, "argv")
  return self._argv
end

--- The CLI's process id, or nil when not running.
---@return integer|nil
function Client:pid()
  check_self(self, "pid")
  return self._core and self._core:pid() or nil
end

return Client
