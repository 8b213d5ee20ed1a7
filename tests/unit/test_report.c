/*
 * test_report.c - unit tests of report.c: rows grouped and counted (never
 * one record per message), the RFC 9990 order of DKIM results and their
 * limit of 100, XML escaping of hostile values (< > & quotes, control
 * characters, non-ASCII, bytes that are not UTF-8) in a report that still
 * validates against tests/rfc9990.xsd with xmllint, the file name, the
 * Subject, the day parser, rua= parsing, the DKIM text form, gzip; and
 * rua=/ruf= mailto: URIs (RFC 6068 percent-decoding, hfields and bad
 * addresses refused); of report_dest.c: the record that authorizes an
 * external destination and its own rua= (RFC 9990 section 4); and
 * of report_failure.c: fo= evaluation, the ARF message of a failure
 * report (headers only), the per-destination rate limit.
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
#include <zlib.h>

#include "report.h"
#include "report_dest.h"
#include "report_failure.h"
#include "testutil.h"

#define T_BEGIN		1796083200	/* 2026-12-01 00:00:00 UTC */
#define T_SCHEMA	"tests/rfc9990.xsd"

/* row - a typical row: example.com, pass, one signature */
static struct report_row *
row(const char *ip, const char *dis)
{
	struct report_row *r = report_row_new();

	r->received = T_BEGIN + 100;
	util_copy(r->source_ip, sizeof(r->source_ip), ip);
	util_copy(r->policy_domain, sizeof(r->policy_domain), "example.com");
	util_copy(r->header_from, sizeof(r->header_from), "example.com");
	util_copy(r->envelope_from, sizeof(r->envelope_from),
	    "bounce.example.com");
	util_copy(r->envelope_to, sizeof(r->envelope_to), "mx.test");
	util_copy(r->disposition, sizeof(r->disposition), dis);
	r->dkim_aligned = strcmp(dis, "pass") == 0;
	util_copy(r->spf_domain, sizeof(r->spf_domain),
	    "bounce.example.com");
	util_copy(r->spf_result, sizeof(r->spf_result), "pass");
	util_copy(r->p, sizeof(r->p), "reject");
	util_copy(r->adkim, sizeof(r->adkim), "r");
	util_copy(r->aspf, sizeof(r->aspf), "r");
	util_copy(r->testing, sizeof(r->testing), "n");
	util_copy(r->discovery, sizeof(r->discovery), "treewalk");
	util_copy(r->rua, sizeof(r->rua), "mailto:d@example.com");
	report_row_add_dkim(r, "example.com", "s1",
	    r->dkim_aligned ? "pass" : "fail");
	return r;
}

static void
meta(struct report_meta *m)
{
	memset(m, 0, sizeof(*m));
	m->org_name = "Example Receiver";
	m->email = "dmarc@receiver.test";
	m->receiver = "receiver.test";
	m->generator = "authmilter test";
	report_id(m->receiver, "example.com", T_BEGIN, m->id);
	m->begin = T_BEGIN;
	m->end = T_BEGIN + REPORT_DAY_SECS;
}

/* count_of - occurrences of needle in hay */
static size_t
count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p != NULL;
	    p = strstr(p + 1, needle))
		n++;
	return n;
}

/* validates - xmllint --schema accepts the XML */
static bool
validates(const struct buf *xml)
{
	char *dir = tu_mkdtemp("test_report");
	char *path;
	int rc;

	assert_non_null(dir);
	path = tu_write_file(dir, "r.xml", xml->data, 0600);
	assert_non_null(path);
	rc = tu_run("xmllint --noout --schema %s %s >/dev/null 2>%s/err",
	    T_SCHEMA, path, dir);
	if (rc != 0)
		(void)tu_run("cat %s/err >&2", dir);
	free(path);
	tu_rmtree(dir);
	free(dir);
	return rc == 0;
}

static void
free_rows(struct report_row **rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		report_row_free(rows[i]);
}

