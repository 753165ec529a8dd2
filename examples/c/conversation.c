/* conversation.c - a multi-turn conversation with the Claude Code CLI from C,
 * using the SDK's C core alone (no Lua anywhere).
 *
 * What it shows: everything the Lua layer does for a plain conversation, by
 * hand: the CLI's argv and environment, the `initialize` control request,
 * user messages, pumping the client until each turn's `result`, the text of
 * the assistant's answers and the cost, and a clean shutdown (close stdin, let
 * the CLI exit by itself, never leave it behind).  The second question only
 * makes sense with the first answer in context: one client is one session.
 *
 * Build it against the installed library:
 *   make install PREFIX=$HOME/.local
 *   export PKG_CONFIG_PATH=$HOME/.local/lib/pkgconfig
 *   cc -std=c99 -Wall -Wextra -Werror -o conversation examples/c/conversation.c \
 *      $(pkg-config --cflags --libs claude_agent_sdk)
 *
 * Run it (LD_LIBRARY_PATH=$HOME/.local/lib unless that directory is one the
 * loader searches):
 *   ./conversation                         two built-in questions
 *   ./conversation "first prompt" "second" ...   one turn per argument
 * The CLI is $CLAUDE_CLI_PATH, else `claude` on PATH.  It inherits this
 * program's environment, so ANTHROPIC_API_KEY (or ANTHROPIC_BASE_URL pointing
 * at the offline model server, see README.md beside this file) comes from
 * there.  Exit status 0 when every turn ended in a successful result.
 */
#include <claude_agent_sdk/claude_agent_sdk.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

/* The first initialize can take long while MCP servers start (the Python
 * SDK waits at least 60 s); a whole turn may run tools for minutes. */
#define CONTROL_TIMEOUT_MS 60000
#define TURN_TIMEOUT_MS (10 * 60 * 1000)
/* Shutdown ladder: after stdin closes the CLI flushes its session file and
 * exits by itself; SIGTERM, then SIGKILL, only if it does not. */
#define GRACE_MS 5000
#define TERM_MS 5000
/* Request ids are shorter than 40 bytes (cas_proto.h). */
#define ID_SIZE 40

static const char *const default_prompts[] = {
    "What's the capital of France?",
    "What's the population of that city?",
};

/* Our environment minus CLAUDECODE: a CLI that sees it thinks it runs nested
 * inside another Claude Code session (the official SDKs drop it too).  The
 * strings stay environ's; only the array is ours. */
static const char **child_env(void) {
  size_t n = 0, i, k = 0;
  const char **env;
  while (environ[n]) n++;
  env = malloc((n + 1) * sizeof *env);
  if (!env) return NULL;
  for (i = 0; i < n; i++)
    if (strncmp(environ[i], "CLAUDECODE=", 11) != 0) env[k++] = environ[i];
  env[k] = NULL;
  return env;
}

/* Say why the CLI is gone: exit code, signal, and the last stderr lines
 * (startup failures show up only there).  Only once it is finished. */
static void report_exit(cas_client_t *c) {
  int signo = 0, code = cas_client_exit_code(c, &signo);
  size_t len;
  const char *tail = cas_client_stderr_tail(c, &len);
  if (signo)
    fprintf(stderr, "conversation: the CLI was killed by signal %d\n", signo);
  else
    fprintf(stderr, "conversation: the CLI exited with code %d\n", code);
  if (len > 0) fprintf(stderr, "conversation: its stderr ended with:\n%.*s", (int)len, tail);
}

/* The CLI may ask us things (permissions, hooks, in-process MCP tools) and a
 * turn waits until they are answered.  This program configures none of them,
 * so anything asked gets an error answer instead of a silent hang. */
static int answer_requests(cas_client_t *c) {
  cas_item_t *it;
  while ((it = cas_proto_pop_request(cas_client_proto(c))) != NULL) {
    int rc = CAS_OK;
    if (cas_item_get_kind(it) == CAS_ITEM_REQUEST) {
      const char *id = cas_json_get_string(cas_item_tree(it), "request_id");
      const char *subtype =
          cas_json_get_string(cJSON_GetObjectItemCaseSensitive(cas_item_tree(it), "request"), "subtype");
      char msg[200];
      snprintf(msg, sizeof msg, "conversation.c does not handle %s requests", subtype ? subtype : "unnamed");
      if (id) rc = cas_client_respond(c, id, NULL, msg);
    }
    /* CAS_ITEM_CANCEL: the CLI withdrew a request; we answered at once anyway. */
    cas_item_free(it);
    if (rc != CAS_OK) return rc;
  }
  return CAS_OK;
}

/* Send a control request and pump until its answer; *result is borrowed
 * until cas_proto_forget(id).  Returns 0 or the request's error code. */
