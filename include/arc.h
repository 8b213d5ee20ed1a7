/*
 * arc.h - ARC (RFC 8617): the chain of ARC sets on a message verified, and
 * a new set added (sealing), in the same pass as the other checks.
 *
 * A struct arc follows one message like the DKIM verifier does: header
 * fields one by one (arc_header: each ARC-Seal and ARC-Message-Signature
 * starts the query for its key at once, through the DNS service's
 * prefetch), the body in CRLF chunks (arc_body), then the verdict on the
 * chain (arc_verify) and, when the gateway seals, the new set (arc_seal).
 *
 * Canonicalization, hashing and signing are dkimsign.c's, shared with DKIM
 * signing; signatures are checked with OpenSSL here. Keys come through a
 * small lookup interface (struct arc_dns), as DMARC's do, so that inbound.c
 * hands it dns.c within the message's DNS budget and the unit tests a table.
 *
 * The chain is judged as RFC 8617 section 5.2 says: no ARC header field is
 * "none"; more than ARC_MAX_SETS sets, a newest seal with cv=fail, a set
 * that lacks a field or has two, instances that are not 1..N, a cv= other
 * than none for i=1 and pass above, an ARC-Seal with h=, a newest
 * ARC-Message-Signature that does not verify, or any ARC-Seal that does not
 * verify is "fail". rsa-sha1, RSA keys under the configured minimum and an
 * expired ARC-Message-Signature (x=) fail as well. "oldest-pass" is the
 * lowest instance down to which every ARC-Message-Signature verifies.
 */
#ifndef AM_ARC_H
#define AM_ARC_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

#include "dns.h"

#define ARC_MAX_SETS		50	/* RFC 8617 5.2: more is a failed chain */
#define ARC_MAX_FIELDS		(3 * ARC_MAX_SETS)	/* ARC fields read */
#define ARC_MAX_HEADERS		100000	/* header fields kept (as dkimsign) */
#define ARC_MAX_HEADER_BYTES	(64UL * 1024 * 1024)	/* their bytes */
#define ARC_MAX_TAGS		32	/* tags in one ARC-Seal or AMS */
#define ARC_MAX_SIG_BYTES	1024	/* a decoded b= (RSA-8192 is 1024) */
#define ARC_MAX_KEY_BYTES	2048	/* a decoded p= of a key record */
#define ARC_MAX_REASON		200	/* bytes of the reason kept */
#define ARC_MAX_AAR_DOMAINS	4	/* dmarc=pass domains kept from an AAR */

enum arc_result {
	ARC_RESULT_NONE = 0,	/* no ARC header field */
	ARC_RESULT_PASS,
	ARC_RESULT_FAIL,
};

/* The chain validation status a new ARC-Seal records (cv=). */
enum arc_cv {
	ARC_CV_NONE = 0,
	ARC_CV_PASS,
	ARC_CV_FAIL,
};

/* The DNS under the verification (see dmarc.h's struct dmarc_dns). */
struct arc_dns {
	/* the TXT answer for name (never NULL; dns_answer_free) */
	struct dns_answer *(*lookup)(void *arg, const char *name, unsigned type);
	/* start a query early; NULL when the DNS cannot */
	void	(*prefetch)(void *arg, const char *name, unsigned type);
	void	*arg;
};

struct arc_params {
	const struct arc_dns *dns;	/* kept by reference; NULL: no DNS */
	unsigned	 min_key_bits;	/* RSA keys shorter fail the chain */
	long long	 now;		/* seconds since 1970, for x= */
};

/* What arc_verify() found. */
struct arc_outcome {
	enum arc_result	 result;
	unsigned	 sets;		/* highest instance found (0: none) */
	unsigned	 oldest_pass;	/* on pass: see above; else 0 */
	/* d= of the ARC-Seal of each instance, i=1 first ("" if none) */
	char		 sealers[ARC_MAX_SETS][DNS_MAX_NAME + 1];
	size_t		 nsealers;
	char		 reason[ARC_MAX_REASON];	/* why not pass */
	bool		 temperror;	/* a key lookup failed for a DNS reason */
	/* the newest ARC-Authentication-Results: dmarc=pass for these */
	char		 aar_dmarc_pass[ARC_MAX_AAR_DOMAINS][DNS_MAX_NAME + 1];
	size_t		 naar_dmarc_pass;
};

