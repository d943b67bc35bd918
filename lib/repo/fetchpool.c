#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "err.h"
#include "fetch.h"
#include "fetchpool.h"
#include "packread.h"
#include "workers.h"

struct fetchjob {
	uint8_t id[PK_ID_BYTES];
	uint32_t len;
	int done, err;
	char *msg;		/* the worker's message for err (malloc'd) */
	struct pk_buf out;
};

struct pk_fetchpool {
	struct pk_repo *repo;
	const struct pk_index *ix;
	struct pk_workers w;
	int njobs;
	struct fetchjob *jobs;		/* a ring, in the order queued */
	/* Counters of chunks: handed out (head), taken by a worker (claim),
	 * queued (tail); head <= claim <= tail. */
	uint64_t head, claim, tail;
	/* The caller's own: the job handed out last, and the bytes queued
	 * and not handed out. */
	int handed;
	size_t ahead;
};

/* Chunks ahead: enough for the output's consumer (tar) to stall a while on
 * small files without leaving the workers idle, and a bound on their
 * bytes, so that large chunks do not multiply memory.  A chunk's buffer is
 * freed once it is written: buffers kept for reuse saved no time and, in
 * one malloc arena shared by the threads, held on to tens of MB. */
#define JOBS_PER_THREAD	64
#define AHEAD_BYTES_MAX	(8u << 20)

static void *
worker(void *arg)
{
	struct pk_fetchpool *p = arg;
	struct pk_blob_reader br;
	struct fetchjob *j;
	int e, ready = pk_blob_reader_init(&br, p->repo);

	pthread_mutex_lock(&p->w.lock);
	for (;;) {
		while (p->claim == p->tail && !p->w.stop)
			pthread_cond_wait(&p->w.work, &p->w.lock);
		if (p->w.stop)
			break;
		j = &p->jobs[p->claim++ % (uint64_t)p->njobs];
		pthread_mutex_unlock(&p->w.lock);
		pk_err_clear();
		e = ready < 0 ? ready :
		    pk_chunk_fetch(p->repo, p->ix, &br, j->id, j->len, &j->out);
		if (e < 0)
			j->msg = strdup(pk_errmsg(e));
		pthread_mutex_lock(&p->w.lock);
		j->err = e;
		j->done = 1;
		pthread_cond_broadcast(&p->w.finished);
	}
	pthread_mutex_unlock(&p->w.lock);
	if (ready == 0)
		pk_blob_reader_release(&br);
	return NULL;
}

int
pk_fetchpool_new(struct pk_fetchpool **pp, struct pk_repo *r,
    const struct pk_index *ix, int nthreads)
{
	struct pk_fetchpool *p;
	int e;

	*pp = NULL;
	if (nthreads < 1)
		nthreads = 1;
	if ((p = calloc(1, sizeof *p)) == NULL)
		return -ENOMEM;
	p->repo = r;
	p->ix = ix;
	p->njobs = JOBS_PER_THREAD * nthreads;
	if ((p->jobs = calloc((size_t)p->njobs, sizeof *p->jobs)) == NULL) {
		pk_fetchpool_free(p);
		return -ENOMEM;
	}
	if ((e = pk_workers_start(&p->w, nthreads, worker, p)) < 0) {
		pk_fetchpool_free(p);
		return e;
	}
	*pp = p;
	return 0;
}

void
pk_fetchpool_free(struct pk_fetchpool *p)
{
	int i;

	if (p == NULL)
		return;
	if (p->w.n)
		pk_workers_stop(&p->w);
	for (i = 0; p->jobs != NULL && i < p->njobs; i++) {
		pk_buf_release(&p->jobs[i].out);
		free(p->jobs[i].msg);
	}
	free(p->jobs);
	free(p);
}

int
pk_fetchpool_room(const struct pk_fetchpool *p)
{
	uint64_t queued = p->tail - p->head;

	return queued < (uint64_t)p->njobs &&
	    (p->ahead < AHEAD_BYTES_MAX || queued == (uint64_t)p->handed);
}

void
pk_fetchpool_add(struct pk_fetchpool *p, const uint8_t *id, uint32_t len)
{
	struct fetchjob *j = &p->jobs[p->tail % (uint64_t)p->njobs];

	memcpy(j->id, id, PK_ID_BYTES);
	j->len = len;
	j->done = 0;
	p->ahead += len;
	pthread_mutex_lock(&p->w.lock);
	p->tail++;
	pthread_cond_signal(&p->w.work);
	pthread_mutex_unlock(&p->w.lock);
}

/* Gives back the job handed out last. */
static void
release(struct pk_fetchpool *p)
{
	struct fetchjob *j = &p->jobs[p->head % (uint64_t)p->njobs];

	p->ahead -= j->len;
	pk_buf_release(&j->out);
	free(j->msg);
	j->msg = NULL;
	p->head++;
	p->handed = 0;
}

int
pk_fetchpool_next(struct pk_fetchpool *p, const uint8_t *id,
    const struct pk_buf **out)
{
	struct fetchjob *j;

	*out = NULL;
	if (p->handed)
		release(p);
	if (p->head == p->tail)
		return pk_err(-EINVAL, "fetch: no chunk queued");
	j = &p->jobs[p->head % (uint64_t)p->njobs];
	if (memcmp(j->id, id, PK_ID_BYTES) != 0)
		return pk_err(-EPROTO, "fetch: chunks out of order");
	pthread_mutex_lock(&p->w.lock);
	while (!j->done)
		pthread_cond_wait(&p->w.finished, &p->w.lock);
	pthread_mutex_unlock(&p->w.lock);
	p->handed = 1;
	if (j->err < 0)
		return pk_err(j->err, "%s", j->msg ? j->msg : strerror(-j->err));
	*out = &j->out;
	return 0;
}
