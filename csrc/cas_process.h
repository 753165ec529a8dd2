/* cas_process.h - one child process with three pipes, and nothing else.
 *
 * cas_process_spawn() runs exactly the argv it is given (fork + exec, never a
 * shell).  The child:
 *   - gets stdin, stdout and stderr as pipes and no other descriptor of ours
 *     (every fd we open is O_CLOEXEC);
 *   - runs in its own process group (so the whole group can be signalled);
 *   - starts with default signal dispositions and an empty signal mask;
 *   - unless pdeathsig is -1, runs under a supervisor: a small fork of the
 *     host between it and the child (host -> supervisor -> child -> the
 *     child's own children), a child subreaper in a process group of its
 *     own.  The child gets PR_SET_PDEATHSIG (opts->pdeathsig, default
 *     SIGKILL) tied to the supervisor.  When the child exits, or the host
 *     goes (frees the handle, exits, is killed, crashes), the supervisor
 *     SIGKILLs the child's group and then every process left of the session,
 *     however it detached itself (a session or group of its own, a double
 *     fork: orphans are reparented to the subreaper), until none is left;
 *     only then does it report the child's exit status to the host.  So
 *     nothing the child started outlives the session, and the status never
 *     depends on the host's SIGCHLD disposition (SIG_IGN, or a waitpid(-1)
 *     elsewhere in the host, would lose it).  Beyond its reach: work handed
 *     to a process outside the tree (systemd-run, at, a D-Bus service).
 *   - with pdeathsig -1: no supervisor and no PDEATHSIG; the child and what
 *     it starts may outlive the host, and its status is lost (code -1) if
 *     the host lets the kernel or someone else reap it.
 * An exec failure is reported back through a CLOEXEC pipe, and the causes a
 * user can fix are told apart: CAS_ENOTFOUND (no such program), CAS_ENOEXEC
 * (not executable), CAS_ENOCWD (the cwd does not exist), CAS_ENOUSER (no such
 * user, or no privilege to switch to it).
 *
 * Our ends of the pipes are non-blocking.  Writes go through a queue:
 * cas_process_write() appends and tries to flush; cas_process_flush() continues
 * when the fd is writable.  A write to a child that closed its stdin is
 * CAS_EPIPE, and SIGPIPE is blocked around the write and any pending SIGPIPE
 * it raised is consumed, so the host's disposition is untouched and SIGPIPE can
 * never kill it.
 *
 * Exit: cas_process_exit_fd is the supervisor's status pipe (readable when
 * the status arrives, i.e. once the session is swept, or when the supervisor
 * dies), or without a supervisor a pidfd when the kernel has pidfd_open (else
 * -1: poll cas_process_poll_exit() on a short timer).  Reaping is by pid
 * only, never waitpid(-1): the supervisor's, or the child's without one.
 *
 * cas_process_free() on a live child SIGKILLs its group, waits (bounded, 1 s)
 * for the supervisor's sweep and reaps it: nothing we started outlives the
 * handle.  An exit of the host that skips free (exit(), Lua's os.exit) runs
 * an atexit hook that SIGKILLs each live child's group and lets its
 * supervisor sweep.  The graceful ladder (close stdin, wait, SIGTERM, wait,
 * SIGKILL) is built by the caller from these pieces, because waiting well
 * needs the caller's event loop.
 */
#ifndef CAS_PROCESS_H
#define CAS_PROCESS_H

#include "cas_version.h"
#include <stddef.h>
#include <stdint.h>

/* Monotonic milliseconds (CLOCK_MONOTONIC), the clock of every deadline here and in cas_client.h. */
CAS_EXTERN int64_t cas_now_ms(void);

typedef struct cas_process cas_process_t;

typedef struct {
  const char *const *argv; /* argv[0]: a path with '/', or a name searched in PATH (of envp if given) */
  const char *const *envp; /* the child's whole environment; NULL: inherit ours */
  const char *cwd; /* NULL: inherit ours */
  int pdeathsig; /* 0: SIGKILL; -1: none, and no supervisor */
  const char *user; /* NULL: ours; else run as this user (name or numeric uid;
                              needs the privilege to switch: CAS_ENOUSER otherwise) */
} cas_spawn_opts_t;

enum { CAS_STDIN = 0, CAS_STDOUT = 1, CAS_STDERR = 2 };

/* Start the child.  On failure returns a negative code, *out is NULL and
 * *sys_errno (if not NULL) holds the errno behind it (0 if none). */
CAS_EXTERN int cas_process_spawn(cas_process_t **out, const cas_spawn_opts_t *opts, int *sys_errno);

/* The child's pid (never the supervisor's); also its process group id. */
CAS_EXTERN int cas_process_pid(const cas_process_t *p);
/* Our end of the pipe `which` (CAS_STDIN/STDOUT/STDERR), -1 once closed. */
CAS_EXTERN int cas_process_fd(const cas_process_t *p, int which);
/* A pollable fd that turns readable when the child has exited (with a
 * supervisor: and everything it left is gone), or -1. */
