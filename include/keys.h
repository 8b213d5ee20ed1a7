/*
 * keys.h - private signing keys: loading a key file with the checks a mail
 * administrator expects (ownership and mode, size, type), and making new key
 * pairs (keygen). The key material never reaches a log.
 *
 * The algorithm of a key is taken from the key itself: an RSA key signs with
 * rsa-sha256, an Ed25519 key with ed25519-sha256 (RFC 8463).
 */
#ifndef AM_KEYS_H
#define AM_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#define KEYS_MAX_FILE_BYTES	16384	/* a PEM key file larger than this is refused */
#define KEYS_MIN_RSA_BITS	1024	/* RFC 8301: never sign with less */
#define KEYS_MAX_RSA_BITS	8192

enum key_alg {
	KEY_ALG_RSA = 1,
	KEY_ALG_ED25519 = 2,
};

struct privkey {
	char		*path;		/* where it came from */
	unsigned char	*pem;		/* PEM text while loading; wiped after parsing */
	size_t		 pemlen;
	enum key_alg	 alg;
	unsigned	 bits;		/* RSA modulus size; 256 for Ed25519 */
	void		*pkey;		/* the parsed key (OpenSSL EVP_PKEY) */
};

/*
 * keys_load - read and check a private key file. With require_safe, a file
 * readable or writable by group or others, or owned by another user than
 * root or the one authmilter runs as, is refused. Keys weaker than
 * min_bits (RSA) are refused. On failure returns NULL and writes a complete
 * sentence (naming the file, and for a mode problem the mode and the fix)
 * into err.
 */
struct privkey *keys_load(const char *path, bool require_safe,
    unsigned min_bits, char *err, size_t errlen);
void keys_free(struct privkey *k);
/* keys_alg_name - "rsa-sha256" or "ed25519-sha256" */
const char *keys_alg_name(enum key_alg alg);

/*
 * keys_generate - make a key pair; write the private key to path with mode
 * 0600 (never overwriting an existing file), and return the DNS TXT record
 * value ("v=DKIM1; k=rsa; p=...") in *txt (caller frees). bits is ignored for
 * Ed25519. Returns false and fills err on failure.
 */
bool keys_generate(enum key_alg alg, unsigned bits, const char *path,
    char **txt, char *err, size_t errlen);
/*
 * keys_public_txt - the DNS TXT record value for the public half of a loaded
 * private key (caller frees); NULL on failure.
 */
char *keys_public_txt(const struct privkey *k);
/* How a published public key compares with a private key. */
enum keys_match {
	KEYS_MATCH = 0,		/* the public half of the private key */
	KEYS_MISMATCH,		/* a valid key of the same type, another one */
	KEYS_BAD_PUBLIC,	/* not a key of the private key's type */
};
/*
 * keys_match_p - does p64 (len bytes: the base64 p= value of a DKIM key
 * record, white space allowed) hold the public half of k? An RSA p= is a
 * SubjectPublicKeyInfo (RFC 6376 3.6.1; a bare RSAPublicKey is taken too),
 * an Ed25519 p= the raw 32-byte key (RFC 8463). The key material itself is
 * never copied out.
 */
enum keys_match keys_match_p(const struct privkey *k, const char *p64,
    size_t len);
/*
 * keys_zone_record - format "selector._domainkey.domain. IN TXT ( ... )" with
 * the value split into quoted strings of at most 255 bytes (caller frees).
 */
char *keys_zone_record(const char *selector, const char *domain,
    const char *txt);

#endif
