/*
 * NAME
 *	smtp_client - one message to one SMTP relay, every wait bounded
 * SYNOPSIS
 *	#include "smtp_client.h"
 *
 *	smtp_client_send(ip, port, NULL, helo, from, rcpt, msg, len, why, n)
 *	smtp_client_parse_relay(spec, host, hostlen, &port, why, n)
 * DESCRIPTION
 *	A client for the site's own relay: connect (SMTP_CONNECT_MS), read
 *	the greeting, EHLO (HELO when the relay refuses EHLO), MAIL FROM,
 *	RCPT TO, DATA, the message with CRLF line ends and every line that
 *	starts with "." doubled (RFC 5321 section 4.5.2), ".", QUIT. Each
 *	reply must come within SMTP_REPLY_MS (SMTP_DATA_END_MS for the one
 *	to the final dot), each write must progress within SMTP_WRITE_MS.
 *	Reply lines longer than SMTP_MAX_LINE, or replies of more than
 *	SMTP_MAX_REPLY_LINES lines, end the session.
 *
 *	The outcome is the relay's: SMTP_SENT on 250 after the dot,
 *	SMTP_TEMP on a 4xx reply, a timeout or a connection that fails or
 *	closes (the caller tries again later), SMTP_PERM on a 5xx reply or
 *	one that is not SMTP.
 * DIAGNOSTICS
 *	why gets the step and the relay's first reply line, or the system
 *	error.
 */
#include "buildconf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "smtp_client.h"
#include "util.h"

#define SMTP_INBUF	(SMTP_MAX_LINE + 2)	/* a line and its CRLF */

/* One session: the socket, what was read and not yet used, the limits. */
struct smtp_conn {
	int		 fd;
	char		 in[SMTP_INBUF];
	size_t		 inlen;
	struct smtp_limits lim;
	char		*why;
	size_t		 whylen;
};

/* smtp_now_ms - CLOCK_MONOTONIC in milliseconds */
static long long
smtp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* smtp_wait - poll fd for events until the deadline; false on timeout */
static bool
smtp_wait(int fd, short events, long long deadline)
{
	for (;;) {
		struct pollfd pfd = { fd, events, 0 };
		long long left = deadline - smtp_now_ms();
		int rc;

		if (left <= 0)
			return false;
		rc = poll(&pfd, 1, left > 1000000 ? 1000000 : (int)left);
		if (rc > 0)
			return true;
		if (rc < 0 && errno != EINTR)
			return false;
	}
}

/* smtp_connect - a non-blocking TCP connection within connect_ms */
static enum smtp_status
smtp_connect(struct smtp_conn *c, const char *ip, unsigned port)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	int err = 0, one = 1;
	socklen_t errlen = sizeof(err);

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, ip, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
		sslen = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, ip,
	    &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
		sslen = sizeof(struct sockaddr_in6);
	} else {
		snprintf(c->why, c->whylen, "%s is not an IP address", ip);
		return SMTP_PERM;
	}
	c->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (c->fd < 0) {
		snprintf(c->why, c->whylen, "socket: %s", strerror(errno));
		return SMTP_TEMP;
	}
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&ss, sslen) < 0 &&
	    errno != EINPROGRESS) {
		err = errno;
	} else if (!smtp_wait(c->fd, POLLOUT, smtp_now_ms() +
	    c->lim.connect_ms)) {
		err = ETIMEDOUT;
	} else if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err,
	    &errlen) < 0)
		err = errno;
	if (err != 0) {
		snprintf(c->why, c->whylen, "connect to %s port %u: %s", ip,
		    port, strerror(err));
		return SMTP_TEMP;
	}
	return SMTP_SENT;
}

/* smtp_write - every byte of data within write_ms of progress each */
static bool
smtp_write(struct smtp_conn *c, const char *data, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t w = send(c->fd, data + off, len - off, MSG_NOSIGNAL);

		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
		    smtp_wait(c->fd, POLLOUT, smtp_now_ms() +
		    c->lim.write_ms))
			continue;
		snprintf(c->why, c->whylen, "write: %s", w < 0 &&
		    errno != EAGAIN ? strerror(errno) : "timed out");
		return false;
	}
	return true;
}

