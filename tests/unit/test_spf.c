/*
 * test_spf.c - unit tests of spf.c for what needs no DNS: the RFC 7208
 * record grammar, macro syntax, the identity-domain rules of section 4.3,
 * client address normalisation, result names, the macro expander (RFC
 * 7208 7.4 examples), and the checks that end before any DNS query. Records are copied into buffers of exactly their
 * length, so that AddressSanitizer catches any read past len.
 */
#include "buildconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "spf.h"

#define WHY_LEN		128
#define BIG_RECORD	8192

/* record_ok_n - spf_record_valid over an exact-size heap copy */
static bool
record_ok_n(const char *s, size_t n, char *why, size_t whylen)
{
	char *copy = malloc(n ? n : 1);
	bool ok;

	assert_non_null(copy);
	memcpy(copy, s, n);
	ok = spf_record_valid(copy, n, why, whylen);
	free(copy);
	return ok;
}

/* expect_valid - every record of the list passes the grammar */
static void
expect_valid(const char *const *list, size_t n)
{
	char why[WHY_LEN];
	size_t i;

	for (i = 0; i < n; i++) {
		if (!record_ok_n(list[i], strlen(list[i]), why, sizeof(why)))
			fail_msg("refused \"%s\": %s", list[i], why);
	}
}

/* expect_invalid - every record of the list fails, with a reason */
static void
expect_invalid(const char *const *list, size_t n)
{
	char why[WHY_LEN];
	size_t i;

	for (i = 0; i < n; i++) {
		why[0] = '\0';
		if (record_ok_n(list[i], strlen(list[i]), why, sizeof(why)))
			fail_msg("accepted \"%s\"", list[i]);
		if (why[0] == '\0')
			fail_msg("no reason for \"%s\"", list[i]);
	}
}

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static void
test_record_good(void **state)
{
	static const char *const good[] = {
		"v=spf1",
		"v=spf1 ",
		"V=SpF1 ~all",
		"v=spf1 -all",
		"v=spf1 a  -all ",
		"v=spf1 all -all",
		"v=spf1 ?all",
		"v=spf1 a mx ptr -all",
		"v=spf1 A MX PTR IP4:192.0.2.1 -ALL",
		"v=spf1 a/24 mx//64 a:foo.example.com/24//64 -all",
		"v=spf1 a/0 mx//0 a/32//128",
		"v=spf1 ip4:0.0.0.0/0 ip6:::/0 -all",
		"v=spf1 ip4:1.2.3.4/32 ip6:Cafe:Babe:8000::/33 ip6:::1.1.1.1",
		"v=spf1 include:_spf.example.com ~all",
		"v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} -all",
		"v=spf1 exists:%{i}.%{l2r-}.user.%{d2}",
		"v=spf1 exists:%{l2r+-}.user.%{d2}",
		"v=spf1 exists:%{lr,/}.u.%{d} -all",
		"v=spf1 redirect=_spf.example.com",
		"v=spf1 redirect=%{d}.d.spf.example.com.",
		"v=spf1 -all exp=explain._spf.%{d}",
		"v=spf1 -all exp=msg8.%{D2}",
		"v=spf1 moo.cow-far_out=man:dog/cat ip4:1.2.3.4 -all",
		"v=spf1 default=+",
		"v=spf1 default=pass",
		"v=spf1 foo=",
		"v=spf1 a:foo:bar/baz.example.com",
		"v=spf1 mx:foo:bar/baz.example.com/24",
		"v=spf1 a:foo.example.xn--zckzah -all",
		"v=spf1 a:macro%%percent%_%_space%-url-space.example.com -all",
		"v=spf1 a:%{H}.bar -all",
		"v=spf1 a:%{H}",
		"v=spf1 a:foo%-",
		"v=spf1 mx:example.com.",
		"v=spf1 a:mail.example...com -all",
		"v=spf1 a:1-2.example.123-4",
		"v=spf1 ptr:example.com -all",
		"v=spf1 include:o.spf.example.com. ~all",
		"v=spf1 exists:%{p}.should.example.com "
		    "~exists:%{p}.ok.example.com",
		"v=spf1 ip4:192.0.2.5 exp=e.example.com redirect=r.example.com",
	};

	(void)state;
	expect_valid(good, NELEM(good));
}

