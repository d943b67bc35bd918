/*
 * Fuzz target: the note of the newest snapshot seen (pk_newest_read, and
 * pk_newest_note, which keeps the other places' lines of what it read).
 * Input: the file.
 */
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pk_newest n = { 1, 2, { 3 } };
	char path[4200];

	snprintf(path, sizeof path, "%s/newest", fuzz_repo()->path);
	if (fuzz_write(path, data, size, 0600) < 0)
		return 0;
	(void)pk_newest_read(path, "/srv/repo", &n);
	n.nsec++;
	(void)pk_newest_note(path, "/srv/repo", &n);
	if (pk_newest_read(path, "/srv/repo", &n) != 0)
		__builtin_trap();	/* a note just written reads back */
	unlink(path);
	return 0;
}
