/*
 * NAME
 *	milter - the libmilter front end
 * SYNOPSIS
 *	#include "milter.h"
 *
 *	bool milter_open(spec, umask)
 *	int milter_run(void)
 *	void milter_stop(void)
 *	unsigned milter_drain(secs)
 *	unsigned milter_in_flight(void)
 *	unsigned milter_connections(void)
 * DESCRIPTION
 *	Each MTA connection gets a session of the engine with the
 *	configuration current when the connection started. The callbacks
 *	only translate: MTA data into session calls, the session's verdict
 *	into smfi_chgheader()/smfi_insheader()/smfi_quarantine()/
 *	smfi_setreply() and a return code.
 *	When the MTA agreed to "no reply" for a step, that step must never
 *	answer; a problem found there (no session) is answered at the end of
 *	the message with a temporary failure.
 *
 *	Round trips are what a milter costs the MTA, so the negotiation asks
 *	for "no reply" on every step before the end of the message, the
 *	body included, and skips the steps authmilter has no use for. The
 *	MTA then sends a whole message without waiting; each body chunk it
 *	waited for cost both sides a round trip (a 1 MB message has 16).
 *	A body the engine does not need is still sent, and ignored: the
 *	alternative, answering every chunk so as to be able to answer "skip
 *	the rest", costs every message that needs its body (all outbound
 *	mail, all signed inbound mail) to spare the transfer of an unsigned
 *	one. With an MTA that does not offer "no reply" for the body, the
 *	body is skipped when the engine does not need it. Header values are asked for with
 *	their leading space (SMFIP_HDR_LEADSPC), because DKIM with simple
 *	canonicalization needs the exact bytes; an MTA that cannot give them
 *	gets the one space it stripped put back, as it would have been.
 *
 *	Stopping. libmilter's own stop (smfi_stop(), or its signal thread
 *	on SIGTERM, SIGHUP or SIGINT) is not safe with Debian's libmilter,
 *	which is built with its pool of workers (_FFR_WORKERS_POOL). Told to
 *	stop, the pool's controller stops polling the connections that wait
 *	for the MTA's next command (their messages stall until the MTA's
 *	timeout), then closes every connection in its list, those a worker
 *	is serving included (the MTA sees its message cut off), without
 *	calling xxfi_close, and destroys the mutex that the workers and the
 *	listener still lock (they can hang there for good). So libmilter is
 *	never told to stop:
 *
 *	- milter_stop() stops the accepting itself. The listening socket
 *	  (the one libmilter opened, found at milter_open()) is shut down,
 *	  so new connections are refused at once, and its descriptor is
 *	  replaced by an eventfd that never becomes readable, on which
 *	  libmilter's listener then waits harmlessly. Nothing else changes
 *	  for libmilter: its workers keep serving the connections open.
 *	- What is in flight is not always visible: the MTA sends the steps
 *	  negotiated as "no reply" (CONNECT to end of headers) only when it
 *	  needs a reply, Postfix at the first body chunk. A connection that
 *	  looks idle may carry a message the MTA began before the stop.
 *	- So after the stop, a message in flight (MAIL FROM seen, no reply
 *	  yet) goes on to its verdict, and so does the first message that
 *	  shows on a connection that had none in flight at the stop. Any
 *	  other message is not evaluated: its body is skipped and its end is
 *	  answered "421 4.3.2", on which the MTA closes the SMTP session and
 *	  its client tries again later: a connection carries no further
 *	  message.
 *	- milter_drain() then waits until every connection has closed, or
 *	  until no message is in flight and MILTER_IDLE_WAIT_MS have passed
 *	  since the stop (a message the MTA had begun would have shown by
 *	  then), at most ShutdownTimeout. The daemon exits without calling
 *	  into libmilter's teardown. A connection left open was idle: the MTA
 *	  finds it closed at its next message and applies its default action
 *	  for an unavailable filter (milter_default_action = tempfail) to it.
 *
 *	libmilter's signal thread is kept out of the way as well: it waits
 *	for SIGTERM, SIGHUP and SIGINT in sigwait() and stops libmilter as
 *	above when one arrives. The daemon's main thread takes those signals
 *	(see daemon.c), but Linux hands a signal to another thread that
 *	accepts it when the main thread has one pending already (two signals
 *	sent back to back), and libmilter's thread would accept it. sigwait()
 *	is therefore defined below: the only caller in the program is that
 *	thread, and it never returns from it.
 * DIAGNOSTICS
 *	A failure to apply a verdict (the MTA refused a header) is an
 *	internal error: the message gets a temporary failure.
 */
