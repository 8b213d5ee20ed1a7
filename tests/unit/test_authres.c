/*
 * test_authres.c - unit tests of authres.c: the Authentication-Results
 * value we write (format, folding, quoting, escaping, hostile strings)
 * and the recognition of existing fields that claim our authserv-id
 * (comments, versions, case, folding, hostile input).
 *
 * check_folded() is the common oracle: every line break is CRLF followed
 * by white space, no bare CR or LF, no line of white space only, every
 * line at most AUTHRES_FOLD_AT bytes (the first one counted after
 * "Authentication-Results: "), and unfolding (removing the CRLFs, tabs
 * read as spaces) gives back the expected one-line text.
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

#include <cmocka.h>

#include "authres.h"

#define FIELD_PREFIX	"Authentication-Results: "
#define HUGE_INPUT	(1024 * 1024)	/* bytes of hostile input */

/* unfold - the value with CRLFs removed and tabs read as spaces */
static char *
unfold(const char *v)
{
	char *u = malloc(strlen(v) + 1), *q = u;

	assert_non_null(u);
	for (; *v != '\0'; v++) {
		if (v[0] == '\r' && v[1] == '\n') {
			v++;
			continue;
		}
		*q++ = *v == '\t' ? ' ' : *v;
	}
	*q = '\0';
	return u;
}

/*
 * check_folded - v is well folded; its longest line is returned. When
 * strict, every line must fit AUTHRES_FOLD_AT.
 */
static size_t
check_folded(const char *v, bool strict)
{
	size_t col = strlen(FIELD_PREFIX), longest = 0;
	bool blank = false;
	const char *p;

	for (p = v; *p != '\0'; p++) {
		if (*p == '\r') {
			assert_int_equal(p[1], '\n');
			assert_true(p[2] == ' ' || p[2] == '\t');
			assert_false(blank && col > 0);
			if (col > longest)
				longest = col;
			col = 0;
			blank = true;
			p++;
			continue;
		}
		assert_true(*p != '\n');
		assert_true((unsigned char)*p >= 0x20 || *p == '\t');
		assert_true(*p != 0x7f);
		if (*p != ' ' && *p != '\t')
			blank = false;
		col++;
	}
	assert_false(blank);
	if (col > longest)
		longest = col;
	if (strict)
		assert_true(longest <= AUTHRES_FOLD_AT);
	return longest;
}

/* expect_unfolded - v unfolds to one */
static void
expect_unfolded(const char *v, const char *one)
{
	char *u = unfold(v);

	assert_string_equal(u, one);
	free(u);
}

/* --- formatting ---------------------------------------------------------- */

static void
test_format_example(void **state)
{
	struct authres *ar = authres_new("mx.example.org");
	char *v;

	(void)state;
	authres_add(ar, "dkim", "pass", NULL, "header.d", "example.com",
	    "header.s", "sel", "header.a", "rsa-sha256", "header.b",
	    "AbCdEfGh", NULL);
	authres_add(ar, "spf", "pass", "reason", "smtp.mailfrom",
	    "user@example.com", NULL);
	authres_add(ar, "dmarc", "pass", NULL, "header.from", "example.com",
	    NULL);
	v = authres_format(ar);
	/* the dkim clause is 82 bytes: it folds before header.b */
	assert_string_equal(v, "mx.example.org;\r\n"
	    "\tdkim=pass header.d=example.com header.s=sel "
	    "header.a=rsa-sha256\r\n"
	    "\theader.b=AbCdEfGh;\r\n"
	    "\tspf=pass (reason) smtp.mailfrom=user@example.com;\r\n"
	    "\tdmarc=pass header.from=example.com");
	check_folded(v, true);
	free(v);
	authres_free(ar);
}

static void
test_format_short(void **state)
{
	struct authres *ar = authres_new("mx");
	char *v;

	(void)state;
	authres_add(ar, "spf", "none", NULL, "smtp.mailfrom", "a.example",
	    NULL);
	v = authres_format(ar);
	assert_string_equal(v, "mx;\r\n\tspf=none smtp.mailfrom=a.example");
	free(v);
	authres_free(ar);
}