/* rows equal but for time and gateway are one record with a count */
static void
test_grouping(void **state)
{
	struct report_row *rows[6];
	struct report_counts c;
	struct report_meta m;
	struct buf xml;

	(void)state;
	for (int i = 0; i < 3; i++) {
		rows[i] = row("192.0.2.1", "pass");
		rows[i]->received += i;
		snprintf(rows[i]->gateway, sizeof(rows[i]->gateway), "gw%d",
		    i);
	}
	rows[3] = row("192.0.2.2", "pass");
	rows[4] = row("192.0.2.1", "reject");
	rows[5] = row("2001:db8::1", "pass");
	meta(&m);
	buf_init(&xml);
	report_xml(&m, rows, 6, &xml, &c);
	assert_int_equal(c.records, 4);
	assert_int_equal(c.messages, 6);
	assert_int_equal(count_of(xml.data, "<record>"), 4);
	assert_non_null(strstr(xml.data, "<count>3</count>"));
	assert_int_equal(count_of(xml.data, "<count>1</count>"), 3);
	assert_non_null(strstr(xml.data, "<feedback xmlns=\""
	    "urn:ietf:params:xml:ns:dmarc-2.0\">"));
	assert_non_null(strstr(xml.data, "<disposition>pass</disposition>"));
	assert_non_null(strstr(xml.data,
	    "<discovery_method>treewalk</discovery_method>"));
	assert_non_null(strstr(xml.data, "<sp>reject</sp>"));	/* sp = p */
	assert_non_null(strstr(xml.data, "<end>1796169599</end>"));
	assert_true(validates(&xml));
	buf_free(&xml);
	free_rows(rows, 6);
}

/* rows a store already grouped carry their counts, which add up */
static void
test_grouped_counts(void **state)
{
	struct report_row *rows[3];
	struct report_counts c;
	struct report_meta m;
	struct buf xml;

	(void)state;
	rows[0] = row("192.0.2.1", "pass");
	rows[0]->count = 5;
	rows[1] = row("192.0.2.1", "pass");
	rows[1]->count = 2;
	rows[2] = row("192.0.2.1", "reject");
	meta(&m);
	buf_init(&xml);
	report_xml(&m, rows, 3, &xml, &c);
	assert_int_equal(c.records, 2);
	assert_int_equal(c.messages, 8);
	assert_non_null(strstr(xml.data, "<count>7</count>"));
	assert_non_null(strstr(xml.data, "<count>1</count>"));
	buf_free(&xml);
	free_rows(rows, 3);
}

/* an IPv4-mapped address is reported as IPv4; a bad one is left out */
static void
test_addresses(void **state)
{
	struct report_row *rows[2];
	struct report_counts c;
	struct report_meta m;
	struct buf xml;

	(void)state;
	rows[0] = row("::ffff:192.0.2.9", "none");
	rows[1] = row("not-an-address", "none");
	meta(&m);
	buf_init(&xml);
	report_xml(&m, rows, 2, &xml, &c);
	assert_int_equal(c.records, 1);
	assert_non_null(strstr(xml.data, "<source_ip>192.0.2.9</source_ip>"));
	assert_true(validates(&xml));
	buf_free(&xml);
	free_rows(rows, 2);
}

/* RFC 9990: strict-aligned pass, relaxed-aligned pass, other pass, rest */
static void
test_dkim_order(void **state)
{
	struct report_row *r = report_row_new();

	(void)state;
	util_copy(r->header_from, sizeof(r->header_from), "example.com");
	report_row_add_dkim(r, "other.test", "a", "fail");
	report_row_add_dkim(r, "thirdparty.test", "b", "pass");
	report_row_add_dkim(r, "mail.example.com", "c", "pass");
	report_row_add_dkim(r, "example.com", "d", "pass");
	report_row_add_dkim(r, "example.com", "e", "fail");
	report_row_add_dkim(r, "esp.test", "f", "pass");
	report_dkim_order(r);
	assert_string_equal(r->dkim[0].selector, "d");
	assert_string_equal(r->dkim[1].selector, "c");
	assert_string_equal(r->dkim[2].selector, "b");	/* stable */
	assert_string_equal(r->dkim[3].selector, "f");
	assert_string_equal(r->dkim[4].selector, "a");
	assert_string_equal(r->dkim[5].selector, "e");
	report_row_free(r);
}

