/*
 * NAME
 *	session - the engine: one connection, its messages, their verdicts
 * SYNOPSIS
 *	#include "session.h"
 *
 *	s = session_new(cfg, rt); session_connect(s, name, addr); ...
 *	session_mail(); session_rcpt(); session_header()...; session_eoh();
 *	session_body()...; session_eom(s, &verdict); ... session_free(s);
 * DESCRIPTION
 *	A front end feeds the session what the MTA says, in SMTP order. The
 *	session decides whether a message is outbound (the client is in
 *	InternalHosts or authenticated), picks the signing keys from the
 *	SigningTable by the address in the From header, and streams the
 *	message into the signer. Any other message is inbound: it is fed to
 *	its checks (inbound.c: SPF, DKIM, DMARC), unless the client is in
 *	IgnoreHosts. At the end of the message the session returns the headers
 *	to add and remove and what to answer, and one summary line for the log.
 *
 *	The services (DNS, the verifier, the metrics) come from the runtime
 *	the front end hands over; the session counts each message in the
 *	runtime's metrics: in flight from MAIL to its end, then by direction
 *	and action, the signatures it made and the ARC sets it added.
 *
 *	Headers are kept within MaximumHeaders / MaximumHeaderBytes. A message
 *	beyond them is not signed (OnBadMessage), because a signature over a
 *	truncated header section would be wrong.
 *
 *	Relayed mail (ARCSealMail relayed or all): an outbound message from
 *	a client in InternalHosts that gets no signature as its author
 *	domain (forwarded or list mail) is sealed with an ARC set. Its
 *	ARC-Authentication-Results carry the results of the newest
 *	Authentication-Results field with our AuthservID, the one we wrote
 *	when the message came in (inbound checks remove forged ones), and
 *	the new seal's cv= is what its arc clause says: pass or fail, none
 *	when the message has no ARC set. Without such a field, or when it
 *	says arc=none over a message that has sets, nothing is sealed: we
 *	cannot vouch for what we did not check. The message is not checked
 *	again, since the forwarder changed it on purpose.
 * DIAGNOSTICS
 *	No input makes a session fail: malformed mail is a result (not
 *	signed, with the reason in the summary), a library failure is an
 *	internal error handled per OnInternalError.
 */
#include "buildconf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "addr.h"
#include "arc.h"
#include "authres.h"
#include "config.h"
#include "inbound.h"
#include "keytable.h"
#include "log.h"
#include "metrics.h"
#include "netlist.h"
#include "report_record.h"
#include "runtime.h"
#include "session.h"
#include "sign.h"
#include "signtable.h"
#include "util.h"

#define SESSION_MAX_QID		64	/* bytes of a queue id kept */
#define SESSION_MAX_HOST	255	/* bytes of a client host name kept */
#define SESSION_MAX_WHY		512	/* bytes of a reason */

struct header {
	char	*name;		/* one allocation: name NUL value NUL */
	char	*value;		/* within name's allocation */
};

/* What the session knows about the message in progress. */
struct message {
	char		 qid[SESSION_MAX_QID + 1];
	char		 from[SESSION_MAX_ADDR + 1];	/* MAIL FROM */
	char		 auth[SESSION_MAX_ADDR + 1];	/* SMTP AUTH user */
	bool		 active;	/* between MAIL and the end: in flight */
	bool		 outbound;
	bool		 ignored;	/* client in IgnoreHosts: not checked */
	struct inbound	*ib;		/* the checks of an inbound message */
	unsigned	 nrcpt;

	struct header	*hdrs;
	size_t		 nhdrs;
	size_t		 hdrcap;
	size_t		 hdrbytes;
	bool		 hdr_overflow;	/* a bound was passed */

