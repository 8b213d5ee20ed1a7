/*
 * NAME
 *	milter_io - read-ahead on the MTA connections, under libmilter
 * SYNOPSIS
 *	#include "milter_io.h"
 *
 *	void milter_io_listen(fd)
 *	bool milter_io_buffered(fd)
 * DESCRIPTION
 *	libmilter reads every milter command with two read() calls (the
 *	5-byte length and command, then the data), each after a poll(), and
 *	its pool of workers polls the socket once more before each command
 *	to see whether another one is there: five system calls a command.
 *	A 10 KB message with 17 header fields is about 50 commands (Postfix
 *	sends a macro packet before every header field), some 270 system
 *	calls, which cost more CPU than everything else in a message but
 *	the RSA signature (measured: 0.40 ms of system time per message).
 *	Yet the MTA sends the commands that need no reply (SMFIP_NR_*) in a
 *	few writes.
 *
 *	So the calls libmilter makes are served from a buffer: this file
 *	defines read(), poll(), accept() and close() for the whole program,
 *	as milter.c defines sigwait(). A connection accepted on libmilter's
 *	listening socket (milter_io_listen() names it) gets a read-ahead
 *	buffer of MILTER_IO_BUFSIZE bytes at its first read:
 *
 *	- read() on it hands out what is buffered, and only when the buffer
 *	  is empty reads from the socket, with one readv() into the caller's
 *	  buffer first and the rest of what has arrived into the read-ahead
 *	  buffer (so a long read costs no copy). When the buffer holds less
 *	  than asked for, what has arrived of the rest is taken too, with a
 *	  recv() that does not wait (a 64 KB body chunk in one call). It
 *	  never waits when it has something to return, so a short read is
 *	  possible, as on any socket, and libmilter reads the rest.
 *	- poll() reports POLLIN at once for such a connection that has data
 *	  buffered (the other descriptors of the call are polled without
 *	  waiting); any other poll() goes to the C library as it is.
 *	- poll() for POLLIN alone on such a connection with nothing
 *	  buffered first takes what has arrived, with a recv() that does not
 *	  wait, and answers at once when there was something (or the end of
 *	  the connection, which read() then reports without a system call);
 *	  only when nothing has arrived does it wait in the real poll(). The
 *	  poll(), poll(), read() libmilter makes for each batch of commands
 *	  is one recv() when the MTA has sent them.
 *	- writev() on such a connection is a sendmsg() that does not wait,
 *	  and poll() for POLLOUT alone on it answers "writable" at once: a
 *	  socket to the MTA nearly always is, and libmilter polls before
 *	  every reply. When the socket is full, writev() fails with EAGAIN,
 *	  on which libmilter polls again, and that poll() (the next one for
 *	  POLLOUT on the connection) is the real one, with libmilter's own
 *	  timeout: a stuck MTA times out as before.
 *	- accept() makes the connection close-on-exec itself (accept4), so
 *	  the fcntl() pair libmilter then makes to set that flag is
 *	  answered here; on a unix-domain listening socket, its
 *	  SO_KEEPALIVE (a TCP setting) is too. Three system calls less per
 *	  connection, nothing else changed.
 *	- A packet that changes the message (a header inserted or changed,
 *	  milter_io_hold() names the commands: milter.c, which may include
 *	  libmilter's protocol definitions, gives them) is not sent by
 *	  writev() but held back, and goes out with the next packet, which
 *	  libmilter sends in the same step: its reply. The end of an
 *	  inbound message with an ARC seal, four header fields and the
 *	  reply, is one write instead of five. What is held back is sent
 *	  (waiting if need be) before the connection is read or polled, so
 *	  nothing can wait for an answer to a packet not sent; close()
 *	  sends what is left, without waiting.
 *	- close() releases the buffer.
 *
 *	Every other descriptor (files, DNS, the database, the metrics
 *	endpoint) goes to the C library untouched: one look at a table.
 *	libmilter serves one connection from one thread at a time and hands
 *	it between threads under its own lock, so a buffer is never used by
 *	two threads at once.
 * DIAGNOSTICS
 *	None: errors and end of file are those of the system calls.
 */
#include "buildconf.h"

/* read() is defined here: no fortified inline wrapper of it */
#undef _FORTIFY_SOURCE

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "milter_io.h"

/*
 * Bytes read ahead per connection: the commands of a 10 KB message that
 * need no reply arrive together in about that much. A read at least this
 * long goes to the socket directly.
 */
#define MILTER_IO_BUFSIZE	16384
/*
 * Bytes of held-back packets per connection: an ARC set, an A-R and the
 * reply are some 2 KB. A packet that does not fit is sent directly,
 * after what was held back.
 */
