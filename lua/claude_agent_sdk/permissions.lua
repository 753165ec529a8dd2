--- Tool permission callbacks: `options.can_use_tool` (PROTOCOL.md §4.10.1).
--
-- With a callback set the CLI asks the SDK before each tool use that needs
-- approval (`--permission-prompt-tool stdio`).  The callback answers with
-- PermissionResultAllow or PermissionResultDeny (or a plain table with
-- `behavior`).  An allow always carries `updatedInput`: the original input
-- when the callback changed nothing, because the CLI rejects an allow
-- without it.
--
--   options.can_use_tool = function(tool_name, input, context)
--     if tool_name == "Bash" and input.command:find("rm ") then
--       return claude.PermissionResultDeny({ message = "no deleting" })
--     end
--     return claude.PermissionResultAllow({})
--   end

local errors = require("claude_agent_sdk.errors")
local check = require("claude_agent_sdk.check")

local M = {}

---@class PermissionResultAllow
---@field behavior string  "allow"
---@field updated_input table|nil  the input the tool runs with (default: unchanged)
---@field updated_permissions table[]|nil  PermissionUpdate rules to apply

---@class PermissionResultDeny
---@field behavior string  "deny"
---@field message string
---@field interrupt boolean  also stop the turn

--- What can_use_tool returns.
---@alias PermissionResult PermissionResultAllow|PermissionResultDeny

local Allow = { __name = "PermissionResultAllow" }
Allow.__index = Allow
local Deny = { __name = "PermissionResultDeny" }
Deny.__index = Deny
M.Allow, M.Deny = Allow, Deny

--- Allow the tool use, optionally with a changed input or new rules.
---   return claude.PermissionResultAllow({ updated_input = { command = "echo safe" } })
---@param t {updated_input: table|nil, updated_permissions: table[]|nil}|nil
---@return PermissionResultAllow
function M.PermissionResultAllow(t)
  local fn = "claude.PermissionResultAllow"
  check.opts(fn, "t", t, { updated_input = true, updated_permissions = true })
  t = t or {}
  check.type(fn, "t.updated_input", t.updated_input, "table", true)
  check.type(fn, "t.updated_permissions", t.updated_permissions, "table", true)
  if t.updated_input then
    check.jsonable(fn, "t.updated_input", t.updated_input)
  end
  if t.updated_permissions then
    check.jsonable(fn, "t.updated_permissions", t.updated_permissions)
  end
  return setmetatable(
    { behavior = "allow", updated_input = t.updated_input, updated_permissions = t.updated_permissions },
    Allow
  )
end

--- Deny the tool use; the model is told `message`; `interrupt` ends the turn.
---   return claude.PermissionResultDeny({ message = "not in this repo", interrupt = false })
---@param t {message: string|nil, interrupt: boolean|nil}|nil
---@return PermissionResultDeny
function M.PermissionResultDeny(t)
  local fn = "claude.PermissionResultDeny"
  check.opts(fn, "t", t, { message = true, interrupt = true })
  t = t or {}
  check.string(fn, "t.message", t.message, { optional = true, text = true })
  check.type(fn, "t.interrupt", t.interrupt, "boolean", true)
  return setmetatable({ behavior = "deny", message = t.message or "", interrupt = t.interrupt or false }, Deny)
end

--- A rule of a PermissionUpdate, with the Python SDK's field names.
---@class PermissionRuleValue
---@field tool_name string
---@field rule_content string|nil

