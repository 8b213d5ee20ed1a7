/*
 * report_failure.h - DMARC failure reports (RFC 9991): one ARF message
 * (RFC 5965, RFC 6591 auth-failure) per failing message and ruf=
 * destination, with the original headers only, never the body.
 *
 * Off unless FailureReports is yes. A report is asked for by the ruf= tag
 * of the record that governed, under its fo= options; records with psd=y
 * never get one (RFC 9991: a public suffix operator gets no per-message
 * data). Every destination gets at most FailureReportsPerHour reports an
 * hour (a sliding hour), and one outside the policy domain's
 * organization only when it authorized it
 * (<domain>._report._dmarc.<host> TXT v=DMARC1), as for aggregate reports.
 *
 * The session hands a job to the runtime's failure reporter, a thread with
 * a bounded queue (REPORT_FAILURE_QUEUE jobs; more are dropped): building,
 * DNS checks and sending (report_send.h: ReportSMTPRelay, else
 * sendmail(1)) happen there, never on the mail path. A report the relay
 * or sendmail does not take (4xx, 5xx, timeout) is dropped and counted:
 * failure reports are never queued for later.
 *
 * The pure parts (fo= evaluation, the message, the rate limit) are
 * exported for the unit tests.
 */
#ifndef AM_REPORT_FAILURE_H
#define AM_REPORT_FAILURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util.h"

#define REPORT_FAILURE_QUEUE		256	/* jobs waiting, at most */
#define REPORT_FAILURE_MAX_HEADERS	(64 * 1024)	/* bytes of headers quoted */
#define REPORT_FAILURE_MAX_DESTS	1024	/* destinations rate-limited */
#define REPORT_FAILURE_MAX_URIS		4	/* ruf= destinations used */
#define REPORT_FAILURE_WINDOW		3600	/* seconds of the rate limit */

struct dns_service;
struct metrics;

/* One failing message. Strings are owned by the job. */
struct failure_job {
	int64_t		 arrival;
	char		*policy_domain;
	char		*header_from;
	char		*mail_from;	/* "" for the null sender */
	char		*source_ip;
	char		*authres;	/* our Authentication-Results value */
	char		*alignment;	/* Identity-Alignment: none|dkim|spf|dkim,spf */
	char		*delivery;	/* Delivery-Result: delivered|reject|policy */
	char		*ruf;		/* the ruf= value */
	char		*headers;	/* "Name: value\n"..., bounded */
};
void failure_job_free(struct failure_job *j);

/*
 * failure_fo_wants - does fo= (e.g. "0", "1:d", "" = "0") ask for a report
 * of a message with these results? dmarc_fail: DMARC failed; dkim_aligned,
 * spf_aligned: an aligned pass of each; dkim_failed: a signature failed to
 * verify; spf_failed: SPF failed.
 */
bool failure_fo_wants(const char *fo, bool dmarc_fail, bool dkim_aligned,
    bool spf_aligned, bool dkim_failed, bool spf_failed);

/* What the reports say of their sender. */
struct failure_config {
	const char	*email;		/* ReportEmail */
	const char	*org_name;	/* ReportOrgName */
	const char	*sendmail;	/* ReportSendmail */
	const char	*relay;		/* ReportSMTPRelay, or NULL */
	const char	*helo;		/* our name to the relay */
	unsigned	 per_hour;	/* FailureReportsPerHour */
	bool		 psl;		/* DMARCMode rfc7489: org domain by PSL */
};

/*
 * failure_message - the ARF report of j for to, into out ("\n" line ends):
 * multipart/report; report-type=feedback-report with a text part, the
 * message/feedback-report part (Feedback-Type: auth-failure,
 * Identity-Alignment, Auth-Failure: dmarc, ...) and text/rfc822-headers.
 */
void failure_message(const struct failure_config *c,
    const struct failure_job *j, const char *to, int64_t date,
    struct buf *out);

/* A per-destination rate limit (sliding window of REPORT_FAILURE_WINDOW). */
struct failure_rate;
struct failure_rate *failure_rate_new(void);
void failure_rate_free(struct failure_rate *r);
/* failure_rate_allow - one more report to dest at now, within per_hour? */
bool failure_rate_allow(struct failure_rate *r, const char *dest,
    time_t now, unsigned per_hour);

/* The thread. */
struct failure_reporter;
typedef struct dns_service *(*failure_dns_fn)(void *arg);
/* failure_reporter_start - NULL when no thread can start */
struct failure_reporter *failure_reporter_start(const struct failure_config *c,
    failure_dns_fn dns, void *dns_arg, struct metrics *m);
/* failure_reporter_same - started with the same settings? */
bool failure_reporter_same(const struct failure_reporter *f,
    const struct failure_config *c);
/* failure_reporter_submit - queue j (owned from now on); false: dropped */
bool failure_reporter_submit(struct failure_reporter *f,
    struct failure_job *j);
/* failure_reporter_stop - drop what is queued, stop, free */
void failure_reporter_stop(struct failure_reporter *f);
/* failure_reporter_sent - reports handed to the relay or sendmail so far */
unsigned long failure_reporter_sent(const struct failure_reporter *f);

#endif
