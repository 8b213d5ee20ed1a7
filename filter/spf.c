/*
 * NAME
 *	spf - SPF (RFC 7208) for the MAIL FROM and HELO identities
 * SYNOPSIS
 *	#include "spf.h"
 *
 *	void spf_prefetch(struct dns_service *dns,
 *	    const struct spf_request *req);
 *	void spf_check_mailfrom(struct dns_service *dns,
 *	    const struct spf_request *req, struct spf_outcome *out);
 *	void spf_check_helo(struct dns_service *dns,
 *	    const struct spf_request *req, struct spf_outcome *out);
 *	const char *spf_result_name(enum spf_result r);
 *
 *	bool spf_addr_parse(const char *text, struct spf_addr *out);
 *	bool spf_domain_valid(const char *domain);
 *	bool spf_record_valid(const char *text, size_t len, char *why,
 *	    size_t whylen);
 *	bool spf_macro_valid(const char *text, size_t len, bool exp);
 *	bool spf_record_terms(const char *text, size_t len,
 *	    struct spf_term **terms, size_t *n, char *why, size_t whylen);
 *	bool spf_is_spf1(const char *text, size_t len);
 *	char *spf_macro_expand(const struct spf_macro_env *env,
 *	    const char *text, size_t len, bool exp);
 * DESCRIPTION
 *	check_host() of RFC 7208, with libspf2 as the evaluator and this
 *	module as its guard. The work is divided so that libspf2 only ever
 *	sees input it handles correctly:
 *
 *	libspf2 compiles each record from the text given to it, walks the
 *	mechanisms in order, matches the client address against addresses
 *	and CIDR ranges, recurses into include: and redirect=, combines the
 *	results, and asks for the explanation of the final result.
 *
 *	This module fetches every record itself (TXT only, exactly one
 *	"v=spf1" record, visible ASCII only), checks it against the RFC 7208
 *	grammar, expands its macros, and hands libspf2 a canonical,
 *	macro-free rewrite of it. The rewrite fixes what libspf2 gets wrong:
 *	- macros: libspf2's expander has an overflow in URL encoding
 *	  (CVE-2021-20314), leaves "!*'()" unescaped, lacks the "," and "/"
 *	  delimiters and never truncates names to 253 bytes;
 *	- redirect= is moved after the mechanisms (libspf2 runs it where it
 *	  stands), and dropped when an "all" makes it unreachable;
 *	- ip4:/0 and ip6:/0 become two /1 ranges, and a/0, mx/0 (which
 *	  libspf2 refuses) are carried to the DNS layer by a tag, see below;
 *	- a record whose compiled form exceeds libspf2's 511 bytes (the rest
 *	  is silently dropped by it) is cut into pieces chained by redirect=
 *	  to internal names (SPF_TAG_CHAR '#' N) answered from memory;
 *	- unknown modifiers are checked and then left out (libspf2 would take
 *	  an "exp-text=" modifier as the explanation).
 *	Evaluation starts at SPF_record_interpret(), not at libspf2's
 *	SPF_request_query_mailfrom(), which gives loopback clients a pass.
 *
 *	All DNS goes through dns.c: an SPF_dns_server_t of ours answers
 *	libspf2's lookups with dns_lookup() under the request's deadline, so
 *	no resolver of libspf2 and no blocking system resolver is used. The
 *	layer sees every query, so it counts the DNS-querying terms (at most
 *	SPF_MAX_DNS_MECH) and the void lookups (at most SPF_MAX_VOID), keeps
 *	at most SPF_MAX_PTR_NAMES names of a PTR answer, turns more than
 *	SPF_MAX_MX_NAMES exchanges into permerror, and skips (instead of
 *	failing on) a DNS error while validating PTR names (RFC 7208 5.5).
 *	When a limit is exceeded the layer answers nothing more and the
 *	result becomes permerror.
 *
 *	The tag: every name of an a, mx, exists, include or redirect term is
 *	handed to libspf2 followed by SPF_TAG_CHAR and one flag byte. A query
 *	that carries it is a term of its own (counted); an A/AAAA query
 *	without it follows an MX or PTR answer. The flag byte also says that
 *	the term's IPv4 or IPv6 prefix length is 0: then any address in the
 *	answer stands for the client's. The tag byte cannot occur in names
 *	from a record (visible ASCII only), from macro values (control bytes
 *	are refused in the local-part and the HELO name) or from DNS answers
 *	(c-ares escapes such bytes).
 *
 *	Identities (section 4.3): a malformed domain or a domain literal gives
 *	"none" without DNS; an empty local-part is "postmaster"; an empty
 *	MAIL FROM is "postmaster@HELO". An IPv4-mapped IPv6 client is an IPv4
 *	client (section 5). The explanation is the exp= text of the record
 *	that decided a fail, macro-expanded, or our default text
 *	(SPF_EXP_LOCAL) expanded here, at most SPF_MAX_EXPLANATION bytes.
 *
 *	Every evaluation creates its own libspf2 request and response and
 *	frees them. The libspf2 server (and the DNS layer under it) is made
 *	once per thread and lent to one evaluation at a time (see struct
 *	spf_thread); nothing is shared between threads but the DNS service.
 * DIAGNOSTICS
 *	Nothing is logged here. Every outcome has a result and a short
 *	reason for the caller's log and for the Authentication-Results
 *	comment. Out of memory aborts, as everywhere (util.h).
 */
#include "buildconf.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/*
 * libspf2 names its result enumerators SPF_RESULT_* as well, with other
 * values than ours: rename them while its headers are read.
 */
#define SPF_RESULT_INVALID	LIBSPF2_RESULT_INVALID
#define SPF_RESULT_NEUTRAL	LIBSPF2_RESULT_NEUTRAL
#define SPF_RESULT_PASS		LIBSPF2_RESULT_PASS
#define SPF_RESULT_FAIL		LIBSPF2_RESULT_FAIL
#define SPF_RESULT_SOFTFAIL	LIBSPF2_RESULT_SOFTFAIL
#define SPF_RESULT_NONE		LIBSPF2_RESULT_NONE
#define SPF_RESULT_TEMPERROR	LIBSPF2_RESULT_TEMPERROR
#define SPF_RESULT_PERMERROR	LIBSPF2_RESULT_PERMERROR
#include <spf2/spf.h>
#include <spf2/spf_dns.h>
#include <spf2/spf_dns_rr.h>
#undef SPF_RESULT_INVALID
#undef SPF_RESULT_NEUTRAL
#undef SPF_RESULT_PASS
#undef SPF_RESULT_FAIL
#undef SPF_RESULT_SOFTFAIL
#undef SPF_RESULT_NONE
#undef SPF_RESULT_TEMPERROR
#undef SPF_RESULT_PERMERROR

#include "dns.h"
#include "log.h"
#include "spf.h"
#include "trace.h"
#include "util.h"

#define SPF_MAX_LABEL		63	/* bytes of one DNS label */
#define SPF_MAX_LOCAL		255	/* bytes of a local-part we evaluate */
#define SPF_MAX_HELO		255	/* bytes of a HELO argument kept */
#define SPF_MAX_SENDER		(SPF_MAX_LOCAL + 1 + DNS_MAX_NAME)
#define SPF_MAX_VALUE		(SPF_MAX_SENDER + 1)	/* one macro value */
#define SPF_MAX_EXPAND		16384	/* bytes of one macro expansion */
#define SPF_MAX_CHUNKS		64	/* pieces of long records, per check */
#define SPF_CHUNK_BUDGET	400	/* compiled bytes per piece, of 511 */
#define SPF_LIB_MAX_MECH	1000	/* libspf2's term counter: never hit */
#define SPF_V1			"v=spf1"
#define SPF_V1_LEN		(sizeof(SPF_V1) - 1)
#define SPF_TAG_CHAR		'\001'	/* see DESCRIPTION */
#define SPF_TAG_BASE		'@'	/* flag byte = SPF_TAG_BASE + flags */
#define SPF_ZERO4		1	/* tag flag: IPv4 prefix length 0 */
#define SPF_ZERO6		2	/* tag flag: IPv6 prefix length 0 */
#define SPF_TAG_LEN		2
#define SPF_PIECE_CHAR		'#'	/* SPF_TAG_CHAR '#' N: record piece N */
#define SPF_EXP_DEFAULT		"\001"	/* libspf2's explanation: "use ours" */
/* ours, when the record has no exp= (libspf2's points at a dead web site) */
#define SPF_EXP_LOCAL		"%{i} is not allowed to send mail for %{o} (SPF)"
#define SPF_UNKNOWN		"unknown"	/* %{p}, %{r} when not known */
#define SPF_ADDR_TEXT		72	/* an address as text, or nibbles */
#define SPF_DELIMS		".-+,/_="	/* RFC 7208 7.1 delimiters */
#define SPF_TRACE_MAX		400	/* bytes of a record in a trace */
#define SPF_MACRO_LETTERS	"slodipvh"	/* allowed in a domain-spec */
#define SPF_EXP_LETTERS		"slodipvhcrt"	/* allowed in explanations */

/* A parsed record. */
struct spf_parsed {
	struct spf_term	*terms;
	size_t		 n;
	int		 redirect;	/* index of redirect=, or -1 */
	int		 exp;		/* index of exp=, or -1 */
	bool		 has_all;
};

/* What the lookups of an MX or PTR answer are, for the layer. */
enum spf_follow {
	SPF_FOLLOW_NONE,
	SPF_FOLLOW_MX,
	SPF_FOLLOW_PTR,
};

/* How fetching one record ended. */
enum spf_fetch {
	SPF_FETCH_OK,
	SPF_FETCH_NONE,
	SPF_FETCH_PERM,
	SPF_FETCH_TEMP,
};

/* One piece of a rewritten record, compiled when libspf2 reaches it. */
struct spf_chunk {
	char		*text;
	char		 domain[DNS_MAX_NAME + 1];	/* %{d} of the record */
	int		 nmech;		/* terms libspf2 must keep */
	int		 nmod;
};

