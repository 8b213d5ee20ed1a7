/*
 * test_dkimverify.c - unit tests for dkimverify.c: our check of a
 * DKIM-Signature value against RFC 6376 (3.2 tag-list, 3.5 tags, 6.1.1)
 * before libopendkim sees it, the bounds on what reaches the library
 * (bytes and tags of one field, names in h=, MaximumSignaturesToVerify),
 * the result of libopendkim's error codes (expired signatures and revoked
 * keys are permerror, not fail), and the validators the A-R writer uses.
 *
 * The verifier tests run a real dkimv with a real DNS service (dns.c)
 * whose only server is a loopback port where nothing listens: every key
 * lookup fails at once, so what is measured is what a hostile header
 * costs before any key arrives.
 */
#include "buildconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <opendkim/dkim.h>

#include "dkimverify.h"
#include "dns.h"
#include "util.h"

#define T_NOW		1800000000	/* the verification time of the checks */
#define T_B		"dGVzdCBzaWduYXR1cmUgYnl0ZXM="	/* base64, 28 chars */
#define T_BH		"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
#define T_DEAD_NS	"127.0.0.1:9"	/* discard: nothing answers DNS */
#define T_MANY_TAGS	100000		/* the tags of the header */
#define T_MANY_SIGS	20000		/* DKIM-Signature fields in a message */
#define T_MAX_SIGS	5		/* MaximumSignaturesToVerify */
#define T_CPU_LIMIT	2.0		/* CPU seconds a hostile message may take */
#define T_WHY		128

/* A valid signature as python3-dkim writes it (FWS around h= colons). */
static const char sig_ok[] =
    " v=1; a=rsa-sha256; c=relaxed/simple; d=example.com;\n"
    "\ti=@example.com; q=dns/txt; s=sel; t=1700000000;\n"
    "\th=from : to : subject; bh=" T_BH ";\n"
    "\tb=" T_B;

/* check - dkimv_sig_check at T_NOW; the reason in why */
static bool
check(const char *value, struct dkimv_tags *t, char *why)
{
	why[0] = '\0';
	return dkimv_sig_check(value, T_NOW, t, why, T_WHY);
}

/* expect_bad - value is refused, with a reason containing want */
static void
expect_bad(const char *value, const char *want)
{
	struct dkimv_tags t;
	char why[T_WHY];

	if (check(value, &t, why)) {
		print_error("accepted: %s\n", value);
		fail();
	}
	if (strstr(why, want) == NULL) {
		print_error("value: %s\nreason: '%s', want '%s'\n", value, why,
		    want);
		fail();
	}
}

/* expect_ok - value is accepted */
static void
expect_ok(const char *value)
{
	struct dkimv_tags t;
	char why[T_WHY];

	if (!check(value, &t, why)) {
		print_error("refused (%s): %s\n", why, value);
		fail();
	}
}

/* sig - a signature made of the given tags (printf), for one-off cases */
static char *
sig(const char *fmt, ...)
{
	struct buf b;
	va_list ap;

	buf_init(&b);
	va_start(ap, fmt);
	{
		char tmp[4096];

		vsnprintf(tmp, sizeof(tmp), fmt, ap);
		buf_puts(&b, tmp);
	}
	va_end(ap);
	return buf_steal(&b);
}

/* the base case: python3-dkim's form, and what is taken from it */
static void
test_valid(void **state)
{
	struct dkimv_tags t;
	char why[T_WHY];
	char *s;

	(void)state;
	assert_true(check(sig_ok, &t, why));
	assert_string_equal(t.domain, "example.com");
	assert_string_equal(t.selector, "sel");
	assert_string_equal(t.algorithm, "rsa-sha256");
	assert_string_equal(t.b, "dGVzdCBz");
	assert_false(t.signs_sigs);
	/* case: values of d=, s=, a= are case-insensitive, reported lower */
	s = sig("v=1; a=Ed25519-SHA256; d=Mail.Example.COM; s=S2026; "
	    "h=From:DKIM-Signature; bh=%s; b=%s;", T_BH, T_B);
	assert_true(check(s, &t, why));
	assert_string_equal(t.domain, "mail.example.com");
	assert_string_equal(t.selector, "s2026");
	assert_string_equal(t.algorithm, "ed25519-sha256");
	assert_true(t.signs_sigs);
	free(s);
	/* a selector of digits and labels; l=, x= in the future, z= */
	s = sig("v=1; a=rsa-sha1; d=example.com; s=2024.eu-1; h=from; "
	    "l=0; t=1700000000; x=1900000000; "
	    "z=From:a=40b|To:c; c=simple; bh=%s; b=%s", T_BH, T_B);
	expect_ok(s);
	free(s);
	/* unknown tags are ignored, b= may be folded anywhere */
	s = sig("v=1; a=rsa-sha256; d=example.com; s=sel; h=from; "
	    "foo_1=bar baz; bh=%s; b=dGVz\r\n\tdCBz aWdu", T_BH);
	expect_ok(s);
	free(s);
}

