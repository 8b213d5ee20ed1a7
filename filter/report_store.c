/*
 * NAME
 *	report_store - the DMARC report store: schema, rows, reports, claims
 * SYNOPSIS
 *	#include "report_store.h"
 *
 *	st = report_store_open("sqlite:/var/lib/authmilter/reports.db", ...)
 *	st = report_store_open("postgresql://user@db/authmilter", ...)
 *	report_store_insert(st, rows, n, ...)
 *	report_store_domains(); report_store_rows(); report_store_find();
 *	report_store_create(); report_store_claim(); report_store_release();
 *	report_store_delivery(); report_store_set_delivery();
 *	report_store_expire(); report_store_close(st)
 * DESCRIPTION
 *	The logic of the store, common to both databases: this file has all
 *	the SQL but the schema's dialect, and reaches the database through
 *	struct report_db_ops (report_store_sqlite.c, report_store_pgsql.c).
 *	Every value travels as text; integers are written in decimal.
 *
 *	Schema. authmilter_schema holds one version number. Opening a store
 *	runs the migration in one transaction that excludes other gateways
 *	(SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock): the tables
 *	of each version above the stored one are made, then the version is
 *	written. A store newer than this program is refused, not touched.
 *
 *	Claims. A report is made once: its row in dmarc_reports (unique per
 *	policy domain and first second) holds its id and its XML. The run
 *	that inserts it holds it; a report left pending (a destination to
 *	retry) is taken again with an UPDATE that only succeeds when nobody
 *	holds it or the holder's claim ran out. The database decides, so two
 *	runs, on one gateway or two, never send one report twice.
 * DIAGNOSTICS
 *	Every function that can fail returns false (or -1) with the
 *	database's reason in err.
 */
#include "buildconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "report_store.h"
#include "util.h"

#define STORE_NUM		24	/* bytes of a decimal int64 */
#define STORE_ROW_PARAMS	24	/* columns of dmarc_rows we write */
#define REPORT_STORE_ERRLEN	256	/* bytes of an error not passed on */

struct report_store {
	const struct report_db_ops *ops;
	void		*db;
};

/* report_store_backend - the implementation for spec, NULL if none */
static const struct report_db_ops *
report_store_backend(const char *spec)
{
	if (strncmp(spec, "sqlite:", 7) == 0)
		return &report_db_sqlite;
	if (strncmp(spec, "postgresql://", 13) == 0 ||
	    strncmp(spec, "postgres://", 11) == 0)
		return &report_db_pgsql;
	return NULL;
}

/* report_store_label - "scheme://host/db": the user:password@ left out */
void
report_store_label(const char *spec, char *out, size_t outlen)
{
	const char *auth = strstr(spec, "://"), *at;

	if (auth == NULL) {
		util_copy(out, outlen, spec);
		return;
	}
	auth += 3;
	at = auth + strcspn(auth, "@/?");
	if (*at != '@') {
		util_copy(out, outlen, spec);
		return;
	}
	snprintf(out, outlen, "%.*s%s", (int)(auth - spec), spec, at + 1);
}

const char *
report_store_kind(const struct report_store *st)
{
	return st->ops->kind;
}

/* store_exec - one statement */
static long
store_exec(struct report_store *st, const char *sql,
    const char *const *params, size_t n, report_db_row_fn fn, void *arg,
    char *err, size_t errlen)
{
	return st->ops->exec(st->db, sql, params, n, fn, arg, err, errlen);
}

/* store_simple - a statement without parameters or results */
static bool
store_simple(struct report_store *st, const char *sql, char *err,
    size_t errlen)
{
	return store_exec(st, sql, NULL, 0, NULL, NULL, err, errlen) >= 0;
}

/* store_rollback - give up a transaction (its own error is not news) */
static void
store_rollback(struct report_store *st)
{
	char ignored[256];

	(void)store_simple(st, "ROLLBACK", ignored, sizeof(ignored));
}

/* store_first_long - the first column of the first row, as a number */
static void
store_first_long(void *arg, size_t ncols, const char *const *vals)
{
	long *out = arg;

	if (ncols > 0 && vals[0] != NULL && *out < 0)
		*out = strtol(vals[0], NULL, 10);
}

/*
 * Schema version 1. The same SQL for SQLite and PostgreSQL: BIGINT is a
 * 64-bit integer in PostgreSQL and has INTEGER affinity in SQLite; only
 * the row id differs (report_db_ops.serial_id, at "%s").
 */
