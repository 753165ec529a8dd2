-- 08_error_handling.lua: handling a connection failure and a response that takes too long, the Lua twin of "Error
-- Handling" in the Python SDK's ClaudeSDKClient guide.
--
-- Errors are typed objects raised with error(); catch them with pcall and test their kind with
-- claude.errors.is(err, "Kind") (kinds nest: a CLINotFoundError is also a CLIConnectionError). Python's
-- `asyncio.timeout(10.0)` becomes receive_response({ timeout = 10 }): when 10 s pass before the turn ends, the
-- iterator raises a TimeoutError, and messages that arrive later stay queued for the next receive. Here the
-- turn is then interrupted, so the CLI stops working on it and disconnect() returns at once (without it,
-- disconnect would give the busy CLI its 5 s grace period to finish before terminating it).
--
-- Takes about 10 seconds. Run it (the CLI reaches the model through ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL in
-- the environment; see examples/README.md for the offline model server, whose demo answer to this prompt is slow
-- on purpose):
--   eval "$(make -s env)"; lua5.4 examples/08_error_handling.lua
--   eval "$(make -s env LUA=luajit)"; luajit examples/08_error_handling.lua

local claude = require("claude_agent_sdk")

local client = claude.ClaudeSDKClient.new()

local ok, err = pcall(function()
  client:connect()

  -- Send a long-running query
  client:query("Run a bash sleep command for 60 seconds")

  -- Try to receive with timeout
  local received, rerr = pcall(function()
    for msg in client:receive_response({ timeout = 10 }) do
      print(msg)
    end
  end)
  if not received then
    if claude.errors.is(rerr, "TimeoutError") then
      print("Response timeout - handling gracefully")
      -- Can interrupt or disconnect as needed
      client:interrupt()
    else
      error(rerr, 0) -- not ours to handle here: let the outer handler see it
    end
  end
end)

if not ok then
  if claude.errors.is(err, "CLIConnectionError") then
    print("Connection error: " .. err.message)
  else
    print("Unexpected error: " .. tostring(err))
  end
end

-- Always disconnect
client:disconnect()
