/*
 * NAME
 *	cli_doctor - the doctor command: a domain's DKIM, SPF, DMARC and MX
 *	records checked against the local configuration
 * SYNOPSIS
 *	#include "cli.h"
 *
 *	int cli_doctor(argc, argv)
 * DESCRIPTION
 *	authmilter doctor [-c FILE] [--ip ADDR]... [--nameserver IP[:PORT]]...
 *	[--json] DOMAIN
 *
 *	Loads the configuration (-c, else the default file when it exists,
 *	else none: the published records are checked on their own), starts
 *	the DNS service of a runtime of its own, hands both to the doctor
 *	module (doctor.c), and prints its findings: one line each, "ok",
 *	"warning" or "error", the check and the text, then the worst; or,
 *	with --json, one object {"domain", "findings": [{"check",
 *	"severity", "text"}], "worst"}. The checks themselves are the
 *	engine's; nothing here judges. A configuration file that does not
 *	load is said on standard error and handed to the doctor as a
 *	finding; the records are then checked with the built-in defaults.
 * DIAGNOSTICS
 *	Exit 0 when every finding is ok, 1 when the worst is a warning, 3
 *	when it is an error (or the configuration or DNS cannot be used), 2
 *	on a usage error.
 */
#include "buildconf.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "cli.h"
#include "config.h"
#include "doctor.h"
#include "runtime.h"
#include "spf.h"
#include "util.h"

#define CLI_DOCTOR_EXIT_WARNING	1	/* the worst finding is a warning */
#define CLI_DOCTOR_EXIT_ERRORS	3	/* ... an error */

struct doctor_opts {
	const char	*config;
	const char	*ips[DOCTOR_MAX_IPS];
	size_t		 nips;
	const char	*nameservers[CONFIG_MAX_NAMESERVERS];
	size_t		 nnameservers;
	bool		 json;
	const char	*domain;
};

static const struct cli_option cli_doctor_options[] = {
	{ "config", 'c', true, "FILE", "The configuration whose signing keys "
	    "(Domain/Selector/KeyFile, or KeyTable and SigningTable) are "
	    "checked against the published records. Default: "
	    CONFIG_DEFAULT_FILE " when it exists, else none: the published "
	    "records are checked on their own." },
	{ "ip", 'i', false, "ADDR", "An address the domain's mail leaves from "
	    "(IPv4 or IPv6): say whether SPF passes it, as the engine's SPF "
	    "evaluator decides. May be repeated (at most 16). Without it SPF "
	    "is checked for syntax and limits only." },
	{ "nameserver", 'n', false, "IP[:PORT]", "Ask this DNS server instead "
	    "of the configured ones; may be repeated (at most 8)." },
	{ "json", 'j', false, NULL, "Print one JSON object: {\"domain\": ..., "
	    "\"findings\": [{\"check\": ..., \"severity\": "
	    "\"ok|warning|error\", \"text\": ...}], \"worst\": ...}." },
	{ NULL, 0, false, NULL, NULL }
};

/* cli_doctor_args - parse the options; false on a usage error (said) */
static bool
cli_doctor_args(int argc, char **argv, struct doctor_opts *o)
{
	struct cli_parser p;
	struct spf_addr addr;
	int c;

	cli_parser_init(&p, &cli_cmd_doctor);
	while ((c = cli_parser_next(&p, argc, argv)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'j': o->json = true; break;
		case 'i':
			if (o->nips >= DOCTOR_MAX_IPS ||
			    !spf_addr_parse(optarg, &addr)) {
				fprintf(stderr, "authmilter doctor: --ip %s: %s\n",
				    optarg, o->nips >= DOCTOR_MAX_IPS ?
				    "too many addresses" : "not an address");
				return false;
			}
			o->ips[o->nips++] = optarg;
			break;
		case 'n':
			if (o->nnameservers >= CONFIG_MAX_NAMESERVERS)
				return false;
			o->nameservers[o->nnameservers++] = optarg;
			break;
		default:
			return false;
		}
	}
	if (argc - optind != 1)
		return false;
	o->domain = argv[optind];
	if (!addr_domain_valid(o->domain)) {
		fprintf(stderr, "authmilter doctor: \"%s\" is not a domain "
		    "name\n", o->domain);
		return false;
	}
	return true;
}

/* cli_doctor_json - the one JSON object */
static void
cli_doctor_json(FILE *out, const struct doctor_report *rep)
{
	fputc('{', out);
	cli_json_field(out, "domain", rep->domain, true);
	fputs(",\n \"findings\": [", out);
	for (size_t i = 0; i < rep->nfindings; i++) {
		const struct doctor_finding *f = &rep->findings[i];

		fputs(i ? ",\n   {" : "\n   {", out);
		cli_json_field(out, "check", f->check, false);
		cli_json_field(out, "severity",
		    doctor_severity_name(f->severity), false);
		cli_json_field(out, "text", f->text, true);
		fputc('}', out);
	}
	fputs("],\n ", out);
	cli_json_field(out, "worst", doctor_severity_name(rep->worst), true);
	fputs("}\n", out);
}

