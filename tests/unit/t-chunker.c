/*
 * t-chunker: content-defined chunking (chunker.h) and chunk ids (hash.h).
 *
 * The cuts must not depend on how the bytes are fed: pk-chunk's rule
 * (buffer until max bytes or the end of the file, then cut) is simulated
 * with many read sizes, and compared with a byte-at-a-time reference
 * written here from the cut rule of pk-stream(5) ("CHUNKING").  Golden
 * files pin the cuts and the ids:
 *
 *	t-chunker [--small]		run the tests (--small: 8 MiB inputs)
 *	t-chunker --golden DIR		write DIR/chunker-*.txt
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pk.h"
#include "unit.h"

#define GOLDEN		"tests/golden"
#define GOLDEN_BYTES	(32u << 20)
#define GOLDEN_SEED	0x676f6c64656e3031ull	/* "golden01" */

static size_t data_bytes = 64u << 20;

/* The reference: one byte at a time, straight from the spec. */

static uint64_t ref_gear[256];

static uint64_t
splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void
ref_init(void)
{
	uint64_t s = 0x706b2d6765617231ull;
	int i;

	for (i = 0; i < 256; i++)
		ref_gear[i] = splitmix64(&s);
}

/* bits one bits, the highest of them bit 62. */
static uint64_t
ref_mask(unsigned bits)
{
	uint64_t m = 0;
	unsigned b;

	for (b = 63 - bits; b <= 62; b++)
		m |= (uint64_t)1 << b;
	return m;
}

struct ref {
	size_t min, avg, max;
	uint64_t ms, ml;
};

static void
ref_params(struct ref *r, size_t min, size_t avg, size_t max)
{
	unsigned lg = 0;

	while (((size_t)1 << lg) != avg)
		lg++;
	r->min = min;
	r->avg = avg;
	r->max = max;
	r->ms = ref_mask(lg + 2);
	r->ml = ref_mask(lg - 2);
}

static size_t
ref_cut(const struct ref *r, const uint8_t *p, size_t n)
{
	size_t end = n < r->max ? n : r->max, i;
	uint64_t h = 0;

	if (n <= r->min)
		return n;
	for (i = r->min; i < end; i++) {
		h = (h << 1) + ref_gear[p[i]];
		if ((h & (i < r->avg ? r->ms : r->ml)) == 0)
			return i + 1;
	}
	return end;
}

/* Cut lists. */

struct cuts {
	size_t n, cap;
	uint64_t *v;		/* end offset of each chunk */
};

static void
cuts_add(struct cuts *c, uint64_t off)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 1024;
		c->v = realloc(c->v, c->cap * sizeof *c->v);
	}
	c->v[c->n++] = off;
}

static int
cuts_eq(const struct cuts *a, const struct cuts *b)
{
	return a->n == b->n && memcmp(a->v, b->v, a->n * sizeof *a->v) == 0;
}

static void
ref_all(const struct ref *r, const uint8_t *p, size_t n, struct cuts *c)
{
	size_t off = 0;

	c->n = 0;
	while (off < n) {
		off += ref_cut(r, p + off, n - off);
		cuts_add(c, off);
	}
}

/*
 * pk-chunk's rule: reads of step bytes (random: 1 + rand % step) into a
 * buffer of max + step bytes; cut while max bytes are there; at the end
 * of the file, cut until it is empty.  step 0: the whole input at once.
 */
static void
feed(const struct pk_chunker *c, const uint8_t *p, size_t n, size_t step,
    int random, struct cuts *out)
{
	unsigned long long seed = step * 31 + (size_t)random;
	size_t cap = c->max + (step ? step : n), start = 0, len = 0, pos = 0;
	size_t k, m;
	uint64_t off = 0;
	uint8_t *buf = malloc(cap);

	out->n = 0;
	while (pos < n) {
		k = step == 0 ? n : random ? 1 + unit_rand(&seed) % step : step;
		k = k < n - pos ? k : n - pos;
		if (start + len + k > cap) {
			memmove(buf, buf + start, len);
			start = 0;
		}
		if (k == 1)
			buf[start + len] = p[pos];
		else
			memcpy(buf + start + len, p + pos, k);
		len += k;
		pos += k;
		while (len > 0 && (len >= c->max || pos == n)) {
			m = pk_chunker_cut(c, buf + start, len);
			if (m == 0 || m > len)
				abort();
			off += m;
			cuts_add(out, off);
			start += m;
			len -= m;
		}
	}
	free(buf);
}

/* Data. */

