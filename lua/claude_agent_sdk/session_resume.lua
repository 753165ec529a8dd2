--- Resume from a session store: the session is written into a temporary
--- config directory laid out like ~/.claude, and the CLI is started with
--- CLAUDE_CONFIG_DIR pointing there (the Python SDK's session_resume.py).
--
-- The CLI resumes only from a local file, and with a store the session
-- usually lives elsewhere (another host wrote it).  `materialize(options)`
-- loads it (main transcript, then every subkey the store lists: subagent
-- transcripts, their agent_metadata as `.meta.json` sidecars) into
-- `<tmp>/projects/<project_key>/<id>.jsonl`, copies what the CLI needs to
-- authenticate from the caller's config (.credentials.json without its
-- refresh token, .claude.json, settings.json without plugin declarations),
-- and returns the directory and the session id; the client removes the
-- directory at disconnect.  With `continue_conversation`, the store's newest
-- session that is not a sidechain is resumed (list_sessions needed).
--
-- `write_session` is shared with the store readers (store_readers.lua),
-- which materialize a session the same way to read it with sessions.lua.

local core = require("claude_agent_sdk.core")
local json = require("claude_agent_sdk.json")
local errors = require("claude_agent_sdk.errors")
local sessions = require("claude_agent_sdk.sessions")
local session_store = require("claude_agent_sdk.session_store")

local M = {}

local null = json.null

-- Make a directory and its parents (mode 0700); true when it exists after.
local function mkdir_p(path)
  local st = core.stat(path)
  if st then
    return st.type == "directory"
  end
  local parent = path:match("^(.*)/[^/]+$")
  if parent and parent ~= "" then
    mkdir_p(parent)
  end
  local ok, _, code = core.mkdir(path, 448) -- 0700
  return ok or code == "EEXIST"
end
M.mkdir_p = mkdir_p

local function write_file(path, text)
  local f, err = io.open(path, "wb")
  if not f then
    errors.raise("ClaudeSDKError", "cannot write " .. path .. ": " .. tostring(err), { code = "EIO", path = path })
  end
  f:write(text)
  f:close()
end

--- One transcript line: the entry as JSON with "type" first, as the CLI
--- writes it.  A store may give entries back with their keys in any order
--- (they are decoded tables), and sessions.lua recognizes some lines by
--- their start ('{"type":"tag"'), as the Python SDK's readers do.
---@param e table
---@return string
function M.entry_line(e)
  if type(e) ~= "table" or type(e.type) ~= "string" then
    return json.encode(e)
  end
  local rest = {}
  for k, v in pairs(e) do
    if k ~= "type" then
      rest[k] = v
    end
  end
  local head = '{"type":' .. json.encode(e.type)
  if next(rest) == nil then
    return head .. "}"
  end
  return head .. "," .. json.encode(rest):sub(2)
end