static void
test_record_version(void **state)
{
	static const char *const bad[] = {
		"",
		"v=spf",
		"v=spf10",
		"v=spf1a",
		"spf1 -all",
		" v=spf1 -all",
		"v=spf2.0/pra -all",
	};

	(void)state;
	expect_invalid(bad, NELEM(bad));
}

static void
test_record_bad_terms(void **state)
{
	static const char *const bad[] = {
		"v=spf1 moo",
		"v=spf1 ip4:1.2.3.4 -all moo",
		"v=spf1 moo.cow/far_out=man:dog/cat ip4:1.2.3.4 -all",
		"v=spf1 moo.cow:far_out=man:dog/cat ip4:1.2.3.4 -all",
		"v=spf1 -all.",
		"v=spf1 -all:foobar",
		"v=spf1 -all/8",
		"v=spf1 !all",
		"v=spf1 +-all",
		"v=spf1 redirect:t2.example.com",
		"v=spf1 prt",
		"v=spf1 ip",
		"v=spf1 include",
		"v=spf1 include:",
		"v=spf1 include: -all",
		"v=spf1 include:ip5.example.com/24 -all",
		"v=spf1 exists",
		"v=spf1 exists:",
		"v=spf1 exists:mail.example.com/24",
		"v=spf1 ptr/0 -all",
		"v=spf1 ptr:",
		"v=spf1 a:",
		"v=spf1 mx: -all",
	};

	(void)state;
	expect_invalid(bad, NELEM(bad));
}

static void
test_record_cidr(void **state)
{
	static const char *const bad[] = {
		"v=spf1 a//129 -all",
		"v=spf1 a/33 -all",
		"v=spf1 a/24/64 -all",
		"v=spf1 a//33//64",
		"v=spf1 mx//129",
		"v=spf1 mx/33",
		"v=spf1 a/032",
		"v=spf1 a//0128",
		"v=spf1 a/",
		"v=spf1 a//",
		"v=spf1 a:foo.com/",
		"v=spf1 a/-1",
		"v=spf1 a/1000",
	};
	static const char *const good[] = {
		"v=spf1 a/0",
		"v=spf1 a//0",
		"v=spf1 a/32//128",
		"v=spf1 a:foo.com//64",
		"v=spf1 mx:foo.com/0//0",
	};

	(void)state;
	expect_invalid(bad, NELEM(bad));
	expect_valid(good, NELEM(good));
}

static void
test_record_ip(void **state)
{
	static const char *const bad[] = {
		"v=spf1 ip4",
		"v=spf1 ip4:",
		"v=spf1 ip4:1.2.3",
		"v=spf1 ip4:1.2.3.4.5",
		"v=spf1 ip4:1.2.3.4:8080",
		"v=spf1 ip4:1.2.3.4//32",
		"v=spf1 ip4:1.2.3.4/33",
		"v=spf1 ip4:1.2.3.4/032",
		"v=spf1 ip4:01.2.3.4",
		"v=spf1 ip4:256.1.1.1",
		"v=spf1 ip4:1.2.3.4/",
		"v=spf1 ip4:1.2.3.4/24/24",
		"v=spf1 ip4:2001:db8::1",
		"v=spf1 ip6",
		"v=spf1 -all ip6",
		"v=spf1 ip6:",
		"v=spf1 ip6::CAFE::BABE",
		"v=spf1 ip6:::1.1.1.1/129",
		"v=spf1 ip6:::1.1.1.1//33",
		"v=spf1 ip6:2001:db8::/064",
		"v=spf1 ip6:1.2.3.4",
	};
	static const char *const good[] = {
		"v=spf1 ip4:1.1.1.1/0 -all",
		"v=spf1 ip4:255.255.255.255/32",
		"v=spf1 ip4:0.0.0.0",
		"v=spf1 ip6:::1.1.1.1/0",
		"v=spf1 ip6:::",
		"v=spf1 ip6:2001:db8::/128",
		"v=spf1 -ip4:1.2.3.4 ip6:::FFFF:1.2.3.4",
	};

	(void)state;
	expect_invalid(bad, NELEM(bad));
	expect_valid(good, NELEM(good));
}

