/*
 * verdict.h - what the engine answers at the end of a message: the action,
 * the SMTP reply, the headers to add and to remove, and the log line.
 *
 * Plain data, shared by the engine modules that fill it (session.c,
 * inbound.c) and the front ends that apply it (milter.c, cli.c). A verdict
 * is released with verdict_clear() (session.h), which also frees the
 * inbound results it may carry.
 */
#ifndef AM_VERDICT_H
#define AM_VERDICT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Header insertions per message: the DKIM signatures (at most 8) or the
 * A-R and a quarantine mark, and an ARC set (3).
 */
#define VERDICT_MAX_ADDED	(8 + 2 + 3)
#define VERDICT_MAX_REMOVED	16	/* header removals per message */

enum verdict_action {
	VERDICT_ACCEPT = 0,	/* deliver (with the header changes) */
	VERDICT_TEMPFAIL,	/* 4xx: the MTA keeps it and retries */
	VERDICT_REJECT,		/* 5xx */
	VERDICT_QUARANTINE,	/* deliver to the MTA's hold queue */
	VERDICT_NACTIONS
};

/*
 * The added headers are listed top down: added[0] ends up topmost in the
 * delivered message, and index is the position in the list (0 = top), so
 * that a front end inserting them in order at their index keeps it.
 */
struct added_header {
	char	*name;
	char	*value;		/* folded with "\r\n\t"; front ends adapt */
	unsigned index;		/* position among the headers; 0 = top */
};

struct removed_header {
	char	*name;
	unsigned index;		/* 1 = the first field of that name, top down */
};

struct inbound_results;

struct verdict {
	enum verdict_action action;
	char		 rcode[4];	/* "451", "550" for TEMPFAIL/REJECT */
	char		 xcode[8];	/* "4.7.0" */
	char		*reason;	/* reply text / quarantine reason */
	struct added_header added[VERDICT_MAX_ADDED];
	size_t		 nadded;
	/* removals are applied before insertions (indexes are the MTA's) */
	struct removed_header removed[VERDICT_MAX_REMOVED];
	size_t		 nremoved;
	char		*summary;	/* the one log line for this message */
	struct inbound_results *results;	/* inbound checks; NULL if none */
};

/* verdict_action_name - "accept", "tempfail", "reject", "quarantine" */
const char *verdict_action_name(enum verdict_action a);

/*
 * verdict_insert - add a header at position pos of the added list (0 =
 * top; pos past the end appends); false when the list is full
 */
bool verdict_insert(struct verdict *v, size_t pos, const char *name,
    const char *value);
/* verdict_renumber - every added header's index is its list position */
void verdict_renumber(struct verdict *v);

#endif
