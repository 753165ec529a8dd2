-- LuaCATS annotations (issue 8, "Types").  Debian packages no lua-language-server, so this spec checks the
-- annotations itself, at run time and on the source text:
--   * every public function (reachable from require("claude_agent_sdk"): the module table, the modules and
--     classes it exposes, and the methods of the objects its constructors return) has a LuaCATS block right
--     above its definition: a description line, `---@param` for each parameter (and `...`), `---@return` when
--     it returns a value; and no stale `---@param` / `---@return`.  Names starting with "_" are private.
--   * every class an object can have (message and block classes, errors, ClaudeSDKClient, ...) has one
--     `---@class` declaration, with a `---@field` for each field it is built with; message classes in the
--     meta file types.lua follow messages.lua's field lists and their parents.
--   * ClaudeAgentOptions declares exactly the option keys options.lua accepts, and ClaudeAgentSDK (the module
--     table) the fields init.lua copies in by a loop (message classes, error kinds).
--   * every annotation in the library has a type, with balanced brackets (no LuaCATS parser is at hand).
-- Failures name file:line and the function or class.
local claude = require("claude_agent_sdk")
assert(claude.sessions) -- loaded on first access: the walk below must see it
local messages = require("claude_agent_sdk.messages")
local options = require("claude_agent_sdk.options")
local permissions = require("claude_agent_sdk.permissions")
local core = require("claude_agent_sdk.core")

-- The library's directory, from where init.lua was loaded.
local LIB = debug.getinfo(claude.with_client, "S").source:match("^@(.*)/init%.lua$")
assert(LIB, "cannot find the library directory from init.lua's source name")

