/*
 * test_dns.c - unit tests of dns.c's reply parser (dns_parse_reply), the
 * code that reads every DNS answer the filter gets: records of the type
 * asked for, TTLs, negative TTLs from the SOA, and malformed replies
 * (pointer loops, lengths past the end) as SERVFAIL. Each reply is parsed
 * from a heap buffer of exactly its length, so that AddressSanitizer
 * catches any read past it.
 */
#include "buildconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dns.h"

#define WIRE_MAX	1024

/* A reply being written. */
struct wire {
	unsigned char	 b[WIRE_MAX];
	size_t		 n;
};

static void
put(struct wire *w, const void *p, size_t n)
{
	assert_true(w->n + n <= sizeof(w->b));
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

static void
put16(struct wire *w, unsigned v)
{
	unsigned char b[2] = { (unsigned char)(v >> 8), (unsigned char)v };

	put(w, b, 2);
}

static void
put32(struct wire *w, uint32_t v)
{
	put16(w, v >> 16);
	put16(w, v & 0xffff);
}

/* put_name - a name as labels ("" is the root) */
static void
put_name(struct wire *w, const char *name)
{
	const char *p = name, *dot;
	unsigned char len;

	while (*p != '\0') {
		dot = strchr(p, '.');
		len = (unsigned char)(dot != NULL ? (size_t)(dot - p) : strlen(p));
		put(w, &len, 1);
		put(w, p, len);
		p += len;
		if (*p == '.')
			p++;
	}
	put(w, "", 1);
}

/* header - id, flags (QR + rcode), one question, an, ns counts */
static void
header(struct wire *w, unsigned rcode, unsigned an, unsigned ns,
    const char *qname, unsigned qtype)
{
	w->n = 0;
	put16(w, 0x1234);
	put16(w, 0x8180 | rcode);
	put16(w, 1);
	put16(w, an);
	put16(w, ns);
	put16(w, 0);
	put_name(w, qname);
	put16(w, qtype);
	put16(w, 1);
}

/* rr - a record owned by the question's name (pointer to offset 12) */
static void
rr(struct wire *w, unsigned type, uint32_t ttl, const void *rd, size_t len)
{
	put16(w, 0xc00c);
	put16(w, type);
	put16(w, 1);
	put32(w, ttl);
	put16(w, (unsigned)len);
	put(w, rd, len);
}

/* parse - dns_parse_reply over an exact-size copy */
static struct dns_answer *
parse(const struct wire *w, unsigned type)
{
	unsigned char *copy = malloc(w->n ? w->n : 1);
	struct dns_answer *a;

	assert_non_null(copy);
	memcpy(copy, w->b, w->n);
	a = dns_parse_reply(type, copy, w->n);
	free(copy);
	assert_non_null(a);
	return a;
}

static void
test_txt(void **state)
{
	static const unsigned char two[] = "\x08v=DMARC1\x0a; p=reject";
	static const unsigned char one[] = "\x03" "abc";
	struct wire w;
	struct dns_answer *a;

	(void)state;
	header(&w, 0, 3, 0, "_dmarc.example.com", DNS_T_TXT);
	rr(&w, DNS_T_TXT, 300, two, sizeof(two) - 1);
	rr(&w, DNS_T_A, 10, "\xc0\x00\x02\x01", 4);	/* not asked: skipped */
	rr(&w, DNS_T_TXT, 60, one, sizeof(one) - 1);
	a = parse(&w, DNS_T_TXT);
	assert_int_equal(a->status, DNS_OK);
	assert_int_equal(a->nrecords, 2);
	assert_int_equal(a->records[0].len, 18);
	assert_string_equal(a->records[0].text, "v=DMARC1; p=reject");
	assert_string_equal(a->records[1].text, "abc");
	assert_int_equal(a->ttl, 60);		/* the smallest */
	assert_int_equal(a->wirelen, w.n);
	dns_answer_free(a);
}

static void
test_mx_a(void **state)
{
	unsigned char mx[32];
	struct wire w;
	struct dns_answer *a;

	(void)state;
	/* preference 10, "MAIL" + a pointer to the owner: lower-cased */
	memcpy(mx, "\x00\x0a\x04MAIL\xc0\x0c", 9);
	header(&w, 0, 1, 0, "Example.COM", DNS_T_MX);
	rr(&w, DNS_T_MX, 3600, mx, 9);
	a = parse(&w, DNS_T_MX);
	assert_int_equal(a->status, DNS_OK);
	assert_int_equal(a->records[0].pref, 10);
	assert_string_equal(a->records[0].text, "mail.example.com");
	dns_answer_free(a);

	/* an A record of 5 bytes is malformed: the reply is SERVFAIL */
	header(&w, 0, 1, 0, "example.com", DNS_T_A);
	rr(&w, DNS_T_A, 60, "\xc0\x00\x02\x01\x01", 5);
	a = parse(&w, DNS_T_A);
	assert_int_equal(a->status, DNS_SERVFAIL);
	assert_int_equal(a->nrecords, 0);
	dns_answer_free(a);
}

static void
test_negative(void **state)
{
	struct wire w, soa;
	struct dns_answer *a;

	(void)state;
	soa.n = 0;
	put_name(&soa, "ns.example.com");
	put_name(&soa, "hostmaster.example.com");
	put32(&soa, 1);
	put32(&soa, 3600);
	put32(&soa, 600);
	put32(&soa, 86400);
	put32(&soa, 120);		/* MINIMUM */
	header(&w, 3, 0, 1, "nx.example.com", DNS_T_TXT);
	rr(&w, 6, 900, soa.b, soa.n);
	a = parse(&w, DNS_T_TXT);
	assert_int_equal(a->status, DNS_NXDOMAIN);
	assert_int_equal(a->ttl, 120);		/* min(TTL, MINIMUM) */
	dns_answer_free(a);

	/* NODATA without a SOA: the default negative TTL */
	header(&w, 0, 0, 0, "example.com", DNS_T_TXT);
	a = parse(&w, DNS_T_TXT);
	assert_int_equal(a->status, DNS_NODATA);
	assert_int_equal(a->ttl, DNS_NEG_TTL_DEFAULT);
	dns_answer_free(a);

	/* SERVFAIL rcode */
	header(&w, 2, 0, 0, "example.com", DNS_T_TXT);
	a = parse(&w, DNS_T_TXT);
	assert_int_equal(a->status, DNS_SERVFAIL);
	dns_answer_free(a);
}

static void
test_malformed(void **state)
{
	static const unsigned char loop[] = {
		0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
		0xc0, 0x0c, 0, 12, 0, 1,		/* a name that is itself */
	};
	struct wire w;
	struct dns_answer *a;

	(void)state;
	/* a compression pointer to itself */
	w.n = 0;
	put(&w, loop, sizeof(loop));
	a = parse(&w, DNS_T_PTR);
	assert_int_equal(a->status, DNS_SERVFAIL);
	dns_answer_free(a);

	/* rdata that says it is longer than the reply */
	header(&w, 0, 1, 0, "example.com", DNS_T_TXT);
	rr(&w, DNS_T_TXT, 60, "\x05" "abcde", 6);
	w.b[w.n - 7] = 0x40;			/* rdlength low byte: 64 */
	a = parse(&w, DNS_T_TXT);
	assert_int_equal(a->status, DNS_SERVFAIL);
	dns_answer_free(a);

	/* a character-string past its rdata */
	header(&w, 0, 1, 0, "example.com", DNS_T_TXT);
	rr(&w, DNS_T_TXT, 60, "\x09" "abc", 4);
	a = parse(&w, DNS_T_TXT);
	assert_int_equal(a->status, DNS_SERVFAIL);
	dns_answer_free(a);

	/* not a reply (QR clear), a short header, nothing at all */
	header(&w, 0, 0, 0, "example.com", DNS_T_TXT);
	w.b[2] &= 0x7f;
	a = parse(&w, DNS_T_TXT);
	assert_int_equal(a->status, DNS_SERVFAIL);
	dns_answer_free(a);
	w.n = 11;
	a = parse(&w, DNS_T_TXT);
	assert_int_equal(a->status, DNS_SERVFAIL);
	dns_answer_free(a);
	w.n = 0;
	a = parse(&w, DNS_T_TXT);
	assert_int_equal(a->status, DNS_SERVFAIL);
	dns_answer_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_txt),
		cmocka_unit_test(test_mx_a),
		cmocka_unit_test(test_negative),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
