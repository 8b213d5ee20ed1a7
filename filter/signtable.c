/*
 * NAME
 *	signtable - the SigningTable: which keys sign mail from which sender
 * SYNOPSIS
 *	#include "signtable.h"
#include "textfile.h"
 *
 *	struct signtable *signtable_new(bool wildcard);
 *	void signtable_free(struct signtable *st);
 *	bool signtable_add(struct signtable *st, const char *pattern,
 *	    const char *keyname, const char *signer, unsigned line);
 *	struct signtable *signtable_load(const char *spec, char *err,
 *	    size_t errlen);
 *	size_t signtable_match(const struct signtable *st, const char *local,
 *	    const char *domain, bool multiple,
 *	    const struct signentry **out, size_t max);
 *	bool signtable_covers(const struct signtable *st,
 *	    const struct signentry *e, const char *domain);
 * DESCRIPTION
 *	OpenDKIM's SigningTable file format, one entry per line:
 *
 *		pattern   keyname [signer]
 *
 *	'#' at the start of a line or of a field starts a comment; blank lines
 *	are ignored. Patterns are stored lower-cased.
 *
 *	A "refile:" table holds wildcard patterns ('*' any run, '?' one
 *	character, as util_wildmatch() does) matched against local@domain in
 *	file order.
 *
 *	A plain ("file:" or bare path) table is keyed the way OpenDKIM looks
 *	it up, most specific first: user@host, host, user@.parent for each
 *	parent domain from the nearest outwards, .parent likewise, user@*,
 *	and finally *. For "a.example.com" the parents are ".example.com"
 *	and ".com"; a parent never matches the domain itself. A wildcard
 *	anywhere else in a plain table's pattern can never match, so it is
 *	refused at load time with a pointer to refile:.
 *
 *	Without MultipleSignatures the one entry returned is the first in
 *	that order (the first in the file among equals). With it, every
 *	matching entry is returned in file order, up to the caller's max
 *	and never more than SIGNTABLE_MAX_MATCHES.
 *
 *	The keyname "%" and any "%" in the signer stand for the sender's
 *	domain. They are stored as written; the caller substitutes them
 *	when it builds the signature request.
 * DIAGNOSTICS
 *	signtable_load() returns NULL and writes "file:line: reason" (or
 *	"file: reason" when the file cannot be read) into err. Lines are
 *	bounded by SIGNTABLE_MAX_LINE, entries by SIGNTABLE_MAX_ENTRIES.
 */
#include "buildconf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "signtable.h"
#include "textfile.h"
#include "util.h"

#define SIGNTABLE_PREFIX_RE	"refile:"
#define SIGNTABLE_PREFIX_FILE	"file:"
#define SIGNTABLE_MAX_FIELDS	3	/* pattern keyname signer */
#define SIGNTABLE_MAX_TYPE	16	/* bytes in a "type:" prefix we name */
#define SIGNTABLE_INITIAL_CAP	16

/*
 * The lookup classes of a plain table, most specific first. A match's rank
 * is class * (strlen(domain) + 1) + where in the domain the parent starts,
 * so nearer parents sort before farther ones within a class.
 */
enum signtable_class {
	ST_USER_HOST = 0,	/* user@host */
	ST_HOST,		/* host */
	ST_USER_PARENT,		/* user@.parent */
	ST_PARENT,		/* .parent */
	ST_USER_ANY,		/* user@* */
	ST_ANY,			/* * */
};

/* signtable_new - an empty table; wildcard for refile: patterns */
struct signtable *
signtable_new(bool wildcard)
{
	struct signtable *st = xcalloc(1, sizeof *st);

	st->wildcard = wildcard;
	return st;
}

/* signtable_free - release the table and its entries; NULL is fine */
void
signtable_free(struct signtable *st)
{
	if (st == NULL)
		return;
	for (size_t i = 0; i < st->count; i++) {
		free(st->entries[i].pattern);
		free(st->entries[i].keyname);
		free(st->entries[i].signer);
	}
	free(st->entries);
	free(st);
}

/*
 * signtable_grow - make room for one more entry. The capacity is implied
 * by the count: SIGNTABLE_INITIAL_CAP (a power of two), doubled whenever
 * the count reaches it.
 */
static void
signtable_grow(struct signtable *st)
{
	size_t n = st->count, cap;

	if (n == 0)
		cap = SIGNTABLE_INITIAL_CAP;
	else if (n >= SIGNTABLE_INITIAL_CAP && (n & (n - 1)) == 0)
		cap = n * 2;
	else
		return;
	st->entries = xrealloc(st->entries, cap * sizeof *st->entries);
}

