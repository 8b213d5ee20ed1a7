/*
 * report.h - DMARC aggregate reports (RFC 9990): the row recorded for one
 * message, and the report made of a day's rows for one policy domain.
 *
 * A row is what the gateway learned of one inbound message whose DMARC
 * policy asked for aggregate reports (rua=): the source IP, the identifiers,
 * the disposition, the aligned results, every DKIM signature, the SPF
 * (mfrom) result, the override, and the policy as published. Every field is
 * text, as the report store keeps it and as the XML says it; the values of
 * the enumerated fields are checked again when the XML is written, so a row
 * read back from a store never makes a report that does not validate.
 *
 * A report groups the rows of one policy domain and one period: rows equal
 * in everything but their time become one <record> with a <count>. The DKIM
 * results of a record are ordered as RFC 9990 prefers (pass in strict
 * alignment, pass in relaxed alignment, other passes, the rest) and cut at
 * REPORT_MAX_DKIM_REPORTED.
 *
 * This module is pure: no I/O, no store, no DNS. The store is
 * report_store.h; the writer thread report_writer.h; the command that
 * builds and mails reports cli_report.c.
 */
#ifndef AM_REPORT_H
#define AM_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define REPORT_NAMESPACE	"urn:ietf:params:xml:ns:dmarc-2.0"
#define REPORT_MAX_DKIM		100	/* signatures kept per row */
#define REPORT_MAX_DKIM_REPORTED 100	/* RFC 9990: signatures per record */
#define REPORT_MAX_DOMAIN	253	/* bytes of a domain name */
#define REPORT_MAX_NAME		255	/* bytes of header_from, envelope_* */
#define REPORT_MAX_SELECTOR	253	/* bytes of a DKIM selector */
#define REPORT_MAX_IP		64	/* bytes of a textual address */
#define REPORT_MAX_COMMENT	128	/* bytes of an override comment */
#define REPORT_MAX_RUA		512	/* bytes of the rua= value */
#define REPORT_MAX_ADDR		320	/* bytes of a destination address */
#define REPORT_MAX_FO		16	/* bytes of fo= */
#define REPORT_MAX_WORD		16	/* bytes of an enumerated value */
#define REPORT_ID_LEN		20	/* hex digits of a report id */
#define REPORT_DAY_SECS		86400

/* One DKIM signature of a message, as reported. */
struct report_dkim {
	char	 domain[REPORT_MAX_DOMAIN + 1];		/* d= */
	char	 selector[REPORT_MAX_SELECTOR + 1];	/* s= */
	char	 result[REPORT_MAX_WORD + 1];		/* RFC 8601 2.7.1 */
};

/* One message. Empty strings stand for absent optional values. */
struct report_row {
	int64_t		 received;	/* seconds since the epoch, UTC */
	char		 gateway[REPORT_MAX_NAME + 1];
	char		 source_ip[REPORT_MAX_IP];
	char		 policy_domain[REPORT_MAX_DOMAIN + 1];
	char		 header_from[REPORT_MAX_NAME + 1];
	char		 envelope_from[REPORT_MAX_NAME + 1];
	char		 envelope_to[REPORT_MAX_NAME + 1];
	char		 disposition[REPORT_MAX_WORD + 1];	/* none|pass|quarantine|reject */
	bool		 dkim_aligned;	/* policy_evaluated/dkim pass */
	bool		 spf_aligned;	/* policy_evaluated/spf pass */
	char		 override[REPORT_MAX_WORD + 8];	/* "" or an RFC 9990 reason */
	char		 override_comment[REPORT_MAX_COMMENT + 1];
	char		 spf_domain[REPORT_MAX_NAME + 1];
	char		 spf_result[REPORT_MAX_WORD + 1];
	/* the policy as published */
	char		 p[REPORT_MAX_WORD + 1];
	char		 sp[REPORT_MAX_WORD + 1];	/* "" when absent */
	char		 np[REPORT_MAX_WORD + 1];	/* "" when absent */
	char		 adkim[2];		/* "r" or "s" */
	char		 aspf[2];
	char		 testing[2];		/* "y" or "n" */
	char		 fo[REPORT_MAX_FO + 1];
	char		 discovery[REPORT_MAX_WORD + 1];	/* psl|treewalk */
	char		 rua[REPORT_MAX_RUA + 1];
	size_t		 ndkim;
	struct report_dkim *dkim;	/* ndkim entries, malloc'ed */
	unsigned long	 count;		/* messages it stands for (0 = 1) */
};

