/*
 * NAME
 *	dmarc - DMARC policy evaluation (RFC 9989; RFC 7489 on request)
 * SYNOPSIS
 *	#include "dmarc.h"
 *
 *	enum dmarc_parse dmarc_record_parse(const char *txt, size_t len,
 *	    struct dmarc_record *rec, char *why, size_t whylen);
 *	void dmarc_evaluate(const struct dmarc_dns *dns,
 *	    const struct dmarc_params *p, const char *from_domain,
 *	    const struct dmarc_auth *auth, struct dmarc_outcome *out);
 *	bool dmarc_org_domain(const struct dmarc_dns *dns,
 *	    enum dmarc_mode mode, const char *domain, char *org,
 *	    size_t orglen);
 *	size_t dmarc_prefetch_names(const char *from_domain,
 *	    char names[][DNS_MAX_NAME + 1], size_t n);
 *	const char *dmarc_result_name(enum dmarc_result r);
 *	const char *dmarc_policy_name(enum dmarc_policy p);
 * DESCRIPTION
 *	This module owns the DMARC logic: record parsing, policy discovery,
 *	the organizational domain, identifier alignment and the disposition.
 *	It does not own DNS (it asks through struct dmarc_dns), the From
 *	header (the caller extracts, validates and lower-cases the Author
 *	Domain, converting U-labels to A-labels, RFC 9989 5.3.1), SPF or
 *	DKIM (the caller hands their results in struct dmarc_auth), nor the
 *	final action (verdict.c applies local policy to the outcome).
 *	Section numbers below are those of RFC 9989.
 *
 *	Records (4.5, 4.7, 4.8). The character-strings of a TXT record are
 *	joined by the DNS layer. A record is a DMARC record only when its
 *	first tag is "v=DMARC1" (tag name in any case, value exactly
 *	"DMARC1"; white space around "=" and ";" is allowed); anything else
 *	is DMARC_PARSE_NOT_DMARC and is discarded. Unknown tags are ignored,
 *	so are "pct", "rf" and "ri" in RFC 9989 mode (removed, Appendix C)
 *	and "np", "psd" and "t" in RFC 7489 mode. Tag values are compared
 *	case-insensitively (ABNF strings). An invalid value of adkim, aspf,
 *	psd, t (or pct) falls back to the default, as 4.7 asks for syntax
 *	errors in the remainder of a record. A tag that is not "name=value"
 *	is ignored likewise. A registered tag given twice makes the record
 *	DMARC_PARSE_INVALID: the tag-list syntax of DKIM that 4.7 adopts
 *	forbids duplicates (RFC 6376 3.2). More than DMARC_MAX_TAGS tags or
 *	DMARC_MAX_RECORD bytes is DMARC_PARSE_INVALID too.
 *
 *	p= missing or invalid, sp= or np= invalid (4.10.1): when rua=
 *	holds at least one syntactically valid URI the record acts as
 *	"p=none" (sp= and np= dropped) and parses OK. Otherwise the receiver
 *	"applies no DMARC processing": a record without p= parses OK with
 *	p = DMARC_POLICY_UNSET and gives the result none; a record with an
 *	invalid p=, sp= or np= is DMARC_PARSE_INVALID and gives permerror
 *	(the registered meaning of permerror is "a syntactically incorrect
 *	DMARC record"); neither applies a policy.
 *
 *	Several DMARC records at one name (4.10 steps 2 and 6): all are
 *	discarded, as if there were none there, and the walk goes on. In
 *	RFC 7489 mode (its 6.6.3) several records at the From domain end
 *	policy discovery with the result none.
 *
 *	DNS Tree Walk (4.10). Query _dmarc.<start>; if a single record
 *	there has psd=y or psd=n, stop. Then with x labels: x < 8 removes
 *	one label, x >= 8 removes labels until 7 remain; then one label at
 *	a time down to the TLD, stopping at the first single record with
 *	psd=y or psd=n. At most DMARC_MAX_WALK (8) queries per walk. The
 *	organizational domain (4.10.2) is chosen among the names that had a
 *	record: the one with psd=n; else, when a record other than the one
 *	at the start has psd=y, the name one label below it; else the name
 *	with the fewest labels; with no record at all, the start itself.
 *
 *	Policy discovery (4.10.1): the record at the Author Domain if there
 *	is one (policy from p=); otherwise, by a walk from the Author Domain,
 *	the record of its organizational domain, else that of its public
 *	suffix domain (the psd=y record). For a policy record above the
 *	Author Domain the policy is sp= if the Author Domain exists and np=
 *	if it does not; np= falls back to sp=, sp= to p= (4.7). No record
 *	anywhere: result none, and DMARC does not apply.
 *
 *	Non-existence (3.2.13, Appendix A.4, RFC 8020): a name does not exist
 *	when the DNS answers NXDOMAIN for it. We ask A, AAAA and MX for the
 *	Author Domain and call it non-existent only when all three say
 *	NXDOMAIN; any NOERROR answer (data or NODATA) means it exists. The
 *	test is made only when np= would change the policy of a failing
 *	or temperror message; on pass, out->policy reports sp= (or p=)
 *	without it. When the test itself meets a DNS error, the result is
 *	temperror and the policy unknown. In a consistent DNS one NXDOMAIN
 *	implies the other two; asking all three keeps a broken server from
 *	turning sp= into np=.
 *
 *	Testing (4.7 "t"): with t=y the disposition is one step milder than
 *	the policy (reject -> quarantine, quarantine -> none); policy still
 *	reports what was published. RFC 7489 mode has no t= but pct= (its
 *	6.6.4): when params->roll >= pct the disposition is one step milder.
 *
 *	Alignment (3.2.10, 4.4). Strict: the identifier equals the Author
 *	Domain (ASCII case-insensitively). Relaxed: equal, or both have the
 *	same organizational domain (tree walks here, the Public Suffix List
 *	in RFC 7489 mode). Strict never falls back to relaxed. Any aligned
 *	DKIM pass, or an aligned SPF pass, gives pass (4.4.1, 5.3.5). An
 *	organizational domain is the name itself or an ancestor, so an
 *	identifier outside the Author Domain's organizational domain is not
 *	aligned without a walk of its own: a message cannot make us walk
 *	for a list of foreign d= domains. spf_aligned is always settled;
 *	DKIM signatures are checked until one aligns.
 *
 *	The SPF identity (3.2.4, 4.4.2): DMARC uses only the SPF result of
 *	the MAIL FROM identity, never that of the HELO identity. For a null
 *	reverse path ("MAIL FROM:<>") RFC 7208 2.4 makes the MAIL FROM
 *	identity "postmaster@<HELO domain>", and 3.2.4 adopts that: the
 *	caller passes the HELO domain in spf_domain and, in spf_pass, the
 *	result of the SPF check of that MAIL FROM identity (postmaster@HELO)
 *	- not a separate HELO-identity check. When the HELO name is not a
 *	domain (an address literal) there is no SPF identity: spf_domain
 *	NULL or "".
 *
 *	Errors (4.10.1, 5.3.6): a DNS failure (SERVFAIL, timeout) in a query
 *	that DMARC needs means the message can neither pass nor fail: the
 *	result is temperror and no policy is applied. This covers the walk
 *	of policy discovery, the walks that relaxed alignment needs, the
 *	existence test behind np=, and a DKIM or SPF temperror for an
 *	identifier that would be aligned - unless some other identifier
 *	already gives pass. An evaluation makes at most DMARC_MAX_QUERIES
 *	DNS queries; beyond, it is a temperror too. When the failure keeps
 *	the governing policy from us (policy discovery, or the existence
 *	test that chooses between sp= and np=), out->policy is
 *	DMARC_POLICY_UNKNOWN, never a guessed none; when the policy record
 *	is known and only alignment could not be settled, it is the policy
 *	that a failure would get.
 *
 *	Thread safety: no mutable static data. Each evaluation has its own
 *	context (with a small per-evaluation cache of _dmarc answers shared
 *	by its walks); libpsl's built-in list is read-only.
 * DIAGNOSTICS
 *	Nothing is logged here: out->reason says in a few words why the
 *	result is what it is, for the caller's log line and A-R comment.
 */
