-- examples/python/tool_permission_callback.lua: the Lua port of the Python SDK's
-- examples/tool_permission_callback.py: a can_use_tool callback that allows read-only tools, denies writes to
-- system directories, redirects other writes to ./safe_output/, screens Bash commands, logs every request and
-- asks on stdin about any other tool.
--
-- The callback is a Lua function(tool_name, input_data, context) returning claude.PermissionResultAllow{...} or
-- claude.PermissionResultDeny{...}. Python's json.dumps(x, indent=N) is json_dumps below (keys sorted, as the
-- offline model server writes them); the suggestions print as the library's PermissionUpdate values.
--
-- Run it (the CLI reaches the model through ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL in the environment; see
-- examples/README.md, and examples/scripts/python_examples.lua for the offline model server's answers):
--   eval "$(make -s env)"; lua5.4 examples/python/tool_permission_callback.lua
--   eval "$(make -s env LUA=luajit)"; luajit examples/python/tool_permission_callback.lua

local claude = require("claude_agent_sdk")

-- Python's json.dumps(value, indent=indent): one member a line, keys sorted.
local function json_dumps(value, indent, depth)
  depth = depth or 0
  if type(value) ~= "table" or value == claude.null or next(value) == nil then
    return claude.json.encode(value)
  end
  local pad, inner = (" "):rep(indent * depth), (" "):rep(indent * (depth + 1))
  local items = {}
  if claude.json.is_array(value) or #value > 0 then
    for i, v in ipairs(value) do
      items[i] = inner .. json_dumps(v, indent, depth + 1)
    end
    return "[\n" .. table.concat(items, ",\n") .. "\n" .. pad .. "]"
  end
  local keys = {}
  for k in pairs(value) do
    keys[#keys + 1] = k
  end
  table.sort(keys)
  for i, k in ipairs(keys) do
    items[i] = inner .. claude.json.encode(k) .. ": " .. json_dumps(value[k], indent, depth + 1)
  end
  return "{\n" .. table.concat(items, ",\n") .. "\n" .. pad .. "}"
end

local function starts_with(s, prefix)
  return s:sub(1, #prefix) == prefix
end

local function one_of(value, list)
  for _, v in ipairs(list) do
    if v == value then
      return true
    end
  end
  return false
end

-- Track tool usage for demonstration
local tool_usage_log = {}

-- Control tool permissions based on tool type and input.
local function my_permission_callback(tool_name, input_data, context)
  -- Log the tool request
  tool_usage_log[#tool_usage_log + 1] = {
    tool = tool_name,
    input = input_data,
    suggestions = context.suggestions,
  }

  print("\n🔧 Tool Permission Request: " .. tool_name)
  print("   Input: " .. json_dumps(input_data, 2))

  -- Always allow read operations
  if one_of(tool_name, { "Read", "Glob", "Grep" }) then
    print(("   ✅ Automatically allowing %s (read-only operation)"):format(tool_name))
    return claude.PermissionResultAllow()
  end

  -- Deny write operations to system directories
  if one_of(tool_name, { "Write", "Edit", "MultiEdit" }) then
    local file_path = input_data.file_path or ""
    if starts_with(file_path, "/etc/") or starts_with(file_path, "/usr/") then
      print("   ❌ Denying write to system directory: " .. file_path)
      return claude.PermissionResultDeny({
        message = "Cannot write to system directory: " .. file_path,
      })
    end

    -- Redirect writes to a safe directory
    if not starts_with(file_path, "/tmp/") and not starts_with(file_path, "./") then
      local safe_path = "./safe_output/" .. file_path:match("[^/]*$")
      print(("   ⚠️  Redirecting write from %s to %s"):format(file_path, safe_path))
      local modified_input = {}
      for k, v in pairs(input_data) do
        modified_input[k] = v
      end
      modified_input.file_path = safe_path
      return claude.PermissionResultAllow({
        updated_input = modified_input,
      })
    end
  end

  -- Check dangerous bash commands
  if tool_name == "Bash" then
    local command = input_data.command or ""
    local dangerous_commands = { "rm -rf", "sudo", "chmod 777", "dd if=", "mkfs" }

    for _, dangerous in ipairs(dangerous_commands) do
      if command:find(dangerous, 1, true) then
        print("   ❌ Denying dangerous command: " .. command)
        return claude.PermissionResultDeny({
          message = "Dangerous command pattern detected: " .. dangerous,
        })
      end
    end

    -- Allow but log the command
    print("   ✅ Allowing bash command: " .. command)
    return claude.PermissionResultAllow()
  end

  -- For all other tools, ask the user
  print("   ❓ Unknown tool: " .. tool_name)
  print("      Input: " .. json_dumps(input_data, 6))
  io.write("   Allow this tool? (y/N): ")
  io.flush()
  local line = io.read("l")
  if line == nil then
    -- what Python's input() does at the end of stdin (EOFError); the SDK reports it to the CLI as the
    -- callback's failure, as the Python SDK does
    error("EOF when reading a line", 0)
  end
  local user_input = line:match("^%s*(.-)%s*$"):lower()

  if user_input == "y" or user_input == "yes" then
    return claude.PermissionResultAllow()
  else
    return claude.PermissionResultDeny({
      message = "User denied permission",
    })
  end
end

-- Run example with tool permission callbacks.
local function main()
  print(("="):rep(60))
  print("Tool Permission Callback Example")
  print(("="):rep(60))
  print("\nThis example demonstrates how to:")
  print("1. Allow/deny tools based on type")
  print("2. Modify tool inputs for safety")
  print("3. Log tool usage")
  print("4. Prompt for unknown tools")
  print(("="):rep(60))

  -- Configure options with our callback
  local options = {
    can_use_tool = my_permission_callback,
    -- Use default permission mode to ensure callbacks are invoked
    permission_mode = "default",
    cwd = ".", -- Set working directory
  }

  -- Create client and send a query that will use multiple tools
  claude.with_client(options, function(client)
    print("\n📝 Sending query to Claude...")
    client:query(
      "Please do the following:\n"
        .. "1. List the files in the current directory\n"
        .. "2. Create a simple Python hello world script at hello.py\n"
        .. "3. Run the script to test it"
    )

    print("\n📨 Receiving response...")
    local message_count = 0

    for message in client:receive_response() do
      message_count = message_count + 1

      if claude.isinstance(message, claude.AssistantMessage) then
        -- Print Claude's text responses
        for _, block in ipairs(message.content) do
          if claude.isinstance(block, claude.TextBlock) then
            print("\n💬 Claude: " .. block.text)
          end
        end
      elseif claude.isinstance(message, claude.ResultMessage) then
        print("\n✅ Task completed!")
        print(("   Duration: %dms"):format(message.duration_ms))
        if message.total_cost_usd and message.total_cost_usd ~= 0 then
          print(("   Cost: $%.4f"):format(message.total_cost_usd))
        end
        print("   Messages processed: " .. message_count)
      end
    end
  end)

  -- Print tool usage summary
  print("\n" .. ("="):rep(60))
  print("Tool Usage Summary")
  print(("="):rep(60))
  for i, usage in ipairs(tool_usage_log) do
    print(("\n%d. Tool: %s"):format(i, usage.tool))
    print("   Input: " .. json_dumps(usage.input, 6))
    if #usage.suggestions > 0 then
      local shown = {}
      for j, s in ipairs(usage.suggestions) do
        shown[j] = tostring(s)
      end
      print("   Suggestions: [" .. table.concat(shown, ", ") .. "]")
    end
  end
end

main()
