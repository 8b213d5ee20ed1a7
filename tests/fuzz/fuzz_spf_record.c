/*
 * NAME
 *	fuzz_spf_record - libFuzzer harness of spf.c's record checker and
 *	identity checks
 * SYNOPSIS
 *	fuzz_spf_record [libFuzzer options] [CORPUS...]
 * DESCRIPTION
 *	The input is an SPF TXT record of exactly its length (NUL bytes
 *	included), given to spf_record_valid(), which decides whether
 *	libspf2 may ever see it. As a C string it is also given to
 *	spf_domain_valid(), spf_addr_parse() and to spf_macro_valid() in
 *	both of its forms.
 *
 *	Checked beyond "no crash": the record checker writes a reason when
 *	it refuses, and refuses anything but visible ASCII and spaces, and
 *	anything that does not start with "v=spf1"; a valid identity domain
 *	has a dot and is at most 253 bytes without its final dot; a parsed
 *	address is IPv4 or IPv6.
 * DIAGNOSTICS
 *	A broken invariant aborts (FUZZ_CHECK); libFuzzer reports it.
 */
#include "buildconf.h"

#include <sys/socket.h>

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "dns.h"
#include "fuzz.h"
#include "spf.h"

/* fuzz_spf_visible - only visible ASCII and spaces in len bytes? */
static bool
fuzz_spf_visible(const uint8_t *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

/* LLVMFuzzerTestOneInput - the record, then the other checks */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256] = "";
	struct spf_addr addr;
	char *s;
	size_t len;

	if (spf_record_valid((const char *)data, size, why, sizeof(why))) {
		FUZZ_CHECK(fuzz_spf_visible(data, size));
		FUZZ_CHECK(size >= 6 &&
		    strncasecmp((const char *)data, "v=spf1", 6) == 0);
	} else
		FUZZ_CHECK(why[0] != '\0');
	FUZZ_CHECK(strnlen(why, sizeof(why)) < sizeof(why));

	s = fuzz_strdup(data, size);
	if (spf_domain_valid(s)) {
		len = strlen(s);
		if (s[len - 1] == '.')
			len--;
		FUZZ_CHECK(len > 0 && len <= DNS_MAX_NAME);
		FUZZ_CHECK(memchr(s, '.', len) != NULL);
	}
	if (spf_addr_parse(s, &addr))
		FUZZ_CHECK(addr.family == AF_INET || addr.family == AF_INET6);
	(void)spf_macro_valid((const char *)data, size, false);
	(void)spf_macro_valid((const char *)data, size, true);
	free(s);
	return 0;
}
