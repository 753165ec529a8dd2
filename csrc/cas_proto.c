/* cas_proto.c - the control protocol's state, fed with parsed frames.
 *
 * Lists here are short (a handful of pending requests, a handful of open
 * inbound requests, a few tasks), so plain linked lists with linear search are
 * the simple and fast choice.  The two item FIFOs can be long (a slow consumer
 * of a 100k-message turn); they are O(1) at both ends.
 */
#include "cas_proto.h"
#include "cas_error.h"
#include "cas_internal.h"
#include "cas_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CAS_ID_MAX 40

typedef struct cas_pending {
  struct cas_pending *next;
  char id[CAS_ID_MAX];
  int state; /* CAS_REQ_PENDING, CAS_REQ_DONE or a negative code */
  int64_t deadline;
  cJSON *result;
  char *error;
} cas_pending_t;

typedef struct cas_name {
  struct cas_name *next;
  char *name;
} cas_name_t;

/* A FIFO of items, linked through their next field. */
typedef struct {
  cas_item_t *head, *tail;
  size_t count;
} cas_queue_t;

struct cas_proto {
  cas_buf_t out;
  cas_queue_t messages, requests, stderr_lines;
  cas_pending_t *pending;
  cas_name_t *open_inbound; /* request ids from the CLI we still owe an answer */
  cas_name_t *tasks; /* background agent task ids in flight */
  unsigned long counter;
  unsigned long salt;
  unsigned long results;
  unsigned long unmatched;
  cJSON *last_error_result;
  cas_item_t *spare; /* recycled items with room for a line (cas_proto_recycle) */
  size_t spare_bytes;
  int keep_mirror; /* transcript_mirror frames are queued as messages, not dropped */
  int dead; /* exited or fatal: new requests fail at once */
  int dead_code;
  char *dead_msg;
};

/* --- small helpers -------------------------------------------------------- */

