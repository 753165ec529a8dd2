--- Argument checks shared by every public function.
--
-- One rule for the whole SDK: a bad argument is an InvalidOptionError that
-- names the function, the argument and what it got, raised before anything
-- is spawned, sent or scheduled.  The checks are small predicates; the
-- message is always built the same way, so users (and spec/misuse_spec.lua)
-- can rely on it.  `jsonable` is the one check for everything the library
-- sends to the CLI: a value that JSON cannot carry exactly (a function, a
-- cycle, NaN, an infinity, a string that is not UTF-8, a sparse or mixed
-- table) is refused with the path to the bad part, instead of failing later
-- inside the encoder or, worse, reaching the CLI changed.
--
--   check.string("client:set_model", "model", model, { optional = true })
--   check.jsonable("client:query", "prompt", msg)

local errors = require("claude_agent_sdk.errors")
local core = require("claude_agent_sdk.core")

local M = {}

local utf8_valid = core.utf8_valid
local null = core.null
local array_mt = core.array_mt

--- What a value is, for a message: the type, and the value where it helps.
---@param v any
---@return string
function M.describe(v)
  local t = type(v)
  if t == "number" then
    if v ~= v then
      return "NaN"
    end
    if v == math.huge then
      return "inf"
    end
    if v == -math.huge then
      return "-inf"
    end
    return ("number %s"):format(tostring(v))
  elseif t == "string" then
    if #v > 40 then
      return ("string %q..."):format(v:sub(1, 40))
    end
    return ("string %q"):format(v)
  elseif t == "boolean" then
    return tostring(v)
  elseif v == null then
    return "claude.null"
  end
  return t
end

--- Raise the InvalidOptionError for a bad argument.
---@param fn string  the public function, e.g. "client:query"
---@param arg string  the argument, e.g. "prompt" or "opts.timeout"
---@param expected string  what it must be
---@param got any  what was given
function M.fail(fn, arg, expected, got)
  errors.raise(
    "InvalidOptionError",
    ("%s: bad argument '%s' (expected %s, got %s)"):format(fn, arg, expected, M.describe(got)),
    { option = arg, ["function"] = fn, value = got }
  )
end

-- Where a string is unusable as text: nil when fine, else why.
local function text_problem(s)
  if s:find("\0", 1, true) then
    return "contains a NUL byte"
  end
  if not utf8_valid(s) then
    return "is not valid UTF-8"
  end
  return nil
end

--- A string.  opts: optional (nil allowed), nonempty, path (no NUL byte:
--- the OS would cut it there), text (valid UTF-8, no NUL: it goes to the CLI).
---@param fn string
---@param arg string
---@param v any
---@param opts {optional: boolean|nil, nonempty: boolean|nil, path: boolean|nil, text: boolean|nil}|nil
function M.string(fn, arg, v, opts)
  opts = opts or {}
  if v == nil and opts.optional then
    return
  end
  if type(v) ~= "string" then
    M.fail(fn, arg, opts.nonempty and "a non-empty string" or "a string", v)
  end
  if opts.nonempty and v == "" then
    M.fail(fn, arg, "a non-empty string", v)
  end
  if opts.path and v:find("\0", 1, true) then
    M.fail(fn, arg, "a path without NUL bytes", v)
  end
  if opts.text then
    local why = text_problem(v)
    if why then
      M.fail(fn, arg, "UTF-8 text without NUL bytes (this string " .. why .. ")", v)
    end
  end
end

--- A number.  opts: optional, integer, min, max (inclusive), finite is
--- always required: NaN never compares and an infinity is no count or time.
---@param fn string
---@param arg string
---@param v any
---@param opts {optional: boolean|nil, integer: boolean|nil, min: number|nil, max: number|nil}|nil
function M.number(fn, arg, v, opts)
  opts = opts or {}
  if v == nil and opts.optional then
    return
  end
  local what = opts.integer and "an integer" or "a finite number"
  if opts.min == 0 then
    what = opts.integer and "a non-negative integer" or "a non-negative number"
  end
  if opts.min == 1 and opts.integer then
    what = "a positive integer"
  end
  if type(v) ~= "number" or v ~= v or v == math.huge or v == -math.huge then
    M.fail(fn, arg, what, v)
  end
  if opts.integer and v ~= math.floor(v) then
    M.fail(fn, arg, what, v)
  end
  if (opts.min and v < opts.min) or (opts.max and v > opts.max) then
    M.fail(fn, arg, what, v)
  end
end

--- A value of a Lua type ("function", "table", "boolean").
---@param fn string
---@param arg string
---@param v any
---@param t string
---@param optional boolean|nil
function M.type(fn, arg, v, t, optional)
  if v == nil and optional then
    return
  end
  if type(v) ~= t then
    M.fail(fn, arg, "a " .. t, v)
  end
end

--- True when t is a table whose keys are exactly 1..#t.
---@param t any
---@return boolean
function M.is_list(t)
  if type(t) ~= "table" then
    return false
  end
  local n = 0
  for k in pairs(t) do
    if type(k) ~= "number" then
      return false
    end
    n = n + 1
  end
  return n == #t
