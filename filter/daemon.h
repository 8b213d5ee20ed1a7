/*
 * daemon.h - the life of the daemon: start-up as root, socket, privileges,
 * pid file, background, signals (reload and stop), shutdown.
 */
#ifndef AM_DAEMON_H
#define AM_DAEMON_H

#include <stdbool.h>

/* daemon_main - run the milter with the configuration file path; exit code */
int daemon_main(const char *path, bool foreground);

#endif