/* One evaluation of check_host(): the state every callback reaches. */
struct spf_eval {
	SPF_server_t		*server;	/* the thread's, lent */
	SPF_request_t		*sreq;
	struct dns_service	*dns;
	const struct timespec	*deadline;
	const struct timespec	*since;		/* the message's start */
	struct spf_addr		 addr;
	char			 local[SPF_MAX_LOCAL + 1];	/* %{l} */
	char			 domain[DNS_MAX_NAME + 1];	/* %{o} */
	char			 sender[SPF_MAX_SENDER + 1];	/* %{s} */
	char			 helo[SPF_MAX_HELO + 1];	/* %{h} */
	char			 receiver[DNS_MAX_NAME + 1];	/* %{r} */
	unsigned		 terms;		/* DNS-querying terms so far */
	unsigned		 voids;		/* void lookups so far */
	struct trace		*trace;		/* check --explain, or NULL */
	bool			 forced;	/* a limit was hit: permerror */
	char			 why[128];
	enum spf_follow		 follow;
	unsigned		 follow_zero;	/* tag flags of the MX term */
	bool			 ptr_done;	/* pnames below are known */
	/* the validated names, SPF_MAX_PTR_NAMES at most, made on first use */
	char			(*pnames)[DNS_MAX_NAME + 1];
	size_t			 npnames;
	struct spf_chunk	*chunks;	/* SPF_MAX_CHUNKS at most */
	size_t			 nchunks;
};

static const char *const spf_names[] = {
	[SPF_RESULT_NONE] = "none",
	[SPF_RESULT_NEUTRAL] = "neutral",
	[SPF_RESULT_PASS] = "pass",
	[SPF_RESULT_FAIL] = "fail",
	[SPF_RESULT_SOFTFAIL] = "softfail",
	[SPF_RESULT_TEMPERROR] = "temperror",
	[SPF_RESULT_PERMERROR] = "permerror",
};

/* spf_result_name - "pass", "fail", "softfail", "neutral", "none", ... */
const char *
spf_result_name(enum spf_result r)
{
	if ((size_t)r >= sizeof(spf_names) / sizeof(spf_names[0]) ||
	    spf_names[r] == NULL)
		return "permerror";
	return spf_names[r];
}

/* spf_say - printf into a bounded reason buffer */
static void
spf_say(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
spf_say(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/* spf_copy - bounded copy; false (and dst emptied) when src does not fit */
static bool
spf_copy(char *dst, size_t dstlen, const char *src)
{
	size_t len = strlen(src);

	if (len >= dstlen) {
		dst[0] = '\0';
		return false;
	}
	memcpy(dst, src, len + 1);
	return true;
}

/* spf_is_alpha - ASCII letter (no locale) */
static bool
spf_is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* spf_is_digit - ASCII digit */
static bool
spf_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* spf_is_alnum - ASCII letter or digit */
static bool
spf_is_alnum(int c)
{
	return spf_is_alpha(c) || spf_is_digit(c);
}

/* spf_lower - ASCII lower case of one byte */
static int
spf_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

/* ---------------------------------------------------------------------
 * Addresses and names
 */

/* spf_addr_parse - the client address, IPv4-mapped IPv6 made IPv4 */
bool
spf_addr_parse(const char *text, struct spf_addr *out)
{
	char buf[SPF_ADDR_TEXT];
	size_t len;
	static const unsigned char mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	memset(out, 0, sizeof(*out));
	if (text == NULL)
		return false;
	len = strlen(text);
	if (len >= 2 && text[0] == '[' && text[len - 1] == ']') {
		text++;
		len -= 2;
	}
	if (len >= 5 && strncasecmp(text, "IPv6:", 5) == 0) {
		text += 5;
		len -= 5;
	}
	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, out->a) == 1) {
		out->family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, buf, out->a) != 1)
		return false;
	if (memcmp(out->a, mapped, sizeof(mapped)) == 0) {
		memmove(out->a, out->a + sizeof(mapped), 4);
		memset(out->a + 4, 0, sizeof(out->a) - 4);
		out->family = AF_INET;
		return true;
	}
	out->family = AF_INET6;
	return true;
}

/*
 * spf_name_ok - can len bytes of name be asked of DNS: 1..253 bytes,
 * labels of 1..63 bytes, visible ASCII or space (macros make spaces)
 */
static bool
spf_name_ok(const char *name, size_t len)
{
	size_t i, label = 0;

	if (len == 0 || len > DNS_MAX_NAME)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (c < 0x20 || c > 0x7e)
			return false;
		if (++label > SPF_MAX_LABEL)
			return false;
	}
	return label > 0;
}

/* spf_domain_valid - RFC 7208 4.3: may this identity domain be checked? */
bool
spf_domain_valid(const char *domain)
{
	size_t i, len;

	if (domain == NULL || domain[0] == '[')
		return false;
	len = strlen(domain);
	if (len > 0 && domain[len - 1] == '.')
		len--;
	if (!spf_name_ok(domain, len))
		return false;
	for (i = 0; i < len; i++)
		if (domain[i] == ' ' || domain[i] == '@')
			return false;
	return memchr(domain, '.', len) != NULL;
}

/* spf_toplabel_ok - RFC 7208 toplabel: alphanumerics and inner dashes */
static bool
spf_toplabel_ok(const char *s, size_t len)
{
	size_t i;
	bool alpha = false, dash = false;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++) {
		if (spf_is_alpha((unsigned char)s[i]))
			alpha = true;
		else if (s[i] == '-')
			dash = true;
		else if (!spf_is_digit((unsigned char)s[i]))
			return false;
	}
	if (dash)
		return s[0] != '-' && s[len - 1] != '-';
	return alpha;
}

/* ---------------------------------------------------------------------
 * Macro syntax (RFC 7208 7.1)
 */

/*
 * spf_macro_scan - check macro-string syntax; report whether the text
 * ends with a macro-expand and where the literal text after the last one
 * starts
 */
static bool
spf_macro_scan(const char *s, size_t len, bool exp, bool *ends_macro,
    size_t *tail)
{
	const char *letters = exp ? SPF_EXP_LETTERS : SPF_MACRO_LETTERS;
	size_t i = 0, start;
	bool nonzero;

	*ends_macro = false;
	*tail = 0;
	while (i < len) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			if (i + 1 >= len)
				return false;
			c = (unsigned char)s[i + 1];
			if (c == '%' || c == '_' || c == '-') {
				i += 2;
				*ends_macro = true;
				*tail = i;
				continue;
			}
			if (c != '{')
				return false;
			i += 2;
			if (i >= len || s[i] == '\0' ||
			    strchr(letters, spf_lower((unsigned char)s[i])) ==
			    NULL)
				return false;
			i++;
			start = i;
			nonzero = false;
			while (i < len && spf_is_digit((unsigned char)s[i])) {
				if (s[i] != '0')
					nonzero = true;
				i++;
			}
			if (i > start && !nonzero)
				return false;	/* the DIGIT must not be 0 */
			if (i < len && (s[i] == 'r' || s[i] == 'R'))
				i++;
			while (i < len && s[i] != '\0' &&
			    strchr(SPF_DELIMS, s[i]) != NULL)
				i++;
			if (i >= len || s[i] != '}')
				return false;
			i++;
			*ends_macro = true;
			*tail = i;
			continue;
		}
		if (c == ' ' && exp) {
			i++;
			*ends_macro = false;
			continue;
		}
		if (c < 0x21 || c > 0x7e)
			return false;
		*ends_macro = false;
		i++;
	}
	return true;
}

/* spf_macro_valid - macro-string syntax of len bytes */
bool
spf_macro_valid(const char *text, size_t len, bool exp)
{
	bool ends;
	size_t tail;

	return spf_macro_scan(text, len, exp, &ends, &tail);
}

/*
 * spf_domain_spec_ok - RFC 7208 domain-spec: a non-empty macro-string
 * that ends with a macro-expand or with "." toplabel ["."]
 */
static bool
spf_domain_spec_ok(const char *s, size_t len)
{
	bool ends;
	size_t tail, end, dot;

	if (len == 0 || !spf_macro_scan(s, len, false, &ends, &tail))
		return false;
	if (ends)
		return true;
	end = len;
	if (end > tail && s[end - 1] == '.')
		end--;
	for (dot = end; dot > tail; dot--)
		if (s[dot - 1] == '.')
			break;
	if (dot == tail)
		return false;	/* no "." before the top label */
	return spf_toplabel_ok(s + dot, end - dot);
}

/* ---------------------------------------------------------------------
 * Record grammar (RFC 7208 4.5, 4.6, 5, 6, 12)
 */

/* spf_is_v1 - does this TXT string select itself as an SPF record? */
static bool
spf_is_v1(const char *text, size_t len)
{
	if (len < SPF_V1_LEN || strncasecmp(text, SPF_V1, SPF_V1_LEN) != 0)
		return false;
	return len == SPF_V1_LEN || text[SPF_V1_LEN] == ' ';
}

/*
 * spf_cidr_digits - a prefix length: "0" or digits without a leading zero,
 * at most max; -1 when malformed
 */