	struct signer	*signer;
	struct buf	 crlf;		/* body chunk with bare LF made CRLF */
	bool		 body_cr;	/* the last body byte was CR */
	bool		 body_lf;	/* the last body byte was LF (or none yet) */
	struct sign_request req[SIGN_MAX_KEYS];
	char		*req_domain[SIGN_MAX_KEYS];	/* owned d= strings */
	char		*req_signer[SIGN_MAX_KEYS];	/* owned i= strings */
	size_t		 nreq;
	struct arc	*arc;		/* the ARC set of relayed mail */
	struct arc_seal_params seal;
	char		*our_ar;	/* the newest A-R of ours, for it */
	char		 seal_note[SESSION_MAX_WHY];	/* why not sealed */
	bool		 bad;		/* malformed: per OnBadMessage */
	bool		 failed;	/* internal error: per OnInternalError */
	char		 why[SESSION_MAX_WHY];	/* why not signed / failed */
};

struct session {
	struct config	*cfg;
	struct runtime	*rt;
	struct metrics	*metrics;
	char		 host[SESSION_MAX_HOST + 1];
	char		 addr[64];
	bool		 internal;	/* client in InternalHosts */
	bool		 force_inbound;	/* check everything (the CLI) */
	bool		 sign_only;	/* check nothing (the CLI's sign) */
	struct trace	*trace;		/* check --explain, or NULL */
	char		 helo[SESSION_MAX_HELO + 1];
	struct message	 msg;
};

/* session_unbracket - "<a@b>" becomes "a@b" in place */
static void
session_unbracket(char *addr)
{
	size_t len = strlen(addr);

	if (len >= 2 && addr[0] == '<' && addr[len - 1] == '>') {
		memmove(addr, addr + 1, len - 2);
		addr[len - 2] = '\0';
	}
}

/* session_new - a connection; takes a reference to cfg */
struct session *
session_new(struct config *cfg, struct runtime *rt)
{
	struct session *s = xcalloc(1, sizeof(*s));

	s->cfg = config_ref(cfg);
	s->rt = rt;
	s->metrics = runtime_metrics(rt);
	atomic_fetch_add_explicit(&s->metrics->connections, 1,
	    memory_order_relaxed);
	return s;
}

/* session_msg_reset - forget the message in progress */
static void
session_msg_reset(struct session *s)
{
	struct message *m = &s->msg;

	if (m->active)
		atomic_fetch_sub_explicit(&s->metrics->in_flight, 1,
		    memory_order_relaxed);
	for (size_t i = 0; i < m->nhdrs; i++)
		free(m->hdrs[i].name);
	free(m->hdrs);
	buf_free(&m->crlf);
	signer_free(m->signer);
	inbound_free(m->ib);
	arc_free(m->arc);
	free(m->our_ar);
	for (size_t i = 0; i < m->nreq; i++) {
		free(m->req_domain[i]);
		free(m->req_signer[i]);
	}
	memset(m, 0, sizeof(*m));
}

void
session_free(struct session *s)
{
	if (s == NULL)
		return;
	session_msg_reset(s);
	atomic_fetch_sub_explicit(&s->metrics->connections, 1,
	    memory_order_relaxed);
	config_unref(s->cfg);
	free(s);
}

const struct config *
session_config(const struct session *s)
{
	return s->cfg;
}

/* session_connect - the client; a NULL address is a local submission */
void
session_connect(struct session *s, const char *hostname, const char *addr)
{
	/* an MTA names a client without a host name "[addr]": log it as Postfix */
	util_copy(s->host, sizeof(s->host), hostname == NULL ||
	    hostname[0] == '[' ? "unknown" : hostname);
	util_copy(s->addr, sizeof(s->addr), addr ? addr : "127.0.0.1");
	s->internal = addr == NULL ||
	    netlist_match_str(s->cfg->internal_hosts, addr);
}

void
session_helo(struct session *s, const char *helo)
{
	util_copy(s->helo, sizeof(s->helo), helo);
}

/* session_start_inbound - an inbound message: start its checks */
static void
session_start_inbound(struct session *s)
{
	struct message *m = &s->msg;

	if (!s->force_inbound &&
	    netlist_match_str(s->cfg->ignore_hosts, s->addr)) {
		m->ignored = true;
		return;
	}
	m->ib = inbound_new(s->cfg, s->rt, s->addr, s->helo, m->from,
	    m->qid[0] ? m->qid : "NOQUEUE");
	if (m->ib != NULL)
		inbound_set_trace(m->ib, s->trace);
	if (m->ib == NULL) {
		m->failed = true;
		util_copy(m->why, sizeof(m->why), "the DNS service is not "
		    "running");
	}
}

