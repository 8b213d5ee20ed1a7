/*
 * miltc -- a standalone MTA-side milter protocol client for tests.
 *
 * It plays Postfix's part of the Sendmail milter protocol, version 6, against
 * a running milter, and prints what the milter asked for, one line per event,
 * so that shell tests can assert on it.  No libmilter: plain sockets, C11 +
 * POSIX.  It sends exactly the bytes it is given (hostile input included)
 * when asked to (--raw).
 *
 * usage: miltc -s SOCKET [-c CLIENT_IP] [-n CLIENT_NAME] [-H HELO]
 *              [-f MAILFROM] [-r RCPT]... [-a AUTH_USER] [-q QUEUEID]
 *              [-t TIMEOUT_SECS] [--raw] [--no-leadspc] [-v] FILE...
 *
 * SOCKET is unix:PATH | local:PATH | PATH | inet:PORT@HOST | inet6:PORT@HOST
 * (inet:HOST:PORT is accepted too).  Each FILE ("-" for stdin) is one
 * message; several files are sent as several messages on one connection.
 * Defaults: -c 127.0.0.1 -n localhost -H localhost -f sender@example.com
 * -r rcpt@example.org, -t 30 (seconds per reply, 0 = none); queue ids
 * MILTC1, MILTC2, ... (-q ID: ID for one message, ID1, ID2, ... for several).
 * -a USER adds {auth_authen}=USER {auth_type}=PLAIN; -n unknown makes the
 * CONNECT host name "[IP]" as Postfix does.  -v dumps every packet to stderr.
 * Macros sent: connect j {daemon_name} {client_addr} {client_name} _;
 * helo none; mail i {mail_addr} [{auth_authen} {auth_type}];
 * rcpt i {rcpt_addr}; data, header, eoh, body, eom: i.
 *
 * What it mimics from Postfix (src/milter/milter8.c; byte streams checked
 * against a real Postfix 3.7.11 through a logging proxy):
 *  - offers version 6, all actions (0x1FF) and all protocol steps
 *    (0x1FFFFF, including SMFIP_HDR_LEADSPC unless --no-leadspc);
 *  - sends the macros of a step before the step (an empty SMFIC_MACRO when
 *    none has a value), even when the milter asked not to receive the step
 *    (SMFIP_NO*); honours the macro lists the milter requests in its OPTNEG
 *    reply (smfi_setsymlist).  The macro set itself is ours, not Postfix's
 *    default (Postfix sends no "i" at MAIL/RCPT and no {client_addr});
 *  - does not wait for a reply to a step negotiated as SMFIP_NR_*;
 *  - without SMFIP_HDR_LEADSPC strips one leading space from header values;
 *  - a line ends at LF; CRs just before it are dropped and other CRs become
 *    spaces; folded headers are joined with a bare "\n"; header values are
 *    C strings (cut at the first NUL byte); a header field longer than
 *    Postfix's header_size_limit (102400) is cut there;
 *  - the body is sent with every line ending in CRLF, NUL bytes kept, in
 *    chunks of exactly 65535 bytes but the last, then SMFIC_BODYEOB alone;
 *  - --raw: header lines lose only their LF or CRLF, the body goes as it is
 *    in the file (bare CR, bare LF, NUL), no header_size_limit;
 *  - SMFIR_SKIP skips further events of the same type (body chunks);
 *  - HELO once per connection; SMFIC_ABORT after every message (Postfix's
 *    smtpd resets the milter after each transaction, delivered or not) and
 *    once more before SMFIC_QUIT; a verdict before end of message ends the
 *    message; ACCEPT/REJECT/TEMPFAIL/SHUTDOWN at connect or HELO end the
 *    connection (closed without QUIT, as Postfix does) and apply to all
 *    remaining messages; a recipient REJECT/TEMPFAIL rejects that recipient
 *    only (the message goes on if another is left).
 *
 * Output on stdout (prefixed "N: " per message when several files are given):
 *   NEGOTIATED version=6 actions=0x... protocol=0x...     (once, unprefixed)
 *   SYMLIST stage macros                                  (if requested)
 *   ADDHEADER name: value / INSHEADER idx name: value / CHGHEADER idx name: value
 *   QUARANTINE reason / REPLACEBODY bytes / ADDRCPT addr [args] / DELRCPT addr
 *   CHGFROM addr [args] / PROGRESS / RCPT addr VERDICT (a rejected recipient)
 *   then the verdict: ACCEPT | CONTINUE | REJECT | TEMPFAIL | DISCARD |
 *   REPLYCODE text | SHUTDOWN | SKIP, followed by " at STEP" when it came
 *   before end of message.  "\n" and "\r" inside values print as \n and \r.
 *
 * Exit status: 0 when every message got a verdict, 1 on a protocol,
 * connection or I/O error or a timeout ("ERROR ..." on stderr), 2 on usage.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* ---- protocol constants (libmilter's mfdef.h; not included on purpose) -- */

#define MC_VERSION 6

#define SMFIC_ABORT 'A'
#define SMFIC_BODY 'B'
#define SMFIC_CONNECT 'C'
#define SMFIC_MACRO 'D'
#define SMFIC_BODYEOB 'E'
#define SMFIC_HELO 'H'
#define SMFIC_HEADER 'L'
#define SMFIC_MAIL 'M'
#define SMFIC_EOH 'N'
#define SMFIC_OPTNEG 'O'
#define SMFIC_QUIT 'Q'
#define SMFIC_RCPT 'R'
#define SMFIC_DATA 'T'

#define SMFIR_ADDRCPT '+'
#define SMFIR_DELRCPT '-'
#define SMFIR_ADDRCPT_PAR '2'
#define SMFIR_SHUTDOWN '4'
#define SMFIR_ACCEPT 'a'
#define SMFIR_REPLBODY 'b'
#define SMFIR_CONTINUE 'c'
#define SMFIR_DISCARD 'd'
#define SMFIR_CHGFROM 'e'
#define SMFIR_CONN_FAIL 'f'
#define SMFIR_ADDHEADER 'h'
#define SMFIR_INSHEADER 'i'
#define SMFIR_CHGHEADER 'm'
#define SMFIR_PROGRESS 'p'
#define SMFIR_QUARANTINE 'q'
#define SMFIR_REJECT 'r'
#define SMFIR_SKIP 's'
#define SMFIR_TEMPFAIL 't'
#define SMFIR_REPLYCODE 'y'

#define SMFIP_NOCONNECT 0x00000001u
#define SMFIP_NOHELO 0x00000002u
#define SMFIP_NOMAIL 0x00000004u
#define SMFIP_NORCPT 0x00000008u
#define SMFIP_NOBODY 0x00000010u
#define SMFIP_NOHDRS 0x00000020u
#define SMFIP_NOEOH 0x00000040u
#define SMFIP_NR_HDR 0x00000080u
#define SMFIP_NOUNKNOWN 0x00000100u
#define SMFIP_NODATA 0x00000200u
#define SMFIP_SKIP 0x00000400u
#define SMFIP_RCPT_REJ 0x00000800u
#define SMFIP_NR_CONN 0x00001000u
#define SMFIP_NR_HELO 0x00002000u
#define SMFIP_NR_MAIL 0x00004000u
#define SMFIP_NR_RCPT 0x00008000u
#define SMFIP_NR_DATA 0x00010000u
#define SMFIP_NR_UNKN 0x00020000u
#define SMFIP_NR_EOH 0x00040000u
#define SMFIP_NR_BODY 0x00080000u
#define SMFIP_HDR_LEADSPC 0x00100000u

