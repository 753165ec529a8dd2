--- Typed error objects (DESIGN.md §5).
--
-- Errors are tables with a `__tostring`, raised with `error(err, 0)`.  Kinds
-- nest like the Python SDK's exception classes: a CLINotFoundError is a
-- CLIConnectionError is a ClaudeSDKError; a ResultError is a ProcessError.
--
--   local ok, err = pcall(client.connect, client)
--   if errors.is(err, "CLIConnectionError") then print(err.message) end

local M = {}

---@class ClaudeSDKError
---@field kind string        the most specific kind, e.g. "CLINotFoundError"
---@field message string     the whole sentence (what tostring shows)
---@field code string|nil    the C core's error code when there is one ("EPIPE", "EJSON", ...)
local Base = {}

-- The kinds, nested as in `parents` below; each may carry the extra fields listed.

--- The CLI could not be started or reached, or the client is not connected.
---@class CLIConnectionError : ClaudeSDKError
---@field cli_path string|nil
---@field cwd string|nil
---@field user string|nil
---@field errno integer|nil
---@field exit_code integer|nil

--- No `claude` executable was found (or cli_path is not one).
---@class CLINotFoundError : CLIConnectionError

--- A spare (claude.prewarm / claude.pool) could not be claimed: start the
--- session cold.  `reason` is the CLI's (cwd_not_found,
--- permission_mode_not_claimable, project_settings_not_claimable,
--- env_key_not_claimable, settings_not_applied, ...) or ours (already_claimed,
--- spare_closed, spare_exited).
---@class ClaimError : CLIConnectionError
---@field reason string
---@field cause any  the error underneath, when there is one

--- The CLI exited with an error.
---@class ProcessError : ClaudeSDKError
---@field exit_code integer|nil
---@field signal integer|nil    the signal that killed it
---@field stderr string|nil     the tail of its stderr

--- The CLI exited after an error result: the result's payload, with the
--- Python SDK's fields and meanings (stderr is nil: the result says why).
---@class ResultError : ProcessError
---@field result string|nil  the result text ("API Error: ..." for an API failure)
---@field result_message ResultMessage  the typed result message
---@field data table  the raw result frame
---@field subtype string|nil
---@field errors string[]  the non-blank error strings (may be empty)
---@field api_error_status integer|nil  the HTTP status of the failing API call
---@field terminal_reason string|nil
---@field session_id string|nil
---@field context string|nil
---@field startup_failure_reason string|nil  why the CLI could not start (newer CLIs: "bypass_root", ...)

--- A line from the CLI (or given to json.decode) is not valid JSON, or is over max_buffer_size.
---@class CLIJSONDecodeError : ClaudeSDKError
---@field line string|nil       the line's head
---@field request string|nil

--- A frame does not have the shape its type needs.
---@class MessageParseError : ClaudeSDKError
---@field data table|nil        the frame

--- A control request got no answer in time.
---@class ControlTimeoutError : ClaudeSDKError
---@field request string        its subtype

--- A receive iterator's `{ timeout = s }` passed.
---@class TimeoutError : ClaudeSDKError

--- The task was cancelled (raised inside it where it waits).
---@class CancelledError : ClaudeSDKError

--- The CLI answered a control request with an error.
---@class ControlError : ClaudeSDKError
---@field request string        its subtype
---@field error string          the CLI's message

--- An option (or argument) is unknown or has a bad value.
---@class InvalidOptionError : ClaudeSDKError
---@field option string|nil     the option's name
---@field key string|nil        the option's name (sessions functions)

--- parent of each kind; nil for the root
local parents = {
  ClaudeSDKError = nil,
  CLIConnectionError = "ClaudeSDKError",
  CLINotFoundError = "CLIConnectionError",
  ClaimError = "CLIConnectionError",
  ProcessError = "ClaudeSDKError",
  ResultError = "ProcessError",
  CLIJSONDecodeError = "ClaudeSDKError",
  MessageParseError = "ClaudeSDKError",
  ControlTimeoutError = "ClaudeSDKError",
  TimeoutError = "ClaudeSDKError",
  CancelledError = "ClaudeSDKError",
  ControlError = "ClaudeSDKError",
  InvalidOptionError = "ClaudeSDKError",
}
M.kinds = {}
for k in pairs(parents) do
  M.kinds[k] = true
end
M.kinds.ClaudeSDKError = true

local mts = {}
for kind in pairs(M.kinds) do
  mts[kind] = {
    __index = Base,
    __name = kind,
    __tostring = function(e)
      return kind .. ": " .. tostring(e.message)
    end,
  }
end

--- Make an error object of `kind` with `message` and extra fields.
---@param kind string
---@param message string
---@param fields table|nil
---@return ClaudeSDKError
function M.new(kind, message, fields)
  local mt = mts[kind]
  if not mt then
    error("unknown error kind " .. tostring(kind), 2)
  end
  local e = {}
  if fields then
    for k, v in pairs(fields) do
      e[k] = v
    end
  end
  e.kind = kind
  e.message = message
  return setmetatable(e, mt)
end

--- Raise a new error of `kind` (never returns).
---@param kind string
---@param message string
---@param fields table|nil
function M.raise(kind, message, fields)
  error(M.new(kind, message, fields), 0)
end

--- True when `err` is one of our errors of `kind` or of a kind nested in it.
---   errors.is(err, "CLIConnectionError")  -- also true for CLINotFoundError
---@param err any
---@param kind string|nil  default "ClaudeSDKError"
---@return boolean
function M.is(err, kind)
  if type(err) ~= "table" or not err.kind or mts[err.kind] ~= getmetatable(err) then
    return false
  end
  kind = kind or "ClaudeSDKError"
  local k = err.kind
  while k do
    if k == kind then
      return true
    end
    k = parents[k]
  end
  return false
end

--- Methods every error has.
---   if err:is("CLIConnectionError") then ... end
---@param kind string|nil  default "ClaudeSDKError"
---@return boolean
function Base:is(kind)
  return M.is(self, kind)
end

--- The text of a ResultError, as the Python SDK words it: the first available
--- of errors[], the result text, a non-success subtype, the API status.
---@param result table  the raw or typed result message
---@return string
function M.result_text(result)
  local errs = result.errors
  if type(errs) == "table" and #errs > 0 then
    local parts = {}
    for _, s in ipairs(errs) do
      if type(s) == "string" and s:match("%S") then
        parts[#parts + 1] = s
      end
    end
    if #parts > 0 then
      return table.concat(parts, "; ")
    end
  end
  if type(result.result) == "string" and result.result ~= "" then
    return result.result
  end
  if type(result.subtype) == "string" and result.subtype ~= "success" then
    return result.subtype
  end
  if type(result.api_error_status) == "number" then
    return ("API error (HTTP %d)"):format(result.api_error_status)
  end
  return "unknown error"
end

return M