/*
 * issue 9 (2): d= must be a domain name, whatever a DNS server answers
 * for the odd name; nothing invalid is kept for the report
 */
static void
test_bad_domain(void **state)
{
	static const char *const bad[] = {
		"legitimate.com(.attacker.com", "example", "example.com.",
		"-example.com", "example-.com", "exa_mple.com", "example..com",
		".example.com", "b\xc3\xbc" "cher.example", "example.com;",
		"a b.example.com",
	};
	struct dkimv_tags t;
	char why[T_WHY];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *s = sig("v=1; a=rsa-sha256; d=%s; s=sel; h=from; "
		    "bh=%s; b=%s", bad[i], T_BH, T_B);
		bool ok = check(s, &t, why);

		/* "example.com;" and "a b..." break the tag list itself */
		if (ok || t.domain[0] != '\0') {
			print_error("d=%s: accepted or kept '%s'\n", bad[i],
			    t.domain);
			fail();
		}
		free(s);
	}
	expect_bad("v=1; a=rsa-sha256; d=legitimate.com(.attacker.com; "
	    "s=sel; h=from; bh=" T_BH "; b=" T_B, "d= is not a domain name");
	/* what is valid is still reported */
	assert_false(check("v=1; a=rsa-sha256; d=legitimate.com(.attacker.com;"
	    " s=sel; h=from; bh=" T_BH "; b=" T_B, &t, why));
	assert_string_equal(t.domain, "");
	assert_string_equal(t.selector, "sel");
	assert_string_equal(t.algorithm, "rsa-sha256");
	assert_string_equal(t.b, "dGVzdCBz");
	assert_false(dkimv_domain_valid("legitimate.com(.attacker.com"));
	assert_false(dkimv_domain_valid("com"));
	assert_false(dkimv_domain_valid(""));
	assert_false(dkimv_domain_valid(NULL));
	assert_true(dkimv_domain_valid("example.com"));
	assert_true(dkimv_selector_valid("s2026"));
	assert_true(dkimv_selector_valid("a.b-c"));
	assert_false(dkimv_selector_valid("s_1"));
	assert_false(dkimv_selector_valid("s(1"));
	assert_false(dkimv_selector_valid(""));
}

