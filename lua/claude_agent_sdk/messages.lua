--- Messages and content blocks as Lua tables (DESIGN.md §4).
--
-- `parse(frame)` turns a decoded stdout frame into a typed message: a table
-- whose fields follow the Python SDK's dataclasses and whose metatable is its
-- class, so `tostring(msg)` is readable and `isinstance(msg, ResultMessage)`
-- works.  `msg.type` is the everyday check.  JSON null is absent (nil) in
-- typed fields and stays `null` inside raw data (tool inputs, `data`,
-- `event`).  Unknown types, subtypes and blocks pass through with their raw
-- fields, never an error.
--
-- Typed `system` subtypes (PROTOCOL.md §4.7: task_*, hook_*, status,
-- informational, thinking_tokens, commands_changed, session_state_changed,
-- compact_boundary, api_retry, local_command_output, permission_denied,
-- background_tasks_changed) are SystemMessage subclasses with the frame's
-- non-null fields copied to the top level and the raw frame in `data`.  The
-- other top-level types of §4.8 (rate_limit_event, conversation_reset,
-- tool_progress, tool_use_summary, auth_status, prompt_suggestion) are
-- Message subclasses with the frame's non-null fields; where the wire uses
-- camelCase the Python SDK's snake_case name is added (is_authenticating,
-- rate_limit_info.resets_at, ...).
--
--   local m = messages.parse(frame)
--   if m.type == "assistant" then for _, b in ipairs(m.content) do ... end end

local json = require("claude_agent_sdk.json")
local errors = require("claude_agent_sdk.errors")

local null = json.null
local M = {}

