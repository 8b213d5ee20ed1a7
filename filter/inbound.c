/*
 * NAME
 *	inbound - SPF, DKIM and DMARC of an inbound message, the decision,
 *	and the Authentication-Results header
 * SYNOPSIS
 *	#include "inbound.h"
 *
 *	ib = inbound_new(cfg, rt, client_ip, helo, mail_from, jobid)
 *	inbound_header(ib, name, value)...; inbound_eoh(ib);
 *	inbound_body(ib, data, len)...; inbound_eom(ib, verdict, summary)
 * DESCRIPTION
 *	This is where the results of the methods meet the configuration.
 *	The methods themselves live in spf.c, dkimverify.c, dmarc.c and
 *	arc.c; the header text in authres.c.
 *
 *	The decision, in order:
 *	1. No usable RFC5322.From (none, several, several addresses, a
 *	   syntax error, or a header section past the bounds, which would
 *	   let a sender hide a From from us): OnBadFrom (default reject).
 *	   DMARC is never skipped for such a message.
 *	2. A From domain in IgnoreDomains: checked and reported, accepted.
 *	3. DMARC fail: the disposition the domain owner asks for (after t=)
 *	   is applied per RejectFailures (p=reject) or QuarantineFailures
 *	   (p=quarantine).
 *	4. DMARC temperror when the published policy is not known to be
 *	   p=none: OnTempError (default 451 4.7.0, so the MTA keeps the
 *	   message and retries).
 *	Everything else is accepted. An A-R header is added in every case.
 *
 *	In 3, among the signs of indirect flow (inbound_indirect), a
 *	trusted ARC sealer may vouch for a DMARC failure
 *	(inbound_arc_override): when the ARC chain passes, every sealer of
 *	it is in TrustedARCSealers and the newest ARC-Authentication-Results
 *	says dmarc=pass for the From domain, the message is delivered with
 *	the override reason trusted_forwarder. DMARC itself stays fail.
 *
 *	ARC: the chain is checked for every message that carries one
 *	(arc.c), with arc=pass|fail|none in the A-R (RFC 8617 5.2:
 *	header.oldest-pass and smtp.remote-ip, a reason comment on fail).
 *	When ARCSealKey is set and ARCSealMail covers inbound mail, a message
 *	that is accepted or quarantined gets a new ARC set on top, sealing
 *	the same results without comments (ARCAuthResComments).
 *
 *	Authentication-Results headers that carry our authserv-id were not
 *	written by us for this message (we remove ours upstream before
 *	adding a new one): they are forgeries and are removed. Others stay.
 *
 *	Each message adds its results to the runtime's metrics: SPF per
 *	identity, DKIM per signature, DMARC, ARC, the override reason when
 *	the action differs from the published policy, and the ARC set added.
 * DIAGNOSTICS
 *	inbound_new() returns NULL when the DNS service cannot run. Nothing
 *	else fails: every problem is a result.
 */
#include "buildconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "arc.h"
#include "authres.h"
#include "bodyhash.h"
#include "config.h"
#include "dkimverify.h"
#include "dmarc.h"
#include "dns.h"
#include "inbound.h"
#include "keytable.h"
#include "log.h"
#include "metrics.h"
#include "netlist.h"
#include "runtime.h"
#include "spf.h"
#include "trace.h"
#include "util.h"
#include "verdict.h"

_Static_assert(CONFIG_MAX_VERIFY_SIGS <= DKIMV_MAX_SIGS,
    "MaximumSignaturesToVerify beyond what the verifier reports");

#define INBOUND_AR_NAME		"Authentication-Results"
#define INBOUND_SIG_NAME	"DKIM-Signature"
#define INBOUND_MAX_JOBID	64
#define INBOUND_MAX_REPLY	512
#define INBOUND_PREFETCH_NAMES	4	/* DMARC names queried early per domain */
#define INBOUND_PREFETCH_SIGS	4	/* DKIM d= domains whose walk starts early */

/* ARC's DNS: dns.c within the message's DNS budget (known at the end). */
struct inbound_arcdns {
	struct dns_service	*dns;
	struct timespec		 deadline;
	const struct timespec	*since;
};

struct inbound {
	struct config		*cfg;
	struct dns_service	*dns;
	struct metrics		*metrics;
	char			 jobid[INBOUND_MAX_JOBID + 1];
	char			 ip[64];
	char			 helo[INBOUND_MAX_HELO + 1];
	char			 mail_from[INBOUND_MAX_ADDR + 1];
	struct dkimv		*dkim;
	bool			 dkim_body;	/* the verifier wants the body */
	struct bodyhash		*bodies;	/* the body hashes DKIM and ARC
						 * share (bodyhash.h) */
	bool			 hash_body;	/* ... and one is wanted */
	struct timespec		 started;	/* CLOCK_MONOTONIC, at MAIL */
	unsigned		 nfrom;		/* From headers seen */
	bool			 from_parsed;	/* the first one gave one address */
	struct mailbox		 from_box;	/* ... this one */
	char			 from_why[128];	/* ... or this is why not */
	unsigned		 nar;		/* A-R headers seen */
	unsigned		 nsigs;		/* DKIM-Signature headers seen */
	/* DKIM-Signature fields given to the verifier: its results at most */
	unsigned		 nsigfields;
	char			 list_header[16];	/* first of List-Id... seen */
	char			 rcpt_domain[ADDR_MAX_DOMAIN + 1];	/* first RCPT */
	unsigned		 forged[INBOUND_MAX_FORGED];
	size_t			 nforged;
	bool			 overflow;
	struct trace		*trace;		/* check --explain, or NULL */

	/* ARC: the chain's check, and the new set when we seal */
	struct arc		*arc;
	struct inbound_arcdns	 arcdns;
	struct arc_dns		 arc_dns;
	bool			 arc_body;	/* ARC wants the body */
	struct arc_seal_params	 seal;
	bool			 sealing;	/* a set is being prepared */
	char			 seal_note[INBOUND_MAX_COMMENT];
};

static void inbound_prefetch_domain(struct inbound *ib, const char *domain);

