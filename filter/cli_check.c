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
 *	[--json] [--explain] [FILE|-]
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
 *
 *	--explain attaches a trace (trace.h) to the evaluation: the DNS
 *	service's watcher and the session's, hence the checks', trace
 *	lines are printed as the engine goes, before the result. Nothing
 *	here explains by judging again: the lines come from the code that
 *	decides.
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

#include "arc.h"
#include "cli.h"
#include "config.h"
#include "dkimverify.h"
#include "dmarc.h"
#include "inbound.h"
#include "message.h"
#include "session.h"
#include "spf.h"
#include "trace.h"
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
	bool		 explain;
	const char	*file;
};

static const struct cli_option check_options[] = {
	{ "config", 'c', true, "FILE", "The configuration to judge with. "
	    "Default: " CONFIG_DEFAULT_FILE " when it exists, else the "
	    "built-in defaults." },
	{ "nameserver", 'n', false, "IP[:PORT]", "Ask this DNS server instead "
	    "of the configured ones; may be repeated (at most 8)." },
	{ "client-ip", 'i', false, "IP", "The SMTP client's address (IPv4 or "
	    "IPv6). Required." },
	{ "helo", 'H', false, "NAME", "The HELO/EHLO name the client gave. "
	    "Required." },
	{ "mail-from", 'f', false, "ADDR", "The envelope sender; an empty "
	    "value or <> is the null sender. Required." },
	{ "rcpt", 'r', false, "ADDR", "An envelope recipient; may be "
	    "repeated." },
	{ "authserv-id", 'a', false, "ID", "The authserv-id of the "
	    "Authentication-Results field, instead of AuthservID." },
	{ "json", 'j', false, NULL, "Print one JSON object (see authmilter(8)) "
	    "instead of the header fields and the action." },
	{ "explain", 'e', false, NULL, "Before the result, print how it was "
	    "reached, as the engine goes: each DNS question and its answer "
	    "(cached or not, and how long it took), the SPF walk, each DKIM "
	    "signature's key and why it failed, each ARC set (key, hashes, "
	    "seal, chain result, trusted sealers, the set added), the DMARC "
	    "discovery walk and each alignment comparison, and the "
	    "configuration key behind the action. Same evaluation, same "
	    "result; with --json the explanation goes to standard error." },
	{ NULL, 0, false, NULL, NULL }
};

