-- examples/python/plugin_example.lua: the Lua port of the Python SDK's examples/plugin_example.py: a local plugin
-- (examples/python/plugins/demo-plugin, with a /greet command) loaded through the plugins option, and seen in the
-- init message.
--
-- Python's list(message.data.keys()) is in the order the CLI wrote them; a Lua table keeps no order, so this port
-- lists the keys sorted.
--
-- Run it (the CLI reaches the model through ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL in the environment; see
-- examples/README.md, and examples/scripts/python_examples.lua for the offline model server's answers):
--   eval "$(make -s env)"; lua5.4 examples/python/plugin_example.lua
--   eval "$(make -s env LUA=luajit)"; luajit examples/python/plugin_example.lua

local claude = require("claude_agent_sdk")

-- Python's Path(__file__): this script's path, absolute as Python makes the main script's.
local function this_file()
  local path = debug.getinfo(1, "S").source:gsub("^@", "")
  if path:sub(1, 1) ~= "/" then
    path = (os.getenv("PWD") or ".") .. "/" .. path
  end
  return path
end

-- Python's Path.parent.
local function parent(path)
  return (path:gsub("/[^/]*$", ""))
end

-- Python's repr() of a list of strings: ['a', 'b'].
local function list_repr(list)
  local parts = {}
  for i, s in ipairs(list) do
    parts[i] = "'" .. s .. "'"
  end
  return "[" .. table.concat(parts, ", ") .. "]"
end

-- Example showing plugins being loaded in the system message.
local function plugin_example()
  print("=== Plugin Example ===\n")

  -- Get the path to the demo plugin
  -- In production, you can use any path to your plugin directory
  local plugin_path = parent(this_file()) .. "/plugins/demo-plugin"

  local options = {
    plugins = {
      {
        type = "local",
        path = plugin_path,
      },
    },
    max_turns = 1, -- Limit to one turn for quick demo
  }

  print(("Loading plugin from: %s\n"):format(plugin_path))

  local found_plugins = false
  for message in claude.query({ prompt = "Hello!", options = options }) do
    if claude.isinstance(message, claude.SystemMessage) and message.subtype == "init" then
      print("System initialized!")
      local keys = {}
      for k in pairs(message.data) do
        keys[#keys + 1] = k
      end
      table.sort(keys)
      print(("System message data keys: %s\n"):format(list_repr(keys)))

      -- Check for plugins in the system message
      local plugins_data = message.data.plugins or {}
      if #plugins_data > 0 then
        print("Plugins loaded:")
        for _, plugin in ipairs(plugins_data) do
          print(("  - %s (path: %s)"):format(tostring(plugin.name), tostring(plugin.path)))
        end
        found_plugins = true
      else
        print("Note: Plugin was passed via CLI but may not appear in system message.")
        print("Plugin path configured: " .. plugin_path)
        found_plugins = true
      end
    end
  end

  if found_plugins then
    print("\nPlugin successfully configured!\n")
  end
end

-- Run all plugin examples.
local function main()
  plugin_example()
end

main()
