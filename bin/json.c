/* json.c: JSON and time output. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "pk.h"

/* Length of the UTF-8 sequence at p, 0 when it is not valid UTF-8. */
static size_t
utf8_len(const uint8_t *p, size_t n)
{
	size_t k, i;
	uint32_t c;

	if (p[0] < 0x80)
		return 1;
	k = p[0] >= 0xf0 && p[0] < 0xf5 ? 4 : p[0] >= 0xe0 ? 3 :
	    p[0] >= 0xc2 && p[0] < 0xe0 ? 2 : 0;
	if (k == 0 || k > n)
		return 0;
	c = p[0] & (0x7f >> k);
	for (i = 1; i < k; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if ((k == 3 && (c < 0x800 || (c >= 0xd800 && c < 0xe000))) ||
	    (k == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	return k;
}

void
pk_put_json(const uint8_t *p, size_t n)
{
	size_t i, k;

	putchar('"');
	for (i = 0; i < n; i += k) {
		k = utf8_len(p + i, n - i);
		if (k > 1) {
			fwrite(p + i, 1, k, stdout);
			continue;
		}
		k = 1;
		if (p[i] == '"' || p[i] == '\\')
			printf("\\%c", p[i]);
		else if (p[i] < 0x20 || p[i] >= 0x7f)
			printf("\\u%04x", p[i]);
		else
			putchar(p[i]);
	}
	putchar('"');
}

void
pk_put_jsonz(const char *s)
{
	pk_put_json((const uint8_t *)s, strlen(s));
}

void
pk_put_json_strings(const char *key, char **v, uint32_t n)
{
	uint32_t i;

	printf(",\"%s\":[", key);
	for (i = 0; i < n; i++) {
		if (i)
			putchar(',');
		pk_put_jsonz(v[i]);
	}
	putchar(']');
}

void
pk_put_time(int64_t sec, uint32_t nsec, int utc)
{
	time_t t = (time_t)sec;
	struct tm tm;
	char buf[64];

	if (utc) {
		gmtime_r(&t, &tm);
		strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
		printf("\"%s.%09" PRIu32 "Z\"", buf, nsec);
	} else {
		localtime_r(&t, &tm);
		strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
		fputs(buf, stdout);
	}
}

void
pk_put_snapshot_json(const struct pk_snapshot *s)
{
	char id[PK_SNAPSHOT_NAME_BYTES];

	pk_hex(id, s->id, sizeof s->id);
	printf("{\"id\":\"%s\",\"time\":", id);
	pk_put_time(s->start_sec, s->start_nsec, 1);
	printf(",\"end\":");
	pk_put_time(s->end_sec, s->end_nsec, 1);
	printf(",\"seconds\":%.3f", (double)(s->end_sec - s->start_sec) +
	    ((double)s->end_nsec - (double)s->start_nsec) / 1e9);
	printf(",\"host\":");
	pk_put_jsonz(s->host ? s->host : "");
	printf(",\"user\":");
	pk_put_jsonz(s->user ? s->user : "");
	pk_put_json_strings("paths", s->paths, s->npaths);
	pk_put_json_strings("tags", s->tags, s->ntags);
	printf(",\"entries\":%" PRIu64 ",\"files\":%" PRIu64 ",\"dirs\":%" PRIu64
	    ",\"bytes\":%" PRIu64 ",\"stored\":%" PRIu64 ",\"chunks\":%" PRIu64
	    ",\"new_chunks\":%" PRIu64 ",\"errors\":%" PRIu64 "}",
	    s->entries, s->files, s->dirs, s->bytes, s->stored, s->chunks,
	    s->new_chunks, s->errors);
}
