--- Requests the CLI sends to the SDK (PROTOCOL.md §4.10), and their answers.
--
-- The client's pump hands every inbound control request here.  Each subtype
-- has a handler: can_use_tool (options.can_use_tool), hook_callback
-- (options.hooks), mcp_message (in-process MCP servers).  A subtype without
-- a handler, or a feature the caller did not set up, gets an error response
-- naming it, so the CLI never waits for an answer that will not come.  A
-- handler that throws becomes an error response with its message, and the
-- session goes on.
--
-- In an event loop (luv, Neovim) each request runs in its own task, so a
-- callback may yield (a permission prompt may wait minutes for a person)
-- while the session goes on.  In blocking and host-loop mode it runs from the
-- pump.  A control_cancel_request marks the request's context cancelled and
-- cancels its task; no answer is sent for it (the core drops answers to
-- cancelled requests).
--
--   control.dispatch(client, "request", frame, in_loop)

local async = require("claude_agent_sdk.async")
local errors = require("claude_agent_sdk.errors")
local json = require("claude_agent_sdk.json")
local mcp = require("claude_agent_sdk.mcp")
local permissions = require("claude_agent_sdk.permissions")
local check = require("claude_agent_sdk.check")

local M = {}

local function nn(v)
  if v == json.null then
    return nil
  end
  return v
end

-- A context whose `cancelled` flag the dispatcher sets on cancel.
local function cancel_context(extra)
  local ctx = extra or {}
  ctx.cancelled = false
  function ctx.is_cancelled()
    return ctx.cancelled
  end
  return ctx
end

--- subtype -> function(client, request, entry) returning the success payload;
--- entry.ctx is the context a cancel marks.
M.handlers = {}

M.handlers.can_use_tool = function(client, req, entry)
  local cb = client.options.can_use_tool
  if not cb then
    error("canUseTool callback is not provided", 0)
  end
  local ctx = permissions.context(req)
  entry.ctx = ctx
  local input = req.input
  if type(input) ~= "table" then
    input = {}
  end
  return permissions.to_wire(cb(req.tool_name, input, ctx), input)
end

-- Lua has no reserved `continue`, but Python users write continue_/async_.
local RENAMES = { continue_ = "continue", async_ = "async" }

M.handlers.hook_callback = function(client, req, entry)
  local fn = client._hook_callbacks and client._hook_callbacks[req.callback_id]
  if not fn then
    error("No hook callback found for ID: " .. tostring(req.callback_id), 0)
  end
  local ctx = cancel_context()
  entry.ctx = ctx
  local input = req.input
  if type(input) ~= "table" then
    input = {}
  end
  local out = fn(input, nn(req.tool_use_id), ctx)
  if out == nil then
    return {}
  end
  if type(out) ~= "table" then
    error("a hook callback must return a table (or nil), got " .. type(out), 0)
  end
  local wire = {}
  for k, v in pairs(out) do
    wire[RENAMES[k] or k] = v
  end
  return wire
end

M.handlers.mcp_message = function(client, req, entry)
  local ctx = cancel_context()
  entry.ctx = ctx
  return mcp.handle_request(client._sdk_servers, req, ctx)
end

local function error_text(err)
  if type(err) == "table" and err.message then
    return tostring(err.message)
  end
  return tostring(err)
end

--- Handle one item from the core's request queue.
---@param client table
---@param kind string  "request" or "cancel"
---@param v table|string  the control_request frame, or the cancelled id
---@param in_loop boolean|nil  run the handler in its own task
function M.dispatch(client, kind, v, in_loop)
  local inflight = client._inflight
  if kind == "cancel" then
    local entry = inflight[v]
    if entry then
      inflight[v] = nil
      if entry.ctx then
        entry.ctx.cancelled = true
      end
      if entry.task then
        entry.task:cancel()
      end
    end
    return
  end
  local id = v.request_id
  local req = type(v.request) == "table" and v.request or {}
  local handler = M.handlers[req.subtype]
  local core = client._core
  if not handler then
    core:respond(id, nil, "Unsupported control request subtype: " .. tostring(req.subtype))
    return
  end
  local entry = {}
  inflight[id] = entry
  local function run()
    local ok, payload = pcall(handler, client, req, entry)
    inflight[id] = nil
    if client._core ~= core then
      return
    end -- disconnected meanwhile
    if ok then
      -- An answer JSON cannot carry (NaN, a function) must still answer:
      -- with an error that says which part of it was wrong.
      local path, why = check.json_problem(payload, "answer")
      if path then
        core:respond(
          id,
          nil,
          ("the %s callback's answer cannot be sent as JSON: %s is %s"):format(tostring(req.subtype), path, why)
        )
        client:_kick()
        return
      end
      local sent, err = pcall(core.respond, core, id, payload)
      if not sent then
        core:respond(id, nil, "cannot send the callback's answer: " .. error_text(err))
      end
    elseif not errors.is(payload, "CancelledError") then
      core:respond(id, nil, error_text(payload))
    end
    client:_kick()
  end
  if in_loop then
    entry.task = async.spawn(run)
    entry.task.name = "control " .. tostring(req.subtype) .. " " .. tostring(id)
  else
    run()
  end
end

return M
