--- Warm start: claude.startup(), claude.prewarm() and the spare it returns.
--
-- The CLI's start-up (0.6-0.9 s) is most of the wait before a first answer.
-- startup() pays it ahead with the session's options; prewarm() pays it
-- before the session is even known: the CLI is started with --await-claim in
-- a private parking folder and bound later, by one claim_session request, to
-- the session's folder, model and permission mode (the TypeScript SDK's
-- prewarm()/claim(); PROTOCOL.md §8).  pool.lua keeps spares ready.
--
--   local spare = claude.prewarm({ allowed_tools = { "Read" } })
--   -- later, when the user opens a folder:
--   local client = spare:claim({ cwd = folder, model = "claude-sonnet-4-5" })
--   client:query("Hello")

local core = require("claude_agent_sdk.core")
local errors = require("claude_agent_sdk.errors")
local json = require("claude_agent_sdk.json")
local check = require("claude_agent_sdk.check")
local options_mod = require("claude_agent_sdk.options")
local warnings = require("claude_agent_sdk.warnings")
local Client = require("claude_agent_sdk.client")

local M = {}

--- A client that has started the CLI and finished the initialize handshake,
--- so its first query() pays no start-up.  Inside a task it yields while the
--- CLI starts; in a plain script it blocks.  (It is ClaudeSDKClient.new and
--- connect() in one call: our client already connects ahead of its first
--- query, which is what the TypeScript SDK's startup() adds to its query().)
---   local client = claude.startup({ cwd = folder })
---@param options table|nil  as for ClaudeSDKClient.new
---@return ClaudeSDKClient
function M.startup(options)
  local client = Client.new(options)
  client:connect()
  return client
end

-- What a spare is started with and a claim cannot change describes a session
-- that already exists: refused at prewarm, as the TypeScript SDK does.
local SESSION_OPTIONS = { "resume", "continue_conversation", "fork_session", "session_id" }

-- The settings keys the CLI applies only behind the claim (as the TypeScript
-- SDK splits them); the rest of an overlay is applied before it.
local AFTER_CLAIM = { model = true, agent = true, fastMode = true, permissions = true, availableModels = true }
AFTER_CLAIM.disableAutoMode = true
-- Settings that govern hooks cannot change once the spare has started.
local HOOK_SETTINGS = { "hooks", "disableAllHooks", "allowManagedHooksOnly", "allowedHttpHookUrls" }
HOOK_SETTINGS[#HOOK_SETTINGS + 1] = "httpHookAllowedEnvVars"

-- The variables a claim may carry (the CLI refuses every other one: it read
-- them at start-up).
local CLAIM_ENV = { CLAUDE_CODE_OAUTH_TOKEN = true, CLAUDE_CODE_SESSION_ACCESS_TOKEN = true }
CLAIM_ENV.CLAUDE_CODE_HOST_SESSION_ID = true

local CLAIM_KEYS = {
  cwd = true,
  model = true,
  permission_mode = true,
  max_thinking_tokens = true,
  add_dirs = true,
  env = true,
  append_system_prompt = true,
  title = true,
  agents = true,
  settings = true,
}

-- The config home the CLI uses for these options: CLAUDE_CONFIG_DIR, else
-- $HOME/.claude, from the options' env first (a test's throwaway HOME).
local function config_home(o)
  local env = o.env or {}
  local dir = env.CLAUDE_CONFIG_DIR or os.getenv("CLAUDE_CONFIG_DIR")
  if type(dir) == "string" and dir:sub(1, 1) == "/" then
    return dir
  end
  local home = env.HOME or os.getenv("HOME")
  if type(home) ~= "string" or home:sub(1, 1) ~= "/" then
    errors.raise(
      "InvalidOptionError",
      "claude.prewarm: no absolute config home to park the spare under (neither CLAUDE_CONFIG_DIR nor HOME "
        .. "is an absolute path): set one, or give options.cwd",
      { option = "cwd" }
    )
  end
  return home .. "/.claude"
end

local function mkdir_p(path)
  local at = ""
  for part in path:gmatch("[^/]+") do
    at = at .. "/" .. part
    local ok, msg, code = core.mkdir(at)
    if not ok and code ~= "EEXIST" then
      errors.raise("ClaudeSDKError", "cannot make the spares folder: " .. tostring(msg), { code = code })
    end
  end
end

local seeded = false

-- A fresh private folder <config home>/spares/spare-XXXXXXXX.
local function parking_dir(o)
  local root = config_home(o) .. "/spares"
  mkdir_p(root)
  if not seeded then
    math.randomseed(math.floor(core.hrtime() * 1000) % 2147483647)
    seeded = true
  end
  for _ = 1, 100 do
    local dir = ("%s/spare-%08x"):format(root, math.random(0, 0x7fffffff))
    local ok, msg, code = core.mkdir(dir, tonumber("700", 8))
    if ok then
      return dir
    elseif code ~= "EEXIST" then
      errors.raise("ClaudeSDKError", "cannot make a spare's parking folder: " .. tostring(msg), { code = code })
    end
  end
  errors.raise("ClaudeSDKError", "cannot make a spare's parking folder under " .. root)
end

-- Remove a folder this module made, and what the CLI put in it.
local function remove_tree(path, depth)
  if depth > 16 then
    return
  end
  local names = core.listdir(path)
  for _, name in ipairs(names or {}) do
    if name ~= "." and name ~= ".." then
      local p = path .. "/" .. name
      local st = core.stat(p)
      if st and st.type == "directory" then
        remove_tree(p, depth + 1)
      else
        os.remove(p)
      end
    end
  end
  os.remove(path)
end

---@class ClaudeSpare
---@field options table  the options it was prewarmed with (fixed for its life)
local Spare = {}
Spare.__index = Spare
Spare.__name = "ClaudeSpare"

function Spare:__tostring()
  return ("ClaudeSpare(%s, pid %s)"):format(self._state, tostring(self._client and self._client:pid()))
end

local function check_spare(self, method)
  if getmetatable(self) ~= Spare then
    check.fail("spare:" .. method, "self", "a spare (call it as spare:" .. method .. "(...))", self)
  end
end

local function claim_error(reason, message, fields)
  fields = fields or {}
  fields.reason = reason
  errors.raise("ClaimError", message, fields)
end

--- Start a spare without waiting for it (pool.lua's way: the CLI starts up on
--- its own, in every mode).  `options` are the host-level options, fixed for
--- the spare's life.
---@param options table|nil
---@return ClaudeSpare
function M.start_spare(options)
  if options ~= nil and type(options) ~= "table" then
    check.fail("claude.prewarm", "options", "an options table", options)
  end
  local o = {}
  for k, v in pairs(options or {}) do
    o[k] = v
  end
  for _, key in ipairs(SESSION_OPTIONS) do
    if o[key] ~= nil then
      errors.raise(
        "InvalidOptionError",
        ("claude.prewarm: %s describes a session, and a spare has none: give it to ClaudeSDKClient.new"):format(key),
        { option = key }
      )
    end
  end
  local extra = {}
  for k, v in pairs(o.extra_args or {}) do
    extra[k] = v
  end
  extra["await-claim"] = json.null
  o.extra_args = extra
  -- validate before making any folder
  local client = Client.new(o)
  local dir
  if o.cwd == nil then
    dir = parking_dir(o)
    client.options.cwd = dir
  end
  local self = setmetatable({ options = options or {}, _client = client, _state = "parked", _dir = dir }, Spare)
  if dir then
    client._after_close = function()
      remove_tree(dir, 0)
    end
  end
  local ok, err = pcall(client._start, client, "await_claim")
  if not ok then
    self._state = "closed"
    if dir then
      remove_tree(dir, 0)
    end
    error(err, 0)
  end
  return self
end

--- A parked CLI, started and initialized, waiting for spare:claim().  Needs a
--- CLI with --await-claim (2.1.281 and later); an older one is a
--- CLIConnectionError saying so.  Yields inside a task, blocks otherwise.
---   local spare = claude.prewarm({ allowed_tools = { "Read" } })
---@param options table|nil  the host-level options (everything but the session's own)
---@return ClaudeSpare
function M.prewarm(options)
  local spare = M.start_spare(options)
  spare:_ready()
  return spare
end

-- Wait for the initialize answer (a spare started without waiting).
function Spare:_ready()
  local client = self._client
  local ok, err = pcall(client._finish_start, client)
  if not ok then
    self._state = "closed"
    error(err, 0)
  end
end

--- True while the spare is parked and its CLI alive (a pool replaces dead ones).
---@return boolean
function Spare:alive()
  check_spare(self, "alive")
  local c = self._client and self._client._core
  return self._state == "parked" and c ~= nil and c:alive()
end

--- The spare's CLI process id (nil once it is gone).
---@return integer|nil
function Spare:pid()
  check_spare(self, "pid")
  return self._client and self._client:pid()
end

--- Check a claim's options (spare:claim, pool:client) before anything is
--- sent or taken: an InvalidOptionError naming the bad one.
---@param fn string  the public function, for the message
---@param o any
function M.check_claim(fn, o)
  check.type(fn, "opts", o, "table")
  for k in pairs(o) do
    if type(k) ~= "string" or not CLAIM_KEYS[k] then
      local names = {}
      for name in pairs(CLAIM_KEYS) do
        names[#names + 1] = name
      end
      table.sort(names)
      check.fail(fn, "opts." .. tostring(k), "one of " .. table.concat(names, ", "), o[k])
    end
  end
  check.string(fn, "opts.cwd", o.cwd, { nonempty = true, path = true })
  for _, key in ipairs({ "model", "permission_mode", "max_thinking_tokens", "add_dirs", "env", "agents" }) do
    if o[key] ~= nil then
      options_mod.check(key, o[key])
    end
  end
  check.string(fn, "opts.append_system_prompt", o.append_system_prompt, { optional = true, text = true })
  check.string(fn, "opts.title", o.title, { optional = true, text = true })
  for name, v in pairs(o.env or {}) do
    if not CLAIM_ENV[name] or type(v) ~= "string" then
      check.fail(
        fn,
        "opts.env." .. name,
        "one of CLAUDE_CODE_OAUTH_TOKEN, CLAUDE_CODE_SESSION_ACCESS_TOKEN, CLAUDE_CODE_HOST_SESSION_ID "
          .. "(the CLI read every other variable at start-up: give it to claude.prewarm's env)",
        v
      )
    end
  end
  if o.settings ~= nil then
    check.type(fn, "opts.settings", o.settings, "table")
    check.jsonable(fn, "opts.settings", o.settings)
    for _, key in ipairs(HOOK_SETTINGS) do
      if o.settings[key] ~= nil then
        check.fail(
          fn,
          "opts.settings." .. key,
          "no hook setting (they are fixed when the spare starts: give them to claude.prewarm's settings; "
            .. "nothing was sent and the spare can still be claimed)",
          o.settings[key]
        )
      end
    end
  end
end

-- The fields of the claim_session request for checked options, and the
-- settings overlay split in two (before and after the claim).
local function claim_fields(self, o)
  local before, after
  if o.settings ~= nil then
    for k, v in pairs(o.settings) do
      if AFTER_CLAIM[k] then
        after = after or {}
        after[k] = v
      else
        before = before or {}
        before[k] = v
      end
    end
  end
  local cwd = o.cwd
  if cwd:sub(1, 1) ~= "/" and cwd ~= "~" and cwd:sub(1, 2) ~= "~/" then
    cwd = (core.realpath(".") or os.getenv("PWD") or ".") .. "/" .. cwd
  end
  local names = {}
  for name in pairs(self._client._sdk_servers) do
    names[#names + 1] = name
  end
  table.sort(names)
  local fields = {
    cwd = cwd,
    permission_mode = o.permission_mode,
    env = o.env,
    additional_directories = o.add_dirs and json.array(o.add_dirs) or nil,
    append_system_prompt = o.append_system_prompt,
    title = o.title,
    agents = o.agents,
    sdk_mcp_servers = json.array(names),
    include_initialize = true,
  }
  return fields, before, after
end

-- The reason at the head of the CLI's refusal ("cwd_not_found: the claim cwd
-- does not exist ..."), and the rest.
local function refusal(err)
  local text = type(err) == "table" and (err.error or err.message) or tostring(err)
  text = tostring(text):gsub("^claim_session failed: ", "")
  local reason, detail = text:match("^([%w_]+):%s*(.*)$")
  return reason or "claim_failed", detail or text
end

--- Bind the spare to a session and return it as a connected client: the
--- folder, and what the CLI lets a claim set (model, permission mode,
--- thinking budget, extra folders, a settings overlay without hook keys,
--- appended system prompt, title, agents, three token variables).
--- A claim the CLI refuses is a ClaimError with its `reason`
--- (cwd_not_found, permission_mode_not_claimable, project_settings_not_claimable,
--- settings_not_applied, ...): the spare is gone and the session should be
--- started cold (claude.pool does that itself).  A model or thinking budget
--- the CLI would not take does not undo the claim: the session runs without
--- it, `info.not_applied` lists it and an OptionNotAppliedWarning says so.
---   local client, info = spare:claim({ cwd = folder, permission_mode = "acceptEdits" })
---@param opts table  cwd (required), model, permission_mode, max_thinking_tokens, add_dirs, env, settings, ...
---@return ClaudeSDKClient client
---@return table info  session_id, cwd, parked_ms, not_applied
function Spare:claim(opts)
  check_spare(self, "claim")
  if self._state == "claimed" then
    claim_error("already_claimed", "this spare was already claimed: a spare serves one session")
  elseif self._state ~= "parked" then
    claim_error("spare_closed", "this spare was closed or its CLI has exited: start the session with a new client")
  end
  M.check_claim("spare:claim", opts)
  local fields, before, after = claim_fields(self, opts)
  local client = self._client
  self._state = "claiming"
  local function fail(reason, detail, fields2)
    self._state = "closed"
    client._abandon = true
    pcall(client.disconnect, client)
    claim_error(reason, ("the spare refused the claim (%s): %s"):format(reason, detail), fields2)
  end
  local ok, err = pcall(client._finish_start, client)
  if not ok then
    self._state = "closed"
    fail("spare_exited", tostring(err), { cause = err })
  end
  if before then
    local applied, e = pcall(client._control, client, "apply_flag_settings", { settings = before })
    if not applied then
      local _, detail = refusal(e)
      fail("settings_not_applied", detail, { cause = e })
    end
  end
  local claimed, answer = pcall(client._control, client, "claim_session", fields)
  if not claimed then
    local reason, detail = refusal(answer)
    fail(reason, detail, { cause = answer })
  end
  answer = type(answer) == "table" and answer or {}
  self._state = "claimed"
  if type(answer.initialize) == "table" then
    client._server_info = answer.initialize
  end
  client.options.cwd = answer.cwd or fields.cwd
  local info = {
    session_id = answer.session_id,
    cwd = answer.cwd or fields.cwd,
    parked_ms = answer.parked_ms,
    sdk_mcp_settled = answer.sdk_mcp_settled,
    not_applied = {},
  }
  local function apply(name, f, ...)
    local done, e = pcall(f, client, ...)
    if not done then
      info.not_applied[#info.not_applied + 1] = { option = name, error = e }
    end
  end
  if opts.model ~= nil then
    apply("model", client.set_model, opts.model)
    client.options.model = opts.model
  end
  if opts.max_thinking_tokens ~= nil then
    apply("max_thinking_tokens", client.set_max_thinking_tokens, opts.max_thinking_tokens)
  end
  if after then
    apply("settings", client._control, "apply_flag_settings", { settings = after })
  end
  if #info.not_applied > 0 then
    local names = {}
    for _, n in ipairs(info.not_applied) do
      names[#names + 1] = n.option .. " (" .. tostring(n.error) .. ")"
    end
    warnings.warn(
      "OptionNotAppliedWarning",
      "the claimed session runs without " .. table.concat(names, ", ") .. ": the CLI refused it"
    )
  end
  client.claim = info
  self._client = nil
  return client, info
end

--- Discard a parked spare: its CLI exits and its parking folder goes.  After
--- a claim it does nothing (the client is the caller's).  Idempotent.
function Spare:close()
  check_spare(self, "close")
  local client = self._client
  if self._state == "claimed" or not client then
    return
  end
  self._state = "closed"
  self._client = nil
  client._abandon = true
  client:disconnect()
end

M.Spare = Spare
return M
