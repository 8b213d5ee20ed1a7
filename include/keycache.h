/*
 * keycache.h - public keys decoded once: the DER bytes of a key (the
 * SubjectPublicKeyInfo of a DKIM or ARC key record's p=) mapped to the
 * key OpenSSL decoded from them. OpenSSL 3 decodes a public key through
 * its decoder framework, which builds and searches a decoder context for
 * every key: 0.1 ms per key, more than the RSA verification itself. The
 * same few keys verify most mail, so each is decoded once.
 *
 * The map is a pure function of the bytes (a new key, a rotated one,
 * has other bytes), so nothing ever goes stale; the cache holds at most
 * KEYCACHE_ENTRIES keys of at most KEYCACHE_MAX_DER bytes, the least
 * recently used one making room. Thread-safe; a key is shared by the
 * threads that use it (OpenSSL keys are immutable once decoded).
 */
#ifndef AM_KEYCACHE_H
#define AM_KEYCACHE_H

#include <stddef.h>

#include <openssl/evp.h>

#define KEYCACHE_ENTRIES	128	/* keys kept */
#define KEYCACHE_MAX_DER	2048	/* a longer key is decoded, not kept */

/*
 * keycache_pubkey - d2i_PUBKEY(NULL, pp, len), decoded once: the key of
 * the SubjectPublicKeyInfo at *pp, with a reference of its own for the
 * caller (EVP_PKEY_free()), *pp moved past it; NULL when it does not
 * decode
 */
EVP_PKEY *keycache_pubkey(const unsigned char **pp, size_t len);
/* keycache_clear - drop every key kept (at exit, in tests) */
void keycache_clear(void);

#endif
