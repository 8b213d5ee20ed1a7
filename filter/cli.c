/*
 * NAME
 *	cli - the command line front end
 * SYNOPSIS
 *	#include "cli.h"
 *
 *	int cli_configtest(argc, argv)
 *	int cli_sign(argc, argv)
 *	int cli_keygen(argc, argv)
 *	int cli_run_message(cfg, env, show, arg)
 *	void cli_json_str(out, s)
 *	void cli_json_field(out, name, value, last)
 *	struct config *cli_config(path, nameservers, n, have)
 * DESCRIPTION
 *	configtest loads a configuration exactly as the daemon would (keys
 *	included) and says whether it is good. sign runs a message through a
 *	session from the given client and prints it with the signatures the
 *	milter would add, in the order they end up in the message; a message
 *	the session does not take as outbound is not checked as inbound mail
 *	(the session is told so) and comes out unchanged. keygen makes a key
 *	pair (and its directory, mode 0700, when missing) and prints the DNS
 *	record to publish, with t=y when asked.
 * DIAGNOSTICS
 *	Errors go to stderr; exit codes are those of cli.h and authmilter(8).
 */
#include "buildconf.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "cli.h"
#include "config.h"
#include "dns.h"
#include "keys.h"
#include "keytable.h"
#include "log.h"
#include "message.h"
#include "runtime.h"
#include "session.h"
#include "trace.h"
#include "util.h"

#define CLI_DEFAULT_BITS	2048
#define CLI_MAX_PATH		4096	/* bytes of a key or record path */
#define CLI_KEY_DIR_MODE	0700	/* a key directory keygen makes */

/* cli_load - load a configuration or explain why not */
static struct config *
cli_load(const char *path)
{
	char err[CONFIG_ERRLEN];
	struct config *cfg = config_load(path, err, sizeof(err));

	if (cfg == NULL)
		fprintf(stderr, "%s\n", err);
	return cfg;
}

static const struct cli_option cli_configtest_options[] = {
	{ "config", 'c', true, "FILE", "The configuration file to check. "
	    "Default: " CONFIG_DEFAULT_FILE "." },
	{ NULL, 0, false, NULL, NULL }
};

/* cli_configtest - check a configuration file */
int
cli_configtest(int argc, char **argv)
{
	const char *path = CONFIG_DEFAULT_FILE;
	struct cli_parser p;
	struct config *cfg;
	size_t n;
	int c;

	cli_parser_init(&p, &cli_cmd_configtest);
	while ((c = cli_parser_next(&p, argc, argv)) != -1) {
		if (c != 'c')
			return cli_usage(&cli_cmd_configtest);
		path = optarg;
	}
	if (optind != argc)
		return cli_usage(&cli_cmd_configtest);
	cfg = cli_load(path);
	if (cfg == NULL)
		return CLI_EXIT_ERROR;
	n = cfg->keytable->count;
	printf("%s: configuration OK (%zu signing key%s)\n", path, n,
	    n == 1 ? "" : "s");
	config_unref(cfg);
	return CLI_EXIT_OK;
}

const struct cli_command cli_cmd_configtest = {
	.name = "configtest",
	.run = cli_configtest,
	.synopsis = "[-c FILE]",
	.summary = "check a configuration file and the keys it names",
	.description = "Load the configuration the way the daemon would, "
	    "including reading and checking every key it names, and say "
	    "whether it is good: \"FILE: configuration OK (N signing keys)\". "
	    "Run it as the user the daemon reads the keys as.",
	.options = cli_configtest_options,
	.exit_status = "0 the configuration is good; 1 it is not (FILE:LINE: "
	    "reason, or the key file and the reason, on standard error); 2 "
	    "on a usage error.",
};

/* cli_json_str - s as a JSON string; invalid UTF-8 becomes U+FFFD */
void
cli_json_str(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	fputc('"', out);
	while (*p) {
		size_t n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 :
		    (*p & 0xf0) == 0xe0 ? 3 : (*p & 0xf8) == 0xf0 ? 4 : 0;
		size_t i;

		if (n == 1) {
			if (*p == '"' || *p == '\\')
				fprintf(out, "\\%c", *p);
			else if (*p == '\n')
				fputs("\\n", out);
			else if (*p == '\r')
				fputs("\\r", out);
			else if (*p == '\t')
				fputs("\\t", out);
			else if (*p < 0x20 || *p == 0x7f)
				fprintf(out, "\\u%04x", *p);
			else
				fputc(*p, out);
			p++;
			continue;
		}
		for (i = 1; n > 1 && i < n; i++)
			if ((p[i] & 0xc0) != 0x80)
				break;
		if (n == 0 || i < n || (n == 2 && *p < 0xc2)) {
			fputs("\\ufffd", out);
			p++;
			continue;
		}
		fwrite(p, 1, n, out);
		p += n;
	}
	fputc('"', out);
}

