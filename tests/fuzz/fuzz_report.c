/*
 * NAME
 *	fuzz_report - libFuzzer harness of the DMARC report inputs: rua=
 *	and ruf= mailto: URIs, the _report._dmarc records of external
 *	destinations, and hostile values in the XML, file name and Subject
 * SYNOPSIS
 *	fuzz_report [libFuzzer options] [CORPUS...]
 * DESCRIPTION
 *	The input is split at newlines into fields: a rua= value, a TXT
 *	record at <policy-domain>._report._dmarc.<host>, the host, a
 *	policy domain, then values of a report row (header_from,
 *	envelope_from, envelope_to, the override comment, the SPF domain,
 *	and "d s result" DKIM signatures, one per remaining field). Any
 *	field may hold any byte but newline and NUL.
 *
 *	- report_mailto() over every URI of the rua= value: an address it
 *	  accepts is one plain address (one "@", a local part without
 *	  white space, controls, "<", ">" or quotes; an LDH domain), within
 *	  REPORT_MAX_ADDR; one it refuses comes back as text for the log.
 *	- report_dest_record() for "rua" and "ruf": when it authorizes, the
 *	  record holds DMARC1; an override that
 *	  report_dest_override_ok() accepts for the host has only usable
 *	  mailto: URIs, each on that host.
 *	- The report of the row (report_xml) is well-formed: valid UTF-8,
 *	  no control characters but newline, tags that nest and close,
 *	  every "&" one of the five entities, no "<" or ">" in text; one
 *	  record at most (none when the source address is not one). The DKIM text form reads back with as many
 *	  signatures. The file name and Subject, when made, carry no
 *	  white space or control characters where a header or a file name
 *	  could not take them.
 * DIAGNOSTICS
 *	A broken invariant aborts (FUZZ_CHECK); libFuzzer reports it.
 */
#include "buildconf.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "report.h"
#include "report_dest.h"
#include "util.h"

#define FUZZ_REP_FIELDS		16	/* fields of one input */
#define FUZZ_REP_URIS		16	/* URIs of the rua= value looked at */
#define FUZZ_REP_DEPTH		16	/* elements open at once in a report */
#define FUZZ_REP_TAG		64	/* bytes of an element name */
#define FUZZ_REP_WHY		256	/* bytes of a reason */
#define FUZZ_REP_LINE		1024	/* bytes of a file name or Subject */

enum { F_RUA, F_TXT, F_HOST, F_POLICY, F_HFROM, F_EFROM, F_ETO, F_COMMENT,
    F_SPF, F_DKIM };

/* fuzz_rep_address - one plain address, as report_mailto promises */
static void
fuzz_rep_address(const char *a)
{
	const char *at = strchr(a, '@');

	FUZZ_CHECK(strlen(a) <= REPORT_MAX_ADDR);
	FUZZ_CHECK(at != NULL && at != a && strchr(at + 1, '@') == NULL);
	for (const char *p = a; p < at; p++)
		FUZZ_CHECK((unsigned char)*p > ' ' && *p != 0x7f &&
		    strchr("<>\"", *p) == NULL);
	FUZZ_CHECK(report_domain_safe(at + 1));
}

/* fuzz_rep_mailto - every URI of a rua= value */
static void
fuzz_rep_mailto(const char *rua)
{
	char addr[REPORT_MAX_ADDR + 1];

	for (size_t n = 0; n < FUZZ_REP_URIS; n++) {
		enum report_uri u = report_mailto(rua, n, addr, sizeof(addr));

		if (u == REPORT_URI_NONE)
			break;
		FUZZ_CHECK(memchr(addr, '\0', sizeof(addr)) != NULL);
		if (u == REPORT_URI_OK)
			fuzz_rep_address(addr);
	}
}

