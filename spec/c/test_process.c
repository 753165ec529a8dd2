/* test_process.c - cas_process: spawn, pipes, write queue, exit, signals.
 *
 * The test runs with SIGPIPE at its default disposition on purpose: a write
 * to a dead child must come back as CAS_EPIPE and never kill the host.  It
 * makes itself a child subreaper so that grandchildren orphaned by a test
 * (a killed group, a dead intermediate) are reparented here and can be
 * reaped and checked, whatever the container's pid 1 does.
 */
#define _GNU_SOURCE /* mkdtemp, prctl, pipe2 */

#include "cas_error.h"
#include "cas_process.h"
#include "ctest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------ */

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms) {
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (ms % 1000) * 1000000L;
  nanosleep(&ts, NULL);
}

static int spawn(cas_process_t **p, const char *const *argv, const char *const *envp, const char *cwd, int *err) {
  cas_spawn_opts_t o;
  memset(&o, 0, sizeof o);
  o.argv = argv;
  o.envp = envp;
  o.cwd = cwd;
  return cas_process_spawn(p, &o, err);
}

/* Read `which` until EOF (or timeout) into buf; returns the length. */
static size_t read_all(cas_process_t *p, int which, char *buf, size_t cap, int timeout_ms) {
  size_t len = 0;
  long deadline = now_ms() + timeout_ms;
  while (now_ms() < deadline) {
    struct pollfd pfd;
    long n;
    if (cas_process_fd(p, which) < 0) break;
    pfd.fd = cas_process_fd(p, which);
    pfd.events = POLLIN;
    poll(&pfd, 1, 100);
    n = cas_process_read(p, which, buf + len, cap - 1 - len);
    if (n > 0)
      len += (size_t)n;
    else if (n == 0)
      break;
    else if (n != CAS_EAGAIN)
      break;
    if (len == cap - 1) break;
  }
  buf[len] = 0;
  return len;
}

/* 1 once pid is dead: reaped here (we are a subreaper), or no such process,
 * or a zombie waiting for someone else. */
static int is_gone(pid_t pid) {
  int st;
  char path[64], buf[256], *rp;
  FILE *f;
  pid_t r = waitpid(pid, &st, WNOHANG);
  if (r == pid) return 1;
  if (kill(pid, 0) < 0 && errno == ESRCH) return 1;
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  f = fopen(path, "r");
  if (!f) return 1;
  rp = fgets(buf, sizeof buf, f);
  fclose(f);
  if (rp && (rp = strrchr(buf, ')')) != NULL && (rp[2] == 'Z' || rp[2] == 'X')) return 1;
  return 0;
}

static int wait_gone(pid_t pid, long ms) {
  long deadline = now_ms() + ms;
  do {
    if (is_gone(pid)) return 1;
    sleep_ms(10);
  } while (now_ms() < deadline);
  return is_gone(pid);
}

static int count_fds(void) {
  int n = 0;
  struct dirent *e;
  DIR *d = opendir("/proc/self/fd");
  if (!d) return -1;
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n - 1; /* the directory's own fd */
}

static int write_file(const char *path, const char *text, mode_t mode) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  ssize_t n;
  if (fd < 0) return -1;
  n = write(fd, text, strlen(text));
  close(fd);
  if (n != (ssize_t)strlen(text)) return -1;
  return chmod(path, mode);
}

static char tmpdir[PATH_MAX];

/* ---- tests -------------------------------------------------------------- */

static void test_echo_roundtrip(void) {
  static const char *const argv[] = {"/bin/cat", NULL};
  cas_process_t *p = NULL;
  char buf[64];
  int err = -1;
  CHECK_EQ_INT(spawn(&p, argv, NULL, NULL, &err), CAS_OK);
  if (!p) return;
  CHECK_EQ_INT(err, 0);
  CHECK(cas_process_pid(p) > 0);
  CHECK(cas_process_fd(p, CAS_STDIN) > 2);
  CHECK(cas_process_fd(p, CAS_STDOUT) > 2);
  CHECK(cas_process_fd(p, CAS_STDERR) > 2);
  CHECK((fcntl(cas_process_fd(p, CAS_STDOUT), F_GETFL) & O_NONBLOCK) != 0);
  CHECK((fcntl(cas_process_fd(p, CAS_STDIN), F_GETFL) & O_NONBLOCK) != 0);
  CHECK((fcntl(cas_process_fd(p, CAS_STDOUT), F_GETFD) & FD_CLOEXEC) != 0);
  CHECK(cas_process_exit_fd(p) == -1 || (fcntl(cas_process_exit_fd(p), F_GETFD) & FD_CLOEXEC) != 0);
  CHECK_EQ_INT(cas_process_read(p, CAS_STDOUT, buf, sizeof buf), CAS_EAGAIN);
  CHECK_EQ_INT(cas_process_write(p, "hello\n", 6), 0);
  CHECK_EQ_INT(cas_process_write(p, "world\n", 6), 0);
  CHECK_EQ_INT(cas_process_queued(p), 0);
  CHECK_EQ_INT(cas_process_close_stdin(p), 0);
  CHECK_EQ_INT(cas_process_stdin_closed(p), 1);
  CHECK_EQ_INT(cas_process_write(p, "x", 1), CAS_ECLOSED);
  CHECK_EQ_INT(cas_process_close_stdin(p), 0); /* idempotent */
  CHECK_EQ_INT(read_all(p, CAS_STDOUT, buf, sizeof buf, 5000), 12);
  CHECK(strcmp(buf, "hello\nworld\n") == 0);
  CHECK_EQ_INT(cas_process_fd(p, CAS_STDOUT), -1); /* closed at EOF */
  CHECK_EQ_INT(cas_process_read(p, CAS_STDOUT, buf, sizeof buf), 0); /* EOF stays EOF */
  CHECK_EQ_INT(cas_process_read(p, CAS_STDIN, buf, sizeof buf), CAS_EINVAL);
  CHECK_EQ_INT(cas_process_wait_exit(p, 5000), 1);
  CHECK_EQ_INT(cas_process_exited(p), 1);
  {
    int sig = -1;
    CHECK_EQ_INT(cas_process_exit_code(p, &sig), 0);
    CHECK_EQ_INT(sig, 0);
  }
  cas_process_free(p);
}

/* 4 MiB does not fit the pipes (stdin's 64 KiB, cat's buffer, and stdout's,
 * which the core enlarges to 1 MiB): it must queue, and be flushed on POLLOUT
 * while stdout is drained (cat blocks writing otherwise).  close_stdin while
 * bytes are queued is deferred until the flush that empties the queue. */