static int
spf_cidr_digits(const char *s, size_t len, int max)
{
	int v = 0;
	size_t i;

	if (len == 0 || len > 3 || (len > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < len; i++) {
		if (!spf_is_digit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= max ? v : -1;
}

/*
 * spf_dual_cidr - split a trailing dual-cidr-length off s[0..*len):
 * "/N", "//M" or "/N//M". False when what looks like one is malformed.
 */
static bool
spf_dual_cidr(const char *s, size_t *len, int *c4, int *c6)
{
	size_t end = *len, p;

	*c4 = *c6 = -1;
	p = end;
	while (p > 0 && spf_is_digit((unsigned char)s[p - 1]))
		p--;
	if (p == end || p == 0 || s[p - 1] != '/')
		return true;		/* no prefix length */
	if (p >= 2 && s[p - 2] == '/') {
		if ((*c6 = spf_cidr_digits(s + p, end - p, 128)) < 0)
			return false;
		end = p - 2;
		p = end;
		while (p > 0 && spf_is_digit((unsigned char)s[p - 1]))
			p--;
		if (p == end || p == 0 || s[p - 1] != '/') {
			*len = end;
			return true;
		}
	}
	if ((*c4 = spf_cidr_digits(s + p, end - p, 32)) < 0)
		return false;
	*len = p - 1;
	return true;
}

/* spf_ip4_strict - ip4-network: four decimal octets, no leading zeros */
static bool
spf_ip4_strict(const char *s, size_t len, unsigned char out[4])
{
	size_t i = 0;
	int part;

	for (part = 0; part < 4; part++) {
		size_t start = i;
		int v = 0;

		while (i < len && spf_is_digit((unsigned char)s[i])) {
			v = v * 10 + (s[i] - '0');
			if (i - start >= 3)
				return false;
			i++;
		}
		if (i == start || v > 255 || (i - start > 1 && s[start] == '0'))
			return false;
		out[part] = (unsigned char)v;
		if (part < 3) {
			if (i >= len || s[i] != '.')
				return false;
			i++;
		}
	}
	return i == len;
}

/* spf_mech_name - which mechanism is this name; -1 if none */
static int
spf_mech_name(const char *s, size_t len)
{
	static const struct {
		const char	*name;
		enum spf_kind	 kind;
	} mechs[] = {
		{ "all", SPF_K_ALL }, { "include", SPF_K_INCLUDE },
		{ "a", SPF_K_A }, { "mx", SPF_K_MX }, { "ptr", SPF_K_PTR },
		{ "ip4", SPF_K_IP4 }, { "ip6", SPF_K_IP6 },
		{ "exists", SPF_K_EXISTS },
	};
	size_t i;

	for (i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++)
		if (strlen(mechs[i].name) == len &&
		    strncasecmp(mechs[i].name, s, len) == 0)
			return (int)mechs[i].kind;
	return -1;
}

/* spf_parse_mech - one mechanism (qualifier already taken) */
static bool
spf_parse_mech(const char *s, size_t len, struct spf_term *t, char *why,
    size_t whylen)
{
	size_t nl = 0, rlen;
	const char *r;
	int kind;
	char buf[SPF_ADDR_TEXT];

	while (nl < len && s[nl] != ':' && s[nl] != '/')
		nl++;
	if ((kind = spf_mech_name(s, nl)) < 0) {
		spf_say(why, whylen, "unknown mechanism '%.*s'", (int)nl, s);
		return false;
	}
	t->kind = (enum spf_kind)kind;
	r = s + nl;
	rlen = len - nl;
	switch (t->kind) {
	case SPF_K_ALL:
		if (rlen != 0)
			goto bad;
		return true;
	case SPF_K_INCLUDE:
	case SPF_K_EXISTS:
	case SPF_K_PTR:
		if (rlen == 0 && t->kind == SPF_K_PTR)
			return true;
		if (rlen == 0 || r[0] != ':' ||
		    !spf_domain_spec_ok(r + 1, rlen - 1))
			goto bad;
		t->arg = r + 1;
		t->arglen = rlen - 1;
		return true;
	case SPF_K_A:
	case SPF_K_MX:
		if (!spf_dual_cidr(r, &rlen, &t->cidr4, &t->cidr6))
			goto bad;
		if (rlen == 0)
			return true;
		if (r[0] != ':' || !spf_domain_spec_ok(r + 1, rlen - 1))
			goto bad;
		t->arg = r + 1;
		t->arglen = rlen - 1;
		return true;
	case SPF_K_IP4:
	case SPF_K_IP6:
		if (rlen < 2 || r[0] != ':')
			goto bad;
		r++;
		rlen--;
		{
			const char *slash = memrchr(r, '/', rlen);
			int max = t->kind == SPF_K_IP4 ? 32 : 128;
			int *cidr = t->kind == SPF_K_IP4 ? &t->cidr4 :
			    &t->cidr6;

			if (slash != NULL) {
				*cidr = spf_cidr_digits(slash + 1,
				    rlen - (size_t)(slash + 1 - r), max);
				if (*cidr < 0)
					goto bad;
				rlen = (size_t)(slash - r);
			}
		}
		t->arg = r;
		t->arglen = rlen;
		if (t->kind == SPF_K_IP4) {
			if (spf_ip4_strict(r, rlen, t->ip))
				return true;
			goto bad;
		}
		if (rlen >= sizeof(buf))
			goto bad;
		memcpy(buf, r, rlen);
		buf[rlen] = '\0';
		if (inet_pton(AF_INET6, buf, t->ip) == 1)
			return true;
		goto bad;
	default:
		break;
	}
bad:
	spf_say(why, whylen, "bad mechanism '%.*s'", (int)len, s);
	return false;
}

/* spf_parse_term - one term: a directive or a modifier */
static bool
spf_parse_term(const char *s, size_t len, struct spf_parsed *p, char *why,
    size_t whylen)
{
	struct spf_term *t = &p->terms[p->n];
	size_t nl = 0;
	const char *v;
	size_t vlen;

	memset(t, 0, sizeof(*t));
	t->cidr4 = t->cidr6 = -1;
	t->qual = '+';
	/* a modifier: name "=" ..., the name starting with a letter */
	while (nl < len && (spf_is_alnum((unsigned char)s[nl]) ||
	    s[nl] == '-' || s[nl] == '_' || s[nl] == '.'))
		nl++;
	if (nl < len && s[nl] == '=') {
		if (nl == 0 || !spf_is_alpha((unsigned char)s[0])) {
			spf_say(why, whylen, "bad modifier name in '%.*s'",
			    (int)len, s);
			return false;
		}
		v = s + nl + 1;
		vlen = len - nl - 1;
		if (nl == 8 && strncasecmp(s, "redirect", 8) == 0)
			t->kind = SPF_K_REDIRECT;
		else if (nl == 3 && strncasecmp(s, "exp", 3) == 0)
			t->kind = SPF_K_EXP;
		else
			t->kind = SPF_K_UNKNOWN;
		t->arg = v;
		t->arglen = vlen;
		if (t->kind == SPF_K_UNKNOWN) {
			if (!spf_macro_valid(v, vlen, false))
				goto badmod;
		} else if (!spf_domain_spec_ok(v, vlen))
			goto badmod;
		if (t->kind == SPF_K_REDIRECT) {
			if (p->redirect >= 0) {
				spf_say(why, whylen, "redirect= twice");
				return false;
			}
			p->redirect = (int)p->n;
		} else if (t->kind == SPF_K_EXP) {
			if (p->exp >= 0) {
				spf_say(why, whylen, "exp= twice");
				return false;
			}
			p->exp = (int)p->n;
		}
		p->n++;
		return true;
	}
	if (len > 0 && strchr("+-~?", s[0]) != NULL) {
		t->qual = s[0];
		s++;
		len--;
	}
	if (!spf_parse_mech(s, len, t, why, whylen))
		return false;
	if (t->kind == SPF_K_ALL)
		p->has_all = true;
	p->n++;
	return true;
badmod:
	spf_say(why, whylen, "bad modifier '%.*s'", (int)len, s);
	return false;
}

/*
 * spf_parse - parse and check one record (len bytes, "v=spf1" first);
 * p->terms is allocated (free it with free()) even on failure
 */
static bool
spf_parse(const char *text, size_t len, struct spf_parsed *p, char *why,
    size_t whylen)
{
	size_t i, n = 1, start;

	memset(p, 0, sizeof(*p));
	p->redirect = p->exp = -1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c < 0x20 || c > 0x7e) {
			spf_say(why, whylen, "%s byte 0x%02x in the record",
			    c < 0x20 ? "control" : "non-ASCII", c);
			p->terms = NULL;
			return false;
		}
		if (c == ' ')
			n++;
	}
	p->terms = xcalloc(n, sizeof(*p->terms));
	if (!spf_is_v1(text, len)) {
		spf_say(why, whylen, "not a v=spf1 record");
		return false;
	}
	i = SPF_V1_LEN;
	for (;;) {
		while (i < len && text[i] == ' ')
			i++;
		if (i >= len)
			break;
		start = i;
		while (i < len && text[i] != ' ')
			i++;
		if (p->n >= n)
			return false;	/* cannot happen: n counts spaces */
		if (!spf_parse_term(text + start, i - start, p, why, whylen))
			return false;
	}
	return true;
}

/* spf_record_terms - the terms of one record, checked as below */
bool
spf_record_terms(const char *text, size_t len, struct spf_term **terms,
    size_t *n, char *why, size_t whylen)
{
	struct spf_parsed p;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (!spf_parse(text, len, &p, why, whylen)) {
		free(p.terms);
		*terms = NULL;
		*n = 0;
		return false;
	}
	*terms = p.terms;
	*n = p.n;
	return true;
}

/* spf_is_spf1 - does this TXT string select itself as an SPF record? */
bool
spf_is_spf1(const char *text, size_t len)
{
	return spf_is_v1(text, len);
}

/* spf_record_valid - the RFC 7208 grammar check of one record */
bool
spf_record_valid(const char *text, size_t len, char *why, size_t whylen)
{
	struct spf_parsed p;
	bool ok;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	ok = spf_parse(text, len, &p, why, whylen);
	free(p.terms);
	return ok;
}

/* ---------------------------------------------------------------------
 * Macro expansion (RFC 7208 7.2-7.4)
 */

/* spf_ip_dotted - %{i}: dotted quad, or 32 dotted nibbles for IPv6 */
static void
spf_ip_dotted(const struct spf_addr *a, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, o = 0;

	if (a->family == AF_INET) {
		snprintf(out, outlen, "%u.%u.%u.%u", a->a[0], a->a[1],
		    a->a[2], a->a[3]);
		return;
	}
	for (i = 0; i < 16 && o + 4 < outlen; i++) {
		out[o++] = hex[a->a[i] >> 4];
		out[o++] = '.';
		out[o++] = hex[a->a[i] & 0xf];
		out[o++] = '.';
	}
	out[o > 0 ? o - 1 : 0] = '\0';
}

/* spf_ip_pretty - %{c}: the usual text form */
static void
spf_ip_pretty(const struct spf_addr *a, char *out, size_t outlen)
{
	if (inet_ntop(a->family, a->a, out, (socklen_t)outlen) == NULL)
		spf_copy(out, outlen, SPF_UNKNOWN);
}

/* spf_reverse_name - the in-addr.arpa / ip6.arpa name of the client */
static void
spf_reverse_name(const struct spf_addr *a, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	int i;

	if (a->family == AF_INET) {
		snprintf(out, outlen, "%u.%u.%u.%u.in-addr.arpa", a->a[3],
		    a->a[2], a->a[1], a->a[0]);
		return;
	}
	for (i = 15; i >= 0 && o + 4 < outlen; i--) {
		out[o++] = hex[a->a[i] & 0xf];
		out[o++] = '.';
		out[o++] = hex[a->a[i] >> 4];
		out[o++] = '.';
	}
	out[o] = '\0';
	strncat(out, "ip6.arpa", outlen - o - 1);
}

/* spf_addr_in - does answer a hold the client's address? */
static bool
spf_addr_in(const struct spf_addr *addr, const struct dns_answer *a)
{
	size_t i, n = addr->family == AF_INET ? 4 : 16;

	if (a->status != DNS_OK)
		return false;
	for (i = 0; i < a->nrecords; i++)
		if (memcmp(a->records[i].addr, addr->a, n) == 0)
			return true;
	return false;
}

/* spf_hostname_ok - a PTR target we are willing to use for %{p} */
static bool
spf_hostname_ok(const char *s)
{
	size_t i, len = strlen(s);

	if (!spf_name_ok(s, len))
		return false;
	for (i = 0; i < len; i++)
		if (!spf_is_alnum((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '.' && s[i] != '_')
			return false;
	return true;
}

/*
 * spf_ptr_validate - the validated names of the client (RFC 7208 5.5):
 * PTR names whose A/AAAA records hold the client's address; DNS errors
 * skip a name. Done once per check.
 */
static void
spf_ptr_validate(struct spf_eval *ev)
{
	char rname[DNS_MAX_NAME + 1];
	struct dns_answer *ptr, *a;
	size_t i;
	unsigned type = ev->addr.family == AF_INET ? DNS_T_A : DNS_T_AAAA;

	ev->ptr_done = true;
	ev->pnames = xcalloc(SPF_MAX_PTR_NAMES, sizeof(*ev->pnames));
	spf_reverse_name(&ev->addr, rname, sizeof(rname));
	ptr = dns_lookup_since(ev->dns, rname, DNS_T_PTR, ev->deadline,
	    ev->since);
	for (i = 0; ptr->status == DNS_OK && i < ptr->nrecords &&
	    i < SPF_MAX_PTR_NAMES; i++) {
		const char *name = ptr->records[i].text;

		if (name == NULL || !spf_hostname_ok(name))
			continue;
		a = dns_lookup_since(ev->dns, name, type, ev->deadline,
		    ev->since);
		if (spf_addr_in(&ev->addr, a))
			spf_copy(ev->pnames[ev->npnames++], DNS_MAX_NAME + 1,
			    name);
		dns_answer_free(a);
	}
	dns_answer_free(ptr);
}

/* spf_in_domain - is name the domain dom or below it? */
static bool
spf_in_domain(const char *name, const char *dom)
{
	size_t nl = strlen(name), dl = strlen(dom);

	if (dl > 0 && dom[dl - 1] == '.')
		dl--;
	if (dl == 0 || nl < dl)
		return false;
	if (strncasecmp(name + nl - dl, dom, dl) != 0)
		return false;
	return nl == dl || name[nl - dl - 1] == '.';
}

/*
 * spf_client_domain - %{p}: a validated name of the client, one in the
 * current domain when there is one, else the first, else "unknown"
 */
static const char *
spf_client_domain(struct spf_eval *ev, const char *cur)
{
	size_t i;

	if (!ev->ptr_done)
		spf_ptr_validate(ev);
	for (i = 0; i < ev->npnames; i++)
		if (spf_in_domain(ev->pnames[i], cur))
			return ev->pnames[i];
	return ev->npnames > 0 ? ev->pnames[0] : SPF_UNKNOWN;
}

/* spf_macro_value - the value of one macro letter */
static const char *
spf_macro_value(struct spf_eval *ev, int letter, const char *cur, char *tmp,
    size_t tmplen)
{
	switch (spf_lower(letter)) {
	case 's':
		return ev->sender;
	case 'l':
		return ev->local;
	case 'o':
		return ev->domain;
	case 'd':
		return cur;
	case 'i':
		spf_ip_dotted(&ev->addr, tmp, tmplen);
		return tmp;
	case 'p':
		return spf_client_domain(ev, cur);
	case 'v':
		return ev->addr.family == AF_INET ? "in-addr" : "ip6";
	case 'h':
		return ev->helo;
	case 'c':
		spf_ip_pretty(&ev->addr, tmp, tmplen);
		return tmp;
	case 'r':
		return ev->receiver[0] != '\0' ? ev->receiver : SPF_UNKNOWN;
	case 't':
		snprintf(tmp, tmplen, "%lld", (long long)time(NULL));
		return tmp;
	default:
		return "";
	}
}

/* spf_url_encode - append s, escaping all but RFC 3986 unreserved bytes */
static void
spf_url_encode(struct buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (spf_is_alnum(c) || c == '-' || c == '.' || c == '_' ||
		    c == '~') {
			buf_putc(out, (char)c);
			continue;
		}
		buf_putc(out, '%');
		buf_putc(out, hex[c >> 4]);
		buf_putc(out, hex[c & 0xf]);
	}
}

/*
 * spf_expand_one - one "%{...}" at s (validated): split the value on the
 * delimiters, reverse, keep the right-hand parts, join with ".", URL
 * encode for an upper-case letter; returns the bytes consumed
 */
static size_t
spf_expand_one(struct spf_eval *ev, const char *s, const char *cur,
    struct buf *out)
{
	struct {
		const char	*p;
		size_t		 len;
	} parts[SPF_MAX_VALUE];
	char tmp[SPF_ADDR_TEXT], delims[sizeof(SPF_DELIMS)];
	const char *val, *q;
	size_t i = 2, nparts = 0, keep = 0, nd = 0, first, vlen, k;
	int letter = (unsigned char)s[i++];
	bool rev = false;
	struct buf joined;

	while (spf_is_digit((unsigned char)s[i])) {
		if (keep < SPF_MAX_VALUE)
			keep = keep * 10 + (size_t)(s[i] - '0');
		i++;
	}
	if (s[i] == 'r' || s[i] == 'R') {
		rev = true;
		i++;
	}
	while (s[i] != '}') {
		if (memchr(delims, s[i], nd) == NULL)
			delims[nd++] = s[i];
		i++;
	}
	i++;
	if (nd == 0)
		delims[nd++] = '.';
	val = spf_macro_value(ev, letter, cur, tmp, sizeof(tmp));
	vlen = strnlen(val, SPF_MAX_VALUE - 1);
	/* split */
	q = val;
	for (k = 0; k <= vlen; k++) {
		if (k == vlen || memchr(delims, val[k], nd) != NULL) {
			parts[nparts].p = q;
			parts[nparts].len = (size_t)(val + k - q);
			nparts++;
			q = val + k + 1;
		}
	}
	if (rev) {
		for (k = 0; k < nparts / 2; k++) {
			const char *tp = parts[k].p;
			size_t tl = parts[k].len;

			parts[k] = parts[nparts - 1 - k];
			parts[nparts - 1 - k].p = tp;
			parts[nparts - 1 - k].len = tl;
		}
	}
	first = (keep > 0 && keep < nparts) ? nparts - keep : 0;
	buf_init(&joined);
	for (k = first; k < nparts; k++) {
		if (k > first)
			buf_putc(&joined, '.');
		buf_append(&joined, parts[k].p, parts[k].len);
	}
	if (letter >= 'A' && letter <= 'Z')
		spf_url_encode(out, joined.data != NULL ? joined.data : "",
		    joined.len);
	else if (joined.len > 0)
		buf_append(out, joined.data, joined.len);
	buf_free(&joined);
	return i;
}

/*
 * spf_expand - expand a validated macro-string into out; cur is %{d}.
 * False when the result would exceed SPF_MAX_EXPAND bytes.
 */
static bool
spf_expand(struct spf_eval *ev, const char *s, size_t len, const char *cur,
    struct buf *out)
{
	size_t i = 0;

	buf_reset(out);
	while (i < len) {
		if (out->len > SPF_MAX_EXPAND)
			return false;
		if (s[i] != '%') {
			buf_putc(out, s[i++]);
			continue;
		}
		switch (s[i + 1]) {
		case '%':
			buf_putc(out, '%');
			i += 2;
			break;
		case '_':
			buf_putc(out, ' ');
			i += 2;
			break;
		case '-':
			buf_puts(out, "%20");
			i += 2;
			break;
		default:
			i += spf_expand_one(ev, s + i, cur, out);
			break;
		}
	}
	return out->len <= SPF_MAX_EXPAND;
}

/*
 * spf_expand_domain - expand a domain-spec for a DNS name: one trailing
 * dot removed, then labels cut from the left until it fits 253 bytes
 * (RFC 7208 7.3). Leaves "" when no usable name results.
 */
static void
spf_expand_domain(struct spf_eval *ev, const char *s, size_t len,
    const char *cur, struct buf *out)
{
	size_t skip = 0;
	char *dot;

	if (!spf_expand(ev, s, len, cur, out)) {
		buf_reset(out);
		return;
	}
	if (out->len > 0 && out->data[out->len - 1] == '.')
		out->data[--out->len] = '\0';
	while (out->len - skip > DNS_MAX_NAME) {
		dot = memchr(out->data + skip, '.', out->len - skip);
		if (dot == NULL) {
			buf_reset(out);
			return;
		}
		skip = (size_t)(dot - out->data) + 1;
	}
	if (skip > 0) {
		memmove(out->data, out->data + skip, out->len - skip + 1);
		out->len -= skip;
	}
}

/* ---------------------------------------------------------------------
 * The rewrite for libspf2
 */

/* spf_emit_literal - append text as a libspf2 macro-string literal */
static void
spf_emit_literal(struct buf *b, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] == '%')
			buf_puts(b, "%%");
		else if (s[i] == ' ')
			buf_puts(b, "%_");
		else
			buf_putc(b, s[i]);
	}
}