static void
test_format_none(void **state)
{
	struct authres *ar = authres_new("mx.example.org");
	char *v;

	(void)state;
	v = authres_format(ar);
	assert_string_equal(v, "mx.example.org; none");
	free(v);
	authres_free(ar);
	v = authres_format(NULL);
	assert_string_equal(v, "localhost; none");
	free(v);
	/* no id at all */
	ar = authres_new(NULL);
	v = authres_format(ar);
	assert_string_equal(v, "localhost; none");
	free(v);
	authres_free(ar);
	ar = authres_new("");
	v = authres_format(ar);
	assert_string_equal(v, "localhost; none");
	free(v);
	authres_free(ar);
}

static void
test_format_servid_quoted(void **state)
{
	struct authres *ar = authres_new("my \"mail\" host");
	char *v;

	(void)state;
	v = authres_format(ar);
	assert_string_equal(v, "\"my \\\"mail\\\" host\"; none");
	free(v);
	authres_free(ar);
	ar = authres_new("mx\r\nX-Injected: yes");
	v = authres_format(ar);
	check_folded(v, true);
	assert_null(strstr(v, "\r\nX-"));
	assert_true(authres_servid_matches(v, "mx X-Injected: yes"));
	free(v);
	authres_free(ar);
}

static void
test_fold_many_clauses(void **state)
{
	struct authres *ar = authres_new("mx.example.org");
	char d[64], b[16];
	size_t i, n = 0;
	char *v;
	const char *p;

	(void)state;
	for (i = 0; i < AUTHRES_MAX_RESULTS + 8; i++) {
		snprintf(d, sizeof(d), "signer%zu.example.com", i);
		snprintf(b, sizeof(b), "b%07zu", i);
		authres_add(ar, "dkim", i % 2 ? "pass" : "fail",
		    i % 3 ? NULL : "signature verification failed",
		    "header.d", d, "header.i", "@example.com", "header.s",
		    "selector2024", "header.a", "ed25519-sha256", "header.b", b,
		    NULL);
	}
	v = authres_format(ar);
	check_folded(v, true);
	for (p = v; (p = strstr(p, ";\r\n\t")) != NULL; p++)
		n++;
	assert_int_equal(n, AUTHRES_MAX_RESULTS);	/* the rest dropped */
	assert_non_null(strstr(v, "signer31.example.com"));
	assert_null(strstr(v, "signer32.example.com"));
	free(v);
	authres_free(ar);
}

static void
test_fold_long_comment(void **state)
{
	struct authres *ar = authres_new("mx.example.org");
	char comment[400], one[1024];
	size_t n = 0;
	char *v;

	(void)state;
	while (n + 10 < sizeof(comment) - 1)
		n += (size_t)snprintf(comment + n, sizeof(comment) - n,
		    "word%03zu ", n);
	comment[n - 1] = '\0';
	authres_add(ar, "spf", "fail", comment, "smtp.mailfrom",
	    "bounce@example.com", NULL);
	v = authres_format(ar);
	check_folded(v, true);
	snprintf(one, sizeof(one), "mx.example.org; spf=fail (%s) "
	    "smtp.mailfrom=bounce@example.com", comment);
	expect_unfolded(v, one);
	free(v);
	authres_free(ar);
}

static void
test_fold_long_quoted(void **state)
{
	struct authres *ar = authres_new("mx");
	char value[300], one[1024];
	size_t n = 0;
	char *v;

	(void)state;
	while (n + 8 < sizeof(value) - 1)
		n += (size_t)snprintf(value + n, sizeof(value) - n,
		    "part%02zu ", n % 100);
	value[n - 1] = '\0';
	authres_add(ar, "x-test", "pass", NULL, "policy.text", value, NULL);
	v = authres_format(ar);
	check_folded(v, true);
	snprintf(one, sizeof(one), "mx; x-test=pass policy.text=\"%s\"",
	    value);
	expect_unfolded(v, one);
	free(v);
	authres_free(ar);
}

