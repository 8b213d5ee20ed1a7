/*
 * NAME
 *	cli_report - the report command: DMARC aggregate reports from the
 *	report store, built once, mailed once
 * SYNOPSIS
 *	#include "cli.h"
 *
 *	int cli_report(argc, argv)
 * DESCRIPTION
 *	authmilter report [-c FILE] [--from YYYY-MM-DD] [--to YYYY-MM-DD]
 *	    [--dry-run] [--output DIR]
 *
 *	For each UTC day from --from to --to (both included; yesterday by
 *	default; today covers what is recorded so far) and each DMARC policy
 *	domain with rows that day, one report (RFC 9990): the rows grouped
 *	and counted (report.c), gzipped, named
 *	receiver!policy-domain!begin!end!id.xml.gz, and mailed to every
 *	mailto: URI of the domain's rua= through ReportSMTPRelay, or else
 *	ReportSendmail (report_send.c; sendmail(1)
 *	of the gateway's MTA, which signs it) with the RFC's Subject.
 *
 *	Idempotent. A report is made once: its id is a hash of the receiver,
 *	the policy domain and its first second, and the store keeps it with
 *	its XML. The run that creates it, or that claims a pending one (a
 *	destination to retry), is the only one that sends it; the claim is
 *	the store's (report_store.c), so two runs on one gateway, or on two
 *	gateways sharing PostgreSQL, send nothing twice. Each destination's
 *	outcome is kept: sent and skipped are final, a failure is tried again
 *	by the next run. A report that ends before the day does (asked for
 *	today) is followed by another from its end the next time.
 *
 *	Destinations are the rua= mailto: URIs, percent-decoded; one with
 *	header fields or no plain address is skipped for good. External
 *	destinations (RFC 9990 section 4, report_dest.c): when the
 *	organizational domain of the rua host is not the policy domain's,
 *	the TXT record <policy-domain>._report._dmarc.<host> must start with
 *	v=DMARC1, and its own rua= replaces the destination. A temporary DNS
 *	error leaves the destination for the next run; no record skips it
 *	for good, and the log says so. A relay's 4xx (or a timeout, or
 *	sendmail failing) leaves it to the next run, a 5xx is final
 *	("failed").
 *
 *	--dry-run says what would be made and sent and changes nothing;
 *	--output DIR writes the .xml.gz files there and mails nothing (nor
 *	changes the store). A normal run first drops rows and reports older
 *	than ReportRetentionDays.
 * DIAGNOSTICS
 *	Exit 0 when the run went through, also with nothing to report (a
 *	destination to retry is not an error: the next run tries it); 1 when
 *	the configuration or the store failed; 2 on a usage error.
 */
#include "buildconf.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "cli.h"
#include "config.h"
#include "dmarc.h"
#include "dns.h"
#include "log.h"
#include "report.h"
#include "report_dest.h"
#include "report_send.h"
#include "report_store.h"
#include "runtime.h"
#include "util.h"

#define CLI_REPORT_MAX_DAYS	366	/* days in one run */
#define CLI_REPORT_MAX_RECORDS	100000	/* records (grouped rows) in one report */
#define CLI_REPORT_MAX_DOMAINS	100000	/* policy domains in one day */
#define CLI_REPORT_MAX_CHAIN	1440	/* reports of one domain and day */
#define CLI_REPORT_MAX_URIS	8	/* rua destinations per report */
#define CLI_REPORT_CLAIM_SECS	3600	/* a claim outlives a dead run by */
#define CLI_REPORT_SENDMAIL_SECS 120	/* one sendmail(1) at most */
#define CLI_REPORT_ERRLEN	1024

struct cli_report_run {
	struct config	*cfg;
	struct report_store *st;
	struct runtime	*rt;		/* for DNS, made when first needed */
	char		 receiver[ADDR_MAX_DOMAIN + 1];
	char		 generator[64];
	char		 who[300];	/* the claimant: gateway:pid */
	int64_t		 now;
	bool		 dry_run;
	const char	*output;
	unsigned long	 built, sent, skipped, retry, files, held;
	bool		 error;
};

