/*
 * NAME
 *	dkimsign - a small streaming DKIM signer (Ed25519 and RSA)
 * SYNOPSIS
 *	#include "dkimsign.h"
 *
 *	struct dkimsign *dkimsign_new(params, err, errlen)
 *	bool dkimsign_header(ds, field, len)
 *	void dkimsign_body(ds, data, len)
 *	char *dkimsign_finish(ds, err, errlen)
 *	char *dkimsign_finish_bh(ds, digest, err, errlen)
 *	void dkimsign_free(ds)
 *
 *	struct dkimsign_bh *dkimsign_bh_new(relaxed)
 *	void dkimsign_bh_update(bh, data, len)
 *	bool dkimsign_bh_final(bh, digest)
 *	void dkimsign_bh_free(bh)
 *
 *	struct dkimsign_hash *dkimsign_hash_new(void)
 *	void dkimsign_hash_field(h, field, len, relaxed, crlf)
 *	bool dkimsign_hash_final(h, digest)
 *	void dkimsign_hash_free(h)
 * DESCRIPTION
 *	Signs one message per handle: ed25519-sha256 (RFC 8463) with an
 *	Ed25519 key, rsa-sha256 (RFC 6376) with an RSA key; header and body
 *	canonicalization simple or relaxed (RFC 6376 section 3.4). It exists
 *	because libopendkim 2.11.0~beta2 frees its crypto state only for RSA
 *	keys, so every Ed25519 signature it makes leaks.
 *
 *	Header fields are given one by one in message order. Only those whose
 *	names are in the sign or oversign list are kept, since no other field
 *	is ever hashed. At the end, h= lists the kept fields by their own
 *	names in message order, then each oversign name once more (RFC 6376
 *	section 5.4.2: an entry with no instance left signs the absence of
 *	one more). A name listed k times hashes its instances bottom-up.
 *	Names in the oversign list are signed even if missing from the sign
 *	list, since oversigning a field implies signing the ones present.
 *
 *	The body is canonicalized by a byte-level state machine whose only
 *	memory between chunks is a pending CR, a pending run of white space
 *	and a count of pending empty lines; canonical bytes go to SHA-256
 *	through a small staging buffer. So memory does not grow with the body
 *	and the result does not depend on how the body is chunked. The tags
 *	are v, a, c, d, [i], s, [t], [x], bh, h, b; never l=, since a
 *	signature that covers part of the body lets anyone append to it.
 *
 *	The header value is folded as libopendkim folds it (margin 75, CRLF
 *	TAB between tags, h= broken at colons, bh= and b= broken anywhere),
 *	so that for RSA the two produce the same bytes.
 *
 *	Ed25519 signs the SHA-256 digest of the canonical header data with
 *	PureEdDSA, as RFC 8463 section 3 says; RSA signs the same digest with
 *	RSASSA-PKCS1-v1_5. Only OpenSSL 3 EVP interfaces are used.
 *
 *	The same handle makes the two signatures of an ARC set (RFC 8617),
 *	which are DKIM signatures under other names: an ARC-Message-Signature
 *	is a DKIM-Signature with i= (the instance) in place of v=, and an
 *	ARC-Seal signs the header fields it is given, in the order given,
 *	always with relaxed canonicalization, and carries cv= instead of h=
 *	and bh=. The body canonicalizer (dkimsign_bh_*) and the header
 *	canonicalizer (dkimsign_hash_*) are offered on their own too, for
 *	the ARC verifier, so that DKIM signing and ARC share one
 *	canonicalization. dkimsign_finish_bh() takes a body hash computed
 *	elsewhere (by a dkimsign_bh the caller already fed), so that a body
 *	is hashed once for a verifier and a sealer.
 *
 *	RSA signatures use the thread's prepared context for the key
 *	(pkeyctx.h): setting one up costs about as much as canonicalizing
 *	the header fields. SHA-256 is fetched from OpenSSL's provider once
 *	per process: EVP_sha256() names the algorithm, and OpenSSL 3 looks
 *	it up again, under a lock shared by all threads, at every
 *	EVP_DigestInit_ex() given it (eleven a message for an inbound
 *	message with a 2-set ARC chain and a seal). The key type is read
 *	from the key (EVP_PKEY_get_id()), not matched by name.
 * DIAGNOSTICS
 *	dkimsign_new() and dkimsign_finish() put a reason in err when they
 *	return NULL; dkimsign_header() returns false when a bound is
 *	exceeded, and dkimsign_finish() then reports which. OpenSSL errors
 *	are copied into err and cleared from the thread's error queue.
 */
#include "buildconf.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "dkimsign.h"
#include "pkeyctx.h"
#include "util.h"

#define DKIMSIGN_HDRNAME	"DKIM-Signature"
#define DKIMSIGN_AMS_NAME	"ARC-Message-Signature"
#define DKIMSIGN_SEAL_NAME	"ARC-Seal"
#define DKIMSIGN_MARGIN		75	/* libopendkim's folding column */
#define DKIMSIGN_INDENT		8	/* column after CRLF TAB */
#define DKIMSIGN_SINK_BYTES	4096	/* bytes staged per hash update */
#define DKIMSIGN_B64LEN(n)	((((n) + 2) / 3) * 4)
#define DKIMSIGN_WHYLEN		160
#define DKIMSIGN_MAX_DIGITS	20	/* decimal digits of a 64-bit number */

/*
 * A hash fed through a staging buffer, so that the body's state machine
 * does not call into OpenSSL once per byte.
 */
struct dkimsign_sink {
	EVP_MD_CTX	*md;
	bool		 bad;		/* an update failed */
	size_t		 n;
	unsigned char	 buf[DKIMSIGN_SINK_BYTES];
};

/* One header name from the sign or oversign list. */
struct dkimsign_name {
	size_t	 off;			/* in names.data */
	size_t	 len;
	bool	 oversign;
};

/* One kept header field. */
struct dkimsign_field {
	size_t	 off;			/* in store.data */
	size_t	 len;			/* the whole field */
	size_t	 namelen;		/* its name, without WSP before ':' */
	size_t	 name;			/* index in ds->name[] */
};

/* What the body canonicalizer holds between chunks. */
struct dkimsign_bstate {
	unsigned long long empty;	/* empty lines not yet written */
	bool	 cr;			/* a CR that may start a CRLF */
	bool	 wsp;			/* relaxed: a WSP run not yet written */
	bool	 bol;			/* at the beginning of a line */
	bool	 wrote;			/* some line had content */
};

/* A body canonicalizer feeding its own SHA-256 (dkimsign_bh_*). */
struct dkimsign_bh {
	struct dkimsign_sink	 sink;
	struct dkimsign_bstate	 st;
	bool			 relaxed;
	bool			 done;		/* final was called */
};

/* A SHA-256 over canonicalized header fields (dkimsign_hash_*). */
struct dkimsign_hash {
	struct dkimsign_sink	 sink;
};

/* The folding position while the header value is written. */
struct dkimsign_fold {
	struct buf	*out;
	size_t		 col;
	bool		 first;
};

enum dkimsign_tagkind {
	DKIMSIGN_TAG_PLAIN,		/* folded only before the tag */
	DKIMSIGN_TAG_LIST,		/* h=: may also fold after a colon */
	DKIMSIGN_TAG_CHUNK,		/* bh=, b=: may fold anywhere */
};

