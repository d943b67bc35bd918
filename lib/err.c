#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

static _Thread_local char msg[1024];

int
pk_err(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
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
