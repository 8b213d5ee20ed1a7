/*
 * loadgen -- the benchmark's MTA-side milter load generator.
 *
 * It plays Postfix's part of the Sendmail milter protocol, version 6, against
 * one or more running milters, as fast as they answer, at a fixed concurrency,
 * and reports throughput, latency percentiles, what the milters answered and
 * its own CPU cost.  No libmilter: plain sockets, C11 + POSIX threads.  Its
 * protocol code is tests/mclient.c, shared with tests/miltc (checked against
 * a real Postfix 3.7); miltc is the tool for looking at one message, loadgen
 * for many.
 *
 * usage: loadgen -s SOCKET [-s SOCKET2 ...] [-c CONCURRENCY]
 *                [-n MESSAGES | -d SECONDS] [-m MSGS_PER_CONNECTION]
 *                [-a AUTH_USER] [--client-ip IP] [--client-name NAME]
 *                [--helo NAME] [--mail-from ADDR] [--rcpt ADDR]...
 *                [-t TIMEOUT_SECS] [--warmup N] [--json] FILE_OR_DIR...
 *
 * SOCKET is unix:PATH | local:PATH | PATH | inet:PORT@HOST | inet6:PORT@HOST
 * (inet:HOST:PORT too).  FILE_OR_DIR: .eml files; a directory stands for
 * every *.eml file in it (sorted by name).  All messages are read and parsed
 * before the run and sent round-robin.
 *
 * Defaults: -c 8, -n 1000, -m 1 (one connection per message, as a busy MTA
 * without connection reuse), -t 30 (seconds per reply, 0 = none),
 * --warmup 0, --client-ip 192.0.2.10, --client-name unknown (CONNECT then
 * carries "[IP]", as Postfix does for a client without a name), --helo
 * client.example.net, --mail-from sender@example.com, --rcpt
 * rcpt@example.org (repeat --rcpt for several recipients).
 *
 * Load model.  -c N threads ("slots"), each playing one SMTP client after
 * another.  A slot opens one connection per milter, negotiates, sends CONNECT
 * and HELO, then -m messages (MAIL, RCPT..., DATA, headers, EOH, body, EOM,
 * ABORT), then ABORT and QUIT, and starts over.  -n N: N messages in all
 * (errors included); -d S: as many as fit in S seconds (messages in flight
 * then finish).  --warmup N: N messages first, on the same slots and
 * connections, counted nowhere; timing and CPU accounting start after them.
 *
 * Several milters (-s given more than once) are chained as Postfix chains
 * smtpd_milters = a, b: CONNECT, HELO, MAIL, each RCPT and DATA go to every
 * milter in turn before the next event; the message content (headers, EOH,
 * body, EOM) then goes wholly to milter 1, then wholly to milter 2, as
 * Postfix's cleanup does.  A reject, tempfail, reply code or discard from a
 * milter ends the message there: later milters do not see the rest.  ACCEPT
 * ends the message (or, at CONNECT/HELO, the connection) for that milter only.
 * Each milter sees the message as received, not as modified by the earlier
 * ones (as with Postfix).  A rejected recipient is not shown to later milters;
 * when every recipient is rejected the message ends.
 *
 * What is sent, as Postfix 3.7 sends it (src/milter/milter8.c):
 *  - OPTNEG: version 6, all actions (0x1FF), all protocol steps (0x1FFFFF,
 *    SMFIP_HDR_LEADSPC included); the milter's SMFIP_NO* steps are not sent
 *    (their macros are), its SMFIP_NR_* steps get no wait for a reply, and
 *    SMFIR_SKIP skips the rest of the body.  Packets that need no reply are
 *    queued and go out in one write with the next packet that needs one.
 *  - macros before each step, an empty SMFIC_MACRO when none has a value;
 *    Postfix 3.7.11's default lists unless the milter asked for its own
 *    (smfi_setsymlist), which replace them stage by stage:
 *      connect  j {daemon_name} {daemon_addr} v _
 *      helo     {tls_version} {cipher} {cipher_bits} {cert_subject}
 *               {cert_issuer}   (no TLS here: none has a value)
 *      mail     i {auth_type} {auth_authen} {auth_author} {mail_addr}
 *               {mail_host} {mail_mailer}
 *      rcpt     i {rcpt_addr} {rcpt_host} {rcpt_mailer}
 *      data, eoh (sent with each header too), eom (with each body chunk): i
 *    A macro is sent only when it has a value, as Postfix: "i" (the queue id)
 *    exists from DATA on (Postfix opens the queue file after the first valid
 *    RCPT), {auth_*} only with -a USER ({auth_type}=PLAIN,
 *    {auth_authen}=USER), {rcpt_*} only at RCPT.  A milter may also ask for
 *    {client_addr} {client_name} {client_port} {client_ptr} {daemon_port}.
 *    Values: j = {daemon_name} = mx.loadgen.test, {daemon_addr} 127.0.0.1,
 *    v = "Postfix 3.7.11", _ = "NAME [IP]", {mail_mailer} = {rcpt_mailer} =
 *    smtp, {mail_host}/{rcpt_host} = the address's domain.
 *  - CONNECT: NAME (or "[IP]" for "unknown"), family '4' or '6' from the
 *    form of --client-ip, a client port, IP.  MAIL "<ADDR>", RCPT "<ADDR>".
 *  - headers as Postfix passes them on: a line ends at LF, CRs before the LF
 *    are dropped and other CRs become spaces; folded lines are joined with a
 *    bare "\n"; values are cut at a NUL byte and at header_size_limit
 *    (102400); without SMFIP_HDR_LEADSPC one leading space is stripped.  The
 *    first line that is not a header (or the empty line) ends the headers.
 *  - the body with every line ending in CRLF, in chunks of 65535 bytes but
 *    the last, then SMFIC_BODYEOB alone.
 *  - SMFIC_ABORT after every message; ABORT and SMFIC_QUIT at the end of a
 *    connection (none to a milter that rejected the connection).
 *
 * Latency of a message: from the start of its transaction (MAIL), or from
 * connect() for a message that opens its connection (so, with -m 1, always)
 * to the reply that decided it: the last milter's end-of-message reply, or an
 * earlier reject.  Monotonic clock, microseconds.  With -n every sample is
 * kept (an array of N); with -d in a log-linear histogram (64 buckets per
 * power of two: under 1 % error).  Percentiles are nearest-rank.
 *
 * Errors: a connection or protocol error or a timeout counts the message as
 * an error (not in "messages"); the slot's connections are dropped (QUIT to
 * the healthy ones) and opened anew for its next message.  The first few
 * errors are printed on stderr.  When a connect() fails before any message
 * has got through, the run stops: the milter is not there.
 *
 * Output: a human summary on stdout, or with --json one line:
 *   {"messages":N,"seconds":S,"rate":MSGS_PER_S,"p50_ms":..,"p90_ms":..,
 *    "p99_ms":..,"max_ms":..,"replies":{"accept":..,"continue":..,
 *    "reject":..,"tempfail":..,"discard":..,"replycode":..,"quarantine":..},
 *    "replycodes":{"550":..},"headers":{"add":..,"insert":..,"change":..},
 *    "errors":N,"client_cpu_ms_per_msg":X}
 * "messages" got a verdict; "seconds" from the start of the measured phase
 * to the end of its last message; "replies" counts each message once by the
 * reply that decided it (REJECT, TEMPFAIL, REPLYCODE, DISCARD from any
 * milter, SHUTDOWN counted as tempfail; otherwise the last milter's ACCEPT or
 * CONTINUE), "quarantine" counts messages that any milter quarantined, on
 * top; "replycodes" counts the SMTP codes of REPLYCODE verdicts;
 * "headers" counts modification requests from all milters.
 * client_cpu_ms_per_msg: loadgen's own user+system CPU (getrusage) in the
 * measured phase divided by the messages attempted in it.
 *
 * Exit status: 0 when it ran (even with errors), 1 when it could not run at
 * all (unreadable message, no milter listening), 2 on usage.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "mclient.h"             /* the protocol (tests/mclient.c) */

