-- Session mutations (issue 15): rename_session, tag_session, delete_session,
-- fork_session, list_subagents and get_subagent_messages, on hand-written
-- transcripts in a temporary config directory (shaped as in sessions_spec).
local claude = require("claude_agent_sdk")
local json = require("claude_agent_sdk.json")
local errors = require("claude_agent_sdk.errors")
local core = require("claude_agent_sdk.core")
local h = require("support.helpers")

local null = json.null

local tr = require("support.transcripts")
local obj, user, assistant = tr.obj, tr.user, tr.assistant

local function progress(sid, uuid, parent)
  return obj({
    "parentUuid",
    parent,
    "isSidechain",
    false,
    "type",
    "progress",
    "data",
    { type = "hook_progress" },
    "uuid",
    uuid,
    "timestamp",
    "2026-11-21T13:27:17.500Z",
    "sessionId",
    sid,
  })
end

local write = tr.write

local read = h.read_file

local function lines_of(path)
  local out = {}
  for line in (read(path) or ""):gmatch("[^\n]+") do
    out[#out + 1] = line
  end
  return out
end

local function texts(msgs)
  local out = {}
  for i, m in ipairs(msgs) do
    local c = m.message.content
    out[i] = type(c) == "string" and c or c[1].text
  end
  return out
end

local function raises(kind, fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "did not raise")
  assert.is_true(errors.is(err, kind), "raised " .. tostring(err))
  return err
end

-- UUIDs with hex digits (0-9a-f) only
local A = "aaaaaaaa-0000-4000-8000-000000000001"
local B = "bbbbbbbb-0000-4000-8000-000000000002"
local C = "cccccccc-0000-4000-8000-000000000003"
local MISSING = "00000000-0000-4000-8000-00000000dead"
local U = {} -- message uuids
for i = 1, 9 do
  U[i] = ("1111111%d-0000-4000-8000-00000000000%d"):format(i, i)
end

describe("session mutations on hand-written transcripts", function()
  local config, projects, alpha, opts

  before_each(function()
    config = h.tmpdir()
    projects = config .. "/projects"
    alpha = projects .. "/-proj-alpha"
    assert(os.execute("mkdir -p '" .. alpha .. "'"))
    opts = { config_dir = config }
    -- A: two turns with a progress entry in the chain and a sidechain entry
    write(alpha .. "/" .. A .. ".jsonl", {
      user(A, U[1], nil, "Hello there"),
      progress(A, U[2], U[1]),
      assistant(A, U[3], U[2], "Hi!"),
      user(A, U[4], U[3], "What is 2+2?"),
      user(A, U[9], U[4], "side quest", { "isSidechain", true }),
      assistant(A, U[5], U[4], "4"),
      obj({ "type", "content-replacement", "sessionId", A, "replacements", json.array({ { kind = "x" } }) }),
      obj({ "type", "last-prompt", "lastPrompt", "What is 2+2?", "leafUuid", U[5], "sessionId", A }),
    })
    -- B: a session with subagents
    write(alpha .. "/" .. B .. ".jsonl", {
      user(B, "b-u1", nil, "Spawn agents"),
      assistant(B, "b-a1", "b-u1", "On it"),
    })
    assert(os.execute("mkdir -p '" .. alpha .. "/" .. B .. "/subagents/workflows/run1'"))
    write(alpha .. "/" .. B .. "/subagents/agent-a1.jsonl", {
      user(B, "s-u1", nil, "sub prompt", { "agentId", "a1" }),
      assistant(B, "s-a1", "s-u1", "sub answer", { "agentId", "a1" }),
      user(B, "s-u2", "s-a1", "again", { "agentId", "a1" }),
      assistant(B, "s-a2", "s-u2", "done", { "agentId", "a1" }),
    })
    write(
      alpha .. "/" .. B .. "/subagents/agent-a1.meta.json",
      { json.encode({ toolUseId = "toolu_1", agentType = "general-purpose" }) }
    )
    write(alpha .. "/" .. B .. "/subagents/workflows/run1/agent-nested_2.jsonl", {
      user(B, "n-u1", nil, "nested prompt"),
    })
    write(alpha .. "/" .. B .. "/subagents/notes.txt", { "not an agent" })
  end)

  after_each(function()
    if config then
      os.execute("rm -rf '" .. config .. "'")
    end
  end)

  it("rename_session appends a custom title that list_sessions shows", function()
    claude.rename_session(A, "  My title  ", opts)
    local lines = lines_of(alpha .. "/" .. A .. ".jsonl")
    assert.are.equal('{"type":"custom-title","customTitle":"My title","sessionId":"' .. A .. '"}', lines[#lines])
    local info = claude.get_session_info(A, opts)
    assert.are.equal("My title", info.custom_title)
    assert.are.equal("My title", info.summary)
    claude.rename_session(A, "Second", { directory = "/proj/alpha", config_dir = config })
    local listed
    for _, s in ipairs(claude.list_sessions({ directory = "/proj/alpha", config_dir = config })) do
      if s.session_id == A then
        listed = s
      end
    end
    assert.are.equal("Second", listed.custom_title)
    raises("InvalidOptionError", claude.rename_session, A, "   ", opts)
    raises("InvalidOptionError", claude.rename_session, A, "", opts)
  end)

  it("tag_session appends a tag (sanitized), nil clears it", function()
    claude.tag_session(A, " \226\128\139exp\226\128\174eriment\239\187\191 ", opts) -- ZWSP, RLO, BOM
    local lines = lines_of(alpha .. "/" .. A .. ".jsonl")
    assert.are.equal('{"type":"tag","tag":"experiment","sessionId":"' .. A .. '"}', lines[#lines])
    assert.are.equal("experiment", claude.get_session_info(A, opts).tag)
    claude.tag_session(A, nil, opts)
    lines = lines_of(alpha .. "/" .. A .. ".jsonl")
    assert.are.equal('{"type":"tag","tag":"","sessionId":"' .. A .. '"}', lines[#lines])
    assert.is_nil(claude.get_session_info(A, opts).tag)
    raises("InvalidOptionError", claude.tag_session, A, "\226\128\139 ", opts)
    raises("InvalidOptionError", claude.tag_session, A, "", opts)
  end)

  it("delete_session removes the transcript and the subagent directory, not what a symlink points to", function()
    local outside = h.tmpdir()
    write(outside .. "/keep.txt", { "keep" })
    assert(os.execute("ln -s '" .. outside .. "' '" .. alpha .. "/" .. B .. "/subagents/link'"))
    claude.delete_session(B, opts)
    assert.is_nil(core.stat(alpha .. "/" .. B .. ".jsonl"))
    assert.is_nil(core.stat(alpha .. "/" .. B))
    assert.are.equal("keep\n", read(outside .. "/keep.txt"))
    os.execute("rm -rf '" .. outside .. "'")
    assert.is_nil(claude.get_session_info(B, opts))
    assert.is_not_nil(core.stat(alpha .. "/" .. A .. ".jsonl"))
    -- a second delete: not found
    local err = raises("ClaudeSDKError", claude.delete_session, B, opts)
    assert.are.equal("ENOENT", err.code)
  end)

  it("fork_session copies the chain with fresh uuids and a title", function()
    local before = read(alpha .. "/" .. A .. ".jsonl")
    local r = claude.fork_session(A, opts)
    assert.is_true(claude.sessions.is_uuid(r.session_id))
    assert.are_not.equal(A, r.session_id)
    assert.are.equal(before, read(alpha .. "/" .. A .. ".jsonl"))
    local orig = claude.get_session_messages(A, opts)
    local forked = claude.get_session_messages(r.session_id, opts)
    assert.are.same({ "Hello there", "Hi!", "What is 2+2?", "4" }, texts(forked))
    assert.are.same(texts(orig), texts(forked))
    local old = {}
    for _, m in ipairs(orig) do
      old[m.uuid] = true
    end
    for _, m in ipairs(forked) do
      assert.is_nil(old[m.uuid])
      assert.are.equal(r.session_id, m.session_id)
    end
    -- the raw lines: a consistent chain (the progress entry skipped), forkedFrom, no sidechain
    local entries, by_uuid = {}, {}
    for _, line in ipairs(lines_of(alpha .. "/" .. r.session_id .. ".jsonl")) do
      local e = json.decode(line)
      entries[#entries + 1] = e
      if e.uuid then
        by_uuid[e.uuid] = e
      end
    end
    local chain = {}
    for _, e in ipairs(entries) do
      if e.type == "user" or e.type == "assistant" then
        chain[#chain + 1] = e
      end
    end
    assert.are.equal(4, #chain)
    assert.are.equal(null, chain[1].parentUuid)
    for i = 2, 4 do
      assert.are.equal(chain[i - 1].uuid, chain[i].parentUuid)
    end
    assert.are.same({ sessionId = A, messageUuid = U[1] }, chain[1].forkedFrom)
    assert.are.same({ sessionId = A, messageUuid = U[5] }, chain[4].forkedFrom)
    for _, e in ipairs(entries) do
      assert.are_not.equal("progress", e.type)
      assert.are.equal(r.session_id, e.sessionId)
    end
    assert.are.equal("content-replacement", entries[#entries - 1].type)
    assert.are.same({ { kind = "x" } }, entries[#entries - 1].replacements)
    assert.are.equal("custom-title", entries[#entries].type)
    assert.are.equal("Hello there (fork)", entries[#entries].customTitle)
    assert.are.equal("Hello there (fork)", claude.get_session_info(r.session_id, opts).custom_title)
  end)

  it("fork_session with up_to_message_id and a title cuts the copy", function()
    local r = claude.fork_session(A, { config_dir = config, up_to_message_id = U[3], title = " Branch " })
    assert.are.same({ "Hello there", "Hi!" }, texts(claude.get_session_messages(r.session_id, opts)))
    assert.are.equal("Branch", claude.get_session_info(r.session_id, opts).custom_title)
    -- the fork of a renamed session takes its title
    claude.rename_session(A, "Named", opts)
    local r2 = claude.fork_session(A, opts)
    assert.are.equal("Named (fork)", claude.get_session_info(r2.session_id, opts).custom_title)
    raises("InvalidOptionError", claude.fork_session, A, { config_dir = config, up_to_message_id = MISSING })
    raises("InvalidOptionError", claude.fork_session, A, { config_dir = config, up_to_message_id = "u1" })
    raises("InvalidOptionError", claude.fork_session, A, { config_dir = config, bogus = 1 })
  end)

  it("list_subagents and get_subagent_messages read <id>/subagents", function()
    assert.are.same({ "a1", "nested_2" }, claude.list_subagents(B, opts))
    assert.are.same({}, claude.list_subagents(A, opts))
    assert.are.same({}, claude.list_subagents(MISSING, opts))
    local msgs = claude.get_subagent_messages(B, "a1", opts)
    assert.are.same({ "sub prompt", "sub answer", "again", "done" }, texts(msgs))
    assert.are.equal("toolu_1", msgs[1].parent_tool_use_id)
    assert.are.equal("s-u1", msgs[1].uuid)
    assert.are.same(
      { "sub answer", "again" },
      texts(claude.get_subagent_messages(B, "a1", { config_dir = config, offset = 1, limit = 2 }))
    )
    local nested = claude.get_subagent_messages(B, "nested_2", { config_dir = config, directory = "/proj/alpha" })
    assert.are.same({ "nested prompt" }, texts(nested))
    assert.is_nil(nested[1].parent_tool_use_id)
    assert.are.same({}, claude.get_subagent_messages(B, "nope", opts))
    assert.are.same({}, claude.get_subagent_messages(MISSING, "a1", opts))
  end)

  it("ids that are not plain ids are InvalidOptionError and touch nothing", function()
    -- a file a path traversal would reach
    local victim = config .. "/victim.jsonl"
    write(victim, { user(A, "v1", nil, "victim") })
    local before = read(victim)
    for _, bad in ipairs({ "..", "../x", "a/b", "not-a-uuid", "../victim", "../../victim", A .. "/..", "" }) do
      raises("InvalidOptionError", claude.rename_session, bad, "t", opts)
      raises("InvalidOptionError", claude.tag_session, bad, "t", opts)
      raises("InvalidOptionError", claude.delete_session, bad, opts)
      raises("InvalidOptionError", claude.fork_session, bad, opts)
      raises("InvalidOptionError", claude.list_subagents, bad, opts)
      raises("InvalidOptionError", claude.get_subagent_messages, bad, "a1", opts)
      if bad:find("[^%w_%-]") or bad == "" then
        raises("InvalidOptionError", claude.get_subagent_messages, B, bad, opts)
      end
    end
    assert.are.same({}, claude.get_subagent_messages(B, "not-a-uuid", opts)) -- a plain agent id
    raises("InvalidOptionError", claude.get_subagent_messages, B, "a1.jsonl", opts)
    raises("InvalidOptionError", claude.rename_session, A, 42, opts)
    raises("InvalidOptionError", claude.tag_session, A, {}, opts)
    assert.are.equal(before, read(victim))
    local names = core.listdir(alpha)
    table.sort(names)
    assert.are.same({ A .. ".jsonl", B, B .. ".jsonl" }, names)
  end)

  it("a mutation of a missing session is a ClaudeSDKError with code ENOENT, and creates nothing", function()
    for _, call in ipairs({
      function()
        claude.rename_session(MISSING, "t", opts)
      end,
      function()
        claude.tag_session(MISSING, "t", opts)
      end,
      function()
        claude.tag_session(MISSING, nil, { config_dir = config, directory = "/proj/alpha" })
      end,
      function()
        claude.delete_session(MISSING, opts)
      end,
      function()
        claude.fork_session(MISSING, opts)
      end,
      function()
        claude.rename_session(A, "t", { config_dir = config .. "/nowhere" })
      end,
      function()
        claude.rename_session(A, "t", { config_dir = config, directory = "/proj/other" })
      end,
    }) do
      local err = raises("ClaudeSDKError", call)
      assert.is_false(errors.is(err, "InvalidOptionError"))
      assert.are.equal("ENOENT", err.code)
      assert.truthy(err.message:find("not found", 1, true))
    end
    assert.is_nil(core.stat(alpha .. "/" .. MISSING .. ".jsonl"))
    -- an empty stub is not a session
    write(alpha .. "/" .. C .. ".jsonl", {})
    os.execute(": > '" .. alpha .. "/" .. C .. ".jsonl'")
    assert.are.equal("ENOENT", raises("ClaudeSDKError", claude.rename_session, C, "t", opts).code)
    assert.are.equal("", read(alpha .. "/" .. C .. ".jsonl"))
  end)
end)

describe("session mutations on a transcript written by the real CLI", function()
  local CLI, why = h.cli_path()
  if not CLI then
    pending("skipped: " .. why)
    return
  end

  local srv
  setup(function()
    srv = h.start_server(h.ROOT .. "/spec/support/scripts/e2e.lua")
  end)
  teardown(function()
    h.stop_server(srv)
  end)

  it("renames, tags, forks and deletes a real session", function()
    local cwd = h.tmpdir()
    local opts = h.options(srv, { cwd = cwd })
    local config = opts.env.HOME .. "/.claude"
    local c = claude.ClaudeSDKClient.new(opts)
    c:connect()
    c:query("What is 2+2?")
    local last
    for m in c:receive_response() do
      last = m
    end
    c:disconnect()
    local sid = last.session_id
    local where = { directory = cwd, config_dir = config }
    claude.rename_session(sid, "Arithmetic", where)
    claude.tag_session(sid, "math", where)
    local list = claude.list_sessions(where)
    assert.are.equal(1, #list)
    assert.are.equal(sid, list[1].session_id)
    assert.are.equal("Arithmetic", list[1].custom_title)
    assert.are.equal("Arithmetic", list[1].summary)
    assert.are.equal("math", list[1].tag)
    local r = claude.fork_session(sid, where)
    assert.are.same(
      texts(claude.get_session_messages(sid, where)),
      texts(claude.get_session_messages(r.session_id, where))
    )
    assert.are.equal("Arithmetic (fork)", claude.get_session_info(r.session_id, where).custom_title)
    claude.delete_session(sid, where)
    local left = claude.list_sessions(where)
    assert.are.equal(1, #left)
    assert.are.equal(r.session_id, left[1].session_id)
    os.execute("rm -rf '" .. cwd .. "'")
  end)
end)
