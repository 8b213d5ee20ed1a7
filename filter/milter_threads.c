/*
 * NAME
 *	milter_threads - libmilter's threads kept for its next ones
 * SYNOPSIS
 *	#include "milter_threads.h"
 *
 *	void milter_threads_keep(fn, idle_max, idle_ms)
 *	size_t milter_threads_idle(void)
 * DESCRIPTION
 *	libmilter's pool of workers (as Debian builds it) ends a worker
 *	whenever it finds no session ready and more than one worker idle,
 *	and starts a new one as soon as a session is ready and none is:
 *	under load a thread every four to seven messages. Each costs the
 *	kernel a clone, a stack's guard page and, when the thread ends, an
 *	madvise() of its stack with a TLB flush on the other core, and
 *	costs the new thread cold caches and every per-thread state made
 *	again: malloc's thread cache, OpenSSL's, libspf2's server, the RSA
 *	contexts of pkeyctx.c. Measured under bench/loadgen: half of what
 *	libmilter and the kernel cost a message that no work is done for
 *	(0.13 against 0.06 ms of CPU), and 0.07 ms of a plain inbound
 *	message's 0.24 ms.
 *
 *	So this file defines pthread_create() and pthread_detach() for the
 *	whole program, as milter_io.c defines read() and poll():
 *
 *	- pthread_create() for a start routine that lies in the shared
 *	  object milter_threads_keep() named (libmilter's) hands the
 *	  routine to a kept thread that waits for work, if one does, and
 *	  otherwise starts a thread (with the attributes given) that runs
 *	  the routine and, when it returns, waits up to idle_ms for the next
 *	  one instead of ending. At most idle_max wait at once; a thread
 *	  that would be one more, or that waited idle_ms in vain, ends as
 *	  before. To libmilter nothing changes but that a "new" worker may
 *	  have run an earlier one's routine: the thread identifier it gets is
 *	  the thread's.
 *	- Such a thread is detached by this file when it starts, and its
 *	  pthread_detach() of itself (each libmilter worker detaches itself)
 *	  succeeds without a call to the C library, which would refuse a
 *	  second detach.
 *	- Every other pthread_create() (the program's own threads, other
 *	  libraries') and pthread_detach() goes to the C library untouched.
 *
 *	A thread that leaves its routine through pthread_exit() ends as
 *	before. Per-thread state survives from one routine to the next,
 *	which is the point: pkeyctx.c's contexts keep a key the
 *	configuration dropped until the slot is taken (at most its slots),
 *	no longer until the thread ends.
 * DIAGNOSTICS
 *	As pthread_create(): an error number when no thread could be had.
 */
#include "buildconf.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "milter_threads.h"

typedef int (*milter_threads_create_fn)(pthread_t *, const pthread_attr_t *,
    void *(*)(void *), void *);
typedef int (*milter_threads_detach_fn)(pthread_t);

/* A kept thread and the routine it runs or will run next. */
struct milter_thread {
	pthread_t	 tid;
	void		*(*fn)(void *);
	void		*arg;
	bool		 work;		/* fn is to run: set by the giver */
	pthread_cond_t	 wake;		/* signalled when work is set */
	struct milter_thread *next;	/* in the idle list */
};

/* the C library's pthread_create() and pthread_detach(), looked up once */
static _Atomic(void *) milter_threads_libc_create;
static _Atomic(void *) milter_threads_libc_detach;

/* the address range of the object whose threads are kept; empty: none */
static _Atomic uintptr_t milter_threads_lo, milter_threads_hi;

static pthread_mutex_t milter_threads_lock = PTHREAD_MUTEX_INITIALIZER;
static struct milter_thread *milter_threads_waiting;	/* under the lock */
static size_t milter_threads_nwaiting;
static unsigned milter_threads_max, milter_threads_ms;

static _Thread_local bool milter_threads_kept;	/* this thread is one */

/* milter_threads_libc - the C library's function name, kept in *slot */
static void *
milter_threads_libc(_Atomic(void *) *slot, const char *name)
{
	void *f = atomic_load(slot);

	if (f == NULL) {
		f = dlsym(RTLD_NEXT, name);
		atomic_store(slot, f);
	}
	return f;
}

/* milter_threads_create_libc - the C library's pthread_create() */
static milter_threads_create_fn
milter_threads_create_libc(void)
{
	milter_threads_create_fn f;

	*(void **)&f = milter_threads_libc(&milter_threads_libc_create,
	    "pthread_create");
	return f;
}

/* milter_threads_detach_libc - the C library's pthread_detach() */
static milter_threads_detach_fn
milter_threads_detach_libc(void)
{
	milter_threads_detach_fn f;

	*(void **)&f = milter_threads_libc(&milter_threads_libc_detach,
	    "pthread_detach");
	return f;
}

struct milter_threads_find {
	uintptr_t	 addr;		/* in: an address in the object */
	uintptr_t	 lo, hi;	/* out: its loaded segments' span */
};

/* milter_threads_object - dl_iterate_phdr(): the object holding addr */
static int
milter_threads_object(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct milter_threads_find *f = arg;
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	bool holds = false;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type != PT_LOAD)
			continue;
		if (f->addr >= start && f->addr - start < ph->p_memsz)
			holds = true;
		if (start < lo)
			lo = start;
		if (start + ph->p_memsz > hi)
			hi = start + ph->p_memsz;
	}
	if (!holds)
		return 0;
	f->lo = lo;
	f->hi = hi;
	return 1;
}

