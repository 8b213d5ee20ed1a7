/*
 * NAME
 *	keytable - the KeyTable: key names mapped to domain, selector and key
 * SYNOPSIS
 *	#include "keytable.h"
#include "textfile.h"
 *
 *	struct keytable *keytable_new(void);
 *	void keytable_free(struct keytable *kt);
 *	bool keytable_add(struct keytable *kt, const char *name,
 *	    const char *domain, const char *selector, struct privkey *key);
 *	bool keytable_load(struct keytable *kt, const char *path,
 *	    bool require_safe, unsigned min_bits, char *err, size_t errlen);
 *	const struct keyentry *keytable_find(const struct keytable *kt,
 *	    const char *name);
 * DESCRIPTION
 *	OpenDKIM's KeyTable file format, one entry per line:
 *
 *		keyname   domain:selector:/path/to/private.key
 *
 *	'#' at the start of a line or of a field starts a comment; blank
 *	lines are ignored. The path may contain ':' (everything after the
 *	second one is the path). It must be absolute or start with "./" or
 *	"../" (relative to the working directory). OpenDKIM also accepts the
 *	key data itself in place of the path; we refuse that, because a key
 *	inside a table escapes the file-mode check that keys_load() makes.
 *	A third field that looks like key data (PEM or a long base64 run) is
 *	refused as such, so the message says what is really wrong.
 *
 *	The domain is "%" (the sender's domain, filled in at signing time) or
 *	a domain name; it is stored lower-cased. The selector is a sequence
 *	of labels as DNS allows. Key names compare exactly (case-sensitive),
 *	as OpenDKIM's KeyTable does; a name may appear only once.
 *
 *	Each key is read by keys_load() while the table loads, so a running
 *	filter never touches key files. keytable_add() takes ownership of the
 *	key whether or not it succeeds: on failure the key is freed.
 * DIAGNOSTICS
 *	keytable_load() returns false with "file:line: reason" in err (or
 *	"file: reason" when the file cannot be read); when a key cannot be
 *	loaded the reason is keys_load()'s sentence. On failure the entries
 *	added by that call are removed again. Lines are bounded by
 *	KEYTABLE_MAX_LINE, entries by KEYTABLE_MAX_ENTRIES.
 */
#include "buildconf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "keytable.h"
#include "textfile.h"
#include "util.h"

#define KEYTABLE_PREFIX_FILE	"file:"
#define KEYTABLE_MAX_FIELDS	2	/* keyname value */
#define KEYTABLE_MAX_DOMAIN	253	/* RFC 1035, without the final dot */
#define KEYTABLE_MAX_LABEL	63
#define KEYTABLE_ERRLEN		1024	/* room for keys_load()'s sentence */
#define KEYTABLE_MAX_TYPE	16	/* bytes of a "type:" prefix we quote */
#define KEYTABLE_MIN_INLINE	32	/* base64 this long is key data */
#define KEYTABLE_INITIAL_CAP	16
#define KEYTABLE_BASE64 \
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="

/* keytable_new - an empty table */
struct keytable *
keytable_new(void)
{
	return xcalloc(1, sizeof(struct keytable));
}

/* keytable_free_entry - release what one entry owns */
static void
keytable_free_entry(struct keyentry *e)
{
	free(e->name);
	free(e->domain);
	free(e->selector);
	keys_free(e->key);
}

/* keytable_truncate - drop the entries from index n on */
static void
keytable_truncate(struct keytable *kt, size_t n)
{
	while (kt->count > n)
		keytable_free_entry(&kt->entries[--kt->count]);
}

/* keytable_free - release the table, its entries and keys; NULL is fine */
void
keytable_free(struct keytable *kt)
{
	if (kt == NULL)
		return;
	keytable_truncate(kt, 0);
	free(kt->entries);
	free(kt);
}

