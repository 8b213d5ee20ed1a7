/*
 * test_addr.c - unit tests of addr.c: From-style address lists, SMTP
 * envelope addresses and domain syntax, with hostile input throughout.
 * Each test value is copied into a buffer of exactly its length, so that
 * AddressSanitizer catches any read past len.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"

static struct addrlist al;

/* parse_n - addr_parse_list over an exact-size heap copy of n bytes */
static enum addr_status
parse_n(const char *s, size_t n)
{
	char *copy = malloc(n ? n : 1);
	enum addr_status st;

	assert_non_null(copy);
	memcpy(copy, s, n);
	st = addr_parse_list(copy, n, &al);
	free(copy);
	return st;
}

static enum addr_status
parse(const char *s)
{
	return parse_n(s, strlen(s));
}

/* expect_one - s parses to exactly one mailbox local@domain */
static void
expect_one(const char *s, const char *local, const char *domain)
{
	assert_int_equal(parse(s), ADDR_OK);
	assert_int_equal(al.count, 1);
	assert_false(al.truncated);
	assert_string_equal(al.box[0].local, local);
	assert_string_equal(al.box[0].domain, domain);
}

/* expect_syntax - s is malformed and nothing is returned */
static void
expect_syntax(const char *s)
{
	assert_int_equal(parse(s), ADDR_SYNTAX);
	assert_int_equal(al.count, 0);
}

/* make - a heap string of n copies of the byte ch (caller frees) */
static char *
make(int ch, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, ch, n);
	s[n] = '\0';
	return s;
}

/* --- plain forms ------------------------------------------------------- */

static void
test_addr_spec(void **state)
{
	(void)state;
	expect_one("user@example.com", "user", "example.com");
}

static void
test_angle_only(void **state)
{
	(void)state;
	expect_one("<user@example.com>", "user", "example.com");
	expect_one("  < user @ example.com >  ", "user", "example.com");
}

static void
test_display_atoms(void **state)
{
	(void)state;
	expect_one("John Doe <john@example.com>", "john", "example.com");
}

static void
test_display_quoted(void **state)
{
	(void)state;
	expect_one("\"Doe, John \\\"JD\\\"\" <john@example.com>", "john",
	    "example.com");
}

static void
test_display_quoted_at(void **state)
{
	(void)state;
	expect_one("\"evil@bad.com\" <good@ok.com>", "good", "ok.com");
}

static void
test_display_quoted_comma(void **state)
{
	(void)state;
	expect_one("\"Doe, John\" <j@x.com>", "j", "x.com");
}

static void
test_display_unquoted_comma(void **state)
{
	(void)state;
	expect_syntax("Doe, John <j@x.com>");
}

static void
test_display_unquoted_at(void **state)
{
	(void)state;
	expect_syntax("evil@bad.com <good@ok.com>");
	expect_syntax("John Doe@x.com");
}

static void
test_display_obs_dot(void **state)
{
	(void)state;
	expect_one("John Q. Public <jqp@example.com>", "jqp", "example.com");
	expect_syntax(". Public <jqp@example.com>");
}

static void
test_display_utf8(void **state)
{
	(void)state;
	expect_one("J\xc3\xb6rg M\xc3\xbcller <j@example.de>", "j",
	    "example.de");
}

static void
test_two_mailboxes(void **state)
{
	(void)state;
	assert_int_equal(parse("a@b.com, c@d.com"), ADDR_OK);
	assert_int_equal(al.count, 2);
	assert_string_equal(al.box[0].domain, "b.com");
	assert_string_equal(al.box[1].local, "c");
	assert_string_equal(al.box[1].domain, "d.com");
	assert_false(al.groups);
}

static void
test_two_angles_no_comma(void **state)
{
	(void)state;
	expect_syntax("<a@b.com> <c@d.com>");
	expect_syntax("From: <a@b.com> <c@d.com>");
	expect_syntax("a@b.com c@d.com");
}

static void
test_empty_elements(void **state)
{
	(void)state;
	assert_int_equal(parse(", a@b.com,,  , c@d.com,"), ADDR_OK);
	assert_int_equal(al.count, 2);
}

static void
test_no_address(void **state)
{
	(void)state;
	expect_syntax("");
	expect_syntax("   ");
	expect_syntax(" , ,, ");
	expect_syntax("(only a comment)");
	assert_int_equal(addr_parse_list(NULL, 0, &al), ADDR_SYNTAX);
}

