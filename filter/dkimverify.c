/*
 * NAME
 *	dkimverify - DKIM verification with libopendkim over our DNS
 * SYNOPSIS
 *	#include "dkimverify.h"
 *
 *	c = dkimv_ctx_new(dns, timeout, err, errlen)
 *	v = dkimv_new(c, jobid, max_sigs, allow_partial)
 *	dkimv_header(v, name, value)...; dkimv_eoh(v); dkimv_body(v, ...)...
 *	n = dkimv_eom(v, deadline, out, max); dkimv_free(v)
 * DESCRIPTION
 *	libopendkim does the canonicalisation, the hashing and the signature
 *	check; its DNS goes through dns.c by the query hooks below, so the
 *	key of each signature comes from the shared cache. A DKIM-Signature
 *	header starts the query for its key as soon as the header is seen
 *	(dkimv_header), and libopendkim is told to delay key retrieval to
 *	the end of the message (DKIM_LIBFLAGS_DELAYSIGPROC), by which time
 *	the answers are usually there.
 *
 *	The per-message DNS deadline reaches the hooks through a thread-local
 *	pointer set around dkim_eom(): libopendkim's hook interface has no
 *	room for per-message data, and the hooks run on the calling thread.
 *
 *	What reaches libopendkim is bounded. Of the DKIM-Signature fields,
 *	only the first MaximumSignaturesToVerify from the top are looked
 *	at; each is checked here first (dkimv_sig_check), and only one that
 *	passes is handed to the library. libopendkim's dkim_header() parses
 *	a signature with a tag list that compares every tag with every
 *	earlier one (one field of 100,000 tags took 14 to 53 s of CPU), and
 *	its header selection costs the h= entries times the header
 *	fields, per signature. So a value over DKIMV_MAX_SIG_BYTES (8 KB),
 *	with more than DKIMV_MAX_SIG_TAGS (64) tags or more than
 *	DKIMV_MAX_SIG_HDRS (128) names in h= is permerror and never parsed
 *	by the library. RFC 6376 defines 14 tags: 64 leaves room for 50
 *	extension tags, which verifiers ignore. A real signature is well
 *	under 8 KB: b= of an RSA-8192 key is 1,368 characters, and a long
 *	oversigned h= some 60 names and 1 KB; z= (diagnostic copies of
 *	header fields) is the only tag that grows with the message, and it
 *	is never needed to verify. libopendkim copies h= into a buffer of
 *	DKIM_MAXHEADER (4096) bytes, so a longer h= could not be verified
 *	right: permerror too. The fields not handed over (beyond the limit,
 *	or invalid) are not in libopendkim's header list either; a
 *	signature whose h= names DKIM-Signature would then be computed over
 *	other fields than the signer's, so with any field withheld such a
 *	signature is policy, never pass or fail.
 *
 *	The check (RFC 6376 3.2, 3.5, 6.1.1): the tag-list grammar (tag
 *	names ALPHA *(ALPHA / DIGIT / "_"), case-sensitive; values of
 *	VALCHAR and folding white space), no tag twice, v= a= b= bh= d= h=
 *	s= present; v=1; a= rsa-sha256, rsa-sha1 or ed25519-sha256; b= and
 *	bh= base64; c= simple or relaxed, optionally "/" body; d= an LDH
 *	domain name of two labels or more; s= LDH labels, and
 *	"s._domainkey.d" a name the DNS can hold; h= field names that
 *	include From; i= an address whose domain is d= or below it; l=, t=,
 *	x= decimal (76, 12 and 12 digits); x= after t=, and not in the past
 *	("signature expired"); q= with dns/txt; z= a list of "name:value"
 *	copies. Unknown tags are ignored. Every failure is permerror with a
 *	reason. A U-label in d= or s= (RFC 8616) is not accepted.
 *
 *	The body hash is ours when it can be: libopendkim canonicalizes the
 *	body a byte at a time (some 80 instructions a byte, the largest part
 *	of an inbound message's CPU in a profile), where dkimsign.h's
 *	canonicalizer takes lines and runs whole. When every signature
 *	handed over is SHA-256 without l=, the body goes to a bodyhash.h
 *	hash per body canonicalization the signatures name (shared with ARC
 *	when the caller hands one over: dkimv_share_body) and never to
 *	libopendkim, which then checks the header hash and the signature as
 *	before; its body hash, of an empty body, is not used. bh= is compared
 *	with ours (white space in bh= ignored), and a mismatch gives the
 *	result and reason libopendkim's own mismatch gives. With l= or
 *	rsa-sha1 anywhere, libopendkim gets the body as before.
 *
 *	libopendkim decodes the public key of every signature it checks
 *	with d2i_PUBKEY_bio(), which OpenSSL 3 runs through its decoder
 *	framework: 0.13 ms per message in a profile of inbound mail, five
 *	times the RSA verification. This file defines d2i_PUBKEY_bio() for
 *	the program (as milter.c defines sigwait()), so that libopendkim's
 *	calls decode each key once (keycache.h): a memory BIO, which is
 *	what libopendkim hands it, is decoded in place and consumed as far
 *	as the key goes, as libcrypto's would; any other call goes on to
 *	libcrypto's own function.
 *
 *	Result mapping (RFC 8601 section 2.7.1): a verified signature whose
 *	body hash matches is pass, unless its RSA key is shorter than 1024
 *	bits, it uses rsa-sha1 (RFC 8301), or its l= leaves part of the body
 *	unsigned (unless allowed): those are policy. A bad signature or body
 *	hash: fail. Permanent errors of the signature or its key, which RFC
 *	6376 calls PERMFAIL but which say nothing of the message, are
 *	permerror with a reason: a malformed signature, an expired one
 *	("signature expired") or one dated in the future, a revoked key (an
 *	empty p=: "key revoked"), a key the DNS says does not exist, a
 *	broken key record. A DNS failure or timeout: temperror.
 * DIAGNOSTICS
 *	None: every problem is a result of the signature concerned.
 */
#include "buildconf.h"

#include <ctype.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include <opendkim/dkim.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "addr.h"
#include "bodyhash.h"
#include "dkimsign.h"
#include "dkimverify.h"
#include "dns.h"
#include "keycache.h"
#include "log.h"
#include "util.h"

#define DKIMV_HDRNAME		"DKIM-Signature"
#define DKIMV_KEY_INFIX		"._domainkey."
#define DKIMV_MAX_LABEL		63	/* bytes of a DNS label */
#define DKIMV_MAX_H_BYTES	(DKIM_MAXHEADER - 1)	/* libopendkim's copy */
#define DKIMV_MAX_L_DIGITS	76	/* sig-l-tag = 1*76DIGIT */
#define DKIMV_MAX_T_DIGITS	12	/* sig-t-tag, sig-x-tag = 1*12DIGIT */
#define DKIMV_MAX_PAD		2	/* "=" at the end of base64 */
#define DKIMV_B64_QUANTUM	4	/* base64 characters per 3 bytes */
#define DKIMV_MAX_QUOTED	24	/* bytes of a tag value quoted in a reason */
#define DKIMV_MAX_WHY		128	/* bytes of a reason */

/*
 * The field dkimv_eoh() adds after the message's own (see there). Its name
 * holds a space: no h= name that dkimv_check_h() lets through (ftext, no
 * white space inside) can ever name it, so it is never signed or hashed.
 */