local file_cache = {}
local function lines_of(path)
  local lines = file_cache[path]
  if lines then
    return lines
  end
  lines = {}
  local f = assert(io.open(path, "r"))
  for line in f:lines() do
    lines[#lines + 1] = line
  end
  f:close()
  file_cache[path] = lines
  return lines
end

local function short(path)
  return (path:gsub("^.*/lua/", "lua/"))
end

---------------------------------------------------------------------------
-- Public functions

-- { path, fn } for each public Lua function, each function once (C functions are not checked).
local function public_functions()
  local found, seen_fn, seen_tbl = {}, {}, {}
  local function walk(v, path, depth)
    if type(v) == "function" then
      if not seen_fn[v] and debug.getinfo(v, "S").what == "Lua" then
        seen_fn[v] = true
        found[#found + 1] = { path = path, fn = v }
      end
    elseif type(v) == "table" and not seen_tbl[v] and depth < 6 then
      seen_tbl[v] = true
      local keys = {}
      for k in pairs(v) do
        if type(k) == "string" and k:sub(1, 1) ~= "_" then
          keys[#keys + 1] = k
        end
      end
      table.sort(keys)
      for _, k in ipairs(keys) do
        walk(v[k], path .. "." .. k, depth + 1)
      end
      local mt = getmetatable(v)
      if type(mt) == "table" and type(mt.__index) == "table" then
        walk(mt.__index, path, depth + 1)
      end
    end
  end
  walk(claude, "claude", 0)
  -- methods of the objects the public constructors return
  local task = claude.spawn(function() end)
  walk(getmetatable(task), "ClaudeTask", 0)
  walk(getmetatable(claude.errors.new("ClaudeSDKError", "x")).__index, "ClaudeSDKError", 0)
  walk(getmetatable(claude.create_sdk_mcp_server({ name = "s" })), "SdkMcpServer", 0)
  walk(permissions.context({}), "ToolPermissionContext", 0)
  return found
end

-- Source text without comments; strings become the word S.
local function strip(src)
  local out, i, n = {}, 1, #src
  while i <= n do
    local c = src:sub(i, i)
    if src:sub(i, i + 1) == "--" then
      local eq = src:match("^%[(=*)%[", i + 2)
      local j
      if eq then
        local close = "]" .. eq .. "]"
        j = src:find(close, i + 4 + #eq, true)
        j = j and j + #close or n + 1
      else
        j = src:find("\n", i, true) or n + 1
      end
      out[#out + 1] = " "
      i = j
    elseif c == "[" and src:match("^%[=*%[", i) then
      local eq = src:match("^%[(=*)%[", i)
      local close = "]" .. eq .. "]"
      local j = src:find(close, i + 2 + #eq, true)
      out[#out + 1] = " S "
      i = j and j + #close or n + 1
    elseif c == '"' or c == "'" then
      local j = i + 1
      while j <= n do
        local d = src:sub(j, j)
        if d == "\\" then
          j = j + 2
        elseif d == c then
          break
        else
          j = j + 1
        end
      end
      out[#out + 1] = " S "
      i = j + 1
    else
      out[#out + 1] = c
      i = i + 1
    end
  end
  return table.concat(out)
end

local ENDS_BLOCK = { ["end"] = true, ["else"] = true, ["elseif"] = true, ["until"] = true, [";"] = true }

-- Whether the function defined from line `first` to `last` has a `return` with a value at its own level
-- (not inside a nested function).
local function returns_value(path, first, last)
  local lines = lines_of(path)
  local src = strip(table.concat(lines, "\n", first, last))
  local tokens = {}
  for word, sym in src:gmatch("([%w_]*)([^%w_%s]?)") do
    if word ~= "" then
      tokens[#tokens + 1] = word
    end
    if sym ~= "" then
      tokens[#tokens + 1] = sym
    end
  end
  local stack, started = {}, false
  local function fn_depth()
    local d = 0
    for _, b in ipairs(stack) do
      if b == "function" then
        d = d + 1
      end
    end
    return d
  end
  for i, t in ipairs(tokens) do
    if t == "function" then
      stack[#stack + 1] = "function"
      started = true
    elseif started then
      if t == "if" or t == "do" or t == "repeat" then
        stack[#stack + 1] = t
      elseif t == "end" or t == "until" then
        stack[#stack] = nil
        if #stack == 0 then
          return false
        end
      elseif t == "return" and fn_depth() == 1 then
        local nxt = tokens[i + 1]
        if nxt and not ENDS_BLOCK[nxt] then
          return true
        end
      end
    end
  end
  return false
end

-- The LuaCATS block right above line `line`: its `---` lines, nearest last.
local function doc_block(path, line)
  local lines = lines_of(path)
  local block = {}
  local i = line - 1
  while i >= 1 and lines[i]:match("^%s*%-%-%-") do
    table.insert(block, 1, lines[i])
    i = i - 1
  end
  return block
end

local function parameters(fn)
  local names = {}
  local info = debug.getinfo(fn, "u")
  local i = 1
  while true do
    local name = debug.getlocal(fn, i)
    if not name then
      break
    end
    if not (i == 1 and name == "self") then
      names[#names + 1] = name
    end
    i = i + 1
  end
  return names, info.isvararg
end

-- The problems with one function's annotations (empty when it is fine).
local function check_function(fn)
  local info = debug.getinfo(fn, "S")
  local path = info.source:sub(2)
  local block = doc_block(path, info.linedefined)
  local problems = {}
  local function problem(msg)
    problems[#problems + 1] = msg
  end
  if #block == 0 then
    problem("no LuaCATS block (---) above the definition")
    return problems
  end
  local described, params, has_return = false, {}, false
  for _, l in ipairs(block) do
    local text = l:match("^%s*%-%-%-(.*)$")
    if text:match("^@") then
      local name = text:match("^@param%s+([%w_%.]+)%??")
      if name then
        params[name] = true
      end
      if text:match("^@return") then
        has_return = true
      end
    elseif text:match("%a") then
      described = true
    end
  end
  if not described then
    problem("no description line")
  end
  local names, vararg = parameters(fn)
  local real = {}
  for _, n in ipairs(names) do
    real[n] = true
    if not params[n] then
      problem("no ---@param " .. n)
    end
  end
  if vararg then
    real["..."] = true
    if not params["..."] then
      problem("no ---@param ... (the function takes varargs)")
    end
  end
  local stale = {}
  for n in pairs(params) do
    if not real[n] then
      stale[#stale + 1] = n
    end
  end
  table.sort(stale)
  for _, n in ipairs(stale) do
    problem("---@param " .. n .. " names no parameter of the function")
  end
  local returns = returns_value(path, info.linedefined, info.lastlinedefined)
  if returns and not has_return then
    problem("returns a value but has no ---@return")
  end
  if has_return and not returns then
    problem("has ---@return but never returns a value")
  end
  return problems
end

---------------------------------------------------------------------------
-- Class declarations

-- name -> { file, line, parent, fields = { name = true } } for every ---@class in the library; duplicates
-- are listed separately.
local function class_declarations()
  local classes, duplicates = {}, {}
  local files = core.listdir(LIB)
  table.sort(files)
  for _, name in ipairs(files) do
    if name:match("%.lua$") then
      local path = LIB .. "/" .. name
      local current
      for n, l in ipairs(lines_of(path)) do
        local cname, rest = l:match("^%s*%-%-%-@class%s+([%w_%.]+)(.*)$")
        if cname then
          local parent = rest:match("^%s*:%s*([%w_%.]+)")
          current = { file = short(path), line = n, parent = parent, fields = {} }
          if classes[cname] then
            duplicates[#duplicates + 1] = ("%s:%d: ---@class %s is also declared at %s:%d"):format(
              current.file,
              n,
              cname,
              classes[cname].file,
              classes[cname].line
            )
          else
            classes[cname] = current
          end
        elseif current and l:match("^%s*%-%-%-") then
          local rest = l:match("^%s*%-%-%-@field%s+(.*)$")
          if rest then
            for _, scope in ipairs({ "private", "protected", "package", "public" }) do
              if rest:sub(1, #scope + 1):match("^" .. scope .. "%s") then
                rest = rest:sub(#scope + 2)
              end
            end
            local field = rest:match("^%s*([%w_]+)")
            if field then
              current.fields[field] = true
            end
          end
        else
          current = nil
        end
      end
    end
  end
  return classes, duplicates
end

-- A field declared on the class or on one of its (declared) parents.
local function has_field(classes, cname, field)
  local seen = {}
  while cname and classes[cname] and not seen[cname] do
    seen[cname] = true
    if classes[cname].fields[field] then
      return true
    end
    cname = classes[cname].parent
  end
  return false
end

-- Annotation lines whose type is missing or whose brackets do not balance, in every library file:
-- a light syntax check, since no LuaCATS parser is at hand.
local function library_files()
  local files = {}
  for _, name in ipairs(core.listdir(LIB)) do
    if name:match("%.lua$") then
      files[#files + 1] = LIB .. "/" .. name
    end
  end
  table.sort(files)
  return files
end

local function malformed_annotations(files)
  local problems = {}
  local pairs_of = { ["("] = ")", ["{"] = "}", ["<"] = ">", ["["] = "]" }
  for _, path in ipairs(files) do
    for n, l in ipairs(lines_of(path)) do
      local tag, rest = l:match("^%s*%-%-%-@(%a+)%s*(.*)$")
      local ty
      if tag == "param" then
        ty = rest:match("^[%w_%.]+%??%s+(.*)$")
      elseif tag == "field" then
        for _, scope in ipairs({ "private ", "protected ", "package ", "public " }) do
          if rest:sub(1, #scope) == scope then
            rest = rest:sub(#scope + 1)
          end
        end
        ty = rest:match("^[%w_]+%??%s+(.*)$") or rest:match("^%[[%w_]+%]%s+(.*)$")
      elseif tag == "return" or tag == "type" or tag == "cast" then
        ty = rest
      elseif tag == "alias" then
        ty = rest:match("^[%w_%.]+%s+(.*)$")
        -- or its values on the lines below: `---| "a"`
        if not ty and rest:match("^[%w_%.]+$") and (lines_of(path)[n + 1] or ""):match("^%s*%-%-%-|") then
          ty = "(below)"
        end
      end
      if tag and ty ~= nil then
        -- the type runs to the first blank outside brackets and quotes ("fun(a: x): y" has one after ":")
        local stack, quote, i, stop = {}, nil, 1, nil
        while i <= #ty do
          local c = ty:sub(i, i)
          if quote then
            if c == quote then
              quote = nil
            end
          elseif c == '"' or c == "'" or c == "`" then
            quote = c
          elseif pairs_of[c] then
            stack[#stack + 1] = pairs_of[c]
          elseif c == ")" or c == "}" or c == ">" or c == "]" then
            if stack[#stack] ~= c then
              break
            end
            stack[#stack] = nil
          elseif c:match("%s") and #stack == 0 and not ty:sub(1, i - 1):match(":$") then
            stop = i
            break
          end
          i = i + 1
        end
        local expr = ty:sub(1, (stop or #ty + 1) - 1)
        if expr == "" then
          problems[#problems + 1] = ("%s:%d: ---@%s without a type"):format(short(path), n, tag)
        elseif #stack > 0 or quote or (i <= #ty and not stop) then
          problems[#problems + 1] = ("%s:%d: ---@%s: unbalanced type %q"):format(short(path), n, tag, ty)
        end
      elseif tag == "param" or tag == "field" or tag == "alias" then
        problems[#problems + 1] = ("%s:%d: ---@%s without a name and a type"):format(short(path), n, tag)
      end
    end
  end
  return problems
end

local function where(classes, cname)
  local c = classes[cname]
  return c and (c.file .. ":" .. c.line) or "?"
end

---------------------------------------------------------------------------

describe("LuaCATS annotations", function()
  local functions = public_functions()

  it("finds the public functions", function()
    -- a walk that found nothing would make every other check pass
    assert.is_true(#functions >= 60, "only " .. #functions .. " public functions found")
  end)

  for _, f in ipairs(functions) do
    local info = debug.getinfo(f.fn, "S")
    local loc = ("%s:%d"):format(short(info.source:sub(2)), info.linedefined)
    it(("annotate %s (%s)"):format(f.path, loc), function()
      local problems = check_function(f.fn)
      if #problems > 0 then
        error(("%s %s:\n  %s"):format(loc, f.path, table.concat(problems, "\n  ")), 0)
      end
    end)
  end

  describe("classes", function()
    local classes, duplicates = class_declarations()

    it("are declared once each", function()
      assert(#duplicates == 0, table.concat(duplicates, "\n"))
    end)

    it("have well-formed types in every annotation", function()
      local problems = malformed_annotations(library_files())
      assert(#problems == 0, table.concat(problems, "\n"))
    end)

    it("declare the module's fields that LuaLS cannot see being set (ClaudeAgentSDK)", function()
      local decl = classes.ClaudeAgentSDK
      assert(decl, "lua/claude_agent_sdk/init.lua: no ---@class ClaudeAgentSDK")
      -- what init.lua sets by name is seen; the rest (classes and kinds copied in a loop) must be declared
      local static = {}
      for _, l in ipairs(lines_of(LIB .. "/init.lua")) do
        local k = l:match("^M%.([%w_]+)%s*=") or l:match("^function M%.([%w_]+)")
        if k then
          static[k] = true
        end
      end
      local problems = {}
      local keys = {}
      for k in pairs(claude) do
        keys[#keys + 1] = k
      end
      table.sort(keys)
      for _, k in ipairs(keys) do
        if not static[k] and not decl.fields[k] then
          problems[#problems + 1] = where(classes, "ClaudeAgentSDK") .. ": no ---@field " .. k
        end
      end
      local fields = {}
      for k in pairs(decl.fields) do
        fields[#fields + 1] = k
      end
      table.sort(fields)
      for _, k in ipairs(fields) do
        if claude[k] == nil then
          problems[#problems + 1] = where(classes, "ClaudeAgentSDK") .. ": ---@field " .. k .. " is not in the module"
        end
      end
      assert.is_true(#fields >= 40, "ClaudeAgentSDK declares only " .. #fields .. " fields")
      assert(#problems == 0, table.concat(problems, "\n"))
    end)

    it("cover every message and block class with its fields and parent", function()
      local problems = {}
      local names = {}
      for name in pairs(messages.classes) do
        names[#names + 1] = name
      end
      table.sort(names)
      assert.is_true(#names >= 30, "messages.classes has only " .. #names .. " classes")
      for _, name in ipairs(names) do
        local cls = messages.classes[name]
        local decl = classes[name]
        if not decl then
          problems[#problems + 1] = "lua/claude_agent_sdk/types.lua: no ---@class " .. name
        else
          for _, field in ipairs(cls.__fields) do
            if not has_field(classes, name, field) then
              problems[#problems + 1] = ("%s: ---@class %s has no ---@field %s"):format(
                where(classes, name),
                name,
                field
              )
            end
          end
          local parent = rawget(cls, "__parent")
          local want = parent and parent.__class_name or nil
          -- every message has a `type`; classes with no runtime parent may still declare one for LuaLS only if
          -- it is not a message class (that would claim an isinstance relation that does not hold)
          if decl.parent ~= want and not (want == nil and decl.parent and not messages.classes[decl.parent]) then
            problems[#problems + 1] = ("%s: ---@class %s should have parent %s, not %s"):format(
              where(classes, name),
              name,
              tostring(want),
              tostring(decl.parent)
            )
          end
        end
      end
      assert(#problems == 0, table.concat(problems, "\n"))
    end)

    it("are declared for the library's error kinds, nested as at run time", function()
      local problems = {}
      local kinds = {}
      for k in pairs(claude.errors.kinds) do
        kinds[#kinds + 1] = k
      end
      table.sort(kinds)
      for _, kind in ipairs(kinds) do
        local decl = classes[kind]
        if not decl then
          problems[#problems + 1] = "lua/claude_agent_sdk/errors.lua: no ---@class " .. kind
        elseif kind == "ClaudeSDKError" then
          if decl.parent then
            problems[#problems + 1] = where(classes, kind) .. ": ClaudeSDKError has a parent"
          end
        else
          local e = claude.errors.new(kind, "x")
          if not decl.parent or decl.parent == kind or not claude.errors.is(e, decl.parent) then
            problems[#problems + 1] = ("%s: ---@class %s: parent %s is not one of its kinds"):format(
              where(classes, kind),
              kind,
              tostring(decl.parent)
            )
          end
        end
      end
      assert(#problems == 0, table.concat(problems, "\n"))
    end)

    it("cover what the public constructors return", function()
      local server = claude.create_sdk_mcp_server({
        name = "s",
        tools = {
          claude.tool("t", "d", { a = "number" }, function()
            return ""
          end),
        },
      })
      local samples = {
        { "ClaudeSDKClient", claude.ClaudeSDKClient.new({}) },
        { "ClaudeTask", claude.spawn(function() end) },
        { "PermissionResultAllow", claude.PermissionResultAllow({ updated_input = {}, updated_permissions = {} }) },
        { "PermissionResultDeny", claude.PermissionResultDeny({ message = "m", interrupt = true }) },
        { "HookMatcher", claude.HookMatcher({ matcher = "Bash", hooks = {}, timeout = 1 }) },
        { "SdkMcpTool", server.tools[1] },
        { "SdkMcpServer", server },
        { "ToolPermissionContext", permissions.context({}) },
        { "ClaudeSDKError", claude.errors.new("ClaudeSDKError", "x") },
        -- the typed shapes the parser builds (system subtypes copy their frame, so only the fixed ones)
        {
          "UserMessage",
          messages.parse({
            type = "user",
            message = { content = "hi" },
            uuid = "u",
            parent_tool_use_id = "p",
            tool_use_result = {},
            session_id = "s",
          }),
        },
        {
          "AssistantMessage",
          messages.parse({
            type = "assistant",
            message = { content = {}, model = "m", usage = {}, id = "i", stop_reason = "end_turn" },
            parent_tool_use_id = "p",
            error = "unknown",
            session_id = "s",
            uuid = "u",
          }),
        },
        {
          "ResultMessage",
          messages.parse({
            type = "result",
            subtype = "success",
            duration_ms = 1,
            duration_api_ms = 1,
            is_error = false,
            num_turns = 1,
            session_id = "s",
            stop_reason = "end_turn",
            total_cost_usd = 0,
            usage = {},
            result = "r",
            structured_output = {},
            modelUsage = {},
            permission_denials = {},
            errors = {},
            terminal_reason = "completed",
            api_error_status = 500,
            uuid = "u",
          }),
        },
        {
          "StreamEvent",
          messages.parse({
            type = "stream_event",
            uuid = "u",
            session_id = "s",
            event = {},
            parent_tool_use_id = "p",
          }),
        },
        { "SystemMessage", messages.parse({ type = "system", subtype = "unknown_subtype" }) },
        {
          "RateLimitInfo",
          messages.parse({ type = "rate_limit_event", rate_limit_info = { status = "allowed" } }).rate_limit_info,
        },
      }
      local problems = {}
      for _, s in ipairs(samples) do
        local cname, obj = s[1], s[2]
        if not classes[cname] then
          problems[#problems + 1] = "no ---@class " .. cname
        else
          local keys = {}
          for k in pairs(obj) do
            if type(k) == "string" and k:sub(1, 1) ~= "_" then
              keys[#keys + 1] = k
            end
          end
          table.sort(keys)
          for _, k in ipairs(keys) do
            if not has_field(classes, cname, k) then
              problems[#problems + 1] = ("%s: ---@class %s has no ---@field %s"):format(where(classes, cname), cname, k)
            end
          end
        end
        local mt = getmetatable(obj)
        local mname = type(mt) == "table" and rawget(mt, "__name") or nil
        if mname and mname ~= cname and not classes[mname] then
          problems[#problems + 1] = ("%s's metatable is named %s, which has no ---@class"):format(cname, mname)
        end
      end
      assert(#problems == 0, table.concat(problems, "\n"))
    end)

    it("give ClaudeAgentOptions exactly the accepted option keys", function()
      local decl = classes.ClaudeAgentOptions
      assert(decl, "lua/claude_agent_sdk/options.lua: no ---@class ClaudeAgentOptions")
      local problems = {}
      local keys = {}
      for k in pairs(options.KNOWN) do
        keys[#keys + 1] = k
      end
      table.sort(keys)
      for _, k in ipairs(keys) do
        if not decl.fields[k] then
          problems[#problems + 1] = where(classes, "ClaudeAgentOptions") .. ": no ---@field " .. k
        end
      end
      local fields = {}
      for k in pairs(decl.fields) do
        fields[#fields + 1] = k
      end
      table.sort(fields)
      for _, k in ipairs(fields) do
        if not options.KNOWN[k] then
          problems[#problems + 1] = where(classes, "ClaudeAgentOptions") .. ": ---@field " .. k .. " is not an option"
        end
      end
      assert(#problems == 0, table.concat(problems, "\n"))
    end)
  end)

  describe("the meta file types.lua", function()
    it("starts with ---@meta and loads as an empty module", function()
      local lines = lines_of(LIB .. "/types.lua")
      assert.are.equal("---@meta", lines[1])
      local chunk = assert((loadfile or load)(LIB .. "/types.lua"))
      local v = chunk()
      assert.are.same({}, v)
      assert.are.same({}, require("claude_agent_sdk.types"))
    end)
  end)

  describe("the checker itself", function()
    local tmp = os.tmpname()
    local function fixture(text)
      local f = assert(io.open(tmp, "w"))
      f:write(text)
      f:close()
      file_cache[tmp] = nil
      return assert(loadfile(tmp))()
    end
    teardown(function()
      os.remove(tmp)
    end)

    it("accepts a complete block", function()
      local fn = fixture(
        "--- Add.\n---@param a number\n---@param ... number\n---@return number\n"
          .. "return function(a, ...) local function g() return end if a then return a end end\n"
      )
      assert.are.same({}, check_function(fn))
    end)

    it("names what is missing or stale", function()
      local fn = fixture(
        "---@param b number\n---@return number\n" .. "return function(a) local f = function() return 1 end end\n"
      )
      local p = table.concat(check_function(fn), "\n")
      assert.truthy(p:find("no description line", 1, true))
      assert.truthy(p:find("no ---@param a", 1, true))
      assert.truthy(p:find("---@param b names no parameter", 1, true))
      assert.truthy(p:find("has ---@return but never returns a value", 1, true))
    end)

    it("finds malformed types", function()
      local f = assert(io.open(tmp, "w"))
      f:write(table.concat({
        "---@param a string|{x: integer}  fine",
        "---@param b fun(x: integer): string  fine",
        "---@field package c table<string, any>  fine",
        "---@param d",
        "---@field e {x: integer",
        "---@return table<string, any>>",
        "---@alias F",
        '---@field g "unterminated',
      }, "\n"))
      f:close()
      file_cache[tmp] = nil
      local p = malformed_annotations({ tmp })
      assert.are.equal(5, #p, table.concat(p, "\n"))
      assert.truthy(p[1]:find(":4: ---@param without a name and a type", 1, true))
      assert.truthy(p[2]:find(":5: ---@field: unbalanced", 1, true))
      assert.truthy(p[3]:find(":6: ---@return: unbalanced", 1, true))
      assert.truthy(p[4]:find(":7: ---@alias without a name and a type", 1, true))
      assert.truthy(p[5]:find(":8: ---@field: unbalanced", 1, true))
    end)

    it("sees a value returned past strings and comments", function()
      local fn = fixture('--- X.\nreturn function() local s = "end" --[[ end ]] if s then return s end end\n')
      assert.are.same({ "returns a value but has no ---@return" }, check_function(fn))
    end)
  end)
end)
