/*
 * NAME
 *	authres - the Authentication-Results header field (RFC 8601)
 * SYNOPSIS
 *	#include "authres.h"
 *
 *	struct authres *authres_new(const char *authserv_id);
 *	void authres_free(struct authres *ar);
 *	void authres_add(struct authres *ar, const char *method,
 *	    const char *result, const char *comment, ...);
 *	char *authres_format(const struct authres *ar);
 *	bool authres_servid_matches(const char *value,
 *	    const char *authserv_id);
 *	char *authres_format_arc(const struct authres *ar, unsigned instance,
 *	    bool comments);
 *	void authres_add_list(ar, method, result, comment, names, values, n);
 *	bool authres_parse(const char *value, struct authres_parsed *out);
 *	void authres_parsed_free(struct authres_parsed *out);
 *	const char *authres_parsed_prop(const struct authres_presult *r,
 *	    const char *name);
 * DESCRIPTION
 *	This module builds the value of our Authentication-Results field and
 *	recognises existing fields that claim our authserv-id. It knows the
 *	RFC 8601 grammar and RFC 5322 folding; it does not know what the
 *	results mean, nor where the header goes (the front ends insert it).
 *
 *	authres_new() starts a field for one authserv-id; authres_add()
 *	appends one resinfo clause "method=result (comment) ptype.prop=value
 *	..." with at most AUTHRES_MAX_PROPS properties; clauses beyond
 *	AUTHRES_MAX_RESULTS are dropped. All strings are copied, into one
 *	buffer the field owns.
 *
 *	Sanitising, so that no input can break the field or forge a clause:
 *	- method, result and property names keep only the characters their
 *	  grammar allows (letters, digits, "-", "_", "."; "/" in a method for
 *	  its version); a clause whose method or result comes out empty is
 *	  dropped, and so is a property whose name does.
 *	- comments and values are cut to AUTHRES_MAX_VALUE bytes (on a UTF-8
 *	  character boundary); every control character (CR, LF, TAB, NUL,
 *	  DEL...) becomes a space; a byte that is not part of well-formed
 *	  UTF-8 becomes "?". Well-formed UTF-8 is kept as RFC 8601 allows
 *	  with RFC 6532: it only ever comes from an internationalized
 *	  message (an SMTPUTF8 address), where UTF-8 headers are the rule.
 *	  In comments, runs of white space become one space.
 *	- a value is written bare when it is an RFC 2045 token, or an
 *	  addr-spec-like "[local-part]@domain-name" (dot-atom local part,
 *	  LDH domain labels); otherwise it is a quoted-string, with '"' and
 *	  '\' escaped. Any non-ASCII value is quoted. An empty value is "".
 *	- in comments, "(", ")" and "\" are escaped with "\".
 *	- the authserv-id is written as a token, or quoted when it is not
 *	  one; an empty or missing id becomes "localhost".
 *
 *	Folding (authres_format): the first line carries the authserv-id,
 *	counting "Authentication-Results: " before it; every resinfo starts
 *	a new line ";\r\n\t". Inside a clause, a space between the method,
 *	the comment and the properties becomes "\r\n\t" when the next item
 *	would take the line past AUTHRES_FOLD_AT; a long comment or quoted
 *	value may also fold at its own spaces, as "\r\n" before the space,
 *	so that unfolding gives back its text exactly. Nothing folds inside
 *	a token or an address, so a single item longer than the limit makes
 *	a long line. Lengths are counted in bytes. With no clause the value
 *	is "authserv-id; none".
 *
 *	authres_servid_matches() reads an existing field value as the MTA
 *	hands it over: leading white space, comments (nested, with quoted
 *	pairs), folding with "\n" or "\r\n", the authserv-id as a token or a
 *	quoted-string. The id is compared ASCII case-insensitively with
 *	ours; whatever follows it (an optional version, ";", resinfo) is not
 *	examined, so a malformed field that claims our id still counts as
 *	claiming it. It scans once, left to right, without recursion or
 *	allocation; an unbalanced comment or quoted string is no match.
 *
 *	authres_format_arc() writes the same clauses as the value of an
 *	ARC-Authentication-Results field (RFC 8617 4.1.1): "i=N; " before the
 *	authserv-id, and comments only when asked for, because Microsoft
 *	365 misreads comments (a ';' inside one breaks its parser).
 *
 *	authres_parse() reads a field somebody else wrote, and is tolerant
 *	on purpose, as real mail demands: an authserv-id with a version
 *	("mx.microsoft.com 1;"), no authserv-id at all (the value starts with
 *	"method=result"), "none", comments anywhere (nested, with ';' or
 *	quoted pairs inside), quoted values with ';' inside, unknown methods,
 *	results and ptypes ("arc.chain"), properties without a ptype
 *	(Gmail's "dara=", Microsoft's "action="), addresses as bare values.
 *	What it cannot read in a clause makes it skip to the next ';'
 *	(outside quotes and comments); it never fails on bad input, it only
 *	finds less. Methods, results and property names are lower-cased,
 *	a method's "/version" is dropped; values are unquoted. At most
 *	AUTHRES_MAX_PARSED clauses of AUTHRES_MAX_PPROPS properties are
 *	kept, each string at most AUTHRES_MAX_VALUE bytes. The strings live
 *	in one allocation of the parsed object (authres_parsed_free()).
 * DIAGNOSTICS
 *	None: bad input is cleaned up or dropped as described above. Memory
 *	exhaustion aborts in the x*() helpers of util.c.
 */
