-- Sessions read back from the CLI's transcript files (sessions.lua): a fake
-- config directory with hand-written transcripts shaped like CLI 2.1.197's,
-- then one real conversation through the real CLI and the offline model
-- server.
local claude = require("claude_agent_sdk")
local sessions = require("claude_agent_sdk.sessions")
local json = require("claude_agent_sdk.json")
local h = require("support.helpers")

local CLI, why = h.cli_path()

local tmpdir = h.tmpdir

local tr = require("support.transcripts")
local obj, user, assistant, write = tr.obj, tr.user, tr.assistant, tr.write
local null = json.null

local function queue_op(sid, content)
  return obj({
    "type",
    "queue-operation",
    "operation",
    "enqueue",
    "timestamp",
    "2026-11-21T13:27:17.045Z",
    "sessionId",
    sid,
    "content",
    content,
  })
end

local function last_prompt(sid, text, leaf)
  return obj({ "type", "last-prompt", "lastPrompt", text, "leafUuid", leaf, "sessionId", sid })
end

local function ids(list)
  local out = {}
  for i, s in ipairs(list) do
    out[i] = s.session_id
  end
  return out
end

local function uuids(list)
  local out = {}
  for i, m in ipairs(list) do
    out[i] = m.uuid
  end
  return out
end

local A = "aaaaaaaa-0000-4000-8000-000000000001"
local B = "bbbbbbbb-0000-4000-8000-000000000002"
local C = "cccccccc-0000-4000-8000-000000000003"
local D = "dddddddd-0000-4000-8000-000000000004"
local E = "eeeeeeee-0000-4000-8000-000000000005"
local F = "ffffffff-0000-4000-8000-000000000006"
local G = "99999999-0000-4000-8000-000000000007"
local X = "12345678-0000-4000-8000-000000000008"

