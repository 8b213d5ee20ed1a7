/*
 * NAME
 *	mclient - the MTA side of the milter protocol, for test and
 *	benchmark clients
 * SYNOPSIS
 *	#include "mclient.h"
 *
 *	int mclient_resolve(struct mclient_addr *a, const char *spec,
 *	    char *err, size_t errsize);
 *	void mclient_init(struct mclient_conn *c, const char *name,
 *	    int timeout_ms, unsigned flags);
 *	int mclient_connect(struct mclient_conn *c,
 *	    const struct mclient_addr *a);
 *	int mclient_negotiate(struct mclient_conn *c, uint32_t actions,
 *	    uint32_t proto);
 *	int mclient_event(struct mclient_conn *c, int cmd,
 *	    const struct mclient_macro *m, size_t nm, const void *data,
 *	    size_t len, const struct mclient_sink *sink);
 *	int mclient_send(struct mclient_conn *c, int cmd, const void *data,
 *	    size_t len);
 *	int mclient_read(struct mclient_conn *c, struct mclient_pkt *pkt);
 *	void mclient_close(struct mclient_conn *c);
 *	void mclient_free(struct mclient_conn *c);
 *
 *	The rest of the API (mclient.h): mclient_flush, mclient_pending,
 *	mclient_replies, mclient_put_macros, mclient_text, mclient_symlist,
 *	mclient_symlist_next, mclient_symlist_has, mclient_fail; message
 *	helpers mclient_connect_data, mclient_addr_arg, mclient_bare_addr,
 *	mclient_header_label, mclient_header_split, mclient_header_data,
 *	mclient_line_clean; the buffer mclient_buf_* and mclient_xrealloc,
 *	mclient_xstrdup, mclient_get32, mclient_put32.
 * DESCRIPTION
 *	The part of Postfix's src/milter/milter8.c that tests/miltc (one
 *	message, every event printed) and bench/loadgen (many messages,
 *	counted) both play. It offers version 6 as Postfix 3.7 does, and
 *	sends what a program hands it; what to send (envelope, macro values,
 *	the message as Postfix would pass it on) is the program's.
 *
 *	mclient_resolve() turns SOCKET (unix:PATH | local:PATH | PATH |
 *	inet:PORT@HOST | inet6:PORT@HOST, or inet:HOST:PORT) into addresses
 *	once; mclient_connect() connects to the first that answers, sets the
 *	send timeout (which also bounds connect() on Linux) and TCP_NODELAY.
 *	mclient_negotiate() sends SMFIC_OPTNEG and keeps the milter's
 *	version, actions, protocol flags and SETSYMLIST macro lists
 *	(mclient_symlist(); mclient_symlist_next() walks one).
 *
 *	mclient_event() is one step, Postfix style: nothing after SMFIR_SKIP
 *	for the same event type, nor for a step the milter's version lacks;
 *	then the step's SMFIC_MACRO (the macros that have a value, sent even
 *	when none has, and even for a step the milter asked not to get);
 *	then the command unless SMFIP_NO*; then the replies unless SMFIP_NR_*.
 *	mclient_replies() reads replies until a verdict: modification
 *	requests only at end of message, quarantine and progress anywhere;
 *	each request goes to the sink (a run of SMFIR_REPLBODY packets as
 *	one request). The text of a REPLYCODE is mclient_text().
 *
 *	Packets that need no reply are queued and leave in one write with
 *	the next one that needs a reply (mclient_read() flushes); a packet of
 *	MCLIENT_DIRECT_WRITE bytes or more goes out at once, after the queue,
 *	in one writev without a copy. Macros are framed in the queue itself.
 *	Once the buffers have grown, a step allocates nothing.
 *
 *	Waiting for a reply: with MCLIENT_POLL, poll() and a deadline of
 *	timeout_ms per packet; without it, SO_RCVTIMEO (set at connect)
 *	bounds each read, and a reply costs one read() (bench/loadgen's hot
 *	path). MCLIENT_WARN warns, as tests/miltc does, of data that arrived
 *	before a step that wants a reply was sent (the milter answered a
 *	no-reply step) and of macro lists for unknown stages. MCLIENT_TRACE
 *	dumps every packet. Warnings and traces start with the name given to
 *	mclient_init().
 * DIAGNOSTICS
 *	Functions that return int return -1 on an error and leave its text
 *	in c->err (mclient_resolve(): in err); mclient_connect() returns -2
 *	when a socket was made but no connect() succeeded. Warnings and
 *	traces go to stderr. Out of memory ends the program (exit 1) after
 *	"PROGRAM: out of memory" (the name it was invoked by).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mclient.h"

#define MCLIENT_BUF_MIN		256	/* first allocation of a buffer */
#define MCLIENT_OUTBUF_FLUSH	65536	/* flush queued packets beyond this */
#define MCLIENT_DIRECT_WRITE	16384	/* packets this big go without a copy */
#define MCLIENT_INBUF_MIN	65536	/* read size for replies */
#define MCLIENT_SPEC_MAX	512	/* the PORT@HOST part of a SOCKET */
#define MCLIENT_TRACE_BYTES	160	/* data shown of a traced packet */
#define MCLIENT_REQ_STRINGS	3	/* strings looked for in a request */
#define MCLIENT_OPTNEG_LEN	12	/* version, actions, protocol */
#define MCLIENT_MIN_VERSION	2	/* the oldest milter version we take */
#define MCLIENT_DATA_VERSION	4	/* the first with SMFIC_DATA */
#define MCLIENT_PKT_HDR		5	/* length (4) and command (1) */
#define MCLIENT_MS_PER_S	1000
#define MCLIENT_NS_PER_MS	1000000