static void
test_rfc5322_appendix(void **state)
{
	(void)state;
	/* the examples of RFC 5322 appendix A.1 */
	assert_int_equal(parse("Mary Smith <mary@x.test>, jdoe@example.org, "
	    "Who? <one@y.test>"), ADDR_OK);
	assert_int_equal(al.count, 3);
	assert_string_equal(al.box[2].domain, "y.test");
	assert_int_equal(parse("<boss@nil.test>, \"Giant; \\\"Big\\\" Box\" "
	    "<sysservices@example.net>"), ADDR_OK);
	assert_int_equal(al.count, 2);
	assert_string_equal(al.box[1].local, "sysservices");
	assert_int_equal(parse("A Group:Ed Jones <c@a.test>,joe@where.test,"
	    "John <jdoe@one.test>;"), ADDR_OK);
	assert_int_equal(al.count, 3);
	assert_true(al.groups);
	expect_one("Pete(A nice \\) chap) <pete(his account)@silly.test"
	    "(his host)>", "pete", "silly.test");
	assert_int_equal(parse("A Group(Some people)\r\n     :Chris Jones "
	    "<c@(Chris's host.)public.example>,\r\n         joe@example.org,"
	    "\r\n  John <jdoe@one.test> (my dear friend); (the end of the "
	    "group)"), ADDR_OK);
	assert_int_equal(al.count, 3);
	assert_string_equal(al.box[0].domain, "public.example");
}

/* --- comments ---------------------------------------------------------- */

static void
test_comment_address_ignored(void **state)
{
	(void)state;
	expect_one("(x@evil.com) a@ok.com", "a", "ok.com");
	expect_one("a@ok.com (x@evil.com)", "a", "ok.com");
	expect_one("Name (<x@evil.com>) <a@ok.com>", "a", "ok.com");
}

static void
test_comment_everywhere(void **state)
{
	(void)state;
	expect_one("(c1)a(c2)@(c3)ok(c4).(c5)com(c6)", "a", "ok.com");
	expect_one("<(c)a@ok.com(c)>", "a", "ok.com");
}

static void
test_comment_nested_escaped(void **state)
{
	(void)state;
	expect_one("(a (b (c) \\) \\( ) d) x@ok.com", "x", "ok.com");
	expect_one("(\"not a quote) x@ok.com", "x", "ok.com");
}

static void
test_comment_unterminated(void **state)
{
	(void)state;
	expect_syntax("(x@evil.com a@ok.com");
	expect_syntax("a@ok.com (trailing");
	expect_syntax("a@ok.com (esc \\)");
	expect_syntax("a@ok.com )");
}

static void
test_comment_depth(void **state)
{
	(void)state;
	/* 8 levels: the bound */
	expect_one("((((((((x)))))))) a@ok.com", "a", "ok.com");
	/* 9 levels: beyond it */
	expect_syntax("(((((((((x))))))))) a@ok.com");
}

static void
test_comment_deep_hostile(void **state)
{
	size_t n = 100000;
	char *s = make('(', n);

	(void)state;
	memset(s + n / 2, ')', n / 2);
	expect_syntax(s);
	free(s);
}

/* --- quoted strings and local parts -------------------------------- */

static void
test_quoted_unterminated(void **state)
{
	(void)state;
	expect_syntax("\"John <john@example.com>");
	expect_syntax("\"john@example.com");
	expect_syntax("\"x\\\" <a@b.com>");
}

static void
test_quoted_local(void **state)
{
	(void)state;
	expect_one("\"john doe\"@example.com", "john doe", "example.com");
	expect_one("<\"john doe\"@example.com>", "john doe", "example.com");
}

static void
test_quoted_local_escape(void **state)
{
	(void)state;
	expect_one("\"a\\\"b\\\\c\"@example.com", "a\"b\\c", "example.com");
}

static void
test_quoted_local_at(void **state)
{
	(void)state;
	expect_one("\"evil@bad.com\"@ok.com", "evil@bad.com", "ok.com");
}

static void
test_obs_local(void **state)
{
	(void)state;
	expect_one("john . doe @ example . com", "john.doe", "example.com");
	expect_one("\"a b\".c@example.com", "a b.c", "example.com");
}

static void
test_bad_local(void **state)
{
	(void)state;
	expect_syntax("a..b@example.com");
	expect_syntax(".a@example.com");
	expect_syntax("a.@example.com");
	expect_syntax("@example.com");
	expect_syntax("<@example.com>");
}

