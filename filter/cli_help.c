/*
 * NAME
 *	cli_help - the commands, their options and their help texts
 * SYNOPSIS
 *	#include "cli.h"
 *
 *	const struct cli_command *cli_command_find(name)
 *	void cli_parser_init(p, cmd); c = cli_parser_next(p, argc, argv)
 *	bool cli_wants_help(argc, argv)
 *	void cli_help_print(fp, cmd)
 *	int cli_usage(cmd)
 *	authmilter help [COMMAND]
 *	authmilter version
 * DESCRIPTION
 *	Each command is described once, by the struct cli_command next to
 *	its code. This module turns that description into the getopt_long()
 *	tables the command parses its arguments with, into its --help text,
 *	and into the list "authmilter help" prints, so an option cannot be
 *	accepted without being described. cli_commands[] is the registry;
 *	main() dispatches through it and answers --help (or -h) for every
 *	command before the command runs.
 *
 *	Help texts are wrapped at CLI_HELP_WIDTH columns.
 * DIAGNOSTICS
 *	"authmilter help NAME" for an unknown NAME is a usage error (exit 2).
 */
#include "buildconf.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define CLI_HELP_WIDTH		78	/* columns of help text */
#define CLI_HELP_INDENT		8	/* columns before an option's text */
#define CLI_HELP_NAMECOL	14	/* columns of a command name in the list */

/* cli_commands - the registry, in the order "authmilter help" lists them */
const struct cli_command *const cli_commands[] = {
	&cli_cmd_run,
	&cli_cmd_configtest,
	&cli_cmd_sign,
	&cli_cmd_check,
	&cli_cmd_keygen,
	&cli_cmd_doctor,
	&cli_cmd_report,
	&cli_cmd_stats,
	&cli_cmd_help,
	&cli_cmd_version,
	NULL
};

/* cli_command_find - a command by name */
const struct cli_command *
cli_command_find(const char *name)
{
	for (size_t i = 0; cli_commands[i] != NULL; i++)
		if (strcmp(cli_commands[i]->name, name) == 0)
			return cli_commands[i];
	return NULL;
}

/* cli_parser_init - getopt_long()'s tables for the options of cmd */
void
cli_parser_init(struct cli_parser *p, const struct cli_command *cmd)
{
	size_t n = 0, s = 0;

	memset(p, 0, sizeof(*p));
	for (const struct cli_option *o = cmd->options;
	    o != NULL && o->name != NULL && n < CLI_MAX_OPTIONS; o++, n++) {
		p->longopts[n].name = o->name;
		p->longopts[n].has_arg = o->arg != NULL ? required_argument :
		    no_argument;
		p->longopts[n].flag = NULL;
		p->longopts[n].val = o->val;
		if (o->has_short) {
			p->shortopts[s++] = (char)o->val;
			if (o->arg != NULL)
				p->shortopts[s++] = ':';
		}
	}
	p->shortopts[s] = '\0';
	optind = 0;		/* glibc: a full re-initialisation */
}

/* cli_parser_next - the next option, '?' for a bad one, -1 at the end */
int
cli_parser_next(struct cli_parser *p, int argc, char **argv)
{
	return getopt_long(argc, argv, p->shortopts, p->longopts, NULL);
}

/* cli_wants_help - "--help" or "-h" among the arguments, before "--" */
bool
cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return false;
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			return true;
	}
	return false;
}

/*
 * cli_help_wrap - text in lines of at most CLI_HELP_WIDTH columns, each
 * indented by indent; a "\n" in text starts a new line
 */
static void
cli_help_wrap(FILE *fp, const char *text, int indent)
{
	int col = 0;

	while (*text != '\0') {
		size_t word = strcspn(text, " \n");

		if (col > indent && col + 1 + (int)word > CLI_HELP_WIDTH) {
			fputc('\n', fp);
			col = 0;
		}
		if (col == 0) {
			fprintf(fp, "%*s", indent, "");
			col = indent;
		} else {
			fputc(' ', fp);
			col++;
		}
		fwrite(text, 1, word, fp);
		col += (int)word;
		text += word;
		if (*text == '\n') {
			fputc('\n', fp);
			col = 0;
		}
		while (*text == ' ' || *text == '\n')
			text++;
	}
	if (col > 0)
		fputc('\n', fp);
}

/* cli_help_name - "authmilter" or "authmilter NAME" */
static void
cli_help_name(FILE *fp, const struct cli_command *cmd)
{
	fprintf(fp, "authmilter%s%s", cmd->name[0] ? " " : "", cmd->name);
}

