/*
 * NAME
 *	addr - RFC 5322 mailbox lists and SMTP envelope addresses
 * SYNOPSIS
 *	#include "addr.h"
 *
 *	enum addr_status addr_parse_list(const char *value, size_t len,
 *	    struct addrlist *out);
 *	bool addr_parse_envelope(const char *arg, struct mailbox *out);
 *	bool addr_domain_valid(const char *s);
 *	bool addr_domain_to_ascii(const char *domain, char *out,
 *	    size_t outlen);
 * DESCRIPTION
 *	addr_parse_list() takes the value of a From, Sender or Reply-To
 *	header (len bytes, not NUL-terminated, possibly holding NUL or 8-bit
 *	bytes) and returns the mailboxes in it. It follows the address-list
 *	grammar of RFC 5322 section 3.4 including the obsolete forms of
 *	section 4.4: display names (atoms, quoted strings, "." after a word),
 *	comments anywhere CFWS is allowed, folding white space (CRLF or a
 *	bare LF followed by a space or tab), angle addresses with an
 *	obsolete route ("<@r1,@r2:user@example.com>"), groups (their
 *	mailboxes are returned and out->groups is set), empty list elements
 *	(",,") and CFWS around the dots of a local part or domain. 8-bit
 *	bytes are taken as UTF-8 text (RFC 6532) in atoms, quoted strings and
 *	comments.
 *
 *	The parser is lexical and strict. It never guesses: whatever the
 *	grammar does not allow makes the whole value ADDR_SYNTAX, because a
 *	lenient guess is where a crafted From gets one domain checked and
 *	another one shown. In particular:
 *	- an RFC 2047 encoded word is an atom like any other: in a display
 *	  name it is skipped with the name, and it is never decoded, so
 *	  "=?utf-8?q?a@b?=" is not an address (its "domain" is "b?=");
 *	- an address inside a comment is ignored with the comment;
 *	- two addresses without a comma between them, a mailbox without a
 *	  domain, an invalid domain, an unterminated quoted string, comment,
 *	  angle address, domain literal or group, a nested group, a NUL
 *	  byte, a CR or LF that does not fold the line, and comments nested
 *	  deeper than ADDR_MAX_COMMENT_DEPTH are all syntax errors;
 *	- a value with no address at all (empty, only white space or commas)
 *	  is a syntax error; an empty group ("undisclosed-recipients:;") is
 *	  not: it gives ADDR_OK with count 0 and groups set.
 *
 *	Local parts come back as written, with CFWS removed, the quotes of a
 *	quoted string removed and its quoted pairs unescaped ("john doe" for
 *	"john doe"@example.com). Domains come back with ASCII letters
 *	lower-cased and one trailing dot removed; U-labels are kept as given
 *	(they must be well-formed UTF-8); a domain literal is kept as written
 *	with its brackets ("[192.0.2.1]") and only checked to be dtext.
 *
 *	addr_parse_envelope() takes the address argument of MAIL FROM or
 *	RCPT TO (the first word only, without ESMTP parameters) under the
 *	stricter RFC 5321 grammar: no comments, no folding; spaces and tabs
 *	around it are ignored; "<>" is the null path; a source route is
 *	accepted inside brackets and dropped. An address without a domain
 *	("<postmaster>") is refused: the caller decides what it means.
 *
 *	addr_domain_valid() checks the text form of a DNS name: labels of
 *	1..63 bytes made of ASCII letters, digits and hyphens (not first or
 *	last in a label) or of well-formed UTF-8 beyond ASCII (U-labels,
 *	counted in bytes as given), at most 253 bytes without the optional
 *	trailing dot. The underscore is refused: RFC 5321 domains do not
 *	have it. A single label ("localhost") is valid; so is an all-numeric
 *	one (DKIM selectors such as "2024" are checked here too).
 *
 *	addr_domain_to_ascii() gives the name as the DNS is asked for it:
 *	ASCII lower case, no trailing dot, U-labels as A-labels. libidn2
 *	does the conversion (IDNA2008 with UTS #46 non-transitional mapping
 *	and NFC normalisation), so "B\xc3\x9cCHER.example" and the NFD
 *	spelling of "b\xc3\xbc" "cher.example" both become
 *	"xn--bcher-kva.example"; a name IDNA2008 disallows (symbols, emoji)
 *	has no A-label and is refused.
 * DIAGNOSTICS
 *	addr_parse_list() returns ADDR_SYNTAX for malformed input; out then
 *	holds no mailbox (count 0, flags false). addr_parse_envelope()
 *	returns false, with out emptied. Nothing is logged: the caller knows
 *	which header or command it was.
 */