static void
test_local_case_kept(void **state)
{
	(void)state;
	expect_one("John.DOE@EXAMPLE.Com", "John.DOE", "example.com");
}

static void
test_local_length(void **state)
{
	char *local = make('a', ADDR_MAX_LOCAL + 1);
	char buf[ADDR_MAX_LOCAL + 32];

	(void)state;
	snprintf(buf, sizeof(buf), "%s@ok.com", local);
	expect_syntax(buf);
	local[ADDR_MAX_LOCAL] = '\0';
	snprintf(buf, sizeof(buf), "%s@ok.com", local);
	expect_one(buf, local, "ok.com");
	free(local);
}

/* --- domains ------------------------------------------------------------ */

static void
test_no_domain(void **state)
{
	(void)state;
	expect_syntax("user");
	expect_syntax("<user>");
	expect_syntax("Name <user>");
	expect_syntax("a@b.com, user");
}

static void
test_empty_domain(void **state)
{
	(void)state;
	expect_syntax("a@");
	expect_syntax("<a@>");
	expect_syntax("a@ (c)");
}

static void
test_invalid_domain(void **state)
{
	(void)state;
	expect_syntax("a@-bad.com");
	expect_syntax("a@bad-.com");
	expect_syntax("a@b_c.com");
	expect_syntax("a@b..com");
	expect_syntax("a@.com");
	expect_syntax("a@b.com..");
	expect_syntax("a@ex/ample.com");
}

static void
test_domain_lower_dot(void **state)
{
	(void)state;
	expect_one("a@EXAMPLE.COM.", "a", "example.com");
	expect_one("<a@Example.Com.>", "a", "example.com");
}

static void
test_domain_literal(void **state)
{
	(void)state;
	expect_one("a@[192.0.2.1]", "a", "[192.0.2.1]");
	expect_one("<a@[IPv6:2001:DB8::1]>", "a", "[ipv6:2001:db8::1]");
	expect_syntax("a@[192.0.2.1");
	expect_syntax("a@[]");
	expect_syntax("a@[1 2]");
	expect_syntax("a@[1[2]");
}

/* U-labels become A-labels for the DNS (RFC 3492 / IDNA2008 samples) */
static void
test_domain_to_ascii(void **state)
{
	static const struct { const char *in, *out; } ok[] = {
		{ "example.com", "example.com" },
		{ "ExAmple.COM.", "example.com" },
		{ "b\xc3\xbc" "cher.example", "xn--bcher-kva.example" },
		{ "m\xc3\xbc" "nchen.de", "xn--mnchen-3ya.de" },
		{ "\xe4\xbe\x8b\xe3\x81\x88.\xe3\x83\x86\xe3\x82\xb9"
		  "\xe3\x83\x88", "xn--r8jz45g.xn--zckzah" },
		{ "\xce\xb5\xce\xbb.example", "xn--qxam.example" },
		{ "xn--bcher-kva.example", "xn--bcher-kva.example" },
	};
	char out[256];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_true(addr_domain_to_ascii(ok[i].in, out, sizeof(out)));
		assert_string_equal(out, ok[i].out);
	}
	assert_false(addr_domain_to_ascii("b\xc3.example", out, sizeof(out)));
	assert_false(addr_domain_to_ascii("\xed\xa0\x80.example", out,
	    sizeof(out)));
	assert_false(addr_domain_to_ascii("example.com", out, 5));
	/* found by fuzz_addr: NFC makes U+037E (Greek question mark) ";" */
	assert_false(addr_domain_to_ascii("\xcd\xbe", out, sizeof(out)));
	assert_false(addr_domain_to_ascii("a\xcd\xbe" "b.example", out,
	    sizeof(out)));
}

/*
 * U-labels not yet in IDNA2008 form reach the A-label of their canonical
 * spelling (UTS #46 mapping, NFC), so a From domain finds its DMARC record
 */
