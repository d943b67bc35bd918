/* unlock.c: the passphrase or key file that opens a repository. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <sodium.h>

#include "common.h"
#include "pk.h"
#include "unlock.h"

static char *
read_line(FILE *f)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	n = getline(&line, &cap, f);
	if (n < 0) {
		free(line);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}

static char *
ask(FILE *tty, const char *prompt)
{
	struct termios old, quiet;
	char *line;
	int restore;

	fprintf(tty, "%s", prompt);
	fflush(tty);
	restore = tcgetattr(fileno(tty), &old) == 0;
	if (restore) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
	}
	line = read_line(tty);
	if (restore)
		tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fputc('\n', tty);
	return line;
}

/* A passphrase file: its first line.  Held to the rule of key files, as
 * it is as good as one: its owner's alone. */
static char *
from_file(const char *file)
{
	struct stat st;
	char *p;
	FILE *f;
	int e;

	if ((f = fopen(file, "re")) == NULL)
		pk_die(PK_EXIT_FAIL, "%s: %s", file, strerror(errno));
	if (fstat(fileno(f), &st) == 0 &&
	    (e = pk_private_mode(file, (unsigned)st.st_mode)) < 0)
		pk_die_lib(e);
	p = read_line(f);
	fclose(f);
	if (p == NULL || p[0] == '\0')
		pk_die(PK_EXIT_FAIL, "%s: empty passphrase", file);
	return p;
}

/* Asks on the terminal, twice when confirm is set. */
static char *
from_tty(const char *what, int confirm)
{
	char prompt[64], *p, *again;
	FILE *f;

	if ((f = fopen("/dev/tty", "r+e")) == NULL)
		return NULL;
	snprintf(prompt, sizeof prompt, "%s: ", what);
	p = ask(f, prompt);
	if (p != NULL && confirm) {
		snprintf(prompt, sizeof prompt, "%s again: ", what);
		again = ask(f, prompt);
		if (again == NULL || strcmp(p, again) != 0) {
			fclose(f);
			pk_die(PK_EXIT_FAIL, "passphrases do not match");
		}
		pk_passphrase_free(again);
	}
	fclose(f);
	if (p == NULL || p[0] == '\0')
		pk_die(PK_EXIT_FAIL, "empty passphrase");
	return p;
}

char *
pk_passphrase(const char *file, int confirm)
{
	const char *env = getenv("PK_PASSPHRASE");
	char *p;

	if (file != NULL)
		return from_file(file);
	if (env != NULL) {
		if (env[0] == '\0')
			pk_die(PK_EXIT_FAIL, "PK_PASSPHRASE: empty passphrase");
		if ((p = strdup(env)) == NULL)
			pk_die(PK_EXIT_FAIL, "out of memory");
		return p;
	}
	if ((p = from_tty("passphrase", confirm)) == NULL)
		pk_die(PK_EXIT_FAIL, "passphrase needed: set PK_PASSPHRASE, use "
		    "--passphrase-file, or run on a terminal");
	return p;
}

char *
pk_new_passphrase(const char *file)
{
	char *p;

	if (file != NULL)
		return from_file(file);
	if ((p = from_tty("new passphrase", 1)) == NULL)
		pk_die(PK_EXIT_FAIL, "new passphrase needed: use "
		    "--new-passphrase-file, or run on a terminal");
	return p;
}

void
pk_passphrase_free(char *p)
{
	if (p == NULL)
		return;
	sodium_memzero(p, strlen(p));
	free(p);
}

struct pk_repo *
pk_open_repo(const char *path, const char *passfile, const char *keyfile)
{
	struct pk_repo_params params;
	struct pk_repo *r;
	char *pass = NULL;
	int e;

	if (keyfile == NULL && passfile == NULL)
		keyfile = getenv("PK_KEY_FILE");
	if (keyfile != NULL && keyfile[0] != '\0') {
		if ((e = pk_repo_open_keyfile(&r, path, keyfile)) < 0)
			pk_die_lib(e);
		return r;
	}
	if ((e = pk_repo_read_params(path, &params)) < 0)
		pk_die_lib(e);
	if (params.encrypted)
		pass = pk_passphrase(passfile, 0);
	e = pk_repo_open(&r, path, pass, pass ? strlen(pass) : 0);
	pk_passphrase_free(pass);
	if (e < 0)
		pk_die_lib(e);
	return r;
}
