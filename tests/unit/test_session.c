/*
 * test_session.c - unit tests for the engine (session.c) with real
 * configurations: a configuration file, a KeyTable, a SigningTable and
 * keys made by `openssl genpkey` in a temporary directory, loaded with
 * config_load(). Covers which mail is signed (InternalHosts, SMTP AUTH),
 * single and dual (RSA + Ed25519) signatures, malformed messages and
 * OnBadMessage, the header bounds, several messages on one connection and
 * session_abort().
 *
 * The signatures are checked independently of the code that makes them:
 * the body hash (bh=) must not depend on how the body is cut into chunks
 * and, for a body whose canonical form is known, must equal a SHA-256
 * computed here; and signed messages are verified by python3-dkim with the
 * public keys from keys_public_txt() served by a dnsfunc, under relaxed
 * and simple canonicalization. A tampered message must fail there.
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

#include <openssl/evp.h>

#include "config.h"
#include "keys.h"
#include "keytable.h"
#include "message.h"
#include "metrics.h"
#include "runtime.h"
#include "session.h"
#include "testutil.h"

#define ERRLEN		CONFIG_ERRLEN
#define PYTHON		"/usr/bin/python3"
#define PY_NO_DKIM	77	/* the verifier's exit code without dkim */
#define DOMAIN		"example.com"
#define CLIENT_IN	"127.0.0.1"	/* in InternalHosts */
#define CLIENT_OUT	"192.0.2.1"	/* not in InternalHosts */
#define BIG_BODY	100000	/* bytes of the chunking test body */

/*
 * The verifier: argv[1] the message, argv[2] a file of "name txt" lines
 * (the DNS), argv[3] how many signatures the message must carry. Exit 0
 * when every one verifies, 77 without the dkim module. Kept free of
 * single quotes: it travels inside them on a shell command line.
 */
static const char py_verify[] =
    "import sys\n"
    "try:\n"
    "    import dkim\n"
    "except ImportError:\n"
    "    sys.exit(77)\n"
    "recs = {}\n"
    "for line in open(sys.argv[2]):\n"
    "    name, txt = line.split(None, 1)\n"
    "    recs[name.lower()] = txt.strip().encode()\n"
    "def dns(name, timeout=5):\n"
    "    if isinstance(name, bytes):\n"
    "        name = name.decode()\n"
    "    return recs.get(name.lower().rstrip(\".\"))\n"
    "msg = open(sys.argv[1], \"rb\").read()\n"
    "want = int(sys.argv[3])\n"
    "d = dkim.DKIM(msg)\n"
    "sigs = [h for h in d.headers if h[0].lower() == b\"dkim-signature\"]\n"
    "if len(sigs) != want:\n"
    "    print(\"# found %d signatures, want %d\" % (len(sigs), want))\n"
    "    sys.exit(2)\n"
    "ok = dkim.verify(msg, dnsfunc=dns)\n"
    "for i in range(want):\n"
    "    try:\n"
    "        if not dkim.DKIM(msg).verify(idx=i, dnsfunc=dns):\n"
    "            print(\"# signature %d does not verify\" % i)\n"
    "            ok = False\n"
    "    except Exception as e:\n"
    "        print(\"# signature %d: %s\" % (i, e))\n"
    "        ok = False\n"
    "sys.exit(0 if ok else 1)\n";

/* What the group setup makes once. */
static struct {
	char		*dir;
	char		*rsa;		/* RSA 2048, 0600 */
	char		*ed;		/* Ed25519, 0600 */
	char		*keytable;
	char		*signtable;
	char		*dns;		/* "name txt" lines for the verifier */
	struct config	*base;		/* one signature per message */
	struct config	*dual;		/* MultipleSignatures: RSA + Ed25519 */
	struct config	*simple;	/* dual, simple/simple */
	struct config	*tempfail;	/* OnBadMessage tempfail */
	struct config	*reject;	/* OnBadMessage reject */
	struct config	*small;		/* MaximumHeaders 10, ...Bytes 1024 */
	bool		 have_dkim;	/* python3-dkim is there */
	struct runtime	*rt;		/* the services every session uses */
} fx;

/* genkey - make a private key at dir/name with openssl; path or NULL */
static char *
genkey(const char *name, const char *alg_opts)
{
	char *path = tu_path(fx.dir, name);

	if (path == NULL)
		return NULL;
	if (tu_run("openssl genpkey %s -out '%s' 2>/dev/null", alg_opts,
	    path) != 0 || chmod(path, 0600) != 0) {
		free(path);
		return NULL;
	}
	return path;
}

/* cfg_make - write dir/name with the common lines plus extra; load it */
static struct config *
cfg_make(const char *name, const char *extra)
{
	char err[ERRLEN] = "", *text = NULL, *path;
	struct config *cfg;

	if (asprintf(&text,
	    "# written by test_session\n"
	    "InternalHosts  " CLIENT_IN "\n"
	    "IgnoreHosts    " CLIENT_OUT "\n"	/* units make no DNS queries */
	    "KeyTable       %s\n"
	    "SigningTable   refile:%s\n"
	    "Syslog         no\n"
	    "%s", fx.keytable, fx.signtable, extra) < 0)
		return NULL;
	path = tu_write_file(fx.dir, name, text, 0644);
	free(text);
	if (path == NULL)
		return NULL;
	cfg = config_load(path, err, sizeof err);
	if (cfg == NULL)
		fprintf(stderr, "config_load %s: %s\n", name, err);
	free(path);
	return cfg;
}

/* write_dns - the TXT records of the KeyTable's keys, for the verifier */
static bool
write_dns(const struct config *cfg)
{
	FILE *fp;

	fx.dns = tu_path(fx.dir, "dns.txt");
	if (fx.dns == NULL || (fp = fopen(fx.dns, "w")) == NULL)
		return false;
	for (size_t i = 0; i < cfg->keytable->count; i++) {
		const struct keyentry *ke = &cfg->keytable->entries[i];
		char *txt = keys_public_txt(ke->key);

		if (txt == NULL) {
			fclose(fp);
			return false;
		}
		fprintf(fp, "%s._domainkey.%s %s\n", ke->selector, ke->domain,
		    txt);
		free(txt);
	}
	return fclose(fp) == 0;
}

