/*
 * cli.h - the command line front end: configtest, sign, keygen, check. It feeds
 * the same engine the milter uses and prints what the milter would do;
 * stats, which reads the running daemon's metrics; report, which makes
 * and mails the DMARC aggregate reports from the report store; doctor,
 * which checks a domain's published records against the configuration.
 *
 * Every command is described once, by a struct cli_command: its options
 * (struct cli_option) are what its parser accepts and what its --help
 * prints, so the two cannot drift apart. A new command defines its
 * struct cli_command next to its code, declares it below and adds it to
 * cli_commands[] (cli_help.c); it then has --help, "authmilter help NAME"
 * and a line in "authmilter help" for free.
 */
#ifndef AM_CLI_H
#define AM_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Exit codes, documented in authmilter(8). */
#define CLI_EXIT_OK		0
#define CLI_EXIT_ERROR		1	/* configuration, I/O, key, internal */
#define CLI_EXIT_USAGE		2
#define CLI_EXIT_NOT_SIGNED	3	/* sign: nothing was signed */

#define CLI_MAX_OPTIONS		32	/* options of one command */

/* One option of a command: what its parser takes and its --help says. */
struct cli_option {
	const char	*name;		/* the long name, without "--" */
	int		 val;		/* what cli_parser_next() returns */
	bool		 has_short;	/* -val is accepted too */
	const char	*arg;		/* the argument's name; NULL: a flag */
	const char	*help;		/* what it does, in sentences */
};

/* One command: how it is called, what it does, how it ends. */
struct cli_command {
	const char	*name;		/* "check"; "" for the bare daemon */
	int		(*run)(int argc, char **argv);
	const char	*synopsis;	/* the arguments after the name */
	const char	*summary;	/* one line for "authmilter help" */
	const char	*description;	/* a paragraph for --help */
	const struct cli_option *options;	/* ends with a NULL name */
	const char	*exit_status;	/* the exit codes and what they mean */
};

/* The commands, each defined beside its code. */
extern const struct cli_command cli_cmd_run;		/* main.c */
extern const struct cli_command cli_cmd_configtest;	/* cli.c */
extern const struct cli_command cli_cmd_sign;		/* cli.c */
extern const struct cli_command cli_cmd_keygen;		/* cli.c */
extern const struct cli_command cli_cmd_check;		/* cli_check.c */
extern const struct cli_command cli_cmd_stats;		/* cli_stats.c */
extern const struct cli_command cli_cmd_doctor;		/* cli_doctor.c */
extern const struct cli_command cli_cmd_report;		/* cli_report.c */
extern const struct cli_command cli_cmd_help;		/* cli_help.c */
extern const struct cli_command cli_cmd_version;	/* cli_help.c */

/* cli_commands - every command, as "authmilter help" lists them; NULL ends */
extern const struct cli_command *const cli_commands[];

/* cli_command_find - the command called name, or NULL */
const struct cli_command *cli_command_find(const char *name);

/* The getopt_long() tables of one command, built from its options. */
struct cli_parser {
	struct option	 longopts[CLI_MAX_OPTIONS + 1];
	char		 shortopts[2 * CLI_MAX_OPTIONS + 2];
};

/* cli_parser_init - the tables for cmd's options; resets getopt */
void cli_parser_init(struct cli_parser *p, const struct cli_command *cmd);
/* cli_parser_next - getopt_long() over them: an option's val, '?', -1 */
int cli_parser_next(struct cli_parser *p, int argc, char **argv);

/*
 * cli_wants_help - does argv (after the command name) ask for help:
 * "--help" or "-h" before any "--"?
 */
bool cli_wants_help(int argc, char **argv);
/* cli_help_print - the --help text of cmd */
void cli_help_print(FILE *fp, const struct cli_command *cmd);
/*
 * cli_usage - "usage: authmilter NAME SYNOPSIS" and a pointer to --help,
 * on stderr; returns CLI_EXIT_USAGE
 */
int cli_usage(const struct cli_command *cmd);

/*
 * The JSON writers of every command's --json (check, doctor): one string
 * writer, so that the escaping is the same everywhere.
 */
/* cli_json_str - s as a JSON string; invalid UTF-8 becomes U+FFFD */
void cli_json_str(FILE *out, const char *s);
/* cli_json_field - "name": "value", followed by ", " unless last */
void cli_json_field(FILE *out, const char *name, const char *value,
    bool last);

struct config;
struct verdict;

/*
 * cli_config - the configuration a command judges with: path, else
 * CONFIG_DEFAULT_FILE when it exists, else the built-in defaults (*have,
 * when not NULL, says whether a file was read); the n nameservers, when
 * n > 0, replace the configured ones. NULL with FILE:LINE: reason in err.
 */
struct config *cli_config(const char *path, const char *const *nameservers,
    size_t n, bool *have, char *err, size_t errlen);
/* cli_config_nameservers - the n nameservers (n > 0) replace cfg's */
void cli_config_nameservers(struct config *cfg,
    const char *const *nameservers, size_t n);

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
	bool		 sign_only;	/* not outbound: pass it unchecked */
	struct trace	*trace;		/* check --explain, or NULL */
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
int cli_doctor(int argc, char **argv);
int cli_report(int argc, char **argv);

#endif
