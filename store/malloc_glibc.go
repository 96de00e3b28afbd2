//go:build linux && cgo

package store

/*
#include <malloc.h>

// Keep SQLite's memory in at most two malloc arenas. glibc gives every thread
// that contends for malloc an arena of its own (up to 8 per core) and keeps
// what was freed in each; SQLite runs its connections on whichever OS threads
// the Go scheduler picks, so each reader's page cache ends up spread over
// many arenas. Measured with the load command (10,000 products): peak RSS
// under registration load 113 MB → 93 MB, at no cost in throughput.
static void dcr_limit_malloc_arenas(void) {
#ifdef M_ARENA_MAX
	mallopt(M_ARENA_MAX, 2);
#endif
}
*/
import "C"

import "os"

func init() {
	// An operator's MALLOC_ARENA_MAX (glibc reads it at process start) wins.
	if os.Getenv("MALLOC_ARENA_MAX") == "" {
		C.dcr_limit_malloc_arenas()
	}
}