static char *cas__strndup(const char *s, size_t n) {
  char *d = (char *)malloc(n + 1);
  if (!d) return NULL;
  memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

void cas_item_free(cas_item_t *it) {
  if (!it) return;
  if (it->json) cJSON_Delete(it->json);
  if (it->block)
    free(it->block);
  else if (!it->room)
    free(it->text); /* else it is part of the item */
  free(it);
}

int cas_item_get_kind(const cas_item_t *it) { return it ? it->kind : 0; }

int cas_item_get_code(const cas_item_t *it) { return it ? it->code : 0; }

const char *cas_item_get_text(const cas_item_t *it, size_t *len) {
  if (len) *len = it && it->text ? it->text_len : 0;
  return it ? it->text : NULL;
}

const char *cas_item_get_type(const cas_item_t *it, size_t *len) {
  const cJSON *t;
  if (len) *len = 0;
  if (!it || it->kind != CAS_ITEM_MESSAGE) return NULL;
  if (!it->json && it->text) {
    if (len) *len = it->type_len;
    return it->text + it->type_off;
  }
  t = it->json ? cJSON_GetObjectItemCaseSensitive(it->json, "type") : NULL;
  if (!cJSON_IsString(t)) return NULL;
  if (len) *len = strlen(t->valuestring);
  return t->valuestring;
}

const cJSON *cas_item_tree(cas_item_t *it) {
  if (!it) return NULL;
  if (!it->json && it->kind == CAS_ITEM_MESSAGE && it->text) (void)cas_json_parse(it->text, it->text_len, 0, &it->json);
  return it->json;
}

static void cas__queue_push(cas_queue_t *q, cas_item_t *it) {
  it->next = NULL;
  if (q->tail)
    q->tail->next = it;
  else
    q->head = it;
  q->tail = it;
  q->count++;
}

static cas_item_t *cas__queue_pop(cas_queue_t *q) {
  cas_item_t *it = q->head;
  if (!it) return NULL;
  q->head = it->next;
  if (!q->head) q->tail = NULL;
  q->count--;
  it->next = NULL;
  return it;
}

static void cas__queue_clear(cas_queue_t *q) {
  cas_item_t *it;
  while ((it = cas__queue_pop(q)) != NULL) cas_item_free(it);
}

/* Queue an item; on allocation failure the json is freed (ownership rule). */
static int cas__push_item(cas_queue_t *q, int kind, int code, cJSON *json, const char *text, size_t text_len) {
  cas_item_t *it = (cas_item_t *)calloc(1, sizeof *it);
  if (!it) {
    if (json) cJSON_Delete(json);
    return CAS_ENOMEM;
  }
  it->kind = kind;
  it->code = code;
  it->json = json;
  if (text) {
    it->text = cas__strndup(text, text_len);
    if (!it->text) {
      cas_item_free(it);
      return CAS_ENOMEM;
    }
    it->text_len = text_len;
  }
  cas__queue_push(q, it);
  return CAS_OK;
}

static int cas__name_add(cas_name_t **list, const char *name) {
  cas_name_t *n = (cas_name_t *)malloc(sizeof *n);
  if (!n) return CAS_ENOMEM;
  n->name = cas__strndup(name, strlen(name));
  if (!n->name) {
    free(n);
    return CAS_ENOMEM;
  }
  n->next = *list;
  *list = n;
  return CAS_OK;
}

/* Remove name; 1 if it was there. */
static int cas__name_remove(cas_name_t **list, const char *name) {
  cas_name_t **pp;
  for (pp = list; *pp; pp = &(*pp)->next) {
    if (strcmp((*pp)->name, name) == 0) {
      cas_name_t *n = *pp;
      *pp = n->next;
      free(n->name);
      free(n);
      return 1;
    }
  }
  return 0;
}

static void cas__name_clear(cas_name_t **list) {
  while (*list) {
    cas_name_t *n = *list;
    *list = n->next;
    free(n->name);
    free(n);
  }
}

static cas_pending_t *cas__pending_find(cas_proto_t *p, const char *id) {
  cas_pending_t *r;
  for (r = p->pending; r; r = r->next)
    if (strcmp(r->id, id) == 0) return r;
  return NULL;
}

/* Finish a pending request with a failure; msg is copied. */
static void cas__pending_fail(cas_pending_t *r, int code, const char *msg) {
  r->state = code;
  free(r->error);
  r->error = cas__strndup(msg, strlen(msg));
}

/* --- life cycle ------------------------------------------------------------ */

void cas_proto_keep_mirror(cas_proto_t *p, int on) {
  if (p) p->keep_mirror = on != 0;
}

int cas_proto_new(cas_proto_t **out) {
  cas_proto_t *p = (cas_proto_t *)calloc(1, sizeof *p);
  struct timespec ts;
  *out = NULL;
  if (!p) return CAS_ENOMEM;
  cas_buf_init(&p->out);
  /* Ids need only be unique among our own requests in flight; the salt makes
   * them unlikely to collide across clients in one log. */
  clock_gettime(CLOCK_MONOTONIC, &ts);
  p->salt = ((unsigned long)ts.tv_nsec * 2654435761UL) ^ ((unsigned long)getpid() << 16) ^ (unsigned long)(size_t)p;
  *out = p;
  return CAS_OK;
}

void cas_proto_free(cas_proto_t *p) {
  cas_pending_t *r;
  if (!p) return;
  cas_buf_free(&p->out);
  cas__queue_clear(&p->messages);
  cas__queue_clear(&p->requests);
  cas__queue_clear(&p->stderr_lines);
  while (p->spare) {
    cas_item_t *it = p->spare;
    p->spare = it->next;
    free(it);
  }
  while ((r = p->pending) != NULL) {
    p->pending = r->next;
    if (r->result) cJSON_Delete(r->result);
    free(r->error);
    free(r);
  }
  cas__name_clear(&p->open_inbound);
  cas__name_clear(&p->tasks);
  if (p->last_error_result) cJSON_Delete(p->last_error_result);
  free(p->dead_msg);
  free(p);
}

cas_buf_t *cas_proto_out(cas_proto_t *p) { return &p->out; }

/* --- inbound --------------------------------------------------------------- */

static void cas__on_control_response(cas_proto_t *p, cJSON *frame) {
  const cJSON *resp = cJSON_GetObjectItemCaseSensitive(frame, "response");
  const char *id = cas_json_get_string(resp, "request_id");
  const char *subtype = cas_json_get_string(resp, "subtype");
  cas_pending_t *r = id ? cas__pending_find(p, id) : NULL;
  if (!r || r->state != CAS_REQ_PENDING) {
    /* Late (after a timeout) or foreign: the CLI does the same with ours. */
    p->unmatched++;
    return;
  }
  if (subtype && strcmp(subtype, "error") == 0) {
    const char *err = cas_json_get_string(resp, "error");
    cas__pending_fail(r, CAS_EREMOTE, err ? err : "control request failed");
    return;
  }
  /* Detach the payload so the frame can go; a missing payload is {}. */
  r->result = cJSON_DetachItemFromObjectCaseSensitive((cJSON *)resp, "response");
  if (!r->result || !cJSON_IsObject(r->result)) {
    if (r->result) cJSON_Delete(r->result);
    r->result = cJSON_CreateObject();
  }
  if (!r->result)
    cas__pending_fail(r, CAS_ENOMEM, "out of memory");
  else
    r->state = CAS_REQ_DONE;
}

/* Background agents keep the CLI asking for hooks and permissions after a
 * result, so the one-shot query must not close stdin while they run. */
static void cas__track_tasks(cas_proto_t *p, const cJSON *frame, const char *subtype) {
  const char *task_id = cas_json_get_string(frame, "task_id");
  if (!task_id) return;
  if (strcmp(subtype, "task_started") == 0) {
    const char *tt = cas_json_get_string(frame, "task_type");
    if (tt && (strcmp(tt, "local_agent") == 0 || strcmp(tt, "local_workflow") == 0))
      (void)cas__name_add(&p->tasks, task_id);
  } else if (strcmp(subtype, "task_notification") == 0) {
    (void)cas__name_remove(&p->tasks, task_id);
  } else if (strcmp(subtype, "task_updated") == 0) {
    const cJSON *patch = cJSON_GetObjectItemCaseSensitive(frame, "patch");
    const char *st = cas_json_get_string(patch, "status");
    if (st && (strcmp(st, "completed") == 0 || strcmp(st, "failed") == 0 || strcmp(st, "stopped") == 0 ||
               strcmp(st, "killed") == 0))
      (void)cas__name_remove(&p->tasks, task_id);
  }
}

static int cas__on_message(cas_proto_t *p, cJSON *frame) {
  const char *type = cas_json_get_string(frame, "type");
  int is_state_change = 0;
  if (type && strcmp(type, "result") == 0) {
    p->results++;
    if (p->last_error_result) cJSON_Delete(p->last_error_result);
    p->last_error_result = NULL;
    if (cas_json_get_bool(frame, "is_error", 0)) p->last_error_result = cJSON_Duplicate(frame, 1);
  } else if (type && strcmp(type, "system") == 0) {
    const char *subtype = cas_json_get_string(frame, "subtype");
    if (subtype) {
      is_state_change = strcmp(subtype, "session_state_changed") == 0;
      cas__track_tasks(p, frame, subtype);
    }
  }
  if (type && strcmp(type, "result") != 0 && !is_state_change && p->last_error_result) {
    cJSON_Delete(p->last_error_result);
    p->last_error_result = NULL;
  }
  return cas__push_item(&p->messages, CAS_ITEM_MESSAGE, 0, frame, NULL, 0);
}

int cas_proto_on_frame(cas_proto_t *p, cJSON *frame) {
  switch (cas_frame_classify(frame)) {
    case CAS_FRAME_CONTROL_RESPONSE:
      cas__on_control_response(p, frame);
      cJSON_Delete(frame);
      return CAS_OK;
    case CAS_FRAME_CONTROL_REQUEST: {
      const char *id = cas_json_get_string(frame, "request_id");
      if (!id) { /* cannot be answered; say so in the stream instead of dropping it */
        cJSON_Delete(frame);
        return cas_proto_on_decode_error(p, CAS_EJSON, "control_request without request_id", 34);
      }
      if (cas__name_add(&p->open_inbound, id) != CAS_OK) {
        cJSON_Delete(frame);
        return CAS_ENOMEM;
      }
      return cas__push_item(&p->requests, CAS_ITEM_REQUEST, 0, frame, NULL, 0);
    }
    case CAS_FRAME_CONTROL_CANCEL: {
      const char *id = cas_json_get_string(frame, "request_id");
      int rc = CAS_OK;
      /* A cancel for an id we do not know (already answered) is ignored. */
      if (id && cas__name_remove(&p->open_inbound, id))
        rc = cas__push_item(&p->requests, CAS_ITEM_CANCEL, 0, NULL, id, strlen(id));
      cJSON_Delete(frame);
      return rc;
    }
    case CAS_FRAME_TRANSCRIPT_MIRROR:
      /* Queued as it came, for the session store's mirror; pushed directly so
       * an internal frame never clears the last error result. */
      if (p->keep_mirror) return cas__push_item(&p->messages, CAS_ITEM_MESSAGE, 0, frame, NULL, 0);
      cJSON_Delete(frame);
      return CAS_OK;
    case CAS_FRAME_KEEP_ALIVE: cJSON_Delete(frame); return CAS_OK;
    case CAS_FRAME_INVALID:
      /* Valid JSON that is not an object with a type: pass it through as a
     * message; the Lua layer keeps unknown shapes raw. */
    case CAS_FRAME_MESSAGE:
    default: return cas__on_message(p, frame);
  }
}

int cas_proto_takes_type(const char *type, size_t len) {
  return type && cas_frame_classify_type(type, len) == CAS_FRAME_MESSAGE &&
         !(len == 6 && memcmp(type, "result", 6) == 0) && !(len == 6 && memcmp(type, "system", 6) == 0);
}

int cas_proto_takes_line(const cas_json_shape_t *sh) {
  return !sh->type_escaped && cas_proto_takes_type(sh->type, sh->type_len);
}

/* Queue it, a line-held message: not a result and not session_state_changed,
 * so the newest message is no longer an error result.  (An unchecked line
 * that turns out to be malformed counts as a message here: the decode error
 * it becomes stands where it was, after the error result.) */
static void cas__queue_line_item(cas_proto_t *p, cas_item_t *it) {
  it->kind = CAS_ITEM_MESSAGE;
  if (p->last_error_result) {
    cJSON_Delete(p->last_error_result);
    p->last_error_result = NULL;
  }
  cas__queue_push(&p->messages, it);
}

/* The type's place in the line, from the scan. */
static void cas__item_type(cas_item_t *it, const char *line, const cas_json_shape_t *sh) {
  it->type_off = (size_t)(sh->type - line);
  it->type_len = sh->type_len;
}

int cas_proto_on_line(cas_proto_t *p, const char *line, size_t len, const cas_json_shape_t *sh) {
  cas_item_t *it;

  if (!cas_proto_takes_line(sh)) return CAS_PROTO_NEED_TREE;
  it = (cas_item_t *)calloc(1, sizeof *it);
  if (!it || !(it->text = cas__strndup(line, len))) {
    free(it);
    return CAS_ENOMEM;
  }
  it->text_len = len;
  cas__item_type(it, line, sh);
  cas__queue_line_item(p, it);
  return CAS_OK;
}

int cas_proto_on_line_owned(cas_proto_t *p, char *block, char *line, size_t len, const cas_json_shape_t *sh) {
  /* The line stays put, in the block the item owns. */
  cas_item_t *it = (cas_item_t *)calloc(1, sizeof *it);
  if (!it) {
    free(block);
    return CAS_ENOMEM;
  }
  it->block = block;
  it->text = line;
  it->text_len = len;
  cas__item_type(it, line, sh);
  cas__queue_line_item(p, it);
  return CAS_OK;
}

/* Recycled items: at most this many bytes of them are kept, each with room
 * for a line of at most CAS_SPARE_ROOM bytes. */
#define CAS_SPARE_BYTES ((size_t)1 << 20)
#define CAS_SPARE_ROOM ((size_t)64 * 1024)

void cas_proto_recycle(cas_proto_t *p, cas_item_t *it) {
  size_t size;
  if (!it) return;
  size = sizeof *it + it->room;
  if (!p || !it->room || it->room > CAS_SPARE_ROOM || p->spare_bytes + size > CAS_SPARE_BYTES) {
    cas_item_free(it);
    return;
  }
  if (it->json) cJSON_Delete(it->json);
  it->json = NULL;
  it->next = p->spare;
  p->spare = it;
  p->spare_bytes += size;
}

/* An item with room for need bytes after it: a spare that fits, or a new one
 * (rounded up, so that it fits the lines of a similar frame later). */
static cas_item_t *cas__item_with_room(cas_proto_t *p, size_t need) {
  cas_item_t *it = p->spare;
  size_t room;
  if (it && it->room >= need) {
    p->spare = it->next;
    p->spare_bytes -= sizeof *it + it->room;
    room = it->room;
  } else {
    room = need < 1024 ? 1024 : (need + 1023) & ~(size_t)1023;
    if (room < need || room > SIZE_MAX - sizeof *it) return NULL;
    if (!(it = (cas_item_t *)malloc(sizeof *it + room))) return NULL;
  }
  memset(it, 0, sizeof *it);
  it->room = room;
  it->text = (char *)(it + 1);
  return it;
}

int cas__proto_on_line_unchecked(cas_proto_t *p, char *block, const char *line, size_t len, size_t type_off,
                                 size_t type_len) {
  cas_item_t *it;
  if (block) {
    /* the line stays where it is; the item owns its block */
    if (!(it = (cas_item_t *)calloc(1, sizeof *it))) {
      free(block);
      return CAS_ENOMEM;
    }
    it->block = block;
    it->text = (char *)(uintptr_t)line;
  } else {
    /* copied into the item's own allocation, a recycled one when it fits */
    if (len == SIZE_MAX || !(it = cas__item_with_room(p, len + 1))) return CAS_ENOMEM;
    memcpy(it->text, line, len);
    it->text[len] = '\0';
  }
  it->text_len = len;
  it->type_off = type_off;
  it->type_len = type_len;
  it->unchecked = 1;
  cas__queue_line_item(p, it);
  return CAS_OK;
}

int cas_proto_on_decode_error(cas_proto_t *p, int code, const char *line, size_t len) {
  return cas__push_item(&p->messages, CAS_ITEM_DECODE_ERROR, code, NULL, line,
                        len > CAS_DECODE_HEAD ? CAS_DECODE_HEAD : len);
}

static void cas__fail_all(cas_proto_t *p, int code, const char *msg) {
  cas_pending_t *r;
  for (r = p->pending; r; r = r->next)
    if (r->state == CAS_REQ_PENDING) cas__pending_fail(r, code, msg);
  if (!p->dead) {
    p->dead = 1;
    p->dead_code = code;
    p->dead_msg = cas__strndup(msg, strlen(msg));
  }
}

int cas_proto_on_fatal(cas_proto_t *p, int code, const char *msg) {
  cas__fail_all(p, code, msg);
  return cas__push_item(&p->messages, CAS_ITEM_FATAL, code, NULL, msg, strlen(msg));
}

int cas_proto_on_stderr(cas_proto_t *p, const char *line, size_t len) {
  return cas__push_item(&p->stderr_lines, CAS_ITEM_STDERR, 0, NULL, line, len);
}

void cas_proto_on_exit(cas_proto_t *p, const char *msg) {
  cas__fail_all(p, CAS_EEXIT, msg);
  /* Nobody is left to answer. */
  cas__name_clear(&p->open_inbound);
}

/* --- queues ------------------------------------------------------------------ */

cas_item_t *cas_proto_pop_message(cas_proto_t *p) { return cas__queue_pop(&p->messages); }
cas_item_t *cas_proto_peek_message(cas_proto_t *p) { return p->messages.head; }
cas_item_t *cas_proto_pop_request(cas_proto_t *p) { return cas__queue_pop(&p->requests); }
cas_item_t *cas_proto_pop_stderr(cas_proto_t *p) { return cas__queue_pop(&p->stderr_lines); }
size_t cas_proto_messages_queued(const cas_proto_t *p) { return p->messages.count; }
size_t cas_proto_requests_queued(const cas_proto_t *p) { return p->requests.count; }
size_t cas_proto_stderr_queued(const cas_proto_t *p) { return p->stderr_lines.count; }

/* --- outbound ------------------------------------------------------------------ */

int cas_proto_send_line(cas_proto_t *p, const char *line, size_t len) {
  int rc;
  /* A raw newline would split the frame in two, and the CLI exits on a line
   * that is not valid JSON: refuse it here. */
  if (len == 0 || memchr(line, '\n', len)) return CAS_EINVAL;
  rc = cas_buf_reserve(&p->out, len + 1);
  if (rc) return rc;
  memcpy(p->out.data + p->out.len, line, len);
  p->out.data[p->out.len + len] = '\n';
  p->out.len += len + 1;
  return CAS_OK;
}

int cas_proto_send(cas_proto_t *p, const cJSON *frame) {
  char *s = cJSON_PrintUnformatted(frame);
  int rc;
  if (!s) return CAS_ENOMEM;
  rc = cas_proto_send_line(p, s, strlen(s));
  cJSON_free(s);
  return rc;
}

/* Append the pieces (NUL-terminated strings) to p->out; on failure the
 * buffer is as it was. */
static int cas__out_cat(cas_proto_t *p, size_t start, const char *const *pieces, int n) {
  int i, rc;
  for (i = 0; i < n; i++) {
    if ((rc = cas_buf_append(&p->out, pieces[i], strlen(pieces[i]))) < 0) {
      p->out.len = start;
      return rc;
    }
  }
  return CAS_OK;
}

int cas_proto_request_json(cas_proto_t *p, const char *request, size_t len, int64_t deadline_ms, char *id_out) {
  cas_pending_t *r;
  size_t start = p->out.len;
  int rc;

  id_out[0] = '\0';
  /* A raw newline would split the frame (and the CLI exits on a line that is
   * not JSON). */
  if (!request || len == 0 || memchr(request, '\n', len)) return CAS_EINVAL;
  r = (cas_pending_t *)calloc(1, sizeof *r);
  if (!r) return CAS_ENOMEM;
  p->counter++;
  snprintf(r->id, sizeof r->id, "req_%lu_%08lx", p->counter, (p->salt ^ (p->counter * 0x9E3779B1UL)) & 0xffffffffUL);
  r->deadline = deadline_ms;
  r->state = CAS_REQ_PENDING;

  if (p->dead) {
    /* Never write to a dead stream; fail the request the way exit would. */
    cas__pending_fail(r, p->dead_code, p->dead_msg ? p->dead_msg : "the process exited");
  } else {
    /* The id is ours (letters, digits, '_'): it needs no escaping. */
    const char *head[] = {"{\"type\":\"control_request\",\"request_id\":\"", r->id, "\",\"request\":"};
    if ((rc = cas__out_cat(p, start, head, 3)) < 0 || (rc = cas_buf_append(&p->out, request, len)) < 0 ||
        (rc = cas_buf_append(&p->out, "}\n", 2)) < 0) {
      p->out.len = start;
      free(r);
      return rc;
    }
  }
  r->next = p->pending;
  p->pending = r;
  memcpy(id_out, r->id, strlen(r->id) + 1);
  return CAS_OK;
}

int cas_proto_request(cas_proto_t *p, const char *subtype, cJSON *fields, int64_t deadline_ms, char *id_out) {
  cJSON *req = fields;
  char *text;
  int rc;

  id_out[0] = '\0';
  if (!req) req = cJSON_CreateObject();
  if (!req) return CAS_ENOMEM;
  if (!cJSON_IsObject(req)) {
    cJSON_Delete(req);
    return CAS_EINVAL;
  }
  cJSON_DeleteItemFromObjectCaseSensitive(req, "subtype");
  text = cJSON_AddStringToObject(req, "subtype", subtype) ? cJSON_PrintUnformatted(req) : NULL;
  cJSON_Delete(req);
  if (!text) return CAS_ENOMEM;
  rc = cas_proto_request_json(p, text, strlen(text), deadline_ms, id_out);
  cJSON_free(text);
  return rc;
}

int cas_proto_response(cas_proto_t *p, const char *id, const cJSON **result, const char **error) {
  cas_pending_t *r = cas__pending_find(p, id);
  if (result) *result = NULL;
  if (error) *error = NULL;
  if (!r) return CAS_EINVAL;
  if (r->state == CAS_REQ_DONE && result) *result = r->result;
  if (r->state < 0 && error) *error = r->error ? r->error : cas_strerror(r->state);
  return r->state;
}

void cas_proto_forget(cas_proto_t *p, const char *id) {
  cas_pending_t **pp;
  for (pp = &p->pending; *pp; pp = &(*pp)->next) {
    if (strcmp((*pp)->id, id) == 0) {
      cas_pending_t *r = *pp;
      *pp = r->next;
      if (r->result) cJSON_Delete(r->result);
      free(r->error);
      free(r);
      return;
    }
  }
}

int cas_proto_expire(cas_proto_t *p, int64_t now_ms) {
  cas_pending_t *r;
  int n = 0;
  for (r = p->pending; r; r = r->next) {
    if (r->state == CAS_REQ_PENDING && r->deadline >= 0 && r->deadline <= now_ms) {
      cas__pending_fail(r, CAS_ETIMEOUT, "control request timed out");
      n++;
    }
  }
  return n;
}

int64_t cas_proto_next_deadline(const cas_proto_t *p) {
  const cas_pending_t *r;
  int64_t best = -1;
  for (r = p->pending; r; r = r->next)
    if (r->state == CAS_REQ_PENDING && r->deadline >= 0 && (best < 0 || r->deadline < best)) best = r->deadline;
  return best;
}

size_t cas_proto_pending_count(const cas_proto_t *p) {
  const cas_pending_t *r;
  size_t n = 0;
  for (r = p->pending; r; r = r->next)
    if (r->state == CAS_REQ_PENDING) n++;
  return n;
}

int cas_proto_respond_json(cas_proto_t *p, const char *request_id, const char *response, size_t len,
                           const char *error_msg) {
  const char *head[] = {"{\"type\":\"control_response\",\"response\":{\"subtype\":\"", error_msg ? "error" : "success",
                        "\",\"request_id\":"};
  size_t start = p->out.len;
  int rc;

  if (!request_id || (response && !error_msg && (len == 0 || memchr(response, '\n', len)))) return CAS_EINVAL;
  if (!cas__name_remove(&p->open_inbound, request_id)) {
    /* Cancelled, already answered, or the process is gone: say nothing. */
    return 1;
  }
  /* The id and the message go out whatever bytes they hold: an answer that
   * cannot be written would leave the CLI waiting for it. */
  if ((rc = cas__out_cat(p, start, head, 3)) < 0 ||
      (rc = cas_json_write_string(&p->out, request_id, strlen(request_id), 1)) < 0)
    goto fail;
  if (error_msg) {
    if ((rc = cas_buf_append(&p->out, ",\"error\":", 9)) < 0 ||
        (rc = cas_json_write_string(&p->out, error_msg, strlen(error_msg), 1)) < 0)
      goto fail;
  } else if ((rc = cas_buf_append(&p->out, ",\"response\":", 12)) < 0 ||
             (rc = response ? cas_buf_append(&p->out, response, len) : cas_buf_append(&p->out, "{}", 2)) < 0) {
    goto fail;
  }
  if ((rc = cas_buf_append(&p->out, "}}\n", 3)) < 0) goto fail;
  return CAS_OK;
fail:
  p->out.len = start;
  return rc;
}

int cas_proto_respond(cas_proto_t *p, const char *request_id, cJSON *response, const char *error_msg) {
  char *text = NULL;
  int rc;
  if (response) {
    if (!error_msg) text = cJSON_PrintUnformatted(response);
    cJSON_Delete(response);
    if (!error_msg && !text) return CAS_ENOMEM;
  }
  rc = cas_proto_respond_json(p, request_id, text, text ? strlen(text) : 0, error_msg);
  cJSON_free(text);
  return rc;
}

/* --- turn tracking -------------------------------------------------------------- */

unsigned long cas_proto_results_seen(const cas_proto_t *p) { return p->results; }
const cJSON *cas_proto_last_error_result(const cas_proto_t *p) { return p->last_error_result; }
unsigned long cas_proto_unmatched_responses(const cas_proto_t *p) { return p->unmatched; }

size_t cas_proto_tasks_in_flight(const cas_proto_t *p) {
  const cas_name_t *n;
  size_t c = 0;
  for (n = p->tasks; n; n = n->next) c++;
  return c;
}