/* keytable_find - the entry called name, or NULL */
const struct keyentry *
keytable_find(const struct keytable *kt, const char *name)
{
	if (kt == NULL || name == NULL)
		return NULL;
	for (size_t i = 0; i < kt->count; i++)
		if (strcmp(kt->entries[i].name, name) == 0)
			return &kt->entries[i];
	return NULL;
}

/*
 * keytable_grow - make room for one more entry. The capacity is implied
 * by the count: KEYTABLE_INITIAL_CAP (a power of two), doubled whenever
 * the count reaches it.
 */
static void
keytable_grow(struct keytable *kt)
{
	size_t n = kt->count, cap;

	if (n == 0)
		cap = KEYTABLE_INITIAL_CAP;
	else if (n >= KEYTABLE_INITIAL_CAP && (n & (n - 1)) == 0)
		cap = n * 2;
	else
		return;
	kt->entries = xrealloc(kt->entries, cap * sizeof *kt->entries);
}

/* keytable_add - append one entry, owning key; false if full or a duplicate */
bool
keytable_add(struct keytable *kt, const char *name, const char *domain,
    const char *selector, struct privkey *key)
{
	struct keyentry *e;

	if (name == NULL || *name == '\0' || domain == NULL ||
	    selector == NULL || key == NULL ||
	    kt->count >= KEYTABLE_MAX_ENTRIES || keytable_find(kt, name)) {
		keys_free(key);
		return false;
	}
	keytable_grow(kt);
	e = &kt->entries[kt->count++];
	e->name = xstrdup(name);
	e->domain = util_strlower(xstrdup(domain));
	e->selector = xstrdup(selector);
	e->key = key;
	return true;
}

