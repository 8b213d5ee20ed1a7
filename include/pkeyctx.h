/*
 * pkeyctx.h - RSA contexts prepared once per key and thread
 *
 * OpenSSL 3 builds an EVP_PKEY_CTX for a signature by fetching the
 * algorithm, the key management and the digest from its provider, each
 * time (some 3 us per context, a fifth of an RSA-2048 verification).
 * Keys live long (the signing keys of the configuration, the public keys
 * of keycache.h), so each thread keeps a few contexts ready. Owns the
 * contexts; the caller owns the key.
 */
#ifndef AUTHMILTER_PKEYCTX_H
#define AUTHMILTER_PKEYCTX_H

#include <stdbool.h>

#include <openssl/evp.h>

/*
 * pkeyctx_rsa - a context of this thread for RSA PKCS#1 v1.5 signatures
 * with SHA-256 by key (sign: EVP_PKEY_sign, else EVP_PKEY_verify), NULL
 * on failure. It stays the thread's: not to be freed, and used before the
 * thread's next pkeyctx_rsa() call.
 */
EVP_PKEY_CTX *pkeyctx_rsa(EVP_PKEY *key, bool sign);

#endif
