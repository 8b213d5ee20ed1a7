/*
 * NAME
 *	fuzz_arc - libFuzzer harness of arc.c: an ARC chain verified, a set
 *	added, and the sealed message verified again
 * SYNOPSIS
 *	fuzz_arc [libFuzzer options] [CORPUS...]
 * DESCRIPTION
 *	The input is a message, split by message_read() as the command line
 *	does. Its ARC fields (ARC-Seal, ARC-Message-Signature,
 *	ARC-Authentication-Results: tag lists, instances, cv=, h=, b=, bh=)
 *	go through the verifier with a DNS table that knows one Ed25519 key,
 *	made at start-up and published as FUZZ_ARC_SELECTOR._domainkey.
 *	FUZZ_ARC_DOMAIN; every other name is NXDOMAIN. The outcome must be
 *	bounded and consistent: a known result, at most ARC_MAX_SETS sets,
 *	oldest-pass within them, a reason when it is not a pass, "none"
 *	exactly when there is no set, NUL-terminated sealers and AAR domains.
 *
 *	Then, when a set may be added, the harness seals the message with
 *	the key and the cv= the chain gives, puts the three new fields on
 *	top, and reads and verifies the result again (twice: a second set on
 *	the first). A chain that was "none" or "pass" and gets a seal of ours
 *	must verify as "pass" with one more set: the sealer and the verifier
 *	must agree on canonicalization, h= and the tag lists whatever the
 *	rest of the message holds. A chain that was "fail" gets no set after
 *	cv=fail.
 * DIAGNOSTICS
 *	A broken invariant aborts (FUZZ_CHECK); libFuzzer reports it.
 */
#include "buildconf.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>

#include "arc.h"
#include "dns.h"
#include "fuzz.h"
#include "message.h"
#include "util.h"

#define FUZZ_ARC_DOMAIN		"sealer.fuzz.test"
#define FUZZ_ARC_SELECTOR	"fz"
#define FUZZ_ARC_SERVID		"mx.fuzz.test"
#define FUZZ_ARC_MIN_BITS	1024	/* MinimumKeyBits default */
#define FUZZ_ARC_ROUNDS		2	/* sets added on top of each other */
#define FUZZ_ARC_ERR		256	/* bytes of an error */
#define FUZZ_ARC_ED25519_LEN	32	/* bytes of an Ed25519 public key */

static EVP_PKEY *fuzz_arc_key;
static char fuzz_arc_txt[128];	/* the key record */
static const char fuzz_arc_name[] = FUZZ_ARC_SELECTOR "._domainkey."
    FUZZ_ARC_DOMAIN;

static const char *const fuzz_arc_sign[] = { "From", "To", "Subject",
    "Date", "Message-ID", "Authentication-Results", "DKIM-Signature", NULL };
static const char *const fuzz_arc_oversign[] = { "From", "Subject", NULL };

/* fuzz_arc_lookup - the DNS: our key, NXDOMAIN for anything else */
static struct dns_answer *
fuzz_arc_lookup(void *arg, const char *name, unsigned type)
{
	const char *txt[1] = { fuzz_arc_txt };

	(void)arg;
	if (type == DNS_T_TXT && strcasecmp(name, fuzz_arc_name) == 0)
		return dns_answer_make(DNS_OK, type, txt, 1);
	return dns_answer_make(DNS_NXDOMAIN, type, NULL, 0);
}

static const struct arc_dns fuzz_arc_dns = { fuzz_arc_lookup, NULL, NULL };

/* A message as message_read() gave it, to verify and to write again. */
struct fuzz_arc_msg {
	struct arc	*arc;
	const struct arc_seal_params *sp;
	bool		 sealing;	/* arc_seal_start() said yes */
	char		 err[FUZZ_ARC_ERR];
	struct buf	 text;		/* the header section, then the body */
	struct buf	 body;
};

/*
 * fuzz_arc_header - a field to the verifier, and into the text: each
 * "\n" (a fold) written as CRLF, whatever precedes it, since
 * message_read() takes exactly one CR off each line end; a CR before
 * the fold then reads back as it was (buf_put_crlf() would take it for
 * the fold's own CR, and the text read again would lose it)
 */
static void
fuzz_arc_header(void *arg, const char *name, const char *value)
{
	struct fuzz_arc_msg *m = arg;
	const char *lf;

	arc_header(m->arc, name, value);
	buf_puts(&m->text, name);
	buf_putc(&m->text, ':');
	while ((lf = strchr(value, '\n')) != NULL) {
		buf_append(&m->text, value, (size_t)(lf - value));
		buf_puts(&m->text, "\r\n");
		value = lf + 1;
	}
	buf_puts(&m->text, value);
	buf_puts(&m->text, "\r\n");
}

/*
 * fuzz_arc_eoh - end of headers: a new set is prepared there, as the
 * milter does; the body is always wanted
 */
static bool
fuzz_arc_eoh(void *arg)
{
	struct fuzz_arc_msg *m = arg;

	m->sealing = arc_seal_start(m->arc, m->sp, m->err, sizeof(m->err));
	(void)arc_eoh(m->arc);
	return true;
}

/* fuzz_arc_body - a body chunk (CRLF) to the verifier, and kept */
static void
fuzz_arc_body(void *arg, const unsigned char *data, size_t len)
{
	struct fuzz_arc_msg *m = arg;

	arc_body(m->arc, data, len);
	buf_append(&m->body, data, len);
}

