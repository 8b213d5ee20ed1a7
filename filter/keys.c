/*
 * NAME
 *	keys - private signing keys: load with checks, generate new pairs
 * SYNOPSIS
 *	#include "keys.h"
 *
 *	struct privkey *keys_load(path, require_safe, min_bits, err, errlen)
 *	bool keys_generate(alg, bits, path, txt, err, errlen)
 *	char *keys_public_txt(key)
 *	char *keys_zone_record(selector, domain, txt)
 *	enum keys_match keys_match_p(key, p64, len)
 * DESCRIPTION
 *	A key file is read once (at start-up or reload, usually as root) into
 *	memory, after checking that it is a regular file, not too large, and,
 *	with require_safe, neither readable nor writable by group or others.
 *	OpenSSL parses it once; the parsed key is kept for signing, and the
 *	PEM text for libopendkim, which takes keys in that form.
 * DIAGNOSTICS
 *	Every failure is a complete sentence in err that names the file. Key
 *	material never appears in a message.
 */
#include "buildconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "keys.h"
#include "util.h"

#define KEYS_TXT_CHUNK	255	/* RFC 1035: bytes in one character-string */
#define KEYS_MAX_P64	4096	/* base64 bytes of a p= value compared */
#define KEYS_ED25519_LEN 32	/* bytes of a raw Ed25519 public key */

/* keys_read_file - read a whole small file; NULL with err on failure */
static unsigned char *
keys_read_file(const char *path, bool require_safe, size_t *lenp, char *err,
    size_t errlen)
{
	struct stat st;
	unsigned char *data;
	ssize_t n;
	size_t len = 0;
	int fd;

	/* O_NONBLOCK: a FIFO in place of a key must not hang start-up */
	fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		snprintf(err, errlen, "key file %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "key file %s: not a regular file", path);
		close(fd);
		return NULL;
	}
	if (require_safe && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		snprintf(err, errlen,
		    "key file %s has mode %04o: it must not be readable or "
		    "writable by group or others; fix it with "
		    "'chmod 600 %s' (or set RequireSafeKeys no)",
		    path, (unsigned)(st.st_mode & 07777), path);
		close(fd);
		return NULL;
	}
	if (require_safe && st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(err, errlen,
		    "key file %s is owned by uid %u: it must belong to root or "
		    "to the user authmilter runs as (uid %u)",
		    path, (unsigned)st.st_uid, (unsigned)geteuid());
		close(fd);
		return NULL;
	}
	if (st.st_size <= 0 || st.st_size > KEYS_MAX_FILE_BYTES) {
		snprintf(err, errlen, "key file %s: size %lld is not that of a "
		    "key (1..%d bytes)", path, (long long)st.st_size,
		    KEYS_MAX_FILE_BYTES);
		close(fd);
		return NULL;
	}
	data = xmalloc((size_t)st.st_size + 1);
	while (len < (size_t)st.st_size) {
		n = read(fd, data + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "key file %s: read error", path);
			free(data);
			close(fd);
			return NULL;
		}
		len += (size_t)n;
	}
	close(fd);
	data[len] = '\0';
	*lenp = len;
	return data;
}

/* keys_parse - learn algorithm and size; false with err if not usable */
static bool
keys_parse(struct privkey *k, unsigned min_bits, char *err, size_t errlen)
{
	EVP_PKEY *pkey;
	BIO *bio;
	int type;

	bio = BIO_new_mem_buf(k->pem, (int)k->pemlen);
	if (bio == NULL) {
		snprintf(err, errlen, "key file %s: out of memory", k->path);
		return false;
	}
	pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (pkey == NULL) {
		snprintf(err, errlen, "key file %s: not a PEM private key "
		    "(RSA or Ed25519, unencrypted)", k->path);
		return false;
	}
	type = EVP_PKEY_base_id(pkey);
	if (type == EVP_PKEY_RSA) {
		k->alg = KEY_ALG_RSA;
		k->bits = (unsigned)EVP_PKEY_bits(pkey);
	} else if (type == EVP_PKEY_ED25519) {
		k->alg = KEY_ALG_ED25519;
		k->bits = 256;
	} else {
		snprintf(err, errlen, "key file %s: key type %s cannot sign "
		    "DKIM (use RSA or Ed25519)", k->path, OBJ_nid2sn(type));
		EVP_PKEY_free(pkey);
		return false;
	}
	k->pkey = pkey;
	if (k->alg == KEY_ALG_RSA && (k->bits < min_bits ||
	    k->bits < KEYS_MIN_RSA_BITS || k->bits > KEYS_MAX_RSA_BITS)) {
		snprintf(err, errlen, "key file %s: RSA key of %u bits is "
		    "refused (minimum %u, maximum %u)", k->path, k->bits,
		    min_bits > KEYS_MIN_RSA_BITS ? min_bits : KEYS_MIN_RSA_BITS,
		    KEYS_MAX_RSA_BITS);
		return false;
	}
	return true;
}

