/* lease.c: the leases of running pk-store and pk-gc processes. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "hash.h"
#include "lease.h"

#define LEASE_MAX_BYTES	1024

int
pk_lease_take(struct pk_repo *r, const char *kind, struct pk_lease *l)
{
	uint8_t id[PK_LEASE_ID_BYTES];
	char text[LEASE_MAX_BYTES], rel[64];
	int n;

	memset(l, 0, sizeof *l);
	pk_random(id, sizeof id);
	pk_hex(l->name, id, sizeof id);
	snprintf(l->kind, sizeof l->kind, "%s", kind);
	if (gethostname(l->host, sizeof l->host - 1) < 0)
		snprintf(l->host, sizeof l->host, "unknown");
	l->pid = getpid();
	l->start = time(NULL);
	n = snprintf(text, sizeof text, "pk-lease 1\nkind %s\nhost %s\npid %"
	    PRId64 "\nstart %" PRId64 "\n", l->kind, l->host, l->pid, l->start);
	if (n < 0 || (size_t)n >= sizeof text)
		return pk_err(-ENAMETOOLONG, "lease: host name too long");
	snprintf(rel, sizeof rel, "locks/%s", l->name);
	return pk_storage_put(r->store, rel, text, (size_t)n);
}

void
pk_lease_drop(struct pk_repo *r, const struct pk_lease *l)
{
	struct pk_err_saved why;
	char rel[64];

	if (l->name[0] == '\0')
		return;
	pk_err_save(&why);
	snprintf(rel, sizeof rel, "locks/%s", l->name);
	(void)pk_storage_remove(r->store, rel);
	pk_err_restore(&why);
}

/* Parses the text of a lease; -EBADMSG when it is not one. */
static int
parse(struct pk_lease *l, char *text)
{
	char *line, *save = NULL;
	int have = 0;

	line = strtok_r(text, "\n", &save);
	if (line == NULL || strcmp(line, "pk-lease 1") != 0)
		return -EBADMSG;
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		if (sscanf(line, "kind %15s", l->kind) == 1)
			have |= 1;
		else if (strncmp(line, "host ", 5) == 0 && line[5] != '\0' &&
		    strlen(line + 5) < sizeof l->host) {
			strcpy(l->host, line + 5);
			have |= 2;
		} else if (sscanf(line, "pid %" SCNd64, &l->pid) == 1)
			have |= 4;
		else if (sscanf(line, "start %" SCNd64, &l->start) == 1)
			have |= 8;
	}
	return have == 15 ? 0 : -EBADMSG;
}

static int
is_stale(const struct pk_lease *l, const char *myhost, int64_t now)
{
	/* start is whatever the file says: now - start may overflow. */
	if (l->start < now - PK_LEASE_STALE_SEC)
		return 1;
	if (strcmp(l->host, myhost) != 0 || l->pid <= 0 || l->pid > INT32_MAX)
		return 0;
	return kill((pid_t)l->pid, 0) < 0 && errno == ESRCH;
}

struct listing {
	struct pk_repo *r;
	struct pk_lease *v;
	size_t n, cap;
	char host[256];
	int64_t now;
};

static int
one(void *arg, const char *name)
{
	struct listing *ls = arg;
	struct pk_lease *l, *v;
	uint8_t *text = NULL;
	char rel[600];
	size_t n;
	int e;

	if (strlen(name) != 2 * PK_LEASE_ID_BYTES)
		return 0;
	if (ls->n == ls->cap) {
		ls->cap = ls->cap ? 2 * ls->cap : 16;
		if ((v = realloc(ls->v, ls->cap * sizeof *v)) == NULL)
			return -ENOMEM;
		ls->v = v;
	}
	l = &ls->v[ls->n];
	memset(l, 0, sizeof *l);
	snprintf(l->name, sizeof l->name, "%s", name);
	snprintf(rel, sizeof rel, "locks/%s", name);
	e = pk_storage_get(ls->r->store, rel, LEASE_MAX_BYTES, &text, &n);
	if (e == -ENOENT) {		/* ended while listed */
		pk_err_clear();
		return 0;
	}
	if (e < 0 && e != -EFBIG)
		return e;
	pk_err_clear();
	if (e == 0)
		text[n] = '\0';
	if (e < 0 || parse(l, (char *)text) < 0)
		l->bad = 1;
	else
		l->stale = is_stale(l, ls->host, ls->now);
	free(text);
	ls->n++;
	return 0;
}

int
pk_lease_list(struct pk_repo *r, struct pk_lease **v, size_t *n)
{
	struct listing ls = { .r = r, .now = time(NULL) };
	int e;

	if (gethostname(ls.host, sizeof ls.host - 1) < 0)
		ls.host[0] = '\0';
	if ((e = pk_storage_list(r->store, "locks", one, &ls)) < 0) {
		free(ls.v);
		return e;
	}
	*v = ls.v;
	*n = ls.n;
	return 0;
}

void
pk_lease_describe(const struct pk_lease *l, char *out, size_t n)
{
	char when[32];
	time_t t = (time_t)l->start;
	struct tm tm;

	if (l->bad) {
		snprintf(out, n, "locks/%s (unreadable)", l->name);
		return;
	}
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(when, sizeof when, "%" PRId64, l->start);
	snprintf(out, n, "%s on host %s, pid %" PRId64 ", since %s (locks/%s)",
	    l->kind, l->host, l->pid, when, l->name);
}