/* session_mail - a new message begins */
void
session_mail(struct session *s, const char *from, const char *auth_user)
{
	struct message *m = &s->msg;
	char qid[SESSION_MAX_QID + 1];

	/* the queue id may have been set before MAIL (Postfix sends i early) */
	memcpy(qid, m->qid, sizeof(qid));
	session_msg_reset(s);
	memcpy(m->qid, qid, sizeof(qid));
	m->active = true;
	atomic_fetch_add_explicit(&s->metrics->in_flight, 1,
	    memory_order_relaxed);
	util_copy(m->from, sizeof(m->from), from);
	session_unbracket(m->from);
	util_copy(m->auth, sizeof(m->auth), auth_user);
	m->outbound = !s->force_inbound &&
	    (s->internal || m->auth[0] != '\0');
	if (!m->outbound && !s->sign_only)
		session_start_inbound(s);
}

void
session_force_inbound(struct session *s)
{
	s->force_inbound = true;
}

void
session_sign_only(struct session *s)
{
	s->sign_only = true;
}

void
session_set_trace(struct session *s, struct trace *t)
{
	s->trace = t;
}

void
session_rcpt(struct session *s, const char *rcpt)
{
	s->msg.nrcpt++;
	if (s->msg.ib != NULL) {
		char addr[SESSION_MAX_ADDR + 1];

		util_copy(addr, sizeof(addr), rcpt);
		session_unbracket(addr);
		inbound_rcpt(s->msg.ib, addr);
	}
}

void
session_set_queueid(struct session *s, const char *qid)
{
	if (qid && *qid)
		util_copy(s->msg.qid, sizeof(s->msg.qid), qid);
}

bool
session_is_outbound(const struct session *s)
{
	return s->msg.outbound;
}

/* session_header - keep one header field, within the configured bounds */
void
session_header(struct session *s, const char *name, const char *value)
{
	struct message *m = &s->msg;
	size_t namelen = strlen(name), valuelen = strlen(value);
	size_t len = namelen + valuelen + 3;
	char *copy;

	if (m->hdr_overflow)
		return;
	if (m->nhdrs >= s->cfg->max_headers ||
	    len > s->cfg->max_header_bytes - m->hdrbytes) {
		m->hdr_overflow = true;
		if (m->ib != NULL)
			inbound_overflow(m->ib);
		return;
	}
	if (m->ib != NULL)
		inbound_header(m->ib, name, value);
	if (m->nhdrs == m->hdrcap) {
		m->hdrcap = m->hdrcap ? m->hdrcap * 2 : 32;
		m->hdrs = xrealloc(m->hdrs, m->hdrcap * sizeof(*m->hdrs));
	}
	copy = xmalloc(namelen + valuelen + 2);
	memcpy(copy, name, namelen + 1);
	memcpy(copy + namelen + 1, value, valuelen + 1);
	m->hdrs[m->nhdrs].name = copy;
	m->hdrs[m->nhdrs].value = copy + namelen + 1;
	m->nhdrs++;
	m->hdrbytes += len;
}

/* session_bad - the message cannot be signed as it is */
static bool
session_bad(struct session *s, const char *why)
{
	s->msg.bad = true;
	util_copy(s->msg.why, sizeof(s->msg.why), why);
	return false;
}

/* session_from - the one mailbox of the one From header */
static bool
session_from(struct session *s, struct mailbox *box)
{
	const struct header *from = NULL;
	char why[SESSION_MAX_WHY];

	for (size_t i = 0; i < s->msg.nhdrs; i++) {
		if (!util_strcaseeq(s->msg.hdrs[i].name, "From"))
			continue;
		if (from != NULL)
			return session_bad(s, "several From headers");
		from = &s->msg.hdrs[i];
	}
	if (from == NULL)
		return session_bad(s, "no From header");
	if (!addr_from_mailbox(from->value, box, why, sizeof(why)))
		return session_bad(s, why);
	return true;
}

