/*
 * NAME
 *	config - load authmilter.conf(5) into one immutable object
 * SYNOPSIS
 *	#include "config.h"
 *
 *	struct config *config_load(path, err, errlen)
 *	struct config *config_current(void)
 *	void config_install(cfg)
 * DESCRIPTION
 *	The file is "Key value" lines; '#' starts a comment line; keys are
 *	case-insensitive and each may appear once. The table below names every
 *	key and the function that parses its value. After the file, the keys
 *	that depend on each other are checked together and the signing keys
 *	are loaded, so a configuration that loads is one that can sign.
 *
 *	The current configuration is the only mutable global: it is swapped
 *	under a mutex, and readers take a reference, so an object is freed
 *	only when the last session that uses it ends.
 * DIAGNOSTICS
 *	"file:line: reason" for a problem on a line; "file: reason" for a
 *	problem of the file as a whole.
 */
#include "buildconf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <unistd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <opendkim/dkim.h>

#include "addr.h"
#include "config.h"
#include "keytable.h"
#include "log.h"
#include "netlist.h"
#include "sign.h"
#include "signtable.h"
#include "smtp_client.h"
#include "textfile.h"
#include "util.h"

/* The key name the simple Domain/Selector/KeyFile set-up gets in the KeyTable. */
#define CONFIG_KEYFILE_NAME	"KeyFile"

/* What the parser knows while it reads one file. */
struct cfgparse {
	struct config	*cfg;
	const char	*path;
	unsigned	 line;
	char		*domains;	/* Domain: list, used after the file */
	char		*selector;
	char		*keyfile;
	char		*keytable;
	char		*signtable;
	char		*internal;
	char		*ignore_hosts;
	char		*trusted_forwarders;
	char		*ignore_domains;
	char		*trusted_sealers;	/* TrustedARCSealers, used after */
	bool		 arc_mail_set;		/* ARCSealMail was given */
	char		*report_never_to;
	unsigned	 seen_line[64];	/* line where each key was set */
};

typedef bool (*cfg_setter)(struct cfgparse *, const char *, char *, size_t);

struct cfgkey {
	const char	*name;
	cfg_setter	 set;
};

/* config_socket_path - the file of a unix socket spec, NULL for inet */
const char *
config_socket_path(const char *v)
{
	if (strncmp(v, "unix:", 5) == 0)
		return v + 5;
	if (strncmp(v, "local:", 6) == 0)
		return v + 6;
	return v[0] == '/' ? v : NULL;
}

/* cfg_set_str - store a string value into a char * of the parse state */
static bool
cfg_set_str(char **dst, const char *v, char *why, size_t wlen)
{
	if (*v == '\0') {
		snprintf(why, wlen, "empty value");
		return false;
	}
	free(*dst);
	*dst = xstrdup(v);
	return true;
}

static bool
cfg_socket(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	const char *path;

	if (strncmp(v, "unix:", 5) != 0 && strncmp(v, "local:", 6) != 0 &&
	    strncmp(v, "inet:", 5) != 0 && strncmp(v, "inet6:", 6) != 0 &&
	    v[0] != '/') {
		snprintf(why, wlen, "Socket must be unix:PATH, local:PATH, "
		    "inet:PORT@HOST or inet6:PORT@HOST, not \"%s\"", v);
		return false;
	}
	path = config_socket_path(v);
	if (path != NULL && path[0] != '/') {
		snprintf(why, wlen, "Socket \"%s\": a unix socket needs an "
		    "absolute path", v);
		return false;
	}
	if (strncmp(v, "inet", 4) == 0) {
		const char *port = strchr(v, ':') + 1;
		unsigned long n;
		char num[8];
		size_t len = strcspn(port, "@");

		if (len == 0 || len >= sizeof(num) || port[len] != '@' ||
		    port[len + 1] == '\0') {
			snprintf(why, wlen, "Socket \"%s\": expected "
			    "inet:PORT@HOST", v);
			return false;
		}
		memcpy(num, port, len);
		num[len] = '\0';
		if (!util_parse_uint(num, 1, 65535, &n)) {
			snprintf(why, wlen, "Socket \"%s\": bad port", v);
			return false;
		}
	}
	return cfg_set_str(&p->cfg->socket, v, why, wlen);
}

static bool
cfg_umask(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	unsigned long m;
	char *end;

	errno = 0;
	m = strtoul(v, &end, 8);
	if (*v == '\0' || *end != '\0' || errno != 0 || m > 0777) {
		snprintf(why, wlen, "UMask must be an octal mode such as 007, "
		    "not \"%s\"", v);
		return false;
	}
	p->cfg->umask = (mode_t)m;
	p->cfg->umask_set = true;
	return true;
}

static bool
cfg_userid(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	return cfg_set_str(&p->cfg->userid, v, why, wlen);
}

static bool
cfg_pidfile(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	if (v[0] != '/') {
		snprintf(why, wlen, "PidFile must be an absolute path");
		return false;
	}
	return cfg_set_str(&p->cfg->pidfile, v, why, wlen);
}

/* cfg_bool - parse a boolean into *dst */
static bool
cfg_bool(bool *dst, const char *key, const char *v, char *why, size_t wlen)
{
	if (!util_parse_bool(v, dst)) {
		snprintf(why, wlen, "%s must be yes or no, not \"%s\"", key, v);
		return false;
	}
	return true;
}

static bool
cfg_syslog(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	return cfg_bool(&p->cfg->syslog, "Syslog", v, why, wlen);
}

static bool
cfg_facility(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	int f = log_facility(v);

	if (f < 0) {
		snprintf(why, wlen, "unknown syslog facility \"%s\" (mail, "
		    "daemon, user, local0..local7)", v);
		return false;
	}
	p->cfg->syslog_facility = f;
	return true;
}

static bool
cfg_logwhy(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	return cfg_bool(&p->cfg->log_why, "LogWhy", v, why, wlen);
}

/* cfg_uint - parse a bounded unsigned value */
static bool
cfg_uint(unsigned long *out, const char *key, const char *v,
    unsigned long min, unsigned long max, char *why, size_t wlen)
{
	if (!util_parse_uint(v, min, max, out)) {
		snprintf(why, wlen, "%s must be a number from %lu to %lu, not "
		    "\"%s\"", key, min, max, v);
		return false;
	}
	return true;
}

/* cfg_unsigned - parse a bounded unsigned value straight into *dst */
static bool
cfg_unsigned(unsigned *dst, const char *key, const char *v, unsigned min,
    unsigned max, char *why, size_t wlen)
{
	unsigned long n;

	if (!cfg_uint(&n, key, v, min, max, why, wlen))
		return false;
	*dst = (unsigned)n;
	return true;
}

static bool
cfg_shutdown(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	return cfg_unsigned(&p->cfg->shutdown_timeout, "ShutdownTimeout", v,
	    0, 3600, why, wlen);
}