/* inbound_spf_request - the SPF request of this message */
static void
inbound_spf_request(struct inbound *ib, struct spf_request *req,
    const struct timespec *deadline)
{
	memset(req, 0, sizeof(*req));
	req->client_ip = ib->ip;
	req->helo = ib->helo[0] ? ib->helo : NULL;
	req->mail_from = ib->mail_from;
	req->receiver = config_authserv_id(ib->cfg);
	req->deadline = deadline;
	req->since = &ib->started;
	req->trace = ib->trace;
}

/* inbound_arc_lookup - a TXT answer for ARC, within the budget */
static struct dns_answer *
inbound_arc_lookup(void *arg, const char *name, unsigned type)
{
	struct inbound_arcdns *d = arg;

	return dns_lookup_since(d->dns, name, type, &d->deadline, d->since);
}

/* inbound_arc_prefetch - start an ARC key query now */
static void
inbound_arc_prefetch(void *arg, const char *name, unsigned type)
{
	struct inbound_arcdns *d = arg;

	dns_prefetch(d->dns, name, type);
}

/* inbound_arc_new - the ARC check of the message, its keys through dns.c */
static void
inbound_arc_new(struct inbound *ib)
{
	struct arc_params p;

	ib->arcdns.dns = ib->dns;
	ib->arcdns.since = &ib->started;
	dns_deadline(&ib->arcdns.deadline, ib->cfg->dns_budget * 1000);
	ib->arc_dns.lookup = inbound_arc_lookup;
	ib->arc_dns.prefetch = inbound_arc_prefetch;
	ib->arc_dns.arg = &ib->arcdns;
	memset(&p, 0, sizeof(p));
	p.dns = &ib->arc_dns;
	p.min_key_bits = ib->cfg->minimum_key_bits;
	p.now = (long long)time(NULL);
	ib->arc = arc_new(&p);
}

/*
 * inbound_arc_seal_start - at the end of the headers: prepare the new ARC
 * set when the configuration seals inbound mail
 */
static void
inbound_arc_seal_start(struct inbound *ib)
{
	const struct keyentry *k = ib->cfg->arc_key;
	char err[INBOUND_MAX_COMMENT];

	if (ib->overflow || !config_arc_seals(ib->cfg, true))
		return;
	memset(&ib->seal, 0, sizeof(ib->seal));
	ib->seal.key = k->key->pkey;
	ib->seal.domain = k->domain;
	ib->seal.selector = k->selector;
	ib->seal.sign_headers =
	    (const char *const *)ib->cfg->sign_headers.names;
	ib->seal.oversign_headers =
	    (const char *const *)ib->cfg->oversign_headers.names;
	ib->seal.timestamp = (long long)time(NULL);
	ib->sealing = arc_seal_start(ib->arc, &ib->seal, err, sizeof(err));
	if (!ib->sealing)
		snprintf(ib->seal_note, sizeof(ib->seal_note), "%s", err);
}

/* inbound_new - a message; the SPF queries start now */
struct inbound *
inbound_new(struct config *cfg, struct runtime *rt, const char *client_ip,
    const char *helo, const char *mail_from, const char *jobid)
{
	struct dkimv_ctx *dkim = runtime_dkim(rt);
	struct inbound *ib;
	struct spf_request req;

	if (dkim == NULL)
		return NULL;
	ib = xcalloc(1, sizeof(*ib));
	ib->cfg = cfg;
	ib->dns = runtime_dns(rt);
	ib->metrics = runtime_metrics(rt);
	clock_gettime(CLOCK_MONOTONIC, &ib->started);
	snprintf(ib->jobid, sizeof(ib->jobid), "%s", jobid);
	snprintf(ib->ip, sizeof(ib->ip), "%s", client_ip);
	snprintf(ib->helo, sizeof(ib->helo), "%s", helo ? helo : "");
	snprintf(ib->mail_from, sizeof(ib->mail_from), "%s",
	    mail_from ? mail_from : "");
	ib->dkim = dkimv_new(dkim, ib->jobid, cfg->max_verify_sigs,
	    cfg->allow_partial_body);
	inbound_arc_new(ib);
	ib->bodies = bodyhash_new();
	dkimv_share_body(ib->dkim, ib->bodies);
	arc_share_body(ib->arc, ib->bodies);
	inbound_spf_request(ib, &req, NULL);
	spf_prefetch(ib->dns, &req);
	{
		struct mailbox box;

		if (ib->mail_from[0] && addr_parse_envelope(ib->mail_from,
		    &box) && box.domain[0])
			inbound_prefetch_domain(ib, box.domain);
	}
	return ib;
}

/*
 * inbound_prefetch_domain - start the DMARC queries a domain will need:
 * its policy walk for the From domain, its organizational-domain walk for
 * the MAIL FROM and DKIM d= domains (relaxed alignment)
 */
static void
inbound_prefetch_domain(struct inbound *ib, const char *domain)
{
	char names[INBOUND_PREFETCH_NAMES][DNS_MAX_NAME + 1];
	char ascii[DNS_MAX_NAME + 1];
	size_t n;

	if (!addr_domain_to_ascii(domain, ascii, sizeof(ascii)))
		return;
	n = dmarc_prefetch_names(ascii, names, INBOUND_PREFETCH_NAMES);
	for (size_t i = 0; i < n; i++)
		dns_prefetch(ib->dns, names[i], DNS_T_TXT);
}

/*
 * inbound_list_header - a header field that only mailing lists add (RFC
 * 2919 List-Id; RFC 2369 List-Post, which a list sets for its posting
 * address)
 */
static bool
inbound_list_header(const char *name)
{
	return util_strcaseeq(name, "List-Id") ||
	    util_strcaseeq(name, "List-Post");
}

/* inbound_rcpt - a recipient: the first one's domain is envelope_to */
void
inbound_rcpt(struct inbound *ib, const char *rcpt)
{
	struct mailbox box;

	if (ib->rcpt_domain[0] == '\0' && rcpt != NULL &&
	    addr_parse_envelope(rcpt, &box) && box.domain[0])
		snprintf(ib->rcpt_domain, sizeof(ib->rcpt_domain), "%s",
		    box.domain);
}