/* spf_emit_tag - the tag that marks a term's name for the layer */
static void
spf_emit_tag(struct buf *b, unsigned flags)
{
	buf_putc(b, SPF_TAG_CHAR);
	buf_putc(b, (char)(SPF_TAG_BASE + flags));
}

/* spf_lit_cost - what libspf2 spends on a literal of len bytes */
static size_t
spf_lit_cost(size_t len)
{
	return 4 + ((len + 7) & ~(size_t)7);
}

/*
 * spf_emit_term - append one mechanism in canonical form; returns its
 * estimated compiled size and adds the mechanisms emitted to *nmech
 */
static size_t
spf_emit_term(struct spf_eval *ev, const struct spf_term *t, const char *cur,
    struct buf *b, int *nmech)
{
	struct buf name;
	unsigned flags = 0;
	char addr[SPF_ADDR_TEXT];
	size_t cost = 4;
	static const char *const kw[] = {
		[SPF_K_ALL] = "all", [SPF_K_INCLUDE] = "include",
		[SPF_K_A] = "a", [SPF_K_MX] = "mx", [SPF_K_PTR] = "ptr",
		[SPF_K_IP4] = "ip4", [SPF_K_IP6] = "ip6",
		[SPF_K_EXISTS] = "exists",
	};

	buf_putc(b, ' ');
	switch (t->kind) {
	case SPF_K_ALL:
		buf_printf(b, "%call", t->qual);
		(*nmech)++;
		return cost;
	case SPF_K_IP4:
	case SPF_K_IP6:
		if ((t->kind == SPF_K_IP4 ? t->cidr4 : t->cidr6) == 0) {
			/* libspf2 has no /0: two halves of the space */
			if (t->kind == SPF_K_IP4)
				buf_printf(b, "%cip4:0.0.0.0/1 "
				    "%cip4:128.0.0.0/1", t->qual, t->qual);
			else
				buf_printf(b, "%cip6:::/1 %cip6:8000::/1",
				    t->qual, t->qual);
			*nmech += 2;
			return 2 * (cost + 16);
		}
		inet_ntop(t->kind == SPF_K_IP4 ? AF_INET : AF_INET6, t->ip,
		    addr, sizeof(addr));
		buf_printf(b, "%c%s:%s", t->qual, kw[t->kind], addr);
		if (t->kind == SPF_K_IP4 && t->cidr4 > 0)
			buf_printf(b, "/%d", t->cidr4);
		if (t->kind == SPF_K_IP6 && t->cidr6 > 0)
			buf_printf(b, "/%d", t->cidr6);
		(*nmech)++;
		return cost + 16;
	default:
		break;
	}
	buf_init(&name);
	if (t->arg != NULL)
		spf_expand_domain(ev, t->arg, t->arglen, cur, &name);
	else
		buf_puts(&name, cur);
	buf_printf(b, "%c%s:", t->qual, kw[t->kind]);
	spf_emit_literal(b, name.data != NULL ? name.data : "", name.len);
	cost += spf_lit_cost(name.len + SPF_TAG_LEN) + 8;
	if (t->kind == SPF_K_PTR) {
		if (name.len == 0)
			buf_putc(b, SPF_TAG_CHAR);	/* matches no name */
	} else {
		if (t->cidr4 == 0)
			flags |= SPF_ZERO4;
		if (t->cidr6 == 0)
			flags |= SPF_ZERO6;
		spf_emit_tag(b, flags);
	}
	if (t->kind == SPF_K_A || t->kind == SPF_K_MX)
		buf_printf(b, "/%d//%d", t->cidr4 > 0 ? t->cidr4 : 32,
		    t->cidr6 > 0 ? t->cidr6 : 128);
	buf_free(&name);
	(*nmech)++;
	return cost;
}