#include "buildconf.h"

#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include "addr.h"
#include "util.h"

#define ADDR_MAX_COMMENT_DEPTH	8	/* "((...))": deeper is malformed */
#define ADDR_MAX_DOMAIN_TEXT	253	/* name length without trailing dot */
#define ADDR_MAX_LABEL		63	/* bytes in one label */
/* bytes of a U-label domain handed to libidn2 (4 per code point at most) */
#define ADDR_MAX_DOMAIN_INPUT	(4 * ADDR_MAX_DOMAIN_TEXT)
/* IDNA2008 lookup with UTS #46 non-transitional mapping, NFC first */
#define ADDR_IDN2_FLAGS		(IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL)

/*
 * A cursor over the input. smtp selects the RFC 5321 lexicon: no CFWS,
 * no folding, no control characters in quoted strings.
 */
struct addr_cur {
	const unsigned char	*s;
	size_t			 len;
	size_t			 pos;
	bool			 smtp;
};

/* A bounded output string; over records that something did not fit. */
struct addr_str {
	char	*s;
	size_t	 cap;		/* bytes available, NUL excluded */
	size_t	 len;
	bool	 over;
};

/* What addr_parse_mailbox() found. */
enum addr_mbres {
	ADDR_MB_OK,		/* a mailbox */
	ADDR_MB_GROUP,		/* a display name and ':': a group starts */
	ADDR_MB_ERR,		/* malformed */
};

/* addr_peek_at - the byte off bytes ahead, or -1 past the end */
static int
addr_peek_at(const struct addr_cur *c, size_t off)
{
	if (off >= c->len - c->pos)
		return -1;
	return c->s[c->pos + off];
}

/* addr_peek - the current byte, or -1 at the end */
static int
addr_peek(const struct addr_cur *c)
{
	return addr_peek_at(c, 0);
}

/* addr_str_init - point a bounded string at buf of cap bytes plus NUL */
static void
addr_str_init(struct addr_str *str, char *buf, size_t cap)
{
	str->s = buf;
	str->cap = cap;
	str->len = 0;
	str->over = false;
	buf[0] = '\0';
}

/* addr_str_putc - append one byte, or note the overflow */
static void
addr_str_putc(struct addr_str *str, int ch)
{
	if (str == NULL)
		return;
	if (str->len >= str->cap) {
		str->over = true;
		return;
	}
	str->s[str->len++] = (char)ch;
	str->s[str->len] = '\0';
}

/* addr_is_wsp - space or horizontal tab */
static bool
addr_is_wsp(int ch)
{
	return ch == ' ' || ch == '\t';
}

/* addr_is_alnum - ASCII letter or digit (no locale) */
static bool
addr_is_alnum(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9');
}

/* addr_is_atext - an atom byte: RFC 5322 atext, and UTF-8 (RFC 6532) */
static bool
addr_is_atext(int ch)
{
	if (ch < 0)
		return false;
	if (ch >= 0x80 || addr_is_alnum(ch))
		return true;
	return ch != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", ch) != NULL;
}

/* addr_is_text - a byte allowed in a quoted string or comment, specials aside */
static bool
addr_is_text(const struct addr_cur *c, int ch)
{
	if (ch <= 0 || ch == '\r' || ch == '\n')
		return false;
	if (c->smtp)
		return (ch >= 32 && ch != 127) || ch == '\t';
	return true;		/* obs-qtext, obs-ctext: controls allowed */
}

/* addr_is_qpair - may ch follow a backslash? */
static bool
addr_is_qpair(const struct addr_cur *c, int ch)
{
	if (c->smtp)
		return ch >= 32 && ch <= 126;
	return ch > 0 && ch != '\r' && ch != '\n';
}

/* addr_fold - step over a line break that folds (CRLF or LF, then WSP) */
static bool
addr_fold(struct addr_cur *c)
{
	if (c->smtp)
		return false;
	if (addr_peek(c) == '\r' && addr_peek_at(c, 1) == '\n' &&
	    addr_is_wsp(addr_peek_at(c, 2))) {
		c->pos += 2;
		return true;
	}
	if (addr_peek(c) == '\n' && addr_is_wsp(addr_peek_at(c, 1))) {
		c->pos += 1;
		return true;
	}
	return false;
}

