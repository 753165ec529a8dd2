-- The CLI version matrix (issue 15): the oldest supported CLI and the newest
-- tested one (Makefile: CLI_VERSION, CLI_VERSION_NEWEST).  The library reads a
-- CLI's version from its initialize answer (newer CLIs) or from its npm
-- package (no extra process), refuses one older than cli.MIN_VERSION at
-- connect(), and tells capabilities apart with client:supports().
-- The real-CLI part runs on every CLI of the matrix that is installed
-- (.deps/node_modules and .deps/newest/node_modules after `make setup`).
local claude = require("claude_agent_sdk")
local cli = require("claude_agent_sdk.cli")
local h = require("support.helpers")
local json = require("claude_agent_sdk.json")
local testing = require("claude_agent_sdk.testing")

local errors = claude.errors
local FAKE = h.ROOT .. "/spec/support/fake_cli"

describe("cli versions", function()
  it("are read and compared by their numbers, not as text", function()
    assert.are.same({ 2, 1, 332 }, cli.parse_version("2.1.332 (Claude Code)"))
    assert.is_nil(cli.parse_version("two"))
    assert.is_true(cli.older("2.1.99", "2.1.197"))
    assert.is_false(cli.older("2.1.197", "2.1.197"))
    assert.is_false(cli.older("2.10.0", "2.9.300"))
    assert.is_true(cli.older("1.99.999", "2.0.0"))
    assert.is_false(cli.older("junk", "2.0.0"))
    assert.is_false(cli.older(cli.NEWEST_TESTED, cli.MIN_VERSION))
  end)
end)

