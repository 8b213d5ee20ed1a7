/*
 * NAME
 *	fuzz_authres - libFuzzer harness of authres.c: recognising existing
 *	Authentication-Results fields, and building ours from hostile strings
 * SYNOPSIS
 *	fuzz_authres [libFuzzer options] [CORPUS...]
 * DESCRIPTION
 *	The input is split at NUL bytes into fields: an authserv-id, an
 *	existing A-R value (as the MTA hands it over: folded, commented),
 *	then method, result, comment and property name/value pairs.
 *
 *	authres_servid_matches() reads the value against the id. Then a
 *	field is built with that id and one clause of the other fields, and
 *	formatted; the output must be a header value that cannot break the
 *	header section: every CR is followed by LF and every LF by a space
 *	or a tab, no other control character, no line of white space only.
 *	When the id is plain printable text, the field we format must be
 *	recognised as ours, and a field that claims another id of plain
 *	text must not be.
 * DIAGNOSTICS
 *	A broken invariant aborts (FUZZ_CHECK); libFuzzer reports it.
 */
#include "buildconf.h"

#include <stdint.h>
#include <string.h>

#include "authres.h"
#include "fuzz.h"

#define FUZZ_AR_PLAIN_MAX	64	/* bytes of an id checked for a match */

/*
 * fuzz_authres_plain - is the id text that authres_new() keeps as it is:
 * printable ASCII, single inner spaces, none at either end
 */
static bool
fuzz_authres_plain(const char *id)
{
	size_t len = strlen(id);

	if (len == 0 || len > FUZZ_AR_PLAIN_MAX || id[0] == ' ' ||
	    id[len - 1] == ' ')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (id[i] < 0x20 || id[i] > 0x7e)
			return false;
		if (id[i] == ' ' && id[i + 1] == ' ')
			return false;
	}
	return true;
}

/* fuzz_authres_folded_ok - the value is safe in a header section */
static void
fuzz_authres_folded_ok(const char *v)
{
	size_t i, len = strlen(v);
	bool content = true;	/* the current line has non-blank text */

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c == '\r') {
			FUZZ_CHECK(v[i + 1] == '\n');
			FUZZ_CHECK(v[i + 2] == ' ' || v[i + 2] == '\t');
			FUZZ_CHECK(content);
			content = false;
			i++;
			continue;
		}
		FUZZ_CHECK(c != '\n');
		FUZZ_CHECK(c >= 0x20 || c == '\t');
		FUZZ_CHECK(c != 0x7f);
		if (c != ' ' && c != '\t')
			content = true;
	}
	FUZZ_CHECK(content);
}

/* LLVMFuzzerTestOneInput - recognise, then build and format */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *f[FUZZ_MAX_FIELDS], *block, *out;
	const char *id, *value, *other = "";
	struct authres *ar;
	size_t n, i;
	const uint8_t *p = data;

	/* fields are NUL-separated: split by hand, fuzz_fields stops at NUL */
	block = malloc(size + 1);
	FUZZ_CHECK(block != NULL);
	memcpy(block, data, size);
	block[size] = '\0';
	for (n = 0, i = 0, f[n++] = block; i < size && n < FUZZ_MAX_FIELDS;
	    i++)
		if (p[i] == '\0')
			f[n++] = block + i + 1;
	id = f[0];
	value = n > 1 ? f[1] : "";

	(void)authres_servid_matches(value, id);

	ar = authres_new(id);
	authres_add(ar, n > 2 ? f[2] : "dkim", n > 3 ? f[3] : "pass",
	    n > 4 ? f[4] : NULL,
	    "header.d", n > 5 ? f[5] : "",
	    n > 6 ? f[6] : "smtp.mailfrom", n > 7 ? f[7] : "",
	    n > 8 ? f[8] : "header.b", n > 9 ? f[9] : "",
	    (const char *)NULL);
	if (n > 10)
		other = f[10];
	out = authres_format(ar);
	fuzz_authres_folded_ok(out);
	if (fuzz_authres_plain(id)) {
		FUZZ_CHECK(authres_servid_matches(out, id));
		if (fuzz_authres_plain(other) && strcasecmp(other, id) != 0)
			FUZZ_CHECK(!authres_servid_matches(out, other));
	}
	free(out);
	authres_free(ar);
	free(block);
	return 0;
}
