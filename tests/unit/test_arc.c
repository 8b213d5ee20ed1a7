/*
 * test_arc.c - unit tests for arc.c (RFC 8617) and the tolerant
 * Authentication-Results parser of authres.c it reads AARs with.
 *
 * The parser: Microsoft's "authserv-id version", no authserv-id, unknown
 * methods and ptypes (arc.chain), quoted values and comments with ';'
 * inside, Gmail's dara=, "none", hostile input.
 *
 * Chains: made by our sealer and by python3-dkim (dkim.arc_sign, through
 * arc_dkimpy.py), and crafted with dkimsign.c directly where a chain must
 * break one rule only (a cv= out of order, a missing or duplicate
 * instance, a 51st set, an expired AMS, an h= in a seal). Every cv rule,
 * the 50-set limit, tampered AMS, body and seal, rsa-sha1, short keys, a
 * missing key, a key lookup timeout. Sealing: i=1, i=2 over a chain
 * python3-dkim made, after a failed chain (cv=fail, own set only), none
 * after cv=fail nor beyond 50; our seals are verified by python3-dkim.
 *
 * Keys are made at start with openssl (PKCS#1 PEM, which python3-dkim
 * reads); the DNS is a table of their records (struct arc_dns), the one
 * given to python3-dkim as its dnsfunc. Bodies go in odd chunk sizes.
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
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "arc.h"
#include "authres.h"
#include "dkimsign.h"
#include "dns.h"
#include "testutil.h"
#include "util.h"

#define T_PYTHON	"/usr/bin/python3"
#define T_SRV		"mx.arc.test"
#define T_MAX_FIELDS	512	/* header fields of a test message */
#define T_CHUNK		7	/* body chunk size fed to arc_body */
#define T_ERRLEN	256

struct tkey {
	const char	*file;
	const char	*domain;
	const char	*selector;
	unsigned	 bits;
	EVP_PKEY	*pkey;
	char		*path;
	char		*txt;		/* the DNS record */
	char		 name[DNS_MAX_NAME + 1];
};

static struct tkey keys[] = {
	{ "s1.pem", "sealer1.test", "s1", 2048, NULL, NULL, NULL, "" },
	{ "s2.pem", "sealer2.test", "s2", 2048, NULL, NULL, NULL, "" },
	{ "s3.pem", "sealer3.test", "s3", 1024, NULL, NULL, NULL, "" },
};
#define K1	(&keys[0])
#define K2	(&keys[1])
#define K1024	(&keys[2])
#define NKEYS	(sizeof(keys) / sizeof(keys[0]))

static char *tmpdir, *keysjson, *pyscript;
static bool have_python;
static unsigned prefetched;

static const char *const sign_list[] = { "From", "To", "Subject", "Date",
    "Message-ID", "MIME-Version", "Content-Type", "List-Id",
    "Authentication-Results", "ARC-Seal", NULL };

static const char base_msg[] =
    "Authentication-Results: " T_SRV "; spf=pass smtp.mailfrom=alice@origin.test;\r\n"
    "\tdkim=none; dmarc=pass header.from=origin.test\r\n"
    "Received: from a.origin.test by mx.arc.test; Tue, 1 Jan 2030 00:00:00 +0000\r\n"
    "From: Alice <alice@origin.test>\r\n"
    "To: list@lists.test\r\n"
    "Subject: ARC test\r\n"
    "Date: Tue, 01 Jan 2030 00:00:00 +0000\r\n"
    "Message-ID: <arc-1@origin.test>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "Hello  world \r\n  with spaces\t\r\nand a longer line to cross the chunks\r\n\r\n\r\n";

/* ---- DNS ---------------------------------------------------------------- */

static struct dns_answer *
t_lookup(void *arg, const char *name, unsigned type)
{
	(void)arg;
	for (size_t i = 0; i < NKEYS; i++)
		if (strcasecmp(name, keys[i].name) == 0) {
			const char *t[1] = { keys[i].txt };

			return dns_answer_make(DNS_OK, type, t, 1);
		}
	if (strncmp(name, "slow.", 5) == 0)
		return dns_answer_make(DNS_TIMEOUT, type, NULL, 0);
	return dns_answer_make(DNS_NXDOMAIN, type, NULL, 0);
}

static void
t_prefetch(void *arg, const char *name, unsigned type)
{
	(void)arg;
	(void)name;
	(void)type;
	prefetched++;
}

static const struct arc_dns t_dns = { t_lookup, t_prefetch, NULL };

/* ---- keys --------------------------------------------------------------- */

/* key_txt - "v=DKIM1; k=rsa; p=..." of a key */
static char *
key_txt(EVP_PKEY *pkey)
{
	unsigned char *der = NULL;
	int n = i2d_PUBKEY(pkey, &der);
	char *b64, *txt;

	assert_true(n > 0);
	b64 = xmalloc((size_t)((n + 2) / 3 * 4 + 1));
	EVP_EncodeBlock((unsigned char *)b64, der, n);
	txt = xmalloc(strlen(b64) + 32);
	sprintf(txt, "v=DKIM1; k=rsa; p=%s", b64);
	OPENSSL_free(der);
	free(b64);
	return txt;
}