/* mclient_oom - say that memory ran out, and exit */
static void
mclient_oom(void)
{
	fprintf(stderr, "%s: out of memory\n", program_invocation_short_name);
	exit(1);
}

/* mclient_xrealloc - realloc() that never fails (it exits) */
void *
mclient_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		mclient_oom();
	return q;
}

/* mclient_xstrdup - strdup() that never fails (it exits) */
char *
mclient_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(mclient_xrealloc(NULL, n), s, n);
}

/* mclient_buf_reserve - make room for extra more bytes */
void
mclient_buf_reserve(struct mclient_buf *b, size_t extra)
{
	size_t cap;

	if (extra > SIZE_MAX / 2 - b->len)
		mclient_oom();
	if (b->len + extra <= b->cap)
		return;
	cap = b->cap ? b->cap : MCLIENT_BUF_MIN;
	while (cap < b->len + extra)
		cap *= 2;
	b->p = mclient_xrealloc(b->p, cap);
	b->cap = cap;
}

/* mclient_room - make room for extra more bytes; inline while it fits */
static inline void
mclient_room(struct mclient_buf *b, size_t extra)
{
	if (extra > b->cap - b->len)
		mclient_buf_reserve(b, extra);
}

/* mclient_put - append n bytes (the inline form of mclient_buf_add) */
static inline void
mclient_put(struct mclient_buf *b, const void *d, size_t n)
{
	mclient_room(b, n);
	if (n)
		memcpy(b->p + b->len, d, n);
	b->len += n;
}

/* mclient_buf_add - append n bytes */
void
mclient_buf_add(struct mclient_buf *b, const void *d, size_t n)
{
	mclient_put(b, d, n);
}

/* mclient_buf_addc - append one byte */
void
mclient_buf_addc(struct mclient_buf *b, int c)
{
	mclient_room(b, 1);
	b->p[b->len++] = (unsigned char)c;
}

/* mclient_buf_adds - append a string and its terminating NUL */
void
mclient_buf_adds(struct mclient_buf *b, const char *s)
{
	mclient_put(b, s, strlen(s) + 1);
}

/* mclient_buf_free - release the memory; the buffer is empty again */
void
mclient_buf_free(struct mclient_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* mclient_put32 - store v in network byte order */
void
mclient_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* mclient_get32 - load a number in network byte order */
uint32_t
mclient_get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* mclient_now_ms - the monotonic clock in milliseconds */
static long long
mclient_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * MCLIENT_MS_PER_S +
	    ts.tv_nsec / MCLIENT_NS_PER_MS;
}

/* mclient_trace - dump a packet on stderr: a printable preview */
static void
mclient_trace(const struct mclient_conn *c, const char *dir, int cmd,
    const unsigned char *d, size_t n)
{
	size_t i, lim;

	fprintf(stderr, "%s: %s '%c' %zu bytes", c->name, dir, cmd, n);
	if (n) {
		fputs(" \"", stderr);
		lim = n > MCLIENT_TRACE_BYTES ? MCLIENT_TRACE_BYTES : n;
		for (i = 0; i < lim; i++) {
			if (d[i] == 0)
				fputs("\\0", stderr);
			else if (d[i] == '\\')
				fputs("\\\\", stderr);
			else if (d[i] >= 0x20 && d[i] < 0x7f)
				putc(d[i], stderr);
			else
				fprintf(stderr, "\\x%02x", d[i]);
		}
		fputs(lim < n ? "\"..." : "\"", stderr);
	}
	putc('\n', stderr);
}

/* mclient_errf - format an error into err; returns -1 */
static int
mclient_errf(char *err, size_t errsize, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
mclient_errf(char *err, size_t errsize, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errsize, fmt, ap);
	va_end(ap);
	return -1;
}

/* mclient_fail - set the connection's error text; returns -1 */
int
mclient_fail(struct mclient_conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof c->err, fmt, ap);
	va_end(ap);
	return -1;
}