static void
test_record_domain_end(void **state)
{
	static const char *const bad[] = {
		"v=spf1 a:foo-bar -all",
		"v=spf1 a:111.222.33.44",
		"v=spf1 a:abc.123",
		"v=spf1 a:museum",
		"v=spf1 a:museum.",
		"v=spf1 a:example.-com",
		"v=spf1 mx:example.-com",
		"v=spf1 a:example.com-",
		"v=spf1 a:example.com:8080",
		"v=spf1 mx:example.com:8080",
		"v=spf1 a:example.com..",
		"v=spf1 a:%{d}.",
		"v=spf1 a:%{d}com",
		"v=spf1 include:foo",
		"v=spf1 exists:foo.c_m",
	};

	(void)state;
	expect_invalid(bad, NELEM(bad));
}

static void
test_record_modifiers(void **state)
{
	static const char *const bad[] = {
		"v=spf1 1up=foo",
		"v=spf1 =all",
		"v=spf1 -redirect=example.com",
		"v=spf1 +exp=example.com",
		"v=spf1 exp= -all",
		"v=spf1 exp=-all",
		"v=spf1 redirect=-all ?all",
		"v=spf1 ?all redirect=",
		"v=spf1 exp=e13msg.example.com -all exp=e11msg.example.com",
		"v=spf1 redirect=e12.example.com -all redirect=e12.example.com",
		"v=spf1 REDIRECT=a.example.com redirect=b.example.com",
		"v=spf1 -all foo=%abc",
		"v=spf1 -all foo=%{x}",
		"v=spf1 -all exp=%{r}.example.com",
		"v=spf1 -all exp=%{c}.example.com",
		"v=spf1 -all exp=%{t}.example.com",
		"v=spf1 -all foo=%{c}",
		"v=spf1 redirect=example.com:80",
	};

	(void)state;
	expect_invalid(bad, NELEM(bad));
}

static void
test_record_macros(void **state)
{
	static const char *const bad[] = {
		"v=spf1 -exists:%(ir).sbl.example.com ?all",
		"v=spf1 exists:foo%(ir).sbl.example.com ?all",
		"v=spf1 exists:foo%.sbl.example.com ?all",
		"v=spf1 a:%{a}.example.com -all",
		"v=spf1 a:%{d0}.example.com",
		"v=spf1 a:%{d00}.example.com",
		"v=spf1 a:%{d",
		"v=spf1 a:%{d}%",
		"v=spf1 a:%{}.example.com",
		"v=spf1 a:%{d|}.example.com",
		"v=spf1 a:%{d2x}.example.com",
		"v=spf1 a:%{dr2}.example.com",
		"v=spf1 a:%{c}.example.com",
		"v=spf1 a:%{r}.example.com",
	};
	static const char *const good[] = {
		"v=spf1 a:%{d}",
		"v=spf1 a:%{D}",
		"v=spf1 a:%{d2}",
		"v=spf1 a:%{d10r}",
		"v=spf1 a:%{dR}",
		"v=spf1 a:%{d2r-.+,/_=}",
		"v=spf1 a:%{s}.%{l}.%{o}.%{d}.%{i}.%{p}.%{v}.%{h}",
		"v=spf1 a:%%%_%-.example.com",
		"v=spf1 a:%{d01}.example.com",
	};

	(void)state;
	expect_invalid(bad, NELEM(bad));
	expect_valid(good, NELEM(good));
}

static void
test_record_bytes(void **state)
{
	char why[WHY_LEN];
	static const char nul[] = "v=spf1 a:foo.example.com\0";
	static const char cr[] = "v=spf1 a:ctrl.example.com\rptr -all";
	static const char lf[] = "v=spf1 ip4:192.0.2.5\n include:x.example.com";
	static const char tab[] = "v=spf1\t-all";
	static const char bom[] =
	    "v=spf1 a:\xEF\xBB\xBFgarbage.example.net -all";
	static const char hi[] = "v=spf1 \x80" "a:example.net -all";
	static const char del[] = "v=spf1 a:example.net \x7f" "all";

	(void)state;
	assert_false(record_ok_n(nul, sizeof(nul) - 1, why, sizeof(why)));
	assert_non_null(strstr(why, "control"));
	assert_false(record_ok_n(cr, strlen(cr), why, sizeof(why)));
	assert_false(record_ok_n(lf, strlen(lf), why, sizeof(why)));
	assert_false(record_ok_n(tab, strlen(tab), why, sizeof(why)));
	assert_false(record_ok_n(bom, strlen(bom), why, sizeof(why)));
	assert_non_null(strstr(why, "non-ASCII"));
	assert_false(record_ok_n(hi, strlen(hi), why, sizeof(why)));
	assert_false(record_ok_n(del, strlen(del), why, sizeof(why)));
	/* len is respected: the valid prefix of a longer buffer */
	assert_true(record_ok_n("v=spf1 -all moo", 11, why, sizeof(why)));
	assert_false(record_ok_n("v=spf1 -all moo", 15, why, sizeof(why)));
	/* a NULL reason buffer is allowed */
	assert_false(spf_record_valid("v=spf1 moo", 10, NULL, 0));
}