#include "buildconf.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "config.h"
#include "log.h"
#include "metrics.h"
#include "milter.h"
#include "milter_io.h"
#include "milter_threads.h"
#include "milter_proto.h"
#include "runtime.h"
#include "session.h"
#include "util.h"

/*
 * Largest milter packet accepted. libmilter's default (64 KB) drops the
 * connection on a longer header field, and Postfix passes header fields up
 * to its header_size_limit (100 KB by default).
 */
#define MILTER_MAX_PACKET	(1024 * 1024 - 1)
#define MILTER_MAX_FD_SCAN	1024	/* descriptors searched for the listener */
/*
 * After the stop, how long connections that show nothing are waited for
 * (one may carry a message the MTA has begun and not shown yet: see
 * DESCRIPTION), at most ShutdownTimeout.
 */
#define MILTER_IDLE_WAIT_MS	5000
/*
 * Once no message is in flight, how long the stop gives the worker that
 * answered the last one to write the answer out (xxfi_eom() returns the
 * verdict, libmilter sends it just after) before it looks again.
 */
#define MILTER_REPLY_GRACE_MS	200
#define MILTER_DRAIN_TICK_MS	100	/* the stop looks again at least this often */
/*
 * Stack of the threads libmilter starts. Its pool of workers starts a
 * thread whenever no worker is idle and lets one end whenever two are;
 * milter_threads.c keeps them for its next starts, but a burst still
 * starts new ones, and with the 8 MB default only a few stacks fit
 * glibc's cache of freed stacks (40 MB), and each new thread maps a
 * fresh stack and faults its pages in. A session needs far less
 * (bounded buffers, no recursion deeper than SPF's include limit).
 */
#define MILTER_THREAD_STACK	(2 * 1024 * 1024)

/* Where a connection is with respect to a message. */
enum milter_txn {
	MILTER_TXN_NONE = 0,	/* between messages */
	MILTER_TXN_OPEN,	/* a message in flight: it gets its verdict */
	MILTER_TXN_REFUSED,	/* begun after the stop: answered 421 */
};

/* Per-connection state. */
struct milter_priv {
	struct session	*sess;
	unsigned long	 proto;		/* negotiated SMFIP_* flags */
	bool		 skip_body;
	enum milter_txn	 txn;
	bool		 spent;		/* no more messages after the stop */
};

/* The services every session uses (the daemon's runtime). */
static struct runtime *milter_rt;

/* Connections and messages in flight, for the stop. */
static pthread_mutex_t milter_lock = PTHREAD_MUTEX_INITIALIZER;
/* milter_idle: signalled when a message or a connection ends */
static pthread_cond_t milter_idle = PTHREAD_COND_INITIALIZER;
static unsigned milter_conns;		/* MTA connections open */
static unsigned milter_busy;		/* messages in flight */
static bool milter_stopping;		/* milter_stop() was called */
static int milter_listen_fd = -1;	/* libmilter's listening socket */
static struct sockaddr_storage milter_listen_addr;	/* ... its address */
static socklen_t milter_listen_addrlen;

#define MILTER_PRIV(ctx)	((struct milter_priv *)smfi_getpriv(ctx))

