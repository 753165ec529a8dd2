--- Tasks: coroutines run by the event loop (DESIGN.md §3, async runtime).
--
-- `spawn(fn)` starts fn as a task; inside a task, every call of the SDK that
-- waits (connect, control requests, receive iterators, sleep) yields the
-- task instead of blocking, and the loop resumes it when what it waits for
-- has happened.  `run(fn)` runs a task and, in a plain script, drives the loop
-- until it ends, returning its results or raising its error; inside Neovim it
-- starts the task and returns the handle at once (the editor's loop runs it).
--
-- Errors are never swallowed: a task's error is raised by `:wait()`, and a
-- task that fails while nobody waits for it is reported through
-- `async.on_error` (stderr, or vim.notify in Neovim) on a later turn of the
-- loop (the backend's `defer`; with luv, at the latest when the Lua state
-- closes), unless someone collects it with `:wait()` first.  `:cancel()`
-- raises a CancelledError inside the task at the point where it waits, so its
-- cleanup (pcall, <close>) runs.
--
-- Every public function checks its arguments (InvalidOptionError, before any
-- timer is made).  In a plain script, the functions that run the loop (sleep,
-- run, wait) and cancel() end by finishing the closes of the handles they
-- closed (loop.lua: settle), so the process exits cleanly.
--
--   local t = async.spawn(function() async.sleep(100); return 42 end)
--   print(t:wait())   --> 42

local errors = require("claude_agent_sdk.errors")
local loop = require("claude_agent_sdk.loop")
local check = require("claude_agent_sdk.check")

local M = {}

local unpack = table.unpack or unpack
local pack = loop.pack
local CANCEL = setmetatable({}, { __name = "cancel" })

---@class ClaudeTask
---@field status string  "running" | "done" | "failed" | "cancelled"
---@field name string|nil
---@field package co thread|nil  its coroutine, dropped once it has ended
---@field package watchers function[]  woken when the task ends
---@field package result table  what coroutine.resume returned, packed (n = count)
---@field package suspended boolean|nil
---@field package disarm function|nil
---@field package cancel_requested boolean|nil
---@field package reported boolean|nil  its error was raised by wait() or reported by on_error
local Task = {}
Task.__index = Task
Task.__name = "ClaudeTask"

function Task:__tostring()
  return ("ClaudeTask(%s%s)"):format(self.name and (self.name .. ", ") or "", self.status)
end

local tasks_by_co = setmetatable({}, { __mode = "k" })

--- The task running now, or nil outside any task.
---@return ClaudeTask|nil
function M.current()
  local co = coroutine.running()
  return co and tasks_by_co[co] or nil
end

--- Report an error of a task nobody waited for.  Replaceable.
function M.on_error(task, err)
  loop.report(("claude_agent_sdk: task %s failed: %s"):format(task.name or tostring(task), tostring(err)), "ERROR")
end

-- Run fn on a later turn of the loop: the backend's defer, or for a backend
-- without one a one-shot timer closed when it has run.
local function defer(fn)
  local backend = loop.current()
  if backend.defer then
    return backend.defer(fn)
  end
  local t = backend.timer()
  t:start(0, function()
    t:close()
    fn()
  end)
end

local function finish(task, status, res)
  task.status = status
  task.result = res
  -- Let go of the dead coroutine: one that died by an error keeps its stack
  -- (and whatever its frames held, e.g. a client); and LuaJIT's weak-keyed
  -- tables are no ephemerons, so tasks_by_co would keep the task forever.
  tasks_by_co[task.co] = nil
  task.co = nil
  local watchers = task.watchers
  task.watchers = {}
  if status == "failed" and #watchers == 0 then
    -- Nobody waits yet.  Report it unless someone collects it by the next
    -- turn of the loop (spawn(fn):wait() on a task that failed at once).
    defer(function()
      if not task.reported then
        task.reported = true
        M.on_error(task, res[2])
      end
    end)
  end
  for _, wake in ipairs(watchers) do
    wake()
  end
end

-- After plain script code closed handles (a task's first step, a cancel):
-- finish the closes now, where running the loop is allowed (loop.lua).
local function settle()
  local backend = loop.current()
  if backend.settle then
    backend.settle()
  end
end

-- The method of a task called on something else (task.wait() instead of task:wait()).
local function check_task(self, method)
  if getmetatable(self) ~= Task then
    check.fail("ClaudeTask:" .. method, "self", "a ClaudeTask (call it as task:" .. method .. "())", self)
  end
end

-- Resume a suspended task with values (or CANCEL); record how it ends.
local function step(task, ...)
  if task.status ~= "running" then
    return
  end
  local co = task.co
  local res = pack(coroutine.resume(co, ...))
  if coroutine.status(co) == "dead" then
    if res[1] then
      finish(task, "done", res)
    elseif errors.is(res[2], "CancelledError") and task.cancel_requested then
      finish(task, "cancelled", res)
    else
      finish(task, "failed", res)
    end
  end
end

--- Start fn(...) as a task; it runs at once until it first waits.
---   local t = claude.spawn(function() ... end)
---@param fn function
---@param ... any  passed to fn
---@return ClaudeTask
function M.spawn(fn, ...)
  check.callable("claude.spawn", "fn", fn)
  local args = pack(...)
  local task = setmetatable({ status = "running", watchers = {} }, Task)
  task.co = coroutine.create(function()
    return fn(unpack(args, 1, args.n))
  end)
  tasks_by_co[task.co] = task
  step(task)
  if not M.current() then
    settle()
  end
  return task
end

--- Suspend the current task until `arm(wake)` calls wake(...); returns what
--- wake was given.  arm may call wake at once.  Raises CancelledError if the
--- task is cancelled meanwhile.  `disarm` (optional) undoes arm on cancel.
---@param arm fun(wake: function)
---@param disarm function|nil
---@return any ...  what wake was given
function M.suspend(arm, disarm)
  check.callable("claude.suspend", "arm", arm)
  check.callable("claude.suspend", "disarm", disarm, true)
  local task = M.current()
  if not task then
    errors.raise("ClaudeSDKError", "claude.suspend: called outside a task (use claude.run or claude.spawn)")
  end
  local ready
  local backend = loop.current()
  local woken = false
  local function wake(...)
    if woken then
      return
    end
    woken = true
    if task.suspended then
      local args = pack(...)
      backend.schedule(function()
        step(task, unpack(args, 1, args.n))
      end)
    else
      ready = pack(...) -- woken before it even yielded
    end
  end
  task.disarm = disarm
  arm(wake)
  if ready then
    task.disarm = nil
    return unpack(ready, 1, ready.n)
  end
  task.suspended = true
  local res = pack(coroutine.yield())
  task.suspended = false
  task.disarm = nil
  if res[1] == CANCEL then
    errors.raise("CancelledError", "the task was cancelled")
  end
  return unpack(res, 1, res.n)
end

--- Sleep ms milliseconds: yields inside a task, blocks in a plain script.
---@param ms number
function M.sleep(ms)
  check.number("claude.sleep", "ms", ms, { min = 0 })
  local backend = loop.current()
  if M.current() then
    local t = backend.timer()
    -- closed where it fired (inside the loop, so the close ends with that
    -- iteration), or by the disarm of a cancel
    M.suspend(function(wake)
      t:start(ms, wake)
    end, function()
      t:close()
    end)
    t:close()
  else
    local done = false
    local t = backend.timer()
    t:start(ms, function()
      done = true
      t:close()
    end)
    local ok, err = pcall(backend.run_until, function()
      return done
    end)
    t:close()
    settle()
    if not ok then
      error(err, 0)
    end
  end
end

local function results(task)
  local res = task.result
  if task.status == "done" then
    return unpack(res, 2, res.n)
  end
  task.reported = true
  error(res[2], 0)
end

--- Wait for the task to end; return its results or raise its error
--- (CancelledError if it was cancelled).  Yields inside a task.
---   local a, b = task:wait()
---@return any ...  what the task's function returned
function Task:wait()
  check_task(self, "wait")
  if self.status == "running" then
    if M.current() == self then
      errors.raise("ClaudeSDKError", "ClaudeTask:wait: a task cannot wait for itself")
    end
    if M.current() then
      M.suspend(function(wake)
        self.watchers[#self.watchers + 1] = wake
      end)
    else
      -- someone is waiting: a failure is raised here, not reported as unobserved
      self.watchers[#self.watchers + 1] = function() end
      loop.current().run_until(function()
        return self.status ~= "running"
      end)
    end
  end
  return results(self)
end

--- Cancel the task: a CancelledError is raised where it waits.  Returns true
--- if it was still running.
---@return boolean
function Task:cancel()
  check_task(self, "cancel")
  if self.status ~= "running" then
    return false
  end
  self.cancel_requested = true
  if M.current() == self then
    errors.raise("CancelledError", "the task was cancelled")
  end
  if self.disarm then
    pcall(self.disarm)
  end
  if self.suspended then
    step(self, CANCEL)
  end
  if not M.current() then
    settle()
  end
  return true
end

--- True once the task has ended (done, failed or cancelled).
---@return boolean
function Task:done()
  check_task(self, "done")
  return self.status ~= "running"
end

--- Run fn as a task.  In a plain script (luv or host loop) drive the loop
--- until it ends and return its results (or raise its error); inside Neovim
--- return the task at once.
---   claude.run(function() ... end)
---@param fn function
---@param ... any  passed to fn
---@return any ...  fn's results; inside Neovim, the ClaudeTask
function M.run(fn, ...)
  check.callable("claude.run", "fn", fn)
  local task = M.spawn(fn, ...)
  if loop.current().name == "nvim" then
    return task
  end
  return task:wait()
end

M.Task = Task

return M