static int
setup(void **state)
{
	(void)state;
	fx.dir = tu_mkdtemp("test_session");
	if (fx.dir == NULL)
		return -1;
	fx.rsa = genkey("rsa.pem",
	    "-algorithm RSA -pkeyopt rsa_keygen_bits:2048");
	fx.ed = genkey("ed.pem", "-algorithm ed25519");
	if (fx.rsa == NULL || fx.ed == NULL)
		return -1;
	{
		char *kt = NULL;

		if (asprintf(&kt,
		    "rsa  " DOMAIN ":rsa1:%s\n"
		    "ed   " DOMAIN ":ed1:%s\n", fx.rsa, fx.ed) < 0)
			return -1;
		fx.keytable = tu_write_file(fx.dir, "KeyTable", kt, 0644);
		free(kt);
	}
	fx.signtable = tu_write_file(fx.dir, "SigningTable",
	    "*@" DOMAIN "   rsa\n"
	    "*@" DOMAIN "   ed\n", 0644);
	if (fx.keytable == NULL || fx.signtable == NULL)
		return -1;
	fx.base = cfg_make("base.conf", "");
	fx.dual = cfg_make("dual.conf", "MultipleSignatures yes\n");
	fx.simple = cfg_make("simple.conf", "MultipleSignatures yes\n"
	    "Canonicalization simple/simple\n");
	fx.tempfail = cfg_make("tempfail.conf", "OnBadMessage tempfail\n");
	fx.reject = cfg_make("reject.conf", "OnBadMessage reject\n");
	fx.small = cfg_make("small.conf", "MaximumHeaders 10\n"
	    "MaximumHeaderBytes 1024\n");
	if (fx.base == NULL || fx.dual == NULL || fx.simple == NULL ||
	    fx.tempfail == NULL || fx.reject == NULL || fx.small == NULL)
		return -1;
	fx.rt = runtime_new(fx.base, NULL, 0);
	if (fx.rt == NULL)
		return -1;
	if (!write_dns(fx.base))
		return -1;
	fx.have_dkim = tu_run(PYTHON " -c 'import dkim' 2>/dev/null") == 0;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	runtime_free(fx.rt);
	config_unref(fx.base);
	config_unref(fx.dual);
	config_unref(fx.simple);
	config_unref(fx.tempfail);
	config_unref(fx.reject);
	config_unref(fx.small);
	tu_rmtree(fx.dir);
	free(fx.dir);
	free(fx.rsa);
	free(fx.ed);
	free(fx.keytable);
	free(fx.signtable);
	free(fx.dns);
	return 0;
}

/* --- messages ----------------------------------------------------------- */

/* Header fields as the MTA passes them: name, value (after the colon). */
static const char *const std_hdrs[] = {
	"Received", " from client.example.com by mx.example.com;\n"
	    "\tMon, 05 Jan 2026 10:00:00 +0000",
	"From", " Alice Example <alice@" DOMAIN ">",
	"To", " bob@example.net",
	"Subject", " a test message\n\twith a folded subject",
	"X-Folded-CRLF", " one\r\n two",
	"Date", " Mon, 05 Jan 2026 10:00:00 +0000",
	"Message-ID", " <test.1@" DOMAIN ">",
	"MIME-Version", " 1.0",
	"Content-Type", " text/plain; charset=us-ascii",
	NULL,
};

static const char std_body[] =
    "Hello Bob,\r\n"
    "\r\n"
    "this is  a  body   with\ttabs and trailing blanks  \r\n"
    "and a last line.\r\n"
    "\r\n"
    "\r\n";

/* A message: header fields, a body in CRLF form. */
struct tmsg {
	const char *const	*hdrs;
	const char		*body;
	size_t			 bodylen;
};

static const struct tmsg std_msg = {
	std_hdrs, std_body, sizeof std_body - 1,
};

/* feed_msg - headers, end of headers, body in chunks of chunk bytes */
static bool
feed_msg(struct session *s, const struct tmsg *m, size_t chunk)
{
	bool want;

	for (size_t i = 0; m->hdrs[i] != NULL; i += 2)
		session_header(s, m->hdrs[i], m->hdrs[i + 1]);
	want = session_eoh(s);
	if (want) {
		if (chunk == 0)
			chunk = m->bodylen;
		for (size_t off = 0; off < m->bodylen; off += chunk) {
			size_t n = m->bodylen - off < chunk ?
			    m->bodylen - off : chunk;

			session_body(s, (const unsigned char *)m->body + off, n);
		}
	}
	return want;
}

/*
 * run_msg - one connection, one message from client (auth user or NULL),
 * body in chunks of chunk bytes (0: whole); fills v. Returns what
 * session_eoh() said.
 */
static bool
run_msg(struct config *cfg, const char *client, const char *auth,
    const struct tmsg *m, size_t chunk, struct verdict *v)
{
	struct session *s = session_new(cfg, fx.rt);
	bool want;

	assert_non_null(s);
	session_connect(s, "client.example.com", client);
	session_helo(s, "client.example.com");
	session_set_queueid(s, "4ABCDEF");
	session_mail(s, "<alice@" DOMAIN ">", auth);
	session_rcpt(s, "<bob@example.net>");
	want = feed_msg(s, m, chunk);
	session_eom(s, v);
	session_free(s);
	return want;
}

/* put_crlf - write s to fp with every bare "\n" written as "\r\n" */
static void
put_crlf(FILE *fp, const char *s)
{
	for (size_t i = 0; s[i]; i++) {
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			fputc('\r', fp);
		fputc(s[i], fp);
	}
}

/*
 * write_signed - the message as the MTA would pass it on: the added
 * headers on top (each insertion at index 0 lands above the previous
 * one), then the original header fields, the blank line, the body.
 * Returns the path (caller frees).
 */
static char *
write_signed(const char *name, const struct verdict *v, const struct tmsg *m)
{
	char *path = tu_path(fx.dir, name);
	FILE *fp;

	assert_non_null(path);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	for (size_t i = v->nadded; i-- > 0;) {
		assert_int_equal(v->added[i].index, 0);
		fprintf(fp, "%s: ", v->added[i].name);
		put_crlf(fp, v->added[i].value);
		fputs("\r\n", fp);
	}
	for (size_t i = 0; m->hdrs[i] != NULL; i += 2) {
		fprintf(fp, "%s:", m->hdrs[i]);
		put_crlf(fp, m->hdrs[i + 1]);
		fputs("\r\n", fp);
	}
	fputs("\r\n", fp);
	assert_int_equal(fwrite(m->body, 1, m->bodylen, fp), m->bodylen);
	assert_int_equal(fclose(fp), 0);
	return path;
}

