--- Event-loop backends for the async runtime: luv, Neovim, or the host's own
--- frame loop.
--
-- A backend gives the runtime five things: `now()` in milliseconds, one-shot
-- `timer()`s, fd `poll()` watchers, `schedule(fn)` (run fn soon, where user
-- code may run: in Neovim that is outside the "fast" libuv callbacks) and
-- `run_until(pred)` (process events until pred() holds: only for a plain
-- script, never from inside a callback).
--
--   luv   standalone `require("luv")`: watchers are uv_poll/uv_timer handles.
--   nvim  `vim.uv` or `vim.loop`, callbacks moved out of fast context with
--         vim.schedule; run_until uses vim.wait, so the editor keeps running.
--   host  no event loop of ours: the host calls `client:pump(0)` (or
--         `claude.poll(0)`) each frame; timers and scheduled functions run
--         from there.  Nothing ever blocks.
--
-- The backend is picked at run time (Neovim first, then luv, then host) and
-- can be injected: `loop.use(uv_module)`, `loop.use("host")`, or a table
-- implementing the interface.
--
--   local backend = loop.current()
--   local t = backend.timer(); t:start(100, function() print("tick") end)

local M = {}

-- luv runs every callback on the Lua thread that first required it.  If that
-- were a task's coroutine, callbacks would run on a suspended coroutine's
-- stack and crash the host, so luv is loaded here, when the SDK itself is
-- loaded (normally by the main chunk).  Inside Neovim vim.loop is used.
local preloaded_luv
if not (type(rawget(_G, "vim")) == "table" and (_G.vim.uv or _G.vim.loop)) then
  local ok, uv = pcall(require, "luv")
  if ok then preloaded_luv = uv end
end

local function pack(...) return { n = select("#", ...), ... } end

--- A backend over a luv-compatible module; `schedule` decides how callbacks
--- reach user code.  With a deferring schedule (Neovim), a poll watcher is
--- paused from the moment it fires until its deferred callback has run:
--- level-triggered polling would otherwise fire on every loop iteration and
--- queue the same work again and again.  The callback re-arms it (driver sync).
local function uv_backend(uv, name, schedule, deferred)
  local b = { name = name, uv = uv }

  function b.now()
    uv.update_time()
    return uv.now()
  end

  function b.timer()
    local h = uv.new_timer()
    local t = {}
    function t:start(ms, cb)
      h:stop()
      -- libuv counts from the time it cached when this loop iteration began;
      -- after a slow callback that is well in the past, and a sleep(1000)
      -- came back after 954 ms (seen under valgrind).  Count from now.
      uv.update_time()
      h:start(math.max(0, math.floor(ms)), 0, function() schedule(cb) end)
    end
    function t:stop() if not h:is_closing() then h:stop() end end
    function t:close() if not h:is_closing() then h:stop(); h:close() end end
    return t
  end

  function b.poll(fd)
    local h = uv.new_poll(fd)
    local p = { events = nil }
    function p:start(events, cb)
      if self.events == events then return end
      self.events = events
      h:start(events, function()
        if deferred then
          h:stop()
          p.events = nil
        end
        schedule(cb)
      end)
    end
    function p:stop() if not h:is_closing() then h:stop() end; self.events = nil end
    function p:close() if not h:is_closing() then h:stop(); h:close() end end
    return p
  end

  b.schedule = schedule
  return b
end

--- A timer of a backend: one-shot; start again to re-arm.
---@class ClaudeLoopTimer
---@field start fun(self: ClaudeLoopTimer, ms: number, cb: function)
---@field stop fun(self: ClaudeLoopTimer)
---@field close fun(self: ClaudeLoopTimer)

--- A fd watcher of a backend; events as luv's uv_poll ("r", "w", "rw").
---@class ClaudeLoopPoll
---@field start fun(self: ClaudeLoopPoll, events: string, cb: function)
---@field stop fun(self: ClaudeLoopPoll)
---@field close fun(self: ClaudeLoopPoll)

--- An event-loop backend (see the header): what loop.current() returns and claude.use_loop accepts.
---@class ClaudeLoopBackend
---@field name string  "luv", "nvim", "host", or an injected backend's own
---@field now fun(): number  milliseconds
---@field timer fun(): ClaudeLoopTimer
---@field poll fun(fd: integer): ClaudeLoopPoll
---@field schedule fun(fn: function)  run fn soon, where user code may run
---@field run_until fun(pred: fun(): boolean)  process events until pred() holds (plain scripts only)
---@field step (fun(): boolean)|nil  host loop: run what is due; true if anything ran
---@field next_due (fun(): number)|nil  host loop: milliseconds until something is due (-1: nothing)
---@field uv table|nil  the luv module of a luv or Neovim backend
---@field package timers table|nil
---@field package queue function[]|nil
---@field package pumps table|nil

