/* claude_agent_sdk.h - the C core of the Claude Agent SDK, for C programs.
 *
 * Include this one header:
 *
 *   #include <claude_agent_sdk/claude_agent_sdk.h>
 *
 * and link with `pkg-config --cflags --libs claude_agent_sdk` (installed by
 * `make install`).  Nothing here needs Lua: the Lua binding is a separate
 * layer built on top of the same core.
 *
 * What a C program uses, top down:
 *   cas_client.h   a running CLI: spawn, pump(timeout_ms), send frames and
 *                  control requests, shut down.  Start here.
 *   cas_proto.h    what pump delivered: the message queue, the CLI's own
 *                  control requests, responses to ours (by request id).
 *   cas_error.h    the negative CAS_E* codes every call returns, and their
 *                  names and sentences.
 *   cas_version.h  CAS_VERSION_* of the headers, cas_version() of the
 *                  library loaded; CAS_EXTERN, the mark on every public
 *                  function (nothing else is exported).
 *   cas_json.h     cJSON helpers (the trees in the queues are cJSON's, from
 *                  libcjson, which is why pkg-config also brings it in).
 *   cas_process.h, cas_framer.h, cas_buf.h
 *                  the pieces the client is built from, for a program that
 *                  wants its own process or framing layer; cas_process.h
 *                  also runs a helper program to completion with its stdout
 *                  captured (cas_run_*), pollable like the client.
 *
 * The core never calls back and never blocks outside cas_client_pump(): the
 * program pumps, then pops what arrived.  Policy (which flags, which
 * environment, when to close stdin) is the caller's; examples/c/ in the
 * source tree shows a whole conversation.
 */
#ifndef CLAUDE_AGENT_SDK_H
#define CLAUDE_AGENT_SDK_H

#include "cas_version.h"
#include "cas_error.h"
#include "cas_buf.h"
#include "cas_framer.h"
#include "cas_json.h"
#include "cas_process.h"
#include "cas_proto.h"
#include "cas_client.h"

#endif
