/*
 * trace.h - a readable account of one evaluation ("authmilter check
 * --explain"): the engine modules write lines to a trace when one is
 * attached, and nothing when none is (a NULL trace). The trace changes
 * no result: it only records what the engine did, in the order it did
 * it, each line stamped with the milliseconds since the trace began.
 *
 * A trace belongs to one evaluation on one thread at a time (the
 * command line's); its lines go to a stream as they come.
 */
#ifndef AM_TRACE_H
#define AM_TRACE_H

#include <stdio.h>

#include "dns.h"

#define TRACE_MAX_LINE		1024	/* bytes of one line */
#define TRACE_MAX_TXT		160	/* bytes of a TXT record shown */
#define TRACE_MAX_RECORDS	4	/* records of one answer shown */

struct trace;

/* trace_new - a trace whose lines go to out (kept open by the caller) */
struct trace *trace_new(FILE *out);
void trace_free(struct trace *t);

/* trace_line - one line of section (spf, dkim, dmarc, dns, decision) */
void trace_line(struct trace *t, const char *section, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * trace_dns - a dns_watch_fn (dns_set_watch) writing each question and
 * its answer: the records (TXT text cut at TRACE_MAX_TXT bytes), whether
 * the cache answered, and how long the lookup waited. arg is the trace.
 */
void trace_dns(void *arg, const char *name, unsigned type,
    const struct dns_answer *a, enum dns_how how, unsigned long usecs);

#endif