/* inbound_header - one header field */
void
inbound_header(struct inbound *ib, const char *name, const char *value)
{
	const char *d;

	if (ib->overflow)
		return;
	/* a signature's d= is checked once, by the verifier */
	d = dkimv_header(ib->dkim, name, value);
	if (util_strcaseeq(name, INBOUND_SIG_NAME))
		ib->nsigfields++;
	arc_header(ib->arc, name, value);
	if (d != NULL) {
		if (ib->nsigs++ < INBOUND_PREFETCH_SIGS)
			inbound_prefetch_domain(ib, d);
	} else if (util_strcaseeq(name, "From")) {
		/* parsed once, here: the DMARC queries can start at once */
		if (ib->nfrom++ == 0) {
			ib->from_parsed = addr_from_mailbox(value,
			    &ib->from_box, ib->from_why, sizeof(ib->from_why));
			if (ib->from_parsed)
				inbound_prefetch_domain(ib,
				    ib->from_box.domain);
		}
	} else if (ib->list_header[0] == '\0' && inbound_list_header(name)) {
		snprintf(ib->list_header, sizeof(ib->list_header), "%s", name);
	} else if (util_strcaseeq(name, INBOUND_AR_NAME)) {
		ib->nar++;
		if (authres_servid_matches(value, config_authserv_id(ib->cfg)) &&
		    ib->nforged < INBOUND_MAX_FORGED)
			ib->forged[ib->nforged++] = ib->nar;
	}
}

void
inbound_overflow(struct inbound *ib)
{
	ib->overflow = true;
}

bool
inbound_eoh(struct inbound *ib)
{
	ib->dkim_body = !ib->overflow && dkimv_eoh(ib->dkim);
	inbound_arc_seal_start(ib);
	ib->arc_body = !ib->overflow && arc_eoh(ib->arc);
	ib->hash_body = bodyhash_wanted(ib->bodies);
	return ib->dkim_body || ib->arc_body;
}

void
inbound_body(struct inbound *ib, const unsigned char *data, size_t len)
{
	if (ib->dkim_body)
		dkimv_body(ib->dkim, data, len);	/* what libopendkim hashes */
	if (ib->hash_body)
		bodyhash_update(ib->bodies, data, len);
}

/* inbound_from - the From domain, or false with the problem in r */
static bool
inbound_from(struct inbound *ib, struct inbound_results *r, char *domain,
    size_t dlen)
{
	bool ok = false;

	if (ib->overflow) {
		snprintf(r->from_problem, sizeof(r->from_problem), "header "
		    "section over MaximumHeaders or MaximumHeaderBytes");
		return false;
	}
	if (ib->nfrom == 0) {
		snprintf(r->from_problem, sizeof(r->from_problem),
		    "no From header");
		return false;
	}
	if (ib->nfrom > 1) {
		snprintf(r->from_problem, sizeof(r->from_problem),
		    "%u From headers", ib->nfrom);
		return false;
	}
	if (!ib->from_parsed)
		snprintf(r->from_problem, sizeof(r->from_problem), "%s",
		    ib->from_why);
	else if (!addr_domain_valid(ib->from_box.domain) ||
	    !addr_domain_to_ascii(ib->from_box.domain, domain, dlen))
		snprintf(r->from_problem, sizeof(r->from_problem),
		    "From domain is not a valid domain name");
	else
		ok = true;
	return ok;
}

/* The DMARC module's DNS: dns.c within the message's deadline. */
struct inbound_dmarc_dns {
	struct dns_service	*dns;
	const struct timespec	*deadline;
	const struct timespec	*since;
};

static struct dns_answer *
inbound_dmarc_lookup(void *arg, const char *name, unsigned type)
{
	struct inbound_dmarc_dns *d = arg;

	return dns_lookup_since(d->dns, name, type, d->deadline, d->since);
}

/* inbound_dmarc - evaluate DMARC for domain with what SPF and DKIM found */
static void
inbound_dmarc(struct inbound *ib, struct inbound_results *r,
    const char *domain, const struct timespec *deadline)
{
	struct inbound_dmarc_dns dd = { ib->dns, deadline, &ib->started };
	struct dmarc_dns dns = { inbound_dmarc_lookup, &dd };
	struct dmarc_params params;
	struct dmarc_auth auth;

	memset(&auth, 0, sizeof(auth));
	auth.spf_pass = r->spf.result == SPF_RESULT_PASS;
	auth.spf_temperror = r->spf.result == SPF_RESULT_TEMPERROR;
	auth.spf_domain = r->spf.domain;
	for (size_t i = 0; i < r->ndkim && auth.ndkim < DMARC_MAX_DKIM; i++) {
		auth.dkim[auth.ndkim].domain = r->dkim[i].domain;
		auth.dkim[auth.ndkim].pass = r->dkim[i].result == DKIMV_PASS;
		auth.dkim[auth.ndkim].temperror =
		    r->dkim[i].result == DKIMV_TEMPERROR;
		auth.ndkim++;
	}
	memset(&params, 0, sizeof(params));
	params.mode = ib->cfg->dmarc_mode == CFG_DMARC_RFC7489 ?
	    DMARC_MODE_RFC7489 : DMARC_MODE_RFC9989;
	/* pct= exists in RFC 7489 mode only; a roll is a getrandom() call */
	if (params.mode == DMARC_MODE_RFC7489)
		params.roll = arc4random_uniform(100);
	params.trace = ib->trace;
	dmarc_evaluate(&dns, &params, domain, &auth, &r->dmarc);
}

/*
 * inbound_authres_arc - the arc clause (RFC 8617 5.2): the result, the
 * oldest-pass, the client address; the reason as a comment on fail
 */
static void
inbound_authres_arc(struct authres *ar, const struct inbound *ib,
    const struct inbound_results *r)
{
	char oldest[16];

	switch (r->arc.result) {
	case ARC_RESULT_PASS:
		snprintf(oldest, sizeof(oldest), "%u", r->arc.oldest_pass);
		authres_add(ar, "arc", "pass", NULL, "header.oldest-pass",
		    oldest, "smtp.remote-ip", ib->ip, (char *)NULL);
		break;
	case ARC_RESULT_FAIL:
		authres_add(ar, "arc", "fail", r->arc.reason, "smtp.remote-ip",
		    ib->ip, (char *)NULL);
		break;
	default:
		authres_add(ar, "arc", "none", NULL, (char *)NULL);
		break;
	}
}

