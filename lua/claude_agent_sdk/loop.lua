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
--
-- Handles and a clean exit (luv).  libuv finishes closing a handle only when
-- the loop runs again; luv frees a handle's memory in the handle's __gc, and at
-- lua_close a handle still closing is freed before luv's own loop finalizer
-- runs the loop, which then touches freed memory (a segfault at exit, with
-- LuaJIT's unflushed stdout lost).  So the luv backend tracks the handles it
-- opened and the closes still pending, and:
--   * `settle()` runs `uv.run("nowait")` until our closes are done, but only
--     from plain script code: never inside a luv callback (uv_run is not
--     reentrant: uv.loop_mode() tells), never inside a task's coroutine, never
--     inside a finalizer.  run_until calls it when it returns; the async
--     runtime and the driver call it after a close from plain code (the end of
--     sleep/run/wait, cancel, disconnect).  A close made inside the loop
--     finishes in that same loop iteration.
--   * a finalizer sentinel, made anew each time a handle is opened (so it is
--     finalized before every handle of ours and before luv's loop, on Lua 5.4
--     and LuaJIT alike), runs at lua_close: it runs the deferred functions
--     still queued (reports of failed tasks), closes our open handles and runs
--     the loop "nowait" until those closes are done.  Handles of the host (its
--     own timers, ...) are never touched.
-- Neovim's loop is never run by us: it runs on its own.

local M = {}

local check = require("claude_agent_sdk.check")
local errors = require("claude_agent_sdk.errors")

-- luv runs every callback on the Lua thread that first required it.  If that
-- were a task's coroutine, callbacks would run on a suspended coroutine's
-- stack and crash the host, so luv is loaded here, when the SDK itself is
-- loaded (normally by the main chunk).  Inside Neovim vim.loop is used.
local preloaded_luv
if not (type(rawget(_G, "vim")) == "table" and (_G.vim.uv or _G.vim.loop)) then
  local ok, uv = pcall(require, "luv")
  if ok then
    preloaded_luv = uv
  end
end

local function pack(...)
  return { n = select("#", ...), ... }
end

-- >0 while a finalizer of ours runs (the loop is never run from there).
local finalizing = 0

--- An object that calls fn() once when it is collected (or at lua_close),
--- unless the returned disarm function was called first.  A userdata proxy on
--- LuaJIT (tables have no __gc there), a table on Lua 5.3+.  Keep the object
--- where its owner lives (e.g. a field of the owner); fn must not reference it.
---@param fn function
---@return any guard
---@return function disarm
function M.finalizer(fn)
  local armed = true
  local function gc()
    if not armed then
      return
    end
    armed = false
    finalizing = finalizing + 1
    -- an error must not escape: LuaJIT would rethrow it wherever the GC ran
    local ok, err = pcall(fn)
    finalizing = finalizing - 1
    if not ok then
      pcall(io.stderr.write, io.stderr, "claude_agent_sdk: finalizer failed: ", tostring(err), "\n")
    end
  end
  local obj
  if newproxy then
    obj = newproxy(true)
    getmetatable(obj).__gc = gc
  else
    obj = setmetatable({}, { __gc = gc })
  end
  return obj, function()
    armed = false
  end
end

-- Per luv module: the handles this library opened and has not closed
-- (owned), how many of its closes have not finished (closing), functions
-- deferred to the next turn of the loop, and the lua_close sentinel.
local trackers = setmetatable({}, { __mode = "k" })

local function tracker(uv)
  local tr = trackers[uv]
  if not tr then
    tr = { uv = uv, owned = {}, closing = 0, deferred = {}, defer_timer = nil, sentinel = nil, exited = false }
    trackers[uv] = tr
  end
  return tr
end

-- Is running the loop ourselves allowed here?  Not inside a luv callback
-- (uv_run is not reentrant), a coroutine (callbacks would run on the main
-- thread's stack under it) or a finalizer (it may run anywhere).  A luv
-- without loop_mode() cannot tell whether the host's uv.run is active: then
-- only the sentinel at lua_close runs it.
local function may_run(uv)
  if finalizing > 0 or not uv.loop_mode then
    return false
  end
  local co, main = coroutine.running()
  if co and not main then
    return false
  end
  return uv.loop_mode() == nil
end

-- Close one of our handles (once); the close callback counts it finished.
local function close_handle(tr, h)
  if not tr.owned[h] then
    return
  end
  tr.owned[h] = nil
  local ok, closing = pcall(h.is_closing, h)
  if not ok or closing then
    return
  end
  if tr.managed then
    tr.closing = tr.closing + 1
    pcall(h.stop, h)
    h:close(function()
      tr.closing = tr.closing - 1
    end)
  else
    pcall(h.stop, h)
    h:close()
  end
end

-- Run the loop without blocking until our pending closes are done.  At most
-- a few rounds: each round finishes every close made before it.
local function drain(tr)
  local uv = tr.uv
  local timer = tr.defer_timer
  -- deferred functions wait for a real turn of the loop, not this one
  if timer then
    timer:stop()
  end
  local rounds = 0
  while tr.closing > 0 and rounds < 16 do
    uv.run("nowait")
    rounds = rounds + 1
  end
  if timer and tr.defer_timer == timer then
    timer:start(0, 0, tr.run_deferred)
  end
end

-- Run the deferred functions queued so far; errors go to stderr.
local function run_deferred(tr)
  local timer = tr.defer_timer
  tr.defer_timer = nil
  if timer then
    close_handle(tr, timer)
  end
  local q = tr.deferred
  tr.deferred = {}
  for _, fn in ipairs(q) do
    local ok, err = pcall(fn)
    if not ok then
      pcall(io.stderr.write, io.stderr, "claude_agent_sdk: ", tostring(err), "\n")
    end
  end
end

-- lua_close (or a run of the collector that finds an older sentinel: then
-- nothing to do).  Deferred functions run, our handles close, and the loop
-- runs until the closes are done, before luv frees any of them.
local function at_exit(tr, self)
  if self ~= tr.sentinel or tr.exited then
    return
  end
  tr.exited = true
  run_deferred(tr)
  local list = {}
  for h in pairs(tr.owned) do
    list[#list + 1] = h
  end
  for _, h in ipairs(list) do
    pcall(close_handle, tr, h)
  end
  local uv = tr.uv
  if tr.closing > 0 and not (uv.loop_mode and uv.loop_mode() ~= nil) then
    local rounds = 0
    while tr.closing > 0 and rounds < 16 do
      uv.run("nowait")
      rounds = rounds + 1
    end
  end
end

-- A new sentinel, newer than every handle opened so far: finalizers run
-- newest first (Lua 5.4 and LuaJIT), so it runs before any of them.
local function refresh_sentinel(tr)
  if not tr.sentinel_gc then
    tr.sentinel_gc = function(self)
      finalizing = finalizing + 1
      local ok, err = pcall(at_exit, tr, self)
      finalizing = finalizing - 1
      if not ok then
        pcall(io.stderr.write, io.stderr, "claude_agent_sdk: at exit: ", tostring(err), "\n")
      end
    end
    if newproxy then
      tr.sentinel_proto = newproxy(true)
      getmetatable(tr.sentinel_proto).__gc = tr.sentinel_gc
    else
      tr.sentinel_mt = { __gc = tr.sentinel_gc }
    end
  end
  if tr.sentinel_proto then
    tr.sentinel = newproxy(tr.sentinel_proto)
  else
    tr.sentinel = setmetatable({}, tr.sentinel_mt)
  end
end

local function own(tr, h)
  tr.owned[h] = true
  if tr.managed then
    refresh_sentinel(tr)
  end
  return h
end

--- A backend over a luv-compatible module; `schedule` decides how callbacks
--- reach user code.  With a deferring schedule (Neovim), a poll watcher is
--- paused from the moment it fires until its deferred callback has run:
--- level-triggered polling would otherwise fire on every loop iteration and
--- queue the same work again and again.  The callback re-arms it (driver sync).
--- `managed`: the loop is ours to run (standalone luv), see the header.
local function uv_backend(uv, name, schedule, deferred, managed)
  local b = { name = name, uv = uv }
  local tr = tracker(uv)
  if managed then
    tr.managed = true
  end
  tr.run_deferred = tr.run_deferred or function()
    run_deferred(tr)
  end

  function b.now()
    uv.update_time()
    return uv.now()
  end

  function b.timer()
    local h = own(tr, uv.new_timer())
    local t = {}
    function t:start(ms, cb)
      h:stop()
      -- libuv counts from the time it cached when this loop iteration began;
      -- after a slow callback that is well in the past, and a sleep(1000)
      -- came back after 954 ms (seen under valgrind).  Count from now.
      uv.update_time()
      h:start(math.max(0, math.floor(ms)), 0, function()
        schedule(cb)
      end)
    end
    function t:stop()
      if tr.owned[h] then
        h:stop()
      end
    end
    function t:close()
      close_handle(tr, h)
    end
    return t
  end

  function b.poll(fd)
    local h = own(tr, uv.new_poll(fd))
    local p = { events = nil }
    function p:start(events, cb)
      if self.events == events then
        return
      end
      self.events = events
      h:start(events, function()
        if deferred then
          h:stop()
          p.events = nil
        end
        schedule(cb)
      end)
    end
    function p:stop()
      if tr.owned[h] then
        h:stop()
      end
      self.events = nil
    end
    function p:close()
      close_handle(tr, h)
      self.events = nil
    end
    return p
  end

  --- Finish the closes of our handles (luv: runs the loop "nowait" when
  --- allowed here, see the header; elsewhere nothing to do).
  function b.settle()
    if managed and tr.closing > 0 and may_run(uv) then
      drain(tr)
    end
  end

  --- Run fn on a later turn of the loop (luv: a 0 ms timer, closed when it
  --- has run; at lua_close the sentinel runs what is left).
  function b.defer(fn)
    if not managed then
      b.schedule(fn)
      return
    end
    tr.deferred[#tr.deferred + 1] = fn
    if not tr.defer_timer then
      local h = own(tr, uv.new_timer())
      tr.defer_timer = h
      h:start(0, 0, tr.run_deferred)
    end
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
---@field settle (fun())|nil  finish the closes of handles closed outside the loop, when that is allowed here
---@field defer (fun(fn: function))|nil  run fn on a later turn of the loop (or at exit)
---@field uv table|nil  the luv module of a luv or Neovim backend
---@field package timers table|nil
---@field package queue function[]|nil
---@field package pumps table|nil

--- The luv backend (standalone scripts).
---@param uv table|nil  the luv module (default require("luv"))
---@return ClaudeLoopBackend
function M.luv(uv)
  uv = uv or preloaded_luv or require("luv")
  local b = uv_backend(uv, "luv", function(fn)
    fn()
  end, false, true)
  function b.run_until(pred)
    if pred() then
      return b.settle()
    end
    if uv.loop_mode and uv.loop_mode() ~= nil then
      -- uv_run is not reentrant: waiting here would run the loop inside itself
      errors.raise(
        "ClaudeSDKError",
        "this call would block inside a callback of the running luv loop: "
          .. "call it from a task, e.g. claude.spawn(function() ... end)"
      )
    end
    while not pred() do
      -- "once" blocks until something happens; with nothing left to wait for
      -- it returns false, and pred must already hold or never will.
      if not uv.run("once") and not pred() then
        b.settle()
        errors.raise("ClaudeSDKError", "the event loop ran out of work before the task finished (a deadlock?)")
      end
    end
    b.settle()
  end
  return b
end

--- The Neovim backend: vim.uv / vim.loop, user code run via vim.schedule.
---@return ClaudeLoopBackend
function M.nvim()
  local vim = _G.vim
  local uv = vim.uv or vim.loop
  -- Neovim runs its loop on its own: we never run it (settle does nothing)
  local b = uv_backend(uv, "nvim", vim.schedule, true, false)
  function b.run_until(pred)
    while not pred() do
      vim.wait(1000, pred, 10)
    end
  end
  return b
end

--- The host backend: the host's frame loop drives everything through poll().
---@return ClaudeLoopBackend
function M.host()
  local core = require("claude_agent_sdk.core")
  local b = { name = "host", timers = {}, queue = {}, pumps = {} }

  function b.now()
    return core.now()
  end

  function b.timer()
    local t = {}
    function t:start(ms, cb)
      self.due, self.cb = core.now() + ms, cb
      b.timers[self] = true
    end
    function t:stop()
      b.timers[self] = nil
    end
    t.close = t.stop
    return t
  end

  -- The host polls the fds itself (or just pumps every frame): nothing to arm.
  function b.poll()
    return { start = function() end, stop = function() end, close = function() end }
  end

  function b.schedule(fn)
    b.queue[#b.queue + 1] = fn
  end
  b.defer = b.schedule
  function b.settle() end

  --- Run due timers and scheduled functions; pump registered drivers.
  --- Returns true if anything ran.
  function b.step()
    local ran = false
    for _, pump in pairs(b.pumps) do
      if pump() then
        ran = true
      end
    end
    local now = core.now()
    local due = {}
    for t in pairs(b.timers) do
      if t.due <= now then
        due[#due + 1] = t
      end
    end
    table.sort(due, function(x, y)
      return x.due < y.due
    end)
    for _, t in ipairs(due) do
      b.timers[t] = nil
      t.cb()
      ran = true
    end
    while #b.queue > 0 do
      local q = b.queue
      b.queue = {}
      for _, fn in ipairs(q) do
        fn()
      end
      ran = true
    end
    return ran
  end

  --- Milliseconds until the next timer is due (-1: none).
  function b.next_due()
    local best
    for t in pairs(b.timers) do
      if not best or t.due < best then
        best = t.due
      end
    end
    if #b.queue > 0 then
      return 0
    end
    if not best then
      return -1
    end
    return math.max(0, math.ceil(best - core.now()))
  end

  function b.run_until(pred)
    while not pred() do
      if not b.step() then
        local wait = b.next_due()
        if wait < 0 or wait > 10 then
          wait = 10
        end
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
  if current then
    return current
  end
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
  local expected = 'a luv module, "luv", "nvim", "host" or a backend table (timer, poll, schedule, now, run_until)'
  if what == "luv" then
    current = M.luv()
  elseif what == "nvim" then
    local vim = rawget(_G, "vim")
    if not (type(vim) == "table" and (vim.uv or vim.loop) and vim.schedule) then
      check.fail("claude.use_loop", "what", '"nvim" only inside Neovim (vim.uv or vim.loop)', what)
    end
    current = M.nvim()
  elseif what == "host" then
    current = M.host()
  elseif type(what) == "table" and type(what.new_timer) == "function" then
    current = M.luv(what)
  elseif type(what) == "table" and type(what.timer) == "function" and type(what.schedule) == "function" then
    current = what
  else
    check.fail("claude.use_loop", "what", expected, what)
  end
  return current
end

M.pack = pack

--- Track a luv handle made outside the backends (a session store's TCP
--- connection) like the backends' own: closed with them at lua_close, its
--- close finished by settle.  Returns h.
---@param uv table  the luv module it belongs to
---@param h userdata
---@return userdata
function M.own_handle(uv, h)
  local tr = tracker(uv)
  if uv == preloaded_luv then
    tr.managed = true -- standalone luv: the loop is ours to run at exit
  end
  return own(tr, h)
end

--- Close a handle given to own_handle (once; later calls do nothing).
---@param uv table
---@param h userdata
function M.close_handle(uv, h)
  close_handle(tracker(uv), h)
end

--- Tell the user something the library cannot raise (a task that failed
--- unobserved, a warning): vim.notify at `level` ("ERROR", "WARN") inside
--- Neovim, scheduled out of fast context; stderr elsewhere.
---@param text string
---@param level "ERROR"|"WARN"
function M.report(text, level)
  local vim = rawget(_G, "vim")
  if type(vim) == "table" and vim.notify and vim.schedule then
    local levels = vim.log and vim.log.levels or {}
    vim.schedule(function()
      vim.notify(text, levels[level] or (level == "ERROR" and 4 or 3))
    end)
  else
    io.stderr:write(text, "\n")
  end
end

return M
