/*
 * metrics.h - the counters, gauges and histograms a gateway operator
 * watches, and the Prometheus text exposition of them.
 *
 * The runtime owns one struct metrics for the life of the daemon, so the
 * figures keep counting across reloads. Counting costs no lock: every value
 * is a C11 atomic updated with relaxed ordering (an increment is one
 * instruction; a scrape may see one counter a message ahead of another,
 * which Prometheus tolerates). Histograms have fixed buckets in seconds.
 *
 * The arrays are indexed by the engine's own enums (verdict_action,
 * spf_result, ...), whose names the exposition asks of those modules: this
 * module is a leaf and knows no engine module (the runtime writes the text,
 * see runtime_metrics_text()). The sizes below bound those enums; the
 * runtime checks them at compile time.
 *
 * Metric names follow the Prometheus conventions: the authmilter_ prefix,
 * _total for counters, base units (seconds).
 */
#ifndef AM_METRICS_H
#define AM_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define METRICS_MAX_BUCKETS	16	/* upper bounds of one histogram */
#define METRICS_DIRECTIONS	3	/* enum metrics_direction */
#define METRICS_ACTIONS		4	/* enum verdict_action */
#define METRICS_SPF_RESULTS	8	/* enum spf_result */
#define METRICS_DKIM_RESULTS	8	/* enum dkimv_result */
#define METRICS_DMARC_RESULTS	8	/* enum dmarc_result */
#define METRICS_OVERRIDES	6	/* enum dmarc_override */
#define METRICS_ARC_RESULTS	3	/* enum arc_result */
#define METRICS_ARC_CVS		3	/* enum arc_cv */
#define METRICS_SIGN_ALGS	2	/* enum metrics_sign_alg */

enum metrics_direction {
	METRICS_INBOUND = 0,	/* checked */
	METRICS_OUTBOUND,	/* ours to sign */
	METRICS_IGNORED,	/* IgnoreHosts: neither */
};

enum metrics_spf_identity {
	METRICS_SPF_MAILFROM = 0,
	METRICS_SPF_HELO,
	METRICS_SPF_IDENTITIES
};

enum metrics_sign_alg {
	METRICS_ALG_RSA_SHA256 = 0,
	METRICS_ALG_ED25519_SHA256,
};

/* A histogram: cumulative buckets are made at exposition time. */
struct metrics_hist {
	const double	*bounds;	/* upper bounds, seconds, ascending */
	size_t		 nbounds;	/* at most METRICS_MAX_BUCKETS */
	atomic_uint_fast64_t counts[METRICS_MAX_BUCKETS + 1];	/* + "+Inf" */
	atomic_uint_fast64_t sum_ns;
};

struct metrics {
	int64_t		 started;	/* time(): the process start */
	atomic_uint_fast64_t messages[METRICS_DIRECTIONS][METRICS_ACTIONS];
	atomic_int_fast64_t in_flight;	/* messages between MAIL and the end */
	atomic_int_fast64_t connections;	/* MTA connections open */
	atomic_uint_fast64_t signatures[METRICS_SIGN_ALGS];
	atomic_uint_fast64_t spf[METRICS_SPF_IDENTITIES][METRICS_SPF_RESULTS];
	atomic_uint_fast64_t dkim[METRICS_DKIM_RESULTS];
	atomic_uint_fast64_t dmarc[METRICS_DMARC_RESULTS];
	atomic_uint_fast64_t overrides[METRICS_OVERRIDES];
	atomic_uint_fast64_t arc[METRICS_ARC_RESULTS];	/* chains checked */
	atomic_uint_fast64_t arc_seals[METRICS_ARC_CVS];	/* sets added */
	atomic_uint_fast64_t shadow[METRICS_ACTIONS];	/* ShadowMode: would */
	atomic_uint_fast64_t reloads;
	atomic_uint_fast64_t reload_failures;
	atomic_uint_fast64_t internal_errors;
	atomic_uint_fast64_t scrapes;
	atomic_uint_fast64_t report_written;	/* DMARC report rows stored */
	atomic_uint_fast64_t report_dropped;	/* ... lost (queue full, store down) */
	atomic_int_fast64_t report_queued;	/* ... waiting for the store */
	atomic_uint_fast64_t failure_sent;	/* RFC 9991 reports handed over */
	atomic_uint_fast64_t failure_dropped;	/* ... lost (queue, relay) */
	struct metrics_hist eom;	/* end of message to reply */
};

/* The bucket bounds of the DNS and end-of-message histograms (seconds). */
extern const double metrics_latency_bounds[];
extern const size_t metrics_latency_nbounds;

/* metrics_new - every value zero, the start time now */
struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

/* metrics_hist_init - a histogram with these bounds (static storage) */
void metrics_hist_init(struct metrics_hist *h, const double *bounds,
    size_t nbounds);
/* metrics_hist_observe - one observation of ns nanoseconds */
void metrics_hist_observe(struct metrics_hist *h, uint64_t ns);
/* metrics_hist_copy - a plain snapshot (counts per bucket, not cumulative) */
struct metrics_hist_snapshot {
	size_t		 nbounds;
	double		 bounds[METRICS_MAX_BUCKETS];
	uint64_t	 counts[METRICS_MAX_BUCKETS + 1];
	uint64_t	 sum_ns;
};
void metrics_hist_copy(const struct metrics_hist *h,
    struct metrics_hist_snapshot *out);

/* metrics_add - add n to a counter (relaxed) */
static inline void
metrics_add(atomic_uint_fast64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/* metrics_get - read a counter (relaxed) */
static inline uint64_t
metrics_get(const atomic_uint_fast64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

/*
 * The text exposition format (version 0.0.4), one family at a time:
 * metrics_family() writes # HELP and # TYPE, then metrics_sample() one line
 * per label set ("" for none; labels as name="value",... without braces,
 * values already escaped), metrics_hist_samples() the _bucket/_sum/_count
 * lines of a histogram.
 */
void metrics_family(struct buf *b, const char *name, const char *type,
    const char *help);
void metrics_sample(struct buf *b, const char *name, const char *labels,
    uint64_t value);
void metrics_sample_double(struct buf *b, const char *name,
    const char *labels, double value);
void metrics_hist_samples(struct buf *b, const char *name,
    const char *labels, const struct metrics_hist_snapshot *h);

#endif
