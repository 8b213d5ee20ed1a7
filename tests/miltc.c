/*
 * miltc -- a standalone MTA-side milter protocol client for tests.
 *
 * It plays Postfix's part of the Sendmail milter protocol, version 6, against
 * a running milter, and prints what the milter asked for, one line per event,
 * so that shell tests can assert on it.  No libmilter: plain sockets, C11 +
 * POSIX; the protocol code is tests/mclient.c, which bench/loadgen shares.
 * It sends exactly the bytes it is given (hostile input included) when
 * asked to (--raw).
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

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mclient.h"

static const char *const stage_names[ST_MAX] = {
    "connect", "helo", "mail", "rcpt", "data", "eom", "eoh"};

#define MC_MAX_MACROS 8                /* macros of one step (connect: 5) */
#define MC_CLIENT_PORT 54321           /* the client port in CONNECT */
#define MC_DRAIN_MS 1000               /* wait for EOF after QUIT */

/* ---- small utilities ------------------------------------------------- */

static int g_verbose;

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

/* ---- the protocol connection (tests/mclient.c) ----------------------- */

/* Resolves SOCKET (see the usage) and connects; 0 or -1 with c->err set. */
static int mc_connect(struct mclient_conn *c, const char *spec)
{
    struct mclient_addr a;
    if (mclient_resolve(&a, spec, c->err, sizeof c->err) < 0)
        return -1;
    return mclient_connect(c, &a) < 0 ? -1 : 0;
}

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

/* The sink of the reply loop: one line per request of the milter. */
static void report_request(void *arg, const struct mclient_request *rq)
{
    const struct mc_report *r = arg;
    switch (rq->cmd) {
    case SMFIR_PROGRESS:
        report_line(r, "PROGRESS\n");
        break;
    case SMFIR_QUARANTINE:
        fputs(r->prefix, stdout);
        fputs("QUARANTINE ", stdout);
        put_escaped(stdout, rq->arg[0], strlen(rq->arg[0]));
        putchar('\n');
        break;
    case SMFIR_REPLBODY:
        report_line(r, "REPLACEBODY %llu\n", rq->bytes);
        break;
    case SMFIR_ADDHEADER:
        report_header(r, "ADDHEADER", NULL, rq->arg[0], rq->arg[1]);
        break;
    case SMFIR_INSHEADER:
    case SMFIR_CHGHEADER:
        report_header(r, rq->cmd == SMFIR_INSHEADER ? "INSHEADER" : "CHGHEADER",
                      &rq->idx, rq->arg[0], rq->arg[1]);
        break;
    default:                    /* ADDRCPT, DELRCPT, ADDRCPT_PAR, CHGFROM */
        fputs(r->prefix, stdout);
        fputs(rq->cmd == SMFIR_CHGFROM ? "CHGFROM " :
              rq->cmd == SMFIR_DELRCPT ? "DELRCPT " : "ADDRCPT ", stdout);
        put_escaped(stdout, rq->arg[0], strlen(rq->arg[0]));
        if (rq->arg[1] && rq->arg[1][0]) {
            putchar(' ');
            put_escaped(stdout, rq->arg[1], strlen(rq->arg[1]));
        }
        putchar('\n');
        break;
    }
}

/*
 * One protocol step (mclient_event) with miltc's macros of stage `st`: those
 * of `m` that have a value and, when the milter asked for a list
 * (smfi_setsymlist), are in it.  Returns a verdict or -1.
 */
static int mc_event(struct mclient_conn *c, int cmd, int st,
                    const struct mclient_macro *m, size_t nm, const void *data,
                    size_t len, const struct mc_report *r)
{
    struct mclient_macro f[MC_MAX_MACROS];
    struct mclient_sink sink = {report_request, (void *)(uintptr_t)r};
    const char *list = mclient_symlist(c, st);
    size_t nf = 0;
    for (size_t i = 0; i < nm && nf < MC_MAX_MACROS; i++)
        if (list == NULL || mclient_symlist_has(list, m[i].name))
            f[nf++] = m[i];
    return mclient_event(c, cmd, f, nf, data, len, &sink);
}

