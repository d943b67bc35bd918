#include <errno.h>
#include <stdlib.h>

#include "workers.h"

int
pk_workers_start(struct pk_workers *w, int n, void *(*fn)(void *), void *arg)
{
	int i;

	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->work, NULL);
	pthread_cond_init(&w->finished, NULL);
	w->stop = w->n = 0;
	w->threads = calloc((size_t)n, sizeof *w->threads);
	for (i = 0; w->threads != NULL && i < n; i++) {
		if (pthread_create(&w->threads[w->n], NULL, fn, arg) != 0)
			break;
		w->n++;
	}
	if (w->n > 0)
		return 0;
	i = w->threads == NULL ? -ENOMEM : -EAGAIN;
	pk_workers_stop(w);
	return i;
}

void
pk_workers_stop(struct pk_workers *w)
{
	int i;

	pthread_mutex_lock(&w->lock);
	w->stop = 1;
	pthread_cond_broadcast(&w->work);
	pthread_mutex_unlock(&w->lock);
	for (i = 0; i < w->n; i++)
		pthread_join(w->threads[i], NULL);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->work);
	pthread_cond_destroy(&w->finished);
	free(w->threads);
	w->threads = NULL;
	w->n = 0;
}