/* fuzz_arc_check - the outcome is bounded and consistent */
static void
fuzz_arc_check(const struct arc_outcome *o)
{
	FUZZ_CHECK(o->result == ARC_RESULT_NONE ||
	    o->result == ARC_RESULT_PASS || o->result == ARC_RESULT_FAIL);
	FUZZ_CHECK(o->sets <= ARC_MAX_SETS);
	FUZZ_CHECK(o->nsealers <= ARC_MAX_SETS);
	FUZZ_CHECK(o->naar_dmarc_pass <= ARC_MAX_AAR_DOMAINS);
	FUZZ_CHECK(memchr(o->reason, '\0', sizeof(o->reason)) != NULL);
	for (size_t i = 0; i < o->nsealers; i++)
		FUZZ_CHECK(memchr(o->sealers[i], '\0',
		    sizeof(o->sealers[i])) != NULL);
	for (size_t i = 0; i < o->naar_dmarc_pass; i++)
		FUZZ_CHECK(memchr(o->aar_dmarc_pass[i], '\0',
		    sizeof(o->aar_dmarc_pass[i])) != NULL);
	if (o->result == ARC_RESULT_PASS) {
		FUZZ_CHECK(o->sets >= 1);
		FUZZ_CHECK(o->oldest_pass >= 1 && o->oldest_pass <= o->sets);
	} else
		FUZZ_CHECK(o->oldest_pass == 0);
	if (o->result == ARC_RESULT_FAIL)
		FUZZ_CHECK(o->reason[0] != '\0');
}

/*
 * fuzz_arc_round - verify the message text (size bytes); when a set may
 * be added, seal it and return the sealed message (malloc'd), else NULL.
 * *was is the outcome of the verification.
 */
static char *
fuzz_arc_round(const char *text, size_t size, struct arc_outcome *was)
{
	struct arc_params p = { &fuzz_arc_dns, FUZZ_ARC_MIN_BITS,
	    (long long)time(NULL) };
	struct arc_seal_params sp = { fuzz_arc_key, FUZZ_ARC_DOMAIN,
	    FUZZ_ARC_SELECTOR, fuzz_arc_sign, fuzz_arc_oversign,
	    (long long)time(NULL) };
	struct fuzz_arc_msg m;
	struct message_sink sink = {
		fuzz_arc_header, fuzz_arc_eoh, fuzz_arc_body, &m
	};
	struct arc_sealed set;
	char err[FUZZ_ARC_ERR], *out = NULL;
	bool crlf;
	struct buf aar, b;
	enum arc_cv cv;
	FILE *fp;

	memset(&m, 0, sizeof(m));
	m.arc = arc_new(&p);
	m.sp = &sp;
	buf_init(&m.text);
	buf_init(&m.body);
	fp = fmemopen((void *)text, size, "r");
	FUZZ_CHECK(fp != NULL);
	(void)message_read(fp, &sink, &crlf, err, sizeof(err));
	fclose(fp);
	arc_verify(m.arc, was);
	fuzz_arc_check(was);
	if (!m.sealing)
		goto done;
	FUZZ_CHECK(arc_seal_instance(m.arc) == was->sets + 1 ||
	    was->result == ARC_RESULT_FAIL);
	cv = arc_seal_cv(was);
	buf_init(&aar);
	buf_printf(&aar, "i=%u; " FUZZ_ARC_SERVID "; arc=%s",
	    arc_seal_instance(m.arc), arc_result_name(was->result));
	if (arc_seal(m.arc, cv, aar.data, &set, err, sizeof(err))) {
		buf_init(&b);
		buf_printf(&b, "ARC-Seal: %s\r\nARC-Message-Signature: %s\r\n"
		    "ARC-Authentication-Results: %s\r\n", set.seal, set.ams,
		    set.aar);
		buf_append(&b, m.text.data, m.text.len);
		buf_puts(&b, "\r\n");
		buf_append(&b, m.body.data, m.body.len);
		out = buf_steal(&b);
		arc_sealed_free(&set);
	}
	buf_free(&aar);
done:
	arc_free(m.arc);
	buf_free(&m.text);
	buf_free(&m.body);
	return out;
}

/* LLVMFuzzerInitialize - the sealing key and its record */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	unsigned char pub[FUZZ_ARC_ED25519_LEN];
	unsigned char b64[2 * FUZZ_ARC_ED25519_LEN];
	size_t len = sizeof(pub);

	(void)argc;
	(void)argv;
	fuzz_arc_key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	FUZZ_CHECK(fuzz_arc_key != NULL);
	FUZZ_CHECK(EVP_PKEY_get_raw_public_key(fuzz_arc_key, pub, &len) == 1);
	FUZZ_CHECK(EVP_EncodeBlock(b64, pub, (int)len) > 0);
	snprintf(fuzz_arc_txt, sizeof(fuzz_arc_txt),
	    "v=DKIM1; k=ed25519; p=%s", (const char *)b64);
	return 0;
}

/* LLVMFuzzerTestOneInput - verify, seal, verify again */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arc_outcome o;
	char *text, *sealed;

	if (size == 0)
		return 0;
	text = fuzz_strdup(data, size);
	for (unsigned round = 0; round <= FUZZ_ARC_ROUNDS; round++) {
		sealed = fuzz_arc_round(text, strlen(text), &o);
		/* the set we added on the round before verifies */
		if (round > 0)
			FUZZ_CHECK(o.result == ARC_RESULT_PASS);
		if (sealed == NULL)
			break;
		free(text);
		text = sealed;
		if (o.result == ARC_RESULT_FAIL) {
			/* sealed with cv=fail: a failed chain, and no more */
			sealed = fuzz_arc_round(text, strlen(text), &o);
			FUZZ_CHECK(o.result == ARC_RESULT_FAIL);
			FUZZ_CHECK(sealed == NULL);
			break;
		}
	}
	free(text);
	return 0;
}
