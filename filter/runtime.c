/*
 * NAME
 *	runtime - the services that outlive a reload
 * SYNOPSIS
 *	#include "runtime.h"
 *
 *	rt = runtime_new(cfg, err, errlen)
 *	runtime_configure(rt, cfg, err, errlen)	(at start, on each reload)
 *	dns = runtime_dns(rt); dkim = runtime_dkim(rt); m = runtime_metrics(rt)
 *	text = runtime_metrics_text(rt, &len)
 *	runtime_free(rt)
 * DESCRIPTION
 *	One runtime per process. It owns:
 *
 *	- the DNS service (dns.c): started on first use with the DNS settings
 *	  of the latest configuration; a reload hands it new settings with
 *	  dns_reconfigure(), which keeps the cache unless the servers change;
 *	- the DKIM verifier's libopendkim handle (dkimverify.c), made here on
 *	  the thread that makes the runtime. Its own DNS timeout is set once,
 *	  generously: each of its waits is bounded by dns.c's timeout and the
 *	  message's DNS budget, which follow the configuration;
 *	- the metrics (metrics.c), which count for the life of the process;
 *	- the metrics endpoint (metrics_http.c), started, moved or stopped as
 *	  MetricsListen says;
 *	- the DMARC report writer (report_writer.c), started, replaced or
 *	  stopped as ReportStore and the gateway id say, and kept as it is
 *	  by a reload that leaves them alone. Sessions hand it rows through
 *	  runtime_report() under a read lock; a reload swaps it under the
 *	  write lock and stops the old one (which writes what it holds)
 *	  outside it, so mail never waits for the store.
 *
 *	The configuration owns no service, and a service never holds a
 *	reference to a configuration: what a service needs of it is copied
 *	at runtime_configure().
 * DIAGNOSTICS
 *	runtime_new() fails when libopendkim cannot start. runtime_configure()
 *	logs and reports what it refused; the services keep running.
 */
#include "buildconf.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc.h"
#include "config.h"
#include "dkimverify.h"
#include "dmarc.h"
#include "dns.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
#include "report.h"
#include "report_failure.h"
#include "report_writer.h"
#include "runtime.h"
#include "spf.h"
#include "util.h"
#include "verdict.h"

#define RUNTIME_DKIM_LIB_TIMEOUT	60	/* s; dns.c bounds each wait */
#define RUNTIME_ERRLEN			512
#define RUNTIME_LABELS			128	/* bytes of one label set */

_Static_assert(VERDICT_NACTIONS <= METRICS_ACTIONS, "METRICS_ACTIONS");
_Static_assert(SPF_RESULT_PERMERROR < METRICS_SPF_RESULTS,
    "METRICS_SPF_RESULTS");
_Static_assert(DKIMV_PERMERROR < METRICS_DKIM_RESULTS,
    "METRICS_DKIM_RESULTS");
_Static_assert(DMARC_RESULT_PERMERROR < METRICS_DMARC_RESULTS,
    "METRICS_DMARC_RESULTS");
_Static_assert(DMARC_NOVERRIDES <= METRICS_OVERRIDES, "METRICS_OVERRIDES");
_Static_assert(ARC_RESULT_FAIL < METRICS_ARC_RESULTS, "METRICS_ARC_RESULTS");
_Static_assert(ARC_CV_FAIL < METRICS_ARC_CVS, "METRICS_ARC_CVS");

struct runtime {
	pthread_mutex_t		 lock;	/* starting DNS; the settings below */
	_Atomic(struct dns_service *) dns;
	bool			 dns_failed;	/* logged once; tried again */
	char			*servers[DNS_MAX_SERVERS];	/* copies */
	struct dns_config	 dnscfg;	/* points into servers[] */
	struct dkimv_ctx	*dkim;
	struct metrics		*metrics;
	struct metrics_http	*http;
	pthread_rwlock_t	 report_lock;	/* report: swap vs submit */
	struct report_writer	*report;
	atomic_bool		 reporting;	/* report != NULL */
	struct failure_reporter	*failure;	/* under report_lock too */
	atomic_bool		 failing;	/* failure != NULL */
};