#include "buildconf.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "util.h"

#define AUTHRES_FIELD_NAME	"Authentication-Results: "
#define AUTHRES_AAR_FIELD_NAME	"ARC-Authentication-Results: "
#define AUTHRES_FOLD		"\r\n"
#define AUTHRES_DEFAULT_ID	"localhost"
#define AUTHRES_TSPECIALS	"()<>@,;:\\\"/[]?="	/* RFC 2045 */
/* atext of RFC 5322 3.2.3, letters and digits aside */
#define AUTHRES_ATEXT		"!#$%&'*+-/=?^_`{|}~"
#define AUTHRES_METHOD_EXTRA	"-_./"
#define AUTHRES_PROP_EXTRA	"-_."
#define AUTHRES_RESULT_EXTRA	"-_"
#define AUTHRES_MAX_KEYWORD	64	/* bytes of a method, a name */
#define AUTHRES_MAX_LABEL	63	/* bytes of a domain label */

/*
 * The strings of a field live in one buffer of the field (strs), each
 * NUL-terminated, named by its offset there: a clause costs no
 * allocation of its own.
 */
#define AUTHRES_NONE	SIZE_MAX	/* no string (a clause's comment) */

struct authres_prop {
	size_t		 name;
	size_t		 value;		/* clean, not yet quoted */
};

struct authres_clause {
	size_t		 method;
	size_t		 result;
	size_t		 comment;	/* sanitised, AUTHRES_NONE for none */
	struct authres_prop prop[AUTHRES_MAX_PROPS];
	size_t		 nprop;
};

struct authres {
	char		*servid;	/* rendered: token or quoted */
	struct buf	 strs;		/* the clauses' strings */
	struct authres_clause clause[AUTHRES_MAX_RESULTS];
	size_t		 n;
};

/* How an item is separated from the one before it on output. */
enum authres_sep {
	AUTHRES_SEP_NONE = 0,	/* glued */
	AUTHRES_SEP_ITEM,	/* " ", or "\r\n\t" when folded */
	AUTHRES_SEP_INNER,	/* " " inside a comment or quoted-string, or
				 * "\r\n " when folded */
};

/* The field being written, and the length of its current line. */
struct authres_out {
	struct buf	 b;
	size_t		 col;
};

/* --- sanitising ---------------------------------------------------------- */

/* authres_is_alnum - ASCII letter or digit */
static bool
authres_is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/*
 * authres_keyword - s with only letters, digits and the extra characters
 * kept, at most AUTHRES_MAX_KEYWORD bytes, into b; its offset there, or
 * AUTHRES_NONE (and b as it was) when nothing is left
 */
