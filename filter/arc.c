/*
 * NAME
 *	arc - ARC (RFC 8617): verify the chain of a message, seal a new set
 * SYNOPSIS
 *	#include "arc.h"
 *
 *	a = arc_new(params)
 *	arc_header(a, name, value)...
 *	arc_seal_start(a, seal_params, err, errlen)	(when sealing)
 *	arc_eoh(a); arc_body(a, data, len)...
 *	arc_verify(a, &outcome)
 *	arc_seal(a, cv, aar_value, &sealed, err, errlen)	(when sealing)
 *	arc_free(a)
 * DESCRIPTION
 *	An ARC set is three header fields with the same instance i=: the
 *	ARC-Authentication-Results (AAR) that a handler wrote, its
 *	ARC-Message-Signature (AMS, a DKIM signature of the message with i=
 *	in place of v=) and its ARC-Seal (AS), which signs with relaxed
 *	header canonicalization the AAR, AMS and AS of every set up to its
 *	own, i=1 first, itself last with b= empty.
 *
 *	Every header field is kept (the AMS h= may name any of them); the
 *	ARC fields are also noted by type and instance as they arrive, the
 *	tags of each AMS and AS are parsed then, once, and kept (with the
 *	name of its key) for every later step, and the key of each AMS and
 *	AS is asked for at once (dns prefetch). The body streams into at
 *	most two body hashes, relaxed and simple, as the AMS c= values ask;
 *	a sealer's AMS (relaxed/relaxed) shares the relaxed one.
 *	Canonicalization and signing are dkimsign.c's.
 *
 *	arc_verify() follows RFC 8617 section 5.2 (see arc.h). The
 *	newest AMS is checked first, then every AS from the newest down,
 *	then the older AMS for oldest-pass. A key is fetched and parsed
 *	once per message, and an RSA key's verification context is made
 *	once for all the signatures it checks. An AMS is a DKIM
 *	signature: c= defaults to simple/simple, h= must name From and
 *	must not name ARC-Seal, an l= is refused (part of the body
 *	unsigned), x= in the past fails. Keys are DKIM key records
 *	(v=DKIM1, k=rsa or ed25519, p=; h= and s= honoured).
 *
 *	arc_seal() makes the new set: the AMS over the header fields kept
 *	(those of sign_headers, never ARC fields nor Authentication-Results),
 *	then the AS over the earlier sets (cv=pass only) and the new one. A
 *	set is refused after a chain that ends with cv=fail and beyond
 *	ARC_MAX_SETS sets (arc_seal_start).
 * DIAGNOSTICS
 *	Nothing fails: a bad chain is a result with a reason; a seal that
 *	cannot be made says why in err.
 */
#include "buildconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "addr.h"
#include "arc.h"
#include "authres.h"
#include "bodyhash.h"
#include "dkimsign.h"
#include "dns.h"
#include "keycache.h"
#include "pkeyctx.h"
#include "trace.h"
#include "util.h"

#define ARC_AAR_NAME	"ARC-Authentication-Results"
#define ARC_AMS_NAME	"ARC-Message-Signature"
#define ARC_AS_NAME	"ARC-Seal"
#define ARC_AR_NAME	"Authentication-Results"
#define ARC_MAX_KEYS	(2 * ARC_MAX_SETS)	/* distinct keys per message */
#define ARC_MAX_TAGVAL	255	/* bytes of d=, s=, a=, c=, cv= kept */
#define ARC_MAX_HLIST	1024	/* names in one h= */
#define ARC_MAX_NAMES	1024	/* names in a sealer's h= lists */
#define ARC_WHYLEN	160
#define ARC_DOMAINKEY	"._domainkey."	/* between s= and d= */

enum arc_type {
	ARC_T_AAR = 0,
	ARC_T_AMS,
	ARC_T_AS,
	ARC_NTYPES
};

/* One header field of the message: "Name:value" with CRLF folding. */
struct arc_hdr {
	size_t	 off;		/* in a->store */
	size_t	 len;
	size_t	 namelen;
};

/*
 * One set: the header index of each of its fields, the index in a->ftags
 * of the tags of its AMS and AS, and duplicates.
 */
struct arc_set {
	size_t	 field[ARC_NTYPES];	/* index in a->hdr, or SIZE_MAX */
	size_t	 tags[ARC_NTYPES];	/* index in a->ftags, or SIZE_MAX */
	bool	 dup[ARC_NTYPES];
};

/* A key fetched for this message. */
struct arc_key {
	char		 name[DNS_MAX_NAME + 1];	/* s._domainkey.d */
	EVP_PKEY	*pkey;		/* NULL: see why */
	bool		 temp;		/* a DNS failure */
	char		 why[ARC_WHYLEN];
};

/* A tag of a tag list (RFC 6376 3.2), pointing into the field. */
struct arc_tag {
	const char	*name;
	size_t		 nlen;
	const char	*val;		/* white space around it excluded */
	size_t		 vlen;
};

struct arc_tags {
	struct arc_tag	 t[ARC_MAX_TAGS];
	size_t		 n;
};

/* A tag kept from arc_note: offsets into the stored field's value. */
struct arc_tagpos {
	size_t	 name;
	size_t	 nlen;
	size_t	 val;
	size_t	 vlen;
};

/*
 * The tags of an AMS or AS of a set, parsed once when the field arrives
 * (offsets, since the store moves as it grows), and the name of its key.
 */
struct arc_ftags {
	struct arc_tagpos t[ARC_MAX_TAGS];
	size_t		 n;
	char		 key[DNS_MAX_NAME + 1];	/* "" if d= or s= is bad */
};

struct arc {
	struct arc_params p;
	struct buf	 store;		/* the header fields */
	struct arc_hdr	*hdr;
	size_t		 nhdr;
	size_t		 hdrcap;
	bool		 overflow;	/* a bound was passed: fields lost */

	struct arc_set	 set[ARC_MAX_SETS + 1];	/* by instance; [0] unused */
	struct arc_ftags *ftags;	/* see struct arc_set */
	size_t		 nftags;
	size_t		 ftagscap;
	unsigned	 maxi;		/* highest valid instance seen */
	size_t		 nfields;	/* ARC fields seen */
	bool		 bad_instance;	/* an ARC field without a usable i= */
	bool		 too_many;	/* i= over ARC_MAX_SETS, or too many */

	struct bodyhash	*bodies;	/* the body hashes (bodyhash.h) */
	bool		 shared;	/* ... fed by their owner */
	bool		 body;		/* the body is wanted */

	struct arc_key	*key;		/* grown as keys are fetched */
	size_t		 nkey;
	size_t		 keycap;

	struct dkimsign	*ams;		/* the new set's AMS, when sealing */
	const struct arc_seal_params *sp;
	unsigned	 seal_i;

	struct trace	*trace;		/* check --explain, or NULL */
	const char	*bh_said;	/* the last AMS's body hash, in words */
};

/* --- small helpers ------------------------------------------------------ */

/* arc_isws - folding white space */
static bool
arc_isws(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* arc_lower - ASCII only */
static int
arc_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* arc_caseeqn - s (n bytes) equals the NUL-terminated t, case aside */
static bool
arc_caseeqn(const char *s, size_t n, const char *t)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (t[i] == '\0' || arc_lower((unsigned char)s[i]) !=
		    arc_lower((unsigned char)t[i]))
			return false;
	return t[i] == '\0';
}