/* at most 100 signatures per row, and per record */
static void
test_dkim_limit(void **state)
{
	struct report_row *r = row("192.0.2.1", "pass");
	struct report_counts c;
	struct report_meta m;
	struct buf xml;
	char sel[32];

	(void)state;
	for (int i = 0; i < 150; i++) {
		snprintf(sel, sizeof(sel), "s%d", i);
		report_row_add_dkim(r, "signer.test", sel, "fail");
	}
	assert_int_equal(r->ndkim, REPORT_MAX_DKIM);
	meta(&m);
	buf_init(&xml);
	report_xml(&m, &r, 1, &xml, &c);
	assert_int_equal(count_of(xml.data, "<dkim>\n"), 100);
	/* the passing, aligned one came first despite being added first */
	assert_non_null(strstr(xml.data, "<dkim>\n        <domain>example.com"
	    "</domain>\n        <selector>s1</selector>"));
	assert_true(validates(&xml));
	buf_free(&xml);
	report_row_free(r);
}

/* hostile values are escaped and the report still validates */
static void
test_escaping(void **state)
{
	struct report_row *r = row("192.0.2.1", "none");
	struct report_counts c;
	struct report_meta m;
	struct buf xml, e;

	(void)state;
	util_copy(r->header_from, sizeof(r->header_from),
	    "<evil>&\"quote'\x01\x7f b\xc3\xbc" "cher.example \xff\xfe"
	    "\xe2\x82");
	util_copy(r->override, sizeof(r->override), "mailing_list");
	util_copy(r->override_comment, sizeof(r->override_comment),
	    "List-Id: <a&b> ]]> --> \"x\"");
	util_copy(r->fo, sizeof(r->fo), "1:d<s");
	util_copy(r->p, sizeof(r->p), "bogus");	/* not a policy */
	util_copy(r->spf_result, sizeof(r->spf_result), "<x>");
	r->dkim[0].selector[0] = '\0';
	util_copy(r->dkim[0].result, sizeof(r->dkim[0].result), "weird");
	buf_init(&e);
	report_xml_escape(&e, r->header_from);
	assert_string_equal(e.data, "&lt;evil&gt;&amp;&quot;quote&apos;?? "
	    "b\xc3\xbc" "cher.example ????");
	buf_free(&e);
	/* U+FFFE and U+FFFF are well-formed UTF-8 but not XML characters */
	buf_init(&e);
	report_xml_escape(&e, "a\xef\xbf\xbe" "b\xef\xbf\xbf" "c\xef\xbf\xbd");
	assert_string_equal(e.data, "a???b???c\xef\xbf\xbd");
	buf_free(&e);
	meta(&m);
	m.org_name = "A & B <Receivers> \"Inc\"";
	buf_init(&xml);
	report_xml(&m, &r, 1, &xml, &c);
	assert_null(strstr(xml.data, "<evil>"));
	assert_non_null(strstr(xml.data, "<p>none</p>"));
	assert_non_null(strstr(xml.data, "<type>mailing_list</type>"));
	assert_non_null(strstr(xml.data, "<result>permerror</result>"));
	assert_true(validates(&xml));
	buf_free(&xml);
	report_row_free(r);
}