/* mclient_resolve - SOCKET into addresses; 0, or -1 with err set */
int
mclient_resolve(struct mclient_addr *a, const char *spec, char *err,
    size_t errsize)
{
	const char *path = NULL;
	int family = AF_UNSPEC;
	struct sockaddr_un *sun;
	struct addrinfo hints, *res, *ai;
	char tmp[MCLIENT_SPEC_MAX], *host, *port, *at, *colon;
	const char *rest;
	size_t hl;
	int rc;

	memset(a, 0, sizeof *a);
	if (strncmp(spec, "unix:", 5) == 0)
		path = spec + 5;
	else if (strncmp(spec, "local:", 6) == 0)
		path = spec + 6;
	else if (strncmp(spec, "inet:", 5) == 0)
		family = AF_INET;
	else if (strncmp(spec, "inet6:", 6) == 0)
		family = AF_INET6;
	else
		path = spec;

	if (path) {
		sun = (struct sockaddr_un *)&a->sa[0];
		if (*path == 0)
			return mclient_errf(err, errsize, "bad socket path: %s",
			    spec);
		if (strlen(path) >= sizeof sun->sun_path)
			return mclient_errf(err, errsize,
			    "socket path too long: %s", path);
		sun->sun_family = AF_UNIX;
		memcpy(sun->sun_path, path, strlen(path) + 1);
		a->family = AF_UNIX;
		a->salen[0] = sizeof *sun;
		a->count = 1;
		snprintf(a->name, sizeof a->name, "%s", path);
		return 0;
	}

	/* inet:PORT@HOST, inet6:PORT@HOST, or inet:HOST:PORT */
	rest = strchr(spec, ':') + 1;
	if (strlen(rest) >= sizeof tmp)
		return mclient_errf(err, errsize, "bad socket: %s", spec);
	strcpy(tmp, rest);
	if ((at = strchr(tmp, '@')) != NULL) {
		*at = 0;
		port = tmp;
		host = at + 1;
	} else {
		if ((colon = strrchr(tmp, ':')) == NULL)
			return mclient_errf(err, errsize,
			    "bad socket (want PORT@HOST): %s", spec);
		*colon = 0;
		host = tmp;
		port = colon + 1;
	}
	hl = strlen(host);
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		host[hl - 1] = 0;
		host++;
	}
	if (*host == 0)
		host = family == AF_INET6 ? "::1" : "127.0.0.1";
	memset(&hints, 0, sizeof hints);
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0)
		return mclient_errf(err, errsize, "%s: %s", spec,
		    gai_strerror(rc));
	for (ai = res; ai && a->count < MCLIENT_MAX_ADDRS; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof a->sa[0])
			continue;
		memcpy(&a->sa[a->count], ai->ai_addr, ai->ai_addrlen);
		a->salen[a->count++] = ai->ai_addrlen;
	}
	a->family = res->ai_family;
	freeaddrinfo(res);
	snprintf(a->name, sizeof a->name, "%s", spec);
	return a->count ? 0 : mclient_errf(err, errsize, "%s: no address",
	    spec);
}

/*
 * mclient_init - a closed connection; name starts warnings and traces;
 * timeout_ms <= 0: no timeout
 */
void
mclient_init(struct mclient_conn *c, const char *name, int timeout_ms,
    unsigned flags)
{
	int st;

	memset(c, 0, sizeof *c);
	c->name = name;
	c->fd = -1;
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
	c->flags = flags;
	for (st = 0; st < ST_MAX; st++)
		c->symoff[st] = SIZE_MAX;
}

