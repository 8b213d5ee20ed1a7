/*
 * dkimsign.h - a small streaming DKIM signer (RFC 6376): ed25519-sha256
 * (RFC 8463) and rsa-sha256, with simple or relaxed canonicalization.
 *
 * Why it exists: libopendkim 2.11.0~beta2 leaks its crypto state on every
 * Ed25519 signature, and a milter that signs every message cannot leak per
 * message; and it takes keys only as PEM text, parsing the key again for
 * every message, which made RSA signing cost three times the RSA operation.
 * This signer uses the key parsed at load. The unit tests compare its
 * output with libopendkim's byte for byte.
 *
 * Use: dkimsign_new(); dkimsign_header() for each header field in message
 * order; dkimsign_body() for the body in chunks of any size; then
 * dkimsign_finish() once, which yields the DKIM-Signature header value;
 * dkimsign_free() in every case. Memory is bounded by the header section
 * (only the fields that are signed are kept) and does not grow with the body.
 */
#ifndef AM_DKIMSIGN_H
#define AM_DKIMSIGN_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

/*
 * Bounds on what one handle keeps of the header section. They count only
 * the fields whose names are in the sign or oversign list (the others are
 * never hashed), and are no tighter than the largest MaximumHeaders and
 * MaximumHeaderBytes the configuration accepts.
 */
#define DKIMSIGN_MAX_HEADERS	100000		/* signed fields kept */
#define DKIMSIGN_MAX_HEADER_BYTES (64UL * 1024 * 1024) /* their bytes */
#define DKIMSIGN_MAX_NAMES	1024	/* names in both lists together */
#define DKIMSIGN_MAX_NAMELEN	255	/* bytes in one header name */
#define DKIMSIGN_MAX_TAGLEN	255	/* bytes in d=, s= or i= */

/*
 * What to sign with. Names in oversign_headers are signed as well, even
 * if sign_headers lacks them; From must be in one of the two lists.
 */
struct dkimsign_params {
	const char	*domain;	/* d= */
	const char	*selector;	/* s= */
	const char	*identity;	/* i= ([user]@d or @sub.d), or NULL */
	EVP_PKEY	*key;		/* Ed25519 or RSA private key */
	bool		 hdr_relaxed;	/* c=relaxed/..., else simple/... */
	bool		 body_relaxed;	/* c=.../relaxed, else .../simple */
	const char *const *sign_headers;	/* NULL-terminated */
	const char *const *oversign_headers;	/* NULL-terminated, or NULL */
	long long	 timestamp;	/* t=; negative to leave it out */
};

struct dkimsign;

/*
 * dkimsign_new - start one signature. The handle copies what it needs of
 * p and takes its own reference to the key (EVP_PKEY_up_ref), so p, its
 * strings and lists, and the caller's reference may go away after the
 * call. Returns NULL with a reason in err (bad parameters, unusable key).
 */
struct dkimsign *dkimsign_new(const struct dkimsign_params *p, char *err,
    size_t errlen);
/*
 * dkimsign_header - one header field "Name:value" exactly as in the message
 * (CRLF inside folded values, no final CRLF), in message order. Returns
 * false when the bounds above are exceeded; the handle then cannot sign.
 */
bool dkimsign_header(struct dkimsign *ds, const char *field, size_t len);
/* dkimsign_body - a body chunk, lines ending in CRLF, any size */
void dkimsign_body(struct dkimsign *ds, const unsigned char *data, size_t len);
/*
 * dkimsign_finish - the DKIM-Signature header value (what follows
 * "DKIM-Signature:"), starting with a space, folded with CRLF TAB, no final
 * CRLF; malloc'd. NULL with a reason in err on failure (no From field, a
 * bound exceeded, the key refused to sign). Call it once.
 */
char *dkimsign_finish(struct dkimsign *ds, char *err, size_t errlen);
void dkimsign_free(struct dkimsign *ds);

#endif