static int
setup(void **state)
{
	FILE *fp;

	(void)state;
	tmpdir = tu_mkdtemp("authmilter-test-arc");
	if (tmpdir == NULL)
		return -1;
	fp = fopen((keysjson = tu_path(tmpdir, "keys.json")), "w");
	if (fp == NULL)
		return -1;
	fputc('{', fp);
	for (size_t i = 0; i < NKEYS; i++) {
		struct tkey *k = &keys[i];
		FILE *kf;

		k->path = tu_path(tmpdir, k->file);
		if (tu_run("openssl genrsa -traditional -out '%s' %u "
		    "2>/dev/null", k->path, k->bits) != 0 &&
		    tu_run("openssl genrsa -out '%s' %u 2>/dev/null", k->path,
		    k->bits) != 0)
			return -1;
		kf = fopen(k->path, "r");
		if (kf == NULL)
			return -1;
		k->pkey = PEM_read_PrivateKey(kf, NULL, NULL, NULL);
		fclose(kf);
		if (k->pkey == NULL)
			return -1;
		k->txt = key_txt(k->pkey);
		snprintf(k->name, sizeof(k->name), "%s._domainkey.%s",
		    k->selector, k->domain);
		fprintf(fp, "%s\"%s\": \"%s\"", i ? ", " : "", k->name,
		    k->txt);
	}
	fputs("}\n", fp);
	fclose(fp);
	pyscript = tu_path(tmpdir, "arc_dkimpy.py");
	have_python = tu_run("cp '%s/tests/unit/arc_dkimpy.py' '%s' && "
	    "%s -c 'import dkim, authres' 2>/dev/null", TOP_SRCDIR, pyscript,
	    T_PYTHON) == 0;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < NKEYS; i++) {
		EVP_PKEY_free(keys[i].pkey);
		free(keys[i].path);
		free(keys[i].txt);
	}
	tu_rmtree(tmpdir);
	free(tmpdir);
	free(keysjson);
	free(pyscript);
	return 0;
}

/* ---- messages ----------------------------------------------------------- */

struct tfield {
	char	*name;
	char	*value;		/* after the colon, CRLF folding kept */
};

struct tmsg {
	struct tfield	 f[T_MAX_FIELDS];
	size_t		 n;
	const char	*body;
	size_t		 bodylen;
};

/* msg_parse - header fields and body of a CRLF message */
static void
msg_parse(const char *text, struct tmsg *m)
{
	const char *p = text;

	memset(m, 0, sizeof(*m));
	while (*p != '\0' && !(p[0] == '\r' && p[1] == '\n')) {
		const char *colon = strchr(p, ':'), *end = p;

		assert_non_null(colon);
		/* the field ends at a CRLF not followed by white space */
		for (;;) {
			end = strstr(end, "\r\n");
			assert_non_null(end);
			if (end[2] != ' ' && end[2] != '\t')
				break;
			end += 2;
		}
		assert_true(m->n < T_MAX_FIELDS);
		m->f[m->n].name = xstrndup(p, (size_t)(colon - p));
		m->f[m->n].value = xstrndup(colon + 1,
		    (size_t)(end - colon - 1));
		m->n++;
		p = end + 2;
	}
	if (*p != '\0')
		p += 2;
	m->body = p;
	m->bodylen = strlen(p);
}

static void
msg_free(struct tmsg *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->f[i].name);
		free(m->f[i].value);
	}
}

/* t_feed - a message into a handle: headers, eoh, body in odd chunks */
static void
t_feed_headers(struct arc *a, const struct tmsg *m)
{
	for (size_t i = 0; i < m->n; i++)
		arc_header(a, m->f[i].name, m->f[i].value);
}

static void
t_feed_body(struct arc *a, const struct tmsg *m)
{
	if (!arc_eoh(a))
		return;
	for (size_t off = 0; off < m->bodylen; off += T_CHUNK)
		arc_body(a, (const unsigned char *)m->body + off,
		    m->bodylen - off < T_CHUNK ? m->bodylen - off : T_CHUNK);
}

/* t_verify - our verdict on a message's chain */
static void
t_verify_bits(const char *text, unsigned minbits, struct arc_outcome *out)
{
	struct arc_params p = { &t_dns, minbits, (long long)time(NULL) };
	struct arc *a = arc_new(&p);
	struct tmsg m;

	msg_parse(text, &m);
	t_feed_headers(a, &m);
	t_feed_body(a, &m);
	arc_verify(a, out);
	if (getenv("T_ARC_DEBUG") != NULL)
		fprintf(stderr, "# arc=%s (%s)\n", arc_result_name(out->result),
		    out->reason);
	arc_free(a);
	msg_free(&m);
}

static void
t_verify(const char *text, struct arc_outcome *out)
{
	t_verify_bits(text, 1024, out);
}

/* t_prepend - "Name: value\r\n" x3 (set top down) before text (malloc'd) */
static char *
t_prepend(const char *seal, const char *ams, const char *aar,
    const char *text)
{
	struct buf b;

	buf_init(&b);
	buf_printf(&b, "ARC-Seal: %s\r\nARC-Message-Signature: %s\r\n"
	    "ARC-Authentication-Results: %s\r\n%s", seal, ams, aar, text);
	return buf_steal(&b);
}

/*
 * t_seal - seal text with k as authmilter does: verify, then a set with
 * the cv= the chain gives; NULL (reason in err) when none may be added
 */
