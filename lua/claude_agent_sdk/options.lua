--- Options: validation, and the CLI's argv and environment (PROTOCOL.md §1).
--
-- Policy lives here, in Lua; the C core spawns exactly the argv it is given.
-- Every check runs before anything is spawned, so a typo in an option key or
-- a bad value is an InvalidOptionError that names it, never a confusing CLI
-- failure.  Valued flags that carry user data use `--flag=value` when the
-- value starts with "-", so a value can never be read as another flag.
--
--   local opts = options.validate({ model = "claude-sonnet-4-5" })
--   local argv = options.argv(opts, "/path/to/claude")

local errors = require("claude_agent_sdk.errors")
local json = require("claude_agent_sdk.json")
local core = require("claude_agent_sdk.core")
local hooks_mod = require("claude_agent_sdk.hooks")
local mcp = require("claude_agent_sdk.mcp")
local check = require("claude_agent_sdk.check")

local M = {}

M.VERSION = "0.1.0"
M.DEFAULT_MAX_BUFFER_SIZE = 64 * 1024 * 1024
--- CLAUDE_CODE_ENTRYPOINT for the CLI: the Python SDK's (see env below).
M.ENTRYPOINT = "sdk-py"

M.PERMISSION_MODES = {
  default = true,
  acceptEdits = true,
  plan = true,
  bypassPermissions = true,
  dontAsk = true,
  auto = true,
}
local EFFORTS = { low = true, medium = true, high = true, xhigh = true, max = true }

local function bad(key, msg)
  errors.raise("InvalidOptionError", ("invalid option %s: %s"):format(key, msg), { option = key })
end

-- Strings end up in the CLI's argv or environment, where the OS would cut
-- one at a NUL byte (cwd = "/usr\0/x" ran the CLI in /usr): refused.
local function has_nul(s)
  return s:find("\0", 1, true) ~= nil
end

local function is_list_of_strings(v)
  if type(v) ~= "table" then
    return false
  end
  local n = 0
  for k, s in pairs(v) do
    n = n + 1
    if type(k) ~= "number" or type(s) ~= "string" or has_nul(s) then
      return false
    end
  end
  return n == #v
end

-- Checkers: each takes (key, value) and raises on a bad value.
local function string_(key, v)
  if type(v) ~= "string" then
    bad(key, ("expected a string, got %s"):format(check.describe(v)))
  end
  if has_nul(v) then
    bad(key, "contains a NUL byte (the OS would cut the string there)")
  end
end
local function boolean_(key, v)
  if type(v) ~= "boolean" then
    bad(key, ("expected a boolean, got %s"):format(check.describe(v)))
  end
end
local function function_(key, v)
  if type(v) ~= "function" then
    bad(key, "expected a function, got " .. type(v))
  end
end
local function finite(v)
  return type(v) == "number" and v == v and v ~= math.huge and v ~= -math.huge
end
local function positive_int(key, v)
  if not finite(v) or v < 1 or v ~= math.floor(v) then
    bad(key, "expected a positive integer, got " .. check.describe(v))
  end
end
local function non_negative(key, v)
  if not finite(v) or v < 0 then
    bad(key, "expected a non-negative finite number, got " .. check.describe(v))
  end
end
local function string_list(key, v)
  if not is_list_of_strings(v) then
    bad(key, "expected a list of strings (without NUL bytes)")
  end
end
local function string_map(key, v)
  if type(v) ~= "table" then
    bad(key, "expected a table of NAME = value")
  end
  for k, s in pairs(v) do
    if type(k) ~= "string" or k == "" or k:find("=", 1, true) then
      bad(key, "bad variable name " .. tostring(k))
    end
    if type(s) ~= "string" and s ~= false then
      bad(key, ("%s must be a string (or false to unset)"):format(k))
    end
    if has_nul(k) or (s and has_nul(s)) then
      bad(key, k:gsub("%z", "\\0") .. " contains a NUL byte")
    end
  end
end
local function table_(key, v)
  if type(v) ~= "table" then
    bad(key, "expected a table")
  end
