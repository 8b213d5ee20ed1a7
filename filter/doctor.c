/*
 * NAME
 *	doctor - a domain's published records checked against the local
 *	configuration and live DNS
 * SYNOPSIS
 *	#include "doctor.h"
 *
 *	void doctor_run(const struct doctor_request *req,
 *	    struct doctor_report *rep);
 *	const char *doctor_severity_name(enum doctor_severity s);
 *	void doctor_add(rep, check, severity, fmt, ...);
 *	bool doctor_dkim_parse(txt, len, key, why, whylen);
 *	void doctor_spf_count(dns, domain, text, len, family, out);
 * DESCRIPTION
 *	The checks, in the order they are reported:
 *
 *	config	which keys of the configuration sign mail of the domain: the
 *		SigningTable lines that can match an address at it, and the
 *		KeyTable entries they name ("%" is the domain).
 *	dkim	for each such key, the TXT record at selector._domainkey.d:
 *		present, one record, a DKIM key record (v=, p=, k=, t=, h=,
 *		s=), and its p= the public half of the private key on disk
 *		(keys_match_p); the key's algorithm and size, t=y left on,
 *		h= without sha256, s= without email. Then the selectors that
 *		the configuration names for other domains and a few common
 *		ones (a zone cannot be listed): a key published there that
 *		no configured key uses is reported, as information.
 *	spf	exactly one "v=spf1" TXT record; its grammar (spf.c); the
 *		DNS-querying terms (limit 10) and void lookups (limit 2)
 *		counted by walking include, redirect, a, mx, ptr and exists
 *		the way spf.c's DNS layer counts them, for an IPv4 and for an
 *		IPv6 client that match nothing (the most lookups any client
 *		can cause); and, for each --ip, the result of spf.c's
 *		evaluator for "postmaster@domain" from that address.
 *	dmarc	the record RFC 9989's tree walk finds (dmarc.c's discovery,
 *		for a message that fails) and what RFC 7489 mode would find
 *		when that differs; its tags as published: pct, rf and ri,
 *		removed by RFC 9989, and unknown tags are warnings; p=, sp=,
 *		np=, adkim=, aspf= and t= explained; every rua= and ruf=
 *		destination outside the policy domain's organizational domain
 *		authorised by a "v=DMARC1" TXT record at
 *		<policy-domain>._report._dmarc.<host> (RFC 9990); and each
 *		configured signing domain aligned with the domain.
 *	mx	MX records, a null MX (RFC 7505), or an address to fall back
 *		to; each exchange has an address.
 *	reports	when the configuration records or sends DMARC reports: the
 *		store, the sender's name and address, the sendmail program
 *		(doctor_reports.c).
 *
 *	A configuration file that does not load is an error of check
 *	"config", and the published records are checked on their own.
 *
 *	A finding is an error when it makes mail fail (a key that does not
 *	match, an SPF permerror, no DMARC record where the domain signs
 *	mail, a DNS failure that receivers will see), a warning when mail
 *	works but the record should change, and ok otherwise.
 *
 *	The names the checks need are prefetched at the start, so the
 *	lookups run in parallel in dns.c; each lookup waits at most the
 *	DNS service's own timeout.
 * DIAGNOSTICS
 *	Nothing is logged: every problem is a finding.
 */
#include "buildconf.h"

#include <sys/socket.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "dmarc.h"
#include "dns.h"
#include "doctor.h"
#include "keys.h"
#include "keytable.h"
#include "report.h"
#include "report_dest.h"
#include "signtable.h"
#include "spf.h"
#include "util.h"

#define DOCTOR_DKIM_PREFIX	"._domainkey."
#define DOCTOR_REPORT_INFIX	"._report._dmarc."
#define DOCTOR_DMARC_PREFIX	"_dmarc."
#define DOCTOR_MAX_TAG		32	/* bytes of a tag name kept */
#define DOCTOR_MAX_LIST		160	/* bytes of a list in a text */
#define DOCTOR_MAX_URI		256	/* bytes of one report URI */
#define DOCTOR_MAX_WHY		256	/* bytes of a reason quoted */
#define DOCTOR_RSA_GOOD_BITS	2048	/* below: a warning (RFC 8301) */
#define DOCTOR_MX_SHOWN		4	/* exchanges named in the MX line */

/* Selectors often used, probed for keys no configuration names. */
static const char *const doctor_common_selectors[] = {
	"default", "dkim", "mail", "selector1", "selector2", "google",
	"k1", "k2", "s1", "s2", "key1", "key2", "smtp", "email",
};
#define DOCTOR_NCOMMON \
	(sizeof(doctor_common_selectors) / sizeof(doctor_common_selectors[0]))
#define DOCTOR_MAX_PROBES	(DOCTOR_NCOMMON + DOCTOR_MAX_KEYS)

/* One signing key the configuration holds for the domain. */
struct doctor_key {
	char		 d[DNS_MAX_NAME + 1];	/* d= */
	const struct keyentry *ke;
	unsigned	 line;		/* of the SigningTable */
};

/* One run. */
struct doctor {
	const struct doctor_request *req;
	struct doctor_report *rep;
	struct doctor_dns dns;
	char		 domain[DNS_MAX_NAME + 1];
	struct doctor_key keys[DOCTOR_MAX_KEYS];
	size_t		 nkeys;
};

/* doctor_severity_name - the word of a severity */
const char *
doctor_severity_name(enum doctor_severity s)
{
	switch (s) {
	case DOCTOR_WARNING:	return "warning";
	case DOCTOR_ERROR:	return "error";
	default:		return "ok";
	}
}

/* doctor_add - one finding */
void
doctor_add(struct doctor_report *rep, const char *check,
    enum doctor_severity sev, const char *fmt, ...)
{
	struct doctor_finding *f;
	va_list ap;

	if (sev > rep->worst)
		rep->worst = sev;
	if (rep->nfindings >= DOCTOR_MAX_FINDINGS) {
		rep->dropped++;
		return;
	}
	f = &rep->findings[rep->nfindings++];
	snprintf(f->check, sizeof(f->check), "%s", check);
	f->severity = sev;
	va_start(ap, fmt);
	vsnprintf(f->text, sizeof(f->text), fmt, ap);
	va_end(ap);
}

/* doctor_lookup - one answer (never NULL) */
static struct dns_answer *
doctor_lookup(const struct doctor_dns *dns, const char *name, unsigned type)
{
	struct dns_answer *a = dns->lookup(dns->arg, name, type);

	return a != NULL ? a : dns_answer_make(DNS_SERVFAIL, type, NULL, 0);
}

/* doctor_empty - an answer that says "no such record" (a void lookup) */
static bool
doctor_empty(const struct dns_answer *a)
{
	return a->status == DNS_NODATA || a->status == DNS_NXDOMAIN ||
	    (a->status == DNS_OK && a->nrecords == 0);
}

/* doctor_lower - a name as we compare it: lower case, no final dot */
static void
doctor_lower(char *dst, size_t size, const char *src, size_t len)
{
	size_t n = 0;

	if (len > 0 && src[len - 1] == '.')
		len--;
	for (size_t i = 0; i < len && n + 1 < size; i++)
		dst[n++] = (char)(src[i] >= 'A' && src[i] <= 'Z' ?
		    src[i] - 'A' + 'a' : src[i]);
	dst[n] = '\0';
}

/* ---------------------------------------------------------------------
 * DKIM key records
 */

