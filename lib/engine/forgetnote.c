/* forgetnote.c: the newest snapshot seen, moved back by a forget. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "forgetnote.h"
#include "hash.h"
#include "io.h"

#define MAX_FILE (1 << 20)

/* The line newest.c writes for n and place, without its newline. */
static int
line_of(struct pk_buf *b, const struct pk_newest *n, const char *place)
{
	char head[64 + 2 * PK_SNAPSHOT_ID_BYTES];
	const char *p;
	int k, e = 0;

	k = snprintf(head, sizeof head, "%" PRId64 ".%09" PRIu32 " ", n->sec,
	    n->nsec);
	pk_hex(head + k, n->id, sizeof n->id);
	e |= pk_buf_add(b, head, strlen(head));
	e |= pk_buf_add(b, " ", 1);
	for (p = place; *p; p++)
		e |= *p == '%' ? pk_buf_add(b, "%25", 3) :
		    *p == '\n' ? pk_buf_add(b, "%0A", 3) : pk_buf_add(b, p, 1);
	return e ? -ENOMEM : 0;
}

/* The file's lines but was's, into out; *found when it was there. */
static int
drop_line(const uint8_t *data, size_t len, const struct pk_buf *was,
    struct pk_buf *out, int *found)
{
	const uint8_t *p, *nl, *end = data + len;
	int e = 0;

	for (p = data; p < end && e == 0; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if ((size_t)(nl - p) == was->len &&
		    memcmp(p, was->data, was->len) == 0) {
			*found = 1;
			continue;
		}
		if ((e = pk_buf_add(out, p, (size_t)(nl - p))) == 0)
			e = pk_buf_add(out, "\n", 1);
	}
	return e;
}

int
pk_forget_note(const char *path, const char *place,
    const struct pk_newest *was, const struct pk_newest *now)
{
	struct pk_buf line = PK_BUF_INIT, out = PK_BUF_INIT;
	char dir[4096], *slash;
	uint8_t *data = NULL;
	size_t len;
	int e, found = 0;

	if ((e = pk_read_file(path, MAX_FILE, &data, &len)) < 0) {
		if (e == -ENOENT)
			pk_err_clear();
		return e == -ENOENT ? 0 : e;
	}
	if ((e = line_of(&line, was, place)) < 0 ||
	    (e = drop_line(data, len, &line, &out, &found)) < 0 || !found ||
	    (e = pk_path(dir, sizeof dir, "%s", path)) < 0)
		goto out;
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	else
		strcpy(dir, ".");
	if ((e = pk_atomic_write(dir, path, out.data, out.len, 0600)) == 0 &&
	    now != NULL)
		e = pk_newest_note(path, place, now);
out:
	pk_buf_release(&line);
	pk_buf_release(&out);
	free(data);
	return e;
}
