/* cas_version.c - the version of the library that is loaded (cas_version.h). */
#include "cas_version.h"

unsigned cas_version(void) { return CAS_VERSION_HEX; }

const char *cas_version_string(void) { return CAS_VERSION_STRING; }
