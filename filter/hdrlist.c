/*
 * NAME
 *	hdrlist - lists of header field names (to sign, to oversign)
 * SYNOPSIS
 *	#include "hdrlist.h"
 *
 *	extern const char *const hdrlist_default_sign[];
 *	extern const char *const hdrlist_default_oversign[];
 *
 *	void hdrlist_init(struct hdrlist *hl);
 *	void hdrlist_free(struct hdrlist *hl);
 *	void hdrlist_set_default(struct hdrlist *hl,
 *	    const char *const *names);
 *	bool hdrlist_parse(struct hdrlist *hl, const char *list,
 *	    const char **why);
 *	bool hdrlist_contains(const struct hdrlist *hl, const char *name);
 *	bool hdrlist_valid_name(const char *name);
 * DESCRIPTION
 *	A hdrlist owns a NULL-terminated array of names, ready to hand to
 *	libopendkim. After hdrlist_init() the array exists and is empty, so
 *	hl->names is never NULL between init and free. Names compare
 *	case-insensitively; a name given twice is kept once, in the place
 *	where it first appeared.
 *
 *	hdrlist_parse() takes names separated by commas and/or white space.
 *	A leading "+" adds to the current contents; otherwise the contents
 *	are replaced. An empty value gives an empty list: whether that is
 *	acceptable (From must be signed) is for the caller to decide.
 * DIAGNOSTICS
 *	hdrlist_parse() returns false and points *why at static text when a
 *	name is not a valid field name (RFC 5322: printable US-ASCII except
 *	':'), longer than HDRLIST_MAX_NAMELEN, or when the list would hold
 *	more than HDRLIST_MAX_NAMES names. On failure the list is unchanged.
 */
#include "buildconf.h"

#include <stdlib.h>
#include <string.h>

#include "hdrlist.h"
#include "util.h"

#define HDRLIST_FTEXT_MIN	33	/* '!' */
#define HDRLIST_FTEXT_MAX	126	/* '~' */

/* RFC 6376 section 5.4.1's recommendation, the MIME fields, and Sender. */
const char *const hdrlist_default_sign[] = {
	"From", "Reply-To", "Subject", "Date", "To", "Cc",
	"Resent-Date", "Resent-From", "Resent-Sender", "Resent-To",
	"Resent-Cc", "In-Reply-To", "References",
	"List-Id", "List-Help", "List-Unsubscribe", "List-Unsubscribe-Post",
	"List-Subscribe", "List-Post", "List-Owner", "List-Archive",
	"Message-ID", "MIME-Version", "Content-Type",
	"Content-Transfer-Encoding", "Content-ID", "Content-Description",
	"Sender",
	NULL
};

/* The fields an attacker would most like to add a second copy of. */
const char *const hdrlist_default_oversign[] = {
	"From", "To", "Cc", "Subject", "Date", "Reply-To", "Message-ID",
	"MIME-Version", "Content-Type", "Content-Transfer-Encoding",
	NULL
};

/*
 * hdrlist_init - an empty list; the NULL-terminated array has room for
 * HDRLIST_MAX_NAMES names from the start, so it never moves.
 */
void
hdrlist_init(struct hdrlist *hl)
{
	hl->names = xcalloc(HDRLIST_MAX_NAMES + 1, sizeof(char *));
	hl->count = 0;
}

/* hdrlist_free - release the names; hl may be initialised again */
void
hdrlist_free(struct hdrlist *hl)
{
	if (hl->names != NULL)
		for (size_t i = 0; i < hl->count; i++)
			free(hl->names[i]);
	free(hl->names);
	hl->names = NULL;
	hl->count = 0;
}

/* hdrlist_ftext - RFC 5322 ftext: printable US-ASCII except ':' */
static bool
hdrlist_ftext(char ch)
{
	unsigned char c = (unsigned char)ch;

	return c >= HDRLIST_FTEXT_MIN && c <= HDRLIST_FTEXT_MAX && c != ':';
}

/* hdrlist_valid_name - RFC 5322 field name: 1*ftext, bounded */
bool
hdrlist_valid_name(const char *name)
{
	size_t n;

	if (name == NULL || *name == '\0')
		return false;
	for (n = 0; name[n] != '\0'; n++)
		if (n >= HDRLIST_MAX_NAMELEN || !hdrlist_ftext(name[n]))
			return false;
	return true;
}

/* hdrlist_contains - is name in the list (any case)? */
bool
hdrlist_contains(const struct hdrlist *hl, const char *name)
{
	for (size_t i = 0; i < hl->count; i++)
		if (util_strcaseeq(hl->names[i], name))
			return true;
	return false;
}

/* hdrlist_push - append a copy of name unless it is already there */
static bool
hdrlist_push(struct hdrlist *hl, const char *name, size_t len)
{
	char *copy = xstrndup(name, len);

	if (hdrlist_contains(hl, copy)) {
		free(copy);
		return true;
	}
	if (hl->count >= HDRLIST_MAX_NAMES) {
		free(copy);
		return false;
	}
	hl->names[hl->count++] = copy;
	hl->names[hl->count] = NULL;
	return true;
}

/* hdrlist_copy_into - append every name of src to dst */
static void
hdrlist_copy_into(struct hdrlist *dst, const struct hdrlist *src)
{
	for (size_t i = 0; i < src->count; i++)
		(void)hdrlist_push(dst, src->names[i], strlen(src->names[i]));
}

/* hdrlist_set_default - replace the contents by a NULL-terminated array */
void
hdrlist_set_default(struct hdrlist *hl, const char *const *names)
{
	hdrlist_free(hl);
	hdrlist_init(hl);
	for (size_t i = 0; names != NULL && names[i] != NULL; i++)
		if (!hdrlist_push(hl, names[i], strlen(names[i])))
			break;
}

/* hdrlist_is_sep - does c separate names in a list? */
static bool
hdrlist_is_sep(char c)
{
	return c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* hdrlist_check_token - is tok[0..len) a valid field name? */
static bool
hdrlist_check_token(const char *tok, size_t len, const char **why)
{
	if (len > HDRLIST_MAX_NAMELEN) {
		*why = "header field name too long";
		return false;
	}
	for (size_t i = 0; i < len; i++)
		if (!hdrlist_ftext(tok[i])) {
			*why = "invalid character in header field name";
			return false;
		}
	return true;
}

/* hdrlist_parse_into - append every name of the list to hl */
static bool
hdrlist_parse_into(struct hdrlist *hl, const char *p, const char **why)
{
	for (;;) {
		const char *start;
		size_t len;

		while (hdrlist_is_sep(*p))
			p++;
		if (*p == '\0')
			return true;
		start = p;
		while (*p != '\0' && !hdrlist_is_sep(*p))
			p++;
		len = (size_t)(p - start);
		if (!hdrlist_check_token(start, len, why))
			return false;
		if (!hdrlist_push(hl, start, len)) {
			*why = "too many header field names";
			return false;
		}
	}
}

/* hdrlist_parse - replace (or with "+", extend) the list from text */
bool
hdrlist_parse(struct hdrlist *hl, const char *list, const char **why)
{
	struct hdrlist tmp;
	const char *p = list;

	while (*p == ' ' || *p == '\t')
		p++;
	hdrlist_init(&tmp);
	if (*p == '+') {
		hdrlist_copy_into(&tmp, hl);
		p++;
	}
	if (!hdrlist_parse_into(&tmp, p, why)) {
		hdrlist_free(&tmp);
		return false;
	}
	hdrlist_free(hl);
	*hl = tmp;
	return true;
}