/* py_verify_file - run the verifier; its exit status */
static int
py_verify_file(const char *path, size_t nsig)
{
	return tu_run(PYTHON " -c '%s' '%s' '%s' %zu", py_verify, path,
	    fx.dns, nsig);
}

/* verify - the verdict's signatures on m must verify with python3-dkim */
static void
verify(const char *name, const struct verdict *v, const struct tmsg *m)
{
	char *path;
	int rc;

	if (!fx.have_dkim)
		return;			/* the tests that need it skip() */
	path = write_signed(name, v, m);
	rc = py_verify_file(path, v->nadded);
	if (rc != 0)
		fail_msg("python3-dkim: %s does not verify (exit %d)", path, rc);
	unlink(path);
	free(path);
}

/* need_dkim - skip the test when python3-dkim is missing */
static void
need_dkim(void)
{
	if (!fx.have_dkim) {
		print_message("python3-dkim not found: skipped\n");
		skip();
	}
}

/* tag - the value of tag t= in a signature, white space removed */
static char *
tag(const char *value, const char *t)
{
	size_t tlen = strlen(t);
	const char *p = value;
	char *out;
	size_t n = 0;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (strncmp(p, t, tlen) == 0 && p[tlen] == '=')
			break;
		p = strchr(p, ';');
		if (p == NULL)
			fail_msg("no %s= in \"%s\"", t, value);
		p++;
	}
	p += tlen + 1;
	out = malloc(strlen(p) + 1);
	assert_non_null(out);
	for (; *p && *p != ';'; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			out[n++] = *p;
	out[n] = '\0';
	return out;
}

/* sig_with_alg - the index of the signature with a=alg, or -1 */
static int
sig_with_alg(const struct verdict *v, const char *alg)
{
	for (size_t i = 0; i < v->nadded; i++) {
		char *a = tag(v->added[i].value, "a");
		bool match = strcmp(a, alg) == 0;

		free(a);
		if (match)
			return (int)i;
	}
	return -1;
}

/* check_signed - accepted with n DKIM-Signature headers at index 0 */
static void
check_signed(const struct verdict *v, size_t n)
{
	assert_int_equal(v->action, VERDICT_ACCEPT);
	assert_int_equal(v->nadded, n);
	assert_null(v->reason);
	assert_non_null(v->summary);
	for (size_t i = 0; i < n; i++) {
		char *d = tag(v->added[i].value, "d");

		assert_string_equal(v->added[i].name, "DKIM-Signature");
		assert_int_equal(v->added[i].index, 0);
		assert_string_equal(d, DOMAIN);
		free(d);
		/* the whole body is always signed: no l= */
		assert_false(tu_contains(v->added[i].value, "l="));
	}
}

/* check_unsigned - no headers added, the action, the summary's reason */
static void
check_unsigned(const struct verdict *v, enum verdict_action action,
    const char *why)
{
	assert_int_equal(v->nadded, 0);
	assert_int_equal(v->action, action);
	assert_non_null(v->summary);
	if (!tu_contains(v->summary, why))
		fail_msg("summary \"%s\" does not say \"%s\"", v->summary, why);
}

/* with_hdrs - std_msg with other header fields */
static struct tmsg
with_hdrs(const char *const *hdrs)
{
	struct tmsg m = std_msg;

	m.hdrs = hdrs;
	return m;
}

/* --- which mail is signed ----------------------------------------------- */

static void
test_outbound_internal_signed(void **state)
{
	struct verdict v;

	(void)state;
	assert_true(run_msg(fx.base, CLIENT_IN, NULL, &std_msg, 0, &v));
	check_signed(&v, 1);
	assert_true(tu_contains(v.summary,
	    "signed d=" DOMAIN " s=rsa1 a=rsa-sha256"));
	assert_true(tu_contains(v.summary, "4ABCDEF"));
	{
		char *s = tag(v.added[0].value, "s"), *a = tag(v.added[0].value,
		    "a"), *c = tag(v.added[0].value, "c");

		assert_string_equal(s, "rsa1");
		assert_string_equal(a, "rsa-sha256");
		assert_string_equal(c, "relaxed/relaxed");
		free(s);
		free(a);
		free(c);
	}
	verify("internal.eml", &v, &std_msg);
	verdict_clear(&v);
}

/* MultipleSignatures: one RSA and one Ed25519 signature */
static void
test_dual_signing(void **state)
{
	struct verdict v;
	int r, e;

	(void)state;
	assert_true(run_msg(fx.dual, CLIENT_IN, NULL, &std_msg, 0, &v));
	check_signed(&v, 2);
	r = sig_with_alg(&v, "rsa-sha256");
	e = sig_with_alg(&v, "ed25519-sha256");
	assert_true(r >= 0);
	assert_true(e >= 0);
	assert_int_not_equal(r, e);
	{
		char *s = tag(v.added[r].value, "s");

		assert_string_equal(s, "rsa1");
		free(s);
		s = tag(v.added[e].value, "s");
		assert_string_equal(s, "ed1");
		free(s);
	}
	assert_true(tu_contains(v.summary, "s=rsa1 a=rsa-sha256"));
	assert_true(tu_contains(v.summary, "s=ed1 a=ed25519-sha256"));
	{
		/* both hash the same canonical body */
		char *bh1 = tag(v.added[0].value, "bh"),
		    *bh2 = tag(v.added[1].value, "bh");

		assert_string_equal(bh1, bh2);
		free(bh1);
		free(bh2);
	}
	verify("dual.eml", &v, &std_msg);
	verdict_clear(&v);
}

/* an external client without SMTP AUTH: inbound, nothing to sign */
static void
test_inbound_external(void **state)
{
	struct session *s;
	struct verdict v;

	(void)state;
	assert_false(run_msg(fx.dual, CLIENT_OUT, NULL, &std_msg, 0, &v));
	check_unsigned(&v, VERDICT_ACCEPT, "inbound");
	assert_null(v.reason);
	verdict_clear(&v);

	s = session_new(fx.base, fx.rt);
	session_connect(s, "mx.example.net", CLIENT_OUT);
	session_mail(s, "<x@example.net>", NULL);
	assert_false(session_is_outbound(s));
	session_abort(s);
	session_mail(s, "<x@example.net>", "x");
	assert_true(session_is_outbound(s));
	session_free(s);
}

