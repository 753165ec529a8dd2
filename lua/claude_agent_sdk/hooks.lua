--- Hook callbacks registered through `initialize` (PROTOCOL.md §3.3, §4.10.2).
--
-- `options.hooks = { EventName = { HookMatcher{ matcher =, hooks = { fn... }, timeout = } } }`.
-- Each function gets an id (hook_0, hook_1, ... across all events); the
-- initialize request tells the CLI which ids to call for which event and
-- matcher, and a `hook_callback` request names the id.  The function's
-- return value is the hook output, sent as is (`continue`, `async`,
-- `decision`, `reason`, `systemMessage`, `hookSpecificOutput`, ...).
--
--   options.hooks = { PreToolUse = { claude.HookMatcher({ matcher = "Bash", hooks = { check } }) } }

local errors = require("claude_agent_sdk.errors")
local json = require("claude_agent_sdk.json")
local check = require("claude_agent_sdk.check")

local M = {}

--- Every hook event the CLI knows (PROTOCOL.md §6.1), plus the newer ones.
M.EVENTS = {}
for e in
  ([[PreToolUse PostToolUse PostToolUseFailure PostToolBatch Notification UserPromptSubmit
  UserPromptExpansion SessionStart SessionEnd Stop StopFailure SubagentStart SubagentStop PreCompact PostCompact
  PermissionRequest PermissionDenied Setup TeammateIdle TaskCreated TaskCompleted Elicitation ElicitationResult
  ConfigChange WorktreeCreate WorktreeRemove InstructionsLoaded CwdChanged FileChanged MessageDisplay
  PreModelSwitch PostModelSwitch DirectoryAdded PreSkillShellCommand]]):gmatch("%S+")
do
  M.EVENTS[e] = true
end

--- The context a hook callback gets.
---@class HookContext
---@field cancelled boolean  true once the CLI cancelled the call
---@field is_cancelled fun(): boolean

--- A hook function: its return value is the hook output, sent as is (continue, decision, reason,
--- systemMessage, hookSpecificOutput, ...); nil means {}.
---@alias HookCallback fun(input: table, tool_use_id: string|nil, context: HookContext): table|nil

---@class HookMatcher
---@field matcher string|nil  tool-name pattern ("Bash", "Write|Edit"); nil matches all
---@field hooks HookCallback[]   fn(input, tool_use_id, context) -> output table
---@field timeout number|nil  seconds

local Matcher = { __name = "HookMatcher" }
Matcher.__index = Matcher

--- A matcher and the functions to run for it.
---   claude.HookMatcher({ matcher = "Bash", hooks = { fn }, timeout = 30 })
---@param t {matcher: string|nil, hooks: HookCallback[], timeout: number|nil}
---@return HookMatcher
function M.HookMatcher(t)
  local fn = "claude.HookMatcher"
  check.opts(fn, "t", t, { matcher = true, hooks = true, timeout = true })
  if t == nil then
    check.fail(fn, "t", "{ matcher = ..., hooks = { fn, ... }, timeout = ... }", t)
  end
  check.string(fn, "t.matcher", t.matcher, { optional = true, text = true })
  check.list(fn, "t.hooks", t.hooks, "a list of functions", true, function(f, arg, h)
    check.callable(f, arg, h)
  end)
  check.number(fn, "t.timeout", t.timeout, { optional = true, min = 0 })
  return setmetatable({ matcher = t.matcher, hooks = t.hooks or {}, timeout = t.timeout }, Matcher)
end

--- Check options.hooks (raises InvalidOptionError).
---@param hooks any
function M.validate(hooks)
  local function bad(msg)
    errors.raise("InvalidOptionError", "invalid option hooks: " .. msg, { option = "hooks" })
  end
  if type(hooks) ~= "table" then
    bad("expected { EventName = { HookMatcher{...} } }")
  end
  for event, matchers in pairs(hooks) do
    if not M.EVENTS[event] then
      local names = {}
      for e in pairs(M.EVENTS) do
        names[#names + 1] = e
      end
      table.sort(names)
      bad(("unknown hook event %q (known: %s)"):format(tostring(event), table.concat(names, ", ")))
    end
    if type(matchers) ~= "table" then
      bad(event .. " must be a list of HookMatcher")
    end
    for _, m in ipairs(matchers) do
      if type(m) ~= "table" or type(m.hooks) ~= "table" then
        bad(event .. ": each entry needs hooks = { fn, ... }")
      end
      if m.matcher ~= nil and type(m.matcher) ~= "string" then
        bad(event .. ": matcher must be a string")
      end
      if m.timeout ~= nil and (type(m.timeout) ~= "number" or not (m.timeout > 0) or m.timeout == math.huge) then -- luacheck: ignore 581 (NaN is not > 0)
        bad(event .. ": timeout must be a positive number of seconds")
      end
      for _, fn in ipairs(m.hooks) do
        if type(fn) ~= "function" then
          bad(event .. ": hooks must be functions")
        end
      end
    end
  end
end

--- The `hooks` field of initialize, and the id -> function table.
---@param hooks table|nil
---@return table|userdata wire  (json.null when there are none)
---@return table callbacks  id -> function
function M.register(hooks)
  local callbacks, n = {}, 0
  if not hooks or next(hooks) == nil then
    return json.null, callbacks
  end
  local wire = {}
  local events = {}
  for event in pairs(hooks) do
    events[#events + 1] = event
  end
  table.sort(events) -- stable ids
  for _, event in ipairs(events) do
    local list = json.array()
    for _, m in ipairs(hooks[event]) do
      local ids = json.array()
      for _, fn in ipairs(m.hooks) do
        local id = "hook_" .. n
        n = n + 1
        callbacks[id] = fn
        ids[#ids + 1] = id
      end
      local entry = { matcher = m.matcher == nil and json.null or m.matcher, hookCallbackIds = ids }
      if m.timeout then
        entry.timeout = m.timeout
      end
      list[#list + 1] = entry
    end
    wire[event] = list
  end
  return wire, callbacks
end

return M
