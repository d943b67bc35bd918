/*
 * err.h: error reporting from the library.
 *
 * Library functions return 0 (or a count) on success and a negative errno on
 * failure.  When they fail they may also describe the failure in a
 * thread-local message, "subject: reason", which the programs print after
 * their own name.  The library itself never prints.
 */
#ifndef PK_ERR_H
#define PK_ERR_H

/* The longest message: a path of PATH_MAX bytes and why. */
#define PK_ERR_BYTES	5120

/* Records a message for the calling thread and returns code (a negative
 * errno), so that callers can write: return pk_err(-EBADMSG, "%s: ...", p);
 * an argument may be pk_errmsg(), to add to the message. */
int pk_err(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Returns the last message recorded by this thread, or strerror(-code) when
 * none was recorded since pk_err_clear(). */
const char *pk_errmsg(int code);

/* Forgets the message of this thread. */
void pk_err_clear(void);

#endif
