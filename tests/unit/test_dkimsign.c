/*
 * test_dkimsign.c - unit tests for dkimsign.c: body canonicalization
 * (RFC 6376 section 3.4.5, empty bodies, chunking, a reference
 * canonicalizer on random bodies), header canonicalization (folding,
 * tabs, trailing white space, a reference on random fields), header
 * selection and oversigning,
 * parameter checks and bounds, byte-for-byte agreement with libopendkim for
 * RSA, and end-to-end verification of Ed25519 and RSA signatures by two
 * independent verifiers: python3-dkim and libopendkim.
 *
 * Keys are generated in memory at start. The python verifier is
 * /usr/bin/python3 (Debian's, which has the dkim and nacl modules); the
 * tests that need it are skipped when it cannot import them.
 */
#include "buildconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <opendkim/dkim.h>

#include "dkimsign.h"
#include "testutil.h"
#include "util.h"

#define T_PYTHON	"/usr/bin/python3"
#define T_DOMAIN	"example.com"
#define T_SELECTOR	"sel"
#define T_BIG_BODY	(1024 * 1024)	/* the 1 MB message */
#define T_RANDOM_RUNS	3000		/* random bodies per canonicalization */
#define T_RSA_BITS	2048

static EVP_PKEY *ed_key, *rsa_key;
static char *tmpdir;
static bool have_python;

static const char *const sign_list[] = { "From", "Reply-To", "Subject",
    "Date", "To", "Cc", "Message-ID", "MIME-Version", "Content-Type",
    "Received", NULL };
static const char *const oversign_list[] = { "From", "To", "Subject",
    "Reply-To", NULL };

/* A message: header fields without CRLF, and a body. */
struct tmsg {
	const char		*name;
	const char *const	*hdrs;
	const unsigned char	*body;
	size_t			 bodylen;
};

/* ---- helpers ---------------------------------------------------------- */

/* b64 - base64 of n bytes (caller frees) */
static char *
b64(const unsigned char *data, size_t n)
{
	char *s = xmalloc(((n + 2) / 3) * 4 + 1);

	EVP_EncodeBlock((unsigned char *)s, data, (int)n);
	return s;
}

/* sha256_b64 - base64 of the SHA-256 of data (caller frees) */
static char *
sha256_b64(const void *data, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	assert_int_equal(EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL),
	    1);
	return b64(md, mdlen);
}

/* params - signing parameters with the test lists */
static struct dkimsign_params
params(EVP_PKEY *key, bool hrelax, bool brelax, long long ts)
{
	struct dkimsign_params p = {
		.domain = T_DOMAIN,
		.selector = T_SELECTOR,
		.identity = NULL,
		.key = key,
		.hdr_relaxed = hrelax,
		.body_relaxed = brelax,
		.sign_headers = sign_list,
		.oversign_headers = oversign_list,
		.timestamp = ts,
	};

	return p;
}

/* sign_with - sign hdrs + body fed in chunks of chunk bytes (0: whole) */
static char *
sign_with(const struct dkimsign_params *p, const char *const *hdrs,
    const unsigned char *body, size_t bodylen, size_t chunk)
{
	char err[256] = "";
	struct dkimsign *ds = dkimsign_new(p, err, sizeof(err));
	char *v;

	if (ds == NULL)
		fail_msg("dkimsign_new: %s", err);
	for (size_t i = 0; hdrs[i] != NULL; i++)
		assert_true(dkimsign_header(ds, hdrs[i], strlen(hdrs[i])));
	if (chunk == 0)
		chunk = bodylen;
	for (size_t off = 0; off < bodylen; off += chunk)
		dkimsign_body(ds, body + off,
		    bodylen - off < chunk ? bodylen - off : chunk);
	v = dkimsign_finish(ds, err, sizeof(err));
	if (v == NULL)
		fail_msg("dkimsign_finish: %s", err);
	dkimsign_free(ds);
	return v;
}

/* sign_msg - sign with the test lists */
static char *
sign_msg(EVP_PKEY *key, bool hrelax, bool brelax, const char *const *hdrs,
    const unsigned char *body, size_t bodylen, size_t chunk)
{
	struct dkimsign_params p = params(key, hrelax, brelax,
	    (long long)time(NULL));

	return sign_with(&p, hdrs, body, bodylen, chunk);
}

/* tag - a tag's value from a header value, white space removed */
static char *
tag(const char *value, const char *name)
{
	size_t nlen = strlen(name);
	const char *p = value;
	struct buf b;

	buf_init(&b);
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' ||
		    *p == ';')
			p++;
		if (strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
			for (p += nlen + 1; *p && *p != ';'; p++)
				if (*p != ' ' && *p != '\t' && *p != '\r' &&
				    *p != '\n')
					buf_putc(&b, *p);
			return buf_steal(&b);
		}
		while (*p && *p != ';')
			p++;
	}
	buf_free(&b);
	return NULL;
}

/* squeeze - the value without any white space (caller frees) */
static char *
squeeze(const char *v)
{
	struct buf b;

	buf_init(&b);
	for (; *v; v++)
		if (*v != ' ' && *v != '\t' && *v != '\r' && *v != '\n')
			buf_putc(&b, *v);
	return buf_steal(&b);
}

/* body_hash - bh= of a body signed with the given canonicalization */
static char *
body_hash(bool relaxed, const unsigned char *body, size_t len, size_t chunk)
{
	static const char *const hdrs[] = { "From: a@example.com", NULL };
	char *v = sign_msg(ed_key, true, relaxed, hdrs, body, len, chunk);
	char *bh = tag(v, "bh");

	free(v);
	assert_non_null(bh);
	return bh;
}

/* assert_bh - bh= of body is the SHA-256 of canon, for all chunkings */
static void
assert_bh(bool relaxed, const char *body, size_t len, const char *canon,
    size_t clen)
{
	static const size_t chunks[] = { 0, 1, 2, 3, 7, 64 * 1024 };
	char *want = sha256_b64(canon, clen);

	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		char *bh = body_hash(relaxed, (const unsigned char *)body, len,
		    chunks[i]);

		if (strcmp(bh, want) != 0)
			fail_msg("%s body, chunk %zu: bh=%s, want %s",
			    relaxed ? "relaxed" : "simple", chunks[i], bh,
			    want);
		free(bh);
	}
	free(want);
}

/* message - the message with the signature field on top (caller frees) */
static struct buf
message(const char *sigvalue, const char *const *hdrs,
    const unsigned char *body, size_t bodylen)
{
	struct buf m;

	buf_init(&m);
	if (sigvalue != NULL) {
		buf_puts(&m, "DKIM-Signature:");
		buf_puts(&m, sigvalue);
		buf_puts(&m, "\r\n");
	}
	for (size_t i = 0; hdrs[i] != NULL; i++) {
		buf_puts(&m, hdrs[i]);
		buf_puts(&m, "\r\n");
	}
	buf_puts(&m, "\r\n");
	buf_append(&m, body, bodylen);
	return m;
}

