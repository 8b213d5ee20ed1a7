/*
 * textfile.h - the line-oriented files of the configuration (authmilter.conf,
 * KeyTable, SigningTable, lists of hosts or domains): read one line at a
 * time with bounds, split into fields, errors as "file:line: reason".
 *
 * Knows nothing of mail; every reader of such a file uses it, so the bounds
 * and the wording of errors are the same everywhere.
 */
#ifndef AM_TEXTFILE_H
#define AM_TEXTFILE_H

#include <stdbool.h>
#include <stddef.h>

#define TEXTFILE_WHYLEN		512	/* room for one reason */

/*
 * One line: its text (NUL-terminated, the line end still there), its
 * number from 1. Returns false with a reason in why, which the reader
 * turns into "file:line: why".
 */
typedef bool (*textfile_line_fn)(void *arg, char *line, unsigned lineno,
    char *why, size_t whylen);

/*
 * textfile_each - every line of path (a regular file: see
 * util_fopen_regular) to fn, in order, until fn refuses one. A line over
 * maxline bytes, more than maxlines lines, a file that cannot be opened or
 * read are errors too. False with "file:line: reason" in err.
 */
bool textfile_each(const char *path, size_t maxline, unsigned maxlines,
    textfile_line_fn fn, void *arg, char *err, size_t errlen);

/*
 * textfile_split - cut line into at most max white-space separated fields,
 * in place, stopping at a field that starts with '#'. Returns the number
 * of fields, or max + 1 when there are more.
 */
size_t textfile_split(char *line, char **field, size_t max);

/* textfile_error - "file:line: reason" (line 0: "file: reason") into err */
void textfile_error(char *err, size_t errlen, const char *file,
    unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif
