/*
 * report_send.h - how a DMARC report leaves the gateway: to the SMTP relay
 * of ReportSMTPRelay (smtp_client.h), or else through ReportSendmail
 * (sendmail(1) of the local MTA). Both the report command (aggregate
 * reports) and the failure reporter's thread (RFC 9991) use it, never a
 * mail session: it blocks for as long as the relay or sendmail takes,
 * within the bounds of smtp_client.h or the caller's timeout.
 */
#ifndef AM_REPORT_SEND_H
#define AM_REPORT_SEND_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

#define REPORT_SEND_MAX_ARGS	16	/* words of ReportSendmail */

struct dns_service;

/* Where and how reports are handed over. */
struct report_sender {
	const char	*relay;		/* ReportSMTPRelay host[:port], or NULL */
	const char	*sendmail;	/* ReportSendmail: path and arguments */
	const char	*from;		/* ReportEmail: the envelope sender */
	const char	*helo;		/* our name in EHLO */
	struct dns_service *dns;	/* finds the relay by name (A, AAAA) */
	unsigned	 sendmail_secs;	/* longest sendmail(1) may run */
};

enum report_sent {
	REPORT_SENT,		/* taken */
	REPORT_SEND_RETRY,	/* 4xx, timeout, sendmail failed: later */
	REPORT_SEND_REFUSED	/* the relay said 5xx: never */
};

/*
 * report_send - msg ("\n" line ends) to rcpt, through the relay when one
 * is set, else through sendmail (-i -f from -- rcpt). why says what went
 * wrong. The process must ignore SIGPIPE (a sendmail that exits before
 * it has read the message).
 */
enum report_sent report_send(const struct report_sender *s,
    const char *rcpt, const struct buf *msg, char *why, size_t whylen);

/*
 * report_send_probe - is the relay of s (s->relay set) there: its
 * address found and it greets and takes our EHLO (smtp_client_probe); no
 * message is sent. REPORT_SENT when it is; why says what failed.
 */
enum report_sent report_send_probe(const struct report_sender *s,
    char *why, size_t whylen);

#endif
