/*
 * NAME
 *	report_failure - DMARC failure reports (RFC 9991), off the mail path
 * SYNOPSIS
 *	#include "report_failure.h"
 *
 *	f = failure_reporter_start(&cfg, get_dns, arg)
 *	failure_reporter_submit(f, job)		(from a session thread)
 *	failure_reporter_stop(f)
 *
 *	failure_fo_wants(fo, ...); failure_message(&cfg, job, to, date, &b)
 *	failure_rate_allow(rate, dest, now, per_hour)
 * DESCRIPTION
 *	A session decides that a message deserves a failure report
 *	(report_record.c: FailureReports, ruf=, fo=, not psd=y) and hands
 *	a job with the message's headers to the reporter's queue
 *	(REPORT_FAILURE_QUEUE jobs; a full queue drops the job). The
 *	reporter's thread then, for each mailto: URI of ruf= (at most
 *	REPORT_FAILURE_MAX_URIS):
 *	  - checks that an external destination authorized the reports
 *	    (report_dest.c: <policy-domain>._report._dmarc.<host> TXT
 *	    v=DMARC1, whose own ruf= replaces the destination); a
 *	    destination that did not is skipped;
 *	  - applies the rate limit: at most FailureReportsPerHour reports
 *	    to one destination in any hour (REPORT_FAILURE_WINDOW), counted
 *	    per address in a table of REPORT_FAILURE_MAX_DESTS entries;
 *	  - builds the ARF message (RFC 5965, RFC 6591 auth-failure): a
 *	    text part, message/feedback-report with Feedback-Type:
 *	    auth-failure, Version, User-Agent, Auth-Failure: dmarc,
 *	    Identity-Alignment, Original-Mail-From, Arrival-Date, Source-IP,
 *	    Reported-Domain, Authentication-Results, Delivery-Result; and
 *	    the original header section as text/rfc822-headers. The body of
 *	    the message is never included;
 *	  - hands it to ReportSMTPRelay, or else ReportSendmail
 *	    (report_send.c); one that is not taken is dropped and counted
 *	    (authmilter_failure_reports_total{result="dropped"}).
 * DIAGNOSTICS
 *	Logged: a destination skipped or rate-limited (at most once a
 *	minute per reason), sendmail failures. Mail is never affected.
 */
#include "buildconf.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dmarc.h"
#include "log.h"
#include "metrics.h"
#include "report.h"
#include "report_dest.h"
#include "report_failure.h"
#include "report_send.h"
#include "util.h"

#define FAILURE_SENDMAIL_SECS	60	/* one sendmail(1) at most */
#define FAILURE_ERRLEN		512
#define FAILURE_LOG_SECS	60	/* one line per reason and minute */

void
failure_job_free(struct failure_job *j)
{
	if (j == NULL)
		return;
	free(j->policy_domain);
	free(j->header_from);
	free(j->mail_from);
	free(j->source_ip);
	free(j->authres);
	free(j->alignment);
	free(j->delivery);
	free(j->ruf);
	free(j->headers);
	free(j);
}

/* failure_fo_wants - RFC 9989 fo=: 0 (default), 1, d, s, colon-separated */
bool
failure_fo_wants(const char *fo, bool dmarc_fail, bool dkim_aligned,
    bool spf_aligned, bool dkim_failed, bool spf_failed)
{
	char *copy = xstrdup(fo && *fo ? fo : "0"), *opt, *save = NULL;
	bool want = false;

	for (opt = strtok_r(copy, ":", &save); opt != NULL && !want;
	    opt = strtok_r(NULL, ":", &save)) {
		opt = util_trim(opt);
		if (strcmp(opt, "0") == 0)
			want = dmarc_fail;
		else if (strcmp(opt, "1") == 0)
			want = !dkim_aligned || !spf_aligned;
		else if (strcasecmp(opt, "d") == 0)
			want = dkim_failed;
		else if (strcasecmp(opt, "s") == 0)
			want = spf_failed;
	}
	free(copy);
	return want;
}

/* failure_text - a header value: printable ASCII, no quote or backslash */
static void
failure_text(struct buf *b, const char *s)
{
	for (; *s; s++)
		buf_putc(b, (unsigned char)*s < 0x20 ||
		    (unsigned char)*s > 0x7e || *s == '"' || *s == '\\' ?
		    '?' : *s);
}

