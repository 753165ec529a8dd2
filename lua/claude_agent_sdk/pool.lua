--- A spare pool: `size` parked CLIs kept ready, each claimed one replaced at
--- once, and a cold start whenever no spare can serve (none ready, or the
--- CLI refused the claim), so the caller never handles the fallback.
--
-- A replacement is started without waiting (warm.start_spare: spawn and
-- write initialize), so it starts up in the background in every mode: the
-- CLI is a process of its own.  Under luv or Neovim the loop reads its
-- initialize answer and serves its callbacks as they come; in a plain script
-- or a host loop that happens when it is claimed (or on claude.poll()).  The
-- pool arms no timer: an idle pool wakes nobody.  Dead spares are found and
-- replaced when the pool is next used.
--
--   local pool = claude.pool({ size = 2, options = { allowed_tools = { "Read" } } })
--   local client, info = pool:client({ cwd = folder })   -- info.warm: a spare served it
--   ...
--   pool:close()

local errors = require("claude_agent_sdk.errors")
local check = require("claude_agent_sdk.check")
local loop = require("claude_agent_sdk.loop")
local driver = require("claude_agent_sdk.driver")
local warm = require("claude_agent_sdk.warm")
local Client = require("claude_agent_sdk.client")

local M = {}

local MAX_SIZE = 64

---@class ClaudeSparePool
---@field size integer
---@field options table  the host-level options every spare starts with
local Pool = {}
Pool.__index = Pool
Pool.__name = "ClaudeSparePool"