/* runtime_dns_settings - copy what the DNS service needs of cfg */
static void
runtime_dns_settings(struct runtime *rt, const struct config *cfg)
{
	for (size_t i = 0; i < DNS_MAX_SERVERS; i++) {
		free(rt->servers[i]);
		rt->servers[i] = NULL;
	}
	memset(&rt->dnscfg, 0, sizeof(rt->dnscfg));
	for (size_t i = 0; i < cfg->nnameservers && i < DNS_MAX_SERVERS; i++) {
		rt->servers[i] = xstrdup(cfg->nameservers[i]);
		rt->dnscfg.servers[rt->dnscfg.nservers++] = rt->servers[i];
	}
	rt->dnscfg.timeout_ms = cfg->dns_timeout * 1000;
	rt->dnscfg.tries = cfg->dns_retries;
}

/* runtime_new - metrics and the verifier's handle; DNS comes later */
struct runtime *
runtime_new(const struct config *cfg, char *err, size_t errlen)
{
	struct runtime *rt = xcalloc(1, sizeof(*rt));

	pthread_mutex_init(&rt->lock, NULL);
	atomic_init(&rt->dns, NULL);
	rt->dkim = dkimv_ctx_new(NULL, RUNTIME_DKIM_LIB_TIMEOUT, err, errlen);
	if (rt->dkim == NULL) {
		pthread_mutex_destroy(&rt->lock);
		free(rt);
		return NULL;
	}
	rt->metrics = metrics_new();
	pthread_rwlock_init(&rt->report_lock, NULL);
	atomic_init(&rt->reporting, false);
	atomic_init(&rt->failing, false);
	runtime_dns_settings(rt, cfg);
	return rt;
}

/* runtime_render - the endpoint's callback */
static char *
runtime_render(void *arg, size_t *len)
{
	return runtime_metrics_text(arg, len);
}

/* runtime_configure_http - start, move or stop the metrics endpoint */
static bool
runtime_configure_http(struct runtime *rt, const char *spec, char *err,
    size_t errlen)
{
	struct metrics_http *h;

	if (spec == NULL) {
		if (rt->http != NULL)
			log_info("metrics endpoint %s closed",
			    metrics_http_spec(rt->http));
		metrics_http_stop(rt->http);
		rt->http = NULL;
		return true;
	}
	if (rt->http != NULL && strcmp(metrics_http_spec(rt->http), spec) == 0)
		return true;
	/* the old one goes first: the new one may want the same port */
	metrics_http_stop(rt->http);
	rt->http = NULL;
	h = metrics_http_start(spec, runtime_render, rt, err, errlen);
	if (h == NULL)
		return false;
	rt->http = h;
	log_info("metrics at http://%s%s", spec, METRICS_HTTP_PATH);
	return true;
}

/* runtime_swap_report - make w the writer; returns the old one */
static struct report_writer *
runtime_swap_report(struct runtime *rt, struct report_writer *w)
{
	struct report_writer *old;

	pthread_rwlock_wrlock(&rt->report_lock);
	old = rt->report;
	rt->report = w;
	atomic_store(&rt->reporting, w != NULL);
	pthread_rwlock_unlock(&rt->report_lock);
	return old;
}

/* runtime_configure_report - start, replace or stop the report writer */
static void
runtime_configure_report(struct runtime *rt, const struct config *cfg)
{
	const char *gw = config_report_gateway(cfg);
	struct report_writer *w = NULL;

	if (cfg->report_store != NULL && rt->report != NULL &&
	    report_writer_same(rt->report, cfg->report_store, gw,
	    cfg->report_queue_size))
		return;
	if (cfg->report_store != NULL) {
		w = report_writer_start(cfg->report_store, gw,
		    cfg->report_queue_size, rt->metrics);
		if (w != NULL)
			log_info("DMARC report rows go to the report store as "
			    "gateway %s", gw);
	} else if (rt->report != NULL)
		log_info("DMARC report rows are no longer recorded");
	report_writer_stop(runtime_swap_report(rt, w));
}

/* runtime_dns_cb - the DNS service, for the failure reporter */
static struct dns_service *
runtime_dns_cb(void *arg)
{
	return runtime_dns(arg);
}

/* runtime_swap_failure - make f the failure reporter; returns the old one */
static struct failure_reporter *
runtime_swap_failure(struct runtime *rt, struct failure_reporter *f)
{
	struct failure_reporter *old;

	pthread_rwlock_wrlock(&rt->report_lock);
	old = rt->failure;
	rt->failure = f;
	atomic_store(&rt->failing, f != NULL);
	pthread_rwlock_unlock(&rt->report_lock);
	return old;
}

