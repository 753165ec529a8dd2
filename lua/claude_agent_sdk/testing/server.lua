--- The offline model server: an HTTP/1.1 server on luv that answers the Anthropic Messages API from a script.
---
--- Contract: `ModelServer.new(opts)` builds a server; `server:start()` binds (port 0 picks a free one), returns the
--- port and sets `server.port` and `server.url`; it needs a running loop to make progress (the caller's
--- `uv.run()`, Neovim's loop, or the standalone command). Nothing ever blocks: delays are luv timers.
--- `server:stop()` closes the listener, every connection and every timer; it is idempotent. Endpoints:
---   POST /v1/messages[?query]        a script reply: SSE when the body says "stream": true, else one JSON message
---   POST /v1/messages/count_tokens   {"input_tokens": N} (about four bytes a token)
---   GET /                            200 {"ok": true}
---   HEAD (any path)                  headers only: 200 for /, else 404 (the CLI sends HEAD / to warm up)
---   anything else                    404 with an API-style JSON error
--- Connections are kept alive (HTTP/1.1) and their requests answered in order. Every request is appended to
--- `server.requests` as `{ method, path, target, headers, body, side }` (`body` the decoded JSON, or the raw string
--- when it is not JSON) and, with `opts.log`, written as one JSON line to that file (with the x-api-key and
--- authorization headers redacted). A script function that raises gives a 500 `api_error` whose message says why;
--- the error is also kept in `server.errors` and passed to `opts.on_error`.
--- JSON is the SDK's own (`claude_agent_sdk.json`, the C core): bodies decode with `json.null` for null and
--- `json.array_mt` on arrays, so a logged or re-encoded `[]` stays `[]`. Object keys go out in no fixed order (the
--- Messages API's clients parse JSON; none reads it by position), and a reply holding something JSON cannot carry
--- (a function, NaN, a sparse or mixed table) is a script error, a 500 naming the path to the bad value.
---
--- Example: `local s = ModelServer.new({ script = { { match = "hi", reply = "Hello!" } } }); s:start()`

local http = require("claude_agent_sdk.testing.http")
local sse = require("claude_agent_sdk.testing.sse")
local json = require("claude_agent_sdk.json")
local script_mod = require("claude_agent_sdk.testing.script")
local loop = require("claude_agent_sdk.loop")

local M = {}

---@param given table|nil a luv-compatible module chosen by the caller
---@return table uv `given`, else the one the SDK's loop runs on (Neovim's vim.uv / vim.loop, else luv)
--- Example: `local uv = server.luv(opts.uv)`
function M.luv(given)
  local uv = given or loop.current().uv
  if not uv then
    -- The SDK runs on the host's frame loop (claude.use_loop("host")), which keeps no luv: the server still needs
    -- one, the module the SDK's loop would have taken (it is loaded already when installed).
    local ok, luv = pcall(require, "luv")
    uv = ok and luv or error("claude_agent_sdk.testing needs luv (Debian: lua-luv) or Neovim's vim.uv", 3)
  end
  return uv
end

---@class ClaudeTestingServerOptions
---@field script table|string|nil rules table, a script from script.new, or a path to a Lua file returning rules
---@field port integer|nil TCP port (default 0: a free port)
---@field host string|nil address to bind (default "127.0.0.1")
---@field log string|nil file to append one JSON line per request to
---@field uv table|nil the luv module to use (default: the SDK's loop's, vim.uv / vim.loop in Neovim, else luv)
---@field on_error fun(message: string)|nil called when a script function raises

---@class ClaudeTestingModelServer
---@field url string|nil "http://127.0.0.1:PORT" once started
---@field port integer|nil the bound port once started
---@field host string
---@field requests table[] every request received, in order
---@field errors string[] errors raised by script functions
---@field script ClaudeTestingScript
local ModelServer = {}
ModelServer.__index = ModelServer
M.ModelServer = ModelServer

---@param path string a Lua file returning a rules table
---@return table rules
--- Example: `local rules = server.load_script("spec/support/rules.lua")`
function M.load_script(path)
  local chunk, err = loadfile(path)
  if not chunk then
    error("cannot load script " .. path .. ": " .. tostring(err), 2)
  end
  local rules = chunk()
  if type(rules) ~= "table" then
    error("script " .. path .. " must return a table of rules", 2)
  end
  return rules
end

---@param opts ClaudeTestingServerOptions|nil
---@return ClaudeTestingModelServer
--- Example: `local server = ModelServer.new({ script = rules, port = 0 })`
function ModelServer.new(opts)
  opts = opts or {}
  local s = opts.script
  if type(s) == "string" then
    s = M.load_script(s)
  end
  if getmetatable(s) == nil or s.answer == nil then
    s = script_mod.new(s)
  end
  return setmetatable({
    uv = M.luv(opts.uv),
    host = opts.host or "127.0.0.1",
    want_port = opts.port or 0,
    log = opts.log,
    on_error = opts.on_error,
    script = s,
    requests = {},
    errors = {},
    conns = {},
    message_count = 0,
    request_ids = 0,
  }, ModelServer)
end

---@return integer port the bound port
--- Example: `local port = server:start(); print(server.url)`
function ModelServer:start()
  if self.listener then
    return self.port
  end
  local uv = self.uv
  local tcp = uv.new_tcp()
  local ok, err = tcp:bind(self.host, self.want_port)
  if not ok then
    tcp:close()
    error("cannot bind " .. self.host .. ":" .. tostring(self.want_port) .. ": " .. tostring(err), 2)
  end
  ok, err = tcp:listen(128, function(lerr)
    if lerr then
      return
    end
    self:accept()
  end)
  if not ok then
    tcp:close()
    error("cannot listen: " .. tostring(err), 2)
  end
  self.listener = tcp
  -- A client that hangs up mid-stream (an interrupted CLI) must cost an EPIPE, not the process: libuv writes
  -- with plain write(), and SIGPIPE kills by default. A handler (not SIG_IGN) is restored when this closes.
  self.sigpipe = uv.new_signal()
  self.sigpipe:start("sigpipe", function() end)
  self.sigpipe:unref()
  self.port = tcp:getsockname().port
  self.url = "http://" .. self.host .. ":" .. self.port
  return self.port
end

--- Close the listener and every connection and timer. Safe to call twice. The handles finish closing on the
--- loop's next turn: in a plain script, run `uv.run("nowait")` (or keep the loop running) before exiting, since
--- luv 1.44 crashes at exit on a handle that is still closing.
--- Example: `server:stop(); uv.run("nowait")`
function ModelServer:stop()
  if not self.listener then
    return
  end
  for _, h in ipairs({ self.listener, self.sigpipe }) do
    if not h:is_closing() then
      h:close()
    end
  end
  self.listener, self.sigpipe = nil, nil
  for conn in pairs(self.conns) do
    self:close_conn(conn)
  end
end

function ModelServer:accept()
  local sock = self.uv.new_tcp()
  if not self.listener:accept(sock) then
    sock:close()
    return
  end
  sock:nodelay(true)
  local conn = { sock = sock, parser = http.parser(), queue = {}, busy = false }
  self.conns[conn] = true
  sock:read_start(function(err, data)
    if err or not data then
      self:close_conn(conn)
      return
    end
    local reqs, perr, status = conn.parser:feed(data)
    if not reqs then
      conn.queue[#conn.queue + 1] = { failed = perr, status = status, keep_alive = false }
    else
      for _, req in ipairs(reqs) do
        conn.queue[#conn.queue + 1] = req
      end
    end
    self:pump(conn)
  end)
end

function ModelServer:close_conn(conn)
  if conn.closed then
    return
  end
  conn.closed = true
  self.conns[conn] = nil
  if conn.timer and not conn.timer:is_closing() then
    conn.timer:close()
  end
  if not conn.sock:is_closing() then
    conn.sock:close()
  end
end

-- Answer the next queued request of a connection, unless one is being answered.
function ModelServer:pump(conn)
  if conn.busy or conn.closed or #conn.queue == 0 then
    return
  end
  local req = table.remove(conn.queue, 1)
  conn.busy = true
  local steps = self:respond(req)
  self:run_steps(conn, steps, 1, false, function()
    conn.busy = false
    if not req.keep_alive then
      conn.sock:read_stop()
      conn.sock:shutdown(function()
        self:close_conn(conn)
      end)
      return
    end
    self:pump(conn)
  end)
end

-- Write steps[i..] in order; each step is `{ data = string, delay = ms }`, the delay a pause before its data
-- (`waited`: steps[i]'s pause is over). Consecutive steps without a pause go out in one write.
function ModelServer:run_steps(conn, steps, i, waited, done)
  if conn.closed then
    return
  end
  local out = {}
  while steps[i] and (waited or (steps[i].delay or 0) <= 0) do
    out[#out + 1] = steps[i].data
    i, waited = i + 1, false
  end
  if #out > 0 then
    conn.sock:write(table.concat(out))
  end
  if not steps[i] then
    done()
    return
  end
  conn.timer = conn.timer or self.uv.new_timer()
  conn.timer:start(steps[i].delay, 0, function()
    self:run_steps(conn, steps, i, true, done)
  end)
end

function ModelServer:next_request_id()
  self.request_ids = self.request_ids + 1
  return "req_offline_" .. self.request_ids
end

-- Copy the fields of `from` (may be nil) into `into`; returns `into`.
local function merge(into, from)
  for k, v in pairs(from or {}) do
    into[k] = v
  end
  return into
end

local function json_response(status, body, keep_alive, extra)
  local text = json.encode(body)
  return http.head(
    status,
    merge({
      ["Content-Type"] = "application/json",
      ["Content-Length"] = #text,
      ["Connection"] = keep_alive and "keep-alive" or "close",
    }, extra)
  ) .. text
end

function ModelServer:error_response(status, etype, message, keep_alive, extra)
  local rid = self:next_request_id()
  return json_response(status, {
    type = "error",
    error = { type = etype, message = message },
    request_id = rid,
  }, keep_alive, merge({ ["request-id"] = rid }, extra))
end

local REDACT = { ["x-api-key"] = true, ["authorization"] = true }

function ModelServer:record(req, body, side)
  local entry = {
    method = req.method,
    path = req.path,
    target = req.target,
    headers = req.headers,
    body = body,
    side = side,
  }
  self.requests[#self.requests + 1] = entry
  if self.log then
    local headers = {}
    for k, v in pairs(req.headers) do
      headers[k] = REDACT[k] and "<redacted>" or v
    end
    local line = json.encode({
      time = os.time(),
      method = req.method,
      path = req.path,
      target = req.target,
      headers = headers,
      side = side,
    })
    if body ~= nil then
      -- The body as the client sent it (a JSON text has no raw newlines outside its whitespace), so the log
      -- keeps what a re-encoding would lose, such as `[]` versus `{}`.
      local text = type(body) == "table" and req.body:gsub("[\r\n]+", " ")
      if not text then
        -- A body that is not JSON, logged as a string; bytes JSON cannot hold (invalid UTF-8, NUL) as "\xNN".
        local ok, quoted = pcall(json.encode, body)
        text = ok and quoted
          or json.encode((body:gsub("[^\t\n\r\32-\126]", function(c)
            return string.format("\\x%02X", c:byte())
          end)))
      end
      line = '{"body":' .. text .. "," .. line:sub(2)
    end
    local f = io.open(self.log, "a")
    if f then
      f:write(line, "\n")
      f:close()
    end
  end
  return entry
end

-- The steps answering one parsed request.
function ModelServer:respond(req)
  if req.failed then
    return { { data = self:error_response(req.status or 400, "invalid_request_error", req.failed, false) } }
  end
  local body
  if req.body ~= "" then
    local ok, decoded = pcall(json.decode, req.body)
    body = ok and decoded or req.body
  end
  local is_messages = req.method == "POST" and req.path == "/v1/messages"
  local api_req
  if is_messages and type(body) == "table" then
    api_req = script_mod.request(body, { path = req.path, headers = req.headers, index = self.message_count })
    self.message_count = self.message_count + 1
  end
  self:record(req, body, api_req and api_req.side)
  local ka = req.keep_alive
  if req.method == "HEAD" then
    -- The CLI's connection warm-up. A HEAD answer has headers only, whatever the path.
    return {
      {
        data = http.head(req.path == "/" and 200 or 404, {
          ["Content-Type"] = "application/json",
          ["Content-Length"] = 0,
          ["Connection"] = ka and "keep-alive" or "close",
        }),
      },
    }
  end
  if req.method == "GET" and req.path == "/" then
    return { { data = json_response(200, { ok = true }, ka) } }
  end
  if req.method == "POST" and req.path == "/v1/messages/count_tokens" then
    local n = math.max(1, math.floor(#req.body / 4))
    return { { data = json_response(200, { input_tokens = n }, ka) } }
  end
  if not is_messages then
    return {
      { data = self:error_response(404, "not_found_error", "Not found: " .. req.method .. " " .. req.path, ka) },
    }
  end
  if type(body) ~= "table" then
    return { { data = self:error_response(400, "invalid_request_error", "request body is not a JSON object", ka) } }
  end
  local ok, steps = pcall(self.answer, self, api_req, ka)
  if not ok then
    local message = "offline model script error: " .. tostring(steps)
    self.errors[#self.errors + 1] = message
    if self.on_error then
      self.on_error(message)
    end
    return { { data = self:error_response(500, "api_error", message, ka) } }
  end
  return steps
end

-- The steps of a script's answer to a /v1/messages request. Raises when a script function does or when the reply
-- holds something JSON cannot carry (the encoder names the path to it); respond turns that into a 500.
function ModelServer:answer(api_req, ka)
  local reply = self.script:answer(api_req)
  local first = reply.first_byte_delay_ms or 0
  if reply.status ~= 200 then
    return {
      {
        delay = first,
        data = self:error_response(reply.status, reply.error.type, reply.error.message, ka, reply.headers),
      },
    }
  end
  local msg = reply.message
  if not api_req.stream then
    return {
      {
        delay = first,
        data = json_response(
          200,
          sse.message_body(msg),
          ka,
          merge({ ["request-id"] = self:next_request_id() }, reply.headers)
        ),
      },
    }
  end
  local headers = merge({
    ["Content-Type"] = "text/event-stream; charset=utf-8",
    ["Cache-Control"] = "no-cache",
    ["Transfer-Encoding"] = "chunked",
    ["Connection"] = ka and "keep-alive" or "close",
    ["request-id"] = self:next_request_id(),
  }, reply.headers)
  local steps = { { delay = first, data = http.head(200, headers) } }
  for _, ev in ipairs(sse.events(msg)) do
    local delay = ev.event == "content_block_delta" and reply.delay_ms or 0
    steps[#steps + 1] = { delay = delay, data = http.chunk(sse.format(ev)) }
  end
  steps[#steps + 1] = { data = http.chunk("") }
  return steps
end

return M