static bool
cfg_internal(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	return cfg_set_str(&p->internal, v, why, wlen);
}

static bool
cfg_domain(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	return cfg_set_str(&p->domains, v, why, wlen);
}

static bool
cfg_selector(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	return cfg_set_str(&p->selector, v, why, wlen);
}

static bool
cfg_keyfile(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	return cfg_set_str(&p->keyfile, v, why, wlen);
}

static bool
cfg_keytable(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	return cfg_set_str(&p->keytable, v, why, wlen);
}

static bool
cfg_signtable(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	return cfg_set_str(&p->signtable, v, why, wlen);
}

static bool
cfg_multiple(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	return cfg_bool(&p->cfg->multiple_signatures, "MultipleSignatures", v,
	    why, wlen);
}

/* cfg_canon_word - "simple" or "relaxed" to a DKIM_CANON_* value */
static int
cfg_canon_word(const char *w, size_t len)
{
	if (len == 6 && strncasecmp(w, "simple", 6) == 0)
		return DKIM_CANON_SIMPLE;
	if (len == 7 && strncasecmp(w, "relaxed", 7) == 0)
		return DKIM_CANON_RELAXED;
	return DKIM_CANON_UNKNOWN;
}

static bool
cfg_canon(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	const char *slash = strchr(v, '/');
	int h, b;

	if (slash == NULL) {
		h = cfg_canon_word(v, strlen(v));
		b = DKIM_CANON_SIMPLE;
	} else {
		h = cfg_canon_word(v, (size_t)(slash - v));
		b = cfg_canon_word(slash + 1, strlen(slash + 1));
	}
	if (h == DKIM_CANON_UNKNOWN || b == DKIM_CANON_UNKNOWN) {
		snprintf(why, wlen, "Canonicalization must be header/body with "
		    "each relaxed or simple, not \"%s\"", v);
		return false;
	}
	p->cfg->hdr_canon = h;
	p->cfg->body_canon = b;
	return true;
}

/* cfg_hdrs - parse a header list into hl */
static bool
cfg_hdrs(struct hdrlist *hl, const char *key, const char *v, char *why,
    size_t wlen)
{
	const char *reason = NULL;

	if (!hdrlist_parse(hl, v, &reason)) {
		snprintf(why, wlen, "%s: %s", key, reason ? reason : "bad list");
		return false;
	}
	return true;
}

static bool
cfg_signhdrs(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	if (!cfg_hdrs(&p->cfg->sign_headers, "SignHeaders", v, why, wlen))
		return false;
	if (!hdrlist_contains(&p->cfg->sign_headers, "From")) {
		snprintf(why, wlen, "SignHeaders must include From "
		    "(RFC 6376 section 5.4)");
		return false;
	}
	return true;
}

static bool
cfg_oversign(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	return cfg_hdrs(&p->cfg->oversign_headers, "OversignHeaders", v, why,
	    wlen);
}

static bool
cfg_safekeys(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	return cfg_bool(&p->cfg->require_safe_keys, "RequireSafeKeys", v, why,
	    wlen);
}

static bool
cfg_minbits(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	unsigned long n;

	if (!cfg_uint(&n, "MinimumKeyBits", v, KEYS_MIN_RSA_BITS,
	    KEYS_MAX_RSA_BITS, why, wlen))
		return false;
	p->cfg->minimum_key_bits = (unsigned)n;
	return true;
}

static bool
cfg_maxhdrs(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	return cfg_unsigned(&p->cfg->max_headers, "MaximumHeaders", v,
	    10, 100000, why, wlen);
}

static bool
cfg_maxhdrbytes(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	unsigned long n;

	if (!cfg_uint(&n, "MaximumHeaderBytes", v, 1024, 64UL * 1024 * 1024,
	    why, wlen))
		return false;
	p->cfg->max_header_bytes = n;
	return true;
}

/* cfg_on_error - parse tempfail/accept/reject */
static bool
cfg_on_error(enum on_error *dst, const char *key, const char *v, char *why,
    size_t wlen)
{
	if (util_strcaseeq(v, "tempfail"))
		*dst = ON_ERROR_TEMPFAIL;
	else if (util_strcaseeq(v, "accept"))
		*dst = ON_ERROR_ACCEPT;
	else if (util_strcaseeq(v, "reject"))
		*dst = ON_ERROR_REJECT;
	else {
		snprintf(why, wlen, "%s must be tempfail, accept or reject, "
		    "not \"%s\"", key, v);
		return false;
	}
	return true;
}

static bool
cfg_internal_error(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	return cfg_on_error(&p->cfg->on_internal_error, "OnInternalError", v,
	    why, wlen);
}

static bool
cfg_bad_message(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	return cfg_on_error(&p->cfg->on_bad_message, "OnBadMessage", v, why,
	    wlen);
}

static bool
cfg_authserv(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	for (const char *c = v; *c; c++)
		if (!isgraph((unsigned char)*c) || strchr("()<>@,;:\\\"[]?=",
		    *c) != NULL) {
			snprintf(why, wlen, "AuthservID \"%s\" must be a host "
			    "name or a token (RFC 8601), without \"%c\"", v,
			    *c);
			return false;
		}
	return cfg_set_str(&p->cfg->authserv_id, v, why, wlen);
}

/* cfg_nameserver_ok - "IP", "IP:PORT", "[IPv6]" or "[IPv6]:PORT" */
static bool
cfg_nameserver_ok(const char *ns)
{
	struct sockaddr_storage ss;
	unsigned len;

	return util_parse_hostport(ns, 0, &ss, &len);
}

static bool
cfg_nameservers(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	char *list = xstrdup(v), *ns, *save = NULL;
	struct config *cfg = p->cfg;
	bool ok = true;

	for (ns = strtok_r(list, ", \t", &save); ok && ns != NULL;
	    ns = strtok_r(NULL, ", \t", &save)) {
		if (!cfg_nameserver_ok(ns)) {
			snprintf(why, wlen, "Nameservers: \"%s\" is not IP, "
			    "IP:PORT or [IPv6]:PORT", ns);
			ok = false;
		} else if (cfg->nnameservers >= CONFIG_MAX_NAMESERVERS) {
			snprintf(why, wlen, "Nameservers: more than %d "
			    "servers", CONFIG_MAX_NAMESERVERS);
			ok = false;
		} else
			cfg->nameservers[cfg->nnameservers++] = xstrdup(ns);
	}
	free(list);
	return ok;
}

static bool
cfg_dns_timeout(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	return cfg_unsigned(&p->cfg->dns_timeout, "DNSTimeout", v,
	    1, 60, why, wlen);
}

static bool
cfg_dns_retries(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	return cfg_unsigned(&p->cfg->dns_retries, "DNSRetries", v,
	    1, 10, why, wlen);
}

