/*
 * NAME
 *	log - one logging facility for the daemon and the command line
 * SYNOPSIS
 *	#include "log.h"
 * DESCRIPTION
 *	Lines go to syslog (when enabled) and to stderr (in the foreground and
 *	for the CLI). stderr lines carry the program name and the priority.
 *	The state is set once at start-up, before any thread exists.
 */
#include "buildconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

static bool log_to_syslog;
static bool log_to_stderr = true;
static int log_level = LOG_INFO;
static const char *log_ident = "authmilter";

void
log_open(const char *ident, bool use_syslog, int facility, bool use_stderr)
{
	log_ident = ident;
	log_to_stderr = use_stderr;
	if (log_to_syslog)
		closelog();
	log_to_syslog = use_syslog;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, facility);
}

void
log_set_level(int level)
{
	log_level = level;
}

static const char *
log_prio_name(int prio)
{
	switch (prio) {
	case LOG_EMERG: case LOG_ALERT: case LOG_CRIT: return "fatal";
	case LOG_ERR: return "error";
	case LOG_WARNING: return "warning";
	case LOG_NOTICE: return "notice";
	case LOG_INFO: return "info";
	default: return "debug";
	}
}

void
log_msg(int priority, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	if (priority > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_to_syslog)
		syslog(priority, "%s", line);
	if (log_to_stderr)
		fprintf(stderr, "%s: %s: %s\n", log_ident,
		    log_prio_name(priority), line);
}

int
log_facility(const char *name)
{
	static const struct { const char *name; int fac; } map[] = {
		{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON },
		{ "user", LOG_USER },
		{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
		{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
		{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
		{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcasecmp(name, map[i].name) == 0)
			return map[i].fac;
	return -1;
}

void
log_close(void)
{
	if (log_to_syslog)
		closelog();
	log_to_syslog = false;
}