static void
test_domain_to_ascii_mapped(void **state)
{
	static const struct { const char *in, *out; } ok[] = {
		/* upper case: B\u00dcCHER, M\u00dcNCHEN */
		{ "B\xc3\x9c" "CHER.example", "xn--bcher-kva.example" },
		{ "M\xc3\x9c" "nchen.DE", "xn--mnchen-3ya.de" },
		/* NFD: u + U+0308 COMBINING DIAERESIS */
		{ "bu\xcc\x88" "cher.example", "xn--bcher-kva.example" },
		/* NFD and upper case together */
		{ "BU\xcc\x88" "CHER.Example.", "xn--bcher-kva.example" },
		/* Greek capitals: \u0395\u039b -> \u03b5\u03bb */
		{ "\xce\x95\xce\x9b.example", "xn--qxam.example" },
		/* non-transitional: sharp s stays (not "ss") */
		{ "fa\xc3\x9f.de", "xn--fa-hia.de" },
		/* an ideographic full stop (U+3002) separates labels */
		{ "b\xc3\xbc" "cher\xe3\x80\x82" "example",
		  "xn--bcher-kva.example" },
	};
	char out[256];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_true(addr_domain_to_ascii(ok[i].in, out, sizeof(out)));
		assert_string_equal(out, ok[i].out);
	}
	/* IDNA2008 disallows symbols: U+2603 SNOWMAN has no A-label */
	assert_false(addr_domain_to_ascii("\xe2\x98\x83.example", out,
	    sizeof(out)));
	/* the A-label must fit */
	assert_false(addr_domain_to_ascii("b\xc3\xbc" "cher.example", out,
	    strlen("xn--bcher-kva.example")));
}

static void
test_domain_idn(void **state)
{
	(void)state;
	expect_one("a@B\xc3\xbc" "cher.DE", "a", "b\xc3\xbc" "cher.de");
	expect_syntax("a@b\xff.de");		/* not UTF-8 */
	expect_syntax("a@b\xc3.de");		/* truncated sequence */
	expect_syntax("a@b\xc0\xaf.de");	/* overlong */
}

static void
test_domain_length(void **state)
{
	char label[64], buf[600];

	(void)state;
	memset(label, 'a', 63);
	label[63] = '\0';
	/* 4 * 63 + 3 dots = 255 bytes: over 253 */
	snprintf(buf, sizeof(buf), "x@%s.%s.%s.%s", label, label, label,
	    label);
	expect_syntax(buf);
	/* 3 * 63 + 61 + 3 = 253 bytes: fits */
	snprintf(buf, sizeof(buf), "x@%s.%s.%s.%.61s", label, label, label,
	    label);
	assert_int_equal(parse(buf), ADDR_OK);
	assert_int_equal(strlen(al.box[0].domain), 253);
}

/* --- encoded words -------------------------------------------------- */

static void
test_encoded_word_display(void **state)
{
	(void)state;
	expect_one("=?utf-8?q?J=C3=B6rg?= <j@example.com>", "j",
	    "example.com");
	expect_one("=?UTF-8?B?SsO2cmc=?= =?utf-8?q?x?= <j@example.com>", "j",
	    "example.com");
}

static void
test_encoded_word_not_address(void **state)
{
	(void)state;
	expect_syntax("=?utf-8?q?a@b?=");
	expect_syntax("=?utf-8?q?a=40evil.com?=");
	expect_syntax("=?utf-8?q?<evil@bad.com>?= <good@ok.com>");
}

/* --- angle addresses and routes ------------------------------------- */

static void
test_unbalanced_angle(void **state)
{
	(void)state;
	expect_syntax("<a@b.com");
	expect_syntax("a@b.com>");
	expect_syntax("<<a@b.com>>");
	expect_syntax("Name <a@b.com");
	expect_syntax("<>");
	expect_syntax("Name <>");
}

static void
test_route(void **state)
{
	(void)state;
	expect_one("<@route.example:user@example.com>", "user", "example.com");
	expect_one("Name <@r1.example,@r2.example:user@example.com>", "user",
	    "example.com");
	expect_one("<,@r1.example, ,@r2.example:user@example.com>", "user",
	    "example.com");
}

static void
test_bad_route(void **state)
{
	(void)state;
	expect_syntax("<@:user@example.com>");
	expect_syntax("<@r1.example@r2.example:user@example.com>");
	expect_syntax("<@r1.example user@example.com>");
	expect_syntax("<@bad_route:user@example.com>");
	expect_syntax("<@r1.example:>");
}

/* --- groups ------------------------------------------------------------- */

static void
test_group_empty(void **state)
{
	(void)state;
	assert_int_equal(parse("undisclosed-recipients:;"), ADDR_OK);
	assert_int_equal(al.count, 0);
	assert_true(al.groups);
	assert_int_equal(parse("undisclosed: (none) , ;"), ADDR_OK);
	assert_int_equal(al.count, 0);
}

