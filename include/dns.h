/*
 * dns.h - the one DNS service: c-ares underneath, one cache shared by all
 * threads, answers that honour TTLs, negative caching, and lookups that can
 * be started early (dns_prefetch) and collected later (dns_lookup).
 *
 * Every DNS query of the filter goes through here: DKIM keys (libopendkim
 * through its dkim_dns_set_query_* hooks, which take the raw reply), SPF
 * (libspf2 through the SPF_dns_server_t layer in spf.c) and DMARC. Nothing
 * calls the blocking system resolver.
 *
 * Design: one resolver thread owns the c-ares channel (c-ares 1.18 channels
 * are not thread-safe). Callers put a query into the cache as "pending" and
 * wake the thread through a pipe; the thread sends it, and when the answer
 * arrives fills the cache entry and wakes every waiter. A second caller for
 * the same (name, type) while the query is in flight waits on the same
 * entry: one query on the wire, any number of waiters. A waiter gives up at
 * its own deadline (the per-message DNS budget); the query still completes
 * into the cache for the next message.
 *
 * Answers are immutable and reference counted: a caller keeps its answer
 * after the cache has dropped it.
 */
#ifndef AM_DNS_H
#define AM_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "metrics.h"

#define DNS_MAX_NAME		253	/* bytes of a query name, no final dot */
#define DNS_MAX_SERVERS		8	/* Nameservers entries */
#define DNS_MAX_RECORDS		64	/* records kept from one answer */
#define DNS_MAX_TXT		8192	/* bytes of one TXT record (strings joined) */
#define DNS_MAX_WIRE		65535	/* bytes of a raw reply kept */
#define DNS_CACHE_MAX		20000	/* answers in the cache */
#define DNS_TTL_MAX		86400	/* longest a positive answer is cached (s) */
#define DNS_NEG_TTL_MAX		900	/* longest a negative answer is cached (s) */
#define DNS_NEG_TTL_DEFAULT	60	/* negative TTL when there is no SOA */
#define DNS_EDNS_SIZE		1232	/* EDNS0 UDP payload we offer */

/* Record types we ask for. */
#define DNS_T_A		1
#define DNS_T_PTR	12
#define DNS_T_MX	15
#define DNS_T_TXT	16
#define DNS_T_AAAA	28
#define DNS_T_SPF	99

enum dns_status {
	DNS_OK = 0,	/* at least one record of the type asked for */
	DNS_NODATA,	/* the name exists, no record of that type */
	DNS_NXDOMAIN,	/* the name does not exist */
	DNS_SERVFAIL,	/* SERVFAIL, REFUSED, a malformed reply, no server */
	DNS_TIMEOUT,	/* no reply in time (c-ares gave up, or our deadline) */
	DNS_BADNAME,	/* the name cannot be queried (empty label, too long) */
};

struct dns_record {
	unsigned	 type;		/* DNS_T_* */
	uint32_t	 ttl;
	/*
	 * TXT/SPF: the character-strings joined, NUL-terminated (len excludes
	 * the NUL; the data may itself contain NUL bytes).
	 * MX: exchange name, PTR: target name, lower case, no final dot.
	 * A/AAAA: NULL.
	 */
	char		*text;
	size_t		 len;
	unsigned	 pref;		/* MX preference */
	unsigned char	 addr[16];	/* A: 4 bytes, AAAA: 16 bytes */
};

struct dns_answer {
	enum dns_status	 status;
	unsigned	 type;		/* the type asked for */
	uint32_t	 ttl;		/* how long it was cached for */
	size_t		 nrecords;	/* records of the type asked for only */
	struct dns_record *records;
	bool		 truncated;	/* more than DNS_MAX_RECORDS; rest dropped */
	unsigned char	*wire;		/* the raw reply (NULL for TIMEOUT etc.) */
	size_t		 wirelen;
	int		 refs;		/* private: see dns_answer_free */
};

struct dns_config {
	/* "IP", "IP:PORT", "[IPv6]:PORT"; none = /etc/resolv.conf */
	const char	*servers[DNS_MAX_SERVERS];
	size_t		 nservers;
	unsigned	 timeout_ms;	/* one query, all tries together */
	unsigned	 tries;		/* attempts per server */
};

struct dns_service;

/*
 * dns_new - start the service (the resolver thread). NULL with a reason in
 * err when c-ares cannot start or a server address is bad.
 */
struct dns_service *dns_new(const struct dns_config *cfg, char *err,
    size_t errlen);
/* dns_free - stop the thread, drop the cache (waiters must be gone) */
void dns_free(struct dns_service *d);