static void
test_record_big(void **state)
{
	char *rec = malloc(BIG_RECORD);
	char why[WHY_LEN];
	size_t len;

	(void)state;
	assert_non_null(rec);
	/* many terms, and one long run of spaces */
	memcpy(rec, "v=spf1", 6);
	for (len = 6; len + 12 < BIG_RECORD / 2; len += 4)
		memcpy(rec + len, " a/0", 4);
	memset(rec + len, ' ', BIG_RECORD - len - 5);
	len = BIG_RECORD - 5;
	memcpy(rec + len, "-all", 4);
	len += 4;
	assert_true(record_ok_n(rec, len, why, sizeof(why)));
	/* one huge term */
	memcpy(rec, "v=spf1 a:", 9);
	memset(rec + 9, 'x', BIG_RECORD - 9 - 4);
	memcpy(rec + BIG_RECORD - 4, ".com", 4);
	assert_true(record_ok_n(rec, BIG_RECORD, why, sizeof(why)));
	/* a huge macro transformer */
	memcpy(rec, "v=spf1 a:%{d", 12);
	memset(rec + 12, '9', BIG_RECORD - 12 - 1);
	rec[BIG_RECORD - 1] = '}';
	assert_true(record_ok_n(rec, BIG_RECORD, why, sizeof(why)));
	free(rec);
}

static void
test_macro_valid(void **state)
{
	(void)state;
	assert_true(spf_macro_valid("", 0, false));
	assert_true(spf_macro_valid("%{d}", 4, false));
	assert_true(spf_macro_valid("%{ir}.%{v}.arpa", 15, false));
	assert_false(spf_macro_valid("%{c}", 4, false));
	assert_true(spf_macro_valid("%{c}", 4, true));
	assert_true(spf_macro_valid("%{R}", 4, true));
	assert_true(spf_macro_valid("%{t}", 4, true));
	assert_false(spf_macro_valid("The %{x}-files.", 15, true));
	assert_true(spf_macro_valid("Connections from %{c} not authorized.",
	    37, true));
	/* spaces only in explanation text */
	assert_false(spf_macro_valid("a b", 3, false));
	assert_true(spf_macro_valid("a b", 3, true));
	assert_false(spf_macro_valid("%", 1, true));
	assert_false(spf_macro_valid("%{", 2, true));
	assert_false(spf_macro_valid("%{d", 3, true));
	assert_false(spf_macro_valid("%{d}", 3, true));	/* len respected */
	assert_false(spf_macro_valid("100%", 4, true));
	assert_false(spf_macro_valid("%{d}\x01", 5, true));
	assert_false(spf_macro_valid("caf\xc3\xa9", 5, true));
}