/*
 * spf_chunk_add - store one piece; returns its index or -1 when there are
 * too many
 */
static int
spf_chunk_add(struct spf_eval *ev, struct buf *text, const char *domain,
    int nmech, int nmod)
{
	struct spf_chunk *c;

	if (ev->nchunks >= SPF_MAX_CHUNKS)
		return -1;
	ev->chunks = xrealloc(ev->chunks,
	    (ev->nchunks + 1) * sizeof(*ev->chunks));
	c = &ev->chunks[ev->nchunks];
	c->text = buf_steal(text);
	spf_copy(c->domain, sizeof(c->domain), domain);
	c->nmech = nmech;
	c->nmod = nmod;
	return (int)ev->nchunks++;
}

/*
 * spf_rewrite - the canonical, macro-free form of a parsed record of
 * domain, stored as one or more pieces; returns the index of the first
 * or -1 when it does not fit SPF_MAX_CHUNKS
 */
static int
spf_rewrite(struct spf_eval *ev, const struct spf_parsed *p,
    const char *domain)
{
	struct buf b, tail, name;
	size_t i, used = 0, cost;
	int nmech = 0, nmod = 0, first = -1, idx, tailmech = 0;

	/* the modifiers every piece ends with */
	buf_init(&tail);
	buf_init(&name);
	if (p->exp >= 0) {
		const struct spf_term *t = &p->terms[p->exp];

		spf_expand_domain(ev, t->arg, t->arglen, domain, &name);
		if (name.len > 0) {
			buf_puts(&tail, " exp=");
			spf_emit_literal(&tail, name.data, name.len);
			nmod = 1;
		}
	}
	buf_init(&b);
	buf_puts(&b, SPF_V1);
	for (i = 0; i < p->n; i++) {
		const struct spf_term *t = &p->terms[i];
		struct buf piece;
		int n = 0;

		if (t->kind == SPF_K_REDIRECT || t->kind == SPF_K_EXP ||
		    t->kind == SPF_K_UNKNOWN)
			continue;
		buf_init(&piece);
		cost = spf_emit_term(ev, t, domain, &piece, &n);
		if (used > 0 && used + cost > SPF_CHUNK_BUDGET) {
			/* close this piece with a redirect to the next */
			buf_append(&b, tail.data, tail.len);
			buf_printf(&b, " redirect=%c%c%zu", SPF_TAG_CHAR,
			    SPF_PIECE_CHAR, ev->nchunks + 1);
			idx = spf_chunk_add(ev, &b, domain, nmech + 1, nmod);
			if (idx < 0 || ev->nchunks >= SPF_MAX_CHUNKS) {
				buf_free(&piece);
				first = -1;
				goto out;
			}
			if (first < 0)
				first = idx;
			buf_puts(&b, SPF_V1);
			used = 0;
			nmech = 0;
		}
		buf_append(&b, piece.data, piece.len);
		buf_free(&piece);
		used += cost;
		nmech += n;
	}
	buf_append(&b, tail.data, tail.len);
	if (p->redirect >= 0 && !p->has_all) {
		const struct spf_term *t = &p->terms[p->redirect];

		spf_expand_domain(ev, t->arg, t->arglen, domain, &name);
		buf_puts(&b, " redirect=");
		spf_emit_literal(&b, name.data != NULL ? name.data : "",
		    name.len);
		spf_emit_tag(&b, 0);
		tailmech = 1;
	}
	idx = spf_chunk_add(ev, &b, domain, nmech + tailmech, nmod);
	if (first < 0)
		first = idx;
out:
	buf_free(&b);
	buf_free(&tail);
	buf_free(&name);
	return first;
}

/*
 * spf_chunk_compile - compile one stored piece; NULL when libspf2 refuses
 * it or keeps fewer terms than it was given
 */
static SPF_record_t *
spf_chunk_compile(struct spf_eval *ev, size_t idx)
{
	const struct spf_chunk *c;
	SPF_response_t *resp;
	SPF_record_t *rec = NULL;
	SPF_errcode_t err;

	if (idx >= ev->nchunks)
		return NULL;
	c = &ev->chunks[idx];
	if ((resp = SPF_response_new(ev->sreq)) == NULL)
		abort();
	err = SPF_record_compile(ev->server, resp, &rec, c->text);
	SPF_response_free(resp);
	if (err != SPF_E_SUCCESS || rec == NULL || rec->num_mech != c->nmech ||
	    rec->num_mod != c->nmod) {
		if (rec != NULL)
			SPF_record_free(rec);
		return NULL;
	}
	return rec;
}

/* ---------------------------------------------------------------------
 * Fetching records
 */

/* spf_force - a limit or rule was broken: the result is permerror */
static void
spf_force(struct spf_eval *ev, const char *why)
{
	if (ev->forced)
		return;
	ev->forced = true;
	spf_copy(ev->why, sizeof(ev->why), why);
	trace_line(ev->trace, "spf", "%s: permerror, nothing more is asked",
	    why);
}

/* spf_count_term - one more DNS-querying term; false past the limit */
static bool
spf_count_term(struct spf_eval *ev)
{
	if (ev->forced)
		return false;
	trace_line(ev->trace, "spf", "DNS-querying term %u (limit %d)",
	    ev->terms + 1, SPF_MAX_DNS_MECH);
	if (++ev->terms > SPF_MAX_DNS_MECH) {
		spf_force(ev, "more than 10 DNS-querying terms");
		return false;
	}
	return true;
}

/* spf_count_void - one more void lookup; forces permerror past the limit */
static void
spf_count_void(struct spf_eval *ev)
{
	trace_line(ev->trace, "spf", "void lookup %u (limit %d)",
	    ev->voids + 1, SPF_MAX_VOID);
	if (++ev->voids > SPF_MAX_VOID)
		spf_force(ev, "more than 2 void lookups");
}

/*
 * spf_record_get - fetch, select, check and rewrite the record of name;
 * on SPF_FETCH_OK *recp is the compiled first piece
 */
