/*
 * smtp_client.h - a small SMTP client (RFC 5321) that hands one message to
 * one relay for one recipient: EHLO (HELO when EHLO is refused), MAIL FROM,
 * RCPT TO, DATA with dot-stuffing, QUIT. No TLS, no AUTH, no pipelining:
 * it is meant for the site's own relay (the MTA on the gateway itself or
 * next to it), which signs and sends the mail on.
 *
 * Every wait is bounded (connect, each reply, each write, the reply to the
 * final dot), every reply line is bounded (SMTP_MAX_LINE bytes, at most
 * SMTP_MAX_REPLY_LINES lines in one reply). The caller's thread blocks
 * for at most the sum of the limits: callers are the report command and
 * the failure reporter's thread, never a mail session.
 *
 * Knows nothing of DMARC or reports; resolves no names (the caller gives
 * an address).
 */
#ifndef AM_SMTP_CLIENT_H
#define AM_SMTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#define SMTP_DEFAULT_PORT	25
#define SMTP_CONNECT_MS		10000	/* to connect */
#define SMTP_REPLY_MS		60000	/* for the greeting and each reply */
#define SMTP_WRITE_MS		60000	/* for each write to make progress */
#define SMTP_DATA_END_MS	120000	/* for the reply to the final "." */
#define SMTP_MAX_LINE		1000	/* bytes of a reply line (RFC 5321: 512) */
#define SMTP_MAX_REPLY_LINES	64	/* lines of one (multi-line) reply */
#define SMTP_MAX_HOST		255	/* bytes of a relay host name */

/* How long each step may take, in milliseconds (NULL: the SMTP_*_MS). */
struct smtp_limits {
	unsigned	 connect_ms;
	unsigned	 reply_ms;
	unsigned	 write_ms;
	unsigned	 data_end_ms;
};

/* What became of a message. */
enum smtp_status {
	SMTP_SENT,	/* the relay took it (250 after the final dot) */
	SMTP_TEMP,	/* a 4xx reply, a timeout, a connection failure */
	SMTP_PERM	/* a 5xx reply, or a reply that is not SMTP */
};

/*
 * smtp_client_send - hand msg (len bytes, lines ending in "\n" or "\r\n";
 * sent with CRLF and dot-stuffed) to the relay at ip:port (an IPv4 or
 * IPv6 address in text) as helo, from the envelope sender from (""
 * for the null path) to rcpt. why gets the reply or the error, on
 * failure, e.g. "RCPT TO: 450 4.1.1 try later".
 */
enum smtp_status smtp_client_send(const char *ip, unsigned port,
    const struct smtp_limits *lim, const char *helo, const char *from,
    const char *rcpt, const char *msg, size_t len, char *why,
    size_t whylen);

/*
 * smtp_client_probe - is a relay there: connect to ip:port, read its
 * greeting, say EHLO (HELO when refused) as helo, and QUIT. SMTP_SENT
 * when it greeted and took the EHLO; else why says what happened.
 */
enum smtp_status smtp_client_probe(const char *ip, unsigned port,
    const struct smtp_limits *lim, const char *helo, char *why,
    size_t whylen);

/*
 * smtp_client_parse_relay - "host", "host:port", "IPv4:port", "IPv6",
 * "[IPv6]:port" into host (no brackets) and port (SMTP_DEFAULT_PORT when
 * absent). False with why when the host is not an address or a domain
 * name, or the port is not 1..65535.
 */
bool smtp_client_parse_relay(const char *spec, char *host, size_t hostlen,
    unsigned *port, char *why, size_t whylen);

#endif
