/* cas_proto.h - the stream-json control protocol as a state machine, no I/O.
 *
 * cas_proto_t knows what the frames mean, not where they come from: the client
 * (cas_client.c) feeds it parsed frames read from the CLI's stdout and takes
 * the bytes it wants written to the CLI's stdin from `out`.  That keeps it
 * testable without a process.
 *
 * What it keeps:
 *   - a FIFO of conversation items (messages, and decode errors in their place
 *     in the stream so nothing is reordered or lost);
 *   - a FIFO of inbound control requests from the CLI and their cancellations;
 *   - the pending table of our own control requests, with deadlines: each
 *     ends done (with the response payload), failed with the CLI's error text
 *     (CAS_EREMOTE), timed out (CAS_ETIMEOUT), or failed because the process
 *     exited (CAS_EEXIT) - all of them at once, the moment the exit is known;
 *   - the ids of inbound requests still open, so an answer to a request the
 *     CLI cancelled is dropped instead of written;
 *   - turn tracking: results seen, whether the latest message was an error
 *     result (for mapping a non-zero exit to the result's error), and the
 *     background agent tasks in flight (stdin must stay open for them).
 *
 * Ownership: every cJSON handed in is owned by the proto afterwards.  Items
 * popped with cas_proto_pop_*() belong to the caller (cas_item_free).
 */
#ifndef CAS_PROTO_H
#define CAS_PROTO_H

#include "cas_version.h"
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "cas_buf.h"
#include "cas_json.h"

typedef enum {
  CAS_ITEM_MESSAGE = 1, /* json: a conversation frame (user, assistant, result, ...) */
  CAS_ITEM_DECODE_ERROR, /* text: the head of a line that is not valid JSON; code: CAS_EJSON/EUTF8/EDEPTH */
  CAS_ITEM_FATAL, /* text: why the stream is dead (e.g. a line over the limit); code */
  CAS_ITEM_REQUEST, /* json: a control_request frame from the CLI */
  CAS_ITEM_CANCEL, /* text: the request_id the CLI cancelled */
  CAS_ITEM_STDERR /* text: one line of the CLI's stderr */
} cas_item_kind;

/* One queued thing, of a cas_item_kind.  Opaque: read it with the
 * cas_item_get_*() accessors and cas_item_tree().  A MESSAGE item holds
 * either a tree or, for the frames the protocol never looks inside
 * (assistant, user, stream_event, ...), the line itself, of which
 * cas_item_tree() makes a tree on demand. */
typedef struct cas_item cas_item_t;

CAS_EXTERN void cas_item_free(cas_item_t *it);
/* What an item is (cas_item_kind values; 0 for NULL) and its CAS_E* code
 * (DECODE_ERROR and FATAL items; 0 otherwise). */
CAS_EXTERN int cas_item_get_kind(const cas_item_t *it);
CAS_EXTERN int cas_item_get_code(const cas_item_t *it);
/* The item's text (by kind: the line of a DECODE_ERROR, the reason
 * of a FATAL, the request_id of a CANCEL, a STDERR line), NUL-terminated,
 * its length in *len; NULL when it has none.  Valid until the item is freed. */
CAS_EXTERN const char *cas_item_get_text(const cas_item_t *it, size_t *len);
/* A MESSAGE item's frame type ("assistant", "result", ...), not
 * NUL-terminated: *len bytes.  NULL when it has none. */
CAS_EXTERN const char *cas_item_get_type(const cas_item_t *it, size_t *len);
/* The item's JSON as a tree: it->json, parsed from the line on first use for
 * a MESSAGE item queued as its line (kept in it->json and freed with the
 * item).  NULL when the item has no JSON, or when memory ran out. */
CAS_EXTERN const cJSON *cas_item_tree(cas_item_t *it);

/* Results of cas_proto_response(). */
enum { CAS_REQ_PENDING = 1, CAS_REQ_DONE = 0 };

typedef struct cas_proto cas_proto_t;