static void
test_group_members(void **state)
{
	(void)state;
	assert_int_equal(parse("team: a@x.com, Bee <b@y.com>;"), ADDR_OK);
	assert_true(al.groups);
	assert_int_equal(al.count, 2);
	assert_string_equal(al.box[0].domain, "x.com");
	assert_string_equal(al.box[1].domain, "y.com");
}

static void
test_group_and_mailbox(void **state)
{
	(void)state;
	assert_int_equal(parse("g: a@x.com; (c), c@z.com"), ADDR_OK);
	assert_int_equal(al.count, 2);
	assert_string_equal(al.box[1].domain, "z.com");
	assert_int_equal(parse("\"my team\": ;, d@w.com"), ADDR_OK);
	assert_int_equal(al.count, 1);
	assert_true(al.groups);
}

static void
test_group_bad(void **state)
{
	(void)state;
	expect_syntax("team: a@x.com");			/* no ';' */
	expect_syntax("team: a@x.com, b@y.com");
	expect_syntax("outer: inner: a@x.com;;");	/* nested */
	expect_syntax(":;");				/* no name */
	expect_syntax("g:;a@b.com");			/* no comma */
	expect_syntax("g: a@x.com b@y.com;");
	expect_syntax("g: user;");
}

/* --- folding and control bytes ------------------------------------- */

static void
test_fold_crlf(void **state)
{
	(void)state;
	expect_one("John\r\n Doe\r\n\t<john@example.com>", "john",
	    "example.com");
	assert_int_equal(parse("a@b.com,\r\n c@d.com\r\n (x)"), ADDR_OK);
	assert_int_equal(al.count, 2);
}

static void
test_fold_lf(void **state)
{
	(void)state;
	expect_one("\"John\n Doe\"\n <john@example.com>", "john",
	    "example.com");
}

static void
test_bad_line_breaks(void **state)
{
	(void)state;
	expect_syntax("a@b.com\r\nc@d.com");
	expect_syntax("John\rDoe <a@b.com>");
	expect_syntax("a@b.com\n");
	expect_syntax("\"a\r\nb\"@c.com");
	expect_syntax("(a\nb) a@b.com");
}

static void
test_nul_bytes(void **state)
{
	(void)state;
	assert_int_equal(parse_n("a@b.com\0c@d.com", 15), ADDR_SYNTAX);
	assert_int_equal(parse_n("\"x\0y\" <a@b.com>", 15), ADDR_SYNTAX);
	assert_int_equal(parse_n("(x\0y) a@b.com", 13), ADDR_SYNTAX);
	assert_int_equal(parse_n("a\0@b.com", 8), ADDR_SYNTAX);
	assert_int_equal(parse_n("a@b.c\0om", 8), ADDR_SYNTAX);
	assert_int_equal(parse_n("\0", 1), ADDR_SYNTAX);
}

static void
test_len_respected(void **state)
{
	(void)state;
	/* only the first 7 bytes count; the rest must never be looked at */
	assert_int_equal(parse_n("a@b.com, evil", 7), ADDR_OK);
	assert_int_equal(al.count, 1);
	assert_string_equal(al.box[0].domain, "b.com");
	/* cut inside a quoted string, a comment, an angle address */
	assert_int_equal(parse_n("\"ab\" <a@b.com>", 2), ADDR_SYNTAX);
	assert_int_equal(parse_n("(ab) a@b.com", 3), ADDR_SYNTAX);
	assert_int_equal(parse_n("<a@b.com>", 8), ADDR_SYNTAX);
	assert_int_equal(parse_n("a@b.com\r\n x", 8), ADDR_SYNTAX);
	assert_int_equal(parse_n("\"a\\\"@b.com", 3), ADDR_SYNTAX);
}

static void
test_control_in_comment(void **state)
{
	(void)state;
	/* obs-ctext and obs-qtext: accepted, as RFC 5322 section 4 asks */
	expect_one("(\x01\x7f) \"\x02\" <a@b.com>", "a", "b.com");
	expect_syntax("a\x01@b.com");
}

/* --- bounds ------------------------------------------------------------- */