/* arc_type_of - the ARC type of a header name, or ARC_NTYPES */
static enum arc_type
arc_type_of(const char *name)
{
	if (arc_lower((unsigned char)name[0]) != 'a')
		return ARC_NTYPES;	/* most names: no comparison */
	if (util_strcaseeq(name, ARC_AAR_NAME))
		return ARC_T_AAR;
	if (util_strcaseeq(name, ARC_AMS_NAME))
		return ARC_T_AMS;
	if (util_strcaseeq(name, ARC_AS_NAME))
		return ARC_T_AS;
	return ARC_NTYPES;
}

/* arc_why - printf into a reason buffer */
static void
arc_why(char *why, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
arc_why(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
}

/*
 * arc_tags_parse - a tag list (RFC 6376 3.2): tag-name = ALPHA
 * *(ALPHA / DIGIT / "_"), values without ';', white space around both;
 * an empty last tag-spec is allowed. False on a syntax error, a
 * duplicate tag or more than ARC_MAX_TAGS tags.
 */
static bool
arc_tags_parse(const char *s, size_t len, struct arc_tags *t)
{
	const char *p = s, *end = s + len;

	t->n = 0;
	while (p < end) {
		const char *name, *val, *vend;
		size_t nlen;

		while (p < end && arc_isws((unsigned char)*p))
			p++;
		if (p == end)
			break;
		name = p;
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
			return false;
		while (p < end && ((*p >= 'a' && *p <= 'z') ||
		    (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '_'))
			p++;
		nlen = (size_t)(p - name);
		while (p < end && arc_isws((unsigned char)*p))
			p++;
		if (p == end || *p != '=')
			return false;
		p++;
		while (p < end && arc_isws((unsigned char)*p))
			p++;
		val = p;
		if ((p = memchr(val, ';', len - (size_t)(val - s))) == NULL)
			p = end;
		vend = p;
		while (vend > val && arc_isws((unsigned char)vend[-1]))
			vend--;
		for (size_t i = 0; i < t->n; i++)
			if (t->t[i].nlen == nlen &&
			    memcmp(t->t[i].name, name, nlen) == 0)
				return false;		/* duplicate */
		if (t->n == ARC_MAX_TAGS)
			return false;
		t->t[t->n].name = name;
		t->t[t->n].nlen = nlen;
		t->t[t->n].val = val;
		t->t[t->n].vlen = (size_t)(vend - val);
		t->n++;
		if (p < end)
			p++;			/* the ';' */
	}
	return true;
}

/* arc_tag - the tag named name, or NULL (tag names are case-sensitive) */
static const struct arc_tag *
arc_tag(const struct arc_tags *t, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < t->n; i++)
		if (t->t[i].nlen == n && memcmp(t->t[i].name, name, n) == 0)
			return &t->t[i];
	return NULL;
}

/*
 * arc_tag_copy - a tag's value without white space, NUL-terminated;
 * false when absent, empty or longer than outlen - 1
 */
static bool
arc_tag_copy(const struct arc_tags *t, const char *name, char *out,
    size_t outlen)
{
	const struct arc_tag *g = arc_tag(t, name);
	size_t n = 0;

	if (g == NULL)
		return false;
	for (size_t i = 0; i < g->vlen; i++) {
		if (arc_isws((unsigned char)g->val[i]))
			continue;
		if (n + 1 >= outlen)
			return false;
		out[n++] = g->val[i];
	}
	out[n] = '\0';
	return n > 0;
}

/* --- collecting --------------------------------------------------------- */

/* arc_new - a handle for one message */
struct arc *
arc_new(const struct arc_params *p)
{
	struct arc *a = xcalloc(1, sizeof(*a));

	a->p = *p;
	buf_init(&a->store);
	for (size_t i = 0; i <= ARC_MAX_SETS; i++)
		for (size_t k = 0; k < ARC_NTYPES; k++)
			a->set[i].field[k] = a->set[i].tags[k] = SIZE_MAX;
	return a;
}

/* arc_field - the text of header i and its length */
static const char *
arc_field(const struct arc *a, size_t i, size_t *len)
{
	*len = a->hdr[i].len;
	return a->store.data + a->hdr[i].off;
}

/* arc_value - the value part of header i (after the colon) */
static const char *
arc_value(const struct arc *a, size_t i, size_t *len)
{
	const struct arc_hdr *h = &a->hdr[i];

	*len = h->len - h->namelen - 1;
	return a->store.data + h->off + h->namelen + 1;
}

/* arc_instance_num - num as an instance: 1..9999999, else 0 */
static unsigned
arc_instance_num(const char *num)
{
	unsigned long n;

	for (const char *c = num; *c; c++)
		if (*c < '0' || *c > '9')
			return 0;
	if (!util_parse_uint(num, 1, 9999999, &n))
		return 0;
	return (unsigned)n;
}

/*
 * arc_aar_instance - the i= of an AAR value, its first tag ("i=N;"); 0
 * when there is none that reads
 */
static unsigned
arc_aar_instance(const char *v, size_t len)
{
	char num[8];
	const char *p = v, *end = v + len, *start;

	while (p < end && arc_isws((unsigned char)*p))
		p++;
	if (p == end || (*p != 'i' && *p != 'I'))
		return 0;
	for (p++; p < end && arc_isws((unsigned char)*p); p++)
		;
	if (p == end || *p != '=')
		return 0;
	for (p++; p < end && arc_isws((unsigned char)*p); p++)
		;
	start = p;
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	if (p == start || (size_t)(p - start) >= sizeof(num))
		return 0;
	memcpy(num, start, (size_t)(p - start));
	num[p - start] = '\0';
	while (p < end && arc_isws((unsigned char)*p))
		p++;
	if (p == end || *p != ';')
		return 0;
	return arc_instance_num(num);
}

/* arc_tags_instance - the i= tag of an AMS or AS; 0 when none reads */
static unsigned
arc_tags_instance(const struct arc_tags *t)
{
	char num[8];

	if (!arc_tag_copy(t, "i", num, sizeof(num)))
		return 0;
	return arc_instance_num(num);
}

/*
 * arc_key_name - "s._domainkey.d" of an AMS or AS, lower case; false if
 * d= or s= is not a domain name (the "_domainkey" label is ours)
 */
static bool
arc_key_name(const struct arc_tags *t, char *name, size_t len)
{
	char d[ARC_MAX_TAGVAL + 1], s[ARC_MAX_TAGVAL + 1];
	size_t dlen, slen, klen = sizeof(ARC_DOMAINKEY) - 1;

	if (!arc_tag_copy(t, "d", d, sizeof(d)) ||
	    !arc_tag_copy(t, "s", s, sizeof(s)) || !addr_domain_valid(d) ||
	    !addr_domain_valid(s))
		return false;
	dlen = strlen(d);
	slen = strlen(s);
	if (slen + klen + dlen >= len || slen + klen + dlen > DNS_MAX_NAME)
		return false;
	memcpy(name, s, slen);
	memcpy(name + slen, ARC_DOMAINKEY, klen);
	memcpy(name + slen + klen, d, dlen + 1);
	util_strlower(name);
	return true;
}

/*
 * arc_tags_keep - keep the tags of the AMS or AS of set i, parsed from
 * its stored value v, and its key's name; that name ("" if unusable)
 */
static const char *
arc_tags_keep(struct arc *a, unsigned i, enum arc_type type, const char *v,
    const struct arc_tags *t)
{
	struct arc_ftags *f;

	if (a->nftags == a->ftagscap) {
		a->ftagscap = a->ftagscap ? a->ftagscap * 2 : 4;
		a->ftags = xrealloc(a->ftags, a->ftagscap * sizeof(*a->ftags));
	}
	a->set[i].tags[type] = a->nftags;
	f = &a->ftags[a->nftags++];
	for (size_t k = 0; k < t->n; k++) {
		f->t[k].name = (size_t)(t->t[k].name - v);
		f->t[k].nlen = t->t[k].nlen;
		f->t[k].val = (size_t)(t->t[k].val - v);
		f->t[k].vlen = t->t[k].vlen;
	}
	f->n = t->n;
	if (!arc_key_name(t, f->key, sizeof(f->key)))
		f->key[0] = '\0';
	return f->key;
}

/*
 * arc_note - ARC field hdr arrived: note its set, keep the tags of an AMS
 * or AS, start its key query. The tags are read from the stored value,
 * where folding is CRLF: white space either way, so the same tags.
 */
static void
arc_note(struct arc *a, enum arc_type type, size_t hdr)
{
	struct arc_tags t;
	char name[DNS_MAX_NAME + 1];
	const char *v, *key = NULL;
	size_t len;
	unsigned i;

	if (++a->nfields > ARC_MAX_FIELDS) {
		a->too_many = true;
		return;
	}
	v = arc_value(a, hdr, &len);
	if (type == ARC_T_AAR)
		i = arc_aar_instance(v, len);
	else
		i = arc_tags_parse(v, len, &t) ? arc_tags_instance(&t) : 0;
	if (i == 0) {
		a->bad_instance = true;
		return;
	}
	if (i > ARC_MAX_SETS) {
		a->too_many = true;
		return;
	}
	if (a->set[i].field[type] != SIZE_MAX)
		a->set[i].dup[type] = true;
	else {
		a->set[i].field[type] = hdr;
		if (type != ARC_T_AAR)
			key = arc_tags_keep(a, i, type, v, &t);
	}
	if (i > a->maxi)
		a->maxi = i;
	if (type == ARC_T_AAR || a->p.dns == NULL ||
	    a->p.dns->prefetch == NULL)
		return;
	if (key == NULL)	/* a duplicate: its tags are not kept */
		key = arc_key_name(&t, name, sizeof(name)) ? name : "";
	if (key[0] != '\0')
		a->p.dns->prefetch(a->p.dns->arg, key, DNS_T_TXT);
}

/* arc_header - keep one header field; note it if it is an ARC field */
void
arc_header(struct arc *a, const char *name, const char *value)
{
	size_t nlen = strlen(name), vlen = strlen(value), start;
	enum arc_type type;
	struct arc_hdr *h;

	if (a->overflow)
		return;
	/* a value may double when its LFs become CRLFs */
	if (a->nhdr == ARC_MAX_HEADERS ||
	    a->store.len > ARC_MAX_HEADER_BYTES ||
	    nlen + 2 * vlen + 1 > ARC_MAX_HEADER_BYTES - a->store.len) {
		a->overflow = true;
		return;
	}
	if (a->nhdr == a->hdrcap) {
		a->hdrcap = a->hdrcap ? a->hdrcap * 2 : 32;
		a->hdr = xrealloc(a->hdr, a->hdrcap * sizeof(*a->hdr));
	}
	start = a->store.len;
	buf_append(&a->store, name, nlen);
	buf_putc(&a->store, ':');
	buf_put_crlf(&a->store, value, vlen);
	h = &a->hdr[a->nhdr];
	h->off = start;
	h->len = a->store.len - start;
	h->namelen = nlen;
	type = arc_type_of(name);
	if (type != ARC_NTYPES)
		arc_note(a, type, a->nhdr);
	a->nhdr++;
}

/* arc_instances - the highest i= seen among the ARC fields */
unsigned
arc_instances(const struct arc *a)
{
	return a->maxi;
}

/*
 * arc_set_tags - the tags of the AMS or AS of set i, as kept by arc_note
 * and pointing into the field as it is stored now; false if there is none
 */
static bool
arc_set_tags(const struct arc *a, unsigned i, enum arc_type type,
    struct arc_tags *t)
{
	const struct arc_ftags *f;
	const char *v;
	size_t len;

	if (a->set[i].field[type] == SIZE_MAX ||
	    a->set[i].tags[type] == SIZE_MAX)
		return false;
	v = arc_value(a, a->set[i].field[type], &len);
	f = &a->ftags[a->set[i].tags[type]];
	for (size_t k = 0; k < f->n; k++) {
		t->t[k].name = v + f->t[k].name;
		t->t[k].nlen = f->t[k].nlen;
		t->t[k].val = v + f->t[k].val;
		t->t[k].vlen = f->t[k].vlen;
	}
	t->n = f->n;
	return true;
}

/* arc_set_key - the key name of the AMS or AS of set i ("" if unusable) */
static const char *
arc_set_key(const struct arc *a, unsigned i, enum arc_type type)
{
	if (a->set[i].tags[type] == SIZE_MAX)
		return "";
	return a->ftags[a->set[i].tags[type]].key;
}

/* arc_cv_of - the cv= of the seal of set i; false if unreadable */
static bool
arc_cv_of(const struct arc *a, unsigned i, enum arc_cv *cv)
{
	struct arc_tags t;
	char v[ARC_MAX_TAGVAL + 1];

	if (!arc_set_tags(a, i, ARC_T_AS, &t) ||
	    !arc_tag_copy(&t, "cv", v, sizeof(v)))
		return false;
	if (util_strcaseeq(v, "none"))
		*cv = ARC_CV_NONE;
	else if (util_strcaseeq(v, "pass"))
		*cv = ARC_CV_PASS;
	else if (util_strcaseeq(v, "fail"))
		*cv = ARC_CV_FAIL;
	else
		return false;
	return true;
}

/* arc_body_canon - does the AMS of set i hash a relaxed body? */
static bool
arc_body_canon(const struct arc *a, unsigned i, bool *relaxed)
{
	struct arc_tags t;
	char c[ARC_MAX_TAGVAL + 1];
	const char *slash;

	if (!arc_set_tags(a, i, ARC_T_AMS, &t))
		return false;
	if (!arc_tag_copy(&t, "c", c, sizeof(c))) {
		*relaxed = false;		/* simple/simple */
		return true;
	}
	slash = strchr(c, '/');
	*relaxed = slash != NULL && util_strcaseeq(slash + 1, "relaxed");
	return true;
}

/* arc_eoh - end of headers: which body hashes are needed */
bool
arc_eoh(struct arc *a)
{
	bool relaxed;

	if (a->bodies == NULL)
		a->bodies = bodyhash_new();
	for (unsigned i = 1; i <= a->maxi; i++) {
		if (!arc_body_canon(a, i, &relaxed))
			continue;
		if (bodyhash_want(a->bodies, relaxed))
			a->body = true;
	}
	if (a->ams != NULL && bodyhash_want(a->bodies, true))
		a->body = true;
	return a->body;
}

/* arc_body - a body chunk into the body hashes */
void
arc_body(struct arc *a, const unsigned char *data, size_t len)
{
	if (a->body && !a->shared)
		bodyhash_update(a->bodies, data, len);
}

/* arc_share_body - see arc.h */
void
arc_share_body(struct arc *a, struct bodyhash *b)
{
	if (a->bodies != NULL)
		return;
	a->bodies = b;
	a->shared = true;
}

/* arc_body_digest - the body digest of one canonicalization, or NULL */
static const unsigned char *
arc_body_digest(struct arc *a, bool relaxed)
{
	return a->body ? bodyhash_digest(a->bodies, relaxed) : NULL;
}

/* --- keys and signatures ------------------------------------------------ */

/* arc_key_parse - a DKIM key record; the key, or NULL with why */
static EVP_PKEY *
arc_key_parse(const struct arc *a, const char *txt, size_t len, char *why,
    size_t wlen)
{
	struct arc_tags t;
	char v[ARC_MAX_TAGVAL + 1];
	const struct arc_tag *p;
	unsigned char der[ARC_MAX_KEY_BYTES];
	const unsigned char *q = der;
	EVP_PKEY *pkey = NULL;
	bool ed25519 = false;
	long n;

	if (!arc_tags_parse(txt, len, &t)) {
		arc_why(why, wlen, "bad key record syntax");
		return NULL;
	}
	if (arc_tag_copy(&t, "v", v, sizeof(v)) && strcmp(v, "DKIM1") != 0) {
		arc_why(why, wlen, "key record v=%s", v);
		return NULL;
	}
	if (arc_tag_copy(&t, "k", v, sizeof(v))) {
		if (util_strcaseeq(v, "ed25519"))
			ed25519 = true;
		else if (!util_strcaseeq(v, "rsa")) {
			arc_why(why, wlen, "key type k=%s", v);
			return NULL;
		}
	}
	if (arc_tag_copy(&t, "h", v, sizeof(v)) && strstr(v, "sha256") ==
	    NULL) {
		arc_why(why, wlen, "key record h=%s excludes sha256", v);
		return NULL;
	}
	if (arc_tag_copy(&t, "s", v, sizeof(v)) && strstr(v, "*") == NULL &&
	    strstr(v, "email") == NULL) {
		arc_why(why, wlen, "key record s=%s is not for email", v);
		return NULL;
	}
	p = arc_tag(&t, "p");
	if (p == NULL) {
		arc_why(why, wlen, "key record without p=");
		return NULL;
	}
	n = util_b64_decode(p->val, p->vlen, der, sizeof(der));
	if (n == 0) {
		arc_why(why, wlen, "key revoked (empty p=)");
		return NULL;
	}
	if (n < 0) {
		arc_why(why, wlen, "bad key data");
		return NULL;
	}
	if (ed25519)
		pkey = n == 32 ? EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519,
		    NULL, der, 32) : NULL;
	else {
		pkey = keycache_pubkey(&q, (size_t)n);
		if (pkey == NULL) {	/* a bare RSAPublicKey (PKCS#1) */
			q = der;
			pkey = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q, n);
		}
		if (pkey != NULL && EVP_PKEY_get_id(pkey) != EVP_PKEY_RSA) {
			EVP_PKEY_free(pkey);
			pkey = NULL;
		}
	}
	ERR_clear_error();
	if (pkey == NULL) {
		arc_why(why, wlen, "unusable %s key", ed25519 ? "ed25519" :
		    "rsa");
		return NULL;
	}
	if (!ed25519 && (unsigned)EVP_PKEY_get_bits(pkey) <
	    a->p.min_key_bits) {
		arc_why(why, wlen, "%d-bit key is shorter than %u bits",
		    EVP_PKEY_get_bits(pkey), a->p.min_key_bits);
		EVP_PKEY_free(pkey);
		return NULL;
	}
	return pkey;
}