/* milter_noreply - SMFIS_NOREPLY if the MTA agreed to no reply for step */
static sfsistat
milter_noreply(SMFICTX *ctx, unsigned long flag)
{
	struct milter_priv *p = MILTER_PRIV(ctx);

	return p != NULL && (p->proto & flag) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* milter_priv_new - the state of a new connection, counted */
static struct milter_priv *
milter_priv_new(SMFICTX *ctx)
{
	struct milter_priv *p = xcalloc(1, sizeof(*p));

	smfi_setpriv(ctx, p);
	pthread_mutex_lock(&milter_lock);
	milter_conns++;
	pthread_mutex_unlock(&milter_lock);
	return p;
}

/*
 * milter_txn_begin - a message starts (MAIL FROM). After the stop, a
 * connection that had no message in flight may still bring one (the MTA
 * may have begun it before the stop and not shown it yet): it goes on to
 * its verdict. Any other is refused.
 */
static void
milter_txn_begin(struct milter_priv *p)
{
	pthread_mutex_lock(&milter_lock);
	if (p->txn == MILTER_TXN_NONE)
		milter_busy++;
	if (!milter_stopping)
		p->txn = MILTER_TXN_OPEN;
	else if (p->txn == MILTER_TXN_NONE && !p->spent)
		p->txn = MILTER_TXN_OPEN;
	else
		p->txn = MILTER_TXN_REFUSED;
	if (milter_stopping)
		p->spent = true;
	pthread_mutex_unlock(&milter_lock);
}

/* milter_txn_end - the message has its answer, or is gone */
static void
milter_txn_end(struct milter_priv *p)
{
	pthread_mutex_lock(&milter_lock);
	if (p->txn != MILTER_TXN_NONE) {
		milter_busy--;
		pthread_cond_broadcast(&milter_idle);
		if (milter_stopping)
			p->spent = true;
	}
	p->txn = MILTER_TXN_NONE;
	pthread_mutex_unlock(&milter_lock);
}

/* milter_live - does this connection's current message go to the engine? */
static bool
milter_live(const struct milter_priv *p)
{
	return p != NULL && p->sess != NULL && p->txn != MILTER_TXN_REFUSED;
}

/*
 * milter_refuse - the end of a message begun after the stop: 421, on which
 * the MTA closes the SMTP session and the client tries again later
 */
static sfsistat
milter_refuse(SMFICTX *ctx, struct milter_priv *p)
{
	const char *qid = smfi_getsymval(ctx, "i");

	log_info("%s: not evaluated: authmilter is stopping (421 4.3.2)",
	    qid ? qid : "NOQUEUE");
	milter_txn_end(p);
	smfi_setreply(ctx, "421", "4.3.2",
	    "authmilter is stopping, try again later");
	return SMFIS_TEMPFAIL;
}

/* milter_negotiate - ask for what we use, offer no replies where safe */
static sfsistat
milter_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	struct milter_priv *p;

	(void)f2;
	(void)f3;
	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE |
	    SMFIF_SETSYMLIST);
	*pf1 = f1 & MILTER_PROTO_WANT;
	*pf2 = 0;
	*pf3 = 0;
	p = MILTER_PRIV(ctx);
	if (p == NULL)
		p = milter_priv_new(ctx);
	p->proto = *pf1;
	if (*pf0 & SMFIF_SETSYMLIST) {
		smfi_setsymlist(ctx, SMFIM_ENVFROM, "i {auth_authen}");
		smfi_setsymlist(ctx, SMFIM_EOH, "i");
		smfi_setsymlist(ctx, SMFIM_EOM, "i");
	}
	return SMFIS_CONTINUE;
}

/* milter_addr - the client address as text; NULL for a local client */
static const char *
milter_addr(const struct sockaddr *sa, char *buf, size_t size)
{
	if (sa == NULL)
		return NULL;
	if (sa->sa_family == AF_INET)
		return inet_ntop(AF_INET,
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		    buf, (socklen_t)size);
	if (sa->sa_family == AF_INET6)
		return inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		    buf, (socklen_t)size);
	return NULL;
}

