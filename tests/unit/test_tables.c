/*
 * test_tables.c - unit tests for signtable.c and keytable.c: the
 * SigningTable lookup order (plain and refile:), MultipleSignatures, "%"
 * entries, the KeyTable format, key loading with real keys made by
 * `openssl genpkey` at test time, and every kind of error, which must read
 * "file:line: reason".
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

#include "keys.h"
#include "keytable.h"
#include "signtable.h"
#include "testutil.h"
#include "util.h"

#define ERRLEN		1024
#define TEST_MIN_BITS	1024

/* What the group setup makes once: a directory and keys in it. */
static struct {
	char	*dir;
	char	*rsa;		/* RSA 1024, mode 0600 */
	char	*ed;		/* Ed25519, mode 0600 */
	char	*loose;		/* RSA 1024, mode 0644 */
	char	*junk;		/* not a key, mode 0600 */
	char	*missing;	/* a path that does not exist */
} fx;

/* genkey - make a private key at dir/name with openssl; path or NULL */
static char *
genkey(const char *name, const char *alg_opts, mode_t mode)
{
	return tu_genkey(fx.dir, name, alg_opts, NULL, mode);
}

/* setup_keys - the temporary directory and the keys the tests share */
static int
setup_keys(void **state)
{
	(void)state;
	fx.dir = tu_mkdtemp("test_tables");
	if (fx.dir == NULL)
		return -1;
	fx.rsa = genkey("rsa.pem",
	    "-algorithm RSA -pkeyopt rsa_keygen_bits:1024", 0600);
	fx.ed = genkey("ed.pem", "-algorithm ed25519", 0600);
	fx.loose = genkey("loose.pem",
	    "-algorithm RSA -pkeyopt rsa_keygen_bits:1024", 0644);
	fx.junk = tu_write_file(fx.dir, "junk.pem", "not a key\n", 0600);
	fx.missing = tu_path(fx.dir, "no-such-key.pem");
	if (fx.rsa == NULL || fx.ed == NULL || fx.loose == NULL ||
	    fx.junk == NULL || fx.missing == NULL)
		return -1;
	return 0;
}

/* teardown_keys - remove the directory and everything in it */
static int
teardown_keys(void **state)
{
	(void)state;
	tu_rmtree(fx.dir);
	free(fx.dir);
	free(fx.rsa);
	free(fx.ed);
	free(fx.loose);
	free(fx.junk);
	free(fx.missing);
	return 0;
}

/* write_table - a table file in the fixture directory (caller frees) */
static char *
write_table(const char *name, const char *text)
{
	char *path = tu_write_file(fx.dir, name, text, 0644);

	assert_non_null(path);
	return path;
}

/* st_load_text - load a SigningTable given as text; must succeed */
static struct signtable *
st_load_text(const char *prefix, const char *text)
{
	char err[ERRLEN] = "", spec[TU_MAX_PATH];
	char *path = write_table("SigningTable", text);
	struct signtable *st;

	snprintf(spec, sizeof spec, "%s%s", prefix, path);
	st = signtable_load(spec, err, sizeof err);
	if (st == NULL)
		fail_msg("load failed: %s", err);
	free(path);
	return st;
}

/* st_error - load text as a table that must fail; err gets the reason */
static void
st_error(const char *prefix, const char *text, char *err, char **path)
{
	char spec[TU_MAX_PATH];

	*path = write_table("BadSigningTable", text);
	snprintf(spec, sizeof spec, "%s%s", prefix, *path);
	err[0] = '\0';
	if (signtable_load(spec, err, ERRLEN) != NULL)
		fail_msg("table was accepted:\n%s", text);
}

/* assert_err - err is "path:line: ..." and contains what */
static void
assert_err(const char *err, const char *path, unsigned line, const char *what)
{
	char head[TU_MAX_PATH + 32];

	if (line)
		snprintf(head, sizeof head, "%s:%u: ", path, line);
	else
		snprintf(head, sizeof head, "%s: ", path);
	if (strncmp(err, head, strlen(head)) != 0)
		fail_msg("error \"%s\" does not start with \"%s\"", err, head);
	if (!tu_contains(err, what))
		fail_msg("error \"%s\" does not mention \"%s\"", err, what);
}

/* best - the keyname of the one match for local@domain, or NULL */
static const char *
best(const struct signtable *st, const char *local, const char *domain)
{
	const struct signentry *out[SIGNTABLE_MAX_MATCHES];
	size_t n = signtable_match(st, local, domain, false, out,
	    SIGNTABLE_MAX_MATCHES);

	assert_true(n <= 1);
	return n ? out[0]->keyname : NULL;
}

