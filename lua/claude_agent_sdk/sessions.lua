--- Past sessions, read from the CLI's transcript files, like the Python SDK's
--- `list_sessions`, `get_session_info` and `get_session_messages`.
--
-- The CLI writes one JSON-lines transcript per session to
-- `<config>/projects/<sanitized cwd>/<session id>.jsonl`, where <config> is
-- $CLAUDE_CONFIG_DIR or ~/.claude, and <sanitized cwd> is the working
-- directory with every character other than [A-Za-z0-9] replaced by "-"
-- (past 200 characters: cut to 200, plus "-" and a hash).
--
-- Listing reads only the head and the tail (64 KiB each) of every file, and
-- takes the metadata from there as the Python SDK does: the title (custom
-- title, else AI title), the summary (title, else the last prompt, else a
-- `summary` entry, else the first prompt), the first meaningful prompt,
-- the git branch, the cwd, the tag and the creation time.  Sidechain
-- transcripts and files without any of those are skipped.  Reading a
-- session's messages parses the whole file and follows the `parentUuid`
-- links back from the newest main-chain leaf, so rewound or abandoned
-- branches are left out; it returns the visible user and assistant entries
-- (no meta, sidechain or team entries) oldest first.
--
-- Every function takes an options table.  `config_dir` overrides the config
-- directory (by default $CLAUDE_CONFIG_DIR, else $HOME/.claude): a process
-- cannot set its own environment from plain Lua, and a CLI started with
-- `env = { HOME = h }` writes under `h .. "/.claude"`.
--
-- Differences from the Python SDK: no Unicode NFC normalization of paths;
-- a path is made canonical lexically and, only when no project directory
-- matches it, with the shell's `pwd -P` (symlinks); timestamps without an
-- offset are read as UTC; git worktrees are found with `git worktree list`
-- through io.popen (pass `include_worktrees = false` to skip that process).
-- Nothing here blocks for long, but it is plain file I/O: in Neovim, call it
-- outside of hot paths.
--
--   local sessions = require("claude_agent_sdk.sessions")
--   for _, s in ipairs(sessions.list_sessions({ directory = "/path/to/project", limit = 10 })) do
--     print(s.session_id, os.date("%c", math.floor(s.last_modified / 1000)), s.summary)
--   end
--   for _, m in ipairs(sessions.get_session_messages(id, { directory = "/path/to/project" })) do
--     print(m.type, m.message.content)
--   end

local core = require("claude_agent_sdk.core")
local json = require("claude_agent_sdk.json")
local errors = require("claude_agent_sdk.errors")
local messages = require("claude_agent_sdk.messages")
local check = require("claude_agent_sdk.check")

local null = json.null
local M = {}

--- Bytes read from each end of a transcript for the listing.
M.LITE_READ_BUF_SIZE = 65536
--- Longest sanitized directory name before the hash suffix.
M.MAX_SANITIZED_LENGTH = 200

---@class SDKSessionInfo
---@field session_id string
---@field summary string            custom title, last prompt, summary or first prompt
---@field last_modified number      milliseconds since the epoch (file mtime)
---@field file_size number|nil      bytes
---@field custom_title string|nil   user-set title, else the AI-generated one
---@field first_prompt string|nil   first meaningful user prompt (200 characters at most)
---@field git_branch string|nil
---@field cwd string|nil
---@field tag string|nil
---@field created_at number|nil     milliseconds since the epoch (first timestamp in the file)

---@class SessionMessage
---@field type "user"|"assistant"
---@field uuid string
---@field session_id string
---@field message table             the raw API message (role, content, ...); JSON null stays claude.null
---@field parent_tool_use_id nil    always nil for a top-level session

-- Python-style truthiness of a decoded JSON value.
local function truthy(v)
  return v ~= nil and v ~= null and v ~= false and v ~= "" and v ~= 0
    and not (type(v) == "table" and next(v) == nil)
end

local function nonempty_string(v)
  if type(v) == "string" and v ~= "" then return v end
  return nil
