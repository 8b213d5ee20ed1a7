/*
 * NAME
 *	report_record - one inbound message's row for the DMARC reports
 * SYNOPSIS
 *	#include "report_record.h"
 *
 *	report_record(rt, cfg, verdict, from_header_value)
 * DESCRIPTION
 *	The bridge between the engine's decision record (struct
 *	inbound_results in the verdict) and the report rows (report.h): it
 *	picks the messages that belong in a report (see report_record.h),
 *	turns the results into the row's text values, and hands the row to
 *	the runtime's writer, which never waits for the store.
 *
 *	The disposition is what was done: reject and quarantine as the
 *	verdict says; a failure delivered with the quarantine header is
 *	quarantine; a DMARC pass under p=quarantine or p=reject is "pass"
 *	(RFC 9990); anything else is none.
 *
 *	It sits above the engine (it reads inbound.h) and below the session
 *	that calls it; the runtime, which owns the writer, knows nothing of
 *	it, so there is no include circle.
 * DIAGNOSTICS
 *	None: a message that does not qualify is simply not recorded.
 */
#include "buildconf.h"

#include <string.h>
#include <time.h>

#include "addr.h"
#include "config.h"
#include "dkimverify.h"
#include "dmarc.h"
#include "inbound.h"
#include "report.h"
#include "report_failure.h"
#include "report_record.h"
#include "runtime.h"
#include "spf.h"
#include "util.h"
#include "verdict.h"

/* record_own_mail - is the From ReportEmail, i.e. our own report mail? */
static bool
record_own_mail(const struct config *cfg, const char *from)
{
	struct mailbox box, ours;
	char why[128];

	if (cfg->report_email == NULL || from == NULL ||
	    !addr_from_mailbox(from, &box, why, sizeof(why)) ||
	    !addr_parse_envelope(cfg->report_email, &ours))
		return false;
	return util_strcaseeq(box.local, ours.local) &&
	    util_strcaseeq(box.domain, ours.domain);
}

/* record_disposition - what was done with the message (RFC 9990 names) */
static const char *
record_disposition(const struct verdict *v, const struct inbound_results *r)
{
	if (v->action == VERDICT_REJECT)
		return "reject";
	if (v->action == VERDICT_QUARANTINE)
		return "quarantine";
	if (r->dmarc.result == DMARC_RESULT_PASS)
		return r->dmarc.policy == DMARC_POLICY_QUARANTINE ||
		    r->dmarc.policy == DMARC_POLICY_REJECT ? "pass" : "none";
	/* delivered with the QuarantineHeader: a quarantine by marking */
	if ((r->applied == DMARC_POLICY_QUARANTINE ||
	    r->applied == DMARC_POLICY_REJECT) &&
	    r->override != DMARC_OVERRIDE_LOCAL_POLICY)
		return "quarantine";
	return "none";
}

/* record_policy_name - "" for a tag the record does not have */
static const char *
record_policy_name(enum dmarc_policy p)
{
	return p == DMARC_POLICY_UNSET ? "" : dmarc_policy_name(p);
}