/* cli_doctor_text - one line per finding, then the worst */
static void
cli_doctor_text(FILE *out, const struct doctor_report *rep)
{
	size_t count[DOCTOR_ERROR + 1] = { 0 };

	printf("authmilter doctor %s\n", rep->domain);
	for (size_t i = 0; i < rep->nfindings; i++) {
		const struct doctor_finding *f = &rep->findings[i];

		count[f->severity]++;
		fprintf(out, "%-8s %-7s %s\n",
		    doctor_severity_name(f->severity), f->check, f->text);
	}
	if (rep->dropped > 0)
		fprintf(out, "(%zu more findings not shown)\n", rep->dropped);
	fprintf(out, "worst: %s (%zu ok, %zu warning%s, %zu error%s)\n",
	    doctor_severity_name(rep->worst), count[DOCTOR_OK],
	    count[DOCTOR_WARNING], count[DOCTOR_WARNING] == 1 ? "" : "s",
	    count[DOCTOR_ERROR], count[DOCTOR_ERROR] == 1 ? "" : "s");
}

/* cli_doctor - the doctor command */
int
cli_doctor(int argc, char **argv)
{
	struct doctor_request req;
	struct doctor_report *rep;
	struct doctor_opts o;
	struct runtime *rt;
	struct config *cfg;
	char err[CONFIG_ERRLEN], cfg_err[CONFIG_ERRLEN];
	bool have;
	int rc;

	memset(&o, 0, sizeof(o));
	if (!cli_doctor_args(argc, argv, &o))
		return cli_usage(&cli_cmd_doctor);
	memset(&req, 0, sizeof(req));
	cfg = cli_config(o.config, o.nameservers, o.nnameservers, &have, err,
	    sizeof(err));
	if (cfg == NULL) {
		/* a finding like the others; the records are still checked */
		fprintf(stderr, "authmilter doctor: %s\n", err);
		snprintf(cfg_err, sizeof(cfg_err), "%s", err);
		req.config_error = cfg_err;
		cfg = config_defaults();
		cli_config_nameservers(cfg, o.nameservers, o.nnameservers);
		have = false;
	}
	if ((rt = runtime_new(cfg, err, sizeof(err))) == NULL) {
		fprintf(stderr, "authmilter doctor: %s\n", err);
		config_unref(cfg);
		return CLI_DOCTOR_EXIT_ERRORS;
	}
	req.domain = o.domain;
	req.cfg = cfg;
	req.have_config = have;
	req.ips = o.ips;
	req.nips = o.nips;
	if ((req.dns = runtime_dns(rt)) == NULL) {
		fprintf(stderr, "authmilter doctor: the DNS service cannot "
		    "start (see Nameservers)\n");
		runtime_free(rt);
		config_unref(cfg);
		return CLI_DOCTOR_EXIT_ERRORS;
	}
	rep = xcalloc(1, sizeof(*rep));
	doctor_run(&req, rep);
	if (o.json)
		cli_doctor_json(stdout, rep);
	else
		cli_doctor_text(stdout, rep);
	rc = rep->worst == DOCTOR_ERROR ? CLI_DOCTOR_EXIT_ERRORS :
	    rep->worst == DOCTOR_WARNING ? CLI_DOCTOR_EXIT_WARNING :
	    CLI_EXIT_OK;
	free(rep);
	runtime_free(rt);
	config_unref(cfg);
	return rc;
}

const struct cli_command cli_cmd_doctor = {
	.name = "doctor",
	.run = cli_doctor,
	.synopsis = "[-c FILE] [--ip ADDR]... [--nameserver IP[:PORT]]... "
	    "[--json] DOMAIN",
	.summary = "check a domain's DKIM, SPF, DMARC and MX against the "
	    "configuration",
	.description = "Check everything a sender needs to know about DOMAIN "
	    "against live DNS and the local configuration: each signing key "
	    "configured for DOMAIN against the record at "
	    "SELECTOR._domainkey.D (present, parses, the same public key as "
	    "the private key on disk, algorithm and size, t=y, h= and s=), "
	    "and keys published at common selectors that nothing here uses; "
	    "the SPF record (exactly one, RFC 7208 syntax, at most 10 "
	    "DNS-querying terms and 2 void lookups, counted as the evaluator "
	    "counts them, and whether each --ip passes); the DMARC record "
	    "(found by the RFC 9989 tree walk, and by RFC 7489 when that "
	    "differs; removed tags pct, rf, ri; p, sp, np and t explained; "
	    "rua and ruf destinations outside the domain authorised at "
	    "DOMAIN._report._dmarc.HOST; the signing domains aligned); and "
	    "the MX (or a null MX); and, when the configuration records or "
	    "sends DMARC reports, the report set-up (the ReportStore opens, "
	    "its schema is current and a SQLite store is writable by UserID; "
	    "ReportOrgName and ReportEmail; the ReportSendmail program). A "
	    "configuration that does not load is an error finding. One line "
	    "per finding: ok, warning (works "
	    "but should change) or error (makes mail fail).",
	.options = cli_doctor_options,
	.exit_status = "0 every finding is ok; 1 the worst is a warning; 3 "
	    "the worst is an error (or the configuration or the DNS could "
	    "not be used); 2 on a usage error.",
};