#define MC_ALL_ACTIONS 0x000001FFu   /* SMFIF_ADDHDRS .. SMFIF_SETSYMLIST */
#define MC_ALL_PROTOCOL 0x001FFFFFu  /* what Postfix 3.x offers for v6 */

/* Macro stages of the SETSYMLIST data in the OPTNEG reply. */
enum { ST_CONNECT, ST_HELO, ST_MAIL, ST_RCPT, ST_DATA, ST_EOM, ST_EOH, ST_MAX };
static const char *const stage_names[ST_MAX] = {
    "connect", "helo", "mail", "rcpt", "data", "eom", "eoh"};

#define MC_CHUNK 65535                 /* body chunk size, as Postfix */
#define MC_MAX_PACKET (64u << 20)      /* refuse replies larger than this */
#define MC_HEADER_LIMIT 102400         /* Postfix header_size_limit */
#define MC_OUTBUF_FLUSH 65536          /* flush queued packets beyond this */

/* ---- small utilities ------------------------------------------------- */

static int g_verbose;

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL) {
        fprintf(stderr, "ERROR out of memory\n");
        exit(1);
    }
    return q;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xrealloc(NULL, n), s, n);
}

struct buf {
    unsigned char *p;
    size_t len, cap;
};

static void buf_reserve(struct buf *b, size_t extra)
{
    if (extra > SIZE_MAX / 2 - b->len) {
        fprintf(stderr, "ERROR buffer size overflow\n");
        exit(1);
    }
    if (b->len + extra <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra)
        cap *= 2;
    b->p = xrealloc(b->p, cap);
    b->cap = cap;
}

static void buf_add(struct buf *b, const void *d, size_t n)
{
    buf_reserve(b, n);
    if (n)
        memcpy(b->p + b->len, d, n);
    b->len += n;
}

static void buf_addc(struct buf *b, int c)
{
    unsigned char ch = (unsigned char)c;
    buf_add(b, &ch, 1);
}

/* Adds a string and its terminating NUL. */
static void buf_adds(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s) + 1);
}

static void buf_add32(struct buf *b, uint32_t v)
{
    unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    buf_add(b, x, 4);
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

static void buf_free(struct buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Prints bytes so that the result stays on one line: \n and \r escaped. */
static void put_escaped(FILE *fp, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            fputs("\\n", fp);
        else if (s[i] == '\r')
            fputs("\\r", fp);
        else
            putc(s[i], fp);
    }
}

/* Debug dump of a packet for -v: printable preview of the data. */
static void dump_packet(const char *dir, int cmd, const unsigned char *d, size_t n)
{
    if (!g_verbose)
        return;
    fprintf(stderr, "miltc: %s '%c' %zu bytes", dir, cmd, n);
    if (n) {
        fputs(" \"", stderr);
        size_t lim = n > 160 ? 160 : n;
        for (size_t i = 0; i < lim; i++) {
            unsigned char c = d[i];
            if (c == 0)
                fputs("\\0", stderr);
            else if (c == '\\')
                fputs("\\\\", stderr);
            else if (c >= 0x20 && c < 0x7f)
                putc(c, stderr);
            else
                fprintf(stderr, "\\x%02x", c);
        }
        fputs(lim < n ? "\"..." : "\"", stderr);
    }
    putc('\n', stderr);
}

/* ---- the protocol connection ----------------------------------------- */

struct mc_conn {
    int fd;
    int timeout_ms;          /* per reply; <= 0: wait forever */
    uint32_t offered_proto;  /* what we offered */
    uint32_t version;        /* milter's OPTNEG reply */
    uint32_t actions;
    uint32_t proto;
    uint32_t np_mask;        /* steps the milter's protocol version lacks */
    char *symlist[ST_MAX];   /* macro names requested per stage, or NULL */
    int skip_event;          /* SMFIR_SKIP'd event type, or 0 */
    int nr_sent;             /* no-reply packets sent since the last reply */
    struct buf out;          /* queued outgoing packets */
    struct buf in;           /* incoming bytes */
    size_t in_off;           /* consumed part of in */
    struct buf text;         /* text of the last REPLYCODE/QUARANTINE */
    char err[512];
};

static int mc_fail(struct mc_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int mc_fail(struct mc_conn *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    return -1;
}

static void mc_init(struct mc_conn *c, int timeout_secs)
{
    memset(c, 0, sizeof *c);
    c->fd = -1;
    c->timeout_ms = timeout_secs > 0 ? timeout_secs * 1000 : 0;
}

static void mc_close(struct mc_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static void mc_free(struct mc_conn *c)
{
    mc_close(c);
    for (int i = 0; i < ST_MAX; i++)
        free(c->symlist[i]);
    buf_free(&c->out);
    buf_free(&c->in);
    buf_free(&c->text);
}

static void set_timeouts(int fd, int timeout_ms)
{
    if (timeout_ms <= 0)
        return;
    struct timeval tv = {.tv_sec = timeout_ms / 1000,
                         .tv_usec = (timeout_ms % 1000) * 1000};
    /* SO_SNDTIMEO also bounds connect() on Linux. */
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* Connects to SOCKET (see the usage); 0 or -1 with c->err set. */
static int mc_connect(struct mc_conn *c, const char *spec)
{
    const char *path = NULL;
    int family = AF_UNSPEC;

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
        struct sockaddr_un sun;
        memset(&sun, 0, sizeof sun);
        sun.sun_family = AF_UNIX;
        if (strlen(path) >= sizeof sun.sun_path)
            return mc_fail(c, "socket path too long: %s", path);
        memcpy(sun.sun_path, path, strlen(path) + 1);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return mc_fail(c, "socket: %s", strerror(errno));
        set_timeouts(fd, c->timeout_ms);
        if (connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
            int e = errno;
            close(fd);
            return mc_fail(c, "connect to %s: %s", path, strerror(e));
        }
        c->fd = fd;
        return 0;
    }

    /* inet:PORT@HOST, inet6:PORT@HOST, or inet:HOST:PORT */
    char tmp[512];
    const char *rest = strchr(spec, ':') + 1;
    if (strlen(rest) >= sizeof tmp)
        return mc_fail(c, "bad socket: %s", spec);
    strcpy(tmp, rest);
    char *host, *port, *at = strchr(tmp, '@');
    if (at) {
        *at = 0;
        port = tmp;
        host = at + 1;
    } else {
        char *colon = strrchr(tmp, ':');
        if (colon == NULL)
            return mc_fail(c, "bad socket (want PORT@HOST): %s", spec);
        *colon = 0;
        host = tmp;
        port = colon + 1;
    }
    size_t hl = strlen(host);
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        host[hl - 1] = 0;
        host++;
    }
    if (*host == 0)
        host = family == AF_INET6 ? "::1" : "127.0.0.1";

    struct addrinfo hints, *res, *ai;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0)
        return mc_fail(c, "%s: %s", spec, gai_strerror(rc));
    int fd = -1, e = 0;
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            e = errno;
            continue;
        }
        set_timeouts(fd, c->timeout_ms);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        e = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return mc_fail(c, "connect to %s: %s", spec, strerror(e));
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->fd = fd;
    return 0;
}