/* arc_key_fetch - fill k from the DNS */
static void
arc_key_fetch(struct arc *a, struct arc_key *k)
{
	struct dns_answer *ans;

	if (a->p.dns == NULL) {
		k->temp = true;
		arc_why(k->why, sizeof(k->why), "no DNS");
		return;
	}
	ans = a->p.dns->lookup(a->p.dns->arg, k->name, DNS_T_TXT);

	switch (ans->status) {
	case DNS_OK:
		for (size_t i = 0; i < ans->nrecords && k->pkey == NULL; i++)
			k->pkey = arc_key_parse(a, ans->records[i].text,
			    ans->records[i].len, k->why, sizeof(k->why));
		break;
	case DNS_NODATA:
	case DNS_NXDOMAIN:
		arc_why(k->why, sizeof(k->why), "no key at %s", k->name);
		break;
	default:
		k->temp = true;
		arc_why(k->why, sizeof(k->why), "key %s: DNS %s", k->name,
		    dns_status_name(ans->status));
		break;
	}
	dns_answer_free(ans);
	if (a->trace == NULL)
		return;
	if (k->pkey != NULL)
		trace_line(a->trace, "arc", "key %s: %s, %d bits", k->name,
		    EVP_PKEY_get_id(k->pkey) == EVP_PKEY_ED25519 ?
		    "ed25519" : "rsa",
		    EVP_PKEY_get_bits(k->pkey));
	else
		trace_line(a->trace, "arc", "key %s: not usable: %s%s",
		    k->name, k->why, k->temp ? " (temporary)" : "");
}