/* ---- bounds and fixed values ------------------------------------------ */

#define LG_MAX_MILTERS 16              /* -s given at most this often */
#define LG_MAX_CONCURRENCY 4096        /* -c */
#define LG_MAX_MESSAGES 50000000LL     /* -n and --warmup (4 bytes a sample) */
#define LG_MAX_PER_CONN 1000000000LL   /* -m */
#define LG_MAX_SECONDS 86400           /* -d and -t */
#define LG_MAX_RCPTS 64                /* --rcpt given at most this often */
#define LG_MAX_FILES 100000            /* messages preloaded */
#define LG_MAX_FILE_BYTES (512LL << 20)    /* one message file */
#define LG_MAX_TOTAL_BYTES (8LL << 30)     /* all message files together */
#define LG_MAX_STAGE_MACROS 32         /* macro names per stage we keep */
#define LG_MAX_REPLYCODES 32           /* distinct reply codes counted apart */
#define LG_MAX_ERRORS_SHOWN 10         /* errors printed on stderr */
#define LG_ERR_LEN 512                 /* one error text */
#define LG_STACK_SIZE (256 * 1024)     /* per slot thread */
#define LG_RECONNECT_PAUSE_MS 10       /* after a failed connect */
#define LG_QID_LEN 32                  /* queue id text */
#define LG_HIST_SUB_BITS 6             /* histogram: 2^6 buckets per octave */
#define LG_HIST_SUB (1u << LG_HIST_SUB_BITS)
#define LG_HIST_MAX_BIT 40             /* samples clamp at 2^40 us (12 days) */
#define LG_HIST_BUCKETS (LG_HIST_SUB * (LG_HIST_MAX_BIT - LG_HIST_SUB_BITS + 2))
#define LG_CLIENT_PORT_BASE 1024       /* CONNECT ports cycle from here */
#define LG_CLIENT_PORT_SPAN 64000

#define LG_MTA_NAME "mx.loadgen.test"  /* j, {daemon_name} */
#define LG_MTA_ADDR "127.0.0.1"        /* {daemon_addr} */
#define LG_MTA_PORT "25"               /* {daemon_port} */
#define LG_MTA_VERSION "Postfix 3.7.11" /* v */

#define LG_DEFAULT_CONCURRENCY 8
#define LG_DEFAULT_MESSAGES 1000
#define LG_DEFAULT_TIMEOUT 30
#define LG_DEFAULT_CLIENT_IP "192.0.2.10"
#define LG_DEFAULT_CLIENT_NAME "unknown"
#define LG_DEFAULT_HELO "client.example.net"
#define LG_DEFAULT_FROM "sender@example.com"
#define LG_DEFAULT_RCPT "rcpt@example.org"

/* ---- small utilities ------------------------------------------------- */

static void die_oom(void)
{
    fputs("loadgen: out of memory\n", stderr);
    exit(1);
}