static bool
cfg_dns_budget(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	return cfg_unsigned(&p->cfg->dns_budget, "DNSBudget", v,
	    1, 250, why, wlen);
}

static bool
cfg_maxverify(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	return cfg_unsigned(&p->cfg->max_verify_sigs, "MaximumSignaturesToVerify", v,
	    1, CONFIG_MAX_VERIFY_SIGS, why, wlen);
}

static bool
cfg_partial(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	return cfg_bool(&p->cfg->allow_partial_body, "AllowPartialBody", v,
	    why, wlen);
}

static bool
cfg_dmarc_mode(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	if (util_strcaseeq(v, "rfc9989"))
		p->cfg->dmarc_mode = CFG_DMARC_RFC9989;
	else if (util_strcaseeq(v, "rfc7489"))
		p->cfg->dmarc_mode = CFG_DMARC_RFC7489;
	else {
		snprintf(why, wlen, "DMARCMode must be rfc9989 or rfc7489, "
		    "not \"%s\"", v);
		return false;
	}
	return true;
}

/* cfg_enforcement - DMARCEnforcement rfc9989 | strict */
static bool
cfg_enforcement(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	if (util_strcaseeq(v, "rfc9989"))
		p->cfg->dmarc_enforcement = CFG_ENFORCE_RFC9989;
	else if (util_strcaseeq(v, "strict"))
		p->cfg->dmarc_enforcement = CFG_ENFORCE_STRICT;
	else {
		snprintf(why, wlen, "DMARCEnforcement must be rfc9989 or "
		    "strict, not \"%s\"", v);
		return false;
	}
	return true;
}

static bool
cfg_trusted_forwarders(struct cfgparse *p, const char *v, char *why,
    size_t wlen)
{
	return cfg_set_str(&p->trusted_forwarders, v, why, wlen);
}

/* cfg_fail_action - reject, quarantine, header, report; yes/no too */
static bool
cfg_fail_action(enum fail_action *dst, const char *key, const char *v,
    char *why, size_t wlen)
{
	bool b;

	if (util_strcaseeq(v, "reject"))
		*dst = FAIL_REJECT;
	else if (util_strcaseeq(v, "quarantine") || util_strcaseeq(v, "hold"))
		*dst = FAIL_QUARANTINE;
	else if (util_strcaseeq(v, "header"))
		*dst = FAIL_HEADER;
	else if (util_strcaseeq(v, "report"))
		*dst = FAIL_REPORT;
	else if (util_parse_bool(v, &b))
		*dst = b ? FAIL_REJECT : FAIL_REPORT;
	else {
		snprintf(why, wlen, "%s must be reject, quarantine, header or "
		    "report, not \"%s\"", key, v);
		return false;
	}
	return true;
}

static bool
cfg_reject_failures(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	return cfg_fail_action(&p->cfg->reject_failures, "RejectFailures", v,
	    why, wlen);
}

static bool
cfg_quarantine_failures(struct cfgparse *p, const char *v, char *why,
    size_t wlen)
{
	return cfg_fail_action(&p->cfg->quarantine_failures,
	    "QuarantineFailures", v, why, wlen);
}

static bool
cfg_quarantine_header(struct cfgparse *p, const char *v, char *why,
    size_t wlen)
{
	size_t n = strcspn(v, ":");

	if (v[n] != ':' || n == 0 || n > 64) {
		snprintf(why, wlen, "QuarantineHeader must be \"Name: value\"");
		return false;
	}
	for (size_t i = 0; i < n; i++)
		if (!isgraph((unsigned char)v[i])) {
			snprintf(why, wlen, "QuarantineHeader: bad header "
			    "name");
			return false;
		}
	for (const char *c = v; *c; c++)
		if ((unsigned char)*c < 0x20 && *c != '\t') {
			snprintf(why, wlen, "QuarantineHeader: control "
			    "character");
			return false;
		}
	return cfg_set_str(&p->cfg->quarantine_header, v, why, wlen);
}

static bool
cfg_temp_error(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	if (!cfg_on_error(&p->cfg->on_temp_error, "OnTempError", v, why, wlen))
		return false;
	if (p->cfg->on_temp_error == ON_ERROR_REJECT) {
		snprintf(why, wlen, "OnTempError must be tempfail or accept: a "
		    "temporary DNS failure never justifies a 5xx");
		return false;
	}
	return true;
}

static bool
cfg_bad_from(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	return cfg_on_error(&p->cfg->on_bad_from, "OnBadFrom", v, why, wlen);
}

static bool
cfg_ignore_hosts(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	return cfg_set_str(&p->ignore_hosts, v, why, wlen);
}

static bool
cfg_ignore_domains(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	return cfg_set_str(&p->ignore_domains, v, why, wlen);
}

static bool
cfg_shadow(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	return cfg_bool(&p->cfg->shadow_mode, "ShadowMode", v, why, wlen);
}

/* cfg_metrics_listen - MetricsListen HOST:PORT */
static bool
cfg_metrics_listen(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	struct sockaddr_storage ss;
	unsigned len;

	if (!util_parse_listen(v, &ss, &len)) {
		snprintf(why, wlen, "MetricsListen: \"%s\" is not "
		    "ADDRESS:PORT (127.0.0.1:9464, [::1]:9464, *:9464)", v);
		return false;
	}
	return cfg_set_str(&p->cfg->metrics_listen, v, why, wlen);
}

/* cfg_arc_seal_key - ARCSealKey: a KeyTable key name, checked after */
static bool
cfg_arc_seal_key(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	return cfg_set_str(&p->cfg->arc_seal_key, v, why, wlen);
}

/* cfg_arc_seal_mail - ARCSealMail inbound | relayed | all */
static bool
cfg_arc_seal_mail(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	if (util_strcaseeq(v, "inbound"))
		p->cfg->arc_seal_mail = CFG_ARC_SEAL_INBOUND;
	else if (util_strcaseeq(v, "relayed"))
		p->cfg->arc_seal_mail = CFG_ARC_SEAL_RELAYED;
	else if (util_strcaseeq(v, "all"))
		p->cfg->arc_seal_mail = CFG_ARC_SEAL_ALL;
	else {
		snprintf(why, wlen, "ARCSealMail must be inbound, relayed or "
		    "all, not \"%s\"", v);
		return false;
	}
	p->arc_mail_set = true;
	return true;
}

/* cfg_report_store - ReportStore sqlite:PATH | postgresql://... */
static bool
cfg_report_store(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	bool sqlite = strncmp(v, "sqlite:", 7) == 0;

	if (strlen(v) > CONFIG_MAX_REPORT_SPEC || (!sqlite &&
	    strncmp(v, "postgresql://", 13) != 0 &&
	    strncmp(v, "postgres://", 11) != 0) ||
	    (sqlite && v[7] != '/')) {
		snprintf(why, wlen, "ReportStore must be sqlite:/ABSOLUTE/PATH "
		    "or a PostgreSQL URI postgresql://...");
		return false;
	}
	return cfg_set_str(&p->cfg->report_store, v, why, wlen);
}

