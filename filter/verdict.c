/*
 * NAME
 *	verdict - names of the engine's actions
 * SYNOPSIS
 *	#include <string.h>

#include "util.h"
#include "verdict.h"
 *
 *	const char *verdict_action_name(enum verdict_action a)
 *	bool verdict_insert(v, pos, name, value)
 *	void verdict_renumber(v)
 * DESCRIPTION
 *	The words the log line, the CLI's JSON and the metrics use for an
 *	action. The verdict itself is plain data (verdict.h); the added
 *	headers are kept top down, each index its position in the list.
 * DIAGNOSTICS
 *	None.
 */
#include "buildconf.h"

#include <string.h>

#include "util.h"
#include "verdict.h"

/* verdict_action_name - the action as one lower-case word */
const char *
verdict_action_name(enum verdict_action a)
{
	switch (a) {
	case VERDICT_TEMPFAIL: return "tempfail";
	case VERDICT_REJECT: return "reject";
	case VERDICT_QUARANTINE: return "quarantine";
	default: return "accept";
	}
}

/* verdict_insert - a header at position pos of the added list */
bool
verdict_insert(struct verdict *v, size_t pos, const char *name,
    const char *value)
{
	if (v->nadded >= VERDICT_MAX_ADDED)
		return false;
	if (pos > v->nadded)
		pos = v->nadded;
	memmove(&v->added[pos + 1], &v->added[pos],
	    (v->nadded - pos) * sizeof(v->added[0]));
	v->added[pos].name = xstrdup(name);
	v->added[pos].value = xstrdup(value);
	v->nadded++;
	verdict_renumber(v);
	return true;
}

/* verdict_renumber - index = position, so the list reads top down */
void
verdict_renumber(struct verdict *v)
{
	for (size_t i = 0; i < v->nadded; i++)
		v->added[i].index = (unsigned)i;
}