static void test_big_write(void) {
  static const char *const argv[] = {"/bin/cat", NULL};
  enum { N = 4 * 1024 * 1024 };
  cas_process_t *p = NULL;
  char *src = malloc(N), *dst = malloc(N + 1);
  size_t got = 0, i;
  int eof = 0, rc, saw_deferred = 0;
  long deadline = now_ms() + 20000;

  if (!src || !dst) {
    CHECK(0);
    goto out;
  }
  for (i = 0; i < N; i++) src[i] = (char)('a' + (i * 7 + i / 4096) % 26);
  CHECK_EQ_INT(spawn(&p, argv, NULL, NULL, NULL), CAS_OK);
  if (!p) goto out;
  CHECK_EQ_INT(cas_process_write(p, src, N / 2), 0);
  CHECK(cas_process_queued(p) > 0); /* the pipe took at most its size */
  CHECK_EQ_INT(cas_process_write(p, src + N / 2, N - N / 2), 0);
  CHECK_EQ_INT(cas_process_close_stdin(p), 0);
  if (cas_process_queued(p) > 0) {
    saw_deferred = 1;
    CHECK_EQ_INT(cas_process_stdin_closed(p), 0);
    CHECK_EQ_INT(cas_process_write(p, "x", 1), CAS_ECLOSED); /* asked to close */
  }
  CHECK(saw_deferred);
  while (!eof && now_ms() < deadline) {
    struct pollfd pfd[2];
    int nfd = 0;
    pfd[nfd].fd = cas_process_fd(p, CAS_STDOUT);
    pfd[nfd].events = POLLIN;
    nfd++;
    if (cas_process_queued(p) > 0) {
      pfd[nfd].fd = cas_process_fd(p, CAS_STDIN);
      pfd[nfd].events = POLLOUT;
      nfd++;
    }
    poll(pfd, (nfds_t)nfd, 1000);
    if (nfd == 2 && (pfd[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
      rc = cas_process_flush(p);
      CHECK(rc == 0 || rc == 1);
      if (rc == 0) {
        CHECK_EQ_INT(cas_process_queued(p), 0);
        CHECK_EQ_INT(cas_process_stdin_closed(p), 1); /* the deferred close */
      }
    }
    for (;;) {
      long n = cas_process_read(p, CAS_STDOUT, dst + got, N + 1 - got);
      if (n > 0)
        got += (size_t)n;
      else {
        if (n == 0)
          eof = 1;
        else
          CHECK_EQ_INT(n, CAS_EAGAIN);
        break;
      }
    }
  }
  CHECK(eof);
  CHECK_EQ_INT(got, N);
  CHECK(got == N && memcmp(src, dst, N) == 0);
  CHECK_EQ_INT(cas_process_wait_exit(p, 5000), 1);
  CHECK_EQ_INT(cas_process_exit_code(p, NULL), 0);
  cas_process_free(p);
out:
  free(src);
  free(dst);
}

static void test_stderr_separate(void) {
  static const char *const argv[] = {"/bin/sh", "-c", "echo out; echo err >&2", NULL};
  cas_process_t *p = NULL;
  char out[64], err[64];
  CHECK_EQ_INT(spawn(&p, argv, NULL, NULL, NULL), CAS_OK);
  if (!p) return;
  read_all(p, CAS_STDOUT, out, sizeof out, 5000);
  read_all(p, CAS_STDERR, err, sizeof err, 5000);
  CHECK(strcmp(out, "out\n") == 0);
  CHECK(strcmp(err, "err\n") == 0);
  cas_process_free(p);
}

static void test_spawn_errors(void) {
  static const char *const missing[] = {"/nonexistent/dir/prog", NULL};
  static const char *const missing_bare[] = {"cas-no-such-program-zz", NULL};
  static const char *const ok[] = {"/bin/true", NULL};
  static const char *const empty[] = {"", NULL};
  char path[PATH_MAX + 32];
  const char *noexec[2];
  cas_process_t *p = (cas_process_t *)&p;
  cas_spawn_opts_t o;
  int err, fds_before = count_fds();

  err = -1;
  CHECK_EQ_INT(spawn(&p, missing, NULL, NULL, &err), CAS_ENOTFOUND);
  CHECK(p == NULL);
  CHECK_EQ_INT(err, ENOENT);

  err = -1;
  CHECK_EQ_INT(spawn(&p, missing_bare, NULL, NULL, &err), CAS_ENOTFOUND);
  CHECK_EQ_INT(err, ENOENT);

  snprintf(path, sizeof path, "%s/plain.txt", tmpdir);
  CHECK_EQ_INT(write_file(path, "#!/bin/sh\necho hi\n", 0644), 0);
  noexec[0] = path;
  noexec[1] = NULL;
  err = -1;
  CHECK_EQ_INT(spawn(&p, noexec, NULL, NULL, &err), CAS_ENOEXEC);
  CHECK_EQ_INT(err, EACCES);

  /* Executable but not a binary and no #!: execvp would hand it to /bin/sh,
   * we never do. */
  snprintf(path, sizeof path, "%s/noshebang", tmpdir);
  CHECK_EQ_INT(write_file(path, "echo should-not-run\n", 0755), 0);
  err = -1;
  CHECK_EQ_INT(spawn(&p, noexec, NULL, NULL, &err), CAS_ENOEXEC);
  CHECK_EQ_INT(err, ENOEXEC);

  err = -1;
  CHECK_EQ_INT(spawn(&p, ok, NULL, "/nonexistent/cwd", &err), CAS_ENOCWD);
  CHECK(p == NULL);
  CHECK_EQ_INT(err, ENOENT);

  CHECK_EQ_INT(spawn(&p, empty, NULL, NULL, NULL), CAS_EINVAL);
  memset(&o, 0, sizeof o);
  CHECK_EQ_INT(cas_process_spawn(&p, &o, NULL), CAS_EINVAL);
  o.argv = ok;
  o.pdeathsig = -2;
  CHECK_EQ_INT(cas_process_spawn(&p, &o, NULL), CAS_EINVAL);

  /* Failed children were reaped, and no fd leaked. */
  CHECK_EQ_INT(count_fds(), fds_before);
  CHECK(waitpid(-1, NULL, WNOHANG) <= 0);
}

static void test_exit_codes(void) {
  static const char *const three[] = {"/bin/sh", "-c", "exit 3", NULL};
  static const char *const term[] = {"/bin/sh", "-c", "kill -TERM $$", NULL};
  cas_process_t *p = NULL;
  int sig;

  CHECK_EQ_INT(spawn(&p, three, NULL, NULL, NULL), CAS_OK);
  if (!p) return;
  CHECK_EQ_INT(cas_process_wait_exit(p, 5000), 1);
  sig = -1;
  CHECK_EQ_INT(cas_process_exit_code(p, &sig), 3);
  CHECK_EQ_INT(sig, 0);
  CHECK_EQ_INT(cas_process_poll_exit(p), 1);
  CHECK_EQ_INT(cas_process_signal(p, SIGTERM), CAS_ECLOSED); /* reaped: never signalled */
  cas_process_free(p);

  CHECK_EQ_INT(spawn(&p, term, NULL, NULL, NULL), CAS_OK);
  if (!p) return;
  CHECK_EQ_INT(cas_process_wait_exit(p, 5000), 1);
  sig = -1;
  CHECK_EQ_INT(cas_process_exit_code(p, &sig), -1);
  CHECK_EQ_INT(sig, SIGTERM);
  cas_process_free(p);
}

static void test_wait_timeout_and_signal(void) {
  static const char *const argv[] = {"/bin/sleep", "100", NULL};
  cas_process_t *p = NULL;
  long t0;
  int sig = -1;
  CHECK_EQ_INT(spawn(&p, argv, NULL, NULL, NULL), CAS_OK);
  if (!p) return;
  CHECK_EQ_INT(cas_process_poll_exit(p), 0);
  CHECK_EQ_INT(cas_process_exit_code(p, &sig), CAS_EINVAL); /* not yet */
  t0 = now_ms();
  CHECK_EQ_INT(cas_process_wait_exit(p, 100), 0);
  CHECK(now_ms() - t0 >= 95);
  CHECK_EQ_INT(cas_process_wait_exit(p, 0), 0);
  CHECK_EQ_INT(cas_process_signal(p, 0), 0);
  CHECK_EQ_INT(cas_process_signal(p, SIGTERM), 0);
  CHECK_EQ_INT(cas_process_wait_exit(p, -1), 1);
  CHECK_EQ_INT(cas_process_exit_code(p, &sig), -1);
  CHECK_EQ_INT(sig, SIGTERM);
  cas_process_free(p);
}

/* Dispositions the host set to SIG_IGN and signals it blocked are not
 * inherited: the child starts clean (grep reads its own /proc status). */
static void test_signals_reset(void) {
  static const char *const argv[] = {"/bin/grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status", NULL};
  cas_process_t *p = NULL;
  char buf[256];
  sigset_t set, old;
  void (*old_int)(int) = signal(SIGINT, SIG_IGN);
  void (*old_term)(int) = signal(SIGTERM, SIG_IGN);
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGCHLD);
  sigprocmask(SIG_BLOCK, &set, &old);
  CHECK_EQ_INT(spawn(&p, argv, NULL, NULL, NULL), CAS_OK);
  sigprocmask(SIG_SETMASK, &old, NULL);
  signal(SIGINT, old_int);
  signal(SIGTERM, old_term);
  if (!p) return;
  read_all(p, CAS_STDOUT, buf, sizeof buf, 5000);
  {
    /* glibc reserves signals 32 and 33 for itself and refuses to change
     * them, so a host that inherited them ignored passes that on. */
    unsigned long long blk = 1, ign = 1;
    const unsigned long long glibc_reserved = 3ULL << 31;
    CHECK(sscanf(buf, "SigBlk:\t%llx\nSigIgn:\t%llx", &blk, &ign) == 2);
    CHECK(blk == 0);
    CHECK((ign & ~glibc_reserved) == 0);
    if (blk != 0 || (ign & ~glibc_reserved) != 0) printf("#   got: %s", buf);
  }
  cas_process_free(p);
}

/* Nothing but 0, 1, 2 reaches the child, even fds the host opened without
 * CLOEXEC; ls adds its own directory fd (3). */
static void test_no_inherited_fds(void) {
  static const char *const argv[] = {"/bin/ls", "-1", "/proc/self/fd", NULL};
  cas_process_t *p = NULL;
  char buf[256];
  int extra[4], pp[2], i;
  extra[0] = open("/dev/null", O_RDONLY);
  extra[1] = dup(extra[0]);
  CHECK_EQ_INT(pipe(pp), 0);
  extra[2] = pp[0];
  extra[3] = pp[1];
  CHECK_EQ_INT(spawn(&p, argv, NULL, NULL, NULL), CAS_OK);
  if (p) {
    read_all(p, CAS_STDOUT, buf, sizeof buf, 5000);
    CHECK(strcmp(buf, "0\n1\n2\n3\n") == 0);
    if (strcmp(buf, "0\n1\n2\n3\n") != 0) printf("#   got: %s\n", buf);
    cas_process_free(p);
  }
  for (i = 0; i < 4; i++) close(extra[i]);
}

/* A host with fd 0 closed: our pipe ends must not take 0/1/2, and 0 stays
 * free afterwards. */
static void test_host_stdin_closed(void) {
  static const char *const argv[] = {"/bin/cat", NULL};
  cas_process_t *p = NULL;
  char buf[16];
  int saved = fcntl(0, F_DUPFD_CLOEXEC, 3);
  close(0);
  CHECK_EQ_INT(spawn(&p, argv, NULL, NULL, NULL), CAS_OK);
  CHECK(fcntl(0, F_GETFD) < 0 && errno == EBADF);
  if (p) {
    CHECK(cas_process_fd(p, CAS_STDIN) > 2);
    CHECK(cas_process_fd(p, CAS_STDOUT) > 2);
    CHECK(cas_process_fd(p, CAS_STDERR) > 2);
    CHECK_EQ_INT(cas_process_write(p, "ping\n", 5), 0);
    CHECK_EQ_INT(cas_process_close_stdin(p), 0);
    read_all(p, CAS_STDOUT, buf, sizeof buf, 5000);
    CHECK(strcmp(buf, "ping\n") == 0);
    cas_process_free(p);
  }
  if (saved >= 0) {
    dup2(saved, 0);
    close(saved);
  }
}

static void test_epipe(void) {
  static const char *const argv[] = {"/bin/true", NULL};
  static const char big[200000];
  cas_process_t *p = NULL;
  sigset_t set, pending, old;
  struct timespec zero = {0, 0};

  CHECK_EQ_INT(spawn(&p, argv, NULL, NULL, NULL), CAS_OK);
  if (!p) return;
  CHECK_EQ_INT(cas_process_wait_exit(p, 5000), 1);
  /* SIGPIPE is SIG_DFL here: reaching the next line proves it was contained. */
  CHECK_EQ_INT(cas_process_write(p, "late\n", 5), CAS_EPIPE);
  CHECK_EQ_INT(cas_process_stdin_closed(p), 1);
  CHECK_EQ_INT(cas_process_write(p, "again\n", 6), CAS_EPIPE);
  CHECK_EQ_INT(cas_process_flush(p), CAS_EPIPE);
  CHECK_EQ_INT(cas_process_queued(p), 0);
  sigemptyset(&pending);
  sigpending(&pending);
  CHECK(!sigismember(&pending, SIGPIPE));
  sigprocmask(SIG_BLOCK, NULL, &old);
  CHECK(!sigismember(&old, SIGPIPE)); /* mask restored */
  cas_process_free(p);

  /* The child dies with bytes still queued: the flush reports EPIPE. */
  {
    static const char *const head[] = {"/bin/sh", "-c", "exec head -c 1 >/dev/null", NULL};
    long deadline = now_ms() + 5000;
    int rc = 0;
    CHECK_EQ_INT(spawn(&p, head, NULL, NULL, NULL), CAS_OK);
    if (!p) return;
    /* A slow host (valgrind) may find head already gone: then the write
     * itself reports the EPIPE the flush would have. */
    rc = cas_process_write(p, big, sizeof big);
    CHECK(rc == 0 || rc == CAS_EPIPE);
    while ((rc == 0 || rc == 1) && now_ms() < deadline) {
      struct pollfd pfd;
      pfd.fd = cas_process_fd(p, CAS_STDIN);
      pfd.events = POLLOUT;
      if (pfd.fd < 0) break;
      poll(&pfd, 1, 100);
      rc = cas_process_flush(p);
      if (rc != 1) break;
    }
    CHECK_EQ_INT(rc, CAS_EPIPE);
    CHECK_EQ_INT(cas_process_queued(p), 0);
    cas_process_free(p);
  }

  /* A SIGPIPE the host already had pending (blocked) is left pending. */
  CHECK_EQ_INT(spawn(&p, argv, NULL, NULL, NULL), CAS_OK);
  if (!p) return;
  CHECK_EQ_INT(cas_process_wait_exit(p, 5000), 1);
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  sigprocmask(SIG_BLOCK, &set, &old);
  raise(SIGPIPE);
  CHECK_EQ_INT(cas_process_write(p, "late\n", 5), CAS_EPIPE);
  sigemptyset(&pending);
  sigpending(&pending);
  CHECK(sigismember(&pending, SIGPIPE));
  CHECK_EQ_INT(sigtimedwait(&set, NULL, &zero), SIGPIPE);
  sigprocmask(SIG_SETMASK, &old, NULL);
  cas_process_free(p);
}

static void test_own_group_and_free_kills(void) {
  static const char *const argv[] = {"/bin/sleep", "100", NULL};
  cas_process_t *p = NULL;
  pid_t pid;
  CHECK_EQ_INT(spawn(&p, argv, NULL, NULL, NULL), CAS_OK);
  if (!p) return;
  pid = cas_process_pid(p);
  CHECK_EQ_INT(getpgid(pid), pid);
  CHECK(getpgid(pid) != getpgid(0));
  cas_process_free(p);
  CHECK(kill(pid, 0) < 0 && errno == ESRCH);
}

static void test_free_kills_grandchildren(void) {
  static const char *const argv[] = {"/bin/sh", "-c", "sleep 100 & echo $!; wait", NULL};
  cas_process_t *p = NULL;
  char buf[64];
  size_t len = 0;
  long deadline = now_ms() + 5000;
  pid_t pid, gpid = 0;
  CHECK_EQ_INT(spawn(&p, argv, NULL, NULL, NULL), CAS_OK);
  if (!p) return;
  pid = cas_process_pid(p);
  while (now_ms() < deadline && !memchr(buf, '\n', len)) {
    struct pollfd pfd;
    long n;
    pfd.fd = cas_process_fd(p, CAS_STDOUT);
    pfd.events = POLLIN;
    poll(&pfd, 1, 100);
    n = cas_process_read(p, CAS_STDOUT, buf + len, sizeof buf - 1 - len);
    if (n > 0)
      len += (size_t)n;
    else if (n == 0)
      break;
  }
  buf[len] = 0;
  gpid = (pid_t)atoi(buf);
  CHECK(gpid > 0);
  if (gpid > 0) CHECK_EQ_INT(getpgid(gpid), pid);
  cas_process_free(p);
  CHECK(kill(pid, 0) < 0 && errno == ESRCH);
  if (gpid > 0) CHECK(wait_gone(gpid, 2000));
}

static void test_env_exact(void) {
  static const char *const argv[] = {"/usr/bin/env", NULL};
  static const char *const envp[] = {"FOO=bar", NULL};
  static const char *const bare[] = {"env", NULL};
  cas_process_t *p = NULL;
  char buf[256];
  CHECK_EQ_INT(spawn(&p, argv, envp, NULL, NULL), CAS_OK);
  if (!p) return;
  read_all(p, CAS_STDOUT, buf, sizeof buf, 5000);
  CHECK(strcmp(buf, "FOO=bar\n") == 0);
  cas_process_free(p);
  /* No PATH in envp: a bare name is searched in the default path. */
  CHECK_EQ_INT(spawn(&p, bare, envp, NULL, NULL), CAS_OK);
  if (!p) return;
  read_all(p, CAS_STDOUT, buf, sizeof buf, 5000);
  CHECK(strcmp(buf, "FOO=bar\n") == 0);
  cas_process_free(p);
}

static void test_path_from_envp(void) {
  static const char *const argv[] = {"cas-test-prog", NULL};
  char script[PATH_MAX + 32], pathvar[PATH_MAX + 64], buf[64];
  const char *envp[2];
  cas_process_t *p = NULL;
  int err = 0;
  snprintf(script, sizeof script, "%s/cas-test-prog", tmpdir);
  CHECK_EQ_INT(write_file(script, "#!/bin/sh\necho found-it\n", 0755), 0);
  /* Not in our PATH, so only envp's PATH can find it. */
  CHECK_EQ_INT(spawn(&p, argv, NULL, NULL, &err), CAS_ENOTFOUND);
  snprintf(pathvar, sizeof pathvar, "PATH=/nonexistent:%s:/bin", tmpdir);
  envp[0] = pathvar;
  envp[1] = NULL;
  CHECK_EQ_INT(spawn(&p, argv, envp, NULL, NULL), CAS_OK);
  if (!p) return;
  read_all(p, CAS_STDOUT, buf, sizeof buf, 5000);
  CHECK(strcmp(buf, "found-it\n") == 0);
  cas_process_free(p);
}

static void test_cwd(void) {
  static const char *const argv[] = {"/bin/pwd", NULL};
  cas_process_t *p = NULL;
  char buf[PATH_MAX + 2], want[PATH_MAX + 2];
  CHECK_EQ_INT(spawn(&p, argv, NULL, tmpdir, NULL), CAS_OK);
  if (!p) return;
  read_all(p, CAS_STDOUT, buf, sizeof buf, 5000);
  snprintf(want, sizeof want, "%s\n", tmpdir);
  CHECK(strcmp(buf, want) == 0);
  cas_process_free(p);
}

/* The intermediate spawns `sleep 100`, reports its pid and dies without
 * freeing: PR_SET_PDEATHSIG kills the sleep.  With pdeathsig -1 it lives. */
static pid_t orphan_sleep(int pdeathsig) {
  int pp[2];
  pid_t mid, got = -1;
  int st;
  if (pipe(pp) < 0) return -1;
  mid = fork();
  if (mid == 0) {
    static const char *const argv[] = {"/bin/sleep", "100", NULL};
    cas_spawn_opts_t o;
    cas_process_t *p = NULL;
    pid_t pid = -1;
    close(pp[0]);
    memset(&o, 0, sizeof o);
    o.argv = argv;
    o.pdeathsig = pdeathsig;
    if (cas_process_spawn(&p, &o, NULL) == CAS_OK) pid = cas_process_pid(p);
    if (write(pp[1], &pid, sizeof pid) != sizeof pid) _exit(2);
    _exit(0); /* no free, no atexit */
  }
  close(pp[1]);
  if (mid > 0) {
    if (read(pp[0], &got, sizeof got) != sizeof got) got = -1;
    waitpid(mid, &st, 0);
  }
  close(pp[0]);
  return got;
}

static void test_pdeathsig(void) {
  pid_t pid = orphan_sleep(0);
  CHECK(pid > 0);
  if (pid > 0) CHECK(wait_gone(pid, 2000));

  pid = orphan_sleep(-1);
  CHECK(pid > 0);
  if (pid > 0) {
    sleep_ms(200);
    CHECK(!is_gone(pid));
    kill(pid, SIGKILL);
    CHECK(wait_gone(pid, 2000));
  }
}

static void test_free_null_and_exit_fd(void) {
  static const char *const argv[] = {"/bin/true", NULL};
  cas_process_t *p = NULL;
  cas_process_free(NULL);
  CHECK_EQ_INT(spawn(&p, argv, NULL, NULL, NULL), CAS_OK);
  if (!p) return;
  if (cas_process_exit_fd(p) >= 0) {
    struct pollfd pfd;
    pfd.fd = cas_process_exit_fd(p);
    pfd.events = POLLIN;
    CHECK_EQ_INT(poll(&pfd, 1, 5000), 1);
    CHECK_EQ_INT(cas_process_poll_exit(p), 1);
  } else {
    printf("# no pidfd (old kernel, or valgrind): the sleep loop was used\n");
  }
  CHECK_EQ_INT(cas_process_wait_exit(p, 5000), 1);
  CHECK_EQ_INT(cas_process_exit_code(p, NULL), 0);
  cas_process_free(p);
}

/* ---- the supervisor: nothing of a session outlives it ------------------- */

/* A session tree like the CLI's: a `setsid` sleep (a session of its own, out
 * of the child's group), a plain background sleep (in the child's group), a
 * double-forked setsid sleep (its parent, a subshell, is gone at once), and a
 * shell in a session of its own with a sleep in its group (the CLI's Bash
 * tool runs its commands that way).  Each sleep's pid is printed on a line;
 * then the child waits for a line on stdin and exits with it as its code. */
#define TREE_SCRIPT                                                                                                    \
  "setsid sleep 300 & echo $!; sleep 300 & echo $!; ( setsid sleep 300 & echo $! ); "                                  \
  "setsid sh -c 'sleep 300 & echo $!; wait' & read x; exit $x"
enum { TREE_PIDS = 4 };

/* Read pid lines from the child's stdout until n were read (or timeout). */
static int read_pids(cas_process_t *p, pid_t *pids, int n, int timeout_ms) {
  char buf[256];
  size_t len = 0;
  int got = 0;
  long deadline = now_ms() + timeout_ms;
  while (got < n && now_ms() < deadline) {
    struct pollfd pfd;
    long r;
    char *nl;
    pfd.fd = cas_process_fd(p, CAS_STDOUT);
    if (pfd.fd < 0) break;
    pfd.events = POLLIN;
    poll(&pfd, 1, 100);
    r = cas_process_read(p, CAS_STDOUT, buf + len, sizeof buf - 1 - len);
    if (r == 0) break;
    if (r > 0) len += (size_t)r;
    buf[len] = 0;
    while (got < n && (nl = strchr(buf, '\n')) != NULL) {
      *nl = 0;
      pids[got] = (pid_t)atoi(buf);
      if (pids[got] > 0) got++;
      len -= (size_t)(nl + 1 - buf);
      memmove(buf, nl + 1, len + 1);
    }
  }
  return got;
}

static int all_alive(const pid_t *pids, int n) {
  int i, ok = 1;
  for (i = 0; i < n; i++)
    if (pids[i] <= 0 || is_gone(pids[i])) {
      printf("#   pid %d is not running\n", (int)pids[i]);
      ok = 0;
    }
  return ok;
}

/* All gone within ms; what survived is reported and killed (a failing test
 * must not leave sleeps behind). */
static int all_gone(const pid_t *pids, int n, long ms) {
  int i, ok = 1;
  for (i = 0; i < n; i++) {
    if (pids[i] <= 0) continue;
    if (!wait_gone(pids[i], ms)) {
      printf("#   pid %d survived\n", (int)pids[i]);
      kill(pids[i], SIGKILL);
      ok = 0;
      ms = 0; /* the first survivor already took the time */
    }
  }
  return ok;
}

/* Reap what came to this process (a subreaper) from a test's dead hosts:
 * their supervisors, which exit once they have swept. */
static void reap_orphans(long ms) {
  long deadline = now_ms() + ms;
  while (now_ms() < deadline) {
    pid_t r = waitpid(-1, NULL, WNOHANG);
    if (r < 0) break; /* ECHILD: none left */
    if (r == 0) sleep_ms(10);
  }
}

/* Field `field` (1-based after the comm: 1 state, 2 ppid, 3 pgrp) of
 * /proc/<pid>/stat, or -1. */
static long stat_field(pid_t pid, int field) {
  char path[64], buf[512], *s;
  FILE *f;
  long v = -1;
  int i;
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  f = fopen(path, "r");
  if (!f) return -1;
  s = fgets(buf, sizeof buf, f);
  fclose(f);
  if (!s || !(s = strrchr(buf, ')'))) return -1;
  s += 2;
  for (i = 1; i < field && s; i++) {
    s = strchr(s, ' ');
    if (s) s++;
  }
  if (s) v = strtol(s, NULL, 10);
  return v;
}

static int spawn_tree(cas_process_t **p, pid_t *pids) {
  static const char *const argv[] = {"/bin/sh", "-c", TREE_SCRIPT, NULL};
  int got;
  memset(pids, 0, TREE_PIDS * sizeof *pids);
  if (spawn(p, argv, NULL, NULL, NULL) != CAS_OK || !*p) return 0;
  got = read_pids(*p, pids, TREE_PIDS, 5000);
  if (got != TREE_PIDS) printf("#   read %d of %d pids\n", got, TREE_PIDS);
  return got == TREE_PIDS;
}

/* The tree: host -> supervisor -> child.  The supervisor is a subreaper in a
 * group of its own (neither ours nor the child's) holding two fds (the
 * status pipe and the guard), and free reaps it. */
static void test_supervisor_shape(void) {
  static const char *const argv[] = {"/bin/sleep", "100", NULL};
  cas_process_t *p = NULL;
  pid_t pid, sup;
  char path[64];
  int nfd = 0;
  struct dirent *e;
  DIR *d;
  CHECK_EQ_INT(spawn(&p, argv, NULL, NULL, NULL), CAS_OK);
  if (!p) return;
  pid = cas_process_pid(p);
  sup = (pid_t)stat_field(pid, 2);
  CHECK(sup > 0 && sup != getpid());
  CHECK_EQ_INT(stat_field(sup, 2), getpid());
  CHECK_EQ_INT(getpgid(pid), pid);
  CHECK_EQ_INT(getpgid(sup), sup);
  CHECK(getpgid(sup) != getpgid(0));
  snprintf(path, sizeof path, "/proc/%d/fd", (int)sup);
  /* The supervisor closes the host's fds only after it has told spawn the
   * child started (off the connect path): look until it has, 5 s at most
   * (under valgrind it takes a while). */
  for (int tries = 0; tries < 500; tries++) {
    nfd = 0;
    d = opendir(path);
    CHECK(d != NULL);
    if (!d) break;
    {
      /* valgrind keeps fds of its own above the limit it shows us */
      struct rlimit rl;
      long lim = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? (long)rl.rlim_cur : LONG_MAX;
      while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.' && atol(e->d_name) < lim) nfd++;
    }
    closedir(d);
    if (nfd == 2) break;
    usleep(10000);
  }
  CHECK_EQ_INT(nfd, 2);
  CHECK(cas_process_exit_fd(p) > 2);
  CHECK((fcntl(cas_process_exit_fd(p), F_GETFD) & FD_CLOEXEC) != 0);
  cas_process_free(p);
  CHECK(kill(pid, 0) < 0 && errno == ESRCH);
  CHECK(kill(sup, 0) < 0 && errno == ESRCH); /* reaped, not a zombie */
}

/* free() on a live tree: every sleep is gone, in or out of the child's group
 * and session, by the time free returns. */
static void test_sweep_on_free(void) {
  cas_process_t *p = NULL;
  pid_t pids[TREE_PIDS];
  CHECK(spawn_tree(&p, pids));
  if (!p) return;
  CHECK(all_alive(pids, TREE_PIDS));
  cas_process_free(p);
  CHECK(all_gone(pids, TREE_PIDS, 2000));
}

/* The child exits on its own with code 7 and leaves its sleeps: the exit is
 * reported (code exact) only once they are gone. */
static void test_sweep_on_exit(void) {
  cas_process_t *p = NULL;
  pid_t pids[TREE_PIDS];
  int sig = -1, i, left = 0;
  CHECK(spawn_tree(&p, pids));
  if (!p) return;
  CHECK(all_alive(pids, TREE_PIDS));
  CHECK_EQ_INT(cas_process_write(p, "7\n", 2), 0);
  CHECK_EQ_INT(cas_process_wait_exit(p, 5000), 1);
  CHECK_EQ_INT(cas_process_exit_code(p, &sig), 7);
  CHECK_EQ_INT(sig, 0);
  for (i = 0; i < TREE_PIDS; i++) left += !is_gone(pids[i]);
  CHECK_EQ_INT(left, 0); /* at once, not eventually */
  cas_process_free(p);
  CHECK(all_gone(pids, TREE_PIDS, 2000));
}

/* SIGKILL to the child's group: the child's status says so, and the sleeps
 * outside the group die too. */
static void test_sweep_on_group_kill(void) {
  cas_process_t *p = NULL;
  pid_t pids[TREE_PIDS];
  int sig = -1;
  CHECK(spawn_tree(&p, pids));
  if (!p) return;
  CHECK(all_alive(pids, TREE_PIDS));
  CHECK_EQ_INT(cas_process_signal(p, SIGKILL), 0);
  CHECK_EQ_INT(cas_process_wait_exit(p, 5000), 1);
  CHECK_EQ_INT(cas_process_exit_code(p, &sig), -1);
  CHECK_EQ_INT(sig, SIGKILL);
  CHECK(all_gone(pids, TREE_PIDS, 2000));
  cas_process_free(p);
}

/* A little host process: spawns the tree, sends us the sleeps' pids, waits
 * for our go (a byte on *go), then ends as told without freeing: 'k' waits
 * to be SIGKILLed, 'e' calls exit() (the atexit hook runs), '_' calls
 * _exit() (nothing of ours runs). */
static pid_t start_host(int how, pid_t *pids, int *go) {
  int pp[2], gp[2];
  pid_t host;
  memset(pids, 0, TREE_PIDS * sizeof *pids);
  *go = -1;
  if (pipe(pp) < 0) return -1;
  if (pipe(gp) < 0) {
    close(pp[0]);
    close(pp[1]);
    return -1;
  }
  fflush(stdout); /* exit() in the host must not write our buffer again */
  host = fork();
  if (host == 0) {
    cas_process_t *p = NULL;
    pid_t got[TREE_PIDS];
    char b;
    close(pp[0]);
    close(gp[1]);
    memset(got, 0, sizeof got);
    if (!spawn_tree(&p, got)) _exit(2);
    if (write(pp[1], got, sizeof got) != (ssize_t)sizeof got) _exit(2);
    close(pp[1]);
    if (read(gp[0], &b, 1) != 1) _exit(2);
    if (how == 'e') exit(0); /* p stays reachable (the core's live list): no leak report */
    if (how == '_') _exit(0);
    for (;;) pause();
  }
  close(pp[1]);
  close(gp[0]);
  if (host > 0 && read(pp[0], pids, TREE_PIDS * sizeof *pids) != (ssize_t)(TREE_PIDS * sizeof *pids)) {
    memset(pids, 0, TREE_PIDS * sizeof *pids);
  }
  close(pp[0]);
  *go = gp[1];
  return host;
}

static void host_ends(int how) {
  pid_t pids[TREE_PIDS];
  int st, go;
  pid_t host = start_host(how, pids, &go);
  CHECK(host > 0);
  if (host <= 0) return;
  CHECK(pids[0] > 0);
  CHECK(all_alive(pids, TREE_PIDS));
  /* (a host that failed has exited: no write to its closed pipe, SIGPIPE
   * is at its default here) */
  if (pids[0] > 0 && write(go, "g", 1) != 1) CHECK(0);
  close(go);
  if (how == 'k' || pids[0] <= 0) kill(host, SIGKILL);
  while (waitpid(host, &st, 0) < 0 && errno == EINTR) {
  }
  CHECK(all_gone(pids, TREE_PIDS, 2000));
  reap_orphans(2000);
}

static void test_host_killed(void) { host_ends('k'); }
static void test_host_exit(void) { host_ends('e'); }
static void test_host_exit_no_atexit(void) { host_ends('_'); }

/* A host that ignores SIGCHLD (its children are reaped by the kernel, so
 * waitpid finds nothing) still gets each exit code and signal exactly, and
 * free still sweeps without hanging. */
static void test_sigchld_ignored(void) {
  static const char *const ok0[] = {"/bin/sh", "-c", "exit 0", NULL};
  static const char *const one[] = {"/bin/sh", "-c", "exit 1", NULL};
  static const char *const seven[] = {"/bin/sh", "-c", "exit 7", NULL};
  static const char *const term[] = {"/bin/sh", "-c", "kill -TERM $$", NULL};
  static const char *const *const cases[] = {ok0, one, seven, term};
  static const int codes[] = {0, 1, 7, -1}, sigs[] = {0, 0, 0, SIGTERM};
  void (*old)(int) = signal(SIGCHLD, SIG_IGN);
  cas_process_t *p = NULL;
  pid_t pids[TREE_PIDS];
  size_t i;
  int sig;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    CHECK_EQ_INT(spawn(&p, cases[i], NULL, NULL, NULL), CAS_OK);
    if (!p) continue;
    CHECK_EQ_INT(cas_process_wait_exit(p, 5000), 1);
    sig = -2;
    CHECK_EQ_INT(cas_process_exit_code(p, &sig), codes[i]);
    CHECK_EQ_INT(sig, sigs[i]);
    cas_process_free(p);
    p = NULL;
  }
  /* Children that exit at once, many times: the supervisor must not have
   * inherited the host's SIG_IGN when they do (the kernel would reap them
   * and the status would be lost). */
  for (i = 0; i < 40; i++) {
    static const char *const t[] = {"/bin/true", NULL};
    CHECK_EQ_INT(spawn(&p, i % 2 ? t : seven, NULL, NULL, NULL), CAS_OK);
    if (!p) continue;
    CHECK_EQ_INT(cas_process_wait_exit(p, 5000), 1);
    CHECK_EQ_INT(cas_process_exit_code(p, NULL), i % 2 ? 0 : 7);
    cas_process_free(p);
    p = NULL;
  }
  /* The same through poll_exit only, as a host loop does. */
  CHECK_EQ_INT(spawn(&p, one, NULL, NULL, NULL), CAS_OK);
  if (p) {
    long deadline = now_ms() + 5000;
    while (cas_process_poll_exit(p) == 0 && now_ms() < deadline) sleep_ms(5);
    CHECK_EQ_INT(cas_process_exit_code(p, NULL), 1);
    cas_process_free(p);
    p = NULL;
  }
  /* A tree that exits on its own, and one freed while running. */
  CHECK(spawn_tree(&p, pids));
  if (p) {
    CHECK_EQ_INT(cas_process_write(p, "1\n", 2), 0);
    CHECK_EQ_INT(cas_process_wait_exit(p, 5000), 1);
    CHECK_EQ_INT(cas_process_exit_code(p, NULL), 1);
    CHECK(all_gone(pids, TREE_PIDS, 2000));
    cas_process_free(p);
    p = NULL;
  }
  CHECK(spawn_tree(&p, pids));
  if (p) {
    long t0 = now_ms();
    cas_process_free(p);
    CHECK(now_ms() - t0 < 1000);
    CHECK(all_gone(pids, TREE_PIDS, 2000));
  }
  signal(SIGCHLD, old);
}