/* inbound_authres_make - the A-R clauses for the results */
static struct authres *
inbound_authres_make(struct inbound *ib, const struct inbound_results *r)
{
	struct authres *ar = authres_new(config_authserv_id(ib->cfg));
	char comment[512];

	if (!r->mailfrom_null)
		authres_add(ar, "spf", spf_result_name(r->spf.result),
		    r->spf.reason[0] ? r->spf.reason : NULL,
		    "smtp.mailfrom", r->spf.identity, (char *)NULL);
	if (r->have_helo)
		authres_add(ar, "spf", spf_result_name(r->spf_helo.result),
		    r->spf_helo.reason[0] ? r->spf_helo.reason : NULL,
		    "smtp.helo", r->spf_helo.identity, (char *)NULL);
	if (r->ndkim == 0)
		authres_add(ar, "dkim", "none", NULL, (char *)NULL);
	for (size_t i = 0; i < r->ndkim; i++) {
		const struct dkimv_sig *d = &r->dkim[i];

		/* only a valid d= and s= are ever named (RFC 6376 3.5) */
		authres_add(ar, "dkim", dkimv_result_name(d->result),
		    d->reason[0] ? d->reason : NULL,
		    "header.d", dkimv_domain_valid(d->domain) ? d->domain : NULL,
		    "header.s", dkimv_selector_valid(d->selector) ?
		    d->selector : NULL,
		    "header.a", d->algorithm[0] ? d->algorithm : NULL,
		    "header.b", d->b[0] ? d->b : NULL, (char *)NULL);
	}
	inbound_authres_arc(ar, ib, r);
	if (!r->from_ok) {
		snprintf(comment, sizeof(comment), "%s%s%s", r->from_problem,
		    r->shadow[0] ? "; " : "", r->shadow);
		authres_add(ar, "dmarc", "permerror", comment, (char *)NULL);
	} else if (r->dmarc.result == DMARC_RESULT_NONE &&
	    !r->dmarc.have_record) {
		/* nothing published: no policy to name, only why */
		snprintf(comment, sizeof(comment), "%s%s%s", r->dmarc.reason,
		    r->dmarc.reason[0] && r->shadow[0] ? "; " : "", r->shadow);
		authres_add(ar, "dmarc", dmarc_result_name(r->dmarc.result),
		    comment[0] ? comment : NULL, "header.from",
		    r->dmarc.header_from, (char *)NULL);
	} else {
		snprintf(comment, sizeof(comment), "p=%s dis=%s%s%s%s%s%s",
		    dmarc_policy_name(r->dmarc.policy),
		    dmarc_policy_name(r->dmarc.disposition),
		    r->dmarc.testing ? " t=y" : "",
		    r->dmarc.reason[0] ? "; " : "", r->dmarc.reason,
		    r->shadow[0] ? "; " : "", r->shadow);
		if (r->override != DMARC_OVERRIDE_NONE) {
			/* DMARC still failed: the override is a property */
			size_t n = strlen(comment);

			snprintf(comment + n, sizeof(comment) - n,
			    "; override %s: %s",
			    dmarc_override_name(r->override),
			    r->override_comment);
			authres_add(ar, "dmarc",
			    dmarc_result_name(r->dmarc.result), comment,
			    "header.from", r->dmarc.header_from,
			    "policy.dmarc", dmarc_policy_name(r->applied),
			    (char *)NULL);
		} else
			authres_add(ar, "dmarc",
			    dmarc_result_name(r->dmarc.result),
			    r->dmarc.result == DMARC_RESULT_NONE &&
			    !r->dmarc.reason[0] && !r->shadow[0] ? NULL :
			    comment,
			    "header.from", r->dmarc.header_from,
			    (char *)NULL);
	}
	return ar;
}

/* inbound_authres - the A-R header value for the results */
static char *
inbound_authres(struct inbound *ib, const struct inbound_results *r)
{
	struct authres *ar = inbound_authres_make(ib, r);
	char *value = authres_format(ar);

	authres_free(ar);
	return value;
}

/* inbound_reply - set a 4xx/5xx answer with its text */
static void
inbound_reply(struct verdict *v, enum verdict_action act, const char *rcode,
    const char *xcode, const char *text)
{
	v->action = act;
	snprintf(v->rcode, sizeof(v->rcode), "%s", rcode);
	snprintf(v->xcode, sizeof(v->xcode), "%s", xcode);
	free(v->reason);
	v->reason = xstrdup(text);
}

/* inbound_add_header - one more header for the front end to insert */
static void
inbound_add_header(struct verdict *v, const char *name, const char *value)
{
	struct added_header *a;

	if (v->nadded >= VERDICT_MAX_ADDED)
		return;
	a = &v->added[v->nadded++];
	a->name = xstrdup(name);
	a->value = xstrdup(value);
	a->index = 0;
}

/* inbound_apply_fail - what a DMARC failure gets, per how */
static void
inbound_apply_fail(struct inbound *ib, struct verdict *v, enum fail_action how,
    const char *domain, const char *policy)
{
	char text[INBOUND_MAX_REPLY];
	const char *qh = ib->cfg->quarantine_header;
	size_t n = strcspn(qh, ":");
	char *name;

	switch (how) {
	case FAIL_REJECT:
		snprintf(text, sizeof(text), "Message rejected: the DMARC "
		    "policy of %s (p=%s) asks to reject mail that fails "
		    "authentication", domain, policy);
		inbound_reply(v, VERDICT_REJECT, "550", "5.7.1", text);
		break;
	case FAIL_QUARANTINE:
		v->action = VERDICT_QUARANTINE;
		snprintf(text, sizeof(text), "DMARC policy of %s: %s", domain,
		    policy);
		free(v->reason);
		v->reason = xstrdup(text);
		break;
	case FAIL_HEADER:
		name = xstrndup(qh, n);
		inbound_add_header(v, name, qh[n] == ':' ? qh + n + 1 +
		    (qh[n + 1] == ' ') : "");
		free(name);
		break;
	case FAIL_REPORT:
		break;
	}
}