static const char store_schema_rows[] =
	"CREATE TABLE dmarc_rows (id %s, "
	"gateway TEXT NOT NULL, received BIGINT NOT NULL, "
	"policy_domain TEXT NOT NULL, header_from TEXT NOT NULL, "
	"envelope_from TEXT NOT NULL, envelope_to TEXT NOT NULL, "
	"source_ip TEXT NOT NULL, disposition TEXT NOT NULL, "
	"dkim_aligned INTEGER NOT NULL, spf_aligned INTEGER NOT NULL, "
	"override TEXT NOT NULL, override_comment TEXT NOT NULL, "
	"dkim TEXT NOT NULL, spf_domain TEXT NOT NULL, "
	"spf_result TEXT NOT NULL, p TEXT NOT NULL, sp TEXT NOT NULL, "
	"np TEXT NOT NULL, adkim TEXT NOT NULL, aspf TEXT NOT NULL, "
	"testing TEXT NOT NULL, fo TEXT NOT NULL, discovery TEXT NOT NULL, "
	"rua TEXT NOT NULL)";
static const char *const store_schema_v1[] = {
	"CREATE INDEX dmarc_rows_domain ON dmarc_rows (policy_domain, "
	"received)",
	"CREATE INDEX dmarc_rows_received ON dmarc_rows (received)",
	"CREATE TABLE dmarc_reports (report_id TEXT PRIMARY KEY, "
	"policy_domain TEXT NOT NULL, begin_ts BIGINT NOT NULL, "
	"end_ts BIGINT NOT NULL, state TEXT NOT NULL, "
	"created BIGINT NOT NULL, created_by TEXT NOT NULL, "
	"claimed_by TEXT, claimed_until BIGINT, records BIGINT NOT NULL, "
	"messages BIGINT NOT NULL, rua TEXT NOT NULL, xml TEXT NOT NULL, "
	"UNIQUE (policy_domain, begin_ts))",
	"CREATE TABLE dmarc_deliveries (report_id TEXT NOT NULL, "
	"destination TEXT NOT NULL, state TEXT NOT NULL, "
	"tries INTEGER NOT NULL, last_error TEXT NOT NULL, "
	"updated BIGINT NOT NULL, PRIMARY KEY (report_id, destination))",
	NULL
};

/* store_schema - make schema version 1 */
static bool
store_schema(struct report_store *st, char *err, size_t errlen)
{
	char sql[sizeof(store_schema_rows) + 64];

	snprintf(sql, sizeof(sql), store_schema_rows, st->ops->serial_id);
	if (!store_simple(st, sql, err, errlen))
		return false;
	for (const char *const *s = store_schema_v1; *s != NULL; s++)
		if (!store_simple(st, *s, err, errlen))
			return false;
	return true;
}

/* store_migrate - bring the schema to REPORT_STORE_SCHEMA_VERSION */
static bool
store_migrate(struct report_store *st, char *err, size_t errlen)
{
	const char *const *s;
	long version = -1;
	char num[STORE_NUM];
	const char *param[1] = { num };

	for (s = st->ops->migrate_begin; *s != NULL; s++)
		if (!store_simple(st, *s, err, errlen))
			return false;
	if (!store_simple(st, "CREATE TABLE IF NOT EXISTS authmilter_schema "
	    "(version INTEGER NOT NULL)", err, errlen) ||
	    store_exec(st, "SELECT version FROM authmilter_schema", NULL, 0,
	    store_first_long, &version, err, errlen) < 0)
		goto fail;
	if (version > REPORT_STORE_SCHEMA_VERSION) {
		snprintf(err, errlen, "the store's schema is version %ld, "
		    "newer than this authmilter's (%d): not touched", version,
		    REPORT_STORE_SCHEMA_VERSION);
		goto fail;
	}
	if (version < 1 && !store_schema(st, err, errlen))
		goto fail;
	if (version < REPORT_STORE_SCHEMA_VERSION) {
		snprintf(num, sizeof(num), "%d", REPORT_STORE_SCHEMA_VERSION);
		if (!store_simple(st, "DELETE FROM authmilter_schema", err,
		    errlen) ||
		    store_exec(st, "INSERT INTO authmilter_schema (version) "
		    "VALUES ($1)", param, 1, NULL, NULL, err, errlen) < 0)
			goto fail;
	}
	return store_simple(st, "COMMIT", err, errlen);
fail:
	store_rollback(st);
	return false;
}