struct dkimsign {
	enum dkimsign_kind kind;
	unsigned	 instance;	/* ARC: i= */
	char		 cv[8];		/* ARC-Seal: cv= */
	EVP_PKEY	*key;		/* our own reference */
	bool		 ed25519;
	size_t		 sigmax;	/* EVP_PKEY_get_size() */
	size_t		 b64siglen;	/* what libopendkim expects for b= */
	bool		 hdr_relaxed;
	bool		 body_relaxed;
	long long	 timestamp;
	long long	 expiration;
	char		*domain;
	char		*selector;
	char		*identity;	/* encoded for i=, or NULL */

	struct buf	 names;		/* the list names, NUL-separated */
	struct dkimsign_name *name;
	size_t		 nname;
	size_t		*over;		/* oversigned names, in their order */
	size_t		 nover;
	size_t		 from;		/* index of "From" in name[] */

	struct buf	 store;		/* the kept fields' bytes */
	struct dkimsign_field *field;
	size_t		 nfield;
	size_t		 fieldcap;

	struct dkimsign_bh body;	/* the body hash */
	struct dkimsign_sink sink;	/* the header hash */
	bool		 failed;
	bool		 finished;
	char		 why[DKIMSIGN_WHYLEN];
};

/* dkimsign_isnamechar - may c appear in a header field name (ftext)? */
static bool
dkimsign_isnamechar(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e && c != ':';
}

/* dkimsign_tolower - ASCII only, whatever the locale */
static unsigned char
dkimsign_tolower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* dkimsign_caseeq - ASCII case-insensitive comparison of two byte runs */
static bool
dkimsign_caseeq(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (dkimsign_tolower((unsigned char)a[i]) !=
		    dkimsign_tolower((unsigned char)b[i]))
			return false;
	return true;
}

/* dkimsign_lookup - index of a name in the lists, or SIZE_MAX */
static size_t
dkimsign_lookup(const struct dkimsign *ds, const char *s, size_t len)
{
	for (size_t i = 0; i < ds->nname; i++)
		if (dkimsign_caseeq(ds->names.data + ds->name[i].off,
		    ds->name[i].len, s, len))
			return i;
	return SIZE_MAX;
}

/* dkimsign_count - entries in a NULL-terminated list, up to one too many */
static size_t
dkimsign_count(const char *const *list)
{
	size_t n = 0;

	while (list != NULL && list[n] != NULL && n <= DKIMSIGN_MAX_NAMES)
		n++;
	return n;
}

/*
 * dkimsign_add_names - take a NULL-terminated list into name[] (which has
 * room for all of them), checked and without duplicates
 */
static bool
dkimsign_add_names(struct dkimsign *ds, const char *const *list,
    bool oversign, char *err, size_t errlen)
{
	for (size_t i = 0; list != NULL && list[i] != NULL; i++) {
		const char *s = list[i];
		size_t len = strnlen(s, DKIMSIGN_MAX_NAMELEN + 1), at;

		if (len == 0 || len > DKIMSIGN_MAX_NAMELEN) {
			snprintf(err, errlen, "header name %zu in the %s list "
			    "is empty or too long", i + 1,
			    oversign ? "oversign" : "sign");
			return false;
		}
		for (size_t j = 0; j < len; j++)
			if (!dkimsign_isnamechar((unsigned char)s[j])) {
				snprintf(err, errlen, "\"%.*s\" is not a "
				    "header name", (int)len, s);
				return false;
			}
		at = dkimsign_lookup(ds, s, len);
		if (at == SIZE_MAX) {
			at = ds->nname++;
			ds->name[at].off = ds->names.len;
			ds->name[at].len = len;
			buf_append(&ds->names, s, len);
			buf_putc(&ds->names, '\0');
		}
		/* a name listed twice counts once */
		if (oversign && !ds->name[at].oversign) {
			ds->name[at].oversign = true;
			ds->over[ds->nover++] = at;
		}
	}
	return true;
}

/* dkimsign_tagok - a d= or s= value: letters, digits, '-', '.', '_' */
static bool
dkimsign_tagok(const char *s)
{
	size_t len;

	if (s == NULL || (len = strnlen(s, DKIMSIGN_MAX_TAGLEN + 1)) == 0 ||
	    len > DKIMSIGN_MAX_TAGLEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'))
			return false;
	}
	return true;
}

/*
 * dkimsign_identity - i= as dkim-quoted-printable (RFC 6376 section 2.11):
 * [local-part]@domain, the domain d= or below it, the local part taken
 * as it is with ';', '=', white space and 8-bit bytes encoded. NULL with
 * a reason on error.
 */
static char *
dkimsign_identity(const char *id, const char *domain, char *err,
    size_t errlen)
{
	static const char hex[] = "0123456789ABCDEF";
	const char *at;
	size_t len = strnlen(id, DKIMSIGN_MAX_TAGLEN + 1), dlen, idlen;
	struct buf b;

	/* the last '@': a quoted local part may hold one */
	at = NULL;
	for (const char *p = id; p < id + len; p++)
		if (*p == '@')
			at = p;
	if (len > DKIMSIGN_MAX_TAGLEN || at == NULL ||
	    !dkimsign_tagok(at + 1)) {
		snprintf(err, errlen, "signer identity is not user@domain");
		return NULL;
	}
	idlen = strlen(at + 1);
	dlen = strlen(domain);
	if (!dkimsign_caseeq(at + 1, idlen, domain, dlen) &&
	    !(idlen > dlen && at[idlen - dlen] == '.' &&
	    dkimsign_caseeq(at + 1 + idlen - dlen, dlen, domain, dlen))) {
		snprintf(err, errlen, "signer identity \"%.*s\" is not in "
		    "the signing domain %s", (int)len, id, domain);
		return NULL;
	}
	buf_init(&b);
	for (const char *p = id; p < id + len; p++) {
		unsigned char c = (unsigned char)*p;

		if (c >= 0x21 && c <= 0x7e && c != ';' && c != '=') {
			buf_putc(&b, (char)c);
		} else {
			buf_putc(&b, '=');
			buf_putc(&b, hex[c >> 4]);
			buf_putc(&b, hex[c & 0x0f]);
		}
	}
	return buf_steal(&b);
}

/* dkimsign_ssl_error - describe the newest OpenSSL error, clear the queue */
static void
dkimsign_ssl_error(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	char reason[256];

	if (e != 0)
		ERR_error_string_n(e, reason, sizeof(reason));
	else
		snprintf(reason, sizeof(reason), "unknown error");
	ERR_clear_error();
	snprintf(err, errlen, "%s: %s", what, reason);
}

/* dkimsign_sink_flush - hash what is staged */
static void
dkimsign_sink_flush(struct dkimsign_sink *s)
{
	if (s->n > 0 && EVP_DigestUpdate(s->md, s->buf, s->n) != 1)
		s->bad = true;
	s->n = 0;
}

/* dkimsign_sink_put - hash one byte */
static inline void
dkimsign_sink_put(struct dkimsign_sink *s, unsigned char c)
{
	if (s->n == sizeof(s->buf))
		dkimsign_sink_flush(s);
	s->buf[s->n++] = c;
}

