--- In-process MCP servers: Lua functions the model can call as tools
--- (PROTOCOL.md §4.10.3).
--
-- The CLI reaches an "sdk" server through `mcp_message` control requests that
-- carry JSON-RPC; this file answers them.  A tool's handler gets the call's
-- arguments and returns MCP content; an error it raises becomes an `isError`
-- result the model sees, never a protocol error.
--
--   local add = mcp.tool("add", "Add two numbers", { a = "number", b = "number" }, function(args)
--     return { content = { { type = "text", text = tostring(args.a + args.b) } } }
--   end)
--   local calc = mcp.create_sdk_mcp_server({ name = "calc", version = "1.0.0", tools = { add } })
--   -- options.mcp_servers = { calc = calc }   -> the model sees mcp__calc__add

local errors = require("claude_agent_sdk.errors")
local json = require("claude_agent_sdk.json")
local check = require("claude_agent_sdk.check")

local M = {}

local SIMPLE_TYPES = { string = true, number = true, integer = true, boolean = true, object = true, array = true }

---@class SdkMcpTool
---@field name string
---@field description string
---@field input_schema table  JSON Schema of the arguments
---@field handler fun(args: table, ctx: table): table
---@field annotations table|nil
---@field max_result_size_chars integer|nil

-- {a = "number"} -> a JSON Schema object with every key required; a table
-- that already looks like a JSON Schema is used as it is.
local function to_schema(schema)
  if schema == nil then
    return { type = "object", properties = {} }
  end
  if type(schema) ~= "table" then
    check.fail("claude.tool", "schema", "a table", schema)
  end
  check.jsonable("claude.tool", "schema", schema)
  -- A full JSON Schema describes an object; the shorthand may well have an
  -- argument called "type" (of type "string", say).
  if
    schema["$schema"] ~= nil
    or schema.type == "object"
    or (schema.type ~= nil and type(schema.properties) == "table")
  then
    return schema
  end
  local props, required = {}, json.array()
  local names = {}
  for k in pairs(schema) do
    names[#names + 1] = k
  end
  table.sort(names)
  for _, name in ipairs(names) do
    local t = schema[name]
    if type(name) ~= "string" then
      check.fail("claude.tool", "schema", "string keys", name)
    end
    if type(t) == "string" then
      if not SIMPLE_TYPES[t] then
        check.fail("claude.tool", "schema." .. name, "a type name (string, number, integer, boolean, object, array)", t)
      end
      props[name] = { type = t }
    elseif type(t) == "table" then
      props[name] = t
    else
      check.fail("claude.tool", "schema." .. name, "a type name or a schema table", t)
    end
    required[#required + 1] = name
  end
  return { type = "object", properties = props, required = required }
end

--- Define a tool.
---   claude.tool("add", "Add two numbers", { a = "number", b = "number" }, function(args, ctx) ... end)
---@param name string
---@param description string
---@param schema table  `{ arg = "type" }` shorthand or a full JSON Schema
---@param handler fun(args: table, ctx: table): table|string
---@param opts {annotations: table|nil, max_result_size_chars: integer|nil}|nil
---@return SdkMcpTool
function M.tool(name, description, schema, handler, opts)
  local fn = "claude.tool"
  if type(name) ~= "string" or not name:match("^[%w_%-]+$") then
    check.fail(fn, "name", "a name of letters, digits, _ or -", name)
  end
  check.string(fn, "description", description, { text = true })
  check.callable(fn, "handler", handler)
  check.opts(fn, "opts", opts, { annotations = true, max_result_size_chars = true })
  opts = opts or {}
  check.type(fn, "opts.annotations", opts.annotations, "table", true)
  if opts.annotations then
    check.jsonable(fn, "opts.annotations", opts.annotations)
  end
  check.number(
    fn,
    "opts.max_result_size_chars",
    opts.max_result_size_chars,
    { optional = true, integer = true, min = 1 }
  )
  return {
    name = name,
    description = description,
    input_schema = to_schema(schema),
    handler = handler,
    annotations = opts.annotations,
    max_result_size_chars = opts.max_result_size_chars,
  }
end

---@class SdkMcpServer
---@field type string  "sdk"
---@field name string
---@field version string
---@field tools SdkMcpTool[]
---@field by_name table<string, SdkMcpTool>  the tools by name

local Server = {}
Server.__index = Server
Server.__name = "SdkMcpServer"

--- An in-process MCP server to put in options.mcp_servers.
---   claude.create_sdk_mcp_server({ name = "calc", version = "1.0.0", tools = { add } })
---@param args {name: string, version: string|nil, tools: SdkMcpTool[]|nil}
---@return SdkMcpServer
function M.create_sdk_mcp_server(args)
  local fn = "claude.create_sdk_mcp_server"
  if type(args) ~= "table" then
    check.fail(fn, "args", "{ name = ..., version = ..., tools = {...} }", args)
  end
  check.opts(fn, "args", args, { name = true, version = true, tools = true })
  check.string(fn, "args.name", args.name, { nonempty = true, text = true })
  check.string(fn, "args.version", args.version, { optional = true, text = true })
  check.list(fn, "args.tools", args.tools, "a list of tools made with claude.tool()", true)
  local s = setmetatable(
    { type = "sdk", name = args.name, version = args.version or "1.0.0", tools = {}, by_name = {} },
    Server
  )
  for i, t in ipairs(args.tools or {}) do
    if type(t) ~= "table" or t.handler == nil or type(t.input_schema) ~= "table" then
      check.fail(fn, ("args.tools[%d]"):format(i), "a tool made with claude.tool()", t)
    end
    s.tools[#s.tools + 1] = t
    s.by_name[t.name] = t
  end
  return s
end

--- True for a server made by create_sdk_mcp_server.
---@param v any
---@return boolean
function M.is_sdk_server(v)
  return getmetatable(v) == Server
end

local function rpc_result(id, result)
  return { jsonrpc = "2.0", id = id, result = result }
end

local function rpc_error(id, code, message)
  return { jsonrpc = "2.0", id = id, error = { code = code, message = message } }
end

local function text_result(text, is_error)
  return { content = json.array({ { type = "text", text = text } }), isError = is_error or nil }
end

-- Tool output to MCP content: a string is one text block; a table with
-- `content` (a list of content blocks) is used as given.  Anything else is
-- the handler's bug: the model gets an error result that says what was
-- wrong in the tool's own terms (never a trace from inside this library),
-- and so does the user reading the transcript.
local function normalize_result(tool, r)
  local function invalid(why)
    return text_result(("tool %s returned an invalid result: %s"):format(tool.name, why), true)
  end
  if type(r) == "string" then
    local path, why = check.json_problem(r, "result")
    if path then
      return invalid("the text is " .. why:gsub("^a string that ", ""))
    end
    return text_result(r)
  end
  if r == nil then
    return invalid('nothing (return a string or { content = { { type = "text", text = ... } } })')
  end
  if type(r) ~= "table" then
    return invalid(("a %s (return a string or { content = { ... } })"):format(type(r)))
  end
  local content = r.content
  if content == nil then
    content = {}
  end
  if type(content) ~= "table" then
    return invalid(
      ('content is a %s, not a list of content blocks such as { type = "text", text = ... }'):format(type(content))
    )
  end
  for i, block in ipairs(content) do
    if type(block) ~= "table" or type(block.type) ~= "string" then
      return invalid(("content[%d] is not a content block (a table with a type)"):format(i))
    end
  end
  local out = {}
  for k, v in pairs(r) do
    out[k] = v
  end
  out.content = json.array(content)
  if out.is_error ~= nil and out.isError == nil then
    out.isError = out.is_error
    out.is_error = nil
  end
  local path, why = check.json_problem(out, "result")
  if path then
    return invalid(("%s is %s, which JSON cannot carry"):format(path, why))
  end
  return out
end

--- Answer one JSON-RPC message for server `s`; returns the response object.
---@param msg table
---@param ctx table  passed to tool handlers
---@return table
function Server:handle(msg, ctx)
  local method, id = msg.method, msg.id
  if type(method) ~= "string" then
    return rpc_error(id, -32600, "Invalid Request")
  end
  if method == "initialize" then
    -- A repeated handshake is normal: the CLI does it again at the first turn.
    local params = type(msg.params) == "table" and msg.params or {}
    return rpc_result(id, {
      protocolVersion = params.protocolVersion or "2025-06-18",
      capabilities = { tools = {} },
      serverInfo = { name = self.name, version = self.version },
    })
  elseif method:sub(1, 14) == "notifications/" then
    -- Notifications still need an answer over the control channel.
    return { jsonrpc = "2.0", result = {} }
  elseif method == "ping" then
    return rpc_result(id, {})
  elseif method == "tools/list" then
    local list = json.array()
    for _, t in ipairs(self.tools) do
      local entry = { name = t.name, description = t.description, inputSchema = t.input_schema }
      if t.annotations then
        entry.annotations = t.annotations
      end
      if t.max_result_size_chars then
        entry._meta = { ["anthropic/maxResultSizeChars"] = t.max_result_size_chars }
      end
      list[#list + 1] = entry
    end
    return rpc_result(id, { tools = list })
  elseif method == "tools/call" then
    local params = type(msg.params) == "table" and msg.params or {}
    local t = self.by_name[params.name]
    if not t then
      return rpc_error(id, -32602, "Unknown tool: " .. tostring(params.name))
    end
    local args = type(params.arguments) == "table" and params.arguments or {}
    local meta = type(params._meta) == "table" and params._meta or {}
    local call_ctx = { server = self.name, tool = t.name, tool_use_id = meta["claudecode/toolUseId"] }
    for k, v in pairs(ctx or {}) do
      if call_ctx[k] == nil then
        call_ctx[k] = v
      end
    end
    local ok, r = pcall(t.handler, args, call_ctx)
    if not ok then
      if errors.is(r, "CancelledError") then
        error(r, 0)
      end
      local text = type(r) == "table" and r.message or tostring(r)
      return rpc_result(id, { content = json.array({ { type = "text", text = tostring(text) } }), isError = true })
    end
    return rpc_result(id, normalize_result(t, r))
  end
  return rpc_error(id, -32601, "Method not found: " .. method)
end

--- The mcp_message control request for a client: route to the named server.
---@param servers table<string, SdkMcpServer>
---@param req table  the control request body (server_name, message)
---@param ctx table
---@return table  the success payload {mcp_response = ...}
function M.handle_request(servers, req, ctx)
  local msg = type(req.message) == "table" and req.message or {}
  local s = servers and servers[req.server_name]
  if not s then
    return { mcp_response = rpc_error(msg.id, -32601, ("Server '%s' not found"):format(tostring(req.server_name))) }
  end
  return { mcp_response = s:handle(msg, ctx) }
end

return M