#define DKIMV_PAD_FIELD		"Authmilter Pad:"

struct dkimv_ctx {
	DKIM_LIB		*lib;
	struct dns_service	*dns;
};

/*
 * The length of the body after simple and after relaxed canonicalization
 * (RFC 6376 section 3.4.3, 3.4.4), counted as it streams by: a signature
 * whose l= is shorter leaves part of the body unsigned. libopendkim stops
 * counting at l=, so it cannot tell.
 */
struct dkimv_bodylen {
	long long	 total;		/* committed bytes */
	long long	 line;		/* bytes of the current line's content */
	long long	 empty;		/* empty lines held back (trailing?) */
	bool		 cr;		/* a CR waits for its LF */
	bool		 wsp;		/* relaxed: white space waits */
	bool		 relaxed;
};

/* One DKIM-Signature field within MaximumSignaturesToVerify, top first. */
struct dkimv_slot {
	struct dkimv_tags	 tags;
	bool			 handed;	/* libopendkim has it */
	char			 why[DKIMV_MAX_WHY];	/* the permerror, if not */
};

struct dkimv {
	struct dkimv_ctx	*ctx;
	struct timespec		 started;	/* the message's start */
	struct dkimv_bodylen	 len_simple;
	struct dkimv_bodylen	 len_relaxed;
	bool			 count_len;	/* a signature has l= */
	bool			 own_bh;	/* libopendkim gets no body */
	struct bodyhash		*bodies;	/* our body hashes (see above) */
	bool			 shared;	/* ... fed by their owner */
	DKIM			*dkim;
	unsigned		 max_sigs;
	bool			 allow_partial;
	struct dkimv_slot	*slot;		/* max_sigs of them */
	unsigned		 nslots;	/* DKIM-Signature fields seen, to
						 * max_sigs */
	unsigned		 nhanded;	/* ... handed to libopendkim */
	unsigned		 withheld;	/* DKIM-Signature fields not */
	bool			 eoh;		/* dkimv_eoh() ran */
	bool			 verifying;	/* libopendkim has a signature */
	bool			 broken;	/* libopendkim refused the message */
	struct buf		 field;
};

/* A query in flight, as libopendkim holds it between start and wait. */
struct dkimv_query {
	char		 name[DNS_MAX_NAME + 2];
	unsigned char	*buf;
	size_t		 buflen;
};

/* The message being verified on this thread (see above): its DNS budget. */
static _Thread_local const struct timespec *dkimv_deadline;
static _Thread_local const struct timespec *dkimv_since;

/* dkimv_q_start - libopendkim starts a query: remember it */
static int
dkimv_q_start(void *srv, int type, unsigned char *query, unsigned char *buf,
    size_t buflen, void **qh)
{
	struct dkimv_query *q;

	(void)srv;
	if (type != DNS_T_TXT || query == NULL)
		return DKIM_DNS_INVALID;
	q = xcalloc(1, sizeof(*q));
	snprintf(q->name, sizeof(q->name), "%s", (const char *)query);
	q->buf = buf;
	q->buflen = buflen;
	*qh = q;
	return DKIM_DNS_SUCCESS;
}

/* dkimv_q_cancel - libopendkim is done with a query */
static int
dkimv_q_cancel(void *srv, void *qh)
{
	(void)srv;
	free(qh);
	return DKIM_DNS_SUCCESS;
}

/* dkimv_q_wait - the answer from dns.c, raw, as libopendkim parses it */
static int
dkimv_q_wait(void *srv, void *qh, struct timeval *to, size_t *bytes,
    int *error, int *dnssec)
{
	struct dkimv_query *q = qh;
	struct dns_answer *a;
	struct timespec dl;
	int rc;

	if (to != NULL)
		dns_deadline(&dl, (unsigned)(to->tv_sec * 1000 +
		    to->tv_usec / 1000));
	else
		dns_deadline(&dl, 60 * 1000);
	if (dkimv_deadline != NULL &&
	    (dkimv_deadline->tv_sec < dl.tv_sec ||
	    (dkimv_deadline->tv_sec == dl.tv_sec &&
	    dkimv_deadline->tv_nsec < dl.tv_nsec)))
		dl = *dkimv_deadline;
	a = dns_lookup_since(srv, q->name, DNS_T_TXT, &dl, dkimv_since);
	if (dnssec != NULL)
		*dnssec = DKIM_DNSSEC_UNKNOWN;
	if (error != NULL)
		*error = 0;
	switch (a->status) {
	case DNS_OK:
	case DNS_NODATA:
	case DNS_NXDOMAIN:
		if (a->wire == NULL || a->wirelen > q->buflen) {
			rc = DKIM_DNS_ERROR;
			break;
		}
		memcpy(q->buf, a->wire, a->wirelen);
		*bytes = a->wirelen;
		rc = DKIM_DNS_SUCCESS;
		break;
	case DNS_TIMEOUT:
		rc = DKIM_DNS_EXPIRED;
		break;
	default:
		rc = DKIM_DNS_ERROR;
		break;
	}
	dns_answer_free(a);
	return rc;
}

/* libcrypto's d2i_PUBKEY_bio(), looked up once (see DESCRIPTION) */
static EVP_PKEY *(*dkimv_d2i_libcrypto)(BIO *, EVP_PKEY **);
static pthread_once_t dkimv_d2i_once = PTHREAD_ONCE_INIT;

static void
dkimv_d2i_find(void)
{
	*(void **)&dkimv_d2i_libcrypto = dlsym(RTLD_NEXT, "d2i_PUBKEY_bio");
}

/* dkimv_d2i_skip - read n bytes of bp and drop them */
static void
dkimv_d2i_skip(BIO *bp, size_t n)
{
	char scratch[256];
	int got;

	while (n > 0 && (got = BIO_read(bp, scratch, n < sizeof(scratch) ?
	    (int)n : (int)sizeof(scratch))) > 0)
		n -= (size_t)got;
}

/*
 * d2i_PUBKEY_bio - the key at the read position of bp, decoded once
 * (keycache.h); libcrypto's own for anything but a memory BIO with no
 * key to reuse (a)
 */
EVP_PKEY *
d2i_PUBKEY_bio(BIO *bp, EVP_PKEY **a)
{
	char *data = NULL;
	const unsigned char *p;
	long n;
	EVP_PKEY *key;

	if (a != NULL || bp == NULL || BIO_method_type(bp) != BIO_TYPE_MEM ||
	    (n = BIO_get_mem_data(bp, &data)) <= 0 || data == NULL) {
		pthread_once(&dkimv_d2i_once, dkimv_d2i_find);
		return dkimv_d2i_libcrypto != NULL ?
		    dkimv_d2i_libcrypto(bp, a) : NULL;
	}
	p = (const unsigned char *)data;
	key = keycache_pubkey(&p, (size_t)n);
	if (key != NULL)
		dkimv_d2i_skip(bp, (size_t)(p - (const unsigned char *)data));
	return key;
}

