#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

static _Thread_local char msg[PK_ERR_BYTES];

int
pk_err(int code, const char *fmt, ...)
{
	char m[sizeof msg];
	va_list ap;

	/* Aside first: an argument may be pk_errmsg(), this very buffer. */
	va_start(ap, fmt);
	vsnprintf(m, sizeof m, fmt, ap);
	va_end(ap);
	memcpy(msg, m, strlen(m) + 1);
	return code;
}

const char *
pk_errmsg(int code)
{
	if (msg[0] != '\0')
		return msg;
	return strerror(code < 0 ? -code : code);
}

void
pk_err_clear(void)
{
	msg[0] = '\0';
}
