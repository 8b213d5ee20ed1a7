/*
 * runtime.h - the long-lived services of one process: the DNS resolver and
 * its cache, the DKIM verifier's library handle, the metrics and their
 * HTTP endpoint, the writer of DMARC report rows.
 *
 * The layering, top down (no module includes one above it):
 *
 *     front ends   main, daemon, milter (libmilter), cli, cli_check,
 *                  cli_stats, cli_report, cli_help, cli_doctor
 *     engine       session -> inbound -> spf, dkimverify, dmarc, authres, arc
 *                  doctor -> spf, dmarc, keys, keytable, signtable, dns
 *                  session -> sign -> dkimsign;  arc -> dkimsign, authres
 *                  session -> report_record -> inbound, runtime
 *     runtime      runtime -> dns, dkimverify, metrics, metrics_http,
 *                  report_writer -> report_store (+ _sqlite, _pgsql),
 *                  report
 *     data         config (plain data: keys, tables, lists; no service)
 *     leaves       dns, metrics, verdict, addr, netlist, keys, util, log,
 *                  trace (the account check --explain asks for)
 *
 * The configuration is data, immutable, swapped on reload; a session keeps
 * the one it started with. The runtime is made once, by the daemon or a
 * command, and a reload reconfigures it (runtime_configure): new name
 * servers or DNS timeouts go to the running DNS service, which keeps its
 * cache unless the servers change; a new MetricsListen moves the endpoint;
 * a new ReportStore (or gateway id, or queue size) replaces the report
 * writer, which otherwise keeps running with its queue; the counters never
 * restart. The engine gets its services from the
 * runtime its caller hands it.
 */
#ifndef AM_RUNTIME_H
#define AM_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct dkimv_ctx;
struct dns_service;
struct metrics;
struct failure_job;
struct report_row;
struct runtime;

/*
 * runtime_new - the services for cfg: the metrics (counting from now) and
 * the DKIM verifier's handle, made on the calling thread (see
 * dkimverify.h). The DNS service starts on first use (runtime_dns), so a
 * daemon that forks after this has its resolver thread in the child.
 * The metrics endpoint starts with runtime_configure().
 */
struct runtime *runtime_new(const struct config *cfg, char *err,
    size_t errlen);

/*
 * runtime_configure - take the settings of cfg that concern the services:
 * the DNS servers, timeout and tries; MetricsListen. Called at start and
 * on every reload. A problem with a service (an endpoint that cannot be
 * bound, DNS settings c-ares refuses) is logged and leaves that service as
 * it was: side work never stops mail. Returns false when something was
 * refused, with the reason in err.
 */
bool runtime_configure(struct runtime *rt, const struct config *cfg,
    char *err, size_t errlen);

/* runtime_dns - the DNS service, started on first use; NULL if it cannot */
struct dns_service *runtime_dns(struct runtime *rt);
/* runtime_dkim - the verifier's handle, its DNS started (NULL: no DNS) */
struct dkimv_ctx *runtime_dkim(struct runtime *rt);
/* runtime_metrics - the counters (never NULL) */
struct metrics *runtime_metrics(struct runtime *rt);

/* runtime_metrics_text - the Prometheus exposition, malloc'ed */
char *runtime_metrics_text(struct runtime *rt, size_t *len);

/*
 * runtime_reporting - is a DMARC report writer running (ReportStore)?
 * A cheap test before building a row.
 */
bool runtime_reporting(struct runtime *rt);
/*
 * runtime_report - hand a report row to the writer, which owns it from
 * then on (freed at once when there is none). Never waits for the store;
 * false when the row was not queued (dropped and counted).
 */
bool runtime_report(struct runtime *rt, struct report_row *row);

/* runtime_failure_reporting - are DMARC failure reports on? */
bool runtime_failure_reporting(struct runtime *rt);
/*
 * runtime_failure_report - hand a failure report job to the reporter
 * (report_failure.h), which owns it from then on. Never waits.
 */
bool runtime_failure_report(struct runtime *rt, struct failure_job *job);

/* runtime_count_reload - a reload happened (ok) or was refused */
void runtime_count_reload(struct runtime *rt, bool ok);

void runtime_free(struct runtime *rt);
/*
 * runtime_drain_reports - for a process that leaves with _exit() while
 * sessions may still run: the report writer writes its queue (for at
 * most REPORT_WRITER_STOP_SECS) and stops; later rows are dropped and
 * counted. runtime_free() is not called after it.
 */
void runtime_drain_reports(struct runtime *rt);

#endif