/* an external client that authenticated: outbound, signed */
static void
test_external_auth_signed(void **state)
{
	struct verdict v;

	(void)state;
	assert_true(run_msg(fx.base, CLIENT_OUT, "alice", &std_msg, 0, &v));
	check_signed(&v, 1);
	assert_true(tu_contains(v.summary, "auth=alice"));
	assert_true(tu_contains(v.summary, "signed d=" DOMAIN));
	verify("auth.eml", &v, &std_msg);
	verdict_clear(&v);
}

/* the From domain matches without regard to case; folding is allowed */
static void
test_from_forms(void **state)
{
	static const char *const upper[] = {
		"From", " Alice <Alice@EXAMPLE.Com.>", "To", " b@example.net",
		NULL,
	};
	static const char *const folded[] = {
		"From", " \"Alice, Example\"\n\t<alice@" DOMAIN ">",
		"To", " b@example.net", NULL,
	};
	struct tmsg m;
	struct verdict v;
	char *d;

	(void)state;
	m = with_hdrs(upper);
	assert_true(run_msg(fx.base, CLIENT_IN, NULL, &m, 0, &v));
	check_signed(&v, 1);
	d = tag(v.added[0].value, "d");
	assert_string_equal(d, DOMAIN);
	free(d);
	verify("upper.eml", &v, &m);
	verdict_clear(&v);

	m = with_hdrs(folded);
	assert_true(run_msg(fx.base, CLIENT_IN, NULL, &m, 0, &v));
	check_signed(&v, 1);
	verify("folded-from.eml", &v, &m);
	verdict_clear(&v);
}

/* a configuration without keys signs nothing, and says so */
static void
test_no_keys_configured(void **state)
{
	struct config *cfg;
	struct verdict v;
	char err[ERRLEN], *path;

	(void)state;
	path = tu_write_file(fx.dir, "nokeys.conf", "InternalHosts 127.0.0.1\n",
	    0644);
	assert_non_null(path);
	cfg = config_load(path, err, sizeof err);
	if (cfg == NULL)
		fail_msg("%s", err);
	free(path);
	assert_false(run_msg(cfg, CLIENT_IN, NULL, &std_msg, 0, &v));
	check_unsigned(&v, VERDICT_ACCEPT, "not signed");
	assert_null(v.reason);
	verdict_clear(&v);
	config_unref(cfg);
}

/* --- malformed messages ------------------------------------------------- */

static void
test_no_from(void **state)
{
	static const char *const hdrs[] = {
		"To", " bob@example.net", "Subject", " no sender", NULL,
	};
	struct tmsg m = with_hdrs(hdrs);
	struct verdict v;

	(void)state;
	assert_false(run_msg(fx.base, CLIENT_IN, NULL, &m, 0, &v));
	/* OnBadMessage defaults to accept */
	check_unsigned(&v, VERDICT_ACCEPT, "no From header");
	assert_true(tu_contains(v.summary, "not signed"));
	verdict_clear(&v);
}

static void
test_several_from(void **state)
{
	static const char *const hdrs[] = {
		"From", " alice@" DOMAIN, "To", " bob@example.net",
		"from", " mallory@" DOMAIN, NULL,
	};
	struct tmsg m = with_hdrs(hdrs);
	struct verdict v;

	(void)state;
	assert_false(run_msg(fx.dual, CLIENT_IN, NULL, &m, 0, &v));
	check_unsigned(&v, VERDICT_ACCEPT, "several From");
	verdict_clear(&v);
}

static void
test_from_two_addresses(void **state)
{
	static const char *const hdrs[] = {
		"From", " alice@" DOMAIN ", carol@" DOMAIN,
		"Sender", " alice@" DOMAIN, NULL,
	};
	static const char *const group[] = {
		"From", " friends: alice@" DOMAIN ", carol@" DOMAIN ";", NULL,
	};
	struct tmsg m = with_hdrs(hdrs);
	struct verdict v;

	(void)state;
	assert_false(run_msg(fx.base, CLIENT_IN, NULL, &m, 0, &v));
	check_unsigned(&v, VERDICT_ACCEPT, "not signed");
	assert_true(tu_contains(v.summary, "exactly one address"));
	verdict_clear(&v);

	m = with_hdrs(group);
	assert_false(run_msg(fx.base, CLIENT_IN, NULL, &m, 0, &v));
	check_unsigned(&v, VERDICT_ACCEPT, "exactly one address");
	verdict_clear(&v);
}

/* OnBadMessage tempfail and reject give the documented replies */
static void
test_on_bad_message(void **state)
{
	static const char *const hdrs[] = {
		"To", " bob@example.net", NULL,
	};
	struct tmsg m = with_hdrs(hdrs);
	struct verdict v;

	(void)state;
	assert_false(run_msg(fx.tempfail, CLIENT_IN, NULL, &m, 0, &v));
	check_unsigned(&v, VERDICT_TEMPFAIL, "no From header");
	assert_string_equal(v.rcode, "451");
	assert_string_equal(v.xcode, "4.7.0");
	assert_non_null(v.reason);
	assert_true(tu_contains(v.summary, "action=tempfail"));
	verdict_clear(&v);

	assert_false(run_msg(fx.reject, CLIENT_IN, NULL, &m, 0, &v));
	check_unsigned(&v, VERDICT_REJECT, "no From header");
	assert_string_equal(v.rcode, "550");
	assert_string_equal(v.xcode, "5.7.0");
	assert_non_null(v.reason);
	verdict_clear(&v);

	/* a sender without a key is not a bad message: accepted */
	{
		static const char *const other[] = {
			"From", " x@other.example", NULL,
		};

		m = with_hdrs(other);
		assert_false(run_msg(fx.reject, CLIENT_IN, NULL, &m, 0, &v));
		check_unsigned(&v, VERDICT_ACCEPT, "no signing key for");
		verdict_clear(&v);
	}
	/* nor is inbound mail, whatever it looks like */
	m = with_hdrs(hdrs);
	assert_false(run_msg(fx.reject, CLIENT_OUT, NULL, &m, 0, &v));
	check_unsigned(&v, VERDICT_ACCEPT, "inbound");
	verdict_clear(&v);
}