/* arc_key_get - the key for name, fetched once per message */
static struct arc_key *
arc_key_get(struct arc *a, const char *name)
{
	struct arc_key *k;
	size_t n;

	for (size_t i = 0; i < a->nkey; i++)
		if (strcmp(a->key[i].name, name) == 0)
			return &a->key[i];
	if (a->nkey == ARC_MAX_KEYS)
		return NULL;
	if (a->nkey == a->keycap) {
		a->keycap = a->keycap ? 2 * a->keycap : 4;
		a->key = xrealloc(a->key, a->keycap * sizeof(*a->key));
	}
	k = &a->key[a->nkey++];
	memset(k, 0, sizeof(*k));
	n = strnlen(name, DNS_MAX_NAME);
	memcpy(k->name, name, n);
	k->name[n] = '\0';
	arc_key_fetch(a, k);
	return k;
}

/* arc_sig_verify - does sig sign digest with k (a= decides how)? */
static bool
arc_sig_verify(struct arc_key *k, bool ed25519, const unsigned char *digest,
    const unsigned char *sig, size_t siglen)
{
	bool ok;

	if (ed25519) {
		EVP_MD_CTX *m = EVP_MD_CTX_new();

		ok = m != NULL &&
		    EVP_PKEY_get_id(k->pkey) == EVP_PKEY_ED25519 &&
		    EVP_DigestVerifyInit(m, NULL, NULL, NULL, k->pkey) == 1 &&
		    EVP_DigestVerify(m, sig, siglen, digest,
		    DKIMSIGN_SHA256_LEN) == 1;
		EVP_MD_CTX_free(m);
	} else {
		EVP_PKEY_CTX *c;

		ok = EVP_PKEY_get_id(k->pkey) == EVP_PKEY_RSA &&
		    (c = pkeyctx_rsa(k->pkey, false)) != NULL &&
		    EVP_PKEY_verify(c, sig, siglen, digest,
		    DKIMSIGN_SHA256_LEN) == 1;
	}
	ERR_clear_error();
	return ok;
}

