--- RedisSessionStore: a session store shared by many hosts, in Redis,
--- speaking RESP over the event loop's own TCP (luv; vim.uv in Neovim).
--
-- Why not Debian's lua-redis: it is blocking (luasocket), so inside a task
-- every store call would freeze the loop (the editor, every other agent of a
-- server) for a network round trip, and it is packaged for Lua <= 5.3 only.
-- RESP is a few dozen lines; on the loop's TCP a call inside a task yields
-- while Redis answers.  Outside any task (a plain script) the call runs the
-- luv loop until the answer is in (Neovim: vim.wait), so it blocks like any
-- blocking call.  luv (lua-luv) or Neovim is needed; the host-loop mode has
-- no luv loop to run a task's I/O and works outside tasks only.
--
-- Data layout, as the Python SDK's example Redis store (":" separated):
--   <prefix><project_key>:<session_id>             list  the main transcript, one JSON per element
--   <prefix><project_key>:<session_id>:<subpath>   list  a subagent's transcript
--   <prefix><project_key>:<session_id>:__subkeys   set   the subpaths of the session
--   <prefix><project_key>:__sessions               zset  session_id -> mtime (ms)
-- An append is one MULTI/EXEC (RPUSH + the index), so it lands whole or not
-- at all.  One connection per store, made on first use and again after any
-- error (a restarted server is picked up by the next call); commands are
-- pipelined and answered in order, so several tasks may share a store.
-- Each call has a timeout (default 5 s); an error or a timeout raises a
-- ClaudeSDKError with code "EREDIS" (a server error reply), "ECONN" or
-- "ETIMEDOUT".
--
--   local store = claude.RedisSessionStore({ host = "127.0.0.1", port = 6379, prefix = "claude" })

local json = require("claude_agent_sdk.json")
local errors = require("claude_agent_sdk.errors")
local check = require("claude_agent_sdk.check")
local async = require("claude_agent_sdk.async")
local loop = require("claude_agent_sdk.loop")
local core = require("claude_agent_sdk.core")
local session_store = require("claude_agent_sdk.session_store")

local M = {}

---@class RedisSessionStore: SessionStore
---@field host string
---@field port integer
---@field prefix string
---@field timeout number  seconds per call
local Store = {}
Store.__index = Store
Store.__name = "RedisSessionStore"

local SUBKEYS, SESSIONS = "__subkeys", "__sessions"

---------------------------------------------------------------------------
-- RESP