static void
test_fold_long_token(void **state)
{
	struct authres *ar = authres_new("mx");
	char tok[200], one[512];
	char *v;

	(void)state;
	memset(tok, 'A', sizeof(tok) - 1);
	tok[sizeof(tok) - 1] = '\0';
	authres_add(ar, "dkim", "pass", NULL, "header.d", "example.com",
	    "header.b", tok, "header.s", "s1", NULL);
	v = authres_format(ar);
	/* a token never folds: one long line, the rest still fine */
	assert_true(check_folded(v, false) > AUTHRES_FOLD_AT);
	assert_non_null(strstr(v, tok));
	snprintf(one, sizeof(one), "mx; dkim=pass header.d=example.com "
	    "header.b=%s header.s=s1", tok);
	expect_unfolded(v, one);
	free(v);
	authres_free(ar);
}

/* value_of - the formatted form of one property value */
static char *
value_of(const char *value)
{
	struct authres *ar = authres_new("mx");
	const char *prefix = "mx; x=pass p.v=";
	char *v, *u, *r;

	authres_add(ar, "x", "pass", NULL, "p.v", value, NULL);
	v = authres_format(ar);
	check_folded(v, false);
	u = unfold(v);
	assert_memory_equal(u, prefix, strlen(prefix));
	r = strdup(u + strlen(prefix));
	assert_non_null(r);
	free(u);
	free(v);
	authres_free(ar);
	return r;
}

/* want_value - value is written as want */
static void
want_value(const char *value, const char *want)
{
	char *r = value_of(value);

	assert_string_equal(r, want);
	free(r);
}

static void
test_quoting(void **state)
{
	(void)state;
	want_value("example.com", "example.com");
	want_value("user@example.com", "user@example.com");
	want_value("@example.com", "@example.com");
	want_value("first.last+tag@sub.example.com",
	    "first.last+tag@sub.example.com");
	want_value("rsa-sha256", "rsa-sha256");
	want_value("AbC+/=", "\"AbC+/=\"");	/* "/" "=" are tspecials */
	want_value("two words", "\"two words\"");
	want_value("a;b", "\"a;b\"");
	want_value("a(b)", "\"a(b)\"");
	want_value("say \"hi\"", "\"say \\\"hi\\\"\"");
	want_value("back\\slash", "\"back\\\\slash\"");
	want_value("", "\"\"");
	want_value("a..b@example.com", "\"a..b@example.com\"");
	want_value("user@-bad.example", "\"user@-bad.example\"");
	want_value("user@", "\"user@\"");
	want_value("\"john doe\"@example.com",
	    "\"\\\"john doe\\\"@example.com\"");
	want_value("a@b@c", "\"a@b@c\"");
}

static void
test_hostile_values(void **state)
{
	char *r;

	(void)state;
	/* no header injection: CR LF become spaces */
	want_value("x\r\nX-Evil: 1", "\"x  X-Evil: 1\"");
	want_value("nul\001del\177", "\"nul del \"");
	/* UTF-8 is kept (RFC 6532), quoted; broken bytes become "?" */
	want_value("j\xc3\xb6ran@example.com", "\"j\xc3\xb6ran@example.com\"");
	want_value("bad\xff\xc3", "\"bad??\"");
	want_value("\xe0\x80\x80", "\"???\"");	/* overlong */
	want_value("\xed\xa0\x80", "\"???\"");	/* surrogate */
	/* bounded */
	{
		char *big = malloc(AUTHRES_MAX_VALUE * 3);

		assert_non_null(big);
		memset(big, 'x', AUTHRES_MAX_VALUE * 3 - 1);
		big[AUTHRES_MAX_VALUE * 3 - 1] = '\0';
		r = value_of(big);
		assert_int_equal(strlen(r), AUTHRES_MAX_VALUE);
		free(r);
		/* a cut never splits a UTF-8 character */
		memset(big, 'x', AUTHRES_MAX_VALUE - 1);
		memcpy(big + AUTHRES_MAX_VALUE - 1, "\xc3\xa9tail", 7);
		r = value_of(big);
		assert_int_equal(strlen(r), AUTHRES_MAX_VALUE - 1);
		assert_null(strchr(r, '\xc3'));
		free(r);
		free(big);
	}
}