/* What a new set is signed with. */
struct arc_seal_params {
	EVP_PKEY	*key;		/* RSA (or Ed25519) private key */
	const char	*domain;	/* d= */
	const char	*selector;	/* s= */
	/* the ARC-Message-Signature's h= (ARC fields and A-R are left out) */
	const char *const *sign_headers;	/* NULL-terminated */
	const char *const *oversign_headers;	/* NULL-terminated, or NULL */
	long long	 timestamp;	/* t= */
};

/* The three fields of a new set, values folded with CRLF TAB. */
struct arc_sealed {
	unsigned	 instance;
	char		*aar;		/* ARC-Authentication-Results */
	char		*ams;		/* ARC-Message-Signature */
	char		*seal;		/* ARC-Seal */
};

struct arc;

/* arc_new - one message; p->dns must outlive the handle */
struct arc *arc_new(const struct arc_params *p);
void arc_free(struct arc *a);

/*
 * arc_header - one header field of the message, in order: name, and the
 * value as the MTA gave it (folded with LF or CRLF). Every field is kept
 * within ARC_MAX_HEADERS / ARC_MAX_HEADER_BYTES, for the h= of the
 * ARC-Message-Signatures.
 */
void arc_header(struct arc *a, const char *name, const char *value);

/* arc_instances - the highest i= among the ARC fields seen (0: none) */
unsigned arc_instances(const struct arc *a);

/*
 * arc_seal_start - after the last header: prepare a new set with sp (it
 * must stay valid until arc_seal). False, with the reason in err, when
 * no set may be added: the chain already ends with cv=fail, it has
 * ARC_MAX_SETS sets, the header section was too large, or the key or
 * the parameters are refused.
 */
bool arc_seal_start(struct arc *a, const struct arc_seal_params *sp,
    char *err, size_t errlen);
/* arc_seal_instance - the i= of the set being prepared (0: none) */
unsigned arc_seal_instance(const struct arc *a);

/* arc_eoh - end of headers; true when the body is needed */
bool arc_eoh(struct arc *a);
/* arc_body - a body chunk in CRLF form */
void arc_body(struct arc *a, const unsigned char *data, size_t len);
/*
 * arc_share_body - before arc_eoh(): hash the body in b (bodyhash.h),
 * which the caller owns and feeds itself; arc_body() then does nothing
 */
struct bodyhash;
void arc_share_body(struct arc *a, struct bodyhash *b);

/* arc_verify - judge the chain (fetching keys as needed); fills out */
void arc_verify(struct arc *a, struct arc_outcome *out);

/*
 * arc_set_trace - write each step of arc_verify() to t (trace.h; check
 * --explain): the sets found, the cv= rules, each key, each
 * ARC-Message-Signature's body and header hash, each ARC-Seal, the chain
 * result. NULL: nothing is written.
 */
struct trace;
void arc_set_trace(struct arc *a, struct trace *t);

/*
 * arc_seal - the new set: aar_value is the whole value of the new
 * ARC-Authentication-Results ("i=N; authserv-id; ..."), cv the chain
 * status it seals: cv=pass covers every earlier set, cv=none (i=1) and
 * cv=fail cover the new set only. Fills out (arc_sealed_free); false
 * with a reason in err.
 */
bool arc_seal(struct arc *a, enum arc_cv cv, const char *aar_value,
    struct arc_sealed *out, char *err, size_t errlen);
void arc_sealed_free(struct arc_sealed *s);

/* arc_seal_cv - the cv= a verified chain gives a new seal */
enum arc_cv arc_seal_cv(const struct arc_outcome *o);

/* arc_result_name - "none", "pass", "fail" */
const char *arc_result_name(enum arc_result r);
/* arc_cv_name - "none", "pass", "fail" */
const char *arc_cv_name(enum arc_cv cv);

#endif