/* mclient_timeouts - bound sends (and connect) and, without POLL, reads */
static void
mclient_timeouts(const struct mclient_conn *c, int fd)
{
	struct timeval tv;

	if (c->timeout_ms <= 0)
		return;
	tv.tv_sec = c->timeout_ms / MCLIENT_MS_PER_S;
	tv.tv_usec = (c->timeout_ms % MCLIENT_MS_PER_S) * MCLIENT_MS_PER_S;
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (!(c->flags & MCLIENT_POLL))
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

/*
 * mclient_connect - connect a closed connection to the first address that
 * answers; 0, -1 (no socket), -2 (no connect); the buffers are kept
 */
int
mclient_connect(struct mclient_conn *c, const struct mclient_addr *a)
{
	int fd = -1, e = 0, made = 0, one = 1, i;

	c->skip_event = 0;
	c->np_mask = 0;
	c->nr_sent = 0;
	c->out.len = 0;
	c->in.len = c->in_off = 0;
	for (i = 0; i < a->count; i++) {
		fd = socket(a->sa[i].ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			e = errno;
			continue;
		}
		made = 1;
		mclient_timeouts(c, fd);
		if (a->family != AF_UNIX)
			(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof one);
		if (connect(fd, (const struct sockaddr *)&a->sa[i],
		    a->salen[i]) == 0)
			break;
		e = errno;
		close(fd);
		fd = -1;
	}
	if (fd < 0 && !made)
		return mclient_fail(c, "socket: %s", strerror(e));
	if (fd < 0) {
		mclient_fail(c, "connect to %s: %s", a->name, strerror(e));
		return -2;
	}
	c->fd = fd;
	return 0;
}

/* mclient_close - close the socket; the buffers are kept for the next */
void
mclient_close(struct mclient_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->out.len = 0;
	c->in.len = c->in_off = 0;
}

/* mclient_free - close and release everything */
void
mclient_free(struct mclient_conn *c)
{
	mclient_close(c);
	mclient_buf_free(&c->out);
	mclient_buf_free(&c->in);
	mclient_buf_free(&c->text);
	mclient_buf_free(&c->syms);
}

/* mclient_writev - write iovecs completely (short writes too); 0 or -1 */
static int
mclient_writev(struct mclient_conn *c, struct iovec *iov, int n)
{
	struct msghdr mh;
	ssize_t w;
	size_t left;

	while (n > 0) {
		memset(&mh, 0, sizeof mh);
		mh.msg_iov = iov;
		mh.msg_iovlen = (size_t)n;
		if ((w = sendmsg(c->fd, &mh, MSG_NOSIGNAL)) < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return mclient_fail(c,
				    "timeout writing to milter");
			return mclient_fail(c, "write to milter: %s",
			    strerror(errno));
		}
		left = (size_t)w;
		while (n > 0 && left >= iov->iov_len) {
			left -= iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + left;
			iov->iov_len -= left;
		}
	}
	return 0;
}

/* mclient_flush - send the queued packets; 0 or -1 */
int
mclient_flush(struct mclient_conn *c)
{
	struct iovec iov;
	int rc;

	if (c->out.len == 0)
		return 0;
	iov.iov_base = c->out.p;
	iov.iov_len = c->out.len;
	rc = mclient_writev(c, &iov, 1);
	c->out.len = 0;
	return rc;
}

/*
 * mclient_send - queue one packet (length, command, data); a large one
 * goes out at once with the queued ones, in one writev; 0 or -1
 */
int
mclient_send(struct mclient_conn *c, int cmd, const void *data, size_t len)
{
	struct mclient_buf *b = &c->out;
	unsigned char hdr[MCLIENT_PKT_HDR];
	struct iovec iov[3];
	int n = 0;

	if (len > UINT32_MAX - 1)
		return mclient_fail(c, "packet too large (%zu bytes)", len);
	if (c->flags & MCLIENT_TRACE)
		mclient_trace(c, ">", cmd, data, len);
	if (len < MCLIENT_DIRECT_WRITE) {
		mclient_room(b, MCLIENT_PKT_HDR + len);
		mclient_put32(b->p + b->len, (uint32_t)len + 1);
		b->p[b->len + 4] = (unsigned char)cmd;
		if (len)
			memcpy(b->p + b->len + MCLIENT_PKT_HDR, data, len);
		b->len += MCLIENT_PKT_HDR + len;
		return b->len >= MCLIENT_OUTBUF_FLUSH ? mclient_flush(c) : 0;
	}
	mclient_put32(hdr, (uint32_t)len + 1);
	hdr[4] = (unsigned char)cmd;
	if (b->len) {
		iov[n].iov_base = b->p;
		iov[n++].iov_len = b->len;
	}
	iov[n].iov_base = hdr;
	iov[n++].iov_len = sizeof hdr;
	iov[n].iov_base = (void *)(uintptr_t)data;
	iov[n++].iov_len = len;
	b->len = 0;
	return mclient_writev(c, iov, n);
}

/* mclient_wait - poll for input until deadline (0: none); 0 or -1 */
static int
mclient_wait(struct mclient_conn *c, long long deadline)
{
	struct pollfd pfd;
	long long left;
	int wait, pr;

	for (;;) {
		wait = -1;
		if (deadline > 0) {
			left = deadline - mclient_now_ms();
			if (left <= 0)
				return mclient_fail(c, "timeout waiting for "
				    "the milter's reply");
			wait = left > INT_MAX ? INT_MAX : (int)left;
		}
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if ((pr = poll(&pfd, 1, wait)) > 0)
			return 0;
		if (pr == 0)
			return mclient_fail(c, "timeout waiting for the "
			    "milter's reply");
		if (errno != EINTR)
			return mclient_fail(c, "poll: %s", strerror(errno));
	}
}

/* mclient_fill - make need unread bytes available in c->in; 0 or -1 */
static int
mclient_fill(struct mclient_conn *c, size_t need, long long deadline)
{
	size_t want;
	ssize_t r;

	while (c->in.len - c->in_off < need) {
		if (c->in_off > 0) {
			memmove(c->in.p, c->in.p + c->in_off,
			    c->in.len - c->in_off);
			c->in.len -= c->in_off;
			c->in_off = 0;
		}
		want = need > MCLIENT_INBUF_MIN ? need : MCLIENT_INBUF_MIN;
		if (c->in.cap < want)
			mclient_buf_reserve(&c->in, want - c->in.len);
		if ((c->flags & MCLIENT_POLL) && mclient_wait(c, deadline) < 0)
			return -1;
		r = read(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if (c->flags & MCLIENT_POLL)
					continue;
				return mclient_fail(c, "timeout waiting for "
				    "the milter's reply");
			}
			return mclient_fail(c, "read from milter: %s",
			    strerror(errno));
		}
		if (r == 0)
			return mclient_fail(c, "milter closed the connection");
		c->in.len += (size_t)r;
	}
	return 0;
}