/*
 * smtp_line - the next reply line (CRLF or LF stripped) into line; 0 ok,
 * -1 temporary trouble (timeout, closed), -2 a line too long
 */
static int
smtp_line(struct smtp_conn *c, char *line, long long deadline)
{
	for (;;) {
		char *nl = memchr(c->in, '\n', c->inlen);
		ssize_t r;

		if (nl != NULL) {
			size_t n = (size_t)(nl - c->in);

			memcpy(line, c->in, n);
			line[n] = '\0';
			if (n > 0 && line[n - 1] == '\r')
				line[n - 1] = '\0';
			c->inlen -= n + 1;
			memmove(c->in, nl + 1, c->inlen);
			return 0;
		}
		if (c->inlen >= sizeof(c->in) - 1) {
			snprintf(c->why, c->whylen, "a reply line longer than "
			    "%d bytes", SMTP_MAX_LINE);
			return -2;
		}
		r = recv(c->fd, c->in + c->inlen, sizeof(c->in) - 1 - c->inlen,
		    0);
		if (r > 0) {
			c->inlen += (size_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (smtp_wait(c->fd, POLLIN, deadline))
				continue;
			snprintf(c->why, c->whylen, "no reply in time");
			return -1;
		}
		snprintf(c->why, c->whylen, "connection %s", r == 0 ?
		    "closed by the relay" : strerror(errno));
		return -1;
	}
}

/*
 * smtp_reply - one reply (all its lines) within ms: its code, 0 on
 * temporary trouble, -1 when it is not an SMTP reply. The first line is
 * kept in why; ehlo_8bit... are not needed, so only the code matters.
 */
static int
smtp_reply(struct smtp_conn *c, const char *step, unsigned ms)
{
	long long deadline = smtp_now_ms() + ms;
	char line[SMTP_INBUF], first[SMTP_INBUF];

	first[0] = '\0';
	for (int i = 0; i < SMTP_MAX_REPLY_LINES; i++) {
		int rc = smtp_line(c, line, deadline), code;
		char saved[SMTP_INBUF];

		if (rc < 0) {
			snprintf(saved, sizeof(saved), "%s", c->why);
			snprintf(c->why, c->whylen, "%s: %s", step, saved);
			return rc == -1 ? 0 : -1;
		}
		if (strlen(line) < 3 || !isdigit((unsigned char)line[0]) ||
		    !isdigit((unsigned char)line[1]) ||
		    !isdigit((unsigned char)line[2]) ||
		    (line[3] != '\0' && line[3] != ' ' && line[3] != '-') ||
		    line[0] < '2' || line[0] > '5') {
			snprintf(c->why, c->whylen, "%s: not an SMTP reply: "
			    "%.80s", step, line);
			return -1;
		}
		if (i == 0)
			snprintf(first, sizeof(first), "%s", line);
		code = (line[0] - '0') * 100 + (line[1] - '0') * 10 +
		    (line[2] - '0');
		if (line[3] != '-') {
			snprintf(c->why, c->whylen, "%s: %.200s", step, first);
			return code;
		}
	}
	snprintf(c->why, c->whylen, "%s: a reply of more than %d lines", step,
	    SMTP_MAX_REPLY_LINES);
	return -1;
}

/* smtp_status_of - what a reply code (or smtp_reply's 0/-1) means */
static enum smtp_status
smtp_status_of(int code)
{
	if (code == 0 || (code >= 400 && code < 500))
		return SMTP_TEMP;
	return SMTP_PERM;
}

/*
 * smtp_command - send a command line, read its reply; SMTP_SENT when the
 * code is want's class (2 for 2xx, 3 for 3xx)
 */
static enum smtp_status
smtp_command(struct smtp_conn *c, const char *step, const char *cmd,
    int want, unsigned ms)
{
	struct buf b;
	bool ok;
	int code;

	buf_init(&b);
	buf_printf(&b, "%s\r\n", cmd);
	ok = smtp_write(c, b.data, b.len);
	buf_free(&b);
	if (!ok) {
		char saved[256];

		snprintf(saved, sizeof(saved), "%s", c->why);
		snprintf(c->why, c->whylen, "%s: %s", step, saved);
		return SMTP_TEMP;
	}
	code = smtp_reply(c, step, ms);
	return code / 100 == want ? SMTP_SENT : smtp_status_of(code);
}

/* smtp_data - the message: CRLF line ends, dot-stuffed, then "." */
static void
smtp_data(struct buf *out, const char *msg, size_t len)
{
	bool bol = true;

	for (size_t i = 0; i < len; i++) {
		char ch = msg[i];

		if (bol && ch == '.')
			buf_putc(out, '.');
		if (ch == '\n' && (i == 0 || msg[i - 1] != '\r'))
			buf_putc(out, '\r');
		buf_putc(out, ch);
		bol = ch == '\n';
	}
	if (!bol)
		buf_puts(out, "\r\n");
	buf_puts(out, ".\r\n");
}

/* smtp_hello - the greeting, then EHLO (HELO when EHLO is refused) */
static enum smtp_status
smtp_hello(struct smtp_conn *c, const char *helo)
{
	char cmd[SMTP_MAX_LINE];
	enum smtp_status st;
	int code;

	code = smtp_reply(c, "greeting", c->lim.reply_ms);
	if (code / 100 != 2)
		return smtp_status_of(code);
	snprintf(cmd, sizeof(cmd), "EHLO %s", helo);
	st = smtp_command(c, "EHLO", cmd, 2, c->lim.reply_ms);
	if (st == SMTP_PERM) {
		snprintf(cmd, sizeof(cmd), "HELO %s", helo);
		st = smtp_command(c, "HELO", cmd, 2, c->lim.reply_ms);
	}
	return st;
}

/* smtp_session - everything after the connection */
static enum smtp_status
smtp_session(struct smtp_conn *c, const char *helo, const char *from,
    const char *rcpt, const char *msg, size_t len)
{
	char cmd[SMTP_MAX_LINE];
	enum smtp_status st;
	struct buf data;
	int code;

	if ((st = smtp_hello(c, helo)) != SMTP_SENT)
		return st;
	snprintf(cmd, sizeof(cmd), "MAIL FROM:<%s>", from);
	if ((st = smtp_command(c, "MAIL FROM", cmd, 2, c->lim.reply_ms)) !=
	    SMTP_SENT)
		return st;
	snprintf(cmd, sizeof(cmd), "RCPT TO:<%s>", rcpt);
	if ((st = smtp_command(c, "RCPT TO", cmd, 2, c->lim.reply_ms)) !=
	    SMTP_SENT)
		return st;
	if ((st = smtp_command(c, "DATA", "DATA", 3, c->lim.reply_ms)) !=
	    SMTP_SENT)
		return st;
	buf_init(&data);
	smtp_data(&data, msg, len);
	if (!smtp_write(c, data.data, data.len)) {
		char saved[256];

		buf_free(&data);
		snprintf(saved, sizeof(saved), "%s", c->why);
		snprintf(c->why, c->whylen, "message: %s", saved);
		return SMTP_TEMP;
	}
	buf_free(&data);
	code = smtp_reply(c, "end of data", c->lim.data_end_ms);
	if (code / 100 != 2)
		return smtp_status_of(code);
	/* taken: QUIT is a courtesy, its answer does not matter */
	(void)smtp_write(c, "QUIT\r\n", 6);
	return SMTP_SENT;
}

/* smtp_conn_new - a connection not yet made, with lim or the defaults */
static struct smtp_conn *
smtp_conn_new(const struct smtp_limits *lim, char *why, size_t whylen)
{
	struct smtp_conn *c = xcalloc(1, sizeof(*c));

	c->fd = -1;
	c->why = why;
	c->whylen = whylen;
	if (lim != NULL)
		c->lim = *lim;
	else {
		c->lim.connect_ms = SMTP_CONNECT_MS;
		c->lim.reply_ms = SMTP_REPLY_MS;
		c->lim.write_ms = SMTP_WRITE_MS;
		c->lim.data_end_ms = SMTP_DATA_END_MS;
	}
	return c;
}

/* smtp_conn_free - close and free c */
static void
smtp_conn_free(struct smtp_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

/* smtp_arg_ok - an address or name we may put in a command line */
static bool
smtp_arg_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f ||
		    *s == '<' || *s == '>')
			return false;
	return true;
}