--- A permission change (the Python SDK's PermissionUpdate): in the callback's context.suggestions, and what
--- PermissionResultAllow's updated_permissions takes.  The wire's camelCase (toolName) is converted both ways.
---@class PermissionUpdate
---@field type "addRules"|"replaceRules"|"removeRules"|"setMode"|"addDirectories"|"removeDirectories"
---@field rules PermissionRuleValue[]|nil
---@field behavior "allow"|"deny"|"ask"|nil
---@field mode string|nil
---@field directories string[]|nil
---@field destination "userSettings"|"projectSettings"|"localSettings"|"session"|nil

local Update = { __name = "PermissionUpdate" }
Update.__index = Update
M.Update = Update

-- Readable, and the same from run to run (the default "PermissionUpdate: 0x..." is neither): the fields in the
-- Python dataclass's order, as messages print theirs.
local UPDATE_FIELDS = { "type", "rules", "behavior", "mode", "directories", "destination" }
function Update.__tostring(u)
  local repr = require("claude_agent_sdk.messages").repr
  local parts = {}
  for _, f in ipairs(UPDATE_FIELDS) do
    local v = rawget(u, f)
    if v ~= nil then
      parts[#parts + 1] = f .. "=" .. repr(v, 1)
    end
  end
  return "PermissionUpdate(" .. table.concat(parts, ", ") .. ")"
end

local UPDATE_KEYS = { type = true, rules = true, behavior = true, mode = true, directories = true, destination = true }

--- A PermissionUpdate, as the Python SDK's dataclass.
---   claude.PermissionUpdate({ type = "addRules", rules = { { tool_name = "Bash", rule_content = "ls:*" } },
---     behavior = "allow", destination = "session" })
---@param t PermissionUpdate
---@return PermissionUpdate
function M.PermissionUpdate(t)
  local fn = "claude.PermissionUpdate"
  if type(t) ~= "table" then
    check.fail(fn, "t", "a table { type = ..., ... }", t)
  end
  check.opts(fn, "t", t, UPDATE_KEYS)
  check.one_of(
    fn,
    "t.type",
    t.type,
    { "addRules", "replaceRules", "removeRules", "setMode", "addDirectories", "removeDirectories" }
  )
  check.list(fn, "t.rules", t.rules, "a list of { tool_name = ..., rule_content = ... }", true, function(f, arg, r)
    check.type(f, arg, r, "table")
    check.string(f, arg .. ".tool_name", r.tool_name or r.toolName, { nonempty = true, text = true })
  end)
  check.one_of(fn, "t.behavior", t.behavior, { "allow", "deny", "ask" }, true)
  check.string(fn, "t.mode", t.mode, { optional = true, text = true })
  check.list(fn, "t.directories", t.directories, "a list of paths", true, function(f, arg, d)
    check.string(f, arg, d, { text = true })
  end)
  check.one_of(
    fn,
    "t.destination",
    t.destination,
    { "userSettings", "projectSettings", "localSettings", "session", "cliArg" },
    true
  )
  local u = {}
  for k, v in pairs(t) do
    u[k] = v
  end
  return setmetatable(u, Update)
end

--- The wire's update (toolName, ruleContent) as a PermissionUpdate (tool_name, rule_content).
---@param w table
---@return PermissionUpdate
function M.update_from_wire(w)
  if type(w) ~= "table" then
    return w
  end
  local u = {}
  for k, v in pairs(w) do
    u[k] = v
  end
  if type(w.rules) == "table" then
    u.rules = {}
    for i, r in ipairs(w.rules) do
      u.rules[i] = type(r) == "table" and { tool_name = r.toolName, rule_content = r.ruleContent } or r
    end
  end
  return setmetatable(u, Update)
end

--- A PermissionUpdate back in the wire's form; a rule already in the wire's
--- form (toolName) is taken as it is.
---@param u table
---@return table
function M.update_to_wire(u)
  if type(u) ~= "table" then
    return u
  end
  local w = {}
  for k, v in pairs(u) do
    w[k] = v
  end
  if type(u.rules) == "table" then
    w.rules = {}
    for i, r in ipairs(u.rules) do
      if type(r) == "table" and r.toolName == nil and r.tool_name ~= nil then
        w.rules[i] = { toolName = r.tool_name, ruleContent = r.rule_content }
      else
        w.rules[i] = r
      end
    end
  end
  return w
end

---@class ToolPermissionContext
---@field suggestions PermissionUpdate[]  the CLI's permission_suggestions, as PermissionUpdates
---@field tool_use_id string|nil
---@field blocked_path string|nil
---@field decision_reason string|nil
---@field title string|nil
---@field display_name string|nil
---@field description string|nil
---@field cancelled boolean  true once the CLI cancelled the request (e.g. an interrupt)
---@field agent_id string|nil  set when a subagent asks
---@field is_cancelled fun(): boolean  the same as `cancelled`, as a function

--- The context table handed to the callback.
---@param req table  the can_use_tool control request
---@return ToolPermissionContext
function M.context(req)
  local suggestions = {}
  for i, w in ipairs(type(req.permission_suggestions) == "table" and req.permission_suggestions or {}) do
    suggestions[i] = M.update_from_wire(w)
  end
  local ctx = {
    suggestions = suggestions,
    tool_use_id = req.tool_use_id,
    blocked_path = req.blocked_path,
    decision_reason = req.decision_reason,
    title = req.title,
    display_name = req.display_name,
    description = req.description,
    agent_id = req.agent_id,
    cancelled = false,
  }
  --- True once the CLI has cancelled this request (no answer will be used).
  ---@return boolean
  function ctx.is_cancelled()
    return ctx.cancelled
  end
  return ctx
end

--- The wire payload for a callback's answer.
---@param r table  PermissionResultAllow/Deny or a table with behavior
---@param input table  the original tool input
function M.to_wire(r, input)
  if type(r) ~= "table" then
    errors.raise(
      "ClaudeSDKError",
      "can_use_tool must return PermissionResultAllow or PermissionResultDeny, got " .. type(r)
    )
  end
  if r.behavior == "allow" then
    local out = { behavior = "allow", updatedInput = r.updated_input or r.updatedInput or input }
    local perms = r.updated_permissions or r.updatedPermissions
    if perms then
      local wire = {}
      for i, u in ipairs(perms) do
        wire[i] = M.update_to_wire(u)
      end
      out.updatedPermissions = wire
    end
    return out
  elseif r.behavior == "deny" then
    return { behavior = "deny", message = r.message or "", interrupt = r.interrupt and true or false }
  end
  errors.raise("ClaudeSDKError", 'can_use_tool returned a table without behavior = "allow" or "deny"')
end

return M
