--- Requests the CLI sends to the SDK (PROTOCOL.md §4.10), and their answers.
--
-- The client's pump hands every inbound control request here.  Each subtype
-- has a handler; a subtype without one, or a feature the caller did not set
-- up, gets an error response naming it, so the CLI never waits for an answer
-- that will not come.  A handler that throws becomes an error response with
-- its message, and the session goes on.  A cancelled request is answered by
-- nobody (the core drops answers to cancelled ids).
--
--   control.dispatch(client, "request", frame)

local M = {}

--- subtype -> function(client, request, request_id) returning the payload table
M.handlers = {}

local function respond_error(client, id, msg)
  client._core:respond(id, nil, msg)
end

--- Handle one item from the core's request queue.
---@param client table
---@param kind string  "request" or "cancel"
---@param v table|string  the control_request frame, or the cancelled id
function M.dispatch(client, kind, v)
  if kind == "cancel" then
    local cancel = client._on_cancel
    if cancel then cancel(client, v) end
    return
  end
  local id = v.request_id
  local req = v.request
  local subtype = type(req) == "table" and req.subtype or nil
  local handler = subtype and M.handlers[subtype]
  if not handler then
    respond_error(client, id, "Unsupported control request subtype: " .. tostring(subtype))
    return
  end
  local ok, payload = pcall(handler, client, req, id)
  if not ok then
    respond_error(client, id, tostring(payload))
  elseif payload ~= false then
    client._core:respond(id, payload)
  end
end

M.handlers.can_use_tool = function()
  error("canUseTool callback is not provided", 0)
end

M.handlers.hook_callback = function(_, req)
  error("No hook callback found for ID: " .. tostring(req.callback_id), 0)
end

M.handlers.mcp_message = function(_, req)
  local msg = req.message or {}
  return { mcp_response = { jsonrpc = "2.0", id = msg.id,
    error = { code = -32601, message = ("Server '%s' not found"):format(tostring(req.server_name)) } } }
end

return M