/* fuzz_rep_dest - one authorizing record, for both tags */
static void
fuzz_rep_dest(const char *txt, const char *host)
{
	static const char *const tags[] = { "rua", "ruf" };
	char override[REPORT_MAX_RUA + 1], why[FUZZ_REP_WHY];
	char addr[REPORT_MAX_ADDR + 1];

	for (size_t t = 0; t < 2; t++) {
		if (!report_dest_record(txt, tags[t], override,
		    sizeof(override)))
			continue;
		FUZZ_CHECK(strstr(txt, "DMARC1") != NULL);
		FUZZ_CHECK(memchr(override, '\0', sizeof(override)) != NULL);
		if (override[0] == '\0' ||
		    !report_dest_override_ok(override, host, why, sizeof(why)))
			continue;
		/* every usable URI of it is on host */
		for (size_t n = 0; n < FUZZ_REP_URIS; n++) {
			enum report_uri u = report_mailto(override, n, addr,
			    sizeof(addr));
			const char *at;

			if (u == REPORT_URI_NONE)
				break;
			FUZZ_CHECK(u == REPORT_URI_OK);
			at = strrchr(addr, '@');
			FUZZ_CHECK(at != NULL && strcasecmp(at + 1, host) == 0);
		}
	}
}

/* fuzz_rep_utf8 - length of the valid UTF-8 sequence at p, 0 if none */
static size_t
fuzz_rep_utf8(const unsigned char *p, size_t left)
{
	size_t n;
	unsigned c;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (left < n)
		return 0;
	c = p[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	/* no overlong form, no surrogate, nothing past U+10FFFF */
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	return n;
}

/* fuzz_rep_xml - x (len bytes) is a well-formed document, see above */
static void
fuzz_rep_xml(const char *x, size_t len)
{
	static const char *const ents[] = { "&amp;", "&lt;", "&gt;",
	    "&quot;", "&apos;" };
	char stack[FUZZ_REP_DEPTH][FUZZ_REP_TAG];
	size_t depth = 0, i = 0, roots = 0;

	while (i < len) {
		const unsigned char c = (unsigned char)x[i];
		size_t n = fuzz_rep_utf8((const unsigned char *)x + i, len - i);

		FUZZ_CHECK(n > 0);
		if (n > 1) {
			i += n;
			continue;
		}
		FUZZ_CHECK(c >= 0x20 || c == '\n');
		FUZZ_CHECK(c != 0x7f && c != '>');
		if (c == '&') {
			bool known = false;

			for (size_t e = 0; e < 5; e++)
				known = known || strncmp(x + i, ents[e],
				    strlen(ents[e])) == 0;
			FUZZ_CHECK(known);
			i++;
			continue;
		}
		if (c != '<') {
			i++;
			continue;
		}
		/* a tag: <?...?>, </name>, <name ...> or <name .../> */
		const char *end = memchr(x + i, '>', len - i);
		size_t tl, nl;
		bool closing, empty;

		FUZZ_CHECK(end != NULL);
		tl = (size_t)(end - (x + i)) + 1;
		FUZZ_CHECK(memchr(x + i + 1, '<', tl - 1) == NULL);
		if (x[i + 1] == '?') {
			i += tl;
			continue;
		}
		closing = x[i + 1] == '/';
		empty = x[i + tl - 2] == '/';
		nl = strcspn(x + i + 1 + closing, " />");
		FUZZ_CHECK(nl > 0 && nl < FUZZ_REP_TAG);
		if (closing) {
			FUZZ_CHECK(depth > 0);
			depth--;
			FUZZ_CHECK(strlen(stack[depth]) == nl &&
			    strncmp(stack[depth], x + i + 2, nl) == 0);
		} else if (!empty) {
			FUZZ_CHECK(depth < FUZZ_REP_DEPTH);
			if (depth == 0)
				roots++;
			memcpy(stack[depth], x + i + 1, nl);
			stack[depth][nl] = '\0';
			depth++;
		}
		i += tl;
	}
	FUZZ_CHECK(depth == 0 && roots == 1);
}

/* fuzz_rep_header_safe - s fits in a header line: no control, no NL */
static void
fuzz_rep_header_safe(const char *s, bool spaces)
{
	for (; *s != '\0'; s++) {
		FUZZ_CHECK((unsigned char)*s >= 0x20 && *s != 0x7f);
		FUZZ_CHECK(spaces || *s != ' ');
	}
}

/* fuzz_rep_report - a row of hostile values through the report */
static void
fuzz_rep_report(char **f, size_t nf)
{
	struct report_meta m = { "Fuzz <Org> & \"Co\"", "dmarc@fuzz.test",
	    "fuzz.test", "authmilter fuzz", "", 0, REPORT_DAY_SECS, NULL };
	struct report_row *r = report_row_new(), *back = report_row_new();
	struct report_counts counts;
	char line[FUZZ_REP_LINE];
	struct buf xml;
	char *text;

	util_copy(r->policy_domain, sizeof(r->policy_domain), f[F_POLICY]);
	util_copy(r->header_from, sizeof(r->header_from), f[F_HFROM]);
	util_copy(r->envelope_from, sizeof(r->envelope_from), f[F_EFROM]);
	util_copy(r->envelope_to, sizeof(r->envelope_to), f[F_ETO]);
	util_copy(r->override_comment, sizeof(r->override_comment),
	    f[F_COMMENT]);
	util_copy(r->spf_domain, sizeof(r->spf_domain), f[F_SPF]);
	util_copy(r->source_ip, sizeof(r->source_ip), f[F_HOST]);
	util_copy(r->disposition, sizeof(r->disposition), f[F_RUA]);
	util_copy(r->p, sizeof(r->p), f[F_TXT]);
	for (size_t i = F_DKIM; i < nf; i++) {
		char *d = f[i], *s = strchr(d, ' '), *res = NULL;

		if (s != NULL) {
			*s++ = '\0';
			if ((res = strchr(s, ' ')) != NULL)
				*res++ = '\0';
		}
		report_row_add_dkim(r, d, s ? s : "", res ? res : "pass");
	}
	FUZZ_CHECK(r->ndkim <= REPORT_MAX_DKIM);

	/* the store's text form of the signatures reads back */
	text = report_dkim_text(r);
	report_dkim_parse(back, text);
	FUZZ_CHECK(back->ndkim == r->ndkim);
	free(text);
	report_row_free(back);

	report_dkim_order(r);
	report_id(m.receiver, r->policy_domain, m.begin, m.id);
	FUZZ_CHECK(strlen(m.id) == REPORT_ID_LEN);
	buf_init(&xml);
	report_xml(&m, &r, 1, &xml, &counts);
	/* one record, unless the source address is not one (left out) */
	FUZZ_CHECK(counts.records <= 1 && counts.messages == counts.records);
	fuzz_rep_xml(xml.data, xml.len);
	buf_free(&xml);

	if (report_filename(&m, r->policy_domain, line, sizeof(line))) {
		fuzz_rep_header_safe(line, false);
		FUZZ_CHECK(strchr(line, '/') == NULL);
	}
	if (report_subject(&m, r->policy_domain, line, sizeof(line)))
		fuzz_rep_header_safe(line, true);
	report_row_free(r);
}

/* LLVMFuzzerTestOneInput - one input, see DESCRIPTION */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *f[FUZZ_REP_FIELDS], *block;
	size_t nf;

	nf = fuzz_fields(data, size, '\n', f, FUZZ_REP_FIELDS, &block);
	for (size_t i = nf; i < F_DKIM; i++)
		f[i] = (char *)"";
	fuzz_rep_mailto(f[F_RUA]);
	fuzz_rep_dest(f[F_TXT], f[F_HOST]);
	fuzz_rep_report(f, nf > F_DKIM ? nf : F_DKIM);
	free(block);
	return 0;
}
