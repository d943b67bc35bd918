/*
 * unlock.h: the passphrase or key file that opens a repository, for the
 * tools that open one (pk-store, pk-index, pk-cat); the filters link none
 * of the repository's code.
 */
#ifndef PK_UNLOCK_H
#define PK_UNLOCK_H

/*
 * The repository passphrase: from --passphrase-file FILE when given (its
 * first line; a file others may read is refused, as a key file is), else
 * the PK_PASSPHRASE environment variable, else asked on the terminal (twice
 * when confirm is set).  Never from argv.  Dies when none can be had.
 * Returns a malloc'd string; wipe and free it with pk_passphrase_free.
 */
char *pk_passphrase(const char *file, int confirm);
/* A new passphrase (pk-key): from --new-passphrase-file FILE, else asked
 * twice on the terminal; never from the environment, which holds the
 * current one. */
char *pk_new_passphrase(const char *file);
void pk_passphrase_free(char *p);

/*
 * Opens a repository, dying on failure.  With a key file (keyfile, else the
 * PK_KEY_FILE environment variable unless passfile is given) it needs no
 * passphrase; otherwise it asks for one only when the repository is
 * encrypted.
 */
struct pk_repo;
struct pk_repo *pk_open_repo(const char *path, const char *passfile,
    const char *keyfile);

#endif
