/*
 * err.h: error reporting from the library.
 *
 * Library functions return 0 (or a count) on success and a negative errno on
 * failure.  When they fail they may also describe the failure in a
 * thread-local message, "subject: reason", which the programs print after
 * their own name.  The library itself never prints.
 *
 * A message belongs to the code it was recorded with, so that a failure
 * that records none is never reported with an earlier one's words; and a
 * caller that handles a failure and goes on (a missing cache file, say)
 * forgets its message with pk_err_clear(), so that a later failure with
 * the same code and no message of its own is not reported with it either.
 */
#ifndef PK_ERR_H
#define PK_ERR_H

/* The longest message: a path of PATH_MAX bytes and why. */
#define PK_ERR_BYTES	5120

/* Records a message for the calling thread and returns code (a negative
 * errno), so that callers can write: return pk_err(-EBADMSG, "%s: ...", p);
 * an argument may be pk_errmsg(), to add to the message. */
int pk_err(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Returns the last message this thread recorded, when it was recorded with
 * code and not cleared since; else strerror(-code). */
const char *pk_errmsg(int code);

/* Forgets the message of this thread. */
void pk_err_clear(void);

/* The message and its code, kept over a clean-up whose own failures do
 * not matter, so that the failure that led to it is the one reported. */
struct pk_err_saved {
	char msg[PK_ERR_BYTES];
	int code;
};

void pk_err_save(struct pk_err_saved *s);
void pk_err_restore(const struct pk_err_saved *s);

#endif