/* Compressible: zero runs, text from a small dictionary, copies of earlier
 * parts, a little noise. */
static void
fill_compressible(uint8_t *p, size_t n, unsigned long long seed)
{
	static const char *words[] = { "the ", "backup ", "of ", "etc ",
	    "passwd ", "root:x:0:0:", "\n", "/usr/lib/", "lorem ", "ipsum " };
	size_t pos = 0, k, i, w;

	while (pos < n) {
		unsigned kind = (unsigned)(unit_rand(&seed) % 4);

		k = 1 + unit_rand(&seed) % (3u << 20);
		k = k < n - pos ? k : n - pos;
		switch (kind) {
		case 0:
			memset(p + pos, 0, k);
			break;
		case 1:
			for (i = 0; i < k; i += w) {
				const char *word = words[unit_rand(&seed) % 10];

				w = strlen(word) < k - i ? strlen(word) : k - i;
				memcpy(p + pos + i, word, w);
			}
			break;
		case 2:
			if (pos >= k) {
				memcpy(p + pos, p + unit_rand(&seed) % (pos - k + 1), k);
				break;
			}
			/* FALLTHROUGH */
		default:
			unit_fill(p + pos, k, unit_rand(&seed));
		}
		pos += k;
	}
}

/* Tests. */

static void
test_hash(void)
{
	static const char abc[] =
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	static const char empty[] =
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
	static const char two_blocks[] =	/* FIPS 180-2, 448 bits */
	    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
	const char *msg = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	uint8_t id[32], back[32];
	char hex[65];
	uint8_t *p = malloc(1u << 20);
	size_t i;
	int ok;

	pk_hash_id(id, "abc", 3);
	pk_hex(hex, id, 32);
	CHECK("pk_hash_id(\"abc\") is SHA-256: ba7816bf...f20015ad",
	    !strcmp(hex, abc));
	pk_hash_id(id, "", 0);
	pk_hex(hex, id, 32);
	CHECK("pk_hash_id(\"\") is SHA-256: e3b0c442...7852b855",
	    !strcmp(hex, empty));
	pk_hash_id(id, msg, strlen(msg));
	pk_hex(hex, id, 32);
	CHECK("pk_hash_id of the two-block FIPS message", !strcmp(hex, two_blocks));

	unit_fill(p, 1u << 20, 11);
	pk_hash_id(id, p, 1u << 20);
	pk_hex(hex, id, 32);
	CHECK("pk_unhex(pk_hex(x)) == x", pk_unhex(back, 32, hex) == 0 &&
	    !memcmp(back, id, 32));
	for (i = 0, ok = 1; i < 64; i++)
		ok &= hex[i] == "0123456789abcdef"[(id[i / 2] >> (i % 2 ? 0 : 4)) & 15];
	CHECK("pk_hex: lowercase, high nibble first", ok && hex[64] == '\0');
	CHECK("pk_unhex accepts upper case", pk_unhex(back, 3, "ABCDEF") == 0 &&
	    back[0] == 0xab && back[1] == 0xcd && back[2] == 0xef);
	CHECK("pk_unhex refuses a bad digit", pk_unhex(back, 3, "abcdeg") == -EINVAL);
	CHECK("pk_unhex refuses a short string", pk_unhex(back, 3, "abcde") == -EINVAL);
	CHECK("pk_unhex refuses a long string", pk_unhex(back, 3, "abcdef0") == -EINVAL);
	free(p);
}

