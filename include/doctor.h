/*
 * doctor.h - what a sender needs to know about one domain, checked against
 * live DNS and the local configuration: every signing key configured for
 * the domain against its published record, the SPF record (syntax, DNS
 * lookup and void lookup limits, and whether given addresses pass), the
 * DMARC record (discovery, removed tags, policy, report destinations,
 * alignment of the signing domains), the MX, and the site's DMARC report
 * set-up (doctor_reports.c).
 *
 * The result is a list of findings, each "ok", "warning" (works but should
 * change) or "error" (makes mail fail). The engine's own parsers and
 * evaluators do the work: spf.c's grammar and evaluator, dmarc.c's
 * discovery, keys.c's keys, the tables of the configuration; DNS goes
 * through dns.c.
 */
#ifndef AM_DOCTOR_H
#define AM_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>

#include "dns.h"

#define DOCTOR_MAX_FINDINGS	256	/* findings of one run; more are dropped */
#define DOCTOR_MAX_TEXT		512	/* bytes of one finding's text */
#define DOCTOR_MAX_CHECK	16	/* bytes of a check's name */
#define DOCTOR_MAX_IPS		16	/* addresses whose SPF result is checked */
#define DOCTOR_MAX_KEYS		32	/* configured keys checked per domain */
#define DOCTOR_SPF_MAX_DEPTH	10	/* include/redirect nesting followed */
#define DOCTOR_SPF_MAX_TERMS	40	/* DNS terms counted before giving up */
#define DOCTOR_SPF_MAX_NAMES	4	/* void lookup names named in a text */
#define DOCTOR_MAX_URIS		8	/* rua= and ruf= destinations checked */
#define DOCTOR_MAX_MX		10	/* exchanges whose address is checked */

enum doctor_severity {
	DOCTOR_OK = 0,
	DOCTOR_WARNING,		/* works, but should change */
	DOCTOR_ERROR,		/* makes mail fail */
};

struct doctor_finding {
	char		 check[DOCTOR_MAX_CHECK];	/* config, dkim, spf, dmarc, mx, reports */
	enum doctor_severity severity;
	char		 text[DOCTOR_MAX_TEXT];
};

struct doctor_report {
	char		 domain[DNS_MAX_NAME + 1];
	struct doctor_finding findings[DOCTOR_MAX_FINDINGS];
	size_t		 nfindings;
	size_t		 dropped;	/* findings past DOCTOR_MAX_FINDINGS */
	enum doctor_severity worst;
};

struct config;

struct doctor_request {
	const char	*domain;	/* a valid domain name */
	/* the configuration: its keys, tables and DMARCMode */
	const struct config *cfg;
	bool		 have_config;	/* cfg was read from a file */
	/* why the configuration file did not load (cfg: the defaults) */
	const char	*config_error;
	struct dns_service *dns;
	const char *const *ips;		/* --ip addresses (valid) */
	size_t		 nips;
};

/* doctor_run - every check of req->domain into rep (zeroed first) */
void doctor_run(const struct doctor_request *req, struct doctor_report *rep);

/*
 * doctor_reports - the site's report set-up (doctor_reports.c): the
 * store (opens, schema current, SQLite writable by UserID), ReportOrgName
 * and ReportEmail, the ReportSendmail program or the ReportSMTPRelay
 * (reached through dns when named); findings of check "reports". Nothing
 * when the configuration sends no reports.
 */
void doctor_reports(const struct config *cfg, struct dns_service *dns,
    struct doctor_report *rep);

/* doctor_severity_name - "ok", "warning", "error" */
const char *doctor_severity_name(enum doctor_severity s);

/*
 * The parts that need no DNS service, for the unit tests.
 */

/* doctor_add - one finding (printf format); worst follows */
void doctor_add(struct doctor_report *rep, const char *check,
    enum doctor_severity sev, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A DKIM key record (RFC 6376 3.6.1, RFC 8463), as published. */
struct doctor_dkim_key {
	char		 k[16];		/* k=, "rsa" when absent */
	const char	*p;		/* p= value in the text (may be empty) */
	size_t		 plen;
	bool		 testing;	/* t= has y */
	bool		 strict;	/* t= has s */
	bool		 have_h;	/* h= given ... */
	bool		 h_sha256;	/* ... and lists sha256 */
	bool		 have_s;	/* s= given ... */
	bool		 s_email;	/* ... and lists email or * */
};

/*
 * doctor_dkim_parse - a DKIM key record of len bytes (tag=value; ...);
 * false with why when it is none: v= not first or not DKIM1, no p=, a tag
 * given twice, a tag that is not tag=value.
 */
bool doctor_dkim_parse(const char *txt, size_t len,
    struct doctor_dkim_key *key, char *why, size_t whylen);

/* The DNS under the checks: dns.c in the command, a table in the tests. */
struct doctor_dns {
	struct dns_answer *(*lookup)(void *arg, const char *name,
	    unsigned type);
	void		*arg;
};

/* What the SPF walk of one domain found, for clients of one family. */
struct doctor_spf_count {
	unsigned	 terms;		/* DNS-querying terms (limit 10) */
	unsigned	 voids;		/* void lookups (limit 2) */
	char		 voidnames[DOCTOR_SPF_MAX_NAMES][DNS_MAX_NAME + 1];
	bool		 permerror;	/* besides the limits: why */
	char		 why[DOCTOR_MAX_TEXT / 2];
	bool		 temperror;	/* a DNS error stopped the walk: where */
	char		 twhy[DOCTOR_MAX_TEXT / 2];
	unsigned	 macros;	/* targets with macros: not followed */
	bool		 ptr;		/* a ptr term (RFC 7208 5.5) */
	bool		 plus_all;	/* the top record ends in +all */
	bool		 stopped;	/* more than DOCTOR_SPF_MAX_TERMS */
};

/*
 * doctor_spf_count - walk the SPF record of domain (already known to be
 * the one valid record there: text, len) as the evaluator would for a
 * client of family (AF_INET, AF_INET6) that matches nothing: every
 * include, redirect (unless "all" makes it unreachable), a, mx, ptr and
 * exists counted as one DNS-querying term, and every lookup that answers
 * no record (NXDOMAIN, NODATA) as a void lookup, as spf.c counts them.
 */
void doctor_spf_count(const struct doctor_dns *dns, const char *domain,
    const char *text, size_t len, int family, struct doctor_spf_count *out);

#endif