static void
test_no_key_for_domain(void **state)
{
	static const char *const hdrs[] = {
		"From", " Someone <someone@other.example>", "To",
		" bob@example.net", NULL,
	};
	struct tmsg m = with_hdrs(hdrs);
	struct verdict v;

	(void)state;
	assert_false(run_msg(fx.dual, CLIENT_IN, NULL, &m, 0, &v));
	check_unsigned(&v, VERDICT_ACCEPT, "no signing key for other.example");
	assert_null(v.reason);
	verdict_clear(&v);
}

/* hdrs_n - n header fields: From plus X-N fillers (caller frees) */
static const char **
hdrs_n(size_t n)
{
	const char **h = calloc(2 * n + 1, sizeof(*h));
	static char names[128][24];

	assert_non_null(h);
	assert_true(n <= 128);
	h[0] = "From";
	h[1] = " alice@" DOMAIN;
	for (size_t i = 1; i < n; i++) {
		snprintf(names[i], sizeof names[i], "X-N%zu", i);
		h[2 * i] = names[i];
		h[2 * i + 1] = " filler";
	}
	return h;
}

/* MaximumHeaders 10: ten fields are signed, eleven are not */
static void
test_max_headers(void **state)
{
	const char **h;
	struct tmsg m;
	struct verdict v;

	(void)state;
	h = hdrs_n(10);
	m = with_hdrs(h);
	assert_true(run_msg(fx.small, CLIENT_IN, NULL, &m, 0, &v));
	check_signed(&v, 1);
	verify("ten.eml", &v, &m);
	verdict_clear(&v);
	free(h);

	h = hdrs_n(11);
	m = with_hdrs(h);
	assert_false(run_msg(fx.small, CLIENT_IN, NULL, &m, 0, &v));
	check_unsigned(&v, VERDICT_ACCEPT, "MaximumHeaders");
	verdict_clear(&v);
	free(h);
}

/* MaximumHeaderBytes 1024: a big field stops signing */
static void
test_max_header_bytes(void **state)
{
	char *big = malloc(2001);
	const char *hdrs[] = {
		"From", " alice@" DOMAIN, "X-Big", NULL, NULL,
	};
	struct tmsg m;
	struct verdict v;

	(void)state;
	assert_non_null(big);
	memset(big, 'x', 2000);
	big[0] = ' ';
	big[2000] = '\0';
	hdrs[3] = big;
	m = with_hdrs(hdrs);
	assert_false(run_msg(fx.small, CLIENT_IN, NULL, &m, 0, &v));
	check_unsigned(&v, VERDICT_ACCEPT, "MaximumHeaderBytes");
	verdict_clear(&v);

	/* under the bound it signs */
	big[500] = '\0';
	assert_true(run_msg(fx.small, CLIENT_IN, NULL, &m, 0, &v));
	check_signed(&v, 1);
	verdict_clear(&v);
	free(big);
}

/* --- the connection ------------------------------------------------------ */

/* two messages on one connection, both signed, both valid */
static void
test_two_messages(void **state)
{
	static const char body2[] = "Second message.\r\n";
	static const char *const hdrs2[] = {
		"From", " Alice <alice@" DOMAIN ">", "To", " carol@example.org",
		"Subject", " second", NULL,
	};
	const struct tmsg m2 = { hdrs2, body2, sizeof body2 - 1 };
	struct session *s;
	struct verdict v1, v2;
	char *bh1, *bh2;

	(void)state;
	s = session_new(fx.dual, fx.rt);
	session_connect(s, "client.example.com", CLIENT_IN);
	session_helo(s, "client.example.com");

	session_mail(s, "<alice@" DOMAIN ">", NULL);
	session_rcpt(s, "<bob@example.net>");
	assert_true(feed_msg(s, &std_msg, 0));
	session_eom(s, &v1);
	check_signed(&v1, 2);

	session_mail(s, "<alice@" DOMAIN ">", NULL);
	session_rcpt(s, "<carol@example.org>");
	assert_true(feed_msg(s, &m2, 0));
	session_eom(s, &v2);
	check_signed(&v2, 2);
	session_free(s);

	bh1 = tag(v1.added[0].value, "bh");
	bh2 = tag(v2.added[0].value, "bh");
	assert_string_not_equal(bh1, bh2);
	free(bh1);
	free(bh2);
	verify("first.eml", &v1, &std_msg);
	verify("second.eml", &v2, &m2);
	verdict_clear(&v1);
	verdict_clear(&v2);
}

/* a message dropped half way leaves nothing behind for the next one */
static void
test_abort_then_new(void **state)
{
	static const char *const junk[] = {
		"From", " alice@" DOMAIN, "Subject", " aborted", NULL,
	};
	const struct tmsg mj = { junk, "half a bo", 9 };
	struct session *s;
	struct verdict v;

	(void)state;
	s = session_new(fx.dual, fx.rt);
	session_connect(s, "client.example.com", CLIENT_IN);
	session_mail(s, "<alice@" DOMAIN ">", NULL);
	assert_true(feed_msg(s, &mj, 0));
	session_abort(s);

	/* abort before any header, too */
	session_mail(s, "<alice@" DOMAIN ">", NULL);
	session_abort(s);

	session_mail(s, "<alice@" DOMAIN ">", NULL);
	assert_true(feed_msg(s, &std_msg, 7));
	session_eom(s, &v);
	check_signed(&v, 2);
	assert_false(tu_contains(v.summary, "aborted"));
	verify("after-abort.eml", &v, &std_msg);
	verdict_clear(&v);
	session_free(s);
}

/* session_eoh is false exactly when there is nothing to sign */
static void
test_eoh_false_when_nothing_to_sign(void **state)
{
	static const char *const nofrom[] = { "To", " b@example.net", NULL };
	static const char *const nokey[] = { "From", " a@other.example", NULL };
	struct tmsg m;
	struct session *s;

	(void)state;
	s = session_new(fx.base, fx.rt);
	session_connect(s, "x", CLIENT_OUT);
	session_mail(s, "<a@" DOMAIN ">", NULL);
	assert_false(feed_msg(s, &std_msg, 0));		/* inbound */
	session_abort(s);
	session_free(s);

	s = session_new(fx.base, fx.rt);
	session_connect(s, "x", CLIENT_IN);
	session_mail(s, "<a@" DOMAIN ">", NULL);
	m = with_hdrs(nofrom);
	assert_false(feed_msg(s, &m, 0));
	session_abort(s);
	session_mail(s, "<a@" DOMAIN ">", NULL);
	m = with_hdrs(nokey);
	assert_false(feed_msg(s, &m, 0));
	session_abort(s);
	session_mail(s, "<a@" DOMAIN ">", NULL);
	assert_true(feed_msg(s, &std_msg, 0));
	session_abort(s);
	session_free(s);
}

