--- The CLI's newer control requests as typed client methods (issue 15).
--
-- Each entry names a method, the request's subtype, its arguments (how each
-- is checked and which wire field it fills) and the first CLI version known
-- to answer it.  Methods are made from this table (client.lua), so the
-- checks, the docs and the misuse spec all read one list.  A method whose
-- CLI is known to be older than `since` raises a ControlError without
-- sending anything: a feature is chosen by version, never by trial (2.1.197
-- even stops answering altogether after some malformed requests).  The
-- answer is returned as the CLI gives it.
--
-- The list is what 2.1.332 answers when asked (see PROTOCOL.md §8); anything
-- else is still reachable with client:control(subtype, fields).
--
--   local models = client:list_models().models

local M = {}

--- One argument: its name, how it is checked, and the wire field it fills.
---@alias ClaudeRequestArg {[1]: string, [2]: "name"|"text"|"table"|"bool"|"name?"|"fields?", [3]: string|nil}

---@class ClaudeRequestSpec
---@field method string
---@field subtype string
---@field args ClaudeRequestArg[]
---@field since string|nil  the first CLI version known to answer it
---@field doc string

M.list = {
  {
    method = "list_models",
    subtype = "list_models",
    args = {},
    since = "2.1.332",
    doc = "the models the CLI offers: { models = { {value, displayName, ...} } }",
  },
  {
    method = "get_settings",
    subtype = "get_settings",
    args = {},
    doc = "the settings in effect: { effective, sources, applied }",
  },
  {
    method = "apply_flag_settings",
    subtype = "apply_flag_settings",
    args = { { "settings", "table", "settings" } },
    doc = "apply settings as if given with --settings, for this session",
  },
  {
    method = "get_task_output",
    subtype = "get_task_output",
    args = { { "task_id", "name", "task_id" } },
    since = "2.1.332",
    doc = "the output so far of a background shell or Monitor task",
  },
  {
    method = "get_usage",
    subtype = "get_usage",
    args = {},
    doc = "the session's usage: { session = {...}, rate_limits, ... }",
  },
  {
    method = "get_session_cost",
    subtype = "get_session_cost",
    args = {},
    doc = "the cost summary as text: { text = ... }",
  },
  {
    method = "reload_plugins",
    subtype = "reload_plugins",
    args = { { "fields", "fields?" } },
    doc = "reload plugins; fields (optional): refuse_if_busy, add_plugins, ...",
  },
  { method = "reload_skills", subtype = "reload_skills", args = {}, doc = "reload skills: { skills = ... }" },
  {
    method = "background_tasks",
    subtype = "background_tasks",
    args = { { "tool_use_id", "name?", "tool_use_id" } },
    doc = "move the running tool (or the one of tool_use_id) to the background",
  },
  {
    method = "cancel_async_message",
    subtype = "cancel_async_message",
    args = { { "message_uuid", "name", "message_uuid" } },
    doc = "drop a queued user message by its uuid: { cancelled = bool }",
  },
  {
    method = "mcp_set_servers",
    subtype = "mcp_set_servers",
    args = { { "servers", "table", "servers" } },
    doc = "replace the session's MCP servers: { added, removed, errors }",
  },
  {
    method = "rename_session",
    subtype = "rename_session",
    args = { { "title", "text", "title" } },
    doc = "set the session's title",
  },
  {
    method = "get_binary_version",
    subtype = "get_binary_version",
    args = {},
    doc = "the CLI's version and build time: { version, buildTime }",
  },
  {
    method = "file_suggestions",
    subtype = "file_suggestions",
    args = { { "query", "text", "query" } },
    doc = "file paths matching a query: { suggestions }",
  },
  {
    method = "reload_output_styles",
    subtype = "reload_output_styles",
    args = {},
    since = "2.1.332",
    doc = "reload output styles: { available_output_styles }",
  },
  {
    method = "get_hooks_listing",
    subtype = "get_hooks_listing",
    args = {},
    since = "2.1.332",
    doc = "the hooks configured for the session and the events the CLI knows",
  },
  {
    method = "list_permission_rules",
    subtype = "list_permission_rules",
    args = {},
    since = "2.1.332",
    doc = "the permission rules in effect: { state = {...} }",
  },
  {
    method = "update_settings",
    subtype = "update_settings",
    args = { { "source", "name", "source" }, { "settings", "table", "settings" } },
    since = "2.1.332",
    doc = "write settings to a source (userSettings, projectSettings, localSettings)",
  },
  {
    method = "set_has_subscribers",
    subtype = "set_has_subscribers",
    args = { { "has_subscribers", "bool", "has_subscribers" } },
    since = "2.1.332",
    doc = "tell the CLI whether anyone watches the session",
  },
  {
    method = "mcp_read_resource",
    subtype = "mcp_read_resource",
    args = { { "server_name", "name", "serverName" }, { "uri", "text", "uri" } },
    since = "2.1.332",
    doc = "read a resource of an MCP server",
  },
}

return M