/*
 * inbound_local_override - did the action asked of a failure (how) go
 * beyond what the domain owner asked (disposition)? Marking with a header
 * is a way to quarantine; delivering as usual, or refusing what was to be
 * quarantined, is local policy.
 */
static bool
inbound_local_override(enum dmarc_policy disposition, enum fail_action how)
{
	if (disposition == DMARC_POLICY_REJECT)
		return how != FAIL_REJECT;
	if (disposition == DMARC_POLICY_QUARANTINE)
		return how == FAIL_REPORT || how == FAIL_REJECT;
	return false;
}

/* inbound_override - record why the action differs from the policy */
static void
inbound_override(struct inbound_results *r, enum dmarc_override why,
    const char *comment)
{
	r->override = why;
	snprintf(r->override_comment, sizeof(r->override_comment), "%s",
	    comment);
}

/*
 * inbound_arc_override - does a trusted ARC sealer vouch for this DMARC
 * failure? A passing chain (arc=pass) sealed only by TrustedARCSealers
 * whose newest ARC-Authentication-Results says dmarc=pass for the From
 * domain: deliver, reason trusted_forwarder. DMARC stays fail.
 */
static bool
inbound_arc_override(struct inbound *ib, struct inbound_results *r,
    enum dmarc_policy disposition)
{
	const struct dmarc_outcome *d = &r->dmarc;
	struct buf b;

	if (!r->arc_trusted) {
		if (r->arc.result != ARC_RESULT_NONE)
			trace_line(ib->trace, "arc", "TrustedARCSealers do not "
			    "vouch: disposition %s unchanged by them",
			    dmarc_policy_name(disposition));
		return false;
	}
	for (size_t i = 0; i < r->arc.naar_dmarc_pass; i++) {
		if (!util_strcaseeq(r->arc.aar_dmarc_pass[i], d->header_from))
			continue;
		/* no ';' in it: some A-R readers split comments there */
		buf_init(&b);
		buf_puts(&b, "trusted ARC sealers");
		for (size_t k = 0; k < r->arc.nsealers; k++)
			buf_printf(&b, " %s", r->arc.sealers[k]);
		buf_printf(&b, ", dmarc=pass at i=%u", r->arc.sets);
		inbound_override(r, DMARC_OVERRIDE_TRUSTED_FORWARDER, b.data);
		buf_free(&b);
		trace_line(ib->trace, "arc", "TrustedARCSealers vouch (RFC "
		    "9989 indirect flow): i=%u says dmarc=pass for %s: "
		    "disposition %s -> none, override trusted_forwarder",
		    r->arc.sets, d->header_from, dmarc_policy_name(disposition));
		return true;
	}
	trace_line(ib->trace, "arc", "every sealer is trusted, but i=%u has "
	    "no dmarc=pass for %s: disposition %s unchanged by them",
	    r->arc.sets, d->header_from, dmarc_policy_name(disposition));
	return false;
}

/*
 * inbound_indirect - RFC 9989's analysis of a failure whose disposition is
 * reject or quarantine: signs that the mail came the indirect way (a
 * forwarder we trust, a mailing list, an intermediary that vouched with
 * ARC) soften or lift the disposition; returns the one to apply. Under
 * DMARCEnforcement strict only TrustedForwarders and TrustedARCSealers
 * count: both are configured trust, not a guess.
 */
static enum dmarc_policy
inbound_indirect(struct inbound *ib, struct inbound_results *r,
    enum dmarc_policy disposition)
{
	char comment[INBOUND_MAX_OVERRIDE_COMMENT];

	if (netlist_match_str(ib->cfg->trusted_forwarders, ib->ip)) {
		snprintf(comment, sizeof(comment), "client %s in "
		    "TrustedForwarders", ib->ip);
		inbound_override(r, DMARC_OVERRIDE_TRUSTED_FORWARDER, comment);
		r->decided_by = "TrustedForwarders";
		return DMARC_POLICY_NONE;
	}
	if (inbound_arc_override(ib, r, disposition)) {
		r->decided_by = "TrustedARCSealers";
		return DMARC_POLICY_NONE;
	}
	if (ib->cfg->dmarc_enforcement == CFG_ENFORCE_STRICT ||
	    disposition != DMARC_POLICY_REJECT)
		return disposition;
	/* RFC 9989: not refused on p=reject alone when the flow was indirect */
	if (ib->list_header[0]) {
		snprintf(comment, sizeof(comment), "%s present: mailing list",
		    ib->list_header);
		inbound_override(r, DMARC_OVERRIDE_MAILING_LIST, comment);
		r->decided_by = "DMARCEnforcement, then QuarantineFailures";
		return DMARC_POLICY_QUARANTINE;
	}
	/* an intermediary vouched with ARC, but not one we trust */
	if (r->arc.result == ARC_RESULT_PASS && r->arc.nsealers > 0) {
		snprintf(comment, sizeof(comment), "arc=pass from untrusted "
		    "sealer %s", r->arc.sealers[r->arc.nsealers - 1]);
		inbound_override(r, DMARC_OVERRIDE_OTHER, comment);
		r->decided_by = "DMARCEnforcement, then QuarantineFailures";
		return DMARC_POLICY_QUARANTINE;
	}
	return disposition;
}

/* inbound_decide - the action for the results (see the top of the file) */
static const char *
inbound_decide(struct inbound *ib, struct verdict *v,
    struct inbound_results *r)
{
	const struct dmarc_outcome *d = &r->dmarc;
	char text[INBOUND_MAX_REPLY];