/* a session keeps its configuration alive after the caller lets go */
static void
test_session_holds_config(void **state)
{
	struct config *cfg = cfg_make("held.conf", "");
	struct session *s;
	struct verdict v;

	(void)state;
	assert_non_null(cfg);
	s = session_new(cfg, fx.rt);
	assert_int_equal(cfg->refs, 2);
	assert_ptr_equal(session_config(s), cfg);
	config_unref(cfg);			/* a reload drops it */
	session_connect(s, "x", CLIENT_IN);
	session_mail(s, "<alice@" DOMAIN ">", NULL);
	assert_true(feed_msg(s, &std_msg, 0));
	session_eom(s, &v);
	check_signed(&v, 1);
	verify("held.eml", &v, &std_msg);
	verdict_clear(&v);
	session_free(s);			/* frees cfg */
}

/* --- the signatures, checked independently ------------------------------ */

/* big_body - BIG_BODY bytes of CRLF lines with blanks to canonicalize */
static char *
big_body(size_t *len)
{
	char *b = malloc(BIG_BODY + 1);
	size_t n = 0, line = 0;

	assert_non_null(b);
	while (n < BIG_BODY - 200) {
		size_t width = 1 + (line * 37) % 150;

		for (size_t i = 0; i < width; i++)
			b[n++] = (i % 11 == 5) ? ' ' : (i % 17 == 3) ? '\t' :
			    (char)('A' + (i + line) % 26);
		if (line % 5 == 0) {		/* trailing blanks */
			b[n++] = ' ';
			b[n++] = '\t';
		}
		if (line % 13 == 0) {		/* an empty line */
			b[n++] = '\r';
			b[n++] = '\n';
		}
		b[n++] = '\r';
		b[n++] = '\n';
		line++;
	}
	/* empty lines at the end, which both canonicalizations drop */
	for (int i = 0; i < 3; i++) {
		b[n++] = '\r';
		b[n++] = '\n';
	}
	b[n] = '\0';
	*len = n;
	return b;
}

/* bh_of - the bh= of the signature with a=alg in v (caller frees) */
static char *
bh_of(const struct verdict *v, const char *alg)
{
	int i = sig_with_alg(v, alg);

	assert_true(i >= 0);
	return tag(v->added[i].value, "bh");
}

/* chunk sizes must not change the body hash, relaxed or simple */
static void
test_chunking_same_bh(void **state)
{
	static const size_t chunks[] = { 1, 7, 65535, 4096, 2, 0 };
	struct config *cfgs[] = { fx.dual, fx.simple };
	struct tmsg m = std_msg;
	size_t len;
	char *body = big_body(&len);

	(void)state;
	m.body = body;
	m.bodylen = len;
	for (size_t c = 0; c < 2; c++) {
		char *ref_rsa = NULL, *ref_ed = NULL;

		for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
			struct verdict v;
			char *rsa, *ed;

			assert_true(run_msg(cfgs[c], CLIENT_IN, NULL, &m,
			    chunks[i], &v));
			check_signed(&v, 2);
			rsa = bh_of(&v, "rsa-sha256");
			ed = bh_of(&v, "ed25519-sha256");
			assert_string_equal(rsa, ed);
			if (ref_rsa == NULL) {
				ref_rsa = rsa;
				ref_ed = ed;
			} else {
				if (strcmp(rsa, ref_rsa) != 0)
					fail_msg("chunks of %zu: bh=%s, "
					    "chunks of %zu: bh=%s", chunks[i],
					    rsa, chunks[0], ref_rsa);
				assert_string_equal(ed, ref_ed);
				free(rsa);
				free(ed);
			}
			/* the signature made from 1-byte chunks is valid */
			if (chunks[i] == 1 || chunks[i] == 65535)
				verify("chunked.eml", &v, &m);
			verdict_clear(&v);
		}
		free(ref_rsa);
		free(ref_ed);
	}
	free(body);
}

/* sha256_b64 - base64 of the SHA-256 of data (caller frees) */
static char *
sha256_b64(const char *data, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char *out = malloc(4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1);

	assert_non_null(out);
	assert_int_equal(EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL),
	    1);
	EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
	return out;
}

/*
 * bh= equals a SHA-256 computed here. The body has no blanks that
 * relaxed canonicalization would change, so both canonical forms are the
 * body without its trailing empty lines.
 */
static void
test_bh_independent(void **state)
{
	static const char body[] =
	    "First line.\r\n"
	    "\r\n"
	    "Second paragraph, no trailing blanks.\r\n"
	    "\r\n"
	    "\r\n";
	static const char canon[] =
	    "First line.\r\n"
	    "\r\n"
	    "Second paragraph, no trailing blanks.\r\n";
	const struct tmsg m = { std_hdrs, body, sizeof body - 1 };
	struct config *cfgs[] = { fx.dual, fx.simple };
	char *want = sha256_b64(canon, sizeof canon - 1);

	(void)state;
	for (size_t c = 0; c < 2; c++) {
		struct verdict v;
		char *rsa, *ed;

		assert_true(run_msg(cfgs[c], CLIENT_IN, NULL, &m, 3, &v));
		check_signed(&v, 2);
		rsa = bh_of(&v, "rsa-sha256");
		ed = bh_of(&v, "ed25519-sha256");
		assert_string_equal(rsa, want);
		assert_string_equal(ed, want);
		free(rsa);
		free(ed);
		verdict_clear(&v);
	}
	free(want);

	/* an empty body: simple hashes one CRLF, relaxed nothing */
	{
		const struct tmsg e = { std_hdrs, "", 0 };
		struct verdict v;
		char *got, *crlf = sha256_b64("\r\n", 2),
		    *none = sha256_b64("", 0);

		assert_true(run_msg(fx.simple, CLIENT_IN, NULL, &e, 0, &v));
		got = bh_of(&v, "rsa-sha256");
		assert_string_equal(got, crlf);
		free(got);
		got = bh_of(&v, "ed25519-sha256");
		assert_string_equal(got, crlf);
		free(got);
		verify("empty-simple.eml", &v, &e);
		verdict_clear(&v);

		assert_true(run_msg(fx.dual, CLIENT_IN, NULL, &e, 0, &v));
		got = bh_of(&v, "rsa-sha256");
		assert_string_equal(got, none);
		free(got);
		got = bh_of(&v, "ed25519-sha256");
		assert_string_equal(got, none);
		free(got);
		verify("empty-relaxed.eml", &v, &e);
		verdict_clear(&v);
		free(crlf);
		free(none);
	}
}