/* ---- cas_run: run to completion, capturing stdout ------------------------ */

static int run_start(cas_run_t **r, const char *const *argv, const char *cwd, size_t max_out) {
  cas_spawn_opts_t o;
  memset(&o, 0, sizeof o);
  o.argv = argv;
  o.cwd = cwd;
  return cas_run_start(r, &o, max_out, NULL);
}

/* Output and exit code, blocking; stderr is dropped, stdin reads EOF. */
static void test_run_capture(void) {
  static const char *const argv[] = {"/bin/sh", "-c", "echo out; echo err >&2; cat; pwd; exit 3", NULL};
  cas_run_t *r = NULL;
  const char *out;
  size_t len;
  int sig = -2;
  char want[PATH_MAX + 16];
  CHECK_EQ_INT(run_start(&r, argv, tmpdir, 0), CAS_OK);
  if (!r) return;
  CHECK_EQ_INT(cas_run_pump(r, 5000), 1);
  CHECK_EQ_INT(cas_run_pump(r, 0), 1); /* done stays done */
  out = cas_run_output(r, &len);
  snprintf(want, sizeof want, "out\n%s\n", tmpdir);
  CHECK_EQ_INT(len, strlen(want));
  CHECK(len == strlen(want) && memcmp(out, want, len) == 0);
  CHECK_EQ_INT(cas_run_exit_code(r, &sig), 3);
  CHECK_EQ_INT(sig, 0);
  cas_run_free(r);
  cas_run_free(NULL);
}