/* doctor_is_wsp - white space of a tag-list (FWS without the CRLF) */
static bool
doctor_is_wsp(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* doctor_list_has - a ":"-separated list of len bytes contains word */
static bool
doctor_list_has(const char *v, size_t len, const char *word)
{
	size_t i = 0, wl = strlen(word);

	while (i < len) {
		size_t s, e;

		while (i < len && doctor_is_wsp(v[i]))
			i++;
		s = i;
		while (i < len && v[i] != ':')
			i++;
		e = i;
		while (e > s && doctor_is_wsp(v[e - 1]))
			e--;
		if (e - s == wl && strncasecmp(v + s, word, wl) == 0)
			return true;
		i++;
	}
	return false;
}

/* doctor_dkim_tag - take one tag of a key record */
static void
doctor_dkim_tag(struct doctor_dkim_key *key, const char *name,
    const char *v, size_t vlen)
{
	if (strcmp(name, "k") == 0)
		doctor_lower(key->k, sizeof(key->k), v, vlen);
	else if (strcmp(name, "p") == 0) {
		key->p = v;
		key->plen = vlen;
	} else if (strcmp(name, "t") == 0) {
		key->testing = doctor_list_has(v, vlen, "y");
		key->strict = doctor_list_has(v, vlen, "s");
	} else if (strcmp(name, "h") == 0) {
		key->have_h = true;
		key->h_sha256 = doctor_list_has(v, vlen, "sha256");
	} else if (strcmp(name, "s") == 0) {
		key->have_s = true;
		key->s_email = doctor_list_has(v, vlen, "email") ||
		    doctor_list_has(v, vlen, "*");
	}
}

/* doctor_dkim_parse - a DKIM key record (RFC 6376 3.2, 3.6.1) */
bool
doctor_dkim_parse(const char *txt, size_t len, struct doctor_dkim_key *key,
    char *why, size_t whylen)
{
	static const char *const known[] = { "v", "h", "k", "n", "p", "s",
	    "t" };
	unsigned seen = 0;
	size_t i = 0, ntag = 0;

	memset(key, 0, sizeof(*key));
	snprintf(key->k, sizeof(key->k), "rsa");
	snprintf(why, whylen, "%s", "");
	while (i < len) {
		char name[DOCTOR_MAX_TAG];
		size_t ns, ne, vs, ve, k;

		while (i < len && doctor_is_wsp(txt[i]))
			i++;
		if (i == len)
			break;
		if (txt[i] == ';') {	/* an empty tag: tolerated */
			i++;
			continue;
		}
		ns = i;
		while (i < len && txt[i] != '=' && txt[i] != ';')
			i++;
		ne = i;
		while (ne > ns && doctor_is_wsp(txt[ne - 1]))
			ne--;
		if (i == len || txt[i] != '=' || ne == ns) {
			snprintf(why, whylen, "\"%.*s\" is not tag=value",
			    (int)(ne - ns > 40 ? 40 : ne - ns), txt + ns);
			return false;
		}
		vs = ++i;
		while (i < len && txt[i] != ';')
			i++;
		ve = i;
		while (vs < ve && doctor_is_wsp(txt[vs]))
			vs++;
		while (ve > vs && doctor_is_wsp(txt[ve - 1]))
			ve--;
		doctor_lower(name, sizeof(name), txt + ns, ne - ns);
		ntag++;
		for (k = 0; k < sizeof(known) / sizeof(known[0]); k++)
			if (strcmp(name, known[k]) == 0)
				break;
		if (k < sizeof(known) / sizeof(known[0])) {
			if (seen & (1u << k)) {
				snprintf(why, whylen, "tag %s= given twice",
				    name);
				return false;
			}
			seen |= 1u << k;
		}
		if (strcmp(name, "v") == 0 && (ntag != 1 || ve - vs != 5 ||
		    strncmp(txt + vs, "DKIM1", 5) != 0)) {
			snprintf(why, whylen, "v= must come first and be "
			    "DKIM1");
			return false;
		}
		doctor_dkim_tag(key, name, txt + vs, ve - vs);
	}
	if (key->p == NULL) {
		snprintf(why, whylen, "no p= tag: not a DKIM key record");
		return false;
	}
	return true;
}

/* ---------------------------------------------------------------------
 * The configuration's keys for the domain
 */

/* doctor_keys - the KeyTable entries the SigningTable uses for domain */
static void
doctor_keys(struct doctor *d)
{
	const struct config *cfg = d->req->cfg;
	const struct signtable *st = cfg != NULL ? cfg->signtable : NULL;

	for (size_t i = 0; st != NULL && i < st->count; i++) {
		const struct signentry *e = &st->entries[i];
		const char *name = strcmp(e->keyname, "%") == 0 ? d->domain :
		    e->keyname;
		const struct keyentry *ke;
		struct doctor_key *k;
		bool dup = false;

		if (!signtable_covers(st, e, d->domain))
			continue;
		if ((ke = keytable_find(cfg->keytable, name)) == NULL) {
			doctor_add(d->rep, "config", DOCTOR_ERROR, "SigningTable "
			    "line %u (%s) names the key \"%s\", which the "
			    "KeyTable does not have: mail it matches is not "
			    "signed", e->line, e->pattern, name);
			continue;
		}
		for (size_t j = 0; j < d->nkeys; j++)
			dup |= d->keys[j].ke == ke;
		if (dup || d->nkeys >= DOCTOR_MAX_KEYS)
			continue;
		k = &d->keys[d->nkeys++];
		k->ke = ke;
		k->line = e->line;
		if (strcmp(ke->domain, "%") == 0)
			snprintf(k->d, sizeof(k->d), "%s", d->domain);
		else
			doctor_lower(k->d, sizeof(k->d), ke->domain,
			    strlen(ke->domain));
	}
	if (d->nkeys > 0) {
		doctor_add(d->rep, "config", DOCTOR_OK, "%zu signing key%s "
		    "configured for %s%s", d->nkeys, d->nkeys == 1 ? "" : "s",
		    d->domain, d->nkeys > 1 && !cfg->multiple_signatures ?
		    " (MultipleSignatures is off: each message gets the first "
		    "that matches)" : "");
	} else if (d->req->have_config)
		doctor_add(d->rep, "config", DOCTOR_WARNING, "%s has no "
		    "signing key for %s: its mail leaves unsigned, and DMARC "
		    "then rests on SPF alone", cfg->path ? cfg->path :
		    "the configuration", d->domain);
	else if (d->req->config_error == NULL)
		doctor_add(d->rep, "config", DOCTOR_OK, "no configuration file "
		    "read: the published records are checked on their own");
}

/* ---------------------------------------------------------------------
 * DKIM
 */

/* doctor_key_name - selector._domainkey.d, or false when too long */
static bool
doctor_key_name(char *out, size_t size, const char *sel, const char *d)
{
	size_t n = (size_t)snprintf(out, size, "%s" DOCTOR_DKIM_PREFIX "%s",
	    sel, d);

	return n < size && n <= DNS_MAX_NAME;
}

/*
 * doctor_dkim_record - the one DKIM key record of an answer, parsed;
 * NULL (with why) when there is none
 */
static const struct dns_record *
doctor_dkim_record(const struct dns_answer *a, struct doctor_dkim_key *key,
    size_t *nkeys, char *why, size_t whylen)
{
	const struct dns_record *pick = NULL;
	char w[DOCTOR_MAX_TEXT / 2];

	*nkeys = 0;
	snprintf(why, whylen, "no TXT record");
	for (size_t i = 0; a->status == DNS_OK && i < a->nrecords; i++) {
		const struct dns_record *r = &a->records[i];
		struct doctor_dkim_key k;

		if (r->text == NULL)
			continue;
		if (!doctor_dkim_parse(r->text, r->len, &k, w, sizeof(w))) {
			if (pick == NULL)
				snprintf(why, whylen, "%s", w);
			continue;
		}
		if ((*nkeys)++ == 0) {
			pick = r;
			*key = k;
		}
	}
	return pick;
}

/* doctor_dkim_key - one configured key against its published record */
static void
doctor_dkim_key(struct doctor *d, const struct doctor_key *k)
{
	const struct privkey *pk = k->ke->key;
	const char *alg = pk->alg == KEY_ALG_ED25519 ? "ed25519" : "rsa";
	char name[DNS_MAX_NAME + 1], why[DOCTOR_MAX_TEXT / 2];
	struct doctor_dkim_key key;
	struct dns_answer *a;
	size_t nkeys;

	if (!doctor_key_name(name, sizeof(name), k->ke->selector, k->d)) {
		doctor_add(d->rep, "dkim", DOCTOR_ERROR, "key \"%s\": %s"
		    DOCTOR_DKIM_PREFIX "%s is too long for DNS", k->ke->name,
		    k->ke->selector, k->d);
		return;
	}
	a = doctor_lookup(&d->dns, name, DNS_T_TXT);
	if (a->status != DNS_OK && !doctor_empty(a)) {
		doctor_add(d->rep, "dkim", DOCTOR_ERROR, "%s: DNS %s: verifiers "
		    "get temperror for signatures with this key (key \"%s\")",
		    name, dns_status_name(a->status), k->ke->name);
		goto out;
	}
	if (doctor_dkim_record(a, &key, &nkeys, why, sizeof(why)) == NULL) {
		doctor_add(d->rep, "dkim", DOCTOR_ERROR, "%s: no key published "
		    "(%s): every signature with the key \"%s\" (%s) fails; "
		    "publish its public key (the .txt file authmilter keygen "
		    "wrote)", name, a->status == DNS_OK ? why :
		    dns_status_name(a->status), k->ke->name, pk->path);
		goto out;
	}
	if (nkeys > 1)
		doctor_add(d->rep, "dkim", DOCTOR_WARNING, "%s: %zu key records: "
		    "verifiers may use any one of them; keep one", name, nkeys);
	if (key.plen == 0) {
		doctor_add(d->rep, "dkim", DOCTOR_ERROR, "%s: the key is revoked "
		    "(empty p=): every signature with the key \"%s\" fails",
		    name, k->ke->name);
		goto out;
	}
	if (strcmp(key.k, alg) != 0) {
		doctor_add(d->rep, "dkim", DOCTOR_ERROR, "%s: k=%s, but the "
		    "private key %s is %s: every signature with it fails", name,
		    key.k, pk->path, pk->alg == KEY_ALG_ED25519 ? "Ed25519" :
		    "RSA");
		goto out;
	}
	switch (keys_match_p(pk, key.p, key.plen)) {
	case KEYS_MATCH:
		snprintf(why, sizeof(why), ", %u bits", pk->bits);
		doctor_add(d->rep, "dkim", DOCTOR_OK, "%s: %s%s, matches the "
		    "private key %s (key \"%s\", SigningTable line %u)", name,
		    keys_alg_name(pk->alg), pk->alg == KEY_ALG_RSA ? why : "",
		    pk->path, k->ke->name, k->line);
		break;
	case KEYS_MISMATCH:
		doctor_add(d->rep, "dkim", DOCTOR_ERROR, "%s: the published key "
		    "does not match the private key %s: every signature with "
		    "the key \"%s\" fails; publish its public key", name,
		    pk->path, k->ke->name);
		goto out;
	default:
		doctor_add(d->rep, "dkim", DOCTOR_ERROR, "%s: p= is not a valid "
		    "%s public key: every signature with the key \"%s\" fails",
		    name, alg, k->ke->name);
		goto out;
	}
	if (pk->alg == KEY_ALG_RSA && pk->bits < DOCTOR_RSA_GOOD_BITS)
		doctor_add(d->rep, "dkim", DOCTOR_WARNING, "%s: a %u-bit RSA key "
		    "is the least RFC 8301 allows; make a %d-bit one", name,
		    pk->bits, DOCTOR_RSA_GOOD_BITS);
	if (key.testing)
		doctor_add(d->rep, "dkim", DOCTOR_WARNING, "%s: t=y (testing) "
		    "is still on: verifiers may treat the signatures as "
		    "absent; publish the record again without it", name);
	if (key.strict)
		doctor_add(d->rep, "dkim", DOCTOR_OK, "%s: t=s: the i= of a "
		    "signature must be in d=%s itself, not a subdomain", name,
		    k->d);
	if (key.have_h && !key.h_sha256)
		doctor_add(d->rep, "dkim", DOCTOR_ERROR, "%s: h= does not list "
		    "sha256: verifiers refuse %s signatures with this key",
		    name, keys_alg_name(pk->alg));
	if (key.have_s && !key.s_email)
		doctor_add(d->rep, "dkim", DOCTOR_ERROR, "%s: s= does not list "
		    "email (or *): verifiers refuse mail signatures with this "
		    "key", name);
out:
	dns_answer_free(a);
}

/* doctor_dkim_used - does a configured key of d use this selector? */
static bool
doctor_dkim_used(const struct doctor *d, const char *sel)
{
	for (size_t i = 0; i < d->nkeys; i++)
		if (strcasecmp(d->keys[i].ke->selector, sel) == 0 &&
		    strcmp(d->keys[i].d, d->domain) == 0)
			return true;
	return false;
}

/* doctor_probes - selectors to look for unused keys at (no duplicates) */
static size_t
doctor_probes(const struct doctor *d, const char **out, size_t max)
{
	const struct keytable *kt = d->req->cfg ? d->req->cfg->keytable : NULL;
	size_t n = 0;

	for (size_t i = 0; kt != NULL && i < kt->count && n < max; i++)
		out[n++] = kt->entries[i].selector;
	for (size_t i = 0; i < DOCTOR_NCOMMON && n < max; i++)
		out[n++] = doctor_common_selectors[i];
	for (size_t i = 0; i < n; i++) {
		bool drop = doctor_dkim_used(d, out[i]);

		for (size_t j = 0; j < i && !drop; j++)
			drop = strcasecmp(out[i], out[j]) == 0;
		if (drop) {
			out[i--] = out[--n];
		}
	}
	return n;
}

/* doctor_dkim_unused - keys published at selectors no key here uses */
static void
doctor_dkim_unused(struct doctor *d, const char **probes, size_t n)
{
	char name[DNS_MAX_NAME + 1], why[DOCTOR_MAX_TEXT / 2];
	struct doctor_dkim_key key;
	size_t nkeys;

	for (size_t i = 0; i < n; i++) {
		struct dns_answer *a;

		if (!doctor_key_name(name, sizeof(name), probes[i], d->domain))
			continue;
		a = doctor_lookup(&d->dns, name, DNS_T_TXT);
		if (doctor_dkim_record(a, &key, &nkeys, why, sizeof(why)) !=
		    NULL)
			doctor_add(d->rep, "dkim", DOCTOR_OK, "%s: a key "
			    "(k=%s%s) is published that this configuration does "
			    "not use: another signer's, or an old key to revoke "
			    "with an empty p=", name, key.k, key.plen == 0 ?
			    ", revoked" : "");
		dns_answer_free(a);
	}
}

/* ---------------------------------------------------------------------
 * SPF
 */

/* The state of one walk. */
struct doctor_spfw {
	const struct doctor_dns *dns;
	int		 family;
	struct doctor_spf_count *out;
};

/* doctor_spf_perm - the first reason for a permerror */
static void __attribute__((format(printf, 2, 3)))
doctor_spf_perm(struct doctor_spfw *w, const char *fmt, ...)
{
	va_list ap;

	if (w->out->permerror)
		return;
	w->out->permerror = true;
	va_start(ap, fmt);
	vsnprintf(w->out->why, sizeof(w->out->why), fmt, ap);
	va_end(ap);
}

/* doctor_spf_temp - the first DNS failure */
static void
doctor_spf_temp(struct doctor_spfw *w, const char *name, unsigned type,
    enum dns_status st)
{
	if (w->out->temperror)
		return;
	w->out->temperror = true;
	snprintf(w->out->twhy, sizeof(w->out->twhy), "DNS %s for %.200s %s",
	    dns_status_name(st), name, type == DNS_T_TXT ? "TXT" :
	    type == DNS_T_MX ? "MX" : type == DNS_T_AAAA ? "AAAA" : "A");
}

/* doctor_spf_void - one more void lookup, at name */
static void
doctor_spf_void(struct doctor_spfw *w, const char *name)
{
	if (w->out->voids < DOCTOR_SPF_MAX_NAMES)
		snprintf(w->out->voidnames[w->out->voids],
		    sizeof(w->out->voidnames[0]), "%s", name);
	w->out->voids++;
}

/* doctor_spf_term - one more DNS-querying term; false to stop walking */
static bool
doctor_spf_term(struct doctor_spfw *w)
{
	if (++w->out->terms > DOCTOR_SPF_MAX_TERMS)
		w->out->stopped = true;
	return !w->out->stopped;
}

/* doctor_spf_addr - the A or AAAA lookup of a term or an MX exchange */
static void
doctor_spf_addr(struct doctor_spfw *w, const char *name)
{
	unsigned type = w->family == AF_INET6 ? DNS_T_AAAA : DNS_T_A;
	struct dns_answer *a = doctor_lookup(w->dns, name, type);

	if (doctor_empty(a))
		doctor_spf_void(w, name);
	else if (a->status != DNS_OK)
		doctor_spf_temp(w, name, type, a->status);
	dns_answer_free(a);
}

/* doctor_spf_mx - an mx term: the MX lookup, then each exchange */
static void
doctor_spf_mx(struct doctor_spfw *w, const char *name)
{
	struct dns_answer *a = doctor_lookup(w->dns, name, DNS_T_MX);

	if (doctor_empty(a))
		doctor_spf_void(w, name);
	else if (a->status != DNS_OK)
		doctor_spf_temp(w, name, DNS_T_MX, a->status);
	else if (a->nrecords > SPF_MAX_MX_NAMES)
		doctor_spf_perm(w, "mx:%s has %zu exchanges (limit %d)", name,
		    a->nrecords, SPF_MAX_MX_NAMES);
	else
		for (size_t i = 0; i < a->nrecords; i++)
			if (a->records[i].text != NULL &&
			    a->records[i].text[0] != '\0')
				doctor_spf_addr(w, a->records[i].text);
	dns_answer_free(a);
}

static void doctor_spf_walk(struct doctor_spfw *w, const char *domain,
    const char *text, size_t len, int depth);

/* doctor_spf_follow - the record of an include: or redirect= target */
static void
doctor_spf_follow(struct doctor_spfw *w, const char *how, const char *name,
    int depth)
{
	const struct dns_record *pick = NULL;
	struct dns_answer *a;
	size_t n = 0;

	if (depth > DOCTOR_SPF_MAX_DEPTH) {
		doctor_spf_perm(w, "%s%s nests deeper than %d records", how,
		    name, DOCTOR_SPF_MAX_DEPTH);
		return;
	}
	a = doctor_lookup(w->dns, name, DNS_T_TXT);
	if (doctor_empty(a)) {
		doctor_spf_void(w, name);
		doctor_spf_perm(w, "%s%s: %s has no SPF record (%s)", how, name,
		    name, dns_status_name(a->status));
	} else if (a->status != DNS_OK)
		doctor_spf_temp(w, name, DNS_T_TXT, a->status);
	else {
		for (size_t i = 0; i < a->nrecords; i++)
			if (a->records[i].text != NULL && spf_is_spf1(
			    a->records[i].text, a->records[i].len)) {
				pick = &a->records[i];
				n++;
			}
		if (n == 0)
			doctor_spf_perm(w, "%s%s: %s has no SPF record", how,
			    name, name);
		else if (n > 1)
			doctor_spf_perm(w, "%s%s: %s has %zu SPF records", how,
			    name, name, n);
		else
			doctor_spf_walk(w, name, pick->text, pick->len,
			    depth + 1);
	}
	dns_answer_free(a);
}

/*
 * doctor_spf_target - the domain a term names (or the current one),
 * lower case; false when it has macros and depends on the client
 */
static bool
doctor_spf_target(struct doctor_spfw *w, const struct spf_term *t,
    const char *domain, char *out, size_t size)
{
	if (t->arg == NULL) {
		snprintf(out, size, "%s", domain);
		return true;
	}
	if (memchr(t->arg, '%', t->arglen) != NULL) {
		w->out->macros++;
		return false;
	}
	doctor_lower(out, size, t->arg, t->arglen);
	return true;
}

/* doctor_spf_walk - count the terms of one record and what they reach */
static void
doctor_spf_walk(struct doctor_spfw *w, const char *domain, const char *text,
    size_t len, int depth)
{
	char why[DOCTOR_MAX_TEXT / 2], target[DNS_MAX_NAME + 1];
	struct spf_term *t;
	bool has_all = false;
	size_t n;

	if (!spf_record_terms(text, len, &t, &n, why, sizeof(why))) {
		doctor_spf_perm(w, "the record of %s: %s", domain, why);
		return;
	}
	for (size_t i = 0; i < n; i++)
		has_all |= t[i].kind == SPF_K_ALL;
	for (size_t i = 0; i < n && !w->out->stopped; i++) {
		switch (t[i].kind) {
		case SPF_K_INCLUDE:
		case SPF_K_REDIRECT:
			if (t[i].kind == SPF_K_REDIRECT && has_all)
				break;	/* unreachable, never looked up */
			if (doctor_spf_term(w) && doctor_spf_target(w, &t[i],
			    domain, target, sizeof(target)))
				doctor_spf_follow(w, t[i].kind ==
				    SPF_K_INCLUDE ? "include:" : "redirect=",
				    target, depth);
			break;
		case SPF_K_A:
			if (doctor_spf_term(w) && doctor_spf_target(w, &t[i],
			    domain, target, sizeof(target)))
				doctor_spf_addr(w, target);
			break;
		case SPF_K_MX:
			if (doctor_spf_term(w) && doctor_spf_target(w, &t[i],
			    domain, target, sizeof(target)))
				doctor_spf_mx(w, target);
			break;
		case SPF_K_EXISTS:
			/* exists asks for A whatever the client's family */
			if (doctor_spf_term(w) && doctor_spf_target(w, &t[i],
			    domain, target, sizeof(target))) {
				int fam = w->family;

				w->family = AF_INET;
				doctor_spf_addr(w, target);
				w->family = fam;
			}
			break;
		case SPF_K_PTR:
			doctor_spf_term(w);
			w->out->ptr = true;
			break;
		case SPF_K_ALL:
			if (depth == 0 && t[i].qual == '+')
				w->out->plus_all = true;
			break;
		default:
			break;
		}
	}
	free(t);
}

/* doctor_spf_count - the walk of one record for one family */
void
doctor_spf_count(const struct doctor_dns *dns, const char *domain,
    const char *text, size_t len, int family, struct doctor_spf_count *out)
{
	struct doctor_spfw w = { dns, family, out };

	memset(out, 0, sizeof(*out));
	doctor_spf_walk(&w, domain, text, len, 0);
}

/* doctor_spf_voids - "a, b, c" of the void names (of at most n shown) */
static void
doctor_spf_voids(const struct doctor_spf_count *c, char *out, size_t size)
{
	size_t n = c->voids < DOCTOR_SPF_MAX_NAMES ? c->voids :
	    DOCTOR_SPF_MAX_NAMES;

	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(out);

		snprintf(out + l, size - l, "%s%s", i ? ", " : "",
		    c->voidnames[i]);
	}
}

