/*
 * NAME
 *	fuzz_dmarc - libFuzzer harness of dmarc.c: DMARC records, policy
 *	discovery, the tree walk and alignment over a DNS made of the input
 * SYNOPSIS
 *	fuzz_dmarc [libFuzzer options] [CORPUS...]
 * DESCRIPTION
 *	The input is text, one item per line:
 *
 *	line 1	the RFC5322.From domain
 *	line 2	options, one letter each: "7" RFC 7489 mode, "s" SPF pass,
 *		"S" SPF temperror, "d" DKIM pass, "D" DKIM temperror; a
 *		digit run is the pct= roll
 *	line 3	the SPF (MAIL FROM) domain
 *	line 4	DKIM d= domains, separated by ","
 *	then	DNS data, "NAME TYPE [DATA]": TYPE is TXT (DATA is the
 *		record, spaces included), A, SERVFAIL or TIMEOUT
 *
 *	Every DATA of a TXT line goes through dmarc_record_parse() first.
 *	Then dmarc_evaluate() runs against a lookup function that answers
 *	from those lines: records of the type asked at the name (any case,
 *	final dot ignored), the failure named there, NODATA when the name or
 *	a name below it exists, NXDOMAIN otherwise. dmarc_org_domain() and
 *	dmarc_prefetch_names() get the From domain too.
 *
 *	Checked beyond "no crash": a parsed record's fields are in range; a
 *	pass has disposition none and an aligned identifier; under adkim=s
 *	or aspf=s (of the one record at the policy domain) an aligned
 *	identifier equals the From domain: strict is never relaxed.
 * DIAGNOSTICS
 *	A broken invariant aborts (FUZZ_CHECK); libFuzzer reports it.
 */
#include "buildconf.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "dmarc.h"
#include "dns.h"
#include "fuzz.h"

#define FUZZ_DMARC_MAX_LINES	64	/* DNS data lines used */
#define FUZZ_DMARC_MAX_TEXTS	16	/* records in one answer */

/* One DNS data line. */
struct fuzz_rr {
	const char	*name;
	const char	*type;
	const char	*data;
};

struct fuzz_zone {
	struct fuzz_rr	 rr[FUZZ_DMARC_MAX_LINES];
	size_t		 n;
};

/* fuzz_dmarc_name_eq - DNS names equal, any case, final dots aside */
static bool
fuzz_dmarc_name_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* fuzz_dmarc_below - is name strictly below parent? */
static bool
fuzz_dmarc_below(const char *name, const char *parent)
{
	size_t n = strlen(name), p = strlen(parent);

	if (p > 0 && parent[p - 1] == '.')
		p--;
	if (n > 0 && name[n - 1] == '.')
		n--;
	return n > p + 1 && name[n - p - 1] == '.' &&
	    strncasecmp(name + n - p, parent, p) == 0;
}

/* fuzz_dmarc_lookup - the struct dmarc_dns lookup over the zone */
static struct dns_answer *
fuzz_dmarc_lookup(void *arg, const char *name, unsigned type)
{
	const struct fuzz_zone *z = arg;
	const char *texts[FUZZ_DMARC_MAX_TEXTS];
	const char *want = type == DNS_T_TXT ? "TXT" : type == DNS_T_A ?
	    "A" : "";
	size_t i, n = 0;
	bool exists = false;

	for (i = 0; i < z->n; i++) {
		const struct fuzz_rr *r = &z->rr[i];

		if (fuzz_dmarc_below(r->name, name))
			exists = true;
		if (!fuzz_dmarc_name_eq(r->name, name))
			continue;
		exists = true;
		if (strcmp(r->type, "SERVFAIL") == 0)
			return dns_answer_make(DNS_SERVFAIL, type, NULL, 0);
		if (strcmp(r->type, "TIMEOUT") == 0)
			return dns_answer_make(DNS_TIMEOUT, type, NULL, 0);
		if (strcmp(r->type, want) == 0 && n < FUZZ_DMARC_MAX_TEXTS)
			texts[n++] = type == DNS_T_A ? "192.0.2.1" : r->data;
	}
	if (n > 0)
		return dns_answer_make(DNS_OK, type, texts, n);
	return dns_answer_make(exists ? DNS_NODATA : DNS_NXDOMAIN, type,
	    NULL, 0);
}

/* fuzz_dmarc_record - one record through the parser; fields in range */
static enum dmarc_parse
fuzz_dmarc_record(const char *txt, struct dmarc_record *rec)
{
	char why[128];
	enum dmarc_parse pr;

	pr = dmarc_record_parse(txt, strlen(txt), rec, why, sizeof(why));
	FUZZ_CHECK(pr == DMARC_PARSE_OK || pr == DMARC_PARSE_NOT_DMARC ||
	    pr == DMARC_PARSE_INVALID);
	FUZZ_CHECK(strnlen(why, sizeof(why)) < sizeof(why));
	if (pr == DMARC_PARSE_OK) {
		FUZZ_CHECK(rec->p <= DMARC_POLICY_REJECT);
		FUZZ_CHECK(rec->sp <= DMARC_POLICY_REJECT);
		FUZZ_CHECK(rec->np <= DMARC_POLICY_REJECT);
		FUZZ_CHECK(rec->psd <= DMARC_PSD_NO);
		FUZZ_CHECK(rec->pct <= 100);
	}
	return pr;
}

/*
 * fuzz_dmarc_policy_record - the one DMARC record the zone has at
 * _dmarc.<domain>, as the evaluation saw it; false when not exactly one
 */
