/*
 * testutil.h - small helpers for the unit tests: a private temporary
 * directory, files with given content and mode, shell commands.
 *
 * Header-only: every function is static inline, so a test that uses only
 * some of them still compiles warning-free. Helpers report failure by their
 * return value (NULL, -1, false) and leave the asserting to the test, so
 * this file does not depend on cmocka. Include "buildconf.h" (or define
 * _GNU_SOURCE) before this header: mkdtemp() and nftw() need it.
 */
#ifndef AM_TESTUTIL_H
#define AM_TESTUTIL_H

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TU_MAX_CMD	4096	/* bytes in one shell command */
#define TU_MAX_PATH	4096	/* bytes in one path */
#define TU_NFTW_FDS	16	/* descriptors nftw() may hold open */

/*
 * tu_mkdtemp - make a fresh directory (mode 0700) under $TMPDIR or /tmp,
 * named after prefix; returns its path (caller frees) or NULL.
 */
static inline char *
tu_mkdtemp(const char *prefix)
{
	const char *tmp = getenv("TMPDIR");
	char path[TU_MAX_PATH];
	int n;

	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	n = snprintf(path, sizeof path, "%s/%s.XXXXXX", tmp,
	    prefix != NULL ? prefix : "authmilter-test");
	if (n < 0 || (size_t)n >= sizeof path || mkdtemp(path) == NULL)
		return NULL;
	return strdup(path);
}

/* tu_path - "dir/name" (caller frees), or NULL if too long */
static inline char *
tu_path(const char *dir, const char *name)
{
	char path[TU_MAX_PATH];
	int n = snprintf(path, sizeof path, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= sizeof path)
		return NULL;
	return strdup(path);
}

/*
 * tu_write_file - create (or replace) dir/name with content and exactly
 * the given mode (not masked by the umask); returns the path (caller
 * frees) or NULL.
 */
static inline char *
tu_write_file(const char *dir, const char *name, const char *content,
    mode_t mode)
{
	char *path = tu_path(dir, name);
	size_t len = strlen(content), off = 0;
	int fd;

	if (path == NULL)
		return NULL;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		goto fail;
	while (off < len) {
		ssize_t n = write(fd, content + off, len - off);

		if (n <= 0) {
			close(fd);
			goto fail;
		}
		off += (size_t)n;
	}
	if (close(fd) != 0 || chmod(path, mode) != 0)
		goto fail;
	return path;
fail:
	free(path);
	return NULL;
}

/*
 * tu_run - run a shell command given printf-style; returns its exit
 * status, or -1 if it could not run or did not exit normally.
 */
static inline int
tu_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static inline int
tu_run(const char *fmt, ...)
{
	char cmd[TU_MAX_CMD];
	va_list ap;
	int n, status;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof cmd)
		return -1;
	fflush(NULL);
	status = system(cmd);
	if (status == -1 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* tu_rm_one - nftw() callback: remove one file or (emptied) directory */
static inline int
tu_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* tu_rmtree - remove dir and everything below it; true on success */
static inline bool
tu_rmtree(const char *dir)
{
	if (dir == NULL)
		return true;
	return nftw(dir, tu_rm_one, TU_NFTW_FDS, FTW_DEPTH | FTW_PHYS) == 0;
}

/*
 * tu_genkey - make a private key dir/name with "openssl genpkey ALG_OPTS",
 * or, when that fails and fallback is given, "openssl FALLBACK" (an older
 * command for keys genpkey refuses); chmod it to mode. Path or NULL.
 */
static inline char *
tu_genkey(const char *dir, const char *name, const char *alg_opts,
    const char *fallback, mode_t mode)
{
	char *path = tu_path(dir, name);

	if (path == NULL)
		return NULL;
	if ((tu_run("openssl genpkey %s -out '%s' 2>/dev/null", alg_opts,
	    path) != 0 && (fallback == NULL ||
	    tu_run("openssl %s -out '%s' 2>/dev/null", fallback, path) != 0)) ||
	    chmod(path, mode) != 0) {
		free(path);
		return NULL;
	}
	return path;
}

/* tu_contains - does haystack contain needle? (for checking messages) */
static inline bool
tu_contains(const char *haystack, const char *needle)
{
	return haystack != NULL && needle != NULL &&
	    strstr(haystack, needle) != NULL;
}

#endif