describe("sessions on hand-written transcripts", function()
  local config, projects, alpha, beta

  setup(function()
    config = tmpdir()
    projects = config .. "/projects"
    alpha = projects .. "/-proj-alpha"
    beta = projects .. "/-proj-beta"
    assert(os.execute("mkdir -p '" .. alpha .. "' '" .. beta .. "'"))

    -- A: a plain two-turn session; the last prompt is the summary
    write(alpha .. "/" .. A .. ".jsonl", {
      queue_op(A, "Hello there"),
      user(A, "a-u1", nil, "Hello there"),
      assistant(A, "a-a1", "a-u1", "Hi!"),
      user(A, "a-u2", "a-a1", "What is 2+2?"),
      assistant(A, "a-a2", "a-u2", "4"),
      last_prompt(A, "What is 2+2?", "a-a2"),
    }, 1700000300)

    -- B: a custom title wins; an AI title, a tag and a later git branch
    write(alpha .. "/" .. B .. ".jsonl", {
      user(B, "b-u1", nil, { { type = "text", text = "Refactor the parser\nplease" } }),
      assistant(B, "b-a1", "b-u1", "Done."),
      obj({ "type", "ai-title", "aiTitle", "Parser refactor", "sessionId", B }),
      obj({ "type", "custom-title", "customTitle", 'My "parser" work', "sessionId", B }),
      obj({ "type", "tag", "tag", "refactor", "sessionId", B }),
      user(B, "b-u2", "b-a1", "thanks", { "gitBranch", "feature/x" }),
    }, 1700000200)

    -- C: the first prompt skips slash commands, meta, tool results and
    -- generated text; a summary entry is the summary (no last prompt)
    write(alpha .. "/" .. C .. ".jsonl", {
      user(C, "c-u0", nil, "<command-name>/clear</command-name>\n<command-message>clear</command-message>"),
      user(C, "c-u1", "c-u0", "Caveat: injected", { "isMeta", true }),
      user(C, "c-u2", "c-u1", "<local-command-stdout>cleared</local-command-stdout>"),
      user(C, "c-u3", "c-u2", { { type = "tool_result", tool_use_id = "t", content = "x" } }),
      user(C, "c-u4", "c-u3", "[Request interrupted by user for tool use]"),
      user(C, "c-u5", "c-u4", "  <ide_opened_file>a.lua</ide_opened_file> "),
      user(C, "c-u6", "c-u5", { { type = "image", source = {} }, { type = "text", text = "  The real question  " } }),
      obj({ "type", "summary", "summary", "Answering the real question", "leafUuid", "c-u6" }),
    }, 1700000100)

    -- D: a sidechain transcript is never listed
    write(alpha .. "/" .. D .. ".jsonl", {
      (user(D, "d-u1", nil, "sub task"):gsub('"isSidechain":false', '"isSidechain":true')),
    }, 1700000400)

    -- E: metadata only, nothing to show
    write(alpha .. "/" .. E .. ".jsonl", {
      obj({ "type", "permission-mode", "permissionMode", "default", "sessionId", E }),
    }, 1700000500)

    -- F: only a slash command: its name is the first prompt; a long prompt
    -- elsewhere is cut at 200 characters
    write(alpha .. "/" .. F .. ".jsonl", {
      user(F, "f-u1", nil, "<command-name>/compact</command-name>"),
    }, 1700000000)
    write(beta .. "/" .. G .. ".jsonl", {
      user(G, "g-u1", nil, ("word "):rep(60)),
    }, 1700000600)

    -- not sessions: a non-UUID name, an empty file, a directory
    write(alpha .. "/notes.jsonl", { user(X, "x", nil, "not a session") })
    assert(io.open(alpha .. "/" .. X .. ".jsonl", "wb")):close()
    assert(os.execute("mkdir -p '" .. alpha .. "/" .. A .. "'"))
  end)

  teardown(function()
    os.execute("rm -rf '" .. config .. "'")
  end)

  local function list(opts)
    opts = opts or {}
    opts.config_dir = config
    return sessions.list_sessions(opts)
  end

  it("lists a project's sessions newest first, without sidechains or metadata-only files", function()
    local l = list({ directory = "/proj/alpha" })
    assert.are.same({ A, B, C, F }, ids(l))
    for _, s in ipairs(l) do
      assert.is_true(claude.isinstance(s, claude.SDKSessionInfo))
    end
    assert.are.equal(1700000300000, l[1].last_modified)
    assert.truthy(tostring(l[1]):find("SDKSessionInfo(", 1, true))
    -- a trailing slash and a "." make no difference
    assert.are.same(ids(l), ids(list({ directory = "/proj/./alpha/" })))
  end)

  it("takes the fields from the head and the tail like the Python SDK", function()
    local by = {}
    for _, s in ipairs(list({ directory = "/proj/alpha" })) do
      by[s.session_id] = s
    end
    local a = by[A]
    assert.are.equal("What is 2+2?", a.summary)
    assert.are.equal("Hello there", a.first_prompt)
    assert.is_nil(a.custom_title)
    assert.are.equal("main", a.git_branch)
    assert.are.equal("/proj/alpha", a.cwd)
    assert.is_nil(a.tag)
    assert.are.equal(1795267637045, a.created_at) -- 2026-11-21T13:27:17.045Z, the first timestamp
    local size = io.open(alpha .. "/" .. A .. ".jsonl"):seek("end")
    assert.are.equal(size, a.file_size)

    local b = by[B]
    assert.are.equal('My "parser" work', b.custom_title)
    assert.are.equal('My "parser" work', b.summary)
    assert.are.equal("Refactor the parser please", b.first_prompt)
    assert.are.equal("refactor", b.tag)
    assert.are.equal("feature/x", b.git_branch) -- the last one in the tail

    local c = by[C]
    assert.are.equal("The real question", c.first_prompt)
    assert.are.equal("Answering the real question", c.summary)

    assert.are.equal("/compact", by[F].first_prompt)
    assert.are.equal("/compact", by[F].summary)
  end)

  it("cuts a long first prompt at 200 characters", function()
    local g = sessions.get_session_info(G, { config_dir = config })
    local expected = (("word "):rep(40)):sub(1, 199) .. "\226\128\166" -- 200 chars, right-trimmed, then "…"
    assert.are.equal(expected, g.first_prompt)
  end)

  it("pages with limit and offset", function()
    assert.are.same({ A, B }, ids(list({ directory = "/proj/alpha", limit = 2 })))
    assert.are.same({ B, C }, ids(list({ directory = "/proj/alpha", limit = 2, offset = 1 })))
    assert.are.same({ F }, ids(list({ directory = "/proj/alpha", offset = 3 })))
    assert.are.same({}, ids(list({ directory = "/proj/alpha", offset = 10 })))
    assert.are.same({ A, B, C, F }, ids(list({ directory = "/proj/alpha", limit = 0 })))
  end)

  it("lists every project without a directory, and nothing for an unknown one", function()
    assert.are.same({ G, A, B, C, F }, ids(list()))
    assert.are.equal("/proj/alpha", list({ limit = 2 })[2].cwd) -- from the transcript
    assert.are.same({}, list({ directory = "/proj/gamma" }))
    assert.are.same({}, sessions.list_sessions({ config_dir = config .. "/missing" }))
  end)

  it("gets one session's info, or nil", function()
    local b = sessions.get_session_info(B, { directory = "/proj/alpha", config_dir = config })
    assert.are.equal(B, b.session_id)
    assert.are.equal("refactor", b.tag)
    assert.are.equal(B, sessions.get_session_info(B, { config_dir = config }).session_id) -- any project
    assert.is_nil(sessions.get_session_info(B, { directory = "/proj/beta", config_dir = config }))
    assert.is_nil(sessions.get_session_info(D, { config_dir = config })) -- sidechain
    assert.is_nil(sessions.get_session_info(E, { config_dir = config })) -- nothing to show
    assert.is_nil(sessions.get_session_info("not-a-uuid", { config_dir = config }))
    assert.is_nil(sessions.get_session_info("01234567-0000-4000-8000-00000000000f", { config_dir = config }))
  end)

  it("rejects unknown or mistyped options with InvalidOptionError", function()
    local ok, err = pcall(sessions.list_sessions, { dir = "/x" })
    assert.is_false(ok)
    assert.is_true(claude.errors.is(err, "InvalidOptionError"), tostring(err))
    assert.truthy(tostring(err):find("dir", 1, true))
    ok, err = pcall(sessions.get_session_messages, A, { limit = "3" })
    assert.is_false(ok)
    assert.is_true(claude.errors.is(err, "InvalidOptionError"), tostring(err))
  end)

  it("reads CLAUDE_CONFIG_DIR when no config_dir is given", function()
    -- the interpreter running this spec (a sanitized host, say), else the usual one
    local interp = os.getenv("SPEC_LUA")
    if interp == nil or interp == "" then
      interp = jit and "luajit" or "lua5.4"
    end
    local p = io.popen(
      "CLAUDE_CONFIG_DIR='"
        .. config
        .. "' "
        .. interp
        .. " -e '"
        .. 'local s = require("claude_agent_sdk.sessions"); '
        .. 'io.write(#s.list_sessions({ directory = "/proj/alpha" }))\' 2>&1'
    )
    local out = p:read("*a")
    p:close()
    assert.are.equal("4", out)
  end)

  describe("get_session_messages", function()
    local S = "5e551010-0000-4000-8000-000000000010"
    setup(function()
      write(beta .. "/" .. S .. ".jsonl", {
        queue_op(S, "first question"),
        user(S, "u1", nil, "first question"),
        obj({
          "parentUuid",
          "u1",
          "isSidechain",
          false,
          "attachment",
          { type = "skill_listing" },
          "type",
          "attachment",
          "uuid",
          "att1",
          "sessionId",
          S,
        }),
        assistant(S, "a1", "att1", "first answer"),
        -- an abandoned branch (the user rewound): older in the file
        user(S, "u2b", "a1", "abandoned question"),
        assistant(S, "a2b", "u2b", "abandoned answer"),
        -- the live branch: a meta entry, a progress entry, then the turn
        user(S, "m1", "a1", "<system-reminder>meta</system-reminder>", { "isMeta", true }),
        obj({ "parentUuid", "m1", "type", "progress", "uuid", "p1", "sessionId", S, "data", { type = "x" } }),
        user(S, "u2", "p1", { { type = "text", text = "second question" } }),
        assistant(S, "a2", "u2", "second answer"),
        "{this line is corrupt",
        obj({ "parentUuid", "a2", "type", "system", "subtype", "turn_duration", "uuid", "sys1", "sessionId", S }),
        -- a stray sidechain branch, newest in the file
        (assistant(S, "side1", nil, "sidechain answer"):gsub('"isSidechain":false', '"isSidechain":true')),
        last_prompt(S, "second question", "a2"),
      })
    end)

    local function get(opts)
      opts = opts or {}
      opts.config_dir = config
      return sessions.get_session_messages(S, opts)
    end

    it("follows the newest main-chain leaf back to the root, visible user/assistant entries only", function()
      local msgs = get({ directory = "/proj/beta" })
      assert.are.same({ "u1", "a1", "u2", "a2" }, uuids(msgs))
      assert.are.same(
        { "user", "assistant", "user", "assistant" },
        { msgs[1].type, msgs[2].type, msgs[3].type, msgs[4].type }
      )
      assert.is_true(claude.isinstance(msgs[1], claude.SessionMessage))
      assert.are.equal(S, msgs[1].session_id)
      assert.are.equal("first question", msgs[1].message.content)
      assert.are.equal("second question", msgs[3].message.content[1].text)
      assert.are.equal("second answer", msgs[4].message.content[1].text)
      assert.are.equal("assistant", msgs[4].message.role)
      assert.is_nil(msgs[4].parent_tool_use_id)
      assert.are.same(uuids(msgs), uuids(get())) -- found without a directory too
    end)

    it("pages with limit and offset", function()
      assert.are.same({ "a1", "u2" }, uuids(get({ limit = 2, offset = 1 })))
      assert.are.same({ "u2", "a2" }, uuids(get({ offset = 2 })))
      assert.are.same({ "u1" }, uuids(get({ limit = 1 })))
      assert.are.same({}, uuids(get({ offset = 9 })))
    end)

    it("is empty for an unknown session, another project or a bad id", function()
      assert.are.same({}, sessions.get_session_messages(A, { directory = "/proj/beta", config_dir = config }))
      assert.are.same({}, sessions.get_session_messages("nope", { config_dir = config }))
      assert.are.same({}, sessions.get_session_messages(X, { config_dir = config })) -- empty file
    end)
  end)
end)