/* all - the keynames of every match, joined by spaces (caller frees) */
static char *
all(const struct signtable *st, const char *local, const char *domain,
    size_t max)
{
	const struct signentry *out[SIGNTABLE_MAX_MATCHES * 2];
	size_t n;
	struct buf b;

	assert_true(max <= SIGNTABLE_MAX_MATCHES * 2);
	n = signtable_match(st, local, domain, true, out, max);
	buf_init(&b);
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s%s", i ? " " : "", out[i]->keyname);
	return buf_steal(&b);
}

/* assert_all - every match of local@domain is exactly want */
static void
assert_all(const struct signtable *st, const char *local, const char *domain,
    const char *want)
{
	char *got = all(st, local, domain, SIGNTABLE_MAX_MATCHES);

	if (strcmp(got, want) != 0)
		fail_msg("%s@%s: got \"%s\", want \"%s\"", local, domain, got,
		    want);
	free(got);
}

/* The OpenDKIM lookup ladder, written least specific first. */
static const char plain_ladder[] =
    "*                    k_any\n"
    "user@*               k_user_any\n"
    ".com                 k_dot_com\n"
    ".example.com         k_dot_example\n"
    "user@.com            k_user_dot_com\n"
    "user@.example.com    k_user_dot_example\n"
    "a.example.com        k_host\n"
    "user@a.example.com   k_user_host\n";

/* plain table: the most specific entry wins, whatever the file order */
static void
test_st_plain_order(void **state)
{
	struct signtable *st = st_load_text("", plain_ladder);

	(void)state;
	assert_false(st->wildcard);
	assert_int_equal(st->count, 8);
	assert_string_equal(best(st, "user", "a.example.com"), "k_user_host");
	assert_string_equal(best(st, "USER", "a.example.com"), "k_user_host");
	assert_string_equal(best(st, "other", "a.example.com"), "k_host");
	assert_string_equal(best(st, "user", "b.example.com"),
	    "k_user_dot_example");
	assert_string_equal(best(st, "user", "x.b.example.com"),
	    "k_user_dot_example");
	assert_string_equal(best(st, "other", "b.example.com"),
	    "k_dot_example");
	/* a parent never matches the domain itself */
	assert_string_equal(best(st, "user", "example.com"), "k_user_dot_com");
	assert_string_equal(best(st, "other", "example.com"), "k_dot_com");
	assert_string_equal(best(st, "user", "example.org"), "k_user_any");
	assert_string_equal(best(st, "other", "example.org"), "k_any");
	/* "userx" and "xuser" are not "user" */
	assert_string_equal(best(st, "userx", "example.org"), "k_any");
	assert_string_equal(best(st, "xuser", "example.org"), "k_any");
	signtable_free(st);
}

/* plain table: user@.parent for every parent comes before any .parent */
static void
test_st_plain_user_parents_first(void **state)
{
	struct signtable *st = st_load_text("file:",
	    ".example.com   k_parent\n"
	    "user@.com      k_user_far\n");

	(void)state;
	assert_string_equal(best(st, "user", "a.example.com"), "k_user_far");
	assert_string_equal(best(st, "other", "a.example.com"), "k_parent");
	signtable_free(st);

	/* nearer parents before farther ones within a class */
	st = st_load_text("",
	    ".com           k_far\n"
	    ".example.com   k_near\n"
	    ".a.example.com k_nearest\n");
	assert_string_equal(best(st, "u", "b.a.example.com"), "k_nearest");
	assert_string_equal(best(st, "u", "a.example.com"), "k_near");
	assert_string_equal(best(st, "u", "example.com"), "k_far");
	assert_null(best(st, "u", "com"));
	assert_null(best(st, "u", "example.org"));
	signtable_free(st);
}

/* plain table: among equal patterns the first in the file wins */
static void
test_st_plain_first_of_equals(void **state)
{
	struct signtable *st = st_load_text("",
	    "example.com  k_first\n"
	    "EXAMPLE.COM  k_second\n");

	(void)state;
	assert_string_equal(st->entries[1].pattern, "example.com");
	assert_string_equal(best(st, "u", "example.com"), "k_first");
	assert_all(st, "u", "example.com", "k_first k_second");
	signtable_free(st);
}