end

local function system_prompt_check(key, v)
  if type(v) == "string" then
    return string_(key, v)
  end
  if
    type(v) == "table"
    and v.type == "preset"
    and v.preset == "claude_code"
    and (v.append == nil or type(v.append) == "string")
  then
    return v.append and string_(key .. ".append", v.append)
  end
  if type(v) == "table" and v.type == "file" and type(v.path) == "string" then
    return string_(key .. ".path", v.path)
  end
  bad(key, 'expected a string, {type="preset", preset="claude_code", append=?} or {type="file", path=}')
end

local function tools_check(key, v)
  if is_list_of_strings(v) then
    return
  end
  if type(v) == "table" and v.type == "preset" and v.preset == "claude_code" then
    return
  end
  bad(key, 'expected a list of tool names or {type="preset", preset="claude_code"}')
end

local function permission_mode_check(key, v)
  if type(v) ~= "string" or not M.PERMISSION_MODES[v] then
    bad(
      key,
      ("unknown permission mode %q (one of default, acceptEdits, plan, bypassPermissions, dontAsk, auto)"):format(
        tostring(v)
      )
    )
  end
end

local function thinking_check(key, v)
  if type(v) ~= "table" then
    bad(key, "expected a table")
  end
  if v.display ~= nil and v.display ~= "summarized" and v.display ~= "omitted" then
    bad(key .. ".display", 'expected "summarized" or "omitted"')
  end
  if v.type == "adaptive" or v.type == "disabled" then
    return
  end
  if v.type == "enabled" then
    positive_int(key .. ".budget_tokens", v.budget_tokens)
    return
  end
  bad(key, 'type must be "adaptive", "enabled" or "disabled"')
end

local function effort_check(key, v)
  if not EFFORTS[v] then
    bad(key, "expected one of low, medium, high, xhigh, max")
  end
end

local function output_format_check(key, v)
  if type(v) ~= "table" or v.type ~= "json_schema" or type(v.schema) ~= "table" then
    bad(key, 'expected {type="json_schema", schema={...}}')
  end
end

-- Flags that make the CLI print something and exit instead of running a
-- session: the handshake could only fail, with a puzzling exit code 0.
local NOT_A_SESSION = { help = "--help", h = "-h", version = "--version", v = "-v" }

local function extra_args_check(key, v)
  if type(v) ~= "table" then
    bad(key, "expected a table of flag = value")
  end
  for flag, val in pairs(v) do
    if type(flag) ~= "string" or not flag:match("^[%w][%w%-_]*$") then
      bad(key, "bad flag name " .. tostring(flag) .. " (give it without leading dashes)")
    end
    if val ~= true and val ~= false and type(val) ~= "string" and val ~= json.null then
      bad(key, flag .. " must be true (a bare flag), false (omitted) or a string value")
    end
    if type(val) == "string" and has_nul(val) then
      bad(key, flag .. " contains a NUL byte")
    end
    if NOT_A_SESSION[flag] and val ~= false then
      bad(
        key,
        NOT_A_SESSION[flag]
          .. " makes Claude Code print and exit without a session; run `claude "
          .. NOT_A_SESSION[flag]
          .. "` yourself instead"
      )
    end
  end
end

-- One MCP server's config (PROTOCOL.md §6.5): checked here, so a config
-- of the wrong shape is an InvalidOptionError naming the server, not a CLI
-- that silently leaves the server out.
local MCP_TYPES = "stdio, sse, http, sdk (claude.create_sdk_mcp_server) or claudeai-proxy"
local function mcp_server_check(key, cfg)
  if type(cfg) ~= "table" then
    bad(key, "expected a server config table")
  end
  if mcp.is_sdk_server(cfg) then
    return
  end
  local t = cfg.type
  if t == nil or t == "stdio" then
    string_(key .. ".command", cfg.command)
    if cfg.args ~= nil then
      string_list(key .. ".args", cfg.args)
    end
    if cfg.env ~= nil then
      string_map(key .. ".env", cfg.env)
    end
  elseif t == "sse" or t == "http" then
    string_(key .. ".url", cfg.url)
    if cfg.headers ~= nil then
      string_map(key .. ".headers", cfg.headers)
    end
  elseif t == "claudeai-proxy" then
    string_(key .. ".url", cfg.url)
  elseif t == "sdk" then
    bad(key, "an in-process server must be made with claude.create_sdk_mcp_server")
  else
    bad(key .. ".type", ("unknown server type %s (one of %s)"):format(check.describe(t), MCP_TYPES))
  end