/* the other tags with a defined syntax (RFC 6376 3.5) */
static void
test_bad_tags(void **state)
{
	static const struct { const char *tags, *want; } bad[] = {
		/* s= */
		{ "s=sel(x); h=from", "s= is not a selector" },
		{ "s=sel_1; h=from", "s= is not a selector" },
		{ "s=.sel; h=from", "s= is not a selector" },
		/* i= */
		{ "s=sel; h=from; i=a@attacker.com", "i= domain is not d=" },
		{ "s=sel; h=from; i=a@xexample.com", "i= domain is not d=" },
		{ "s=sel; h=from; i=a@com", "i= is not an address" },
		{ "s=sel; h=from; i=example.com", "i= is not an address" },
		{ "s=sel; h=from; i=a@exa(mple.com", "i= is not an address" },
		{ "s=sel; h=from; i=a=zz@example.com", "i= is not an address" },
		/* a=, c=, q= */
		{ "s=sel; h=from; c=fancy/simple",
		    "unsupported canonicalization" },
		{ "s=sel; h=from; c=simple/", "unsupported canonicalization" },
		{ "s=sel; h=from; q=http/get", "no supported query method" },
		{ "s=sel; h=from; q=dns/txt:9x", "q= is malformed" },
		/* t=, x=, l= */
		{ "s=sel; h=from; t=17000000001234", "t= is not a timestamp" },
		{ "s=sel; h=from; t=-1", "t= is not a timestamp" },
		{ "s=sel; h=from; x=soon", "x= is not a timestamp" },
		{ "s=sel; h=from; t=1700000000; x=1700000000",
		    "x= is not after t=" },
		{ "s=sel; h=from; x=1700000000", "signature expired" },
		{ "s=sel; h=from; l=12a", "l= is not a number" },
		{ "s=sel; h=from; l=", "l= is not a number" },
		/* h= */
		{ "s=sel; h=to:subject", "From field not signed" },
		{ "s=sel; h=from::to", "h= has an empty field name" },
		{ "s=sel; h=", "h= has an empty field name" },
		/* z= */
		{ "s=sel; h=from; z=nocolon", "z= is malformed" },
		/* the tag list */
		{ "s=sel; h=from; s=other", "tag s= given twice" },
		{ "s=sel; h=from;; x=1900000000", "malformed tag list" },
		{ "s=sel; h=from; 1x=y", "malformed tag list" },
		{ "s=sel; h=from; x", "malformed tag list" },
		{ "s=sel; h=from; n=caf\xc3\xa9", "malformed tag list" },
		{ "s=sel; h=from; n=a\x01z", "malformed tag list" },
		/* tag names are case-sensitive: D= is another tag */
		{ "S=sel; h=from", "no s= tag" },
	};
	char *s;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = sig("v=1; a=rsa-sha256; d=example.com; %s; bh=%s; b=%s",
		    bad[i].tags, T_BH, T_B);
		expect_bad(s, bad[i].want);
		free(s);
	}
	/* a= */
	expect_bad("v=1; a=rsa-md5; d=example.com; s=sel; h=from; bh=" T_BH
	    "; b=" T_B, "unsupported algorithm");
	expect_bad("v=1; a=; d=example.com; s=sel; h=from; bh=" T_BH
	    "; b=" T_B, "unsupported algorithm");
	/* v= */
	expect_bad("v=2; a=rsa-sha256; d=example.com; s=sel; h=from; bh=" T_BH
	    "; b=" T_B, "unsupported version");
	/* b=, bh= */
	expect_bad("v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=" T_BH
	    "; b=", "b= is not base64");
	expect_bad("v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=" T_BH
	    "; b=dGVzdA=x", "b= is not base64");
	expect_bad("v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=" T_BH
	    "; b=dGVzd", "b= is not base64");
	expect_bad("v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=" T_BH
	    "; b=dG===", "b= is not base64");
	expect_bad("v=1; a=rsa-sha256; d=example.com; s=sel; h=from; "
	    "bh=47DEQ*j8; b=" T_B, "bh= is not base64");
	/* required tags */
	expect_bad("a=rsa-sha256; d=example.com; s=sel; h=from; bh=" T_BH
	    "; b=" T_B, "no v= tag");
	expect_bad("v=1; a=rsa-sha256; d=example.com; s=sel; bh=" T_BH
	    "; b=" T_B, "no h= tag");
	expect_bad("v=1; a=rsa-sha256; s=sel; h=from; bh=" T_BH "; b=" T_B,
	    "no d= tag");
	expect_bad("v=1; a=rsa-sha256; d=example.com; s=sel; h=from; b=" T_B,
	    "no bh= tag");
	expect_bad("", "no v= tag");
	/* the key name must fit the DNS */
	s = sig("v=1; a=rsa-sha256; d=%.63s.%.63s.%.63s.com; s=%.63s.%.10s; "
	    "h=from; bh=%s; b=%s",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
	    "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
	    "sssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssss",
	    "tttttttttt", T_BH, T_B);
	expect_bad(s, "key name");
	free(s);
	/* good variants of the same tags */
	expect_ok("v=1; a=rsa-sha256; d=example.com; s=sel; h=from; "
	    "i=user=40x@mail.example.com; q=dns/txt:other/x; l=00; "
	    "c=relaxed; bh=" T_BH "; b=" T_B ";");
	expect_ok("v=1; a=rsa-sha256; d=example.com; s=sel; h=from; "
	    "i=@EXAMPLE.com; bh=" T_BH "; b=" T_B);
}