#include "buildconf.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpsl.h>

#include "dmarc.h"
#include "dns.h"
#include "trace.h"
#include "util.h"

#define DMARC_PREFIX		"_dmarc."
#define DMARC_PREFIX_LEN	(sizeof(DMARC_PREFIX) - 1)
#define DMARC_VERSION		"DMARC1"
#define DMARC_SHORTEN_AT	8	/* 4.10 step 4: "if x >= 8" */
#define DMARC_SHORTEN_TO	7 /* 4.10 step 4: "until 7 remain" */
#define DMARC_MAX_QUERIES	64	/* DNS queries in one evaluation */
#define DMARC_MAX_WHY		96	/* bytes of a diagnosis */
#define DMARC_PCT_DEFAULT	100	/* RFC 7489 6.3 */
#define DMARC_PCT_DIGITS	3	/* "100" */

/* The tags we know; anything else is ignored. */
enum dmarc_tag {
	DMARC_TAG_V = 0,
	DMARC_TAG_P,
	DMARC_TAG_SP,
	DMARC_TAG_NP,
	DMARC_TAG_ADKIM,
	DMARC_TAG_ASPF,
	DMARC_TAG_PSD,
	DMARC_TAG_T,
	DMARC_TAG_PCT,
	DMARC_TAG_RUA,
	DMARC_TAG_RUF,
	DMARC_TAG_FO,
	DMARC_TAG_RF,
	DMARC_TAG_RI,
	DMARC_TAG_UNKNOWN,
};

/* dmarc_tags - tag names, and the mode(s) that register each */
static const struct {
	const char	*name;
	bool		 rfc9989;
	bool		 rfc7489;
} dmarc_tags[] = {
	[DMARC_TAG_V] =		{ "v",	 true,	true },
	[DMARC_TAG_P] =		{ "p",	 true,	true },
	[DMARC_TAG_SP] =	{ "sp",		true,	true },
	[DMARC_TAG_NP] =	{ "np",		true,	false },
	[DMARC_TAG_ADKIM] =	{ "adkim",	true,	true },
	[DMARC_TAG_ASPF] =	{ "aspf",	true,	true },
	[DMARC_TAG_PSD] =	{ "psd",	true,	false },
	[DMARC_TAG_T] =		{ "t",	 true,	false },
	[DMARC_TAG_PCT] =	{ "pct",	false,	true },
	[DMARC_TAG_RUA] =	{ "rua",	true,	true },
	[DMARC_TAG_RUF] =	{ "ruf",	true,	true },
	[DMARC_TAG_FO] =	{ "fo",		true,	true },
	[DMARC_TAG_RF] =	{ "rf",		false,	true },
	[DMARC_TAG_RI] =	{ "ri",		false,	true },
};

/* What one query for _dmarc.<name> gave. */
enum dmarc_fstate {
	DMARC_F_NONE = 0,	/* no DMARC record there */
	DMARC_F_ONE,		/* exactly one */
	DMARC_F_MANY,		/* several: all discarded */
	DMARC_F_TEMPERROR,	/* SERVFAIL, timeout, or out of queries */
};

struct dmarc_found {
	char		 name[DNS_MAX_NAME + 1]; /* without "_dmarc." */
	enum dmarc_fstate state;
	enum dmarc_parse parse;		/* when DMARC_F_ONE */
	struct dmarc_record rec;	/* when DMARC_F_ONE */
	struct dns_answer *answer;	/* ... the TXT answer, kept */
	size_t		 textidx;	/* ... its record */
	char		 why[DMARC_MAX_WHY];
};

/*
 * One evaluation: the lookups made so far. Every name fetched costs one
 * query, so DMARC_MAX_QUERIES entries are always enough; "limit" stands
 * in for anything asked beyond the budget.
 */
struct dmarc_ctx {
	const struct dmarc_dns *dns;
	enum dmarc_mode	 mode;
	struct trace	*trace;		/* check --explain, or NULL */
	unsigned	 queries;
	size_t		 nfound;
	struct dmarc_found found[DMARC_MAX_QUERIES];
	struct dmarc_found limit;
};

/* The records one tree walk met, longest name first. */
struct dmarc_walk {
	const struct dmarc_found *rec[DMARC_MAX_WALK];
	size_t		 n;
	const struct dmarc_found *failed;	/* the query that failed */
	char		 org[DNS_MAX_NAME + 1];
};

enum dmarc_align {
	DMARC_ALIGN_NO = 0,
	DMARC_ALIGN_YES,
	DMARC_ALIGN_TEMPERROR,
};

enum dmarc_exist {
	DMARC_EXISTS = 0,
	DMARC_NXDOMAIN,
	DMARC_EXIST_TEMPERROR,
};

/* State of one dmarc_evaluate() call. */
struct dmarc_eval {
	struct dmarc_ctx *ctx;
	const struct dmarc_found *pol;	/* the policy record */
	char		 author[DNS_MAX_NAME + 1];
	char		 author_org[DNS_MAX_NAME + 1];
	bool		 have_org;
	char		 failed[DNS_MAX_NAME + 1]; /* temperror at */
};

/* dmarc_lower - ASCII lower case of one byte */
static int
dmarc_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* dmarc_memcaseeq - len bytes of s equal the string lit, ASCII any case */
static bool
dmarc_memcaseeq(const char *s, size_t len, const char *lit)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (lit[i] == '\0' ||
		    dmarc_lower((unsigned char)s[i]) != dmarc_lower(lit[i]))
			return false;
	return lit[len] == '\0';
}

