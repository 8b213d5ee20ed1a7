/*
 * test_config.c - unit tests for config.c: loading authmilter.conf(5)
 * files that are good (defaults, every key, case-insensitive keys,
 * comments, booleans) and bad (each kind of error must read
 * "file:line: reason" with the right file and line), with real keys made
 * by `openssl genpkey` at test time; and the reference-counted current
 * configuration (config_ref, config_unref, config_current,
 * config_install).
 */
#include "buildconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <opendkim/dkim.h>

#include "config.h"
#include "hdrlist.h"
#include "keys.h"
#include "keytable.h"
#include "netlist.h"
#include "signtable.h"
#include "testutil.h"

#define ERRLEN		CONFIG_ERRLEN
#define CONF_NAME	"authmilter.conf"

/* What the group setup makes once: a directory and keys in it. */
static struct {
	char	*dir;
	char	*rsa;		/* RSA 2048, mode 0600 */
	char	*rsa512;	/* RSA 512, mode 0600 */
	char	*ed;		/* Ed25519, mode 0600 */
	char	*loose;		/* RSA 2048, mode 0644 */
	char	*conf;		/* where the tests write their config */
} fx;

/* genkey - make a private key at dir/name with openssl; path or NULL */
static char *
genkey(const char *name, const char *alg_opts, const char *fallback,
    mode_t mode)
{
	return tu_genkey(fx.dir, name, alg_opts, fallback, mode);
}

static int
setup_keys(void **state)
{
	(void)state;
	fx.dir = tu_mkdtemp("test_config");
	if (fx.dir == NULL)
		return -1;
	fx.rsa = genkey("rsa.pem",
	    "-algorithm RSA -pkeyopt rsa_keygen_bits:2048", NULL, 0600);
	fx.rsa512 = genkey("rsa512.pem",
	    "-algorithm RSA -pkeyopt rsa_keygen_bits:512", "genrsa 512", 0600);
	fx.ed = genkey("ed.pem", "-algorithm ed25519", NULL, 0600);
	fx.loose = tu_path(fx.dir, "loose.pem");
	fx.conf = tu_path(fx.dir, CONF_NAME);
	if (fx.rsa == NULL || fx.rsa512 == NULL || fx.ed == NULL ||
	    fx.loose == NULL || fx.conf == NULL)
		return -1;
	if (tu_run("cp '%s' '%s' && chmod 0644 '%s'", fx.rsa, fx.loose,
	    fx.loose) != 0)
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
	free(fx.rsa512);
	free(fx.ed);
	free(fx.loose);
	free(fx.conf);
	return 0;
}

/* vformat - printf into a new string */
static char *
vformat(const char *fmt, va_list ap)
{
	char *s = NULL;

	assert_true(vasprintf(&s, fmt, ap) >= 0);
	return s;
}