/* cfg_report_org - ReportOrgName: printable text */
static bool
cfg_report_org(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	for (const char *c = v; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == '"' || *c == '\\') {
			snprintf(why, wlen, "ReportOrgName: no control "
			    "characters, quotes or backslashes");
			return false;
		}
	return cfg_set_str(&p->cfg->report_org_name, v, why, wlen);
}

/* cfg_report_email - ReportEmail: one plain address */
static bool
cfg_report_email(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	struct mailbox box;

	if (strpbrk(v, "<>\" \t") != NULL || !addr_parse_envelope(v, &box) ||
	    box.local[0] == '\0' || !addr_domain_valid(box.domain)) {
		snprintf(why, wlen, "ReportEmail must be an address such as "
		    "dmarc-reports@example.com, not \"%s\"", v);
		return false;
	}
	return cfg_set_str(&p->cfg->report_email, v, why, wlen);
}

/* cfg_report_gateway - ReportGatewayID: a token */
static bool
cfg_report_gateway(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	for (const char *c = v; *c; c++)
		if (!isgraph((unsigned char)*c)) {
			snprintf(why, wlen, "ReportGatewayID must be one word");
			return false;
		}
	if (strlen(v) > 255) {
		snprintf(why, wlen, "ReportGatewayID is longer than 255 bytes");
		return false;
	}
	return cfg_set_str(&p->cfg->report_gateway, v, why, wlen);
}

static bool
cfg_report_days(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	return cfg_unsigned(&p->cfg->report_retention_days,
	    "ReportRetentionDays", v, 1, CONFIG_MAX_REPORT_DAYS, why, wlen);
}

static bool
cfg_report_never(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	return cfg_set_str(&p->report_never_to, v, why, wlen);
}

static bool
cfg_report_queue(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	unsigned long n;

	if (!cfg_uint(&n, "ReportQueueSize", v, CONFIG_MIN_REPORT_QUEUE,
	    CONFIG_MAX_REPORT_QUEUE, why, wlen))
		return false;
	p->cfg->report_queue_size = n;
	return true;
}

static bool
cfg_arc_comments(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	return cfg_bool(&p->cfg->arc_authres_comments, "ARCAuthResComments",
	    v, why, wlen);
}

/* cfg_trusted_sealers - TrustedARCSealers: a list or a file, read after */
static bool
cfg_trusted_sealers(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	return cfg_set_str(&p->trusted_sealers, v, why, wlen);
}

static bool
cfg_failure_reports(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	return cfg_bool(&p->cfg->failure_reports, "FailureReports", v, why,
	    wlen);
}

static bool
cfg_failure_per_hour(struct cfgparse *p, const char *v, char *why,
    size_t wlen)
{
	return cfg_unsigned(&p->cfg->failure_per_hour, "FailureReportsPerHour",
	    v, 1, CONFIG_MAX_FAILURE_PER_HOUR, why, wlen);
}

/* cfg_report_relay - ReportSMTPRelay host[:port] */
static bool
cfg_report_relay(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	char host[SMTP_MAX_HOST + 1], reason[400];
	unsigned port;

	if (!smtp_client_parse_relay(v, host, sizeof(host), &port, reason,
	    sizeof(reason))) {
		snprintf(why, wlen, "ReportSMTPRelay must be host[:port]: %s",
		    reason);
		return false;
	}
	return cfg_set_str(&p->cfg->report_smtp_relay, v, why, wlen);
}

/* cfg_report_sendmail - ReportSendmail: an absolute command path, args */
static bool
cfg_report_sendmail(struct cfgparse *p, const char *v, char *why, size_t wlen)
{
	if (v[0] != '/') {
		snprintf(why, wlen, "ReportSendmail must start with the "
		    "absolute path of a sendmail(1) program");
		return false;
	}
	return cfg_set_str(&p->cfg->report_sendmail, v, why, wlen);
}

/* Every key the file may use. Keep in step with authmilter.conf(5). */
static const struct cfgkey cfg_keys[] = {
	{ "Socket",		cfg_socket },
	{ "UMask",		cfg_umask },
	{ "UserID",		cfg_userid },
	{ "PidFile",		cfg_pidfile },
	{ "Syslog",		cfg_syslog },
	{ "SyslogFacility",	cfg_facility },
	{ "LogWhy",		cfg_logwhy },
	{ "ShutdownTimeout",	cfg_shutdown },
	{ "InternalHosts",	cfg_internal },
	{ "Domain",		cfg_domain },
	{ "Selector",		cfg_selector },
	{ "KeyFile",		cfg_keyfile },
	{ "KeyTable",		cfg_keytable },
	{ "SigningTable",	cfg_signtable },
	{ "MultipleSignatures",	cfg_multiple },
	{ "Canonicalization",	cfg_canon },
	{ "SignHeaders",	cfg_signhdrs },
	{ "OversignHeaders",	cfg_oversign },
	{ "RequireSafeKeys",	cfg_safekeys },
	{ "MinimumKeyBits",	cfg_minbits },
	{ "MaximumHeaders",	cfg_maxhdrs },
	{ "MaximumHeaderBytes",	cfg_maxhdrbytes },
	{ "OnInternalError",	cfg_internal_error },
	{ "OnBadMessage",	cfg_bad_message },
	{ "AuthservID",		cfg_authserv },
	{ "Nameservers",	cfg_nameservers },
	{ "DNSTimeout",		cfg_dns_timeout },
	{ "DNSRetries",		cfg_dns_retries },
	{ "DNSBudget",		cfg_dns_budget },
	{ "MaximumSignaturesToVerify", cfg_maxverify },
	{ "AllowPartialBody",	cfg_partial },
	{ "DMARCMode",		cfg_dmarc_mode },
	{ "DMARCEnforcement",	cfg_enforcement },
	{ "TrustedForwarders",	cfg_trusted_forwarders },
	{ "RejectFailures",	cfg_reject_failures },
	{ "QuarantineFailures",	cfg_quarantine_failures },
	{ "QuarantineHeader",	cfg_quarantine_header },
	{ "OnTempError",	cfg_temp_error },
	{ "OnBadFrom",		cfg_bad_from },
	{ "IgnoreHosts",	cfg_ignore_hosts },
	{ "IgnoreDomains",	cfg_ignore_domains },
	{ "MetricsListen",	cfg_metrics_listen },
	{ "ShadowMode",		cfg_shadow },
	{ "ReportStore",	cfg_report_store },
	{ "ReportOrgName",	cfg_report_org },
	{ "ReportEmail",	cfg_report_email },
	{ "ReportGatewayID",	cfg_report_gateway },
	{ "ReportRetentionDays", cfg_report_days },
	{ "ReportNeverTo",	cfg_report_never },
	{ "ReportSendmail",	cfg_report_sendmail },
	{ "ReportSMTPRelay",	cfg_report_relay },
	{ "ReportQueueSize",	cfg_report_queue },
	{ "FailureReports",	cfg_failure_reports },
	{ "FailureReportsPerHour", cfg_failure_per_hour },
	{ "ARCSealKey",		cfg_arc_seal_key },
	{ "ARCSealMail",	cfg_arc_seal_mail },
	{ "ARCAuthResComments",	cfg_arc_comments },
	{ "TrustedARCSealers",	cfg_trusted_sealers },
};
#define CFG_NKEYS	(sizeof(cfg_keys) / sizeof(cfg_keys[0]))
_Static_assert(CFG_NKEYS <= sizeof(((struct cfgparse *)0)->seen_line) /
    sizeof(unsigned), "cfgparse.seen_line has no room for every key");

