/*
 * NAME
 *	fuzz_tables - libFuzzer harness of keytable.c and signtable.c: the
 *	OpenDKIM-format KeyTable and SigningTable files
 * SYNOPSIS
 *	fuzz_tables [libFuzzer options] [CORPUS...]
 * DESCRIPTION
 *	At start-up the harness makes a private directory with an Ed25519
 *	key (made here, mode 0600). The input is split at the first line
 *	that is exactly "--": the part before is a KeyTable, the part after
 *	a SigningTable; "$D" stands for the directory (so a KeyTable line
 *	can name the key). Each is written to a file there and loaded:
 *	keytable_load(), then signtable_load() both as "refile:" (wildcard
 *	patterns) and as a plain file (OpenDKIM's lookup order). Every
 *	loaded SigningTable is matched against a few sender addresses, one
 *	of them taken from the first pattern.
 *
 *	Checked beyond "no crash": a refused table says why ("file:line:
 *	reason"); a match returns at most the number asked for, one without
 *	MultipleSignatures, each an entry of the table.
 * DIAGNOSTICS
 *	A broken invariant aborts (FUZZ_CHECK); libFuzzer reports it.
 */
#include "buildconf.h"

#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "keys.h"
#include "keytable.h"
#include "signtable.h"

#define FUZZ_TABLES_SPEC	(FUZZ_MAX_PATH + 16)
#define FUZZ_TABLES_LOCAL	64	/* bytes of a local part tried */

static char fuzz_kt_path[FUZZ_MAX_PATH];
static char fuzz_st_path[FUZZ_MAX_PATH];

/* fuzz_tables_match - match one address; results are table entries */
static void
fuzz_tables_match(const struct signtable *st, const char *local,
    const char *domain)
{
	const struct signentry *out[SIGNTABLE_MAX_MATCHES];
	size_t n;

	n = signtable_match(st, local, domain, true, out,
	    SIGNTABLE_MAX_MATCHES);
	FUZZ_CHECK(n <= SIGNTABLE_MAX_MATCHES);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(out[i] >= st->entries &&
		    out[i] < st->entries + st->count);
	n = signtable_match(st, local, domain, false, out,
	    SIGNTABLE_MAX_MATCHES);
	FUZZ_CHECK(n <= 1);
}

/* fuzz_tables_sign - load the SigningTable one way and match with it */
static void
fuzz_tables_sign(const char *prefix)
{
	char spec[FUZZ_TABLES_SPEC], err[1024] = "", *at;
	char local[FUZZ_TABLES_LOCAL];
	struct signtable *st;

	snprintf(spec, sizeof(spec), "%s%s", prefix, fuzz_st_path);
	st = signtable_load(spec, err, sizeof(err));
	if (st == NULL) {
		FUZZ_CHECK(err[0] != '\0');
		return;
	}
	fuzz_tables_match(st, "user", "example.com");
	fuzz_tables_match(st, "", "sub.example.org");
	if (st->count > 0 && (at = strchr(st->entries[0].pattern, '@')) !=
	    NULL && (size_t)(at - st->entries[0].pattern) < sizeof(local)) {
		memcpy(local, st->entries[0].pattern,
		    (size_t)(at - st->entries[0].pattern));
		local[at - st->entries[0].pattern] = '\0';
		fuzz_tables_match(st, local, at + 1);
	}
	signtable_free(st);
}

/* LLVMFuzzerInitialize - the key and the file names */
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
	fuzz_path("KeyTable", fuzz_kt_path, sizeof(fuzz_kt_path));
	fuzz_path("SigningTable", fuzz_st_path, sizeof(fuzz_st_path));
	return 0;
}

/* LLVMFuzzerTestOneInput - load both tables */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[1024] = "", *text, *sep;
	const char *st_text = "";
	struct keytable *kt;

	text = fuzz_subst(data, size);
	if (strncmp(text, "--\n", 3) == 0) {
		text[0] = '\0';
		st_text = text + 3;
	} else if ((sep = strstr(text, "\n--\n")) != NULL) {
		sep[1] = '\0';
		st_text = sep + 4;
	}
	fuzz_write(fuzz_kt_path, text, strlen(text));
	fuzz_write(fuzz_st_path, st_text, strlen(st_text));
	free(text);

	kt = keytable_new();
	if (!keytable_load(kt, fuzz_kt_path, true, 1024, err, sizeof(err)))
		FUZZ_CHECK(err[0] != '\0');
	else
		for (size_t i = 0; i < kt->count; i++)
			FUZZ_CHECK(keytable_find(kt, kt->entries[i].name) !=
			    NULL);
	keytable_free(kt);

	fuzz_tables_sign("refile:");
	fuzz_tables_sign("file:");
	fuzz_tables_sign("");
	return 0;
}
