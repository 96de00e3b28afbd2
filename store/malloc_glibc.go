//go:build linux && cgo

package store

/*
#include <malloc.h>
#include <stdlib.h>

// Keep SQLite's memory in at most two malloc arenas. glibc gives every thread
// that contends for malloc an arena of its own (up to 8 per core) and keeps
// what was freed in each; SQLite runs its connections on whichever OS threads
// the Go scheduler picks, so each connection's page cache ends up spread over
// many arenas. Measured with the load command (10,000 products): 7 arenas of
// ~3 MB each under registration load; peak RSS 113 MB → 93 MB with two.
//
// A constructor, so that it runs when the binary is loaded, before the Go
// runtime starts its threads: glibc fixes an arena to a thread at the thread's
// first malloc. An operator's MALLOC_ARENA_MAX wins (glibc has read it).
__attribute__((constructor)) static void dcr_limit_malloc_arenas(void) {
#ifdef M_ARENA_MAX
	if (getenv("MALLOC_ARENA_MAX") == NULL) {
		mallopt(M_ARENA_MAX, 2);
	}
#endif
}
*/
import "C"
