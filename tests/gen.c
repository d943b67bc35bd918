/* gen BYTES SEED [TEXT]: deterministic pseudo-random bytes for tests and the
 * benchmark; with TEXT, compressible words instead of noise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
main(int argc, char **argv)
{
	static const char *words[] = { "backup ", "chunk ", "pack ", "store ",
	    "index ", "the ", "of ", "and ", "snapshot\n", "restore ", "tar ",
	    "0123 ", "pipe ", "file ", "data ", "repository\n" };
	unsigned long long n, s, z;
	static char buf[1 << 16];
	size_t i, len = 0;
	int text;

	if (argc < 3)
		return 2;
	n = strtoull(argv[1], NULL, 10);
	s = strtoull(argv[2], NULL, 10);
	text = argc > 3;
	while (n > 0) {
		s += 0x9e3779b97f4a7c15ull;
		z = s;
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
		if (text) {
			const char *w = words[z & 15];
			size_t k = strlen(w);
			for (i = 0; i < k && n > 0; i++, n--)
				buf[len++] = w[i];
		} else {
			for (i = 0; i < 8 && n > 0; i++, n--)
				buf[len++] = (char)(z >> (8 * i));
		}
		if (len > sizeof buf - 16) {
			fwrite(buf, 1, len, stdout);
			len = 0;
		}
	}
	fwrite(buf, 1, len, stdout);
	return 0;
}
