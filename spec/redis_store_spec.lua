-- RedisSessionStore against a real redis-server (started here on a free port
-- in a temporary directory, stopped at the end): the conformance contracts
-- in a plain script and inside a task, tasks sharing one connection, a
-- server that goes away and comes back, a server that stops answering.
-- Without redis-server the specs are pending and say why (make setup
-- installs it).
local claude = require("claude_agent_sdk")
local redis_store = require("claude_agent_sdk.stores.redis")
local conformance = require("claude_agent_sdk.testing.session_store_conformance")
local redis = require("support.redis")
local uv = require("luv")

local errors = claude.errors

describe("RESP", function()
  it("encodes commands and parses replies, partial ones as not yet complete", function()
    assert.are.equal("*2\r\n$4\r\nLLEN\r\n$1\r\nk\r\n", redis_store.encode({ "LLEN", "k" }))
    local buf = "*3\r\n$1\r\na\r\n:7\r\n$-1\r\n+OK\r\n"
    local v, nxt = redis_store.parse(buf, 1)
    assert.are.same({ "a", 7, claude.null }, v)
    assert.are.equal("OK", (redis_store.parse(buf, nxt)))
    for cut = 1, #buf - 6 do
      assert.is_nil((redis_store.parse(buf:sub(1, cut), 1)), "cut at " .. cut)
    end
    local err = redis_store.parse("-ERR wrong\r\n", 1)
    assert.are.equal("ERR wrong", err.message)
  end)
end)

describe("RedisSessionStore in the host-loop mode", function()
  it("refuses to wait inside a task, where no luv loop would deliver the reply", function()
    local loop = require("claude_agent_sdk.loop")
    loop.use("host")
    local ok, err = pcall(function()
      local s = claude.RedisSessionStore({ port = 1 })
      local t = claude.spawn(function()
        return s:load({ project_key = "p", session_id = "s" })
      end)
      while not t:done() do
        claude.poll()
      end
      return t:wait()
    end)
    loop.use("luv")
    assert.is_false(ok)
    assert.are.equal("ENOLUV", err.code, tostring(err))
  end)
end)

if not redis.server_path() then
  describe("RedisSessionStore", function()
    pending("skipped: redis-server is not installed (make setup installs it)")
  end)
  return
end

describe("RedisSessionStore on a real redis-server", function()
  local srv
  setup(function()
    srv = redis.start()
  end)
  teardown(function()
    if srv then
      srv.stop()
    end
  end)

  local function fresh(prefix)
    local s = claude.RedisSessionStore({ port = srv.port, prefix = prefix or "spec" })
    return function()
      s:command({ "FLUSHDB" })
      return s
    end, s
  end

  it("passes the conformance contracts in a plain script", function()
    local make, s = fresh()
    assert.are.equal(13, conformance.run(make))
    s:close()
  end)

  it("passes them inside a task, yielding while Redis answers", function()
    local make, s = fresh()
    assert.are.equal(
      13,
      claude.run(function()
        return conformance.run(make)
      end)
    )
    s:close()
  end)

  it("lets several tasks share one connection, each getting its own replies", function()
    local make, s = fresh()
    make()
    claude.run(function()
      local tasks = {}
      for i = 1, 10 do
        tasks[i] = claude.spawn(function()
          local key = { project_key = "p", session_id = "s" .. i }
          for n = 1, 5 do
            s:append(key, { { type = "x", n = n, task = i } })
          end
          return s:load(key)
        end)
      end
      for i, t in ipairs(tasks) do
        local got = t:wait()
        assert.are.equal(5, #got)
        for n, e in ipairs(got) do
          assert.are.equal(i, e.task)
          assert.are.equal(n, e.n)
        end
      end
    end)
    assert.are.equal(10, #s:list_sessions("p"))
    s:close()
  end)

  it("keeps the layout of the Python SDK's example store", function()
    local make, s = fresh("claude:")
    make()
    s:append({ project_key = "p", session_id = "s" }, { { type = "x" } })
    s:append({ project_key = "p", session_id = "s", subpath = "subagents/agent-1" }, { { type = "x" } })
    assert.are.equal("list", s:command({ "TYPE", "claude:p:s" }))
    assert.are.equal("list", s:command({ "TYPE", "claude:p:s:subagents/agent-1" }))
    assert.are.equal("set", s:command({ "TYPE", "claude:p:s:__subkeys" }))
    assert.are.equal("zset", s:command({ "TYPE", "claude:p:__sessions" }))
    s:close()
  end)

  it("raises typed errors while the server is down and reconnects when it is back", function()
    local make, s = fresh()
    make()
    local key = { project_key = "p", session_id = "s" }
    s:append(key, { { type = "x", n = 1 } })
    srv.kill()
    local ok, err = pcall(s.append, s, key, { { type = "x", n = 2 } })
    assert.is_false(ok)
    assert.is_true(errors.is(err, "ClaudeSDKError"), tostring(err))
    assert.are.equal("ECONN", err.code)
    srv.start() -- same port, same append-only file
    s:append(key, { { type = "x", n = 3 } })
    local got = s:load(key)
    assert.are.equal(2, #got)
    assert.are.equal(1, got[1].n)
    assert.are.equal(3, got[2].n)
    s:close()
  end)

  it("gives up on a server that stops answering after its timeout", function()
    local s = claude.RedisSessionStore({ port = srv.port, timeout = 0.2 })
    s:command({ "PING" })
    srv.signal("sigstop")
    local ok, err = pcall(s.load, s, { project_key = "p", session_id = "s" })
    srv.signal("sigcont")
    assert.is_false(ok)
    assert.are.equal("ETIMEDOUT", err.code)
    -- the next call starts afresh
    assert.are.equal("PONG", s:command({ "PING" }))
    s:close()
  end)

  it("leaves no luv handle behind once closed", function()
    local function handles()
      local n = 0
      uv.walk(function(hd)
        if not hd:is_closing() then
          n = n + 1
        end
      end)
      return n
    end
    local before = handles()
    local s = claude.RedisSessionStore({ port = srv.port })
    s:command({ "PING" })
    s:close()
    uv.run("nowait")
    assert.are.equal(before, handles())
  end)
end)