static bool
fuzz_dmarc_policy_record(const struct fuzz_zone *z, const char *domain,
    struct dmarc_record *rec)
{
	char qname[DNS_MAX_NAME + 16];
	struct dmarc_record r;
	size_t i, count = 0;

	snprintf(qname, sizeof(qname), "_dmarc.%s", domain);
	for (i = 0; i < z->n; i++) {
		if (strcmp(z->rr[i].type, "TXT") != 0 ||
		    !fuzz_dmarc_name_eq(z->rr[i].name, qname))
			continue;
		if (fuzz_dmarc_record(z->rr[i].data, &r) ==
		    DMARC_PARSE_NOT_DMARC)
			continue;
		if (++count == 1)
			*rec = r;
	}
	return count == 1;
}

/* fuzz_dmarc_strict - under strict alignment, only the From domain aligns */
static void
fuzz_dmarc_strict(const struct fuzz_zone *z, const struct dmarc_auth *auth,
    const struct dmarc_outcome *out)
{
	struct dmarc_record rec;
	bool found = false;
	size_t i;

	if (out->result != DMARC_RESULT_PASS ||
	    !fuzz_dmarc_policy_record(z, out->policy_domain, &rec))
		return;
	if (rec.aspf_strict && out->spf_aligned)
		FUZZ_CHECK(auth->spf_pass &&
		    fuzz_dmarc_name_eq(auth->spf_domain, out->header_from));
	if (rec.adkim_strict && out->dkim_aligned) {
		for (i = 0; i < auth->ndkim; i++)
			if (auth->dkim[i].pass && fuzz_dmarc_name_eq(
			    auth->dkim[i].domain, out->header_from))
				found = true;
		FUZZ_CHECK(found);
	}
}

/* LLVMFuzzerTestOneInput - parse the records, then evaluate */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line[4 + FUZZ_DMARC_MAX_LINES], *block, *save = NULL, *d;
	char names[DMARC_MAX_WALK][DNS_MAX_NAME + 1], org[DNS_MAX_NAME + 1];
	struct dmarc_dns dns = { fuzz_dmarc_lookup, NULL };
	struct dmarc_params params = { DMARC_MODE_RFC9989, 0 };
	struct dmarc_auth auth;
	struct dmarc_outcome out;
	struct dmarc_record rec;
	struct fuzz_zone zone;
	size_t n, i;

	n = fuzz_fields(data, size, '\n', line,
	    sizeof(line) / sizeof(line[0]), &block);
	for (i = n; i < 4; i++)
		line[i] = (char *)"";
	memset(&zone, 0, sizeof(zone));
	for (i = 4; i < n && zone.n < FUZZ_DMARC_MAX_LINES; i++) {
		struct fuzz_rr *r = &zone.rr[zone.n];
		char *sp;

		r->name = line[i];
		if ((sp = strchr(line[i], ' ')) == NULL)
			continue;
		*sp++ = '\0';
		r->type = sp;
		r->data = "";
		if ((sp = strchr(sp, ' ')) != NULL) {
			*sp++ = '\0';
			r->data = sp;
		}
		if (strcmp(r->type, "TXT") == 0)
			(void)fuzz_dmarc_record(r->data, &rec);
		zone.n++;
	}
	dns.arg = &zone;

	memset(&auth, 0, sizeof(auth));
	for (const char *o = line[1]; *o != '\0'; o++) {
		switch (*o) {
		case '7': params.mode = DMARC_MODE_RFC7489; break;
		case 's': auth.spf_pass = true; break;
		case 'S': auth.spf_temperror = true; break;
		default:
			if (*o >= '0' && *o <= '9')
				params.roll = (params.roll * 10 +
				    (unsigned)(*o - '0')) % 100;
			break;
		}
	}
	auth.spf_domain = line[2];
	for (d = strtok_r(line[3], ",", &save);
	    d != NULL && auth.ndkim < DMARC_MAX_DKIM;
	    d = strtok_r(NULL, ",", &save)) {
		auth.dkim[auth.ndkim].domain = d;
		auth.dkim[auth.ndkim].pass = strchr(line[1], 'd') != NULL;
		auth.dkim[auth.ndkim].temperror = strchr(line[1], 'D') != NULL;
		auth.ndkim++;
	}

	dmarc_evaluate(&dns, &params, line[0], &auth, &out);
	FUZZ_CHECK(out.result <= DMARC_RESULT_PERMERROR);
	FUZZ_CHECK(out.policy <= DMARC_POLICY_UNKNOWN);
	/* a policy DNS kept from us is never guessed, only ever a temperror */
	if (out.policy == DMARC_POLICY_UNKNOWN)
		FUZZ_CHECK(out.result == DMARC_RESULT_TEMPERROR);
	FUZZ_CHECK(out.disposition <= DMARC_POLICY_REJECT);
	FUZZ_CHECK(strnlen(out.reason, sizeof(out.reason)) <
	    sizeof(out.reason));
	if (out.result == DMARC_RESULT_PASS) {
		FUZZ_CHECK(out.disposition == DMARC_POLICY_NONE);
		FUZZ_CHECK(out.spf_aligned || out.dkim_aligned);
	}
	fuzz_dmarc_strict(&zone, &auth, &out);

	(void)dmarc_org_domain(&dns, params.mode, line[0], org, sizeof(org));
	FUZZ_CHECK(strnlen(org, sizeof(org)) < sizeof(org));
	n = dmarc_prefetch_names(line[0], names, DMARC_MAX_WALK);
	FUZZ_CHECK(n <= DMARC_MAX_WALK);
	for (i = 0; i < n; i++)
		FUZZ_CHECK(strncmp(names[i], "_dmarc.", 7) == 0);
	free(block);
	return 0;
}