/* cli_help_print - the --help text of one command */
void
cli_help_print(FILE *fp, const struct cli_command *cmd)
{
	fputs("usage: ", fp);
	cli_help_name(fp, cmd);
	fprintf(fp, "%s%s\n\n", cmd->synopsis[0] ? " " : "", cmd->synopsis);
	cli_help_wrap(fp, cmd->description, 0);
	fputs("\nOptions:\n", fp);
	for (const struct cli_option *o = cmd->options;
	    o != NULL && o->name != NULL; o++) {
		fputs("  ", fp);
		if (o->has_short)
			fprintf(fp, "-%c, ", o->val);
		fprintf(fp, "--%s%s%s\n", o->name, o->arg ? " " : "",
		    o->arg ? o->arg : "");
		cli_help_wrap(fp, o->help, CLI_HELP_INDENT);
	}
	fputs("  -h, --help\n", fp);
	cli_help_wrap(fp, "Print this help and exit.", CLI_HELP_INDENT);
	fputs("\nExit status:\n", fp);
	cli_help_wrap(fp, cmd->exit_status, 2);
	fputs("\nSee authmilter(8) and authmilter.conf(5).\n", fp);
}

/* cli_usage - a usage error: the synopsis and where help is */
int
cli_usage(const struct cli_command *cmd)
{
	fputs("usage: ", stderr);
	cli_help_name(stderr, cmd);
	fprintf(stderr, "%s%s\n", cmd->synopsis[0] ? " " : "",
	    cmd->synopsis);
	fputs("(", stderr);
	cli_help_name(stderr, cmd);
	fputs(" --help describes every option)\n", stderr);
	return CLI_EXIT_USAGE;
}

/* cli_help_list - every command with its one line */
static void
cli_help_list(FILE *fp)
{
	fputs("usage: authmilter COMMAND [OPTIONS] [ARGUMENTS]\n"
	    "       authmilter [-f] [-c FILE]       (the daemon: \"run\")\n\n"
	    "Commands:\n", fp);
	for (size_t i = 0; cli_commands[i] != NULL; i++)
		fprintf(fp, "  %-*s%s\n", CLI_HELP_NAMECOL,
		    cli_commands[i]->name, cli_commands[i]->summary);
	fputs("\n\"authmilter help COMMAND\" or \"authmilter COMMAND --help\" "
	    "describes a command\nand every option it takes. See authmilter(8) "
	    "and authmilter.conf(5).\n", fp);
}

static const struct cli_option cli_help_options[] = {
	{ NULL, 0, false, NULL, NULL }
};

/* cli_help - "authmilter help [COMMAND]" */
static int
cli_help(int argc, char **argv)
{
	const struct cli_command *cmd;
	struct cli_parser p;

	cli_parser_init(&p, &cli_cmd_help);
	if (cli_parser_next(&p, argc, argv) != -1 || argc - optind > 1)
		return cli_usage(&cli_cmd_help);
	if (optind == argc) {
		cli_help_list(stdout);
		return CLI_EXIT_OK;
	}
	if ((cmd = cli_command_find(argv[optind])) == NULL) {
		fprintf(stderr, "authmilter: unknown command \"%s\"\n",
		    argv[optind]);
		cli_help_list(stderr);
		return CLI_EXIT_USAGE;
	}
	cli_help_print(stdout, cmd);
	return CLI_EXIT_OK;
}

const struct cli_command cli_cmd_help = {
	.name = "help",
	.run = cli_help,
	.synopsis = "[COMMAND]",
	.summary = "list the commands, or describe one and its options",
	.description = "Without an argument, list every command with one line "
	    "about it. With the name of a command, print what that command "
	    "does, each of its options, and its exit status: the same text "
	    "as \"authmilter COMMAND --help\".",
	.options = cli_help_options,
	.exit_status = "0 the help was printed; 2 an unknown command or a "
	    "usage error.",
};

/* cli_version - "authmilter version" */
static int
cli_version(int argc, char **argv)
{
	struct cli_parser p;

	cli_parser_init(&p, &cli_cmd_version);
	if (cli_parser_next(&p, argc, argv) != -1 || optind != argc)
		return cli_usage(&cli_cmd_version);
	printf("authmilter %s\n", PACKAGE_VERSION);
	return CLI_EXIT_OK;
}

const struct cli_command cli_cmd_version = {
	.name = "version",
	.run = cli_version,
	.synopsis = "",
	.summary = "print the version",
	.description = "Print \"authmilter\" and the version of this build, "
	    "as \"authmilter -V\" does.",
	.options = cli_help_options,
	.exit_status = "0; 2 on a usage error.",
};