/* cli_json_field - "name": "value", then ", " unless it is the last */
void
cli_json_field(FILE *out, const char *name, const char *value, bool last)
{
	cli_json_str(out, name);
	fputs(": ", out);
	cli_json_str(out, value);
	if (!last)
		fputs(", ", out);
}

/* cli_config_nameservers - the n nameservers replace the configured ones */
void
cli_config_nameservers(struct config *cfg, const char *const *nameservers,
    size_t n)
{
	if (n == 0)
		return;
	for (size_t i = 0; i < cfg->nnameservers; i++)
		free(cfg->nameservers[i]);
	for (size_t i = 0; i < n; i++)
		cfg->nameservers[i] = xstrdup(nameservers[i]);
	cfg->nnameservers = n;
}

/*
 * cli_config - the configuration of a command that may run without one:
 * path, else the default file when it exists, else the built-in defaults;
 * the nameservers given on the command line replace the configured ones
 */
struct config *
cli_config(const char *path, const char *const *nameservers, size_t n,
    bool *have, char *err, size_t errlen)
{
	struct config *cfg;

	if (path == NULL && access(CONFIG_DEFAULT_FILE, F_OK) == 0)
		path = CONFIG_DEFAULT_FILE;
	if (have != NULL)
		*have = path != NULL;
	if (path == NULL)
		cfg = config_defaults();
	else if ((cfg = config_load(path, err, errlen)) == NULL)
		return NULL;
	cli_config_nameservers(cfg, nameservers, n);
	return cfg;
}

/* cli_spool - a seekable copy of a stream (stdin may be a pipe) */
static FILE *
cli_spool(FILE *in)
{
	char chunk[MESSAGE_CHUNK];
	FILE *tmp = tmpfile();
	size_t n;

	if (tmp == NULL)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0)
		if (fwrite(chunk, 1, n, tmp) != n) {
			fclose(tmp);
			return NULL;
		}
	if (ferror(in)) {
		fclose(tmp);
		return NULL;
	}
	rewind(tmp);
	return tmp;
}

/* cli_print_header - a header as it goes into the message */
static void
cli_print_header(const struct added_header *h, bool crlf)
{
	printf("%s: ", h->name);
	for (const char *p = h->value; *p; p++) {
		if (p[0] == '\r' && p[1] == '\n')
			continue;
		if (*p == '\n' && crlf)
			putchar('\r');
		putchar(*p);
	}
	fputs(crlf ? "\r\n" : "\n", stdout);
}

/* cli_copy - the original message, unchanged */
static bool
cli_copy(FILE *fp)
{
	char chunk[MESSAGE_CHUNK];
	size_t n;

	rewind(fp);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (fwrite(chunk, 1, n, stdout) != n)
			return false;
	return !ferror(fp) && fflush(stdout) == 0;
}

/* Options of the sign command. */
struct sign_opts {
	const char	*config;
	const char	*auth_user;
	const char	*client_ip;
	const char	*mail_from;
	const char	*file;
};

static const struct cli_option cli_sign_options[] = {
	{ "config", 'c', true, "FILE", "The configuration: its keys, tables "
	    "and InternalHosts. Default: " CONFIG_DEFAULT_FILE "." },
	{ "auth-user", 'a', false, "USER", "Treat the message as submitted "
	    "with SMTP AUTH as USER, which makes it outbound whatever the "
	    "client address." },
	{ "client-ip", 'i', false, "IP", "The SMTP client's address (IPv4 or "
	    "IPv6), which decides, with InternalHosts, whether the message is "
	    "outbound. Default: 127.0.0.1." },
	{ "mail-from", 'f', false, "ADDR", "The envelope sender (MAIL FROM). "
	    "Default: empty." },
	{ NULL, 0, false, NULL, NULL }
};

/* cli_sign_args - parse the sign command's arguments */
static bool
cli_sign_args(int argc, char **argv, struct sign_opts *o)
{
	struct cli_parser p;
	int c;

	o->config = CONFIG_DEFAULT_FILE;
	o->client_ip = "127.0.0.1";
	cli_parser_init(&p, &cli_cmd_sign);
	while ((c = cli_parser_next(&p, argc, argv)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'a': o->auth_user = optarg; break;
		case 'i': o->client_ip = optarg; break;
		case 'f': o->mail_from = optarg; break;
		default: return false;
		}
	}
	if (argc - optind > 1)
		return false;
	o->file = optind < argc ? argv[optind] : "-";
	return true;
}

