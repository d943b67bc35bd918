/*
 * s3.c: the storage of a repository in an S3 bucket (pk-repo(5),
 * "STORAGE"), "s3:http[s]://HOST[:PORT]/BUCKET[/PREFIX]", through libcurl,
 * which signs each request (AWS Signature Version 4) with the key of
 * AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.  Path-style addressing, so
 * that any endpoint works; TLS verified, against CURL_CA_BUNDLE if set.
 *
 * A PUT stores a whole object or nothing, which is all the layout needs:
 * no rename.  Packs are uploaded in the background by a few threads from
 * their temporary files, so that memory stays bounded whatever their
 * size.  Every request is retried, with a doubling pause, on the failures
 * that pass (5xx, 429, resets, timeouts, cut bodies); one that keeps
 * failing, or a 403, ends the operation with a clear message.
 *
 * Snapshot files and index deltas never change once written: the copies
 * read are kept in the work directory (objects/), so that a backup reads
 * each only once.  Reads of packs are ranged GETs, with a window that
 * grows while a reader goes forward through a pack.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <sodium.h>

#include "backend.h"
#include "buf.h"
#include "err.h"
#include "hash.h"

#define SENDERS		4		/* background uploads at once */
#define QUEUE_MAX	4		/* packs waiting to be uploaded */
#define WINDOW_MIN	(256u << 10)	/* first read-ahead of a pack */
#define WINDOW_MAX	(8u << 20)
#define LIST_MAX	(16u << 20)	/* a listing page, at most */

struct upload {
	char tmp[4096];
	char name[600];
};

struct s3 {
	struct pk_storage s;
	char *endpoint;		/* "http://host:port" */
	char *bucket;
	char *prefix;		/* "" or "some/prefix/" */
	char *userpwd;		/* "key:secret" */
	char *sigv4;		/* "aws:amz:REGION:s3" */
	char *token;		/* the x-amz-security-token header, or NULL */
	char *region;
	const char *cacert;
	int retries;
	int trace;

	pthread_mutex_t lock;
	pthread_cond_t changed;
	CURL *idle[SENDERS + 8];	/* handles kept for their connections */
	int nidle;

	/* Background uploads: a queue of QUEUE_MAX, SENDERS threads. */
	struct upload queue[QUEUE_MAX];
	int head, count, busy, stop, nthreads;
	pthread_t threads[SENDERS];
	int failed;			/* the first failure, and its message */
	char failmsg[PK_ERR_BYTES];
};

struct s3obj {
	struct pk_object o;
	char name[600];
	uint64_t size;		/* UINT64_MAX until known */
	struct pk_buf win;	/* bytes [start, start + win.len) */
	uint64_t start, next;	/* next: where the last read ended */
	size_t grow;
};

/* Bytes of a response, at most max of them. */
struct sink {
	struct pk_buf *b;
	size_t max;
	int over;
};

