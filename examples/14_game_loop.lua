-- 14_game_loop.lua: a conversation driven from a game's own 60 Hz frame loop, with client:pump(0) once a frame.
--
-- A game (or any app embedding Lua) owns its loop and must never stall a frame. claude.use_loop("host") tells the
-- SDK there is no event loop of its own: a task started with claude.spawn runs until its first wait (connect
-- starts the CLI and then waits for its answer), and from then on everything happens inside client:pump(0),
-- called once per frame. pump(0) never blocks: it polls the CLI's pipes with a zero timeout, reads and writes only
-- what is ready right now (the pipes are non-blocking), answers the CLI's control requests, runs due timers and
-- resumes the tasks whose wait is over; each of them runs only until its next wait, which in host mode suspends
-- the task instead of blocking.
--
-- A host with its own poller (epoll, SDL's event wait, a GUI toolkit's fd watch) can instead wait on the CLI's
-- fds too, and pump only when one is ready or the deadline has come:
--   local fds, timeout_ms = client:fds()    -- { { fd = 5, events = "r" }, ... }, -1 for no deadline
--   -- add each fd to the poller ("r": readable, "w": writable); when one fires, or after timeout_ms:
--   client:pump(0)
-- The list changes (stdin is watched only while writes are queued; pipes vanish at end of file): ask again after
-- each pump.
--
-- Here the frame "draws" nothing and only counts frames; it sleeps the rest of each 16.7 ms frame. At the end it
-- prints the longest time one pump(0) took and the longest whole frame: a measurement on this machine, not a
-- promise. The game's clock stands in as luv's hrtime/sleep (a real game has SDL_GetTicks, love.timer, ...).
--
-- Needs luv for that clock only (Debian: lua-luv). Run it (the CLI reaches the model through ANTHROPIC_API_KEY /
-- ANTHROPIC_BASE_URL in the environment; see examples/README.md for the offline model server):
--   eval "$(make -s env)"; lua5.4 examples/14_game_loop.lua
--   eval "$(make -s env LUA=luajit)"; luajit examples/14_game_loop.lua

local claude = require("claude_agent_sdk")
claude.use_loop("host") -- before any client or task: no event loop of ours, the frame loop drives everything

-- The game's clock: milliseconds (fractional) and a sleep.
local uv = require("luv")
local function now_ms()
  return uv.hrtime() / 1e6
end
local function sleep_ms(ms)
  if ms >= 1 then
    uv.sleep(math.floor(ms))
  end
end

local FRAME_MS = 1000 / 60
local frame = 0

local client = claude.ClaudeSDKClient.new()

-- The conversation, as a task: each call that waits suspends it until a later frame's pump(0) resumes it.
local chat = claude.spawn(function()
  client:connect()
  client:query("What is 2 + 2?")
  for msg in client:receive_response() do
    if claude.isinstance(msg, claude.AssistantMessage) then
      for _, block in ipairs(msg.content) do
        if claude.isinstance(block, claude.TextBlock) then
          print(("[frame %d] Claude: %s"):format(frame, block.text))
        end
      end
    elseif claude.isinstance(msg, claude.ResultMessage) then
      print(("[frame %d] Turn done: %s"):format(frame, msg.subtype))
    end
  end
  client:disconnect() -- also finished from pump(0): the CLI exits and is reaped a few frames later
end)

local longest_pump, longest_frame = 0, 0
local started = now_ms()
local next_frame = started

while not chat:done() do
  local frame_start = now_ms()
  frame = frame + 1

  client:pump(0) -- I/O, control requests, timers, and the chat task: never blocks
  local pump_ms = now_ms() - frame_start

  -- update() and draw() would go here.

  if pump_ms > longest_pump then
    longest_pump = pump_ms
  end
  next_frame = next_frame + FRAME_MS
  if next_frame < now_ms() then
    next_frame = now_ms()
  end -- a late frame: don't try to catch up
  sleep_ms(next_frame - now_ms())
  local frame_ms = now_ms() - frame_start
  if frame_ms > longest_frame then
    longest_frame = frame_ms
  end
end

chat:wait() -- raises the chat task's error, if it failed

print(("%d frames in %.1f s"):format(frame, (now_ms() - started) / 1000))
print(
  ("Longest frame stall: pump(0) took %.2f ms at most; the longest frame took %.2f ms (budget %.1f ms)"):format(
    longest_pump,
    longest_frame,
    FRAME_MS
  )
)
