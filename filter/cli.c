/*
 * NAME
 *	cli - the command line front end
 * SYNOPSIS
 *	#include "cli.h"
 *
 *	int cli_configtest(argc, argv)
 *	int cli_sign(argc, argv)
 *	int cli_keygen(argc, argv)
 * DESCRIPTION
 *	configtest loads a configuration exactly as the daemon would (keys
 *	included) and says whether it is good. sign runs a message through a
 *	session as an outbound message from the given client and prints it
 *	with the headers the milter would add. keygen makes a key pair and
 *	prints the DNS record to publish.
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

#include "addr.h"
#include "cli.h"
#include "config.h"
#include "keys.h"
#include "keytable.h"
#include "log.h"
#include "message.h"
#include "runtime.h"
#include "session.h"
#include "util.h"

#define CLI_DEFAULT_BITS	2048

/* cli_usage - a usage error */
int
cli_usage(const char *text)
{
	fprintf(stderr, "usage: %s\n", text);
	return CLI_EXIT_USAGE;
}

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

/* cli_configtest - check a configuration file */
int
cli_configtest(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 }
	};
	const char *path = CONFIG_DEFAULT_FILE;
	struct config *cfg;
	int c;

	while ((c = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		if (c != 'c')
			return cli_usage("authmilter configtest -c FILE");
		path = optarg;
	}
	if (optind != argc)
		return cli_usage("authmilter configtest -c FILE");
	cfg = cli_load(path);
	if (cfg == NULL)
		return CLI_EXIT_ERROR;
	printf("%s: configuration OK (%zu signing keys)\n", path,
	    cfg->keytable->count);
	config_unref(cfg);
	return CLI_EXIT_OK;
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

#define CLI_SIGN_USAGE	"authmilter sign [-c FILE] [--auth-user USER] " \
	"[--client-ip IP] [--mail-from ADDR] [FILE|-]"

/* cli_sign_args - parse the sign command's arguments */
static bool
cli_sign_args(int argc, char **argv, struct sign_opts *o)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "auth-user", required_argument, NULL, 'a' },
		{ "client-ip", required_argument, NULL, 'i' },
		{ "mail-from", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	o->config = CONFIG_DEFAULT_FILE;
	o->client_ip = "127.0.0.1";
	while ((c = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
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
		return cli_usage(CLI_SIGN_USAGE);
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

/* Options of the keygen command. */
struct keygen_opts {
	const char	*domain;
	const char	*selector;
	const char	*dir;
	enum key_alg	 alg;
	unsigned long	 bits;
};

#define CLI_KEYGEN_USAGE	"authmilter keygen --domain DOMAIN " \
	"--selector SELECTOR [--algorithm rsa|ed25519] [--bits N] " \
	"[--directory DIR]"

/* cli_keygen_args - parse and check keygen's arguments */
static bool
cli_keygen_args(int argc, char **argv, struct keygen_opts *o)
{
	static const struct option opts[] = {
		{ "domain", required_argument, NULL, 'd' },
		{ "selector", required_argument, NULL, 's' },
		{ "algorithm", required_argument, NULL, 'a' },
		{ "bits", required_argument, NULL, 'b' },
		{ "directory", required_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	o->dir = ".";
	o->alg = KEY_ALG_RSA;
	o->bits = CLI_DEFAULT_BITS;
	while ((c = getopt_long(argc, argv, "d:s:a:b:D:", opts, NULL)) != -1) {
		switch (c) {
		case 'd': o->domain = optarg; break;
		case 's': o->selector = optarg; break;
		case 'D': o->dir = optarg; break;
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
	char path[4096], txtpath[4096], err[512], *txt = NULL, *record;

	memset(&o, 0, sizeof(o));
	if (!cli_keygen_args(argc, argv, &o))
		return cli_usage(CLI_KEYGEN_USAGE);
	snprintf(path, sizeof(path), "%s/%s.private", o.dir, o.selector);
	snprintf(txtpath, sizeof(txtpath), "%s/%s.txt", o.dir, o.selector);
	if (!keys_generate(o.alg, (unsigned)o.bits, path, &txt, err,
	    sizeof(err))) {
		fprintf(stderr, "authmilter: %s\n", err);
		return CLI_EXIT_ERROR;
	}
	record = keys_zone_record(o.selector, o.domain, txt);
	cli_write_txt(txtpath, record);
	fputs(record, stdout);
	fprintf(stderr, "authmilter: private key written to %s (mode 0600); "
	    "publish the record above in DNS\n", path);
	free(record);
	free(txt);
	return CLI_EXIT_OK;
}