/* issue 9 (4): the error codes of libopendkim and their results */
static void
test_error_results(void **state)
{
	char why[T_WHY];

	(void)state;
	assert_int_equal(dkimv_error_result(DKIM_SIGERROR_EXPIRED, why,
	    sizeof(why)), DKIMV_PERMERROR);
	assert_string_equal(why, "signature expired");
	assert_int_equal(dkimv_error_result(DKIM_SIGERROR_KEYREVOKED, why,
	    sizeof(why)), DKIMV_PERMERROR);
	assert_string_equal(why, "key revoked");
	assert_int_equal(dkimv_error_result(DKIM_SIGERROR_FUTURE, why,
	    sizeof(why)), DKIMV_PERMERROR);
	assert_int_equal(dkimv_error_result(DKIM_SIGERROR_BADSIG, why,
	    sizeof(why)), DKIMV_FAIL);
	assert_int_equal(dkimv_error_result(DKIM_SIGERROR_KEYFAIL, why,
	    sizeof(why)), DKIMV_TEMPERROR);
	assert_int_equal(dkimv_error_result(DKIM_SIGERROR_NOKEY, why,
	    sizeof(why)), DKIMV_PERMERROR);
	assert_true(why[0] != '\0');
	assert_int_equal(dkimv_error_result(DKIM_SIGERROR_KEYTOOSMALL, why,
	    sizeof(why)), DKIMV_POLICY);
	/* an expired signature is found before the library: no DNS needed */
	expect_bad("v=1; a=rsa-sha256; d=example.com; s=sel; h=from; "
	    "t=1700000000; x=1700000600; bh=" T_BH "; b=" T_B,
	    "signature expired");
}

/* many_tags - a signature with n extra tags "t0=v; t1=v; ..." (malloc'd) */
static char *
many_tags(size_t n)
{
	struct buf b;

	buf_init(&b);
	buf_puts(&b, "v=1; a=rsa-sha256; d=example.com; s=sel; h=from; "
	    "bh=" T_BH "; b=" T_B);
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "; t%zu=v", i);
	return buf_steal(&b);
}

/* the bounds of one field: bytes, tags, names in h= */
static void
test_bounds(void **state)
{
	struct buf b;
	char *s;

	(void)state;
	/* 7 tags of our own + 57 = 64 tags; one more is too many */
	s = many_tags(DKIMV_MAX_SIG_TAGS - 7);
	expect_ok(s);
	free(s);
	s = many_tags(DKIMV_MAX_SIG_TAGS - 6);
	expect_bad(s, "more than 64 tags");
	free(s);
	/* exactly DKIMV_MAX_SIG_BYTES, and one more */
	buf_init(&b);
	buf_puts(&b, "v=1; a=rsa-sha256; d=example.com; s=sel; h=from; "
	    "bh=" T_BH "; b=" T_B "; n=");
	while (b.len < DKIMV_MAX_SIG_BYTES)
		buf_putc(&b, 'x');
	expect_ok(b.data);
	buf_putc(&b, 'x');
	expect_bad(b.data, "longer than 8192 bytes");
	buf_free(&b);
	/* h= with DKIMV_MAX_SIG_HDRS names, and one more */
	buf_init(&b);
	buf_puts(&b, "v=1; a=rsa-sha256; d=example.com; s=sel; bh=" T_BH
	    "; b=" T_B "; h=from");
	for (int i = 1; i < DKIMV_MAX_SIG_HDRS; i++)
		buf_printf(&b, ":x%d", i);
	expect_ok(b.data);
	buf_puts(&b, ":one-more");
	expect_bad(b.data, "h= names more than 128 fields");
	buf_free(&b);
	/* h= longer than libopendkim's buffer */
	buf_init(&b);
	buf_puts(&b, "v=1; a=rsa-sha256; d=example.com; s=sel; bh=" T_BH
	    "; b=" T_B "; h=from");
	for (int i = 1; i < 64; i++)
		buf_printf(&b, ":x-%070d", i);
	expect_bad(b.data, "h= is longer than 4095 bytes");
	buf_free(&b);
}

