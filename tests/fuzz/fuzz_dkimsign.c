/*
 * NAME
 *	fuzz_dkimsign - libFuzzer harness of dkimsign.c: header and body
 *	canonicalization of our streaming signer
 * SYNOPSIS
 *	fuzz_dkimsign [libFuzzer options] [CORPUS...]
 * DESCRIPTION
 *	The first byte of the input holds options: bit 0 relaxed header
 *	canonicalization, bit 1 relaxed body canonicalization. The rest is a
 *	message, split into header fields and body by message_read() as the
 *	command line does, and signed with an Ed25519 key made at start-up
 *	(in memory; never written).
 *
 *	The same message is signed twice: once with the body in one piece,
 *	once in small chunks whose sizes come from the input (1 to 8 bytes),
 *	so that a CR, a white space run or an empty line falls across chunk
 *	boundaries. Ed25519 signatures are deterministic and no t= is set,
 *	so the two header values must be the same bytes.
 *
 *	The body hash (bh=) is also checked against a reference written
 *	here the simple way, on the whole body in memory, from RFC 6376
 *	section 3.4.3 (simple) and 3.4.4 (relaxed) with the choices
 *	dkimsign.c documents: lines end with CRLF only (a bare CR is
 *	content), trailing empty lines go, a last line without CRLF gets
 *	one (its final white space run stays as one SP in relaxed), an
 *	empty body is CRLF (simple) or nothing (relaxed).
 * DIAGNOSTICS
 *	A broken invariant aborts (FUZZ_CHECK); libFuzzer reports it.
 */
#include "buildconf.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "dkimsign.h"
#include "fuzz.h"
#include "hdrlist.h"
#include "message.h"
#include "util.h"

#define FUZZ_SIGN_CHUNK_MAX	8	/* largest chunk of the second run */
#define FUZZ_SIGN_SHA256	32
#define FUZZ_SIGN_B64		((FUZZ_SIGN_SHA256 + 2) / 3 * 4 + 1)

/* The message as message_read() split it. */
struct fuzz_sign_msg {
	struct buf	 fields;	/* "Name:value" fields, NUL-separated */
	size_t		 nfields;
	struct buf	 body;
};

static EVP_PKEY *fuzz_sign_key;

/* fuzz_sign_header - keep one field as the session gives it to signers */
static void
fuzz_sign_header(void *arg, const char *name, const char *value)
{
	struct fuzz_sign_msg *m = arg;

	buf_puts(&m->fields, name);
	buf_putc(&m->fields, ':');
	buf_put_crlf(&m->fields, value, strlen(value));
	buf_append(&m->fields, "", 1);
	m->nfields++;
}

/* fuzz_sign_body - keep the body */
static void
fuzz_sign_body(void *arg, const unsigned char *data, size_t len)
{
	struct fuzz_sign_msg *m = arg;

	buf_append(&m->body, data, len);
}

/*
 * fuzz_sign_run - sign the message; chunk NULL feeds the body at once,
 * else in pieces of 1..FUZZ_SIGN_CHUNK_MAX bytes taken from chunk[]
 */
static char *
fuzz_sign_run(const struct fuzz_sign_msg *m, bool hrel, bool brel,
    const uint8_t *chunk, size_t nchunk)
{
	struct dkimsign_params p = {
		.domain = "example.com", .selector = "fuzz",
		.key = fuzz_sign_key, .hdr_relaxed = hrel,
		.body_relaxed = brel, .sign_headers = hdrlist_default_sign,
		.oversign_headers = hdrlist_default_oversign,
		.timestamp = -1,
	};
	char err[256], *out;
	struct dkimsign *ds;
	const char *f = m->fields.data;
	size_t off = 0, k = 0, n;

	ds = dkimsign_new(&p, err, sizeof(err));
	FUZZ_CHECK(ds != NULL);
	for (size_t i = 0; i < m->nfields; i++) {
		(void)dkimsign_header(ds, f, strlen(f));
		f += strlen(f) + 1;
	}
	while (off < m->body.len) {
		n = m->body.len - off;
		if (chunk != NULL && nchunk > 0) {
			size_t c = chunk[k++ % nchunk] % FUZZ_SIGN_CHUNK_MAX + 1;

			n = c < n ? c : n;
		}
		dkimsign_body(ds, (const unsigned char *)m->body.data + off, n);
		off += n;
	}
	out = dkimsign_finish(ds, err, sizeof(err));
	dkimsign_free(ds);
	return out;
}

