/*
 * dmarc.h - DMARC policy evaluation, RFC 9989 (and RFC 7489 on request).
 *
 * Ours, not a library: record parsing, policy discovery and the
 * organizational domain by the DNS tree walk (RFC 9989), psd=, np=, t=,
 * relaxed and strict identifier alignment, and the disposition the domain
 * owner asks for. In RFC 7489 mode the organizational domain comes from the
 * Public Suffix List (libpsl) and pct= is honoured.
 *
 * DNS comes through a small lookup interface (struct dmarc_dns) so that the
 * session can hand it dns.c and the unit tests a table.
 *
 * Strict alignment is exact equality of domains, compared case-insensitively;
 * it never falls back to relaxed.
 */
#ifndef AM_DMARC_H
#define AM_DMARC_H

#include <stdbool.h>
#include <stddef.h>

#include "dns.h"

#define DMARC_MAX_RECORD	2048	/* bytes of a DMARC TXT record parsed */
#define DMARC_MAX_TAGS		32	/* tags in one record */
#define DMARC_MAX_WALK		8	/* RFC 9989 tree walk: queries per domain */
#define DMARC_MAX_DKIM		16	/* DKIM results considered */
#define DMARC_MAX_URIS		512	/* bytes of rua= or ruf= kept */
#define DMARC_MAX_FO		16	/* bytes of fo= kept */

enum dmarc_mode {
	DMARC_MODE_RFC9989 = 0,
	DMARC_MODE_RFC7489,
};

enum dmarc_result {
	DMARC_RESULT_NONE = 0,	/* no policy published */
	DMARC_RESULT_PASS,
	DMARC_RESULT_FAIL,
	DMARC_RESULT_TEMPERROR,
	DMARC_RESULT_PERMERROR,
};

enum dmarc_policy {
	DMARC_POLICY_UNSET = 0,	/* tag absent (sp=, np=) or nothing found */
	DMARC_POLICY_NONE,
	DMARC_POLICY_QUARANTINE,
	DMARC_POLICY_REJECT,
	DMARC_POLICY_UNKNOWN,	/* a DNS error kept the policy from us */
};

enum dmarc_psd {
	DMARC_PSD_UNSET = 0,	/* psd= absent ("u") */
	DMARC_PSD_YES,
	DMARC_PSD_NO,
};

struct dmarc_record {
	enum dmarc_policy p;	/* UNSET only when the record has none (see .c) */
	enum dmarc_policy sp;
	enum dmarc_policy np;
	bool		 adkim_strict;
	bool		 aspf_strict;
	enum dmarc_psd	 psd;
	bool		 testing;	/* t=y */
	unsigned	 pct;		/* 0..100, default 100; RFC 7489 mode only */
};

/* The reporting tags of a record, as published: "" when absent. */
struct dmarc_reporting {
	char		 rua[DMARC_MAX_URIS + 1];	/* cut at DMARC_MAX_URIS */
	char		 ruf[DMARC_MAX_URIS + 1];
	char		 fo[DMARC_MAX_FO + 1];
};

enum dmarc_parse {
	DMARC_PARSE_OK = 0,
	DMARC_PARSE_NOT_DMARC,	/* does not start with v=DMARC1: not a record */
	DMARC_PARSE_INVALID,	/* v=DMARC1 but unusable: why says what */
};

/* dmarc_record_parse - parse one TXT record (len bytes, may hold NULs) */
enum dmarc_parse dmarc_record_parse(const char *txt, size_t len,
    struct dmarc_record *rec, char *why, size_t whylen);

/*
 * The DNS under the evaluation: lookup returns an answer (never NULL) that
 * the caller releases with dns_answer_free. Types asked: TXT for records,
 * A, AAAA and MX for the existence test behind np=.
 */
struct dmarc_dns {
	struct dns_answer *(*lookup)(void *arg, const char *name, unsigned type);
	void		*arg;
};