/*
 * dns_prefetch - start a query now unless the answer is cached or already in
 * flight. Never blocks. Names are case-insensitive; a final dot is ignored.
 */
void dns_prefetch(struct dns_service *d, const char *name, unsigned type);

/*
 * dns_lookup - the answer for (name, type), from the cache or from the wire,
 * waiting no later than deadline (CLOCK_MONOTONIC; NULL = the service's own
 * timeout). Never NULL: failures are a status. Release with dns_answer_free.
 */
struct dns_answer *dns_lookup(struct dns_service *d, const char *name,
    unsigned type, const struct timespec *deadline);
void dns_answer_free(struct dns_answer *a);
/*
 * dns_lookup_since - dns_lookup for the lookups of one message that began
 * at *since (CLOCK_MONOTONIC): a failure (SERVFAIL, TIMEOUT) met by a query
 * asked for at or after *since is answered from the cache (for up to a
 * minute) instead of being asked again. So a name that timed out when the
 * message prefetched it does not time out once more, in turn, at the end
 * of the message; a later message asks again. NULL since = dns_lookup.
 */
struct dns_answer *dns_lookup_since(struct dns_service *d, const char *name,
    unsigned type, const struct timespec *deadline,
    const struct timespec *since);
/*
 * dns_answer_make - an answer built by hand (status, type, n TXT/MX/PTR
 * texts; for A/AAAA pass the addresses as text, "192.0.2.1" or "2001:db8::1").
 * For unit tests of the modules above DNS, and for synthesised answers.
 */
struct dns_answer *dns_answer_make(enum dns_status st, unsigned type,
    const char *const *texts, size_t n);

/* How a lookup was answered, for a watcher (dns_set_watch). */
enum dns_how {
	DNS_HOW_CACHE = 0,	/* from the cache */
	DNS_HOW_JOINED,		/* waited for the same query, already out */
	DNS_HOW_QUERY,		/* a query of its own on the wire */
	DNS_HOW_NONE,		/* no query possible (bad name, no service) */
};
typedef void (*dns_watch_fn)(void *arg, const char *name, unsigned type,
    const struct dns_answer *a, enum dns_how how, unsigned long usecs);
/*
 * dns_set_watch - fn(arg, ...) after every lookup of d, in the caller's
 * thread: the name and type asked, the answer, how it came and how long
 * the caller waited (microseconds). For "authmilter check --explain",
 * whose service is its own; set it before the first lookup.
 */
void dns_set_watch(struct dns_service *d, dns_watch_fn fn, void *arg);

/*
 * dns_parse_reply - the answer the service makes of a raw reply (len bytes)
 * to a query of type: records of that type from the answer section, TTLs,
 * status from the RCODE; a malformed reply is DNS_SERVFAIL. Never NULL.
 * The parser of dns_lookup, offered to the unit tests and the fuzzer.
 */
struct dns_answer *dns_parse_reply(unsigned type, const unsigned char *msg,
    size_t len);

/* dns_deadline - now (CLOCK_MONOTONIC) plus ms, for dns_lookup */
void dns_deadline(struct timespec *ts, unsigned ms);
/* dns_expired - is the deadline past? */
bool dns_expired(const struct timespec *deadline);

/* dns_status_name - "ok", "nodata", "nxdomain", "servfail", "timeout", ... */
const char *dns_status_name(enum dns_status s);

/*
 * dns_reconfigure - new servers, timeout or tries for a running service.
 * The cache is kept unless the servers change (the answers of other
 * servers may differ). The resolver thread applies it once the queries
 * already sent to c-ares have finished (within the old timeout); queries
 * asked for meanwhile wait and go out on the new channel. False with a
 * reason in err when cfg is bad; the service is then unchanged.
 */
bool dns_reconfigure(struct dns_service *d, const struct dns_config *cfg,
    char *err, size_t errlen);

/*
 * dns_stats - counters since the service started, for the metrics, the
 * tests and the log. They survive dns_reconfigure().
 */
struct dns_stats {
	unsigned long	 queries;	/* sent on the wire */
	unsigned long	 hits;		/* answered from the cache */
	unsigned long	 joined;	/* waited on a query already in flight */
	unsigned long	 timeouts;	/* queries that got no answer in time */
	unsigned long	 servfails;	/* SERVFAIL, REFUSED, bad reply, no server */
	unsigned long	 reconfigures;	/* new channels (dns_reconfigure) */
	unsigned long	 flushes;	/* caches dropped for new servers */
	size_t		 cached;	/* answers in the cache now */
	/* from the query on the wire to its answer (or giving up) */
	struct metrics_hist_snapshot latency;
};
void dns_get_stats(struct dns_service *d, struct dns_stats *st);

#endif