/* The body of a request: a buffer, or a file read from its start. */
struct source {
	const uint8_t *p;
	int fd;
	uint64_t len, off;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_ready;

static void
curl_start(void)
{
	curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

static size_t
sink_write(char *p, size_t size, size_t n, void *arg)
{
	struct sink *k = arg;

	n *= size;
	if (k->b->len + n > k->max) {
		k->over = 1;
		return 0;
	}
	return pk_buf_add(k->b, p, n) < 0 ? 0 : n;
}

static size_t
source_read(char *p, size_t size, size_t n, void *arg)
{
	struct source *src = arg;
	ssize_t k;

	n *= size;
	if (n > src->len - src->off)
		n = (size_t)(src->len - src->off);
	if (src->p != NULL) {
		memcpy(p, src->p + src->off, n);
		k = (ssize_t)n;
	} else if ((k = pread(src->fd, p, n, (off_t)src->off)) < 0) {
		return CURL_READFUNC_ABORT;
	}
	src->off += (uint64_t)k;
	return (size_t)k;
}

static CURL *
handle_get(struct s3 *s)
{
	CURL *h = NULL;

	pthread_mutex_lock(&s->lock);
	if (s->nidle > 0)
		h = s->idle[--s->nidle];
	pthread_mutex_unlock(&s->lock);
	if (h == NULL)
		h = curl_easy_init();
	else
		curl_easy_reset(h);
	return h;
}

static void
handle_put(struct s3 *s, CURL *h)
{
	pthread_mutex_lock(&s->lock);
	if (s->nidle < (int)(sizeof s->idle / sizeof *s->idle)) {
		s->idle[s->nidle++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&s->lock);
	if (h != NULL)
		curl_easy_cleanup(h);
}

/* The S3 error code of a response body ("NoSuchBucket"), or "". */
static void
error_code(const struct pk_buf *b, char *out, size_t n)
{
	const char *p, *q;

	out[0] = '\0';
	if (b->len == 0 || (p = memmem(b->data, b->len, "<Code>", 6)) == NULL)
		return;
	p += 6;
	q = memmem(p, b->len - (size_t)(p - (const char *)b->data), "</Code>", 7);
	if (q != NULL && (size_t)(q - p) < n)
		snprintf(out, n, "%.*s", (int)(q - p), p);
}

struct req {
	const char *method;
	const char *key;	/* below the bucket; NULL for the bucket */
	const char *query;	/* NULL, or already encoded */
	const char *range;	/* "first-last" or NULL */
	struct source *body;
	struct pk_buf *out;	/* the response body, or NULL */
	size_t max;		/* of out */
	const char *what;	/* for messages: "PLACE/name" */
	uint64_t *size;		/* the object's size, from the answer */
	long status;
};

/* Content-Range: bytes a-b/SIZE: the object's size. */
static size_t
header_size(char *p, size_t size, size_t n, void *arg)
{
	uint64_t *total = arg;
	unsigned long long a, b, t;
	char line[256];

	n *= size;
	if (n > 14 && n < sizeof line && strncasecmp(p, "Content-Range:", 14) == 0) {
		memcpy(line, p, n);
		line[n] = '\0';
		if (sscanf(line + 14, " bytes %llu-%llu/%llu", &a, &b, &t) == 3)
			*total = t;
	}
	return n;
}

static int
transient(CURLcode c, long status)
{
	if (c != CURLE_OK)
		return c != CURLE_WRITE_ERROR && c != CURLE_OUT_OF_MEMORY &&
		    c != CURLE_ABORTED_BY_CALLBACK && c != CURLE_READ_ERROR &&
		    c != CURLE_URL_MALFORMAT && c != CURLE_UNSUPPORTED_PROTOCOL &&
		    c != CURLE_SSL_CACERT_BADFILE && c != CURLE_PEER_FAILED_VERIFICATION;
	return status >= 500 || status == 429 || status == 408;
}

static int
once(struct s3 *s, CURL *h, struct req *r, struct sink *k, CURLcode *cc)
{
	struct curl_slist *hd = NULL;
	char url[8192], line[4200];
	int e;

	if ((e = pk_path(url, sizeof url, "%s/%s%s%s%s%s", s->endpoint,
	    s->bucket, r->key ? "/" : "", r->key ? s->prefix : "",
	    r->key ? r->key : "", r->query ? r->query : "")) < 0)
		return e;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_USERPWD, s->userpwd);
	curl_easy_setopt(h, CURLOPT_AWS_SIGV4, s->sigv4);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 15L);
	/* A transfer that stalls for 30 s is cut and retried. */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 30L);
	if (s->cacert)
		curl_easy_setopt(h, CURLOPT_CAINFO, s->cacert);
	if (s->trace)
		curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
	/* The payload is not hashed: TLS and the boxes' own MACs guard it,
	 * and a pack need not be read twice. */
	hd = curl_slist_append(hd, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
	if (s->token) {
		snprintf(line, sizeof line, "x-amz-security-token: %s", s->token);
		hd = curl_slist_append(hd, line);
	}
	if (r->range) {
		snprintf(line, sizeof line, "Range: bytes=%s", r->range);
		hd = curl_slist_append(hd, line);
	}
	if (r->body) {
		r->body->off = 0;
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, source_read);
		curl_easy_setopt(h, CURLOPT_READDATA, r->body);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE,
		    (curl_off_t)r->body->len);
	} else if (strcmp(r->method, "HEAD") == 0) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (r->size) {
		curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_size);
		curl_easy_setopt(h, CURLOPT_HEADERDATA, r->size);
	} else if (strcmp(r->method, "GET") != 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	pk_buf_reset(k->b);
	k->over = 0;
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, k);
	r->status = 0;
	*cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->size && r->body == NULL && !strcmp(r->method, "HEAD")) {
		curl_off_t len = -1;

		curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
		if (len >= 0)
			*r->size = (uint64_t)len;
	}
	curl_slist_free_all(hd);
	return 0;
}