/* An event loop's way: poll the fds it lists, pump(0) when one is ready. */
static void test_run_nonblocking(void) {
  static const char *const argv[] = {"/bin/sh", "-c",
                                     "sleep 0.2; i=0; while [ $i -lt 2000 ]; do "
                                     "echo line $i; i=$((i+1)); done",
                                     NULL};
  cas_run_t *r = NULL;
  long t0 = now_ms(), deadline = t0 + 10000;
  int rc = 0, waits = 0, first;
  size_t len;
  CHECK_EQ_INT(run_start(&r, argv, NULL, 0), CAS_OK);
  if (!r) return;
  first = cas_run_pump(r, 0);
  CHECK_EQ_INT(first, 0);
  CHECK(now_ms() - t0 < 150); /* pump(0) did not wait for the child */
  while (now_ms() < deadline) {
    struct pollfd pfd[3];
    int fds[3], n, i;
    rc = cas_run_pump(r, 0);
    if (rc != 0) break;
    n = cas_run_pollfds(r, fds);
    CHECK(n >= 1 && n <= 3);
    for (i = 0; i < n; i++) {
      pfd[i].fd = fds[i];
      pfd[i].events = POLLIN;
      pfd[i].revents = 0;
    }
    poll(pfd, (nfds_t)n, 1000);
    waits++;
  }
  CHECK_EQ_INT(rc, 1);
  CHECK(waits >= 1);
  (void)cas_run_output(r, &len);
  CHECK(len > 2000 * 7);
  CHECK_EQ_INT(cas_run_exit_code(r, NULL), 0);
  {
    int fds[3];
    CHECK_EQ_INT(cas_run_pollfds(r, fds), 0);
  }
  cas_run_free(r);
}

