/*
 * test_dmarc.c - unit tests of dmarc.c: record parsing, the RFC 9989 DNS
 * tree walk and policy discovery (psd=, np=, sp=, t=, several records,
 * DNS errors), strict and relaxed alignment, and RFC 7489 mode with the
 * Public Suffix List and pct=.
 *
 * DNS is a table: each test lists the answers, fake_lookup() builds them
 * with dns_answer_make() and logs every query ("TXT _dmarc.example.com"),
 * so the tests can check which names the walk asked for, in what order.
 * A name not in the table is NXDOMAIN for TXT and NODATA (the name
 * exists) for A, AAAA and MX.
 */
#include "buildconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "dmarc.h"
#include "dns.h"

#define FAKE_MAX_TXT	4	/* TXT records per table entry */
#define FAKE_MAX_LOG	160	/* queries remembered */
#define FAKE_ANY	0	/* table type: every type */

struct fake_rr {
	const char	*name;
	unsigned	 type;		/* DNS_T_*, or FAKE_ANY */
	enum dns_status	 st;
	const char	*txt[FAKE_MAX_TXT];
};

struct fake {
	const struct fake_rr *rr;
	size_t		 n;
	char		 log[FAKE_MAX_LOG][DNS_MAX_NAME + 8];
	size_t		 nlog;
};

static struct fake fk;
static struct dmarc_outcome out;

/* fake_type - the name of a query type, for the log */
static const char *
fake_type(unsigned type)
{
	switch (type) {
	case DNS_T_TXT:		return "TXT";
	case DNS_T_A:		return "A";
	case DNS_T_AAAA:	return "AAAA";
	case DNS_T_MX:		return "MX";
	default:		return "?";
	}
}

/* fake_lookup - the struct dmarc_dns lookup over the table in fk */
static struct dns_answer *
fake_lookup(void *arg, const char *name, unsigned type)
{
	struct fake *f = arg;
	size_t i, n;

	if (f->nlog < FAKE_MAX_LOG)
		snprintf(f->log[f->nlog++], sizeof(f->log[0]), "%s %s",
		    fake_type(type), name);
	for (i = 0; i < f->n; i++) {
		if (strcasecmp(f->rr[i].name, name) != 0 ||
		    (f->rr[i].type != FAKE_ANY && f->rr[i].type != type))
			continue;
		for (n = 0; n < FAKE_MAX_TXT && f->rr[i].txt[n] != NULL; n++)
			;
		return dns_answer_make(f->rr[i].st, type,
		    f->rr[i].st == DNS_OK ? f->rr[i].txt : NULL,
		    f->rr[i].st == DNS_OK ? n : 0);
	}
	return dns_answer_make(type == DNS_T_TXT ? DNS_NXDOMAIN : DNS_NODATA,
	    type, NULL, 0);
}

static const struct dmarc_dns fake_dns = { fake_lookup, &fk };

#define FAKE(t)	fake_set((t), sizeof(t) / sizeof((t)[0]))

/* fake_set - use this table from now on, with an empty log */
static void
fake_set(const struct fake_rr *rr, size_t n)
{
	memset(&fk, 0, sizeof(fk));
	fk.rr = rr;
	fk.n = n;
}

/* fake_count - how many logged queries start with prefix */
static size_t
fake_count(const char *prefix)
{
	size_t i, n = 0;

	for (i = 0; i < fk.nlog; i++)
		if (strncmp(fk.log[i], prefix, strlen(prefix)) == 0)
			n++;
	return n;
}

/* fake_asked - was exactly this query made? */
static bool
fake_asked(const char *q)
{
	size_t i;

	for (i = 0; i < fk.nlog; i++)
		if (strcmp(fk.log[i], q) == 0)
			return true;
	return false;
}

/* expect_log - the queries made were exactly these, in this order */
static void
expect_log(const char *const *q, size_t n)
{
	size_t i;

	for (i = 0; i < n && i < fk.nlog; i++)
		assert_string_equal(fk.log[i], q[i]);
	assert_int_equal(fk.nlog, n);
}

/* --- building the authentication results --------------------------------- */

/* auth_none - no SPF, no DKIM */
static struct dmarc_auth
auth_none(void)
{
	struct dmarc_auth a;

	memset(&a, 0, sizeof(a));
	return a;
}

/* auth_spf - an SPF result for the MAIL FROM domain */
static struct dmarc_auth
auth_spf(const char *domain, bool pass)
{
	struct dmarc_auth a = auth_none();

	a.spf_domain = domain;
	a.spf_pass = pass;
	return a;
}

/* auth_dkim - add one DKIM result */
static void
auth_dkim(struct dmarc_auth *a, const char *d, bool pass, bool temperror)
{
	a->dkim[a->ndkim].domain = d;
	a->dkim[a->ndkim].pass = pass;
	a->dkim[a->ndkim].temperror = temperror;
	a->ndkim++;
}

/* eval - dmarc_evaluate over the current table into out */
static void
eval(enum dmarc_mode mode, unsigned roll, const char *from,
    const struct dmarc_auth *auth)
{
	struct dmarc_params p = { .mode = mode, .roll = roll };

	memset(&out, 0xa5, sizeof(out));	/* all must be filled in */
	dmarc_evaluate(&fake_dns, &p, from, auth, &out);
}

/* eval9989 - RFC 9989 evaluation */
static void
eval9989(const char *from, const struct dmarc_auth *auth)
{
	eval(DMARC_MODE_RFC9989, 0, from, auth);
}

/* --- record parsing ------------------------------------------------------ */

static struct dmarc_record rec;
static char why[128];

/* parse - dmarc_record_parse of a C string through an exact-size copy */
static enum dmarc_parse
parse_n(const char *s, size_t n)
{
	char *copy = malloc(n ? n : 1);
	enum dmarc_parse r;

	assert_non_null(copy);
	memcpy(copy, s, n);
	r = dmarc_record_parse(copy, n, &rec, why, sizeof(why));
	free(copy);
	return r;
}

static enum dmarc_parse
parse(const char *s)
{
	return parse_n(s, strlen(s));
}

static void
test_parse_full(void **state)
{
	(void)state;
	assert_int_equal(parse("v=DMARC1; p=reject; sp=quarantine; np=none; "
	    "adkim=s; aspf=s; psd=n; t=y; rua=mailto:d@example.com; "
	    "ruf=mailto:f@example.com; fo=1"), DMARC_PARSE_OK);
	assert_int_equal(rec.p, DMARC_POLICY_REJECT);
	assert_int_equal(rec.sp, DMARC_POLICY_QUARANTINE);
	assert_int_equal(rec.np, DMARC_POLICY_NONE);
	assert_true(rec.adkim_strict);
	assert_true(rec.aspf_strict);
	assert_int_equal(rec.psd, DMARC_PSD_NO);
	assert_true(rec.testing);
	assert_int_equal(rec.pct, 100);
}

