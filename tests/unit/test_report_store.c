/*
 * test_report_store.c - unit tests for the SQLite report store's kept
 * statements (report_store_sqlite.c): the same INSERT run for batch
 * after batch, and a query run again from inside its own row callback
 * (the statement still stepping is neither reused nor replaced).
 */
#include "buildconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"
#include "report_store.h"

#define T0		1796000000LL	/* the rows' received time */
#define DOMAINS		3		/* policy domains in the store */
#define ERRLEN		256

struct fixture {
	char			 path[64];
	char			 spec[80];
	struct report_store	*st;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[ERRLEN];

	assert_non_null(f);
	snprintf(f->path, sizeof(f->path), "/tmp/test_report_store.%ld.db",
	    (long)getpid());
	unlink(f->path);
	snprintf(f->spec, sizeof(f->spec), "sqlite:%s", f->path);
	f->st = report_store_open(f->spec, err, sizeof(err));
	if (f->st == NULL)
		fail_msg("open: %s", err);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char wal[80];

	report_store_close(f->st);
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	unlink(wal);
	snprintf(wal, sizeof(wal), "%s-shm", f->path);
	unlink(wal);
	unlink(f->path);
	free(f);
	return 0;
}

/* row - a row of domain d at T0 + i */
static struct report_row *
row(int d, int i)
{
	struct report_row *r = report_row_new();

	r->received = T0 + i;
	snprintf(r->policy_domain, sizeof(r->policy_domain), "d%d.test", d);
	snprintf(r->header_from, sizeof(r->header_from), "d%d.test", d);
	snprintf(r->source_ip, sizeof(r->source_ip), "192.0.2.%d", i % 250);
	snprintf(r->disposition, sizeof(r->disposition), "none");
	snprintf(r->p, sizeof(r->p), "none");
	snprintf(r->adkim, sizeof(r->adkim), "r");
	snprintf(r->aspf, sizeof(r->aspf), "r");
	snprintf(r->testing, sizeof(r->testing), "n");
	snprintf(r->spf_result, sizeof(r->spf_result), "pass");
	return r;
}

/* insert_batch - n rows over the domains, in one transaction */
static void
insert_batch(struct report_store *st, int first, int n)
{
	struct report_row **rows = calloc((size_t)n, sizeof(*rows));
	char err[ERRLEN];

	assert_non_null(rows);
	for (int i = 0; i < n; i++)
		rows[i] = row((first + i) % DOMAINS, first + i);
	if (!report_store_insert(st, rows, (size_t)n, err, sizeof(err)))
		fail_msg("insert: %s", err);
	for (int i = 0; i < n; i++)
		report_row_free(rows[i]);
	free(rows);
}

/* messages - how many messages the rows of domain stand for */
static unsigned long
messages(struct report_store *st, const char *domain)
{
	struct report_row **rows = NULL;
	size_t n = 0;
	unsigned long total = 0;
	bool truncated = false;
	char err[ERRLEN];

	if (!report_store_rows(st, domain, T0, T0 + 1000000, 10000, &rows, &n,
	    &truncated, err, sizeof(err)))
		fail_msg("rows: %s", err);
	for (size_t i = 0; i < n; i++) {
		total += rows[i]->count ? rows[i]->count : 1;
		report_row_free(rows[i]);
	}
	free(rows);
	return total;
}

/* The same INSERT, batch after batch: every row lands. */
static void
test_batches(void **state)
{
	struct fixture *f = *state;
	unsigned long total = 0;

	for (int b = 0; b < 20; b++)
		insert_batch(f->st, b * 30, 30);
	for (int d = 0; d < DOMAINS; d++) {
		char name[32];

		snprintf(name, sizeof(name), "d%d.test", d);
		assert_int_equal(messages(f->st, name), 200);
		total += messages(f->st, name);
	}
	assert_int_equal(total, 600);
}

struct nest {
	struct report_store	*st;
	int			 depth;
	int			 outer, inner;	/* names seen at each depth */
};

/* nest_name - a domain; at the outer level, list the domains again */
static void
nest_name(void *arg, const char *name)
{
	struct nest *n = arg;
	char err[ERRLEN];

	(void)name;
	if (n->depth > 0) {
		n->inner++;
		return;
	}
	n->outer++;
	n->depth++;
	if (!report_store_domains(n->st, T0, T0 + 1000000, nest_name, n, err,
	    sizeof(err)))
		fail_msg("inner domains: %s", err);
	n->depth--;
}

/* A query run again inside its own row callback: both run whole. */
static void
test_nested_same_query(void **state)
{
	struct fixture *f = *state;
	struct nest n = { f->st, 0, 0, 0 };
	char err[ERRLEN];

	insert_batch(f->st, 0, 30);
	if (!report_store_domains(f->st, T0, T0 + 1000000, nest_name, &n, err,
	    sizeof(err)))
		fail_msg("domains: %s", err);
	assert_int_equal(n.outer, DOMAINS);
	assert_int_equal(n.inner, DOMAINS * DOMAINS);
	/* and the kept statement still serves the next run */
	n.outer = n.inner = 0;
	n.depth = 1;
	if (!report_store_domains(f->st, T0, T0 + 1000000, nest_name, &n, err,
	    sizeof(err)))
		fail_msg("domains again: %s", err);
	assert_int_equal(n.inner, DOMAINS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nested_same_query, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
