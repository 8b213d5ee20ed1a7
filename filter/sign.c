/*
 * NAME
 *	sign - DKIM signing with libopendkim
 * SYNOPSIS
 *	#include "sign.h"
 *
 *	struct sign_ctx *sign_ctx_new(cfg, err, errlen)
 *	struct signer *signer_new(sc, jobid, req, n, err, errlen)
 *	signer_header(), signer_eoh(), signer_body(), signer_eom()
 * DESCRIPTION
 *	One libopendkim library handle per configuration carries the header
 *	lists (what to sign, what to oversign); one DKIM handle per requested
 *	RSA signature does the work. Signatures never carry l=: the whole body
 *	is always signed. The algorithm is the key's own (RSA or Ed25519).
 *
 *	Ed25519 signatures are made by dkimsign.c instead: the libopendkim of
 *	Debian 12 (2.11.0 Beta2) never frees the key state of an Ed25519
 *	signing handle, about 1.3 KB per signature, which a daemon that signs
 *	every message cannot afford. Both produce the same header list from
 *	the same configuration.
 * DIAGNOSTICS
 *	A failure leaves a reason in signer_error(); callers decide what the
 *	message gets (OnInternalError).
 */
#include "buildconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <opendkim/dkim.h>

#include "config.h"
#include "dkimsign.h"
#include "sign.h"
#include "util.h"

#define SIGN_HDRNAME	"DKIM-Signature"

struct sign_ctx {
	DKIM_LIB	*lib;
	int		 hdr_canon;
	int		 body_canon;
	const char *const *sign_headers;	/* the configuration's lists */
	const char *const *oversign_headers;
};

/* One signature in the making: by libopendkim (RSA) or by dkimsign (Ed25519). */
struct signature {
	DKIM		*dkim;
	struct dkimsign	*own;
	char		*value;
};

struct signer {
	struct signature sig[SIGN_MAX_KEYS];
	size_t		 n;
	char		 err[256];
};

/* sign_ctx_new - a libopendkim handle set up for cfg's header lists */
struct sign_ctx *
sign_ctx_new(const struct config *cfg, char *err, size_t errlen)
{
	struct sign_ctx *sc;
	unsigned int flags = DKIM_LIBFLAGS_NONE;

	sc = xcalloc(1, sizeof(*sc));
	sc->lib = dkim_init(NULL, NULL);
	if (sc->lib == NULL) {
		snprintf(err, errlen, "libopendkim: initialisation failed");
		free(sc);
		return NULL;
	}
	sc->hdr_canon = cfg->hdr_canon;
	sc->body_canon = cfg->body_canon;
	if (dkim_options(sc->lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags,
	    sizeof(flags)) != DKIM_STAT_OK ||
	    dkim_options(sc->lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS,
	    cfg->sign_headers.names, sizeof(char **)) != DKIM_STAT_OK ||
	    (cfg->oversign_headers.count > 0 &&
	    dkim_options(sc->lib, DKIM_OP_SETOPT, DKIM_OPTS_OVERSIGNHDRS,
	    cfg->oversign_headers.names, sizeof(char **)) != DKIM_STAT_OK)) {
		snprintf(err, errlen, "libopendkim: the header lists were "
		    "refused");
		sign_ctx_free(sc);
		return NULL;
	}
	sc->sign_headers = (const char *const *)cfg->sign_headers.names;
	sc->oversign_headers = (const char *const *)cfg->oversign_headers.names;
	return sc;
}

/* sign_ctx_free - release the library handle */
void
sign_ctx_free(struct sign_ctx *sc)
{
	if (sc == NULL)
		return;
	if (sc->lib)
		dkim_close(sc->lib);
	free(sc);
}

/* signer_fail - remember why the signer failed */
static bool
signer_fail(struct signer *s, size_t i, const char *what, DKIM_STAT st)
{
	const char *detail = i < s->n && s->sig[i].dkim ?
	    dkim_geterror(s->sig[i].dkim) : NULL;

	snprintf(s->err, sizeof(s->err), "%s: %s%s%s", what,
	    dkim_getresultstr(st), detail && *detail ? ": " : "",
	    detail ? detail : "");
	return false;
}

/* signer_start_rsa - a libopendkim signing handle */
static bool
signer_start_rsa(struct sign_ctx *sc, struct signature *sig,
    const char *jobid, const struct sign_request *req, char *err,
    size_t errlen)
{
	DKIM_STAT st;

	sig->dkim = dkim_sign(sc->lib, (const unsigned char *)jobid, NULL,
	    (dkim_sigkey_t)req->key->pem, (const unsigned char *)req->selector,
	    (const unsigned char *)req->domain, sc->hdr_canon, sc->body_canon,
	    DKIM_SIGN_RSASHA256, -1, &st);
	if (sig->dkim == NULL) {
		snprintf(err, errlen, "signing with %s (d=%s s=%s): %s",
		    req->key->path, req->domain, req->selector,
		    dkim_getresultstr(st));
		return false;
	}
	if (req->signer != NULL && dkim_set_signer(sig->dkim,
	    (const unsigned char *)req->signer) != DKIM_STAT_OK) {
		snprintf(err, errlen, "signer identity \"%s\" refused",
		    req->signer);
		return false;
	}
	return true;
}

