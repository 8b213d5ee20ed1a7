/*
 * test_keys.c - unit tests for keys.c: loading private keys made by
 * `openssl genpkey` at test time (RSA, Ed25519; refused: loose modes, not
 * a key, empty, too large, missing, a directory, a public key, an EC key,
 * a weak RSA key), making new key pairs (mode 0600, never overwriting, the
 * TXT record checked against what openssl derives from the private key),
 * keys_public_txt, the zone-file form of a long TXT record, and
 * keys_match_p (a published p= against the private key: the same key,
 * another key, PKCS#1 and SubjectPublicKeyInfo forms, white space, junk).
 */
#include "buildconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "keys.h"
#include "testutil.h"

#define ERRLEN		1024
#define RSA_PREFIX	"v=DKIM1; k=rsa; p="
#define ED_PREFIX	"v=DKIM1; k=ed25519; p="
#define ED_RAW_LEN	32	/* RFC 8032 public key */
#define MAX_FILE	(1024 * 1024)

/* What the group setup makes once. */
static struct {
	char	*dir;
	char	*rsa;		/* RSA 2048, 0600 */
	char	*rsa1024;	/* RSA 1024, 0600 */
	char	*rsa512;	/* RSA 512, 0600 */
	char	*ed;		/* Ed25519, 0600 */
	char	*ec;		/* EC P-256, 0600 */
	char	*pub;		/* the public half of rsa, PEM, 0600 */
} fx;

/* genkey - make a private key at dir/name with openssl; path or NULL */
static char *
genkey(const char *name, const char *alg_opts, const char *fallback)
{
	return tu_genkey(fx.dir, name, alg_opts, fallback, 0600);
}

static int
setup_keys(void **state)
{
	(void)state;
	fx.dir = tu_mkdtemp("test_keys");
	if (fx.dir == NULL)
		return -1;
	fx.rsa = genkey("rsa.pem",
	    "-algorithm RSA -pkeyopt rsa_keygen_bits:2048", NULL);
	fx.rsa1024 = genkey("rsa1024.pem",
	    "-algorithm RSA -pkeyopt rsa_keygen_bits:1024", NULL);
	fx.rsa512 = genkey("rsa512.pem",
	    "-algorithm RSA -pkeyopt rsa_keygen_bits:512", "genrsa 512");
	fx.ed = genkey("ed.pem", "-algorithm ed25519", NULL);
	fx.ec = genkey("ec.pem",
	    "-algorithm EC -pkeyopt ec_paramgen_curve:P-256", NULL);
	fx.pub = tu_path(fx.dir, "rsa.pub.pem");
	if (fx.rsa == NULL || fx.rsa1024 == NULL || fx.rsa512 == NULL ||
	    fx.ed == NULL || fx.ec == NULL || fx.pub == NULL)
		return -1;
	if (tu_run("openssl pkey -in '%s' -pubout -out '%s' 2>/dev/null && "
	    "chmod 600 '%s'", fx.rsa, fx.pub, fx.pub) != 0)
		return -1;
	return 0;
}

static int
teardown_keys(void **state)
{
	(void)state;
	tu_rmtree(fx.dir);
	free(fx.dir);
	free(fx.rsa);
	free(fx.rsa1024);
	free(fx.rsa512);
	free(fx.ed);
	free(fx.ec);
	free(fx.pub);
	return 0;
}

