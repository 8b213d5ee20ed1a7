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
 *	signature does the work. Signatures never carry l=: the whole body is
 *	always signed. The algorithm is the key's own (RSA or Ed25519).
 * DIAGNOSTICS
 *	A failure leaves a reason in signer_error(); callers decide what the
 *	message gets (OnInternalError).
 */
#include "buildconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <opendkim/dkim.h>

#include "config.h"
#include "sign.h"
#include "util.h"

#define SIGN_HDRNAME	"DKIM-Signature"

struct sign_ctx {
	DKIM_LIB	*lib;
	int		 hdr_canon;
	int		 body_canon;
	bool		 ed25519;	/* this libopendkim can sign with Ed25519 */
};

struct signer {
	DKIM		*dkim[SIGN_MAX_KEYS];
	char		*value[SIGN_MAX_KEYS];
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
	sc->ed25519 = dkim_libfeature(sc->lib, DKIM_FEATURE_ED25519);
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
	const char *detail = i < s->n && s->dkim[i] ?
	    dkim_geterror(s->dkim[i]) : NULL;

	snprintf(s->err, sizeof(s->err), "%s: %s%s%s", what,
	    dkim_getresultstr(st), detail && *detail ? ": " : "",
	    detail ? detail : "");
	return false;
}

/* signer_new - one DKIM signing handle per requested signature */
struct signer *
signer_new(struct sign_ctx *sc, const char *jobid,
    const struct sign_request *req, size_t n, char *err, size_t errlen)
{
	struct signer *s;
	DKIM_STAT st;

	if (n == 0 || n > SIGN_MAX_KEYS) {
		snprintf(err, errlen, "signer: %zu keys requested", n);
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	for (size_t i = 0; i < n; i++) {
		dkim_alg_t alg = req[i].key->alg == KEY_ALG_ED25519 ?
		    DKIM_SIGN_ED25519SHA256 : DKIM_SIGN_RSASHA256;

		if (alg == DKIM_SIGN_ED25519SHA256 && !sc->ed25519) {
			snprintf(err, errlen, "%s: this libopendkim cannot sign "
			    "with Ed25519", req[i].key->path);
			signer_free(s);
			return NULL;
		}

		s->dkim[i] = dkim_sign(sc->lib, (const unsigned char *)jobid,
		    NULL, (dkim_sigkey_t)req[i].key->pem,
		    (const unsigned char *)req[i].selector,
		    (const unsigned char *)req[i].domain,
		    sc->hdr_canon, sc->body_canon, alg, -1, &st);
		if (s->dkim[i] == NULL) {
			snprintf(err, errlen, "signing with %s (d=%s s=%s): %s",
			    req[i].key->path, req[i].domain, req[i].selector,
			    dkim_getresultstr(st));
			signer_free(s);
			return NULL;
		}
		s->n = i + 1;
		if (req[i].signer != NULL &&
		    dkim_set_signer(s->dkim[i],
		    (const unsigned char *)req[i].signer) != DKIM_STAT_OK) {
			snprintf(err, errlen, "signer identity \"%s\" refused",
			    req[i].signer);
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
		DKIM_STAT st = dkim_header(s->dkim[i], (unsigned char *)field,
		    len);

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
		DKIM_STAT st = dkim_eoh(s->dkim[i]);

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
		DKIM_STAT st = dkim_body(s->dkim[i], (unsigned char *)data,
		    len);

		if (st != DKIM_STAT_OK)
			return signer_fail(s, i, "body", st);
	}
	return true;
}

/* signer_crlf - a copy of a libopendkim header value with CRLF folding */
static char *
signer_crlf(const unsigned char *v, size_t len)
{
	struct buf b;

	buf_init(&b);
	for (size_t i = 0; i < len; i++) {
		if (v[i] == '\n' && (i == 0 || v[i - 1] != '\r'))
			buf_putc(&b, '\r');
		buf_putc(&b, (char)v[i]);
	}
	return buf_steal(&b);
}

/* signer_eom - finish every signature */
bool
signer_eom(struct signer *s)
{
	for (size_t i = 0; i < s->n; i++) {
		unsigned char *hdr = NULL;
		size_t len = 0;
		DKIM_STAT st;

		st = dkim_eom(s->dkim[i], NULL);
		if (st != DKIM_STAT_OK)
			return signer_fail(s, i, "signing", st);
		st = dkim_getsighdr_d(s->dkim[i], strlen(SIGN_HDRNAME) + 2,
		    &hdr, &len);
		if (st != DKIM_STAT_OK || hdr == NULL)
			return signer_fail(s, i, "signature header", st);
		s->value[i] = signer_crlf(hdr, len);
	}
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
	return i < s->n ? s->value[i] : NULL;
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
		if (s->dkim[i])
			dkim_free(s->dkim[i]);
		free(s->value[i]);
	}
	free(s);
}
