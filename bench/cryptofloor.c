/*
 * cryptofloor -- what the cryptography of a message costs on this machine.
 *
 * usage: cryptofloor [-t MILLISECONDS]
 *
 * bench/run subtracts these figures from the CPU a filter spends per
 * message: the rest is overhead (README "Performance"). One thread, CPU
 * time of this process (CLOCK_PROCESS_CPUTIME_ID), each operation repeated
 * until it has used -t milliseconds of CPU (default 300, at least
 * CRYPTOFLOOR_MIN_MS), after a short unmeasured warm-up. The floor is the
 * primitive alone, as `openssl speed` measures it: keys made once (an
 * RSA-2048 and an Ed25519 key generated at start, none read from disk),
 * contexts prepared once and reused, no parsing, no encoding.
 *
 *   rsa2048_sign_ms     one RSA-2048 PKCS#1 v1.5 signature of a SHA-256
 *                       digest (a DKIM rsa-sha256 signature, an ARC seal)
 *   rsa2048_verify_ms   one verification of such a signature
 *   ed25519_sign_ms     one Ed25519 signature of a 32-byte digest (RFC 8463
 *                       signs the SHA-256 of the header data)
 *   ed25519_verify_ms   one verification of such a signature
 *   sha256_ms_per_kb    SHA-256 of a 10 KB buffer, in one call, per KB
 *   sha256_ms_per_mb    SHA-256 of 1 MB fed in 64 KB pieces (the milter
 *                       protocol's body chunks), per MB
 *
 * Prints one JSON line with these keys, the OpenSSL version and the
 * repetitions of each; exit 0, 1 when OpenSSL failed, 2 on a usage error.
 */
#define _POSIX_C_SOURCE 200809L	/* clock_gettime */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#define CRYPTOFLOOR_DEFAULT_MS	300	/* CPU per operation measured */
#define CRYPTOFLOOR_MIN_MS	10
#define CRYPTOFLOOR_MAX_MS	60000
#define CRYPTOFLOOR_WARMUP	20	/* unmeasured repetitions */
#define CRYPTOFLOOR_BATCH	10	/* repetitions between clock reads */
#define CRYPTOFLOOR_RSA_BITS	2048
#define CRYPTOFLOOR_SIG_MAX	512	/* bytes of a signature */
#define CRYPTOFLOOR_KB		1024
#define CRYPTOFLOOR_SMALL	(10 * CRYPTOFLOOR_KB)	/* a 10 KB message */
#define CRYPTOFLOOR_MB		(1024 * CRYPTOFLOOR_KB)
#define CRYPTOFLOOR_CHUNK	65535	/* a milter body chunk */

/* What one operation needs: its state, and the function that does it once. */
struct op {
	EVP_PKEY_CTX	*pctx;		/* RSA: prepared for sign or verify */
	EVP_PKEY	*key;		/* Ed25519 */
	unsigned char	 digest[32];
	unsigned char	 sig[CRYPTOFLOOR_SIG_MAX];
	size_t		 siglen;
	unsigned char	*buf;		/* SHA-256 input */
	size_t		 buflen;
	size_t		 chunk;		/* SHA-256: bytes per update */
	EVP_MD		*md;		/* SHA-256, fetched once */
	EVP_MD_CTX	*mdctx;		/* reused */
};

typedef int (*op_fn)(struct op *);

static double
cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* fail - an OpenSSL call failed: say which, exit 1 */
static void
fail(const char *what)
{
	fprintf(stderr, "cryptofloor: %s failed\n", what);
	exit(1);
}

static int
op_rsa_sign(struct op *o)
{
	size_t len = sizeof(o->sig);

	return EVP_PKEY_sign(o->pctx, o->sig, &len, o->digest,
	    sizeof(o->digest)) == 1;
}

static int
op_rsa_verify(struct op *o)
{
	return EVP_PKEY_verify(o->pctx, o->sig, o->siglen, o->digest,
	    sizeof(o->digest)) == 1;
}

static int
op_ed_sign(struct op *o)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	size_t len = sizeof(o->sig);
	int ok = c != NULL &&
	    EVP_DigestSignInit(c, NULL, NULL, NULL, o->key) == 1 &&
	    EVP_DigestSign(c, o->sig, &len, o->digest, sizeof(o->digest)) == 1;

	EVP_MD_CTX_free(c);
	return ok;
}

static int
op_ed_verify(struct op *o)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok = c != NULL &&
	    EVP_DigestVerifyInit(c, NULL, NULL, NULL, o->key) == 1 &&
	    EVP_DigestVerify(c, o->sig, o->siglen, o->digest,
	    sizeof(o->digest)) == 1;

	EVP_MD_CTX_free(c);
	return ok;
}

static int
op_sha256(struct op *o)
{
	EVP_MD_CTX *c = o->mdctx;
	unsigned int len;

	if (EVP_DigestInit_ex(c, o->md, NULL) != 1)
		return 0;
	for (size_t off = 0; off < o->buflen; off += o->chunk) {
		size_t n = o->buflen - off < o->chunk ? o->buflen - off :
		    o->chunk;

		if (EVP_DigestUpdate(c, o->buf + off, n) != 1)
			return 0;
	}
	return EVP_DigestFinal_ex(c, o->digest, &len) == 1;
}