--- One command as RESP: an array of bulk strings.
---@param argv string[]
---@return string
function M.encode(argv)
  local out = { "*" .. #argv .. "\r\n" }
  for _, a in ipairs(argv) do
    a = tostring(a)
    out[#out + 1] = "$" .. #a .. "\r\n" .. a .. "\r\n"
  end
  return table.concat(out)
end

local ERR = {} -- marks a server error reply: { [ERR] = true, message = ... }

--- Parse one reply from buf at pos: value, next position; or nil when the
--- reply is not complete yet.  A server error is { [ERR] = true, message }.
---@param buf string
---@param pos integer
---@return any value, integer|nil next
function M.parse(buf, pos)
  local nl = buf:find("\r\n", pos, true)
  if not nl then
    return nil, nil
  end
  local kind, line = buf:sub(pos, pos), buf:sub(pos + 1, nl - 1)
  local after = nl + 2
  if kind == "+" then
    return line, after
  elseif kind == "-" then
    return { [ERR] = true, message = line }, after
  elseif kind == ":" then
    return tonumber(line), after
  elseif kind == "$" then
    local n = tonumber(line)
    if n < 0 then
      return json.null, after
    end
    if #buf < after + n + 1 then
      return nil, nil
    end
    return buf:sub(after, after + n - 1), after + n + 2
  elseif kind == "*" then
    local n = tonumber(line)
    if n < 0 then
      return json.null, after
    end
    local list = {}
    for i = 1, n do
      local v
      v, after = M.parse(buf, after)
      if after == nil then
        return nil, nil
      end
      list[i] = v
    end
    return list, after
  end
  error({ protocol = "unexpected RESP type byte " .. string.format("%q", kind) })
end

---------------------------------------------------------------------------
-- The connection

local function uv_of()
  local backend = loop.current()
  if backend.uv then
    return backend.uv, backend
  end
  local ok, uv = pcall(require, "luv")
  if ok then
    return uv, nil
  end
  errors.raise("ClaudeSDKError", "RedisSessionStore needs luv (Debian: lua-luv) or Neovim's vim.uv", {
    code = "ENOLUV",
  })
end

local function fail_all(conn, err)
  if conn.dead then
    return
  end
  conn.dead = err
  local waiting = conn.waiting
  conn.waiting = {}
  loop.close_handle(conn.uv, conn.tcp)
  for _, req in ipairs(waiting) do
    req.err = req.err or err
    req.finish()
  end
end

-- Bytes arrived: hand complete replies to the requests, oldest first.
local function on_bytes(conn, data)
  conn.buf = conn.buf .. data
  local pos = 1
  while true do
    local req = conn.waiting[1]
    if not req then
      break
    end
    local ok, v, nxt = pcall(M.parse, conn.buf, pos)
    if not ok then
      fail_all(conn, { code = "EREDIS", message = "bad reply from Redis: " .. tostring(v and v.protocol or v) })
      return
    end
    if nxt == nil then
      break
    end
    pos = nxt
    req.replies[#req.replies + 1] = v
    if #req.replies == req.n then
      table.remove(conn.waiting, 1)
      req.finish()
    end
  end
  conn.buf = conn.buf:sub(pos)
end

local function connect(self)
  local uv = uv_of()
  local conn = { uv = uv, buf = "", waiting = {}, ready = false, queued = {} }
  conn.tcp = loop.own_handle(uv, uv.new_tcp())
  local host = self.host
  if not host:match("^[%d%.]+$") and not host:find(":", 1, true) then
    -- a name: resolved once here (getaddrinfo; blocks briefly)
    local res = uv.getaddrinfo(host, nil, { socktype = "stream" })
    host = res and res[1] and res[1].addr or host
  end
  local ok, err = pcall(conn.tcp.connect, conn.tcp, host, self.port, function(cerr)
    if cerr then
      fail_all(
        conn,
        { code = "ECONN", message = ("cannot connect to Redis at %s:%d: %s"):format(self.host, self.port, cerr) }
      )
      return
    end
    conn.ready = true
    conn.tcp:read_start(function(rerr, data)
      if rerr then
        fail_all(conn, { code = "ECONN", message = "Redis connection failed: " .. tostring(rerr) })
      elseif data == nil then
        fail_all(conn, { code = "ECONN", message = "Redis closed the connection" })
      else
        on_bytes(conn, data)
      end
    end)
    for _, payload in ipairs(conn.queued) do
      conn.tcp:write(payload)
    end
    conn.queued = nil
  end)
  if not ok then
    loop.close_handle(uv, conn.tcp)
    errors.raise(
      "ClaudeSDKError",
      ("cannot connect to Redis at %s:%d: %s"):format(self.host, self.port, tostring(err)),
      {
        code = "ECONN",
      }
    )
  end
  return conn
end

-- Send commands (a list of argv) and wait for their replies, in order.
-- Yields inside a task; runs the loop until done otherwise.
local function run(self, cmds)
  if async.current() and not loop.current().uv then
    -- the host loop runs tasks from pump(), but nobody would run luv's loop
    -- to deliver the reply: the task would wait for ever
    errors.raise(
      "ClaudeSDKError",
      "RedisSessionStore: inside a task it needs the luv or Neovim loop (the host loop cannot run its I/O); "
        .. "call it outside a task there",
      { code = "ENOLUV" }
    )
  end
  local conn = self._conn
  if not conn or conn.dead then
    conn = connect(self)
    self._conn = conn
  end
  local parts = {}
  for i, argv in ipairs(cmds) do
    parts[i] = M.encode(argv)
  end
  local payload = table.concat(parts)
  local req = { n = #cmds, replies = {}, done = false }
  local uv = conn.uv
  local timer = loop.own_handle(uv, uv.new_timer())
  local wake
  function req.finish()
    if req.done then
      return
    end
    req.done = true
    loop.close_handle(uv, timer)
    if wake then
      wake()
    end
  end
  conn.waiting[#conn.waiting + 1] = req
  timer:start(math.floor(self.timeout * 1000), 0, function()
    req.err = { code = "ETIMEDOUT", message = ("Redis did not answer within %g s"):format(self.timeout) }
    -- the connection's state is unknown now: start afresh next time
    fail_all(conn, req.err)
  end)
  if conn.ready then
    conn.tcp:write(payload)
  else
    conn.queued[#conn.queued + 1] = payload
  end
  if not req.done then
    if async.current() then
      async.suspend(function(w)
        if req.done then
          w()
        else
          wake = w
        end
      end, function()
        fail_all(conn, { code = "ECANCELED", message = "cancelled" })
      end)
    else
      local _, backend = uv_of()
      if backend then
        backend.run_until(function()
          return req.done
        end)
      else
        while not req.done do
          uv.run("once")
        end
      end
    end
  end
  if req.err then
    errors.raise("ClaudeSDKError", "RedisSessionStore: " .. req.err.message, { code = req.err.code })
  end
  for _, v in ipairs(req.replies) do
    if type(v) == "table" and v[ERR] then
      errors.raise("ClaudeSDKError", "RedisSessionStore: Redis error: " .. v.message, { code = "EREDIS" })
    end
    if type(v) == "table" then -- an EXEC's replies
      for _, x in ipairs(v) do
        if type(x) == "table" and x[ERR] then
          errors.raise("ClaudeSDKError", "RedisSessionStore: Redis error: " .. x.message, { code = "EREDIS" })
        end
      end
    end
  end
  return req.replies
end

---------------------------------------------------------------------------
-- The store

--- A store on a Redis server.
---   local store = claude.RedisSessionStore({ port = 6379, prefix = "agents" })
---@param opts {host: string|nil, port: integer|nil, prefix: string|nil, timeout: number|nil}|nil
---@return RedisSessionStore
function M.new(opts)
  check.opts("RedisSessionStore", "opts", opts, { host = true, port = true, prefix = true, timeout = true })
  opts = opts or {}
  check.string("RedisSessionStore", "opts.host", opts.host, { optional = true, nonempty = true, path = true })
  check.number("RedisSessionStore", "opts.port", opts.port, { optional = true, integer = true, min = 1, max = 65535 })
  check.string("RedisSessionStore", "opts.prefix", opts.prefix, { optional = true, path = true })
  check.number("RedisSessionStore", "opts.timeout", opts.timeout, { optional = true, min = 0.001 })
  local prefix = opts.prefix or ""
  if prefix ~= "" then
    prefix = prefix:gsub(":+$", "") .. ":"
  end
  return setmetatable({
    host = opts.host or "127.0.0.1",
    port = opts.port or 6379,
    prefix = prefix,
    timeout = opts.timeout or 5,
  }, Store)
end

local function entry_key(self, key)
  local k = self.prefix .. key.project_key .. ":" .. key.session_id
  if key.subpath then
    k = k .. ":" .. key.subpath
  end
  return k
end

local function subkeys_key(self, key)
  return self.prefix .. key.project_key .. ":" .. key.session_id .. ":" .. SUBKEYS
end

local function sessions_key(self, project_key)
  return self.prefix .. project_key .. ":" .. SESSIONS
end

function Store:append(key, entries)
  session_store.check_key("RedisSessionStore:append", key)
  check.type("RedisSessionStore:append", "entries", entries, "table")
  if #entries == 0 then
    return
  end
  local push = { "RPUSH", entry_key(self, key) }
  for _, e in ipairs(entries) do
    push[#push + 1] = json.encode(e)
  end
  local index
  if key.subpath then
    index = { "SADD", subkeys_key(self, key), key.subpath }
  else
    index = { "ZADD", sessions_key(self, key.project_key), ("%d"):format(math.floor(core.time_ms())), key.session_id }
  end
  run(self, { { "MULTI" }, push, index, { "EXEC" } })
end

function Store:load(key)
  session_store.check_key("RedisSessionStore:load", key)
  local list = run(self, { { "LRANGE", entry_key(self, key), "0", "-1" } })[1]
  if type(list) ~= "table" or #list == 0 then
    return nil
  end
  local out = {}
  for _, s in ipairs(list) do
    local ok, e = pcall(json.decode, s)
    if ok and e ~= nil then
      out[#out + 1] = e
    end
  end
  return #out > 0 and out or nil
end

function Store:list_sessions(project_key)
  check.string("RedisSessionStore:list_sessions", "project_key", project_key)
  local r = run(self, { { "ZRANGE", sessions_key(self, project_key), "0", "-1", "WITHSCORES" } })[1]
  local out = {}
  if type(r) == "table" then
    for i = 1, #r - 1, 2 do
      out[#out + 1] = { session_id = r[i], mtime = math.floor(tonumber(r[i + 1]) or 0) }
    end
  end
  return out
end

function Store:delete(key)
  session_store.check_key("RedisSessionStore:delete", key)
  if key.subpath then
    run(
      self,
      { { "MULTI" }, { "DEL", entry_key(self, key) }, { "SREM", subkeys_key(self, key), key.subpath }, { "EXEC" } }
    )
    return
  end
  local members = run(self, { { "SMEMBERS", subkeys_key(self, key) } })[1]
  local del = { "DEL", entry_key(self, key), subkeys_key(self, key) }
  for _, sp in ipairs(type(members) == "table" and members or {}) do
    del[#del + 1] = entry_key(self, { project_key = key.project_key, session_id = key.session_id, subpath = sp })
  end
  run(self, { { "MULTI" }, del, { "ZREM", sessions_key(self, key.project_key), key.session_id }, { "EXEC" } })
end

function Store:list_subkeys(key)
  session_store.check_key("RedisSessionStore:list_subkeys", key, false)
  local members = run(self, { { "SMEMBERS", subkeys_key(self, key) } })[1]
  local out = {}
  for _, sp in ipairs(type(members) == "table" and members or {}) do
    out[#out + 1] = sp
  end
  table.sort(out)
  return out
end

--- Send any command (e.g. { "FLUSHDB" } in a test) and return its reply.
---@param argv string[]
---@return any
function Store:command(argv)
  check.type("RedisSessionStore:command", "argv", argv, "table")
  return run(self, { argv })[1]
end

--- Close the connection (the next call opens a new one).
function Store:close()
  local conn = self._conn
  self._conn = nil
  if conn then
    fail_all(conn, { code = "ECONN", message = "the store was closed" })
  end
end

function Store:__tostring()
  return ("RedisSessionStore(%s:%d)"):format(self.host, self.port)
end

M.Store = Store

return M
