/*
 * report_store.h - where DMARC report rows and the reports made of them
 * are kept: SQLite for one gateway (ReportStore sqlite:PATH), PostgreSQL
 * for several (ReportStore postgresql://...).
 *
 * One interface, two implementations, as OpenSMTPD names them:
 * report_store.c holds the logic and the SQL (the schema, its version and
 * migration, batched inserts, the queries of the report command, the
 * claims that keep two runs or two gateways from sending a report twice);
 * report_store_sqlite.c and report_store_pgsql.c each give it one way to
 * open a database and run one statement with text parameters ($1, $2...).
 *
 * Tables (schema version REPORT_STORE_SCHEMA_VERSION, created and migrated
 * by report_store_open()):
 *   authmilter_schema   the version
 *   dmarc_rows          one row per message (report.h), with the gateway
 *                       that wrote it
 *   dmarc_reports       one per policy domain and period: the stable id,
 *                       the XML as built once, the state (pending|done)
 *                       and the claim (who works on it, until when)
 *   dmarc_deliveries    one per report and destination: sent, skipped
 *                       (never again) or retry, with the tries and the
 *                       last error
 *
 * A store handle is used by one thread at a time.
 */
#ifndef AM_REPORT_STORE_H
#define AM_REPORT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report.h"

#define REPORT_STORE_SCHEMA_VERSION	1
#define REPORT_STORE_MAX_SPEC		1024	/* bytes of a ReportStore value */
#define REPORT_STORE_MAX_PARAMS		32	/* parameters of one statement */
#define REPORT_STORE_MAX_STATE		16

struct report_store;

/* report_store_label - spec without a password, for the log */
void report_store_label(const char *spec, char *out, size_t outlen);

/*
 * report_store_open - connect to spec, create or migrate the schema. NULL
 * with the reason in err.
 */
struct report_store *report_store_open(const char *spec, char *err,
    size_t errlen);
void report_store_close(struct report_store *st);
/*
 * report_store_version - the schema version of the store at spec, read
 * without creating or migrating anything (doctor): false with the reason
 * in err when it cannot be opened; *version 0 when it has no schema yet.
 * A SQLite file is created when missing: check that it exists first.
 */
bool report_store_version(const char *spec, long *version, char *err,
    size_t errlen);
/* report_store_kind - "sqlite" or "postgresql" */
const char *report_store_kind(const struct report_store *st);

/*
 * report_store_insert - n rows in one transaction, each with its own
 * gateway. False (nothing written) with the reason in err.
 */
bool report_store_insert(struct report_store *st,
    struct report_row *const *rows, size_t n, char *err, size_t errlen);

/* The policy domains with rows in [begin, end), sorted. */
typedef void (*report_store_name_fn)(void *arg, const char *name);
bool report_store_domains(struct report_store *st, int64_t begin,
    int64_t end, report_store_name_fn fn, void *arg, char *err,
    size_t errlen);
/* The policy domains with a pending report starting in [begin, end). */
bool report_store_pending_domains(struct report_store *st, int64_t begin,
    int64_t end, report_store_name_fn fn, void *arg, char *err,
    size_t errlen);

/*
 * report_store_rows - the messages of domain in [begin, end), grouped by
 * the database on everything a record says (each row carries its count),
 * at most max groups (*truncated says there were more). Every row carries
 * the policy of the latest message. The caller frees each row and the
 * array; *n is 0 when there were none.
 */
bool report_store_rows(struct report_store *st, const char *domain,
    int64_t begin, int64_t end, size_t max, struct report_row ***rows,
    size_t *n, bool *truncated, char *err, size_t errlen);

/* A report as the store keeps it. */
struct report_entry {
	char		 id[REPORT_ID_LEN + 1];
	char		 domain[REPORT_MAX_DOMAIN + 1];
	int64_t		 begin, end;	/* [begin, end) */
	char		 state[REPORT_STORE_MAX_STATE];	/* pending|done */
	char		 rua[REPORT_MAX_RUA + 1];
	unsigned long	 records, messages;
	char		*xml;		/* malloc'ed; NULL unless loaded */
};

/* report_store_find - the report of domain that begins at begin: 1 found, 0 not, -1 error */
int report_store_find(struct report_store *st, const char *domain,
    int64_t begin, struct report_entry *e, char *err, size_t errlen);
/*
 * report_store_create - store e (pending), claimed by who until until.
 * 1: created and ours; 0: another run made it first; -1: error.
 */
int report_store_create(struct report_store *st,
    const struct report_entry *e, const char *who, int64_t now,
    int64_t until, char *err, size_t errlen);
/*
 * report_store_claim - take a pending report nobody holds (or whose claim
 * ran out before now) for who until until. 1: ours; 0: not; -1: error.
 */
int report_store_claim(struct report_store *st, const char *id,
    const char *who, int64_t now, int64_t until, char *err, size_t errlen);
/* report_store_release - drop who's claim; done makes the report done */
bool report_store_release(struct report_store *st, const char *id,
    const char *who, bool done, char *err, size_t errlen);

/* report_store_delivery - the state of a destination ("" if never tried) */
bool report_store_delivery(struct report_store *st, const char *id,
    const char *dest, char state[REPORT_STORE_MAX_STATE], char *err,
    size_t errlen);
/* report_store_set_delivery - record the outcome of one try */
bool report_store_set_delivery(struct report_store *st, const char *id,
    const char *dest, const char *state, const char *why, int64_t now,
    char *err, size_t errlen);

/*
 * report_store_expire - drop rows received before before, and reports
 * (with their deliveries) that ended before it; *nrows says how many rows
 */
bool report_store_expire(struct report_store *st, int64_t before,
    unsigned long *nrows, char *err, size_t errlen);

/*
 * For the implementations only. exec runs one statement with nparams text
 * parameters ($1...; NULL is SQL NULL); each result row goes to fn (values
 * NULL for SQL NULL). Returns the number of rows changed (0 for a query),
 * or -1 with the reason in err.
 */
typedef void (*report_db_row_fn)(void *arg, size_t ncols,
    const char *const *vals);
struct report_db_ops {
	const char	*kind;
	void		*(*open)(const char *spec, char *err, size_t errlen);
	void		 (*close)(void *db);
	long		 (*exec)(void *db, const char *sql,
			    const char *const *params, size_t nparams,
			    report_db_row_fn fn, void *arg, char *err,
			    size_t errlen);
	/* what starts the migration transaction (it must exclude others) */
	const char	*const *migrate_begin;
	/*
	 * the definition of dmarc_rows.id, a 64-bit key that numbers the
	 * rows in the order they are inserted; the rest of the schema
	 * (report_store.c) is the same SQL for both
	 */
	const char	*serial_id;
};
extern const struct report_db_ops report_db_sqlite;
extern const struct report_db_ops report_db_pgsql;

#endif