/* Sends a command that has no reply (ABORT, QUIT). */
static int mc_send_noreply(struct mclient_conn *c, int cmd)
{
    if (mclient_send(c, cmd, NULL, 0) < 0)
        return -1;
    return mclient_flush(c);
}

/*
 * After QUIT: a milter has nothing more to say and libmilter closes the
 * connection.  Anything still arriving answered a step that wanted no reply
 * (or came twice), which desynchronises Postfix.  Waits at most 1 s for EOF.
 */
static int mc_drain(struct mclient_conn *c)
{
    int saved = c->timeout_ms, extra = 0, first = 0;
    c->timeout_ms = saved > 0 && saved < MC_DRAIN_MS ? saved : MC_DRAIN_MS;
    for (;;) {
        struct mclient_pkt pkt;
        if (mclient_read(c, &pkt) < 0)
            break;              /* EOF (expected), timeout or error */
        if (extra++ == 0)
            first = pkt.cmd;
    }
    c->timeout_ms = saved;
    if (extra)
        return mclient_fail(c, "protocol: %d unexpected packet(s) from the "
                            "milter after QUIT (first '%c'): replies to "
                            "no-reply steps?", extra, first);
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
    struct mclient_conn c;
    const struct opts *o;
    int closed;             /* the milter stream is gone */
    char *conn_verdict;     /* verdict line that applies to every message */
    int error;
};

static void print_verdict(const struct mc_report *r, struct mclient_conn *c, int v,
                          const char *step)
{
    fputs(r->prefix, stdout);
    fputs(verdict_names[v], stdout);
    if (v == V_REPLYCODE) {
        const char *t = mclient_text(c);
        putchar(' ');
        put_escaped(stdout, t, strlen(t));
    }
    if (step)
        printf(" at %s", step);
    putchar('\n');
}

/* Builds "VERDICT[ text] at step" for the connection-level verdict. */
static char *verdict_string(struct mclient_conn *c, int v, const char *step)
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
        const char *t = mclient_text(c);
        putc(' ', fp);
        put_escaped(fp, t, strlen(t));
    }
    fprintf(fp, " at %s", step);
    fclose(fp);
    return s;
}

