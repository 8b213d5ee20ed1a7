/*
 * NAME
 *	report_writer - DMARC report rows to the store, on a thread of their
 *	own, never in the way of mail
 * SYNOPSIS
 *	#include "report_writer.h"
 *
 *	w = report_writer_start(spec, gateway, metrics)
 *	report_writer_submit(w, row)		(from any session thread)
 *	report_writer_drain(w)			(at exit, sessions may go on)
 *	report_writer_stop(w)
 * DESCRIPTION
 *	The queue is a ring of ReportQueueSize row pointers under one
 *	mutex. Submitting takes the mutex for a few instructions, never
 *	waits for the store, and drops the row when the ring is full. The
 *	thread takes up to REPORT_WRITER_BATCH rows and writes them in one
 *	transaction; a lone row waits at most REPORT_WRITER_FLUSH_MS.
 *
 *	When the store cannot be opened, or a write fails (the connection
 *	is then closed, to be opened again), the batch is kept and tried
 *	again every REPORT_WRITER_RETRY_SECS: for as long as the store is
 *	down, but for at most REPORT_WRITER_MAX_TRIES writes that an open
 *	store refuses (a batch it will never take); meanwhile new rows fill
 *	the ring and, once it is full, are dropped. Every row dropped is counted in the metrics; the log says
 *	how many at most once every REPORT_WRITER_LOG_SECS, from this
 *	thread, never from a session's.
 *
 *	At stop (or drain, when the daemon leaves with connections still
 *	open) the thread writes what is queued, for at most
 *	REPORT_WRITER_STOP_SECS; what is left is dropped and counted, as
 *	is every row submitted after that.
 * DIAGNOSTICS
 *	report_writer_start() returns NULL when the thread cannot be
 *	created. Store problems are logged (bounded rate) and counted.
 */
#include "buildconf.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "metrics.h"
#include "report.h"
#include "report_store.h"
#include "report_writer.h"
#include "util.h"

#define WRITER_ERRLEN	512

struct report_writer {
	pthread_t	 tid;
	pthread_mutex_t	 lock;
	pthread_cond_t	 wake;		/* rows arrived, or stop */
	struct report_row **ring;	/* qsize entries */
	size_t		 qsize;		/* ReportQueueSize */
	size_t		 batch;		/* rows per transaction */
	size_t		 head, len;	/* under lock */
	bool		 stopping;	/* under lock */
	bool		 joined;	/* the thread is gone (drained) */
	atomic_uint_fast64_t dropped_unlogged;	/* by submit, for the log */
	struct metrics	*metrics;
	char		*spec;
	char		 label[REPORT_STORE_MAX_SPEC + 1];	/* for the log */
	char		*gateway;
	/* the thread's own */
	struct report_store *store;
	time_t		 next_open;
	time_t		 last_log;	/* failures */
	time_t		 last_drop_log;
	unsigned long	 failures_unlogged;
	char		 last_error[WRITER_ERRLEN];
};