/* A sorted set of domain names for one day. */
struct cli_names {
	char		**v;
	size_t		 n;
};

static void
cli_names_add(void *arg, const char *name)
{
	struct cli_names *ns = arg;

	if (ns->n >= CLI_REPORT_MAX_DOMAINS)
		return;
	for (size_t i = 0; i < ns->n; i++)
		if (strcmp(ns->v[i], name) == 0)
			return;
	ns->v = xrealloc(ns->v, (ns->n + 1) * sizeof(*ns->v));
	ns->v[ns->n++] = xstrdup(name);
}

static void
cli_names_free(struct cli_names *ns)
{
	for (size_t i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
}

/* cli_report_dns - the DNS service, started on first use */
static struct dns_service *
cli_report_dns(struct cli_report_run *run)
{
	char err[CONFIG_ERRLEN];

	if (run->rt == NULL) {
		run->rt = runtime_new(run->cfg, err, sizeof(err));
		if (run->rt == NULL) {
			fprintf(stderr, "authmilter: %s\n", err);
			return NULL;
		}
	}
	return runtime_dns(run->rt);
}

/* cli_report_meta - the metadata of report e */
static void
cli_report_meta(struct cli_report_run *run, const struct report_entry *e,
    struct report_meta *m)
{
	memset(m, 0, sizeof(*m));
	m->org_name = run->cfg->report_org_name;
	m->email = run->cfg->report_email;
	m->receiver = run->receiver;
	m->generator = run->generator;
	util_copy(m->id, sizeof(m->id), e->id);
	m->begin = e->begin;
	m->end = e->end;
}

/* cli_report_done_with - has dest an outcome that is final? */
static int
cli_report_done_with(struct cli_report_run *run, const char *id,
    const char *dest)
{
	char state[REPORT_STORE_MAX_STATE], err[CLI_REPORT_ERRLEN];

	if (run->dry_run)
		return 0;
	if (!report_store_delivery(run->st, id, dest, state, err,
	    sizeof(err))) {
		fprintf(stderr, "authmilter: %s\n", err);
		run->error = true;
		return -1;
	}
	return strcmp(state, "sent") == 0 || strcmp(state, "skipped") == 0 ||
	    strcmp(state, "failed") == 0;
}

/*
 * cli_report_outcome - say and keep what became of dest (state: sent,
 * skipped, failed or retry; NULL for a dry run's "would be sent");
 * false when the store could not keep it
 */
static bool
cli_report_outcome(struct cli_report_run *run, const struct report_entry *e,
    const char *fname, const char *dest, const char *state, const char *why)
{
	char err[CLI_REPORT_ERRLEN];

	printf("  %s: %s%s%s%s\n", dest, state ? state : "would be sent",
	    why[0] ? " (" : "", why, why[0] ? ")" : "");
	if (why[0])
		log_info("report %s to %s: %s (%s)", fname, dest,
		    state ? state : "would be sent", why);
	if (state == NULL || run->dry_run)
		return true;
	if (!report_store_set_delivery(run->st, e->id, dest, state, why,
	    run->now, err, sizeof(err))) {
		fprintf(stderr, "authmilter: %s\n", err);
		run->error = true;
		return false;
	}
	return true;
}

/* cli_report_mail - the report to one address; false: try again */
static bool
cli_report_mail(struct cli_report_run *run, const struct report_entry *e,
    const struct report_meta *m, const char *fname, const struct buf *gz,
    const char *addr)
{
	char why[CLI_REPORT_ERRLEN];
	struct report_sender s;
	const char *state;
	struct buf mail;
	int done = cli_report_done_with(run, e->id, addr);

	if (done != 0)
		return done > 0;
	if (run->dry_run)
		return cli_report_outcome(run, e, fname, addr, NULL, "");
	memset(&s, 0, sizeof(s));
	s.relay = run->cfg->report_smtp_relay;
	s.sendmail = run->cfg->report_sendmail;
	s.from = run->cfg->report_email;
	s.helo = config_report_gateway(run->cfg);
	s.dns = s.relay != NULL ? cli_report_dns(run) : NULL;
	s.sendmail_secs = CLI_REPORT_SENDMAIL_SECS;
	buf_init(&mail);
	report_mail(m, e->domain, addr, fname, gz, run->now, &mail);
	switch (report_send(&s, addr, &mail, why, sizeof(why))) {
	case REPORT_SENT:
		state = "sent";
		run->sent++;
		break;
	case REPORT_SEND_REFUSED:
		state = "failed";	/* a 5xx: never again */
		run->skipped++;
		break;
	default:
		state = "retry";
		run->retry++;
	}
	buf_free(&mail);
	return cli_report_outcome(run, e, fname, addr, state, why) &&
	    strcmp(state, "retry") != 0;
}

/*
 * cli_report_one_dest - the n-th rua= destination of a report: checked
 * (an external one must be authorized, and may be replaced by the rua=
 * of its authorization), then mailed; false: try again
 */
static bool
cli_report_one_dest(struct cli_report_run *run, const struct report_entry *e,
    const struct report_meta *m, const char *fname, const struct buf *gz,
    size_t n)
{
	char addr[REPORT_MAX_ADDR + 1], dest[REPORT_MAX_ADDR + 1];
	char override[REPORT_MAX_RUA + 1], why[CLI_REPORT_ERRLEN];
	enum report_uri u = report_mailto(e->rua, n, addr, sizeof(addr));
	enum report_auth auth;
	bool done = true;
	int final = cli_report_done_with(run, e->id, addr);

	if (final != 0)
		return final > 0;
	if (u == REPORT_URI_BAD) {
		snprintf(why, sizeof(why), "not a usable mailto: URI");
		run->skipped++;
		return cli_report_outcome(run, e, fname, addr, "skipped", why);
	}
	auth = report_dest_check(cli_report_dns(run), run->cfg->dmarc_mode ==
	    CFG_DMARC_RFC7489 ? DMARC_MODE_RFC7489 : DMARC_MODE_RFC9989,
	    e->domain, addr, "rua", override, sizeof(override), why,
	    sizeof(why));
	if (auth == REPORT_AUTH_NO) {
		run->skipped++;
		return cli_report_outcome(run, e, fname, addr, "skipped", why);
	}
	if (auth == REPORT_AUTH_TEMP) {
		run->retry++;
		(void)cli_report_outcome(run, e, fname, addr, "retry", why);
		return false;
	}
	if (override[0] == '\0')
		return cli_report_mail(run, e, m, fname, gz, addr);
	/* the destination's own rua= replaces it (RFC 9990 section 4) */
	printf("  %s: %s\n", addr, why);
	log_info("report %s to %s: %s", fname, addr, why);
	for (size_t k = 0; k < CLI_REPORT_MAX_URIS &&
	    report_mailto(override, k, dest, sizeof(dest)) == REPORT_URI_OK;
	    k++)
		if (!cli_report_mail(run, e, m, fname, gz, dest))
			done = false;
	if (!run->dry_run && !cli_report_outcome(run, e, fname, addr,
	    done ? "sent" : "retry", why))
		done = false;
	return done;
}

/* cli_report_write_file - DIR/fname with the gzip data */
static void
cli_report_write_file(struct cli_report_run *run, const char *fname,
    const struct buf *gz)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", run->output, fname);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, gz->data, gz->len) != (ssize_t)gz->len) {
		fprintf(stderr, "authmilter: %s: %s\n", path, strerror(errno));
		run->error = true;
	} else {
		printf("  written: %s\n", path);
		run->files++;
	}
	if (fd >= 0)
		close(fd);
}

