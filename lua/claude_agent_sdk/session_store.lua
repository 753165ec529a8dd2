--- The SessionStore protocol: the Python SDK's `SessionStore` with Lua names.
--
-- A session store keeps a second copy of the CLI's transcripts (one JSON
-- object per transcript line, "entries") somewhere else: a directory, Redis,
-- a database.  The CLI still writes its own transcript locally; with
-- `options.session_store` set the client mirrors every line the CLI writes
-- into the store (mirror.lua), and `resume` / `continue_conversation` read a
-- session back from the store (session_resume.lua), so a session can resume
-- on another host.
--
-- A store is any table (or object with methods) with:
--   store:append(key, entries)        required; persist entries after what was there, in call order
--   store:load(key) -> entries|nil    required; nil for a key never written
--   store:list_sessions(project_key) -> { { session_id =, mtime = ms }, ... }   optional
--   store:delete(key)                 optional; a main key (no subpath) removes its subkeys too
--   store:list_subkeys({ project_key =, session_id = }) -> { subpath, ... }     optional
-- Methods raise (error()) to report a failure.  They are called from the
-- caller's context: inside a task (claude.run / claude.spawn, Neovim) they
-- may yield (network I/O on the loop); in a plain script they may block.
--
-- A key is `{ project_key = string, session_id = string, subpath = string|nil }`:
-- project_key is the sanitized cwd (project_key_for_directory) by default,
-- subpath names a subagent transcript ("subagents/agent-<id>").
--
--   local store = claude.InMemorySessionStore()
--   store:append({ project_key = "p", session_id = id }, { { type = "user", uuid = "u1" } })

local errors = require("claude_agent_sdk.errors")
local check = require("claude_agent_sdk.check")
local core = require("claude_agent_sdk.core")
local sessions = require("claude_agent_sdk.sessions")

local M = {}

M.REQUIRED = { "append", "load" }
M.OPTIONAL = { "list_sessions", "delete", "list_subkeys", "list_session_summaries" }
M.FLUSH_MODES = { batched = true, eager = true }

---@class SessionKey
---@field project_key string  the sanitized cwd by default (project_key_for_directory)
---@field session_id string
---@field subpath string|nil  nil for the main transcript; "subagents/agent-<id>" for a subagent's

---@class SessionStoreListEntry
---@field session_id string
---@field mtime number  last write, Unix epoch milliseconds

---@class SessionStore
---@field append fun(self: SessionStore, key: SessionKey, entries: table[])
---@field load fun(self: SessionStore, key: SessionKey): table[]|nil
---@field list_sessions (fun(self: SessionStore, project_key: string): SessionStoreListEntry[])|nil
---@field delete (fun(self: SessionStore, key: SessionKey))|nil
---@field list_subkeys (fun(self: SessionStore, key: SessionKey): string[])|nil

-- A method of an object: a plain field, or one reached through __index.
local function method_of(store, name)
  local ok, m = pcall(function()
    return store[name]
  end)
  if ok then
    return m
  end
  return nil
end

local function callable(v)
  if type(v) == "function" then
    return true
  end
  local mt = getmetatable(v)
  return type(mt) == "table" and mt.__call ~= nil
end

--- True when the store has the (optional) method.
---@param store SessionStore
---@param name string
---@return boolean
function M.implements(store, name)
  return callable(method_of(store, name))
end

--- Check a store object: InvalidOptionError naming the first required method
--- it lacks, or an optional one that is set but not callable.
---@param fname string  who asks (for the message)
---@param arg string  the argument's name
---@param store any
function M.validate(fname, arg, store)
  local t = type(store)
  if t ~= "table" and t ~= "userdata" then
    check.fail(fname, arg, "a session store (an object with append and load methods)", store)
  end
  for _, name in ipairs(M.REQUIRED) do
    if not M.implements(store, name) then
      errors.raise(
        "InvalidOptionError",
        ("%s: %s is not a session store: it has no %s method (a store needs append and load)"):format(fname, arg, name),
        { option = arg, key = arg, method = name }
      )
    end
  end
  for _, name in ipairs(M.OPTIONAL) do
    local m = method_of(store, name)
    if m ~= nil and not callable(m) then
      errors.raise(
        "InvalidOptionError",
        ("%s: %s.%s must be a method (a function), got %s"):format(fname, arg, name, check.describe(m)),
        { option = arg, key = arg, method = name }
      )
    end
  end
end

-- A subpath must stay inside its session's directory when a resume writes it
-- to disk: relative, "/"-separated, no "." or ".." segment, no NUL.
local function plain_subpath(s)
  if s == "" or s:sub(1, 1) == "/" or s:find("\\", 1, true) or s:find("\0", 1, true) then
    return false
  end
  for seg in (s .. "/"):gmatch("([^/]*)/") do
    if seg == "" or seg == "." or seg == ".." then
      return false
    end
  end
  return true
end
M.plain_subpath = plain_subpath

-- A name that is one path segment: a store may use it in a file name or a
-- key, so never "", ".", "..", "/" or "\\" in it, or a NUL.
local function plain_name(fname, arg, v)
  check.string(fname, arg, v, { text = true })
  if v == "" or v:find("[/\\]") or v == "." or v == ".." then
    check.fail(fname, arg, "a plain name (not empty, '.' or '..', no '/' or '\\')", v)
  end
end
M.plain_name = plain_name