/* dkimv_ctx_new - the library handle, with DNS through dns.c */
struct dkimv_ctx *
dkimv_ctx_new(struct dns_service *dns, unsigned timeout_secs, char *err,
    size_t errlen)
{
	struct dkimv_ctx *c = xcalloc(1, sizeof(*c));
	unsigned int flags = DKIM_LIBFLAGS_DELAYSIGPROC |
	    DKIM_LIBFLAGS_BADSIGHANDLES;
	unsigned int minbits = DKIMV_MIN_RSA_BITS;
	unsigned int timeout = timeout_secs ? timeout_secs : 5;

	c->dns = dns;
	c->lib = dkim_init(NULL, NULL);
	if (c->lib == NULL) {
		snprintf(err, errlen, "libopendkim: initialisation failed");
		free(c);
		return NULL;
	}
	if (dkim_options(c->lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags,
	    sizeof(flags)) != DKIM_STAT_OK ||
	    dkim_options(c->lib, DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS,
	    &minbits, sizeof(minbits)) != DKIM_STAT_OK ||
	    dkim_options(c->lib, DKIM_OP_SETOPT, DKIM_OPTS_TIMEOUT,
	    &timeout, sizeof(timeout)) != DKIM_STAT_OK) {
		snprintf(err, errlen, "libopendkim: cannot set options");
		dkim_close(c->lib);
		free(c);
		return NULL;
	}
	/* our DNS: never libopendkim's resolver, never its init or close */
	dkim_dns_set_init(c->lib, NULL);
	dkim_dns_set_close(c->lib, NULL);
	dkim_dns_set_nslist(c->lib, NULL);
	dkim_dns_set_config(c->lib, NULL);
	dkim_dns_set_trustanchor(c->lib, NULL);
	if (dns != NULL)
		dkim_dns_set_query_service(c->lib, dns);
	dkim_dns_set_query_start(c->lib, dkimv_q_start);
	dkim_dns_set_query_cancel(c->lib, dkimv_q_cancel);
	dkim_dns_set_query_waitreply(c->lib, dkimv_q_wait);
	return c;
}

/* dkimv_ctx_set_dns - the DNS service, when it starts after the handle */
void
dkimv_ctx_set_dns(struct dkimv_ctx *c, struct dns_service *dns)
{
	c->dns = dns;
	dkim_dns_set_query_service(c->lib, dns);
}

void
dkimv_ctx_free(struct dkimv_ctx *c)
{
	if (c == NULL)
		return;
	dkim_close(c->lib);
	free(c);
}

/* dkimv_new - one message */
struct dkimv *
dkimv_new(struct dkimv_ctx *c, const char *jobid, unsigned max_sigs,
    bool allow_partial)
{
	struct dkimv *v = xcalloc(1, sizeof(*v));
	DKIM_STAT st;

	v->ctx = c;
	clock_gettime(CLOCK_MONOTONIC, &v->started);
	v->max_sigs = max_sigs > DKIMV_MAX_SIGS ? DKIMV_MAX_SIGS : max_sigs;
	v->slot = xcalloc(v->max_sigs > 0 ? v->max_sigs : 1, sizeof(*v->slot));
	v->allow_partial = allow_partial;
	v->len_relaxed.relaxed = true;
	buf_init(&v->field);
	v->dkim = dkim_verify(c->lib, (const unsigned char *)jobid, NULL, &st);
	if (v->dkim == NULL)
		v->broken = true;
	else
		dkim_set_user_context(v->dkim, v);
	return v;
}

/* --- our check of a DKIM-Signature (RFC 6376 3.2, 3.5, 6.1.1) --------- */

/* One tag as the tag-list parser found it: name, value (FWS trimmed). */
struct dkimv_tv {
	const char	*name;
	size_t		 nlen;
	const char	*val;
	size_t		 vlen;
};

/* The tags of RFC 6376 3.5 that we check, and those that must be there. */
enum dkimv_tagid {
	DKIMV_T_V = 0, DKIMV_T_A, DKIMV_T_B, DKIMV_T_BH, DKIMV_T_C, DKIMV_T_D,
	DKIMV_T_H, DKIMV_T_I, DKIMV_T_L, DKIMV_T_Q, DKIMV_T_S, DKIMV_T_T,
	DKIMV_T_X, DKIMV_T_Z, DKIMV_T_COUNT
};

static const struct {
	const char	*name;
	bool		 required;
} dkimv_tagdefs[DKIMV_T_COUNT] = {
	[DKIMV_T_V] = { "v", true },	[DKIMV_T_A] = { "a", true },
	[DKIMV_T_B] = { "b", true },	[DKIMV_T_BH] = { "bh", true },
	[DKIMV_T_C] = { "c", false },	[DKIMV_T_D] = { "d", true },
	[DKIMV_T_H] = { "h", true },	[DKIMV_T_I] = { "i", false },
	[DKIMV_T_L] = { "l", false },	[DKIMV_T_Q] = { "q", false },
	[DKIMV_T_S] = { "s", true },	[DKIMV_T_T] = { "t", false },
	[DKIMV_T_X] = { "x", false },	[DKIMV_T_Z] = { "z", false },
};

/* The algorithms we verify (a=), lower case. */
static const char *const dkimv_algs[] = {
	"rsa-sha256", "rsa-sha1", "ed25519-sha256",
};

/* dkimv_is_ws - white space of a header value: WSP, or the CR LF of FWS */
static bool
dkimv_is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* dkimv_is_alpha - ALPHA */
static bool
dkimv_is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* dkimv_is_digit - DIGIT */
static bool
dkimv_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* dkimv_is_valchar - VALCHAR: %x21-3A / %x3C-7E */
static bool
dkimv_is_valchar(int c)
{
	return c >= 0x21 && c <= 0x7e && c != ';';
}

/* dkimv_is_ftext - ftext of a field name (RFC 5322): %d33-57 / %d59-126 */
static bool
dkimv_is_ftext(int c)
{
	return c >= 33 && c <= 126 && c != ':';
}

/* dkimv_is_b64 - ALPHADIGITPS: a base64 character other than "=" */
static bool
dkimv_is_b64(int c)
{
	return dkimv_is_alpha(c) || dkimv_is_digit(c) || c == '+' || c == '/';
}