/* runtime_configure_failure - start, replace or stop the failure reporter */
static void
runtime_configure_failure(struct runtime *rt, const struct config *cfg)
{
	struct failure_reporter *f = NULL;
	struct failure_config fc;

	if (cfg->failure_reports) {
		fc.email = cfg->report_email;
		fc.org_name = cfg->report_org_name;
		fc.sendmail = cfg->report_sendmail;
		fc.relay = cfg->report_smtp_relay;
		fc.helo = config_report_gateway(cfg);
		fc.per_hour = cfg->failure_per_hour;
		fc.psl = cfg->dmarc_mode == CFG_DMARC_RFC7489;
		if (rt->failure != NULL && failure_reporter_same(rt->failure,
		    &fc))
			return;
		f = failure_reporter_start(&fc, runtime_dns_cb, rt,
		    rt->metrics);
		if (f != NULL)
			log_info("DMARC failure reports on (at most %u an hour "
			    "per destination)", fc.per_hour);
	}
	failure_reporter_stop(runtime_swap_failure(rt, f));
}

/* runtime_failure_reporting - are failure reports on? */
bool
runtime_failure_reporting(struct runtime *rt)
{
	return atomic_load_explicit(&rt->failing, memory_order_relaxed);
}

/* runtime_failure_report - hand a job to the failure reporter; never waits */
bool
runtime_failure_report(struct runtime *rt, struct failure_job *job)
{
	bool queued = false;

	pthread_rwlock_rdlock(&rt->report_lock);
	if (rt->failure != NULL)
		queued = failure_reporter_submit(rt->failure, job);
	else
		failure_job_free(job);
	pthread_rwlock_unlock(&rt->report_lock);
	return queued;
}

/* runtime_drain_reports - write the queued report rows before an _exit */
void
runtime_drain_reports(struct runtime *rt)
{
	pthread_rwlock_rdlock(&rt->report_lock);
	report_writer_drain(rt->report);
	pthread_rwlock_unlock(&rt->report_lock);
}

/* runtime_reporting - is a report writer running? */
bool
runtime_reporting(struct runtime *rt)
{
	return atomic_load_explicit(&rt->reporting, memory_order_relaxed);
}

/* runtime_report - hand a row to the writer (or free it); never waits */
bool
runtime_report(struct runtime *rt, struct report_row *row)
{
	bool queued = false;

	pthread_rwlock_rdlock(&rt->report_lock);
	if (rt->report != NULL)
		queued = report_writer_submit(rt->report, row);
	else
		report_row_free(row);
	pthread_rwlock_unlock(&rt->report_lock);
	return queued;
}

/* runtime_configure - the services follow cfg */
bool
runtime_configure(struct runtime *rt, const struct config *cfg, char *err,
    size_t errlen)
{
	struct dns_service *dns;
	char why[RUNTIME_ERRLEN];
	bool ok = true;

	err[0] = '\0';
	pthread_mutex_lock(&rt->lock);
	runtime_dns_settings(rt, cfg);
	dns = atomic_load(&rt->dns);
	if (dns != NULL && !dns_reconfigure(dns, &rt->dnscfg, why,
	    sizeof(why))) {
		snprintf(err, errlen, "DNS settings refused, the old ones "
		    "stay: %s", why);
		ok = false;
	}
	rt->dns_failed = false;		/* the new settings may start */
	pthread_mutex_unlock(&rt->lock);
	runtime_configure_report(rt, cfg);
	runtime_configure_failure(rt, cfg);
	if (!runtime_configure_http(rt, cfg->metrics_listen, why,
	    sizeof(why))) {
		size_t n = strlen(err);

		snprintf(err + n, errlen - n, "%s%s", n ? "; " : "", why);
		ok = false;
	}
	if (!ok)
		log_err("%s", err);
	return ok;
}

/* runtime_dns - the DNS service, started on first use */
struct dns_service *
runtime_dns(struct runtime *rt)
{
	struct dns_service *dns = atomic_load_explicit(&rt->dns,
	    memory_order_acquire);
	char err[RUNTIME_ERRLEN];

	if (dns != NULL)
		return dns;
	pthread_mutex_lock(&rt->lock);
	dns = atomic_load(&rt->dns);
	if (dns == NULL && !rt->dns_failed) {
		dns = dns_new(&rt->dnscfg, err, sizeof(err));
		if (dns == NULL) {
			rt->dns_failed = true;
			log_err("cannot start the DNS service: %s", err);
		} else {
			dkimv_ctx_set_dns(rt->dkim, dns);
			atomic_store_explicit(&rt->dns, dns,
			    memory_order_release);
		}
	}
	pthread_mutex_unlock(&rt->lock);
	return dns;
}