/* milter_connect - a new MTA connection gets a session */
static sfsistat
milter_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	struct milter_priv *p = MILTER_PRIV(ctx);
	struct config *cfg;
	char abuf[INET6_ADDRSTRLEN];

	if (p == NULL)			/* an MTA that skipped negotiation */
		p = milter_priv_new(ctx);
	cfg = config_current();
	if (cfg == NULL)		/* cannot happen once running; EOM defers */
		return milter_noreply(ctx, SMFIP_NR_CONN);
	p->sess = session_new(cfg, milter_rt);
	config_unref(cfg);
	session_connect(p->sess, hostname,
	    milter_addr(hostaddr, abuf, sizeof(abuf)));
	return milter_noreply(ctx, SMFIP_NR_CONN);
}

static sfsistat
milter_helo(SMFICTX *ctx, char *helo)
{
	struct milter_priv *p = MILTER_PRIV(ctx);

	if (p && p->sess)
		session_helo(p->sess, helo);
	return milter_noreply(ctx, SMFIP_NR_HELO);
}

/* milter_qid - pass the queue id on if the MTA has told it yet */
static void
milter_qid(SMFICTX *ctx, struct session *s)
{
	const char *qid = smfi_getsymval(ctx, "i");

	if (qid != NULL)
		session_set_queueid(s, qid);
}

static sfsistat
milter_envfrom(SMFICTX *ctx, char **argv)
{
	struct milter_priv *p = MILTER_PRIV(ctx);

	if (p == NULL)
		return milter_noreply(ctx, SMFIP_NR_MAIL);
	milter_txn_begin(p);
	p->skip_body = p->txn == MILTER_TXN_REFUSED;
	if (!milter_live(p))
		return milter_noreply(ctx, SMFIP_NR_MAIL);
	session_mail(p->sess, argv[0], smfi_getsymval(ctx, "{auth_authen}"));
	milter_qid(ctx, p->sess);
	return milter_noreply(ctx, SMFIP_NR_MAIL);
}

static sfsistat
milter_envrcpt(SMFICTX *ctx, char **argv)
{
	struct milter_priv *p = MILTER_PRIV(ctx);

	if (milter_live(p))
		session_rcpt(p->sess, argv[0]);
	return milter_noreply(ctx, SMFIP_NR_RCPT);
}

/* milter_header - one header; restore the space an old MTA stripped */
static sfsistat
milter_header(SMFICTX *ctx, char *name, char *value)
{
	struct milter_priv *p = MILTER_PRIV(ctx);
	struct buf v;

	if (!milter_live(p))
		return milter_noreply(ctx, SMFIP_NR_HDR);
	if (p->proto & SMFIP_HDR_LEADSPC)
		session_header(p->sess, name, value);
	else {
		buf_init(&v);
		buf_putc(&v, ' ');
		buf_puts(&v, value);
		session_header(p->sess, name, v.data);
		buf_free(&v);
	}
	return milter_noreply(ctx, SMFIP_NR_HDR);
}

static sfsistat
milter_eoh(SMFICTX *ctx)
{
	struct milter_priv *p = MILTER_PRIV(ctx);

	if (!milter_live(p))
		return milter_noreply(ctx, SMFIP_NR_EOH);
	milter_qid(ctx, p->sess);
	p->skip_body = !session_eoh(p->sess);
	return milter_noreply(ctx, SMFIP_NR_EOH);
}

static sfsistat
milter_body(SMFICTX *ctx, unsigned char *data, size_t len)
{
	struct milter_priv *p = MILTER_PRIV(ctx);

	/* with SMFIP_NR_BODY the end of the message answers for the body */
	if (p != NULL && (p->proto & SMFIP_NR_BODY)) {
		if (milter_live(p) && !p->skip_body)
			session_body(p->sess, data, len);
		return SMFIS_NOREPLY;
	}
	if (p == NULL)
		return SMFIS_TEMPFAIL;
	if (p->sess == NULL) {
		milter_txn_end(p);
		return SMFIS_TEMPFAIL;
	}
	if (p->skip_body)
		return (p->proto & SMFIP_SKIP) ? SMFIS_SKIP : SMFIS_CONTINUE;
	session_body(p->sess, data, len);
	return SMFIS_CONTINUE;
}

/*
 * milter_lf - v as the MTA wants it: LF folding, and the leading space that
 * an MTA speaking SMFIP_HDR_LEADSPC no longer adds by itself
 */