end

--- A list (keys exactly 1..n); `what` says what it must hold, and `each`
--- (optional) checks each element as check_each(fn, "arg[i]", element).
---@param fn string
---@param arg string
---@param v any
---@param what string
---@param optional boolean|nil
---@param each fun(fn: string, arg: string, v: any)|nil
function M.list(fn, arg, v, what, optional, each)
  if v == nil and optional then
    return
  end
  if not M.is_list(v) then
    M.fail(fn, arg, what, v)
  end
  if each then
    for i, x in ipairs(v) do
      each(fn, ("%s[%d]"):format(arg, i), x)
    end
  end
end

--- A function, or a table/userdata callable through __call.
---@param fn string
---@param arg string
---@param v any
---@param optional boolean|nil
function M.callable(fn, arg, v, optional)
  if v == nil and optional then
    return
  end
  if type(v) == "function" then
    return
  end
  local mt = (type(v) == "table" or type(v) == "userdata") and getmetatable(v)
  if type(mt) == "table" and mt.__call then
    return
  end
  M.fail(fn, arg, "a function", v)
end

--- One of a list of strings.
---@param fn string
---@param arg string
---@param v any
---@param list string[]
---@param optional boolean|nil
function M.one_of(fn, arg, v, list, optional)
  if v == nil and optional then
    return
  end
  for _, s in ipairs(list) do
    if v == s then
      return
    end
  end
  M.fail(fn, arg, "one of " .. table.concat(list, ", "), v)
end

--- The options table of a method: nil or a table with only known keys.
---@param fn string
---@param arg string
---@param v any
---@param known table<string, boolean>
function M.opts(fn, arg, v, known)
  if v == nil then
    return
  end
  if type(v) ~= "table" then
    M.fail(fn, arg, "a table or nil", v)
  end
  for k in pairs(v) do
    if not known[k] then
      local names = {}
      for name in pairs(known) do
        names[#names + 1] = name
      end
      table.sort(names)
      M.fail(fn, arg .. "." .. tostring(k), "no such key (known: " .. table.concat(names, ", ") .. ")", v[k])
    end
  end
end

-- The path of a key, Lua-style: .name or [1].
local function step(path, k)
  if type(k) == "string" and k:match("^[%a_][%w_]*$") then
    return path .. "." .. k
  end
  if type(k) == "string" then
    return ("%s[%q]"):format(path, k)
  end
  return ("%s[%s]"):format(path, tostring(k))
end

local MAX_DEPTH = core.max_depth -- the core's encoder limit (what its decoder reads back): deeper is refused there too

--- The first part of v that JSON cannot carry exactly: returns its path
--- (rooted at `root`) and why, or nil when v is fine.
---@param v any
---@param root string
---@return string|nil path
---@return string|nil why
function M.json_problem(v, root)
  local seen = {}
  local function walk(x, path, depth)
    local t = type(x)
    if t == "string" then
      local why = text_problem(x)
      if why then
        return path, "a string that " .. why
      end
      return nil
    elseif t == "number" then
      if x ~= x or x == math.huge or x == -math.huge then
        return path, M.describe(x)
      end
      return nil
    elseif t == "boolean" or x == null then
      return nil
    elseif t ~= "table" then
      return path, "a " .. t
    end
    if seen[x] then
      return path, "a reference cycle (a table that contains itself)"
    end
    if depth > MAX_DEPTH then
      return path, "nesting deeper than " .. MAX_DEPTH
    end
    seen[x] = true
    local n, strings, ints = 0, 0, 0
    for k in pairs(x) do
      n = n + 1
      if type(k) == "string" then
        strings = strings + 1
        local why = text_problem(k)
        if why then
          return step(path, k), "a key that " .. why
        end
      elseif type(k) == "number" and k >= 1 and k == math.floor(k) then
        ints = ints + 1
      else
        return step(path, k), "a key of type " .. type(k) .. " (keys must be strings, or 1..n for an array)"
      end
    end
    if strings > 0 and ints > 0 then
      return path, "a table that mixes string and integer keys"
    end
    if ints > 0 and ints ~= #x then
      return path, "a sparse array (holes are not JSON)"
    end
    if getmetatable(x) == array_mt and strings > 0 then
      return path, "an array with string keys"
    end
    for k, child in pairs(x) do
      local p, why = walk(child, step(path, k), depth + 1)
      if p then
        return p, why
      end
    end
    seen[x] = nil -- a shared (not cyclic) subtable is fine
    return nil
  end
  return walk(v, root, 1)
end

--- Raise InvalidOptionError unless v can be sent as JSON exactly.
---@param fn string
---@param arg string
---@param v any
function M.jsonable(fn, arg, v)
  local path, why = M.json_problem(v, arg)
  if path then
    errors.raise(
      "InvalidOptionError",
      ("%s: '%s' cannot be sent as JSON: %s is %s"):format(fn, arg, path, why),
      { option = arg, ["function"] = fn, path = path }
    )
  end
end

return M
