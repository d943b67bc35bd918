/* pk-key: list, add and remove the keys of an encrypted repository. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "json.h"
#include "pk.h"
#include "unlock.h"

static const char usage_text[] =
    "usage: pk-key list [--json] [--passphrase-file file] repository\n"
    "       pk-key add [--new-passphrase-file file | --key-file file]\n"
    "                  [--passphrase-file file] repository\n"
    "       pk-key passwd [--new-passphrase-file file] [--passphrase-file file]\n"
    "                  repository\n"
    "       pk-key remove [--passphrase-file file] repository id\n";

static const char options_text[] =
    "  --json                      list: as a JSON array\n"
    "  --new-passphrase-file FILE  add, passwd: the new passphrase, from FILE\n"
    "  --key-file FILE             add: write a key file to FILE\n"
    "  --passphrase-file FILE      read the passphrase that opens from FILE\n"
    "  -h, --help                  print this help\n"
    "  --version                   print the version\n";

enum verb { LIST, ADD, PASSWD, REMOVE };

static void
list_text(const struct pk_key_entry *l, size_t n)
{
	char id[2 * PK_KEY_ID_BYTES + 1];
	size_t i;

	printf("  %-32s  %-10s  %-19s  %-12s %s\n", "id", "kind", "created",
	    "host", "user");
	for (i = 0; i < n; i++) {
		pk_hex(id, l[i].k.id, sizeof l[i].k.id);
		printf("%c %-32s  %-10s  ", l[i].used ? '*' : ' ',
		    l[i].config ? "config" : id,
		    l[i].k.kind == PK_KEY_FILE ? "key-file" : "passphrase");
		if (l[i].config) {
			printf("%-19s  %-12s %s\n", "-", "-", "-");
			continue;
		}
		pk_put_time(l[i].k.created, 0, 0);
		printf("  %-12s %s\n", l[i].k.host, l[i].k.user);
	}
}

static void
list_json(const struct pk_key_entry *l, size_t n)
{
	char id[2 * PK_KEY_ID_BYTES + 1];
	size_t i;

	putchar('[');
	for (i = 0; i < n; i++) {
		pk_hex(id, l[i].k.id, sizeof l[i].k.id);
		printf("%s{\"id\":\"%s\",\"kind\":\"%s\",\"used\":%s", i ? ",\n" :
		    "\n", l[i].config ? "config" : id, l[i].k.kind == PK_KEY_FILE ?
		    "key-file" : "passphrase", l[i].used ? "true" : "false");
		if (!l[i].config) {
			printf(",\"created\":");
			pk_put_time(l[i].k.created, 0, 1);
			printf(",\"host\":");
			pk_put_jsonz(l[i].k.host);
			printf(",\"user\":");
			pk_put_jsonz(l[i].k.user);
		}
		putchar('}');
	}
	printf("]\n");
}

/* Prints a key's id, the one line add and passwd write on stdout. */
static void
print_id(const uint8_t id[PK_KEY_ID_BYTES])
{
	char hex[2 * PK_KEY_ID_BYTES + 1];

	pk_hex(hex, id, PK_KEY_ID_BYTES);
	printf("%s\n", hex);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "passphrase-file", required_argument, NULL, 'P' },
		{ "new-passphrase-file", required_argument, NULL, 'N' },
		{ "key-file", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const verbs[] = { "list", "add", "passwd", "remove" };
	const char *passfile = NULL, *newfile = NULL, *keyfile = NULL;
	uint8_t id[PK_KEY_ID_BYTES];
	struct pk_key_entry *l;
	struct pk_repo *r;
	enum verb verb;
	char *pass = NULL;
	size_t n;
	int ch, json = 0, e = 0;

	pk_tool_init("pk-key");
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'j': json = 1; break;
		case 'P': passfile = optarg; break;
		case 'N': newfile = optarg; break;
		case 'k': keyfile = optarg; break;
		case 'h': pk_help(usage_text, options_text);
		case 'V': pk_print_version();
		default: pk_usage(usage_text, PK_BAD_OPTION, argv[optind - 1]);
		}
	}
	if (optind == argc)
		pk_usage(usage_text, "no command named (list, add, passwd, remove)");
	for (verb = LIST; verb <= REMOVE; verb++)
		if (strcmp(argv[optind], verbs[verb]) == 0)
			break;
	if (verb > REMOVE)
		pk_usage(usage_text, "%s: not a command (list, add, passwd, "
		    "remove)", argv[optind]);
	optind++;
	n = (size_t)(argc - optind);
	if (n < (verb == REMOVE ? 2u : 1u))
		pk_usage(usage_text, n ? "no key id named" : "no repository named");
	if (n > (verb == REMOVE ? 2u : 1u))
		pk_usage(usage_text, "%s: extra operand",
		    argv[optind + (verb == REMOVE ? 2 : 1)]);
	if (json && verb != LIST)
		pk_usage(usage_text, "--json goes with list only");
	if (keyfile && verb != ADD)
		pk_usage(usage_text, "--key-file goes with add only (the key "
		    "file it writes; PK_KEY_FILE opens)");
	if (newfile && verb != ADD && verb != PASSWD)
		pk_usage(usage_text, "--new-passphrase-file goes with add and "
		    "passwd only");
	if (newfile && keyfile)
		pk_usage(usage_text, "--new-passphrase-file and --key-file "
		    "exclude each other");

	/* --key-file names the key file add writes, so a key file opens the
	 * repository through PK_KEY_FILE only. */
	r = pk_open_repo(argv[optind], passfile, NULL);
	switch (verb) {
	case LIST:
		if ((e = pk_keyring_list(r, &l, &n)) == 0) {
			json ? list_json(l, n) : list_text(l, n);
			free(l);
		}
		break;
	case ADD:
		if (keyfile) {
			e = pk_keyring_add_file(r, keyfile, id);
		} else if ((e = pk_keyring_migrate(r)) == 0) {
			/* Nothing is asked of a plaintext repository. */
			pass = pk_new_passphrase(newfile);
			e = pk_keyring_add_passphrase(r, pass, strlen(pass), id);
		}
		if (e == 0)
			print_id(id);
		break;
	case PASSWD:
		/* Asked for the new passphrase only when there is one to
		 * replace. */
		if ((e = pk_keyring_migrate(r)) == 0 && !r->used.passphrase)
			e = pk_err(-EINVAL, "%s: opened with a key file, not a "
			    "passphrase: passwd replaces the passphrase that "
			    "opens it (unset PK_KEY_FILE)", argv[optind]);
		if (e == 0) {
			pass = pk_new_passphrase(newfile);
			e = pk_keyring_passwd(r, pass, strlen(pass), id);
		}
		if (e == 0)
			print_id(id);
		break;
	case REMOVE:
		if ((e = pk_keyring_remove(r, argv[optind + 1], id)) == 0 &&
		    r->used.how == PK_USED_KEY &&
		    memcmp(id, r->used.id, sizeof id) == 0)
			pk_warn("removed key %s, the one this run opened the "
			    "repository with: it opens it no more, the others "
			    "still do", argv[optind + 1]);
		break;
	}
	pk_passphrase_free(pass);
	pk_repo_close(r);
	if (e < 0)
		pk_die_lib(e);
	if (fflush(stdout) != 0)
		return PK_EXIT_FAIL;
	return PK_EXIT_OK;
}
