/*
 * keytable.h - the KeyTable: key names mapped to (domain, selector, key),
 * in OpenDKIM's file format, one entry per line:
 *
 *	keyname   domain:selector:/path/to/private.key
 *
 * '#' starts a comment; blank lines are ignored. A domain of "%" means the
 * domain of the sender, filled in at signing time. Keys are read when the
 * table is loaded (as root, before privileges are dropped) and kept in
 * memory. Inline key data is refused: keys belong in files with safe modes.
 */
#ifndef AM_KEYTABLE_H
#define AM_KEYTABLE_H

#include <stdbool.h>
#include <stddef.h>

#include "keys.h"

#define KEYTABLE_MAX_ENTRIES	10000
#define KEYTABLE_MAX_LINE	4096
#define KEYTABLE_MAX_LINES	(KEYTABLE_MAX_ENTRIES * 10)	/* comments too */

struct keyentry {
	char		*name;
	char		*domain;	/* "%" = sender's domain */
	char		*selector;
	struct privkey	*key;
};

struct keytable {
	struct keyentry	*entries;
	size_t		 count;
};

struct keytable *keytable_new(void);
void keytable_free(struct keytable *kt);
/*
 * keytable_add - add one entry; takes ownership of key. Returns false if the
 * name is already present.
 */
bool keytable_add(struct keytable *kt, const char *name, const char *domain,
    const char *selector, struct privkey *key);
/*
 * keytable_load - read a KeyTable file ("file:" prefix allowed). On error
 * returns false with "file:line: reason" in err.
 */
bool keytable_load(struct keytable *kt, const char *path, bool require_safe,
    unsigned min_bits, char *err, size_t errlen);
const struct keyentry *keytable_find(const struct keytable *kt,
    const char *name);

#endif