static enum spf_fetch
spf_record_get(struct spf_eval *ev, const char *name, bool count_void,
    SPF_record_t **recp, char *why, size_t whylen)
{
	struct dns_answer *a;
	const struct dns_record *pick = NULL;
	struct spf_parsed p;
	size_t i, n = 0, len = strlen(name);
	enum spf_fetch rc;
	char dom[DNS_MAX_NAME + 1];
	int first;

	*recp = NULL;
	if (len > 0 && name[len - 1] == '.')
		len--;
	if (!spf_name_ok(name, len)) {
		spf_say(why, whylen, "malformed domain");
		return SPF_FETCH_NONE;
	}
	memcpy(dom, name, len);
	dom[len] = '\0';
	a = dns_lookup_since(ev->dns, dom, DNS_T_TXT, ev->deadline,
	    ev->since);
	switch (a->status) {
	case DNS_OK:
		break;
	case DNS_NODATA:
	case DNS_NXDOMAIN:
		if (count_void)
			spf_count_void(ev);
		/* FALLTHROUGH */
	case DNS_BADNAME:
		spf_say(why, whylen, "no SPF record for %s (%s)", dom,
		    dns_status_name(a->status));
		dns_answer_free(a);
		return SPF_FETCH_NONE;
	default:
		spf_say(why, whylen, "DNS %s for %s TXT",
		    dns_status_name(a->status), dom);
		dns_answer_free(a);
		return SPF_FETCH_TEMP;
	}
	for (i = 0; i < a->nrecords; i++) {
		const struct dns_record *r = &a->records[i];

		if (r->text != NULL && spf_is_v1(r->text, r->len)) {
			pick = r;
			n++;
		}
	}
	if (n == 0) {
		spf_say(why, whylen, "no SPF record for %s", dom);
		dns_answer_free(a);
		return SPF_FETCH_NONE;
	}
	if (n > 1) {
		spf_say(why, whylen, "%zu SPF records for %s", n, dom);
		dns_answer_free(a);
		return SPF_FETCH_PERM;
	}
	trace_line(ev->trace, "spf", "record of %s: %.*s", dom,
	    (int)(pick->len > SPF_TRACE_MAX ? SPF_TRACE_MAX : pick->len),
	    pick->text);
	if (!spf_parse(pick->text, pick->len, &p, why, whylen)) {
		rc = SPF_FETCH_PERM;
	} else if ((first = spf_rewrite(ev, &p, dom)) < 0) {
		spf_say(why, whylen, "record of %s too long", dom);
		rc = SPF_FETCH_PERM;
	} else if ((*recp = spf_chunk_compile(ev, (size_t)first)) == NULL) {
		spf_say(why, whylen, "libspf2 refused the record of %s", dom);
		rc = SPF_FETCH_PERM;
	} else
		rc = SPF_FETCH_OK;
	free(p.terms);
	dns_answer_free(a);
	return rc;
}

/* ---------------------------------------------------------------------
 * The DNS layer under libspf2
 */

/* spf_eval_of - our state behind a libspf2 server */
static struct spf_eval *
spf_eval_of(SPF_server_t *server)
{
	return server->resolver->hook;
}

/*
 * spf_untag - split the tag off name (copied to out, final dot removed);
 * returns the tag flags, or -1 when there is no tag
 */
static int
spf_untag(const char *name, char *out, size_t outlen)
{
	size_t len = strlen(name);
	int flags = -1;

	if (len >= SPF_TAG_LEN && name[len - SPF_TAG_LEN] == SPF_TAG_CHAR) {
		flags = name[len - 1] - SPF_TAG_BASE;
		len -= SPF_TAG_LEN;
	}
	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len >= outlen)
		len = 0;	/* too long: an invalid (empty) name */
	memcpy(out, name, len);
	out[len] = '\0';
	return flags;
}

/* spf_rr_new - an empty libspf2 answer */
static SPF_dns_rr_t *
spf_rr_new(SPF_dns_server_t *layer, const char *domain, ns_type type,
    SPF_dns_stat_t herrno)
{
	SPF_dns_rr_t *rr;

	rr = SPF_dns_rr_new_init(layer, domain, type, 0, herrno);
	if (rr == NULL) {
		log_err("spf: out of memory");
		abort();
	}
	return rr;
}

/* spf_rr_put - room for record idx of size bytes in a libspf2 answer */
static SPF_dns_rr_data_t *
spf_rr_put(SPF_dns_rr_t *rr, int idx, size_t size)
{
	if (SPF_dns_rr_buf_realloc(rr, idx, size) != SPF_E_SUCCESS) {
		log_err("spf: out of memory");
		abort();
	}
	return rr->rr[idx];
}

/*
 * spf_rr_from - a libspf2 answer from ours; when subst, one address of
 * the answer is replaced by the client's (a prefix length of 0)
 */
static SPF_dns_rr_t *
spf_rr_from(struct spf_eval *ev, const char *domain, ns_type type,
    const struct dns_answer *a, size_t max, bool subst)
{
	SPF_dns_rr_t *rr;
	SPF_dns_stat_t herrno;
	size_t i, n = a->status == DNS_OK ? a->nrecords : 0;

	switch (a->status) {
	case DNS_OK:
		herrno = n > 0 ? NETDB_SUCCESS : NO_DATA;
		break;
	case DNS_NODATA:
		herrno = NO_DATA;
		break;
	case DNS_NXDOMAIN:
	case DNS_BADNAME:
		herrno = HOST_NOT_FOUND;
		break;
	default:
		herrno = TRY_AGAIN;
		break;
	}
	rr = spf_rr_new(ev->server->resolver, domain, type, herrno);
	if (n > max)
		n = max;
	if (subst && n > 0)
		n = 1;
	for (i = 0; i < n; i++) {
		const struct dns_record *r = &a->records[i];
		SPF_dns_rr_data_t *d;
		size_t tl;

		switch (type) {
		case ns_t_a:
			d = spf_rr_put(rr, (int)i, sizeof(*d));
			memcpy(&d->a, subst ? ev->addr.a : r->addr, 4);
			break;
		case ns_t_aaaa:
			d = spf_rr_put(rr, (int)i, sizeof(*d));
			memcpy(&d->aaaa, subst ? ev->addr.a : r->addr, 16);
			break;
		case ns_t_mx:
		case ns_t_ptr:
		case ns_t_txt:
			tl = r->text != NULL ? strlen(r->text) : 0;
			d = spf_rr_put(rr, (int)i, tl + 1);
			memcpy(d->txt, r->text != NULL ? r->text : "", tl);
			d->txt[tl] = '\0';
			break;
		default:
			break;
		}
	}
	rr->num_rr = (int)n;
	rr->ttl = a->ttl;
	return rr;
}

/* spf_layer_lookup - libspf2's lookups, answered from dns.c */
static SPF_dns_rr_t *
spf_layer_lookup(SPF_dns_server_t *layer, const char *domain, ns_type type,
    int should_cache)
{
	struct spf_eval *ev = layer->hook;
	char name[DNS_MAX_NAME + 1];
	struct dns_answer *a;
	SPF_dns_rr_t *rr;
	unsigned qtype, zero = 0;
	int tag;
	bool primary, ptr_follow = false, subst = false;
	size_t max = DNS_MAX_RECORDS;

	(void)should_cache;
	if (ev->forced)
		return spf_rr_new(layer, domain, type, HOST_NOT_FOUND);
	tag = spf_untag(domain, name, sizeof(name));
	switch (type) {
	case ns_t_ptr:
		qtype = DNS_T_PTR;
		primary = true;
		ev->follow = SPF_FOLLOW_PTR;
		max = SPF_MAX_PTR_NAMES;
		break;
	case ns_t_mx:
		qtype = DNS_T_MX;
		primary = true;
		ev->follow = SPF_FOLLOW_MX;
		ev->follow_zero = tag > 0 ? (unsigned)tag : 0;
		break;
	case ns_t_a:
	case ns_t_aaaa:
		qtype = type == ns_t_a ? DNS_T_A : DNS_T_AAAA;
		primary = tag >= 0;
		if (primary) {
			ev->follow = SPF_FOLLOW_NONE;
			zero = (unsigned)tag;
		} else if (ev->follow == SPF_FOLLOW_MX)
			zero = ev->follow_zero;
		else if (ev->follow == SPF_FOLLOW_PTR)
			ptr_follow = true;
		break;
	case ns_t_txt:
		qtype = DNS_T_TXT;
		primary = false;
		break;
	default:
		return spf_rr_new(layer, domain, type, HOST_NOT_FOUND);
	}
	if (primary && !spf_count_term(ev))
		return spf_rr_new(layer, domain, type, HOST_NOT_FOUND);
	if (!spf_name_ok(name, strlen(name)))
		return spf_rr_new(layer, domain, type, HOST_NOT_FOUND);
	a = dns_lookup_since(ev->dns, name, qtype, ev->deadline,
	    ev->since);
	if (ptr_follow && a->status != DNS_OK && a->status != DNS_NODATA &&
	    a->status != DNS_NXDOMAIN) {
		/* RFC 7208 5.5: a DNS error skips this name */
		dns_answer_free(a);
		return spf_rr_new(layer, domain, type, NO_DATA);
	}
	if (a->status == DNS_NODATA || a->status == DNS_NXDOMAIN ||
	    (a->status == DNS_OK && a->nrecords == 0))
		spf_count_void(ev);
	if (type == ns_t_mx && a->status == DNS_OK &&
	    a->nrecords > SPF_MAX_MX_NAMES) {
		spf_force(ev, "more than 10 MX names");
		dns_answer_free(a);
		return spf_rr_new(layer, domain, type, HOST_NOT_FOUND);
	}
	if (ev->forced) {
		dns_answer_free(a);
		return spf_rr_new(layer, domain, type, HOST_NOT_FOUND);
	}
	if (a->status == DNS_OK && a->nrecords > 0) {
		if (type == ns_t_a && ev->addr.family == AF_INET &&
		    (zero & SPF_ZERO4))
			subst = true;
		if (type == ns_t_aaaa && ev->addr.family == AF_INET6 &&
		    (zero & SPF_ZERO6))
			subst = true;
	}
	rr = spf_rr_from(ev, domain, type, a, max, subst);
	dns_answer_free(a);
	return rr;
}