static char *
t_seal(const char *text, const struct tkey *k, enum arc_cv *cvp, char *err)
{
	struct arc_params p = { &t_dns, 1024, (long long)time(NULL) };
	struct arc_seal_params sp = { k->pkey, k->domain, k->selector,
	    sign_list, NULL, (long long)time(NULL) };
	struct arc *a = arc_new(&p);
	struct arc_outcome o;
	struct arc_sealed set;
	struct authres *ar;
	struct tmsg m;
	char *aar, *out = NULL;
	enum arc_cv cv;

	msg_parse(text, &m);
	t_feed_headers(a, &m);
	if (!arc_seal_start(a, &sp, err, T_ERRLEN))
		goto done;
	t_feed_body(a, &m);
	arc_verify(a, &o);
	cv = arc_seal_cv(&o);
	ar = authres_new(T_SRV);
	authres_add(ar, "spf", "pass", "a comment; with a semicolon",
	    "smtp.mailfrom", "alice@origin.test", (char *)NULL);
	authres_add(ar, "arc", arc_result_name(o.result), NULL, (char *)NULL);
	authres_add(ar, "dmarc", "pass", NULL, "header.from", "origin.test",
	    (char *)NULL);
	aar = authres_format_arc(ar, arc_seal_instance(a), false);
	authres_free(ar);
	if (arc_seal(a, cv, aar, &set, err, T_ERRLEN)) {
		out = t_prepend(set.seal, set.ams, set.aar, text);
		if (cvp != NULL)
			*cvp = cv;
		arc_sealed_free(&set);
	}
	free(aar);
done:
	arc_free(a);
	msg_free(&m);
	return out;
}

/* t_instance - the leading "i=N" of an ARC field value, 0 if none */
static unsigned
t_instance(const char *v)
{
	unsigned i = 0;

	while (*v == ' ' || *v == '\t')
		v++;
	return sscanf(v, "i=%u", &i) == 1 ? i : 0;
}

/*
 * t_raw_set - a set crafted with dkimsign.c whatever the rules say: AMS
 * of instance i over the message, AS with cv over the ARC fields of
 * instances 1..i-1 found in text (when cover) and the new ones
 */
static char *
t_raw_set(const char *text, const struct tkey *k, unsigned i, const char *cv,
    bool cover, long long expire)
{
	static const char *const names[] = { "ARC-Authentication-Results",
	    "ARC-Message-Signature", "ARC-Seal" };
	struct dkimsign_params dp;
	struct dkimsign *ds;
	struct dkimsign_bh *bh;
	unsigned char digest[DKIMSIGN_SHA256_LEN];
	char err[T_ERRLEN], *ams, *as, aar[128];
	struct buf f, amsf, aarf;
	struct tmsg m;
	char *out;

	msg_parse(text, &m);
	snprintf(aar, sizeof(aar), "i=%u; " T_SRV "; arc=none", i);
	memset(&dp, 0, sizeof(dp));
	dp.kind = DKIMSIGN_ARC_MS;
	dp.instance = i;
	dp.domain = k->domain;
	dp.selector = k->selector;
	dp.key = k->pkey;
	dp.hdr_relaxed = dp.body_relaxed = true;
	dp.sign_headers = sign_list;
	dp.timestamp = (long long)time(NULL);
	dp.expiration = expire;
	ds = dkimsign_new(&dp, err, sizeof(err));
	if (ds == NULL)
		fail_msg("dkimsign_new: %s", err);
	buf_init(&f);
	for (size_t j = 0; j < m.n; j++) {
		buf_reset(&f);
		buf_printf(&f, "%s:%s", m.f[j].name, m.f[j].value);
		if (strcasecmp(m.f[j].name, "ARC-Seal") != 0)
			assert_true(dkimsign_header(ds, f.data, f.len));
	}
	bh = dkimsign_bh_new(true);
	dkimsign_bh_update(bh, (const unsigned char *)m.body, m.bodylen);
	assert_true(dkimsign_bh_final(bh, digest));
	dkimsign_bh_free(bh);
	ams = dkimsign_finish_bh(ds, digest, err, sizeof(err));
	dkimsign_free(ds);
	assert_non_null(ams);

	dp.kind = DKIMSIGN_ARC_SEAL;
	dp.cv = cv;
	dp.expiration = 0;
	ds = dkimsign_new(&dp, err, sizeof(err));
	if (ds == NULL)
		fail_msg("dkimsign_new (seal): %s", err);
	for (unsigned j = 1; cover && j < i; j++)
		for (size_t t = 0; t < 3; t++)
			for (size_t x = 0; x < m.n; x++) {
				if (strcasecmp(m.f[x].name, names[t]) != 0 ||
				    t_instance(m.f[x].value) != j)
					continue;
				buf_reset(&f);
				buf_printf(&f, "%s:%s", m.f[x].name,
				    m.f[x].value);
				assert_true(dkimsign_header(ds, f.data,
				    f.len));
				break;
			}
	buf_init(&aarf);
	buf_init(&amsf);
	buf_printf(&aarf, "ARC-Authentication-Results: %s", aar);
	buf_printf(&amsf, "ARC-Message-Signature:%s", ams);
	assert_true(dkimsign_header(ds, aarf.data, aarf.len));
	assert_true(dkimsign_header(ds, amsf.data, amsf.len));
	as = dkimsign_finish(ds, err, sizeof(err));
	dkimsign_free(ds);
	if (as == NULL)
		fail_msg("seal: %s", err);
	out = t_prepend(as + 1, ams + 1, aar, text);
	free(as);
	free(ams);
	buf_free(&f);
	buf_free(&aarf);
	buf_free(&amsf);
	msg_free(&m);
	return out;
}

/* t_replace - text with the first from replaced by to (malloc'd) */
static char *
t_replace(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	struct buf b;

	assert_non_null(at);
	buf_init(&b);
	buf_append(&b, text, (size_t)(at - text));
	buf_puts(&b, to);
	buf_puts(&b, at + strlen(from));
	return buf_steal(&b);
}