end

local function mcp_servers_check(key, v)
  if type(v) == "string" then
    return string_(key, v)
  end
  if type(v) ~= "table" then
    bad(key, "expected a table of name = config, or a path/JSON string")
  end
  for name, cfg in pairs(v) do
    if type(name) ~= "string" or name == "" then
      bad(key, "expected name = config, with string names")
    end
    mcp_server_check(key .. "." .. name, cfg)
  end
end

local function plugins_check(key, v)
  if type(v) ~= "table" then
    bad(key, "expected a list")
  end
  for _, p in ipairs(v) do
    if type(p) ~= "table" or p.type ~= "local" or type(p.path) ~= "string" then
      bad(key, 'each plugin must be {type="local", path=...}')
    end
    string_(key .. ".path", p.path)
  end
end

--- A permission mode (set_permission_mode and the permission_mode option).
---@alias PermissionMode "default"|"acceptEdits"|"plan"|"bypassPermissions"|"dontAsk"|"auto"

--- Claude Code's own system prompt, optionally with text appended; or a system prompt read from a file.
---@alias SystemPromptPreset {type: "preset", preset: "claude_code", append: string|nil}
---@alias SystemPromptFile {type: "file", path: string}

--- Extended thinking: budget_tokens for "enabled".
---@alias ThinkingConfig {type: "adaptive"|"enabled"|"disabled", budget_tokens: integer|nil, display: string|nil}

--- The tool permission callback: allow or deny one tool use (a plain table with `behavior` works too).
---@alias CanUseTool fun(tool_name: string, input: table, context: ToolPermissionContext): PermissionResult|table