/* dmarc_copy - bounded string copy that always terminates */
static void
dmarc_copy(char *dst, size_t dstlen, const char *src)
{
	size_t len;

	if (dstlen == 0)
		return;
	len = strnlen(src, dstlen - 1);
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* dmarc_say - printf into a caller's buffer, if it gave one */
static void __attribute__((format(printf, 3, 4)))
dmarc_say(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (buf == NULL || len == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

/*
 * dmarc_normalize - a domain as we compare and query it: ASCII lower
 * case, no final dot, 1..DNS_MAX_NAME bytes, no empty label, no white
 * space or control character. false when it is not such a name.
 */
static bool
dmarc_normalize(const char *in, char out[DNS_MAX_NAME + 1])
{
	size_t len, i;
	int prev = '.';

	if (in == NULL)
		return false;
	len = strnlen(in, DNS_MAX_NAME + 2);
	if (len > 0 && in[len - 1] == '.')
		len--;
	if (len == 0 || len > DNS_MAX_NAME)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c <= ' ' || c == 0x7f || (c == '.' && prev == '.'))
			return false;
		out[i] = (char)dmarc_lower(c);
		prev = c;
	}
	out[len] = '\0';
	return true;
}

/* dmarc_labels - the number of labels of a normalized name */
static size_t
dmarc_labels(const char *d)
{
	size_t n = 1;

	for (; *d != '\0'; d++)
		if (*d == '.')
			n++;
	return n;
}

/* dmarc_suffix - the right-most k labels of a normalized name */
static const char *
dmarc_suffix(const char *d, size_t k)
{
	size_t n = dmarc_labels(d);

	while (n > k) {
		d = strchr(d, '.') + 1;
		n--;
	}
	return d;
}

/* dmarc_under - is name equal to, or a subdomain of, parent? */
static bool
dmarc_under(const char *name, const char *parent)
{
	size_t n = strlen(name), p = strlen(parent);

	if (n == p)
		return strcmp(name, parent) == 0;
	return n > p && name[n - p - 1] == '.' &&
	    strcmp(name + n - p, parent) == 0;
}

/* dmarc_milder - the next milder policy (4.7 "t", RFC 7489 6.6.4) */
static enum dmarc_policy
dmarc_milder(enum dmarc_policy p)
{
	switch (p) {
	case DMARC_POLICY_REJECT:
		return DMARC_POLICY_QUARANTINE;
	case DMARC_POLICY_QUARANTINE:
		return DMARC_POLICY_NONE;
	default:
		return p;
	}
}

/* --- record parsing ------------------------------------------------------ */

/* dmarc_is_wsp - WSP of RFC 5234 */
static bool
dmarc_is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

/* dmarc_value_ok - every byte is dmarc-value: printable ASCII but ";" */
static bool
dmarc_value_ok(const char *v, size_t len)
{
	size_t i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c < 0x20 || c > 0x7e || c == ';')
			return false;
	}
	return true;
}

/* dmarc_tag_lookup - which tag a name is, in this mode */
static enum dmarc_tag
dmarc_tag_lookup(const char *name, size_t len, enum dmarc_mode mode)
{
	size_t i;

	for (i = 0; i < sizeof(dmarc_tags) / sizeof(dmarc_tags[0]); i++) {
		if (!dmarc_memcaseeq(name, len, dmarc_tags[i].name))
			continue;
		if (mode == DMARC_MODE_RFC7489 ? dmarc_tags[i].rfc7489 :
		    dmarc_tags[i].rfc9989)
			return (enum dmarc_tag)i;
		break;
	}
	return DMARC_TAG_UNKNOWN;
}

/* dmarc_parse_policy - dmarc-request; false if it is not one */
static bool
dmarc_parse_policy(const char *v, size_t len, enum dmarc_policy *out)
{
	if (dmarc_memcaseeq(v, len, "none"))
		*out = DMARC_POLICY_NONE;
	else if (dmarc_memcaseeq(v, len, "quarantine"))
		*out = DMARC_POLICY_QUARANTINE;
	else if (dmarc_memcaseeq(v, len, "reject"))
		*out = DMARC_POLICY_REJECT;
	else
		return false;
	return true;
}

/* dmarc_uri_ok - one RFC 3986 URI, roughly: scheme ":" and URI characters */
static bool
dmarc_uri_ok(const char *u, size_t len)
{
	static const char extra[] = "-._~:/?#[]@!$&'()*+,;=%";
	size_t i = 0;

	if (len == 0 || !((u[0] >= 'a' && u[0] <= 'z') ||
	    (u[0] >= 'A' && u[0] <= 'Z')))
		return false;
	while (i < len && u[i] != ':') {
		unsigned char c = (unsigned char)u[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))
			return false;
		i++;
	}
	if (i == len || i + 1 == len)
		return false;	/* no ":" or nothing after it */
	for (i++; i < len; i++) {
		unsigned char c = (unsigned char)u[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || (c != '\0' && strchr(extra, c))))
			return false;
	}
	return true;
}

/* dmarc_urilist_ok - a dmarc-urilist with at least one valid URI (4.10.1) */
static bool
dmarc_urilist_ok(const char *v, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t s, e;

		while (i < len && dmarc_is_wsp(v[i]))
			i++;
		s = i;
		while (i < len && v[i] != ',')
			i++;
		e = i;
		while (e > s && dmarc_is_wsp(v[e - 1]))
			e--;
		if (dmarc_uri_ok(v + s, e - s))
			return true;
		i++;	/* past the comma */
	}
	return false;
}

/* dmarc_parse_pct - 0..100, or the default */
static unsigned
dmarc_parse_pct(const char *v, size_t len)
{
	unsigned n = 0;
	size_t i;

	if (len == 0 || len > DMARC_PCT_DIGITS)
		return DMARC_PCT_DEFAULT;
	for (i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return DMARC_PCT_DEFAULT;
		n = n * 10 + (unsigned)(v[i] - '0');
	}
	return n <= DMARC_PCT_DEFAULT ? n : DMARC_PCT_DEFAULT;
}

/* The state of one record parse. */
struct dmarc_pstate {
	unsigned	 seen;		/* bit per enum dmarc_tag */
	bool		 bad_policy;	/* invalid p=, sp= or np= */
	bool		 rua_ok;
	bool		 dup;
	char		 badtag[DMARC_MAX_WHY / 2];
	struct dmarc_reporting *rep;	/* where rua/ruf/fo go; NULL: nowhere */
};

/* dmarc_keep - a tag value as text, cut to size, NULs and controls dropped */
static void
dmarc_keep(char *dst, size_t size, const char *v, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n + 1 < size; i++)
		if ((unsigned char)v[i] >= ' ' && v[i] != 0x7f)
			dst[n++] = v[i];
	dst[n] = '\0';
}

/* dmarc_apply_tag - take one known tag's value into rec */
static void
dmarc_apply_tag(enum dmarc_tag tag, const char *v, size_t len,
    struct dmarc_record *rec, struct dmarc_pstate *ps)
{
	bool ok = dmarc_value_ok(v, len);
	enum dmarc_policy pol = DMARC_POLICY_UNSET;

	switch (tag) {
	case DMARC_TAG_P:
	case DMARC_TAG_SP:
	case DMARC_TAG_NP:
		if (!ok || !dmarc_parse_policy(v, len, &pol)) {
			ps->bad_policy = true;
			dmarc_copy(ps->badtag, sizeof(ps->badtag),
			    dmarc_tags[tag].name);
			break;
		}
		if (tag == DMARC_TAG_P)
			rec->p = pol;
		else if (tag == DMARC_TAG_SP)
			rec->sp = pol;
		else
			rec->np = pol;
		break;
	case DMARC_TAG_ADKIM:
		rec->adkim_strict = ok && dmarc_memcaseeq(v, len, "s");
		break;
	case DMARC_TAG_ASPF:
		rec->aspf_strict = ok && dmarc_memcaseeq(v, len, "s");
		break;
	case DMARC_TAG_PSD:
		if (ok && dmarc_memcaseeq(v, len, "y"))
			rec->psd = DMARC_PSD_YES;
		else if (ok && dmarc_memcaseeq(v, len, "n"))
			rec->psd = DMARC_PSD_NO;
		else
			rec->psd = DMARC_PSD_UNSET;	/* "u" or invalid */
		break;
	case DMARC_TAG_T:
		rec->testing = ok && dmarc_memcaseeq(v, len, "y");
		break;
	case DMARC_TAG_PCT:
		rec->pct = ok ? dmarc_parse_pct(v, len) : DMARC_PCT_DEFAULT;
		break;
	case DMARC_TAG_RUA:
		ps->rua_ok = ok && dmarc_urilist_ok(v, len);
		if (ps->rep != NULL)
			dmarc_keep(ps->rep->rua, sizeof(ps->rep->rua), v, len);
		break;
	case DMARC_TAG_RUF:
		if (ps->rep != NULL)
			dmarc_keep(ps->rep->ruf, sizeof(ps->rep->ruf), v, len);
		break;
	case DMARC_TAG_FO:
		if (ps->rep != NULL)
			dmarc_keep(ps->rep->fo, sizeof(ps->rep->fo), v, len);
		break;
	default:
		break;	/* rf, ri: gone in RFC 9989 */
	}
}

