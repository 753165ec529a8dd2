--- The contract checks every session store must pass: the Python SDK's
--- `testing.session_store_conformance` in Lua.
--
-- `run(make_store, opts)` calls make_store() once per contract (so each
-- starts from an empty store; make_store may also clear a shared backend)
-- and checks the behaviour of append and load (required) and of
-- list_sessions, delete and list_subkeys (each only when the store has it
-- and it is not named in opts.skip).  It raises an error listing every
-- contract that failed, or returns the number of contracts checked.  Call it
-- inside a task (claude.run) for a store that yields.
--
--   local conformance = require("claude_agent_sdk.testing.session_store_conformance")
--   conformance.run(function() return MyStore.new() end)

local json = require("claude_agent_sdk.json")
local errors = require("claude_agent_sdk.errors")
local check = require("claude_agent_sdk.check")
local session_store = require("claude_agent_sdk.session_store")

local M = {}

local KEY = { project_key = "proj", session_id = "sess" }

local function with(t, extra)
  local out = {}
  for k, v in pairs(t) do
    out[k] = v
  end
  for k, v in pairs(extra) do
    out[k] = v
  end
  return out
end

-- An entry: { type = "x", ... } (entries are opaque to a store).
local function e(fields)
  return with({ type = "x" }, fields)
end

-- Deep equality of decoded JSON (key order never matters).
local function same(a, b)
  if type(a) ~= type(b) then
    return false
  end
  if type(a) ~= "table" then
    return a == b
  end
  for k, v in pairs(a) do
    if not same(v, b[k]) then
      return false
    end
  end
  for k in pairs(b) do
    if a[k] == nil then
      return false
    end
  end
  return true
end

local function show(v)
  local ok, s = pcall(json.encode, v)
  return ok and s or tostring(v)
end

local function sorted(list)
  local out = {}
  for i, v in ipairs(list or {}) do
    out[i] = v
  end
  table.sort(out)
  return out
end

local function ids(list)
  local out = {}
  for i, s in ipairs(list or {}) do
    out[i] = s.session_id
  end
  return out
end