/* dkimsign_sink_write - hash a run of bytes */
static void
dkimsign_sink_write(struct dkimsign_sink *s, const void *data, size_t len)
{
	const unsigned char *p = data;

	if (len >= sizeof(s->buf)) {
		dkimsign_sink_flush(s);
		if (EVP_DigestUpdate(s->md, p, len) != 1)
			s->bad = true;
		return;
	}
	if (len > sizeof(s->buf) - s->n)
		dkimsign_sink_flush(s);
	memcpy(s->buf + s->n, p, len);
	s->n += len;
}

static EVP_MD *dkimsign_sha256_fetched;
static pthread_once_t dkimsign_sha256_once = PTHREAD_ONCE_INIT;

/* dkimsign_sha256_fetch - SHA-256 from the default library context, once */
static void
dkimsign_sha256_fetch(void)
{
	dkimsign_sha256_fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
	ERR_clear_error();
}

/* dkimsign_sha256 - the fetched SHA-256, or EVP_sha256() if none came */
static const EVP_MD *
dkimsign_sha256(void)
{
	(void)pthread_once(&dkimsign_sha256_once, dkimsign_sha256_fetch);
	return dkimsign_sha256_fetched != NULL ? dkimsign_sha256_fetched :
	    EVP_sha256();
}

/* dkimsign_sink_start - begin a new SHA-256 */
static bool
dkimsign_sink_start(struct dkimsign_sink *s)
{
	s->n = 0;
	return EVP_DigestInit_ex(s->md, dkimsign_sha256(), NULL) == 1;
}

/* dkimsign_sink_final - the SHA-256 of everything written */
static bool
dkimsign_sink_final(struct dkimsign_sink *s,
    unsigned char digest[DKIMSIGN_SHA256_LEN])
{
	unsigned int len = 0;

	dkimsign_sink_flush(s);
	return !s->bad && EVP_DigestFinal_ex(s->md, digest, &len) == 1 &&
	    len == DKIMSIGN_SHA256_LEN;
}

static bool dkimsign_bh_init(struct dkimsign_bh *bh, bool relaxed);

/* dkimsign_name - the header field name a handle's kind makes */
static const char *
dkimsign_name(enum dkimsign_kind kind)
{
	switch (kind) {
	case DKIMSIGN_ARC_MS: return DKIMSIGN_AMS_NAME;
	case DKIMSIGN_ARC_SEAL: return DKIMSIGN_SEAL_NAME;
	default: return DKIMSIGN_HDRNAME;
	}
}

/*
 * dkimsign_kind_ok - the parameters an ARC signature adds: an instance in
 * range, no identity (i= is the instance), for a seal a known cv=
 */
static bool
dkimsign_kind_ok(const struct dkimsign_params *p, char *err, size_t errlen)
{
	if (p->kind == DKIMSIGN_DKIM)
		return true;
	if (p->kind != DKIMSIGN_ARC_MS && p->kind != DKIMSIGN_ARC_SEAL) {
		snprintf(err, errlen, "unknown signature kind");
		return false;
	}
	if (p->instance < 1 || p->instance > DKIMSIGN_MAX_INSTANCE) {
		snprintf(err, errlen, "ARC instance %u is not 1 to %d",
		    p->instance, DKIMSIGN_MAX_INSTANCE);
		return false;
	}
	if (p->identity != NULL) {
		snprintf(err, errlen, "an ARC signature has no identity");
		return false;
	}
	if (p->kind == DKIMSIGN_ARC_SEAL && (p->cv == NULL ||
	    (strcmp(p->cv, "none") != 0 && strcmp(p->cv, "pass") != 0 &&
	    strcmp(p->cv, "fail") != 0))) {
		snprintf(err, errlen, "an ARC-Seal needs cv=none, pass or "
		    "fail");
		return false;
	}
	return true;
}

/* dkimsign_new - check the parameters and start the body hash */
struct dkimsign *
dkimsign_new(const struct dkimsign_params *p, char *err, size_t errlen)
{
	struct dkimsign *ds;
	size_t nname;
	int size;

	if (p->key == NULL) {
		snprintf(err, errlen, "no signing key");
		return NULL;
	}
	if (!dkimsign_tagok(p->domain) || !dkimsign_tagok(p->selector)) {
		snprintf(err, errlen, "bad signing domain or selector");
		return NULL;
	}
	if (!dkimsign_kind_ok(p, err, errlen))
		return NULL;
	ds = xcalloc(1, sizeof(*ds));
	buf_init(&ds->names);
	buf_init(&ds->store);
	ds->kind = p->kind;
	ds->instance = p->instance;
	if (p->kind == DKIMSIGN_ARC_SEAL)
		snprintf(ds->cv, sizeof(ds->cv), "%s", p->cv);
	/* an ARC-Seal is always relaxed (RFC 8617 section 4.1.3) */
	ds->hdr_relaxed = p->hdr_relaxed || p->kind == DKIMSIGN_ARC_SEAL;
	ds->body_relaxed = p->body_relaxed;
	ds->timestamp = p->timestamp;
	ds->expiration = p->kind == DKIMSIGN_ARC_SEAL ? 0 : p->expiration;
	ds->domain = xstrdup(p->domain);
	ds->selector = xstrdup(p->selector);
	if (p->identity != NULL && (ds->identity = dkimsign_identity(
	    p->identity, p->domain, err, errlen)) == NULL)
		goto fail;

	if (EVP_PKEY_get_id(p->key) == EVP_PKEY_ED25519)
		ds->ed25519 = true;
	else if (EVP_PKEY_get_id(p->key) != EVP_PKEY_RSA) {
		snprintf(err, errlen, "the key is neither Ed25519 nor RSA");
		goto fail;
	}
	size = EVP_PKEY_get_size(p->key);
	if (size <= 0 || EVP_PKEY_up_ref(p->key) != 1) {
		dkimsign_ssl_error(err, errlen, "unusable key");
		goto fail;
	}
	ds->key = p->key;
	ds->sigmax = (size_t)size;
	if (ds->ed25519)
		ds->b64siglen = DKIMSIGN_B64LEN(ds->sigmax);
	else	/* libopendkim's estimate, which decides its folding */
		ds->b64siglen = DKIMSIGN_B64LEN((size_t)EVP_PKEY_get_bits(
		    p->key) / 8);

	if (p->kind != DKIMSIGN_ARC_SEAL) {
		nname = dkimsign_count(p->sign_headers) +
		    dkimsign_count(p->oversign_headers);
		if (nname > DKIMSIGN_MAX_NAMES) {
			snprintf(err, errlen, "more than %d header names to "
			    "sign", DKIMSIGN_MAX_NAMES);
			goto fail;
		}
		ds->name = xcalloc(nname, sizeof(*ds->name));
		ds->over = xcalloc(nname, sizeof(*ds->over));
		if (!dkimsign_add_names(ds, p->sign_headers, false, err,
		    errlen) || !dkimsign_add_names(ds, p->oversign_headers,
		    true, err, errlen))
			goto fail;
		ds->from = dkimsign_lookup(ds, "From", 4);
		if (ds->from == SIZE_MAX) {
			snprintf(err, errlen, "the headers to sign do not "
			    "include From");
			goto fail;
		}
	}

	ds->sink.md = EVP_MD_CTX_new();
	if (ds->sink.md == NULL || !dkimsign_sink_start(&ds->sink) ||
	    !dkimsign_bh_init(&ds->body, ds->body_relaxed)) {
		dkimsign_ssl_error(err, errlen, "SHA-256 unavailable");
		goto fail;
	}
	return ds;
fail:
	dkimsign_free(ds);
	return NULL;
}