describe("a CLI older than the oldest supported one", function()
  -- An npm-style install of the fake CLI whose package.json says `version`.
  local function npm_install(version)
    local dir = h.tmpdir()
    local pkg = dir .. "/node_modules/@anthropic-ai/claude-code"
    assert(
      os.execute(
        (
          "mkdir -p %s/bin %s/node_modules/.bin && cp %s %s/bin/claude.exe && ln -s "
          .. "../@anthropic-ai/claude-code/bin/claude.exe %s/node_modules/.bin/claude"
        ):format(h.sh_quote(pkg), h.sh_quote(dir), h.sh_quote(FAKE), h.sh_quote(pkg), h.sh_quote(dir))
      )
    )
    local f = assert(io.open(pkg .. "/package.json", "w"))
    f:write(('{ "name": "@anthropic-ai/claude-code", "version": "%s" }'):format(version))
    f:close()
    return dir, dir .. "/node_modules/.bin/claude"
  end

  it("is refused at connect() before it is started when its npm package says its version", function()
    local dir, path = npm_install("2.1.100")
    local before = #h.children()
    local c = claude.ClaudeSDKClient.new({ cli_path = path })
    local ok, err = pcall(c.connect, c)
    os.execute("rm -rf " .. h.sh_quote(dir))
    assert.is_false(ok)
    assert.is_true(errors.is(err, "CLIConnectionError"), tostring(err))
    assert.truthy(err.message:find("2.1.100", 1, true) and err.message:find(cli.MIN_VERSION, 1, true), err.message)
    assert.are.equal("2.1.100", err.cli_version)
    assert.are.equal(before, #h.children(), "a process was started")
  end)

  it("a supported npm install passes, and cli_version() says its version", function()
    local dir, path = npm_install(cli.NEWEST_TESTED)
    local c = claude.ClaudeSDKClient.new({ cli_path = path })
    c:connect()
    assert.are.equal(cli.NEWEST_TESTED, c:cli_version())
    c:disconnect()
    os.execute("rm -rf " .. h.sh_quote(dir))
  end)

  it("is refused after initialize when the answer's claude_code_version is older, and the CLI is gone", function()
    local c = claude.ClaudeSDKClient.new({ cli_path = FAKE, env = { FAKE_INIT_VERSION = "2.0.5" } })
    local ok, err = pcall(c.connect, c)
    assert.is_false(ok)
    assert.is_true(errors.is(err, "CLIConnectionError"), tostring(err))
    assert.truthy(err.message:find("2.0.5", 1, true) and err.message:find(cli.MIN_VERSION, 1, true), err.message)
    assert.is_nil(c:pid())
  end)
end)

describe("client:supports()", function()
  it(
    "is true for a capability the CLI lists, false for a known one it does not, an error for an unknown name",
    function()
      local c = claude.ClaudeSDKClient.new({
        cli_path = FAKE,
        env = { FAKE_INIT_VERSION = "2.1.400", FAKE_CAPABILITIES = "get_usage_detached_v1,brand_new_thing_v1" },
      })
      c:connect()
      assert.is_true(c:supports("get_usage_detached_v1"))
      assert.is_true(c:supports("brand_new_thing_v1")) -- one this SDK does not know yet, but the CLI lists
      assert.is_false(c:supports("ui_surface_v1"))
      local ok, err = pcall(c.supports, c, "get_usage_detatched_v1")
      assert.is_false(ok)
      assert.is_true(errors.is(err, "InvalidOptionError"), tostring(err))
      assert.truthy(err.message:find("get_usage_detached_v1", 1, true), err.message) -- the known names are listed
      assert.are.equal("2.1.400", c:cli_version())
      c:disconnect()
    end
  )
end)

describe("the real CLIs of the version matrix", function()
  local m = h.matrix_block({ setup = setup, teardown = teardown, pending = pending })
  if not m then
    return
  end

  for _, path in ipairs(m.clis) do
    local version = cli.installed_version(path)
    it(("CLI %s: connects, says its version, and answers supports() by its capabilities"):format(version), function()
      assert.is_string(version)
      assert.is_false(cli.older(version, cli.MIN_VERSION))
      local c = claude.ClaudeSDKClient.new(h.options(m.srv, { cli_path = path }))
      c:connect()
      assert.are.equal(version, c:cli_version())
      local info = c:get_server_info()
      -- 2.1.197 lists no capabilities and no version; the newest lists both
      if cli.older(version, "2.1.300") then
        assert.is_nil(info.capabilities)
        assert.is_false(c:supports("get_usage_detached_v1"))
      else
        assert.are.equal(version, info.claude_code_version)
        assert.is_true(c:supports("get_usage_detached_v1"))
      end
      local ok, err = pcall(c.supports, c, "no_such_capability_v9")
      assert.is_false(ok)
      assert.is_true(errors.is(err, "InvalidOptionError"), tostring(err))
      c:query("What is 2+2?") -- the session goes on
      local last
      for m in c:receive_response({ timeout = 60 }) do
        last = m
      end
      assert.are.equal("2 + 2 = 4.", last.result)
      c:disconnect()
    end)
  end
end)

-- The CLI takes its SDK path only for the official SDKs' entrypoints; the
-- library says sdk-py (options.ENTRYPOINT), so its sessions are the ones an
-- official SDK gets: the same agents in system/init, the same context tokens.
-- The figures to match are the official TypeScript SDK's own, from a node
-- process running it (spec/support/ts_session_figures.mjs) against the same CLI,
-- model server and prompt; the Python SDK's entrypoint (sdk-py) is checked too.
-- A non-SDK entrypoint (this library's old "sdk-lua") gets one more agent
-- (claude-code-guide) on both CLIs of the matrix, and more context tokens on
-- 2.1.197: that difference is what makes this spec able to fail.
describe("the CLI treats the library as an SDK host", function()
  local m = h.matrix_block({ setup = setup, teardown = teardown, pending = pending })
  if not m then
    return
  end
  local ts_sdk, why = h.ts_sdk()
  local PROMPT = "What is 2+2?"

  -- The init frame's agents (sorted) and the context usage after one turn.
  local function session_figures(path, env)
    local c = claude.ClaudeSDKClient.new(h.options(m.srv, { cli_path = path, env = env }))
    c:connect()
    c:query(PROMPT)
    local agents
    for m in c:receive_response({ timeout = 60 }) do
      if m.type == "system" and m.subtype == "init" then
        agents = m.data.agents
      end
    end
    local usage = c:get_context_usage()
    c:disconnect()
    local names = {}
    for _, a in ipairs(agents or {}) do
      names[#names + 1] = type(a) == "table" and a.name or a
    end
    table.sort(names)
    return names, usage.totalTokens
  end

  -- The same figures from the official TypeScript SDK, in a fresh HOME.
  local function official_figures(path)
    local env, home = testing.cli_env({ url = m.srv.url })
    local vars = {}
    for k, v in pairs(env) do
      vars[#vars + 1] = k .. "=" .. h.sh_quote(v)
    end
    local cmd = ("env %s timeout 120 node %s %s %s %s 2>&1"):format(
      table.concat(vars, " "),
      h.sh_quote(h.ROOT .. "/spec/support/ts_session_figures.mjs"),
      h.sh_quote(ts_sdk),
      h.sh_quote(path),
      h.sh_quote(PROMPT)
    )
    local p = assert(io.popen(cmd))
    local out = p:read("*a")
    p:close()
    os.execute("rm -rf " .. h.sh_quote(home))
    local ok, fig = pcall(json.decode, out:match("([^\n]+)%s*$") or "")
    assert(ok and type(fig) == "table", "the TypeScript SDK gave no figures:\n" .. out)
    return fig.agents, fig.totalTokens
  end

  for _, path in ipairs(m.clis) do
    local version = cli.installed_version(path)
    it(("CLI %s: the same init agents and context tokens as the official SDKs"):format(version), function()
      if not ts_sdk then
        error(why)
      end
      local ours_agents, ours_tokens = session_figures(path, nil)
      local ts_agents, ts_tokens = official_figures(path)
      assert.are.same(ts_agents, ours_agents)
      assert.are.equal(ts_tokens, ours_tokens)
      local py_agents, py_tokens = session_figures(path, { CLAUDE_CODE_ENTRYPOINT = "sdk-py" })
      assert.are.same(py_agents, ours_agents)
      assert.are.equal(py_tokens, ours_tokens)
      local other_agents, other_tokens = session_figures(path, { CLAUDE_CODE_ENTRYPOINT = "sdk-lua" })
      io.stdout:write(
        (
          "# entrypoint (CLI %s): official TS SDK %d agents, %d tokens; this library %d agents, "
          .. "%d tokens; sdk-lua %d agents, %d tokens\n"
        ):format(version, #ts_agents, ts_tokens, #ours_agents, ours_tokens, #other_agents, other_tokens)
      )
      -- both CLIs give a non-SDK host the claude-code-guide agent
      assert.is_true(#other_agents > #ours_agents, "a non-SDK entrypoint got no extra agent")
      assert.is_true(other_tokens >= ours_tokens)
    end)
  end
end)
