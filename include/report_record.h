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

struct config;
struct runtime;
struct verdict;

/*
 * report_record - record v's inbound results when they qualify (see
 * above). from is the value of the message's From header (or NULL).
 * Never waits for the store; costs nothing when ReportStore is not set.
 */
void report_record(struct runtime *rt, const struct config *cfg,
    const struct verdict *v, const char *from);

#endif