/* session_subst - s with each "%" replaced by domain (caller frees) */
static char *
session_subst(const char *s, const char *domain)
{
	struct buf b;

	buf_init(&b);
	for (; *s; s++)
		if (*s == '%')
			buf_puts(&b, domain);
		else
			buf_putc(&b, *s);
	return buf_steal(&b);
}

/* session_add_request - one signature from one SigningTable entry */
static void
session_add_request(struct session *s, const struct signentry *se,
    const struct mailbox *box)
{
	struct message *m = &s->msg;
	const struct keyentry *ke;
	const char *name = strcmp(se->keyname, "%") == 0 ? box->domain :
	    se->keyname;

	ke = keytable_find(s->cfg->keytable, name);
	if (ke == NULL || m->nreq >= SIGN_MAX_KEYS) {
		if (s->cfg->log_why)
			log_info("%s: no KeyTable entry \"%s\"",
			    m->qid[0] ? m->qid : "NOQUEUE", name);
		return;
	}
	m->req_domain[m->nreq] = session_subst(ke->domain, box->domain);
	m->req_signer[m->nreq] = se->signer ?
	    session_subst(se->signer, box->domain) : NULL;
	m->req[m->nreq].domain = m->req_domain[m->nreq];
	m->req[m->nreq].selector = ke->selector;
	m->req[m->nreq].signer = m->req_signer[m->nreq];
	m->req[m->nreq].key = ke->key;
	m->nreq++;
	if (s->cfg->log_why)
		log_info("%s: SigningTable line %u (\"%s\") selects key \"%s\"",
		    m->qid[0] ? m->qid : "NOQUEUE", se->line, se->pattern,
		    ke->name);
}

/* session_pick_keys - the signatures this message gets */
static void
session_pick_keys(struct session *s, const struct mailbox *box)
{
	const struct signentry *match[SIGNTABLE_MAX_MATCHES];
	size_t n;

	if (s->cfg->signtable == NULL) {
		snprintf(s->msg.why, sizeof(s->msg.why), "no keys configured");
		return;
	}
	n = signtable_match(s->cfg->signtable, box->local, box->domain,
	    s->cfg->multiple_signatures, match, SIGNTABLE_MAX_MATCHES);
	for (size_t i = 0; i < n; i++)
		session_add_request(s, match[i], box);
	if (s->msg.nreq == 0)
		snprintf(s->msg.why, sizeof(s->msg.why),
		    "no signing key for %s", box->domain);
}

/* session_field - "Name:value" with CRLF folding, as DKIM hashes it */
static void
session_field(struct buf *b, const struct header *h)
{
	const char *v = h->value;

	buf_reset(b);
	buf_puts(b, h->name);
	buf_putc(b, ':');
	buf_put_crlf(b, v, strlen(v));
}

/* session_start_signer - create the signer and give it the headers */
static void
session_start_signer(struct session *s)
{
	struct message *m = &s->msg;
	char err[SESSION_MAX_WHY];
	struct buf field;
	bool ok = true;

	m->signer = signer_new(s->cfg->sign, m->qid[0] ? m->qid : "NOQUEUE",
	    m->req, m->nreq, err, sizeof(err));
	if (m->signer == NULL) {
		m->failed = true;
		util_copy(m->why, sizeof(m->why), err);
		return;
	}
	buf_init(&field);
	for (size_t i = 0; ok && i < m->nhdrs; i++) {
		session_field(&field, &m->hdrs[i]);
		ok = signer_header(m->signer, field.data, field.len);
	}
	buf_free(&field);
	if (ok)
		ok = signer_eoh(m->signer);
	if (!ok) {
		m->failed = true;
		util_copy(m->why, sizeof(m->why), signer_error(m->signer));
		signer_free(m->signer);
		m->signer = NULL;
	}
}

/*
 * session_signs_author - does a signature of this message carry the
 * author's domain (d= the From domain or a parent of it)?
 */
static bool
session_signs_author(const struct session *s, const struct mailbox *box)
{
	const struct message *m = &s->msg;

	for (size_t i = 0; m->signer != NULL && i < m->nreq; i++) {
		const char *d = m->req[i].domain;
		size_t dl = strlen(d), fl = strlen(box->domain);

		if (util_strcaseeq(d, box->domain) || (fl > dl &&
		    box->domain[fl - dl - 1] == '.' &&
		    util_strcaseeq(box->domain + fl - dl, d)))
			return true;
	}
	return false;
}