/* the RFC 9990 file name and Subject; bad domains refused */
static void
test_names(void **state)
{
	struct report_meta m;
	char out[600], id2[REPORT_ID_LEN + 1], expect[600];

	(void)state;
	meta(&m);
	assert_int_equal(strlen(m.id), REPORT_ID_LEN);
	for (const char *p = m.id; *p; p++)
		assert_non_null(strchr("0123456789abcdef", *p));
	report_id("receiver.test", "example.com", T_BEGIN, id2);
	assert_string_equal(m.id, id2);		/* stable */
	report_id("receiver.test", "example.com", T_BEGIN + 1, id2);
	assert_string_not_equal(m.id, id2);
	assert_true(report_filename(&m, "example.com", out, sizeof(out)));
	snprintf(expect, sizeof(expect), "receiver.test!example.com!"
	    "1796083200!1796169599!%s.xml.gz", m.id);
	assert_string_equal(out, expect);
	assert_true(report_subject(&m, "example.com", out, sizeof(out)));
	snprintf(expect, sizeof(expect), "Report Domain: example.com "
	    "Submitter: receiver.test Report-ID: <%s@receiver.test>", m.id);
	assert_string_equal(out, expect);
	assert_false(report_filename(&m, "a/b.example", out, sizeof(out)));
	assert_false(report_filename(&m, "x!y.example", out, sizeof(out)));
	assert_false(report_subject(&m, "evil.example\r\nBcc: x@y", out,
	    sizeof(out)));
	assert_false(report_domain_safe(""));
	assert_false(report_domain_safe("a..b"));
	assert_true(report_domain_safe("xn--bcher-kva.example"));
}

/* the mail: headers, the attachment's name, base64 */
static void
test_mail(void **state)
{
	struct report_meta m;
	struct buf gz, mail;

	(void)state;
	meta(&m);
	buf_init(&gz);
	assert_true(report_gzip("<x/>", 4, &gz));
	buf_init(&mail);
	report_mail(&m, "example.com", "d@example.com", "f.xml.gz", &gz,
	    T_BEGIN, &mail);
	assert_non_null(strstr(mail.data, "\nSubject: Report Domain: "
	    "example.com Submitter: receiver.test Report-ID: <"));
	assert_non_null(strstr(mail.data, "From: \"Example Receiver\" "
	    "<dmarc@receiver.test>\n"));
	assert_non_null(strstr(mail.data, "Content-Type: application/gzip; "
	    "name=\"f.xml.gz\""));
	assert_non_null(strstr(mail.data, "Date: Tue, 01 Dec 2026 00:00:00 "
	    "+0000\n"));
	assert_null(strchr(mail.data, '\r'));
	buf_free(&mail);
	buf_free(&gz);
}

/* gzip: deterministic and gunzips to the input */
static void
test_gzip(void **state)
{
	const char *text = "<feedback>hello hello hello</feedback>\n";
	struct buf a, b;
	unsigned char out[256];
	z_stream z;

	(void)state;
	buf_init(&a);
	buf_init(&b);
	assert_true(report_gzip(text, strlen(text), &a));
	assert_true(report_gzip(text, strlen(text), &b));
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	assert_int_equal((unsigned char)a.data[0], 0x1f);
	assert_int_equal((unsigned char)a.data[1], 0x8b);
	memset(&z, 0, sizeof(z));
	assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (Bytef *)a.data;
	z.avail_in = (uInt)a.len;
	z.next_out = out;
	z.avail_out = sizeof(out);
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	assert_int_equal(z.total_out, strlen(text));
	assert_memory_equal(out, text, strlen(text));
	inflateEnd(&z);
	buf_free(&a);
	buf_free(&b);
}

