/*
 * NAME
 *	metrics - lock-free counters and histograms, and their text format
 * SYNOPSIS
 *	#include "metrics.h"
 *
 *	m = metrics_new(); metrics_add(&m->..., 1); metrics_free(m)
 *	metrics_hist_init(h, bounds, n); metrics_hist_observe(h, ns)
 *	metrics_family(buf, name, type, help); metrics_sample(buf, ...)
 * DESCRIPTION
 *	Values are C11 atomics updated with relaxed ordering: a message adds
 *	to a handful of counters without a lock or a system call. A histogram
 *	finds its bucket by a short linear scan of at most METRICS_MAX_BUCKETS
 *	bounds and adds the observation's nanoseconds to its sum.
 *
 *	The writers produce the Prometheus text exposition format 0.0.4:
 *	"# HELP", "# TYPE", then "name{labels} value" lines; histograms as
 *	cumulative _bucket lines with an le label, then _sum (seconds) and
 *	_count.
 * DIAGNOSTICS
 *	None.
 */
#include "buildconf.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics.h"
#include "util.h"

#define METRICS_NS_PER_S	1e9

/*
 * Latency buckets from 0.5 ms to 30 s: a message answered from memory
 * takes well under a millisecond, one that waits for DNS a few ms to the
 * DNS budget (DNSBudget, 20 s by default).
 */
const double metrics_latency_bounds[] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
	1, 2.5, 5, 10, 30,
};
const size_t metrics_latency_nbounds =
    sizeof(metrics_latency_bounds) / sizeof(metrics_latency_bounds[0]);

/* metrics_new - all zero, started now */
struct metrics *
metrics_new(void)
{
	struct metrics *m = xcalloc(1, sizeof(*m));

	m->started = (int64_t)time(NULL);
	metrics_hist_init(&m->eom, metrics_latency_bounds,
	    metrics_latency_nbounds);
	return m;
}

void
metrics_free(struct metrics *m)
{
	free(m);
}

/* metrics_hist_init - empty, with bounds */
void
metrics_hist_init(struct metrics_hist *h, const double *bounds, size_t n)
{
	h->bounds = bounds;
	h->nbounds = n > METRICS_MAX_BUCKETS ? METRICS_MAX_BUCKETS : n;
	for (size_t i = 0; i <= METRICS_MAX_BUCKETS; i++)
		atomic_init(&h->counts[i], 0);
	atomic_init(&h->sum_ns, 0);
}

/* metrics_hist_observe - count ns in its bucket */
void
metrics_hist_observe(struct metrics_hist *h, uint64_t ns)
{
	double s = (double)ns / METRICS_NS_PER_S;
	size_t i = 0;

	while (i < h->nbounds && s > h->bounds[i])
		i++;
	metrics_add(&h->counts[i], 1);
	metrics_add(&h->sum_ns, ns);
}

/* metrics_hist_copy - a snapshot for the writers */
void
metrics_hist_copy(const struct metrics_hist *h,
    struct metrics_hist_snapshot *out)
{
	memset(out, 0, sizeof(*out));
	out->nbounds = h->nbounds;
	for (size_t i = 0; i < h->nbounds; i++)
		out->bounds[i] = h->bounds[i];
	for (size_t i = 0; i <= h->nbounds; i++)
		out->counts[i] = metrics_get(&h->counts[i]);
	out->sum_ns = metrics_get(&h->sum_ns);
}

/* metrics_family - the HELP and TYPE lines of one metric family */
void
metrics_family(struct buf *b, const char *name, const char *type,
    const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* metrics_sample - one integer sample */
void
metrics_sample(struct buf *b, const char *name, const char *labels,
    uint64_t value)
{
	if (labels != NULL && labels[0])
		buf_printf(b, "%s{%s} %llu\n", name, labels,
		    (unsigned long long)value);
	else
		buf_printf(b, "%s %llu\n", name, (unsigned long long)value);
}

/* metrics_sample_double - one sample with a fraction */
void
metrics_sample_double(struct buf *b, const char *name, const char *labels,
    double value)
{
	if (labels != NULL && labels[0])
		buf_printf(b, "%s{%s} %.9g\n", name, labels, value);
	else
		buf_printf(b, "%s %.9g\n", name, value);
}

/* metrics_hist_samples - _bucket (cumulative), _sum and _count lines */
void
metrics_hist_samples(struct buf *b, const char *name, const char *labels,
    const struct metrics_hist_snapshot *h)
{
	const char *sep = labels != NULL && labels[0] ? "," : "";
	uint64_t cum = 0;

	if (labels == NULL)
		labels = "";
	for (size_t i = 0; i < h->nbounds; i++) {
		cum += h->counts[i];
		buf_printf(b, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels,
		    sep, h->bounds[i], (unsigned long long)cum);
	}
	cum += h->counts[h->nbounds];
	buf_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep,
	    (unsigned long long)cum);
	if (labels[0]) {
		buf_printf(b, "%s_sum{%s} %.9g\n", name, labels,
		    (double)h->sum_ns / METRICS_NS_PER_S);
		buf_printf(b, "%s_count{%s} %llu\n", name, labels,
		    (unsigned long long)cum);
	} else {
		buf_printf(b, "%s_sum %.9g\n", name,
		    (double)h->sum_ns / METRICS_NS_PER_S);
		buf_printf(b, "%s_count %llu\n", name,
		    (unsigned long long)cum);
	}
}