--- Run the contracts against stores made by make_store.
---@param make_store fun(): SessionStore
---@param opts {skip: string[]|nil}|nil  optional methods not to check ("list_sessions", "delete", "list_subkeys")
---@return integer checked  the number of contracts checked
function M.run(make_store, opts)
  check.callable("session_store_conformance", "make_store", make_store)
  check.opts("session_store_conformance", "opts", opts, { skip = true })
  local skip = {}
  for _, name in ipairs(opts and opts.skip or {}) do
    skip[name] = true
  end
  local probe = make_store()
  session_store.validate("session_store_conformance", "make_store()", probe)
  local function has(name)
    return not skip[name] and session_store.implements(probe, name)
  end
  local has_list, has_delete, has_subkeys = has("list_sessions"), has("delete"), has("list_subkeys")

  local failures, checked = {}, 0
  local function contract(name, fn)
    checked = checked + 1
    local ok, err = pcall(fn, make_store())
    if not ok then
      failures[#failures + 1] = name
        .. ": "
        .. (type(err) == "table" and tostring(err.message or show(err)) or tostring(err))
    end
  end
  local function expect(cond, what, got)
    if not cond then
      error(what .. (got ~= nil and (", got " .. show(got)) or ""), 0)
    end
  end

  contract("1. append then load returns the same entries in the same order", function(s)
    s:append(KEY, { e({ uuid = "b", n = 1 }), e({ uuid = "a", n = 2 }) })
    local got = s:load(KEY)
    expect(same(got, { e({ uuid = "b", n = 1 }), e({ uuid = "a", n = 2 }) }), "load differs", got)
  end)
  contract("2. load of an unknown key returns nil", function(s)
    local got = s:load({ project_key = "proj", session_id = "nope" })
    expect(got == nil, "expected nil", got)
    s:append(KEY, { e({ uuid = "x", n = 1 }) })
    got = s:load(with(KEY, { subpath = "nope" }))
    expect(got == nil, "expected nil for an unknown subpath", got)
  end)
  contract("3. several appends keep call order", function(s)
    s:append(KEY, { e({ uuid = "z", n = 1 }) })
    s:append(KEY, { e({ uuid = "a", n = 2 }), e({ uuid = "m", n = 3 }) })
    s:append(KEY, { e({ uuid = "b", n = 4 }) })
    local got = s:load(KEY)
    expect(
      same(
        got,
        { e({ uuid = "z", n = 1 }), e({ uuid = "a", n = 2 }), e({ uuid = "m", n = 3 }), e({ uuid = "b", n = 4 }) }
      ),
      "order differs",
      got
    )
  end)
  contract("4. append of no entries changes nothing", function(s)
    s:append(KEY, { e({ uuid = "a", n = 1 }) })
    s:append(KEY, {})
    local got = s:load(KEY)
    expect(same(got, { e({ uuid = "a", n = 1 }) }), "load differs", got)
  end)
  contract("5. subpath keys are stored apart from the main transcript", function(s)
    local sub = with(KEY, { subpath = "subagents/agent-1" })
    s:append(KEY, { e({ uuid = "m", n = 1 }) })
    s:append(sub, { e({ uuid = "s", n = 1 }) })
    expect(same(s:load(KEY), { e({ uuid = "m", n = 1 }) }), "main differs", s:load(KEY))
    expect(same(s:load(sub), { e({ uuid = "s", n = 1 }) }), "subpath differs", s:load(sub))
  end)
  contract("6. project keys are isolated", function(s)
    s:append({ project_key = "A", session_id = "s1" }, { e({ from = "A" }) })
    s:append({ project_key = "B", session_id = "s1" }, { e({ from = "B" }) })
    expect(same(s:load({ project_key = "A", session_id = "s1" }), { e({ from = "A" }) }), "project A differs")
    expect(same(s:load({ project_key = "B", session_id = "s1" }), { e({ from = "B" }) }), "project B differs")
    if has_list then
      expect(#s:list_sessions("A") == 1 and #s:list_sessions("B") == 1, "one session per project expected")
    end
  end)
  if has_list then
    contract("7. list_sessions gives the project's session ids with epoch-ms mtimes", function(s)
      s:append({ project_key = "proj", session_id = "a" }, { e({ n = 1 }) })
      s:append({ project_key = "proj", session_id = "b" }, { e({ n = 1 }) })
      s:append({ project_key = "other", session_id = "c" }, { e({ n = 1 }) })
      local list = s:list_sessions("proj")
      expect(same(sorted(ids(list)), { "a", "b" }), "ids differ", ids(list))
      for _, x in ipairs(list) do
        expect(type(x.mtime) == "number" and x.mtime == x.mtime and x.mtime > 1e12, "mtime must be epoch ms", x.mtime)
      end
      local none = s:list_sessions("never-appended-project")
      expect(type(none) == "table" and #none == 0, "expected {} for an unknown project", none)
    end)
    contract("8. list_sessions leaves out subagent subpaths", function(s)
      s:append({ project_key = "proj", session_id = "main" }, { e({ n = 1 }) })
      s:append({ project_key = "proj", session_id = "main", subpath = "subagents/agent-1" }, { e({ n = 1 }) })
      local got = ids(s:list_sessions("proj"))
      expect(same(got, { "main" }), "expected only main", got)
    end)
  end
  if has_delete then
    contract("9. delete of a main key, then load returns nil", function(s)
      s:delete({ project_key = "proj", session_id = "never-written" })
      s:append(KEY, { e({ n = 1 }) })
      s:delete(KEY)
      expect(s:load(KEY) == nil, "expected nil after delete", s:load(KEY))
    end)
    contract("10. delete of a main key removes its subkeys, nothing else", function(s)
      local sub1, sub2 = with(KEY, { subpath = "subagents/agent-1" }), with(KEY, { subpath = "subagents/agent-2" })
      local other = { project_key = "proj", session_id = "sess2" }
      local other_proj = { project_key = "other-proj", session_id = KEY.session_id }
      for _, k in ipairs({ KEY, sub1, sub2, other, other_proj }) do
        s:append(k, { e({ n = 1 }) })
      end
      s:delete(KEY)
      expect(s:load(KEY) == nil and s:load(sub1) == nil and s:load(sub2) == nil, "the session and its subkeys remain")
      expect(#(s:load(other) or {}) == 1, "another session was touched")
      expect(#(s:load(other_proj) or {}) == 1, "another project was touched")
      if has_subkeys then
        local got = s:list_subkeys(KEY)
        expect(#got == 0, "subkeys remain", got)
      end
      if has_list then
        for _, id in ipairs(ids(s:list_sessions(KEY.project_key))) do
          expect(id ~= KEY.session_id, "the deleted session is still listed")
        end
      end
    end)
    contract("11. delete of a subpath removes only that subkey", function(s)
      local sub1, sub2 = with(KEY, { subpath = "subagents/agent-1" }), with(KEY, { subpath = "subagents/agent-2" })
      s:append(KEY, { e({ n = 1 }) })
      s:append(sub1, { e({ n = 1 }) })
      s:append(sub2, { e({ n = 1 }) })
      s:delete(sub1)
      expect(s:load(sub1) == nil, "the subkey remains")
      expect(#(s:load(sub2) or {}) == 1, "the other subkey was touched")
      expect(#(s:load(KEY) or {}) == 1, "the main transcript was touched")
      if has_subkeys then
        local got = s:list_subkeys(KEY)
        expect(same(got, { "subagents/agent-2" }), "subkeys differ", got)
      end
    end)
  end
  if has_subkeys then
    contract("12. list_subkeys gives the session's subpaths", function(s)
      s:append(KEY, { e({ n = 1 }) })
      s:append(with(KEY, { subpath = "subagents/agent-1" }), { e({ n = 1 }) })
      s:append(with(KEY, { subpath = "subagents/agent-2" }), { e({ n = 1 }) })
      s:append(
        { project_key = KEY.project_key, session_id = "other-sess", subpath = "subagents/agent-x" },
        { e({ n = 1 }) }
      )
      local got = sorted(s:list_subkeys(KEY))
      expect(same(got, { "subagents/agent-1", "subagents/agent-2" }), "subkeys differ", got)
    end)
    contract("13. list_subkeys leaves out the main transcript", function(s)
      s:append(KEY, { e({ n = 1 }) })
      local got = s:list_subkeys(KEY)
      expect(type(got) == "table" and #got == 0, "expected {}", got)
      got = s:list_subkeys({ project_key = "proj", session_id = "never-appended" })
      expect(type(got) == "table" and #got == 0, "expected {} for an unknown session", got)
    end)
  end

  if #failures > 0 then
    errors.raise(
      "ClaudeSDKError",
      ("session store conformance: %d of %d contracts failed:\n  %s"):format(
        #failures,
        checked,
        table.concat(failures, "\n  ")
      ),
      { code = "ECONFORMANCE", failures = failures }
    )
  end
  return checked
end

return M