/* Spawn failures come back from start; a cap on stdout kills the child;
 * free kills a child still running, at once. */
static void test_run_errors(void) {
  static const char *const missing[] = {"cas-no-such-program-here", NULL};
  static const char *const flood[] = {"/bin/sh", "-c", "while :; do echo xxxxxxxxxxxxxxxx; done", NULL};
  static const char *const slow[] = {"/bin/sleep", "30", NULL};
  cas_run_t *r = (cas_run_t *)1;
  long t0;
  CHECK_EQ_INT(run_start(&r, missing, NULL, 0), CAS_ENOTFOUND);
  CHECK(r == NULL);
  CHECK_EQ_INT(run_start(&r, slow, "/nonexistent-dir-cas", 0), CAS_ENOCWD);
  CHECK_EQ_INT(run_start(&r, flood, NULL, 4096), CAS_OK);
  if (r) {
    CHECK_EQ_INT(cas_run_pump(r, 5000), CAS_ELINE);
    CHECK_EQ_INT(cas_run_pump(r, 0), CAS_ELINE); /* sticky */
    CHECK_EQ_INT(cas_run_exit_code(r, NULL), CAS_EINVAL);
    cas_run_free(r);
  }
  r = NULL;
  CHECK_EQ_INT(run_start(&r, slow, NULL, 0), CAS_OK);
  if (r) {
    CHECK_EQ_INT(cas_run_pump(r, 50), 0); /* timed out, still running */
    CHECK_EQ_INT(cas_run_exit_code(r, NULL), CAS_EINVAL);
    t0 = now_ms();
    cas_run_free(r);
    CHECK(now_ms() - t0 < 1000);
  }
}

