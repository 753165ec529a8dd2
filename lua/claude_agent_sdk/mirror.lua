--- The transcript mirror: `transcript_mirror` frames from the CLI into a
--- session store (the Python SDK's TranscriptMirrorBatcher).
--
-- With `--session-mirror` the CLI writes, after each local transcript write,
-- a frame `{"type":"transcript_mirror","filePath":"<config>/projects/<p>/<id>.jsonl",
-- "entries":[...]}` on stdout.  The client peels these off the message stream
-- (users never see them) and hands them to `enqueue`; `flush` appends what is
-- pending to the store, one `store:append(key, entries)` per transcript file,
-- in the order the frames came.  The client flushes when it hands out a
-- `result` ("batched", the default), after every frame ("eager"), when more
-- than MAX_PENDING_ENTRIES / MAX_PENDING_BYTES are pending, and at the end
-- of the session.
--
-- Failures never end the session: the CLI's own transcript is already
-- complete.  An append that raises is tried MAX_ATTEMPTS times with a short
-- backoff; if it still fails, a MirrorErrorMessage (a system message,
-- subtype "mirror_error", with `key`, `error`, `pending`) is returned for the
-- client to put in the stream, and — unlike the Python SDK, which drops the
-- batch — the entries stay pending, in order, and the next flush tries them
-- again first: when the store is back the mirror catches up by itself.  The
-- backlog is bounded (MAX_BACKLOG_ENTRIES entries or MAX_BACKLOG_BYTES of
-- JSON per client): past that the oldest frames are dropped and the error
-- says how many entries (`dropped`); `claude.import_session_to_store`
-- re-copies a session from the local transcript to close such a gap.
--
-- Store calls run in the caller's context (the receiving task, or the plain
-- script, which then blocks): a store may yield inside a task, where an
-- append gets APPEND_TIMEOUT_MS (60 s, as in Python) before it is cancelled
-- and reported; a timed-out append is not retried (it may still land), its
-- entries stay pending like those of any failed one.

local json = require("claude_agent_sdk.json")
local async = require("claude_agent_sdk.async")
local loop = require("claude_agent_sdk.loop")
local messages = require("claude_agent_sdk.messages")
local session_store = require("claude_agent_sdk.session_store")
local sessions = require("claude_agent_sdk.sessions")

local M = {}

M.MAX_PENDING_ENTRIES = 500
M.MAX_PENDING_BYTES = 1024 * 1024
M.MAX_ATTEMPTS = 3
M.BACKOFF_MS = { 200, 800 }
M.MAX_BACKLOG_ENTRIES = 100000
M.MAX_BACKLOG_BYTES = 64 * 1024 * 1024
M.APPEND_TIMEOUT_MS = 60000 -- the Python SDK's send timeout

---@class ClaudeMirror
---@field store SessionStore
---@field projects_dir string
---@field eager boolean
---@field package queue table[]  frames pending, oldest first: { path, entries, bytes }
---@field package entries integer
---@field package bytes integer
---@field package flushing boolean
---@field package dropped integer  entries dropped from the backlog, not reported yet
local Mirror = {}
Mirror.__index = Mirror

--- A mirror into store for a CLI whose projects directory is projects_dir.
---@param store SessionStore
---@param projects_dir string
---@param flush_mode "batched"|"eager"|nil
---@return ClaudeMirror
function M.new(store, projects_dir, flush_mode)
  return setmetatable({
    store = store,
    projects_dir = projects_dir,
    eager = flush_mode == "eager",
    queue = {},
    entries = 0,
    bytes = 0,
    flushing = false,
    dropped = 0,
  }, Mirror)
end

