/* cas_client.c - glue: the process's pipes, the framers, the JSON parser and
 * the protocol state, driven by cas_client_pump().  See cas_client.h.
 */
#include "cas_client.h"
#include "cas_error.h"
#include "cas_framer.h"
#include "cas_internal.h"
#include "cas_json.h"
#include "cas_process.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CAS_READ_CHUNK 65536
/* Bound the bytes one pump reads so a frame loop's pump(0) stays short. */
#define CAS_READ_BUDGET (8u << 20)
/* One pump stops reading stdout once it has queued this many messages.  A
 * reader that keeps up pumps only when the queue is empty, so the queue (and
 * memory) stays this small however long the turn; one that does not still
 * gets progress on every pump, so a control response behind unread messages
 * is never stuck. */
#define CAS_PUMP_MESSAGES 512
#define CAS_DEFAULT_TAIL 8192
#define CAS_DEFAULT_MAX_LINE ((size_t)64 << 20)

enum { STAGE_NONE = 0, STAGE_STDIN_CLOSED, STAGE_TERM, STAGE_KILL };

struct cas_client {
  cas_process_t *proc;
  cas_proto_t *proto;
  cas_framer_t out, err;
  cas_buf_t tail;
  size_t tail_cap;
  size_t max_line;
  int max_depth;
  int defer_check;
  int stderr_lines;
  int exited; /* reaped */
  int finished; /* reaped, pipes drained, pending failed */
  int discard; /* shutting down or dead: stop parsing stdout */
  int at_eof; /* stdout ended: what the framer returns now is the tail */
  size_t msg_stop; /* this pump reads no more stdout once this many messages queue; 0: no limit */
  unsigned long truncated; /* unparsable tails at EOF, dropped */
  int stage; /* shutdown ladder */
  int grace_ms, term_ms;
  int64_t stage_deadline;
  int64_t exit_poll_at; /* without a pidfd: next waitpid check */
  int exit_poll_step;
  int exit_code, signo;
};

/* --- stderr tail -------------------------------------------------------------- */

static void cas__tail_add(cas_client_t *c, const char *line, size_t len) {
  /* Keep the newest tail_cap bytes; trimming only when twice over keeps the
   * memmove cost amortised. */
  if (len > c->tail_cap) {
    line += len - c->tail_cap;
    len = c->tail_cap;
  }
  if (cas_buf_append(&c->tail, line, len) != CAS_OK) return;
  (void)cas_buf_append(&c->tail, "\n", 1);
  if (c->tail.len > 2 * c->tail_cap) cas_buf_consume(&c->tail, c->tail.len - c->tail_cap);
}

const char *cas_client_stderr_tail(const cas_client_t *c, size_t *len) {
  size_t n = c->tail.len, off = 0;
  if (n > c->tail_cap) off = n - c->tail_cap;
  *len = n - off;
  return c->tail.data ? c->tail.data + off : "";
}

/* --- life cycle ---------------------------------------------------------------- */

int cas_client_spawn(cas_client_t **out, const cas_client_opts_t *o, int *sys_errno) {
  cas_spawn_opts_t so;
  cas_client_t *c;
  int rc;

  *out = NULL;
  if (sys_errno) *sys_errno = 0;
  if (!o || !o->argv || !o->argv[0]) return CAS_EINVAL;
  c = (cas_client_t *)calloc(1, sizeof *c);
  if (!c) return CAS_ENOMEM;
  c->max_line = o->max_buffer_size ? o->max_buffer_size : CAS_DEFAULT_MAX_LINE;
  c->tail_cap = o->stderr_tail ? o->stderr_tail : CAS_DEFAULT_TAIL;
  c->max_depth = o->max_depth;
  c->stderr_lines = o->stderr_lines;
  c->exit_code = -1;
  cas_framer_init(&c->out, CAS_FRAMER_JSON, c->max_line);
  /* stderr lines are bounded by the tail size, so a flood without newlines
   * cannot grow memory. */
  cas_framer_init(&c->err, CAS_FRAMER_TEXT, c->tail_cap);
  cas_buf_init(&c->tail);

  rc = cas_proto_new(&c->proto);
  if (rc == CAS_OK) cas_proto_keep_mirror(c->proto, o->mirror_frames);
  if (rc == CAS_OK) {
    memset(&so, 0, sizeof so);
    so.argv = o->argv;
    so.envp = o->envp;
    so.cwd = o->cwd;
    so.user = o->user;
    rc = cas_process_spawn(&c->proc, &so, sys_errno);
  }
  if (rc != CAS_OK) {
    cas_client_free(c);
    return rc;
  }
  *out = c;
  return CAS_OK;
}