-- repr: a short readable rendering of a value, for __tostring.
local repr
local function repr_table(t, depth)
  if depth > 3 then
    return "{...}"
  end
  local parts, n = {}, 0
  local len = #t
  for i = 1, len do
    n = n + 1
    if n > 8 then
      parts[#parts + 1] = "..."
      break
    end
    parts[#parts + 1] = repr(t[i], depth + 1)
  end
  local keys = {}
  for k in pairs(t) do
    if not (type(k) == "number" and k >= 1 and k <= len and k == math.floor(k)) then
      keys[#keys + 1] = k
    end
  end
  table.sort(keys, function(a, b)
    return tostring(a) < tostring(b)
  end)
  for _, k in ipairs(keys) do
    n = n + 1
    if n > 12 then
      parts[#parts + 1] = "..."
      break
    end
    parts[#parts + 1] = tostring(k) .. "=" .. repr(t[k], depth + 1)
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

repr = function(v, depth)
  depth = depth or 0
  if v == null then
    return "null"
  end
  local t = type(v)
  if t == "string" then
    if #v > 80 then
      v = v:sub(1, 77) .. "..."
    end
    local q = ("%q"):format(v):gsub("\\\n", "\\n")
    return q
  elseif t == "table" then
    local mt = getmetatable(v)
    if mt and mt.__class_name then
      return tostring(v)
    end
    return repr_table(v, depth)
  end
  return tostring(v)
end
M.repr = repr

--- Classes: each is the metatable of its instances.
-- A new class, field or parent here also goes into the LuaCATS shapes in
-- types.lua (and init.lua's ClaudeAgentSDK): spec/types_spec.lua checks both.
local classes = {}
M.classes = classes

local function class(name, parent, fields)
  local cls = { __class_name = name, __parent = parent, __fields = fields }
  cls.__index = cls
  cls.__name = name
  cls.__tostring = function(obj)
    local parts = {}
    for _, f in ipairs(fields) do
      local v = rawget(obj, f)
      if v ~= nil then
        parts[#parts + 1] = f .. "=" .. repr(v, 1)
      end
    end
    return name .. "(" .. table.concat(parts, ", ") .. ")"
  end
  classes[name] = cls
  return cls
end

M.TextBlock = class("TextBlock", nil, { "text" })
M.ThinkingBlock = class("ThinkingBlock", nil, { "thinking", "signature" })
M.ToolUseBlock = class("ToolUseBlock", nil, { "id", "name", "input" })
M.ToolResultBlock = class("ToolResultBlock", nil, { "tool_use_id", "content", "is_error" })
-- The Python SDK's blocks of server-side tools (web search, the advisor, ...)
M.ServerToolUseBlock = class("ServerToolUseBlock", nil, { "id", "name", "input" })
M.ServerToolResultBlock = class("ServerToolResultBlock", nil, { "tool_use_id", "content" })
M.ContentBlock = class("ContentBlock", nil, { "type" }) -- unknown block types, raw fields

M.UserMessage = class("UserMessage", nil, { "content", "uuid", "parent_tool_use_id", "tool_use_result", "session_id" })
M.AssistantMessage = class(
  "AssistantMessage",
  nil,
  { "model", "content", "parent_tool_use_id", "error", "stop_reason", "message_id", "usage", "session_id", "uuid" }
)
M.SystemMessage = class("SystemMessage", nil, { "subtype", "data" })
M.TaskStartedMessage = class(
  "TaskStartedMessage",
  M.SystemMessage,
  { "subtype", "task_id", "description", "task_type", "tool_use_id", "session_id", "uuid" }
)
M.TaskProgressMessage = class(
  "TaskProgressMessage",
  M.SystemMessage,
  { "subtype", "task_id", "description", "usage", "last_tool_name", "tool_use_id", "session_id", "uuid" }
)
M.TaskNotificationMessage = class(
  "TaskNotificationMessage",
  M.SystemMessage,
  { "subtype", "task_id", "status", "summary", "output_file", "usage", "tool_use_id", "session_id", "uuid" }
)
M.TaskUpdatedMessage =
  class("TaskUpdatedMessage", M.SystemMessage, { "subtype", "task_id", "status", "patch", "session_id", "uuid" })
-- hook_started / hook_response / hook_progress: HookEventMessage as in the
-- Python SDK (hook_event_name), with one subclass per subtype as in the TS SDK.
M.HookEventMessage = class(
  "HookEventMessage",
  M.SystemMessage,
  { "subtype", "hook_event_name", "hook_id", "hook_name", "session_id", "uuid" }
)
M.HookStartedMessage = class(
  "HookStartedMessage",
  M.HookEventMessage,
  { "subtype", "hook_event_name", "hook_id", "hook_name", "session_id", "uuid" }
)
M.HookResponseMessage = class("HookResponseMessage", M.HookEventMessage, {
  "subtype",
  "hook_event_name",
  "hook_id",
  "hook_name",
  "outcome",
  "exit_code",
  "output",
  "stdout",
  "stderr",
  "session_id",
  "uuid",
})
M.HookProgressMessage = class(
  "HookProgressMessage",
  M.HookEventMessage,
  { "subtype", "hook_event_name", "hook_id", "hook_name", "output", "stdout", "stderr", "session_id", "uuid" }
)
M.StatusMessage = class(
  "StatusMessage",
  M.SystemMessage,
  { "subtype", "status", "permission_mode", "compact_result", "session_id", "uuid" }
)
M.InformationalMessage = class(
  "InformationalMessage",
  M.SystemMessage,
  { "subtype", "level", "content", "prevent_continuation", "tool_use_id", "session_id", "uuid" }
)
M.ThinkingTokensMessage = class(
  "ThinkingTokensMessage",
  M.SystemMessage,
  { "subtype", "estimated_tokens", "estimated_tokens_delta", "session_id", "uuid" }
)
M.CommandsChangedMessage =
  class("CommandsChangedMessage", M.SystemMessage, { "subtype", "commands", "session_id", "uuid" })
M.SessionStateChangedMessage =
  class("SessionStateChangedMessage", M.SystemMessage, { "subtype", "state", "session_id", "uuid" })
M.CompactBoundaryMessage =
  class("CompactBoundaryMessage", M.SystemMessage, { "subtype", "compact_metadata", "session_id", "uuid" })
M.APIRetryMessage = class(
  "APIRetryMessage",
  M.SystemMessage,
  { "subtype", "attempt", "max_retries", "retry_delay_ms", "error_status", "error", "session_id", "uuid" }
)
M.LocalCommandOutputMessage =
  class("LocalCommandOutputMessage", M.SystemMessage, { "subtype", "content", "session_id", "uuid" })
M.PermissionDeniedMessage = class(
  "PermissionDeniedMessage",
  M.SystemMessage,
  { "subtype", "tool_name", "tool_use_id", "message", "decision_reason_type", "agent_id", "session_id", "uuid" }
)
M.BackgroundTasksChangedMessage =
  class("BackgroundTasksChangedMessage", M.SystemMessage, { "subtype", "tasks", "session_id", "uuid" })
-- Made by the SDK, never sent by the CLI: a session store's append failed
-- (mirror.lua), as the Python SDK's MirrorErrorMessage.
M.MirrorErrorMessage = class(
  "MirrorErrorMessage",
  M.SystemMessage,
  { "subtype", "key", "error", "pending", "dropped", "session_id", "uuid" }
)
M.ResultMessage = class("ResultMessage", nil, {
  "subtype",
  "is_error",
  "result",
  "num_turns",
  "duration_ms",
  "duration_api_ms",
  "total_cost_usd",
  "stop_reason",
  "terminal_reason",
  "session_id",
  "usage",
  "structured_output",
  "errors",
})
M.StreamEvent = class("StreamEvent", nil, { "event", "session_id", "parent_tool_use_id", "uuid" })
M.Message = class("Message", nil, { "type" }) -- any other frame type, raw fields
-- Other top-level types (PROTOCOL.md §4.8): typed, and still Messages, as
-- when they were passed through raw.
M.RateLimitInfo = class("RateLimitInfo", nil, {
  "status",
  "resets_at",
  "rate_limit_type",
  "utilization",
  "overage_status",
  "overage_resets_at",
  "overage_disabled_reason",
  "is_using_overage",
})
M.RateLimitEvent = class("RateLimitEvent", M.Message, { "rate_limit_info", "session_id", "uuid" })
M.ConversationResetMessage =
  class("ConversationResetMessage", M.Message, { "new_conversation_id", "session_id", "uuid" })
M.ToolProgressMessage = class(
  "ToolProgressMessage",
  M.Message,
  { "tool_use_id", "tool_name", "parent_tool_use_id", "elapsed_time_seconds", "task_id", "session_id", "uuid" }
)
M.ToolUseSummaryMessage =
  class("ToolUseSummaryMessage", M.Message, { "summary", "preceding_tool_use_ids", "session_id", "uuid" })
M.AuthStatusMessage =
  class("AuthStatusMessage", M.Message, { "is_authenticating", "output", "error", "session_id", "uuid" })
M.PromptSuggestionMessage = class("PromptSuggestionMessage", M.Message, { "suggestion", "session_id", "uuid" })

-- Read back from the CLI's transcript files (sessions.lua), named like the
-- Python SDK's dataclasses.
M.SDKSessionInfo = class("SDKSessionInfo", nil, {
  "session_id",
  "summary",
  "last_modified",
  "file_size",
  "custom_title",
  "first_prompt",
  "git_branch",
  "cwd",
  "tag",
  "created_at",
})
M.SessionMessage = class("SessionMessage", nil, { "type", "uuid", "session_id", "message", "parent_tool_use_id" })

--- True when obj is an instance of cls or of a class derived from it.
---   isinstance(msg, claude.SystemMessage)  -- true for a TaskStartedMessage too
---@param obj any
---@param cls table
---@return boolean
function M.isinstance(obj, cls)
  if type(obj) ~= "table" then
    return false
  end
  local mt = getmetatable(obj)
  while mt do
    if mt == cls then
      return true
    end
    mt = rawget(mt, "__parent")
  end
  return false
end

local function nn(v)
  if v == null then
    return nil
  end
  return v
end

local block_classes = {
  text = M.TextBlock,
  thinking = M.ThinkingBlock,
  tool_use = M.ToolUseBlock,
  tool_result = M.ToolResultBlock,
  server_tool_use = M.ServerToolUseBlock,
  advisor_tool_result = M.ServerToolResultBlock,
}

-- The members of a content block whose null leaves them absent (nil) rather
-- than null: a typed field of the block (ToolResultBlock.is_error), where
-- Python has None.  The rest of a block is raw data and keeps its nulls.
local BLOCK_NULLS = { "is_error" }

-- Blocks already have the typed shape on the wire: give them their class in
-- place (no copy); the members listed in nulls (default BLOCK_NULLS) that are
-- null become nil.
local function parse_blocks(content, nulls)
  if type(content) ~= "table" then
    return nn(content)
  end
  nulls = nulls or BLOCK_NULLS
  for i = 1, #content do
    local b = content[i]
    if type(b) == "table" and getmetatable(b) == nil then
      local cls = block_classes[b.type] or M.ContentBlock
      for j = 1, #nulls do
        if b[nulls[j]] == null then
          b[nulls[j]] = nil
        end
      end
      setmetatable(b, cls)
    end
  end
  return content
end
M.parse_blocks = parse_blocks

-- The hot frames' typed messages, as data.  The C module builds these
-- messages straight from the line (core.message_shapes compiles this table,
-- csrc/lua_cas_typed.c walks it), and parse() below reads the same table for
-- frames that arrive any other way, so both paths give the same message.
-- Per frame type:
--   class   the message's class
--   fields  wire key -> field name, for the frame's own members
--   lift    a member whose object's members are fields too ...
--   lifted  ... named by this map (the frame is malformed without it)
--   blocks  the field whose array holds content blocks, typed in place
--   block_nulls  the members of those blocks that are dropped (nil) when null
--   array   a field that is an empty array when absent or null
-- A null value leaves its field absent (nil); other members are dropped.
M.shapes = {
  assistant = {
    class = M.AssistantMessage,
    fields = {
      parent_tool_use_id = "parent_tool_use_id",
      error = "error",
      session_id = "session_id",
      uuid = "uuid",
    },
    lift = "message",
    lifted = {
      id = "message_id",
      model = "model",
      content = "content",
      usage = "usage",
      stop_reason = "stop_reason",
    },
    blocks = "content",
    block_nulls = BLOCK_NULLS,
    array = "content",
  },
  user = {
    class = M.UserMessage,
    fields = {
      uuid = "uuid",
      parent_tool_use_id = "parent_tool_use_id",
      tool_use_result = "tool_use_result",
      session_id = "session_id",
    },
    lift = "message",
    lifted = { content = "content" },
    blocks = "content",
    block_nulls = BLOCK_NULLS,
  },
  stream_event = {
    class = M.StreamEvent,
    fields = { event = "event", uuid = "uuid", session_id = "session_id", parent_tool_use_id = "parent_tool_use_id" },
  },
}
M.block_classes = block_classes

-- A frame as its shape says (any frame the C walk did not type: it gave up
-- on the line, or the frame came another way; lua_cas_typed.c does the same).
local function parse_shaped(f, s, type_)
  local msg = { type = type_ }
  for wire, name in pairs(s.fields) do
    local v = f[wire]
    if v ~= null then
      msg[name] = v
    end
  end
  if s.lift then
    local m = f[s.lift]
    if type(m) ~= "table" then
      errors.raise("MessageParseError", ("%s message without a %s object"):format(type_, s.lift), { data = f })
    end
    for wire, name in pairs(s.lifted) do
      local v = m[wire]
      if v ~= null then
        msg[name] = v
      end
    end
  end
  if s.blocks then
    msg[s.blocks] = parse_blocks(msg[s.blocks], s.block_nulls or {})
  end
  if s.array and msg[s.array] == nil then
    msg[s.array] = json.array()
  end
  return setmetatable(msg, s.class)
end

local system_classes = {
  task_started = M.TaskStartedMessage,
  task_progress = M.TaskProgressMessage,
  task_updated = M.TaskUpdatedMessage,
  task_notification = M.TaskNotificationMessage,
  hook_started = M.HookStartedMessage,
  hook_response = M.HookResponseMessage,
  hook_progress = M.HookProgressMessage,
  status = M.StatusMessage,
  informational = M.InformationalMessage,
  thinking_tokens = M.ThinkingTokensMessage,
  commands_changed = M.CommandsChangedMessage,
  session_state_changed = M.SessionStateChangedMessage,
  compact_boundary = M.CompactBoundaryMessage,
  api_retry = M.APIRetryMessage,
  local_command_output = M.LocalCommandOutputMessage,
  permission_denied = M.PermissionDeniedMessage,
  background_tasks_changed = M.BackgroundTasksChangedMessage,
  mirror_error = M.MirrorErrorMessage,
}

-- Fields derived beyond the copy of the frame's own: the Python SDK's names.
local system_extras = {
  task_updated = function(msg, f)
    -- a patch without a status is not terminal (status nil), as in Python
    if type(f.patch) ~= "table" then
      msg.patch = {}
    end
    msg.status = nn(msg.patch.status)
  end,
  status = function(msg, f)
    msg.permission_mode = nn(f.permissionMode)
  end,
}
local function hook_extra(msg, f)
  msg.hook_event_name = nn(f.hook_event) or nn(f.hook_name) or nn(f.hook_event_name) or ""
end
system_extras.hook_started = hook_extra
system_extras.hook_response = hook_extra
system_extras.hook_progress = hook_extra

local function parse_system(f)
  local subtype = f.subtype
  local cls = system_classes[subtype]
  local msg = { type = "system", subtype = nn(subtype), data = f }
  if cls then
    -- typed subtypes also get their fields at top level
    for k, v in pairs(f) do
      if msg[k] == nil and v ~= null then
        msg[k] = v
      end
    end
    local extra = system_extras[subtype]
    if extra then
      extra(msg, f)
    end
  end
  return setmetatable(msg, cls or M.SystemMessage)
end

local function parse_result(f)
  return setmetatable({
    type = "result",
    subtype = nn(f.subtype),
    duration_ms = nn(f.duration_ms),
    duration_api_ms = nn(f.duration_api_ms),
    is_error = nn(f.is_error) or false,
    num_turns = nn(f.num_turns),
    session_id = nn(f.session_id),
    stop_reason = nn(f.stop_reason),
    total_cost_usd = nn(f.total_cost_usd),
    usage = nn(f.usage),
    result = nn(f.result),
    structured_output = nn(f.structured_output),
    model_usage = nn(f.modelUsage),
    permission_denials = nn(f.permission_denials),
    errors = nn(f.errors),
    terminal_reason = nn(f.terminal_reason),
    api_error_status = nn(f.api_error_status),
    uuid = nn(f.uuid),
  }, M.ResultMessage)
end

-- The frame's non-null fields in a new table of class cls.
local function copy_typed(f, cls)
  local msg = {}
  for k, v in pairs(f) do
    if v ~= null then
      msg[k] = v
    end
  end
  return setmetatable(msg, cls)
end

local function parse_rate_limit_event(f)
  local msg = copy_typed(f, M.RateLimitEvent)
  local info = f.rate_limit_info
  if type(info) == "table" then
    -- the wire's camelCase keys stay; the Python SDK's names are added, and
    -- `raw` is the info as sent
    local ti = copy_typed(info, M.RateLimitInfo)
    ti.resets_at = nn(info.resetsAt)
    ti.rate_limit_type = nn(info.rateLimitType)
    ti.overage_status = nn(info.overageStatus)
    ti.overage_resets_at = nn(info.overageResetsAt)
    ti.overage_disabled_reason = nn(info.overageDisabledReason)
    ti.is_using_overage = nn(info.isUsingOverage)
    ti.raw = info
    msg.rate_limit_info = ti
  end
  return msg
end

local function parse_auth_status(f)
  local msg = copy_typed(f, M.AuthStatusMessage)
  msg.is_authenticating = nn(f.isAuthenticating)
  return msg
end

local function typed(cls)
  return function(f)
    return copy_typed(f, cls)
  end
end

local function shaped(type_)
  local s = M.shapes[type_]
  return function(f)
    return parse_shaped(f, s, type_)
  end
end

local parsers = {
  system = parse_system,
  result = parse_result,
  rate_limit_event = parse_rate_limit_event,
  conversation_reset = typed(M.ConversationResetMessage),
  tool_progress = typed(M.ToolProgressMessage),
  tool_use_summary = typed(M.ToolUseSummaryMessage),
  auth_status = parse_auth_status,
  prompt_suggestion = typed(M.PromptSuggestionMessage),
}
for type_ in pairs(M.shapes) do
  parsers[type_] = shaped(type_)
end

--- A decoded stdout frame to a typed message.
---@param frame table
---@return table
function M.parse(frame)
  if type(frame) ~= "table" then
    return setmetatable({ type = "unknown", data = frame }, M.Message)
  end
  local p = parsers[frame.type]
  if p then
    return p(frame)
  end
  -- pass-through: raw fields, type as sent
  if getmetatable(frame) == nil then
    setmetatable(frame, M.Message)
  end
  return frame
end

return M