function Pool:__tostring()
  return ("ClaudeSparePool(size %d, %d parked%s)"):format(self.size, #self._spares, self._closed and ", closed" or "")
end

local function check_pool(self, method)
  if getmetatable(self) ~= Pool then
    check.fail("pool:" .. method, "self", "a pool (call it as pool:" .. method .. "(...))", self)
  end
end

-- Start one spare without waiting; under a loop, let the loop read its
-- answers meanwhile.  A spare that cannot even start is remembered as the
-- pool's last error and not retried until the pool is next used.
function Pool:_add()
  local ok, spare = pcall(warm.start_spare, self.options)
  if not ok then
    self.last_error = spare
    return false
  end
  if loop.current().name ~= "host" then
    driver.attach(spare._client)
  end
  self._spares[#self._spares + 1] = spare
  return true
end

-- Drop dead spares and start as many as the pool lacks (one failure stops
-- the round: the next use tries again).
function Pool:_fill()
  local live = {}
  for _, spare in ipairs(self._spares) do
    if spare:alive() then
      live[#live + 1] = spare
    else
      spare:close()
    end
  end
  self._spares = live
  while not self._closed and #self._spares < self.size do
    if not self:_add() then
      break
    end
  end
end

--- Keep `size` spares ready (see claude.prewarm for what they need and what
--- is fixed at start).  `options` are the host-level options of every
--- session it serves; pool:client() adds the session's own.  Starts them at
--- once without waiting for any.
---   local pool = claude.pool({ size = 1, options = { cli_path = path } })
---@param opts {size: integer|nil, options: table|nil}
---@return ClaudeSparePool
function M.pool(opts)
  local fn = "claude.pool"
  check.type(fn, "opts", opts, "table")
  for k in pairs(opts) do
    if k ~= "size" and k ~= "options" then
      check.fail(fn, "opts." .. tostring(k), "size or options", opts[k])
    end
  end
  check.number(fn, "opts.size", opts.size, { optional = true, integer = true, min = 1, max = MAX_SIZE })
  check.type(fn, "opts.options", opts.options, "table", true)
  -- the options are checked once here (a spare's own check would only say so later)
  Client.new(opts.options)
  local self = setmetatable({
    size = opts.size or 1,
    options = opts.options or {},
    _spares = {},
    _closed = false,
  }, Pool)
  self:_fill()
  if #self._spares == 0 and self.last_error then
    error(self.last_error, 0)
  end
  return self
end

-- Client options for a cold start of the session a claim describes.
local function cold_options(base, o)
  local out = {}
  for k, v in pairs(base) do
    out[k] = v
  end
  for _, key in ipairs({ "cwd", "model", "permission_mode", "max_thinking_tokens" }) do
    if o[key] ~= nil then
      out[key] = o[key]
    end
  end
  local function merged(a, b)
    local t = {}
    for k, v in pairs(a or {}) do
      t[k] = v
    end
    for k, v in pairs(b or {}) do
      t[k] = v
    end
    return t
  end
  if o.add_dirs then
    local dirs = {}
    for _, d in ipairs(base.add_dirs or {}) do
      dirs[#dirs + 1] = d
    end
    for _, d in ipairs(o.add_dirs) do
      dirs[#dirs + 1] = d
    end
    out.add_dirs = dirs
  end
  if o.env then
    out.env = merged(base.env, o.env)
  end
  if o.agents then
    out.agents = merged(base.agents, o.agents)
  end
  if o.settings then
    if base.settings ~= nil and type(base.settings) ~= "table" then
      errors.raise(
        "InvalidOptionError",
        "pool:client: opts.settings cannot be added to the pool's settings given as a path or JSON text",
        { option = "settings" }
      )
    end
    out.settings = merged(base.settings, o.settings)
  end
  if o.append_system_prompt then
    local sp = base.system_prompt
    if sp == nil then
      out.system_prompt = { type = "preset", preset = "claude_code", append = o.append_system_prompt }
    elseif type(sp) == "table" and sp.type == "preset" then
      out.system_prompt = {
        type = "preset",
        preset = "claude_code",
        append = (sp.append and sp.append .. "\n\n" or "") .. o.append_system_prompt,
      }
    else
      out.system_prompt = sp .. "\n\n" .. o.append_system_prompt
    end
  end
  return out
end

--- A connected client for the session `opts` describes (spare:claim's
--- options: cwd required, model, permission_mode, ...): a ready spare
--- claimed, or a cold start when none is ready or the CLI refused the claim
--- (info.refused holds its ClaimError).  A claimed spare is replaced at once.
--- info.warm says which; info.session_id, parked_ms and not_applied as for
--- spare:claim.  Yields inside a task, blocks otherwise.
---   local client, info = pool:client({ cwd = folder, model = "claude-sonnet-4-5" })
---@param opts table
---@return ClaudeSDKClient client
---@return table info
function Pool:client(opts)
  check_pool(self, "client")
  warm.check_claim("pool:client", opts)
  if self._closed then
    errors.raise("ClaimError", "this pool was closed: make a new one, or start the session with a client", {
      reason = "pool_closed",
    })
  end
  local cold = cold_options(self.options, opts)
  self:_fill()
  local refused
  local spare = table.remove(self._spares, 1)
  if spare then
    self:_fill() -- its replacement starts now, before the claim's round trips
    local ok, client, info = pcall(spare.claim, spare, opts)
    if ok then
      info.warm = true
      return client, info
    end
    if not errors.is(client, "ClaimError") then
      error(client, 0)
    end
    -- A folder refused once would be refused by the next spare too: cold.
    refused = client
  end
  local client = Client.new(cold)
  client:connect()
  return client, { warm = false, refused = refused, cwd = cold.cwd }
end

--- How many spares are parked and alive now (started, maybe not yet
--- answered).
---@return integer
function Pool:ready()
  check_pool(self, "ready")
  local n = 0
  for _, spare in ipairs(self._spares) do
    if spare:alive() then
      n = n + 1
    end
  end
  return n
end

--- The process ids of the parked spares (for a host's own bookkeeping).
---@return integer[]
function Pool:pids()
  check_pool(self, "pids")
  local list = {}
  for _, spare in ipairs(self._spares) do
    list[#list + 1] = spare:pid()
  end
  return list
end

--- End every parked spare (their CLIs exit, their parking folders go) and
--- refuse later pool:client() calls.  Clients already handed out are the
--- caller's.  Idempotent.
function Pool:close()
  check_pool(self, "close")
  self._closed = true
  local spares = self._spares
  self._spares = {}
  for _, spare in ipairs(spares) do
    spare:close()
  end
end

M.Pool = Pool
return M
