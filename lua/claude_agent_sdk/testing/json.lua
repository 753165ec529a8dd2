--- JSON for the offline model server: decode with lua-cjson (or Neovim's bundled `vim.json`), encode with a
--- small writer of our own.
---
--- Contract: `decode(s)` returns a table or `nil, message`; JSON `null` becomes `json.null` (cjson's light userdata
--- NULL, or `vim.NIL` under Neovim without cjson). `encode(v)` never raises on plain data: a table is an array when
--- it has the metatable `json.array_mt` or when its keys are exactly 1..n with n > 0; any other table, the empty one
--- included, is an object (so a tool's `input = {}` goes out as `{}`, and `json.array()` gives `[]`). NaN and
--- infinities encode as `null`. Integral numbers print without a fraction on every Lua version. Strings are copied
--- byte for byte apart from the escapes JSON requires, so UTF-8 passes through unchanged.
---
--- We write our own encoder because lua-cjson 2.1.0 (Debian's) cannot encode an empty array, and the Messages API
--- needs `"content":[]` in every `message_start`.
---
--- Example: `json.encode({ content = json.array(), n = 1 })  --> {"content":[],"n":1}`

local M = {}

local ok_cjson, cjson = pcall(require, "cjson")
local vim_json = (not ok_cjson) and rawget(_G, "vim") and _G.vim.json or nil

---@type any the value decoded JSON `null` becomes
M.null = ok_cjson and cjson.null or (rawget(_G, "vim") and _G.vim.NIL) or setmetatable({}, { __name = "json.null" })

--- Metatable marking a table as a JSON array, so that an empty one encodes as `[]`.
M.array_mt = { __name = "json.array" }

---@param t? table a list to mark (default: a new empty one)
---@return table t the same table, marked as an array
--- Example: `json.array({ "a" })`
function M.array(t)
  return setmetatable(t or {}, M.array_mt)
end

---@param s string JSON text
---@return any|nil value the decoded value, or nil on a syntax error
---@return string|nil err the error message
--- Example: `local body, err = json.decode(request.body)`
function M.decode(s)
  local ok, v
  if ok_cjson then
    ok, v = pcall(cjson.decode, s)
  elseif vim_json then
    ok, v = pcall(vim_json.decode, s)
  else
    return nil, "no JSON decoder: install lua-cjson"
  end
  if not ok then
    return nil, tostring(v)
  end
  return v
end

local escapes = {
  ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
}

local function escape_char(c)
  return escapes[c] or string.format("\\u%04x", c:byte())
end

local function encode_string(s)
  return '"' .. s:gsub('[%c"\\]', escape_char) .. '"'
end

local function encode_number(n)
  if n ~= n or n == math.huge or n == -math.huge then
    return "null"
  end
  if math.type and math.type(n) == "integer" then
    return tostring(n)
  end
  if n == math.floor(n) and n >= -2 ^ 53 and n <= 2 ^ 53 then
    return string.format("%.0f", n)
  end
  return string.format("%.17g", n)
end

-- Array when marked, or when the keys are exactly 1..n with n > 0.
local function is_array(t)
  if getmetatable(t) == M.array_mt then
    return true
  end
  local n = #t
  if n == 0 then
    return false
  end
  local count = 0
  for _ in pairs(t) do
    count = count + 1
    if count > n then
      return false
    end
  end
  return count == n
end

local encode_value

local function key_before(a, b)
  if a == "type" or b == "type" then
    return a == "type" and b ~= "type"
  end
  return a < b
end

local function encode_table(t, out, depth)
  if depth > 200 then
    error("json.encode: nesting deeper than 200", 0)
  end
  if is_array(t) then
    out[#out + 1] = "["
    for i = 1, #t do
      if i > 1 then
        out[#out + 1] = ","
      end
      encode_value(t[i], out, depth + 1)
    end
    out[#out + 1] = "]"
    return
  end
  -- Sorted keys, "type" first as the API writes it: the output is deterministic, which keeps logs diffable.
  local keys = {}
  for k in pairs(t) do
    keys[#keys + 1] = tostring(k)
  end
  table.sort(keys, key_before)
  out[#out + 1] = "{"
  for i, k in ipairs(keys) do
    local v = t[k]
    if v == nil then
      v = t[tonumber(k)]
    end
    if i > 1 then
      out[#out + 1] = ","
    end
    out[#out + 1] = encode_string(k)
    out[#out + 1] = ":"
    encode_value(v, out, depth + 1)
  end
  out[#out + 1] = "}"
end

encode_value = function(v, out, depth)
  local tv = type(v)
  if tv == "string" then
    out[#out + 1] = encode_string(v)
  elseif tv == "number" then
    out[#out + 1] = encode_number(v)
  elseif tv == "boolean" then
    out[#out + 1] = v and "true" or "false"
  elseif tv == "table" and v ~= M.null then
    encode_table(v, out, depth)
  else
    -- nil, json.null, vim.NIL, functions and userdata all become null.
    out[#out + 1] = "null"
  end
end

---@param v any a Lua value made of tables, strings, numbers, booleans and json.null
---@return string json compact JSON text
--- Example: `sock:write(json.encode({ type = "ping" }))`
function M.encode(v)
  local out = {}
  encode_value(v, out, 0)
  return table.concat(out)
end

return M
