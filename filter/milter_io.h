/*
 * milter_io.h - read-ahead on the MTA's connections to libmilter: the
 * commands the MTA sends in one write are read with one system call
 * instead of five each, and the changes to a message go out with its
 * reply in one write (see milter_io.c, which defines read(), poll(),
 * writev(), accept(), fcntl(), setsockopt() and close() for the
 * program). Used by milter.c only.
 */
#ifndef AM_MILTER_IO_H
#define AM_MILTER_IO_H

#include <stdbool.h>

/*
 * milter_io_listen - the listening socket libmilter accepts MTA
 * connections on; each connection accepted on it is read ahead
 */
void milter_io_listen(int fd);
/*
 * milter_io_hold - the commands (SMFIR_* bytes) that change the message
 * and that the reply of the same step always follows: each is held back
 * and sent with that reply, in one write (see milter_io.c)
 */
void milter_io_hold(const char *cmds);
/* milter_io_buffered - has fd input read ahead that nobody read yet? */
bool milter_io_buffered(int fd);

#endif
