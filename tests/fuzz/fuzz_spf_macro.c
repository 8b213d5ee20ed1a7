/*
 * NAME
 *	fuzz_spf_macro - libFuzzer harness of spf.c's macro expander
 * SYNOPSIS
 *	fuzz_spf_macro [libFuzzer options] [CORPUS...]
 * DESCRIPTION
 *	The input is split at newlines: the macro-string, then the client
 *	address, the local-part, the domain, the current domain (%{d}), the
 *	HELO name and the receiver. spf_macro_expand() expands the string
 *	both as a domain-spec and as explanation text, exactly as
 *	check_host() would (libspf2's own expander, CVE-2021-20314, is never
 *	used).
 *
 *	Checked beyond "no crash": a domain-spec expands to at most 253
 *	bytes; an expansion exists only for a valid
 *	macro-string; an explanation stays within the expander's bound.
 * DIAGNOSTICS
 *	A broken invariant aborts (FUZZ_CHECK); libFuzzer reports it.
 */
#include "buildconf.h"

#include <stdint.h>
#include <string.h>

#include "dns.h"
#include "fuzz.h"
#include "spf.h"

#define FUZZ_SPF_EXPAND_MAX	16384	/* spf.c's SPF_MAX_EXPAND */
#define FUZZ_SPF_FIELDS		7

/* LLVMFuzzerTestOneInput - expand one macro-string for one identity */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *f[FUZZ_SPF_FIELDS], *block, *out;
	struct spf_macro_env env;
	size_t n, len;

	n = fuzz_fields(data, size, '\n', f, FUZZ_SPF_FIELDS, &block);
	env.client_ip = n > 1 ? f[1] : "192.0.2.3";
	env.local = n > 2 ? f[2] : "strong-bad";
	env.domain = n > 3 ? f[3] : "email.example.com";
	env.current = n > 4 ? f[4] : NULL;
	env.helo = n > 5 ? f[5] : NULL;
	env.receiver = n > 6 ? f[6] : NULL;
	len = strlen(f[0]);

	out = spf_macro_expand(&env, f[0], len, false);
	if (out != NULL) {
		size_t olen = strlen(out);

		FUZZ_CHECK(spf_macro_valid(f[0], len, false));
		FUZZ_CHECK(olen <= DNS_MAX_NAME);
		free(out);
	}
	out = spf_macro_expand(&env, f[0], len, true);
	if (out != NULL) {
		FUZZ_CHECK(spf_macro_valid(f[0], len, true));
		FUZZ_CHECK(strlen(out) <= FUZZ_SPF_EXPAND_MAX);
		free(out);
	}
	free(block);
	return 0;
}