/* read_all - a whole small file (caller frees); *len gets its size */
static unsigned char *
read_all(const char *path, size_t *len)
{
	unsigned char *data = malloc(MAX_FILE);
	FILE *fp = fopen(path, "rb");

	assert_non_null(data);
	if (fp == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	*len = fread(data, 1, MAX_FILE, fp);
	fclose(fp);
	return data;
}

/* copy_mode - a copy of src at dir/name with the given mode; path */
static char *
copy_mode(const char *src, const char *name, mode_t mode)
{
	char *dst = tu_path(fx.dir, name);

	assert_non_null(dst);
	assert_int_equal(tu_run("cp '%s' '%s'", src, dst), 0);
	assert_int_equal(chmod(dst, mode), 0);
	return dst;
}

/* b64dec - decode base64 text (no white space); *len gets the size */
static unsigned char *
b64dec(const char *text, size_t *len)
{
	size_t tlen = strlen(text), pad = 0;
	unsigned char *out = malloc(tlen + 1);
	int n;

	assert_non_null(out);
	assert_int_equal(tlen % 4, 0);
	n = EVP_DecodeBlock(out, (const unsigned char *)text, (int)tlen);
	assert_true(n >= 0);
	while (pad < 2 && tlen > pad && text[tlen - 1 - pad] == '=')
		pad++;
	*len = (size_t)n - pad;
	return out;
}

/* openssl_pub_der - the DER SubjectPublicKeyInfo openssl derives */
static unsigned char *
openssl_pub_der(const char *priv, size_t *len)
{
	char *der = tu_path(fx.dir, "derived.der");
	unsigned char *data;

	assert_non_null(der);
	assert_int_equal(tu_run("openssl pkey -in '%s' -pubout -outform DER "
	    "-out '%s' 2>/dev/null", priv, der), 0);
	data = read_all(der, len);
	unlink(der);
	free(der);
	return data;
}

/* load_fails - keys_load must fail and mention each needle */
static void
load_fails(const char *path, bool safe, unsigned min_bits,
    const char *needle1, const char *needle2)
{
	char err[ERRLEN] = "";
	struct privkey *k = keys_load(path, safe, min_bits, err, sizeof err);

	if (k != NULL) {
		keys_free(k);
		fail_msg("%s loaded; expected \"%s\"", path, needle1);
	}
	if (!tu_contains(err, needle1))
		fail_msg("error \"%s\" does not mention \"%s\"", err, needle1);
	if (needle2 != NULL && !tu_contains(err, needle2))
		fail_msg("error \"%s\" does not mention \"%s\"", err, needle2);
}

/* --- keys_load --------------------------------------------------------- */

static void
test_load_rsa(void **state)
{
	char err[ERRLEN] = "";
	unsigned char *file;
	struct privkey *k;
	size_t len;

	(void)state;
	k = keys_load(fx.rsa, true, 1024, err, sizeof err);
	if (k == NULL)
		fail_msg("%s", err);
	assert_int_equal(k->alg, KEY_ALG_RSA);
	assert_int_equal(k->bits, 2048);
	assert_string_equal(k->path, fx.rsa);
	assert_non_null(k->pkey);
	/* the PEM text is wiped once parsed: one copy of the key only */
	assert_null(k->pem);
	assert_int_equal(k->pemlen, 0);
	file = read_all(fx.rsa, &len);
	assert_true(len > 0);
	free(file);
	keys_free(k);

	k = keys_load(fx.rsa1024, true, 0, err, sizeof err);
	if (k == NULL)
		fail_msg("%s", err);
	assert_int_equal(k->bits, 1024);
	keys_free(k);
	keys_free(NULL);
}

static void
test_load_ed25519(void **state)
{
	char err[ERRLEN] = "";
	struct privkey *k;

	(void)state;
	/* min_bits is about RSA: it does not refuse Ed25519 */
	k = keys_load(fx.ed, true, 4096, err, sizeof err);
	if (k == NULL)
		fail_msg("%s", err);
	assert_int_equal(k->alg, KEY_ALG_ED25519);
	assert_int_equal(k->bits, 256);
	assert_int_equal(EVP_PKEY_id(k->pkey), EVP_PKEY_ED25519);
	assert_null(k->pem);
	keys_free(k);
}

static void
test_alg_name(void **state)
{
	(void)state;
	assert_string_equal(keys_alg_name(KEY_ALG_RSA), "rsa-sha256");
	assert_string_equal(keys_alg_name(KEY_ALG_ED25519), "ed25519-sha256");
}

/* group or other access is refused, naming the file, the mode, the fix */
static void
test_load_loose_modes(void **state)
{
	static const struct {
		const char	*name;
		mode_t		 mode;
		const char	*text;
	} loose[] = {
		{ "m0640.pem", 0640, "0640" },
		{ "m0604.pem", 0604, "0604" },
		{ "m0660.pem", 0660, "0660" },
		{ "m0602.pem", 0602, "0602" },
		{ "m0644.pem", 0644, "0644" },
	};
	char err[ERRLEN];

	(void)state;
	for (size_t i = 0; i < sizeof loose / sizeof loose[0]; i++) {
		char *path = copy_mode(fx.rsa, loose[i].name, loose[i].mode);
		struct privkey *k;

		load_fails(path, true, 1024, loose[i].text, path);
		load_fails(path, true, 1024, "chmod 600", NULL);
		/* without require_safe the same file loads */
		k = keys_load(path, false, 1024, err, sizeof err);
		if (k == NULL)
			fail_msg("%s", err);
		assert_int_equal(k->bits, 2048);
		keys_free(k);
		unlink(path);
		free(path);
	}
}

/* 0400 is as safe as 0600 */
static void
test_load_readonly_mode(void **state)
{
	char err[ERRLEN], *path;
	struct privkey *k;

	(void)state;
	path = copy_mode(fx.ed, "m0400.pem", 0400);
	k = keys_load(path, true, 1024, err, sizeof err);
	if (k == NULL)
		fail_msg("%s", err);
	keys_free(k);
	unlink(path);
	free(path);
}

static void
test_load_not_a_key(void **state)
{
	char *path;

	(void)state;
	path = tu_write_file(fx.dir, "junk.pem", "this is not a key\n", 0600);
	assert_non_null(path);
	load_fails(path, true, 1024, "not a PEM private key", path);
	unlink(path);
	free(path);
	/* a PEM block of the right kind with garbage inside */
	path = tu_write_file(fx.dir, "garbage.pem",
	    "-----BEGIN PRIVATE KEY-----\nAAAAAAAAAAAAAAAAAAAA\n"
	    "-----END PRIVATE KEY-----\n", 0600);
	assert_non_null(path);
	load_fails(path, true, 1024, "not a PEM private key", path);
	unlink(path);
	free(path);
}

static void
test_load_empty(void **state)
{
	char *path;

	(void)state;
	path = tu_write_file(fx.dir, "empty.pem", "", 0600);
	assert_non_null(path);
	load_fails(path, true, 1024, "size 0", path);
	unlink(path);
	free(path);
}

/* a file over KEYS_MAX_FILE_BYTES is refused; one at the bound loads */
static void
test_load_too_large(void **state)
{
	char *text, *path, err[ERRLEN];
	unsigned char *pem;
	struct privkey *k;
	size_t len;

	(void)state;
	pem = read_all(fx.rsa, &len);
	assert_true(len < KEYS_MAX_FILE_BYTES);
	text = malloc(KEYS_MAX_FILE_BYTES + 2);
	assert_non_null(text);
	memcpy(text, pem, len);
	memset(text + len, '\n', KEYS_MAX_FILE_BYTES + 1 - len);
	text[KEYS_MAX_FILE_BYTES + 1] = '\0';	/* one byte too many */
	path = tu_write_file(fx.dir, "large.pem", text, 0600);
	assert_non_null(path);
	load_fails(path, true, 1024, "size 16385", path);
	unlink(path);
	free(path);

	text[KEYS_MAX_FILE_BYTES] = '\0';	/* exactly the bound */
	path = tu_write_file(fx.dir, "bound.pem", text, 0600);
	assert_non_null(path);
	k = keys_load(path, true, 1024, err, sizeof err);
	if (k == NULL)
		fail_msg("%s", err);
	assert_int_equal(k->bits, 2048);
	keys_free(k);
	unlink(path);
	free(path);
	free(text);
	free(pem);
}

static void
test_load_missing(void **state)
{
	char *path;

	(void)state;
	path = tu_path(fx.dir, "no-such.pem");
	assert_non_null(path);
	load_fails(path, true, 1024, "No such file", path);
	load_fails(path, false, 1024, "No such file", path);
	free(path);
}

static void
test_load_directory(void **state)
{
	(void)state;
	load_fails(fx.dir, false, 1024, "not a regular file", fx.dir);
}

/*
 * A FIFO (or a device) is not a key file: keys_load must refuse it and
 * return, not wait for a writer. The load runs in a child so that a hang
 * fails this test instead of stopping the suite. Regression test:
 * keys_read_file() once open()ed without O_NONBLOCK before checking
 * S_ISREG, so a KeyFile naming a FIFO blocked config_load (start-up,
 * reload) forever.
 */
static void
test_load_fifo(void **state)
{
	char *path = tu_path(fx.dir, "fifo.pem");
	int status = 0, waited = 0;
	pid_t pid, r;

	(void)state;
	assert_non_null(path);
	assert_int_equal(mkfifo(path, 0600), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char err[ERRLEN] = "";
		struct privkey *k = keys_load(path, true, 1024, err, sizeof err);

		_exit(k == NULL && tu_contains(err, "not a regular file") &&
		    tu_contains(err, path) ? 0 : 1);
	}
	while ((r = waitpid(pid, &status, WNOHANG)) == 0 && waited < 50) {
		usleep(100 * 1000);
		waited++;
	}
	if (r == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		unlink(path);
		free(path);
		fail_msg("keys_load on a FIFO did not return within 5 seconds");
	}
	unlink(path);
	free(path);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void
test_load_public_key(void **state)
{
	(void)state;
	load_fails(fx.pub, true, 1024, "not a PEM private key", fx.pub);
}

static void
test_load_ec_key(void **state)
{
	(void)state;
	load_fails(fx.ec, true, 1024, "cannot sign DKIM", fx.ec);
}

/* RSA below min_bits, and below 1024 whatever min_bits says, is refused */
static void
test_load_weak_rsa(void **state)
{
	(void)state;
	load_fails(fx.rsa, true, 4096, "2048", "4096");
	load_fails(fx.rsa1024, true, 2048, "1024", fx.rsa1024);
	load_fails(fx.rsa512, true, 0, "512", fx.rsa512);
	load_fails(fx.rsa512, false, 512, "512", NULL);
}

/* --- keys_generate ----------------------------------------------------- */

/* gen_ok - generate a key at dir/name under the given umask; TXT */
static char *
gen_ok(enum key_alg alg, unsigned bits, const char *name, mode_t mask,
    char **pathp)
{
	char err[ERRLEN] = "", *txt = NULL, *path = tu_path(fx.dir, name);
	struct stat st;
	mode_t old;
	bool ok;

	assert_non_null(path);
	old = umask(mask);
	ok = keys_generate(alg, bits, path, &txt, err, sizeof err);
	umask(old);
	if (!ok)
		fail_msg("keys_generate: %s", err);
	assert_non_null(txt);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	*pathp = path;
	return txt;
}

static void
test_generate_rsa(void **state)
{
	unsigned char *der, *ossl;
	size_t derlen, ossllen;
	char err[ERRLEN], *path, *txt, *derpath;
	struct privkey *k;

	(void)state;
	txt = gen_ok(KEY_ALG_RSA, 2048, "gen-rsa.pem", 0, &path);
	assert_true(strncmp(txt, RSA_PREFIX, strlen(RSA_PREFIX)) == 0);

	/* p= is a DER SubjectPublicKeyInfo that openssl accepts ... */
	der = b64dec(txt + strlen(RSA_PREFIX), &derlen);
	derpath = tu_path(fx.dir, "gen-rsa.der");
	assert_non_null(derpath);
	{
		FILE *fp = fopen(derpath, "wb");

		assert_non_null(fp);
		assert_int_equal(fwrite(der, 1, derlen, fp), derlen);
		assert_int_equal(fclose(fp), 0);
	}
	assert_int_equal(tu_run("openssl pkey -pubin -inform DER -in '%s' "
	    "-noout 2>/dev/null", derpath), 0);
	assert_int_equal(tu_run("openssl pkey -pubin -inform DER -in '%s' "
	    "-noout -text 2>/dev/null | grep -q '2048 bit'", derpath), 0);
	/* ... and the public half of the private key written to path */
	ossl = openssl_pub_der(path, &ossllen);
	assert_int_equal(derlen, ossllen);
	assert_memory_equal(der, ossl, derlen);

	/* the file is a key keys_load takes */
	k = keys_load(path, true, 2048, err, sizeof err);
	if (k == NULL)
		fail_msg("%s", err);
	assert_int_equal(k->alg, KEY_ALG_RSA);
	assert_int_equal(k->bits, 2048);
	keys_free(k);

	unlink(derpath);
	unlink(path);
	free(derpath);
	free(der);
	free(ossl);
	free(path);
	free(txt);
}

static void
test_generate_ed25519(void **state)
{
	unsigned char *raw, *ossl;
	size_t rawlen, ossllen;
	char err[ERRLEN], *path, *txt;
	struct privkey *k;

	(void)state;
	/* bits is ignored for Ed25519; a umask of 077 still gives 0600 */
	txt = gen_ok(KEY_ALG_ED25519, 0, "gen-ed.pem", 077, &path);
	assert_true(strncmp(txt, ED_PREFIX, strlen(ED_PREFIX)) == 0);
	raw = b64dec(txt + strlen(ED_PREFIX), &rawlen);
	assert_int_equal(rawlen, ED_RAW_LEN);
	/* the SPKI of an Ed25519 key ends with the 32-byte raw key */
	ossl = openssl_pub_der(path, &ossllen);
	assert_true(ossllen > ED_RAW_LEN);
	assert_memory_equal(raw, ossl + ossllen - ED_RAW_LEN, ED_RAW_LEN);

	k = keys_load(path, true, 1024, err, sizeof err);
	if (k == NULL)
		fail_msg("%s", err);
	assert_int_equal(k->alg, KEY_ALG_ED25519);
	keys_free(k);

	unlink(path);
	free(raw);
	free(ossl);
	free(path);
	free(txt);
}

/* an existing file is never overwritten */
static void
test_generate_no_overwrite(void **state)
{
	char err[ERRLEN] = "", *txt = NULL, *path, *txt2 = NULL;
	unsigned char *before, *after;
	size_t blen, alen;

	(void)state;
	txt = gen_ok(KEY_ALG_ED25519, 0, "gen-once.pem", 022, &path);
	before = read_all(path, &blen);
	assert_false(keys_generate(KEY_ALG_ED25519, 0, path, &txt2, err,
	    sizeof err));
	assert_null(txt2);
	assert_true(tu_contains(err, path));
	assert_true(tu_contains(err, "overwrite"));
	after = read_all(path, &alen);
	assert_int_equal(blen, alen);
	assert_memory_equal(before, after, blen);
	free(before);
	free(after);
	unlink(path);
	free(path);
	free(txt);

	/* not a key either: an unrelated file stays as it is */
	path = tu_write_file(fx.dir, "precious.txt", "keep me\n", 0644);
	assert_non_null(path);
	assert_false(keys_generate(KEY_ALG_RSA, 1024, path, &txt2, err,
	    sizeof err));
	before = read_all(path, &blen);
	assert_int_equal(blen, 8);
	assert_memory_equal(before, "keep me\n", 8);
	free(before);
	unlink(path);
	free(path);
}

/* out-of-range RSA sizes and unwritable places fail without a file */
static void
test_generate_errors(void **state)
{
	char err[ERRLEN] = "", *txt = NULL, *path;
	struct stat st;

	(void)state;
	path = tu_path(fx.dir, "gen-bad.pem");
	assert_non_null(path);
	assert_false(keys_generate(KEY_ALG_RSA, 512, path, &txt, err,
	    sizeof err));
	assert_true(tu_contains(err, "512"));
	assert_int_equal(stat(path, &st), -1);
	assert_false(keys_generate(KEY_ALG_RSA, 16384, path, &txt, err,
	    sizeof err));
	assert_true(tu_contains(err, "16384"));
	assert_int_equal(stat(path, &st), -1);
	free(path);

	path = tu_path(fx.dir, "no-such-dir/key.pem");
	assert_non_null(path);
	assert_false(keys_generate(KEY_ALG_ED25519, 0, path, &txt, err,
	    sizeof err));
	assert_true(tu_contains(err, path));
	assert_null(txt);
	free(path);
}

/* --- keys_public_txt --------------------------------------------------- */

/* public_txt_of - keys_public_txt of the key in path */
static char *
public_txt_of(const char *path)
{
	char err[ERRLEN], *txt;
	struct privkey *k = keys_load(path, true, 1024, err, sizeof err);

	if (k == NULL)
		fail_msg("%s", err);
	txt = keys_public_txt(k);
	assert_non_null(txt);
	keys_free(k);
	return txt;
}

/* what keys_generate returned equals what a load of the file gives */
static void
test_public_txt_matches_generate(void **state)
{
	char *path, *txt, *again;

	(void)state;
	txt = gen_ok(KEY_ALG_RSA, 1024, "pt-rsa.pem", 022, &path);
	again = public_txt_of(path);
	assert_string_equal(txt, again);
	unlink(path);
	free(path);
	free(txt);
	free(again);

	txt = gen_ok(KEY_ALG_ED25519, 0, "pt-ed.pem", 022, &path);
	again = public_txt_of(path);
	assert_string_equal(txt, again);
	unlink(path);
	free(path);
	free(txt);
	free(again);
}

/* for keys made by openssl, p= is what openssl derives */
static void
test_public_txt_openssl_keys(void **state)
{
	unsigned char *p, *ossl;
	size_t plen, ossllen;
	char *txt;

	(void)state;
	txt = public_txt_of(fx.rsa);
	assert_true(strncmp(txt, RSA_PREFIX, strlen(RSA_PREFIX)) == 0);
	p = b64dec(txt + strlen(RSA_PREFIX), &plen);
	ossl = openssl_pub_der(fx.rsa, &ossllen);
	assert_int_equal(plen, ossllen);
	assert_memory_equal(p, ossl, plen);
	free(p);
	free(ossl);
	free(txt);

	txt = public_txt_of(fx.ed);
	assert_true(strncmp(txt, ED_PREFIX, strlen(ED_PREFIX)) == 0);
	p = b64dec(txt + strlen(ED_PREFIX), &plen);
	assert_int_equal(plen, ED_RAW_LEN);
	ossl = openssl_pub_der(fx.ed, &ossllen);
	assert_memory_equal(p, ossl + ossllen - ED_RAW_LEN, ED_RAW_LEN);
	free(p);
	free(ossl);
	free(txt);
}

/* --- keys_zone_record -------------------------------------------------- */

/*
 * check_zone - rec must name "sel._domainkey.dom." as a TXT record whose
 * quoted strings are at most 255 bytes and concatenate to txt.
 */
static void
check_zone(const char *rec, const char *sel, const char *dom,
    const char *txt, size_t want_strings)
{
	char owner[512], *joined = calloc(1, strlen(rec) + 1);
	const char *p, *paren;
	size_t nstrings = 0;

	assert_non_null(joined);
	snprintf(owner, sizeof owner, "%s._domainkey.%s.", sel, dom);
	assert_true(strncmp(rec, owner, strlen(owner)) == 0);
	assert_true(rec[strlen(owner)] == ' ' || rec[strlen(owner)] == '\t');
	paren = strchr(rec, '(');
	assert_non_null(paren);
	{
		/* between the owner and "(": IN and TXT */
		char mid[64];
		size_t n = (size_t)(paren - rec) - strlen(owner);

		assert_true(n < sizeof mid);
		memcpy(mid, rec + strlen(owner), n);
		mid[n] = '\0';
		assert_true(tu_contains(mid, "IN"));
		assert_true(tu_contains(mid, "TXT"));
	}
	for (p = paren + 1; *p != '\0' && *p != ')'; p++) {
		const char *end;

		if (*p == ' ' || *p == '\t' || *p == '\n')
			continue;
		assert_int_equal(*p, '"');
		end = strchr(p + 1, '"');
		assert_non_null(end);
		if ((size_t)(end - p - 1) > 255)
			fail_msg("a string of %zu bytes", (size_t)(end - p - 1));
		strncat(joined, p + 1, (size_t)(end - p - 1));
		nstrings++;
		p = end;
	}
	assert_int_equal(*p, ')');
	for (p++; *p == ' ' || *p == '\t' || *p == '\n'; p++)
		;
	assert_int_equal(*p, '\0');
	assert_string_equal(joined, txt);
	if (want_strings)
		assert_int_equal(nstrings, want_strings);
	free(joined);
}

/* zone_of_len - a synthetic TXT value of len bytes, checked */
static void
zone_of_len(size_t len, size_t want_strings)
{
	char *txt = malloc(len + 1), *rec;

	assert_non_null(txt);
	for (size_t i = 0; i < len; i++)
		txt[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789+/"[i % 64];
	txt[len] = '\0';
	rec = keys_zone_record("s1", "example.com", txt);
	assert_non_null(rec);
	check_zone(rec, "s1", "example.com", txt, want_strings);
	free(rec);
	free(txt);
}

static void
test_zone_record_lengths(void **state)
{
	(void)state;
	zone_of_len(1, 1);
	zone_of_len(254, 1);
	zone_of_len(255, 1);
	zone_of_len(256, 2);
	zone_of_len(510, 2);
	zone_of_len(511, 3);
	zone_of_len(1500, 6);
}

/* real records: RSA 4096 (several strings) and Ed25519 (one) */
static void
test_zone_record_real(void **state)
{
	char *path, *txt, *rec;

	(void)state;
	txt = gen_ok(KEY_ALG_RSA, 4096, "zone-rsa.pem", 022, &path);
	assert_true(strlen(txt) > 510);
	rec = keys_zone_record("sel", "dom", txt);
	check_zone(rec, "sel", "dom", txt, (strlen(txt) + 254) / 255);
	assert_true(strncmp(rec, "sel._domainkey.dom.", 19) == 0);
	free(rec);
	unlink(path);
	free(path);
	free(txt);

	txt = public_txt_of(fx.ed);
	rec = keys_zone_record("ed2026", "mail.example.org", txt);
	check_zone(rec, "ed2026", "mail.example.org", txt, 1);
	free(rec);
	free(txt);
}

/* --- keys_match_p ------------------------------------------------------ */

/* match_of - keys_match_p of the key in path against p64 */
static enum keys_match
match_of(const char *path, const char *p64)
{
	char err[ERRLEN];
	struct privkey *k = keys_load(path, true, 0, err, sizeof err);
	enum keys_match m;

	if (k == NULL)
		fail_msg("%s", err);
	m = keys_match_p(k, p64, strlen(p64));
	keys_free(k);
	return m;
}

/* p_of - the p= value (after the prefix) of the key in path (caller frees) */
static char *
p_of(const char *path)
{
	char *txt = public_txt_of(path), *p = strstr(txt, "p=");
	char *out;

	assert_non_null(p);
	out = strdup(p + 2);
	free(txt);
	return out;
}

/* a published p= against the private key: same, other, not a key */
static void
test_match_p(void **state)
{
	char *rsa = p_of(fx.rsa), *rsa1024 = p_of(fx.rsa1024);
	char *ed = p_of(fx.ed), *spaced, *pkcs1, *other_ed;
	char *pkcs1_path = tu_path(fx.dir, "pkcs1.b64");
	char *ed2_path = genkey("ed2.pem", "-algorithm ed25519", NULL);
	size_t len;

	(void)state;
	assert_int_equal(match_of(fx.rsa, rsa), KEYS_MATCH);
	assert_int_equal(match_of(fx.rsa, rsa1024), KEYS_MISMATCH);
	assert_int_equal(match_of(fx.rsa1024, rsa), KEYS_MISMATCH);
	assert_int_equal(match_of(fx.rsa, ed), KEYS_BAD_PUBLIC);
	assert_int_equal(match_of(fx.rsa, "not base64!"), KEYS_BAD_PUBLIC);
	assert_int_equal(match_of(fx.rsa, ""), KEYS_BAD_PUBLIC);
	assert_int_equal(match_of(fx.rsa, "MIIBIjANBgkqhkiG"),
	    KEYS_BAD_PUBLIC);

	/* white space inside p= is allowed (RFC 6376 3.6.1) */
	len = strlen(rsa);
	spaced = malloc(len + len / 50 + 2);
	assert_non_null(spaced);
	for (size_t i = 0, o = 0; i <= len; i++) {
		if (i > 0 && i % 50 == 0)
			spaced[o++] = ' ';
		spaced[o++] = rsa[i];
	}
	assert_int_equal(match_of(fx.rsa, spaced), KEYS_MATCH);

	/* a bare RSAPublicKey (PKCS#1), as some publish it */
	assert_non_null(pkcs1_path);
	assert_int_equal(tu_run("openssl rsa -in '%s' -RSAPublicKey_out "
	    "-outform DER 2>/dev/null | openssl base64 -A > '%s'", fx.rsa,
	    pkcs1_path), 0);
	pkcs1 = (char *)read_all(pkcs1_path, &len);
	pkcs1[len] = '\0';
	assert_true(len > 100);
	assert_int_equal(match_of(fx.rsa, pkcs1), KEYS_MATCH);
	assert_int_equal(match_of(fx.rsa1024, pkcs1), KEYS_MISMATCH);

	/* Ed25519: the raw 32 bytes */
	assert_non_null(ed2_path);
	other_ed = p_of(ed2_path);
	assert_int_equal(match_of(fx.ed, ed), KEYS_MATCH);
	assert_int_equal(match_of(fx.ed, other_ed), KEYS_MISMATCH);
	assert_int_equal(match_of(fx.ed, rsa), KEYS_BAD_PUBLIC);

	free(rsa);
	free(rsa1024);
	free(ed);
	free(spaced);
	free(pkcs1);
	free(pkcs1_path);
	free(other_ed);
	free(ed2_path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_rsa),
		cmocka_unit_test(test_load_ed25519),
		cmocka_unit_test(test_alg_name),
		cmocka_unit_test(test_load_loose_modes),
		cmocka_unit_test(test_load_readonly_mode),
		cmocka_unit_test(test_load_not_a_key),
		cmocka_unit_test(test_load_empty),
		cmocka_unit_test(test_load_too_large),
		cmocka_unit_test(test_load_missing),
		cmocka_unit_test(test_load_directory),
		cmocka_unit_test(test_load_fifo),
		cmocka_unit_test(test_load_public_key),
		cmocka_unit_test(test_load_ec_key),
		cmocka_unit_test(test_load_weak_rsa),
		cmocka_unit_test(test_generate_rsa),
		cmocka_unit_test(test_generate_ed25519),
		cmocka_unit_test(test_generate_no_overwrite),
		cmocka_unit_test(test_generate_errors),
		cmocka_unit_test(test_public_txt_matches_generate),
		cmocka_unit_test(test_public_txt_openssl_keys),
		cmocka_unit_test(test_zone_record_lengths),
		cmocka_unit_test(test_zone_record_real),
		cmocka_unit_test(test_match_p),
	};

	return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