/* doctor_spf_limits - the findings of the two walks */
static void
doctor_spf_limits(struct doctor *d, const struct doctor_spf_count *c4,
    const struct doctor_spf_count *c6)
{
	const struct doctor_spf_count *cv = c6->voids > c4->voids ? c6 : c4;
	char names[DOCTOR_MAX_LIST];
	bool bad = false;

	if (c4->permerror) {
		doctor_add(d->rep, "spf", DOCTOR_ERROR, "%s: receivers get "
		    "permerror (RFC 7208)", c4->why);
		bad = true;
	}
	if (c4->terms > SPF_MAX_DNS_MECH) {
		doctor_add(d->rep, "spf", DOCTOR_ERROR, "%s%u DNS-querying terms "
		    "(include, a, mx, ptr, exists, redirect; limit %d): "
		    "receivers get permerror", c4->stopped ? "more than " : "",
		    c4->stopped ? DOCTOR_SPF_MAX_TERMS : c4->terms,
		    SPF_MAX_DNS_MECH);
		bad = true;
	}
	if (cv->voids > SPF_MAX_VOID) {
		doctor_spf_voids(cv, names, sizeof(names));
		doctor_add(d->rep, "spf", DOCTOR_ERROR, "%u void lookups (names "
		    "with no record: %s%s; limit %d)%s: receivers get permerror",
		    cv->voids, names, cv->voids > DOCTOR_SPF_MAX_NAMES ?
		    ", ..." : "", SPF_MAX_VOID, c4->voids == c6->voids ? "" :
		    cv == c6 ? " for IPv6 clients" : " for IPv4 clients");
		bad = true;
	}
	if (c4->temperror || c6->temperror)
		doctor_add(d->rep, "spf", DOCTOR_WARNING, "%s: the walk could "
		    "not be finished; receivers that meet it get temperror",
		    c4->temperror ? c4->twhy : c6->twhy);
	if (!bad)
		doctor_add(d->rep, "spf", DOCTOR_OK, "%u DNS-querying term%s "
		    "(limit %d), %u void lookup%s (limit %d)%s", c4->terms,
		    c4->terms == 1 ? "" : "s", SPF_MAX_DNS_MECH, cv->voids,
		    cv->voids == 1 ? "" : "s", SPF_MAX_VOID, c4->macros ?
		    "; terms with macros depend on the client and were not "
		    "followed" : "");
	if (c4->ptr)
		doctor_add(d->rep, "spf", DOCTOR_WARNING, "the record uses ptr, "
		    "which is slow and unreliable (RFC 7208 5.5: do not use "
		    "it); list the addresses instead");
	if (c4->plus_all)
		doctor_add(d->rep, "spf", DOCTOR_WARNING, "the record ends in "
		    "+all: every host on the Internet passes; use -all or "
		    "~all");
}

