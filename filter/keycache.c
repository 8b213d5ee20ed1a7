/*
 * NAME
 *	keycache - public keys decoded once, by their DER bytes
 * SYNOPSIS
 *	#include "keycache.h"
 *
 *	EVP_PKEY *keycache_pubkey(der, len)
 *	void keycache_clear(void)
 * DESCRIPTION
 *	A small table under one lock: each entry holds a copy of the DER
 *	bytes of one object (its length read from the DER header), their
 *	hash, the decoded key and when it was last used. A lookup compares
 *	hash and length, then the bytes; a miss decodes outside the lock
 *	with d2i_PUBKEY() and puts the key in the least recently used entry
 *	(two threads that miss on the same key both decode it; the second
 *	keeps its own). Only a decoding that took exactly that object is
 *	kept; anything else is d2i_PUBKEY()'s answer, each time, as before.
 * DIAGNOSTICS
 *	As d2i_PUBKEY(): NULL, with OpenSSL's error queue, when the bytes do
 *	not decode.
 */
#include "buildconf.h"

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/x509.h>

#include "keycache.h"
#include "util.h"

struct keycache_entry {
	unsigned char	*der;		/* NULL: free */
	size_t		 len;
	uint64_t	 hash;
	EVP_PKEY	*key;
	uint64_t	 used;		/* keycache_clock when last used */
};

static pthread_mutex_t keycache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct keycache_entry keycache[KEYCACHE_ENTRIES];
static uint64_t keycache_clock;

/* keycache_hash - FNV-1a of the bytes */
static uint64_t
keycache_hash(const unsigned char *p, size_t len)
{
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

/* keycache_find - the entry of these bytes, or NULL; lock held */
static struct keycache_entry *
keycache_find(const unsigned char *der, size_t len, uint64_t h)
{
	for (size_t i = 0; i < KEYCACHE_ENTRIES; i++) {
		struct keycache_entry *e = &keycache[i];

		if (e->der != NULL && e->hash == h && e->len == len &&
		    memcmp(e->der, der, len) == 0)
			return e;
	}
	return NULL;
}

/* keycache_victim - a free entry, else the least recently used; lock held */
static struct keycache_entry *
keycache_victim(void)
{
	struct keycache_entry *v = &keycache[0];

	for (size_t i = 0; i < KEYCACHE_ENTRIES; i++) {
		if (keycache[i].der == NULL)
			return &keycache[i];
		if (keycache[i].used < v->used)
			v = &keycache[i];
	}
	return v;
}

/* keycache_take - a new reference to e's key, marked used; lock held */
static EVP_PKEY *
keycache_take(struct keycache_entry *e)
{
	e->used = ++keycache_clock;
	return EVP_PKEY_up_ref(e->key) == 1 ? e->key : NULL;
}

/*
 * keycache_objlen - the length of the DER object at der (its header and
 * contents), 0 when the header is bad or the object longer than len
 */
static size_t
keycache_objlen(const unsigned char *der, size_t len)
{
	const unsigned char *q = der;
	long clen = 0;
	int tag, xclass;

	if (len > LONG_MAX ||
	    (ASN1_get_object(&q, &clen, &tag, &xclass, (long)len) & 0x80) ||
	    clen < 0 || (size_t)clen > len - (size_t)(q - der))
		return 0;
	return (size_t)(q - der) + (size_t)clen;
}

/* keycache_pubkey - see keycache.h */
EVP_PKEY *
keycache_pubkey(const unsigned char **pp, size_t len)
{
	const unsigned char *der = *pp;
	size_t objlen = keycache_objlen(der, len);
	uint64_t h;
	struct keycache_entry *e;
	EVP_PKEY *key, *got;

	if (objlen == 0 || objlen > KEYCACHE_MAX_DER)
		return d2i_PUBKEY(NULL, pp, (long)len);
	h = keycache_hash(der, objlen);
	pthread_mutex_lock(&keycache_lock);
	e = keycache_find(der, objlen, h);
	got = e != NULL ? keycache_take(e) : NULL;
	pthread_mutex_unlock(&keycache_lock);
	if (got != NULL) {
		*pp = der + objlen;
		return got;
	}
	key = d2i_PUBKEY(NULL, pp, (long)len);
	if (key == NULL || *pp != der + objlen)
		return key;		/* as d2i_PUBKEY() has it: not kept */
	pthread_mutex_lock(&keycache_lock);
	if ((e = keycache_find(der, objlen, h)) == NULL) {
		e = keycache_victim();
		free(e->der);
		EVP_PKEY_free(e->key);
		e->der = xmalloc(objlen);
		memcpy(e->der, der, objlen);
		e->len = objlen;
		e->hash = h;
		e->key = key;
		got = keycache_take(e);
	} else {			/* another thread got there first */
		got = key;
	}
	pthread_mutex_unlock(&keycache_lock);
	return got;
}

/* keycache_clear - drop every key kept */
void
keycache_clear(void)
{
	pthread_mutex_lock(&keycache_lock);
	for (size_t i = 0; i < KEYCACHE_ENTRIES; i++) {
		free(keycache[i].der);
		EVP_PKEY_free(keycache[i].key);
		memset(&keycache[i], 0, sizeof(keycache[i]));
	}
	keycache_clock = 0;
	pthread_mutex_unlock(&keycache_lock);
}
