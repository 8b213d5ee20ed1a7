/*
 * NAME
 *	dns - the one DNS service: c-ares, one cache, TTLs, negative caching
 * SYNOPSIS
 *	#include "dns.h"
 *
 *	struct dns_service *dns_new(const struct dns_config *cfg, char *err,
 *	    size_t errlen);
 *	void dns_free(struct dns_service *d);
 *	void dns_prefetch(struct dns_service *d, const char *name,
 *	    unsigned type);
 *	struct dns_answer *dns_lookup(struct dns_service *d, const char *name,
 *	    unsigned type, const struct timespec *deadline);
 *	bool dns_reconfigure(struct dns_service *d,
 *	    const struct dns_config *cfg, char *err, size_t errlen);
 *	void dns_get_stats(struct dns_service *d, struct dns_stats *st);
 *
 *	struct dns_answer *dns_answer_make(enum dns_status st, unsigned type,
 *	    const char *const *texts, size_t n);
 *	struct dns_answer *dns_parse_reply(unsigned type,
 *	    const unsigned char *msg, size_t len);
 *	void dns_answer_free(struct dns_answer *a);
 *	const char *dns_status_name(enum dns_status s);
 *	void dns_set_watch(struct dns_service *d, dns_watch_fn fn, void *arg);
 *	void dns_deadline(struct timespec *ts, unsigned ms);
 *	bool dns_expired(const struct timespec *deadline);
 * DESCRIPTION
 *	One resolver thread owns the c-ares channel: c-ares 1.18 channels are
 *	not thread-safe, so no other thread ever calls into c-ares. Callers
 *	work on the cache only, under one mutex:
 *
 *	- dns_lookup() finds (name, type) in the cache. A fresh answer is a
 *	  hit. An entry whose query is out is joined: the caller waits on that
 *	  entry's condition variable. Otherwise the caller adds a pending
 *	  entry, puts it on the send queue, wakes the thread through a pipe and
 *	  waits on the entry.
 *	- The thread takes the send queue, hands each name to ares_query(),
 *	  and runs c-ares from poll() on its sockets and the wake pipe. The
 *	  query callback parses the raw reply (below), fills the entry and
 *	  wakes its waiters.
 *	- Positive answers are kept for the smallest TTL of the records asked
 *	  for, negative ones (NXDOMAIN, NODATA) for the SOA's negative TTL
 *	  (RFC 2308). Answers with a TTL of 0 are not kept. SERVFAIL and
 *	  TIMEOUT go to the waiters of that query, and are kept only for the
 *	  other lookups of the message that asked (dns_lookup_since): a later
 *	  message asks again. Beyond DNS_CACHE_MAX answers the least recently
 *	  used one goes.
 *	- A waiter gives up at its own deadline with a TIMEOUT answer of its
 *	  own; the query goes on and fills the cache. The thread itself gives
 *	  a query up (TIMEOUT for its waiters) when c-ares has not finished it
 *	  shortly after the configured timeout.
 *
 *	An entry lives while the table holds it, a waiter waits on it, or
 *	c-ares still owes its callback. Answers are immutable and reference
 *	counted, so a caller's answer outlives the entry.
 *
 *	Replies are parsed here, not by c-ares' ares_parse_*() functions, so
 *	that TTLs and the SOA of negative answers are known. The parser is
 *	bounded: every count and length is checked against the reply, and a
 *	compressed name may follow at most DNS_MAX_JUMPS pointers. Records of
 *	the type asked for are taken from the answer section whatever their
 *	owner name, which follows a CNAME chain as the resolver gave it.
 *
 *	c-ares doubles its per-try timeout after each round through the
 *	servers; the per-try timeout is chosen so that all tries on all
 *	servers fit in the configured timeout. ARES_FLAG_NOCHECKRESP makes a
 *	SERVFAIL or REFUSED reply an answer at once (a temporary error, not
 *	cached) instead of a reason to retry until the timeout: a mail
 *	filter would rather tempfail quickly than hold the message.
 *
 *	A reload that changes the servers, the timeout or the tries
 *	(dns_reconfigure) does not stop the service: the thread holds new
 *	queries back until those already out on the old channel have
 *	finished (bounded by the old timeout), then opens a new channel and
 *	sends them there. The cache survives unless the servers changed.
 *	The counters (dns_get_stats) live as long as the service.
 *
 *	Names are checked before any query: an empty label (other than one
 *	final dot), a label over 63 bytes, a name over DNS_MAX_NAME bytes or
 *	a backslash (c-ares would read it as an escape) make DNS_BADNAME.
 * DIAGNOSTICS
 *	dns_new() returns NULL and a reason in err when c-ares cannot start,
 *	a server address is bad, or the thread cannot be created. Lookups
 *	never fail otherwise: every failure is a status of the answer.
 */
#include "buildconf.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ares.h>

#include "dns.h"
#include "log.h"
#include "util.h"

/* Defaults and bounds of the service. */
#define DNS_DEFAULT_TIMEOUT_MS	5000	/* timeout_ms of 0 */
#define DNS_DEFAULT_TRIES	2	/* tries of 0 */
#define DNS_TRIES_MAX		8	/* c-ares doubles the timeout per round */
#define DNS_TRY_MIN_MS		10	/* shortest per-try timeout */
#define DNS_GRACE_MS		250	/* after timeout_ms, give up on c-ares */
#define DNS_FLIGHT_MAX		4096	/* queries queued or out at once */
#define DNS_FAIL_KEEP_S		60	/* a failure is offered to dns_lookup_since */
#define DNS_HASH_SIZE		16384	/* buckets of the cache (power of 2) */
#define DNS_SERVERS_CSV_MAX	(DNS_MAX_SERVERS * 64)	/* "a,b,..." */
#define DNS_SERVER_TEXT_MAX	60	/* one "[IPv6]:PORT" */
#define DNS_POLL_FDS		(ARES_GETSOCK_MAXNUM + 1)	/* + wake pipe */
#define DNS_DRAIN_BUF		64	/* bytes read from the wake pipe at once */

/* The wire format (RFC 1035). */
#define DNS_HDR_LEN		12	/* id, flags, four counts */
#define DNS_Q_FIXED		4	/* type, class after a question's name */
#define DNS_RR_FIXED		10	/* type, class, ttl, rdlength */
#define DNS_SOA_FIXED		20	/* serial refresh retry expire minimum */
#define DNS_MAX_LABEL		63
#define DNS_MAX_JUMPS		16	/* compression pointers in one name */
#define DNS_PTR_MASK		0xc0	/* the two top bits of a length byte */
#define DNS_PTR_HIGH		0x3f	/* the rest: high bits of the offset */
#define DNS_FLAG_QR		0x8000
#define DNS_RCODE_MASK		0x000f
#define DNS_RCODE_NOERROR	0
#define DNS_RCODE_NXDOMAIN	3
#define DNS_C_IN		1
#define DNS_T_SOA		6
#define DNS_TTL_SIGNED_MAX	0x7fffffffU	/* larger TTLs mean 0 (RFC 2181) */
#define DNS_A_LEN		4
#define DNS_AAAA_LEN		16
#define DNS_PREF_MAX		65535