/* dkimv_caseeq - the n bytes at s are the string lit, ASCII any case */
static bool
dkimv_caseeq(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

/* dkimv_trim - s[0..*n) without white space at both ends */
static const char *
dkimv_trim(const char *s, size_t *n)
{
	while (*n > 0 && dkimv_is_ws((unsigned char)*s)) {
		s++;
		(*n)--;
	}
	while (*n > 0 && dkimv_is_ws((unsigned char)s[*n - 1]))
		(*n)--;
	return s;
}

/*
 * dkimv_parse_list - split a tag-list (RFC 6376 3.2) into at most max
 * tags; false with why when it breaks the grammar or has more tags
 */
static bool
dkimv_parse_list(const char *list, struct dkimv_tv *tv, size_t max,
    size_t *n, char *why, size_t whylen)
{
	const char *p = list;

	*n = 0;
	for (;;) {
		struct dkimv_tv t;

		while (dkimv_is_ws((unsigned char)*p))
			p++;
		if (*p == '\0')
			return true;	/* the end, or after a final ";" */
		if (*n >= max) {
			snprintf(why, whylen, "more than %zu tags", max);
			return false;
		}
		t.name = p;
		if (!dkimv_is_alpha((unsigned char)*p))
			break;
		while (dkimv_is_alpha((unsigned char)*p) ||
		    dkimv_is_digit((unsigned char)*p) || *p == '_')
			p++;
		t.nlen = (size_t)(p - t.name);
		while (dkimv_is_ws((unsigned char)*p))
			p++;
		if (*p != '=')
			break;
		for (t.val = ++p; *p != '\0' && *p != ';'; p++)
			if (!dkimv_is_valchar((unsigned char)*p) &&
			    !dkimv_is_ws((unsigned char)*p))
				break;
		if (*p != '\0' && *p != ';')
			break;
		t.vlen = (size_t)(p - t.val);
		t.val = dkimv_trim(t.val, &t.vlen);
		tv[(*n)++] = t;
		if (*p == ';')
			p++;
	}
	snprintf(why, whylen, "malformed tag list at byte %zu",
	    (size_t)(p - list));
	return false;
}

/* dkimv_label_ok - an LDH label: Let-dig [*(Let-dig / "-") Let-dig] */
static bool
dkimv_label_ok(const char *s, size_t n)
{
	if (n == 0 || n > DKIMV_MAX_LABEL || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!dkimv_is_alpha((unsigned char)s[i]) &&
		    !dkimv_is_digit((unsigned char)s[i]) && s[i] != '-')
			return false;
	return true;
}

/*
 * dkimv_name_ok - n bytes of LDH labels joined by dots, at least
 * minlabels of them, at most DNS_MAX_NAME bytes
 */
static bool
dkimv_name_ok(const char *s, size_t n, size_t minlabels)
{
	size_t start = 0, labels = 0;

	if (n == 0 || n > DNS_MAX_NAME)
		return false;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '.')
			continue;
		if (!dkimv_label_ok(s + start, i - start))
			return false;
		labels++;
		start = i + 1;
	}
	return labels >= minlabels;
}

/* dkimv_domain_valid - a domain-name of RFC 6376 3.5 */
bool
dkimv_domain_valid(const char *d)
{
	return d != NULL && dkimv_name_ok(d, strlen(d), 2);
}

/* dkimv_selector_valid - a selector of RFC 6376 3.1 */
bool
dkimv_selector_valid(const char *s)
{
	return s != NULL && dkimv_name_ok(s, strlen(s), 1);
}

/* dkimv_copy_lower - n bytes of s, lower case, into out (fits: checked) */
static void
dkimv_copy_lower(char *out, size_t outlen, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && i + 1 < outlen; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[i] = '\0';
}

/*
 * dkimv_base64_ok - base64string of RFC 6376 2.4 (folding white space
 * anywhere, "=" padding only at the end, whole quanta); the first
 * characters go to prefix
 */
static bool
dkimv_base64_ok(const char *s, size_t n, char *prefix, size_t plen)
{
	size_t chars = 0, pad = 0, k = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (dkimv_is_ws(c))
			continue;
		if (c == '=')
			pad++;
		else if (!dkimv_is_b64(c) || pad > 0)
			return false;
		if (k + 1 < plen)
			prefix[k++] = (char)c;
		chars++;
	}
	if (plen > 0)
		prefix[k] = '\0';
	return chars > 0 && pad <= DKIMV_MAX_PAD &&
	    chars % DKIMV_B64_QUANTUM == 0;
}

/* dkimv_number - 1..maxdigits decimal digits; the value in *out */
static bool
dkimv_number(const char *s, size_t n, size_t maxdigits, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > maxdigits)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!dkimv_is_digit((unsigned char)s[i]))
			return false;
		/* saturate: 76 digits of l= do not fit, and need not */
		v = v > (UINT64_MAX - 9) / 10 ? UINT64_MAX :
		    v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

/* dkimv_hyphenated - hyphenated-word: ALPHA [*(ALPHA/DIGIT/"-") ALPHA/DIGIT] */
static bool
dkimv_hyphenated(const char *s, size_t n)
{
	return n > 0 && dkimv_is_alpha((unsigned char)s[0]) &&
	    dkimv_label_ok(s, n);
}

/* dkimv_check_a - a=: the algorithms we know; the name into t */
static bool
dkimv_check_a(const char *s, size_t n, struct dkimv_tags *t, char *why,
    size_t whylen)
{
	for (size_t i = 0; i < sizeof(dkimv_algs) / sizeof(dkimv_algs[0]); i++)
		if (dkimv_caseeq(s, n, dkimv_algs[i])) {
			snprintf(t->algorithm, sizeof(t->algorithm), "%s",
			    dkimv_algs[i]);
			return true;
		}
	snprintf(why, whylen, "unsupported algorithm a=%.*s",
	    (int)(n < DKIMV_MAX_QUOTED ? n : DKIMV_MAX_QUOTED), s);
	return false;
}

/* dkimv_check_c - c=: simple or relaxed, optionally "/" the same */
static bool
dkimv_check_c(const char *s, size_t n)
{
	const char *slash = memchr(s, '/', n);
	size_t hn = slash != NULL ? (size_t)(slash - s) : n;

	if (!dkimv_caseeq(s, hn, "simple") && !dkimv_caseeq(s, hn, "relaxed"))
		return false;
	if (slash == NULL)
		return true;
	return dkimv_caseeq(slash + 1, n - hn - 1, "simple") ||
	    dkimv_caseeq(slash + 1, n - hn - 1, "relaxed");
}

/*
 * dkimv_next - the next element of the list s[0..n) whose elements are
 * separated by sep, white space around it trimmed, in *item and *len;
 * false after the last. Start with *pos 0. "" is one empty element.
 */
static bool
dkimv_next(const char *s, size_t n, char sep, size_t *pos,
    const char **item, size_t *len)
{
	const char *end;
	size_t e;

	if (*pos > n)
		return false;
	end = memchr(s + *pos, sep, n - *pos);
	e = end != NULL ? (size_t)(end - s) : n;
	*len = e - *pos;
	*item = dkimv_trim(s + *pos, len);
	*pos = e + 1;
	return true;
}

/*
 * dkimv_check_h - h=: field names separated by ":" (folding white space
 * around them), at most DKIMV_MAX_SIG_HDRS, From among them
 */
static bool
dkimv_check_h(const char *s, size_t n, struct dkimv_tags *t, char *why,
    size_t whylen)
{
	size_t count = 0, bytes = 0, pos = 0, len;
	const char *name;
	bool from = false;

	while (dkimv_next(s, n, ':', &pos, &name, &len)) {
		if (len == 0) {
			snprintf(why, whylen, "h= has an empty field name");
			return false;
		}
		for (size_t k = 0; k < len; k++)
			if (!dkimv_is_ftext((unsigned char)name[k])) {
				snprintf(why, whylen, "h= has a malformed "
				    "field name");
				return false;
			}
		if (++count > DKIMV_MAX_SIG_HDRS) {
			snprintf(why, whylen, "h= names more than %d fields",
			    DKIMV_MAX_SIG_HDRS);
			return false;
		}
		bytes += len + 1;
		from = from || dkimv_caseeq(name, len, "from");
		t->signs_sigs = t->signs_sigs || dkimv_caseeq(name, len,
		    DKIMV_HDRNAME);
	}
	if (bytes > DKIMV_MAX_H_BYTES) {
		snprintf(why, whylen, "h= is longer than %d bytes",
		    DKIMV_MAX_H_BYTES);
		return false;
	}
	if (!from) {
		snprintf(why, whylen, "From field not signed");
		return false;
	}
	return true;
}

