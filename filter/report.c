/*
 * NAME
 *	report - DMARC aggregate reports (RFC 9990): rows, grouping, XML,
 *	file name, Subject, gzip and the report message
 * SYNOPSIS
 *	#include "report.h"
 *
 *	r = report_row_new(); report_row_add_dkim(r, d, s, result)...
 *	report_xml(&meta, rows, n, &xml, &counts)
 *	report_filename(&meta, domain, name, size); report_subject(...)
 *	report_gzip(xml.data, xml.len, &gz); report_mail(...)
 * DESCRIPTION
 *	A report holds one policy domain and one period. The rows of that
 *	domain are grouped: rows that agree on the source IP, the
 *	disposition, the aligned results, the override, the identifiers and
 *	every authentication result are one <record> whose <count> says how
 *	many messages they were. Never one record per message.
 *
 *	The XML is written by hand, element by element, in the order of the
 *	RFC 9990 schema (tests/rfc9990.xsd), in the namespace
 *	urn:ietf:params:xml:ns:dmarc-2.0. Every value goes through
 *	report_xml_escape(): the five XML specials are escaped, characters
 *	XML 1.0 forbids and bytes that are not UTF-8 become '?'. Values of
 *	enumerated elements are checked against their enumeration and fall
 *	back to a valid value, so a hostile or damaged store cannot make an
 *	invalid report.
 *
 *	DKIM results are ordered as RFC 9990 prefers: a pass whose d= is the
 *	From domain (strict alignment), a pass whose d= shares at least the
 *	last two labels with it (relaxed alignment, as far as it can be told
 *	without DNS), any other pass, then the rest; at most
 *	REPORT_MAX_DKIM_REPORTED per record.
 * DIAGNOSTICS
 *	None: bad values are made valid, never refused, except by
 *	report_filename() and report_subject(), which refuse a domain that
 *	has no place in a file name or a header.
 */
#include "buildconf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "addr.h"
#include "report.h"
#include "util.h"

#define REPORT_KEY_SEP		'\x1f'	/* between the fields of a group key */
#define REPORT_B64_LINE		76	/* base64 characters per line (MIME) */
#define REPORT_GZIP_WBITS	(15 + 16)	/* zlib: deflate with a gzip wrapper */
#define REPORT_GZIP_CHUNK	16384

struct report_row *
report_row_new(void)
{
	return xcalloc(1, sizeof(struct report_row));
}

void
report_row_free(struct report_row *r)
{
	if (r == NULL)
		return;
	free(r->dkim);
	free(r);
}

/* report_row_add_dkim - one more signature */
void
report_row_add_dkim(struct report_row *r, const char *domain,
    const char *selector, const char *result)
{
	struct report_dkim *d;

	if (r->ndkim >= REPORT_MAX_DKIM)
		return;
	r->dkim = xrealloc(r->dkim, (r->ndkim + 1) * sizeof(*r->dkim));
	d = &r->dkim[r->ndkim++];
	util_copy(d->domain, sizeof(d->domain), domain);
	util_copy(d->selector, sizeof(d->selector), selector);
	util_copy(d->result, sizeof(d->result), result);
}

/* report_put_field - a value for the text form: no space, no control */
static void
report_put_field(struct buf *b, const char *s)
{
	if (*s == '\0') {
		buf_putc(b, '-');
		return;
	}
	for (; *s; s++)
		buf_putc(b, (unsigned char)*s <= ' ' || *s == 0x7f ? '?' : *s);
}

/* report_dkim_text - the signatures as text (see report.h) */
char *
report_dkim_text(const struct report_row *r)
{
	struct buf b;

	buf_init(&b);
	for (size_t i = 0; i < r->ndkim; i++) {
		if (i)
			buf_putc(&b, '\n');
		report_put_field(&b, r->dkim[i].domain);
		buf_putc(&b, ' ');
		report_put_field(&b, r->dkim[i].selector);
		buf_putc(&b, ' ');
		report_put_field(&b, r->dkim[i].result);
	}
	return buf_steal(&b);
}

/* report_dkim_parse - the signatures back from report_dkim_text() */
void
report_dkim_parse(struct report_row *r, const char *text)
{
	char *copy = xstrdup(text ? text : ""), *line, *save = NULL;

	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char *f[3], *fs = NULL;
		size_t n = 0;

		for (char *w = strtok_r(line, " ", &fs); w != NULL && n < 3;
		    w = strtok_r(NULL, " ", &fs))
			f[n++] = strcmp(w, "-") == 0 ? (char *)"" : w;
		if (n == 3)
			report_row_add_dkim(r, f[0], f[1], f[2]);
	}
	free(copy);
}

