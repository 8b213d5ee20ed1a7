/*
 * netlist.h - lists of IPv4/IPv6 networks in CIDR notation (InternalHosts and
 * the like), and matching of a client address against them.
 *
 * An IPv4-mapped IPv6 address (::ffff:a.b.c.d) matches IPv4 entries.
 * Entries may be negated with a leading '!': the first matching entry decides.
 */
#ifndef AM_NETLIST_H
#define AM_NETLIST_H

#include <stdbool.h>
#include <stddef.h>

/* Upper bound on entries in one list, so a runaway file cannot exhaust memory. */
#define NETLIST_MAX_ENTRIES	100000

struct netlist;

struct netlist *netlist_new(void);
void netlist_free(struct netlist *nl);
/*
 * netlist_add - add "addr", "addr/prefix" or "!addr[/prefix]".
 * Returns false and sets *why (static text) if the entry is malformed.
 */
bool netlist_add(struct netlist *nl, const char *entry, const char **why);
/*
 * netlist_add_list - add entries separated by commas and/or white space.
 * On error returns false, sets *why, and *bad to a copy of the bad entry
 * (caller frees).
 */
bool netlist_add_list(struct netlist *nl, const char *list, const char **why,
    char **bad);
/* netlist_match_str - does the textual address match (and is not negated)? */
bool netlist_match_str(const struct netlist *nl, const char *addr);
/* netlist_match - the same for a binary address: family AF_INET/AF_INET6 */
bool netlist_match(const struct netlist *nl, int family, const void *addr);
size_t netlist_count(const struct netlist *nl);

#endif