static void
test_parse_defaults(void **state)
{
	(void)state;
	assert_int_equal(parse("v=DMARC1; p=none"), DMARC_PARSE_OK);
	assert_int_equal(rec.p, DMARC_POLICY_NONE);
	assert_int_equal(rec.sp, DMARC_POLICY_UNSET);
	assert_int_equal(rec.np, DMARC_POLICY_UNSET);
	assert_false(rec.adkim_strict);
	assert_false(rec.aspf_strict);
	assert_int_equal(rec.psd, DMARC_PSD_UNSET);
	assert_false(rec.testing);
	assert_int_equal(parse("v=DMARC1; p=none; psd=u"), DMARC_PARSE_OK);
	assert_int_equal(rec.psd, DMARC_PSD_UNSET);
	assert_int_equal(parse("v=DMARC1; p=none; psd=y;"), DMARC_PARSE_OK);
	assert_int_equal(rec.psd, DMARC_PSD_YES);
}

static void
test_parse_case_and_space(void **state)
{
	(void)state;
	assert_int_equal(parse("  V = DMARC1 ;P=Reject ;\tADKIM = S ;  "
	    "t = Y  ; SP=QUARANTINE;;"), DMARC_PARSE_OK);
	assert_int_equal(rec.p, DMARC_POLICY_REJECT);
	assert_int_equal(rec.sp, DMARC_POLICY_QUARANTINE);
	assert_true(rec.adkim_strict);
	assert_true(rec.testing);
	assert_int_equal(parse("v=DMARC1;p=quarantine"), DMARC_PARSE_OK);
	assert_int_equal(rec.p, DMARC_POLICY_QUARANTINE);
}

static void
test_parse_not_dmarc(void **state)
{
	(void)state;
	assert_int_equal(parse("p=reject; v=DMARC1"), DMARC_PARSE_NOT_DMARC);
	assert_int_equal(parse("v=dmarc1; p=reject"), DMARC_PARSE_NOT_DMARC);
	assert_int_equal(parse("v=DMARC2; p=reject"), DMARC_PARSE_NOT_DMARC);
	assert_int_equal(parse("v=DMARC1p=reject"), DMARC_PARSE_NOT_DMARC);
	assert_int_equal(parse("v=spf1 -all"), DMARC_PARSE_NOT_DMARC);
	assert_int_equal(parse(""), DMARC_PARSE_NOT_DMARC);
	assert_int_equal(parse("   "), DMARC_PARSE_NOT_DMARC);
	assert_int_equal(parse(";v=DMARC1; p=none"), DMARC_PARSE_NOT_DMARC);
	assert_int_equal(parse("x; v=DMARC1; p=none"), DMARC_PARSE_NOT_DMARC);
	assert_int_equal(dmarc_record_parse(NULL, 0, &rec, NULL, 0),
	    DMARC_PARSE_NOT_DMARC);
}

static void
test_parse_unknown_tags(void **state)
{
	(void)state;
	assert_int_equal(parse("v=DMARC1; p=reject; foo=bar; x-y=1; "
	    "pct=20; rf=afrf; ri=3600; zz=;"), DMARC_PARSE_OK);
	assert_int_equal(rec.p, DMARC_POLICY_REJECT);
	assert_int_equal(rec.pct, 100);	/* pct is gone in RFC 9989 */
	/* a tag without "=" is a syntax error, ignored */
	assert_int_equal(parse("v=DMARC1; garbage; p=reject; =x; 5=6"),
	    DMARC_PARSE_OK);
	assert_int_equal(rec.p, DMARC_POLICY_REJECT);
	/* unknown tags may repeat */
	assert_int_equal(parse("v=DMARC1; p=none; x=1; x=2"), DMARC_PARSE_OK);
}

static void
test_parse_bad_values_default(void **state)
{
	(void)state;
	assert_int_equal(parse("v=DMARC1; p=reject; adkim=x; aspf=; "
	    "psd=maybe; t=yes"), DMARC_PARSE_OK);
	assert_int_equal(rec.p, DMARC_POLICY_REJECT);
	assert_false(rec.adkim_strict);
	assert_false(rec.aspf_strict);
	assert_int_equal(rec.psd, DMARC_PSD_UNSET);
	assert_false(rec.testing);
}

static void
test_parse_bad_policy(void **state)
{
	(void)state;
	/* 4.10.1: no rua -> no DMARC processing (INVALID: permerror) */
	assert_int_equal(parse("v=DMARC1; p=bogus"), DMARC_PARSE_INVALID);
	assert_non_null(strstr(why, "p="));
	assert_int_equal(parse("v=DMARC1; p="), DMARC_PARSE_INVALID);
	assert_int_equal(parse("v=DMARC1; p=reject; sp=maybe"),
	    DMARC_PARSE_INVALID);
	assert_int_equal(parse("v=DMARC1; p=reject; np=all"),
	    DMARC_PARSE_INVALID);
	/* with a valid rua: as if p=none */
	assert_int_equal(parse("v=DMARC1; p=bogus; rua=mailto:r@example.com"),
	    DMARC_PARSE_OK);
	assert_int_equal(rec.p, DMARC_POLICY_NONE);
	assert_int_equal(parse("v=DMARC1; p=reject; sp=x; np=reject; "
	    "rua=mailto:r@example.com"), DMARC_PARSE_OK);
	assert_int_equal(rec.p, DMARC_POLICY_NONE);
	assert_int_equal(rec.sp, DMARC_POLICY_UNSET);
	assert_int_equal(rec.np, DMARC_POLICY_UNSET);
	/* a rua with no valid URI does not count */
	assert_int_equal(parse("v=DMARC1; p=bogus; rua=not a uri"),
	    DMARC_PARSE_INVALID);
	assert_int_equal(parse("v=DMARC1; p=bogus; rua=junk, "
	    "mailto:r@example.com"), DMARC_PARSE_OK);
}

static void
test_parse_missing_p(void **state)
{
	(void)state;
	assert_int_equal(parse("v=DMARC1"), DMARC_PARSE_OK);
	assert_int_equal(rec.p, DMARC_POLICY_UNSET);
	assert_int_equal(parse("v=DMARC1; sp=reject; adkim=s"),
	    DMARC_PARSE_OK);
	assert_int_equal(rec.p, DMARC_POLICY_UNSET);
	assert_int_equal(parse("v=DMARC1; rua=mailto:r@example.com"),
	    DMARC_PARSE_OK);
	assert_int_equal(rec.p, DMARC_POLICY_NONE);
	assert_int_equal(parse("v=DMARC1; rua=foo"), DMARC_PARSE_OK);
	assert_int_equal(rec.p, DMARC_POLICY_UNSET);
}

static void
test_parse_duplicates(void **state)
{
	(void)state;
	assert_int_equal(parse("v=DMARC1; p=none; p=reject"),
	    DMARC_PARSE_INVALID);
	assert_non_null(strstr(why, "p"));
	assert_int_equal(parse("v=DMARC1; p=none; P=none"),
	    DMARC_PARSE_INVALID);
	assert_int_equal(parse("v=DMARC1; v=DMARC1; p=none"),
	    DMARC_PARSE_INVALID);
	assert_int_equal(parse("v=DMARC1; p=none; adkim=s; adkim=r"),
	    DMARC_PARSE_INVALID);
}

