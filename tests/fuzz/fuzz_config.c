/*
 * NAME
 *	fuzz_config - libFuzzer harness of config.c: authmilter.conf(5) as
 *	config_load() reads it, with the files it may name
 * SYNOPSIS
 *	fuzz_config [libFuzzer options] [CORPUS...]
 * DESCRIPTION
 *	At start-up the harness makes a private directory with an Ed25519
 *	key (made here, mode 0600), a KeyTable, a SigningTable, a list of
 *	networks and a list of domains. The input is a configuration file
 *	in which "$D" stands for that directory (so seeds can name those
 *	files), written to the directory and given to config_load(), which
 *	also reads every file the configuration names and builds the
 *	libopendkim handles.
 *
 *	Checked beyond "no crash": a refused configuration says why, naming
 *	the file; a loaded one has a signing table whose every key name is
 *	in the KeyTable, an authserv-id, and a DNS budget no shorter than
 *	the DNS timeout.
 * DIAGNOSTICS
 *	A broken invariant aborts (FUZZ_CHECK); libFuzzer reports it.
 */
#include "buildconf.h"

#include <stdint.h>
#include <string.h>

#include "config.h"
#include "fuzz.h"
#include "keys.h"
#include "keytable.h"
#include "signtable.h"

static char fuzz_conf_path[FUZZ_MAX_PATH];

/* fuzz_conf_file - write one helper file, "$D" replaced by the directory */
static void
fuzz_conf_file(const char *name, const char *text)
{
	char path[FUZZ_MAX_PATH], *s;

	s = fuzz_subst((const uint8_t *)text, strlen(text));
	fuzz_write(fuzz_path(name, path, sizeof(path)), s, strlen(s));
	free(s);
}

/* LLVMFuzzerInitialize - the key and the table files */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[FUZZ_MAX_PATH], err[256], *txt = NULL;

	(void)argc;
	(void)argv;
	FUZZ_CHECK(keys_generate(KEY_ALG_ED25519, 0,
	    fuzz_path("key.pem", path, sizeof(path)), &txt, err,
	    sizeof(err)));
	free(txt);
	fuzz_conf_file("KeyTable", "k1 example.com:sel:$D/key.pem\n"
	    "k2 %:other:$D/key.pem\n");
	fuzz_conf_file("SigningTable", "*@example.com k1\n*@*.example k2\n");
	fuzz_conf_file("hosts", "127.0.0.0/8\n# comment\n::1\n"
	    "!192.0.2.1\n192.0.2.0/24\n");
	fuzz_conf_file("domains", "example.org\nlists.example.net\n");
	fuzz_path("authmilter.conf", fuzz_conf_path, sizeof(fuzz_conf_path));
	return 0;
}

/* LLVMFuzzerTestOneInput - load one configuration */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[CONFIG_ERRLEN] = "";
	struct config *cfg;
	char *text;

	text = fuzz_subst(data, size);
	fuzz_write(fuzz_conf_path, text, strlen(text));
	free(text);
	cfg = config_load(fuzz_conf_path, err, sizeof(err));
	if (cfg == NULL) {
		FUZZ_CHECK(err[0] != '\0');
		FUZZ_CHECK(strstr(err, ": ") != NULL);
		return 0;
	}
	FUZZ_CHECK(cfg->keytable != NULL);
	if (cfg->signtable != NULL)
		for (size_t i = 0; i < cfg->signtable->count; i++) {
			const char *k = cfg->signtable->entries[i].keyname;

			FUZZ_CHECK(strcmp(k, "%") == 0 ||
			    keytable_find(cfg->keytable, k) != NULL);
		}
	FUZZ_CHECK(config_authserv_id(cfg) != NULL);
	FUZZ_CHECK(cfg->dns_timeout <= cfg->dns_budget);
	config_unref(cfg);
	return 0;
}