static char *
milter_lf(const char *v, bool leadspc)
{
	char *out = xmalloc(strlen(v) + 2), *w = out;

	if (leadspc)
		*w++ = ' ';
	for (const char *r = v; *r; r++)
		if (!(r[0] == '\r' && r[1] == '\n'))
			*w++ = *r;
	*w = '\0';
	return out;
}

/*
 * milter_apply_headers - remove, then add, the verdict's headers; false if
 * the MTA refused. Removals go first: their indexes count the headers the
 * MTA showed us, before our insertions.
 */
static bool
milter_apply_headers(SMFICTX *ctx, const struct verdict *v)
{
	const struct milter_priv *p = MILTER_PRIV(ctx);
	bool leadspc = (p->proto & SMFIP_HDR_LEADSPC) != 0;

	for (size_t i = v->nremoved; i-- > 0; )
		if (smfi_chgheader(ctx, v->removed[i].name,
		    (int)v->removed[i].index, NULL) != MI_SUCCESS)
			return false;
	for (size_t i = 0; i < v->nadded; i++) {
		char *val = milter_lf(v->added[i].value, leadspc);
		int rc = smfi_insheader(ctx, (int)v->added[i].index,
		    v->added[i].name, val);

		free(val);
		if (rc != MI_SUCCESS)
			return false;
	}
	return true;
}

/* milter_reply - return code and SMTP reply for a verdict */
static sfsistat
milter_reply(SMFICTX *ctx, const struct verdict *v)
{
	switch (v->action) {
	case VERDICT_TEMPFAIL:
		smfi_setreply(ctx, (char *)v->rcode, (char *)v->xcode,
		    v->reason);
		return SMFIS_TEMPFAIL;
	case VERDICT_REJECT:
		smfi_setreply(ctx, (char *)v->rcode, (char *)v->xcode,
		    v->reason);
		return SMFIS_REJECT;
	case VERDICT_QUARANTINE:
		smfi_quarantine(ctx, v->reason);
		return SMFIS_ACCEPT;
	default:
		return SMFIS_ACCEPT;
	}
}

/* milter_observe - the time since t0 into the end-of-message histogram */
static void
milter_observe(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	metrics_hist_observe(&runtime_metrics(milter_rt)->eom,
	    (uint64_t)((t1.tv_sec - t0->tv_sec) * 1000000000LL +
	    (t1.tv_nsec - t0->tv_nsec)));
}

static sfsistat
milter_eom(SMFICTX *ctx)
{
	struct milter_priv *p = MILTER_PRIV(ctx);
	struct timespec t0;
	struct verdict v;
	sfsistat rc;

	if (p == NULL)
		return SMFIS_TEMPFAIL;
	if (p->txn == MILTER_TXN_REFUSED)
		return milter_refuse(ctx, p);
	if (p->sess == NULL) {
		milter_txn_end(p);
		return SMFIS_TEMPFAIL;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	milter_qid(ctx, p->sess);
	session_eom(p->sess, &v);
	if ((v.action == VERDICT_ACCEPT || v.action == VERDICT_QUARANTINE) &&
	    !milter_apply_headers(ctx, &v)) {
		log_err("%s; the MTA refused a header change: temporary "
		    "failure", v.summary);
		verdict_clear(&v);
		milter_txn_end(p);
		smfi_setreply(ctx, "451", "4.7.0",
		    "authmilter: internal error, try again later");
		return SMFIS_TEMPFAIL;
	}
	log_info("%s", v.summary);
	rc = milter_reply(ctx, &v);
	verdict_clear(&v);
	milter_observe(&t0);
	milter_txn_end(p);
	return rc;
}

static sfsistat
milter_abort(SMFICTX *ctx)
{
	struct milter_priv *p = MILTER_PRIV(ctx);

	if (p == NULL)
		return SMFIS_CONTINUE;
	if (p->sess)
		session_abort(p->sess);
	milter_txn_end(p);
	return SMFIS_CONTINUE;
}

/* milter_close - the connection ends: release its session */
static sfsistat
milter_close(SMFICTX *ctx)
{
	struct milter_priv *p = MILTER_PRIV(ctx);

	if (p == NULL)
		return SMFIS_CONTINUE;
	milter_txn_end(p);
	if (p->sess)
		session_free(p->sess);
	pthread_mutex_lock(&milter_lock);
	milter_conns--;
	pthread_cond_broadcast(&milter_idle);
	pthread_mutex_unlock(&milter_lock);
	free(p);
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

static struct smfiDesc milter_desc = {
	.xxfi_name = "authmilter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE |
	    SMFIF_SETSYMLIST,
	.xxfi_connect = milter_connect,
	.xxfi_helo = milter_helo,
	.xxfi_envfrom = milter_envfrom,
	.xxfi_envrcpt = milter_envrcpt,
	.xxfi_header = milter_header,
	.xxfi_eoh = milter_eoh,
	.xxfi_body = milter_body,
	.xxfi_eom = milter_eom,
	.xxfi_abort = milter_abort,
	.xxfi_close = milter_close,
	.xxfi_negotiate = milter_negotiate,
};

/*
 * milter_nodelay - TCP_NODELAY on libmilter's listening TCP socket. The
 * replies at the end of a message (header changes, then the verdict) go
 * out as several small writes; with Nagle on, the second waits for the
 * MTA's delayed ACK, some 40 ms per message. Linux hands the option on to
 * every accepted connection.
 */
static void
milter_nodelay(int fd)
{
	int dom = 0, one = 1;
	socklen_t len = sizeof(dom);

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &len) != 0 ||
	    (dom != AF_INET && dom != AF_INET6))
		return;
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
		log_warn("cannot set TCP_NODELAY on the milter socket");
}