/* keys_load - read, check and parse one private key file */
struct privkey *
keys_load(const char *path, bool require_safe, unsigned min_bits, char *err,
    size_t errlen)
{
	struct privkey *k = xcalloc(1, sizeof(*k));

	k->path = xstrdup(path);
	k->pem = keys_read_file(path, require_safe, &k->pemlen, err, errlen);
	if (k->pem == NULL || !keys_parse(k, min_bits, err, errlen)) {
		keys_free(k);
		return NULL;
	}
	/* only the parsed key is used: no second copy of it stays around */
	OPENSSL_cleanse(k->pem, k->pemlen);
	free(k->pem);
	k->pem = NULL;
	k->pemlen = 0;
	return k;
}

/* keys_free - wipe and release a key */
void
keys_free(struct privkey *k)
{
	if (k == NULL)
		return;
	if (k->pem) {
		OPENSSL_cleanse(k->pem, k->pemlen);
		free(k->pem);
	}
	EVP_PKEY_free(k->pkey);
	free(k->path);
	free(k);
}

/* keys_alg_name - the DKIM a= value for a key algorithm */
const char *
keys_alg_name(enum key_alg alg)
{
	return alg == KEY_ALG_ED25519 ? "ed25519-sha256" : "rsa-sha256";
}

/* keys_b64 - base64 of a byte string, one line (caller frees) */
static char *
keys_b64(const unsigned char *data, size_t len)
{
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

/* keys_pkey_txt - the DKIM key record for the public half of pkey */
static char *
keys_pkey_txt(EVP_PKEY *pkey)
{
	unsigned char *der = NULL, raw[64];
	size_t rawlen = sizeof(raw);
	struct buf b;
	char *p64;
	int len;

	buf_init(&b);
	if (EVP_PKEY_base_id(pkey) == EVP_PKEY_ED25519) {
		/* RFC 8463: p= is the raw 32-byte public key */
		if (EVP_PKEY_get_raw_public_key(pkey, raw, &rawlen) != 1)
			return NULL;
		p64 = keys_b64(raw, rawlen);
		buf_printf(&b, "v=DKIM1; k=ed25519; p=%s", p64);
	} else {
		/* RFC 6376: p= is the SubjectPublicKeyInfo in DER */
		len = i2d_PUBKEY(pkey, &der);
		if (len <= 0)
			return NULL;
		p64 = keys_b64(der, (size_t)len);
		OPENSSL_free(der);
		buf_printf(&b, "v=DKIM1; k=rsa; p=%s", p64);
	}
	free(p64);
	return buf_steal(&b);
}

/* keys_public_txt - the TXT record value for a loaded private key */
char *
keys_public_txt(const struct privkey *k)
{
	return keys_pkey_txt(k->pkey);
}

/* keys_new_pkey - generate a key pair of the given kind */
static EVP_PKEY *
keys_new_pkey(enum key_alg alg, unsigned bits)
{
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pkey = NULL;

	ctx = EVP_PKEY_CTX_new_id(alg == KEY_ALG_ED25519 ? EVP_PKEY_ED25519 :
	    EVP_PKEY_RSA, NULL);
	if (ctx == NULL)
		return NULL;
	if (EVP_PKEY_keygen_init(ctx) != 1 ||
	    (alg == KEY_ALG_RSA &&
	    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, (int)bits) != 1) ||
	    EVP_PKEY_keygen(ctx, &pkey) != 1)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

/* keys_write_pem - write the private key, mode 0600, never overwriting */
static bool
keys_write_pem(EVP_PKEY *pkey, const char *path, char *err, size_t errlen)
{
	FILE *fp;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s%s", path, strerror(errno),
		    errno == EEXIST ? " (refusing to overwrite a key)" : "");
		return false;
	}
	fp = fdopen(fd, "w");
	if (fp == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return false;
	}
	if (PEM_write_PrivateKey(fp, pkey, NULL, NULL, 0, NULL, NULL) != 1 ||
	    fclose(fp) != 0) {
		snprintf(err, errlen, "%s: could not write the key", path);
		unlink(path);
		return false;
	}
	return true;
}

