--- FileSessionStore: the embedded default session store, a directory of
--- JSON-lines files in the CLI's own layout.
--
--   <dir>/<project_key>/<session_id>.jsonl             the main transcript
--   <dir>/<project_key>/<session_id>/<subpath>.jsonl   a subagent's (subpath "subagents/agent-x")
--
-- Why files and not SQLite: it needs nothing (no lua-dbi, no C library, the
-- same on Lua 5.4 and LuaJIT); an append is one write in append mode, so
-- lines are never rewritten; the layout is the CLI's, so a store directory
-- can be read with claude.list_sessions{ config_dir = ... } style tools or by
-- hand; mtime is the file's.  It is for one host (or a shared file system);
-- Redis is the store shared by many hosts.
--
-- A line that does not decode (a write cut short by a crash) is skipped by
-- load.  Calls are plain file I/O: they block briefly, in a task too.
--
--   local store = claude.FileSessionStore({ dir = os.getenv("HOME") .. "/.claude-store" })

local core = require("claude_agent_sdk.core")
local json = require("claude_agent_sdk.json")
local errors = require("claude_agent_sdk.errors")
local check = require("claude_agent_sdk.check")
local session_store = require("claude_agent_sdk.session_store")
local session_resume = require("claude_agent_sdk.session_resume")
local sessions = require("claude_agent_sdk.sessions")

---@class FileSessionStore: SessionStore
---@field dir string
local Store = {}
Store.__index = Store
Store.__name = "FileSessionStore"

local M = {}

--- A store in the directory `dir` (made if missing).
---   local store = claude.FileSessionStore({ dir = "/var/lib/agent/sessions" })
---@param opts {dir: string}
---@return FileSessionStore
function M.new(opts)
  check.opts("FileSessionStore", "opts", opts, { dir = true })
  check.type("FileSessionStore", "opts", opts, "table")
  check.string("FileSessionStore", "opts.dir", opts.dir, { nonempty = true, path = true })
  local dir = opts.dir:gsub("(.)/+$", "%1")
  if not session_resume.mkdir_p(dir) then
    errors.raise("ClaudeSDKError", "FileSessionStore: cannot make the directory " .. dir, { code = "EIO", path = dir })
  end
  return setmetatable({ dir = dir }, Store)
end

local function path_of(self, key)
  local base = self.dir .. "/" .. key.project_key .. "/" .. key.session_id
  if key.subpath then
    return base .. "/" .. key.subpath .. ".jsonl"
  end
  return base .. ".jsonl"
end

local function io_error(what, path, err)
  errors.raise("ClaudeSDKError", ("FileSessionStore: cannot %s %s: %s"):format(what, path, tostring(err)), {
    code = "EIO",
    path = path,
  })
end

function Store:append(key, entries)
  session_store.check_key("FileSessionStore:append", key)
  check.type("FileSessionStore:append", "entries", entries, "table")
  if #entries == 0 then
    return -- no phantom session for an empty append
  end
  local path = path_of(self, key)
  session_resume.mkdir_p(path:match("^(.*)/[^/]+$"))
  local lines = {}
  for i, e in ipairs(entries) do
    lines[i] = json.encode(e)
  end
  lines[#lines + 1] = ""
  local f, err = io.open(path, "ab")
  if not f then
    io_error("open", path, err)
  end
  -- one write: appends of concurrent writers do not interleave within it
  local ok, werr = f:write(table.concat(lines, "\n"))
  f:close()
  if not ok then
    io_error("write", path, werr)
  end
end

function Store:load(key)
  session_store.check_key("FileSessionStore:load", key)
  local path = path_of(self, key)
  local f = io.open(path, "rb")
  if not f then
    return nil
  end
  local out = {}
  for line in f:lines() do
    if line:find("%S") then
      local ok, e = pcall(json.decode, line)
      if ok and e ~= nil then
        out[#out + 1] = e
      end
    end
  end
  f:close()
  return out
end

function Store:list_sessions(project_key)
  check.string("FileSessionStore:list_sessions", "project_key", project_key)
  local dir = self.dir .. "/" .. project_key
  local out = {}
  local names = core.listdir(dir) or {}
  table.sort(names)
  for _, name in ipairs(names) do
    local id = name:match("^(.+)%.jsonl$")
    local st = id and core.stat(dir .. "/" .. name)
    if st and st.type == "file" then
      out[#out + 1] = { session_id = id, mtime = math.floor(st.mtime) }
    end
  end
  return out
end

function Store:delete(key)
  session_store.check_key("FileSessionStore:delete", key)
  os.remove(path_of(self, key))
  if key.subpath == nil then
    -- cascade: the session's directory holds its subkeys
    local sub = self.dir .. "/" .. key.project_key .. "/" .. key.session_id
    if core.stat(sub) then
      sessions.remove_tree(sub)
    end
  end
end

function Store:list_subkeys(key)
  session_store.check_key("FileSessionStore:list_subkeys", key, false)
  local base = self.dir .. "/" .. key.project_key .. "/" .. key.session_id
  local out = {}
  local function walk(d, rel, depth)
    if depth > 16 then
      return
    end
    local names = core.listdir(d) or {}
    table.sort(names)
    for _, name in ipairs(names) do
      local p = d .. "/" .. name
      local st = core.stat(p)
      if st and st.type == "directory" then
        walk(p, rel .. name .. "/", depth + 1)
      elseif st and st.type == "file" and name:sub(-6) == ".jsonl" then
        out[#out + 1] = rel .. name:sub(1, -7)
      end
    end
  end
  walk(base, "", 0)
  return out
end

function Store:__tostring()
  return "FileSessionStore(" .. self.dir .. ")"
end

M.Store = Store

return M
