-- `make bench-warm` (and the end of `make bench`): time to the first
-- assistant message on the real CLI with the offline model server, four
-- ways, against the model server alone:
--   cold      ClaudeSDKClient.new + connect + query, nothing ahead
--   startup   claude.startup() done ahead; query only
--   spare     claude.prewarm() done ahead; claim + query
--   pool      claude.pool() ready; pool:client + query
--   model     the same Messages request sent straight to the model server
--             (what no SDK can go below)
-- Medians of WARM_R runs (default 9), interleaved way by way so drift on a
-- shared machine hits every way alike.  Prints a markdown table, and the
-- issue's goal: a claimed spare's query within 50 ms of the model server.
--   BENCH_CLI=.deps/newest/node_modules/.bin/claude lua5.4 bench/warm.lua
local claude = require("claude_agent_sdk")
local core = require("claude_agent_sdk.core")
local json = require("claude_agent_sdk.json")
local testing = require("claude_agent_sdk.testing")
local uv = require("luv")

local now = core.hrtime
local R = tonumber(os.getenv("WARM_R") or "") or 9
local CLI = os.getenv("BENCH_CLI")

local log = os.tmpname()
local srv = testing.spawn_server({ log = log, stderr = false })
local homes = {}
local function options()
  local env, home = testing.cli_env({ url = srv.url })
  homes[#homes + 1] = home
  return { cli_path = CLI, env = env }
end
local folder = os.tmpname()
os.remove(folder)
assert(core.mkdir(folder))

-- query, then wait for the first assistant message; its time from t0, and
-- the rest of the turn consumed.
local function first_assistant(client, t0)
  client:query("hello")
  local t
  for m in client:receive_response() do
    if not t and m.type == "assistant" then
      t = now() - t0
    end
  end
  return t
end

-- Wait until a fresh CLI is idle (its start-up work done), so "ahead" means
-- ahead: the ways differ only in what they leave to the query.
local function settle()
  core.sleep(1500)
end

local ways = {}
ways.cold = function()
  local t0 = now()
  local c = claude.ClaudeSDKClient.new(options())
  c:connect()
  local t = first_assistant(c, t0)
  c:disconnect()
  return t
end
ways.startup = function()
  local c = claude.startup(options())
  settle()
  local t = first_assistant(c, now())
  c:disconnect()
  return t
end
ways.spare = function()
  local spare = claude.prewarm(options())
  settle()
  local t0 = now()
  local c = spare:claim({ cwd = folder })
  local t = first_assistant(c, t0)
  c:disconnect()
  return t
end
local pool
ways.pool = function()
  pool = pool or claude.pool({ size = 1, options = options() })
  settle()
  local t0 = now()
  local c, info = pool:client({ cwd = folder })
  assert(info.warm, "the pool had no spare ready")
  local t = first_assistant(c, t0)
  c:disconnect()
  return t
end

-- The last Messages request the CLI sent (the main one, streaming), replayed
-- over plain TCP: the time until the whole answer is in.
local function last_request()
  local best
  for line in io.lines(log) do
    local r = json.decode(line)
    if r.path == "/v1/messages" and type(r.body) == "table" and r.body.stream then
      best = r
    end
  end
  return best
end
ways.model = function()
  local req = assert(last_request(), "no request logged")
  local body = json.encode(req.body)
  local host, port = srv.url:match("^http://([^:/]+):(%d+)")
  local head = (
    "POST /v1/messages HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
    .. "x-api-key: dummy\r\nanthropic-version: 2023-06-01\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
  ):format(host, #body)
  local t0 = now()
  local t
  local tcp = uv.new_tcp()
  tcp:connect(host, tonumber(port), function(err)
    assert(not err, err)
    tcp:write(head .. body)
    local got = {}
    tcp:read_start(function(e, chunk)
      assert(not e, e)
      if chunk then
        got[#got + 1] = chunk
        if table.concat(got):find("message_stop", 1, true) and not t then
          t = now() - t0
        end
      else
        tcp:close()
      end
    end)
  end)
  -- (other handles, the pool's polls, keep the loop alive: run until done)
  while not t do
    uv.run("once")
  end
  return t
end

local order = { "cold", "startup", "spare", "pool", "model" }
local samples = {}
for _, w in ipairs(order) do
  samples[w] = {}
end
ways.cold() -- one unmeasured run: the CLI binary into the page cache, a request logged
for _ = 1, R do
  for _, w in ipairs(order) do
    local t = ways[w]()
    samples[w][#samples[w] + 1] = t
  end
end
if pool then
  pool:close()
end
srv.stop()
os.remove(log)
for _, home in ipairs(homes) do
  os.execute("rm -rf '" .. home .. "'")
end
os.remove(folder)

local function median(list)
  table.sort(list)
  return list[math.floor((#list + 1) / 2)]
end
local m = {}
for _, w in ipairs(order) do
  m[w] = median(samples[w])
end
local version = require("claude_agent_sdk.cli").installed_version(CLI) or "?"
print(("Time to the first assistant message, CLI %s, offline model server; medians of %d runs"):format(version, R))
print()
print("| way | first assistant message | vs cold | over the model server alone |")
print("|---|---|---|---|")
local what = {
  cold = "cold: new + connect + query",
  startup = "claude.startup() ahead; query",
  spare = "claude.prewarm() ahead; claim + query",
  pool = "claude.pool() ready; pool:client + query",
  model = "the model server alone (same request)",
}
for _, w in ipairs(order) do
  print(("| %s | %.0f ms | %.2fx | %+.0f ms |"):format(what[w], m[w], m.cold / m[w], m[w] - m.model))
end
print()
local gap = m.spare - m.model
print(
  ("Goal (issue 18): a ready spare within 50 ms of the model server alone: claim + query is %+.0f ms: %s"):format(
    gap,
    gap <= 50 and "pass" or "falls short"
  )
)