/* failure_message - the ARF report (see report_failure.h) */
void
failure_message(const struct failure_config *c, const struct failure_job *j,
    const char *to, int64_t date, struct buf *b)
{
	char when[64], arrival[64], boundary[64];
	time_t t = (time_t)date;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	t = (time_t)j->arrival;
	gmtime_r(&t, &tm);
	strftime(arrival, sizeof(arrival), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	snprintf(boundary, sizeof(boundary), "=_arf_%lld_%lx",
	    (long long)date, (unsigned long)(j->arrival ^ (int64_t)
	    strlen(j->headers)));
	buf_puts(b, "From: \"");
	failure_text(b, c->org_name);
	buf_puts(b, "\" <");
	failure_text(b, c->email);
	buf_puts(b, ">\nTo: <");
	failure_text(b, to);
	buf_puts(b, ">\nSubject: DMARC failure report for ");
	failure_text(b, j->header_from);
	buf_printf(b, "\nDate: %s\nMIME-Version: 1.0\n"
	    "Auto-Submitted: auto-generated\n"
	    "Content-Type: multipart/report; report-type=feedback-report; "
	    "boundary=\"%s\"\n\nThis is a MIME message.\n\n", when, boundary);
	buf_printf(b, "--%s\nContent-Type: text/plain; charset=us-ascii\n\n"
	    "This is a DMARC failure report (RFC 9991) for a message from ",
	    boundary);
	failure_text(b, j->header_from);
	buf_puts(b, "\nreceived from ");
	failure_text(b, j->source_ip);
	buf_printf(b, " on %s. Only its header section is included.\n\n",
	    arrival);
	buf_printf(b, "--%s\nContent-Type: message/feedback-report\n\n"
	    "Feedback-Type: auth-failure\nVersion: 1\n"
	    "User-Agent: authmilter/%s\nAuth-Failure: dmarc\n"
	    "Identity-Alignment: ", boundary, PACKAGE_VERSION);
	failure_text(b, j->alignment);
	buf_puts(b, "\nOriginal-Mail-From: <");
	failure_text(b, j->mail_from);
	buf_printf(b, ">\nArrival-Date: %s\nSource-IP: ", arrival);
	failure_text(b, j->source_ip);
	buf_puts(b, "\nReported-Domain: ");
	failure_text(b, j->header_from);
	buf_puts(b, "\nDelivery-Result: ");
	failure_text(b, j->delivery);
	buf_puts(b, "\nAuthentication-Results: ");
	for (const char *p = j->authres; *p; p++)
		if (*p != '\r')	/* folded with "\r\n\t": keep the "\n\t" */
			buf_putc(b, *p);
	buf_printf(b, "\n\n--%s\nContent-Type: text/rfc822-headers\n\n",
	    boundary);
	buf_puts(b, j->headers);
	buf_printf(b, "\n--%s--\n", boundary);
}

/* One destination's recent reports: a ring of their times. */
struct failure_dest {
	char		*addr;
	time_t		*times;		/* per_hour entries */
	unsigned	 n, head, cap;
	time_t		 last;
};

struct failure_rate {
	struct failure_dest d[REPORT_FAILURE_MAX_DESTS];
	size_t		 n;
};

struct failure_rate *
failure_rate_new(void)
{
	return xcalloc(1, sizeof(struct failure_rate));
}

void
failure_rate_free(struct failure_rate *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->d[i].addr);
		free(r->d[i].times);
	}
	free(r);
}

/* failure_rate_slot - dest's entry; the least recent one is reused */
static struct failure_dest *
failure_rate_slot(struct failure_rate *r, const char *dest, unsigned cap)
{
	struct failure_dest *d;
	size_t old = 0;

	for (size_t i = 0; i < r->n; i++) {
		if (strcasecmp(r->d[i].addr, dest) == 0)
			return &r->d[i];
		if (r->d[i].last < r->d[old].last)
			old = i;
	}
	if (r->n < REPORT_FAILURE_MAX_DESTS)
		d = &r->d[r->n++];
	else {
		d = &r->d[old];
		free(d->addr);
		free(d->times);
	}
	memset(d, 0, sizeof(*d));
	d->addr = xstrdup(dest);
	d->cap = cap;
	d->times = xcalloc(cap, sizeof(*d->times));
	return d;
}