/*
 * dmarc_parse_mode - parse one record under the tag registry of a mode.
 * Fills rec as far as it got even when the result is INVALID.
 */
static enum dmarc_parse
dmarc_parse_mode(const char *txt, size_t len, enum dmarc_mode mode,
    struct dmarc_record *rec, struct dmarc_reporting *rep, char *why,
    size_t whylen)
{
	struct dmarc_pstate ps;
	size_t i = 0, ntags = 0;
	bool first = true;

	memset(rec, 0, sizeof(*rec));
	rec->pct = DMARC_PCT_DEFAULT;
	memset(&ps, 0, sizeof(ps));
	ps.rep = rep;
	dmarc_say(why, whylen, "%s", "");
	if (txt == NULL)
		len = 0;

	while (i < len) {
		size_t ns, ne, vs, ve;
		enum dmarc_tag tag;

		while (i < len && dmarc_is_wsp(txt[i]))
			i++;
		if (i < len && txt[i] == ';' && !first) {
			i++;	/* an empty tag: tolerated */
			continue;
		}
		if (i == len)
			break;
		ns = i;
		while (i < len && ((txt[i] >= 'a' && txt[i] <= 'z') ||
		    (txt[i] >= 'A' && txt[i] <= 'Z')))
			i++;
		ne = i;
		while (i < len && dmarc_is_wsp(txt[i]))
			i++;
		if (i < len && txt[i] == '=' && ne > ns) {
			i++;
			while (i < len && dmarc_is_wsp(txt[i]))
				i++;
			vs = i;
		} else {
			vs = SIZE_MAX;	/* not name=value: ignored */
		}
		while (i < len && txt[i] != ';')
			i++;
		ve = i;
		if (i < len)
			i++;	/* the ";" */
		while (vs != SIZE_MAX && ve > vs && dmarc_is_wsp(txt[ve - 1]))
			ve--;

		if (first) {
			/* 4.7: "v" first, value exactly "DMARC1" */
			if (vs == SIZE_MAX || !dmarc_memcaseeq(txt + ns,
			    ne - ns, "v") || ve - vs != strlen(DMARC_VERSION) ||
			    memcmp(txt + vs, DMARC_VERSION, ve - vs) != 0)
				return DMARC_PARSE_NOT_DMARC;
			first = false;
			ps.seen |= 1u << DMARC_TAG_V;
			ntags++;
			if (len > DMARC_MAX_RECORD) {
				dmarc_say(why, whylen, "record longer than "
				    "%d bytes", DMARC_MAX_RECORD);
				return DMARC_PARSE_INVALID;
			}
			continue;
		}
		if (++ntags > DMARC_MAX_TAGS) {
			dmarc_say(why, whylen, "more than %d tags",
			    DMARC_MAX_TAGS);
			return DMARC_PARSE_INVALID;
		}
		if (vs == SIZE_MAX)
			continue;	/* 4.7: syntax errors are ignored */
		tag = dmarc_tag_lookup(txt + ns, ne - ns, mode);
		if (tag == DMARC_TAG_UNKNOWN)
			continue;	/* 4.7: unknown tags MUST be ignored */
		if (ps.seen & (1u << tag)) {
			if (!ps.dup)
				dmarc_copy(ps.badtag, sizeof(ps.badtag),
				    dmarc_tags[tag].name);
			ps.dup = true;
			continue;
		}
		ps.seen |= 1u << tag;
		dmarc_apply_tag(tag, txt + vs, ve - vs, rec, &ps);
	}
	if (first)
		return DMARC_PARSE_NOT_DMARC;	/* empty */
	if (ps.dup) {
		dmarc_say(why, whylen, "tag %s given twice", ps.badtag);
		return DMARC_PARSE_INVALID;
	}
	if (!ps.bad_policy && (ps.seen & (1u << DMARC_TAG_P)))
		return DMARC_PARSE_OK;
	/* 4.10.1: no valid p=, or a bad sp=/np= */
	if (ps.rua_ok) {
		rec->p = DMARC_POLICY_NONE;
		rec->sp = rec->np = DMARC_POLICY_UNSET;
		dmarc_say(why, whylen, "%s, rua= present: taken as p=none",
		    ps.bad_policy ? "invalid policy tag" : "no p=");
		return DMARC_PARSE_OK;
	}
	if (ps.bad_policy) {
		dmarc_say(why, whylen, "invalid %s= value", ps.badtag);
		return DMARC_PARSE_INVALID;
	}
	rec->p = DMARC_POLICY_UNSET;
	dmarc_say(why, whylen, "no p= and no rua=");
	return DMARC_PARSE_OK;
}

/* dmarc_record_parse - parse one TXT record under RFC 9989 */
enum dmarc_parse
dmarc_record_parse(const char *txt, size_t len, struct dmarc_record *rec,
    char *why, size_t whylen)
{
	return dmarc_parse_mode(txt, len, DMARC_MODE_RFC9989, rec, NULL, why,
	    whylen);
}

/* --- DNS ----------------------------------------------------------------- */

/* dmarc_qname - "_dmarc.<name>"; false when that is too long to ask */
static bool
dmarc_qname(char qname[DNS_MAX_NAME + 1], const char *name)
{
	size_t len = strlen(name);

	if (len + DMARC_PREFIX_LEN > DNS_MAX_NAME)
		return false;
	memcpy(qname, DMARC_PREFIX, DMARC_PREFIX_LEN);
	memcpy(qname + DMARC_PREFIX_LEN, name, len + 1);
	return true;
}

/* dmarc_query - one DNS query within the budget; NULL when over it */
static struct dns_answer *
dmarc_query(struct dmarc_ctx *ctx, const char *name, unsigned type)
{
	struct dns_answer *a;

	if (ctx->queries >= DMARC_MAX_QUERIES)
		return NULL;
	ctx->queries++;
	a = ctx->dns->lookup(ctx->dns->arg, name, type);
	if (a == NULL)	/* against the contract: take it as a failure */
		a = dns_answer_make(DNS_SERVFAIL, type, NULL, 0);
	return a;
}