static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static double rusage_ms(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* ---- macros ------------------------------------------------------------ */

enum mac_id {
    MAC_J, MAC_DAEMON_NAME, MAC_DAEMON_ADDR, MAC_DAEMON_PORT, MAC_V, MAC_UNDERSCORE,
    MAC_CLIENT_ADDR, MAC_CLIENT_NAME, MAC_CLIENT_PTR, MAC_CLIENT_PORT,
    MAC_TLS_VERSION, MAC_CIPHER, MAC_CIPHER_BITS, MAC_CERT_SUBJECT, MAC_CERT_ISSUER,
    MAC_I, MAC_AUTH_TYPE, MAC_AUTH_AUTHEN, MAC_AUTH_AUTHOR,
    MAC_MAIL_ADDR, MAC_MAIL_HOST, MAC_MAIL_MAILER,
    MAC_RCPT_ADDR, MAC_RCPT_HOST, MAC_RCPT_MAILER,
    MAC_COUNT
};

static const char *const mac_names[MAC_COUNT] = {
    "j", "{daemon_name}", "{daemon_addr}", "{daemon_port}", "v", "_",
    "{client_addr}", "{client_name}", "{client_ptr}", "{client_port}",
    "{tls_version}", "{cipher}", "{cipher_bits}", "{cert_subject}", "{cert_issuer}",
    "i", "{auth_type}", "{auth_authen}", "{auth_author}",
    "{mail_addr}", "{mail_host}", "{mail_mailer}",
    "{rcpt_addr}", "{rcpt_host}", "{rcpt_mailer}"};

/* The macros of one stage, in order. */
struct stage_list {
    unsigned n;
    unsigned char id[LG_MAX_STAGE_MACROS];
};

/* Postfix 3.7.11 defaults (postconf -d milter_*_macros), by stage. */
static const struct stage_list default_lists[ST_MAX] = {
    [ST_CONNECT] = {5, {MAC_J, MAC_DAEMON_NAME, MAC_DAEMON_ADDR, MAC_V, MAC_UNDERSCORE}},
    [ST_HELO] = {5, {MAC_TLS_VERSION, MAC_CIPHER, MAC_CIPHER_BITS, MAC_CERT_SUBJECT,
                     MAC_CERT_ISSUER}},
    [ST_MAIL] = {7, {MAC_I, MAC_AUTH_TYPE, MAC_AUTH_AUTHEN, MAC_AUTH_AUTHOR,
                     MAC_MAIL_ADDR, MAC_MAIL_HOST, MAC_MAIL_MAILER}},
    [ST_RCPT] = {4, {MAC_I, MAC_RCPT_ADDR, MAC_RCPT_HOST, MAC_RCPT_MAILER}},
    [ST_DATA] = {1, {MAC_I}},
    [ST_EOM] = {1, {MAC_I}},
    [ST_EOH] = {1, {MAC_I}},
};

/* Looks a macro name up (without its braces); -1 if unknown. */
static int mac_lookup(const char *name, size_t len)
{
    for (int i = 0; i < MAC_COUNT; i++) {
        const char *m = mac_names[i];
        size_t ml = strlen(m);
        if (ml >= 2 && m[0] == '{') {
            m++;
            ml -= 2;
        }
        if (ml == len && memcmp(m, name, len) == 0)
            return i;
    }
    return -1;
}

/* Parses a SETSYMLIST macro list into ids (unknown names are dropped: we
 * could give them no value anyway). */
static void stage_list_parse(struct stage_list *l, const char *list)
{
    const char *name;
    size_t len;
    l->n = 0;
    while ((name = mclient_symlist_next(&list, &len)) != NULL) {
        if (l->n < LG_MAX_STAGE_MACROS) {
            int id = mac_lookup(name, len);
            if (id >= 0)
                l->id[l->n++] = (unsigned char)id;
        }
    }
}

/* ---- options and shared state ----------------------------------------- */

struct milter_addr {
    char *spec;
    struct mclient_addr addr;
};

/* One message, parsed and encoded once before the run. */
struct hdr {
    size_t off[2];              /* packet data: [0] value as is, [1] one */
    size_t len[2];              /* leading space stripped */
};

struct message {
    char *path;
    struct hdr *hdrs;
    size_t nhdrs;
    unsigned char *hblob;       /* header packet data */
    unsigned char *body;        /* CRLF lines */
    size_t body_len;
};

enum { PHASE_WARMUP, PHASE_MEASURE };

static struct {
    /* options */
    struct milter_addr milters[LG_MAX_MILTERS];
    int nmilters;
    int concurrency;
    long long count;            /* -n */
    double duration;            /* -d, 0 when -n */
    long long per_conn;
    long long warmup;
    int timeout_ms;             /* 0: none */
    int json;
    const char *auth;
    const char *client_ip;
    const char *client_name;
    const char *helo;
    const char *from;
    const char *rcpts[LG_MAX_RCPTS];
    int nrcpts;
    /* derived */
    char client_family;         /* '4' or '6' */
    char *conn_name;            /* host name in SMFIC_CONNECT */
    char *underscore;           /* the "_" macro */
    char *from_bare, *from_host;
    struct mclient_buf mail_arg;        /* "<from>\0" */
    char *rcpt_bare[LG_MAX_RCPTS], *rcpt_host[LG_MAX_RCPTS];
    struct mclient_buf rcpt_arg[LG_MAX_RCPTS];
    struct mclient_buf helo_arg;
    struct message *msgs;
    size_t nmsgs;
    /* run state */
    atomic_llong next[2];       /* per phase: next message index */
    atomic_int stop;
    atomic_int any_success;
    atomic_int fatal;
    char fatal_msg[LG_ERR_LEN];
    atomic_llong qid_seq;
    unsigned qid_base;
    uint32_t *lat;              /* -n: every sample */
    atomic_llong nlat;
    atomic_int errors_shown;
    pthread_barrier_t barrier;
} g;

/* ---- results ----------------------------------------------------------- */

/* Reply counters of the report. */
enum { R_ACCEPT, R_CONTINUE, R_REJECT, R_TEMPFAIL, R_DISCARD, R_REPLYCODE,
       R_QUARANTINE, R_COUNT };
static const char *const reply_names[R_COUNT] = {
    "accept", "continue", "reject", "tempfail", "discard", "replycode", "quarantine"};

/* One message's outcome. */
struct tally {
    int final;                  /* deciding verdict, or -1 */
    int last;                   /* the last milter's V_ACCEPT / V_CONTINUE */
    int quarantine;
    char code[4];               /* of the deciding REPLYCODE */
    unsigned long add, ins, chg, other;
};

struct codecount {
    char code[4];
    unsigned long long n;
};

struct stats {
    unsigned long long messages, errors;
    unsigned long long replies[R_COUNT];
    unsigned long long add, ins, chg, other;
    struct codecount codes[LG_MAX_REPLYCODES];
    unsigned ncodes;
    unsigned long long codes_other;
    long long max_us;
};

static void stats_code(struct stats *st, const char *code, unsigned long long n)
{
    for (unsigned i = 0; i < st->ncodes; i++) {
        if (memcmp(st->codes[i].code, code, 3) == 0) {
            st->codes[i].n += n;
            return;
        }
    }
    if (st->ncodes < LG_MAX_REPLYCODES) {
        memcpy(st->codes[st->ncodes].code, code, 4);
        st->codes[st->ncodes++].n = n;
    } else {
        st->codes_other += n;
    }
}

static void stats_add_tally(struct stats *st, const struct tally *t)
{
    int v = t->final >= 0 ? t->final : t->last;
    switch (v) {
    case V_ACCEPT: st->replies[R_ACCEPT]++; break;
    case V_REJECT: st->replies[R_REJECT]++; break;
    case V_TEMPFAIL: case V_SHUTDOWN: st->replies[R_TEMPFAIL]++; break;
    case V_DISCARD: st->replies[R_DISCARD]++; break;
    case V_REPLYCODE:
        st->replies[R_REPLYCODE]++;
        stats_code(st, t->code, 1);
        break;
    default: st->replies[R_CONTINUE]++; break;
    }
    if (t->quarantine)
        st->replies[R_QUARANTINE]++;
    st->add += t->add;
    st->ins += t->ins;
    st->chg += t->chg;
    st->other += t->other;
}

/* Histogram bucket of a latency in microseconds (log-linear). */
static unsigned hist_index(long long us)
{
    uint64_t v = us < 0 ? 0 : (uint64_t)us;
    if (v >= (1ull << LG_HIST_MAX_BIT))
        v = (1ull << LG_HIST_MAX_BIT) - 1;
    if (v < LG_HIST_SUB)
        return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = msb - LG_HIST_SUB_BITS;
    return LG_HIST_SUB + shift * LG_HIST_SUB + (unsigned)((v >> shift) - LG_HIST_SUB);
}

/* The middle of a histogram bucket, in microseconds. */
static double hist_value(unsigned idx)
{
    if (idx < LG_HIST_SUB)
        return idx;
    unsigned shift = (idx - LG_HIST_SUB) / LG_HIST_SUB;
    unsigned sub = (idx - LG_HIST_SUB) % LG_HIST_SUB;
    double lo = (double)((uint64_t)(LG_HIST_SUB + sub) << shift);
    return lo + (double)((1ull << shift) - 1) / 2.0;
}

/* ---- one milter connection --------------------------------------------- */

enum { MS_CLOSED, MS_READY, MS_ACCEPT_MSG, MS_ACCEPT_CON, MS_REJECT_CON };

struct mconn {
    struct mclient_conn mc;     /* socket, buffers, negotiated flags, error */
    int state;
    struct stage_list sym[ST_MAX];
};

/* Values the macros take at one point of a transaction. */
struct mctx {
    const char *qid;            /* NULL before DATA */
    int mail;                   /* MAIL has been given */
    int rcpt;                   /* current recipient, or -1 */
    const char *port;           /* client port */
};

/* A slot: one SMTP client at a time, with one connection per milter. */
struct slot {
    int id;
    pthread_t tid;
    struct mconn c[LG_MAX_MILTERS];
    int open;
    int conn_done;              /* end the connection after this message */
    int connect_failed;
    int cur;                    /* milter being talked to (its mc.err) */
    long long on_conn;          /* messages on the current connection */
    unsigned port_seq;
    char port[8];
    struct stats st;
    uint64_t *hist;             /* -d: latency histogram */
};

static const char *mac_value(int id, const struct mctx *x)
{
    switch (id) {
    case MAC_J:
    case MAC_DAEMON_NAME: return LG_MTA_NAME;
    case MAC_DAEMON_ADDR: return LG_MTA_ADDR;
    case MAC_DAEMON_PORT: return LG_MTA_PORT;
    case MAC_V: return LG_MTA_VERSION;
    case MAC_UNDERSCORE: return g.underscore;
    case MAC_CLIENT_ADDR: return g.client_ip;
    case MAC_CLIENT_NAME:
    case MAC_CLIENT_PTR: return g.client_name;
    case MAC_CLIENT_PORT: return x->port;
    case MAC_I: return x->qid;
    case MAC_AUTH_TYPE: return x->mail && g.auth ? "PLAIN" : NULL;
    case MAC_AUTH_AUTHEN: return x->mail ? g.auth : NULL;
    case MAC_MAIL_ADDR: return x->mail ? g.from_bare : NULL;
    case MAC_MAIL_HOST: return x->mail ? g.from_host : NULL;
    case MAC_MAIL_MAILER: return x->mail ? "smtp" : NULL;
    case MAC_RCPT_ADDR: return x->rcpt >= 0 ? g.rcpt_bare[x->rcpt] : NULL;
    case MAC_RCPT_HOST: return x->rcpt >= 0 ? g.rcpt_host[x->rcpt] : NULL;
    case MAC_RCPT_MAILER: return x->rcpt >= 0 ? "smtp" : NULL;
    default: return NULL;       /* TLS, {auth_author}: not here */
    }
}

/* The macros of stage `st` that have a value now, into m; their count. */
static size_t conn_macros(const struct mconn *c, int st, const struct mctx *x,
                          struct mclient_macro *m)
{
    const struct stage_list *l = &c->sym[st];
    size_t n = 0;
    for (unsigned i = 0; i < l->n; i++) {
        const char *v = mac_value(l->id[i], x);
        if (v == NULL)
            continue;
        m[n].name = mac_names[l->id[i]];
        m[n++].value = v;
    }
    return n;
}

/* The sink of the reply loop: counts what the milter asked for. */
static void conn_request(void *arg, const struct mclient_request *rq)
{
    struct tally *t = arg;
    switch (rq->cmd) {
    case SMFIR_QUARANTINE: t->quarantine = 1; break;
    case SMFIR_ADDHEADER: t->add++; break;
    case SMFIR_INSHEADER: t->ins++; break;
    case SMFIR_CHGHEADER: t->chg++; break;
    case SMFIR_REPLBODY: t->other += rq->packets; break;
    case SMFIR_PROGRESS: break;
    default: t->other++; break;  /* ADDRCPT, DELRCPT, ADDRCPT_PAR, CHGFROM */
    }
}

/*
 * One protocol step (mclient_event) with the macros of stage `st`; a
 * REPLYCODE's code goes to t->code.  Returns a verdict or -1.
 */
static int conn_event(struct mconn *c, int cmd, int st, const struct mctx *x,
                      const void *data, size_t len, struct tally *t)
{
    struct mclient_macro m[LG_MAX_STAGE_MACROS];
    struct mclient_sink sink = {conn_request, t};
    size_t nm = conn_macros(c, st, x, m);
    int v = mclient_event(&c->mc, cmd, m, nm, data, len, &sink);
    if (v == V_REPLYCODE) {
        memcpy(t->code, mclient_text(&c->mc), 3);
        t->code[3] = 0;
    }
    return v;
}

/* Connects milter k and negotiates.  0 or -1. */
static int conn_open(struct slot *s, int k)
{
    struct mconn *c = &s->c[k];
    s->cur = k;
    int rc = mclient_connect(&c->mc, &g.milters[k].addr);
    if (rc < 0) {
        s->connect_failed = rc == -2;
        return -1;
    }
    c->state = MS_READY;
    if (mclient_negotiate(&c->mc, MCLIENT_ALL_ACTIONS, MCLIENT_ALL_PROTOCOL) < 0)
        return -1;
    for (int st = 0; st < ST_MAX; st++) {
        const char *list = mclient_symlist(&c->mc, st);
        if (list)
            stage_list_parse(&c->sym[st], list);
        else
            c->sym[st] = default_lists[st];
    }
    return 0;
}

/* Queues ABORT for every milter in a transaction (Postfix milter8_abort). */
static void slot_abort(struct slot *s)
{
    for (int k = 0; k < g.nmilters; k++) {
        struct mconn *c = &s->c[k];
        if (c->mc.fd < 0 || (c->state != MS_READY && c->state != MS_ACCEPT_MSG))
            continue;
        (void)mclient_send(&c->mc, SMFIC_ABORT, NULL, 0);  /* queued */
        c->state = MS_READY;
    }
}

/*
 * Ends the slot's connections: ABORT and QUIT to every milter but one that
 * rejected the connection, and to `failed` (the one that broke), then close.
 */
static void slot_close(struct slot *s, int failed)
{
    if (failed < 0)
        slot_abort(s);
    for (int k = 0; k < g.nmilters; k++) {
        struct mconn *c = &s->c[k];
        if (c->mc.fd < 0)
            continue;
        if (k != failed && c->state != MS_REJECT_CON) {
            if (failed >= 0 && (c->state == MS_READY || c->state == MS_ACCEPT_MSG))
                (void)mclient_send(&c->mc, SMFIC_ABORT, NULL, 0);
            (void)mclient_send(&c->mc, SMFIC_QUIT, NULL, 0);
            (void)mclient_flush(&c->mc);   /* errors here change nothing */
        }
        mclient_close(&c->mc);
        c->state = MS_CLOSED;
    }
    s->open = 0;
    s->conn_done = 0;
    s->on_conn = 0;
}

/*
 * Applies a milter's verdict to the message.  Returns 1 when the message is
 * decided (t->final set), else 0.  `conn_level`: at CONNECT or HELO.
 */
static int slot_decide(struct slot *s, struct mconn *c, int v, struct tally *t,
                       int conn_level)
{
    switch (v) {
    case V_CONTINUE:
    case V_SKIP:
        t->last = V_CONTINUE;
        return 0;
    case V_ACCEPT:
        c->state = conn_level ? MS_ACCEPT_CON : MS_ACCEPT_MSG;
        t->last = V_ACCEPT;
        return 0;
    case V_DISCARD:
        if (conn_level)         /* Postfix: not allowed there, ignored */
            return 0;
        t->final = v;
        return 1;
    case V_SHUTDOWN:
        c->state = MS_REJECT_CON;
        s->conn_done = 1;
        t->final = v;
        return 1;
    default:                    /* REJECT, TEMPFAIL, REPLYCODE */
        if (conn_level) {
            c->state = MS_REJECT_CON;
            s->conn_done = 1;
        }
        t->final = v;
        return 1;
    }
}

/* Opens the slot's connections: connect, negotiate, CONNECT and HELO. */
static int slot_open(struct slot *s, struct tally *t)
{
    s->connect_failed = 0;
    s->on_conn = 0;
    s->conn_done = 0;
    s->port_seq = (s->port_seq + 1) % LG_CLIENT_PORT_SPAN;
    snprintf(s->port, sizeof s->port, "%u",
             LG_CLIENT_PORT_BASE + (unsigned)s->port_seq);
    s->open = 1;
    for (int k = 0; k < g.nmilters; k++)
        if (conn_open(s, k) < 0)
            return -1;

    struct mctx x = {.qid = NULL, .mail = 0, .rcpt = -1, .port = s->port};
    struct mclient_buf b = {0};
    mclient_connect_data(&b, g.conn_name, g.client_family,
                         LG_CLIENT_PORT_BASE + s->port_seq, g.client_ip);
    int rc = 0;
    for (int k = 0; k < g.nmilters && rc == 0; k++) {
        s->cur = k;
        int v = conn_event(&s->c[k], SMFIC_CONNECT, ST_CONNECT, &x, b.p, b.len, t);
        if (v < 0)
            rc = -1;
        else if (slot_decide(s, &s->c[k], v, t, 1))
            rc = 1;
    }
    mclient_buf_free(&b);
    for (int k = 0; k < g.nmilters && rc == 0; k++) {
        struct mconn *c = &s->c[k];
        if (c->state != MS_READY)
            continue;
        s->cur = k;
        int v = conn_event(c, SMFIC_HELO, ST_HELO, &x, g.helo_arg.p,
                           g.helo_arg.len, t);
        if (v < 0)
            rc = -1;
        else if (slot_decide(s, c, v, t, 1))
            rc = 1;
    }
    return rc < 0 ? -1 : 0;
}

/* Headers, EOH, body and end of message to one milter; a verdict or -1. */
static int conn_content(struct mconn *c, const struct message *m,
                        const struct mctx *x, struct tally *t)
{
    int strip = (c->mc.proto & SMFIP_HDR_LEADSPC) == 0;
    int v;
    for (size_t i = 0; i < m->nhdrs; i++) {
        const struct hdr *h = &m->hdrs[i];
        v = conn_event(c, SMFIC_HEADER, ST_EOH, x, m->hblob + h->off[strip],
                       h->len[strip], t);
        if (v != V_CONTINUE && v != V_SKIP)
            return v;
    }
    v = conn_event(c, SMFIC_EOH, ST_EOH, x, NULL, 0, t);
    if (v != V_CONTINUE && v != V_SKIP)
        return v;
    for (size_t off = 0; off < m->body_len; off += MCLIENT_CHUNK) {
        size_t n = m->body_len - off;
        if (n > MCLIENT_CHUNK)
            n = MCLIENT_CHUNK;
        v = conn_event(c, SMFIC_BODY, ST_EOM, x, m->body + off, n, t);
        if (v == V_SKIP)
            break;
        if (v != V_CONTINUE)
            return v;
    }
    return conn_event(c, SMFIC_BODYEOB, ST_EOM, x, NULL, 0, t);
}

/*
 * One transaction over the slot's open connections, in Postfix's order.
 * Fills t; 0, or -1 on error.
 */
static int slot_transaction(struct slot *s, const struct message *m, struct tally *t)
{
    char qid[LG_QID_LEN];
    long long seq = atomic_fetch_add(&g.qid_seq, 1);
    snprintf(qid, sizeof qid, "%05X%07llX", g.qid_base & 0xFFFFFu,
             (unsigned long long)seq & 0xFFFFFFFull);
    struct mctx x = {.qid = NULL, .mail = 1, .rcpt = -1, .port = s->port};
    int v, k;

    for (k = 0; k < g.nmilters; k++) {
        struct mconn *c = &s->c[k];
        if (c->state != MS_READY)
            continue;
        s->cur = k;
        v = conn_event(c, SMFIC_MAIL, ST_MAIL, &x, g.mail_arg.p, g.mail_arg.len, t);
        if (v < 0)
            return -1;
        if (slot_decide(s, c, v, t, 0))
            return 0;
    }

    int rejected = 0, lastrej = V_REJECT;
    char lastcode[4] = "";
    for (int r = 0; r < g.nrcpts; r++) {
        x.rcpt = r;
        for (k = 0; k < g.nmilters; k++) {
            struct mconn *c = &s->c[k];
            if (c->state != MS_READY)
                continue;
            s->cur = k;
            v = conn_event(c, SMFIC_RCPT, ST_RCPT, &x, g.rcpt_arg[r].p,
                           g.rcpt_arg[r].len, t);
            if (v < 0)
                return -1;
            if (v == V_REJECT || v == V_TEMPFAIL || v == V_REPLYCODE) {
                /* this recipient only; later milters do not see it */
                rejected++;
                lastrej = v;
                memcpy(lastcode, t->code, sizeof lastcode);
                break;
            }
            if (slot_decide(s, c, v, t, 0))
                return 0;
        }
    }
    x.rcpt = -1;
    if (rejected == g.nrcpts) {
        t->final = lastrej;
        memcpy(t->code, lastcode, sizeof lastcode);
        return 0;
    }

    x.qid = qid;
    for (k = 0; k < g.nmilters; k++) {
        struct mconn *c = &s->c[k];
        if (c->state != MS_READY)
            continue;
        s->cur = k;
        v = conn_event(c, SMFIC_DATA, ST_DATA, &x, NULL, 0, t);
        if (v < 0)
            return -1;
        if (slot_decide(s, c, v, t, 0))
            return 0;
    }

    for (k = 0; k < g.nmilters; k++) {
        struct mconn *c = &s->c[k];
        if (c->state != MS_READY) {
            t->last = V_ACCEPT;   /* accepted earlier by this milter */
            continue;
        }
        s->cur = k;
        v = conn_content(c, m, &x, t);
        if (v < 0)
            return -1;
        if (slot_decide(s, c, v, t, 0))
            return 0;
        /* anything after the final reply answered a no-reply step */
        if (mclient_pending(&c->mc) > 0)
            return mclient_fail(&c->mc, "protocol: %zu unexpected bytes after "
                                "the end-of-message reply (replies to no-reply "
                                "steps?)", mclient_pending(&c->mc));
    }
    return 0;
}

static void slot_report_error(struct slot *s)
{
    int n = atomic_fetch_add(&g.errors_shown, 1);
    if (n < LG_MAX_ERRORS_SHOWN)
        fprintf(stderr, "loadgen: error: slot %d, milter %s: %s\n", s->id,
                g.milters[s->cur].spec, s->c[s->cur].mc.err);
}

static void slot_record(struct slot *s, long long us)
{
    if (us > s->st.max_us)
        s->st.max_us = us;
    if (g.lat) {
        long long i = atomic_fetch_add(&g.nlat, 1);
        if (i < g.count)
            g.lat[i] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
    } else {
        s->hist[hist_index(us)]++;
    }
}

/* One message: (re)open the connections if needed, the transaction, and the
 * end of the connection when it is due. */
static void slot_message(struct slot *s, long long idx, int counted)
{
    const struct message *m = &g.msgs[(size_t)(idx % (long long)g.nmsgs)];
    struct tally t = {.final = -1, .last = V_CONTINUE};
    long long t0 = now_us();
    int rc = 0;
    if (!s->open)
        rc = slot_open(s, &t);
    if (rc == 0 && t.final < 0)
        rc = slot_transaction(s, m, &t);
    long long t1 = now_us();

    if (rc < 0) {
        int failed = s->cur;
        if (counted)
            s->st.errors++;
        if (s->connect_failed && !atomic_load(&g.any_success)) {
            int expected = 0;
            if (atomic_compare_exchange_strong(&g.fatal, &expected, 1)) {
                snprintf(g.fatal_msg, sizeof g.fatal_msg, "milter %.100s: %.400s",
                         g.milters[failed].spec, s->c[failed].mc.err);
                atomic_store(&g.stop, 1);
            }
        } else {
            slot_report_error(s);
        }
        slot_close(s, failed);
        if (s->connect_failed) {
            struct timespec ts = {0, LG_RECONNECT_PAUSE_MS * 1000000L};
            nanosleep(&ts, NULL);
        }
        return;
    }
    atomic_store(&g.any_success, 1);
    if (counted) {
        s->st.messages++;
        stats_add_tally(&s->st, &t);
        slot_record(s, t1 - t0);
    }
    slot_abort(s);
    if (++s->on_conn >= g.per_conn || s->conn_done)
        slot_close(s, -1);
}

/* Claims the next message of a phase: its index, or -1 when none is left. */
static long long claim(int phase)
{
    if (atomic_load(&g.stop))
        return -1;
    long long i = atomic_fetch_add(&g.next[phase], 1);
    if (phase == PHASE_WARMUP)
        return i < g.warmup ? i : -1;
    if (g.duration > 0)
        return i;
    return i < g.count ? i : -1;
}

static void slot_phase(struct slot *s, int phase)
{
    long long idx;
    while ((idx = claim(phase)) >= 0)
        slot_message(s, idx, phase == PHASE_MEASURE);
}

static void *slot_main(void *arg)
{
    struct slot *s = arg;
    if (g.warmup > 0) {
        slot_phase(s, PHASE_WARMUP);
        pthread_barrier_wait(&g.barrier);   /* warmup done */
        pthread_barrier_wait(&g.barrier);   /* measured phase begins */
    }
    slot_phase(s, PHASE_MEASURE);
    if (s->open)
        slot_close(s, -1);
    return NULL;
}

/* ---- loading messages -------------------------------------------------- */

/* Copies a line without its line end as Postfix 3.7 passes it on: the CRs
 * before the LF go, other CRs become spaces. */
static void clean_line(struct mclient_buf *out, const unsigned char *l, size_t n)
{
    size_t start = out->len;
    mclient_buf_add(out, l, n);
    out->len = start + mclient_line_clean((char *)out->p + start, n);
}

/* Encodes one header field ("Name: value\n continuation") as HEADER packet
 * data, in both forms (value as is; one leading space stripped). */
static void msg_add_header(struct message *m, struct mclient_buf *blob, size_t *cap,
                           const unsigned char *field, size_t n)
{
    const char *f = (const char *)field;
    size_t lab, vlen;
    const char *val = f + mclient_header_split(f, n, 1, &lab, &vlen);
    if (m->nhdrs == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        m->hdrs = mclient_xrealloc(m->hdrs, *cap * sizeof *m->hdrs);
    }
    struct hdr *h = &m->hdrs[m->nhdrs++];
    h->off[0] = blob->len;
    mclient_header_data(blob, f, lab, val, vlen);
    h->len[0] = blob->len - h->off[0];
    if (vlen && val[0] == ' ') {
        h->off[1] = blob->len;
        mclient_header_data(blob, f, lab, val + 1, vlen - 1);
        h->len[1] = blob->len - h->off[1];
    } else {
        h->off[1] = h->off[0];
        h->len[1] = h->len[0];
    }
}

/* Parses a message file's bytes into headers and a CRLF body. */
static void msg_parse(struct message *m, const unsigned char *p, size_t n)
{
    struct mclient_buf blob = {0}, field = {0}, body = {0}, line = {0};
    size_t cap = 0, pos = 0;
    int have = 0;
    size_t body_start = n;

    while (pos < n) {
        const unsigned char *nl = memchr(p + pos, '\n', n - pos);
        size_t end = nl ? (size_t)(nl - p) : n;
        size_t next = nl ? end + 1 : n;
        line.len = 0;
        clean_line(&line, p + pos, end - pos);
        if (have && line.len && (line.p[0] == ' ' || line.p[0] == '\t')) {
            mclient_buf_addc(&field, '\n');
            mclient_buf_add(&field, line.p, line.len);
            pos = next;
            continue;
        }
        if (have) {
            msg_add_header(m, &blob, &cap, field.p, field.len);
            have = 0;
        }
        if (line.len == 0) {
            body_start = next;          /* the empty line itself is not sent */
            break;
        }
        if (mclient_header_label((const char *)line.p, line.len)) {
            field.len = 0;
            mclient_buf_add(&field, line.p, line.len);
            have = 1;
            pos = next;
            continue;
        }
        body_start = pos;               /* this line starts the body */
        break;
    }
    if (have)
        msg_add_header(m, &blob, &cap, field.p, field.len);

    pos = body_start;
    while (pos < n) {
        const unsigned char *nl = memchr(p + pos, '\n', n - pos);
        size_t end = nl ? (size_t)(nl - p) : n;
        clean_line(&body, p + pos, end - pos);
        mclient_buf_add(&body, "\r\n", 2);      /* an unterminated last line too */
        pos = nl ? end + 1 : n;
    }
    m->hblob = blob.p;
    m->body = body.p;
    m->body_len = body.len;
    mclient_buf_free(&field);
    mclient_buf_free(&line);
}

/* Reads and parses one file; 0 or -1 (message printed). */
static int msg_load(const char *path, long long *total)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "loadgen: %s: %s\n", path, strerror(errno));
        return -1;
    }
    struct stat sb;
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_size > LG_MAX_FILE_BYTES) {
        fprintf(stderr, "loadgen: %s: not a regular file of at most %lld bytes\n",
                path, (long long)LG_MAX_FILE_BYTES);
        close(fd);
        return -1;
    }
    *total += sb.st_size;
    if (*total > LG_MAX_TOTAL_BYTES || g.nmsgs >= LG_MAX_FILES) {
        fprintf(stderr, "loadgen: too many messages (at most %d files, %lld bytes)\n",
                LG_MAX_FILES, (long long)LG_MAX_TOTAL_BYTES);
        close(fd);
        return -1;
    }
    size_t size = (size_t)sb.st_size, got = 0;
    unsigned char *data = mclient_xrealloc(NULL, size);
    while (got < size) {
        ssize_t r = read(fd, data + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            fprintf(stderr, "loadgen: %s: %s\n", path, r < 0 ? strerror(errno)
                    : "file shrank while read");
            free(data);
            close(fd);
            return -1;
        }
        got += (size_t)r;
    }
    close(fd);
    g.msgs = mclient_xrealloc(g.msgs, (g.nmsgs + 1) * sizeof *g.msgs);
    struct message *m = &g.msgs[g.nmsgs++];
    memset(m, 0, sizeof *m);
    m->path = mclient_xstrdup(path);
    msg_parse(m, data, size);
    free(data);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Loads a file, or every *.eml in a directory; 0 or -1. */
