/* cas_process.c - one child process with three pipes (see cas_process.h).
 *
 * Contract, in the order things happen:
 *   - spawn prepares everything the child needs (pipes, the list of paths to
 *     try for argv[0], the fd limit) before fork, because between fork and
 *     exec the child may only make async-signal-safe calls: no malloc, no
 *     stdio, no locks.  The host's signals are blocked across fork so that no
 *     host handler can run inside the child before the child resets it.
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
 *   - The child reports a failure before or at exec as {stage, errno} on the
 *     CLOEXEC pipe and _exit(127)s; spawn reaps it and returns the mapped code.
 *     EOF on that pipe without a report means exec succeeded, so when spawn
 *     returns 0 the child is already in its own group and has its PDEATHSIG.
 *   - Reaping is waitpid(pid, WNOHANG) on our pid only.  If the host made
 *     children auto-reap (SIGCHLD set to SIG_IGN) or reaped ours with
 *     waitpid(-1), waitpid fails with ECHILD; the child is then gone and is
 *     recorded as exited with an unknown status (code -1, signal 0).
 *   - Reading returns 0 at EOF and closes that fd; EOF stays EOF (reading a
 *     closed fd returns 0 again).
 *   - Writing goes through a queue.  The first EPIPE closes stdin and drops the
 *     queue; later writes keep returning CAS_EPIPE (CAS_ECLOSED means the
 *     caller closed stdin itself).
 * Nothing here knows Lua or JSON.
 */
#define _GNU_SOURCE /* pipe2, syscall, prctl, close_range numbers */

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

/* glibc's default search path for execvp (confstr(_CS_PATH)). */
#define CAS_DEFAULT_PATH "/bin:/usr/bin"

/* The fallback close loop runs when close_range is missing (Linux < 5.9);
 * a huge RLIMIT_NOFILE would make it slow, so it is capped. */
#define CAS_CLOSE_LOOP_CAP 65536

/* A queue holding more than this after it drains is given back to malloc. */
#define CAS_QUEUE_KEEP (64 * 1024)

struct cas_process {
  pid_t pid;
  int fds[3];      /* our ends: stdin (write), stdout, stderr (read); -1 closed */
  int exit_fd;     /* pidfd or -1 */
  cas_buf_t wq;    /* bytes queued for stdin ... */
  size_t woff;     /* ... of which the first woff are already written */
  int close_pending;
  int stdin_broken; /* stdin was closed by EPIPE */
  int exited;
  int exit_code;   /* 0..255, or -1 when killed by a signal / status unknown */
  int term_signal;
  struct cas_process *live_prev, *live_next; /* in the list of live children */
  pid_t watchdog;  /* the group's watchdog, or -1 */
  int guard_fd;    /* write end of its guard pipe (only we hold it), or -1 */
};

/* Every child not yet freed, so that an exit of the host that skips the
 * owners' destructors (Lua's os.exit without closing the state, a C exit())
 * still takes the children's process groups down: an atexit handler kills
 * them.  (A host killed outright is covered by PR_SET_PDEATHSIG.)  Hosts
 * drive the core from one thread, so the list has no lock. */
static cas_process_t *live_head;
static int live_hook_installed;

static void kill_live_at_exit(void) {
  cas_process_t *p;
  for (p = live_head; p; p = p->live_next)
    if (!p->exited && p->pid > 0) kill(-p->pid, SIGKILL);
}

static void live_add(cas_process_t *p) {
  if (!live_hook_installed) live_hook_installed = atexit(kill_live_at_exit) == 0;
  p->live_prev = NULL;
  p->live_next = live_head;
  if (live_head) live_head->live_prev = p;
  live_head = p;
}

static void live_remove(cas_process_t *p) {
  if (p->live_prev) p->live_prev->live_next = p->live_next;
  else if (live_head == p) live_head = p->live_next;
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
  int as_user;               /* switch to uid/gid before exec */
  uid_t uid;
  gid_t gid;
  pid_t parent;
  int fd_in, fd_out, fd_err; /* child ends, all >= 3 */
  int report_fd;             /* write end of the exec-error pipe, >= 3 */
  long close_max;            /* fallback close loop bound */
} child_plan_t;