--- Take one transcript_mirror frame; true when a flush is due now (eager
--- mode, or too much pending).
---@param frame table
---@return boolean
function Mirror:enqueue(frame)
  local path, entries = frame.filePath, frame.entries
  if type(path) ~= "string" or type(entries) ~= "table" or #entries == 0 then
    return false
  end
  local list = {}
  for i, e in ipairs(entries) do
    list[i] = e
  end
  local ok, text = pcall(json.encode, list)
  local size = ok and #text or 0
  self.queue[#self.queue + 1] = { path, list, size }
  self.entries = self.entries + #list
  self.bytes = self.bytes + size
  return self.eager or self.entries > M.MAX_PENDING_ENTRIES or self.bytes > M.MAX_PENDING_BYTES
end

--- Entries waiting for the store (new, or kept after a failed append).
---@return integer
function Mirror:pending()
  return self.entries
end

-- Drop the oldest frames while the backlog is over its bounds.
function Mirror:_bound()
  while #self.queue > 0 and (self.entries > M.MAX_BACKLOG_ENTRIES or self.bytes > M.MAX_BACKLOG_BYTES) do
    local f = table.remove(self.queue, 1)
    self.entries = self.entries - #f[2]
    self.bytes = self.bytes - f[3]
    self.dropped = self.dropped + #f[2]
  end
end

-- One call of store:append.  Inside a task it runs as a task of its own and
-- is given APPEND_TIMEOUT_MS: one that is still waiting then is cancelled
-- (its store sees a CancelledError where it waits) and reported as timed
-- out, so a store that hangs cannot hold up the conversation.  Returns ok,
-- err, timed_out.  (In a plain script a store call that blocks cannot be
-- cut short.)
function Mirror:_call_append(key, entries)
  local store = self.store
  if not async.current() or not M.APPEND_TIMEOUT_MS then
    return pcall(store.append, store, key, entries)
  end
  local res, wake
  local task = async.spawn(function()
    local r = { pcall(store.append, store, key, entries) }
    res = r
    if wake then
      wake()
    end
  end)
  if not res then
    local timer = loop.current().timer()
    async.suspend(function(w)
      wake = w
      timer:start(M.APPEND_TIMEOUT_MS, w)
    end, function()
      timer:close()
      task:cancel()
    end)
    timer:close()
  end
  if res then
    return res[1], res[2], false
  end
  task:cancel()
  return false, ("SessionStore:append() timed out after %g s"):format(M.APPEND_TIMEOUT_MS / 1000), true
end

-- One append, tried MAX_ATTEMPTS times (a timeout is not retried: the call
-- may still land); nil on success, else the last error.
function Mirror:_append(key, entries)
  local last
  for attempt = 1, M.MAX_ATTEMPTS do
    if attempt > 1 then
      async.sleep(M.BACKOFF_MS[attempt - 1] or 1000)
    end
    local ok, err, timed_out = self:_call_append(key, entries)
    if ok then
      return nil
    end
    last = err
    if timed_out then
      break
    end
  end
  return last == nil and "append failed" or last
end

local function error_message(key, err, pending, dropped)
  local text = type(err) == "table" and err.message or tostring(err)
  local frame = {
    type = "system",
    subtype = "mirror_error",
    error = text,
    key = key,
    pending = pending,
    dropped = dropped > 0 and dropped or nil,
    uuid = sessions.uuid4(),
    session_id = key and key.session_id or "",
  }
  return messages.parse(frame)
end

--- Append everything pending, per transcript file in the order first seen.
--- Returns the MirrorErrorMessages to put in the stream (an empty list when
--- all went well).  Never raises for the store.  A flush already running
--- (another task) is not joined: what it does not take waits for the next.
---@return table[]
function Mirror:flush()
  local out = {}
  if self.flushing or #self.queue == 0 then
    return out
  end
  self.flushing = true
  local queue = self.queue
  self.queue, self.entries, self.bytes = {}, 0, 0
  -- coalesce by file, keeping the order of first appearance
  local order, by_path = {}, {}
  for _, f in ipairs(queue) do
    local g = by_path[f[1]]
    if not g then
      g = { path = f[1], frames = {} }
      by_path[f[1]] = g
      order[#order + 1] = g
    end
    g.frames[#g.frames + 1] = f
  end
  local kept = {}
  for _, g in ipairs(order) do
    local key = session_store.file_path_to_key(g.path, self.projects_dir)
    if key then -- a file outside the projects directory cannot be keyed: dropped, as in Python
      local entries = {}
      for _, f in ipairs(g.frames) do
        for _, e in ipairs(f[2]) do
          entries[#entries + 1] = e
        end
      end
      local err = self:_append(key, entries)
      if err ~= nil then
        for _, f in ipairs(g.frames) do
          kept[#kept + 1] = f
        end
        out[#out + 1] = { key, err, #entries }
      end
    end
  end
  -- what failed goes back in front of what arrived meanwhile, in order
  if #kept > 0 then
    for _, f in ipairs(self.queue) do
      kept[#kept + 1] = f
    end
    local entries, bytes = 0, 0
    for _, f in ipairs(kept) do
      entries, bytes = entries + #f[2], bytes + f[3]
    end
    self.queue, self.entries, self.bytes = kept, entries, bytes
    self:_bound()
  end
  self.flushing = false
  local msgs = {}
  for i, e in ipairs(out) do
    local dropped = i == 1 and self.dropped or 0
    msgs[i] = error_message(e[1], e[2], e[3], dropped)
  end
  if #out > 0 then
    self.dropped = 0
  end
  return msgs
end

return M