/*
 * One request, retried while it fails in a way that passes.  Returns 0
 * for a 2xx answer, -ENOENT for a 404, -ENODATA for a 416, or a negative
 * errno with a message naming r->what.
 */
static int
request(struct s3 *s, struct req *r)
{
	struct pk_buf own = PK_BUF_INIT;
	struct sink k = { r->out ? r->out : &own, r->out ? r->max : 64 << 10, 0 };
	struct timespec pause = { 0, 100 * 1000000L };
	char code[64];
	CURLcode cc = CURLE_OK;
	CURL *h;
	int e = 0, attempt;

	if ((h = handle_get(s)) == NULL)
		return -ENOMEM;
	for (attempt = 0;; attempt++) {
		if ((e = once(s, h, r, &k, &cc)) < 0)
			break;
		if (k.over && r->status >= 200 && r->status <= 299) {
			e = pk_err(-EFBIG, "%s: larger than %zu bytes", r->what,
			    k.max);
			break;
		}
		/* An error's body cut short where the answer would have
		 * been: its status is what counts. */
		if (k.over)
			cc = CURLE_OK;
		if (!transient(cc, r->status) || attempt >= s->retries)
			break;
		nanosleep(&pause, NULL);
		if (pause.tv_sec < 5) {
			pause.tv_sec *= 2;
			pause.tv_nsec *= 2;
			pause.tv_sec += pause.tv_nsec / 1000000000L;
			pause.tv_nsec %= 1000000000L;
		}
	}
	if (e == 0 && cc != CURLE_OK)
		e = pk_err(-EIO, "%s: %s%s", r->what, curl_easy_strerror(cc),
		    attempt ? " (retries ran out)" : "");
	else if (e == 0 && (r->status < 200 || r->status > 299)) {
		error_code(k.b, code, sizeof code);
		if (!strcmp(code, "NoSuchBucket"))
			e = pk_err(-ENXIO, "%s: no such bucket", r->what);
		else if (r->status == 404)
			e = pk_err(-ENOENT, "%s: no such file", r->what);
		else if (r->status == 416)
			e = pk_err(-ENODATA, "%s: short read", r->what);
		else if (r->status == 403)
			e = pk_err(-EACCES, "%s: access denied%s%s (check "
			    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)", r->what,
			    code[0] ? ": " : "", code);
		else
			e = pk_err(-EIO, "%s: HTTP %ld%s%s%s", r->what, r->status,
			    code[0] ? " " : "", code,
			    attempt ? " (retries ran out)" : "");
	}
	handle_put(s, h);
	pk_buf_release(&own);
	return e;
}

static int
what(struct s3 *s, char *out, const char *name)
{
	return pk_storage_name(&s->s, out, 4096, name);
}

/* Where the work directory keeps its copy of an immutable file, or ""
 * for the files it does not keep. */
static void
kept(struct s3 *s, char out[4096], const char *name)
{
	out[0] = '\0';
	/* A key object is kept too: it is listed, for the keys that exist,
	 * before it is read, so a key removed since is never used. */
	if (strncmp(name, "snapshots/", 10) == 0 || strncmp(name, "index/", 6) == 0 ||
	    strncmp(name, "keys/", 5) == 0)
		(void)pk_path(out, 4096, "%s/objects/%s", s->s.work, name);
}

/* Keeps a copy of an immutable file; one that cannot be kept costs a
 * GET next time, nothing more. */
static void
keep(struct s3 *s, const char *name, const void *p, size_t n)
{
	struct pk_err_saved why;
	char copy[4096], dir[4096];
	struct pk_atomic a;

	kept(s, copy, name);
	if (!copy[0] || pk_path(dir, sizeof dir, "%s", copy) < 0)
		return;
	pk_err_save(&why);
	*strrchr(dir, '/') = '\0';
	if (pk_atomic_open(&a, dir, 0600) == 0) {
		if (pk_write_all(a.fd, p, n) == 0)
			(void)pk_atomic_replace(&a, copy);
		else
			pk_atomic_abort(&a);
	}
	pk_err_restore(&why);
}

/*
 * The config, once read, for the rest of the process: each tool opens its
 * repository more than once, and a GET each time would be most of the
 * requests of a backup that sends nothing.  Never kept across processes:
 * it says which repository the place holds.
 */
static pthread_mutex_t config_lock = PTHREAD_MUTEX_INITIALIZER;
static char *config_place;
static struct pk_buf config_copy = PK_BUF_INIT;

