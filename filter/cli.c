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

/* cli_open_input - the message file, seekable */
static FILE *
cli_open_input(const char *file)
{
	FILE *fp;

	if (strcmp(file, "-") == 0)
		fp = cli_spool(stdin);
	else
		fp = fopen(file, "rb");
	if (fp == NULL)
		fprintf(stderr, "authmilter: %s: %s\n",
		    strcmp(file, "-") == 0 ? "stdin" : file, strerror(errno));
	return fp;
}

/* cli_sign_run - the engine over one message; exit code */
static int
cli_sign_run(struct config *cfg, const struct sign_opts *o, FILE *fp)
{
	struct message_sink sink;
	struct session *s;
	struct verdict v;
	char err[256];
	bool crlf = false;
	int rc;

	s = session_new(cfg);
	session_connect(s, "localhost", o->client_ip);
	session_helo(s, "localhost");
	session_mail(s, o->mail_from ? o->mail_from : "", o->auth_user);
	session_rcpt(s, "");
	message_session_sink(s, &sink);
	if (!message_read(fp, &sink, &crlf, err, sizeof(err))) {
		fprintf(stderr, "authmilter: %s: %s\n", o->file, err);
		session_free(s);
		return CLI_EXIT_ERROR;
	}
	session_eom(s, &v);
	fprintf(stderr, "authmilter: %s\n", v.summary);
	if (v.action != VERDICT_ACCEPT) {
		fprintf(stderr, "authmilter: the milter would answer %s %s %s\n",
		    v.rcode, v.xcode, v.reason);
		rc = CLI_EXIT_ERROR;
	} else {
		for (size_t i = 0; i < v.nadded; i++)
			cli_print_header(&v.added[i], crlf);
		rc = cli_copy(fp) ? (v.nadded ? CLI_EXIT_OK :
		    CLI_EXIT_NOT_SIGNED) : CLI_EXIT_ERROR;
	}
	verdict_clear(&v);
	session_free(s);
	return rc;
}

/* cli_sign - sign one message as the milter would */
int
cli_sign(int argc, char **argv)
{
	struct sign_opts o;
	struct config *cfg;
	FILE *fp;
	int rc;

	memset(&o, 0, sizeof(o));
	if (!cli_sign_args(argc, argv, &o))
		return cli_usage(CLI_SIGN_USAGE);
	cfg = cli_load(o.config);
	if (cfg == NULL)
		return CLI_EXIT_ERROR;
	fp = cli_open_input(o.file);
	if (fp == NULL) {
		config_unref(cfg);
		return CLI_EXIT_ERROR;
	}
	rc = cli_sign_run(cfg, &o, fp);
	fclose(fp);
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