/*
 * arc_hash_self - hash a signature field with its b= value removed and
 * no final CRLF
 */
static void
arc_hash_self(struct dkimsign_hash *h, const char *field, size_t len,
    const struct arc_tag *b, bool relaxed)
{
	struct buf self;
	size_t pre = (size_t)(b->val - field);
	const char *after = b->val + b->vlen;

	buf_init(&self);
	buf_append(&self, field, pre);
	buf_append(&self, after, len - (size_t)(after - field));
	dkimsign_hash_field(h, self.data, self.len, relaxed, false);
	buf_free(&self);
}

/*
 * arc_check_sig - the common end of an AMS and an AS: the algorithm, the
 * key (named name, "" when d= or s= is unusable) and the signature over
 * digest. False with why.
 */
static bool
arc_check_sig(struct arc *a, const struct arc_tags *t, const char *name,
    const unsigned char *digest, bool *temp, char *why, size_t wlen)
{
	char alg[ARC_MAX_TAGVAL + 1];
	unsigned char sig[ARC_MAX_SIG_BYTES];
	const struct arc_tag *b = arc_tag(t, "b");
	struct arc_key *k;
	bool ed25519;
	long n;

	if (!arc_tag_copy(t, "a", alg, sizeof(alg))) {
		arc_why(why, wlen, "no a=");
		return false;
	}
	if (strcmp(alg, "rsa-sha256") == 0)
		ed25519 = false;
	else if (strcmp(alg, "ed25519-sha256") == 0)
		ed25519 = true;
	else {
		arc_why(why, wlen, "a=%s is not accepted", alg);
		return false;
	}
	if (b == NULL || (n = util_b64_decode(b->val, b->vlen, sig,
	    sizeof(sig))) <= 0) {
		arc_why(why, wlen, "bad b=");
		return false;
	}
	if (name[0] == '\0') {
		arc_why(why, wlen, "bad d= or s=");
		return false;
	}
	k = arc_key_get(a, name);
	if (k == NULL) {
		arc_why(why, wlen, "too many keys");
		return false;
	}
	if (k->pkey == NULL) {
		*temp = *temp || k->temp;
		arc_why(why, wlen, "%s", k->why);
		return false;
	}
	if (!arc_sig_verify(k, ed25519, digest, sig, (size_t)n)) {
		arc_why(why, wlen, "signature does not verify");
		return false;
	}
	return true;
}

/* arc_hlist_has - does an h= list (white space removed) name name? */
static bool
arc_hlist_has(const char *h, const char *name)
{
	const char *p = h;

	while (*p) {
		size_t n = strcspn(p, ":");

		if (arc_caseeqn(p, n, name))
			return true;
		p += n + (p[n] == ':');
	}
	return false;
}

/*
 * arc_hash_hlist - hash the fields h= names, each name taking the next
 * instance from the bottom (RFC 6376 5.4.2); a name with none left hashes
 * nothing. False when h= is malformed or too long.
 */
static bool
arc_hash_hlist(const struct arc *a, struct dkimsign_hash *h,
    const char *hlist, bool relaxed)
{
	bool *used = xcalloc(a->nhdr + 1, sizeof(*used));
	const char *p = hlist;
	size_t names = 0;
	bool ok = true;

	while (ok && *p) {
		size_t n = strcspn(p, ":");

		if (n == 0 || ++names > ARC_MAX_HLIST) {
			ok = false;
			break;
		}
		for (size_t i = a->nhdr; i-- > 0; ) {
			const struct arc_hdr *f = &a->hdr[i];

			if (used[i] || f->namelen != n ||
			    strncasecmp(a->store.data + f->off, p, n) != 0)
				continue;
			used[i] = true;
			dkimsign_hash_field(h, a->store.data + f->off, f->len,
			    relaxed, true);
			break;
		}
		p += n + (p[n] == ':');
	}
	free(used);
	return ok;
}

/* arc_copy_nows - a tag value without white space (malloc'd) */
static char *
arc_copy_nows(const struct arc_tag *g)
{
	char *out = xmalloc(g->vlen + 1);
	size_t n = 0;

	for (size_t k = 0; k < g->vlen; k++)
		if (!arc_isws((unsigned char)g->val[k]))
			out[n++] = g->val[k];
	out[n] = '\0';
	return out;
}

/*
 * arc_ams_canon - c= of an AMS (default simple/simple); false when a
 * value is unknown
 */
static bool
arc_ams_canon(const struct arc_tags *t, bool *hrelaxed, bool *brelaxed)
{
	char c[ARC_MAX_TAGVAL + 1], *slash;

	*hrelaxed = *brelaxed = false;
	if (!arc_tag_copy(t, "c", c, sizeof(c)))
		return true;
	if ((slash = strchr(c, '/')) != NULL)
		*slash++ = '\0';
	*hrelaxed = util_strcaseeq(c, "relaxed");
	*brelaxed = slash != NULL && util_strcaseeq(slash, "relaxed");
	return (*hrelaxed || util_strcaseeq(c, "simple")) && (slash == NULL ||
	    *brelaxed || util_strcaseeq(slash, "simple"));
}

