/*
 * inbound.h - the checks of an inbound message in one pass: SPF (MAIL FROM
 * and HELO), DKIM, DMARC, ARC; the decision the configuration draws from
 * them; the one Authentication-Results header that reports them; and,
 * when configured, the ARC set that seals them (ARCSealKey).
 *
 * The session feeds an inbound check as it feeds a signer: envelope at
 * creation, headers one by one, the body in chunks, then the end. DNS work
 * starts as early as the data allows: the SPF records at creation (MAIL
 * FROM), the DMARC record when the From header is seen, each DKIM key when
 * its DKIM-Signature header is seen, each ARC key when its ARC-Seal or
 * ARC-Message-Signature header is seen. At the end the checks wait, within
 * the per-message DNS budget (DNSBudget), for what they still need.
 */
#ifndef AM_INBOUND_H
#define AM_INBOUND_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"
#include "arc.h"
#include "dkimverify.h"
#include "dmarc.h"
#include "spf.h"
#include "util.h"

struct config;
struct runtime;
struct verdict;
struct inbound;

#define INBOUND_MAX_FORGED	16	/* forged A-R headers removed */
#define INBOUND_MAX_HELO	255	/* bytes of HELO name kept */
#define INBOUND_MAX_ADDR	512	/* bytes of MAIL FROM kept */
#define INBOUND_MAX_OVERRIDE_COMMENT	128	/* why the action is not the policy */
#define INBOUND_MAX_SHADOW	128	/* what ShadowMode kept from happening */
#define INBOUND_MAX_COMMENT	256	/* bytes of a note on ARC sealing */

/*
 * What the checks found and what was decided: one record per message, for
 * the log, the CLI's JSON, the metrics and a report writer (with the
 * policy as published in dmarc.record / dmarc.reporting).
 */
struct inbound_results {
	char		 client_ip[64];	/* the source IP */
	char		 envelope_to[ADDR_MAX_DOMAIN + 1];	/* first RCPT's domain */
	bool		 mailfrom_null;	/* MAIL FROM was <> */
	struct spf_outcome spf;		/* the MAIL FROM identity */
	bool		 have_helo;
	struct spf_outcome spf_helo;	/* the HELO identity, its own result */
	/* per DKIM-Signature within MaximumSignaturesToVerify, top first */
	struct dkimv_sig *dkim;
	size_t		 ndkim;
	bool		 from_ok;	/* one From with one usable address */
	char		 from_problem[128];
	struct dmarc_outcome dmarc;
	enum dmarc_override override;	/* why the action is not the policy */
	char		 override_comment[INBOUND_MAX_OVERRIDE_COMMENT];
	/* what was applied of a failure's disposition (NONE: delivered) */
	enum dmarc_policy applied;
	/*
	 * the configuration key(s) that decided the action, set once by the
	 * deciding code; NULL when none did (DMARC pass, none, or p=none)
	 */
	const char	*decided_by;
	/* ShadowMode: what would have been done ("" when nothing) */
	char		 shadow[INBOUND_MAX_SHADOW];
	int		 shadow_action;	/* enum verdict_action */
	char		*authres;	/* the A-R value we add (NULL if none) */

	/* ARC (arc.c), and what the decision and the sealer drew from it */
	struct arc_outcome arc;
	bool		 arc_trusted;	/* arc=pass, every sealer trusted */
	unsigned	 sealed;	/* the i= of the set we added (0: none) */
	char		 seal_note[INBOUND_MAX_COMMENT];	/* why not */
};

/*
 * inbound_new - a message from client_ip (textual), with HELO helo and
 * MAIL FROM mail_from (without <>; "" for the null sender), checked with
 * the services of rt (DNS, the verifier) and counted in its metrics. NULL
 * when the DNS service cannot run (the caller applies OnInternalError).
 */
struct inbound *inbound_new(struct config *cfg, struct runtime *rt,
    const char *client_ip, const char *helo, const char *mail_from,
    const char *jobid);
/* inbound_rcpt - one envelope recipient (without <>) */
void inbound_rcpt(struct inbound *ib, const char *rcpt);
/* inbound_header - one header field (value as session_header has it) */
void inbound_header(struct inbound *ib, const char *name, const char *value);
/* inbound_overflow - the header section passed the configured bounds */
void inbound_overflow(struct inbound *ib);
/* inbound_eoh - true when the body is needed (there are signatures) */
bool inbound_eoh(struct inbound *ib);
/* inbound_body - a body chunk in CRLF form */
void inbound_body(struct inbound *ib, const unsigned char *data, size_t len);
/*
 * inbound_eom - run the checks, decide, and fill v (action, reply, the A-R
 * header, forged A-R removals, the results); appends to the log summary.
 */
void inbound_eom(struct inbound *ib, struct verdict *v, struct buf *summary);
/* inbound_set_trace - write what the checks do to t (trace.h), or NULL */
struct trace;
void inbound_set_trace(struct inbound *ib, struct trace *t);
void inbound_free(struct inbound *ib);

void inbound_results_free(struct inbound_results *r);

#endif
