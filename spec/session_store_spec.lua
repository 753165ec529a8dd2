-- Session stores without a CLI: the protocol's checks (options, keys, store
-- objects), the shipped in-memory and file stores against the conformance
-- helper, the helper itself on broken stores, the transcript mirror's
-- batching, retries and catch-up, resume materialization, the readers over a
-- store and import_session_to_store.  Redis: redis_store_spec.lua; the real
-- CLI: session_store_e2e_spec.lua.
local claude = require("claude_agent_sdk")
local json = require("claude_agent_sdk.json")
local options = require("claude_agent_sdk.options")
local session_store = require("claude_agent_sdk.session_store")
local mirror = require("claude_agent_sdk.mirror")
local session_resume = require("claude_agent_sdk.session_resume")
local conformance = require("claude_agent_sdk.testing.session_store_conformance")
local testing = require("claude_agent_sdk.testing")
local tr = require("support.transcripts")
local h = require("support.helpers")

local errors = claude.errors
local SID = "5e5510a1-7c3b-4d2e-9f00-0123456789ab"

local function raises(kind, fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "expected a " .. kind .. ", but the call returned")
  assert.is_true(errors.is(err, kind), "expected a " .. kind .. ", got: " .. tostring(err))
  return err
end

describe("the session_store option", function()
  it("takes a store with append and load, and a flush mode", function()
    local o = options.validate({ session_store = claude.InMemorySessionStore(), session_store_flush = "eager" })
    assert.are.equal("eager", o.session_store_flush)
    -- a duck-typed store: any table with the two methods
    options.validate({
      session_store = {
        append = function() end,
        load = function() end,
      },
    })
  end)

  it("names the method a store lacks", function()
    local err = raises("InvalidOptionError", options.validate, { session_store = { append = function() end } })
    assert.truthy(err.message:find("no load method", 1, true), err.message)
    err = raises("InvalidOptionError", options.validate, { session_store = { load = function() end } })
    assert.truthy(err.message:find("no append method", 1, true), err.message)
    assert.are.equal("append", err.method)
    err = raises("InvalidOptionError", options.validate, {
      session_store = { append = function() end, load = function() end, delete = "yes" },
    })
    assert.truthy(err.message:find("delete must be a method", 1, true), err.message)
    for _, bad in ipairs({ true, 42, "store", {} }) do
      raises("InvalidOptionError", options.validate, { session_store = bad })
    end
    raises("InvalidOptionError", options.validate, { session_store_flush = "sometimes" })
  end)

  it("refuses combinations the Python SDK refuses, and a non-plain resume id", function()
    local minimal = { append = function() end, load = function() end }
    local err =
      raises("InvalidOptionError", options.validate, { session_store = minimal, continue_conversation = true })
    assert.truthy(err.message:find("list_sessions", 1, true), err.message)
    -- resume wins over continue: list_sessions is never needed then
    options.validate({ session_store = minimal, continue_conversation = true, resume = SID })
    raises("InvalidOptionError", options.validate, { session_store = minimal, enable_file_checkpointing = true })
    for _, id in ipairs({ "../../etc/passwd", "a/b", "..", "not-a-uuid" }) do
      raises("InvalidOptionError", options.validate, { session_store = minimal, resume = id })
    end
  end)

  it("passes --session-mirror to the CLI only with a store", function()
    local function has(o)
      for _, a in ipairs(options.argv(options.validate(o), "/bin/claude")) do
        if a == "--session-mirror" then
          return true
        end
      end
      return false
    end
    assert.is_true(has({ session_store = claude.InMemorySessionStore() }))
    assert.is_false(has({}))
  end)
end)