static size_t
authres_keyword(struct buf *b, const char *s, const char *extra)
{
	char kept[AUTHRES_MAX_KEYWORD + 1];
	size_t n = 0, off = b->len;

	if (s == NULL)
		return AUTHRES_NONE;
	for (; *s != '\0' && n < AUTHRES_MAX_KEYWORD; s++)
		if (authres_is_alnum((unsigned char)*s) || strchr(extra, *s))
			kept[n++] = *s;
	if (n == 0)
		return AUTHRES_NONE;
	kept[n++] = '\0';
	buf_append(b, kept, n);
	return off;
}

static size_t authres_text_into(char *out, const unsigned char *p,
    size_t len, bool squeeze);

/*
 * authres_text - a copy of s fit for a comment or a value: at most
 * AUTHRES_MAX_VALUE bytes, control characters as spaces, bad UTF-8 as
 * "?"; with squeeze, white space runs become one space, trimmed.
 */
static char *
authres_text(const char *s, bool squeeze)
{
	size_t len = strnlen(s, AUTHRES_MAX_VALUE + 1), n;
	char *out = xmalloc(len + 1);

	n = authres_text_into(out, (const unsigned char *)s, len, squeeze);
	out[n] = '\0';
	return out;
}

/*
 * authres_text_at - as authres_text, into b: the offset of the copy
 * there (NUL-terminated)
 */
static size_t
authres_text_at(struct buf *b, const char *s, bool squeeze)
{
	char out[AUTHRES_MAX_VALUE + 2];
	size_t len = strnlen(s, AUTHRES_MAX_VALUE + 1), off = b->len, n;

	n = authres_text_into(out, (const unsigned char *)s, len, squeeze);
	out[n] = '\0';
	buf_append(b, out, n + 1);
	return off;
}

/*
 * authres_text_into - the cleaned copy of p[0..len) (len at most one
 * past AUTHRES_MAX_VALUE) into out, which has room for len bytes: its
 * length
 */
static size_t
authres_text_into(char *out, const unsigned char *p, size_t len,
    bool squeeze)
{
	size_t i = 0, n = 0, u;

	while (i < len) {
		if (p[i] < 0x80) {
			char c = p[i] < 0x20 || p[i] == 0x7f ? ' ' :
			    (char)p[i];

			if (n + 1 > AUTHRES_MAX_VALUE)
				break;
			if (!(squeeze && c == ' ' && (n == 0 ||
			    out[n - 1] == ' ')))
				out[n++] = c;
			i++;
		} else if ((u = util_utf8_seq(p + i, len - i)) > 0) {
			if (n + u > AUTHRES_MAX_VALUE)
				break;
			memcpy(out + n, p + i, u);
			n += u;
			i += u;
		} else {
			if (n + 1 > AUTHRES_MAX_VALUE)
				break;
			out[n++] = '?';
			i++;
		}
	}
	if (squeeze)
		while (n > 0 && out[n - 1] == ' ')
			n--;
	return n;
}

/* authres_is_token - an RFC 2045 token: 1*<CHAR but SP, CTLs, tspecials> */
static bool
authres_is_token(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f || strchr(AUTHRES_TSPECIALS, c))
			return false;
	}
	return true;
}

/* authres_is_dot_atom - dot-atom-text of RFC 5322 3.2.3 (ASCII) */
static bool
authres_is_dot_atom(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || s[0] == '.' || s[len - 1] == '.')
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.' ? s[i - 1] == '.' : !(authres_is_alnum(c) ||
		    (c != '\0' && strchr(AUTHRES_ATEXT, c) != NULL)))
			return false;
	}
	return true;
}

/* authres_is_domain - domain-name of RFC 6376 3.5: LDH labels */
static bool
authres_is_domain(const char *s, size_t len)
{
	size_t i, lablen = 0;

	if (len == 0)
		return false;
	for (i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			if (lablen == 0 || lablen > AUTHRES_MAX_LABEL ||
			    s[i - 1] == '-')
				return false;
			lablen = 0;
			continue;
		}
		if (!authres_is_alnum((unsigned char)s[i]) &&
		    !(s[i] == '-' && lablen > 0))
			return false;
		lablen++;
	}
	return true;
}