/*
 * dkimv_check_i - i=: [local-part] "@" domain-name, in dkim-quoted-
 * printable (RFC 6376 2.11), the domain d= or a subdomain of it
 */
static bool
dkimv_check_i(const char *s, size_t n, const char *d, char *why,
    size_t whylen)
{
	char dom[DNS_MAX_NAME + 1];
	size_t at = n, k = 0, dlen = strlen(d);

	for (size_t i = 0; i < n; i++)
		if (s[i] == '@')
			at = i;
	for (size_t i = 0; i < at; i++) {
		unsigned char c = (unsigned char)s[i];

		if (dkimv_is_ws(c))
			continue;
		if (c == '=') {
			if (i + 2 >= at || !isxdigit((unsigned char)s[i + 1]) ||
			    !isxdigit((unsigned char)s[i + 2]))
				goto bad;
			i += 2;
		} else if (!dkimv_is_valchar(c)) {
			goto bad;
		}
	}
	for (size_t i = at + 1; i < n; i++) {
		if (dkimv_is_ws((unsigned char)s[i]))
			continue;
		if (k + 1 >= sizeof(dom))
			goto bad;
		dom[k++] = (char)tolower((unsigned char)s[i]);
	}
	dom[k] = '\0';
	if (at == n || !dkimv_name_ok(dom, k, 2))
		goto bad;
	if (d[0] == '\0')
		return true;	/* d= is reported on its own */
	if (strcmp(dom, d) == 0 || (k > dlen && dom[k - dlen - 1] == '.' &&
	    strcmp(dom + k - dlen, d) == 0))
		return true;
	snprintf(why, whylen, "i= domain is not d= or a subdomain of it");
	return false;
bad:
	snprintf(why, whylen, "i= is not an address");
	return false;
}

/* dkimv_check_q - q=: query methods, one of them dns/txt */
static bool
dkimv_check_q(const char *s, size_t n, char *why, size_t whylen)
{
	size_t pos = 0, len;
	const char *m, *slash;
	bool dnstxt = false;

	while (dkimv_next(s, n, ':', &pos, &m, &len)) {
		slash = memchr(m, '/', len);
		if (!dkimv_hyphenated(m, slash ? (size_t)(slash - m) : len)) {
			snprintf(why, whylen, "q= is malformed");
			return false;
		}
		dnstxt = dnstxt || dkimv_caseeq(m, len, "dns/txt");
	}
	if (!dnstxt)
		snprintf(why, whylen, "no supported query method in q=");
	return dnstxt;
}

/* dkimv_check_z - z=: copies "name:value" joined by "|" */
static bool
dkimv_check_z(const char *s, size_t n)
{
	size_t pos = 0, len;
	const char *c, *colon;

	while (dkimv_next(s, n, '|', &pos, &c, &len)) {
		colon = memchr(c, ':', len);
		if (colon == NULL || colon == c)
			return false;
		for (const char *k = c; k < colon; k++)
			if (!dkimv_is_ftext((unsigned char)*k))
				return false;
	}
	return true;
}

/*
 * dkimv_check_tags - the values of the known tags (tag[] holds each one,
 * or NULL); false with why at the first that is wrong
 */
static bool
dkimv_check_tags(const struct dkimv_tv *tag[DKIMV_T_COUNT], time_t now,
    struct dkimv_tags *t, char *why, size_t whylen)
{
	const struct dkimv_tv *v;
	uint64_t ts = 0, xs = 0, num;
	size_t klen;

	/* first what is reported, so that it is there whatever fails */
	if ((v = tag[DKIMV_T_D]) != NULL && dkimv_name_ok(v->val, v->vlen, 2))
		dkimv_copy_lower(t->domain, sizeof(t->domain), v->val, v->vlen);
	if ((v = tag[DKIMV_T_S]) != NULL && dkimv_name_ok(v->val, v->vlen, 1))
		dkimv_copy_lower(t->selector, sizeof(t->selector), v->val,
		    v->vlen);
	if ((v = tag[DKIMV_T_B]) != NULL && !dkimv_base64_ok(v->val, v->vlen,
	    t->b, sizeof(t->b)))
		t->b[0] = '\0';
	for (int i = 0; i < DKIMV_T_COUNT; i++)
		if (dkimv_tagdefs[i].required && tag[i] == NULL) {
			snprintf(why, whylen, "no %s= tag",
			    dkimv_tagdefs[i].name);
			return false;
		}
	if (!dkimv_check_a(tag[DKIMV_T_A]->val, tag[DKIMV_T_A]->vlen, t, why,
	    whylen))
		return false;
	if (t->b[0] == '\0') {
		snprintf(why, whylen, "b= is not base64");
		return false;
	}
	v = tag[DKIMV_T_V];
	if (v->vlen != 1 || v->val[0] != '1') {
		snprintf(why, whylen, "unsupported version v=%.*s",
		    (int)(v->vlen < DKIMV_MAX_QUOTED ? v->vlen :
		    DKIMV_MAX_QUOTED), v->val);
		return false;
	}
	if (t->domain[0] == '\0') {
		snprintf(why, whylen, "d= is not a domain name");
		return false;
	}
	if (t->selector[0] == '\0') {
		snprintf(why, whylen, "s= is not a selector");
		return false;
	}
	klen = strlen(t->selector) + strlen(DKIMV_KEY_INFIX) +
	    strlen(t->domain);
	if (klen > DNS_MAX_NAME) {
		snprintf(why, whylen, "the key name (s=, d=) is longer than "
		    "%d bytes", DNS_MAX_NAME);
		return false;
	}
	if (!dkimv_base64_ok(tag[DKIMV_T_BH]->val, tag[DKIMV_T_BH]->vlen, NULL,
	    0)) {
		snprintf(why, whylen, "bh= is not base64");
		return false;
	}
	if (!dkimv_check_h(tag[DKIMV_T_H]->val, tag[DKIMV_T_H]->vlen, t, why,
	    whylen))
		return false;
	if ((v = tag[DKIMV_T_C]) != NULL && !dkimv_check_c(v->val, v->vlen)) {
		snprintf(why, whylen, "unsupported canonicalization c=%.*s",
		    (int)(v->vlen < DKIMV_MAX_QUOTED ? v->vlen :
		    DKIMV_MAX_QUOTED), v->val);
		return false;
	}
	if ((v = tag[DKIMV_T_I]) != NULL && !dkimv_check_i(v->val, v->vlen,
	    t->domain, why, whylen))
		return false;
	if ((v = tag[DKIMV_T_L]) != NULL && !dkimv_number(v->val, v->vlen,
	    DKIMV_MAX_L_DIGITS, &num)) {
		snprintf(why, whylen, "l= is not a number");
		return false;
	}
	if ((v = tag[DKIMV_T_Q]) != NULL && !dkimv_check_q(v->val, v->vlen,
	    why, whylen))
		return false;
	if ((v = tag[DKIMV_T_T]) != NULL && !dkimv_number(v->val, v->vlen,
	    DKIMV_MAX_T_DIGITS, &ts)) {
		snprintf(why, whylen, "t= is not a timestamp");
		return false;
	}
	if ((v = tag[DKIMV_T_X]) != NULL) {
		if (!dkimv_number(v->val, v->vlen, DKIMV_MAX_T_DIGITS, &xs)) {
			snprintf(why, whylen, "x= is not a timestamp");
			return false;
		}
		if (tag[DKIMV_T_T] != NULL && xs <= ts) {
			snprintf(why, whylen, "x= is not after t=");
			return false;
		}
		if (now >= 0 && xs < (uint64_t)now) {
			snprintf(why, whylen, "signature expired");
			return false;
		}
	}
	if ((v = tag[DKIMV_T_Z]) != NULL && !dkimv_check_z(v->val, v->vlen)) {
		snprintf(why, whylen, "z= is malformed");
		return false;
	}
	return true;
}

