---@meta
--- LuaCATS shapes of the messages and content blocks (DESIGN.md §4), for lua-language-server and other
--- LuaCATS-aware editors.  messages.lua builds these classes at run time with `class(name, parent, fields)`,
--- which no type checker can follow, so their fields are declared here, as luv and Neovim ship their types.
--- This file is never needed at run time: requiring it returns an empty table.
---
--- Class names are the runtime names: `claude.AssistantMessage` is the metatable of every AssistantMessage,
--- `tostring(msg)` starts with "AssistantMessage(", and `claude.isinstance(msg, claude.AssistantMessage)`
--- holds.  Parents follow the runtime `__parent` links, so `: SystemMessage` means isinstance holds for
--- SystemMessage too.  spec/types_spec.lua checks that every class of messages.lua is declared with every
--- field of its list, and the parent it has at run time.  Two more message classes, SDKSessionInfo and
--- SessionMessage (read from transcripts), are declared in sessions.lua.  JSON null is absent (nil) in
--- typed fields; inside raw tables (`data`, `event`, tool inputs) it stays `claude.null`.
---
---   for msg in client:receive_response() do
---     ---@cast msg AnyMessage
---     if msg.type == "assistant" then
---       for _, block in ipairs(msg.content) do if block.type == "text" then io.write(block.text) end end
---     end
---   end

---------------------------------------------------------------------------
-- Content blocks

--- Any content block: the four typed ones, or an unknown block type passed through raw.
---@alias AnyContentBlock TextBlock|ThinkingBlock|ToolUseBlock|ToolResultBlock|ServerToolUseBlock|ServerToolResultBlock|ContentBlock

--- A text block.
---@class TextBlock
---@field type "text"
---@field text string

--- The model's visible reasoning.
---@class ThinkingBlock
---@field type "thinking"
---@field thinking string
---@field signature string           verifies the block when it is sent back

--- The model asks to run a tool.
---@class ToolUseBlock
---@field type "tool_use"
---@field id string                  the tool_use id (ToolResultBlock.tool_use_id answers it)
---@field name string                the tool's name, e.g. "Bash" or "mcp__calc__add"
---@field input table<string, any>   the arguments; JSON arrays carry claude.array_mt, null is claude.null

--- A tool's output, sent back in a user message.
---@class ToolResultBlock
---@field type "tool_result"
---@field tool_use_id string
---@field content string|table[]|nil  text, or content blocks (text, image, ...)
---@field is_error boolean|nil

--- The model calls a server-side tool (web search, web fetch, the advisor, code execution): the API runs it.
---@class ServerToolUseBlock
---@field type "server_tool_use"
---@field id string
---@field name string                e.g. "web_search", "advisor"
---@field input table<string, any>