--- Check a key: project_key and session_id plain names (no "/", not ".."),
--- subpath nil or a plain relative path.  InvalidOptionError otherwise.
--- (Resume and the readers further require a session UUID: sessions.lua.)
---@param fname string
---@param key any
---@param allow_subpath boolean|nil  false for list_subkeys' key
function M.check_key(fname, key, allow_subpath)
  check.type(fname, "key", key, "table")
  plain_name(fname, "key.project_key", key.project_key)
  plain_name(fname, "key.session_id", key.session_id)
  if key.subpath ~= nil then
    if allow_subpath == false then
      check.fail(fname, "key.subpath", "nil (this call takes a session's key)", key.subpath)
    end
    check.string(fname, "key.subpath", key.subpath)
    if not plain_subpath(key.subpath) then
      check.fail(fname, "key.subpath", "a relative path without '.' or '..' segments", key.subpath)
    end
  end
end

--- "project/session[/subpath]": a key as one string (the in-memory and Redis stores).
---@param key SessionKey
---@return string
function M.key_string(key)
  if key.subpath and key.subpath ~= "" then
    return key.project_key .. "/" .. key.session_id .. "/" .. key.subpath
  end
  return key.project_key .. "/" .. key.session_id
end

--- The key of a transcript file the CLI wrote under projects_dir, or nil:
---   <projects>/<project_key>/<session_id>.jsonl                  the main transcript
---   <projects>/<project_key>/<session_id>/subagents/.../x.jsonl  subpath "subagents/.../x"
---@param file_path string
---@param projects_dir string
---@return SessionKey|nil
function M.file_path_to_key(file_path, projects_dir)
  local prefix = projects_dir:gsub("/+$", "") .. "/"
  if type(file_path) ~= "string" or file_path:sub(1, #prefix) ~= prefix then
    return nil
  end
  local parts = {}
  for seg in file_path:sub(#prefix + 1):gmatch("[^/]+") do
    if seg == ".." or seg == "." then
      return nil
    end
    parts[#parts + 1] = seg
  end
  if #parts == 2 and parts[2]:sub(-6) == ".jsonl" then
    return { project_key = parts[1], session_id = parts[2]:sub(1, -7) }
  end
  if #parts >= 4 then
    local sub = {}
    for i = 3, #parts do
      sub[#sub + 1] = parts[i]
    end
    sub[#sub] = sub[#sub]:gsub("%.jsonl$", "")
    return { project_key = parts[1], session_id = parts[2], subpath = table.concat(sub, "/") }
  end
  return nil
end

--- The project_key of a directory (the CLI's project directory name).
M.project_key_for_directory = sessions.project_key_for_directory

---------------------------------------------------------------------------
-- InMemorySessionStore: the Python SDK's reference store, for tests and
-- development (the data goes with the process).

---@class InMemorySessionStore: SessionStore
local Memory = {}
Memory.__index = Memory
Memory.__name = "InMemorySessionStore"

-- Strictly increasing wall-clock milliseconds, so back-to-back appends have
-- distinct mtimes (as a real backend's commit order gives them).
local function next_mtime(self)
  local now = math.floor(core.time_ms())
  if now <= self._last_mtime then
    now = self._last_mtime + 1
  end
  self._last_mtime = now
  return now
end
M.next_mtime = next_mtime

--- A store in a Lua table.
---   local store = claude.InMemorySessionStore()
---@return InMemorySessionStore
function M.InMemorySessionStore()
  return setmetatable({ _data = {}, _mtimes = {}, _order = {}, _last_mtime = 0 }, Memory)
end

function Memory:append(key, entries)
  M.check_key("InMemorySessionStore:append", key)
  check.type("InMemorySessionStore:append", "entries", entries, "table")
  local k = M.key_string(key)
  local list = self._data[k]
  if not list then
    list = {}
    self._data[k] = list
    self._order[#self._order + 1] = k
  end
  for _, e in ipairs(entries) do
    list[#list + 1] = e
  end
  self._mtimes[k] = next_mtime(self)
end

function Memory:load(key)
  M.check_key("InMemorySessionStore:load", key)
  local list = self._data[M.key_string(key)]
  if not list then
    return nil
  end
  local out = {}
  for i, e in ipairs(list) do
    out[i] = e
  end
  return out
end

function Memory:list_sessions(project_key)
  check.string("InMemorySessionStore:list_sessions", "project_key", project_key)
  local out, prefix = {}, project_key .. "/"
  for _, k in ipairs(self._order) do
    if self._data[k] and k:sub(1, #prefix) == prefix then
      local rest = k:sub(#prefix + 1)
      if not rest:find("/", 1, true) then
        out[#out + 1] = { session_id = rest, mtime = self._mtimes[k] or 0 }
      end
    end
  end
  return out
end

function Memory:delete(key)
  M.check_key("InMemorySessionStore:delete", key)
  local k = M.key_string(key)
  self._data[k], self._mtimes[k] = nil, nil
  if key.subpath == nil then
    local prefix = k .. "/"
    for sk in pairs(self._data) do
      if sk:sub(1, #prefix) == prefix then
        self._data[sk], self._mtimes[sk] = nil, nil
      end
    end
  end
end

function Memory:list_subkeys(key)
  M.check_key("InMemorySessionStore:list_subkeys", key, false)
  local out, prefix = {}, M.key_string(key) .. "/"
  for _, k in ipairs(self._order) do
    if self._data[k] and k:sub(1, #prefix) == prefix then
      out[#out + 1] = k:sub(#prefix + 1)
    end
  end
  return out
end

function Memory:__tostring()
  return "InMemorySessionStore"
end

M.InMemory = Memory

return M
