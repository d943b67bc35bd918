/* json.c: JSON and time output. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "json.h"

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