#define DNS_MS_PER_S		1000
#define DNS_NS_PER_MS		1000000L
#define DNS_US_PER_S		1000000L
#define DNS_NS_PER_US		1000L
#define DNS_NS_PER_S		1000000000L
#define DNS_US_PER_MS		1000

/* Which list an entry is on (they share the prev/next links). */
enum dns_list_id {
	DNS_LIST_NONE = 0,
	DNS_LIST_LRU,		/* answered and kept: the cache proper */
	DNS_LIST_FLIGHT,	/* handed to c-ares, no answer yet */
};

struct dns_service;

struct dns_entry {
	struct dns_service *svc;
	char		*name;		/* lower case, no final dot */
	unsigned	 type;
	uint32_t	 hash;
	struct dns_answer *answer;	/* NULL until the query is answered */
	int64_t		 expires;	/* ms, monotonic: stale from then on */
	int64_t		 given_up;	/* ms, monotonic: stop waiting for c-ares */
	int64_t		 started;	/* ms, monotonic: when it was asked for */
	int64_t		 sent_ns;	/* ns, monotonic: handed to c-ares */
	int		 waiters;	/* threads waiting on done */
	bool		 linked;	/* in the table: findable */
	bool		 queued;	/* on the send queue */
	bool		 busy;		/* c-ares owes the callback */
	enum dns_list_id list;
	pthread_cond_t	 done;		/* broadcast when answer is set */
	struct dns_entry *hnext;	/* hash chain */
	struct dns_entry *prev;		/* LRU or in-flight list */
	struct dns_entry *next;
	struct dns_entry *qnext;	/* send queue */
};

struct dns_list {
	struct dns_entry *head;		/* LRU: most recent; flight: oldest */
	struct dns_entry *tail;
	size_t		 count;
};

/* What a channel is made of: dns_config checked and normalised. */
struct dns_settings {
	char		 csv[DNS_SERVERS_CSV_MAX];	/* "" = resolv.conf */
	unsigned	 nservers;
	unsigned	 timeout_ms;
	unsigned	 tries;
};

struct dns_service {
	pthread_mutex_t	 lock;		/* everything below but the channel */
	pthread_condattr_t condattr;	/* CLOCK_MONOTONIC, for entries */
	struct dns_entry **table;	/* DNS_HASH_SIZE chains */
	struct dns_list	 lru;
	struct dns_list	 flight;
	struct dns_entry *qhead;	/* send queue */
	struct dns_entry *qtail;
	size_t		 nflight;	/* queued + out */
	unsigned	 nbusy;		/* out: c-ares owes the callback */
	struct dns_stats stats;
	struct metrics_hist latency;	/* atomic: no lock needed */
	struct dns_settings cur;	/* the channel's */
	struct dns_settings next;	/* dns_reconfigure's, while reconf */
	bool		 reconf;	/* next waits for nbusy == 0 */
	bool		 stopping;
	unsigned	 wait_ms;	/* timeout_ms + DNS_GRACE_MS */
	int		 wake[2];	/* pipe: [0] the thread, [1] callers */
	pthread_t	 thread;
	ares_channel	 channel;	/* the resolver thread's alone */
	dns_watch_fn	 watch;		/* dns_set_watch(), or NULL */
	void		*watch_arg;
};

static pthread_once_t dns_once = PTHREAD_ONCE_INIT;
static int dns_library_status = ARES_ENOTINITIALIZED;

/* ------------------------------------------------------------------ */
/* answers */

/* dns_status_name - the status as a short lower-case word */
const char *
dns_status_name(enum dns_status s)
{
	switch (s) {
	case DNS_OK:		return "ok";
	case DNS_NODATA:	return "nodata";
	case DNS_NXDOMAIN:	return "nxdomain";
	case DNS_SERVFAIL:	return "servfail";
	case DNS_TIMEOUT:	return "timeout";
	case DNS_BADNAME:	return "badname";
	}
	return "unknown";
}

/* dns_answer_new - an empty answer with one reference */
static struct dns_answer *
dns_answer_new(enum dns_status st, unsigned type)
{
	struct dns_answer *a = xcalloc(1, sizeof(*a));

	a->status = st;
	a->type = type;
	a->refs = 1;
	return a;
}

/* dns_answer_ref - one more reference to a */
static struct dns_answer *
dns_answer_ref(struct dns_answer *a)
{
	__atomic_add_fetch(&a->refs, 1, __ATOMIC_RELAXED);
	return a;
}

/* dns_answer_clear - drop the records of an answer, keep the rest */
static void
dns_answer_clear(struct dns_answer *a)
{
	size_t i;

	for (i = 0; i < a->nrecords; i++)
		free(a->records[i].text);
	free(a->records);
	a->records = NULL;
	a->nrecords = 0;
}

