/*
 * NAME
 *	report_store_pgsql - the report store in PostgreSQL
 * SYNOPSIS
 *	#include "report_store.h"
 *
 *	report_db_pgsql.open("postgresql://authmilter@db.example/dmarc", ...)
 * DESCRIPTION
 *	The store that several gateways share: each writes its own rows,
 *	any of them builds the reports, and the claims in dmarc_reports
 *	(report_store.c) keep two from sending one report twice.
 *
 *	The connection URI is libpq's (with every parameter libpq knows,
 *	sslmode included); connect_timeout defaults to
 *	REPORT_PG_CONNECT_TIMEOUT seconds so that a store that does not
 *	answer holds the writer thread, never the mail, for a bounded
 *	time. The migration runs under a transaction-scoped advisory lock
 *	(REPORT_PG_LOCK_KEY), so gateways that start together make the
 *	schema once.
 * DIAGNOSTICS
 *	libpq's message. A connection found broken is reported as an error:
 *	the writer closes the store and opens it again later.
 */
#include "buildconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "report_store.h"
#include "util.h"

#define REPORT_PG_CONNECT_TIMEOUT	"5"	/* seconds, unless the URI says */

/* pg_message - libpq's message without its final newline */
static void
pg_message(char *err, size_t errlen, const char *what, const char *msg)
{
	size_t n;

	snprintf(err, errlen, "postgresql: %s%s%s", what, *what ? ": " : "",
	    msg ? msg : "unknown error");
	n = strlen(err);
	while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == ' '))
		err[--n] = '\0';
}

/* pg_quiet - the server's notices (relation exists...) are not ours */
static void
pg_quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* pg_open - connect with the URI */
static void *
pg_open(const char *spec, char *err, size_t errlen)
{
	const char *keys[] = { "dbname", "connect_timeout",
	    "application_name", NULL };
	const char *vals[] = { spec, REPORT_PG_CONNECT_TIMEOUT, "authmilter",
	    NULL };
	PGconn *c = PQconnectdbParams(keys, vals, 1);

	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		pg_message(err, errlen, "connect", c ? PQerrorMessage(c) :
		    "out of memory");
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, pg_quiet, NULL);
	return c;
}

static void
pg_close(void *db)
{
	PQfinish(db);
}

/* pg_exec - one statement; see report_store.h */
static long
pg_exec(void *db, const char *sql, const char *const *params, size_t n,
    report_db_row_fn fn, void *arg, char *err, size_t errlen)
{
	const char *vals[REPORT_STORE_MAX_PARAMS];
	PGresult *res;
	long changed = 0;

	if (n > REPORT_STORE_MAX_PARAMS) {
		pg_message(err, errlen, "", "too many parameters");
		return -1;
	}
	res = PQexecParams(db, sql, (int)n, NULL, params, NULL, NULL, 0);
	switch (PQresultStatus(res)) {
	case PGRES_COMMAND_OK:
		changed = strtol(PQcmdTuples(res), NULL, 10);
		break;
	case PGRES_TUPLES_OK: {
		int rows = PQntuples(res), cols = PQnfields(res);

		if (cols > REPORT_STORE_MAX_PARAMS)
			cols = REPORT_STORE_MAX_PARAMS;
		for (int r = 0; r < rows && fn != NULL; r++) {
			for (int c = 0; c < cols; c++)
				vals[c] = PQgetisnull(res, r, c) ? NULL :
				    PQgetvalue(res, r, c);
			fn(arg, (size_t)cols, vals);
		}
		break;
	}
	default:
		pg_message(err, errlen, "", res ? PQresultErrorMessage(res) :
		    PQerrorMessage(db));
		changed = -1;
		if (PQstatus(db) != CONNECTION_OK)
			snprintf(err + strlen(err), errlen - strlen(err),
			    " (connection lost)");
	}
	PQclear(res);
	return changed;
}

static const char *const pg_migrate_begin[] = {
	"BEGIN",
	/* REPORT_PG_LOCK_KEY: one migration at a time across gateways */
	"SELECT pg_advisory_xact_lock(7489990)",
	NULL
};

const struct report_db_ops report_db_pgsql = {
	"postgresql", pg_open, pg_close, pg_exec,
	pg_migrate_begin, "BIGSERIAL PRIMARY KEY"
};