void cas__client_defer_check(cas_client_t *c, int on) {
  if (c) c->defer_check = on != 0;
}

void cas_client_free(cas_client_t *c) {
  if (!c) return;
  if (c->proc) cas_process_free(c->proc); /* kills the group if still alive */
  if (c->proto) cas_proto_free(c->proto);
  cas_framer_free(&c->out);
  cas_framer_free(&c->err);
  cas_buf_free(&c->tail);
  free(c);
}

cas_proto_t *cas_client_proto(cas_client_t *c) { return c->proto; }
int cas_client_finished(const cas_client_t *c) { return c->finished; }
int cas_client_alive(const cas_client_t *c) { return !c->exited; }
int cas_client_pid(const cas_client_t *c) { return cas_process_pid(c->proc); }

int cas_client_exit_code(const cas_client_t *c, int *signo) {
  if (signo) *signo = c->signo;
  return c->exit_code;
}

void cas_client_skipped(const cas_client_t *c, unsigned long *blank, unsigned long *nonjson, unsigned long *truncated) {
  if (blank) *blank = c->out.blank;
  if (nonjson) *nonjson = c->out.nonjson;
  if (truncated) *truncated = c->truncated;
}

/* --- writing ---------------------------------------------------------------------- */

/* Move what the protocol queued to the process's write queue. */
static int cas__flush_out(cas_client_t *c) {
  cas_buf_t *o = cas_proto_out(c->proto);
  int rc;
  if (o->len == 0) return CAS_OK;
  if (c->exited || c->discard) {
    cas_buf_clear(o);
    return CAS_ECLOSED;
  }
  rc = cas_process_write(c->proc, o->data, o->len);
  cas_buf_clear(o);
  return rc;
}

int cas_client_send(cas_client_t *c, const cJSON *frame) {
  int rc = cas_proto_send(c->proto, frame);
  return rc ? rc : cas__flush_out(c);
}

int cas_client_send_line(cas_client_t *c, const char *line, size_t len) {
  int rc = cas_proto_send_line(c->proto, line, len);
  return rc ? rc : cas__flush_out(c);
}

/* After a request was registered: start writing it. */
static int cas__flush_request(cas_client_t *c, int rc) {
  if (rc) return rc;
  rc = cas__flush_out(c);
  if (rc == CAS_EPIPE || rc == CAS_ECLOSED) {
    /* The request is registered; it fails through the exit path (with the
     * exit code and stderr tail), which is the more useful error. */
    return CAS_OK;
  }
  return rc;
}

int cas_client_request(cas_client_t *c, const char *subtype, cJSON *fields, int timeout_ms, char *id_out) {
  int64_t deadline = timeout_ms < 0 ? -1 : cas_now_ms() + timeout_ms;
  return cas__flush_request(c, cas_proto_request(c->proto, subtype, fields, deadline, id_out));
}

int cas_client_request_json(cas_client_t *c, const char *request, size_t len, int timeout_ms, char *id_out) {
  int64_t deadline = timeout_ms < 0 ? -1 : cas_now_ms() + timeout_ms;
  return cas__flush_request(c, cas_proto_request_json(c->proto, request, len, deadline, id_out));
}

/* After an answer was queued (rc 0) or dropped (1): start writing it. */
static int cas__flush_answer(cas_client_t *c, int rc) {
  if (rc != CAS_OK) return rc == 1 ? CAS_OK : rc;
  rc = cas__flush_out(c);
  /* A CLI that went away cannot be answered; its exit is reported elsewhere. */
  return (rc == CAS_EPIPE || rc == CAS_ECLOSED) ? CAS_OK : rc;
}

int cas_client_respond(cas_client_t *c, const char *request_id, cJSON *response, const char *error_msg) {
  return cas__flush_answer(c, cas_proto_respond(c->proto, request_id, response, error_msg));
}

int cas_client_respond_json(cas_client_t *c, const char *request_id, const char *response, size_t len,
                            const char *error_msg) {
  return cas__flush_answer(c, cas_proto_respond_json(c->proto, request_id, response, len, error_msg));
}

int cas_client_close_stdin(cas_client_t *c) {
  if (c->exited) return CAS_OK;
  return cas_process_close_stdin(c->proc);
}

/* --- reading ----------------------------------------------------------------------- */

/* A line this long is handed over with the framer's buffer, not copied. */
#define CAS_TAKE_LINE ((size_t)256 * 1024)

/* The "type" of a line as the CLI writes every frame, {"type":"...", with
 * no escape in it: *tlen bytes at line + *off.  0 for any other line. */