/* Writes iovecs completely (handles short writes); 0 or -1. */
static int mc_writev(struct mc_conn *c, struct iovec *iov, int n)
{
    while (n > 0) {
        struct msghdr mh;
        memset(&mh, 0, sizeof mh);
        mh.msg_iov = iov;
        mh.msg_iovlen = (size_t)n;
        ssize_t w = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return mc_fail(c, "timeout writing to milter");
            return mc_fail(c, "write to milter: %s", strerror(errno));
        }
        size_t left = (size_t)w;
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

/* Sends the queued packets. */
static int mc_flush(struct mc_conn *c)
{
    if (c->out.len == 0)
        return 0;
    struct iovec iov = {c->out.p, c->out.len};
    int rc = mc_writev(c, &iov, 1);
    c->out.len = 0;
    return rc;
}

/*
 * Queues one packet: 4-byte length, command, data.  Small packets collect in
 * the output buffer (one write for many no-reply packets); large ones go out
 * at once with the pending ones in a single writev, without a copy.
 */
static int mc_send(struct mc_conn *c, int cmd, const void *data, size_t len)
{
    if (len > UINT32_MAX - 1)
        return mc_fail(c, "packet too large (%zu bytes)", len);
    dump_packet(">", cmd, data, len);
    unsigned char hdr[5];
    uint32_t plen = (uint32_t)len + 1;
    hdr[0] = (unsigned char)(plen >> 24);
    hdr[1] = (unsigned char)(plen >> 16);
    hdr[2] = (unsigned char)(plen >> 8);
    hdr[3] = (unsigned char)plen;
    hdr[4] = (unsigned char)cmd;
    if (len >= 16384) {
        struct iovec iov[3];
        int n = 0;
        if (c->out.len) {
            iov[n].iov_base = c->out.p;
            iov[n++].iov_len = c->out.len;
        }
        iov[n].iov_base = hdr;
        iov[n++].iov_len = sizeof hdr;
        iov[n].iov_base = (void *)(uintptr_t)data;
        iov[n++].iov_len = len;
        c->out.len = 0;
        return mc_writev(c, iov, n);
    }
    buf_add(&c->out, hdr, sizeof hdr);
    buf_add(&c->out, data, len);
    return c->out.len >= MC_OUTBUF_FLUSH ? mc_flush(c) : 0;
}

/* Makes at least `need` unread bytes available in c->in, until deadline. */
static int mc_fill(struct mc_conn *c, size_t need, long long deadline)
{
    while (c->in.len - c->in_off < need) {
        if (c->in_off > 0) { /* compact */
            memmove(c->in.p, c->in.p + c->in_off, c->in.len - c->in_off);
            c->in.len -= c->in_off;
            c->in_off = 0;
        }
        size_t want = need > 65536 ? need : 65536;
        buf_reserve(&c->in, want - c->in.len);
        int wait = -1;
        if (deadline > 0) {
            long long left = deadline - now_ms();
            if (left <= 0)
                return mc_fail(c, "timeout waiting for the milter's reply");
            wait = left > 0x7fffffff ? 0x7fffffff : (int)left;
        }
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        int pr = poll(&pfd, 1, wait);
        if (pr < 0) {
            if (errno == EINTR)
                continue;
            return mc_fail(c, "poll: %s", strerror(errno));
        }
        if (pr == 0)
            return mc_fail(c, "timeout waiting for the milter's reply");
        ssize_t r = read(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len);
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return mc_fail(c, "read from milter: %s", strerror(errno));
        }
        if (r == 0)
            return mc_fail(c, "milter closed the connection");
        c->in.len += (size_t)r;
    }
    return 0;
}

struct mc_pkt {
    int cmd;
    const unsigned char *data; /* valid until the next read */
    size_t len;
};

/* Reads one packet from the milter (flushing queued output first). */
static int mc_read(struct mc_conn *c, struct mc_pkt *pkt)
{
    if (mc_flush(c) < 0)
        return -1;
    long long deadline = c->timeout_ms > 0 ? now_ms() + c->timeout_ms : 0;
    if (mc_fill(c, 5, deadline) < 0)
        return -1;
    uint32_t plen = get32(c->in.p + c->in_off);
    if (plen < 1)
        return mc_fail(c, "protocol: bad packet length 0");
    if (plen > MC_MAX_PACKET)
        return mc_fail(c, "protocol: unreasonable packet length %lu",
                       (unsigned long)plen);
    if (mc_fill(c, 4 + (size_t)plen, deadline) < 0)
        return -1;
    pkt->cmd = c->in.p[c->in_off + 4];
    pkt->data = c->in.p + c->in_off + 5;
    pkt->len = plen - 1;
    c->in_off += 4 + (size_t)plen;
    if (c->in_off == c->in.len)
        c->in_off = c->in.len = 0;
    dump_packet("<", pkt->cmd, pkt->data, pkt->len);
    c->nr_sent = 0;
    return 0;
}

/* Is the macro name `name` in the space-separated list (braces optional)? */
static int symlist_has(const char *list, const char *name)
{
    size_t nl = strlen(name);
    if (nl >= 2 && name[0] == '{' && name[nl - 1] == '}') {
        name++;
        nl -= 2;
    }
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        const char *s = p;
        while (*p && *p != ' ' && *p != ',' && *p != '\t')
            p++;
        size_t l = (size_t)(p - s);
        if (l >= 2 && s[0] == '{' && s[l - 1] == '}') {
            s++;
            l -= 2;
        }
        if (l == nl && l > 0 && memcmp(s, name, l) == 0)
            return 1;
    }
    return 0;
}

/*
 * Option negotiation: offers version 6, `actions` and `proto`; reads the
 * milter's version, actions, protocol and optional macro lists.
 */
