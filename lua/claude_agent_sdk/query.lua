--- One-shot queries, like the Python SDK's `query()`.
--
-- Starts a client, sends the prompt (a string, a list of user messages or an
-- iterator of them), and yields every message until the CLI's stdout ends;
-- then disconnects.  stdin stays open until a result arrives with no
-- background agent task in flight, and is closed then so the CLI exits: a
-- CLI whose stdin closed while it was still answering can exit before its
-- last line is flushed (seen with multi-megabyte replies), and the result
-- would be lost.  A non-zero exit is raised after everything the CLI said
-- was delivered (ResultError after an error result, ProcessError
-- otherwise); so is a stream that ends with no result at all, or with its
-- last line cut short (CLIJSONDecodeError): query() never ends silently
-- without its result.
--
-- On Lua 5.4 the iterator returns a to-be-closed value, so `break` out of the
-- loop disconnects at once; on LuaJIT the client is disconnected when the
-- loop ends or raises, or by the garbage collector after a `break`.
--
--   for msg in claude.query({ prompt = "What is 2+2?" }) do print(msg) end

local Client = require("claude_agent_sdk.client")
local errors = require("claude_agent_sdk.errors")
local check = require("claude_agent_sdk.check")

local M = {}

---@class QueryArgs
---@field prompt string|table|function
---@field options ClaudeAgentOptions|nil

--- Iterate over the messages of a one-shot conversation.
---@param args QueryArgs
---@return fun(): AnyMessage|nil
function M.query(args)
  if type(args) ~= "table" then
    check.fail("claude.query", "args", "{ prompt = ..., options = ... }", args)
  end
  for k in pairs(args) do
    if k ~= "prompt" and k ~= "options" then
      errors.raise("InvalidOptionError", ("unknown query argument %q"):format(tostring(k)), { option = k })
    end
  end
  -- Everything is checked before the CLI is started.
  Client._check_prompt("claude.query", args.prompt)
  local client = Client.new(args.options)
  client:connect()
  local ok, err = pcall(function()
    client:query(args.prompt, "")
    -- nothing was asked (an empty list or iterator): no result will come
    if client._user_sent == 0 then
      client._core:close_stdin()
    end
  end)
  if not ok then
    client:disconnect()
    error(err, 0)
  end
  local done, results = false, 0
  local function iter()
    if done then
      return nil
    end
    local ok2, msg = pcall(client._next_message, client)
    if not ok2 then
      done = true
      client:disconnect()
      error(msg, 0)
    end
    if msg == nil then
      done = true
      client:disconnect()
      if results == 0 and client._user_sent > 0 then
        errors.raise(
          "ProcessError",
          "Claude Code exited (code 0) without a result: the answer was lost",
          { exit_code = 0 }
        )
      end
    elseif msg.type == "result" then
      results = results + 1
      if client._core and client._core:stats().tasks_in_flight == 0 then
        client._core:close_stdin()
      end
    end
    return msg
  end
  local closer = setmetatable({}, {
    __close = function()
      if not done then
        done = true
        client:disconnect()
      end
    end,
  })
  return iter, nil, nil, closer
end

return M