static int control(cas_client_t *c, const char *subtype, cJSON *fields, char *id, const cJSON **result) {
  cas_proto_t *p = cas_client_proto(c);
  const char *err = NULL;
  int rc = cas_client_request(c, subtype, fields, CONTROL_TIMEOUT_MS, id);
  if (rc != CAS_OK) return rc;
  /* No need to watch for the exit here: it fails the request at once. */
  while ((rc = cas_proto_response(p, id, result, &err)) == CAS_REQ_PENDING) {
    if ((rc = answer_requests(c)) != CAS_OK || (rc = cas_client_pump(c, -1)) != CAS_OK) break;
  }
  if (rc != CAS_OK) fprintf(stderr, "conversation: %s failed: %s\n", subtype, err ? err : cas_strerror(rc));
  return rc;
}

/* The text blocks of an assistant message.  A Messages API reply arrives as
 * one assistant frame per content block. */
static void print_assistant(const cJSON *frame) {
  const cJSON *content =
      cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(frame, "message"), "content");
  const cJSON *block;
  cJSON_ArrayForEach(block, content) {
    const char *type = cas_json_get_string(block, "type");
    if (type && strcmp(type, "text") == 0) {
      const char *text = cas_json_get_string(block, "text");
      if (text) printf("Claude: %s\n", text);
    } else if (type && strcmp(type, "tool_use") == 0) {
      const char *name = cas_json_get_string(block, "name");
      printf("Claude uses a tool: %s\n", name ? name : "?");
    }
  }
}

/* Returns 0 for a successful result, 1 for an error result. */
static int print_result(const cJSON *frame) {
  const cJSON *cost = cJSON_GetObjectItemCaseSensitive(frame, "total_cost_usd");
  const cJSON *turns = cJSON_GetObjectItemCaseSensitive(frame, "num_turns");
  const cJSON *ms = cJSON_GetObjectItemCaseSensitive(frame, "duration_ms");
  const char *subtype = cas_json_get_string(frame, "subtype");
  int is_error = cas_json_get_bool(frame, "is_error", 0);
  /* total_cost_usd is for the whole session so far, not this turn alone. */
  printf("[result: %s, session cost $%.6f, %d turn(s), %.0f ms]\n", subtype ? subtype : "?",
         cJSON_IsNumber(cost) ? cost->valuedouble : 0.0, cJSON_IsNumber(turns) ? turns->valueint : 0,
         cJSON_IsNumber(ms) ? ms->valuedouble : 0.0);
  if (is_error) {
    /* Error results carry errors[] instead of result (PROTOCOL.md 4.5). */
    const cJSON *errors = cJSON_GetObjectItemCaseSensitive(frame, "errors"), *e;
    const char *text = cas_json_get_string(frame, "result");
    if (text) fprintf(stderr, "conversation: error result: %s\n", text);
    cJSON_ArrayForEach(e, errors) if (cJSON_IsString(e))
        fprintf(stderr, "conversation: error result: %s\n", e->valuestring);
  }
  return is_error ? 1 : 0;
}

/* One user message, then everything up to and including the next result.
 * Results are not one per user message in general (queued messages can merge
 * into one turn), but with one message in flight they are. */
static int turn(cas_client_t *c, const char *prompt) {
  cas_proto_t *p = cas_client_proto(c);
  int64_t deadline = cas_now_ms() + TURN_TIMEOUT_MS;
  cJSON *frame = cJSON_CreateObject(), *message;
  int rc, outcome = -1;

  /* Built with cJSON rather than printf so any prompt is escaped right: a line
   * that is not valid JSON makes the CLI exit at once.  (cJSON's Add helpers
   * return NULL for a NULL parent, so one check covers every allocation.) */
  if (!cJSON_AddStringToObject(frame, "type", "user") || !cJSON_AddStringToObject(frame, "session_id", "default") ||
      !(message = cJSON_AddObjectToObject(frame, "message")) || !cJSON_AddStringToObject(message, "role", "user") ||
      !cJSON_AddStringToObject(message, "content", prompt) || !cJSON_AddNullToObject(frame, "parent_tool_use_id")) {
    cJSON_Delete(frame);
    fprintf(stderr, "conversation: out of memory\n");
    return -1;
  }
  printf("User: %s\n", prompt);
  rc = cas_client_send(c, frame);
  cJSON_Delete(frame);
  if (rc != CAS_OK) {
    fprintf(stderr, "conversation: cannot send: %s\n", cas_strerror(rc));
    return -1;
  }

  while (outcome < 0) {
    cas_item_t *it;
    int64_t left;
    if (answer_requests(c) != CAS_OK) return -1;
    while (outcome < 0 && (it = cas_proto_pop_message(p)) != NULL) {
      /* The core parses only the frames it acts on; the others (assistant,
       * user, stream_event, ...) are queued as their line, and
       * cas_item_tree() builds their tree on demand. */
      const cJSON *msg = cas_item_tree(it);
      const char *type = cas_json_get_string(msg, "type");
      if (cas_item_get_kind(it) == CAS_ITEM_MESSAGE && !msg) {
        fprintf(stderr, "conversation: out of memory\n");
        outcome = 2;
      } else if (cas_item_get_kind(it) == CAS_ITEM_DECODE_ERROR) {
        /* One bad line is skipped; the stream goes on. */
        fprintf(stderr, "conversation: skipped a line that is not JSON (%s): %.80s\n",
                cas_strerror(cas_item_get_code(it)), cas_item_get_text(it, NULL));
      } else if (cas_item_get_kind(it) == CAS_ITEM_FATAL) {
        fprintf(stderr, "conversation: the stream is dead: %s\n", cas_item_get_text(it, NULL));
        outcome = 2;
      } else if (type && strcmp(type, "assistant") == 0) {
        print_assistant(msg);
      } else if (type && strcmp(type, "result") == 0) {
        outcome = print_result(msg);
      }
      /* system, user (tool results), stream_event ...: not shown here. */
      cas_item_free(it);
    }
    if (outcome >= 0) break;
    /* Everything the CLI wrote has been popped and no result came. */
    if (cas_client_finished(c)) {
      fprintf(stderr, "conversation: the CLI ended before the turn did\n");
      report_exit(c);
      return -1;
    }
    left = deadline - cas_now_ms();
    if (left <= 0) {
      fprintf(stderr, "conversation: no result after %d s\n", TURN_TIMEOUT_MS / 1000);
      return -1;
    }
    if (cas_client_pump(c, (int)left) != CAS_OK) {
      fprintf(stderr, "conversation: pump failed\n");
      return -1;
    }
  }
  fflush(stdout);
  return outcome == 0 ? 0 : -1;
}