static int mc_negotiate(struct mc_conn *c, uint32_t actions, uint32_t proto)
{
    struct buf b = {0};
    buf_add32(&b, MC_VERSION);
    buf_add32(&b, actions);
    buf_add32(&b, proto);
    int rc = mc_send(c, SMFIC_OPTNEG, b.p, b.len);
    buf_free(&b);
    if (rc < 0)
        return -1;
    c->offered_proto = proto;

    struct mc_pkt pkt;
    if (mc_read(c, &pkt) < 0)
        return -1;
    if (pkt.cmd != SMFIC_OPTNEG)
        return mc_fail(c, "protocol: reply '%c' to OPTNEG", pkt.cmd);
    if (pkt.len < 12)
        return mc_fail(c, "protocol: OPTNEG reply too short (%zu bytes)", pkt.len);
    c->version = get32(pkt.data);
    c->actions = get32(pkt.data + 4);
    c->proto = get32(pkt.data + 8);
    if (c->version > MC_VERSION || c->version < 2)
        return mc_fail(c, "protocol: milter version %lu, we speak %d",
                       (unsigned long)c->version, MC_VERSION);
    if ((c->actions & actions) != c->actions)
        return mc_fail(c, "protocol: milter wants actions 0x%lx, offered 0x%lx",
                       (unsigned long)c->actions, (unsigned long)actions);
    /* Steps an older protocol version does not know (as Postfix). */
    if (c->version < 4)
        c->np_mask |= SMFIP_NODATA;

    const unsigned char *p = pkt.data + 12, *end = pkt.data + pkt.len;
    while (p < end) {
        if (end - p < 5)
            return mc_fail(c, "protocol: truncated macro list in OPTNEG reply");
        uint32_t st = get32(p);
        p += 4;
        const unsigned char *nul = memchr(p, 0, (size_t)(end - p));
        if (nul == NULL)
            return mc_fail(c, "protocol: unterminated macro list in OPTNEG reply");
        if (st < ST_MAX) {
            free(c->symlist[st]);
            c->symlist[st] = xstrdup((const char *)p);
        } else {
            fprintf(stderr, "miltc: warning: ignoring macro list for unknown stage %lu\n",
                    (unsigned long)st);
        }
        p = nul + 1;
    }
    return 0;
}

struct macro {
    const char *name;
    const char *value;
};

/* Sends SMFIC_MACRO for command `cmd` (stage `st`), filtered by symlist. */
static int mc_send_macros(struct mc_conn *c, int cmd, int st,
                          const struct macro *m, size_t n)
{
    struct buf b = {0};
    buf_addc(&b, cmd);
    for (size_t i = 0; i < n; i++) {
        if (m[i].value == NULL)
            continue;
        if (c->symlist[st] && !symlist_has(c->symlist[st], m[i].name))
            continue;
        buf_adds(&b, m[i].name);
        buf_adds(&b, m[i].value);
    }
    /* sent even when no macro has a value, as Postfix does */
    int rc = mc_send(c, SMFIC_MACRO, b.p, b.len);
    buf_free(&b);
    return rc;
}

/* Results of one step. */
enum mc_verdict {
    V_CONTINUE,  /* go on (also: no reply expected, or step not sent) */
    V_ACCEPT,
    V_REJECT,
    V_TEMPFAIL,
    V_DISCARD,
    V_REPLYCODE, /* text in c->text */
    V_SKIP,
    V_SHUTDOWN,
};

static const char *const verdict_names[] = {
    "CONTINUE", "ACCEPT", "REJECT", "TEMPFAIL", "DISCARD", "REPLYCODE", "SKIP",
    "SHUTDOWN"};

/* What to do with modification requests and progress: print them. */
struct mc_report {
    const char *prefix;
};

static void report_line(const struct mc_report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void report_line(const struct mc_report *r, const char *fmt, ...)
{
    va_list ap;
    fputs(r->prefix, stdout);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
}

/* Splits packet data into NUL-terminated strings; returns count or -1. */
static int split_strings(const struct mc_pkt *pkt, size_t off, const char **s,
                         int max)
{
    int n = 0;
    size_t i = off;
    while (i < pkt->len) {
        const unsigned char *nul = memchr(pkt->data + i, 0, pkt->len - i);
        if (nul == NULL || n == max)
            return -1;
        s[n++] = (const char *)pkt->data + i;
        i = (size_t)(nul - pkt->data) + 1;
    }
    return n;
}

static void report_header(const struct mc_report *r, const char *what,
                          const long *idx, const char *name, const char *value)
{
    fputs(r->prefix, stdout);
    fputs(what, stdout);
    if (idx)
        printf(" %ld", *idx);
    putchar(' ');
    put_escaped(stdout, name, strlen(name));
    fputs(": ", stdout);
    put_escaped(stdout, value, strlen(value));
    putchar('\n');
}

static uint32_t no_flag(int cmd)
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

static uint32_t nr_flag(int cmd)
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

/*
 * Reads replies to one command until a decision.  Modification requests are
 * only legal after end of message (as in Postfix); quarantine and progress
 * anywhere.  Returns a verdict or -1.
 */
static int mc_reply_loop(struct mc_conn *c, int cmd, const struct mc_report *r)
{
    unsigned long long replbody = 0;
    int in_replbody = 0;
    for (;;) {
        struct mc_pkt pkt;
        if (mc_read(c, &pkt) < 0)
            return -1;
        if (in_replbody && pkt.cmd != SMFIR_REPLBODY) {
            report_line(r, "REPLACEBODY %llu\n", replbody);
            in_replbody = 0;
            replbody = 0;
        }
        int v = -1;
        switch (pkt.cmd) {
        case SMFIR_PROGRESS: report_line(r, "PROGRESS\n"); continue;
        case SMFIR_CONTINUE: v = V_CONTINUE; break;
        case SMFIR_ACCEPT: v = V_ACCEPT; break;
        case SMFIR_REJECT: v = V_REJECT; break;
        case SMFIR_TEMPFAIL: v = V_TEMPFAIL; break;
        case SMFIR_DISCARD: v = V_DISCARD; break;
        case SMFIR_SKIP: v = V_SKIP; break;
        case SMFIR_SHUTDOWN: v = V_SHUTDOWN; break;
        default: break;
        }
        if (v >= 0) {
            if (pkt.len != 0)
                return mc_fail(c, "protocol: reply '%c' with %zu data bytes",
                               pkt.cmd, pkt.len);
            return v;
        }
        if (pkt.cmd == SMFIR_REPLYCODE || pkt.cmd == SMFIR_QUARANTINE) {
            c->text.len = 0;
            buf_add(&c->text, pkt.data, pkt.len);
            /* the text normally ends with a NUL; keep it a C string */
            if (c->text.len == 0 || c->text.p[c->text.len - 1] != 0)
                buf_addc(&c->text, 0);
            const char *t = (const char *)c->text.p;
            if (pkt.cmd == SMFIR_QUARANTINE) {
                fputs(r->prefix, stdout);
                fputs("QUARANTINE ", stdout);
                put_escaped(stdout, t, strlen(t));
                putchar('\n');
                continue;
            }
            if ((t[0] != '4' && t[0] != '5') || t[1] < '0' || t[1] > '9' ||
                t[2] < '0' || t[2] > '9' || (t[3] != ' ' && t[3] != '-'))
                return mc_fail(c, "protocol: malformed reply code \"%.100s\"", t);
            return V_REPLYCODE;
        }
        if (cmd != SMFIC_BODYEOB)
            return mc_fail(c, "protocol: unexpected reply '%c' (%zu bytes) "
                           "before end of message", pkt.cmd, pkt.len);

        const char *s[3];
        int ns;
        long idx;
        switch (pkt.cmd) {
        case SMFIR_ADDHEADER:
            if (split_strings(&pkt, 0, s, 3) != 2)
                return mc_fail(c, "protocol: malformed ADDHEADER");
            report_header(r, "ADDHEADER", NULL, s[0], s[1]);
            break;
        case SMFIR_INSHEADER:
        case SMFIR_CHGHEADER:
            if (pkt.len < 4 || split_strings(&pkt, 4, s, 3) != 2)
                return mc_fail(c, "protocol: malformed %s",
                               pkt.cmd == SMFIR_INSHEADER ? "INSHEADER" : "CHGHEADER");
            idx = (long)get32(pkt.data);
            report_header(r, pkt.cmd == SMFIR_INSHEADER ? "INSHEADER" : "CHGHEADER",
                          &idx, s[0], s[1]);
            break;
        case SMFIR_ADDRCPT:
        case SMFIR_DELRCPT:
        case SMFIR_ADDRCPT_PAR:
        case SMFIR_CHGFROM:
            ns = split_strings(&pkt, 0, s, 3);
            if (ns < 1 || ns > 2 ||
                ((pkt.cmd == SMFIR_ADDRCPT || pkt.cmd == SMFIR_DELRCPT) && ns != 1))
                return mc_fail(c, "protocol: malformed '%c' request", pkt.cmd);
            fputs(r->prefix, stdout);
            fputs(pkt.cmd == SMFIR_CHGFROM ? "CHGFROM " :
                  pkt.cmd == SMFIR_DELRCPT ? "DELRCPT " : "ADDRCPT ", stdout);
            put_escaped(stdout, s[0], strlen(s[0]));
            if (ns == 2 && s[1][0]) {
                putchar(' ');
                put_escaped(stdout, s[1], strlen(s[1]));
            }
            putchar('\n');
            break;
        case SMFIR_REPLBODY:
            in_replbody = 1;
            replbody += pkt.len;
            break;
        default:
            return mc_fail(c, "protocol: unexpected reply '%c' (%zu bytes) "
                           "at end of message", pkt.cmd, pkt.len);
        }
    }
}

/*
 * One protocol step, Postfix style: skip it after SMFIR_SKIP for the same
 * event type; send its macros (even when the milter asked not to get the
 * step); send the command unless SMFIP_NO*; read the reply unless SMFIP_NR_*.
 * Returns a verdict (V_CONTINUE when nothing was asked) or -1.
 */
static int mc_event(struct mc_conn *c, int cmd, int st, const struct macro *m,
                    size_t nm, const void *data, size_t len,
                    const struct mc_report *r)
{
    if (no_flag(cmd) & c->np_mask)
        return V_CONTINUE;
    if (c->skip_event) {
        if (c->skip_event == cmd)
            return V_CONTINUE;
        c->skip_event = 0;
    }
    if (m && mc_send_macros(c, cmd, st, m, nm) < 0)
        return -1;
    if (no_flag(cmd) & c->proto)
        return V_CONTINUE;
    if (nr_flag(cmd) & c->proto) {
        if (mc_send(c, cmd, data, len) < 0)
            return -1;
        c->nr_sent++;
        return V_CONTINUE;
    }
    if (c->nr_sent) {
        /* A milter that answers a no-reply step desynchronises Postfix: the
         * answer is taken as the reply to this step.  Say so; go on as Postfix. */
        if (mc_flush(c) < 0)
            return -1;
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        if (c->in.len > c->in_off ||
            (poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN))) {
            fprintf(stderr, "miltc: warning: data from the milter before '%c' "
                    "was sent: a reply to a no-reply step?\n", cmd);
        }
    }
    if (mc_send(c, cmd, data, len) < 0)
        return -1;
    int v = mc_reply_loop(c, cmd, r);
    if (v == V_SKIP)
        c->skip_event = cmd;
    return v;
}