/* runtime_dkim - the verifier, once its DNS runs */
struct dkimv_ctx *
runtime_dkim(struct runtime *rt)
{
	return runtime_dns(rt) != NULL ? rt->dkim : NULL;
}

struct metrics *
runtime_metrics(struct runtime *rt)
{
	return rt->metrics;
}

/* runtime_count_reload - count a reload or a refused one */
void
runtime_count_reload(struct runtime *rt, bool ok)
{
	metrics_add(ok ? &rt->metrics->reloads : &rt->metrics->reload_failures,
	    1);
}

/* runtime_text_messages - the message families */
static void
runtime_text_messages(struct buf *b, struct metrics *m)
{
	static const char *const dirs[METRICS_DIRECTIONS] = {
		"inbound", "outbound", "ignored"
	};
	static const char *const algs[METRICS_SIGN_ALGS] = {
		"rsa-sha256", "ed25519-sha256"
	};
	char labels[RUNTIME_LABELS];

	metrics_family(b, "authmilter_messages_total", "counter", "Messages "
	    "answered, by direction (inbound: checked, outbound: signed, "
	    "ignored: IgnoreHosts) and final action.");
	for (size_t d = 0; d < METRICS_DIRECTIONS; d++)
		for (size_t a = 0; a < VERDICT_NACTIONS; a++) {
			snprintf(labels, sizeof(labels), "direction=\"%s\","
			    "action=\"%s\"", dirs[d], verdict_action_name(a));
			metrics_sample(b, "authmilter_messages_total", labels,
			    metrics_get(&m->messages[d][a]));
		}
	metrics_family(b, "authmilter_messages_in_flight", "gauge",
	    "Messages between MAIL FROM and their answer now.");
	metrics_sample(b, "authmilter_messages_in_flight", "",
	    (uint64_t)atomic_load_explicit(&m->in_flight,
	    memory_order_relaxed));
	metrics_family(b, "authmilter_connections", "gauge",
	    "MTA connections open now.");
	metrics_sample(b, "authmilter_connections", "",
	    (uint64_t)atomic_load_explicit(&m->connections,
	    memory_order_relaxed));
	metrics_family(b, "authmilter_signatures_total", "counter",
	    "DKIM signatures made, by algorithm.");
	for (size_t i = 0; i < METRICS_SIGN_ALGS; i++) {
		snprintf(labels, sizeof(labels), "algorithm=\"%s\"", algs[i]);
		metrics_sample(b, "authmilter_signatures_total", labels,
		    metrics_get(&m->signatures[i]));
	}
}