/* write_named - write text as dir/name (mode 0644); returns the path */
static char *
write_named(const char *name, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static char *
write_named(const char *name, const char *fmt, ...)
{
	va_list ap;
	char *text, *path;

	va_start(ap, fmt);
	text = vformat(fmt, ap);
	va_end(ap);
	path = tu_write_file(fx.dir, name, text, 0644);
	free(text);
	assert_non_null(path);
	return path;
}

/* vload - write the config text to fx.conf and load it */
static struct config *
vload(char *err, const char *fmt, va_list ap)
{
	char *text = vformat(fmt, ap), *path;
	struct config *cfg;

	path = tu_write_file(fx.dir, CONF_NAME, text, 0644);
	free(text);
	assert_non_null(path);
	free(path);
	err[0] = '\0';
	cfg = config_load(fx.conf, err, ERRLEN);
	return cfg;
}

/* load_ok_or_null - write and load; the error (if any) in err */
static struct config *
load_ok_or_null(char *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static struct config *
load_ok_or_null(char *err, const char *fmt, ...)
{
	struct config *cfg;
	va_list ap;

	va_start(ap, fmt);
	cfg = vload(err, fmt, ap);
	va_end(ap);
	return cfg;
}

/* load_ok - a configuration that must load */
static struct config *
load_ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static struct config *
load_ok(const char *fmt, ...)
{
	char err[ERRLEN];
	struct config *cfg;
	va_list ap;

	va_start(ap, fmt);
	cfg = vload(err, fmt, ap);
	va_end(ap);
	if (cfg == NULL)
		fail_msg("config_load failed: %s", err);
	assert_int_equal(cfg->refs, 1);
	assert_string_equal(cfg->path, fx.conf);
	return cfg;
}

/*
 * check_err - err must begin with "file:line: " ("file: " for line 0) and
 * contain needle.
 */
static void
check_err(const char *err, const char *file, unsigned line,
    const char *needle)
{
	char prefix[TU_MAX_PATH + 32];

	if (line)
		snprintf(prefix, sizeof prefix, "%s:%u: ", file, line);
	else
		snprintf(prefix, sizeof prefix, "%s: ", file);
	if (strncmp(err, prefix, strlen(prefix)) != 0)
		fail_msg("error \"%s\" does not begin with \"%s\"", err, prefix);
	if (!tu_contains(err + strlen(prefix), needle))
		fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
}

/*
 * load_fails_in - a configuration that must fail, with the error in file
 * (NULL: the configuration file itself) at line, mentioning needle.
 */
static void
load_fails_in(const char *file, unsigned line, const char *needle,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
load_fails_in(const char *file, unsigned line, const char *needle,
    const char *fmt, ...)
{
	char err[ERRLEN];
	struct config *cfg;
	va_list ap;

	va_start(ap, fmt);
	cfg = vload(err, fmt, ap);
	va_end(ap);
	if (cfg != NULL) {
		config_unref(cfg);
		fail_msg("config loaded; expected an error with \"%s\"",
		    needle);
	}
	check_err(err, file ? file : fx.conf, line, needle);
}

#define load_fails(line, needle, ...) \
	load_fails_in(NULL, (line), (needle), __VA_ARGS__)

/* --- good files --------------------------------------------------------- */

/* an empty file gives every default and no keys */
static void
test_empty_defaults(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = load_ok("%s", "");
	assert_string_equal(cfg->socket, CONFIG_DEFAULT_SOCKET);
	assert_int_equal(cfg->umask, 007);
	assert_false(cfg->umask_set);
	assert_null(cfg->userid);
	assert_null(cfg->pidfile);
	assert_true(cfg->syslog);
	assert_int_equal(cfg->syslog_facility, LOG_MAIL);
	assert_false(cfg->log_why);
	assert_int_equal(cfg->shutdown_timeout, CONFIG_DEFAULT_SHUTDOWN_SECS);
	assert_null(cfg->authserv_id);
	assert_non_null(cfg->internal_hosts);
	assert_true(netlist_match_str(cfg->internal_hosts, "127.0.0.1"));
	assert_true(netlist_match_str(cfg->internal_hosts, "127.9.8.7"));
	assert_true(netlist_match_str(cfg->internal_hosts, "::1"));
	assert_false(netlist_match_str(cfg->internal_hosts, "192.0.2.1"));
	assert_non_null(cfg->keytable);
	assert_int_equal(cfg->keytable->count, 0);
	assert_null(cfg->signtable);
	assert_false(cfg->multiple_signatures);
	assert_int_equal(cfg->hdr_canon, DKIM_CANON_RELAXED);
	assert_int_equal(cfg->body_canon, DKIM_CANON_RELAXED);
	assert_true(hdrlist_contains(&cfg->sign_headers, "From"));
	assert_true(hdrlist_contains(&cfg->sign_headers, "Subject"));
	assert_true(hdrlist_contains(&cfg->oversign_headers, "From"));
	assert_true(cfg->require_safe_keys);
	assert_int_equal(cfg->minimum_key_bits, CONFIG_DEFAULT_MIN_KEY_BITS);
	assert_int_equal(cfg->max_headers, CONFIG_DEFAULT_MAX_HEADERS);
	assert_int_equal(cfg->max_header_bytes, CONFIG_DEFAULT_MAX_HDR_BYTES);
	assert_int_equal(cfg->on_internal_error, ON_ERROR_TEMPFAIL);
	assert_int_equal(cfg->on_bad_message, ON_ERROR_ACCEPT);
	assert_non_null(cfg->sign);
	config_unref(cfg);
}

/* config_defaults agrees with the documented defaults and frees cleanly */
static void
test_config_defaults(void **state)
{
	struct config *cfg = config_defaults();

	(void)state;
	assert_non_null(cfg);
	assert_int_equal(cfg->refs, 1);
	assert_string_equal(cfg->socket, CONFIG_DEFAULT_SOCKET);
	assert_true(cfg->require_safe_keys);
	assert_int_equal(cfg->max_headers, CONFIG_DEFAULT_MAX_HEADERS);
	assert_int_equal(cfg->on_bad_message, ON_ERROR_ACCEPT);
	config_unref(cfg);
}

/* every key of the simple KeyFile set-up, each value where it belongs */
static void
test_every_key_keyfile(void **state)
{
	const struct keyentry *ke;
	struct config *cfg;

	(void)state;
	cfg = load_ok(
	    "Socket             inet:8891@127.0.0.1\n"
	    "UMask              027\n"
	    "UserID             authmilter:authmilter\n"
	    "PidFile            /run/authmilter/authmilter.pid\n"
	    "Syslog             no\n"
	    "SyslogFacility     local3\n"
	    "LogWhy             yes\n"
	    "ShutdownTimeout    15\n"
	    "InternalHosts      !192.0.2.99, 192.0.2.0/24 2001:db8::/32\n"
	    "Domain             Example.COM, example.net\n"
	    "Selector           sel-2026\n"
	    "KeyFile            %s\n"
	    "MultipleSignatures yes\n"
	    "Canonicalization   simple/relaxed\n"
	    "SignHeaders        From, To, Subject, Date\n"
	    "OversignHeaders    From, Subject\n"
	    "RequireSafeKeys    yes\n"
	    "MinimumKeyBits     2048\n"
	    "MaximumHeaders     50\n"
	    "MaximumHeaderBytes 65536\n"
	    "OnInternalError    reject\n"
	    "OnBadMessage       tempfail\n", fx.rsa);
	assert_string_equal(cfg->socket, "inet:8891@127.0.0.1");
	assert_int_equal(cfg->umask, 027);
	assert_true(cfg->umask_set);
	assert_string_equal(cfg->userid, "authmilter:authmilter");
	assert_string_equal(cfg->pidfile, "/run/authmilter/authmilter.pid");
	assert_false(cfg->syslog);
	assert_int_equal(cfg->syslog_facility, LOG_LOCAL3);
	assert_true(cfg->log_why);
	assert_int_equal(cfg->shutdown_timeout, 15);
	assert_true(netlist_match_str(cfg->internal_hosts, "192.0.2.1"));
	assert_false(netlist_match_str(cfg->internal_hosts, "192.0.2.99"));
	assert_true(netlist_match_str(cfg->internal_hosts, "2001:db8::5"));
	/* the list replaces the default */
	assert_false(netlist_match_str(cfg->internal_hosts, "127.0.0.1"));
	assert_int_equal(cfg->keytable->count, 1);
	ke = &cfg->keytable->entries[0];
	assert_string_equal(ke->selector, "sel-2026");
	assert_int_equal(ke->key->alg, KEY_ALG_RSA);
	assert_int_equal(ke->key->bits, 2048);
	assert_string_equal(ke->key->path, fx.rsa);
	assert_non_null(cfg->signtable);
	assert_int_equal(cfg->signtable->count, 2);
	/* domains are lower-cased */
	assert_string_equal(cfg->signtable->entries[0].pattern, "example.com");
	assert_string_equal(cfg->signtable->entries[1].pattern, "example.net");
	assert_string_equal(cfg->signtable->entries[0].keyname,
	    ke->name);
	assert_true(cfg->multiple_signatures);
	assert_int_equal(cfg->hdr_canon, DKIM_CANON_SIMPLE);
	assert_int_equal(cfg->body_canon, DKIM_CANON_RELAXED);
	assert_int_equal(cfg->sign_headers.count, 4);
	assert_true(hdrlist_contains(&cfg->sign_headers, "date"));
	assert_false(hdrlist_contains(&cfg->sign_headers, "Reply-To"));
	assert_int_equal(cfg->oversign_headers.count, 2);
	assert_true(cfg->require_safe_keys);
	assert_int_equal(cfg->minimum_key_bits, 2048);
	assert_int_equal(cfg->max_headers, 50);
	assert_int_equal(cfg->max_header_bytes, 65536);
	assert_int_equal(cfg->on_internal_error, ON_ERROR_REJECT);
	assert_int_equal(cfg->on_bad_message, ON_ERROR_TEMPFAIL);
	assert_non_null(cfg->sign);
	config_unref(cfg);
}

/* the KeyTable/SigningTable set-up, and the remaining spellings */
static void
test_every_key_tables(void **state)
{
	char *kt, *st;
	struct config *cfg;
	const struct keyentry *ke;

	(void)state;
	kt = write_named("KeyTable",
	    "# name  domain:selector:path\n"
	    "rsa     example.com:rsa1:%s\n"
	    "ed      %%:ed1:%s\n", fx.rsa, fx.ed);
	st = write_named("SigningTable",
	    "*@example.com  rsa\n"
	    "*@example.com  ed\n");
	cfg = load_ok(
	    "Socket             /run/authmilter.sock\n"
	    "KeyTable           file:%s\n"
	    "SigningTable       refile:%s\n"
	    "Canonicalization   relaxed\n"
	    "OnInternalError    accept\n"
	    "OnBadMessage       reject\n"
	    "RequireSafeKeys    off\n"
	    "MinimumKeyBits     1024\n", kt, st);
	assert_string_equal(cfg->socket, "/run/authmilter.sock");
	assert_int_equal(cfg->keytable->count, 2);
	ke = keytable_find(cfg->keytable, "rsa");
	assert_non_null(ke);
	assert_string_equal(ke->domain, "example.com");
	assert_string_equal(ke->selector, "rsa1");
	assert_int_equal(ke->key->alg, KEY_ALG_RSA);
	ke = keytable_find(cfg->keytable, "ed");
	assert_non_null(ke);
	assert_string_equal(ke->domain, "%");
	assert_int_equal(ke->key->alg, KEY_ALG_ED25519);
	assert_non_null(cfg->signtable);
	assert_true(cfg->signtable->wildcard);
	assert_int_equal(cfg->signtable->count, 2);
	/* "relaxed" alone is relaxed/simple, as in OpenDKIM */
	assert_int_equal(cfg->hdr_canon, DKIM_CANON_RELAXED);
	assert_int_equal(cfg->body_canon, DKIM_CANON_SIMPLE);
	assert_int_equal(cfg->on_internal_error, ON_ERROR_ACCEPT);
	assert_int_equal(cfg->on_bad_message, ON_ERROR_REJECT);
	assert_false(cfg->require_safe_keys);
	config_unref(cfg);
	free(kt);
	free(st);
}

/* keys are case-insensitive */
static void
test_keys_case_insensitive(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = load_ok(
	    "SOCKET inet6:8891@[::1]\n"
	    "umask 077\n"
	    "mUlTiPlEsIgNaTuReS TRUE\n"
	    "domain example.org\n"
	    "SELECTOR s1\n"
	    "keyfile %s\n"
	    "maximumheaders 10\n"
	    "onbadmessage REJECT\n", fx.ed);
	assert_string_equal(cfg->socket, "inet6:8891@[::1]");
	assert_int_equal(cfg->umask, 077);
	assert_true(cfg->multiple_signatures);
	assert_int_equal(cfg->keytable->count, 1);
	assert_int_equal(cfg->keytable->entries[0].key->alg, KEY_ALG_ED25519);
	assert_int_equal(cfg->max_headers, 10);
	assert_int_equal(cfg->on_bad_message, ON_ERROR_REJECT);
	config_unref(cfg);
}

/* comments, blank lines, indentation, tabs, CRLF line ends */
static void
test_comments_and_blanks(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = load_ok(
	    "# authmilter.conf\n"
	    "\n"
	    "   # an indented comment\n"
	    "\t\n"
	    "   \n"
	    "\tSyslog\t\tno  \n"
	    "#Syslog yes\n"
	    "ShutdownTimeout 0\r\n"
	    "InternalHosts   10.0.0.0/8 ,  192.168.1.1\n"
	    "\n"
	    "# the end, no newline after the last line\n"
	    "MaximumHeaders 100000");
	assert_false(cfg->syslog);
	assert_int_equal(cfg->shutdown_timeout, 0);
	assert_true(netlist_match_str(cfg->internal_hosts, "10.1.2.3"));
	assert_true(netlist_match_str(cfg->internal_hosts, "192.168.1.1"));
	assert_false(netlist_match_str(cfg->internal_hosts, "192.168.1.2"));
	assert_int_equal(cfg->max_headers, 100000);
	config_unref(cfg);
}

/* every boolean spelling, in any case */
static void
test_booleans(void **state)
{
	static const struct {
		const char	*word;
		bool		 value;
	} words[] = {
		{ "yes", true }, { "no", false }, { "true", true },
		{ "false", false }, { "1", true }, { "0", false },
		{ "on", true }, { "off", false }, { "YES", true },
		{ "No", false }, { "TRUE", true }, { "False", false },
		{ "On", true }, { "OFF", false },
	};
	struct config *cfg;

	(void)state;
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
		cfg = load_ok("Syslog %s\nLogWhy %s\nMultipleSignatures %s\n"
		    "RequireSafeKeys %s\n", words[i].word, words[i].word,
		    words[i].word, words[i].word);
		if (cfg->syslog != words[i].value ||
		    cfg->log_why != words[i].value ||
		    cfg->multiple_signatures != words[i].value ||
		    cfg->require_safe_keys != words[i].value)
			fail_msg("boolean \"%s\" misread", words[i].word);
		config_unref(cfg);
	}
}

/* the InternalHosts value may name a file, with comments in it */
static void
test_internal_hosts_file(void **state)
{
	struct config *cfg;
	char *ih;

	(void)state;
	ih = write_named("internal.ok",
	    "# our networks\n"
	    "\n"
	    "!10.0.0.66\n"
	    "10.0.0.0/24\n"
	    "  2001:db8:1::/48  \n");
	cfg = load_ok("InternalHosts %s\n", ih);
	assert_true(netlist_match_str(cfg->internal_hosts, "10.0.0.1"));
	assert_false(netlist_match_str(cfg->internal_hosts, "10.0.0.66"));
	assert_true(netlist_match_str(cfg->internal_hosts, "2001:db8:1::9"));
	assert_false(netlist_match_str(cfg->internal_hosts, "127.0.0.1"));
	config_unref(cfg);
	cfg = load_ok("InternalHosts file:%s\n", ih);
	assert_true(netlist_match_str(cfg->internal_hosts, "10.0.0.1"));
	config_unref(cfg);
	free(ih);
}

/* a loose key loads when RequireSafeKeys is off */
static void
test_loose_key_allowed(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = load_ok("RequireSafeKeys no\nDomain example.com\nSelector s\n"
	    "KeyFile %s\n", fx.loose);
	assert_int_equal(cfg->keytable->count, 1);
	assert_int_equal(cfg->keytable->entries[0].key->bits, 2048);
	config_unref(cfg);
}

/* --- errors in the file itself ------------------------------------------ */

static void
test_err_unknown_key(void **state)
{
	(void)state;
	load_fails(3, "unknown key \"Sokcet\"",
	    "# comment\n\nSokcet inet:8891@127.0.0.1\nSyslog yes\n");
	load_fails(1, "unknown key \"SyslogFacilty\"", "SyslogFacilty mail\n");
	/* OpenDKIM-style trailing comments are not comments */
	load_fails(2, "Syslog", "LogWhy yes\nSyslog yes # comment\n");
}

static void
test_err_key_twice(void **state)
{
	(void)state;
	load_fails(4, "already set on line 1",
	    "Syslog yes\n# comment\n\nsyslog no\n");
	load_fails(3, "already set on line 2",
	    "UMask 007\nSocket inet:1@localhost\nSOCKET inet:2@localhost\n");
}

static void
test_err_empty_value(void **state)
{
	(void)state;
	load_fails(2, "has no value", "Syslog yes\nPidFile\n");
	load_fails(1, "has no value", "PidFile    \t \n");
	load_fails(3, "has no value", "\n\nKeyFile\n");
}

static void
test_err_bad_boolean(void **state)
{
	(void)state;
	load_fails(1, "maybe", "Syslog maybe\n");
	load_fails(2, "MultipleSignatures", "\nMultipleSignatures 2\n");
	load_fails(1, "yes or no", "RequireSafeKeys y\n");
}

static void
test_err_bad_number(void **state)
{
	(void)state;
	load_fails(2, "MaximumHeaders", "Syslog yes\nMaximumHeaders 5\n");
	load_fails(1, "10 to 100000", "MaximumHeaders 100001\n");
	load_fails(1, "MaximumHeaders", "MaximumHeaders 10x\n");
	load_fails(3, "MinimumKeyBits", "\n\nMinimumKeyBits abc\n");
	load_fails(1, "MinimumKeyBits", "MinimumKeyBits 256\n");
	load_fails(1, "MinimumKeyBits", "MinimumKeyBits 16384\n");
	load_fails(1, "MaximumHeaderBytes", "MaximumHeaderBytes 1023\n");
	load_fails(1, "ShutdownTimeout", "ShutdownTimeout -1\n");
	load_fails(1, "ShutdownTimeout", "ShutdownTimeout 3601\n");
}

static void
test_err_bad_socket(void **state)
{
	(void)state;
	load_fails(1, "foo:bar", "Socket foo:bar\n");
	load_fails(2, "bad port", "\nSocket inet:99999@127.0.0.1\n");
	load_fails(1, "inet:PORT@HOST", "Socket inet:@x\n");
	load_fails(1, "inet:PORT@HOST", "Socket inet:8891\n");
	load_fails(1, "inet:PORT@HOST", "Socket inet:8891@\n");
	load_fails(1, "bad port", "Socket inet:0@127.0.0.1\n");
	load_fails(1, "bad port", "Socket inet6:port@[::1]\n");
	load_fails(1, "Socket", "Socket relative/path.sock\n");
}

/*
 * A unix socket needs a path. Regression test: cfg_socket() once accepted
 * "unix:" and "local:" alone, so the mistake surfaced only when the daemon
 * tried to listen, not as "file:line: reason" at load time.
 */
static void
test_err_socket_without_path(void **state)
{
	(void)state;
	load_fails(1, "Socket", "Socket unix:\n");
	load_fails(1, "Socket", "Socket local:\n");
}

static void
test_err_bad_umask(void **state)
{
	(void)state;
	load_fails(1, "UMask", "UMask 9\n");
	load_fails(2, "0999", "Syslog no\nUMask 0999\n");
	load_fails(1, "UMask", "UMask 1000\n");
	load_fails(1, "UMask", "UMask 07x\n");
}

static void
test_err_bad_canonicalization(void **state)
{
	(void)state;
	load_fails(1, "Canonicalization", "Canonicalization strict\n");
	load_fails(1, "relaxed/bogus", "Canonicalization relaxed/bogus\n");
	load_fails(1, "Canonicalization", "Canonicalization simple/\n");
	load_fails(1, "Canonicalization", "Canonicalization /simple\n");
}

static void
test_err_other_values(void **state)
{
	(void)state;
	load_fails(1, "local9", "SyslogFacility local9\n");
	load_fails(1, "PidFile", "PidFile run/authmilter.pid\n");
	load_fails(1, "OnBadMessage", "OnBadMessage discard\n");
	load_fails(1, "OnInternalError", "OnInternalError 451\n");
	load_fails(1, "OversignHeaders", "OversignHeaders From, Bad:Name\n");
}

/* a bad InternalHosts entry is reported on the InternalHosts line */
static void
test_err_bad_internal_hosts(void **state)
{
	(void)state;
	load_fails(3, "300.1.1.1",
	    "Syslog no\n\nInternalHosts 127.0.0.1, 300.1.1.1\nLogWhy no\n");
	load_fails(1, "InternalHosts", "InternalHosts 10.0.0.0/33\n");
}

static void
test_err_signheaders_without_from(void **state)
{
	(void)state;
	load_fails(2, "From", "\nSignHeaders To, Subject, Date\n");
}

static void
test_err_keyfile_needs_domain_selector(void **state)
{
	(void)state;
	load_fails(2, "Domain and Selector",
	    "Selector s1\nKeyFile %s\n", fx.rsa);
	load_fails(3, "Domain and Selector",
	    "Domain example.com\n\nKeyFile %s\n", fx.rsa);
	/* and the other way round: Domain with no KeyFile */
	load_fails(2, "KeyFile", "Syslog no\nDomain example.com\n"
	    "Selector s1\n");
	/* a bad domain in the list names the Domain line */
	load_fails(1, "not a valid domain",
	    "Domain example.com, -bad-.example\nSelector s\nKeyFile %s\n",
	    fx.rsa);
	load_fails(2, "Selector",
	    "Domain example.com\nSelector bad..sel\nKeyFile %s\n", fx.rsa);
}

static void
test_err_keyfile_and_keytable(void **state)
{
	char *kt, *st;

	(void)state;
	kt = write_named("KeyTable", "k example.com:s:%s\n", fx.rsa);
	st = write_named("SigningTable", "example.com k\n");
	load_fails(4, "KeyFile and KeyTable",
	    "Domain example.com\nSelector s\nKeyTable %s\nKeyFile %s\n"
	    "SigningTable %s\n", kt, fx.rsa, st);
	free(kt);
	free(st);
}

/*
 * authmilter.conf(5): Domain, Selector and KeyFile "go together ... and
 * so is giving them with KeyTable or SigningTable" an error. Regression
 * test: cfg_build_keyfile() once checked only for a KeyTable, so a
 * SigningTable next to a KeyFile was silently ignored. The error may name
 * the KeyFile or the SigningTable line; it must mention SigningTable.
 */
static void
test_err_keyfile_and_signtable(void **state)
{
	char err[ERRLEN], prefix[TU_MAX_PATH], *st;
	struct config *cfg;

	(void)state;
	st = write_named("SigningTable", "example.com KeyFile\n");
	cfg = load_ok_or_null(err,
	    "Domain example.com\nSelector s\nKeyFile %s\nSigningTable %s\n",
	    fx.rsa, st);
	free(st);
	if (cfg != NULL) {
		config_unref(cfg);
		fail_msg("KeyFile with a SigningTable loaded");
	}
	snprintf(prefix, sizeof prefix, "%s:", fx.conf);
	assert_true(strncmp(err, prefix, strlen(prefix)) == 0);
	assert_true(tu_contains(err, "SigningTable"));
}

static void
test_err_keytable_without_signtable(void **state)
{
	char *kt, *st;

	(void)state;
	kt = write_named("KeyTable", "k example.com:s:%s\n", fx.rsa);
	st = write_named("SigningTable", "example.com k\n");
	load_fails(2, "SigningTable", "Syslog no\nKeyTable %s\n", kt);
	load_fails(3, "KeyTable", "\n\nSigningTable %s\n", st);
	/* Domain belongs to KeyFile, not to the tables */
	load_fails(1, "Domain", "Domain example.com\nKeyTable %s\n"
	    "SigningTable %s\n", kt, st);
	free(kt);
	free(st);
}

/* a key name the KeyTable lacks: the SigningTable file and line */
static void
test_err_signtable_unknown_key(void **state)
{
	char *kt, *st;

	(void)state;
	kt = write_named("KeyTable", "k1 example.com:s:%s\n", fx.rsa);
	st = write_named("SigningTable",
	    "# comment\n"
	    "example.com   k1\n"
	    "\n"
	    "example.net   k2\n");
	load_fails_in(st, 4, "\"k2\"", "KeyTable %s\nSigningTable %s\n",
	    kt, st);
	load_fails_in(st, 4, "KeyTable", "KeyTable %s\nSigningTable file:%s\n",
	    kt, st);
	free(st);
	st = write_named("SigningTable.re", "*@example.org k3\n");
	load_fails_in(st, 1, "\"k3\"", "KeyTable %s\nSigningTable refile:%s\n",
	    kt, st);
	free(kt);
	free(st);
}

/* a key file readable by others is refused, naming the file and mode */
static void
test_err_loose_key(void **state)
{
	char err[ERRLEN], *kt, *st;

	(void)state;
	load_fails(4, "0644",
	    "Domain example.com\nSelector s\n\nKeyFile %s\n", fx.loose);
	load_fails(3, fx.loose,
	    "Domain example.com\nSelector s\nKeyFile %s\n", fx.loose);
	/* the same through a KeyTable: the KeyTable file and line */
	kt = write_named("KeyTable", "ok example.com:s1:%s\n"
	    "loose example.com:s2:%s\n", fx.rsa, fx.loose);
	st = write_named("SigningTable", "example.com ok\n");
	load_fails_in(kt, 2, "0644", "KeyTable %s\nSigningTable %s\n", kt, st);
	snprintf(err, sizeof err, "key file %s", fx.loose);
	load_fails_in(kt, 2, err, "KeyTable %s\nSigningTable %s\n", kt, st);
	free(kt);
	free(st);
}

static void
test_err_missing_file(void **state)
{
	char err[ERRLEN] = "", *path;

	(void)state;
	path = tu_path(fx.dir, "no-such.conf");
	assert_non_null(path);
	assert_null(config_load(path, err, sizeof err));
	check_err(err, path, 0, "No such file");
	free(path);
	/* a missing key file names the key file */
	load_fails(3, "no-such-key.pem",
	    "Domain example.com\nSelector s\nKeyFile %s/no-such-key.pem\n",
	    fx.dir);
}

/* a bad line in an InternalHosts file names that file and line */
static void
test_err_internal_hosts_file(void **state)
{
	char *ih, *missing;

	(void)state;
	ih = write_named("internal.bad",
	    "# networks\n"
	    "10.0.0.0/8\n"
	    "\n"
	    "10.1.2.3.4\n"
	    "192.0.2.0/24\n");
	load_fails_in(ih, 4, "10.1.2.3.4", "Syslog no\nInternalHosts %s\n",
	    ih);
	load_fails_in(ih, 4, "10.1.2.3.4", "InternalHosts file:%s\n", ih);
	missing = tu_path(fx.dir, "internal.missing");
	load_fails_in(missing, 0, "No such file", "InternalHosts %s\n",
	    missing);
	free(missing);
	free(ih);
}

/* RSA keys below MinimumKeyBits (and below 1024 always) are refused */
static void
test_err_weak_key(void **state)
{
	(void)state;
	load_fails(3, "512",
	    "Domain example.com\nSelector s\nKeyFile %s\n", fx.rsa512);
	load_fails(4, "512",
	    "MinimumKeyBits 1024\nDomain example.com\nSelector s\nKeyFile %s\n",
	    fx.rsa512);
	/* MinimumKeyBits applies even when it comes after the KeyFile */
	load_fails(3, "2048",
	    "Domain example.com\nSelector s\nKeyFile %s\nMinimumKeyBits 4096\n",
	    fx.rsa);
}

/* a line longer than CONFIG_MAX_LINE is an error on that line */
static void
test_err_long_line(void **state)
{
	char *big = malloc(CONFIG_MAX_LINE + 100);

	(void)state;
	assert_non_null(big);
	memset(big, 'x', CONFIG_MAX_LINE + 99);
	big[CONFIG_MAX_LINE + 99] = '\0';
	load_fails(2, "too long", "Syslog no\nUserID %s\nLogWhy no\n", big);
	free(big);
}

/* --- the current configuration ----------------------------------------- */

static void
test_ref_unref(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = load_ok("%s", "");
	assert_ptr_equal(config_ref(cfg), cfg);
	assert_int_equal(cfg->refs, 2);
	config_unref(cfg);
	assert_int_equal(cfg->refs, 1);
	config_unref(cfg);
	config_unref(NULL);
}

static void
test_current_install(void **state)
{
	struct config *a, *b, *cur, *held;

	(void)state;
	config_install(NULL);
	assert_null(config_current());

	a = load_ok("Selector s\nDomain a.example\nKeyFile %s\n", fx.rsa);
	config_install(a);		/* takes our reference */
	cur = config_current();
	assert_ptr_equal(cur, a);
	assert_int_equal(a->refs, 2);
	held = cur;			/* a session holds a */

	b = load_ok("Selector s\nDomain b.example\nKeyFile %s\n", fx.ed);
	config_install(b);
	/* the old one is no longer current but still usable through held */
	assert_int_equal(held->refs, 1);
	assert_string_equal(held->signtable->entries[0].pattern, "a.example");
	assert_int_equal(held->keytable->entries[0].key->alg, KEY_ALG_RSA);
	assert_non_null(held->sign);

	cur = config_current();
	assert_ptr_equal(cur, b);
	assert_int_equal(b->refs, 2);
	assert_string_equal(cur->signtable->entries[0].pattern, "b.example");
	config_unref(cur);
	assert_int_equal(b->refs, 1);

	config_unref(held);		/* the session ends: a is freed */
	config_install(NULL);		/* b is freed */
	assert_null(config_current());
}

/* readers taking references while a writer swaps configurations */
#define SWAP_READERS	4
#define SWAP_ROUNDS	20000
#define SWAP_CONFIGS	40

static void *
swap_reader(void *arg)
{
	long bad = 0;

	(void)arg;
	for (int i = 0; i < SWAP_ROUNDS; i++) {
		struct config *cfg = config_current();

		if (cfg == NULL || cfg->refs < 1 || cfg->socket == NULL ||
		    strcmp(cfg->socket, "inet:8891@127.0.0.1") != 0)
			bad++;
		config_unref(cfg);
	}
	return (void *)bad;
}

static void
test_install_concurrent(void **state)
{
	pthread_t t[SWAP_READERS];
	struct config *cfgs[SWAP_CONFIGS];

	(void)state;
	for (int i = 0; i < SWAP_CONFIGS; i++)
		cfgs[i] = load_ok("Socket inet:8891@127.0.0.1\n");
	config_install(cfgs[0]);
	for (int i = 0; i < SWAP_READERS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, swap_reader, NULL),
		    0);
	for (int i = 1; i < SWAP_CONFIGS; i++)
		config_install(cfgs[i]);
	for (int i = 0; i < SWAP_READERS; i++) {
		void *bad;

		assert_int_equal(pthread_join(t[i], &bad), 0);
		assert_int_equal((long)bad, 0);
	}
	config_install(NULL);
	assert_null(config_current());
}

static void
test_on_error_name(void **state)
{
	(void)state;
	assert_string_equal(config_on_error_name(ON_ERROR_TEMPFAIL),
	    "tempfail");
	assert_string_equal(config_on_error_name(ON_ERROR_ACCEPT), "accept");
	assert_string_equal(config_on_error_name(ON_ERROR_REJECT), "reject");
}

/* MetricsListen: a numeric address and a port, or off */
static void
test_metrics_listen(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = load_ok("Syslog no\n");
	assert_null(cfg->metrics_listen);
	config_unref(cfg);
	cfg = load_ok("MetricsListen 127.0.0.1:9464\n");
	assert_string_equal(cfg->metrics_listen, "127.0.0.1:9464");
	config_unref(cfg);
	cfg = load_ok("metricslisten [::1]:9464\n");
	config_unref(cfg);
	cfg = load_ok("MetricsListen *:9464\n");
	config_unref(cfg);
	load_fails(2, "MetricsListen", "Syslog no\nMetricsListen localhost:9464\n");
	load_fails(1, "MetricsListen", "MetricsListen 127.0.0.1\n");
	load_fails(1, "MetricsListen", "MetricsListen 127.0.0.1:99999\n");
	load_fails(1, "has no value", "MetricsListen\n");
}

/* DMARCEnforcement and TrustedForwarders */
static void
test_enforcement_keys(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = load_ok("Syslog no\n");
	assert_int_equal(cfg->dmarc_enforcement, CFG_ENFORCE_RFC9989);
	assert_false(netlist_match_str(cfg->trusted_forwarders, "192.0.2.1"));
	config_unref(cfg);
	cfg = load_ok("DMARCEnforcement strict\n"
	    "TrustedForwarders 192.0.2.0/24, 2001:db8::/32\n");
	assert_int_equal(cfg->dmarc_enforcement, CFG_ENFORCE_STRICT);
	assert_true(netlist_match_str(cfg->trusted_forwarders, "192.0.2.1"));
	assert_true(netlist_match_str(cfg->trusted_forwarders, "2001:db8::5"));
	assert_false(netlist_match_str(cfg->trusted_forwarders, "192.0.3.1"));
	config_unref(cfg);
	cfg = load_ok("dmarcenforcement RFC9989\n");
	assert_int_equal(cfg->dmarc_enforcement, CFG_ENFORCE_RFC9989);
	config_unref(cfg);
	load_fails(2, "DMARCEnforcement", "Syslog no\nDMARCEnforcement lax\n");
	load_fails(1, "TrustedForwarders", "TrustedForwarders 192.0.2.300\n");
}

/* ARCSealKey names a KeyTable entry with a fixed domain and an RSA key */
static void
test_arc_seal_key(void **state)
{
	char *kt, *st;
	struct config *cfg;

	(void)state;
	kt = write_named("KeyTable.arc",
	    "rsa     example.com:rsa1:%s\n"
	    "arc     arc.example.net:arc1:%s\n"
	    "any     %%:s:%s\n"
	    "ed      example.com:ed1:%s\n", fx.rsa, fx.rsa, fx.rsa, fx.ed);
	st = write_named("SigningTable.arc", "*@example.com  rsa\n");
	cfg = load_ok("KeyTable %s\nSigningTable refile:%s\nARCSealKey arc\n",
	    kt, st);
	assert_non_null(cfg->arc_key);
	assert_string_equal(cfg->arc_key->domain, "arc.example.net");
	assert_int_equal(cfg->arc_seal_mail, CFG_ARC_SEAL_INBOUND);
	assert_false(cfg->arc_authres_comments);
	assert_true(config_arc_seals(cfg, true));
	assert_false(config_arc_seals(cfg, false));
	config_unref(cfg);
	cfg = load_ok("KeyTable %s\nSigningTable refile:%s\nARCSealKey arc\n"
	    "ARCSealMail all\nARCAuthResComments yes\n", kt, st);
	assert_true(config_arc_seals(cfg, true));
	assert_true(config_arc_seals(cfg, false));
	assert_true(cfg->arc_authres_comments);
	config_unref(cfg);
	cfg = load_ok("KeyTable %s\nSigningTable refile:%s\nARCSealKey arc\n"
	    "ARCSealMail Relayed\n", kt, st);
	assert_false(config_arc_seals(cfg, true));
	assert_true(config_arc_seals(cfg, false));
	config_unref(cfg);
	/* without ARCSealKey nothing is sealed */
	cfg = load_ok("KeyTable %s\nSigningTable refile:%s\n", kt, st);
	assert_null(cfg->arc_key);
	assert_false(config_arc_seals(cfg, true));
	config_unref(cfg);
	load_fails(3, "not a key name of the KeyTable",
	    "KeyTable %s\nSigningTable refile:%s\nARCSealKey nosuch\n",
	    kt, st);
	load_fails(3, "fixed domain", "KeyTable %s\nSigningTable refile:%s\n"
	    "ARCSealKey any\n", kt, st);
	load_fails(3, "RSA", "KeyTable %s\nSigningTable refile:%s\n"
	    "ARCSealKey ed\n", kt, st);
	load_fails(1, "needs ARCSealKey", "ARCSealMail all\n");
	load_fails(1, "inbound, relayed or all", "ARCSealMail outbound\n");
	load_fails(1, "ARCAuthResComments", "ARCAuthResComments maybe\n");
	free(kt);
	free(st);
}

/* TrustedARCSealers: a list or a file; exact domains, any case */
static void
test_trusted_sealers(void **state)
{
	struct config *cfg;
	char *f;

	(void)state;
	cfg = load_ok("TrustedARCSealers Lists.Example.org, google.com "
	    "microsoft.com.\n");
	assert_int_equal(cfg->ntrusted_arc_sealers, 3);
	assert_true(config_trusted_sealer(cfg, "lists.example.org"));
	assert_true(config_trusted_sealer(cfg, "GOOGLE.com"));
	assert_true(config_trusted_sealer(cfg, "microsoft.com"));
	assert_false(config_trusted_sealer(cfg, "sub.google.com"));
	assert_false(config_trusted_sealer(cfg, "example.org"));
	config_unref(cfg);
	f = write_named("sealers", "# trusted forwarders\n"
	    "lists.example.org\n\n  fwd.example.net  \n");
	cfg = load_ok("TrustedARCSealers file:%s\n", f);
	assert_int_equal(cfg->ntrusted_arc_sealers, 2);
	assert_true(config_trusted_sealer(cfg, "fwd.example.net"));
	config_unref(cfg);
	cfg = load_ok("TrustedARCSealers %s\n", f);
	assert_int_equal(cfg->ntrusted_arc_sealers, 2);
	config_unref(cfg);
	free(f);
	cfg = load_ok("Syslog no\n");
	assert_int_equal(cfg->ntrusted_arc_sealers, 0);
	assert_false(config_trusted_sealer(cfg, "google.com"));
	config_unref(cfg);
	load_fails(2, "not a valid domain name", "Syslog no\n"
	    "TrustedARCSealers good.example, bad_domain.example\n");
	f = write_named("sealers.bad", "ok.example\nnot a domain\n");
	load_fails_in(f, 2, "not a valid domain name",
	    "TrustedARCSealers %s\n", f);
	free(f);
}

/* cfg_relay_of - ReportSMTPRelay of a configuration text (NULL: unset) */
static const char *
cfg_relay_of(const char *text)
{
	struct config *cfg = load_ok("%s", text);
	const char *relay = cfg->report_smtp_relay;

	config_unref(cfg);
	return relay;	/* only compared with NULL */
}

/* ReportNeverTo: a list, or a file of domains (file:PATH or /PATH) */
static void
test_report_never_file(void **state)
{
	struct config *cfg;
	char *f;

	(void)state;
	f = write_named("never", "# no reports to these\n"
	    "Example.NET.\n\n   other.test  \n");
	cfg = load_ok("ReportNeverTo file:%s\n", f);
	assert_int_equal(cfg->nreport_never_to, 2);
	assert_true(config_report_never(cfg, "sub.example.net"));
	assert_true(config_report_never(cfg, "other.test"));
	assert_false(config_report_never(cfg, "example.com"));
	config_unref(cfg);
	cfg = load_ok("ReportNeverTo %s\n", f);
	assert_int_equal(cfg->nreport_never_to, 2);
	config_unref(cfg);
	free(f);
	f = write_named("never.bad", "ok.example\n\nnot..a.domain\n");
	load_fails_in(f, 3, "not a valid domain name", "ReportNeverTo "
	    "file:%s\n", f);
	free(f);
	load_fails_in("/nonexistent/never.missing", 0, "No such file",
	    "ReportNeverTo file:/nonexistent/never.missing\n");
}

/* the DMARC report keys: defaults, values, what goes together */
static void
test_report_keys(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = load_ok("Syslog no\n");
	assert_null(cfg->report_store);
	assert_int_equal(cfg->report_retention_days, CONFIG_DEFAULT_REPORT_DAYS);
	assert_int_equal(cfg->report_queue_size, CONFIG_DEFAULT_REPORT_QUEUE);
	assert_string_equal(cfg->report_sendmail, CONFIG_DEFAULT_SENDMAIL);
	config_unref(cfg);
	cfg = load_ok("ReportStore postgresql://u:p@db.test/dmarc\n"
	    "ReportOrgName Example Mail\nReportEmail d@example.test\n"
	    "ReportGatewayID mx1\nReportRetentionDays 7\n"
	    "ReportNeverTo Example.NET., other.test\nReportQueueSize 50\n");
	assert_string_equal(cfg->report_gateway, "mx1");
	assert_string_equal(config_report_gateway(cfg), "mx1");
	assert_int_equal(cfg->report_retention_days, 7);
	assert_int_equal(cfg->report_queue_size, 50);
	assert_true(config_report_never(cfg, "example.net"));
	assert_true(config_report_never(cfg, "sub.example.net"));
	assert_false(config_report_never(cfg, "example.com"));
	config_unref(cfg);
	load_fails(1, "ReportStore", "ReportStore sqlite:relative.db\n");
	load_fails(1, "ReportStore", "ReportStore mysql://db/x\n");
	load_fails(1, "ReportEmail", "ReportStore sqlite:/x.db\n");
	load_fails(1, "ReportEmail", "ReportEmail <a@b.test>\n");
	load_fails(1, "ReportQueueSize", "ReportQueueSize 5\n");
	load_fails(1, "ReportNeverTo", "ReportNeverTo bad..name\n");
	load_fails(1, "FailureReports", "FailureReports yes\n");
	/* ReportSMTPRelay host[:port] */
	assert_null(cfg_relay_of("Syslog no\n"));
	cfg = load_ok("ReportSMTPRelay 127.0.0.1:2525\n");
	assert_string_equal(cfg->report_smtp_relay, "127.0.0.1:2525");
	config_unref(cfg);
	cfg = load_ok("ReportSMTPRelay [::1]\n");
	assert_string_equal(cfg->report_smtp_relay, "[::1]");
	config_unref(cfg);
	load_fails(2, "ReportSMTPRelay must be host[:port]", "Syslog no\n"
	    "ReportSMTPRelay relay.test:99999\n");
	load_fails(1, "ReportSMTPRelay", "ReportSMTPRelay bad_host\n");
	load_fails(1, "FailureReportsPerHour", "FailureReportsPerHour 0\n");
	cfg = load_ok("FailureReports yes\nFailureReportsPerHour 3\n"
	    "ReportOrgName X\nReportEmail d@example.test\n");
	assert_true(cfg->failure_reports);
	assert_int_equal(cfg->failure_per_hour, 3);
	assert_null(cfg->report_store);
	config_unref(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_defaults),
		cmocka_unit_test(test_config_defaults),
		cmocka_unit_test(test_every_key_keyfile),
		cmocka_unit_test(test_every_key_tables),
		cmocka_unit_test(test_keys_case_insensitive),
		cmocka_unit_test(test_comments_and_blanks),
		cmocka_unit_test(test_booleans),
		cmocka_unit_test(test_internal_hosts_file),
		cmocka_unit_test(test_loose_key_allowed),
		cmocka_unit_test(test_err_unknown_key),
		cmocka_unit_test(test_err_key_twice),
		cmocka_unit_test(test_err_empty_value),
		cmocka_unit_test(test_err_bad_boolean),
		cmocka_unit_test(test_err_bad_number),
		cmocka_unit_test(test_err_bad_socket),
		cmocka_unit_test(test_err_socket_without_path),
		cmocka_unit_test(test_err_bad_umask),
		cmocka_unit_test(test_err_bad_canonicalization),
		cmocka_unit_test(test_err_other_values),
		cmocka_unit_test(test_err_bad_internal_hosts),
		cmocka_unit_test(test_err_signheaders_without_from),
		cmocka_unit_test(test_err_keyfile_needs_domain_selector),
		cmocka_unit_test(test_err_keyfile_and_keytable),
		cmocka_unit_test(test_err_keyfile_and_signtable),
		cmocka_unit_test(test_err_keytable_without_signtable),
		cmocka_unit_test(test_err_signtable_unknown_key),
		cmocka_unit_test(test_err_loose_key),
		cmocka_unit_test(test_err_missing_file),
		cmocka_unit_test(test_err_internal_hosts_file),
		cmocka_unit_test(test_err_weak_key),
		cmocka_unit_test(test_err_long_line),
		cmocka_unit_test(test_ref_unref),
		cmocka_unit_test(test_current_install),
		cmocka_unit_test(test_install_concurrent),
		cmocka_unit_test(test_on_error_name),
		cmocka_unit_test(test_metrics_listen),
		cmocka_unit_test(test_enforcement_keys),
		cmocka_unit_test(test_arc_seal_key),
		cmocka_unit_test(test_trusted_sealers),
		cmocka_unit_test(test_report_keys),
		cmocka_unit_test(test_report_never_file),
	};

	return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
