/* cas_process.c - one child process with three pipes (see cas_process.h).
 *
 * Contract, in the order things happen:
 *   - spawn prepares everything the children need (pipes, the list of paths
 *     to try for argv[0], the user to switch to, the fd limit) before it
 *     forks, because after a fork only async-signal-safe calls are allowed
 *     (a lock another host thread held at the fork stays held in the child
 *     forever): no malloc, no stdio, no locks.  That holds for the whole
 *     life of the supervisor too, which never execs.  The host's signals are
 *     blocked across each fork so that no host handler can run in a child
 *     before the child resets it.
 *   - All our fds are O_CLOEXEC and numbered >= 3 (a host that closed its
 *     stdin would otherwise hand us fd 0, and dup2 onto 0/1/2 in the child
 *     could then clobber a pipe end).  The child closes every fd >= 3 except
 *     the exec-error pipe, which CLOEXEC closes at exec, so it inherits exactly
 *     0, 1, 2 - even fds the host opened without CLOEXEC.
 *   - argv[0] without a '/' is searched in PATH of envp (of our environment
 *     when envp is NULL; "/bin:/usr/bin" when there is no PATH), the way
 *     execvp does, except that a file the kernel refuses (ENOEXEC) is never
 *     handed to /bin/sh: no shell, ever.  A relative path is resolved in the
 *     child's cwd (after chdir), as with posix subprocess APIs.
 *   - The process tree is host -> supervisor -> child -> whatever the child
 *     starts (the CLI's tools).  spawn fork()s the supervisor (see "the
 *     supervisor" below), which makes itself a child subreaper in a process
 *     group of its own and starts the child: own process group, PDEATHSIG
 *     tied to the supervisor, default signal dispositions, empty mask.
 *   - The child reports a failure before or at exec as {stage, errno} on a
 *     CLOEXEC pipe and _exit(127)s; EOF on that pipe without a report means
 *     exec succeeded.  The supervisor reaps a failed child and relays either
 *     outcome (with the child's pid) over the status pipe, so when spawn
 *     returns 0 the child has exec'd, is in its own group and has its
 *     PDEATHSIG; otherwise spawn returns the mapped code.
 *   - The supervisor waits for the child's exit or for the host to go (EOF
 *     on the guard pipe, whose write end only the host holds; or the
 *     PDEATHSIG the supervisor set for itself; or SIGTERM/SIGINT/SIGHUP/
 *     SIGQUIT sent to it).  Then it sweeps: SIGKILL to the child's group and
 *     to every process reparented to it, until it has no child left.  Only
 *     then does it write the child's exit status to the status pipe, whose
 *     read end is the exit fd: the host learns of the exit when nothing of
 *     the session is left.
 *   - The host reads the status from that pipe (never from waitpid), so a
 *     host that made children auto-reap (SIGCHLD set to SIG_IGN) or reaps
 *     with waitpid(-1) still gets the child's exact code or signal.  It reaps
 *     only the supervisor's pid, tolerating ECHILD.  A supervisor that died
 *     without sending a status is recorded as exit code -1, signal 0.
 *   - With pdeathsig -1 there is no supervisor: the host starts the child
 *     itself (vfork), it has no PDEATHSIG and outlives the host; the exit
 *     fd is a pidfd when the kernel has pidfd_open, and reaping is
 *     waitpid(pid, WNOHANG) on its pid only (ECHILD: exited, status
 *     unknown, code -1).
 *   - Reading returns 0 at EOF and closes that fd; EOF stays EOF (reading a
 *     closed fd returns 0 again).
 *   - Writing goes through a queue.  The first EPIPE closes stdin and drops the
 *     queue; later writes keep returning CAS_EPIPE (CAS_ECLOSED means the
 *     caller closed stdin itself).
 * Nothing here knows Lua or JSON.
 */
#define _GNU_SOURCE /* pipe2, syscall, prctl, ppoll, close_range numbers */

#include "cas_process.h"

#include "cas_buf.h"
#include "cas_error.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <grp.h>
#include <pwd.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

/* Where the child failed; sent with errno over the exec-error pipe. */
enum { STAGE_SETUP = 1, STAGE_CHDIR = 2, STAGE_EXEC = 3, STAGE_USER = 4 };

typedef struct {
  int stage;
  int err;
} child_report_t;

/* What the supervisor tells the host over the status pipe.  16 bytes, less
 * than PIPE_BUF: each message is written whole and read whole. */
enum { MSG_STARTED = 1, MSG_FAILED = 2, MSG_EXITED = 3 };

typedef struct {
  int kind;
  int pid; /* the child's */
  int a; /* FAILED: the stage; EXITED: the exit code, -1 if killed or unknown */
  int b; /* FAILED: the errno; EXITED: the signal that killed it, or 0 */
} sup_msg_t;

/* glibc's default search path for execvp (confstr(_CS_PATH)). */
#define CAS_DEFAULT_PATH "/bin:/usr/bin"

/* The fallback close loop runs when close_range is missing (Linux < 5.9);
 * a huge RLIMIT_NOFILE would make it slow, so it is capped. */
#define CAS_CLOSE_LOOP_CAP 65536

/* A queue holding more than this after it drains is given back to malloc. */
#define CAS_QUEUE_KEEP (64 * 1024)

/* How long free waits for the supervisor's sweep before it kills the
 * supervisor too; a sweep takes a few ms (one round per level of orphans). */
#define CAS_FREE_WAIT_MS 1000

/* A sweep that has not emptied the tree in this time (a process stuck in
 * the kernel, no /proc to find the orphans) gives up and reports anyway:
 * the host must not wait forever for an exit. */
#define CAS_SWEEP_MAX_MS 3000

struct cas_process {
  pid_t pid; /* the child */
  pid_t sup; /* its supervisor until reaped, or -1 (none or reaped) */
  int supervised; /* spawned with a supervisor (pdeathsig != -1) */
  int fds[3]; /* our ends: stdin (write), stdout, stderr (read); -1 closed */
  int exit_fd; /* supervised: the status pipe's read end; else a pidfd or -1 */
  int guard_fd; /* write end of the supervisor's guard pipe (only we hold it), or -1 */
  unsigned char msg[sizeof(sup_msg_t)]; /* a status message being read ... */
  size_t msg_got; /* ... of which this much arrived */
  cas_buf_t wq; /* bytes queued for stdin ... */
  size_t woff; /* ... of which the first woff are already written */
  int close_pending;
  int stdin_broken; /* stdin was closed by EPIPE */
  int exited;
  int exit_code; /* 0..255, or -1 when killed by a signal / status unknown */
  int term_signal;
  struct cas_process *live_prev, *live_next; /* in the list of live children */
};

/* Every child not yet freed, so that an exit of the host that skips the
 * owners' destructors (Lua's os.exit without closing the state, a C exit())
 * still takes the sessions down: an atexit handler SIGKILLs each child's
 * group and closes its guard.  It leaves the supervisors alone: they see
 * the child die (and the guard's EOF) and sweep what the child left, after
 * the host is gone.  (A host killed outright is covered by the guard too.)
 * Hosts drive the core from one thread, so the list has no lock. */
static cas_process_t *live_head;
static int live_hook_installed;

static void cas__kill_live_at_exit(void) {
  cas_process_t *p;
  for (p = live_head; p; p = p->live_next) {
    if (!p->exited && p->pid > 0) kill(-p->pid, SIGKILL);
    if (p->guard_fd >= 0) {
      close(p->guard_fd);
      p->guard_fd = -1;
    }
  }
}