/* failure_rate_allow - within per_hour reports to dest in the last hour? */
bool
failure_rate_allow(struct failure_rate *r, const char *dest, time_t now,
    unsigned per_hour)
{
	struct failure_dest *d;

	if (per_hour == 0)
		return false;
	d = failure_rate_slot(r, dest, per_hour);
	if (d->cap != per_hour) {	/* a new limit: start again */
		free(d->times);
		d->times = xcalloc(per_hour, sizeof(*d->times));
		d->cap = per_hour;
		d->n = d->head = 0;
	}
	d->last = now;
	/* forget the reports that left the window */
	while (d->n > 0 &&
	    now - d->times[d->head] >= REPORT_FAILURE_WINDOW) {
		d->head = (d->head + 1) % d->cap;
		d->n--;
	}
	if (d->n >= d->cap)
		return false;
	d->times[(d->head + d->n) % d->cap] = now;
	d->n++;
	return true;
}

struct failure_reporter {
	pthread_t	 tid;
	pthread_mutex_t	 lock;
	pthread_cond_t	 wake;
	struct failure_job *ring[REPORT_FAILURE_QUEUE];
	size_t		 head, len;
	bool		 stopping;
	/* copies of the settings */
	char		*email, *org_name, *sendmail, *relay, *helo;
	struct metrics	*metrics;
	unsigned	 per_hour;
	bool		 psl;
	failure_dns_fn	 dns;
	void		*dns_arg;
	/* the thread's */
	struct failure_rate *rate;
	time_t		 last_limit_log, last_auth_log, last_send_log;
	_Atomic unsigned long sent;
};

/* failure_config_of - the settings as a struct */
static void
failure_config_of(const struct failure_reporter *f, struct failure_config *c)
{
	c->email = f->email;
	c->org_name = f->org_name;
	c->sendmail = f->sendmail;
	c->relay = f->relay;
	c->helo = f->helo;
	c->per_hour = f->per_hour;
	c->psl = f->psl;
}

/* failure_sender - how this reporter's reports leave */
static void
failure_sender(struct failure_reporter *f, struct report_sender *s)
{
	memset(s, 0, sizeof(*s));
	s->relay = f->relay;
	s->sendmail = f->sendmail;
	s->from = f->email;
	s->helo = f->helo;
	s->dns = f->dns(f->dns_arg);
	s->sendmail_secs = FAILURE_SENDMAIL_SECS;
}

/* failure_send_one - one report of j to addr, within the rate limit */
static void
failure_send_one(struct failure_reporter *f, const struct failure_job *j,
    const char *addr, time_t now)
{
	struct failure_config c;
	struct report_sender s;
	char why[FAILURE_ERRLEN];
	struct buf msg;

	if (!failure_rate_allow(f->rate, addr, now, f->per_hour)) {
		if (now - f->last_limit_log >= FAILURE_LOG_SECS) {
			f->last_limit_log = now;
			log_info("failure report to %s: skipped, more than "
			    "FailureReportsPerHour (%u)", addr, f->per_hour);
		}
		return;
	}
	failure_config_of(f, &c);
	failure_sender(f, &s);
	buf_init(&msg);
	failure_message(&c, j, addr, (int64_t)now, &msg);
	if (report_send(&s, addr, &msg, why, sizeof(why)) == REPORT_SENT) {
		f->sent++;
		metrics_add(&f->metrics->failure_sent, 1);
	} else {
		metrics_add(&f->metrics->failure_dropped, 1);
		if (now - f->last_send_log >= FAILURE_LOG_SECS) {
			f->last_send_log = now;
			log_warn("failure report to %s: dropped: %s", addr,
			    why);
		}
	}
	buf_free(&msg);
}

/*
 * failure_one - every destination of one job: authorized (an external
 * one by its _report._dmarc record, whose ruf= may replace it), then
 * rate-limited and sent
 */
static void
failure_one(struct failure_reporter *f, const struct failure_job *j)
{
	char addr[REPORT_MAX_ADDR + 1], dest[REPORT_MAX_ADDR + 1];
	char override[REPORT_MAX_RUA + 1], why[FAILURE_ERRLEN];
	time_t now = time(NULL);
	enum report_uri u;

	for (size_t i = 0; i < REPORT_FAILURE_MAX_URIS &&
	    (u = report_mailto(j->ruf, i, addr, sizeof(addr))) !=
	    REPORT_URI_NONE; i++) {
		if (u == REPORT_URI_BAD ||
		    report_dest_check(f->dns(f->dns_arg), f->psl ?
		    DMARC_MODE_RFC7489 : DMARC_MODE_RFC9989, j->policy_domain,
		    addr, "ruf", override, sizeof(override), why,
		    sizeof(why)) != REPORT_AUTH_OK) {
			if (now - f->last_auth_log >= FAILURE_LOG_SECS) {
				f->last_auth_log = now;
				log_info("failure report for %s to %s: skipped "
				    "(%s)", j->policy_domain, addr, u ==
				    REPORT_URI_BAD ? "not a usable mailto: URI"
				    : why);
			}
			continue;
		}
		if (override[0] == '\0') {
			failure_send_one(f, j, addr, now);
			continue;
		}
		for (size_t k = 0; k < REPORT_FAILURE_MAX_URIS &&
		    report_mailto(override, k, dest, sizeof(dest)) ==
		    REPORT_URI_OK; k++)
			failure_send_one(f, j, dest, now);
	}
}