/* days, rua= values, the DKIM text form */
static void
test_parsers(void **state)
{
	struct report_row *r = report_row_new();
	int64_t t;
	char d[11], addr[128];
	char *text;

	(void)state;
	assert_true(report_parse_day("2026-12-01", &t));
	assert_int_equal(t, T_BEGIN);
	report_format_day(T_BEGIN + 86399, d);
	assert_string_equal(d, "2026-12-01");
	assert_false(report_parse_day("2026-02-30", &t));
	assert_false(report_parse_day("2026-12-1", &t));
	assert_false(report_parse_day("2026-12-01x", &t));
	assert_int_equal(report_mailto("mailto:a@x.test!10m, https://h/, "
	    "MAILTO:b@y.test", 0, addr, sizeof(addr)), REPORT_URI_OK);
	assert_string_equal(addr, "a@x.test");
	assert_int_equal(report_mailto("mailto:a@x.test!10m, https://h/, "
	    "MAILTO:b@y.test", 1, addr, sizeof(addr)), REPORT_URI_OK);
	assert_string_equal(addr, "b@y.test");
	assert_int_equal(report_mailto("mailto:a@x.test", 1, addr,
	    sizeof(addr)), REPORT_URI_NONE);
	assert_int_equal(report_mailto("", 0, addr, sizeof(addr)),
	    REPORT_URI_NONE);
	report_row_add_dkim(r, "a.test", "s 1\n", "pass");
	report_row_add_dkim(r, "b.test", "", "fail");
	text = report_dkim_text(r);
	assert_string_equal(text, "a.test s?1? pass\nb.test - fail");
	report_row_free(r);
	r = report_row_new();
	report_dkim_parse(r, text);
	assert_int_equal(r->ndkim, 2);
	assert_string_equal(r->dkim[0].selector, "s?1?");
	assert_string_equal(r->dkim[1].selector, "");
	assert_string_equal(r->dkim[1].result, "fail");
	free(text);
	report_row_free(r);
}

/* fo=: 0 (default), 1, d, s and their combinations */
static void
test_failure_fo(void **state)
{
	(void)state;
	/* dmarc_fail, dkim_aligned, spf_aligned, dkim_failed, spf_failed */
	assert_true(failure_fo_wants("", true, false, false, false, false));
	assert_true(failure_fo_wants("0", true, false, false, false, false));
	assert_false(failure_fo_wants("0", false, true, false, false, true));
	assert_true(failure_fo_wants("1", false, true, false, false, true));
	assert_false(failure_fo_wants("1", false, true, true, false, false));
	assert_false(failure_fo_wants("d", true, false, false, false, true));
	assert_true(failure_fo_wants("d", false, true, true, true, false));
	assert_true(failure_fo_wants("s", false, true, false, false, true));
	assert_true(failure_fo_wants("d:s", false, true, true, false, true));
	assert_false(failure_fo_wants("x", true, false, false, true, true));
}

/* the ARF message: auth-failure, Identity-Alignment, headers only */
static void
test_failure_message(void **state)
{
	struct failure_config c = { "dmarc-reports@receiver.test",
	    "Receiver", "/usr/sbin/sendmail", NULL, "gw.test", 10, false };
	struct failure_job j;
	struct buf b;

	(void)state;
	memset(&j, 0, sizeof(j));
	j.arrival = T_BEGIN;
	j.policy_domain = (char *)"example.com";
	j.header_from = (char *)"example.com";
	j.mail_from = (char *)"bounce@example.com";
	j.source_ip = (char *)"192.0.2.1";
	j.authres = (char *)"mx.test;\r\n\tdmarc=fail header.from=example.com";
	j.alignment = (char *)"none";
	j.delivery = (char *)"reject";
	j.ruf = (char *)"mailto:f@example.com";
	j.headers = (char *)"From: a@example.com\nSubject: hi\n";
	buf_init(&b);
	failure_message(&c, &j, "f@example.com", T_BEGIN + 5, &b);
	assert_non_null(strstr(b.data, "Content-Type: multipart/report; "
	    "report-type=feedback-report;"));
	assert_non_null(strstr(b.data, "\nFeedback-Type: auth-failure\n"));
	assert_non_null(strstr(b.data, "\nIdentity-Alignment: none\n"));
	assert_non_null(strstr(b.data, "\nAuth-Failure: dmarc\n"));
	assert_non_null(strstr(b.data, "\nVersion: 1\n"));
	assert_non_null(strstr(b.data, "\nSource-IP: 192.0.2.1\n"));
	assert_non_null(strstr(b.data, "\nReported-Domain: example.com\n"));
	assert_non_null(strstr(b.data, "\nOriginal-Mail-From: "
	    "<bounce@example.com>\n"));
	assert_non_null(strstr(b.data, "\nAuthentication-Results: mx.test;\n"
	    "\tdmarc=fail"));
	assert_non_null(strstr(b.data, "Content-Type: text/rfc822-headers\n\n"
	    "From: a@example.com\nSubject: hi\n"));
	assert_null(strchr(b.data, '\r'));
	buf_free(&b);
}