/* report_store_open - connect and migrate */
struct report_store *
report_store_open(const char *spec, char *err, size_t errlen)
{
	const struct report_db_ops *ops = report_store_backend(spec);
	struct report_store *st;
	void *db;

	if (ops == NULL) {
		snprintf(err, errlen, "ReportStore must be sqlite:PATH or "
		    "postgresql://...");
		return NULL;
	}
	db = ops->open(spec, err, errlen);
	if (db == NULL)
		return NULL;
	st = xcalloc(1, sizeof(*st));
	st->ops = ops;
	st->db = db;
	if (!store_migrate(st, err, errlen)) {
		report_store_close(st);
		return NULL;
	}
	return st;
}

/*
 * report_store_version - connect to spec without creating or migrating
 * anything and read the schema version: false (err) when the store
 * cannot be reached, else true with *version, 0 when it has no schema yet
 */
bool
report_store_version(const char *spec, long *version, char *err,
    size_t errlen)
{
	const struct report_db_ops *ops = report_store_backend(spec);
	struct report_store st;
	char ignored[REPORT_STORE_ERRLEN];

	*version = -1;
	if (ops == NULL) {
		snprintf(err, errlen, "ReportStore must be sqlite:PATH or "
		    "postgresql://...");
		return false;
	}
	if ((st.db = ops->open(spec, err, errlen)) == NULL)
		return false;
	st.ops = ops;
	if (store_exec(&st, "SELECT version FROM authmilter_schema", NULL, 0,
	    store_first_long, version, ignored, sizeof(ignored)) < 0 ||
	    *version < 0)
		*version = 0;
	ops->close(st.db);
	return true;
}

void
report_store_close(struct report_store *st)
{
	if (st == NULL)
		return;
	st->ops->close(st->db);
	free(st);
}

static const char store_insert_sql[] =
	"INSERT INTO dmarc_rows (gateway, received, policy_domain, "
	"header_from, envelope_from, envelope_to, source_ip, disposition, "
	"dkim_aligned, spf_aligned, override, override_comment, dkim, "
	"spf_domain, spf_result, p, sp, np, adkim, aspf, testing, fo, "
	"discovery, rua) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
	"$11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, "
	"$24)";

/* store_insert_one - one row */
static bool
store_insert_one(struct report_store *st, const struct report_row *r,
    char *err, size_t errlen)
{
	char received[STORE_NUM], *dkim = report_dkim_text(r);
	const char *p[STORE_ROW_PARAMS] = {
		r->gateway, received, r->policy_domain, r->header_from,
		r->envelope_from, r->envelope_to, r->source_ip, r->disposition,
		r->dkim_aligned ? "1" : "0", r->spf_aligned ? "1" : "0",
		r->override, r->override_comment, dkim, r->spf_domain,
		r->spf_result, r->p, r->sp, r->np, r->adkim, r->aspf,
		r->testing, r->fo, r->discovery, r->rua
	};
	long rc;

	snprintf(received, sizeof(received), "%lld", (long long)r->received);
	rc = store_exec(st, store_insert_sql, p, STORE_ROW_PARAMS, NULL, NULL,
	    err, errlen);
	free(dkim);
	return rc >= 0;
}

/* report_store_insert - a batch in one transaction */
bool
report_store_insert(struct report_store *st, struct report_row *const *rows,
    size_t n, char *err, size_t errlen)
{
	if (!store_simple(st, "BEGIN", err, errlen))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!store_insert_one(st, rows[i], err, errlen)) {
			store_rollback(st);
			return false;
		}
	if (!store_simple(st, "COMMIT", err, errlen)) {
		store_rollback(st);
		return false;
	}
	return true;
}

/* A name callback and its argument, for the row callback below. */
struct store_names {
	report_store_name_fn fn;
	void		*arg;
};

static void
store_name_row(void *arg, size_t ncols, const char *const *vals)
{
	struct store_names *sn = arg;

	if (ncols > 0 && vals[0] != NULL)
		sn->fn(sn->arg, vals[0]);
}