--- The options of ClaudeSDKClient.new, claude.query and claude.with_client: the Python SDK's
--- ClaudeAgentOptions as a plain table (DESIGN.md §3.1).  Every field is optional; an unknown key or a bad
--- value raises InvalidOptionError before anything is spawned.  spec/types_spec.lua checks that the fields
--- here are exactly the keys of CHECKS below.
---   local opts = { model = "claude-sonnet-4-5", max_turns = 3, allowed_tools = { "Read" } }
---@class ClaudeAgentOptions
---@field system_prompt string|SystemPromptPreset|SystemPromptFile|nil  nil: an empty system prompt
---@field model string|nil
---@field fallback_model string|nil  must differ from model
---@field permission_mode PermissionMode|nil
---@field permission_prompt_tool_name string|nil  an MCP tool that answers permission prompts (not with can_use_tool)
---@field allowed_tools string[]|nil  e.g. { "Read", "Bash(git:*)" }
---@field disallowed_tools string[]|nil
---@field tools string[]|{type: "preset", preset: "claude_code"}|nil  the base set of tools
---@field max_turns integer|nil
---@field max_budget_usd number|nil
---@field cwd string|nil  the CLI's working directory
---@field cli_path string|nil  the `claude` executable (default: $CLAUDE_CLI_PATH, $PATH, the usual places)
---@field env table<string, string|false>|nil  added to the environment; false unsets a variable
---@field extra_args table<string, string|boolean|lightuserdata>|nil  flag = true / claude.null (bare), "value", false
---@field add_dirs string[]|nil
---@field settings string|table|nil  a settings file's path, JSON text, or a table
---@field setting_sources string[]|nil  of "user", "project", "local"
---@field mcp_servers table<string, SdkMcpServer|table>|string|nil  name = config, or a path / JSON text
---@field strict_mcp_config boolean|nil
---@field include_partial_messages boolean|nil  also yield StreamEvent messages
---@field include_hook_events boolean|nil  also yield hook_* system messages
---@field continue_conversation boolean|nil  continue the most recent session
---@field resume string|nil  a session id to resume
---@field session_id string|nil  the id for a new session
---@field fork_session boolean|nil  with resume: continue in a new session
---@field enable_file_checkpointing boolean|nil  needed by client:rewind_files
---@field betas string[]|nil
---@field thinking ThinkingConfig|nil  display: "summarized" or "omitted"
---@field max_thinking_tokens integer|nil  older form of thinking = { type = "enabled", budget_tokens = n }
---@field effort "low"|"medium"|"high"|"xhigh"|"max"|nil
---@field output_format {type: "json_schema", schema: table}|nil  ResultMessage.structured_output then holds the JSON
---@field plugins {type: "local", path: string}[]|nil
---@field agents table<string, table>|nil  name = { description, prompt, tools?, model? }
---@field max_buffer_size integer|nil  longest line from the CLI in bytes (default 64 MiB)
---@field stderr fun(line: string)|nil  each line the CLI writes to stderr
---@field on_message fun(msg: AnyMessage)|nil  host-loop mode: client:pump() hands each message to it
---@field control_timeout number|nil  seconds a control request may wait (default 60)
---@field initialize_timeout number|nil  seconds the initialize handshake may wait (default 60)
---@field can_use_tool CanUseTool|nil
---@field hooks table<string, HookMatcher[]>|nil  event name ("PreToolUse", ...) = matchers
---@field user string|nil  run the CLI as this OS user (needs the privilege to switch)
---@field resume_session_at string|nil  with resume: the message uuid to resume from
---@field resume_drops_turn string|nil
---@field forward_subagent_text boolean|nil
---@field task_budget {total: integer}|nil  tokens
---@field skills string[]|"all"|nil  the skills to enable (adds Skill to allowed_tools)
---@field debug_stderr file*|nil  also copy the CLI's stderr lines here (anything with :write)
---@field session_store SessionStore|nil  mirror the transcript into this store; resume/continue read from it
---@field session_store_flush "batched"|"eager"|nil  when mirrored entries are appended (default "batched": at each result)
---@field sandbox table|nil  merged into settings as { sandbox = ... }

--- Every option key and its checker; a key not here is an error.
local CHECKS = {
  system_prompt = system_prompt_check,
  model = string_,
  fallback_model = string_,
  permission_mode = permission_mode_check,
  permission_prompt_tool_name = string_,
  allowed_tools = string_list,
  disallowed_tools = string_list,
  tools = tools_check,
  max_turns = positive_int,
  max_budget_usd = non_negative,
  cwd = string_,
  cli_path = string_,
  env = string_map,
  extra_args = extra_args_check,
  add_dirs = string_list,
  settings = function(key, v)
    if type(v) ~= "string" and type(v) ~= "table" then
      bad(key, "expected a path, JSON text or a table")
    end
    if type(v) == "string" then
      string_(key, v)
    end
  end,
  setting_sources = string_list,
  mcp_servers = mcp_servers_check,
  strict_mcp_config = boolean_,
  include_partial_messages = boolean_,
  include_hook_events = boolean_,
  continue_conversation = boolean_,
  resume = string_,
  session_id = string_,
  fork_session = boolean_,
  enable_file_checkpointing = boolean_,
  betas = string_list,
  thinking = thinking_check,
  max_thinking_tokens = positive_int,
  effort = effort_check,
  output_format = output_format_check,
  plugins = plugins_check,
  agents = table_,
  max_buffer_size = positive_int,
  stderr = function_,
  on_message = function_, -- host-loop mode: pump() hands each message to it
  control_timeout = non_negative, -- seconds a control request may wait (default 60)
  initialize_timeout = non_negative, -- seconds the initialize handshake may wait (default 60)
  can_use_tool = function_,
  hooks = function(_, v)
    hooks_mod.validate(v)
  end,
  user = string_, -- run the CLI as this OS user (needs the privilege to switch)
  resume_session_at = string_,
  resume_drops_turn = string_,
  forward_subagent_text = boolean_,
  task_budget = function(key, v)
    if type(v) ~= "table" then
      bad(key, "expected { total = tokens }")
    end
    positive_int(key .. ".total", v.total)
  end,
  skills = function(key, v)
    if v == "all" then
      return
    end
    if not is_list_of_strings(v) then
      bad(key, 'expected a list of skill names or "all"')
    end
    for _, name in ipairs(v) do
      if name == "*" then
        bad(key, 'use skills = "all" to enable every skill')
      end
    end
  end,
  debug_stderr = function(key, v)
    local ok = (type(v) == "userdata" or type(v) == "table") and pcall(function()
      return v.write
    end)
    if not ok or not v.write then
      bad(key, "expected a file handle (something with :write)")
    end
  end,
  session_store = function(key, v)
    require("claude_agent_sdk.session_store").validate("options", key, v)
  end,
  session_store_flush = function(key, v)
    if v ~= "batched" and v ~= "eager" then
      bad(key, ('expected "batched" or "eager", got %s'):format(check.describe(v)))
    end
  end,
  sandbox = table_, -- merged into settings as { sandbox = ... }
}
M.KNOWN = CHECKS