/* doctor_spf_ips - spf.c's result for each --ip */
static void
doctor_spf_ips(struct doctor *d)
{
	char from[SPF_MAX_IDENTITY + 1];
	struct spf_request req;
	struct spf_outcome out;

	if (d->req->dns == NULL)
		return;
	snprintf(from, sizeof(from), "postmaster@%s", d->domain);
	for (size_t i = 0; i < d->req->nips; i++) {
		enum doctor_severity sev;

		memset(&req, 0, sizeof(req));
		req.client_ip = d->req->ips[i];
		req.helo = d->domain;
		req.mail_from = from;
		req.receiver = "doctor";
		spf_check_mailfrom(d->req->dns, &req, &out);
		switch (out.result) {
		case SPF_RESULT_PASS:
			sev = DOCTOR_OK;
			break;
		case SPF_RESULT_FAIL:
		case SPF_RESULT_PERMERROR:
			sev = DOCTOR_ERROR;
			break;
		default:
			sev = DOCTOR_WARNING;
			break;
		}
		doctor_add(d->rep, "spf", sev, "mail from %s with MAIL FROM "
		    "%s: SPF %s%s%s%s", d->req->ips[i], from,
		    spf_result_name(out.result), out.reason[0] ? " (" : "",
		    out.reason, out.reason[0] ? ")" : "");
	}
}

