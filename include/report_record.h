/*
 * report_record.h - what an inbound message adds to the DMARC aggregate
 * reports: the row made of its results and decision, handed to the
 * runtime's report writer.
 *
 * Only messages whose DMARC policy domain asked for aggregate reports
 * (rua= in the record that governed) are recorded, with a DMARC result of
 * pass or fail, a final answer (not a tempfail, which the MTA retries),
 * a policy domain not in ReportNeverTo, and a From that is not
 * ReportEmail: our own report mail is never reported on (loop
 * protection).
 */
#ifndef AM_REPORT_RECORD_H
#define AM_REPORT_RECORD_H

#include <stddef.h>

struct config;
struct runtime;
struct verdict;

/*
 * The message's header section as "Name: value\n" lines, at most max
 * bytes, malloc'ed: asked for only when a failure report is made.
 */
typedef char *(*report_headers_fn)(void *arg, size_t max);

/*
 * report_record - record v's inbound results when they qualify (see
 * above), and queue a failure report (RFC 9991) when FailureReports is on
 * and the record's ruf= and fo= ask for one (never for psd=y). from is
 * the value of the message's From header (or NULL); headers gives the
 * header section. Never waits; costs nothing when neither is configured.
 */
void report_record(struct runtime *rt, const struct config *cfg,
    const struct verdict *v, const char *from, report_headers_fn headers,
    void *arg);

#endif