/* Without a supervisor (pdeathsig -1) the run still ends with the status. */
static void test_run_unsupervised(void) {
  static const char *const argv[] = {"/bin/sh", "-c", "echo hi; exit 5", NULL};
  cas_spawn_opts_t o;
  cas_run_t *r = NULL;
  size_t len;
  const char *out;
  memset(&o, 0, sizeof o);
  o.argv = argv;
  o.pdeathsig = -1;
  CHECK_EQ_INT(cas_run_start(&r, &o, 0, NULL), CAS_OK);
  if (!r) return;
  CHECK_EQ_INT(cas_run_pump(r, 5000), 1);
  out = cas_run_output(r, &len);
  CHECK(len == 3 && memcmp(out, "hi\n", 3) == 0);
  CHECK_EQ_INT(cas_run_exit_code(r, NULL), 5);
  cas_run_free(r);
}

/* ---- main --------------------------------------------------------------- */

static void rm_tmpdir(void) {
  static const char *const names[] = {"plain.txt", "noshebang", "cas-test-prog"};
  char path[PATH_MAX + 32];
  size_t i;
  for (i = 0; i < sizeof names / sizeof names[0]; i++) {
    snprintf(path, sizeof path, "%s/%s", tmpdir, names[i]);
    unlink(path);
  }
  rmdir(tmpdir);
}