/* doctor_spf - the SPF record of the domain */
static void
doctor_spf(struct doctor *d)
{
	struct doctor_spf_count c4, c6;
	const struct dns_record *pick = NULL;
	char why[DOCTOR_MAX_TEXT / 2];
	struct dns_answer *a;
	size_t n = 0;

	a = doctor_lookup(&d->dns, d->domain, DNS_T_TXT);
	if (a->status != DNS_OK && !doctor_empty(a)) {
		doctor_add(d->rep, "spf", DOCTOR_ERROR, "DNS %s for %s TXT: "
		    "receivers get temperror", dns_status_name(a->status),
		    d->domain);
		goto out;
	}
	for (size_t i = 0; a->status == DNS_OK && i < a->nrecords; i++)
		if (a->records[i].text != NULL &&
		    spf_is_spf1(a->records[i].text, a->records[i].len)) {
			pick = &a->records[i];
			n++;
		}
	if (n == 0) {
		doctor_add(d->rep, "spf", DOCTOR_WARNING, "no SPF record at %s: "
		    "receivers get spf=none, and DMARC rests on DKIM alone; "
		    "publish one (\"v=spf1 ... -all\")", d->domain);
		goto out;
	}
	if (n > 1) {
		doctor_add(d->rep, "spf", DOCTOR_ERROR, "%zu SPF records at %s: "
		    "receivers get permerror (RFC 7208 4.5); merge them into "
		    "one", n, d->domain);
		goto out;
	}
	if (!spf_record_valid(pick->text, pick->len, why, sizeof(why))) {
		doctor_add(d->rep, "spf", DOCTOR_ERROR, "the record of %s is "
		    "not valid: %s: receivers get permerror", d->domain, why);
		goto out;
	}
	doctor_add(d->rep, "spf", DOCTOR_OK, "one SPF record at %s: %.*s",
	    d->domain, (int)(pick->len > 300 ? 300 : pick->len), pick->text);
	doctor_spf_count(&d->dns, d->domain, pick->text, pick->len, AF_INET,
	    &c4);
	doctor_spf_count(&d->dns, d->domain, pick->text, pick->len, AF_INET6,
	    &c6);
	doctor_spf_limits(d, &c4, &c6);
	doctor_spf_ips(d);
out:
	dns_answer_free(a);
}

/* ---------------------------------------------------------------------
 * DMARC
 */

/* doctor_org - the organizational domain (RFC 9989 walk); name on error */
static void
doctor_org(struct doctor *d, const char *name, char *org, size_t size)
{
	struct dmarc_dns dd = { d->dns.lookup, d->dns.arg };

	if (!dmarc_org_domain(&dd, DMARC_MODE_RFC9989, name, org, size))
		snprintf(org, size, "%s", name);
}

/*
 * doctor_dmarc_text - the DMARC record at _dmarc.name as published (the
 * first TXT record dmarc.c takes for one), into buf; how many there are
 */