/* mclient_read - read one packet (queued output goes first); 0 or -1 */
int
mclient_read(struct mclient_conn *c, struct mclient_pkt *pkt)
{
	long long deadline = 0;
	uint32_t plen;

	if (mclient_flush(c) < 0)
		return -1;
	if ((c->flags & MCLIENT_POLL) && c->timeout_ms > 0)
		deadline = mclient_now_ms() + c->timeout_ms;
	if (mclient_fill(c, MCLIENT_PKT_HDR, deadline) < 0)
		return -1;
	plen = mclient_get32(c->in.p + c->in_off);
	if (plen < 1)
		return mclient_fail(c, "protocol: bad packet length 0");
	if (plen > MCLIENT_MAX_PACKET)
		return mclient_fail(c, "protocol: unreasonable packet length "
		    "%lu", (unsigned long)plen);
	if (mclient_fill(c, 4 + (size_t)plen, deadline) < 0)
		return -1;
	pkt->cmd = c->in.p[c->in_off + 4];
	pkt->data = c->in.p + c->in_off + MCLIENT_PKT_HDR;
	pkt->len = plen - 1;
	c->in_off += 4 + (size_t)plen;
	if (c->in_off == c->in.len)
		c->in_off = c->in.len = 0;
	if (c->flags & MCLIENT_TRACE)
		mclient_trace(c, "<", pkt->cmd, pkt->data, pkt->len);
	c->nr_sent = 0;
	return 0;
}

/* mclient_pending - bytes received and not yet read as a packet */
size_t
mclient_pending(const struct mclient_conn *c)
{
	return c->in.len - c->in_off;
}

/*
 * mclient_negotiate - offer version 6, actions and proto; keep the
 * milter's version, actions, protocol and macro lists; 0 or -1
 */
int
mclient_negotiate(struct mclient_conn *c, uint32_t actions, uint32_t proto)
{
	unsigned char opt[MCLIENT_OPTNEG_LEN];
	const unsigned char *p, *end, *nul;
	struct mclient_pkt pkt;
	uint32_t st;

	mclient_put32(opt, MCLIENT_VERSION);
	mclient_put32(opt + 4, actions);
	mclient_put32(opt + 8, proto);
	if (mclient_send(c, SMFIC_OPTNEG, opt, sizeof opt) < 0 ||
	    mclient_read(c, &pkt) < 0)
		return -1;
	if (pkt.cmd != SMFIC_OPTNEG)
		return mclient_fail(c, "protocol: reply '%c' to OPTNEG",
		    pkt.cmd);
	if (pkt.len < MCLIENT_OPTNEG_LEN)
		return mclient_fail(c, "protocol: OPTNEG reply too short "
		    "(%zu bytes)", pkt.len);
	c->version = mclient_get32(pkt.data);
	c->actions = mclient_get32(pkt.data + 4);
	c->proto = mclient_get32(pkt.data + 8);
	if (c->version > MCLIENT_VERSION || c->version < MCLIENT_MIN_VERSION)
		return mclient_fail(c, "protocol: milter version %lu, we "
		    "speak %d", (unsigned long)c->version, MCLIENT_VERSION);
	if ((c->actions & actions) != c->actions)
		return mclient_fail(c, "protocol: milter wants actions 0x%lx, "
		    "offered 0x%lx", (unsigned long)c->actions,
		    (unsigned long)actions);
	/* steps an older protocol version does not know (as Postfix) */
	if (c->version < MCLIENT_DATA_VERSION)
		c->np_mask |= SMFIP_NODATA;

	c->syms.len = 0;
	for (st = 0; st < ST_MAX; st++)
		c->symoff[st] = SIZE_MAX;
	p = pkt.data + MCLIENT_OPTNEG_LEN;
	end = pkt.data + pkt.len;
	while (p < end) {
		if (end - p < 5)
			return mclient_fail(c, "protocol: truncated macro list "
			    "in OPTNEG reply");
		st = mclient_get32(p);
		p += 4;
		if ((nul = memchr(p, 0, (size_t)(end - p))) == NULL)
			return mclient_fail(c, "protocol: unterminated macro "
			    "list in OPTNEG reply");
		if (st < ST_MAX) {
			c->symoff[st] = c->syms.len;
			mclient_buf_add(&c->syms, p, (size_t)(nul - p) + 1);
		} else if (c->flags & MCLIENT_WARN) {
			fprintf(stderr, "%s: warning: ignoring macro list for "
			    "unknown stage %lu\n", c->name, (unsigned long)st);
		}
		p = nul + 1;
	}
	return 0;
}

/* mclient_symlist - the macro list the milter asked for at stage, or NULL */
const char *
mclient_symlist(const struct mclient_conn *c, int stage)
{
	if (c->symoff[stage] == SIZE_MAX)
		return NULL;
	return (const char *)c->syms.p + c->symoff[stage];
}

/*
 * mclient_symlist_next - the next name of a macro list (separated by
 * blanks or commas), without its braces; advances *p; NULL at the end
 */
const char *
mclient_symlist_next(const char **p, size_t *len)
{
	const char *s = *p, *t;
	size_t l;

	while (*s == ' ' || *s == ',' || *s == '\t')
		s++;
	if (*s == 0) {
		*p = s;
		return NULL;
	}
	for (t = s; *t && *t != ' ' && *t != ',' && *t != '\t'; t++)
		;
	*p = t;
	l = (size_t)(t - s);
	if (l >= 2 && s[0] == '{' && s[l - 1] == '}') {
		s++;
		l -= 2;
	}
	*len = l;
	return s;
}