static int cas__plain_type(const char *line, size_t len, size_t *off, size_t *tlen) {
  static const char head[] = "{\"type\":\"";
  const size_t h = sizeof head - 1;
  const char *q;
  if (len <= h || memcmp(line, head, h) != 0) return 0;
  q = (const char *)memchr(line + h, '"', len - h < 64 ? len - h : 64);
  if (!q || memchr(line + h, '\\', (size_t)(q - line) - h)) return 0;
  *off = h;
  *tlen = (size_t)(q - line) - h;
  return 1;
}

/* Most frames are only queued for the caller: one scan validates them and
 * finds their type, and the line itself is queued.  With defer_check
 * even the scan is left to the caller, who checks while decoding; the first
 * member tells the type, as the scan would have (the first "type" wins).  A
 * line cut short by EOF is still scanned, so that it is counted as truncated
 * rather than reported.  The few frames the protocol acts on are parsed into
 * a tree. */
static void cas__handle_line(cas_client_t *c, const char *line, size_t len) {
  cas_json_shape_t sh;
  cJSON *tree = NULL;
  size_t off, tlen;
  int rc;
  if (c->defer_check && !c->at_eof && cas__plain_type(line, len, &off, &tlen) &&
      cas_proto_takes_type(line + off, tlen)) {
    char *block = len >= CAS_TAKE_LINE ? cas_framer_detach(&c->out) : NULL;
    (void)cas__proto_on_line_unchecked(c->proto, block, line, len, off, tlen);
    return;
  }
  rc = cas_json_scan(line, len, c->max_depth, &sh);
  if (rc == CAS_OK) {
    char *block;
    if (len >= CAS_TAKE_LINE && cas_proto_takes_line(&sh) && (block = cas_framer_detach(&c->out))) {
      /* the same position as line, writable like the block it lies in */
      (void)cas_proto_on_line_owned(c->proto, block, block + (line - block), len, &sh);
      return;
    }
    rc = cas_proto_on_line(c->proto, line, len, &sh);
    if (rc != CAS_PROTO_NEED_TREE) return;
    rc = cas_json_parse(line, len, c->max_depth, &tree);
  }
  if (rc == CAS_OK)
    (void)cas_proto_on_frame(c->proto, tree);
  else if (c->at_eof)
    c->truncated++; /* a crash cut the last frame short: it cannot be completed */
  else
    (void)cas_proto_on_decode_error(c->proto, rc, line, len);
}

static void cas__start_kill(cas_client_t *c) {
  c->discard = 1;
  if (c->stage < STAGE_TERM && !c->exited) {
    (void)cas_process_signal(c->proc, SIGTERM);
    c->stage = STAGE_TERM;
    c->stage_deadline = cas_now_ms() + (c->term_ms > 0 ? c->term_ms : 5000);
  }
}

static void cas__drain_stdout_lines(cas_client_t *c) {
  const char *line;
  size_t len;
  int rc;
  while ((rc = cas_framer_next(&c->out, &line, &len)) == 1) {
    if (!c->discard) cas__handle_line(c, line, len);
  }
  if (rc < 0 && !c->discard) {
    char msg[160];
    snprintf(msg, sizeof msg, "JSON message exceeded maximum buffer size of %lu bytes", (unsigned long)c->max_line);
    (void)cas_proto_on_fatal(c->proto, rc, msg);
    /* Nothing after an overflow can be trusted: the session is dead. */
    cas__start_kill(c);
  }
}

static void cas__drain_stderr_lines(cas_client_t *c) {
  const char *line;
  size_t len;
  while (cas_framer_next(&c->err, &line, &len) == 1) {
    cas__tail_add(c, line, len);
    if (c->stderr_lines) (void)cas_proto_on_stderr(c->proto, line, len);
  }
}

/* Read what one pipe has (up to the budget).  Returns 1 at EOF. */
static int cas__read_pipe(cas_client_t *c, int which, size_t *budget) {
  cas_framer_t *f = which == CAS_STDOUT ? &c->out : &c->err;
  for (;;) {
    size_t avail;
    long n;
    char *space;
    if (cas_process_fd(c->proc, which) < 0) return 1;
    if (*budget == 0) return 0;
    if (which == CAS_STDOUT && c->msg_stop && cas_proto_messages_queued(c->proto) >= c->msg_stop) return 0;
    if (which == CAS_STDOUT && f->err) {
      /* After an overflow keep the pipe drained (so the CLI is not stuck on a
       * full pipe while it is being killed) but keep nothing. */
      char sink[CAS_READ_CHUNK];
      n = cas_process_read(c->proc, which, sink, sizeof sink);
    } else {
      space = cas_framer_space(f, CAS_READ_CHUNK, &avail);
      if (!space) return 0; /* out of memory: try again next pump */
      n = cas_process_read(c->proc, which, space, avail);
      if (n > 0) (void)cas_framer_commit(f, (size_t)n);
    }
    if (n == 0) {
      if (which == CAS_STDOUT) c->at_eof = 1;
      cas_framer_eof(f);
      if (which == CAS_STDOUT)
        cas__drain_stdout_lines(c);
      else
        cas__drain_stderr_lines(c);
      return 1;
    }
    if (n < 0) return n == CAS_EAGAIN ? 0 : 1; /* a read error ends the pipe too */
    *budget = (size_t)n >= *budget ? 0 : *budget - (size_t)n;
    if (which == CAS_STDOUT)
      cas__drain_stdout_lines(c);
    else
      cas__drain_stderr_lines(c);
  }
}