/* authres_is_addr - "[local-part]@domain-name", pvalue of RFC 8601 2.2 */
static bool
authres_is_addr(const char *s, size_t len)
{
	const char *at = memchr(s, '@', len);
	size_t llen;

	if (at == NULL)
		return false;
	llen = (size_t)(at - s);
	return (llen == 0 || authres_is_dot_atom(s, llen)) &&
	    authres_is_domain(at + 1, len - llen - 1);
}

/* authres_quote_into - s as a quoted-string, '"' and '\' escaped, onto b */
static void
authres_quote_into(struct buf *b, const char *s)
{
	buf_putc(b, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			buf_putc(b, '\\');
		buf_putc(b, *s);
	}
	buf_putc(b, '"');
}

/* authres_quote - s as a quoted-string (malloc'd) */
static char *
authres_quote(const char *s)
{
	struct buf b;

	buf_init(&b);
	authres_quote_into(&b, s);
	return buf_steal(&b);
}

/* authres_value_into - s as a value onto b: bare if a token or address */
static void
authres_value_into(struct buf *b, const char *s)
{
	size_t len = strlen(s);

	if (authres_is_token(s, len) || authres_is_addr(s, len))
		buf_append(b, s, len);
	else
		authres_quote_into(b, s);
}

/* authres_comment - s as a comment, "(" ")" "\" escaped, into b (emptied) */
static void
authres_comment(struct buf *b, const char *s)
{
	buf_reset(b);
	buf_putc(b, '(');
	for (; *s != '\0'; s++) {
		if (*s == '(' || *s == ')' || *s == '\\')
			buf_putc(b, '\\');
		buf_putc(b, *s);
	}
	buf_putc(b, ')');
}

/* --- building ------------------------------------------------------------ */

/*
 * authres_new - a field for one authserv-id, with no clauses yet (each
 * is cleared when it is added, so the AUTHRES_MAX_RESULTS are not here)
 */
struct authres *
authres_new(const char *authserv_id)
{
	struct authres *ar = xmalloc(sizeof(*ar));
	char *id;

	ar->n = 0;
	buf_init(&ar->strs);
	if (authserv_id == NULL || authserv_id[0] == '\0')
		authserv_id = AUTHRES_DEFAULT_ID;
	id = authres_text(authserv_id, true);
	if (id[0] == '\0') {
		free(id);
		id = xstrdup(AUTHRES_DEFAULT_ID);
	}
	ar->servid = authres_is_token(id, strlen(id)) ? xstrdup(id) :
	    authres_quote(id);
	free(id);
	return ar;
}

/* authres_free - release the field */
void
authres_free(struct authres *ar)
{
	if (ar == NULL)
		return;
	buf_free(&ar->strs);
	free(ar->servid);
	free(ar);
}

/* authres_str - the string at off in the field's buffer */
static const char *
authres_str(const struct authres *ar, size_t off)
{
	return ar->strs.data + off;
}

/* authres_strs_cut - drop the field's strings from offset len on */
static void
authres_strs_cut(struct authres *ar, size_t len)
{
	if (ar->strs.data == NULL)
		return;
	ar->strs.len = len;
	ar->strs.data[len] = '\0';
}

/* authres_add_list - append one resinfo clause with n properties */
void
authres_add_list(struct authres *ar, const char *method, const char *result,
    const char *comment, const char *const *names,
    const char *const *values, size_t n)
{
	struct authres_clause *c;
	size_t start, pname;

	if (ar == NULL || ar->n >= AUTHRES_MAX_RESULTS)
		return;
	c = &ar->clause[ar->n];
	start = ar->strs.len;
	c->nprop = 0;
	c->comment = AUTHRES_NONE;
	c->method = authres_keyword(&ar->strs, method, AUTHRES_METHOD_EXTRA);
	c->result = authres_keyword(&ar->strs, result, AUTHRES_RESULT_EXTRA);
	if (c->method == AUTHRES_NONE || c->result == AUTHRES_NONE) {
		authres_strs_cut(ar, start);	/* the clause is dropped */
		return;
	}
	if (comment != NULL) {
		c->comment = authres_text_at(&ar->strs, comment, true);
		if (authres_str(ar, c->comment)[0] == '\0') {
			authres_strs_cut(ar, c->comment);
			c->comment = AUTHRES_NONE;
		}
	}
	for (size_t i = 0; i < n && c->nprop < AUTHRES_MAX_PROPS; i++) {
		if (values[i] == NULL || (pname = authres_keyword(&ar->strs,
		    names[i], AUTHRES_PROP_EXTRA)) == AUTHRES_NONE)
			continue;
		c->prop[c->nprop].name = pname;
		c->prop[c->nprop].value = authres_text_at(&ar->strs, values[i],
		    false);
		c->nprop++;
	}
	ar->n++;
}