/*
 * session_start_relay_seal - relayed mail: keep its headers for an ARC
 * set (see the top of the file); the newest A-R of ours is noted
 */
static void
session_start_relay_seal(struct session *s, const struct mailbox *box)
{
	struct message *m = &s->msg;
	const struct keyentry *k = s->cfg->arc_key;
	struct arc_params p;

	if (!config_arc_seals(s->cfg, false) || !s->internal ||
	    session_signs_author(s, box))
		return;
	memset(&p, 0, sizeof(p));
	p.min_key_bits = s->cfg->minimum_key_bits;
	m->arc = arc_new(&p);		/* no DNS: nothing is verified */
	for (size_t i = 0; i < m->nhdrs; i++) {
		arc_header(m->arc, m->hdrs[i].name, m->hdrs[i].value);
		if (m->our_ar == NULL && util_strcaseeq(m->hdrs[i].name,
		    "Authentication-Results") && authres_servid_matches(
		    m->hdrs[i].value, config_authserv_id(s->cfg)))
			m->our_ar = xstrdup(m->hdrs[i].value);
	}
	m->seal.key = k->key->pkey;
	m->seal.domain = k->domain;
	m->seal.selector = k->selector;
	m->seal.sign_headers =
	    (const char *const *)s->cfg->sign_headers.names;
	m->seal.oversign_headers =
	    (const char *const *)s->cfg->oversign_headers.names;
	m->seal.timestamp = (long long)time(NULL);
	if (!arc_seal_start(m->arc, &m->seal, m->seal_note,
	    sizeof(m->seal_note)) || !arc_eoh(m->arc)) {
		if (m->seal_note[0] == '\0')
			util_copy(m->seal_note, sizeof(m->seal_note),
			    "no body hash");
		arc_free(m->arc);
		m->arc = NULL;
	}
}

/* session_eoh - decide what the message needs; true if the body is wanted */
bool
session_eoh(struct session *s)
{
	struct mailbox box;

	if (!s->msg.outbound) {
		s->msg.body_lf = true;
		return s->msg.ib != NULL && inbound_eoh(s->msg.ib);
	}
	if (s->msg.hdr_overflow) {
		session_bad(s, "header section over the MaximumHeaders or "
		    "MaximumHeaderBytes bound");
		return false;
	}
	if (!session_from(s, &box))
		return false;
	session_pick_keys(s, &box);
	if (s->msg.nreq > 0)
		session_start_signer(s);
	session_start_relay_seal(s, &box);
	s->msg.body_lf = true;		/* an empty body needs no line end */
	return s->msg.signer != NULL || s->msg.arc != NULL;
}

#ifdef __SSE2__
/* session_mask64 - bit k set when byte k of the 64 at p is c (SSE2) */
static inline uint64_t
session_mask64(const unsigned char *p, __m128i c)
{
	uint64_t m = 0;

	for (int k = 0; k < 4; k++)
		m |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
		    _mm_loadu_si128((const void *)(p + 16 * k)), c)) << (16 * k);
	return m;
}
#endif

/*
 * session_bare_lf - does data[0..len) hold an LF without a CR before it?
 * prev_cr: the byte before data was a CR. With SSE2 (every x86-64), 64
 * bytes at a time: the LFs whose byte before is not a CR, as bit masks.
 */
static bool
session_bare_lf(const unsigned char *data, size_t len, bool prev_cr)
{
	size_t i = 0;
#ifdef __SSE2__
	const __m128i lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
	uint64_t carry = prev_cr;

	for (; i + 64 <= len; i += 64) {
		uint64_t l = session_mask64(data + i, lf);
		uint64_t c = session_mask64(data + i, cr);

		if (l & ~((c << 1) | carry))
			return true;
		carry = c >> 63;
	}
	prev_cr = carry != 0;
#endif
	for (; i < len; i++) {
		if (data[i] == '\n' && !prev_cr)
			return true;
		prev_cr = data[i] == '\r';
	}
	return false;
}

