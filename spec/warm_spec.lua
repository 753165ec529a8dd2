-- Warm start (issue 18): claude.startup(), claude.prewarm() + spare:claim()
-- and claude.pool() on the real CLI with the offline model server.
--
-- Which CLI: $CLAUDE_CLI_PATH, as for every real-CLI spec.  Spares need
-- --await-claim, which Claude Code has from 2.1.281 on: on the newest tested
-- CLI (2.1.332, the `newest` suite) every test below runs; on the oldest
-- supported one (2.1.197, the lua5.4 and luajit suites) prewarm and pool
-- must refuse with a typed error before starting anything, and startup()
-- works as on any CLI.
local claude = require("claude_agent_sdk")
local cli = require("claude_agent_sdk.cli")
local core = require("claude_agent_sdk.core")
local h = require("support.helpers")

local errors = claude.errors

local CLI = h.cli_path()
local VERSION = CLI and h.cli_version()
local HAS_CLAIM = VERSION ~= nil and not cli.older(VERSION, cli.FEATURES.await_claim.version)

local srv
setup(function()
  if CLI then
    srv = h.start_server(h.ROOT .. "/spec/support/scripts/e2e.lua")
  end
end)
teardown(function()
  h.stop_server(srv)
end)

-- The init frame and the result of one turn.
local function turn(client, prompt)
  client:query(prompt)
  local init, result
  for m in client:receive_response() do
    if m.type == "system" and m.subtype == "init" then
      init = m.data
    elseif m.type == "result" then
      result = m
    end
  end
  return init, result
end

local function real(path)
  return core.realpath(path) or path
end

-- A folder whose project settings choose a model: a claim cannot take it
-- (the CLI applies such settings during start-up), a cold start can.
local function refusing_folder()
  local d = h.tmpdir()
  assert(os.execute("mkdir -p " .. h.sh_quote(d .. "/.claude")))
  local f = assert(io.open(d .. "/.claude/settings.json", "w"))
  f:write('{ "model": "claude-from-project-settings" }\n')
  f:close()
  return d
end