/* mclient_symlist_has - is name (braces optional) in the macro list? */
int
mclient_symlist_has(const char *list, const char *name)
{
	const char *s;
	size_t nl = strlen(name), l;

	if (nl >= 2 && name[0] == '{' && name[nl - 1] == '}') {
		name++;
		nl -= 2;
	}
	while ((s = mclient_symlist_next(&list, &l)) != NULL)
		if (l == nl && l > 0 && memcmp(s, name, l) == 0)
			return 1;
	return 0;
}

/*
 * mclient_put_macros - queue SMFIC_MACRO for command cmd: the macros that
 * have a value, in order (none is a packet too); 0 or -1
 */
int
mclient_put_macros(struct mclient_conn *c, int cmd,
    const struct mclient_macro *m, size_t n)
{
	struct mclient_buf *b = &c->out;
	size_t start = b->len, i;

	mclient_room(b, MCLIENT_PKT_HDR + 1);
	b->len += 4;
	b->p[b->len++] = SMFIC_MACRO;
	b->p[b->len++] = (unsigned char)cmd;
	for (i = 0; i < n; i++) {
		if (m[i].value == NULL)
			continue;
		mclient_put(b, m[i].name, strlen(m[i].name) + 1);
		mclient_put(b, m[i].value, strlen(m[i].value) + 1);
	}
	mclient_put32(b->p + start, (uint32_t)(b->len - start - 4));
	if (c->flags & MCLIENT_TRACE)
		mclient_trace(c, ">", SMFIC_MACRO, b->p + start + MCLIENT_PKT_HDR,
		    b->len - start - MCLIENT_PKT_HDR);
	return b->len >= MCLIENT_OUTBUF_FLUSH ? mclient_flush(c) : 0;
}

/* mclient_no_flag - the SMFIP_NO* flag of a command, or 0 */
static uint32_t
mclient_no_flag(int cmd)
{
	switch (cmd) {
	case SMFIC_CONNECT: return SMFIP_NOCONNECT;
	case SMFIC_HELO: return SMFIP_NOHELO;
	case SMFIC_MAIL: return SMFIP_NOMAIL;
	case SMFIC_RCPT: return SMFIP_NORCPT;
	case SMFIC_DATA: return SMFIP_NODATA;
	case SMFIC_HEADER: return SMFIP_NOHDRS;
	case SMFIC_EOH: return SMFIP_NOEOH;
	case SMFIC_BODY: return SMFIP_NOBODY;
	default: return 0;
	}
}

/* mclient_nr_flag - the SMFIP_NR_* flag of a command, or 0 */
static uint32_t
mclient_nr_flag(int cmd)
{
	switch (cmd) {
	case SMFIC_CONNECT: return SMFIP_NR_CONN;
	case SMFIC_HELO: return SMFIP_NR_HELO;
	case SMFIC_MAIL: return SMFIP_NR_MAIL;
	case SMFIC_RCPT: return SMFIP_NR_RCPT;
	case SMFIC_DATA: return SMFIP_NR_DATA;
	case SMFIC_HEADER: return SMFIP_NR_HDR;
	case SMFIC_EOH: return SMFIP_NR_EOH;
	case SMFIC_BODY: return SMFIP_NR_BODY;
	default: return 0;
	}
}

/* mclient_stray - warn of data that came before a step was sent */
static int
mclient_stray(struct mclient_conn *c, int cmd)
{
	struct pollfd pfd;

	/* A milter that answers a no-reply step desynchronises Postfix: the
	 * answer is taken as the reply to this step.  Say so; go on. */
	if (mclient_flush(c) < 0)
		return -1;
	pfd.fd = c->fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (mclient_pending(c) > 0 ||
	    (poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN)))
		fprintf(stderr, "%s: warning: data from the milter before '%c' "
		    "was sent: a reply to a no-reply step?\n", c->name, cmd);
	return 0;
}

/*
 * mclient_event - one protocol step, Postfix style (see DESCRIPTION);
 * a verdict (V_CONTINUE when nothing was asked) or -1
 */
int
mclient_event(struct mclient_conn *c, int cmd, const struct mclient_macro *m,
    size_t nm, const void *data, size_t len, const struct mclient_sink *sink)
{
	uint32_t no = mclient_no_flag(cmd);
	int v;

	if (no & c->np_mask)
		return V_CONTINUE;
	if (c->skip_event) {
		if (c->skip_event == cmd)
			return V_CONTINUE;
		c->skip_event = 0;
	}
	if (mclient_put_macros(c, cmd, m, nm) < 0)
		return -1;
	if (no & c->proto)
		return V_CONTINUE;
	if (mclient_nr_flag(cmd) & c->proto) {
		if (mclient_send(c, cmd, data, len) < 0)
			return -1;
		c->nr_sent++;
		return V_CONTINUE;
	}
	if (c->nr_sent && (c->flags & MCLIENT_WARN) && mclient_stray(c, cmd) < 0)
		return -1;
	if (mclient_send(c, cmd, data, len) < 0)
		return -1;
	if ((v = mclient_replies(c, cmd, sink)) == V_SKIP)
		c->skip_event = cmd;
	return v;
}