static void
test_init(void)
{
	static const struct { uint32_t min, avg, max; int ok; const char *why; } t[] = {
		{ PK_CHUNK_MIN_DEFAULT, PK_CHUNK_AVG_DEFAULT, PK_CHUNK_MAX_DEFAULT, 1,
		  "the defaults" },
		{ 2048, 8192, 65536, 1, "2K/8K/64K" },
		{ 64, 128, 130, 1, "the smallest" },
		{ 64, 1u << 23, PK_CHUNK_MAX_LIMIT, 1, "max at the limit" },
		{ 2048, 8192 + 4096, 65536, 0, "avg not a power of two" },
		{ 2048, 0, 65536, 0, "avg 0" },
		{ 2049, 8192, 65536, 0, "odd min" },
		{ 2048, 8192, 65537, 0, "odd max" },
		{ 8192, 8192, 65536, 0, "min == avg" },
		{ 16384, 8192, 65536, 0, "min > avg" },
		{ 2048, 8192, 8192, 0, "max == avg" },
		{ 2048, 65536, 8192, 0, "max < avg" },
		{ 2048, 8192, PK_CHUNK_MAX_LIMIT + 2, 0, "max over 16M" },
		{ 62, 128, 256, 0, "min under 64" },
		{ 0, 128, 256, 0, "min 0" },
	};
	struct pk_chunker c;
	char name[128];
	size_t i;

	for (i = 0; i < sizeof t / sizeof *t; i++) {
		snprintf(name, sizeof name, "pk_chunker_init: %s %s", t[i].why,
		    t[i].ok ? "accepted" : "refused with EINVAL");
		CHECK(name, pk_chunker_init(&c, t[i].min, t[i].avg, t[i].max) ==
		    (t[i].ok ? 0 : -EINVAL));
	}
	pk_chunker_init(&c, PK_CHUNK_MIN_DEFAULT, PK_CHUNK_AVG_DEFAULT,
	    PK_CHUNK_MAX_DEFAULT);
	CHECK("pk_chunker_init: default masks of 22 and 18 bits ending at bit 62",
	    c.mask_s == 0x7ffffe0000000000ull && c.mask_l == 0x7fffe00000000000ull);
	CHECK("pk_chunker_init: fields", c.min == PK_CHUNK_MIN_DEFAULT &&
	    c.avg == PK_CHUNK_AVG_DEFAULT && c.max == PK_CHUNK_MAX_DEFAULT);
}

/* pk_chunker_cut against the reference on many parameters, data and ends
 * of file, odd ones too. */
static void
test_reference_small(void)
{
	unsigned long long seed = 7;
	size_t trials, bad = 0, cases = 0, early = 0, forced = 0, power = 0;
	uint8_t *p = malloc(3u << 16);

	for (trials = 0; trials < 400; trials++) {
		unsigned lg = 7 + (unsigned)(unit_rand(&seed) % 7);
		size_t avg = (size_t)1 << lg;
		size_t min = 64 + 2 * (unit_rand(&seed) % ((avg - 64) / 2));
		size_t max = avg + 2 + 2 * (unit_rand(&seed) % (3 * avg / 2));
		struct pk_chunker c;
		struct ref r, wrong;
		size_t i, j, n, a, b;

		if (pk_chunker_init(&c, (uint32_t)min, (uint32_t)avg,
		    (uint32_t)max) < 0) {
			bad++;
			continue;
		}
		ref_params(&r, min, avg, max);
		/* A rule one mask bit off, to show the comparison can fail. */
		wrong = r;
		wrong.ms >>= 1;
		wrong.ml >>= 1;
		n = 3 * max;
		if (trials % 3 == 0) {
			/* Low entropy: four byte values. */
			unit_fill(p, n, trials);
			for (i = 0; i < n; i++)
				p[i] &= 3;
		} else {
			unit_fill(p, n, trials);
		}
		for (j = 0; j < 40; j++) {
			size_t start = unit_rand(&seed) % max;
			size_t len = 1 + unit_rand(&seed) % (n - start);

			a = pk_chunker_cut(&c, p + start, len);
			b = ref_cut(&r, p + start, len);
			cases++;
			if (a != b) {
				if (bad < 5)
					printf("# min %zu avg %zu max %zu n %zu: "
					    "cut %zu, reference %zu\n", min, avg,
					    max, len, a, b);
				bad++;
			}
			power += ref_cut(&wrong, p + start, len) != b;
			early += b < avg && b < len && b > min;
			forced += b == max;
		}
	}
	printf("# %zu cases, %zu cut before avg, %zu forced at max\n", cases,
	    early, forced);
	CHECK("pk_chunker_cut equals the byte-at-a-time reference for random "
	    "parameters, data and lengths", bad == 0);
	CHECK("the cases cover cuts before avg and cuts forced at max",
	    early > 0 && forced > 0);
	CHECK("the cases tell a rule with masks one bit lower from the right one",
	    power > cases / 4);
	free(p);
}

struct feeding {
	size_t step;
	int random;
	const char *name;
};

static const struct feeding feedings[] = {
	{ 0, 0, "all at once" }, { 1, 0, "1 byte" }, { 4095, 0, "4095 bytes" },
	{ 65536, 0, "65536 bytes" }, { 1u << 20, 0, "1 MiB" },
	{ 1u << 20, 1, "random 1..1M" }, { 1000, 1, "random 1..1000" },
};

