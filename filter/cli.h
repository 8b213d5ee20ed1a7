/*
 * cli.h - the command line front end: configtest, sign, keygen, check. It feeds
 * the same engine the milter uses and prints what the milter would do;
 * stats, which reads the running daemon's metrics; report, which makes
 * and mails the DMARC aggregate reports from the report store.
 */
#ifndef AM_CLI_H
#define AM_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

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

struct config;
struct verdict;

/* What a command tells the engine of the SMTP side of one message. */
struct cli_envelope {
	const char	*file;		/* the message; "-" is stdin */
	const char	*client_name;
	const char	*client_ip;	/* NULL: a local submission */
	const char	*helo;
	const char	*mail_from;	/* without <>; "" is the null sender */
	const char	*auth_user;	/* SMTP AUTH user, or NULL */
	const char *const *rcpts;
	size_t		 nrcpts;
	bool		 inbound;	/* check it as inbound mail, whatever the client */
};

/*
 * What a command prints of the verdict: v, whether the message had CRLF
 * line ends, the message file (seekable; positioned after the headers'
 * end is not promised: rewind it), and the command's own argument.
 * Returns the exit code.
 */
typedef int (*cli_show_fn)(const struct verdict *v, bool crlf, FILE *fp,
    void *arg);

/*
 * cli_run_message - one message through the engine as the milter would
 * see it, with services of its own (DNS, the verifier; no metrics
 * endpoint), then show() of the verdict. Problems with the file are
 * printed and give CLI_EXIT_ERROR.
 */
int cli_run_message(struct config *cfg, const struct cli_envelope *env,
    cli_show_fn show, void *arg);

int cli_configtest(int argc, char **argv);
int cli_check(int argc, char **argv);
int cli_sign(int argc, char **argv);
int cli_keygen(int argc, char **argv);
int cli_stats(int argc, char **argv);
int cli_report(int argc, char **argv);

#endif
