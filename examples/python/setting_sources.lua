-- examples/python/setting_sources.lua: the Lua port of the Python SDK's examples/setting_sources.py: which
-- setting sources (user, project, local) the CLI loads, seen through the slash commands the init message lists.
--
-- The Python original runs the CLI in its repository's root, which holds .claude/commands/commit.md; this port runs
-- it in examples/ (the directory above this file), which holds one (examples/.claude/commands/commit.md).
--
-- Run it (the CLI reaches the model through ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL in the environment; see
-- examples/README.md, and examples/scripts/python_examples.lua for the offline model server's answers):
--   eval "$(make -s env)"; lua5.4 examples/python/setting_sources.lua all
--   eval "$(make -s env LUA=luajit)"; luajit examples/python/setting_sources.lua default
-- With no argument it lists the examples.

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

local function contains(list, value)
  for _, v in ipairs(list) do
    if v == value then
      return true
    end
  end
  return false
end

-- Extract slash command names from system message.
local function extract_slash_commands(msg)
  if msg.subtype == "init" then
    local commands = msg.data.slash_commands or {}
    return commands
  end
  return {}
end

-- Default behavior: nil loads CLI default sources (user, project, local).
local function example_default()
  print("=== Default Behavior Example ===")
  print("Setting sources: None (default)")
  print("Expected: project slash commands like /commit ARE available\n")

  local sdk_dir = parent(parent(this_file()))

  local options = {
    cwd = sdk_dir,
  }

  claude.with_client(options, function(client)
    client:query("What is 2 + 2?")

    for msg in client:receive_response() do
      if claude.isinstance(msg, claude.SystemMessage) and msg.subtype == "init" then
        local commands = extract_slash_commands(msg)
        print("Available slash commands: " .. list_repr(commands))
        if contains(commands, "commit") then
          print("✓ /commit is available (expected: CLI defaults loaded)")
        else
          print("❌ /commit is NOT available (unexpected)")
        end
        break
      end
    end
  end)

  print()
end

-- Empty list disables all filesystem setting sources.
local function example_disable_all()
  print("=== Disable All Sources Example ===")
  print("Setting sources: []")
  print("Expected: no custom slash commands will be available\n")

  local sdk_dir = parent(parent(this_file()))

  local options = {
    setting_sources = {},
    cwd = sdk_dir,
  }

  claude.with_client(options, function(client)
    client:query("What is 2 + 2?")

    for msg in client:receive_response() do
      if claude.isinstance(msg, claude.SystemMessage) and msg.subtype == "init" then
        local commands = extract_slash_commands(msg)
        print("Available slash commands: " .. list_repr(commands))
        if contains(commands, "commit") then
          print("❌ /commit is available (unexpected)")
        else
          print("✓ /commit is NOT available (expected: sources disabled)")
        end
        break
      end
    end
  end)

  print()
end

-- Load only user-level settings, excluding project settings.
local function example_user_only()
  print("=== User Settings Only Example ===")
  print("Setting sources: ['user']")
  print("Expected: Project slash commands (like /commit) will NOT be available\n")

  -- Use the examples directory, which has .claude/commands/commit.md
  local sdk_dir = parent(parent(this_file()))

  local options = {
    setting_sources = { "user" },
    cwd = sdk_dir,
  }

  claude.with_client(options, function(client)
    -- Send a simple query
    client:query("What is 2 + 2?")

    -- Check the initialize message for available commands
    for msg in client:receive_response() do
      if claude.isinstance(msg, claude.SystemMessage) and msg.subtype == "init" then
        local commands = extract_slash_commands(msg)
        print("Available slash commands: " .. list_repr(commands))
        if contains(commands, "commit") then
          print("❌ /commit is available (unexpected)")
        else
          print("✓ /commit is NOT available (expected)")
        end
        break
      end
    end
  end)

  print()
end

-- Load both project and user settings.
local function example_project_and_user()
  print("=== Project + User Settings Example ===")
  print("Setting sources: ['user', 'project']")
  print("Expected: Project slash commands (like /commit) WILL be available\n")

  local sdk_dir = parent(parent(this_file()))

  local options = {
    setting_sources = { "user", "project" },
    cwd = sdk_dir,
  }

  claude.with_client(options, function(client)
    client:query("What is 2 + 2?")

    for msg in client:receive_response() do
      if claude.isinstance(msg, claude.SystemMessage) and msg.subtype == "init" then
        local commands = extract_slash_commands(msg)
        print("Available slash commands: " .. list_repr(commands))
        if contains(commands, "commit") then
          print("✓ /commit is available (expected)")
        else
          print("❌ /commit is NOT available (unexpected)")
        end
        break
      end
    end
  end)

  print()
end

-- Run all examples or a specific example based on command line argument.
local function main()
  local names = { "default", "disable_all", "user_only", "project_and_user" }
  local examples = {
    default = example_default,
    disable_all = example_disable_all,
    user_only = example_user_only,
    project_and_user = example_project_and_user,
  }

  if #arg < 1 then
    print("Usage: lua setting_sources.lua <example_name>")
    print("\nAvailable examples:")
    print("  all - Run all examples")
    for _, name in ipairs(names) do
      print("  " .. name)
    end
    os.exit(0)
  end

  local example_name = arg[1]

  if example_name == "all" then
    for _, name in ipairs(names) do
      examples[name]()
      print(("-"):rep(50) .. "\n")
    end
  elseif examples[example_name] then
    examples[example_name]()
  else
    print(("Error: Unknown example '%s'"):format(example_name))
    print("\nAvailable examples:")
    print("  all - Run all examples")
    for _, name in ipairs(names) do
      print("  " .. name)
    end
    os.exit(1)
  end
end

print("Starting Claude SDK Setting Sources Examples...")
print(("="):rep(50) .. "\n")
main()