static void
test_max_mailboxes(void **state)
{
	char buf[ADDR_MAX_MAILBOXES * 16 + 16];
	size_t n = 0, i;

	(void)state;
	for (i = 0; i < ADDR_MAX_MAILBOXES; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "u%zu@x.com,",
		    i);
	assert_int_equal(parse(buf), ADDR_OK);
	assert_int_equal(al.count, ADDR_MAX_MAILBOXES);
	assert_false(al.truncated);
	snprintf(buf + n, sizeof(buf) - n, "last@y.com");
	assert_int_equal(parse(buf), ADDR_OK);
	assert_int_equal(al.count, ADDR_MAX_MAILBOXES);
	assert_true(al.truncated);
	assert_string_equal(al.box[0].local, "u0");
	assert_string_equal(al.box[ADDR_MAX_MAILBOXES - 1].domain, "x.com");
}

static void
test_truncated_still_checked(void **state)
{
	char buf[ADDR_MAX_MAILBOXES * 16 + 32];
	size_t n = 0, i;

	(void)state;
	for (i = 0; i <= ADDR_MAX_MAILBOXES; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "u%zu@x.com,",
		    i);
	snprintf(buf + n, sizeof(buf) - n, "nodomain");
	expect_syntax(buf);
}

/*
 * test_list_reused - one list parsed into again and again: count and the
 * flags are those of the last parse, whether it ends well or in a syntax
 * error found after mailboxes were kept
 */
static void
test_list_reused(void **state)
{
	char buf[ADDR_MAX_MAILBOXES * 16 + 32];
	size_t n = 0, i;

	(void)state;
	n += (size_t)snprintf(buf, sizeof(buf), "g:");
	for (i = 0; i <= ADDR_MAX_MAILBOXES; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, " u%zu@x.com,",
		    i);
	snprintf(buf + n, sizeof(buf) - n, ";");
	assert_int_equal(parse(buf), ADDR_OK);
	assert_int_equal(al.count, ADDR_MAX_MAILBOXES);
	assert_true(al.truncated);
	assert_true(al.groups);

	expect_one("a@b.com", "a", "b.com");
	assert_false(al.groups);

	/* no ";": the group's mailboxes are kept before the error is found */
	buf[n] = '\0';
	expect_syntax(buf);
	assert_false(al.truncated);
	assert_false(al.groups);
}

static void
test_huge_list(void **state)
{
	const char *one = "Some Body <some.body@example.com>, ";
	size_t n1 = strlen(one), total = 100 * 1024, n;
	char *s = malloc(total);

	(void)state;
	assert_non_null(s);
	for (n = 0; n + n1 <= total; n += n1)
		memcpy(s + n, one, n1);
	assert_int_equal(parse_n(s, n), ADDR_OK);
	assert_int_equal(al.count, ADDR_MAX_MAILBOXES);
	assert_true(al.truncated);
	free(s);
}

static void
test_huge_atom(void **state)
{
	char *s = make('a', 100 * 1024);

	(void)state;
	expect_syntax(s);
	s[50 * 1024] = '@';
	expect_syntax(s);			/* local part too long */
	free(s);
}

static void
test_huge_domain(void **state)
{
	char *s = make('a', 100 * 1024);

	(void)state;
	s[0] = 'x';
	s[1] = '@';
	expect_syntax(s);
	free(s);
}

static void
test_huge_whitespace(void **state)
{
	char *s = make(' ', 100 * 1024);

	(void)state;
	expect_syntax(s);
	memcpy(s + 100, "a@b.com", 7);
	expect_one(s, "a", "b.com");
	free(s);
}

static void
test_huge_quoted(void **state)
{
	char *s = make('x', 100 * 1024);

	(void)state;
	s[0] = '"';
	expect_syntax(s);			/* unterminated */
	s[100 * 1024 - 10] = '"';
	memcpy(s + 100 * 1024 - 9, " <a@b.c> ", 9);
	expect_one(s, "a", "b.c");
	free(s);
}

static void
test_syntax_clears_output(void **state)
{
	(void)state;
	assert_int_equal(parse("a@b.com, c@d.com"), ADDR_OK);
	assert_int_equal(parse("g: a@b.com, c@d.com"), ADDR_SYNTAX);
	assert_int_equal(al.count, 0);
	assert_false(al.groups);
	assert_false(al.truncated);
}

/* --- envelope ----------------------------------------------------------- */

static void
test_env_plain(void **state)
{
	struct mailbox mb;

	(void)state;
	assert_true(addr_parse_envelope("<a@b.com>", &mb));
	assert_string_equal(mb.local, "a");
	assert_string_equal(mb.domain, "b.com");
	assert_true(addr_parse_envelope("a@b.com", &mb));
	assert_string_equal(mb.domain, "b.com");
	assert_true(addr_parse_envelope("  <First.Last@EXAMPLE.com.> \t", &mb));
	assert_string_equal(mb.local, "First.Last");
	assert_string_equal(mb.domain, "example.com");
}