static size_t
doctor_dmarc_text(struct doctor *d, const char *name, char *buf, size_t size)
{
	char qname[DNS_MAX_NAME + 1], why[DOCTOR_MAX_TEXT / 2];
	struct dmarc_record rec;
	struct dns_answer *a;
	size_t n = 0;

	buf[0] = '\0';
	if ((size_t)snprintf(qname, sizeof(qname), DOCTOR_DMARC_PREFIX "%s",
	    name) >= sizeof(qname))
		return 0;
	a = doctor_lookup(&d->dns, qname, DNS_T_TXT);
	for (size_t i = 0; a->status == DNS_OK && i < a->nrecords; i++) {
		const struct dns_record *r = &a->records[i];

		if (r->text == NULL || dmarc_record_parse(r->text, r->len,
		    &rec, why, sizeof(why)) == DMARC_PARSE_NOT_DMARC)
			continue;
		if (n++ == 0)
			snprintf(buf, size, "%.*s", (int)r->len, r->text);
	}
	dns_answer_free(a);
	return n;
}

/* doctor_dmarc_tags - removed and unknown tags of the published text */
static void
doctor_dmarc_tags(struct doctor *d, const char *where, const char *txt)
{
	static const char *const known[] = { "v", "p", "sp", "np", "adkim",
	    "aspf", "psd", "t", "rua", "ruf", "fo" };
	const char *p = txt;

	while (*p != '\0') {
		char name[DOCTOR_MAX_TAG];
		const char *end = strchr(p, ';'), *eq;
		size_t len = end ? (size_t)(end - p) : strlen(p), nl, k;

		while (len > 0 && doctor_is_wsp(*p)) {
			p++;
			len--;
		}
		eq = memchr(p, '=', len);
		if (eq != NULL) {
			const char *s = p, *e = eq;

			while (s < e && doctor_is_wsp(*s))
				s++;
			while (e > s && doctor_is_wsp(e[-1]))
				e--;
			nl = (size_t)(e - s);
			doctor_lower(name, sizeof(name), s, nl);
			for (k = 0; k < sizeof(known) / sizeof(known[0]); k++)
				if (strcmp(name, known[k]) == 0)
					break;
			if (strcmp(name, "pct") == 0)
				doctor_add(d->rep, "dmarc", DOCTOR_WARNING, "%s: "
				    "%.*s: pct= was removed by RFC 9989; its "
				    "receivers ignore it and apply the policy to "
				    "all failing mail (RFC 7489 receivers still "
				    "sample); remove it, and use t=y to test",
				    where, (int)(len > 40 ? 40 : len), p);
			else if (strcmp(name, "rf") == 0 ||
			    strcmp(name, "ri") == 0)
				doctor_add(d->rep, "dmarc", DOCTOR_WARNING, "%s: "
				    "%s= was removed by RFC 9989 and is ignored; "
				    "remove it", where, name);
			else if (k == sizeof(known) / sizeof(known[0]) &&
			    name[0] != '\0')
				doctor_add(d->rep, "dmarc", DOCTOR_WARNING, "%s: "
				    "unknown tag %s= is ignored", where, name);
		}
		p += len;
		if (*p == ';')
			p++;
	}
}

/* doctor_policy_words - what a policy asks receivers to do */
static const char *
doctor_policy_words(enum dmarc_policy p)
{
	switch (p) {
	case DMARC_POLICY_REJECT:	return "refuse it";
	case DMARC_POLICY_QUARANTINE:	return "quarantine it";
	default:			return "deliver it (monitoring only)";
	}
}

/* doctor_dmarc_explain - p=, sp=, np=, alignment, t= in words */
static void
doctor_dmarc_explain(struct doctor *d, const struct dmarc_outcome *o)
{
	const struct dmarc_record *r = &o->record;
	enum dmarc_policy sp = r->sp != DMARC_POLICY_UNSET ? r->sp : r->p;
	enum dmarc_policy np = r->np != DMARC_POLICY_UNSET ? r->np : sp;

	doctor_add(d->rep, "dmarc", DOCTOR_OK, "policy for %s: %s (mail that "
	    "fails DMARC: %s); p=%s for %s itself, sp=%s for its subdomains, "
	    "np=%s for names that do not exist; adkim=%s, aspf=%s",
	    d->domain, dmarc_policy_name(o->policy),
	    doctor_policy_words(o->policy), dmarc_policy_name(r->p),
	    o->policy_domain, dmarc_policy_name(sp), dmarc_policy_name(np),
	    r->adkim_strict ? "s (d= must equal the From domain)" :
	    "r (same organizational domain)", r->aspf_strict ? "s" : "r");
	if (r->testing)
		doctor_add(d->rep, "dmarc", DOCTOR_WARNING, "t=y (testing) is "
		    "on: receivers apply one step less (reject as quarantine, "
		    "quarantine as none); remove it once the reports show your "
		    "mail passes");
}

/* doctor_uri_host - the host of a mailto: URI into host; false if none */
static bool
doctor_uri_host(struct doctor *d, const char *kind, const char *uri,
    char *host, size_t size)
{
	const char *at, *end;

	if (strncasecmp(uri, "mailto:", 7) != 0) {
		doctor_add(d->rep, "dmarc", DOCTOR_WARNING, "%s destination %s: "
		    "only mailto: is used for reports", kind, uri);
		return false;
	}
	end = uri + strcspn(uri, "!?");
	if (*end == '!')
		doctor_add(d->rep, "dmarc", DOCTOR_WARNING, "%s destination %s: "
		    "the \"!size\" suffix is obsolete (RFC 9990) and is "
		    "ignored; remove it", kind, uri);
	at = memrchr(uri, '@', (size_t)(end - uri));
	if (at == NULL || at + 1 >= end) {
		doctor_add(d->rep, "dmarc", DOCTOR_WARNING, "%s destination %s: "
		    "no mailbox domain", kind, uri);
		return false;
	}
	doctor_lower(host, size, at + 1, (size_t)(end - at - 1));
	return true;
}

/* doctor_dmarc_dest - one report destination: inside, or authorised */
static void
doctor_dmarc_dest(struct doctor *d, const char *kind, const char *uri,
    const char *policy_domain, const char *policy_org)
{
	char host[DNS_MAX_NAME + 1], org[DNS_MAX_NAME + 1];
	char qname[DNS_MAX_NAME + 1], override[REPORT_MAX_RUA + 1];
	char why[DOCTOR_MAX_WHY];
	struct dns_answer *a;
	size_t n = 0;

	if (!doctor_uri_host(d, kind, uri, host, sizeof(host)))
		return;
	doctor_org(d, host, org, sizeof(org));
	if (strcmp(org, policy_org) == 0) {
		doctor_add(d->rep, "dmarc", DOCTOR_OK, "%s destination %s is "
		    "within %s: no authorisation needed", kind, uri,
		    policy_org);
		return;
	}
	if ((size_t)snprintf(qname, sizeof(qname), "%s" DOCTOR_REPORT_INFIX
	    "%s", policy_domain, host) >= sizeof(qname)) {
		doctor_add(d->rep, "dmarc", DOCTOR_WARNING, "%s destination %s: "
		    "the authorisation name is too long for DNS", kind, uri);
		return;
	}
	a = doctor_lookup(&d->dns, qname, DNS_T_TXT);
	/* the reporters' own reading of the record (report_dest.c) */
	for (size_t i = 0; n == 0 && a->status == DNS_OK && i < a->nrecords;
	    i++)
		if (a->records[i].text != NULL &&
		    report_dest_record(a->records[i].text, kind, override,
		    sizeof(override)))
			n++;
	if (n > 0 && override[0] != '\0' &&
	    !report_dest_override_ok(override, host, why, sizeof(why)))
		doctor_add(d->rep, "dmarc", DOCTOR_WARNING, "%s destination %s is "
		    "authorised (%s), but its %s= override is refused (%s): "
		    "receivers send no reports there (RFC 9990)", kind, uri,
		    qname, kind, why);
	else if (n > 0 && override[0] != '\0')
		doctor_add(d->rep, "dmarc", DOCTOR_OK, "%s destination %s is "
		    "outside %s and authorised (%s); reports go to its %s= "
		    "instead: %s", kind, uri, policy_org, qname, kind, override);
	else if (n > 0)
		doctor_add(d->rep, "dmarc", DOCTOR_OK, "%s destination %s is "
		    "outside %s and authorised (%s)", kind, uri, policy_org,
		    qname);
	else if (a->status != DNS_OK && !doctor_empty(a))
		doctor_add(d->rep, "dmarc", DOCTOR_WARNING, "%s destination %s: "
		    "DNS %s for %s: receivers may not send reports there",
		    kind, uri, dns_status_name(a->status), qname);
	else
		doctor_add(d->rep, "dmarc", DOCTOR_WARNING, "%s destination %s is "
		    "outside %s and not authorised: receivers will not send "
		    "reports there until %s publishes %s TXT \"v=DMARC1\" (RFC "
		    "9990)", kind, uri, policy_org, host, qname);
	dns_answer_free(a);
}