/* Sends a command that has no reply (ABORT, QUIT). */
static int mc_send_noreply(struct mc_conn *c, int cmd)
{
    if (mc_send(c, cmd, NULL, 0) < 0)
        return -1;
    return mc_flush(c);
}

/*
 * After QUIT: a milter has nothing more to say and libmilter closes the
 * connection.  Anything still arriving answered a step that wanted no reply
 * (or came twice), which desynchronises Postfix.  Waits at most 1 s for EOF.
 */
static int mc_drain(struct mc_conn *c)
{
    int saved = c->timeout_ms, extra = 0, first = 0;
    c->timeout_ms = saved > 0 && saved < 1000 ? saved : 1000;
    for (;;) {
        struct mc_pkt pkt;
        if (mc_read(c, &pkt) < 0)
            break;              /* EOF (expected), timeout or error */
        if (extra++ == 0)
            first = pkt.cmd;
    }
    c->timeout_ms = saved;
    if (extra)
        return mc_fail(c, "protocol: %d unexpected packet(s) from the milter "
                       "after QUIT (first '%c'): replies to no-reply steps?",
                       extra, first);
    return 0;
}

/* ---- the session: options and messages ------------------------------- */

struct opts {
    const char *sock;
    const char *client_ip;
    const char *client_name;
    const char *helo;
    const char *from;
    const char **rcpts;
    size_t nrcpts;
    const char *auth;
    const char *qid;
    int timeout;
    int raw;
    int no_leadspc;
};

/* Connection-level state. */
struct session {
    struct mc_conn c;
    const struct opts *o;
    int closed;             /* the milter stream is gone */
    char *conn_verdict;     /* verdict line that applies to every message */
    int error;
};

static void print_verdict(const struct mc_report *r, struct mc_conn *c, int v,
                          const char *step)
{
    fputs(r->prefix, stdout);
    fputs(verdict_names[v], stdout);
    if (v == V_REPLYCODE) {
        const char *t = (const char *)c->text.p;
        putchar(' ');
        put_escaped(stdout, t, strlen(t));
    }
    if (step)
        printf(" at %s", step);
    putchar('\n');
}

/* Builds "VERDICT[ text] at step" for the connection-level verdict. */
static char *verdict_string(struct mc_conn *c, int v, const char *step)
{
    char *s = NULL;
    size_t n = 0;
    FILE *fp = open_memstream(&s, &n);
    if (fp == NULL) {
        fprintf(stderr, "ERROR out of memory\n");
        exit(1);
    }
    fputs(verdict_names[v], fp);
    if (v == V_REPLYCODE) {
        const char *t = (const char *)c->text.p;
        putc(' ', fp);
        put_escaped(fp, t, strlen(t));
    }
    fprintf(fp, " at %s", step);
    fclose(fp);
    return s;
}

/* Strips one pair of <> around an address; returns a new string. */
static char *bare_addr(const char *a)
{
    size_t n = strlen(a);
    if (n >= 2 && a[0] == '<' && a[n - 1] == '>') {
        char *s = xrealloc(NULL, n - 1);
        memcpy(s, a + 1, n - 2);
        s[n - 2] = 0;
        return s;
    }
    return xstrdup(a);
}

static char *bracket_addr(const char *bare)
{
    size_t n = strlen(bare);
    char *s = xrealloc(NULL, n + 3);
    s[0] = '<';
    memcpy(s + 1, bare, n);
    s[n + 1] = '>';
    s[n + 2] = 0;
    return s;
}