/* spf_layer_get_spf - the record of an include: or redirect= target */
static SPF_errcode_t
spf_layer_get_spf(SPF_server_t *server, SPF_request_t *sreq,
    SPF_response_t *resp, SPF_record_t **recp)
{
	struct spf_eval *ev = spf_eval_of(server);
	const char *dom = sreq->cur_dom;
	char name[DNS_MAX_NAME + 1], why[128];
	char *end;
	unsigned long idx;

	(void)resp;
	*recp = NULL;
	if (ev->forced)
		return SPF_E_SYNTAX;
	if (dom != NULL && dom[0] == SPF_TAG_CHAR && dom[1] == SPF_PIECE_CHAR) {
		/* the next piece of a record we cut */
		idx = strtoul(dom + 2, &end, 10);
		if (*end != '\0' || (*recp = spf_chunk_compile(ev, idx)) ==
		    NULL) {
			spf_force(ev, "internal record piece lost");
			return SPF_E_SYNTAX;
		}
		return SPF_E_SUCCESS;
	}
	if (dom == NULL || !spf_count_term(ev))
		return SPF_E_SYNTAX;
	spf_untag(dom, name, sizeof(name));
	switch (spf_record_get(ev, name, true, recp, why, sizeof(why))) {
	case SPF_FETCH_OK:
		return SPF_E_SUCCESS;
	case SPF_FETCH_NONE:
		return SPF_E_NOT_SPF;
	case SPF_FETCH_TEMP:
		return SPF_E_DNS_ERROR;
	default:
		return SPF_E_SYNTAX;
	}
}

/* spf_current_domain - %{d} where libspf2 stands now */
static void
spf_current_domain(struct spf_eval *ev, char *out, size_t outlen)
{
	const char *cur = ev->sreq->cur_dom;
	unsigned long idx;

	if (cur == NULL) {
		spf_copy(out, outlen, ev->domain);
		return;
	}
	if (cur[0] == SPF_TAG_CHAR && cur[1] == SPF_PIECE_CHAR) {
		idx = strtoul(cur + 2, NULL, 10);
		spf_copy(out, outlen, idx < ev->nchunks ?
		    ev->chunks[idx].domain : ev->domain);
		return;
	}
	spf_untag(cur, out, outlen);
}

/*
 * spf_exp_text - the explanation at the exp= name (RFC 7208 6.2): exactly
 * one TXT record of visible ASCII with valid macros, expanded; false to
 * use the default
 */
static bool
spf_exp_text(struct spf_eval *ev, const char *expname, struct buf *out)
{
	char name[DNS_MAX_NAME + 1], cur[DNS_MAX_NAME + 1];
	struct dns_answer *a;
	const struct dns_record *r;
	size_t i;
	bool ok = false;

	spf_untag(expname, name, sizeof(name));
	if (ev->forced || !spf_name_ok(name, strlen(name)))
		return false;
	a = dns_lookup_since(ev->dns, name, DNS_T_TXT, ev->deadline,
	    ev->since);
	if (a->status != DNS_OK || a->nrecords != 1)
		goto out;
	r = &a->records[0];
	if (r->text == NULL || memchr(r->text, '\0', r->len) != NULL)
		goto out;
	for (i = 0; i < r->len; i++)
		if ((unsigned char)r->text[i] < 0x20 ||
		    (unsigned char)r->text[i] > 0x7e)
			goto out;
	if (!spf_macro_valid(r->text, r->len, true))
		goto out;
	spf_current_domain(ev, cur, sizeof(cur));
	ok = spf_expand(ev, r->text, r->len, cur, out);
out:
	dns_answer_free(a);
	return ok;
}

/* spf_layer_get_exp - libspf2 asks for the text at an exp= name */
static SPF_errcode_t
spf_layer_get_exp(SPF_server_t *server, const char *domain, char **bufp,
    size_t *buflenp)
{
	struct spf_eval *ev = spf_eval_of(server);
	struct buf text;
	const char *s;
	size_t len;

	buf_init(&text);
	if (spf_exp_text(ev, domain, &text) && text.len > 0) {
		s = text.data;
		len = text.len;
		if (len > SPF_MAX_EXPLANATION)
			len = SPF_MAX_EXPLANATION;
	} else {
		s = SPF_EXP_DEFAULT;
		len = strlen(s);
	}
	if (*bufp == NULL || *buflenp < len + 1) {
		char *p = realloc(*bufp, len + 1);

		if (p == NULL) {
			log_err("spf: out of memory");
			abort();
		}
		*bufp = p;
		*buflenp = len + 1;
	}
	memcpy(*bufp, s, len);
	(*bufp)[len] = '\0';
	buf_free(&text);
	return SPF_E_SUCCESS;
}

/* ---------------------------------------------------------------------
 * check_host()
 */

/* spf_result_from - our result for libspf2's */
static enum spf_result
spf_result_from(SPF_result_t r)
{
	switch (r) {
	case LIBSPF2_RESULT_PASS:
		return SPF_RESULT_PASS;
	case LIBSPF2_RESULT_FAIL:
		return SPF_RESULT_FAIL;
	case LIBSPF2_RESULT_SOFTFAIL:
		return SPF_RESULT_SOFTFAIL;
	case LIBSPF2_RESULT_NEUTRAL:
		return SPF_RESULT_NEUTRAL;
	case LIBSPF2_RESULT_NONE:
		return SPF_RESULT_NONE;
	case LIBSPF2_RESULT_TEMPERROR:
		return SPF_RESULT_TEMPERROR;
	default:
		return SPF_RESULT_PERMERROR;
	}
}

/*
 * The libspf2 server of a thread. Making one costs a gethostname() (a
 * uname system call) and the compiling of libspf2's default explanation
 * and local policy, and a message has two checks, so each thread keeps
 * one server from its first check until it ends. libspf2 only reads a
 * server while it evaluates (its README calls a server reusable and
 * thread-safe), and a thread runs one check at a time: each check points
 * the layer at its own state and sets %{r}.
 */
struct spf_thread {
	SPF_dns_server_t	 layer;		/* hook: the check running */
	SPF_server_t		*server;
};

static pthread_once_t spf_thread_once = PTHREAD_ONCE_INIT;
static pthread_key_t spf_thread_key;

/* spf_thread_free - a thread's server, when the thread ends */
static void
spf_thread_free(void *arg)
{
	struct spf_thread *t = arg;

	/* destroy stays NULL: SPF_server_free() leaves the layer to us */
	SPF_server_free(t->server);
	free(t);
}

/* spf_thread_key_make - the key of the threads' servers, made once */
static void
spf_thread_key_make(void)
{
	if (pthread_key_create(&spf_thread_key, spf_thread_free) != 0) {
		log_err("spf: cannot make a thread key");
		abort();
	}
}

/* spf_thread_new - the server of this thread, over our DNS layer */
static struct spf_thread *
spf_thread_new(void)
{
	struct spf_thread *t = xcalloc(1, sizeof(*t));
	SPF_response_t *resp = NULL;

	t->layer.lookup = spf_layer_lookup;
	t->layer.get_spf = spf_layer_get_spf;
	t->layer.get_exp = spf_layer_get_exp;
	t->layer.name = "authmilter";
	if ((t->server = SPF_server_new_dns(&t->layer, 0)) == NULL) {
		log_err("spf: out of memory");
		abort();
	}
	if (SPF_server_set_explanation(t->server, SPF_EXP_DEFAULT, &resp) !=
	    SPF_E_SUCCESS)
		log_warn("spf: libspf2 refused the default explanation");
	if (resp != NULL)
		SPF_response_free(resp);
	SPF_server_set_max_dns_mech(t->server, SPF_LIB_MAX_MECH);
	SPF_server_set_max_dns_mx(t->server, SPF_MAX_MX_NAMES);
	SPF_server_set_max_dns_ptr(t->server, SPF_MAX_PTR_NAMES);
	if (pthread_setspecific(spf_thread_key, t) != 0) {
		log_err("spf: cannot keep the thread's server");
		abort();
	}
	return t;
}

/* spf_thread_server - this thread's server, its layer pointing at ev */
static SPF_server_t *
spf_thread_server(struct spf_eval *ev, const char *receiver)
{
	struct spf_thread *t;

	pthread_once(&spf_thread_once, spf_thread_key_make);
	if ((t = pthread_getspecific(spf_thread_key)) == NULL)
		t = spf_thread_new();
	t->layer.hook = ev;
	SPF_server_set_rec_dom(t->server, receiver);
	return t->server;
}

/* spf_eval_new - state for one check, with libspf2's server and request */
static struct spf_eval *
spf_eval_new(struct dns_service *dns, const struct spf_request *req)
{
	struct spf_eval *ev = xcalloc(1, sizeof(*ev));

	ev->dns = dns;
	ev->deadline = req->deadline;
	ev->since = req->since;
	ev->trace = req->trace;
	ev->server = spf_thread_server(ev, req->receiver != NULL &&
	    req->receiver[0] != '\0' ? req->receiver : SPF_UNKNOWN);
	if ((ev->sreq = SPF_request_new(ev->server)) == NULL) {
		log_err("spf: out of memory");
		abort();
	}
	if (req->receiver != NULL)
		spf_copy(ev->receiver, sizeof(ev->receiver), req->receiver);
	return ev;
}

/* spf_eval_free - everything of one check; the server stays the thread's */
static void
spf_eval_free(struct spf_eval *ev)
{
	size_t i;

	for (i = 0; i < ev->nchunks; i++)
		free(ev->chunks[i].text);
	free(ev->chunks);
	free(ev->pnames);
	SPF_request_free(ev->sreq);
	ev->server->resolver->hook = NULL;
	free(ev);
}

/* spf_default_explanation - our default text, expanded here */
static void
spf_default_explanation(struct spf_eval *ev, struct spf_outcome *out)
{
	struct buf b;

	buf_init(&b);
	if (spf_expand(ev, SPF_EXP_LOCAL, strlen(SPF_EXP_LOCAL),
	    ev->domain, &b) && b.data != NULL)
		snprintf(out->explanation, sizeof(out->explanation), "%s",
		    b.data);
	buf_free(&b);
}

