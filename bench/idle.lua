-- What an idle client costs: connect inside claude.run on the luv loop, leave
-- a task waiting for messages (receive_messages, the usual idle state of an
-- application), and count the event-loop callbacks of the SDK's handles
-- during BENCH_IDLE_MS (default 1000) of silence.  Prints
--   wakeups=N polls=N timers=N others=N idle_ms=… connect_callbacks=N
-- DESIGN.md §7 wants wakeups=0: no polling timer, no busy fd.
-- connect_callbacks (the same count while connecting) is the instrument's own
-- check: connecting inside a task goes through the loop, so it is never 0.
-- BENCH_IDLE_SELFTEST=1 checks it further: a turn (BENCH_N frames) runs in
-- the window, so wakeups must not be 0.
--   BENCH_CLI=build/bench/fake_cli lua5.4 bench/idle.lua
--
-- Counting happens at the luv level, not inside the SDK, so that any handle
-- the SDK starts (however its driver is written) is seen: the start function
-- of every handle type is wrapped before the SDK is loaded, and each callback
-- counts into the phase open at the time.  The one timer the idle window
-- itself needs (claude.sleep's) is left out by marking it when it is created.

local uv = require("luv")
local pack = table.pack or function(...)
  return { n = select("#", ...), ... }
end
local unpack = table.unpack or unpack

local phase -- nil, "connect" or "idle"
local counts = { connect = 0, poll = 0, timer = 0, other = 0 }
local skip_next_timer = false
local uncounted = setmetatable({}, { __mode = "k" }) -- handles whose callbacks are not counted

local function counting(kind, cb)
  return function(...)
    if phase == "idle" then
      counts[kind] = counts[kind] + 1
    elseif phase == "connect" then
      counts.connect = counts.connect + 1
    end
    return cb(...)
  end
end

-- Wrap a start function (a handle's method or the module's function of the
-- same name): its callback is the last function among its arguments.
local function wrap_start(kind, start)
  return function(h, ...)
    local args = pack(...)
    if not uncounted[h] then
      for i = args.n, 1, -1 do
        if type(args[i]) == "function" then
          args[i] = counting(kind, args[i])
          break
        end
      end
    end
    return start(h, unpack(args, 1, args.n))
  end
end

-- A handle of each type, only to reach its method table, which every handle
-- of the type shares.  A poll needs a pollable fd: a pipe's.
local fds = uv.pipe()
local kinds = {
  timer = "timer",
  poll = "poll",
  idle = "other",
  prepare = "other",
  check = "other",
  signal = "other",
  fs_event = "other",
  fs_poll = "other",
}
for name, kind in pairs(kinds) do
  local new, start = uv["new_" .. name], uv[name .. "_start"]
  if new and start then
    uv[name .. "_start"] = wrap_start(kind, start)
    local h = name == "poll" and new(fds.read) or new()
    local mt = h and getmetatable(h)
    assert(
      mt and type(mt.__index) == "table" and type(mt.__index.start) == "function",
      "idle.lua: luv's uv_" .. name .. " methods are not where expected"
    )
    -- LuaJIT hands out a distinct closure for the method: wrap it on its own
    mt.__index.start = wrap_start(kind, mt.__index.start)
    h:close()
  end
end
uv.run("nowait") -- let the probe handles close
uv.fs_close(fds.read)
uv.fs_close(fds.write)

local new_timer = uv.new_timer
uv.new_timer = function(...)
  local h = new_timer(...)
  if skip_next_timer then
    skip_next_timer = false
    uncounted[h] = true
  end
  return h
end

local claude = require("claude_agent_sdk")
local idle_ms = tonumber(os.getenv("BENCH_IDLE_MS") or "") or 1000

claude.run(function()
  local client = claude.ClaudeSDKClient.new({ cli_path = os.getenv("BENCH_CLI") })
  phase = "connect"
  client:connect()
  local receiver = claude.spawn(function()
    for _ in client:receive_messages() do
    end
  end)
  local t0 = uv.hrtime()
  phase = "idle"
  if os.getenv("BENCH_IDLE_SELFTEST") == "1" then
    client:query("go")
  end
  skip_next_timer = true -- claude.sleep's own timer ends the window: not a wakeup
  claude.sleep(idle_ms)
  phase = nil
  local waited = (uv.hrtime() - t0) / 1e6
  receiver:cancel()
  client:disconnect()
  print(
    ("wakeups=%d polls=%d timers=%d others=%d idle_ms=%.0f connect_callbacks=%d"):format(
      counts.poll + counts.timer + counts.other,
      counts.poll,
      counts.timer,
      counts.other,
      waited,
      counts.connect
    )
  )
end)