/* plain table, MultipleSignatures: every match, in file order */
static void
test_st_plain_multiple(void **state)
{
	struct signtable *st = st_load_text("", plain_ladder);
	char *got;

	(void)state;
	assert_all(st, "user", "a.example.com", "k_any k_user_any k_dot_com "
	    "k_dot_example k_user_dot_com k_user_dot_example k_host "
	    "k_user_host");
	assert_all(st, "other", "b.example.com",
	    "k_any k_dot_com k_dot_example");
	assert_all(st, "other", "example.org", "k_any");
	/* the caller's max bounds the answer */
	got = all(st, "user", "a.example.com", 2);
	assert_string_equal(got, "k_any k_user_any");
	free(got);
	signtable_free(st);
}

/* dual signing: two lines for one domain give two keys */
static void
test_st_dual_signing(void **state)
{
	struct signtable *st = st_load_text("",
	    "# RSA and Ed25519 for the same domain\n"
	    "example.com   rsa-example\n"
	    "example.com   ed-example\n"
	    "example.net   other\n");

	(void)state;
	assert_all(st, "anyone", "example.com", "rsa-example ed-example");
	assert_string_equal(best(st, "anyone", "example.com"), "rsa-example");
	assert_all(st, "anyone", "example.org", "");
	signtable_free(st);
}

/* refile: wildcards in file order, not by specificity */
static void
test_st_refile_order(void **state)
{
	struct signtable *st = st_load_text("refile:",
	    "*@example.com        k_domain\n"
	    "joe@example.com      k_joe\n"
	    "*@*.example.com      k_sub\n"
	    "*                    k_any\n");

	(void)state;
	assert_true(st->wildcard);
	assert_string_equal(best(st, "joe", "example.com"), "k_domain");
	assert_string_equal(best(st, "JOE", "example.com"), "k_domain");
	assert_string_equal(best(st, "ann", "a.example.com"), "k_sub");
	assert_string_equal(best(st, "ann", "example.org"), "k_any");
	/* "*@example.com" does not reach into a look-alike domain */
	assert_string_equal(best(st, "ann", "badexample.com"), "k_any");
	assert_all(st, "joe", "example.com", "k_domain k_joe k_any");
	assert_all(st, "ann", "a.example.com", "k_sub k_any");
	signtable_free(st);
}

/* refile: no catch-all means no match */
static void
test_st_refile_no_match(void **state)
{
	struct signtable *st = st_load_text("refile:",
	    "*@example.com   k1\n");

	(void)state;
	assert_null(best(st, "joe", "example.org"));
	assert_null(best(st, "joe", "sub.example.com"));
	assert_all(st, "joe", "example.org", "");
	signtable_free(st);
}

/* no more than SIGNTABLE_MAX_MATCHES, even if the caller asks for more */
static void
test_st_max_matches(void **state)
{
	struct buf text;
	struct signtable *st;
	char *got;
	size_t words = 1;

	(void)state;
	buf_init(&text);
	for (int i = 0; i < SIGNTABLE_MAX_MATCHES + 3; i++)
		buf_printf(&text, "*@example.com k%d\n", i);
	st = st_load_text("refile:", text.data);
	got = all(st, "a", "example.com", SIGNTABLE_MAX_MATCHES * 2);
	for (const char *p = got; *p; p++)
		words += *p == ' ';
	assert_int_equal(words, SIGNTABLE_MAX_MATCHES);
	assert_true(strncmp(got, "k0 k1 ", 6) == 0);
	free(got);
	signtable_free(st);
	buf_free(&text);
}

/* "%" as keyname and in the signer is kept for the caller to expand */
static void
test_st_percent(void **state)
{
	struct signtable *st = st_load_text("refile:",
	    "*@example.com   %   @%\n"
	    "*@example.net   key-net   %\n"
	    "*               %\n");
	const struct signentry *out[SIGNTABLE_MAX_MATCHES];

	(void)state;
	assert_int_equal(signtable_match(st, "u", "example.com", false, out,
	    SIGNTABLE_MAX_MATCHES), 1);
	assert_string_equal(out[0]->keyname, "%");
	assert_string_equal(out[0]->signer, "@%");
	assert_int_equal(out[0]->line, 1);
	assert_int_equal(signtable_match(st, "u", "example.net", false, out,
	    SIGNTABLE_MAX_MATCHES), 1);
	assert_string_equal(out[0]->keyname, "key-net");
	assert_string_equal(out[0]->signer, "%");
	assert_int_equal(signtable_match(st, "u", "example.org", false, out,
	    SIGNTABLE_MAX_MATCHES), 1);
	assert_string_equal(out[0]->keyname, "%");
	assert_null(out[0]->signer);
	assert_int_equal(out[0]->line, 3);
	signtable_free(st);
}