/* keys_generate - make a key pair, store the private half, give the TXT */
bool
keys_generate(enum key_alg alg, unsigned bits, const char *path, char **txt,
    char *err, size_t errlen)
{
	EVP_PKEY *pkey;
	bool ok;

	if (alg == KEY_ALG_RSA && (bits < KEYS_MIN_RSA_BITS ||
	    bits > KEYS_MAX_RSA_BITS)) {
		snprintf(err, errlen, "RSA key size %u is out of range "
		    "(%d..%d)", bits, KEYS_MIN_RSA_BITS, KEYS_MAX_RSA_BITS);
		return false;
	}
	pkey = keys_new_pkey(alg, bits);
	if (pkey == NULL) {
		snprintf(err, errlen, "key generation failed");
		return false;
	}
	ok = keys_write_pem(pkey, path, err, errlen);
	if (ok) {
		*txt = keys_pkey_txt(pkey);
		if (*txt == NULL) {
			snprintf(err, errlen, "could not encode the public key");
			ok = false;
		}
	}
	EVP_PKEY_free(pkey);
	return ok;
}

/* keys_zone_record - a zone-file TXT record, strings of <= 255 bytes */
char *
keys_zone_record(const char *selector, const char *domain, const char *txt)
{
	size_t len = strlen(txt), off, n;
	struct buf b;

	buf_init(&b);
	buf_printf(&b, "%s._domainkey.%s.\tIN\tTXT\t(", selector, domain);
	for (off = 0; off < len; off += n) {
		n = len - off > KEYS_TXT_CHUNK ? KEYS_TXT_CHUNK : len - off;
		buf_printf(&b, "\n\t\"%.*s\"", (int)n, txt + off);
	}
	buf_puts(&b, " )\n");
	return buf_steal(&b);
}

/*
 * keys_unbase64 - decode p64 without its white space into out (room for
 * KEYS_MAX_P64 bytes); the length, or -1 when it is not base64
 */
static int
keys_unbase64(const char *p64, size_t len, unsigned char *out)
{
	char clean[KEYS_MAX_P64 + 1];
	size_t n = 0, pad = 0;
	int dec;

	for (size_t i = 0; i < len; i++) {
		if (p64[i] == ' ' || p64[i] == '\t' || p64[i] == '\r' ||
		    p64[i] == '\n')
			continue;
		if (n >= KEYS_MAX_P64)
			return -1;
		clean[n++] = p64[i];
	}
	if (n == 0 || n % 4 != 0)
		return -1;
	clean[n] = '\0';
	while (pad < 2 && clean[n - 1 - pad] == '=')
		pad++;
	dec = EVP_DecodeBlock(out, (const unsigned char *)clean, (int)n);
	return dec < 0 ? -1 : dec - (int)pad;
}

/* keys_match_p - is the published p= the public half of k? */
enum keys_match
keys_match_p(const struct privkey *k, const char *p64, size_t len)
{
	unsigned char der[KEYS_MAX_P64], raw[KEYS_ED25519_LEN];
	const unsigned char *q = der;
	size_t rawlen = sizeof(raw);
	EVP_PKEY *pub;
	int n = keys_unbase64(p64, len, der);
	enum keys_match m;

	if (n <= 0)
		return KEYS_BAD_PUBLIC;
	if (k->alg == KEY_ALG_ED25519) {
		if (n != KEYS_ED25519_LEN ||
		    EVP_PKEY_get_raw_public_key(k->pkey, raw, &rawlen) != 1 ||
		    rawlen != KEYS_ED25519_LEN)
			return KEYS_BAD_PUBLIC;
		return memcmp(raw, der, KEYS_ED25519_LEN) == 0 ? KEYS_MATCH :
		    KEYS_MISMATCH;
	}
	pub = d2i_PUBKEY(NULL, &q, n);
	if (pub == NULL) {
		q = der;
		pub = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q, n);
	}
	if (pub == NULL || EVP_PKEY_base_id(pub) != EVP_PKEY_RSA)
		m = KEYS_BAD_PUBLIC;
	else
		m = EVP_PKEY_eq(pub, k->pkey) == 1 ? KEYS_MATCH :
		    KEYS_MISMATCH;
	EVP_PKEY_free(pub);
	return m;
}
