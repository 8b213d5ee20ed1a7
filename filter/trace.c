/*
 * NAME
 *	trace - the account of one evaluation, for "check --explain"
 * SYNOPSIS
 *	#include "trace.h"
 *
 *	struct trace *trace_new(FILE *out)
 *	void trace_line(t, section, fmt, ...)
 *	void trace_dns(arg, name, type, answer, how, usecs)
 *	void trace_free(t)
 * DESCRIPTION
 *	A sink the engine writes to when the caller attached one, and that
 *	costs nothing when none is: every function takes a NULL trace and
 *	does nothing. Each line is
 *
 *		"  12.345 ms  section  text"
 *
 *	with the time since trace_new(), and goes to the stream at once, so
 *	an evaluation that hangs shows how far it got. trace_dns() is the
 *	DNS service's watcher (dns_set_watch): one line per lookup, with the
 *	answer and whether it came from the cache, from a query already out,
 *	or from a query of its own, and how long it took.
 *
 *	Text from the network (TXT records, names) is shown with control
 *	bytes and non-ASCII escaped, and cut at TRACE_MAX_TXT bytes.
 * DIAGNOSTICS
 *	None: a trace that cannot be written is lost, the evaluation goes on.
 */
#include "buildconf.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns.h"
#include "trace.h"
#include "util.h"

#define TRACE_MS_PER_S		1000.0
#define TRACE_NS_PER_MS		1000000.0
#define TRACE_US_PER_MS		1000.0
#define TRACE_ADDR_TEXT		64	/* bytes of an address as text */

struct trace {
	FILE		*out;
	struct timespec	 start;
	pthread_mutex_t	 lock;	/* libopendkim may call from its thread */
};

/* trace_new - a trace on out */
struct trace *
trace_new(FILE *out)
{
	struct trace *t = xcalloc(1, sizeof(*t));

	t->out = out;
	clock_gettime(CLOCK_MONOTONIC, &t->start);
	pthread_mutex_init(&t->lock, NULL);
	return t;
}

void
trace_free(struct trace *t)
{
	if (t == NULL)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/* trace_vline - one stamped line */
static void trace_vline(struct trace *t, const char *section,
    const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));

static void
trace_vline(struct trace *t, const char *section, const char *fmt,
    va_list ap)
{
	char text[TRACE_MAX_LINE];
	struct timespec now;
	double ms;

	vsnprintf(text, sizeof(text), fmt, ap);
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (double)(now.tv_sec - t->start.tv_sec) * TRACE_MS_PER_S +
	    (double)(now.tv_nsec - t->start.tv_nsec) / TRACE_NS_PER_MS;
	pthread_mutex_lock(&t->lock);
	fprintf(t->out, "%9.3f ms  %-8s %s\n", ms, section, text);
	fflush(t->out);
	pthread_mutex_unlock(&t->lock);
}

/* trace_line - one line, when there is a trace */
void
trace_line(struct trace *t, const char *section, const char *fmt, ...)
{
	va_list ap;

	if (t == NULL)
		return;
	va_start(ap, fmt);
	trace_vline(t, section, fmt, ap);
	va_end(ap);
}

/* trace_type - a record type's name */
static const char *
trace_type(unsigned type)
{
	switch (type) {
	case DNS_T_A:		return "A";
	case DNS_T_AAAA:	return "AAAA";
	case DNS_T_MX:		return "MX";
	case DNS_T_TXT:		return "TXT";
	case DNS_T_PTR:		return "PTR";
	case DNS_T_SPF:		return "SPF";
	default:		return "?";
	}
}

/* trace_how - how an answer came */
static const char *
trace_how(enum dns_how how)
{
	switch (how) {
	case DNS_HOW_CACHE:	return "cached";
	case DNS_HOW_JOINED:	return "joined a query already out";
	case DNS_HOW_QUERY:	return "queried";
	default:		return "not asked";
	}
}

/* trace_text - a record's text, shown safely */
static void
trace_text(struct buf *b, const char *s, size_t len)
{
	size_t n = len > TRACE_MAX_TXT ? TRACE_MAX_TXT : len;

	buf_putc(b, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
			buf_printf(b, "\\x%02x", c);
		else
			buf_putc(b, (char)c);
	}
	buf_puts(b, len > n ? "...\"" : "\"");
}

/* trace_record - one record of an answer */
static void
trace_record(struct buf *b, const struct dns_record *r)
{
	char addr[TRACE_ADDR_TEXT];

	switch (r->type) {
	case DNS_T_A:
		snprintf(addr, sizeof(addr), "%u.%u.%u.%u", r->addr[0],
		    r->addr[1], r->addr[2], r->addr[3]);
		buf_puts(b, addr);
		break;
	case DNS_T_AAAA:
		for (size_t i = 0; i < 16; i += 2)
			buf_printf(b, "%s%x", i ? ":" : "",
			    (unsigned)(r->addr[i] << 8 | r->addr[i + 1]));
		break;
	case DNS_T_MX:
		buf_printf(b, "%u ", r->pref);
		/* FALLTHROUGH */
	case DNS_T_PTR:
		trace_text(b, r->text ? r->text : "", r->text ? r->len : 0);
		break;
	default:
		trace_text(b, r->text ? r->text : "", r->text ? r->len : 0);
		break;
	}
}

/* trace_dns - the DNS service's watcher: one line per lookup */
void
trace_dns(void *arg, const char *name, unsigned type,
    const struct dns_answer *a, enum dns_how how, unsigned long usecs)
{
	struct trace *t = arg;
	struct buf b;

	if (t == NULL)
		return;
	buf_init(&b);
	buf_printf(&b, "%s %s -> %s", trace_type(type), name,
	    dns_status_name(a->status));
	for (size_t i = 0; i < a->nrecords && i < TRACE_MAX_RECORDS; i++) {
		buf_puts(&b, i ? ", " : ": ");
		trace_record(&b, &a->records[i]);
	}
	if (a->nrecords > TRACE_MAX_RECORDS)
		buf_printf(&b, ", ... (%zu records)", a->nrecords);
	buf_printf(&b, " (%s, %.3f ms)", trace_how(how),
	    (double)usecs / TRACE_US_PER_MS);
	trace_line(t, "dns", "%s", b.data);
	buf_free(&b);
}