/* cli_open_input - the message file (or stdin, spooled), seekable */
static FILE *
cli_open_input(const char *file)
{
	FILE *fp;

	if (strcmp(file, "-") == 0) {
		fp = cli_spool(stdin);
		if (fp == NULL)
			fprintf(stderr, "authmilter: stdin: %s\n",
			    strerror(errno));
		return fp;
	}
	fp = util_fopen_regular(file);
	if (fp == NULL)
		fprintf(stderr, "authmilter: %s: %s\n", file,
		    util_open_error(errno));
	return fp;
}

/* cli_feed - one message through a session; false (said) on a read error */
static bool
cli_feed(struct session *s, const struct cli_envelope *env, FILE *fp,
    bool *crlf)
{
	struct message_sink sink;
	char err[256];

	if (env->inbound)
		session_force_inbound(s);
	if (env->sign_only)
		session_sign_only(s);
	session_connect(s, env->client_name, env->client_ip);
	session_helo(s, env->helo);
	session_mail(s, env->mail_from, env->auth_user);
	for (size_t i = 0; i < env->nrcpts; i++)
		session_rcpt(s, env->rcpts[i]);
	message_session_sink(s, &sink);
	if (!message_read(fp, &sink, crlf, err, sizeof(err))) {
		fprintf(stderr, "authmilter: %s: %s\n", env->file, err);
		return false;
	}
	return true;
}

/* cli_run_message - see cli.h */
int
cli_run_message(struct config *cfg, const struct cli_envelope *env,
    cli_show_fn show, void *arg)
{
	struct runtime *rt;
	struct session *s;
	struct verdict v;
	char err[CONFIG_ERRLEN];
	bool crlf = false;
	FILE *fp;
	int rc = CLI_EXIT_ERROR;

	fp = cli_open_input(env->file);
	if (fp == NULL)
		return CLI_EXIT_ERROR;
	/* the services, without the metrics endpoint: that is the daemon's */
	rt = runtime_new(cfg, err, sizeof(err));
	if (rt == NULL) {
		fprintf(stderr, "authmilter: %s\n", err);
		fclose(fp);
		return CLI_EXIT_ERROR;
	}
	s = session_new(cfg, rt);
	if (env->trace != NULL && runtime_dns(rt) != NULL) {
		/* every lookup of this evaluation, in the explanation */
		dns_set_watch(runtime_dns(rt), trace_dns, env->trace);
		session_set_trace(s, env->trace);
	}
	if (cli_feed(s, env, fp, &crlf)) {
		session_eom(s, &v);
		rc = show(&v, crlf, fp, arg);
		verdict_clear(&v);
	}
	session_free(s);
	runtime_free(rt);
	fclose(fp);
	return rc;
}

/*
 * cli_sign_show - the signed message, or why there is none. The milter
 * inserts each added header at the top (index 0), one after the other, so
 * the last one added ends up first: print them in that order.
 */
static int
cli_sign_show(const struct verdict *v, bool crlf, FILE *fp, void *arg)
{
	(void)arg;
	fprintf(stderr, "authmilter: %s\n", v->summary);
	if (v->action != VERDICT_ACCEPT) {
		fprintf(stderr, "authmilter: the milter would answer %s %s %s\n",
		    v->rcode, v->xcode, v->reason);
		return CLI_EXIT_ERROR;
	}
	for (size_t i = v->nadded; i-- > 0; )
		cli_print_header(&v->added[i], crlf);
	return cli_copy(fp) ? (v->nadded ? CLI_EXIT_OK : CLI_EXIT_NOT_SIGNED) :
	    CLI_EXIT_ERROR;
}

/* cli_sign - sign one message as the milter would */
int
cli_sign(int argc, char **argv)
{
	struct sign_opts o;
	struct cli_envelope env;
	struct config *cfg;
	int rc;

	memset(&o, 0, sizeof(o));
	if (!cli_sign_args(argc, argv, &o))
		return cli_usage(&cli_cmd_sign);
	cfg = cli_load(o.config);
	if (cfg == NULL)
		return CLI_EXIT_ERROR;
	memset(&env, 0, sizeof(env));
	env.file = o.file;
	env.client_name = "localhost";
	env.client_ip = o.client_ip;
	env.helo = "localhost";
	env.mail_from = o.mail_from ? o.mail_from : "";
	env.auth_user = o.auth_user;
	env.sign_only = true;
	rc = cli_run_message(cfg, &env, cli_sign_show, NULL);
	config_unref(cfg);
	return rc;
}