/* ---- python3-dkim ------------------------------------------------------- */

/* t_write - text into tmpdir/name; the path (caller frees) */
static char *
t_write(const char *name, const char *text)
{
	char *path = tu_write_file(tmpdir, name, text, 0600);

	assert_non_null(path);
	return path;
}

/* t_read - a whole file (caller frees), NULL if it cannot be read */
static char *
t_read(const char *path)
{
	FILE *fp = fopen(path, "rb");
	struct buf b;
	char chunk[4096];
	size_t n;

	if (fp == NULL)
		return NULL;
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_append(&b, chunk, n);
	fclose(fp);
	return buf_steal(&b);
}

/* py_sign - text with a set made by dkim.arc_sign on top (malloc'd) */
static char *
py_sign(const char *text, const struct tkey *k, const char *srv)
{
	char *in = t_write("py-in.eml", text);
	char *out = tu_path(tmpdir, "py-out.eml"), *res;

	assert_int_equal(tu_run("%s '%s' sign '%s' '%s' '%s' '%s' '%s' '%s' "
	    ">'%s'", T_PYTHON, pyscript, keysjson, in, k->path, k->domain,
	    k->selector, srv, out), 0);
	res = t_read(out);
	assert_non_null(res);
	free(in);
	free(out);
	return res;
}

/* py_run - arc_dkimpy.py MODE on text: its output (malloc'd) */
static char *
py_run(const char *mode, const char *text)
{
	char *in = t_write("py-v.eml", text);
	char *out = tu_path(tmpdir, "py-v.out"), *res;

	assert_int_equal(tu_run("%s '%s' %s '%s' '%s' >'%s' 2>/dev/null",
	    T_PYTHON, pyscript, mode, keysjson, in, out), 0);
	res = t_read(out);
	assert_non_null(res);
	if (getenv("T_ARC_DEBUG") != NULL)
		fprintf(stderr, "# dkimpy: %s", res);
	free(in);
	free(out);
	return res;
}

/* py_verify - dkim.arc_verify's first line and per-set lines (malloc'd) */
static char *
py_verify(const char *text)
{
	return py_run("verify", text);
}

#define NEED_PYTHON() do {						\
	if (!have_python)						\
		skip();							\
} while (0)

/* ---- the A-R parser ----------------------------------------------------- */

static void
test_parse_microsoft(void **state)
{
	struct authres_parsed p;

	(void)state;
	assert_true(authres_parse(" mx.microsoft.com 1; spf=pass (sender IP "
	    "is 192.0.2.1)\r\n smtp.mailfrom=example.com; dkim=pass "
	    "(signature was verified)\n header.d=example.com;dmarc=pass "
	    "action=none\r\n header.from=example.com;compauth=pass reason=100",
	    &p));
	assert_string_equal(p.servid, "mx.microsoft.com");
	assert_string_equal(p.version, "1");
	assert_int_equal(p.nres, 4);
	assert_string_equal(p.res[0].method, "spf");
	assert_string_equal(authres_parsed_prop(&p.res[0], "smtp.mailfrom"),
	    "example.com");
	assert_string_equal(p.res[2].method, "dmarc");
	assert_string_equal(p.res[2].result, "pass");
	assert_string_equal(authres_parsed_prop(&p.res[2], "action"), "none");
	assert_string_equal(authres_parsed_prop(&p.res[2], "HEADER.FROM"),
	    "example.com");
	assert_string_equal(p.res[3].method, "compauth");
	assert_string_equal(authres_parsed_prop(&p.res[3], "reason"), "100");
	authres_parsed_free(&p);
}

static void
test_parse_no_servid(void **state)
{
	struct authres_parsed p;

	(void)state;
	assert_true(authres_parse("spf=pass smtp.mailfrom=a@b.example; "
	    "dmarc=fail header.from=b.example", &p));
	assert_string_equal(p.servid, "");
	assert_int_equal(p.nres, 2);
	assert_string_equal(p.res[0].method, "spf");
	assert_string_equal(p.res[1].result, "fail");
	authres_parsed_free(&p);
	/* a method with a version is no authserv-id either */
	assert_true(authres_parse(" dkim/1 = pass header.d=a.example", &p));
	assert_string_equal(p.servid, "");
	assert_int_equal(p.nres, 1);
	assert_string_equal(p.res[0].method, "dkim");
	assert_string_equal(authres_parsed_prop(&p.res[0], "header.d"),
	    "a.example");
	authres_parsed_free(&p);
}

static void
test_parse_unknown(void **state)
{
	struct authres_parsed p;

	(void)state;
	assert_true(authres_parse("x.example; arc=pass (i=2 spf=pass) "
	    "arc.chain=lists.example:google.com smtp.remote-ip=192.0.2.1; "
	    "Foo=Bar baz.qux=1 stray; x-unknown=odd", &p));
	assert_int_equal(p.nres, 3);
	assert_string_equal(authres_parsed_prop(&p.res[0], "arc.chain"),
	    "lists.example:google.com");
	assert_string_equal(authres_parsed_prop(&p.res[0], "smtp.remote-ip"),
	    "192.0.2.1");
	assert_string_equal(p.res[1].method, "foo");
	assert_string_equal(p.res[1].result, "bar");
	assert_string_equal(authres_parsed_prop(&p.res[1], "baz.qux"), "1");
	assert_string_equal(p.res[2].method, "x-unknown");
	authres_parsed_free(&p);
}