/* dmarc_fetch_txt - fill f from the TXT records at _dmarc.<f->name> */
static void
dmarc_fetch_txt(struct dmarc_ctx *ctx, struct dmarc_found *f)
{
	char qname[DNS_MAX_NAME + 1];
	struct dmarc_record rec;
	char why[DMARC_MAX_WHY];
	struct dns_answer *a;
	enum dmarc_parse pr;
	size_t i, count = 0;

	if (!dmarc_qname(qname, f->name)) {
		f->state = DMARC_F_NONE;	/* cannot exist */
		return;
	}
	if ((a = dmarc_query(ctx, qname, DNS_T_TXT)) == NULL) {
		f->state = DMARC_F_TEMPERROR;
		dmarc_copy(f->why, sizeof(f->why), "too many DNS queries");
		return;
	}
	switch (a->status) {
	case DNS_OK:
		for (i = 0; i < a->nrecords; i++) {
			if (a->records[i].type != DNS_T_TXT ||
			    a->records[i].text == NULL)
				continue;
			pr = dmarc_parse_mode(a->records[i].text,
			    a->records[i].len, ctx->mode, &rec, NULL, why,
			    sizeof(why));
			if (pr == DMARC_PARSE_NOT_DMARC)
				continue;
			if (++count == 1) {
				f->parse = pr;
				f->rec = rec;
				f->textidx = i;
				dmarc_copy(f->why, sizeof(f->why), why);
			}
		}
		f->state = count == 0 ? DMARC_F_NONE : count == 1 ?
		    DMARC_F_ONE : DMARC_F_MANY;
		if (count == 1) {	/* its reporting tags may be wanted */
			f->answer = a;
			return;
		}
		break;
	case DNS_NODATA:
	case DNS_NXDOMAIN:
	case DNS_BADNAME:
		f->state = DMARC_F_NONE;
		break;
	default:
		f->state = DMARC_F_TEMPERROR;
		(void)snprintf(f->why, sizeof(f->why), "DNS %s",
		    dns_status_name(a->status));
		break;
	}
	dns_answer_free(a);
}

/*
 * dmarc_ctx_new - an evaluation with no lookups yet. Only the head is
 * set: dmarc_fetch() clears each entry of found[] (and limit) before it
 * uses it, so the DMARC_MAX_QUERIES entries are not zeroed for nothing.
 */
static struct dmarc_ctx *
dmarc_ctx_new(const struct dmarc_dns *dns, enum dmarc_mode mode,
    struct trace *trace)
{
	struct dmarc_ctx *ctx = xmalloc(sizeof(*ctx));

	ctx->dns = dns;
	ctx->mode = mode;
	ctx->trace = trace;
	ctx->queries = 0;
	ctx->nfound = 0;
	return ctx;
}

/* dmarc_ctx_free - an evaluation's lookups and the answers they kept */
static void
dmarc_ctx_free(struct dmarc_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nfound; i++)
		dns_answer_free(ctx->found[i].answer);
	free(ctx);
}

/* dmarc_fetch - what _dmarc.<name> holds, asked once per evaluation */
static const struct dmarc_found *
dmarc_fetch(struct dmarc_ctx *ctx, const char *name)
{
	struct dmarc_found *f;
	size_t i;

	for (i = 0; i < ctx->nfound; i++)
		if (strcmp(ctx->found[i].name, name) == 0)
			return &ctx->found[i];
	if (ctx->nfound == DMARC_MAX_QUERIES ||
	    ctx->queries >= DMARC_MAX_QUERIES) {
		f = &ctx->limit;
		memset(f, 0, sizeof(*f));
		dmarc_copy(f->name, sizeof(f->name), name);
		f->state = DMARC_F_TEMPERROR;
		dmarc_copy(f->why, sizeof(f->why), "too many DNS queries");
		return f;
	}
	f = &ctx->found[ctx->nfound++];
	memset(f, 0, sizeof(*f));
	dmarc_copy(f->name, sizeof(f->name), name);
	dmarc_fetch_txt(ctx, f);
	trace_line(ctx->trace, "dmarc", "_dmarc.%s: %s%s%s", name,
	    f->state == DMARC_F_ONE ? "one record" : f->state == DMARC_F_MANY ?
	    "several records, all discarded" : f->state == DMARC_F_NONE ?
	    "no record" : "temperror", f->why[0] ? ": " : "", f->why);
	return f;
}

/*
 * dmarc_exists - the existence test behind np= (3.2.13, A.4): NXDOMAIN
 * for A, AAAA and MX means the name does not exist; any NOERROR answer
 * means it does.
 */
static enum dmarc_exist
dmarc_exists(struct dmarc_ctx *ctx, const char *name)
{
	static const unsigned types[] = { DNS_T_A, DNS_T_AAAA, DNS_T_MX };
	struct dns_answer *a;
	bool temp = false;
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if ((a = dmarc_query(ctx, name, types[i])) == NULL)
			return DMARC_EXIST_TEMPERROR;
		switch (a->status) {
		case DNS_OK:
		case DNS_NODATA:
			dns_answer_free(a);
			return DMARC_EXISTS;
		case DNS_NXDOMAIN:
		case DNS_BADNAME:
			break;
		default:
			temp = true;
			break;
		}
		dns_answer_free(a);
	}
	return temp ? DMARC_EXIST_TEMPERROR : DMARC_NXDOMAIN;
}

/* --- the organizational domain ------------------------------------------- */

/*
 * dmarc_walk - the DNS Tree Walk of 4.10 from a normalized domain, and
 * the organizational domain it gives (4.10.2). false on a DNS failure
 * (w->failed says where).
 */
static bool
dmarc_walk(struct dmarc_ctx *ctx, const char *domain, struct dmarc_walk *w)
{
	size_t x = dmarc_labels(domain), left = x, nq = 0;
	const char *target = domain;
	const struct dmarc_found *f, *last;

	memset(w, 0, sizeof(*w));
	for (;;) {
		f = dmarc_fetch(ctx, target);
		nq++;
		if (f->state == DMARC_F_TEMPERROR) {
			w->failed = f;
			return false;
		}
		if (f->state == DMARC_F_ONE) {
			w->rec[w->n++] = f;
			if (f->rec.psd != DMARC_PSD_UNSET)
				break;		/* steps 2 and 6 */
		}
		if (left <= 1 || nq >= DMARC_MAX_WALK)
			break;
		if (target == domain && x >= DMARC_SHORTEN_AT)
			left = DMARC_SHORTEN_TO;	/* step 4 */
		else
			left--;			/* steps 4 and 7 */
		target = dmarc_suffix(domain, left);
	}

	if (w->n == 0) {
		dmarc_copy(w->org, sizeof(w->org), domain);
		return true;
	}
	/* The walk stops at the first psd=y/n: only the last can have it. */
	last = w->rec[w->n - 1];
	if (last->rec.psd == DMARC_PSD_YES && strcmp(last->name, domain) != 0)
		dmarc_copy(w->org, sizeof(w->org), dmarc_suffix(domain,
		    dmarc_labels(last->name) + 1));
	else
		dmarc_copy(w->org, sizeof(w->org), last->name);
	return true;
}

/* dmarc_psl_org - the organizational domain by the PSL (RFC 7489 3.2) */
static void
dmarc_psl_org(const char *domain, char org[DNS_MAX_NAME + 1])
{
	const psl_ctx_t *psl = psl_builtin();
	const char *r = NULL;

	/* A public suffix itself, or no list at all: the domain itself. */
	if (psl != NULL)
		r = psl_registrable_domain(psl, domain);
	dmarc_copy(org, DNS_MAX_NAME + 1, r != NULL ? r : domain);
}

/*
 * dmarc_orgof - the organizational domain of a normalized domain by the
 * method of the mode. false on a DNS failure (failed gets the name).
 */