end

---------------------------------------------------------------------------
-- Options

local function check_options(fname, opts, allowed)
  if opts == nil then return {} end
  if type(opts) ~= "table" then
    errors.raise("InvalidOptionError", fname .. ": options must be a table, got " .. type(opts))
  end
  for k, v in pairs(opts) do
    local want = allowed[k]
    if not want then
      errors.raise("InvalidOptionError", fname .. ": unknown option " .. tostring(k), { key = k })
    end
    if type(v) ~= want then
      errors.raise("InvalidOptionError",
        fname .. ": option " .. k .. " must be a " .. want .. ", got " .. type(v), { key = k })
    end
    -- counts are whole and finite; paths reach the OS, which stops at a NUL
    if want == "number" then check.number(fname, "opts." .. k, v, { integer = true, min = 0 }) end
    if want == "string" then check.string(fname, "opts." .. k, v, { path = true }) end
  end
  return opts
end

-- A session id must be a string; one that is not a UUID names no session
-- (nil / {} as in the Python SDK), and is never used in a path.
local function check_id(fname, session_id)
  check.string(fname, "session_id", session_id)
end

local function config_dir_of(opts)
  local dir = nonempty_string(opts.config_dir) or nonempty_string(os.getenv("CLAUDE_CONFIG_DIR"))
  if dir then return dir end
  local home = nonempty_string(os.getenv("HOME"))
  if not home then
    errors.raise("ClaudeSDKError", "cannot find the Claude config directory: set HOME or CLAUDE_CONFIG_DIR")
  end
  return home .. "/.claude"
end

local function projects_dir_of(opts) return config_dir_of(opts) .. "/projects" end

---------------------------------------------------------------------------
-- Paths

local UUID_PATTERN = "^" .. ("%x"):rep(8) .. "%-" .. ("%x"):rep(4) .. "%-" .. ("%x"):rep(4) .. "%-"
  .. ("%x"):rep(4) .. "%-" .. ("%x"):rep(12) .. "$"

--- True when s looks like a session id (a UUID).
---@param s any
---@return boolean
function M.is_uuid(s)
  return type(s) == "string" and s:find(UUID_PATTERN) ~= nil
end

-- The UTF-16 code units of a UTF-8 string, as the CLI (JavaScript) sees it.
-- Invalid bytes count as one unit each.
local function utf16_units(s)
  local units, n, i, len = {}, 0, 1, #s
  while i <= len do
    local c = s:byte(i)
    local cp, size = c, 1
    if c >= 0xF0 and c <= 0xF4 and i + 3 <= len then
      cp = (c - 0xF0) * 0x40000 + (s:byte(i + 1) - 0x80) * 0x1000 + (s:byte(i + 2) - 0x80) * 0x40
        + (s:byte(i + 3) - 0x80)
      size = 4
    elseif c >= 0xE0 and c <= 0xEF and i + 2 <= len then
      cp = (c - 0xE0) * 0x1000 + (s:byte(i + 1) - 0x80) * 0x40 + (s:byte(i + 2) - 0x80)
      size = 3
    elseif c >= 0xC2 and c <= 0xDF and i + 1 <= len then
      cp = (c - 0xC0) * 0x40 + (s:byte(i + 1) - 0x80)
      size = 2
    end
    if cp >= 0x10000 then
      local v = cp - 0x10000
      n = n + 1; units[n] = 0xD800 + math.floor(v / 0x400)
      n = n + 1; units[n] = 0xDC00 + v % 0x400
    else
      n = n + 1; units[n] = cp
    end
    i = i + size
  end
  return units
end

local DIGITS36 = "0123456789abcdefghijklmnopqrstuvwxyz"

