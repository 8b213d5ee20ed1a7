/*
 * test_keycache.c - unit tests for keycache.c and for the d2i_PUBKEY_bio()
 * that dkimverify.c defines for libopendkim: a key decoded from the same
 * bytes is the same key (kept), what d2i_PUBKEY() would consume is
 * consumed (trailing bytes left), junk is NULL, more keys than the cache
 * holds still decode right, and a memory BIO is read as libcrypto's
 * function reads it. Keys are made in memory at test time.
 */
#include "buildconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "keycache.h"

#define TRAILER		"trailing bytes"
#define MANY_KEYS	(KEYCACHE_ENTRIES + 16)

/* spki - the SubjectPublicKeyInfo DER of key, with extra bytes after it */
static unsigned char *
spki(EVP_PKEY *key, const char *extra, size_t *len)
{
	unsigned char *der = NULL, *out;
	int n = i2d_PUBKEY(key, &der);
	size_t xlen = extra ? strlen(extra) : 0;

	assert_true(n > 0);
	out = malloc((size_t)n + xlen);
	assert_non_null(out);
	memcpy(out, der, (size_t)n);
	if (xlen)
		memcpy(out + n, extra, xlen);
	OPENSSL_free(der);
	*len = (size_t)n + xlen;
	return out;
}

static void
test_same_bytes_same_key(void **state)
{
	EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	size_t len;
	unsigned char *der = spki(rsa, NULL, &len);
	const unsigned char *p = der;
	EVP_PKEY *k1, *k2;

	(void)state;
	k1 = keycache_pubkey(&p, len);
	assert_non_null(k1);
	assert_ptr_equal(p, der + len);
	assert_int_equal(EVP_PKEY_eq(k1, rsa), 1);
	p = der;
	k2 = keycache_pubkey(&p, len);
	assert_ptr_equal(k1, k2);		/* decoded once */
	assert_ptr_equal(p, der + len);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	/* after a clear it decodes again, to an equal key */
	keycache_clear();
	p = der;
	k1 = keycache_pubkey(&p, len);
	assert_non_null(k1);
	assert_int_equal(EVP_PKEY_eq(k1, rsa), 1);
	EVP_PKEY_free(k1);
	free(der);
	EVP_PKEY_free(rsa);
}

static void
test_trailing_and_junk(void **state)
{
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	size_t len, i;
	unsigned char *der = spki(ed, TRAILER, &len);
	static const unsigned char junk[] = { 0x30, 0x03, 0x02, 0x01, 0x00,
	    0x30, 0x82, 0xff, 0xff, 0x00 };
	const unsigned char *p, *q;
	EVP_PKEY *k, *ref;

	(void)state;
	for (i = 0; i < 2; i++) {		/* a miss, then a hit */
		p = der;
		k = keycache_pubkey(&p, len);
		assert_non_null(k);
		assert_int_equal(EVP_PKEY_eq(k, ed), 1);
		assert_int_equal(der + len - p, strlen(TRAILER));
		EVP_PKEY_free(k);
	}
	/* junk, and a length longer than the bytes: as d2i_PUBKEY() */
	for (i = 0; i < sizeof(junk); i++) {
		p = junk + i;
		q = junk + i;
		ref = d2i_PUBKEY(NULL, &q, (long)(sizeof(junk) - i));
		k = keycache_pubkey(&p, sizeof(junk) - i);
		assert_true((k == NULL) == (ref == NULL));
		EVP_PKEY_free(k);
		EVP_PKEY_free(ref);
	}
	p = der;
	assert_null(keycache_pubkey(&p, 10));	/* cut short */
	free(der);
	EVP_PKEY_free(ed);
}

static void
test_more_keys_than_kept(void **state)
{
	EVP_PKEY *keys[MANY_KEYS];
	unsigned char *der[MANY_KEYS];
	size_t len[MANY_KEYS];

	(void)state;
	for (size_t i = 0; i < MANY_KEYS; i++) {
		keys[i] = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		assert_non_null(keys[i]);
		der[i] = spki(keys[i], NULL, &len[i]);
	}
	for (int round = 0; round < 2; round++)
		for (size_t i = 0; i < MANY_KEYS; i++) {
			const unsigned char *p = der[i];
			EVP_PKEY *k = keycache_pubkey(&p, len[i]);

			assert_non_null(k);
			assert_int_equal(EVP_PKEY_eq(k, keys[i]), 1);
			EVP_PKEY_free(k);
		}
	for (size_t i = 0; i < MANY_KEYS; i++) {
		free(der[i]);
		EVP_PKEY_free(keys[i]);
	}
	keycache_clear();
}

static void
test_d2i_pubkey_bio(void **state)
{
	EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	EVP_PKEY *k, *k2 = NULL;
	size_t len;
	unsigned char *der = spki(rsa, TRAILER, &len);
	BIO *bio;

	(void)state;
	for (int i = 0; i < 2; i++) {		/* a miss, then a hit */
		bio = BIO_new_mem_buf(der, (int)len);
		k = d2i_PUBKEY_bio(bio, NULL);
		assert_non_null(k);
		assert_int_equal(EVP_PKEY_eq(k, rsa), 1);
		assert_int_equal(BIO_pending(bio), strlen(TRAILER));
		if (i == 1) {		/* it is the cache's key: ours ran */
			const unsigned char *p = der;
			EVP_PKEY *c = keycache_pubkey(&p, len);

			assert_ptr_equal(c, k);
			EVP_PKEY_free(c);
		}
		EVP_PKEY_free(k);
		BIO_free(bio);
	}
	/* a key to reuse: libcrypto's own function */
	bio = BIO_new_mem_buf(der, (int)len);
	k = d2i_PUBKEY_bio(bio, &k2);
	assert_non_null(k);
	assert_ptr_equal(k, k2);
	assert_int_equal(EVP_PKEY_eq(k, rsa), 1);
	EVP_PKEY_free(k);
	BIO_free(bio);
	/* junk */
	bio = BIO_new_mem_buf(TRAILER, (int)strlen(TRAILER));
	assert_null(d2i_PUBKEY_bio(bio, NULL));
	BIO_free(bio);
	free(der);
	EVP_PKEY_free(rsa);
	keycache_clear();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_bytes_same_key),
		cmocka_unit_test(test_trailing_and_junk),
		cmocka_unit_test(test_more_keys_than_kept),
		cmocka_unit_test(test_d2i_pubkey_bio),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