static void
check_sizes(const struct cuts *c, const struct pk_chunker *ck,
    const char *what)
{
	size_t i, small = 0, large = 0;
	uint64_t prev = 0, len;
	char name[160];

	for (i = 0; i < c->n; i++) {
		len = c->v[i] - prev;
		prev = c->v[i];
		small += len < ck->min && i + 1 < c->n;
		large += len > ck->max;
	}
	snprintf(name, sizeof name, "%s: no chunk under min but the last", what);
	CHECK(name, small == 0);
	snprintf(name, sizeof name, "%s: no chunk over max", what);
	CHECK(name, large == 0);
}

static void
test_feedings(const char *dname, const uint8_t *p, size_t n, uint32_t min,
    uint32_t avg, uint32_t max, int stats)
{
	struct cuts want = { 0, 0, NULL }, got = { 0, 0, NULL };
	struct pk_chunker c;
	struct ref r;
	char name[200], what[100];
	size_t i;

	pk_chunker_init(&c, min, avg, max);
	ref_params(&r, min, avg, max);
	snprintf(what, sizeof what, "%zu MiB of %s data, %u/%u/%u", n >> 20,
	    dname, min, avg, max);
	ref_all(&r, p, n, &want);
	for (i = 0; i < sizeof feedings / sizeof *feedings; i++) {
		feed(&c, p, n, feedings[i].step, feedings[i].random, &got);
		snprintf(name, sizeof name, "%s: reads of %s cut as the "
		    "reference", what, feedings[i].name);
		CHECK(name, cuts_eq(&got, &want));
	}
	check_sizes(&want, &c, what);
	if (stats) {
		double mean = (double)n / (double)want.n;

		printf("# %s: %zu chunks, mean %.0f\n", what, want.n, mean);
		snprintf(name, sizeof name, "%s: mean chunk size within "
		    "[0.75, 1.5] x avg", what);
		CHECK(name, mean >= 0.75 * avg && mean <= 1.5 * avg);
	}
	free(want.v);
	free(got.v);
}

/* Content-defined: one byte inserted moves the cuts after it by one. */
static void
test_resync(const uint8_t *p, size_t n)
{
	struct cuts a = { 0, 0, NULL }, b = { 0, 0, NULL };
	size_t at = n / 3, i, j, shared = 0, after = 0;
	uint8_t *q = malloc(n + 1);
	struct pk_chunker c;

	pk_chunker_init(&c, 2048, 8192, 65536);
	memcpy(q, p, at);
	q[at] = 0x5a;
	memcpy(q + at + 1, p + at, n - at);
	feed(&c, p, n, 0, 0, &a);
	feed(&c, q, n + 1, 0, 0, &b);
	for (i = j = 0; i < a.n; i++) {
		if (a.v[i] <= at + 2 * c.max)
			continue;
		after++;
		while (j < b.n && b.v[j] < a.v[i] + 1)
			j++;
		shared += j < b.n && b.v[j] == a.v[i] + 1;
	}
	CHECK("one byte inserted: every cut two max after it moves by one",
	    after > 100 && shared == after);
	for (i = 0, shared = 0; i < a.n && a.v[i] < at; i++)
		shared += i < b.n && a.v[i] == b.v[i];
	CHECK("one byte inserted: the cuts before it stay", shared == i && i > 100);
	free(a.v);
	free(b.v);
	free(q);
}

/* Golden files. */

static const struct {
	const char *file;
	uint32_t min, avg, max;
} goldens[] = {
	{ "chunker-default.txt", PK_CHUNK_MIN_DEFAULT, PK_CHUNK_AVG_DEFAULT,
	  PK_CHUNK_MAX_DEFAULT },
	{ "chunker-small.txt", 2048, 8192, 65536 },
};

/* 32 MiB from the seeded generator, with 10 MiB of zeros from 20 MiB on,
 * so that some cuts are forced at max. */
static uint8_t *
golden_input(void)
{
	uint8_t *p = malloc(GOLDEN_BYTES);

	unit_fill(p, GOLDEN_BYTES, GOLDEN_SEED);
	memset(p + (20u << 20), 0, 10u << 20);
	return p;
}

static void
golden_text(const uint8_t *p, uint32_t min, uint32_t avg, uint32_t max,
    struct pk_buf *out)
{
	struct pk_chunker c;
	uint8_t id[32];
	char line[512], hex[65];
	size_t off = 0, k;