/*
 * session_crlf - the chunk with every bare LF made CRLF, as the MTA will
 * send it on; the chunk itself when it has none (the usual case)
 */
static const unsigned char *
session_crlf(struct message *m, const unsigned char *data, size_t *len)
{
	const unsigned char *p = data, *end = data + *len;
	bool bare = session_bare_lf(data, *len, m->body_cr);

	m->body_lf = end[-1] == '\n';
	if (!bare) {
		m->body_cr = end[-1] == '\r';
		return data;
	}
	buf_reset(&m->crlf);
	if (*p == '\n' && m->body_cr) {	/* its CR ended the last chunk */
		buf_putc(&m->crlf, '\n');
		p++;
	}
	buf_put_crlf(&m->crlf, (const char *)p, (size_t)(end - p));
	m->body_cr = end[-1] == '\r';
	*len = m->crlf.len;
	return (const unsigned char *)m->crlf.data;
}

/* session_body - stream a body chunk into the signer */
void
session_body(struct session *s, const unsigned char *data, size_t len)
{
	struct message *m = &s->msg;

	if (len == 0)
		return;
	if (m->ib != NULL) {
		data = session_crlf(m, data, &len);
		inbound_body(m->ib, data, len);
		return;
	}
	if (m->signer == NULL && m->arc == NULL)
		return;
	data = session_crlf(m, data, &len);
	if (m->arc != NULL)
		arc_body(m->arc, data, len);
	if (m->signer != NULL && !signer_body(m->signer, data, len)) {
		m->failed = true;
		util_copy(m->why, sizeof(m->why), signer_error(m->signer));
		signer_free(m->signer);
		m->signer = NULL;
	}
}

/* session_set_action - an answer other than plain acceptance */
static void
session_set_action(struct verdict *v, enum on_error how, const char *text)
{
	switch (how) {
	case ON_ERROR_ACCEPT:
		v->action = VERDICT_ACCEPT;
		return;
	case ON_ERROR_TEMPFAIL:
		v->action = VERDICT_TEMPFAIL;
		snprintf(v->rcode, sizeof(v->rcode), "451");
		snprintf(v->xcode, sizeof(v->xcode), "4.7.0");
		break;
	case ON_ERROR_REJECT:
		v->action = VERDICT_REJECT;
		snprintf(v->rcode, sizeof(v->rcode), "550");
		snprintf(v->xcode, sizeof(v->xcode), "5.7.0");
		break;
	}
	v->reason = xstrdup(text);
}

/* session_finish_signer - collect the signatures into the verdict */
static void
session_finish_signer(struct session *s, struct verdict *v, struct buf *sum)
{
	struct message *m = &s->msg;

	/* SMTP ends the message with a line end; so must what is hashed */
	if (!m->body_lf && !signer_body(m->signer,
	    (const unsigned char *)"\r\n", 2)) {
		m->failed = true;
		util_copy(m->why, sizeof(m->why), signer_error(m->signer));
		return;
	}
	if (!signer_eom(m->signer)) {
		m->failed = true;
		util_copy(m->why, sizeof(m->why), signer_error(m->signer));
		return;
	}
	buf_puts(sum, " signed");
	for (size_t i = 0; i < signer_count(m->signer) &&
	    v->nadded < VERDICT_MAX_ADDED; i++) {
		struct added_header *a = &v->added[v->nadded++];

		a->name = xstrdup("DKIM-Signature");
		a->value = xstrdup(signer_value(m->signer, i));
		a->index = 0;
		buf_printf(sum, "%s d=%s s=%s a=%s", i ? "," : "",
		    m->req[i].domain, m->req[i].selector,
		    keys_alg_name(m->req[i].key->alg));
		metrics_add(&s->metrics->signatures[m->req[i].key->alg ==
		    KEY_ALG_ED25519 ? METRICS_ALG_ED25519_SHA256 :
		    METRICS_ALG_RSA_SHA256], 1);
	}
}

/*
 * session_relay_results - the results of our A-R into ar; the cv= its
 * arc clause gives a seal over n sets. False (why in note) when it
 * cannot vouch: none of ours, or arc=none over a chain.
 */
