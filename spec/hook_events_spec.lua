-- The four hook events CLI 2.1.332 added (PROTOCOL.md §8): PreModelSwitch,
-- PostModelSwitch, DirectoryAdded and PreSkillShellCommand, each registered
-- as a Lua hook (options.hooks, HookMatcher form) and triggered for real on
-- every CLI of the version matrix, against the offline model server
-- (spec/support/scripts/hook_events.lua).  What triggers each one in a
-- headless SDK session (found in the 2.1.332 binary's hook descriptions and
-- tried by hand):
--   PreModelSwitch / PostModelSwitch  client:set_model() (source "sdk"); the
--                      Post hook fires after the answer, before the next turn
--   DirectoryAdded     the register_repo_root control request (source
--                      "register_repo_root"); /add-dir, its other trigger, is
--                      not available in a headless session
--   PreSkillShellCommand  a skill's !`command` when the skill is expanded:
--                      by a /<skill> prompt (invoked_by "user") or by the
--                      model's Skill tool (invoked_by "claude")
-- 2.1.332 calls the Lua hooks with the inputs asserted below and honours their
-- answers; 2.1.197 accepts the registration and never calls them, so nothing
-- they answer has any effect there.  Each test asserts its CLI's behaviour.
local claude = require("claude_agent_sdk")
local cli = require("claude_agent_sdk.cli")
local hooks = require("claude_agent_sdk.hooks")
local json = require("claude_agent_sdk.json")
local h = require("support.helpers")

local errors = claude.errors

local NEW_EVENTS = { "PreModelSwitch", "PostModelSwitch", "DirectoryAdded", "PreSkillShellCommand" }