static void
test_parse_quotes_comments(void **state)
{
	struct authres_parsed p;

	(void)state;
	assert_true(authres_parse("\"quoted id\"; dkim=pass header.i="
	    "\"@a;b.example\" header.s=s1; spf=pass (a; b (nested; c) "
	    "\\) d;) smtp.mailfrom=a@b.example; dmarc=pass (p=REJECT; "
	    "sp=REJECT) header.from=b.example", &p));
	assert_string_equal(p.servid, "quoted id");
	assert_int_equal(p.nres, 3);
	assert_string_equal(authres_parsed_prop(&p.res[0], "header.i"),
	    "@a;b.example");
	assert_string_equal(authres_parsed_prop(&p.res[0], "header.s"), "s1");
	assert_string_equal(authres_parsed_prop(&p.res[1], "smtp.mailfrom"),
	    "a@b.example");
	assert_string_equal(authres_parsed_prop(&p.res[2], "header.from"),
	    "b.example");
	authres_parsed_free(&p);
}

static void
test_parse_gmail(void **state)
{
	struct authres_parsed p;

	(void)state;
	assert_true(authres_parse(" mx.google.com;\r\n       dkim=pass "
	    "header.i=@a.example header.s=s header.b=AbC+/1=;\r\n       "
	    "spf=pass (google.com: domain of a@a.example designates "
	    "192.0.2.1 as permitted sender) smtp.mailfrom=a@a.example;\r\n"
	    "       dmarc=pass (p=REJECT sp=REJECT dis=NONE) "
	    "header.from=a.example;\r\n       dara=pass header.i=@a.example",
	    &p));
	assert_string_equal(p.servid, "mx.google.com");
	assert_int_equal(p.nres, 4);
	assert_string_equal(authres_parsed_prop(&p.res[0], "header.b"),
	    "AbC+/1=");
	assert_string_equal(p.res[3].method, "dara");
	assert_string_equal(p.res[3].result, "pass");
	authres_parsed_free(&p);
}

static void
test_parse_none_and_hostile(void **state)
{
	static const char *const bad[] = { "", ";", ";;;;", "=", "a=",
	    "(unclosed; comment", "\"unclosed; quote", "x; a=b c=\"d",
	    "x; (", "x; a = (c) b (d) e = (f) \"g\" ;", "x y z w; a=b",
	    "x; ==; =a; a=; a==b", NULL };
	struct authres_parsed p;
	struct buf big;

	(void)state;
	assert_true(authres_parse("mx.example; none", &p));
	assert_string_equal(p.servid, "mx.example");
	assert_int_equal(p.nres, 0);
	authres_parsed_free(&p);
	for (size_t i = 0; bad[i] != NULL; i++) {
		(void)authres_parse(bad[i], &p);
		assert_true(p.nres <= AUTHRES_MAX_PARSED);
		authres_parsed_free(&p);
	}
	/* many clauses and properties: bounded */
	buf_init(&big);
	buf_puts(&big, "x");
	for (int i = 0; i < 200; i++)
		buf_printf(&big, "; m%d=pass a.b=1 c.d=2 e.f=3 g.h=4 i.j=5 "
		    "k.l=6 m.n=7 o.p=8 q.r=9 s.t=10 u.v=11 w.x=12 y.z=13 "
		    "a.c=14 a.d=15 a.e=16 a.f=17", i);
	assert_true(authres_parse(big.data, &p));
	assert_int_equal(p.nres, AUTHRES_MAX_PARSED);
	assert_int_equal(p.res[0].nprop, AUTHRES_MAX_PPROPS);
	authres_parsed_free(&p);
	buf_free(&big);
}

static void
test_format_arc(void **state)
{
	struct authres *ar = authres_new(T_SRV);
	char *v;

	(void)state;
	authres_add(ar, "spf", "pass", "a comment; with ;", "smtp.mailfrom",
	    "a@b.example", (char *)NULL);
	authres_add(ar, "dmarc", "pass", NULL, "header.from", "b.example",
	    (char *)NULL);
	v = authres_format_arc(ar, 3, false);
	assert_true(strncmp(v, "i=3; " T_SRV ";", strlen("i=3; " T_SRV ";"))
	    == 0);
	assert_false(tu_contains(v, "("));
	assert_true(tu_contains(v, "dmarc=pass header.from=b.example"));
	free(v);
	v = authres_format_arc(ar, 1, true);
	assert_true(tu_contains(v, "(a comment; with ;)"));
	free(v);
	authres_free(ar);
}

/* ---- chains ------------------------------------------------------------- */

static void
test_none(void **state)
{
	struct arc_outcome o;

	(void)state;
	t_verify(base_msg, &o);
	assert_int_equal(o.result, ARC_RESULT_NONE);
	assert_int_equal(o.sets, 0);
	assert_int_equal(o.nsealers, 0);
}