local function write_jsonl(path, entries)
  local parts = {}
  for i, e in ipairs(entries) do
    parts[i] = M.entry_line(e)
  end
  parts[#parts + 1] = ""
  write_file(path, table.concat(parts, "\n"))
end

local function read_file(path)
  local st = core.stat(path)
  if not st or st.type ~= "file" then
    return nil
  end
  local f = io.open(path, "rb")
  if not f then
    return nil
  end
  local text = f:read("*a")
  f:close()
  return text
end

--- A new private temporary directory (mode 0700).
---@param prefix string
---@return string
function M.tmpdir(prefix)
  local base = os.getenv("TMPDIR")
  if not base or base == "" then
    base = "/tmp"
  end
  local dir, err = core.mkdtemp(base .. "/" .. prefix .. "XXXXXX")
  if not dir then
    errors.raise("ClaudeSDKError", "cannot make a temporary directory: " .. tostring(err), { code = "EIO" })
  end
  return dir
end

-- A store call whose failure is reported as the caller's failure, with context.
local function call(store, method, what, ...)
  local res = { pcall(store[method], store, ...) }
  if not res[1] then
    local e = res[2]
    errors.raise(
      "ClaudeSDKError",
      ("SessionStore:%s() failed %s: %s"):format(method, what, type(e) == "table" and e.message or tostring(e)),
      { code = "ESTORE", cause = e }
    )
  end
  return res[2]
end
M.call = call

--- Write a session's entries (and, when the store lists subkeys, its
--- subagents) under base/projects/<project_key>/.
---@param base string  a config directory
---@param store SessionStore|nil  nil: the main transcript only
---@param project_key string
---@param session_id string
---@param entries table[]  the main transcript
function M.write_session(base, store, project_key, session_id, entries)
  local project_dir = base .. "/projects/" .. project_key
  if not mkdir_p(project_dir) then
    errors.raise("ClaudeSDKError", "cannot make " .. project_dir, { code = "EIO" })
  end
  write_jsonl(project_dir .. "/" .. session_id .. ".jsonl", entries)
  if not store or not session_store.implements(store, "list_subkeys") then
    return
  end
  local key = { project_key = project_key, session_id = session_id }
  local subkeys = call(store, "list_subkeys", "for session " .. session_id, key) or {}
  for _, subpath in ipairs(subkeys) do
    -- subpaths come from outside: one that could leave the session's
    -- directory is skipped
    if type(subpath) == "string" and session_store.plain_subpath(subpath) then
      local sub = call(store, "load", "for " .. session_id .. "/" .. subpath, {
        project_key = project_key,
        session_id = session_id,
        subpath = subpath,
      })
      if type(sub) == "table" and #sub > 0 then
        local transcript, meta = {}, nil
        for _, e in ipairs(sub) do
          if type(e) == "table" and e.type == "agent_metadata" then
            meta = e -- the last one wins
          else
            transcript[#transcript + 1] = e
          end
        end
        local file = project_dir .. "/" .. session_id .. "/" .. subpath .. ".jsonl"
        mkdir_p(file:match("^(.*)/[^/]+$"))
        if #transcript > 0 then
          write_jsonl(file, transcript)
        end
        if meta then
          local m = {}
          for k, v in pairs(meta) do
            if k ~= "type" then
              m[k] = v
            end
          end
          write_file(file:sub(1, -7) .. ".meta.json", json.encode(m))
        end
      end
    end
  end
end

-- The settings keys that misbehave under a redirected config directory
-- (plugins would be reinstalled into the empty temporary cache).
local function strip_settings(text)
  local ok, t = pcall(json.decode, text)
  if not ok or type(t) ~= "table" then
    return text
  end
  local changed = false
  for _, k in ipairs({ "enabledPlugins", "extraKnownMarketplaces" }) do
    if t[k] ~= nil then
      t[k] = nil
      changed = true
    end
  end
  if type(t.env) == "table" and t.env.CLAUDE_CONFIG_DIR ~= nil then
    t.env.CLAUDE_CONFIG_DIR = nil
    changed = true
  end
  return changed and json.encode(t) or text
end

-- The credentials without claudeAiOauth.refreshToken: a CLI refreshing in
-- the temporary directory would use up the caller's single-use token.
local function redact_credentials(text)
  local ok, t = pcall(json.decode, text)
  if ok and type(t) == "table" and type(t.claudeAiOauth) == "table" and t.claudeAiOauth.refreshToken ~= nil then
    t.claudeAiOauth.refreshToken = nil
    return json.encode(t)
  end
  return text
end

local function env_of(o, name)
  local v = o.env and o.env[name]
  if v == false then
    return nil
  end
  if type(v) == "string" and v ~= "" then
    return v
  end
  v = os.getenv(name)
  return v ~= "" and v or nil
end

--- The projects directory the CLI of these options writes to.
---@param o table  validated options
---@return string
function M.projects_dir(o)
  local config = env_of(o, "CLAUDE_CONFIG_DIR")
  if not config then
    config = (env_of(o, "HOME") or "") .. "/.claude"
  end
  return config .. "/projects"
end

-- Copy the caller's auth and user config into the temporary config directory.
local function copy_auth(base, o)
  local caller = env_of(o, "CLAUDE_CONFIG_DIR")
  local home = env_of(o, "HOME") or ""
  local source = caller or (home .. "/.claude")
  local creds = read_file(source .. "/.credentials.json")
  if creds then
    write_file(base .. "/.credentials.json", redact_credentials(creds))
  end
  local claude_json = read_file(caller and (caller .. "/.claude.json") or (home .. "/.claude.json"))
  if claude_json then
    write_file(base .. "/.claude.json", claude_json)
  end
  for _, name in ipairs({ "settings.json", "cowork_settings.json" }) do
    local s = read_file(source .. "/" .. name)
    if s then
      write_file(base .. "/" .. name, strip_settings(s))
    end
  end
end

local function first_is_sidechain(entries)
  local first = entries[1]
  return type(first) == "table" and first.isSidechain == true
end

--- Materialize the session to resume, or nil when there is nothing to do
--- (no store, no resume/continue, or the store has no such session: the CLI
--- then starts as it would have).
---@param o table  validated options
---@return {config_dir: string, session_id: string}|nil
function M.materialize(o)
  local store = o.session_store
  if not store or (o.resume == nil and not o.continue_conversation) then
    return nil
  end
  local project_key = sessions.project_key_for_directory(o.cwd)
  local session_id, entries
  if o.resume ~= nil then
    session_id = o.resume
    entries = call(store, "load", "for session " .. session_id, { project_key = project_key, session_id = session_id })
  else
    local list = call(store, "list_sessions", "for project " .. project_key, project_key) or {}
    local sorted = {}
    for _, s in ipairs(list) do
      if type(s) == "table" and sessions.is_uuid(s.session_id) then
        sorted[#sorted + 1] = s
      end
    end
    table.sort(sorted, function(a, b)
      return (tonumber(a.mtime) or 0) > (tonumber(b.mtime) or 0)
    end)
    for _, s in ipairs(sorted) do
      local e =
        call(store, "load", "for session " .. s.session_id, { project_key = project_key, session_id = s.session_id })
      if type(e) == "table" and #e > 0 and not first_is_sidechain(e) then
        session_id, entries = s.session_id, e
        break
      end
    end
  end
  if type(entries) ~= "table" or #entries == 0 or entries == null then
    return nil
  end
  local base = M.tmpdir("claude-resume-")
  local ok, err = pcall(function()
    M.write_session(base, store, project_key, session_id, entries)
    copy_auth(base, o)
  end)
  if not ok then
    sessions.remove_tree(base)
    error(err, 0)
  end
  return { config_dir = base, session_id = session_id, project_key = project_key }
end

--- The options the CLI is started with for a materialized resume: a copy
--- with CLAUDE_CONFIG_DIR set, resume = the session, continue cleared.
---@param o table
---@param m {config_dir: string, session_id: string}
---@return table
function M.apply(o, m)
  local out = {}
  for k, v in pairs(o) do
    out[k] = v
  end
  local env = {}
  for k, v in pairs(o.env or {}) do
    env[k] = v
  end
  env.CLAUDE_CONFIG_DIR = m.config_dir
  out.env = env
  out.resume = m.session_id
  out.continue_conversation = nil
  return out
end

return M