/* cfg_key_index - the table index of a key name, or -1 */
static int
cfg_key_index(const char *name)
{
	for (size_t i = 0; i < CFG_NKEYS; i++)
		if (util_strcaseeq(name, cfg_keys[i].name))
			return (int)i;
	return -1;
}

/* cfg_line_of - the line where a key was set (0 if never) */
static unsigned
cfg_line_of(const struct cfgparse *p, const char *name)
{
	int i = cfg_key_index(name);

	return i < 0 ? 0 : p->seen_line[i];
}

/* cfg_fail - "file:line: why" (line 0: "file: why") */
static void
cfg_fail(char *err, size_t errlen, const char *path, unsigned line,
    const char *why)
{
	textfile_error(err, errlen, path, line, "%s", why);
}

/* cfg_parse_line - one line of the file (textfile_each); false + why */
static bool
cfg_parse_line(void *arg, char *line, unsigned lineno, char *why,
    size_t wlen)
{
	struct cfgparse *p = arg;
	char *key, *val;
	size_t klen;
	int idx;

	p->line = lineno;
	key = util_trim(line);
	if (*key == '\0' || *key == '#')
		return true;
	klen = strcspn(key, " \t");
	val = key + klen;
	if (*val != '\0')
		*val++ = '\0';
	val = util_trim(val);
	idx = cfg_key_index(key);
	if (idx < 0) {
		snprintf(why, wlen, "unknown key \"%s\"", key);
		return false;
	}
	if (p->seen_line[idx]) {
		snprintf(why, wlen, "%s is already set on line %u",
		    cfg_keys[idx].name, p->seen_line[idx]);
		return false;
	}
	if (*val == '\0') {
		snprintf(why, wlen, "%s has no value", cfg_keys[idx].name);
		return false;
	}
	p->seen_line[idx] = p->line;
	return cfg_keys[idx].set(p, val, why, wlen);
}

/* cfg_read_file - read every line of the file into the parse state */
static bool
cfg_read_file(struct cfgparse *p, char *err, size_t errlen)
{
	return textfile_each(p->path, CONFIG_MAX_LINE, CONFIG_MAX_LINES,
	    cfg_parse_line, p, err, errlen);
}

/* cfg_netlist_line - one line of a file of networks */
static bool
cfg_netlist_line(void *arg, char *line, unsigned lineno, char *why,
    size_t wlen)
{
	const char *reason = NULL;
	char *s = util_trim(line);

	(void)lineno;
	if (*s == '\0' || *s == '#' || netlist_add(arg, s, &reason))
		return true;
	snprintf(why, wlen, "\"%s\": %s", s,
	    reason ? reason : "not an address or network");
	return false;
}

/* cfg_internal_file - load a file of networks, one entry per line */
static bool
cfg_internal_file(struct netlist *nl, const char *path, char *err,
    size_t errlen)
{
	return textfile_each(path, CONFIG_MAX_LINE, CONFIG_MAX_LINES,
	    cfg_netlist_line, nl, err, errlen);
}

/* cfg_build_netlist - a network list key (InternalHosts...) from a list or a file */
static bool
cfg_build_netlist(struct cfgparse *p, struct netlist **dst, const char *key,
    const char *v, char *err, size_t errlen)
{
	const char *reason = NULL;
	char why[512], *bad = NULL;

	netlist_free(*dst);
	*dst = netlist_new();
	if (v == NULL)
		return true;
	if (v[0] == '/' || strncmp(v, "./", 2) == 0)
		return cfg_internal_file(*dst, v, err, errlen);
	if (strncmp(v, "file:", 5) == 0)
		return cfg_internal_file(*dst, v + 5, err, errlen);
	if (!netlist_add_list(*dst, v, &reason, &bad)) {
		snprintf(why, sizeof(why), "%s: \"%s\": %s", key,
		    bad ? bad : v, reason ? reason : "not a network");
		free(bad);
		cfg_fail(err, errlen, p->path, cfg_line_of(p, key), why);
		return false;
	}
	return true;
}

/*
 * cfg_domain_push - a domain name (a final dot dropped, lower-cased,
 * checked) appended to a list of at most max; false with why on a bad one
 */
static bool
cfg_domain_push(char ***list, size_t *n, size_t max, char *dom, char *why,
    size_t wlen)
{
	size_t len = strlen(dom);

	if (len > 0 && dom[len - 1] == '.')
		dom[len - 1] = '\0';
	util_strlower(dom);
	if (!addr_domain_valid(dom)) {
		snprintf(why, wlen, "\"%s\" is not a valid domain name", dom);
		return false;
	}
	if (*n >= max) {
		snprintf(why, wlen, "more than %zu domains", max);
		return false;
	}
	*list = xrealloc(*list, (*n + 1) * sizeof(char *));
	(*list)[(*n)++] = xstrdup(dom);
	return true;
}

/* A domain list being built: where it goes, how long it may grow. */
struct cfg_domlist {
	char		***list;
	size_t		*n;
	size_t		 max;
};

/* cfg_domlist_line - one line of a domain-list file ("#": a comment) */
static bool
cfg_domlist_line(void *arg, char *line, unsigned lineno, char *why,
    size_t wlen)
{
	struct cfg_domlist *dl = arg;
	char *dom = util_trim(line);

	(void)lineno;
	return *dom == '\0' || *dom == '#' ||
	    cfg_domain_push(dl->list, dl->n, dl->max, dom, why, wlen);
}

/*
 * cfg_build_domain_list - a domain-list key (IgnoreDomains,
 * TrustedARCSealers, ReportNeverTo) from its value v: domains separated
 * by commas or white space, or a file of them, one a line, named
 * "/PATH", "./PATH" or "file:PATH" (errors: "file:line: reason")
 */