/* signtable_add - append one entry; false if the table is full or bad */
bool
signtable_add(struct signtable *st, const char *pattern, const char *keyname,
    const char *signer, unsigned line)
{
	struct signentry *e;

	if (pattern == NULL || *pattern == '\0' || keyname == NULL ||
	    *keyname == '\0' || st->count >= SIGNTABLE_MAX_ENTRIES)
		return false;
	signtable_grow(st);
	e = &st->entries[st->count++];
	e->pattern = util_strlower(xstrdup(pattern));
	e->keyname = xstrdup(keyname);
	e->signer = signer != NULL && *signer != '\0' ? xstrdup(signer) : NULL;
	e->line = line;
	return true;
}

/*
 * signtable_plain_ok - can this pattern ever match in a plain table? Only
 * "*" and "user@*" may hold a '*' there.
 */
static bool
signtable_plain_ok(const char *pattern)
{
	const char *star = strchr(pattern, '*');
	size_t len = strlen(pattern);

	if (star == NULL || strcmp(pattern, "*") == 0)
		return true;
	/* star is the first '*'; as the last byte it is also the only one */
	return len > 2 && star == pattern + len - 1 && star[-1] == '@' &&
	    pattern[0] != '@';
}

/* What signtable_line needs besides the line. */
struct signtable_ctx {
	struct signtable	*st;
	const char		*file;
};

/* signtable_line - one line of the file into the table; false + why */
static bool
signtable_line(void *arg, char *line, unsigned lineno, char *why,
    size_t whylen)
{
	const struct signtable_ctx *c = arg;
	char *field[SIGNTABLE_MAX_FIELDS];
	size_t n = textfile_split(line, field, SIGNTABLE_MAX_FIELDS);

	if (n == 0)
		return true;
	if (n == 1) {
		snprintf(why, whylen, "missing key name after \"%s\"",
		    field[0]);
		return false;
	}
	if (n > SIGNTABLE_MAX_FIELDS) {
		snprintf(why, whylen, "too many fields "
		    "(expected: pattern keyname [signer])");
		return false;
	}
	if (!c->st->wildcard && !signtable_plain_ok(field[0])) {
		snprintf(why, whylen, "wildcard pattern \"%s\" in a plain "
		    "table never matches; use refile:%s", field[0], c->file);
		return false;
	}
	if (!signtable_add(c->st, field[0], field[1], n == 3 ? field[2] : NULL,
	    lineno)) {
		snprintf(why, whylen, "too many entries (at most %d)",
		    SIGNTABLE_MAX_ENTRIES);
		return false;
	}
	return true;
}

/*
 * signtable_spec - split "refile:PATH", "file:PATH" or "PATH" into the
 * path and the kind; other "type:" prefixes (db:, dsn:, ...) are refused.
 */
static const char *
signtable_spec(const char *spec, bool *wildcard, char *err, size_t errlen)
{
	size_t typelen = strspn(spec, "abcdefghijklmnopqrstuvwxyz0123456789");

	*wildcard = false;
	if (strncmp(spec, SIGNTABLE_PREFIX_RE,
	    sizeof SIGNTABLE_PREFIX_RE - 1) == 0) {
		*wildcard = true;
		return spec + sizeof SIGNTABLE_PREFIX_RE - 1;
	}
	if (strncmp(spec, SIGNTABLE_PREFIX_FILE,
	    sizeof SIGNTABLE_PREFIX_FILE - 1) == 0)
		return spec + sizeof SIGNTABLE_PREFIX_FILE - 1;
	if (typelen > 0 && spec[typelen] == ':') {
		snprintf(err, errlen, "%s: unsupported table type \"%.*s\" "
		    "(use a file path, file:PATH or refile:PATH)", spec,
		    (int)(typelen < SIGNTABLE_MAX_TYPE ? typelen :
		    SIGNTABLE_MAX_TYPE), spec);
		return NULL;
	}
	return spec;
}

/* signtable_load - read a SigningTable named by spec */
struct signtable *
signtable_load(const char *spec, char *err, size_t errlen)
{
	struct signtable_ctx c;
	const char *path;
	bool wildcard;

	path = signtable_spec(spec, &wildcard, err, errlen);
	if (path == NULL)
		return NULL;
	if (*path == '\0') {
		snprintf(err, errlen, "%s: missing file name", spec);
		return NULL;
	}
	c.st = signtable_new(wildcard);
	c.file = path;
	if (!textfile_each(path, SIGNTABLE_MAX_LINE, SIGNTABLE_MAX_LINES,
	    signtable_line, &c, err, errlen)) {
		signtable_free(c.st);
		return NULL;
	}
	return c.st;
}

/* signtable_local_is - is the text before '@' in pattern equal to local? */
static bool
signtable_local_is(const char *pattern, const char *at, const char *local)
{
	size_t len = (size_t)(at - pattern);

	return strlen(local) == len && strncasecmp(pattern, local, len) == 0;
}