static void cas__live_add(cas_process_t *p) {
  if (!live_hook_installed) live_hook_installed = atexit(cas__kill_live_at_exit) == 0;
  p->live_prev = NULL;
  p->live_next = live_head;
  if (live_head) live_head->live_prev = p;
  live_head = p;
}

static void cas__live_remove(cas_process_t *p) {
  if (p->live_prev)
    p->live_prev->live_next = p->live_next;
  else if (live_head == p)
    live_head = p->live_next;
  if (p->live_next) p->live_next->live_prev = p->live_prev;
  p->live_prev = p->live_next = NULL;
}

/* Everything the child needs, prepared before fork. */
typedef struct {
  char *const *argv;
  char *const *envp;
  const char *cwd;
  char **paths; /* NULL-terminated candidates for argv[0] */
  int pdeathsig;
  int as_user; /* switch to uid/gid before exec */
  uid_t uid;
  gid_t gid;
  pid_t parent; /* the child's parent: the supervisor, or the host */
  int fd_in, fd_out, fd_err; /* child ends, all >= 3 */
  int report_fd; /* write end of the exec-error pipe, >= 3 */
  long close_max; /* fallback close loop bound */
} child_plan_t;

/* ---- small helpers ------------------------------------------------------ */

static void cas__close_fd(int *fd) {
  if (*fd >= 0) {
    /* No EINTR retry: on Linux the fd is released even when close fails. */
    close(*fd);
    *fd = -1;
  }
}

/* Move fd to a number >= 3 (keeping CLOEXEC), so that the child's dup2 onto
 * 0/1/2 cannot land on one of our pipe ends and the host's 0/1/2 stay free. */
static int cas__lift_fd(int *fd) {
  int nfd;
  if (*fd > 2) return 0;
  nfd = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
  if (nfd < 0) return -1;
  close(*fd);
  *fd = nfd;
  return 0;
}

static int cas__set_nonblock(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0) return -1;
  return fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* 64 bits: a 32-bit long holds only 24 days of uptime in milliseconds. */
int64_t cas_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *cas__env_path(const char *const *envp) {
  size_t i;
  if (!envp) return getenv("PATH");
  for (i = 0; envp[i]; i++)
    if (strncmp(envp[i], "PATH=", 5) == 0) return envp[i] + 5;
  return NULL;
}

/* The paths to try for argv[0], as one malloc'd block (array then strings).
 * An empty PATH element means the current directory, as in execvp. */
static char **cas__build_paths(const char *name, const char *path) {
  size_t nlen = strlen(name), n = 1, bytes, i;
  const char *p;
  char **list, *s;

  if (strchr(name, '/')) {
    list = malloc(2 * sizeof *list + nlen + 1);
    if (!list) return NULL;
    s = (char *)(list + 2);
    memcpy(s, name, nlen + 1);
    list[0] = s;
    list[1] = NULL;
    return list;
  }
  if (!path) path = CAS_DEFAULT_PATH;
  for (p = path; *p; p++)
    if (*p == ':') n++;
  bytes = (n + 1) * sizeof *list + strlen(path) + n * (nlen + 2);
  list = malloc(bytes);
  if (!list) return NULL;
  s = (char *)(list + n + 1);
  for (i = 0, p = path;; i++) {
    const char *end = strchr(p, ':');
    size_t dlen = end ? (size_t)(end - p) : strlen(p);
    list[i] = s;
    if (dlen) {
      memcpy(s, p, dlen);
      s += dlen;
      *s++ = '/';
    }
    memcpy(s, name, nlen + 1);
    s += nlen + 1;
    if (!end) break;
    p = end + 1;
  }
  list[i + 1] = NULL;
  return list;
}

static int cas__map_exec_errno(int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR: return CAS_ENOTFOUND;
    case EACCES:
    case ENOEXEC:
    case EPERM: return CAS_ENOEXEC;
    default: return CAS_ESPAWN;
  }
}

/* ---- the child, between fork and exec: async-signal-safe calls only ------ */

static void cas__child_fail(const child_plan_t *c, int stage, int err) {
  child_report_t r;
  r.stage = stage;
  r.err = err;
  /* 8 bytes < PIPE_BUF: written whole or not at all. */
  while (write(c->report_fd, &r, sizeof r) < 0 && errno == EINTR) {
  }
  _exit(127);
}

static void cas__close_range_except(int lo, unsigned hi, long loop_max) {
  long fd;
  if (hi != ~0U && (unsigned)lo > hi) return;
#ifdef SYS_close_range
  if (syscall(SYS_close_range, (unsigned)lo, hi, 0) == 0) return;
#endif
  for (fd = lo; fd < loop_max && (hi == ~0U || fd <= (long)hi); fd++) close((int)fd);
}

/* The child's credentials, by the kernel's calls.  glibc's setgroups,
 * setgid and setuid make every thread of the process take the change
 * (setxid): in a vfork child, or in the supervisor (a _Fork of the host),
 * that means walking the host's thread list and taking its locks, neither
 * of which is safe there.  The kernel's calls change the calling process,
 * which is all the child is (glibc's posix_spawn does the same). */
static int cas__set_ids(gid_t gid, uid_t uid) {
#ifdef SYS_setgroups32 /* 32-bit x86: the plain calls take 16-bit ids */
  if (geteuid() == 0 && syscall(SYS_setgroups32, 1, &gid) < 0) return -1;
  if (syscall(SYS_setgid32, gid) < 0 || syscall(SYS_setuid32, uid) < 0) return -1;
#else
  if (geteuid() == 0 && syscall(SYS_setgroups, 1, &gid) < 0) return -1;
  if (syscall(SYS_setgid, gid) < 0 || syscall(SYS_setuid, uid) < 0) return -1;
#endif
  return 0;
}

static void cas__child_run(const child_plan_t *c) {
  struct sigaction sa;
  sigset_t none;
  int sig, i, err, saw_eacces = 0;

  /* Dispositions a host set to SIG_IGN survive exec, so they must go.  The
   * host's handlers go too: exec would drop them, but a signal arriving
   * between the unmask below and exec would otherwise run host code in the
   * child.  Signals are blocked until then.  (Numbers libc reserves refuse
   * with EINVAL, which is harmless.) */
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  sigemptyset(&sa.sa_mask);
  for (sig = 1; sig < NSIG; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    sigaction(sig, &sa, NULL);
  }

  if (setpgid(0, 0) < 0) cas__child_fail(c, STAGE_SETUP, errno);

  /* Credentials change before PDEATHSIG is set: a change clears it. */
  if (c->as_user) {
    if (cas__set_ids(c->gid, c->uid) < 0) cas__child_fail(c, STAGE_USER, errno);
  }

#ifdef __linux__
  if (c->pdeathsig > 0) {
    if (prctl(PR_SET_PDEATHSIG, (unsigned long)c->pdeathsig) < 0) cas__child_fail(c, STAGE_SETUP, errno);
    /* The parent may have died before prctl took effect: nobody would ever
     * send the signal, and nobody is left to read a report. */
    if (getppid() != c->parent) _exit(127);
  }
#endif

  /* Our fds are all >= 3, so these never overwrite a source; dup2 clears
   * CLOEXEC on the copies. */
  if (dup2(c->fd_in, 0) < 0 || dup2(c->fd_out, 1) < 0 || dup2(c->fd_err, 2) < 0) cas__child_fail(c, STAGE_SETUP, errno);

  /* Inherit nothing beyond 0, 1, 2: also fds the host opened without
   * CLOEXEC.  The report pipe stays open until exec (it is CLOEXEC). */
  cas__close_range_except(3, (unsigned)c->report_fd - 1, c->close_max);
  cas__close_range_except(c->report_fd + 1, ~0U, c->close_max);

  if (c->cwd && chdir(c->cwd) < 0) cas__child_fail(c, STAGE_CHDIR, errno);

  sigemptyset(&none);
  if (sigprocmask(SIG_SETMASK, &none, NULL) < 0) cas__child_fail(c, STAGE_SETUP, errno);

  /* The execvp search, minus its /bin/sh fallback for ENOEXEC. */
  err = ENOENT;
  for (i = 0; c->paths[i]; i++) {
    execve(c->paths[i], c->argv, c->envp);
    err = errno;
    if (err == EACCES) {
      saw_eacces = 1;
      continue;
    }
    if (err == ENOENT || err == ENOTDIR || err == ESTALE || err == ENODEV || err == ETIMEDOUT) continue;
    break;
  }
  if (!c->paths[i] && saw_eacces) err = EACCES;
  cas__child_fail(c, STAGE_EXEC, err);
}