/* doctor_dmarc_dests - every rua= and ruf= destination */
static void
doctor_dmarc_dests(struct doctor *d, const struct dmarc_outcome *o)
{
	const char *lists[2] = { o->reporting.rua, o->reporting.ruf };
	const char *kinds[2] = { "rua", "ruf" };
	char org[DNS_MAX_NAME + 1];
	size_t checked = 0;

	doctor_org(d, o->policy_domain, org, sizeof(org));
	if (o->reporting.rua[0] == '\0')
		doctor_add(d->rep, "dmarc", DOCTOR_OK, "no rua=: nobody sends "
		    "you aggregate reports, so you will not see who sends mail "
		    "as %s", d->domain);
	for (size_t l = 0; l < 2; l++) {
		const char *p = lists[l];

		while (*p != '\0' && checked < DOCTOR_MAX_URIS) {
			char uri[DOCTOR_MAX_URI];
			size_t len = strcspn(p, ","), s = 0, e = len;

			while (s < e && doctor_is_wsp(p[s]))
				s++;
			while (e > s && doctor_is_wsp(p[e - 1]))
				e--;
			if (e > s) {
				snprintf(uri, sizeof(uri), "%.*s", (int)(e - s),
				    p + s);
				doctor_dmarc_dest(d, kinds[l], uri,
				    o->policy_domain, org);
				checked++;
			}
			p += len;
			if (*p == ',')
				p++;
		}
	}
}

/* doctor_dmarc_align - each configured signing domain against the domain */
static void
doctor_dmarc_align(struct doctor *d, const struct dmarc_outcome *o)
{
	char org[DNS_MAX_NAME + 1], dorg[DNS_MAX_NAME + 1];
	bool strict = o->record.adkim_strict, any = false;
	enum doctor_severity sev;

	if (d->nkeys == 0)
		return;
	doctor_org(d, d->domain, org, sizeof(org));
	for (size_t pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < d->nkeys; i++) {
			const char *dd = d->keys[i].d;
			bool dup = false;

			for (size_t j = 0; j < i; j++)
				dup |= strcmp(d->keys[j].d, dd) == 0;
			if (dup)
				continue;
			if (strcmp(dd, d->domain) == 0) {
				if (pass == 0)
					any = true;
				else
					doctor_add(d->rep, "dmarc", DOCTOR_OK,
					    "signing domain d=%s is %s itself: "
					    "aligned", dd, d->domain);
				continue;
			}
			doctor_org(d, dd, dorg, sizeof(dorg));
			if (strcmp(dorg, org) == 0 && !strict) {
				if (pass == 0)
					any = true;
				else
					doctor_add(d->rep, "dmarc", DOCTOR_OK,
					    "signing domain d=%s shares the "
					    "organizational domain %s: aligned "
					    "(adkim=r)", dd, org);
				continue;
			}
			if (pass == 0)
				continue;
			sev = any ? DOCTOR_WARNING : DOCTOR_ERROR;
			doctor_add(d->rep, "dmarc", sev, "signing domain d=%s is "
			    "not aligned with %s%s: its signatures do not count "
			    "for DMARC", dd, d->domain, strcmp(dorg, org) == 0 ?
			    " under adkim=s" : "");
		}
}

/* doctor_dmarc_none - no record: where it was looked for, how bad */
static void
doctor_dmarc_none(struct doctor *d, const struct dmarc_outcome *o)
{
	char text[DOCTOR_MAX_TEXT];
	size_t n = doctor_dmarc_text(d, d->domain, text, sizeof(text));

	if (n > 1) {
		doctor_add(d->rep, "dmarc", DOCTOR_ERROR, "%zu DMARC records at "
		    DOCTOR_DMARC_PREFIX "%s: receivers discard them all; keep "
		    "one", n, d->domain);
		return;
	}
	if (o->have_record) {
		doctor_add(d->rep, "dmarc", d->nkeys > 0 ? DOCTOR_ERROR :
		    DOCTOR_WARNING, "%s: receivers apply no DMARC policy; "
		    "add p=", o->reason);
		return;
	}
	doctor_add(d->rep, "dmarc", d->nkeys > 0 ? DOCTOR_ERROR :
	    DOCTOR_WARNING, "no DMARC record for %s (none at "
	    DOCTOR_DMARC_PREFIX "%s nor above it, by the RFC 9989 tree walk): "
	    "receivers apply no policy, so mail forged as %s is not refused, "
	    "and send no reports%s; publish one, at least \"v=DMARC1; p=none; "
	    "rua=mailto:...\"", d->domain, d->domain, d->domain, d->nkeys > 0 ?
	    "; receivers that require DMARC treat the mail signed here as "
	    "unauthenticated" : "");
}

/* doctor_dmarc_7489 - what RFC 7489 mode finds, when it differs */
static void
doctor_dmarc_7489(struct doctor *d, const struct dmarc_outcome *o9)
{
	struct dmarc_dns dd = { d->dns.lookup, d->dns.arg };
	struct dmarc_params p = { DMARC_MODE_RFC7489, 0, NULL };
	struct dmarc_outcome o7;

	dmarc_evaluate(&dd, &p, d->domain, NULL, &o7);
	if (o7.result == DMARC_RESULT_TEMPERROR)
		return;
	if (o7.have_record && o9->have_record &&
	    strcmp(o7.policy_domain, o9->policy_domain) == 0 &&
	    o7.policy == o9->policy)
		return;
	if (!o7.have_record && !o9->have_record)
		return;
	if (!o7.have_record)
		doctor_add(d->rep, "dmarc", DOCTOR_WARNING, "RFC 7489 receivers "
		    "(Public Suffix List) find no DMARC record for %s (%s); "
		    "publish one at " DOCTOR_DMARC_PREFIX "%s for them",
		    d->domain, o7.reason, o7.org_domain[0] ? o7.org_domain :
		    d->domain);
	else
		doctor_add(d->rep, "dmarc", DOCTOR_OK, "RFC 7489 receivers "
		    "(Public Suffix List) find the record at "
		    DOCTOR_DMARC_PREFIX "%s instead (policy %s)",
		    o7.policy_domain, dmarc_policy_name(o7.policy));
}