/* milter_listeners - mark which of the first descriptors listen */
static void
milter_listeners(bool *listening)
{
	for (int fd = 0; fd < MILTER_MAX_FD_SCAN; fd++) {
		int on = 0;
		socklen_t len = sizeof(on);

		listening[fd] = getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on,
		    &len) == 0 && on;
	}
}

/*
 * milter_open - register and open the listening socket. libmilter does not
 * expose its descriptor: it is the one socket that listens after
 * smfi_opensocket() and did not before.
 */
bool
milter_open(const char *spec, mode_t mask, struct runtime *rt)
{
	bool before[MILTER_MAX_FD_SCAN], after[MILTER_MAX_FD_SCAN];
	mode_t old;
	int rc;

	milter_rt = rt;
	smfi_setmaxdatasize(MILTER_MAX_PACKET);
	if (smfi_register(milter_desc) == MI_FAILURE) {
		log_err("libmilter: smfi_register failed");
		return false;
	}
	if (smfi_setconn((char *)spec) == MI_FAILURE) {
		log_err("libmilter: bad socket \"%s\"", spec);
		return false;
	}
	milter_listeners(before);
	old = umask(mask);
	rc = smfi_opensocket(true);
	umask(old);
	if (rc == MI_FAILURE) {
		log_err("cannot open the milter socket %s (does its directory "
		    "exist, and is the port free?)", spec);
		return false;
	}
	milter_listeners(after);
	for (int fd = 0; fd < MILTER_MAX_FD_SCAN && milter_listen_fd < 0; fd++)
		if (after[fd] && !before[fd])
			milter_listen_fd = fd;
	if (milter_listen_fd < 0) {
		log_err("cannot find libmilter's socket for %s among the first "
		    "%d descriptors", spec, MILTER_MAX_FD_SCAN);
		return false;
	}
	milter_listen_addrlen = sizeof(milter_listen_addr);
	if (getsockname(milter_listen_fd,
	    (struct sockaddr *)&milter_listen_addr, &milter_listen_addrlen) < 0)
		milter_listen_addrlen = 0;
	milter_nodelay(milter_listen_fd);
	milter_io_listen(milter_listen_fd);
	/* the changes milter_apply_headers() makes go out with the reply */
	milter_io_hold((const char[])MILTER_HOLD_CMDS);
	return true;
}