/* vfork: the child borrows its parent's memory until exec, so nothing (of
 * the host, or of the supervisor, a fork of the host) is copied; the parent
 * waits for the exec anyway.  child_run only makes system calls (even for
 * the credentials: cas__set_ids), resets every handler before unblocking
 * signals, and ends in exec or _exit.  A function of its own, so that no
 * local of the caller lives across the vfork. */
static pid_t __attribute__((noinline)) cas__start_child(const child_plan_t *plan) {
  pid_t pid = vfork();
  if (pid == 0) cas__child_run(plan); /* never returns */
  return pid;
}

/* ---- the supervisor: async-signal-safe calls only, for its whole life ---- */

/* The supervisor is a fork() of the host that stays between the host and
 * the child for the whole session:
 *
 *     host -> supervisor -> child (the CLI) -> tools (shells, servers, ...)
 *
 * Why: a tool the CLI starts may put itself in a session of its own (the
 * CLI's Bash tool does: pgid = sid = the shell's pid), out of reach of any
 * signal to the child's process group, and PDEATHSIG reaches the child
 * alone.  The supervisor is a child subreaper (PR_SET_CHILD_SUBREAPER), so
 * every process of the session whose parent dies - a tool shell whose CLI
 * is gone, a `setsid cmd &`, a double fork - is reparented to it and can be
 * found (its parent is the supervisor) and killed.  And since the child is
 * the supervisor's own child, its exit status is the supervisor's to collect
 * whatever the host did with SIGCHLD; it reaches the host over a pipe.
 *
 * Its life: its own process group (not the child's: the host sends SIGTERM
 * and SIGKILL to the child's group, which must not take the supervisor
 * before it sweeps; not the host's: a terminal's ^C must reach the host
 * only), subreaper, PDEATHSIG SIGTERM (so it also notices a host whose guard
 * pipe another forked process still holds), then the child started exactly
 * as the host would start it (cas__child_run), and the outcome relayed.  Only
 * then, off the connect's critical path, its signals (SIGPIPE ignored: it
 * writes to a pipe the host may have left; SIGCHLD - set first of all - and
 * the stop signals caught by a handler that only interrupts ppoll; the rest
 * default; all blocked until ppoll) and its fds (all closed but the status pipe and the
 * guard: no terminal of the host's, no pipe of another session).  Then it
 * sleeps in ppoll on the guard pipe until the child exits (SIGCHLD) or the
 * host goes (guard EOF, PDEATHSIG, or a stop signal: it then SIGKILLs the
 * child's group first); then the sweep (cas__sup_sweep), the exit status, _exit.
 * It touches nothing of the host's memory but its own stack frames and the
 * spawn plan, so forking a big host costs its page tables and the few pages
 * written, copy-on-write.  The trade-off: the pages the host writes during
 * the session are copied (the supervisor keeps the old ones), a few MB for
 * a scripting host, bounded by the host's size for any host.  (A /bin/sh
 * supervisor would cost nothing, but a shell can neither be a subreaper nor
 * collect the status of a child it did not start itself; an executable of
 * our own would need installing beside the library.)
 *
 * What it cannot reach: work handed to a process outside the session's tree
 * (systemd-run, at, a D-Bus activated service, a tmux or ssh server already
 * running, a container daemon), since orphans are reparented up their own
 * ancestry only; a session whose supervisor was itself SIGKILLed (the OOM
 * killer, a user): the child still dies of its PDEATHSIG, but what it
 * started goes to init; a process stuck in the kernel past CAS_SWEEP_MAX_MS
 * (it dies when it leaves, reaped by init); and, without /proc or outside
 * Linux (no subreaper), anything that left the child's group.  A tree that
 * forks faster than it is killed escapes in theory only: a process with
 * SIGKILL pending cannot fork again, each round kills every child found and
 * the group it leads, and the rounds go on until none is left. */

static volatile sig_atomic_t sup_stop;

/* SIGCHLD only has to interrupt ppoll; the others ask for the end. */
static void cas__sup_on_signal(int sig) {
  if (sig != SIGCHLD) sup_stop = 1;
}

static void cas__sup_send(int fd, int kind, int pid, int a, int b) {
  sup_msg_t m;
  m.kind = kind;
  m.pid = pid;
  m.a = a;
  m.b = b;
  while (write(fd, &m, sizeof m) < 0 && errno == EINTR) {
  }
}

/* Close every fd but the n in keep (which this sorts). */
static void cas__close_all_except(int *keep, int n, long close_max) {
  int i, j, lo = 0;
  for (i = 1; i < n; i++)
    for (j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
      int t = keep[j];
      keep[j] = keep[j - 1];
      keep[j - 1] = t;
    }
  for (i = 0; i < n; i++) {
    if (keep[i] < lo) continue; /* a duplicate, or -1 */
    if (keep[i] > lo) cas__close_range_except(lo, (unsigned)keep[i] - 1, close_max);
    lo = keep[i] + 1;
  }
  cas__close_range_except(lo, ~0U, close_max);
}

#ifdef __linux__
/* SIGKILL a child of the supervisor, and its whole group when it leads one
 * (a tool shell in a session of its own leads it: its jobs die with it). */
static void cas__sup_kill(pid_t pid, pid_t pgrp) {
  if (pid <= 1) return;
  if (pgrp == pid) kill(-pid, SIGKILL);
  kill(pid, SIGKILL);
}

/* Decimal digits of v into dst (no terminator); returns their number. */
static size_t cas__put_uint(char *dst, unsigned long v) {
  char tmp[24];
  size_t n = 0, i;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  for (i = 0; i < n; i++) dst[i] = tmp[n - 1 - i];
  return n;
}

/* The fast way to find our children: /proc/self/task/<tid>/children (the
 * supervisor has one thread), present when the kernel has
 * CONFIG_PROC_CHILDREN.  Returns -1 when it is not there. */
