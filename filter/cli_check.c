/*
 * NAME
 *	cli_check - the check command: one message, inbound, as the milter
 *	would judge it
 * SYNOPSIS
 *	#include "cli.h"
 *
 *	int cli_check(argc, argv)
 * DESCRIPTION
 *	authmilter check [-c FILE] [--nameserver IP[:PORT]]... --client-ip IP
 *	--helo NAME --mail-from ADDR [--rcpt ADDR]... [--authserv-id ID]
 *	[--json] [FILE|-]
 *
 *	The message goes through a session exactly as the milter feeds it,
 *	checked as inbound mail whatever the client address, and the result
 *	is printed: with --json as the one JSON object that authmilter(8)
 *	documents (field names are an interface: keep them), else as the
 *	Authentication-Results header and the action.
 *
 *	Without -c, the default configuration file is used when it exists,
 *	else the built-in defaults. --nameserver and --authserv-id override
 *	the configuration.
 * DIAGNOSTICS
 *	Exit 0 when the message was evaluated (whatever the action), 1 on an
 *	error (configuration, input), 2 on a usage error.
 */
#include "buildconf.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arc.h"
#include "cli.h"
#include "config.h"
#include "dkimverify.h"
#include "dmarc.h"
#include "inbound.h"
#include "message.h"
#include "session.h"
#include "spf.h"
#include "util.h"

#define CLI_MAX_RCPTS	100	/* --rcpt options kept */

struct check_opts {
	const char	*config;
	const char	*nameservers[CONFIG_MAX_NAMESERVERS];
	size_t		 nnameservers;
	const char	*client_ip;
	const char	*helo;
	const char	*mail_from;
	const char	*rcpts[CLI_MAX_RCPTS];
	size_t		 nrcpts;
	const char	*authserv_id;
	bool		 json;
	const char	*file;
};

/* check_args - parse the options; false on a usage error */
static bool
check_args(int argc, char **argv, struct check_opts *o)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "nameserver", required_argument, NULL, 'n' },
		{ "client-ip", required_argument, NULL, 'i' },
		{ "helo", required_argument, NULL, 'H' },
		{ "mail-from", required_argument, NULL, 'f' },
		{ "rcpt", required_argument, NULL, 'r' },
		{ "authserv-id", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'n':
			if (o->nnameservers >= CONFIG_MAX_NAMESERVERS)
				return false;
			o->nameservers[o->nnameservers++] = optarg;
			break;
		case 'i': o->client_ip = optarg; break;
		case 'H': o->helo = optarg; break;
		case 'f': o->mail_from = optarg; break;
		case 'r':
			if (o->nrcpts < CLI_MAX_RCPTS)
				o->rcpts[o->nrcpts++] = optarg;
			break;
		case 'a': o->authserv_id = optarg; break;
		case 'j': o->json = true; break;
		default: return false;
		}
	}
	if (argc - optind > 1 || o->client_ip == NULL || o->helo == NULL ||
	    o->mail_from == NULL)
		return false;
	o->file = optind < argc ? argv[optind] : "-";
	return true;
}

/* check_config - the configuration to judge with, options applied */
static struct config *
check_config(const struct check_opts *o)
{
	char err[CONFIG_ERRLEN];
	struct config *cfg;
	const char *path = o->config;

	if (path == NULL && access(CONFIG_DEFAULT_FILE, F_OK) == 0)
		path = CONFIG_DEFAULT_FILE;
	if (path != NULL) {
		cfg = config_load(path, err, sizeof(err));
		if (cfg == NULL) {
			fprintf(stderr, "%s\n", err);
			return NULL;
		}
	} else
		cfg = config_defaults();
	if (o->nnameservers > 0) {
		for (size_t i = 0; i < cfg->nnameservers; i++)
			free(cfg->nameservers[i]);
		for (size_t i = 0; i < o->nnameservers; i++)
			cfg->nameservers[i] = xstrdup(o->nameservers[i]);
		cfg->nnameservers = o->nnameservers;
	}
	if (o->authserv_id != NULL) {
		free(cfg->authserv_id);
		cfg->authserv_id = xstrdup(o->authserv_id);
	}
	return cfg;
}

/* json_str - s as a JSON string; invalid UTF-8 becomes U+FFFD */
static void
json_str(FILE *out, const char *s)
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

/* json_field - "name": "value" with a separator */
static void
json_field(FILE *out, const char *name, const char *value, bool last)
{
	json_str(out, name);
	fputs(": ", out);
	json_str(out, value);
	if (!last)
		fputs(", ", out);
}

/* check_reply - the SMTP reply text of a verdict ("" when accepted) */
static char *
check_reply(const struct verdict *v)
{
	struct buf b;

	buf_init(&b);
	if (v->action == VERDICT_REJECT || v->action == VERDICT_TEMPFAIL)
		buf_printf(&b, "%s %s %s", v->rcode, v->xcode,
		    v->reason ? v->reason : "");
	return buf_steal(&b);
}

/*
 * check_print_arc - the "arc" object: result, sets, oldest_pass, the
 * sealers i=1 first, reason; trusted (every sealer in TrustedARCSealers)
 */
static void
check_print_arc(FILE *out, const struct inbound_results *r)
{
	const struct arc_outcome *a = r != NULL ? &r->arc : NULL;

	fputs("\"arc\": {", out);
	json_field(out, "result", a ? arc_result_name(a->result) : "none",
	    false);
	fprintf(out, "\"sets\": %u, \"oldest_pass\": %u, \"sealers\": [",
	    a ? a->sets : 0, a ? a->oldest_pass : 0);
	for (size_t i = 0; a != NULL && i < a->nsealers; i++) {
		if (i > 0)
			fputs(", ", out);
		json_str(out, a->sealers[i]);
	}
	fputs("], ", out);
	json_field(out, "reason", a ? a->reason : "", false);
	fprintf(out, "\"trusted\": %s, \"sealed\": %u}",
	    r != NULL && r->arc_trusted ? "true" : "false",
	    r != NULL ? r->sealed : 0);
}