describe("session keys", function()
  it("refuses ids that could leave a directory", function()
    local s = claude.InMemorySessionStore()
    for _, key in ipairs({
      { project_key = "p", session_id = ".." },
      { project_key = "p", session_id = "a/b" },
      { project_key = "..", session_id = "s" },
      { project_key = "p", session_id = "" },
      { project_key = "p", session_id = "s", subpath = "../x" },
      { project_key = "p", session_id = "s", subpath = "/etc/passwd" },
      { project_key = "p", session_id = "s", subpath = "" },
      { project_key = "p" },
      "p/s",
    }) do
      raises("InvalidOptionError", s.append, s, key, {})
      raises("InvalidOptionError", s.load, s, key)
    end
    local f = claude.FileSessionStore({ dir = h.tmpdir() })
    raises("InvalidOptionError", f.append, f, { project_key = "p", session_id = "../../x" }, { { type = "x" } })
    os.execute("rm -rf " .. h.sh_quote(f.dir))
  end)

  it("maps the CLI's transcript paths to keys", function()
    local P = "/h/.claude/projects"
    assert.are.same(
      { project_key = "-tmp-x", session_id = SID },
      session_store.file_path_to_key(P .. "/-tmp-x/" .. SID .. ".jsonl", P)
    )
    assert.are.same(
      { project_key = "-tmp-x", session_id = SID, subpath = "subagents/agent-a1" },
      session_store.file_path_to_key(P .. "/-tmp-x/" .. SID .. "/subagents/agent-a1.jsonl", P .. "/")
    )
    assert.is_nil(session_store.file_path_to_key("/elsewhere/-tmp-x/" .. SID .. ".jsonl", P))
    assert.is_nil(session_store.file_path_to_key(P .. "/-tmp-x/../../" .. SID .. ".jsonl", P))
    assert.is_nil(session_store.file_path_to_key(P .. "/-tmp-x", P))
  end)

  it("project_key_for_directory is the CLI's project directory name", function()
    assert.are.equal("-tmp-a-b", claude.project_key_for_directory("/tmp/a/b"))
    assert.are.equal(claude.sessions.sanitize_path("/tmp"), claude.project_key_for_directory("/tmp/x/.."))
  end)
end)

