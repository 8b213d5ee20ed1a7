/*
 * NAME
 *	util - checked allocation, bounded strings, base64, a growable buffer
 * SYNOPSIS
 *	#include "util.h"
 * DESCRIPTION
 *	The helpers every module uses. Nothing here knows about mail.
 * DIAGNOSTICS
 *	x*() allocation failure logs and aborts (see util.h for why).
 */
#include "buildconf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <limits.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

/* util_oom - the one place that gives up on memory */
static void
util_oom(size_t n)
{
	log_err("out of memory allocating %zu bytes", n);
	abort();
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		util_oom(n);
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		util_oom(n * size);
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		util_oom(n);
	return q;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* util_trim - strip leading and trailing white space in place */
char *
util_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
	    e[-1] == '\n'))
		*--e = '\0';
	return s;
}

/* util_utf8_seq - see util.h */
size_t
util_utf8_seq(const unsigned char *p, size_t avail)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t need, i;

	if (avail == 0)
		return 0;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		need = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		need = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		need = 4;
	else
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0;		/* overlong */
	else if (p[0] == 0xed)
		hi = 0x9f;		/* surrogates */
	else if (p[0] == 0xf0)
		lo = 0x90;		/* overlong */
	else if (p[0] == 0xf4)
		hi = 0x8f;		/* beyond U+10FFFF */
	if (avail < need || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < need; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return need;
}

/*
 * The base64 alphabet (RFC 4648 section 4) by byte value: the 6-bit value
 * of a letter, digit, '+' or '/', UTIL_B64_WS for folding white space (SP,
 * HTAB, CR, LF), UTIL_B64_PAD for '=' and UTIL_B64_BAD for the rest. One
 * look-up per character replaces a chain of range tests.
 */
#define UTIL_B64_DATA	64	/* values below are data */
#define UTIL_B64_WS	64
#define UTIL_B64_PAD	65
#define UTIL_B64_BAD	255
#define XX	UTIL_B64_BAD
#define WS	UTIL_B64_WS
#define PD	UTIL_B64_PAD
static const unsigned char util_b64_value[256] = {
	/* 0x00-0x1f: HTAB, LF and CR are white space */
	XX, XX, XX, XX, XX, XX, XX, XX, XX, WS, WS, XX, XX, WS, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	/* 0x20-0x2f: SP, '+' and '/' */
	WS, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, 62, XX, XX, XX, 63,
	/* 0x30-0x3f: '0'-'9' and '=' */
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, XX, XX, XX, PD, XX, XX,
	/* 0x40-0x5f: 'A'-'Z' */
	XX,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, XX, XX, XX, XX, XX,
	/* 0x60-0x7f: 'a'-'z' */
	XX, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, XX, XX, XX, XX, XX,
	/* 0x80-0xff: none */
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
	XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
};
#undef XX
#undef WS
#undef PD

/*
 * util_b64_decode - see util.h. Whole quanta of four data characters (the
 * usual case: folding comes every 60 or more) make three bytes at once;
 * the rest goes one character at a time through a bit accumulator.
 */
long
util_b64_decode(const char *in, size_t len, unsigned char *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)in, *end = p + len;
	unsigned char *o = out, *oend = out + cap;
	unsigned long acc = 0;
	size_t bits = 0, pad = 0;

	while (p < end) {
		unsigned v;

		while (bits == 0 && pad == 0 && end - p >= 4) {
			unsigned a = util_b64_value[p[0]];
			unsigned b = util_b64_value[p[1]];
			unsigned c = util_b64_value[p[2]];
			unsigned d = util_b64_value[p[3]];
			unsigned long w = (unsigned long)a << 18 | b << 12 |
			    c << 6 | d;

			if ((a | b | c | d) >= UTIL_B64_DATA)
				break;
			if (oend - o < 3)
				return -1;
			o[0] = (unsigned char)(w >> 16);
			o[1] = (unsigned char)(w >> 8);
			o[2] = (unsigned char)w;
			o += 3;
			p += 4;
		}
		if (p == end)
			break;
		v = util_b64_value[*p++];
		if (v == UTIL_B64_WS)
			continue;
		if (v == UTIL_B64_PAD) {
			pad++;
			continue;
		}
		if (v == UTIL_B64_BAD || pad > 0)
			return -1;	/* not base64, or data after '=' */
		acc = (acc << 6) | v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o == oend)
				return -1;
			*o++ = (unsigned char)(acc >> bits);
			acc &= (1UL << bits) - 1;
		}
	}
	if (pad > 2 || bits >= 6)
		return -1;	/* too much padding, or a lone character */
	return (long)(o - out);
}