static bool
dmarc_orgof(struct dmarc_ctx *ctx, const char *domain,
    char org[DNS_MAX_NAME + 1], char failed[DNS_MAX_NAME + 1])
{
	struct dmarc_walk w;

	if (ctx->mode == DMARC_MODE_RFC7489) {
		dmarc_psl_org(domain, org);
		return true;
	}
	if (!dmarc_walk(ctx, domain, &w)) {
		dmarc_copy(failed, DNS_MAX_NAME + 1, w.failed->name);
		return false;
	}
	dmarc_copy(org, DNS_MAX_NAME + 1, w.org);
	return true;
}

/* --- evaluation ---------------------------------------------------------- */

enum dmarc_disc {
	DMARC_DISC_FOUND = 0,
	DMARC_DISC_NONE,
	DMARC_DISC_MANY,	/* RFC 7489: several records, no policy */
	DMARC_DISC_TEMPERROR,
};

/* dmarc_discover_9989 - policy discovery of RFC 9989 4.10.1 */
static enum dmarc_disc
dmarc_discover_9989(struct dmarc_eval *ev)
{
	const struct dmarc_found *f;
	struct dmarc_walk w;
	size_t i;

	f = dmarc_fetch(ev->ctx, ev->author);
	if (f->state == DMARC_F_TEMPERROR) {
		dmarc_copy(ev->failed, sizeof(ev->failed), f->name);
		return DMARC_DISC_TEMPERROR;
	}
	if (f->state == DMARC_F_ONE) {
		ev->pol = f;
		return DMARC_DISC_FOUND;
	}
	/* The walk starts at the Author Domain; its first answer is cached. */
	if (!dmarc_walk(ev->ctx, ev->author, &w)) {
		dmarc_copy(ev->failed, sizeof(ev->failed), w.failed->name);
		return DMARC_DISC_TEMPERROR;
	}
	dmarc_copy(ev->author_org, sizeof(ev->author_org), w.org);
	ev->have_org = true;
	if (w.n == 0)
		return DMARC_DISC_NONE;
	/* The organizational domain's record, else the PSD's (psd=y). */
	ev->pol = w.rec[w.n - 1];
	for (i = 0; i < w.n; i++)
		if (strcmp(w.rec[i]->name, w.org) == 0)
			ev->pol = w.rec[i];
	return DMARC_DISC_FOUND;
}

/* dmarc_discover_7489 - policy discovery of RFC 7489 6.6.3 */
static enum dmarc_disc
dmarc_discover_7489(struct dmarc_eval *ev)
{
	const struct dmarc_found *f;

	dmarc_psl_org(ev->author, ev->author_org);
	ev->have_org = true;
	f = dmarc_fetch(ev->ctx, ev->author);
	if (f->state == DMARC_F_NONE && strcmp(ev->author_org,
	    ev->author) != 0)
		f = dmarc_fetch(ev->ctx, ev->author_org);
	switch (f->state) {
	case DMARC_F_ONE:
		ev->pol = f;
		return DMARC_DISC_FOUND;
	case DMARC_F_MANY:
		dmarc_copy(ev->failed, sizeof(ev->failed), f->name);
		return DMARC_DISC_MANY;
	case DMARC_F_TEMPERROR:
		dmarc_copy(ev->failed, sizeof(ev->failed), f->name);
		return DMARC_DISC_TEMPERROR;
	default:
		return DMARC_DISC_NONE;
	}
}

/*
 * dmarc_aligned - is the identifier id aligned with the Author Domain?
 * Strict is equality only. Relaxed compares organizational domains,
 * which may need DNS (DMARC_ALIGN_TEMPERROR when it failed).
 */
static enum dmarc_align
dmarc_aligned(struct dmarc_eval *ev, const char *id, bool strict)
{
	char norm[DNS_MAX_NAME + 1], org[DNS_MAX_NAME + 1];

	if (!dmarc_normalize(id, norm))
		return DMARC_ALIGN_NO;
	if (strcmp(norm, ev->author) == 0 || strict) {
		trace_line(ev->ctx->trace, "dmarc", "%s against %s (%s): %s",
		    norm, ev->author, strict ? "strict: equal" :
		    "equal", strcmp(norm, ev->author) == 0 ? "aligned" :
		    "not aligned");
		return strcmp(norm, ev->author) == 0 ? DMARC_ALIGN_YES :
		    DMARC_ALIGN_NO;
	}
	if (!ev->have_org) {
		if (!dmarc_orgof(ev->ctx, ev->author, ev->author_org,
		    ev->failed))
			return DMARC_ALIGN_TEMPERROR;
		ev->have_org = true;
	}
	/*
	 * An organizational domain is always the name itself or one of its
	 * ancestors, so an identifier outside the Author Domain's cannot
	 * share it: no walk for it (nor DNS for a hostile list of d=).
	 */
	if (!dmarc_under(norm, ev->author_org)) {
		trace_line(ev->ctx->trace, "dmarc", "%s against %s (relaxed): "
		    "not under the organizational domain %s: not aligned", norm,
		    ev->author, ev->author_org);
		return DMARC_ALIGN_NO;
	}
	if (!dmarc_orgof(ev->ctx, norm, org, ev->failed))
		return DMARC_ALIGN_TEMPERROR;
	trace_line(ev->ctx->trace, "dmarc", "%s against %s (relaxed): "
	    "organizational domains %s and %s: %s", norm, ev->author, org,
	    ev->author_org, strcmp(org, ev->author_org) == 0 ? "aligned" :
	    "not aligned");
	return strcmp(org, ev->author_org) == 0 ? DMARC_ALIGN_YES :
	    DMARC_ALIGN_NO;
}

/* dmarc_dkim_equal - a passing DKIM d= equal to the Author Domain (cheap) */
static const char *
dmarc_dkim_equal(const struct dmarc_eval *ev, const struct dmarc_auth *auth,
    size_t n)
{
	char norm[DNS_MAX_NAME + 1];
	size_t i;

	for (i = 0; i < n; i++)
		if (auth->dkim[i].pass && dmarc_normalize(auth->dkim[i].domain,
		    norm) && strcmp(norm, ev->author) == 0)
			return auth->dkim[i].domain;
	return NULL;
}

/* The alignment found for one message. */
struct dmarc_alres {
	bool		 spf;
	const char	*dkim_domain;	/* the aligned d=, or NULL */
	bool		 temperror;
	char		 twhy[DMARC_MAX_WHY];
};

/* dmarc_align_spf - SPF alignment (4.4.2): only a MAIL FROM pass counts */
static void
dmarc_align_spf(struct dmarc_eval *ev, const struct dmarc_auth *auth,
    struct dmarc_alres *ar)
{
	enum dmarc_align a;

	if (auth->spf_domain == NULL || auth->spf_domain[0] == '\0' ||
	    (!auth->spf_pass && !auth->spf_temperror))
		return;
	a = dmarc_aligned(ev, auth->spf_domain, ev->pol->rec.aspf_strict);
	if (auth->spf_pass && a == DMARC_ALIGN_YES) {
		ar->spf = true;
	} else if (a == DMARC_ALIGN_TEMPERROR) {
		ar->temperror = true;
		(void)snprintf(ar->twhy, sizeof(ar->twhy),
		    "DNS error at _dmarc.%.60s", ev->failed);
	} else if (!auth->spf_pass && a == DMARC_ALIGN_YES) {
		ar->temperror = true;
		(void)snprintf(ar->twhy, sizeof(ar->twhy),
		    "SPF temperror for aligned %.60s", auth->spf_domain);
	}
}