--- The CLI's (JavaScript) 32-bit string hash in base 36: h = h*31 + unit,
--- wrapped to a signed 32-bit integer, then its absolute value.  Pure
--- arithmetic, so it gives the same answer on Lua 5.4 and LuaJIT.
---@param s string
---@return string
function M.simple_hash(s)
  check.string("sessions.simple_hash", "s", s)
  local h = 0 -- kept in [0, 2^32)
  for _, u in ipairs(utf16_units(s)) do
    h = (h * 31 + u) % 4294967296
  end
  if h >= 2147483648 then h = 4294967296 - h end -- |signed value|
  if h == 0 then return "0" end
  local out = {}
  while h > 0 do
    local d = h % 36
    out[#out + 1] = DIGITS36:sub(d + 1, d + 1)
    h = math.floor(h / 36)
  end
  return string.reverse(table.concat(out))
end

--- The project directory name the CLI uses for a working directory: every
--- UTF-16 unit other than [A-Za-z0-9] becomes "-"; past 200 units the name is
--- cut to 200 and gets "-" and simple_hash(path).  (The CLI built with Bun
--- hashes differently; lookups therefore accept any suffix after the cut.)
---@param path string
---@return string
function M.sanitize_path(path)
  check.string("sessions.sanitize_path", "path", path)
  local units = utf16_units(path)
  local max = M.MAX_SANITIZED_LENGTH
  local out = {}
  for i = 1, math.min(#units, max) do
    local u = units[i]
    if (u >= 48 and u <= 57) or (u >= 65 and u <= 90) or (u >= 97 and u <= 122) then
      out[i] = string.char(u)
    else
      out[i] = "-"
    end
  end
  local name = table.concat(out)
  if #units <= max then return name end
  return name .. "-" .. M.simple_hash(path)
end

local function is_dir(path)
  local st = core.stat(path)
  return st ~= nil and st.type == "directory"
end

-- Lexically canonical absolute path: no "//", ".", "..", or trailing "/".
local function normalize(path)
  local parts = {}
  for seg in path:gmatch("[^/]+") do
    if seg == ".." then
      if #parts > 0 then parts[#parts] = nil end
    elseif seg ~= "." then
      parts[#parts + 1] = seg
    end
  end
  return "/" .. table.concat(parts, "/")
end

local function shell_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- The physical path (symlinks resolved) from the shell, or nil.
local function physical_path(path)
  local p = io.popen("cd -- " .. shell_quote(path) .. " 2>/dev/null && pwd -P")
  if not p then return nil end
  local out = p:read("*a")
  p:close()
  out = out and out:gsub("\n$", "")
  if out == nil or out == "" or out:sub(1, 1) ~= "/" then return nil end
  return out
end

local function canonicalize(path)
  if path:sub(1, 1) == "/" then return normalize(path) end
  return physical_path(path) or normalize((os.getenv("PWD") or "") .. "/" .. path)
end

-- The project directory holding a working directory's sessions, or nil.
-- Long names match on their first 200 characters, whatever the hash.
local function find_project_dir(projects, path)
  local name = M.sanitize_path(path)
  local exact = projects .. "/" .. name
  if is_dir(exact) then return exact end
  local max = M.MAX_SANITIZED_LENGTH
  if #name <= max then return nil end
  local prefix = name:sub(1, max) .. "-"
  local names = core.listdir(projects)
  if not names then return nil end
  table.sort(names)
  for _, n in ipairs(names) do
    if n:sub(1, #prefix) == prefix and is_dir(projects .. "/" .. n) then return projects .. "/" .. n end
  end
  return nil
end

-- The canonical form of `directory` and its project directory (or nil).
-- Tries the physical path when the lexical one has no project directory.
local function resolve_project(projects, directory)
  local canonical = canonicalize(directory)
  local dir = find_project_dir(projects, canonical)
  if dir then return canonical, dir end
  local phys = physical_path(canonical)
  if phys and phys ~= canonical then
    dir = find_project_dir(projects, phys)
    if dir then return phys, dir end
  end
  return canonical, nil
end

-- The git worktree roots of the repository holding dir ({} when not in one).
local function worktree_paths(dir)
  local p = io.popen("git -C " .. shell_quote(dir) .. " worktree list --porcelain 2>/dev/null")
  if not p then return {} end
  local out = p:read("*a") or ""
  p:close()
  local paths = {}
  for line in out:gmatch("[^\n]+") do
    local wt = line:match("^worktree (.+)$")
    if wt then paths[#paths + 1] = wt end
  end
  return paths
end

local function subdirs(projects)
  local names = core.listdir(projects)
  if not names then return {} end
  table.sort(names)
  local out = {}
  for _, n in ipairs(names) do
    if is_dir(projects .. "/" .. n) then out[#out + 1] = n end
  end
  return out
end

---------------------------------------------------------------------------
-- Field extraction from raw JSON text (works on cut lines, no full parse)

local function unescape(raw)
  if not raw:find("\\", 1, true) then return raw end
  local ok, v = pcall(json.decode, '"' .. raw .. '"')
  if ok and type(v) == "string" then return v end
  return raw
end

-- The value of the string field starting after position `from` (just past
-- the opening quote), and the position of its closing quote; nil if cut.
local function scan_string(text, from)
  local i, len = from, #text
  while i <= len do
    local c = text:byte(i)
    if c == 92 then -- backslash
      i = i + 2
    elseif c == 34 then -- quote
      return unescape(text:sub(from, i - 1)), i
    else
      i = i + 1
    end
  end
  return nil, len
end

-- The first `"key":"value"` (or `"key": "value"`) string value in text.
local function first_string_field(text, key)
  for _, pattern in ipairs({ '"' .. key .. '":"', '"' .. key .. '": "' }) do
    local idx = text:find(pattern, 1, true)
    if idx then
      local v = scan_string(text, idx + #pattern)
      if v then return v end
    end
  end
  return nil
end

-- The last such value (a match of the spaced form wins over the compact one,
-- as in the Python SDK).
local function last_string_field(text, key)
  local last
  for _, pattern in ipairs({ '"' .. key .. '":"', '"' .. key .. '": "' }) do
    local from = 1
    while true do
      local idx = text:find(pattern, from, true)
      if not idx then break end
      local v, stop = scan_string(text, idx + #pattern)
      if v then last = v end
      from = stop + 1
    end
  end
  return last
end

local function is_space(b) return b == 32 or (b >= 9 and b <= 13) end

local function trim(s)
  local i = s:find("%S")
  if not i then return "" end
  local j = #s
  while j > i and is_space(s:byte(j)) do j = j - 1 end
  return s:sub(i, j)
end

-- At most `max` UTF-8 characters of s, right-trimmed, plus "…" when cut.
local function truncate_chars(s, max)
  local count, i, len = 0, 1, #s
  while i <= len do
    local c = s:byte(i)
    if c < 0x80 or c >= 0xC0 then
      count = count + 1
      if count > max then
        local cut = s:sub(1, i - 1)
        local j = #cut
        while j > 0 and is_space(cut:byte(j)) do j = j - 1 end
        return cut:sub(1, j) .. "\226\128\166"
      end
    end
    i = i + 1
  end
  return s
end

-- Prompts that the CLI or an IDE generated, not the user.
local function is_generated_prompt(s)
  for _, prefix in ipairs({ "<local-command-stdout>", "<session-start-hook>", "<tick>", "<goal>" }) do
    if s:sub(1, #prefix) == prefix then return true end
  end
  if s:find("^%[Request interrupted by user[^%]]*%]") then return true end
  if s:find("^%s*<ide_opened_file>.*</ide_opened_file>%s*$") then return true end
  if s:find("^%s*<ide_selection>.*</ide_selection>%s*$") then return true end
  return false
end

-- The first meaningful user prompt in the head of a transcript: no tool
-- results, meta or compact-summary entries, slash commands (the first one's
-- name is the fallback) or generated text; 200 characters at most.
local function first_prompt_of(head)
  local command_fallback
  for line in head:gmatch("[^\n]+") do
    if (line:find('"type":"user"', 1, true) or line:find('"type": "user"', 1, true))
      and not line:find('"tool_result"', 1, true)
      and not (line:find('"isMeta":true', 1, true) or line:find('"isMeta": true', 1, true))
      and not (line:find('"isCompactSummary":true', 1, true) or line:find('"isCompactSummary": true', 1, true))
    then
      local ok, entry = pcall(json.decode, line)
      if ok and type(entry) == "table" and entry.type == "user" and type(entry.message) == "table" then
        local content = entry.message.content
        local texts = {}
        if type(content) == "string" then
          texts[1] = content
        elseif type(content) == "table" then
          for _, b in ipairs(content) do
            if type(b) == "table" and b.type == "text" and type(b.text) == "string" then texts[#texts + 1] = b.text end
          end
        end
        for _, raw in ipairs(texts) do
          local text = trim((raw:gsub("\n", " ")))
          if text ~= "" then
            local command = text:match("<command%-name>(.-)</command%-name>")
            if command then
              command_fallback = command_fallback or command
            elseif not is_generated_prompt(text) then
              return truncate_chars(text, 200)
            end
          end
        end
      end
    end
  end
  return command_fallback
end

-- Days since 1970-01-01 of a proleptic Gregorian date.
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

--- Milliseconds since the epoch of an ISO 8601 timestamp
--- ("2026-01-02T03:04:05.678Z", an offset, or none = UTC), or nil.
---@param s string
---@return number|nil
function M.parse_timestamp(s)
  check.string("sessions.parse_timestamp", "s", s)
  local y, mo, d, rest = s:match("^(%d%d%d%d)-(%d%d)-(%d%d)(.*)$")
  if not y then return nil end
  local h, mi, sec, frac, tz = 0, 0, 0, "", ""
  if rest ~= "" then
    local hh, mm, tail = rest:match("^[T ](%d%d):(%d%d)(.*)$")
    if not hh then return nil end
    h, mi = tonumber(hh), tonumber(mm)
    local ss, tail2 = tail:match("^:(%d%d)(.*)$")
    if ss then sec, tail = tonumber(ss), tail2 end
    local f, tail3 = tail:match("^[.,](%d+)(.*)$")
    if f then frac, tail = f, tail3 end
    tz = tail
  end
  local offset = 0
  if tz ~= "" and tz ~= "Z" and tz ~= "z" then
    local sign, oh, om = tz:match("^([+-])(%d%d):?(%d%d)$")
    if not sign then return nil end
    offset = (tonumber(oh) * 60 + tonumber(om)) * 60000
    if sign == "-" then offset = -offset end
  end
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  if mo < 1 or mo > 12 or d < 1 or d > 31 or h > 23 or mi > 59 or sec > 60 then return nil end
  local ms = tonumber((frac .. "000"):sub(1, 3))
  local days = days_from_civil(y, mo, d)
  return ((days * 24 + h) * 60 + mi) * 60000 + sec * 1000 + ms - offset
end

---------------------------------------------------------------------------
-- Listing

-- { mtime, size, head, tail } of a transcript file, or nil when it is
-- unreadable or empty.
local function read_lite(path)
  local st = core.stat(path)
  if not st or st.type ~= "file" then return nil end
  local f = io.open(path, "rb")
  if not f then return nil end
  local buf = M.LITE_READ_BUF_SIZE
  local head = f:read(buf)
  if not head or head == "" then
    f:close()
    return nil
  end
  local size = f:seek("end") or #head
  local tail = head
  if size > buf then
    f:seek("set", size - buf)
    tail = f:read(buf) or ""
  end
  f:close()
  return { mtime = math.floor(st.mtime), size = math.floor(size), head = head, tail = tail }
end

-- SDKSessionInfo from a lite read, or nil for a sidechain transcript or one
-- with nothing to show as a summary.
local function info_from_lite(session_id, lite, project_path)
  local head, tail = lite.head, lite.tail
  local first_line = head:match("^[^\n]*")
  if first_line:find('"isSidechain":true', 1, true) or first_line:find('"isSidechain": true', 1, true) then
    return nil
  end
  local function pick(...)
    for i = 1, select("#", ...) do
      local v = nonempty_string((select(i, ...)))
      if v then return v end
    end
    return nil
  end
  local custom_title = pick(last_string_field(tail, "customTitle"), last_string_field(head, "customTitle"),
    last_string_field(tail, "aiTitle"), last_string_field(head, "aiTitle"))
  local first_prompt = nonempty_string(first_prompt_of(head))
  local summary = pick(custom_title, last_string_field(tail, "lastPrompt"), last_string_field(tail, "summary"),
    first_prompt)
  if not summary then return nil end

  local tag
  local lines = {}
  for line in tail:gmatch("[^\n]+") do lines[#lines + 1] = line end
  for i = #lines, 1, -1 do
    if lines[i]:sub(1, 13) == '{"type":"tag"' then
      tag = nonempty_string(last_string_field(lines[i], "tag"))
      break
    end
  end
  local created
  local ts = first_string_field(head, "timestamp")
  if ts then created = M.parse_timestamp(ts) end

  return setmetatable({
    session_id = session_id,
    summary = summary,
    last_modified = lite.mtime,
    file_size = lite.size,
    custom_title = custom_title,
    first_prompt = first_prompt,
    git_branch = pick(last_string_field(tail, "gitBranch"), first_string_field(head, "gitBranch")),
    cwd = pick(first_string_field(head, "cwd"), project_path),
    tag = tag,
    created_at = created,
  }, messages.SDKSessionInfo)
end

local function read_sessions_in(dir, project_path, out)
  local names = core.listdir(dir)
  if not names then return out end
  for _, name in ipairs(names) do
    local id = name:match("^(.*)%.jsonl$")
    if id and M.is_uuid(id) then
      local lite = read_lite(dir .. "/" .. name)
      local info = lite and info_from_lite(id, lite, project_path)
      if info then out[#out + 1] = info end
    end
  end
  return out
end

local function dedupe(list)
  local by_id, order = {}, {}
  for _, s in ipairs(list) do
    local old = by_id[s.session_id]
    if not old then order[#order + 1] = s.session_id end
    if not old or s.last_modified > old.last_modified then by_id[s.session_id] = s end
  end
  local out = {}
  for i, id in ipairs(order) do out[i] = by_id[id] end
  return out
end

local function sort_page(list, limit, offset)
  table.sort(list, function(a, b)
    if a.last_modified ~= b.last_modified then return a.last_modified > b.last_modified end
    return a.session_id < b.session_id
  end)
  offset = offset or 0
  local out = {}
  local first = (offset > 0 and offset or 0) + 1
  local last = #list
  if limit and limit > 0 then last = math.min(last, first + limit - 1) end
  for i = first, last do out[#out + 1] = list[i] end
  return out
end

local function list_for_project(projects, directory, limit, offset, include_worktrees)
  local canonical, project_dir = resolve_project(projects, directory)
  local worktrees = include_worktrees and worktree_paths(canonical) or {}
  if #worktrees <= 1 then
    if not project_dir then return {} end
    return sort_page(read_sessions_in(project_dir, canonical, {}), limit, offset)
  end
  -- Sessions of every worktree of the repository, the longest (most
  -- specific) prefix winning; short names must match exactly.
  local max = M.MAX_SANITIZED_LENGTH
  local indexed = {}
  for _, wt in ipairs(worktrees) do indexed[#indexed + 1] = { path = wt, prefix = M.sanitize_path(wt) } end
  table.sort(indexed, function(a, b) return #a.prefix > #b.prefix end)
  local all, seen = {}, {}
  if project_dir then
    seen[project_dir:match("[^/]+$")] = true
    read_sessions_in(project_dir, canonical, all)
  end
  for _, name in ipairs(subdirs(projects)) do
    if not seen[name] then
      for _, wt in ipairs(indexed) do
        if name == wt.prefix or (#wt.prefix >= max and name:sub(1, #wt.prefix + 1) == wt.prefix .. "-") then
          seen[name] = true
          read_sessions_in(projects .. "/" .. name, wt.path, all)
          break
        end
      end
    end
  end
  return sort_page(dedupe(all), limit, offset)
end

---@class ListSessionsOptions
---@field directory string|nil        a project directory; nil lists the sessions of every project
---@field limit integer|nil           at most this many (after offset)
---@field offset integer|nil          skip this many of the newest first
---@field include_worktrees boolean|nil  with directory: also the sessions of the repository's other git worktrees (default true)
---@field config_dir string|nil       the CLI's config directory (default $CLAUDE_CONFIG_DIR, else $HOME/.claude)

--- Sessions with their metadata, newest first.
---   sessions.list_sessions({ directory = "/my/project", limit = 20 })
---@param opts ListSessionsOptions|nil
---@return SDKSessionInfo[]
function M.list_sessions(opts)
  opts = check_options("list_sessions", opts, {
    directory = "string", limit = "number", offset = "number", include_worktrees = "boolean", config_dir = "string",
  })
  local projects = projects_dir_of(opts)
  local limit, offset = opts.limit, opts.offset or 0
  if opts.directory and opts.directory ~= "" then
    return list_for_project(projects, opts.directory, limit, offset, opts.include_worktrees ~= false)
  end
  local all = {}
  for _, name in ipairs(subdirs(projects)) do read_sessions_in(projects .. "/" .. name, nil, all) end
  return sort_page(dedupe(all), limit, offset)
end

-- Calls fn(project_dir, project_path) for each place a session of
-- `directory` may be (the project, then the other worktrees), or for every
-- project without a directory, until fn returns a value.
local function search_projects(opts, fn)
  local projects = projects_dir_of(opts)
  local directory = opts.directory
  if directory and directory ~= "" then
    local canonical, project_dir = resolve_project(projects, directory)
    if project_dir then
      local r = fn(project_dir, canonical)
      if r ~= nil then return r end
    end
    for _, wt in ipairs(worktree_paths(canonical)) do
      if wt ~= canonical then
        local wt_dir = find_project_dir(projects, wt)
        if wt_dir then
          local r = fn(wt_dir, wt)
          if r ~= nil then return r end
        end
      end
    end
    return nil
  end
  for _, name in ipairs(subdirs(projects)) do
    local r = fn(projects .. "/" .. name, nil)
    if r ~= nil then return r end
  end
  return nil
end

---@class SessionLookupOptions
---@field directory string|nil   the project directory; nil searches every project
---@field config_dir string|nil  as for list_sessions

--- One session's metadata, or nil when it is not found, is a sidechain, or
--- has nothing to show.
---   local info = sessions.get_session_info(id, { directory = "/my/project" })
---@param session_id string
---@param opts SessionLookupOptions|nil
---@return SDKSessionInfo|nil
function M.get_session_info(session_id, opts)
  check_id("get_session_info", session_id)
  opts = check_options("get_session_info", opts, { directory = "string", config_dir = "string" })
  if not M.is_uuid(session_id) then return nil end
  local file = "/" .. session_id .. ".jsonl"
  local found = search_projects(opts, function(dir, project_path)
    local lite = read_lite(dir .. file)
    if lite then return { info_from_lite(session_id, lite, project_path) } end
    return nil
  end)
  return found and found[1] or nil
end

---------------------------------------------------------------------------
-- Messages

-- Entry types linked by uuid/parentUuid.
local CHAIN_TYPES = { user = true, assistant = true, progress = true, system = true, attachment = true }

local function parent_of(entry)
  local p = entry.parentUuid
  if type(p) == "string" and p ~= "" then return p end
  return nil
end

local function parse_entries(content)
  local entries = {}
  for line in content:gmatch("[^\n]+") do
    if line:find("%S") then
      local ok, e = pcall(json.decode, line)
      if ok and type(e) == "table" and CHAIN_TYPES[e.type] and type(e.uuid) == "string" then
        entries[#entries + 1] = e
      end
    end
  end
  return entries
end

-- The conversation, oldest first: from the newest main-chain leaf (a
-- user/assistant entry that nothing continues, not sidechain, team or meta)
-- back along parentUuid.  logicalParentUuid (compaction) is not followed:
-- the compact summary stands for what came before.
local function build_chain(entries)
  if #entries == 0 then return {} end
  local by_uuid, position, parents = {}, {}, {}
  for i, e in ipairs(entries) do
    by_uuid[e.uuid] = e
    position[e.uuid] = i
    local p = parent_of(e)
    if p then parents[p] = true end
  end
  local leaves = {}
  for _, e in ipairs(entries) do
    if not parents[e.uuid] then
      local cur, seen = e, {}
      while cur and not seen[cur.uuid] do
        seen[cur.uuid] = true
        if cur.type == "user" or cur.type == "assistant" then
          leaves[#leaves + 1] = cur
          break
        end
        local p = parent_of(cur)
        cur = p and by_uuid[p]
      end
    end
  end
  if #leaves == 0 then return {} end
  local function newest(list)
    local best = list[1]
    for i = 2, #list do
      if position[list[i].uuid] > position[best.uuid] then best = list[i] end
    end
    return best
  end
  local main = {}
  for _, l in ipairs(leaves) do
    if not truthy(l.isSidechain) and not truthy(l.teamName) and not truthy(l.isMeta) then main[#main + 1] = l end
  end
  local leaf = newest(#main > 0 and main or leaves)
  local chain, seen = {}, {}
  local cur = leaf
  while cur and not seen[cur.uuid] do
    seen[cur.uuid] = true
    chain[#chain + 1] = cur
    local p = parent_of(cur)
    cur = p and by_uuid[p]
  end
  local n = #chain
  for i = 1, math.floor(n / 2) do chain[i], chain[n + 1 - i] = chain[n + 1 - i], chain[i] end
  return chain
end

local function visible(e)
  if e.type ~= "user" and e.type ~= "assistant" then return false end
  -- compact summaries stay: they are all that is left of compacted turns
  return not truthy(e.isMeta) and not truthy(e.isSidechain) and not truthy(e.teamName)
end

---@class SessionMessagesOptions
---@field directory string|nil   the project directory; nil searches every project
---@field limit integer|nil      at most this many (after offset)
---@field offset integer|nil     skip this many from the start
---@field config_dir string|nil  as for list_sessions

--- A session's user and assistant messages, oldest first; {} when the
--- session is not found.
---   for _, m in ipairs(sessions.get_session_messages(id, { directory = cwd })) do print(m.type) end
---@param session_id string
---@param opts SessionMessagesOptions|nil
---@return SessionMessage[]
function M.get_session_messages(session_id, opts)
  check_id("get_session_messages", session_id)
  opts = check_options("get_session_messages", opts, {
    directory = "string", limit = "number", offset = "number", config_dir = "string",
  })
  if not M.is_uuid(session_id) then return {} end
  local file = "/" .. session_id .. ".jsonl"
  local content = search_projects(opts, function(dir)
    local st = core.stat(dir .. file)
    if not st or st.type ~= "file" then return nil end
    local f = io.open(dir .. file, "rb")
    if not f then return nil end
    local text = f:read("*a")
    f:close()
    if text and text ~= "" then return text end
    return nil
  end)
  if not content then return {} end
  local out = {}
  for _, e in ipairs(build_chain(parse_entries(content))) do
    if visible(e) then
      out[#out + 1] = setmetatable({
        type = e.type,
        uuid = e.uuid,
        session_id = nonempty_string(e.sessionId) or "",
        message = e.message ~= null and e.message or nil,
      }, messages.SessionMessage)
    end
  end
  local offset = opts.offset or 0
  if offset < 0 then offset = 0 end
  local limit = opts.limit
  if (limit and limit > 0) or offset > 0 then
    local page = {}
    local last = #out
    if limit and limit > 0 then last = math.min(last, offset + limit) end
    for i = offset + 1, last do page[#page + 1] = out[i] end
    return page
  end
  return out
end

return M