CAS_EXTERN int cas_process_exit_fd(const cas_process_t *p);

/* Read up to cap bytes from CAS_STDOUT or CAS_STDERR.  Returns n > 0, 0 at EOF
 * (the fd is then closed), CAS_EAGAIN when nothing is there, or CAS_ESYS. */
CAS_EXTERN long cas_process_read(cas_process_t *p, int which, void *buf, size_t cap);

/* Queue n bytes for the child's stdin and try to flush.  Returns 0 (maybe
 * still queued), CAS_EPIPE, CAS_ECLOSED (stdin already closed) or CAS_ENOMEM. */
CAS_EXTERN int cas_process_write(cas_process_t *p, const void *data, size_t n);
/* Write what is queued.  Returns 0 when the queue is empty, 1 when bytes remain
 * (wait for POLLOUT), or CAS_EPIPE / CAS_ESYS. */
CAS_EXTERN int cas_process_flush(cas_process_t *p);
CAS_EXTERN size_t cas_process_queued(const cas_process_t *p);
/* Close stdin once the queue is flushed (at once if it is empty).  Idempotent. */
CAS_EXTERN int cas_process_close_stdin(cas_process_t *p);
/* 1 once stdin is closed (not merely asked to close). */
CAS_EXTERN int cas_process_stdin_closed(const cas_process_t *p);

/* Check for exit without blocking: 1 when exited (status recorded), 0 if
 * still running, negative on error. */
CAS_EXTERN int cas_process_poll_exit(cas_process_t *p);
/* Block up to timeout_ms (-1: forever) for the exit.  1 exited, 0 timed out. */
CAS_EXTERN int cas_process_wait_exit(cas_process_t *p, int timeout_ms);
CAS_EXTERN int cas_process_exited(const cas_process_t *p);
/* After exit: the exit code (0..255) or -1 if killed (or the status was
 * lost: then *signo is 0); *signo the signal or 0. */
CAS_EXTERN int cas_process_exit_code(const cas_process_t *p, int *signo);

/* Send sig to the child's whole process group.  0, or CAS_ECLOSED if exited. */
CAS_EXTERN int cas_process_signal(cas_process_t *p, int sig);

/* Kill (SIGKILL to the group, then the supervisor's sweep) if still running,
 * reap, close everything, free. */
CAS_EXTERN void cas_process_free(cas_process_t *p);

/* ---- run to completion, capturing stdout ---------------------------------
 *
 * A cas_run_t is a process spawned as above whose stdout is collected into
 * memory, for short helper programs (git) that the caller waits for the way
 * it waits for anything else.  The child's stdin is closed at once (it reads
 * EOF), its stderr is read and dropped (never inherited: it would scribble
 * over a Neovim screen, and an unread pipe could stall the child).  The run
 * is done when stdout and stderr are at EOF and the exit status is known.
 * cas_run_pump() never blocks with timeout 0, so an event loop can watch
 * cas_run_pollfds() for reading and pump when one is ready; timeout -1
 * blocks until done.  With opts->pdeathsig -1 and no pidfd the exit has no
 * fd: pump on a short timer.  cas_run_free() on a run not done kills it
 * (cas_process_free). */
typedef struct cas_run cas_run_t;

/* Spawn opts->argv.  max_out caps the captured stdout (0: 1 MiB).  Returns 0
 * or a negative code as cas_process_spawn (then *out is NULL). */
CAS_EXTERN int cas_run_start(cas_run_t **out, const cas_spawn_opts_t *opts, size_t max_out, int *sys_errno);
/* Read what is ready and check for the exit, waiting up to timeout_ms (-1:
 * until done) for something to happen.  1 when done, 0 when not yet, or
 * CAS_ELINE (stdout exceeded max_out: the child is killed), CAS_ENOMEM,
 * CAS_ESYS.  An error is sticky: later calls return it again. */
CAS_EXTERN int cas_run_pump(cas_run_t *r, int timeout_ms);
/* The fds to watch for reading until done (at most 3) into fds; returns
 * how many.  They change as pipes reach EOF: ask again after each pump. */
CAS_EXTERN int cas_run_pollfds(const cas_run_t *r, int fds[3]);
/* The stdout captured so far (not NUL-terminated; len may be 0). */
CAS_EXTERN const char *cas_run_output(const cas_run_t *r, size_t *len);
/* Once done: the exit code (0..255), or -1 if killed (*signo the signal) or
 * the status was lost; CAS_EINVAL before. */
CAS_EXTERN int cas_run_exit_code(const cas_run_t *r, int *signo);
/* Kill if still running, reap, close, free.  NULL is fine. */
CAS_EXTERN void cas_run_free(cas_run_t *r);

#endif