--- The result of a server-side tool call (the advisor's): `content` is the API's raw result object.
---@class ServerToolResultBlock
---@field type "advisor_tool_result"
---@field tool_use_id string
---@field content table

--- A block of a type this SDK does not know (web_search_tool_result, image, ...): its raw
--- fields as sent.
---@class ContentBlock
---@field type string
---@field [string] any

---------------------------------------------------------------------------
-- Messages

--- Every message claude.query and the receive iterators yield: the Python SDK's Message union, plus Message
--- (other top-level frame types) and its subclasses.
---@alias AnyMessage UserMessage|AssistantMessage|SystemMessage|ResultMessage|StreamEvent|Message

--- Why an assistant message failed, as the CLI reports it.
---@alias AssistantMessageError
---| "authentication_failed"
---| "billing_error"
---| "rate_limit"
---| "invalid_request"
---| "server_error"
---| "unknown"
---| string

--- A user turn: a prompt, or tool results going back to the model.
---@class UserMessage
---@field type "user"
---@field content string|AnyContentBlock[]
---@field uuid string|nil                  with extra_args["replay-user-messages"]: what rewind_files takes
---@field parent_tool_use_id string|nil    set inside a subagent: its Task tool call
---@field tool_use_result table|nil        the tool's structured result, when this message carries one
---@field session_id string|nil

--- A reply of the model.
---@class AssistantMessage
---@field type "assistant"
---@field content AnyContentBlock[]
---@field model string
---@field parent_tool_use_id string|nil    set inside a subagent: its Task tool call
---@field error AssistantMessageError|nil
---@field stop_reason string|nil           "end_turn", "tool_use", "max_tokens", ... (nil while streaming)
---@field message_id string|nil            the API message id (several frames may share it)
---@field usage table|nil                  the API's token usage (input_tokens, output_tokens, ...)
---@field session_id string|nil
---@field uuid string|nil

--- A system frame.  Known subtypes are the subclasses below, with the frame's fields also at top level; any
--- other subtype is a plain SystemMessage with just `subtype` and `data`.
---@class SystemMessage
---@field type "system"
---@field subtype string
---@field data table<string, any>          the whole raw frame

--- The token usage of a background task.
---@class TaskUsage
---@field total_tokens integer
---@field tool_uses integer
---@field duration_ms integer

--- A background task (subagent, shell, workflow) started.
---@class TaskStartedMessage : SystemMessage
---@field subtype "task_started"
---@field task_id string                   what client:stop_task takes
---@field description string
---@field task_type string|nil             "local_agent", "local_bash", "local_workflow", ...
---@field tool_use_id string|nil
---@field subagent_type string|nil
---@field prompt string|nil
---@field run_id string|nil
---@field session_id string|nil
---@field uuid string|nil

--- Progress of a background task.
---@class TaskProgressMessage : SystemMessage
---@field subtype "task_progress"
---@field task_id string
---@field description string
---@field usage TaskUsage|nil
---@field last_tool_name string|nil
---@field tool_use_id string|nil
---@field session_id string|nil
---@field uuid string|nil

--- A background task ended.
---@class TaskNotificationMessage : SystemMessage
---@field subtype "task_notification"
---@field task_id string
---@field status "completed"|"failed"|"stopped"|string
---@field summary string
---@field output_file string
---@field usage TaskUsage|nil
---@field tool_use_id string|nil
---@field session_id string|nil
---@field uuid string|nil

--- A change to a background task's state.
---@class TaskUpdatedMessage : SystemMessage
---@field subtype "task_updated"
---@field task_id string
---@field status string|nil                patch.status ("running", "completed", "failed", ...), if any
---@field patch table                      the change as sent: status?, end_time?, error?, is_backgrounded?
---@field session_id string|nil
---@field uuid string|nil

--- A settings/command hook ran (with include_hook_events); the subclasses are per subtype.
---@class HookEventMessage : SystemMessage
---@field subtype "hook_started"|"hook_response"|"hook_progress"
---@field hook_event_name string           e.g. "PreToolUse"
---@field hook_event string|nil            as sent
---@field hook_id string
---@field hook_name string                 e.g. "PreToolUse:Bash"
---@field session_id string|nil
---@field uuid string|nil

--- A hook started.
---@class HookStartedMessage : HookEventMessage
---@field subtype "hook_started"
---@field hook_event_name string
---@field hook_id string
---@field hook_name string
---@field session_id string|nil
---@field uuid string|nil

--- A hook finished.
---@class HookResponseMessage : HookEventMessage
---@field subtype "hook_response"
---@field hook_event_name string
---@field hook_id string
---@field hook_name string
---@field outcome "success"|"error"|"cancelled"|string
---@field exit_code integer|nil
---@field output string|nil
---@field stdout string|nil
---@field stderr string|nil
---@field session_id string|nil
---@field uuid string|nil

--- Output of a running hook.
---@class HookProgressMessage : HookEventMessage
---@field subtype "hook_progress"
---@field hook_event_name string
---@field hook_id string
---@field hook_name string
---@field output string|nil
---@field stdout string|nil
---@field stderr string|nil
---@field session_id string|nil
---@field uuid string|nil

--- The session's status changed (a request started, compaction, the permission mode).
---@class StatusMessage : SystemMessage
---@field subtype "status"
---@field status "requesting"|"compacting"|string|nil
---@field permission_mode string|nil       from the frame's permissionMode
---@field permissionMode string|nil        as sent
---@field compact_result any
---@field session_id string|nil
---@field uuid string|nil

--- A notice for the user (e.g. a prompt a hook blocked).
---@class InformationalMessage : SystemMessage
---@field subtype "informational"
---@field level "info"|"notice"|"suggestion"|"warning"|string
---@field content string
---@field prevent_continuation boolean|nil
---@field tool_use_id string|nil
---@field session_id string|nil
---@field uuid string|nil

--- An estimate of the thinking tokens so far (with include_partial_messages).
---@class ThinkingTokensMessage : SystemMessage
---@field subtype "thinking_tokens"
---@field estimated_tokens integer
---@field estimated_tokens_delta integer
---@field session_id string|nil
---@field uuid string|nil

--- The slash commands changed: the whole new list.
---@class CommandsChangedMessage : SystemMessage
---@field subtype "commands_changed"
---@field commands table[]
---@field session_id string|nil
---@field uuid string|nil

--- The session's state ("idle" is the authoritative "all done").
---@class SessionStateChangedMessage : SystemMessage
---@field subtype "session_state_changed"
---@field state "idle"|"running"|"requires_action"|string
---@field session_id string|nil
---@field uuid string|nil

--- Where a compaction cut the conversation.
---@class CompactBoundaryMessage : SystemMessage
---@field subtype "compact_boundary"
---@field compact_metadata {trigger: "manual"|"auto", pre_tokens: integer, post_tokens: integer|nil}
---@field session_id string|nil
---@field uuid string|nil

--- An API request failed and will be retried.
---@class APIRetryMessage : SystemMessage
---@field subtype "api_retry"
---@field attempt integer
---@field max_retries integer
---@field retry_delay_ms number
---@field error_status integer|nil         the HTTP status, nil when there was none
---@field error any                        the error as sent
---@field session_id string|nil
---@field uuid string|nil

--- The output of a local slash command.
---@class LocalCommandOutputMessage : SystemMessage
---@field subtype "local_command_output"
---@field content string
---@field session_id string|nil
---@field uuid string|nil

--- A tool use was denied.
---@class PermissionDeniedMessage : SystemMessage
---@field subtype "permission_denied"
---@field tool_name string
---@field tool_use_id string
---@field message string
---@field decision_reason_type string|nil
---@field agent_id string|nil
---@field session_id string|nil
---@field uuid string|nil

--- The background tasks: a full snapshot that replaces the previous one.
---@class BackgroundTasksChangedMessage : SystemMessage
---@field subtype "background_tasks_changed"
---@field tasks table[]
---@field session_id string|nil
---@field uuid string|nil

--- A session store's append failed (made by the SDK, never sent by the CLI; mirror.lua).  The entries stay
--- pending and are appended again at the next flush, so the store catches up once it is back.
---@class MirrorErrorMessage : SystemMessage
---@field subtype "mirror_error"
---@field key SessionKey|nil  the transcript whose append failed
---@field error string  what the store raised
---@field pending integer  entries of that transcript still waiting for the store
---@field dropped integer|nil  entries dropped from a full backlog since the last report
---@field session_id string
---@field uuid string

--- The end of a turn; receive_response() stops after it.
---@class ResultMessage
---@field type "result"
---@field subtype "success"|"error_max_turns"|"error_during_execution"|"error_max_budget_usd"|string
---@field is_error boolean
---@field result string|nil                the final text
---@field num_turns integer
---@field duration_ms integer
---@field duration_api_ms integer
---@field total_cost_usd number|nil
---@field stop_reason string|nil
---@field terminal_reason string|nil       e.g. "completed", "aborted_streaming", "aborted_tools"
---@field session_id string
---@field usage table|nil                  the API's token usage
---@field structured_output any            with output_format: the decoded JSON
---@field errors string[]|nil
---@field model_usage table<string, table>|nil  per model: tokens and cost (the frame's modelUsage)
---@field permission_denials table[]|nil
---@field api_error_status integer|nil
---@field uuid string|nil

--- A raw API stream event (with include_partial_messages); claude.stream turns them into simple deltas.
---@class StreamEvent
---@field type "stream_event"
---@field uuid string
---@field session_id string
---@field event table                      message_start, content_block_delta, ... as the API sent it
---@field parent_tool_use_id string|nil    set inside a subagent: its Task tool call

--- A frame of any other top-level type: its raw fields, `type` as sent.  The typed ones below are Messages
--- too.
---@class Message
---@field type string
---@field [string] any

--- The account's rate limit changed (claude.ai subscription auth).
---@class RateLimitEvent : Message
---@field type "rate_limit_event"
---@field rate_limit_info RateLimitInfo|nil
---@field session_id string|nil
---@field uuid string|nil

--- The rate limit of a RateLimitEvent: the Python SDK's snake_case names, plus the keys as sent.
---@class RateLimitInfo
---@field status "allowed"|"allowed_warning"|"rejected"|string
---@field resets_at number|nil             seconds since the epoch
---@field rate_limit_type string|nil       "five_hour", "seven_day", ...
---@field utilization number|nil
---@field overage_status string|nil
---@field overage_resets_at number|nil
---@field overage_disabled_reason string|nil
---@field is_using_overage boolean|nil
---@field raw table                        the info as sent (camelCase keys)
---@field resetsAt number|nil              as sent
---@field rateLimitType string|nil         as sent
---@field overageStatus string|nil         as sent
---@field overageResetsAt number|nil       as sent
---@field overageDisabledReason string|nil as sent
---@field isUsingOverage boolean|nil       as sent

--- The conversation was cleared (/clear); later frames carry the new session id.
---@class ConversationResetMessage : Message
---@field type "conversation_reset"
---@field new_conversation_id string
---@field session_id string|nil
---@field uuid string|nil

--- A long-running tool is still running.
---@class ToolProgressMessage : Message
---@field type "tool_progress"
---@field tool_use_id string
---@field tool_name string
---@field parent_tool_use_id string|nil
---@field elapsed_time_seconds number
---@field task_id string|nil
---@field session_id string|nil
---@field uuid string|nil

--- A summary of preceding tool uses.
---@class ToolUseSummaryMessage : Message
---@field type "tool_use_summary"
---@field summary string
---@field preceding_tool_use_ids string[]
---@field session_id string|nil
---@field uuid string|nil

--- Authentication progress.
---@class AuthStatusMessage : Message
---@field type "auth_status"
---@field is_authenticating boolean
---@field isAuthenticating boolean         as sent
---@field output string[]
---@field error string|nil
---@field session_id string|nil
---@field uuid string|nil

--- A suggested next prompt (with --prompt-suggestions).
---@class PromptSuggestionMessage : Message
---@field type "prompt_suggestion"
---@field suggestion string
---@field session_id string|nil
---@field uuid string|nil

return {}