/* report_labels_shared - how many trailing labels a and b share */
static unsigned
report_labels_shared(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned labels = 0;

	while (la > 0 && lb > 0 &&
	    tolower((unsigned char)a[la - 1]) ==
	    tolower((unsigned char)b[lb - 1])) {
		la--;
		lb--;
		if ((la == 0 || a[la - 1] == '.') &&
		    (lb == 0 || b[lb - 1] == '.'))
			labels++;
		if (la > 0 && a[la - 1] == '.' && lb > 0 && b[lb - 1] == '.') {
			la--;
			lb--;
		}
	}
	return labels;
}

/* report_dkim_rank - RFC 9990's preference: 0 first, 3 last */
static int
report_dkim_rank(const struct report_dkim *d, const char *from)
{
	if (strcmp(d->result, "pass") != 0)
		return 3;
	if (util_strcaseeq(d->domain, from))
		return 0;
	if (report_labels_shared(d->domain, from) >= 2)
		return 1;
	return 2;
}

/* report_dkim_order - stable insertion sort by rank (n <= REPORT_MAX_DKIM) */
void
report_dkim_order(struct report_row *r)
{
	for (size_t i = 1; i < r->ndkim; i++) {
		struct report_dkim tmp = r->dkim[i];
		int rank = report_dkim_rank(&tmp, r->header_from);
		size_t j = i;

		while (j > 0 && report_dkim_rank(&r->dkim[j - 1],
		    r->header_from) > rank) {
			r->dkim[j] = r->dkim[j - 1];
			j--;
		}
		r->dkim[j] = tmp;
	}
}

/*
 * report_utf8_len - length of the character at s (NUL-terminated) that
 * XML may carry: 1 for ASCII, a well-formed UTF-8 sequence but U+FFFE and
 * U+FFFF (not XML characters), or 0
 */
static size_t
report_utf8_len(const unsigned char *s)
{
	size_t n;

	if (s[0] < 0x80)
		return 1;
	n = util_utf8_seq(s, strnlen((const char *)s, 4));
	if (n == 3 && s[0] == 0xef && s[1] == 0xbf && (s[2] == 0xbe ||
	    s[2] == 0xbf))
		return 0;
	return n;
}

/* report_xml_escape - s as XML character data */
void
report_xml_escape(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n = report_utf8_len(p);

		if (n == 0) {
			buf_putc(b, '?');
			p++;
			continue;
		}
		if (n > 1) {
			buf_append(b, p, n);
			p += n;
			continue;
		}
		switch (*p) {
		case '&': buf_puts(b, "&amp;"); break;
		case '<': buf_puts(b, "&lt;"); break;
		case '>': buf_puts(b, "&gt;"); break;
		case '"': buf_puts(b, "&quot;"); break;
		case '\'': buf_puts(b, "&apos;"); break;
		default:
			buf_putc(b, *p < 0x20 || *p == 0x7f ? '?' : (char)*p);
		}
		p++;
	}
}

/* report_elem - <name>escaped value</name> at an indentation */
static void
report_elem(struct buf *b, int indent, const char *name, const char *value)
{
	buf_printf(b, "%*s<%s>", indent, "", name);
	report_xml_escape(b, value);
	buf_printf(b, "</%s>\n", name);
}

/* report_enum - v when it is one of the allowed values, else fallback */
static const char *
report_enum(const char *v, const char *const *allowed, const char *fallback)
{
	for (; *allowed != NULL; allowed++)
		if (strcmp(v, *allowed) == 0)
			return v;
	return fallback;
}

static const char *const report_dispositions[] = {
	"none", "pass", "quarantine", "reject", NULL
};
static const char *const report_policies[] = {
	"none", "quarantine", "reject", NULL
};
static const char *const report_alignments[] = { "r", "s", NULL };
static const char *const report_yesno[] = { "y", "n", NULL };
static const char *const report_discoveries[] = { "psl", "treewalk", NULL };
static const char *const report_dkim_results[] = {
	"none", "pass", "fail", "policy", "neutral", "temperror",
	"permerror", NULL
};
static const char *const report_spf_results[] = {
	"none", "neutral", "pass", "fail", "softfail", "temperror",
	"permerror", NULL
};
static const char *const report_overrides[] = {
	"local_policy", "mailing_list", "other", "policy_test_mode",
	"trusted_forwarder", NULL
};