enum smtp_status
smtp_client_send(const char *ip, unsigned port, const struct smtp_limits *lim,
    const char *helo, const char *from, const char *rcpt, const char *msg,
    size_t len, char *why, size_t whylen)
{
	struct smtp_conn *c;
	enum smtp_status st;

	why[0] = '\0';
	if (!smtp_arg_ok(helo) || !smtp_arg_ok(from) || !smtp_arg_ok(rcpt) ||
	    strlen(helo) + strlen(from) + strlen(rcpt) > SMTP_MAX_LINE / 2) {
		snprintf(why, whylen, "an address or name that SMTP cannot "
		    "carry");
		return SMTP_PERM;
	}
	c = smtp_conn_new(lim, why, whylen);
	st = smtp_connect(c, ip, port);
	if (st == SMTP_SENT)
		st = smtp_session(c, helo, from, rcpt, msg, len);
	smtp_conn_free(c);
	return st;
}

/* smtp_client_probe - greeting and EHLO, then QUIT (see smtp_client.h) */
enum smtp_status
smtp_client_probe(const char *ip, unsigned port, const struct smtp_limits *lim,
    const char *helo, char *why, size_t whylen)
{
	struct smtp_conn *c;
	enum smtp_status st;

	why[0] = '\0';
	if (!smtp_arg_ok(helo) || strlen(helo) > SMTP_MAX_LINE / 2) {
		snprintf(why, whylen, "a name that SMTP cannot carry");
		return SMTP_PERM;
	}
	c = smtp_conn_new(lim, why, whylen);
	st = smtp_connect(c, ip, port);
	if (st == SMTP_SENT && (st = smtp_hello(c, helo)) == SMTP_SENT)
		(void)smtp_write(c, "QUIT\r\n", 6);
	smtp_conn_free(c);
	return st;
}

