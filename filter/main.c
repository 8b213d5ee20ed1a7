/*
 * NAME
 *	main - authmilter's entry point: the daemon or a CLI command
 * SYNOPSIS
 *	authmilter [-f] [-c FILE]
 *	authmilter run [-f] [-c FILE]
 *	authmilter COMMAND [ARGS]	(cli_commands[] of cli_help.c)
 *	authmilter help [COMMAND]; authmilter COMMAND --help
 * DESCRIPTION
 *	Dispatches on the first argument through the registry of commands;
 *	"--help" or "-h" anywhere before "--" prints the command's help
 *	instead of running it. Without a command (or with an option first)
 *	it is the daemon. See authmilter(8).
 */
#include "buildconf.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "daemon.h"

static const struct cli_option main_run_options[] = {
	{ "config", 'c', true, "FILE", "Read the configuration from FILE. "
	    "Default: " CONFIG_DEFAULT_FILE "." },
	{ "foreground", 'f', true, NULL, "Stay in the foreground and log to "
	    "standard error as well as to syslog (when Syslog is on). Use it "
	    "under systemd and other supervisors." },
	{ "version", 'V', true, NULL, "Print the version and exit." },
	{ NULL, 0, false, NULL, NULL }
};

/* main_run - the daemon's options */
static int
main_run(int argc, char **argv)
{
	const char *path = CONFIG_DEFAULT_FILE;
	bool foreground = false;
	struct cli_parser p;
	int c;

	cli_parser_init(&p, &cli_cmd_run);
	while ((c = cli_parser_next(&p, argc, argv)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'f': foreground = true; break;
		case 'V':
			printf("authmilter %s\n", PACKAGE_VERSION);
			return CLI_EXIT_OK;
		default:
			return cli_usage(&cli_cmd_run);
		}
	}
	if (optind != argc)
		return cli_usage(&cli_cmd_run);
	return daemon_main(path, foreground);
}

const struct cli_command cli_cmd_run = {
	.name = "run",
	.run = main_run,
	.synopsis = "[-f] [-c FILE]",
	.summary = "run the milter daemon (also what \"authmilter\" alone does)",
	.description = "Run the milter daemon: read the configuration and the "
	    "keys it names, open the Socket (and write the PidFile), switch to "
	    "UserID if one is set, and serve the MTA. Without -f it detaches "
	    "from the terminal and logs to syslog only. SIGHUP reloads the "
	    "configuration; SIGTERM stops the daemon after the messages in "
	    "flight.",
	.options = main_run_options,
	.exit_status = "0 after a clean stop; 1 when the configuration, a key "
	    "or the socket is bad (FILE:LINE: reason on standard error); 2 on "
	    "a usage error.",
};

/* main_help_asked - "authmilter -h" or "--help" with no command */
static bool
main_help_asked(int argc, char **argv)
{
	return argc > 1 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0);
}

int
main(int argc, char **argv)
{
	const struct cli_command *cmd;

	if (main_help_asked(argc, argv))
		return cli_cmd_help.run(1, argv);
	if (argc < 2 || argv[1][0] == '-') {
		/* "authmilter [-f] [-c FILE]": the daemon */
		if (cli_wants_help(argc, argv)) {
			cli_help_print(stdout, &cli_cmd_run);
			return CLI_EXIT_OK;
		}
		return main_run(argc, argv);
	}
	if ((cmd = cli_command_find(argv[1])) == NULL) {
		fprintf(stderr, "authmilter: unknown command \"%s\" (\"authmilter "
		    "help\" lists them)\n", argv[1]);
		return CLI_EXIT_USAGE;
	}
	if (cli_wants_help(argc - 1, argv + 1)) {
		cli_help_print(stdout, cmd);
		return CLI_EXIT_OK;
	}
	return cmd->run(argc - 1, argv + 1);
}
