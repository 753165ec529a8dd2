--- Sessions read from a session store, and a local session copied into one:
--- the Python SDK's `*_from_store` readers and `import_session_to_store`.
--
-- A reader loads the session from the store, writes it into a temporary
-- config directory laid out like ~/.claude (session_resume.write_session:
-- the same files a resume gets), and reads it there with sessions.lua, so a
-- stored session and a local one give the same answers; the directory is
-- removed before the call returns.  `last_modified` is the store's mtime
-- (list_sessions) or the last entry's timestamp (get_session_info).
--
-- Store calls run in the caller's context: inside a task they may yield.
--
--   for _, s in ipairs(claude.list_sessions_from_store(store, { directory = cwd })) do print(s.summary) end
--   claude.import_session_to_store(id, store, { directory = cwd })

local json = require("claude_agent_sdk.json")
local errors = require("claude_agent_sdk.errors")
local check = require("claude_agent_sdk.check")
local sessions = require("claude_agent_sdk.sessions")
local session_store = require("claude_agent_sdk.session_store")
local session_resume = require("claude_agent_sdk.session_resume")

local M = {}

local call = session_resume.call

local function check_opts(fname, opts, known)
  check.opts(fname, "opts", opts, known)
  opts = opts or {}
  check.string(fname, "opts.directory", opts.directory, { optional = true, path = true })
  if known.limit then
    check.number(fname, "opts.limit", opts.limit, { optional = true, integer = true, min = 0 })
    check.number(fname, "opts.offset", opts.offset, { optional = true, integer = true, min = 0 })
  end
  return opts
end

local function check_store(fname, store)
  session_store.validate(fname, "store", store)
end

-- Run fn(tmp) with a temporary config directory, removed afterwards.
local function with_tmp(fn)
  local tmp = session_resume.tmpdir("claude-store-read-")
  local res = { pcall(fn, tmp) }
  sessions.remove_tree(tmp)
  if not res[1] then
    error(res[2], 0)
  end
  return res[2]
end