/* measure - ms of CPU per call of fn, over at least budget ms; reps out */
static double
measure(const char *name, op_fn fn, struct op *o, double budget, long *reps)
{
	double t0, t1;
	long n = 0;

	for (int i = 0; i < CRYPTOFLOOR_WARMUP; i++)
		if (!fn(o))
			fail(name);
	t0 = t1 = cpu_ms();
	while (t1 - t0 < budget) {
		for (int i = 0; i < CRYPTOFLOOR_BATCH; i++)
			if (!fn(o))
				fail(name);
		n += CRYPTOFLOOR_BATCH;
		t1 = cpu_ms();
	}
	*reps = n;
	return (t1 - t0) / n;
}

/* rsa_ctx - a context for RSA PKCS#1 v1.5 over SHA-256, sign or verify */
static EVP_PKEY_CTX *
rsa_ctx(EVP_PKEY *key, int sign)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(key, NULL);

	if (c == NULL || (sign ? EVP_PKEY_sign_init(c) :
	    EVP_PKEY_verify_init(c)) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()) != 1)
		fail("RSA context");
	return c;
}

static void
usage(void)
{
	fprintf(stderr, "usage: cryptofloor [-t MILLISECONDS]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	double budget = CRYPTOFLOOR_DEFAULT_MS, r_sign, r_ver, e_sign, e_ver;
	double kb, mb;
	long n_rs, n_rv, n_es, n_ev, n_kb, n_mb;
	EVP_PKEY *rsa, *ed;
	struct op o;
	char *end;

	if (argc == 3 && strcmp(argv[1], "-t") == 0) {
		budget = strtod(argv[2], &end);
		if (*end != '\0' || budget < CRYPTOFLOOR_MIN_MS ||
		    budget > CRYPTOFLOOR_MAX_MS)
			usage();
	} else if (argc != 1)
		usage();

	rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)CRYPTOFLOOR_RSA_BITS);
	ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (rsa == NULL || ed == NULL)
		fail("key generation");
	memset(&o, 0, sizeof(o));
	memset(o.digest, 0x5a, sizeof(o.digest));

	o.pctx = rsa_ctx(rsa, 1);
	o.siglen = sizeof(o.sig);
	if (EVP_PKEY_sign(o.pctx, o.sig, &o.siglen, o.digest,
	    sizeof(o.digest)) != 1)
		fail("RSA signature");
	r_sign = measure("RSA signature", op_rsa_sign, &o, budget, &n_rs);
	EVP_PKEY_CTX_free(o.pctx);
	o.pctx = rsa_ctx(rsa, 0);
	r_ver = measure("RSA verification", op_rsa_verify, &o, budget, &n_rv);
	EVP_PKEY_CTX_free(o.pctx);
	o.pctx = NULL;

	o.key = ed;
	o.siglen = sizeof(o.sig);
	if (!op_ed_sign(&o))
		fail("Ed25519 signature");
	o.siglen = 64;
	e_sign = measure("Ed25519 signature", op_ed_sign, &o, budget, &n_es);
	e_ver = measure("Ed25519 verification", op_ed_verify, &o, budget,
	    &n_ev);

	o.buf = malloc(CRYPTOFLOOR_MB);
	o.md = EVP_MD_fetch(NULL, "SHA256", NULL);
	o.mdctx = EVP_MD_CTX_new();
	if (o.buf == NULL || o.md == NULL || o.mdctx == NULL)
		fail("SHA-256 set-up");
	for (size_t i = 0; i < CRYPTOFLOOR_MB; i++)
		o.buf[i] = (unsigned char)(' ' + i % 95);
	o.buflen = o.chunk = CRYPTOFLOOR_SMALL;
	kb = measure("SHA-256", op_sha256, &o, budget, &n_kb) /
	    (CRYPTOFLOOR_SMALL / CRYPTOFLOOR_KB);
	o.buflen = CRYPTOFLOOR_MB;
	o.chunk = CRYPTOFLOOR_CHUNK;
	mb = measure("SHA-256", op_sha256, &o, budget, &n_mb);

	printf("{\"rsa2048_sign_ms\":%.5f,\"rsa2048_verify_ms\":%.5f,"
	    "\"ed25519_sign_ms\":%.5f,\"ed25519_verify_ms\":%.5f,"
	    "\"sha256_ms_per_kb\":%.6f,\"sha256_ms_per_mb\":%.4f,"
	    "\"openssl\":\"%s\",\"cpu_ms_each\":%.0f,"
	    "\"reps\":{\"rsa2048_sign\":%ld,\"rsa2048_verify\":%ld,"
	    "\"ed25519_sign\":%ld,\"ed25519_verify\":%ld,"
	    "\"sha256_10kb\":%ld,\"sha256_1mb\":%ld}}\n",
	    r_sign, r_ver, e_sign, e_ver, kb, mb,
	    OpenSSL_version(OPENSSL_VERSION), budget,
	    n_rs, n_rv, n_es, n_ev, n_kb, n_mb);
	free(o.buf);
	EVP_MD_CTX_free(o.mdctx);
	EVP_MD_free(o.md);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ed);
	return 0;
}