/* writer_deadline - now + ms on CLOCK_MONOTONIC */
static void
writer_deadline(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* writer_now - monotonic seconds */
static time_t
writer_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* writer_drop - rows lost: counted now, logged later */
static void
writer_drop(struct report_writer *w, size_t n)
{
	metrics_add(&w->metrics->report_dropped, n);
	atomic_fetch_add_explicit(&w->dropped_unlogged, n,
	    memory_order_relaxed);
}

/*
 * writer_log - what went wrong since the last line, at a bounded rate:
 * failures and drops each at most once every REPORT_WRITER_LOG_SECS
 * (force: now)
 */
static void
writer_log(struct report_writer *w, bool force)
{
	time_t now = writer_now();
	uint64_t dropped;

	if (w->failures_unlogged > 0 && (force || w->last_log == 0 ||
	    now - w->last_log >= REPORT_WRITER_LOG_SECS)) {
		w->last_log = now;
		log_warn("report store %s: failed attempts: %lu (mail is not "
		    "affected; rows wait, then are dropped); last error: %s",
		    w->label, w->failures_unlogged, w->last_error);
		w->failures_unlogged = 0;
	}
	if (!force && w->last_drop_log != 0 &&
	    now - w->last_drop_log < REPORT_WRITER_LOG_SECS)
		return;
	dropped = atomic_exchange_explicit(&w->dropped_unlogged, 0,
	    memory_order_relaxed);
	if (dropped == 0)
		return;
	w->last_drop_log = now;
	log_warn("report store %s: %llu report rows dropped (the store is "
	    "slow or down, or refused them; mail is not affected)", w->label,
	    (unsigned long long)dropped);
}

/* writer_fail - one failed open or write */
static void
writer_fail(struct report_writer *w, const char *why)
{
	util_copy(w->last_error, sizeof(w->last_error), why);
	w->failures_unlogged++;
	writer_log(w, false);
}

/* writer_open - the store, unless it failed a moment ago */
static bool
writer_open(struct report_writer *w, bool now)
{
	char err[WRITER_ERRLEN];

	if (w->store != NULL)
		return true;
	if (!now && writer_now() < w->next_open)
		return false;
	w->store = report_store_open(w->spec, err, sizeof(err));
	if (w->store == NULL) {
		w->next_open = writer_now() + REPORT_WRITER_RETRY_SECS;
		writer_fail(w, err);
		return false;
	}
	log_info("report store %s open (%s)", w->label,
	    report_store_kind(w->store));
	return true;
}

/* writer_write - one batch; true when it is done with (written or dropped) */
static bool
writer_write(struct report_writer *w, struct report_row **batch, size_t n,
    unsigned *tries, bool now)
{
	char err[WRITER_ERRLEN];

	if (!writer_open(w, now))
		return false;	/* down: the batch waits, the queue fills */
	if (report_store_insert(w->store, batch, n, err, sizeof(err))) {
		metrics_add(&w->metrics->report_written, n);
		*tries = 0;
		return true;
	}
	/* a failed write: the connection may be gone; open it anew */
	writer_fail(w, err);
	report_store_close(w->store);
	w->store = NULL;
	w->next_open = writer_now() + REPORT_WRITER_RETRY_SECS;
	if (++*tries >= REPORT_WRITER_MAX_TRIES) {
		writer_drop(w, n);
		*tries = 0;
		return true;
	}
	return false;
}

/* writer_take - move up to REPORT_WRITER_BATCH rows into batch (locked) */
static size_t
writer_take(struct report_writer *w, struct report_row **batch, size_t have)
{
	while (have < w->batch && w->len > 0) {
		batch[have++] = w->ring[w->head];
		w->head = (w->head + 1) % w->qsize;
		w->len--;
	}
	atomic_store_explicit(&w->metrics->report_queued, (int64_t)w->len,
	    memory_order_relaxed);
	return have;
}

/* writer_free_batch - rows written or dropped */
static void
writer_free_batch(struct report_row **batch, size_t n)
{
	for (size_t i = 0; i < n; i++)
		report_row_free(batch[i]);
}

/* writer_finish - at stop: write what is left within the time, drop the rest */
static void
writer_finish(struct report_writer *w, struct report_row **batch, size_t n)
{
	time_t until = writer_now() + REPORT_WRITER_STOP_SECS;
	unsigned tries = 0;
	bool first = true;

	for (;;) {
		pthread_mutex_lock(&w->lock);
		n = writer_take(w, batch, n);
		pthread_mutex_unlock(&w->lock);
		if (n == 0)
			break;
		if (writer_now() >= until || (!first && w->store == NULL)) {
			writer_drop(w, n);
			writer_free_batch(batch, n);
			n = 0;
			continue;
		}
		if (writer_write(w, batch, n, &tries, first)) {
			writer_free_batch(batch, n);
			n = 0;
		}
		first = false;
	}
	writer_log(w, true);
}

/* writer_main - the thread */
static void *
writer_main(void *arg)
{
	struct report_writer *w = arg;
	struct report_row **batch = xcalloc(w->batch, sizeof(*batch));
	struct timespec until;
	unsigned tries = 0;
	size_t n = 0;

	(void)writer_open(w, true);
	for (;;) {
		pthread_mutex_lock(&w->lock);
		/* wait for a full batch, the flush time, or stop */
		writer_deadline(&until, n > 0 ? REPORT_WRITER_RETRY_SECS * 1000L :
		    REPORT_WRITER_FLUSH_MS);
		while (!w->stopping && (n > 0 ? w->store == NULL &&
		    writer_now() < w->next_open : w->len < w->batch))
			if (pthread_cond_timedwait(&w->wake, &w->lock,
			    &until) == ETIMEDOUT)
				break;
		if (w->stopping) {
			pthread_mutex_unlock(&w->lock);
			break;
		}
		n = writer_take(w, batch, n);
		pthread_mutex_unlock(&w->lock);
		if (n > 0 && writer_write(w, batch, n, &tries, false)) {
			writer_free_batch(batch, n);
			n = 0;
		}
		writer_log(w, false);
	}
	writer_finish(w, batch, n);
	free(batch);
	report_store_close(w->store);
	w->store = NULL;
	return NULL;
}

/* report_writer_start - the thread; the store is opened by it */
struct report_writer *
report_writer_start(const char *spec, const char *gateway, size_t queue,
    struct metrics *m)
{
	struct report_writer *w = xcalloc(1, sizeof(*w));
	pthread_condattr_t ca;
	int rc;

	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->wake, &ca);
	pthread_condattr_destroy(&ca);
	atomic_init(&w->dropped_unlogged, 0);
	w->metrics = m;
	w->qsize = queue > 0 ? queue : REPORT_WRITER_QUEUE;
	w->batch = w->qsize < REPORT_WRITER_BATCH ? w->qsize :
	    REPORT_WRITER_BATCH;
	w->ring = xcalloc(w->qsize, sizeof(*w->ring));
	w->spec = xstrdup(spec);
	report_store_label(spec, w->label, sizeof(w->label));
	w->gateway = xstrdup(gateway);
	rc = pthread_create(&w->tid, NULL, writer_main, w);
	if (rc != 0) {
		log_err("report writer: cannot start a thread: %s",
		    strerror(rc));
		w->joined = true;	/* there is no thread to wait for */
		report_writer_stop(w);
		return NULL;
	}
	return w;
}

