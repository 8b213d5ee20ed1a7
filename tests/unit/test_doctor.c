/*
 * test_doctor.c - unit tests of the parts of doctor.c that need no DNS
 * service: the DKIM key record parser, the SPF walk that counts
 * DNS-querying terms and void lookups as spf.c's evaluator does (include,
 * redirect, a, mx with its exchanges, ptr, exists; redirect unreachable
 * after "all"; targets with macros; loops; IPv4 against IPv6 clients),
 * and the findings list (severity order, the bound).
 *
 * DNS is a table (fake_lookup, as in test_dmarc.c): a name not in it is
 * NXDOMAIN; every query is logged so the tests can check what the walk
 * asked.
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
#include <sys/socket.h>

#include <cmocka.h>

#include "dns.h"
#include "doctor.h"

#define FAKE_MAX_TXT	4	/* records per table entry */
#define FAKE_MAX_LOG	128	/* queries remembered */
#define WHYLEN		256

struct fake_rr {
	const char	*name;
	unsigned	 type;
	enum dns_status	 st;
	const char	*txt[FAKE_MAX_TXT];
};

static struct {
	const struct fake_rr *rr;
	size_t		 n;
	char		 log[FAKE_MAX_LOG][DNS_MAX_NAME + 8];
	size_t		 nlog;
} fk;

/* fake_type - a query type's name for the log */
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

/* fake_lookup - the table as a struct doctor_dns */
static struct dns_answer *
fake_lookup(void *arg, const char *name, unsigned type)
{
	size_t n;

	(void)arg;
	if (fk.nlog < FAKE_MAX_LOG)
		snprintf(fk.log[fk.nlog++], sizeof(fk.log[0]), "%s %s",
		    fake_type(type), name);
	for (size_t i = 0; i < fk.n; i++) {
		if (strcasecmp(fk.rr[i].name, name) != 0 ||
		    fk.rr[i].type != type)
			continue;
		for (n = 0; n < FAKE_MAX_TXT && fk.rr[i].txt[n] != NULL; n++)
			;
		return dns_answer_make(fk.rr[i].st, type, fk.rr[i].txt,
		    fk.rr[i].st == DNS_OK ? n : 0);
	}
	return dns_answer_make(DNS_NXDOMAIN, type, NULL, 0);
}

static const struct doctor_dns fake_dns = { fake_lookup, NULL };

#define FAKE(t)	fake_set((t), sizeof(t) / sizeof((t)[0]))

static void
fake_set(const struct fake_rr *rr, size_t n)
{
	memset(&fk, 0, sizeof(fk));
	fk.rr = rr;
	fk.n = n;
}

/* fake_asked - was this query made? */
static bool
fake_asked(const char *q)
{
	for (size_t i = 0; i < fk.nlog; i++)
		if (strcmp(fk.log[i], q) == 0)
			return true;
	return false;
}

/* count - the walk of the record of domain in the table */
static void
count(const char *domain, int family, struct doctor_spf_count *c)
{
	for (size_t i = 0; i < fk.n; i++)
		if (strcmp(fk.rr[i].name, domain) == 0 &&
		    fk.rr[i].type == DNS_T_TXT) {
			doctor_spf_count(&fake_dns, domain, fk.rr[i].txt[0],
			    strlen(fk.rr[i].txt[0]), family, c);
			return;
		}
	fail_msg("no record for %s in the table", domain);
}

/* --- DKIM key records ------------------------------------------------- */

static void
test_dkim_parse_ok(void **state)
{
	struct doctor_dkim_key k;
	char why[WHYLEN];
	const char *t;

	(void)state;
	t = "v=DKIM1; k=rsa; p=MIIBIjAN";
	assert_true(doctor_dkim_parse(t, strlen(t), &k, why, sizeof why));
	assert_string_equal(k.k, "rsa");
	assert_int_equal(k.plen, 8);
	assert_memory_equal(k.p, "MIIBIjAN", 8);
	assert_false(k.testing);
	assert_false(k.have_h);

	/* no v=, k= absent (rsa), white space and folding, t=y:s, h=, s= */
	t = " p = AAAA BBBB ;t=y:s; h=sha1:sha256;\r\n\ts=email ;";
	assert_true(doctor_dkim_parse(t, strlen(t), &k, why, sizeof why));
	assert_string_equal(k.k, "rsa");
	assert_int_equal(k.plen, 9);
	assert_true(k.testing);
	assert_true(k.strict);
	assert_true(k.have_h && k.h_sha256);
	assert_true(k.have_s && k.s_email);

	t = "v=DKIM1; k=ED25519; h=sha1; s=tlsrpt; t=s; p=";
	assert_true(doctor_dkim_parse(t, strlen(t), &k, why, sizeof why));
	assert_string_equal(k.k, "ed25519");	/* lower-cased */
	assert_int_equal(k.plen, 0);		/* revoked */
	assert_false(k.testing);
	assert_true(k.strict);
	assert_true(k.have_h && !k.h_sha256);
	assert_true(k.have_s && !k.s_email);

	t = "s=*; p=AAAA; x-unknown=whatever";
	assert_true(doctor_dkim_parse(t, strlen(t), &k, why, sizeof why));
	assert_true(k.s_email);
}