/* report_ip - the address in the form the schema's IPAddress accepts */
static bool
report_ip(const char *in, char *out, size_t outlen)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, in, a) == 1)
		return inet_ntop(AF_INET, a, out, (socklen_t)outlen) != NULL;
	if (inet_pton(AF_INET6, in, a) != 1)
		return false;
	/* an IPv4-mapped address is the IPv4 client it stands for */
	if (memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0)
		return inet_ntop(AF_INET, a + 12, out, (socklen_t)outlen) !=
		    NULL;
	return inet_ntop(AF_INET6, a, out, (socklen_t)outlen) != NULL;
}

/* One group: the first row of a run of equal keys, and how many. */
struct report_group {
	char		*key;
	struct report_row *row;
};

/* report_key - everything a record says, but time and gateway */
static char *
report_key(const struct report_row *r)
{
	struct buf b;
	char *dkim = report_dkim_text(r);
	const char *f[] = {
		r->source_ip, r->disposition, r->dkim_aligned ? "1" : "0",
		r->spf_aligned ? "1" : "0", r->override, r->override_comment,
		r->header_from, r->envelope_from, r->envelope_to,
		r->spf_domain, r->spf_result, dkim
	};

	buf_init(&b);
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		buf_puts(&b, f[i]);
		buf_putc(&b, REPORT_KEY_SEP);
	}
	free(dkim);
	return buf_steal(&b);
}

static int
report_group_cmp(const void *a, const void *b)
{
	return strcmp(((const struct report_group *)a)->key,
	    ((const struct report_group *)b)->key);
}

/* report_xml_metadata - <report_metadata> */
static void
report_xml_metadata(struct buf *b, const struct report_meta *m)
{
	buf_puts(b, "  <report_metadata>\n");
	report_elem(b, 4, "org_name", m->org_name);
	report_elem(b, 4, "email", m->email);
	report_elem(b, 4, "report_id", m->id);
	buf_printf(b, "    <date_range>\n      <begin>%lld</begin>\n"
	    "      <end>%lld</end>\n    </date_range>\n",
	    (long long)m->begin, (long long)(m->end - 1));
	report_elem(b, 4, "generator", m->generator);
	if (m->error != NULL)
		report_elem(b, 4, "error", m->error);
	buf_puts(b, "  </report_metadata>\n");
}

/* report_xml_policy - <policy_published> of the row r */
static void
report_xml_policy(struct buf *b, const struct report_row *r)
{
	const char *p = report_enum(r->p, report_policies, "none");

	buf_puts(b, "  <policy_published>\n");
	report_elem(b, 4, "domain", r->policy_domain);
	report_elem(b, 4, "discovery_method",
	    report_enum(r->discovery, report_discoveries, "treewalk"));
	report_elem(b, 4, "adkim", report_enum(r->adkim, report_alignments,
	    "r"));
	report_elem(b, 4, "aspf", report_enum(r->aspf, report_alignments,
	    "r"));
	report_elem(b, 4, "p", p);
	/* sp is required: absent, it is p (RFC 9989) */
	report_elem(b, 4, "sp", report_enum(r->sp, report_policies, p));
	if (r->np[0])
		report_elem(b, 4, "np", report_enum(r->np, report_policies,
		    p));
	report_elem(b, 4, "testing", report_enum(r->testing, report_yesno,
	    "n"));
	if (r->fo[0])
		report_elem(b, 4, "fo", r->fo);
	buf_puts(b, "  </policy_published>\n");
}