static void
test_env_null(void **state)
{
	struct mailbox mb;

	(void)state;
	memset(&mb, 'x', sizeof(mb));
	assert_true(addr_parse_envelope("<>", &mb));
	assert_string_equal(mb.local, "");
	assert_string_equal(mb.domain, "");
	assert_true(addr_parse_envelope(" <> ", &mb));
	assert_false(addr_parse_envelope("< >", &mb));
}

static void
test_env_forms(void **state)
{
	struct mailbox mb;

	(void)state;
	assert_true(addr_parse_envelope("<@r1.ex,@r2.ex:u@example.com>", &mb));
	assert_string_equal(mb.local, "u");
	assert_string_equal(mb.domain, "example.com");
	assert_true(addr_parse_envelope("<\"john doe\"@example.com>", &mb));
	assert_string_equal(mb.local, "john doe");
	assert_true(addr_parse_envelope("<u@[192.0.2.1]>", &mb));
	assert_string_equal(mb.domain, "[192.0.2.1]");
	assert_true(addr_parse_envelope("<j\xc3\xb6rg@b\xc3\xbc" "cher.de>",
	    &mb));
}

static void
test_env_garbage(void **state)
{
	static const char *const bad[] = {
		"", "   ", "<", ">", "<a@b.com", "a@b.com>", "<a>", "a",
		"<a@>", "<@b.com>", "garbage", "<a b@c.com>", "< a@b.com>",
		"<a@b.com> SIZE=100", "<(c)a@b.com>", "<a@b_c.com>",
		"<a@b.com>>", "<<a@b.com>", "<@r1.ex:>", "<@r1.ex,,@r2:a@b.c>",
		"@r1.ex:a@b.com", "<\"a\rb\"@c.com>", "<a@b.com\r\n>",
		"=?utf-8?q?a@b?=", "<a..b@c.com>", "<\"unterminated@b.com>",
		NULL
	};
	struct mailbox mb;

	(void)state;
	for (size_t i = 0; bad[i] != NULL; i++) {
		memset(&mb, 'x', sizeof(mb));
		if (addr_parse_envelope(bad[i], &mb))
			fail_msg("accepted \"%s\"", bad[i]);
		assert_string_equal(mb.local, "");
		assert_string_equal(mb.domain, "");
	}
	assert_false(addr_parse_envelope(NULL, &mb));
}

/* --- addr_domain_valid -------------------------------------------------- */

static void
test_domain_valid_good(void **state)
{
	(void)state;
	assert_true(addr_domain_valid("example.com"));
	assert_true(addr_domain_valid("example.com."));
	assert_true(addr_domain_valid("localhost"));
	assert_true(addr_domain_valid("2024"));		/* a DKIM selector */
	assert_true(addr_domain_valid("a-b.c0m"));
	assert_true(addr_domain_valid("xn--bcher-kva.de"));
	assert_true(addr_domain_valid("b\xc3\xbc" "cher.de"));
	assert_true(addr_domain_valid("\xe2\x82\xac.\xf0\x9f\x98\x80"));
}

static void
test_domain_valid_bad(void **state)
{
	(void)state;
	assert_false(addr_domain_valid(NULL));
	assert_false(addr_domain_valid(""));
	assert_false(addr_domain_valid("."));
	assert_false(addr_domain_valid(".example.com"));
	assert_false(addr_domain_valid("a..b"));
	assert_false(addr_domain_valid("example.com.."));
	assert_false(addr_domain_valid("-a.com"));
	assert_false(addr_domain_valid("a-.com"));
	assert_false(addr_domain_valid("a_b.com"));
	assert_false(addr_domain_valid("_dmarc.example.com"));
	assert_false(addr_domain_valid("a b.com"));
	assert_false(addr_domain_valid("[192.0.2.1]"));
	assert_false(addr_domain_valid("b\xff.de"));
	assert_false(addr_domain_valid("\xed\xa0\x80.de"));	/* surrogate */
	assert_false(addr_domain_valid("\xf4\x90\x80\x80.de"));	/* > 10FFFF */
	assert_false(addr_domain_valid("\xe0\x80\xaf.de"));	/* overlong */
}

