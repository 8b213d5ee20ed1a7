/*
 * NAME
 *	log - one logging facility for the daemon and the command line
 * SYNOPSIS
 *	#include "log.h"
 * DESCRIPTION
 *	Lines go to syslog (when enabled) and to stderr (in the foreground and
 *	for the CLI). stderr lines carry the program name and the priority.
 *	A line longer than LOG_LINE_MAX bytes is cut there.
 *	The state is set once at start-up, before any thread exists.
 */
#include "buildconf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX	2048	/* bytes of a line, longer ones are cut */
#define LOG_PREFIX_MAX	128	/* bytes of "ident: priority: " on stderr */

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

/* log_write - all of buf to fd, in one write(2) unless it is cut short */
static void
log_write(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;		/* nowhere else to say it */
		buf += n;
		len -= (size_t)n;
	}
}

/*
 * log_msg - the line is formatted once, after room for the stderr prefix,
 * and goes to stderr in one write(2): no stdio lock held across the
 * system call, so threads logging at once do not queue behind each other
 */
void
log_msg(int priority, const char *fmt, ...)
{
	char out[LOG_PREFIX_MAX + LOG_LINE_MAX + 1], *line;
	size_t pre, len;
	va_list ap;
	int n;

	if (priority > log_level)
		return;
	n = snprintf(out, LOG_PREFIX_MAX, "%s: %s: ", log_ident,
	    log_prio_name(priority));
	pre = n < 0 ? 0 : (size_t)n >= LOG_PREFIX_MAX ? LOG_PREFIX_MAX - 1 :
	    (size_t)n;
	line = out + pre;
	va_start(ap, fmt);
	n = vsnprintf(line, LOG_LINE_MAX, fmt, ap);
	va_end(ap);
	len = n < 0 ? 0 : (size_t)n >= LOG_LINE_MAX ? LOG_LINE_MAX - 1 :
	    (size_t)n;
	line[len] = '\0';
	if (log_to_syslog)
		syslog(priority, "%s", line);
	if (log_to_stderr) {
		line[len] = '\n';
		log_write(STDERR_FILENO, out, pre + len + 1);
	}
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