/* arc_verify_ams - the AMS of set i; false with why (temp on DNS trouble) */
static bool
arc_verify_ams(struct arc *a, unsigned i, bool *temp, char *why, size_t wlen)
{
	struct arc_tags t;
	char num[24], *hlist = NULL;
	const struct arc_tag *bh, *hg;
	unsigned char want[DKIMSIGN_SHA256_LEN], digest[DKIMSIGN_SHA256_LEN];
	const unsigned char *body;
	bool hrelaxed, brelaxed, ok = false;
	struct dkimsign_hash *hh = NULL;
	const char *field;
	size_t flen;

	a->bh_said = "not compared";
	if (!arc_set_tags(a, i, ARC_T_AMS, &t)) {
		arc_why(why, wlen, "bad tag list");
		return false;
	}
	bh = arc_tag(&t, "bh");
	hg = arc_tag(&t, "h");
	if (bh == NULL || hg == NULL || arc_tag(&t, "b") == NULL ||
	    arc_tag(&t, "d") == NULL || arc_tag(&t, "s") == NULL) {
		arc_why(why, wlen, "a required tag is missing");
		return false;
	}
	if (arc_tag(&t, "l") != NULL) {
		arc_why(why, wlen, "l= leaves part of the body unsigned");
		return false;
	}
	if (arc_tag_copy(&t, "x", num, sizeof(num)) &&
	    strtoll(num, NULL, 10) < a->p.now) {
		arc_why(why, wlen, "expired (x=%s)", num);
		return false;
	}
	if (!arc_ams_canon(&t, &hrelaxed, &brelaxed)) {
		arc_why(why, wlen, "unknown c=");
		return false;
	}
	hlist = arc_copy_nows(hg);
	if (!arc_hlist_has(hlist, "From") ||
	    arc_hlist_has(hlist, ARC_AS_NAME)) {
		arc_why(why, wlen, "h= %s", arc_hlist_has(hlist, "From") ?
		    "names ARC-Seal" : "does not name From");
		goto out;
	}
	body = arc_body_digest(a, brelaxed);
	if (body == NULL) {
		arc_why(why, wlen, "no body hash");
		goto out;
	}
	if (util_b64_decode(bh->val, bh->vlen, want, sizeof(want)) !=
	    DKIMSIGN_SHA256_LEN || CRYPTO_memcmp(want, body,
	    DKIMSIGN_SHA256_LEN) != 0) {
		a->bh_said = brelaxed ? "mismatch (relaxed)" :
		    "mismatch (simple)";
		arc_why(why, wlen, "body hash mismatch");
		goto out;
	}
	a->bh_said = brelaxed ? "matches bh= (relaxed)" :
	    "matches bh= (simple)";
	if ((hh = dkimsign_hash_new()) == NULL) {
		arc_why(why, wlen, "SHA-256 unavailable");
		goto out;
	}
	if (!arc_hash_hlist(a, hh, hlist, hrelaxed)) {
		arc_why(why, wlen, "bad h=");
		goto out;
	}
	field = arc_field(a, a->set[i].field[ARC_T_AMS], &flen);
	arc_hash_self(hh, field, flen, arc_tag(&t, "b"), hrelaxed);
	if (!dkimsign_hash_final(hh, digest)) {
		arc_why(why, wlen, "header hash failed");
		goto out;
	}
	ok = arc_check_sig(a, &t, arc_set_key(a, i, ARC_T_AMS), digest, temp,
	    why, wlen);
out:
	dkimsign_hash_free(hh);
	free(hlist);
	return ok;
}

/*
 * arc_verify_seal - the AS of set i: relaxed, over the AAR, AMS and AS of
 * sets 1..i, the last with b= empty. False with why.
 */
static bool
arc_verify_seal(struct arc *a, unsigned i, bool *temp, char *why,
    size_t wlen)
{
	struct arc_tags t;
	unsigned char digest[DKIMSIGN_SHA256_LEN];
	struct dkimsign_hash *hh;
	const char *field;
	size_t flen;
	bool ok;

	if (!arc_set_tags(a, i, ARC_T_AS, &t)) {
		arc_why(why, wlen, "bad tag list");
		return false;
	}
	if ((hh = dkimsign_hash_new()) == NULL) {
		arc_why(why, wlen, "SHA-256 unavailable");
		return false;
	}
	for (unsigned j = 1; j <= i; j++)
		for (enum arc_type k = ARC_T_AAR; k < ARC_NTYPES; k++) {
			field = arc_field(a, a->set[j].field[k], &flen);
			if (j == i && k == ARC_T_AS)
				arc_hash_self(hh, field, flen, arc_tag(&t, "b"),
				    true);
			else
				dkimsign_hash_field(hh, field, flen, true, true);
		}
	ok = dkimsign_hash_final(hh, digest);
	dkimsign_hash_free(hh);
	if (!ok) {
		arc_why(why, wlen, "header hash failed");
		return false;
	}
	return arc_check_sig(a, &t, arc_set_key(a, i, ARC_T_AS), digest, temp,
	    why, wlen);
}

/* --- the chain ---------------------------------------------------------- */