static void
test_domain_valid_lengths(void **state)
{
	char name[300];
	size_t i;

	(void)state;
	memset(name, 'a', 63);
	name[63] = '\0';
	assert_true(addr_domain_valid(name));
	name[63] = 'a';
	name[64] = '\0';
	assert_false(addr_domain_valid(name));

	/* labels of 9 + dot: 25 of them is 250 bytes, then 3 more */
	for (i = 0; i < 253; i++)
		name[i] = (i % 10 == 9) ? '.' : 'a';
	name[253] = '\0';
	assert_true(addr_domain_valid(name));
	name[253] = '.';
	name[254] = '\0';
	assert_true(addr_domain_valid(name));		/* trailing dot */
	name[253] = 'a';
	assert_false(addr_domain_valid(name));		/* 254 bytes */
	memset(name, 'a', 299);
	name[299] = '\0';
	assert_false(addr_domain_valid(name));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_spec),
		cmocka_unit_test(test_angle_only),
		cmocka_unit_test(test_display_atoms),
		cmocka_unit_test(test_display_quoted),
		cmocka_unit_test(test_display_quoted_at),
		cmocka_unit_test(test_display_quoted_comma),
		cmocka_unit_test(test_display_unquoted_comma),
		cmocka_unit_test(test_display_unquoted_at),
		cmocka_unit_test(test_display_obs_dot),
		cmocka_unit_test(test_display_utf8),
		cmocka_unit_test(test_domain_to_ascii),
		cmocka_unit_test(test_domain_to_ascii_mapped),
		cmocka_unit_test(test_two_mailboxes),
		cmocka_unit_test(test_two_angles_no_comma),
		cmocka_unit_test(test_empty_elements),
		cmocka_unit_test(test_no_address),
		cmocka_unit_test(test_rfc5322_appendix),
		cmocka_unit_test(test_comment_address_ignored),
		cmocka_unit_test(test_comment_everywhere),
		cmocka_unit_test(test_comment_nested_escaped),
		cmocka_unit_test(test_comment_unterminated),
		cmocka_unit_test(test_comment_depth),
		cmocka_unit_test(test_comment_deep_hostile),
		cmocka_unit_test(test_quoted_unterminated),
		cmocka_unit_test(test_quoted_local),
		cmocka_unit_test(test_quoted_local_escape),
		cmocka_unit_test(test_quoted_local_at),
		cmocka_unit_test(test_obs_local),
		cmocka_unit_test(test_bad_local),
		cmocka_unit_test(test_local_case_kept),
		cmocka_unit_test(test_local_length),
		cmocka_unit_test(test_no_domain),
		cmocka_unit_test(test_empty_domain),
		cmocka_unit_test(test_invalid_domain),
		cmocka_unit_test(test_domain_lower_dot),
		cmocka_unit_test(test_domain_literal),
		cmocka_unit_test(test_domain_idn),
		cmocka_unit_test(test_domain_length),
		cmocka_unit_test(test_encoded_word_display),
		cmocka_unit_test(test_encoded_word_not_address),
		cmocka_unit_test(test_unbalanced_angle),
		cmocka_unit_test(test_route),
		cmocka_unit_test(test_bad_route),
		cmocka_unit_test(test_group_empty),
		cmocka_unit_test(test_group_members),
		cmocka_unit_test(test_group_and_mailbox),
		cmocka_unit_test(test_group_bad),
		cmocka_unit_test(test_fold_crlf),
		cmocka_unit_test(test_fold_lf),
		cmocka_unit_test(test_bad_line_breaks),
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_len_respected),
		cmocka_unit_test(test_control_in_comment),
		cmocka_unit_test(test_max_mailboxes),
		cmocka_unit_test(test_truncated_still_checked),
		cmocka_unit_test(test_list_reused),
		cmocka_unit_test(test_huge_list),
		cmocka_unit_test(test_huge_atom),
		cmocka_unit_test(test_huge_domain),
		cmocka_unit_test(test_huge_whitespace),
		cmocka_unit_test(test_huge_quoted),
		cmocka_unit_test(test_syntax_clears_output),
		cmocka_unit_test(test_env_plain),
		cmocka_unit_test(test_env_null),
		cmocka_unit_test(test_env_forms),
		cmocka_unit_test(test_env_garbage),
		cmocka_unit_test(test_domain_valid_good),
		cmocka_unit_test(test_domain_valid_bad),
		cmocka_unit_test(test_domain_valid_lengths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