static int load_operand(const char *path, long long *total)
{
    struct stat sb;
    if (stat(path, &sb) < 0) {
        fprintf(stderr, "loadgen: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(sb.st_mode))
        return msg_load(path, total);
    DIR *d = opendir(path);
    if (d == NULL) {
        fprintf(stderr, "loadgen: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l < 5 || strcmp(de->d_name + l - 4, ".eml") != 0)
            continue;
        if (n >= LG_MAX_FILES) {
            fprintf(stderr, "loadgen: %s: more than %d .eml files\n", path, LG_MAX_FILES);
            break;
        }
        names = mclient_xrealloc(names, (n + 1) * sizeof *names);
        size_t pl = strlen(path) + l + 2;
        names[n] = mclient_xrealloc(NULL, pl);
        snprintf(names[n], pl, "%s/%s", path, de->d_name);
        n++;
    }
    closedir(d);
    int rc = 0;
    if (n == 0) {
        fprintf(stderr, "loadgen: %s: no .eml files\n", path);
        rc = -1;
    }
    if (n > 1)
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        if (rc == 0)
            rc = msg_load(names[i], total);
        free(names[i]);
    }
    free(names);
    return rc;
}

/* ---- option parsing ---------------------------------------------------- */

/* Parses SOCKET into socket addresses; 0 or -1 (message printed). */
static int parse_socket(struct milter_addr *a, const char *spec)
{
    char err[LG_ERR_LEN];
    a->spec = mclient_xstrdup(spec);
    if (mclient_resolve(&a->addr, spec, err, sizeof err) < 0) {
        fprintf(stderr, "loadgen: %s\n", err);
        return -1;
    }
    return 0;
}

/* The domain of an address, or NULL. */
static char *addr_host(const char *bare)
{
    const char *at = strrchr(bare, '@');
    return at && at[1] ? mclient_xstrdup(at + 1) : NULL;
}

static int parse_ll(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*s == 0 || *end || errno || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static void usage(void)
{
    fputs("usage: loadgen -s SOCKET [-s SOCKET2 ...] [-c CONCURRENCY]\n"
          "               [-n MESSAGES | -d SECONDS] [-m MSGS_PER_CONNECTION]\n"
          "               [-a AUTH_USER] [--client-ip IP] [--client-name NAME]\n"
          "               [--helo NAME] [--mail-from ADDR] [--rcpt ADDR]...\n"
          "               [-t TIMEOUT_SECS] [--warmup N] [--json] FILE_OR_DIR...\n"
          "SOCKET: unix:PATH | local:PATH | PATH | inet:PORT@HOST | inet6:PORT@HOST\n"
          "defaults: -c 8 -n 1000 -m 1 -t 30 --warmup 0 --client-ip 192.0.2.10\n"
          "The manual is the comment at the top of bench/loadgen.c.\n",
          stderr);
}

static int bad_value(const char *opt, const char *val)
{
    fprintf(stderr, "loadgen: bad value for %s: %s\n", opt, val);
    return 2;
}

enum {
    OPT_CLIENT_IP = 256, OPT_CLIENT_NAME, OPT_HELO, OPT_MAIL_FROM, OPT_RCPT,
    OPT_WARMUP, OPT_JSON
};

/* Parses the command line into g; 0, or the exit status to leave with. */
static int parse_args(int argc, char **argv)
{
    static const struct option lopts[] = {
        {"client-ip", required_argument, NULL, OPT_CLIENT_IP},
        {"client-name", required_argument, NULL, OPT_CLIENT_NAME},
        {"helo", required_argument, NULL, OPT_HELO},
        {"mail-from", required_argument, NULL, OPT_MAIL_FROM},
        {"rcpt", required_argument, NULL, OPT_RCPT},
        {"warmup", required_argument, NULL, OPT_WARMUP},
        {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int ch, have_n = 0;
    long long v;
    g.concurrency = LG_DEFAULT_CONCURRENCY;
    g.count = LG_DEFAULT_MESSAGES;
    g.per_conn = 1;
    g.timeout_ms = LG_DEFAULT_TIMEOUT * 1000;
    g.client_ip = LG_DEFAULT_CLIENT_IP;
    g.client_name = LG_DEFAULT_CLIENT_NAME;
    g.helo = LG_DEFAULT_HELO;
    g.from = LG_DEFAULT_FROM;
    while ((ch = getopt_long(argc, argv, "s:c:n:d:m:a:t:h", lopts, NULL)) != -1) {
        switch (ch) {
        case 's':
            if (g.nmilters == LG_MAX_MILTERS) {
                fprintf(stderr, "loadgen: at most %d milters\n", LG_MAX_MILTERS);
                return 2;
            }
            if (parse_socket(&g.milters[g.nmilters], optarg) < 0)
                return 2;
            g.nmilters++;
            break;
        case 'c':
            if (parse_ll(optarg, 1, LG_MAX_CONCURRENCY, &v) < 0)
                return bad_value("-c", optarg);
            g.concurrency = (int)v;
            break;
        case 'n':
            if (parse_ll(optarg, 1, LG_MAX_MESSAGES, &g.count) < 0)
                return bad_value("-n", optarg);
            have_n = 1;
            break;
        case 'd': {
            char *end;
            g.duration = strtod(optarg, &end);
            if (*optarg == 0 || *end || !(g.duration > 0) || g.duration > LG_MAX_SECONDS)
                return bad_value("-d", optarg);
            break;
        }
        case 'm':
            if (parse_ll(optarg, 1, LG_MAX_PER_CONN, &g.per_conn) < 0)
                return bad_value("-m", optarg);
            break;
        case 'a': g.auth = optarg; break;
        case 't':
            if (parse_ll(optarg, 0, LG_MAX_SECONDS, &v) < 0)
                return bad_value("-t", optarg);
            g.timeout_ms = (int)v * 1000;
            break;
        case OPT_CLIENT_IP: g.client_ip = optarg; break;
        case OPT_CLIENT_NAME: g.client_name = optarg; break;
        case OPT_HELO: g.helo = optarg; break;
        case OPT_MAIL_FROM: g.from = optarg; break;
        case OPT_RCPT:
            if (g.nrcpts == LG_MAX_RCPTS) {
                fprintf(stderr, "loadgen: at most %d recipients\n", LG_MAX_RCPTS);
                return 2;
            }
            g.rcpts[g.nrcpts++] = optarg;
            break;
        case OPT_WARMUP:
            if (parse_ll(optarg, 0, LG_MAX_MESSAGES, &g.warmup) < 0)
                return bad_value("--warmup", optarg);
            break;
        case OPT_JSON: g.json = 1; break;
        case 'h': usage(); exit(0);
        default: usage(); return 2;
        }
    }
    if (g.nmilters == 0 || optind >= argc) {
        usage();
        return 2;
    }
    if (have_n && g.duration > 0) {
        fputs("loadgen: -n and -d exclude each other\n", stderr);
        return 2;
    }
    unsigned char a6[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, g.client_ip, a6) == 1)
        g.client_family = '4';
    else if (inet_pton(AF_INET6, g.client_ip, a6) == 1)
        g.client_family = '6';
    else {
        fprintf(stderr, "loadgen: bad --client-ip: %s\n", g.client_ip);
        return 2;
    }
    if (g.nrcpts == 0)
        g.rcpts[g.nrcpts++] = LG_DEFAULT_RCPT;
    return 0;
}

/* Builds the strings the protocol needs from the options. */
static void prepare_envelope(void)
{
    size_t n = strlen(g.client_name) + strlen(g.client_ip) + 4;
    g.underscore = mclient_xrealloc(NULL, n);
    snprintf(g.underscore, n, "%s [%s]", g.client_name, g.client_ip);
    if (strcmp(g.client_name, "unknown") == 0) {
        n = strlen(g.client_ip) + 3;
        g.conn_name = mclient_xrealloc(NULL, n);
        snprintf(g.conn_name, n, "[%s]", g.client_ip);
    } else {
        g.conn_name = mclient_xstrdup(g.client_name);
    }
    g.from_bare = mclient_bare_addr(g.from);
    g.from_host = addr_host(g.from_bare);
    mclient_addr_arg(&g.mail_arg, g.from_bare);
    for (int i = 0; i < g.nrcpts; i++) {
        g.rcpt_bare[i] = mclient_bare_addr(g.rcpts[i]);
        g.rcpt_host[i] = addr_host(g.rcpt_bare[i]);
        mclient_addr_arg(&g.rcpt_arg[i], g.rcpt_bare[i]);
    }
    mclient_buf_adds(&g.helo_arg, g.helo);
    g.qid_base = (unsigned)time(NULL) ^ ((unsigned)getpid() << 8);
}

/* ---- the report -------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile p (0..100) of n samples, in milliseconds. */
static double pct_samples(const uint32_t *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t rank = (size_t)((p / 100.0) * (double)n + 0.999999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return v[rank - 1] / 1000.0;
}

static double pct_hist(const uint64_t *h, unsigned long long n, double p)
{
    if (n == 0)
        return 0;
    unsigned long long rank = (unsigned long long)((p / 100.0) * (double)n + 0.999999999);
    if (rank < 1)
        rank = 1;
    unsigned long long cum = 0;
    for (unsigned i = 0; i < LG_HIST_BUCKETS; i++) {
        cum += h[i];
        if (cum >= rank)
            return hist_value(i) / 1000.0;
    }
    return hist_value(LG_HIST_BUCKETS - 1) / 1000.0;
}

static void report(struct slot *slots, double seconds, double cpu_ms)
{
    struct stats tot = {0};
    uint64_t *hist = g.lat ? NULL : calloc(LG_HIST_BUCKETS, sizeof *hist);
    for (int i = 0; i < g.concurrency; i++) {
        const struct stats *st = &slots[i].st;
        tot.messages += st->messages;
        tot.errors += st->errors;
        for (int r = 0; r < R_COUNT; r++)
            tot.replies[r] += st->replies[r];
        tot.add += st->add;
        tot.ins += st->ins;
        tot.chg += st->chg;
        tot.other += st->other;
        for (unsigned c = 0; c < st->ncodes; c++)
            stats_code(&tot, st->codes[c].code, st->codes[c].n);
        tot.codes_other += st->codes_other;
        if (st->max_us > tot.max_us)
            tot.max_us = st->max_us;
        if (hist)
            for (unsigned b = 0; b < LG_HIST_BUCKETS; b++)
                hist[b] += slots[i].hist[b];
    }
    double p50, p90, p99;
    if (g.lat) {
        size_t n = (size_t)atomic_load(&g.nlat);
        if (n > (size_t)g.count)
            n = (size_t)g.count;
        qsort(g.lat, n, sizeof *g.lat, cmp_u32);
        p50 = pct_samples(g.lat, n, 50);
        p90 = pct_samples(g.lat, n, 90);
        p99 = pct_samples(g.lat, n, 99);
    } else if (hist) {
        p50 = pct_hist(hist, tot.messages, 50);
        p90 = pct_hist(hist, tot.messages, 90);
        p99 = pct_hist(hist, tot.messages, 99);
    } else {
        p50 = p90 = p99 = 0;    /* out of memory for the histogram */
    }
    free(hist);
    double max_ms = (double)tot.max_us / 1000.0;
    double rate = seconds > 0 ? (double)tot.messages / seconds : 0;
    unsigned long long attempts = tot.messages + tot.errors;
    double cpu_per = attempts ? cpu_ms / (double)attempts : 0;

    if (g.json) {
        printf("{\"messages\":%llu,\"seconds\":%.3f,\"rate\":%.1f,\"p50_ms\":%.3f,"
               "\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f,\"replies\":{",
               tot.messages, seconds, rate, p50, p90, p99, max_ms);
        for (int r = 0; r < R_COUNT; r++)
            printf("%s\"%s\":%llu", r ? "," : "", reply_names[r], tot.replies[r]);
        fputs("},\"replycodes\":{", stdout);
        for (unsigned c = 0; c < tot.ncodes; c++)
            printf("%s\"%s\":%llu", c ? "," : "", tot.codes[c].code, tot.codes[c].n);
        if (tot.codes_other)
            printf("%s\"other\":%llu", tot.ncodes ? "," : "", tot.codes_other);
        printf("},\"headers\":{\"add\":%llu,\"insert\":%llu,\"change\":%llu},"
               "\"errors\":%llu,\"client_cpu_ms_per_msg\":%.4f}\n",
               tot.add, tot.ins, tot.chg, tot.errors, cpu_per);
    } else {
        printf("loadgen: %llu messages in %.3f s: %.1f messages/s "
               "(concurrency %d, %lld message(s) per connection, %d milter%s)\n",
               tot.messages, seconds, rate, g.concurrency, g.per_conn, g.nmilters,
               g.nmilters > 1 ? "s" : "");
        printf("latency: p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, max %.3f ms\n",
               p50, p90, p99, max_ms);
        fputs("replies:", stdout);
        for (int r = 0; r < R_COUNT; r++)
            printf(" %s %llu", reply_names[r], tot.replies[r]);
        putchar('\n');
        if (tot.ncodes || tot.codes_other) {
            fputs("reply codes:", stdout);
            for (unsigned c = 0; c < tot.ncodes; c++)
                printf(" %s x%llu", tot.codes[c].code, tot.codes[c].n);
            if (tot.codes_other)
                printf(" other x%llu", tot.codes_other);
            putchar('\n');
        }
        printf("headers: add %llu, insert %llu, change %llu (other modifications %llu)\n",
               tot.add, tot.ins, tot.chg, tot.other);
        printf("errors: %llu\n", tot.errors);
        printf("client CPU: %.1f ms, %.4f ms per message\n", cpu_ms, cpu_per);
    }
    int shown = atomic_load(&g.errors_shown);
    if (shown > LG_MAX_ERRORS_SHOWN)
        fprintf(stderr, "loadgen: %d more errors not shown\n", shown - LG_MAX_ERRORS_SHOWN);
}

/* ---- main -------------------------------------------------------------- */

/* Frees what the run allocated (for leak checkers: nothing is left). */
static void cleanup(struct slot *slots)
{
    for (int i = 0; slots && i < g.concurrency; i++) {
        for (int k = 0; k < LG_MAX_MILTERS; k++) {
            mclient_free(&slots[i].c[k].mc);
        }
        free(slots[i].hist);
    }
    free(slots);
    free(g.lat);
    for (size_t i = 0; i < g.nmsgs; i++) {
        free(g.msgs[i].path);
        free(g.msgs[i].hdrs);
        free(g.msgs[i].hblob);
        free(g.msgs[i].body);
    }
    free(g.msgs);
    for (int i = 0; i < g.nmilters; i++)
        free(g.milters[i].spec);
    for (int i = 0; i < g.nrcpts; i++) {
        free(g.rcpt_bare[i]);
        free(g.rcpt_host[i]);
        mclient_buf_free(&g.rcpt_arg[i]);
    }
    free(g.conn_name);
    free(g.underscore);
    free(g.from_bare);
    free(g.from_host);
    mclient_buf_free(&g.mail_arg);
    mclient_buf_free(&g.helo_arg);
}

int main(int argc, char **argv)
{
    int rc = parse_args(argc, argv);
    if (rc)
        return rc;
    prepare_envelope();
    long long total = 0;
    for (int i = optind; i < argc; i++)
        if (load_operand(argv[i], &total) < 0)
            return 1;

    signal(SIGPIPE, SIG_IGN);
    if (g.duration <= 0) {
        g.lat = calloc((size_t)g.count, sizeof *g.lat);
        if (g.lat == NULL)
            die_oom();
    }
    struct slot *slots = calloc((size_t)g.concurrency, sizeof *slots);
    if (slots == NULL)
        die_oom();
    for (int i = 0; i < g.concurrency; i++) {
        slots[i].id = i;
        for (int k = 0; k < LG_MAX_MILTERS; k++)
            mclient_init(&slots[i].c[k].mc, "loadgen", g.timeout_ms, 0);
        if (!g.lat && (slots[i].hist = calloc(LG_HIST_BUCKETS, sizeof(uint64_t))) == NULL)
            die_oom();
    }
    if (g.warmup > 0 &&
        pthread_barrier_init(&g.barrier, NULL, (unsigned)g.concurrency + 1) != 0) {
        fputs("loadgen: pthread_barrier_init failed\n", stderr);
        cleanup(slots);
        return 1;
    }

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, LG_STACK_SIZE);
    long long t0 = now_us();
    double cpu0 = rusage_ms();
    for (int i = 0; i < g.concurrency; i++) {
        int e = pthread_create(&slots[i].tid, &attr, slot_main, &slots[i]);
        if (e != 0) {
            fprintf(stderr, "loadgen: pthread_create: %s\n", strerror(e));
            exit(1);            /* the threads started hold barrier places */
        }
    }
    pthread_attr_destroy(&attr);
    if (g.warmup > 0) {
        pthread_barrier_wait(&g.barrier);
        t0 = now_us();
        cpu0 = rusage_ms();
        pthread_barrier_wait(&g.barrier);
    }
    if (g.duration > 0) {
        long long deadline = t0 + (long long)(g.duration * 1e6);
        long long left;
        while (!atomic_load(&g.stop) && (left = deadline - now_us()) > 0) {
            long long step = left < 100000 ? left : 100000;   /* look at stop */
            struct timespec ts = {step / 1000000, (step % 1000000) * 1000};
            nanosleep(&ts, NULL);
        }
        atomic_store(&g.stop, 1);
    }
    for (int i = 0; i < g.concurrency; i++)
        pthread_join(slots[i].tid, NULL);
    long long t1 = now_us();
    double cpu1 = rusage_ms();

    if (g.warmup > 0)
        pthread_barrier_destroy(&g.barrier);
    if (atomic_load(&g.fatal)) {
        fprintf(stderr, "loadgen: cannot run: %s\n", g.fatal_msg);
        cleanup(slots);
        return 1;
    }
    report(slots, (double)(t1 - t0) / 1e6, cpu1 - cpu0);
    cleanup(slots);
    return 0;
}
