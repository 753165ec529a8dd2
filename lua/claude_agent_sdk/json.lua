--- JSON values in Lua (DESIGN.md §4): null, arrays, encode and decode.
--
-- Backed by the C module (csrc/lua_cas_json.c): text is decoded by one walk
-- that checks as it builds, and encoded straight into a buffer (integers
-- exactly, floats that read back the same).  `null` is a light userdata NULL,
-- so it equals lua-cjson's `cjson.null`; arrays carry `array_mt`, so an empty
-- array encodes back as `[]` and a tool input echoed to the CLI round-trips
-- exactly.
--
--   local json = require("claude_agent_sdk.json")
--   json.encode(json.array({}))   --> "[]"
--   json.decode('{"a":null}').a == json.null   --> true

local core = require("claude_agent_sdk.core")
local errors = require("claude_agent_sdk.errors")
local check = require("claude_agent_sdk.check")

local M = {}

M.null = core.null
M.array_mt = core.array_mt

--- Mark `t` (default a new table) as a JSON array.
---@param t table|nil
---@return table
function M.array(t)
  if t ~= nil and (not check.is_list(t) or (getmetatable(t) ~= nil and getmetatable(t) ~= core.array_mt)) then
    check.fail("claude.json.array", "t", "a list (keys 1..n) without a metatable, or nil", t)
  end
  return setmetatable(t or {}, core.array_mt)
end

--- True when `t` is marked as a JSON array.
---@param t any
---@return boolean
function M.is_array(t)
  return type(t) == "table" and getmetatable(t) == core.array_mt
end

--- Encode a Lua value as compact JSON text; raises InvalidOptionError (a
--- ClaudeSDKError) naming the path to a part JSON cannot hold (a function,
--- NaN, a mixed table, invalid UTF-8, a cycle).
---@param v any
---@return string
function M.encode(v)
  check.jsonable("claude.json.encode", "v", v)
  local ok, s = pcall(core.encode, v)
  if not ok then
    errors.raise("ClaudeSDKError", "cannot encode JSON: " .. tostring(s))
  end
  return s
end

--- Decode JSON text; raises CLIJSONDecodeError (with `code`: "EJSON",
--- "EUTF8" or "EDEPTH") on invalid input.
---@param s string
---@return any
function M.decode(s)
  if type(s) ~= "string" then
    check.fail("claude.json.decode", "s", "a string", s)
  end
  local v, msg, code = core.decode(s)
  if v == nil and msg then
    errors.raise("CLIJSONDecodeError", msg .. ": " .. s:sub(1, 100), { code = code, line = s:sub(1, 200) })
  end
  return v
end

return M