/* dkimsign_fail - remember why the handle can no longer sign */
static bool
dkimsign_fail(struct dkimsign *ds, const char *why)
{
	if (!ds->failed)
		snprintf(ds->why, sizeof(ds->why), "%s", why);
	ds->failed = true;
	return false;
}

/* dkimsign_header - keep a field if its name is one to sign */
bool
dkimsign_header(struct dkimsign *ds, const char *field, size_t len)
{
	const char *colon;
	size_t namelen, at;
	struct dkimsign_field *f;

	if (ds->failed || ds->finished)
		return false;
	colon = memchr(field, ':', len);
	if (colon == NULL)
		return true;		/* not a field: nothing to sign */
	namelen = (size_t)(colon - field);
	while (namelen > 0 && (field[namelen - 1] == ' ' ||
	    field[namelen - 1] == '\t'))
		namelen--;
	/* a seal signs every field it is given; the others, the listed */
	at = ds->kind == DKIMSIGN_ARC_SEAL ? SIZE_MAX :
	    dkimsign_lookup(ds, field, namelen);
	if (at == SIZE_MAX && ds->kind != DKIMSIGN_ARC_SEAL)
		return true;
	if (ds->nfield == DKIMSIGN_MAX_HEADERS)
		return dkimsign_fail(ds, "too many header fields to sign");
	if (len > DKIMSIGN_MAX_HEADER_BYTES - ds->store.len)
		return dkimsign_fail(ds, "header fields to sign too large");
	if (ds->nfield == ds->fieldcap) {
		ds->fieldcap = ds->fieldcap ? ds->fieldcap * 2 : 32;
		ds->field = xrealloc(ds->field,
		    ds->fieldcap * sizeof(*ds->field));
	}
	f = &ds->field[ds->nfield++];
	f->off = ds->store.len;
	f->len = len;
	f->namelen = namelen;
	f->name = at;
	buf_append(&ds->store, field, len);
	return true;
}

/*
 * dkimsign_body_pending - content follows: the empty lines before it are
 * not trailing ones and a WSP run before it is not at the end of a line,
 * so write them
 */
static inline void
dkimsign_body_pending(struct dkimsign_bh *bh)
{
	struct dkimsign_bstate *b = &bh->st;

	for (; b->empty > 0; b->empty--)
		dkimsign_sink_write(&bh->sink, "\r\n", 2);
	if (b->wsp) {
		dkimsign_sink_put(&bh->sink, ' ');
		b->wsp = false;
	}
	b->bol = false;
	b->wrote = true;
}

/* dkimsign_body_content - one byte that is part of a line's content */
static inline void
dkimsign_body_content(struct dkimsign_bh *bh, unsigned char c)
{
	dkimsign_body_pending(bh);
	dkimsign_sink_put(&bh->sink, c);
}

/* dkimsign_body_eol - a CRLF: end the line, or count it if empty */
static inline void
dkimsign_body_eol(struct dkimsign_bh *bh)
{
	struct dkimsign_bstate *b = &bh->st;

	b->wsp = false;			/* relaxed: WSP at end of line goes */
	if (b->bol)
		b->empty++;
	else {
		dkimsign_sink_write(&bh->sink, "\r\n", 2);
		b->bol = true;
	}
}

/* Does the 64-bit word x hold the byte c? (exact, no false positives) */
#define DKIMSIGN_ONES		0x0101010101010101ULL
#define DKIMSIGN_HIGHS		0x8080808080808080ULL
#define DKIMSIGN_HASZERO(x)	(((x) - DKIMSIGN_ONES) & ~(x) & DKIMSIGN_HIGHS)
#define DKIMSIGN_HASBYTE(x, c)	DKIMSIGN_HASZERO((x) ^ (DKIMSIGN_ONES * (c)))

/* dkimsign_relaxed_stop - does c end a run of relaxed content? */
static inline bool
dkimsign_relaxed_stop(unsigned char c)
{
	return c == '\r' || c == ' ' || c == '\t';
}

#ifdef __SSE2__
/*
 * dkimsign_run16 - how many bytes from p on (p[0] not CR, SP or HTAB)
 * are relaxed content as it is, 16 at a time: a byte ends it when it is
 * CR or HTAB, or SP followed by CR, SP or HTAB. It stops 17 bytes before
 * len (the byte after each of the 16 is looked at too), or at the first
 * byte that ends the run; dkimsign_body_run goes on from there.
 */
static inline size_t
dkimsign_run16(const unsigned char *p, size_t len)
{
	const __m128i sp = _mm_set1_epi8(' '), tab = _mm_set1_epi8('\t');
	const __m128i cr = _mm_set1_epi8('\r');
	size_t n = 0;

	while (n + 17 <= len) {
		__m128i v = _mm_loadu_si128((const void *)(p + n));
		__m128i w = _mm_loadu_si128((const void *)(p + n + 1));
		__m128i stop = _mm_or_si128(_mm_cmpeq_epi8(v, cr),
		    _mm_cmpeq_epi8(v, tab));
		__m128i next = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(w, sp),
		    _mm_cmpeq_epi8(w, tab)), _mm_cmpeq_epi8(w, cr));
		int m = _mm_movemask_epi8(_mm_or_si128(stop,
		    _mm_and_si128(_mm_cmpeq_epi8(v, sp), next)));

		if (m != 0)
			return n + (size_t)__builtin_ctz((unsigned)m);
		n += 16;
	}
	return n;
}
#endif

/*
 * dkimsign_body_run - how many bytes from p on are hashed as they are:
 * neither CR (which may end a line) nor, in relaxed mode, WSP that the
 * canonicalization changes (a tab, a run of two or more, WSP before CR
 * or at the end of the chunk); 0 when the first byte is one of those.
 * A single SP between two content bytes stays in the run, so that a
 * line of text is usually one run. Relaxed mode looks at 16 bytes at a
 * time where SSE2 is (dkimsign_run16), then at 8 while none of them is
 * CR, SP or HTAB (base64, long words).
 */
static inline size_t
dkimsign_body_run(const struct dkimsign_bh *bh, const unsigned char *p,
    size_t len)
{
	size_t n = 0;

	if (!bh->relaxed) {
		const unsigned char *cr = memchr(p, '\r', len);

		return cr == NULL ? len : (size_t)(cr - p);
	}
	if (len == 0 || dkimsign_relaxed_stop(p[0]))
		return 0;
#ifdef __SSE2__
	n = dkimsign_run16(p, len);
#endif
	for (;;) {
		uint64_t x;

		while (n + sizeof(x) <= len) {
			memcpy(&x, p + n, sizeof(x));
			if (DKIMSIGN_HASBYTE(x, '\r') | DKIMSIGN_HASBYTE(x, ' ') |
			    DKIMSIGN_HASBYTE(x, '\t'))
				break;
			n += sizeof(x);
		}
		while (n < len && !dkimsign_relaxed_stop(p[n]))
			n++;
		if (n == 0 || n + 1 >= len || p[n] != ' ' ||
		    dkimsign_relaxed_stop(p[n + 1]))
			return n;
		n++;			/* one SP between content: as it is */
	}
}