/* doctor_dmarc - discovery, the record, its destinations, alignment */
static void
doctor_dmarc(struct doctor *d)
{
	struct dmarc_dns dd = { d->dns.lookup, d->dns.arg };
	struct dmarc_params p = { DMARC_MODE_RFC9989, 0, NULL };
	char text[DOCTOR_MAX_TEXT], where[DNS_MAX_NAME + 16];
	struct dmarc_outcome o;

	/* a message that fails: discovery, and np= tested as it would be */
	dmarc_evaluate(&dd, &p, d->domain, NULL, &o);
	switch (o.result) {
	case DMARC_RESULT_TEMPERROR:
		doctor_add(d->rep, "dmarc", DOCTOR_ERROR, "%s: receivers get "
		    "temperror and may defer your mail", o.reason);
		return;
	case DMARC_RESULT_PERMERROR:
		doctor_add(d->rep, "dmarc", DOCTOR_ERROR, "%s: receivers apply "
		    "no policy (permerror)", o.reason);
		return;
	case DMARC_RESULT_NONE:
		doctor_dmarc_none(d, &o);
		doctor_dmarc_7489(d, &o);
		return;
	default:
		break;
	}
	doctor_dmarc_text(d, o.policy_domain, text, sizeof(text));
	snprintf(where, sizeof(where), DOCTOR_DMARC_PREFIX "%s",
	    o.policy_domain);
	if (strcmp(o.policy_domain, d->domain) == 0)
		doctor_add(d->rep, "dmarc", DOCTOR_OK, "record at %s: %s", where,
		    text);
	else
		doctor_add(d->rep, "dmarc", DOCTOR_OK, "no record at "
		    DOCTOR_DMARC_PREFIX "%s; the RFC 9989 tree walk finds %s: "
		    "%s", d->domain, where, text);
	doctor_dmarc_7489(d, &o);
	doctor_dmarc_tags(d, where, text);
	doctor_dmarc_explain(d, &o);
	doctor_dmarc_dests(d, &o);
	doctor_dmarc_align(d, &o);
}

/* ---------------------------------------------------------------------
 * MX
 */

/* doctor_mx_hosts - each exchange has an address */
static void
doctor_mx_hosts(struct doctor *d, const struct dns_answer *mx)
{
	for (size_t i = 0; i < mx->nrecords && i < DOCTOR_MAX_MX; i++) {
		const char *h = mx->records[i].text;
		struct dns_answer *a4, *a6;

		if (h == NULL || h[0] == '\0')
			continue;
		a4 = doctor_lookup(&d->dns, h, DNS_T_A);
		a6 = doctor_lookup(&d->dns, h, DNS_T_AAAA);
		if (doctor_empty(a4) && doctor_empty(a6))
			doctor_add(d->rep, "mx", DOCTOR_WARNING, "MX host %s has "
			    "no address (A or AAAA): mail to %s cannot go there",
			    h, d->domain);
		dns_answer_free(a4);
		dns_answer_free(a6);
	}
}

/* doctor_mx - MX, null MX, or the address fallback */
static void
doctor_mx(struct doctor *d)
{
	struct dns_answer *a = doctor_lookup(&d->dns, d->domain, DNS_T_MX);
	char list[DOCTOR_MAX_LIST] = "";
	bool null = false;

	if (a->status == DNS_NXDOMAIN) {
		doctor_add(d->rep, "mx", DOCTOR_ERROR, "%s does not exist in the "
		    "DNS (NXDOMAIN)", d->domain);
	} else if (a->status != DNS_OK && !doctor_empty(a)) {
		doctor_add(d->rep, "mx", DOCTOR_WARNING, "DNS %s for %s MX",
		    dns_status_name(a->status), d->domain);
	} else if (doctor_empty(a)) {
		struct dns_answer *a4 = doctor_lookup(&d->dns, d->domain,
		    DNS_T_A), *a6 = doctor_lookup(&d->dns, d->domain,
		    DNS_T_AAAA);

		if (doctor_empty(a4) && doctor_empty(a6))
			doctor_add(d->rep, "mx", DOCTOR_WARNING, "no MX and no "
			    "address for %s: it cannot receive mail (bounces, "
			    "replies, reports to it)", d->domain);
		else
			doctor_add(d->rep, "mx", DOCTOR_OK, "no MX: mail to %s "
			    "goes to its address (implicit MX, RFC 5321 5.1)",
			    d->domain);
		dns_answer_free(a4);
		dns_answer_free(a6);
	} else {
		for (size_t i = 0; i < a->nrecords; i++) {
			const struct dns_record *r = &a->records[i];
			size_t l = strlen(list);

			if (r->text != NULL && r->text[0] == '\0')
				null = true;
			if (i < DOCTOR_MX_SHOWN)
				snprintf(list + l, sizeof(list) - l, "%s%u %s",
				    i ? ", " : "", r->pref, r->text &&
				    r->text[0] ? r->text : ".");
		}
		if (null && a->nrecords > 1)
			doctor_add(d->rep, "mx", DOCTOR_ERROR, "a null MX (\"0 "
			    ".\") among other MX records (%s): RFC 7505 allows "
			    "it only alone", list);
		else if (null)
			doctor_add(d->rep, "mx", DOCTOR_WARNING, "null MX (RFC "
			    "7505): %s receives no mail, so bounces and replies "
			    "to its senders are lost, and receivers may refuse "
			    "mail from it", d->domain);
		else {
			doctor_add(d->rep, "mx", DOCTOR_OK, "MX %s%s", list,
			    a->nrecords > DOCTOR_MX_SHOWN ? ", ..." : "");
			doctor_mx_hosts(d, a);
		}
	}
	dns_answer_free(a);
}

/* ---------------------------------------------------------------------
 * The run
 */

/* doctor_dns_lookup - dns.c, each lookup within the service's timeout */
static struct dns_answer *
doctor_dns_lookup(void *arg, const char *name, unsigned type)
{
	return dns_lookup(arg, name, type, NULL);
}

/* doctor_prefetch - start the first lookups of every check at once */
static void
doctor_prefetch(struct doctor *d, const char **probes, size_t nprobes)
{
	struct dns_service *dns = d->req->dns;
	char name[DNS_MAX_NAME + 1];

	dns_prefetch(dns, d->domain, DNS_T_TXT);
	dns_prefetch(dns, d->domain, DNS_T_MX);
	if ((size_t)snprintf(name, sizeof(name), DOCTOR_DMARC_PREFIX "%s",
	    d->domain) < sizeof(name))
		dns_prefetch(dns, name, DNS_T_TXT);
	for (size_t i = 0; i < d->nkeys; i++)
		if (doctor_key_name(name, sizeof(name), d->keys[i].ke->selector,
		    d->keys[i].d))
			dns_prefetch(dns, name, DNS_T_TXT);
	for (size_t i = 0; i < nprobes; i++)
		if (doctor_key_name(name, sizeof(name), probes[i], d->domain))
			dns_prefetch(dns, name, DNS_T_TXT);
}

/* doctor_run - every check of one domain */
void
doctor_run(const struct doctor_request *req, struct doctor_report *rep)
{
	const char *probes[DOCTOR_MAX_PROBES];
	struct doctor *d = xcalloc(1, sizeof(*d));
	size_t nprobes;

	memset(rep, 0, sizeof(*rep));
	d->req = req;
	d->rep = rep;
	d->dns.lookup = doctor_dns_lookup;
	d->dns.arg = req->dns;
	doctor_lower(d->domain, sizeof(d->domain), req->domain,
	    strlen(req->domain));
	snprintf(rep->domain, sizeof(rep->domain), "%s", d->domain);
	if (req->config_error != NULL)
		doctor_add(rep, "config", DOCTOR_ERROR, "%s: the configuration "
		    "does not load (the daemon would not start); the published "
		    "records are checked on their own", req->config_error);
	doctor_keys(d);
	nprobes = doctor_probes(d, probes, DOCTOR_MAX_PROBES);
	doctor_prefetch(d, probes, nprobes);
	for (size_t i = 0; i < d->nkeys; i++)
		doctor_dkim_key(d, &d->keys[i]);
	doctor_dkim_unused(d, probes, nprobes);
	doctor_spf(d);
	doctor_dmarc(d);
	doctor_mx(d);
	if (req->have_config)
		doctor_reports(req->cfg, req->dns, rep);
	free(d);
}