/* check_args - parse the options; false on a usage error */
static bool
check_args(int argc, char **argv, struct check_opts *o)
{
	struct cli_parser p;
	int c;

	cli_parser_init(&p, &cli_cmd_check);
	while ((c = cli_parser_next(&p, argc, argv)) != -1) {
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
		case 'e': o->explain = true; break;
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
	struct config *cfg = cli_config(o->config, o->nameservers,
	    o->nnameservers, NULL, err, sizeof(err));

	if (cfg == NULL)
		fprintf(stderr, "%s\n", err);
	else if (o->authserv_id != NULL) {
		free(cfg->authserv_id);
		cfg->authserv_id = xstrdup(o->authserv_id);
	}
	return cfg;
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
	cli_json_field(out, "result", a ? arc_result_name(a->result) : "none",
	    false);
	fprintf(out, "\"sets\": %u, \"oldest_pass\": %u, \"sealers\": [",
	    a ? a->sets : 0, a ? a->oldest_pass : 0);
	for (size_t i = 0; a != NULL && i < a->nsealers; i++) {
		if (i > 0)
			fputs(", ", out);
		cli_json_str(out, a->sealers[i]);
	}
	fputs("], ", out);
	cli_json_field(out, "reason", a ? a->reason : "", false);
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
		cli_json_field(out, "name", v->added[i].name, false);
		cli_json_field(out, "value", v->added[i].value, true);
		fputc('}', out);
	}
	fputs("],\n \"headers_removed\": [", out);
	for (size_t i = 0; i < v->nremoved; i++) {
		fputs(i ? ", {" : "{", out);
		cli_json_field(out, "name", v->removed[i].name, false);
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
	cli_json_field(out, "result", r ? spf_result_name(r->spf.result) :
	    "temperror", false);
	cli_json_field(out, "domain", r ? r->spf.domain : "", false);
	cli_json_field(out, "explanation", r ? r->spf.explanation : "", true);
	fputs("},\n \"spf_helo\": {", out);
	cli_json_field(out, "result", r && r->have_helo ?
	    spf_result_name(r->spf_helo.result) : "none", false);
	cli_json_field(out, "domain", r && r->have_helo ? r->spf_helo.domain : "",
	    true);
	fputs("},\n \"dkim\": [", out);
	for (size_t i = 0; r != NULL && i < r->ndkim; i++) {
		const struct dkimv_sig *d = &r->dkim[i];

		fputs(i ? ",\n          {" : "{", out);
		cli_json_field(out, "result", dkimv_result_name(d->result), false);
		cli_json_field(out, "domain", d->domain, false);
		cli_json_field(out, "selector", d->selector, false);
		cli_json_field(out, "algorithm", d->algorithm, false);
		cli_json_field(out, "reason", d->reason, true);
		fputc('}', out);
	}
	fputs("],\n ", out);
	check_print_arc(out, r);
	fputs(",\n \"dmarc\": {", out);
	if (r != NULL && r->from_ok) {
		cli_json_field(out, "result", dmarc_result_name(r->dmarc.result),
		    false);
		cli_json_field(out, "policy", dmarc_policy_name(r->dmarc.policy),
		    false);
		cli_json_field(out, "header_from", r->dmarc.header_from, false);
		cli_json_field(out, "disposition",
		    dmarc_policy_name(r->dmarc.disposition), false);
		cli_json_field(out, "override", dmarc_override_name(r->override),
		    false);
		cli_json_field(out, "override_comment", r->override_comment,
		    true);
	} else {
		cli_json_field(out, "result", r ? "permerror" : "temperror", false);
		cli_json_field(out, "policy", "none", false);
		cli_json_field(out, "header_from", "", false);
		cli_json_field(out, "disposition", "none", false);
		cli_json_field(out, "override", "none", false);
		cli_json_field(out, "override_comment", "", true);
	}
	fputs("},\n ", out);
	cli_json_field(out, "action", verdict_action_name(v->action), false);
	fputs("\n ", out);
	cli_json_field(out, "smtp_reply", reply, false);
	fputs("\n ", out);
	cli_json_field(out, "authentication_results", r && r->authres ?
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
		return cli_usage(&cli_cmd_check);
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
	if (o.explain) {
		env.trace = trace_new(o.json ? stderr : stdout);
		trace_line(env.trace, "message", "%s from client %s, HELO %s, "
		    "MAIL FROM <%s>, checked as inbound mail with %s", o.file,
		    o.client_ip, o.helo, o.mail_from, cfg->path ? cfg->path :
		    "the built-in defaults");
	}
	rc = cli_run_message(cfg, &env, check_show, &o);
	trace_free(env.trace);
	config_unref(cfg);
	return rc;
}

const struct cli_command cli_cmd_check = {
	.name = "check",
	.run = cli_check,
	.synopsis = "[-c FILE] [--nameserver IP[:PORT]]... --client-ip IP "
	    "--helo NAME --mail-from ADDR [--rcpt ADDR]... [--authserv-id ID] "
	    "[--json] [--explain] [FILE|-]",
	.summary = "check one message as inbound mail, as the milter would",
	.description = "Read one message from FILE or standard input and "
	    "check it as inbound mail, exactly as the milter would, whatever "
	    "the client address: SPF for MAIL FROM and HELO, every DKIM "
	    "signature up to MaximumSignaturesToVerify, DMARC, and the "
	    "decision. Print the header fields the milter would add, the "
	    "fields it would remove, the action and, for a reject or a "
	    "temporary failure, the reply; or, with --json, one JSON object.",
	.options = check_options,
	.exit_status = "0 the message was evaluated, whatever the action; 1 "
	    "an error (the configuration, the message file); 2 on a usage "
	    "error.",
};