/* txt_record - the DNS TXT record that publishes key's public half */
static char *
txt_record(EVP_PKEY *key)
{
	struct buf t;
	char *p;

	buf_init(&t);
	if (EVP_PKEY_is_a(key, "ED25519")) {
		unsigned char raw[32];
		size_t len = sizeof(raw);

		assert_int_equal(EVP_PKEY_get_raw_public_key(key, raw, &len),
		    1);
		p = b64(raw, len);
		buf_printf(&t, "v=DKIM1; k=ed25519; p=%s", p);
	} else {
		unsigned char *der = NULL;
		int len = i2d_PUBKEY(key, &der);

		assert_true(len > 0);
		p = b64(der, (size_t)len);
		OPENSSL_free(der);
		buf_printf(&t, "v=DKIM1; k=rsa; p=%s", p);
	}
	free(p);
	return buf_steal(&t);
}

/* write_bytes - dir/name with these bytes; the path (caller frees) */
static char *
write_bytes(const char *dir, const char *name, const void *data, size_t len)
{
	char *path = tu_path(dir, name);
	FILE *f;

	assert_non_null(path);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

/*
 * stage - write a signed message for the python verifier into dir:
 * name.eml and name.eml.txt (the TXT record). A name ending in ".bad"
 * must fail verification.
 */
static void
stage(const char *dir, const char *name, EVP_PKEY *key, const char *sig,
    const char *const *hdrs, const unsigned char *body, size_t bodylen)
{
	struct buf m = message(sig, hdrs, body, bodylen), n;
	char *txt = txt_record(key);

	buf_init(&n);
	buf_printf(&n, "%s.eml", name);
	free(write_bytes(dir, n.data, m.data, m.len));
	buf_puts(&n, ".txt");
	free(write_bytes(dir, n.data, txt, strlen(txt)));
	buf_free(&n);
	buf_free(&m);
	free(txt);
}

/* python_verify - run the python verifier on every message in dir */
static void
python_verify(const char *dir)
{
	int rc = tu_run("cd %s && " T_PYTHON " %s/verify.py *.eml", dir,
	    tmpdir);

	assert_int_equal(rc, 0);
}

/*
 * odkim_check - feed a whole message to a libopendkim verifier that
 * finds keys in keyfile: 0 if dkim_eom() says DKIM_STAT_OK, 1 if not,
 * 100 and up if the verifier could not be set up or refused input
 */
static unsigned char
odkim_check(const struct buf *m, const char *keyfile)
{
	DKIM_LIB *lib = dkim_init(NULL, NULL);
	int method = DKIM_QUERY_FILE;
	const char *p = m->data, *end = m->data + m->len, *eoh;
	DKIM_STAT st;
	DKIM *d;

	if (lib == NULL ||
	    dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYMETHOD, &method,
	    sizeof(method)) != DKIM_STAT_OK ||
	    dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYINFO,
	    (void *)keyfile, strlen(keyfile)) != DKIM_STAT_OK)
		return 100;
	d = dkim_verify(lib, (const unsigned char *)"test", NULL, &st);
	eoh = strstr(p, "\r\n\r\n");
	if (d == NULL || eoh == NULL)
		return 101;
	/* header fields: each up to a CRLF not followed by WSP */
	while (p < eoh + 2) {
		const char *e = p;

		for (;;) {
			e = strstr(e, "\r\n");
			if (e[2] != ' ' && e[2] != '\t')
				break;
			e += 2;
		}
		if (dkim_header(d, (unsigned char *)p, (size_t)(e - p)) !=
		    DKIM_STAT_OK)
			return 102;
		p = e + 2;
	}
	if (dkim_eoh(d) != DKIM_STAT_OK)
		return 103;
	p = eoh + 4;
	if (p < end && dkim_body(d, (unsigned char *)p, (size_t)(end - p)) !=
	    DKIM_STAT_OK)
		return 104;
	st = dkim_eom(d, NULL);
	return st == DKIM_STAT_OK ? 0 : 1;
}

/* odkim_child - verify in a child; the verdict is one byte on fd */
static void __attribute__((noreturn))
odkim_child(int fd, const struct buf *m, const char *keyfile)
{
	unsigned char verdict = odkim_check(m, keyfile);

	(void)!write(fd, &verdict, 1);
	_exit(0);
}

/*
 * odkim_verify - libopendkim's verdict on a message: 0 if it verifies.
 * It runs in a child that leaves with _exit() and reports through a pipe
 * (not its exit status, which valgrind may replace), because libopendkim
 * leaks Ed25519 state (the reason dkimsign exists) and a leak checker
 * would otherwise blame this test.
 */
static int
odkim_verify(const struct buf *m, EVP_PKEY *key)
{
	char *txt = txt_record(key), *keyfile;
	unsigned char verdict = 255;
	struct buf line;
	int fd[2], status;
	pid_t pid;

	buf_init(&line);
	buf_printf(&line, T_SELECTOR "._domainkey." T_DOMAIN " %s\n", txt);
	keyfile = write_bytes(tmpdir, "odkim.keys", line.data, line.len);
	buf_free(&line);
	free(txt);
	fflush(NULL);
	assert_int_equal(pipe(fd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fd[0]);
		odkim_child(fd[1], m, keyfile);
	}
	close(fd[1]);
	if (read(fd[0], &verdict, 1) != 1)
		verdict = 254;
	close(fd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	free(keyfile);
	return verdict;
}

/* key_pem - the private key in PEM, for libopendkim (caller frees) */
static char *
key_pem(EVP_PKEY *key)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *pem;
	long len;

	assert_non_null(bio);
	assert_int_equal(PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0,
	    NULL, NULL), 1);
	len = BIO_get_mem_data(bio, &data);
	pem = xstrndup(data, (size_t)len);
	BIO_free(bio);
	return pem;
}

/*
 * odkim_sign - libopendkim's signature header value for the same message
 * with the same lists and time (caller frees)
 */