static void
test_seal_i1_verifies(void **state)
{
	char err[T_ERRLEN] = "";
	struct arc_outcome o;
	enum arc_cv cv = ARC_CV_FAIL;
	char *m1;
	unsigned before = prefetched;

	(void)state;
	m1 = t_seal(base_msg, K1, &cv, err);
	assert_non_null(m1);
	assert_int_equal(cv, ARC_CV_NONE);
	assert_true(tu_contains(m1, "ARC-Seal: i=1; a=rsa-sha256; t="));
	assert_true(tu_contains(m1, "cv=none; d=sealer1.test; s=s1;"));
	assert_true(tu_contains(m1, "ARC-Message-Signature: i=1; "
	    "a=rsa-sha256; c=relaxed/relaxed;"));
	assert_true(tu_contains(m1, "d=sealer1.test;"));
	/* the AAR has no comment; the AMS signs no A-R nor ARC field */
	assert_true(tu_contains(m1, "ARC-Authentication-Results: i=1; "
	    T_SRV ";"));
	assert_false(tu_contains(strstr(m1, "ARC-Authentication-Results"),
	    "comment"));
	t_verify(m1, &o);
	assert_int_equal(o.result, ARC_RESULT_PASS);
	assert_int_equal(o.sets, 1);
	assert_int_equal(o.oldest_pass, 1);
	assert_int_equal(o.nsealers, 1);
	assert_string_equal(o.sealers[0], "sealer1.test");
	assert_int_equal(o.naar_dmarc_pass, 1);
	assert_string_equal(o.aar_dmarc_pass[0], "origin.test");
	assert_true(prefetched >= before + 2);	/* AMS and AS keys asked */
	if (have_python) {
		char *py = py_verify(m1);

		assert_true(strncmp(py, "pass ", 5) == 0);
		assert_true(tu_contains(py, "1 True True none"));
		free(py);
	}
	free(m1);
}

static void
test_seal_i2_over_dkimpy(void **state)
{
	char err[T_ERRLEN] = "";
	struct arc_outcome o;
	enum arc_cv cv = ARC_CV_NONE;
	char *m1, *m1b, *m2, *py;

	(void)state;
	NEED_PYTHON();
	m1 = py_sign(base_msg, K2, T_SRV);
	assert_true(tu_contains(m1, "ARC-Seal: i=1;"));
	t_verify(m1, &o);
	assert_int_equal(o.result, ARC_RESULT_PASS);
	assert_string_equal(o.sealers[0], "sealer2.test");
	m2 = t_seal(m1, K1, &cv, err);
	assert_non_null(m2);
	assert_int_equal(cv, ARC_CV_PASS);
	assert_true(tu_contains(m2, "ARC-Seal: i=2;"));
	assert_true(tu_contains(m2, "cv=pass;"));
	t_verify(m2, &o);
	assert_int_equal(o.result, ARC_RESULT_PASS);
	assert_int_equal(o.sets, 2);
	assert_int_equal(o.oldest_pass, 1);
	assert_string_equal(o.sealers[0], "sealer2.test");
	assert_string_equal(o.sealers[1], "sealer1.test");
	py = py_verify(m2);
	assert_true(strncmp(py, "pass ", 5) == 0);
	assert_true(tu_contains(py, "2 True True pass"));
	assert_true(tu_contains(py, "1 True True none"));
	free(py);
	/* a list then tags the subject: i=2's AMS breaks, i=1's too */
	m1b = t_replace(m2, "Subject: ARC test", "List-Id: <l.lists.test>"
	    "\r\nSubject: [l] ARC test");
	t_verify(m1b, &o);
	assert_int_equal(o.result, ARC_RESULT_FAIL);
	assert_true(tu_contains(o.reason, "i=2: ARC-Message-Signature"));
	free(m1b);
	/* a header that no AMS signs: i=2 still passes, i=1 did not sign
	 * what python's default list left out either */
	m1b = t_replace(m2, "Received:", "X-List: yes\r\nReceived:");
	t_verify(m1b, &o);
	assert_int_equal(o.result, ARC_RESULT_PASS);
	free(m1);
	free(m1b);
	free(m2);
}

static void
test_dkimpy_two_sets(void **state)
{
	struct arc_outcome o;
	char *m1, *m1b, *m2;

	(void)state;
	NEED_PYTHON();
	m1 = py_sign(base_msg, K1, T_SRV);
	m1b = t_replace(m1, "From: Alice", "Authentication-Results: "
	    "mx2.arc.test; arc=pass; dmarc=pass header.from=origin.test\r\n"
	    "From: Alice");
	m2 = py_sign(m1b, K2, "mx2.arc.test");
	t_verify(m2, &o);
	assert_int_equal(o.result, ARC_RESULT_PASS);
	assert_int_equal(o.sets, 2);
	assert_int_equal(o.oldest_pass, 1);
	assert_string_equal(o.sealers[0], "sealer1.test");
	assert_string_equal(o.sealers[1], "sealer2.test");
	free(m1);
	free(m1b);
	free(m2);
}

static void
test_cv_rules(void **state)
{
	struct arc_outcome o;
	char *a, *b, *c, *d;

	(void)state;
	/* i=1 must say cv=none */
	a = t_raw_set(base_msg, K1, 1, "pass", true, 0);
	t_verify(a, &o);
	assert_int_equal(o.result, ARC_RESULT_FAIL);
	assert_true(tu_contains(o.reason, "i=1: ARC-Seal with cv=pass"));
	free(a);
	/* a good i=1, then i=2 with cv=none */
	a = t_raw_set(base_msg, K1, 1, "none", true, 0);
	t_verify(a, &o);
	assert_int_equal(o.result, ARC_RESULT_PASS);
	b = t_raw_set(a, K2, 2, "none", true, 0);
	t_verify(b, &o);
	assert_int_equal(o.result, ARC_RESULT_FAIL);
	assert_true(tu_contains(o.reason, "i=2: ARC-Seal with cv=none"));
	free(b);
	/* i=2 with cv=pass: the rules hold */
	b = t_raw_set(a, K2, 2, "pass", true, 0);
	t_verify(b, &o);
	assert_int_equal(o.result, ARC_RESULT_PASS);
	assert_int_equal(o.sets, 2);
	/* cv=fail in the middle fails the chain, whatever follows */
	c = t_raw_set(a, K2, 2, "fail", true, 0);
	d = t_raw_set(c, K1, 3, "pass", true, 0);
	t_verify(d, &o);
	assert_int_equal(o.result, ARC_RESULT_FAIL);
	assert_true(tu_contains(o.reason, "i=2: ARC-Seal with cv=fail"));
	free(c);
	free(d);
	/* the newest with cv=fail: the chain has ended */
	c = t_raw_set(b, K1, 3, "fail", false, 0);
	t_verify(c, &o);
	assert_int_equal(o.result, ARC_RESULT_FAIL);
	assert_true(tu_contains(o.reason, "ended with cv=fail"));
	free(c);
	free(a);
	free(b);
}