/* dkimsign_bh_init - a body hasher in place; false if SHA-256 fails */
static bool
dkimsign_bh_init(struct dkimsign_bh *bh, bool relaxed)
{
	memset(bh, 0, sizeof(*bh));
	bh->relaxed = relaxed;
	bh->st.bol = true;
	bh->sink.md = EVP_MD_CTX_new();
	return bh->sink.md != NULL && dkimsign_sink_start(&bh->sink);
}

/* dkimsign_bh_new - a body canonicalizer and its SHA-256; NULL on failure */
struct dkimsign_bh *
dkimsign_bh_new(bool relaxed)
{
	struct dkimsign_bh *bh = xmalloc(sizeof(*bh));

	if (!dkimsign_bh_init(bh, relaxed)) {
		ERR_clear_error();
		dkimsign_bh_free(bh);
		return NULL;
	}
	return bh;
}

/*
 * Where the next SP and HTAB of a chunk are (the chunk's end when there
 * is none), looked for again only once passed: finding them costs one
 * pass over the chunk in all.
 */
struct dkimsign_wsp {
	const unsigned char *sp;
	const unsigned char *tab;
};

/* dkimsign_next - *at, or the next c at or after p if *at is behind p */
static const unsigned char *
dkimsign_next(const unsigned char **at, const unsigned char *p,
    const unsigned char *end, int c)
{
	if (*at == NULL || *at < p) {
		const unsigned char *f = memchr(p, c, (size_t)(end - p));

		*at = f != NULL ? f : end;
	}
	return *at;
}

/*
 * dkimsign_body_verbatim - how many bytes from p on canonicalize to
 * themselves as a whole: in relaxed mode the stretch before the next
 * SP or HTAB, in simple mode the rest of the chunk, up to its last CRLF
 * that ends a line with content (so no empty line in it can be a
 * trailing one); 0 when there is no such CRLF. Without WSP, relaxed
 * changes nothing but trailing empty lines, and neither does simple.
 */
static size_t
dkimsign_body_verbatim(const struct dkimsign_bh *bh, const unsigned char *p,
    const unsigned char *end, struct dkimsign_wsp *w)
{
	const unsigned char *limit = end, *lf;

	if (bh->relaxed) {
		limit = dkimsign_next(&w->sp, p, end, ' ');
		if (dkimsign_next(&w->tab, p, end, '\t') < limit)
			limit = w->tab;
	}
	if (limit - p < 3 ||
	    (lf = memrchr(p, '\n', (size_t)(limit - p))) == NULL ||
	    lf - p < 2 || lf[-1] != '\r' || lf[-2] == '\n')
		return 0;
	return (size_t)(lf + 1 - p);
}

/*
 * dkimsign_body_lines - how many bytes from p on are whole lines that
 * canonicalize to themselves: stretches without WSP (as the one before)
 * and lines that are each a run (dkimsign_body_run) ending in CRLF, not
 * empty at the beginning of a line (an empty line may be a trailing
 * one, which is held). The caller has no CR or WSP held.
 */
static size_t
dkimsign_body_lines(const struct dkimsign_bh *bh, const unsigned char *p,
    size_t len, struct dkimsign_wsp *w)
{
	size_t done = 0, n;
	bool bol = bh->st.bol;

	while (done < len) {
		n = dkimsign_body_verbatim(bh, p + done, p + len, w);
		if (n > 0) {
			done += n;
			bol = true;
			continue;
		}
		n = dkimsign_body_run(bh, p + done, len - done);
		if (done + n + 1 >= len || p[done + n] != '\r' ||
		    p[done + n + 1] != '\n' || (n == 0 && bol))
			break;
		done += n + 2;
		bol = true;
	}
	return done;
}

/*
 * dkimsign_bh_update - canonicalize and hash a chunk. A CR is held until
 * the next byte says whether it ends a line; in relaxed mode a WSP run is
 * held until content follows it on the same line; empty lines are counted
 * until content follows them. Nothing else is kept between chunks. Lines
 * that canonicalize to themselves (most: base64, text with single
 * spaces) are hashed straight from the chunk, many at once; the state
 * machine takes the others.
 */
void
dkimsign_bh_update(struct dkimsign_bh *bh, const unsigned char *data,
    size_t len)
{
	struct dkimsign_bstate *b = &bh->st;
	struct dkimsign_wsp w = { NULL, NULL };
	bool lines = true;		/* at a point to look for whole lines */

	if (bh->done)
		return;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = data[i];
		size_t run;

		if (lines && !b->cr && !b->wsp) {
			lines = false;	/* again after the next line end */
			if ((run = dkimsign_body_lines(bh, data + i,
			    len - i, &w)) > 0) {
				dkimsign_body_pending(bh);
				dkimsign_sink_write(&bh->sink, data + i, run);
				b->bol = true;
				i += run - 1;
				continue;
			}
		}
		/* a run of plain content, hashed in one write */
		if (!b->cr && (run = dkimsign_body_run(bh, data + i,
		    len - i)) > 0) {
			dkimsign_body_pending(bh);
			dkimsign_sink_write(&bh->sink, data + i, run);
			i += run - 1;
			continue;
		}
		if (b->cr) {
			b->cr = false;
			if (c == '\n') {
				dkimsign_body_eol(bh);
				lines = true;
				continue;
			}
			dkimsign_body_content(bh, '\r');	/* a bare CR */
		}
		if (c == '\r')
			b->cr = true;
		else if (bh->relaxed && (c == ' ' || c == '\t'))
			b->wsp = true;
		else
			dkimsign_body_content(bh, c);
	}
}

/* dkimsign_body - a body chunk into the signature's body hash */
void
dkimsign_body(struct dkimsign *ds, const unsigned char *data, size_t len)
{
	if (!ds->finished)
		dkimsign_bh_update(&ds->body, data, len);
}

/*
 * dkimsign_bh_final - end the body and give its hash: a last line without
 * CRLF gets one, trailing empty lines are dropped, and a simple body that
 * is empty becomes CRLF. In relaxed mode the WSP run that ends a last line
 * without CRLF stays as one SP: RFC 6376 strips WSP before a line's CRLF,
 * and dkimpy reads it so. (libopendkim refuses a relaxed body without
 * final CRLF, or with trailing WSP hashes it without one; SMTP never
 * delivers such a body, so this matters only to local submission.)
 * Call it once.
 */
bool
dkimsign_bh_final(struct dkimsign_bh *bh,
    unsigned char digest[DKIMSIGN_SHA256_LEN])
{
	struct dkimsign_bstate *b = &bh->st;

	if (bh->done)
		return false;
	bh->done = true;
	if (b->cr) {
		b->cr = false;
		dkimsign_body_content(bh, '\r');
	}
	if (b->wsp)
		dkimsign_body_pending(bh);
	if (!b->bol)
		dkimsign_sink_write(&bh->sink, "\r\n", 2);
	else if (!bh->relaxed && !b->wrote)
		dkimsign_sink_write(&bh->sink, "\r\n", 2);
	b->empty = 0;
	if (!dkimsign_sink_final(&bh->sink, digest)) {
		ERR_clear_error();
		return false;
	}
	return true;
}