/* signer_start_own - a dkimsign handle (Ed25519) */
static bool
signer_start_own(struct sign_ctx *sc, struct signature *sig,
    const struct sign_request *req, char *err, size_t errlen)
{
	struct dkimsign_params p = {
		.domain = req->domain,
		.selector = req->selector,
		.identity = req->signer,
		.key = req->key->pkey,
		.hdr_relaxed = sc->hdr_canon == DKIM_CANON_RELAXED,
		.body_relaxed = sc->body_canon == DKIM_CANON_RELAXED,
		.sign_headers = sc->sign_headers,
		.oversign_headers = sc->oversign_headers,
		.timestamp = (long long)time(NULL),
	};

	sig->own = dkimsign_new(&p, err, errlen);
	return sig->own != NULL;
}

/* signer_new - one signing handle per requested signature */
struct signer *
signer_new(struct sign_ctx *sc, const char *jobid,
    const struct sign_request *req, size_t n, char *err, size_t errlen)
{
	struct signer *s;
	bool ok;

	if (n == 0 || n > SIGN_MAX_KEYS) {
		snprintf(err, errlen, "signer: %zu keys requested", n);
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	for (size_t i = 0; i < n; i++) {
		s->n = i + 1;
		if (req[i].key->alg == KEY_ALG_ED25519)
			ok = signer_start_own(sc, &s->sig[i], &req[i], err,
			    errlen);
		else
			ok = signer_start_rsa(sc, &s->sig[i], jobid, &req[i],
			    err, errlen);
		if (!ok) {
			signer_free(s);
			return NULL;
		}
	}
	return s;
}

/* signer_header - feed one header field to every handle */
bool
signer_header(struct signer *s, const char *field, size_t len)
{
	for (size_t i = 0; i < s->n; i++) {
		DKIM_STAT st;

		if (s->sig[i].own) {
			if (!dkimsign_header(s->sig[i].own, field, len)) {
				snprintf(s->err, sizeof(s->err), "header "
				    "section too large to sign");
				return false;
			}
			continue;
		}
		st = dkim_header(s->sig[i].dkim, (unsigned char *)field, len);
		if (st != DKIM_STAT_OK)
			return signer_fail(s, i, "header", st);
	}
	return true;
}

/* signer_eoh - end of the header section */
bool
signer_eoh(struct signer *s)
{
	for (size_t i = 0; i < s->n; i++) {
		DKIM_STAT st;

		if (s->sig[i].own)
			continue;
		st = dkim_eoh(s->sig[i].dkim);
		if (st != DKIM_STAT_OK)
			return signer_fail(s, i, "end of headers", st);
	}
	return true;
}

/* signer_body - hash a body chunk into every handle */
bool
signer_body(struct signer *s, const unsigned char *data, size_t len)
{
	for (size_t i = 0; i < s->n; i++) {
		DKIM_STAT st;

		if (s->sig[i].own) {
			dkimsign_body(s->sig[i].own, data, len);
			continue;
		}
		st = dkim_body(s->sig[i].dkim, (unsigned char *)data, len);
		if (st != DKIM_STAT_OK)
			return signer_fail(s, i, "body", st);
	}
	return true;
}

/* signer_crlf - a copy of a header value: CRLF folding, no leading space */
static char *
signer_crlf(const unsigned char *v, size_t len)
{
	struct buf b;

	buf_init(&b);
	while (len > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		len--;
	}
	buf_put_crlf(&b, (const char *)v, len);
	return buf_steal(&b);
}

/* signer_finish_rsa - libopendkim's signature header value */
static bool
signer_finish_rsa(struct signer *s, size_t i)
{
	unsigned char *hdr = NULL;
	size_t len = 0;
	DKIM_STAT st;

	st = dkim_eom(s->sig[i].dkim, NULL);
	if (st != DKIM_STAT_OK)
		return signer_fail(s, i, "signing", st);
	st = dkim_getsighdr_d(s->sig[i].dkim, strlen(SIGN_HDRNAME) + 2, &hdr,
	    &len);
	if (st != DKIM_STAT_OK || hdr == NULL)
		return signer_fail(s, i, "signature header", st);
	s->sig[i].value = signer_crlf(hdr, len);
	return true;
}

/* signer_finish_own - dkimsign's signature header value */
static bool
signer_finish_own(struct signer *s, size_t i)
{
	char *v = dkimsign_finish(s->sig[i].own, s->err, sizeof(s->err));

	if (v == NULL)
		return false;
	s->sig[i].value = signer_crlf((const unsigned char *)v, strlen(v));
	free(v);
	return true;
}

/* signer_eom - finish every signature */
bool
signer_eom(struct signer *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (!(s->sig[i].own ? signer_finish_own(s, i) :
		    signer_finish_rsa(s, i)))
			return false;
	return true;
}

size_t
signer_count(const struct signer *s)
{
	return s->n;
}

const char *
signer_value(const struct signer *s, size_t i)
{
	return i < s->n ? s->sig[i].value : NULL;
}

const char *
signer_error(const struct signer *s)
{
	return s->err[0] ? s->err : "unknown error";
}

/* signer_free - release every handle and value */
void
signer_free(struct signer *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++) {
		if (s->sig[i].dkim)
			dkim_free(s->sig[i].dkim);
		dkimsign_free(s->sig[i].own);
		free(s->sig[i].value);
	}
	free(s);
}
