/*
 * milter.h - the libmilter front end: the only module that includes
 * libmilter. It turns MTA callbacks into session calls and applies the
 * session's verdict. No policy is decided here.
 */
#ifndef AM_MILTER_H
#define AM_MILTER_H

#include <stdbool.h>
#include <sys/types.h>

struct runtime;

/*
 * milter_open - register with libmilter and open the listening socket
 * (spec as in the Socket key) with the given umask; every session uses
 * the services of rt. Returns false and logs on failure.
 */
bool milter_open(const char *spec, mode_t umask, struct runtime *rt);
/*
 * milter_run - hand control to libmilter. It serves until the process
 * exits, and returns only if libmilter fails (exit code 1).
 */
int milter_run(void);
/*
 * milter_stop - refuse new connections at once; from then on a message on
 * a connection already open is answered 421 (the MTA hangs up and retries
 * later) unless it may have been begun before the stop (see milter.c).
 * libmilter itself is never told to stop.
 */
void milter_stop(void);
/*
 * milter_drain - after milter_stop(), wait up to secs until every message
 * in flight has been answered; returns how many are still in flight.
 */
unsigned milter_drain(unsigned secs);
/* milter_in_flight - messages between MAIL FROM and their answer */
unsigned milter_in_flight(void);
/* milter_connections - MTA connections open (in a message or idle) */
unsigned milter_connections(void);

#endif
