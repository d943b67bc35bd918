#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "pack.h"
#include "sealpool.h"
#include "workers.h"

struct pk_sealpool {
	const struct pk_keys *keys;
	int level, njobs;
	struct pk_workers w;
	struct pk_sealjob *jobs;
	struct pk_sealjob *free, *queue, *done;	/* lists through next */
	int inflight;				/* submitted, not yet done */
	/* The calling thread's own: jobs it has taken and not given back,
	 * and the bytes of their chunks. */
	int out;
	size_t held;
	size_t kept;	/* buffer bytes of the free jobs */
};

/*
 * Many small jobs in flight keep the workers busy without a hand-off per
 * chunk; the bytes they hold are bounded all the same, so that large
 * chunks do not multiply memory.
 */
#define JOBS_PER_THREAD	8
#define HELD_BYTES_MAX	(2u << 20)
/* Free jobs keep their buffers for the next chunks, up to this much. */
#define KEPT_BYTES_MAX	(2u << 20)

static void
push(struct pk_sealjob **list, struct pk_sealjob *j)
{
	j->next = *list;
	*list = j;
}

static struct pk_sealjob *
pop(struct pk_sealjob **list)
{
	struct pk_sealjob *j = *list;

	if (j)
		*list = j->next;
	return j;
}

static void
seal(struct pk_sealpool *p, struct pk_sealer *s, struct pk_sealjob *j)
{
	uint8_t check[PK_ID_BYTES];

	j->err = 0;
	if (j->verify) {
		pk_hash_id(check, j->in.data, j->in.len);
		if (memcmp(check, j->id, PK_ID_BYTES) != 0) {
			j->err = -EBADMSG;
			return;
		}
	}
	j->err = pk_blob_seal(s, p->keys, j->sid, j->in.data, j->in.len, &j->box);
}

static void *
worker(void *arg)
{
	struct pk_sealpool *p = arg;
	struct pk_sealer s;
	struct pk_sealjob *j;
	int e = pk_sealer_init(&s, p->level);

	pthread_mutex_lock(&p->w.lock);
	for (;;) {
		while (p->queue == NULL && !p->w.stop)
			pthread_cond_wait(&p->w.work, &p->w.lock);
		if ((j = pop(&p->queue)) == NULL)
			break;
		pthread_mutex_unlock(&p->w.lock);
		if (e < 0)
			j->err = e;
		else
			seal(p, &s, j);
		pthread_mutex_lock(&p->w.lock);
		push(&p->done, j);
		p->inflight--;
		pthread_cond_broadcast(&p->w.finished);
	}
	pthread_mutex_unlock(&p->w.lock);
	pk_sealer_release(&s);
	return NULL;
}

int
pk_sealpool_new(struct pk_sealpool **pp, const struct pk_keys *keys,
    int level, int nthreads)
{
	struct pk_sealpool *p;
	int i, e;

	*pp = NULL;
	if ((p = calloc(1, sizeof *p)) == NULL)
		return -ENOMEM;
	p->keys = keys;
	p->level = level;
	p->njobs = JOBS_PER_THREAD * nthreads + 1;
	if ((p->jobs = calloc((size_t)p->njobs, sizeof *p->jobs)) == NULL) {
		pk_sealpool_free(p);
		return -ENOMEM;
	}
	for (i = 0; i < p->njobs; i++)
		push(&p->free, &p->jobs[i]);
	if ((e = pk_workers_start(&p->w, nthreads, worker, p)) < 0) {
		pk_sealpool_free(p);
		return e;
	}
	*pp = p;
	return 0;
}

void
pk_sealpool_free(struct pk_sealpool *p)
{
	int i;

	if (p == NULL)
		return;
	if (p->w.n)
		pk_workers_stop(&p->w);
	for (i = 0; p->jobs && i < p->njobs; i++) {
		pk_buf_release(&p->jobs[i].in);
		pk_buf_release(&p->jobs[i].box);
	}
	free(p->jobs);
	free(p);
}

struct pk_sealjob *
pk_sealpool_get(struct pk_sealpool *p)
{
	struct pk_sealjob *j;

	/* Only the calling thread touches the free list. */
	if (p->held >= HELD_BYTES_MAX && p->out > p->w.n)
		return NULL;
	if ((j = pop(&p->free)) != NULL) {
		pk_buf_reset(&j->in);
		p->kept -= j->in.cap + j->box.cap;
		p->out++;
	}
	return j;
}

void
pk_sealpool_submit(struct pk_sealpool *p, struct pk_sealjob *j)
{
	j->busy = 1;
	p->held += j->in.len;
	pthread_mutex_lock(&p->w.lock);
	j->next = NULL;
	/* Order does not matter: pack order is free. */
	push(&p->queue, j);
	p->inflight++;
	pthread_cond_signal(&p->w.work);
	pthread_mutex_unlock(&p->w.lock);
}

struct pk_sealjob *
pk_sealpool_done(struct pk_sealpool *p, int wait)
{
	struct pk_sealjob *j;

	pthread_mutex_lock(&p->w.lock);
	while (wait && p->done == NULL && p->inflight > 0)
		pthread_cond_wait(&p->w.finished, &p->w.lock);
	j = pop(&p->done);
	pthread_mutex_unlock(&p->w.lock);
	return j;
}

void
pk_sealpool_put(struct pk_sealpool *p, struct pk_sealjob *j)
{
	if (j->busy)
		p->held -= j->in.len;
	j->busy = 0;
	p->out--;
	if (p->kept + j->in.cap + j->box.cap > KEPT_BYTES_MAX) {
		pk_buf_release(&j->in);
		pk_buf_release(&j->box);
	}
	p->kept += j->in.cap + j->box.cap;
	push(&p->free, j);
}

const struct pk_sealjob *
pk_sealpool_busy(struct pk_sealpool *p, const uint8_t sid[PK_SID_BYTES])
{
	int i;

	for (i = 0; i < p->njobs; i++)
		if (p->jobs[i].busy && memcmp(p->jobs[i].sid, sid, PK_SID_BYTES) == 0)
			return &p->jobs[i];
	return NULL;
}