-- Options whose value is sent to the CLI as JSON (argv or initialize): a
-- value JSON cannot carry exactly is refused with the path to it.  (An
-- in-process MCP server holds functions: only its name is sent.)
local SENT_AS_JSON = { "agents", "settings", "sandbox", "output_format", "task_budget", "thinking" }

local function check_json(o)
  for _, key in ipairs(SENT_AS_JSON) do
    if type(o[key]) == "table" then
      check.jsonable("options", key, o[key])
    end
  end
  if type(o.mcp_servers) == "table" then
    for name, cfg in pairs(o.mcp_servers) do
      if not mcp.is_sdk_server(cfg) then
        check.jsonable("options", "mcp_servers." .. name, cfg)
      end
    end
  end
end

--- Check one option's value as validate does (spare claims reuse the rules).
---@param key string
---@param v any
function M.check(key, v)
  CHECKS[key](key, v)
end

--- Check an options table; returns a shallow copy with defaults filled in.
---@param opts table|nil
---@return table
function M.validate(opts)
  if opts == nil then
    opts = {}
  end
  if type(opts) ~= "table" then
    errors.raise("InvalidOptionError", "options must be a table, got " .. type(opts))
  end
  local out = {}
  for k, v in pairs(opts) do
    local checker = CHECKS[k]
    if type(k) ~= "string" or not checker then
      errors.raise("InvalidOptionError", ("unknown option %q"):format(tostring(k)), { option = k })
    end
    checker(k, v)
    out[k] = v
  end
  if out.can_use_tool and out.permission_prompt_tool_name then
    bad("can_use_tool", "cannot be used with permission_prompt_tool_name (the callback needs the stdio prompt tool)")
  end
  if out.model and out.fallback_model and out.model == out.fallback_model then
    bad("fallback_model", "must differ from model")
  end
  if out.session_store then
    local store_mod = require("claude_agent_sdk.session_store")
    if out.enable_file_checkpointing then
      bad(
        "session_store",
        "cannot be combined with enable_file_checkpointing (checkpoints are local-disk only "
          .. "and would diverge from the mirrored transcript)"
      )
    end
    if
      out.continue_conversation
      and out.resume == nil
      and not store_mod.implements(out.session_store, "list_sessions")
    then
      bad("session_store", "continue_conversation with a session store needs the store's list_sessions method")
    end
    if out.resume ~= nil then
      -- the id becomes a file name in the resumed config directory
      require("claude_agent_sdk.sessions").check_session_id("options", "resume", out.resume)
    end
  end
  check_json(out)
  out.max_buffer_size = out.max_buffer_size or M.DEFAULT_MAX_BUFFER_SIZE
  return out
end

