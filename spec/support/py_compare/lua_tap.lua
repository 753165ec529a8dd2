--- The Lua side of the comparison harness (compare.sh): loaded with `lua -l lua_tap`, before the example runs, it
--- wraps the library's receive path (claude.query's iterator, client:receive_messages(), client:receive_response(),
--- client:receive_nowait()) and writes every message handed to the example as one JSON line to the file named by
--- $PY_COMPARE_TAP: its fields, plus `_class` (the class name) and `_classes` (the class and its ancestors).
--- Nothing else changes: the example sees the same messages. Not part of the library; used by hand only.

local path = os.getenv("PY_COMPARE_TAP")
if not path or path == "" then
  return
end

local claude = require("claude_agent_sdk")
local json = require("claude_agent_sdk.json")

local out = assert(io.open(path, "a"))

-- A message as plain tables: classes become _class/_classes; arrays stay arrays; null stays null.
local function plain(v)
  if type(v) ~= "table" then
    return v
  end
  local mt = getmetatable(v)
  local t = {}
  if mt == json.array_mt then
    t = json.array()
  end
  for k, x in pairs(v) do
    t[k] = plain(x)
  end
  if type(mt) == "table" and rawget(mt, "__class_name") then
    t._class = mt.__class_name
    local chain, c = json.array(), mt
    while c do
      chain[#chain + 1] = rawget(c, "__class_name")
      c = rawget(c, "__parent")
    end
    t._classes = chain
  end
  return t
end

local function tap(m)
  if m ~= nil and m ~= false then
    out:write(json.encode(plain(m)), "\n")
    out:flush()
  end
  return m
end

-- it(): the iterator, each message tapped; the other values (a to-be-closed closer) passed on.
local function wrap_iterator(it, ...)
  return function(...)
    return tap(it(...))
  end, ...
end

local query = claude.query
claude.query = function(args)
  return wrap_iterator(query(args))
end

local Client = claude.ClaudeSDKClient
for _, name in ipairs({ "receive_messages", "receive_response" }) do
  local orig = Client[name]
  Client[name] = function(self, ...)
    return wrap_iterator(orig(self, ...))
  end
end
local nowait = Client.receive_nowait
Client.receive_nowait = function(self, ...)
  return tap(nowait(self, ...))
end
