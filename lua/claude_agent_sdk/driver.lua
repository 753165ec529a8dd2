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
--   local d = driver.attach(client)
--   d:wait(function() return ready end, deadline_ms)   -- inside a task

local async = require("claude_agent_sdk.async")
local loop = require("claude_agent_sdk.loop")

local M = {}

local Driver = {}
Driver.__index = Driver

--- The driver of client, created on first use.
function M.attach(client)
  if client._driver then return client._driver end
  local backend = loop.current()
  local d = setmetatable({ client = client, backend = backend, polls = {}, waiters = {}, closed = false }, Driver)
  d.timer = backend.timer()
  d.on_ready = function() d:ready() end
  client._driver = d
  if backend.pumps then
    -- host loop: claude.poll() pumps every attached client
    backend.pumps[d] = function() return d:ready() end
  end
  d:sync()
  return d
end

--- Pump once (no blocking) and wake whoever can go on.  Returns true if any
--- task was woken.
function Driver:ready()
  if self.closed then return false end
  local client = self.client
  if client._core then
    -- Never let an error escape into the loop's callback (luv would end the
    -- process); the waiting tasks get it instead.
    local ok, err = pcall(client._pump, client, 0, true)
    if not ok then client._io_error = err end
  end
  if self.closed then return false end -- a callback disconnected
  self:sync()
  return self:check()
end

-- Watch exactly the fds the core lists now; arm the timer for the earliest
-- deadline (the core's or a waiter's).
function Driver:sync()
  if self.closed then return end
  local core = self.client._core
  local want = {}
  if core then
    for _, p in ipairs(core:pollfds()) do want[p.fd] = p.events end
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
      if wait < 0 or left < wait then wait = left end
    end
  end
  if wait >= 0 then self.timer:start(wait, self.on_ready) else self.timer:stop() end
end

-- Wake the waiters whose condition holds (or whose deadline passed).  They
-- are collected first: a woken task runs at once and may wait again.
function Driver:check()
  local now, due = self.backend.now(), {}
  local client = self.client
  for w in pairs(self.waiters) do
    local ok = self.closed or not client._core or client._io_error ~= nil or w.cond()
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
    if w.deadline and (not best or w.deadline < best) then best = w.deadline end
  end
  if not best then return -1 end
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

--- Stop watching and wake every waiter (they find the client closed).  Must
--- run before the core frees its fds.
function Driver:close()
  if self.closed then return end
  self.closed = true
  for fd, p in pairs(self.polls) do
    p:close()
    self.polls[fd] = nil
  end
  self.timer:close()
  if self.backend.pumps then self.backend.pumps[self] = nil end
  self:check()
  self.client._driver = nil
end

return M