static char *
odkim_sign(EVP_PKEY *key, bool hrelax, bool brelax, uint64_t ts,
    const char *signer, const char *const *hdrs, const unsigned char *body,
    size_t bodylen)
{
	DKIM_LIB *lib = dkim_init(NULL, NULL);
	char *pem = key_pem(key), *v;
	unsigned char *hdr = NULL;
	size_t len = 0;
	DKIM_STAT st;
	DKIM *d;

	assert_non_null(lib);
	assert_int_equal(dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FIXEDTIME,
	    &ts, sizeof(ts)), DKIM_STAT_OK);
	assert_int_equal(dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS,
	    (void *)sign_list, sizeof(char **)), DKIM_STAT_OK);
	assert_int_equal(dkim_options(lib, DKIM_OP_SETOPT,
	    DKIM_OPTS_OVERSIGNHDRS, (void *)oversign_list, sizeof(char **)),
	    DKIM_STAT_OK);
	d = dkim_sign(lib, (const unsigned char *)"test", NULL,
	    (dkim_sigkey_t)pem, (const unsigned char *)T_SELECTOR,
	    (const unsigned char *)T_DOMAIN,
	    hrelax ? DKIM_CANON_RELAXED : DKIM_CANON_SIMPLE,
	    brelax ? DKIM_CANON_RELAXED : DKIM_CANON_SIMPLE,
	    DKIM_SIGN_RSASHA256, -1, &st);
	assert_non_null(d);
	if (signer != NULL)
		assert_int_equal(dkim_set_signer(d,
		    (const unsigned char *)signer), DKIM_STAT_OK);
	for (size_t i = 0; hdrs[i] != NULL; i++)
		assert_int_equal(dkim_header(d, (unsigned char *)hdrs[i],
		    strlen(hdrs[i])), DKIM_STAT_OK);
	assert_int_equal(dkim_eoh(d), DKIM_STAT_OK);
	if (bodylen > 0)
		assert_int_equal(dkim_body(d, (unsigned char *)body, bodylen),
		    DKIM_STAT_OK);
	assert_int_equal(dkim_eom(d, NULL), DKIM_STAT_OK);
	assert_int_equal(dkim_getsighdr_d(d, strlen("DKIM-Signature: "),
	    &hdr, &len), DKIM_STAT_OK);
	v = xstrndup((const char *)hdr, len);
	dkim_free(d);
	dkim_close(lib);
	free(pem);
	return v;
}

/* ---- test messages ---------------------------------------------------- */

static const char *const h_plain[] = {
	"From: Alice <alice@example.com>",
	"To: Bob <bob@example.org>",
	"Subject: plain",
	"Date: Mon, 1 Jan 2024 00:00:00 +0000",
	"Message-ID: <plain@example.com>",
	NULL };

static const char *const h_folded[] = {
	"Received: from a.example.net by b.example.com;\r\n"
	"\tMon, 1 Jan 2024 00:00:02 +0000",
	"Received: from c.example.net\r\n by a.example.net;\r\n"
	"  Mon, 1 Jan 2024 00:00:01 +0000",
	"From:\r\n Alice   Example\r\n\t<alice@example.com>",
	"To: Bob <bob@example.org>,\r\n   Carol <carol@example.org>,\r\n"
	"\tDave <dave@example.org>",
	"Subject: a subject that is long enough to be folded over more than\r\n"
	" one line,\r\n\twith tabs and   runs of  spaces",
	"X-Unsigned: not in the list",
	"Date: Mon, 1 Jan 2024 00:00:00 +0000",
	NULL };

static const char *const h_spaces[] = {
	"From: alice@example.com   ",
	"To:bob@example.org",
	"Subject:   padded\t \t",
	"Cc: \t",
	NULL };

static const char *const h_8bit[] = {
	"From: =?utf-8?q?Al=C3=AFce?= <alice@example.com>",
	"Subject: caf\xc3\xa9 \xe2\x82\xac 8-bit",
	"To: bob@example.org",
	"Content-Type: text/plain; charset=utf-8",
	"MIME-Version: 1.0",
	NULL };

/* enough signed fields for h= to fold after colons */
static const char *const h_many[] = {
	"Received: from r1", "Received: from r2", "Received: from r3",
	"Received: from r4", "Received: from r5", "Received: from r6",
	"Received: from r7", "Received: from r8", "Received: from r9",
	"Received: from r10", "Received: from r11", "Received: from r12",
	"From: alice@example.com", "Reply-To: alice@example.com",
	"To: bob@example.org", "Cc: carol@example.org",
	"Subject: many", "Date: Mon, 1 Jan 2024 00:00:00 +0000",
	"Message-ID: <many@example.com>", "MIME-Version: 1.0",
	"Content-Type: text/plain", NULL };

static const char b_plain[] = "Hello Bob,\r\n\r\nthis is a test.\r\n";
static const char b_spaces[] = "trailing   \r\n\t lead\r\n  \r\n"
    "mid  \t dle\t\r\n\r\n \r\n\r\n";
static const char b_nocrlf[] = "first line\r\n\r\nlast line, no CRLF";
static const char b_8bit[] = "caf\xc3\xa9\r\n\x80\x81\xfe\xff \t\r\n"
    "\xe2\x82\xac\r\n";

/* big_body - about 1 MB of lines with trailing WSP and empty runs */
static unsigned char *
big_body(size_t *len)
{
	unsigned char *b = xmalloc(T_BIG_BODY + 16);
	unsigned int seed = 12345;
	size_t n = 0;

	while (n < T_BIG_BODY) {
		seed = seed * 1103515245u + 12345u;
		switch ((seed >> 16) % 16) {
		case 0:
			b[n++] = '\r';
			b[n++] = '\n';
			break;
		case 1:
			b[n++] = ' ';
			break;
		case 2:
			b[n++] = '\t';
			break;
		default:
			b[n++] = (unsigned char)('!' + (seed >> 8) % 94);
			if ((seed >> 4) % 11 == 0) {
				b[n++] = '\r';
				b[n++] = '\n';
			}
		}
	}
	memcpy(b + n, "\r\n\r\n", 4);
	*len = n + 4;
	return b;
}

/* ---- body canonicalization -------------------------------------------- */

/* RFC 6376 section 3.4.5: the example body, both canonicalizations */
static void
test_body_rfc_example(void **state)
{
	static const char body[] = " C \r\nD \t E\r\n\r\n\r\n";

	(void)state;
	assert_bh(true, body, strlen(body), " C\r\nD E\r\n", 9);
	assert_bh(false, body, strlen(body), " C \r\nD \t E\r\n", 12);
}

/* the empty body: CRLF for simple, nothing for relaxed */
static void
test_body_empty(void **state)
{
	static const char *const empties[] = { "", "\r\n", "\r\n\r\n\r\n" };
	static const char *const blanks[] = { " ", "\r\n \t\r\n", " \t\r\n" };

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		char *s = body_hash(false, (const unsigned char *)empties[i],
		    strlen(empties[i]), 0);
		char *r = body_hash(true, (const unsigned char *)empties[i],
		    strlen(empties[i]), 0);

		assert_string_equal(s,
		    "frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=");
		assert_string_equal(r,
		    "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
		free(s);
		free(r);
	}
	/* lines of white space only are empty once relaxed */
	for (size_t i = 1; i < 3; i++)
		assert_bh(true, blanks[i], strlen(blanks[i]), "", 0);
	/* ... but a last line of WSP without CRLF is content (as dkimpy) */
	assert_bh(true, blanks[0], 1, " \r\n", 3);
}