/* addr_skip_fws - step over white space and folds */
static void
addr_skip_fws(struct addr_cur *c)
{
	for (;;) {
		if (addr_is_wsp(addr_peek(c)))
			c->pos++;
		else if (!addr_fold(c))
			return;
	}
}

/*
 * addr_skip_comment - step over one comment, nested ones included; false if
 * it is unterminated, too deep or holds a forbidden byte. Iterative: the
 * depth is a counter, not a recursion.
 */
static bool
addr_skip_comment(struct addr_cur *c)
{
	int depth = 0, ch;

	do {
		ch = addr_peek(c);
		if (ch == '(') {
			if (++depth > ADDR_MAX_COMMENT_DEPTH)
				return false;
			c->pos++;
		} else if (ch == ')') {
			depth--;
			c->pos++;
		} else if (ch == '\\') {
			if (!addr_is_qpair(c, addr_peek_at(c, 1)))
				return false;
			c->pos += 2;
		} else if (ch == '\r' || ch == '\n') {
			if (!addr_fold(c))
				return false;
		} else if (addr_is_text(c, ch)) {
			c->pos++;
		} else {
			return false;		/* end of input, NUL */
		}
	} while (depth > 0);
	return true;
}

/* addr_skip_cfws - step over white space, folds and comments */
static bool
addr_skip_cfws(struct addr_cur *c)
{
	if (c->smtp)
		return true;
	for (;;) {
		addr_skip_fws(c);
		if (addr_peek(c) != '(')
			return true;
		if (!addr_skip_comment(c))
			return false;
	}
}

/* addr_read_atom - copy a run of atext bytes to out (which may be NULL) */
static void
addr_read_atom(struct addr_cur *c, struct addr_str *out)
{
	while (addr_is_atext(addr_peek(c))) {
		addr_str_putc(out, addr_peek(c));
		c->pos++;
	}
}

/*
 * addr_read_quoted - copy the content of the quoted string at the cursor
 * to out (may be NULL): quotes dropped, quoted pairs unescaped, folds
 * unfolded. False if unterminated or holding a forbidden byte.
 */
static bool
addr_read_quoted(struct addr_cur *c, struct addr_str *out)
{
	int ch;

	c->pos++;			/* the opening quote */
	for (;;) {
		ch = addr_peek(c);
		if (ch == '"') {
			c->pos++;
			return true;
		}
		if (ch == '\\') {
			ch = addr_peek_at(c, 1);
			if (!addr_is_qpair(c, ch))
				return false;
			addr_str_putc(out, ch);
			c->pos += 2;
		} else if (ch == '\r' || ch == '\n') {
			if (!addr_fold(c))
				return false;
		} else if (addr_is_text(c, ch)) {
			addr_str_putc(out, ch);
			c->pos++;
		} else {
			return false;		/* end of input, NUL */
		}
	}
}

/*
 * addr_scan_phrase - step over what may be a display name (words, and dots
 * after the first word) and count its words; the caller looks at the byte
 * that ends it. False on a lexical error inside it.
 */
static bool
addr_scan_phrase(struct addr_cur *c, size_t *nwords)
{
	int ch;

	*nwords = 0;
	for (;;) {
		if (!addr_skip_cfws(c))
			return false;
		ch = addr_peek(c);
		if (addr_is_atext(ch)) {
			addr_read_atom(c, NULL);
			(*nwords)++;
		} else if (ch == '"') {
			if (!addr_read_quoted(c, NULL))
				return false;
			(*nwords)++;
		} else if (ch == '.' && *nwords > 0) {
			c->pos++;		/* obs-phrase: "John Q. Public" */
		} else {
			return true;
		}
	}
}

/* addr_parse_local - a local part: word *("." word), into out */
static bool
addr_parse_local(struct addr_cur *c, struct addr_str *out)
{
	int ch;

	for (;;) {
		if (!addr_skip_cfws(c))
			return false;
		ch = addr_peek(c);
		if (addr_is_atext(ch))
			addr_read_atom(c, out);
		else if (ch != '"' || !addr_read_quoted(c, out))
			return false;
		if (!addr_skip_cfws(c))
			return false;
		if (addr_peek(c) != '.')
			break;
		addr_str_putc(out, '.');
		c->pos++;
	}
	return !out->over;
}

