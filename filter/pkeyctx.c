/*
 * NAME
 *	pkeyctx - RSA contexts prepared once per key and thread
 * SYNOPSIS
 *	#include "pkeyctx.h"
 *
 *	c = pkeyctx_rsa(key, sign)
 * DESCRIPTION
 *	Each thread has PKEYCTX_SLOTS slots, each a key with its signing and
 *	its verifying context, made at the key's first use on the thread
 *	(EVP_PKEY_sign_init() or _verify_init(), PKCS#1 v1.5 padding,
 *	SHA-256) and used again for every signature the thread makes or
 *	checks with that key. A key not in a slot takes the slot used least
 *	recently. A context holds a reference to its key, so a key in a slot
 *	is never freed under it, and its address cannot come back as
 *	another key's: a key the configuration dropped at a reload is freed
 *	when its slot is taken or the thread ends (a thread-specific
 *	destructor frees the slots).
 * DIAGNOSTICS
 *	None: NULL when OpenSSL cannot make the context, which the caller
 *	reports as a failed signature.
 */
#include "buildconf.h"

#include <pthread.h>
#include <stdlib.h>

#include <openssl/rsa.h>

#include "pkeyctx.h"

#define PKEYCTX_SLOTS	8	/* keys with contexts per thread */

struct pkeyctx_slot {
	EVP_PKEY	*key;		/* NULL: free */
	EVP_PKEY_CTX	*ctx[2];	/* [0] verify, [1] sign */
	unsigned long	 used;		/* the thread's clock at last use */
};

struct pkeyctx_thread {
	struct pkeyctx_slot slot[PKEYCTX_SLOTS];
	unsigned long	 clock;
};

static pthread_key_t pkeyctx_key;
static pthread_once_t pkeyctx_once = PTHREAD_ONCE_INIT;

/* pkeyctx_slot_clear - free a slot's contexts */
static void
pkeyctx_slot_clear(struct pkeyctx_slot *s)
{
	EVP_PKEY_CTX_free(s->ctx[0]);
	EVP_PKEY_CTX_free(s->ctx[1]);
	s->ctx[0] = s->ctx[1] = NULL;
	s->key = NULL;
}

/* pkeyctx_thread_end - the destructor of a thread's slots */
static void
pkeyctx_thread_end(void *arg)
{
	struct pkeyctx_thread *t = arg;

	for (int i = 0; i < PKEYCTX_SLOTS; i++)
		pkeyctx_slot_clear(&t->slot[i]);
	free(t);
}

/* pkeyctx_init - the thread-specific key, once */
static void
pkeyctx_init(void)
{
	(void)pthread_key_create(&pkeyctx_key, pkeyctx_thread_end);
}

/* pkeyctx_new - a context for key, prepared for one direction */
static EVP_PKEY_CTX *
pkeyctx_new(EVP_PKEY *key, bool sign)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(key, NULL);

	if (c != NULL && (sign ? EVP_PKEY_sign_init(c) :
	    EVP_PKEY_verify_init(c)) > 0 &&
	    EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) > 0 &&
	    EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()) > 0)
		return c;
	EVP_PKEY_CTX_free(c);
	return NULL;
}

/* pkeyctx_thread - this thread's slots, made at its first call */
static struct pkeyctx_thread *
pkeyctx_thread(void)
{
	struct pkeyctx_thread *t;

	(void)pthread_once(&pkeyctx_once, pkeyctx_init);
	if ((t = pthread_getspecific(pkeyctx_key)) != NULL)
		return t;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if (pthread_setspecific(pkeyctx_key, t) != 0) {
		free(t);
		return NULL;
	}
	return t;
}

EVP_PKEY_CTX *
pkeyctx_rsa(EVP_PKEY *key, bool sign)
{
	struct pkeyctx_thread *t = pkeyctx_thread();
	struct pkeyctx_slot *s = NULL, *old;

	if (t == NULL)
		return NULL;
	old = &t->slot[0];
	for (int i = 0; i < PKEYCTX_SLOTS && s == NULL; i++) {
		if (t->slot[i].key == key)
			s = &t->slot[i];
		else if (t->slot[i].used < old->used)
			old = &t->slot[i];
	}
	if (s == NULL) {
		s = old;
		pkeyctx_slot_clear(s);
		s->key = key;
	}
	s->used = ++t->clock;
	if (s->ctx[sign] == NULL)
		s->ctx[sign] = pkeyctx_new(key, sign);
	return s->ctx[sign];
}
