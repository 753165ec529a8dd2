/* A stand-in for the `claude` CLI that produces stream-json as fast as it can,
 * for `make bench`.  It answers `initialize` (and any other control request)
 * with a success, and each user message with one turn: system/init, the
 * frames the knobs ask for, then a result.  The frame shapes are the real
 * CLI 2.1.197's (../shared/PROTOCOL.md §4), so every client parses the same
 * bytes it would in production.  argv is ignored: each SDK passes its own flags.
 *
 * Knobs (environment):
 *   BENCH_N        frames per turn (default 1000)
 *   BENCH_TEXT     bytes of text per frame (default 200)
 *   BENCH_PARTIAL  1: the frames are stream_event text deltas, not assistant
 *   BENCH_BIG      bytes: the turn is one assistant frame with this much text
 *
 * Each frame is built once and written N times with fwrite into a 1 MiB
 * stdio buffer: the fake's own cost must be far below any client's. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SESSION "7f8c2a64-3b1e-4c55-9d0a-2b6f1e9c4d31"
#define UUID "0b6f3d0e-5a7c-4e2b-8f11-6c2d9a7e4b10"
#define MODEL "claude-sonnet-4-5-20250929"

static size_t knob(const char *name, size_t dflt) {
  const char *v = getenv(name);
  return v && *v ? (size_t)strtoull(v, NULL, 10) : dflt;
}

/* The text of a frame: printable ASCII words, no escapes needed. */
static char *make_text(size_t n) {
  static const char words[] = "the quick brown fox jumps over the lazy dog ";
  char *t = malloc(n + 1);
  if (!t) exit(70);
  for (size_t i = 0; i < n; i++) t[i] = words[i % (sizeof words - 1)];
  t[n] = '\0';
  return t;
}

/* The frames that carry the text (%s): an assistant message, or a
 * stream_event text delta for BENCH_PARTIAL. */
static const char ASSISTANT_FRAME[] =
    "{\"type\":\"assistant\",\"message\":{\"id\":\"msg_01XFDUDYJgAACzvnptvVoYEL\",\"type\":\"message\","
    "\"role\":\"assistant\",\"model\":\"" MODEL "\",\"content\":[{\"type\":\"text\",\"text\":\"%s\"}],"
    "\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":12,"
    "\"output_tokens\":48}},\"parent_tool_use_id\":null,"
    "\"session_id\":\"" SESSION "\",\"uuid\":\"" UUID "\"}\n";

static const char DELTA_FRAME[] = "{\"type\":\"stream_event\",\"event\":{\"type\":\"content_block_delta\",\"index\":0,"
                                  "\"delta\":{\"type\":\"text_delta\",\"text\":\"%s\"}},\"session_id\":\"" SESSION "\","
                                  "\"parent_tool_use_id\":null,\"uuid\":\"" UUID "\"}\n";

/* fmt (one of the above) with text in place of its %s. */
static char *frame_with(const char *fmt, const char *text) {
  size_t cap = strlen(fmt) + strlen(text);
  char *f = malloc(cap);
  if (!f) exit(70);
  snprintf(f, cap, fmt, text);
  return f;
}

static const char INIT_FRAME[] =
    "{\"type\":\"system\",\"subtype\":\"init\",\"cwd\":\"/tmp\",\"session_id\":\"" SESSION "\","
    "\"tools\":[\"Bash\",\"Edit\",\"Read\",\"Write\"],\"mcp_servers\":[],\"model\":\"" MODEL "\","
    "\"permissionMode\":\"default\",\"slash_commands\":[\"compact\",\"cost\"],\"apiKeySource\":\"ANTHROPIC_API_KEY\","
    "\"claude_code_version\":\"2.1.197\",\"output_style\":\"default\",\"agents\":[],\"skills\":[],\"plugins\":[],"
    "\"uuid\":\"" UUID "\",\"fast_mode_state\":\"off\"}\n";

static const char RESULT_FRAME[] =
    "{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":false,\"api_error_status\":null,\"duration_ms\":60,"
    "\"duration_api_ms\":25,\"num_turns\":1,\"result\":\"done\",\"stop_reason\":\"end_turn\","
    "\"session_id\":\"" SESSION "\",\"total_cost_usd\":0.0001,\"usage\":{\"input_tokens\":5,"
    "\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":3,\"service_tier\":\"standard\"}"
    ","
    "\"modelUsage\":{},\"permission_denials\":[],\"terminal_reason\":\"completed\",\"fast_mode_state\":\"off\","
    "\"uuid\":\"" UUID "\"}\n";

/* Copies the value of "request_id":"..." from a control_request line. */
static int request_id(const char *line, char *out, size_t cap) {
  const char *p = strstr(line, "\"request_id\":\"");
  if (!p) return 0;
  p += 14;
  size_t n = 0;
  while (p[n] && p[n] != '"' && n + 1 < cap) n++;
  memcpy(out, p, n);
  out[n] = '\0';
  return 1;
}

static void answer_control(const char *line) {
  char id[128];
  if (!request_id(line, id, sizeof id)) return;
  if (strstr(line, "\"subtype\":\"initialize\""))
    printf("{\"type\":\"control_response\",\"response\":{\"subtype\":\"success\",\"request_id\":\"%s\","
           "\"response\":{\"commands\":[],\"agents\":[],\"output_style\":\"default\","
           "\"available_output_styles\":[\"default\"],\"models\":[],\"account\":{},\"pid\":1}}}\n",
           id);
  else
    printf("{\"type\":\"control_response\",\"response\":{\"subtype\":\"success\",\"request_id\":\"%s\","
           "\"response\":{}}}\n",
           id);
  fflush(stdout);
}

/* Rewrite the 8 hex digits at p from the frame number. */
static void next_uuid(char *p, size_t i) {
  static const char hex[] = "0123456789abcdef";
  for (int k = 7; k >= 0; k--, i >>= 4) p[k] = hex[i & 15];
}

int main(void) {
  size_t n = knob("BENCH_N", 1000), text_len = knob("BENCH_TEXT", 200), big = knob("BENCH_BIG", 0);
  int partial = knob("BENCH_PARTIAL", 0) != 0;
  char *text = make_text(big ? big : text_len);
  char *frame = frame_with(partial && !big ? DELTA_FRAME : ASSISTANT_FRAME, text);
  size_t frame_len = strlen(frame);
  if (big) n = 1;
  free(text);
  /* Each frame has its own uuid, as the real CLI's do: a client that
   * remembers strings must not find the same one every time. */
  char *uuid = strstr(frame, "\"uuid\":\"" UUID);
  if (!uuid) exit(70);
  uuid += 8 + 28; /* the last 8 hex digits */
  setvbuf(stdout, NULL, _IOFBF, 1 << 20);

  char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, stdin) > 0) {
    if (strstr(line, "\"type\":\"control_request\"")) {
      answer_control(line);
    } else if (strstr(line, "\"type\":\"user\"")) {
      fputs(INIT_FRAME, stdout);
      for (size_t i = 0; i < n; i++) {
        next_uuid(uuid, i);
        fwrite(frame, 1, frame_len, stdout);
      }
      fputs(RESULT_FRAME, stdout);
      fflush(stdout);
    }
  }
  free(line);
  free(frame);
  return 0;
}