/* mclient_verdict - the verdict a reply command stands for, or -1 */
static int
mclient_verdict(int cmd)
{
	switch (cmd) {
	case SMFIR_CONTINUE: return V_CONTINUE;
	case SMFIR_ACCEPT: return V_ACCEPT;
	case SMFIR_REJECT: return V_REJECT;
	case SMFIR_TEMPFAIL: return V_TEMPFAIL;
	case SMFIR_DISCARD: return V_DISCARD;
	case SMFIR_SKIP: return V_SKIP;
	case SMFIR_SHUTDOWN: return V_SHUTDOWN;
	default: return -1;
	}
}

/* mclient_strings - split data from off into C strings; count, or -1 */
static int
mclient_strings(const struct mclient_pkt *pkt, size_t off, const char **s,
    int max)
{
	const unsigned char *nul;
	size_t i = off;
	int n = 0;

	while (i < pkt->len) {
		nul = memchr(pkt->data + i, 0, pkt->len - i);
		if (nul == NULL || n == max)
			return -1;
		s[n++] = (const char *)pkt->data + i;
		i = (size_t)(nul - pkt->data) + 1;
	}
	return n;
}

/* mclient_deliver - hand a request to the sink */
static void
mclient_deliver(const struct mclient_sink *sink,
    const struct mclient_request *rq)
{
	if (sink && sink->request)
		sink->request(sink->arg, rq);
}

/* mclient_keep_text - keep a reply's text in c->text, as a C string */
static const char *
mclient_keep_text(struct mclient_conn *c, const struct mclient_pkt *pkt)
{
	c->text.len = 0;
	mclient_buf_add(&c->text, pkt->data, pkt->len);
	/* the text normally ends with a NUL; keep it a C string */
	if (c->text.len == 0 || c->text.p[c->text.len - 1] != 0)
		mclient_buf_addc(&c->text, 0);
	return (const char *)c->text.p;
}

/* mclient_request - check a modification request and fill rq; 0 or -1 */
static int
mclient_request(struct mclient_conn *c, const struct mclient_pkt *pkt,
    struct mclient_request *rq)
{
	const char *s[MCLIENT_REQ_STRINGS];
	int ns;

	rq->cmd = pkt->cmd;
	rq->idx = -1;
	switch (pkt->cmd) {
	case SMFIR_ADDHEADER:
		if (mclient_strings(pkt, 0, s, MCLIENT_REQ_STRINGS) != 2)
			return mclient_fail(c, "protocol: malformed ADDHEADER");
		break;
	case SMFIR_INSHEADER:
	case SMFIR_CHGHEADER:
		if (pkt->len < 4 ||
		    mclient_strings(pkt, 4, s, MCLIENT_REQ_STRINGS) != 2)
			return mclient_fail(c, "protocol: malformed %s",
			    pkt->cmd == SMFIR_INSHEADER ? "INSHEADER" :
			    "CHGHEADER");
		rq->idx = (long)mclient_get32(pkt->data);
		break;
	case SMFIR_ADDRCPT:
	case SMFIR_DELRCPT:
	case SMFIR_ADDRCPT_PAR:
	case SMFIR_CHGFROM:
		ns = mclient_strings(pkt, 0, s, MCLIENT_REQ_STRINGS);
		if (ns < 1 || ns > 2 || ((pkt->cmd == SMFIR_ADDRCPT ||
		    pkt->cmd == SMFIR_DELRCPT) && ns != 1))
			return mclient_fail(c, "protocol: malformed '%c' "
			    "request", pkt->cmd);
		if (ns == 1)
			s[1] = NULL;
		break;
	default:
		return mclient_fail(c, "protocol: unexpected reply '%c' (%zu "
		    "bytes) at end of message", pkt->cmd, pkt->len);
	}
	rq->arg[0] = s[0];
	rq->arg[1] = s[1];
	return 0;
}

/*
 * mclient_replies - read the replies to command cmd until a verdict; the
 * other requests go to the sink; a verdict or -1
 */
int
mclient_replies(struct mclient_conn *c, int cmd,
    const struct mclient_sink *sink)
{
	struct mclient_request body = {.cmd = SMFIR_REPLBODY, .idx = -1};
	struct mclient_request rq = {.idx = -1};
	struct mclient_pkt pkt;
	const char *t;
	int v;

	for (;;) {
		if (mclient_read(c, &pkt) < 0)
			return -1;
		if (body.packets && pkt.cmd != SMFIR_REPLBODY) {
			mclient_deliver(sink, &body);
			body.bytes = 0;
			body.packets = 0;
		}
		if (pkt.cmd == SMFIR_PROGRESS) {
			rq.cmd = SMFIR_PROGRESS;
			rq.arg[0] = rq.arg[1] = NULL;
			mclient_deliver(sink, &rq);
			continue;
		}
		if ((v = mclient_verdict(pkt.cmd)) >= 0) {
			if (pkt.len != 0)
				return mclient_fail(c, "protocol: reply '%c' "
				    "with %zu data bytes", pkt.cmd, pkt.len);
			return v;
		}
		if (pkt.cmd == SMFIR_REPLYCODE || pkt.cmd == SMFIR_QUARANTINE) {
			t = mclient_keep_text(c, &pkt);
			if (pkt.cmd == SMFIR_QUARANTINE) {
				rq.cmd = SMFIR_QUARANTINE;
				rq.arg[0] = t;
				rq.arg[1] = NULL;
				mclient_deliver(sink, &rq);
				continue;
			}
			if ((t[0] != '4' && t[0] != '5') || t[1] < '0' ||
			    t[1] > '9' || t[2] < '0' || t[2] > '9' ||
			    (t[3] != ' ' && t[3] != '-'))
				return mclient_fail(c, "protocol: malformed "
				    "reply code \"%.100s\"", t);
			return V_REPLYCODE;
		}
		if (cmd != SMFIC_BODYEOB)
			return mclient_fail(c, "protocol: unexpected reply "
			    "'%c' (%zu bytes) before end of message", pkt.cmd,
			    pkt.len);
		if (pkt.cmd == SMFIR_REPLBODY) {
			body.bytes += pkt.len;
			body.packets++;
			continue;
		}
		if (mclient_request(c, &pkt, &rq) < 0)
			return -1;
		mclient_deliver(sink, &rq);
	}
}