	pk_buf_reset(out);
	pk_hash_id(id, p, GOLDEN_BYTES);
	pk_hex(hex, id, 32);
	snprintf(line, sizeof line, "# pk chunker golden vector: cut offsets "
	    "and SHA-256 chunk ids, pk-stream(5) version 1\n"
	    "# input %u bytes, sha256 %s\n# chunker %u %u %u\n",
	    GOLDEN_BYTES, hex, min, avg, max);
	pk_buf_add(out, line, strlen(line));
	pk_chunker_init(&c, min, avg, max);
	while (off < GOLDEN_BYTES) {
		k = pk_chunker_cut(&c, p + off, GOLDEN_BYTES - off);
		pk_hash_id(id, p + off, k);
		pk_hex(hex, id, 32);
		snprintf(line, sizeof line, "%zu %zu %s\n", off, k, hex);
		pk_buf_add(out, line, strlen(line));
		off += k;
	}
}

static int
write_golden(const char *dir)
{
	struct pk_buf b = PK_BUF_INIT;
	uint8_t *p = golden_input();
	char path[4096];
	size_t i;
	int fd, bad = 0;

	for (i = 0; i < sizeof goldens / sizeof *goldens; i++) {
		golden_text(p, goldens[i].min, goldens[i].avg, goldens[i].max, &b);
		snprintf(path, sizeof path, "%s/%s", dir, goldens[i].file);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || pk_write_all(fd, b.data, b.len) < 0) {
			perror(path);
			bad = 1;
		}
		if (fd >= 0)
			close(fd);
		printf("%s: %zu bytes\n", path, b.len);
	}
	pk_buf_release(&b);
	free(p);
	return bad;
}

/* Byte offset of the first line that differs, for the message. */
static size_t
first_diff_line(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	size_t i, line = 1;

	for (i = 0; i < an && i < bn && a[i] == b[i]; i++)
		line += a[i] == '\n';
	return line;
}

static void
test_golden(void)
{
	struct pk_buf b = PK_BUF_INIT;
	uint8_t *p = golden_input(), *file, *nl;
	char path[4096], name[200];
	size_t i, n, hdr;
	int e;

	for (i = 0; i < sizeof goldens / sizeof *goldens; i++) {
		snprintf(path, sizeof path, "%s/%s", GOLDEN, goldens[i].file);
		e = pk_read_file(path, 4u << 20, &file, &n);
		snprintf(name, sizeof name, "golden %s: present", goldens[i].file);
		CHECK(name, e == 0);
		if (e < 0)
			continue;
		golden_text(p, goldens[i].min, goldens[i].avg, goldens[i].max, &b);
		/* The first two lines describe the input. */
		nl = memchr(b.data, '\n', b.len);
		nl = memchr(nl + 1, '\n', b.len - (size_t)(nl + 1 - b.data));
		hdr = (size_t)(nl + 1 - b.data);
		snprintf(name, sizeof name, "golden %s: the seeded input is "
		    "unchanged", goldens[i].file);
		CHECK(name, n >= hdr && memcmp(file, b.data, hdr) == 0);
		snprintf(name, sizeof name, "golden %s: same cut offsets and chunk "
		    "ids", goldens[i].file);
		if (n != b.len || memcmp(file, b.data, n) != 0)
			printf("# %s: first difference at line %zu\n", path,
			    first_diff_line(file, n, b.data, b.len));
		CHECK(name, n == b.len && memcmp(file, b.data, n) == 0);
		free(file);
	}
	pk_buf_release(&b);
	free(p);
}

int
main(int argc, char **argv)
{
	uint8_t *p;

	ref_init();
	if (argc == 3 && !strcmp(argv[1], "--golden"))
		return write_golden(argv[2]);
	if (argc == 2 && !strcmp(argv[1], "--small"))
		data_bytes = 8u << 20;
	test_hash();
	test_init();
	test_reference_small();
	test_golden();
	p = malloc(data_bytes);
	unit_fill(p, data_bytes, 0x72616e646f6d31ull);
	test_feedings("random", p, data_bytes, PK_CHUNK_MIN_DEFAULT,
	    PK_CHUNK_AVG_DEFAULT, PK_CHUNK_MAX_DEFAULT, data_bytes >= (64u << 20));
	test_feedings("random", p, data_bytes, 2048, 8192, 65536, 1);
	test_resync(p, data_bytes);
	fill_compressible(p, data_bytes, 0x7465787431ull);
	test_feedings("compressible", p, data_bytes, PK_CHUNK_MIN_DEFAULT,
	    PK_CHUNK_AVG_DEFAULT, PK_CHUNK_MAX_DEFAULT, 0);
	test_feedings("compressible", p, data_bytes, 2048, 8192, 65536, 0);
	free(p);
	UNIT_END();
}
