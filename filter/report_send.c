/*
 * NAME
 *	report_send - a report message out of the gateway: SMTP relay or
 *	sendmail(1)
 * SYNOPSIS
 *	#include "report_send.h"
 *
 *	report_send(&sender, rcpt, &msg, why, sizeof(why))
 * DESCRIPTION
 *	With ReportSMTPRelay set, the message goes to that relay by SMTP
 *	(smtp_client.c), with ReportEmail as the envelope sender: the
 *	relay's name is looked up through the DNS service (A, then AAAA)
 *	unless it is an address. This works where sendmail(1) cannot, under
 *	a hardened service manager (NoNewPrivileges stops Postfix's
 *	setgid postdrop). A 4xx reply, a timeout or a relay that cannot be
 *	reached is REPORT_SEND_RETRY, a 5xx REPORT_SEND_REFUSED.
 *
 *	Otherwise ReportSendmail runs (posix_spawn, no shell) as
 *	"ReportSendmail -i -f ReportEmail -- rcpt" with the message on its
 *	standard input; writing it and the wait for its exit are bounded
 *	by sendmail_secs, after which it is killed. Any failure of it is
 *	REPORT_SEND_RETRY: sendmail's exit status does not say more.
 * DIAGNOSTICS
 *	why: the relay's reply or the sendmail failure.
 */
#include "buildconf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dns.h"
#include "report_send.h"
#include "smtp_client.h"
#include "util.h"

#define SEND_POLL_MS	100	/* between looks at sendmail's exit */

extern char **environ;

/* send_relay_ip - the relay's address as text; false (why) when none */
static bool
send_relay_ip(const struct report_sender *s, const char *host, char *ip,
    size_t iplen, bool *temp, char *why, size_t whylen)
{
	static const unsigned types[] = { DNS_T_A, DNS_T_AAAA };
	unsigned char tmp[16];

	*temp = false;
	if ((inet_pton(AF_INET, host, tmp) == 1 ||
	    inet_pton(AF_INET6, host, tmp) == 1) && strlen(host) < iplen) {
		memcpy(ip, host, strlen(host) + 1);
		return true;
	}
	if (s->dns == NULL) {
		snprintf(why, whylen, "ReportSMTPRelay %s: no DNS service",
		    host);
		*temp = true;
		return false;
	}
	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		struct dns_answer *a = dns_lookup(s->dns, host, types[t], NULL);
		bool found = a->status == DNS_OK && a->nrecords > 0;

		if (found)
			inet_ntop(types[t] == DNS_T_A ? AF_INET : AF_INET6,
			    a->records[0].addr, ip, (socklen_t)iplen);
		if (a->status == DNS_SERVFAIL || a->status == DNS_TIMEOUT)
			*temp = true;
		dns_answer_free(a);
		if (found)
			return true;
	}
	snprintf(why, whylen, "ReportSMTPRelay %s: no address%s", host,
	    *temp ? " (DNS error)" : "");
	*temp = true;	/* the relay is ours: its name will come back */
	return false;
}

/* send_relay - the relay's address and port; false (why) when none */
static bool
send_relay(const struct report_sender *s, char *ip, size_t iplen,
    unsigned *port, char *why, size_t whylen)
{
	char host[SMTP_MAX_HOST + 1];
	bool temp;

	/* configtest refuses a bad ReportSMTPRelay first */
	return smtp_client_parse_relay(s->relay, host, sizeof(host), port,
	    why, whylen) && send_relay_ip(s, host, ip, iplen, &temp, why,
	    whylen);
}

/* send_status - what an SMTP status means for a report */
static enum report_sent
send_status(enum smtp_status st)
{
	switch (st) {
	case SMTP_SENT:
		return REPORT_SENT;
	case SMTP_PERM:
		return REPORT_SEND_REFUSED;
	default:
		return REPORT_SEND_RETRY;
	}
}