/* addr_parse_literal - a domain literal "[dtext]", brackets kept, into out */
static bool
addr_parse_literal(struct addr_cur *c, struct addr_str *out)
{
	size_t n = 0;
	int ch;

	addr_str_putc(out, '[');
	c->pos++;
	while ((ch = addr_peek(c)) >= 0 && ch != ']') {
		if (!((ch >= 33 && ch <= 90) || (ch >= 94 && ch <= 126)))
			return false;	/* no FWS, '[' or '\\' inside */
		addr_str_putc(out, ch);
		c->pos++;
		n++;
	}
	if (ch != ']' || n == 0)
		return false;
	addr_str_putc(out, ']');
	c->pos++;
	return true;
}

/* addr_parse_dotted - a domain of atoms joined by dots, one trailing dot allowed */
static bool
addr_parse_dotted(struct addr_cur *c, struct addr_str *out)
{
	if (!addr_is_atext(addr_peek(c)))
		return false;
	for (;;) {
		addr_read_atom(c, out);
		if (!addr_skip_cfws(c))
			return false;
		if (addr_peek(c) != '.')
			return true;
		addr_str_putc(out, '.');
		c->pos++;
		if (!addr_skip_cfws(c))
			return false;
		if (!addr_is_atext(addr_peek(c)))
			return true;	/* a trailing dot */
	}
}

/* addr_lower - lower-case the ASCII letters of s */
static void
addr_lower(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s += 'a' - 'A';
}

/*
 * addr_parse_domain - a domain (dotted or literal) into dom, normalised:
 * lower-cased, trailing dot removed, checked with addr_domain_valid().
 */
static bool
addr_parse_domain(struct addr_cur *c, char dom[ADDR_MAX_DOMAIN + 1])
{
	struct addr_str out;
	bool literal;

	addr_str_init(&out, dom, ADDR_MAX_DOMAIN);
	if (!addr_skip_cfws(c))
		return false;
	literal = addr_peek(c) == '[';
	if (literal) {
		if (!addr_parse_literal(c, &out) || !addr_skip_cfws(c))
			return false;
	} else if (!addr_parse_dotted(c, &out)) {
		return false;
	}
	if (out.over)
		return false;
	addr_lower(dom);
	if (literal)
		return true;
	if (!addr_domain_valid(dom))
		return false;
	if (out.len > 0 && dom[out.len - 1] == '.')
		dom[out.len - 1] = '\0';
	return true;
}

/* addr_parse_spec - an addr-spec, local "@" domain, into mb */
static bool
addr_parse_spec(struct addr_cur *c, struct mailbox *mb)
{
	struct addr_str local;

	addr_str_init(&local, mb->local, ADDR_MAX_LOCAL);
	if (!addr_parse_local(c, &local))
		return false;
	if (addr_peek(c) != '@')
		return false;
	c->pos++;
	return addr_parse_domain(c, mb->domain);
}

/*
 * addr_parse_route - an obsolete route "@a,@b:" (RFC 5322 obs-route, RFC
 * 5321 A-d-l): its domains are checked and dropped.
 */
static bool
addr_parse_route(struct addr_cur *c)
{
	char scratch[ADDR_MAX_DOMAIN + 1];
	int ch;

	for (;;) {
		if (!addr_skip_cfws(c))
			return false;
		ch = addr_peek(c);
		if (ch == ',' && !c->smtp) {
			c->pos++;	/* obs-domain-list allows empty ones */
			continue;
		}
		if (ch != '@')
			return false;
		c->pos++;
		if (!addr_parse_domain(c, scratch))
			return false;
		if (!addr_skip_cfws(c))
			return false;
		ch = addr_peek(c);
		if (ch != ':' && ch != ',')
			return false;
		c->pos++;
		if (ch == ':')
			return true;
	}
}

/* addr_parse_angle - an angle address, "<" [route] addr-spec ">" */
static bool
addr_parse_angle(struct addr_cur *c, struct mailbox *mb)
{
	int ch;

	c->pos++;			/* '<' */
	if (!addr_skip_cfws(c))
		return false;
	ch = addr_peek(c);
	if ((ch == '@' || ch == ',') && !addr_parse_route(c))
		return false;
	if (!addr_parse_spec(c, mb) || !addr_skip_cfws(c))
		return false;
	if (addr_peek(c) != '>')
		return false;
	c->pos++;
	return true;
}

/*
 * addr_parse_mailbox - one mailbox (name-addr or addr-spec) into mb, and
 * the CFWS after it. A display name followed by ':' is reported as the
 * start of a group, with the cursor on the ':'.
 */
