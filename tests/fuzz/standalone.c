/*
 * standalone.c: replays fuzz inputs without libFuzzer, so that make check
 * runs every fuzz target over its corpus.  Usage: fuzz-X FILE...
 * Inputs named crash-* or slow-* are known problems kept in the corpus
 * until they are fixed: they are left out, and counted.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
main(int argc, char **argv)
{
	unsigned char *buf;
	const char *base;
	int i, known = 0;
	long n;
	FILE *f;

	for (i = 1; i < argc; i++) {
		base = strrchr(argv[i], '/') ? strrchr(argv[i], '/') + 1 : argv[i];
		if (strncmp(base, "crash-", 6) == 0 ||
		    strncmp(base, "slow-", 5) == 0) {
			known++;
			continue;
		}
		if ((f = fopen(argv[i], "rb")) == NULL) {
			perror(argv[i]);
			return 1;
		}
		fseek(f, 0, SEEK_END);
		n = ftell(f);
		rewind(f);
		if ((buf = malloc((size_t)n + 1)) == NULL ||
		    fread(buf, 1, (size_t)n, f) != (size_t)n) {
			perror(argv[i]);
			return 1;
		}
		fclose(f);
		LLVMFuzzerTestOneInput(buf, (size_t)n);
		free(buf);
	}
	printf("ok - %s: %d inputs replayed", argv[0], argc - 1 - known);
	if (known)
		printf(", %d known crash or slow inputs left out", known);
	printf("\n");
	return 0;
}