/* dmarc_align_dkim - DKIM alignment (4.4.1): any aligned pass will do */
static void
dmarc_align_dkim(struct dmarc_eval *ev, const struct dmarc_auth *auth,
    struct dmarc_alres *ar)
{
	size_t i, n = auth->ndkim < DMARC_MAX_DKIM ? auth->ndkim :
	    DMARC_MAX_DKIM;
	bool strict = ev->pol->rec.adkim_strict;
	enum dmarc_align a;

	if ((ar->dkim_domain = dmarc_dkim_equal(ev, auth, n)) != NULL)
		return;
	for (i = 0; i < n && !strict; i++) {
		if (!auth->dkim[i].pass)
			continue;
		a = dmarc_aligned(ev, auth->dkim[i].domain, false);
		if (a == DMARC_ALIGN_YES) {
			ar->dkim_domain = auth->dkim[i].domain;
			return;
		}
		if (a == DMARC_ALIGN_TEMPERROR && !ar->temperror) {
			ar->temperror = true;
			(void)snprintf(ar->twhy, sizeof(ar->twhy),
			    "DNS error at _dmarc.%.60s", ev->failed);
		}
	}
	/* A signature that could not be checked but would be aligned. */
	for (i = 0; i < n && !ar->temperror; i++) {
		if (auth->dkim[i].pass || !auth->dkim[i].temperror)
			continue;
		a = dmarc_aligned(ev, auth->dkim[i].domain, strict);
		if (a != DMARC_ALIGN_NO) {
			ar->temperror = true;
			(void)snprintf(ar->twhy, sizeof(ar->twhy),
			    "DKIM temperror for aligned d=%.60s",
			    auth->dkim[i].domain != NULL ?
			    auth->dkim[i].domain : "");
		}
	}
}

/*
 * dmarc_governing - the published policy for the Author Domain (4.10.1):
 * p= at the Author Domain, else sp= or np= (with their fallbacks). The
 * existence test is made only when asked for and np= makes a difference.
 */
static enum dmarc_policy
dmarc_governing(struct dmarc_eval *ev, bool test, bool *temperror)
{
	const struct dmarc_record *rec = &ev->pol->rec;
	enum dmarc_policy sub;

	if (strcmp(ev->pol->name, ev->author) == 0)
		return rec->p;
	sub = rec->sp != DMARC_POLICY_UNSET ? rec->sp : rec->p;
	if (ev->ctx->mode == DMARC_MODE_RFC7489 || !test ||
	    rec->np == DMARC_POLICY_UNSET || rec->np == sub)
		return sub;
	switch (dmarc_exists(ev->ctx, ev->author)) {
	case DMARC_NXDOMAIN:
		return rec->np;
	case DMARC_EXISTS:
		return sub;
	default:
		*temperror = true;
		return sub;
	}
}

/* dmarc_fail - the policy and disposition of a failing message */
static void
dmarc_fail(struct dmarc_eval *ev, const struct dmarc_params *params,
    struct dmarc_outcome *out)
{
	const struct dmarc_record *rec = &ev->pol->rec;
	bool temperror = false;

	out->policy = dmarc_governing(ev, true, &temperror);
	if (temperror) {
		/* sp= or np=: the DNS did not say which */
		out->result = DMARC_RESULT_TEMPERROR;
		out->policy = DMARC_POLICY_UNKNOWN;
		out->disposition = DMARC_POLICY_NONE;
		(void)snprintf(out->reason, sizeof(out->reason),
		    "DNS error testing whether %.60s exists", ev->author);
		return;
	}
	out->result = DMARC_RESULT_FAIL;
	out->disposition = out->policy;
	(void)snprintf(out->reason, sizeof(out->reason),
	    "no aligned SPF or DKIM pass");
	if (ev->ctx->mode == DMARC_MODE_RFC9989 && rec->testing &&
	    out->policy != DMARC_POLICY_NONE) {
		out->disposition = dmarc_milder(out->policy);
		out->testing = true;
		(void)snprintf(out->reason, sizeof(out->reason),
		    "no aligned SPF or DKIM pass; t=y: %s -> %s",
		    dmarc_policy_name(out->policy),
		    dmarc_policy_name(out->disposition));
	}
	if (ev->ctx->mode == DMARC_MODE_RFC7489 &&
	    rec->pct < DMARC_PCT_DEFAULT && params->roll >= rec->pct &&
	    out->policy != DMARC_POLICY_NONE) {
		out->disposition = dmarc_milder(out->policy);
		out->sampled_out = true;
		(void)snprintf(out->reason, sizeof(out->reason),
		    "no aligned SPF or DKIM pass; pct=%u: %s -> %s",
		    rec->pct, dmarc_policy_name(out->policy),
		    dmarc_policy_name(out->disposition));
	}
}

/* dmarc_reporting - the rua=, ruf= and fo= of the record found at f */
static void
dmarc_reporting(const struct dmarc_ctx *ctx, const struct dmarc_found *f,
    struct dmarc_reporting *rep)
{
	const struct dns_record *r;
	struct dmarc_record rec;
	char why[DMARC_MAX_WHY];

	if (f->answer == NULL || f->textidx >= f->answer->nrecords)
		return;
	r = &f->answer->records[f->textidx];
	(void)dmarc_parse_mode(r->text, r->len, ctx->mode, &rec, rep, why,
	    sizeof(why));
}

/* dmarc_apply - alignment and result once the policy record is known */
static void
dmarc_apply(struct dmarc_eval *ev, const struct dmarc_params *params,
    const struct dmarc_auth *auth, struct dmarc_outcome *out)
{
	struct dmarc_alres ar;
	bool unused = false;

	dmarc_copy(out->policy_domain, sizeof(out->policy_domain),
	    ev->pol->name);
	out->discovery = ev->ctx->mode;
	if (ev->pol->parse != DMARC_PARSE_INVALID) {
		out->have_record = true;
		out->record = ev->pol->rec;
		dmarc_reporting(ev->ctx, ev->pol, &out->reporting);
	}
	if (ev->pol->parse == DMARC_PARSE_INVALID) {
		out->result = DMARC_RESULT_PERMERROR;
		(void)snprintf(out->reason, sizeof(out->reason),
		    "invalid DMARC record at %.60s: %.70s", ev->pol->name,
		    ev->pol->why);
		return;
	}
	if (ev->pol->rec.p == DMARC_POLICY_UNSET) {
		out->result = DMARC_RESULT_NONE;
		(void)snprintf(out->reason, sizeof(out->reason),
		    "DMARC record at %.60s has no p= and no rua=",
		    ev->pol->name);
		return;
	}

	memset(&ar, 0, sizeof(ar));
	if (auth != NULL) {
		dmarc_align_spf(ev, auth, &ar);
		dmarc_align_dkim(ev, auth, &ar);
	}
	out->spf_aligned = ar.spf;
	out->dkim_aligned = ar.dkim_domain != NULL;

	if (ar.spf || ar.dkim_domain != NULL) {
		out->result = DMARC_RESULT_PASS;
		out->policy = dmarc_governing(ev, false, &unused);
		out->disposition = DMARC_POLICY_NONE;
		if (ar.dkim_domain != NULL)
			(void)snprintf(out->reason, sizeof(out->reason),
			    "%saligned DKIM pass d=%.60s",
			    ar.spf ? "aligned SPF pass, " : "",
			    ar.dkim_domain);
		else
			(void)snprintf(out->reason, sizeof(out->reason),
			    "aligned SPF pass %.60s", auth->spf_domain);
	} else if (ar.temperror) {
		/* it may yet fail: the policy that would apply, sp= or np= */
		bool unsure = false;

		out->result = DMARC_RESULT_TEMPERROR;
		out->policy = dmarc_governing(ev, true, &unsure);
		if (unsure)
			out->policy = DMARC_POLICY_UNKNOWN;
		out->disposition = DMARC_POLICY_NONE;
		dmarc_copy(out->reason, sizeof(out->reason), ar.twhy);
	} else {
		dmarc_fail(ev, params, out);
	}
}