/* comments, blank lines, CRLF, '#' inside a field, line numbers */
static void
test_st_format(void **state)
{
	struct signtable *st = st_load_text("",
	    "# a comment\n"
	    "\n"
	    "   \t  \n"
	    "Joe@Example.COM  k1  joe@example.com   # why this key\n"
	    "\tex#ample.com   k2\r\n"
	    "   # indented comment\n"
	    "last.example     k3");	/* no final newline */

	(void)state;
	assert_int_equal(st->count, 3);
	assert_string_equal(st->entries[0].pattern, "joe@example.com");
	assert_string_equal(st->entries[0].keyname, "k1");
	assert_string_equal(st->entries[0].signer, "joe@example.com");
	assert_int_equal(st->entries[0].line, 4);
	assert_string_equal(st->entries[1].pattern, "ex#ample.com");
	assert_string_equal(st->entries[1].keyname, "k2");
	assert_null(st->entries[1].signer);
	assert_int_equal(st->entries[1].line, 5);
	assert_string_equal(st->entries[2].keyname, "k3");
	assert_int_equal(st->entries[2].line, 7);
	signtable_free(st);
}

/* an empty file is an empty table; it matches nothing */
static void
test_st_empty(void **state)
{
	struct signtable *st = st_load_text("", "# nothing yet\n");

	(void)state;
	assert_int_equal(st->count, 0);
	assert_null(best(st, "a", "example.com"));
	signtable_free(st);
}

/* each kind of line error names the file and the line */
static void
test_st_line_errors(void **state)
{
	char err[ERRLEN], *path;

	(void)state;
	st_error("", "example.com k1\nexample.net\n", err, &path);
	assert_err(err, path, 2, "missing key name");
	free(path);

	st_error("", "example.com k1 signer extra\n", err, &path);
	assert_err(err, path, 1, "too many fields");
	free(path);

	st_error("file:", "# ok\nexample.com k\n*@example.com k1\n", err,
	    &path);
	assert_err(err, path, 3, "refile:");
	free(path);

	st_error("", "ex*ample.com k1\n", err, &path);
	assert_err(err, path, 1, "wildcard");
	free(path);

	st_error("", "*.example.com k1\n", err, &path);
	assert_err(err, path, 1, "wildcard");
	free(path);

	st_error("", "@* k1\n", err, &path);
	assert_err(err, path, 1, "wildcard");
	free(path);
}

/* a line longer than SIGNTABLE_MAX_LINE is refused, not split */
static void
test_st_long_line(void **state)
{
	char err[ERRLEN], *path;
	size_t n = SIGNTABLE_MAX_LINE + 10;
	char *text = malloc(n + 32);

	(void)state;
	assert_non_null(text);
	strcpy(text, "example.com k1\n");
	memset(text + 15, 'x', n);
	strcpy(text + 15 + n, " k2\n");
	st_error("", text, err, &path);
	assert_err(err, path, 2, "too long");
	free(path);
	free(text);
}

/* exactly SIGNTABLE_MAX_LINE bytes is still fine */
static void
test_st_max_line(void **state)
{
	size_t n = SIGNTABLE_MAX_LINE;
	char *text = malloc(n + 2);
	struct signtable *st;

	(void)state;
	assert_non_null(text);
	memset(text, 'x', n);
	memcpy(text, "a.example k", 11);
	text[n] = '\n';
	text[n + 1] = '\0';
	st = st_load_text("", text);
	assert_int_equal(st->count, 1);
	assert_int_equal(strlen(st->entries[0].keyname), n - 10);
	signtable_free(st);
	free(text);
}

/* the file itself: missing, unsupported type, no name, a directory */
static void
test_st_file_errors(void **state)
{
	char err[ERRLEN], spec[TU_MAX_PATH];

	(void)state;
	assert_null(signtable_load(fx.missing, err, sizeof err));
	assert_err(err, fx.missing, 0, "cannot open");
	snprintf(spec, sizeof spec, "refile:%s", fx.missing);
	assert_null(signtable_load(spec, err, sizeof err));
	assert_err(err, fx.missing, 0, "No such file");
	assert_null(signtable_load("db:/etc/x.db", err, sizeof err));
	assert_true(tu_contains(err, "unsupported table type \"db\""));
	assert_null(signtable_load("dsn:mysql://u@h/db", err, sizeof err));
	assert_true(tu_contains(err, "unsupported"));
	assert_null(signtable_load("refile:", err, sizeof err));
	assert_true(tu_contains(err, "missing file name"));
	assert_null(signtable_load(fx.dir, err, sizeof err));
	assert_true(tu_contains(err, fx.dir));
}

