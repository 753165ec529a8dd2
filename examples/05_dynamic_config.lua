-- 05_dynamic_config.lua: changing a setting in the middle of a conversation, the Lua twin of "Dynamic
-- Configuration" in the Python SDK's ClaudeSDKClient guide.
--
-- set_permission_mode() is a control request: it returns once the CLI has applied the new mode, which then holds
-- for the following turns. The system "init" message that opens each turn reports the mode in force, so this
-- example prints it: "default" for the first turn, "acceptEdits" for the second. (Never use "bypassPermissions"
-- as root: the CLI refuses to start.)
--
-- Run it (the CLI reaches the model through ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL in the environment; see
-- examples/README.md for the offline model server):
--   eval "$(make -s env)"; lua5.4 examples/05_dynamic_config.lua
--   eval "$(make -s env LUA=luajit)"; luajit examples/05_dynamic_config.lua

local claude = require("claude_agent_sdk")

local function print_turn(client)
  for msg in client:receive_response() do
    print(msg)
    if claude.isinstance(msg, claude.SystemMessage) and msg.subtype == "init" then
      print("  (permission mode: " .. tostring(msg.data.permissionMode) .. ")")
    end
  end
end

claude.with_client({}, function(client)
  -- Start with default permissions
  client:query("Analyze this codebase")
  print_turn(client)

  -- Switch to auto-accept edits
  client:set_permission_mode("acceptEdits")
  client:query("Now implement the fixes")
  print_turn(client)
end)