	if (!r->from_ok) {
		switch (ib->cfg->on_bad_from) {
		case ON_ERROR_REJECT:
			snprintf(text, sizeof(text), "Message rejected: %s; "
			    "the From header must hold exactly one address "
			    "(RFC 5322, DMARC)", r->from_problem);
			inbound_reply(v, VERDICT_REJECT, "550", "5.7.1", text);
			break;
		case ON_ERROR_TEMPFAIL:
			snprintf(text, sizeof(text), "%s; try again later",
			    r->from_problem);
			inbound_reply(v, VERDICT_TEMPFAIL, "451", "4.7.0",
			    text);
			break;
		case ON_ERROR_ACCEPT:
			break;
		}
		r->decided_by = "OnBadFrom";
		return "bad From";
	}
	if (config_ignored_domain(ib->cfg, d->header_from)) {
		if (d->result == DMARC_RESULT_FAIL &&
		    d->disposition != DMARC_POLICY_NONE) {
			inbound_override(r, DMARC_OVERRIDE_LOCAL_POLICY,
			    "IgnoreDomains");
			r->applied = DMARC_POLICY_NONE;
		}
		r->decided_by = "IgnoreDomains";
		return "IgnoreDomains";
	}
	if (d->result == DMARC_RESULT_FAIL) {
		enum dmarc_policy applied = d->disposition;
		enum fail_action how;

		if (d->testing && d->disposition != d->policy)
			inbound_override(r, DMARC_OVERRIDE_POLICY_TEST_MODE,
			    "t=y");
		else if (d->sampled_out)
			inbound_override(r, DMARC_OVERRIDE_OTHER,
			    "sampled out by pct=");
		if (applied != DMARC_POLICY_NONE)
			applied = inbound_indirect(ib, r, applied);
		how = applied == DMARC_POLICY_REJECT ?
		    ib->cfg->reject_failures : ib->cfg->quarantine_failures;
		if (r->override == DMARC_OVERRIDE_NONE &&
		    inbound_local_override(applied, how))
			inbound_override(r, DMARC_OVERRIDE_LOCAL_POLICY,
			    applied == DMARC_POLICY_REJECT ? "RejectFailures" :
			    "QuarantineFailures");
		r->applied = applied;
		if (applied == DMARC_POLICY_REJECT ||
		    applied == DMARC_POLICY_QUARANTINE) {
			if (r->decided_by == NULL)
				r->decided_by = applied == DMARC_POLICY_REJECT ?
				    "RejectFailures" : "QuarantineFailures";
			inbound_apply_fail(ib, v, how, d->header_from,
			    dmarc_policy_name(d->policy));
		}
		return NULL;
	}
	if (d->result != DMARC_RESULT_TEMPERROR ||
	    d->policy == DMARC_POLICY_NONE)
		return NULL;
	r->decided_by = "OnTempError";
	if (ib->cfg->on_temp_error == ON_ERROR_TEMPFAIL) {
		snprintf(text, sizeof(text), "Temporary DNS failure while "
		    "checking the DMARC policy of %s, try again later",
		    d->header_from);
		inbound_reply(v, VERDICT_TEMPFAIL, "451", "4.7.0", text);
	}
	return NULL;
}

/* inbound_summary - the results in the log line */
static void
inbound_summary(struct buf *sum, const struct inbound_results *r,
    const char *note)
{
	buf_printf(sum, " spf=%s", spf_result_name(r->spf.result));
	if (r->have_helo)
		buf_printf(sum, " spf_helo=%s",
		    spf_result_name(r->spf_helo.result));
	buf_puts(sum, " dkim=");
	if (r->ndkim == 0)
		buf_puts(sum, "none");
	for (size_t i = 0; i < r->ndkim; i++)
		buf_printf(sum, "%s%s(%s)", i ? "," : "",
		    dkimv_result_name(r->dkim[i].result), r->dkim[i].domain);
	if (r->from_ok && r->dmarc.result == DMARC_RESULT_NONE &&
	    !r->dmarc.have_record)
		buf_printf(sum, " dmarc=none(%s no record)",
		    r->dmarc.header_from);
	else if (r->from_ok)
		buf_printf(sum, " dmarc=%s(%s p=%s dis=%s)",
		    dmarc_result_name(r->dmarc.result), r->dmarc.header_from,
		    dmarc_policy_name(r->dmarc.policy),
		    dmarc_policy_name(r->dmarc.disposition));
	else
		buf_printf(sum, " dmarc=permerror(%s)", r->from_problem);
	if (note != NULL)
		buf_printf(sum, " [%s]", note);
}

/*
 * inbound_shadow - ShadowMode: what the decision would have done is noted
 * (the A-R comment, the log line, the metrics); the message is delivered
 * as it came, without a marking header
 */
static void
inbound_shadow(struct verdict *v, struct inbound_results *r)
{
	if (v->action == VERDICT_ACCEPT && v->nadded == 0)
		return;
	r->shadow_action = v->action;
	if (v->action == VERDICT_ACCEPT)
		snprintf(r->shadow, sizeof(r->shadow), "shadow mode: would "
		    "mark with %s", v->added[0].name);
	else if (v->action == VERDICT_QUARANTINE)
		snprintf(r->shadow, sizeof(r->shadow), "shadow mode: would "
		    "quarantine");
	else
		snprintf(r->shadow, sizeof(r->shadow), "shadow mode: would "
		    "%s with %s %s", verdict_action_name(v->action), v->rcode,
		    v->xcode);
	for (size_t i = 0; i < v->nadded; i++) {
		free(v->added[i].name);
		free(v->added[i].value);
	}
	v->nadded = 0;
	free(v->reason);
	v->reason = NULL;
	v->rcode[0] = v->xcode[0] = '\0';
	v->action = VERDICT_ACCEPT;
}

/* inbound_trace_dkim - each signature's key, hashes and result */
static void
inbound_trace_dkim(struct trace *t, const struct inbound_results *r)
{
	if (r->ndkim == 0)
		trace_line(t, "dkim", "no DKIM-Signature: dkim=none");
	for (size_t i = 0; i < r->ndkim; i++) {
		const struct dkimv_sig *d = &r->dkim[i];

		trace_line(t, "dkim", "signature %zu: d=%s s=%s a=%s b=%s...: "
		    "key %s._domainkey.%s (%u bits); header hash: %s; body "
		    "hash: %s; %s%s%s", i + 1, d->domain, d->selector,
		    d->algorithm, d->b, d->selector, d->domain, d->keybits,
		    d->sig_verified ? "signature verifies" :
		    "signature does not verify", d->bodyhash == DKIMV_BH_MATCH ?
		    "matches bh=" : d->bodyhash == DKIMV_BH_MISMATCH ?
		    "mismatch" : "not compared", dkimv_result_name(d->result),
		    d->reason[0] ? ": " : "", d->reason);
	}
}