/* CONNECT and HELO, once per connection. */
static int session_start(struct session *s, const struct mc_report *r)
{
    const struct opts *o = s->o;
    struct mc_conn *c = &s->c;
    int v6 = strchr(o->client_ip, ':') != NULL;
    char under[1024];
    snprintf(under, sizeof under, "%s [%s]", o->client_name, o->client_ip);
    struct macro cm[] = {
        {"j", "mx.test"},
        {"{daemon_name}", "miltc"},
        {"{client_addr}", o->client_ip},
        {"{client_name}", o->client_name},
        {"_", under},
    };
    /* hostname, family, port (network order), address */
    struct buf b = {0};
    if (strcmp(o->client_name, "unknown") == 0) {
        char bracket[512];
        snprintf(bracket, sizeof bracket, "[%s]", o->client_ip);
        buf_adds(&b, bracket);
    } else {
        buf_adds(&b, o->client_name);
    }
    buf_addc(&b, v6 ? '6' : '4');
    buf_addc(&b, 54321 >> 8);
    buf_addc(&b, 54321 & 0xff);
    buf_adds(&b, o->client_ip);
    int v = mc_event(c, SMFIC_CONNECT, ST_CONNECT, cm, sizeof cm / sizeof cm[0],
                     b.p, b.len, r);
    buf_free(&b);
    const char *step = "connect";
    if (v == V_CONTINUE || v == V_SKIP || v == V_DISCARD) {
        if (v == V_DISCARD)
            fprintf(stderr, "miltc: warning: DISCARD at connect ignored (as Postfix)\n");
        b = (struct buf){0};
        buf_adds(&b, o->helo);
        static const struct macro no_macros[1] = {{"", NULL}};
        v = mc_event(c, SMFIC_HELO, ST_HELO, no_macros, 0, b.p, b.len, r);
        buf_free(&b);
        step = "helo";
        if (v == V_DISCARD) {
            fprintf(stderr, "miltc: warning: DISCARD at helo ignored (as Postfix)\n");
            v = V_CONTINUE;
        }
    }
    if (v < 0)
        return -1;
    if (v == V_CONTINUE || v == V_SKIP)
        return 0;
    /* ACCEPT, REJECT, TEMPFAIL, REPLYCODE, SHUTDOWN: for the whole connection;
     * Postfix closes the milter stream without QUIT. */
    s->conn_verdict = verdict_string(c, v, step);
    s->closed = 1;
    mc_close(c);
    return 0;
}

/* ---- message reading and feeding ------------------------------------- */

struct body_sink {
    struct session *s;
    const struct mc_report *r;
    const struct macro *m;   /* end-of-message macros */
    size_t nm;
    unsigned char *chunk;
    size_t len;
    int raw;
    int line_open;           /* bytes of an unterminated line were sent */
    size_t pending_cr;       /* CRs not yet known to be trailing or not */
    unsigned long long total;
    int verdict;             /* V_CONTINUE while the body goes on */
    int skipped;             /* SMFIR_SKIP: send no more body chunks */
};

static int body_flush(struct body_sink *b)
{
    if (b->len == 0)
        return 0;
    int v = mc_event(&b->s->c, SMFIC_BODY, ST_EOM, b->m, b->nm, b->chunk, b->len, b->r);
    b->len = 0;
    if (v < 0)
        return -1;
    if (v == V_SKIP)
        b->skipped = 1;
    else if (v != V_CONTINUE)
        b->verdict = v;
    return 0;
}

static int body_append(struct body_sink *b, const unsigned char *p, size_t n)
{
    while (n > 0 && b->verdict == V_CONTINUE && !b->skipped) {
        size_t room = MC_CHUNK - b->len;
        size_t k = n < room ? n : room;
        memcpy(b->chunk + b->len, p, k);
        b->len += k;
        b->total += k;
        p += k;
        n -= k;
        if (b->len == MC_CHUNK && body_flush(b) < 0)
            return -1;
    }
    return 0;
}