/* record_row - the row of one message */
static struct report_row *
record_row(const struct verdict *v, const struct inbound_results *r)
{
	const struct dmarc_outcome *d = &r->dmarc;
	struct report_row *row = report_row_new();

	row->received = (int64_t)time(NULL);
	util_copy(row->source_ip, sizeof(row->source_ip), r->client_ip);
	util_copy(row->policy_domain, sizeof(row->policy_domain),
	    d->policy_domain);
	util_copy(row->header_from, sizeof(row->header_from),
	    d->header_from);
	util_copy(row->envelope_from, sizeof(row->envelope_from),
	    r->spf.domain);
	util_copy(row->envelope_to, sizeof(row->envelope_to),
	    r->envelope_to);
	util_copy(row->disposition, sizeof(row->disposition),
	    record_disposition(v, r));
	row->dkim_aligned = d->dkim_aligned;
	row->spf_aligned = d->spf_aligned;
	if (r->override != DMARC_OVERRIDE_NONE) {
		util_copy(row->override, sizeof(row->override),
		    dmarc_override_name(r->override));
		util_copy(row->override_comment,
		    sizeof(row->override_comment), r->override_comment);
	}
	util_copy(row->spf_domain, sizeof(row->spf_domain), r->spf.domain);
	util_copy(row->spf_result, sizeof(row->spf_result),
	    spf_result_name(r->spf.result));
	util_copy(row->p, sizeof(row->p), dmarc_policy_name(d->record.p));
	util_copy(row->sp, sizeof(row->sp), record_policy_name(d->record.sp));
	util_copy(row->np, sizeof(row->np), record_policy_name(d->record.np));
	util_copy(row->adkim, sizeof(row->adkim),
	    d->record.adkim_strict ? "s" : "r");
	util_copy(row->aspf, sizeof(row->aspf),
	    d->record.aspf_strict ? "s" : "r");
	util_copy(row->testing, sizeof(row->testing),
	    d->record.testing ? "y" : "n");
	util_copy(row->fo, sizeof(row->fo), d->reporting.fo);
	util_copy(row->discovery, sizeof(row->discovery),
	    d->discovery == DMARC_MODE_RFC7489 ? "psl" : "treewalk");
	util_copy(row->rua, sizeof(row->rua), d->reporting.rua);
	for (size_t i = 0; i < r->ndkim; i++)
		report_row_add_dkim(row, r->dkim[i].domain,
		    r->dkim[i].selector, dkimv_result_name(r->dkim[i].result));
	return row;
}

/* record_failure_job - the failure report job of one message */
static struct failure_job *
record_failure_job(const struct verdict *v, const struct inbound_results *r,
    report_headers_fn headers, void *arg)
{
	const struct dmarc_outcome *d = &r->dmarc;
	struct failure_job *j = xcalloc(1, sizeof(*j));

	j->arrival = (int64_t)time(NULL);
	j->policy_domain = xstrdup(d->policy_domain);
	j->header_from = xstrdup(d->header_from);
	j->mail_from = xstrdup(r->mailfrom_null ? "" : r->spf.identity);
	j->source_ip = xstrdup(r->client_ip);
	j->authres = xstrdup(r->authres ? r->authres : "");
	j->alignment = xstrdup(d->dkim_aligned && d->spf_aligned ? "dkim,spf" :
	    d->dkim_aligned ? "dkim" : d->spf_aligned ? "spf" : "none");
	j->delivery = xstrdup(v->action == VERDICT_REJECT ? "reject" :
	    v->action == VERDICT_QUARANTINE ? "policy" : "delivered");
	j->ruf = xstrdup(d->reporting.ruf);
	j->headers = headers(arg, REPORT_FAILURE_MAX_HEADERS);
	return j;
}

/* record_wants_failure - FailureReports, ruf=, fo= and not psd=y */
static bool
record_wants_failure(const struct inbound_results *r)
{
	const struct dmarc_outcome *d = &r->dmarc;
	bool dkim_failed = false;

	if (d->reporting.ruf[0] == '\0' || d->record.psd == DMARC_PSD_YES)
		return false;
	for (size_t i = 0; i < r->ndkim; i++)
		dkim_failed |= r->dkim[i].result == DKIMV_FAIL;
	return failure_fo_wants(d->reporting.fo,
	    d->result == DMARC_RESULT_FAIL, d->dkim_aligned, d->spf_aligned,
	    dkim_failed, r->spf.result == SPF_RESULT_FAIL);
}

/* report_record - see report_record.h */
void
report_record(struct runtime *rt, const struct config *cfg,
    const struct verdict *v, const char *from, report_headers_fn headers,
    void *arg)
{
	const struct inbound_results *r = v->results;
	bool rows = runtime_reporting(rt), failures = runtime_failure_reporting(rt);

	if ((!rows && !failures) || r == NULL || !r->from_ok ||
	    !r->dmarc.have_record ||
	    (r->dmarc.result != DMARC_RESULT_PASS &&
	    r->dmarc.result != DMARC_RESULT_FAIL) ||
	    v->action == VERDICT_TEMPFAIL ||
	    config_report_never(cfg, r->dmarc.policy_domain) ||
	    record_own_mail(cfg, from))
		return;
	if (rows && r->dmarc.reporting.rua[0] != '\0')
		(void)runtime_report(rt, record_row(v, r));
	if (failures && record_wants_failure(r))
		(void)runtime_failure_report(rt, record_failure_job(v, r,
		    headers, arg));
}