static int
config_cached(struct s3 *s, const char *name, uint8_t **p, size_t *n)
{
	int hit;

	if (strcmp(name, "config") != 0)
		return 0;
	pthread_mutex_lock(&config_lock);
	hit = config_place && !strcmp(config_place, s->s.place);
	if (hit && (*p = malloc(config_copy.len + 1)) != NULL) {
		memcpy(*p, config_copy.data, config_copy.len);
		*n = config_copy.len;
	}
	pthread_mutex_unlock(&config_lock);
	return hit && *p != NULL;
}

static void
config_keep(struct s3 *s, const char *name, const uint8_t *p, size_t n)
{
	if (strcmp(name, "config") != 0)
		return;
	pthread_mutex_lock(&config_lock);
	free(config_place);
	pk_buf_reset(&config_copy);
	if ((config_place = strdup(s->s.place)) != NULL &&
	    pk_buf_add(&config_copy, p, n) < 0) {
		free(config_place);
		config_place = NULL;
	}
	pthread_mutex_unlock(&config_lock);
}

static int
s3_get(struct pk_storage *st, const char *name, size_t max, uint8_t **p,
    size_t *n)
{
	struct s3 *s = (struct s3 *)st;
	struct pk_buf b = PK_BUF_INIT;
	struct req r = { .method = "GET", .key = name, .out = &b, .max = max };
	char w[4096], copy[4096];
	int e;

	*p = NULL;
	*n = 0;
	if ((e = what(s, w, name)) < 0)
		return e;
	if (config_cached(s, name, p, n))
		return 0;
	kept(s, copy, name);
	if (copy[0] && pk_read_file(copy, max, p, n) == 0)
		return 0;
	pk_err_clear();
	r.what = w;
	if ((e = request(s, &r)) < 0 || (e = pk_buf_reserve(&b, 1)) < 0) {
		pk_buf_release(&b);
		return e;
	}
	keep(s, name, b.data, b.len);
	config_keep(s, name, b.data, b.len);
	*p = b.data;
	*n = b.len;
	return 0;
}

static int
put_source(struct s3 *s, const char *name, struct source *src)
{
	struct req r = { .method = "PUT", .key = name, .body = src };
	char w[4096];
	int e;

	if ((e = what(s, w, name)) < 0)
		return e;
	r.what = w;
	return request(s, &r);
}

static int
s3_put(struct pk_storage *st, const char *name, const void *p, size_t n)
{
	struct source src = { p, -1, n, 0 };
	int e;

	if ((e = put_source((struct s3 *)st, name, &src)) == 0) {
		keep((struct s3 *)st, name, p, n);
		/* pk-key rewrites config once, and reads it again after. */
		config_keep((struct s3 *)st, name, p, n);
	}
	return e;
}

/* Uploads a temporary file and removes it. */
static int
upload(struct s3 *s, const char *tmp, const char *name)
{
	struct source src = { NULL, -1, 0, 0 };
	struct stat st;
	int e;

	if ((src.fd = open(tmp, O_RDONLY | O_CLOEXEC)) < 0 ||
	    fstat(src.fd, &st) < 0) {
		e = pk_err(-errno, "%s: %s", tmp, strerror(errno));
	} else {
		src.len = (uint64_t)st.st_size;
		e = put_source(s, name, &src);
	}
	if (src.fd >= 0)
		close(src.fd);
	unlink(tmp);
	return e;
}