const struct cli_command cli_cmd_sign = {
	.name = "sign",
	.run = cli_sign,
	.synopsis = "[-c FILE] [--auth-user USER] [--client-ip IP] "
	    "[--mail-from ADDR] [FILE|-]",
	.summary = "sign one message as the milter would and print it",
	.description = "Read one message (RFC 5322, LF or CRLF line ends) from "
	    "FILE or standard input, run it through the engine as the milter "
	    "would, and print it with the DKIM-Signature fields the milter "
	    "would add, in the order they end up in the message; the rest "
	    "of the message is printed as it was read. The summary line the "
	    "daemon would log goes to standard error. A message that is not "
	    "outbound (its client is not in InternalHosts and did not "
	    "authenticate) is not signed, and is not checked as inbound mail "
	    "either.",
	.options = cli_sign_options,
	.exit_status = "0 signed; 3 not signed (not outbound, no key for the "
	    "sender, or it could not be signed and OnBadMessage or "
	    "OnInternalError is accept): the message is printed unchanged; 1 "
	    "an error, or the milter would refuse the message (nothing is "
	    "printed on standard output, the reply goes to standard error); "
	    "2 on a usage error.",
};

/* Options of the keygen command. */
struct keygen_opts {
	const char	*domain;
	const char	*selector;
	const char	*dir;
	enum key_alg	 alg;
	unsigned long	 bits;
	bool		 testing;
};

static const struct cli_option cli_keygen_options[] = {
	{ "domain", 'd', false, "DOMAIN", "The signing domain (d=), a valid "
	    "DNS name. Required." },
	{ "selector", 's', false, "SELECTOR", "The selector (s=), a valid DNS "
	    "name; also the base name of the files written. Required." },
	{ "algorithm", 'a', false, "rsa|ed25519", "The key type: RSA (signs "
	    "with rsa-sha256) or Ed25519 (ed25519-sha256, RFC 8463). Default: "
	    "rsa." },
	{ "bits", 'b', false, "N", "The RSA modulus size, 1024 to 8192. "
	    "Default: 2048. Ignored for Ed25519." },
	{ "directory", 'D', false, "DIR", "Where the files are written. It is "
	    "made, mode 0700, when it does not exist. Default: the current "
	    "directory." },
	{ "testing", 't', false, NULL, "Mark the key as being tested: t=y in "
	    "the DNS record, as opendkim-genkey -t does. Verifiers may then "
	    "treat a failing signature as no signature; publish the record "
	    "again without t=y once signing works." },
	{ NULL, 0, false, NULL, NULL }
};

/* cli_keygen_args - parse and check keygen's arguments */
static bool
cli_keygen_args(int argc, char **argv, struct keygen_opts *o)
{
	struct cli_parser p;
	int c;

	o->dir = ".";
	o->alg = KEY_ALG_RSA;
	o->bits = CLI_DEFAULT_BITS;
	cli_parser_init(&p, &cli_cmd_keygen);
	while ((c = cli_parser_next(&p, argc, argv)) != -1) {
		switch (c) {
		case 'd': o->domain = optarg; break;
		case 's': o->selector = optarg; break;
		case 'D': o->dir = optarg; break;
		case 't': o->testing = true; break;
		case 'a':
			if (strcmp(optarg, "rsa") == 0)
				o->alg = KEY_ALG_RSA;
			else if (strcmp(optarg, "ed25519") == 0)
				o->alg = KEY_ALG_ED25519;
			else {
				fprintf(stderr, "authmilter: --algorithm must "
				    "be rsa or ed25519\n");
				return false;
			}
			break;
		case 'b':
			if (!util_parse_uint(optarg, KEYS_MIN_RSA_BITS,
			    KEYS_MAX_RSA_BITS, &o->bits)) {
				fprintf(stderr, "authmilter: --bits must be "
				    "%d..%d\n", KEYS_MIN_RSA_BITS,
				    KEYS_MAX_RSA_BITS);
				return false;
			}
			break;
		default:
			return false;
		}
	}
	if (optind != argc || o->domain == NULL || o->selector == NULL)
		return false;
	if (!addr_domain_valid(o->domain) || !addr_domain_valid(o->selector)) {
		fprintf(stderr, "authmilter: --domain and --selector must be "
		    "valid DNS names\n");
		return false;
	}
	return true;
}