/* dkimsign_bh_free - release a body hasher (NULL is fine) */
void
dkimsign_bh_free(struct dkimsign_bh *bh)
{
	if (bh == NULL)
		return;
	EVP_MD_CTX_free(bh->sink.md);
	free(bh);
}

/* dkimsign_sink_lower - hash a run of bytes in ASCII lower case */
static void
dkimsign_sink_lower(struct dkimsign_sink *s, const char *data, size_t len)
{
	while (len > 0) {
		size_t n;

		if (s->n == sizeof(s->buf))
			dkimsign_sink_flush(s);
		n = sizeof(s->buf) - s->n;
		if (n > len)
			n = len;
		for (size_t i = 0; i < n; i++)
			s->buf[s->n + i] =
			    dkimsign_tolower((unsigned char)data[i]);
		s->n += n;
		data += n;
		len -= n;
	}
}

/* dkimsign_hdr_stop - does c end a run of relaxed header content? */
static inline bool
dkimsign_hdr_stop(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/*
 * dkimsign_hdr_run - how many bytes from p on (p is content: neither WSP
 * nor the CR of a CRLF) relaxed canonicalization keeps as they are: up
 * to the next HTAB, CR or SP, except a single SP between two content
 * bytes, which stays, so that most values are a few runs. Looks at 8
 * bytes at a time while none of them is SP, HTAB or CR (base64 of b=).
 */
static size_t
dkimsign_hdr_run(const unsigned char *p, const unsigned char *end)
{
	const unsigned char *q = p + 1;
	uint64_t x;

	for (;;) {
		while (end - q >= (ptrdiff_t)sizeof(x)) {
			memcpy(&x, q, sizeof(x));
			if (DKIMSIGN_HASBYTE(x, '\r') |
			    DKIMSIGN_HASBYTE(x, ' ') |
			    DKIMSIGN_HASBYTE(x, '\t'))
				break;
			q += sizeof(x);
		}
		while (q < end && !dkimsign_hdr_stop(*q))
			q++;
		if (end - q < 2 || *q != ' ' || dkimsign_hdr_stop(q[1]))
			return (size_t)(q - p);
		q++;			/* one SP between content: as it is */
	}
}

/*
 * dkimsign_canon_field - hash one header field canonicalized into s;
 * namelen is the length of its name; crlf says whether to end it with
 * CRLF (not for a signature field itself). Relaxed (RFC 6376 3.4.2):
 * the name in lower case, the value unfolded (CRLF removed), each run of
 * WSP one SP, none at the start or the end; the value is hashed by runs
 * of bytes that stay as they are, not byte by byte.
 */
static void
dkimsign_canon_field(struct dkimsign_sink *s, const char *field, size_t len,
    size_t namelen, bool relaxed, bool crlf)
{
	const unsigned char *p, *end = (const unsigned char *)field + len;
	bool started = false, space = false;

	if (!relaxed) {
		dkimsign_sink_write(s, field, len);
		if (crlf)
			dkimsign_sink_write(s, "\r\n", 2);
		return;
	}
	dkimsign_sink_lower(s, field, namelen);
	dkimsign_sink_put(s, ':');
	p = memchr(field, ':', len);
	p = p == NULL ? end : p + 1;
	while (p < end) {
		size_t run;

		if (*p == ' ' || *p == '\t') {
			space = started;
			p++;
			continue;
		}
		if (*p == '\r' && end - p >= 2 && p[1] == '\n') {
			p += 2;		/* unfold */
			continue;
		}
		if (space)
			dkimsign_sink_put(s, ' ');
		space = false;
		started = true;
		run = dkimsign_hdr_run(p, end);
		dkimsign_sink_write(s, p, run);
		p += run;
	}
	if (crlf)
		dkimsign_sink_write(s, "\r\n", 2);
}

/* dkimsign_field_namelen - the length of a field's name, WSP before ':' out */
static size_t
dkimsign_field_namelen(const char *field, size_t len)
{
	const char *colon = memchr(field, ':', len);
	size_t n = colon == NULL ? len : (size_t)(colon - field);

	while (n > 0 && (field[n - 1] == ' ' || field[n - 1] == '\t'))
		n--;
	return n;
}

/* dkimsign_hash_field - see dkimsign.h */
void
dkimsign_hash_field(struct dkimsign_hash *h, const char *field, size_t len,
    bool relaxed, bool crlf)
{
	dkimsign_canon_field(&h->sink, field, len,
	    dkimsign_field_namelen(field, len), relaxed, crlf);
}

/*
 * dkimsign_hash_new - a SHA-256 over header fields; NULL on failure. The
 * staging buffer is left as it is: nothing reads past what is written.
 */
struct dkimsign_hash *
dkimsign_hash_new(void)
{
	struct dkimsign_hash *h = xmalloc(sizeof(*h));

	h->sink.bad = false;
	h->sink.n = 0;
	h->sink.md = EVP_MD_CTX_new();
	if (h->sink.md == NULL || !dkimsign_sink_start(&h->sink)) {
		ERR_clear_error();
		dkimsign_hash_free(h);
		return NULL;
	}
	return h;
}

/* dkimsign_hash_final - the digest of the fields hashed so far */
bool
dkimsign_hash_final(struct dkimsign_hash *h,
    unsigned char digest[DKIMSIGN_SHA256_LEN])
{
	if (!dkimsign_sink_final(&h->sink, digest)) {
		ERR_clear_error();
		return false;
	}
	return true;
}

/* dkimsign_hash_free - release a header hasher (NULL is fine) */
void
dkimsign_hash_free(struct dkimsign_hash *h)
{
	if (h == NULL)
		return;
	EVP_MD_CTX_free(h->sink.md);
	free(h);
}

/* dkimsign_hash_kept - hash one kept field as the signature's c= says */
static void
dkimsign_hash_kept(struct dkimsign *ds, const char *field, size_t len,
    size_t namelen, bool crlf)
{
	dkimsign_canon_field(&ds->sink, field, len, namelen, ds->hdr_relaxed,
	    crlf);
}

/*
 * dkimsign_hash_headers - hash the kept fields in h= order. h= lists them
 * in message order, so the j-th field of a name (from the top) is the j-th
 * entry for that name and hashes the j-th instance from the bottom: its
 * mirror within the name's fields. The oversign entries that follow find
 * no instance left and hash nothing.
 */
static void
dkimsign_hash_headers(struct dkimsign *ds)
{
	size_t *count, *start, *fill, *slot, *rank;

	if (ds->kind == DKIMSIGN_ARC_SEAL) {
		/* a seal: the fields as given, in the order given */
		for (size_t i = 0; i < ds->nfield; i++)
			dkimsign_hash_kept(ds, ds->store.data +
			    ds->field[i].off, ds->field[i].len,
			    ds->field[i].namelen, true);
		return;
	}
	count = xcalloc(ds->nname, sizeof(*count));
	start = xcalloc(ds->nname, sizeof(*start));
	fill = xcalloc(ds->nname, sizeof(*fill));
	slot = xcalloc(ds->nfield, sizeof(*slot));
	rank = xcalloc(ds->nfield, sizeof(*rank));
	for (size_t i = 0; i < ds->nfield; i++)
		count[ds->field[i].name]++;
	for (size_t g = 1; g < ds->nname; g++)
		start[g] = start[g - 1] + count[g - 1];
	for (size_t i = 0; i < ds->nfield; i++) {
		size_t g = ds->field[i].name;

		rank[i] = fill[g]++;
		slot[start[g] + rank[i]] = i;
	}
	for (size_t i = 0; i < ds->nfield; i++) {
		size_t g = ds->field[i].name;
		const struct dkimsign_field *f =
		    &ds->field[slot[start[g] + count[g] - 1 - rank[i]]];

		dkimsign_hash_kept(ds, ds->store.data + f->off, f->len,
		    f->namelen, true);
	}
	free(count);
	free(start);
	free(fill);
	free(slot);
	free(rank);
}

/* dkimsign_fold_chunks - write s, folding with CRLF TAB SP at the margin */
static void
dkimsign_fold_chunks(struct dkimsign_fold *f, const char *s, size_t len)
{
	while (len > 0) {
		size_t n;

		if (f->col >= DKIMSIGN_MARGIN) {
			buf_append(f->out, "\r\n\t ", 4);
			f->col = DKIMSIGN_INDENT + 1;
		}
		n = DKIMSIGN_MARGIN - f->col;
		if (n > len)
			n = len;
		buf_append(f->out, s, n);
		f->col += n;
		s += n;
		len -= n;
	}
}

/* dkimsign_fold_list - write h=...; after a fold, breaking after colons */
static void
dkimsign_fold_list(struct dkimsign_fold *f, const char *pv, size_t len)
{
	const char *end = pv + len, *tok = pv;
	bool first = true;

	while (tok < end) {
		const char *c = memchr(tok, ':', (size_t)(end - tok));
		size_t n = (size_t)((c ? c : end) - tok);

		if (!first) {
			buf_putc(f->out, ':');
			f->col++;
			if (f->col + n > DKIMSIGN_MARGIN) {
				buf_append(f->out, "\r\n\t ", 4);
				f->col = DKIMSIGN_INDENT + 1;
			}
		}
		buf_append(f->out, tok, n);
		f->col += n;
		first = false;
		tok += n + (c ? 1 : 0);
	}
}

/*
 * dkimsign_fold_tag - write one "tag=value;" at the current position, as
 * libopendkim would: on the same line after a space if it fits (or
 * first), else after CRLF TAB, and then broken further as its kind allows.
 */
static void
dkimsign_fold_tag(struct dkimsign_fold *f, const char *pv, size_t len,
    enum dkimsign_tagkind kind, bool forcewrap)
{
	if (f->first || (!forcewrap && f->col + len <= DKIMSIGN_MARGIN)) {
		if (!f->first) {
			buf_putc(f->out, ' ');
			f->col++;
		}
		f->first = false;
		buf_append(f->out, pv, len);
		f->col += len;
		return;
	}
	buf_append(f->out, "\r\n\t", 3);
	f->col = DKIMSIGN_INDENT;
	if (kind == DKIMSIGN_TAG_LIST)
		dkimsign_fold_list(f, pv, len);
	else if (kind == DKIMSIGN_TAG_CHUNK) {
		const char *eq = memchr(pv, '=', len);
		size_t n = (size_t)(eq - pv) + 1;

		buf_append(f->out, pv, n);
		f->col += n;
		dkimsign_fold_chunks(f, pv + n, len - n);
	} else {
		buf_append(f->out, pv, len);
		f->col += len;
	}
}

/* dkimsign_b64 - base64 of n bytes, NUL-terminated, malloc'd */
static char *
dkimsign_b64(const unsigned char *data, size_t n)
{
	char *s = xmalloc(DKIMSIGN_B64LEN(n) + 1);

	EVP_EncodeBlock((unsigned char *)s, data, (int)n);
	return s;
}

/* dkimsign_tag_str - write the tag "name=value;" (tag is scratch space) */
static void
dkimsign_tag_str(struct dkimsign_fold *f, struct buf *tag, const char *name,
    const char *value, enum dkimsign_tagkind kind)
{
	buf_reset(tag);
	buf_puts(tag, name);
	buf_putc(tag, '=');
	buf_puts(tag, value);
	buf_putc(tag, ';');
	dkimsign_fold_tag(f, tag->data, tag->len, kind, false);
}

/* dkimsign_tag_num - write the tag "name=v;", v in decimal */
static void
dkimsign_tag_num(struct dkimsign_fold *f, struct buf *tag, const char *name,
    unsigned long long v)
{
	char digits[DKIMSIGN_MAX_DIGITS + 1], *p = digits + DKIMSIGN_MAX_DIGITS;

	*p = '\0';
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	dkimsign_tag_str(f, tag, name, p, DKIMSIGN_TAG_PLAIN);
}

/*
 * dkimsign_tags - write the header value from its first tag up to "b="
 * into out; *b_wrapped says whether b= started a new line (then its value
 * is folded at the margin), *col is the column after "b=". A
 * DKIM-Signature starts with v=1, an ARC-Message-Signature with i= in its
 * place; an ARC-Seal has i=, a=, t=, cv=, d= and s= only.
 */
static void
dkimsign_tags(struct dkimsign *ds, const char *bh, struct buf *out,
    bool *b_wrapped, size_t *col)
{
	static const char *const canon[2][2] = {
		{ "simple/simple", "simple/relaxed" },
		{ "relaxed/simple", "relaxed/relaxed" },
	};
	struct dkimsign_fold f = { out, strlen(dkimsign_name(ds->kind)) + 2,
	    true };
	struct buf tag, h;
	bool forcewrap;

	buf_init(&tag);
	buf_init(&h);
	buf_putc(out, ' ');
	if (ds->kind == DKIMSIGN_DKIM)
		dkimsign_tag_str(&f, &tag, "v", "1", DKIMSIGN_TAG_PLAIN);
	else
		dkimsign_tag_num(&f, &tag, "i", ds->instance);
	dkimsign_tag_str(&f, &tag, "a", ds->ed25519 ? "ed25519-sha256" :
	    "rsa-sha256", DKIMSIGN_TAG_PLAIN);
	if (ds->kind == DKIMSIGN_ARC_SEAL) {
		if (ds->timestamp >= 0)
			dkimsign_tag_num(&f, &tag, "t",
			    (unsigned long long)ds->timestamp);
		dkimsign_tag_str(&f, &tag, "cv", ds->cv, DKIMSIGN_TAG_PLAIN);
		dkimsign_tag_str(&f, &tag, "d", ds->domain, DKIMSIGN_TAG_PLAIN);
		dkimsign_tag_str(&f, &tag, "s", ds->selector,
		    DKIMSIGN_TAG_PLAIN);
	} else {
		dkimsign_tag_str(&f, &tag, "c", canon[ds->hdr_relaxed]
		    [ds->body_relaxed], DKIMSIGN_TAG_PLAIN);
		dkimsign_tag_str(&f, &tag, "d", ds->domain, DKIMSIGN_TAG_PLAIN);
		if (ds->identity != NULL)
			dkimsign_tag_str(&f, &tag, "i", ds->identity,
			    DKIMSIGN_TAG_PLAIN);
		dkimsign_tag_str(&f, &tag, "s", ds->selector,
		    DKIMSIGN_TAG_PLAIN);
		if (ds->timestamp >= 0)
			dkimsign_tag_num(&f, &tag, "t",
			    (unsigned long long)ds->timestamp);
		if (ds->expiration > 0)
			dkimsign_tag_num(&f, &tag, "x",
			    (unsigned long long)ds->expiration);
		dkimsign_tag_str(&f, &tag, "bh", bh, DKIMSIGN_TAG_CHUNK);
	}

	if (ds->kind != DKIMSIGN_ARC_SEAL) {
		/* h=: the kept fields by their own names, then the oversigned */
		buf_puts(&h, "h=");
		for (size_t i = 0; i < ds->nfield; i++) {
			if (i > 0)
				buf_putc(&h, ':');
			buf_append(&h, ds->store.data + ds->field[i].off,
			    ds->field[i].namelen);
		}
		for (size_t k = 0; k < ds->nover; k++) {
			const struct dkimsign_name *n = &ds->name[ds->over[k]];

			buf_putc(&h, ':');
			buf_append(&h, ds->names.data + n->off, n->len);
		}
		buf_putc(&h, ';');
		dkimsign_fold_tag(&f, h.data, h.len, DKIMSIGN_TAG_LIST, false);
	}

	/* b=: placed by its final length; libopendkim forces RSA's down */
	forcewrap = !ds->ed25519 &&
	    f.col + 1 + ds->b64siglen + 1 >= DKIMSIGN_MARGIN;
	*b_wrapped = !f.first && (forcewrap ||
	    f.col + 2 + DKIMSIGN_B64LEN(ds->sigmax) > DKIMSIGN_MARGIN);
	if (*b_wrapped) {
		buf_append(out, "\r\n\tb=", 5);
		f.col = DKIMSIGN_INDENT + 2;
	} else {
		buf_append(out, " b=", 3);
		f.col += 3;
	}
	*col = f.col;
	buf_free(&tag);
	buf_free(&h);
}

/* dkimsign_sign - sign the header digest; the signature's length or 0 */
static size_t
dkimsign_sign(struct dkimsign *ds, const unsigned char *digest,
    unsigned char *sig, char *err, size_t errlen)
{
	size_t len = ds->sigmax;
	bool ok;

	if (ds->ed25519) {
		/* RFC 8463: PureEdDSA over the SHA-256 of the header data */
		EVP_MD_CTX *mctx = EVP_MD_CTX_new();

		ok = mctx != NULL &&
		    EVP_DigestSignInit(mctx, NULL, NULL, NULL, ds->key) == 1 &&
		    EVP_DigestSign(mctx, sig, &len, digest,
		    DKIMSIGN_SHA256_LEN) == 1;
		EVP_MD_CTX_free(mctx);
	} else {
		EVP_PKEY_CTX *pctx = pkeyctx_rsa(ds->key, true);

		ok = pctx != NULL && EVP_PKEY_sign(pctx, sig, &len, digest,
		    DKIMSIGN_SHA256_LEN) > 0;
	}
	if (!ok || len == 0 || len > ds->sigmax) {
		dkimsign_ssl_error(err, errlen, "signing failed");
		return 0;
	}
	return len;
}

/*
 * dkimsign_finish_digest - hash the headers and sign; body is the body
 * hash (NULL: this handle's own, closed now; unused for a seal)
 */
static char *
dkimsign_finish_digest(struct dkimsign *ds, const unsigned char *body,
    char *err, size_t errlen)
{
	unsigned char digest[DKIMSIGN_SHA256_LEN], *sig = NULL;
	const char *name = dkimsign_name(ds->kind);
	char *bh = NULL, *b = NULL;
	struct buf out;
	struct dkimsign_fold f;
	bool b_wrapped, have_from = ds->kind == DKIMSIGN_ARC_SEAL;
	size_t col, siglen;

	buf_init(&out);
	if (ds->finished) {
		snprintf(err, errlen, "signature already finished");
		return NULL;
	}
	ds->finished = true;
	if (ds->failed) {
		snprintf(err, errlen, "%s", ds->why);
		return NULL;
	}
	for (size_t i = 0; i < ds->nfield && !have_from; i++)
		have_from = ds->field[i].name == ds->from;
	if (!have_from) {
		snprintf(err, errlen, "no From header field to sign");
		return NULL;
	}

	if (ds->kind != DKIMSIGN_ARC_SEAL) {
		if (body == NULL) {
			if (!dkimsign_bh_final(&ds->body, digest)) {
				snprintf(err, errlen, "body hash failed");
				return NULL;
			}
			body = digest;
		}
		bh = dkimsign_b64(body, DKIMSIGN_SHA256_LEN);
	}
	dkimsign_tags(ds, bh, &out, &b_wrapped, &col);

	/* the headers, then this field with b= empty and no final CRLF */
	if (!dkimsign_sink_start(&ds->sink)) {
		dkimsign_ssl_error(err, errlen, "header hash failed");
		goto fail;
	}
	dkimsign_hash_headers(ds);
	{
		struct buf self;

		buf_init(&self);
		buf_puts(&self, name);
		buf_putc(&self, ':');
		buf_append(&self, out.data, out.len);
		dkimsign_hash_kept(ds, self.data, self.len, strlen(name),
		    false);
		buf_free(&self);
	}
	if (!dkimsign_sink_final(&ds->sink, digest)) {
		dkimsign_ssl_error(err, errlen, "header hash failed");
		goto fail;
	}

	sig = xmalloc(ds->sigmax);
	siglen = dkimsign_sign(ds, digest, sig, err, errlen);
	if (siglen == 0)
		goto fail;
	b = dkimsign_b64(sig, siglen);
	f.out = &out;
	f.col = col;
	f.first = false;
	if (b_wrapped)
		dkimsign_fold_chunks(&f, b, strlen(b));
	else
		buf_puts(&out, b);
	free(sig);
	free(bh);
	free(b);
	return buf_steal(&out);
fail:
	free(sig);
	free(bh);
	free(b);
	buf_free(&out);
	return NULL;
}

/* dkimsign_finish - close the body, hash the headers, sign */
char *
dkimsign_finish(struct dkimsign *ds, char *err, size_t errlen)
{
	return dkimsign_finish_digest(ds, NULL, err, errlen);
}

/* dkimsign_finish_bh - sign with a body hash made elsewhere */
char *
dkimsign_finish_bh(struct dkimsign *ds,
    const unsigned char digest[DKIMSIGN_SHA256_LEN], char *err, size_t errlen)
{
	return dkimsign_finish_digest(ds, digest, err, errlen);
}

/* dkimsign_free - release the handle and everything it holds */
void
dkimsign_free(struct dkimsign *ds)
{
	if (ds == NULL)
		return;
	EVP_MD_CTX_free(ds->sink.md);
	EVP_MD_CTX_free(ds->body.sink.md);
	EVP_PKEY_free(ds->key);
	free(ds->domain);
	free(ds->selector);
	free(ds->identity);
	buf_free(&ds->names);
	free(ds->name);
	free(ds->over);
	buf_free(&ds->store);
	free(ds->field);
	free(ds);
}