static void *
failure_main(void *arg)
{
	struct failure_reporter *f = arg;

	for (;;) {
		struct failure_job *j = NULL;

		pthread_mutex_lock(&f->lock);
		while (!f->stopping && f->len == 0)
			pthread_cond_wait(&f->wake, &f->lock);
		if (!f->stopping) {
			j = f->ring[f->head];
			f->head = (f->head + 1) % REPORT_FAILURE_QUEUE;
			f->len--;
		}
		pthread_mutex_unlock(&f->lock);
		if (j == NULL)
			break;
		failure_one(f, j);
		failure_job_free(j);
	}
	return NULL;
}

struct failure_reporter *
failure_reporter_start(const struct failure_config *c, failure_dns_fn dns,
    void *dns_arg, struct metrics *m)
{
	struct failure_reporter *f = xcalloc(1, sizeof(*f));
	int rc;

	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->wake, NULL);
	f->email = xstrdup(c->email);
	f->org_name = xstrdup(c->org_name);
	f->sendmail = xstrdup(c->sendmail);
	f->relay = c->relay ? xstrdup(c->relay) : NULL;
	f->helo = xstrdup(c->helo);
	f->metrics = m;
	f->per_hour = c->per_hour;
	f->psl = c->psl;
	f->dns = dns;
	f->dns_arg = dns_arg;
	f->rate = failure_rate_new();
	rc = pthread_create(&f->tid, NULL, failure_main, f);
	if (rc != 0) {
		log_err("failure reports: cannot start a thread: %s",
		    strerror(rc));
		f->tid = 0;
		failure_reporter_stop(f);
		return NULL;
	}
	return f;
}

bool
failure_reporter_same(const struct failure_reporter *f,
    const struct failure_config *c)
{
	return strcmp(f->email, c->email) == 0 &&
	    strcmp(f->org_name, c->org_name) == 0 &&
	    strcmp(f->sendmail, c->sendmail) == 0 &&
	    (f->relay == NULL ? c->relay == NULL :
	    c->relay != NULL && strcmp(f->relay, c->relay) == 0) &&
	    strcmp(f->helo, c->helo) == 0 &&
	    f->per_hour == c->per_hour && f->psl == c->psl;
}

bool
failure_reporter_submit(struct failure_reporter *f, struct failure_job *j)
{
	bool queued = false;

	pthread_mutex_lock(&f->lock);
	if (!f->stopping && f->len < REPORT_FAILURE_QUEUE) {
		f->ring[(f->head + f->len) % REPORT_FAILURE_QUEUE] = j;
		f->len++;
		queued = true;
	}
	pthread_mutex_unlock(&f->lock);
	if (queued)
		pthread_cond_signal(&f->wake);
	else {
		metrics_add(&f->metrics->failure_dropped, 1);
		failure_job_free(j);
	}
	return queued;
}

unsigned long
failure_reporter_sent(const struct failure_reporter *f)
{
	return f->sent;
}

void
failure_reporter_stop(struct failure_reporter *f)
{
	if (f == NULL)
		return;
	pthread_mutex_lock(&f->lock);
	f->stopping = true;
	pthread_mutex_unlock(&f->lock);
	pthread_cond_signal(&f->wake);
	if (f->tid != 0)
		pthread_join(f->tid, NULL);
	while (f->len > 0) {
		failure_job_free(f->ring[f->head]);
		f->head = (f->head + 1) % REPORT_FAILURE_QUEUE;
		f->len--;
	}
	failure_rate_free(f->rate);
	pthread_cond_destroy(&f->wake);
	pthread_mutex_destroy(&f->lock);
	free(f->email);
	free(f->org_name);
	free(f->sendmail);
	free(f->relay);
	free(f->helo);
	free(f);
}