/* arc_fail - the chain fails, for the reason given */
static void
arc_fail(struct arc_outcome *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
arc_fail(struct arc_outcome *out, const char *fmt, ...)
{
	va_list ap;

	out->result = ARC_RESULT_FAIL;
	out->oldest_pass = 0;
	va_start(ap, fmt);
	vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
}

/* arc_sealers - the d= of each instance's seal, i=1 first */
static void
arc_sealers(const struct arc *a, struct arc_outcome *out)
{
	struct arc_tags t;

	for (unsigned i = 1; i <= a->maxi; i++) {
		char *d = out->sealers[out->nsealers++];

		if (!arc_set_tags(a, i, ARC_T_AS, &t) ||
		    !arc_tag_copy(&t, "d", d, DNS_MAX_NAME + 1))
			d[0] = '\0';
		util_strlower(d);
	}
}

/*
 * arc_structure - RFC 8617 5.2 steps 1 to 3: the sets are complete and
 * numbered 1..N, cv= is none at i=1 and pass above, no seal has h=.
 * False after arc_fail().
 */
static bool
arc_structure(const struct arc *a, struct arc_outcome *out)
{
	static const char *const names[ARC_NTYPES] = { ARC_AAR_NAME,
	    ARC_AMS_NAME, ARC_AS_NAME };
	struct arc_tags t;
	enum arc_cv cv;

	if (a->too_many) {
		arc_fail(out, "more than %d ARC sets", ARC_MAX_SETS);
		return false;
	}
	if (a->bad_instance) {
		arc_fail(out, "an ARC header field without a valid i=");
		return false;
	}
	if (a->overflow) {
		arc_fail(out, "header section too large to check");
		return false;
	}
	if (arc_cv_of(a, a->maxi, &cv) && cv == ARC_CV_FAIL) {
		arc_fail(out, "i=%u: the chain ended with cv=fail", a->maxi);
		return false;
	}
	for (unsigned i = 1; i <= a->maxi; i++) {
		for (enum arc_type k = ARC_T_AAR; k < ARC_NTYPES; k++) {
			if (a->set[i].field[k] == SIZE_MAX) {
				arc_fail(out, "i=%u: no %s", i, names[k]);
				return false;
			}
			if (a->set[i].dup[k]) {
				arc_fail(out, "i=%u: more than one %s", i,
				    names[k]);
				return false;
			}
		}
		if (!arc_cv_of(a, i, &cv)) {
			arc_fail(out, "i=%u: ARC-Seal without a valid cv=", i);
			return false;
		}
		if (cv == ARC_CV_FAIL || (i == 1 && cv != ARC_CV_NONE) ||
		    (i > 1 && cv != ARC_CV_PASS)) {
			arc_fail(out, "i=%u: ARC-Seal with cv=%s", i,
			    arc_cv_name(cv));
			return false;
		}
		if (!arc_set_tags(a, i, ARC_T_AS, &t)) {
			arc_fail(out, "i=%u: ARC-Seal: bad tag list", i);
			return false;
		}
		if (arc_tag(&t, "h") != NULL) {
			arc_fail(out, "i=%u: ARC-Seal with h=", i);
			return false;
		}
	}
	return true;
}

/* arc_aar_results - the newest AAR: the domains it gives dmarc=pass */
static void
arc_aar_results(const struct arc *a, struct arc_outcome *out)
{
	struct authres_parsed ar;
	const char *v, *semi;
	char *rest;
	size_t len;

	v = arc_value(a, a->set[a->maxi].field[ARC_T_AAR], &len);
	/* past "i=N;": the rest is an Authentication-Results value */
	semi = memchr(v, ';', len);
	if (semi == NULL)
		return;
	rest = xstrndup(semi + 1, len - (size_t)(semi + 1 - v));
	if (authres_parse(rest, &ar))
		for (size_t i = 0; i < ar.nres; i++) {
			const struct authres_presult *r = &ar.res[i];
			const char *from = authres_parsed_prop(r,
			    "header.from");
			char *dst;

			if (strcmp(r->method, "dmarc") != 0 ||
			    strcmp(r->result, "pass") != 0 || from == NULL ||
			    out->naar_dmarc_pass == ARC_MAX_AAR_DOMAINS ||
			    strlen(from) > DNS_MAX_NAME)
				continue;
			dst = out->aar_dmarc_pass[out->naar_dmarc_pass++];
			/* it fits: checked above */
			memcpy(dst, from, strlen(from) + 1);
			util_strlower(dst);
		}
	authres_parsed_free(&ar);
	free(rest);
}

/* arc_trace_sets - each set found: its instance, the seal's d=, s=, cv= */
static void
arc_trace_sets(const struct arc *a)
{
	struct arc_tags t;
	char d[ARC_MAX_TAGVAL + 1], sel[ARC_MAX_TAGVAL + 1];
	char cv[ARC_MAX_TAGVAL + 1], md[ARC_MAX_TAGVAL + 1];
	char ms[ARC_MAX_TAGVAL + 1];

	if (a->trace == NULL)
		return;
	trace_line(a->trace, "arc", "%zu ARC header field(s), highest "
	    "instance i=%u", a->nfields, a->maxi);
	for (unsigned i = 1; i <= a->maxi && !a->too_many; i++) {
		d[0] = sel[0] = cv[0] = md[0] = ms[0] = '\0';
		if (arc_set_tags(a, i, ARC_T_AS, &t)) {
			(void)arc_tag_copy(&t, "d", d, sizeof(d));
			(void)arc_tag_copy(&t, "s", sel, sizeof(sel));
			(void)arc_tag_copy(&t, "cv", cv, sizeof(cv));
		}
		if (arc_set_tags(a, i, ARC_T_AMS, &t)) {
			(void)arc_tag_copy(&t, "d", md, sizeof(md));
			(void)arc_tag_copy(&t, "s", ms, sizeof(ms));
		}
		trace_line(a->trace, "arc", "set i=%u: ARC-Seal d=%s s=%s "
		    "cv=%s; ARC-Message-Signature d=%s s=%s; "
		    "ARC-Authentication-Results %s", i, d[0] ? d : "?",
		    sel[0] ? sel : "?", cv[0] ? cv : "?", md[0] ? md : "?",
		    ms[0] ? ms : "?", a->set[i].field[ARC_T_AAR] != SIZE_MAX ?
		    "present" : "missing");
	}
}

/* arc_trace_ams - one AMS checked: the body hash, then the result */
static void
arc_trace_ams(const struct arc *a, unsigned i, bool ok, const char *why)
{
	trace_line(a->trace, "arc", "i=%u ARC-Message-Signature: body hash "
	    "%s; %s%s", i, a->bh_said, ok ? "header hash: signature verifies"
	    : "fail: ", ok ? "" : why);
}

/* arc_verify_chain - RFC 8617 5.2 */
static void
arc_verify_chain(struct arc *a, struct arc_outcome *out)
{
	char why[ARC_WHYLEN];
	bool temp = false, ok;

	out->sets = a->maxi;
	if (!a->too_many)
		arc_sealers(a, out);
	arc_trace_sets(a);
	if (!arc_structure(a, out))
		return;
	if (a->maxi == 0) {
		arc_fail(out, "no readable ARC set");
		return;
	}
	trace_line(a->trace, "arc", "cv= rules: i=1 cv=none%s, every set "
	    "complete, no ARC-Seal with h=: ok", a->maxi > 1 ?
	    ", i=2.. cv=pass" : "");
	ok = arc_verify_ams(a, a->maxi, &temp, why, sizeof(why));
	arc_trace_ams(a, a->maxi, ok, why);
	if (!ok) {
		out->temperror = temp;
		arc_fail(out, "i=%u: ARC-Message-Signature: %s", a->maxi, why);
		return;
	}
	for (unsigned i = a->maxi; i >= 1; i--) {
		ok = arc_verify_seal(a, i, &temp, why, sizeof(why));
		trace_line(a->trace, "arc", "i=%u ARC-Seal over sets 1..%u: %s%s",
		    i, i, ok ? "signature verifies" : "fail: ", ok ? "" : why);
		if (!ok) {
			out->temperror = temp;
			arc_fail(out, "i=%u: ARC-Seal: %s", i, why);
			return;
		}
	}
	out->result = ARC_RESULT_PASS;
	out->oldest_pass = a->maxi;
	for (unsigned i = a->maxi - 1; i >= 1; i--) {
		bool t = false;

		ok = arc_verify_ams(a, i, &t, why, sizeof(why));
		arc_trace_ams(a, i, ok, why);
		if (!ok)
			break;
		out->oldest_pass = i;
	}
	arc_aar_results(a, out);
	for (size_t i = 0; i < out->naar_dmarc_pass; i++)
		trace_line(a->trace, "arc", "i=%u ARC-Authentication-Results: "
		    "dmarc=pass for %s", a->maxi, out->aar_dmarc_pass[i]);
}

/* arc_verify - judge the chain; the result into the trace */
void
arc_verify(struct arc *a, struct arc_outcome *out)
{
	memset(out, 0, sizeof(*out));
	if (a->nfields == 0) {
		out->result = ARC_RESULT_NONE;
		trace_line(a->trace, "arc", "no ARC header field: arc=none");
		return;
	}
	arc_verify_chain(a, out);
	if (out->result == ARC_RESULT_PASS)
		trace_line(a->trace, "arc", "chain: pass, %u set(s), "
		    "oldest-pass %u", out->sets, out->oldest_pass);
	else
		trace_line(a->trace, "arc", "chain: fail: %s%s", out->reason,
		    out->temperror ? " (a key lookup failed: temporary)" : "");
}

/* arc_set_trace - write what arc_verify() does to t (NULL: nothing) */
void
arc_set_trace(struct arc *a, struct trace *t)
{
	a->trace = t;
}

/* --- sealing ------------------------------------------------------------ */

/*
 * arc_ams_list - a sealer's h= list without the fields an AMS must not
 * sign or that change on the way (ARC fields, Authentication-Results)
 */
static const char **
arc_ams_list(const char *const *list)
{
	size_t n = 0, k = 0;
	const char **out;

	while (list != NULL && list[n] != NULL && n < ARC_MAX_NAMES)
		n++;
	out = xcalloc(n + 1, sizeof(*out));
	for (size_t i = 0; i < n; i++)
		if (arc_type_of(list[i]) == ARC_NTYPES &&
		    !util_strcaseeq(list[i], ARC_AR_NAME))
			out[k++] = list[i];
	return out;
}

/* arc_seal_start - the new set's AMS, fed the header fields kept */
bool
arc_seal_start(struct arc *a, const struct arc_seal_params *sp, char *err,
    size_t errlen)
{
	struct dkimsign_params dp;
	const char **sign, **over;
	enum arc_cv cv;

	if (a->ams != NULL) {
		snprintf(err, errlen, "already sealing");
		return false;
	}
	if (a->overflow || a->too_many) {
		snprintf(err, errlen, "the header section is too large");
		return false;
	}
	if (a->maxi >= ARC_MAX_SETS) {
		snprintf(err, errlen, "the chain has %d sets already",
		    ARC_MAX_SETS);
		return false;
	}
	if (a->maxi > 0 && arc_cv_of(a, a->maxi, &cv) && cv == ARC_CV_FAIL) {
		snprintf(err, errlen, "the chain ends with cv=fail");
		return false;
	}
	sign = arc_ams_list(sp->sign_headers);
	over = arc_ams_list(sp->oversign_headers);
	memset(&dp, 0, sizeof(dp));
	dp.kind = DKIMSIGN_ARC_MS;
	dp.instance = a->maxi + 1;
	dp.domain = sp->domain;
	dp.selector = sp->selector;
	dp.key = sp->key;
	dp.hdr_relaxed = true;
	dp.body_relaxed = true;
	dp.sign_headers = sign;
	dp.oversign_headers = over;
	dp.timestamp = sp->timestamp;
	a->ams = dkimsign_new(&dp, err, errlen);
	free(sign);
	free(over);
	if (a->ams == NULL)
		return false;
	for (size_t i = 0; i < a->nhdr; i++) {
		size_t len;
		const char *f = arc_field(a, i, &len);

		if (!dkimsign_header(a->ams, f, len)) {
			snprintf(err, errlen, "too many header fields to sign");
			dkimsign_free(a->ams);
			a->ams = NULL;
			return false;
		}
	}
	a->sp = sp;
	a->seal_i = a->maxi + 1;
	return true;
}

/* arc_seal_instance - the i= of the set being prepared */
unsigned
arc_seal_instance(const struct arc *a)
{
	return a->ams != NULL ? a->seal_i : 0;
}

/* arc_strip - a signature value without its leading white space */
static char *
arc_strip(const char *v)
{
	while (*v == ' ' || *v == '\t')
		v++;
	return xstrdup(v);
}

/* arc_seal_fields - give the seal the fields it covers, in order */
static bool
arc_seal_fields(struct arc *a, struct dkimsign *as, enum arc_cv cv,
    const struct buf *aar, const struct buf *ams, char *err, size_t errlen)
{
	if (cv == ARC_CV_PASS) {
		for (unsigned j = 1; j <= a->maxi; j++)
			for (enum arc_type k = ARC_T_AAR; k < ARC_NTYPES; k++) {
				size_t idx = a->set[j].field[k], len;
				const char *f;

				if (idx == SIZE_MAX || a->set[j].dup[k]) {
					snprintf(err, errlen, "cv=pass over an "
					    "incomplete chain");
					return false;
				}
				f = arc_field(a, idx, &len);
				(void)dkimsign_header(as, f, len);
			}
	}
	(void)dkimsign_header(as, aar->data, aar->len);
	return dkimsign_header(as, ams->data, ams->len);
}

/* arc_seal - the new set */
bool
arc_seal(struct arc *a, enum arc_cv cv, const char *aar_value,
    struct arc_sealed *out, char *err, size_t errlen)
{
	struct dkimsign_params dp;
	struct dkimsign *as = NULL;
	const unsigned char *body;
	struct buf aar, ams;
	char *v;
	bool ok = false;

	memset(out, 0, sizeof(*out));
	if (a->ams == NULL) {
		snprintf(err, errlen, "no seal was started");
		return false;
	}
	/* cv=none only at i=1, cv=pass never there (RFC 8617 5.1.2) */
	if ((cv == ARC_CV_NONE && a->seal_i != 1) ||
	    (cv == ARC_CV_PASS && a->seal_i == 1)) {
		snprintf(err, errlen, "cv=%s at i=%u", arc_cv_name(cv),
		    a->seal_i);
		return false;
	}
	if ((body = arc_body_digest(a, true)) == NULL) {
		snprintf(err, errlen, "no body hash");
		return false;
	}
	buf_init(&aar);
	buf_init(&ams);
	out->instance = a->seal_i;
	out->aar = xstrdup(aar_value);
	buf_puts(&aar, ARC_AAR_NAME ": ");
	buf_put_crlf(&aar, aar_value, strlen(aar_value));
	v = dkimsign_finish_bh(a->ams, body, err, errlen);
	if (v == NULL)
		goto out;
	out->ams = arc_strip(v);
	buf_puts(&ams, ARC_AMS_NAME ":");
	buf_puts(&ams, v);
	free(v);

	memset(&dp, 0, sizeof(dp));
	dp.kind = DKIMSIGN_ARC_SEAL;
	dp.instance = a->seal_i;
	dp.cv = arc_cv_name(cv);
	dp.domain = a->sp->domain;
	dp.selector = a->sp->selector;
	dp.key = a->sp->key;
	dp.hdr_relaxed = true;
	dp.timestamp = a->sp->timestamp;
	as = dkimsign_new(&dp, err, errlen);
	if (as == NULL || !arc_seal_fields(a, as, cv, &aar, &ams, err, errlen))
		goto out;
	v = dkimsign_finish(as, err, errlen);
	if (v == NULL)
		goto out;
	out->seal = arc_strip(v);
	free(v);
	ok = true;
out:
	dkimsign_free(as);
	buf_free(&aar);
	buf_free(&ams);
	if (!ok)
		arc_sealed_free(out);
	return ok;
}

/* arc_sealed_free - the three values of a new set */
void
arc_sealed_free(struct arc_sealed *s)
{
	free(s->aar);
	free(s->ams);
	free(s->seal);
	memset(s, 0, sizeof(*s));
}

/* arc_seal_cv - none without a chain, pass after a good one, else fail */
enum arc_cv
arc_seal_cv(const struct arc_outcome *o)
{
	switch (o->result) {
	case ARC_RESULT_NONE: return ARC_CV_NONE;
	case ARC_RESULT_PASS: return ARC_CV_PASS;
	default: return ARC_CV_FAIL;
	}
}

/* arc_free - the handle and all it keeps */
void
arc_free(struct arc *a)
{
	if (a == NULL)
		return;
	buf_free(&a->store);
	free(a->hdr);
	free(a->ftags);
	if (!a->shared)
		bodyhash_free(a->bodies);
	for (size_t i = 0; i < a->nkey; i++)
		EVP_PKEY_free(a->key[i].pkey);
	free(a->key);
	dkimsign_free(a->ams);
	free(a);
}

/* arc_result_name - the result as the A-R and the JSON write it */
const char *
arc_result_name(enum arc_result r)
{
	switch (r) {
	case ARC_RESULT_PASS: return "pass";
	case ARC_RESULT_FAIL: return "fail";
	default: return "none";
	}
}

/* arc_cv_name - a cv= value */
const char *
arc_cv_name(enum arc_cv cv)
{
	switch (cv) {
	case ARC_CV_PASS: return "pass";
	case ARC_CV_FAIL: return "fail";
	default: return "none";
	}
}