/* edge cases: no final CRLF, bare CR and LF, empty lines inside */
static void
test_body_edges(void **state)
{
	(void)state;
	assert_bh(false, "abc", 3, "abc\r\n", 5);
	assert_bh(true, "abc", 3, "abc\r\n", 5);
	assert_bh(true, "abc  \t", 6, "abc \r\n", 6);
	assert_bh(false, "abc  ", 5, "abc  \r\n", 7);
	assert_bh(false, "a\r\n\r\nb\r\n\r\n", 10, "a\r\n\r\nb\r\n", 8);
	assert_bh(true, "a\r\n \r\nb \r\n \r\n", 13, "a\r\n\r\nb\r\n", 8);
	assert_bh(false, "a\rb\nc\r\n", 7, "a\rb\nc\r\n", 7);
	assert_bh(true, "a \rb \n c\r\n", 10, "a \rb \n c\r\n", 10);
	assert_bh(false, "a\r", 2, "a\r\r\n", 4);
	assert_bh(true, "a \r", 3, "a \r\r\n", 5);
	assert_bh(true, "a\r\n\r\n  ", 7, "a\r\n\r\n \r\n", 8);
	assert_bh(false, "\r\n\r\nx\r\n", 7, "\r\n\r\nx\r\n", 7);
}

/*
 * ref_canon - the body canonicalization the way dkimpy writes it, on a
 * whole buffer (regular-expression passes), to check the state machine
 */
static struct buf
ref_canon(bool relaxed, const unsigned char *in, size_t len)
{
	struct buf a, b;
	size_t end;

	buf_init(&a);
	buf_init(&b);
	buf_append(&a, "", 0);
	if (relaxed) {
		/* [\t ]+\r\n -> \r\n, then [\t ]+ -> SP */
		for (size_t i = 0; i < len;) {
			size_t j = i;

			while (j < len && (in[j] == ' ' || in[j] == '\t'))
				j++;
			if (j > i) {
				if (!(j + 1 < len && in[j] == '\r' &&
				    in[j + 1] == '\n'))
					buf_putc(&a, ' ');
				i = j;
				continue;
			}
			buf_putc(&a, (char)in[i++]);
		}
	} else
		buf_append(&a, in, len);
	/* strip trailing CRLFs down to one; none: add one */
	end = a.len;
	while (end >= 2 && a.data[end - 2] == '\r' && a.data[end - 1] == '\n')
		end -= 2;
	buf_append(&b, a.data, end);
	buf_append(&b, "\r\n", 2);
	if (relaxed && b.len == 2)
		b.len = 0;
	buf_free(&a);
	return b;
}

/*
 * random bodies, random chunkings: the state machine agrees with
 * ref_canon. The alphabets: dense white space and line ends in small
 * chunks; lines without WSP (the stretches hashed as they are) and with
 * rare SP, bare CR and empty lines, in chunks of up to T_RANDOM_CHUNK;
 * text, words and single spaces with now and then two, a tab, a space
 * before a line end or a bare CR (the 16-byte steps of relaxed runs).
 */
#define T_RANDOM_CHUNK	300
static void
test_body_random(void **state)
{
	static const char *const alphabets[] = {
		"ab \t\r\n\r\n\r\n\xff",
		"abcdefgh\r\n\r\n\r\n\xff\r",
		"abcdefghijklmnop \r\n\r\n\r\n\r\n",
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "           \t\r\r\n\r\n",
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz  \r\n",
	};
	unsigned char body[512];
	unsigned int seed = 4242;

	(void)state;
	for (size_t a = 0; a < sizeof(alphabets) / sizeof(alphabets[0]); a++)
	for (int run = 0; run < T_RANDOM_RUNS; run++) {
		const char *alphabet = alphabets[a];
		size_t len, chunk, alen = strlen(alphabet);

		seed = seed * 1103515245u + 12345u;
		len = (seed >> 16) % (a == 0 ? 256 : sizeof(body));
		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			body[i] = (unsigned char)alphabet[(seed >> 16) % alen];
		}
		seed = seed * 1103515245u + 12345u;
		chunk = 1 + (seed >> 16) % (a == 0 ? 9 : T_RANDOM_CHUNK);
		for (int relaxed = 0; relaxed < 2; relaxed++) {
			struct buf want = ref_canon(relaxed, body, len);
			char *w = sha256_b64(want.data ? want.data : "",
			    want.len);
			char *got = body_hash(relaxed, body, len, chunk);

			if (strcmp(w, got) != 0)
				fail_msg("alphabet %zu run %d (%s, %zu bytes, "
				    "chunk %zu)", a, run, relaxed ? "relaxed" :
				    "simple", len, chunk);
			free(w);
			free(got);
			buf_free(&want);
		}
	}
}

/* a 1 MB body gives the same bh= fed whole, by 1, 7 and 64 KB */
static void
test_body_chunking(void **state)
{
	static const size_t chunks[] = { 1, 7, 64 * 1024 };
	size_t len;
	unsigned char *b = big_body(&len);

	(void)state;
	for (int relaxed = 0; relaxed < 2; relaxed++) {
		char *whole = body_hash(relaxed, b, len, 0);
		struct buf ref = ref_canon(relaxed, b, len);
		char *want = sha256_b64(ref.data, ref.len);

		assert_string_equal(whole, want);
		for (size_t i = 0; i < 3; i++) {
			char *bh = body_hash(relaxed, b, len, chunks[i]);

			assert_string_equal(bh, whole);
			free(bh);
		}
		free(whole);
		free(want);
		buf_free(&ref);
	}
	free(b);
}

/* ---- header selection ------------------------------------------------- */

/* h= lists present fields in message order, then the oversigned names */
static void
test_h_selection(void **state)
{
	static const char *const hdrs[] = {
		"Received: from top",
		"X-Other: not signed",
		"from: alice@example.com",
		"Received: from bottom",
		"SUBJECT : odd spelling",
		"To: bob@example.org",
		NULL };
	static const char body[] = "x\r\n";
	char *v = sign_msg(ed_key, true, true, hdrs,
	    (const unsigned char *)body, 3, 0);
	char *h = tag(v, "h");

	(void)state;
	assert_string_equal(h,
	    "Received:from:Received:SUBJECT:To:From:To:Subject:Reply-To");
	assert_null(tag(v, "l"));
	free(h);
	free(v);
}

/*
 * instances are hashed bottom-up: a message whose two Received fields are
 * swapped is a different signed message, and reordering an unsigned field
 * changes nothing (Ed25519 signatures are deterministic, so the values
 * can be compared directly)
 */