static int cas__sup_kill_listed_children(pid_t self) {
  static const char head[] = "/proc/self/task/";
  char path[64], buf[512];
  size_t len = sizeof head - 1;
  unsigned long v = 0;
  int fd, have = 0;
  ssize_t n, i;
  memcpy(path, head, len);
  len += cas__put_uint(path + len, (unsigned long)self);
  memcpy(path + len, "/children", sizeof "/children");
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  while ((n = read(fd, buf, sizeof buf)) > 0) {
    for (i = 0; i < n; i++) {
      if (buf[i] >= '0' && buf[i] <= '9') {
        v = v * 10 + (unsigned long)(buf[i] - '0');
        have = 1;
      } else if (have) {
        cas__sup_kill((pid_t)v, getpgid((pid_t)v));
        v = 0;
        have = 0;
      }
    }
  }
  if (have) cas__sup_kill((pid_t)v, getpgid((pid_t)v));
  close(fd);
  return 0;
}

/* The kernel's struct linux_dirent64 (getdents64). */
struct cas_dirent64 {
  unsigned long long d_ino;
  long long d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

/* The other way: every /proc/<pid>/stat, for its ppid and pgrp.  Returns -1
 * when /proc cannot be read. */
static int cas__sup_kill_scanned_children(pid_t self) {
  long long dents[512]; /* 4 KiB, aligned as the records are */
  char path[32], stat[256];
  int dfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  long n;
  if (dfd < 0) return -1;
  while ((n = syscall(SYS_getdents64, dfd, dents, sizeof dents)) > 0) {
    long off;
    for (off = 0; off < n;) {
      const struct cas_dirent64 *d = (const struct cas_dirent64 *)((const char *)dents + off);
      const char *name = d->d_name, *s, *end, *rp = NULL;
      unsigned long pid = 0, ppid = 0, pgrp = 0;
      ssize_t got;
      size_t k;
      int fd;
      off += d->d_reclen;
      if (!name[0]) continue;
      for (s = name; *s >= '0' && *s <= '9'; s++) pid = pid * 10 + (unsigned long)(*s - '0');
      if (*s || pid <= 1 || pid == (unsigned long)self) continue;
      k = (size_t)(s - name);
      if (k > sizeof path - sizeof "/stat") continue;
      memcpy(path, name, k);
      memcpy(path + k, "/stat", sizeof "/stat");
      fd = openat(dfd, path, O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue; /* gone meanwhile */
      got = read(fd, stat, sizeof stat);
      close(fd);
      if (got <= 0) continue;
      /* "pid (comm) S ppid pgrp ...": comm may hold anything, even ')';
       * the fields after it are numbers, so the last ')' ends it. */
      end = stat + got;
      for (s = stat; s < end; s++)
        if (*s == ')') rp = s;
      if (!rp || end - rp < 4) continue;
      s = rp + 4; /* past ") S " */
      for (; s < end && *s >= '0' && *s <= '9'; s++) ppid = ppid * 10 + (unsigned long)(*s - '0');
      if (ppid != (unsigned long)self || s >= end || *s != ' ') continue;
      for (s++; s < end && *s >= '0' && *s <= '9'; s++) pgrp = pgrp * 10 + (unsigned long)(*s - '0');
      cas__sup_kill((pid_t)pid, (pid_t)pgrp);
    }
  }
  close(dfd);
  return 0;
}
#endif

/* Kill everything left of the session and reap it: rounds of SIGKILL to the
 * child's group (while the child is not reaped: its pid keeps the group id
 * from being reused) and to every child of ours and its group, then reaping,
 * until waitpid says we have no child.  Killing a process reparents its
 * children to us (we are a subreaper) for the next round.  Between rounds we
 * sleep until a SIGCHLD (ppoll with waitmask) or a short timeout, in case a
 * scan missed a child.  Returns 1 with the child's wait status in *status,
 * 0 if the child was not reaped (time ran out). */
static int cas__sup_sweep(pid_t self, pid_t child, int *status, const sigset_t *waitmask) {
  struct timespec t0, t1, nap;
  long nap_ms = 1;
  int child_reaped = 0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    pid_t r;
    int st = 0;
    if (!child_reaped) kill(-child, SIGKILL);
#ifdef __linux__
    if (cas__sup_kill_listed_children(self) < 0) (void)cas__sup_kill_scanned_children(self);
#else
    (void)self;
#endif
    while ((r = waitpid(-1, &st, WNOHANG)) > 0) {
      if (r == child) {
        *status = st;
        child_reaped = 1;
      }
    }
    if (r < 0 && errno != EINTR) break; /* ECHILD: nothing left */
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 >= CAS_SWEEP_MAX_MS) break;
    nap.tv_sec = 0;
    nap.tv_nsec = nap_ms * 1000000L;
    (void)ppoll(NULL, 0, &nap, waitmask);
    if (nap_ms < 32) nap_ms *= 2;
  }
  return child_reaped;
}

/* Until the child exits (1) or the host goes (0): the guard pipe reaches
 * EOF (the host closed it or died), or a stop signal came (PDEATHSIG,
 * someone's SIGTERM).  The child's exit is seen with WNOWAIT: it stays a
 * zombie, its pid (and group id) reserved, until the sweep reaps it. */
static int cas__sup_watch(pid_t child, int guard, const sigset_t *waitmask) {
  for (;;) {
    siginfo_t si;
    struct pollfd pfd;
    memset(&si, 0, sizeof si);
    if (waitid(P_PID, (id_t)child, &si, WEXITED | WNOHANG | WNOWAIT) < 0) {
      if (errno != EINTR) return 1;
    } else if (si.si_pid == child) {
      return 1;
    }
    if (sup_stop) return 0;
    pfd.fd = guard;
    pfd.events = POLLIN;
    pfd.revents = 0;
    if (ppoll(&pfd, 1, NULL, waitmask) > 0) {
      char b[16];
      ssize_t n = read(guard, b, sizeof b);
      if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) return 0;
    }
  }
}

/* The supervisor's whole life; st_fd is the status pipe's write end, guard
 * the guard pipe's read end, rep_fd the exec-error pipe's read end, host
 * the host's pid.  Every signal is blocked on entry (spawn blocked them
 * across the fork) and stays blocked except inside ppoll, so no handler of
 * the host's can ever run here.
 *
 * The order puts the child's exec first: every page either process writes
 * after a fork costs a page fault (a copy), and on some virtual machines a
 * fault costs 15 us, so until the child runs only the system calls it needs
 * are made; the rest (signal dispositions, closing the host's fds) comes
 * after the host has its answer. */