static bool
cfg_build_domain_list(struct cfgparse *p, const char *key, const char *v,
    char ***list, size_t *n, size_t max, char *err, size_t errlen)
{
	struct cfg_domlist dl = { list, n, max };
	char why[512], msg[600], *copy, *dom, *save = NULL;
	const char *path = NULL;
	bool ok = true;

	if (v == NULL)
		return true;
	if (v[0] == '/' || strncmp(v, "./", 2) == 0)
		path = v;
	else if (strncmp(v, "file:", 5) == 0)
		path = v + 5;
	if (path != NULL)
		return textfile_each(path, CONFIG_MAX_LINE, CONFIG_MAX_LINES,
		    cfg_domlist_line, &dl, err, errlen);
	copy = xstrdup(v);
	for (dom = strtok_r(copy, ", \t", &save); ok && dom != NULL;
	    dom = strtok_r(NULL, ", \t", &save))
		if (!(ok = cfg_domain_push(list, n, max, dom, why,
		    sizeof(why)))) {
			snprintf(msg, sizeof(msg), "%s: %s", key, why);
			cfg_fail(err, errlen, p->path, cfg_line_of(p, key), msg);
		}
	free(copy);
	return ok;
}

/* cfg_build_domains - IgnoreDomains from a list or a file */
static bool
cfg_build_domains(struct cfgparse *p, char *err, size_t errlen)
{
	return cfg_build_domain_list(p, "IgnoreDomains", p->ignore_domains,
	    &p->cfg->ignore_domains, &p->cfg->nignore_domains,
	    CONFIG_MAX_IGNORE_DOMAINS, err, errlen);
}

/*
 * cfg_build_arc - TrustedARCSealers from a list or a file; ARCSealKey
 * names a KeyTable entry with a fixed domain and an RSA key
 */
static bool
cfg_build_arc(struct cfgparse *p, char *err, size_t errlen)
{
	struct config *cfg = p->cfg;
	char why[512];

	if (!cfg_build_domain_list(p, "TrustedARCSealers", p->trusted_sealers,
	    &cfg->trusted_arc_sealers, &cfg->ntrusted_arc_sealers,
	    CONFIG_MAX_TRUSTED_SEALERS, err, errlen))
		return false;
	if (cfg->arc_seal_key == NULL) {
		if (p->arc_mail_set) {
			cfg_fail(err, errlen, p->path, cfg_line_of(p,
			    "ARCSealMail"), "ARCSealMail needs ARCSealKey");
			return false;
		}
		return true;
	}
	cfg->arc_key = keytable_find(cfg->keytable, cfg->arc_seal_key);
	if (cfg->arc_key == NULL)
		snprintf(why, sizeof(why), "ARCSealKey \"%s\" is not a key "
		    "name of the KeyTable", cfg->arc_seal_key);
	else if (strcmp(cfg->arc_key->domain, "%") == 0)
		snprintf(why, sizeof(why), "ARCSealKey \"%s\": its KeyTable "
		    "entry needs a fixed domain, not %%", cfg->arc_seal_key);
	else if (cfg->arc_key->key->alg != KEY_ALG_RSA)
		snprintf(why, sizeof(why), "ARCSealKey \"%s\" must be an RSA "
		    "key: ARC verifiers know rsa-sha256 only",
		    cfg->arc_seal_key);
	else
		return true;
	cfg->arc_key = NULL;
	cfg_fail(err, errlen, p->path, cfg_line_of(p, "ARCSealKey"), why);
	return false;
}

/* cfg_build_report - the report keys that go together */
static bool
cfg_build_report(struct cfgparse *p, char *err, size_t errlen)
{
	struct config *cfg = p->cfg;
	bool ok;

	ok = cfg_build_domain_list(p, "ReportNeverTo", p->report_never_to,
	    &cfg->report_never_to, &cfg->nreport_never_to,
	    CONFIG_MAX_REPORT_NEVER, err, errlen);
	if (ok && cfg->failure_reports &&
	    (cfg->report_email == NULL || cfg->report_org_name == NULL)) {
		cfg_fail(err, errlen, p->path, cfg_line_of(p, "FailureReports"),
		    "FailureReports needs ReportEmail and ReportOrgName (what "
		    "the reports say of their sender)");
		ok = false;
	}
	if (ok && cfg->report_store != NULL &&
	    (cfg->report_email == NULL || cfg->report_org_name == NULL)) {
		cfg_fail(err, errlen, p->path, cfg_line_of(p, "ReportStore"),
		    "ReportStore needs ReportEmail and ReportOrgName (what "
		    "the reports say of their sender)");
		ok = false;
	}
	return ok;
}

/* cfg_build_inbound - the inbound keys that need checking together */
static bool
cfg_build_inbound(struct cfgparse *p, char *err, size_t errlen)
{
	struct config *cfg = p->cfg;

	if (!cfg_build_netlist(p, &cfg->ignore_hosts, "IgnoreHosts",
	    p->ignore_hosts, err, errlen) ||
	    !cfg_build_netlist(p, &cfg->trusted_forwarders, "TrustedForwarders",
	    p->trusted_forwarders, err, errlen) ||
	    !cfg_build_domains(p, err, errlen))
		return false;
	if (cfg->dns_timeout > cfg->dns_budget) {
		cfg_fail(err, errlen, p->path, cfg_line_of(p, "DNSTimeout"),
		    "DNSTimeout is longer than DNSBudget");
		return false;
	}
	return true;
}

/* cfg_build_keyfile - the simple Domain/Selector/KeyFile set-up */
static bool
cfg_build_keyfile(struct cfgparse *p, char *err, size_t errlen)
{
	struct config *cfg = p->cfg;
	struct privkey *key;
	char kerr[512], *list, *dom, *save = NULL;
	unsigned line = cfg_line_of(p, "KeyFile");

	if (p->keytable || p->signtable) {
		cfg_fail(err, errlen, p->path, line, p->keytable ?
		    "KeyFile and KeyTable cannot both be set" :
		    "KeyFile and SigningTable cannot both be set");
		return false;
	}
	if (p->domains == NULL || p->selector == NULL) {
		cfg_fail(err, errlen, p->path, line,
		    "KeyFile needs Domain and Selector");
		return false;
	}
	if (!addr_domain_valid(p->selector)) {
		cfg_fail(err, errlen, p->path, cfg_line_of(p, "Selector"),
		    "Selector is not a valid DNS label sequence");
		return false;
	}
	key = keys_load(p->keyfile, cfg->require_safe_keys,
	    cfg->minimum_key_bits, kerr, sizeof(kerr));
	if (key == NULL) {
		cfg_fail(err, errlen, p->path, line, kerr);
		return false;
	}
	keytable_add(cfg->keytable, CONFIG_KEYFILE_NAME, "%", p->selector,
	    key);
	cfg->signtable = signtable_new(false);
	list = xstrdup(p->domains);
	for (dom = strtok_r(list, ", \t", &save); dom != NULL;
	    dom = strtok_r(NULL, ", \t", &save)) {
		util_strlower(dom);
		if (!addr_domain_valid(dom)) {
			snprintf(kerr, sizeof(kerr), "Domain \"%s\" is not a "
			    "valid domain name", dom);
			cfg_fail(err, errlen, p->path, cfg_line_of(p, "Domain"),
			    kerr);
			free(list);
			return false;
		}
		signtable_add(cfg->signtable, dom, CONFIG_KEYFILE_NAME, NULL,
		    cfg_line_of(p, "Domain"));
	}
	free(list);
	return true;
}