/* SIGNTABLE_MAX_ENTRIES entries load; one more is refused */
static void
test_st_max_entries(void **state)
{
	struct buf text;
	struct signtable *st;
	char err[ERRLEN], *path;

	(void)state;
	buf_init(&text);
	for (int i = 0; i < SIGNTABLE_MAX_ENTRIES; i++)
		buf_printf(&text, "h%d.example k\n", i);
	st = st_load_text("", text.data);
	assert_int_equal(st->count, SIGNTABLE_MAX_ENTRIES);
	assert_string_equal(best(st, "u", "h99999.example"), "k");
	signtable_free(st);
	buf_puts(&text, "one.more k\n");
	st_error("", text.data, err, &path);
	assert_err(err, path, SIGNTABLE_MAX_ENTRIES + 1, "too many entries");
	free(path);
	buf_free(&text);
}

/* signtable_add and signtable_match called directly, odd arguments */
static void
test_st_api(void **state)
{
	struct signtable *st = signtable_new(false);
	const struct signentry *out[SIGNTABLE_MAX_MATCHES];

	(void)state;
	assert_false(signtable_add(st, "", "k", NULL, 1));
	assert_false(signtable_add(st, "example.com", "", NULL, 1));
	assert_false(signtable_add(st, NULL, "k", NULL, 1));
	assert_true(signtable_add(st, "Example.COM", "k", "", 7));
	assert_null(st->entries[0].signer);	/* empty signer: none */
	assert_string_equal(st->entries[0].pattern, "example.com");
	assert_int_equal(signtable_match(st, "u", "example.com", false, out,
	    0), 0);
	assert_int_equal(signtable_match(st, NULL, "example.com", false, out,
	    1), 1);
	assert_int_equal(signtable_match(st, "u", NULL, false, out, 1), 0);
	assert_int_equal(signtable_match(NULL, "u", "example.com", false, out,
	    1), 0);
	signtable_free(st);
	signtable_free(NULL);
}

/* kt_load_text - load a KeyTable given as text into kt; err on failure */
static bool
kt_load_text(struct keytable *kt, const char *text, bool safe,
    unsigned min_bits, char *err, char **path)
{
	*path = write_table("KeyTable", text);
	err[0] = '\0';
	return keytable_load(kt, *path, safe, min_bits, err, ERRLEN);
}

/* kt_error - text must fail to load; check "file:line: what" */
static void
kt_error(const char *text, unsigned line, const char *what)
{
	struct keytable *kt = keytable_new();
	char err[ERRLEN], *path;

	if (kt_load_text(kt, text, true, TEST_MIN_BITS, err, &path))
		fail_msg("KeyTable accepted:\n%s", text);
	assert_err(err, path, line, what);
	assert_int_equal(kt->count, 0);
	free(path);
	keytable_free(kt);
}

/* a good KeyTable: RSA and Ed25519, comments, "%" domain */
static void
test_kt_good(void **state)
{
	struct keytable *kt = keytable_new();
	const struct keyentry *e;
	char err[ERRLEN], *path, text[4 * TU_MAX_PATH];

	(void)state;
	snprintf(text, sizeof text,
	    "# the keys\n"
	    "\n"
	    "rsa-example   Example.COM:sel2024:%s\n"
	    "ed-example    example.com:ed2024:%s   # Ed25519\n"
	    "\tany-domain  %%:default.sub:%s\r\n",
	    fx.rsa, fx.ed, fx.rsa);
	if (!kt_load_text(kt, text, true, TEST_MIN_BITS, err, &path))
		fail_msg("%s", err);
	assert_int_equal(kt->count, 3);

	e = keytable_find(kt, "rsa-example");
	assert_non_null(e);
	assert_string_equal(e->domain, "example.com");
	assert_string_equal(e->selector, "sel2024");
	assert_non_null(e->key);
	assert_int_equal(e->key->alg, KEY_ALG_RSA);
	assert_int_equal(e->key->bits, 1024);
	assert_string_equal(e->key->path, fx.rsa);

	e = keytable_find(kt, "ed-example");
	assert_non_null(e);
	assert_int_equal(e->key->alg, KEY_ALG_ED25519);
	assert_string_equal(e->selector, "ed2024");

	e = keytable_find(kt, "any-domain");
	assert_non_null(e);
	assert_string_equal(e->domain, "%");
	assert_string_equal(e->selector, "default.sub");

	/* names are exact */
	assert_null(keytable_find(kt, "RSA-example"));
	assert_null(keytable_find(kt, "rsa"));
	assert_null(keytable_find(kt, NULL));
	assert_null(keytable_find(NULL, "rsa-example"));
	free(path);
	keytable_free(kt);
}