static void
test_fifty_sets(void **state)
{
	char err[T_ERRLEN] = "";
	struct arc_outcome o;
	char *m = xstrdup(base_msg), *next;

	(void)state;
	for (unsigned i = 1; i <= ARC_MAX_SETS; i++) {
		next = t_raw_set(m, i % 2 ? K1 : K2, i, i == 1 ? "none" :
		    "pass", true, 0);
		free(m);
		m = next;
	}
	t_verify(m, &o);
	assert_int_equal(o.result, ARC_RESULT_PASS);
	assert_int_equal(o.sets, ARC_MAX_SETS);
	assert_int_equal(o.nsealers, ARC_MAX_SETS);
	assert_string_equal(o.sealers[49], "sealer2.test");
	/* our sealer adds no 51st set */
	next = t_seal(m, K1, NULL, err);
	assert_null(next);
	assert_true(tu_contains(err, "50 sets"));
	/* a 51st set fails the chain */
	next = t_raw_set(m, K1, 51, "pass", true, 0);
	t_verify(next, &o);
	assert_int_equal(o.result, ARC_RESULT_FAIL);
	assert_true(tu_contains(o.reason, "more than 50"));
	free(next);
	free(m);
}

static void
test_instances(void **state)
{
	struct arc_outcome o;
	char *a, *b, *c;

	(void)state;
	a = t_raw_set(base_msg, K1, 1, "none", true, 0);
	/* i=3 on top of i=1: i=2 is missing */
	b = t_raw_set(a, K2, 3, "pass", true, 0);
	t_verify(b, &o);
	assert_int_equal(o.result, ARC_RESULT_FAIL);
	assert_true(tu_contains(o.reason, "i=2: no "));
	free(b);
	/* a second AAR with i=1 */
	b = t_replace(a, "ARC-Authentication-Results:", "ARC-Authentication-"
	    "Results: i=1; other.test; none\r\nARC-Authentication-Results:");
	t_verify(b, &o);
	assert_int_equal(o.result, ARC_RESULT_FAIL);
	assert_true(tu_contains(o.reason, "i=1: more than one "
	    "ARC-Authentication-Results"));
	free(b);
	/* a field without a usable i= */
	b = t_replace(a, "ARC-Seal: i=1;", "ARC-Seal: i=x;");
	t_verify(b, &o);
	assert_int_equal(o.result, ARC_RESULT_FAIL);
	free(b);
	/* two sets with i=1 (a whole set duplicated) */
	c = t_raw_set(a, K2, 1, "none", false, 0);
	t_verify(c, &o);
	assert_int_equal(o.result, ARC_RESULT_FAIL);
	assert_true(tu_contains(o.reason, "more than one"));
	free(c);
	free(a);
}

static void
test_seal_with_h(void **state)
{
	struct arc_outcome o;
	char *a, *b;

	(void)state;
	a = t_raw_set(base_msg, K1, 1, "none", true, 0);
	b = t_replace(a, "cv=none;", "cv=none; h=from:to;");
	t_verify(b, &o);
	assert_int_equal(o.result, ARC_RESULT_FAIL);
	assert_true(tu_contains(o.reason, "ARC-Seal with h="));
	free(a);
	free(b);
}

static void
test_tampered(void **state)
{
	char err[T_ERRLEN] = "";
	struct arc_outcome o;
	char *m1, *m2, *t;

	(void)state;
	m1 = t_seal(base_msg, K1, NULL, err);
	assert_non_null(m1);
	/* a signed header changed: the AMS fails */
	t = t_replace(m1, "Subject: ARC test", "Subject: ARC test!");
	t_verify(t, &o);
	assert_int_equal(o.result, ARC_RESULT_FAIL);
	assert_true(tu_contains(o.reason, "i=1: ARC-Message-Signature: "
	    "signature does not verify"));
	free(t);
	/* the body changed */
	t = t_replace(m1, "Hello  world", "Hello  World");
	t_verify(t, &o);
	assert_int_equal(o.result, ARC_RESULT_FAIL);
	assert_true(tu_contains(o.reason, "body hash mismatch"));
	free(t);
	/* an unsigned header added: still a pass */
	t = t_replace(m1, "Received:", "X-Added: yes\r\nReceived:");
	t_verify(t, &o);
	assert_int_equal(o.result, ARC_RESULT_PASS);
	free(t);
	/* the seal's fields changed: the AAR of i=1 under a second set */
	m2 = t_seal(m1, K2, NULL, err);
	assert_non_null(m2);
	t_verify(m2, &o);
	assert_int_equal(o.result, ARC_RESULT_PASS);
	t = t_replace(m2, "ARC-Authentication-Results: i=1; " T_SRV ";",
	    "ARC-Authentication-Results: i=1; evil.test;");
	t_verify(t, &o);
	assert_int_equal(o.result, ARC_RESULT_FAIL);
	assert_true(tu_contains(o.reason, "ARC-Seal: signature does not "
	    "verify"));
	free(t);
	/* a seal's own tags changed */
	t = t_replace(m2, "cv=pass;", "cv=pass; x=1;");
	t_verify(t, &o);
	assert_int_equal(o.result, ARC_RESULT_FAIL);
	assert_true(tu_contains(o.reason, "i=2: ARC-Seal: signature does "
	    "not verify"));
	free(t);
	free(m1);
	free(m2);
}