/* Emits the CRs held back inside a line: Postfix turns them into spaces. */
static int body_pending_cr(struct body_sink *b)
{
    static const unsigned char sp[64] = {
        ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
        ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
        ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
        ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
    while (b->pending_cr > 0) {
        size_t k = b->pending_cr < sizeof sp ? b->pending_cr : sizeof sp;
        if (body_append(b, sp, k) < 0)
            return -1;
        b->pending_cr -= k;
    }
    return 0;
}

/*
 * Feeds body bytes.  --raw: as they are.  Otherwise as Postfix 3.7 passes
 * them on (observed): a line ends at LF, CRs at the end of a line are
 * dropped, other CRs become spaces, every line ends with CRLF.
 */
static int body_put(struct body_sink *b, const unsigned char *p, size_t n)
{
    if (n == 0)
        return 0;
    if (b->raw)
        return body_append(b, p, n);
    while (n > 0 && b->verdict == V_CONTINUE && !b->skipped) {
        const unsigned char *nl = memchr(p, '\n', n);
        const unsigned char *q = p, *end = nl ? nl : p + n;
        while (q < end) {
            const unsigned char *cr = memchr(q, '\r', (size_t)(end - q));
            size_t k = cr ? (size_t)(cr - q) : (size_t)(end - q);
            if (k) {
                if (body_pending_cr(b) < 0 || body_append(b, q, k) < 0)
                    return -1;
                b->line_open = 1;
            }
            if (cr == NULL)
                break;
            b->pending_cr++;
            q = cr + 1;
        }
        if (nl == NULL)
            break;
        b->pending_cr = 0;
        b->line_open = 0;
        if (body_append(b, (const unsigned char *)"\r\n", 2) < 0)
            return -1;
        n -= (size_t)(nl - p) + 1;
        p = nl + 1;
    }
    return 0;
}

static int body_finish(struct body_sink *b)
{
    if (b->verdict != V_CONTINUE || b->skipped)
        return 0;
    /* an unterminated last line is terminated, as SMTP would */
    if (!b->raw && (b->line_open || b->pending_cr) &&
        body_append(b, (const unsigned char *)"\r\n", 2) < 0)
        return -1;
    return body_flush(b);
}

/* Postfix is_header(): label of printable ASCII but ':' and space, optional
 * blanks, then ':'.  Returns the label length or 0. */
static size_t header_label(const char *l, size_t n)
{
    size_t i = 0;
    while (i < n && (unsigned char)l[i] > 32 && (unsigned char)l[i] < 127 && l[i] != ':')
        i++;
    if (i == 0)
        return 0;
    size_t j = i;
    while (j < n && (l[j] == ' ' || l[j] == '\t'))
        j++;
    return j < n && l[j] == ':' ? i : 0;
}

/*
 * Returns the length of a header-section line without its line end.  --raw:
 * the line end is LF or CRLF, the rest is kept.  Otherwise, as Postfix 3.7
 * (observed): all CRs before the LF go, and other CRs become spaces (in place).
 */
static size_t clean_line(char *l, size_t n, int raw)
{
    if (n && l[n - 1] == '\n')
        n--;
    if (raw) {
        if (n && l[n - 1] == '\r')
            n--;
        return n;
    }
    while (n && l[n - 1] == '\r')
        n--;
    for (char *cr = memchr(l, '\r', n); cr; cr = memchr(cr, '\r', n - (size_t)(cr - l)))
        *cr = ' ';
    return n;
}

/* Sends one header field held in `h` ("Name: value\n continuation..."). */
static int send_header(struct session *s, const struct mc_report *r,
                       struct buf *h, const struct macro *m, size_t nm)
{
    const char *f = (const char *)h->p;
    size_t n = h->len;
    size_t lab = header_label(f, n);
    size_t colon = lab;
    while (f[colon] != ':')
        colon++;
    const char *val = f + colon + 1;
    size_t vlen = n - colon - 1;
    /* Postfix cuts a header field at header_size_limit */
    if (!s->o->raw && n > MC_HEADER_LIMIT)
        vlen = colon + 1 < MC_HEADER_LIMIT ? MC_HEADER_LIMIT - colon - 1 : 0;
    const char *nul = memchr(val, 0, vlen);
    if (nul)
        vlen = (size_t)(nul - val);
    if (!(s->c.proto & SMFIP_HDR_LEADSPC) && vlen && val[0] == ' ') {
        val++;
        vlen--;
    }
    struct buf b = {0};
    buf_add(&b, f, lab);
    buf_addc(&b, 0);
    buf_add(&b, val, vlen);
    buf_addc(&b, 0);
    int v = mc_event(&s->c, SMFIC_HEADER, ST_EOH, m, nm, b.p, b.len, r);
    buf_free(&b);
    return v;
}

/*
 * Sends one message's content: headers, EOH, body, end of message.  Stops at
 * the first verdict.  Returns a verdict and sets *step, or -1.
 */
static int send_content(struct session *s, const struct mc_report *r, FILE *fp,
                        const struct macro *m, size_t nm, const char **step)
{
    struct mc_conn *c = &s->c;
    struct buf hdr = {0};
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int v = V_CONTINUE;
    int have = 0;       /* a header field is pending in hdr */
    int in_body = 0;
    struct body_sink b = {.s = s, .r = r, .m = m, .nm = nm, .raw = s->o->raw,
                          .verdict = V_CONTINUE};
    size_t clen = 0;
    b.chunk = xrealloc(NULL, MC_CHUNK);
    unsigned char *rbuf = NULL;

    *step = "header";
    while (!in_body && (n = getdelim(&line, &cap, '\n', fp)) > 0) {
        clen = clean_line(line, (size_t)n, s->o->raw);
        if (have && (line[0] == ' ' || line[0] == '\t')) {
            buf_addc(&hdr, '\n');
            buf_add(&hdr, line, clen);
            continue;
        }
        if (have) {
            have = 0;
            if ((v = send_header(s, r, &hdr, m, nm)) != V_CONTINUE && v != V_SKIP)
                goto out;
        }
        if (clen == 0) {
            in_body = 1;            /* the separator line itself is not sent */
        } else if (header_label(line, clen)) {
            hdr.len = 0;
            buf_add(&hdr, line, clen);
            have = 1;
        } else {
            in_body = 2;            /* this line starts the body */
        }
    }
    if (ferror(fp))
        goto readerr;
    if (have && (v = send_header(s, r, &hdr, m, nm)) != V_CONTINUE && v != V_SKIP)
        goto out;

    *step = "eoh";
    v = mc_event(c, SMFIC_EOH, ST_EOH, m, nm, NULL, 0, r);
    if (v != V_CONTINUE && v != V_SKIP)
        goto out;

    *step = "body";
    if (in_body == 2) {
        /* the line that ended the headers, with its line end */
        size_t len = s->o->raw ? (size_t)n : clen;
        if (body_put(&b, (unsigned char *)line, len) < 0 ||
            (!s->o->raw && line[n - 1] == '\n' &&
             body_put(&b, (const unsigned char *)"\n", 1) < 0)) {
            v = -1;
            goto out;
        }
    }
    if (in_body) {
        size_t got;
        rbuf = xrealloc(NULL, 1 << 16);
        while (b.verdict == V_CONTINUE && !b.skipped &&
               (got = fread(rbuf, 1, 1 << 16, fp)) > 0) {
            if (body_put(&b, rbuf, got) < 0) {
                v = -1;
                goto out;
            }
        }
        if (ferror(fp))
            goto readerr;
    }
    if (body_finish(&b) < 0) {
        v = -1;
        goto out;
    }
    if (b.verdict != V_CONTINUE) {
        v = b.verdict;
        goto out;
    }

    *step = NULL;
    v = mc_event(c, SMFIC_BODYEOB, ST_EOM, m, nm, NULL, 0, r);
    goto out;

readerr:
    v = mc_fail(c, "reading message: %s", strerror(errno));
out:
    free(line);
    free(rbuf);
    free(b.chunk);
    buf_free(&hdr);
    return v;
}

/* One message: MAIL, RCPT..., DATA, content.  0, or -1 on error. */
static int run_message(struct session *s, const struct mc_report *r,
                       const char *file, const char *qid)
{
    const struct opts *o = s->o;
    struct mc_conn *c = &s->c;
    FILE *fp = strcmp(file, "-") == 0 ? stdin : fopen(file, "rb");
    if (fp == NULL)
        return mc_fail(c, "%s: %s", file, strerror(errno));
    static char iobuf[1 << 16];
    if (fp != stdin)
        setvbuf(fp, iobuf, _IOFBF, sizeof iobuf);

    int rc = 0, v;
    const char *step = "mail";
    char *from = bare_addr(o->from), *from_b = bracket_addr(from);
    struct macro mm[] = {
        {"i", qid},
        {"{mail_addr}", from},
        {"{auth_authen}", o->auth},
        {"{auth_type}", o->auth ? "PLAIN" : NULL},
    };
    struct macro im[] = {{"i", qid}};

    v = mc_event(c, SMFIC_MAIL, ST_MAIL, mm, sizeof mm / sizeof mm[0], from_b,
                 strlen(from_b) + 1, r);
    if (v != V_CONTINUE && v != V_SKIP)
        goto done;

    step = "rcpt";
    size_t rejected = 0;
    int lastrej = V_CONTINUE;
    struct buf lasttext = {0};
    for (size_t i = 0; i < o->nrcpts; i++) {
        char *to = bare_addr(o->rcpts[i]), *to_b = bracket_addr(to);
        struct macro rm[] = {{"i", qid}, {"{rcpt_addr}", to}};
        v = mc_event(c, SMFIC_RCPT, ST_RCPT, rm, 2, to_b, strlen(to_b) + 1, r);
        if (v == V_REJECT || v == V_TEMPFAIL || v == V_REPLYCODE) {
            /* rejects this recipient only */
            fputs(r->prefix, stdout);
            fputs("RCPT ", stdout);
            put_escaped(stdout, to, strlen(to));
            putchar(' ');
            fputs(verdict_names[v], stdout);
            if (v == V_REPLYCODE) {
                putchar(' ');
                put_escaped(stdout, (char *)c->text.p, strlen((char *)c->text.p));
                lasttext.len = 0;
                buf_add(&lasttext, c->text.p, strlen((char *)c->text.p) + 1);
            }
            putchar('\n');
            rejected++;
            lastrej = v;
            v = V_CONTINUE;
        }
        free(to);
        free(to_b);
        if (v != V_CONTINUE && v != V_SKIP)
            break;
    }
    if ((v == V_CONTINUE || v == V_SKIP) && rejected == o->nrcpts) {
        v = lastrej;      /* no recipient left: the message ends here */
        if (v == V_REPLYCODE) {
            c->text.len = 0;
            buf_add(&c->text, lasttext.p, lasttext.len);
        }
    }
    buf_free(&lasttext);
    if (v != V_CONTINUE && v != V_SKIP)
        goto done;

    step = "data";
    v = mc_event(c, SMFIC_DATA, ST_DATA, im, 1, NULL, 0, r);
    if (v != V_CONTINUE && v != V_SKIP)
        goto done;

    v = send_content(s, r, fp, im, 1, &step);

done:
    if (v < 0) {
        rc = -1;
    } else {
        print_verdict(r, c, v, step);
        if (v == V_SHUTDOWN) {
            s->conn_verdict = verdict_string(c, v, step ? step : "eom");
            s->closed = 1;
            mc_close(c);
        } else {
            /* Postfix resets the milter after every message, delivered or
             * not (smtpd mail_reset -> SMFIC_ABORT); queued, sent with the
             * next command */
            rc = mc_send(c, SMFIC_ABORT, NULL, 0);
        }
    }
    free(from);
    free(from_b);
    if (fp != stdin)
        fclose(fp);
    return rc;
}

static void report_error(const struct mc_conn *c)
{
    fflush(stdout);
    fprintf(stderr, "ERROR %s\n", c->err);
}

static void usage(void)
{
    fputs("usage: miltc -s SOCKET [-c CLIENT_IP] [-n CLIENT_NAME] [-H HELO]\n"
          "             [-f MAILFROM] [-r RCPT]... [-a AUTH_USER] [-q QUEUEID]\n"
          "             [-t TIMEOUT_SECS] [--raw] [--no-leadspc] [-v] FILE...\n"
          "SOCKET: unix:PATH | local:PATH | PATH | inet:PORT@HOST | inet6:PORT@HOST\n"
          "FILE: one message per file (\"-\": stdin), all on one connection\n"
          "--raw: body bytes as in the file; --no-leadspc: do not offer\n"
          "SMFIP_HDR_LEADSPC; -v: dump packets to stderr; -t 0: no timeout\n",
          stderr);
}

int main(int argc, char **argv)
{
    struct opts o = {
        .client_ip = "127.0.0.1", .client_name = "localhost", .helo = "localhost",
        .from = "sender@example.com", .timeout = 30};
    static const struct option lopts[] = {
        {"raw", no_argument, NULL, 'R'},
        {"no-leadspc", no_argument, NULL, 'L'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int ch;
    o.rcpts = xrealloc(NULL, sizeof *o.rcpts * (size_t)argc);
    while ((ch = getopt_long(argc, argv, "s:c:n:H:f:r:a:q:t:vh", lopts, NULL)) != -1) {
        switch (ch) {
        case 's': o.sock = optarg; break;
        case 'c': o.client_ip = optarg; break;
        case 'n': o.client_name = optarg; break;
        case 'H': o.helo = optarg; break;
        case 'f': o.from = optarg; break;
        case 'r': o.rcpts[o.nrcpts++] = optarg; break;
        case 'a': o.auth = optarg; break;
        case 'q': o.qid = optarg; break;
        case 't': {
            char *end;
            long t = strtol(optarg, &end, 10);
            if (*optarg == 0 || *end || t < 0 || t > 86400) {
                fprintf(stderr, "miltc: bad timeout: %s\n", optarg);
                return 2;
            }
            o.timeout = (int)t;
            break;
        }
        case 'R': o.raw = 1; break;
        case 'L': o.no_leadspc = 1; break;
        case 'v': g_verbose = 1; break;
        case 'h': usage(); return 0;
        default: usage(); return 2;
        }
    }
    if (o.sock == NULL || optind >= argc) {
        usage();
        return 2;
    }
    if (o.nrcpts == 0)
        o.rcpts[o.nrcpts++] = "rcpt@example.org";
    int nfiles = argc - optind;
    for (int i = optind; i < argc; i++) {
        if (strcmp(argv[i], "-") != 0 && access(argv[i], R_OK) != 0) {
            fprintf(stderr, "ERROR %s: %s\n", argv[i], strerror(errno));
            return 1;
        }
    }

    signal(SIGPIPE, SIG_IGN);

    struct session s = {.o = &o};
    struct mc_report rep = {.prefix = ""};
    struct mc_conn *c = &s.c;
    mc_init(c, o.timeout);
    uint32_t proto = MC_ALL_PROTOCOL & ~(o.no_leadspc ? SMFIP_HDR_LEADSPC : 0u);
    if (mc_connect(c, o.sock) < 0 || mc_negotiate(c, MC_ALL_ACTIONS, proto) < 0) {
        report_error(c);
        mc_free(c);
        return 1;
    }
    printf("NEGOTIATED version=%lu actions=0x%lx protocol=0x%lx\n",
           (unsigned long)c->version, (unsigned long)c->actions,
           (unsigned long)c->proto);
    for (int i = 0; i < ST_MAX; i++)
        if (c->symlist[i])
            printf("SYMLIST %s %s\n", stage_names[i], c->symlist[i]);

    int rc = 0;
    if (session_start(&s, &rep) < 0) {
        report_error(c);
        rc = 1;
    }
    static unsigned counter;
    for (int i = 0; rc == 0 && i < nfiles; i++) {
        char prefix[32] = "";
        if (nfiles > 1)
            snprintf(prefix, sizeof prefix, "%d: ", i + 1);
        rep.prefix = prefix;
        char qid[256];
        counter++;
        if (o.qid && nfiles == 1)
            snprintf(qid, sizeof qid, "%s", o.qid);
        else
            snprintf(qid, sizeof qid, "%s%u", o.qid ? o.qid : "MILTC", counter);
        if (s.closed) {
            printf("%s%s\n", prefix, s.conn_verdict);
        } else if (run_message(&s, &rep, argv[optind + i], qid) < 0) {
            report_error(c);
            rc = 1;
        }
        fflush(stdout);
    }
    /* as Postfix: ABORT (the final reset) then QUIT, no reply to either */
    if (rc == 0 && !s.closed &&
        (mc_send(c, SMFIC_ABORT, NULL, 0) < 0 || mc_send_noreply(c, SMFIC_QUIT) < 0 ||
         mc_drain(c) < 0)) {
        report_error(c);
        rc = 1;
    }
    free(s.conn_verdict);
    free(o.rcpts);
    mc_free(c);
    fflush(stdout);
    return rc;
}
