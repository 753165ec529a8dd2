-- A minimal MCP server over stdio for the specs (spec/control_spec.lua): answers initialize, tools/list and
-- tools/call of one tool that reports the length of $MCP_SECRET, which the SDK must keep off the CLI's argv.
local cjson = require("cjson")
local function send(t)
  io.stdout:write(cjson.encode(t), "\n")
  io.stdout:flush()
end
for line in io.lines() do
  local ok, m = pcall(cjson.decode, line)
  if ok and type(m) == "table" and m.id ~= nil then
    if m.method == "initialize" then
      send({
        jsonrpc = "2.0",
        id = m.id,
        result = {
          protocolVersion = (m.params or {}).protocolVersion or "2025-06-18",
          capabilities = { tools = {} },
          serverInfo = { name = "stdio-test", version = "1.0.0" },
        },
      })
    elseif m.method == "tools/list" then
      send({
        jsonrpc = "2.0",
        id = m.id,
        result = {
          tools = {
            {
              name = "secret_length",
              description = "Length of the secret",
              inputSchema = { type = "object", properties = {} },
            },
          },
        },
      })
    elseif m.method == "tools/call" then
      send({
        jsonrpc = "2.0",
        id = m.id,
        result = { content = { { type = "text", text = tostring(#(os.getenv("MCP_SECRET") or "")) } } },
      })
    else
      send({ jsonrpc = "2.0", id = m.id, result = {} })
    end
  end
end