/* dkimv_sig_check - check a DKIM-Signature value before libopendkim */
bool
dkimv_sig_check(const char *value, time_t now, struct dkimv_tags *t,
    char *why, size_t whylen)
{
	struct dkimv_tv tv[DKIMV_MAX_SIG_TAGS];
	const struct dkimv_tv *tag[DKIMV_T_COUNT];
	size_t n;

	memset(t, 0, sizeof(*t));
	memset(tag, 0, sizeof(tag));
	if (strnlen(value, DKIMV_MAX_SIG_BYTES + 1) > DKIMV_MAX_SIG_BYTES) {
		snprintf(why, whylen, "longer than %d bytes",
		    DKIMV_MAX_SIG_BYTES);
		return false;
	}
	if (!dkimv_parse_list(value, tv, DKIMV_MAX_SIG_TAGS, &n, why, whylen))
		return false;
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < i; k++)
			if (tv[k].nlen == tv[i].nlen &&
			    memcmp(tv[k].name, tv[i].name, tv[i].nlen) == 0) {
				snprintf(why, whylen, "tag %.*s= given twice",
				    (int)(tv[i].nlen < DKIMV_MAX_QUOTED ?
				    tv[i].nlen : DKIMV_MAX_QUOTED), tv[i].name);
				return false;
			}
		for (int k = 0; k < DKIMV_T_COUNT; k++)
			if (strlen(dkimv_tagdefs[k].name) == tv[i].nlen &&
			    memcmp(dkimv_tagdefs[k].name, tv[i].name,
			    tv[i].nlen) == 0)
				tag[k] = &tv[i];
	}
	return dkimv_check_tags(tag, now, t, why, whylen);
}

/* dkimv_sig_domain - the d= of a DKIM-Signature value that may be verified */
bool
dkimv_sig_domain(const char *value, char *d, size_t dlen)
{
	struct dkimv_tags t;
	char why[DKIMV_MAX_WHY];

	if (!dkimv_sig_check(value, time(NULL), &t, why, sizeof(why)) ||
	    strlen(t.domain) >= dlen)
		return false;
	memcpy(d, t.domain, strlen(t.domain) + 1);
	return true;
}

/* dkimv_prefetch - start the key query of a signature */
static void
dkimv_prefetch(struct dkimv *v, const struct dkimv_tags *t)
{
	char name[DNS_MAX_NAME + 2];
	int n;

	n = snprintf(name, sizeof(name), "%s" DKIMV_KEY_INFIX "%s",
	    t->selector, t->domain);
	if (n > 0 && (size_t)n <= DNS_MAX_NAME)
		dns_prefetch(v->ctx->dns, name, DNS_T_TXT);
}

/*
 * dkimv_sig_field - a DKIM-Signature field: its slot, if it is within
 * MaximumSignaturesToVerify; true when it may go to libopendkim
 */
static bool
dkimv_sig_field(struct dkimv *v, const char *value)
{
	struct dkimv_slot *s;

	if (v->nslots >= v->max_sigs)
		return false;
	s = &v->slot[v->nslots++];
	if (!dkimv_sig_check(value, time(NULL), &s->tags, s->why,
	    sizeof(s->why)))
		return false;
	s->handed = true;
	dkimv_prefetch(v, &s->tags);
	return true;
}

/*
 * dkimv_header - hand one field to libopendkim ("Name:value", CRLF); a
 * DKIM-Signature only when it will be verified (see the top of the file).
 * Returns the d= of such a signature, checked, for the caller's own early
 * queries; NULL for anything else.
 */
const char *
dkimv_header(struct dkimv *v, const char *name, const char *value)
{
	bool sig = util_strcaseeq(name, DKIMV_HDRNAME);
	DKIM_STAT st;

	if (v->broken || v->eoh)
		return NULL;
	if (sig && !dkimv_sig_field(v, value)) {
		v->withheld++;
		return NULL;
	}
	buf_reset(&v->field);
	buf_puts(&v->field, name);
	buf_putc(&v->field, ':');
	buf_put_crlf(&v->field, value, strlen(value));
	st = dkim_header(v->dkim, (unsigned char *)v->field.data,
	    v->field.len);
	if (!sig)
		return NULL;	/* a malformed field is then just not signed */
	if (st == DKIM_STAT_OK) {
		v->nhanded++;
		return v->slot[v->nslots - 1].tags.domain;
	}
	/* our check let it through, the library did not: not verified */
	v->slot[v->nslots - 1].handed = false;
	snprintf(v->slot[v->nslots - 1].why, sizeof(v->slot[0].why),
	    "refused by libopendkim");
	v->withheld++;
	return NULL;
}

/* dkimv_any_length - does a signature carry l=? (then lengths are counted) */
static bool
dkimv_any_length(struct dkimv *v)
{
	DKIM_SIGINFO **sigs = NULL;
	int nsigs = 0;

	if (dkim_getsiglist(v->dkim, &sigs, &nsigs) != DKIM_STAT_OK)
		return true;
	for (int i = 0; i < nsigs; i++)
		if (dkim_sig_gettagvalue(sigs[i], 0, (unsigned char *)"l") !=
		    NULL)
			return true;
	return false;
}

/*
 * dkimv_own_bh - can we hash the body for every signature libopendkim has
 * (all SHA-256, none with l=)? Then start one hash per body canonicalization.
 */
static bool
dkimv_own_bh(struct dkimv *v)
{
	DKIM_SIGINFO **sigs = NULL;
	int nsigs = 0;
	bool want[2] = { false, false };

	if (v->count_len || dkim_getsiglist(v->dkim, &sigs, &nsigs) !=
	    DKIM_STAT_OK)
		return false;
	for (int i = 0; i < nsigs; i++) {
		dkim_alg_t alg;
		dkim_canon_t hc, bc;

		if (dkim_sig_getsignalg(sigs[i], &alg) != DKIM_STAT_OK ||
		    (alg != DKIM_SIGN_RSASHA256 &&
		    alg != DKIM_SIGN_ED25519SHA256) ||
		    dkim_sig_getcanons(sigs[i], &hc, &bc) != DKIM_STAT_OK ||
		    (bc != DKIM_CANON_SIMPLE && bc != DKIM_CANON_RELAXED))
			return false;
		want[bc == DKIM_CANON_RELAXED] = true;
	}
	if (v->bodies == NULL)
		v->bodies = bodyhash_new();
	for (int k = 0; k < 2; k++)
		if (want[k] && !bodyhash_want(v->bodies, k == 1))
			return false;	/* libopendkim hashes instead */
	return true;
}