static void
test_h_bottom_up(void **state)
{
	static const char *const a[] = { "Received: one", "From: a@example.com",
	    "Received: two", "X-A: 1", NULL };
	static const char *const b[] = { "Received: two", "From: a@example.com",
	    "Received: one", "X-A: 1", NULL };
	static const char *const c[] = { "X-A: 1", "Received: one",
	    "From: a@example.com", "Received: two", NULL };
	struct dkimsign_params p = params(ed_key, false, false, 1700000000);
	char *va = sign_with(&p, a, (const unsigned char *)"", 0, 0);
	char *vb = sign_with(&p, b, (const unsigned char *)"", 0, 0);
	char *vc = sign_with(&p, c, (const unsigned char *)"", 0, 0);
	char *ba = tag(va, "b"), *bb = tag(vb, "b"), *bc = tag(vc, "b");

	(void)state;
	assert_string_not_equal(ba, bb);
	assert_string_equal(ba, bc);
	free(ba);
	free(bb);
	free(bc);
	free(va);
	free(vb);
	free(vc);
}

/* relaxed header canonicalization: refolding and case do not matter */
static void
test_h_relaxed(void **state)
{
	static const char *const a[] = { "From: Alice <a@example.com>",
	    "Subject: one two", NULL };
	static const char *const b[] = {
	    "From :\tAlice\r\n   <a@example.com>  ", "Subject:one \t two",
	    NULL };
	struct dkimsign_params p = params(ed_key, true, true, 1700000000);
	char *va = sign_with(&p, a, (const unsigned char *)"", 0, 0);
	char *vb = sign_with(&p, b, (const unsigned char *)"", 0, 0);
	char *ba = tag(va, "b"), *bb = tag(vb, "b");

	(void)state;
	free(va);
	free(vb);
	assert_string_equal(ba, bb);
	free(ba);
	free(bb);
}

/* hdr_digest - dkimsign_hash_* over one field: its SHA-256 */
static void
hdr_digest(const char *field, size_t len, bool relaxed, bool crlf,
    unsigned char digest[DKIMSIGN_SHA256_LEN])
{
	struct dkimsign_hash *h = dkimsign_hash_new();

	assert_non_null(h);
	dkimsign_hash_field(h, field, len, relaxed, crlf);
	assert_true(dkimsign_hash_final(h, digest));
	dkimsign_hash_free(h);
}

/* hdr_check - field canonicalizes to want (what is hashed) */
static void
hdr_check(const char *field, bool relaxed, bool crlf, const char *want)
{
	unsigned char got[DKIMSIGN_SHA256_LEN], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	hdr_digest(field, strlen(field), relaxed, crlf, got);
	assert_int_equal(EVP_Digest(want, strlen(want), md, &mdlen,
	    EVP_sha256(), NULL), 1);
	if (memcmp(got, md, DKIMSIGN_SHA256_LEN) != 0)
		fail_msg("\"%s\" does not canonicalize to \"%s\"", field, want);
}

/*
 * header canonicalization (RFC 6376 3.4.1, 3.4.2): folded values, tabs,
 * runs of WSP, trailing WSP, WSP around the colon, bare CR and LF
 */
static void
test_h_canon(void **state)
{
	(void)state;
	hdr_check("Subject:  one  two  ", true, true, "subject:one two\r\n");
	hdr_check("Subject: one\r\n two\r\n\tthree", true, true,
	    "subject:one two three\r\n");
	hdr_check("X-A:\ta\t\tb\t", true, true, "x-a:a b\r\n");
	hdr_check("X-A: a \t b", true, true, "x-a:a b\r\n");
	hdr_check("X-B: a\r\nb", true, true, "x-b:ab\r\n");
	hdr_check("X-C: a \r\n \r\n\t", true, true, "x-c:a\r\n");
	hdr_check("X-C:\r\n a", true, true, "x-c:a\r\n");
	hdr_check("FROM \t: A <a@B.example>", true, true,
	    "from:A <a@B.example>\r\n");
	hdr_check("X-D: a\rb  c", true, true, "x-d:a\rb c\r\n");
	hdr_check("X-D: a \rb", true, true, "x-d:a \rb\r\n");
	hdr_check("X-D: a\r", true, true, "x-d:a\r\r\n");
	hdr_check("X-E: a\nb \n", true, true, "x-e:a\nb \n\r\n");
	hdr_check("X-F:", true, true, "x-f:\r\n");
	hdr_check("X-F: \t ", true, true, "x-f:\r\n");
	hdr_check("X-G: a:b  ; c=d;", true, false, "x-g:a:b ; c=d;");
	hdr_check("Subject:  A \r\n b", false, true, "Subject:  A \r\n b\r\n");
	hdr_check("Subject:  A \r\n b", false, false, "Subject:  A \r\n b");
}

/* ref_hdr_canon - relaxed header canonicalization byte by byte */
static struct buf
ref_hdr_canon(const char *field, size_t len)
{
	const char *colon = memchr(field, ':', len), *p;
	size_t namelen = colon == NULL ? len : (size_t)(colon - field);
	bool started = false, space = false;
	struct buf b;

	buf_init(&b);
	while (namelen > 0 && (field[namelen - 1] == ' ' ||
	    field[namelen - 1] == '\t'))
		namelen--;
	for (size_t i = 0; i < namelen; i++)
		buf_putc(&b, field[i] >= 'A' && field[i] <= 'Z' ?
		    (char)(field[i] + 32) : field[i]);
	buf_putc(&b, ':');
	p = colon == NULL ? field + len : colon + 1;
	for (; p < field + len; p++) {
		if (*p == '\r' && p + 1 < field + len && p[1] == '\n') {
			p++;
			continue;
		}
		if (*p == ' ' || *p == '\t') {
			space = started;
			continue;
		}
		if (space)
			buf_putc(&b, ' ');
		space = false;
		started = true;
		buf_putc(&b, *p);
	}
	buf_append(&b, "\r\n", 2);
	return b;
}

/* random fields: relaxed canonicalization by runs agrees with ref_hdr_canon */
static void
test_h_canon_random(void **state)
{
	static const char *const alphabets[] = {
		"ab \t\r\n\r\n:",
		"abcdefgh  \r\n \r\n\t;=",
		"aB c D e F g H i ; =\r",
		/* long runs without WSP, as in b= */
		"abcdefghijklmnopqrstuvwxyz0123456789+/=ABCDEFGH \r\n\t",
	};
	char field[200];
	unsigned int seed = 777;

	(void)state;
	for (size_t a = 0; a < sizeof(alphabets) / sizeof(alphabets[0]); a++)
	for (int run = 0; run < T_RANDOM_RUNS; run++) {
		const char *alphabet = alphabets[a];
		size_t len, alen = strlen(alphabet);
		unsigned char got[DKIMSIGN_SHA256_LEN], md[EVP_MAX_MD_SIZE];
		unsigned int mdlen = 0;
		struct buf want;

		seed = seed * 1103515245u + 12345u;
		len = (seed >> 16) % sizeof(field);
		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			field[i] = alphabet[(seed >> 16) % alen];
		}
		if (len > 3 && run % 2 == 0)
			memcpy(field, "X-R:", 4);
		want = ref_hdr_canon(field, len);
		hdr_digest(field, len, true, true, got);
		assert_int_equal(EVP_Digest(want.data, want.len, md, &mdlen,
		    EVP_sha256(), NULL), 1);
		if (memcmp(got, md, DKIMSIGN_SHA256_LEN) != 0)
			fail_msg("alphabet %zu run %d: \"%.*s\"", a, run,
			    (int)len, field);
		buf_free(&want);
	}
}