CAS_EXTERN int cas_proto_new(cas_proto_t **out);
CAS_EXTERN void cas_proto_free(cas_proto_t *p);
/* Queue transcript_mirror frames as messages (on != 0) instead of dropping
 * them: the session store's mirror reads them (--session-mirror). */
CAS_EXTERN void cas_proto_keep_mirror(cas_proto_t *p, int on);

/* Bytes waiting to be written to the CLI's stdin (whole lines).  The client
 * moves them to the process and clears the buffer. */
CAS_EXTERN cas_buf_t *cas_proto_out(cas_proto_t *p);

/* --- inbound ---------------------------------------------------------------- */
/* One parsed frame from stdout (ownership taken, even on error). */
CAS_EXTERN int cas_proto_on_frame(cas_proto_t *p, cJSON *frame);
/* A valid line scanned by cas_json_scan(), without a tree.  Frames the
 * protocol acts on (control frames, result, system, or a "type" with escapes)
 * return CAS_PROTO_NEED_TREE untouched: parse the line and call
 * cas_proto_on_frame().  Every other frame is queued as a MESSAGE item holding
 * a copy of the line. */
#define CAS_PROTO_NEED_TREE 1
CAS_EXTERN int cas_proto_on_line(cas_proto_t *p, const char *line, size_t len, const cas_json_shape_t *sh);
/* Would cas_proto_on_line() queue this line as it is (not CAS_PROTO_NEED_TREE)? */
CAS_EXTERN int cas_proto_takes_line(const cas_json_shape_t *sh);
/* cas_proto_on_line() for a line inside block (a malloc'd allocation, line
 * NUL-terminated), which the queued item then owns instead of a copy: for a
 * long line.  Only when cas_proto_takes_line(); on failure (CAS_ENOMEM) the
 * block is freed and the line is lost, as it would be on a copy's failure. */
CAS_EXTERN int cas_proto_on_line_owned(cas_proto_t *p, char *block, char *line, size_t len, const cas_json_shape_t *sh);
/* Would the protocol queue a frame of this "type" (as sent, no escapes) as
 * its line?  The same test as cas_proto_takes_line(), before any scan. */
CAS_EXTERN int cas_proto_takes_type(const char *type, size_t len);
/* How much of a bad line a decode error keeps. */
#define CAS_DECODE_HEAD 200
/* A line that failed to parse: queued as a decode error in stream order. */
CAS_EXTERN int cas_proto_on_decode_error(cas_proto_t *p, int code, const char *line, size_t len);
/* The stream is dead (code and a sentence); queued after everything else, and
 * every pending request fails with it. */
CAS_EXTERN int cas_proto_on_fatal(cas_proto_t *p, int code, const char *msg);
/* A stderr line, queued for the caller. */
CAS_EXTERN int cas_proto_on_stderr(cas_proto_t *p, const char *line, size_t len);
/* The process is gone: fail every pending request with CAS_EEXIT and msg. */
CAS_EXTERN void cas_proto_on_exit(cas_proto_t *p, const char *msg);

/* --- queues ------------------------------------------------------------------ */
CAS_EXTERN cas_item_t *cas_proto_pop_message(cas_proto_t *p);
/* Give back a popped item instead of cas_item_free(): one whose line lies in
 * its own allocation is kept (up to CAS_SPARE_BYTES of them) for a later
 * unchecked line that fits, so a stream of frames costs no malloc and free
 * per frame.  Any other item is freed. */
CAS_EXTERN void cas_proto_recycle(cas_proto_t *p, cas_item_t *it);
/* The message item that pop would return, left queued (still the proto's). */
CAS_EXTERN cas_item_t *cas_proto_peek_message(cas_proto_t *p);
CAS_EXTERN cas_item_t *cas_proto_pop_request(cas_proto_t *p); /* REQUEST and CANCEL items */
CAS_EXTERN cas_item_t *cas_proto_pop_stderr(cas_proto_t *p);
CAS_EXTERN size_t cas_proto_messages_queued(const cas_proto_t *p);
CAS_EXTERN size_t cas_proto_requests_queued(const cas_proto_t *p);
CAS_EXTERN size_t cas_proto_stderr_queued(const cas_proto_t *p);