/* dns_answer_free - drop one reference; the last one frees */
void
dns_answer_free(struct dns_answer *a)
{
	if (a == NULL)
		return;
	if (__atomic_sub_fetch(&a->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	dns_answer_clear(a);
	free(a->wire);
	free(a);
}

/* dns_name_copy - a host name lower-cased, without its final dot */
static char *
dns_name_copy(const char *s, size_t *lenp)
{
	char *p = util_strlower(xstrdup(s));
	size_t len = strlen(p);

	if (len > 0 && p[len - 1] == '.')
		p[--len] = '\0';
	*lenp = len;
	return p;
}

/* dns_record_from_text - fill one record of a hand-made answer; false if bad */
static bool
dns_record_from_text(struct dns_record *r, unsigned type, const char *text)
{
	char *end;
	unsigned long pref;

	memset(r, 0, sizeof(*r));
	r->type = type;
	switch (type) {
	case DNS_T_A:
		return inet_pton(AF_INET, text, r->addr) == 1;
	case DNS_T_AAAA:
		return inet_pton(AF_INET6, text, r->addr) == 1;
	case DNS_T_MX:
		/* "exchange" or "preference exchange" */
		if (*text >= '0' && *text <= '9') {
			pref = strtoul(text, &end, 10);
			if (*end == ' ' && pref <= DNS_PREF_MAX) {
				r->pref = (unsigned)pref;
				text = end + 1;
			}
		}
		r->text = dns_name_copy(text, &r->len);
		return true;
	case DNS_T_PTR:
		r->text = dns_name_copy(text, &r->len);
		return true;
	default:
		r->len = strlen(text);
		r->text = xstrndup(text, r->len);
		return true;
	}
}

/*
 * dns_answer_make - an answer built by hand, for tests and synthesis. An
 * MX text may start with its preference ("10 mx.example"); an A or AAAA
 * text that is not an address is left out.
 */
struct dns_answer *
dns_answer_make(enum dns_status st, unsigned type, const char *const *texts,
    size_t n)
{
	struct dns_answer *a = dns_answer_new(st, type);
	size_t i;

	if (n > DNS_MAX_RECORDS) {
		n = DNS_MAX_RECORDS;
		a->truncated = true;
	}
	if (n > 0 && texts != NULL) {
		a->records = xcalloc(n, sizeof(*a->records));
		for (i = 0; i < n; i++) {
			if (texts[i] != NULL && dns_record_from_text(
			    &a->records[a->nrecords], type, texts[i]))
				a->nrecords++;
		}
	}
	return a;
}

/* ------------------------------------------------------------------ */
/* time */

/* dns_deadline - now (CLOCK_MONOTONIC) plus ms */
void
dns_deadline(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / DNS_MS_PER_S;
	ts->tv_nsec += (long)(ms % DNS_MS_PER_S) * DNS_NS_PER_MS;
	if (ts->tv_nsec >= DNS_NS_PER_S) {
		ts->tv_sec++;
		ts->tv_nsec -= DNS_NS_PER_S;
	}
}

/* dns_expired - is the deadline past? */
bool
dns_expired(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > deadline->tv_sec || (now.tv_sec ==
	    deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

/* dns_now_ms - the monotonic clock in milliseconds */
static int64_t
dns_now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * DNS_MS_PER_S +
	    now.tv_nsec / DNS_NS_PER_MS;
}

/* dns_now_ns - the monotonic clock in nanoseconds */
static int64_t
dns_now_ns(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * DNS_NS_PER_S + now.tv_nsec;
}

/* ------------------------------------------------------------------ */
/* the wire format */

/* dns_get16 - a 16-bit big-endian value at p */
static unsigned
dns_get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* dns_get32 - a 32-bit big-endian value at p */
static uint32_t
dns_get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* dns_ttl_value - a TTL from the wire; RFC 2181 8: the top bit means 0 */
static uint32_t
dns_ttl_value(uint32_t ttl)
{
	return ttl > DNS_TTL_SIGNED_MAX ? 0 : ttl;
}

/*
 * dns_wire_name - read the (possibly compressed) name at *off of msg and
 * move *off past it. With out (DNS_MAX_NAME + 1 bytes), store the name
 * lower-cased, dotted, without a final dot ("" for the root); *odd tells
 * whether a label holds a byte that text cannot carry ('.', '\\', NUL).
 * False when the name is malformed: out of bounds, too long, too many
 * pointers or an unknown label type.
 */
static bool
dns_wire_name(const unsigned char *msg, size_t len, size_t *off, char *out,
    bool *odd)
{
	size_t pos = *off, after = 0, wire = 0, n = 0, i;
	unsigned c, jumps = 0;
	bool jumped = false;
	unsigned char ch;

	if (odd != NULL)
		*odd = false;
	for (;;) {
		if (pos >= len)
			return false;
		c = msg[pos];
		if ((c & DNS_PTR_MASK) == DNS_PTR_MASK) {
			if (pos + 1 >= len || ++jumps > DNS_MAX_JUMPS)
				return false;
			if (!jumped) {
				after = pos + 2;
				jumped = true;
			}
			pos = (c & DNS_PTR_HIGH) << 8 | msg[pos + 1];
			continue;
		}
		if ((c & DNS_PTR_MASK) != 0)
			return false;
		pos++;
		if (c == 0)
			break;
		wire += c + 1;
		if (wire > DNS_MAX_NAME + 1 || pos + c > len)
			return false;
		if (out != NULL) {
			if (n > 0)
				out[n++] = '.';
			for (i = 0; i < c; i++) {
				ch = msg[pos + i];
				if (ch == '.' || ch == '\\' || ch == '\0')
					*odd = true;
				out[n++] = (ch >= 'A' && ch <= 'Z') ?
				    (char)(ch - 'A' + 'a') : (char)ch;
			}
		}
		pos += c;
	}
	if (out != NULL)
		out[n] = '\0';
	*off = jumped ? after : pos;
	return true;
}

/* dns_wire_txt - the character-strings of a TXT rdata, joined */
static int
dns_wire_txt(struct dns_record *r, const unsigned char *rd, size_t rdlen,
    bool *truncated)
{
	size_t pos = 0, n = 0, slen, take;
	char *text;

	text = xmalloc((rdlen < DNS_MAX_TXT ? rdlen : DNS_MAX_TXT) + 1);
	while (pos < rdlen) {
		slen = rd[pos++];
		if (pos + slen > rdlen) {
			free(text);
			return -1;
		}
		take = slen;
		if (n + take > DNS_MAX_TXT) {
			take = DNS_MAX_TXT - n;
			*truncated = true;
		}
		memcpy(text + n, rd + pos, take);
		n += take;
		pos += slen;
	}
	text[n] = '\0';
	r->text = text;
	r->len = n;
	return 1;
}

/*
 * dns_wire_record - one record of the type asked for, from its rdata at
 * rdoff. 1: r is filled; 0: left out (a name text cannot carry);
 * -1: malformed.
 */
static int
dns_wire_record(struct dns_record *r, unsigned type, const unsigned char *msg,
    size_t len, size_t rdoff, size_t rdlen, bool *truncated)
{
	char name[DNS_MAX_NAME + 1];
	size_t off = rdoff;
	bool odd;

	r->type = type;
	switch (type) {
	case DNS_T_A:
	case DNS_T_AAAA:
		if (rdlen != (type == DNS_T_A ? DNS_A_LEN : DNS_AAAA_LEN))
			return -1;
		memcpy(r->addr, msg + rdoff, rdlen);
		return 1;
	case DNS_T_MX:
		if (rdlen < 2)
			return -1;
		r->pref = dns_get16(msg + rdoff);
		off += 2;
		/* FALLTHROUGH */
	case DNS_T_PTR:
		if (!dns_wire_name(msg, len, &off, name, &odd) ||
		    off > rdoff + rdlen)
			return -1;
		if (odd)
			return 0;
		r->len = strlen(name);
		r->text = xstrndup(name, r->len);
		return 1;
	case DNS_T_TXT:
	case DNS_T_SPF:
		return dns_wire_txt(r, msg + rdoff, rdlen, truncated);
	default:
		return 0;
	}
}

/* A resource record's fixed part, as read by dns_wire_rr. */
struct dns_rr {
	unsigned	 type;
	unsigned	 class;
	uint32_t	 ttl;
	size_t		 rdoff;
	size_t		 rdlen;
};

/* dns_wire_rr - read the record at *off and move past it; false if bad */
static bool
dns_wire_rr(const unsigned char *msg, size_t len, size_t *off,
    struct dns_rr *rr)
{
	const unsigned char *p;

	if (!dns_wire_name(msg, len, off, NULL, NULL) ||
	    len - *off < DNS_RR_FIXED)
		return false;
	p = msg + *off;
	rr->type = dns_get16(p);
	rr->class = dns_get16(p + 2);
	rr->ttl = dns_ttl_value(dns_get32(p + 4));
	rr->rdlen = dns_get16(p + 8);
	rr->rdoff = *off + DNS_RR_FIXED;
	if (rr->rdlen > len - rr->rdoff)
		return false;
	*off = rr->rdoff + rr->rdlen;
	return true;
}

/*
 * dns_wire_negttl - the negative TTL from the first SOA of the authority
 * section starting at off: min(its TTL, its MINIMUM). False when there is
 * none or the section is malformed.
 */
static bool
dns_wire_negttl(const unsigned char *msg, size_t len, size_t off,
    unsigned nscount, uint32_t *ttl)
{
	struct dns_rr rr;
	size_t pos;
	uint32_t minimum;
	unsigned i;

	for (i = 0; i < nscount; i++) {
		if (!dns_wire_rr(msg, len, &off, &rr))
			return false;
		if (rr.type != DNS_T_SOA || rr.class != DNS_C_IN)
			continue;
		pos = rr.rdoff;
		if (!dns_wire_name(msg, len, &pos, NULL, NULL) ||
		    !dns_wire_name(msg, len, &pos, NULL, NULL) ||
		    pos + DNS_SOA_FIXED > rr.rdoff + rr.rdlen)
			return false;
		minimum = dns_ttl_value(dns_get32(msg + pos +
		    DNS_SOA_FIXED - 4));
		*ttl = rr.ttl < minimum ? rr.ttl : minimum;
		return true;
	}
	return false;
}

/*
 * dns_wire_answers - the records of the asked type in the answer section
 * (a->records), and their smallest TTL. *off moves to the authority
 * section. False when the reply is malformed.
 */
static bool
dns_wire_answers(struct dns_answer *a, const unsigned char *msg, size_t len,
    size_t *off, unsigned ancount, uint32_t *minttl)
{
	struct dns_rr rr;
	struct dns_record *r;
	unsigned i;
	int got;

	for (i = 0; i < ancount; i++) {
		if (!dns_wire_rr(msg, len, off, &rr))
			return false;
		if (rr.type != a->type || rr.class != DNS_C_IN)
			continue;
		if (a->nrecords == DNS_MAX_RECORDS) {
			a->truncated = true;
			continue;
		}
		if (a->records == NULL)
			a->records = xcalloc(ancount < DNS_MAX_RECORDS ?
			    ancount : DNS_MAX_RECORDS, sizeof(*a->records));
		r = &a->records[a->nrecords];
		memset(r, 0, sizeof(*r));
		got = dns_wire_record(r, a->type, msg, len, rr.rdoff,
		    rr.rdlen, &a->truncated);
		if (got < 0)
			return false;
		if (got == 0)
			continue;
		r->ttl = rr.ttl < DNS_TTL_MAX ? rr.ttl : DNS_TTL_MAX;
		if (r->ttl < *minttl)
			*minttl = r->ttl;
		a->nrecords++;
	}
	return true;
}

/*
 * dns_answer_parse - the answer for a query of type from its raw reply:
 * status from the RCODE and the records, TTL as described at the top. A
 * malformed reply is SERVFAIL. The reply is kept in wire.
 */
static struct dns_answer *
dns_answer_parse(unsigned type, const unsigned char *msg, size_t len)
{
	struct dns_answer *a = dns_answer_new(DNS_SERVFAIL, type);
	unsigned flags, qdcount, ancount, nscount, i;
	uint32_t minttl = DNS_TTL_MAX, negttl;
	size_t off = DNS_HDR_LEN;

	if (len <= DNS_MAX_WIRE) {
		a->wire = xmalloc(len);
		memcpy(a->wire, msg, len);
		a->wirelen = len;
	}
	if (len < DNS_HDR_LEN)
		return a;
	flags = dns_get16(msg + 2);
	qdcount = dns_get16(msg + 4);
	ancount = dns_get16(msg + 6);
	nscount = dns_get16(msg + 8);
	if ((flags & DNS_FLAG_QR) == 0)
		return a;
	for (i = 0; i < qdcount; i++) {
		if (!dns_wire_name(msg, len, &off, NULL, NULL) ||
		    len - off < DNS_Q_FIXED)
			return a;
		off += DNS_Q_FIXED;
	}
	if (!dns_wire_answers(a, msg, len, &off, ancount, &minttl)) {
		dns_answer_clear(a);
		a->truncated = false;
		return a;
	}
	switch (flags & DNS_RCODE_MASK) {
	case DNS_RCODE_NOERROR:
		a->status = a->nrecords > 0 ? DNS_OK : DNS_NODATA;
		break;
	case DNS_RCODE_NXDOMAIN:
		a->status = DNS_NXDOMAIN;
		break;
	default:
		a->status = DNS_SERVFAIL;
		break;
	}
	if (a->status == DNS_OK) {
		a->ttl = minttl;
		return a;
	}
	dns_answer_clear(a);
	a->truncated = false;
	if (a->status == DNS_SERVFAIL)
		return a;
	if (dns_wire_negttl(msg, len, off, nscount, &negttl))
		a->ttl = negttl < DNS_NEG_TTL_MAX ? negttl : DNS_NEG_TTL_MAX;
	else
		a->ttl = DNS_NEG_TTL_DEFAULT;
	return a;
}

/* dns_parse_reply - dns_answer_parse for callers outside the resolver */
struct dns_answer *
dns_parse_reply(unsigned type, const unsigned char *msg, size_t len)
{
	return dns_answer_parse(type, msg, len);
}

/*
 * dns_answer_cares - the answer from a c-ares query callback. c-ares 1.18
 * hands the reply over for NXDOMAIN, NODATA and the error RCODEs too; only
 * when there is no reply does its status decide.
 */
static struct dns_answer *
dns_answer_cares(unsigned type, int status, const unsigned char *abuf,
    int alen)
{
	struct dns_answer *a;

	switch (status) {
	case ARES_SUCCESS:
	case ARES_ENODATA:
	case ARES_ENOTFOUND:
	case ARES_EFORMERR:
	case ARES_ESERVFAIL:
	case ARES_ENOTIMP:
	case ARES_EREFUSED:
		if (abuf != NULL && alen > 0)
			return dns_answer_parse(type, abuf, (size_t)alen);
		break;
	default:
		break;
	}
	switch (status) {
	case ARES_ENOTFOUND:
		a = dns_answer_new(DNS_NXDOMAIN, type);
		a->ttl = DNS_NEG_TTL_DEFAULT;
		return a;
	case ARES_ENODATA:
		a = dns_answer_new(DNS_NODATA, type);
		a->ttl = DNS_NEG_TTL_DEFAULT;
		return a;
	case ARES_ETIMEOUT:
		return dns_answer_new(DNS_TIMEOUT, type);
	default:
		return dns_answer_new(DNS_SERVFAIL, type);
	}
}

/* ------------------------------------------------------------------ */
/* names */

/*
 * dns_name_key - check name and write its cache key (lower case, no final
 * dot) into key (DNS_MAX_NAME + 1 bytes). False when it cannot be queried.
 */
static bool
dns_name_key(const char *name, char *key)
{
	size_t len, i, label = 0;

	if (name == NULL)
		return false;
	len = strlen(name);
	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > DNS_MAX_NAME)
		return false;
	for (i = 0; i < len; i++) {
		if (name[i] == '\\')
			return false;
		if (name[i] == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (++label > DNS_MAX_LABEL)
			return false;
		key[i] = (name[i] >= 'A' && name[i] <= 'Z') ?
		    (char)(name[i] - 'A' + 'a') : name[i];
	}
	if (label == 0)
		return false;
	key[len] = '\0';
	return true;
}

/* dns_hash - FNV-1a of the key and the type */
static uint32_t
dns_hash(const char *key, unsigned type)
{
	uint32_t h = 2166136261U;

	for (; *key != '\0'; key++)
		h = (h ^ (unsigned char)*key) * 16777619U;
	h = (h ^ (type & 0xff)) * 16777619U;
	h = (h ^ (type >> 8)) * 16777619U;
	return h;
}

/* ------------------------------------------------------------------ */
/* the cache (all under d->lock) */

/* dns_list_remove - take e off the list it is on */
static void
dns_list_remove(struct dns_service *d, struct dns_entry *e)
{
	struct dns_list *l;

	if (e->list == DNS_LIST_NONE)
		return;
	l = e->list == DNS_LIST_LRU ? &d->lru : &d->flight;
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		l->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		l->tail = e->prev;
	e->prev = e->next = NULL;
	e->list = DNS_LIST_NONE;
	l->count--;
}

/* dns_list_push_head - put e first on the LRU list */
static void
dns_list_push_head(struct dns_service *d, struct dns_entry *e)
{
	dns_list_remove(d, e);
	e->list = DNS_LIST_LRU;
	e->prev = NULL;
	e->next = d->lru.head;
	if (d->lru.head != NULL)
		d->lru.head->prev = e;
	else
		d->lru.tail = e;
	d->lru.head = e;
	d->lru.count++;
}

/* dns_list_push_tail - put e last on the in-flight list */
static void
dns_list_push_tail(struct dns_service *d, struct dns_entry *e)
{
	dns_list_remove(d, e);
	e->list = DNS_LIST_FLIGHT;
	e->next = NULL;
	e->prev = d->flight.tail;
	if (d->flight.tail != NULL)
		d->flight.tail->next = e;
	else
		d->flight.head = e;
	d->flight.tail = e;
	d->flight.count++;
}

/* dns_entry_new - a pending entry for key, in the table */
static struct dns_entry *
dns_entry_new(struct dns_service *d, const char *key, unsigned type,
    uint32_t hash)
{
	struct dns_entry *e = xcalloc(1, sizeof(*e));
	size_t slot = hash & (DNS_HASH_SIZE - 1);

	e->svc = d;
	e->name = xstrdup(key);
	e->type = type;
	e->hash = hash;
	e->started = dns_now_ms();
	pthread_cond_init(&e->done, &d->condattr);
	e->hnext = d->table[slot];
	d->table[slot] = e;
	e->linked = true;
	return e;
}

/* dns_entry_destroy - free e (off every list and out of the table) */
static void
dns_entry_destroy(struct dns_entry *e)
{
	pthread_cond_destroy(&e->done);
	dns_answer_free(e->answer);
	free(e->name);
	free(e);
}

/* dns_entry_find - the entry for (key, type), or NULL */
static struct dns_entry *
dns_entry_find(struct dns_service *d, const char *key, unsigned type,
    uint32_t hash)
{
	struct dns_entry *e;

	for (e = d->table[hash & (DNS_HASH_SIZE - 1)]; e != NULL;
	    e = e->hnext)
		if (e->hash == hash && e->type == type &&
		    strcmp(e->name, key) == 0)
			return e;
	return NULL;
}

/* dns_entry_unlink - take e out of the table: no longer findable */
static void
dns_entry_unlink(struct dns_service *d, struct dns_entry *e)
{
	struct dns_entry **pp;

	if (!e->linked)
		return;
	for (pp = &d->table[e->hash & (DNS_HASH_SIZE - 1)]; *pp != NULL;
	    pp = &(*pp)->hnext) {
		if (*pp == e) {
			*pp = e->hnext;
			break;
		}
	}
	e->hnext = NULL;
	e->linked = false;
}

/* dns_entry_release - free e when nothing refers to it any more */
static void
dns_entry_release(struct dns_entry *e)
{
	if (!e->linked && e->waiters == 0 && !e->busy && !e->queued &&
	    e->list == DNS_LIST_NONE)
		dns_entry_destroy(e);
}

/* dns_entry_drop - forget an answered entry (stale, evicted, not kept) */
static void
dns_entry_drop(struct dns_service *d, struct dns_entry *e)
{
	dns_list_remove(d, e);
	dns_entry_unlink(d, e);
	dns_entry_release(e);
}

/* dns_cacheable - is the answer kept for later lookups? */
static bool
dns_cacheable(const struct dns_answer *a)
{
	return (a->status == DNS_OK || a->status == DNS_NODATA ||
	    a->status == DNS_NXDOMAIN) && a->ttl > 0;
}

/* dns_failure - an answer that is kept only for dns_lookup_since */
static bool
dns_failure(const struct dns_answer *a)
{
	return a->status == DNS_SERVFAIL || a->status == DNS_TIMEOUT;
}

/*
 * dns_entry_complete - give e its answer (taking the reference), keep it
 * in the cache or forget it, and wake its waiters. e must be unanswered.
 */
static void
dns_entry_complete(struct dns_service *d, struct dns_entry *e,
    struct dns_answer *a)
{
	dns_list_remove(d, e);
	e->answer = a;
	if (a->status == DNS_TIMEOUT)
		d->stats.timeouts++;
	else if (a->status == DNS_SERVFAIL)
		d->stats.servfails++;
	metrics_hist_observe(&d->latency, (uint64_t)(dns_now_ns() - e->sent_ns));
	if (e->linked && (dns_cacheable(a) || dns_failure(a))) {
		e->expires = dns_now_ms() + (dns_failure(a) ? DNS_FAIL_KEEP_S :
		    (int64_t)a->ttl) * DNS_MS_PER_S;
		dns_list_push_head(d, e);
		while (d->lru.count > DNS_CACHE_MAX)
			dns_entry_drop(d, d->lru.tail);
	} else
		dns_entry_unlink(d, e);
	pthread_cond_broadcast(&e->done);
}

/* What dns_entry_get found. */
enum dns_found {
	DNS_FOUND_HIT,		/* a fresh answer */
	DNS_FOUND_JOINED,	/* a query already queued or out */
	DNS_FOUND_NEW,		/* a new query, put on the send queue */
};

/*
 * dns_entry_get - the entry for (key, type), and what it is (*found).
 * A failure counts as an answer only when its query was asked for at or
 * after since (ms, monotonic). NULL when too many queries are out already.
 */
static struct dns_entry *
dns_entry_get(struct dns_service *d, const char *key, unsigned type,
    int64_t since, enum dns_found *found)
{
	uint32_t hash = dns_hash(key, type);
	struct dns_entry *e;
	bool was_empty;

	e = dns_entry_find(d, key, type, hash);
	if (e != NULL && e->answer != NULL) {
		if (dns_now_ms() < e->expires &&
		    (!dns_failure(e->answer) || e->started >= since)) {
			dns_list_push_head(d, e);
			*found = DNS_FOUND_HIT;
			return e;
		}
		dns_entry_drop(d, e);
		e = NULL;
	}
	if (e != NULL) {
		*found = DNS_FOUND_JOINED;
		return e;
	}
	if (d->nflight >= DNS_FLIGHT_MAX || d->stopping)
		return NULL;
	e = dns_entry_new(d, key, type, hash);
	e->queued = true;
	d->nflight++;
	was_empty = d->qhead == NULL;
	if (d->qtail != NULL)
		d->qtail->qnext = e;
	else
		d->qhead = e;
	d->qtail = e;
	if (was_empty)
		while (write(d->wake[1], "q", 1) < 0 && errno == EINTR)
			continue;
	*found = DNS_FOUND_NEW;
	return e;
}

/* ------------------------------------------------------------------ */
/* the resolver thread */

/* dns_query_done - c-ares' callback: fill the entry, wake its waiters */
static void
dns_query_done(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	struct dns_entry *e = arg;
	struct dns_service *d = e->svc;
	struct dns_answer *a;

	(void)timeouts;
	a = dns_answer_cares(e->type, status, abuf, alen);
	pthread_mutex_lock(&d->lock);
	e->busy = false;
	d->nflight--;
	d->nbusy--;
	if (e->answer == NULL) {
		if (a->status == DNS_SERVFAIL || a->status == DNS_TIMEOUT)
			log_debug("dns: %s type %u: %s (%s)", e->name,
			    e->type, dns_status_name(a->status),
			    ares_strerror(status));
		dns_entry_complete(d, e, a);
	} else
		dns_answer_free(a);
	dns_entry_release(e);
	pthread_mutex_unlock(&d->lock);
}

/* dns_thread_send - hand every queued query to c-ares */
static void
dns_thread_send(struct dns_service *d)
{
	struct dns_entry *e, *next;
	int64_t given_up, sent_ns;

	pthread_mutex_lock(&d->lock);
	if (d->reconf) {	/* they go out on the new channel */
		pthread_mutex_unlock(&d->lock);
		return;
	}
	e = d->qhead;
	d->qhead = d->qtail = NULL;
	given_up = dns_now_ms() + d->wait_ms;
	sent_ns = dns_now_ns();
	for (next = e; next != NULL; next = next->qnext) {
		next->queued = false;
		next->busy = true;
		d->nbusy++;
		next->given_up = given_up;
		next->sent_ns = sent_ns;
		dns_list_push_tail(d, next);
		d->stats.queries++;
	}
	pthread_mutex_unlock(&d->lock);
	/* busy entries stay alive until their callback: no lock needed */
	for (; e != NULL; e = next) {
		next = e->qnext;
		e->qnext = NULL;
		ares_query(d->channel, e->name, DNS_C_IN, (int)e->type,
		    dns_query_done, e);
	}
}

/*
 * dns_thread_expire - give up on queries c-ares has not finished well past
 * the timeout; return the ms until the next one is due (-1: none out)
 */
static int64_t
dns_thread_expire(struct dns_service *d)
{
	struct dns_entry *e;
	int64_t now = dns_now_ms(), left = -1;

	pthread_mutex_lock(&d->lock);
	while ((e = d->flight.head) != NULL && e->given_up <= now) {
		log_debug("dns: %s type %u: no answer from c-ares in time",
		    e->name, e->type);
		dns_entry_complete(d, e, dns_answer_new(DNS_TIMEOUT, e->type));
	}
	if (e != NULL)
		left = e->given_up - now;
	pthread_mutex_unlock(&d->lock);
	return left;
}

/* dns_thread_timeout - how long poll() may sleep (ms, -1: forever) */
static int
dns_thread_timeout(struct dns_service *d, int64_t left)
{
	struct timeval maxtv, tv, *tvp;

	if (left >= 0) {
		maxtv.tv_sec = left / DNS_MS_PER_S;
		maxtv.tv_usec = (left % DNS_MS_PER_S) * DNS_US_PER_MS;
	}
	tvp = ares_timeout(d->channel, left >= 0 ? &maxtv : NULL, &tv);
	if (tvp == NULL)
		return -1;
	return (int)(tvp->tv_sec * DNS_MS_PER_S +
	    (tvp->tv_usec + DNS_US_PER_MS - 1) / DNS_US_PER_MS);
}

/* dns_thread_drain - empty the wake pipe */
static void
dns_thread_drain(struct dns_service *d)
{
	char buf[DNS_DRAIN_BUF];

	while (read(d->wake[0], buf, sizeof(buf)) > 0)
		continue;
}

/* dns_thread_stopping - has dns_free asked the thread to stop? */
static bool
dns_thread_stopping(struct dns_service *d)
{
	bool stop;

	pthread_mutex_lock(&d->lock);
	stop = d->stopping;
	pthread_mutex_unlock(&d->lock);
	return stop;
}

/* dns_thread_poll - wait for the sockets, the pipe or a timeout; run c-ares */
static void
dns_thread_poll(struct dns_service *d, int timeout)
{
	ares_socket_t socks[ARES_GETSOCK_MAXNUM];
	struct pollfd pfd[DNS_POLL_FDS];
	ares_socket_t rfd, wfd;
	unsigned bits;
	int i, n = 0, ready;
	bool done = false, rbit, wbit;

	pfd[n].fd = d->wake[0];
	pfd[n].events = POLLIN;
	n++;
	/* the bits as unsigned: ARES_GETSOCK_WRITABLE shifts into the sign */
	bits = (unsigned)ares_getsock(d->channel, socks, ARES_GETSOCK_MAXNUM);
	for (i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
		rbit = bits & 1U << i;
		wbit = bits & 1U << (i + ARES_GETSOCK_MAXNUM);
		if (!rbit && !wbit)
			continue;
		pfd[n].fd = socks[i];
		pfd[n].events = (short)((rbit ? POLLIN : 0) |
		    (wbit ? POLLOUT : 0));
		n++;
	}
	ready = poll(pfd, (nfds_t)n, timeout);
	if (ready < 0 && errno != EINTR)
		log_warn("dns: poll: %s", strerror(errno));
	if (ready > 0 && (pfd[0].revents & POLLIN))
		dns_thread_drain(d);
	for (i = 1; ready > 0 && i < n; i++) {
		rfd = (pfd[i].revents & (POLLIN | POLLERR | POLLHUP)) ?
		    pfd[i].fd : ARES_SOCKET_BAD;
		wfd = (pfd[i].revents & POLLOUT) ? pfd[i].fd :
		    ARES_SOCKET_BAD;
		if (rfd == ARES_SOCKET_BAD && wfd == ARES_SOCKET_BAD)
			continue;
		ares_process_fd(d->channel, rfd, wfd);
		done = true;
	}
	if (!done)	/* timeouts and retries */
		ares_process_fd(d->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
}

static void dns_thread_reconfigure(struct dns_service *d);

/* dns_thread - the resolver thread: owns the c-ares channel */
static void *
dns_thread(void *arg)
{
	struct dns_service *d = arg;

	while (!dns_thread_stopping(d)) {
		dns_thread_reconfigure(d);
		dns_thread_send(d);
		dns_thread_poll(d, dns_thread_timeout(d,
		    dns_thread_expire(d)));
	}
	/* every query still out is called back here (ARES_EDESTRUCTION) */
	ares_destroy(d->channel);
	d->channel = NULL;
	return NULL;
}

/* ------------------------------------------------------------------ */
/* the service */

/* dns_library_init - ares_library_init, once per process */
static void
dns_library_init(void)
{
	dns_library_status = ares_library_init(ARES_LIB_INIT_ALL);
}

/* dns_error - format a reason into err */
static void
dns_error(char *err, size_t errlen, const char *what, const char *why)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s: %s", what, why);
}

/* dns_settings_make - cfg checked and normalised into set; false if bad */
static bool
dns_settings_make(const struct dns_config *cfg, struct dns_settings *set,
    char *err, size_t errlen)
{
	size_t i, n = 0, len;
	const char *s;

	memset(set, 0, sizeof(*set));
	if (cfg == NULL || cfg->nservers > DNS_MAX_SERVERS) {
		dns_error(err, errlen, "name servers", "too many");
		return false;
	}
	for (i = 0; i < cfg->nservers; i++) {
		s = cfg->servers[i];
		if (s == NULL || *s == '\0' ||
		    (len = strlen(s)) > DNS_SERVER_TEXT_MAX ||
		    strpbrk(s, ", \t\r\n") != NULL) {
			dns_error(err, errlen, "bad name server address",
			    s == NULL ? "(null)" : s);
			return false;
		}
		if (n + len + 2 > sizeof(set->csv)) {
			dns_error(err, errlen, "name servers", "list too long");
			return false;
		}
		if (n > 0)
			set->csv[n++] = ',';
		memcpy(set->csv + n, s, len + 1);
		n += len;
	}
	set->nservers = (unsigned)cfg->nservers;
	set->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms :
	    DNS_DEFAULT_TIMEOUT_MS;
	set->tries = cfg->tries ? cfg->tries : DNS_DEFAULT_TRIES;
	if (set->tries > DNS_TRIES_MAX)
		set->tries = DNS_TRIES_MAX;
	return true;
}

/* dns_channel_count - how many servers the channel has */
static unsigned
dns_channel_count(ares_channel ch)
{
	struct ares_addr_port_node *list = NULL, *p;
	unsigned n = 0;

	if (ares_get_servers_ports(ch, &list) != ARES_SUCCESS)
		return 1;
	for (p = list; p != NULL; p = p->next)
		n++;
	ares_free_data(list);
	return n > 0 ? n : 1;
}

/*
 * dns_try_ms - the per-try timeout that makes all tries on all servers fit
 * in timeout_ms: c-ares doubles it after each round through the servers,
 * so the whole is nservers * try * (2^tries - 1).
 */
static int
dns_try_ms(unsigned timeout_ms, unsigned tries, unsigned nservers)
{
	unsigned long rounds = (1UL << tries) - 1;
	unsigned long ms = timeout_ms / (rounds * nservers);

	return ms < DNS_TRY_MIN_MS ? DNS_TRY_MIN_MS : (int)ms;
}

/* dns_channel_open - a c-ares channel for set in *chp; false with err */
static bool
dns_channel_open(const struct dns_settings *set, ares_channel *chp,
    char *err, size_t errlen)
{
	struct ares_options opts;
	unsigned nservers, counted;
	ares_channel ch;
	int rc;

	nservers = set->nservers > 0 ? set->nservers : 1;
	for (;;) {
		memset(&opts, 0, sizeof(opts));
		opts.timeout = dns_try_ms(set->timeout_ms, set->tries, nservers);
		opts.tries = (int)set->tries;
		opts.flags = ARES_FLAG_EDNS | ARES_FLAG_NOCHECKRESP |
		    ARES_FLAG_NOSEARCH;
		opts.ednspsz = DNS_EDNS_SIZE;
		rc = ares_init_options(&ch, &opts, ARES_OPT_TIMEOUTMS |
		    ARES_OPT_TRIES | ARES_OPT_FLAGS | ARES_OPT_EDNSPSZ);
		if (rc != ARES_SUCCESS) {
			dns_error(err, errlen, "c-ares", ares_strerror(rc));
			return false;
		}
		if (set->nservers > 0) {
			rc = ares_set_servers_ports_csv(ch, set->csv);
			if (rc != ARES_SUCCESS) {
				dns_error(err, errlen, "bad name server list",
				    set->csv);
				ares_destroy(ch);
				return false;
			}
			*chp = ch;
			return true;
		}
		/* /etc/resolv.conf: size the timeout for its servers */
		counted = dns_channel_count(ch);
		if (counted <= nservers) {
			*chp = ch;
			return true;
		}
		ares_destroy(ch);
		nservers = counted;
	}
}

/*
 * dns_thread_reconfigure - once no query is out on the old channel, open
 * the new one; drop the cache when the servers changed
 */
static void
dns_thread_reconfigure(struct dns_service *d)
{
	struct dns_settings next;
	char err[256];
	ares_channel ch;
	bool flush;

	pthread_mutex_lock(&d->lock);
	if (!d->reconf || d->nbusy > 0) {
		pthread_mutex_unlock(&d->lock);
		return;
	}
	next = d->next;
	pthread_mutex_unlock(&d->lock);
	if (!dns_channel_open(&next, &ch, err, sizeof(err))) {
		log_err("dns: the new settings cannot be used, the old ones "
		    "stay: %s", err);
		pthread_mutex_lock(&d->lock);
		d->reconf = false;
		pthread_mutex_unlock(&d->lock);
		return;
	}
	ares_destroy(d->channel);	/* nothing is out on it */
	d->channel = ch;
	pthread_mutex_lock(&d->lock);
	flush = strcmp(next.csv, d->cur.csv) != 0;
	d->cur = next;
	d->wait_ms = next.timeout_ms + DNS_GRACE_MS;
	d->reconf = false;
	d->stats.reconfigures++;
	if (flush) {
		while (d->lru.tail != NULL)
			dns_entry_drop(d, d->lru.tail);
		d->stats.flushes++;
	}
	pthread_mutex_unlock(&d->lock);
	log_info("dns: %s, timeout %u ms, %u tries%s", next.csv[0] ?
	    next.csv : "servers of /etc/resolv.conf", next.timeout_ms,
	    next.tries, flush ? "; cache emptied for the new servers" : "");
}

/* dns_service_destroy - free what dns_new made (the thread is gone) */
static void
dns_service_destroy(struct dns_service *d)
{
	struct dns_entry *e, *next;
	size_t i;

	if (d->channel != NULL)
		ares_destroy(d->channel);
	for (i = 0; d->table != NULL && i < DNS_HASH_SIZE; i++) {
		for (e = d->table[i]; e != NULL; e = next) {
			next = e->hnext;
			dns_entry_destroy(e);
		}
	}
	free(d->table);
	if (d->wake[0] >= 0)
		close(d->wake[0]);
	if (d->wake[1] >= 0)
		close(d->wake[1]);
	pthread_condattr_destroy(&d->condattr);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

/* dns_new - start the service (the resolver thread) */
struct dns_service *
dns_new(const struct dns_config *cfg, char *err, size_t errlen)
{
	struct dns_service *d;
	sigset_t all, old;
	int rc;

	struct dns_settings set;

	if (!dns_settings_make(cfg, &set, err, errlen))
		return NULL;
	pthread_once(&dns_once, dns_library_init);
	if (dns_library_status != ARES_SUCCESS) {
		dns_error(err, errlen, "c-ares",
		    ares_strerror(dns_library_status));
		return NULL;
	}
	d = xcalloc(1, sizeof(*d));
	d->wake[0] = d->wake[1] = -1;
	pthread_mutex_init(&d->lock, NULL);
	pthread_condattr_init(&d->condattr);
	pthread_condattr_setclock(&d->condattr, CLOCK_MONOTONIC);
	d->table = xcalloc(DNS_HASH_SIZE, sizeof(*d->table));
	metrics_hist_init(&d->latency, metrics_latency_bounds,
	    metrics_latency_nbounds);
	if (pipe2(d->wake, O_NONBLOCK | O_CLOEXEC) < 0) {
		dns_error(err, errlen, "pipe", strerror(errno));
		dns_service_destroy(d);
		return NULL;
	}
	if (!dns_channel_open(&set, &d->channel, err, errlen)) {
		dns_service_destroy(d);
		return NULL;
	}
	d->cur = set;
	d->wait_ms = set.timeout_ms + DNS_GRACE_MS;
	/* signals are for the main thread, not the resolver */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&d->thread, NULL, dns_thread, d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		dns_error(err, errlen, "resolver thread", strerror(rc));
		dns_service_destroy(d);
		return NULL;
	}
	return d;
}

/* dns_free - stop the thread, drop the cache (waiters must be gone) */
void
dns_free(struct dns_service *d)
{
	if (d == NULL)
		return;
	pthread_mutex_lock(&d->lock);
	d->stopping = true;
	pthread_mutex_unlock(&d->lock);
	while (write(d->wake[1], "s", 1) < 0 && errno == EINTR)
		continue;
	pthread_join(d->thread, NULL);
	dns_service_destroy(d);
}

/* dns_prefetch - start a query now unless cached or in flight */
void
dns_prefetch(struct dns_service *d, const char *name, unsigned type)
{
	char key[DNS_MAX_NAME + 1];
	enum dns_found found;

	if (d == NULL || !dns_name_key(name, key))
		return;
	pthread_mutex_lock(&d->lock);
	(void)dns_entry_get(d, key, type, INT64_MAX, &found);
	pthread_mutex_unlock(&d->lock);
}

/* dns_lookup - the answer for (name, type), waiting no later than deadline */
struct dns_answer *
dns_lookup(struct dns_service *d, const char *name, unsigned type,
    const struct timespec *deadline)
{
	return dns_lookup_since(d, name, type, deadline, NULL);
}

/* dns_lookup_how - dns_lookup_since, and how it was answered (*how) */
static struct dns_answer *
dns_lookup_how(struct dns_service *d, const char *name, unsigned type,
    const struct timespec *deadline, const struct timespec *since,
    enum dns_how *how)
{
	int64_t since_ms = since == NULL ? INT64_MAX :
	    (int64_t)since->tv_sec * DNS_MS_PER_S +
	    since->tv_nsec / DNS_NS_PER_MS;
	char key[DNS_MAX_NAME + 1];
	struct timespec own;
	struct dns_entry *e;
	struct dns_answer *a;
	enum dns_found found;
	int rc = 0;

	if (!dns_name_key(name, key))
		return dns_answer_new(DNS_BADNAME, type);
	if (d == NULL)
		return dns_answer_new(DNS_SERVFAIL, type);
	pthread_mutex_lock(&d->lock);
	e = dns_entry_get(d, key, type, since_ms, &found);
	if (e == NULL) {
		pthread_mutex_unlock(&d->lock);
		log_warn("dns: %s type %u: no query possible (%d out, or "
		    "stopping)", key, type, DNS_FLIGHT_MAX);
		return dns_answer_new(DNS_SERVFAIL, type);
	}
	if (found == DNS_FOUND_HIT) {
		d->stats.hits++;
		a = dns_answer_ref(e->answer);
		pthread_mutex_unlock(&d->lock);
		*how = DNS_HOW_CACHE;
		return a;
	}
	if (found == DNS_FOUND_JOINED)
		d->stats.joined++;
	*how = found == DNS_FOUND_JOINED ? DNS_HOW_JOINED : DNS_HOW_QUERY;
	if (deadline == NULL) {
		dns_deadline(&own, d->wait_ms);
		deadline = &own;
	}
	e->waiters++;
	while (e->answer == NULL && rc == 0)
		rc = pthread_cond_timedwait(&e->done, &d->lock, deadline);
	a = e->answer != NULL ? dns_answer_ref(e->answer) :
	    dns_answer_new(DNS_TIMEOUT, type);
	e->waiters--;
	dns_entry_release(e);
	pthread_mutex_unlock(&d->lock);
	return a;
}

/* dns_lookup_since - dns_lookup that takes failures met since *since */
struct dns_answer *
dns_lookup_since(struct dns_service *d, const char *name, unsigned type,
    const struct timespec *deadline, const struct timespec *since)
{
	enum dns_how how = DNS_HOW_NONE;
	struct timespec t0, t1;
	struct dns_answer *a;

	if (d == NULL || d->watch == NULL)
		return dns_lookup_how(d, name, type, deadline, since, &how);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	a = dns_lookup_how(d, name, type, deadline, since, &how);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	d->watch(d->watch_arg, name, type, a, how,
	    (unsigned long)((t1.tv_sec - t0.tv_sec) * DNS_US_PER_S +
	    (t1.tv_nsec - t0.tv_nsec) / DNS_NS_PER_US));
	return a;
}

/* dns_set_watch - call fn after every lookup (before the first one) */
void
dns_set_watch(struct dns_service *d, dns_watch_fn fn, void *arg)
{
	pthread_mutex_lock(&d->lock);
	d->watch = fn;
	d->watch_arg = arg;
	pthread_mutex_unlock(&d->lock);
}

/* dns_get_stats - a copy of the counters */
void
dns_get_stats(struct dns_service *d, struct dns_stats *st)
{
	if (d == NULL) {
		memset(st, 0, sizeof(*st));
		return;
	}
	pthread_mutex_lock(&d->lock);
	*st = d->stats;
	st->cached = d->lru.count;
	pthread_mutex_unlock(&d->lock);
	metrics_hist_copy(&d->latency, &st->latency);
}

/* dns_reconfigure - new settings, applied by the thread when it can */
bool
dns_reconfigure(struct dns_service *d, const struct dns_config *cfg,
    char *err, size_t errlen)
{
	struct dns_settings set;
	bool same;

	if (!dns_settings_make(cfg, &set, err, errlen))
		return false;
	pthread_mutex_lock(&d->lock);
	same = !d->reconf && strcmp(set.csv, d->cur.csv) == 0 &&
	    set.timeout_ms == d->cur.timeout_ms && set.tries == d->cur.tries;
	if (!same) {
		d->next = set;
		d->reconf = true;
	}
	pthread_mutex_unlock(&d->lock);
	if (!same)
		while (write(d->wake[1], "r", 1) < 0 && errno == EINTR)
			continue;
	return true;
}