static enum addr_mbres
addr_parse_mailbox(struct addr_cur *c, struct mailbox *mb)
{
	size_t start = c->pos, nwords;

	memset(mb, 0, sizeof(*mb));
	if (!addr_scan_phrase(c, &nwords))
		return ADDR_MB_ERR;
	switch (addr_peek(c)) {
	case '<':
		if (!addr_parse_angle(c, mb))
			return ADDR_MB_ERR;
		break;
	case '@':
		/* The words were a local part, not a display name. */
		c->pos = start;
		if (!addr_parse_spec(c, mb))
			return ADDR_MB_ERR;
		break;
	case ':':
		return nwords > 0 ? ADDR_MB_GROUP : ADDR_MB_ERR;
	default:
		return ADDR_MB_ERR;	/* no domain, stray special, end */
	}
	return addr_skip_cfws(c) ? ADDR_MB_OK : ADDR_MB_ERR;
}

/* addr_keep - add a mailbox to the list, or note that it did not fit */
static void
addr_keep(struct addrlist *out, const struct mailbox *mb)
{
	if (out->count < ADDR_MAX_MAILBOXES)
		out->box[out->count++] = *mb;
	else
		out->truncated = true;
}

/* addr_parse_group - the mailbox list of a group, from ':' to ';' */
static bool
addr_parse_group(struct addr_cur *c, struct addrlist *out)
{
	struct mailbox mb;
	int ch;

	c->pos++;			/* ':' */
	out->groups = true;
	for (;;) {
		if (!addr_skip_cfws(c))
			return false;
		ch = addr_peek(c);
		if (ch == ';') {
			c->pos++;
			return true;
		}
		if (ch == ',') {
			c->pos++;	/* obs-group-list: empty elements */
			continue;
		}
		if (addr_parse_mailbox(c, &mb) != ADDR_MB_OK)
			return false;	/* also: a group within a group */
		addr_keep(out, &mb);
		ch = addr_peek(c);
		if (ch != ',' && ch != ';')
			return false;
	}
}

/* addr_parse_address - one address (mailbox or group) into out */
static bool
addr_parse_address(struct addr_cur *c, struct addrlist *out)
{
	struct mailbox mb;

	switch (addr_parse_mailbox(c, &mb)) {
	case ADDR_MB_OK:
		addr_keep(out, &mb);
		return true;
	case ADDR_MB_GROUP:
		return addr_parse_group(c, out) && addr_skip_cfws(c);
	case ADDR_MB_ERR:
		break;
	}
	return false;
}

/*
 * addr_list_clear - an empty list; box[] is not zeroed (16 KB): each entry
 * is written whole when a mailbox is kept
 */
static void
addr_list_clear(struct addrlist *out)
{
	out->count = 0;
	out->truncated = false;
	out->groups = false;
}

/* addr_parse_list - the mailboxes of a From/Sender/Reply-To value */
enum addr_status
addr_parse_list(const char *value, size_t len, struct addrlist *out)
{
	struct addr_cur c = { (const unsigned char *)value, len, 0, false };
	size_t naddrs = 0;
	int ch;

	addr_list_clear(out);
	if (value == NULL)
		c.len = 0;
	for (;;) {
		if (!addr_skip_cfws(&c))
			goto syntax;
		ch = addr_peek(&c);
		if (ch < 0)
			break;
		if (ch == ',') {
			c.pos++;	/* obs-addr-list: empty elements */
			continue;
		}
		if (!addr_parse_address(&c, out))
			goto syntax;
		naddrs++;
		ch = addr_peek(&c);
		if (ch >= 0 && ch != ',')
			goto syntax;	/* two addresses, or trailing garbage */
	}
	if (naddrs == 0)
		goto syntax;
	return ADDR_OK;

syntax:
	addr_list_clear(out);
	return ADDR_SYNTAX;
}

/* addr_parse_envelope - the address of MAIL FROM or RCPT TO */
bool
addr_parse_envelope(const char *arg, struct mailbox *out)
{
	struct addr_cur c = { NULL, 0, 0, true };
	size_t b = 0, e;
	bool bracket;

	memset(out, 0, sizeof(*out));
	if (arg == NULL)
		return false;
	e = strlen(arg);
	while (b < e && addr_is_wsp((unsigned char)arg[b]))
		b++;
	while (e > b && addr_is_wsp((unsigned char)arg[e - 1]))
		e--;
	c.s = (const unsigned char *)arg + b;
	c.len = e - b;

	bracket = addr_peek(&c) == '<';
	if (bracket) {
		c.pos++;
		if (addr_peek(&c) == '>' && c.len == 2)
			return true;	/* the null path */
		if (addr_peek(&c) == '@' && !addr_parse_route(&c))
			goto bad;
	}
	if (!addr_parse_spec(&c, out))
		goto bad;
	if (bracket) {
		if (addr_peek(&c) != '>')
			goto bad;
		c.pos++;
	}
	if (c.pos == c.len)
		return true;
bad:
	memset(out, 0, sizeof(*out));
	return false;
}