/* store_names - a one-column query over [begin, end) */
static bool
store_names(struct report_store *st, const char *sql, int64_t begin,
    int64_t end, report_store_name_fn fn, void *arg, char *err,
    size_t errlen)
{
	char b[STORE_NUM], e[STORE_NUM];
	const char *p[2] = { b, e };
	struct store_names sn = { fn, arg };

	snprintf(b, sizeof(b), "%lld", (long long)begin);
	snprintf(e, sizeof(e), "%lld", (long long)end);
	return store_exec(st, sql, p, 2, store_name_row, &sn, err,
	    errlen) >= 0;
}

bool
report_store_domains(struct report_store *st, int64_t begin, int64_t end,
    report_store_name_fn fn, void *arg, char *err, size_t errlen)
{
	return store_names(st, "SELECT DISTINCT policy_domain FROM dmarc_rows "
	    "WHERE received >= $1 AND received < $2 ORDER BY policy_domain",
	    begin, end, fn, arg, err, errlen);
}

bool
report_store_pending_domains(struct report_store *st, int64_t begin,
    int64_t end, report_store_name_fn fn, void *arg, char *err,
    size_t errlen)
{
	return store_names(st, "SELECT DISTINCT policy_domain FROM "
	    "dmarc_reports WHERE state = 'pending' AND begin_ts >= $1 AND "
	    "begin_ts < $2 ORDER BY policy_domain", begin, end, fn, arg, err,
	    errlen);
}

/* What report_store_rows() collects. */
struct store_rows {
	struct report_row **rows;
	size_t		 n, cap, max;
	bool		 truncated;
};

/* The columns a record is grouped on, in the order of store_group_row(). */
#define STORE_GROUP_COLUMNS	"source_ip, disposition, dkim_aligned, " \
	"spf_aligned, override, override_comment, header_from, " \
	"envelope_from, envelope_to, spf_domain, spf_result, dkim"
#define STORE_GROUP_NCOLS	12

/* store_group_row - one group (its columns, then COUNT(*)) */
static void
store_group_row(void *arg, size_t ncols, const char *const *v)
{
	struct store_rows *sr = arg;
	struct report_row *r;

	if (ncols < STORE_GROUP_NCOLS + 1)
		return;
	if (sr->n >= sr->max) {
		sr->truncated = true;
		return;
	}
	r = report_row_new();
#define S(field, i)	util_copy(r->field, sizeof(r->field), v[i])
	S(source_ip, 0); S(disposition, 1);
	r->dkim_aligned = v[2] != NULL && strcmp(v[2], "1") == 0;
	r->spf_aligned = v[3] != NULL && strcmp(v[3], "1") == 0;
	S(override, 4); S(override_comment, 5); S(header_from, 6);
	S(envelope_from, 7); S(envelope_to, 8); S(spf_domain, 9);
	S(spf_result, 10);
	report_dkim_parse(r, v[11]);
	r->count = v[12] ? strtoul(v[12], NULL, 10) : 1;
#undef S
	if (sr->n == sr->cap) {
		sr->cap = sr->cap ? sr->cap * 2 : 64;
		sr->rows = xrealloc(sr->rows, sr->cap * sizeof(*sr->rows));
	}
	sr->rows[sr->n++] = r;
}

/* store_policy_row - the policy of the latest message */
static void
store_policy_row(void *arg, size_t ncols, const char *const *v)
{
	struct report_row *r = arg;

	if (ncols < 10 || r->policy_domain[0])
		return;
#define S(field, i)	util_copy(r->field, sizeof(r->field), v[i])
	S(policy_domain, 0); S(p, 1); S(sp, 2); S(np, 3); S(adkim, 4);
	S(aspf, 5); S(testing, 6); S(fo, 7); S(discovery, 8); S(rua, 9);
#undef S
}

/* store_free_rows - on the way out of an error */
static void
store_free_rows(struct store_rows *sr)
{
	for (size_t i = 0; i < sr->n; i++)
		report_row_free(sr->rows[i]);
	free(sr->rows);
}