/* signtable_parent_at - offset in domain where parent (".x") starts, or -1 */
static long
signtable_parent_at(const char *parent, const char *domain)
{
	size_t plen = strlen(parent), dlen = strlen(domain);

	if (parent[0] != '.' || plen < 2 || plen >= dlen)
		return -1;
	if (strcasecmp(domain + dlen - plen, parent) != 0)
		return -1;
	return (long)(dlen - plen);
}

/* signtable_rank_host - rank of a pattern without '@'; -1 if no match */
static long
signtable_rank_host(const char *p, const char *domain, long stride)
{
	long at;

	if (strcmp(p, "*") == 0)
		return ST_ANY * stride;
	if (strcasecmp(p, domain) == 0)
		return ST_HOST * stride;
	at = signtable_parent_at(p, domain);
	return at < 0 ? -1 : ST_PARENT * stride + at;
}

/*
 * signtable_rank - where a plain-table pattern falls in OpenDKIM's lookup
 * order for local@domain; -1 if it does not match at all.
 */
static long
signtable_rank(const char *p, const char *local, const char *domain)
{
	long stride = (long)strlen(domain) + 1;
	const char *at = strrchr(p, '@');
	long off;

	if (at == NULL)
		return signtable_rank_host(p, domain, stride);
	if (!signtable_local_is(p, at, local))
		return -1;
	if (strcmp(at + 1, "*") == 0)
		return ST_USER_ANY * stride;
	if (strcasecmp(at + 1, domain) == 0)
		return ST_USER_HOST * stride;
	off = signtable_parent_at(at + 1, domain);
	return off < 0 ? -1 : ST_USER_PARENT * stride + off;
}

/* signtable_match_re - refile: patterns against local@domain, file order */
static size_t
signtable_match_re(const struct signtable *st, const char *local,
    const char *domain, size_t max, const struct signentry **out)
{
	size_t n = 0, len = strlen(local) + strlen(domain) + 2;
	char *addr = xmalloc(len);

	snprintf(addr, len, "%s@%s", local, domain);
	for (size_t i = 0; i < st->count && n < max; i++)
		if (util_wildmatch(st->entries[i].pattern, addr))
			out[n++] = &st->entries[i];
	free(addr);
	return n;
}

/* signtable_match_all - every matching plain entry, file order */
static size_t
signtable_match_all(const struct signtable *st, const char *local,
    const char *domain, size_t max, const struct signentry **out)
{
	size_t n = 0;

	for (size_t i = 0; i < st->count && n < max; i++)
		if (signtable_rank(st->entries[i].pattern, local, domain) >= 0)
			out[n++] = &st->entries[i];
	return n;
}

/* signtable_match_best - the most specific plain entry, first among equals */
static size_t
signtable_match_best(const struct signtable *st, const char *local,
    const char *domain, const struct signentry **out)
{
	const struct signentry *best = NULL;
	long best_rank = -1;

	for (size_t i = 0; i < st->count; i++) {
		long r = signtable_rank(st->entries[i].pattern, local, domain);

		if (r >= 0 && (best == NULL || r < best_rank)) {
			best = &st->entries[i];
			best_rank = r;
		}
	}
	if (best == NULL)
		return 0;
	out[0] = best;
	return 1;
}

/* signtable_match - the entries that apply to local@domain */
size_t
signtable_match(const struct signtable *st, const char *local,
    const char *domain, bool multiple, const struct signentry **out,
    size_t max)
{
	if (st == NULL || domain == NULL || max == 0)
		return 0;
	if (local == NULL)
		local = "";
	if (!multiple)
		max = 1;
	if (max > SIGNTABLE_MAX_MATCHES)
		max = SIGNTABLE_MAX_MATCHES;
	if (st->wildcard)
		return signtable_match_re(st, local, domain, max, out);
	if (multiple)
		return signtable_match_all(st, local, domain, max, out);
	return signtable_match_best(st, local, domain, out);
}

/* signtable_covers - may e match some local part at domain? */
bool
signtable_covers(const struct signtable *st, const struct signentry *e,
    const char *domain)
{
	const char *at = strrchr(e->pattern, '@');
	char local[SIGNTABLE_MAX_LINE], *addr;
	size_t len;
	bool m;

	if (st->wildcard) {
		if (at != NULL)
			return util_wildmatch(at + 1, domain);
		/* no '@': the pattern covers the whole address */
		len = strlen(domain) + 2;
		addr = xmalloc(len);
		snprintf(addr, len, "@%s", domain);
		m = util_wildmatch(e->pattern, addr);
		free(addr);
		return m;
	}
	len = at != NULL ? (size_t)(at - e->pattern) : 0;
	if (len >= sizeof(local))
		return false;
	memcpy(local, e->pattern, len);
	local[len] = '\0';
	return signtable_rank(e->pattern, local, domain) >= 0;
}
