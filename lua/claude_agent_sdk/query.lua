--- One-shot queries, like the Python SDK's `query()`.
--
-- Starts a client, sends the prompt (a string, a list of user messages or an
-- iterator of them), closes stdin so the CLI finishes and exits, and yields
-- every message until its stdout ends; then disconnects.  A non-zero exit is
-- raised after everything the CLI said was delivered (ResultError after an
-- error result, ProcessError otherwise).
--
-- On Lua 5.4 the iterator returns a to-be-closed value, so `break` out of the
-- loop disconnects at once; on LuaJIT the client is disconnected when the
-- loop ends or raises, or by the garbage collector after a `break`.
--
--   for msg in claude.query({ prompt = "What is 2+2?" }) do print(msg) end

local Client = require("claude_agent_sdk.client")
local errors = require("claude_agent_sdk.errors")
local options_mod = require("claude_agent_sdk.options")

local M = {}

---@class QueryArgs
---@field prompt string|table|function
---@field options ClaudeAgentOptions|nil

--- Iterate over the messages of a one-shot conversation.
---@param args QueryArgs
---@return fun(): AnyMessage|nil
function M.query(args)
  if type(args) ~= "table" then errors.raise("ClaudeSDKError", "query expects { prompt = ..., options = ... }") end
  if args.prompt == nil then errors.raise("ClaudeSDKError", "query: prompt is required") end
  for k in pairs(args) do
    if k ~= "prompt" and k ~= "options" then
      errors.raise("InvalidOptionError", ("unknown query argument %q"):format(tostring(k)), { option = k })
    end
  end
  local client = Client.new(args.options)
  -- With callbacks the CLI may still ask us something during the turn, so
  -- stdin stays open until a result arrives with no background agent task in
  -- flight; without, the input ends right after the prompt.
  local keep_open = options_mod.has_callbacks(client.options)
  client:connect()
  local ok, err = pcall(function()
    client:query(args.prompt, "")
    if not keep_open then client._core:close_stdin() end
  end)
  if not ok then
    client:disconnect()
    error(err, 0)
  end
  local done = false
  local function iter()
    if done then return nil end
    local ok2, msg = pcall(client._next_message, client)
    if not ok2 then
      done = true
      client:disconnect()
      error(msg, 0)
    end
    if msg == nil then
      done = true
      client:disconnect()
    elseif keep_open and msg.type == "result" and client._core
      and client._core:stats().tasks_in_flight == 0 then
      client._core:close_stdin()
    end
    return msg
  end
  local closer = setmetatable({}, { __close = function() if not done then done = true; client:disconnect() end end })
  return iter, nil, nil, closer
end

return M
