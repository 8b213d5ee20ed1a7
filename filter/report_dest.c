/*
 * NAME
 *	report_dest - may a DMARC report go to this destination?
 * SYNOPSIS
 *	#include "report_dest.h"
 *
 *	report_dest_check(dns, mode, policy_domain, addr, "rua",
 *	    override, sizeof(override), why, sizeof(why))
 * DESCRIPTION
 *	RFC 9990 section 4. A destination whose host has the policy
 *	domain's organizational domain is the domain owner's own. Any other
 *	must be authorized by the Report Consumer: a TXT record at
 *	<policy-domain>._report._dmarc.<host> (at most DNS_MAX_NAME bytes)
 *	whose first tag is v=DMARC1. A temporary DNS error leaves the
 *	question open (the caller tries again later); no such record, a
 *	name too long, or anything else, is a no.
 *
 *	An authorizing record may carry its own rua= (ruf= for failure
 *	reports): it then replaces the destination, which lets the
 *	Report Consumer move its reports. To prevent loops and abuse the
 *	replacement must stay on the same host: when one of its mailto:
 *	URIs is on another host (or is unusable), neither the original
 *	address nor the replacement gets a report. The replacement is not
 *	checked again: its host is the one that just authorized it.
 * DIAGNOSTICS
 *	why: the name asked for and what was (not) found.
 */
#include "buildconf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dmarc.h"
#include "dns.h"
#include "report.h"
#include "report_dest.h"
#include "util.h"

#define DEST_MAX_URIS	8	/* mailto: URIs looked at in an override */

/* dest_lookup - the DMARC module's DNS hook: dns.c, its own timeout */
static struct dns_answer *
dest_lookup(void *arg, const char *name, unsigned type)
{
	return dns_lookup(arg, name, type, NULL);
}

/* dest_trim - s without white space around it (in place) */
static char *
dest_trim(char *s, char *end)
{
	while (s < end && isspace((unsigned char)*s))
		s++;
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';
	return s;
}

/* report_dest_record - one TXT record: v=DMARC1 first, and tag's value */
bool
report_dest_record(const char *txt, const char *tag, char *override,
    size_t overridelen)
{
	char *copy = xstrdup(txt), *p = copy;
	bool first = true, ok = false;

	override[0] = '\0';
	while (p != NULL) {
		char *semi = strchr(p, ';'), *end = semi ? semi : p + strlen(p);
		char *eq = memchr(p, '=', (size_t)(end - p)), *name, *value;

		if (eq == NULL) {
			if (*dest_trim(p, end) != '\0' || first)
				break;	/* junk, or no tag at all */
		} else {
			name = dest_trim(p, eq);
			value = dest_trim(eq + 1, end);
			if (first) {
				if (strcmp(name, "v") != 0 ||
				    strcmp(value, "DMARC1") != 0)
					break;
				ok = true;
			} else if (strcmp(name, tag) == 0 && override[0] == '\0')
				snprintf(override, overridelen, "%s", value);
		}
		first = false;
		p = semi ? semi + 1 : NULL;
	}
	free(copy);
	if (!ok)
		override[0] = '\0';
	return ok;
}

/* report_dest_override_ok - every mailto: URI usable and on host */
bool
report_dest_override_ok(const char *value, const char *host, char *why,
    size_t whylen)
{
	char addr[REPORT_MAX_ADDR + 1];
	enum report_uri u;
	size_t i;

	for (i = 0; i < DEST_MAX_URIS && (u = report_mailto(value, i, addr,
	    sizeof(addr))) != REPORT_URI_NONE; i++) {
		const char *at = strrchr(addr, '@');

		if (u == REPORT_URI_BAD) {
			snprintf(why, whylen, "its replacement \"%s\" is not a "
			    "usable mailto: URI", addr);
			return false;
		}
		if (at == NULL || strcasecmp(at + 1, host) != 0) {
			snprintf(why, whylen, "its replacement %s is not on "
			    "%s: no report to either", addr, host);
			return false;
		}
	}
	if (i == 0) {
		snprintf(why, whylen, "its replacement \"%s\" has no mailto: "
		    "URI", value);
		return false;
	}
	return true;
}

/* report_dest_check - see report_dest.h */
enum report_auth
report_dest_check(struct dns_service *dns, enum dmarc_mode mode,
    const char *policy_domain, const char *addr, const char *tag,
    char *override, size_t overridelen, char *why, size_t whylen)
{
	struct dmarc_dns dd = { dest_lookup, dns };
	char org1[DNS_MAX_NAME + 1], org2[DNS_MAX_NAME + 1];
	char name[2 * DNS_MAX_NAME + 32], value[REPORT_MAX_RUA + 1];
	const char *host = strrchr(addr, '@');
	enum report_auth res = REPORT_AUTH_NO;
	struct dns_answer *a;

	override[0] = '\0';
	why[0] = '\0';
	value[0] = '\0';
	if (host == NULL || host[1] == '\0') {
		snprintf(why, whylen, "%s is not an address", addr);
		return REPORT_AUTH_NO;
	}
	host++;
	if (dns == NULL) {
		snprintf(why, whylen, "no DNS service");
		return REPORT_AUTH_TEMP;
	}
	if (!dmarc_org_domain(&dd, mode, policy_domain, org1, sizeof(org1)) ||
	    !dmarc_org_domain(&dd, mode, host, org2, sizeof(org2))) {
		snprintf(why, whylen, "DNS error finding the organizational "
		    "domains");
		return REPORT_AUTH_TEMP;
	}
	if (strcasecmp(org1, org2) == 0)
		return REPORT_AUTH_OK;
	snprintf(name, sizeof(name), "%s._report._dmarc.%s", policy_domain,
	    host);
	if (strlen(name) > DNS_MAX_NAME) {
		snprintf(why, whylen, "%s is too long for DNS", name);
		return REPORT_AUTH_NO;
	}
	a = dns_lookup(dns, name, DNS_T_TXT, NULL);
	if (a->status == DNS_SERVFAIL || a->status == DNS_TIMEOUT) {
		snprintf(why, whylen, "%s TXT: %s", name,
		    dns_status_name(a->status));
		res = REPORT_AUTH_TEMP;
	}
	for (size_t i = 0; a->status == DNS_OK && i < a->nrecords &&
	    res != REPORT_AUTH_OK; i++)
		if (a->records[i].text != NULL &&
		    strlen(a->records[i].text) == a->records[i].len &&
		    report_dest_record(a->records[i].text, tag, value,
		    sizeof(value)))
			res = REPORT_AUTH_OK;
	dns_answer_free(a);
	if (res == REPORT_AUTH_NO)
		snprintf(why, whylen, "external destination not authorized: "
		    "no v=DMARC1 record at %s", name);
	if (res != REPORT_AUTH_OK || value[0] == '\0')
		return res;
	if (!report_dest_override_ok(value, host, why, whylen)) {
		char saved[512];

		snprintf(saved, sizeof(saved), "%s", why);
		snprintf(why, whylen, "%s has %s=%s: %s", name, tag, value,
		    saved);
		return REPORT_AUTH_NO;
	}
	snprintf(override, overridelen, "%s", value);
	snprintf(why, whylen, "%s replaces the destination with %s", name,
	    value);
	return REPORT_AUTH_OK;
}