/* addr_label_valid - one label of n bytes: LDH or UTF-8, no edge hyphen */
static bool
addr_label_valid(const unsigned char *p, size_t n)
{
	size_t i, k;

	if (n < 1 || n > ADDR_MAX_LABEL)
		return false;
	if (p[0] == '-' || p[n - 1] == '-')
		return false;
	for (i = 0; i < n; i += k) {
		k = 1;
		if (p[i] >= 0x80)
			k = util_utf8_seq(p + i, n - i);
		else if (!addr_is_alnum(p[i]) && p[i] != '-')
			return false;	/* '_' included: not in RFC 5321 */
		if (k == 0)
			return false;
	}
	return true;
}

/* addr_from_mailbox - the one mailbox of a From value, or why not */
bool
addr_from_mailbox(const char *value, struct mailbox *box, char *why,
    size_t whylen)
{
	struct addrlist *list = xmalloc(sizeof(*list));
	bool ok = false;

	if (addr_parse_list(value, strlen(value), list) != ADDR_OK)
		snprintf(why, whylen, "From header is not a valid address list");
	else if (list->count != 1 || list->truncated)
		snprintf(why, whylen, "From header does not hold exactly one "
		    "address (%zu%s)", list->count, list->truncated ? "+" : "");
	else {
		*box = list->box[0];
		ok = true;
	}
	free(list);
	return ok;
}

/* addr_domain_valid - is s the text form of a valid DNS name? */
bool
addr_domain_valid(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len, i, start = 0;

	if (s == NULL)
		return false;
	len = strnlen(s, ADDR_MAX_DOMAIN_TEXT + 2);
	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > ADDR_MAX_DOMAIN_TEXT)
		return false;
	for (i = 0; i <= len; i++) {
		if (i < len && s[i] != '.')
			continue;
		if (!addr_label_valid(u + start, i - start))
			return false;
		start = i + 1;
	}
	return true;
}

/*
 * addr_domain_to_ascii - the A-label form of a domain, lower case. An
 * all-ASCII name is only lower-cased; anything else goes through libidn2
 * as IDNA2008 with UTS #46 non-transitional mapping and NFC, so that an
 * upper-case or decomposed (NFD) U-label reaches the same A-label as its
 * canonical spelling.
 */
bool
addr_domain_to_ascii(const char *domain, char *out, size_t outlen)
{
	size_t len = strnlen(domain, ADDR_MAX_DOMAIN_INPUT + 1), i;
	char *in, *ace = NULL;
	bool ascii = true, ok;

	if (len > ADDR_MAX_DOMAIN_INPUT)
		return false;
	if (len > 0 && domain[len - 1] == '.')
		len--;
	for (i = 0; i < len; i++)
		ascii = ascii && (unsigned char)domain[i] < 0x80;
	if (ascii) {
		ok = len > 0 && len < outlen && len <= ADDR_MAX_DOMAIN_TEXT;
		for (i = 0; ok && i < len; i++)
			out[i] = (char)tolower((unsigned char)domain[i]);
		if (ok)
			out[len] = '\0';
		return ok;
	}
	in = xstrndup(domain, len);
	ok = idn2_to_ascii_8z(in, &ace, ADDR_IDN2_FLAGS) == IDN2_OK;
	free(in);
	if (ok) {
		len = strlen(ace);
		if (len > 0 && ace[len - 1] == '.')
			ace[--len] = '\0';
		ok = len > 0 && len < outlen && len <= ADDR_MAX_DOMAIN_TEXT;
		if (ok)
			memcpy(out, ace, len + 1);
		/*
		 * NFC may map a character to ASCII that no domain holds
		 * (U+037E GREEK QUESTION MARK is ";"): the result must be
		 * a domain name itself
		 */
		ok = ok && addr_domain_valid(out);
	}
	idn2_free(ace);
	return ok;
}