/* runtime_text_results - SPF, DKIM, DMARC, ARC and the overrides */
static void
runtime_text_results(struct buf *b, struct metrics *m)
{
	static const char *const ids[METRICS_SPF_IDENTITIES] = {
		"mailfrom", "helo"
	};
	char labels[RUNTIME_LABELS];

	metrics_family(b, "authmilter_spf_results_total", "counter",
	    "SPF results of inbound mail, by identity.");
	for (size_t i = 0; i < METRICS_SPF_IDENTITIES; i++)
		for (int r = SPF_RESULT_NONE; r <= SPF_RESULT_PERMERROR; r++) {
			snprintf(labels, sizeof(labels), "identity=\"%s\","
			    "result=\"%s\"", ids[i], spf_result_name(r));
			metrics_sample(b, "authmilter_spf_results_total",
			    labels, metrics_get(&m->spf[i][r]));
		}
	metrics_family(b, "authmilter_dkim_results_total", "counter",
	    "DKIM results of inbound mail, one per signature checked (none: "
	    "a message without any).");
	for (int r = DKIMV_NONE; r <= DKIMV_PERMERROR; r++) {
		snprintf(labels, sizeof(labels), "result=\"%s\"",
		    dkimv_result_name(r));
		metrics_sample(b, "authmilter_dkim_results_total", labels,
		    metrics_get(&m->dkim[r]));
	}
	metrics_family(b, "authmilter_dmarc_results_total", "counter",
	    "DMARC results of inbound mail.");
	for (int r = DMARC_RESULT_NONE; r <= DMARC_RESULT_PERMERROR; r++) {
		snprintf(labels, sizeof(labels), "result=\"%s\"",
		    dmarc_result_name(r));
		metrics_sample(b, "authmilter_dmarc_results_total", labels,
		    metrics_get(&m->dmarc[r]));
	}
	metrics_family(b, "authmilter_arc_results_total", "counter",
	    "ARC results of inbound mail (none: a message without ARC sets).");
	for (int r = ARC_RESULT_NONE; r <= ARC_RESULT_FAIL; r++) {
		snprintf(labels, sizeof(labels), "result=\"%s\"",
		    arc_result_name(r));
		metrics_sample(b, "authmilter_arc_results_total", labels,
		    metrics_get(&m->arc[r]));
	}
	metrics_family(b, "authmilter_arc_seals_total", "counter",
	    "ARC sets added (ARCSealKey), by the cv= of the new seal.");
	for (int cv = ARC_CV_NONE; cv <= ARC_CV_FAIL; cv++) {
		snprintf(labels, sizeof(labels), "cv=\"%s\"",
		    arc_cv_name(cv));
		metrics_sample(b, "authmilter_arc_seals_total", labels,
		    metrics_get(&m->arc_seals[cv]));
	}
	metrics_family(b, "authmilter_shadow_actions_total", "counter",
	    "ShadowMode: messages delivered that the configuration would have "
	    "refused, held, deferred or marked, by that action.");
	for (int a = VERDICT_ACCEPT; a < VERDICT_NACTIONS; a++) {
		snprintf(labels, sizeof(labels), "action=\"%s\"",
		    a == VERDICT_ACCEPT ? "mark" : verdict_action_name(a));
		metrics_sample(b, "authmilter_shadow_actions_total", labels,
		    metrics_get(&m->shadow[a]));
	}
	metrics_family(b, "authmilter_dmarc_overrides_total", "counter",
	    "DMARC failures whose action differs from the published policy, "
	    "by RFC 9990 reason.");
	for (int i = DMARC_OVERRIDE_NONE + 1; i < DMARC_NOVERRIDES; i++) {
		snprintf(labels, sizeof(labels), "reason=\"%s\"",
		    dmarc_override_name(i));
		metrics_sample(b, "authmilter_dmarc_overrides_total", labels,
		    metrics_get(&m->overrides[i]));
	}
}

/* runtime_text_dns - the DNS service's figures (zero before it starts) */
static void
runtime_text_dns(struct buf *b, struct runtime *rt)
{
	struct dns_service *dns = atomic_load(&rt->dns);
	struct dns_stats st;
	static const struct {
		const char *name, *type, *help;
		size_t off;
	} fam[] = {
		{ "authmilter_dns_queries_total", "counter",
		  "DNS queries sent on the wire.",
		  offsetof(struct dns_stats, queries) },
		{ "authmilter_dns_cache_hits_total", "counter",
		  "DNS lookups answered from the cache.",
		  offsetof(struct dns_stats, hits) },
		{ "authmilter_dns_joined_total", "counter",
		  "DNS lookups that waited on the same query already out.",
		  offsetof(struct dns_stats, joined) },
		{ "authmilter_dns_timeouts_total", "counter",
		  "DNS queries that got no answer within DNSTimeout.",
		  offsetof(struct dns_stats, timeouts) },
		{ "authmilter_dns_servfails_total", "counter",
		  "DNS queries answered SERVFAIL or REFUSED, or not at all.",
		  offsetof(struct dns_stats, servfails) },
		{ "authmilter_dns_cache_flushes_total", "counter",
		  "DNS caches emptied because a reload changed Nameservers.",
		  offsetof(struct dns_stats, flushes) },
	};

	if (dns != NULL)
		dns_get_stats(dns, &st);
	else {
		memset(&st, 0, sizeof(st));
		st.latency.nbounds = metrics_latency_nbounds;
		for (size_t i = 0; i < metrics_latency_nbounds; i++)
			st.latency.bounds[i] = metrics_latency_bounds[i];
	}
	for (size_t i = 0; i < sizeof(fam) / sizeof(fam[0]); i++) {
		metrics_family(b, fam[i].name, fam[i].type, fam[i].help);
		metrics_sample(b, fam[i].name, "", *(const unsigned long *)
		    (const void *)((const char *)&st + fam[i].off));
	}
	metrics_family(b, "authmilter_dns_cache_entries", "gauge",
	    "DNS answers in the cache now.");
	metrics_sample(b, "authmilter_dns_cache_entries", "", st.cached);
	metrics_family(b, "authmilter_dns_query_duration_seconds", "histogram",
	    "Time from a DNS query on the wire to its answer or timeout.");
	metrics_hist_samples(b, "authmilter_dns_query_duration_seconds", "",
	    &st.latency);
}

