--- The Claude Agent SDK for Lua: the public API (DESIGN.md §3).
--
--   local claude = require("claude_agent_sdk")
--   claude.with_client({ model = "claude-sonnet-4-5" }, function(client)
--     client:query("What is 2+2?")
--     for msg in client:receive_response() do print(msg) end
--   end)

local errors = require("claude_agent_sdk.errors")
local json = require("claude_agent_sdk.json")
local messages = require("claude_agent_sdk.messages")
local Client = require("claude_agent_sdk.client")
local query = require("claude_agent_sdk.query")
local options = require("claude_agent_sdk.options")
local async = require("claude_agent_sdk.async")
local permissions = require("claude_agent_sdk.permissions")
local hooks = require("claude_agent_sdk.hooks")
local mcp = require("claude_agent_sdk.mcp")
local stream = require("claude_agent_sdk.stream")
local loop = require("claude_agent_sdk.loop")
local check = require("claude_agent_sdk.check")

--- The module table.  The message and block classes and the error kinds are copied in by the loops
--- below, which LuaLS cannot follow, so they are declared here: a class is the metatable of its
--- instances (their shapes are in types.lua), a kind is its own name; both are for claude.isinstance.
---@class ClaudeAgentSDK
---@field APIRetryMessage table
---@field AssistantMessage table
---@field AuthStatusMessage table
---@field BackgroundTasksChangedMessage table
---@field CommandsChangedMessage table
---@field CompactBoundaryMessage table
---@field ContentBlock table
---@field ConversationResetMessage table
---@field HookEventMessage table
---@field HookProgressMessage table
---@field HookResponseMessage table
---@field HookStartedMessage table
---@field InformationalMessage table
---@field LocalCommandOutputMessage table
---@field Message table
---@field MirrorErrorMessage table
---@field PermissionDeniedMessage table
---@field PromptSuggestionMessage table
---@field RateLimitEvent table
---@field RateLimitInfo table
---@field ResultMessage table
---@field SDKSessionInfo table
---@field SessionMessage table
---@field ServerToolResultBlock table
---@field ServerToolUseBlock table
---@field SessionStateChangedMessage table
---@field StatusMessage table
---@field StreamEvent table
---@field SystemMessage table
---@field TaskNotificationMessage table
---@field TaskProgressMessage table
---@field TaskStartedMessage table
---@field TaskUpdatedMessage table
---@field TextBlock table
---@field ThinkingBlock table
---@field ThinkingTokensMessage table
---@field ToolProgressMessage table
---@field ToolResultBlock table
---@field ToolUseBlock table
---@field ToolUseSummaryMessage table
---@field UserMessage table
---@field CLIConnectionError "CLIConnectionError"
---@field ClaimError "ClaimError"
---@field CLIJSONDecodeError "CLIJSONDecodeError"
---@field CanUseToolShadowedWarning "CanUseToolShadowedWarning"  a warning kind (claude.warnings)
---@field CLINotFoundError "CLINotFoundError"
---@field CancelledError "CancelledError"
---@field ClaudeSDKError "ClaudeSDKError"
---@field ControlError "ControlError"
---@field ControlTimeoutError "ControlTimeoutError"
---@field InvalidOptionError "InvalidOptionError"
---@field MessageParseError "MessageParseError"
---@field ProcessError "ProcessError"
---@field ResultError "ResultError"
---@field TimeoutError "TimeoutError"
---@field sessions table  sessions.lua, loaded on first access
local M = {}

local function pack(...)
  return { n = select("#", ...), ... }
end

M.VERSION = options.VERSION
M.ClaudeSDKClient = Client
M.query = query.query
M.errors = errors
M.null = json.null
M.array_mt = json.array_mt
M.array = json.array
M.json = json
--- isinstance(msg, claude.ResultMessage), or isinstance(err, claude.CLIConnectionError)
---@param obj any
---@param cls table|string  a message/block class, or an error kind
---@return boolean
function M.isinstance(obj, cls)
  if type(cls) == "string" then
    if not errors.kinds[cls] then
      check.fail("claude.isinstance", "cls", "a message class or an error kind", cls)
    end
    return errors.is(obj, cls)
  end
  if type(cls) ~= "table" then
    check.fail("claude.isinstance", "cls", "a message class or an error kind", cls)
  end
  return messages.isinstance(obj, cls)
end

-- callbacks: permissions, hooks, in-process MCP tools
M.PermissionResultAllow = permissions.PermissionResultAllow
M.PermissionResultDeny = permissions.PermissionResultDeny
M.PermissionUpdate = permissions.PermissionUpdate
--- Advice that is not an error (CanUseToolShadowedWarning); see warnings.lua.
M.warnings = require("claude_agent_sdk.warnings")
M.CanUseToolShadowedWarning = "CanUseToolShadowedWarning"
M.HookMatcher = hooks.HookMatcher
M.tool = mcp.tool
M.create_sdk_mcp_server = mcp.create_sdk_mcp_server

