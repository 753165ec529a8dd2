-- examples/python/stderr_callback_example.lua: the Lua port of the Python SDK's
-- examples/stderr_callback_example.py: the stderr option, a function called with each line the CLI writes to its
-- stderr (warnings, errors).
--
-- Run it (the CLI reaches the model through ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL in the environment; see
-- examples/README.md, and examples/scripts/python_examples.lua for the offline model server's answers):
--   eval "$(make -s env)"; lua5.4 examples/python/stderr_callback_example.lua
--   eval "$(make -s env LUA=luajit)"; luajit examples/python/stderr_callback_example.lua

local claude = require("claude_agent_sdk")

-- Capture stderr output from the CLI using a callback.
local function main()
  -- Collect stderr messages
  local stderr_messages = {}

  -- Callback that receives each line of stderr output.
  local function stderr_callback(message)
    stderr_messages[#stderr_messages + 1] = message
    -- Optionally print specific messages
    if message:find("[ERROR]", 1, true) then
      print("Error detected: " .. message)
    end
  end

  -- Create options with stderr callback. The callback receives any stderr the
  -- CLI emits (warnings, errors). For verbose CLI debug logs, pass
  -- extra_args = { ["debug-file"] = "/path/to/log" } and read that file instead.
  local options = { stderr = stderr_callback }

  -- Run a query
  print("Running query with stderr capture...")
  for message in
    claude.query({
      prompt = "What is 2+2?",
      options = options,
    })
  do
    if message.content ~= nil then
      if type(message.content) == "string" then
        print("Response: " .. message.content)
      end
    end
  end

  -- Show what we captured
  print(("\nCaptured %d stderr lines"):format(#stderr_messages))
  if #stderr_messages > 0 then
    print("First stderr line: " .. stderr_messages[1]:sub(1, 100))
  end
end

main()