/* mclient_text - the text of the last REPLYCODE or QUARANTINE */
const char *
mclient_text(const struct mclient_conn *c)
{
	return c->text.p ? (const char *)c->text.p : "";
}

/* mclient_connect_data - SMFIC_CONNECT data: host, family, port, address */
void
mclient_connect_data(struct mclient_buf *b, const char *host, int family,
    unsigned port, const char *addr)
{
	mclient_buf_adds(b, host);
	mclient_buf_addc(b, family);
	mclient_buf_addc(b, (int)(port >> 8));
	mclient_buf_addc(b, (int)(port & 0xff));
	mclient_buf_adds(b, addr);
}

/* mclient_addr_arg - SMFIC_MAIL/RCPT data: "<bare>" and its NUL */
void
mclient_addr_arg(struct mclient_buf *b, const char *bare)
{
	mclient_buf_addc(b, '<');
	mclient_buf_add(b, bare, strlen(bare));
	mclient_buf_addc(b, '>');
	mclient_buf_addc(b, 0);
}

/* mclient_bare_addr - an address without one pair of <>; a new string */
char *
mclient_bare_addr(const char *a)
{
	size_t n = strlen(a);
	char *s;

	if (n >= 2 && a[0] == '<' && a[n - 1] == '>') {
		s = mclient_xrealloc(NULL, n - 1);
		memcpy(s, a + 1, n - 2);
		s[n - 2] = 0;
		return s;
	}
	return mclient_xstrdup(a);
}

/*
 * mclient_header_label - Postfix is_header(): a label of printable ASCII
 * but ':' and space, optional blanks, then ':'; its length, or 0
 */
size_t
mclient_header_label(const char *l, size_t n)
{
	size_t i = 0, j;

	while (i < n && (unsigned char)l[i] > 32 &&
	    (unsigned char)l[i] < 127 && l[i] != ':')
		i++;
	if (i == 0)
		return 0;
	for (j = i; j < n && (l[j] == ' ' || l[j] == '\t'); j++)
		;
	return j < n && l[j] == ':' ? i : 0;
}

/*
 * mclient_header_split - the label and value of header field f (n bytes,
 * "Name: value\n continuation", a header by mclient_header_label()) as
 * Postfix passes it on: the value cut at a NUL byte and, when limit is
 * set, at header_size_limit; returns the value's offset in f
 */
size_t
mclient_header_split(const char *f, size_t n, int limit, size_t *lab,
    size_t *vlen)
{
	size_t colon;
	const char *nul;

	*lab = mclient_header_label(f, n);
	for (colon = *lab; f[colon] != ':'; colon++)
		;
	*vlen = n - colon - 1;
	if (limit && n > MCLIENT_HEADER_LIMIT)
		*vlen = colon + 1 < MCLIENT_HEADER_LIMIT ?
		    MCLIENT_HEADER_LIMIT - colon - 1 : 0;
	if ((nul = memchr(f + colon + 1, 0, *vlen)) != NULL)
		*vlen = (size_t)(nul - (f + colon + 1));
	return colon + 1;
}

/* mclient_header_data - SMFIC_HEADER data: name, NUL, value, NUL */
void
mclient_header_data(struct mclient_buf *b, const char *f, size_t lab,
    const char *val, size_t vlen)
{
	mclient_buf_add(b, f, lab);
	mclient_buf_addc(b, 0);
	mclient_buf_add(b, val, vlen);
	mclient_buf_addc(b, 0);
}

/*
 * mclient_line_clean - a line without its LF as Postfix 3.7 passes it on
 * (observed): the CRs at its end go, other CRs become spaces, in place;
 * returns the new length
 */
size_t
mclient_line_clean(char *l, size_t n)
{
	char *cr;

	while (n && l[n - 1] == '\r')
		n--;
	if (n == 0)
		return 0;
	for (cr = memchr(l, '\r', n); cr;
	    cr = memchr(cr, '\r', n - (size_t)(cr - l)))
		*cr = ' ';
	return n;
}