/*
 * RSA signatures made with the thread's prepared contexts (pkeyctx.h),
 * keys interleaved, are those a fresh context makes (PKCS#1 v1.5 is
 * deterministic): each key signs with its own context
 */
static void
test_rsa_contexts(void **state)
{
	static const char *const h1[] = { "From: a@example.com",
	    "Subject: one", NULL };
	static const char *const h2[] = { "From: b@example.com",
	    "Subject: two", NULL };
	EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
	    (size_t)T_RSA_BITS);
	struct dkimsign_params p = params(rsa_key, true, true, 1700000000);
	struct dkimsign_params q = params(other, true, true, 1700000000);
	const unsigned char *none = (const unsigned char *)"";
	char *want1, *want2, *wantq, *v;

	(void)state;
	assert_non_null(other);
	want1 = sign_with(&p, h1, none, 0, 0);
	want2 = sign_with(&p, h2, none, 0, 0);
	wantq = sign_with(&q, h2, none, 0, 0);
	assert_string_not_equal(want2, wantq);
	v = sign_with(&q, h2, none, 0, 0);
	assert_string_equal(v, wantq);
	free(v);
	v = sign_with(&p, h1, none, 0, 0);
	assert_string_equal(v, want1);
	free(v);
	v = sign_with(&p, h2, none, 0, 0);
	assert_string_equal(v, want2);
	free(v);
	free(want1);
	free(want2);
	free(wantq);
	EVP_PKEY_free(other);
}

/* ---- parameters and bounds -------------------------------------------- */

/* the tags, their order, t= and i= */
static void
test_tags(void **state)
{
	static const char *const hdrs[] = { "From: a@example.com", NULL };
	struct dkimsign_params p = params(ed_key, true, false, 1234567890);
	const char *want;
	char *v, *t;

	(void)state;
	p.identity = "user+x=y;z@mail.EXAMPLE.com";
	v = sign_with(&p, hdrs, (const unsigned char *)"", 0, 0);
	assert_true(v[0] == ' ');
	t = squeeze(v);
	want = "v=1;a=ed25519-sha256;c=relaxed/simple;d=example.com;"
	    "i=user+x=3Dy=3Bz@mail.EXAMPLE.com;s=sel;t=1234567890;bh=";
	if (strncmp(t, want, strlen(want)) != 0)
		fail_msg("tags: %s", t);
	assert_non_null(strstr(t, ";h=From:From:To:Subject:Reply-To;b="));
	free(t);
	t = tag(v, "b");
	assert_int_equal(strlen(t), 88);
	free(t);
	/* every line within the margin (b= and bh= may reach it) */
	for (const char *l = v, *e; *l; l = e + (*e ? 2 : 0)) {
		e = strstr(l, "\r\n");
		if (e == NULL)
			e = l + strlen(l);
		assert_true(e - l <= 78 - (l == v ? 15 : 0));
		if (l != v)
			assert_true(*l == '\t');
	}
	free(v);

	p.identity = NULL;
	p.timestamp = -1;
	v = sign_with(&p, hdrs, (const unsigned char *)"", 0, 0);
	assert_null(tag(v, "t"));
	assert_null(tag(v, "i"));
	assert_null(tag(v, "l"));
	free(v);

	/* the numbers in decimal, t=0 included; c= as asked */
	p = params(ed_key, false, true, 0);
	p.expiration = 9876543210LL;
	v = sign_with(&p, hdrs, (const unsigned char *)"", 0, 0);
	t = tag(v, "t");
	assert_string_equal(t, "0");
	free(t);
	t = tag(v, "x");
	assert_string_equal(t, "9876543210");
	free(t);
	t = tag(v, "c");
	assert_string_equal(t, "simple/relaxed");
	free(t);
	free(v);
}

/* bad parameters are refused with a reason */
static void
test_params(void **state)
{
	static const char *const no_from[] = { "To", "Subject", NULL };
	static const char *const bad_name[] = { "From", "Sub ject", NULL };
	struct dkimsign_params p = params(ed_key, true, true, 0);
	char err[256];
	EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	struct dkimsign *ds;

	(void)state;
	p.sign_headers = no_from;
	p.oversign_headers = NULL;
	err[0] = '\0';
	assert_null(dkimsign_new(&p, err, sizeof(err)));
	assert_true(tu_contains(err, "From"));
	p.oversign_headers = oversign_list;	/* which names From */
	ds = dkimsign_new(&p, err, sizeof(err));
	assert_non_null(ds);
	dkimsign_free(ds);
	p.sign_headers = bad_name;
	assert_null(dkimsign_new(&p, err, sizeof(err)));
	p.sign_headers = sign_list;
	p.domain = "exa;mple.com";
	assert_null(dkimsign_new(&p, err, sizeof(err)));
	p.domain = T_DOMAIN;
	p.selector = "";
	assert_null(dkimsign_new(&p, err, sizeof(err)));
	p.selector = T_SELECTOR;
	p.identity = "user@example.org";
	err[0] = '\0';
	assert_null(dkimsign_new(&p, err, sizeof(err)));
	assert_true(tu_contains(err, "signing domain"));
	p.identity = "user@badexample.com";
	assert_null(dkimsign_new(&p, err, sizeof(err)));
	p.identity = "nobody";
	assert_null(dkimsign_new(&p, err, sizeof(err)));
	p.identity = NULL;
	assert_non_null(ec);
	p.key = ec;
	err[0] = '\0';
	assert_null(dkimsign_new(&p, err, sizeof(err)));
	assert_true(tu_contains(err, "neither"));
	EVP_PKEY_free(ec);
	p.key = NULL;
	assert_null(dkimsign_new(&p, err, sizeof(err)));
}

/* no From field: no signature; finish only once */
static void
test_no_from(void **state)
{
	struct dkimsign_params p = params(ed_key, true, true, 0);
	char err[256] = "";
	struct dkimsign *ds = dkimsign_new(&p, err, sizeof(err));

	(void)state;
	assert_non_null(ds);
	assert_true(dkimsign_header(ds, "To: b@example.org", 17));
	assert_true(dkimsign_header(ds, "no colon here", 13));
	assert_null(dkimsign_finish(ds, err, sizeof(err)));
	assert_true(tu_contains(err, "From"));
	assert_null(dkimsign_finish(ds, err, sizeof(err)));
	dkimsign_free(ds);
}

