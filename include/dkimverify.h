/*
 * dkimverify.h - DKIM verification (RFC 6376, RFC 8463) with libopendkim,
 * its DNS given by dns.c through libopendkim's dkim_dns_set_query_* hooks.
 *
 * A dkimv_ctx belongs to one configuration (the libopendkim handle and the
 * DNS service it uses). A dkimv verifies one message: headers one by one
 * (each DKIM-Signature starts the query for its key at once, so keys are
 * usually in the cache by the end of the message), the body streamed, and
 * at the end one result per signature, top first, up to
 * MaximumSignaturesToVerify. Signatures beyond the limit are not checked.
 *
 * Only what will be verified reaches libopendkim: the DKIM-Signature
 * fields within MaximumSignaturesToVerify that pass our own check of the
 * RFC 6376 grammar (dkimv_sig_check) and bounds. The others are never
 * parsed by the library (its tag parser is quadratic in the tag count);
 * those within the limit are permerror, with the reason.
 */
#ifndef AM_DKIMVERIFY_H
#define AM_DKIMVERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "dns.h"

#define DKIMV_MAX_SIGS		50	/* highest MaximumSignaturesToVerify */
#define DKIMV_MIN_RSA_BITS	1024	/* RFC 8301: shorter keys are refused */
#define DKIMV_B_PREFIX		8	/* header.b characters (RFC 6008) */
/*
 * Bounds of one DKIM-Signature field value (see dkimverify.c for why):
 * what is over them is permerror and never reaches libopendkim.
 */
#define DKIMV_MAX_SIG_BYTES	8192	/* bytes of the value */
#define DKIMV_MAX_SIG_TAGS	64	/* tags (RFC 6376 defines 14) */
#define DKIMV_MAX_SIG_HDRS	128	/* field names in h= */
#define DKIMV_MAX_ALG		24	/* bytes of an a= value kept */

enum dkimv_result {
	DKIMV_NONE = 0,
	DKIMV_PASS,
	DKIMV_FAIL,
	DKIMV_NEUTRAL,
	DKIMV_POLICY,
	DKIMV_TEMPERROR,
	DKIMV_PERMERROR,
};

/*
 * One result. domain, selector, algorithm and b are "" when the signature
 * did not give a valid one: they are never reported otherwise.
 */
struct dkimv_sig {
	enum dkimv_result result;
	char		 domain[DNS_MAX_NAME + 1];	/* d=, lower case */
	char		 selector[DNS_MAX_NAME + 1];	/* s=, lower case */
	char		 algorithm[DKIMV_MAX_ALG];	/* a=, lower case */
	char		 b[DKIMV_B_PREFIX + 1];		/* first chars of b= */
	char		 reason[128];			/* why, if not pass */
	unsigned	 keybits;
	bool		 partial;	/* l= leaves part of the body unsigned */
	/* for an explanation: what libopendkim found of the two hashes */
	bool		 sig_verified;	/* b= verifies over the header hash */
	int		 bodyhash;	/* DKIMV_BH_*: bh= against the body */
};

#define DKIMV_BH_UNTESTED	0	/* not reached (a zeroed result) */
#define DKIMV_BH_MATCH		1
#define DKIMV_BH_MISMATCH	2

/* What dkimv_sig_check() found in a DKIM-Signature value. */
struct dkimv_tags {
	char		 domain[DNS_MAX_NAME + 1];	/* d=, when valid */
	char		 selector[DNS_MAX_NAME + 1];	/* s=, when valid */
	char		 algorithm[DKIMV_MAX_ALG];	/* a=, when known */
	char		 b[DKIMV_B_PREFIX + 1];		/* b=, when base64 */
	bool		 signs_sigs;	/* h= names DKIM-Signature */
};

struct dkimv_ctx;
struct dkimv;

/*
 * dkimv_ctx_new - a libopendkim handle whose DNS is dns. dns may be NULL
 * and given later with dkimv_ctx_set_dns(), before the first message:
 * dkim_init() sets up the calling thread's resolver state (which it never
 * uses here), so handles are made at configuration load, on the main
 * thread, while the DNS service starts on first use.
 */
struct dkimv_ctx *dkimv_ctx_new(struct dns_service *dns, unsigned timeout_secs,
    char *err, size_t errlen);
void dkimv_ctx_set_dns(struct dkimv_ctx *c, struct dns_service *dns);
void dkimv_ctx_free(struct dkimv_ctx *c);

/*
 * dkimv_new - start one message; max_sigs signatures are checked, counted
 * from the top; allow_partial makes an l= signature that leaves part of
 * the body unsigned a pass (else policy). jobid names it in diagnostics.
 */
struct dkimv *dkimv_new(struct dkimv_ctx *c, const char *jobid,
    unsigned max_sigs, bool allow_partial);
/*
 * dkimv_header - one header field: name, value as the MTA gave it. For a
 * DKIM-Signature that will be verified, returns its d= (valid until
 * dkimv_free); NULL otherwise.
 */
const char *dkimv_header(struct dkimv *v, const char *name,
    const char *value);
/* dkimv_eoh - end of headers; true when there is a signature to check */
bool dkimv_eoh(struct dkimv *v);
/* dkimv_body - a body chunk in canonical CRLF form */
void dkimv_body(struct dkimv *v, const unsigned char *data, size_t len);
/*
 * dkimv_share_body - before dkimv_eoh(): hash the body in b (bodyhash.h),
 * which the caller owns and feeds itself; dkimv_body() then feeds only
 * what libopendkim still hashes
 */
struct bodyhash;
void dkimv_share_body(struct dkimv *v, struct bodyhash *b);
/*
 * dkimv_eom - verify, waiting for keys until deadline. Fills out with at
 * most n results, top signature first; returns how many.
 */
size_t dkimv_eom(struct dkimv *v, const struct timespec *deadline,
    struct dkimv_sig *out, size_t n);
void dkimv_free(struct dkimv *v);

/*
 * dkimv_sig_check - check a DKIM-Signature field value (as the MTA gave
 * it) against RFC 6376 (3.2 tag-list, 3.5 tags, 6.1.1) and our bounds,
 * at the time now: true when it may be verified. Else false, with the
 * reason of the permerror in why. t gets what is valid either way.
 */
bool dkimv_sig_check(const char *value, time_t now, struct dkimv_tags *t,
    char *why, size_t whylen);
/*
 * dkimv_sig_domain - the d= of a DKIM-Signature header value (lower case),
 * when the signature passes dkimv_sig_check()
 */
bool dkimv_sig_domain(const char *value, char *d, size_t dlen);
/* dkimv_domain_valid - a domain-name of RFC 6376 3.5 (LDH, two labels) */
bool dkimv_domain_valid(const char *d);
/* dkimv_selector_valid - a selector of RFC 6376 3.1 (LDH labels) */
bool dkimv_selector_valid(const char *s);
/*
 * dkimv_error_result - the result and reason for a DKIM_SIGERROR_* code of
 * libopendkim (reason gets the words of the A-R comment)
 */
enum dkimv_result dkimv_error_result(int err, char *reason, size_t len);

/* dkimv_result_name - "pass", "fail", "neutral", "policy", ... */
const char *dkimv_result_name(enum dkimv_result r);

#endif