#define MILTER_IO_OUTSIZE	8192
/* A milter packet starts with 4 bytes of length and 1 of command. */
#define MILTER_IO_CMD_OFF	4
#define MILTER_IO_MAX_HOLD	16	/* command bytes milter_io_hold() keeps */
/* Descriptors that can have a buffer; higher ones are read unbuffered. */
#define MILTER_IO_MAX_FD	65536

/* The C library's own entry points (exported aliases). */
extern ssize_t __read(int, void *, size_t);
extern int __poll(struct pollfd *, nfds_t, int);
extern int __close(int);
extern int __fcntl(int, int, ...);

struct milter_io_buf {
	size_t		 off;		/* next byte to hand out */
	size_t		 len;		/* bytes in data */
	bool		 eof;		/* the MTA closed: read() returns 0 */
	bool		 wblocked;	/* the last writev() found it full */
	int		 werr;		/* errno of a failed send, or 0 */
	size_t		 olen;		/* bytes held back in out */
	unsigned char	 data[MILTER_IO_BUFSIZE];
	unsigned char	 out[MILTER_IO_OUTSIZE];
};

/* The commands held back (milter_io_hold), set once before any connection. */
static char milter_io_held[MILTER_IO_MAX_HOLD + 1];

/* The C library's writev(), found at the first write elsewhere. */
typedef ssize_t (*milter_io_writev_fn)(int, const struct iovec *, int);
static _Atomic(milter_io_writev_fn) milter_io_libc_writev;

/*
 * Per descriptor: NULL (not an MTA connection), MILTER_IO_MARK (one, no
 * buffer yet) or its buffer.
 */
static _Atomic(struct milter_io_buf *) milter_io_fd[MILTER_IO_MAX_FD];
static struct milter_io_buf milter_io_mark_obj;
#define MILTER_IO_MARK	(&milter_io_mark_obj)

static atomic_int milter_io_listen_fd = -1;
static atomic_bool milter_io_listen_unix;	/* ... is a unix socket */

/* milter_io_listen - connections accepted on fd get read-ahead */
void
milter_io_listen(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	atomic_store(&milter_io_listen_unix, fd >= 0 &&
	    getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
	    ss.ss_family == AF_UNIX);
	atomic_store(&milter_io_listen_fd, fd);
}

/* milter_io_hold - see milter_io.h */
void
milter_io_hold(const char *cmds)
{
	size_t n = strlen(cmds);

	if (n > MILTER_IO_MAX_HOLD)
		n = MILTER_IO_MAX_HOLD;
	memcpy(milter_io_held, cmds, n);
	milter_io_held[n] = '\0';
}

/* milter_io_get - the entry of fd: NULL, MILTER_IO_MARK or a buffer */
static inline struct milter_io_buf *
milter_io_get(int fd)
{
	if (fd < 0 || fd >= MILTER_IO_MAX_FD)
		return NULL;
	return atomic_load_explicit(&milter_io_fd[fd], memory_order_acquire);
}

/* milter_io_pending - bytes buffered for fd and not handed out yet */
static inline size_t
milter_io_pending(int fd)
{
	struct milter_io_buf *b = milter_io_get(fd);

	return b == NULL || b == MILTER_IO_MARK ? 0 : b->len - b->off;
}

/* milter_io_buffered - does fd have bytes read ahead? */
bool
milter_io_buffered(int fd)
{
	return milter_io_pending(fd) > 0;
}

/* accept - the C library's, noting connections to libmilter's socket */
int
accept(int s, struct sockaddr *restrict addr, socklen_t *restrict len)
{
	bool mta = s == atomic_load(&milter_io_listen_fd);
	int fd = accept4(s, addr, len, mta ? SOCK_CLOEXEC : 0);

	if (fd >= 0 && fd < MILTER_IO_MAX_FD && mta)
		atomic_store_explicit(&milter_io_fd[fd], MILTER_IO_MARK,
		    memory_order_release);
	return fd;
}

/* fcntl - the C library's, but FD_CLOEXEC of an MTA connection is known */
int
fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (milter_io_get(fd) != NULL) {
		if (cmd == F_GETFD)
			return FD_CLOEXEC;
		if (cmd == F_SETFD && (uintptr_t)arg == FD_CLOEXEC)
			return 0;
	}
	return __fcntl(fd, cmd, arg);
}

/* milter_io_setsockopt - the system call (the C library exports no alias) */
static int
milter_io_setsockopt(int fd, int level, int name, const void *val,
    socklen_t len)
{
	return (int)syscall(SYS_setsockopt, fd, level, name, val, len);
}