/* report_xml_record - one <record> for count rows like r */
static void
report_xml_record(struct buf *b, struct report_row *r, const char *ip,
    unsigned long count)
{
	buf_puts(b, "  <record>\n    <row>\n");
	report_elem(b, 6, "source_ip", ip);
	buf_printf(b, "      <count>%lu</count>\n", count);
	buf_puts(b, "      <policy_evaluated>\n");
	report_elem(b, 8, "disposition", report_enum(r->disposition,
	    report_dispositions, "none"));
	report_elem(b, 8, "dkim", r->dkim_aligned ? "pass" : "fail");
	report_elem(b, 8, "spf", r->spf_aligned ? "pass" : "fail");
	if (r->override[0]) {
		buf_puts(b, "        <reason>\n");
		report_elem(b, 10, "type", report_enum(r->override,
		    report_overrides, "other"));
		if (r->override_comment[0])
			report_elem(b, 10, "comment", r->override_comment);
		buf_puts(b, "        </reason>\n");
	}
	buf_puts(b, "      </policy_evaluated>\n    </row>\n");
	buf_puts(b, "    <identifiers>\n");
	if (r->envelope_to[0])
		report_elem(b, 6, "envelope_to", r->envelope_to);
	report_elem(b, 6, "envelope_from", r->envelope_from);
	report_elem(b, 6, "header_from", r->header_from);
	buf_puts(b, "    </identifiers>\n    <auth_results>\n");
	for (size_t i = 0; i < r->ndkim && i < REPORT_MAX_DKIM_REPORTED;
	    i++) {
		buf_puts(b, "      <dkim>\n");
		report_elem(b, 8, "domain", r->dkim[i].domain);
		report_elem(b, 8, "selector", r->dkim[i].selector);
		report_elem(b, 8, "result", report_enum(r->dkim[i].result,
		    report_dkim_results, "permerror"));
		buf_puts(b, "      </dkim>\n");
	}
	buf_puts(b, "      <spf>\n");
	report_elem(b, 8, "domain", r->spf_domain);
	report_elem(b, 8, "scope", "mfrom");
	report_elem(b, 8, "result", report_enum(r->spf_result,
	    report_spf_results, "none"));
	buf_puts(b, "      </spf>\n    </auth_results>\n  </record>\n");
}

/* report_xml - the whole report (see report.h) */
void
report_xml(const struct report_meta *m, struct report_row *const *rows,
    size_t n, struct buf *b, struct report_counts *counts)
{
	struct report_group *g = xcalloc(n ? n : 1, sizeof(*g));
	size_t ng = 0;

	memset(counts, 0, sizeof(*counts));
	for (size_t i = 0; i < n; i++) {
		report_dkim_order(rows[i]);
		g[ng].row = rows[i];
		g[ng].key = report_key(rows[i]);
		ng++;
	}
	qsort(g, ng, sizeof(*g), report_group_cmp);
	buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<feedback xmlns=\"" REPORT_NAMESPACE "\">\n"
	    "  <version>1.0</version>\n");
	report_xml_metadata(b, m);
	if (n > 0)
		report_xml_policy(b, rows[n - 1]);
	for (size_t i = 0; i < ng;) {
		size_t j = i + 1;
		char ip[REPORT_MAX_IP];

		unsigned long count = 0;

		for (; j < ng && strcmp(g[j].key, g[i].key) == 0; j++)
			;
		for (size_t k = i; k < j; k++)
			count += g[k].row->count ? g[k].row->count : 1;
		if (report_ip(g[i].row->source_ip, ip, sizeof(ip))) {
			report_xml_record(b, g[i].row, ip, count);
			counts->records++;
			counts->messages += count;
		}
		i = j;
	}
	buf_puts(b, "</feedback>\n");
	for (size_t i = 0; i < ng; i++)
		free(g[i].key);
	free(g);
}