static void
test_domain_valid(void **state)
{
	char name[300];

	(void)state;
	assert_true(spf_domain_valid("example.com"));
	assert_true(spf_domain_valid("example.com."));
	assert_true(spf_domain_valid("a.b"));
	assert_true(spf_domain_valid("_spf.example.com"));
	assert_true(spf_domain_valid("xn--zckzah.example"));
	/* labels of 63 bytes, not 64 */
	memset(name, 'a', 63);
	memcpy(name + 63, ".example.com", 13);
	assert_true(spf_domain_valid(name));
	memset(name, 'a', 64);
	memcpy(name + 64, ".example.com", 13);
	assert_false(spf_domain_valid(name));
	assert_false(spf_domain_valid(NULL));
	assert_false(spf_domain_valid(""));
	assert_false(spf_domain_valid("."));
	assert_false(spf_domain_valid("com"));
	assert_false(spf_domain_valid("A2345678"));
	assert_false(spf_domain_valid("com."));
	assert_false(spf_domain_valid("[1.2.3.5]"));
	assert_false(spf_domain_valid("A...example.com"));
	assert_false(spf_domain_valid(".example.com"));
	assert_false(spf_domain_valid("example.com.."));
	assert_false(spf_domain_valid("exa mple.com"));
	assert_false(spf_domain_valid("user@example.com"));
	assert_false(spf_domain_valid("ex\x01" "ample.com"));
	assert_false(spf_domain_valid("caf\xc3\xa9.example"));
	/* 253 bytes is the limit */
	memset(name, 'a', sizeof(name));
	for (size_t i = 63; i < 253; i += 64)
		name[i] = '.';
	name[253] = '\0';
	assert_true(spf_domain_valid(name));
	name[253] = '.';
	name[254] = '\0';
	assert_true(spf_domain_valid(name));	/* final dot not counted */
	name[253] = 'a';
	assert_false(spf_domain_valid(name));
}

/* addr_is4 - text parses to the IPv4 address a.b.c.d */
static void
addr_is4(const char *text, unsigned a, unsigned b, unsigned c, unsigned d)
{
	struct spf_addr addr;

	if (!spf_addr_parse(text, &addr))
		fail_msg("refused \"%s\"", text);
	assert_int_equal(addr.family, AF_INET);
	assert_int_equal(addr.a[0], a);
	assert_int_equal(addr.a[1], b);
	assert_int_equal(addr.a[2], c);
	assert_int_equal(addr.a[3], d);
}

static void
test_addr_parse(void **state)
{
	struct spf_addr addr;
	static const unsigned char v6[16] = {
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1
	};
	static const char *const bad[] = {
		"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "example.com",
		"::ffff:1.2.3", "2001:db8::g", "[192.0.2.1", "192.0.2.1]",
		"IPv6:", "[]", " 192.0.2.1", "192.0.2.1 ", "IPv4:192.0.2.1",
		"2001:db8::1%eth0",
		"1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc",
	};
	size_t i;

	(void)state;
	addr_is4("192.0.2.1", 192, 0, 2, 1);
	addr_is4("::ffff:1.2.3.4", 1, 2, 3, 4);
	addr_is4("::FFFF:1.2.3.4", 1, 2, 3, 4);
	addr_is4("::ffff:102:304", 1, 2, 3, 4);
	addr_is4("IPv6:::ffff:1.2.3.4", 1, 2, 3, 4);
	addr_is4("[192.0.2.1]", 192, 0, 2, 1);
	addr_is4("[IPv6:::ffff:127.0.0.1]", 127, 0, 0, 1);
	assert_true(spf_addr_parse("2001:db8::1", &addr));
	assert_int_equal(addr.family, AF_INET6);
	assert_memory_equal(addr.a, v6, 16);
	assert_true(spf_addr_parse("IPv6:2001:DB8::1", &addr));
	assert_int_equal(addr.family, AF_INET6);
	assert_memory_equal(addr.a, v6, 16);
	assert_true(spf_addr_parse("[IPv6:2001:db8::1]", &addr));
	assert_memory_equal(addr.a, v6, 16);
	/* IPv4-compatible (deprecated) is not IPv4-mapped: stays IPv6 */
	assert_true(spf_addr_parse("::1.2.3.4", &addr));
	assert_int_equal(addr.family, AF_INET6);
	assert_true(spf_addr_parse("::", &addr));
	assert_int_equal(addr.family, AF_INET6);
	assert_false(spf_addr_parse(NULL, &addr));
	for (i = 0; i < NELEM(bad); i++)
		if (spf_addr_parse(bad[i], &addr))
			fail_msg("accepted \"%s\"", bad[i]);
}

static void
test_result_names(void **state)
{
	(void)state;
	assert_string_equal(spf_result_name(SPF_RESULT_NONE), "none");
	assert_string_equal(spf_result_name(SPF_RESULT_NEUTRAL), "neutral");
	assert_string_equal(spf_result_name(SPF_RESULT_PASS), "pass");
	assert_string_equal(spf_result_name(SPF_RESULT_FAIL), "fail");
	assert_string_equal(spf_result_name(SPF_RESULT_SOFTFAIL), "softfail");
	assert_string_equal(spf_result_name(SPF_RESULT_TEMPERROR),
	    "temperror");
	assert_string_equal(spf_result_name(SPF_RESULT_PERMERROR),
	    "permerror");
	assert_string_equal(spf_result_name((enum spf_result)99),
	    "permerror");
}

