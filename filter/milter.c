/*
 * NAME
 *	milter - the libmilter front end
 * SYNOPSIS
 *	#include "milter.h"
 *
 *	bool milter_open(spec, umask)
 *	int milter_run(void)
 *	bool milter_drain(secs)
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
 *	for "no reply" on every step before the end of the message, skips
 *	the steps authmilter has no use for, and skips the body when the
 *	engine says it does not need it. Header values are asked for with
 *	their leading space (SMFIP_HDR_LEADSPC), because DKIM with simple
 *	canonicalization needs the exact bytes; an MTA that cannot give them
 *	gets the one space it stripped put back, as it would have been.
 * DIAGNOSTICS
 *	A failure to apply a verdict (the MTA refused a header) is an
 *	internal error: the message gets a temporary failure.
 */
#include "buildconf.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include <libmilter/mfapi.h>

#include "config.h"
#include "log.h"
#include "metrics.h"
#include "milter.h"
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

/* Per-connection state. */
struct milter_priv {
	struct session	*sess;
	unsigned long	 proto;		/* negotiated SMFIP_* flags */
	bool		 skip_body;
};

/* The services every session uses (the daemon's runtime). */
static struct runtime *milter_rt;

/* Sessions in flight, for a graceful stop. */
static pthread_mutex_t milter_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t milter_idle = PTHREAD_COND_INITIALIZER;
static unsigned milter_active;

#define MILTER_PRIV(ctx)	((struct milter_priv *)smfi_getpriv(ctx))

/* milter_noreply - SMFIS_NOREPLY if the MTA agreed to no reply for step */
static sfsistat
milter_noreply(SMFICTX *ctx, unsigned long flag)
{
	struct milter_priv *p = MILTER_PRIV(ctx);

	return p != NULL && (p->proto & flag) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* milter_negotiate - ask for what we use, offer no replies where safe */
static sfsistat
milter_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	static const unsigned long want = SMFIP_HDR_LEADSPC | SMFIP_SKIP |
	    SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT |
	    SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_DATA | SMFIP_NR_UNKN |
	    SMFIP_NOUNKNOWN | SMFIP_NODATA;
	struct milter_priv *p;

	(void)f2;
	(void)f3;
	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE |
	    SMFIF_SETSYMLIST);
	*pf1 = f1 & want;
	*pf2 = 0;
	*pf3 = 0;
	p = xcalloc(1, sizeof(*p));
	p->proto = *pf1;
	smfi_setpriv(ctx, p);
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

	if (p == NULL) {		/* an MTA that skipped negotiation */
		p = xcalloc(1, sizeof(*p));
		smfi_setpriv(ctx, p);
	}
	cfg = config_current();
	if (cfg == NULL)		/* cannot happen once running; EOM defers */
		return milter_noreply(ctx, SMFIP_NR_CONN);
	p->sess = session_new(cfg, milter_rt);
	config_unref(cfg);
	pthread_mutex_lock(&milter_lock);
	milter_active++;
	pthread_mutex_unlock(&milter_lock);
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

	if (p == NULL || p->sess == NULL)
		return milter_noreply(ctx, SMFIP_NR_MAIL);
	p->skip_body = false;
	session_mail(p->sess, argv[0], smfi_getsymval(ctx, "{auth_authen}"));
	milter_qid(ctx, p->sess);
	return milter_noreply(ctx, SMFIP_NR_MAIL);
}

static sfsistat
milter_envrcpt(SMFICTX *ctx, char **argv)
{
	struct milter_priv *p = MILTER_PRIV(ctx);

	if (p && p->sess)
		session_rcpt(p->sess, argv[0]);
	return milter_noreply(ctx, SMFIP_NR_RCPT);
}

/* milter_header - one header; restore the space an old MTA stripped */
static sfsistat
milter_header(SMFICTX *ctx, char *name, char *value)
{
	struct milter_priv *p = MILTER_PRIV(ctx);
	struct buf v;

	if (p == NULL || p->sess == NULL)
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

	if (p == NULL || p->sess == NULL)
		return milter_noreply(ctx, SMFIP_NR_EOH);
	milter_qid(ctx, p->sess);
	p->skip_body = !session_eoh(p->sess);
	return milter_noreply(ctx, SMFIP_NR_EOH);
}

static sfsistat
milter_body(SMFICTX *ctx, unsigned char *data, size_t len)
{
	struct milter_priv *p = MILTER_PRIV(ctx);

	if (p == NULL || p->sess == NULL)
		return SMFIS_TEMPFAIL;
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

	if (p == NULL || p->sess == NULL)
		return SMFIS_TEMPFAIL;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	milter_qid(ctx, p->sess);
	session_eom(p->sess, &v);
	if ((v.action == VERDICT_ACCEPT || v.action == VERDICT_QUARANTINE) &&
	    !milter_apply_headers(ctx, &v)) {
		log_err("%s; the MTA refused a header change: temporary "
		    "failure", v.summary);
		verdict_clear(&v);
		smfi_setreply(ctx, "451", "4.7.0",
		    "authmilter: internal error, try again later");
		return SMFIS_TEMPFAIL;
	}
	log_info("%s", v.summary);
	rc = milter_reply(ctx, &v);
	verdict_clear(&v);
	milter_observe(&t0);
	return rc;
}

static sfsistat
milter_abort(SMFICTX *ctx)
{
	struct milter_priv *p = MILTER_PRIV(ctx);

	if (p && p->sess)
		session_abort(p->sess);
	return SMFIS_CONTINUE;
}

/* milter_close - the connection ends: release its session */
static sfsistat
milter_close(SMFICTX *ctx)
{
	struct milter_priv *p = MILTER_PRIV(ctx);

	if (p == NULL)
		return SMFIS_CONTINUE;
	if (p->sess) {
		session_free(p->sess);
		pthread_mutex_lock(&milter_lock);
		if (--milter_active == 0)
			pthread_cond_broadcast(&milter_idle);
		pthread_mutex_unlock(&milter_lock);
	}
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
 * every accepted connection. libmilter does not expose its descriptor, so
 * it is found as the one listening socket right after smfi_opensocket().
 */
static void
milter_nodelay(void)
{
	for (int fd = 0; fd < MILTER_MAX_FD_SCAN; fd++) {
		int on = 0, dom = 0, one = 1;
		socklen_t len = sizeof(on);

		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) != 0 ||
		    !on)
			continue;
		len = sizeof(dom);
		if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &len) != 0 ||
		    (dom != AF_INET && dom != AF_INET6))
			continue;
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one)) != 0)
			log_warn("cannot set TCP_NODELAY on the milter socket");
	}
}

/* milter_open - register and open the listening socket */
bool
milter_open(const char *spec, mode_t mask, struct runtime *rt)
{
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
	old = umask(mask);
	rc = smfi_opensocket(true);
	umask(old);
	if (rc == MI_FAILURE) {
		log_err("cannot open the milter socket %s (does its directory "
		    "exist, and is the port free?)", spec);
		return false;
	}
	milter_nodelay();
	return true;
}

/* milter_run - hand control to libmilter until it is stopped */
int
milter_run(void)
{
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}

/* milter_drain - wait for the sessions in flight, at most secs */
bool
milter_drain(unsigned secs)
{
	struct timespec until;
	bool idle;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += secs;
	pthread_mutex_lock(&milter_lock);
	while (milter_active > 0 &&
	    pthread_cond_timedwait(&milter_idle, &milter_lock, &until) == 0)
		;
	idle = milter_active == 0;
	pthread_mutex_unlock(&milter_lock);
	return idle;
}