static void
test_dkim_parse_bad(void **state)
{
	static const char *const bad[] = {
		"v=spf1 -all",			/* v= not DKIM1 */
		"k=rsa; v=DKIM1; p=AAAA",	/* v= not first */
		"v=DKIM2; p=AAAA",
		"v=DKIM1; k=rsa",		/* no p= */
		"v=DKIM1; p=AAAA; p=BBBB",	/* twice */
		"v=DKIM1; junk; p=AAAA",	/* not tag=value */
		"",
		"=AAAA",
	};
	struct doctor_dkim_key k;
	char why[WHYLEN];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (doctor_dkim_parse(bad[i], strlen(bad[i]), &k, why,
		    sizeof why))
			fail_msg("\"%s\" parsed", bad[i]);
		assert_true(why[0] != '\0');
	}
}

/* --- the SPF walk ----------------------------------------------------- */

/* include, redirect after all (not followed), a, mx and its exchanges */
static void
test_spf_count_terms(void **state)
{
	static const struct fake_rr t[] = {
		{ "top.example", DNS_T_TXT, DNS_OK, { "v=spf1 a mx "
		    "include:inc.example ip4:192.0.2.1 -all "
		    "redirect=never.example" } },
		{ "top.example", DNS_T_A, DNS_OK, { "192.0.2.1" } },
		{ "top.example", DNS_T_AAAA, DNS_OK, { "2001:db8::1" } },
		{ "top.example", DNS_T_MX, DNS_OK, { "10 mx1.example",
		    "20 mx2.example" } },
		{ "mx1.example", DNS_T_A, DNS_OK, { "192.0.2.2" } },
		{ "mx2.example", DNS_T_A, DNS_OK, { "192.0.2.3" } },
		{ "mx1.example", DNS_T_AAAA, DNS_OK, { "2001:db8::2" } },
		{ "inc.example", DNS_T_TXT, DNS_OK, { "not spf",
		    "v=spf1 exists:e.example ptr ~all" } },
		{ "e.example", DNS_T_A, DNS_OK, { "127.0.0.2" } },
	};
	struct doctor_spf_count c;

	(void)state;
	FAKE(t);
	count("top.example", AF_INET, &c);
	/* a, mx, include, exists, ptr; redirect= is unreachable */
	assert_int_equal(c.terms, 5);
	assert_int_equal(c.voids, 0);
	assert_false(c.permerror);
	assert_false(c.temperror);
	assert_true(c.ptr);
	assert_false(c.plus_all);
	assert_false(fake_asked("TXT never.example"));
	assert_true(fake_asked("A mx2.example"));
	assert_false(fake_asked("AAAA mx2.example"));

	/* an IPv6 client asks AAAA: mx2 has none, a void lookup */
	FAKE(t);
	count("top.example", AF_INET6, &c);
	assert_int_equal(c.terms, 5);
	assert_int_equal(c.voids, 1);
	assert_string_equal(c.voidnames[0], "mx2.example");
	assert_true(fake_asked("AAAA mx2.example"));
	/* exists asks for A whatever the client */
	assert_true(fake_asked("A e.example"));
}

/* the limits: 11 terms; 3 void lookups; the names are kept */
static void
test_spf_count_limits(void **state)
{
	static const struct fake_rr t[] = {
		{ "many.example", DNS_T_TXT, DNS_OK, { "v=spf1 a:h.example "
		    "a:h.example a:h.example a:h.example a:h.example "
		    "include:more.example -all" } },
		{ "more.example", DNS_T_TXT, DNS_OK, { "v=spf1 a:h.example "
		    "a:h.example a:h.example a:h.example ?all" } },
		{ "h.example", DNS_T_A, DNS_OK, { "192.0.2.9" } },
		{ "void.example", DNS_T_TXT, DNS_OK, { "v=spf1 a:n1.example "
		    "mx:n2.example exists:n3.example -all" } },
		{ "n2.example", DNS_T_MX, DNS_NODATA, { NULL } },
	};
	struct doctor_spf_count c;

	(void)state;
	FAKE(t);
	count("many.example", AF_INET, &c);
	assert_int_equal(c.terms, 10);		/* 5 + include + 4 */
	FAKE(t);
	count("void.example", AF_INET, &c);
	assert_int_equal(c.terms, 3);
	assert_int_equal(c.voids, 3);
	assert_string_equal(c.voidnames[0], "n1.example");
	assert_string_equal(c.voidnames[1], "n2.example");
	assert_string_equal(c.voidnames[2], "n3.example");
}

