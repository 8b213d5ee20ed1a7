/*
 * NAME
 *	fuzz_dkimverify - libFuzzer harness of dkimverify.c: DKIM-Signature
 *	tag checks (dkimv_sig_check, dkimv_sig_domain) and a message through
 *	the verifier
 * SYNOPSIS
 *	fuzz_dkimverify [libFuzzer options] [CORPUS...]
 * DESCRIPTION
 *	The input is a message, split by message_read() as the command line
 *	does. Every DKIM-Signature value goes to dkimv_sig_check(), our check
 *	of the RFC 6376 tag-list and bounds that decides what may reach
 *	libopendkim, and to dkimv_sig_domain(), which picks d= for the early
 *	DNS queries. Then the whole message goes through one verification
 *	(dkimv_header() for each field, dkimv_eoh(), dkimv_body(),
 *	dkimv_eom()) with no DNS service: every key lookup fails at once, so
 *	what runs is libopendkim's parsing of the signatures, and our glue
 *	around it (the limit on signatures, the canonical body length
 *	counters behind l=, the mapping of each signature to a result).
 *
 *	Checked beyond "no crash": a signature that passes the check is
 *	within DKIMV_MAX_SIG_BYTES and has a valid d= (lower case) and s=; a
 *	refused one has a reason; the d= reader agrees with the check; at
 *	most MaximumSignaturesToVerify results come back, each with a known
 *	result and NUL-terminated fields; with no DNS, none is a pass.
 * DIAGNOSTICS
 *	A broken invariant aborts (FUZZ_CHECK); libFuzzer reports it.
 */
#include "buildconf.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "addr.h"
#include "dkimverify.h"
#include "dns.h"
#include "fuzz.h"
#include "message.h"

#define FUZZ_DKIMV_MAX_SIGS	5	/* MaximumSignaturesToVerify default */
#define FUZZ_DKIMV_TIMEOUT	1	/* seconds (never waited for) */
#define FUZZ_DKIMV_WHY		256	/* bytes of a permerror reason */

static struct dkimv_ctx *fuzz_dkimv_ctx;

/* fuzz_dkimv_lower - no ASCII upper case in s */
static bool
fuzz_dkimv_lower(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			return false;
	return true;
}

/*
 * fuzz_dkimv_sig - one DKIM-Signature value to the checker and the d=
 * reader: what passes is within the bounds, with a valid d= and s=, and
 * the two agree
 */
static void
fuzz_dkimv_sig(const char *value)
{
	char d[DNS_MAX_NAME + 1], why[FUZZ_DKIMV_WHY] = "";
	struct dkimv_tags t;
	time_t now = time(NULL);
	bool ok, got_d;

	ok = dkimv_sig_check(value, now, &t, why, sizeof(why));
	got_d = dkimv_sig_domain(value, d, sizeof(d));
	FUZZ_CHECK(memchr(t.domain, '\0', sizeof(t.domain)) != NULL);
	FUZZ_CHECK(memchr(t.selector, '\0', sizeof(t.selector)) != NULL);
	FUZZ_CHECK(memchr(t.algorithm, '\0', sizeof(t.algorithm)) != NULL);
	FUZZ_CHECK(memchr(t.b, '\0', sizeof(t.b)) != NULL);
	if (!ok) {
		FUZZ_CHECK(why[0] != '\0');
		/* x= may have passed between the two calls: then both agree */
		FUZZ_CHECK(!got_d || time(NULL) != now);
		return;
	}
	FUZZ_CHECK(strnlen(value, DKIMV_MAX_SIG_BYTES + 1) <=
	    DKIMV_MAX_SIG_BYTES);
	FUZZ_CHECK(t.domain[0] != '\0' && dkimv_domain_valid(t.domain));
	FUZZ_CHECK(addr_domain_valid(t.domain) && fuzz_dkimv_lower(t.domain));
	FUZZ_CHECK(t.selector[0] != '\0' &&
	    dkimv_selector_valid(t.selector));
	if (time(NULL) == now) {
		FUZZ_CHECK(got_d);
		FUZZ_CHECK(strcmp(d, t.domain) == 0);
	}
}

/* fuzz_dkimv_header - one field to the tag checker and the verifier */
static void
fuzz_dkimv_header(void *arg, const char *name, const char *value)
{
	if (strcasecmp(name, "DKIM-Signature") == 0)
		fuzz_dkimv_sig(value);
	dkimv_header(arg, name, value);
}

/* fuzz_dkimv_eoh - end of headers */
static bool
fuzz_dkimv_eoh(void *arg)
{
	return dkimv_eoh(arg);
}

/* fuzz_dkimv_body - a body chunk */
static void
fuzz_dkimv_body(void *arg, const unsigned char *data, size_t len)
{
	dkimv_body(arg, data, len);
}

/* LLVMFuzzerInitialize - one libopendkim handle, without DNS */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	(void)argc;
	(void)argv;
	fuzz_dkimv_ctx = dkimv_ctx_new(NULL, FUZZ_DKIMV_TIMEOUT, err,
	    sizeof(err));
	FUZZ_CHECK(fuzz_dkimv_ctx != NULL);
	/* the query hooks get a NULL service: every lookup fails at once */
	dkimv_ctx_set_dns(fuzz_dkimv_ctx, NULL);
	return 0;
}

/* LLVMFuzzerTestOneInput - verify one message */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dkimv_sig sig[DKIMV_MAX_SIGS];
	struct message_sink sink = {
		fuzz_dkimv_header, fuzz_dkimv_eoh, fuzz_dkimv_body, NULL
	};
	struct timespec deadline;
	struct dkimv *v;
	char err[256];
	size_t n;
	bool crlf;
	FILE *fp;

	if (size == 0)
		return 0;
	v = dkimv_new(fuzz_dkimv_ctx, "fuzz", FUZZ_DKIMV_MAX_SIGS, false);
	FUZZ_CHECK(v != NULL);
	sink.arg = v;
	fp = fmemopen((void *)data, size, "r");
	FUZZ_CHECK(fp != NULL);
	(void)message_read(fp, &sink, &crlf, err, sizeof(err));
	fclose(fp);
	dns_deadline(&deadline, 0);
	n = dkimv_eom(v, &deadline, sig, DKIMV_MAX_SIGS);
	FUZZ_CHECK(n <= FUZZ_DKIMV_MAX_SIGS);
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(sig[i].result <= DKIMV_PERMERROR);
		FUZZ_CHECK(sig[i].result != DKIMV_PASS);
		FUZZ_CHECK(memchr(sig[i].domain, '\0',
		    sizeof(sig[i].domain)) != NULL);
		FUZZ_CHECK(memchr(sig[i].selector, '\0',
		    sizeof(sig[i].selector)) != NULL);
		FUZZ_CHECK(memchr(sig[i].b, '\0', sizeof(sig[i].b)) != NULL);
		FUZZ_CHECK(memchr(sig[i].reason, '\0',
		    sizeof(sig[i].reason)) != NULL);
	}
	dkimv_free(v);
	return 0;
}