static void
test_parse_hostile(void **state)
{
	char big[DMARC_MAX_RECORD + 64];
	char many[DMARC_MAX_TAGS * 8 + 64];
	size_t i, n;

	(void)state;
	/* NUL inside a value: not a dmarc-value */
	assert_int_equal(parse_n("v=DMARC1; p=reject\0x; sp=none", 29),
	    DMARC_PARSE_INVALID);
	/* NUL after the record's last tag: read exactly len bytes */
	assert_int_equal(parse_n("v=DMARC1; p=reject", 18), DMARC_PARSE_OK);
	assert_int_equal(parse_n("v=DMARC1; p=reject", 16),
	    DMARC_PARSE_INVALID);		/* "p=reje" */
	/* 8-bit and control bytes in a value */
	assert_int_equal(parse("v=DMARC1; p=r\xc3\xa9ject"),
	    DMARC_PARSE_INVALID);
	assert_int_equal(parse("v=DMARC1; p=reject\r\n"), DMARC_PARSE_INVALID);
	/* too long */
	n = (size_t)snprintf(big, sizeof(big), "v=DMARC1; p=none; x=");
	memset(big + n, 'a', sizeof(big) - n - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(parse(big), DMARC_PARSE_INVALID);
	/* too many tags */
	n = (size_t)snprintf(many, sizeof(many), "v=DMARC1; p=none");
	for (i = 0; i < DMARC_MAX_TAGS; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n, "; x=%zu", i);
	assert_int_equal(parse(many), DMARC_PARSE_INVALID);
	/* no why buffer is fine */
	assert_int_equal(dmarc_record_parse("v=DMARC1; p=x", 13, &rec, NULL, 0),
	    DMARC_PARSE_INVALID);
}

/* --- policy discovery and the tree walk ---------------------------------- */

static void
test_walk_record_at_org(void **state)
{
	static const struct fake_rr t[] = {
		{ "_dmarc.example.com", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=reject; sp=quarantine" } },
	};
	static const char *const q[] = {
		"TXT _dmarc.a.b.c.example.com",
		"TXT _dmarc.b.c.example.com",
		"TXT _dmarc.c.example.com",
		"TXT _dmarc.example.com",
		"TXT _dmarc.com",
	};
	struct dmarc_auth a = auth_none();

	(void)state;
	FAKE(t);
	eval9989("a.b.c.example.com", &a);
	expect_log(q, sizeof(q) / sizeof(q[0]));
	assert_int_equal(out.result, DMARC_RESULT_FAIL);
	assert_string_equal(out.header_from, "a.b.c.example.com");
	assert_string_equal(out.policy_domain, "example.com");
	assert_string_equal(out.org_domain, "example.com");
	assert_int_equal(out.policy, DMARC_POLICY_QUARANTINE);	/* sp= */
	assert_int_equal(out.disposition, DMARC_POLICY_QUARANTINE);
	assert_false(out.testing);
	assert_false(out.sampled_out);
	assert_false(out.spf_aligned);
	assert_false(out.dkim_aligned);
	assert_true(strlen(out.reason) > 0);
}

static void
test_walk_record_at_author(void **state)
{
	static const struct fake_rr t[] = {
		{ "_dmarc.example.com", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=reject; sp=none" } },
	};
	struct dmarc_auth a = auth_spf("example.org", true);

	(void)state;
	FAKE(t);
	eval9989("example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_FAIL);
	assert_int_equal(out.policy, DMARC_POLICY_REJECT);	/* p= */
	assert_int_equal(out.disposition, DMARC_POLICY_REJECT);
	assert_string_equal(out.policy_domain, "example.com");
	/* strict-equal pass needs no walk at all */
	a = auth_none();
	auth_dkim(&a, "Example.COM", true, false);
	FAKE(t);
	eval9989("example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_PASS);
	assert_int_equal(out.disposition, DMARC_POLICY_NONE);
	assert_int_equal(out.policy, DMARC_POLICY_REJECT);
	assert_true(out.dkim_aligned);
	assert_true(fake_asked("TXT _dmarc.example.com"));
	assert_false(fake_asked("TXT _dmarc.com"));
	assert_int_equal(fake_count("TXT"), 1);
}

static void
test_walk_no_record(void **state)
{
	static const struct fake_rr t[] = {
		{ "_dmarc.example.com", DNS_T_TXT, DNS_OK,
		    { "v=spf1 -all", "some verification=abc" } },
	};
	struct dmarc_auth a = auth_spf("example.com", true);

	(void)state;
	FAKE(t);
	eval9989("mail.example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_NONE);
	assert_int_equal(out.policy, DMARC_POLICY_UNSET);
	assert_int_equal(out.disposition, DMARC_POLICY_NONE);
	assert_string_equal(out.policy_domain, "");
	assert_int_equal(fake_count("TXT"), 3);
	assert_string_equal(dmarc_policy_name(out.policy), "none");
}

static void
test_walk_psd_yes_at_tld(void **state)
{
	/* only the PSD publishes: its policy governs, org is one below */
	static const struct fake_rr t[] = {
		{ "_dmarc.example", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=reject; psd=y" } },
	};
	struct dmarc_auth a = auth_none();

	(void)state;
	FAKE(t);
	auth_dkim(&a, "other.example", true, false);	/* another org */
	eval9989("mail.giant.example", &a);
	assert_int_equal(out.result, DMARC_RESULT_FAIL);
	assert_string_equal(out.org_domain, "giant.example");
	assert_string_equal(out.policy_domain, "example");
	assert_int_equal(out.policy, DMARC_POLICY_REJECT);
	/* relaxed alignment within the org found by psd=y */
	a = auth_none();
	auth_dkim(&a, "x.giant.example", true, false);
	FAKE(t);
	eval9989("mail.giant.example", &a);
	assert_int_equal(out.result, DMARC_RESULT_PASS);
	assert_true(out.dkim_aligned);
}

static void
test_walk_psd_bank_example(void **state)
{
	/* RFC 9989 B.4.3 */
	static const struct fake_rr t[] = {
		{ "_dmarc.giant.bank.example", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=quarantine" } },
		{ "_dmarc.bank.example", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=reject; psd=y" } },
	};
	struct dmarc_auth a = auth_spf("mail.giant.bank.example", true);
	char org[DNS_MAX_NAME + 1];

	(void)state;
	FAKE(t);
	auth_dkim(&a, "mail.mega.bank.example", true, false);
	eval9989("giant.bank.example", &a);
	assert_int_equal(out.result, DMARC_RESULT_PASS);
	assert_true(out.spf_aligned);
	assert_false(out.dkim_aligned);
	assert_string_equal(out.policy_domain, "giant.bank.example");
	assert_int_equal(out.policy, DMARC_POLICY_QUARANTINE);
	assert_string_equal(out.org_domain, "giant.bank.example");
	assert_false(fake_asked("TXT _dmarc.example"));	/* psd=y stops */

	FAKE(t);
	assert_true(dmarc_org_domain(&fake_dns, DMARC_MODE_RFC9989,
	    "mail.mega.bank.example", org, sizeof(org)));
	assert_string_equal(org, "mega.bank.example");
	/* DKIM only, not aligned: fail under giant's own p= */
	a = auth_none();
	auth_dkim(&a, "mail.mega.bank.example", true, false);
	FAKE(t);
	eval9989("giant.bank.example", &a);
	assert_int_equal(out.result, DMARC_RESULT_FAIL);
	assert_int_equal(out.disposition, DMARC_POLICY_QUARANTINE);
}

static void
test_walk_psd_no(void **state)
{
	static const struct fake_rr t[] = {
		{ "_dmarc.mail.example.com", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=quarantine; psd=n" } },
		{ "_dmarc.example.com", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=reject" } },
	};
	struct dmarc_auth a = auth_none();

	(void)state;
	FAKE(t);
	auth_dkim(&a, "example.com", true, false);
	eval9989("a.mail.example.com", &a);
	/* org is mail.example.com: d=example.com is not aligned */
	assert_int_equal(out.result, DMARC_RESULT_FAIL);
	assert_string_equal(out.org_domain, "mail.example.com");
	assert_string_equal(out.policy_domain, "mail.example.com");
	assert_int_equal(out.policy, DMARC_POLICY_QUARANTINE);
	/* the walk of the author stopped at psd=n */
	a = auth_none();
	FAKE(t);
	eval9989("a.mail.example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_FAIL);
	assert_false(fake_asked("TXT _dmarc.example.com"));
	assert_false(fake_asked("TXT _dmarc.com"));
	/* d=x.mail.example.com shares the org */
	a = auth_none();
	auth_dkim(&a, "x.mail.example.com", true, false);
	FAKE(t);
	eval9989("a.mail.example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_PASS);
}

static void
test_walk_fewest_labels(void **state)
{
	/* RFC 9989 B.4.1/B.4.2: the record with the fewest labels wins */
	static const struct fake_rr t[] = {
		{ "_dmarc.mail.example.com", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=quarantine" } },
		{ "_dmarc.example.com", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=reject; sp=reject" } },
	};
	struct dmarc_auth a = auth_none();

	(void)state;
	FAKE(t);
	auth_dkim(&a, "example.com", true, false);
	eval9989("a.mail.example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_PASS);
	assert_string_equal(out.org_domain, "example.com");
	assert_string_equal(out.policy_domain, "example.com");
	a = auth_none();
	FAKE(t);
	eval9989("a.mail.example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_FAIL);
	assert_int_equal(out.policy, DMARC_POLICY_REJECT);
	/* the record at the Author Domain itself governs with its p= */
	FAKE(t);
	eval9989("mail.example.com", &a);
	assert_string_equal(out.policy_domain, "mail.example.com");
	assert_int_equal(out.policy, DMARC_POLICY_QUARANTINE);
}

static void
test_walk_long_names(void **state)
{
	/* the RFC 9989 4.10 example: eight queries for 13 labels */
	static const struct fake_rr none[] = {
		{ "_dmarc.unused.invalid", DNS_T_TXT, DNS_NXDOMAIN, { NULL } },
	};
	static const char *const q13[] = {
		"TXT _dmarc.a.b.c.d.e.f.g.h.i.j.mail.example.com",
		"TXT _dmarc.g.h.i.j.mail.example.com",
		"TXT _dmarc.h.i.j.mail.example.com",
		"TXT _dmarc.i.j.mail.example.com",
		"TXT _dmarc.j.mail.example.com",
		"TXT _dmarc.mail.example.com",
		"TXT _dmarc.example.com",
		"TXT _dmarc.com",
	};
	static const char *const q8[] = {
		"TXT _dmarc.a.b.c.d.e.f.example.com",
		"TXT _dmarc.b.c.d.e.f.example.com",
		"TXT _dmarc.c.d.e.f.example.com",
		"TXT _dmarc.d.e.f.example.com",
		"TXT _dmarc.e.f.example.com",
		"TXT _dmarc.f.example.com",
		"TXT _dmarc.example.com",
		"TXT _dmarc.com",
	};
	static const char *const q7[] = {
		"TXT _dmarc.a.b.c.d.e.example.com",
		"TXT _dmarc.b.c.d.e.example.com",
		"TXT _dmarc.c.d.e.example.com",
		"TXT _dmarc.d.e.example.com",
		"TXT _dmarc.e.example.com",
		"TXT _dmarc.example.com",
		"TXT _dmarc.com",
	};
	char names[DMARC_MAX_WALK + 2][DNS_MAX_NAME + 1];
	struct dmarc_auth a = auth_none();
	size_t i, n;

	(void)state;
	FAKE(none);
	eval9989("a.b.c.d.e.f.g.h.i.j.mail.example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_NONE);
	expect_log(q13, sizeof(q13) / sizeof(q13[0]));
	FAKE(none);
	eval9989("a.b.c.d.e.f.example.com", &a);
	expect_log(q8, sizeof(q8) / sizeof(q8[0]));
	FAKE(none);
	eval9989("a.b.c.d.e.example.com", &a);
	expect_log(q7, sizeof(q7) / sizeof(q7[0]));

	/* the prefetch list is the same walk */
	n = dmarc_prefetch_names("a.b.c.d.e.f.g.h.i.j.mail.example.com", names,
	    DMARC_MAX_WALK + 2);
	assert_int_equal(n, 8);
	for (i = 0; i < n; i++)
		assert_string_equal(names[i], q13[i] + strlen("TXT "));
	assert_int_equal(dmarc_prefetch_names("Example.COM.", names, 1), 1);
	assert_string_equal(names[0], "_dmarc.example.com");
	assert_int_equal(dmarc_prefetch_names("", names, 4), 0);
}

static void
test_walk_long_name_record(void **state)
{
	/* a record skipped over by the shortening is never seen */
	static const struct fake_rr t[] = {
		{ "_dmarc.b.c.d.e.f.g.example.com", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=reject; psd=n" } },
		{ "_dmarc.example.com", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=none" } },
	};
	struct dmarc_auth a = auth_none();

	(void)state;
	FAKE(t);
	eval9989("mail.a.b.c.d.e.f.g.example.com", &a);
	assert_false(fake_asked("TXT _dmarc.b.c.d.e.f.g.example.com"));
	assert_string_equal(out.policy_domain, "example.com");
	assert_int_equal(out.policy, DMARC_POLICY_NONE);
	assert_int_equal(fake_count("TXT"), 8);
}

static void
test_walk_several_records(void **state)
{
	static const struct fake_rr t[] = {
		{ "_dmarc.sub.example.com", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=none", "v=DMARC1; p=reject",
		    "v=spf1 -all" } },
		{ "_dmarc.example.com", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=quarantine", "not dmarc" } },
	};
	static const struct fake_rr two[] = {
		{ "_dmarc.example.com", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=reject", "v=DMARC1; p=reject" } },
	};
	struct dmarc_auth a = auth_none();

	(void)state;
	FAKE(t);
	eval9989("sub.example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_FAIL);
	assert_string_equal(out.policy_domain, "example.com");
	assert_int_equal(out.policy, DMARC_POLICY_QUARANTINE);
	FAKE(two);
	eval9989("example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_NONE);
	assert_int_equal(out.disposition, DMARC_POLICY_NONE);
}

static void
test_np_nonexistent(void **state)
{
	static const struct fake_rr t[] = {
		{ "_dmarc.example.com", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=none; sp=quarantine; np=reject" } },
		{ "ghost.example.com", FAKE_ANY, DNS_NXDOMAIN, { NULL } },
		{ "half.example.com", DNS_T_A, DNS_NXDOMAIN, { NULL } },
		{ "half.example.com", DNS_T_AAAA, DNS_NODATA, { NULL } },
		{ "mx.example.com", DNS_T_MX, DNS_OK, { "10 mx.example.net" } },
	};
	static const char *const q[] = {
		"TXT _dmarc.ghost.example.com",
		"TXT _dmarc.example.com",
		"TXT _dmarc.com",
		"A ghost.example.com",
		"AAAA ghost.example.com",
		"MX ghost.example.com",
	};
	struct dmarc_auth a = auth_none();

	(void)state;
	FAKE(t);
	eval9989("ghost.example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_FAIL);
	assert_int_equal(out.policy, DMARC_POLICY_REJECT);	/* np= */
	assert_int_equal(out.disposition, DMARC_POLICY_REJECT);
	expect_log(q, sizeof(q) / sizeof(q[0]));
	/* an existing subdomain: sp= */
	FAKE(t);
	eval9989("www.example.com", &a);
	assert_int_equal(out.policy, DMARC_POLICY_QUARANTINE);
	/* one NOERROR answer is enough to exist */
	FAKE(t);
	eval9989("half.example.com", &a);
	assert_int_equal(out.policy, DMARC_POLICY_QUARANTINE);
	assert_false(fake_asked("MX half.example.com"));
	/* the domain itself: p=, no existence test */
	FAKE(t);
	eval9989("example.com", &a);
	assert_int_equal(out.policy, DMARC_POLICY_NONE);
	assert_int_equal(fake_count("A "), 0);
	/* a pass needs no existence test */
	a = auth_spf("ghost.example.com", true);
	FAKE(t);
	eval9989("ghost.example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_PASS);
	assert_int_equal(fake_count("A "), 0);
}

static void
test_np_fallbacks(void **state)
{
	static const struct fake_rr sp_only[] = {
		{ "_dmarc.example.com", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=reject; sp=quarantine" } },
		{ "ghost.example.com", FAKE_ANY, DNS_NXDOMAIN, { NULL } },
	};
	static const struct fake_rr p_only[] = {
		{ "_dmarc.example.com", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=quarantine" } },
		{ "ghost.example.com", FAKE_ANY, DNS_NXDOMAIN, { NULL } },
	};
	static const struct fake_rr np_only[] = {
		{ "_dmarc.example.com", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=none; np=reject" } },
		{ "ghost.example.com", FAKE_ANY, DNS_NXDOMAIN, { NULL } },
	};
	struct dmarc_auth a = auth_none();

	(void)state;
	FAKE(sp_only);			/* np absent: sp= */
	eval9989("ghost.example.com", &a);
	assert_int_equal(out.policy, DMARC_POLICY_QUARANTINE);
	assert_int_equal(fake_count("A "), 0);	/* no test needed */
	FAKE(p_only);			/* neither: p= */
	eval9989("ghost.example.com", &a);
	assert_int_equal(out.policy, DMARC_POLICY_QUARANTINE);
	FAKE(np_only);
	eval9989("ghost.example.com", &a);
	assert_int_equal(out.policy, DMARC_POLICY_REJECT);
	FAKE(np_only);
	eval9989("real.example.com", &a);
	assert_int_equal(out.policy, DMARC_POLICY_NONE);
}

static void
test_np_temperror(void **state)
{
	static const struct fake_rr t[] = {
		{ "_dmarc.example.com", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=none; np=reject" } },
		{ "ghost.example.com", DNS_T_A, DNS_SERVFAIL, { NULL } },
		{ "ghost.example.com", DNS_T_AAAA, DNS_NXDOMAIN, { NULL } },
		{ "ghost.example.com", DNS_T_MX, DNS_NXDOMAIN, { NULL } },
	};
	struct dmarc_auth a = auth_none();

	(void)state;
	FAKE(t);
	eval9989("ghost.example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_TEMPERROR);
	assert_int_equal(out.disposition, DMARC_POLICY_NONE);
	/* p=none or np=reject: the DNS did not say, so never "none" */
	assert_int_equal(out.policy, DMARC_POLICY_UNKNOWN);
	assert_string_equal(dmarc_policy_name(out.policy), "unknown");
}

static void
test_temperror_np(void **state)
{
	/* an aligned SPF temperror: the policy a failure would get */
	static const struct fake_rr t[] = {
		{ "_dmarc.example.com", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=none; sp=none; np=reject" } },
		{ "ghost.example.com", FAKE_ANY, DNS_NXDOMAIN, { NULL } },
	};
	static const struct fake_rr broken[] = {
		{ "_dmarc.example.com", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=none; sp=none; np=reject" } },
		{ "ghost.example.com", FAKE_ANY, DNS_SERVFAIL, { NULL } },
	};
	struct dmarc_auth a = auth_spf("ghost.example.com", false);

	(void)state;
	a.spf_temperror = true;
	FAKE(t);
	eval9989("ghost.example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_TEMPERROR);
	assert_int_equal(out.policy, DMARC_POLICY_REJECT); /* np=, not sp= */
	assert_int_equal(out.disposition, DMARC_POLICY_NONE);
	FAKE(broken);
	eval9989("ghost.example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_TEMPERROR);
	assert_int_equal(out.policy, DMARC_POLICY_UNKNOWN); /* not "none" */
}

static void
test_temperror_steps(void **state)
{
	static const struct fake_rr at_author[] = {
		{ "_dmarc.example.com", DNS_T_TXT, DNS_SERVFAIL, { NULL } },
	};
	static const struct fake_rr at_parent[] = {
		{ "_dmarc.example.com", DNS_T_TXT, DNS_TIMEOUT, { NULL } },
	};
	static const struct fake_rr at_tld[] = {
		{ "_dmarc.example.com", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=reject" } },
		{ "_dmarc.com", DNS_T_TXT, DNS_SERVFAIL, { NULL } },
	};
	static const struct fake_rr at_ident[] = {
		{ "_dmarc.example.com", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=reject" } },
		{ "_dmarc.bounce.example.com", DNS_T_TXT, DNS_SERVFAIL,
		    { NULL } },
	};
	struct dmarc_auth a = auth_none();

	(void)state;
	FAKE(at_author);
	eval9989("example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_TEMPERROR);
	assert_int_equal(out.disposition, DMARC_POLICY_NONE);
	assert_int_equal(out.policy, DMARC_POLICY_UNKNOWN);
	assert_string_equal(dmarc_policy_name(out.policy), "unknown");
	assert_non_null(strstr(out.reason, "_dmarc.example.com"));
	FAKE(at_parent);
	eval9989("mail.example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_TEMPERROR);
	assert_int_equal(out.policy, DMARC_POLICY_UNKNOWN);
	/* the policy walk cannot finish: no org, no policy */
	FAKE(at_tld);
	eval9989("mail.example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_TEMPERROR);
	assert_int_equal(out.policy, DMARC_POLICY_UNKNOWN);
	/* record at the author, strict-equal pass: the TLD is not needed */
	a = auth_spf("example.com", true);
	FAKE(at_tld);
	eval9989("example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_PASS);
	assert_false(fake_asked("TXT _dmarc.com"));
	/* relaxed alignment needs the organizational domain: the TLD */
	a = auth_spf("mail.example.com", true);
	FAKE(at_tld);
	eval9989("example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_TEMPERROR);
	/* the record was found: its policy is known */
	assert_int_equal(out.policy, DMARC_POLICY_REJECT);
	/* the identifier's walk fails, and nothing else aligns */
	a = auth_spf("bounce.example.com", true);
	FAKE(at_ident);
	eval9989("example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_TEMPERROR);
	/* ... but another identifier passes: pass */
	auth_dkim(&a, "example.com", true, false);
	FAKE(at_ident);
	eval9989("example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_PASS);
	assert_true(out.dkim_aligned);
	assert_false(out.spf_aligned);
}

static void
test_temperror_identifiers(void **state)
{
	static const struct fake_rr t[] = {
		{ "_dmarc.example.com", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=reject" } },
	};
	struct dmarc_auth a = auth_none();

	(void)state;
	/* an aligned DKIM signature could not be checked */
	auth_dkim(&a, "evil.test", true, false);
	auth_dkim(&a, "example.com", false, true);
	FAKE(t);
	eval9989("example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_TEMPERROR);
	/* an unaligned one does not matter */
	a = auth_none();
	auth_dkim(&a, "evil.test", false, true);
	FAKE(t);
	eval9989("example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_FAIL);
	/* SPF temperror for an aligned MAIL FROM domain */
	a = auth_spf("bounce.example.com", false);
	a.spf_temperror = true;
	FAKE(t);
	eval9989("example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_TEMPERROR);
	a = auth_spf("example.net", false);
	a.spf_temperror = true;
	FAKE(t);
	eval9989("example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_FAIL);
}

static void
test_bad_records(void **state)
{
	static const struct fake_rr bad_p[] = {
		{ "_dmarc.example.com", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=bogus" } },
	};
	static const struct fake_rr no_p[] = {
		{ "_dmarc.example.com", DNS_T_TXT, DNS_OK, { "v=DMARC1;" } },
	};
	static const struct fake_rr rua_only[] = {
		{ "_dmarc.example.com", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; rua=mailto:agg@example.com" } },
	};
	static const struct fake_rr dup[] = {
		{ "_dmarc.example.com", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=reject; p=none" } },
	};
	struct dmarc_auth a = auth_none();

	(void)state;
	FAKE(bad_p);
	eval9989("example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_PERMERROR);
	assert_int_equal(out.disposition, DMARC_POLICY_NONE);
	assert_string_equal(out.policy_domain, "example.com");
	/* an invalid record above the author governs too */
	FAKE(bad_p);
	eval9989("www.example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_PERMERROR);
	FAKE(no_p);
	eval9989("example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_NONE);
	assert_int_equal(out.disposition, DMARC_POLICY_NONE);
	FAKE(rua_only);
	eval9989("example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_FAIL);
	assert_int_equal(out.policy, DMARC_POLICY_NONE);
	assert_int_equal(out.disposition, DMARC_POLICY_NONE);
	FAKE(dup);
	eval9989("example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_PERMERROR);
}

static void
test_bad_from(void **state)
{
	struct dmarc_auth a = auth_none();
	static const struct fake_rr none[] = {
		{ "_dmarc.example.com", DNS_T_TXT, DNS_NXDOMAIN, { NULL } },
	};

	(void)state;
	FAKE(none);
	eval9989("", &a);
	assert_int_equal(out.result, DMARC_RESULT_PERMERROR);
	eval9989("a..example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_PERMERROR);
	eval9989("exa mple.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_PERMERROR);
	eval9989(NULL, &a);
	assert_int_equal(out.result, DMARC_RESULT_PERMERROR);
	assert_int_equal(fk.nlog, 0);
	/* no auth at all is allowed */
	eval9989("example.com", NULL);
	assert_int_equal(out.result, DMARC_RESULT_NONE);
}

/* --- alignment ----------------------------------------------------------- */

static void
test_align_spf_strict_relaxed(void **state)
{
	static const struct fake_rr relaxed[] = {
		{ "_dmarc.example.com", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=reject" } },
	};
	static const struct fake_rr strict[] = {
		{ "_dmarc.example.com", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=reject; aspf=s" } },
	};
	struct dmarc_auth a = auth_spf("bounce.example.com", true);

	(void)state;
	FAKE(relaxed);
	eval9989("example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_PASS);
	assert_true(out.spf_aligned);
	FAKE(strict);
	eval9989("example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_FAIL);
	assert_false(out.spf_aligned);
	assert_int_equal(fake_count("TXT"), 1);	/* strict: no walk */
	a = auth_spf("EXAMPLE.com.", true);
	FAKE(strict);
	eval9989("example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_PASS);
	/* SPF fail never aligns */
	a = auth_spf("example.com", false);
	FAKE(relaxed);
	eval9989("example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_FAIL);
	/* another organization never aligns */
	a = auth_spf("example.net", true);
	FAKE(relaxed);
	eval9989("example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_FAIL);
	/* the null reverse path: the caller passes the HELO domain */
	a = auth_spf("mx1.example.com", true);
	FAKE(relaxed);
	eval9989("example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_PASS);
	a = auth_spf("", true);
	FAKE(relaxed);
	eval9989("example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_FAIL);
}

static void
test_align_dkim_strict_relaxed(void **state)
{
	static const struct fake_rr relaxed[] = {
		{ "_dmarc.example.com", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=quarantine" } },
	};
	static const struct fake_rr strict[] = {
		{ "_dmarc.example.com", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=quarantine; adkim=s" } },
	};
	struct dmarc_auth a = auth_none();

	(void)state;
	auth_dkim(&a, "example.com", true, false);
	FAKE(relaxed);
	eval9989("news.example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_PASS);
	assert_true(out.dkim_aligned);
	FAKE(strict);
	eval9989("news.example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_FAIL);
	assert_false(out.dkim_aligned);
	assert_int_equal(out.policy, DMARC_POLICY_QUARANTINE);
	/* strict, exact (any case): pass */
	a = auth_none();
	auth_dkim(&a, "NEWS.example.com", true, false);
	FAKE(strict);
	eval9989("news.example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_PASS);
	/* a parent of the organizational domain is not aligned */
	a = auth_none();
	auth_dkim(&a, "com", true, false);
	FAKE(relaxed);
	eval9989("example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_FAIL);
}

static void
test_align_several_dkim(void **state)
{
	static const struct fake_rr t[] = {
		{ "_dmarc.example.com", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=reject" } },
	};
	struct dmarc_auth a = auth_spf("evil.test", true);

	(void)state;
	auth_dkim(&a, "example.com", false, false);	/* aligned, failed */
	auth_dkim(&a, "evil.test", true, false);	/* passes, unaligned */
	auth_dkim(&a, "esp.example.net", true, false);
	FAKE(t);
	eval9989("example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_FAIL);
	assert_int_equal(out.disposition, DMARC_POLICY_REJECT);
	assert_false(out.dkim_aligned);
	auth_dkim(&a, "mail.example.com", true, false);
	FAKE(t);
	eval9989("example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_PASS);
	assert_true(out.dkim_aligned);
	assert_non_null(strstr(out.reason, "mail.example.com"));
	/* a NULL d= is skipped */
	a = auth_none();
	auth_dkim(&a, NULL, true, false);
	FAKE(t);
	eval9989("example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_FAIL);
}

static void
test_align_many_identifiers(void **state)
{
	/* 16 distinct, deep, passing d= domains: bounded DNS, no crash */
	static const struct fake_rr t[] = {
		{ "_dmarc.example.com", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=reject" } },
	};
	static char names[DMARC_MAX_DKIM][DNS_MAX_NAME + 1];
	struct dmarc_auth a = auth_none();
	size_t i;

	(void)state;
	for (i = 0; i < DMARC_MAX_DKIM; i++) {
		snprintf(names[i], sizeof(names[i]),
		    "a.b.c.d.e.f.g.h.x%zu.test", i);
		auth_dkim(&a, names[i], true, false);
	}
	a.ndkim = DMARC_MAX_DKIM + 5;	/* more than the array: bounded */
	FAKE(t);
	eval9989("example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_FAIL);
	/* outside the organizational domain: no walk for them */
	assert_int_equal(fk.nlog, 2);
	/* deep names inside it are walked, within the query budget */
	for (i = 0; i < DMARC_MAX_DKIM; i++)
		snprintf(names[i], sizeof(names[i]),
		    "a.b.c.d.e.f.g.h.x%zu.example.com", i);
	FAKE(t);
	eval9989("example.com", &a);
	assert_true(out.result == DMARC_RESULT_PASS);
	assert_true(fk.nlog <= 64);
}

/* --- testing mode (t=) --------------------------------------------------- */

static void
test_testing_mode(void **state)
{
	static const struct fake_rr rej[] = {
		{ "_dmarc.example.com", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=reject; t=y" } },
	};
	static const struct fake_rr quar[] = {
		{ "_dmarc.example.com", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=quarantine; t=y" } },
	};
	static const struct fake_rr none[] = {
		{ "_dmarc.example.com", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=none; t=y" } },
	};
	static const struct fake_rr off[] = {
		{ "_dmarc.example.com", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=reject; t=n" } },
	};
	static const struct fake_rr pct[] = {
		{ "_dmarc.example.com", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=reject; pct=0" } },
	};
	struct dmarc_auth a = auth_none();

	(void)state;
	FAKE(rej);
	eval9989("example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_FAIL);
	assert_int_equal(out.policy, DMARC_POLICY_REJECT);
	assert_int_equal(out.disposition, DMARC_POLICY_QUARANTINE);
	assert_true(out.testing);
	FAKE(quar);
	eval9989("example.com", &a);
	assert_int_equal(out.policy, DMARC_POLICY_QUARANTINE);
	assert_int_equal(out.disposition, DMARC_POLICY_NONE);
	assert_true(out.testing);
	FAKE(none);
	eval9989("example.com", &a);
	assert_int_equal(out.disposition, DMARC_POLICY_NONE);
	assert_false(out.testing);
	FAKE(off);
	eval9989("example.com", &a);
	assert_int_equal(out.disposition, DMARC_POLICY_REJECT);
	assert_false(out.testing);
	/* a pass is a pass */
	a = auth_spf("example.com", true);
	FAKE(rej);
	eval9989("example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_PASS);
	assert_int_equal(out.disposition, DMARC_POLICY_NONE);
	/* pct= is not sampled in RFC 9989 mode */
	a = auth_none();
	FAKE(pct);
	eval(DMARC_MODE_RFC9989, 99, "example.com", &a);
	assert_int_equal(out.disposition, DMARC_POLICY_REJECT);
	assert_false(out.sampled_out);
}

/* --- RFC 7489 mode ------------------------------------------------------- */

static void
test_7489_org_domain(void **state)
{
	char org[DNS_MAX_NAME + 1];

	(void)state;
	fake_set(NULL, 0);
	assert_true(dmarc_org_domain(&fake_dns, DMARC_MODE_RFC7489,
	    "a.b.example.co.uk", org, sizeof(org)));
	assert_string_equal(org, "example.co.uk");
	assert_true(dmarc_org_domain(NULL, DMARC_MODE_RFC7489,
	    "Mail.Example.COM", org, sizeof(org)));
	assert_string_equal(org, "example.com");
	assert_true(dmarc_org_domain(NULL, DMARC_MODE_RFC7489, "co.uk", org,
	    sizeof(org)));
	assert_string_equal(org, "co.uk");
	assert_int_equal(fk.nlog, 0);		/* no DNS in this mode */
}

static void
test_7489_discovery(void **state)
{
	static const struct fake_rr t[] = {
		{ "_dmarc.example.co.uk", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=reject; sp=quarantine; np=none; t=y" } },
		{ "_dmarc.b.example.co.uk", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=none" } },
		{ "a.b.example.co.uk", FAKE_ANY, DNS_NXDOMAIN, { NULL } },
	};
	static const char *const q[] = {
		"TXT _dmarc.a.b.example.co.uk",
		"TXT _dmarc.example.co.uk",
	};
	struct dmarc_auth a = auth_none();

	(void)state;
	FAKE(t);
	eval(DMARC_MODE_RFC7489, 0, "a.b.example.co.uk", &a);
	expect_log(q, sizeof(q) / sizeof(q[0]));
	assert_int_equal(out.result, DMARC_RESULT_FAIL);
	assert_string_equal(out.org_domain, "example.co.uk");
	assert_string_equal(out.policy_domain, "example.co.uk");
	/* sp=, not np=; t= is not a tag of RFC 7489 */
	assert_int_equal(out.policy, DMARC_POLICY_QUARANTINE);
	assert_int_equal(out.disposition, DMARC_POLICY_QUARANTINE);
	assert_false(out.testing);
	/* relaxed alignment by the PSL */
	auth_dkim(&a, "mail.example.co.uk", true, false);
	FAKE(t);
	eval(DMARC_MODE_RFC7489, 0, "a.b.example.co.uk", &a);
	assert_int_equal(out.result, DMARC_RESULT_PASS);
	a = auth_none();
	auth_dkim(&a, "other.co.uk", true, false);
	FAKE(t);
	eval(DMARC_MODE_RFC7489, 0, "a.b.example.co.uk", &a);
	assert_int_equal(out.result, DMARC_RESULT_FAIL);
}

static void
test_7489_several_records(void **state)
{
	static const struct fake_rr t[] = {
		{ "_dmarc.www.example.com", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=none", "v=DMARC1; p=none" } },
		{ "_dmarc.example.com", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=reject" } },
	};
	struct dmarc_auth a = auth_none();

	(void)state;
	FAKE(t);
	eval(DMARC_MODE_RFC7489, 0, "www.example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_NONE);
	assert_false(fake_asked("TXT _dmarc.example.com"));
	FAKE(t);
	eval(DMARC_MODE_RFC9989, 0, "www.example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_FAIL);
	assert_int_equal(out.policy, DMARC_POLICY_REJECT);
}

static void
test_7489_pct(void **state)
{
	static const struct fake_rr half[] = {
		{ "_dmarc.example.com", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=reject; pct=50" } },
	};
	static const struct fake_rr zero[] = {
		{ "_dmarc.example.com", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=quarantine; pct=0" } },
	};
	static const struct fake_rr bad[] = {
		{ "_dmarc.example.com", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=reject; pct=101" } },
	};
	struct dmarc_auth a = auth_none();

	(void)state;
	FAKE(half);
	eval(DMARC_MODE_RFC7489, 49, "example.com", &a);
	assert_int_equal(out.disposition, DMARC_POLICY_REJECT);
	assert_false(out.sampled_out);
	FAKE(half);
	eval(DMARC_MODE_RFC7489, 50, "example.com", &a);
	assert_int_equal(out.policy, DMARC_POLICY_REJECT);
	assert_int_equal(out.disposition, DMARC_POLICY_QUARANTINE);
	assert_true(out.sampled_out);
	FAKE(zero);
	eval(DMARC_MODE_RFC7489, 0, "example.com", &a);
	assert_int_equal(out.disposition, DMARC_POLICY_NONE);
	assert_true(out.sampled_out);
	FAKE(bad);			/* invalid pct: the default, 100 */
	eval(DMARC_MODE_RFC7489, 99, "example.com", &a);
	assert_int_equal(out.disposition, DMARC_POLICY_REJECT);
	/* a pass is never sampled */
	a = auth_spf("example.com", true);
	FAKE(zero);
	eval(DMARC_MODE_RFC7489, 99, "example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_PASS);
	assert_false(out.sampled_out);
}

/* --- the organizational domain and names --------------------------------- */

static void
test_org_domain_9989(void **state)
{
	static const struct fake_rr t[] = {
		{ "_dmarc.example", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=none; psd=y" } },
		{ "_dmarc.broken.test", DNS_T_TXT, DNS_SERVFAIL, { NULL } },
	};
	char org[DNS_MAX_NAME + 1];

	(void)state;
	FAKE(t);
	assert_true(dmarc_org_domain(&fake_dns, DMARC_MODE_RFC9989,
	    "a.b.giant.example", org, sizeof(org)));
	assert_string_equal(org, "giant.example");
	FAKE(t);
	assert_true(dmarc_org_domain(&fake_dns, DMARC_MODE_RFC9989,
	    "a.b.nothing.test", org, sizeof(org)));
	assert_string_equal(org, "a.b.nothing.test");	/* no record */
	FAKE(t);
	assert_false(dmarc_org_domain(&fake_dns, DMARC_MODE_RFC9989,
	    "x.broken.test", org, sizeof(org)));
	/* a PSD as the start of its own walk: itself */
	FAKE(t);
	assert_true(dmarc_org_domain(&fake_dns, DMARC_MODE_RFC9989,
	    "example", org, sizeof(org)));
	assert_string_equal(org, "example");
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(dmarc_result_name(DMARC_RESULT_NONE), "none");
	assert_string_equal(dmarc_result_name(DMARC_RESULT_PASS), "pass");
	assert_string_equal(dmarc_result_name(DMARC_RESULT_FAIL), "fail");
	assert_string_equal(dmarc_result_name(DMARC_RESULT_TEMPERROR),
	    "temperror");
	assert_string_equal(dmarc_result_name(DMARC_RESULT_PERMERROR),
	    "permerror");
	assert_string_equal(dmarc_policy_name(DMARC_POLICY_UNSET), "none");
	assert_string_equal(dmarc_policy_name(DMARC_POLICY_UNKNOWN),
	    "unknown");
	assert_string_equal(dmarc_policy_name(DMARC_POLICY_NONE), "none");
	assert_string_equal(dmarc_policy_name(DMARC_POLICY_QUARANTINE),
	    "quarantine");
	assert_string_equal(dmarc_policy_name(DMARC_POLICY_REJECT), "reject");
}

/* the record as published and how it was found, for a report writer */
static void
test_outcome_keeps_record(void **state)
{
	static const struct fake_rr t[] = {
		{ "_dmarc.example.com", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=reject; sp=quarantine; np=reject; adkim=s; "
		      "fo=1:d; rua=mailto:agg@example.com, "
		      "mailto:x@report.example; ruf=mailto:f@example.com; t=y" } },
		{ "_dmarc.other.example", DNS_T_TXT, DNS_OK,
		    { "v=DMARC1; p=none" } },
	};
	struct dmarc_auth a = auth_spf("example.com", false);

	(void)state;
	FAKE(t);
	eval9989("mail.example.com", &a);
	assert_int_equal(out.result, DMARC_RESULT_FAIL);
	assert_true(out.have_record);
	assert_int_equal(out.record.p, DMARC_POLICY_REJECT);
	assert_int_equal(out.record.sp, DMARC_POLICY_QUARANTINE);
	assert_int_equal(out.record.np, DMARC_POLICY_REJECT);
	assert_true(out.record.adkim_strict);
	assert_false(out.record.aspf_strict);
	assert_true(out.record.testing);
	assert_int_equal(out.discovery, DMARC_MODE_RFC9989);
	assert_string_equal(out.reporting.rua,
	    "mailto:agg@example.com, mailto:x@report.example");
	assert_string_equal(out.reporting.ruf, "mailto:f@example.com");
	assert_string_equal(out.reporting.fo, "1:d");
	assert_string_equal(out.policy_domain, "example.com");

	a = auth_spf("other.example", true);
	eval(DMARC_MODE_RFC7489, 0, "other.example", &a);
	assert_true(out.have_record);
	assert_int_equal(out.discovery, DMARC_MODE_RFC7489);
	assert_string_equal(out.reporting.rua, "");
	assert_string_equal(out.reporting.fo, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outcome_keeps_record),
		cmocka_unit_test(test_parse_full),
		cmocka_unit_test(test_parse_defaults),
		cmocka_unit_test(test_parse_case_and_space),
		cmocka_unit_test(test_parse_not_dmarc),
		cmocka_unit_test(test_parse_unknown_tags),
		cmocka_unit_test(test_parse_bad_values_default),
		cmocka_unit_test(test_parse_bad_policy),
		cmocka_unit_test(test_parse_missing_p),
		cmocka_unit_test(test_parse_duplicates),
		cmocka_unit_test(test_parse_hostile),
		cmocka_unit_test(test_walk_record_at_org),
		cmocka_unit_test(test_walk_record_at_author),
		cmocka_unit_test(test_walk_no_record),
		cmocka_unit_test(test_walk_psd_yes_at_tld),
		cmocka_unit_test(test_walk_psd_bank_example),
		cmocka_unit_test(test_walk_psd_no),
		cmocka_unit_test(test_walk_fewest_labels),
		cmocka_unit_test(test_walk_long_names),
		cmocka_unit_test(test_walk_long_name_record),
		cmocka_unit_test(test_walk_several_records),
		cmocka_unit_test(test_np_nonexistent),
		cmocka_unit_test(test_np_fallbacks),
		cmocka_unit_test(test_np_temperror),
		cmocka_unit_test(test_temperror_np),
		cmocka_unit_test(test_temperror_steps),
		cmocka_unit_test(test_temperror_identifiers),
		cmocka_unit_test(test_bad_records),
		cmocka_unit_test(test_bad_from),
		cmocka_unit_test(test_align_spf_strict_relaxed),
		cmocka_unit_test(test_align_dkim_strict_relaxed),
		cmocka_unit_test(test_align_several_dkim),
		cmocka_unit_test(test_align_many_identifiers),
		cmocka_unit_test(test_testing_mode),
		cmocka_unit_test(test_7489_org_domain),
		cmocka_unit_test(test_7489_discovery),
		cmocka_unit_test(test_7489_several_records),
		cmocka_unit_test(test_7489_pct),
		cmocka_unit_test(test_org_domain_9989),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