static void
test_comments(void **state)
{
	struct authres *ar = authres_new("mx");
	char *v;

	(void)state;
	authres_add(ar, "spf", "fail", "a (b) c\\d", NULL);
	authres_add(ar, "dkim", "fail", "  too   much\r\n\tspace  ", NULL);
	authres_add(ar, "dmarc", "none", "", NULL);
	authres_add(ar, "arc", "none", "((((", NULL);
	v = authres_format(ar);
	assert_string_equal(v, "mx;\r\n\tspf=fail (a \\(b\\) c\\\\d);\r\n"
	    "\tdkim=fail (too much space);\r\n\tdmarc=none;\r\n"
	    "\tarc=none (\\(\\(\\(\\()");
	check_folded(v, true);
	free(v);
	authres_free(ar);
}

static void
test_keywords(void **state)
{
	struct authres *ar = authres_new("mx");
	char *v;

	(void)state;
	authres_add(ar, "dk;im", "pa ss", NULL, "header.d", "example.com",
	    NULL);
	authres_add(ar, ";", "pass", NULL, NULL);		/* dropped */
	authres_add(ar, "spf", "", NULL, NULL);		/* dropped */
	authres_add(ar, NULL, "pass", NULL, NULL);		/* dropped */
	authres_add(ar, "auth/1", "pass", NULL, "smtp.auth", "joe",
	    "bad name!", "x", "=", "y", "p.x", NULL, "p.y", "kept", NULL);
	authres_add(NULL, "spf", "pass", NULL, NULL);		/* no-op */
	v = authres_format(ar);
	assert_string_equal(v, "mx;\r\n\tdkim=pass header.d=example.com;\r\n"
	    "\tauth/1=pass smtp.auth=joe badname=x p.y=kept");
	free(v);
	authres_free(ar);
	authres_free(NULL);
}

static void
test_props_bounded(void **state)
{
	struct authres *ar = authres_new("mx");
	char *v;

	(void)state;
	authres_add(ar, "x", "pass", NULL, "a.a", "1", "a.b", "2", "a.c", "3",
	    "a.d", "4", "a.e", "5", "a.f", "6", "a.g", "7", "a.h", "8", NULL);
	v = authres_format(ar);
	assert_string_equal(v, "mx;\r\n\tx=pass a.a=1 a.b=2 a.c=3 a.d=4 a.e=5 "
	    "a.f=6");
	free(v);
	authres_free(ar);
}

/* --- recognising our authserv-id ----------------------------------------- */

static void
test_servid_plain(void **state)
{
	(void)state;
	assert_true(authres_servid_matches("mx.example.org; spf=pass",
	    "mx.example.org"));
	assert_true(authres_servid_matches("mx.example.org;none",
	    "mx.example.org"));
	assert_true(authres_servid_matches("mx.example.org", "mx.example.org"));
	assert_true(authres_servid_matches(" MX.Example.ORG ; none",
	    "mx.example.org"));
	assert_true(authres_servid_matches("mx.example.org; none",
	    "MX.EXAMPLE.ORG"));
	assert_false(authres_servid_matches("mx.example.org.evil; none",
	    "mx.example.org"));
	assert_false(authres_servid_matches("evil.mx.example.org; none",
	    "mx.example.org"));
	assert_false(authres_servid_matches("mx.example.or; none",
	    "mx.example.org"));
	assert_false(authres_servid_matches("mx.example.org1; none",
	    "mx.example.org"));
	assert_false(authres_servid_matches("other.example; none",
	    "mx.example.org"));
	assert_false(authres_servid_matches("", "mx.example.org"));
	assert_false(authres_servid_matches("; spf=pass", "mx.example.org"));
	assert_false(authres_servid_matches("   ", "mx.example.org"));
	assert_false(authres_servid_matches(NULL, "mx.example.org"));
	assert_false(authres_servid_matches("mx; none", NULL));
	assert_false(authres_servid_matches("mx; none", ""));
}

