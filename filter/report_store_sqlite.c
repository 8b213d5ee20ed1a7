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
 *
 *	A connection keeps the last REPORT_SQLITE_STMTS statements it ran
 *	prepared, with the index of each parameter, and runs a statement
 *	of the same text again from there (reset, bound anew): the writer
 *	thread inserts every row with the same INSERT, and preparing it
 *	each time (parsing the SQL, looking the parameters up by name) was
 *	most of what a row cost. A statement still stepping (a row callback
 *	that runs another query) is neither taken again nor replaced: a
 *	query of the same text inside it is prepared for that run alone.
 * DIAGNOSTICS
 *	SQLite's message, with the file name on open.
 */
#include "buildconf.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "report_store.h"
#include "util.h"

#define REPORT_SQLITE_BUSY_MS	5000	/* wait for another writer's lock */
#define REPORT_SQLITE_NAME	24	/* bytes of a "$NN" parameter name */
#define REPORT_SQLITE_STMTS	16	/* prepared statements kept */

/* A statement kept prepared, by its text. */
struct sqlite_stmt {
	char		*sql;		/* NULL: a free entry */
	sqlite3_stmt	*st;
	int		 idx[REPORT_STORE_MAX_PARAMS];	/* of $1...; 0: unused */
	unsigned long	 used;		/* the connection's clock */
	bool		 busy;		/* stepping: a row callback runs */
	bool		 kept;		/* in the connection's table */
};

/* A connection and its kept statements. */
struct sqlite_conn {
	sqlite3		*db;
	struct sqlite_stmt stmt[REPORT_SQLITE_STMTS];
	unsigned long	 clock;
};

/* sqlite_open - "sqlite:PATH" */
static void *
sqlite_open(const char *spec, char *err, size_t errlen)
{
	const char *path = spec + strlen("sqlite:");
	struct sqlite_conn *c;
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
	c = xcalloc(1, sizeof(*c));
	c->db = db;
	return c;
}

/* sqlite_stmt_clear - finalize a kept statement and free its entry */
static void
sqlite_stmt_clear(struct sqlite_stmt *k)
{
	sqlite3_finalize(k->st);
	free(k->sql);
	memset(k, 0, sizeof(*k));
}

static void
sqlite_close(void *vc)
{
	struct sqlite_conn *c = vc;

	if (c == NULL)
		return;
	for (size_t i = 0; i < REPORT_SQLITE_STMTS; i++)
		sqlite_stmt_clear(&c->stmt[i]);
	sqlite3_close(c->db);
	free(c);
}

/*
 * sqlite_stmt - sql prepared: kept from an earlier run, or prepared now
 * into the entry used least recently that is not stepping, or into tmp
 * (for this run alone) when every entry is or the one of this text is;
 * NULL when it does not prepare
 */
static struct sqlite_stmt *
sqlite_stmt(struct sqlite_conn *c, const char *sql, struct sqlite_stmt *tmp)
{
	struct sqlite_stmt *k = NULL;
	char name[REPORT_SQLITE_NAME];

	for (size_t i = 0; i < REPORT_SQLITE_STMTS; i++) {
		struct sqlite_stmt *e = &c->stmt[i];

		if (e->sql != NULL && strcmp(e->sql, sql) == 0) {
			k = e->busy ? NULL : e;
			if (k != NULL)
				k->used = ++c->clock;
			break;
		}
		if (!e->busy && (k == NULL || e->used < k->used))
			k = e;
	}
	if (k != NULL && k->sql != NULL && strcmp(k->sql, sql) == 0)
		return k;
	if (k == NULL)
		k = tmp;
	sqlite_stmt_clear(k);
	if (sqlite3_prepare_v2(c->db, sql, -1, &k->st, NULL) != SQLITE_OK) {
		sqlite_stmt_clear(k);
		return NULL;
	}
	for (size_t i = 0; i < REPORT_STORE_MAX_PARAMS; i++) {
		snprintf(name, sizeof(name), "$%zu", i + 1);
		k->idx[i] = sqlite3_bind_parameter_index(k->st, name);
	}
	k->kept = k != tmp;
	k->sql = k->kept ? xstrdup(sql) : NULL;
	k->used = ++c->clock;
	return k;
}

/*
 * sqlite_bind - the text parameters $1..$n (what the statement uses),
 * bound in place (SQLITE_STATIC, no copy): they stay the caller's until
 * sqlite_exec() returns, and it clears the bindings (or finalizes the
 * statement) before it does
 */
static bool
sqlite_bind(struct sqlite_stmt *k, const char *const *params, size_t n)
{
	if (n > REPORT_STORE_MAX_PARAMS)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (k->idx[i] == 0)
			continue;	/* not used by this statement */
		if ((params[i] == NULL ? sqlite3_bind_null(k->st, k->idx[i]) :
		    sqlite3_bind_text(k->st, k->idx[i], params[i], -1,
		    SQLITE_STATIC)) != SQLITE_OK)
			return false;
	}
	return true;
}

/* sqlite_exec - one statement; see report_store.h */
static long
sqlite_exec(void *vc, const char *sql, const char *const *params,
    size_t nparams, report_db_row_fn fn, void *arg, char *err, size_t errlen)
{
	struct sqlite_conn *c = vc;
	struct sqlite_stmt *k, tmp = { 0 };
	const char *vals[REPORT_STORE_MAX_PARAMS];
	int rc;

	if ((k = sqlite_stmt(c, sql, &tmp)) == NULL ||
	    !sqlite_bind(k, params, nparams)) {
		snprintf(err, errlen, "sqlite: %s", sqlite3_errmsg(c->db));
		if (k != NULL)
			sqlite_stmt_clear(k);
		return -1;
	}
	k->busy = true;
	while ((rc = sqlite3_step(k->st)) == SQLITE_ROW) {
		size_t n = (size_t)sqlite3_column_count(k->st);

		if (n > REPORT_STORE_MAX_PARAMS)
			n = REPORT_STORE_MAX_PARAMS;
		for (size_t i = 0; i < n; i++)
			vals[i] = (const char *)sqlite3_column_text(k->st,
			    (int)i);
		if (fn != NULL)
			fn(arg, n, vals);
	}
	k->busy = false;
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "sqlite: %s", sqlite3_errmsg(c->db));
		sqlite_stmt_clear(k);
		return -1;
	}
	rc = sqlite3_stmt_readonly(k->st);
	if (k->kept) {
		sqlite3_reset(k->st);
		sqlite3_clear_bindings(k->st);
	} else
		sqlite_stmt_clear(k);
	return rc ? 0 : sqlite3_changes(c->db);
}

static const char *const sqlite_migrate_begin[] = {
	"BEGIN IMMEDIATE", NULL
};

const struct report_db_ops report_db_sqlite = {
	"sqlite", sqlite_open, sqlite_close, sqlite_exec,
	sqlite_migrate_begin, "INTEGER PRIMARY KEY AUTOINCREMENT"
};