/* "file:" prefix; relative "./" path; a path containing ':' */
static void
test_kt_prefix_and_paths(void **state)
{
	struct keytable *kt = keytable_new();
	char err[ERRLEN], spec[TU_MAX_PATH], text[2 * TU_MAX_PATH];
	char cwd[TU_MAX_PATH], *path, *colon;

	(void)state;
	/* a key whose path has a colon in it */
	colon = tu_path(fx.dir, "odd:name.pem");
	assert_non_null(colon);
	assert_int_equal(tu_run("cp -p '%s' '%s'", fx.rsa, colon), 0);
	assert_non_null(getcwd(cwd, sizeof cwd));
	assert_int_equal(chdir(fx.dir), 0);
	snprintf(text, sizeof text, "k1 example.com:s1:./ed.pem\n"
	    "k2 example.com:s2:%s\n", colon);
	path = write_table("KeyTable2", text);
	snprintf(spec, sizeof spec, "file:%s", path);
	if (!keytable_load(kt, spec, true, TEST_MIN_BITS, err, sizeof err))
		fail_msg("%s", err);
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(kt->count, 2);
	assert_int_equal(keytable_find(kt, "k1")->key->alg, KEY_ALG_ED25519);
	assert_string_equal(keytable_find(kt, "k2")->key->path, colon);
	free(colon);
	free(path);
	keytable_free(kt);
}

/* a key readable by others is refused: file, mode and fix are named */
static void
test_kt_unsafe_key(void **state)
{
	struct keytable *kt = keytable_new();
	char err[ERRLEN], *path, text[2 * TU_MAX_PATH];

	(void)state;
	snprintf(text, sizeof text, "# first line\nk example.com:s:%s\n",
	    fx.loose);
	assert_false(kt_load_text(kt, text, true, TEST_MIN_BITS, err, &path));
	assert_err(err, path, 2, fx.loose);
	assert_true(tu_contains(err, "0644"));
	assert_true(tu_contains(err, "chmod"));
	assert_int_equal(kt->count, 0);
	free(path);

	/* with RequireSafeKeys off the same key loads */
	assert_true(kt_load_text(kt, text, false, TEST_MIN_BITS, err, &path));
	assert_int_equal(kt->count, 1);
	free(path);
	keytable_free(kt);
}

/* keys_load()'s own reasons come through after "file:line:" */
static void
test_kt_key_errors(void **state)
{
	char text[2 * TU_MAX_PATH];
	struct keytable *kt = keytable_new();
	char err[ERRLEN], *path;

	(void)state;
	snprintf(text, sizeof text, "k example.com:s:%s\n", fx.missing);
	kt_error(text, 1, fx.missing);
	snprintf(text, sizeof text, "k example.com:s:%s\n", fx.junk);
	kt_error(text, 1, "not a PEM private key");

	/* a 1024-bit key is too weak when 2048 is the minimum */
	snprintf(text, sizeof text, "k example.com:s:%s\n", fx.rsa);
	assert_false(kt_load_text(kt, text, true, 2048, err, &path));
	assert_err(err, path, 1, fx.rsa);
	assert_true(tu_contains(err, "1024"));
	free(path);
	keytable_free(kt);
}

/* inline key data is refused with a clear message */
static void
test_kt_inline_key(void **state)
{
	(void)state;
	kt_error("k example.com:s:MIICdgIBADANBgkqhkiG9w0BAQEFAASCAmAwggJc\n",
	    1, "inline key data");
	kt_error("k example.com:s:-----BEGIN\n", 1, "inline key data");
	/* a relative name is not key data, but is still refused */
	kt_error("k example.com:s:keys/relative.pem\n", 1, "absolute path");
	kt_error("k example.com:s:rsa.pem\n", 1, "absolute path");
}