/* ---- small helpers ------------------------------------------------------ */

static void close_fd(int *fd) {
  if (*fd >= 0) {
    /* No EINTR retry: on Linux the fd is released even when close fails. */
    close(*fd);
    *fd = -1;
  }
}

/* Move fd to a number >= 3 (keeping CLOEXEC), so that the child's dup2 onto
 * 0/1/2 cannot land on one of our pipe ends and the host's 0/1/2 stay free. */
static int lift_fd(int *fd) {
  int nfd;
  if (*fd > 2) return 0;
  nfd = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
  if (nfd < 0) return -1;
  close(*fd);
  *fd = nfd;
  return 0;
}

static int set_nonblock(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0) return -1;
  return fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* long long: a 32-bit long holds only 24 days of uptime in milliseconds. */
static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *env_path(const char *const *envp) {
  size_t i;
  if (!envp) return getenv("PATH");
  for (i = 0; envp[i]; i++)
    if (strncmp(envp[i], "PATH=", 5) == 0) return envp[i] + 5;
  return NULL;
}

/* The paths to try for argv[0], as one malloc'd block (array then strings).
 * An empty PATH element means the current directory, as in execvp. */
static char **build_paths(const char *name, const char *path) {
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

static int map_exec_errno(int err) {
  switch (err) {
  case ENOENT:
  case ENOTDIR:
    return CAS_ENOTFOUND;
  case EACCES:
  case ENOEXEC:
  case EPERM:
    return CAS_ENOEXEC;
  default:
    return CAS_ESPAWN;
  }
}

/* ---- the child, between fork and exec: async-signal-safe calls only ------ */

static void child_fail(const child_plan_t *c, int stage, int err) {
  child_report_t r;
  r.stage = stage;
  r.err = err;
  /* 8 bytes < PIPE_BUF: written whole or not at all. */
  while (write(c->report_fd, &r, sizeof r) < 0 && errno == EINTR) {
  }
  _exit(127);
}

static void close_range_except(int lo, unsigned hi, long loop_max) {
  long fd;
  if (hi != ~0U && (unsigned)lo > hi) return;
#ifdef SYS_close_range
  if (syscall(SYS_close_range, (unsigned)lo, hi, 0) == 0) return;
#endif
  for (fd = lo; fd < loop_max && (hi == ~0U || fd <= (long)hi); fd++) close((int)fd);
}

/* The watchdog: a small process per child (a shell, see watchdog_exec; a
 * fork of the host where there is no /bin/sh) that joins the child's process
 * group and blocks reading a pipe whose write end only the host holds.
 * However the host ends - free, exit(), SIGKILL, a crash - the kernel closes
 * that end, the read returns, and the watchdog SIGKILLs the whole group: the
 * CLI and everything it started in its group (tool shells, MCP servers),
 * which PR_SET_PDEATHSIG alone would leave behind.  Being a member, it also
 * keeps the group id from being reused, so the kill can never reach a
 * stranger.  It ignores the SIGTERM of the shutdown ladder so that it
 * survives to do the final kill.  Only async-signal-safe calls after fork.
 *
 * watchdog_setup: in the new watchdog process (either kind), the shutdown
 * ladder's signals ignored and the others at their defaults, the group joined
 * (or _exit if it is already gone), every signal unblocked. */
static void watchdog_setup(pid_t pgid) {
  struct sigaction sa;
  sigset_t none;
  int sig;
  memset(&sa, 0, sizeof sa);
  sigemptyset(&sa.sa_mask);
  for (sig = 1; sig < NSIG; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    sa.sa_handler = (sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGQUIT || sig == SIGPIPE)
                        ? SIG_IGN : SIG_DFL;
    sigaction(sig, &sa, NULL);
  }
  if (setpgid(0, pgid) < 0) _exit(0);
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

/* The fork kind: the watchdog is this code. */
static void watchdog_run(int guard, pid_t pgid, long close_max) {
  char b;
  /* Stay off the host's terminal and files: keep only the guard. */
  close_range_except(0, (unsigned)guard - 1, close_max);
  close_range_except(guard + 1, ~0U, close_max);
  watchdog_setup(pgid);
  while (read(guard, &b, 1) != 0) {
    if (errno != EINTR) break;
  }
  kill(-pgid, SIGKILL); /* includes this process */
  _exit(0);
}

/* The watchdog as a shell, when there is one: a vfork()ed child sets itself
 * up as watchdog_run() does and execs /bin/sh, whose `read` returns at the
 * guard's EOF and whose `kill` takes the group down.  A fork() of the host
 * would share every page of its memory copy-on-write for the watchdog's whole
 * life, so each page the host writes later is copied once, a page fault each:
 * for a big host (Neovim, a game) that is a real cost, and the fork itself
 * grows with the host's size.  Signals ignored before exec stay ignored in the
 * shell.  Only async-signal-safe calls after vfork; nothing written to memory
 * but this frame's locals. */
#define CAS_WATCHDOG_SH "/bin/sh"

static void watchdog_exec(int guard, pid_t pgid, long close_max) {
  static const char script[] = "read x; kill -s KILL -- -$1";
  char num[24], *argv[6], *envp[1];
  unsigned long v = (unsigned long)pgid;
  int i = (int)sizeof num - 1;

  num[i] = '\0';
  do {
    num[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v && i > 0);
  if (dup2(guard, 0) < 0) _exit(127);
  close_range_except(1, ~0U, close_max);
  watchdog_setup(pgid);
  argv[0] = (char *)"claude-agent-sdk-watchdog"; /* what ps shows */
  argv[1] = (char *)"-c";
  argv[2] = (char *)script;
  argv[3] = (char *)"sh";
  argv[4] = num + i;
  argv[5] = NULL;
  envp[0] = NULL;
  execve(CAS_WATCHDOG_SH, argv, envp);
  _exit(127);
}

/* Start the watchdog of group pgid; returns its pid (or -1) and the guard's
 * write end in *guard_out. */
static pid_t watchdog_start(pid_t pgid, long close_max, int *guard_out) {
  int gp[2];
  sigset_t all, saved;
  pid_t pid;
  *guard_out = -1;
  if (pipe2(gp, O_CLOEXEC) < 0) return -1;
  /* A host with 0, 1 or 2 closed would hand those out; the watchdog's fd
   * arithmetic (and our own) wants the guard above them. */
  if (lift_fd(&gp[0]) < 0 || lift_fd(&gp[1]) < 0) {
    if (gp[0] >= 0) close(gp[0]);
    if (gp[1] >= 0) close(gp[1]);
    return -1;
  }
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &saved);
  if (access(CAS_WATCHDOG_SH, X_OK) == 0) {
    /* The guard's write end is CLOEXEC, so the shell never holds it. */
    pid = vfork();
    if (pid == 0) watchdog_exec(gp[0], pgid, close_max);
  } else {
    pid = fork();
    if (pid == 0) {
      close(gp[1]);
      watchdog_run(gp[0], pgid, close_max);
    }
  }
  pthread_sigmask(SIG_SETMASK, &saved, NULL);
  close(gp[0]);
  if (pid < 0) {
    close(gp[1]);
    return -1;
  }
  *guard_out = gp[1];
  return pid;
}

/* Release the watchdog: closing the guard makes it kill what is left of the
 * group (nothing, after a clean exit) and exit; then reap it. */
static void watchdog_stop(cas_process_t *p) {
  close_fd(&p->guard_fd);
  if (p->watchdog > 0) {
    while (waitpid(p->watchdog, NULL, 0) < 0 && errno == EINTR) {
    }
    p->watchdog = -1;
  }
}

static void child_run(const child_plan_t *c) {
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

  if (setpgid(0, 0) < 0) child_fail(c, STAGE_SETUP, errno);

  /* Credentials change before PDEATHSIG is set: a change clears it. */
  if (c->as_user) {
    if (geteuid() == 0 && setgroups(1, &c->gid) < 0) child_fail(c, STAGE_USER, errno);
    if (setgid(c->gid) < 0 || setuid(c->uid) < 0) child_fail(c, STAGE_USER, errno);
  }

#ifdef __linux__
  if (c->pdeathsig > 0) {
    if (prctl(PR_SET_PDEATHSIG, (unsigned long)c->pdeathsig) < 0) child_fail(c, STAGE_SETUP, errno);
    /* The parent may have died before prctl took effect: nobody would ever
     * send the signal, and nobody is left to read a report. */
    if (getppid() != c->parent) _exit(127);
  }
#endif

  /* Our fds are all >= 3, so these never overwrite a source; dup2 clears
   * CLOEXEC on the copies. */
  if (dup2(c->fd_in, 0) < 0 || dup2(c->fd_out, 1) < 0 || dup2(c->fd_err, 2) < 0)
    child_fail(c, STAGE_SETUP, errno);

  /* Inherit nothing beyond 0, 1, 2: also fds the host opened without
   * CLOEXEC.  The report pipe stays open until exec (it is CLOEXEC). */
  close_range_except(3, (unsigned)c->report_fd - 1, c->close_max);
  close_range_except(c->report_fd + 1, ~0U, c->close_max);

  if (c->cwd && chdir(c->cwd) < 0) child_fail(c, STAGE_CHDIR, errno);

  sigemptyset(&none);
  if (sigprocmask(SIG_SETMASK, &none, NULL) < 0) child_fail(c, STAGE_SETUP, errno);

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
  child_fail(c, STAGE_EXEC, err);
}

/* vfork: the child borrows our memory until exec, so nothing of the host
 * (whose heap may be large: an editor, a game) is copied; the caller waits
 * for the exec anyway.  child_run only makes system calls, resets every
 * handler before unblocking signals, and ends in exec or _exit.  Switching
 * users goes through fork: glibc's setuid() synchronises all the threads of
 * the process, which in a vfork child are the host's.  A function of its
 * own, so that no local of the caller lives across the vfork. */
static pid_t __attribute__((noinline)) start_child(const child_plan_t *plan) {
  pid_t pid = plan->as_user ? fork() : vfork();
  if (pid == 0) child_run(plan); /* never returns */
  return pid;
}

/* ---- spawn -------------------------------------------------------------- */

int cas_process_spawn(cas_process_t **out, const cas_spawn_opts_t *opts, int *sys_errno) {
  cas_process_t *p = NULL;
  child_plan_t plan;
  int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1}, prep[2] = {-1, -1};
  int *all[8];
  sigset_t block_all, saved;
  child_report_t report;
  size_t got = 0;
  pid_t pid;
  int rc = CAS_OK, err = 0, i;

  if (out) *out = NULL;
  if (sys_errno) *sys_errno = 0;
  if (!out || !opts || !opts->argv || !opts->argv[0] || !opts->argv[0][0]) return CAS_EINVAL;
  if (opts->pdeathsig < -1 || opts->pdeathsig >= NSIG) return CAS_EINVAL;

  p = calloc(1, sizeof *p);
  if (!p) return CAS_ENOMEM;
  p->pid = -1;
  p->watchdog = -1;
  p->guard_fd = -1;
  p->fds[0] = p->fds[1] = p->fds[2] = -1;
  p->exit_fd = -1;
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
  plan.paths = build_paths(opts->argv[0], env_path(opts->envp));
  if (!plan.paths) {
    rc = CAS_ENOMEM;
    goto fail;
  }

  /* Child ends must stay blocking (a child expects ordinary stdio), so the
   * pipes are made without O_NONBLOCK and only our ends get it. */
  all[0] = &pin[0], all[1] = &pin[1], all[2] = &pout[0], all[3] = &pout[1];
  all[4] = &perr[0], all[5] = &perr[1], all[6] = &prep[0], all[7] = &prep[1];
  if (pipe2(pin, O_CLOEXEC) < 0 || pipe2(pout, O_CLOEXEC) < 0 || pipe2(perr, O_CLOEXEC) < 0 ||
      pipe2(prep, O_CLOEXEC) < 0)
    goto sys_fail;
  for (i = 0; i < 8; i++)
    if (lift_fd(all[i]) < 0) goto sys_fail;
  if (set_nonblock(pin[1]) < 0 || set_nonblock(pout[0]) < 0 || set_nonblock(perr[0]) < 0) goto sys_fail;
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
  pid = start_child(&plan);
  err = errno;
  pthread_sigmask(SIG_SETMASK, &saved, NULL);
  if (pid < 0) {
    errno = err;
    goto sys_fail;
  }
  p->pid = pid;

  close_fd(&pin[0]);
  close_fd(&pout[1]);
  close_fd(&perr[1]);
  close_fd(&prep[1]);

  /* The watchdog starts while the child is still on its way to exec, so the
   * two forks overlap instead of adding up.  The group must exist before the
   * watchdog joins it: make it from this side too (the child's own
   * setpgid(0, 0) then finds it made; whichever runs first wins the race).
   * A watchdog that cannot start leaves PDEATHSIG and the exit hooks as the
   * only guards: degraded, not fatal. */
  if (plan.pdeathsig > 0) { /* pdeathsig -1: the caller wants the child to outlive it */
    (void)setpgid(pid, pid);
    p->watchdog = watchdog_start(pid, plan.close_max, &p->guard_fd);
  }

  /* EOF: exec happened.  A full report: the child failed and _exit()ed. */
  while (got < sizeof report) {
    ssize_t n = read(prep[0], (char *)&report + got, sizeof report - got);
    if (n > 0) got += (size_t)n;
    else if (n == 0) break;
    else if (errno != EINTR) break;
  }
  close_fd(&prep[0]);

  if (got > 0) {
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    p->pid = -1;
    watchdog_stop(p); /* it sweeps an empty group and exits */
    if (got < sizeof report) {
      rc = CAS_ESPAWN;
    } else {
      err = report.err;
      rc = report.stage == STAGE_CHDIR ? CAS_ENOCWD
           : report.stage == STAGE_EXEC ? map_exec_errno(report.err)
           : report.stage == STAGE_USER ? CAS_ENOUSER
                                         : CAS_ESPAWN;
    }
    goto fail;
  }

#ifdef SYS_pidfd_open
  /* pidfd_open fds are always CLOEXEC.  The pid is ours and not reaped, so
   * it cannot have been reused. */
  p->exit_fd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (p->exit_fd < 0) p->exit_fd = -1;
  else if (lift_fd(&p->exit_fd) < 0) close_fd(&p->exit_fd);
#endif

  p->fds[CAS_STDIN] = pin[1];
  p->fds[CAS_STDOUT] = pout[0];
  p->fds[CAS_STDERR] = perr[0];
  free(plan.paths);
  live_add(p);
  *out = p;
  return CAS_OK;

sys_fail:
  err = errno;
  rc = CAS_ESPAWN;
fail:
  if (sys_errno) *sys_errno = err;
  close_fd(&pin[0]);
  close_fd(&pin[1]);
  close_fd(&pout[0]);
  close_fd(&pout[1]);
  close_fd(&perr[0]);
  close_fd(&perr[1]);
  close_fd(&prep[0]);
  close_fd(&prep[1]);
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
    close_fd(&p->fds[which]);
    return 0;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK) return CAS_EAGAIN;
  return CAS_ESYS;
}

