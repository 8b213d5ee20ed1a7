/*
 * cli.h - the command line front end: configtest, sign, keygen, check. It feeds
 * the same engine the milter uses and prints what the milter would do.
 */
#ifndef AM_CLI_H
#define AM_CLI_H

/* Exit codes, documented in authmilter(8). */
#define CLI_EXIT_OK		0
#define CLI_EXIT_ERROR		1	/* configuration, I/O, key, internal */
#define CLI_EXIT_USAGE		2
#define CLI_EXIT_NOT_SIGNED	3	/* sign: nothing was signed */

#define CLI_CHECK_USAGE	"authmilter check [-c FILE] [--nameserver IP[:PORT]]... " \
	"--client-ip IP --helo NAME --mail-from ADDR [--rcpt ADDR]... " \
	"[--authserv-id ID] [--json] [FILE|-]"

/* cli_usage - print "usage: text" to stderr; returns CLI_EXIT_USAGE */
int cli_usage(const char *text);

int cli_configtest(int argc, char **argv);
int cli_check(int argc, char **argv);
int cli_sign(int argc, char **argv);
int cli_keygen(int argc, char **argv);

#endif
