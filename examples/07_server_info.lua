-- 07_server_info.lua: what the Claude Code CLI reports about itself when the session starts, the Lua twin of
-- "Working with Server Info" in the Python SDK's ClaudeSDKClient guide.
--
-- get_server_info() returns the CLI's answer to the initialize request (a plain table: commands, output styles,
-- models, agents, ...) without talking to the CLI again, or nil before connect().
--
-- Run it (no model request is made, but the CLI still needs ANTHROPIC_API_KEY or a login to start):
--   eval "$(make -s env)"; lua5.4 examples/07_server_info.lua
--   eval "$(make -s env LUA=luajit)"; luajit examples/07_server_info.lua

local claude = require("claude_agent_sdk")

claude.with_client({}, function(client)
  -- Get server initialization info
  local server_info = client:get_server_info()

  if server_info then
    print(string.format("Available commands: %d", #(server_info.commands or {})))
    print("Output style: " .. tostring(server_info.output_style or "unknown"))

    -- Show available output styles
    local styles = server_info.available_output_styles or {}
    if #styles > 0 then
      print("Available output styles: " .. table.concat(styles, ", "))
    end
  end
end)