static void __attribute__((noreturn)) cas__sup_main(child_plan_t *plan, int rep_fd, int st_fd, int guard, pid_t host) {
  struct sigaction sa;
  sigset_t waitmask;
  child_report_t report;
  size_t got = 0;
  pid_t self, child;
  int sig, keep[2], st = 0, err;

  /* SIGCHLD first: inherited as SIG_IGN (or with SA_NOCLDWAIT) from the
   * host, it would let the kernel reap a child that exits at once, and its
   * status would be lost. */
  memset(&sa, 0, sizeof sa);
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = cas__sup_on_signal;
  sa.sa_flags = SA_NOCLDSTOP;
  sigaction(SIGCHLD, &sa, NULL);
  (void)setpgid(0, 0);
#ifdef __linux__
  (void)prctl(PR_SET_CHILD_SUBREAPER, 1UL, 0UL, 0UL, 0UL);
  (void)prctl(PR_SET_PDEATHSIG, (unsigned long)SIGTERM, 0UL, 0UL, 0UL);
#endif
  if (getppid() != host) _exit(0); /* the host is gone already: nobody to serve */

  self = getpid();
  plan->parent = self;
  child = cas__start_child(plan);
  err = errno;
  close(plan->fd_in);
  close(plan->fd_out);
  close(plan->fd_err);
  close(plan->report_fd);
  if (child < 0) {
    cas__sup_send(st_fd, MSG_FAILED, 0, STAGE_SETUP, err);
    _exit(0);
  }
  /* EOF: exec happened.  A full report: the child failed and _exit()ed. */
  while (got < sizeof report) {
    ssize_t n = read(rep_fd, (char *)&report + got, sizeof report - got);
    if (n > 0)
      got += (size_t)n;
    else if (n == 0 || errno != EINTR)
      break;
  }
  close(rep_fd);
  if (got > 0) {
    while (waitpid(child, &st, 0) < 0 && errno == EINTR) {
    }
    if (got < sizeof report)
      cas__sup_send(st_fd, MSG_FAILED, child, STAGE_SETUP, 0);
    else
      cas__sup_send(st_fd, MSG_FAILED, child, report.stage, report.err);
    _exit(0);
  }
  cas__sup_send(st_fd, MSG_STARTED, child, 0, 0);

  /* Signals: SIGPIPE ignored (the host may be gone when the status is
   * written), the stop signals caught like SIGCHLD above (they interrupt
   * ppoll and set sup_stop), everything else default. */
  for (sig = 1; sig < NSIG; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP || sig == SIGCHLD) continue;
    sa.sa_flags = 0;
    if (sig == SIGPIPE) {
      sa.sa_handler = SIG_IGN;
    } else if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGQUIT) {
      sa.sa_handler = cas__sup_on_signal;
    } else {
      sa.sa_handler = SIG_DFL;
    }
    sigaction(sig, &sa, NULL);
  }
#ifdef __linux__
  (void)prctl(PR_SET_NAME, (unsigned long)"claude-sdk-sup", 0UL, 0UL, 0UL); /* what ps shows */
#endif
  /* Nothing of the host's: not its terminal, not the pipes of its other
   * sessions (their EOFs would wait for us), not our copies of the host's
   * ends of this one (the child's stdin EOF would). */
  keep[0] = st_fd;
  keep[1] = guard;
  cas__close_all_except(keep, 2, plan->close_max);

  sigemptyset(&waitmask);
  (void)cas__sup_watch(child, guard, &waitmask);
  if (cas__sup_sweep(self, child, &st, &waitmask)) {
    if (WIFEXITED(st))
      cas__sup_send(st_fd, MSG_EXITED, child, WEXITSTATUS(st), 0);
    else
      cas__sup_send(st_fd, MSG_EXITED, child, -1, WIFSIGNALED(st) ? WTERMSIG(st) : 0);
  } else {
    cas__sup_send(st_fd, MSG_EXITED, child, -1, 0);
  }
  _exit(0);
}

/* ---- spawn -------------------------------------------------------------- */

/* Read the supervisor's first message (blocking: it comes once the child
 * has exec'd or failed).  Returns 1 with *m, 0 at EOF (the supervisor died
 * before it could tell), -1 on a read error. */
static int cas__read_start(int fd, sup_msg_t *m) {
  size_t got = 0;
  while (got < sizeof *m) {
    ssize_t n = read(fd, (char *)m + got, sizeof *m - got);
    if (n > 0) {
      got += (size_t)n;
    } else if (n == 0) {
      return 0;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      struct pollfd pfd;
      pfd.fd = fd;
      pfd.events = POLLIN;
      pfd.revents = 0;
      if (poll(&pfd, 1, -1) < 0 && errno != EINTR) return -1;
    } else if (errno != EINTR) {
      return -1;
    }
  }
  return 1;
}

/* The supervisor's fork.  glibc's _Fork (2.34) is fork without the atfork
 * handlers: the supervisor makes only async-signal-safe calls, so the host's
 * handlers (a library's child handler may reinitialise locks, even start
 * threads) have no business there, and skipping them and glibc's own
 * resets spares both processes the page copies of what they write. */
static pid_t cas__sup_fork(void) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  return _Fork();
#else
  return fork();
#endif
}

/* Reap the supervisor if it is gone (flags WNOHANG) or once it is (0).
 * ECHILD - the host auto-reaps or someone else reaped it - counts as reaped. */
static void cas__reap_sup(cas_process_t *p, int flags) {
  pid_t r;
  if (p->sup <= 0) return;
  do {
    r = waitpid(p->sup, NULL, flags);
  } while (r < 0 && errno == EINTR);
  if (r != 0) p->sup = -1;
}

int cas_process_spawn(cas_process_t **out, const cas_spawn_opts_t *opts, int *sys_errno) {
  cas_process_t *p = NULL;
  child_plan_t plan;
  int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1}, prep[2] = {-1, -1};
  int pst[2] = {-1, -1}, pgd[2] = {-1, -1};
  int *all[12] = {&pin[0],  &pin[1],  &pout[0], &pout[1], &perr[0], &perr[1],
                  &prep[0], &prep[1], &pst[0],  &pst[1],  &pgd[0],  &pgd[1]};
  int nfds;
  sigset_t block_all, saved;
  pid_t pid;
  int rc = CAS_OK, err = 0, i, stage = 0;

  if (out) *out = NULL;
  if (sys_errno) *sys_errno = 0;
  if (!out || !opts || !opts->argv || !opts->argv[0] || !opts->argv[0][0]) return CAS_EINVAL;
  if (opts->pdeathsig < -1 || opts->pdeathsig >= NSIG) return CAS_EINVAL;

  p = calloc(1, sizeof *p);
  if (!p) return CAS_ENOMEM;
  p->pid = -1;
  p->sup = -1;
  p->guard_fd = -1;
  p->fds[0] = p->fds[1] = p->fds[2] = -1;
  p->exit_fd = -1;
  p->supervised = opts->pdeathsig != -1;
  cas_buf_init(&p->wq);

  memset(&plan, 0, sizeof plan);
  plan.argv = (char *const *)opts->argv;
  plan.envp = opts->envp ? (char *const *)opts->envp : environ;
  plan.cwd = opts->cwd;
  plan.pdeathsig = opts->pdeathsig == 0 ? SIGKILL : opts->pdeathsig;
  plan.parent = getpid();
  plan.close_max = sysconf(_SC_OPEN_MAX);
  if (plan.close_max < 0 || plan.close_max > CAS_CLOSE_LOOP_CAP) plan.close_max = CAS_CLOSE_LOOP_CAP;
  if (opts->user) {
    /* Resolved here: getpwnam is not async-signal-safe, so not in the child. */
    struct passwd pw, *found = NULL;
    char pwbuf[4096];
    char *end = NULL;
    unsigned long num = strtoul(opts->user, &end, 10);
    int gr = getpwnam_r(opts->user, &pw, pwbuf, sizeof pwbuf, &found);
    if (gr == 0 && found) {
      plan.uid = found->pw_uid;
      plan.gid = found->pw_gid;
    } else if (end && *end == '\0' && end != opts->user) {
      plan.uid = (uid_t)num;
      plan.gid = (gid_t)num;
      gr = getpwuid_r((uid_t)num, &pw, pwbuf, sizeof pwbuf, &found);
      if (gr == 0 && found) plan.gid = found->pw_gid;
    } else {
      free(p);
      return CAS_ENOUSER;
    }
    plan.as_user = 1;
  }
  plan.paths = cas__build_paths(opts->argv[0], cas__env_path(opts->envp));
  if (!plan.paths) {
    rc = CAS_ENOMEM;
    goto fail;
  }

  /* Child ends must stay blocking (a child expects ordinary stdio), so the
   * pipes are made without O_NONBLOCK and only our ends get it.  The status
   * pipe is non-blocking at both ends: the supervisor writes at most two
   * small messages into it, and we poll it. */
  nfds = p->supervised ? 12 : 8;
  if (pipe2(pin, O_CLOEXEC) < 0 || pipe2(pout, O_CLOEXEC) < 0 || pipe2(perr, O_CLOEXEC) < 0 ||
      pipe2(prep, O_CLOEXEC) < 0)
    goto sys_fail;
  if (p->supervised && (pipe2(pst, O_CLOEXEC | O_NONBLOCK) < 0 || pipe2(pgd, O_CLOEXEC) < 0)) goto sys_fail;
  for (i = 0; i < nfds; i++)
    if (cas__lift_fd(all[i]) < 0) goto sys_fail;
  if (cas__set_nonblock(pin[1]) < 0 || cas__set_nonblock(pout[0]) < 0 || cas__set_nonblock(perr[0]) < 0) goto sys_fail;
