/* cas_client.h - a running CLI: process + framing + JSON + protocol state.
 *
 * This is the object a C program (or the Lua binding) holds.  It never blocks
 * except inside cas_client_pump() for at most the timeout it is given, and it
 * never calls back: the caller pumps, then pops what arrived from the protocol
 * queues (cas_client_proto()).  That makes one code path serve a blocking
 * script (pump(-1) in a loop), an event loop (poll the fds, pump(0) when one is
 * ready or the deadline passes) and a game's frame loop (pump(0) per frame).
 *
 * One pump:
 *   - polls stdout, stderr, stdin (only while writes are queued) and the exit
 *     fd, for at most timeout_ms, but never past the next deadline (items
 *     already queued do not shorten the wait: pop them before pumping);
 *   - reads what is ready; each complete stdout line is parsed and handed to
 *     the protocol (messages, responses, control requests); stderr lines feed a
 *     tail kept for error messages and, if asked, the stderr queue;
 *   - writes what is queued for stdin;
 *   - expires pending requests whose deadline passed;
 *   - notices the exit (pidfd, or EOF on both pipes and waitpid): everything
 *     still in the pipes is read first, then every pending request fails at
 *     once with the exit code and the stderr tail;
 *   - advances the shutdown ladder if one was started.
 *
 * The shutdown ladder (cas_client_shutdown): close stdin, give the CLI
 * `grace_ms` to exit by itself (it flushes its session file), then SIGTERM to
 * its process group, `term_ms` later SIGKILL.  It is a state machine driven by
 * pump, so an event loop can run it without blocking; cas_client_close() runs
 * it to the end for a blocking caller.
 */
#ifndef CAS_CLIENT_H
#define CAS_CLIENT_H

#include "cas_version.h"
#include <stddef.h>
#include <stdint.h>
#include <poll.h>
#include "cas_process.h"
#include "cas_proto.h"

typedef struct cas_client cas_client_t;

typedef struct {
  const char *const *argv; /* exactly what is executed; no shell */
  const char *const *envp; /* the whole environment, NULL to inherit */
  const char *cwd; /* NULL to inherit */
  const char *user; /* NULL: ours; else run the CLI as this user */
  size_t max_buffer_size; /* longest stdout line; 0 means 64 MiB */
  size_t stderr_tail; /* bytes of stderr kept for errors; 0 means 8 KiB */
  int stderr_lines; /* also queue each stderr line for the caller */
  int max_depth; /* JSON nesting limit; 0 means CAS_JSON_MAX_DEPTH */
  int mirror_frames; /* queue transcript_mirror frames as messages (a session store
                        mirrors them); otherwise they are dropped */
} cas_client_opts_t;

CAS_EXTERN int cas_client_spawn(cas_client_t **out, const cas_client_opts_t *opts, int *sys_errno);
/* Kills the process group if it still runs, reaps it, frees everything. */
CAS_EXTERN void cas_client_free(cas_client_t *c);

/* Do ready I/O, waiting at most timeout_ms (-1: until something happens).
 * Returns 0, or a negative code for a failure of the host (CAS_ENOMEM,
 * CAS_ESYS); the CLI's own failures arrive as items and request failures. */
CAS_EXTERN int cas_client_pump(cas_client_t *c, int timeout_ms);

/* The fds to poll and their events (POLLIN/POLLOUT); returns how many were
 * written (at most max). */
CAS_EXTERN int cas_client_pollfds(const cas_client_t *c, struct pollfd *fds, int max);
/* Milliseconds until pump must run again even if no fd is ready (a deadline),
 * -1 if nothing is timed.  Items already queued do not count: pop them first. */
CAS_EXTERN int cas_client_timeout(const cas_client_t *c);

/* The protocol state: queues, responses, turn tracking. */
CAS_EXTERN cas_proto_t *cas_client_proto(cas_client_t *c);

/* Queue a frame / a control request / an answer and start writing it.
 * CAS_ECLOSED once stdin is closed or the process is gone, CAS_EPIPE if the
 * CLI stopped reading. */
CAS_EXTERN int cas_client_send(cas_client_t *c, const cJSON *frame);
CAS_EXTERN int cas_client_send_line(cas_client_t *c, const char *line, size_t len);
/* timeout_ms < 0: no deadline.  fields is taken. */
CAS_EXTERN int cas_client_request(cas_client_t *c, const char *subtype, cJSON *fields, int timeout_ms, char *id_out);
CAS_EXTERN int cas_client_respond(cas_client_t *c, const char *request_id, cJSON *response, const char *error_msg);
/* The same two with the request object / the answer's payload as JSON text,
 * for a caller that encodes its own (cas_proto_request_json,
 * cas_proto_respond_json say what the text must be). */
CAS_EXTERN int cas_client_request_json(cas_client_t *c, const char *request, size_t len, int timeout_ms, char *id_out);
CAS_EXTERN int cas_client_respond_json(cas_client_t *c, const char *request_id, const char *response, size_t len,
                                       const char *error_msg);

/* Close the CLI's stdin once queued writes are out (end of input). */
CAS_EXTERN int cas_client_close_stdin(cas_client_t *c);
/* Start the shutdown ladder (idempotent). */
CAS_EXTERN void cas_client_shutdown(cas_client_t *c, int grace_ms, int term_ms);
/* Run the ladder to the end, blocking (at most grace + 2 * term ms). */
CAS_EXTERN void cas_client_close(cas_client_t *c, int grace_ms, int term_ms);

/* 1 once the process has exited and everything it wrote has been read. */
CAS_EXTERN int cas_client_finished(const cas_client_t *c);
/* 1 while the process runs (not yet reaped). */
CAS_EXTERN int cas_client_alive(const cas_client_t *c);
CAS_EXTERN int cas_client_pid(const cas_client_t *c);
/* After finish: exit code (-1 when killed by a signal), *signo. */
CAS_EXTERN int cas_client_exit_code(const cas_client_t *c, int *signo);
/* The kept tail of stderr (not NUL-terminated). */
CAS_EXTERN const char *cas_client_stderr_tail(const cas_client_t *c, size_t *len);
/* Lines skipped on stdout: blank, non-JSON, and a final line cut short by the
 * exit (it can never be completed, so it is dropped, as the Python SDK does). */
CAS_EXTERN void cas_client_skipped(const cas_client_t *c, unsigned long *blank, unsigned long *nonjson,
                                   unsigned long *truncated);

#endif
