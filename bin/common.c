#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "pk.h"

const char *pk_progname = "pk";

void
pk_tool_init(const char *name)
{
	pk_progname = name;
	signal(SIGPIPE, SIG_DFL);
}

static void
vmsg(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", pk_progname);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
pk_die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	exit(code);
}

void
pk_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void
pk_die_lib(int code)
{
	pk_die(PK_EXIT_FAIL, "%s", pk_errmsg(code));
}

int
pk_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || s[0] == '-')
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	}
	if (*end != '\0')
		return -EINVAL;
	*out = v;
	return 0;
}

void
pk_print_version(void)
{
	printf("%s %s\n", pk_progname, PK_VERSION);
	exit(0);
}