/* dkimv_eoh - end of headers: is there anything to verify? */
bool
dkimv_eoh(struct dkimv *v)
{
	DKIM_STAT st;

	if (v->broken || v->eoh)
		return false;
	v->eoh = true;
	if (v->nhanded == 0)
		return false;
	/*
	 * libopendkim 2.11.0 (dkim_canon_selecthdrs) keeps one slot per
	 * header field for the fields a signature's h= selects, and writes a
	 * NULL into the next slot before it looks for each name. When every
	 * field has been used and h= still names one more (h=from:to:x over
	 * a message of only From and To, with over-signing), that write is
	 * one pointer past the array: a heap overflow any sender can cause
	 * with a well-formed signature. One more field that no h= can name
	 * makes the array one slot longer and changes nothing else.
	 */
	if (dkim_header(v->dkim, (unsigned char *)DKIMV_PAD_FIELD,
	    sizeof(DKIMV_PAD_FIELD) - 1) != DKIM_STAT_OK) {
		v->broken = true;
		return false;
	}
	st = dkim_eoh(v->dkim);
	if (st == DKIM_STAT_NOSIG)
		return false;
	v->verifying = true;
	v->count_len = dkimv_any_length(v);
	v->own_bh = dkimv_own_bh(v);
	return true;
}

/* dkimv_len_byte - one line content byte into a body length counter */
static void
dkimv_len_content(struct dkimv_bodylen *b, unsigned char c)
{
	if (b->relaxed && (c == ' ' || c == '\t')) {
		b->wsp = true;
		return;
	}
	if (b->wsp) {
		b->line++;
		b->wsp = false;
	}
	b->line++;
}

/* dkimv_len_eol - the end of a line in a body length counter */
static void
dkimv_len_eol(struct dkimv_bodylen *b)
{
	b->wsp = false;		/* relaxed: white space at the end goes */
	if (b->line == 0) {
		b->empty++;
		return;
	}
	b->total += b->empty * 2 + b->line + 2;
	b->empty = 0;
	b->line = 0;
}

/* dkimv_len_feed - a body chunk (CRLF line ends) into a counter */
static void
dkimv_len_feed(struct dkimv_bodylen *b, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (b->cr) {
			b->cr = false;
			if (p[i] == '\n') {
				dkimv_len_eol(b);
				continue;
			}
			dkimv_len_content(b, '\r');
		}
		if (p[i] == '\r')
			b->cr = true;
		else
			dkimv_len_content(b, p[i]);
	}
}

/* dkimv_len_total - the canonical body length at the end */
static long long
dkimv_len_total(const struct dkimv_bodylen *b)
{
	long long total = b->total;

	if (b->line > 0 || b->cr)
		total += b->empty * 2 + b->line + (b->cr ? 1 : 0) + 2;
	if (total == 0 && !b->relaxed)
		total = 2;		/* simple: an empty body is one CRLF */
	return total;
}

void
dkimv_body(struct dkimv *v, const unsigned char *data, size_t len)
{
	if (v->broken || !v->verifying || len == 0)
		return;
	if (v->count_len) {
		dkimv_len_feed(&v->len_simple, data, len);
		dkimv_len_feed(&v->len_relaxed, data, len);
	}
	if (!v->own_bh)
		(void)dkim_body(v->dkim, (unsigned char *)data, len);
	else if (!v->shared)
		bodyhash_update(v->bodies, data, len);
}

void
dkimv_share_body(struct dkimv *v, struct bodyhash *b)
{
	if (v->eoh || v->bodies != NULL)
		return;
	v->bodies = b;
	v->shared = true;
}

/*
 * dkimv_own_bh_match - does bh= of sig equal our digest of its body
 * canonicalization? (base64; white space in bh= is FWS and ignored)
 */
static bool
dkimv_own_bh_match(const struct dkimv *v, DKIM_SIGINFO *sig)
{
	const unsigned char *bh = dkim_sig_gettagvalue(sig, 0,
	    (unsigned char *)"bh");
	unsigned char b64[2 * DKIMSIGN_SHA256_LEN];
	const unsigned char *digest;
	dkim_canon_t hc, bc;
	size_t n = 0;

	if (bh == NULL || dkim_sig_getcanons(sig, &hc, &bc) != DKIM_STAT_OK ||
	    (digest = bodyhash_digest(v->bodies, bc == DKIM_CANON_RELAXED)) ==
	    NULL)
		return false;
	(void)EVP_EncodeBlock(b64, digest, DKIMSIGN_SHA256_LEN);
	for (; *bh != '\0'; bh++) {
		if (dkimv_is_ws(*bh))
			continue;
		if (b64[n] == '\0' || b64[n] != *bh)
			return false;
		n++;
	}
	return b64[n] == '\0';
}

/* dkimv_error_result - the A-R result for a signature libopendkim refused */
enum dkimv_result
dkimv_error_result(int err, char *reason, size_t len)
{
	const char *why = NULL;
	enum dkimv_result r;

	switch (err) {
	case DKIM_SIGERROR_KEYFAIL:
		r = DKIMV_TEMPERROR;
		break;
	case DKIM_SIGERROR_BADSIG:
		r = DKIMV_FAIL;
		break;
	case DKIM_SIGERROR_KEYTOOSMALL:
	case DKIM_SIGERROR_TOOLARGE_L:
		r = DKIMV_POLICY;
		break;
	/* RFC 6376 6.1.1, 6.1.2: PERMFAIL of the signature, not of the mail */
	case DKIM_SIGERROR_EXPIRED:
		r = DKIMV_PERMERROR;
		why = "signature expired";
		break;
	case DKIM_SIGERROR_FUTURE:
		r = DKIMV_PERMERROR;
		why = "signature timestamp in the future";
		break;
	case DKIM_SIGERROR_KEYREVOKED:
		r = DKIMV_PERMERROR;
		why = "key revoked";
		break;
	default:
		r = DKIMV_PERMERROR;
		break;
	}
	if (why == NULL)
		why = dkim_sig_geterrorstr(err);
	snprintf(reason, len, "%s", why != NULL ? why : "unknown error");
	return r;
}

/* dkimv_b_prefix - the first characters of b=, white space removed */
static void
dkimv_b_prefix(DKIM_SIGINFO *sig, char *out, size_t outlen)
{
	const unsigned char *b = dkim_sig_gettagvalue(sig, 0,
	    (unsigned char *)"b");
	size_t n = 0;

	for (; b != NULL && *b && n + 1 < outlen; b++)
		if (!isspace(*b))
			out[n++] = (char)*b;
	out[n] = '\0';
}

/*
 * dkimv_find - libopendkim's handle of a slot: the next one from *next
 * with the same d=, s= and start of b= (it keeps the order of the fields)
 */
static DKIM_SIGINFO *
dkimv_find(const struct dkimv_slot *s, DKIM_SIGINFO **sigs, int nsigs,
    int *next)
{
	char b[DKIMV_B_PREFIX + 1];

	for (int i = *next; i < nsigs; i++) {
		const unsigned char *d = dkim_sig_getdomain(sigs[i]);
		const unsigned char *sel = dkim_sig_getselector(sigs[i]);

		dkimv_b_prefix(sigs[i], b, sizeof(b));
		if (d == NULL || sel == NULL ||
		    strcasecmp((const char *)d, s->tags.domain) != 0 ||
		    strcasecmp((const char *)sel, s->tags.selector) != 0 ||
		    strcmp(b, s->tags.b) != 0)
			continue;
		*next = i + 1;
		return sigs[i];
	}
	return NULL;
}

