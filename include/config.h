/*
 * config.h - the configuration: one immutable object built from a key-value
 * file (authmilter.conf(5)), including the signing keys it names.
 *
 * A running daemon holds one current configuration. A reload (SIGHUP) builds
 * a new object and swaps it in; a message session keeps a reference to the
 * configuration it started with, so a reload never changes the rules in the
 * middle of a message. A configuration that fails to load is refused whole,
 * with "file:line: reason", and the old one stays in force.
 *
 * The configuration is plain data: it owns no service and starts no
 * thread. The services (DNS, the verifier, the metrics) belong to the
 * runtime (runtime.h), which a reload reconfigures from the new object.
 */
#ifndef AM_CONFIG_H
#define AM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "hdrlist.h"

#define CONFIG_MAX_LINE		8192	/* bytes in one configuration line */
#define CONFIG_MAX_LINES	100000	/* lines in one configuration file */
#define CONFIG_ERRLEN		1024	/* room for one "file:line: reason" */

/* Defaults, also documented in authmilter.conf(5). */
#define CONFIG_DEFAULT_FILE		SYSCONFDIR "/authmilter.conf"
#define CONFIG_DEFAULT_SOCKET		"local:/run/authmilter/authmilter.sock"
#define CONFIG_DEFAULT_INTERNAL		"127.0.0.0/8, ::1"
#define CONFIG_DEFAULT_MAX_HEADERS	1000
#define CONFIG_DEFAULT_MAX_HDR_BYTES	(1024 * 1024)
#define CONFIG_DEFAULT_SHUTDOWN_SECS	60
#define CONFIG_DEFAULT_MIN_KEY_BITS	1024
#define CONFIG_DEFAULT_DNS_TIMEOUT	5	/* seconds, one query, all tries */
#define CONFIG_DEFAULT_DNS_RETRIES	2	/* tries per query */
#define CONFIG_DEFAULT_DNS_BUDGET	20	/* seconds of DNS per message */
#define CONFIG_DEFAULT_MAX_VERIFY	5	/* DKIM signatures checked */
#define CONFIG_MAX_VERIFY_SIGS		50	/* MaximumSignaturesToVerify */
#define CONFIG_DEFAULT_QUARANTINE_HDR	"X-DMARC-Quarantine: yes"
#define CONFIG_MAX_IGNORE_DOMAINS	10000	/* IgnoreDomains entries */
#define CONFIG_MAX_NAMESERVERS		8	/* Nameservers entries */
#define CONFIG_MAX_TRUSTED_SEALERS	10000	/* TrustedARCSealers entries */
#define CONFIG_DEFAULT_REPORT_DAYS	30	/* ReportRetentionDays */
#define CONFIG_MAX_REPORT_DAYS		3650
#define CONFIG_DEFAULT_SENDMAIL		"/usr/sbin/sendmail"
#define CONFIG_MAX_REPORT_NEVER		10000	/* ReportNeverTo entries */
#define CONFIG_MAX_REPORT_SPEC		1024	/* bytes of ReportStore */
#define CONFIG_DEFAULT_REPORT_QUEUE	10000	/* ReportQueueSize, rows */
#define CONFIG_MIN_REPORT_QUEUE		10
#define CONFIG_MAX_REPORT_QUEUE		1000000
#define CONFIG_DEFAULT_FAILURE_PER_HOUR	10	/* FailureReportsPerHour */
#define CONFIG_MAX_FAILURE_PER_HOUR	1000

enum on_error {
	ON_ERROR_TEMPFAIL = 0,	/* 451 4.7.0: the MTA keeps the message and retries */
	ON_ERROR_ACCEPT,	/* pass the message on untouched */
	ON_ERROR_REJECT,	/* 550 5.7.0 */
};

/* What a DMARC failure gets (RejectFailures, QuarantineFailures). */
enum fail_action {
	FAIL_REJECT = 0,	/* 550 5.7.1 at end of data */
	FAIL_QUARANTINE,	/* the MTA's quarantine (Postfix: hold queue) */
	FAIL_HEADER,		/* deliver with the QuarantineHeader added */
	FAIL_REPORT,		/* deliver; the result is in the A-R header */
};

/* How a DMARC failure under p=reject is enforced (DMARCEnforcement). */
enum cfg_enforcement {
	CFG_ENFORCE_RFC9989 = 0,	/* refused only without signs of indirect flow */
	CFG_ENFORCE_STRICT,		/* refused on the policy alone */
};

enum cfg_dmarc_mode {
	CFG_DMARC_RFC9989 = 0,
	CFG_DMARC_RFC7489,
};

/* Which mail gets an ARC set (ARCSealMail). */
enum cfg_arc_seal_mail {
	CFG_ARC_SEAL_INBOUND = 0,	/* inbound mail, after its checks */
	CFG_ARC_SEAL_RELAYED,		/* outbound mail not signed as its author */
	CFG_ARC_SEAL_ALL,		/* both */
};

struct netlist;
struct keyentry;
struct keytable;
struct signtable;
struct sign_ctx;

struct config {
	char		*path;		/* file it was loaded from */

	/* daemon */
	char		*socket;	/* libmilter connection spec */
	mode_t		 umask;		/* applied before the socket is created */
	bool		 umask_set;
	char		*userid;	/* "user" or "user:group"; NULL = stay */
	char		*pidfile;
	bool		 syslog;
	int		 syslog_facility;
	bool		 log_why;	/* log why a message was not signed */
	unsigned	 shutdown_timeout;	/* seconds to wait for sessions on SIGTERM */
	char		*authserv_id;	/* NULL = host name */