/*
 * The checks below end before any DNS query, so no DNS service is
 * needed (a NULL one would crash if it were used).
 */
static void
check_mailfrom(const char *ip, const char *helo, const char *from,
    struct spf_outcome *out)
{
	struct spf_request req;

	memset(&req, 0, sizeof(req));
	req.client_ip = ip;
	req.helo = helo;
	req.mail_from = from;
	req.receiver = "mx.example.org";
	spf_check_mailfrom(NULL, &req, out);
}

static void
test_check_no_dns(void **state)
{
	struct spf_outcome out;
	struct spf_request req;
	char local[300];

	(void)state;
	/* RFC 7208 4.3: malformed domains are "none" */
	check_mailfrom("1.2.3.5", "mail.example.net",
	    "lyme.eater@A123456789012345678901234567890123456789012345678"
	    "901234567890123.example.com", &out);
	assert_int_equal(out.result, SPF_RESULT_NONE);
	check_mailfrom("1.2.3.5", "mail.example.net",
	    "lyme.eater@A...example.com", &out);
	assert_int_equal(out.result, SPF_RESULT_NONE);
	assert_string_equal(out.domain, "A...example.com");
	check_mailfrom("1.2.3.5", "OEMCOMPUTER", "foo@[1.2.3.5]", &out);
	assert_int_equal(out.result, SPF_RESULT_NONE);
	/* a null sender with an unusable HELO */
	check_mailfrom("1.2.3.5", "A2345678", "", &out);
	assert_int_equal(out.result, SPF_RESULT_NONE);
	check_mailfrom("1.2.3.5", "[1.2.3.5]", "", &out);
	assert_int_equal(out.result, SPF_RESULT_NONE);
	check_mailfrom("1.2.3.5", NULL, NULL, &out);
	assert_int_equal(out.result, SPF_RESULT_NONE);
	/* a bad client address */
	check_mailfrom("not-an-address", "mail.example.net",
	    "foo@example.net", &out);
	assert_int_equal(out.result, SPF_RESULT_PERMERROR);
	assert_string_equal(out.identity, "foo@example.net");
	check_mailfrom(NULL, "mail.example.net", "foo@example.net", &out);
	assert_int_equal(out.result, SPF_RESULT_PERMERROR);
	/* an over-long or control-laden local-part */
	memset(local, 'x', 260);
	memcpy(local + 260, "@example.net", 13);
	check_mailfrom("1.2.3.5", "mail.example.net", local, &out);
	assert_int_equal(out.result, SPF_RESULT_PERMERROR);
	check_mailfrom("1.2.3.5", "mail.example.net", "a\rb@example.net",
	    &out);
	assert_int_equal(out.result, SPF_RESULT_PERMERROR);

	/* HELO: literals and single labels are not checked */
	memset(&req, 0, sizeof(req));
	req.client_ip = "1.2.3.5";
	req.helo = "[1.2.3.5]";
	spf_check_helo(NULL, &req, &out);
	assert_int_equal(out.result, SPF_RESULT_NONE);
	assert_string_equal(out.identity, "[1.2.3.5]");
	req.helo = "A2345678";
	spf_check_helo(NULL, &req, &out);
	assert_int_equal(out.result, SPF_RESULT_NONE);
	req.helo = NULL;
	spf_check_helo(NULL, &req, &out);
	assert_int_equal(out.result, SPF_RESULT_NONE);
	assert_string_equal(out.domain, "");
}

/* expand - spf_macro_expand for the RFC 7208 7.4 identity, or NULL */
static char *
expand(const char *ip, const char *text, bool exp)
{
	struct spf_macro_env env = {
		.client_ip = ip, .local = "strong-bad",
		.domain = "email.example.com", .helo = "mx.example.org",
		.receiver = "receiver.example.net",
	};

	return spf_macro_expand(&env, text, strlen(text), exp);
}