static void
test_expired(void **state)
{
	struct arc_outcome o;
	char *a;

	(void)state;
	a = t_raw_set(base_msg, K1, 1, "none", true, (long long)time(NULL) -
	    10);
	t_verify(a, &o);
	assert_int_equal(o.result, ARC_RESULT_FAIL);
	assert_true(tu_contains(o.reason, "expired"));
	free(a);
	a = t_raw_set(base_msg, K1, 1, "none", true, (long long)time(NULL) +
	    3600);
	t_verify(a, &o);
	assert_int_equal(o.result, ARC_RESULT_PASS);
	free(a);
}

static void
test_keys(void **state)
{
	struct arc_outcome o;
	char *a, *b;

	(void)state;
	/* a 1024-bit key under MinimumKeyBits 2048 */
	a = t_raw_set(base_msg, K1024, 1, "none", true, 0);
	t_verify(a, &o);
	assert_int_equal(o.result, ARC_RESULT_PASS);
	t_verify_bits(a, 2048, &o);
	assert_int_equal(o.result, ARC_RESULT_FAIL);
	assert_true(tu_contains(o.reason, "shorter than 2048 bits"));
	free(a);
	/* rsa-sha1 */
	a = t_raw_set(base_msg, K1, 1, "none", true, 0);
	b = t_replace(a, "ARC-Message-Signature: i=1; a=rsa-sha256;",
	    "ARC-Message-Signature: i=1; a=rsa-sha1;");
	t_verify(b, &o);
	assert_int_equal(o.result, ARC_RESULT_FAIL);
	assert_true(tu_contains(o.reason, "a=rsa-sha1 is not accepted"));
	free(b);
	/* no key; a key lookup that times out */
	b = t_replace(a, "cv=none; d=sealer1.test; s=s1;",
	    "cv=none; d=sealer1.test; s=none;");
	t_verify(b, &o);
	assert_int_equal(o.result, ARC_RESULT_FAIL);
	assert_false(o.temperror);
	free(b);
	b = t_replace(a, "cv=none; d=sealer1.test; s=s1;",
	    "cv=none; d=sealer1.test; s=slow;");
	t_verify(b, &o);
	assert_int_equal(o.result, ARC_RESULT_FAIL);
	assert_true(o.temperror);
	assert_true(tu_contains(o.reason, "timeout"));
	free(b);
	free(a);
}

static void
test_seal_after_fail(void **state)
{
	char err[T_ERRLEN] = "";
	struct arc_outcome o;
	enum arc_cv cv = ARC_CV_NONE;
	char *m1, *t, *t2, *m2, *m3;

	(void)state;
	if (have_python)
		m1 = py_sign(base_msg, K2, T_SRV);
	else
		m1 = t_seal(base_msg, K2, NULL, err);
	assert_non_null(m1);
	t = t_replace(m1, "Hello  world", "Hello  there");	/* broken */
	m2 = t_seal(t, K1, &cv, err);
	assert_non_null(m2);
	assert_int_equal(cv, ARC_CV_FAIL);
	assert_true(tu_contains(m2, "ARC-Seal: i=2;"));
	assert_true(tu_contains(m2, "cv=fail;"));
	t_verify(m2, &o);
	assert_int_equal(o.result, ARC_RESULT_FAIL);
	assert_true(tu_contains(o.reason, "i=2: the chain ended with "
	    "cv=fail"));
	if (have_python) {
		/*
		 * dkimpy: the chain is over; the new AMS holds, and the new
		 * seal holds over its own set only (as dkim.arc_sign makes it)
		 */
		char *py = py_verify(m2);

		assert_true(strncmp(py, "None ", 5) == 0);
		assert_true(tu_contains(py, "2 True "));
		free(py);
		py = py_run("sealonly", m2);
		assert_true(tu_contains(py, "sealonly True"));
		free(py);
		t2 = t_replace(m2, "ARC-Seal: i=2;", "ARC-Seal: i=2; x=y;");
		py = py_run("sealonly", t2);
		assert_true(tu_contains(py, "sealonly False"));
		free(py);
		free(t2);
	}
	/* nothing is added after cv=fail */
	m3 = t_seal(m2, K1, NULL, err);
	assert_null(m3);
	assert_true(tu_contains(err, "cv=fail"));
	free(m1);
	free(t);
	free(m2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_microsoft),
		cmocka_unit_test(test_parse_no_servid),
		cmocka_unit_test(test_parse_unknown),
		cmocka_unit_test(test_parse_quotes_comments),
		cmocka_unit_test(test_parse_gmail),
		cmocka_unit_test(test_parse_none_and_hostile),
		cmocka_unit_test(test_format_arc),
		cmocka_unit_test(test_none),
		cmocka_unit_test(test_seal_i1_verifies),
		cmocka_unit_test(test_seal_i2_over_dkimpy),
		cmocka_unit_test(test_dkimpy_two_sets),
		cmocka_unit_test(test_cv_rules),
		cmocka_unit_test(test_fifty_sets),
		cmocka_unit_test(test_instances),
		cmocka_unit_test(test_seal_with_h),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_expired),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_seal_after_fail),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