/* report_row_new - an empty row (every string "", no signature) */
struct report_row *report_row_new(void);
void report_row_free(struct report_row *r);
/* report_row_add_dkim - one more signature (ignored past REPORT_MAX_DKIM) */
void report_row_add_dkim(struct report_row *r, const char *domain,
    const char *selector, const char *result);

/*
 * report_dkim_text - the signatures as one line of text for a store
 * ("d s result" separated by "\n"; control characters and spaces in a
 * value become '?'); report_dkim_parse reads it back into r.
 */
char *report_dkim_text(const struct report_row *r);
void report_dkim_parse(struct report_row *r, const char *text);

/* report_dkim_order - sort r's signatures as RFC 9990 prefers (stable) */
void report_dkim_order(struct report_row *r);

/* What a report says of the reporter and the period. */
struct report_meta {
	const char	*org_name;	/* ReportOrgName */
	const char	*email;		/* ReportEmail */
	const char	*receiver;	/* the domain of ReportEmail */
	const char	*generator;	/* "authmilter VERSION" */
	char		 id[REPORT_ID_LEN + 1];
	int64_t		 begin;		/* first second covered */
	int64_t		 end;		/* first second not covered */
	const char	*error;		/* an <error> text, or NULL */
};

/* The counts of a report built. */
struct report_counts {
	size_t		 records;	/* <record> elements */
	unsigned long	 messages;	/* sum of their counts */
};

/*
 * report_xml - the report of rows[0..n-1] (all of one policy domain; the
 * policy published is the one of the last row) into xml. Rows equal in
 * everything but time and gateway are one record, whose count is the sum
 * of theirs (a row that a store already grouped carries its count).
 */
void report_xml(const struct report_meta *m, struct report_row *const *rows,
    size_t n, struct buf *xml, struct report_counts *counts);

/* report_xml_escape - s as XML character data (invalid UTF-8 made '?') */
void report_xml_escape(struct buf *b, const char *s);

/*
 * report_id - the stable id of the report for receiver, policy_domain and
 * begin: REPORT_ID_LEN hex digits (a hash), the same on every gateway
 */
void report_id(const char *receiver, const char *policy_domain,
    int64_t begin, char id[REPORT_ID_LEN + 1]);

/*
 * report_filename - "receiver!policy-domain!begin!end!id.xml.gz" (end is
 * the last second covered). False when a domain has characters a file
 * name or a domain may not have.
 */
bool report_filename(const struct report_meta *m, const char *policy_domain,
    char *out, size_t outlen);

/* report_subject - "Report Domain: D Submitter: S Report-ID: <id>" */
bool report_subject(const struct report_meta *m, const char *policy_domain,
    char *out, size_t outlen);

/* report_domain_safe - LDH labels and dots only (what a header may carry) */
bool report_domain_safe(const char *d);

/*
 * report_gzip - gzip of len bytes of data into out (deterministic: no
 * name, no time in the header). False when zlib fails.
 */
bool report_gzip(const void *data, size_t len, struct buf *out);

/*
 * report_mail - the report message for one mailto: destination: From
 * (org name and ReportEmail), To, the RFC 9990 Subject, a text part and
 * the .xml.gz as an application/gzip attachment (base64). Lines end in
 * "\n" (sendmail(1) takes them so; smtp_client.c makes them CRLF for
 * SMTP). date is the Date: header's time.
 */
void report_mail(const struct report_meta *m, const char *policy_domain,
    const char *to, const char *filename, const struct buf *gz,
    int64_t date, struct buf *out);

/*
 * report_parse_day - "YYYY-MM-DD" to the first second of that UTC day;
 * false on anything else
 */
bool report_parse_day(const char *s, int64_t *begin);
/* report_format_day - the UTC day of t as "YYYY-MM-DD" */
void report_format_day(int64_t t, char out[11]);

/* What report_mailto() found. */
enum report_uri {
	REPORT_URI_NONE = 0,	/* no n-th mailto: URI */
	REPORT_URI_OK,		/* addr is the address, decoded */
	REPORT_URI_BAD		/* not usable; addr is its text (for the log) */
};

/*
 * report_mailto - the n-th mailto: URI of a rua= or ruf= value (URIs
 * separated by ","; other schemes are skipped, an obsolete "!size" suffix
 * is dropped). The address is percent-decoded (RFC 6068:
 * "mailto:dmarc%2Breports@example.net" is dmarc+reports@example.net);
 * a URI with header fields ("?subject=..."), a bad escape, several
 * addresses, or anything but one plain address of at most
 * REPORT_MAX_ADDR bytes with an LDH domain is REPORT_URI_BAD.
 */
enum report_uri report_mailto(const char *rua, size_t n, char *addr,
    size_t addrlen);

#endif
