-- examples/python/hooks.lua: the Lua port of the Python SDK's examples/hooks.py: hooks given in the options
-- (PreToolUse, UserPromptSubmit, PostToolUse): blocking a command, adding context to a prompt, reviewing a tool's
-- output, allowing or denying with a reason, and stopping the session with continue_ = false.
--
-- A hook is a Lua function(input_data, tool_use_id, context) returning the output table; Python's HookMatcher(...)
-- is claude.HookMatcher{ matcher =, hooks = }. `continue_` is accepted as in Python (the CLI's key is `continue`).
-- Python's logging goes to stderr as "<time> - <message>"; so does this port's.
--
-- Run it (the CLI reaches the model through ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL in the environment; see
-- examples/README.md, and examples/scripts/python_examples.lua for the offline model server's answers):
--   eval "$(make -s env)"; lua5.4 examples/python/hooks.lua all
--   eval "$(make -s env LUA=luajit)"; luajit examples/python/hooks.lua PreToolUse
-- With no argument it lists the examples.

local claude = require("claude_agent_sdk")

-- Python's logging.basicConfig(level=logging.INFO, format="%(asctime)s - %(message)s"), on stderr.
local logger = {}
local function log(message)
  io.stderr:write(os.date("%Y-%m-%d %H:%M:%S") .. ",000 - " .. message .. "\n")
end
logger.warning = log
logger.error = log

-- Python's str() of a tool response, for a substring search: JSON text for a table.
local function str(v)
  if type(v) == "table" then
    return claude.json.encode(v)
  end
  return tostring(v)
end

-- Standardized message display function.
local function display_message(msg)
  if claude.isinstance(msg, claude.AssistantMessage) then
    for _, block in ipairs(msg.content) do
      if claude.isinstance(block, claude.TextBlock) then
        print("Claude: " .. block.text)
      end
    end
  elseif claude.isinstance(msg, claude.ResultMessage) then
    print("Result ended")
  end
end

----- Hook callback functions

-- Prevent certain bash commands from being executed.
local function check_bash_command(input_data, tool_use_id, context)
  local tool_name = input_data.tool_name
  local tool_input = input_data.tool_input

  if tool_name ~= "Bash" then
    return {}
  end

  local command = tool_input.command or ""
  local block_patterns = { "foo.sh" }

  for _, pattern in ipairs(block_patterns) do
    if command:find(pattern, 1, true) then
      logger.warning("Blocked command: " .. command)
      return {
        hookSpecificOutput = {
          hookEventName = "PreToolUse",
          permissionDecision = "deny",
          permissionDecisionReason = "Command contains invalid pattern: " .. pattern,
        },
      }
    end
  end

  return {}
end

-- Add custom instructions when a session starts.
local function add_custom_instructions(input_data, tool_use_id, context)
  return {
    hookSpecificOutput = {
      hookEventName = "SessionStart",
      additionalContext = "My favorite color is hot pink",
    },
  }
end

-- Review tool output and provide additional context or warnings.
local function review_tool_output(input_data, tool_use_id, context)
  local tool_response = input_data.tool_response or ""

  -- If the tool produced an error, add helpful context
  if str(tool_response):lower():find("error", 1, true) then
    return {
      systemMessage = "⚠️ The command produced an error",
      reason = "Tool execution failed - consider checking the command syntax",
      hookSpecificOutput = {
        hookEventName = "PostToolUse",
        additionalContext = "The command encountered an error. You may want to try a different approach.",
      },
    }
  end

  return {}
end

-- Demonstrates using permissionDecision to control tool execution.
local function strict_approval_hook(input_data, tool_use_id, context)
  local tool_name = input_data.tool_name
  local tool_input = input_data.tool_input or {}

  -- Block any Write operations to specific files
  if tool_name == "Write" then
    local file_path = tool_input.file_path or ""
    if file_path:lower():find("important", 1, true) then
      logger.warning("Blocked Write to: " .. file_path)
      return {
        reason = "Writes to files containing 'important' in the name are not allowed for safety",
        systemMessage = "🚫 Write operation blocked by security policy",
        hookSpecificOutput = {
          hookEventName = "PreToolUse",
          permissionDecision = "deny",
          permissionDecisionReason = "Security policy blocks writes to important files",
        },
      }
    end
  end

  -- Allow everything else explicitly
  return {
    reason = "Tool use approved after security review",
    hookSpecificOutput = {
      hookEventName = "PreToolUse",
      permissionDecision = "allow",
      permissionDecisionReason = "Tool passed security checks",
    },
  }
end

-- Demonstrates using continue_ = false to stop execution on certain conditions.
local function stop_on_error_hook(input_data, tool_use_id, context)
  local tool_response = input_data.tool_response or ""

  -- Stop execution if we see a critical error
  if str(tool_response):lower():find("critical", 1, true) then
    logger.error("Critical error detected - stopping execution")
    return {
      continue_ = false,
      stopReason = "Critical error detected in tool output - execution halted for safety",
      systemMessage = "🛑 Execution stopped due to critical error",
    }
  end

  return { continue_ = true }
end

-- Basic example demonstrating hook protection.
local function example_pretooluse()
  print("=== PreToolUse Example ===")
  print("This example demonstrates how PreToolUse can block some bash commands but not others.\n")

  -- Configure hooks in the options
  local options = {
    allowed_tools = { "Bash" },
    hooks = {
      PreToolUse = {
        claude.HookMatcher({ matcher = "Bash", hooks = { check_bash_command } }),
      },
    },
  }

  claude.with_client(options, function(client)
    -- Test 1: Command with forbidden pattern (will be blocked)
    print("Test 1: Trying a command that our PreToolUse hook should block...")
    print("User: Run the bash command: ./foo.sh --help")
    client:query("Run the bash command: ./foo.sh --help")

    for msg in client:receive_response() do
      display_message(msg)
    end

    print("\n" .. ("="):rep(50) .. "\n")

    -- Test 2: Safe command that should work
    print("Test 2: Trying a command that our PreToolUse hook should allow...")
    print("User: Run the bash command: echo 'Hello from hooks example!'")
    client:query("Run the bash command: echo 'Hello from hooks example!'")

    for msg in client:receive_response() do
      display_message(msg)
    end

    print("\n" .. ("="):rep(50) .. "\n")
  end)

  print("\n")
end

-- Demonstrate context retention across conversation.
local function example_userpromptsubmit()
  print("=== UserPromptSubmit Example ===")
  print("This example shows how a UserPromptSubmit hook can add context.\n")

  local options = {
    hooks = {
      UserPromptSubmit = {
        claude.HookMatcher({ matcher = nil, hooks = { add_custom_instructions } }),
      },
    },
  }

  claude.with_client(options, function(client)
    print("User: What's my favorite color?")
    client:query("What's my favorite color?")

    for msg in client:receive_response() do
      display_message(msg)
    end
  end)

  print("\n")
end

-- Demonstrate PostToolUse hook with reason and systemMessage fields.
local function example_posttooluse()
  print("=== PostToolUse Example ===")
  print("This example shows how PostToolUse can provide feedback with reason and systemMessage.\n")

  local options = {
    allowed_tools = { "Bash" },
    hooks = {
      PostToolUse = {
        claude.HookMatcher({ matcher = "Bash", hooks = { review_tool_output } }),
      },
    },
  }

  claude.with_client(options, function(client)
    print("User: Run a command that will produce an error: ls /nonexistent_directory")
    client:query("Run this command: ls /nonexistent_directory")

    for msg in client:receive_response() do
      display_message(msg)
    end
  end)

  print("\n")
end

-- Demonstrate permissionDecision, reason, and systemMessage fields.
local function example_decision_fields()
  print("=== Permission Decision Example ===")
  print("This example shows how to use permissionDecision='allow'/'deny' with reason and systemMessage.\n")

  local options = {
    allowed_tools = { "Write", "Bash" },
    model = "claude-sonnet-4-5-20250929",
    hooks = {
      PreToolUse = {
        claude.HookMatcher({ matcher = "Write", hooks = { strict_approval_hook } }),
      },
    },
  }

  claude.with_client(options, function(client)
    -- Test 1: Try to write to a file with "important" in the name (should be blocked)
    print("Test 1: Trying to write to important_config.txt (should be blocked)...")
    print("User: Write 'test' to important_config.txt")
    client:query("Write the text 'test data' to a file called important_config.txt")

    for msg in client:receive_response() do
      display_message(msg)
    end

    print("\n" .. ("="):rep(50) .. "\n")

    -- Test 2: Write to a regular file (should be approved)
    print("Test 2: Trying to write to regular_file.txt (should be approved)...")
    print("User: Write 'test' to regular_file.txt")
    client:query("Write the text 'test data' to a file called regular_file.txt")

    for msg in client:receive_response() do
      display_message(msg)
    end
  end)

  print("\n")
end

-- Demonstrate continue and stopReason fields for execution control.
local function example_continue_control()
  print("=== Continue/Stop Control Example ===")
  print("This example shows how to use continue_=False with stopReason to halt execution.\n")

  local options = {
    allowed_tools = { "Bash" },
    hooks = {
      PostToolUse = {
        claude.HookMatcher({ matcher = "Bash", hooks = { stop_on_error_hook } }),
      },
    },
  }

  claude.with_client(options, function(client)
    print("User: Run a command that outputs 'CRITICAL ERROR'")
    client:query("Run this bash command: echo 'CRITICAL ERROR: system failure'")

    for msg in client:receive_response() do
      display_message(msg)
    end
  end)

  print("\n")
end

-- Run all examples or a specific example based on command line argument.
local function main()
  local names = { "PreToolUse", "UserPromptSubmit", "PostToolUse", "DecisionFields", "ContinueControl" }
  local examples = {
    PreToolUse = example_pretooluse,
    UserPromptSubmit = example_userpromptsubmit,
    PostToolUse = example_posttooluse,
    DecisionFields = example_decision_fields,
    ContinueControl = example_continue_control,
  }

  if #arg < 1 then
    -- List available examples
    print("Usage: lua hooks.lua <example_name>")
    print("\nAvailable examples:")
    print("  all - Run all examples")
    for _, name in ipairs(names) do
      print("  " .. name)
    end
    print("\nExample descriptions:")
    print("  PreToolUse       - Block commands using PreToolUse hook")
    print("  UserPromptSubmit - Add context at prompt submission")
    print("  PostToolUse      - Review tool output with reason and systemMessage")
    print("  DecisionFields   - Use permissionDecision='allow'/'deny' with reason")
    print("  ContinueControl  - Control execution with continue_ and stopReason")
    os.exit(0)
  end

  local example_name = arg[1]

  if example_name == "all" then
    -- Run all examples
    for _, name in ipairs(names) do
      examples[name]()
      print(("-"):rep(50) .. "\n")
    end
  elseif examples[example_name] then
    -- Run specific example
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

print("Starting Claude SDK Hooks Examples...")
print(("="):rep(50) .. "\n")
main()