/* at most per_hour reports to one destination in any hour */
/* rua=/ruf= mailto: URIs: RFC 6068 percent-decoding, hfields refused */
static void
test_mailto(void **state)
{
	char addr[REPORT_MAX_ADDR + 1];

	(void)state;
#define U(rua, n)	report_mailto(rua, n, addr, sizeof(addr))
	assert_int_equal(U("mailto:dmarc%2Breports@example.net", 0),
	    REPORT_URI_OK);
	assert_string_equal(addr, "dmarc+reports@example.net");
	assert_int_equal(U(" mailto:a%2eb@x.test!25k ", 0), REPORT_URI_OK);
	assert_string_equal(addr, "a.b@x.test");
	/* "!" inside the local part is not a size */
	assert_int_equal(U("mailto:a!b@x.test", 0), REPORT_URI_OK);
	assert_string_equal(addr, "a!b@x.test");
	/* hfields: never followed */
	assert_int_equal(U("mailto:a@x.test?subject=hi", 0), REPORT_URI_BAD);
	assert_int_equal(U("mailto:a@x.test?cc=b@evil.test", 0),
	    REPORT_URI_BAD);
	/* bad escapes, decoded controls, several addresses, no address */
	assert_int_equal(U("mailto:a%2@x.test", 0), REPORT_URI_BAD);
	assert_int_equal(U("mailto:a%zz@x.test", 0), REPORT_URI_BAD);
	assert_int_equal(U("mailto:a%0d%0aRCPT@x.test", 0), REPORT_URI_BAD);
	assert_int_equal(U("mailto:a%00@x.test", 0), REPORT_URI_BAD);
	assert_int_equal(U("mailto:a@x.test%2Cb@y.test", 0), REPORT_URI_BAD);
	assert_int_equal(U("mailto:a%3Cb%3E@x.test", 0), REPORT_URI_BAD);
	assert_int_equal(U("mailto:", 0), REPORT_URI_BAD);
	assert_int_equal(U("mailto:nobody", 0), REPORT_URI_BAD);
	assert_int_equal(U("mailto:a@-bad-.test", 0), REPORT_URI_BAD);
	assert_int_equal(U("mailto:-oQ/tmp@x.test", 0), REPORT_URI_BAD);
	assert_int_equal(U("mailto:a@b@x.test", 0), REPORT_URI_BAD);
	/* found by fuzz_report: the parser forgave the dot, SMTP does not */
	assert_int_equal(U("mailto:a@b.", 0), REPORT_URI_BAD);
	assert_int_equal(U("mailto:a@x.test.", 0), REPORT_URI_BAD);
	assert_int_equal(U("mailto:\xc3\xa9@x.test", 0), REPORT_URI_BAD);
	/* a bad URI counts in the list, and says what it was */
	assert_int_equal(U("mailto:a@x.test?x=y, mailto:b@y.test", 0),
	    REPORT_URI_BAD);
	assert_string_equal(addr, "a@x.test?x=y");
	assert_int_equal(U("mailto:a@x.test?x=y, mailto:b@y.test", 1),
	    REPORT_URI_OK);
	assert_string_equal(addr, "b@y.test");
#undef U
}