/* util_strlower - lower-case ASCII letters in place */
char *
util_strlower(char *s)
{
	for (char *p = s; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p += 'a' - 'A';
	return s;
}

/* util_copy - a bounded copy of a possibly NULL string (no formatting) */
void
util_copy(char *dst, size_t size, const char *src)
{
	size_t n;

	if (size == 0)
		return;
	n = src != NULL ? strnlen(src, size - 1) : 0;
	if (n > 0)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

/* util_strcaseeq - ASCII case-insensitive equality */
bool
util_strcaseeq(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

/* util_parse_bool - the boolean spellings authmilter.conf(5) accepts */
bool
util_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "yes", "true", "1", "on", NULL };
	static const char *const no[] = { "no", "false", "0", "off", NULL };

	for (int i = 0; yes[i]; i++)
		if (util_strcaseeq(s, yes[i])) {
			*out = true;
			return true;
		}
	for (int i = 0; no[i]; i++)
		if (util_strcaseeq(s, no[i])) {
			*out = false;
			return true;
		}
	return false;
}

/* util_parse_uint - a decimal number within [min, max] */
bool
util_parse_uint(const char *s, unsigned long min, unsigned long max,
    unsigned long *out)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* util_wildmatch - case-insensitive glob match, iterative (no recursion) */
bool
util_wildmatch(const char *p, const char *t)
{
	const char *star = NULL, *resume = NULL;

	while (*t) {
		if (*p == '*') {
			star = p++;
			resume = t;
		} else if (*p == '?' ||
		    tolower((unsigned char)*p) == tolower((unsigned char)*t)) {
			p++;
			t++;
		} else if (star) {
			p = star + 1;
			t = ++resume;
		} else
			return false;
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

/* util_fopen_regular - open a regular file for reading, never blocking */
FILE *
util_fopen_regular(const char *path)
{
	struct stat st;
	FILE *fp;
	int fd, flags;

	fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags >= 0)
		fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	fp = fdopen(fd, "r");
	if (fp == NULL)
		close(fd);
	return fp;
}

/* util_open_error - why util_fopen_regular failed */
const char *
util_open_error(int err)
{
	return err == EINVAL ? "not a regular file" : strerror(err);
}

#define UTIL_BUF_MIN	256	/* bytes of a buffer's first allocation */

void
buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

/* buf_grow - make room for n more bytes and the terminating NUL */
static void
buf_grow(struct buf *b, size_t n)
{
	size_t need, cap;

	if (n > SIZE_MAX / 2 - b->len)
		util_oom(n);
	need = b->len + n + 1;
	if (need <= b->cap)
		return;
	cap = b->cap ? b->cap : UTIL_BUF_MIN;
	while (cap < need)
		cap *= 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

void
buf_append(struct buf *b, const void *data, size_t len)
{
	buf_grow(b, len);
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void
buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void
buf_putc(struct buf *b, char c)
{
	buf_append(b, &c, 1);
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	/* formatted once when it fits in the room there is, else twice */
	buf_grow(b, 0);
	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->data[b->len] = '\0';
		return;
	}
	if ((size_t)n >= b->cap - b->len) {
		buf_grow(b, (size_t)n);
		va_start(ap, fmt);
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

/*
 * buf_put_crlf - append, turning each bare LF into CRLF: the CRs to add
 * are counted first, so that the buffer grows once and each line is one
 * copy
 */
void
buf_put_crlf(struct buf *b, const char *s, size_t len)
{
	const char *p, *end = s + len, *lf;
	size_t add = 0;
	char *o;

	for (p = s; (lf = memchr(p, '\n', (size_t)(end - p))) != NULL;
	    p = lf + 1)
		if (lf == s || lf[-1] != '\r')
			add++;
	buf_grow(b, len + add);
	o = b->data + b->len;
	for (p = s; (lf = memchr(p, '\n', (size_t)(end - p))) != NULL;
	    p = lf + 1) {
		memcpy(o, p, (size_t)(lf - p));
		o += lf - p;
		if (lf == s || lf[-1] != '\r')
			*o++ = '\r';
		*o++ = '\n';
	}
	memcpy(o, p, (size_t)(end - p));
	o += end - p;
	b->len = (size_t)(o - b->data);
	b->data[b->len] = '\0';
}

char *
buf_steal(struct buf *b)
{
	char *p = b->data;

	if (p == NULL)
		p = xstrdup("");
	buf_init(b);
	return p;
}

#define UTIL_PORT_DIGITS	5	/* "65535" */
#define UTIL_PORT_MAX		65535

/* util_parse_port - a port number 1..65535 */
static bool
util_parse_port(const char *s, unsigned *port)
{
	unsigned long n;

	if (strlen(s) > UTIL_PORT_DIGITS ||
	    !util_parse_uint(s, 1, UTIL_PORT_MAX, &n))
		return false;
	*port = (unsigned)n;
	return true;
}

/* util_parse_hostport - a numeric address with an optional port */
bool
util_parse_hostport(const char *spec, unsigned default_port,
    struct sockaddr_storage *ss, unsigned *lenp)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port = NULL, *end;
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)ss;
	unsigned p = default_port;
	bool v6;
	size_t len;

	memset(ss, 0, sizeof(*ss));
	if (spec[0] == '[') {
		end = strchr(spec, ']');
		if (end == NULL)
			return false;
		len = (size_t)(end - spec - 1);
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0')
			return false;
		spec++;
		v6 = true;
	} else if (strchr(spec, ':') != strrchr(spec, ':')) {
		len = strlen(spec);	/* a bare IPv6 address */
		v6 = true;
	} else {
		len = strcspn(spec, ":");
		if (spec[len] == ':')
			port = spec + len + 1;
		v6 = false;
	}
	if (len == 0 || len >= sizeof(host))
		return false;
	memcpy(host, spec, len);
	host[len] = '\0';
	if (port != NULL && !util_parse_port(port, &p))
		return false;
	if (v6) {
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return false;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)p);
		*lenp = sizeof(*sin6);
	} else {
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return false;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)p);
		*lenp = sizeof(*sin);
	}
	return true;
}

/* util_parse_listen - "HOST:PORT", "[IPv6]:PORT" or "*:PORT" to listen on */
bool
util_parse_listen(const char *spec, struct sockaddr_storage *ss,
    unsigned *lenp)
{
	char buf[INET6_ADDRSTRLEN + 2 + UTIL_PORT_DIGITS + 2];

	if (strncmp(spec, "*:", 2) == 0) {
		if (strlen(spec + 2) > UTIL_PORT_DIGITS)
			return false;
		snprintf(buf, sizeof(buf), "0.0.0.0:%s", spec + 2);
		spec = buf;
	}
	if (!util_parse_hostport(spec, 0, ss, lenp))
		return false;
	return ss->ss_family == AF_INET ?
	    ((struct sockaddr_in *)(void *)ss)->sin_port != 0 :
	    ((struct sockaddr_in6 *)(void *)ss)->sin6_port != 0;
}