/*
 * cli_report_deliver - send (or, for --output and --dry-run, show) the
 * report e; true when every destination is done with
 */
static bool
cli_report_deliver(struct cli_report_run *run, const struct report_entry *e)
{
	struct report_meta m;
	char fname[2 * REPORT_MAX_DOMAIN + 128], addr[REPORT_MAX_ADDR + 1];
	struct buf gz;
	bool done = true;
	size_t i;

	cli_report_meta(run, e, &m);
	if (!report_filename(&m, e->domain, fname, sizeof(fname))) {
		fprintf(stderr, "authmilter: %s: not a domain a report can be "
		    "named for\n", e->domain);
		return true;
	}
	buf_init(&gz);
	if (!report_gzip(e->xml, strlen(e->xml), &gz)) {
		fprintf(stderr, "authmilter: %s: gzip failed\n", fname);
		run->error = true;
		buf_free(&gz);
		return false;
	}
	printf("report %s: %lu records, %lu messages\n", fname, e->records,
	    e->messages);
	if (run->output != NULL) {
		cli_report_write_file(run, fname, &gz);
		buf_free(&gz);
		return true;
	}
	for (i = 0; i < CLI_REPORT_MAX_URIS && report_mailto(e->rua, i,
	    addr, sizeof(addr)) != REPORT_URI_NONE; i++)
		if (!cli_report_one_dest(run, e, &m, fname, &gz, i))
			done = false;
	if (i == 0)
		printf("  no mailto: destination in rua=%s\n", e->rua);
	buf_free(&gz);
	return done;
}

