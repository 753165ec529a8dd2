/* The native floor for `make bench`: the least any client can do with the
 * fake CLI's output.  It spawns the CLI (fork/exec with pipes, no shell),
 * does the initialize handshake, sends one user message and then only frames
 * lines (read() into a buffer, memchr for '\n'), decoding nothing, until a
 * line starting with {"type":"result" — the shape of the CLI's result frame.
 *
 *   BENCH_N=1000 build/bench/floor build/bench/fake_cli
 *   -> connect_ms=0.512 turn_ms=0.731 messages=1002
 *
 * connect_ms: spawn until the initialize control_response is read.
 * turn_ms: the user message written until the result line is read.
 * messages: lines read after the user message, the result included (the
 * fake's system/init + N frames + result), the same count as the SDKs'. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

static void write_all(int fd, const char *s, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      die("floor: write");
    }
    s += w;
    n -= (size_t)w;
  }
}

/* A growable read buffer: bytes [start, end) are unread; scan is where the
 * search for '\n' resumes, so a long line is never scanned twice. */
typedef struct {
  char *data;
  size_t cap, start, end, scan;
  int fd;
} reader_t;

/* The next line (without '\n') in *len; NULL at EOF.  The buffer doubles
 * only when one line does not fit: a 5 MB frame costs a few reallocs. */
static const char *next_line(reader_t *r, size_t *len) {
  for (;;) {
    char *nl = memchr(r->data + r->scan, '\n', r->end - r->scan);
    if (nl) {
      const char *line = r->data + r->start;
      *len = (size_t)(nl - line);
      r->start = r->scan = (size_t)(nl - r->data) + 1;
      return line;
    }
    r->scan = r->end;
    if (r->start > 0 && r->start == r->end) {
      r->start = r->end = r->scan = 0; /* everything consumed: reuse from the front */
    } else if (r->end == r->cap) {
      if (r->start > 0) { /* move the partial line to the front */
        memmove(r->data, r->data + r->start, r->end - r->start);
        r->end -= r->start;
        r->scan = r->end;
        r->start = 0;
      } else {
        r->cap *= 2;
        r->data = realloc(r->data, r->cap);
        if (!r->data) die("floor: realloc");
      }
    }
    ssize_t n = read(r->fd, r->data + r->end, r->cap - r->end);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("floor: read");
    }
    if (n == 0) return NULL;
    r->end += (size_t)n;
  }
}

static int starts_with(const char *line, size_t len, const char *prefix) {
  size_t n = strlen(prefix);
  return len >= n && memcmp(line, prefix, n) == 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: floor FAKE_CLI [args...]\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN); /* a dead CLI shows up as a write error, not a silent exit */

  double t0 = now_ms();
  int in[2], out[2];
  if (pipe(in) < 0 || pipe(out) < 0) die("floor: pipe");
  pid_t pid = fork();
  if (pid < 0) die("floor: fork");
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    close(in[0]);
    close(in[1]);
    close(out[0]);
    close(out[1]);
    execv(argv[1], argv + 1);
    _exit(127);
  }
  close(in[0]);
  close(out[1]);

  reader_t r = {malloc(1 << 16), 1 << 16, 0, 0, 0, out[0]};
  if (!r.data) die("floor: malloc");
  const char *line;
  size_t len;

  static const char INIT[] =
      "{\"type\":\"control_request\",\"request_id\":\"req_1\",\"request\":{\"subtype\":\"initialize\"}}\n";
  write_all(in[1], INIT, sizeof INIT - 1);
  while ((line = next_line(&r, &len)) && !starts_with(line, len, "{\"type\":\"control_response\"")) {
  }
  if (!line) {
    fprintf(stderr, "floor: the CLI ended before answering initialize\n");
    return 1;
  }
  double t1 = now_ms();

  static const char USER[] = "{\"type\":\"user\",\"message\":{\"role\":\"user\",\"content\":\"go\"},"
                             "\"parent_tool_use_id\":null,\"session_id\":\"default\"}\n";
  write_all(in[1], USER, sizeof USER - 1);
  size_t messages = 0;
  int done = 0;
  while ((line = next_line(&r, &len))) {
    messages++;
    if (starts_with(line, len, "{\"type\":\"result\"")) {
      done = 1;
      break;
    }
  }
  double t2 = now_ms();

  close(in[1]); /* EOF on its stdin: the CLI exits */
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  close(out[0]);
  free(r.data);
  if (!done) {
    fprintf(stderr, "floor: the CLI ended before the result (%zu lines)\n", messages);
    return 1;
  }
  printf("connect_ms=%.3f turn_ms=%.3f messages=%zu\n", t1 - t0, t2 - t1, messages);
  return 0;
}
