/*
 * NAME
 *	fuzz_dns_reply - libFuzzer harness of dns.c's reply parser
 * SYNOPSIS
 *	fuzz_dns_reply [libFuzzer options] [CORPUS...]
 * DESCRIPTION
 *	The first byte of the input picks the type asked for (A, AAAA, MX,
 *	TXT, PTR or SPF); the rest is a raw DNS reply as a name server (or
 *	anyone able to spoof one) may send it, given to dns_parse_reply(),
 *	the parser behind every lookup: compressed names, pointer loops,
 *	counts that lie, rdata lengths past the end.
 *
 *	Checked beyond "no crash": the status is one the parser can give;
 *	only DNS_OK carries records, at most DNS_MAX_RECORDS of the type
 *	asked for; texts are NUL-terminated at their length and within
 *	DNS_MAX_TXT (TXT) or DNS_MAX_NAME (MX, PTR) bytes; TTLs are bounded.
 * DIAGNOSTICS
 *	A broken invariant aborts (FUZZ_CHECK); libFuzzer reports it.
 */
#include "buildconf.h"

#include <stdint.h>
#include <string.h>

#include "dns.h"
#include "fuzz.h"

static const unsigned fuzz_dns_types[] = {
	DNS_T_A, DNS_T_AAAA, DNS_T_MX, DNS_T_TXT, DNS_T_PTR, DNS_T_SPF,
};
#define FUZZ_DNS_NTYPES	(sizeof(fuzz_dns_types) / sizeof(fuzz_dns_types[0]))

/* fuzz_dns_record_ok - one record of an answer keeps the documented form */
static void
fuzz_dns_record_ok(const struct dns_answer *a, const struct dns_record *r)
{
	FUZZ_CHECK(r->type == a->type);
	FUZZ_CHECK(r->ttl <= DNS_TTL_MAX);
	switch (r->type) {
	case DNS_T_TXT:
	case DNS_T_SPF:
		FUZZ_CHECK(r->text != NULL && r->len <= DNS_MAX_TXT);
		FUZZ_CHECK(r->text[r->len] == '\0');
		break;
	case DNS_T_MX:
	case DNS_T_PTR:
		FUZZ_CHECK(r->text != NULL && r->len <= DNS_MAX_NAME);
		FUZZ_CHECK(strlen(r->text) == r->len);
		for (size_t i = 0; i < r->len; i++)
			FUZZ_CHECK(!(r->text[i] >= 'A' && r->text[i] <= 'Z'));
		FUZZ_CHECK(r->pref <= 65535);
		break;
	default:
		FUZZ_CHECK(r->text == NULL);
		break;
	}
}

/* LLVMFuzzerTestOneInput - parse one reply for one type */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_answer *a;
	unsigned type;

	if (size == 0)
		return 0;
	type = fuzz_dns_types[data[0] % FUZZ_DNS_NTYPES];
	a = dns_parse_reply(type, data + 1, size - 1);
	FUZZ_CHECK(a != NULL);
	FUZZ_CHECK(a->type == type);
	FUZZ_CHECK(a->status == DNS_OK || a->status == DNS_NODATA ||
	    a->status == DNS_NXDOMAIN || a->status == DNS_SERVFAIL);
	FUZZ_CHECK(a->nrecords <= DNS_MAX_RECORDS);
	FUZZ_CHECK((a->status == DNS_OK) == (a->nrecords > 0));
	if (a->status == DNS_OK)
		FUZZ_CHECK(a->ttl <= DNS_TTL_MAX);
	else
		FUZZ_CHECK(a->ttl <= DNS_NEG_TTL_MAX && !a->truncated);
	for (size_t i = 0; i < a->nrecords; i++)
		fuzz_dns_record_ok(a, &a->records[i]);
	if (size - 1 <= DNS_MAX_WIRE) {
		FUZZ_CHECK(a->wirelen == size - 1);
		FUZZ_CHECK(size == 1 || memcmp(a->wire, data + 1,
		    size - 1) == 0);
	}
	dns_answer_free(a);
	return 0;
}