#define T_LF_LINES	24	/* lines of the one-bare-LF bodies */
#define T_LF_WIDTH	9	/* bytes before each line end */

/*
 * bare_lf_one - CRLF bodies with one bare LF, on each line in turn, fed
 * whole and in chunks that put it at every offset of a 64-byte block:
 * each gets the bh= of the body all in CRLF
 */
static void
bare_lf_one(struct config *cfg)
{
	static const size_t chunks[] = { 0, 64, 65, 70, 100, 128 };
	char all[T_LF_LINES * (T_LF_WIDTH + 2) + 1], one[sizeof(all)];
	const struct tmsg mc = { std_hdrs, all, sizeof all - 1 };
	struct verdict v;
	char *want;

	for (size_t i = 0; i < T_LF_LINES; i++) {
		memset(all + i * (T_LF_WIDTH + 2), 'a' + (int)i, T_LF_WIDTH);
		memcpy(all + i * (T_LF_WIDTH + 2) + T_LF_WIDTH, "\r\n", 2);
	}
	all[sizeof all - 1] = '\0';
	assert_true(run_msg(cfg, CLIENT_IN, NULL, &mc, 0, &v));
	want = bh_of(&v, "rsa-sha256");
	verdict_clear(&v);
	for (size_t i = 0; i < T_LF_LINES; i++) {
		size_t cr = i * (T_LF_WIDTH + 2) + T_LF_WIDTH;
		struct tmsg ml = { std_hdrs, one, sizeof all - 2 };

		memcpy(one, all, cr);		/* the CR of line i left out */
		memcpy(one + cr, all + cr + 1, sizeof all - cr - 1);
		for (size_t k = 0; k < sizeof(chunks) / sizeof(chunks[0]);
		    k++) {
			char *got;

			assert_true(run_msg(cfg, CLIENT_IN, NULL, &ml,
			    chunks[k], &v));
			got = bh_of(&v, "rsa-sha256");
			if (strcmp(got, want) != 0)
				fail_msg("bare LF on line %zu, chunk %zu: "
				    "bh=%s, want %s", i, chunks[k], got, want);
			free(got);
			verdict_clear(&v);
		}
	}
	free(want);
}

/*
 * A body with bare LF line ends (as the command line feeds an LF file)
 * gets the bh= of its CRLF form, whatever the chunking: CRLF split
 * between chunks, bare LF at a chunk's start, bare CR, long lines; and
 * a single bare LF at every offset of the 64-byte blocks the scan for
 * bare LF looks at (bare_lf_one).
 */
static void
test_bare_lf_body(void **state)
{
	static const char lf[] =
	    "line one\nline two\r\n\nbare\rCR\r\n\n\n"
	    "a long line of text without any line end in it for a while, "
	    "longer than one block of sixteen or thirty-two bytes\n"
	    "\r\nx\n\n";
	static const char crlf[] =
	    "line one\r\nline two\r\n\r\nbare\rCR\r\n\r\n\r\n"
	    "a long line of text without any line end in it for a while, "
	    "longer than one block of sixteen or thirty-two bytes\r\n"
	    "\r\nx\r\n\r\n";
	const struct tmsg ml = { std_hdrs, lf, sizeof lf - 1 };
	const struct tmsg mc = { std_hdrs, crlf, sizeof crlf - 1 };
	struct config *cfgs[] = { fx.dual, fx.simple };

	(void)state;
	for (size_t c = 0; c < 2; c++) {
		struct verdict v;
		char *want;

		assert_true(run_msg(cfgs[c], CLIENT_IN, NULL, &mc, 0, &v));
		want = bh_of(&v, "rsa-sha256");
		verdict_clear(&v);
		for (size_t chunk = 0; chunk <= sizeof lf; chunk++) {
			char *got;

			assert_true(run_msg(cfgs[c], CLIENT_IN, NULL, &ml,
			    chunk, &v));
			got = bh_of(&v, "rsa-sha256");
			if (strcmp(got, want) != 0)
				fail_msg("%s, chunk %zu: bh=%s, want %s",
				    c ? "simple" : "relaxed", chunk, got, want);
			free(got);
			verdict_clear(&v);
		}
		free(want);
	}
	bare_lf_one(fx.dual);
	bare_lf_one(fx.simple);
}

/* python3-dkim verifies relaxed and simple signatures, RSA and Ed25519 */
static void
test_python_verifies(void **state)
{
	struct verdict v;
	char *path, *c;

	(void)state;
	need_dkim();
	assert_true(run_msg(fx.simple, CLIENT_IN, NULL, &std_msg, 0, &v));
	check_signed(&v, 2);
	c = tag(v.added[0].value, "c");
	assert_string_equal(c, "simple/simple");
	free(c);
	path = write_signed("simple.eml", &v, &std_msg);
	assert_int_equal(py_verify_file(path, 2), 0);
	unlink(path);
	free(path);
	verdict_clear(&v);

	assert_true(run_msg(fx.dual, CLIENT_IN, NULL, &std_msg, 0, &v));
	path = write_signed("relaxed.eml", &v, &std_msg);
	assert_int_equal(py_verify_file(path, 2), 0);
	unlink(path);
	free(path);
	verdict_clear(&v);
}

/* the verifier is real: a changed body or header fails */
static void
test_python_detects_tampering(void **state)
{
	static const char body2[] = "Hello Bob,\r\n\r\nthis is not the body "
	    "that was signed.\r\n";
	static const char *const hdrs2[] = {
		"Received", " from client.example.com by mx.example.com;\n"
		    "\tMon, 05 Jan 2026 10:00:00 +0000",
		"From", " Alice Example <alice@" DOMAIN ">",
		"To", " bob@example.net",
		"Subject", " a changed subject",
		"X-Folded-CRLF", " one\r\n two",
		"Date", " Mon, 05 Jan 2026 10:00:00 +0000",
		"Message-ID", " <test.1@" DOMAIN ">",
		"MIME-Version", " 1.0",
		"Content-Type", " text/plain; charset=us-ascii",
		NULL,
	};
	struct tmsg m = std_msg;
	struct verdict v;
	char *path;

	(void)state;
	need_dkim();
	assert_true(run_msg(fx.dual, CLIENT_IN, NULL, &std_msg, 0, &v));
	check_signed(&v, 2);

	m.body = body2;
	m.bodylen = sizeof body2 - 1;
	path = write_signed("tampered-body.eml", &v, &m);
	assert_int_equal(py_verify_file(path, 2), 1);
	unlink(path);
	free(path);

	m = with_hdrs(hdrs2);
	path = write_signed("tampered-subject.eml", &v, &m);
	assert_int_equal(py_verify_file(path, 2), 1);
	unlink(path);
	free(path);
	verdict_clear(&v);
}