/*
 * milter_thread_stack - the stack size of the threads started from now on
 * without attributes (libmilter's), MILTER_THREAD_STACK unless the
 * default is smaller already
 */
static void
milter_thread_stack(void)
{
	pthread_attr_t a;
	size_t size = 0;

	if (pthread_getattr_default_np(&a) != 0)
		return;
	if (pthread_attr_getstacksize(&a, &size) == 0 &&
	    size > MILTER_THREAD_STACK &&
	    pthread_attr_setstacksize(&a, MILTER_THREAD_STACK) == 0 &&
	    pthread_setattr_default_np(&a) != 0)
		log_warn("cannot set the stack size of libmilter's threads");
	pthread_attr_destroy(&a);
}

/* milter_run - hand control to libmilter; returns only if it fails */
int
milter_run(void)
{
	milter_thread_stack();
	/* libmilter's workers wait for its next start instead of ending */
	milter_threads_keep((const void *)smfi_main, MILTER_THREADS_IDLE_MAX,
	    MILTER_THREADS_IDLE_MS);
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}

/*
 * milter_close_listener - refuse new connections from now on, behind
 * libmilter's back (see DESCRIPTION): a descriptor of our own keeps the
 * socket while an eventfd takes its place in libmilter's hands, then the
 * socket is shut down (the MTA's connects are refused, those queued but
 * not accepted are reset) and closed.
 */
static void
milter_close_listener(void)
{
	int keep, idle;

	if (milter_listen_fd < 0)
		return;
	milter_io_listen(-1);
	keep = fcntl(milter_listen_fd, F_DUPFD_CLOEXEC, 0);
	idle = eventfd(0, EFD_CLOEXEC);
	if (keep < 0 || idle < 0 || dup2(idle, milter_listen_fd) < 0) {
		log_err("stopping: cannot take the socket from libmilter: %s",
		    strerror(errno));
		if (shutdown(milter_listen_fd, SHUT_RDWR) < 0)
			log_err("stopping: shutdown of the socket: %s",
			    strerror(errno));
	}
	if (idle >= 0)
		close(idle);
	if (keep >= 0) {
		if (shutdown(keep, SHUT_RDWR) < 0 && errno != ENOTCONN)
			log_warn("stopping: shutdown of the socket: %s",
			    strerror(errno));
		close(keep);
	}
	milter_listen_fd = -1;
}

/* milter_stop - accept no more connections, and no more messages */
void
milter_stop(void)
{
	pthread_mutex_lock(&milter_lock);
	milter_stopping = true;
	pthread_mutex_unlock(&milter_lock);
	milter_close_listener();
}

/* milter_in_flight - how many messages are between MAIL FROM and reply */
unsigned
milter_in_flight(void)
{
	unsigned n;

	pthread_mutex_lock(&milter_lock);
	n = milter_busy;
	pthread_mutex_unlock(&milter_lock);
	return n;
}

/* milter_connections - how many MTA connections are open */
unsigned
milter_connections(void)
{
	unsigned n;

	pthread_mutex_lock(&milter_lock);
	n = milter_conns;
	pthread_mutex_unlock(&milter_lock);
	return n;
}

/* milter_sleep_ms - sleep that long */
static void
milter_sleep_ms(unsigned ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* milter_local_is_ours - is a local address that of the milter socket? */
static bool
milter_local_is_ours(const struct sockaddr_storage *a, socklen_t len)
{
	const struct sockaddr_storage *l = &milter_listen_addr;

	if (milter_listen_addrlen == 0 || a->ss_family != l->ss_family)
		return false;
	if (l->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a;
		const struct sockaddr_in *y = (const void *)l;

		/* a socket bound to any address accepts on a specific one */
		return x->sin_port == y->sin_port &&
		    (y->sin_addr.s_addr == htonl(INADDR_ANY) ||
		    x->sin_addr.s_addr == y->sin_addr.s_addr);
	}
	if (l->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a;
		const struct sockaddr_in6 *y = (const void *)l;

		return x->sin6_port == y->sin6_port &&
		    (IN6_IS_ADDR_UNSPECIFIED(&y->sin6_addr) ||
		    IN6_ARE_ADDR_EQUAL(&x->sin6_addr, &y->sin6_addr));
	}
	return len == milter_listen_addrlen && memcmp(a, l, len) == 0;
}

/*
 * milter_fd_unread - is fd a connection from the MTA (a stream socket that
 * does not listen, with the milter socket's local address) holding input
 * that libmilter has not read yet?
 */
static bool
milter_fd_unread(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(int);
	int type = 0, on = 0, n = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 ||
	    type != SOCK_STREAM)
		return false;
	len = sizeof(on);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) != 0 || on)
		return false;
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0 ||
	    !milter_local_is_ours(&ss, len))
		return false;
	return milter_io_buffered(fd) || (ioctl(fd, FIONREAD, &n) == 0 &&
	    n > 0);
}

