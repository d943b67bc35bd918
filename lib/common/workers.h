/*
 * workers.h: the threads of a pool (sealpool, fetchpool), started and
 * stopped one way.  The pool's own queue lives beside them, under lock:
 * workers wait on work for jobs (or stop), the caller on finished.
 */
#ifndef PK_WORKERS_H
#define PK_WORKERS_H

#include <pthread.h>

struct pk_workers {
	pthread_mutex_t lock;
	pthread_cond_t work, finished;
	int stop;		/* set by pk_workers_stop(), under lock */
	int n;			/* threads running */
	pthread_t *threads;
};

/* Starts up to n threads running fn(arg): 0 if at least one started, and
 * pk_workers_stop() must follow; else -ENOMEM or -EAGAIN, nothing left. */
int pk_workers_start(struct pk_workers *w, int n, void *(*fn)(void *),
    void *arg);
/* Sets stop, wakes every worker, joins them, and frees what start made. */
void pk_workers_stop(struct pk_workers *w);

#endif