static bool
session_relay_results(struct message *m, struct authres *ar, unsigned n,
    enum arc_cv *cv)
{
	struct authres_parsed p;
	const char *arcres = NULL;

	if (m->our_ar == NULL || !authres_parse(m->our_ar, &p)) {
		util_copy(m->seal_note, sizeof(m->seal_note), "no "
		    "Authentication-Results of ours to seal");
		return false;
	}
	for (size_t i = 0; i < p.nres; i++) {
		const struct authres_presult *r = &p.res[i];
		const char *names[AUTHRES_MAX_PPROPS];
		const char *values[AUTHRES_MAX_PPROPS];

		for (size_t k = 0; k < r->nprop; k++) {
			names[k] = r->prop[k].name;
			values[k] = r->prop[k].value;
		}
		authres_add_list(ar, r->method, r->result, NULL, names,
		    values, r->nprop);
		if (strcmp(r->method, "arc") == 0 && arcres == NULL)
			arcres = r->result;
	}
	*cv = ARC_CV_NONE;
	if (n > 0 && arcres != NULL && strcmp(arcres, "pass") == 0)
		*cv = ARC_CV_PASS;
	else if (n > 0 && arcres != NULL && strcmp(arcres, "fail") == 0)
		*cv = ARC_CV_FAIL;
	authres_parsed_free(&p);
	if (n > 0 && *cv == ARC_CV_NONE) {
		util_copy(m->seal_note, sizeof(m->seal_note), "our "
		    "Authentication-Results say nothing of its ARC chain");
		return false;
	}
	return true;
}

/* session_finish_relay_seal - the ARC set of relayed mail, on top */
static void
session_finish_relay_seal(struct session *s, struct verdict *v,
    struct buf *sum)
{
	struct message *m = &s->msg;
	struct authres *ar = authres_new(config_authserv_id(s->cfg));
	struct arc_sealed set;
	enum arc_cv cv;
	char *aar = NULL;
	bool sealed;

	memset(&set, 0, sizeof(set));
	if (!m->body_lf)
		arc_body(m->arc, (const unsigned char *)"\r\n", 2);
	if (session_relay_results(m, ar, arc_instances(m->arc), &cv)) {
		aar = authres_format_arc(ar, arc_seal_instance(m->arc),
		    s->cfg->arc_authres_comments);
		sealed = arc_seal(m->arc, cv, aar, &set, m->seal_note,
		    sizeof(m->seal_note));
		if (sealed && v->nadded + 3 > VERDICT_MAX_ADDED)
			util_copy(m->seal_note, sizeof(m->seal_note),
			    "too many headers to add");
		else if (sealed) {
			verdict_insert(v, 0, "ARC-Authentication-Results",
			    set.aar);
			verdict_insert(v, 0, "ARC-Message-Signature", set.ams);
			verdict_insert(v, 0, "ARC-Seal", set.seal);
			buf_printf(sum, " arc_sealed=i=%u cv=%s", set.instance,
			    arc_cv_name(cv));
			metrics_add(&s->metrics->arc_seals[cv], 1);
			m->seal_note[0] = '\0';
		}
	}
	if (m->seal_note[0])
		buf_printf(sum, " arc_not_sealed=(%s)", m->seal_note);
	arc_sealed_free(&set);
	authres_free(ar);
	free(aar);
}

/* session_from_value - the first From header's value, or NULL */
static const char *
session_from_value(const struct session *s)
{
	for (size_t i = 0; i < s->msg.nhdrs; i++)
		if (util_strcaseeq(s->msg.hdrs[i].name, "From"))
			return s->msg.hdrs[i].value;
	return NULL;
}

/* session_headers_text - the header section, for a failure report */
static char *
session_headers_text(void *arg, size_t max)
{
	const struct session *s = arg;
	struct buf b;

	buf_init(&b);
	for (size_t i = 0; i < s->msg.nhdrs && b.len < max; i++) {
		const char *v = s->msg.hdrs[i].value;

		buf_printf(&b, "%s:%s%s\n", s->msg.hdrs[i].name,
		    *v == ' ' || *v == '\t' ? "" : " ", v);
	}
	if (b.len > max) {
		b.len = max;
		b.data[max] = '\0';
	}
	return buf_steal(&b);
}