/* malformed lines, each with its reason and line number */
static void
test_kt_line_errors(void **state)
{
	char text[2 * TU_MAX_PATH];

	(void)state;
	kt_error("# c\nlonely\n", 2, "missing domain:selector:keyfile");
	kt_error("k example.com:sel\n", 1, "expected domain:selector:");
	kt_error("k example.com\n", 1, "expected domain:selector:");
	kt_error("k example.com:s:\n", 1, "missing key file");
	kt_error("k example.com::/x\n", 1, "invalid selector");
	kt_error("k example.com:se$l:/x\n", 1, "invalid selector");
	kt_error("k example.com:.s:/x\n", 1, "invalid selector");
	kt_error("k :s:/x\n", 1, "invalid domain");
	kt_error("k exa$mple.com:s:/x\n", 1, "invalid domain");
	kt_error("k example..com:s:/x\n", 1, "invalid domain");
	kt_error("k example.com.:s:/x\n", 1, "invalid domain");
	kt_error("k %x:s:/x\n", 1, "invalid domain");
	kt_error("k example.com:s:/x extra\n", 1, "too many fields");
	snprintf(text, sizeof text, "k example.com:s:%s\n"
	    "k example.net:s:%s\n", fx.rsa, fx.ed);
	kt_error(text, 2, "duplicate key name \"k\"");
}

/* a label longer than 63 or a name longer than 253 is refused */
static void
test_kt_name_bounds(void **state)
{
	char text[1024], label[70], longname[300];

	(void)state;
	memset(label, 'a', 64);
	label[64] = '\0';
	snprintf(text, sizeof text, "k %s.com:s:/x\n", label);
	kt_error(text, 1, "invalid domain");
	snprintf(text, sizeof text, "k example.com:%s:/x\n", label);
	kt_error(text, 1, "invalid selector");
	for (size_t i = 0; i < 254; i++)
		longname[i] = i % 2 ? '.' : 'a';
	longname[254] = 'a';
	longname[255] = '\0';
	snprintf(text, sizeof text, "k %s:s:/x\n", longname);
	kt_error(text, 1, "invalid domain");
}

/* a failed load leaves what an earlier load put in the table */
static void
test_kt_rollback(void **state)
{
	struct keytable *kt = keytable_new();
	char err[ERRLEN], *path, text[3 * TU_MAX_PATH];

	(void)state;
	snprintf(text, sizeof text, "first example.com:s:%s\n", fx.rsa);
	assert_true(kt_load_text(kt, text, true, TEST_MIN_BITS, err, &path));
	free(path);
	snprintf(text, sizeof text, "second example.com:s:%s\n"
	    "third example.com:s:%s\n", fx.ed, fx.loose);
	assert_false(kt_load_text(kt, text, true, TEST_MIN_BITS, err, &path));
	assert_err(err, path, 2, "0644");
	assert_int_equal(kt->count, 1);
	assert_non_null(keytable_find(kt, "first"));
	assert_null(keytable_find(kt, "second"));
	free(path);
	/* a name from the earlier load is a duplicate in the later one */
	snprintf(text, sizeof text, "first example.com:s:%s\n", fx.ed);
	assert_false(kt_load_text(kt, text, true, TEST_MIN_BITS, err, &path));
	assert_err(err, path, 1, "duplicate");
	free(path);
	keytable_free(kt);
}

/* the table file itself: missing, unsupported type, too long a line */
static void
test_kt_file_errors(void **state)
{
	struct keytable *kt = keytable_new();
	char err[ERRLEN], *text;
	size_t n = KEYTABLE_MAX_LINE + 1;

	(void)state;
	assert_false(keytable_load(kt, fx.missing, true, TEST_MIN_BITS, err,
	    sizeof err));
	assert_err(err, fx.missing, 0, "cannot open");
	assert_false(keytable_load(kt, "refile:/etc/KeyTable", true,
	    TEST_MIN_BITS, err, sizeof err));
	assert_true(tu_contains(err, "unsupported table type \"refile\""));
	assert_false(keytable_load(kt, "file:", true, TEST_MIN_BITS, err,
	    sizeof err));
	assert_true(tu_contains(err, "missing file name"));
	keytable_free(kt);

	text = malloc(n + 2);
	assert_non_null(text);
	memset(text, 'k', n);
	text[n] = '\n';
	text[n + 1] = '\0';
	kt_error(text, 1, "too long");
	free(text);
}