/* After the exit: whatever the child wrote before it died is in the pipes. */
static void cas__finish(cas_client_t *c) {
  char msg[512];
  const char *tail;
  size_t tlen, budget = (size_t)CAS_READ_BUDGET * 16;
  int code, signo = 0;

  c->msg_stop = 0; /* the child is gone: take all it wrote */
  (void)cas__read_pipe(c, CAS_STDOUT, &budget);
  (void)cas__read_pipe(c, CAS_STDERR, &budget);
  /* A grandchild may hold the pipes open; the CLI itself is gone, so end. */
  c->at_eof = 1;
  cas_framer_eof(&c->out);
  cas__drain_stdout_lines(c);
  cas_framer_eof(&c->err);
  cas__drain_stderr_lines(c);

  code = cas_process_exit_code(c->proc, &signo);
  c->exit_code = code;
  c->signo = signo;
  if (signo)
    snprintf(msg, sizeof msg, "Claude Code process was killed by signal %d (%s)", signo, strsignal(signo));
  else
    snprintf(msg, sizeof msg, "Claude Code process exited with code %d", code);
  tail = cas_client_stderr_tail(c, &tlen);
  if (tlen > 0) {
    size_t used = strlen(msg);
    size_t room = sizeof msg - used - 1;
    const char *sep = "; stderr: ";
    size_t show;
    while (tlen > 0 && (tail[tlen - 1] == '\n')) tlen--;
    show = tlen;
    if (show + strlen(sep) > room) { /* keep the end: the last lines say why */
      show = room - strlen(sep);
      tail += tlen - show;
    }
    snprintf(msg + used, sizeof msg - used, "%s%.*s", sep, (int)show, tail);
  }
  cas_proto_on_exit(c->proto, msg);
  c->finished = 1;
}

static void cas__check_exit(cas_client_t *c) {
  if (c->exited) return;
  if (cas_process_poll_exit(c->proc) == 1) c->exited = 1;
}

/* --- the ladder ------------------------------------------------------------------ */

void cas_client_shutdown(cas_client_t *c, int grace_ms, int term_ms) {
  c->discard = 1;
  c->grace_ms = grace_ms;
  c->term_ms = term_ms;
  if (c->exited || c->stage != STAGE_NONE) return;
  (void)cas_process_close_stdin(c->proc);
  c->stage = STAGE_STDIN_CLOSED;
  c->stage_deadline = cas_now_ms() + grace_ms;
}

static void cas__advance_ladder(cas_client_t *c, int64_t now) {
  if (c->exited || c->stage == STAGE_NONE || now < c->stage_deadline) return;
  if (c->stage == STAGE_STDIN_CLOSED) {
    (void)cas_process_signal(c->proc, SIGTERM);
    c->stage = STAGE_TERM;
    c->stage_deadline = now + c->term_ms;
  } else if (c->stage == STAGE_TERM) {
    (void)cas_process_signal(c->proc, SIGKILL);
    c->stage = STAGE_KILL;
    c->stage_deadline = now + c->term_ms;
  }
}

void cas_client_close(cas_client_t *c, int grace_ms, int term_ms) {
  cas_client_shutdown(c, grace_ms, term_ms);
  while (!c->finished) {
    if (c->stage == STAGE_KILL && cas_now_ms() >= c->stage_deadline) {
      /* SIGKILL cannot be ignored; only an uninterruptible sleep delays it. */
      if (cas_process_wait_exit(c->proc, -1) == 1) c->exited = 1;
    }
    if (cas_client_pump(c, -1) < 0) break;
  }
}

/* --- pump ------------------------------------------------------------------------ */