/* smtp_client_parse_relay - host[:port] (see smtp_client.h) */
bool
smtp_client_parse_relay(const char *spec, char *host, size_t hostlen,
    unsigned *port, char *why, size_t whylen)
{
	const char *h = spec, *colon = NULL, *end;
	struct in6_addr a6;
	struct in_addr a4;
	char *stop;
	size_t n;

	*port = SMTP_DEFAULT_PORT;
	if (*h == '[') {
		end = strchr(h, ']');
		if (end == NULL || (end[1] != '\0' && end[1] != ':')) {
			snprintf(why, whylen, "\"%s\": a \"[\" without its "
			    "\"]\"", spec);
			return false;
		}
		h++;
		colon = end[1] == ':' ? end + 1 : NULL;
	} else if (strchr(h, ':') == strrchr(h, ':')) {
		colon = strchr(h, ':');	/* at most one: host:port */
		end = colon ? colon : h + strlen(h);
	} else
		end = h + strlen(h);	/* a bare IPv6 address */
	n = (size_t)(end - h);
	if (n == 0 || n >= hostlen || n > SMTP_MAX_HOST) {
		snprintf(why, whylen, "\"%s\": no host, or one too long", spec);
		return false;
	}
	memcpy(host, h, n);
	host[n] = '\0';
	if (colon != NULL) {
		unsigned long p;

		errno = 0;
		p = strtoul(colon + 1, &stop, 10);
		if (!isdigit((unsigned char)colon[1]) || *stop != '\0' ||
		    errno != 0 || p == 0 || p > 65535) {
			snprintf(why, whylen, "\"%s\": the port must be a "
			    "number from 1 to 65535", spec);
			return false;
		}
		*port = (unsigned)p;
	}
	if (inet_pton(AF_INET6, host, &a6) == 1 ||
	    inet_pton(AF_INET, host, &a4) == 1 || addr_domain_valid(host))
		return true;
	snprintf(why, whylen, "\"%s\": \"%s\" is neither an IP address nor "
	    "a host name", spec, host);
	return false;
}