#ifdef F_SETPIPE_SZ
  /* A bigger stdout pipe (Linux: up to pipe-max-size, 1 MiB unless raised)
   * lets the CLI write a long frame in a few large steps instead of 64 KiB
   * ones, each a context switch on both sides.  Best effort. */
  (void)fcntl(pout[0], F_SETPIPE_SZ, 1 << 20);
#endif

  plan.fd_in = pin[0];
  plan.fd_out = pout[1];
  plan.fd_err = perr[1];
  plan.report_fd = prep[1];

  sigfillset(&block_all);
  pthread_sigmask(SIG_SETMASK, &block_all, &saved);
  if (p->supervised) {
    pid = cas__sup_fork();
    if (pid == 0) cas__sup_main(&plan, prep[0], pst[1], pgd[0], plan.parent); /* never returns */
  } else {
    pid = cas__start_child(&plan);
  }
  err = errno;
  pthread_sigmask(SIG_SETMASK, &saved, NULL);
  if (pid < 0) {
    errno = err;
    goto sys_fail;
  }
  err = 0;

  cas__close_fd(&pin[0]);
  cas__close_fd(&pout[1]);
  cas__close_fd(&perr[1]);
  cas__close_fd(&prep[1]);

  if (p->supervised) {
    sup_msg_t m;
    int r;
    p->sup = pid;
    cas__close_fd(&prep[0]);
    cas__close_fd(&pst[1]);
    cas__close_fd(&pgd[0]);
    p->exit_fd = pst[0];
    p->guard_fd = pgd[1];
    pst[0] = pgd[1] = -1;
    r = cas__read_start(p->exit_fd, &m);
    if (r == 1 && m.kind == MSG_STARTED) {
      p->pid = m.pid;
    } else {
      if (r < 0) err = errno;
      /* FAILED: it exits by itself; EOF: it is gone; anything else (it
       * cannot happen) must not leave us waiting. */
      if (r < 0 || (r == 1 && m.kind != MSG_FAILED)) kill(p->sup, SIGKILL);
      cas__reap_sup(p, 0);
      if (r == 1 && m.kind == MSG_FAILED) {
        stage = m.a;
        err = m.b;
      }
      rc = CAS_ESPAWN;
      goto failed_start;
    }
  } else {
    /* EOF: exec happened.  A full report: the child failed and _exit()ed. */
    child_report_t report;
    size_t got = 0;
    p->pid = pid;
    while (got < sizeof report) {
      ssize_t n = read(prep[0], (char *)&report + got, sizeof report - got);
      if (n > 0)
        got += (size_t)n;
      else if (n == 0 || errno != EINTR)
        break;
    }
    cas__close_fd(&prep[0]);
    if (got > 0) {
      int st;
      while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
      }
      p->pid = -1;
      rc = CAS_ESPAWN;
      if (got == sizeof report) {
        stage = report.stage;
        err = report.err;
      }
      goto failed_start;
    }
#ifdef SYS_pidfd_open
    /* pidfd_open fds are always CLOEXEC.  The pid is ours and not reaped, so
     * it cannot have been reused. */
    p->exit_fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (p->exit_fd < 0)
      p->exit_fd = -1;
    else if (cas__lift_fd(&p->exit_fd) < 0)
      cas__close_fd(&p->exit_fd);
#endif
  }

  p->fds[CAS_STDIN] = pin[1];
  p->fds[CAS_STDOUT] = pout[0];
  p->fds[CAS_STDERR] = perr[0];
  free(plan.paths);
  cas__live_add(p);
  *out = p;
  return CAS_OK;

failed_start:
  rc = stage == STAGE_CHDIR  ? CAS_ENOCWD
       : stage == STAGE_EXEC ? cas__map_exec_errno(err)
       : stage == STAGE_USER ? CAS_ENOUSER
                             : CAS_ESPAWN;
  goto fail;
sys_fail:
  err = errno;
  rc = CAS_ESPAWN;
fail:
  if (sys_errno) *sys_errno = err;
  for (i = 0; i < 12; i++) cas__close_fd(all[i]);
  cas__close_fd(&p->exit_fd);
  cas__close_fd(&p->guard_fd);
  free(plan.paths);
  cas_buf_free(&p->wq);
  free(p);
  return rc;
}

/* ---- accessors ---------------------------------------------------------- */

int cas_process_pid(const cas_process_t *p) { return (int)p->pid; }

int cas_process_fd(const cas_process_t *p, int which) {
  if (which < CAS_STDIN || which > CAS_STDERR) return -1;
  return p->fds[which];
}

int cas_process_exit_fd(const cas_process_t *p) { return p->exit_fd; }

/* ---- reading ------------------------------------------------------------ */

long cas_process_read(cas_process_t *p, int which, void *buf, size_t cap) {
  ssize_t n;
  if (which != CAS_STDOUT && which != CAS_STDERR) return CAS_EINVAL;
  /* read() of 0 bytes returns 0, which would look like EOF. */
  if (cap == 0) return CAS_EINVAL;
  if (p->fds[which] < 0) return 0;
  if (cap > SSIZE_MAX) cap = SSIZE_MAX;
  do {
    n = read(p->fds[which], buf, cap);
  } while (n < 0 && errno == EINTR);
  if (n > 0) return (long)n;
  if (n == 0) {
    cas__close_fd(&p->fds[which]);
    return 0;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK) return CAS_EAGAIN;
  return CAS_ESYS;
}

/* ---- writing ------------------------------------------------------------ */

static void cas__drop_queue(cas_process_t *p) {
  cas_buf_free(&p->wq);
  cas_buf_init(&p->wq);
  p->woff = 0;
}

/* Write from data/n until done, EAGAIN or an error, with SIGPIPE blocked so
 * an EPIPE cannot kill the host whatever its disposition.  The SIGPIPE our
 * write raised is consumed unless one was already pending (that one is the
 * host's and the two merged).  Returns the bytes written (also when it
 * stopped on an error); *err is 0, EAGAIN or the errno that stopped it. */