/* cli_report_release - the claim goes; done when nothing is left to try */
static void
cli_report_release(struct cli_report_run *run, const struct report_entry *e,
    bool done)
{
	char err[CLI_REPORT_ERRLEN];

	if (!report_store_release(run->st, e->id, run->who, done, err,
	    sizeof(err))) {
		fprintf(stderr, "authmilter: %s\n", err);
		run->error = true;
	}
}

/* cli_report_existing - a report the store has; true to go on after it */
static void
cli_report_existing(struct cli_report_run *run, struct report_entry *e)
{
	char err[CLI_REPORT_ERRLEN];
	int rc;

	if (run->output != NULL) {
		(void)cli_report_deliver(run, e);
		return;
	}
	if (strcmp(e->state, "done") == 0)
		return;
	if (run->dry_run) {
		printf("pending (a destination to retry):\n");
		(void)cli_report_deliver(run, e);
		return;
	}
	rc = report_store_claim(run->st, e->id, run->who, run->now,
	    run->now + CLI_REPORT_CLAIM_SECS, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "authmilter: %s\n", err);
		run->error = true;
	} else if (rc == 0) {
		printf("report %s of %s: another run holds it\n", e->id,
		    e->domain);
		run->held++;
	} else
		cli_report_release(run, e, cli_report_deliver(run, e));
}

/*
 * cli_report_build - the report of domain over [begin, end) from the
 * rows; false when there are none (or on error)
 */
static bool
cli_report_build(struct cli_report_run *run, const char *domain,
    int64_t begin, int64_t end, struct report_entry *e)
{
	struct report_row **rows = NULL;
	struct report_counts counts;
	struct report_meta m;
	char err[CLI_REPORT_ERRLEN], error[128];
	size_t n = 0;
	bool truncated = false;
	struct buf xml;

	if (!report_store_rows(run->st, domain, begin, end, CLI_REPORT_MAX_RECORDS,
	    &rows, &n, &truncated, err, sizeof(err))) {
		fprintf(stderr, "authmilter: %s\n", err);
		run->error = true;
		return false;
	}
	if (n == 0) {
		free(rows);
		return false;
	}
	memset(e, 0, sizeof(*e));
	report_id(run->receiver, domain, begin, e->id);
	util_copy(e->domain, sizeof(e->domain), domain);
	e->begin = begin;
	e->end = end;
	util_copy(e->state, sizeof(e->state), "pending");
	util_copy(e->rua, sizeof(e->rua), rows[n - 1]->rua);
	cli_report_meta(run, e, &m);
	if (truncated) {
		snprintf(error, sizeof(error), "more than %d records: the "
		    "rest are not in this report", CLI_REPORT_MAX_RECORDS);
		m.error = error;
	}
	buf_init(&xml);
	report_xml(&m, rows, n, &xml, &counts);
	e->xml = buf_steal(&xml);
	e->records = counts.records;
	e->messages = counts.messages;
	for (size_t i = 0; i < n; i++)
		report_row_free(rows[i]);
	free(rows);
	run->built++;
	return true;
}