/* session_eom - the verdict for the message; then ready for the next */
void
session_eom(struct session *s, struct verdict *v)
{
	struct message *m = &s->msg;
	struct buf sum;

	memset(v, 0, sizeof(*v));
	buf_init(&sum);
	buf_printf(&sum, "%s: client=%s[%s]", m->qid[0] ? m->qid : "NOQUEUE",
	    s->host, s->addr);
	if (m->auth[0])
		buf_printf(&sum, " auth=%s", m->auth);
	buf_printf(&sum, " from=<%s>", m->from);
	if (m->ignored)
		buf_puts(&sum, " inbound: client in IgnoreHosts, not checked");
	else if (m->ib != NULL) {
		/* SMTP ends the message with a line end; so must what is hashed */
		if (!m->body_lf)
			inbound_body(m->ib, (const unsigned char *)"\r\n", 2);
		buf_puts(&sum, " inbound:");
		inbound_eom(m->ib, v, &sum);
	} else if (m->signer != NULL || m->arc != NULL) {
		if (m->signer != NULL)
			session_finish_signer(s, v, &sum);
		if (m->arc != NULL && !m->failed)
			session_finish_relay_seal(s, v, &sum);
	}
	if (m->failed) {
		buf_printf(&sum, " %s: internal error: %s; action=%s",
		    m->outbound ? "not signed" : "not checked", m->why, config_on_error_name(s->cfg->on_internal_error));
		session_set_action(v, s->cfg->on_internal_error,
		    "authmilter: internal error, try again later");
		for (size_t i = 0; i < v->nadded; i++) {
			free(v->added[i].name);
			free(v->added[i].value);
		}
		v->nadded = 0;
	} else if (m->bad && s->cfg->shadow_mode &&
	    s->cfg->on_bad_message != ON_ERROR_ACCEPT) {
		buf_printf(&sum, " not signed: %s; [shadow mode: would %s]",
		    m->why, config_on_error_name(s->cfg->on_bad_message));
		metrics_add(&s->metrics->shadow[s->cfg->on_bad_message ==
		    ON_ERROR_TEMPFAIL ? VERDICT_TEMPFAIL : VERDICT_REJECT], 1);
	} else if (m->bad) {
		buf_printf(&sum, " not signed: %s; action=%s", m->why,
		    config_on_error_name(s->cfg->on_bad_message));
		session_set_action(v, s->cfg->on_bad_message, m->why);
	} else if (m->outbound && m->signer == NULL)
		buf_printf(&sum, " not signed: %s",
		    m->why[0] ? m->why : "nothing to sign");
	else if (!m->outbound && s->sign_only)
		buf_puts(&sum, " not signed: not outbound (the client is not "
		    "in InternalHosts and did not authenticate)");
	/* the DMARC aggregate reports: a queue, never a wait */
	if (m->ib != NULL && !m->failed)
		report_record(s->rt, s->cfg, v, session_from_value(s),
		    session_headers_text, s);
	v->summary = buf_steal(&sum);
	if (m->failed)
		metrics_add(&s->metrics->internal_errors, 1);
	metrics_add(&s->metrics->messages[m->ignored ? METRICS_IGNORED :
	    m->outbound ? METRICS_OUTBOUND : METRICS_INBOUND][v->action], 1);
	m->qid[0] = '\0';
	session_msg_reset(s);
}

/* session_abort - drop the message in progress */
void
session_abort(struct session *s)
{
	session_msg_reset(s);
}

/* verdict_clear - free what a verdict owns */
void
verdict_clear(struct verdict *v)
{
	for (size_t i = 0; i < v->nadded; i++) {
		free(v->added[i].name);
		free(v->added[i].value);
	}
	for (size_t i = 0; i < v->nremoved; i++)
		free(v->removed[i].name);
	inbound_results_free(v->results);
	free(v->reason);
	free(v->summary);
	memset(v, 0, sizeof(*v));
}