static size_t cas__write_nosigpipe(int fd, const char *data, size_t n, int *err) {
  sigset_t pipe_set, old, pending;
  size_t done = 0;
  int was_pending;

  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  sigemptyset(&pending);
  sigpending(&pending);
  was_pending = sigismember(&pending, SIGPIPE) == 1;

  *err = 0;
  while (done < n) {
    size_t chunk = n - done > SSIZE_MAX ? SSIZE_MAX : n - done;
    ssize_t w = write(fd, data + done, chunk);
    if (w >= 0) {
      done += (size_t)w;
      continue;
    }
    if (errno == EINTR) continue;
    *err = errno;
    break;
  }
  if (*err == EPIPE && !was_pending) {
    static const struct timespec zero = {0, 0};
    while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (*err == EWOULDBLOCK) *err = EAGAIN;
  return done;
}

static int cas__stdin_gone(cas_process_t *p) {
  p->stdin_broken = 1;
  cas__close_fd(&p->fds[CAS_STDIN]);
  cas__drop_queue(p);
  p->close_pending = 0;
  return CAS_EPIPE;
}

/* The queue drained: close stdin if that was asked for, and give a large
 * buffer back so one big message does not pin its memory forever. */
static int cas__queue_drained(cas_process_t *p) {
  if (p->wq.cap > CAS_QUEUE_KEEP)
    cas__drop_queue(p);
  else {
    cas_buf_clear(&p->wq);
    p->woff = 0;
  }
  if (p->close_pending) {
    cas__close_fd(&p->fds[CAS_STDIN]);
    p->close_pending = 0;
  }
  return 0;
}

int cas_process_flush(cas_process_t *p) {
  int err;
  if (p->fds[CAS_STDIN] < 0) return p->stdin_broken ? CAS_EPIPE : 0;
  if (p->woff < p->wq.len) {
    p->woff += cas__write_nosigpipe(p->fds[CAS_STDIN], p->wq.data + p->woff, p->wq.len - p->woff, &err);
    if (err == EPIPE) return cas__stdin_gone(p);
    if (err && err != EAGAIN) {
      errno = err;
      return CAS_ESYS;
    }
    if (p->woff < p->wq.len) return 1;
  }
  return cas__queue_drained(p);
}

int cas_process_write(cas_process_t *p, const void *data, size_t n) {
  const char *d = data;
  int err;

  if (p->stdin_broken) return CAS_EPIPE;
  if (p->fds[CAS_STDIN] < 0 || p->close_pending) return CAS_ECLOSED;
  if (n == 0) return 0;

  /* Queue empty: write straight from the caller's memory and queue only what
   * the pipe did not take (the common case copies nothing).  Room for all of
   * it is reserved first, so CAS_ENOMEM always means nothing was written and
   * a message is never torn. */
  if (p->woff == p->wq.len) {
    size_t w;
    cas_buf_clear(&p->wq);
    p->woff = 0;
    if (cas_buf_reserve(&p->wq, n) < 0) return CAS_ENOMEM;
    w = cas__write_nosigpipe(p->fds[CAS_STDIN], d, n, &err);
    if (err == EPIPE) return cas__stdin_gone(p);
    if (w < n) cas_buf_append(&p->wq, d + w, n - w); /* cannot fail: reserved */
    if (err && err != EAGAIN) {
      errno = err;
      return CAS_ESYS;
    }
    return 0;
  }

  /* Bytes are waiting: keep order.  Compact first when most of the buffer is
   * already written, so a long-lived queue does not creep. */
  if (p->woff > 0 && p->woff >= p->wq.len / 2) {
    cas_buf_consume(&p->wq, p->woff);
    p->woff = 0;
  }
  if (cas_buf_append(&p->wq, d, n) < 0) return CAS_ENOMEM;
  err = cas_process_flush(p);
  return err == 1 ? 0 : err;
}

size_t cas_process_queued(const cas_process_t *p) { return p->wq.len - p->woff; }

int cas_process_close_stdin(cas_process_t *p) {
  if (p->fds[CAS_STDIN] < 0) return 0;
  if (p->woff == p->wq.len) {
    cas__close_fd(&p->fds[CAS_STDIN]);
    cas__drop_queue(p);
    p->close_pending = 0;
  } else {
    p->close_pending = 1;
  }
  return 0;
}

int cas_process_stdin_closed(const cas_process_t *p) { return p->fds[CAS_STDIN] < 0; }

/* ---- exit --------------------------------------------------------------- */

static void cas__record_status(cas_process_t *p, int st) {
  p->exited = 1;
  if (WIFEXITED(st)) {
    p->exit_code = WEXITSTATUS(st);
    p->term_signal = 0;
  } else {
    p->exit_code = -1;
    p->term_signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
  }
}

/* No supervisor: waitpid on the child's pid. */
static int cas__reap(cas_process_t *p, int flags) {
  int st = 0;
  pid_t r;
  if (p->exited) return 1;
  do {
    r = waitpid(p->pid, &st, flags);
  } while (r < 0 && errno == EINTR);
  if (r == p->pid) {
    cas__record_status(p, st);
    return 1;
  }
  if (r == 0) return 0;
  if (errno == ECHILD) {
    /* Someone else reaped it (SIGCHLD ignored, or a waitpid(-1)). */
    p->exited = 1;
    p->exit_code = -1;
    p->term_signal = 0;
    return 1;
  }
  return CAS_ESYS;
}

/* A supervisor: read its status message, if it came.  EOF without one means
 * the supervisor died (killed): the status is unknown. */
static int cas__read_status(cas_process_t *p) {
  if (p->exited) return 1;
  for (;;) {
    ssize_t n = read(p->exit_fd, p->msg + p->msg_got, sizeof p->msg - p->msg_got);
    if (n > 0) {
      sup_msg_t m;
      p->msg_got += (size_t)n;
      if (p->msg_got < sizeof p->msg) continue;
      p->msg_got = 0;
      memcpy(&m, p->msg, sizeof m);
      if (m.kind != MSG_EXITED) continue;
      p->exited = 1;
      p->exit_code = m.a;
      p->term_signal = m.b;
    } else if (n == 0) {
      p->exited = 1;
      p->exit_code = -1;
      p->term_signal = 0;
    } else if (errno == EINTR) {
      continue;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return 0;
    } else {
      return CAS_ESYS;
    }
    cas__reap_sup(p, WNOHANG); /* it exits right after the message: free reaps it if not yet */
    return 1;
  }
}

/* The exit fd stays open until free even after the exit: a poller may still
 * be watching it, and the core is the one owner of its fds. */
int cas_process_poll_exit(cas_process_t *p) { return p->supervised ? cas__read_status(p) : cas__reap(p, WNOHANG); }

int cas_process_wait_exit(cas_process_t *p, int timeout_ms) {
  int64_t deadline = timeout_ms < 0 ? 0 : cas_now_ms() + timeout_ms;
  long nap = 1;
  for (;;) {
    long long left;
    int r = cas_process_poll_exit(p);
    if (r != 0) return r;
    left = timeout_ms < 0 ? -1 : deadline - cas_now_ms();
    if (timeout_ms >= 0 && left <= 0) return 0;
    if (p->exit_fd >= 0) {
      struct pollfd pfd;
      pfd.fd = p->exit_fd;
      pfd.events = POLLIN;
      pfd.revents = 0;
      if (poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left) < 0 && errno != EINTR) return CAS_ESYS;
    } else {
      struct timespec ts;
      long s = left >= 0 && left < nap ? (long)left : nap;
      ts.tv_sec = 0;
      ts.tv_nsec = s * 1000000L;
      nanosleep(&ts, NULL);
      if (nap < 20) nap = nap * 2 > 20 ? 20 : nap * 2;
    }
  }
}

