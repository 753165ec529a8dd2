--- Sessions changed in a session store: the Python SDK's `rename_session_via_store`,
--- `tag_session_via_store`, `delete_session_via_store` and `fork_session_via_store`.
--
-- A rename or a tag is one entry appended to the session's key, the entry
-- sessions.lua writes to a local transcript (made by sessions.lua itself,
-- into a scratch file, so the title and tag rules are the same).  A fork
-- loads the session, forks it with sessions.lua in a temporary config
-- directory (fresh uuids, the parentUuid chain remapped) and appends the new
-- session to the store.  A delete is the store's delete (a no-op for a store
-- without one: an append-only backend).  Ids are checked first: a
-- non-UUID session id is an InvalidOptionError.
--
--   claude.rename_session_via_store(store, id, "Release notes", { directory = cwd })

local json = require("claude_agent_sdk.json")
local errors = require("claude_agent_sdk.errors")
local check = require("claude_agent_sdk.check")
local sessions = require("claude_agent_sdk.sessions")
local session_store = require("claude_agent_sdk.session_store")
local session_resume = require("claude_agent_sdk.session_resume")

local M = {}

local call = session_resume.call
local LOOKUP_OPTS = { directory = true }

local function prepare(fname, store, session_id, opts, known)
  session_store.validate(fname, "store", store)
  sessions.check_session_id(fname, "session_id", session_id)
  check.opts(fname, "opts", opts, known or LOOKUP_OPTS)
  opts = opts or {}
  check.string(fname, "opts.directory", opts.directory, { optional = true, path = true })
  local key = { project_key = sessions.project_key_for_directory(opts.directory), session_id = session_id }
  return key, opts
end

-- Run fn(tmp) with a temporary config directory, removed afterwards.
local function with_tmp(fn)
  local tmp = session_resume.tmpdir("claude-store-edit-")
  local res = { pcall(fn, tmp) }
  sessions.remove_tree(tmp)
  if not res[1] then
    error(res[2], 0)
  end
  return res[2], res[3]
end

local function read_entries(path)
  local out = {}
  local f = io.open(path, "rb")
  if not f then
    return out
  end
  for line in f:lines() do
    local ok, e = pcall(json.decode, line)
    if ok and type(e) == "table" then
      out[#out + 1] = e
    end
  end
  f:close()
  return out
end

-- The entry sessions.lua's `mutate(id, ..., opts)` appends to a transcript,
-- made against an empty scratch transcript.
local function entry_of(key, mutate)
  return with_tmp(function(tmp)
    local dir = tmp .. "/projects/" .. key.project_key
    session_resume.mkdir_p(dir)
    local path = dir .. "/" .. key.session_id .. ".jsonl"
    local f = assert(io.open(path, "wb"))
    f:write("\n") -- not empty: sessions.lua skips an empty file
    f:close()
    mutate({ config_dir = tmp })
    local entries = read_entries(path)
    return entries[#entries]
  end)
end

--- Give a stored session a title: appends a custom-title entry to it.
---   claude.rename_session_via_store(store, id, "Release notes", { directory = cwd })
---@param store SessionStore
---@param session_id string
---@param title string  stripped; must not be empty
---@param opts {directory: string|nil}|nil
function M.rename_session_via_store(store, session_id, title, opts)
  local fname = "rename_session_via_store"
  local key = prepare(fname, store, session_id, opts)
  check.string(fname, "title", title, { text = true })
  local entry = entry_of(key, function(o)
    sessions.rename_session(session_id, title, o)
  end)
  call(store, "append", "renaming " .. session_id, key, { entry })
end

--- Tag a stored session (nil clears the tag): appends a tag entry to it.
---@param store SessionStore
---@param session_id string
---@param tag string|nil
---@param opts {directory: string|nil}|nil
function M.tag_session_via_store(store, session_id, tag, opts)
  local fname = "tag_session_via_store"
  local key = prepare(fname, store, session_id, opts)
  check.string(fname, "tag", tag, { text = true, optional = true })
  local entry = entry_of(key, function(o)
    sessions.tag_session(session_id, tag, o)
  end)
  call(store, "append", "tagging " .. session_id, key, { entry })
end

--- Delete a stored session with the store's delete (its subkeys go too, as
--- the store's delete does it); nothing for a store without delete.
---@param store SessionStore
---@param session_id string
---@param opts {directory: string|nil}|nil
function M.delete_session_via_store(store, session_id, opts)
  local key = prepare("delete_session_via_store", store, session_id, opts)
  if session_store.implements(store, "delete") then
    call(store, "delete", "deleting " .. session_id, key)
  end
end

--- Fork a stored session into a new one (fresh uuids), written to the store.
---   local new_id = claude.fork_session_via_store(store, id, { up_to_message_id = uuid }).session_id
---@param store SessionStore
---@param session_id string
---@param opts {directory: string|nil, up_to_message_id: string|nil, title: string|nil}|nil
---@return {session_id: string}
function M.fork_session_via_store(store, session_id, opts)
  local fname = "fork_session_via_store"
  local key
  key, opts = prepare(fname, store, session_id, opts, { directory = true, up_to_message_id = true, title = true })
  if opts.up_to_message_id ~= nil then
    sessions.check_session_id(fname, "opts.up_to_message_id", opts.up_to_message_id)
  end
  check.string(fname, "opts.title", opts.title, { optional = true, text = true })
  local entries = call(store, "load", "for session " .. session_id, key)
  if type(entries) ~= "table" or #entries == 0 then
    errors.raise(
      "ClaudeSDKError",
      "session " .. session_id .. " not found in the store",
      { code = "ENOENT", session_id = session_id }
    )
  end
  local new_id, forked = with_tmp(function(tmp)
    session_resume.write_session(tmp, nil, key.project_key, session_id, entries) -- main transcript only
    local r = sessions.fork_session(session_id, {
      config_dir = tmp,
      up_to_message_id = opts.up_to_message_id,
      title = opts.title,
    })
    return r.session_id, read_entries(tmp .. "/projects/" .. key.project_key .. "/" .. r.session_id .. ".jsonl")
  end)
  call(store, "append", "writing the fork of " .. session_id, {
    project_key = key.project_key,
    session_id = new_id,
  }, forked)
  return { session_id = new_id }
end

return M