/* RFC 9990 section 4: the record that authorizes, and its own rua= */
static void
test_dest_record(void **state)
{
	char ov[REPORT_MAX_RUA + 1], why[256];

	(void)state;
	assert_true(report_dest_record("v=DMARC1", "rua", ov, sizeof(ov)));
	assert_string_equal(ov, "");
	assert_true(report_dest_record("v=DMARC1;", "rua", ov, sizeof(ov)));
	assert_true(report_dest_record(" v = DMARC1 ; rua=mailto:r@c.test ;",
	    "rua", ov, sizeof(ov)));
	assert_string_equal(ov, "mailto:r@c.test");
	assert_true(report_dest_record("v=DMARC1; ruf=mailto:f@c.test",
	    "rua", ov, sizeof(ov)));
	assert_string_equal(ov, "");
	assert_true(report_dest_record("v=DMARC1; ruf=mailto:f@c.test",
	    "ruf", ov, sizeof(ov)));
	assert_string_equal(ov, "mailto:f@c.test");
	assert_false(report_dest_record("rua=mailto:r@c.test; v=DMARC1",
	    "rua", ov, sizeof(ov)));
	assert_false(report_dest_record("v=DMARC2", "rua", ov, sizeof(ov)));
	assert_false(report_dest_record("v=dmarc1", "rua", ov, sizeof(ov)));
	assert_false(report_dest_record("v=DMARC1x", "rua", ov, sizeof(ov)));
	assert_false(report_dest_record("", "rua", ov, sizeof(ov)));
	assert_false(report_dest_record("spf1", "rua", ov, sizeof(ov)));
	/* the replacement must stay on the host that authorized it */
	assert_true(report_dest_override_ok("mailto:r@c.test, "
	    "mailto:s@C.TEST", "c.test", why, sizeof(why)));
	assert_false(report_dest_override_ok("mailto:r@c.test, "
	    "mailto:s@other.test", "c.test", why, sizeof(why)));
	assert_non_null(strstr(why, "s@other.test is not on c.test"));
	assert_false(report_dest_override_ok("mailto:r@sub.c.test", "c.test",
	    why, sizeof(why)));
	assert_false(report_dest_override_ok("mailto:r@c.test?subject=x",
	    "c.test", why, sizeof(why)));
	assert_false(report_dest_override_ok("https://c.test/r", "c.test",
	    why, sizeof(why)));
}

static void
test_failure_rate(void **state)
{
	struct failure_rate *r = failure_rate_new();
	time_t t = 1000000;

	(void)state;
	assert_true(failure_rate_allow(r, "a@x.test", t, 2));
	assert_true(failure_rate_allow(r, "a@x.test", t + 10, 2));
	assert_false(failure_rate_allow(r, "a@x.test", t + 20, 2));
	assert_true(failure_rate_allow(r, "b@x.test", t + 20, 2));
	assert_false(failure_rate_allow(r, "A@X.TEST", t + 3599, 2));
	assert_true(failure_rate_allow(r, "a@x.test", t + 3600, 2));
	assert_false(failure_rate_allow(r, "a@x.test", t + 3605, 2));
	assert_true(failure_rate_allow(r, "a@x.test", t + 3610, 2));
	/* many destinations: the table stays bounded and keeps working */
	for (int i = 0; i < 3 * REPORT_FAILURE_MAX_DESTS; i++) {
		char d[32];

		snprintf(d, sizeof(d), "d%d@y.test", i);
		assert_true(failure_rate_allow(r, d, t + 4000 + i, 1));
	}
	assert_false(failure_rate_allow(r, "x@z.test", t, 0));
	failure_rate_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grouping),
		cmocka_unit_test(test_grouped_counts),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_dkim_order),
		cmocka_unit_test(test_dkim_limit),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_mail),
		cmocka_unit_test(test_gzip),
		cmocka_unit_test(test_parsers),
		cmocka_unit_test(test_failure_fo),
		cmocka_unit_test(test_failure_message),
		cmocka_unit_test(test_failure_rate),
		cmocka_unit_test(test_mailto),
		cmocka_unit_test(test_dest_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
