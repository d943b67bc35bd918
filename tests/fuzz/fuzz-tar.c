/*
 * Fuzz target: a record stream turned into tar (pk-cat -).
 *
 * A stream carries no sparse map, so its holes become zeros in the tar, and
 * the output is as long as the sizes the input declares: a few bytes can
 * ask for terabytes, which is right for pk-cat and useless to fuzz.  The
 * output goes to a file sealed at TAR_OUT_BYTES, so that a longer one ends
 * in a failed write, as it does when the reader of a pipe goes away.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

#define TAR_OUT_BYTES	(64u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
sealed_output(void)
{
	int fd;

	if ((fd = memfd_create("fuzz-tar", MFD_CLOEXEC | MFD_ALLOW_SEALING)) < 0 ||
	    ftruncate(fd, TAR_OUT_BYTES) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK) < 0) {
		perror("fuzz-tar: output file");
		exit(1);
	}
	return fd;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int out = -1;
	struct fuzz_src s = { data, size, 0 };
	struct pk_stream_header h;
	struct pk_reader *r;
	uint64_t nerrors;

	if (out < 0)
		out = sealed_output();
	if (lseek(out, 0, SEEK_SET) < 0)
		return 0;
	if (pk_reader_new_source(&r, fuzz_source, &s, "fuzz") < 0)
		return 0;
	if (pk_reader_header(r, &h) == 0)
		pk_tar_stream(r, out, &nerrors);
	pk_reader_free(r);
	return 0;
}
