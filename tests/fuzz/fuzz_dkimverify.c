/*
 * NAME
 *	fuzz_dkimverify - libFuzzer harness of dkimverify.c: DKIM-Signature
 *	tags read early (dkimv_sig_domain) and a message through the
 *	verifier
 * SYNOPSIS
 *	fuzz_dkimverify [libFuzzer options] [CORPUS...]
 * DESCRIPTION
 *	The input is a message, split by message_read() as the command line
 *	does. Every DKIM-Signature value goes to dkimv_sig_domain(), the tag
 *	reader that picks d= before libopendkim has seen the field. Then the
 *	whole message goes through one verification (dkimv_header() for each
 *	field, dkimv_eoh(), dkimv_body(), dkimv_eom()) with no DNS service:
 *	every key lookup fails at once, so what runs is libopendkim's
 *	parsing of the signatures, and our glue around it (the limit on
 *	signatures, the canonical body length counters behind l=, the
 *	mapping of each signature to a result).
 *
 *	Checked beyond "no crash": a d= taken is a valid domain name in
 *	lower case; at most MaximumSignaturesToVerify results come back,
 *	each with a known result and NUL-terminated fields; with no DNS,
 *	none is a pass.
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

static struct dkimv_ctx *fuzz_dkimv_ctx;

/* fuzz_dkimv_header - one field to the tag reader and the verifier */
static void
fuzz_dkimv_header(void *arg, const char *name, const char *value)
{
	char d[DNS_MAX_NAME + 1];

	if (strcasecmp(name, "DKIM-Signature") == 0 &&
	    dkimv_sig_domain(value, d, sizeof(d))) {
		FUZZ_CHECK(addr_domain_valid(d));
		for (const char *p = d; *p != '\0'; p++)
			FUZZ_CHECK(!(*p >= 'A' && *p <= 'Z'));
	}
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