/* the bounds on kept fields; unsigned fields do not count */
static void
test_bounds(void **state)
{
	struct dkimsign_params p = params(ed_key, true, true, 0);
	char err[256] = "";
	struct dkimsign *ds = dkimsign_new(&p, err, sizeof(err));
	size_t big = DKIMSIGN_MAX_HEADER_BYTES + 1;
	char *huge;

	(void)state;
	assert_non_null(ds);
	for (size_t i = 0; i < DKIMSIGN_MAX_HEADERS + 10; i++)
		assert_true(dkimsign_header(ds, "X-Not-Signed: x", 15));
	assert_true(dkimsign_header(ds, "From: a@example.com", 19));
	for (size_t i = 1; i < DKIMSIGN_MAX_HEADERS; i++)
		assert_true(dkimsign_header(ds, "To: b@example.org", 17));
	assert_false(dkimsign_header(ds, "To: b@example.org", 17));
	assert_false(dkimsign_header(ds, "From: a@example.com", 19));
	assert_null(dkimsign_finish(ds, err, sizeof(err)));
	assert_true(tu_contains(err, "too many"));
	dkimsign_free(ds);

	ds = dkimsign_new(&p, err, sizeof(err));
	assert_non_null(ds);
	huge = xmalloc(big);
	memset(huge, 'x', big);
	memcpy(huge, "Subject: ", 9);
	assert_true(dkimsign_header(ds, "From: a@example.com", 19));
	assert_false(dkimsign_header(ds, huge, big));
	assert_null(dkimsign_finish(ds, err, sizeof(err)));
	assert_true(tu_contains(err, "too large"));
	dkimsign_free(ds);
	free(huge);
}

/* ---- libopendkim ------------------------------------------------------ */

/* RSA: the same bytes as libopendkim, for every canonicalization */
static void
test_same_as_libopendkim(void **state)
{
	static const struct tmsg msgs[] = {
		{ "plain", h_plain, (const unsigned char *)b_plain,
		    sizeof(b_plain) - 1 },
		{ "folded", h_folded, (const unsigned char *)b_spaces,
		    sizeof(b_spaces) - 1 },
		{ "spaces", h_spaces, (const unsigned char *)b_spaces,
		    sizeof(b_spaces) - 1 },
		{ "8bit", h_8bit, (const unsigned char *)b_8bit,
		    sizeof(b_8bit) - 1 },
		{ "empty", h_plain, (const unsigned char *)"", 0 },
		{ "many", h_many, (const unsigned char *)b_plain,
		    sizeof(b_plain) - 1 },
	};
	uint64_t ts = 1700000000;

	(void)state;
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++)
		for (int c = 0; c < 4; c++) {
			bool hr = c & 1, br = c & 2;
			struct dkimsign_params p = params(rsa_key, hr, br,
			    (long long)ts);
			char *ours = sign_with(&p, msgs[i].hdrs,
			    msgs[i].body, msgs[i].bodylen, 5);
			char *theirs = odkim_sign(rsa_key, hr, br, ts, NULL,
			    msgs[i].hdrs, msgs[i].body, msgs[i].bodylen);

			if (strcmp(ours + 1, theirs) != 0)
				fail_msg("%s c=%d:\nours:  %s\ntheirs: %s",
				    msgs[i].name, c, ours + 1, theirs);
			free(ours);
			free(theirs);
		}
}

/* libopendkim verifies our Ed25519 and RSA signatures */
static void
test_libopendkim_verifies(void **state)
{
	EVP_PKEY *keys[2] = { ed_key, rsa_key };

	(void)state;
	for (int k = 0; k < 2; k++)
		for (int c = 0; c < 4; c++) {
			bool hr = c & 1, br = c & 2;
			char *v = sign_msg(keys[k], hr, br, h_folded,
			    (const unsigned char *)b_spaces,
			    sizeof(b_spaces) - 1, 3);
			struct buf m = message(v, h_folded,
			    (const unsigned char *)b_spaces,
			    sizeof(b_spaces) - 1);

			if (odkim_verify(&m, keys[k]) != 0)
				fail_msg("libopendkim rejects key %d c=%d: %s",
				    k, c, v);
			/* and notices a change */
			m.data[m.len - 5] ^= 1;
			assert_int_not_equal(odkim_verify(&m, keys[k]), 0);
			buf_free(&m);
			free(v);
		}
}

/* ---- python3-dkim ----------------------------------------------------- */

/* e2e - sign the test messages with key, both canons, verify in python */
static void
e2e(EVP_PKEY *key, const char *label)
{
	static const char *const h_received[] = {
		"Received: from top", "From: alice@example.com",
		"Received: from bottom", "To: bob@example.org",
		"Subject: repeated", NULL };
	size_t biglen;
	unsigned char *big = big_body(&biglen);
	const struct tmsg msgs[] = {
		{ "plain", h_plain, (const unsigned char *)b_plain,
		    sizeof(b_plain) - 1 },
		{ "folded", h_folded, (const unsigned char *)b_plain,
		    sizeof(b_plain) - 1 },
		{ "spaces", h_spaces, (const unsigned char *)b_spaces,
		    sizeof(b_spaces) - 1 },
		{ "empty", h_plain, (const unsigned char *)"", 0 },
		{ "nocrlf", h_plain, (const unsigned char *)b_nocrlf,
		    sizeof(b_nocrlf) - 1 },
		{ "8bit", h_8bit, (const unsigned char *)b_8bit,
		    sizeof(b_8bit) - 1 },
		{ "big", h_folded, big, biglen },
		{ "received", h_received, (const unsigned char *)b_plain,
		    sizeof(b_plain) - 1 },
		{ "many", h_many, (const unsigned char *)b_plain,
		    sizeof(b_plain) - 1 },
	};
	static const char *const ids[] = { "@example.com",
	    "alice+x=y@mail.example.com", "\"a b\"@example.com" };
	char *dir;
	struct buf name;

	if (!have_python) {
		free(big);
		skip();
	}
	buf_init(&name);
	buf_printf(&name, "%s/%s", tmpdir, label);
	assert_int_equal(tu_run("mkdir -p %s", name.data), 0);
	dir = buf_steal(&name);
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++)
		for (int c = 0; c < 4; c++) {
			bool hr = c & 1, br = c & 2;
			char *v = sign_msg(key, hr, br, msgs[i].hdrs,
			    msgs[i].body, msgs[i].bodylen,
			    msgs[i].body == big ? 64 * 1024 : 7);

			buf_printf(&name, "%s-%s-%s", msgs[i].name,
			    hr ? "relaxed" : "simple",
			    br ? "relaxed" : "simple");
			stage(dir, name.data, key, v, msgs[i].hdrs,
			    msgs[i].body, msgs[i].bodylen);
			buf_reset(&name);
			free(v);
		}
	/* i=, with and without a local part, encoded where it must be */
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		struct dkimsign_params p = params(key, true, false,
		    (long long)time(NULL));
		char *v;

		p.identity = ids[i];
		v = sign_with(&p, h_plain, (const unsigned char *)b_plain,
		    sizeof(b_plain) - 1, 0);
		buf_printf(&name, "identity%zu", i);
		stage(dir, name.data, key, v, h_plain,
		    (const unsigned char *)b_plain, sizeof(b_plain) - 1);
		buf_reset(&name);
		free(v);
	}
	python_verify(dir);
	buf_free(&name);
	free(dir);
	free(big);
}

