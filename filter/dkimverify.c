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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <opendkim/dkim.h>

#include "addr.h"
#include "dkimverify.h"
#include "dns.h"
#include "log.h"
#include "util.h"

#define DKIMV_HDRNAME		"DKIM-Signature"
#define DKIMV_MAX_TAGVAL	256	/* bytes of a d=/s= value parsed early */

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

struct dkimv {
	struct dkimv_ctx	*ctx;
	struct timespec		 started;	/* the message's start */
	struct dkimv_bodylen	 len_simple;
	struct dkimv_bodylen	 len_relaxed;
	bool			 count_len;	/* a signature has l= */
	DKIM			*dkim;
	unsigned		 max_sigs;
	bool			 allow_partial;
	unsigned		 nsigs;		/* DKIM-Signature headers seen */
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

/* dkimv_final - libopendkim's last call before it checks: apply the limit */
static DKIM_CBSTAT
dkimv_final(DKIM *dkim, DKIM_SIGINFO **sigs, int nsigs)
{
	struct dkimv *v = dkim_get_user_context(dkim);

	for (int i = 0; v != NULL && i < nsigs; i++)
		if ((unsigned)i >= v->max_sigs)
			dkim_sig_ignore(sigs[i]);
	return DKIM_CBSTAT_CONTINUE;
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
	    &timeout, sizeof(timeout)) != DKIM_STAT_OK ||
	    dkim_set_final(c->lib, dkimv_final) != DKIM_STAT_OK) {
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

/*
 * dkimv_tag - the value of tag t in a DKIM-Signature tag list, bounded,
 * white space removed; false if absent or too long
 */
static bool
dkimv_tag(const char *list, const char *t, char *out, size_t outlen)
{
	size_t tlen = strlen(t);
	const char *p = list;

	while (*p) {
		const char *start, *end;
		size_t n = 0;

		while (*p == ';' || isspace((unsigned char)*p))
			p++;
		start = p;
		end = p + strcspn(p, ";");
		p = end;
		while (start < end && isspace((unsigned char)*start))
			start++;
		if ((size_t)(end - start) <= tlen ||
		    strncmp(start, t, tlen) != 0)
			continue;
		start += tlen;
		while (start < end && isspace((unsigned char)*start))
			start++;
		if (*start != '=')
			continue;
		for (start++; start < end; start++) {
			if (isspace((unsigned char)*start))
				continue;
			if (n + 1 >= outlen)
				return false;
			out[n++] = (char)tolower((unsigned char)*start);
		}
		out[n] = '\0';
		return n > 0;
	}
	return false;
}

/* dkimv_sig_domain - the d= of a DKIM-Signature value, lower case */
bool
dkimv_sig_domain(const char *value, char *d, size_t dlen)
{
	return dkimv_tag(value, "d", d, dlen) && addr_domain_valid(d);
}

/* dkimv_prefetch - start the key query of a DKIM-Signature header */
static void
dkimv_prefetch(struct dkimv *v, const char *value)
{
	char d[DKIMV_MAX_TAGVAL], s[DKIMV_MAX_TAGVAL];
	char name[DNS_MAX_NAME + 2];
	int n;

	if (!dkimv_tag(value, "d", d, sizeof(d)) ||
	    !dkimv_tag(value, "s", s, sizeof(s)))
		return;
	n = snprintf(name, sizeof(name), "%s._domainkey.%s", s, d);
	if (n < 0 || (size_t)n >= sizeof(name) || !addr_domain_valid(name))
		return;
	dns_prefetch(v->ctx->dns, name, DNS_T_TXT);
}

/* dkimv_header - hand one field to libopendkim ("Name:value", CRLF) */
void
dkimv_header(struct dkimv *v, const char *name, const char *value)
{
	if (v->broken)
		return;
	if (util_strcaseeq(name, DKIMV_HDRNAME)) {
		if (v->nsigs < v->max_sigs)
			dkimv_prefetch(v, value);
		v->nsigs++;
	}
	buf_reset(&v->field);
	buf_puts(&v->field, name);
	buf_putc(&v->field, ':');
	buf_put_crlf(&v->field, value, strlen(value));
	/* libopendkim refuses a malformed field; it then just is not signed */
	(void)dkim_header(v->dkim, (unsigned char *)v->field.data,
	    v->field.len);
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

/* dkimv_eoh - end of headers: is there anything to verify? */
bool
dkimv_eoh(struct dkimv *v)
{
	DKIM_STAT st;

	if (v->broken || v->nsigs == 0)
		return false;
	st = dkim_eoh(v->dkim);
	if (st == DKIM_STAT_NOSIG)
		return false;
	v->count_len = dkimv_any_length(v);
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
	if (v->broken || v->nsigs == 0 || len == 0)
		return;
	if (v->count_len) {
		dkimv_len_feed(&v->len_simple, data, len);
		dkimv_len_feed(&v->len_relaxed, data, len);
	}
	(void)dkim_body(v->dkim, (unsigned char *)data, len);
}

/* dkimv_copy_lower - bounded lower-case copy of a possibly NULL string */
static void
dkimv_copy_lower(char *dst, size_t size, const unsigned char *src)
{
	snprintf(dst, size, "%s", src ? (const char *)src : "");
	util_strlower(dst);
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

/* dkimv_alg_name - the a= of a signature */
static const char *
dkimv_alg_name(DKIM_SIGINFO *sig)
{
	dkim_alg_t alg = DKIM_SIGN_UNKNOWN;

	(void)dkim_sig_getsignalg(sig, &alg);
	switch (alg) {
	case DKIM_SIGN_RSASHA256: return "rsa-sha256";
	case DKIM_SIGN_RSASHA1: return "rsa-sha1";
	case DKIM_SIGN_ED25519SHA256: return "ed25519-sha256";
	default: return "unknown";
	}
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

	memset(r, 0, sizeof(*r));
	dkimv_copy_lower(r->domain, sizeof(r->domain), dkim_sig_getdomain(sig));
	dkimv_copy_lower(r->selector, sizeof(r->selector),
	    dkim_sig_getselector(sig));
	snprintf(r->algorithm, sizeof(r->algorithm), "%s", dkimv_alg_name(sig));
	dkimv_b_prefix(sig, r->b, sizeof(r->b));
	if (dkim_sig_getkeysize(sig, &bits) == DKIM_STAT_OK)
		r->keybits = bits;
	if (dkim_sig_getcanons(sig, &hc, &bc) == DKIM_STAT_OK)
		bodylen = dkimv_len_total(bc == DKIM_CANON_RELAXED ?
		    &v->len_relaxed : &v->len_simple);
	if (dkim_sig_getcanonlen(v->dkim, sig, &msglen, &canonlen,
	    &signlen) == DKIM_STAT_OK && signlen >= 0 && bodylen >= 0 &&
	    signlen < bodylen)
		r->partial = true;

	if ((flags & DKIM_SIGFLAG_IGNORE) != 0) {
		r->result = DKIMV_NONE;
		snprintf(r->reason, sizeof(r->reason), "not checked: over "
		    "MaximumSignaturesToVerify");
	} else if ((flags & DKIM_SIGFLAG_PROCESSED) == 0 &&
	    err == DKIM_SIGERROR_UNKNOWN) {
		r->result = DKIMV_TEMPERROR;
		snprintf(r->reason, sizeof(r->reason), "not processed");
	} else if (err != DKIM_SIGERROR_OK && err != DKIM_SIGERROR_UNKNOWN) {
		r->result = dkimv_error_result(err, r->reason,
		    sizeof(r->reason));
	} else if ((flags & DKIM_SIGFLAG_PASSED) == 0) {
		r->result = DKIMV_FAIL;
		snprintf(r->reason, sizeof(r->reason), "signature mismatch");
	} else if (dkim_sig_getbh(sig) != DKIM_SIGBH_MATCH) {
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

/* dkimv_eom - run the checks and collect one result per signature */
size_t
dkimv_eom(struct dkimv *v, const struct timespec *deadline,
    struct dkimv_sig *out, size_t n)
{
	DKIM_SIGINFO **sigs = NULL;
	int nsigs = 0;
	size_t k = 0;

	if (v->broken || v->nsigs == 0)
		return 0;
	dkimv_deadline = deadline;
	dkimv_since = &v->started;
	(void)dkim_eom(v->dkim, NULL);
	dkimv_deadline = NULL;
	dkimv_since = NULL;
	if (dkim_getsiglist(v->dkim, &sigs, &nsigs) != DKIM_STAT_OK)
		return 0;
	for (int i = 0; i < nsigs && k < n && (unsigned)i < v->max_sigs; i++)
		dkimv_judge(v, sigs[i], &out[k++]);
	return k;
}

void
dkimv_free(struct dkimv *v)
{
	if (v == NULL)
		return;
	if (v->dkim != NULL)
		dkim_free(v->dkim);
	buf_free(&v->field);
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
