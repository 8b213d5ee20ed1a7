/*
 * spf.h - SPF (RFC 7208) for the MAIL FROM and HELO identities.
 *
 * libspf2 is the evaluator. It is guarded: spf.c gives it DNS through an
 * SPF_dns_server_t layer of ours on top of dns.c (which also counts the
 * DNS-mechanism and void lookups against the RFC 7208 section 4.6.4 limits),
 * checks each record against the RFC 7208 grammar before libspf2 parses it,
 * checks the domain-name rules (sections 4.3 and 7.1), normalises the client
 * address (an IPv4-mapped IPv6 client is an IPv4 client), and corrects the
 * results where libspf2 is known to be wrong.
 *
 * The HELO result is always its own result: it is never reported or used
 * as the MAIL FROM result. When MAIL FROM is empty (a bounce), RFC 7208
 * section 2.4 makes "postmaster@HELO" the MAIL FROM identity.
 */
#ifndef AM_SPF_H
#define AM_SPF_H

#include <stdbool.h>
#include <time.h>

#include "dns.h"

#define SPF_MAX_DNS_MECH	10	/* RFC 7208 4.6.4: DNS-querying terms */
#define SPF_MAX_VOID		2	/* RFC 7208 4.6.4: void lookups */
#define SPF_MAX_MX_NAMES	10	/* RFC 7208 4.6.4: names per mx */
#define SPF_MAX_PTR_NAMES	10	/* RFC 7208 4.6.4: names per ptr */
#define SPF_MAX_EXPLANATION	512	/* bytes of an explanation kept */
#define SPF_MAX_IDENTITY	(64 + 1 + DNS_MAX_NAME)

enum spf_result {
	SPF_RESULT_NONE = 0,
	SPF_RESULT_NEUTRAL,
	SPF_RESULT_PASS,
	SPF_RESULT_FAIL,
	SPF_RESULT_SOFTFAIL,
	SPF_RESULT_TEMPERROR,
	SPF_RESULT_PERMERROR,
};

struct spf_outcome {
	enum spf_result	 result;
	/* the domain checked: MAIL FROM's domain, or the HELO name */
	char		 domain[DNS_MAX_NAME + 1];
	/* the identity as RFC 8601 reports it: "user@domain" or the HELO name */
	char		 identity[SPF_MAX_IDENTITY + 1];
	/* the explanation of a fail (exp= or the default), else "" */
	char		 explanation[SPF_MAX_EXPLANATION + 1];
	/* why, in a few words, for the log and the A-R comment ("" if none) */
	char		 reason[128];
};

struct spf_request {
	const char	*client_ip;	/* textual IPv4 or IPv6 address */
	const char	*helo;		/* as given by the client; may be NULL */
	const char	*mail_from;	/* envelope address without <>, "" = null */
	const char	*receiver;	/* our host name, for the %{r} macro */
	const struct timespec *deadline;	/* DNS budget (CLOCK_MONOTONIC) */
	/* the message's start: its failed lookups are reused (dns_lookup_since) */
	const struct timespec *since;
	struct trace	*trace;		/* check --explain (trace.h), or NULL */
};

/*
 * spf_prefetch - start the first DNS queries for both identities (the TXT
 * records of the MAIL FROM domain and of the HELO name); never blocks.
 */
void spf_prefetch(struct dns_service *dns, const struct spf_request *req);

/*
 * spf_check_mailfrom - check_host() for the MAIL FROM identity (or
 * postmaster@HELO when MAIL FROM is empty). Always fills out.
 */
void spf_check_mailfrom(struct dns_service *dns, const struct spf_request *req,
    struct spf_outcome *out);

/* spf_check_helo - check_host() for the HELO identity. Always fills out. */
void spf_check_helo(struct dns_service *dns, const struct spf_request *req,
    struct spf_outcome *out);

/* spf_result_name - "pass", "fail", "softfail", "neutral", "none", ... */
const char *spf_result_name(enum spf_result r);

/*
 * The parts of the check that need no DNS, for the unit tests (and for any
 * module that wants the same rules).
 */