void
milter_threads_keep(const void *fn, unsigned idle_max, unsigned idle_ms)
{
	struct milter_threads_find f = { (uintptr_t)fn, 0, 0 };

	(void)milter_threads_create_libc();
	(void)milter_threads_detach_libc();
	pthread_mutex_lock(&milter_threads_lock);
	milter_threads_max = idle_max;
	milter_threads_ms = idle_ms;
	pthread_mutex_unlock(&milter_threads_lock);
	if (dl_iterate_phdr(milter_threads_object, &f) == 0)
		f.lo = f.hi = 0;
	atomic_store(&milter_threads_hi, 0);
	atomic_store(&milter_threads_lo, f.lo);
	atomic_store(&milter_threads_hi, f.hi);
}

size_t
milter_threads_idle(void)
{
	size_t n;

	pthread_mutex_lock(&milter_threads_lock);
	n = milter_threads_nwaiting;
	pthread_mutex_unlock(&milter_threads_lock);
	return n;
}

/* milter_threads_unlist - take t off the idle list; lock held */
static void
milter_threads_unlist(struct milter_thread *t)
{
	for (struct milter_thread **p = &milter_threads_waiting; *p != NULL;
	    p = &(*p)->next)
		if (*p == t) {
			*p = t->next;
			milter_threads_nwaiting--;
			return;
		}
}

/* milter_threads_free - a kept thread's record, when the thread ends */
static void
milter_threads_free(void *arg)
{
	struct milter_thread *t = arg;

	pthread_cond_destroy(&t->wake);
	free(t);
}

/*
 * milter_threads_wait - after a routine: wait on the idle list for the
 * next one; false when the thread is to end (the list full, or idle_ms
 * passed without work)
 */
static bool
milter_threads_wait(struct milter_thread *t)
{
	struct timespec until;
	bool again = false;

	clock_gettime(CLOCK_MONOTONIC, &until);
	pthread_mutex_lock(&milter_threads_lock);
	until.tv_sec += milter_threads_ms / 1000;
	until.tv_nsec += (long)(milter_threads_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	t->work = false;
	if (milter_threads_nwaiting < milter_threads_max) {
		t->next = milter_threads_waiting;
		milter_threads_waiting = t;
		milter_threads_nwaiting++;
		while (!t->work && pthread_cond_timedwait(&t->wake,
		    &milter_threads_lock, &until) != ETIMEDOUT)
			;
		if (!t->work)	/* timed out: still listed */
			milter_threads_unlist(t);
		again = t->work;
	}
	pthread_mutex_unlock(&milter_threads_lock);
	return again;
}

/* milter_threads_run - a kept thread: routines until it is to end */
static void *
milter_threads_run(void *arg)
{
	struct milter_thread *t = arg;
	milter_threads_detach_fn detach = milter_threads_detach_libc();

	t->tid = pthread_self();	/* before it can be listed */
	milter_threads_kept = true;
	if (detach != NULL)
		(void)detach(pthread_self());
	pthread_cleanup_push(milter_threads_free, t);
	do
		(void)t->fn(t->arg);
	while (milter_threads_wait(t));
	pthread_cleanup_pop(1);
	return NULL;
}

int
pthread_create(pthread_t *tid, const pthread_attr_t *attr,
    void *(*fn)(void *), void *arg)
{
	milter_threads_create_fn create = milter_threads_create_libc();
	uintptr_t a = (uintptr_t)fn;
	struct milter_thread *t;
	pthread_condattr_t ca;
	int rc;

	if (create == NULL)
		return EAGAIN;
	if (a < atomic_load(&milter_threads_lo) ||
	    a >= atomic_load(&milter_threads_hi))
		return create(tid, attr, fn, arg);

	pthread_mutex_lock(&milter_threads_lock);
	if ((t = milter_threads_waiting) != NULL) {
		milter_threads_waiting = t->next;
		milter_threads_nwaiting--;
		t->fn = fn;
		t->arg = arg;
		t->work = true;
		*tid = t->tid;
		pthread_cond_signal(&t->wake);
		pthread_mutex_unlock(&milter_threads_lock);
		return 0;
	}
	pthread_mutex_unlock(&milter_threads_lock);

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return EAGAIN;
	if ((rc = pthread_condattr_init(&ca)) != 0) {
		free(t);
		return rc;
	}
	(void)pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	rc = pthread_cond_init(&t->wake, &ca);
	pthread_condattr_destroy(&ca);
	if (rc != 0) {
		free(t);
		return rc;
	}
	t->fn = fn;
	t->arg = arg;
	t->work = true;
	if ((rc = create(tid, attr, milter_threads_run, t)) != 0)
		milter_threads_free(t);
	return rc;
}

int
pthread_detach(pthread_t tid)
{
	milter_threads_detach_fn detach;

	if (milter_threads_kept && pthread_equal(tid, pthread_self()))
		return 0;	/* detached when it started */
	if ((detach = milter_threads_detach_libc()) == NULL)
		return EINVAL;
	return detach(tid);
}
