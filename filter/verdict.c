/*
 * NAME
 *	verdict - names of the engine's actions
 * SYNOPSIS
 *	#include "verdict.h"
 *
 *	const char *verdict_action_name(enum verdict_action a)
 * DESCRIPTION
 *	The words the log line, the CLI's JSON and the metrics use for an
 *	action. The verdict itself is plain data (verdict.h).
 * DIAGNOSTICS
 *	None.
 */
#include "buildconf.h"

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