static void *
sender(void *arg)
{
	struct s3 *s = arg;
	struct upload u;
	int e;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (s->count == 0 && !s->stop)
			pthread_cond_wait(&s->changed, &s->lock);
		if (s->count == 0)
			break;
		u = s->queue[s->head];
		s->head = (s->head + 1) % QUEUE_MAX;
		s->count--;
		s->busy++;
		pthread_cond_broadcast(&s->changed);
		pthread_mutex_unlock(&s->lock);
		e = s->failed ? 0 : upload(s, u.tmp, u.name);
		if (s->failed)
			unlink(u.tmp);
		pthread_mutex_lock(&s->lock);
		if (e < 0 && !s->failed) {
			s->failed = e;
			snprintf(s->failmsg, sizeof s->failmsg, "%s", pk_errmsg(e));
		}
		s->busy--;
		pthread_cond_broadcast(&s->changed);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static int
s3_commit(struct pk_storage *st, struct pk_atomic *a, const char *name,
    int later)
{
	struct s3 *s = (struct s3 *)st;
	struct upload *u;
	int e = 0;

	if (close(a->fd) < 0)
		e = pk_err(-errno, "%s: %s", a->tmp, strerror(errno));
	a->fd = -1;
	pthread_mutex_lock(&s->lock);
	if (e == 0 && later && s->nthreads < SENDERS &&
	    s->nthreads <= s->busy + s->count &&
	    pthread_create(&s->threads[s->nthreads], NULL, sender, s) == 0)
		s->nthreads++;
	/* Without a thread to send it (none could be started): now. */
	if (e < 0 || !later || s->nthreads == 0) {
		pthread_mutex_unlock(&s->lock);
		if (e == 0)
			e = upload(s, a->tmp, name);
		pk_atomic_abort(a);
		return e;
	}
	while (s->count == QUEUE_MAX)
		pthread_cond_wait(&s->changed, &s->lock);
	u = &s->queue[(s->head + s->count) % QUEUE_MAX];
	snprintf(u->tmp, sizeof u->tmp, "%s", a->tmp);
	snprintf(u->name, sizeof u->name, "%s", name);
	s->count++;
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->lock);
	a->tmp[0] = '\0';
	return 0;
}

static int
s3_flush(struct pk_storage *st)
{
	struct s3 *s = (struct s3 *)st;
	int e;

	pthread_mutex_lock(&s->lock);
	while (s->count > 0 || s->busy > 0)
		pthread_cond_wait(&s->changed, &s->lock);
	e = s->failed;
	pthread_mutex_unlock(&s->lock);
	return e < 0 ? pk_err(e, "%s", s->failmsg) : 0;
}

static int
s3_exists(struct pk_storage *st, const char *name)
{
	struct s3 *s = (struct s3 *)st;
	struct req r = { .method = "HEAD", .key = name };
	char w[4096];
	int e;

	if ((e = what(s, w, name)) < 0)
		return e;
	r.what = w;
	if ((e = request(s, &r)) == -ENOENT) {
		pk_err_clear();
		return 0;
	}
	return e < 0 ? e : 1;
}

static int
s3_remove(struct pk_storage *st, const char *name)
{
	struct s3 *s = (struct s3 *)st;
	struct req r = { .method = "DELETE", .key = name };
	char w[4096], copy[4096];
	int e;

	if ((e = what(s, w, name)) < 0)
		return e;
	r.what = w;
	kept(s, copy, name);
	if (copy[0])
		unlink(copy);
	return request(s, &r);
}

/* A query string's value, as SigV4 wants it: all but A-Za-z0-9-._~ %XX. */
static int
escape(char *out, size_t n, const char *v)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t k = 0;

	for (; *v; v++) {
		unsigned char c = (unsigned char)*v;

		if (k + 4 > n)
			return -ENAMETOOLONG;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c)) {
			out[k++] = (char)c;
		} else {
			out[k++] = '%';
			out[k++] = hex[c >> 4];
			out[k++] = hex[c & 15];
		}
	}
	out[k] = '\0';
	return 0;
}

/* The text of the next <tag>…</tag> from *p, XML entities decoded; *p
 * moves past it.  0, or -1 when there is none. */
static int
element(const char **p, const char *end, const char *tag, char *out, size_t n)
{
	char open[32], close[32];
	const char *a, *b;
	size_t k = 0;

	snprintf(open, sizeof open, "<%s>", tag);
	snprintf(close, sizeof close, "</%s>", tag);
	if ((a = memmem(*p, (size_t)(end - *p), open, strlen(open))) == NULL)
		return -1;
	a += strlen(open);
	if ((b = memmem(a, (size_t)(end - a), close, strlen(close))) == NULL)
		return -1;
	*p = b + strlen(close);
	while (a < b && k + 1 < n) {
		static const char *const ent[][2] = { { "&amp;", "&" },
		    { "&lt;", "<" }, { "&gt;", ">" }, { "&quot;", "\"" },
		    { "&apos;", "'" } };
		size_t i;

		for (i = 0; i < 5; i++)
			if ((size_t)(b - a) >= strlen(ent[i][0]) &&
			    !strncmp(a, ent[i][0], strlen(ent[i][0])))
				break;
		if (i < 5) {
			out[k++] = ent[i][1][0];
			a += strlen(ent[i][0]);
		} else {
			out[k++] = *a++;
		}
	}
	out[k] = '\0';
	return 0;
}