/* authres_add - append one resinfo clause; properties end with NULL */
void
authres_add(struct authres *ar, const char *method, const char *result,
    const char *comment, ...)
{
	const char *names[AUTHRES_MAX_PROPS], *values[AUTHRES_MAX_PROPS];
	const char *name;
	size_t n = 0;
	va_list ap;

	va_start(ap, comment);
	while (n < AUTHRES_MAX_PROPS &&
	    (name = va_arg(ap, const char *)) != NULL) {
		names[n] = name;
		values[n] = va_arg(ap, const char *);
		n++;
	}
	va_end(ap);
	authres_add_list(ar, method, result, comment, names, values, n);
}

/* --- formatting ---------------------------------------------------------- */

/*
 * authres_put - one item after its separator, folding when it does not
 * fit; reserve is what must still follow on the line (the ";" that ends
 * a clause).
 */
static void
authres_put(struct authres_out *o, const char *item, size_t len,
    enum authres_sep sep, size_t reserve)
{
	if (sep != AUTHRES_SEP_NONE) {
		/*
		 * Fold when the item does not fit, unless the line holds
		 * nothing but its leading white space, or the item is empty
		 * (a line of white space only is not allowed).
		 */
		if (o->col + 1 + len + reserve > AUTHRES_FOLD_AT &&
		    o->col > 1 && len > 0) {
			buf_puts(&o->b, AUTHRES_FOLD);
			buf_putc(&o->b, sep == AUTHRES_SEP_ITEM ? '\t' : ' ');
			o->col = 1;
		} else {
			buf_putc(&o->b, ' ');
			o->col++;
		}
	}
	buf_append(&o->b, item, len);
	o->col += len;
}

/*
 * authres_put_split - an item that may hold spaces (a comment, a quoted
 * value): each space is a possible fold point inside it.
 */
static void
authres_put_split(struct authres_out *o, const char *item,
    enum authres_sep sep, size_t reserve)
{
	const char *sp;

	while ((sp = strchr(item, ' ')) != NULL) {
		authres_put(o, item, (size_t)(sp - item), sep, 0);
		sep = AUTHRES_SEP_INNER;
		item = sp + 1;
	}
	authres_put(o, item, strlen(item), sep, reserve);
}

/* authres_pair - "name=" into b, emptied first: the value follows */
static void
authres_pair(struct buf *b, const char *name)
{
	buf_reset(b);
	buf_puts(b, name);
	buf_putc(b, '=');
}

/*
 * authres_put_clause - one resinfo of ar on a fresh line; more: one
 * follows; comments: write the comment, if any. b is scratch space.
 */
static void
authres_put_clause(struct authres_out *o, const struct authres *ar,
    const struct authres_clause *c, bool more, bool comments,
    struct buf *b)
{
	size_t i, last = more ? 1 : 0;
	bool comment = c->comment != AUTHRES_NONE && comments;

	buf_puts(&o->b, ";" AUTHRES_FOLD "\t");
	o->col = 1;
	authres_pair(b, authres_str(ar, c->method));
	buf_puts(b, authres_str(ar, c->result));
	authres_put(o, b->data, b->len, AUTHRES_SEP_NONE,
	    !comment && c->nprop == 0 ? last : 0);
	if (comment) {
		authres_comment(b, authres_str(ar, c->comment));
		authres_put_split(o, b->data, AUTHRES_SEP_ITEM,
		    c->nprop == 0 ? last : 0);
	}
	for (i = 0; i < c->nprop; i++) {
		authres_pair(b, authres_str(ar, c->prop[i].name));
		authres_value_into(b, authres_str(ar, c->prop[i].value));
		authres_put_split(o, b->data, AUTHRES_SEP_ITEM,
		    i + 1 == c->nprop ? last : 0);
	}
}

