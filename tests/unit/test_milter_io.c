/*
 * test_milter_io.c - unit tests for milter_io.c, the read-ahead and the
 * held-back changes on the MTA's connections: a connection accepted on
 * the socket milter_io_listen() names, with a real client at its other
 * end, and the C library functions milter_io.c defines called as
 * libmilter calls them.
 */
#include "buildconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "milter_io.h"

struct conn {
	char	 path[64];
	int	 lfd;		/* the listening socket */
	int	 mta;		/* the client: the MTA's end */
	int	 fd;		/* the accepted connection: libmilter's end */
};

/* conn_open - a listening socket, a client, and the accepted connection */
static int
conn_open(void **state)
{
	struct conn *c = calloc(1, sizeof(*c));
	struct sockaddr_un sun;

	assert_non_null(c);
	snprintf(c->path, sizeof(c->path), "/tmp/test_milter_io.%ld",
	    (long)getpid());
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", c->path);
	unlink(c->path);
	c->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(c->lfd >= 0);
	assert_int_equal(bind(c->lfd, (struct sockaddr *)&sun, sizeof(sun)),
	    0);
	assert_int_equal(listen(c->lfd, 1), 0);
	milter_io_listen(c->lfd);
	c->mta = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(connect(c->mta, (struct sockaddr *)&sun,
	    sizeof(sun)), 0);
	c->fd = accept(c->lfd, NULL, NULL);
	assert_true(c->fd >= 0);
	*state = c;
	return 0;
}

/* conn_close - both ends and the listening socket */
static int
conn_close(void **state)
{
	struct conn *c = *state;

	if (c->fd >= 0)
		close(c->fd);
	close(c->mta);
	milter_io_listen(-1);
	close(c->lfd);
	unlink(c->path);
	free(c);
	return 0;
}

/* packet - a milter packet: 4 bytes of length, the command, data */
static ssize_t
packet(int fd, char cmd, const char *data)
{
	size_t n = strlen(data);
	unsigned char hdr[5];
	struct iovec iov[2];
	uint32_t len = (uint32_t)n + 1;

	hdr[0] = (unsigned char)(len >> 24);
	hdr[1] = (unsigned char)(len >> 16);
	hdr[2] = (unsigned char)(len >> 8);
	hdr[3] = (unsigned char)len;
	hdr[4] = (unsigned char)cmd;
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = (void *)(uintptr_t)data;
	iov[1].iov_len = n;
	return writev(fd, iov, n > 0 ? 2 : 1);
}

/* arrived - what the MTA's end has received, without waiting */
static ssize_t
arrived(int fd, char *buf, size_t len)
{
	ssize_t n = recv(fd, buf, len, MSG_DONTWAIT);

	return n < 0 && errno == EAGAIN ? 0 : n;
}

/* a change is held back and goes out with the reply, in one write */
static void
test_hold(void **state)
{
	struct conn *c = *state;
	char buf[256];

	milter_io_hold("im");
	assert_int_equal(packet(c->fd, 'i', "X-A\0v"), 5 + 3);
	assert_int_equal(packet(c->fd, 'm', "X-B"), 5 + 3);
	assert_int_equal(arrived(c->mta, buf, sizeof(buf)), 0);
	assert_int_equal(packet(c->fd, 'a', ""), 5);
	/* both changes and the reply, in order, in one read */
	assert_int_equal(arrived(c->mta, buf, sizeof(buf)), 8 + 8 + 5);
	assert_int_equal(buf[4], 'i');
	assert_int_equal(buf[12], 'm');
	assert_int_equal(buf[20], 'a');
	/* a reply with nothing held goes out at once */
	assert_int_equal(packet(c->fd, 'c', ""), 5);
	assert_int_equal(arrived(c->mta, buf, sizeof(buf)), 5);
}

