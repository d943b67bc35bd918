/* Fuzz target: a record stream turned into tar (pk-cat -). */
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int devnull = -1;
	struct fuzz_src s = { data, size, 0 };
	struct pk_stream_header h;
	struct pk_reader *r;
	uint64_t nerrors;

	if (devnull < 0)
		devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (pk_reader_new_source(&r, fuzz_source, &s, "fuzz") < 0)
		return 0;
	if (pk_reader_header(r, &h) == 0)
		pk_tar_stream(r, devnull, &nerrors);
	pk_reader_free(r);
	return 0;
}