/*
 * authres_format_with - the folded field value after prefix (counted on
 * the first line after the field name fname), with or without comments
 */
static char *
authres_format_with(const struct authres *ar, const char *fname,
    const char *prefix, bool comments)
{
	struct authres_out o;
	const char *id = ar != NULL ? ar->servid : AUTHRES_DEFAULT_ID;
	struct buf scratch;
	size_t i;

	buf_init(&scratch);
	buf_init(&o.b);
	buf_puts(&o.b, prefix);
	o.col = strlen(fname) + strlen(prefix);
	authres_put(&o, id, strlen(id), AUTHRES_SEP_NONE, 0);
	if (ar == NULL || ar->n == 0) {
		authres_put(&o, ";", 1, AUTHRES_SEP_NONE, 0);
		authres_put(&o, "none", strlen("none"), AUTHRES_SEP_ITEM, 0);
	} else {
		for (i = 0; i < ar->n; i++)
			authres_put_clause(&o, ar, &ar->clause[i],
			    i + 1 < ar->n, comments, &scratch);
	}
	buf_free(&scratch);
	return buf_steal(&o.b);
}

/* authres_format - the folded field value (malloc'd) */
char *
authres_format(const struct authres *ar)
{
	return authres_format_with(ar, AUTHRES_FIELD_NAME, "", true);
}

/* authres_format_arc - the value of an ARC-Authentication-Results field */
char *
authres_format_arc(const struct authres *ar, unsigned instance,
    bool comments)
{
	char prefix[32];

	snprintf(prefix, sizeof(prefix), "i=%u; ", instance);
	return authres_format_with(ar, AUTHRES_AAR_FIELD_NAME, prefix,
	    comments);
}

/* --- recognising --------------------------------------------------------- */

/*
 * authres_skip_cfws - past white space, line breaks and comments; NULL
 * when a comment is not closed before the end.
 */
static const char *
authres_skip_cfws(const char *p)
{
	size_t depth;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p != '(')
			return p;
		depth = 0;
		do {
			if (*p == '\0')
				return NULL;
			if (*p == '\\') {
				if (*++p == '\0')
					return NULL;
			} else if (*p == '(') {
				depth++;
			} else if (*p == ')') {
				depth--;
			}
			p++;
		} while (depth > 0);
	}
}

/* authres_id_char - one character of the id against ours, case aside */
static void
authres_id_char(int c, const char *id, size_t *j, bool *same)
{
	int a = c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
	int b = id[*j] >= 'A' && id[*j] <= 'Z' ? id[*j] + ('a' - 'A') :
	    id[*j];

	if (!*same || id[*j] == '\0' || a != b)
		*same = false;
	else
		(*j)++;
}