/* runtime_text_process - reloads, errors, the process */
static void
runtime_text_process(struct buf *b, struct metrics *m)
{
	struct metrics_hist_snapshot h;

	metrics_hist_copy(&m->eom, &h);
	metrics_family(b, "authmilter_end_of_message_duration_seconds",
	    "histogram", "Time from the end of a message to the answer "
	    "(checks, signatures and header changes included).");
	metrics_hist_samples(b, "authmilter_end_of_message_duration_seconds",
	    "", &h);
	metrics_family(b, "authmilter_config_reloads_total", "counter",
	    "Configuration reloads (SIGHUP), by result.");
	metrics_sample(b, "authmilter_config_reloads_total",
	    "result=\"success\"", metrics_get(&m->reloads));
	metrics_sample(b, "authmilter_config_reloads_total",
	    "result=\"failure\"", metrics_get(&m->reload_failures));
	metrics_family(b, "authmilter_internal_errors_total", "counter",
	    "Messages answered per OnInternalError after an internal error.");
	metrics_sample(b, "authmilter_internal_errors_total", "",
	    metrics_get(&m->internal_errors));
	metrics_family(b, "authmilter_report_rows_total", "counter",
	    "DMARC report rows: written to the report store, or dropped "
	    "(queue full, store down); mail is never held for them.");
	metrics_sample(b, "authmilter_report_rows_total", "result=\"written\"",
	    metrics_get(&m->report_written));
	metrics_sample(b, "authmilter_report_rows_total", "result=\"dropped\"",
	    metrics_get(&m->report_dropped));
	metrics_family(b, "authmilter_failure_reports_total", "counter",
	    "DMARC failure reports (RFC 9991): handed to the relay or "
	    "sendmail, or dropped (queue full, relay or sendmail failed).");
	metrics_sample(b, "authmilter_failure_reports_total",
	    "result=\"sent\"", metrics_get(&m->failure_sent));
	metrics_sample(b, "authmilter_failure_reports_total",
	    "result=\"dropped\"", metrics_get(&m->failure_dropped));
	metrics_family(b, "authmilter_report_queue_rows", "gauge",
	    "DMARC report rows waiting for the report store now.");
	metrics_sample(b, "authmilter_report_queue_rows", "",
	    (uint64_t)atomic_load_explicit(&m->report_queued,
	    memory_order_relaxed));
	metrics_family(b, "authmilter_metrics_scrapes_total", "counter",
	    "Scrapes of this endpoint, this one included.");
	metrics_sample(b, "authmilter_metrics_scrapes_total", "",
	    metrics_get(&m->scrapes));
	metrics_family(b, "authmilter_start_time_seconds", "gauge",
	    "When the process started, in seconds since the epoch.");
	metrics_sample(b, "authmilter_start_time_seconds", "",
	    (uint64_t)m->started);
	metrics_family(b, "authmilter_build_info", "gauge",
	    "The version, as a label; the value is always 1.");
	metrics_sample(b, "authmilter_build_info",
	    "version=\"" PACKAGE_VERSION "\"", 1);
}

/* runtime_metrics_text - everything, in the text exposition format */
char *
runtime_metrics_text(struct runtime *rt, size_t *len)
{
	struct buf b;

	metrics_add(&rt->metrics->scrapes, 1);
	buf_init(&b);
	runtime_text_messages(&b, rt->metrics);
	runtime_text_results(&b, rt->metrics);
	runtime_text_dns(&b, rt);
	runtime_text_process(&b, rt->metrics);
	*len = b.len;
	return buf_steal(&b);
}

/* runtime_free - stop the services (no session may still use them) */
void
runtime_free(struct runtime *rt)
{
	struct dns_service *dns;

	if (rt == NULL)
		return;
	metrics_http_stop(rt->http);
	report_writer_stop(runtime_swap_report(rt, NULL));
	failure_reporter_stop(runtime_swap_failure(rt, NULL));
	pthread_rwlock_destroy(&rt->report_lock);
	dns = atomic_load(&rt->dns);
	dkimv_ctx_free(rt->dkim);
	dns_free(dns);
	for (size_t i = 0; i < DNS_MAX_SERVERS; i++)
		free(rt->servers[i]);
	metrics_free(rt->metrics);
	pthread_mutex_destroy(&rt->lock);
	free(rt);
}