static void
test_servid_version_comments(void **state)
{
	(void)state;
	assert_true(authres_servid_matches("mx.example.org 1; spf=pass",
	    "mx.example.org"));
	assert_true(authres_servid_matches("mx.example.org (v) 1 (x); none",
	    "mx.example.org"));
	assert_true(authres_servid_matches("(comment) mx.example.org; none",
	    "mx.example.org"));
	assert_true(authres_servid_matches("(a (nested) one)mx.example.org;",
	    "mx.example.org"));
	assert_true(authres_servid_matches("(esc \\) paren) mx.example.org;",
	    "mx.example.org"));
	assert_true(authres_servid_matches("mx.example.org(c);none",
	    "mx.example.org"));
	/* an id inside a comment is not the id */
	assert_false(authres_servid_matches("(mx.example.org) other; none",
	    "mx.example.org"));
	/* quoted-string ids */
	assert_true(authres_servid_matches("\"mx.example.org\"; none",
	    "mx.example.org"));
	assert_true(authres_servid_matches("\"my \\\"mail\\\" host\"; none",
	    "my \"mail\" host"));
	assert_false(authres_servid_matches("\"mx.example.org x\"; none",
	    "mx.example.org"));
}

static void
test_servid_folding(void **state)
{
	(void)state;
	assert_true(authres_servid_matches(
	    "\r\n\tmx.example.org;\r\n\tspf=pass",
	    "mx.example.org"));
	assert_true(authres_servid_matches("\n mx.example.org;\n spf=pass",
	    "mx.example.org"));
	assert_true(authres_servid_matches("(c\r\n\tc)\n\tmx.example.org",
	    "mx.example.org"));
	assert_true(authres_servid_matches("\"mx.example\r\n.org\"; none",
	    "mx.example.org"));
	/* what we write, we recognise */
	{
		struct authres *ar = authres_new("Mx.Example.Org");
		char *v;

		authres_add(ar, "spf", "pass", NULL, NULL);
		v = authres_format(ar);
		assert_true(authres_servid_matches(v, "mx.example.org"));
		free(v);
		authres_free(ar);
	}
}

static void
test_servid_hostile(void **state)
{
	char *big = malloc(HUGE_INPUT + 64);
	size_t i;

	(void)state;
	assert_non_null(big);
	/* unbalanced comments and quotes: no match, no overrun */
	assert_false(authres_servid_matches("(mx.example.org; none",
	    "mx.example.org"));
	assert_false(authres_servid_matches("((a) mx.example.org; none",
	    "mx.example.org"));
	assert_false(authres_servid_matches("(abc\\", "mx.example.org"));
	assert_false(authres_servid_matches("\"mx.example.org",
	    "mx.example.org"));
	assert_false(authres_servid_matches("\"mx\\", "mx"));
	assert_true(authres_servid_matches(")mx; none", "x") == false);
	/* a megabyte of "(": unbalanced */
	memset(big, '(', HUGE_INPUT);
	big[HUGE_INPUT] = '\0';
	assert_false(authres_servid_matches(big, "mx"));
	/* a megabyte of balanced nesting, then the id */
	for (i = 0; i < HUGE_INPUT / 2; i++) {
		big[i] = '(';
		big[HUGE_INPUT - 1 - i] = ')';
	}
	strcpy(big + HUGE_INPUT, " mx; none");
	assert_true(authres_servid_matches(big, "mx"));
	/* a megabyte-long id */
	memset(big, 'm', HUGE_INPUT);
	big[HUGE_INPUT] = '\0';
	assert_false(authres_servid_matches(big, "mx"));
	assert_false(authres_servid_matches("mmm", big));
	/* 8-bit and control bytes end the token */
	assert_false(authres_servid_matches("m\xc3\xa9x; none", "mx"));
	assert_true(authres_servid_matches("mx\001; none", "mx"));
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_example),
		cmocka_unit_test(test_format_short),
		cmocka_unit_test(test_format_none),
		cmocka_unit_test(test_format_servid_quoted),
		cmocka_unit_test(test_fold_many_clauses),
		cmocka_unit_test(test_fold_long_comment),
		cmocka_unit_test(test_fold_long_quoted),
		cmocka_unit_test(test_fold_long_token),
		cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_hostile_values),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_keywords),
		cmocka_unit_test(test_props_bounded),
		cmocka_unit_test(test_servid_plain),
		cmocka_unit_test(test_servid_version_comments),
		cmocka_unit_test(test_servid_folding),
		cmocka_unit_test(test_servid_hostile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
