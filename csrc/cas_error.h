/* cas_error.h - error codes of the C core.
 *
 * Every fallible function of the core returns 0 (CAS_OK) or one of the negative
 * codes below, libuv style.  cas_strerror() gives a sentence, cas_err_name() the
 * symbolic name ("CAS_ENOTFOUND"), which the Lua binding hands to the Lua layer
 * so it can pick the right typed error.  No function of the core aborts on
 * out-of-memory: it returns CAS_ENOMEM.
 */
#ifndef CAS_ERROR_H
#define CAS_ERROR_H

#include "cas_version.h"
enum {
  CAS_OK = 0,
  CAS_ENOMEM = -1, /* out of memory */
  CAS_EINVAL = -2, /* bad argument (a caller bug) */
  CAS_ENOTFOUND = -3, /* executable not found */
  CAS_ENOEXEC = -4, /* found but cannot be executed (EACCES, ENOEXEC) */
  CAS_ENOCWD = -5, /* working directory missing or not enterable */
  CAS_ESPAWN = -6, /* any other spawn failure (pipe, fork, exec) */
  CAS_EPIPE = -7, /* the child closed its stdin */
  CAS_ECLOSED = -8, /* the client or pipe is already closed */
  CAS_ELINE = -9, /* a line exceeded the maximum buffer size */
  CAS_EJSON = -10, /* invalid JSON */
  CAS_EUTF8 = -11, /* invalid UTF-8 */
  CAS_EDEPTH = -12, /* JSON nested deeper than the limit */
  CAS_ETIMEOUT = -13, /* a deadline passed */
  CAS_EEXIT = -14, /* the process exited */
  CAS_ESYS = -15, /* another system error; see errno where documented */
  CAS_EREMOTE = -16, /* the peer answered with an error */
  CAS_EAGAIN = -17, /* nothing to do right now (not a failure) */
  CAS_ENOUSER = -18 /* no such user, or no privilege to run as it */
};

/* A static sentence for err, never NULL ("unknown error" for unknown codes). */
CAS_EXTERN const char *cas_strerror(int err);
/* The symbolic name of err, e.g. "CAS_ENOTFOUND", never NULL. */
CAS_EXTERN const char *cas_err_name(int err);
/* The symbolic name of a system errno, as libuv and luv spell it ("ENOENT",
 * "EACCES", ...), for the failures the binding reports from plain system
 * calls; "EUNKNOWN" for one not listed.  Never NULL. */
CAS_EXTERN const char *cas_errno_name(int sys_errno);

#endif