/* setsockopt - the C library's, but no TCP keep-alive on a unix socket */
int
setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	if (level == SOL_SOCKET && name == SO_KEEPALIVE &&
	    milter_io_get(fd) != NULL && atomic_load(&milter_io_listen_unix))
		return 0;
	return milter_io_setsockopt(fd, level, name, val, len);
}

/* close - release the read-ahead of fd, if any, then close it */
int
close(int fd)
{
	struct milter_io_buf *b;

	if (fd >= 0 && fd < MILTER_IO_MAX_FD && (b = atomic_exchange(
	    &milter_io_fd[fd], NULL)) != NULL && b != MILTER_IO_MARK) {
		if (b->olen > 0 && b->werr == 0)
			(void)send(fd, b->out, b->olen,
			    MSG_DONTWAIT | MSG_NOSIGNAL);
		free(b);
	}
	return __close(fd);
}

/*
 * milter_io_flush - send what is held back for fd, waiting if the socket
 * is full; false (errno set, and kept for the connection) on failure
 */
static bool
milter_io_flush(int fd, struct milter_io_buf *b)
{
	ssize_t n;

	while (b->werr == 0 && b->olen > 0) {
		n = send(fd, b->out, b->olen, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			b->werr = n < 0 ? errno : EPIPE;
			break;
		}
		memmove(b->out, b->out + n, b->olen - (size_t)n);
		b->olen -= (size_t)n;
	}
	if (b->werr == 0)
		return true;
	errno = b->werr;
	return false;
}

/* milter_io_take - up to len buffered bytes of b into dst; how many */
static size_t
milter_io_take(struct milter_io_buf *b, void *dst, size_t len)
{
	size_t n = b->len - b->off;

	if (n > len)
		n = len;
	memcpy(dst, b->data + b->off, n);
	b->off += n;
	return n;
}

/*
 * milter_io_take_more - the buffered bytes, and when they are fewer than
 * len what has arrived of the rest (never waiting for it): a long
 * command (a 64 KB body chunk) is read in one call, not in two with a
 * poll() between
 */
static ssize_t
milter_io_take_more(int fd, struct milter_io_buf *b, unsigned char *dst,
    size_t len)
{
	size_t n = milter_io_take(b, dst, len);
	ssize_t more;

	if (n == len)
		return (ssize_t)n;
	more = recv(fd, dst + n, len - n, MSG_DONTWAIT);
	return (ssize_t)n + (more > 0 ? more : 0);
}

/* milter_io_buf_of - the buffer of an MTA connection, made at first use */
static struct milter_io_buf *
milter_io_buf_of(int fd, struct milter_io_buf *b)
{
	if (b != MILTER_IO_MARK)
		return b;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	atomic_store_explicit(&milter_io_fd[fd], b, memory_order_release);
	return b;
}

/* read - see DESCRIPTION */
ssize_t
read(int fd, void *dst, size_t len)
{
	struct milter_io_buf *b = milter_io_get(fd);
	struct iovec iov[2];
	ssize_t n;

	if (b == NULL || len == 0)
		return __read(fd, dst, len);
	if (b != MILTER_IO_MARK && b->olen > 0 && !milter_io_flush(fd, b))
		return -1;
	if (b != MILTER_IO_MARK && b->off < b->len)
		return milter_io_take_more(fd, b, dst, len);
	if (b != MILTER_IO_MARK && b->eof)
		return 0;
	if (len >= MILTER_IO_BUFSIZE)
		return __read(fd, dst, len);
	if ((b = milter_io_buf_of(fd, b)) == NULL)
		return __read(fd, dst, len);
	b->off = b->len = 0;
	iov[0].iov_base = dst;
	iov[0].iov_len = len;
	iov[1].iov_base = b->data;
	iov[1].iov_len = sizeof(b->data);
	n = readv(fd, iov, 2);
	if (n <= (ssize_t)len)
		return n;
	b->off = 0;
	b->len = (size_t)n - len;
	return (ssize_t)len;
}

/*
 * milter_io_poll_one - poll() of one MTA connection for POLLIN alone or
 * POLLOUT alone, answered without waiting when it can be (see
 * DESCRIPTION); -1 with errno 0 when the real poll() must answer
 */