/*
 * The command line path: an LF file read by message_read() into the
 * session, printed back with the signatures as `authmilter sign` does,
 * verified.
 */
static void
test_message_read_into_session(void **state)
{
	static const char text[] =
	    "From: Alice <alice@" DOMAIN ">\n"
	    "To: bob@example.net\n"
	    "Subject: read from a file,\n"
	    "  folded\n"
	    "Date: Mon, 05 Jan 2026 10:00:00 +0000\n"
	    "\n"
	    "Body line one.  \n"
	    "Body line two.\n";
	char err[256], *in, *out;
	struct message_sink sink;
	struct session *s;
	struct verdict v;
	bool crlf = true;
	FILE *fp;

	(void)state;
	need_dkim();
	in = tu_write_file(fx.dir, "in.eml", text, 0644);
	assert_non_null(in);
	fp = fopen(in, "r");
	assert_non_null(fp);
	s = session_new(fx.dual, fx.rt);
	session_connect(s, NULL, NULL);		/* local submission */
	session_mail(s, "alice@" DOMAIN, NULL);
	message_session_sink(s, &sink);
	assert_true(message_read(fp, &sink, &crlf, err, sizeof err));
	assert_false(crlf);
	fclose(fp);
	session_eom(s, &v);
	session_free(s);
	check_signed(&v, 2);

	out = tu_path(fx.dir, "out.eml");
	assert_non_null(out);
	fp = fopen(out, "w");
	assert_non_null(fp);
	for (size_t i = v.nadded; i-- > 0;) {
		/* LF line ends, as the CLI writes for an LF input */
		fprintf(fp, "%s: ", v.added[i].name);
		for (const char *p = v.added[i].value; *p; p++)
			if (*p != '\r')
				fputc(*p, fp);
		fputc('\n', fp);
	}
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(py_verify_file(out, 2), 0);
	unlink(out);
	unlink(in);
	free(out);
	free(in);
	verdict_clear(&v);
}

static void
test_action_names(void **state)
{
	(void)state;
	assert_string_equal(verdict_action_name(VERDICT_ACCEPT), "accept");
	assert_string_equal(verdict_action_name(VERDICT_TEMPFAIL), "tempfail");
	assert_string_equal(verdict_action_name(VERDICT_REJECT), "reject");
	assert_string_equal(verdict_action_name(VERDICT_QUARANTINE),
	    "quarantine");
}

/* test_session_counts_metrics - messages, signatures, in flight */
static void
test_session_counts_metrics(void **state)
{
	struct metrics *m = runtime_metrics(fx.rt);
	uint64_t out0, rsa0, ed0;
	struct session *s;
	struct verdict v;

	(void)state;
	out0 = metrics_get(&m->messages[METRICS_OUTBOUND][VERDICT_ACCEPT]);
	rsa0 = metrics_get(&m->signatures[METRICS_ALG_RSA_SHA256]);
	ed0 = metrics_get(&m->signatures[METRICS_ALG_ED25519_SHA256]);
	s = session_new(fx.dual, fx.rt);
	assert_int_equal(atomic_load(&m->connections), 1);
	session_connect(s, "x", CLIENT_IN);
	session_mail(s, "<alice@" DOMAIN ">", NULL);
	assert_int_equal(atomic_load(&m->in_flight), 1);
	assert_true(feed_msg(s, &std_msg, 0));
	session_eom(s, &v);
	assert_int_equal(atomic_load(&m->in_flight), 0);
	verdict_clear(&v);
	/* a message dropped by the MTA is no longer in flight */
	session_mail(s, "<alice@" DOMAIN ">", NULL);
	assert_int_equal(atomic_load(&m->in_flight), 1);
	session_abort(s);
	assert_int_equal(atomic_load(&m->in_flight), 0);
	session_mail(s, "<alice@" DOMAIN ">", NULL);
	session_free(s);
	assert_int_equal(atomic_load(&m->in_flight), 0);
	assert_int_equal(atomic_load(&m->connections), 0);
	assert_int_equal(metrics_get(&m->messages[METRICS_OUTBOUND]
	    [VERDICT_ACCEPT]), out0 + 1);
	assert_int_equal(metrics_get(&m->signatures[METRICS_ALG_RSA_SHA256]),
	    rsa0 + 1);
	assert_int_equal(metrics_get(
	    &m->signatures[METRICS_ALG_ED25519_SHA256]), ed0 + 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outbound_internal_signed),
		cmocka_unit_test(test_dual_signing),
		cmocka_unit_test(test_inbound_external),
		cmocka_unit_test(test_external_auth_signed),
		cmocka_unit_test(test_from_forms),
		cmocka_unit_test(test_no_keys_configured),
		cmocka_unit_test(test_no_from),
		cmocka_unit_test(test_several_from),
		cmocka_unit_test(test_from_two_addresses),
		cmocka_unit_test(test_on_bad_message),
		cmocka_unit_test(test_no_key_for_domain),
		cmocka_unit_test(test_max_headers),
		cmocka_unit_test(test_max_header_bytes),
		cmocka_unit_test(test_two_messages),
		cmocka_unit_test(test_abort_then_new),
		cmocka_unit_test(test_eoh_false_when_nothing_to_sign),
		cmocka_unit_test(test_session_holds_config),
		cmocka_unit_test(test_chunking_same_bh),
		cmocka_unit_test(test_bh_independent),
		cmocka_unit_test(test_bare_lf_body),
		cmocka_unit_test(test_python_verifies),
		cmocka_unit_test(test_python_detects_tampering),
		cmocka_unit_test(test_message_read_into_session),
		cmocka_unit_test(test_action_names),
		cmocka_unit_test(test_session_counts_metrics),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
