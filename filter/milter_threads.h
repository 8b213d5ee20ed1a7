/*
 * milter_threads.h - libmilter's threads kept for its next ones: a thread
 * whose work libmilter ended waits to serve libmilter's next
 * pthread_create() instead of ending (see milter_threads.c, which defines
 * pthread_create() and pthread_detach() for the program). Used by
 * milter.c only.
 */
#ifndef AM_MILTER_THREADS_H
#define AM_MILTER_THREADS_H

#include <stddef.h>

/* threads kept waiting at once; more end as before */
#define MILTER_THREADS_IDLE_MAX		64
/* how long a kept thread waits for work before it ends (ms) */
#define MILTER_THREADS_IDLE_MS		60000

/*
 * milter_threads_keep - from now on keep the threads whose start routine
 * lies in the shared object that holds fn (libmilter: pass one of its
 * functions): at most idle_max wait at once, each for at most idle_ms
 */
void milter_threads_keep(const void *fn, unsigned idle_max,
    unsigned idle_ms);
/* milter_threads_idle - how many kept threads wait for work now */
size_t milter_threads_idle(void);

#endif
