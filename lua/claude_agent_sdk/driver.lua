--- A client attached to the event loop: poll watchers on the core's fds, one
--- timer for the core's deadlines, and the tasks waiting on the client.
--
-- The core owns the fds; the driver only watches them (DESIGN.md §2).  When
-- one is ready, or the timer fires, the driver pumps the core once without
-- blocking (which also answers the CLI's control requests), re-arms the
-- watchers for the fds the core has now (stdin only while writes are queued;
-- pipes vanish at EOF), and wakes every waiting task whose condition holds.
-- Nothing ticks while the client is idle: the timer is armed only for a real
-- deadline.
--
-- The loop holds the driver (its watchers' callbacks), and the driver holds
-- its client only weakly: a client dropped without disconnect() is collected
-- as in blocking mode once no task waits on it (a waiting task holds it).  A
-- guard object kept in the client then closes the driver's watchers; it is
-- made after the client's core, so it is finalized first and the poll
-- watchers let go of the fds before the core's __gc closes them (and kills
-- the CLI): a reused fd number is never watched by a stale uv_poll.
--
--   local d = driver.attach(client)
--   d:wait(function() return ready end, deadline_ms)   -- inside a task

local async = require("claude_agent_sdk.async")
local loop = require("claude_agent_sdk.loop")

local M = {}

local Driver = {}
Driver.__index = Driver

local WEAK_VALUES = { __mode = "v" }

--- The driver of client, created on first use (the client must have its core).
function M.attach(client)
  if client._driver then
    return client._driver
  end
  local backend = loop.current()
  local d = setmetatable({
    ref = setmetatable({ client = client }, WEAK_VALUES),
    backend = backend,
    polls = {},
    waiters = {},
    closed = false,
  }, Driver)
  d.timer = backend.timer()
  d.on_ready = function()
    d:ready()
  end
  -- The guard lives in the client and must not be reachable from the driver
  -- (the loop holds the driver): the driver keeps only its disarm function.
  local guard, disarm = loop.finalizer(function()
    d:release()
  end)
  d.disarm_guard = disarm
  client._driver = d
  client._driver_guard = guard
  if backend.pumps then
    -- host loop: claude.poll() pumps every attached client
    backend.pumps[d] = function()
      return d:ready()
    end
  end
  d:sync()
  return d
end

--- Pump once (no blocking) and wake whoever can go on.  Returns true if any
--- task was woken.
function Driver:ready()
  if self.closed then
    return false
  end
  local client = self.ref.client
  if not client then -- collected (no task waited on it): its guard releases us, or we do it now
    self:release()
    return false
  end
  if client._core then
    -- Never let an error escape into the loop's callback (luv would end the
    -- process); the waiting tasks get it instead.
    local ok, err = pcall(client._pump, client, 0, true)
    if not ok then
      client._io_error = err
    end
  end
  if self.closed then
    return false
  end -- a callback disconnected
  self:sync()
  return self:check()
end

-- Watch exactly the fds the core lists now; arm the timer for the earliest
-- deadline (the core's or a waiter's).
function Driver:sync()
  if self.closed then
    return
  end
  local client = self.ref.client
  local core = client and client._core
  local want = {}
  if core then
    for _, p in ipairs(core:pollfds()) do
      want[p.fd] = p.events
    end
  end
  for fd, p in pairs(self.polls) do
    if not want[fd] then
      p:close()
      self.polls[fd] = nil
    end
  end
  for fd, ev in pairs(want) do
    local p = self.polls[fd]
    if not p then
      p = self.backend.poll(fd)
      self.polls[fd] = p
    end
    p:start(ev, self.on_ready)
  end
  local wait = core and core:timeout() or -1
  local now = self.backend.now()
  for w in pairs(self.waiters) do
    if w.deadline then
      local left = math.max(0, w.deadline - now)
      if wait < 0 or left < wait then
        wait = left
      end
    end
  end
  if wait >= 0 then
    self.timer:start(wait, self.on_ready)
  else
    self.timer:stop()
  end
end

-- Wake the waiters whose condition holds (or whose deadline passed).  They
-- are collected first: a woken task runs at once and may wait again.
function Driver:check()
  local now, due = self.backend.now(), {}
  local client = self.ref.client
  for w in pairs(self.waiters) do
    local ok = self.closed or not client or not client._core or client._io_error ~= nil or w.cond()
    if ok or (w.deadline and now >= w.deadline) then
      due[#due + 1] = w
      w.ok = ok and true or false
    end
  end
  for _, w in ipairs(due) do
    self.waiters[w] = nil
    w.wake(w.ok)
  end
  return #due > 0
end

--- Milliseconds until the earliest waiter deadline (-1: none).
function Driver:next_deadline()
  local best
  for w in pairs(self.waiters) do
    if w.deadline and (not best or w.deadline < best) then
      best = w.deadline
    end
  end
  if not best then
    return -1
  end
  return math.max(0, best - self.backend.now())
end

--- Inside a task: yield until cond() holds (true) or deadline_ms passes
--- (false).  A closed client counts as "holds": the caller re-checks.
function Driver:wait(cond, deadline)
  local w = { cond = cond, deadline = deadline }
  return async.suspend(function(wake)
    w.wake = wake
    self.waiters[w] = true
    self:sync()
  end, function()
    self.waiters[w] = nil
  end)
end

-- Stop watching: close the watchers and the timer.  Alone (no waiter woken,
-- nothing run) when the client's guard is finalized: the client was collected
-- (no task waited on it), or the Lua state is closing (nothing may run then).
function Driver:release()
  if self.released then
    return
  end
  self.released = true
  self.closed = true
  self.disarm_guard()
  for fd, p in pairs(self.polls) do
    p:close()
    self.polls[fd] = nil
  end
  self.timer:close()
  if self.backend.pumps then
    self.backend.pumps[self] = nil
  end
end

--- Stop watching and wake every waiter (they find the client closed).  Must
--- run before the core frees its fds.  From plain script code the closes of
--- the watchers are finished at once (loop.lua: settle); inside the loop they
--- finish with the current iteration.
function Driver:close()
  if self.closed then
    return
  end
  self:release()
  self:check()
  local client = self.ref.client
  if client and client._driver == self then
    client._driver = nil
    client._driver_guard = nil
  end
  if self.backend.settle then
    self.backend.settle()
  end
end

return M