/* report_id - a stable id: hex of SHA-256(receiver!domain!begin) */
void
report_id(const char *receiver, const char *policy_domain, int64_t begin,
    char id[REPORT_ID_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char in[2 * REPORT_MAX_NAME + 64];
	int n;

	n = snprintf(in, sizeof(in), "%s!%s!%lld", receiver, policy_domain,
	    (long long)begin);
	if (n < 0 || (size_t)n >= sizeof(in))
		n = (int)sizeof(in) - 1;
	EVP_Digest(in, (size_t)n, md, &mdlen, EVP_sha256(), NULL);
	for (size_t i = 0; i < REPORT_ID_LEN / 2 && i < mdlen; i++)
		snprintf(id + 2 * i, 3, "%02x", md[i]);
	id[REPORT_ID_LEN] = '\0';
}

/* report_domain_safe - LDH labels and dots, 1..253 bytes, no empty label */
bool
report_domain_safe(const char *d)
{
	size_t len = strlen(d), label = 0;

	if (len == 0 || len > REPORT_MAX_DOMAIN)
		return false;
	for (const char *p = d; *p; p++) {
		if (*p == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (isalnum((unsigned char)*p) || *p == '-' ||
		    *p == '_') {
			if (++label > 63)
				return false;
		} else
			return false;
	}
	return label > 0;
}

/* report_filename - the RFC 9990 file name */
bool
report_filename(const struct report_meta *m, const char *policy_domain,
    char *out, size_t outlen)
{
	int n;

	if (!report_domain_safe(m->receiver) ||
	    !report_domain_safe(policy_domain))
		return false;
	n = snprintf(out, outlen, "%s!%s!%lld!%lld!%s.xml.gz", m->receiver,
	    policy_domain, (long long)m->begin, (long long)(m->end - 1),
	    m->id);
	return n > 0 && (size_t)n < outlen;
}

/* report_subject - the RFC 9990 Subject (without "Subject: ") */
bool
report_subject(const struct report_meta *m, const char *policy_domain,
    char *out, size_t outlen)
{
	int n;

	if (!report_domain_safe(m->receiver) ||
	    !report_domain_safe(policy_domain))
		return false;
	n = snprintf(out, outlen, "Report Domain: %s Submitter: %s "
	    "Report-ID: <%s@%s>", policy_domain, m->receiver, m->id,
	    m->receiver);
	return n > 0 && (size_t)n < outlen;
}

/* report_gzip - gzip data into out */
bool
report_gzip(const void *data, size_t len, struct buf *out)
{
	unsigned char chunk[REPORT_GZIP_CHUNK];
	z_stream z;
	int rc;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED,
	    REPORT_GZIP_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return false;
	z.next_in = (Bytef *)(uintptr_t)data;
	z.avail_in = (uInt)len;
	do {
		z.next_out = chunk;
		z.avail_out = sizeof(chunk);
		rc = deflate(&z, Z_FINISH);
		if (rc == Z_STREAM_ERROR) {
			deflateEnd(&z);
			return false;
		}
		buf_append(out, chunk, sizeof(chunk) - z.avail_out);
	} while (rc != Z_STREAM_END);
	deflateEnd(&z);
	return true;
}

/* report_base64 - data in base64, lines of REPORT_B64_LINE, "\n" ends */
static void
report_base64(struct buf *b, const unsigned char *p, size_t len)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t col = 0;

	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		size_t k = len - i;

		if (k > 1)
			v |= (unsigned)p[i + 1] << 8;
		if (k > 2)
			v |= p[i + 2];
		buf_putc(b, tab[(v >> 18) & 63]);
		buf_putc(b, tab[(v >> 12) & 63]);
		buf_putc(b, k > 1 ? tab[(v >> 6) & 63] : '=');
		buf_putc(b, k > 2 ? tab[v & 63] : '=');
		col += 4;
		if (col >= REPORT_B64_LINE) {
			buf_putc(b, '\n');
			col = 0;
		}
	}
	if (col)
		buf_putc(b, '\n');
}

/* report_header_text - a header value: printable ASCII only */
static void
report_header_text(struct buf *b, const char *s)
{
	for (; *s; s++)
		buf_putc(b, (unsigned char)*s < 0x20 ||
		    (unsigned char)*s > 0x7e || *s == '"' || *s == '\\' ?
		    '?' : *s);
}

/* report_mail - the message for one destination */
void
report_mail(const struct report_meta *m, const char *policy_domain,
    const char *to, const char *filename, const struct buf *gz,
    int64_t date, struct buf *b)
{
	char subject[2 * REPORT_MAX_DOMAIN + 128], when[64], b1[32], b2[32];
	time_t t = (time_t)date;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	if (!report_subject(m, policy_domain, subject, sizeof(subject)))
		util_copy(subject, sizeof(subject), "DMARC aggregate report");
	buf_puts(b, "From: \"");
	report_header_text(b, m->org_name);
	buf_puts(b, "\" <");
	report_header_text(b, m->email);
	buf_puts(b, ">\nTo: <");
	report_header_text(b, to);
	buf_printf(b, ">\nSubject: %s\nDate: %s\nMessage-ID: <%s@%s>\n"
	    "MIME-Version: 1.0\nAuto-Submitted: auto-generated\n"
	    "Content-Type: multipart/mixed; boundary=\"=_dmarc_%s\"\n\n"
	    "This is a MIME message.\n\n", subject, when, m->id,
	    m->receiver, m->id);
	t = (time_t)m->begin;
	gmtime_r(&t, &tm);
	strftime(b1, sizeof(b1), "%Y-%m-%d %H:%M:%S", &tm);
	t = (time_t)(m->end - 1);
	gmtime_r(&t, &tm);
	strftime(b2, sizeof(b2), "%Y-%m-%d %H:%M:%S", &tm);
	buf_printf(b, "--=_dmarc_%s\nContent-Type: text/plain; "
	    "charset=us-ascii\n\nThis is a DMARC aggregate report (RFC 9990) "
	    "for %s\nfrom %s, covering %s to %s UTC.\n\n", m->id,
	    policy_domain, m->receiver, b1, b2);
	buf_printf(b, "--=_dmarc_%s\nContent-Type: application/gzip; "
	    "name=\"%s\"\nContent-Disposition: attachment; filename=\"%s\"\n"
	    "Content-Transfer-Encoding: base64\n\n", m->id, filename,
	    filename);
	report_base64(b, (const unsigned char *)gz->data, gz->len);
	buf_printf(b, "\n--=_dmarc_%s--\n", m->id);
}

