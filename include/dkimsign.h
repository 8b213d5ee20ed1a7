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
 *
 * The same signer makes the two signatures of an ARC set (RFC 8617, see
 * arc.h): an ARC-Message-Signature (kind DKIMSIGN_ARC_MS: i= instead of
 * v=) and an ARC-Seal (kind DKIMSIGN_ARC_SEAL: the fields given to
 * dkimsign_header() are all signed, in the order given, relaxed; no body).
 * Its canonicalization is offered on its own for verifiers: dkimsign_bh_*
 * hashes a body, dkimsign_hash_* hashes header fields.
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
#define DKIMSIGN_MAX_INSTANCE	1024	/* highest ARC i= a handle makes */
#define DKIMSIGN_SHA256_LEN	32	/* bytes of a SHA-256 digest */

/* Which header field a handle makes. */
enum dkimsign_kind {
	DKIMSIGN_DKIM = 0,	/* DKIM-Signature (RFC 6376) */
	DKIMSIGN_ARC_MS,	/* ARC-Message-Signature (RFC 8617 4.1.2) */
	DKIMSIGN_ARC_SEAL,	/* ARC-Seal (RFC 8617 4.1.3) */
};

/*
 * What to sign with. Names in oversign_headers are signed as well, even
 * if sign_headers lacks them; From must be in one of the two lists. An
 * ARC-Message-Signature has no identity; an ARC-Seal needs no lists and
 * is relaxed whatever hdr_relaxed says.
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
	long long	 expiration;	/* x=; 0 (or less) to leave it out */
	enum dkimsign_kind kind;	/* DKIMSIGN_DKIM unless set */
	unsigned	 instance;	/* ARC: i=, 1..DKIMSIGN_MAX_INSTANCE */
	const char	*cv;		/* ARC-Seal: "none", "pass" or "fail" */
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
/*
 * dkimsign_finish_bh - dkimsign_finish() with the body hash (bh=) computed
 * elsewhere, by a dkimsign_bh of the same canonicalization: a verifier's
 * body hash serves a sealer too. The handle's own body hash is not used.
 */
char *dkimsign_finish_bh(struct dkimsign *ds,
    const unsigned char digest[DKIMSIGN_SHA256_LEN], char *err,
    size_t errlen);
/*
 * dkimsign_take_ctx - ds takes over the RSA signing context that from
 * made for its own signature, when both sign with the same key: the two
 * signatures of an ARC set then set one up. Nothing happens otherwise.
 */
void dkimsign_take_ctx(struct dkimsign *ds, struct dkimsign *from);
void dkimsign_free(struct dkimsign *ds);

/*
 * The body canonicalizer (RFC 6376 3.4.3, 3.4.4) with its SHA-256: feed
 * chunks of any size in CRLF form, then dkimsign_bh_final() once. The
 * result does not depend on how the body was chunked. NULL from _new when
 * SHA-256 is unavailable; _final false on a hash failure.
 */
struct dkimsign_bh;
struct dkimsign_bh *dkimsign_bh_new(bool relaxed);
void dkimsign_bh_update(struct dkimsign_bh *bh, const unsigned char *data,
    size_t len);
bool dkimsign_bh_final(struct dkimsign_bh *bh,
    unsigned char digest[DKIMSIGN_SHA256_LEN]);
void dkimsign_bh_free(struct dkimsign_bh *bh);

/*
 * The header canonicalizer (RFC 6376 3.4.1, 3.4.2) with its SHA-256: each
 * field "Name:value" (CRLF inside folded values, no final CRLF) is hashed
 * simple or relaxed, followed by CRLF when crlf is true (every field but
 * the signature's own). NULL from _new when SHA-256 is unavailable.
 */
struct dkimsign_hash;
struct dkimsign_hash *dkimsign_hash_new(void);
void dkimsign_hash_field(struct dkimsign_hash *h, const char *field,
    size_t len, bool relaxed, bool crlf);
bool dkimsign_hash_final(struct dkimsign_hash *h,
    unsigned char digest[DKIMSIGN_SHA256_LEN]);
void dkimsign_hash_free(struct dkimsign_hash *h);

#endif
