/*
 * report_writer.h - the thread that writes DMARC report rows to the report
 * store, so that recording never slows or endangers mail.
 *
 * A session hands each row to report_writer_submit(), which never blocks
 * on the store: it puts the row in a bounded queue (ReportQueueSize rows,
 * REPORT_WRITER_QUEUE by default) under a mutex held for a few
 * instructions, or drops it when the queue is full. The thread takes up
 * to REPORT_WRITER_BATCH rows at a time (never more than the queue holds)
 * and writes them in one transaction. When the store is slow or down,
 * rows wait (at most twice the queue size: the queue and the batch in
 * hand), then new ones are dropped and counted
 * (authmilter_report_rows_total{result="dropped"}), and the thread opens
 * the store again every REPORT_WRITER_RETRY_SECS. A batch the store
 * refuses REPORT_WRITER_MAX_TRIES times (a write that fails on an open
 * store) is dropped too. Mail is never refused or delayed because of
 * reports.
 *
 * The runtime owns the writer: it starts one when ReportStore is set,
 * keeps it across reloads that leave ReportStore and the gateway id as
 * they were, and replaces or stops it otherwise.
 */
#ifndef AM_REPORT_WRITER_H
#define AM_REPORT_WRITER_H

#include <stdbool.h>

#include "metrics.h"
#include "report.h"

#define REPORT_WRITER_QUEUE		10000	/* rows waiting (ReportQueueSize) */
#define REPORT_WRITER_BATCH		256	/* rows per transaction */
#define REPORT_WRITER_FLUSH_MS		500	/* longest a row waits alone */
#define REPORT_WRITER_RETRY_SECS	5	/* between tries to open the store */
#define REPORT_WRITER_MAX_TRIES		3	/* writes of one batch before it is dropped */
#define REPORT_WRITER_LOG_SECS		60	/* at most one drop/failure log line per */
#define REPORT_WRITER_STOP_SECS		10	/* to write what is queued at stop */

struct report_writer;

/*
 * report_writer_start - a writer for the store spec, stamping rows with
 * gateway, queueing at most queue rows, counting in m. The store is opened by the thread (a store that
 * is down at start is opened later). NULL only when no thread can start.
 */
struct report_writer *report_writer_start(const char *spec,
    const char *gateway, size_t queue, struct metrics *m);
/*
 * report_writer_submit - queue r (the writer owns it from now on). False
 * when it was dropped (queue full).
 */
bool report_writer_submit(struct report_writer *w, struct report_row *r);
/* report_writer_same - does w write to spec as gateway, with that queue? */
bool report_writer_same(const struct report_writer *w, const char *spec,
    const char *gateway, size_t queue);
/*
 * report_writer_drain - write what is queued (for up to
 * REPORT_WRITER_STOP_SECS; the rest is dropped and counted) and stop the
 * thread; w stays valid, and rows submitted from now on are dropped and
 * counted. For a process about to _exit() while sessions still run.
 */
void report_writer_drain(struct report_writer *w);
/* report_writer_stop - report_writer_drain (unless done), then free w */
void report_writer_stop(struct report_writer *w);

#endif
