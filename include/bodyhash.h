/*
 * bodyhash.h - the body hashes of one message, each canonicalization once
 *
 * A DKIM signature and the newest ARC-Message-Signature usually hash the
 * body the same way (relaxed, SHA-256), and the seal authmilter adds does
 * too: one struct bodyhash per message serves them all. Its users say
 * which canonicalizations they need before the body, its owner feeds the
 * body once, and each user takes its digest at the end. Owns the hash
 * contexts (dkimsign_bh); not thread-safe (one message, one thread).
 */
#ifndef AUTHMILTER_BODYHASH_H
#define AUTHMILTER_BODYHASH_H

#include <stdbool.h>
#include <stddef.h>

struct bodyhash;

/* bodyhash_new - no hash wanted yet */
struct bodyhash *bodyhash_new(void);
/*
 * bodyhash_want - the body is needed canonicalized relaxed (or simple);
 * before the first bodyhash_update(). False when SHA-256 is unavailable.
 */
bool bodyhash_want(struct bodyhash *b, bool relaxed);
/* bodyhash_wanted - does anyone need the body? */
bool bodyhash_wanted(const struct bodyhash *b);
/* bodyhash_update - a body chunk, lines ending in CRLF, any size */
void bodyhash_update(struct bodyhash *b, const unsigned char *data,
    size_t len);
/*
 * bodyhash_digest - the SHA-256 of the body canonicalized relaxed (or
 * simple), the body being complete; NULL when it was not wanted or the
 * hash failed. The first call ends the body.
 */
const unsigned char *bodyhash_digest(struct bodyhash *b, bool relaxed);
void bodyhash_free(struct bodyhash *b);

#endif