/* A verifier whose DNS never answers (see the top of the file). */
struct tv {
	struct dns_service	*dns;
	struct dkimv_ctx	*ctx;
	struct dkimv		*v;
	struct dkimv_sig	 out[DKIMV_MAX_SIGS];
	size_t			 n;
};

/* tv_start - a verifier of at most max signatures */
static void
tv_start(struct tv *t, unsigned max)
{
	struct dns_config dc;
	char err[256];

	memset(t, 0, sizeof(*t));
	memset(&dc, 0, sizeof(dc));
	dc.servers[0] = T_DEAD_NS;
	dc.nservers = 1;
	dc.timeout_ms = 1000;
	dc.tries = 1;
	t->dns = dns_new(&dc, err, sizeof(err));
	assert_non_null(t->dns);
	t->ctx = dkimv_ctx_new(t->dns, 1, err, sizeof(err));
	assert_non_null(t->ctx);
	t->v = dkimv_new(t->ctx, "test", max, false);
}

/* tv_end - end of message: the results */
static void
tv_end(struct tv *t)
{
	static const unsigned char body[] = "hello\r\n";
	struct timespec dl;

	if (dkimv_eoh(t->v))
		dkimv_body(t->v, body, sizeof(body) - 1);
	dns_deadline(&dl, 2000);
	t->n = dkimv_eom(t->v, &dl, t->out, DKIMV_MAX_SIGS);
}

/* tv_free - everything of t */
static void
tv_free(struct tv *t)
{
	dkimv_free(t->v);
	dkimv_ctx_free(t->ctx);
	dns_free(t->dns);
}

/* tv_headers - the usual header fields of a test message */
static void
tv_headers(struct tv *t)
{
	dkimv_header(t->v, "From", " a@example.com");
	dkimv_header(t->v, "To", " b@example.net");
	dkimv_header(t->v, "Subject", " test");
}

/* cpu - process CPU seconds so far */
static double
cpu(void)
{
	return (double)clock() / CLOCKS_PER_SEC;
}

/*
 * issue 9 (5): one DKIM-Signature field of 100,000 tags (889 KB) cost a
 * minute of CPU in libopendkim's dkim_header(); it never reaches it now
 */
static void
test_hostile_tags(void **state)
{
	struct tv t;
	char *s = many_tags(T_MANY_TAGS);
	double t0;

	(void)state;
	assert_true(strlen(s) > 800000);
	tv_start(&t, T_MAX_SIGS);
	t0 = cpu();
	dkimv_header(t.v, "DKIM-Signature", s);
	tv_headers(&t);
	tv_end(&t);
	t0 = cpu() - t0;
	print_message("# one field of %d tags: %.3f s of CPU\n", T_MANY_TAGS,
	    t0);
	assert_true(t0 < T_CPU_LIMIT);
	assert_int_equal(t.n, 1);
	assert_int_equal(t.out[0].result, DKIMV_PERMERROR);
	assert_non_null(strstr(t.out[0].reason, "longer than 8192 bytes"));
	assert_string_equal(t.out[0].domain, "");
	tv_free(&t);
	free(s);
}

/*
 * 20,000 DKIM-Signature fields: only MaximumSignaturesToVerify of them,
 * the top ones, reach the library; the others are not even reported
 */
static void
test_hostile_count(void **state)
{
	struct tv t;
	double t0;
	char *bad = sig("v=1; a=rsa-sha256; d=bad(.example.com; s=top; "
	    "h=from; bh=%s; b=%s", T_BH, T_B);

	(void)state;
	tv_start(&t, T_MAX_SIGS);
	t0 = cpu();
	dkimv_header(t.v, "DKIM-Signature", bad);
	for (int i = 1; i < T_MANY_SIGS; i++)
		dkimv_header(t.v, "DKIM-Signature", sig_ok);
	tv_headers(&t);
	tv_end(&t);
	t0 = cpu() - t0;
	print_message("# %d fields: %.3f s of CPU\n", T_MANY_SIGS, t0);
	assert_true(t0 < T_CPU_LIMIT);
	assert_int_equal(t.n, T_MAX_SIGS);
	/* the top one is reported for what it is, without its d= */
	assert_int_equal(t.out[0].result, DKIMV_PERMERROR);
	assert_non_null(strstr(t.out[0].reason, "d= is not a domain name"));
	assert_string_equal(t.out[0].domain, "");
	assert_string_equal(t.out[0].selector, "top");
	/* the others were verified: their keys could not be had */
	for (size_t i = 1; i < t.n; i++) {
		assert_int_equal(t.out[i].result, DKIMV_TEMPERROR);
		assert_string_equal(t.out[i].domain, "example.com");
		assert_string_equal(t.out[i].selector, "sel");
		assert_string_equal(t.out[i].algorithm, "rsa-sha256");
		assert_string_equal(t.out[i].b, "dGVzdCBz");
	}
	tv_free(&t);
	free(bad);
}

