/* cas_error.c - names and sentences for the core's error codes. */
#include "cas_error.h"

#include <errno.h>

typedef struct {
  int code;
  const char *name;
  const char *text;
} cas_err_entry;

static const cas_err_entry cas__errors[] = {
    {CAS_OK, "CAS_OK", "success"},
    {CAS_ENOMEM, "CAS_ENOMEM", "out of memory"},
    {CAS_EINVAL, "CAS_EINVAL", "invalid argument"},
    {CAS_ENOTFOUND, "CAS_ENOTFOUND", "executable not found"},
    {CAS_ENOEXEC, "CAS_ENOEXEC", "file is not executable"},
    {CAS_ENOCWD, "CAS_ENOCWD", "working directory does not exist"},
    {CAS_ESPAWN, "CAS_ESPAWN", "could not start the process"},
    {CAS_EPIPE, "CAS_EPIPE", "the process closed its stdin (broken pipe)"},
    {CAS_ECLOSED, "CAS_ECLOSED", "already closed"},
    {CAS_ELINE, "CAS_ELINE", "line exceeds the maximum buffer size"},
    {CAS_EJSON, "CAS_EJSON", "invalid JSON"},
    {CAS_EUTF8, "CAS_EUTF8", "invalid UTF-8"},
    {CAS_EDEPTH, "CAS_EDEPTH", "JSON nested too deeply"},
    {CAS_ETIMEOUT, "CAS_ETIMEOUT", "timed out"},
    {CAS_EEXIT, "CAS_EEXIT", "the process exited"},
    {CAS_ESYS, "CAS_ESYS", "system error"},
    {CAS_EREMOTE, "CAS_EREMOTE", "the peer answered with an error"},
    {CAS_EAGAIN, "CAS_EAGAIN", "try again"},
    {CAS_ENOUSER, "CAS_ENOUSER", "no such user, or not permitted to run as it"},
};

static const cas_err_entry *cas__err_find(int err) {
  unsigned i;
  for (i = 0; i < sizeof cas__errors / sizeof cas__errors[0]; i++)
    if (cas__errors[i].code == err) return &cas__errors[i];
  return 0;
}

const char *cas_strerror(int err) {
  const cas_err_entry *e = cas__err_find(err);
  return e ? e->text : "unknown error";
}

const char *cas_err_name(int err) {
  const cas_err_entry *e = cas__err_find(err);
  return e ? e->name : "CAS_EUNKNOWN";
}

/* The errnos a file-system or process call commonly fails with. */
const char *cas_errno_name(int sys_errno) {
  switch (sys_errno) {
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case ELOOP: return "ELOOP";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case EEXIST: return "EEXIST";
    case ENOTEMPTY: return "ENOTEMPTY";
    case EIO: return "EIO";
    case ENOMEM: return "ENOMEM";
    case EINVAL: return "EINVAL";
    case EBADF: return "EBADF";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOSPC: return "ENOSPC";
    case EROFS: return "EROFS";
    case EBUSY: return "EBUSY";
    case EAGAIN: return "EAGAIN";
    case EINTR: return "EINTR";
    case ECHILD: return "ECHILD";
    case ESRCH: return "ESRCH";
    case EPIPE: return "EPIPE";
    case EXDEV: return "EXDEV";
    case ENOEXEC: return "ENOEXEC";
    case E2BIG: return "E2BIG";
    default: return "EUNKNOWN";
  }
}
