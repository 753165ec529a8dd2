--- Warnings: advice that is not an error (the Python SDK's warnings).
--
-- A warning has a kind (its name, like an error kind) and a message.  By
-- default each distinct message is written once per process (as Python's
-- default filter shows a warning once): to stderr, or through vim.notify at
-- WARN level inside Neovim.  A host silences a kind with
-- `claude.warnings.ignore[kind] = true`, or takes them all with its own
-- `claude.warnings.handler = function(kind, message) ... end`.
--
--   claude.warnings.ignore.CanUseToolShadowedWarning = true

local M = {}

--- The warning kinds.
M.kinds = { CanUseToolShadowedWarning = true, OptionNotAppliedWarning = true }

--- Kinds not to report.
---@type table<string, boolean>
M.ignore = {}

local shown = {}

--- The default handler: each message once, on stderr or through vim.notify.
---@param kind string
---@param message string
function M.default_handler(kind, message)
  local key = kind .. "\0" .. message
  if shown[key] then
    return
  end
  shown[key] = true
  require("claude_agent_sdk.loop").report(("claude_agent_sdk: %s: %s"):format(kind, message), "WARN")
end

--- Replaceable: gets every warning not ignored.
---@type fun(kind: string, message: string)
M.handler = M.default_handler

--- Report a warning of `kind` (never raises: a handler's error is dropped).
---@param kind string
---@param message string
function M.warn(kind, message)
  if M.ignore[kind] then
    return
  end
  pcall(M.handler, kind, message)
end

-- The tool an allowed_tools entry allows outright (no specifier, or an
-- empty or "*" one), else nil: the CLI's rule parser, as the Python SDK reads it.
local function whole_tool(entry)
  if not entry:match("%S") then
    return nil
  end
  local open = entry:find("(", 1, true)
  if not open then
    return entry
  end
  if open == 1 or entry:sub(-1) ~= ")" then
    return nil
  end
  local spec = entry:sub(open + 1, -2)
  return (spec == "" or spec == "*") and entry:sub(1, open - 1) or nil
end

--- The Python SDK's CanUseToolShadowedWarning: can_use_tool is set, but the
--- CLI approves some tool calls before asking it.  The message, or nil.
---@param permission_mode string|nil
---@param allowed_tools string[]  the effective list (with skills' entries)
---@return string|nil
function M.can_use_tool_shadowed(permission_mode, allowed_tools)
  if permission_mode == "bypassPermissions" then
    return "can_use_tool will not be invoked: permission_mode 'bypassPermissions' auto-approves every tool call "
      .. "(except explicit deny rules) before the callback is consulted. To gate every tool call, use a "
      .. "PreToolUse hook instead."
  end
  local tools, seen = {}, {}
  for _, entry in ipairs(allowed_tools) do
    local t = whole_tool(entry)
    if t and not seen[t] then
      seen[t] = true
      tools[#tools + 1] = t
    end
  end
  if #tools == 0 then
    return nil
  end
  return (
    "can_use_tool will not be invoked for: %s. An allowed_tools entry that allows a whole tool "
    .. "auto-approves it before the callback is consulted. To gate every tool call, use a PreToolUse hook; or "
    .. "narrow the entry so calls fall through to can_use_tool. Allow rules from settings files can also shadow "
    .. "the callback but are not visible here."
  ):format(table.concat(tools, ", "))
end

return M