/*
 * check_print_headers - "headers_added" (top down: the first ends up
 * topmost) and "headers_removed"
 */
static void
check_print_headers(FILE *out, const struct verdict *v)
{
	fputs("\"headers_added\": [", out);
	for (size_t i = 0; i < v->nadded; i++) {
		fputs(i ? ",\n    {" : "{", out);
		json_field(out, "name", v->added[i].name, false);
		json_field(out, "value", v->added[i].value, true);
		fputc('}', out);
	}
	fputs("],\n \"headers_removed\": [", out);
	for (size_t i = 0; i < v->nremoved; i++) {
		fputs(i ? ", {" : "{", out);
		json_field(out, "name", v->removed[i].name, false);
		fprintf(out, "\"index\": %u}", v->removed[i].index);
	}
	fputc(']', out);
}

/* check_print_json - the JSON object of authmilter(8) */
static void
check_print_json(FILE *out, const struct verdict *v)
{
	const struct inbound_results *r = v->results;
	char *reply = check_reply(v);

	fputs("{\"spf\": {", out);
	json_field(out, "result", r ? spf_result_name(r->spf.result) :
	    "temperror", false);
	json_field(out, "domain", r ? r->spf.domain : "", false);
	json_field(out, "explanation", r ? r->spf.explanation : "", true);
	fputs("},\n \"spf_helo\": {", out);
	json_field(out, "result", r && r->have_helo ?
	    spf_result_name(r->spf_helo.result) : "none", false);
	json_field(out, "domain", r && r->have_helo ? r->spf_helo.domain : "",
	    true);
	fputs("},\n \"dkim\": [", out);
	for (size_t i = 0; r != NULL && i < r->ndkim; i++) {
		const struct dkimv_sig *d = &r->dkim[i];

		fputs(i ? ",\n          {" : "{", out);
		json_field(out, "result", dkimv_result_name(d->result), false);
		json_field(out, "domain", d->domain, false);
		json_field(out, "selector", d->selector, false);
		json_field(out, "algorithm", d->algorithm, false);
		json_field(out, "reason", d->reason, true);
		fputc('}', out);
	}
	fputs("],\n ", out);
	check_print_arc(out, r);
	fputs(",\n \"dmarc\": {", out);
	if (r != NULL && r->from_ok) {
		json_field(out, "result", dmarc_result_name(r->dmarc.result),
		    false);
		json_field(out, "policy", dmarc_policy_name(r->dmarc.policy),
		    false);
		json_field(out, "header_from", r->dmarc.header_from, false);
		json_field(out, "disposition",
		    dmarc_policy_name(r->dmarc.disposition), false);
		json_field(out, "override", dmarc_override_name(r->override),
		    false);
		json_field(out, "override_comment", r->override_comment,
		    true);
	} else {
		json_field(out, "result", r ? "permerror" : "temperror", false);
		json_field(out, "policy", "none", false);
		json_field(out, "header_from", "", false);
		json_field(out, "disposition", "none", false);
		json_field(out, "override", "none", false);
		json_field(out, "override_comment", "", true);
	}
	fputs("},\n ", out);
	json_field(out, "action", verdict_action_name(v->action), false);
	fputs("\n ", out);
	json_field(out, "smtp_reply", reply, false);
	fputs("\n ", out);
	json_field(out, "authentication_results", r && r->authres ?
	    r->authres : "", false);
	fputs("\n ", out);
	check_print_headers(out, v);
	fputs("}\n", out);
	free(reply);
}

/* check_print_text - the headers the milter adds and the action, for people */
static void
check_print_text(FILE *out, const struct verdict *v)
{
	char *reply = check_reply(v);

	for (size_t i = 0; i < v->nadded; i++) {
		fprintf(out, "%s: ", v->added[i].name);
		for (const char *p = v->added[i].value; *p; p++)
			if (*p != '\r')
				fputc(*p, out);
		fputc('\n', out);
	}
	for (size_t i = 0; i < v->nremoved; i++)
		fprintf(out, "removed: %s #%u\n", v->removed[i].name,
		    v->removed[i].index);
	fprintf(out, "action: %s%s%s\n", verdict_action_name(v->action),
	    reply[0] ? "\nreply: " : "", reply);
	free(reply);
}

/* check_show - print the verdict as JSON or text */
static int
check_show(const struct verdict *v, bool crlf, FILE *fp, void *arg)
{
	const struct check_opts *o = arg;

	(void)crlf;
	(void)fp;
	if (o->json)
		check_print_json(stdout, v);
	else
		check_print_text(stdout, v);
	return CLI_EXIT_OK;
}

/* cli_check - the check command */
int
cli_check(int argc, char **argv)
{
	struct check_opts o;
	struct cli_envelope env;
	struct config *cfg;
	int rc;

	memset(&o, 0, sizeof(o));
	if (!check_args(argc, argv, &o))
		return cli_usage(CLI_CHECK_USAGE);
	cfg = check_config(&o);
	if (cfg == NULL)
		return CLI_EXIT_ERROR;
	memset(&env, 0, sizeof(env));
	env.file = o.file;
	env.client_name = "unknown";
	env.client_ip = o.client_ip;
	env.helo = o.helo;
	env.mail_from = o.mail_from;
	env.rcpts = (const char *const *)o.rcpts;
	env.nrcpts = o.nrcpts;
	env.inbound = true;
	rc = cli_run_message(cfg, &env, check_show, &o);
	config_unref(cfg);
	return rc;
}
