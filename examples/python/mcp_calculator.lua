-- examples/python/mcp_calculator.lua: the Lua port of the Python SDK's examples/mcp_calculator.py: an in-process
-- MCP server with calculator tools (claude.tool + claude.create_sdk_mcp_server), called by Claude as
-- mcp__calc__<name>, one prompt per session.
--
-- Python's @tool("add", "Add two numbers", {"a": float, "b": float}) is claude.tool("add", "Add two numbers",
-- { a = "number", b = "number" }, handler). The tools' texts print numbers as Python does (15, 14.285714285714286,
-- 12.0), so both SDKs send the model the same results. Tool inputs and results print as JSON, where Python
-- prints its dict and list reprs.
--
-- Run it (the CLI reaches the model through ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL in the environment; see
-- examples/README.md, and examples/scripts/python_examples.lua for the offline model server's answers):
--   eval "$(make -s env)"; lua5.4 examples/python/mcp_calculator.lua
--   eval "$(make -s env LUA=luajit)"; luajit examples/python/mcp_calculator.lua

local claude = require("claude_agent_sdk")

-- Python's repr() of a float: the shortest text that reads back the same, with ".0" when it is whole.
local function py_float(x)
  local s
  for digits = 1, 17 do
    s = ("%." .. digits .. "g"):format(x)
    if tonumber(s) == x then
      break
    end
  end
  if not s:find("[%.eninf]") then
    s = s .. ".0"
  end
  return s
end

-- Is x an integer, as Python would have it (a JSON integer, or int arithmetic)? Lua 5.4 knows; LuaJIT has only
-- floats, so a whole number counts as one there.
local function is_int(x)
  if math.type then
    return math.type(x) == "integer"
  end
  return x == math.floor(x) and x > -2 ^ 53 and x < 2 ^ 53
end

-- Python's str() of a number.
local function num(x)
  if is_int(x) then
    return ("%d"):format(x)
  end
  return py_float(x)
end

-- Define calculator tools with claude.tool

-- Add two numbers together.
local add_numbers = claude.tool("add", "Add two numbers", { a = "number", b = "number" }, function(args)
  local result = args.a + args.b
  return {
    content = { { type = "text", text = ("%s + %s = %s"):format(num(args.a), num(args.b), num(result)) } },
  }
end)

-- Subtract b from a.
local subtract_numbers = claude.tool(
  "subtract",
  "Subtract one number from another",
  { a = "number", b = "number" },
  function(args)
    local result = args.a - args.b
    return {
      content = { { type = "text", text = ("%s - %s = %s"):format(num(args.a), num(args.b), num(result)) } },
    }
  end
)

-- Multiply two numbers.
local multiply_numbers = claude.tool("multiply", "Multiply two numbers", { a = "number", b = "number" }, function(args)
  local result = args.a * args.b
  return {
    content = { { type = "text", text = ("%s × %s = %s"):format(num(args.a), num(args.b), num(result)) } },
  }
end)

-- Divide a by b.
local divide_numbers = claude.tool(
  "divide",
  "Divide one number by another",
  { a = "number", b = "number" },
  function(args)
    if args.b == 0 then
      return {
        content = {
          { type = "text", text = "Error: Division by zero is not allowed" },
        },
        is_error = true,
      }
    end

    local result = args.a / args.b
    return {
      content = { { type = "text", text = ("%s ÷ %s = %s"):format(num(args.a), num(args.b), py_float(result)) } },
    }
  end
)

-- Calculate the square root of a number.
local square_root = claude.tool("sqrt", "Calculate square root", { n = "number" }, function(args)
  local n = args.n
  if n < 0 then
    return {
      content = {
        {
          type = "text",
          text = ("Error: Cannot calculate square root of negative number %s"):format(num(n)),
        },
      },
      is_error = true,
    }
  end

  local result = math.sqrt(n)
  return { content = { { type = "text", text = ("√%s = %s"):format(num(n), py_float(result)) } } }
end)

-- Raise base to the exponent power.
local power = claude.tool("power", "Raise a number to a power", { base = "number", exponent = "number" }, function(args)
  local result = args.base ^ args.exponent
  -- int ** int is an int in Python (for a non-negative exponent)
  local shown = (is_int(args.base) and is_int(args.exponent) and args.exponent >= 0) and ("%d"):format(result)
    or py_float(result)
  return {
    content = {
      { type = "text", text = ("%s^%s = %s"):format(num(args.base), num(args.exponent), shown) },
    },
  }
end)

-- Display message content in a clean format.
local function display_message(msg)
  if claude.isinstance(msg, claude.UserMessage) then
    for _, block in ipairs(type(msg.content) == "table" and msg.content or {}) do
      if claude.isinstance(block, claude.TextBlock) then
        print("User: " .. block.text)
      elseif claude.isinstance(block, claude.ToolResultBlock) then
        local content = block.content
        if type(content) == "string" then
          content = content:sub(1, 100)
        elseif content ~= nil then
          content = claude.json.encode(content)
        end
        print(("Tool Result: %s..."):format(content or "None"))
      end
    end
  elseif claude.isinstance(msg, claude.AssistantMessage) then
    for _, block in ipairs(msg.content) do
      if claude.isinstance(block, claude.TextBlock) then
        print("Claude: " .. block.text)
      elseif claude.isinstance(block, claude.ToolUseBlock) then
        print("Using tool: " .. block.name)
        -- Show tool inputs for calculator
        if next(block.input) ~= nil then
          print("  Input: " .. claude.json.encode(block.input))
        end
      end
    end
  elseif claude.isinstance(msg, claude.SystemMessage) then
    -- Ignore system messages
  elseif claude.isinstance(msg, claude.ResultMessage) then
    print("Result ended")
    if msg.total_cost_usd and msg.total_cost_usd ~= 0 then
      print(("Cost: $%.6f"):format(msg.total_cost_usd))
    end
  end
end

-- Run example calculations using the SDK MCP server with streaming client.
local function main()
  -- Create the calculator server with all tools
  local calculator = claude.create_sdk_mcp_server({
    name = "calculator",
    version = "2.0.0",
    tools = {
      add_numbers,
      subtract_numbers,
      multiply_numbers,
      divide_numbers,
      square_root,
      power,
    },
  })

  -- Configure Claude to use the calculator server with allowed tools
  -- Pre-approve all calculator MCP tools so they can be used without permission prompts
  local options = {
    mcp_servers = { calc = calculator },
    allowed_tools = {
      "mcp__calc__add",
      "mcp__calc__subtract",
      "mcp__calc__multiply",
      "mcp__calc__divide",
      "mcp__calc__sqrt",
      "mcp__calc__power",
    },
  }

  -- Example prompts to demonstrate calculator usage
  local prompts = {
    "List your tools",
    "Calculate 15 + 27",
    "What is 100 divided by 7?",
    "Calculate the square root of 144",
    "What is 2 raised to the power of 8?",
    "Calculate (12 + 8) * 3 - 10", -- Complex calculation
  }

  for _, prompt in ipairs(prompts) do
    print(("\n%s"):format(("="):rep(50)))
    print("Prompt: " .. prompt)
    print(("="):rep(50))

    claude.with_client(options, function(client)
      client:query(prompt)

      for message in client:receive_response() do
        display_message(message)
      end
    end)
  end
end

main()
