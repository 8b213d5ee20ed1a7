/*
 * cli.h - the command line front end: configtest, sign, keygen. It feeds
 * the same engine the milter uses and prints what the milter would do.
 */
#ifndef AM_CLI_H
#define AM_CLI_H

/* Exit codes, documented in authmilter(8). */
#define CLI_EXIT_OK		0
#define CLI_EXIT_ERROR		1	/* configuration, I/O, key, internal */
#define CLI_EXIT_USAGE		2
#define CLI_EXIT_NOT_SIGNED	3	/* sign: nothing was signed */

int cli_configtest(int argc, char **argv);
int cli_sign(int argc, char **argv);
int cli_keygen(int argc, char **argv);

#endif
