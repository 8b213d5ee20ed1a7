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
 *	    (<policy-domain>._report._dmarc.<host> TXT v=DMARC1; the
 *	    organizational domains by the DNS tree walk, or the PSL in
 *	    RFC 7489 mode); a destination that did not is skipped;
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
 *	  - hands it to ReportSendmail (posix_spawn, bounded wait).
 * DIAGNOSTICS
 *	Logged: a destination skipped or rate-limited (at most once a
 *	minute per reason), sendmail failures. Mail is never affected.
 */
#include "buildconf.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dmarc.h"
#include "dns.h"
#include "log.h"
#include "report.h"
#include "report_failure.h"
#include "util.h"

#define FAILURE_SENDMAIL_SECS	60	/* one sendmail(1) at most */
#define FAILURE_MAX_ARGS	16	/* words of ReportSendmail */
#define FAILURE_ADDR		512	/* bytes of a destination address */
#define FAILURE_ERRLEN		512
#define FAILURE_LOG_SECS	60	/* one line per reason and minute */

extern char **environ;

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
	char		*email, *org_name, *sendmail;
	unsigned	 per_hour;
	bool		 psl;
	failure_dns_fn	 dns;
	void		*dns_arg;
	/* the thread's */
	struct failure_rate *rate;
	time_t		 last_limit_log, last_auth_log;
	_Atomic unsigned long sent;
};

/* failure_config_of - the settings as a struct */
static void
failure_config_of(const struct failure_reporter *f, struct failure_config *c)
{
	c->email = f->email;
	c->org_name = f->org_name;
	c->sendmail = f->sendmail;
	c->per_hour = f->per_hour;
	c->psl = f->psl;
}

static struct dns_answer *
failure_lookup(void *arg, const char *name, unsigned type)
{
	return dns_lookup(arg, name, type, NULL);
}

/* failure_authorized - may reports of domain go to host? */
static bool
failure_authorized(struct failure_reporter *f, const char *domain,
    const char *host)
{
	struct dns_service *dns = f->dns(f->dns_arg);
	struct dmarc_dns dd = { failure_lookup, dns };
	char o1[DNS_MAX_NAME + 1], o2[DNS_MAX_NAME + 1];
	char name[2 * DNS_MAX_NAME + 32];
	struct dns_answer *a;
	bool ok = false;

	if (dns == NULL ||
	    !dmarc_org_domain(&dd, f->psl ? DMARC_MODE_RFC7489 :
	    DMARC_MODE_RFC9989, domain, o1, sizeof(o1)) ||
	    !dmarc_org_domain(&dd, f->psl ? DMARC_MODE_RFC7489 :
	    DMARC_MODE_RFC9989, host, o2, sizeof(o2)))
		return false;
	if (strcasecmp(o1, o2) == 0)
		return true;
	snprintf(name, sizeof(name), "%s._report._dmarc.%s", domain, host);
	if (strlen(name) > DNS_MAX_NAME)
		return false;
	a = dns_lookup(dns, name, DNS_T_TXT, NULL);
	for (size_t i = 0; a->status == DNS_OK && i < a->nrecords && !ok; i++) {
		const char *t = a->records[i].text;

		ok = t != NULL && strncmp(t, "v=DMARC1", 8) == 0 &&
		    (t[8] == '\0' || t[8] == ';' || isspace((unsigned char)t[8]));
	}
	dns_answer_free(a);
	return ok;
}

/* failure_send - msg to rcpt through ReportSendmail; true when it took it */
static bool
failure_send(struct failure_reporter *f, const char *rcpt,
    const struct buf *msg)
{
	char *cmd = xstrdup(f->sendmail), *argv[FAILURE_MAX_ARGS + 6];
	char *save = NULL;
	posix_spawn_file_actions_t fa;
	size_t n = 0, off = 0;
	int fds[2], status = -1;
	pid_t pid;

	for (char *w = strtok_r(cmd, " \t", &save); w != NULL &&
	    n < FAILURE_MAX_ARGS; w = strtok_r(NULL, " \t", &save))
		argv[n++] = w;
	argv[n++] = (char *)"-i";
	argv[n++] = (char *)"-f";
	argv[n++] = f->email;
	argv[n++] = (char *)"--";
	argv[n++] = (char *)rcpt;
	argv[n] = NULL;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		free(cmd);
		return false;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[0], 0);
	if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		close(fds[0]);
		close(fds[1]);
		log_warn("failure report to %s: cannot run %s", rcpt, argv[0]);
		free(cmd);
		return false;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(fds[0]);
	while (off < msg->len) {
		ssize_t w = write(fds[1], msg->data + off, msg->len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	close(fds[1]);
	for (int i = 0; i < FAILURE_SENDMAIL_SECS * 10; i++) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			status = -1;
			break;
		}
		if (i + 1 == FAILURE_SENDMAIL_SECS * 10) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			status = -1;
		}
		usleep(100000);
	}
	free(cmd);
	if (status != 0 || off < msg->len) {
		log_warn("failure report to %s: %s failed", rcpt, argv[0]);
		return false;
	}
	return true;
}

/* failure_one - every destination of one job */
static void
failure_one(struct failure_reporter *f, const struct failure_job *j)
{
	struct failure_config c;
	char addr[FAILURE_ADDR];
	time_t now = time(NULL);

	failure_config_of(f, &c);
	for (size_t i = 0; i < REPORT_FAILURE_MAX_URIS &&
	    report_mailto(j->ruf, i, addr, sizeof(addr)); i++) {
		const char *at = strrchr(addr, '@');
		struct buf msg;

		if (addr[0] == '-' || at == NULL ||
		    strpbrk(addr, " \t\r\n<>\"\\") != NULL ||
		    !report_domain_safe(at + 1))
			continue;
		if (!failure_authorized(f, j->policy_domain, at + 1)) {
			if (now - f->last_auth_log >= FAILURE_LOG_SECS) {
				f->last_auth_log = now;
				log_info("failure report for %s to %s: skipped, "
				    "no authorization (or DNS error) at "
				    "%s._report._dmarc.%s", j->policy_domain,
				    addr, j->policy_domain, at + 1);
			}
			continue;
		}
		if (!failure_rate_allow(f->rate, addr, now, f->per_hour)) {
			if (now - f->last_limit_log >= FAILURE_LOG_SECS) {
				f->last_limit_log = now;
				log_info("failure report to %s: skipped, more "
				    "than FailureReportsPerHour (%u)", addr,
				    f->per_hour);
			}
			continue;
		}
		buf_init(&msg);
		failure_message(&c, j, addr, (int64_t)now, &msg);
		if (failure_send(f, addr, &msg))
			f->sent++;
		buf_free(&msg);
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
    void *dns_arg)
{
	struct failure_reporter *f = xcalloc(1, sizeof(*f));
	int rc;

	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->wake, NULL);
	f->email = xstrdup(c->email);
	f->org_name = xstrdup(c->org_name);
	f->sendmail = xstrdup(c->sendmail);
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
	else
		failure_job_free(j);
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
	free(f);
}