/* report_store_rows - one domain and period, grouped by the database */
bool
report_store_rows(struct report_store *st, const char *domain, int64_t begin,
    int64_t end, size_t max, struct report_row ***rows, size_t *n,
    bool *truncated, char *err, size_t errlen)
{
	char b[STORE_NUM], e[STORE_NUM];
	const char *p[3] = { domain, b, e };
	struct store_rows sr = { NULL, 0, 0, max, false };
	struct report_row policy;

	memset(&policy, 0, sizeof(policy));
	snprintf(b, sizeof(b), "%lld", (long long)begin);
	snprintf(e, sizeof(e), "%lld", (long long)end);
	if (store_exec(st, "SELECT " STORE_GROUP_COLUMNS ", COUNT(*) FROM "
	    "dmarc_rows WHERE policy_domain = $1 AND received >= $2 AND "
	    "received < $3 GROUP BY " STORE_GROUP_COLUMNS " ORDER BY "
	    STORE_GROUP_COLUMNS, p, 3, store_group_row, &sr, err,
	    errlen) < 0 ||
	    store_exec(st, "SELECT policy_domain, p, sp, np, adkim, aspf, "
	    "testing, fo, discovery, rua FROM dmarc_rows WHERE "
	    "policy_domain = $1 AND received >= $2 AND received < $3 "
	    "ORDER BY received DESC, id DESC LIMIT 1", p, 3, store_policy_row,
	    &policy, err, errlen) < 0) {
		store_free_rows(&sr);
		return false;
	}
	for (size_t i = 0; i < sr.n; i++) {
		struct report_row *r = sr.rows[i];

#define C(field)	memcpy(r->field, policy.field, sizeof(r->field))
		C(policy_domain); C(p); C(sp); C(np); C(adkim); C(aspf);
		C(testing); C(fo); C(discovery); C(rua);
#undef C
	}
	*rows = sr.rows;
	*n = sr.n;
	*truncated = sr.truncated;
	return true;
}

/* store_entry_row - one dmarc_reports row */
static void
store_entry_row(void *arg, size_t ncols, const char *const *v)
{
	struct report_entry *e = arg;

	if (ncols < 9 || e->id[0])
		return;
	util_copy(e->id, sizeof(e->id), v[0]);
	util_copy(e->domain, sizeof(e->domain), v[1]);
	e->begin = v[2] ? strtoll(v[2], NULL, 10) : 0;
	e->end = v[3] ? strtoll(v[3], NULL, 10) : 0;
	util_copy(e->state, sizeof(e->state), v[4]);
	util_copy(e->rua, sizeof(e->rua), v[5]);
	e->records = v[6] ? strtoul(v[6], NULL, 10) : 0;
	e->messages = v[7] ? strtoul(v[7], NULL, 10) : 0;
	e->xml = xstrdup(v[8] ? v[8] : "");
}

/* report_store_find - a report by domain and first second */
int
report_store_find(struct report_store *st, const char *domain,
    int64_t begin, struct report_entry *e, char *err, size_t errlen)
{
	char b[STORE_NUM];
	const char *p[2] = { domain, b };

	memset(e, 0, sizeof(*e));
	snprintf(b, sizeof(b), "%lld", (long long)begin);
	if (store_exec(st, "SELECT report_id, policy_domain, begin_ts, end_ts, "
	    "state, rua, records, messages, xml FROM dmarc_reports WHERE "
	    "policy_domain = $1 AND begin_ts = $2", p, 2, store_entry_row, e,
	    err, errlen) < 0)
		return -1;
	return e->id[0] ? 1 : 0;
}

/* report_store_create - insert a pending report, claimed by who */
int
report_store_create(struct report_store *st, const struct report_entry *e,
    const char *who, int64_t now, int64_t until, char *err, size_t errlen)
{
	char b[STORE_NUM], en[STORE_NUM], n[STORE_NUM], u[STORE_NUM];
	char rec[STORE_NUM], msg[STORE_NUM];
	const char *p[11] = {
		e->id, e->domain, b, en, n, who, u, rec, msg, e->rua,
		e->xml ? e->xml : ""
	};
	long rc;

	snprintf(b, sizeof(b), "%lld", (long long)e->begin);
	snprintf(en, sizeof(en), "%lld", (long long)e->end);
	snprintf(n, sizeof(n), "%lld", (long long)now);
	snprintf(u, sizeof(u), "%lld", (long long)until);
	snprintf(rec, sizeof(rec), "%lu", e->records);
	snprintf(msg, sizeof(msg), "%lu", e->messages);
	rc = store_exec(st, "INSERT INTO dmarc_reports (report_id, "
	    "policy_domain, begin_ts, end_ts, state, created, created_by, "
	    "claimed_by, claimed_until, records, messages, rua, xml) VALUES "
	    "($1, $2, $3, $4, 'pending', $5, $6, $6, $7, $8, $9, $10, $11) "
	    "ON CONFLICT DO NOTHING", p, 11, NULL, NULL, err, errlen);
	return rc < 0 ? -1 : rc > 0 ? 1 : 0;
}