static int
s3_list(struct pk_storage *st, const char *dir,
    int (*fn)(void *, const char *), void *arg)
{
	struct s3 *s = (struct s3 *)st;
	struct pk_buf b = PK_BUF_INIT;
	char w[4096], want[1200], token[2048], etoken[6200], q[8192];
	char key[1200], more[16];
	const char *p, *end;
	size_t skip;
	int e;

	if ((e = what(s, w, dir)) < 0 ||
	    (e = pk_path(key, sizeof key, "%s%s/", s->prefix, dir)) < 0 ||
	    (e = escape(want, sizeof want, key)) < 0)
		return e;
	skip = strlen(key);
	token[0] = '\0';
	do {
		struct req r = { .method = "GET", .key = NULL, .query = q, .out = &b, .max = LIST_MAX,
		    .what = w };

		/* The parameters in their canonical order. */
		if ((e = escape(etoken, sizeof etoken, token)) < 0)
			break;
		snprintf(q, sizeof q, "?%s%s%slist-type=2&prefix=%s",
		    token[0] ? "continuation-token=" : "", etoken,
		    token[0] ? "&" : "", want);
		if ((e = request(s, &r)) < 0)
			break;
		p = (const char *)b.data;
		end = p + b.len;
		while (e == 0 && element(&p, end, "Key", key, sizeof key) == 0)
			if (strlen(key) > skip && strncmp(key, s->prefix,
			    strlen(s->prefix)) == 0)
				e = fn(arg, key + skip);
		p = (const char *)b.data;
		if (element(&p, end, "IsTruncated", more, sizeof more) < 0)
			strcpy(more, "false");
		p = (const char *)b.data;
		if (element(&p, end, "NextContinuationToken", token,
		    sizeof token) < 0)
			token[0] = '\0';
	} while (e == 0 && strcmp(more, "true") == 0 && token[0]);
	pk_buf_release(&b);
	return e;
}

static int
s3_object_open(struct pk_storage *st, const char *name, struct pk_object **op)
{
	struct s3obj *o;

	if ((o = calloc(1, sizeof *o)) == NULL)
		return -ENOMEM;
	o->o.s = st;
	o->size = UINT64_MAX;
	o->next = UINT64_MAX;
	o->grow = WINDOW_MIN;
	snprintf(o->name, sizeof o->name, "%s", name);
	*op = &o->o;
	return 0;
}

static int
s3_object_size(struct pk_object *op, uint64_t *size)
{
	struct s3obj *o = (struct s3obj *)op;
	struct s3 *s = (struct s3 *)op->s;
	struct req r = { .method = "HEAD", .key = o->name, .size = &o->size };
	char w[4096];
	int e;

	if (o->size == UINT64_MAX) {
		if ((e = what(s, w, o->name)) < 0)
			return e;
		r.what = w;
		if ((e = request(s, &r)) < 0)
			return e;
		if (o->size == UINT64_MAX)
			return pk_err(-EIO, "%s: the server did not say its size", w);
	}
	*size = o->size;
	return 0;
}

static int
fetch(struct s3obj *o, uint64_t off, size_t len)
{
	struct s3 *s = (struct s3 *)o->o.s;
	char w[4096], range[64];
	struct req r = { .method = "GET", .key = o->name, .range = range, .out = &o->win,
	    .max = len, .size = &o->size };
	int e;

	if ((e = what(s, w, o->name)) < 0)
		return e;
	r.what = w;
	snprintf(range, sizeof range, "%" PRIu64 "-%" PRIu64, off,
	    off + len - 1);
	o->start = off;
	if ((e = request(s, &r)) < 0)
		pk_buf_reset(&o->win);
	return e;
}

static int
s3_object_read(struct pk_object *op, void *p, size_t n, uint64_t off)
{
	struct s3obj *o = (struct s3obj *)op;
	size_t want = n;
	int e;

	if (off < o->start || off + n > o->start + o->win.len) {
		/* Forward from where the last read ended: read ahead, more
		 * each time; elsewhere: start again from the smallest
		 * window. */
		if (o->next != UINT64_MAX && off >= o->next &&
		    off - o->next < WINDOW_MAX) {
			if (o->grow < WINDOW_MAX)
				o->grow *= 2;
		} else {
			o->grow = WINDOW_MIN;
		}
		if (want < o->grow)
			want = o->grow;
		if (o->size != UINT64_MAX && off < o->size &&
		    want > o->size - off)
			want = (size_t)(o->size - off);
		if (want < n)
			want = n;
		if ((e = fetch(o, off, want)) < 0)
			return e;
		if (off + n > o->start + o->win.len) {
			char w[4096];

			(void)what((struct s3 *)op->s, w, o->name);
			return pk_err(-ENODATA, "%s: short read", w);
		}
	}
	memcpy(p, o->win.data + (off - o->start), n);
	o->next = off + n;
	return 0;
}