-- The CLI's session transcripts.  sessions.lua is a quarter of the SDK's
-- code and few scripts use it: it loads on first use, which keeps
-- require("claude_agent_sdk") about 1 ms shorter.
local function sessions()
  return require("claude_agent_sdk.sessions")
end

--- The sessions of a project (or of all projects), newest first.
---@param opts ListSessionsOptions|nil
---@return SDKSessionInfo[]
function M.list_sessions(opts)
  return sessions().list_sessions(opts)
end

--- One session's summary, or nil when there is no such session.
---@param session_id string
---@param opts SessionLookupOptions|nil
---@return SDKSessionInfo|nil
function M.get_session_info(session_id, opts)
  return sessions().get_session_info(session_id, opts)
end

--- The user and assistant messages of a session's transcript, in order.
---@param session_id string
---@param opts SessionMessagesOptions|nil
---@return SessionMessage[]
function M.get_session_messages(session_id, opts)
  return sessions().get_session_messages(session_id, opts)
end

--- Give a session a title (appends a custom-title entry to its transcript).
---@param session_id string
---@param title string
---@param opts SessionLookupOptions|nil
function M.rename_session(session_id, title, opts)
  sessions().rename_session(session_id, title, opts)
end

--- Tag a session; nil clears the tag.
---@param session_id string
---@param tag string|nil
---@param opts SessionLookupOptions|nil
function M.tag_session(session_id, tag, opts)
  sessions().tag_session(session_id, tag, opts)
end

--- Delete a session's transcript and its subagent transcripts.
---@param session_id string
---@param opts SessionLookupOptions|nil
function M.delete_session(session_id, opts)
  sessions().delete_session(session_id, opts)
end

--- Copy a session (up to a message) into a new one with fresh uuids.
---@param session_id string
---@param opts ForkSessionOptions|nil
---@return ForkSessionResult
function M.fork_session(session_id, opts)
  return sessions().fork_session(session_id, opts)
end

--- The ids of a session's subagents.
---@param session_id string
---@param opts SessionLookupOptions|nil
---@return string[]
function M.list_subagents(session_id, opts)
  return sessions().list_subagents(session_id, opts)
end

--- A subagent's user and assistant messages, in order.
---@param session_id string
---@param agent_id string
---@param opts SessionMessagesOptions|nil
---@return SessionMessage[]
function M.get_subagent_messages(session_id, agent_id, opts)
  return sessions().get_subagent_messages(session_id, agent_id, opts)
end

-- Warm start: a client connected ahead, spares (--await-claim) and a pool
-- of them.  Loaded on first use, like the sessions.
--- A client already connected (spawned and initialized): its first query pays no start-up.
---@param opts ClaudeAgentOptions|nil
---@return ClaudeSDKClient
function M.startup(opts)
  return require("claude_agent_sdk.warm").startup(opts)
end

--- A parked CLI (--await-claim) to bind later with spare:claim({ cwd = ... }).
---@param opts ClaudeAgentOptions|nil  the host-level options, fixed for the spare's life
---@return ClaudeSpare
function M.prewarm(opts)
  return require("claude_agent_sdk.warm").prewarm(opts)
end

--- A pool that keeps `size` spares ready; pool:client({ cwd = ... }) claims one or starts cold.
---@param opts {size: integer|nil, options: ClaudeAgentOptions|nil}
---@return ClaudeSparePool
function M.pool(opts)
  return require("claude_agent_sdk.pool").pool(opts)
end

-- Session stores (session_store.lua): the Python SDK's SessionStore protocol,
-- the stores shipped, and the readers over a store.  Loaded on first use.
local function readers()
  return require("claude_agent_sdk.store_readers")
end

--- A session store in a Lua table (tests, development).
---@return InMemorySessionStore
function M.InMemorySessionStore()
  return require("claude_agent_sdk.session_store").InMemorySessionStore()
end

--- The embedded default store: a directory of JSON-lines files.
---   local store = claude.FileSessionStore({ dir = "/var/lib/agent/sessions" })
---@param opts {dir: string}
---@return FileSessionStore
function M.FileSessionStore(opts)
  return require("claude_agent_sdk.stores.file").new(opts)
end

--- A store on a Redis server, over the loop's TCP (luv or Neovim).
---   local store = claude.RedisSessionStore({ host = "127.0.0.1", port = 6379, prefix = "agents" })
---@param opts {host: string|nil, port: integer|nil, prefix: string|nil, timeout: number|nil}|nil
---@return RedisSessionStore
function M.RedisSessionStore(opts)
  return require("claude_agent_sdk.stores.redis").new(opts)
end

--- The SessionStore project_key of a directory (default: the current one).
---@param directory string|nil
---@return string
function M.project_key_for_directory(directory)
  return sessions().project_key_for_directory(directory)
end

--- Copy a local session (and its subagents) into a store.
---@param session_id string
---@param store SessionStore
---@param opts {directory: string|nil, config_dir: string|nil, include_subagents: boolean|nil, batch_size: integer|nil}|nil
function M.import_session_to_store(session_id, store, opts)
  readers().import_session_to_store(session_id, store, opts)
