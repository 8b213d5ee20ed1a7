/*
 * NAME
 *	netlist - lists of IPv4 and IPv6 networks, and address matching
 * SYNOPSIS
 *	#include "netlist.h"
 *
 *	struct netlist *netlist_new(void);
 *	void netlist_free(struct netlist *nl);
 *	bool netlist_add(struct netlist *nl, const char *entry,
 *	    const char **why);
 *	bool netlist_add_list(struct netlist *nl, const char *list,
 *	    const char **why, char **bad);
 *	bool netlist_match_str(const struct netlist *nl, const char *addr);
 *	bool netlist_match(const struct netlist *nl, int family,
 *	    const void *addr);
 *	size_t netlist_count(const struct netlist *nl);
 * DESCRIPTION
 *	A netlist is an ordered list of networks such as InternalHosts. An
 *	entry is "addr", "addr/prefix", or either of them after a '!' that
 *	negates it. A bare address is a host (/32 or /128). Host bits set
 *	beyond the prefix are ignored ("10.1.2.3/8" is 10.0.0.0/8), as
 *	OpenDKIM does.
 *
 *	Matching walks the list in order and the first entry that contains
 *	the address decides: a plain entry matches, a negated one refuses.
 *	No matching entry means no match.
 *
 *	An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is an IPv4 client: it
 *	matches IPv4 entries, and IPv6 entries that contain it as an IPv6
 *	address (::/0 still matches everything). An entry written as a
 *	mapped network with a prefix of at least 96 is stored as the IPv4
 *	network it denotes.
 *
 *	Host names are not accepted: resolving them would need the blocking
 *	system resolver. Files of entries are config's business, not ours.
 * DIAGNOSTICS
 *	netlist_add() and netlist_add_list() return false and point *why at
 *	static text naming the problem. netlist_add_list() adds nothing when
 *	it fails. The list holds at most NETLIST_MAX_ENTRIES entries.
 */
#include "buildconf.h"

#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netlist.h"
#include "util.h"

#define NETLIST_MAX_TEXT	64	/* bytes in one "!addr/prefix" entry */
#define NETLIST_MAX_PREFIX_DIGITS 3	/* "128" */
#define NETLIST_V4_BITS		32
#define NETLIST_V6_BITS		128
#define NETLIST_V4_BYTES	4
#define NETLIST_V6_BYTES	16
#define NETLIST_MAPPED_BITS	96	/* the ::ffff:0:0/96 prefix */
#define NETLIST_INITIAL_CAP	16

struct netent {
	int		family;		/* AF_INET or AF_INET6 */
	unsigned	prefix;		/* bits that must match */
	bool		negate;
	unsigned char	addr[NETLIST_V6_BYTES];	/* bits past prefix unused */
};

struct netlist {
	struct netent	*ents;
	size_t		 count;
	size_t		 cap;
};