/*
 * milter_unread - has the MTA sent something libmilter has not read yet?
 * A command waiting there may start a message. The connections are found
 * among the descriptors listed in /proc/self/fd, or the first
 * MILTER_MAX_FD_SCAN without /proc.
 */
static bool
milter_unread(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;
	bool unread = false;

	if (dir == NULL) {
		for (int fd = 0; fd < MILTER_MAX_FD_SCAN && !unread; fd++)
			unread = milter_fd_unread(fd);
		return unread;
	}
	while (!unread && (e = readdir(dir)) != NULL) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);

		if (end != e->d_name && *end == '\0' && fd != dirfd(dir))
			unread = milter_fd_unread((int)fd);
	}
	closedir(dir);
	return unread;
}

/* milter_ms_since - milliseconds from t0 to now (CLOCK_MONOTONIC) */
static long
milter_ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)(t.tv_sec - t0->tv_sec) * 1000 +
	    (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* milter_wait_ms - wait for milter_idle at most ms; milter_lock held */
static void
milter_wait_ms(long ms)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&milter_idle, &milter_lock, &until);
}

/*
 * milter_drain - after milter_stop(), wait up to secs until every message
 * in flight has been answered; how many still are in flight. Done early
 * when every connection has closed. Otherwise done once no message is in
 * flight, the connections left have been quiet for MILTER_IDLE_WAIT_MS
 * since the stop (a message the MTA had begun would have shown by then),
 * and none holds a command not read yet, twice, MILTER_REPLY_GRACE_MS
 * apart: the worker that answered the last message has written the answer
 * out by then, and a command on its way has been read.
 */
unsigned
milter_drain(unsigned secs)
{
	struct timespec t0;
	long limit = (long)secs * 1000, idle_wait, now;
	unsigned busy, conns;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	idle_wait = MILTER_IDLE_WAIT_MS < limit ? MILTER_IDLE_WAIT_MS : limit;
	pthread_mutex_lock(&milter_lock);
	for (;;) {
		busy = milter_busy;
		conns = milter_conns;
		now = milter_ms_since(&t0);
		if (conns == 0 || now >= limit)
			break;
		if (busy == 0 && now >= idle_wait) {
			pthread_mutex_unlock(&milter_lock);
			if (!milter_unread()) {
				milter_sleep_ms(MILTER_REPLY_GRACE_MS);
				if (milter_in_flight() == 0 && !milter_unread())
					return 0;
			}
			pthread_mutex_lock(&milter_lock);
			continue;
		}
		milter_wait_ms(MILTER_DRAIN_TICK_MS);
	}
	pthread_mutex_unlock(&milter_lock);
	return busy;
}

/*
 * sigwait - park libmilter's signal thread for good (see DESCRIPTION).
 * This definition takes the place of the C library's in the whole program;
 * libmilter's signal thread is its only caller, and the one to ask for
 * SIGTERM and SIGHUP. Any other caller gets the standard behaviour.
 */
int
sigwait(const sigset_t *set, int *sig)
{
	sigset_t all;
	int n;

	if (sigismember(set, SIGTERM) == 1 && sigismember(set, SIGHUP) == 1) {
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, NULL);
		for (;;)
			pause();
	}
	do
		n = sigwaitinfo(set, NULL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno;
	*sig = n;
	return 0;
}