/* cfg_check_names - every SigningTable key name must be in the KeyTable */
static bool
cfg_check_names(struct cfgparse *p, char *err, size_t errlen)
{
	const struct signtable *st = p->cfg->signtable;
	char why[512];

	for (size_t i = 0; i < st->count; i++) {
		const char *name = st->entries[i].keyname;

		if (strcmp(name, "%") == 0 ||
		    keytable_find(p->cfg->keytable, name) != NULL)
			continue;
		snprintf(why, sizeof(why), "key name \"%s\" is not in the "
		    "KeyTable %s", name, p->keytable);
		cfg_fail(err, errlen, p->signtable + (strncmp(p->signtable,
		    "refile:", 7) == 0 ? 7 : strncmp(p->signtable, "file:", 5)
		    == 0 ? 5 : 0), st->entries[i].line, why);
		return false;
	}
	return true;
}

/* cfg_build_tables - KeyTable + SigningTable */
static bool
cfg_build_tables(struct cfgparse *p, char *err, size_t errlen)
{
	struct config *cfg = p->cfg;

	if (p->keytable == NULL || p->signtable == NULL) {
		cfg_fail(err, errlen, p->path, cfg_line_of(p, p->keytable ?
		    "KeyTable" : "SigningTable"),
		    "KeyTable and SigningTable go together: set both");
		return false;
	}
	if (p->domains || p->selector) {
		cfg_fail(err, errlen, p->path, cfg_line_of(p, p->domains ?
		    "Domain" : "Selector"),
		    "Domain and Selector belong to KeyFile; with a KeyTable "
		    "the domain and selector come from the table");
		return false;
	}
	if (!keytable_load(cfg->keytable, p->keytable, cfg->require_safe_keys,
	    cfg->minimum_key_bits, err, errlen))
		return false;
	cfg->signtable = signtable_load(p->signtable, err, errlen);
	if (cfg->signtable == NULL)
		return false;
	return cfg_check_names(p, err, errlen);
}

/* cfg_finish - check the keys that depend on each other, load keys */
static bool
cfg_finish(struct cfgparse *p, char *err, size_t errlen)
{
	if (!cfg_build_netlist(p, &p->cfg->internal_hosts, "InternalHosts",
	    p->internal ? p->internal : CONFIG_DEFAULT_INTERNAL, err, errlen) ||
	    !cfg_build_inbound(p, err, errlen) ||
	    !cfg_build_report(p, err, errlen))
		return false;
	if (p->keyfile) {
		if (!cfg_build_keyfile(p, err, errlen))
			return false;
	} else if (p->keytable || p->signtable) {
		if (!cfg_build_tables(p, err, errlen))
			return false;
	} else if (p->domains || p->selector) {
		cfg_fail(err, errlen, p->path, cfg_line_of(p, p->domains ?
		    "Domain" : "Selector"),
		    "Domain and Selector need a KeyFile");
		return false;
	}
	if (!cfg_build_arc(p, err, errlen))
		return false;
	p->cfg->sign = sign_ctx_new(p->cfg->hdr_canon == DKIM_CANON_RELAXED,
	    p->cfg->body_canon == DKIM_CANON_RELAXED,
	    (const char *const *)p->cfg->sign_headers.names,
	    p->cfg->oversign_headers.count > 0 ?
	    (const char *const *)p->cfg->oversign_headers.names : NULL);
	return true;
}

/* config_defaults - every default, no keys */
struct config *
config_defaults(void)
{
	struct config *cfg = xcalloc(1, sizeof(*cfg));

	cfg->socket = xstrdup(CONFIG_DEFAULT_SOCKET);
	cfg->umask = 007;
	cfg->syslog = true;
	cfg->syslog_facility = LOG_MAIL;
	cfg->shutdown_timeout = CONFIG_DEFAULT_SHUTDOWN_SECS;
	cfg->keytable = keytable_new();
	cfg->internal_hosts = netlist_new();
	{
		const char *why;
		char *bad = NULL;

		(void)netlist_add_list(cfg->internal_hosts,
		    CONFIG_DEFAULT_INTERNAL, &why, &bad);
		free(bad);
	}
	cfg->ignore_hosts = netlist_new();
	cfg->trusted_forwarders = netlist_new();
	cfg->hdr_canon = DKIM_CANON_RELAXED;
	cfg->body_canon = DKIM_CANON_RELAXED;
	hdrlist_init(&cfg->sign_headers);
	hdrlist_set_default(&cfg->sign_headers, hdrlist_default_sign);
	hdrlist_init(&cfg->oversign_headers);
	hdrlist_set_default(&cfg->oversign_headers, hdrlist_default_oversign);
	cfg->require_safe_keys = true;
	cfg->minimum_key_bits = CONFIG_DEFAULT_MIN_KEY_BITS;
	cfg->max_headers = CONFIG_DEFAULT_MAX_HEADERS;
	cfg->max_header_bytes = CONFIG_DEFAULT_MAX_HDR_BYTES;
	cfg->on_internal_error = ON_ERROR_TEMPFAIL;
	cfg->on_bad_message = ON_ERROR_ACCEPT;
	cfg->dns_timeout = CONFIG_DEFAULT_DNS_TIMEOUT;
	cfg->dns_retries = CONFIG_DEFAULT_DNS_RETRIES;
	cfg->dns_budget = CONFIG_DEFAULT_DNS_BUDGET;
	cfg->max_verify_sigs = CONFIG_DEFAULT_MAX_VERIFY;
	cfg->reject_failures = FAIL_REJECT;
	cfg->quarantine_failures = FAIL_QUARANTINE;
	cfg->quarantine_header = xstrdup(CONFIG_DEFAULT_QUARANTINE_HDR);
	cfg->on_temp_error = ON_ERROR_TEMPFAIL;
	cfg->on_bad_from = ON_ERROR_REJECT;
	cfg->report_retention_days = CONFIG_DEFAULT_REPORT_DAYS;
	cfg->report_sendmail = xstrdup(CONFIG_DEFAULT_SENDMAIL);
	cfg->report_queue_size = CONFIG_DEFAULT_REPORT_QUEUE;
	cfg->failure_per_hour = CONFIG_DEFAULT_FAILURE_PER_HOUR;
	cfg->refs = 1;
	return cfg;
}

