/*
 * NAME
 *	fuzz_addr - libFuzzer harness of addr.c: From values, envelopes,
 *	domain names
 * SYNOPSIS
 *	fuzz_addr [libFuzzer options] [CORPUS...]
 * DESCRIPTION
 *	The input is a From-style header value, given to addr_parse_list()
 *	with its exact length (the parser must not read past it, NUL bytes
 *	included), then as a C string to addr_from_mailbox(),
 *	addr_parse_envelope(), addr_domain_valid() and
 *	addr_domain_to_ascii().
 *
 *	Beyond "no crash", the documented contracts are checked: a list that
 *	parses holds at most ADDR_MAX_MAILBOXES mailboxes, each with a
 *	domain that is a domain literal or a valid domain name, lower-case,
 *	without a final dot; a syntax error leaves the list empty;
 *	addr_from_mailbox() agrees with addr_parse_list() on the same text;
 *	the A-label form of a valid domain is lower-case ASCII and itself a
 *	valid domain name.
 * DIAGNOSTICS
 *	A broken invariant aborts (FUZZ_CHECK); libFuzzer reports it as a
 *	crash and keeps the input.
 */
#include "buildconf.h"

#include <stdint.h>
#include <string.h>

#include "addr.h"
#include "dns.h"
#include "fuzz.h"

/* fuzz_addr_box_ok - one returned mailbox keeps the documented form */
static void
fuzz_addr_box_ok(const struct mailbox *mb)
{
	size_t dlen = strnlen(mb->domain, sizeof(mb->domain));

	FUZZ_CHECK(strnlen(mb->local, sizeof(mb->local)) < sizeof(mb->local));
	FUZZ_CHECK(dlen > 0 && dlen < sizeof(mb->domain));
	if (mb->domain[0] == '[') {
		FUZZ_CHECK(mb->domain[dlen - 1] == ']');
		return;
	}
	FUZZ_CHECK(addr_domain_valid(mb->domain));
	FUZZ_CHECK(mb->domain[dlen - 1] != '.');
	for (size_t i = 0; i < dlen; i++)
		FUZZ_CHECK(!(mb->domain[i] >= 'A' && mb->domain[i] <= 'Z'));
}

/* fuzz_addr_list - addr_parse_list over exactly size bytes */
static enum addr_status
fuzz_addr_list(const uint8_t *data, size_t size, struct addrlist *al)
{
	enum addr_status st = addr_parse_list((const char *)data, size, al);

	FUZZ_CHECK(al->count <= ADDR_MAX_MAILBOXES);
	if (st != ADDR_OK) {
		FUZZ_CHECK(st == ADDR_SYNTAX);
		FUZZ_CHECK(al->count == 0 && !al->truncated && !al->groups);
		return st;
	}
	FUZZ_CHECK(!al->truncated || al->count == ADDR_MAX_MAILBOXES);
	for (size_t i = 0; i < al->count; i++)
		fuzz_addr_box_ok(&al->box[i]);
	return st;
}

/* fuzz_addr_ascii - the A-label form, when there is one, is plain DNS */
static void
fuzz_addr_ascii(const char *s)
{
	char out[DNS_MAX_NAME + 1];

	/* its callers give it valid domains only (From, d=, MAIL FROM) */
	if (!addr_domain_to_ascii(s, out, sizeof(out)) ||
	    !addr_domain_valid(s))
		return;
	FUZZ_CHECK(out[0] != '\0');
	for (const char *p = out; *p != '\0'; p++)
		FUZZ_CHECK(*p > 0x20 && *p < 0x7f &&
		    !(*p >= 'A' && *p <= 'Z'));
	FUZZ_CHECK(addr_domain_valid(out));
}

/* LLVMFuzzerTestOneInput - one input through every parser of addr.c */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct addrlist al;
	struct mailbox mb;
	char why[128];
	char *s;
	bool one;

	fuzz_addr_list(data, size, &al);

	s = fuzz_strdup(data, size);
	one = addr_from_mailbox(s, &mb, why, sizeof(why));
	if (fuzz_addr_list((const uint8_t *)s, strlen(s), &al) == ADDR_OK &&
	    al.count == 1 && !al.truncated) {
		FUZZ_CHECK(one);
		FUZZ_CHECK(strcmp(mb.local, al.box[0].local) == 0);
		FUZZ_CHECK(strcmp(mb.domain, al.box[0].domain) == 0);
	} else
		FUZZ_CHECK(!one);

	if (addr_parse_envelope(s, &mb)) {
		if (mb.domain[0] != '\0')
			fuzz_addr_box_ok(&mb);
		else
			FUZZ_CHECK(mb.local[0] == '\0');	/* "<>" */
	} else
		FUZZ_CHECK(mb.local[0] == '\0' && mb.domain[0] == '\0');

	(void)addr_domain_valid(s);
	fuzz_addr_ascii(s);
	free(s);
	return 0;
}