describe("the conformance helper", function()
  it("passes the in-memory store and the file store", function()
    assert.are.equal(13, testing.session_store_conformance(claude.InMemorySessionStore))
    local base, n = h.tmpdir(), 0
    assert.are.equal(
      13,
      conformance.run(function()
        n = n + 1
        return claude.FileSessionStore({ dir = base .. "/" .. n })
      end)
    )
    os.execute("rm -rf " .. h.sh_quote(base))
  end)

  it("checks only the required contracts for a minimal store, or what skip leaves", function()
    local function minimal()
      local s = claude.InMemorySessionStore()
      return {
        append = function(_, k, e)
          s:append(k, e)
        end,
        load = function(_, k)
          return s:load(k)
        end,
      }
    end
    assert.are.equal(6, conformance.run(minimal))
    assert.are.equal(8, conformance.run(claude.InMemorySessionStore, { skip = { "delete", "list_subkeys" } }))
  end)

  it("reports every broken contract of a bad store", function()
    -- loads in reverse, lists every project's sessions, never deletes
    local function broken()
      local s = claude.InMemorySessionStore()
      return {
        append = function(_, k, e)
          s:append(k, e)
        end,
        load = function(_, k)
          local l = s:load(k)
          if not l then
            return {}
          end
          local r = {}
          for i = #l, 1, -1 do
            r[#r + 1] = l[i]
          end
          return r
        end,
        list_sessions = function()
          return { { session_id = "x", mtime = 5 } }
        end,
        delete = function() end,
      }
    end
    local err = raises("ClaudeSDKError", conformance.run, broken)
    assert.are.equal("ECONFORMANCE", err.code)
    local text = table.concat(err.failures, "\n")
    for _, n in ipairs({ "1.", "2.", "3.", "7.", "8.", "9.", "10.", "11." }) do
      assert.truthy(("\n" .. text):find("\n" .. n, 1, true), "contract " .. n .. " not reported:\n" .. text)
    end
    raises("InvalidOptionError", conformance.run, function()
      return { load = function() end }
    end)
  end)

  it("runs inside a task too", function()
    assert.are.equal(
      13,
      claude.run(function()
        return conformance.run(claude.InMemorySessionStore)
      end)
    )
  end)
end)

-- A store whose append fails while `down` is true; it records every call.
local function flaky_store()
  local inner = claude.InMemorySessionStore()
  local s = { down = false, calls = 0, inner = inner }
  function s.append(self, key, entries)
    self.calls = self.calls + 1
    if self.down then
      error("store is down")
    end
    inner:append(key, entries)
  end
  function s.load(_, key)
    return inner:load(key)
  end
  return s
end

local PROJECTS = "/h/.claude/projects"
local FILE = PROJECTS .. "/-p/" .. SID .. ".jsonl"
local KEY = { project_key = "-p", session_id = SID }

local function frame(...)
  local entries = {}
  for i, n in ipairs({ ... }) do
    entries[i] = { type = "user", uuid = "u" .. n, n = n }
  end
  return { type = "transcript_mirror", filePath = FILE, entries = entries }
end

local function ns(list)
  local out = {}
  for i, e in ipairs(list or {}) do
    out[i] = e.n
  end
  return out
end

describe("the transcript mirror", function()
  local backoff
  setup(function()
    backoff = mirror.BACKOFF_MS
    mirror.BACKOFF_MS = { 1, 1 } -- the specs do not wait for real backoff
  end)
  teardown(function()
    mirror.BACKOFF_MS = backoff
  end)

  it("batches frames per transcript file and appends them at a flush", function()
    local s = flaky_store()
    local m = mirror.new(s, PROJECTS, "batched")
    assert.is_false(m:enqueue(frame(1, 2)))
    assert.is_false(m:enqueue(frame(3)))
    local sub = frame(9)
    sub.filePath = PROJECTS .. "/-p/" .. SID .. "/subagents/agent-a.jsonl"
    m:enqueue(sub)
    m:enqueue({ type = "transcript_mirror", filePath = "/not/under/projects.jsonl", entries = { { type = "x" } } })
    assert.are.equal(0, s.calls)
    assert.are.same({}, m:flush())
    assert.are.equal(2, s.calls) -- one append per file; the stray path is dropped
    assert.are.same({ 1, 2, 3 }, ns(s:load(KEY)))
    assert.are.same({ 9 }, ns(s.inner:load({ project_key = "-p", session_id = SID, subpath = "subagents/agent-a" })))
    assert.are.equal(0, m:pending())
  end)

  it("asks for a flush after every frame in eager mode, and past the thresholds in batched mode", function()
    assert.is_true(mirror.new(flaky_store(), PROJECTS, "eager"):enqueue(frame(1)))
    local m = mirror.new(flaky_store(), PROJECTS, "batched")
    local big = {}
    for i = 1, mirror.MAX_PENDING_ENTRIES + 1 do
      big[i] = i
    end
    assert.is_true(m:enqueue(frame((table.unpack or unpack)(big))))
  end)

  it("retries a failing append, reports it typed, keeps the entries and catches up", function()
    local s = flaky_store()
    local m = mirror.new(s, PROJECTS, "batched")
    m:enqueue(frame(1, 2))
    s.down = true
    local errs = m:flush()
    assert.are.equal(mirror.MAX_ATTEMPTS, s.calls)
    assert.are.equal(1, #errs)
    local e = errs[1]
    assert.is_true(claude.isinstance(e, claude.MirrorErrorMessage))
    assert.is_true(claude.isinstance(e, claude.SystemMessage))
    assert.are.equal("system", e.type)
    assert.are.equal("mirror_error", e.subtype)
    assert.are.same(KEY, e.key)
    assert.are.equal(SID, e.session_id)
    assert.truthy(e.error:find("store is down", 1, true))
    assert.are.equal(2, e.pending)
    assert.are.equal(2, m:pending())
    -- more arrives while the store is down: still in order behind the kept ones
    m:enqueue(frame(3))
    assert.are.equal(1, #m:flush())
    s.down = false
    assert.are.same({}, m:flush())
    assert.are.same({ 1, 2, 3 }, ns(s:load(KEY)))
    assert.are.equal(0, m:pending())
  end)

  it("bounds the backlog of a store that stays down, and says how much it dropped", function()
    local entries, bytes = mirror.MAX_BACKLOG_ENTRIES, mirror.MAX_BACKLOG_BYTES
    mirror.MAX_BACKLOG_ENTRIES = 3
    local ok, err = pcall(function()
      local s = flaky_store()
      s.down = true
      local m = mirror.new(s, PROJECTS, "batched")
      m:enqueue(frame(1, 2))
      m:enqueue(frame(3, 4))
      local errs = m:flush()
      assert.are.equal(2, m:pending()) -- the oldest frame went
      assert.are.equal(2, errs[1].dropped)
      s.down = false
      m:flush()
      assert.are.same({ 3, 4 }, ns(s:load(KEY)))
    end)
    mirror.MAX_BACKLOG_ENTRIES, mirror.MAX_BACKLOG_BYTES = entries, bytes
    assert(ok, err)
  end)

  it("cuts short an append that hangs inside a task, without retrying it", function()
    local timeout = mirror.APPEND_TIMEOUT_MS
    mirror.APPEND_TIMEOUT_MS = 50
    local calls, cancelled = 0, false
    local hanging = {
      append = function()
        calls = calls + 1
        local ok, err = pcall(claude.sleep, 60000)
        cancelled = not ok and errors.is(err, "CancelledError")
        error(err, 0)
      end,
      load = function() end,
    }
    local ok, err = pcall(claude.run, function()
      local m = mirror.new(hanging, PROJECTS, "batched")
      m:enqueue(frame(1))
      local errs = m:flush()
      assert.are.equal(1, #errs)
      assert.truthy(errs[1].error:find("timed out", 1, true), errs[1].error)
      assert.are.equal(1, m:pending())
    end)
    mirror.APPEND_TIMEOUT_MS = timeout
    assert(ok, err)
    assert.are.equal(1, calls)
    assert.is_true(cancelled, "the store's wait was cancelled")
  end)

  it("flushes from inside a task, where the store may yield", function()
    local inner = claude.InMemorySessionStore()
    local yielding = {
      append = function(_, k, e)
        claude.sleep(1) -- a network round trip
        inner:append(k, e)
      end,
      load = function(_, k)
        return inner:load(k)
      end,
    }
    claude.run(function()
      local m = mirror.new(yielding, PROJECTS, "batched")
      m:enqueue(frame(1))
      assert.are.same({}, m:flush())
    end)
    assert.are.same({ 1 }, ns(inner:load(KEY)))
  end)
end)

-- A local session with a subagent, written like the CLI writes it.
local function local_session(config)
  local dir = config .. "/projects/-proj-alpha"
  assert(os.execute("mkdir -p " .. h.sh_quote(dir .. "/" .. SID .. "/subagents")))
  tr.write(dir .. "/" .. SID .. ".jsonl", {
    tr.user(SID, "u1", nil, "Hello there"),
    tr.assistant(SID, "a1", "u1", "Hi!"),
    tr.user(SID, "u2", "a1", "And again"),
    tr.assistant(SID, "a2", "u2", "Again hi."),
  })
  tr.write(dir .. "/" .. SID .. "/subagents/agent-x1.jsonl", {
    tr.user(SID, "s1", nil, "sub task", { "isSidechain", true, "agentId", "x1" }),
    tr.assistant(SID, "s2", "s1", "sub done", { "isSidechain", true, "agentId", "x1" }),
  })
  local f = assert(io.open(dir .. "/" .. SID .. "/subagents/agent-x1.meta.json", "w"))
  f:write(json.encode({ agentType = "general-purpose", toolUseId = "toolu_1" }))
  f:close()
end

describe("import_session_to_store and the readers over a store", function()
  local config, store
  before_each(function()
    config = h.tmpdir()
    local_session(config)
    store = claude.InMemorySessionStore()
  end)
  after_each(function()
    os.execute("rm -rf " .. h.sh_quote(config))
  end)

  it("imports a local session with its subagents, keyed as the mirror keys it", function()
    claude.import_session_to_store(SID, store, { config_dir = config, batch_size = 3 })
    local main = store:load({ project_key = "-proj-alpha", session_id = SID })
    assert.are.equal(4, #main)
    assert.are.equal("u1", main[1].uuid)
    assert.are.same({ "subagents/agent-x1" }, store:list_subkeys({ project_key = "-proj-alpha", session_id = SID }))
    local sub = store:load({ project_key = "-proj-alpha", session_id = SID, subpath = "subagents/agent-x1" })
    assert.are.equal(3, #sub) -- two lines and the sidecar as agent_metadata
    assert.are.equal("agent_metadata", sub[3].type)
    assert.are.equal("toolu_1", sub[3].toolUseId)
    raises("ClaudeSDKError", claude.import_session_to_store, "aaaaaaaa-0000-4000-8000-0000000000ff", store, {
      config_dir = config,
    })
    raises("InvalidOptionError", claude.import_session_to_store, "../x", store)
    raises("InvalidOptionError", claude.import_session_to_store, SID, { append = true })
  end)

  it("reads sessions back from the store as from the CLI's files", function()
    claude.import_session_to_store(SID, store, { config_dir = config })
    local dir = "/proj/alpha" -- project key -proj-alpha
    local list = claude.list_sessions_from_store(store, { directory = dir })
    assert.are.equal(1, #list)
    assert.are.equal(SID, list[1].session_id)
    assert.are.equal("Hello there", list[1].first_prompt)
    assert.is_true(list[1].last_modified > 1e12)
    local info = claude.get_session_info_from_store(store, SID, { directory = dir })
    assert.are.equal("Hello there", info.first_prompt)
    local msgs = claude.get_session_messages_from_store(store, SID, { directory = dir })
    local types = {}
    for i, m in ipairs(msgs) do
      types[i] = m.type .. ":" .. m.uuid
    end
    assert.are.same({ "user:u1", "assistant:a1", "user:u2", "assistant:a2" }, types)
    assert.are.same(
      json.decode(json.encode(claude.get_session_messages(SID, { config_dir = config }))),
      json.decode(json.encode(msgs))
    )
    assert.are.equal(2, #claude.get_session_messages_from_store(store, SID, { directory = dir, offset = 2 }))
    assert.are.same({ "x1" }, claude.list_subagents_from_store(store, SID, { directory = dir }))
    local sub = claude.get_subagent_messages_from_store(store, SID, "x1", { directory = dir })
    assert.are.equal(2, #sub)
    assert.are.equal("toolu_1", sub[1].parent_tool_use_id)
    -- not there: nil / {}
    local other = "aaaaaaaa-0000-4000-8000-0000000000ff"
    assert.is_nil(claude.get_session_info_from_store(store, other, { directory = dir }))
    assert.are.same({}, claude.get_session_messages_from_store(store, other, { directory = dir }))
    -- a store without list_sessions cannot list
    raises("InvalidOptionError", claude.list_sessions_from_store, {
      append = function() end,
      load = function() end,
    })
  end)

  it("renames, tags, forks and deletes sessions in the store", function()
    claude.import_session_to_store(SID, store, { config_dir = config })
    local dir = "/proj/alpha"
    claude.rename_session_via_store(store, SID, "  Release notes  ", { directory = dir })
    claude.tag_session_via_store(store, SID, "urgent", { directory = dir })
    local info = claude.get_session_info_from_store(store, SID, { directory = dir })
    assert.are.equal("Release notes", info.custom_title)
    assert.are.equal("urgent", info.tag)
    local entries = store:load({ project_key = "-proj-alpha", session_id = SID })
    assert.are.equal("custom-title", entries[#entries - 1].type)
    assert.are.equal(SID, entries[#entries - 1].sessionId)
    raises("InvalidOptionError", claude.rename_session_via_store, store, SID, "   ", { directory = dir })
    raises("InvalidOptionError", claude.tag_session_via_store, store, "../x", "t")
    -- a fork up to the first answer: fresh uuids, its own key
    local new = claude.fork_session_via_store(store, SID, { directory = dir })
    assert.is_true(claude.sessions.is_uuid(new.session_id))
    assert.are_not.equal(SID, new.session_id)
    local forked = claude.get_session_messages_from_store(store, new.session_id, { directory = dir })
    assert.are.equal(4, #forked)
    assert.are_not.equal("u1", forked[1].uuid)
    assert.are.same(
      forked[1].message,
      claude.get_session_messages_from_store(store, SID, { directory = dir })[1].message
    )
    raises("ClaudeSDKError", claude.fork_session_via_store, store, "aaaaaaaa-0000-4000-8000-0000000000ff", {
      directory = dir,
    })
    -- delete: the session and its subagents go; a store without delete is left as it is
    claude.delete_session_via_store(store, SID, { directory = dir })
    assert.is_nil(store:load({ project_key = "-proj-alpha", session_id = SID }))
    assert.are.same({}, store:list_subkeys({ project_key = "-proj-alpha", session_id = SID }))
    claude.delete_session_via_store({ append = function() end, load = function() end }, SID)
  end)

  it("materializes a stored session for resume, subagents and credentials included", function()
    claude.import_session_to_store(SID, store, { config_dir = config })
    local home = h.tmpdir()
    assert(os.execute("mkdir -p " .. h.sh_quote(home .. "/.claude")))
    local f = assert(io.open(home .. "/.claude/.credentials.json", "w"))
    f:write(json.encode({ claudeAiOauth = { accessToken = "at", refreshToken = "secret-rt" } }))
    f:close()
    f = assert(io.open(home .. "/.claude/settings.json", "w"))
    f:write(json.encode({ enabledPlugins = { x = true }, model = "m" }))
    f:close()
    local o = options.validate({ session_store = store, resume = SID, cwd = "/proj/alpha", env = { HOME = home } })
    local m = session_resume.materialize(o)
    assert.are.equal(SID, m.session_id)
    local base = m.config_dir .. "/projects/-proj-alpha/"
    assert.is_truthy(h.exists(base .. SID .. ".jsonl"))
    assert.is_truthy(h.exists(base .. SID .. "/subagents/agent-x1.jsonl"))
    local meta = json.decode(h.read_file(base .. SID .. "/subagents/agent-x1.meta.json"))
    assert.are.equal("toolu_1", meta.toolUseId)
    assert.is_nil(meta.type)
    local creds = json.decode(h.read_file(m.config_dir .. "/.credentials.json"))
    assert.are.equal("at", creds.claudeAiOauth.accessToken)
    assert.is_nil(creds.claudeAiOauth.refreshToken)
    local settings = json.decode(h.read_file(m.config_dir .. "/settings.json"))
    assert.is_nil(settings.enabledPlugins)
    assert.are.equal("m", settings.model)
    local applied = session_resume.apply(o, m)
    assert.are.equal(m.config_dir, applied.env.CLAUDE_CONFIG_DIR)
    assert.are.equal(home, applied.env.HOME)
    -- continue: the newest session of the project
    local oc = options.validate({ session_store = store, continue_conversation = true, cwd = "/proj/alpha" })
    local mc = session_resume.materialize(oc)
    assert.are.equal(SID, mc.session_id)
    -- nothing stored: nothing materialized
    assert.is_nil(session_resume.materialize(options.validate({
      session_store = claude.InMemorySessionStore(),
      resume = SID,
      cwd = "/proj/alpha",
    })))
    for _, dir in ipairs({ m.config_dir, mc.config_dir, home }) do
      os.execute("rm -rf " .. h.sh_quote(dir))
    end
  end)

  it("says which store call failed during a resume", function()
    local bad = {
      append = function() end,
      load = function()
        error("backend unreachable")
      end,
    }
    local err = raises(
      "ClaudeSDKError",
      session_resume.materialize,
      options.validate({ session_store = bad, resume = SID, cwd = "/proj/alpha" })
    )
    assert.are.equal("ESTORE", err.code)
    assert.truthy(err.message:find("backend unreachable", 1, true), err.message)
  end)
end)