/*
 * spf_printable - make an explanation safe for an SMTP reply: macros may
 * bring 8-bit bytes (a UTF-8 local-part); they become '?'
 */
static void
spf_printable(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

/* spf_visible - a HELO name fit for %{h}: no control bytes */
static bool
spf_visible(const char *s)
{
	if (s == NULL)
		return false;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/*
 * spf_eval_identity - the macro values of one check: the client, the
 * local-part, the domain (validated by the caller; one final dot is
 * dropped), the sender made of them, the HELO name when it is visible
 */
static void
spf_eval_identity(struct spf_eval *ev, const struct spf_addr *addr,
    const char *local, const char *domain, const char *helo)
{
	size_t len;

	ev->addr = *addr;
	spf_copy(ev->local, sizeof(ev->local), local);
	len = strlen(domain);
	if (domain[len - 1] == '.')
		len--;
	memcpy(ev->domain, domain, len);
	ev->domain[len] = '\0';
	snprintf(ev->sender, sizeof(ev->sender), "%s@%s", ev->local,
	    ev->domain);
	if (spf_visible(helo))
		spf_copy(ev->helo, sizeof(ev->helo), helo);
}

/*
 * spf_check_host - check_host(ip, domain, local@domain) with the HELO
 * name for %{h}; fills out->result, reason and explanation
 */
static void
spf_check_host(struct dns_service *dns, const struct spf_request *req,
    const char *local, const char *domain, struct spf_outcome *out)
{
	struct spf_eval *ev;
	struct spf_addr addr;
	struct in_addr in4;
	struct in6_addr in6;
	SPF_record_t *rec = NULL;
	SPF_response_t *resp;
	char why[sizeof(out->reason)] = "";

	if (!spf_addr_parse(req->client_ip, &addr)) {
		out->result = SPF_RESULT_PERMERROR;
		spf_say(out->reason, sizeof(out->reason),
		    "bad client address");
		return;
	}
	if (!spf_domain_valid(domain)) {
		out->result = SPF_RESULT_NONE;
		spf_say(out->reason, sizeof(out->reason),
		    "malformed domain");
		return;
	}
	if (strlen(local) > SPF_MAX_LOCAL) {
		out->result = SPF_RESULT_PERMERROR;
		spf_say(out->reason, sizeof(out->reason),
		    "local-part too long");
		return;
	}
	ev = spf_eval_new(dns, req);
	spf_eval_identity(ev, &addr, local, domain, req->helo);
	if (addr.family == AF_INET) {
		memcpy(&in4, addr.a, sizeof(in4));
		SPF_request_set_ipv4(ev->sreq, in4);
	} else {
		memcpy(&in6, addr.a, sizeof(in6));
		SPF_request_set_ipv6(ev->sreq, in6);
	}
	SPF_request_set_env_from(ev->sreq, ev->sender);
	if (ev->helo[0] != '\0')
		SPF_request_set_helo_dom(ev->sreq, ev->helo);
	trace_line(ev->trace, "spf", "check_host(%s, %s, %s)",
	    req->client_ip, ev->domain, ev->sender);

	switch (spf_record_get(ev, ev->domain, false, &rec, why,
	    sizeof(why))) {
	case SPF_FETCH_OK:
		break;
	case SPF_FETCH_NONE:
		out->result = SPF_RESULT_NONE;
		goto done;
	case SPF_FETCH_TEMP:
		out->result = SPF_RESULT_TEMPERROR;
		goto done;
	default:
		out->result = SPF_RESULT_PERMERROR;
		goto done;
	}
	if ((resp = SPF_response_new(ev->sreq)) == NULL) {
		log_err("spf: out of memory");
		abort();
	}
	resp->spf_record_exp = rec;
	ev->sreq->cur_dom = ev->domain;
	SPF_record_interpret(rec, ev->sreq, resp, 0);
	SPF_record_free(rec);
	out->result = spf_result_from(resp->result);
	if (ev->forced) {
		out->result = SPF_RESULT_PERMERROR;
		spf_copy(why, sizeof(why), ev->why);
	} else if (out->result == SPF_RESULT_FAIL) {
		if (resp->explanation != NULL &&
		    strcmp(resp->explanation, SPF_EXP_DEFAULT) != 0)
			snprintf(out->explanation, sizeof(out->explanation),
			    "%s", resp->explanation);
		else
			spf_default_explanation(ev, out);
	} else if (out->result == SPF_RESULT_PERMERROR ||
	    out->result == SPF_RESULT_TEMPERROR)
		spf_say(why, sizeof(why), "%s", SPF_strerror(resp->err));
	SPF_response_free(resp);
	spf_printable(out->explanation);
done:
	spf_copy(out->reason, sizeof(out->reason), why);
	trace_line(ev->trace, "spf", "%s: %s%s%s", ev->domain,
	    spf_result_name(out->result), why[0] ? ": " : "", why);
	spf_eval_free(ev);
}

/* spf_outcome_init - an empty outcome for the identity */
static void
spf_outcome_init(struct spf_outcome *out)
{
	memset(out, 0, sizeof(*out));
	out->result = SPF_RESULT_NONE;
}

/* spf_helo_usable - is the HELO argument a name we may check? */
static bool
spf_helo_usable(const char *helo)
{
	return helo != NULL && helo[0] != '\0' &&
	    strlen(helo) <= SPF_MAX_HELO && spf_domain_valid(helo);
}

/* spf_check_mailfrom - check_host() for MAIL FROM (or postmaster@HELO) */
void
spf_check_mailfrom(struct dns_service *dns, const struct spf_request *req,
    struct spf_outcome *out)
{
	const char *from = req->mail_from != NULL ? req->mail_from : "";
	const char *at;
	char local[SPF_MAX_LOCAL + 2];
	size_t llen;

	spf_outcome_init(out);
	if (from[0] == '\0') {
		/* RFC 7208 2.4: a null path is checked as postmaster@HELO */
		if (!spf_helo_usable(req->helo)) {
			spf_say(out->reason, sizeof(out->reason),
			    "null sender and no usable HELO name");
			if (req->helo != NULL)
				snprintf(out->domain, sizeof(out->domain),
				    "%s", req->helo);
			return;
		}
		spf_copy(out->domain, sizeof(out->domain), req->helo);
		snprintf(out->identity, sizeof(out->identity),
		    "postmaster@%s", req->helo);
		spf_check_host(dns, req, "postmaster", req->helo, out);
		return;
	}
	at = strrchr(from, '@');
	llen = at != NULL ? (size_t)(at - from) : 0;
	if (llen > SPF_MAX_LOCAL) {
		snprintf(out->domain, sizeof(out->domain), "%s", at + 1);
		out->result = SPF_RESULT_PERMERROR;
		spf_say(out->reason, sizeof(out->reason),
		    "local-part too long");
		return;
	}
	if (llen == 0)
		spf_copy(local, sizeof(local), "postmaster");
	else {
		memcpy(local, from, llen);
		local[llen] = '\0';
	}
	from = at != NULL ? at + 1 : from;
	snprintf(out->domain, sizeof(out->domain), "%s", from);
	snprintf(out->identity, sizeof(out->identity), "%s@%s", local, from);
	for (at = local; *at != '\0'; at++)
		if ((unsigned char)*at < 0x20 || *at == 0x7f) {
			out->result = SPF_RESULT_PERMERROR;
			spf_say(out->reason, sizeof(out->reason),
			    "control character in the local-part");
			return;
		}
	spf_check_host(dns, req, local, from, out);
}

/* spf_check_helo - check_host() for the HELO identity */
void
spf_check_helo(struct dns_service *dns, const struct spf_request *req,
    struct spf_outcome *out)
{
	spf_outcome_init(out);
	if (req->helo != NULL) {
		snprintf(out->domain, sizeof(out->domain), "%s", req->helo);
		snprintf(out->identity, sizeof(out->identity), "%s",
		    req->helo);
	}
	if (!spf_helo_usable(req->helo)) {
		/* RFC 7208 2.3: a literal or a non-FQDN is not checked */
		spf_say(out->reason, sizeof(out->reason),
		    "no usable HELO name");
		return;
	}
	spf_check_host(dns, req, "postmaster", req->helo, out);
}

/* spf_prefetch - start the TXT queries of both identities */
void
spf_prefetch(struct dns_service *dns, const struct spf_request *req)
{
	const char *from = req->mail_from, *at;

	if (from != NULL && (at = strrchr(from, '@')) != NULL &&
	    spf_domain_valid(at + 1))
		dns_prefetch(dns, at + 1, DNS_T_TXT);
	if (spf_helo_usable(req->helo))
		dns_prefetch(dns, req->helo, DNS_T_TXT);
}

/*
 * spf_macro_expand - a macro-string expanded as check_host() would expand
 * it, without DNS (%{p} is "unknown"); NULL when the input is not usable
 */
char *
spf_macro_expand(const struct spf_macro_env *env, const char *text,
    size_t len, bool exp)
{
	struct spf_eval *ev;
	struct spf_addr addr;
	struct buf out;
	const char *cur;
	bool ok;

	if (!spf_addr_parse(env->client_ip, &addr) ||
	    env->local == NULL || strlen(env->local) > SPF_MAX_LOCAL ||
	    !spf_domain_valid(env->domain) ||
	    !spf_macro_valid(text, len, exp))
		return NULL;
	ev = xcalloc(1, sizeof(*ev));
	spf_eval_identity(ev, &addr, env->local, env->domain, env->helo);
	if (env->receiver != NULL)
		spf_copy(ev->receiver, sizeof(ev->receiver), env->receiver);
	ev->ptr_done = true;	/* no DNS: no validated client name */
	cur = env->current != NULL && spf_domain_valid(env->current) ?
	    env->current : ev->domain;
	buf_init(&out);
	if (exp)
		ok = spf_expand(ev, text, len, cur, &out);
	else {
		spf_expand_domain(ev, text, len, cur, &out);
		ok = true;
	}
	free(ev);
	if (!ok) {
		buf_free(&out);
		return NULL;
	}
	return buf_steal(&out);
}