/* A client address; an IPv4-mapped IPv6 address is stored as IPv4. */
struct spf_addr {
	int		 family;	/* AF_INET (a[0..3]) or AF_INET6 */
	unsigned char	 a[16];
};

/*
 * spf_addr_parse - the client address as the MTA gave it: "192.0.2.1",
 * "2001:db8::1", "::ffff:192.0.2.1" (made IPv4), with an optional "IPv6:"
 * prefix or [brackets]. False when it is not an address.
 */
bool spf_addr_parse(const char *text, struct spf_addr *out);

/*
 * spf_domain_valid - RFC 7208 4.3: may this identity domain be checked at
 * all? False for empty or over-long labels, names over 253 bytes, single
 * labels, domain literals and bytes that are not visible ASCII; check_host()
 * then returns "none". One trailing dot is allowed.
 */
bool spf_domain_valid(const char *domain);

/*
 * spf_record_valid - the RFC 7208 grammar (section 12) and the rules of
 * sections 4.6 and 5-7 for one record of len bytes ("v=spf1 ..."): known
 * mechanisms with their arguments, modifier names, at most one redirect=
 * and one exp=, macro syntax, domain-end rules, CIDR lengths (/0 included),
 * IP literals, visible ASCII only. On false, why (whylen bytes) says what
 * was wrong.
 */
bool spf_record_valid(const char *text, size_t len, char *why, size_t whylen);

/*
 * spf_macro_valid - macro-string syntax (RFC 7208 7.1) of len bytes; exp
 * selects explanation text (spaces and the c, r, t letters allowed).
 */
bool spf_macro_valid(const char *text, size_t len, bool exp);

/* What kind of term (RFC 7208 4.6.1). */
enum spf_kind {
	SPF_K_ALL,
	SPF_K_INCLUDE,
	SPF_K_A,
	SPF_K_MX,
	SPF_K_PTR,
	SPF_K_IP4,
	SPF_K_IP6,
	SPF_K_EXISTS,
	SPF_K_REDIRECT,
	SPF_K_EXP,
	SPF_K_UNKNOWN,		/* an unknown modifier: checked, then ignored */
};

/* One term of a parsed record; arg points into the record text. */
struct spf_term {
	enum spf_kind	 kind;
	char		 qual;		/* '+', '-', '~' or '?' */
	const char	*arg;		/* domain-spec or address, or NULL */
	size_t		 arglen;
	int		 cidr4;		/* -1 when not given */
	int		 cidr6;
	unsigned char	 ip[16];	/* ip4 (4 bytes) / ip6 */
};

/*
 * spf_record_terms - the terms of one record, in order, by the grammar of
 * spf_record_valid (so a record it refuses has no terms): *terms is
 * malloc'ed (free it), their arg points into text. For tools that walk a
 * record without evaluating it (authmilter doctor).
 */
bool spf_record_terms(const char *text, size_t len, struct spf_term **terms,
    size_t *n, char *why, size_t whylen);

/* spf_is_spf1 - does this TXT string select itself ("v=spf1" ...)? */
bool spf_is_spf1(const char *text, size_t len);

/* What the macros of one check stand for (RFC 7208 7.3). */
struct spf_macro_env {
	const char	*client_ip;	/* %{i} %{c} %{v}, as for spf_request */
	const char	*local;		/* %{l}; with domain makes %{s} */
	const char	*domain;	/* %{o} */
	const char	*current;	/* %{d}; NULL (or invalid) = domain */
	const char	*helo;		/* %{h}; may be NULL */
	const char	*receiver;	/* %{r}; may be NULL */
};

/*
 * spf_macro_expand - expand the macro-string text (len bytes) exactly as
 * check_host() does, but without DNS: %{p} is "unknown". exp selects
 * explanation text (spaces, %{c} %{r} %{t}); otherwise text is a
 * domain-spec and the result is cut to a DNS name as section 7.3 says
 * ("" when no name results). NULL when the client address, local-part or
 * domain is unusable, the text is not a valid macro-string, or an
 * explanation would exceed its bound; else a malloc'd string. For the
 * unit tests and the fuzzer.
 */
char *spf_macro_expand(const struct spf_macro_env *env, const char *text,
    size_t len, bool exp);

#endif
