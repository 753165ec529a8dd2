-- Options: validation before anything is spawned, and argv/env exactly as
-- PROTOCOL.md §1.4-1.6 describe.
local options = require("claude_agent_sdk.options")
local errors = require("claude_agent_sdk.errors")
local json = require("claude_agent_sdk.json")

local function argv(o)
  return options.argv(options.validate(o), "/bin/claude")
end

local function index_of(list, v)
  for i, x in ipairs(list) do
    if x == v then
      return i
    end
  end
end

describe("options", function()
  it("rejects an unknown key, naming it", function()
    local ok, err = pcall(options.validate, { modle = "x" })
    assert.is_false(ok)
    assert.is_true(errors.is(err, "InvalidOptionError"))
    assert.truthy(tostring(err):find("modle", 1, true))
    assert.are.equal("modle", err.option)
  end)

  it("rejects bad values with the key in the message", function()
    for key, v in pairs({
      max_turns = 0,
      model = 5,
      allowed_tools = "Bash",
      permission_mode = "bogusmode",
      env = { A = 1 },
      extra_args = { ["--x"] = true },
      include_partial_messages = "yes",
      stderr = "print",
    }) do
      local ok, err = pcall(options.validate, { [key] = v })
      assert.is_false(ok, key)
      assert.is_true(errors.is(err, "InvalidOptionError"), key)
      assert.truthy(tostring(err):find(key, 1, true), key)
    end
  end)

  it("starts with the mandatory flags and ends with the input format", function()
    local a = argv({})
    assert.are.same(
      { "/bin/claude", "--output-format", "stream-json", "--verbose", "--system-prompt", "" },
      { a[1], a[2], a[3], a[4], a[5], a[6] }
    )
    assert.are.same({ "--input-format", "stream-json" }, { a[#a - 1], a[#a] })
  end)

  it("maps the seed examples' options to the CLI's flags", function()
    local a = argv({
      system_prompt = "You are a helpful coding assistant.",
      model = "claude-sonnet-4-5",
      permission_mode = "acceptEdits",
      max_turns = 3,
      allowed_tools = { "Read", "Bash" },
      disallowed_tools = { "Write" },
      include_partial_messages = true,
      extra_args = { ["replay-user-messages"] = true, ["debug-to-stderr"] = false },
    })
    local joined = table.concat(a, " ")
    assert.truthy(joined:find("--system-prompt You are a helpful coding assistant.", 1, true))
    assert.truthy(joined:find("--model claude-sonnet-4-5", 1, true))
    assert.truthy(joined:find("--permission-mode acceptEdits", 1, true))
    assert.truthy(joined:find("--max-turns 3", 1, true))
    assert.truthy(joined:find("--allowedTools Read,Bash", 1, true))
    assert.truthy(joined:find("--disallowedTools Write", 1, true))
    assert.truthy(index_of(a, "--include-partial-messages"))
    assert.truthy(index_of(a, "--replay-user-messages"))
    assert.is_nil(index_of(a, "--debug-to-stderr"))
    -- Python's order: allowedTools, max-turns, disallowedTools, model, permission-mode
    assert.is_true(index_of(a, "--allowedTools") < index_of(a, "--max-turns"))
    assert.is_true(index_of(a, "--max-turns") < index_of(a, "--disallowedTools"))
    assert.is_true(index_of(a, "--disallowedTools") < index_of(a, "--model"))
    assert.is_true(index_of(a, "--model") < index_of(a, "--permission-mode"))
  end)

  it("passes dash-leading values as one --flag=value token so they cannot inject flags", function()
    local a = argv({ model = "--dangerously-skip-permissions", system_prompt = "-x", extra_args = { foo = "--bar" } })
    assert.truthy(index_of(a, "--model=--dangerously-skip-permissions"))
    assert.truthy(index_of(a, "--system-prompt=-x"))
    assert.truthy(index_of(a, "--foo=--bar"))
    assert.is_nil(index_of(a, "--dangerously-skip-permissions"))
  end)

  it("handles the system prompt forms, tools and resume", function()
    local a = argv({ system_prompt = { type = "preset", preset = "claude_code", append = "Be brief." } })
    assert.truthy(index_of(a, "--append-system-prompt"))
    assert.is_nil(index_of(a, "--system-prompt"))
    a = argv({ system_prompt = { type = "preset", preset = "claude_code" } })
    assert.is_nil(index_of(a, "--system-prompt"))
    assert.is_nil(index_of(a, "--append-system-prompt"))
    a = argv({ system_prompt = { type = "file", path = "/p.md" } })
    assert.are.equal("/p.md", a[index_of(a, "--system-prompt-file") + 1])
    a = argv({ tools = {} })
    assert.are.equal("", a[index_of(a, "--tools") + 1])
    a = argv({ resume = "abc", setting_sources = {} })
    assert.truthy(index_of(a, "--resume=abc"))
    assert.truthy(index_of(a, "--setting-sources="))
  end)

  it("builds the environment: CLAUDECODE removed, entrypoint set, user env on top", function()
    local env = options.env(
      options.validate({ env = { FOO = "bar", HOME = "/h", DROP = false }, cwd = "/tmp" }),
      { CLAUDECODE = "1", PATH = "/usr/bin", HOME = "/root", DROP = "x" }
    )
    local map = {}
    for _, kv in ipairs(env) do
      local k, v = kv:match("^([^=]+)=(.*)$")
      map[k] = v
    end
    assert.is_nil(map.CLAUDECODE)
    assert.is_nil(map.DROP)
    assert.are.equal("bar", map.FOO)
    assert.are.equal("/h", map.HOME)
    assert.are.equal("/usr/bin", map.PATH)
    assert.are.equal("sdk-py", map.CLAUDE_CODE_ENTRYPOINT) -- the CLI takes its SDK path only for the official ones
    assert.are.equal(options.VERSION, map.CLAUDE_AGENT_SDK_VERSION)
    assert.are.equal("/tmp", map.PWD)
  end)

  it("merges sandbox into the settings (table, JSON text or file)", function()
    local function settings_of(o)
      local a = argv(o)
      return json.decode(a[index_of(a, "--settings") + 1])
    end
    local v = settings_of({ settings = { model = "x" }, sandbox = { enabled = true } })
    assert.are.equal("x", v.model)
    assert.is_true(v.sandbox.enabled)
    v = settings_of({ settings = '{"permissions":{"allow":["Read"]}}', sandbox = { enabled = false } })
    assert.are.equal("Read", v.permissions.allow[1])
    assert.is_false(v.sandbox.enabled)
    local path = os.tmpname()
    local f = io.open(path, "w")
    f:write('{"env":{"A":"1"}}')
    f:close()
    v = settings_of({ settings = path, sandbox = { enabled = true } })
    os.remove(path)
    assert.are.equal("1", v.env.A)
    assert.is_true(v.sandbox.enabled)
    v = settings_of({ sandbox = { enabled = true } })
    assert.is_true(v.sandbox.enabled)
    -- without sandbox a path is passed through untouched
    local a = argv({ settings = "/some/settings.json" })
    assert.are.equal("/some/settings.json", a[index_of(a, "--settings") + 1])
  end)

  it("maps skills, task_budget, resume_session_at and forward_subagent_text", function()
    local a = argv({
      skills = { "verify", "deploy" },
      allowed_tools = { "Read" },
      task_budget = { total = 5000 },
      resume_session_at = "5e5510a1-7c3b-4d2e-9f00-0123456789ab",
      resume_drops_turn = "",
    })
    assert.are.equal("Read,Skill(verify),Skill(deploy)", a[index_of(a, "--allowedTools") + 1])
    assert.truthy(index_of(a, "--setting-sources=user,project"))
    assert.are.equal("5000", a[index_of(a, "--task-budget") + 1])
    assert.truthy(index_of(a, "--resume-session-at=5e5510a1-7c3b-4d2e-9f00-0123456789ab"))
    assert.truthy(index_of(a, "--resume-drops-turn="))
    a = argv({ skills = "all", setting_sources = {} })
    assert.are.equal("Skill", a[index_of(a, "--allowedTools") + 1])
    assert.truthy(index_of(a, "--setting-sources="))
    local f = options.initialize_fields(options.validate({ skills = { "verify" }, forward_subagent_text = true }))
    assert.are.equal("verify", f.skills[1])
    assert.is_true(f.forwardSubagentText)
    for _, bad_opts in ipairs({
      { skills = "verify" },
      { skills = { "*" } },
      { task_budget = 5 },
      { session_store = {} },
      { debug_stderr = "x" },
      { thinking = { type = "adaptive", display = "loud" } },
    }) do
      local ok, err = pcall(options.validate, bad_opts)
      assert.is_false(ok)
      assert.is_true(errors.is(err, "InvalidOptionError"))
    end
  end)

  it("sends agents in initialize, never on argv", function()
    local o = options.validate({ agents = { reviewer = { description = "d", prompt = "p" } } })
    local a = table.concat(options.argv(o, "/bin/claude"), " ")
    assert.is_nil(a:find("reviewer", 1, true))
    local f = options.initialize_fields(o)
    assert.are.equal("p", f.agents.reviewer.prompt)
    assert.are.equal(json.null, f.hooks)
  end)
end)