describe("claude.startup", function()
  if not CLI then
    pending("skipped: the real claude CLI was not found (CLAUDE_CLI_PATH, .deps/): run `make setup`")
    return
  end

  it(("CLI %s: returns a connected client; its first query needs no start-up"):format(VERSION), function()
    local client = claude.startup(h.options(srv))
    assert.is_truthy(client:pid(), "no CLI running")
    assert.is_table(client:get_server_info())
    local _, result = turn(client, "warm hello")
    assert.are.equal("You said: warm hello", result.result)
    client:disconnect()
    assert.is_nil(client:pid())
  end)

  it("checks its options like ClaudeSDKClient.new, before starting anything", function()
    local before = #h.children()
    local ok, err = pcall(claude.startup, { no_such_option = 1 })
    assert.is_false(ok)
    assert.is_true(errors.is(err, "InvalidOptionError"), tostring(err))
    assert.are.equal(before, #h.children())
  end)
end)

describe("spares on a CLI without --await-claim", function()
  if not CLI then
    pending("skipped: the real claude CLI was not found (CLAUDE_CLI_PATH, .deps/): run `make setup`")
    return
  end
  if HAS_CLAIM then
    pending(("skipped here: CLI %s has --await-claim (the oldest CLI of the matrix runs this)"):format(VERSION))
    return
  end

  it(("CLI %s: prewarm and pool are a CLIConnectionError naming 2.1.281, nothing started"):format(VERSION), function()
    local before = #h.children()
    for _, make in ipairs({
      function()
        return claude.prewarm(h.options(srv))
      end,
      function()
        return claude.pool({ size = 2, options = h.options(srv) })
      end,
    }) do
      local ok, err = pcall(make)
      assert.is_false(ok)
      assert.is_true(errors.is(err, "CLIConnectionError"), tostring(err))
      assert.are.equal("await_claim", err.feature)
      assert.are.equal(cli.FEATURES.await_claim.version, err.min_version)
      assert.truthy(err.message:find("2.1.281", 1, true), err.message)
      assert.are.equal(before, #h.children(), "a process was started")
    end
  end)
end)

describe("spares", function()
  if not CLI then
    pending("skipped: the real claude CLI was not found (CLAUDE_CLI_PATH, .deps/): run `make setup`")
    return
  end
  if not HAS_CLAIM then
    pending(("skipped: CLI %s has no --await-claim (2.1.281 on; the newest suite runs these)"):format(VERSION))
    return
  end

  it("a claimed spare answers in the claimed folder, with the claimed model and permission mode", function()
    local spare = claude.prewarm(h.options(srv))
    local parking = spare._dir
    assert.is_true(h.exists(parking), "no parking folder")
    assert.is_true(spare:alive())
    local folder = h.tmpdir()
    local client, info = spare:claim({ cwd = folder, model = "claude-claimed-model", permission_mode = "acceptEdits" })
    assert.is_string(info.session_id)
    assert.are.same({}, info.not_applied)
    assert.are.equal("acceptEdits", client:get_server_info().current_permission_mode)
    local n0 = #h.requests(srv)
    local init, result = turn(client, "in the claimed folder")
    assert.are.equal("You said: in the claimed folder", result.result)
    assert.are.equal(real(folder), real(init.cwd))
    assert.are.equal("claude-claimed-model", init.model)
    assert.are.equal("acceptEdits", init.permissionMode)
    assert.are.equal(info.session_id, result.session_id)
    local reqs, models = h.requests(srv), {}
    for i = n0 + 1, #reqs do
      models[#models + 1] = reqs[i].body and reqs[i].body.model
    end
    assert.truthy(table.concat(models, " "):find("claude-claimed-model", 1, true), table.concat(models, " "))
    -- a spare serves one session
    local ok, err = pcall(spare.claim, spare, { cwd = folder })
    assert.is_false(ok)
    assert.is_true(errors.is(err, "ClaimError"), tostring(err))
    assert.are.equal("already_claimed", err.reason)
    local pid = client:pid()
    client:disconnect()
    assert.is_true(h.wait_gone(pid, 5000))
    assert.is_false(h.exists(parking), "the parking folder outlived the CLI")
  end)

  it("a refused claim is a ClaimError with the CLI's reason, and the spare is gone", function()
    local spare = claude.prewarm(h.options(srv))
    local pid = spare:pid()
    local ok, err = pcall(spare.claim, spare, { cwd = h.tmpdir() .. "/no/such/folder" })
    assert.is_false(ok)
    assert.is_true(errors.is(err, "ClaimError"), tostring(err))
    assert.is_true(errors.is(err, "CLIConnectionError"))
    assert.are.equal("cwd_not_found", err.reason)
    assert.is_true(h.wait_gone(pid, 5000), "the refused spare lives on")
    ok, err = pcall(spare.claim, spare, { cwd = h.tmpdir() })
    assert.is_false(ok)
    assert.are.equal("spare_closed", err.reason)
  end)

  it("bad claims are InvalidOptionErrors and leave the spare parked", function()
    local spare = claude.prewarm(h.options(srv))
    local cases = {
      { "no cwd", {} },
      { "unknown key", { cwd = "/tmp", colour = "red" } },
      { "unknown mode", { cwd = "/tmp", permission_mode = "yolo" } },
      { "env read at start-up", { cwd = "/tmp", env = { HOME = "/root" } } },
      { "hook settings", { cwd = "/tmp", settings = { disableAllHooks = true } } },
      { "not a table", "/tmp" },
    }
    for _, case in ipairs(cases) do
      local ok, err = pcall(spare.claim, spare, case[2])
      assert.is_false(ok, case[1])
      assert.is_true(errors.is(err, "InvalidOptionError"), case[1] .. ": " .. tostring(err))
      assert.is_true(spare:alive(), case[1] .. ": the spare went")
    end
    spare:close()
    spare:close() -- idempotent
    assert.is_false(spare:alive())
    for _, bad in ipairs({ { resume = "x" }, { continue_conversation = true }, { fork_session = true } }) do
      local ok, err = pcall(claude.prewarm, h.options(srv, bad))
      assert.is_false(ok)
      assert.is_true(errors.is(err, "InvalidOptionError"), tostring(err))
    end
  end)
end)

describe("claude.pool", function()
  if not CLI then
    pending("skipped: the real claude CLI was not found (CLAUDE_CLI_PATH, .deps/): run `make setup`")
    return
  end
  if not HAS_CLAIM then
    pending(("skipped: CLI %s has no --await-claim (2.1.281 on; the newest suite runs these)"):format(VERSION))
    return
  end

  it("rejects sizes that are not a positive count, and a closed pool, with typed errors", function()
    for _, size in ipairs({ 0, -1, 1.5, "2", 1000 }) do
      local ok, err = pcall(claude.pool, { size = size, options = {} })
      assert.is_false(ok)
      assert.is_true(errors.is(err, "InvalidOptionError"), tostring(size) .. ": " .. tostring(err))
    end
    local ok, err = pcall(claude.pool, { size = 1, options = { bogus = true } })
    assert.is_false(ok)
    assert.is_true(errors.is(err, "InvalidOptionError"), tostring(err))
    local pool = claude.pool({ size = 1, options = h.options(srv) })
    local pids = pool:pids()
    pool:close()
    for _, pid in ipairs(pids) do
      assert.is_true(h.wait_gone(pid, 5000))
    end
    ok, err = pcall(pool.client, pool, { cwd = h.tmpdir() })
    assert.is_false(ok)
    assert.is_true(errors.is(err, "ClaimError"), tostring(err))
    assert.are.equal("pool_closed", err.reason)
  end)

  it("inside a task: serves from a spare, replaces it, and falls back cold when the claim is refused", function()
    claude.run(function()
      local pool = claude.pool({ size = 1, options = h.options(srv) })
      local client, info = pool:client({ cwd = h.tmpdir(), model = "claude-pooled" })
      assert.is_true(info.warm)
      local init, result = turn(client, "pooled")
      assert.are.equal("You said: pooled", result.result)
      assert.are.equal("claude-pooled", init.model)
      client:disconnect()
      assert.are.equal(1, pool:ready(), "the claimed spare was not replaced")

      local folder = refusing_folder()
      local cold, cinfo = pool:client({ cwd = folder })
      assert.is_false(cinfo.warm)
      assert.is_true(errors.is(cinfo.refused, "ClaimError"), tostring(cinfo.refused))
      assert.are.equal("project_settings_not_claimable", cinfo.refused.reason)
      init, result = turn(cold, "cold after a refusal")
      assert.are.equal("You said: cold after a refusal", result.result)
      assert.are.equal(real(folder), real(init.cwd))
      assert.are.equal("claude-from-project-settings", init.model)
      cold:disconnect()
      assert.are.equal(1, pool:ready())
      local pids = pool:pids()
      pool:close()
      for _, pid in ipairs(pids) do
        assert.is_true(h.wait_gone(pid, 5000))
      end
    end)
  end)

  -- The same in the other two modes a host drives the SDK in, each in its own
  -- process (the loop backend is chosen once per process).
  local function run_mode(mode)
    local dir = h.tmpdir()
    local f = assert(io.open(dir .. "/opts.lua", "w"))
    f:write("return ", h.lua_literal(h.options(srv)), "\n")
    f:close()
    local lpath, cpath = os.getenv("LUA_PATH") or "", os.getenv("LUA_CPATH") or ""
    local cmd
    if mode == "nvim" then
      lpath = h.ROOT .. "/lua/?.lua;" .. h.ROOT .. "/lua/?/init.lua;;"
      cpath = h.ROOT .. "/build/luajit/?.so;;"
      cmd = ("%s --headless -u NONE -i NONE -c %s"):format(
        h.sh_quote(h.nvim_path()),
        h.sh_quote("luafile " .. h.ROOT .. "/spec/support/warm_modes.lua")
      )
    else
      cmd = ("%s %s"):format(h.sh_quote(h.lua_interpreter()), h.sh_quote(h.ROOT .. "/spec/support/warm_modes.lua"))
    end
    local env = ("env LUA_PATH=%s LUA_CPATH=%s WARM_MODE=%s WARM_OPTS=%s WARM_CWD=%s WARM_RESULT=%s"):format(
      h.sh_quote(lpath),
      h.sh_quote(cpath),
      mode,
      h.sh_quote(dir .. "/opts.lua"),
      h.sh_quote(dir),
      h.sh_quote(dir .. "/result.json")
    )
    local p = assert(io.popen(env .. " timeout -k 5 120 " .. cmd .. " </dev/null 2>&1"))
    local out = p:read("*a")
    p:close()
    local text = h.read_file(dir .. "/result.json")
    assert.is_string(text, "no result written; output:\n" .. out)
    return require("claude_agent_sdk.json").decode(text), out
  end

  for _, mode in ipairs({ "host", "nvim" }) do
    local title = ("in the %s mode: startup() and a pool's spare serve conversations in a task"):format(mode)
    local why_not = mode == "nvim" and h.nvim_missing()
    if why_not then
      pending("skipped: " .. title .. ": " .. why_not)
    else
      it(title, function()
        local R, out = run_mode(mode)
        assert.is_nil(R.error, R.error)
        assert.is_true(R.finished, out)
        assert.are.equal("You said: started ahead", R.startup)
        assert.is_true(R.warm)
        assert.are.equal("You said: from the pool", R.pooled)
        assert.are.equal(1, R.ready, "the claimed spare was not replaced")
        assert.is_true(R.ticks > 0, "the host's loop did not run")
        for _, pid in ipairs(R.spare_pids or {}) do
          assert.is_true(h.wait_gone(pid, 5000), "spare " .. pid .. " outlived pool:close()")
        end
      end)
    end
  end

  it("a host killed by SIGKILL leaves no spare behind", function()
    local dir = h.tmpdir()
    local script = dir .. "/host.lua"
    local f = assert(io.open(script, "w"))
    f:write(([[
      local claude = require("claude_agent_sdk")
      local core = require("claude_agent_sdk.core")
      local opts = %s
      local pool = claude.pool({ size = 2, options = opts })
      local out = io.open(%q, "w")
      out:write(table.concat(pool:pids(), " "), "\n")
      out:close()
      while true do core.sleep(1000) end
    ]]):format(h.lua_literal(h.options(srv)), dir .. "/pids"))
    f:close()
    local host =
      io.popen(("%s %s >/dev/null 2>&1 & echo $!"):format(h.sh_quote(h.lua_interpreter()), h.sh_quote(script)), "r")
    local host_pid = tonumber(host:read("*l"))
    host:close()
    assert.is_true(h.wait_for(function()
      return h.exists(dir .. "/pids")
    end, 30000))
    local pids = {}
    for pid in h.read_file(dir .. "/pids"):gmatch("%d+") do
      pids[#pids + 1] = tonumber(pid)
    end
    assert.are.equal(2, #pids)
    for _, pid in ipairs(pids) do
      assert.is_true(h.alive(pid), "spare " .. pid .. " not running")
    end
    os.execute("kill -9 " .. host_pid)
    for _, pid in ipairs(pids) do
      assert.is_true(h.wait_gone(pid, 10000), "spare " .. pid .. " outlived its host")
    end
  end)

  it("100 claim/replace cycles leave no fd, process or memory behind", function()
    local pool = claude.pool({ size = 1, options = h.options(srv) })
    local folder = h.tmpdir()
    local function cycle()
      local client, info = pool:client({ cwd = folder })
      assert.is_true(info.warm)
      client:disconnect()
    end
    for _ = 1, 5 do
      cycle()
    end
    collectgarbage("collect")
    collectgarbage("collect")
    local fds0, children0 = #h.fds(), #h.children()
    local heap0, rss0 = collectgarbage("count"), h.status_kb("VmRSS")
    local n = h.under_valgrind() and 10 or 100
    for _ = 1, n do
      cycle()
    end
    collectgarbage("collect")
    collectgarbage("collect")
    assert.are.equal(fds0, #h.fds(), "fds")
    assert.are.equal(children0, #h.children(), "processes")
    local heap, rss = collectgarbage("count"), h.status_kb("VmRSS")
    assert.is_true(heap - heap0 < 256, ("the Lua heap grew by %.0f KB"):format(heap - heap0))
    assert.is_true(rss - rss0 < 4096, ("RSS grew by %d KB"):format(rss - rss0))
    io.stdout:write(("# %d claim/replace cycles: heap %+.0f KB, RSS %+d KB\n"):format(n, heap - heap0, rss - rss0))
    pool:close()
  end)
end)