describe("project directory names", function()
  -- sanitized like the Python SDK (computed with its algorithm in python3)
  local long = "/srv/" .. ("very-long-segment-name/"):rep(12) .. "end"
  local expected = "-srv" .. ("-very-long-segment-name"):rep(8) .. "-very-long-s-83bewk"

  it("replace non-alphanumerics and add the JavaScript-style hash past 200 characters", function()
    assert.are.equal("-work-main", sessions.sanitize_path("/work/main"))
    assert.are.equal("-tmp-a-b-c-d-", sessions.sanitize_path("/tmp/a b.c_d/"))
    assert.are.equal(284, #long)
    assert.are.equal(expected, sessions.sanitize_path(long))
    assert.are.equal(200 + 7, #expected)
    assert.are.equal("3c", sessions.simple_hash("x"))
    assert.are.equal("wptreo", sessions.simple_hash(("z"):rep(1000)))
    assert.are.equal("0", sessions.simple_hash(""))
    -- non-ASCII counts in UTF-16 units, as the CLI sees it: one "-" per unit
    assert.are.equal("-tmp--n--c-d-", sessions.sanitize_path("/tmp/ünï cødé"))
    assert.are.equal("a--b", sessions.sanitize_path("a\240\159\152\128b")) -- an emoji is two units
  end)

  it("find a long path's sessions by exact name, or by its first 200 characters whatever the hash", function()
    for _, suffix in ipairs({ "83bewk", "bunhash1" }) do
      local config = tmpdir()
      local dir = config .. "/projects/" .. expected:sub(1, 201) .. suffix
      assert(os.execute("mkdir -p '" .. dir .. "'"))
      write(dir .. "/" .. A .. ".jsonl", { (user(A, "u1", nil, "deep"):gsub('"cwd":"/proj/alpha",', "")) })
      local l = sessions.list_sessions({ directory = long, config_dir = config })
      assert.are.same({ A }, ids(l))
      assert.are.equal(long, l[1].cwd) -- no cwd in the file: the directory asked for
      assert.are.equal(1, #sessions.get_session_messages(A, { directory = long, config_dir = config }))
      os.execute("rm -rf '" .. config .. "'")
    end
  end)

  it("parse ISO timestamps to epoch milliseconds", function()
    assert.are.equal(1795267637070, sessions.parse_timestamp("2026-11-21T13:27:17.070Z"))
    assert.are.equal(1709243999999, sessions.parse_timestamp("2024-02-29T23:59:59.999+02:00"))
    assert.are.equal(0, sessions.parse_timestamp("1970-01-01T00:00:00Z"))
    assert.is_nil(sessions.parse_timestamp("yesterday"))
  end)
end)

describe("sessions of git worktrees", function()
  local has_git = os.execute("git --version >/dev/null 2>&1")
  if not (has_git == true or has_git == 0) then
    pending("skipped: git is not installed")
    return
  end

  it("lists the sessions of every worktree of the repository unless include_worktrees = false", function()
    local base = tmpdir()
    local repo, wt, config = base .. "/repo", base .. "/wt", base .. "/config"
    assert(
      os.execute(
        "git init -q '"
          .. repo
          .. "' && git -C '"
          .. repo
          .. "' -c user.name=t -c user.email=t@t"
          .. " commit -q --allow-empty -m init && git -C '"
          .. repo
          .. "' worktree add -q '"
          .. wt
          .. "' 2>/dev/null"
      )
    )
    for _, p in ipairs({ { repo, A, 1700000100 }, { wt, B, 1700000200 } }) do
      local dir = config .. "/projects/" .. sessions.sanitize_path(p[1])
      assert(os.execute("mkdir -p '" .. dir .. "'"))
      write(
        dir .. "/" .. p[2] .. ".jsonl",
        { (user(p[2], "u1", nil, "hi from " .. p[1]):gsub(',"cwd":"[^"]*"', "")) },
        p[3]
      )
    end
    local l = sessions.list_sessions({ directory = repo, config_dir = config })
    assert.are.same({ B, A }, ids(l))
    assert.are.equal(wt, l[1].cwd)
    assert.are.same(
      { A },
      ids(sessions.list_sessions({ directory = repo, config_dir = config, include_worktrees = false }))
    )
    -- one session is looked up in the other worktrees too
    assert.are.equal(B, sessions.get_session_info(B, { directory = repo, config_dir = config }).session_id)
    assert.are.equal(1, #sessions.get_session_messages(B, { directory = repo, config_dir = config }))
    os.execute("rm -rf '" .. base .. "'")
  end)
end)

-- sessions.lua runs no shell (issue 16): directories are resolved with
-- core.realpath and git runs through the core's process layer (core.run),
-- whose wait yields inside a task.
describe("sessions without a shell", function()
  local core = require("claude_agent_sdk.core")
  local loop = require("claude_agent_sdk.loop")
  local has_git = os.execute("git --version >/dev/null 2>&1")
  if not (has_git == true or has_git == 0) then
    pending("skipped: git is not installed")
    return
  end

  -- A repository with one worktree, a session in each, and a symlink to the
  -- repository; removed by the caller (rm -rf base).
  local function fixture()
    local base = tmpdir()
    local f = {
      base = base,
      repo = base .. "/repo",
      wt = base .. "/wt",
      link = base .. "/link",
      config = base .. "/config",
    }
    assert(
      os.execute(
        "git init -q '"
          .. f.repo
          .. "' && git -C '"
          .. f.repo
          .. "' -c user.name=t -c user.email=t@t"
          .. " commit -q --allow-empty -m init && git -C '"
          .. f.repo
          .. "' worktree add -q '"
          .. f.wt
          .. "' 2>/dev/null"
          .. " && ln -s repo '"
          .. f.link
          .. "'"
      )
    )
    -- git prints physical paths: tmpdir may sit below a symlink
    f.repo, f.wt = core.realpath(f.repo), core.realpath(f.wt)
    for _, p in ipairs({ { f.repo, A, 1700000100 }, { f.wt, B, 1700000200 } }) do
      local dir = f.config .. "/projects/" .. sessions.sanitize_path(p[1])
      assert(os.execute("mkdir -p '" .. dir .. "'"))
      write(
        dir .. "/" .. p[2] .. ".jsonl",
        { (user(p[2], "u1", nil, "hi from " .. p[1]):gsub(',"cwd":"[^"]*"', "")) },
        p[3]
      )
    end
    return f
  end

  -- Run fn with io.popen and os.execute raising, and core.run counting its
  -- calls (argv and cwd kept); returns the calls.
  local function without_shell(fn)
    local popen, execute, run = io.popen, os.execute, core.run
    local calls = {}
    io.popen = function(cmd)
      error("io.popen called: " .. tostring(cmd))
    end
    os.execute = function(cmd)
      error("os.execute called: " .. tostring(cmd))
    end
    core.run = function(argv, cwd, ...)
      calls[#calls + 1] = { argv = argv, cwd = cwd }
      return run(argv, cwd, ...)
    end
    local ok, err = pcall(fn)
    io.popen, os.execute, core.run = popen, execute, run
    if not ok then
      error(err, 0)
    end
    return calls
  end

  it("never calls io.popen or os.execute, and lists worktrees through core.run with git's argv", function()
    local src = h.read_file(h.ROOT .. "/lua/claude_agent_sdk/sessions.lua")
    assert.is_nil(src:find("io.popen", 1, true))
    assert.is_nil(src:find("os.execute", 1, true))
    local f = fixture()
    local o = { directory = f.repo, config_dir = f.config }
    local calls = without_shell(function()
      assert.are.same({ B, A }, ids(sessions.list_sessions(o)))
      -- through the symlink: the lexical path has no project, realpath finds it
      assert.are.same({ B, A }, ids(sessions.list_sessions({ directory = f.link, config_dir = f.config })))
      assert.are.same(
        { A },
        ids(sessions.list_sessions({ directory = f.link, config_dir = f.config, include_worktrees = false }))
      )
      assert.are.equal(B, sessions.get_session_info(B, o).session_id)
      assert.are.equal(1, #sessions.get_session_messages(B, o))
      assert.are.same({}, sessions.list_subagents(B, o))
      sessions.rename_session(B, "renamed", o)
      sessions.tag_session(B, "t1", o)
      assert.are.equal("renamed", sessions.get_session_info(B, o).custom_title)
      local forked = sessions.fork_session(B, o)
      assert.is_true(sessions.is_uuid(forked.session_id))
      sessions.delete_session(forked.session_id, o)
    end)
    assert.is_true(#calls >= 8)
    for _, c in ipairs(calls) do
      assert.are.same({ "git", "worktree", "list", "--porcelain" }, c.argv)
    end
    assert.are.equal(f.repo, calls[1].cwd)
    os.execute("rm -rf '" .. f.base .. "'")
  end)

  it("treats git missing, failing, slow or not in a repository as no worktrees, never as an error", function()
    local f = fixture()
    local o = { directory = f.repo, config_dir = f.config }
    local run = core.run
    local function with_argv(argv, fn)
      core.run = function(_, cwd, ...)
        return run(argv, cwd, ...)
      end
      local ok, err = pcall(fn)
      core.run = run
      if not ok then
        error(err, 0)
      end
    end
    with_argv({ "cas-no-such-git-program" }, function()
      assert.are.same({ A }, ids(sessions.list_sessions(o)))
      assert.is_nil(sessions.get_session_info(B, o))
    end)
    with_argv({ "git", "no-such-subcommand" }, function()
      assert.are.same({ A }, ids(sessions.list_sessions(o)))
    end)
    with_argv({ "sh", "-c", "echo 'worktree /x'; exit 1" }, function()
      assert.are.same({ A }, ids(sessions.list_sessions(o)))
    end)
    -- over the timeout: killed, and the call returns at once
    local timeout = sessions.GIT_TIMEOUT_MS
    sessions.GIT_TIMEOUT_MS = 200
    with_argv({ "sleep", "30" }, function()
      local t0 = core.now()
      assert.are.same({ A }, ids(sessions.list_sessions(o)))
      assert.is_true(core.now() - t0 < 3000)
      claude.run(function()
        t0 = core.now()
        assert.are.same({ A }, ids(sessions.list_sessions(o)))
        assert.is_true(core.now() - t0 < 3000)
      end)
    end)
    sessions.GIT_TIMEOUT_MS = timeout
    -- a directory outside any repository
    local plain = tmpdir()
    local dir = f.config .. "/projects/" .. sessions.sanitize_path(core.realpath(plain))
    assert(os.execute("mkdir -p '" .. dir .. "'"))
    write(dir .. "/" .. C .. ".jsonl", { (user(C, "u1", nil, "plain"):gsub(',"cwd":"[^"]*"', "")) }, 1700000300)
    assert.are.same({ C }, ids(sessions.list_sessions({ directory = plain, config_dir = f.config })))
    os.execute("rm -rf '" .. f.base .. "' '" .. plain .. "'")
  end)

  it("core.realpath returns the physical path, or nil, luv's message and code", function()
    local f = fixture()
    assert.are.equal(f.repo, core.realpath(f.link))
    assert.are.equal(f.repo, core.realpath(f.link .. "/../link/./"))
    assert.are.equal("/", core.realpath("/"))
    local res = { core.realpath(f.base .. "/missing") }
    assert.are.same({ nil, "ENOENT: no such file or directory: " .. f.base .. "/missing", "ENOENT" }, res)
    assert.are.equal(3, select("#", core.realpath(f.base .. "/missing")))
    write(f.base .. "/file", { "x" }, 1700000000)
    res = { core.realpath(f.base .. "/file/x") }
    assert.are.same({ nil, "ENOTDIR: not a directory: " .. f.base .. "/file/x", "ENOTDIR" }, res)
    assert.has_error(function()
      core.realpath()
    end)
    assert.has_error(function()
      core.realpath({})
    end)
    os.execute("rm -rf '" .. f.base .. "'")
  end)

  it("core.run runs argv without a shell: stdout, exit code, spawn failures as nil, msg, code", function()
    local hd = assert(core.run({ "printf", "%s|", "a b", "$HOME", "*" }))
    local res = { hd:step(-1) }
    assert.are.same({ true, "a b|$HOME|*|", 0, 0 }, res)
    hd:close()
    hd:close()
    assert.has_error(function()
      hd:step(0)
    end, "run is closed")
    hd = assert(core.run({ "sh", "-c", "cat; pwd; echo err >&2; exit 4" }, "/"))
    assert.are.same({ true, "/\n", 4, 0 }, { hd:step(-1) })
    hd = assert(core.run({ "sh", "-c", "kill -TERM $$" }))
    assert.are.same({ true, "", -1, 15 }, { hd:step(-1) })
    assert.are.same({ nil, "executable not found", "ENOTFOUND" }, { core.run({ "cas-no-such-program" }) })
    assert.are.same({ nil, "working directory does not exist", "ENOCWD" }, { core.run({ "true" }, "/nonexistent-x") })
    hd = assert(core.run({ "sh", "-c", "while :; do echo xxxxxxxx; done" }, nil, 1000))
    assert.are.same({ nil, "the output exceeds max_out", "ELINE" }, { hd:step(-1) })
    hd:close()
    -- still running: false and the fds to watch; close kills it at once
    hd = assert(core.run({ "sleep", "30" }))
    res = { hd:step(0) }
    assert.are.equal(false, res[1])
    assert.is_true(#res >= 2 and #res <= 4 and type(res[2]) == "number")
    local t0 = core.now()
    hd:close()
    assert.is_true(core.now() - t0 < 1000)
    assert.has_error(function()
      core.run({})
    end)
    assert.has_error(function()
      core.run({ 1 })
    end)
  end)

  -- git made slow (a wrapper sleeps 0.3 s first): a ticker task must keep
  -- running while list_sessions waits for it, in the luv and the host loop.
  for _, mode in ipairs({ "luv", "host" }) do
    it("lets other tasks run while git runs inside a task (" .. mode .. " loop)", function()
      local f = fixture()
      local o = { directory = f.repo, config_dir = f.config }
      local run, prev = core.run, loop.current()
      local uv = mode == "luv" and require("luv") or nil
      local handles = 0
      if uv then
        uv.walk(function()
          handles = handles + 1
        end)
      end
      core.run = function(argv, cwd, ...)
        local wrapped = { "sh", "-c", 'sleep 0.3; exec "$@"', "sh" }
        for _, a in ipairs(argv) do
          wrapped[#wrapped + 1] = a
        end
        return run(wrapped, cwd, ...)
      end
      loop.use(mode)
      local ok, err = pcall(claude.run, function()
        local ticks, listing = 0, true
        local ticker = claude.spawn(function()
          while listing do
            ticks = ticks + 1
            claude.sleep(10)
          end
        end)
        local t0 = core.now()
        local l = sessions.list_sessions(o)
        listing = false
        ticker:wait()
        assert.are.same({ B, A }, ids(l))
        assert.is_true(core.now() - t0 >= 280)
        -- blocking would have let the ticker run once at most
        assert.is_true(ticks >= 5, "the ticker ran " .. ticks .. " times while git ran")
      end)
      core.run = run
      loop.use(prev)
      if uv then
        uv.run("nowait")
        local after = 0
        uv.walk(function(hd)
          if not hd:is_closing() then
            after = after + 1
          end
        end)
        assert.is_true(after <= handles, "luv handles left open: " .. after .. " > " .. handles)
      end
      os.execute("rm -rf '" .. f.base .. "'")
      if not ok then
        error(err, 0)
      end
    end)
  end
end)

describe("sessions written by the real CLI", function()
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

  local function collect(iter)
    local list = {}
    for m in iter do
      list[#list + 1] = m
    end
    return list
  end

  local function text_of(message)
    local c = message.content
    if type(c) == "string" then
      return c
    end
    local out = {}
    for _, b in ipairs(c) do
      if b.type == "text" then
        out[#out + 1] = b.text
      end
    end
    return table.concat(out)
  end

  it("lists the session of a two-turn conversation and reads back both turns in order", function()
    local cwd = tmpdir()
    local opts = h.options(srv, { cwd = cwd })
    local config = opts.env.HOME .. "/.claude"
    local c = claude.ClaudeSDKClient.new(opts)
    c:connect()
    c:query("My favourite colour is teal.")
    local first = collect(c:receive_response())
    c:query("What is my favourite colour?")
    local second = collect(c:receive_response())
    c:disconnect()
    local sid = second[#second].session_id
    assert.are.equal("result", second[#second].type)
    assert.are.equal(first[#first].session_id, sid)

    local list = sessions.list_sessions({ directory = cwd, config_dir = config })
    assert.are.same({ sid }, ids(list))
    local info = list[1]
    assert.are.equal("My favourite colour is teal.", info.first_prompt)
    assert.are.equal("What is my favourite colour?", info.summary) -- the last prompt
    assert.are.equal(cwd, info.cwd)
    assert.is_number(info.created_at)
    assert.is_true(info.file_size > 0)
    assert.are.equal(sid, sessions.get_session_info(sid, { directory = cwd, config_dir = config }).session_id)

    local msgs = sessions.get_session_messages(sid, { directory = cwd, config_dir = config })
    local got = {}
    for i, m in ipairs(msgs) do
      assert.are.equal(sid, m.session_id)
      got[i] = m.type .. ": " .. text_of(m.message)
    end
    assert.are.same({
      "user: My favourite colour is teal.",
      "assistant: Noted, I will remember that.",
      "user: What is my favourite colour?",
      "assistant: Your favourite colour is teal.",
    }, got)
    assert.are.same(
      { got[3], got[4] },
      (function()
        local out = {}
        for i, m in ipairs(sessions.get_session_messages(sid, { config_dir = config, offset = 2, limit = 5 })) do
          out[i] = m.type .. ": " .. text_of(m.message)
        end
        return out
      end)()
    )
    os.execute("rm -rf '" .. cwd .. "'")
  end)

  it("finds the session of a working directory longer than 200 characters", function()
    local base = tmpdir()
    local cwd = base .. "/" .. ("deeply-nested-directory-name/"):rep(8) .. "end"
    assert(os.execute("mkdir -p '" .. cwd .. "'"))
    local opts = h.options(srv, { cwd = cwd })
    local config = opts.env.HOME .. "/.claude"
    local c = claude.ClaudeSDKClient.new(opts)
    c:connect()
    c:query("What is 2+2?")
    local msgs = collect(c:receive_response())
    c:disconnect()
    local sid = msgs[#msgs].session_id
    local list = sessions.list_sessions({ directory = cwd, config_dir = config })
    assert.are.same({ sid }, ids(list))
    local got = sessions.get_session_messages(sid, { directory = cwd, config_dir = config })
    assert.are.equal(2, #got)
    assert.are.equal("2 + 2 = 4.", text_of(got[2].message))
    os.execute("rm -rf '" .. base .. "'")
  end)
end)
