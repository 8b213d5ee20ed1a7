/*
 * NAME
 *	report_store_sqlite - the report store in an SQLite file
 * SYNOPSIS
 *	#include "report_store.h"
 *
 *	report_db_sqlite.open("sqlite:/var/lib/authmilter/reports.db", ...)
 * DESCRIPTION
 *	One gateway's report store: a file that the daemon's writer thread
 *	and the report command share. The file is opened in WAL mode, so
 *	the command reads while the daemon writes, and with a busy timeout
 *	(REPORT_SQLITE_BUSY_MS), so a write waits for the other's lock
 *	instead of failing. The file is created when missing, with the
 *	process's umask: run the report command as the daemon's user.
 *
 *	Parameters are named $1, $2... in the SQL, as for PostgreSQL, and
 *	bound as text; SQLite's column affinity turns them into numbers
 *	where a column is a number.
 * DIAGNOSTICS
 *	SQLite's message, with the file name on open.
 */
#include "buildconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "report_store.h"
#include "util.h"

#define REPORT_SQLITE_BUSY_MS	5000	/* wait for another writer's lock */
#define REPORT_SQLITE_NAME	24	/* bytes of a "$NN" parameter name */

/* sqlite_open - "sqlite:PATH" */
static void *
sqlite_open(const char *spec, char *err, size_t errlen)
{
	const char *path = spec + strlen("sqlite:");
	sqlite3 *db = NULL;
	char *msg = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "sqlite %s: %s", path,
		    db ? sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, REPORT_SQLITE_BUSY_MS);
	if (sqlite3_exec(db, "PRAGMA journal_mode=WAL; "
	    "PRAGMA synchronous=NORMAL", NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "sqlite %s: %s", path,
		    msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

static void
sqlite_close(void *db)
{
	sqlite3_close(db);
}

/* sqlite_bind - the text parameters $1..$n */
static bool
sqlite_bind(sqlite3_stmt *st, const char *const *params, size_t n)
{
	char name[REPORT_SQLITE_NAME];

	for (size_t i = 0; i < n; i++) {
		int idx;

		snprintf(name, sizeof(name), "$%zu", i + 1);
		idx = sqlite3_bind_parameter_index(st, name);
		if (idx == 0)
			continue;	/* not used by this statement */
		if ((params[i] == NULL ? sqlite3_bind_null(st, idx) :
		    sqlite3_bind_text(st, idx, params[i], -1,
		    SQLITE_TRANSIENT)) != SQLITE_OK)
			return false;
	}
	return true;
}

/* sqlite_exec - one statement; see report_store.h */
static long
sqlite_exec(void *vdb, const char *sql, const char *const *params,
    size_t nparams, report_db_row_fn fn, void *arg, char *err, size_t errlen)
{
	sqlite3 *db = vdb;
	sqlite3_stmt *st = NULL;
	const char *vals[REPORT_STORE_MAX_PARAMS];
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK ||
	    !sqlite_bind(st, params, nparams)) {
		snprintf(err, errlen, "sqlite: %s", sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		size_t n = (size_t)sqlite3_column_count(st);

		if (n > REPORT_STORE_MAX_PARAMS)
			n = REPORT_STORE_MAX_PARAMS;
		for (size_t i = 0; i < n; i++)
			vals[i] = (const char *)sqlite3_column_text(st, (int)i);
		if (fn != NULL)
			fn(arg, n, vals);
	}
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "sqlite: %s", sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return -1;
	}
	rc = sqlite3_stmt_readonly(st);
	sqlite3_finalize(st);
	return rc ? 0 : sqlite3_changes(db);
}

static const char *const sqlite_migrate_begin[] = {
	"BEGIN IMMEDIATE", NULL
};

const struct report_db_ops report_db_sqlite = {
	"sqlite", sqlite_open, sqlite_close, sqlite_exec,
	sqlite_migrate_begin, "INTEGER PRIMARY KEY AUTOINCREMENT"
};
