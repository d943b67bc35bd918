#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

static _Thread_local char msg[PK_ERR_BYTES];
static _Thread_local int msg_code;	/* the code msg was recorded with */

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
	msg_code = code;
	return code;
}

const char *
pk_errmsg(int code)
{
	if (msg[0] != '\0' && code == msg_code)
		return msg;
	return strerror(code < 0 ? -code : code);
}

void
pk_err_clear(void)
{
	msg[0] = '\0';
}

void
pk_err_save(struct pk_err_saved *s)
{
	memcpy(s->msg, msg, sizeof msg);
	s->code = msg_code;
}

void
pk_err_restore(const struct pk_err_saved *s)
{
	memcpy(msg, s->msg, sizeof msg);
	msg_code = s->code;
}