/* expect_expand - text expands to want (as a domain-spec, or explanation) */
static void
expect_expand(const char *ip, const char *text, bool exp, const char *want)
{
	char *got = expand(ip, text, exp);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void
test_macro_expand(void **state)
{
	static const struct {
		const char *text, *want;
	} rfc[] = {	/* RFC 7208 section 7.4, client 192.0.2.3 */
		{ "%{s}", "strong-bad@email.example.com" },
		{ "%{o}", "email.example.com" },
		{ "%{d}", "email.example.com" },
		{ "%{d4}", "email.example.com" },
		{ "%{d3}", "email.example.com" },
		{ "%{d2}", "example.com" },
		{ "%{d1}", "com" },
		{ "%{dr}", "com.example.email" },
		{ "%{d2r}", "example.email" },
		{ "%{l}", "strong-bad" },
		{ "%{l-}", "strong.bad" },
		{ "%{lr}", "strong-bad" },
		{ "%{lr-}", "bad.strong" },
		{ "%{l1r-}", "strong" },
		{ "%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com" },
		{ "%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com" },
		{ "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}",
		    "bad.strong.lp.3.2.0.192.in-addr._spf.example.com" },
		{ "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}",
		    "3.2.0.192.in-addr.strong.lp._spf.example.com" },
		{ "%{d2}.trusted-domains.example.net",
		    "example.com.trusted-domains.example.net" },
	};
	char text[300], *got;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rfc) / sizeof(rfc[0]); i++)
		expect_expand("192.0.2.3", rfc[i].text, false, rfc[i].want);
	/* nibbles in upper case, as the RFC 7208 test suite's explanations
	 * have them (7.4 writes them in lower case; DNS does not care) */
	expect_expand("2001:db8::cb01", "%{ir}.%{v}._spf.%{d2}", false,
	    "1.0.B.C.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2"
	    ".ip6._spf.example.com");
	/* an IPv4-mapped client is an IPv4 client */
	expect_expand("::ffff:192.0.2.3", "%{i} %{v}", true, "192.0.2.3 in-addr");
	/* explanation letters, escapes, URL encoding; no DNS: %{p} unknown */
	expect_expand("2001:db8::cb01", "%{c} %{r} %{h} %{p}", true,
	    "2001:db8::cb01 receiver.example.net mx.example.org unknown");
	expect_expand("192.0.2.3", "100%% %_%-%{S}", true,
	    "100%  %20strong-bad%40email.example.com");
	/* a domain-spec is cut from the left to fit 253 bytes */
	memset(text, 0, sizeof(text));
	for (i = 0; i < 10; i++)	/* 20 x 18 bytes */
		strcat(text, "%{d}.%{d}.");
	strcat(text, "end.example");
	got = expand("192.0.2.3", text, false);
	assert_non_null(got);
	assert_true(strlen(got) <= 253);
	assert_true(strlen(got) > 200);
	assert_string_equal(got + strlen(got) - 12, ".end.example");
	assert_true(got[0] != '.');
	free(got);
	/* not expanded: bad macros, explanation letters in a domain-spec */
	assert_null(expand("192.0.2.3", "%{x}", true));
	assert_null(expand("192.0.2.3", "%{c}", false));
	assert_null(expand("192.0.2.3", "%{d0}", false));
	assert_null(expand("192.0.2.3", "100%", true));
	/* nor for an unusable identity */
	assert_null(expand("not an address", "%{d}", false));
	{
		struct spf_macro_env env = {
			.client_ip = "192.0.2.3", .local = "x",
			.domain = "localhost",
		};

		assert_null(spf_macro_expand(&env, "%{d}", 4, false));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_good),
		cmocka_unit_test(test_record_version),
		cmocka_unit_test(test_record_bad_terms),
		cmocka_unit_test(test_record_cidr),
		cmocka_unit_test(test_record_ip),
		cmocka_unit_test(test_record_domain_end),
		cmocka_unit_test(test_record_modifiers),
		cmocka_unit_test(test_record_macros),
		cmocka_unit_test(test_record_bytes),
		cmocka_unit_test(test_record_big),
		cmocka_unit_test(test_macro_valid),
		cmocka_unit_test(test_macro_expand),
		cmocka_unit_test(test_domain_valid),
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test(test_result_names),
		cmocka_unit_test(test_check_no_dns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
