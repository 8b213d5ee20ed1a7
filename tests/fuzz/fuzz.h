/*
 * fuzz.h - helpers shared by the libFuzzer harnesses of tests/fuzz/: input
 * split into fields, a private temporary directory, files written there,
 * and the check that turns a broken invariant into a crash libFuzzer
 * reports.
 *
 * Header-only (static inline), like tests/unit/testutil.h, so that each
 * harness is one .c file linked with the engine and nothing else. Include
 * "buildconf.h" first (mkdtemp() and nftw() need _GNU_SOURCE).
 */
#ifndef AM_FUZZ_H
#define AM_FUZZ_H

#include <sys/stat.h>
#include <sys/types.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FUZZ_MAX_FIELDS		16	/* fields one input is split into */
#define FUZZ_MAX_PATH		4096	/* bytes in one path */
#define FUZZ_NFTW_FDS		16	/* descriptors nftw() may hold open */

/* The entry points libFuzzer calls (each harness defines the first). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/*
 * FUZZ_CHECK - an invariant of the code under test: when it does not hold,
 * say which and abort, which libFuzzer reports as a crash with the input.
 */
#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant broken: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

/* fuzz_strdup - the input as a NUL-terminated heap string (stops at a NUL) */
static inline char *
fuzz_strdup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	FUZZ_CHECK(s != NULL);
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/*
 * fuzz_fields - split the input at the byte sep into at most n fields,
 * NUL-terminated, in one heap block that the caller frees (*block); the
 * last field takes the rest. Returns how many fields there are (>= 1).
 */
static inline size_t
fuzz_fields(const uint8_t *data, size_t size, char sep, char **field,
    size_t n, char **block)
{
	char *s = fuzz_strdup(data, size), *p = s, *q;
	size_t k = 0;

	/* the copy stops at an embedded NUL, as a C string would */
	while (k + 1 < n && (q = strchr(p, sep)) != NULL) {
		*q = '\0';
		field[k++] = p;
		p = q + 1;
	}
	field[k++] = p;
	*block = s;
	return k;
}

/* fuzz_rm_one - nftw() callback: remove one entry */
static inline int
fuzz_rm_one(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static char fuzz_dir_path[FUZZ_MAX_PATH];

/* fuzz_dir_remove - atexit(): remove the temporary directory */
static inline void
fuzz_dir_remove(void)
{
	if (fuzz_dir_path[0] != '\0')
		(void)nftw(fuzz_dir_path, fuzz_rm_one, FUZZ_NFTW_FDS,
		    FTW_DEPTH | FTW_PHYS);
}

/*
 * fuzz_dir - a private directory (mode 0700) under $TMPDIR or /tmp, made
 * on the first call and removed at exit; aborts when it cannot be made.
 */
static inline const char *
fuzz_dir(void)
{
	const char *tmp = getenv("TMPDIR");
	int n;

	if (fuzz_dir_path[0] != '\0')
		return fuzz_dir_path;
	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	n = snprintf(fuzz_dir_path, sizeof(fuzz_dir_path),
	    "%s/authmilter-fuzz.XXXXXX", tmp);
	FUZZ_CHECK(n > 0 && (size_t)n < sizeof(fuzz_dir_path));
	FUZZ_CHECK(mkdtemp(fuzz_dir_path) != NULL);
	atexit(fuzz_dir_remove);
	return fuzz_dir_path;
}

/* fuzz_path - "dir/name" in the private directory, written into out */
static inline const char *
fuzz_path(const char *name, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s/%s", fuzz_dir(), name);

	FUZZ_CHECK(n > 0 && (size_t)n < outlen);
	return out;
}

/* fuzz_write - replace the file path with len bytes of data, mode 0600 */
static inline void
fuzz_write(const char *path, const void *data, size_t len)
{
	const char *p = data;
	ssize_t w;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FUZZ_CHECK(fd >= 0);
	while (len > 0) {
		w = write(fd, p, len);
		FUZZ_CHECK(w > 0);
		p += w;
		len -= (size_t)w;
	}
	FUZZ_CHECK(close(fd) == 0);
}

/*
 * fuzz_subst - the input with every "$D" replaced by the private
 * directory, so that seeds can name the files a harness writes there
 * (heap string, caller frees; stops at an embedded NUL)
 */
static inline char *
fuzz_subst(const uint8_t *data, size_t size)
{
	const char *dir = fuzz_dir(), *p;
	char *in = fuzz_strdup(data, size), *out, *o;
	size_t dlen = strlen(dir), count = 0;

	for (p = in; (p = strstr(p, "$D")) != NULL; p += 2)
		count++;
	out = malloc(strlen(in) + count * dlen + 1);
	FUZZ_CHECK(out != NULL);
	for (p = in, o = out; *p != '\0';) {
		if (p[0] == '$' && p[1] == 'D') {
			memcpy(o, dir, dlen);
			o += dlen;
			p += 2;
		} else
			*o++ = *p++;
	}
	*o = '\0';
	free(in);
	return out;
}

#endif