/*
 * inbound_trace_decision - the decision and the configuration key that
 * made it, as inbound_decide() recorded it
 */
static void
inbound_trace_decision(struct inbound *ib, const struct verdict *v,
    const struct inbound_results *r)
{
	const struct config *c = ib->cfg;

	if (ib->trace == NULL)
		return;
	trace_line(ib->trace, "decision", "DMARC %s, policy %s, disposition "
	    "%s, applied %s%s%s: action %s%s%s%s%s", dmarc_result_name(
	    r->dmarc.result), dmarc_policy_name(r->dmarc.policy),
	    dmarc_policy_name(r->dmarc.disposition),
	    dmarc_policy_name(r->applied), r->override ? ", override " : "",
	    r->override ? dmarc_override_name(r->override) : "",
	    verdict_action_name(v->action), v->rcode[0] ? " " : "", v->rcode,
	    v->xcode[0] ? " " : "", v->xcode);
	trace_line(ib->trace, "decision", "decided by %s%s%s",
	    r->decided_by ? r->decided_by :
	    "no configuration key (DMARC pass, none, or p=none)",
	    c->shadow_mode ? "; ShadowMode yes: " : "", c->shadow_mode ?
	    (r->shadow[0] ? r->shadow : "nothing to hold back") : "");
}

/* inbound_count - add the results to the metrics */
static void
inbound_count(struct metrics *m, const struct inbound_results *r)
{
	if (!r->mailfrom_null)
		metrics_add(&m->spf[METRICS_SPF_MAILFROM][r->spf.result], 1);
	if (r->have_helo)
		metrics_add(&m->spf[METRICS_SPF_HELO][r->spf_helo.result], 1);
	if (r->ndkim == 0)
		metrics_add(&m->dkim[DKIMV_NONE], 1);
	for (size_t i = 0; i < r->ndkim; i++)
		metrics_add(&m->dkim[r->dkim[i].result], 1);
	metrics_add(&m->dmarc[r->from_ok ? r->dmarc.result :
	    DMARC_RESULT_PERMERROR], 1);
	metrics_add(&m->arc[r->arc.result], 1);
	if (r->override != DMARC_OVERRIDE_NONE)
		metrics_add(&m->overrides[r->override], 1);
	if (r->shadow[0])
		metrics_add(&m->shadow[r->shadow_action], 1);
}

/* inbound_trace_sealers - each sealer against TrustedARCSealers */
static void
inbound_trace_sealers(struct inbound *ib, const struct inbound_results *r)
{
	struct buf b;

	if (ib->trace == NULL || r->arc.result == ARC_RESULT_NONE)
		return;
	buf_init(&b);
	for (size_t i = 0; i < r->arc.nsealers; i++)
		buf_printf(&b, "%s%s (%s)", i ? ", " : "", r->arc.sealers[i][0] ?
		    r->arc.sealers[i] : "?", config_trusted_sealer(ib->cfg,
		    r->arc.sealers[i]) ? "trusted" : "not trusted");
	trace_line(ib->trace, "arc", "TrustedARCSealers: %s: %s", b.len ?
	    b.data : "no sealer", r->arc_trusted ? "the chain passes and "
	    "every sealer is trusted" : r->arc.result != ARC_RESULT_PASS ?
	    "no match (the chain does not pass)" : "no match");
	buf_free(&b);
}

/* inbound_arc - verify the chain; are all its sealers trusted? */
static void
inbound_arc(struct inbound *ib, struct inbound_results *r,
    const struct timespec *deadline)
{
	ib->arcdns.deadline = *deadline;
	arc_verify(ib->arc, &r->arc);
	r->arc_trusted = r->arc.result == ARC_RESULT_PASS &&
	    r->arc.nsealers > 0;
	for (size_t i = 0; r->arc_trusted && i < r->arc.nsealers; i++)
		r->arc_trusted = config_trusted_sealer(ib->cfg,
		    r->arc.sealers[i]);
	inbound_trace_sealers(ib, r);
}

/*
 * inbound_seal - our ARC set on top of the added headers (AS, AMS, AAR,
 * top down) for a message that will be delivered
 */
static void
inbound_seal(struct inbound *ib, struct verdict *v, struct inbound_results *r)
{
	struct arc_sealed set;
	struct authres *ar;
	char err[INBOUND_MAX_COMMENT], *aar;

	if (!ib->sealing) {
		snprintf(r->seal_note, sizeof(r->seal_note), "%s",
		    ib->seal_note);
		if (r->seal_note[0])
			trace_line(ib->trace, "arc", "ARCSealKey: not sealed: %s",
			    r->seal_note);
		else if (ib->cfg->arc_key != NULL)
			trace_line(ib->trace, "arc", "ARCSealKey: not sealed: "
			    "%s", config_arc_seals(ib->cfg, true) ? "the header "
			    "section passed the bounds" : "ARCSealMail does not "
			    "cover inbound mail");
		return;
	}
	if (v->action != VERDICT_ACCEPT && v->action != VERDICT_QUARANTINE) {
		snprintf(r->seal_note, sizeof(r->seal_note), "not delivered");
		trace_line(ib->trace, "arc", "ARCSealKey: not sealed: the "
		    "message is not delivered");
		return;
	}
	ar = inbound_authres_make(ib, r);
	aar = authres_format_arc(ar, arc_seal_instance(ib->arc),
	    ib->cfg->arc_authres_comments);
	authres_free(ar);
	if (!arc_seal(ib->arc, arc_seal_cv(&r->arc), aar, &set, err,
	    sizeof(err)))
		snprintf(r->seal_note, sizeof(r->seal_note), "%s", err);
	else if (v->nadded + 3 > VERDICT_MAX_ADDED)
		snprintf(r->seal_note, sizeof(r->seal_note), "too many "
		    "headers to add");
	else {
		verdict_insert(v, 0, "ARC-Authentication-Results", set.aar);
		verdict_insert(v, 0, "ARC-Message-Signature", set.ams);
		verdict_insert(v, 0, "ARC-Seal", set.seal);
		r->sealed = set.instance;
		metrics_add(&ib->metrics->arc_seals[arc_seal_cv(&r->arc)], 1);
	}
	if (r->sealed)
		trace_line(ib->trace, "arc", "ARCSealKey: sealed: a new set "
		    "i=%u cv=%s, d=%s s=%s", r->sealed, arc_cv_name(
		    arc_seal_cv(&r->arc)), ib->seal.domain, ib->seal.selector);
	else
		trace_line(ib->trace, "arc", "ARCSealKey: not sealed: %s",
		    r->seal_note);
	arc_sealed_free(&set);
	free(aar);
}

