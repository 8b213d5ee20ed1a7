/*
 * signtable.h - the SigningTable: which key(s) sign mail from which sender,
 * in OpenDKIM's file format, one entry per line:
 *
 *	pattern   keyname [signer]
 *
 * As "refile:PATH" the patterns are wildcards ('*') matched against the
 * sender address user@domain, in file order. As a plain "PATH" (or
 * "file:PATH") the keys are looked up the way OpenDKIM does: user@host, host,
 * user@.parent for each parent domain, .parent, user@*, then *. The optional
 * signer is the i= value; "%" in it or as the keyname is the sender's domain.
 * With MultipleSignatures every matching entry is returned (in file order),
 * otherwise only the first.
 */
#ifndef AM_SIGNTABLE_H
#define AM_SIGNTABLE_H

#include <stdbool.h>
#include <stddef.h>

#define SIGNTABLE_MAX_ENTRIES	100000
#define SIGNTABLE_MAX_LINE	4096
#define SIGNTABLE_MAX_LINES	(SIGNTABLE_MAX_ENTRIES * 10)	/* comments too */
#define SIGNTABLE_MAX_MATCHES	8	/* signatures one message can get */

struct signentry {
	char	*pattern;	/* lower-cased */
	char	*keyname;
	char	*signer;	/* may be NULL */
	unsigned line;
};

struct signtable {
	struct signentry *entries;
	size_t		  count;
	bool		  wildcard;	/* refile: patterns */
};

struct signtable *signtable_new(bool wildcard);
void signtable_free(struct signtable *st);
bool signtable_add(struct signtable *st, const char *pattern,
    const char *keyname, const char *signer, unsigned line);
/*
 * signtable_load - read a SigningTable; spec is "refile:PATH", "file:PATH" or
 * "PATH". On error returns NULL with "file:line: reason" in err.
 */
struct signtable *signtable_load(const char *spec, char *err, size_t errlen);
/*
 * signtable_match - fill out[] with up to max matching entries for the
 * address local@domain (domain lower-case); returns how many. With
 * multiple == false at most one.
 */
size_t signtable_match(const struct signtable *st, const char *local,
    const char *domain, bool multiple, const struct signentry **out,
    size_t max);
/*
 * signtable_covers - can entry e of st match some sender at domain (lower
 * case), whatever the local part? For tools that list the keys of a
 * domain (authmilter doctor); a refile: pattern is matched with the
 * local part taken as anything.
 */
bool signtable_covers(const struct signtable *st, const struct signentry *e,
    const char *domain);

#endif