/* dmarc_evaluate - the DMARC result for one message */
void
dmarc_evaluate(const struct dmarc_dns *dns, const struct dmarc_params *p,
    const char *from_domain, const struct dmarc_auth *auth,
    struct dmarc_outcome *out)
{
	static const struct dmarc_params defaults = {
		.mode = DMARC_MODE_RFC9989, .roll = 0
	};
	struct dmarc_eval ev;

	memset(out, 0, sizeof(*out));
	out->result = DMARC_RESULT_NONE;
	out->policy = DMARC_POLICY_UNSET;
	out->disposition = DMARC_POLICY_NONE;	/* whatever happens next */
	if (p == NULL)
		p = &defaults;
	memset(&ev, 0, sizeof(ev));
	if (!dmarc_normalize(from_domain, ev.author)) {
		if (from_domain != NULL)
			dmarc_copy(out->header_from, sizeof(out->header_from),
			    from_domain);
		out->result = DMARC_RESULT_PERMERROR;
		dmarc_copy(out->reason, sizeof(out->reason),
		    "invalid From domain");
		return;
	}
	dmarc_copy(out->header_from, sizeof(out->header_from), ev.author);
	if (dns == NULL || dns->lookup == NULL) {
		out->result = DMARC_RESULT_TEMPERROR;
		out->policy = DMARC_POLICY_UNKNOWN;
		dmarc_copy(out->reason, sizeof(out->reason), "no DNS");
		return;
	}

	ev.ctx = dmarc_ctx_new(dns, p->mode, p->trace);
	trace_line(p->trace, "dmarc", "policy discovery for %s (%s)",
	    ev.author, p->mode == DMARC_MODE_RFC7489 ?
	    "RFC 7489, Public Suffix List" : "RFC 9989 tree walk");

	switch (p->mode == DMARC_MODE_RFC7489 ? dmarc_discover_7489(&ev) :
	    dmarc_discover_9989(&ev)) {
	case DMARC_DISC_FOUND:
		dmarc_apply(&ev, p, auth, out);
		break;
	case DMARC_DISC_NONE:
		dmarc_copy(out->reason, sizeof(out->reason),
		    "no DMARC record");
		break;
	case DMARC_DISC_MANY:
		(void)snprintf(out->reason, sizeof(out->reason),
		    "several DMARC records at %.60s", ev.failed);
		break;
	case DMARC_DISC_TEMPERROR:
		out->result = DMARC_RESULT_TEMPERROR;
		out->policy = DMARC_POLICY_UNKNOWN;
		(void)snprintf(out->reason, sizeof(out->reason),
		    "DNS error at _dmarc.%.60s", ev.failed);
		break;
	}
	if (ev.have_org)
		dmarc_copy(out->org_domain, sizeof(out->org_domain),
		    ev.author_org);
	trace_line(p->trace, "dmarc", "%s: %s, policy %s from _dmarc.%s, "
	    "disposition %s%s%s", ev.author, dmarc_result_name(out->result),
	    dmarc_policy_name(out->policy), out->policy_domain[0] ?
	    out->policy_domain : "(none)",
	    dmarc_policy_name(out->disposition), out->reason[0] ? ": " : "",
	    out->reason);
	dmarc_ctx_free(ev.ctx);
}

/* dmarc_org_domain - the organizational domain by the mode's method */
bool
dmarc_org_domain(const struct dmarc_dns *dns, enum dmarc_mode mode,
    const char *domain, char *org, size_t orglen)
{
	char norm[DNS_MAX_NAME + 1], res[DNS_MAX_NAME + 1];
	char failed[DNS_MAX_NAME + 1];
	struct dmarc_ctx *ctx;
	bool ok;

	if (!dmarc_normalize(domain, norm)) {
		dmarc_copy(org, orglen, domain != NULL ? domain : "");
		return true;
	}
	if (mode == DMARC_MODE_RFC7489) {
		dmarc_psl_org(norm, res);
		dmarc_copy(org, orglen, res);
		return true;
	}
	if (dns == NULL || dns->lookup == NULL)
		return false;
	ctx = dmarc_ctx_new(dns, mode, NULL);
	ok = dmarc_orgof(ctx, norm, res, failed);
	dmarc_ctx_free(ctx);
	if (ok)
		dmarc_copy(org, orglen, res);
	return ok;
}

/*
 * dmarc_prefetch_names - the _dmarc names of the RFC 9989 walk from
 * from_domain, in the order the evaluation asks for them.
 */
size_t
dmarc_prefetch_names(const char *from_domain, char names[][DNS_MAX_NAME + 1],
    size_t n)
{
	char norm[DNS_MAX_NAME + 1];
	size_t x, left, count = 0, nq = 0;
	const char *target;

	if (!dmarc_normalize(from_domain, norm))
		return 0;
	x = left = dmarc_labels(norm);
	target = norm;
	while (count < n && nq < DMARC_MAX_WALK) {
		nq++;
		if (dmarc_qname(names[count], target))
			count++;
		if (left <= 1)
			break;
		left = target == norm && x >= DMARC_SHORTEN_AT ?
		    DMARC_SHORTEN_TO : left - 1;
		target = dmarc_suffix(norm, left);
	}
	return count;
}

/* dmarc_result_name - the RFC 8601 result word */
const char *
dmarc_result_name(enum dmarc_result r)
{
	switch (r) {
	case DMARC_RESULT_NONE:		return "none";
	case DMARC_RESULT_PASS:		return "pass";
	case DMARC_RESULT_FAIL:		return "fail";
	case DMARC_RESULT_TEMPERROR:	return "temperror";
	case DMARC_RESULT_PERMERROR:	return "permerror";
	}
	return "none";
}

/* dmarc_policy_name - the policy word; UNSET reads "none" */
const char *
dmarc_policy_name(enum dmarc_policy p)
{
	switch (p) {
	case DMARC_POLICY_QUARANTINE:	return "quarantine";
	case DMARC_POLICY_REJECT:	return "reject";
	case DMARC_POLICY_UNKNOWN:	return "unknown";
	default:			return "none";
	}
}

/* dmarc_override_name - the RFC 9990 word for an override */
const char *
dmarc_override_name(enum dmarc_override o)
{
	switch (o) {
	case DMARC_OVERRIDE_TRUSTED_FORWARDER: return "trusted_forwarder";
	case DMARC_OVERRIDE_MAILING_LIST: return "mailing_list";
	case DMARC_OVERRIDE_LOCAL_POLICY: return "local_policy";
	case DMARC_OVERRIDE_POLICY_TEST_MODE: return "policy_test_mode";
	case DMARC_OVERRIDE_OTHER: return "other";
	default: return "none";
	}
}