/* inbound_summary_arc - ARC in the log line */
static void
inbound_summary_arc(struct buf *sum, const struct inbound_results *r)
{
	buf_printf(sum, " arc=%s", arc_result_name(r->arc.result));
	if (r->arc.result != ARC_RESULT_NONE) {
		buf_printf(sum, "(i=%u", r->arc.sets);
		for (size_t i = 0; i < r->arc.nsealers; i++)
			buf_printf(sum, "%s%s", i ? "," : " ",
			    r->arc.sealers[i][0] ? r->arc.sealers[i] : "?");
		if (r->arc.result == ARC_RESULT_FAIL)
			buf_printf(sum, "; %s", r->arc.reason);
		buf_putc(sum, ')');
	}
	if (r->sealed)
		buf_printf(sum, " arc_sealed=i=%u", r->sealed);
	else if (r->seal_note[0])
		buf_printf(sum, " arc_not_sealed=(%s)", r->seal_note);
}

/* inbound_eom - run the checks, decide, report */
void
inbound_eom(struct inbound *ib, struct verdict *v, struct buf *sum)
{
	struct inbound_results *r = xcalloc(1, sizeof(*r));
	size_t nsigs = ib->nsigfields < ib->cfg->max_verify_sigs ?
	    ib->nsigfields : ib->cfg->max_verify_sigs;
	char domain[DNS_MAX_NAME + 1];
	struct spf_request req;
	struct timespec deadline;
	const char *note;

	dns_deadline(&deadline, ib->cfg->dns_budget * 1000);
	inbound_spf_request(ib, &req, &deadline);
	r->mailfrom_null = ib->mail_from[0] == '\0';
	trace_line(ib->trace, "spf", "MAIL FROM identity, client %s",
	    ib->ip);
	spf_check_mailfrom(ib->dns, &req, &r->spf);
	if (ib->helo[0]) {
		r->have_helo = true;
		trace_line(ib->trace, "spf", "HELO identity %s", ib->helo);
		spf_check_helo(ib->dns, &req, &r->spf_helo);
	}
	trace_line(ib->trace, "dkim", "%u signature(s), at most %u checked",
	    ib->nsigs, ib->cfg->max_verify_sigs);
	/*
	 * also without a body: a malformed signature is still a result; one
	 * for each field the verifier was given, up to its limit
	 */
	if (nsigs > 0)
		r->dkim = xcalloc(nsigs, sizeof(*r->dkim));
	r->ndkim = dkimv_eom(ib->dkim, &deadline, r->dkim, nsigs);
	inbound_trace_dkim(ib->trace, r);
	inbound_arc(ib, r, &deadline);
	r->from_ok = inbound_from(ib, r, domain, sizeof(domain));
	if (r->from_ok)
		inbound_dmarc(ib, r, domain, &deadline);
	else
		trace_line(ib->trace, "dmarc", "no usable From: %s",
		    r->from_problem);
	snprintf(r->client_ip, sizeof(r->client_ip), "%s", ib->ip);
	snprintf(r->envelope_to, sizeof(r->envelope_to), "%s",
	    ib->rcpt_domain);
	note = inbound_decide(ib, v, r);
	if (ib->cfg->shadow_mode)
		inbound_shadow(v, r);
	inbound_trace_decision(ib, v, r);
	inbound_count(ib->metrics, r);
	r->authres = inbound_authres(ib, r);

	/* ours goes on top; forged ones go first so the indexes hold */
	if (v->nadded < VERDICT_MAX_ADDED) {
		memmove(&v->added[1], &v->added[0],
		    v->nadded * sizeof(v->added[0]));
		v->added[0].name = xstrdup(INBOUND_AR_NAME);
		v->added[0].value = xstrdup(r->authres);
		v->added[0].index = 0;
		v->nadded++;
	}
	for (size_t i = 0; i < ib->nforged && v->nremoved < VERDICT_MAX_REMOVED;
	    i++) {
		v->removed[v->nremoved].name = xstrdup(INBOUND_AR_NAME);
		v->removed[v->nremoved].index = ib->forged[i];
		v->nremoved++;
	}
	inbound_seal(ib, v, r);
	verdict_renumber(v);
	inbound_summary(sum, r, note);
	inbound_summary_arc(sum, r);
	if (r->override != DMARC_OVERRIDE_NONE)
		buf_printf(sum, " override=%s", dmarc_override_name(r->override));
	if (r->shadow[0])
		buf_printf(sum, " [%s]", r->shadow);
	if (ib->nforged)
		buf_printf(sum, " forged_ar_removed=%zu", ib->nforged);
	buf_printf(sum, " action=%s", verdict_action_name(v->action));
	if (v->reason != NULL)
		buf_printf(sum, " (%s%s%s%s%s)", v->rcode, v->rcode[0] ? " " : "",
		    v->xcode, v->xcode[0] ? " " : "", v->reason);
	v->results = r;
}

void
inbound_set_trace(struct inbound *ib, struct trace *t)
{
	ib->trace = t;
	arc_set_trace(ib->arc, t);
}

void
inbound_free(struct inbound *ib)
{
	if (ib == NULL)
		return;
	dkimv_free(ib->dkim);
	arc_free(ib->arc);
	bodyhash_free(ib->bodies);
	free(ib);
}

void
inbound_results_free(struct inbound_results *r)
{
	if (r == NULL)
		return;
	free(r->dkim);
	free(r->authres);
	free(r);
}
