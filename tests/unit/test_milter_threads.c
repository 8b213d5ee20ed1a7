/*
 * test_milter_threads.c - unit tests for milter_threads.c, libmilter's
 * threads kept for its next ones. The routines here stand for
 * libmilter's: milter_threads_keep() is given one of this program's
 * functions, so every thread whose routine lies in this program is kept,
 * and pthread_create() and pthread_detach() are called as libmilter's
 * workers call them.
 */
#include "buildconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>
#include <unistd.h>

#include "milter_threads.h"

#define WAIT_MS		5000	/* the longest a check waits for a thread */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int runs;		/* routines that ended */
static int held;		/* routines waiting for open */
static bool open_gate = true;	/* may a routine end? */
static _Thread_local int thread_runs;	/* routines this thread ran */

struct run {
	pthread_t	 self;		/* pthread_self() in the routine */
	int		 nth;		/* thread_runs after it */
	int		 detach;	/* its pthread_detach(pthread_self()) */
};

/* routine - a worker: detaches itself, waits for the gate, ends */
static void *
routine(void *arg)
{
	struct run *r = arg;

	r->self = pthread_self();
	r->detach = pthread_detach(pthread_self());
	r->nth = ++thread_runs;
	pthread_mutex_lock(&lock);
	held++;
	pthread_cond_broadcast(&cond);
	while (!open_gate)
		pthread_cond_wait(&cond, &lock);
	held--;
	runs++;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	return NULL;
}

/* plain - a routine that is not detached and returns its argument */
static void *
plain(void *arg)
{
	return arg;
}

/* wait_for - wait until *what (under lock) is want; false on timeout */
static bool
wait_for(int *what, int want)
{
	struct timespec until;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += WAIT_MS / 1000;
	pthread_mutex_lock(&lock);
	while (*what != want &&
	    pthread_cond_timedwait(&cond, &lock, &until) == 0)
		;
	ok = *what == want;
	pthread_mutex_unlock(&lock);
	return ok;
}

/* idle_is - wait until milter_threads_idle() is n; false on timeout */
static bool
idle_is(size_t n)
{
	for (int i = 0; i < WAIT_MS; i++) {
		if (milter_threads_idle() == n)
			return true;
		usleep(1000);
	}
	return false;
}

/* run_one - create a thread for routine and wait until it has ended */
static void
run_one(struct run *r, pthread_t *tid)
{
	int before;

	pthread_mutex_lock(&lock);
	before = runs;
	pthread_mutex_unlock(&lock);
	assert_int_equal(pthread_create(tid, NULL, routine, r), 0);
	assert_true(wait_for(&runs, before + 1));
}

/* Before milter_threads_keep(), and for other objects' routines: as ever. */
static void
test_untouched(void **state)
{
	pthread_t t;
	void *ret = NULL;
	int x;

	(void)state;
	milter_threads_keep(NULL, 4, 1000);	/* no object holds NULL */
	assert_int_equal(pthread_create(&t, NULL, plain, &x), 0);
	assert_int_equal(pthread_join(t, &ret), 0);
	assert_ptr_equal(ret, &x);
	assert_int_equal(milter_threads_idle(), 0);
	/* a thread not kept is detached once, as the C library does */
	assert_int_equal(pthread_create(&t, NULL, plain, &x), 0);
	assert_int_equal(pthread_detach(t), 0);
}

/* A kept thread serves the next pthread_create(): same thread, its state. */
static void
test_reused(void **state)
{
	struct run a = { 0 }, b = { 0 };
	pthread_t ta, tb;

	(void)state;
	milter_threads_keep((const void *)routine, 4, 10000);
	run_one(&a, &ta);
	assert_true(idle_is(1));
	assert_int_equal(a.detach, 0);
	assert_true(pthread_equal(ta, a.self));

	run_one(&b, &tb);
	assert_true(idle_is(1));
	assert_int_equal(b.detach, 0);	/* a second detach: still 0 */
	assert_true(pthread_equal(tb, b.self));
	assert_true(pthread_equal(a.self, b.self));
	assert_int_equal(b.nth, a.nth + 1);	/* its thread-local state */
}

/* At most idle_max wait: the others end when their routine does. */
static void
test_idle_max(void **state)
{
	struct run r[3] = { { 0 } };
	pthread_t t[3];

	(void)state;
	milter_threads_keep((const void *)routine, 2, 10000);
	assert_true(idle_is(1));	/* the one test_reused kept */
	pthread_mutex_lock(&lock);
	open_gate = false;
	pthread_mutex_unlock(&lock);
	for (int i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&t[i], NULL, routine, &r[i]), 0);
	assert_true(wait_for(&held, 3));
	assert_int_equal(milter_threads_idle(), 0);	/* one was reused */
	pthread_mutex_lock(&lock);
	open_gate = true;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	assert_true(wait_for(&held, 0));
	assert_true(idle_is(2));
	usleep(100 * 1000);
	assert_int_equal(milter_threads_idle(), 2);
}

/* A kept thread that waits idle_ms for nothing ends. */
static void
test_idle_ms(void **state)
{
	struct run r = { 0 };
	pthread_t t;

	(void)state;
	milter_threads_keep((const void *)routine, 4, 10000);
	assert_true(idle_is(2));	/* from test_idle_max, 10 s to go */
	milter_threads_keep((const void *)routine, 4, 200);
	run_one(&r, &t);		/* takes one; it waits 200 ms now */
	assert_true(idle_is(2));
	usleep(600 * 1000);
	assert_int_equal(milter_threads_idle(), 1);	/* only it ended */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_untouched),
		cmocka_unit_test(test_reused),
		cmocka_unit_test(test_idle_max),
		cmocka_unit_test(test_idle_ms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
