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
/* milter_run - serve until libmilter is told to stop (SIGTERM/SIGINT) */
int milter_run(void);
/* milter_drain - wait up to secs for the sessions in flight to end */
bool milter_drain(unsigned secs);

#endif
