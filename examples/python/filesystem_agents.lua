-- examples/python/filesystem_agents.lua: the Lua port of the Python SDK's examples/filesystem_agents.py: agents
-- defined as markdown files in .claude/agents/, loaded with setting_sources = { "project" }.
--
-- The Python original runs the CLI in its repository's root, which holds .claude/agents/test-agent.md; this port
-- runs it in examples/ (the directory above this file), which holds a copy (examples/.claude/agents/test-agent.md).
--
-- Run it (the CLI reaches the model through ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL in the environment; see
-- examples/README.md, and examples/scripts/python_examples.lua for the offline model server's answers):
--   eval "$(make -s env)"; lua5.4 examples/python/filesystem_agents.lua
--   eval "$(make -s env LUA=luajit)"; luajit examples/python/filesystem_agents.lua

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

-- Python's type(msg).__name__: the class name the message's metatable carries.
local function type_name(msg)
  local mt = getmetatable(msg)
  return mt and mt.__name or msg.type
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

-- Extract agent names from system message init data.
local function extract_agents(msg)
  if msg.subtype == "init" then
    local agents = msg.data.agents or {}
    -- Agents can be either strings or tables with a 'name' field
    local result = {}
    for _, a in ipairs(agents) do
      if type(a) == "string" then
        result[#result + 1] = a
      elseif type(a) == "table" then
        result[#result + 1] = a.name or ""
      end
    end
    return result
  end
  return {}
end

-- Test loading filesystem-based agents.
local function main()
  print("=== Filesystem Agents Example ===")
  print("Testing: setting_sources=['project'] with .claude/agents/test-agent.md")
  print()

  -- Use the examples directory, which has .claude/agents/test-agent.md
  local sdk_dir = parent(parent(this_file()))

  local options = {
    setting_sources = { "project" },
    cwd = sdk_dir,
  }

  local message_types = {}
  local agents_found = {}

  claude.with_client(options, function(client)
    client:query("Say hello in exactly 3 words")

    for msg in client:receive_response() do
      message_types[#message_types + 1] = type_name(msg)

      if claude.isinstance(msg, claude.SystemMessage) and msg.subtype == "init" then
        agents_found = extract_agents(msg)
        print("Init message received. Agents loaded: " .. list_repr(agents_found))
      elseif claude.isinstance(msg, claude.AssistantMessage) then
        for _, block in ipairs(msg.content) do
          if claude.isinstance(block, claude.TextBlock) then
            print("Assistant: " .. block.text)
          end
        end
      elseif claude.isinstance(msg, claude.ResultMessage) then
        print(("Result: subtype=%s, cost=$%.4f"):format(msg.subtype, msg.total_cost_usd or 0))
      end
    end
  end)

  print()
  print("=== Summary ===")
  print("Message types received: " .. list_repr(message_types))
  print("Total messages: " .. #message_types)

  -- Validate the results
  local has_init = contains(message_types, "SystemMessage")
  local has_assistant = contains(message_types, "AssistantMessage")
  local has_result = contains(message_types, "ResultMessage")
  local has_test_agent = contains(agents_found, "test-agent")

  print()
  if has_init and has_assistant and has_result then
    print("SUCCESS: Received full response (init, assistant, result)")
  else
    print("FAILURE: Did not receive full response")
    print("  - Init: " .. (has_init and "True" or "False"))
    print("  - Assistant: " .. (has_assistant and "True" or "False"))
    print("  - Result: " .. (has_result and "True" or "False"))
  end

  if has_test_agent then
    print("SUCCESS: test-agent was loaded from filesystem")
  else
    print("WARNING: test-agent was NOT loaded (may not exist in .claude/agents/)")
  end
end

main()
