/*
 * NAME
 *	main - authmilter's entry point: the daemon or a CLI command
 * SYNOPSIS
 *	authmilter [-f] [-c FILE]
 *	authmilter run [-f] [-c FILE]
 *	authmilter configtest|sign|keygen|check|stats|report ...
 * DESCRIPTION
 *	Dispatches on the first argument; see authmilter(8).
 */
#include "buildconf.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "daemon.h"

static const char main_usage_text[] =
	"usage: authmilter [run] [-f] [-c FILE]     run the milter daemon\n"
	"       authmilter configtest -c FILE        check a configuration\n"
	"       authmilter sign [-c FILE] [--auth-user USER] [--client-ip IP]\n"
	"                       [--mail-from ADDR] [FILE|-]\n"
	"       authmilter check [-c FILE] [--nameserver IP[:PORT]]... --client-ip IP\n"
	"                       --helo NAME --mail-from ADDR [--rcpt ADDR]...\n"
	"                       [--authserv-id ID] [--json] [FILE|-]\n"
	"       authmilter keygen --domain D --selector S [--algorithm rsa|ed25519]\n"
	"                       [--bits N] [--directory DIR]\n"
	"       authmilter stats [-c FILE] [--listen HOST:PORT] [--raw]\n"
	"       authmilter report [-c FILE] [--from YYYY-MM-DD] [--to YYYY-MM-DD]\n"
	"                       [--dry-run] [--output DIR]\n"
	"       authmilter -V | -h\n";

/* main_run - the daemon's options */
static int
main_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *path = CONFIG_DEFAULT_FILE;
	bool foreground = false;
	int c;

	while ((c = getopt_long(argc, argv, "c:fVh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'f': foreground = true; break;
		case 'V':
			printf("authmilter %s\n", PACKAGE_VERSION);
			return CLI_EXIT_OK;
		case 'h':
			fputs(main_usage_text, stdout);
			return CLI_EXIT_OK;
		default:
			fputs(main_usage_text, stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fputs(main_usage_text, stderr);
		return CLI_EXIT_USAGE;
	}
	return daemon_main(path, foreground);
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = {
		{ "run", main_run },
		{ "configtest", cli_configtest },
		{ "sign", cli_sign },
		{ "keygen", cli_keygen },
		{ "check", cli_check },
		{ "stats", cli_stats },
		{ "report", cli_report },
	};

	if (argc > 1 && argv[1][0] != '-') {
		for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
			if (strcmp(argv[1], cmds[i].name) == 0)
				return cmds[i].fn(argc - 1, argv + 1);
		fprintf(stderr, "authmilter: unknown command \"%s\"\n",
		    argv[1]);
		fputs(main_usage_text, stderr);
		return CLI_EXIT_USAGE;
	}
	return main_run(argc, argv);
}