/* fuzz_sign_line - one body line into the reference canonical form */
static void
fuzz_sign_line(struct buf *out, const char *s, size_t len, bool relaxed,
    bool terminated)
{
	bool wsp = false;

	if (!relaxed) {
		buf_append(out, s, len);
		return;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] == ' ' || s[i] == '\t') {
			wsp = true;
			continue;
		}
		if (wsp)
			buf_putc(out, ' ');
		wsp = false;
		buf_putc(out, s[i]);
	}
	if (wsp && !terminated)
		buf_putc(out, ' ');
}

/* fuzz_sign_bh - the reference body hash, base64 */
static void
fuzz_sign_bh(const struct buf *body, bool relaxed, char b64[FUZZ_SIGN_B64])
{
	unsigned char md[FUZZ_SIGN_SHA256];
	const char *s = body->data != NULL ? body->data : "";
	size_t len = body->len, pos = 0, keep = 0, nlines = 0;
	struct buf out;
	size_t *ends;

	/* lines in canonical form, each followed by CRLF */
	buf_init(&out);
	ends = calloc(len + 2, sizeof(*ends));
	FUZZ_CHECK(ends != NULL);
	while (pos < len) {
		const char *crlf = NULL;
		size_t e;

		for (e = pos; e + 1 < len; e++)
			if (s[e] == '\r' && s[e + 1] == '\n') {
				crlf = s + e;
				break;
			}
		e = crlf != NULL ? (size_t)(crlf - s) : len;
		fuzz_sign_line(&out, s + pos, e - pos, relaxed, crlf != NULL);
		buf_append(&out, "\r\n", 2);
		ends[nlines++] = out.len;
		pos = crlf != NULL ? e + 2 : len;
	}
	/* trailing empty lines go */
	for (size_t i = 0; i < nlines; i++) {
		size_t begin = i == 0 ? 0 : ends[i - 1];

		if (ends[i] - begin > 2)
			keep = ends[i];
	}
	out.len = keep;
	if (out.len == 0 && !relaxed)
		buf_append(&out, "\r\n", 2);
	FUZZ_CHECK(EVP_Digest(out.data != NULL ? out.data : "", out.len, md,
	    NULL, EVP_sha256(), NULL) == 1);
	FUZZ_CHECK(EVP_EncodeBlock((unsigned char *)b64, md, sizeof(md)) ==
	    FUZZ_SIGN_B64 - 1);
	buf_free(&out);
	free(ends);
}

/* fuzz_sign_tag_bh - the bh= value of a folded signature, unfolded */
static void
fuzz_sign_tag_bh(const char *sig, char *out, size_t outlen)
{
	const char *p = strstr(sig, "bh=");
	size_t n = 0;

	FUZZ_CHECK(p != NULL);
	for (p += 3; *p != '\0' && *p != ';'; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') {
			FUZZ_CHECK(n + 1 < outlen);
			out[n++] = *p;
		}
	out[n] = '\0';
}

/* LLVMFuzzerInitialize - the Ed25519 key, once */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_sign_key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	FUZZ_CHECK(fuzz_sign_key != NULL);
	return 0;
}

/* LLVMFuzzerTestOneInput - sign one message twice, check bh= */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_sign_msg m;
	struct message_sink sink = {
		fuzz_sign_header, NULL, fuzz_sign_body, &m
	};
	char err[256], want[FUZZ_SIGN_B64], got[FUZZ_SIGN_B64 + 8];
	char *one, *chunked;
	bool crlf, hrel, brel;
	FILE *fp;

	if (size < 2)
		return 0;
	hrel = (data[0] & 1) != 0;
	brel = (data[0] & 2) != 0;
	memset(&m, 0, sizeof(m));
	buf_init(&m.fields);
	buf_init(&m.body);
	fp = fmemopen((void *)(data + 1), size - 1, "r");
	FUZZ_CHECK(fp != NULL);
	if (!message_read(fp, &sink, &crlf, err, sizeof(err))) {
		fclose(fp);
		goto out;
	}
	fclose(fp);

	one = fuzz_sign_run(&m, hrel, brel, NULL, 0);
	chunked = fuzz_sign_run(&m, hrel, brel, data + 1, size - 1);
	FUZZ_CHECK((one == NULL) == (chunked == NULL));
	if (one != NULL) {
		FUZZ_CHECK(strcmp(one, chunked) == 0);
		fuzz_sign_bh(&m.body, brel, want);
		fuzz_sign_tag_bh(one, got, sizeof(got));
		FUZZ_CHECK(strcmp(want, got) == 0);
	}
	free(one);
	free(chunked);
out:
	buf_free(&m.fields);
	buf_free(&m.body);
	return 0;
}