static void
s3_object_close(struct pk_object *op)
{
	struct s3obj *o = (struct s3obj *)op;

	pk_buf_release(&o->win);
	free(o);
}

static void
s3_close(struct pk_storage *st)
{
	struct s3 *s = (struct s3 *)st;
	int i;

	if (s->nthreads > 0) {
		(void)s3_flush(st);
		pthread_mutex_lock(&s->lock);
		s->stop = 1;
		pthread_cond_broadcast(&s->changed);
		pthread_mutex_unlock(&s->lock);
		for (i = 0; i < s->nthreads; i++)
			pthread_join(s->threads[i], NULL);
	}
	for (i = 0; i < s->nidle; i++)
		curl_easy_cleanup(s->idle[i]);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->changed);
	if (s->userpwd)
		sodium_memzero(s->userpwd, strlen(s->userpwd));
	free(s->userpwd);
	free(s->token);
	free(s->sigv4);
	free(s->region);
	free(s->endpoint);
	free(s->bucket);
	free(s->prefix);
	free(s->s.place);
	free(s->s.work);
	free(s);
}

static const struct pk_storage_ops s3_ops = {
	s3_get, s3_put, s3_commit, s3_flush, s3_exists, s3_remove, s3_list,
	s3_object_open, s3_object_size, s3_object_read, s3_object_close,
	s3_close,
};

/* "s3:http[s]://HOST[:PORT]/BUCKET[/PREFIX]" into its parts. */
static int
parse(struct s3 *s, const char *place)
{
	const char *url = place + 3, *host, *slash, *rest;
	size_t plen;

	if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
		return pk_err(-EINVAL, "%s: not s3:http[s]://HOST[:PORT]/BUCKET"
		    "[/PREFIX]", place);
	host = strstr(url, "://") + 3;
	if ((slash = strchr(host, '/')) == NULL || slash == host || !slash[1])
		return pk_err(-EINVAL, "%s: no bucket (s3:http[s]://HOST[:PORT]"
		    "/BUCKET[/PREFIX])", place);
	rest = slash + 1;
	s->endpoint = strndup(url, (size_t)(slash - url));
	s->bucket = strndup(rest, strcspn(rest, "/"));
	rest += strcspn(rest, "/");
	while (*rest == '/')
		rest++;
	plen = strlen(rest);
	while (plen && rest[plen - 1] == '/')
		plen--;
	if ((s->prefix = malloc(plen + 2)) != NULL)
		snprintf(s->prefix, plen + 2, "%.*s%s", (int)plen, rest,
		    plen ? "/" : "");
	if (!s->endpoint || !s->bucket || !s->prefix)
		return -ENOMEM;
	if (strspn(s->bucket, "abcdefghijklmnopqrstuvwxyz0123456789.-") !=
	    strlen(s->bucket) || strlen(s->bucket) < 3 || strlen(s->bucket) > 63)
		return pk_err(-EINVAL, "%s: %s: not a bucket name (3 to 63 "
		    "lower-case letters, digits, dots and hyphens)", place,
		    s->bucket);
	return 0;
}

static int
credentials(struct s3 *s, const char *place)
{
	const char *id = getenv("AWS_ACCESS_KEY_ID");
	const char *secret = getenv("AWS_SECRET_ACCESS_KEY");
	const char *token = getenv("AWS_SESSION_TOKEN");
	const char *region = getenv("AWS_DEFAULT_REGION");
	const char *retries = getenv("PK_S3_RETRIES");
	size_t n;

	if (region == NULL || !*region)
		region = getenv("AWS_REGION");
	if (region == NULL || !*region)
		region = "us-east-1";
	if (id == NULL || !*id || secret == NULL || !*secret)
		return pk_err(-EACCES, "%s: AWS_ACCESS_KEY_ID and "
		    "AWS_SECRET_ACCESS_KEY must be set", place);
	if (strchr(id, ':'))
		return pk_err(-EINVAL, "%s: AWS_ACCESS_KEY_ID holds a ':'", place);
	n = strlen(id) + strlen(secret) + 2;
	if ((s->userpwd = malloc(n)) == NULL ||
	    (s->region = strdup(region)) == NULL ||
	    (s->sigv4 = malloc(strlen(region) + 16)) == NULL ||
	    (token && *token && (s->token = strdup(token)) == NULL))
		return -ENOMEM;
	snprintf(s->userpwd, n, "%s:%s", id, secret);
	sprintf(s->sigv4, "aws:amz:%s:s3", region);
	s->cacert = getenv("CURL_CA_BUNDLE");
	s->retries = 7;
	if (retries && *retries)
		s->retries = atoi(retries) < 0 ? 0 : atoi(retries);
	s->trace = getenv("PK_S3_TRACE") != NULL;
	return 0;
}

