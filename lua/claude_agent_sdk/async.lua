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
-- `async.on_error` (stderr, or vim.notify in Neovim).  `:cancel()` raises a
-- CancelledError inside the task at the point where it waits, so its cleanup
-- (pcall, <close>) runs.
--
--   local t = async.spawn(function() async.sleep(100); return 42 end)
--   print(t:wait())   --> 42

local errors = require("claude_agent_sdk.errors")
local loop = require("claude_agent_sdk.loop")

local M = {}

local unpack = table.unpack or unpack
local pack = loop.pack
local CANCEL = setmetatable({}, { __name = "cancel" })

---@class ClaudeTask
---@field status string  "running" | "done" | "failed" | "cancelled"
---@field name string|nil
---@field package co thread
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
  local msg = ("claude_agent_sdk: task %s failed: %s"):format(task.name or tostring(task), tostring(err))
  local vim = rawget(_G, "vim")
  if type(vim) == "table" and vim.notify and vim.schedule then
    vim.schedule(function() vim.notify(msg, vim.log and vim.log.levels and vim.log.levels.ERROR or 4) end)
  else
    io.stderr:write(msg, "\n")
  end
end

local function finish(task, status, res)
  task.status = status
  task.result = res
  local watchers = task.watchers
  task.watchers = {}
  if status == "failed" and #watchers == 0 then
    -- Nobody waits yet.  Report it unless someone collects it by the next
    -- turn of the loop (spawn(fn):wait() on a task that failed at once).
    local t = loop.current().timer()
    t:start(0, function()
      t:close()
      if not task.reported then
        task.reported = true
        M.on_error(task, res[2])
      end
    end)
  end
  for _, wake in ipairs(watchers) do wake() end
end

-- Resume a suspended task with values (or CANCEL); record how it ends.
local function step(task, ...)
  if task.status ~= "running" then return end
  local res = pack(coroutine.resume(task.co, ...))
  if coroutine.status(task.co) == "dead" then
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
  if type(fn) ~= "function" then error("spawn expects a function", 2) end
  local args = pack(...)
  local task = setmetatable({ status = "running", watchers = {} }, Task)
  task.co = coroutine.create(function() return fn(unpack(args, 1, args.n)) end)
  tasks_by_co[task.co] = task
  step(task)
  return task
end

--- Suspend the current task until `arm(wake)` calls wake(...); returns what
--- wake was given.  arm may call wake at once.  Raises CancelledError if the
--- task is cancelled meanwhile.  `disarm` (optional) undoes arm on cancel.
---@param arm fun(wake: function)
---@param disarm function|nil
---@return any ...  what wake was given
function M.suspend(arm, disarm)
  local task = M.current()
  if not task then error("suspend outside a task", 2) end
  local ready
  local backend = loop.current()
  local woken = false
  local function wake(...)
    if woken then return end
    woken = true
    if task.suspended then
      local args = pack(...)
      backend.schedule(function() step(task, unpack(args, 1, args.n)) end)
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
  local backend = loop.current()
  if M.current() then
    local t = backend.timer()
    M.suspend(function(wake) t:start(ms, wake) end, function() t:close() end)
    t:close()
  else
    local done = false
    local t = backend.timer()
    t:start(ms, function() done = true end)
    backend.run_until(function() return done end)
    t:close()
  end
end

local function results(task)
  local res = task.result
  if task.status == "done" then return unpack(res, 2, res.n) end
  task.reported = true
  error(res[2], 0)
end

--- Wait for the task to end; return its results or raise its error
--- (CancelledError if it was cancelled).  Yields inside a task.
---   local a, b = task:wait()
---@return any ...  what the task's function returned
function Task:wait()
  if self.status == "running" then
    if M.current() == self then error("a task cannot wait for itself", 2) end
    if M.current() then
      M.suspend(function(wake) self.watchers[#self.watchers + 1] = wake end)
    else
      -- someone is waiting: a failure is raised here, not reported as unobserved
      self.watchers[#self.watchers + 1] = function() end
      loop.current().run_until(function() return self.status ~= "running" end)
    end
  end
  return results(self)
end

--- Cancel the task: a CancelledError is raised where it waits.  Returns true
--- if it was still running.
---@return boolean
function Task:cancel()
  if self.status ~= "running" then return false end
  self.cancel_requested = true
  if M.current() == self then errors.raise("CancelledError", "the task was cancelled") end
  if self.disarm then pcall(self.disarm) end
  if self.suspended then
    step(self, CANCEL)
  end
  return true
end

--- True once the task has ended (done, failed or cancelled).
---@return boolean
function Task:done()
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
  local task = M.spawn(fn, ...)
  if loop.current().name == "nvim" then return task end
  return task:wait()
end

M.Task = Task

return M