int cas_process_exited(const cas_process_t *p) { return p->exited; }

int cas_process_exit_code(const cas_process_t *p, int *signo) {
  if (signo) *signo = p->exited ? p->term_signal : 0;
  if (!p->exited) return CAS_EINVAL;
  return p->exit_code;
}

/* ---- signals and teardown ----------------------------------------------- */

int cas_process_signal(cas_process_t *p, int sig) {
  /* Once reaped the pid (and group id) may belong to a stranger.  (With a
   * supervisor, "exited" comes after its sweep, which reaps the child; a
   * signal sent in between finds the group empty, unless the pid numbers
   * went all the way round in those milliseconds.) */
  if (p->exited) return CAS_ECLOSED;
  if (kill(-p->pid, sig) == 0) return 0;
  /* The group is gone if the child moved itself to another one. */
  if (errno == ESRCH && kill(p->pid, sig) == 0) return 0;
  return CAS_ESYS;
}

void cas_process_free(cas_process_t *p) {
  if (!p) return;
  cas__live_remove(p);
  if (p->supervised) {
    /* SIGKILL the child's group and release the supervisor (guard EOF): it
     * sweeps what the child left and reports.  A supervisor that does not
     * report in time is killed too: free never hangs on a stuck process.
     * Until its status pipe shows EOF it holds the write end, so it is not
     * reaped and its pid is still its own. */
    if (cas_process_poll_exit(p) != 1) {
      (void)cas_process_signal(p, SIGKILL);
      cas__close_fd(&p->guard_fd);
      if (cas_process_wait_exit(p, CAS_FREE_WAIT_MS) != 1 && p->sup > 0) kill(p->sup, SIGKILL);
    }
  } else if (cas_process_poll_exit(p) == 0) {
    /* SIGKILL cannot be caught or ignored: this wait is short.  Should the
     * kill itself fail, leave a zombie rather than hang the host. */
    if (cas_process_signal(p, SIGKILL) == 0) cas__reap(p, 0);
  }
  cas__close_fd(&p->fds[CAS_STDIN]);
  cas__close_fd(&p->fds[CAS_STDOUT]);
  cas__close_fd(&p->fds[CAS_STDERR]);
  cas__close_fd(&p->exit_fd);
  cas__close_fd(&p->guard_fd);
  cas__reap_sup(p, 0);
  cas_buf_free(&p->wq);
  free(p);
}

/* ---- run to completion, capturing stdout -------------------------------- */

/* The default cap of a run's captured stdout. */
#define CAS_RUN_MAX_OUT (1024 * 1024)

/* Reads per pipe per pump: a child flooding a pipe cannot keep one pump
 * call from returning (the fd stays ready; the next pump goes on). */
#define CAS_RUN_READS 64

struct cas_run {
  cas_process_t *p;
  cas_buf_t out;
  size_t max_out;
  int err; /* a sticky failure, or 0 */
};

int cas_run_start(cas_run_t **out, const cas_spawn_opts_t *opts, size_t max_out, int *sys_errno) {
  cas_run_t *r;
  int rc;
  *out = NULL;
  if (sys_errno) *sys_errno = 0;
  r = (cas_run_t *)malloc(sizeof *r);
  if (!r) return CAS_ENOMEM;
  cas_buf_init(&r->out);
  r->max_out = max_out ? max_out : CAS_RUN_MAX_OUT;
  r->err = 0;
  rc = cas_process_spawn(&r->p, opts, sys_errno);
  if (rc != CAS_OK) {
    free(r);
    return rc;
  }
  (void)cas_process_close_stdin(r->p); /* nothing queued: closes at once */
  *out = r;
  return CAS_OK;
}

/* Read one pipe until it would block: stdout into the buffer, stderr
 * dropped.  0 or a negative code. */
static int cas__run_drain(cas_run_t *r, int which) {
  char chunk[16384];
  int i;
  for (i = 0; i < CAS_RUN_READS; i++) {
    long n = cas_process_read(r->p, which, chunk, sizeof chunk);
    if (n == 0 || n == CAS_EAGAIN) return 0;
    if (n < 0) return (int)n;
    if (which != CAS_STDOUT) continue;
    if ((size_t)n > r->max_out - r->out.len) return CAS_ELINE;
    if (cas_buf_append(&r->out, chunk, (size_t)n) != CAS_OK) return CAS_ENOMEM;
  }
  return 0;
}

int cas_run_pollfds(const cas_run_t *r, int fds[3]) {
  int n = 0, fd;
  if (r->err || r->p->exited) return 0;
  if ((fd = cas_process_fd(r->p, CAS_STDOUT)) >= 0) fds[n++] = fd;
  if ((fd = cas_process_fd(r->p, CAS_STDERR)) >= 0) fds[n++] = fd;
  /* The exit fd only once the pipes are at EOF: the status is read then,
   * and a readable fd left unread would wake a level-triggered poller
   * again and again. */
  if (n == 0 && r->p->exit_fd >= 0) fds[n++] = r->p->exit_fd;
  return n;
}

int cas_run_pump(cas_run_t *r, int timeout_ms) {
  int64_t deadline = timeout_ms > 0 ? cas_now_ms() + timeout_ms : 0;
  for (;;) {
    struct pollfd pfd[3];
    int fds[3], n, i, rc;
    long long left;
    if (r->err) return r->err;
    rc = cas__run_drain(r, CAS_STDOUT);
    if (rc == 0) rc = cas__run_drain(r, CAS_STDERR);
    if (rc == 0 && cas_process_fd(r->p, CAS_STDOUT) < 0 && cas_process_fd(r->p, CAS_STDERR) < 0) {
      rc = cas_process_poll_exit(r->p);
      if (rc == 1) return 1;
    }
    if (rc < 0) {
      r->err = rc;
      (void)cas_process_signal(r->p, SIGKILL);
      return rc;
    }
    if (timeout_ms == 0) return 0;
    left = timeout_ms < 0 ? -1 : deadline - cas_now_ms();
    if (timeout_ms > 0 && left <= 0) return 0;
    if (left > INT_MAX) left = INT_MAX;
    n = cas_run_pollfds(r, fds);
    for (i = 0; i < n; i++) {
      pfd[i].fd = fds[i];
      pfd[i].events = POLLIN;
      pfd[i].revents = 0;
    }
    /* No fd for the exit (no supervisor, no pidfd): look again soon. */
    if (n == 0 && (left < 0 || left > 10)) left = 10;
    if (poll(n ? pfd : NULL, (nfds_t)n, (int)left) < 0 && errno != EINTR) {
      r->err = CAS_ESYS;
      (void)cas_process_signal(r->p, SIGKILL);
      return r->err;
    }
  }
}

const char *cas_run_output(const cas_run_t *r, size_t *len) {
  *len = r->out.len;
  return r->out.data ? r->out.data : "";
}

int cas_run_exit_code(const cas_run_t *r, int *signo) {
  if (signo) *signo = 0;
  if (r->err) return CAS_EINVAL;
  return cas_process_exit_code(r->p, signo);
}

void cas_run_free(cas_run_t *r) {
  if (!r) return;
  cas_process_free(r->p);
  cas_buf_free(&r->out);
  free(r);
}
