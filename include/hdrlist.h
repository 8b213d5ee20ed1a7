/*
 * hdrlist.h - lists of header field names: the headers to sign, the headers
 * to oversign. Names compare case-insensitively.
 */
#ifndef AM_HDRLIST_H
#define AM_HDRLIST_H

#include <stdbool.h>
#include <stddef.h>

#define HDRLIST_MAX_NAMES	256	/* names in one list */
#define HDRLIST_MAX_NAMELEN	128	/* bytes in one header name */

struct hdrlist {
	char	**names;	/* NULL-terminated, for libopendkim's options */
	size_t	  count;
};

/* The default list of headers to sign (RFC 6376 section 5.4.1 and MIME). */
extern const char *const hdrlist_default_sign[];
/* The default list of headers to oversign. */
extern const char *const hdrlist_default_oversign[];

void hdrlist_init(struct hdrlist *hl);
void hdrlist_free(struct hdrlist *hl);
/* hdrlist_set_default - replace the contents by a NULL-terminated array */
void hdrlist_set_default(struct hdrlist *hl, const char *const *names);
/*
 * hdrlist_parse - replace the contents by a comma/space separated list.
 * Returns false and sets *why if a name is not a valid field name (RFC 5322
 * ftext) or the list is too long. A leading "+" on the whole value
 * ("+List-Foo, X-Bar") adds to the current contents instead of replacing.
 */
bool hdrlist_parse(struct hdrlist *hl, const char *list, const char **why);
bool hdrlist_contains(const struct hdrlist *hl, const char *name);
/* hdrlist_valid_name - is name a syntactically valid header field name? */
bool hdrlist_valid_name(const char *name);

#endif
