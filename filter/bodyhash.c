/*
 * NAME
 *	bodyhash - the body hashes of one message, each canonicalization once
 * SYNOPSIS
 *	#include "bodyhash.h"
 *
 *	b = bodyhash_new()
 *	bodyhash_want(b, relaxed)...	(the users, before the body)
 *	bodyhash_update(b, data, len)...	(the owner, once per chunk)
 *	d = bodyhash_digest(b, relaxed)	(the users, at the end)
 *	bodyhash_free(b)
 * DESCRIPTION
 *	Inbound, libopendkim's signatures (dkimverify.c) and the ARC chain
 *	and seal (arc.c) need the body canonicalized simple or relaxed and
 *	hashed with SHA-256 (RFC 6376 3.4, 3.7; RFC 8617 4.1.2). Each used
 *	to hash it for itself: a message with a DKIM signature and an ARC
 *	chain had its body canonicalized twice the same way. Here there is
 *	at most one dkimsign_bh per canonicalization, made when the first
 *	user asks for it, and the digests are computed once, at the first
 *	bodyhash_digest().
 * DIAGNOSTICS
 *	None: a hash that cannot be made or finished has no digest (NULL),
 *	which its users report as they would a body hash that failed.
 */
#include "buildconf.h"

#include <stdlib.h>

#include "bodyhash.h"
#include "dkimsign.h"
#include "util.h"

/* The canonicalizations, as indexes: simple 0, relaxed 1. */
#define BODYHASH_KINDS	2

struct bodyhash {
	struct dkimsign_bh *bh[BODYHASH_KINDS];
	bool		 done;		/* the digests below are final */
	bool		 have[BODYHASH_KINDS];
	unsigned char	 digest[BODYHASH_KINDS][DKIMSIGN_SHA256_LEN];
};

struct bodyhash *
bodyhash_new(void)
{
	return xcalloc(1, sizeof(struct bodyhash));
}

bool
bodyhash_want(struct bodyhash *b, bool relaxed)
{
	if (b->bh[relaxed] == NULL && !b->done)
		b->bh[relaxed] = dkimsign_bh_new(relaxed);
	return b->bh[relaxed] != NULL;
}

bool
bodyhash_wanted(const struct bodyhash *b)
{
	return b->bh[0] != NULL || b->bh[1] != NULL;
}

void
bodyhash_update(struct bodyhash *b, const unsigned char *data, size_t len)
{
	if (b->done)
		return;
	for (int k = 0; k < BODYHASH_KINDS; k++)
		if (b->bh[k] != NULL)
			dkimsign_bh_update(b->bh[k], data, len);
}

const unsigned char *
bodyhash_digest(struct bodyhash *b, bool relaxed)
{
	if (!b->done) {
		b->done = true;
		for (int k = 0; k < BODYHASH_KINDS; k++)
			b->have[k] = b->bh[k] != NULL &&
			    dkimsign_bh_final(b->bh[k], b->digest[k]);
	}
	return b->have[relaxed] ? b->digest[relaxed] : NULL;
}

void
bodyhash_free(struct bodyhash *b)
{
	if (b == NULL)
		return;
	for (int k = 0; k < BODYHASH_KINDS; k++)
		dkimsign_bh_free(b->bh[k]);
	free(b);
}