-- "--flag value", or one token "--flag=value" when value starts with "-".
local function add_valued(argv, flag, value)
  value = tostring(value)
  if value:sub(1, 1) == "-" then
    argv[#argv + 1] = flag .. "=" .. value
  else
    argv[#argv + 1] = flag
    argv[#argv + 1] = value
  end
end

local function number_text(n)
  if n == math.floor(n) and math.abs(n) < 2 ^ 53 then
    return ("%d"):format(n)
  end
  return ("%.17g"):format(n)
end

--- allowed_tools plus the Skill entries that `skills` implies.
---@param o table
---@return string[]
function M.effective_allowed_tools(o)
  local list = {}
  for _, t in ipairs(o.allowed_tools or {}) do
    list[#list + 1] = t
  end
  if o.skills == "all" then
    list[#list + 1] = "Skill"
  elseif type(o.skills) == "table" then
    for _, name in ipairs(o.skills) do
      list[#list + 1] = "Skill(" .. name .. ")"
    end
  end
  return list
end

--- The --settings value: the settings as given (a path or JSON text), or,
--- when `sandbox` is set, the settings loaded and merged with
--- { sandbox = ... } and sent as JSON text.
---@param o table
---@return string|nil
function M.settings_value(o)
  local s = o.settings
  if o.sandbox == nil then
    if type(s) == "table" then
      return json.encode(s)
    end
    return s
  end
  local base = {}
  if type(s) == "table" then
    base = s
  elseif type(s) == "string" then
    local text = s
    if not s:match("^%s*{") then
      local f = io.open(s, "r")
      if not f then
        bad("settings", "cannot read the settings file " .. s)
      end
      text = f:read("*a")
      f:close()
    end
    local ok, v = pcall(json.decode, text)
    if not ok or type(v) ~= "table" then
      bad("settings", "settings are not a JSON object")
    end
    base = v
  end
  local merged = {}
  for k, v in pairs(base) do
    merged[k] = v
  end
  merged.sandbox = o.sandbox
  return json.encode(merged)
end

--- What the CLI about to be started can do, by its version (cli.lua):
--- `await_initialize` (2.1.326 on) lets MCP server configs travel in the
--- initialize request instead of argv, where `ps` shows them to everyone.
---@class ClaudeCliFeatures
---@field await_initialize boolean|nil
---@field await_claim boolean|nil

--- The argv for the CLI at `cli`, in the Python SDK's order (PROTOCOL.md §1.4).
---@param o table  validated options
---@param cli string  path of the executable
---@param features ClaudeCliFeatures|nil
---@return string[]
function M.argv(o, cli, features)
  features = features or {}
  local a = { cli, "--output-format", "stream-json", "--verbose" }
  local sp = o.system_prompt
  if sp == nil then
    a[#a + 1] = "--system-prompt"
    a[#a + 1] = ""
  elseif type(sp) == "string" then
    add_valued(a, "--system-prompt", sp)
  elseif sp.type == "file" then
    add_valued(a, "--system-prompt-file", sp.path)
  elseif sp.append then
    add_valued(a, "--append-system-prompt", sp.append)
  end
  if o.tools ~= nil then
    if o.tools.type == "preset" then
      add_valued(a, "--tools", "default")
    else
      a[#a + 1] = "--tools"
      a[#a + 1] = table.concat(o.tools, ",")
    end
  end
  local allowed = M.effective_allowed_tools(o)
  if #allowed > 0 then
    add_valued(a, "--allowedTools", table.concat(allowed, ","))
  end
  if o.max_turns then
    add_valued(a, "--max-turns", number_text(o.max_turns))
  end
  if o.max_budget_usd then
    add_valued(a, "--max-budget-usd", number_text(o.max_budget_usd))
  end
  if o.disallowed_tools and #o.disallowed_tools > 0 then
    add_valued(a, "--disallowedTools", table.concat(o.disallowed_tools, ","))
  end
  if o.task_budget then
    add_valued(a, "--task-budget", number_text(o.task_budget.total))
  end
  if o.model then
    add_valued(a, "--model", o.model)
  end
  if o.fallback_model then
    add_valued(a, "--fallback-model", o.fallback_model)
  end
  if o.betas and #o.betas > 0 then
    add_valued(a, "--betas", table.concat(o.betas, ","))
  end
  if o.can_use_tool then
    a[#a + 1] = "--permission-prompt-tool"
    a[#a + 1] = "stdio"
  elseif o.permission_prompt_tool_name then
    add_valued(a, "--permission-prompt-tool", o.permission_prompt_tool_name)
  end
  if o.permission_mode then
    add_valued(a, "--permission-mode", o.permission_mode)
  end
  if o.continue_conversation then
    a[#a + 1] = "--continue"
  end
  if o.resume then
    a[#a + 1] = "--resume=" .. o.resume
  end
  if o.session_id then
    a[#a + 1] = "--session-id=" .. o.session_id
  end
  local settings = M.settings_value(o)
  if settings ~= nil then
    add_valued(a, "--settings", settings)
  end
  for _, dir in ipairs(o.add_dirs or {}) do
    add_valued(a, "--add-dir", dir)
  end
  if o.mcp_servers ~= nil then
    if type(o.mcp_servers) == "string" then
      add_valued(a, "--mcp-config", o.mcp_servers)
    elseif next(o.mcp_servers) ~= nil then
      -- in-process servers go by name only; their tools stay in this process.
      -- The others go in initialize when the CLI waits for it (their env and
      -- headers hold tokens): see initialize_fields.
      local wire = {}
      for name, cfg in pairs(o.mcp_servers) do
        if mcp.is_sdk_server(cfg) then
          wire[name] = { type = "sdk", name = name }
        elseif not features.await_initialize then
          wire[name] = cfg
        end
      end
      if next(wire) ~= nil then
        add_valued(a, "--mcp-config", json.encode({ mcpServers = wire }))
      end
    end
  end
  if features.await_initialize then
    a[#a + 1] = "--await-initialize"
  end
  if o.include_partial_messages then
    a[#a + 1] = "--include-partial-messages"
  end
  if o.session_store then
    -- the CLI then writes transcript_mirror frames (mirror.lua)
    a[#a + 1] = "--session-mirror"
  end
  if o.include_hook_events then
    a[#a + 1] = "--include-hook-events"
  end
  if o.strict_mcp_config then
    a[#a + 1] = "--strict-mcp-config"
  end
  if o.fork_session then
    a[#a + 1] = "--fork-session"
  end
  if o.resume_session_at then
    a[#a + 1] = "--resume-session-at=" .. o.resume_session_at
  end
  if o.resume_drops_turn then
    a[#a + 1] = "--resume-drops-turn=" .. o.resume_drops_turn
  end
  local sources = o.setting_sources
  if sources == nil and o.skills ~= nil then
    sources = { "user", "project" }
  end -- so skills are found
  if sources ~= nil then
    a[#a + 1] = "--setting-sources=" .. table.concat(sources, ",")
  end
  for _, p in ipairs(o.plugins or {}) do
    add_valued(a, "--plugin-dir", p.path)
  end
  if o.extra_args then
    local flags = {}
    for flag in pairs(o.extra_args) do
      flags[#flags + 1] = flag
    end
    table.sort(flags) -- a stable argv is easier to read and to test
    for _, flag in ipairs(flags) do
      local v = o.extra_args[flag]
      if v == true or v == json.null then
        a[#a + 1] = "--" .. flag
      elseif type(v) == "string" then
        add_valued(a, "--" .. flag, v)
      end
    end
  end
  local th = o.thinking
  if th then
    if th.type == "adaptive" then
      add_valued(a, "--thinking", "adaptive")
    elseif th.type == "disabled" then
      add_valued(a, "--thinking", "disabled")
    else
      add_valued(a, "--max-thinking-tokens", number_text(th.budget_tokens))
    end
    if th.display and th.type ~= "disabled" then
      add_valued(a, "--thinking-display", th.display)
    end
  elseif o.max_thinking_tokens then
    add_valued(a, "--max-thinking-tokens", number_text(o.max_thinking_tokens))
  end
  if o.effort then
    add_valued(a, "--effort", o.effort)
  end
  if o.output_format then
    add_valued(a, "--json-schema", json.encode(o.output_format.schema))
  end
  a[#a + 1] = "--input-format"
  a[#a + 1] = "stream-json"
  return a
end

--- The child's whole environment as a list of "NAME=value" (PROTOCOL.md §1.6).
---@param o table  validated options
---@param base table|nil  NAME = value to start from (default: this process's environment)
---@return string[]
function M.env(o, base)
  local env = {}
  for k, v in pairs(base or core.environ()) do
    env[k] = v
  end
  env.CLAUDECODE = nil -- the child must not think it runs nested inside Claude Code
  -- The CLI takes its SDK path only for the entrypoints of the official SDKs
  -- (sdk-ts, sdk-py, sdk-cli); any other value gets the interactive one: an
  -- extra agent in system/init and more context tokens on every request
  -- (measured on 2.1.332).  This SDK mirrors the Python one, so it says
  -- sdk-py and gets the same session the Python SDK gets;
  -- CLAUDE_AGENT_SDK_VERSION below still names this SDK's version.  A user
  -- may set another value through options.env.
  env.CLAUDE_CODE_ENTRYPOINT = M.ENTRYPOINT
  -- Newer CLIs (2.1.332) then report a failed start-up as a result frame
  -- with startup_failure_reason (e.g. bypass_root) instead of only stderr;
  -- older ones ignore it and keep to stderr, whose tail the error carries.
  env.CLAUDE_CODE_STARTUP_FAILURE_RESULTS = "1"
  for k, v in pairs(o.env or {}) do
    if v == false then
      env[k] = nil
    else
      env[k] = v
    end
  end
  env.CLAUDE_AGENT_SDK_VERSION = M.VERSION
  if o.enable_file_checkpointing then
    env.CLAUDE_CODE_ENABLE_SDK_FILE_CHECKPOINTING = "true"
  end
  if o.cwd then
    env.PWD = o.cwd
  end
  local list = {}
  for k, v in pairs(env) do
    list[#list + 1] = k .. "=" .. v
  end
  table.sort(list)
  return list
end

--- The fields the initialize request carries for these options, and the
--- hook callbacks by id.
---@param o table
---@param features ClaudeCliFeatures|nil  as for argv
---@return table fields
---@return table callbacks  hook id -> function
function M.initialize_fields(o, features)
  local wire, callbacks = hooks_mod.register(o.hooks)
  local f = { hooks = wire }
  if features and features.await_initialize and type(o.mcp_servers) == "table" then
    local servers = {}
    for name, cfg in pairs(o.mcp_servers) do
      if not mcp.is_sdk_server(cfg) then
        servers[name] = cfg
      end
    end
    if next(servers) ~= nil then
      f.mcpServers = servers
    end
  end
  if o.agents and next(o.agents) then
    f.agents = o.agents
  end
  if type(o.skills) == "table" then
    f.skills = json.array(o.skills)
  end
  if o.forward_subagent_text then
    f.forwardSubagentText = true
  end
  return f, callbacks
end

--- The in-process MCP servers of the options, by name.
---@param o ClaudeAgentOptions
---@return table<string, SdkMcpServer>
function M.sdk_servers(o)
  local list = {}
  if type(o.mcp_servers) == "table" then
    for name, cfg in pairs(o.mcp_servers) do
      if mcp.is_sdk_server(cfg) then
        list[name] = cfg
      end
    end
  end
  return list
end

--- True when the CLI may ask this process something (so stdin must stay open).
---@param o ClaudeAgentOptions
---@return boolean
function M.has_callbacks(o)
  return o.can_use_tool ~= nil or (o.hooks ~= nil and next(o.hooks) ~= nil) or next(M.sdk_servers(o)) ~= nil
end

return M