/* what is held back is sent before the connection is read or polled */
static void
test_flush_before_wait(void **state)
{
	struct conn *c = *state;
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	char buf[64];

	milter_io_hold("i");
	assert_int_equal(packet(c->fd, 'i', "ab"), 7);
	assert_int_equal(poll(&p, 1, 0), 0);	/* nothing from the MTA */
	assert_int_equal(arrived(c->mta, buf, sizeof(buf)), 7);
	assert_int_equal(packet(c->fd, 'i', "cd"), 7);
	assert_int_equal(write(c->mta, "x", 1), 1);
	assert_int_equal(read(c->fd, buf, 1), 1);
	assert_int_equal(arrived(c->mta, buf, sizeof(buf)), 7);
	/* and by close(), for the MTA to read */
	assert_int_equal(packet(c->fd, 'i', "ef"), 7);
	close(c->fd);
	c->fd = -1;
	assert_int_equal(arrived(c->mta, buf, sizeof(buf)), 7);
}

/* a packet too long to hold goes out directly, after what is held */
static void
test_hold_overflow(void **state)
{
	struct conn *c = *state;
	char *big = malloc(20000), *buf = malloc(40000);
	size_t got = 0;
	ssize_t n;

	assert_non_null(big);
	assert_non_null(buf);
	memset(big, 'v', 19999);
	big[19999] = '\0';
	milter_io_hold("i");
	assert_int_equal(packet(c->fd, 'i', "ab"), 7);
	assert_int_equal(packet(c->fd, 'i', big), 5 + 19999);
	while ((n = arrived(c->mta, buf + got, 40000 - got)) > 0)
		got += (size_t)n;
	assert_int_equal(got, 7 + 5 + 19999);
	assert_int_equal(buf[4], 'i');
	assert_int_equal(buf[7 + 4], 'i');
	free(big);
	free(buf);
}

/* poll() answers POLLOUT at once; POLLIN from what has arrived */
static void
test_poll_read(void **state)
{
	struct conn *c = *state;
	struct pollfd p = { .fd = c->fd, .events = POLLOUT };
	char buf[16];

	assert_int_equal(poll(&p, 1, 1000), 1);
	assert_int_equal(p.revents, POLLOUT);
	assert_int_equal(write(c->mta, "0123456789", 10), 10);
	p.events = POLLIN | POLLPRI;
	assert_int_equal(poll(&p, 1, 1000), 1);
	assert_true(p.revents & POLLIN);
	/* served from the read-ahead, as libmilter reads: 5 bytes, then more */
	assert_int_equal(read(c->fd, buf, 5), 5);
	assert_memory_equal(buf, "01234", 5);
	p.events = POLLIN;
	assert_int_equal(poll(&p, 1, 0), 1);
	assert_int_equal(read(c->fd, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "56789", 5);
	/* the end of the connection: POLLIN and POLLHUP, then read() 0 */
	shutdown(c->mta, SHUT_WR);
	assert_int_equal(poll(&p, 1, 1000), 1);
	assert_int_equal(p.revents, POLLIN | POLLHUP);
	assert_int_equal(read(c->fd, buf, sizeof(buf)), 0);
	assert_int_equal(read(c->fd, buf, sizeof(buf)), 0);
}

/* the connection is close-on-exec, and fcntl() says so */
static void
test_cloexec(void **state)
{
	struct conn *c = *state;
	char path[64], line[128];
	unsigned long flags = 0;
	FILE *f;

	assert_int_equal(fcntl(c->fd, F_GETFD), FD_CLOEXEC);
	assert_int_equal(fcntl(c->fd, F_SETFD, FD_CLOEXEC), 0);
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", c->fd);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "flags: %lo", &flags) == 1)
			break;
	fclose(f);
	assert_true(flags & O_CLOEXEC);
	/* other descriptors go to the C library */
	assert_int_equal(fcntl(c->mta, F_GETFD), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hold, conn_open,
		    conn_close),
		cmocka_unit_test_setup_teardown(test_flush_before_wait,
		    conn_open, conn_close),
		cmocka_unit_test_setup_teardown(test_hold_overflow, conn_open,
		    conn_close),
		cmocka_unit_test_setup_teardown(test_poll_read, conn_open,
		    conn_close),
		cmocka_unit_test_setup_teardown(test_cloexec, conn_open,
		    conn_close),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