/* keytable_add takes the key in every case; duplicates are refused */
static void
test_kt_add(void **state)
{
	struct keytable *kt = keytable_new();
	char err[ERRLEN];
	struct privkey *k1, *k2, *k3;

	(void)state;
	k1 = keys_load(fx.rsa, true, TEST_MIN_BITS, err, sizeof err);
	k2 = keys_load(fx.ed, true, TEST_MIN_BITS, err, sizeof err);
	k3 = keys_load(fx.ed, true, TEST_MIN_BITS, err, sizeof err);
	assert_non_null(k1);
	assert_non_null(k2);
	assert_non_null(k3);
	assert_true(keytable_add(kt, "a", "Example.ORG", "s", k1));
	assert_string_equal(keytable_find(kt, "a")->domain, "example.org");
	assert_false(keytable_add(kt, "a", "example.net", "s", k2));
	assert_false(keytable_add(kt, "", "example.net", "s", k3));
	assert_false(keytable_add(kt, "b", "example.net", "s", NULL));
	assert_int_equal(kt->count, 1);
	keytable_free(kt);	/* ASan: k2 and k3 were freed by add */
	keytable_free(NULL);
}

/* many entries: the table grows and finds each of them */
static void
test_kt_many(void **state)
{
	struct keytable *kt = keytable_new();
	struct buf text;
	char err[ERRLEN], *path, name[32];

	(void)state;
	buf_init(&text);
	for (int i = 0; i < 100; i++)
		buf_printf(&text, "key%d d%d.example:s%d:%s\n", i, i, i,
		    i % 2 ? fx.rsa : fx.ed);
	if (!kt_load_text(kt, text.data, true, TEST_MIN_BITS, err, &path))
		fail_msg("%s", err);
	assert_int_equal(kt->count, 100);
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof name, "key%d", i);
		assert_non_null(keytable_find(kt, name));
	}
	free(path);
	buf_free(&text);
	keytable_free(kt);
}

/* the two tables together: a SigningTable keyname names a KeyTable entry */
static void
test_tables_together(void **state)
{
	struct keytable *kt = keytable_new();
	struct signtable *st;
	const struct signentry *out[SIGNTABLE_MAX_MATCHES];
	char err[ERRLEN], *path, text[3 * TU_MAX_PATH];
	size_t n;

	(void)state;
	snprintf(text, sizeof text, "rsa example.com:r2024:%s\n"
	    "ed example.com:e2024:%s\n", fx.rsa, fx.ed);
	if (!kt_load_text(kt, text, true, TEST_MIN_BITS, err, &path))
		fail_msg("%s", err);
	free(path);
	st = st_load_text("refile:", "*@example.com rsa\n"
	    "*@example.com ed\n");
	n = signtable_match(st, "joe", "example.com", true, out,
	    SIGNTABLE_MAX_MATCHES);
	assert_int_equal(n, 2);
	assert_int_equal(keytable_find(kt, out[0]->keyname)->key->alg,
	    KEY_ALG_RSA);
	assert_int_equal(keytable_find(kt, out[1]->keyname)->key->alg,
	    KEY_ALG_ED25519);
	signtable_free(st);
	keytable_free(kt);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_st_plain_order),
		cmocka_unit_test(test_st_plain_user_parents_first),
		cmocka_unit_test(test_st_plain_first_of_equals),
		cmocka_unit_test(test_st_plain_multiple),
		cmocka_unit_test(test_st_dual_signing),
		cmocka_unit_test(test_st_refile_order),
		cmocka_unit_test(test_st_refile_no_match),
		cmocka_unit_test(test_st_max_matches),
		cmocka_unit_test(test_st_percent),
		cmocka_unit_test(test_st_format),
		cmocka_unit_test(test_st_empty),
		cmocka_unit_test(test_st_line_errors),
		cmocka_unit_test(test_st_long_line),
		cmocka_unit_test(test_st_max_line),
		cmocka_unit_test(test_st_file_errors),
		cmocka_unit_test(test_st_max_entries),
		cmocka_unit_test(test_st_api),
		cmocka_unit_test(test_kt_good),
		cmocka_unit_test(test_kt_prefix_and_paths),
		cmocka_unit_test(test_kt_unsafe_key),
		cmocka_unit_test(test_kt_key_errors),
		cmocka_unit_test(test_kt_inline_key),
		cmocka_unit_test(test_kt_line_errors),
		cmocka_unit_test(test_kt_name_bounds),
		cmocka_unit_test(test_kt_rollback),
		cmocka_unit_test(test_kt_file_errors),
		cmocka_unit_test(test_kt_add),
		cmocka_unit_test(test_kt_many),
		cmocka_unit_test(test_tables_together),
	};

	return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
