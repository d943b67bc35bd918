#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "meter.h"

#define METER_NSEC	250000000L	/* four lines a second at most */
#define METER_COLUMNS	79		/* the last column would wrap */
#define METER_LINE	256

struct pk_meter {
	struct pk_progress *c;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int stop;
	size_t shown;		/* length of the line drawn, 0 for none */
	struct timespec start;
};

int
pk_meter_wanted(enum pk_meter_opt opt, int data_out)
{
	struct stat out, err;

	if (opt != PK_METER_AUTO)
		return opt == PK_METER_ON;
	if (!isatty(STDERR_FILENO))
		return 0;
	/* The data would mix with the line. */
	if (data_out && isatty(STDOUT_FILENO) && fstat(STDOUT_FILENO, &out) == 0 &&
	    fstat(STDERR_FILENO, &err) == 0 && out.st_rdev == err.st_rdev)
		return 0;
	return 1;
}

static double
since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) +
	    (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* 0:34, 12:05, 3:02:45. */
static void
time_str(char *out, size_t n, double secs)
{
	unsigned long s = secs > 359999 ? 359999 : (unsigned long)(secs + 0.5);

	if (s >= 3600)
		snprintf(out, n, "%lu:%02lu:%02lu", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(out, n, "%lu:%02lu", s / 60, s % 60);
}

/*
 * Formats the line into buf, of METER_LINE bytes; draw() cuts it.  The
 * percentage goes first, the time left last: a line cut short loses the
 * least.  The total is an estimate, so the percentage stops at 99 until the
 * last line, and the time left is what the rate so far gives.
 */
static void
format(struct pk_meter *m, char *buf, int last)
{
	struct pk_progress_now c;
	char size[48], rate[32], eta[32] = "";
	double secs = since(&m->start), pct, total;

	pk_progress_read(m->c, &c);
	pk_size_str(rate, sizeof rate, secs > 0 ? (double)c.bytes / secs : 0,
	    NULL);
	if (!c.has_total) {
		pk_size_str(size, sizeof size, (double)c.bytes, NULL);
		snprintf(buf, METER_LINE, "%s: %" PRIu64 " files, %s, "
		    "%s/s", pk_progname, c.files, size, rate);
		return;
	}
	total = (double)c.total_bytes;
	pk_size_str(size, sizeof size, (double)c.bytes, &total);
	/* By bytes; by files for a tree of empty files. */
	if (c.total_bytes > 0)
		pct = 100.0 * (double)c.bytes / total;
	else
		pct = c.total_files ? 100.0 * (double)c.files /
		    (double)c.total_files : 100;
	if (pct > (last ? 100 : 99))
		pct = last ? 100 : 99;
	if (!last && pct > 0) {
		memcpy(eta, ", ETA ", 7);
		time_str(eta + 6, sizeof eta - 6, secs * (100 - pct) / pct);
	}
	snprintf(buf, METER_LINE, "%s: %d%% %" PRIu64 "/%" PRIu64
	    " files, %s, %s/s%s", pk_progname, (int)pct, c.files,
	    c.total_files, size, rate, eta);
}

/* Draws the line over the last one; with last, ends it.  Under lock. */
static void
draw(struct pk_meter *m, int last)
{
	char line[METER_LINE], out[2 * METER_LINE + 4];
	size_t n, pad;

	format(m, line, last);
	line[METER_COLUMNS] = '\0';
	n = strlen(line);
	/* Spaces, not an escape sequence, wipe the rest of a longer line:
	 * the line also goes into files with --progress. */
	pad = m->shown > n ? m->shown - n : 0;
	snprintf(out, sizeof out, "\r%s%*s%s", line, (int)pad, "",
	    last ? "\n" : "");
	(void)!write(STDERR_FILENO, out, strlen(out));
	m->shown = last ? 0 : n;
}

static void *
run(void *arg)
{
	struct pk_meter *m = arg;
	struct timespec t;

	pthread_mutex_lock(&m->lock);
	while (!m->stop) {
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_nsec += METER_NSEC;
		if (t.tv_nsec >= 1000000000L) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000L;
		}
		if (pthread_cond_timedwait(&m->wake, &m->lock, &t) == ETIMEDOUT &&
		    !m->stop)
			draw(m, 0);
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

struct pk_meter *
pk_meter_start(struct pk_progress *c)
{
	struct pk_meter *m;

	if ((m = calloc(1, sizeof *m)) == NULL)
		return NULL;
	m->c = c;
	clock_gettime(CLOCK_MONOTONIC, &m->start);
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->wake, NULL);
	if (pthread_create(&m->thread, NULL, run, m) != 0) {
		pthread_mutex_destroy(&m->lock);
		pthread_cond_destroy(&m->wake);
		free(m);
		return NULL;
	}
	return m;
}

void
pk_meter_break(struct pk_meter *m)
{
	if (m == NULL)
		return;
	pthread_mutex_lock(&m->lock);
	if (m->shown)
		(void)!write(STDERR_FILENO, "\n", 1);
	m->shown = 0;
	pthread_mutex_unlock(&m->lock);
}

void
pk_meter_stop(struct pk_meter *m)
{
	if (m == NULL)
		return;
	pthread_mutex_lock(&m->lock);
	m->stop = 1;
	pthread_cond_signal(&m->wake);
	pthread_mutex_unlock(&m->lock);
	pthread_join(m->thread, NULL);
	draw(m, 1);
	pthread_mutex_destroy(&m->lock);
	pthread_cond_destroy(&m->wake);
	free(m);
}