/* report_parse_day - "YYYY-MM-DD" to its first second (UTC) */
bool
report_parse_day(const char *s, int64_t *begin)
{
	struct tm tm;
	char back[11];
	unsigned y, mo, d;
	char extra;

	if (strlen(s) != 10 ||
	    sscanf(s, "%4u-%2u-%2u%c", &y, &mo, &d, &extra) != 3 ||
	    y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31)
		return false;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = (int)y - 1900;
	tm.tm_mon = (int)mo - 1;
	tm.tm_mday = (int)d;
	*begin = (int64_t)timegm(&tm);
	report_format_day(*begin, back);
	return strcmp(back, s) == 0;	/* 2026-02-30 is not a day */
}

/* report_format_day - YYYY-MM-DD of t (UTC) */
void
report_format_day(int64_t t, char out[11])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* report_hex - the value of a hex digit, -1 for another character */
static int
report_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/*
 * report_mailto_decode - the address of one mailto: URI (without the
 * scheme: u..end), percent-decoded (RFC 6068 section 2); false when it
 * has header fields, a bad escape, more than one address, or is not a
 * plain address a report can go to
 */
static bool
report_mailto_decode(const char *u, const char *end, char *addr,
    size_t addrlen)
{
	struct mailbox box;
	const char *at;
	size_t n = 0;

	for (const char *p = u; p < end; p++) {
		int c = (unsigned char)*p;

		if (c == '?')
			return false;	/* hfields (subject=, body=...) */
		if (c == '%') {
			int hi, lo;

			if (end - p < 3 || (hi = report_hex(p[1])) < 0 ||
			    (lo = report_hex(p[2])) < 0)
				return false;
			c = hi * 16 + lo;
			p += 2;
		}
		if (c <= 0x20 || c >= 0x7f || c == ',' || c == '<' ||
		    c == '>' || c == '"' || c == '\\' || c == '(' ||
		    c == ')' || c == ';' || c == ':' || n + 1 >= addrlen)
			return false;
		addr[n++] = (char)c;
	}
	addr[n] = '\0';
	/* the domain as written: the parser forgives "a@b." (not SMTP's) */
	at = strrchr(addr, '@');
	return n > 0 && addr[0] != '-' && strlen(addr) <= REPORT_MAX_ADDR &&
	    addr_parse_envelope(addr, &box) && box.local[0] != '\0' &&
	    at != NULL && report_domain_safe(at + 1);
}

/*
 * report_mailto_end - where the URI u..end ends without an obsolete
 * "!size" suffix (RFC 7489: "!" 1*DIGIT [k/m/g/t])
 */
static const char *
report_mailto_end(const char *u, const char *end)
{
	const char *p = end;

	if (p > u && strchr("kKmMgGtT", p[-1]) != NULL)
		p--;
	if (p == u || !isdigit((unsigned char)p[-1]))
		return end;
	while (p > u && isdigit((unsigned char)p[-1]))
		p--;
	return p > u && p[-1] == '!' ? p - 1 : end;
}

/* report_mailto - the n-th mailto: URI of a rua= or ruf= value */
enum report_uri
report_mailto(const char *rua, size_t n, char *addr, size_t addrlen)
{
	size_t seen = 0;
	const char *p = rua;

	while (*p) {
		size_t len = strcspn(p, ",");
		const char *u = p, *end = p + len;

		while (u < end && isspace((unsigned char)*u))
			u++;
		while (end > u && isspace((unsigned char)end[-1]))
			end--;
		if ((size_t)(end - u) >= 7 && strncasecmp(u, "mailto:", 7) == 0 &&
		    seen++ == n) {
			u += 7;
			end = report_mailto_end(u, end);
			if (report_mailto_decode(u, end, addr, addrlen))
				return REPORT_URI_OK;
			/* what was there, for the log */
			snprintf(addr, addrlen, "%.*s", (int)(end - u), u);
			return REPORT_URI_BAD;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return REPORT_URI_NONE;
}