/* cli_report_domain - every report of one policy domain and day */
static void
cli_report_domain(struct cli_report_run *run, const char *domain,
    int64_t day)
{
	int64_t cur = day, limit = day + REPORT_DAY_SECS;
	char err[CLI_REPORT_ERRLEN];
	struct report_entry e;

	if (limit > run->now)
		limit = run->now;
	if (!report_domain_safe(domain) ||
	    config_report_never(run->cfg, domain)) {
		printf("%s: not reported (%s)\n", domain,
		    report_domain_safe(domain) ? "ReportNeverTo" :
		    "not a domain name");
		return;
	}
	for (int i = 0; i < CLI_REPORT_MAX_CHAIN && !run->error; i++) {
		int rc = report_store_find(run->st, domain, cur, &e, err,
		    sizeof(err));

		if (rc < 0) {
			fprintf(stderr, "authmilter: %s\n", err);
			run->error = true;
			break;
		}
		if (rc == 1) {
			cli_report_existing(run, &e);
			free(e.xml);
			if (e.end <= cur)
				break;
			cur = e.end;
			continue;
		}
		if (cur >= limit || !cli_report_build(run, domain, cur, limit,
		    &e))
			break;
		if (run->dry_run || run->output != NULL) {
			if (run->dry_run)
				printf("would make:\n");
			(void)cli_report_deliver(run, &e);
			free(e.xml);
			break;
		}
		rc = report_store_create(run->st, &e, run->who, run->now,
		    run->now + CLI_REPORT_CLAIM_SECS, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "authmilter: %s\n", err);
			run->error = true;
		} else if (rc == 1)
			cli_report_release(run, &e, cli_report_deliver(run,
			    &e));
		else
			run->built--;	/* another run made it: look again */
		free(e.xml);
		if (rc == 1)
			cur = e.end;
	}
}

/* cli_report_day - every policy domain with rows (or a retry) that day */
static void
cli_report_day(struct cli_report_run *run, int64_t day)
{
	struct cli_names ns = { NULL, 0 };
	char err[CLI_REPORT_ERRLEN];
	int64_t end = day + REPORT_DAY_SECS;

	if (!report_store_domains(run->st, day, end, cli_names_add, &ns, err,
	    sizeof(err)) ||
	    !report_store_pending_domains(run->st, day, end, cli_names_add,
	    &ns, err, sizeof(err))) {
		fprintf(stderr, "authmilter: %s\n", err);
		run->error = true;
	}
	for (size_t i = 0; i < ns.n && !run->error; i++)
		cli_report_domain(run, ns.v[i], day);
	cli_names_free(&ns);
}

/* Options of the report command. */
struct cli_report_opts {
	const char	*config;
	const char	*from;
	const char	*to;
	const char	*output;
	bool		 dry_run;
};