/* report_store_claim - take a pending report nobody holds */
int
report_store_claim(struct report_store *st, const char *id, const char *who,
    int64_t now, int64_t until, char *err, size_t errlen)
{
	char n[STORE_NUM], u[STORE_NUM];
	const char *p[4] = { id, who, n, u };
	long rc;

	snprintf(n, sizeof(n), "%lld", (long long)now);
	snprintf(u, sizeof(u), "%lld", (long long)until);
	rc = store_exec(st, "UPDATE dmarc_reports SET claimed_by = $2, "
	    "claimed_until = $4 WHERE report_id = $1 AND state = 'pending' "
	    "AND (claimed_by IS NULL OR claimed_until < $3)", p, 4, NULL,
	    NULL, err, errlen);
	return rc < 0 ? -1 : rc > 0 ? 1 : 0;
}

/* report_store_release - drop a claim; maybe mark the report done */
bool
report_store_release(struct report_store *st, const char *id,
    const char *who, bool done, char *err, size_t errlen)
{
	const char *p[3] = { id, who, done ? "done" : "pending" };

	return store_exec(st, "UPDATE dmarc_reports SET claimed_by = NULL, "
	    "claimed_until = NULL, state = $3 WHERE report_id = $1 AND "
	    "claimed_by = $2", p, 3, NULL, NULL, err, errlen) >= 0;
}

/* store_state_row - the first column into a state buffer */
static void
store_state_row(void *arg, size_t ncols, const char *const *vals)
{
	char *state = arg;

	if (ncols > 0 && vals[0] != NULL && state[0] == '\0')
		util_copy(state, REPORT_STORE_MAX_STATE, vals[0]);
}

bool
report_store_delivery(struct report_store *st, const char *id,
    const char *dest, char state[REPORT_STORE_MAX_STATE], char *err,
    size_t errlen)
{
	const char *p[2] = { id, dest };

	state[0] = '\0';
	return store_exec(st, "SELECT state FROM dmarc_deliveries WHERE "
	    "report_id = $1 AND destination = $2", p, 2, store_state_row,
	    state, err, errlen) >= 0;
}

bool
report_store_set_delivery(struct report_store *st, const char *id,
    const char *dest, const char *state, const char *why, int64_t now,
    char *err, size_t errlen)
{
	char n[STORE_NUM];
	const char *p[5] = { id, dest, state, why ? why : "", n };

	snprintf(n, sizeof(n), "%lld", (long long)now);
	return store_exec(st, "INSERT INTO dmarc_deliveries (report_id, "
	    "destination, state, tries, last_error, updated) VALUES ($1, $2, "
	    "$3, 1, $4, $5) ON CONFLICT (report_id, destination) DO UPDATE "
	    "SET state = $3, tries = dmarc_deliveries.tries + 1, "
	    "last_error = $4, updated = $5", p, 5, NULL, NULL, err,
	    errlen) >= 0;
}

/* report_store_expire - what is older than the retention goes */
bool
report_store_expire(struct report_store *st, int64_t before,
    unsigned long *nrows, char *err, size_t errlen)
{
	char b[STORE_NUM];
	const char *p[1] = { b };
	long rc;

	snprintf(b, sizeof(b), "%lld", (long long)before);
	if (!store_simple(st, "BEGIN", err, errlen))
		return false;
	rc = store_exec(st, "DELETE FROM dmarc_rows WHERE received < $1", p,
	    1, NULL, NULL, err, errlen);
	if (rc < 0 ||
	    store_exec(st, "DELETE FROM dmarc_deliveries WHERE report_id IN "
	    "(SELECT report_id FROM dmarc_reports WHERE end_ts < $1)", p, 1,
	    NULL, NULL, err, errlen) < 0 ||
	    store_exec(st, "DELETE FROM dmarc_reports WHERE end_ts < $1", p,
	    1, NULL, NULL, err, errlen) < 0 ||
	    !store_simple(st, "COMMIT", err, errlen)) {
		store_rollback(st);
		return false;
	}
	*nrows = (unsigned long)rc;
	return true;
}
