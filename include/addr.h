/*
 * addr.h - RFC 5322 address parsing: the mailboxes in a From (or Sender,
 * Reply-To) header value, and the envelope addresses of SMTP.
 *
 * The parser is written for hostile input: it never reads past the given
 * length, bounds the number of mailboxes it returns, and reports a malformed
 * value as such instead of guessing. It understands display names, quoted
 * strings, comments (nested), angle addresses, groups ("list: a@b, c@d;"),
 * obsolete route syntax and RFC 2047 encoded words in display names (which
 * it skips: they never carry the address). Domains are returned lower-cased
 * with a trailing dot removed; local parts are returned as written (without
 * the quotes of a quoted local part).
 */
#ifndef AM_ADDR_H
#define AM_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#define ADDR_MAX_MAILBOXES	32	/* mailboxes kept from one header */
#define ADDR_MAX_LOCAL		256	/* bytes in a local part */
#define ADDR_MAX_DOMAIN		255	/* bytes in a domain (RFC 1035) */

struct mailbox {
	char	local[ADDR_MAX_LOCAL + 1];
	char	domain[ADDR_MAX_DOMAIN + 1];
};

struct addrlist {
	/* only the first count are set */
	struct mailbox	box[ADDR_MAX_MAILBOXES];
	size_t		count;		/* mailboxes found (at most the max) */
	bool		truncated;	/* there were more than the max */
	bool		groups;		/* a group syntax was seen */
};

enum addr_status {
	ADDR_OK = 0,		/* parsed; count may still be 0 (empty group) */
	ADDR_SYNTAX,		/* malformed: no reliable mailbox can be taken */
};

/*
 * addr_parse_list - parse a mailbox-list/address-list header value of len
 * bytes (folding white space allowed). A mailbox without a domain part, or
 * with an invalid domain, makes the whole value ADDR_SYNTAX.
 */
enum addr_status addr_parse_list(const char *value, size_t len,
    struct addrlist *out);

/*
 * addr_from_mailbox - the one mailbox of a From header value, which must
 * parse and hold exactly one address; false with the reason in why. The
 * signer and the DMARC check both use it, so they judge a From alike.
 */
bool addr_from_mailbox(const char *value, struct mailbox *box, char *why,
    size_t whylen);
/*
 * addr_parse_envelope - parse an SMTP MAIL FROM / RCPT TO argument, with or
 * without angle brackets ("<a@b>", "a@b", "<>"). For the null path, local and
 * domain are empty and true is returned. Returns false when malformed.
 */
bool addr_parse_envelope(const char *arg, struct mailbox *out);

/* addr_domain_valid - is s a syntactically valid DNS domain name (LDH labels,
 * or U-labels in UTF-8), 1..255 bytes, labels 1..63 bytes? */
bool addr_domain_valid(const char *s);
/*
 * addr_domain_to_ascii - the domain with every U-label turned into its
 * A-label ("bücher.example" -> "xn--bcher-kva.example"), ASCII lower-cased,
 * no final dot; for DNS queries. False when it cannot be converted or does
 * not fit outlen.
 */
bool addr_domain_to_ascii(const char *domain, char *out, size_t outlen);

#endif