/* send_smtp - through ReportSMTPRelay */
static enum report_sent
send_smtp(const struct report_sender *s, const char *rcpt,
    const struct buf *msg, char *why, size_t whylen)
{
	char ip[INET6_ADDRSTRLEN];
	unsigned port;

	if (!send_relay(s, ip, sizeof(ip), &port, why, whylen))
		return REPORT_SEND_RETRY;
	return send_status(smtp_client_send(ip, port, NULL, s->helo, s->from,
	    rcpt, msg->data, msg->len, why, whylen));
}

/* report_send_probe - is the relay there (see report_send.h) */
enum report_sent
report_send_probe(const struct report_sender *s, char *why, size_t whylen)
{
	char ip[INET6_ADDRSTRLEN];
	unsigned port;

	if (!send_relay(s, ip, sizeof(ip), &port, why, whylen))
		return REPORT_SEND_RETRY;
	return send_status(smtp_client_probe(ip, port, NULL, s->helo, why,
	    whylen));
}

/* send_write - the message into the pipe, until the deadline */
static bool
send_write(int fd, const struct buf *msg, time_t deadline)
{
	size_t off = 0;

	while (off < msg->len) {
		ssize_t w = write(fd, msg->data + off, msg->len - off);
		struct pollfd pfd = { fd, POLLOUT, 0 };

		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && errno != EINTR && errno != EAGAIN)
			return false;	/* EPIPE: sendmail is gone */
		if (time(NULL) >= deadline)
			return false;
		(void)poll(&pfd, 1, SEND_POLL_MS);
	}
	return true;
}

/* send_wait - sendmail's exit status by the deadline, else kill it */
static int
send_wait(pid_t pid, time_t deadline)
{
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		if (r < 0 && errno != EINTR)
			return -1;
		if (time(NULL) >= deadline)
			break;
		usleep(SEND_POLL_MS * 1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

/* send_sendmail - through ReportSendmail */
static enum report_sent
send_sendmail(const struct report_sender *s, const char *rcpt,
    const struct buf *msg, char *why, size_t whylen)
{
	char *cmd = xstrdup(s->sendmail), *argv[REPORT_SEND_MAX_ARGS + 6];
	time_t deadline = time(NULL) + (time_t)s->sendmail_secs;
	posix_spawn_file_actions_t fa;
	char *save = NULL;
	size_t n = 0;
	int fds[2], rc;
	bool written;
	pid_t pid;

	for (char *w = strtok_r(cmd, " \t", &save); w != NULL &&
	    n < REPORT_SEND_MAX_ARGS; w = strtok_r(NULL, " \t", &save))
		argv[n++] = w;
	argv[n++] = (char *)"-i";
	argv[n++] = (char *)"-f";
	argv[n++] = (char *)s->from;
	argv[n++] = (char *)"--";
	argv[n++] = (char *)rcpt;
	argv[n] = NULL;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		free(cmd);
		return REPORT_SEND_RETRY;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[0], 0);
	rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[0]);
	if (rc != 0) {
		close(fds[1]);
		snprintf(why, whylen, "cannot run %s: %s", argv[0],
		    strerror(rc));
		free(cmd);
		return REPORT_SEND_RETRY;
	}
	(void)fcntl(fds[1], F_SETFL, O_NONBLOCK);
	written = send_write(fds[1], msg, deadline);
	close(fds[1]);
	rc = send_wait(pid, deadline);
	if (rc != 0 || !written)
		snprintf(why, whylen, "%s %s", argv[0], rc < 0 ? "was killed "
		    "or did not finish in time" : rc > 0 ? "failed" :
		    "did not read the message");
	if (rc > 0) {
		size_t l = strlen(why);

		snprintf(why + l, whylen - l, " (exit status %d)", rc);
	}
	free(cmd);
	return rc == 0 && written ? REPORT_SENT : REPORT_SEND_RETRY;
}

/* report_send - see report_send.h */
enum report_sent
report_send(const struct report_sender *s, const char *rcpt,
    const struct buf *msg, char *why, size_t whylen)
{
	why[0] = '\0';
	if (s->relay != NULL && s->relay[0] != '\0')
		return send_smtp(s, rcpt, msg, why, whylen);
	return send_sendmail(s, rcpt, msg, why, whylen);
}