/* ---- writing ------------------------------------------------------------ */

static void drop_queue(cas_process_t *p) {
  cas_buf_free(&p->wq);
  cas_buf_init(&p->wq);
  p->woff = 0;
}

/* Write from data/n until done, EAGAIN or an error, with SIGPIPE blocked so
 * an EPIPE cannot kill the host whatever its disposition.  The SIGPIPE our
 * write raised is consumed unless one was already pending (that one is the
 * host's and the two merged).  Returns the bytes written (also when it
 * stopped on an error); *err is 0, EAGAIN or the errno that stopped it. */
static size_t write_nosigpipe(int fd, const char *data, size_t n, int *err) {
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

static int stdin_gone(cas_process_t *p) {
  p->stdin_broken = 1;
  close_fd(&p->fds[CAS_STDIN]);
  drop_queue(p);
  p->close_pending = 0;
  return CAS_EPIPE;
}

/* The queue drained: close stdin if that was asked for, and give a large
 * buffer back so one big message does not pin its memory forever. */
static int queue_drained(cas_process_t *p) {
  if (p->wq.cap > CAS_QUEUE_KEEP) drop_queue(p);
  else {
    cas_buf_clear(&p->wq);
    p->woff = 0;
  }
  if (p->close_pending) {
    close_fd(&p->fds[CAS_STDIN]);
    p->close_pending = 0;
  }
  return 0;
}

int cas_process_flush(cas_process_t *p) {
  int err;
  if (p->fds[CAS_STDIN] < 0) return p->stdin_broken ? CAS_EPIPE : 0;
  if (p->woff < p->wq.len) {
    p->woff += write_nosigpipe(p->fds[CAS_STDIN], p->wq.data + p->woff, p->wq.len - p->woff, &err);
    if (err == EPIPE) return stdin_gone(p);
    if (err && err != EAGAIN) {
      errno = err;
      return CAS_ESYS;
    }
    if (p->woff < p->wq.len) return 1;
  }
  return queue_drained(p);
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
    w = write_nosigpipe(p->fds[CAS_STDIN], d, n, &err);
    if (err == EPIPE) return stdin_gone(p);
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
    close_fd(&p->fds[CAS_STDIN]);
    drop_queue(p);
    p->close_pending = 0;
  } else {
    p->close_pending = 1;
  }
  return 0;
}