static void
test_python_ed25519(void **state)
{
	(void)state;
	e2e(ed_key, "ed25519");
}

static void
test_python_rsa(void **state)
{
	(void)state;
	e2e(rsa_key, "rsa");
}

/*
 * oversigning and bottom-up selection as a verifier sees them: changes
 * to signed fields fail, additions of oversigned fields fail, additions
 * of unsigned fields pass
 */
static void
test_python_tamper(void **state)
{
	static const char *const orig[] = {
		"Received: from top", "From: alice@example.com",
		"Received: from bottom", "To: bob@example.org",
		"Subject: tamper", NULL };
	static const struct {
		const char		*name;
		const char *const	 hdrs[8];
		const char		*body;
	} cases[] = {
		{ "orig", { "Received: from top", "From: alice@example.com",
		    "Received: from bottom", "To: bob@example.org",
		    "Subject: tamper", NULL }, "body\r\n" },
		{ "unsigned-added", { "X-New: 1", "Received: from top",
		    "From: alice@example.com", "Received: from bottom",
		    "To: bob@example.org", "Subject: tamper", NULL },
		    "body\r\n" },
		{ "received-added-top", { "Received: from new",
		    "Received: from top", "From: alice@example.com",
		    "Received: from bottom", "To: bob@example.org",
		    "Subject: tamper", NULL }, "body\r\n" },
		{ "bottom-received-changed.bad", { "Received: from top",
		    "From: alice@example.com", "Received: from BOTTOM",
		    "To: bob@example.org", "Subject: tamper", NULL },
		    "body\r\n" },
		{ "received-swapped.bad", { "Received: from bottom",
		    "From: alice@example.com", "Received: from top",
		    "To: bob@example.org", "Subject: tamper", NULL },
		    "body\r\n" },
		{ "from-added.bad", { "From: mallory@example.net",
		    "Received: from top", "From: alice@example.com",
		    "Received: from bottom", "To: bob@example.org",
		    "Subject: tamper", NULL }, "body\r\n" },
		{ "reply-to-added.bad", { "Reply-To: mallory@example.net",
		    "Received: from top", "From: alice@example.com",
		    "Received: from bottom", "To: bob@example.org",
		    "Subject: tamper", NULL }, "body\r\n" },
		{ "subject-added-bottom.bad", { "Received: from top",
		    "From: alice@example.com", "Received: from bottom",
		    "To: bob@example.org", "Subject: tamper",
		    "Subject: other", NULL }, "body\r\n" },
		{ "body-changed.bad", { "Received: from top",
		    "From: alice@example.com", "Received: from bottom",
		    "To: bob@example.org", "Subject: tamper", NULL },
		    "Body\r\n" },
		{ "body-appended.bad", { "Received: from top",
		    "From: alice@example.com", "Received: from bottom",
		    "To: bob@example.org", "Subject: tamper", NULL },
		    "body\r\nmore\r\n" },
	};
	EVP_PKEY *keys[2] = { ed_key, rsa_key };
	struct buf name;
	char *dir;

	(void)state;
	if (!have_python)
		skip();
	buf_init(&name);
	buf_printf(&name, "%s/tamper", tmpdir);
	assert_int_equal(tu_run("mkdir -p %s", name.data), 0);
	dir = buf_steal(&name);
	for (int k = 0; k < 2; k++) {
		char *v = sign_msg(keys[k], true, true, orig,
		    (const unsigned char *)"body\r\n", 6, 0);

		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			buf_reset(&name);
			buf_printf(&name, "%s-%s", k ? "rsa" : "ed25519",
			    cases[i].name);
			stage(dir, name.data, keys[k], v, cases[i].hdrs,
			    (const unsigned char *)cases[i].body,
			    strlen(cases[i].body));
		}
		free(v);
	}
	python_verify(dir);
	buf_free(&name);
	free(dir);
}

/* ---- set-up ----------------------------------------------------------- */

static const char verify_py[] =
    "import sys, dkim\n"
    "bad = 0\n"
    "for path in sys.argv[1:]:\n"
    "    msg = open(path, 'rb').read()\n"
    "    txt = open(path + '.txt', 'rb').read()\n"
    "    def dns(name, timeout=5):\n"
    "        want = b'" T_SELECTOR "._domainkey." T_DOMAIN "'\n"
    "        return txt if name.rstrip(b'.') == want else None\n"
    "    ok = dkim.verify(msg, dnsfunc=dns)\n"
    "    want = not path.endswith('.bad.eml')\n"
    "    if ok != want:\n"
    "        print('%s: dkim.verify says %s' % (path, ok))\n"
    "        bad += 1\n"
    "sys.exit(1 if bad else 0)\n";

static int
setup(void **state)
{
	char *path;

	(void)state;
	ed_key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	rsa_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)T_RSA_BITS);
	tmpdir = tu_mkdtemp("test_dkimsign");
	if (ed_key == NULL || rsa_key == NULL || tmpdir == NULL)
		return -1;
	if ((path = tu_write_file(tmpdir, "verify.py", verify_py, 0600)) ==
	    NULL)
		return -1;
	free(path);
	have_python = tu_run(T_PYTHON " -c 'import dkim, nacl' 2>/dev/null")
	    == 0;
	if (!have_python)
		fprintf(stderr, "test_dkimsign: no python3-dkim/nacl at "
		    T_PYTHON ", skipping its verification\n");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(ed_key);
	EVP_PKEY_free(rsa_key);
	tu_rmtree(tmpdir);
	free(tmpdir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_body_rfc_example),
		cmocka_unit_test(test_body_empty),
		cmocka_unit_test(test_body_edges),
		cmocka_unit_test(test_body_random),
		cmocka_unit_test(test_body_chunking),
		cmocka_unit_test(test_h_selection),
		cmocka_unit_test(test_h_bottom_up),
		cmocka_unit_test(test_h_relaxed),
		cmocka_unit_test(test_h_canon),
		cmocka_unit_test(test_h_canon_random),
		cmocka_unit_test(test_rsa_contexts),
		cmocka_unit_test(test_tags),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_no_from),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_same_as_libopendkim),
		cmocka_unit_test(test_libopendkim_verifies),
		cmocka_unit_test(test_python_ed25519),
		cmocka_unit_test(test_python_rsa),
		cmocka_unit_test(test_python_tamper),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