/* what makes a permerror besides the limits, and a DNS failure */
static void
test_spf_count_errors(void **state)
{
	static const struct fake_rr t[] = {
		{ "noinc.example", DNS_T_TXT, DNS_OK, { "v=spf1 "
		    "include:gone.example -all" } },
		{ "two.example", DNS_T_TXT, DNS_OK, { "v=spf1 "
		    "include:twice.example -all" } },
		{ "twice.example", DNS_T_TXT, DNS_OK, { "v=spf1 -all",
		    "v=spf1 +all" } },
		{ "syn.example", DNS_T_TXT, DNS_OK, { "v=spf1 "
		    "redirect=bad.example" } },
		{ "bad.example", DNS_T_TXT, DNS_OK, { "v=spf1 frob:x -all" } },
		{ "temp.example", DNS_T_TXT, DNS_OK, { "v=spf1 a:slow.example "
		    "-all" } },
		{ "slow.example", DNS_T_A, DNS_TIMEOUT, { NULL } },
		{ "many.example", DNS_T_TXT, DNS_OK, { "v=spf1 "
		    "mx:big.example -all" } },
		{ "big.example", DNS_T_MX, DNS_OK, { "1 a.x", "2 b.x", "3 c.x",
		    "4 d.x" } },
		{ "plus.example", DNS_T_TXT, DNS_OK, { "v=spf1 +all" } },
	};
	struct doctor_spf_count c;

	(void)state;
	FAKE(t);
	count("noinc.example", AF_INET, &c);
	assert_true(c.permerror);
	assert_int_equal(c.voids, 1);	/* the include target: NXDOMAIN */
	assert_non_null(strstr(c.why, "gone.example has no SPF record"));
	FAKE(t);
	count("two.example", AF_INET, &c);
	assert_true(c.permerror);
	assert_non_null(strstr(c.why, "2 SPF records"));
	FAKE(t);
	count("syn.example", AF_INET, &c);
	assert_true(c.permerror);
	assert_non_null(strstr(c.why, "the record of bad.example"));
	FAKE(t);
	count("temp.example", AF_INET, &c);
	assert_false(c.permerror);
	assert_true(c.temperror);
	assert_int_equal(c.voids, 0);
	FAKE(t);
	count("many.example", AF_INET, &c);
	assert_false(c.permerror);	/* 4 exchanges: fine */
	assert_int_equal(c.voids, 4);	/* none has an address */
	FAKE(t);
	count("plus.example", AF_INET, &c);
	assert_true(c.plus_all);
}

/* macros are counted, not followed; a loop ends */
static void
test_spf_count_macros_loops(void **state)
{
	static const struct fake_rr t[] = {
		{ "mac.example", DNS_T_TXT, DNS_OK, { "v=spf1 "
		    "exists:%{i}.x.example include:%{d}.y.example a -all" } },
		{ "mac.example", DNS_T_A, DNS_OK, { "192.0.2.1" } },
		{ "loop.example", DNS_T_TXT, DNS_OK, { "v=spf1 "
		    "include:loop.example -all" } },
	};
	struct doctor_spf_count c;

	(void)state;
	FAKE(t);
	count("mac.example", AF_INET, &c);
	assert_int_equal(c.terms, 3);
	assert_int_equal(c.macros, 2);
	assert_int_equal(c.voids, 0);
	assert_int_equal(fk.nlog, 1);	/* only "A mac.example" */
	FAKE(t);
	count("loop.example", AF_INET, &c);
	assert_true(c.terms > 10);
	assert_true(c.permerror || c.stopped);
}

/* --- findings ---------------------------------------------------------- */

static void
test_findings(void **state)
{
	struct doctor_report *rep = calloc(1, sizeof(*rep));

	(void)state;
	assert_non_null(rep);
	assert_int_equal(rep->worst, DOCTOR_OK);
	doctor_add(rep, "spf", DOCTOR_WARNING, "w %d", 1);
	assert_int_equal(rep->worst, DOCTOR_WARNING);
	doctor_add(rep, "dkim", DOCTOR_OK, "fine");
	assert_int_equal(rep->worst, DOCTOR_WARNING);
	doctor_add(rep, "dmarc", DOCTOR_ERROR, "bad");
	doctor_add(rep, "mx", DOCTOR_WARNING, "w");
	assert_int_equal(rep->worst, DOCTOR_ERROR);
	assert_int_equal(rep->nfindings, 4);
	assert_string_equal(rep->findings[0].text, "w 1");
	assert_string_equal(rep->findings[2].check, "dmarc");
	assert_string_equal(doctor_severity_name(DOCTOR_OK), "ok");
	assert_string_equal(doctor_severity_name(DOCTOR_WARNING), "warning");
	assert_string_equal(doctor_severity_name(DOCTOR_ERROR), "error");
	while (rep->nfindings < DOCTOR_MAX_FINDINGS)
		doctor_add(rep, "spf", DOCTOR_OK, "filler");
	doctor_add(rep, "spf", DOCTOR_OK, "one too many");
	assert_int_equal(rep->nfindings, DOCTOR_MAX_FINDINGS);
	assert_int_equal(rep->dropped, 1);
	free(rep);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dkim_parse_ok),
		cmocka_unit_test(test_dkim_parse_bad),
		cmocka_unit_test(test_spf_count_terms),
		cmocka_unit_test(test_spf_count_limits),
		cmocka_unit_test(test_spf_count_errors),
		cmocka_unit_test(test_spf_count_macros_loops),
		cmocka_unit_test(test_findings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