	/* which mail is ours to sign */
	struct netlist	*internal_hosts;

	/* signing */
	struct keytable	*keytable;	/* always present; may be empty */
	struct signtable *signtable;	/* NULL when no table and no Domain */
	bool		 multiple_signatures;
	int		 hdr_canon;	/* DKIM_CANON_* */
	int		 body_canon;
	struct hdrlist	 sign_headers;
	struct hdrlist	 oversign_headers;
	bool		 require_safe_keys;
	unsigned	 minimum_key_bits;

	/* inbound checks */
	struct netlist	*ignore_hosts;	/* clients neither checked nor signed */
	struct netlist	*trusted_forwarders;	/* their DMARC failures pass */
	enum cfg_enforcement dmarc_enforcement;
	char		**ignore_domains;	/* From domains not enforced */
	size_t		 nignore_domains;
	char		*nameservers[CONFIG_MAX_NAMESERVERS];
	size_t		 nnameservers;	/* 0 = /etc/resolv.conf */
	unsigned	 dns_timeout;	/* seconds per query */
	unsigned	 dns_retries;	/* tries per query */
	unsigned	 dns_budget;	/* seconds of DNS waiting per message */
	unsigned	 max_verify_sigs;
	bool		 allow_partial_body;	/* l= signatures count */
	enum cfg_dmarc_mode dmarc_mode;
	enum fail_action reject_failures;	/* DMARC fail, p=reject */
	enum fail_action quarantine_failures;	/* DMARC fail, p=quarantine */
	char		*quarantine_header;	/* "Name: value" */
	enum on_error	 on_temp_error;	/* a DNS error blocks the decision */
	enum on_error	 on_bad_from;	/* no usable RFC5322.From */
	bool		 shadow_mode;	/* evaluate and mark, never refuse */

	/* input bounds */
	unsigned	 max_headers;
	size_t		 max_header_bytes;

	/* failure handling */
	enum on_error	 on_internal_error;
	enum on_error	 on_bad_message;	/* several From, no From ... when signing */

	/* metrics */
	char		*metrics_listen;	/* MetricsListen; NULL = off */

	/* ARC (RFC 8617) */
	char		*arc_seal_key;	/* ARCSealKey: a KeyTable name; NULL = off */
	const struct keyentry *arc_key;	/* ... its entry (in keytable) */
	enum cfg_arc_seal_mail arc_seal_mail;	/* ARCSealMail */
	bool		 arc_authres_comments;	/* ARCAuthResComments */
	char		**trusted_arc_sealers;	/* TrustedARCSealers, lower case */
	size_t		 ntrusted_arc_sealers;
	/* DMARC aggregate reports (RFC 9990) */
	char		*report_store;	/* ReportStore; NULL = not recorded */
	char		*report_org_name;	/* ReportOrgName */
	char		*report_email;	/* ReportEmail: the reports' sender */
	char		*report_gateway;	/* ReportGatewayID; NULL = host name */
	unsigned	 report_retention_days;	/* ReportRetentionDays */
	char		**report_never_to;	/* ReportNeverTo domains */
	size_t		 nreport_never_to;
	char		*report_sendmail;	/* ReportSendmail command line */
	char		*report_smtp_relay;	/* ReportSMTPRelay; NULL = sendmail */
	size_t		 report_queue_size;	/* ReportQueueSize: rows waiting */
	bool		 failure_reports;	/* FailureReports (RFC 9991) */
	unsigned	 failure_per_hour;	/* FailureReportsPerHour */

	/* what the signer needs of the above, made once per configuration */
	struct sign_ctx	*sign;

	/* reference count; see config_ref() */
	int		 refs;
};

/*
 * config_load - read and check path, load the keys it names, and return a
 * new configuration with one reference. On failure returns NULL and writes
 * "file:line: reason" into err (errlen >= CONFIG_ERRLEN recommended).
 */
struct config *config_load(const char *path, char *err, size_t errlen);
/* config_defaults - a configuration with every default and no keys */
struct config *config_defaults(void);

struct config *config_ref(struct config *cfg);
void config_unref(struct config *cfg);

/*
 * The current configuration of a running daemon. config_current() returns a
 * new reference (release with config_unref). config_install() makes cfg
 * current, taking over the caller's reference, and drops the old one.
 */
struct config *config_current(void);
void config_install(struct config *cfg);

/* config_socket_path - the file of a unix Socket spec, NULL for inet */
const char *config_socket_path(const char *spec);

/* config_ignored_domain - is domain (or a parent of it) in IgnoreDomains? */
bool config_ignored_domain(const struct config *cfg, const char *domain);

/* config_trusted_sealer - is domain in TrustedARCSealers (exactly)? */
bool config_trusted_sealer(const struct config *cfg, const char *domain);

/* config_arc_seals - does ARCSealKey/ARCSealMail seal inbound or relayed mail? */
bool config_arc_seals(const struct config *cfg, bool inbound);
/* config_report_gateway - ReportGatewayID, or the host name */
const char *config_report_gateway(const struct config *cfg);
/* config_report_never - is domain (or a parent) in ReportNeverTo? */
bool config_report_never(const struct config *cfg, const char *domain);

/* config_authserv_id - AuthservID, or the host name */
const char *config_authserv_id(const struct config *cfg);

/* config_fail_action_name - "reject", "quarantine", "header", "report" */
const char *config_fail_action_name(enum fail_action a);

/* config_on_error_name - "tempfail", "accept" or "reject" */
const char *config_on_error_name(enum on_error e);

#endif