int cas_process_stdin_closed(const cas_process_t *p) { return p->fds[CAS_STDIN] < 0; }

/* ---- exit --------------------------------------------------------------- */

static void record_status(cas_process_t *p, int st) {
  p->exited = 1;
  if (WIFEXITED(st)) {
    p->exit_code = WEXITSTATUS(st);
    p->term_signal = 0;
  } else {
    p->exit_code = -1;
    p->term_signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
  }
}

static int reap(cas_process_t *p, int flags) {
  int st = 0;
  pid_t r;
  if (p->exited) return 1;
  do {
    r = waitpid(p->pid, &st, flags);
  } while (r < 0 && errno == EINTR);
  if (r == p->pid) {
    record_status(p, st);
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

/* The pidfd stays open until free even after the exit: a poller may still
 * be watching it, and the core is the one owner of its fds. */
int cas_process_poll_exit(cas_process_t *p) { return reap(p, WNOHANG); }

int cas_process_wait_exit(cas_process_t *p, int timeout_ms) {
  long long deadline = timeout_ms < 0 ? 0 : now_ms() + timeout_ms;
  long nap = 1;
  for (;;) {
    long long left;
    int r = cas_process_poll_exit(p);
    if (r != 0) return r;
    left = timeout_ms < 0 ? -1 : deadline - now_ms();
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
  /* Once reaped the pid (and group id) may belong to a stranger. */
  if (p->exited) return CAS_ECLOSED;
  if (kill(-p->pid, sig) == 0) return 0;
  /* The group is gone if the child moved itself to another one. */
  if (errno == ESRCH && kill(p->pid, sig) == 0) return 0;
  return CAS_ESYS;
}

void cas_process_free(cas_process_t *p) {
  if (!p) return;
  live_remove(p);
  /* SIGKILL the group (the watchdog with it), or after a clean exit let the
   * watchdog sweep what is left of the group; reap it either way. */
  if (cas_process_poll_exit(p) == 0) {
    /* SIGKILL cannot be caught or ignored: this wait is short.  Should the
     * kill itself fail, leave a zombie rather than hang the host. */
    if (cas_process_signal(p, SIGKILL) == 0) reap(p, 0);
  }
  close_fd(&p->fds[CAS_STDIN]);
  close_fd(&p->fds[CAS_STDOUT]);
  close_fd(&p->fds[CAS_STDERR]);
  close_fd(&p->exit_fd);
  watchdog_stop(p);
  cas_buf_free(&p->wq);
  free(p);
}