/* The first 12 bytes of an IPv4-mapped IPv6 address. */
static const unsigned char netlist_mapped_head[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* netlist_new - an empty list */
struct netlist *
netlist_new(void)
{
	return xcalloc(1, sizeof(struct netlist));
}

/* netlist_free - release a list; NULL is fine */
void
netlist_free(struct netlist *nl)
{
	if (nl == NULL)
		return;
	free(nl->ents);
	free(nl);
}

/* netlist_count - how many entries the list holds */
size_t
netlist_count(const struct netlist *nl)
{
	return nl == NULL ? 0 : nl->count;
}

/* netlist_is_mapped - is the 16-byte address an IPv4-mapped one? */
static bool
netlist_is_mapped(const unsigned char *a6)
{
	return memcmp(a6, netlist_mapped_head, sizeof netlist_mapped_head) == 0;
}

/* netlist_prefix_eq - do a and b agree in their first prefix bits? */
static bool
netlist_prefix_eq(const unsigned char *a, const unsigned char *b,
    unsigned prefix)
{
	size_t whole = prefix / 8;
	unsigned rest = prefix % 8;
	unsigned char mask;

	if (memcmp(a, b, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (unsigned char)(0xff00u >> rest);
	return (a[whole] & mask) == (b[whole] & mask);
}

/* netlist_parse_prefix - decimal prefix length in [0, max] */
static bool
netlist_parse_prefix(const char *s, unsigned max, unsigned *out,
    const char **why)
{
	unsigned v = 0;
	size_t n = 0;

	if (*s == '\0') {
		*why = "missing prefix length after '/'";
		return false;
	}
	for (; s[n] != '\0'; n++) {
		if (s[n] < '0' || s[n] > '9' ||
		    n >= NETLIST_MAX_PREFIX_DIGITS) {
			*why = "invalid prefix length";
			return false;
		}
		v = v * 10 + (unsigned)(s[n] - '0');
	}
	if (v > max) {
		*why = max == NETLIST_V4_BITS ?
		    "prefix length out of range (IPv4 allows 0 to 32)" :
		    "prefix length out of range (IPv6 allows 0 to 128)";
		return false;
	}
	*out = v;
	return true;
}

/* netlist_parse_addr - the address part of an entry into e */
static bool
netlist_parse_addr(const char *s, struct netent *e, const char **why)
{
	memset(e->addr, 0, sizeof e->addr);
	if (*s == '\0') {
		*why = "missing address";
		return false;
	}
	if (strchr(s, ':') != NULL) {
		if (inet_pton(AF_INET6, s, e->addr) != 1) {
			*why = "invalid IPv6 address";
			return false;
		}
		e->family = AF_INET6;
		return true;
	}
	if (inet_pton(AF_INET, s, e->addr) != 1) {
		*why = "not an IP address or network (host names are not "
		    "supported)";
		return false;
	}
	e->family = AF_INET;
	return true;
}

/* netlist_unmap - store a mapped IPv6 network of /96 or longer as IPv4 */
static void
netlist_unmap(struct netent *e)
{
	if (e->family != AF_INET6 || e->prefix < NETLIST_MAPPED_BITS ||
	    !netlist_is_mapped(e->addr))
		return;
	memmove(e->addr, e->addr + sizeof netlist_mapped_head,
	    NETLIST_V4_BYTES);
	memset(e->addr + NETLIST_V4_BYTES, 0,
	    NETLIST_V6_BYTES - NETLIST_V4_BYTES);
	e->family = AF_INET;
	e->prefix -= NETLIST_MAPPED_BITS;
}

/* netlist_parse - one entry, already trimmed, into e */
static bool
netlist_parse(char *s, struct netent *e, const char **why)
{
	char *slash;
	unsigned max;

	e->negate = false;
	if (*s == '!') {
		e->negate = true;
		s++;
	}
	slash = strchr(s, '/');
	if (slash != NULL)
		*slash = '\0';
	if (!netlist_parse_addr(s, e, why))
		return false;
	max = e->family == AF_INET ? NETLIST_V4_BITS : NETLIST_V6_BITS;
	e->prefix = max;
	if (slash != NULL && !netlist_parse_prefix(slash + 1, max, &e->prefix,
	    why))
		return false;
	netlist_unmap(e);
	return true;
}

/* netlist_push - append a parsed entry */
static bool
netlist_push(struct netlist *nl, const struct netent *e, const char **why)
{
	if (nl->count >= NETLIST_MAX_ENTRIES) {
		*why = "too many entries in the list";
		return false;
	}
	if (nl->count == nl->cap) {
		nl->cap = nl->cap ? nl->cap * 2 : NETLIST_INITIAL_CAP;
		if (nl->cap > NETLIST_MAX_ENTRIES)
			nl->cap = NETLIST_MAX_ENTRIES;
		nl->ents = xrealloc(nl->ents, nl->cap * sizeof *nl->ents);
	}
	nl->ents[nl->count++] = *e;
	return true;
}

/* netlist_add - parse one entry and append it */
bool
netlist_add(struct netlist *nl, const char *entry, const char **why)
{
	char text[NETLIST_MAX_TEXT + 1];
	struct netent e;
	size_t len;
	char *s;

	len = strnlen(entry, sizeof text);
	if (len >= sizeof text) {
		*why = "entry too long";
		return false;
	}
	memcpy(text, entry, len + 1);
	s = util_trim(text);
	if (*s == '\0') {
		*why = "empty entry";
		return false;
	}
	if (!netlist_parse(s, &e, why))
		return false;
	return netlist_push(nl, &e, why);
}

/* netlist_is_sep - does c separate entries in a list? */
static bool
netlist_is_sep(char c)
{
	return c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* netlist_add_list - add every entry of a comma/space separated list */
bool
netlist_add_list(struct netlist *nl, const char *list, const char **why,
    char **bad)
{
	size_t before = nl->count;
	const char *p = list, *start;

	*bad = NULL;
	for (;;) {
		char *tok;
		bool ok;

		while (netlist_is_sep(*p))
			p++;
		if (*p == '\0')
			return true;
		start = p;
		while (*p != '\0' && !netlist_is_sep(*p))
			p++;
		tok = xstrndup(start, (size_t)(p - start));
		ok = netlist_add(nl, tok, why);
		if (!ok) {
			nl->count = before;
			*bad = tok;
			return false;
		}
		free(tok);
	}
}

/* netlist_entry_has - does entry e contain the address (family, bytes)? */
static bool
netlist_entry_has(const struct netent *e, int family,
    const unsigned char *addr)
{
	return e->family == family && netlist_prefix_eq(e->addr, addr,
	    e->prefix);
}

/* netlist_match - first entry containing the address decides */
bool
netlist_match(const struct netlist *nl, int family, const void *addr)
{
	const unsigned char *a = addr, *a4 = NULL;

	if (nl == NULL || addr == NULL)
		return false;
	if (family != AF_INET && family != AF_INET6)
		return false;
	if (family == AF_INET6 && netlist_is_mapped(a))
		a4 = a + sizeof netlist_mapped_head;
	for (size_t i = 0; i < nl->count; i++) {
		const struct netent *e = &nl->ents[i];

		if (netlist_entry_has(e, family, a) ||
		    (a4 != NULL && netlist_entry_has(e, AF_INET, a4)))
			return !e->negate;
	}
	return false;
}

/* netlist_match_str - the same for an address in text form */
bool
netlist_match_str(const struct netlist *nl, const char *addr)
{
	unsigned char bin[NETLIST_V6_BYTES];

	if (addr == NULL)
		return false;
	if (inet_pton(AF_INET, addr, bin) == 1)
		return netlist_match(nl, AF_INET, bin);
	if (inet_pton(AF_INET6, addr, bin) == 1)
		return netlist_match(nl, AF_INET6, bin);
	return false;
}