int main(int argc, char **argv) {
  const char *cli = getenv("CLAUDE_CLI_PATH");
  const char *cli_argv[] = {
      NULL,
      "--output-format",
      "stream-json",
      "--verbose",
      /* The Python SDK's default: an empty system prompt, not Claude Code's. */
      "--system-prompt",
      "",
      "--input-format",
      "stream-json",
      NULL,
  };
  const char *const *prompts = default_prompts;
  int nprompts = (int)(sizeof default_prompts / sizeof default_prompts[0]);
  cas_client_opts_t opts;
  cas_client_t *c = NULL;
  const char **env;
  const cJSON *info = NULL;
  cJSON *fields;
  char id[ID_SIZE];
  int rc, sys_errno = 0, status = 0, i, code, signo = 0;

  if (argc > 1) {
    prompts = (const char *const *)(argv + 1);
    nprompts = argc - 1;
  }
  /* No '/' in the name: the core searches PATH for it, as execvp would. */
  cli_argv[0] = cli && *cli ? cli : "claude";
  env = child_env();
  if (!env) {
    fprintf(stderr, "conversation: out of memory\n");
    return 1;
  }

  memset(&opts, 0, sizeof opts); /* zero: 64 MiB lines, 8 KiB stderr tail */
  opts.argv = cli_argv;
  opts.envp = env;
  rc = cas_client_spawn(&c, &opts, &sys_errno);
  free(env); /* the child has its copy */
  if (rc == CAS_ENOTFOUND) {
    fprintf(stderr,
            "conversation: %s not found: install the CLI (npm install -g "
            "@anthropic-ai/claude-code) or set CLAUDE_CLI_PATH\n",
            cli_argv[0]);
    return 1;
  }
  if (rc != CAS_OK) {
    fprintf(stderr, "conversation: cannot start %s: %s (%s)\n", cli_argv[0], cas_strerror(rc),
            sys_errno ? strerror(sys_errno) : "no system error");
    return 1;
  }
  fprintf(stderr, "conversation: started %s (pid %d)\n", cli_argv[0], cas_client_pid(c));

  /* initialize registers hooks, agents and MCP servers; with none, hooks is
   * null.  The reader runs while we wait (inside pump), as the protocol needs. */
  fields = cJSON_CreateObject();
  if (!fields || !cJSON_AddNullToObject(fields, "hooks")) {
    cJSON_Delete(fields);
    fprintf(stderr, "conversation: out of memory\n");
    status = 1;
  } else if (control(c, "initialize", fields, id, &info) != CAS_OK) {
    status = 1; /* the error says it all: an exit's comes with its code and stderr */
  } else {
    const cJSON *models = cJSON_GetObjectItemCaseSensitive(info, "models");
    fprintf(stderr, "conversation: initialized; the CLI offers %d model(s)\n", cJSON_GetArraySize(models));
    cas_proto_forget(cas_client_proto(c), id);
  }

  for (i = 0; status == 0 && i < nprompts; i++) {
    if (i > 0) printf("\n");
    if (turn(c, prompts[i]) != 0) status = 1;
  }

  /* End of input: the CLI exits by itself (code 0 after a successful last
   * result); close() escalates only if it does not, and always reaps it. */
  cas_client_close(c, GRACE_MS, TERM_MS);
  code = cas_client_exit_code(c, &signo);
  if (status == 0 && (code != 0 || signo != 0)) {
    report_exit(c);
    status = 1;
  }
  cas_client_free(c);
  return status;
}