/* keytable_label_char - may c appear in a DNS label here? */
static bool
keytable_label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* keytable_valid_name - labels of [A-Za-z0-9_-], dot-separated, bounded */
static bool
keytable_valid_name(const char *s)
{
	size_t label = 0, total = 0;

	for (; *s != '\0'; s++, total++) {
		if (total >= KEYTABLE_MAX_DOMAIN)
			return false;
		if (*s == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (!keytable_label_char(*s) ||
		    ++label > KEYTABLE_MAX_LABEL)
			return false;
	}
	return label > 0;
}

/* keytable_is_path - is the third field a path we accept? */
static bool
keytable_is_path(const char *s)
{
	return s[0] == '/' || strncmp(s, "./", 2) == 0 ||
	    strncmp(s, "../", 3) == 0;
}

/*
 * keytable_is_inline - does the third field look like key data (PEM, or a
 * long run of base64) rather than a file name?
 */
static bool
keytable_is_inline(const char *s)
{
	size_t len = strlen(s);

	if (strncmp(s, "-----", 5) == 0)
		return true;
	return len >= KEYTABLE_MIN_INLINE && strspn(s, KEYTABLE_BASE64) == len;
}

/* The parts of "domain:selector:path", pointing into the split line. */
struct keytable_value {
	char	*domain;
	char	*selector;
	char	*path;
};

/* keytable_parse_value - check and split "domain:selector:path" */
static bool
keytable_parse_value(char *value, struct keytable_value *v, char *why,
    size_t whylen)
{
	char *c1 = strchr(value, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

	if (c2 == NULL) {
		snprintf(why, whylen, "expected domain:selector:/path/to/key");
		return false;
	}
	*c1 = *c2 = '\0';
	v->domain = value;
	v->selector = c1 + 1;
	v->path = c2 + 1;
	if (strcmp(v->domain, "%") != 0 && !keytable_valid_name(v->domain)) {
		snprintf(why, whylen, "invalid domain \"%s\"", v->domain);
		return false;
	}
	if (!keytable_valid_name(v->selector)) {
		snprintf(why, whylen, "invalid selector \"%s\"", v->selector);
		return false;
	}
	if (*v->path == '\0') {
		snprintf(why, whylen, "missing key file after the selector");
		return false;
	}
	if (keytable_is_inline(v->path)) {
		snprintf(why, whylen, "inline key data is not accepted: put "
		    "the key in a file only its owner can read (chmod 600) and "
		    "give its absolute path");
		return false;
	}
	if (!keytable_is_path(v->path)) {
		snprintf(why, whylen, "key file \"%s\" must be an absolute "
		    "path (or start with ./)", v->path);
		return false;
	}
	return true;
}

/* The settings one keytable_load() applies to every key. */
struct keytable_ctx {
	struct keytable	*kt;
	const char	*file;
	bool		 require_safe;
	unsigned	 min_bits;
};

/* keytable_parse_line - one line of the file into the table; false + why */
static bool
keytable_parse_line(const struct keytable_ctx *c, char *line, char *why,
    size_t whylen)
{
	char *field[KEYTABLE_MAX_FIELDS];
	size_t n = textfile_split(line, field, KEYTABLE_MAX_FIELDS);
	struct keytable_value v;
	struct privkey *key;

	if (n == 0)
		return true;
	if (n == 1) {
		snprintf(why, whylen,
		    "missing domain:selector:keyfile after the key name");
		return false;
	}
	if (n > KEYTABLE_MAX_FIELDS) {
		snprintf(why, whylen, "too many fields (expected: keyname "
		    "domain:selector:/path/to/key)");
		return false;
	}
	if (keytable_find(c->kt, field[0]) != NULL) {
		snprintf(why, whylen, "duplicate key name \"%s\"", field[0]);
		return false;
	}
	if (c->kt->count >= KEYTABLE_MAX_ENTRIES) {
		snprintf(why, whylen, "too many entries (at most %d)",
		    KEYTABLE_MAX_ENTRIES);
		return false;
	}
	if (!keytable_parse_value(field[1], &v, why, whylen))
		return false;
	key = keys_load(v.path, c->require_safe, c->min_bits, why, whylen);
	if (key == NULL)
		return false;
	return keytable_add(c->kt, field[0], v.domain, v.selector, key);
}

/* keytable_line - textfile_each's callback */
static bool
keytable_line(void *arg, char *line, unsigned lineno, char *why, size_t whylen)
{
	(void)lineno;
	return keytable_parse_line(arg, line, why, whylen);
}

/*
 * keytable_path - the file named by "PATH" or "file:PATH"; other "type:"
 * prefixes (refile:, db:, dsn:, ...) are refused.
 */
static const char *
keytable_path(const char *spec, char *err, size_t errlen)
{
	size_t typelen = strspn(spec, "abcdefghijklmnopqrstuvwxyz0123456789");

	if (strncmp(spec, KEYTABLE_PREFIX_FILE,
	    sizeof KEYTABLE_PREFIX_FILE - 1) == 0)
		spec += sizeof KEYTABLE_PREFIX_FILE - 1;
	else if (typelen > 0 && spec[typelen] == ':') {
		snprintf(err, errlen, "%s: unsupported table type \"%.*s\" "
		    "(use a file path or file:PATH)", spec,
		    (int)(typelen < KEYTABLE_MAX_TYPE ? typelen :
		    KEYTABLE_MAX_TYPE), spec);
		return NULL;
	}
	if (*spec == '\0') {
		snprintf(err, errlen, "KeyTable: missing file name");
		return NULL;
	}
	return spec;
}

/* keytable_load - read a KeyTable file and every key it names */
bool
keytable_load(struct keytable *kt, const char *spec, bool require_safe,
    unsigned min_bits, char *err, size_t errlen)
{
	struct keytable_ctx c = { kt, NULL, require_safe, min_bits };
	size_t before = kt->count;
	bool ok;

	c.file = keytable_path(spec, err, errlen);
	if (c.file == NULL)
		return false;
	ok = textfile_each(c.file, KEYTABLE_MAX_LINE, KEYTABLE_MAX_LINES,
	    keytable_line, &c, err, errlen);
	if (!ok)
		keytable_truncate(kt, before);
	return ok;
}
