#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

static _Thread_local char msg[1024];

int
pk_err(int code, const char *fmt, ...)
{
	char tmp[sizeof msg];
	va_list ap;

	/* Formatted aside: callers may pass the last message as an
	 * argument, to add their own subject in front of it. */
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	memcpy(msg, tmp, sizeof msg);
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