/* CONNECT and HELO, once per connection. */
static int session_start(struct session *s, const struct mc_report *r)
{
    const struct opts *o = s->o;
    struct mclient_conn *c = &s->c;
    int v6 = strchr(o->client_ip, ':') != NULL;
    char under[1024];
    snprintf(under, sizeof under, "%s [%s]", o->client_name, o->client_ip);
    struct mclient_macro cm[] = {
        {"j", "mx.test"},
        {"{daemon_name}", "miltc"},
        {"{client_addr}", o->client_ip},
        {"{client_name}", o->client_name},
        {"_", under},
    };
    /* hostname, family, port (network order), address */
    struct mclient_buf b = {0};
    char bracket[512];
    snprintf(bracket, sizeof bracket, "[%s]", o->client_ip);
    mclient_connect_data(&b, strcmp(o->client_name, "unknown") == 0 ? bracket :
                         o->client_name, v6 ? '6' : '4', MC_CLIENT_PORT,
                         o->client_ip);
    int v = mc_event(c, SMFIC_CONNECT, ST_CONNECT, cm, sizeof cm / sizeof cm[0],
                     b.p, b.len, r);
    mclient_buf_free(&b);
    const char *step = "connect";
    if (v == V_CONTINUE || v == V_SKIP || v == V_DISCARD) {
        if (v == V_DISCARD)
            fprintf(stderr, "miltc: warning: DISCARD at connect ignored (as Postfix)\n");
        b = (struct mclient_buf){0};
        mclient_buf_adds(&b, o->helo);
        static const struct mclient_macro no_macros[1] = {{"", NULL}};
        v = mc_event(c, SMFIC_HELO, ST_HELO, no_macros, 0, b.p, b.len, r);
        mclient_buf_free(&b);
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
    mclient_close(c);
    return 0;
}

/* ---- message reading and feeding ------------------------------------- */

struct body_sink {
    struct session *s;
    const struct mc_report *r;
    const struct mclient_macro *m;   /* end-of-message macros */
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
        size_t room = MCLIENT_CHUNK - b->len;
        size_t k = n < room ? n : room;
        memcpy(b->chunk + b->len, p, k);
        b->len += k;
        b->total += k;
        p += k;
        n -= k;
        if (b->len == MCLIENT_CHUNK && body_flush(b) < 0)
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
    return mclient_line_clean(l, n);
}

/* Sends one header field held in `h` ("Name: value\n continuation..."). */
static int send_header(struct session *s, const struct mc_report *r,
                       struct mclient_buf *h, const struct mclient_macro *m, size_t nm)
{
    const char *f = (const char *)h->p;
    size_t lab, vlen;
    /* Postfix cuts a header field at header_size_limit (not with --raw) */
    const char *val = f + mclient_header_split(f, h->len, !s->o->raw, &lab, &vlen);
    if (!(s->c.proto & SMFIP_HDR_LEADSPC) && vlen && val[0] == ' ') {
        val++;
        vlen--;
    }
    struct mclient_buf b = {0};
    mclient_header_data(&b, f, lab, val, vlen);
    int v = mc_event(&s->c, SMFIC_HEADER, ST_EOH, m, nm, b.p, b.len, r);
    mclient_buf_free(&b);
    return v;
}

/*
 * Sends one message's content: headers, EOH, body, end of message.  Stops at
 * the first verdict.  Returns a verdict and sets *step, or -1.
 */
static int send_content(struct session *s, const struct mc_report *r, FILE *fp,
                        const struct mclient_macro *m, size_t nm, const char **step)
{
    struct mclient_conn *c = &s->c;
    struct mclient_buf hdr = {0};
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int v = V_CONTINUE;
    int have = 0;       /* a header field is pending in hdr */
    int in_body = 0;
    struct body_sink b = {.s = s, .r = r, .m = m, .nm = nm, .raw = s->o->raw,
                          .verdict = V_CONTINUE};
    size_t clen = 0;
    b.chunk = mclient_xrealloc(NULL, MCLIENT_CHUNK);
    unsigned char *rbuf = NULL;

    *step = "header";
    while (!in_body && (n = getdelim(&line, &cap, '\n', fp)) > 0) {
        clen = clean_line(line, (size_t)n, s->o->raw);
        if (have && (line[0] == ' ' || line[0] == '\t')) {
            mclient_buf_addc(&hdr, '\n');
            mclient_buf_add(&hdr, line, clen);
            continue;
        }
        if (have) {
            have = 0;
            if ((v = send_header(s, r, &hdr, m, nm)) != V_CONTINUE && v != V_SKIP)
                goto out;
        }
        if (clen == 0) {
            in_body = 1;            /* the separator line itself is not sent */
        } else if (mclient_header_label(line, clen)) {
            hdr.len = 0;
            mclient_buf_add(&hdr, line, clen);
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
        rbuf = mclient_xrealloc(NULL, 1 << 16);
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
    v = mclient_fail(c, "reading message: %s", strerror(errno));
out:
    free(line);
    free(rbuf);
    free(b.chunk);
    mclient_buf_free(&hdr);
    return v;
}

/* One message: MAIL, RCPT..., DATA, content.  0, or -1 on error. */
static int run_message(struct session *s, const struct mc_report *r,
                       const char *file, const char *qid)
{
    const struct opts *o = s->o;
    struct mclient_conn *c = &s->c;
    FILE *fp = strcmp(file, "-") == 0 ? stdin : fopen(file, "rb");
    if (fp == NULL)
        return mclient_fail(c, "%s: %s", file, strerror(errno));
    static char iobuf[1 << 16];
    if (fp != stdin)
        setvbuf(fp, iobuf, _IOFBF, sizeof iobuf);

    int rc = 0, v;
    const char *step = "mail";
    char *from = mclient_bare_addr(o->from);
    struct mclient_buf from_b = {0}, to_b = {0};
    mclient_addr_arg(&from_b, from);
    struct mclient_macro mm[] = {
        {"i", qid},
        {"{mail_addr}", from},
        {"{auth_authen}", o->auth},
        {"{auth_type}", o->auth ? "PLAIN" : NULL},
    };
    struct mclient_macro im[] = {{"i", qid}};

    v = mc_event(c, SMFIC_MAIL, ST_MAIL, mm, sizeof mm / sizeof mm[0], from_b.p,
                 from_b.len, r);
    if (v != V_CONTINUE && v != V_SKIP)
        goto done;

    step = "rcpt";
    size_t rejected = 0;
    int lastrej = V_CONTINUE;
    struct mclient_buf lasttext = {0};
    for (size_t i = 0; i < o->nrcpts; i++) {
        char *to = mclient_bare_addr(o->rcpts[i]);
        to_b.len = 0;
        mclient_addr_arg(&to_b, to);
        struct mclient_macro rm[] = {{"i", qid}, {"{rcpt_addr}", to}};
        v = mc_event(c, SMFIC_RCPT, ST_RCPT, rm, 2, to_b.p, to_b.len, r);
        if (v == V_REJECT || v == V_TEMPFAIL || v == V_REPLYCODE) {
            /* rejects this recipient only */
            fputs(r->prefix, stdout);
            fputs("RCPT ", stdout);
            put_escaped(stdout, to, strlen(to));
            putchar(' ');
            fputs(verdict_names[v], stdout);
            if (v == V_REPLYCODE) {
                putchar(' ');
                const char *t = mclient_text(c);
                put_escaped(stdout, t, strlen(t));
                lasttext.len = 0;
                mclient_buf_add(&lasttext, t, strlen(t) + 1);
            }
            putchar('\n');
            rejected++;
            lastrej = v;
            v = V_CONTINUE;
        }
        free(to);
        if (v != V_CONTINUE && v != V_SKIP)
            break;
    }
    if ((v == V_CONTINUE || v == V_SKIP) && rejected == o->nrcpts) {
        v = lastrej;      /* no recipient left: the message ends here */
        if (v == V_REPLYCODE) {
            c->text.len = 0;
            mclient_buf_add(&c->text, lasttext.p, lasttext.len);
        }
    }
    mclient_buf_free(&lasttext);
    mclient_buf_free(&to_b);
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
            mclient_close(c);
        } else {
            /* Postfix resets the milter after every message, delivered or
             * not (smtpd mail_reset -> SMFIC_ABORT); queued, sent with the
             * next command */
            rc = mclient_send(c, SMFIC_ABORT, NULL, 0);
        }
    }
    free(from);
    mclient_buf_free(&from_b);
    if (fp != stdin)
        fclose(fp);
    return rc;
}

static void report_error(const struct mclient_conn *c)
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
    o.rcpts = mclient_xrealloc(NULL, sizeof *o.rcpts * (size_t)argc);
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
    struct mclient_conn *c = &s.c;
    mclient_init(c, "miltc", o.timeout * 1000,
                 MCLIENT_POLL | MCLIENT_WARN | (g_verbose ? MCLIENT_TRACE : 0u));
    uint32_t proto = MCLIENT_ALL_PROTOCOL & ~(o.no_leadspc ? SMFIP_HDR_LEADSPC : 0u);
    if (mc_connect(c, o.sock) < 0 ||
        mclient_negotiate(c, MCLIENT_ALL_ACTIONS, proto) < 0) {
        report_error(c);
        mclient_free(c);
        free(o.rcpts);
        return 1;
    }
    printf("NEGOTIATED version=%lu actions=0x%lx protocol=0x%lx\n",
           (unsigned long)c->version, (unsigned long)c->actions,
           (unsigned long)c->proto);
    for (int i = 0; i < ST_MAX; i++)
        if (mclient_symlist(c, i))
            printf("SYMLIST %s %s\n", stage_names[i], mclient_symlist(c, i));

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
        (mclient_send(c, SMFIC_ABORT, NULL, 0) < 0 ||
         mc_send_noreply(c, SMFIC_QUIT) < 0 ||
         mc_drain(c) < 0)) {
        report_error(c);
        rc = 1;
    }
    free(s.conn_verdict);
    free(o.rcpts);
    mclient_free(c);
    fflush(stdout);
    return rc;
}