/*
 * cli_keygen_mkdir - make dir and its missing parents, mode 0700, as
 * "mkdir -p" would; false (said) when it cannot
 */
static bool
cli_keygen_mkdir(const char *dir)
{
	char path[CLI_MAX_PATH];
	struct stat st;
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof(path)) {
		fprintf(stderr, "authmilter: --directory: bad path\n");
		return false;
	}
	if (stat(dir, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return true;
		fprintf(stderr, "authmilter: %s: not a directory\n", dir);
		return false;
	}
	memcpy(path, dir, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, CLI_KEY_DIR_MODE) != 0 && errno != EEXIST) {
			fprintf(stderr, "authmilter: cannot make %s: %s\n",
			    path, strerror(errno));
			return false;
		}
		path[i] = dir[i];
	}
	/* the umask may have taken bits away, never added: set it exactly */
	if (chmod(dir, CLI_KEY_DIR_MODE) != 0) {
		fprintf(stderr, "authmilter: %s: %s\n", dir, strerror(errno));
		return false;
	}
	fprintf(stderr, "authmilter: made the directory %s (mode 0700)\n",
	    dir);
	return true;
}

/* cli_keygen_testing - the record with t=y before p= (caller frees) */
static char *
cli_keygen_testing(const char *txt)
{
	const char *p = strstr(txt, "p=");
	struct buf b;

	buf_init(&b);
	if (p == NULL)
		buf_printf(&b, "%s; t=y", txt);
	else
		buf_printf(&b, "%.*st=y; %s", (int)(p - txt), txt, p);
	return buf_steal(&b);
}

/* cli_write_txt - the record next to the key, as opendkim-genkey does */
static void
cli_write_txt(const char *path, const char *record)
{
	FILE *fp = fopen(path, "w");

	if (fp == NULL || fputs(record, fp) == EOF || fclose(fp) != 0)
		fprintf(stderr, "authmilter: %s: %s\n", path, strerror(errno));
}

/* cli_keygen - make a key pair and print the DNS record */
int
cli_keygen(int argc, char **argv)
{
	struct keygen_opts o;
	char path[CLI_MAX_PATH], txtpath[CLI_MAX_PATH], err[512];
	char *txt = NULL, *record;

	memset(&o, 0, sizeof(o));
	if (!cli_keygen_args(argc, argv, &o))
		return cli_usage(&cli_cmd_keygen);
	if ((size_t)snprintf(path, sizeof(path), "%s/%s.private", o.dir,
	    o.selector) >= sizeof(path) ||
	    (size_t)snprintf(txtpath, sizeof(txtpath), "%s/%s.txt", o.dir,
	    o.selector) >= sizeof(txtpath)) {
		fprintf(stderr, "authmilter: --directory: path too long\n");
		return CLI_EXIT_ERROR;
	}
	if (!cli_keygen_mkdir(o.dir))
		return CLI_EXIT_ERROR;
	if (!keys_generate(o.alg, (unsigned)o.bits, path, &txt, err,
	    sizeof(err))) {
		fprintf(stderr, "authmilter: %s\n", err);
		return CLI_EXIT_ERROR;
	}
	if (o.testing) {
		char *t = cli_keygen_testing(txt);

		free(txt);
		txt = t;
	}
	record = keys_zone_record(o.selector, o.domain, txt);
	cli_write_txt(txtpath, record);
	fputs(record, stdout);
	fprintf(stderr, "authmilter: private key written to %s (mode 0600); "
	    "publish the record above in DNS%s\n", path, o.testing ?
	    " (t=y: testing; publish it again without t=y once signing "
	    "works)" : "");
	free(record);
	free(txt);
	return CLI_EXIT_OK;
}

const struct cli_command cli_cmd_keygen = {
	.name = "keygen",
	.run = cli_keygen,
	.synopsis = "--domain DOMAIN --selector SELECTOR [--algorithm "
	    "rsa|ed25519] [--bits N] [--directory DIR] [--testing]",
	.summary = "make a signing key pair and print its DNS record",
	.description = "Make a new key pair for DOMAIN and SELECTOR. The "
	    "private key is written in PEM form to DIR/SELECTOR.private, mode "
	    "0600; an existing file is never overwritten. The DNS record to "
	    "publish, a TXT record at SELECTOR._domainkey.DOMAIN split into "
	    "strings of at most 255 bytes, is written to DIR/SELECTOR.txt "
	    "and printed on standard output.",
	.options = cli_keygen_options,
	.exit_status = "0 the key was made; 1 an error (the key file exists, "
	    "the directory cannot be made); 2 on a usage error.",
};