/* What SPF and DKIM established, for alignment. */
struct dmarc_dkim {
	const char	*domain;	/* d= */
	bool		 pass;		/* a pass that counts for DMARC */
	bool		 temperror;	/* could not be checked for a DNS reason */
};

struct dmarc_auth {
	bool		 spf_pass;
	bool		 spf_temperror;
	const char	*spf_domain;	/* MAIL FROM domain (HELO when null) */
	struct dmarc_dkim dkim[DMARC_MAX_DKIM];
	size_t		 ndkim;
};

struct trace;

struct dmarc_params {
	enum dmarc_mode	 mode;
	unsigned	 roll;		/* 0..99, compared with pct= in RFC 7489 mode */
	struct trace	*trace;		/* check --explain (trace.h), or NULL */
};

struct dmarc_outcome {
	enum dmarc_result result;
	/*
	 * The published policy governing this message; UNKNOWN when a DNS
	 * error kept it from us (the record, or the existence test that
	 * chooses between sp= and np=): never a guessed none.
	 */
	enum dmarc_policy policy;
	enum dmarc_policy disposition;	/* after t= (and pct=); NONE on pass */
	char		 header_from[DNS_MAX_NAME + 1];
	char		 policy_domain[DNS_MAX_NAME + 1];	/* record found at */
	char		 org_domain[DNS_MAX_NAME + 1];
	bool		 spf_aligned;
	bool		 dkim_aligned;
	bool		 testing;	/* t=y applied */
	bool		 sampled_out;	/* pct= made it milder (RFC 7489 mode) */
	char		 reason[160];	/* a few words for the log / A-R comment */
	/*
	 * The record that governs (valid, at policy_domain), as published,
	 * and how it was found: what an aggregate report says of the policy.
	 */
	bool		 have_record;
	struct dmarc_record record;
	struct dmarc_reporting reporting;
	enum dmarc_mode	 discovery;	/* treewalk (RFC 9989) or psl */
};

/*
 * dmarc_prefetch_names - the first names the evaluation will query for
 * from_domain ("_dmarc.<domain>"), so the session can start them early.
 * Writes at most n names of DNS_MAX_NAME + 1 bytes; returns how many.
 */
size_t dmarc_prefetch_names(const char *from_domain,
    char names[][DNS_MAX_NAME + 1], size_t n);

/*
 * dmarc_evaluate - the DMARC result for a message whose RFC5322.From domain
 * is from_domain (already validated and lower-cased by the caller). Always
 * fills out.
 */
void dmarc_evaluate(const struct dmarc_dns *dns, const struct dmarc_params *p,
    const char *from_domain, const struct dmarc_auth *auth,
    struct dmarc_outcome *out);

/*
 * dmarc_org_domain - the organizational domain of a domain, by the method
 * of the mode (tree walk, or the Public Suffix List). For alignment and
 * tests. Returns false on a DNS temporary error.
 */
bool dmarc_org_domain(const struct dmarc_dns *dns, enum dmarc_mode mode,
    const char *domain, char *org, size_t orglen);

const char *dmarc_result_name(enum dmarc_result r);
/* dmarc_policy_name - "none" (UNSET too), "quarantine", "reject", "unknown" */
const char *dmarc_policy_name(enum dmarc_policy p);

/*
 * Why the action taken differs from the policy published (RFC 9990
 * PolicyOverrideType); NONE when it does not.
 */
enum dmarc_override {
	DMARC_OVERRIDE_NONE = 0,
	DMARC_OVERRIDE_TRUSTED_FORWARDER,
	DMARC_OVERRIDE_MAILING_LIST,
	DMARC_OVERRIDE_LOCAL_POLICY,
	DMARC_OVERRIDE_POLICY_TEST_MODE,
	DMARC_OVERRIDE_OTHER,
	DMARC_NOVERRIDES
};
/* dmarc_override_name - "none", "trusted_forwarder", ... as RFC 9990 */
const char *dmarc_override_name(enum dmarc_override o);

#endif
