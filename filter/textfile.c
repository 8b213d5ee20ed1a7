/*
 * NAME
 *	textfile - bounded reading of line-oriented configuration files
 * SYNOPSIS
 *	#include "textfile.h"
 *
 *	textfile_each(path, maxline, maxlines, fn, arg, err, errlen)
 *	n = textfile_split(line, field, max)
 *	textfile_error(err, errlen, file, line, fmt, ...)
 * DESCRIPTION
 *	Files are opened with util_fopen_regular() (a FIFO or a device would
 *	block or never end) and read with a buffer of maxline bytes: a longer
 *	line is an error, never silently cut in two. The caller's function
 *	sees each line with its number and says why it refuses one; the
 *	reader names the file and the line.
 * DIAGNOSTICS
 *	"file: cannot open: reason", "file:N: line too long (at most M
 *	bytes)", "file:N: too many lines (at most M)", "file:N: read error:
 *	reason", or "file:N: " and the caller's reason.
 */
#include "buildconf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "textfile.h"
#include "util.h"

/* textfile_error - format a located reason */
void
textfile_error(char *err, size_t errlen, const char *file, unsigned line,
    const char *fmt, ...)
{
	char why[TEXTFILE_WHYLEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (line == 0)
		snprintf(err, errlen, "%s: %s", file, why);
	else
		snprintf(err, errlen, "%s:%u: %s", file, line, why);
}

/* textfile_each - hand every line to fn */
bool
textfile_each(const char *path, size_t maxline, unsigned maxlines,
    textfile_line_fn fn, void *arg, char *err, size_t errlen)
{
	char *line = xmalloc(maxline + 2);	/* the newline and the NUL */
	char why[TEXTFILE_WHYLEN];
	unsigned lineno = 0;
	bool ok = true;
	FILE *fp;

	fp = util_fopen_regular(path);
	if (fp == NULL) {
		textfile_error(err, errlen, path, 0, "cannot open: %s",
		    util_open_error(errno));
		free(line);
		return false;
	}
	while (ok && fgets(line, (int)maxline + 2, fp) != NULL) {
		if (++lineno > maxlines) {
			textfile_error(err, errlen, path, lineno,
			    "too many lines (at most %u)", maxlines);
			ok = false;
		} else if (strchr(line, '\n') == NULL && !feof(fp)) {
			textfile_error(err, errlen, path, lineno,
			    "line too long (at most %zu bytes)", maxline);
			ok = false;
		} else if (!fn(arg, line, lineno, why, sizeof(why))) {
			textfile_error(err, errlen, path, lineno, "%s", why);
			ok = false;
		}
	}
	if (ok && ferror(fp)) {
		textfile_error(err, errlen, path, lineno + 1,
		    "read error: %s", strerror(errno));
		ok = false;
	}
	fclose(fp);
	free(line);
	return ok;
}

/* textfile_split - fields in place, up to a comment */
size_t
textfile_split(char *line, char **field, size_t max)
{
	size_t n = 0;
	char *p = line;

	for (;;) {
		p += strspn(p, " \t\r\n");
		if (*p == '\0' || *p == '#')
			return n;
		if (n == max)
			return n + 1;
		field[n++] = p;
		p += strcspn(p, " \t\r\n");
		if (*p != '\0')
			*p++ = '\0';
	}
}