local function page(list, limit, offset)
  local out = {}
  local first = (offset or 0) + 1
  local last = limit and limit > 0 and (first + limit - 1) or #list
  for i = first, math.min(last, #list) do
    out[#out + 1] = list[i]
  end
  return out
end

local LIST_OPTS = { directory = true, limit = true, offset = true }
local LOOKUP_OPTS = { directory = true }

--- The sessions of a project in the store, newest first (needs the store's
--- list_sessions).
---   local list = claude.list_sessions_from_store(store, { directory = cwd, limit = 10 })
---@param store SessionStore
---@param opts {directory: string|nil, limit: integer|nil, offset: integer|nil}|nil
---@return SDKSessionInfo[]
function M.list_sessions_from_store(store, opts)
  local fname = "list_sessions_from_store"
  check_store(fname, store)
  opts = check_opts(fname, opts, LIST_OPTS)
  if not session_store.implements(store, "list_sessions") then
    errors.raise(
      "InvalidOptionError",
      fname .. ": the store has no list_sessions method",
      { option = "store", method = "list_sessions" }
    )
  end
  local project_key = sessions.project_key_for_directory(opts.directory)
  local listed = call(store, "list_sessions", "for project " .. project_key, project_key) or {}
  local mtimes = {}
  local out = with_tmp(function(tmp)
    for _, s in ipairs(listed) do
      if type(s) == "table" and sessions.is_uuid(s.session_id) then
        local entries = call(store, "load", "for session " .. s.session_id, {
          project_key = project_key,
          session_id = s.session_id,
        })
        if type(entries) == "table" and #entries > 0 then
          mtimes[s.session_id] = tonumber(s.mtime)
          session_resume.mkdir_p(tmp .. "/projects/" .. project_key)
          local f = assert(io.open(tmp .. "/projects/" .. project_key .. "/" .. s.session_id .. ".jsonl", "wb"))
          for _, e in ipairs(entries) do
            f:write(session_resume.entry_line(e), "\n")
          end
          f:close()
        end
      end
    end
    return sessions.list_sessions({ config_dir = tmp })
  end)
  for _, info in ipairs(out) do
    info.last_modified = mtimes[info.session_id] or info.last_modified
    info.cwd = info.cwd or opts.directory
  end
  table.sort(out, function(a, b)
    return (a.last_modified or 0) > (b.last_modified or 0)
  end)
  return page(out, opts.limit, opts.offset)
end

-- Load a session (and its subkeys) into tmp; false when the store has none.
local function load_into(tmp, store, project_key, session_id)
  local entries = call(store, "load", "for session " .. session_id, {
    project_key = project_key,
    session_id = session_id,
  })
  if type(entries) ~= "table" or #entries == 0 then
    return false, nil
  end
  session_resume.write_session(tmp, store, project_key, session_id, entries)
  return true, entries
end

--- One session's metadata from the store, or nil (not found, a sidechain,
--- nothing to show).
---   local info = claude.get_session_info_from_store(store, id, { directory = cwd })
---@param store SessionStore
---@param session_id string
---@param opts {directory: string|nil}|nil
---@return SDKSessionInfo|nil
function M.get_session_info_from_store(store, session_id, opts)
  local fname = "get_session_info_from_store"
  check_store(fname, store)
  sessions.check_session_id(fname, "session_id", session_id)
  opts = check_opts(fname, opts, LOOKUP_OPTS)
  local project_key = sessions.project_key_for_directory(opts.directory)
  return with_tmp(function(tmp)
    local found, entries = load_into(tmp, store, project_key, session_id)
    if not found then
      return nil
    end
    local info = sessions.get_session_info(session_id, { config_dir = tmp })
    if info then
      for i = #entries, 1, -1 do
        local ts = type(entries[i]) == "table" and entries[i].timestamp
        local ms = type(ts) == "string" and sessions.parse_timestamp(ts)
        if ms then
          info.last_modified = ms
          break
        end
      end
      info.cwd = info.cwd or opts.directory
    end
    return info
  end)
end

--- A session's user and assistant messages from the store, oldest first ({} when not found).
---   local msgs = claude.get_session_messages_from_store(store, id, { directory = cwd })
---@param store SessionStore
---@param session_id string
---@param opts {directory: string|nil, limit: integer|nil, offset: integer|nil}|nil
---@return SessionMessage[]
function M.get_session_messages_from_store(store, session_id, opts)
  local fname = "get_session_messages_from_store"
  check_store(fname, store)
  sessions.check_session_id(fname, "session_id", session_id)
  opts = check_opts(fname, opts, LIST_OPTS)
  local project_key = sessions.project_key_for_directory(opts.directory)
  return with_tmp(function(tmp)
    if not load_into(tmp, store, project_key, session_id) then
      return {}
    end
    return sessions.get_session_messages(session_id, { config_dir = tmp, limit = opts.limit, offset = opts.offset })
  end)
end

--- The ids of a session's subagents in the store (needs list_subkeys).
---@param store SessionStore
---@param session_id string
---@param opts {directory: string|nil}|nil
---@return string[]
function M.list_subagents_from_store(store, session_id, opts)
  local fname = "list_subagents_from_store"
  check_store(fname, store)
  sessions.check_session_id(fname, "session_id", session_id)
  opts = check_opts(fname, opts, LOOKUP_OPTS)
  if not session_store.implements(store, "list_subkeys") then
    errors.raise(
      "InvalidOptionError",
      fname .. ": the store has no list_subkeys method",
      { option = "store", method = "list_subkeys" }
    )
  end
  local project_key = sessions.project_key_for_directory(opts.directory)
  local subkeys = call(store, "list_subkeys", "for session " .. session_id, {
    project_key = project_key,
    session_id = session_id,
  }) or {}
  local out, seen = {}, {}
  for _, sp in ipairs(subkeys) do
    local id = type(sp) == "string" and sp:match("^subagents/.-agent%-([%w_%-]+)$")
    if id and not seen[id] then
      seen[id] = true
      out[#out + 1] = id
    end
  end
  table.sort(out)
  return out
end

--- A subagent's messages from the store, oldest first ({} when not found).
---@param store SessionStore
---@param session_id string
---@param agent_id string
---@param opts {directory: string|nil, limit: integer|nil, offset: integer|nil}|nil
---@return SessionMessage[]
function M.get_subagent_messages_from_store(store, session_id, agent_id, opts)
  local fname = "get_subagent_messages_from_store"
  check_store(fname, store)
  sessions.check_session_id(fname, "session_id", session_id)
  check.string(fname, "agent_id", agent_id)
  opts = check_opts(fname, opts, LIST_OPTS)
  local project_key = sessions.project_key_for_directory(opts.directory)
  return with_tmp(function(tmp)
    if not load_into(tmp, store, project_key, session_id) then
      return {}
    end
    return sessions.get_subagent_messages(
      session_id,
      agent_id,
      { config_dir = tmp, limit = opts.limit, offset = opts.offset }
    )
  end)
end

---------------------------------------------------------------------------
-- Import

local IMPORT_OPTS = { directory = true, config_dir = true, include_subagents = true, batch_size = true }

-- Append a JSONL file to the store in batches of at most batch_size entries
-- (or MAX_PENDING_BYTES of text).
local function append_file(store, path, key, batch_size, extra)
  local f = io.open(path, "rb")
  if not f then
    return
  end
  local batch, bytes = {}, 0
  local max_bytes = require("claude_agent_sdk.mirror").MAX_PENDING_BYTES
  for line in f:lines() do
    if line:find("%S") then
      local ok, e = pcall(json.decode, line)
      if ok and type(e) == "table" then
        batch[#batch + 1] = e
        bytes = bytes + #line
        if #batch >= batch_size or bytes >= max_bytes then
          call(store, "append", "importing " .. path, key, batch)
          batch, bytes = {}, 0
        end
      end
    end
  end
  f:close()
  if extra then
    batch[#batch + 1] = extra
  end
  if #batch > 0 then
    call(store, "append", "importing " .. path, key, batch)
  end
end

--- Copy a local session transcript (and its subagents') into a store, keyed
--- as the live mirror keys it; to migrate sessions, or to close a gap a
--- MirrorErrorMessage reported.
---   claude.import_session_to_store(id, store, { directory = cwd })
---@param session_id string
---@param store SessionStore
---@param opts {directory: string|nil, config_dir: string|nil, include_subagents: boolean|nil, batch_size: integer|nil}|nil
function M.import_session_to_store(session_id, store, opts)
  local fname = "import_session_to_store"
  sessions.check_session_id(fname, "session_id", session_id)
  check_store(fname, store)
  check.opts(fname, "opts", opts, IMPORT_OPTS)
  opts = opts or {}
  check.string(fname, "opts.directory", opts.directory, { optional = true, path = true })
  check.string(fname, "opts.config_dir", opts.config_dir, { optional = true, path = true })
  check.type(fname, "opts.include_subagents", opts.include_subagents, "boolean", true)
  check.number(fname, "opts.batch_size", opts.batch_size, { optional = true, integer = true, min = 1 })
  local path, dir = sessions.find_session_file(session_id, { directory = opts.directory, config_dir = opts.config_dir })
  if not path then
    errors.raise(
      "ClaudeSDKError",
      "session " .. session_id .. " not found",
      { code = "ENOENT", session_id = session_id }
    )
  end
  local project_key = dir:match("([^/]+)/*$")
  local batch_size = opts.batch_size or require("claude_agent_sdk.mirror").MAX_PENDING_ENTRIES
  append_file(store, path, { project_key = project_key, session_id = session_id }, batch_size)
  if opts.include_subagents == false then
    return
  end
  local session_dir = dir .. "/" .. session_id
  local files = {}
  -- every *.jsonl under <session>/subagents, nested folders included
  local function walk(d, rel, depth)
    if depth > 16 then
      return
    end
    local names = require("claude_agent_sdk.core").listdir(d) or {}
    table.sort(names)
    for _, name in ipairs(names) do
      local p = d .. "/" .. name
      local st = require("claude_agent_sdk.core").stat(p)
      if st and st.type == "directory" then
        walk(p, rel .. "/" .. name, depth + 1)
      elseif st and st.type == "file" and name:sub(-6) == ".jsonl" then
        files[#files + 1] = { p, (rel .. "/" .. name:sub(1, -7)):sub(2) }
      end
    end
  end
  walk(session_dir .. "/subagents", "/subagents", 0)
  for _, fp in ipairs(files) do
    local meta
    local mf = io.open(fp[1]:sub(1, -7) .. ".meta.json", "rb")
    if mf then
      local ok, m = pcall(json.decode, mf:read("*a") or "")
      mf:close()
      if ok and type(m) == "table" then
        m.type = "agent_metadata" -- last, so the sidecar cannot shadow it
        meta = m
      end
    end
    append_file(store, fp[1], { project_key = project_key, session_id = session_id, subpath = fp[2] }, batch_size, meta)
  end
end

return M