/* report_writer_submit - queue a row, or drop it; never waits */
bool
report_writer_submit(struct report_writer *w, struct report_row *r)
{
	bool queued = false, wake = false;

	util_copy(r->gateway, sizeof(r->gateway), w->gateway);
	pthread_mutex_lock(&w->lock);
	if (!w->stopping && w->len < w->qsize) {
		w->ring[(w->head + w->len) % w->qsize] = r;
		w->len++;
		atomic_store_explicit(&w->metrics->report_queued,
		    (int64_t)w->len, memory_order_relaxed);
		queued = true;
		wake = w->len == w->batch;
	}
	pthread_mutex_unlock(&w->lock);
	if (wake)
		pthread_cond_signal(&w->wake);
	if (!queued) {
		writer_drop(w, 1);
		report_row_free(r);
	}
	return queued;
}

bool
report_writer_same(const struct report_writer *w, const char *spec,
    const char *gateway, size_t queue)
{
	return strcmp(w->spec, spec) == 0 &&
	    strcmp(w->gateway, gateway) == 0 && w->qsize == queue;
}

/* report_writer_drain - stop taking rows, write the queue (bounded), join */
void
report_writer_drain(struct report_writer *w)
{
	if (w == NULL || w->joined)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_mutex_unlock(&w->lock);
	pthread_cond_signal(&w->wake);
	pthread_join(w->tid, NULL);
	w->joined = true;
	atomic_store_explicit(&w->metrics->report_queued, 0,
	    memory_order_relaxed);
}

/* report_writer_stop - drain, free */
void
report_writer_stop(struct report_writer *w)
{
	if (w == NULL)
		return;
	report_writer_drain(w);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w->spec);
	free(w->gateway);
	free(w->ring);
	free(w);
}
