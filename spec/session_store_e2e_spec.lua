-- Session stores with the real CLI (both CLIs of the matrix have
-- --session-mirror: 2.1.197 and 2.1.332) and the offline model server:
--   * a conversation mirrored into a FileSessionStore: what the store holds
--     is, entry for entry and in order, what the CLI wrote to its own
--     transcript (the CLI keeps a few bookkeeping lines to itself:
--     api-request*, cost-state, and the last-prompt it writes as it exits),
--     and every user and assistant entry is there; no transcript_mirror
--     frame reaches the user;
--   * a session resumed from Redis by a client on a second HOME (another
--     "host") sees the whole history: the model is sent the first turn;
--   * Redis killed in the middle of a turn: the turn completes, a
--     MirrorErrorMessage says so, and once Redis is back the next flush
--     catches the store up with every entry.
local claude = require("claude_agent_sdk")
local json = require("claude_agent_sdk.json")
local h = require("support.helpers")
local redis = require("support.redis")

local why = h.cli_path() == nil and "no CLI (run make setup)" or nil

describe("session stores with the real CLI", function()
  if why then
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

  -- The CLI's own transcript of a session, decoded.
  local function local_entries(opts, cwd, sid)
    local path = ("%s/.claude/projects/%s/%s.jsonl"):format(opts.env.HOME, claude.project_key_for_directory(cwd), sid)
    local out = {}
    for line in assert(io.open(path)):lines() do
      out[#out + 1] = json.decode(line)
    end
    return out
  end

  -- The store holds the local transcript's entries, in order, with only the
  -- CLI's unmirrored bookkeeping lines missing, and every conversation entry.
  local function assert_mirrored(stored, locals)
    local j, missing = 1, {}
    for _, e in ipairs(locals) do
      if stored[j] ~= nil and same(e, stored[j]) then
        j = j + 1
      else
        missing[#missing + 1] = e
      end
    end
    assert.are.equal(#stored + 1, j, "the store holds entries the local transcript does not have, or out of order")
    for _, e in ipairs(missing) do
      assert.is_true(
        e.type ~= "user" and e.type ~= "assistant",
        "a conversation entry was not mirrored: " .. json.encode(e):sub(1, 200)
      )
    end
    return #missing
  end

  local function run_turns(c, prompts)
    local seen, sid = {}, nil
    for _, p in ipairs(prompts) do
      c:query(p)
      for m in c:receive_response() do
        seen[#seen + 1] = m
        sid = m.session_id or sid
      end
    end
    return seen, sid
  end

  local function mirror_frames(msgs)
    local n = 0
    for _, m in ipairs(msgs) do
      if m.type == "transcript_mirror" then
        n = n + 1
      end
    end
    return n
  end

  it("mirrors a conversation into a file store, entry for entry (blocking mode)", function()
    local cwd, dir = h.tmpdir(), h.tmpdir()
    local store = claude.FileSessionStore({ dir = dir })
    local opts = h.options(srv, { cwd = cwd, session_store = store })
    local c = claude.ClaudeSDKClient.new(opts)
    c:connect()
    local msgs, sid = run_turns(c, { "My favourite colour is teal.", "What is my favourite colour?" })
    -- at each result the store is already up to date with that turn
    local at_result = #store:load({ project_key = claude.project_key_for_directory(cwd), session_id = sid })
    assert.is_true(at_result > 0)
    c:disconnect()
    assert.are.equal(0, mirror_frames(msgs))
    assert.is_nil(c.mirror_errors)
    local stored = store:load({ project_key = claude.project_key_for_directory(cwd), session_id = sid })
    assert.is_true(#stored >= at_result)
    assert_mirrored(stored, local_entries(opts, cwd, sid))
    os.execute("rm -rf " .. h.sh_quote(cwd) .. " " .. h.sh_quote(dir))
  end)

  it("mirrors eagerly inside a task", function()
    local cwd = h.tmpdir()
    local store = claude.InMemorySessionStore()
    local opts = h.options(srv, { cwd = cwd, session_store = store, session_store_flush = "eager" })
    local msgs, sid = claude.run(function()
      local c = claude.ClaudeSDKClient.new(opts)
      c:connect()
      local m, s = run_turns(c, { "What is 2+2?" })
      c:disconnect()
      return m, s
    end)
    assert.are.equal(0, mirror_frames(msgs))
    local stored = store:load({ project_key = claude.project_key_for_directory(cwd), session_id = sid })
    assert_mirrored(stored, local_entries(opts, cwd, sid))
    os.execute("rm -rf " .. h.sh_quote(cwd))
  end)

  it("mirrors a one-shot claude.query, up to the CLI's exit", function()
    local cwd = h.tmpdir()
    local store = claude.InMemorySessionStore()
    local opts = h.options(srv, { cwd = cwd, session_store = store })
    local sid
    for m in claude.query({ prompt = "What is 2+2?", options = opts }) do
      sid = m.session_id or sid
      assert.are_not.equal("transcript_mirror", m.type)
    end
    local stored = store:load({ project_key = claude.project_key_for_directory(cwd), session_id = sid })
    assert_mirrored(stored, local_entries(opts, cwd, sid))
    os.execute("rm -rf " .. h.sh_quote(cwd))
  end)

  describe("with Redis", function()
    if not redis.server_path() then
      pending("skipped: redis-server is not installed (make setup installs it)")
      return
    end
    local rs
    setup(function()
      rs = redis.start()
    end)
    teardown(function()
      if rs then
        rs.stop()
      end
    end)

    it("runs on Neovim's loop: a task yields to the editor while Redis answers, and mirrors a conversation", function()
      local no_nvim = h.nvim_missing()
      if no_nvim then
        pending("skipped: " .. no_nvim)
        return
      end
      local result = os.tmpname()
      local cmd = (
        "cd %s && env LUA_PATH=%s LUA_CPATH=%s CLAUDE_CLI_PATH=%s NVIM_SPEC_RESULT=%s REDIS_PORT=%d "
        .. 'timeout -k 5 60 nvim --headless -u NONE -i NONE -c %s </dev/null 2>&1; echo "[exit $?]"'
      ):format(
        h.sh_quote(h.ROOT),
        h.sh_quote(h.ROOT .. "/lua/?.lua;" .. h.ROOT .. "/lua/?/init.lua;;"),
        h.sh_quote(h.ROOT .. "/build/luajit/?.so;;"),
        h.sh_quote(assert(h.cli_path())),
        h.sh_quote(result),
        rs.port,
        h.sh_quote("luafile spec/support/nvim_store.lua")
      )
      local p = assert(io.popen(cmd))
      local out = p:read("*a")
      p:close()
      local text = h.read_file(result)
      os.remove(result)
      assert.truthy(text and text ~= "", "no result from Neovim: " .. out)
      local r = json.decode(text)
      if r.home then
        os.execute("rm -rf " .. h.sh_quote(r.home))
      end
      if r.cwd then
        os.execute("rm -rf " .. h.sh_quote(r.cwd))
      end
      assert.are.same({}, r.errors)
      assert.is_nil(r.watchdog)
      assert.are.equal("PONG", r.outside)
      assert.are.equal(13, r.conformance)
      assert.is_true(r.ticks_during_conformance > 0, "the editor's timer should tick while the store waits")
      assert.is_nil(r.leaked_frame)
      assert.is_true(r.mirrored > 0)
      assert.is_true(r.assistant_mirrored)
      assert.truthy(out:find("[exit 0]", 1, true), out)
    end)

    it("resumes a session on a second HOME with the whole history", function()
      local cwd = h.tmpdir()
      local store = claude.RedisSessionStore({ port = rs.port, prefix = "e2e" })
      -- host 1
      local c = claude.ClaudeSDKClient.new(h.options(srv, { cwd = cwd, session_store = store }))
      c:connect()
      local _, sid = run_turns(c, { "My favourite colour is teal." })
      c:disconnect()
      -- host 2: a fresh HOME that has never seen the session
      local opts2 = h.options(srv, { cwd = cwd, session_store = store, resume = sid })
      assert.is_nil(io.open(opts2.env.HOME .. "/.claude/projects/" .. claude.project_key_for_directory(cwd)))
      local before = #h.requests(srv)
      local c2 = claude.ClaudeSDKClient.new(opts2)
      c2:connect()
      local tmp = c2._materialized and c2._materialized.config_dir
      assert.is_string(tmp)
      local msgs = run_turns(c2, { "What is my favourite colour?" })
      c2:disconnect()
      assert.are.equal("Your favourite colour is teal.", h.texts(msgs))
      -- the model was sent the first turn along with the second
      local saw = false
      local reqs = h.requests(srv)
      for i = before + 1, #reqs do
        local body = reqs[i].body
        if type(body) == "table" and json.encode(body.messages or {}):find("My favourite colour is teal.", 1, true) then
          saw = true
        end
      end
      assert.is_true(saw, "the resumed request should carry the first turn")
      assert.is_nil(io.open(tmp), "the temporary config directory is removed at disconnect")
      -- the resumed turn was mirrored back under the same key
      local stored = store:load({ project_key = claude.project_key_for_directory(cwd), session_id = sid })
      assert.truthy(json.encode(stored):find("What is my favourite colour?", 1, true))
      -- host 3 continues the newest session of the project
      local c3 =
        claude.ClaudeSDKClient.new(h.options(srv, { cwd = cwd, session_store = store, continue_conversation = true }))
      c3:connect()
      local msgs3 = run_turns(c3, { "What is my favourite colour?" })
      c3:disconnect()
      assert.are.equal("Your favourite colour is teal.", h.texts(msgs3))
      store:close()
      os.execute("rm -rf " .. h.sh_quote(cwd))
    end)

    it(
      "loses nothing when Redis dies mid-turn: the turn completes, the error is typed, the mirror catches up",
      function()
        local mirror = require("claude_agent_sdk.mirror")
        local cwd = h.tmpdir()
        local store = claude.RedisSessionStore({ port = rs.port, prefix = "kill", timeout = 2 })
        local opts = h.options(srv, { cwd = cwd, session_store = store })
        local c = claude.ClaudeSDKClient.new(opts)
        c:connect()
        local _, sid = run_turns(c, { "My favourite colour is teal." })
        local key = { project_key = claude.project_key_for_directory(cwd), session_id = sid }
        local after_first = #store:load(key)
        -- the next turn's entries reach us while Redis is gone
        c:query("What is my favourite colour?")
        rs.kill()
        local msgs, errs, result = {}, {}, nil
        for m in c:receive_response() do
          msgs[#msgs + 1] = m
          if claude.isinstance(m, claude.MirrorErrorMessage) then
            errs[#errs + 1] = m
          elseif m.type == "result" then
            result = m
          end
        end
        assert.are.equal("success", result.subtype)
        assert.are.equal("Your favourite colour is teal.", h.texts(msgs))
        assert.is_true(#errs >= 1, "a MirrorErrorMessage before the result")
        assert.are.equal("mirror_error", errs[1].subtype)
        assert.are.same(key, errs[1].key)
        assert.truthy(errs[1].error:find("Redis", 1, true), errs[1].error)
        assert.is_true(errs[1].pending > 0)
        assert.is_true(c._mirror:pending() > 0, "the failed entries are kept")
        -- Redis comes back (same port, its append-only file): the next flush catches up
        rs.start()
        local more = run_turns(c, { "What is 2+2?" })
        for _, m in ipairs(more) do
          assert.is_false(claude.isinstance(m, claude.MirrorErrorMessage), "no error once Redis is back")
        end
        assert.are.equal(0, c._mirror:pending())
        c:disconnect()
        assert.is_nil(c.mirror_errors)
        local stored = store:load(key)
        assert.is_true(#stored > after_first)
        assert_mirrored(stored, local_entries(opts, cwd, sid))
        assert.is_true(mirror.MAX_ATTEMPTS >= 1)
        store:close()
        os.execute("rm -rf " .. h.sh_quote(cwd))
      end
    )
  end)
end)