/* dkimv_judge - the result of one signature libopendkim processed */
static void
dkimv_judge(struct dkimv *v, DKIM_SIGINFO *sig, struct dkimv_sig *r)
{
	unsigned int flags = dkim_sig_getflags(sig);
	int err = dkim_sig_geterror(sig);
	unsigned int bits = 0;
	ssize_t msglen = -1, canonlen = -1, signlen = -1;
	dkim_canon_t hc = DKIM_CANON_UNKNOWN, bc = DKIM_CANON_UNKNOWN;
	long long bodylen = -1;
	int bh;

	if (dkim_sig_getkeysize(sig, &bits) == DKIM_STAT_OK)
		r->keybits = bits;
	if (dkim_sig_getcanons(sig, &hc, &bc) == DKIM_STAT_OK)
		bodylen = dkimv_len_total(bc == DKIM_CANON_RELAXED ?
		    &v->len_relaxed : &v->len_simple);
	if (v->count_len && dkim_sig_getcanonlen(v->dkim, sig, &msglen,
	    &canonlen, &signlen) == DKIM_STAT_OK && signlen >= 0 &&
	    bodylen >= 0 && signlen < bodylen)
		r->partial = true;
	r->sig_verified = (flags & DKIM_SIGFLAG_PASSED) != 0;
	bh = dkim_sig_getbh(sig);
	if (v->own_bh && r->sig_verified && bh != DKIM_SIGBH_UNTESTED) {
		/* libopendkim's mismatch is of the body it did not get */
		if (err == DKIM_SIGERROR_BADSIG && bh == DKIM_SIGBH_MISMATCH)
			err = DKIM_SIGERROR_OK;
		bh = dkimv_own_bh_match(v, sig) ? DKIM_SIGBH_MATCH :
		    DKIM_SIGBH_MISMATCH;
		if (bh == DKIM_SIGBH_MISMATCH && (err == DKIM_SIGERROR_OK ||
		    err == DKIM_SIGERROR_UNKNOWN))
			err = DKIM_SIGERROR_BADSIG;
	}
	r->bodyhash = bh == DKIM_SIGBH_MATCH ? DKIMV_BH_MATCH :
	    bh == DKIM_SIGBH_MISMATCH ? DKIMV_BH_MISMATCH : DKIMV_BH_UNTESTED;

	if ((flags & DKIM_SIGFLAG_PROCESSED) == 0 &&
	    err == DKIM_SIGERROR_UNKNOWN) {
		r->result = DKIMV_TEMPERROR;
		snprintf(r->reason, sizeof(r->reason), "not processed");
	} else if (err != DKIM_SIGERROR_OK && err != DKIM_SIGERROR_UNKNOWN) {
		r->result = dkimv_error_result(err, r->reason,
		    sizeof(r->reason));
	} else if ((flags & DKIM_SIGFLAG_PASSED) == 0) {
		r->result = DKIMV_FAIL;
		snprintf(r->reason, sizeof(r->reason), "signature mismatch");
	} else if (bh != DKIM_SIGBH_MATCH) {
		r->result = DKIMV_FAIL;
		snprintf(r->reason, sizeof(r->reason), "body hash mismatch");
	} else if (strcmp(r->algorithm, "rsa-sha1") == 0) {
		r->result = DKIMV_POLICY;
		snprintf(r->reason, sizeof(r->reason), "rsa-sha1 is not "
		    "accepted (RFC 8301)");
	} else if (strncmp(r->algorithm, "rsa", 3) == 0 &&
	    r->keybits < DKIMV_MIN_RSA_BITS) {
		r->result = DKIMV_POLICY;
		snprintf(r->reason, sizeof(r->reason), "%u-bit key is too "
		    "short", r->keybits);
	} else if (r->partial && !v->allow_partial) {
		r->result = DKIMV_POLICY;
		snprintf(r->reason, sizeof(r->reason), "l= covers %zd of %lld "
		    "body bytes", signlen, bodylen);
	} else
		r->result = DKIMV_PASS;
}

/* dkimv_result - the result of one slot (sig: libopendkim's, or NULL) */
static void
dkimv_result(struct dkimv *v, const struct dkimv_slot *s, DKIM_SIGINFO *sig,
    struct dkimv_sig *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->domain, sizeof(r->domain), "%s", s->tags.domain);
	snprintf(r->selector, sizeof(r->selector), "%s", s->tags.selector);
	snprintf(r->algorithm, sizeof(r->algorithm), "%s", s->tags.algorithm);
	snprintf(r->b, sizeof(r->b), "%s", s->tags.b);
	if (!s->handed) {
		r->result = DKIMV_PERMERROR;
		snprintf(r->reason, sizeof(r->reason), "%s", s->why);
		return;
	}
	if (sig == NULL) {
		r->result = DKIMV_PERMERROR;
		snprintf(r->reason, sizeof(r->reason), "not accepted by "
		    "libopendkim");
		return;
	}
	dkimv_judge(v, sig, r);
	/* computed over other DKIM-Signature fields than the signer's */
	if (s->tags.signs_sigs && v->withheld > 0 &&
	    (r->result == DKIMV_PASS || r->result == DKIMV_FAIL)) {
		r->result = DKIMV_POLICY;
		snprintf(r->reason, sizeof(r->reason), "h= covers "
		    "DKIM-Signature fields that were not verified");
	}
}

/* dkimv_eom - run the checks and collect one result per signature */
size_t
dkimv_eom(struct dkimv *v, const struct timespec *deadline,
    struct dkimv_sig *out, size_t n)
{
	DKIM_SIGINFO **sigs = NULL;
	int nsigs = 0, next = 0;
	size_t k = 0;

	if (v->broken || !v->eoh)
		return 0;
	if (v->verifying) {
		dkimv_deadline = deadline;
		dkimv_since = &v->started;
		(void)dkim_eom(v->dkim, NULL);
		dkimv_deadline = NULL;
		dkimv_since = NULL;
		if (dkim_getsiglist(v->dkim, &sigs, &nsigs) != DKIM_STAT_OK)
			nsigs = 0;
	}
	for (unsigned i = 0; i < v->nslots && k < n; i++) {
		const struct dkimv_slot *s = &v->slot[i];

		dkimv_result(v, s, s->handed ? dkimv_find(s, sigs, nsigs,
		    &next) : NULL, &out[k++]);
	}
	return k;
}

void
dkimv_free(struct dkimv *v)
{
	if (v == NULL)
		return;
	if (v->dkim != NULL)
		dkim_free(v->dkim);
	if (!v->shared)
		bodyhash_free(v->bodies);
	buf_free(&v->field);
	free(v->slot);
	free(v);
}

const char *
dkimv_result_name(enum dkimv_result r)
{
	switch (r) {
	case DKIMV_PASS: return "pass";
	case DKIMV_FAIL: return "fail";
	case DKIMV_NEUTRAL: return "neutral";
	case DKIMV_POLICY: return "policy";
	case DKIMV_TEMPERROR: return "temperror";
	case DKIMV_PERMERROR: return "permerror";
	default: return "none";
	}
}