end

--- The sessions of a project in a store, newest first.
---@param store SessionStore
---@param opts {directory: string|nil, limit: integer|nil, offset: integer|nil}|nil
---@return SDKSessionInfo[]
function M.list_sessions_from_store(store, opts)
  return readers().list_sessions_from_store(store, opts)
end

--- One session's metadata from a store, or nil.
---@param store SessionStore
---@param session_id string
---@param opts {directory: string|nil}|nil
---@return SDKSessionInfo|nil
function M.get_session_info_from_store(store, session_id, opts)
  return readers().get_session_info_from_store(store, session_id, opts)
end

--- A session's user and assistant messages from a store, in order.
---@param store SessionStore
---@param session_id string
---@param opts {directory: string|nil, limit: integer|nil, offset: integer|nil}|nil
---@return SessionMessage[]
function M.get_session_messages_from_store(store, session_id, opts)
  return readers().get_session_messages_from_store(store, session_id, opts)
end

--- The ids of a session's subagents in a store.
---@param store SessionStore
---@param session_id string
---@param opts {directory: string|nil}|nil
---@return string[]
function M.list_subagents_from_store(store, session_id, opts)
  return readers().list_subagents_from_store(store, session_id, opts)
end

--- A subagent's messages from a store, in order.
---@param store SessionStore
---@param session_id string
---@param agent_id string
---@param opts {directory: string|nil, limit: integer|nil, offset: integer|nil}|nil
---@return SessionMessage[]
function M.get_subagent_messages_from_store(store, session_id, agent_id, opts)
  return readers().get_subagent_messages_from_store(store, session_id, agent_id, opts)
end

local function mutations()
  return require("claude_agent_sdk.store_mutations")
end

--- Give a stored session a title (appends a custom-title entry to the store).
---@param store SessionStore
---@param session_id string
---@param title string
---@param opts {directory: string|nil}|nil
function M.rename_session_via_store(store, session_id, title, opts)
  mutations().rename_session_via_store(store, session_id, title, opts)
end

--- Tag a stored session; nil clears the tag.
---@param store SessionStore
---@param session_id string
---@param tag string|nil
---@param opts {directory: string|nil}|nil
function M.tag_session_via_store(store, session_id, tag, opts)
  mutations().tag_session_via_store(store, session_id, tag, opts)
end

--- Delete a stored session (the store's delete; nothing without one).
---@param store SessionStore
---@param session_id string
---@param opts {directory: string|nil}|nil
function M.delete_session_via_store(store, session_id, opts)
  mutations().delete_session_via_store(store, session_id, opts)
end

--- Fork a stored session into a new one with fresh uuids, in the store.
---@param store SessionStore
---@param session_id string
---@param opts {directory: string|nil, up_to_message_id: string|nil, title: string|nil}|nil
---@return {session_id: string}
function M.fork_session_via_store(store, session_id, opts)
  return mutations().fork_session_via_store(store, session_id, opts)
end

-- stream_event deltas
M.stream = stream

-- the async runtime (luv standalone, Neovim's vim.uv/vim.loop, or a host loop)
M.run = async.run
M.spawn = async.spawn
M.sleep = async.sleep
M.current_task = async.current
-- turn a callback API (vim.ui.select, a timer) into a return value in a task
M.suspend = async.suspend

--- Choose the event loop: a luv module, "luv", "nvim", "host", or a backend
--- table (see loop.lua).  By default Neovim's loop inside Neovim, else luv if
--- installed, else the host loop.
---   claude.use_loop("host")   -- a game's frame loop calls claude.poll() / client:pump(0)
---@param what table|string
---@return ClaudeLoopBackend  the backend now in use
function M.use_loop(what)
  return loop.use(what)
end

--- Host-loop mode without a particular client: pump every client that tasks
--- wait on, run due timers and resume ready tasks.  Never blocks.
---@return boolean  true if anything ran
function M.poll()
  local backend = loop.current()
  return backend.step and backend.step() or false
end

for name, cls in pairs(messages.classes) do
  M[name] = cls
end
for kind in pairs(errors.kinds) do
  M[kind] = kind
end

--- Connect, run fn(client), and always disconnect, on every Lua version.
---   claude.with_client(opts, function(client) client:query("Hi") ... end)
---@param opts ClaudeAgentOptions|nil
---@param fn fun(client: ClaudeSDKClient): any
---@return any ...  what fn returned
function M.with_client(opts, fn)
  check.callable("claude.with_client", "fn", fn)
  local client = Client.new(opts)
  client:connect()
  local res = pack(pcall(fn, client))
  client:disconnect()
  if not res[1] then
    error(res[2], 0)
  end
  return (table.unpack or unpack)(res, 2, res.n)
end

-- claude.sessions (the whole module) loads on first access too.
return setmetatable(M, {
  __index = function(t, k)
    if k == "sessions" then
      local m = sessions()
      rawset(t, k, m)
      return m
    end
  end,
})