static const struct cli_option cli_report_options[] = {
	{ "config", 'c', true, "FILE", "The configuration: its ReportStore, "
	    "ReportEmail, ReportOrgName, ReportSMTPRelay, ReportSendmail and "
	    "ReportRetentionDays. Default: " CONFIG_DEFAULT_FILE "." },
	{ "from", 'F', false, "YYYY-MM-DD", "The first UTC day to report, "
	    "included. Default: yesterday (or --to)." },
	{ "to", 'T', false, "YYYY-MM-DD", "The last UTC day to report, "
	    "included; today covers what is recorded so far. Default: "
	    "yesterday (or --from)." },
	{ "dry-run", 'n', false, NULL, "Say what would be built and sent, and "
	    "change nothing." },
	{ "output", 'o', false, "DIR", "Write the .xml.gz files to DIR and mail "
	    "nothing (the store is not changed either)." },
	{ NULL, 0, false, NULL, NULL }
};

/* cli_report_args - parse the arguments */
static bool
cli_report_args(int argc, char **argv, struct cli_report_opts *o)
{
	struct cli_parser p;
	int c;

	o->config = CONFIG_DEFAULT_FILE;
	cli_parser_init(&p, &cli_cmd_report);
	while ((c = cli_parser_next(&p, argc, argv)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'F': o->from = optarg; break;
		case 'T': o->to = optarg; break;
		case 'n': o->dry_run = true; break;
		case 'o': o->output = optarg; break;
		default: return false;
		}
	}
	return optind == argc;
}

/* cli_report_range - the days asked for; false (said) when they are wrong */
static bool
cli_report_range(const struct cli_report_opts *o, int64_t now, int64_t *from,
    int64_t *to)
{
	int64_t today = now - now % REPORT_DAY_SECS;

	*from = *to = today - REPORT_DAY_SECS;
	if (o->from != NULL && !report_parse_day(o->from, from)) {
		fprintf(stderr, "authmilter: --from %s: not a day "
		    "(YYYY-MM-DD)\n", o->from);
		return false;
	}
	if (o->to != NULL && !report_parse_day(o->to, to)) {
		fprintf(stderr, "authmilter: --to %s: not a day (YYYY-MM-DD)\n",
		    o->to);
		return false;
	}
	if (o->from != NULL && o->to == NULL)
		*to = *from > *to ? *from : *to;
	if (o->to != NULL && o->from == NULL)
		*from = *to;
	if (*from > *to || *to > today) {
		fprintf(stderr, "authmilter: --from must not be after --to, "
		    "nor --to after today (UTC)\n");
		return false;
	}
	if ((*to - *from) / REPORT_DAY_SECS >= CLI_REPORT_MAX_DAYS) {
		fprintf(stderr, "authmilter: at most %d days in one run\n",
		    CLI_REPORT_MAX_DAYS);
		return false;
	}
	return true;
}

/* cli_report_setup - the run's fixed parts; false (said) when impossible */
static bool
cli_report_setup(struct cli_report_run *run, const struct cli_report_opts *o)
{
	char err[CLI_REPORT_ERRLEN];
	struct mailbox box;
	struct stat sb;

	if (run->cfg->report_store == NULL) {
		fprintf(stderr, "authmilter: %s: ReportStore is not set: "
		    "there is nothing to report from\n", run->cfg->path);
		return false;
	}
	if (!addr_parse_envelope(run->cfg->report_email, &box)) {
		fprintf(stderr, "authmilter: ReportEmail is not an address\n");
		return false;
	}
	util_copy(run->receiver, sizeof(run->receiver), box.domain);
	snprintf(run->generator, sizeof(run->generator), "authmilter %s",
	    PACKAGE_VERSION);
	snprintf(run->who, sizeof(run->who), "%s:%ld",
	    config_report_gateway(run->cfg), (long)getpid());
	if (o->output != NULL && (stat(o->output, &sb) < 0 ||
	    !S_ISDIR(sb.st_mode))) {
		fprintf(stderr, "authmilter: --output %s: not a directory\n",
		    o->output);
		return false;
	}
	run->st = report_store_open(run->cfg->report_store, err, sizeof(err));
	if (run->st == NULL) {
		fprintf(stderr, "authmilter: %s\n", err);
		return false;
	}
	return true;
}