/* path and the directories before it, mode 0700. */
static void
mkdirs(char *path)
{
	pk_mkdir_parents(path);
	(void)mkdir(path, 0700);
}

/* $XDG_CACHE_HOME/pk/s3/HASH (or under $HOME/.cache), HASH of the place:
 * the work directory, and tmp/ in it. */
static int
workdir(struct s3 *s, const char *place)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	uint8_t h[16];
	char hex[33], path[4096], tmp[4200];
	struct stat st;
	int e;

	crypto_generichash(h, sizeof h, (const uint8_t *)place, strlen(place),
	    NULL, 0);
	pk_hex(hex, h, sizeof h);
	if (xdg && xdg[0] == '/')
		e = pk_path(path, sizeof path, "%s/pk/s3/%s", xdg, hex);
	else
		e = pk_path(path, sizeof path, "%s/.cache/pk/s3/%s",
		    home && *home ? home : "/tmp", hex);
	if (e < 0 || (e = pk_path(tmp, sizeof tmp, "%s/objects/snapshots",
	    path)) < 0)
		return e;
	mkdirs(tmp);
	snprintf(tmp, sizeof tmp, "%s/objects/index", path);
	mkdirs(tmp);
	snprintf(tmp, sizeof tmp, "%s/objects/keys", path);
	mkdirs(tmp);
	snprintf(tmp, sizeof tmp, "%s/tmp", path);
	mkdirs(tmp);
	if (stat(tmp, &st) < 0 || !S_ISDIR(st.st_mode))
		return pk_err(-errno ? -errno : -ENOTDIR, "%s: cannot make the "
		    "work directory: %s", tmp, strerror(errno ? errno : ENOTDIR));
	return (s->s.work = strdup(path)) ? 0 : -ENOMEM;
}

/* Creates the bucket when it is missing; refuses one that holds a
 * repository under the prefix. */
static int
create(struct s3 *s, const char *place)
{
	char body[256], w[4096];
	struct source src = { (const uint8_t *)body, -1, 0, 0 };
	struct req head = { .method = "HEAD", .key = NULL, .what = place };
	struct req make = { .method = "PUT", .key = NULL, .body = &src, .what = place };
	int e;

	if ((e = request(s, &head)) == -ENOENT || e == -ENXIO) {
		pk_err_clear();
		body[0] = '\0';
		/* Elsewhere than the default region, the bucket says where. */
		if (strcmp(s->region, "us-east-1") != 0)
			snprintf(body, sizeof body, "<CreateBucketConfiguration>"
			    "<LocationConstraint>%s</LocationConstraint>"
			    "</CreateBucketConfiguration>", s->region);
		src.len = strlen(body);
		e = request(s, &make);
	}
	if (e < 0)
		return e;
	if ((e = s3_exists(&s->s, "config")) < 0)
		return e;
	(void)what(s, w, "config");
	return e ? pk_err(-EEXIST, "%s: exists: the place holds a repository "
	    "already", w) : 0;
}

int
pk_s3_open(struct pk_storage **sp, const char *place, int create_it)
{
	struct s3 *s;
	int e;

	pthread_once(&curl_once, curl_start);
	if (!curl_ready)
		return pk_err(-ENOMEM, "%s: libcurl failed to start", place);
	if ((s = calloc(1, sizeof *s)) == NULL)
		return -ENOMEM;
	s->s.ops = &s3_ops;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->changed, NULL);
	if ((s->s.place = strdup(place)) == NULL)
		e = -ENOMEM;
	else if ((e = parse(s, place)) == 0 && (e = credentials(s, place)) == 0 &&
	    (e = workdir(s, place)) == 0 && create_it)
		e = create(s, place);
	if (e < 0) {
		s3_close(&s->s);
		return e;
	}
	*sp = &s->s;
	return 0;
}
