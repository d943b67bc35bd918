/*
 * progress.h: the counters of a long run, a backup or a restore, that a
 * program shows while the library does the work.
 *
 * The library adds what it has done (pk_progress_add) as it goes, and sets
 * the total (pk_progress_total) when it learns it; a program reads them
 * (pk_progress_read) from a thread of its own, a few times a second, and
 * draws them (bin/meter.h).  The counters are relaxed atomics: an update
 * is an add, with no lock and no system call, and the reader may see the
 * files of one update before its bytes.  Every function takes NULL for
 * "no counters", so an engine calls them without checking.
 *
 * To hook an engine in: give its options a struct pk_progress *, call
 * pk_progress_add(p, 1, 0) for each file it starts and
 * pk_progress_add(p, 0, n) for each n bytes of content it has written,
 * and pk_progress_total() once, if it knows how many there are.
 */
#ifndef PK_PROGRESS_H
#define PK_PROGRESS_H

#include <stdatomic.h>
#include <stdint.h>

struct pk_progress {
	_Atomic uint64_t files, bytes;		/* done */
	_Atomic uint64_t total_files, total_bytes;	/* once has_total */
	atomic_int has_total;
};

/* A snapshot of the counters, for the reader. */
struct pk_progress_now {
	uint64_t files, bytes;
	uint64_t total_files, total_bytes;
	int has_total;
};

static inline void
pk_progress_init(struct pk_progress *p)
{
	atomic_init(&p->files, 0);
	atomic_init(&p->bytes, 0);
	atomic_init(&p->total_files, 0);
	atomic_init(&p->total_bytes, 0);
	atomic_init(&p->has_total, 0);
}

static inline void
pk_progress_add(struct pk_progress *p, uint64_t files, uint64_t bytes)
{
	if (p == NULL)
		return;
	if (files)
		atomic_fetch_add_explicit(&p->files, files,
		    memory_order_relaxed);
	if (bytes)
		atomic_fetch_add_explicit(&p->bytes, bytes,
		    memory_order_relaxed);
}

/* The files and bytes of the whole run, when known. */
static inline void
pk_progress_total(struct pk_progress *p, uint64_t files, uint64_t bytes)
{
	if (p == NULL)
		return;
	atomic_store_explicit(&p->total_files, files, memory_order_relaxed);
	atomic_store_explicit(&p->total_bytes, bytes, memory_order_relaxed);
	atomic_store_explicit(&p->has_total, 1, memory_order_release);
}

static inline void
pk_progress_read(struct pk_progress *p, struct pk_progress_now *n)
{
	n->has_total = atomic_load_explicit(&p->has_total,
	    memory_order_acquire);
	n->total_files = atomic_load_explicit(&p->total_files,
	    memory_order_relaxed);
	n->total_bytes = atomic_load_explicit(&p->total_bytes,
	    memory_order_relaxed);
	n->files = atomic_load_explicit(&p->files, memory_order_relaxed);
	n->bytes = atomic_load_explicit(&p->bytes, memory_order_relaxed);
}

#endif