/* cli_report_expire - rows and reports past ReportRetentionDays go */
static void
cli_report_expire(struct cli_report_run *run)
{
	char err[CLI_REPORT_ERRLEN];
	unsigned long n = 0;

	if (!report_store_expire(run->st, run->now -
	    (int64_t)run->cfg->report_retention_days * REPORT_DAY_SECS, &n,
	    err, sizeof(err))) {
		fprintf(stderr, "authmilter: %s\n", err);
		run->error = true;
	} else if (n > 0)
		printf("expired: %lu rows older than %u days\n", n,
		    run->cfg->report_retention_days);
}

/* cli_report - the command */
int
cli_report(int argc, char **argv)
{
	struct cli_report_opts o;
	struct cli_report_run run;
	int64_t from, to;
	char err[CONFIG_ERRLEN];

	memset(&o, 0, sizeof(o));
	memset(&run, 0, sizeof(run));
	if (!cli_report_args(argc, argv, &o))
		return cli_usage(&cli_cmd_report);
	run.now = (int64_t)time(NULL);
	signal(SIGPIPE, SIG_IGN);	/* a sendmail that exits early: EPIPE */
	if (!cli_report_range(&o, run.now, &from, &to))
		return CLI_EXIT_USAGE;
	log_open("authmilter", false, LOG_MAIL, true);
	run.cfg = config_load(o.config, err, sizeof(err));
	if (run.cfg == NULL) {
		fprintf(stderr, "%s\n", err);
		return CLI_EXIT_ERROR;
	}
	log_open("authmilter", run.cfg->syslog, run.cfg->syslog_facility,
	    true);
	run.dry_run = o.dry_run;
	run.output = o.output;
	if (!cli_report_setup(&run, &o)) {
		config_unref(run.cfg);
		return CLI_EXIT_ERROR;
	}
	if (!run.dry_run && run.output == NULL)
		cli_report_expire(&run);
	for (int64_t day = from; day <= to && !run.error;
	    day += REPORT_DAY_SECS)
		cli_report_day(&run, day);
	if (run.built == 0 && run.files == 0 && run.sent == 0 &&
	    run.retry == 0 && run.skipped == 0 && run.held == 0)
		printf("nothing to report\n");
	else
		printf("reports: %lu built, %lu files written, %lu sent, "
		    "%lu skipped, %lu to retry, %lu held by another run\n",
		    run.built, run.files, run.sent, run.skipped, run.retry,
		    run.held);
	report_store_close(run.st);
	runtime_free(run.rt);
	config_unref(run.cfg);
	return run.error ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}

const struct cli_command cli_cmd_report = {
	.name = "report",
	.run = cli_report,
	.synopsis = "[-c FILE] [--from YYYY-MM-DD] [--to YYYY-MM-DD] "
	    "[--dry-run] [--output DIR]",
	.summary = "build and mail the DMARC aggregate reports from the store",
	.description = "DMARC aggregate reports (RFC 9990) from the "
	    "ReportStore: for each UTC day from --from to --to and each DMARC "
	    "policy domain with rows that day, one report, gzipped, named "
	    "receiver!policy-domain!begin!end!id.xml.gz and mailed to every "
	    "mailto: URI of the domain's rua= through ReportSMTPRelay (else "
	    "ReportSendmail); a "
	    "destination outside the policy domain must be authorised at "
	    "<policy-domain>._report._dmarc.<host>. A report is built and sent "
	    "once, even by two runs at the same time. Each run first deletes "
	    "rows and reports older than ReportRetentionDays.",
	.options = cli_report_options,
	.exit_status = "0 the run went through, also with nothing to report or "
	    "with destinations left to retry; 1 the configuration or the "
	    "report store failed; 2 on a usage error (a bad day, --from after "
	    "--to).",
};
