/* cas_version.h - the library's version, and the mark on its public API.
 *
 * CAS_EXTERN marks every function a C program may call.  The library is
 * compiled with -fvisibility=hidden, so whatever lacks the mark stays inside
 * libclaude_agent_sdk.so: the dynamic symbol table is the documented API and
 * nothing else, and a helper can be renamed without breaking anyone.
 *
 * Define CAS_EMBEDDED when the core is compiled into another shared object
 * (the Lua module core.so does this): the core's functions then stay hidden
 * in it too, so a host that also links libclaude_agent_sdk.so never gets two
 * interposing copies of every cas_* symbol.
 *
 * The version follows the Lua SDK's (options.lua VERSION; a spec holds them
 * equal).  While the major version is 0 the ABI may change between minor
 * versions; the soname carries the major version only.
 */
#ifndef CAS_VERSION_H
#define CAS_VERSION_H

#if defined(CAS_EMBEDDED) || !defined(__GNUC__)
#define CAS_EXTERN extern
#else
#define CAS_EXTERN extern __attribute__((visibility("default")))
#endif

#define CAS_VERSION_MAJOR 0
#define CAS_VERSION_MINOR 1
#define CAS_VERSION_PATCH 0

#define CAS_STRINGIFY_(x) #x
#define CAS_STRINGIFY(x) CAS_STRINGIFY_(x)
/* "0.1.0" */
#define CAS_VERSION_STRING                                                                                             \
  CAS_STRINGIFY(CAS_VERSION_MAJOR) "." CAS_STRINGIFY(CAS_VERSION_MINOR) "." CAS_STRINGIFY(CAS_VERSION_PATCH)
/* 0xMMmmpp: compare with >= at compile time */
#define CAS_VERSION_HEX ((CAS_VERSION_MAJOR << 16) | (CAS_VERSION_MINOR << 8) | CAS_VERSION_PATCH)

/* The version of the library actually loaded, which may differ from the
 * header a program was compiled against: CAS_VERSION_HEX's form, and the
 * string. */
CAS_EXTERN unsigned cas_version(void);
CAS_EXTERN const char *cas_version_string(void);

#endif