static int
milter_io_poll_one(struct pollfd *p)
{
	struct milter_io_buf *b = milter_io_get(p->fd);
	ssize_t n;

	if (b == NULL)
		return -1;
	if (p->events == POLLOUT) {
		if (b != MILTER_IO_MARK && b->wblocked) {
			b->wblocked = false;
			return -1;
		}
		p->revents = POLLOUT;
		return 1;
	}
	if (p->events != POLLIN && p->events != (POLLIN | POLLPRI))
		return -1;
	if ((b = milter_io_buf_of(p->fd, b)) == NULL)
		return -1;
	if (b->olen > 0 && !milter_io_flush(p->fd, b)) {
		p->revents = POLLERR | POLLHUP;
		return 1;
	}
	if (b->off < b->len || b->eof) {
		p->revents = b->eof && b->off == b->len ? POLLIN | POLLHUP :
		    POLLIN;
		return 1;
	}
	n = recv(p->fd, b->data, sizeof(b->data), MSG_DONTWAIT);
	if (n < 0)
		return -1;
	b->off = 0;
	b->len = (size_t)n;
	b->eof = n == 0;
	p->revents = n == 0 ? POLLIN | POLLHUP : POLLIN;
	return 1;
}

/*
 * The C library declares poll()'s array write-only (access attribute), so
 * the compiler takes what a caller put in it for uninitialized.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
/* poll - see DESCRIPTION */
int
poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	nfds_t ready = 0, i;
	int n;

	if (nfds == 1 && (n = milter_io_poll_one(&fds[0])) >= 0)
		return n;
	for (i = 0; i < nfds; i++) {
		struct milter_io_buf *b = milter_io_get(fds[i].fd);

		if (b != NULL && b != MILTER_IO_MARK && b->olen > 0)
			(void)milter_io_flush(fds[i].fd, b);	/* see read() */
	}
	for (i = 0; i < nfds; i++)
		if ((fds[i].events & POLLIN) && milter_io_pending(fds[i].fd))
			ready++;
	if (ready == 0)
		return __poll(fds, nfds, timeout);
	if (nfds == 1) {
		fds[0].revents = POLLIN;
		return 1;
	}
	if (__poll(fds, nfds, 0) < 0)
		for (i = 0; i < nfds; i++)
			fds[i].revents = 0;
	n = 0;
	for (i = 0; i < nfds; i++) {
		if ((fds[i].events & POLLIN) && milter_io_pending(fds[i].fd))
			fds[i].revents |= POLLIN;
		if (fds[i].revents != 0)
			n++;
	}
	return n;
}
#pragma GCC diagnostic pop

/*
 * milter_io_hold_back - keep the packet in iov with what b holds back when
 * it is one to hold, or when something is held and it is the reply that
 * ends the step and fits: then the whole is sent in one write. The
 * packet's length, or -1 when writev() must send it (after what is held).
 */
static ssize_t
milter_io_hold_back(int fd, struct milter_io_buf *b, const struct iovec *iov,
    int iovcnt)
{
	size_t total = 0;
	unsigned char cmd;
	bool hold;

	if (b->werr != 0) {
		errno = b->werr;
		return -1;
	}
	if (iovcnt < 1 || iov[0].iov_len <= MILTER_IO_CMD_OFF)
		return -1;
	cmd = ((const unsigned char *)iov[0].iov_base)[MILTER_IO_CMD_OFF];
	hold = cmd != '\0' && strchr(milter_io_held, cmd) != NULL;
	for (int i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	if ((!hold && b->olen == 0) || total > sizeof(b->out) - b->olen)
		return -1;
	for (int i = 0; i < iovcnt; i++) {
		memcpy(b->out + b->olen, iov[i].iov_base, iov[i].iov_len);
		b->olen += iov[i].iov_len;
	}
	if (!hold && !milter_io_flush(fd, b))
		return -1;
	return (ssize_t)total;
}

/* writev - see DESCRIPTION */
ssize_t
writev(int fd, const struct iovec *iov, int iovcnt)
{
	struct milter_io_buf *b = milter_io_get(fd);
	milter_io_writev_fn next;
	struct msghdr m;
	ssize_t n;

	if (b == NULL) {
		next = atomic_load(&milter_io_libc_writev);
		if (next == NULL) {
			next = (milter_io_writev_fn)dlsym(RTLD_NEXT, "writev");
			if (next == NULL) {
				errno = ENOSYS;
				return -1;
			}
			atomic_store(&milter_io_libc_writev, next);
		}
		return next(fd, iov, iovcnt);
	}
	if (milter_io_held[0] != '\0' &&
	    (b = milter_io_buf_of(fd, b)) != NULL) {
		if ((n = milter_io_hold_back(fd, b, iov, iovcnt)) >= 0 ||
		    b->werr != 0)
			return n;
		if (b->olen > 0 && !milter_io_flush(fd, b))
			return -1;
	}
	memset(&m, 0, sizeof(m));
	m.msg_iov = (struct iovec *)(uintptr_t)iov;
	m.msg_iovlen = (size_t)iovcnt;
	n = sendmsg(fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
	    (b = milter_io_buf_of(fd, b)) != NULL)
		b->wblocked = true;
	return n;
}