/* authres_servid_matches - does this A-R value claim authserv_id? */
bool
authres_servid_matches(const char *value, const char *authserv_id)
{
	const char *p;
	bool same = true;
	size_t j = 0, n = 0;

	if (value == NULL || authserv_id == NULL || authserv_id[0] == '\0')
		return false;
	if ((p = authres_skip_cfws(value)) == NULL)
		return false;
	if (*p == '"') {
		/* quoted-string: quoted pairs; folding is invisible */
		for (p++; *p != '"'; p++) {
			if (*p == '\0')
				return false;
			if (*p == '\r' || *p == '\n')
				continue;
			if (*p == '\\' && *++p == '\0')
				return false;
			authres_id_char((unsigned char)*p, authserv_id, &j,
			    &same);
			n++;
		}
	} else {
		for (; (unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f &&
		    strchr(AUTHRES_TSPECIALS, *p) == NULL; p++, n++)
			authres_id_char((unsigned char)*p, authserv_id, &j,
			    &same);
	}
	return n > 0 && same && authserv_id[j] == '\0';
}

/* --- reading ------------------------------------------------------------- */

/* The parser's position in the value and where its strings go. */
struct authres_scan {
	const char	*p;
	char		*store;		/* room for every string, with NULs */
	size_t		 used;
	size_t		 cap;
};

/* authres_cfws - past white space and comments; an unclosed comment ends it */
static void
authres_cfws(struct authres_scan *sc)
{
	const char *q = authres_skip_cfws(sc->p);

	sc->p = q != NULL ? q : sc->p + strlen(sc->p);
}

/* authres_is_name - may c appear in a method, result or property name? */
static bool
authres_is_name(int c)
{
	return authres_is_alnum(c) || c == '-' || c == '_' || c == '.';
}

/* authres_keep - copy n bytes into the store (bounded), NUL-terminated */
static const char *
authres_keep(struct authres_scan *sc, const char *s, size_t n, bool lower)
{
	char *out = sc->store + sc->used;

	if (n > AUTHRES_MAX_VALUE)
		n = AUTHRES_MAX_VALUE;
	if (n + 1 > sc->cap - sc->used)		/* cannot happen: see below */
		return "";
	for (size_t i = 0; i < n; i++)
		out[i] = lower && s[i] >= 'A' && s[i] <= 'Z' ?
		    (char)(s[i] + ('a' - 'A')) : s[i];
	out[n] = '\0';
	sc->used += n + 1;
	return out;
}

/* authres_name - a run of name characters, lower-cased; NULL if none */
static const char *
authres_name(struct authres_scan *sc)
{
	const char *start = sc->p;

	while (authres_is_name((unsigned char)*sc->p))
		sc->p++;
	if (sc->p == start)
		return NULL;
	return authres_keep(sc, start, (size_t)(sc->p - start), true);
}

/*
 * authres_quoted - a quoted-string at sc->p, unquoted (quoted pairs
 * resolved, folding dropped); an unclosed one runs to the end
 */
static const char *
authres_quoted(struct authres_scan *sc)
{
	char *out = sc->store + sc->used;
	size_t n = 0, room = sc->cap - sc->used;

	if (room == 0)				/* cannot happen: see below */
		out = NULL;
	else
		room--;				/* for the NUL */
	for (sc->p++; *sc->p != '\0' && *sc->p != '"'; sc->p++) {
		if (*sc->p == '\r' || *sc->p == '\n')
			continue;
		if (*sc->p == '\\' && sc->p[1] != '\0')
			sc->p++;
		if (out != NULL && n < AUTHRES_MAX_VALUE && n < room)
			out[n++] = *sc->p;
	}
	if (*sc->p == '"')
		sc->p++;
	if (out == NULL)
		return "";
	out[n] = '\0';
	sc->used += n + 1;
	return out;
}

/*
 * authres_bare - a value that is not quoted: everything up to white
 * space, ';', a comment or a quote; NULL if empty
 */
static const char *
authres_bare(struct authres_scan *sc)
{
	const char *start = sc->p;

	while (*sc->p != '\0' && strchr(" \t\r\n;()\"", *sc->p) == NULL)
		sc->p++;
	if (sc->p == start)
		return NULL;
	return authres_keep(sc, start, (size_t)(sc->p - start), false);
}

/* authres_skip_clause - on to the next ';' outside quotes and comments */
static void
authres_skip_clause(struct authres_scan *sc)
{
	while (*sc->p != '\0' && *sc->p != ';') {
		if (*sc->p == '(') {
			authres_cfws(sc);
			continue;
		}
		if (*sc->p == '"') {
			const char *q = sc->p + 1;

			while (*q != '\0' && *q != '"')
				q += *q == '\\' && q[1] != '\0' ? 2 : 1;
			sc->p = *q == '"' ? q + 1 : q;
			continue;
		}
		sc->p++;
	}
}

/*
 * authres_read_id - the authserv-id and its version, unless the value
 * starts with a resinfo ("method=" or "method/version=")
 */
static void
authres_read_id(struct authres_scan *sc, struct authres_parsed *out)
{
	const char *start;

	authres_cfws(sc);
	if (*sc->p == '"') {
		out->servid = authres_quoted(sc);
	} else {
		start = sc->p;
		while (*sc->p != '\0' && (unsigned char)*sc->p > 0x20 &&
		    strchr(";()\"=/", *sc->p) == NULL)
			sc->p++;
		{
			const char *end = sc->p;

			authres_cfws(sc);
			if (*sc->p == '=' || *sc->p == '/') {
				sc->p = start;		/* a resinfo: no id */
				return;
			}
			out->servid = authres_keep(sc, start,
			    (size_t)(end - start), false);
		}
	}
	authres_cfws(sc);
	start = sc->p;
	while (*sc->p >= '0' && *sc->p <= '9')
		sc->p++;
	if (sc->p > start)
		out->version = authres_keep(sc, start, (size_t)(sc->p - start),
		    false);
	authres_skip_clause(sc);	/* anything else before the ';' */
}

/* authres_read_props - the properties of one clause, up to its ';' */
static void
authres_read_props(struct authres_scan *sc, struct authres_presult *r)
{
	for (;;) {
		const char *name, *value;

		authres_cfws(sc);
		if (*sc->p == '\0' || *sc->p == ';')
			return;
		if ((name = authres_name(sc)) == NULL) {
			authres_skip_clause(sc);
			return;
		}
		authres_cfws(sc);
		if (*sc->p != '=')
			continue;	/* a stray word: read on */
		sc->p++;
		authres_cfws(sc);
		value = *sc->p == '"' ? authres_quoted(sc) : authres_bare(sc);
		if (value == NULL)
			value = authres_keep(sc, "", 0, false);
		if (r->nprop < AUTHRES_MAX_PPROPS) {
			r->prop[r->nprop].name = name;
			r->prop[r->nprop].value = value;
			r->nprop++;
		}
	}
}

/* authres_read_clause - one resinfo (or nothing) up to its ';' */
static void
authres_read_clause(struct authres_scan *sc, struct authres_parsed *out)
{
	struct authres_presult *r;
	const char *method, *result;

	authres_cfws(sc);
	if ((method = authres_name(sc)) == NULL) {
		authres_skip_clause(sc);
		return;
	}
	if (*sc->p == '/') {		/* a method version: dropped */
		sc->p++;
		authres_cfws(sc);
		while (*sc->p >= '0' && *sc->p <= '9')
			sc->p++;
	}
	authres_cfws(sc);
	if (*sc->p != '=') {		/* "none", or nothing we can read */
		authres_skip_clause(sc);
		return;
	}
	sc->p++;
	authres_cfws(sc);
	if ((result = authres_name(sc)) == NULL ||
	    out->nres >= AUTHRES_MAX_PARSED) {
		authres_skip_clause(sc);
		return;
	}
	r = &out->res[out->nres++];
	r->method = method;
	r->result = result;
	authres_read_props(sc, r);
}

/* authres_parse - read an Authentication-Results value, tolerantly */
bool
authres_parse(const char *value, struct authres_parsed *out)
{
	struct authres_scan sc;
	size_t len;

	memset(out, 0, sizeof(*out));
	if (value == NULL)
		return false;
	len = strnlen(value, AUTHRES_MAX_PARSE_INPUT + 1);
	if (len > AUTHRES_MAX_PARSE_INPUT)
		return false;
	/*
	 * Every string kept comes from its own bytes of the value and is no
	 * longer than them, plus a NUL; an empty value follows at least a
	 * name and an '='. So twice the length (and room for the two empty
	 * strings of the start) always suffices; authres_keep checks anyway.
	 */
	sc.cap = 2 * len + 4;
	out->store = xmalloc(sc.cap);
	sc.store = out->store;
	sc.used = 0;
	sc.p = value;
	out->servid = authres_keep(&sc, "", 0, false);
	out->version = out->servid;
	authres_read_id(&sc, out);
	while (*sc.p != '\0') {
		if (*sc.p == ';') {
			sc.p++;
			continue;
		}
		authres_read_clause(&sc, out);
	}
	return out->servid[0] != '\0' || out->nres > 0;
}

/* authres_parsed_free - the strings of a parsed field */
void
authres_parsed_free(struct authres_parsed *out)
{
	if (out == NULL)
		return;
	free(out->store);
	memset(out, 0, sizeof(*out));
}

/* authres_parsed_prop - the value of a property of a clause, or NULL */
const char *
authres_parsed_prop(const struct authres_presult *r, const char *name)
{
	for (size_t i = 0; i < r->nprop; i++)
		if (util_strcaseeq(r->prop[i].name, name))
			return r->prop[i].value;
	return NULL;
}