--- The luv backend (standalone scripts).
---@param uv table|nil  the luv module (default require("luv"))
---@return ClaudeLoopBackend
function M.luv(uv)
  uv = uv or preloaded_luv or require("luv")
  local b = uv_backend(uv, "luv", function(fn) fn() end)
  function b.run_until(pred)
    while not pred() do
      -- "once" blocks until something happens; with nothing left to wait for
      -- it returns false, and pred must already hold or never will.
      if not uv.run("once") and not pred() then
        error("the event loop ran out of work before the task finished (a deadlock?)", 0)
      end
    end
  end
  return b
end

--- The Neovim backend: vim.uv / vim.loop, user code run via vim.schedule.
---@return ClaudeLoopBackend
function M.nvim()
  local vim = _G.vim
  local uv = vim.uv or vim.loop
  local b = uv_backend(uv, "nvim", vim.schedule, true)
  function b.run_until(pred)
    while not pred() do vim.wait(1000, pred, 10) end
  end
  return b
end

--- The host backend: the host's frame loop drives everything through poll().
---@return ClaudeLoopBackend
function M.host()
  local core = require("claude_agent_sdk.core")
  local b = { name = "host", timers = {}, queue = {}, pumps = {} }

  function b.now() return core.now() end

  function b.timer()
    local t = {}
    function t:start(ms, cb)
      self.due, self.cb = core.now() + ms, cb
      b.timers[self] = true
    end
    function t:stop() b.timers[self] = nil end
    t.close = t.stop
    return t
  end

  -- The host polls the fds itself (or just pumps every frame): nothing to arm.
  function b.poll()
    return { start = function() end, stop = function() end, close = function() end }
  end

  function b.schedule(fn) b.queue[#b.queue + 1] = fn end

  --- Run due timers and scheduled functions; pump registered drivers.
  --- Returns true if anything ran.
  function b.step()
    local ran = false
    for _, pump in pairs(b.pumps) do
      if pump() then ran = true end
    end
    local now = core.now()
    local due = {}
    for t in pairs(b.timers) do
      if t.due <= now then due[#due + 1] = t end
    end
    table.sort(due, function(x, y) return x.due < y.due end)
    for _, t in ipairs(due) do
      b.timers[t] = nil
      t.cb()
      ran = true
    end
    while #b.queue > 0 do
      local q = b.queue
      b.queue = {}
      for _, fn in ipairs(q) do fn() end
      ran = true
    end
    return ran
  end

  --- Milliseconds until the next timer is due (-1: none).
  function b.next_due()
    local best
    for t in pairs(b.timers) do
      if not best or t.due < best then best = t.due end
    end
    if #b.queue > 0 then return 0 end
    if not best then return -1 end
    return math.max(0, math.ceil(best - core.now()))
  end

  function b.run_until(pred)
    while not pred() do
      if not b.step() then
        local wait = b.next_due()
        if wait < 0 or wait > 10 then wait = 10 end
        core.sleep(wait)
      end
    end
  end
  return b
end

local current

--- The backend in use, choosing one on first use.
---@return ClaudeLoopBackend
function M.current()
  if current then return current end
  local vim = rawget(_G, "vim")
  if type(vim) == "table" and (vim.uv or vim.loop) and vim.schedule then
    current = M.nvim()
  else
    current = preloaded_luv and M.luv(preloaded_luv) or M.host()
  end
  return current
end

--- Choose the backend: a luv-compatible module, "luv", "nvim", "host", or a
--- table implementing the interface.
---@param what table|string
---@return ClaudeLoopBackend
function M.use(what)
  if what == "luv" then current = M.luv()
  elseif what == "nvim" then current = M.nvim()
  elseif what == "host" then current = M.host()
  elseif type(what) == "table" and what.new_timer then current = M.luv(what)
  elseif type(what) == "table" and what.timer and what.schedule then current = what
  else error("loop.use: expected a luv module, \"luv\", \"nvim\", \"host\" or a backend table", 2) end
  return current
end

M.pack = pack

return M