int cas_client_timeout(const cas_client_t *c) {
  int64_t now, best = -1, d;
  const cas_proto_t *p = c->proto;
  /* Queued items are the caller's to pop before it waits; only deadlines
   * count here, so waiting for a response never spins while messages queue. */
  if (c->finished) return -1;
  if (c->exited) return 0; /* finishing is due */
  d = cas_proto_next_deadline(p);
  if (d >= 0) best = d;
  if (c->stage != STAGE_NONE && (best < 0 || c->stage_deadline < best)) best = c->stage_deadline;
  if (c->exit_poll_at > 0 && (best < 0 || c->exit_poll_at < best)) best = c->exit_poll_at;
  if (best < 0) return -1;
  now = cas_now_ms();
  return best <= now ? 0 : (int)(best - now > 0x7fffffff ? 0x7fffffff : best - now);
}

int cas_client_pollfds(const cas_client_t *c, struct pollfd *fds, int max) {
  int n = 0, fd;
  if (c->finished) return 0;
  if ((fd = cas_process_fd(c->proc, CAS_STDOUT)) >= 0 && n < max) {
    fds[n].fd = fd;
    fds[n].events = POLLIN;
    fds[n].revents = 0;
    n++;
  }
  if ((fd = cas_process_fd(c->proc, CAS_STDERR)) >= 0 && n < max) {
    fds[n].fd = fd;
    fds[n].events = POLLIN;
    fds[n].revents = 0;
    n++;
  }
  if (cas_process_queued(c->proc) > 0 && (fd = cas_process_fd(c->proc, CAS_STDIN)) >= 0 && n < max) {
    fds[n].fd = fd;
    fds[n].events = POLLOUT;
    fds[n].revents = 0;
    n++;
  }
  if (!c->exited && (fd = cas_process_exit_fd(c->proc)) >= 0 && n < max) {
    fds[n].fd = fd;
    fds[n].events = POLLIN;
    fds[n].revents = 0;
    n++;
  }
  return n;
}

static short cas__revents(const struct pollfd *fds, int n, int fd) {
  int i;
  if (fd < 0) return 0;
  for (i = 0; i < n; i++)
    if (fds[i].fd == fd) return fds[i].revents;
  return 0;
}

int cas_client_pump(cas_client_t *c, int timeout_ms) {
  struct pollfd fds[4];
  int n, t, rc, exit_fd;
  size_t budget = CAS_READ_BUDGET;
  int64_t now;
  const short ready = POLLIN | POLLHUP | POLLERR;

  if (c->finished) return CAS_OK;
  n = cas_client_pollfds(c, fds, 4);
  t = cas_client_timeout(c);
  if (timeout_ms >= 0 && (t < 0 || timeout_ms < t)) t = timeout_ms;
  if (n == 0 && t < 0) t = 10; /* nothing to poll and no deadline: recheck the exit soon */
  rc = poll(fds, (nfds_t)n, t);
  if (rc < 0) {
    if (errno != EINTR) return CAS_ESYS;
    n = 0; /* revents are meaningless; deadlines below still run */
  }

  c->msg_stop = cas_proto_messages_queued(c->proto) + CAS_PUMP_MESSAGES;
  if (cas__revents(fds, n, cas_process_fd(c->proc, CAS_STDOUT)) & ready) (void)cas__read_pipe(c, CAS_STDOUT, &budget);
  if (cas__revents(fds, n, cas_process_fd(c->proc, CAS_STDERR)) & ready) (void)cas__read_pipe(c, CAS_STDERR, &budget);
  if (cas_process_queued(c->proc) > 0 &&
      (cas__revents(fds, n, cas_process_fd(c->proc, CAS_STDIN)) & (POLLOUT | POLLERR | POLLHUP)))
    (void)cas_process_flush(c->proc);

  now = cas_now_ms();
  (void)cas_proto_expire(c->proto, now);

  if (!c->exited) {
    int both_eof = cas_process_fd(c->proc, CAS_STDOUT) < 0 && cas_process_fd(c->proc, CAS_STDERR) < 0;
    exit_fd = cas_process_exit_fd(c->proc);
    if ((exit_fd >= 0 && (cas__revents(fds, n, exit_fd) & ready)) ||
        (exit_fd < 0 && (both_eof || c->stage != STAGE_NONE))) {
      cas__check_exit(c);
      if (!c->exited && exit_fd < 0) {
        /* No pidfd: recheck with a growing step until the exit shows. */
        if (c->exit_poll_step == 0)
          c->exit_poll_step = 1;
        else if (c->exit_poll_step < 50)
          c->exit_poll_step *= 2;
        c->exit_poll_at = now + c->exit_poll_step;
      }
    }
  }
  if (c->exited && !c->finished) cas__finish(c);
  cas__advance_ladder(c, now);
  return CAS_OK;
}