/*
 * a message whose signatures are all invalid has results all the same,
 * and none reaches the library
 */
static void
test_all_invalid(void **state)
{
	struct tv t;

	(void)state;
	tv_start(&t, T_MAX_SIGS);
	dkimv_header(t.v, "DKIM-Signature", " v=1; a=rsa-sha256; "
	    "d=example.com; s=sel; h=to; bh=" T_BH "; b=" T_B);
	dkimv_header(t.v, "DKIM-Signature", " v=1; a=rsa-sha256; "
	    "d=example.com; s=sel; h=from; x=1; bh=" T_BH "; b=" T_B);
	tv_headers(&t);
	assert_false(dkimv_eoh(t.v));	/* no body needed */
	tv_end(&t);
	assert_int_equal(t.n, 2);
	assert_int_equal(t.out[0].result, DKIMV_PERMERROR);
	assert_string_equal(t.out[0].reason, "From field not signed");
	assert_string_equal(t.out[0].domain, "example.com");
	assert_int_equal(t.out[1].result, DKIMV_PERMERROR);
	assert_string_equal(t.out[1].reason, "signature expired");
	tv_free(&t);
}

/*
 * h= naming one more field after every field of the message is used: the
 * library wrote one pointer past its array there (dkimv_eoh adds a field
 * against it; t_valgrind.sh sees the write). The signature is verified as
 * any other: its key is looked up. The added field's name holds a space,
 * which no h= name that reaches the library may hold.
 */
static void
test_all_fields_signed(void **state)
{
	struct tv t;

	(void)state;
	tv_start(&t, T_MAX_SIGS);
	dkimv_header(t.v, "DKIM-Signature", " v=1; a=rsa-sha256; "
	    "d=example.com; s=sel; h=from:to:subject:dkim-signature:date:"
	    "from; bh=" T_BH "; b=" T_B);
	tv_headers(&t);
	assert_true(dkimv_eoh(t.v));
	tv_end(&t);
	assert_int_equal(t.n, 1);
	assert_int_equal(t.out[0].result, DKIMV_TEMPERROR);
	expect_bad("v=1; a=rsa-sha256; d=example.com; s=sel; "
	    "h=from:Authmilter Pad; bh=" T_BH "; b=" T_B,
	    "h= has a malformed field name");
	tv_free(&t);
}

/* dkimv_sig_domain: only the d= of a signature that may be verified */
static void
test_sig_domain(void **state)
{
	char d[DNS_MAX_NAME + 1];
	char *s = many_tags(T_MANY_TAGS);

	(void)state;
	assert_true(dkimv_sig_domain(sig_ok, d, sizeof(d)));
	assert_string_equal(d, "example.com");
	assert_false(dkimv_sig_domain(" v=1; a=rsa-sha256; "
	    "d=legitimate.com(.attacker.com; s=sel; h=from; bh=" T_BH
	    "; b=" T_B, d, sizeof(d)));
	assert_false(dkimv_sig_domain(s, d, sizeof(d)));
	assert_false(dkimv_sig_domain(sig_ok, d, 5));
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_bad_domain),
		cmocka_unit_test(test_bad_tags),
		cmocka_unit_test(test_error_results),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_hostile_tags),
		cmocka_unit_test(test_hostile_count),
		cmocka_unit_test(test_all_invalid),
		cmocka_unit_test(test_all_fields_signed),
		cmocka_unit_test(test_sig_domain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
