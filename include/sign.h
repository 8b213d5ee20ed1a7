/*
 * sign.h - DKIM signing (by dkimsign.c, every algorithm).
 *
 * A sign_ctx belongs to one configuration: its canonicalization and header
 * lists. A signer signs one message
 * with one or more keys at once: the headers are given once, the body is
 * streamed in chunks of any size, and at the end each key yields one
 * DKIM-Signature header value.
 */
#ifndef AM_SIGN_H
#define AM_SIGN_H

#include <stdbool.h>
#include <stddef.h>

#include "keys.h"

struct sign_ctx;
struct signer;

#define SIGN_MAX_KEYS	8	/* signatures on one message */

/*
 * sign_ctx_new - what a configuration says about signatures: relaxed or
 * simple canonicalization of header and body, the headers to sign and to
 * oversign (NULL-terminated lists the caller keeps alive; oversign may be
 * NULL)
 */
struct sign_ctx *sign_ctx_new(bool hdr_relaxed, bool body_relaxed,
    const char *const *sign_headers, const char *const *oversign_headers);
void sign_ctx_free(struct sign_ctx *sc);

/* One requested signature. */
struct sign_request {
	const char		*domain;	/* d= */
	const char		*selector;	/* s= */
	const char		*signer;	/* i= or NULL */
	const struct privkey	*key;
};

/*
 * signer_new - start signing with n (<= SIGN_MAX_KEYS) keys. jobid names
 * the message in libopendkim's diagnostics. Returns NULL with a reason in err.
 */
struct signer *signer_new(struct sign_ctx *sc, const char *jobid,
    const struct sign_request *req, size_t n, char *err, size_t errlen);
/* signer_header - one header field, "Name:value" with CRLF folding */
bool signer_header(struct signer *s, const char *field, size_t len);
bool signer_eoh(struct signer *s);
/* signer_body - a chunk of the body in canonical CRLF form */
bool signer_body(struct signer *s, const unsigned char *data, size_t len);
/*
 * signer_eom - finish. On success returns the number of signatures; the
 * value of the i-th DKIM-Signature header (folded with "\r\n\t", without the
 * field name) is signer_value(s, i).
 */
bool signer_eom(struct signer *s);
size_t signer_count(const struct signer *s);
const char *signer_value(const struct signer *s, size_t i);
/* signer_error - what went wrong last (static or owned by s) */
const char *signer_error(const struct signer *s);
void signer_free(struct signer *s);

#endif