int main(void) {
  char tmpl[] = "/tmp/cas_test_process_XXXXXX";
  char *real;
  int rc;
  signal(SIGPIPE, SIG_DFL);
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  if (!mkdtemp(tmpl)) {
    perror("mkdtemp");
    return 1;
  }
  real = realpath(tmpl, NULL); /* /bin/pwd prints the resolved path */
  snprintf(tmpdir, sizeof tmpdir, "%s", real ? real : tmpl);
  free(real);

  RUN(test_echo_roundtrip);
  RUN(test_big_write);
  RUN(test_stderr_separate);
  RUN(test_spawn_errors);
  RUN(test_exit_codes);
  RUN(test_wait_timeout_and_signal);
  RUN(test_signals_reset);
  RUN(test_no_inherited_fds);
  RUN(test_host_stdin_closed);
  RUN(test_epipe);
  RUN(test_own_group_and_free_kills);
  RUN(test_free_kills_grandchildren);
  RUN(test_env_exact);
  RUN(test_path_from_envp);
  RUN(test_cwd);
  RUN(test_pdeathsig);
  RUN(test_free_null_and_exit_fd);
  RUN(test_supervisor_shape);
  RUN(test_sweep_on_free);
  RUN(test_sweep_on_exit);
  RUN(test_sweep_on_group_kill);
  RUN(test_host_killed);
  RUN(test_host_exit);
  RUN(test_host_exit_no_atexit);
  RUN(test_sigchld_ignored);
  RUN(test_run_capture);
  RUN(test_run_nonblocking);
  RUN(test_run_errors);
  RUN(test_run_unsupervised);

  rm_tmpdir();
  rc = ctest_done();
  return rc;
}
