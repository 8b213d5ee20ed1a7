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

enum dkimv_result {
	DKIMV_NONE = 0,
	DKIMV_PASS,
	DKIMV_FAIL,
	DKIMV_NEUTRAL,
	DKIMV_POLICY,
	DKIMV_TEMPERROR,
	DKIMV_PERMERROR,
};

struct dkimv_sig {
	enum dkimv_result result;
	char		 domain[DNS_MAX_NAME + 1];	/* d=, lower case */
	char		 selector[DNS_MAX_NAME + 1];	/* s= */
	char		 algorithm[24];			/* a= */
	char		 b[DKIMV_B_PREFIX + 1];		/* first chars of b= */
	char		 reason[128];			/* why, if not pass */
	unsigned	 keybits;
	bool		 partial;	/* l= leaves part of the body unsigned */
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
/* dkimv_header - one header field: name, value as the MTA gave it */
void dkimv_header(struct dkimv *v, const char *name, const char *value);
/* dkimv_eoh - end of headers; true when there is a signature to check */
bool dkimv_eoh(struct dkimv *v);
/* dkimv_body - a body chunk in canonical CRLF form */
void dkimv_body(struct dkimv *v, const unsigned char *data, size_t len);
/*
 * dkimv_eom - verify, waiting for keys until deadline. Fills out with at
 * most n results, top signature first; returns how many.
 */
size_t dkimv_eom(struct dkimv *v, const struct timespec *deadline,
    struct dkimv_sig *out, size_t n);
void dkimv_free(struct dkimv *v);

/* dkimv_sig_domain - the d= of a DKIM-Signature header value (lower case) */
bool dkimv_sig_domain(const char *value, char *d, size_t dlen);
/*
 * dkimv_error_result - the result and reason for a DKIM_SIGERROR_* code of
 * libopendkim (reason gets the words of the A-R comment)
 */
enum dkimv_result dkimv_error_result(int err, char *reason, size_t len);

/* dkimv_result_name - "pass", "fail", "neutral", "policy", ... */
const char *dkimv_result_name(enum dkimv_result r);

#endif