/* cfgparse_clear - free what the parse state owns */
static void
cfgparse_clear(struct cfgparse *p)
{
	free(p->domains);
	free(p->selector);
	free(p->keyfile);
	free(p->keytable);
	free(p->signtable);
	free(p->internal);
	free(p->ignore_hosts);
	free(p->trusted_forwarders);
	free(p->ignore_domains);
	free(p->trusted_sealers);
	free(p->report_never_to);
}

/* config_load - read, check and prepare a configuration file */
struct config *
config_load(const char *path, char *err, size_t errlen)
{
	struct cfgparse p;
	bool ok;

	memset(&p, 0, sizeof(p));
	p.cfg = config_defaults();
	p.cfg->path = xstrdup(path);
	p.path = path;
	ok = cfg_read_file(&p, err, errlen) && cfg_finish(&p, err, errlen);
	cfgparse_clear(&p);
	if (!ok) {
		config_unref(p.cfg);
		return NULL;
	}
	return p.cfg;
}

/* config_ref - one more user of cfg */
struct config *
config_ref(struct config *cfg)
{
	__atomic_add_fetch(&cfg->refs, 1, __ATOMIC_RELAXED);
	return cfg;
}

/* config_unref - one user less; the last frees it */
void
config_unref(struct config *cfg)
{
	if (cfg == NULL ||
	    __atomic_sub_fetch(&cfg->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	sign_ctx_free(cfg->sign);
	signtable_free(cfg->signtable);
	keytable_free(cfg->keytable);
	netlist_free(cfg->internal_hosts);
	netlist_free(cfg->ignore_hosts);
	netlist_free(cfg->trusted_forwarders);
	for (size_t i = 0; i < cfg->nignore_domains; i++)
		free(cfg->ignore_domains[i]);
	free(cfg->ignore_domains);
	for (size_t i = 0; i < cfg->nnameservers; i++)
		free(cfg->nameservers[i]);
	free(cfg->quarantine_header);
	hdrlist_free(&cfg->sign_headers);
	hdrlist_free(&cfg->oversign_headers);
	free(cfg->path);
	free(cfg->socket);
	free(cfg->userid);
	free(cfg->pidfile);
	free(cfg->authserv_id);
	free(cfg->metrics_listen);
	free(cfg->arc_seal_key);
	for (size_t i = 0; i < cfg->ntrusted_arc_sealers; i++)
		free(cfg->trusted_arc_sealers[i]);
	free(cfg->trusted_arc_sealers);
	free(cfg->report_store);
	free(cfg->report_org_name);
	free(cfg->report_email);
	free(cfg->report_gateway);
	for (size_t i = 0; i < cfg->nreport_never_to; i++)
		free(cfg->report_never_to[i]);
	free(cfg->report_never_to);
	free(cfg->report_sendmail);
	free(cfg->report_smtp_relay);
	free(cfg);
}

static pthread_mutex_t config_lock = PTHREAD_MUTEX_INITIALIZER;
static struct config *config_cur;

/* config_current - a reference to the configuration in force */
struct config *
config_current(void)
{
	struct config *cfg;

	pthread_mutex_lock(&config_lock);
	cfg = config_cur ? config_ref(config_cur) : NULL;
	pthread_mutex_unlock(&config_lock);
	return cfg;
}

/* config_install - make cfg the configuration in force */
void
config_install(struct config *cfg)
{
	struct config *old;

	pthread_mutex_lock(&config_lock);
	old = config_cur;
	config_cur = cfg;
	pthread_mutex_unlock(&config_lock);
	config_unref(old);
}

const char *
config_on_error_name(enum on_error e)
{
	switch (e) {
	case ON_ERROR_ACCEPT: return "accept";
	case ON_ERROR_REJECT: return "reject";
	default: return "tempfail";
	}
}

static char config_host[256];
static pthread_once_t config_host_once = PTHREAD_ONCE_INIT;

/* config_hostname - our host name, once: the default AuthservID */
static void
config_hostname(void)
{
	if (gethostname(config_host, sizeof(config_host) - 1) != 0 ||
	    config_host[0] == '\0')
		snprintf(config_host, sizeof(config_host), "localhost");
	config_host[sizeof(config_host) - 1] = '\0';
	util_strlower(config_host);
}

/* config_ignored_domain - domain or one of its parents is in IgnoreDomains */
bool
config_ignored_domain(const struct config *cfg, const char *domain)
{
	for (const char *d = domain; d != NULL && *d;
	    d = (d = strchr(d, '.')) ? d + 1 : NULL)
		for (size_t i = 0; i < cfg->nignore_domains; i++)
			if (util_strcaseeq(d, cfg->ignore_domains[i]))
				return true;
	return false;
}

/* config_trusted_sealer - domain is one of TrustedARCSealers */
bool
config_trusted_sealer(const struct config *cfg, const char *domain)
{
	for (size_t i = 0; domain != NULL && i < cfg->ntrusted_arc_sealers;
	    i++)
		if (util_strcaseeq(domain, cfg->trusted_arc_sealers[i]))
			return true;
	return false;
}

/* config_arc_seals - is ARC sealing on for inbound (or relayed) mail? */
bool
config_arc_seals(const struct config *cfg, bool inbound)
{
	if (cfg->arc_key == NULL)
		return false;
	if (cfg->arc_seal_mail == CFG_ARC_SEAL_ALL)
		return true;
	return inbound ? cfg->arc_seal_mail == CFG_ARC_SEAL_INBOUND :
	    cfg->arc_seal_mail == CFG_ARC_SEAL_RELAYED;
}

/* config_authserv_id - AuthservID, else the host name, else "localhost" */
const char *
config_authserv_id(const struct config *cfg)
{
	if (cfg->authserv_id != NULL)
		return cfg->authserv_id;
	pthread_once(&config_host_once, config_hostname);
	return config_host;
}

/* config_report_gateway - ReportGatewayID, else the host name */
const char *
config_report_gateway(const struct config *cfg)
{
	if (cfg->report_gateway != NULL)
		return cfg->report_gateway;
	pthread_once(&config_host_once, config_hostname);
	return config_host;
}

/* config_report_never - domain or one of its parents is in ReportNeverTo */
bool
config_report_never(const struct config *cfg, const char *domain)
{
	for (const char *d = domain; d != NULL && *d;
	    d = (d = strchr(d, '.')) ? d + 1 : NULL)
		for (size_t i = 0; i < cfg->nreport_never_to; i++)
			if (util_strcaseeq(d, cfg->report_never_to[i]))
				return true;
	return false;
}

const char *
config_fail_action_name(enum fail_action a)
{
	switch (a) {
	case FAIL_QUARANTINE: return "quarantine";
	case FAIL_HEADER: return "header";
	case FAIL_REPORT: return "report";
	default: return "reject";
	}
}
