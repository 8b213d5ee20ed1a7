/*
 * report_dest.h - where a DMARC report may go: the check of a destination
 * outside the policy domain's organization (RFC 9990 section 4,
 * "Verifying External Destinations"; RFC 9991 applies it to failure
 * reports), with the destination's own rua= (or ruf=) that may replace
 * the address. The report command and the failure reporter share it.
 *
 * It asks the DNS (dns.h, through the DMARC module's organizational
 * domain); it sends nothing (report_send.h does).
 */
#ifndef AM_REPORT_DEST_H
#define AM_REPORT_DEST_H

#include <stdbool.h>
#include <stddef.h>

#include "dmarc.h"

struct dns_service;

enum report_auth {
	REPORT_AUTH_OK,		/* send (to override, when it is set) */
	REPORT_AUTH_NO,		/* never send to this destination */
	REPORT_AUTH_TEMP	/* a DNS error: decide later */
};

/*
 * report_dest_check - may a report about policy_domain go to addr (a
 * plain, decoded address)? OK at once when the address's host has the
 * same organizational domain (by mode: tree walk or PSL). Else the TXT
 * records at <policy_domain>._report._dmarc.<host> are read: those whose
 * first tag is v=DMARC1 authorize it; none is NO, a DNS temporary error
 * TEMP. When an authorizing record has a tag (RFC 9990: "rua"; for
 * failure reports "ruf") of its own, its value replaces the destination:
 * it is copied to override (else override is ""), as long as every
 * mailto: URI in it is usable and on the same host; otherwise neither
 * the address nor the override gets a report (NO). why says why for NO
 * and TEMP, and names an override.
 */
enum report_auth report_dest_check(struct dns_service *dns,
    enum dmarc_mode mode, const char *policy_domain, const char *addr,
    const char *tag, char *override, size_t overridelen, char *why,
    size_t whylen);

/*
 * report_dest_record - the verdict on one TXT record of the
 * _report._dmarc name, for host: false when it does not authorize
 * (first tag not v=DMARC1); else true, with the value of tag (or "") in
 * override. For report_dest_check and the unit tests.
 */
bool report_dest_record(const char *txt, const char *tag, char *override,
    size_t overridelen);

/*
 * report_dest_override_ok - is every mailto: URI of an override value
 * usable and on host, and is there at least one? why says which is not.
 */
bool report_dest_override_ok(const char *value, const char *host, char *why,
    size_t whylen);

#endif