/* --- outbound ------------------------------------------------------------------ */
/* Queue a frame for stdin (serialised compactly, one line).  Not taken. */
CAS_EXTERN int cas_proto_send(cas_proto_t *p, const cJSON *frame);
/* Queue an already serialised frame; it must be one line of JSON text
 * (no '\n' inside); a trailing newline is added. */
CAS_EXTERN int cas_proto_send_line(cas_proto_t *p, const char *line, size_t len);

/* Start a control request {"subtype": subtype, ...fields}.  fields (an object
 * or NULL) is taken.  deadline_ms is an absolute monotonic time, or -1 for none.
 * The request id (NUL-terminated, < 40 bytes) is written to id_out. */
CAS_EXTERN int cas_proto_request(cas_proto_t *p, const char *subtype, cJSON *fields, int64_t deadline_ms, char *id_out);
/* The same with the request object as JSON text (its "subtype" member
 * included), for a caller that encodes its own: request[0..len) must be one
 * JSON object with no raw newline (CAS_EINVAL for an empty text or a newline;
 * the rest is the caller's promise, as for cas_proto_send_line). */
CAS_EXTERN int cas_proto_request_json(cas_proto_t *p, const char *request, size_t len, int64_t deadline_ms,
                                      char *id_out);

/* The state of request id: CAS_REQ_PENDING; CAS_REQ_DONE with *result (borrowed,
 * valid until cas_proto_forget; an empty object when the CLI sent none); or a
 * negative code (CAS_EREMOTE, CAS_ETIMEOUT, CAS_EEXIT, ...) with *error (a
 * sentence, borrowed).  CAS_EINVAL for an unknown id. */
CAS_EXTERN int cas_proto_response(cas_proto_t *p, const char *id, const cJSON **result, const char **error);
/* Drop a finished (or abandoned) request. */
CAS_EXTERN void cas_proto_forget(cas_proto_t *p, const char *id);
/* Fail requests whose deadline is <= now; returns how many. */
CAS_EXTERN int cas_proto_expire(cas_proto_t *p, int64_t now_ms);
/* Earliest deadline of a pending request, or -1. */
CAS_EXTERN int64_t cas_proto_next_deadline(const cas_proto_t *p);
CAS_EXTERN size_t cas_proto_pending_count(const cas_proto_t *p);

/* Answer an inbound control request.  response (taken) is the success payload
 * (NULL: none); error_msg non-NULL sends the error form instead.  Returns 0,
 * or 1 when the request is no longer open (cancelled or answered): nothing is
 * written then. */
CAS_EXTERN int cas_proto_respond(cas_proto_t *p, const char *request_id, cJSON *response, const char *error_msg);
/* The same with the success payload as JSON text: response[0..len) one JSON
 * value with no raw newline (NULL: {}); not read when error_msg is given. */
CAS_EXTERN int cas_proto_respond_json(cas_proto_t *p, const char *request_id, const char *response, size_t len,
                                      const char *error_msg);

/* --- turn tracking -------------------------------------------------------------- */
CAS_EXTERN unsigned long cas_proto_results_seen(const cas_proto_t *p);
/* The latest conversation message, if it was a result with is_error true, else
 * NULL (a later session_state_changed does not count as a newer message). */
CAS_EXTERN const cJSON *cas_proto_last_error_result(const cas_proto_t *p);
/* Background agent tasks (task_started local_agent / local_workflow) not yet
 * finished. */
CAS_EXTERN size_t cas_proto_tasks_in_flight(const cas_proto_t *p);
CAS_EXTERN unsigned long cas_proto_unmatched_responses(const cas_proto_t *p);

#endif