describe("hook event names", function()
  it("the library knows 34 events, the four of CLI 2.1.332 among them", function()
    local n = 0
    for _ in pairs(hooks.EVENTS) do
      n = n + 1
    end
    assert.are.equal(34, n)
    for _, e in ipairs(NEW_EVENTS) do
      assert.is_true(hooks.EVENTS[e], e)
    end
  end)

  it("an unknown or misspelt event name is an InvalidOptionError listing the known ones, before any spawn", function()
    local fn = function()
      return {}
    end
    for _, bad in ipairs({ "PreModelswitch", "ModelSwitch", "DirectoryAdd", "PreSkillShell", "preToolUse", "Bogus" }) do
      local before = #h.children()
      local ok, err =
        pcall(claude.ClaudeSDKClient.new, { hooks = { [bad] = { claude.HookMatcher({ hooks = { fn } }) } } })
      assert.is_false(ok, bad)
      assert.is_true(errors.is(err, "InvalidOptionError"), tostring(err))
      assert.are.equal("hooks", err.option)
      assert.truthy(err.message:find(('unknown hook event "%s"'):format(bad), 1, true), err.message)
      local listed = err.message:match("%(known: (.*)%)")
      assert.truthy(listed, err.message)
      local names = {}
      for name in listed:gmatch("[^, ]+") do
        names[#names + 1] = name
      end
      assert.are.equal(34, #names, listed)
      for _, name in ipairs(names) do
        assert.is_true(hooks.EVENTS[name], name)
      end
      assert.are.equal(before, #h.children(), "a process was started")
      -- the one-shot query() checks them the same way
      ok, err = pcall(claude.query, { prompt = "x", options = { hooks = { [bad] = {} } } })
      assert.is_false(ok)
      assert.is_true(errors.is(err, "InvalidOptionError"), tostring(err))
      assert.truthy(err.message:find(bad, 1, true), err.message)
    end
  end)

  it("each of the four new names is accepted", function()
    for _, e in ipairs(NEW_EVENTS) do
      local c = claude.ClaudeSDKClient.new({ hooks = { [e] = { claude.HookMatcher({ hooks = { function() end } }) } } })
      assert.is_table(c)
    end
  end)
end)

describe("the hook events of CLI 2.1.332 on the real CLIs of the version matrix", function()
  local m = h.matrix_block(
    { setup = setup, teardown = teardown, pending = pending },
    h.ROOT .. "/spec/support/scripts/hook_events.lua"
  )
  if not m then
    return
  end

  local dirs = {}
  after_each(function()
    for _, d in ipairs(dirs) do
      os.execute("rm -rf " .. h.sh_quote(d))
    end
    dirs = {}
  end)
  local function tmpdir()
    local d = h.tmpdir()
    dirs[#dirs + 1] = d
    return d
  end

  -- The conversation requests (not side requests) the server got after its first `from` log lines.
  local function model_requests(from)
    local out = {}
    local all = h.requests(m.srv)
    for i = (from or 0) + 1, #all do
      local r = all[i]
      if r.method == "POST" and r.path == "/v1/messages" and type(r.body) == "table" and not r.side then
        out[#out + 1] = r.body
      end
    end
    return out
  end
  local function log_size()
    return #h.requests(m.srv)
  end

  -- Whether any conversation request after `from` carries `text`.
  local function model_was_told(from, text)
    for _, body in ipairs(model_requests(from)) do
      if json.encode(body):find(text, 1, true) then
        return true
      end
    end
    return false
  end

  -- One turn; returns the messages and the model id the turn's first request named.
  local function turn(c, prompt)
    local from = log_size()
    c:query(prompt)
    local msgs = h.collect(c:receive_response({ timeout = 60 }))
    local reqs = model_requests(from)
    assert.is_true(#reqs > 0, "the turn reached no model")
    return msgs, reqs[1].model
  end

  -- The fields every hook input carries.
  local function base_fields(input, event, cwd)
    assert.are.equal(event, input.hook_event_name)
    assert.is_string(input.session_id)
    assert.is_string(input.transcript_path)
    if cwd then
      assert.are.equal(cwd, input.cwd)
    else
      assert.is_string(input.cwd)
    end
  end

  for _, path in ipairs(m.clis) do
    local version = cli.installed_version(path)
    local newest = not cli.older(version, "2.1.332")

    local behaviour = newest
        and "asks PreModelSwitch (a deny keeps the model) and tells PostModelSwitch, whose context reaches the model"
      or "switches the model without calling PreModelSwitch or PostModelSwitch (a deny has no effect)"
    it(("CLI %s: set_model() %s"):format(version, behaviour), function()
      local pre, post = {}, {}
      local decision -- PreModelSwitch's answer for the next switch: nil (allow) or "deny"
      local REASON = "stay on this model"
      local c = claude.ClaudeSDKClient.new(h.options(m.srv, {
        cli_path = path,
        hooks = {
          PreModelSwitch = {
            claude.HookMatcher({
              hooks = {
                function(input, tool_use_id)
                  pre[#pre + 1] = { input = input, tool_use_id = tool_use_id }
                  if decision then
                    return {
                      hookSpecificOutput = {
                        hookEventName = "PreModelSwitch",
                        permissionDecision = decision,
                        permissionDecisionReason = REASON,
                      },
                    }
                  end
                  return {}
                end,
              },
            }),
          },
          PostModelSwitch = {
            claude.HookMatcher({
              hooks = {
                function(input)
                  post[#post + 1] = input
                  return {
                    hookSpecificOutput = {
                      hookEventName = "PostModelSwitch",
                      additionalContext = "post-switch-marker to " .. tostring(input.to_model),
                    },
                  }
                end,
              },
            }),
          },
        },
      }))
      c:connect()
      local _, first = turn(c, "What is 2+2?")
      assert.truthy(first:find("opus", 1, true), first) -- the session starts on the default model, an Opus
      assert.are.equal(0, #pre + #post)

      -- an allowed switch
      local from = log_size()
      c:set_model("sonnet")
      local msgs, second = turn(c, "What is 2+2?")
      assert.are.equal("2 + 2 = 4.", msgs[#msgs].result)
      assert.truthy(second:find("sonnet", 1, true), second)
      if newest then
        assert.are.equal(1, #pre)
        local input = pre[1].input
        base_fields(input, "PreModelSwitch")
        assert.are.equal("sonnet", input.requested_model)
        assert.are.equal(first, input.from_model)
        assert.are.equal(second, input.to_model)
        assert.are.equal("sdk", input.source)
        assert.is_number(input.context_tokens)
        assert.is_number(input.estimated_cache_write_usd)
        assert.is_boolean(input.prompt_cache_warm)
        assert.are.equal(1, #post)
        base_fields(post[1], "PostModelSwitch")
        assert.are.equal("sonnet", post[1].requested_model)
        assert.are.equal(first, post[1].from_model)
        assert.are.equal(second, post[1].to_model)
        assert.are.equal("sdk", post[1].source)
        -- PostModelSwitch's additionalContext reaches the model with the next request
        assert.is_true(
          model_was_told(from, "PostModelSwitch hook additional context: post-switch-marker to " .. second)
        )
      else
        assert.are.equal(0, #pre + #post)
        assert.is_false(model_was_told(from, "post-switch-marker"))
      end

      -- a switch PreModelSwitch denies
      decision = "deny"
      local ok, err = pcall(c.set_model, c, "opus")
      local _, third = turn(c, "What is 2+2?")
      if newest then
        assert.is_false(ok, "the denied switch was made")
        assert.is_true(errors.is(err, "ControlError"), tostring(err))
        assert.truthy(err.error:find("blocked by a PreModelSwitch hook: " .. REASON, 1, true), err.error)
        assert.are.equal(second, third) -- the model stays
        assert.are.equal(2, #pre)
        assert.are.equal("opus", pre[2].input.requested_model)
        assert.are.equal(second, pre[2].input.from_model)
        assert.truthy(pre[2].input.to_model:find("opus", 1, true), pre[2].input.to_model)
        assert.are.equal(1, #post) -- no switch, no PostModelSwitch
      else
        assert.is_true(ok, tostring(err))
        assert.truthy(third:find("opus", 1, true), third) -- the switch is made: no hook was asked
        assert.are.equal(0, #pre + #post)
      end
      c:disconnect()
    end)

    it(
      ("CLI %s: register_repo_root %s; /add-dir is not available headless"):format(
        version,
        newest and "calls DirectoryAdded (matched by source), whose answer cannot undo the registration"
          or "adds the directory without calling DirectoryAdded"
      ),
      function()
        local dir = tmpdir()
        assert(os.execute("mkdir -p " .. h.sh_quote(dir .. "/repo") .. " " .. h.sh_quote(dir .. "/other")))
        local added, by_slash = {}, 0
        local c = claude.ClaudeSDKClient.new(h.options(m.srv, {
          cli_path = path,
          cwd = dir,
          hooks = {
            DirectoryAdded = {
              claude.HookMatcher({
                matcher = "register_repo_root",
                hooks = {
                  function(input, tool_use_id)
                    added[#added + 1] = { input = input, tool_use_id = tool_use_id }
                    -- an observer's answer: nothing here can refuse the directory or reach the model
                    return { continue = false, decision = "block", reason = "no", systemMessage = "dir-added-marker" }
                  end,
                },
              }),
              claude.HookMatcher({
                matcher = "slash_command",
                hooks = {
                  function()
                    by_slash = by_slash + 1
                    return {}
                  end,
                },
              }),
            },
          },
        }))
        c:connect()
        local from = log_size()
        local r = c:control("register_repo_root", { directory = dir .. "/repo" })
        assert.are.equal(dir .. "/repo", r.directory)
        -- /add-dir, DirectoryAdded's other trigger, is refused by a headless session
        c:query("/add-dir " .. dir .. "/other") -- answered by the CLI itself, without the model
        local msgs = h.collect(c:receive_response({ timeout = 60 }))
        assert.truthy(
          msgs[#msgs].result:find("/add-dir isn't available in this environment", 1, true),
          msgs[#msgs].result
        )
        turn(c, "What is 2+2?")
        assert.are.equal(0, by_slash)
        if newest then
          assert.are.equal(1, #added)
          local input = added[1].input
          base_fields(input, "DirectoryAdded", dir)
          assert.are.equal(dir .. "/repo", input.directory)
          assert.are.equal("register_repo_root", input.source)
          -- the directory stays registered whatever the hook answered: a second request is refused as a duplicate,
          -- and the duplicate calls no hook
          local ok, err = pcall(c.control, c, "register_repo_root", { directory = dir .. "/repo" })
          assert.is_false(ok)
          assert.is_true(errors.is(err, "ControlError"), tostring(err))
          assert.truthy(err.error:find("already a registered working directory", 1, true), err.error)
          assert.are.equal(1, #added)
        else
          assert.are.equal(0, #added)
        end
        -- for register_repo_root the CLI only logs a DirectoryAdded hook's output
        assert.is_false(model_was_told(from, "dir-added-marker"))
        c:disconnect()
      end
    )

    -- A project skill whose body runs a shell command when it is expanded.
    local function skill_project()
      local dir = tmpdir()
      assert(os.execute("mkdir -p " .. h.sh_quote(dir .. "/.claude/skills/probe")))
      local f = assert(io.open(dir .. "/.claude/skills/probe/SKILL.md", "w"))
      local command = "touch " .. dir .. "/ran && echo skill-shell-ran"
      f:write(
        "---\nname: probe\ndescription: A skill that runs a shell command\n---\n"
          .. "The command said: !`"
          .. command
          .. "`\nSay done.\n"
      )
      f:close()
      return dir, command
    end

    -- A client whose PreSkillShellCommand hook (matcher "Bash": the event matches on tool_name) records its
    -- calls and gives `answer`; a second matcher naming the skill never matches.  (allowed_tools: without it
    -- the CLI's own permission check refuses `touch` before any hook is asked.)
    local function skill_client(dir, calls, answer)
      return claude.ClaudeSDKClient.new(h.options(m.srv, {
        cli_path = path,
        cwd = dir,
        allowed_tools = { "Bash" },
        hooks = {
          PreSkillShellCommand = {
            claude.HookMatcher({
              matcher = "Bash",
              hooks = {
                function(input, tool_use_id)
                  calls[#calls + 1] = { input = input, tool_use_id = tool_use_id }
                  return answer
                end,
              },
            }),
            claude.HookMatcher({
              matcher = "probe",
              hooks = {
                function(input)
                  calls[#calls + 1] = { input = input, wrong_matcher = true }
                  return {}
                end,
              },
            }),
          },
        },
      }))
    end

    it(
      ("CLI %s: a /<skill> prompt's shell command %s"):format(
        version,
        newest and "asks PreSkillShellCommand, and a deny keeps it from running"
          or "runs without calling PreSkillShellCommand (a deny has no effect)"
      ),
      function()
        local dir, command = skill_project()
        local calls = {}
        local REASON = "no shell commands in skills here"
        local c = skill_client(dir, calls, {
          hookSpecificOutput = {
            hookEventName = "PreSkillShellCommand",
            permissionDecision = "deny",
            permissionDecisionReason = REASON,
          },
        })
        c:connect()
        local from = log_size()
        turn(c, "/probe")
        c:disconnect()
        if newest then
          assert.are.equal(1, #calls)
          local call = calls[1]
          assert.is_nil(call.wrong_matcher)
          base_fields(call.input, "PreSkillShellCommand", dir)
          assert.are.equal("Bash", call.input.tool_name)
          assert.are.equal(command, call.input.tool_input.command)
          assert.are.equal("probe", call.input.command_name)
          assert.are.equal("projectSettings", call.input.command_source)
          assert.are.equal("user", call.input.invoked_by)
          assert.is_string(call.input.tool_use_id)
          assert.are.equal(call.input.tool_use_id, call.tool_use_id)
          assert.is_false(h.exists(dir .. "/ran"), "the denied command ran")
          assert.is_true(model_was_told(from, "The command said: [not run: blocked by hook: " .. REASON .. "]"))
          assert.is_false(model_was_told(from, "skill-shell-ran"))
        else
          assert.are.equal(0, #calls)
          assert.is_true(h.exists(dir .. "/ran"), "the command did not run")
          assert.is_true(model_was_told(from, "The command said: skill-shell-ran"))
        end
      end
    )

    it(
      ("CLI %s: the model's Skill tool runs the skill's shell command %s"):format(
        version,
        newest and "after PreSkillShellCommand allows it (invoked_by claude)" or "without calling PreSkillShellCommand"
      ),
      function()
        local dir, command = skill_project()
        local calls = {}
        local c = skill_client(
          dir,
          calls,
          { hookSpecificOutput = { hookEventName = "PreSkillShellCommand", permissionDecision = "allow" } }
        )
        c:connect()
        local from = log_size()
        local msgs = turn(c, "Please use the skill probe")
        c:disconnect()
        local use
        for _, msg in ipairs(msgs) do
          if msg.type == "assistant" then
            for _, b in ipairs(msg.content) do
              if b.type == "tool_use" and b.name == "Skill" then
                use = b
              end
            end
          end
        end
        assert.truthy(use, "the model did not call the Skill tool")
        assert.is_true(h.exists(dir .. "/ran"), "the command did not run")
        assert.is_true(model_was_told(from, "The command said: skill-shell-ran"))
        if newest then
          assert.are.equal(1, #calls)
          local input = calls[1].input
          assert.is_nil(calls[1].wrong_matcher)
          base_fields(input, "PreSkillShellCommand", dir)
          assert.are.equal("Bash", input.tool_name)
          assert.are.equal(command, input.tool_input.command)
          assert.are.equal("probe", input.command_name)
          assert.are.equal("claude", input.invoked_by)
          -- the shell command's own id, derived from the Skill tool use's
          assert.are.equal(use.id, input.tool_use_id:sub(1, #use.id))
          assert.are.equal(input.tool_use_id, calls[1].tool_use_id)
        else
          assert.are.equal(0, #calls)
        end
      end
    )
  end
end)
